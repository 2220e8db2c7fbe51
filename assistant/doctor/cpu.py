"""What llama.cpp was built for against what this CPU can execute: pure functions of the texts
involved (/proc/cpuinfo, the CMAKE_ARGS scripts/build-llama.sh kept, llama.cpp's system info)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.doctor.check import FAIL, OK, WARN, Check

NAME = "llama.cpp build"

# llama.cpp's feature names (its system info, and GGML_<name> CMake options) → the /proc/cpuinfo flag
# a CPU must advertise to execute code built with it.
FEATURE_FLAGS = {
    "SSE3": "pni", "SSSE3": "ssse3", "SSE42": "sse4_2", "AVX": "avx", "AVX_VNNI": "avx_vnni", "AVX2": "avx2",
    "F16C": "f16c", "FMA": "fma", "BMI2": "bmi2", "AVX512": "avx512f", "AVX512_VBMI": "avx512vbmi",
    "AVX512_VNNI": "avx512_vnni", "AVX512_BF16": "avx512_bf16", "AMX_TILE": "amx_tile", "AMX_INT8": "amx_int8",
    "AMX_BF16": "amx_bf16",
}
# What LLAMA_CPU=x86-64-v3 (scripts/build-llama.sh's default) needs.
X86_64_V3 = ("avx", "avx2", "fma", "f16c", "bmi2")
X86_MACHINES = ("x86_64", "amd64", "x64")


@dataclass(frozen=True)
class LlamaBuild:
    """What is known about the installed llama-cpp-python build.

    build_id: from `<venv>/.kura-llama-build` (None: not built by scripts/build-llama.sh);
    variant: its LLAMA_CPU (x86-64-v3, x86-64, native), from the wheel cache folder's name;
    cmake_args: the CMAKE_ARGS file kept beside the wheel; system_info: llama_print_system_info().
    """

    build_id: str | None = None
    variant: str | None = None
    cmake_args: str | None = None
    system_info: str | None = None


def cpu_flags(cpuinfo: str) -> frozenset[str]:
    """The flags of the first processor in a /proc/cpuinfo text (empty when there is no flags line)."""
    match = re.search(r"^flags\s*:(.*)$", cpuinfo, re.MULTILINE)
    return frozenset(match.group(1).split()) if match else frozenset()


def cmake_features(cmake_args: str) -> tuple[bool, set[str]]:
    """(GGML_NATIVE is on, the feature options switched on) from a CMAKE_ARGS string."""
    options = dict(re.findall(r"-DGGML_([A-Z0-9_]+)=(\w+)", cmake_args))
    native = options.pop("NATIVE", "OFF").upper() in ("ON", "1", "TRUE")
    return native, {name for name, value in options.items() if value.upper() in ("ON", "1", "TRUE") and name in FEATURE_FLAGS}


def system_info_features(system_info: str) -> set[str]:
    """The CPU features a llama.cpp system info string ("CPU : SSE3 = 1 | AVX = 1 | ...") says were compiled in."""
    return {name for name, on in re.findall(r"\b([A-Z][A-Z0-9_]*) = (\d)", system_info) if on != "0" and name in FEATURE_FLAGS}


def rebuild_target(flags: frozenset[str] | None) -> str:
    return "x86-64-v3" if flags and all(f in flags for f in X86_64_V3) else "x86-64"


def rebuild_fix(flags: frozenset[str] | None) -> str:
    return f"rebuild llama.cpp for this CPU, in the kura checkout: `rm -rf .venv && make LLAMA_CPU={rebuild_target(flags)} setup`"


def _ordered(features: set[str]) -> list[str]:
    order = list(FEATURE_FLAGS)
    return sorted(features, key=order.index)


def judge_llama_build(build: LlamaBuild, flags: frozenset[str] | None, machine: str) -> Check:
    """Whether this CPU can run the installed llama.cpp, and whether the build is portable."""
    native, built = cmake_features(build.cmake_args) if build.cmake_args else (build.variant == "native", set())
    if build.system_info:
        built |= system_info_features(build.system_info)
    described = ", ".join(_ordered(built)) or "no SIMD extensions"
    variant = build.variant or ("native" if native else "unknown variant")
    if machine.lower() not in X86_MACHINES:
        return Check(NAME, OK, f"{machine}, not x86-64: CPU features not compared ({build.system_info or 'no system info'})")
    if not flags:
        return Check(NAME, OK, f"built for {described}; this CPU's flags could not be read (no /proc/cpuinfo)")
    missing = [f for f in _ordered(built) if FEATURE_FLAGS[f] not in flags]
    if missing:
        return Check(NAME, FAIL,
                     f"llama.cpp was built ({variant}) for {described}, but this CPU cannot execute "
                     f"{', '.join(missing)}: the model process would die with SIGILL", rebuild_fix(flags))
    if build.build_id is None:
        return Check(NAME, WARN,
                     f"built for {described}, which this CPU has, but not by scripts/build-llama.sh (no "
                     ".kura-llama-build in the environment): a from-source pip build uses -march=native and may "
                     "not run on another machine", "rebuild portably, in the kura checkout: `rm -rf .venv && make setup`")
    if native:
        return Check(NAME, WARN,
                     f"built with LLAMA_CPU=native (build {build.build_id}) for {described}: fine here, but it may die "
                     "with SIGILL on another CPU or in a VM", "for a shared environment or image, rebuild portably: "
                     "`rm -rf .venv && make setup` (LLAMA_CPU=x86-64-v3)")
    return Check(NAME, OK, f"{variant} build {build.build_id}: {described}; this CPU has them all")

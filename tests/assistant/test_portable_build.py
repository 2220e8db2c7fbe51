"""The llama.cpp kura installs runs on machines other than the one that built it: no AVX-512, no AMX,
no -march=native, and a build made with other flags is never taken from a cache."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "scripts" / "build-llama.sh"

# Registers and instructions past x86-64-v3 (Haswell/Zen): AVX-512's zmm and mask registers, AMX tiles.
BEYOND_V3 = r"%zmm[0-9]|%k[1-7]\b|%tmm[0-9]|\btile(zero|loadd|stored|release)\b|\bldtilecfg\b|\bvpdpbusd\b"


def llama_libraries() -> list[Path]:
    import llama_cpp

    lib = Path(llama_cpp.__file__).parent / "lib"
    return sorted(p for p in lib.glob("*.so*") if p.is_file())


@pytest.mark.skipif(shutil.which("objdump") is None, reason="needs objdump (binutils) to read the machine code")
def test_installed_llama_cpp_uses_no_instructions_beyond_x86_64_v3():
    if os.environ.get("LLAMA_CPU", "x86-64-v3") == "native":
        pytest.skip("LLAMA_CPU=native was asked for: this build is for this machine only")
    libraries = llama_libraries()
    assert any("ggml-cpu" in p.name for p in libraries), [p.name for p in libraries]
    offenders = {}
    for library in libraries:
        # grep reads objdump's stream as it comes: megabytes of disassembly never pass through Python.
        count = subprocess.run(f"objdump -d --no-show-raw-insn {shlex.quote(str(library))} | grep -cE {shlex.quote(BEYOND_V3)}",
                               shell=True, capture_output=True, text=True)
        hits = int(count.stdout.strip() or 0)
        if hits:
            offenders[library.name] = hits
    assert offenders == {}


def cache_folder(**env: str) -> str:
    return subprocess.run(["bash", str(BUILD), "--print", sys.executable], capture_output=True, text=True,
                          check=True, env={**os.environ, **env}).stdout.strip()


def test_the_wheel_cache_key_changes_with_the_build_flags():
    portable, baseline, native = (cache_folder(LLAMA_CPU=cpu) for cpu in ("x86-64-v3", "x86-64", "native"))
    assert len({portable, baseline, native}) == 3
    assert cache_folder(LLAMA_CPU="x86-64-v3") == portable  # the same flags find the same build
    assert cache_folder(LLAMA_CPU="x86-64-v3", LLAMA_CPP_VERSION="0.3.35") != portable


def test_an_unknown_cpu_target_is_refused_with_the_valid_ones():
    result = subprocess.run(["bash", str(BUILD), "--print", sys.executable], capture_output=True, text=True,
                            env={**os.environ, "LLAMA_CPU": "pentium"})
    assert result.returncode == 2 and "x86-64-v3" in result.stderr


def test_without_a_level_asked_for_a_cpu_lacking_avx2_gets_the_baseline_build(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("flags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt avx\n")
    env = {k: v for k, v in os.environ.items() if k != "LLAMA_CPU"}
    older = subprocess.run(["bash", str(BUILD), "--print", sys.executable], capture_output=True, text=True,
                           check=True, env={**env, "KURA_CPUINFO": str(cpuinfo)})
    assert "-x86-64-" in older.stdout and "no avx2" in older.stderr
    cpuinfo.write_text("flags\t\t: fpu sse sse2 avx avx2 fma f16c bmi2 avx512f amx_tile\n")
    newer = subprocess.run(["bash", str(BUILD), "--print", sys.executable], capture_output=True, text=True,
                           check=True, env={**env, "KURA_CPUINFO": str(cpuinfo)})
    assert "-x86-64-v3-" in newer.stdout  # AVX-512 and AMX advertised change nothing: never built in


@pytest.mark.skipif(shutil.which("as") is None or shutil.which("objdump") is None, reason="needs binutils")
def test_the_check_sees_avx512_and_amx_code_when_there_is_some(tmp_path):
    (tmp_path / "beyond.s").write_text("vpaddd %zmm0, %zmm1, %zmm2\ntilezero %tmm4\nvaddps %ymm0, %ymm1, %ymm2\n")
    subprocess.run(["as", "-o", str(tmp_path / "beyond.o"), str(tmp_path / "beyond.s")], check=True)
    count = subprocess.run(f"objdump -d --no-show-raw-insn {tmp_path / 'beyond.o'} | grep -cE {shlex.quote(BEYOND_V3)}",
                           shell=True, capture_output=True, text=True)
    assert int(count.stdout.strip()) == 2  # the AVX-512 add and the AMX tile op; the AVX2 add is fine

"""The llama.cpp kura installs runs on machines other than the one that built it: no AVX-512, no AMX,
no -march=native, and a build made with other flags is never taken from a cache."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "scripts" / "build-llama.sh"

# Registers and instructions past x86-64-v3 (Haswell/Zen): AVX-512's zmm and mask registers, AMX tiles.
BEYOND_V3 = re.compile(r"%zmm\d|%k[1-7]\b|%tmm\d|\btile(zero|loadd|stored|release)\b|\bldtilecfg\b|\bvpdpbusd\b")


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
        code = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(library)],
                              capture_output=True, text=True, check=True).stdout
        hits = BEYOND_V3.findall(code)
        if hits:
            offenders[library.name] = len(hits)
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

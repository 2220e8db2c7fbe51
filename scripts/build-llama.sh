#!/usr/bin/env bash
# Builds and installs llama-cpp-python portably (PyPI ships only its source).
#
# Why: a from-source build defaults to -march=native (GGML_NATIVE), so it compiles in whatever the
# building CPU advertises - AVX-512, AMX - and dies with SIGILL on another machine, or on the same
# one when a hypervisor advertises AMX but traps it. We build one fixed, conservative feature set
# instead, and key the built wheel by everything that went into it (version, flags, Python, OS), so
# neither pip's wheel cache nor ours can bring back a build made with other flags.
#
#   LLAMA_CPU=x86-64-v3  (default) AVX, AVX2, FMA, F16C, BMI2: every x86-64 CPU since 2013-2015
#                        (Intel Haswell, AMD Excavator/Zen); no AVX-512, no AMX. Unset on a CPU
#                        without these, the build falls back to x86-64.
#   LLAMA_CPU=x86-64     SSE2 only: any x86-64 CPU, several times slower.
#   LLAMA_CPU=native     this machine only (never for a shared build or a VDI image).
#
# Usage: scripts/build-llama.sh PYTHON            build if needed, install into PYTHON's environment
#        scripts/build-llama.sh --print PYTHON    print the cache folder (the build's key) and exit
set -euo pipefail

PRINT_ONLY=0
if [[ "${1:-}" == "--print" ]]; then PRINT_ONLY=1; shift; fi
PY=${1:?usage: build-llama.sh [--print] PYTHON}
VERSION=${LLAMA_CPP_VERSION:-0.3.36}
CPU=${LLAMA_CPU:-}
if [[ -z "$CPU" ]]; then
  # Not asked for a level: x86-64-v3, unless this CPU lacks it (then the build could not even run
  # here; such a build runs on any x86-64 CPU).
  CPU=x86-64-v3
  flags_here=$(grep -m1 '^flags' "${KURA_CPUINFO:-/proc/cpuinfo}" 2>/dev/null || true)
  for feature in avx avx2 fma f16c bmi2; do
    if [[ " $flags_here " != *" $feature "* ]]; then
      echo "build-llama: this CPU has no $feature: building for x86-64 (SSE2 only, slower)" >&2
      CPU=x86-64
      break
    fi
  done
fi

common="-DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DGGML_AVX_VNNI=OFF"
case "$CPU" in
  x86-64-v3) flags="$common -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON" ;;
  x86-64)    flags="$common -DGGML_SSE42=OFF -DGGML_AVX=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF -DGGML_BMI2=OFF" ;;
  native)    flags="-DGGML_NATIVE=ON" ;;
  *) echo "build-llama: LLAMA_CPU must be x86-64-v3, x86-64 or native, not '$CPU'" >&2; exit 2 ;;
esac
flags="$flags -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF"

# What decides a rebuild: everything that changes the binary.
abi=$("$PY" -c 'import sys, sysconfig; print(sys.implementation.cache_tag, sysconfig.get_platform())')
build_id=$(printf '%s\n' "$VERSION" "$flags" "$abi" "$(uname -m)" | sha256sum | cut -c1-16)
cache=${KURA_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kura/wheels}/llama-cpp-python-$VERSION-$CPU-$build_id
marker=$("$PY" -c 'import sys; print(sys.prefix)')/.kura-llama-build
if (( PRINT_ONLY )); then echo "$cache"; exit 0; fi

if [[ -f "$marker" && "$(cat "$marker")" == "$build_id" ]] && "$PY" -c 'import llama_cpp' 2>/dev/null; then
  exit 0
fi
if ! ls "$cache"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  echo "build-llama: building llama-cpp-python $VERSION for $CPU (about 6-9 minutes on 2 cores, once)" >&2
  tmp="$cache.tmp.$$"
  rm -rf "$tmp" && mkdir -p "$tmp"
  # --no-cache-dir: pip's own wheel cache is keyed by the source archive alone, not by CMAKE_ARGS.
  CMAKE_ARGS="$flags" CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
    "$PY" -m pip wheel --disable-pip-version-check -q --no-cache-dir --no-deps \
      --no-binary llama-cpp-python -w "$tmp" "llama-cpp-python==$VERSION"
  printf '%s\n' "$flags" > "$tmp/CMAKE_ARGS"
  rm -rf "$cache" && mv "$tmp" "$cache"
fi
"$PY" -m pip install --disable-pip-version-check -q --force-reinstall --no-deps "$cache"/llama_cpp_python-*.whl
# llama-cpp-python's own dependencies (numpy, jinja2, ...), from the registry as usual.
"$PY" -m pip install --disable-pip-version-check -q "llama-cpp-python==$VERSION"
echo "$build_id" > "$marker"

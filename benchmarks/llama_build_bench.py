"""Tokens per second of llama.cpp builds: the portable one kura installs against, e.g., a native one.

    python benchmarks/llama_build_bench.py [--python PY]... [--runs 5] [--threads 1] [--model GGUF]

Each `--python` is the interpreter of an environment with its own llama-cpp-python build (default:
this one). For each, a fresh process loads the model (the embedded Gemma 3 270M by default) and
times prompt evaluation (a ~500-token real source file, KV cache cleared) and generation (64 tokens
at temperature 0); the median over `--runs` is printed, with the build's CPU features as llama.cpp
reports them. Make a native build to compare with:

    python -m venv /tmp/native && LLAMA_CPU=native KURA_WHEEL_CACHE=/tmp/wheels scripts/build-llama.sh /tmp/native/bin/python
    /tmp/native/bin/pip install -e .
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import json, sys, time
import llama_cpp  # only llama.cpp: the environment under test may hold nothing else
threads = int(sys.argv[3])
llama = llama_cpp.Llama(model_path=sys.argv[2], n_ctx=2048, n_threads=threads, n_threads_batch=threads, verbose=False)
prompt = llama.tokenize(open(sys.argv[4], "rb").read()[:2000], add_bos=True)
runs = []
for _ in range(int(sys.argv[5])):
    llama.reset()
    started = time.perf_counter()
    llama.eval(prompt)
    evaluated = time.perf_counter()
    generated = 0
    for token in llama.generate([], reset=False, temp=0.0, top_k=1):
        generated += 1
        if generated == 64:
            break
    done = time.perf_counter()
    runs.append((len(prompt) / (evaluated - started), generated / (done - evaluated)))
features = llama_cpp.llama_print_system_info().decode()
print(json.dumps({"runs": runs, "features": features, "prompt_tokens": len(prompt)}))
"""


def measure(python: str, model: str, threads: int, runs: int, text: Path) -> dict:
    out = subprocess.run([python, "-c", PROBE, str(REPO_ROOT), model, str(threads), str(text), str(runs)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", action="append", default=[], help="interpreter of a build to time (repeatable)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--model", default="")
    parser.add_argument("--text", type=Path, default=REPO_ROOT / "indexer" / "store.py")
    args = parser.parse_args()
    pythons = args.python or [sys.executable]
    if not args.model:
        sys.path.insert(0, str(REPO_ROOT))
        from assistant.models.embedded import embedded_model_path

        args.model = str(embedded_model_path())
    print(f"model {Path(args.model).name}, {args.threads} thread(s), median of {args.runs}")
    print(f"{'build':<48}{'prompt tok/s':>14}{'gen tok/s':>11}")
    for python in pythons:
        result = measure(python, args.model, args.threads, args.runs, args.text)
        prompt_rate = statistics.median(r[0] for r in result["runs"])
        gen_rate = statistics.median(r[1] for r in result["runs"])
        print(f"{python:<48}{prompt_rate:>14.1f}{gen_rate:>11.1f}")
        print(f"    {result['features'][:200]}")


if __name__ == "__main__":
    main()

"""What running the model in its own process costs per completion, against the in-process backend.

    python benchmarks/model_process_bench.py [--file PATH] [--keystrokes 40] [--model GGUF] [--threads 1]

A line of a real file is typed back one character at a time; after each keystroke both backends
(llama.cpp in this process, and the same model in a supervised child process) complete the line
(stop at newline, at most 16 tokens, KV cache reused between keystrokes as in the editor). The
overhead of a request is its wall time in the caller minus the model's own time inside the backend;
the report gives p50/p95 of that overhead for each, the difference (the target is <= 2 ms at p95),
and the prompt tokens reused, which must be the same for both.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from assistant.models.base import GenerationRequest  # noqa: E402
from assistant.models.registry import ModelConfig, create_backend  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def typing_prompts(path: Path, keystrokes: int) -> list[str]:
    lines = path.read_text().split("\n")
    target = max((i for i, line in enumerate(lines) if line.startswith("        ") and len(line.strip()) > 30),
                 default=len(lines) // 2)
    head = "\n".join(lines[:target]) + "\n"
    line = lines[target]
    indent = len(line) - len(line.lstrip())
    return [head + line[: indent + n] for n in range(1, min(keystrokes, len(line) - indent) + 1)]


def run(backend, prompts: list[str]) -> tuple[list[float], int, int]:
    overheads, reused, total = [], 0, 0
    for prompt in prompts:
        request = GenerationRequest(prompt=prompt, max_tokens=16, should_stop=lambda text: "\n" in text)
        started = time.perf_counter()
        result = backend.generate(request)
        wall_ms = (time.perf_counter() - started) * 1000
        overheads.append(wall_ms - result.model_ms)
        reused += result.reused_tokens
        total += result.prompt_tokens
    return overheads, reused, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, default=REPO_ROOT / "indexer" / "index.py")
    parser.add_argument("--keystrokes", type=int, default=40)
    parser.add_argument("--model", default="", help="a GGUF (default: the embedded Gemma 3 270M)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    prompts = typing_prompts(args.file, args.keystrokes)
    config = ModelConfig(path=args.model, threads=args.threads, context_tokens=4096)
    rows = {}
    for label, isolated in (("in-process", False), ("model process", True)):
        backend = create_backend(config, isolated=isolated)
        try:
            backend.load()
            run(backend, prompts[:2])  # warm-up: first prompt evaluation, page cache
            rows[label] = run(backend, prompts)
        finally:
            backend.close()

    print(f"{len(prompts)} keystrokes on {args.file.name}, model {args.model or 'embedded'}, {args.threads} thread(s)")
    print(f"{'backend':<15}{'overhead p50 ms':>17}{'p95 ms':>9}{'mean ms':>9}{'reused':>9}")
    for label, (overheads, reused, total) in rows.items():
        print(f"{label:<15}{percentile(overheads, 50):>17.2f}{percentile(overheads, 95):>9.2f}"
              f"{statistics.mean(overheads):>9.2f}{reused / max(1, total):>9.1%}")
    base, isolated = rows["in-process"][0], rows["model process"][0]
    print(f"added by the model process: p50 {percentile(isolated, 50) - percentile(base, 50):+.2f} ms, "
          f"p95 {percentile(isolated, 95) - percentile(base, 95):+.2f} ms (target <= 2 ms at p95)")


if __name__ == "__main__":
    main()

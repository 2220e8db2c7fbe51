"""What running the model in its own process costs per completion, against the in-process backend.

    python benchmarks/model_process_bench.py [--file PATH] [--keystrokes 40] [--model GGUF] [--threads 1]

A line of a real file is typed back one character at a time; after each keystroke both backends
(llama.cpp in this process, and the same model in a supervised child process) complete the line
(stop at newline, at most 16 tokens, KV cache reused between keystrokes as in the editor);
the two run interleaved keystroke by keystroke, and the report gives each one's wall-time p50/p95, the
paired per-keystroke difference (the target is <= 2 ms at p95) and the prompt tokens reused, which
must be the same for both.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from assistant.completion.shape import SINGLE_LINE, CompletionShape  # noqa: E402
from assistant.completion.stopping import StopAtShapeEnd  # noqa: E402
from assistant.models.base import GenerationRequest  # noqa: E402
from assistant.models.registry import ModelConfig, create_backend  # noqa: E402


# What the completion service asks for in the middle of a line: stop at its end.
ONE_LINE = CompletionShape(mode=SINGLE_LINE, block_indent=0, max_lines=1, language="python")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def typing_prompts(path: Path, keystrokes: int) -> list[str]:
    lines = path.read_text().split("\n")
    target = max((i for i, line in enumerate(lines) if line.startswith("        ") and len(line.strip()) > 30),
                 default=len(lines) // 2)
    head = "\n".join(lines[max(0, target - 60):target]) + "\n"  # an editor-sized window, well inside the context
    line = lines[target]
    indent = len(line) - len(line.lstrip())
    return [head + line[: indent + n] for n in range(1, min(keystrokes, len(line) - indent) + 1)]


def timed(backend, prompt: str) -> tuple[float, int, int]:
    request = GenerationRequest(prompt=prompt, max_tokens=16, should_stop=StopAtShapeEnd(ONE_LINE))
    started = time.perf_counter()
    result = backend.generate(request)
    return (time.perf_counter() - started) * 1000, result.reused_tokens, result.prompt_tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, default=REPO_ROOT / "indexer" / "index.py")
    parser.add_argument("--keystrokes", type=int, default=40)
    parser.add_argument("--model", default="", help="a GGUF (default: the embedded Gemma 3 270M)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    prompts = typing_prompts(args.file, args.keystrokes)
    config = ModelConfig(path=args.model, threads=args.threads, context_tokens=4096)
    backends = {"in-process": create_backend(config, isolated=False), "model process": create_backend(config)}
    walls: dict[str, list[float]] = {label: [] for label in backends}
    reuse: dict[str, list[int]] = {label: [0, 0] for label in backends}
    try:
        for backend in backends.values():
            backend.load()
            for prompt in prompts[:2]:  # warm-up: first prompt evaluation, page cache
                timed(backend, prompt)
        # Interleaved, keystroke by keystroke, so that load on the machine hits both alike; each
        # backend keeps its own KV cache, as it would in the editor.
        for prompt in prompts:
            for label, backend in backends.items():
                wall, reused, total = timed(backend, prompt)
                walls[label].append(wall)
                reuse[label][0] += reused
                reuse[label][1] += total
    finally:
        for backend in backends.values():
            backend.close()

    print(f"{len(prompts)} keystrokes on {args.file.name}, model {args.model or 'embedded'}, {args.threads} thread(s)")
    print(f"{'backend':<15}{'wall p50 ms':>13}{'p95 ms':>9}{'reused':>9}")
    for label, values in walls.items():
        print(f"{label:<15}{percentile(values, 50):>13.1f}{percentile(values, 95):>9.1f}"
              f"{reuse[label][0] / max(1, reuse[label][1]):>9.1%}")
    added = [p - i for p, i in zip(walls["model process"], walls["in-process"])]
    print(f"added by the model process, per keystroke (paired): p50 {percentile(added, 50):+.2f} ms, "
          f"p95 {percentile(added, 95):+.2f} ms, mean {statistics.mean(added):+.2f} ms (target <= 2 ms at p95)")


if __name__ == "__main__":
    main()

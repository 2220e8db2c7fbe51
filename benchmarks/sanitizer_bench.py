"""Sanitizer speed and accuracy: throughput (MB/s of code), added latency of a typical 200-line
request (target ≤ 20 ms p50/p95), recall / false-positive rate on tests/policy/corpus, and, when
the held-out corpus exists (benchmarks/secrets_corpus.py), recall on its tuning and held-out halves
and the share of ~5 500 real code files a secret detector changes (benchmarks/secrets_eval.py).

Usage: python benchmarks/sanitizer_bench.py [--stdlib N] [--corpus DIR] [--clean-step K]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "policy"), str(ROOT / "benchmarks")]

from assistant.escalation.escalator import build_preview  # noqa: E402
from assistant.escalation.policy.decide import ContextPiece, EscalationRequest  # noqa: E402
from assistant.escalation.policy.load import load_policy_file  # noqa: E402
from policy_fixtures import policy_toml  # noqa: E402
from corpus_eval import evaluate  # noqa: E402


def stdlib_files(n: int) -> list[Path]:
    files = sorted(p for p in Path(sysconfig.get_paths()["stdlib"]).glob("*.py") if 2_000 < p.stat().st_size < 60_000)
    random.Random(0).shuffle(files)
    return files[:n]


def request_for(path: str, text: str) -> EscalationRequest:
    return EscalationRequest("explain", ContextPiece(path, text, "selection"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stdlib", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--corpus", type=Path, default=Path.home() / ".cache" / "kura-eval")
    parser.add_argument("--clean-step", type=int, default=1, help="score every Kth clean file of the corpus")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # Large limits: whole stdlib modules are measured; the request limits are not under test here.
        big = policy_toml().replace("max_chars = 20000", "max_chars = 10000000").replace("max_lines = 600", "max_lines = 1000000")
        (Path(tmp) / "policy.toml").write_text(big)
        policy = load_policy_file(Path(tmp) / "policy.toml")

    corpus = stdlib_files(max(args.stdlib, 30))
    texts = [(f"src/{p.name}", p.read_text(encoding="utf-8", errors="replace")) for p in corpus]
    build_preview(request_for(*texts[0]), policy)  # compile detectors once

    total = sum(len(t.encode()) for _, t in texts)
    start = time.perf_counter()
    for path, text in texts:
        build_preview(request_for(path, text), policy)
    elapsed = time.perf_counter() - start
    print(f"throughput: {total / elapsed / 1e6:.2f} MB/s ({total / 1e6:.2f} MB of stdlib Python in {elapsed:.2f} s)")

    lines = "\n".join(texts[1][1].splitlines()[:200]) + "\n"
    timings = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        build_preview(request_for("src/typical.py", lines), policy)
        timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"200-line request ({len(lines)} chars): p50 {statistics.median(timings):.2f} ms, p95 {p95:.2f} ms (target ≤ 20 ms)")

    score = evaluate(policy)
    print(f"corpus recall: {score.recall:.1%} ({score.caught}/{score.planted} planted secrets); missed: {score.missed}")
    print(f"corpus clean files changed: {score.false_positive_rate:.1%} ({len(score.changed)}/{score.clean_files}) {score.changed}")

    if args.stdlib:
        changed = []
        for path, text in texts[: args.stdlib]:
            preview = build_preview(request_for(path, text), policy)
            if preview.blocked or not preview.sanitized or preview.sanitized[0] != text:
                changed.append(path.rsplit("/", 1)[-1])
        print(f"stdlib files changed (real code, not labelled): {len(changed)}/{args.stdlib} {changed}")

    if (args.corpus / "cases.jsonl").exists():
        import secrets_eval

        starter = secrets_eval.starter_policy()
        cases, clean = secrets_eval.load(args.corpus)
        for half in ("tuning", "heldout"):
            part = secrets_eval.score_cases([c for c in cases if c["half"] == half], starter)
            print(f"{half} half: recall {part.recall:.1%} ({part.caught}/{part.planted} planted, {part.blocked} by blocking)")
        fps, names = secrets_eval.score_clean(clean[:: args.clean_step])
        n = len(clean[:: args.clean_step])
        print(f"real code files changed by secret detectors: {len(fps) / n:.2%} ({len(fps)}/{n}); by names only: {len(names)}")
    else:
        print(f"(no held-out corpus in {args.corpus}: run benchmarks/secrets_corpus.py for recall on unseen formats)")


if __name__ == "__main__":
    main()

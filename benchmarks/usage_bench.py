"""The usage log's cost: what a logging call costs the caller (the server's event loop), how fast
the writer thread drains, the file size per suggestion, and how long the effect report takes over
a large log.

    .venv/bin/python benchmarks/usage_bench.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.usage.log import UsageConfig, UsageLog, read_logs  # noqa: E402
from assistant.usage.report import render_html, summarize  # noqa: E402

LANGUAGES = ("python", "typescript", "go", "java", "rust")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000, help="suggestions to write")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "usage.sqlite"
        clock_now = [time.time() - 90 * 86400]
        usage = UsageLog(UsageConfig(path, max_bytes=0, retention_days=0), clock=lambda: clock_now[0])
        call_us: list[float] = []
        started = time.perf_counter()
        for i in range(args.rows):
            clock_now[0] += 90 * 86400 / args.rows
            sid = f"s{i}"
            t0 = time.perf_counter()
            usage.suggestion_shown(sid, "x" * rng.randint(5, 120), language=rng.choice(LANGUAGES), model="m",
                                   backend="llama_cpp", latency_ms=rng.uniform(80, 1500), mode="line")
            call_us.append((time.perf_counter() - t0) * 1e6)
            fate = rng.random()
            if fate < 0.3:
                usage.suggestion_accepted(sid)
                usage.suggestion_kept(sid, rng.randint(0, 120))
            elif fate < 0.6:
                usage.suggestion_dismissed(sid, rng.choice(("hidden", "typed_over")))
            if i % 20 == 0:
                usage.event(rng.choice(("explain", "fix_offered", "escalation")), outcome="done", latency_ms=900.0)
            if i % 2000 == 1999:  # a burst far beyond any editor's pace; let the writer keep up
                usage.flush(timeout=600)
        usage.flush(timeout=600)
        drained = time.perf_counter() - started
        dropped = usage.dropped
        usage.close()
        size = path.stat().st_size + sum(p.stat().st_size for p in path.parent.glob("usage.sqlite-*"))

        t0 = time.perf_counter()
        data = read_logs([path])
        read_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        summary = summarize(data)
        summarize_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        html = render_html(summary)
        html_s = time.perf_counter() - t0

    print(f"rows: {args.rows:,} suggestions (+ accept/dismiss/kept updates and {args.rows // 20:,} events)")
    print(f"logging call on the caller's thread: p50 {statistics.median(call_us):.1f} µs, "
          f"p95 {pct(call_us, 95):.1f} µs, p99 {pct(call_us, 99):.1f} µs")
    print(f"writer thread: all rows on disk after {drained:.2f} s "
          f"({args.rows / drained:,.0f} suggestions/s with their updates; {dropped} rows dropped)")
    print(f"log size: {size / 1e6:.1f} MB ({size / args.rows:.0f} bytes per suggestion)")
    print(f"report: read {read_s:.2f} s, summarize {summarize_s:.2f} s, HTML {html_s:.2f} s ({len(html) / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

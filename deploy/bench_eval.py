#!/usr/bin/env python3
"""Throughput of `kura eval run` against a model server at several concurrency levels: what a
platform team measures to size its server (docs/team-server.md, "Sizing").

    python deploy/bench_eval.py --repo PATH --server URL [--key-env VAR] [--concurrency 1,4,8] [--limit 40]

Runs the latest evaluation set of the repository (built with `kura eval build` first if there is
none) without repository context, once per concurrency level, and prints tasks/s and the speed-up
over one request at a time. Run it from kura's virtual environment.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", required=True, help="an indexed git repository (kura index)")
    parser.add_argument("--server", required=True, help="the gateway or engine URL, e.g. https://llm.example:8080")
    parser.add_argument("--key-env", default="", help="the environment variable holding your key")
    parser.add_argument("--model-name", default="", help="model.modelName (default: the server's first)")
    parser.add_argument("--concurrency", default="1,4,8", help="comma-separated levels (default 1,4,8)")
    parser.add_argument("--limit", type=int, default=40, help="completion tasks per level (default 40)")
    parser.add_argument("--build", type=int, default=60, help="tasks to draw when the repo has no set yet")
    parser.add_argument("--json", metavar="FILE", help="also write the numbers here")
    args = parser.parse_args(argv)

    from assistant.evaluation.build import build_set
    from assistant.evaluation.checklist import NO_CONTEXT
    from assistant.evaluation.configs import parse_model_arg
    from assistant.evaluation.runner import RunOptions, run_evaluation
    from assistant.evaluation.store import EvalStore

    root = Path(args.repo).resolve()
    store = EvalStore.for_repo(root)
    try:
        eval_set = store.load_set(None)
    except Exception:  # no set yet: build one
        eval_set = build_set(root, store, n=args.build, seed=1).set
    with tempfile.TemporaryDirectory() as tmp:  # the same model configuration `kura eval run --model` reads
        config = Path(tmp) / "server.json"
        config.write_text(json.dumps({"label": "server", "backend": "openai", "server_url": args.server,
                                      "name": args.model_name, "api_key_env": args.key_env}))
        model = parse_model_arg(str(config))

    rows = []
    for level in [int(x) for x in args.concurrency.split(",")]:
        started = time.perf_counter()
        record = run_evaluation(root, eval_set, [model], options=RunOptions(modes=(NO_CONTEXT,), limit=args.limit,
                                                                            concurrency=level))
        entry = record["models"][0]
        if entry["status"] != "ok":
            print(f"concurrency {level}: {entry['error']}", file=sys.stderr)
            return 1
        throughput = entry["throughput"][NO_CONTEXT]
        errors = sum(1 for r in entry["results"] if r.get("error"))
        rows.append({"concurrency": level, "tasks": throughput["tasks"], "seconds": throughput["seconds"],
                     "tasks_per_s": throughput["tasks_per_s"], "tokens_per_s": throughput["generated_tokens_per_s"],
                     "p50_latency_ms": entry["modes"][NO_CONTEXT].get("p50_latency_ms"), "errors": errors,
                     "wall_s": round(time.perf_counter() - started, 2)})
    base = rows[0]["tasks_per_s"] or 0
    print(f"{'concurrency':>11} {'tasks':>6} {'seconds':>8} {'tasks/s':>8} {'tokens/s':>9} {'p50 ms':>8} {'speed-up':>8}")
    for row in rows:
        speedup = row["tasks_per_s"] / base if base else 0
        row["speedup"] = round(speedup, 2)
        print(f"{row['concurrency']:>11} {row['tasks']:>6} {row['seconds']:>8.1f} {row['tasks_per_s']:>8.2f} "
              f"{row['tokens_per_s']:>9.1f} {row['p50_latency_ms'] or 0:>8.0f} {speedup:>7.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

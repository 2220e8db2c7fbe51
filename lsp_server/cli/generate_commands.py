"""`kura generate FILE[:START-END] "instruction" [--json]`: the editor's Generate/Edit from a terminal.
With a line range the lines are rewritten as instructed; with FILE:LINE new code goes below that
line (or into it, when it is blank); with FILE alone, at the end of the file. Prints the proposed
edit as a unified diff (or JSON); the file itself is never written."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from lsp_server.cli.task_commands import _common, _prepare, _task_env, _unified, edit_json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("generate", help="rewrite lines START-END of FILE as instructed, or write new code "
                                               "below FILE:LINE; prints the proposed edit")
    p.add_argument("location", metavar="FILE[:START-END]",
                   help="a line range to rewrite, FILE:LINE to insert below that line, or FILE to add at its end")
    p.add_argument("instruction", help='what to write or change, e.g. "add a function that parses prices"')
    p.add_argument("--json", action="store_true", help="print {file, mode, edit, message, ...} as JSON")
    _common(p)
    p.set_defaults(func=generate)


def generate(args: argparse.Namespace) -> int:
    from assistant.models.base import ModelError
    from assistant.models.host import ModelHost
    from assistant.tasks.explain import TargetError
    from assistant.tasks.generate import instruction_for
    from assistant.tasks.runner import GENERATE, plan_task, run_task

    location, insert_line = _location(args.location)
    if location is None:
        return 2
    args.location = location
    prepared = _prepare(args, "generate")
    if prepared is None:
        return 2
    settings, rel, text, start, end, root, index = prepared
    if insert_line is not None:  # FILE alone: below the last line
        start = end = (insert_line(text), 0)
    elif "-" not in location.rpartition(":")[2]:  # FILE:LINE: at that line, not its enclosing function
        start = end = (start[0], 0)
    try:
        target = instruction_for(rel, text, start, end, args.instruction)
    except TargetError as exc:
        print(str(exc), file=sys.stderr)
        if index is not None:
            index.close()
        return 2
    host = ModelHost(settings.model)
    env = _task_env(settings, index, root)

    async def run():
        worker = await host.worker()
        plan = await plan_task(GENERATE, target, worker, env)
        if plan.template_error:
            print(str(plan.template_error), file=sys.stderr)
        return plan, await run_task(GENERATE, plan, worker)

    try:
        plan, outcome = asyncio.run(run())
    except ModelError as exc:
        print(f"kura generate: {exc}", file=sys.stderr)
        return 1
    finally:
        host.close()
        if index is not None:
            index.close()
    c = outcome.change
    if args.json:
        edit = edit_json(c)
        print(json.dumps({"file": target.place.path, "mode": plan.mode, "instruction": plan.instruction, "edit": edit,
                          "message": outcome.message, "answer": outcome.answer, "contextPieces": len(plan.pieces),
                          "totalMs": round(outcome.total_ms)}, ensure_ascii=False, indent=2))
    else:
        print(outcome.message, file=sys.stderr)
        if c is not None:
            sys.stdout.write(_unified(target.place, c))
    if args.timings:
        print(f"[generate] {plan.mode}, {len(plan.pieces)} context pieces, total {outcome.total_ms:.0f} ms",
              file=sys.stderr)
    return 0 if c is not None else 1


def _location(location: str):
    """FILE[:START-END] → (FILE:START-END as `_prepare` reads it, None), or for FILE alone
    (FILE:1, a function giving the line after the last); (None, None) after saying what is wrong."""
    file, sep, lines = location.rpartition(":")
    if sep and file and lines.replace("-", "").isdigit():
        return location, None
    if not Path(location).is_file():
        print(f"kura generate: expected FILE[:START-END] (1-based lines), got {location!r}", file=sys.stderr)
        return None, None
    return f"{location}:1", lambda text: text.count("\n")

"""`kura explain FILE:START-END` (streams Markdown to stdout) and `kura fix FILE:START-END
[--diagnostic TEXT] [--json]`: the editor's explain and fix, from a terminal, with the same
assistant code and model."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from lsp_server.cli.model_commands import _open_index, add_model_arguments, model_settings_from


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("explain", help="explain lines START-END (1-based) of FILE, streamed to stdout")
    p.add_argument("location", metavar="FILE:START-END", help="a line range, or FILE:LINE for the enclosing function")
    _common(p)
    p.add_argument("--language", help="answer language, e.g. en or ja (default: the setting, else $LANG)")
    p.set_defaults(func=explain)

    p = subparsers.add_parser("fix", help="fix lines START-END (1-based) of FILE and print the edit")
    p.add_argument("location", metavar="FILE:START-END")
    p.add_argument("--diagnostic", default="", help="the problem to fix (e.g. a compiler or linter message)")
    p.add_argument("--json", action="store_true", help="print {edit, message, ...} as JSON")
    _common(p)
    p.set_defaults(func=fix)


def _common(p: argparse.ArgumentParser) -> None:
    add_model_arguments(p)
    p.add_argument("--index", help="index file (default: the user cache, keyed by repository)")
    p.add_argument("--no-context", action="store_true", help="no repository context, only the file")
    p.add_argument("--prompts-dir", help="a directory of prompt templates overriding the built-in ones")
    p.add_argument("--timings", action="store_true", help="print timings to stderr")


def parse_range(location: str) -> tuple[Path, int, int]:
    """FILE:START-END or FILE:LINE (1-based) → (path, start, end)."""
    file, _, lines = location.rpartition(":")
    if not file:
        raise ValueError(location)
    start, _, end = lines.partition("-")
    return Path(file), int(start), int(end or start)


def _prepare(args: argparse.Namespace, command: str):
    """(settings, target, index, root, error exit code) for a command."""
    from assistant.tasks.explain import TargetError, decode_source
    from assistant.settings import Settings

    try:
        path, first, last = parse_range(args.location)
    except ValueError:
        print(f"kura {command}: expected FILE:START-END (1-based lines), got {args.location!r}", file=sys.stderr)
        return None
    try:
        text = decode_source(path.read_bytes(), str(path))
    except OSError as exc:
        print(f"kura {command}: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return None
    except TargetError as exc:
        print(str(exc), file=sys.stderr)
        return None
    base = Settings()
    settings = replace(base, model=model_settings_from(args, base.model), prompts_dir=args.prompts_dir or "",
                       language=getattr(args, "language", None) or "")
    root, index = _open_index(path, args)
    rel = path.resolve().relative_to(root).as_posix() if root else str(path)
    count = text.count("\n") + (0 if text.endswith("\n") else 1)
    if first < 1 or last < first or last > max(count, 1):
        print(f"kura {command}: lines {first}-{last} are outside {path} ({count} lines)", file=sys.stderr)
        return None
    one_line = first == last and "-" not in args.location.rpartition(":")[2]
    start = (first - 1, 0)
    end = start if one_line else (last, 0) if last < count or text.endswith("\n") else (last - 1, len(text.split("\n")[last - 1]))
    return settings, rel, text, start, end, root, index


def explain(args: argparse.Namespace) -> int:
    import locale as locale_module

    from assistant.tasks.explain import TargetError, answer_language, resolve_target
    from assistant.models.host import ModelHost
    from assistant.models.base import ModelError
    from assistant.tasks.runner import EXPLAIN, TaskEnv, plan_task, run_task

    prepared = _prepare(args, "explain")
    if prepared is None:
        return 2
    settings, rel, text, start, end, root, index = prepared
    try:
        target = resolve_target(rel, text, start, end)
    except TargetError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    host = ModelHost(settings.model)
    system_locale = (locale_module.getlocale()[0] or "") if not settings.language else ""
    env = _task_env(settings, index, root, answer_language(settings.language, system_locale))

    async def run():
        started = time.perf_counter()
        worker = await host.worker()
        loaded = time.perf_counter()
        plan = await plan_task(EXPLAIN, target, worker, env)
        if plan.template_error:
            print(str(plan.template_error), file=sys.stderr)

        def out(chunk: str) -> None:
            sys.stdout.write(chunk)
            sys.stdout.flush()

        outcome = await run_task(EXPLAIN, plan, worker, out)
        sys.stdout.write("\n")
        return outcome, (loaded - started) * 1000, plan

    try:
        outcome, load_ms, plan = asyncio.run(run())
    except ModelError as exc:
        print(f"kura explain: {exc}", file=sys.stderr)
        return 1
    finally:
        host.close()
        if index is not None:
            index.close()
    if args.timings:
        r = outcome.result
        print(f"[explain] {target.path}:{target.start_line + 1}-{target.end_line + 1}: model load {load_ms:.0f} ms, "
              f"first chunk {outcome.first_chunk_ms or 0:.0f} ms, total {outcome.total_ms:.0f} ms, "
              f"prompt {r.prompt_tokens if r else 0} tokens, generated {r.generated_tokens if r else 0} tokens, "
              f"{len(plan.pieces)} context pieces", file=sys.stderr)
    return 0


def fix(args: argparse.Namespace) -> int:
    from assistant.tasks.explain import TargetError
    from assistant.tasks.fix import fix_target
    from assistant.models.host import ModelHost
    from assistant.models.base import ModelError
    from assistant.tasks.runner import FIX, plan_task, run_task

    prepared = _prepare(args, "fix")
    if prepared is None:
        return 2
    settings, rel, text, start, end, root, index = prepared
    try:
        target = fix_target(rel, text, start, end)
    except TargetError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    host = ModelHost(settings.model)
    env = _task_env(settings, index, root)

    async def run():
        worker = await host.worker()
        plan = await plan_task(FIX, target, worker, env, problem=args.diagnostic)
        if plan.template_error:
            print(str(plan.template_error), file=sys.stderr)
        return await run_task(FIX, plan, worker)

    try:
        outcome = asyncio.run(run())
    except ModelError as exc:
        print(f"kura fix: {exc}", file=sys.stderr)
        return 1
    finally:
        host.close()
        if index is not None:
            index.close()
    c = outcome.change
    if args.json:
        edit = edit_json(c)
        print(json.dumps({"file": target.path, "edit": edit, "message": outcome.message, "answer": outcome.answer,
                          "totalMs": round(outcome.total_ms)}, ensure_ascii=False, indent=2))
    else:
        print(outcome.message, file=sys.stderr)
        if c is not None:
            sys.stdout.write(_unified(target, c))
    if args.timings:
        print(f"[fix] total {outcome.total_ms:.0f} ms", file=sys.stderr)
    return 0 if c is not None else 1


def edit_json(change) -> dict | None:
    """A proposed change as an LSP TextEdit (for --json), None when there is none."""
    if change is None:
        return None
    return {"range": {"start": {"line": change.start_line, "character": change.start_col},
                      "end": {"line": change.end_line, "character": change.end_col}},
            "newText": change.new_text}


def _task_env(settings, index, root, language: str = "en"):
    from assistant.tasks.runner import TaskEnv

    return TaskEnv(index=index, root=root, prompts_dir=settings.prompts_dir,
                   context_tokens=settings.model.context_tokens, language=language)


def _unified(target, change) -> str:
    import difflib

    new = target.text[: change.start] + change.new_text + target.text[change.end :]
    return "".join(difflib.unified_diff(target.text.splitlines(True), new.splitlines(True),
                                        f"a/{target.path}", f"b/{target.path}"))

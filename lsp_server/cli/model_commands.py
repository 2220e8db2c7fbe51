"""`kura complete FILE:LINE:COL`: one completion from a terminal, with its timings, for scripts and
debugging (the same `CompletionService` the server uses)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import replace
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("complete", help="complete code at FILE:LINE:COL (1-based) and print timings")
    p.add_argument("location", metavar="FILE:LINE:COL")
    add_model_arguments(p)
    p.add_argument("--index", help="index file (default: the user cache, keyed by repository)")
    p.add_argument("--no-context", action="store_true", help="no repository context, only the file")
    p.add_argument("--repeat", type=int, default=1, help="ask N times (shows KV-cache reuse)")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.set_defaults(func=complete)


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", dest="model_path", help="a GGUF file (default: the embedded Gemma 3 270M)")
    p.add_argument("--backend", choices=["llama_cpp", "openai", "ctransformers"])
    p.add_argument("--server-url", help="the in-house OpenAI-compatible server (backend openai)")
    p.add_argument("--model-name", help="model name for the in-house server")


def model_settings_from(args: argparse.Namespace, base):
    overrides = {}
    if args.model_path:
        overrides["path"] = str(Path(args.model_path).expanduser().resolve())
    if args.backend:
        overrides["backend"] = args.backend
    if args.server_url:
        overrides["server_url"] = args.server_url
        overrides.setdefault("backend", "openai")
    if args.model_name:
        overrides["name"] = args.model_name
    return replace(base, **overrides)


def parse_location(location: str) -> tuple[Path, int, int]:
    file, line, col = location.rsplit(":", 2)
    return Path(file), int(line), int(col)


def complete(args: argparse.Namespace) -> int:
    from assistant.completion.service import CompletionService, DocumentSnapshot
    from assistant.settings import Settings

    try:
        path, line, col = parse_location(args.location)
    except ValueError:
        print(f"kura complete: expected FILE:LINE:COL (1-based), got {args.location!r}", file=sys.stderr)
        return 2
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        print(f"kura complete: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    lines = text.split("\n")
    if not (1 <= line <= len(lines)) or not (1 <= col <= len(lines[line - 1]) + 1):
        print(f"kura complete: {line}:{col} is outside {path} ({len(lines)} lines)", file=sys.stderr)
        return 2
    offset = sum(len(l) + 1 for l in lines[: line - 1]) + col - 1

    base = Settings()
    settings = replace(base, model=model_settings_from(args, base.model),
                       completion=replace(base.completion, debounce_ms=0, first_suggestion_timeout_ms=0))
    root, index = _open_index(path, args)
    rel = path.resolve().relative_to(root).as_posix() if root else None
    service = CompletionService(settings, index=lambda: index, root=lambda: root, typing=False)

    async def run():
        results = []
        for _ in range(max(1, args.repeat)):
            service.cache.clear()  # each repeat asks the model: the point is to see KV reuse
            results.append(await service.complete(DocumentSnapshot(str(path.resolve()), rel, text, offset)))
        return results

    try:
        outcomes = asyncio.run(run())
    finally:
        service.close()
        if index is not None:
            index.close()
    error = service.model.error
    if error is not None:
        print(f"kura complete: {error}", file=sys.stderr)
        return 1
    last = outcomes[-1]
    if args.json:
        print(json.dumps({"completion": last.text if last else "", "timings": [o.timings if o else None for o in outcomes],
                          "model": service.model.describe()}, indent=2))
    else:
        print(last.text if last else "")
        for i, o in enumerate(outcomes, 1):
            if o is not None:
                t = o.timings
                print(f"[{i}] prompt {t.get('prompt_tokens')} tokens, {t.get('reused_tokens')} reused from cache, "
                      f"model {t.get('model_ms')} ms, total {t.get('total_ms')} ms", file=sys.stderr)
    return 0


def _open_index(path: Path, args: argparse.Namespace):
    """The index of the repository containing `path` (built or refreshed first), or (None, None)."""
    if args.no_context:
        return None, None
    from indexer.index import Index

    root = _repository_root(path.resolve().parent)
    if root is None:
        return None, None
    index = Index.open(root, index_path=args.index)
    index.update()
    return root, index


def _repository_root(start: Path) -> Path | None:
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return None

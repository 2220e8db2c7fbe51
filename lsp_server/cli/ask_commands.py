"""`kura ask "question" [--json]`: ask the codebase from a terminal — the answer streamed to stdout
with its `path:line` sources, or as JSON (answer and cited locations); the editor's ask task."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import replace
from pathlib import Path

from lsp_server.cli.model_commands import add_model_arguments, model_settings_from


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "ask", help="answer a question about the repository from its code, citing path:line",
        description="Answer a question about the repository from the code the index finds for it. "
                    "Exit code 0: answered; 1: nothing relevant was found (the model is not asked); 2: bad input.")
    p.add_argument("question", help='e.g. "where do we validate webhook signatures?"')
    p.add_argument("--json", action="store_true", help="print {answer, citations: [{path, line, ...}], ...} as JSON")
    p.add_argument("--root", default=".", help="the repository (default: the one holding the current directory)")
    p.add_argument("--language", help="answer language, e.g. en or ja (default: the setting, else $LANG)")
    add_model_arguments(p)
    p.add_argument("--index", help="index file (default: the user cache, keyed by repository)")
    p.add_argument("--prompts-dir", help="a directory of prompt templates overriding the built-in ones")
    p.add_argument("--timings", action="store_true", help="print timings to stderr")
    p.set_defaults(func=ask)


def ask(args: argparse.Namespace) -> int:
    import locale as locale_module

    from assistant.models.base import ModelError
    from assistant.models.host import ModelHost
    from assistant.settings import Settings
    from assistant.tasks.ask import Question
    from assistant.tasks.explain import answer_language
    from assistant.tasks.runner import ASK, TaskEnv, plan_task, run_task
    from indexer.index import Index
    from lsp_server.cli.model_commands import _repository_root

    question = args.question.strip()
    if not question:
        print("kura ask: the question is empty", file=sys.stderr)
        return 2
    root = _repository_root(Path(args.root).resolve())
    if root is None:
        print(f"kura ask: {Path(args.root).resolve()} is not in a git repository; there is no code to search",
              file=sys.stderr)
        return 2
    base = Settings()
    settings = replace(base, model=model_settings_from(args, base.model), prompts_dir=args.prompts_dir or "",
                       language=args.language or "")
    system_locale = (locale_module.getlocale()[0] or "") if not settings.language else ""
    index = Index.open(root, index_path=args.index)
    index.update()
    env = TaskEnv(index=index, root=root, prompts_dir=settings.prompts_dir, context_tokens=settings.model.context_tokens,
                  language=answer_language(settings.language, system_locale))
    host = ModelHost(settings.model)

    async def run():
        worker = await host.worker()
        plan = await plan_task(ASK, Question(question), worker, env)
        if plan.template_error:
            print(str(plan.template_error), file=sys.stderr)

        def out(chunk: str) -> None:
            sys.stdout.write(chunk)
            sys.stdout.flush()

        outcome = await run_task(ASK, plan, worker, None if args.json else out)
        return plan, outcome

    try:
        plan, outcome = asyncio.run(run())
    except ModelError as exc:
        print(f"kura ask: {exc}", file=sys.stderr)
        return 1
    finally:
        host.close()
        index.close()
    if args.json:
        print(json.dumps({"question": question, "found": outcome.found, "answer": outcome.answer,
                          "markdown": outcome.markdown, "citations": [s.to_json() for s in outcome.citations],
                          "language": plan.language, "totalMs": round(outcome.total_ms)},
                         ensure_ascii=False, indent=2))
    else:
        sys.stdout.write("\n")
    if args.timings:
        r = outcome.result
        print(f"[ask] {len(plan.sources)} sources, first chunk {outcome.first_chunk_ms or 0:.0f} ms, total "
              f"{outcome.total_ms:.0f} ms, prompt {r.prompt_tokens if r else 0} tokens, generated "
              f"{r.generated_tokens if r else 0} tokens", file=sys.stderr)
    return 0 if outcome.found else 1

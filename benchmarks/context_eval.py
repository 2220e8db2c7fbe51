"""Context recall, measured like RepoBench: does the completion prompt kura builds carry the definition
of the cross-file function the next line calls?

For each repository: index it, sample lines inside function bodies (library code, not tests) whose
first call is to a function defined once in the repository, in another file; blank the line (keep its
indentation), build the prompt through the same path `kura complete` uses (`ContextBuilder` with the
default completion budget, then `build_prompt` with a FIM template) and check whether the callee's
signature line is in the prompt. Sites split into "used above" (the callee is called in the 40 lines
above) and "not used above" (its name does not appear there).

    .venv/bin/python benchmarks/context_eval.py httpx=~/.cache/kura-eval/httpx gin=~/.cache/kura-eval/gin \
        --sites 40 --json after.json

Which sites count and which calls are left out (the ground truth): assistant/evaluation/context_recall.py.

Repositories (checkouts under ~/.cache/kura-eval, each at the commit named): tuned on httpx, requests
(psf/requests 1f6589ec), cobra, chi (go-chi/chi 735ae2b), axios, commander (tj/commander.js ba6d13dd),
hiredis (redis/hiredis 29ea279), mini-redis (tokio-rs/mini-redis 3d93b42), gson (google/gson 9835b6f90),
javapoet (square/javapoet b9017a9), commons-cli (apache/commons-cli 0a68ae0e), axum (tokio-rs/axum
3d78036d), commons-lang (apache/commons-lang d15939ef), auto (google/auto 2776e288); held out: click,
gin, jq, koa, express, fastify, ripgrep (BurntSushi/ripgrep 3fce3b5b), jsoup (jhy/jsoup 46b62086).
Tune on the first; report the second without reading its misses. commons-lang and auto were added
for Java's "used above" misses, which gson, javapoet and commons-cli never showed.

Tokens are counted as characters / 3.5 (no model is loaded); prompt sizes are reported in characters.
Repositories are indexed into `<root>/../<name>.kura-index` so that the checkout stays untouched.
The measuring code is assistant/evaluation/context_recall.py (also `kura eval context` on one's own
repository).

With `--model GGUF` (or `--model embedded`), each site is also completed by that model through
llama.cpp (greedy, up to the line's end), once with the prompt above and once with the same window
and no repository snippets; exact match and edit similarity against the blanked line, and the
model time of each, are reported per language.
"""


from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.evaluation.context_recall import evaluate, summarize, summarize_model  # noqa: E402
from assistant.models.fim import template_by_name  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repos", nargs="+", help="NAME=PATH of a repository checkout (kept outside kura)")
    parser.add_argument("--sites", type=int, default=40, help="sites per kind per repository")
    parser.add_argument("--template", default="qwen2.5-coder", help="FIM template of the prompt ('none': prefix-only)")
    parser.add_argument("--context-tokens", type=int, help="the budget (default: completion.contextTokens's default)")
    parser.add_argument("--json", type=Path, help="write every site and the summary here")
    parser.add_argument("--misses", action="store_true", help="list the sites whose callee is missing")
    parser.add_argument("--model", help="also complete each site with this GGUF ('embedded': the default model)")
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads for --model")
    args = parser.parse_args(argv)
    template = None if args.template == "none" else template_by_name(args.template)
    backend = None
    if args.model:
        from assistant.models.registry import ModelConfig, create_backend

        backend = create_backend(ModelConfig(path="" if args.model == "embedded" else args.model,
                                             threads=args.threads, context_tokens=4096), isolated=False)
        backend.load()
        template = backend.fim_template()  # the prompt the model would really get
    reports = []
    try:
        for spec in args.repos:
            name, _, path = spec.partition("=")
            root = Path(path).expanduser().resolve()
            reports.append(evaluate(name, root, args.sites, template, args.context_tokens, backend,
                                    index_path=root.parent / f"{name}.kura-index"))
    finally:
        if backend is not None:
            backend.close()
    rows = summarize(reports)
    print(f"{'repo':<10} {'language':<11} {'kind':<15} {'sites':>5} {'recall':>7} {'chars(med)':>10} {'reused':>7}")
    for r in rows:
        print(f"{r['repo']:<10} {r['language']:<11} {r['kind']:<15} {r['sites']:>5} {r['recall']:>7.0%} "
              f"{r['prompt_chars_median']:>10} {r['reused']:>7.0%}")
    if args.misses:
        for report in reports:
            for s in report["sites"]:
                if not s["hit"]:
                    print(f"miss {s['repo']} {s['kind']:<15} {s['path']}:{s['line'] + 1} {s['callee']} "
                          f"-> {s['definition_path']}", file=sys.stderr)
    model_rows = summarize_model(reports) if backend is not None else []
    if model_rows:
        print(f"\nmodel {args.model}: {'language':<11} {'sites':>5} {'exact with':>11} {'without':>8} "
              f"{'similarity with':>16} {'without':>8} {'ms with':>8} {'without':>8}")
        for r in model_rows:
            print(f"{'':<{len(args.model) + 8}}{r['language']:<11} {r['sites']:>5} {r['with_exact']:>11.0%} "
                  f"{r['without_exact']:>8.0%} {r['with_similarity']:>16.2f} {r['without_similarity']:>8.2f} "
                  f"{r['with_ms_median']:>8.0f} {r['without_ms_median']:>8.0f}")
    if args.json:
        args.json.write_text(json.dumps({"summary": rows, "model": model_rows, "reports": reports}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`kura eval build|run|report|list|context`: evaluate models, and the completion context, on the
company's own code.

Exit codes: 0 ok; 1 a model failed (run, report) or a verdict is "do not adopt" (report);
2 bad input (no tasks, unknown set version, a broken policy, prompt, checklist or model config).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EPILOG = ("exit codes: 0 ok; 1 a model failed to load or run (run, report) or a verdict is \"do not adopt\" "
          "(report); 2 bad input (no tasks could be built, empty set, unknown set version, broken policy, "
          "prompt, checklist or model configuration)")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("eval", help="evaluate models on this repository's own code (build, run, report)",
                              description="Batch evaluation of models on the company's own code: build versioned "
                                          "sets of held-out tasks, run model configurations over them, compare.",
                              epilog=EPILOG)
    p.set_defaults(func=lambda args: _help(p))
    sub = p.add_subparsers(dest="eval_command", metavar="SUBCOMMAND")

    b = sub.add_parser("build", help="build the next version of the evaluation set from the indexed repository",
                       epilog=EPILOG)
    _common(b)
    b.add_argument("--n", type=int, default=None, help="new tasks to draw (default 50)")
    b.add_argument("--seed", type=int, default=None, help="random seed for the draw (default 1)")
    b.add_argument("--index", help="index file (default: the user cache, keyed by repository)")
    b.set_defaults(func=build)

    r = sub.add_parser("run", help="run model configurations over a set and store the scores", epilog=EPILOG)
    _common(r)
    r.add_argument("--model", action="append", required=True, metavar="CONFIG",
                   help="`embedded`, a .gguf file, or a .toml/.json model configuration (repeat to compare)")
    r.add_argument("--no-context", action="store_true", help="only without repository context (default: both)")
    r.add_argument("--set", dest="set_version", metavar="VERSION", help="set version, e.g. v3 (default: the latest)")
    r.add_argument("--limit", type=int, help="run only the first N completion tasks (and N explanation prompts)")
    r.add_argument("--index", help="index file (default: the user cache, keyed by repository)")
    r.add_argument("--language", dest="languages", action="append", metavar="LANG",
                   help="answer language of the explanation prompts, e.g. en or ja (repeat for several; default en)")
    r.add_argument("--generate", action="store_true",
                   help="also ask each held-out function body as a generate task (its header as the instruction)")
    r.add_argument("--concurrency", type=int, metavar="N",
                   help="requests in flight to a model server (backend openai; default 8); local models run one "
                        "at a time")
    r.set_defaults(func=run)

    rp = sub.add_parser("report", help="compare runs in the terminal and as an HTML page, with the checklist verdict",
                        epilog=EPILOG)
    _common(rp)
    rp.add_argument("--run", dest="runs", action="append", metavar="FILE", help="a run file (default: the latest run)")
    rp.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report here")
    rp.add_argument("--checklist", metavar="FILE", help="thresholds (default: DIR/checklist.toml)")
    rp.set_defaults(func=report)

    ls = sub.add_parser("list", help="list the set versions and runs in the store")
    _common(ls)
    ls.set_defaults(func=list_store)

    c = sub.add_parser("context", help="context recall: does the completion prompt carry the definition of the "
                                       "cross-file function the next line calls?",
                       epilog="exit codes: 0 ok; 1 no site to measure (no cross-file calls in function bodies); "
                              "2 bad input")
    c.add_argument("--repo", default=".", help="the repository (default: the current directory)")
    c.add_argument("--sites", type=int, default=40, help="sites per kind (used above / not used above), default 40")
    c.add_argument("--template", default="qwen2.5-coder", help="FIM template of the prompt ('none': prefix-only)")
    c.add_argument("--index", help="index file (default: the user cache, keyed by repository)")
    c.add_argument("--json", metavar="FILE", help="also write every site and the summary here")
    c.add_argument("--misses", action="store_true", help="list the sites whose callee's definition is not in the prompt")
    c.set_defaults(func=context_recall)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--repo", default=".", help="the repository (default: the current directory)")
    p.add_argument("--dir", help="the evaluation store (default: REPO/.kura/eval)")


def _help(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return 2


def _store(args: argparse.Namespace, command: str):
    from assistant.evaluation.store import EvalStore

    root = Path(args.repo).expanduser()
    if not root.is_dir():
        print(f"kura eval {command}: not a directory: {root}", file=sys.stderr)
        return None, None
    root = root.resolve()
    return root, EvalStore.for_repo(root, args.dir)


def _fail(command: str, error: Exception) -> int:
    print(f"kura eval {command}: {error}", file=sys.stderr)
    return 2


def build(args: argparse.Namespace) -> int:
    from assistant.evaluation import EvalError
    from assistant.evaluation.build import DEFAULT_SEED, DEFAULT_TASKS, build_set

    root, store = _store(args, "build")
    if store is None:
        return 2
    n = DEFAULT_TASKS if args.n is None else args.n
    seed = DEFAULT_SEED if args.seed is None else args.seed
    quiet = not sys.stderr.isatty()
    try:
        result = build_set(root, store, n=n, seed=seed, index_path=args.index,
                           progress=None if quiet else (lambda message: print(message, file=sys.stderr)))
    except EvalError as exc:
        return _fail("build", exc)
    s = result.set
    m = s.manifest
    counts = m["counts"]
    kinds = ", ".join(f"{k} {v}" for k, v in counts["kind"].items()) or "none"
    languages = ", ".join(f"{k} {v}" for k, v in counts["language"].items()) or "none"
    dropped = ", ".join(f"{v} {k}" for k, v in result.dropped.items())
    origin = f"{result.carried} carried from {m['previous']}, {result.new} new" if m["previous"] else f"{result.new} new"
    if dropped:
        origin += f"; dropped: {dropped}"
    print(f"set {s.version}: {len(s.tasks)} completion tasks ({origin}) and {len(s.explains)} explanation prompts")
    print(f"  kinds: {kinds}")
    print(f"  languages: {languages}")
    print(f"  commit {m['commit'] or '(not a git repository)'}, seed {m['seed']}; "
          f"{result.confidential_files} confidential files left out")
    print(f"  written to {store.sets_dir / (s.version + '.jsonl')}")
    if result.checklist_created:
        print(f"  wrote the starter checklist {store.checklist_path}: edit its thresholds")
    return 0


def run(args: argparse.Namespace) -> int:
    from assistant.evaluation import EvalError
    from assistant.evaluation.checklist import CONTEXT, NO_CONTEXT, load_checklist
    from assistant.evaluation.configs import parse_model_arg, unique_labels
    from assistant.evaluation.report import print_report
    from assistant.evaluation.runner import RunOptions, run_evaluation
    from assistant.tasks.explain import answer_language

    root, store = _store(args, "run")
    if store is None:
        return 2
    if args.limit is not None and args.limit < 1:
        return _fail("run", "--limit must be 1 or more")
    if args.concurrency is not None and args.concurrency < 1:
        return _fail("run", "--concurrency must be 1 or more")
    try:
        models = unique_labels([parse_model_arg(m) for m in args.model])
        eval_set = store.load_set(args.set_version)
        if not eval_set.size:
            raise EvalError(f"set {eval_set.version} is empty; build a new one with `kura eval build`")
        thresholds = load_checklist(store.checklist_path)
        languages = tuple(dict.fromkeys(answer_language(language, "") for language in args.languages or ["en"]))
        options = RunOptions(modes=(NO_CONTEXT,) if args.no_context else (CONTEXT, NO_CONTEXT), limit=args.limit,
                             concurrency=args.concurrency, languages=languages, generate=args.generate)
        with _ProgressBars() as progress:
            record = run_evaluation(root, eval_set, models, options=options, index_path=args.index, progress=progress)
    except EvalError as exc:
        return _fail("run", exc)
    path = store.write_run(record)
    print_report([record], thresholds)
    print(f"run saved to {path}")
    failed = [m for m in record["models"] if m["status"] != "ok"]
    for model in failed:
        print(f"kura eval run: model {model['label']} failed: {model['error']}", file=sys.stderr)
    # The verdict decides `report`'s exit code; `run` fails only when a model did.
    return 1 if failed else 0


class _ProgressBars:
    """A progress bar per model and mode on a terminal; nothing otherwise."""

    def __enter__(self):
        if not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            console=Console(stderr=True), transient=False)
        self.bar.__enter__()
        self.tasks: dict[tuple[str, str], int] = {}

        def update(label: str, mode: str, done: int, total: int) -> None:
            key = (label, mode)
            if key not in self.tasks:
                self.tasks[key] = self.bar.add_task(f"{label} ({mode.replace('_', ' ')})", total=total)
            self.bar.update(self.tasks[key], completed=done)

        return update

    def __exit__(self, *exc) -> None:
        if getattr(self, "bar", None) is not None:
            self.bar.__exit__(*exc)


def report(args: argparse.Namespace) -> int:
    from assistant.evaluation import EvalError
    from assistant.evaluation.checklist import load_checklist
    from assistant.evaluation.report import exit_code, merge_models, print_report, render_html
    from assistant.evaluation.store import load_run

    root, store = _store(args, "report")
    if store is None:
        return 2
    try:
        if args.runs:
            runs = [load_run(path) for path in args.runs]
        else:
            available = store.runs()
            if not available:
                raise EvalError(f"no runs in {store.runs_dir}; run `kura eval run --model CONFIG` first")
            runs = [load_run(available[-1])]
        thresholds = load_checklist(Path(args.checklist) if args.checklist else store.checklist_path)
        if args.checklist and not Path(args.checklist).exists():
            raise EvalError(f"checklist {args.checklist} not found")
    except EvalError as exc:
        return _fail("report", exc)
    judged = print_report(runs, thresholds)
    if args.html:
        history = []
        for path in store.runs():
            try:
                history.append(load_run(path))
            except EvalError:
                continue
        out = Path(args.html)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(render_html(runs, thresholds, history), encoding="utf-8")
        except OSError as exc:
            return _fail("report", f"cannot write {out}: {exc.strerror or exc}")
        print(f"HTML report written to {out}")
    return exit_code(merge_models(runs), judged)


def list_store(args: argparse.Namespace) -> int:
    from assistant.evaluation import EvalError
    from assistant.evaluation.store import load_run

    root, store = _store(args, "list")
    if store is None:
        return 2
    versions = store.versions()
    if not versions:
        print(f"no evaluation sets in {store.directory}; build one with `kura eval build`")
        return 0
    for version in versions:
        try:
            s = store.load_set(version)
        except EvalError as exc:
            print(f"{version}: {exc}")
            continue
        m = s.manifest
        print(f"{version}  {m.get('created', '?')}  {len(s.tasks)} tasks ({m.get('carried', 0)} carried, "
              f"{m.get('new', 0)} new), {len(s.explains)} prompts, commit {(m.get('commit') or '-')[:10]}, seed {m.get('seed')}")
    for path in store.runs():
        try:
            r = load_run(path)
        except EvalError:
            continue
        labels = ", ".join(f"{m['label']}{'' if m['status'] == 'ok' else ' (failed)'}" for m in r["models"])
        print(f"run {path.name}: set {(r.get('set') or {}).get('version')}, models: {labels}")
    return 0


def context_recall(args: argparse.Namespace) -> int:
    import json

    from assistant.evaluation.context_recall import evaluate, summarize
    from assistant.models.fim import template_by_name

    root = Path(args.repo).resolve()
    if not root.is_dir() or args.sites < 1:
        print(f"kura eval context: {root} is not a directory" if not root.is_dir() else
              "kura eval context: --sites must be at least 1", file=sys.stderr)
        return 2
    try:
        template = None if args.template == "none" else template_by_name(args.template)
    except ValueError as exc:
        print(f"kura eval context: {exc}", file=sys.stderr)
        return 2
    report = evaluate(root.name, root, args.sites, template, index_path=Path(args.index) if args.index else None)
    rows = summarize([report])
    if not rows:
        print("kura eval context: no site found (a line in a function body that calls a function defined in "
              "another file of this repository)", file=sys.stderr)
        return 1
    print(f"{'language':<11} {'kind':<15} {'sites':>5} {'recall':>7} {'prompt chars (median)':>22}")
    for r in rows:
        print(f"{r['language']:<11} {r['kind']:<15} {r['sites']:>5} {r['recall']:>7.0%} {r['prompt_chars_median']:>22}")
    if args.misses:
        for s in report["sites"]:
            if not s["hit"]:
                print(f"miss {s['kind']:<15} {s['path']}:{s['line'] + 1} {s['callee']} -> {s['definition_path']}")
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": rows, "sites": report["sites"]}, indent=1))
    return 0

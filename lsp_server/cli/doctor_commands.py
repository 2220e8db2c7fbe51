"""`kura doctor`: check this installation and a configuration — Python and packages, the llama.cpp
build against this CPU, the model (loaded and timed in a throwaway process) or the in-house server,
the index, git hooks, the policy, the usage log, editor clients — and print each problem with its fix.

Exit codes: 0 = healthy (warnings allowed), 1 = at least one check failed.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import replace
from pathlib import Path

from lsp_server.cli.model_commands import add_model_arguments, model_settings_from

EXIT_HEALTHY, EXIT_PROBLEMS = 0, 1
_MARKS = {"ok": ("✓", "green"), "warn": ("!", "yellow"), "fail": ("✗", "red")}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("doctor", help="check the installation, model, index, policy and editors; each problem with its fix")
    add_model_arguments(p)
    p.add_argument("--root", metavar="PATH", help="the repository to check (default: the one containing the current directory)")
    p.add_argument("--index", metavar="PATH", help="the index file (default: in the user cache, keyed by the repository)")
    p.add_argument("--usage-log", metavar="PATH", help="the usage log (default: the one `kura usage path` prints)")
    p.add_argument("--json", action="store_true", help="print a JSON list of checks: name, status (ok|warn|fail), detail, fix")
    p.set_defaults(func=doctor)


def doctor(args: argparse.Namespace) -> int:
    from assistant.doctor import DoctorOptions, healthy, run_checks
    from assistant.settings import Settings
    from indexer.files import repository_root

    if not args.verbose:
        # Every problem the models or the index would log is already a check; -v shows the logs too.
        logging.getLogger("assistant").setLevel(logging.CRITICAL)
    base = Settings()
    start = Path(args.root or ".")
    if not start.is_dir():
        print(f"kura doctor: not a directory: {start}", file=sys.stderr)
        return 2
    usage = replace(base.usage, path=str(Path(args.usage_log).expanduser().resolve())) if args.usage_log else base.usage
    options = DoctorOptions(model=model_settings_from(args, base.model), root=repository_root(start),
                            index_path=Path(args.index).expanduser().resolve() if args.index else None, usage=usage)
    if args.json:
        checks = list(run_checks(options))
        print(json.dumps([c.to_dict() for c in checks], ensure_ascii=False, indent=2))
    elif sys.stdout.isatty():
        checks = _print_rich(run_checks(options))
    else:
        checks = []
        for check in run_checks(options):
            checks.append(check)
            print(f"{check.status:<4}  {check.name}: {check.detail}", flush=True)
            if check.fix and check.status != "ok":
                print(f"      fix: {check.fix}", flush=True)
        print(_summary(checks))
    return EXIT_HEALTHY if healthy(checks) else EXIT_PROBLEMS


def _print_rich(checks):
    from rich.console import Console
    from rich.markup import escape

    console = Console()
    done = []
    with console.status("kura doctor: checking…"):
        for check in checks:
            done.append(check)
            mark, color = _MARKS[check.status]
            console.print(f"[{color}]{mark}[/] [bold]{escape(check.name)}[/]  {escape(check.detail)}", highlight=False)
            if check.fix and check.status != "ok":
                console.print(f"    [{color}]→[/] {escape(check.fix)}", highlight=False)
    console.print(_summary(done), style="green" if all(c.status == "ok" for c in done) else None, highlight=False)
    return done


def _summary(checks) -> str:
    failed = sum(c.status == "fail" for c in checks)
    warned = sum(c.status == "warn" for c in checks)
    if not failed and not warned:
        return f"all {len(checks)} checks passed"
    parts = [f"{failed} problem{'s' * (failed != 1)}"] if failed else []
    parts += [f"{warned} warning{'s' * (warned != 1)}"] if warned else []
    return f"{', '.join(parts)} in {len(checks)} checks" + ("" if failed else " (nothing broken)")

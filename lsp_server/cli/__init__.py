"""The `kura` command line: one module per area registers its subcommands here.

Each module in `COMMAND_MODULES` exposes `register(subparsers)`; a subcommand sets
`func=handler` with `handler(args) -> int` (the exit code).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

COMMAND_MODULES = (
    "lsp_server.cli.index_commands",
    "lsp_server.cli.serve_commands",
    "lsp_server.cli.model_commands",
    "lsp_server.cli.policy_commands",
    "lsp_server.cli.task_commands",
    "lsp_server.cli.ask_commands",
    "lsp_server.cli.generate_commands",
    "lsp_server.cli.usage_commands",
    "lsp_server.cli.eval_commands",
    "lsp_server.cli.doctor_commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kura", description="kura: a coding assistant that keeps company code inside.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a real import error inside an existing module must surface
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

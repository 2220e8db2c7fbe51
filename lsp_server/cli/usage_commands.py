"""`kura report` (the effect report from the local usage log, in the terminal or as HTML) and
`kura usage path|export|prune`.

Exit codes: 0 = ok, 2 = bad input (a missing, corrupt or newer usage log, a bad date, an unwritable file).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

EXIT_OK, EXIT_BAD_INPUT = 0, 2
TABLES = ("suggestions", "events")


def register(subparsers: argparse._SubParsersAction) -> None:
    report = subparsers.add_parser("report", help="summarise the usage log: acceptance, kept code, latency, fixes")
    _period_arguments(report)
    report.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report with charts")
    _log_arguments(report)
    report.set_defaults(func=cmd_report)

    usage = subparsers.add_parser("usage", help="the local usage log: where it is, export, prune")
    usage_sub = usage.add_subparsers(dest="usage_command", metavar="ACTION")
    path = usage_sub.add_parser("path", help="print the default usage log path")
    path.set_defaults(func=cmd_path)

    export = usage_sub.add_parser("export", help="write the log's rows as CSV")
    export.add_argument("--csv", action="store_true", default=True, help="CSV (the only format, the default)")
    _period_arguments(export)
    export.add_argument("--table", choices=TABLES, default="suggestions", help="which rows (default: suggestions)")
    export.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    _log_arguments(export)
    export.set_defaults(func=cmd_export)

    prune = usage_sub.add_parser("prune", help="apply the retention and size limits now")
    prune.add_argument("--retention-days", type=int, default=None,
                       help="drop rows older than this (default: 180; 0 = keep all)")
    prune.add_argument("--max-megabytes", type=float, default=None,
                       help="then drop the oldest rows until the file fits (default: 64; 0 = no limit)")
    prune.add_argument("log", nargs="?", metavar="LOG", help="usage log (default: the one `kura usage path` prints)")
    prune.set_defaults(func=cmd_prune)
    usage.set_defaults(func=lambda args: (usage.print_help(), EXIT_BAD_INPUT)[1])


def _period_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", metavar="DATE", help="from this day: YYYY-MM-DD, an ISO date-time, or an age like 30d")
    p.add_argument("--until", metavar="DATE", help="up to and including this day (YYYY-MM-DD), or before a date-time")


def _log_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("logs", nargs="*", metavar="LOG",
                   help="usage logs to read; several merge (default: this machine's, see `kura usage path`)")


def _fail(command: str, message: str) -> int:
    print(f"kura {command}: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _period(args: argparse.Namespace) -> tuple[float | None, float | None]:
    """(since, until) as Unix seconds; raises ValueError naming the option."""
    from assistant.usage.report import parse_when

    now = time.time()
    bounds = []
    for option, end in (("since", False), ("until", True)):
        text = getattr(args, option)
        try:
            bounds.append(parse_when(text, now=now, end=end) if text else None)
        except ValueError as exc:
            raise ValueError(f"--{option}: {exc}") from None
    since, until = bounds
    if since is not None and until is not None and until <= since:
        raise ValueError("--until must come after --since")
    return since, until


def _load(args: argparse.Namespace, command: str):
    """(data, since, until) from the logs named (or the default log), or the exit code of a clear failure."""
    import sqlite3

    from assistant.usage.log import UsageLogError, default_usage_path, read_logs

    try:
        since, until = _period(args)
        paths = [Path(p).expanduser() for p in args.logs] or [default_usage_path()]
        return read_logs(paths, since=since), since, until
    except (ValueError, UsageLogError, sqlite3.Error) as exc:
        return _fail(command, str(exc))


def cmd_report(args: argparse.Namespace) -> int:
    from rich.console import Console

    from assistant.usage.report import render_html, render_terminal, summarize

    loaded = _load(args, "report")
    if isinstance(loaded, int):
        return loaded
    data, since, until = loaded
    summary = summarize(data, since=since, until=until)
    render_terminal(summary, Console())
    if args.html:
        target = Path(args.html).expanduser()
        try:
            target.write_text(render_html(summary), encoding="utf-8")
        except OSError as exc:
            return _fail("report", f"cannot write {target}: {exc.strerror or exc}")
        print(f"wrote {target}")
    return EXIT_OK


def cmd_path(args: argparse.Namespace) -> int:
    from assistant.usage.log import default_usage_path

    print(default_usage_path())
    return EXIT_OK


def table_columns(table: str) -> list[str]:
    """The columns of a usage table, from the schema itself (so an empty export still has a header)."""
    import sqlite3

    from assistant.usage.log import SCHEMA

    db = sqlite3.connect(":memory:")
    try:
        db.executescript(SCHEMA)
        return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
    finally:
        db.close()


def iso_utc(ts: float | None) -> str:
    from datetime import datetime, timezone

    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_csv(rows: list[dict], table: str, out) -> int:
    """Each row with its timestamps also as ISO 8601 UTC (`time`, `resolved_time`) before the raw columns."""
    import csv

    columns = table_columns(table)
    stamps = [("time", "ts")] + ([("resolved_time", "resolved_ts")] if "resolved_ts" in columns else [])
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([name for name, _ in stamps] + columns)
    for row in rows:
        writer.writerow([iso_utc(row.get(raw)) for _, raw in stamps] + [row.get(c) for c in columns])
    return len(rows)


def cmd_export(args: argparse.Namespace) -> int:
    from assistant.usage.report import within

    loaded = _load(args, "usage export")
    if isinstance(loaded, int):
        return loaded
    data, since, until = loaded
    rows = within(getattr(data, args.table), since, until)
    if not args.output or args.output == "-":
        try:
            write_csv(rows, args.table, sys.stdout)
            sys.stdout.flush()
        except BrokenPipeError:  # `| head`: the reader has had enough
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    target = Path(args.output).expanduser()
    try:
        with target.open("w", encoding="utf-8", newline="") as out:
            count = write_csv(rows, args.table, out)
    except OSError as exc:
        return _fail("usage export", f"cannot write {target}: {exc.strerror or exc}")
    print(f"wrote {count} {args.table} rows to {target}", file=sys.stderr)
    return EXIT_OK


def cmd_prune(args: argparse.Namespace) -> int:
    import sqlite3

    from assistant.usage.log import UsageConfig, UsageLogError, connect, default_usage_path, prune

    defaults = UsageConfig(Path())
    retention = defaults.retention_days if args.retention_days is None else args.retention_days
    max_bytes = defaults.max_bytes if args.max_megabytes is None else int(args.max_megabytes * (1 << 20))
    if retention < 0 or max_bytes < 0:
        return _fail("usage prune", "--retention-days and --max-megabytes must be 0 or more")
    path = Path(args.log).expanduser() if args.log else default_usage_path()
    try:
        db = connect(path, create=False)
    except UsageLogError as exc:
        return _fail("usage prune", str(exc))
    try:
        db.execute("PRAGMA busy_timeout=5000")
        removed = prune(db, retention_days=retention, max_bytes=max_bytes, now=time.time())
        size = path.stat().st_size
    except sqlite3.Error as exc:
        return _fail("usage prune", f"{path}: {exc}")
    finally:
        db.close()
    print(f"removed {removed} rows from {path} ({size / (1 << 20):.1f} MB)")
    return EXIT_OK

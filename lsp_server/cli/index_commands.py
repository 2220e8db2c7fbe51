"""`kura index|hook|watch|symbols|refs|search`: build, keep fresh and query the repository index.

Progress and tables go to a terminal only; `--json` prints one JSON document for scripts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from indexer import kinds


def register(subparsers: argparse._SubParsersAction) -> None:
    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--index", metavar="PATH", help="the index file (default: in the user cache, keyed by the root)")

    def query(p: argparse.ArgumentParser) -> None:
        common(p)
        p.add_argument("--root", metavar="PATH", default=".", help="the repository (default: the one containing .)")
        p.add_argument("--json", action="store_true", help="print JSON")

    p = subparsers.add_parser("index", help="index a repository (incremental: only changed files are parsed)")
    p.add_argument("path", nargs="?", default=".", metavar="PATH", help="the repository (default: .)")
    p.add_argument("--changed", nargs="*", metavar="FILE",
                   help="update just these files, relative to the repository root or absolute "
                        "(read one per line from stdin when none are given; what the git hooks do)")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    common(p)
    p.set_defaults(func=index_command)

    p = subparsers.add_parser("hook", help="install or remove git hooks that keep the index fresh")
    p.add_argument("action", choices=["install", "uninstall"])
    p.add_argument("path", nargs="?", default=".", metavar="PATH")
    common(p)
    p.set_defaults(func=hook_command)

    p = subparsers.add_parser("watch", help="re-index files as they change, until Ctrl-C")
    p.add_argument("path", nargs="?", default=".", metavar="PATH")
    p.add_argument("--debounce", type=float, default=0.3, metavar="SECONDS")
    common(p)
    p.set_defaults(func=watch_command)

    p = subparsers.add_parser("symbols", help="search symbols by name (fuzzy); '' lists the most used")
    p.add_argument("query")
    p.add_argument("--limit", type=int, default=50)
    query(p)
    p.set_defaults(func=symbols_command)

    p = subparsers.add_parser("refs", help="find every reference to a name")
    p.add_argument("name")
    query(p)
    p.set_defaults(func=refs_command)

    p = subparsers.add_parser("search", help="search code chunks by text (BM25)")
    p.add_argument("text")
    p.add_argument("--limit", type=int, default=10)
    query(p)
    p.set_defaults(func=search_command)


def _open(path: str, index: str | None):
    import sqlite3

    from indexer.files import repository_root
    from indexer.index import Index, default_index_path

    target = Path(path)
    if not target.is_dir():
        raise SystemExit(f"kura: not a directory: {target}")
    root = repository_root(target)
    try:
        return Index.open(root, index)
    except (OSError, sqlite3.Error) as exc:
        raise SystemExit(f"kura: cannot open the index {index or default_index_path(root)}: {exc}") from None


def _say_rebuilt(reason: str | None) -> None:
    if reason:
        print(f"kura: {reason}", file=sys.stderr)


# --- index ---------------------------------------------------------------------------------------


def index_command(args: argparse.Namespace) -> int:
    with _open(args.path, args.index) as idx:
        _say_rebuilt(idx.rebuilt_reason)
        paths = None
        if args.changed is not None:
            paths = list(args.changed)
            if not paths and not sys.stdin.isatty():
                paths = [line.rstrip("\n") for line in sys.stdin if line.strip()]
        import sqlite3

        try:
            if sys.stderr.isatty() and not args.json:
                report = _update_with_progress(idx, paths)
            else:
                report = idx.update(paths)
        except (OSError, sqlite3.Error) as exc:  # a full disk, an index file removed underneath us
            print(f"kura: indexing {idx.root} failed: {exc}; what was indexed before is kept", file=sys.stderr)
            return 1
        if args.json:
            print(json.dumps({**report.to_dict(), "root": str(idx.root), "index_path": str(idx.index_path)}, indent=2))
        elif sys.stdout.isatty():
            _print_found(idx, report)
        else:
            print(_summary_line(report, idx))
        return 1 if report.errors else 0


def _update_with_progress(idx, paths):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
    from rich.text import Text

    class _FilesPerSecond(ProgressColumn):
        def render(self, task) -> Text:  # over the whole run: steadier than rich's windowed speed
            elapsed = task.elapsed or 0
            return Text(f"{task.completed / elapsed:>6,.0f} files/s" if elapsed else " " * 14)

    with Progress(TextColumn("indexing"), BarColumn(), MofNCompleteColumn(), _FilesPerSecond(), TimeRemainingColumn(),
                  TextColumn("[dim]{task.fields[path]}"), transient=True) as bar:
        task = bar.add_task("index", total=None, path="")

        def progress(done: int, total: int, path: str) -> None:
            bar.update(task, completed=done, total=total, path=path if len(path) <= 30 else "…" + path[-29:])

        return idx.update(paths, progress=progress)


def _summary_line(report, idx) -> str:
    skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(report.skipped.items()))
    parts = [f"indexed {report.indexed}", f"unchanged {report.unchanged}", f"deleted {report.deleted}"]
    if skipped:
        parts.append(f"skipped {skipped}")
    if report.errors:
        parts.append(f"{len(report.errors)} failed")
    return (f"{idx.root}: {', '.join(parts)} in {report.seconds:.2f}s; "
            f"{report.files} files, {report.symbols} symbols, {report.chunks} chunks -> {idx.index_path}")


def _print_found(idx, report) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    stats = idx.stats()
    table = Table(title=f"kura index of {idx.root}", title_justify="left")
    table.add_column("language")
    table.add_column("files", justify="right")
    table.add_column("symbols", justify="right")
    for row in stats["languages"]:
        table.add_row(row["language"], f"{row['files']:,}", f"{row['symbols']:,}")
    table.add_row("[bold]total", f"[bold]{stats['files']:,}", f"[bold]{stats['symbols']:,}")
    console.print(table)
    console.print(_summary_line(report, idx), highlight=False)
    for path, error in report.errors:
        console.print(f"[red]failed[/red] {path}: {error}", highlight=False)


# --- hooks and watch -----------------------------------------------------------------------------


def _kura_importable_from() -> str | None:
    """The directory to put on PYTHONPATH so that `python -m lsp_server.cli` imports this kura, or
    None when it is installed where the interpreter finds it anyway."""
    import site

    import lsp_server

    package_parent = str(Path(lsp_server.__file__).resolve().parent.parent)
    installed = {str(Path(p).resolve()) for p in [*site.getsitepackages(), site.getusersitepackages()]}
    return None if package_parent in installed else package_parent


def hook_command(args: argparse.Namespace) -> int:
    import git

    from indexer.hooks import install_hooks, uninstall_hooks

    try:
        if args.action == "install":
            changes = install_hooks(args.path, [sys.executable, "-m", "lsp_server.cli"], args.index,
                                    pythonpath=_kura_importable_from())
        else:
            changes = uninstall_hooks(args.path)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        print(f"kura: not a git repository: {args.path}", file=sys.stderr)
        return 2
    except FileExistsError as exc:
        print(f"kura: {exc}", file=sys.stderr)
        return 1
    for change in changes:
        print(f"{change.name}: {change.action} ({change.path})")
    if not changes:
        print("no kura hooks were installed")
    return 0


def watch_command(args: argparse.Namespace) -> int:
    from indexer.watcher import IndexWatcher

    with _open(args.path, args.index) as idx:
        _say_rebuilt(idx.rebuilt_reason)
        print(_summary_line(idx.update(), idx), flush=True)

        def on_update(report, paths) -> None:
            print(f"{time.strftime('%H:%M:%S')} {len(paths)} changed: indexed {report.indexed}, "
                  f"deleted {report.deleted} in {report.seconds * 1000:.0f} ms", flush=True)

        watcher = IndexWatcher(idx, debounce_s=args.debounce, on_update=on_update).start()
        print(f"watching {idx.root} (Ctrl-C to stop)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            watcher.stop()
    return 0


# --- queries -------------------------------------------------------------------------------------


def _definition_json(d) -> dict:
    return {**asdict(d), "kind_name": kinds.NAMES.get(d.kind, str(d.kind))}


def _table(headers: list[str], rows: list[list[str]]) -> None:
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(*headers, box=None, pad_edge=False)
        for row in rows:
            table.add_row(*row)
        Console().print(table, highlight=False)
    else:
        for row in rows:
            print("\t".join(row))


def _empty_hint(idx) -> None:
    if idx.stats()["files"] == 0:
        print(f"kura: the index of {idx.root} is empty; run `kura index {idx.root}` first", file=sys.stderr)


def symbols_command(args: argparse.Namespace) -> int:
    with _open(args.root, args.index) as idx:
        _say_rebuilt(idx.rebuilt_reason)
        found = idx.search_symbols(args.query, limit=args.limit)
        if args.json:
            print(json.dumps([_definition_json(d) for d in found], indent=2))
        else:
            _empty_hint(idx)
            _table(["kind", "symbol", "location"],
                   [[kinds.NAMES.get(d.kind, "?"), d.qualname or d.name, f"{d.path}:{d.range.start_line + 1}"] for d in found])
        return 0


def refs_command(args: argparse.Namespace) -> int:
    with _open(args.root, args.index) as idx:
        _say_rebuilt(idx.rebuilt_reason)
        refs = idx.references(args.name)
        if args.json:
            print(json.dumps([asdict(r) for r in refs], indent=2))
        else:
            _empty_hint(idx)
            _table(["location", "", "line"], [
                [f"{r.path}:{r.range.start_line + 1}:{r.range.start_col + 1}", "def" if r.is_definition else "",
                 _line_of(idx.root / r.path, r.range.start_line)] for r in refs])
        return 0


def _line_of(path: Path, line: int, _cache: dict = {}) -> str:  # noqa: B006 - a per-process read cache
    if path not in _cache:
        try:
            _cache[path] = path.read_text("utf-8", "replace").splitlines()
        except OSError:
            _cache[path] = []
    lines = _cache[path]
    return lines[line].strip()[:100] if line < len(lines) else ""


def search_command(args: argparse.Namespace) -> int:
    with _open(args.root, args.index) as idx:
        _say_rebuilt(idx.rebuilt_reason)
        hits = idx.search_chunks(args.text, limit=args.limit)
        if args.json:
            print(json.dumps([{**asdict(c), "score": s} for c, s in hits], indent=2))
        else:
            _empty_hint(idx)
            _table(["score", "location", "symbol"],
                   [[f"{s:.2f}", f"{c.path}:{c.start_line + 1}-{c.end_line + 1}", c.symbol] for c, s in hits])
        return 0

"""Builders for the indexer tests: real git repositories and source files in tmp_path."""

from __future__ import annotations

import os
import time
from pathlib import Path

from fixtures.git_repo import GIT_ENV, git  # noqa: F401  (git is re-exported for the tests)

REPO_ROOT = Path(__file__).resolve().parents[2]


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def make_repo(root: Path, files: dict[str, str | bytes], commit: bool = True) -> Path:
    """A git repository at `root` holding `files` (committed unless told otherwise)."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    write(root, files)
    if commit and files:
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "initial")
    return root


def cli_env() -> dict[str, str]:
    """Environment for running `python -m lsp_server.cli` from a test: this checkout importable."""
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, **GIT_ENV, "PYTHONPATH": str(REPO_ROOT) + (os.pathsep + path if path else "")}


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1):
    """Poll until `predicate()` is truthy; return its value or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")
        time.sleep(interval)


def bump_mtime(path: Path) -> None:
    """Make a rewrite visible to the (size, mtime) pre-check even on coarse-mtime file systems."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))

"""Which files to index: `git ls-files` inside a git repository, a .gitignore-aware walk elsewhere.

Only files whose suffix has a language are kept. Symlinks are never followed out of the root (nor
into directories, so loops cannot happen); binary, oversized, minified/generated and unreadable files
are skipped and counted per reason in `Discovery.skipped`.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

MAX_FILE_BYTES = 1 << 20
HEAD_BYTES = 8192  # binary and minified checks look at this much when only deciding what to index
# Minified or generated code: one very long line, or long lines on average. Hand-written code rarely
# averages more than ~80 characters per line, and formatters wrap at 79-120.
MAX_LINE_CHARS = 5000
MAX_AVERAGE_LINE_CHARS = 300
# Never worth walking into outside git (inside git, .gitignore decides).
ALWAYS_IGNORED_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", ".tox", ".mypy_cache"})

# Skip reasons, as counted in Discovery.skipped and IndexReport.skipped.
NO_LANGUAGE = "no_language"
TOO_LARGE = "too_large"
BINARY = "binary"
MINIFIED = "minified"
UNREADABLE = "unreadable"
VANISHED = "vanished"
SYMLINK_OUTSIDE = "symlink_outside_root"
SYMLINK_BROKEN = "symlink_broken_or_loop"
NOT_A_FILE = "not_a_file"


@dataclass(frozen=True, slots=True)
class FoundFile:
    path: str  # repository-relative, POSIX separators
    size: int
    mtime_ns: int


@dataclass(slots=True)
class Discovery:
    files: list[FoundFile] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    used_git: bool = False


def _default_has_language(path: str) -> bool:
    from indexer.languages import language_for_path  # imported late: discovery itself needs no grammars

    return language_for_path(path) is not None


def content_skip_reason(data: bytes) -> str | None:
    """Why this content should not be indexed (binary, minified), or None. Applied to a file's first
    `HEAD_BYTES` when discovering, and to the whole file when it is read for indexing."""
    if b"\0" in data[:HEAD_BYTES]:
        return BINARY
    if not data:
        return None
    lines = data.count(b"\n") + 1
    # Short files are judged by their longest line only: one long line of 400 characters is not minified.
    if len(data) > 2048 and len(data) / lines > MAX_AVERAGE_LINE_CHARS:
        return MINIFIED
    if len(data) > MAX_LINE_CHARS and max(map(len, data.split(b"\n"))) > MAX_LINE_CHARS:
        return MINIFIED
    return None


def _read_head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(HEAD_BYTES)


def check_file(root: Path, rel: str, max_file_bytes: int = MAX_FILE_BYTES, has_language=None) -> FoundFile | str:
    """Decide about one repository-relative path: a FoundFile to index, or the reason to skip it."""
    has_language = has_language or _default_has_language
    if not has_language(rel):
        return NO_LANGUAGE
    full = root / rel
    try:
        st = os.lstat(full)
        if stat.S_ISLNK(st.st_mode):
            try:
                target = full.resolve(strict=True)
            except (OSError, RuntimeError):  # dangling, or a loop (ELOOP / RuntimeError on 3.11)
                return SYMLINK_BROKEN
            if not target.is_relative_to(root):
                return SYMLINK_OUTSIDE
            st = os.stat(target)
        if not stat.S_ISREG(st.st_mode):
            return NOT_A_FILE
        if st.st_size > max_file_bytes:
            return TOO_LARGE
        reason = content_skip_reason(_read_head(full))
    except FileNotFoundError:
        return VANISHED
    except OSError:
        return UNREADABLE
    if reason:
        return reason
    return FoundFile(rel, st.st_size, st.st_mtime_ns)


def git_toplevel(path: Path) -> Path | None:
    """The work tree containing `path`, or None outside git (or without git installed)."""
    try:
        out = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--show-toplevel"],
            capture_output=True, text=True, timeout=30, env=_git_env(),
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0 or not out.stdout.strip():
        return None
    return Path(out.stdout.strip())


def repository_root(path: Path) -> Path:
    """The root to index for `path`: its git work tree if inside one, else the directory itself."""
    path = Path(path).resolve()
    return git_toplevel(path) or path


def _git_env() -> dict[str, str]:
    # Inside a git hook GIT_DIR/GIT_INDEX_FILE point at the hook's repository; `git -C root` must not
    # be redirected by them.
    return {k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "GIT_PREFIX")}


def _git_files(root: Path) -> list[str] | None:
    """Tracked plus untracked-but-not-ignored files under root, or None when root is not in git."""
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            capture_output=True, timeout=300, env=_git_env(),
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    paths = out.stdout.decode("utf-8", "surrogateescape").split("\0")
    # --cached lists a path once per merge stage during a conflict; keep one.
    return sorted({p for p in paths if p})


class _IgnoreRules:
    """The .gitignore files met on a walk, each applying below its own directory."""

    def __init__(self, root: Path):
        self.root = root
        self._specs: dict[str, pathspec.PathSpec | None] = {}

    def _spec(self, rel_dir: str) -> pathspec.PathSpec | None:
        if rel_dir not in self._specs:
            spec = None
            try:
                lines = (self.root / rel_dir / ".gitignore").read_text("utf-8", "replace").splitlines()
                spec = pathspec.GitIgnoreSpec.from_lines(lines)
            except OSError:
                pass
            self._specs[rel_dir] = spec
        return self._specs[rel_dir]

    def ignored(self, rel: str, is_dir: bool = False) -> bool:
        parts = rel.split("/")
        if any(p in ALWAYS_IGNORED_DIRS for p in (parts if is_dir else parts[:-1])):
            return True
        # Check against every ancestor's .gitignore, with the path relative to that directory.
        for i in range(len(parts)):
            rel_dir = "/".join(parts[:i])
            spec = self._spec(rel_dir)
            if spec is None:
                continue
            sub = "/".join(parts[i:]) + ("/" if is_dir else "")
            if spec.match_file(sub):
                return True
        return False


def _walk(root: Path, rules: _IgnoreRules) -> Iterator[str]:
    # followlinks=False: a symlinked directory is never entered, so loops and escapes are impossible.
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=lambda e: None):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = sorted(d for d in dirnames if not rules.ignored(prefix + d, is_dir=True))
        for name in sorted(filenames):
            rel = prefix + name
            if not rules.ignored(rel):
                yield rel


def discover(root: Path, max_file_bytes: int = MAX_FILE_BYTES, has_language: Callable[[str], bool] | None = None) -> Discovery:
    """Every file under `root` that should be indexed, with skip counts per reason."""
    root = Path(root).resolve()
    has_language = has_language or _default_has_language
    result = Discovery()
    candidates: Iterable[str] | None = _git_files(root)
    if candidates is not None:
        result.used_git = True
    else:
        candidates = _walk(root, _IgnoreRules(root))
    for rel in candidates:
        found = check_file(root, rel, max_file_bytes, has_language)
        if isinstance(found, FoundFile):
            result.files.append(found)
        elif found != NO_LANGUAGE:  # not an error: most repositories hold files of no indexed language
            result.skipped[found] += 1
    return result


def ignored_paths(root: Path, rels: list[str]) -> set[str]:
    """Which of these repository-relative paths .gitignore excludes (tracked files never are)."""
    root = Path(root).resolve()
    if not rels:
        return set()
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "check-ignore", "--stdin", "-z"],
            input="\0".join(rels).encode("utf-8", "surrogateescape") + b"\0",
            capture_output=True, timeout=60, env=_git_env(),
        )
        if out.returncode in (0, 1):  # 1: none ignored
            return {p for p in out.stdout.decode("utf-8", "surrogateescape").split("\0") if p}
    except (OSError, subprocess.SubprocessError):
        pass
    rules = _IgnoreRules(root)
    return {rel for rel in rels if rules.ignored(rel)}

"""Git hooks that re-index what a commit, merge, checkout or rewrite changed — in the background.

Each hook is a small sh script: it runs the hook that was there before (moved aside, never
overwritten), asks git which files changed, and starts the given index command with `index --changed`
detached, so `git commit` returns at once. `uninstall_hooks` removes ours and restores the originals.
`core.hooksPath` is respected.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import git

HOOK_NAMES = ("post-commit", "post-merge", "post-checkout", "post-rewrite")
MARKER = "# kura-hook: managed by `kura hook install`"
CHAINED_SUFFIX = ".kura-chained"
LOG_NAME = "kura-index.log"

_TEMPLATE = """#!/bin/sh
{marker}
# Re-indexes the files this {hook} touched, in the background; `kura hook uninstall` removes it.
hook={hook}
status=0
[ "$hook" = post-rewrite ] && input=$(cat)  # git passes "old new" commit pairs on stdin

# The hook that was here before kura's runs first, with the same arguments and input.
if [ -x "$0{chained}" ]; then
    if [ "$hook" = post-rewrite ]; then
        printf '%s\\n' "$input" | "$0{chained}" "$@"
    else
        "$0{chained}" "$@"
    fi
    status=$?
fi

full=
changed=
case "$hook" in
post-commit)
    if git rev-parse -q --verify HEAD~1 >/dev/null 2>&1; then
        changed=$(git diff --no-renames --name-only HEAD~1 HEAD)
    else
        changed=$(git diff-tree --root -r --no-renames --name-only --no-commit-id HEAD)
    fi ;;
post-merge)
    changed=$(git diff --no-renames --name-only ORIG_HEAD HEAD 2>/dev/null) || full=1 ;;
post-checkout)
    case "$1" in
    *[!0]*) if [ "$3" = 1 ]; then changed=$(git diff --no-renames --name-only "$1" "$2" 2>/dev/null) || full=1; else full=1; fi ;;
    *) full=1 ;;  # a fresh clone: no previous HEAD
    esac ;;
post-rewrite)
    changed=$(printf '%s\\n' "$input" | while read -r old new rest; do
        [ -n "$new" ] && git diff --no-renames --name-only "$old" "$new" 2>/dev/null
    done) ;;
esac

if [ -n "$changed" ] || [ -n "$full" ]; then
    root=$(git rev-parse --show-toplevel)
    log="$(git rev-parse --git-dir)/{log}"
    detach=
    command -v setsid >/dev/null 2>&1 && detach=setsid
    (
        unset GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE GIT_PREFIX
        {pythonpath}
        if [ -n "$full" ]; then
            $detach {command} index "$root" {index_args}
        else
            printf '%s\\n' "$changed" | $detach {command} index "$root" --changed {index_args}
        fi
    ) </dev/null >"$log" 2>&1 &
fi
exit $status
"""


@dataclass(frozen=True, slots=True)
class HookChange:
    name: str
    path: Path
    action: str  # "installed", "installed (chained the existing hook)", "updated", "removed", "restored the original"


def hooks_dir(repo_root: Path | str) -> Path:
    """The directory git runs hooks from: `core.hooksPath` when set, else `<git dir>/hooks`."""
    repo = git.Repo(repo_root, search_parent_directories=True)
    try:
        configured = repo.config_reader().get_value("core", "hooksPath", "")
    except Exception:  # configparser errors vary; an unreadable value means "not set"
        configured = ""
    if configured:
        path = Path(os.path.expanduser(str(configured)))
        if not path.is_absolute():  # git resolves it against the directory hooks run in: the work tree
            path = Path(repo.working_tree_dir or repo.git_dir) / path
        return path
    return Path(repo.common_dir) / "hooks"


def hook_script(name: str, index_command: Sequence[str], index_path: Path | str | None = None,
                pythonpath: str | None = None) -> str:
    """The hook's text. `index_command` is the argv that runs kura's command line (its `index`
    subcommand is appended); `pythonpath` is put first on PYTHONPATH when kura is not installed."""
    path_line = f'PYTHONPATH={shlex.quote(pythonpath)}${{PYTHONPATH:+:$PYTHONPATH}}; export PYTHONPATH' if pythonpath else ""
    index_args = f"--index {shlex.quote(str(Path(index_path).resolve()))}" if index_path else ""
    return _TEMPLATE.format(marker=MARKER, hook=name, chained=CHAINED_SUFFIX, log=LOG_NAME, pythonpath=path_line,
                            command=shlex.join(index_command), index_args=index_args)


def _is_ours(path: Path) -> bool:
    try:
        return MARKER in path.read_text("utf-8", "replace")
    except OSError:
        return False


def install_hooks(repo_root: Path | str, index_command: Sequence[str], index_path: Path | str | None = None,
                  *, pythonpath: str | None = None) -> list[HookChange]:
    """Install kura's hooks; an existing hook is moved to `<name>.kura-chained` and run first."""
    directory = hooks_dir(repo_root)
    directory.mkdir(parents=True, exist_ok=True)
    changes = []
    for name in HOOK_NAMES:
        path = directory / name
        action = "installed"
        if path.exists() or path.is_symlink():
            if _is_ours(path):
                action = "updated"
            else:
                chained = directory / (name + CHAINED_SUFFIX)
                if chained.exists():
                    raise FileExistsError(f"{chained} already exists; not moving {path} over it")
                os.replace(path, chained)
                action = "installed (chained the existing hook)"
        tmp = path.with_name(f".{name}.kura-tmp")
        tmp.write_text(hook_script(name, index_command, index_path, pythonpath), "utf-8")
        tmp.chmod(0o755)
        os.replace(tmp, path)  # atomic: git never runs a half-written hook
        changes.append(HookChange(name, path, action))
    return changes


def uninstall_hooks(repo_root: Path | str) -> list[HookChange]:
    """Remove kura's hooks and put back the ones they chained."""
    directory = hooks_dir(repo_root)
    changes = []
    for name in HOOK_NAMES:
        path = directory / name
        chained = directory / (name + CHAINED_SUFFIX)
        if _is_ours(path):
            path.unlink()
            if chained.exists() or chained.is_symlink():
                os.replace(chained, path)
                changes.append(HookChange(name, path, "restored the original"))
            else:
                changes.append(HookChange(name, path, "removed"))
    return changes

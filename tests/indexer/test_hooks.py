"""Git hooks re-index what a commit changed, in the background, and chain the hooks already there."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from repo_fixtures import cli_env, git, make_repo, wait_for, write

from indexer.hooks import HOOK_NAMES, MARKER, hooks_dir, install_hooks, uninstall_hooks
from indexer.index import Index


@pytest.fixture
def repo(tmp_path):
    return make_repo(tmp_path / "repo", {"app.py": "def start():\n    pass\n"})


KURA = [sys.executable, "-m", "lsp_server.cli"]  # what `kura hook install` writes into the hooks


@pytest.fixture
def index_path(tmp_path):
    return tmp_path / "index.sqlite3"


@pytest.fixture(autouse=True)
def importable(monkeypatch):
    # Hooks run `python -m lsp_server.cli` with the environment git gives them: ours.
    monkeypatch.setenv("PYTHONPATH", cli_env()["PYTHONPATH"])


def commit(repo, message="change"):
    env = cli_env()
    started = time.monotonic()
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "-m", message], check=True, env=env,
                   capture_output=True, timeout=60)
    return time.monotonic() - started


def definitions(repo, index_path, name):
    with Index.open(repo, index_path) as idx:
        return idx.definitions(name)


def test_install_writes_the_four_hooks_executable(repo, index_path):
    changes = install_hooks(repo, KURA, index_path)
    assert [c.name for c in changes] == list(HOOK_NAMES)
    for name in HOOK_NAMES:
        hook = repo / ".git" / "hooks" / name
        assert os.access(hook, os.X_OK) and MARKER in hook.read_text()
        assert sys.executable in hook.read_text()


def test_a_commit_reindexes_the_changed_files_in_the_background(repo, index_path):
    with Index.open(repo, index_path) as idx:
        idx.update()
    install_hooks(repo, KURA, index_path)
    write(repo, {"app.py": "def start():\n    pass\n\ndef added_by_commit():\n    pass\n", "lib/new.py": "class Fresh:\n    pass\n"})
    commit(repo)
    wait_for(lambda: definitions(repo, index_path, "added_by_commit") and definitions(repo, index_path, "Fresh"))
    # The job writes its summary after the index commit is visible: wait for the line, then check it.
    log_file = repo / ".git" / "kura-index.log"
    log = wait_for(lambda: log_file.exists() and "indexed" in log_file.read_text() and log_file.read_text())
    assert "indexed 2" in log, log


def test_the_hook_returns_before_the_reindex_finishes(repo, index_path, tmp_path):
    # A chained hook that records when the kura part started is not needed: a slow index is. We make
    # the background job slow by pointing it at a python that sleeps first.
    slow = tmp_path / "slowpython"
    slow.write_text(f"#!/bin/sh\nsleep 3\nexec {sys.executable} \"$@\"\n")
    slow.chmod(0o755)
    install_hooks(repo, KURA, index_path)
    hook = repo / ".git" / "hooks" / "post-commit"
    hook.write_text(hook.read_text().replace(sys.executable, str(slow)))
    write(repo, {"later.py": "def later():\n    pass\n"})
    assert commit(repo) < 2.5
    assert not definitions(repo, index_path, "later")
    wait_for(lambda: definitions(repo, index_path, "later"))


def test_deleted_and_renamed_files_leave_the_index(repo, index_path):
    write(repo, {"old_name.py": "def renamed_function():\n    pass\n", "doomed.py": "def doomed():\n    pass\n"})
    commit(repo)
    with Index.open(repo, index_path) as idx:
        idx.update()
    install_hooks(repo, KURA, index_path)
    git(repo, "mv", "old_name.py", "new_name.py")
    (repo / "doomed.py").unlink()
    commit(repo)
    wait_for(lambda: not definitions(repo, index_path, "doomed"))
    wait_for(lambda: [d.path for d in definitions(repo, index_path, "renamed_function")] == ["new_name.py"])


def test_switching_branches_reindexes_the_difference(repo, index_path):
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, {"feature.py": "def feature_only():\n    pass\n"})
    commit(repo)
    with Index.open(repo, index_path) as idx:
        idx.update()
    install_hooks(repo, KURA, index_path)
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", "main"], check=True, env=cli_env())
    wait_for(lambda: not definitions(repo, index_path, "feature_only"))


def test_an_existing_hook_is_chained_and_restored_on_uninstall(repo, index_path, tmp_path):
    marker = tmp_path / "original-ran"
    original = f"#!/bin/sh\necho \"$0 ran\" >> {marker}\nexit 0\n"
    hook = repo / ".git" / "hooks" / "post-commit"
    hook.write_text(original)
    hook.chmod(0o755)
    changes = {c.name: c.action for c in install_hooks(repo, KURA, index_path)}
    assert "chained" in changes["post-commit"] and changes["post-merge"] == "installed"
    assert install_hooks(repo, KURA, index_path)[0].action == "updated"  # idempotent: never chains itself
    write(repo, {"chained.py": "def chained():\n    pass\n"})
    commit(repo)
    wait_for(lambda: definitions(repo, index_path, "chained"))
    assert marker.read_text().count("ran") == 1
    uninstall_hooks(repo)
    assert hook.read_text() == original and os.access(hook, os.X_OK)
    assert not (repo / ".git" / "hooks" / "post-merge").exists()
    assert not list((repo / ".git" / "hooks").glob("*.kura-chained"))


def test_core_hooks_path_is_respected(repo, index_path):
    git(repo, "config", "core.hooksPath", ".githooks")
    assert hooks_dir(repo) == repo / ".githooks"
    install_hooks(repo, KURA, index_path)
    assert (repo / ".githooks" / "post-commit").exists()
    assert not (repo / ".git" / "hooks" / "post-commit").exists()
    write(repo, {"via_hooks_path.py": "def via_hooks_path():\n    pass\n"})
    commit(repo)
    wait_for(lambda: definitions(repo, index_path, "via_hooks_path"))

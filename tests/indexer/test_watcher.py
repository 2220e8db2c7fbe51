"""IndexWatcher: file-system changes reach the index, debounced into batches; .git and ignored files don't."""

from __future__ import annotations

import threading
import time

import pytest
from repo_fixtures import make_repo, wait_for, write

from indexer.index import Index
from indexer.watcher import IndexWatcher


@pytest.fixture
def repo(tmp_path):
    return make_repo(tmp_path / "repo", {"app.py": "def start():\n    pass\n", ".gitignore": "generated/\n"})


@pytest.fixture
def index(repo, tmp_path):
    idx = Index.open(repo, tmp_path / "index.sqlite3")
    idx.update()
    yield idx
    idx.close()


@pytest.fixture
def batches():
    seen: list[list[str]] = []
    lock = threading.Lock()

    def on_update(report, paths):
        with lock:
            seen.append(paths)

    on_update.seen = seen
    return on_update


def test_created_modified_and_deleted_files_reach_the_index(repo, index, batches):
    with IndexWatcher(index, debounce_s=0.1, on_update=batches):
        write(repo, {"pkg/new.py": "def created():\n    pass\n"})
        wait_for(lambda: index.definitions("created"), timeout=15)
        write(repo, {"pkg/new.py": "def modified():\n    pass\n"})
        wait_for(lambda: index.definitions("modified") and not index.definitions("created"), timeout=15)
        (repo / "pkg" / "new.py").unlink()
        wait_for(lambda: not index.definitions("modified"), timeout=15)
        (repo / "app.py").rename(repo / "moved.py")
        wait_for(lambda: [d.path for d in index.definitions("start")] == ["moved.py"], timeout=15)


def test_a_burst_of_changes_is_one_batched_update(repo, index, batches):
    with IndexWatcher(index, debounce_s=1.0, on_update=batches):
        time.sleep(0.2)
        write(repo, {f"burst/m{i}.py": f"def burst_{i}():\n    pass\n" for i in range(8)})
        wait_for(lambda: batches.seen, timeout=15)
        time.sleep(1.5)
    assert len(batches.seen) == 1
    assert sorted(batches.seen[0]) == sorted(str(repo / f"burst/m{i}.py") for i in range(8))
    assert all(index.definitions(f"burst_{i}") for i in range(8))


def test_ignored_files_git_internals_and_other_languages_are_not_indexed(repo, index, batches):
    with IndexWatcher(index, debounce_s=0.1, on_update=batches):
        write(repo, {"generated/out.py": "def generated():\n    pass\n", ".git/hooks/x.py": "def in_git():\n    pass\n",
                     "notes.txt": "words"})
        write(repo, {"real.py": "def real():\n    pass\n"})  # a change we can wait for
        wait_for(lambda: index.definitions("real"), timeout=15)
        time.sleep(0.3)
    assert not index.definitions("generated") and not index.definitions("in_git")
    assert all("notes.txt" not in p and "/.git/" not in p for batch in batches.seen for p in batch)


def test_stop_flushes_pending_changes(repo, index):
    watcher = IndexWatcher(index, debounce_s=30).start()
    write(repo, {"late.py": "def late():\n    pass\n"})
    wait_for(lambda: watcher.pending, timeout=15)
    watcher.stop()
    assert index.definitions("late")


def test_moving_or_deleting_a_whole_directory_updates_every_file_inside(repo, index, tmp_path):
    write(repo, {"pkg/a.py": "def in_a():\n    pass\n", "pkg/sub/b.py": "def in_b():\n    pass\n"})
    index.update()
    with IndexWatcher(index, debounce_s=0.1):
        (repo / "pkg").rename(repo / "moved")
        wait_for(lambda: [d.path for d in index.definitions("in_b")] == ["moved/sub/b.py"], timeout=15)
        assert [d.path for d in index.definitions("in_a")] == ["moved/a.py"]
        import shutil

        shutil.rmtree(repo / "moved")
        wait_for(lambda: not index.definitions("in_a") and not index.definitions("in_b"), timeout=15)
        # A directory moved in from outside, and out again, reports one event for the directory only.
        write(tmp_path / "outside", {"pkg/c.py": "def in_c():\n    pass\n"})
        (tmp_path / "outside" / "pkg").rename(repo / "incoming")
        wait_for(lambda: [d.path for d in index.definitions("in_c")] == ["incoming/c.py"], timeout=15)
        (repo / "incoming").rename(tmp_path / "outside" / "gone")
        wait_for(lambda: not index.definitions("in_c"), timeout=15)

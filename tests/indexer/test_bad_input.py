"""Bad input gets a clear outcome and loses nothing: broken files, odd file systems, broken index
files and two writers at once."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest
from repo_fixtures import cli_env, make_repo, write

import indexer.extract
import indexer.index
import indexer.files
from indexer.index import Index
from indexer.store import SCHEMA_VERSION, IndexStore


@pytest.fixture
def open_index(tmp_path):
    opened = []

    def open_(root, name="index.sqlite3"):
        idx = Index.open(root, tmp_path / name)
        opened.append(idx)
        return idx

    yield open_
    for idx in opened:
        idx.close()


def test_invalid_utf8_is_indexed_with_replacement_characters(tmp_path, open_index):
    write(tmp_path / "r", {"latin1.py": "def caf\xe9_name():\n    return 'na\xefve'\n".encode("latin-1") + b"\ndef ok():\n    pass\n"})
    idx = open_index(tmp_path / "r")
    report = idx.update()
    assert report.indexed == 1 and not report.errors
    assert idx.definitions("ok")
    assert idx.search_chunks("ok")[0][0].text.count("\ufffd") == 2


def test_syntax_errors_index_what_tree_sitter_recovers(tmp_path, open_index):
    write(tmp_path / "r", {"broken.py": "def good():\n    return 1\n\nif x\n    y = = 2\n\nclass After:\n    pass\n"})
    idx = open_index(tmp_path / "r")
    report = idx.update()
    assert report.indexed == 1 and report.syntax_errors == 1
    assert idx.definitions("good") and idx.definitions("After")


def test_binary_and_huge_files_are_skipped_without_being_read(tmp_path, open_index):
    root = tmp_path / "r"
    write(root, {"ok.py": "def ok():\n    pass\n", "blob.py": b"\x7fELF\x00\x00" * 50})
    with open(root / "huge.py", "wb") as f:
        f.truncate(50 * 1024 * 1024)  # 50 MB, sparse: only its size can be looked at cheaply
    report = open_index(root).update()
    assert report.indexed == 1
    assert report.skipped == {"binary": 1, "too_large": 1}


def test_a_file_that_becomes_binary_or_huge_leaves_the_index(tmp_path, open_index):
    root = tmp_path / "r"
    write(root, {"a.py": "def a():\n    pass\n", "b.py": "def b():\n    pass\n"})
    idx = open_index(root)
    idx.update()
    (root / "a.py").write_bytes(b"\x00" * 100)
    with open(root / "b.py", "ab") as f:
        f.truncate(2 * 1024 * 1024)
    report = idx.update()
    assert report.deleted == 2 and idx.stats()["files"] == 0


def test_an_unreadable_file_is_skipped_and_counted(tmp_path, open_index, monkeypatch):
    root = tmp_path / "r"
    write(root, {"ok.py": "def ok():\n    pass\n", "secret.py": "def secret():\n    pass\n"})
    os.chmod(root / "secret.py", 0)
    if os.geteuid() == 0:  # root reads anything: make the read fail the way it would for a user
        real = indexer.files._read_head

        def denied(path):
            if path.name == "secret.py":
                raise PermissionError(13, "Permission denied", str(path))
            return real(path)

        monkeypatch.setattr(indexer.files, "_read_head", denied)
    idx = open_index(root)
    report = idx.update()
    assert report.skipped == {"unreadable": 1}
    assert idx.definitions("ok") and not idx.definitions("secret")


def test_a_file_vanishing_mid_index_is_counted_and_the_rest_indexed(tmp_path, open_index):
    root = tmp_path / "r"
    write(root, {f"m{i}.py": f"def f{i}():\n    pass\n" for i in range(5)})
    idx = open_index(root)

    def vanish(done, total, path):
        if done == 1:
            (root / "m4.py").unlink()

    report = idx.update(progress=vanish)
    assert report.indexed == 4 and report.skipped == {"vanished": 1}
    assert not idx.definitions("f4") and idx.definitions("f3")


def test_an_extraction_failure_keeps_the_old_entry_and_says_which_file(tmp_path, open_index, monkeypatch):
    root = tmp_path / "r"
    write(root, {"a.py": "def a():\n    pass\n"})
    idx = open_index(root)
    idx.update()
    (root / "a.py").write_text("def a2():\n    pass\n")
    os.utime(root / "a.py", (1, 1))

    def explode(path, source, spec):
        raise RuntimeError("query crashed")

    monkeypatch.setattr(indexer.extract, "extract_file", explode)
    report = idx.update()
    assert report.errors == [("a.py", "RuntimeError: query crashed")]
    assert idx.definitions("a")  # nothing lost


def test_symlink_loops_do_not_hang_the_index(tmp_path, open_index):
    root = tmp_path / "r"
    write(root, {"pkg/a.py": "def a():\n    pass\n"})
    os.symlink(root, root / "pkg" / "loop")
    os.symlink(root / "x.py", root / "y.py")
    os.symlink(root / "y.py", root / "x.py")
    report = open_index(root).update()
    assert report.indexed == 1 and report.skipped == {"symlink_broken_or_loop": 2}


def test_an_empty_directory_and_an_empty_git_repository_index_to_nothing(tmp_path, open_index):
    (tmp_path / "empty").mkdir()
    repo = make_repo(tmp_path / "git", {}, commit=False)
    for root, name in ((tmp_path / "empty", "a.sqlite3"), (repo, "b.sqlite3")):
        report = open_index(root, name).update()
        assert (report.indexed, report.files, report.errors) == (0, 0, [])


def _indexed(tmp_path, open_index):
    root = tmp_path / "r"
    write(root, {"a.py": "def a():\n    pass\n"})
    idx = open_index(root)
    idx.update()
    idx.close()
    return root, tmp_path / "index.sqlite3"


def test_a_corrupt_index_file_is_moved_aside_rebuilt_and_reported(tmp_path, open_index):
    root, path = _indexed(tmp_path, open_index)
    path.write_bytes(b"this is not a database" * 100)
    idx = open_index(root)
    assert "corrupt" in idx.rebuilt_reason
    report = idx.update()
    assert report.rebuilt_reason == idx.rebuilt_reason and report.indexed == 1
    assert idx.definitions("a")
    assert [p.name for p in tmp_path.glob("index.sqlite3.corrupt-*")]
    assert idx.update().rebuilt_reason is None  # said once


def test_damaged_pages_inside_a_valid_database_are_detected(tmp_path, open_index):
    root, path = _indexed(tmp_path, open_index)
    data = bytearray(path.read_bytes())
    page = 4096
    data[2 * page:len(data)] = os.urandom(len(data) - 2 * page)  # keep the header, ruin the b-trees
    path.write_bytes(bytes(data))
    idx = open_index(root)
    assert "corrupt" in (idx.rebuilt_reason or "")
    assert idx.update().indexed == 1


@pytest.mark.parametrize(("version", "word"), [(SCHEMA_VERSION - 1, "older"), (SCHEMA_VERSION + 1, "newer")])
def test_an_index_of_another_schema_version_is_rebuilt_and_reported(tmp_path, open_index, version, word):
    root, path = _indexed(tmp_path, open_index)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_version SET version=?", (version,))
    idx = open_index(root)
    assert word in idx.rebuilt_reason and str(version) in idx.rebuilt_reason
    assert idx.update().indexed == 1
    assert list(tmp_path.glob("index.sqlite3.old-schema-*"))


def test_an_unrelated_sqlite_file_is_not_mistaken_for_an_index(tmp_path):
    path = tmp_path / "other.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE mine(x)")
    store = IndexStore.open(path)
    assert "no schema version" in store.rebuilt_reason
    store.close()


WRITER = textwrap.dedent('''
    import sys, time
    from pathlib import Path
    from indexer.index import Index
    root, index_path, me, rounds, start_at = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
    while time.time() < start_at:
        time.sleep(0.005)
    with Index.open(root, index_path) as idx:
        for i in range(rounds):
            mine = root / f"{me}_{i % 5}.py"
            mine.write_text(f"def {me}_round_{i}():\\n    return {i}\\n" * 3)
            report = idx.update() if i % 2 else idx.update(paths=[mine])
            assert not report.errors, report.errors
    print("ok")
''')


def test_two_writers_in_two_processes_neither_fail_nor_corrupt(tmp_path):
    root = tmp_path / "r"
    write(root, {f"shared/m{i}.py": f"def shared_{i}():\n    return {i}\n" * 20 for i in range(120)})
    index_path = tmp_path / "index.sqlite3"
    import time

    start_at = str(time.time() + 2.0)  # both processes begin together, once imported
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(root), str(index_path), who, "12", start_at],
                              env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for who in ("hook", "watch")]
    results = [p.communicate(timeout=240) for p in procs]
    for proc, (out, err) in zip(procs, results):
        assert proc.returncode == 0 and out.strip() == "ok", err
        assert "locked" not in err
    with Index.open(root, index_path) as idx:
        assert idx.store.integrity_ok()
        assert idx.update().indexed == 0  # nothing was lost or left stale
        assert idx.definitions("hook_round_11") and idx.definitions("watch_round_11")
        assert idx.stats()["files"] == 130


def test_two_processes_opening_an_old_index_at_once_rebuild_it_once(tmp_path, open_index):
    root, path = _indexed(tmp_path, open_index)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_version SET version=0")
    import time

    start_at = str(time.time() + 1.5)
    opener = textwrap.dedent('''
        import sys, time
        from indexer.index import Index
        while time.time() < float(sys.argv[3]):
            time.sleep(0.001)
        with Index.open(sys.argv[1], sys.argv[2]) as idx:
            print(idx.rebuilt_reason is not None, idx.update().files)
    ''')
    procs = [subprocess.Popen([sys.executable, "-c", opener, str(root), str(path), start_at], env=cli_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert sorted(out.split()[0] for out, _ in outs) == ["False", "True"]
    moved = [p for p in tmp_path.glob("index.sqlite3.old-schema-*") if not p.name.endswith(("-wal", "-shm"))]
    assert len(moved) == 1
    with Index.open(root, path) as idx:
        assert idx.rebuilt_reason is None and idx.definitions("a")


def test_a_worker_process_dying_mid_index_loses_nothing_and_names_the_files(tmp_path, monkeypatch):
    root = tmp_path / "r"
    write(root, {f"m{i:02}.py": f"def f{i}():\n    pass\n" for i in range(60)})
    real = indexer.extract.extract_file

    def crash_on_one(path, source, spec):
        if path == "m30.py":
            os._exit(70)  # what a segfault in a grammar looks like from the parent
        return real(path, source, spec)

    monkeypatch.setattr(indexer.extract, "extract_file", crash_on_one)  # forked workers inherit it
    # Forked whatever other threads this test process has (the pool would use a fork server then,
    # whose workers do not see the patch).
    monkeypatch.setattr(indexer.index, "_pool_context", lambda: multiprocessing.get_context("fork"))
    with Index.open(root, tmp_path / "index.sqlite3", workers=2) as idx:
        report = idx.update()
        failed = {path for path, _ in report.errors}
        assert "m30.py" in failed and report.indexed + len(failed) == 60
        assert all("died" in error for _, error in report.errors)
        monkeypatch.setattr(indexer.extract, "extract_file", real)
        assert idx.update().indexed == len(failed)  # the rest is picked up next time
        assert idx.stats()["files"] == 60

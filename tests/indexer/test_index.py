"""Index: incremental updates parse only what changed; queries answer from the store and the disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from repo_fixtures import bump_mtime, make_repo, write

import indexer.extract
from indexer import kinds
from indexer.index import Index, default_index_path

USERS = '''"""User accounts."""
import os
from collections import OrderedDict


class UserAccount:
    """An account."""

    def getUserName(self):
        return self.user_name

    def rename(self, name):
        self.user_name = name


def get_user_name(account):
    return account.getUserName()
'''

MAIN = '''from users import UserAccount


def main():
    account = UserAccount()
    print(account.getUserName())
'''


@pytest.fixture
def repo(tmp_path):
    return make_repo(tmp_path / "repo", {"users.py": USERS, "app/main.py": MAIN, "notes.txt": "not code"})


@pytest.fixture
def index(repo, tmp_path):
    idx = Index.open(repo, tmp_path / "index.sqlite3")
    yield idx
    idx.close()


@pytest.fixture
def parsed(monkeypatch):
    """The paths extraction was asked to parse, in order."""
    calls: list[str] = []
    real = indexer.extract.extract_file

    def counting(path, source, spec):
        calls.append(path)
        return real(path, source, spec)

    monkeypatch.setattr(indexer.extract, "extract_file", counting)
    return calls


def test_a_first_update_indexes_every_file_with_a_language(index, parsed):
    report = index.update()
    assert (report.indexed, report.unchanged, report.deleted, report.files) == (2, 0, 0, 2)
    assert sorted(parsed) == ["app/main.py", "users.py"]
    assert report.symbols == len(index.file_symbols("users.py")) + len(index.file_symbols("app/main.py"))


def test_an_unchanged_repository_parses_nothing(index, parsed):
    index.update()
    parsed.clear()
    report = index.update()
    assert parsed == []
    assert (report.indexed, report.unchanged, report.deleted) == (0, 2, 0)


def test_a_changed_file_alone_is_parsed_again(index, repo, parsed):
    index.update()
    parsed.clear()
    (repo / "users.py").write_text(USERS + "\n\ndef added():\n    pass\n")
    bump_mtime(repo / "users.py")
    report = index.update()
    assert parsed == ["users.py"]
    assert (report.indexed, report.unchanged) == (1, 1)
    assert [d.path for d in index.definitions("added")] == ["users.py"]


def test_a_touched_file_with_the_same_content_is_hashed_not_parsed(index, repo, parsed):
    index.update()
    parsed.clear()
    bump_mtime(repo / "users.py")
    report = index.update()
    assert parsed == []
    assert (report.indexed, report.unchanged) == (0, 2)
    parsed.clear()
    index.update()  # the new mtime was stored: not even hashed again
    assert parsed == []


def test_a_deleted_file_is_dropped(index, repo):
    index.update()
    (repo / "app" / "main.py").unlink()
    report = index.update()
    assert report.deleted == 1
    assert index.definitions("main") == []
    assert index.file_symbols("app/main.py") == []
    assert index.stats()["files"] == 1


def test_updating_given_paths_touches_only_those(index, repo, parsed):
    index.update()
    parsed.clear()
    (repo / "users.py").write_text("def only():\n    pass\n")
    bump_mtime(repo / "users.py")
    (repo / "app" / "main.py").unlink()
    write(repo, {"fresh.py": "def fresh():\n    pass\n"})
    report = index.update(paths=["fresh.py", str(repo / "app" / "main.py")])
    assert parsed == ["fresh.py"]
    assert (report.indexed, report.deleted) == (1, 1)
    assert index.definitions("getUserName")  # users.py was not asked about: still the old entry
    assert [d.name for d in index.file_symbols("fresh.py")] == ["fresh"]


def test_paths_outside_the_root_and_in_git_are_ignored(index, repo, tmp_path):
    write(tmp_path, {"elsewhere.py": "def x():\n    pass\n"})
    report = index.update(paths=[tmp_path / "elsewhere.py", repo / ".git" / "config"])
    assert (report.indexed, report.deleted) == (0, 0)


def test_a_large_update_parses_in_worker_processes_with_the_same_result(repo, tmp_path):
    write(repo, {f"gen/mod{i}.py": f"def function_{i}():\n    return {i}\n" for i in range(60)})
    with Index.open(repo, tmp_path / "pool.sqlite3", workers=2) as pooled, \
            Index.open(repo, tmp_path / "inline.sqlite3", workers=1) as inline:
        a, b = pooled.update(), inline.update()
        assert (a.indexed, a.symbols, a.chunks) == (b.indexed, b.symbols, b.chunks) == (62, b.symbols, b.chunks)
        assert [d.path for d in pooled.definitions("function_59")] == ["gen/mod59.py"]


def test_progress_reports_every_parsed_file(index):
    seen = []
    index.update(progress=lambda done, total, path: seen.append((done, total, path)))
    assert [s[:2] for s in seen] == [(1, 2), (2, 2)]


def test_definitions_and_file_symbols(index):
    index.update()
    [d] = index.definitions("getUserName")
    assert (d.path, d.qualname, d.kind) == ("users.py", "UserAccount.getUserName", kinds.METHOD)
    names = [x.qualname for x in index.file_symbols("users.py")]
    assert names.index("UserAccount") < names.index("UserAccount.getUserName") < names.index("get_user_name")
    assert [i.module for i in index.imports("users.py")] == ["os", "collections"]


def test_symbol_search_ranks_exact_then_prefix_then_words_then_subsequence(index):
    index.update()
    assert index.search_symbols("getUserName")[0].qualname == "UserAccount.getUserName"
    assert [d.name for d in index.search_symbols("get_user")][:2] == ["get_user_name", "getUserName"]
    assert index.search_symbols("user")[0].name == "UserAccount"  # a word of the name, types first
    assert "getUserName" in [d.name for d in index.search_symbols("gusnm")]  # subsequence
    assert index.search_symbols("UserAccount.rename")[0].qualname == "UserAccount.rename"
    assert index.search_symbols("zzzz") == []


def test_an_empty_symbol_query_lists_the_most_used_top_level_symbols(index):
    index.update()
    top = index.search_symbols("", limit=3)
    assert top[0].name == "UserAccount"  # defined in one file, used in both
    assert all("." not in d.qualname for d in top)


def test_references_are_found_in_every_file_with_current_positions(index, repo):
    index.update()
    refs = index.references("getUserName")
    assert [(r.path, r.range.start_line, r.is_definition) for r in refs] == [
        ("app/main.py", 5, False), ("users.py", 8, True), ("users.py", 16, False)]
    # Positions come from the file as it is now, even before the index catches up.
    (repo / "app" / "main.py").write_text("\n\n" + MAIN)
    assert [r.range.start_line for r in index.references("getUserName") if r.path == "app/main.py"] == [7]


def test_references_in_a_file_edited_since_indexing_are_found(index, repo):
    index.update()
    (repo / "app" / "main.py").write_text(MAIN + "\n\ndef later(store):\n    return store.rename('x')\n")
    bump_mtime(repo / "app" / "main.py")
    assert [(r.path, r.range.start_line) for r in index.references("rename")] == [("app/main.py", 9), ("users.py", 11)]


def test_chunk_search_finds_code_by_its_words(index):
    index.update()
    hits = index.search_chunks("user name")
    assert hits and all(score > 0 for _, score in hits)
    assert any("getUserName" in chunk.text for chunk, _ in hits[:2])
    assert index.search_chunks("   ") == []


def test_stats_describe_the_index(index):
    index.update()
    stats = index.stats()
    assert (stats["files"], stats["languages"][0]["language"]) == (2, "python")
    assert stats["symbols"] > 0 and stats["chunks"] > 0 and stats["index_bytes"] > 0
    assert stats["last_update"] is not None


def test_the_default_index_lives_in_the_user_cache_keyed_by_the_root(repo, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = default_index_path(repo)
    assert path.is_relative_to(tmp_path / "cache" / "kura")
    assert not path.is_relative_to(repo)
    assert default_index_path(repo / "." / "app" / "..") == path
    other = tmp_path / "other"
    other.mkdir()
    assert default_index_path(other) != path
    with Index.open(repo) as idx:
        assert idx.index_path == path and Path(path).exists()


def test_opening_a_missing_directory_says_so(tmp_path):
    with pytest.raises(NotADirectoryError):
        Index.open(tmp_path / "missing", tmp_path / "i.sqlite3")


def test_a_large_update_from_a_background_thread_uses_clean_worker_processes(repo, tmp_path):
    # The watcher and the server update from threads; forking a threaded process is unsafe, so the
    # pool then starts its workers from a fork server — whose workers must find kura even when it is
    # importable only through this process's sys.path (run from elsewhere, no PYTHONPATH).
    import os
    import subprocess
    import sys
    import textwrap

    from repo_fixtures import REPO_ROOT

    write(repo, {f"gen/mod{i}.py": f"def threaded_{i}():\n    return {i}\n" for i in range(50)})
    script = textwrap.dedent(f"""
        import sys, threading
        sys.path.insert(0, {str(REPO_ROOT)!r})
        from indexer.index import Index, _pool_context
        result = {{}}
        with Index.open({str(repo)!r}, {str(tmp_path / "threaded.sqlite3")!r}, workers=2) as idx:
            def run():
                result["method"] = _pool_context().get_start_method()
                result["report"] = idx.update()
            worker = threading.Thread(target=run)
            worker.start()
            worker.join()
            report = result["report"]
            print(result["method"], report.indexed, len(report.errors), len(idx.definitions("threaded_49")))
    """)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=240)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["forkserver", "52", "0", "1"]


def _function(name: str) -> str:
    return f"def {name}():\n" + "".join(f"    {name}_step_{i} = {i}\n" for i in range(12)) + f"    return {name}_step_0\n"


def test_an_edited_file_leaves_no_old_words_in_chunk_search(index, repo):
    (repo / "steps.py").write_text(_function("alpha") + "\n\n" + _function("beta"))
    index.update()
    (repo / "steps.py").write_text(_function("alpha") + "\n\n" + _function("gamma"))
    bump_mtime(repo / "steps.py")
    index.update()

    fts = index.store.conn.execute
    live = {row[0] for row in fts("SELECT id FROM chunks")}
    assert [row[0] for row in fts("SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH 'beta'")] == []
    assert {row[0] for row in fts("SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH 'alpha'")} <= live
    assert [c.symbol for c, _ in index.search_chunks("gamma")] == ["gamma"]
    assert [c.symbol for c, _ in index.search_chunks("alpha")] == ["alpha"]

"""IndexStore: what is written reads back, rewrites replace, deletes leave nothing behind."""

from __future__ import annotations

import sqlite3

import pytest

from indexer import kinds
from indexer.model import Chunk, Definition, FileExtract, Import, Span
from indexer.store import SCHEMA_VERSION, IndexStore, prepare
from indexer.words import match_any, match_prefix


def extract(path: str, name: str = "getUserName", doc: str = "Return the user's name.") -> FileExtract:
    span, name_span = Span(0, 0, 2, 20), Span(0, 4, 0, 4 + len(name))
    return FileExtract(
        language="python",
        definitions=[
            Definition(name, name, kinds.FUNCTION, path, span, name_span, f"def {name}(user):", doc, "python"),
            Definition("Account", "Account", kinds.CLASS, path, Span(4, 0, 6, 0), Span(4, 6, 4, 13), "class Account:", "x" * 500),
        ],
        reference_names={name, "user", "Account"},
        imports=[Import(path, "os.path", ("join", "exists"), 7)],
        chunks=[Chunk(path, 0, 2, f"def {name}(user):\n    return user.display_name\n", name, "python"),
                Chunk(path, 4, 6, "class Account:\n    ünïcode = 'ok'\n", "Account", "python")],
    )


def write(store: IndexStore, path: str, **kwargs) -> None:
    store.write([prepare(path, b"h" * 16, 10, 1, extract(path, **kwargs))])


@pytest.fixture
def store(tmp_path):
    s = IndexStore.open(tmp_path / "index.sqlite3")
    yield s
    s.close()


def fts_consistent(store: IndexStore) -> bool:
    for table in ("symbols_fts", "chunks_fts"):
        store.conn.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")
    return store.integrity_ok()


def test_a_new_index_is_wal_with_the_current_schema_version(store):
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("SELECT version FROM schema_version").fetchone()[0] == SCHEMA_VERSION
    assert store.rebuilt_reason is None


def test_what_is_written_reads_back(store):
    write(store, "pkg/users.py")
    [d] = store.definitions("getUserName")
    assert (d.path, d.qualname, d.kind, d.name_range, d.doc) == (
        "pkg/users.py", "getUserName", kinds.FUNCTION, Span(0, 4, 0, 15), "Return the user's name.")
    assert store.definitions("Account")[0].doc == "x" * 500  # long docs are stored compressed
    assert [x.name for x in store.file_symbols("pkg/users.py")] == ["getUserName", "Account"]
    assert store.imports("pkg/users.py") == [Import("pkg/users.py", "os.path", ("join", "exists"), 7)]
    assert store.posting_paths("user") == ["pkg/users.py"]


def test_chunk_search_returns_the_chunk_text_exactly_and_ranks(store):
    write(store, "a.py")
    hits = store.search_chunks(match_any("display name"), 5)
    assert hits[0][0] == Chunk("a.py", 0, 2, "def getUserName(user):\n    return user.display_name\n", "getUserName", "python")
    assert hits[0][1] > 0
    assert store.search_chunks(match_any("ünïcode"), 5)[0][0].symbol == "Account"


def test_symbol_words_find_definitions_by_prefix(store):
    write(store, "a.py")
    assert [d.name for d in store.symbols_matching(match_prefix("user_na"), 10)] == ["getUserName"]


def test_rewriting_a_file_replaces_its_rows(store):
    write(store, "a.py")
    write(store, "a.py", name="fetchUser")
    assert store.definitions("getUserName") == []
    assert [d.name for d in store.file_symbols("a.py")] == ["fetchUser", "Account"]
    assert store.search_chunks('"getusername"', 5) == []  # the whole word only the old text had
    assert store.counts()["chunks"] == 2
    assert fts_consistent(store)


def test_deleting_a_file_leaves_nothing_behind(store):
    write(store, "a.py")
    write(store, "b.py", name="other")
    store.write(deletes=["a.py"])
    counts = store.counts()
    assert (counts["files"], counts["symbols"], counts["chunks"]) == (1, 2, 2)
    assert store.posting_paths("getUserName") == []
    assert store.imports("a.py") == []
    assert [c.path for c, _ in store.search_chunks(match_any("display"), 5)] == ["b.py"]
    assert fts_consistent(store)


def test_a_failed_transaction_leaves_the_index_as_it_was(store, monkeypatch):
    write(store, "a.py")
    broken = prepare("b.py", b"h" * 16, 1, 1, extract("b.py"))
    broken.definitions = [("missingName", *broken.definitions[0][1:])]  # a name never interned -> KeyError
    with pytest.raises(KeyError):
        store.write([prepare("c.py", b"h" * 16, 1, 1, extract("c.py")), broken])
    assert sorted(store.file_states()) == ["a.py"]
    assert fts_consistent(store)


def test_file_states_carry_what_the_incremental_check_needs(store):
    store.write([prepare("a.py", b"k" * 16, 123, 456, extract("a.py"))])
    state = store.file_states()["a.py"]
    assert (state.size, state.mtime_ns, state.hash) == (123, 456, b"k" * 16)
    store.write(touches=[("a.py", 124, 789)])
    assert store.file_states()["a.py"].mtime_ns == 789


def test_reading_in_one_thread_while_another_writes(store, tmp_path):
    import threading

    write(store, "a.py")
    errors = []

    def reader():
        try:
            for _ in range(50):
                store.definitions("getUserName")
        except sqlite3.Error as exc:  # pragma: no cover - the failure being tested for
            errors.append(exc)

    t = threading.Thread(target=reader)
    t.start()
    for i in range(20):
        write(store, f"f{i}.py")
    t.join()
    assert errors == []


def test_compact_merges_the_fts_indexes_and_returns_free_pages(store):
    for i in range(30):
        write(store, f"f{i}.py", name=f"name{i}")
    store.write(deletes=[f"f{i}.py" for i in range(20)])
    store.compact()
    assert store.conn.execute("PRAGMA freelist_count").fetchone()[0] == 0
    assert fts_consistent(store)
    assert [d.path for d in store.definitions("name25")] == ["f25.py"]
    assert store.search_chunks('"name25"', 5)[0][0].path == "f25.py"

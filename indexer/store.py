"""`IndexStore`: the index in one SQLite file (WAL, schema version, FTS5), its writes and its queries.

Several processes may write at once (a git hook while `kura watch` runs): every write is one
`BEGIN IMMEDIATE` transaction per batch, behind a busy timeout and bounded retries, so writers queue
instead of failing with "database is locked". A corrupt file or one of another schema version is
moved aside and rebuilt, and `rebuilt_reason` says so.

Reference postings are one (name, file) row each, names interned; positions are never stored but
recomputed from the file on demand. Chunk texts are stored zlib-compressed, one blob per file, and
both FTS tables are contentless (only the inverted index; symbols without positions, chunks with them
because bm25() needs them), which keeps the index smaller than the source.
"""

from __future__ import annotations

import logging
import os
import random
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from indexer.model import Chunk, Definition, FileExtract, Import, Span
from indexer.words import WORDS_VERSION, text_words

log = logging.getLogger(__name__)

# Bump on any change to the tables below or to the word rules (words.WORDS_VERSION).
SCHEMA_VERSION = 1 * 1000 + WORDS_VERSION
BUSY_TIMEOUT_MS = 30_000
WRITE_RETRIES = 8
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SEP = "\x1f"  # joins imported names in one column

_SCHEMA = """
CREATE TABLE schema_version(version INTEGER NOT NULL);
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE files(
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    language TEXT NOT NULL,
    hash BLOB NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    syntax_errors INTEGER NOT NULL DEFAULT 0,
    chunk_text BLOB  -- zlib of the file's chunk texts, concatenated (chunks hold offsets)
);
CREATE TABLE names(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE definitions(
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL,
    name_id INTEGER NOT NULL,
    qualname TEXT NOT NULL,
    kind INTEGER NOT NULL,
    sl INTEGER, sc INTEGER, el INTEGER, ec INTEGER,
    nsl INTEGER, nsc INTEGER, nel INTEGER, nec INTEGER,
    signature TEXT NOT NULL,
    doc  -- TEXT, or a zlib BLOB when long (docstrings are a large part of some code bases)
);
CREATE INDEX definitions_name ON definitions(name_id);
CREATE INDEX definitions_file ON definitions(file_id);
CREATE TABLE imports(file_id INTEGER NOT NULL, line INTEGER NOT NULL, module TEXT NOT NULL, names TEXT NOT NULL);
CREATE INDEX imports_file ON imports(file_id);
CREATE TABLE chunks(
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL,
    start_line INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    symbol TEXT NOT NULL,
    text_start INTEGER NOT NULL,  -- characters into files.chunk_text
    text_length INTEGER NOT NULL
);
CREATE INDEX chunks_file ON chunks(file_id);
CREATE TABLE postings(name_id INTEGER NOT NULL, file_id INTEGER NOT NULL, PRIMARY KEY(name_id, file_id)) WITHOUT ROWID;
CREATE INDEX postings_file ON postings(file_id);
CREATE VIRTUAL TABLE symbols_fts USING fts5(words, content='', detail=none, tokenize='unicode61 remove_diacritics 0');
CREATE VIRTUAL TABLE chunks_fts USING fts5(words, content='', tokenize='unicode61 remove_diacritics 0');
"""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class FileState:
    id: int
    size: int
    mtime_ns: int
    hash: bytes


@dataclass(slots=True)
class FileWrite:
    """One parsed file encoded for storage by `prepare` — in the worker that parsed it, so the
    compression and word splitting run in parallel and less crosses the process boundary."""

    path: str
    hash: bytes
    size: int
    mtime_ns: int
    language: str
    syntax_errors: int
    definitions: list[tuple]  # (name, qualname, kind, 8 span ints, signature, encoded doc): cheap to pickle
    symbol_words: list[str]  # each definition's name words for symbols_fts
    names: list[str]  # postings: identifiers used plus names defined
    imports: list[Import]
    chunks: list[tuple[int, int, str, int, int]]  # start_line, end_line, symbol, text_start, text_length
    chunk_text: bytes
    chunk_words: list[str]


_DOC_COMPRESS_CHARS = 160
# zlib level 3 would halve compression time (~2% of a full index's CPU) but compresses source about
# 10% less tightly; a Go repository's index (hugo) is already past 1.5x its source, so size wins.
_ZLIB_LEVEL = 6


def _encode_doc(doc: str) -> str | bytes:
    return zlib.compress(doc.encode("utf-8"), _ZLIB_LEVEL) if len(doc) > _DOC_COMPRESS_CHARS else doc


def _decode_doc(doc: str | bytes | None) -> str:
    if isinstance(doc, bytes):
        return zlib.decompress(doc).decode("utf-8")
    return doc or ""


def prepare(path: str, digest: bytes, size: int, mtime_ns: int, extract: FileExtract) -> FileWrite:
    """Encode one file's extract for `IndexStore.write`."""
    chunks, texts, offset = [], [], 0
    for c in extract.chunks:
        chunks.append((c.start_line, c.end_line, c.symbol, offset, len(c.text)))
        texts.append(c.text)
        offset += len(c.text)
    return FileWrite(
        path=path, hash=digest, size=size, mtime_ns=mtime_ns, language=extract.language,
        syntax_errors=extract.syntax_errors,
        definitions=[(d.name, d.qualname, d.kind, d.range.start_line, d.range.start_col, d.range.end_line,
                      d.range.end_col, d.name_range.start_line, d.name_range.start_col, d.name_range.end_line,
                      d.name_range.end_col, d.signature, _encode_doc(d.doc)) for d in extract.definitions],
        symbol_words=[text_words(d.name) for d in extract.definitions],
        names=list(set(extract.reference_names) | {d.name for d in extract.definitions}),
        imports=extract.imports,
        chunks=chunks,
        chunk_text=zlib.compress("".join(texts).encode("utf-8", "surrogatepass"), _ZLIB_LEVEL),
        chunk_words=[text_words(t, unique=True) for t in texts],
    )


def _chunk_texts(blob: bytes | None, spans: list[tuple[int, int]]) -> list[str]:
    text = zlib.decompress(blob).decode("utf-8", "surrogatepass") if blob else ""
    return [text[start:start + length] for start, length in spans]


@dataclass(frozen=True, slots=True)
class SymbolRow:
    definition: Definition
    references: int  # files whose postings hold the name
    namesakes: int  # definitions of the same name, this one included


def _is_lock_error(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _check_file(path: Path) -> str | None:
    """Why the existing index file cannot be used as is, or None when it can."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        return f"the index file could not be read ({exc.strerror})"
    if head and head != _SQLITE_MAGIC:
        return "the index file was corrupt (not a SQLite database)"
    if not head:
        return None
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not tables:
                return None
            if "schema_version" not in tables:
                return "the index file had no schema version (made by an unknown tool)"
            row = conn.execute("SELECT version FROM schema_version").fetchone()
            version = row[0] if row else None
            if version != SCHEMA_VERSION:
                age = "an older" if (version or 0) < SCHEMA_VERSION else "a newer"
                return f"the index was made by {age} kura (schema {version}, this kura uses {SCHEMA_VERSION})"
            check = conn.execute("PRAGMA quick_check(1)").fetchone()
            if not check or check[0] != "ok":
                return f"the index file was corrupt ({check[0] if check else 'no integrity result'})"
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return f"the index file was corrupt ({exc})"
    return None


def _move_aside(path: Path, tag: str) -> Path:
    aside = path.with_name(f"{path.name}.{tag}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(path) + suffix)
        try:
            os.replace(src, Path(str(aside) + suffix))
        except FileNotFoundError:
            pass  # another process moved it first, or there was no WAL
    return aside


@contextmanager
def _opening_lock(path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # Windows: SQLite's own locking still keeps the data safe
        yield
        return
    with open(str(path) + ".lock", "a+b") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


class IndexStore:
    """The SQLite index. One connection per thread (WAL lets readers run while a writer writes)."""

    def __init__(self, path: Path, rebuilt_reason: str | None = None):
        self.path = Path(path)
        self.rebuilt_reason = rebuilt_reason
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._name_ids: dict[str, int] = {}  # names are never deleted, so committed ids stay valid

    # --- opening -------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path) -> IndexStore:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Checked, moved aside and created under a lock: a second process opening the same old file
        # must not move aside the fresh index the first one just made.
        with _opening_lock(path):
            reason = _check_file(path) if path.exists() else None
            if reason:
                tag = "corrupt" if "corrupt" in reason or "read" in reason else "old-schema"
                aside = _move_aside(path, tag)
                reason = f"{reason}; moved to {aside.name} and rebuilt"
                log.warning("%s: %s", path, reason)
            store = cls(path, reason)
            store._init_schema()
        return store

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at checkpoints, never corrupt
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA journal_size_limit=4194304")  # a checkpointed WAL shrinks back to 4 MiB
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _init_schema(self) -> None:
        conn = self.conn
        # Both are persistent in the file and must come before the first table: auto_vacuum so that
        # `compact` can hand freed pages back, WAL so that readers never wait for a writer.
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        self._retry(lambda: conn.execute("PRAGMA journal_mode=WAL"))

        def create() -> None:
            with self._transaction() as c:
                exists = c.execute("SELECT 1 FROM sqlite_master WHERE name='schema_version'").fetchone()
                if not exists:
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            c.execute(statement)
                    c.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))

        self._retry(create)

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._connections.clear()
        self._local = threading.local()

    # --- writing -------------------------------------------------------------------------------

    def _retry(self, fn: Callable[[], T]) -> T:
        """Run `fn` (a whole transaction), retrying when another writer held the lock past the timeout."""
        for attempt in range(WRITE_RETRIES):
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not _is_lock_error(exc) or attempt == WRITE_RETRIES - 1:
                    raise
                delay = min(2.0, 0.05 * 2**attempt) * (0.5 + random.random())
                log.info("index busy (%s); retrying in %.2fs", exc, delay)
                time.sleep(delay)
        raise AssertionError("unreachable")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self.conn
        # IMMEDIATE takes the write lock up front: two writers queue on the busy timeout instead of
        # deadlocking on a read-to-write upgrade.
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def write(self, files: Iterable[FileWrite] = (), deletes: Iterable[str] = (),
              touches: Iterable[tuple[str, int, int]] = (), meta: dict[str, str] | None = None) -> None:
        """Store parsed files, drop deleted paths and refresh (size, mtime) of files whose content did
        not change, all in one transaction."""
        files = list({fw.path: fw for fw in files}.values())  # a path twice: its last parse wins
        deletes, touches = list(deletes), list(touches)
        new_names: dict[str, int] = {}

        def run() -> None:
            new_names.clear()
            with self._transaction() as conn:
                for path in deletes:
                    self._delete_file(conn, path)
                conn.executemany("UPDATE files SET size=?, mtime_ns=? WHERE path=?",
                                 [(size, mtime, path) for path, size, mtime in touches])
                if files:
                    self._write_files(conn, files, new_names)
                for key, value in (meta or {}).items():
                    conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

        self._retry(run)
        self._name_ids.update(new_names)  # only once committed: a rolled-back id would be wrong

    def _intern(self, conn: sqlite3.Connection, names: set[str], new_names: dict[str, int]) -> dict[str, int]:
        ids = {}
        missing = []
        for name in names:
            known = self._name_ids.get(name) or new_names.get(name)
            if known:
                ids[name] = known
            else:
                missing.append(name)
        if missing:
            conn.executemany("INSERT OR IGNORE INTO names(name) VALUES (?)", [(n,) for n in missing])
            for i in range(0, len(missing), 500):
                part = missing[i:i + 500]
                rows = conn.execute(f"SELECT name, id FROM names WHERE name IN ({','.join('?' * len(part))})", part)
                for name, id_ in rows:
                    ids[name] = id_
                    new_names[name] = id_
        return ids

    def _delete_rows(self, conn: sqlite3.Connection, file_id: int, known_words: dict[str, str] | None = None) -> None:
        # Contentless FTS rows are deleted by giving back exactly the words they were indexed with;
        # those are a pure function of what the other tables keep (a symbol's name, a chunk's text).
        conn.executemany(
            "INSERT INTO symbols_fts(symbols_fts, rowid, words) VALUES ('delete', ?, ?)",
            [(def_id, text_words(name)) for def_id, name in conn.execute(
                "SELECT d.id, n.name FROM definitions d JOIN names n ON n.id = d.name_id WHERE d.file_id=?", (file_id,))],
        )
        conn.execute("DELETE FROM definitions WHERE file_id=?", (file_id,))
        conn.execute("DELETE FROM imports WHERE file_id=?", (file_id,))
        rows = conn.execute("SELECT id, text_start, text_length FROM chunks WHERE file_id=? ORDER BY id", (file_id,)).fetchall()
        if rows:
            blob = conn.execute("SELECT chunk_text FROM files WHERE id=?", (file_id,)).fetchone()[0]
            texts = _chunk_texts(blob, [(start, length) for _, start, length in rows])
            known_words = known_words or {}
            conn.executemany("INSERT INTO chunks_fts(chunks_fts, rowid, words) VALUES ('delete', ?, ?)",
                             [(row[0], known_words.get(t) or text_words(t, unique=True)) for row, t in zip(rows, texts)])
        conn.execute("DELETE FROM chunks WHERE file_id=?", (file_id,))
        conn.execute("DELETE FROM postings WHERE file_id=?", (file_id,))

    def _delete_file(self, conn: sqlite3.Connection, path: str) -> None:
        row = conn.execute("SELECT id FROM files WHERE path=?", (path,)).fetchone()
        if row:
            self._delete_rows(conn, row[0])
            conn.execute("DELETE FROM files WHERE id=?", (row[0],))

    def _write_files(self, conn: sqlite3.Connection, files: list[FileWrite], new_names: dict[str, int]) -> None:
        # Every old row goes first; then each table gets one executemany for the whole batch, its rows
        # in key order, so that SQLite appends to B-tree pages it has just touched.
        file_ids = [self._file_row(conn, fw) for fw in files]
        ids = self._intern(conn, {name for fw in files for name in fw.names}, new_names)
        # We hold the write lock, so ids can be handed out here and rows inserted in bulk.
        next_def = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM definitions").fetchone()[0]
        next_chunk = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM chunks").fetchone()[0]
        def_rows, symbol_rows, import_rows, chunk_rows, chunk_word_rows, posting_rows = [], [], [], [], [], []
        for fw, file_id in zip(files, file_ids):
            for i, (name, *rest) in enumerate(fw.definitions, next_def):
                def_rows.append((i, file_id, ids[name], *rest))
            symbol_rows += enumerate(fw.symbol_words, next_def)
            next_def += len(fw.definitions)
            import_rows += [(file_id, i.line, i.module, _SEP.join(i.names)) for i in fw.imports]
            chunk_rows += [(i, file_id, *c) for i, c in enumerate(fw.chunks, next_chunk)]
            chunk_word_rows += enumerate(fw.chunk_words, next_chunk)
            next_chunk += len(fw.chunks)
            posting_rows += [(ids[n], file_id) for n in fw.names]
        posting_rows.sort()
        conn.executemany("INSERT INTO definitions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", def_rows)
        conn.executemany("INSERT INTO symbols_fts(rowid, words) VALUES (?, ?)", symbol_rows)
        conn.executemany("INSERT INTO imports(file_id, line, module, names) VALUES (?, ?, ?, ?)", import_rows)
        conn.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?)", chunk_rows)
        conn.executemany("INSERT INTO chunks_fts(rowid, words) VALUES (?, ?)", chunk_word_rows)
        conn.executemany("INSERT INTO postings(name_id, file_id) VALUES (?, ?)", posting_rows)

    def _file_row(self, conn: sqlite3.Connection, fw: FileWrite) -> int:
        """The file's id, its row inserted or updated and its old definitions, chunks and postings gone."""
        row = conn.execute("SELECT id FROM files WHERE path=?", (fw.path,)).fetchone()
        values = (fw.language, fw.hash, fw.size, fw.mtime_ns, fw.syntax_errors, fw.chunk_text)
        if row is None:
            return conn.execute("INSERT INTO files(language, hash, size, mtime_ns, syntax_errors, chunk_text, path)"
                                " VALUES (?, ?, ?, ?, ?, ?, ?)", (*values, fw.path)).lastrowid
        file_id = row[0]
        # An edit leaves most chunks as they were: their words are the new file's, not recomputed.
        texts = _chunk_texts(fw.chunk_text, [(start, length) for *_, start, length in fw.chunks])
        self._delete_rows(conn, file_id, dict(zip(texts, fw.chunk_words)))
        conn.execute("UPDATE files SET language=?, hash=?, size=?, mtime_ns=?, syntax_errors=?, chunk_text=?"
                     " WHERE id=?", (*values, file_id))
        return file_id

    # --- reading -------------------------------------------------------------------------------

    def file_states(self, paths: Iterable[str] | None = None) -> dict[str, FileState]:
        """The stored state of every file, or of just `paths` (those the index holds)."""
        if paths is None:
            return {path: FileState(id_, size, mtime, h) for id_, path, size, mtime, h in
                    self.conn.execute("SELECT id, path, size, mtime_ns, hash FROM files")}
        paths = list(paths)
        states = {}
        for i in range(0, len(paths), 500):
            part = paths[i:i + 500]
            for id_, path, size, mtime, h in self.conn.execute(
                    f"SELECT id, path, size, mtime_ns, hash FROM files WHERE path IN ({','.join('?' * len(part))})", part):
                states[path] = FileState(id_, size, mtime, h)
        return states

    def paths(self, prefix: str = "") -> list[str]:
        # substr() rather than LIKE: a prefix may hold % or _.
        rows = self.conn.execute("SELECT path FROM files WHERE substr(path, 1, ?) = ? ORDER BY path", (len(prefix), prefix))
        return [r[0] for r in rows]

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    _DEF_COLUMNS = ("d.id, n.name, d.qualname, d.kind, f.path, d.sl, d.sc, d.el, d.ec, d.nsl, d.nsc, d.nel, d.nec,"
                    " d.signature, d.doc, f.language")
    _DEF_FROM = "definitions d JOIN names n ON n.id = d.name_id JOIN files f ON f.id = d.file_id"

    @staticmethod
    def _definition(row: tuple) -> Definition:
        _, name, qualname, kind, path, sl, sc, el, ec, nsl, nsc, nel, nec, signature, doc, language = row[:16]
        return Definition(name, qualname, kind, path, Span(sl, sc, el, ec), Span(nsl, nsc, nel, nec), signature,
                          _decode_doc(doc), language)

    def definitions(self, name: str) -> list[Definition]:
        rows = self.conn.execute(
            f"SELECT {self._DEF_COLUMNS} FROM {self._DEF_FROM} WHERE n.name=? ORDER BY f.path, d.sl", (name,))
        return [self._definition(r) for r in rows]

    def file_symbols(self, path: str) -> list[Definition]:
        rows = self.conn.execute(
            f"SELECT {self._DEF_COLUMNS} FROM {self._DEF_FROM} WHERE f.path=? ORDER BY d.sl, d.sc", (path,))
        return [self._definition(r) for r in rows]

    def symbols_matching(self, fts_query: str, limit: int) -> list[Definition]:
        """Definitions whose name words match an FTS5 query (candidates; the caller ranks them)."""
        rows = self.conn.execute(
            f"SELECT {self._DEF_COLUMNS} FROM {self._DEF_FROM}"
            " WHERE d.id IN (SELECT rowid FROM symbols_fts WHERE symbols_fts MATCH ? LIMIT ?)", (fts_query, limit))
        return [self._definition(r) for r in rows]

    def symbols_like(self, pattern: str, limit: int) -> list[Definition]:
        """Definitions whose name matches a LIKE pattern (ASCII case-insensitive), for subsequence search."""
        rows = self.conn.execute(
            f"SELECT {self._DEF_COLUMNS} FROM {self._DEF_FROM} WHERE n.name LIKE ? ESCAPE '\\' LIMIT ?",
            (pattern, limit))
        return [self._definition(r) for r in rows]

    def top_symbols(self, limit: int, kinds_: Iterable[int]) -> list[SymbolRow]:
        """Top-level definitions of these kinds, most referenced first (files whose postings hold the
        name), with how many definitions share the name: candidates for an answer to ''."""
        kinds_ = list(kinds_)
        rows = self.conn.execute(
            f"SELECT {self._DEF_COLUMNS},"
            " (SELECT count(*) FROM postings p WHERE p.name_id = d.name_id) AS refs,"
            " (SELECT count(*) FROM definitions o WHERE o.name_id = d.name_id) AS namesakes"
            f" FROM {self._DEF_FROM} WHERE d.kind IN ({','.join('?' * len(kinds_))}) AND instr(d.qualname, '.') = 0"
            " ORDER BY refs DESC, n.name LIMIT ?", (*kinds_, limit))
        return [SymbolRow(self._definition(r), r[16], r[17]) for r in rows]

    def reference_counts(self, names: Iterable[str]) -> dict[str, int]:
        names = list(set(names))
        out: dict[str, int] = {}
        for i in range(0, len(names), 500):
            part = names[i:i + 500]
            for name, count in self.conn.execute(
                f"SELECT n.name, count(*) FROM names n JOIN postings p ON p.name_id = n.id"
                f" WHERE n.name IN ({','.join('?' * len(part))}) GROUP BY n.name", part):
                out[name] = count
        return out

    def posting_paths(self, name: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT f.path FROM names n JOIN postings p ON p.name_id = n.id JOIN files f ON f.id = p.file_id"
            " WHERE n.name=? ORDER BY f.path", (name,))
        return [r[0] for r in rows]

    def search_chunks(self, fts_query: str, limit: int) -> list[tuple[Chunk, float]]:
        rows = self.conn.execute(
            "SELECT c.file_id, c.start_line, c.end_line, c.symbol, c.text_start, c.text_length, m.score FROM"
            " (SELECT rowid, bm25(chunks_fts) AS score FROM chunks_fts WHERE chunks_fts MATCH ?"
            "  ORDER BY score LIMIT ?) m JOIN chunks c ON c.id = m.rowid ORDER BY m.score",
            (fts_query, limit)).fetchall()
        files: dict[int, tuple[str, str, str]] = {}
        for file_id in {r[0] for r in rows}:
            path, language, blob = self.conn.execute(
                "SELECT path, language, chunk_text FROM files WHERE id=?", (file_id,)).fetchone()
            files[file_id] = (path, language, zlib.decompress(blob).decode("utf-8", "surrogatepass") if blob else "")
        out = []
        for file_id, sl, el, symbol, start, length, score in rows:
            path, language, text = files[file_id]
            # bm25() is lower-is-better and negative; callers get higher-is-better.
            out.append((Chunk(path, sl, el, text[start:start + length], symbol, language), -score))
        return out

    def imports(self, path: str) -> list[Import]:
        rows = self.conn.execute(
            "SELECT i.module, i.names, i.line FROM imports i JOIN files f ON f.id = i.file_id"
            " WHERE f.path=? ORDER BY i.line, i.rowid", (path,))
        return [Import(path, module, tuple(n for n in names.split(_SEP) if n), line) for module, names, line in rows]

    def counts(self) -> dict[str, int]:
        c = self.conn
        return {
            "files": c.execute("SELECT count(*) FROM files").fetchone()[0],
            "symbols": c.execute("SELECT count(*) FROM definitions").fetchone()[0],
            "chunks": c.execute("SELECT count(*) FROM chunks").fetchone()[0],
            "names": c.execute("SELECT count(*) FROM names").fetchone()[0],
            "postings": c.execute("SELECT count(*) FROM postings").fetchone()[0],
            "files_with_syntax_errors": c.execute("SELECT count(*) FROM files WHERE syntax_errors > 0").fetchone()[0],
        }

    def languages(self) -> list[tuple[str, int, int]]:
        """(language, files, symbols) for each language, most files first."""
        return self.conn.execute(
            "SELECT f.language, count(DISTINCT f.id), count(d.id) FROM files f LEFT JOIN definitions d ON d.file_id = f.id"
            " GROUP BY f.language ORDER BY 2 DESC").fetchall()

    def size_bytes(self) -> int:
        total = 0
        for suffix in ("", "-wal"):
            try:
                total += os.path.getsize(str(self.path) + suffix)
            except OSError:
                pass
        return total

    def integrity_ok(self) -> bool:
        row = self.conn.execute("PRAGMA integrity_check(1)").fetchone()
        return bool(row) and row[0] == "ok"

    def compact(self) -> None:
        """After a large update: merge each FTS index into one segment (smaller, faster to query) and
        return the pages that freed to the file system."""
        def run() -> None:
            with self._transaction() as conn:
                for table in ("chunks_fts", "symbols_fts"):
                    conn.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")

        self._retry(run)
        # executescript steps the pragma to completion; execute() would free a single page.
        self._retry(lambda: self.conn.executescript("PRAGMA incremental_vacuum;"))

    def checkpoint(self) -> None:
        """Fold the WAL back into the database file (cheap; keeps the -wal file from growing)."""
        try:
            self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.OperationalError:
            pass


"""The local usage log: what kura suggested and what became of it. SQLite on this machine; nothing
here is ever sent anywhere.

Two tables. `suggestions` has one row per inline suggestion shown, updated as its fate arrives
(accepted fully or partly, dismissed, typed over, and later how many accepted characters survived
in the document). `events` has one row per explanation, fix and escalation. By default no code
text is stored: the `text` columns stay NULL unless the policy enables it for a pilot.

Writes go through one background thread, so a slow disk or a log locked by another kura process
never blocks the editor; a log that cannot be opened disables logging with a reason, never crashes.
"""

from __future__ import annotations

import difflib
import getpass
import logging
import queue
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
USAGE_FILE = "usage.sqlite"
OUTCOMES = ("shown", "accepted", "partial", "dismissed", "typed_over")
PRUNE_EVERY = 500  # writes between retention/size checks
WRITE_BATCH = 500  # queued writes committed together
MIN_RUN = 3  # the shortest run of characters that counts as kept

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS suggestions (
    id TEXT PRIMARY KEY,            -- the suggestion id the editor echoes back
    ts REAL NOT NULL,               -- shown at, Unix seconds
    user TEXT NOT NULL,
    repo TEXT,                      -- repository folder name
    language TEXT,
    model TEXT, backend TEXT,
    mode TEXT,                      -- line | block (the shape kura chose)
    from_cache INTEGER NOT NULL DEFAULT 0,
    latency_ms REAL,
    shown_chars INTEGER NOT NULL,
    shown_lines INTEGER NOT NULL,
    outcome TEXT NOT NULL DEFAULT 'shown',
    reason TEXT,                    -- why dismissed: hidden, typed_over, replaced, closed
    accepted_chars INTEGER,
    kept_chars INTEGER,             -- of the accepted characters, how many were still there later
    resolved_ts REAL,
    text TEXT                       -- the suggestion, only when the policy allows storing code
);
CREATE INDEX IF NOT EXISTS suggestions_ts ON suggestions(ts);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    user TEXT NOT NULL,
    repo TEXT,
    kind TEXT NOT NULL,             -- explain | fix_offered | fix_applied | escalation
    task TEXT,                      -- explain | fix (what the event served)
    language TEXT,
    model TEXT, backend TEXT,
    outcome TEXT,                   -- done | cancelled | failed | invalid | sent | blocked | ...
    reason TEXT,
    latency_ms REAL,
    first_chunk_ms REAL,
    chars INTEGER,
    text TEXT
);
CREATE INDEX IF NOT EXISTS events_ts ON events(ts);
"""


class UsageLogError(Exception):
    """A usage log that cannot be used: corrupt, not a kura log, or from a newer kura."""


def default_usage_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("kura", appauthor=False)) / USAGE_FILE


def current_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry (containers): still one user
        return "unknown"


def connect(path: Path, *, create: bool) -> sqlite3.Connection:
    """Open a usage log, checking it is one this kura understands; raises UsageLogError."""
    if not create and not path.is_file():
        raise UsageLogError(f"{path}: no such usage log")
    try:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=5, check_same_thread=False, isolation_level=None)
        db.row_factory = sqlite3.Row
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except (sqlite3.DatabaseError, OSError) as exc:
        raise UsageLogError(f"{path}: not a readable usage log ({exc})") from exc
    if "meta" not in tables:
        if tables or not create:
            db.close()
            raise UsageLogError(f"{path}: not a kura usage log")
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(SCHEMA)
        db.executemany("INSERT OR IGNORE INTO meta VALUES (?, ?)",
                       [("schema_version", str(SCHEMA_VERSION)), ("log_id", uuid.uuid4().hex),
                        ("created", str(time.time()))])
    version = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    found = int(version[0]) if version and str(version[0]).isdigit() else None
    if found != SCHEMA_VERSION:
        db.close()
        newer = found is not None and found > SCHEMA_VERSION
        raise UsageLogError(
            f"{path}: usage log schema {found} is from a newer kura (this one reads {SCHEMA_VERSION}); upgrade kura"
            if newer else f"{path}: usage log schema {found!r} is not one this kura understands ({SCHEMA_VERSION})")
    return db


@dataclass(frozen=True)
class UsageConfig:
    path: Path
    retention_days: int = 180
    max_bytes: int = 64 << 20
    store_code: bool = False  # the policy's [usage] store_code; never for confidential paths
    user: str = ""
    repo: str | None = None


class UsageLog:
    """Appends to the log from any thread; the writes happen on one background thread."""

    def __init__(self, config: UsageConfig, *, clock=time.time) -> None:
        self.config = config
        self.user = config.user or current_user()
        self.store_code = config.store_code  # the server follows the policy as it changes
        self.clock = clock
        self._db = connect(config.path, create=True)  # raises UsageLogError: the caller disables logging
        self._db.execute("PRAGMA busy_timeout=5000")
        # WAL with NORMAL sync: a crash may lose the last moments of usage rows, never the database.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._queue: queue.Queue[tuple[str, Sequence[Any]] | None] = queue.Queue(maxsize=10_000)
        self._writes = 0
        self.dropped = 0
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._write_loop, name="kura-usage", daemon=True)
        self._thread.start()
        self._put("PRUNE", ())

    # --- suggestions ---------------------------------------------------------------------------

    def suggestion_shown(self, suggestion_id: str, text: str, *, language: str | None, model: str | None,
                         backend: str | None, latency_ms: float | None, mode: str | None = None,
                         from_cache: bool = False, confidential: bool = False) -> None:
        self._put(
            "INSERT OR IGNORE INTO suggestions (id, ts, user, repo, language, model, backend, mode, from_cache,"
            " latency_ms, shown_chars, shown_lines, text) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (suggestion_id, self.clock(), self.user, self.config.repo, language or None, model, backend, mode,
             int(from_cache), latency_ms, len(text), max(1, len(text.splitlines())), self._code(text, confidential)))

    def suggestion_accepted(self, suggestion_id: str, accepted_chars: int | None = None) -> None:
        """All of it (None), or a part: partial accepts add up until the whole is taken."""
        if accepted_chars is None:
            self._put("UPDATE suggestions SET outcome='accepted', accepted_chars=shown_chars, resolved_ts=?"
                      " WHERE id=?", (self.clock(), suggestion_id))
        else:
            self._put("UPDATE suggestions SET accepted_chars=min(shown_chars, coalesce(accepted_chars, 0) + ?),"
                      " outcome=CASE WHEN outcome='accepted' THEN outcome ELSE 'partial' END, resolved_ts=?"
                      " WHERE id=?", (max(0, accepted_chars), self.clock(), suggestion_id))

    def suggestion_dismissed(self, suggestion_id: str, reason: str = "hidden") -> None:
        """Only a suggestion nothing was taken from counts as dismissed (a partial one stays partial)."""
        outcome = "typed_over" if reason == "typed_over" else "dismissed"
        self._put("UPDATE suggestions SET outcome=?, reason=?, resolved_ts=? WHERE id=? AND outcome='shown'",
                  (outcome, reason, self.clock(), suggestion_id))

    def suggestion_kept(self, suggestion_id: str, kept_chars: int) -> None:
        self._put("UPDATE suggestions SET kept_chars=min(coalesce(accepted_chars, shown_chars), ?) WHERE id=?",
                  (max(0, kept_chars), suggestion_id))

    # --- explanations, fixes, escalations ------------------------------------------------------

    def event(self, kind: str, *, task: str | None = None, language: str | None = None, model: str | None = None,
              backend: str | None = None, outcome: str | None = None, reason: str | None = None,
              latency_ms: float | None = None, first_chunk_ms: float | None = None, chars: int | None = None,
              text: str | None = None, confidential: bool = False) -> None:
        self._put(
            "INSERT INTO events (ts, user, repo, kind, task, language, model, backend, outcome, reason, latency_ms,"
            " first_chunk_ms, chars, text) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (self.clock(), self.user, self.config.repo, kind, task, language or None, model, backend, outcome,
             reason, latency_ms, first_chunk_ms, chars, self._code(text, confidential) if text else None))

    # --- plumbing ------------------------------------------------------------------------------

    def _code(self, text: str, confidential: bool) -> str | None:
        return text if self.store_code and not confidential else None

    def _put(self, sql: str, params: Sequence[Any]) -> None:
        try:
            self._queue.put_nowait((sql, params))
        except queue.Full:  # the disk is stuck: drop usage rows rather than hold the editor up
            self.dropped += 1
            self.last_error = f"usage log queue full; {self.dropped} rows dropped"

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything queued so far is written (tests, shutdown, reports)."""
        done = threading.Event()
        try:
            self._queue.put(("FLUSH", (done,)), timeout=timeout)  # the marker itself must not be dropped
        except queue.Full:
            return
        done.wait(timeout)

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=5)

    def _write_loop(self) -> None:
        """Drain the queue in batches, one transaction each: one commit per burst, not per row."""
        running = True
        while running:
            batch = [self._queue.get()]
            while len(batch) < WRITE_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if None in batch:
                running = False
                batch = batch[: batch.index(None)]
            rows = [(sql, params) for sql, params in batch if sql not in ("FLUSH", "PRUNE")]
            self._commit(rows)
            if any(sql == "PRUNE" for sql, _ in batch) or self._writes // PRUNE_EVERY != (self._writes - len(rows)) // PRUNE_EVERY:
                self._guarded(self._prune)
            for sql, params in batch:
                if sql == "FLUSH":
                    params[0].set()
        self._db.close()

    def _commit(self, rows: list[tuple[str, Sequence[Any]]], attempts: int = 3) -> None:
        """Write rows in one transaction; a log locked by another kura is retried, not given up on."""
        for attempt in range(attempts):
            try:
                self._db.execute("BEGIN IMMEDIATE")
                for sql, params in rows:
                    self._db.execute(sql, params)
                self._db.execute("COMMIT")
                self._writes += len(rows)
                return
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                locked = isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)
                if not locked or attempt == attempts - 1:
                    self.last_error = f"usage log: {exc}"
                    log.warning("usage log write failed (%d rows dropped): %s", len(rows), exc)
                    return

    def _guarded(self, fn) -> None:
        try:
            fn()
        except sqlite3.Error as exc:
            self.last_error = f"usage log: {exc}"
            log.warning("usage log maintenance failed: %s", exc)

    def _prune(self) -> None:
        prune(self._db, retention_days=self.config.retention_days, max_bytes=self.config.max_bytes, now=self.clock())


def prune(db: sqlite3.Connection, *, retention_days: int, max_bytes: int, now: float) -> int:
    """Drop rows older than the retention, then the oldest tenth until the file fits its size limit."""
    removed = 0
    if retention_days > 0:
        cutoff = now - retention_days * 86400
        for table in ("suggestions", "events"):
            removed += db.execute(f"DELETE FROM {table} WHERE ts < ?", (cutoff,)).rowcount
    for _ in range(20):
        pages = db.execute("PRAGMA page_count").fetchone()[0] - db.execute("PRAGMA freelist_count").fetchone()[0]
        if max_bytes <= 0 or pages * db.execute("PRAGMA page_size").fetchone()[0] <= max_bytes:
            break
        dropped = 0
        for table in ("suggestions", "events"):
            count = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            dropped += db.execute(f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} ORDER BY ts"
                                  f" LIMIT ?)", (max(1, count // 10),)).rowcount
        removed += dropped
        if not dropped:
            break
        db.execute("VACUUM")
    return removed


def kept_characters(accepted: str, text_now: str, anchor_line: int, slack_lines: int = 3) -> int:
    """How many characters of `accepted` are still in the document near where it was inserted.

    Compares the accepted text with the lines around its anchor (a few lines of slack for edits
    above it) and counts the characters of matching blocks: an accepted line later retyped counts
    as not kept, one left alone or merely indented as kept.
    """
    if not accepted:
        return 0
    lines = text_now.splitlines(keepends=True)
    start = max(0, anchor_line - slack_lines)
    end = anchor_line + accepted.count("\n") + 1 + slack_lines
    window = "".join(lines[start:end])
    matcher = difflib.SequenceMatcher(None, accepted, window, autojunk=False)
    # Runs shorter than MIN_RUN are letters shared by chance with whatever replaced the text.
    shortest = min(MIN_RUN, len(accepted))
    return sum(block.size for block in matcher.get_matching_blocks() if block.size >= shortest)


# --- reading logs: reports and export -----------------------------------------------------------


@dataclass
class UsageData:
    suggestions: list[dict[str, Any]]
    events: list[dict[str, Any]]
    sources: list[str]


def read_logs(paths: Iterable[Path], since: float | None = None) -> UsageData:
    """Rows from one or more logs (several developers' logs merge); the same log twice counts once."""
    data = UsageData([], [], [])
    seen_logs: set[str] = set()
    for path in paths:
        db = connect(Path(path), create=False)
        try:
            log_id = db.execute("SELECT value FROM meta WHERE key='log_id'").fetchone()[0]
            if log_id in seen_logs:
                continue
            seen_logs.add(log_id)
            data.sources.append(str(path))
            where, args = ("WHERE ts >= ?", (since,)) if since is not None else ("", ())
            data.suggestions += [dict(r) for r in db.execute(f"SELECT * FROM suggestions {where} ORDER BY ts", args)]
            data.events += [dict(r) for r in db.execute(f"SELECT * FROM events {where} ORDER BY ts", args)]
        except sqlite3.DatabaseError as exc:
            raise UsageLogError(f"{path}: cannot read the usage log ({exc})") from exc
        finally:
            db.close()
    return data

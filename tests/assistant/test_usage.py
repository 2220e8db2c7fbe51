"""The usage log on a real SQLite file: the fate of suggestions, events, retention, size limits,
bad files, merging logs, and that no code is stored unless allowed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from assistant.usage.log import (
    SCHEMA_VERSION, UsageConfig, UsageLog, UsageLogError, connect, kept_characters, read_logs,
)

DAY = 86400.0


class Clock:
    def __init__(self, now: float = 1_790_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def open_log(path: Path, clock: Clock | None = None, **config) -> UsageLog:
    return UsageLog(UsageConfig(path, **config), clock=clock or Clock())


def show(usage: UsageLog, sid: str, text: str = "return total\n", **fields) -> None:
    usage.suggestion_shown(sid, text, language=fields.pop("language", "python"), model="tiny", backend="llama_cpp",
                           latency_ms=fields.pop("latency_ms", 120.0), **fields)


def rows(path: Path, table: str = "suggestions") -> dict:
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        key = "id"
        return {r[key]: dict(r) for r in db.execute(f"SELECT * FROM {table}")}
    finally:
        db.close()


def test_a_suggestion_fate_is_recorded_accept_partial_dismiss_typed_over(tmp_path):
    path = tmp_path / "usage.sqlite"
    usage = open_log(path, user="aiko", repo="shop")
    for sid in "abcde":
        show(usage, sid, "x = compute(1)\n")
    usage.suggestion_accepted("a")
    usage.suggestion_accepted("b", 4)
    usage.suggestion_accepted("b", 3)
    usage.suggestion_dismissed("b", "hidden")  # something was taken: stays partial
    usage.suggestion_dismissed("c", "hidden")
    usage.suggestion_dismissed("d", "typed_over")
    usage.suggestion_accepted("a", 2)  # a late partial report does not undo a full accept
    usage.suggestion_kept("a", 999)  # clipped to what was accepted
    usage.close()
    got = rows(path)
    assert got["a"]["outcome"] == "accepted" and got["a"]["accepted_chars"] == 15 and got["a"]["kept_chars"] == 15
    assert got["b"]["outcome"] == "partial" and got["b"]["accepted_chars"] == 7 and got["b"]["reason"] is None
    assert got["c"]["outcome"] == "dismissed" and got["c"]["reason"] == "hidden"
    assert got["d"]["outcome"] == "typed_over"
    assert got["e"]["outcome"] == "shown" and got["e"]["resolved_ts"] is None
    assert {r["user"] for r in got.values()} == {"aiko"} and got["a"]["repo"] == "shop"
    assert got["a"]["shown_chars"] == 15 and got["a"]["shown_lines"] == 1


def test_no_code_text_is_stored_unless_allowed_and_never_for_confidential_paths(tmp_path):
    path = tmp_path / "usage.sqlite"
    usage = open_log(path)
    show(usage, "off", "secret_call()")
    usage.store_code = True
    show(usage, "on", "public_call()")
    show(usage, "conf", "hidden_call()", confidential=True)
    usage.event("explain", task="explain", outcome="done", text="It adds numbers.")
    usage.event("explain", task="explain", outcome="done", text="Confidential.", confidential=True)
    usage.close()
    got = rows(path)
    assert got["off"]["text"] is None and got["on"]["text"] == "public_call()" and got["conf"]["text"] is None
    assert [e["text"] for e in sorted(rows(path, "events").values(), key=lambda e: e["id"])] == ["It adds numbers.", None]
    on_disk = b"".join(p.read_bytes() for p in tmp_path.glob("usage.sqlite*"))
    assert b"secret_call" not in on_disk and b"hidden_call" not in on_disk and b"public_call" in on_disk


def test_events_carry_their_fields(tmp_path):
    path = tmp_path / "usage.sqlite"
    usage = open_log(path)
    usage.event("escalation", task="fix", outcome="blocked", reason="path is confidential", latency_ms=3.5)
    usage.event("fix_offered", task="fix", outcome="invalid", reason="new syntax errors", chars=0)
    usage.close()
    events = sorted(rows(path, "events").values(), key=lambda e: e["id"])
    assert [(e["kind"], e["task"], e["outcome"], e["reason"]) for e in events] == [
        ("escalation", "fix", "blocked", "path is confidential"), ("fix_offered", "fix", "invalid", "new syntax errors")]
    assert events[0]["latency_ms"] == 3.5


def test_rows_past_the_retention_are_dropped_when_the_log_opens(tmp_path):
    path = tmp_path / "usage.sqlite"
    clock = Clock()
    usage = open_log(path, clock)
    show(usage, "old")
    usage.event("explain", outcome="done")
    clock.now += 40 * DAY
    show(usage, "new")
    usage.close()
    reopened = open_log(path, clock, retention_days=30)
    reopened.flush()
    reopened.close()
    assert set(rows(path)) == {"new"} and rows(path, "events") == {}


def test_the_size_limit_drops_the_oldest_rows_first(tmp_path):
    path = tmp_path / "usage.sqlite"
    clock = Clock()
    usage = open_log(path, clock, max_bytes=0)
    for i in range(3000):
        clock.now += 1
        show(usage, f"s{i:05d}", "y" * 60)
    usage.close()
    before = path.stat().st_size
    limited = open_log(path, clock, max_bytes=128 << 10)
    limited.flush()
    limited.close()
    kept = sorted(rows(path))
    assert path.stat().st_size <= 128 << 10 < before
    assert kept and kept[-1] == "s02999" and kept[0] > "s00000"  # the newest stay, the oldest went


def test_a_log_from_a_newer_kura_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "usage.sqlite"
    open_log(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(UsageLogError, match="newer kura"):
        open_log(path)
    with pytest.raises(UsageLogError, match="newer kura"):
        read_logs([path])
    assert path.read_bytes() == before


def test_a_corrupt_file_or_another_database_is_refused_and_left_untouched(tmp_path):
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"\x00\x01not sqlite at all" * 100)
    other = tmp_path / "other.sqlite"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE customers (name TEXT)")
    db.commit()
    db.close()
    for path in (garbage, other):
        before = path.read_bytes()
        with pytest.raises(UsageLogError):
            open_log(path)
        assert path.read_bytes() == before
    with pytest.raises(UsageLogError, match="no such usage log"):
        connect(tmp_path / "missing.sqlite", create=False)


def test_a_write_while_another_process_holds_the_log_is_queued_not_lost(tmp_path):
    path = tmp_path / "usage.sqlite"
    usage = open_log(path)
    usage.flush()
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    show(usage, "queued")  # returns at once: the writer thread waits, not the caller
    blocker.execute("COMMIT")
    blocker.close()
    usage.flush()
    usage.close()
    assert "queued" in rows(path)


def test_logs_from_several_machines_merge_and_the_same_log_counts_once(tmp_path):
    clock = Clock()
    a, b = tmp_path / "aiko.sqlite", tmp_path / "ben.sqlite"
    for path, user in ((a, "aiko"), (b, "ben")):
        usage = open_log(path, clock, user=user)
        show(usage, f"{user}-old")
        clock.now += 2 * DAY
        show(usage, f"{user}-new")
        usage.event("explain", outcome="done")
        usage.close()
    merged = read_logs([a, b, a])
    assert sorted(s["id"] for s in merged.suggestions) == ["aiko-new", "aiko-old", "ben-new", "ben-old"]
    assert len(merged.events) == 2 and merged.sources == [str(a), str(b)]
    recent = read_logs([a, b], since=clock.now - DAY)
    assert sorted(s["id"] for s in recent.suggestions) == ["ben-new"]


@pytest.mark.parametrize("text_now, expected", [
    ("def f(x):\n    return x + 1\n", 13),  # left as accepted
    ("def f(x):\n    return x + 2\n", 11),  # one character changed: "return x + " survives
    ("# a new comment\ndef f(x):\n    return x + 1\n", 13),  # a line added above: still found
    ("def f(x):\n" + "\n" * 20 + "    return x + 1\n", 0),  # far from where it was inserted
])
def test_kept_characters_measures_what_survived_near_the_insertion(text_now, expected):
    accepted = "return x + 1\n"
    assert kept_characters(accepted, text_now, anchor_line=1) == expected


def test_a_rewritten_suggestion_keeps_little():
    kept = kept_characters("return x + 1\n", "def f(x):\n    raise ValueError(x)\n", anchor_line=1)
    assert kept < len("return x + 1\n") // 2


def test_a_burst_beyond_the_queue_drops_rows_counts_them_and_flush_still_returns(tmp_path):
    path = tmp_path / "usage.sqlite"
    usage = open_log(path)
    usage.flush()
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # the writer is stuck: the queue fills up
    total = 12_000
    for i in range(total):
        show(usage, f"s{i}")
    blocker.execute("COMMIT")
    blocker.close()
    usage.flush()
    usage.close()
    assert usage.dropped > 0 and "dropped" in usage.last_error
    assert len(rows(path)) == total - usage.dropped

"""`kura report` and `kura usage path|export|prune` end to end through `lsp_server.cli.main`, on real
usage logs; bad input is a message on stderr and exit 2, never a traceback."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from assistant.usage.log import UsageConfig, UsageLog, default_usage_path, read_logs
from lsp_server.cli import main

DAY = 86400
T0 = datetime(2025, 3, 3, 12, tzinfo=timezone.utc).timestamp()  # noon UTC: the same calendar day almost anywhere

# (day, language, fate): fate is accepted | partial | dismissed | shown
AIKO = [(0, "python", "accepted"), (0, "python", "dismissed"), (1, "go", "accepted"), (1, "python", "partial"),
        (2, "go", "shown"), (2, "python", "accepted"), (2, "python", "dismissed")]
BEN = [(0, "go", "dismissed"), (1, "go", "accepted"), (2, "python", "partial"), (2, "go", "dismissed")]


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def write_log(path: Path, user: str, rows, start: float = T0, events: int = 0) -> Path:
    clock = Clock(start)
    log = UsageLog(UsageConfig(path, user=user, retention_days=0), clock=clock)
    for i, (day, language, fate) in enumerate(rows):
        clock.now = start + day * DAY + i
        log.suggestion_shown(f"{user}{i}", "x" * (10 + i), language=language, model="coder", backend="llama_cpp",
                             latency_ms=100.0 + i)
        if fate == "accepted":
            log.suggestion_accepted(f"{user}{i}")
        elif fate == "partial":
            log.suggestion_accepted(f"{user}{i}", 3)
        elif fate == "dismissed":
            log.suggestion_dismissed(f"{user}{i}")
    for i in range(events):
        clock.now = start + i * DAY + 500
        log.event("explain", outcome="done", latency_ms=1000.0)
    log.flush()
    log.close()
    return path


@pytest.fixture
def logs(tmp_path) -> list[Path]:
    return [write_log(tmp_path / "aiko.sqlite", "aiko", AIKO, events=2), write_log(tmp_path / "ben.sqlite", "ben", BEN)]


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps at 80 otherwise


def kura(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def acceptance_text(rows) -> str:
    return f"{sum(fate in ('accepted', 'partial') for _, _, fate in rows) / len(rows) * 100:.1f}%"


def test_report_merges_logs_and_writes_an_html_report(logs, tmp_path, capsys):
    html = tmp_path / "report.html"
    code, out, _ = kura(capsys, "report", *map(str, logs), "--html", str(html))
    assert code == 0
    assert f"{len(AIKO) + len(BEN)} shown" in out
    assert f"accepted {acceptance_text(AIKO + BEN)}" in out
    assert "by user" in out
    page = html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and 'data-chart="Acceptance rate per day"' in page
    assert str(html) in out


def test_the_same_log_twice_counts_once(logs, capsys):
    code, out, _ = kura(capsys, "report", str(logs[0]), str(logs[0]))
    assert code == 0 and f"{len(AIKO)} shown" in out


def test_report_reads_the_default_log_when_none_is_named(logs, monkeypatch, capsys):
    monkeypatch.setattr("assistant.usage.log.default_usage_path", lambda: logs[1])
    code, out, _ = kura(capsys, "report")
    assert code == 0 and f"{len(BEN)} shown" in out


def test_since_and_until_take_dates_inclusively(logs, capsys):
    day1 = datetime.fromtimestamp(T0 + DAY).astimezone().date().isoformat()
    code, out, _ = kura(capsys, "report", "--since", day1, "--until", day1, *map(str, logs))
    rows = [r for r in AIKO + BEN if r[0] == 1]
    assert code == 0
    assert f"{len(rows)} shown" in out and f"accepted {acceptance_text(rows)}" in out


def test_a_relative_since_counts_back_from_now(tmp_path, capsys):
    recent = [(0, "python", "accepted"), (0, "go", "dismissed")]
    old = write_log(tmp_path / "old.sqlite", "aiko", [(0, "python", "shown")] * 3, start=time.time() - 40 * DAY)
    new = write_log(tmp_path / "new.sqlite", "ben", recent, start=time.time() - 2 * DAY)
    code, out, _ = kura(capsys, "report", "--since", "30d", str(old), str(new))
    assert code == 0 and f"{len(recent)} shown" in out


def test_an_empty_log_says_there_is_nothing_in_the_period(tmp_path, capsys):
    code, out, err = kura(capsys, "report", str(write_log(tmp_path / "empty.sqlite", "aiko", [])))
    assert code == 0 and "no suggestions in this period" in out and not err


def test_a_missing_log_is_a_clear_error(tmp_path, capsys):
    code, out, err = kura(capsys, "report", str(tmp_path / "nope.sqlite"))
    assert code == 2 and "no such usage log" in err and "nope.sqlite" in err and "Traceback" not in err


def test_a_log_from_a_newer_kura_is_refused_with_a_clear_message(logs, capsys):
    with sqlite3.connect(logs[0]) as db:
        db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    db.close()
    code, out, err = kura(capsys, "report", *map(str, logs))
    assert code == 2 and "newer kura" in err and "upgrade" in err and not out


def test_a_corrupt_log_is_a_clear_error(tmp_path, capsys):
    corrupt = tmp_path / "usage.sqlite"
    corrupt.write_bytes(b"this is not a database\n" * 100)
    for argv in (("report", str(corrupt)), ("usage", "export", "--csv", str(corrupt)),
                 ("usage", "prune", str(corrupt))):
        code, out, err = kura(capsys, *argv)
        assert code == 2 and str(corrupt) in err and "Traceback" not in err, argv


@pytest.mark.parametrize("option", ["--since", "--until"])
def test_a_bad_date_is_a_clear_error(logs, capsys, option):
    code, out, err = kura(capsys, "report", option, "next week", str(logs[0]))
    assert code == 2 and option in err and "YYYY-MM-DD" in err


def test_until_before_since_is_a_clear_error(logs, capsys):
    code, _, err = kura(capsys, "report", "--since", "2025-03-05", "--until", "2025-03-01", str(logs[0]))
    assert code == 2 and "--until" in err


def test_usage_path_prints_the_default_location(capsys):
    code, out, _ = kura(capsys, "usage", "path")
    assert code == 0 and out.strip() == str(default_usage_path())


def test_export_writes_every_suggestion_as_csv_with_utc_times(logs, capsys):
    code, out, _ = kura(capsys, "usage", "export", "--csv", *map(str, logs))
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    expected = read_logs(logs).suggestions
    assert [r["id"] for r in rows] == [r["id"] for r in expected]
    assert [r["outcome"] for r in rows] == [r["outcome"] for r in expected]
    for row in rows:
        assert datetime.fromisoformat(row["time"].replace("Z", "+00:00")) == datetime.fromtimestamp(
            float(row["ts"]), timezone.utc)
        assert row["time"].endswith("Z")
    assert {r["user"] for r in rows} == {"aiko", "ben"}


def test_export_of_events_since_a_date_to_a_file(logs, tmp_path, capsys):
    target = tmp_path / "events.csv"
    day1 = datetime.fromtimestamp(T0 + DAY).astimezone().date().isoformat()
    code, out, err = kura(capsys, "usage", "export", "--csv", "--table", "events", "--since", day1, "-o", str(target),
                          *map(str, logs))
    assert code == 0 and not out and str(target) in err
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    since = datetime.fromisoformat(day1).astimezone().timestamp()  # local midnight
    assert len(rows) == sum(1 for e in read_logs(logs).events if e["ts"] >= since)
    assert all(r["kind"] == "explain" for r in rows) and rows


def test_export_of_an_empty_log_still_has_a_header(tmp_path, capsys):
    code, out, _ = kura(capsys, "usage", "export", str(write_log(tmp_path / "empty.sqlite", "aiko", [])))
    header = next(csv.reader(io.StringIO(out)))
    assert code == 0 and header[:2] == ["time", "resolved_time"] and "accepted_chars" in header


def test_prune_drops_rows_older_than_the_retention(tmp_path, capsys):
    now = time.time()
    path = write_log(tmp_path / "usage.sqlite", "aiko", [(0, "python", "accepted"), (0, "go", "shown"),
                                                         (9, "python", "dismissed")], start=now - 10 * DAY)
    code, out, _ = kura(capsys, "usage", "prune", "--retention-days", "5", str(path))
    assert code == 0
    assert re.search(r"removed 2 rows", out)
    assert [r["outcome"] for r in read_logs([path]).suggestions] == ["dismissed"]


def test_prune_of_a_missing_log_is_a_clear_error(tmp_path, capsys):
    code, _, err = kura(capsys, "usage", "prune", str(tmp_path / "nope.sqlite"))
    assert code == 2 and "no such usage log" in err

"""The effect report: every number in the summary and in the HTML charts follows from the rows
written to real usage logs (through `UsageLog`, with a fake clock over several days)."""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rich.console import Console

from assistant.usage import report as ur
from assistant.usage.log import UsageConfig, UsageData, UsageLog, read_logs

DAY = 86400
T0 = datetime(2025, 3, 3, 12, tzinfo=timezone.utc).timestamp()  # noon UTC: the same calendar day almost anywhere
UTC = timezone.utc


@dataclass
class Shown:
    day: int
    language: str
    model: str = "coder-small"
    latency: float = 120.0
    cache: bool = False
    chars: int = 40
    fate: str = "shown"  # shown | accepted | partial | dismissed | typed_over
    taken: int | None = None  # characters taken by a partial accept
    kept: int | None = None  # characters still there later

    @property
    def accepted_chars(self) -> int:
        return self.chars if self.fate == "accepted" else min(self.chars, self.taken or 0)


@dataclass
class Event:
    day: int
    kind: str
    outcome: str | None = None
    language: str = "python"
    latency: float | None = None
    first_chunk: float | None = None
    reason: str | None = None
    model: str | None = "coder-large"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def write_log(path: Path, user: str, shown: list[Shown], events: list[Event] = ()) -> Path:
    clock = Clock()
    log = UsageLog(UsageConfig(path, user=user, retention_days=0), clock=clock)
    for i, s in enumerate(shown):
        clock.now = T0 + s.day * DAY + i
        sid = f"{user}-{i}"
        log.suggestion_shown(sid, "x" * s.chars, language=s.language, model=s.model, backend="llama_cpp",
                             latency_ms=s.latency, from_cache=s.cache)
        if s.fate == "accepted":
            log.suggestion_accepted(sid)
        elif s.fate == "partial":
            log.suggestion_accepted(sid, s.taken)
        elif s.fate in ("dismissed", "typed_over"):
            log.suggestion_dismissed(sid, "typed_over" if s.fate == "typed_over" else "hidden")
        if s.kept is not None:
            log.suggestion_kept(sid, s.kept)
    for i, e in enumerate(events):
        clock.now = T0 + e.day * DAY + 1000 + i
        log.event(e.kind, language=e.language, model=e.model, outcome=e.outcome, reason=e.reason,
                  latency_ms=e.latency, first_chunk_ms=e.first_chunk)
    log.flush()
    log.close()
    return path


def random_suggestions(seed: int, days: list[int], languages: list[str], count: int) -> list[Shown]:
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        chars = rng.randint(5, 120)
        fate = rng.choice(["shown", "accepted", "accepted", "partial", "dismissed", "typed_over"])
        taken = rng.randint(1, chars - 1) if fate == "partial" else None
        row = Shown(day=rng.choice(days), language=rng.choice(languages),
                    model=rng.choice(["coder-small", "coder-large"]), latency=round(rng.uniform(20, 900), 1),
                    cache=rng.random() < 0.2, chars=chars, fate=fate, taken=taken)
        if fate in ("accepted", "partial") and rng.random() < 0.7:
            row.kept = rng.randint(0, row.accepted_chars)
        rows.append(row)
    return sorted(rows, key=lambda s: s.day)


AIKO = random_suggestions(1, [0, 1, 3], ["python", "go"], 40)  # nothing on day 2: a gap in the days
BEN = random_suggestions(2, [0, 1, 3], ["python", "go"], 30)
EVENTS = [
    Event(0, "explain", "done", latency=2000, first_chunk=300),
    Event(0, "explain", "done", latency=3000, first_chunk=500),
    Event(1, "explain", "cancelled", latency=800, first_chunk=200), Event(3, "explain", "failed", latency=100),
    Event(0, "fix_offered", "offered", "go", latency=5000, first_chunk=900),
    Event(1, "fix_offered", "offered", latency=7000),
    Event(1, "fix_offered", "invalid", latency=6000), Event(1, "fix_applied", language="go"),
    Event(0, "escalation", "sent", reason="user confirmed"),
    Event(1, "escalation", "blocked", reason="confidential path"),
    Event(3, "escalation", "blocked", reason="confidential path"),
    Event(3, "escalation", "blocked", reason="secret found"),
    Event(3, "escalation", "failed", reason="HTTP 503"),
]
BEN_EVENTS = [Event(3, "explain", "done", "go", latency=4000, first_chunk=700),
              Event(3, "fix_applied", language="python"), Event(3, "escalation", "cancelled", reason="user cancelled")]


@pytest.fixture
def logs(tmp_path) -> list[Path]:
    return [write_log(tmp_path / "aiko.sqlite", "aiko", AIKO, EVENTS),
            write_log(tmp_path / "ben.sqlite", "ben", BEN, BEN_EVENTS)]


@pytest.fixture
def summary(logs) -> ur.UsageSummary:
    return ur.summarize(read_logs(logs), tz=UTC)


ALL = AIKO + BEN
ALL_EVENTS = EVENTS + BEN_EVENTS


def quantile(values, p):
    """An independent linear-interpolation percentile (statistics' inclusive method)."""
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def acceptance(rows: list[Shown]) -> float:
    return sum(s.fate in ("accepted", "partial") for s in rows) / len(rows)


def kept_rate(rows: list[Shown]) -> float:
    measured = [s for s in rows if s.kept is not None and s.fate in ("accepted", "partial") and s.accepted_chars]
    return sum(s.kept for s in measured) / sum(s.accepted_chars for s in measured)


# --- the summary -----------------------------------------------------------------------------------


def test_percentile_interpolates_between_ranks():
    values = [random.Random(3).uniform(0, 1000) for _ in range(37)]
    for p in (50, 90, 95, 99):
        assert ur.percentile(values, p) == pytest.approx(quantile(values, p))
    assert ur.percentile([], 50) is None
    assert ur.percentile([7.0], 95) == 7.0


def test_summary_counts_every_outcome_across_two_merged_logs(summary):
    s = summary.suggestions
    assert s.shown == len(ALL)
    for outcome in ("accepted", "partial", "dismissed", "typed_over"):
        assert getattr(s, outcome) == sum(r.fate == outcome for r in ALL)
    assert s.no_reaction == sum(r.fate == "shown" for r in ALL)
    assert s.acceptance_rate == pytest.approx(acceptance(ALL))
    assert s.share("typed_over") == pytest.approx(sum(r.fate == "typed_over" for r in ALL) / len(ALL))
    assert summary.users == ["aiko", "ben"]
    assert len(summary.sources) == 2


def test_kept_rate_counts_only_suggestions_whose_kept_characters_were_measured(summary):
    s = summary.suggestions
    assert s.kept_measured == sum(r.kept is not None and r.accepted_chars > 0 for r in ALL)
    assert s.kept_rate == pytest.approx(kept_rate(ALL))
    assert s.accepted_chars == sum(r.accepted_chars for r in ALL if r.fate in ("accepted", "partial"))


def test_latency_is_reported_overall_and_for_model_calls_only(summary):
    s = summary.suggestions
    everything = [r.latency for r in ALL]
    model_only = [r.latency for r in ALL if not r.cache]
    assert s.from_cache == sum(r.cache for r in ALL)
    for p in (50, 90, 95, 99):
        assert s.latency.get(p) == pytest.approx(quantile(everything, p))
        assert s.model_latency.get(p) == pytest.approx(quantile(model_only, p))


def test_explanations_fixes_and_escalations_are_counted_by_outcome(summary):
    explains = [e for e in ALL_EVENTS if e.kind == "explain"]
    assert summary.explanations.count == len(explains)
    assert summary.explanations.outcomes == {o: sum(e.outcome == o for e in explains)
                                             for o in {"done", "cancelled", "failed"}}
    assert summary.explanations.latency.p50 == pytest.approx(statistics.median(e.latency for e in explains))
    assert summary.explanations.latency.p95 == pytest.approx(quantile([e.latency for e in explains], 95))
    assert summary.explanations.first_chunk.p50 == pytest.approx(
        statistics.median(e.first_chunk for e in explains if e.first_chunk is not None))
    fixes = [e for e in ALL_EVENTS if e.kind == "fix_offered"]
    assert summary.fixes.count == len(fixes)
    assert summary.fixes_offered == sum(e.outcome == "offered" for e in fixes)
    assert summary.fixes_applied == sum(e.kind == "fix_applied" for e in ALL_EVENTS)
    assert summary.fix_apply_rate == pytest.approx(summary.fixes_applied / summary.fixes_offered)

    escalations = [e for e in ALL_EVENTS if e.kind == "escalation"]
    assert summary.escalations.count == len(escalations)
    assert summary.escalations.decisions == {d: sum(e.outcome == d for e in escalations)
                                             for d in ("sent", "blocked", "cancelled", "failed")}
    top_decision, top_reason, top_count = summary.escalations.reasons[0]
    assert (top_decision, top_reason) == ("blocked", "confidential path")
    assert top_count == sum(e.reason == "confidential path" for e in escalations)


def test_days_run_from_first_to_last_with_empty_days_in_between(summary):
    first = datetime.fromtimestamp(T0, UTC).date()
    assert [d.name for d in summary.days] == [str(first + timedelta(days=i)) for i in range(4)]
    for i, day in enumerate(summary.days):
        rows = [r for r in ALL if r.day == i]
        assert day.shown == len(rows)
        assert day.taken == sum(r.fate in ("accepted", "partial") for r in rows)
        assert day.explanations == sum(e.kind == "explain" and e.day == i for e in ALL_EVENTS)
    assert summary.days[2].shown == 0 and summary.days[2].acceptance_rate is None


def test_acceptance_by_language_and_by_user(summary):
    by_language = {g.name: g for g in summary.by_language}
    assert set(by_language) == {"python", "go"}
    for language, group in by_language.items():
        rows = [r for r in ALL if r.language == language]
        assert group.shown == len(rows)
        assert group.acceptance_rate == pytest.approx(acceptance(rows))
        assert group.kept_rate == pytest.approx(kept_rate(rows))
    by_user = {g.name: g for g in summary.by_user}
    assert by_user["aiko"].acceptance_rate == pytest.approx(acceptance(AIKO))
    assert by_user["ben"].escalations == sum(e.kind == "escalation" for e in BEN_EVENTS)
    assert [g.shown for g in summary.by_language] == sorted((g.shown for g in summary.by_language), reverse=True)


def test_since_and_until_keep_only_the_rows_in_the_period(logs):
    since, until = T0 + 1 * DAY - 3600, T0 + 3 * DAY - 3600  # day 1 only (day 2 is empty)
    rows = [r for r in ALL if r.day == 1]
    for data in (read_logs(logs, since=since), read_logs(logs)):  # filtered while reading or while summarising
        summary = ur.summarize(data, since=since, until=until, tz=UTC)
        assert summary.suggestions.shown == len(rows)
        assert summary.suggestions.acceptance_rate == pytest.approx(acceptance(rows))
        assert summary.escalations.count == sum(e.kind == "escalation" and e.day == 1 for e in ALL_EVENTS)
        assert (summary.start, summary.end) == (since, pytest.approx(until, abs=0.01))


def test_an_empty_log_gives_a_summary_without_rates(tmp_path):
    summary = ur.summarize(read_logs([write_log(tmp_path / "empty.sqlite", "aiko", [])]))
    assert summary.empty and summary.suggestions.shown == 0
    assert summary.suggestions.acceptance_rate is None and summary.suggestions.kept_rate is None
    assert summary.fix_apply_rate is None and summary.days == []
    console = Console(record=True, width=120)
    ur.render_terminal(summary, console)
    assert "no suggestions in this period" in console.export_text()
    assert "no suggestions" in ur.render_html(summary)


def test_questions_asked_of_the_codebase_are_counted_by_outcome(tmp_path):
    events = [Event(0, "ask", "done", latency=900.0, first_chunk=40.0), Event(0, "ask", "nothing_found", latency=30.0),
              Event(1, "ask", "done", latency=1100.0, first_chunk=60.0)]
    summary = ur.summarize(read_logs([write_log(tmp_path / "ask.sqlite", "aiko", [], events)]), tz=UTC)

    console = Console(record=True, width=200)
    ur.render_terminal(summary, console)

    text = console.export_text()
    assert not summary.empty and summary.questions.count == 3
    assert summary.questions.outcomes == {"done": 2, "nothing_found": 1}
    assert "Questions (ask)" in text and "done 2, nothing_found 1" in text
    assert "questions (ask)" in ur.render_html(summary)


def test_the_terminal_summary_shows_the_headline_numbers(summary):
    console = Console(record=True, width=160)
    ur.render_terminal(summary, console)
    text = console.export_text()
    assert f"{len(ALL):,} shown" in text
    assert f"accepted {acceptance(ALL) * 100:.1f}%" in text
    assert f"{kept_rate(ALL) * 100:.1f}% of accepted characters" in text
    assert "by user" in text and "aiko" in text and "ben" in text


def test_a_single_users_log_has_no_per_user_breakdown(tmp_path):
    summary = ur.summarize(read_logs([write_log(tmp_path / "one.sqlite", "aiko", AIKO)]), tz=UTC)
    console = Console(record=True, width=160)
    ur.render_terminal(summary, console)
    assert "by user" not in console.export_text()
    assert ur.CHART_BY_USER not in charts_in(ur.render_html(summary))


# --- the HTML report -------------------------------------------------------------------------------


class ChartReader(HTMLParser):
    """{chart title: [(series, label, value)]} from the svg data-chart / data-* attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: dict[str, list[tuple[str, str, float]]] = {}
        self.current: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "svg":
            self.current = attributes["data-chart"]
            self.charts[self.current] = []
        elif "data-value" in attributes:
            self.charts[self.current].append(
                (attributes["data-series"], attributes["data-label"], float(attributes["data-value"])))


def charts_in(page: str) -> dict[str, list[tuple[str, str, float]]]:
    reader = ChartReader()
    reader.feed(page)
    return reader.charts


def series(chart, name: str) -> dict[str, float]:
    return {label: value for s, label, value in chart if s == name}


def test_the_html_report_has_every_chart(summary):
    charts = charts_in(ur.render_html(summary))
    for title in (ur.CHART_ACCEPTANCE_PER_DAY, ur.CHART_SHOWN_PER_DAY, ur.CHART_KEPT_PER_DAY, ur.CHART_OUTCOMES,
                  ur.CHART_LATENCY, ur.CHART_TASK_OUTCOMES, ur.CHART_ESCALATION_DECISIONS,
                  ur.CHART_ESCALATION_REASONS, ur.CHART_BY_LANGUAGE, ur.CHART_BY_USER, ur.CHART_BY_MODEL):
        assert charts.get(title), title


def test_per_day_charts_match_the_rows_of_each_day(summary):
    charts = charts_in(ur.render_html(summary))
    labels = [f"{datetime.fromtimestamp(T0, UTC).date() + timedelta(days=i):%m-%d}" for i in range(4)]
    rates = series(charts[ur.CHART_ACCEPTANCE_PER_DAY], "acceptance")
    assert rates == pytest.approx({labels[i]: acceptance([r for r in ALL if r.day == i]) for i in (0, 1, 3)})
    shown = series(charts[ur.CHART_SHOWN_PER_DAY], "shown")
    assert shown == {labels[i]: sum(r.day == i for r in ALL) for i in range(4)}
    accepted = series(charts[ur.CHART_SHOWN_PER_DAY], "accepted")
    assert sum(accepted.values()) == sum(r.fate in ("accepted", "partial") for r in ALL)
    kept = series(charts[ur.CHART_KEPT_PER_DAY], "kept")
    assert sum(kept.values()) == sum(r.kept for r in ALL if r.kept is not None)


def test_latency_and_outcome_charts_match_the_summary(summary):
    charts = charts_in(ur.render_html(summary))
    latency = series(charts[ur.CHART_LATENCY], "model only")
    assert latency == {f"p{p}": round(quantile([r.latency for r in ALL if not r.cache], p)) for p in (50, 90, 95, 99)}
    outcomes = series(charts[ur.CHART_OUTCOMES], ur.CHART_OUTCOMES)
    assert outcomes["typed over"] == pytest.approx(sum(r.fate == "typed_over" for r in ALL) / len(ALL))
    assert sum(outcomes.values()) == pytest.approx(1.0)


def test_event_charts_match_the_events_written(summary):
    charts = charts_in(ur.render_html(summary))
    by_outcome = series(charts[ur.CHART_TASK_OUTCOMES], "fixes")
    assert by_outcome["invalid"] == sum(e.kind == "fix_offered" and e.outcome == "invalid" for e in ALL_EVENTS)
    decisions = series(charts[ur.CHART_ESCALATION_DECISIONS], ur.CHART_ESCALATION_DECISIONS)
    assert decisions == {d: sum(e.kind == "escalation" and e.outcome == d for e in ALL_EVENTS)
                         for d in ("sent", "blocked", "cancelled", "failed")}
    reasons = series(charts[ur.CHART_ESCALATION_REASONS], ur.CHART_ESCALATION_REASONS)
    assert reasons["confidential path"] == sum(e.reason == "confidential path" for e in ALL_EVENTS)


def test_group_charts_match_acceptance_by_language_user_and_model(summary):
    charts = charts_in(ur.render_html(summary))
    for title, key, values in ((ur.CHART_BY_LANGUAGE, "language", ("python", "go")),
                               (ur.CHART_BY_MODEL, "model", ("coder-small", "coder-large"))):
        chart = series(charts[title], "acceptance")
        assert chart == pytest.approx({v: acceptance([r for r in ALL if getattr(r, key) == v]) for v in values})
    assert series(charts[ur.CHART_BY_USER], "acceptance") == pytest.approx({"aiko": acceptance(AIKO),
                                                                           "ben": acceptance(BEN)})


def test_long_reasons_are_shortened_to_fit_their_slot():
    labels = ur.fit_labels(["short", "a reason far too long to sit under its own bar " * 2])
    assert labels[0] == "short"
    assert labels[1].endswith("…") and len(labels[1]) < 60


def test_an_empty_log_renders_a_page_that_says_so(tmp_path):
    page = ur.render_html(ur.summarize(UsageData([], [], [])))
    assert "no suggestions" in page
    assert all(values == [] for values in charts_in(page).values())


# --- dates -----------------------------------------------------------------------------------------


def test_dates_parse_as_days_datetimes_or_ages():
    now = T0 + 0.5
    assert ur.parse_when("2025-03-03", now=now, tz=UTC) == datetime(2025, 3, 3, tzinfo=UTC).timestamp()
    assert ur.parse_when("2025-03-03", now=now, end=True, tz=UTC) == datetime(2025, 3, 4, tzinfo=UTC).timestamp()
    assert ur.parse_when("2025-03-03T10:30:00Z", now=now) == datetime(2025, 3, 3, 10, 30, tzinfo=UTC).timestamp()
    assert ur.parse_when("2025-03-03T10:30:00+09:00", now=now) == datetime(2025, 3, 3, 1, 30, tzinfo=UTC).timestamp()
    assert ur.parse_when("30d", now=now) == now - 30 * DAY
    assert ur.parse_when("12h", now=now) == now - 12 * 3600
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        ur.parse_when("last tuesday", now=now)


def test_names_and_reasons_are_printed_literally_not_as_markup(tmp_path):
    reason = "[red]secret[/red] in [b]config"
    path = write_log(tmp_path / "usage.sqlite", "aiko", [Shown(0, "[python]")],
                     [Event(0, "escalation", "blocked", reason=reason)])
    console = Console(record=True, width=200)
    ur.render_terminal(ur.summarize(read_logs([path]), tz=UTC), console)
    text = console.export_text()
    assert reason in text and "[python]" in text


def test_generations_are_counted_by_outcome_with_what_the_user_did_with_them(tmp_path):
    events = [Event(0, "generate", "offered", latency=2100.0), Event(0, "generate", "invalid", latency=1500.0),
              Event(1, "generate", "offered", latency=1900.0), Event(1, "generate_resolved", "accepted"),
              Event(1, "generate_resolved", "rejected")]
    summary = ur.summarize(read_logs([write_log(tmp_path / "gen.sqlite", "aiko", [], events)]), tz=UTC)

    console = Console(record=True, width=200)
    ur.render_terminal(summary, console)

    text = console.export_text()
    assert not summary.empty and summary.generations.count == 3
    assert summary.generations.outcomes == {"offered": 2, "invalid": 1}
    assert (summary.generations_accepted, summary.generations_rejected) == (1, 1)
    assert "Generations" in text and "offered 2, invalid 1" in text and "accepted 1, rejected 1" in text
    assert "generations" in ur.render_html(summary)

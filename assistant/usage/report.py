"""The effect report: what kura's suggestions, explanations, fixes and escalations did, summarised
from the usage log (`summarize`, pure) and rendered for the terminal (`render_terminal`) or as a
self-contained HTML page with charts (`render_html`).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Callable, Iterable, Sequence

from assistant.usage.log import UsageData

ESCALATION_DECISIONS = ("sent", "blocked", "cancelled", "failed")
OFFERED_OUTCOMES = ("offered", "done", None)  # fix_offered outcomes that put an edit in front of the user
LATENCY_PERCENTILES = (50, 90, 95, 99)
UNKNOWN = "(unknown)"
TOP_REASONS = 8
TOP_GROUPS = 12  # languages, users or models in a chart; the table has them all


def percentile(values: Iterable[float], p: float) -> float | None:
    """The p-th percentile (0–100) with linear interpolation between ranks; None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(part: float, whole: float) -> float | None:
    """part / whole, or None where there is nothing to divide by (shown as "–", never a crash)."""
    return part / whole if whole else None


@dataclass(frozen=True)
class Percentiles:
    count: int
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None

    @classmethod
    def of(cls, values: Iterable[float | None]) -> "Percentiles":
        present = [float(v) for v in values if v is not None]
        return cls(len(present), *(percentile(present, p) for p in LATENCY_PERCENTILES))

    def get(self, p: int) -> float | None:
        return getattr(self, f"p{p}")


class Rates:
    """Acceptance and kept rates of anything with shown, taken, kept and measured characters."""

    shown: int
    taken: int
    kept_chars: int
    measured_accepted_chars: int

    @property
    def acceptance_rate(self) -> float | None:
        return ratio(self.taken, self.shown)

    @property
    def kept_rate(self) -> float | None:
        return ratio(self.kept_chars, self.measured_accepted_chars)


@dataclass(frozen=True)
class SuggestionStats(Rates):
    shown: int = 0
    accepted: int = 0  # taken whole
    partial: int = 0  # taken in part
    dismissed: int = 0
    typed_over: int = 0
    no_reaction: int = 0  # still "shown": neither taken nor dismissed
    from_cache: int = 0
    accepted_chars: int = 0
    measured_accepted_chars: int = 0  # accepted characters of the suggestions whose kept characters were measured
    kept_chars: int = 0
    kept_measured: int = 0  # suggestions whose kept characters were measured
    latency: Percentiles = Percentiles(0)  # every suggestion shown
    model_latency: Percentiles = Percentiles(0)  # only those the model produced (not from the cache)

    @property
    def taken(self) -> int:
        return self.accepted + self.partial

    def share(self, outcome: str) -> float | None:
        return ratio(getattr(self, outcome), self.shown)


@dataclass(frozen=True)
class GroupStats(Rates):
    """Suggestions and events of one day, language, user or model."""

    name: str
    shown: int = 0
    taken: int = 0  # accepted + partial
    accepted_chars: int = 0
    measured_accepted_chars: int = 0
    kept_chars: int = 0
    latency_p50: float | None = None
    explanations: int = 0
    fixes_applied: int = 0
    escalations: int = 0



@dataclass(frozen=True)
class TaskStats:
    """Explanations or fix requests: how they ended and how long they took."""

    count: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)  # most frequent first
    latency: Percentiles = Percentiles(0)
    first_chunk: Percentiles = Percentiles(0)


@dataclass(frozen=True)
class EscalationStats:
    count: int = 0
    decisions: dict[str, int] = field(default_factory=dict)  # sent, blocked, cancelled, failed, then any others
    reasons: list[tuple[str, str, int]] = field(default_factory=list)  # (decision, reason, count), most first


@dataclass(frozen=True)
class UsageSummary:
    start: float | None  # the period (inclusive): asked for, else the span of the rows
    end: float | None
    sources: list[str]
    users: list[str]
    suggestions: SuggestionStats
    days: list[GroupStats]  # every day from the first to the last, empty days included
    by_language: list[GroupStats]
    by_user: list[GroupStats]
    by_model: list[GroupStats]
    explanations: TaskStats
    fixes: TaskStats
    fixes_offered: int
    fixes_applied: int
    escalations: EscalationStats
    tz: tzinfo | None  # days are calendar days here; None = local time
    questions: TaskStats = TaskStats()  # asking the codebase (kind "ask"; outcome done / nothing_found / …)
    # generate/edit from an instruction: proposals (kind "generate": offered / invalid / failed / cancelled)
    # and what the user did with them (kind "generate_resolved": accepted / rejected)
    generations: TaskStats = TaskStats()
    generations_accepted: int = 0
    generations_rejected: int = 0

    @property
    def fix_apply_rate(self) -> float | None:
        return ratio(self.fixes_applied, self.fixes_offered)

    @property
    def empty(self) -> bool:
        return not self.suggestions.shown and not (self.explanations.count or self.fixes.count
                                                   or self.fixes_applied or self.escalations.count
                                                   or self.questions.count or self.generations.count)


# --- summarising ----------------------------------------------------------------------------------


def within(rows: Sequence[dict[str, Any]], since: float | None, until: float | None) -> list[dict[str, Any]]:
    """The rows with since <= ts < until (either bound optional)."""
    return [r for r in rows if (since is None or r["ts"] >= since) and (until is None or r["ts"] < until)]


def suggestion_stats(rows: Sequence[dict[str, Any]]) -> SuggestionStats:
    outcomes = Counter(r["outcome"] for r in rows)
    measured = [r for r in rows if r.get("kept_chars") is not None and (r.get("accepted_chars") or 0) > 0]
    return SuggestionStats(
        shown=len(rows), accepted=outcomes["accepted"], partial=outcomes["partial"],
        dismissed=outcomes["dismissed"], typed_over=outcomes["typed_over"], no_reaction=outcomes["shown"],
        from_cache=sum(1 for r in rows if r.get("from_cache")),
        accepted_chars=sum(r.get("accepted_chars") or 0 for r in rows if r["outcome"] in ("accepted", "partial")),
        measured_accepted_chars=sum(r["accepted_chars"] for r in measured),
        kept_chars=sum(r["kept_chars"] for r in measured), kept_measured=len(measured),
        latency=Percentiles.of(r.get("latency_ms") for r in rows),
        model_latency=Percentiles.of(r.get("latency_ms") for r in rows if not r.get("from_cache")))


def task_stats(rows: Sequence[dict[str, Any]]) -> TaskStats:
    outcomes = Counter(r.get("outcome") or UNKNOWN for r in rows)
    return TaskStats(len(rows), dict(outcomes.most_common()), Percentiles.of(r.get("latency_ms") for r in rows),
                     Percentiles.of(r.get("first_chunk_ms") for r in rows))


def escalation_stats(rows: Sequence[dict[str, Any]]) -> EscalationStats:
    decisions = Counter(r.get("outcome") or UNKNOWN for r in rows)
    ordered = {d: decisions.get(d, 0) for d in ESCALATION_DECISIONS}
    ordered.update((d, n) for d, n in decisions.most_common() if d not in ordered)
    reasons = Counter((r.get("outcome") or UNKNOWN, r["reason"]) for r in rows if r.get("reason"))
    return EscalationStats(len(rows), ordered if rows else {},
                           [(d, reason, n) for (d, reason), n in
                            sorted(reasons.items(), key=lambda item: (-item[1], item[0]))])


def group_stats(suggestions: Sequence[dict[str, Any]], events: Sequence[dict[str, Any]],
                key: Callable[[dict[str, Any]], str]) -> dict[str, GroupStats]:
    by_key: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
    for row in suggestions:
        by_key[key(row)][0].append(row)
    for row in events:
        by_key[key(row)][1].append(row)
    groups = {}
    for name, (rows, evs) in by_key.items():
        s = suggestion_stats(rows)
        kinds = Counter(e["kind"] for e in evs)
        groups[name] = GroupStats(name, s.shown, s.taken, s.accepted_chars, s.measured_accepted_chars, s.kept_chars,
                                  s.latency.p50, kinds["explain"], kinds["fix_applied"], kinds["escalation"])
    return groups


def _by(column: str) -> Callable[[dict[str, Any]], str]:
    return lambda row: row.get(column) or UNKNOWN


def _ranked(groups: dict[str, GroupStats]) -> list[GroupStats]:
    """Most suggestions first, then most events, then by name."""
    return sorted(groups.values(), key=lambda g: (-g.shown, -(g.explanations + g.fixes_applied + g.escalations),
                                                  g.name))


def day_of(ts: float, tz: tzinfo | None) -> date:
    return datetime.fromtimestamp(ts, tz).date()


def summarize(data: UsageData, *, since: float | None = None, until: float | None = None,
              tz: tzinfo | None = None) -> UsageSummary:
    """The whole report from the log's rows; days are calendar days in `tz` (default: local time)."""
    suggestions = within(data.suggestions, since, until)
    events = within(data.events, since, until)
    stamps = [r["ts"] for r in (*suggestions, *events)]
    start = since if since is not None else (min(stamps) if stamps else None)
    end = until - 0.001 if until is not None else (max(stamps) if stamps else None)  # the last moment in

    days: list[GroupStats] = []
    if stamps:
        per_day = group_stats(suggestions, events, lambda r: day_of(r["ts"], tz).isoformat())
        first, last = day_of(min(stamps), tz), day_of(max(stamps), tz)
        days = [per_day.get(d, GroupStats(d)) for d in
                (str(first + timedelta(days=i)) for i in range((last - first).days + 1))]

    kinds: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in events:
        kinds[row["kind"]].append(row)
    offered = sum(1 for r in kinds["fix_offered"] if r.get("outcome") in OFFERED_OUTCOMES)
    return UsageSummary(
        start=start, end=end, sources=list(data.sources),
        users=sorted({r["user"] for r in (*suggestions, *events)}),
        suggestions=suggestion_stats(suggestions), days=days,
        by_language=_ranked(group_stats(suggestions, events, _by("language"))),
        by_user=_ranked(group_stats(suggestions, events, _by("user"))),
        by_model=_ranked(group_stats(suggestions, events, _by("model"))),
        explanations=task_stats(kinds["explain"]), fixes=task_stats(kinds["fix_offered"]),
        fixes_offered=offered, fixes_applied=len(kinds["fix_applied"]),
        escalations=escalation_stats(kinds["escalation"]), tz=tz, questions=task_stats(kinds["ask"]),
        generations=task_stats(kinds["generate"]),
        generations_accepted=sum(1 for r in kinds["generate_resolved"] if r.get("outcome") == "accepted"),
        generations_rejected=sum(1 for r in kinds["generate_resolved"] if r.get("outcome") == "rejected"))


# --- dates on the command line --------------------------------------------------------------------

_RELATIVE = re.compile(r"^(\d+)\s*([hdw])$")
_UNIT_SECONDS = {"h": 3600, "d": 86400, "w": 7 * 86400}


def parse_when(text: str, *, now: float, end: bool = False, tz: tzinfo | None = None) -> float:
    """A period bound as Unix seconds: YYYY-MM-DD (local midnight; as an end bound, the whole day is
    included), an ISO 8601 date-time (local time unless it names an offset), or an age like 30d,
    12h, 2w before `now`. Raises ValueError with a message for the user."""
    text = text.strip()
    relative = _RELATIVE.match(text.lower())
    if relative:
        return now - int(relative.group(1)) * _UNIT_SECONDS[relative.group(2)]
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if end:
                day += timedelta(days=1)
            moment = datetime(day.year, day.month, day.day)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"expected YYYY-MM-DD, an ISO date-time or an age like 30d, got {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz) if tz is not None else moment.astimezone()
    return moment.timestamp()


# --- formatting -----------------------------------------------------------------------------------


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def whole_ms(ms: float | None) -> int | None:
    """Latencies in charts: whole milliseconds read better than 202.4."""
    return None if ms is None else round(ms)


def duration(ms: float | None) -> str:
    if ms is None:
        return "–"
    return f"{ms / 1000:.1f} s" if ms >= 1000 else f"{ms:.0f} ms"


def period_text(summary: UsageSummary) -> str:
    if summary.start is None or summary.end is None:
        return "no rows"
    first = datetime.fromtimestamp(summary.start, summary.tz).astimezone(summary.tz)
    last = datetime.fromtimestamp(summary.end, summary.tz).astimezone(summary.tz)
    return f"{first:%Y-%m-%d %H:%M} – {last:%Y-%m-%d %H:%M} (UTC{first:%z})"


def _outcomes_text(outcomes: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in outcomes.items())


def _task_line(stats: TaskStats) -> str:
    if not stats.count:
        return "none"
    return (f"{stats.count} ({_outcomes_text(stats.outcomes)}) · p50 {duration(stats.latency.p50)}"
            f" · p95 {duration(stats.latency.p95)} · first chunk p50 {duration(stats.first_chunk.p50)}")


def _reasons_text(reasons: list[tuple[str, str, int]], limit: int = 3) -> str:
    return ", ".join(f"{reason} ({decision}) ×{n}" for decision, reason, n in reasons[:limit])


# --- terminal -------------------------------------------------------------------------------------


def render_terminal(summary: UsageSummary, console) -> None:
    """A compact summary on a rich Console."""
    from rich.table import Table
    from rich.text import Text

    s, e = summary.suggestions, summary.escalations
    console.print(f"[bold]kura usage[/bold] · {period_text(summary)}", highlight=False)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()

    def row(name: str, value: str) -> None:  # values as Text: a "[" in a name or reason is not markup
        grid.add_row(name, Text(value))

    names = f" ({', '.join(summary.users)})" if 1 < len(summary.users) <= 6 else ""
    row("Users", f"{len(summary.users)}{names} from {len(summary.sources)} "
                 f"log{'s' if len(summary.sources) != 1 else ''}")
    if s.shown:
        row("Suggestions", f"{s.shown:,} shown · accepted {pct(s.acceptance_rate)} "
                           f"({s.accepted:,} whole, {s.partial:,} partly)")
        row("Kept", f"{pct(s.kept_rate)} of accepted characters ({s.kept_chars:,} of "
                    f"{s.measured_accepted_chars:,}; {s.kept_measured:,} suggestions measured)"
            if s.kept_measured else "not measured yet")
        row("Not taken", f"dismissed {pct(s.share('dismissed'))} · typed over {pct(s.share('typed_over'))}"
                         f" · no reaction {pct(s.share('no_reaction'))}")
        row("Latency", f"p50 {duration(s.latency.p50)}, p95 {duration(s.latency.p95)}"
                       f" · model only p50 {duration(s.model_latency.p50)}, p95 "
                       f"{duration(s.model_latency.p95)} ({s.from_cache:,} from the cache)")
    else:
        row("Suggestions", "no suggestions in this period")
    row("Explanations", _task_line(summary.explanations))
    row("Questions (ask)", _task_line(summary.questions))
    g = summary.generations
    row("Generations", _task_line(g) + (
        f" · accepted {summary.generations_accepted}, rejected {summary.generations_rejected}"
        if g.count or summary.generations_accepted or summary.generations_rejected else ""))
    row("Fixes", _task_line(summary.fixes) + (
        f" · applied {summary.fixes_applied} of {summary.fixes_offered} offered ({pct(summary.fix_apply_rate)})"
        if summary.fixes.count or summary.fixes_applied else ""))
    row("Escalations", "none" if not e.count else
        f"{e.count}: " + ", ".join(f"{d} {n}" for d, n in e.decisions.items())
        + (f" · top reasons: {_reasons_text(e.reasons)}" if e.reasons else ""))
    console.print(grid, highlight=False)
    groups = [("language", summary.by_language)]
    if len(summary.users) > 1:
        groups.append(("user", summary.by_user))
    for title, rows in groups:
        if rows and (s.shown or len(rows) > 1):
            console.print(_group_table(title, rows), highlight=False)


def _group_table(title: str, rows: Sequence[GroupStats]):
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"by {title}", title_justify="left", box=None, pad_edge=False)
    table.add_column(title)
    for header in ("shown", "accepted", "kept", "p50", "explained", "fixed", "escalated"):
        table.add_column(header, justify="right")
    for g in rows:
        table.add_row(Text(g.name), f"{g.shown:,}", pct(g.acceptance_rate), pct(g.kept_rate), duration(g.latency_p50),
                      str(g.explanations), str(g.fixes_applied), str(g.escalations))
    return table


# --- HTML -----------------------------------------------------------------------------------------

# Chart titles: the HTML's data-chart attributes, which tests and readers look charts up by.
CHART_ACCEPTANCE_PER_DAY = "Acceptance rate per day"
CHART_SHOWN_PER_DAY = "Suggestions shown and accepted per day"
CHART_KEPT_PER_DAY = "Accepted and kept characters per day"
CHART_OUTCOMES = "What became of the suggestions"
CHART_LATENCY = "Suggestion latency percentiles (ms)"
CHART_TASK_OUTCOMES = "Explanations and fixes by outcome"
CHART_TASK_LATENCY = "Explanation and fix latency (ms)"
CHART_ESCALATION_DECISIONS = "Escalations by decision"
CHART_ESCALATION_REASONS = "Escalations by reason"
CHART_BY_LANGUAGE = "Acceptance by language"
CHART_BY_USER = "Acceptance by user"
CHART_BY_MODEL = "Acceptance by model"

OUTCOME_LABELS = (("accepted", "accepted"), ("partial", "partly accepted"), ("dismissed", "dismissed"),
                  ("typed_over", "typed over"), ("no_reaction", "no reaction"))
MANY_DAYS = 21  # beyond this, per-day bars get too thin: lines instead


def fit_labels(labels: Sequence[str]) -> list[str]:
    """Shorten x labels to their slot of a chart so neighbours do not overlap (the table has them whole)."""
    from assistant.reports import html as h

    if len(labels) > 12:  # html_report slants these
        room = 18
    else:
        room = max(4, int((h.WIDTH - h.LEFT - h.RIGHT) / max(1, len(labels)) / 6.5))
    return [label if len(label) <= room else label[:room - 1] + "…" for label in labels]


def _day_labels(days: Sequence[GroupStats]) -> list[str]:
    """MM-DD when the days are all in one year (the subtitle has the year), else the ISO date."""
    same_year = len({d.name[:4] for d in days}) == 1
    return [d.name[5:] if same_year else d.name for d in days]


def _per_day(title: str, labels: list[str], series: dict[str, list[float | None]], **options) -> str:
    from assistant.reports import html as h

    if len(labels) > MANY_DAYS:
        return h.line_chart(title, labels, series, **options)
    return h.grouped_bar_chart(title, labels, series, **options)


def _group_section(title: str, chart_title: str, rows: Sequence[GroupStats]) -> str:
    from assistant.reports import html as h

    shown = [g for g in rows if g.shown][:TOP_GROUPS]
    chart = h.grouped_bar_chart(chart_title, fit_labels([g.name for g in shown]),
                                {"acceptance": [g.acceptance_rate for g in shown],
                                 "kept": [g.kept_rate for g in shown]}, percent=True)
    table = h.table([title, "shown", "accepted", "acceptance", "kept", "latency p50 (ms)", "explanations",
                     "fixes applied", "escalations"],
                    [[g.name, g.shown, g.taken, pct(g.acceptance_rate), pct(g.kept_rate),
                      whole_ms(g.latency_p50), g.explanations, g.fixes_applied,
                      g.escalations] for g in rows])
    return h.charts(chart) + table


def _task_times(stats: TaskStats) -> list[int | None]:
    return [whole_ms(v) for v in (stats.latency.p50, stats.latency.p95, stats.first_chunk.p50)]


def render_html(summary: UsageSummary, *, title: str = "kura: effect report") -> str:
    """A self-contained HTML page with charts; opens offline."""
    from assistant.reports import html as h

    s = summary.suggestions
    subtitle = (f"{period_text(summary)} · {len(summary.users)} user{'s' if len(summary.users) != 1 else ''}"
                f" · from {len(summary.sources)} log{'s' if len(summary.sources) != 1 else ''}")
    headline = h.table(["this period", ""], [
        ["suggestions shown", f"{s.shown:,}"],
        ["acceptance (whole or partly)", pct(s.acceptance_rate)],
        ["accepted characters still there later", pct(s.kept_rate)],
        ["latency p50 / p95 (all)", f"{duration(s.latency.p50)} / {duration(s.latency.p95)}"],
        ["latency p50 / p95 (model only)", f"{duration(s.model_latency.p50)} / {duration(s.model_latency.p95)}"],
        ["explanations", f"{summary.explanations.count:,}"],
        ["fixes applied / offered", f"{summary.fixes_applied} / {summary.fixes_offered}"],
        ["escalations", f"{summary.escalations.count:,}"],
    ])
    if summary.empty:
        headline = '<p class="empty">no suggestions, explanations, fixes or escalations in this period</p>'
    sections = [("Summary", headline)]

    labels = _day_labels(summary.days)
    if s.shown:
        suggestions_html = h.charts(
            h.line_chart(CHART_ACCEPTANCE_PER_DAY, labels,
                         {"acceptance": [d.acceptance_rate for d in summary.days],
                          "kept": [d.kept_rate for d in summary.days]}, percent=True),
            _per_day(CHART_SHOWN_PER_DAY, labels, {"shown": [d.shown for d in summary.days],
                                                   "accepted": [d.taken for d in summary.days]}),
            _per_day(CHART_KEPT_PER_DAY, labels, {"accepted": [d.measured_accepted_chars for d in summary.days],
                                                  "kept": [d.kept_chars for d in summary.days]}),
            h.bar_chart(CHART_OUTCOMES, [label for _, label in OUTCOME_LABELS],
                        [s.share(name) for name, _ in OUTCOME_LABELS], percent=True),
            h.grouped_bar_chart(CHART_LATENCY, [f"p{p}" for p in LATENCY_PERCENTILES],
                                {"all": [whole_ms(s.latency.get(p)) for p in LATENCY_PERCENTILES],
                                 "model only": [whole_ms(s.model_latency.get(p)) for p in LATENCY_PERCENTILES]}))
        suggestions_html += ('<p class="subtitle">Kept: of the accepted characters whose fate was measured, the '
                             f'share still in the document later ({s.kept_measured:,} suggestions measured). '
                             f'"Model only" leaves out the {s.from_cache:,} suggestions served from the cache.</p>')
    else:
        suggestions_html = '<p class="empty">no suggestions in this period</p>'
    sections.append(("Inline suggestions", suggestions_html))

    ex, fx = summary.explanations, summary.fixes
    outcome_names = list(dict.fromkeys([*ex.outcomes, *fx.outcomes]))
    sections.append(("Explanations and fixes", h.charts(
        h.grouped_bar_chart(CHART_TASK_OUTCOMES, outcome_names,
                            {"explanations": [ex.outcomes.get(o, 0) for o in outcome_names],
                             "fixes": [fx.outcomes.get(o, 0) for o in outcome_names]}),
        h.grouped_bar_chart(CHART_TASK_LATENCY, ["p50", "p95", "first chunk p50"],
                            {"explanations": _task_times(ex), "fixes": _task_times(fx)}))
        + h.table(["", "requests", "latency p50", "latency p95", "first chunk p50", "offered", "applied"],
                  [["explanations", ex.count, duration(ex.latency.p50), duration(ex.latency.p95),
                    duration(ex.first_chunk.p50), None, None],
                   ["fixes", fx.count, duration(fx.latency.p50), duration(fx.latency.p95),
                    duration(fx.first_chunk.p50), summary.fixes_offered, summary.fixes_applied],
                   ["questions (ask)", summary.questions.count, duration(summary.questions.latency.p50),
                    duration(summary.questions.latency.p95), duration(summary.questions.first_chunk.p50), None, None],
                   ["generations", summary.generations.count, duration(summary.generations.latency.p50),
                    duration(summary.generations.latency.p95), duration(summary.generations.first_chunk.p50),
                    summary.generations.outcomes.get("offered", 0), summary.generations_accepted]])))

    e = summary.escalations
    top = e.reasons[:TOP_REASONS]
    sections.append(("Escalations to the cloud", h.charts(
        h.bar_chart(CHART_ESCALATION_DECISIONS, list(e.decisions), list(e.decisions.values())),
        h.bar_chart(CHART_ESCALATION_REASONS, fit_labels([reason for _, reason, _ in top]), [n for _, _, n in top]))
        + h.table(["decision", "reason", "escalations"], [[d, reason, n] for d, reason, n in e.reasons])))

    sections.append(("By language", _group_section("language", CHART_BY_LANGUAGE, summary.by_language)))
    if len(summary.users) > 1:
        sections.append(("By user", _group_section("user", CHART_BY_USER, summary.by_user)))
    sections.append(("By model", _group_section("model", CHART_BY_MODEL, summary.by_model)))
    sources = "".join(f"<li>{h.escape(src)}</li>" for src in summary.sources)
    sections.append(("Sources", f"<ul>{sources}</ul>" if sources else '<p class="empty">no logs</p>'))
    return h.page(title, sections, subtitle=subtitle)

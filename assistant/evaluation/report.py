"""Reports over one or more runs: a comparison table for the terminal (rich) and a self-contained
HTML page (inline SVG charts from `assistant.reports.html`, no scripts, opens offline), both with the
checklist verdict per model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assistant.evaluation.checklist import CONTEXT, NO_CONTEXT, Thresholds, Verdict, verdicts
from assistant.evaluation.tasks import COMPLETION_KINDS

MODE_NAMES = {CONTEXT: "with context", NO_CONTEXT: "without context"}
SHORT_MODE_NAMES = {CONTEXT: "context", NO_CONTEXT: "no context"}
MB = 1024 * 1024


def merge_models(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The models of all runs, in order; a label seen in an earlier run gets the run's id appended."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for run in runs:
        for model in run.get("models", []):
            entry = dict(model)
            entry["run_id"] = run.get("id")
            entry["set_version"] = (run.get("set") or {}).get("version")
            if entry["label"] in seen:
                entry["label"] = f"{entry['label']} [{run.get('id')}]"
            seen.add(entry["label"])
            out.append(entry)
    return out


def modes_of(models: Sequence[dict[str, Any]]) -> list[str]:
    present = {mode for m in models for mode in (m.get("modes") or {})}
    return [mode for mode in (CONTEXT, NO_CONTEXT) if mode in present]


def exit_code(models: Sequence[dict[str, Any]], judged: Sequence[Verdict]) -> int:
    """0 when every model ran and every verdict is "adopt", else 1."""
    failed = any(m.get("status") != "ok" for m in models)
    return 1 if failed or any(not v.adopt for v in judged) else 0


def _fraction(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _number(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _mb(value: int | None) -> str:
    return "–" if value is None else f"{value / MB:,.0f}"


def _subtitle(runs: Sequence[dict[str, Any]]) -> str:
    parts = []
    for run in runs:
        s = run.get("set") or {}
        commit = (run.get("commit") or "")[:10]
        parts.append(f"run {run.get('id')} on set {s.get('version')} ({s.get('tasks', 0)} completion tasks, "
                     f"{s.get('explanations', 0)} explanation prompts) · {run.get('repo')}"
                     + (f" @ {commit}" if commit else ""))
    return " | ".join(parts)


def _mixed_sets(runs: Sequence[dict[str, Any]]) -> str | None:
    versions = sorted({(r.get("set") or {}).get("version") for r in runs} - {None})
    if len(versions) > 1:
        return f"these runs used different sets ({', '.join(versions)}): their scores are not like for like"
    return None


# --- terminal ---------------------------------------------------------------------------------------


def _print_explanations(console: Any, models: list[dict[str, Any]]) -> None:
    """Explanations per answer language: checklist coverage, answers in that language, echoes shown,
    echoes refused (the run step said so instead)."""
    rows = [(model["label"], mode, language, b) for model in models for mode in modes_of([model])
            for language, b in sorted(((model.get("modes") or {}).get(mode, {}).get("explanations_by_language") or {}).items())]
    if not rows:
        return
    from rich.table import Table

    table = Table(title="Explanations by answer language", title_justify="left")
    for header in ("model", "mode", "language", "n", "coverage", "in language", "echo shown", "echo refused"):
        table.add_column(header, justify="left" if header in ("model", "mode", "language") else "right")
    for label, mode, language, b in rows:
        table.add_row(label, SHORT_MODE_NAMES.get(mode, mode), language, str(b.get("explanations", 0)),
                      _fraction(b.get("coverage")), _fraction(b.get("language_rate")), _fraction(b.get("echo_rate")),
                      _fraction(b.get("refused_rate")))
    console.print(table)


def _print_questions(console: Any, models: list[dict[str, Any]]) -> None:
    """Questions asked of the codebase: citation precision/recall against the expected files, facts
    mentioned, and how often nothing was found."""
    rows = [(model["label"], mode, s) for model in models for mode in modes_of([model])
            for s in [(model.get("modes") or {}).get(mode, {})] if s.get("questions")]
    if not rows:
        return
    from rich.table import Table

    table = Table(title="Questions (ask)", title_justify="left")
    for header in ("model", "mode", "n", "citation precision", "citation recall", "facts", "nothing found"):
        table.add_column(header, justify="left" if header in ("model", "mode") else "right")
    for label, mode, s in rows:
        table.add_row(label, SHORT_MODE_NAMES.get(mode, mode), str(s["questions"]), _fraction(s.get("citation_precision")),
                      _fraction(s.get("citation_recall")), _fraction(s.get("question_coverage")),
                      _fraction(s.get("nothing_found_rate")))
    console.print(table)


def _print_generations(console: Any, models: list[dict[str, Any]]) -> None:
    """Held-out function bodies asked as generate: how often a validated edit came back, and how
    close it was to the real body."""
    rows = [(model["label"], mode, s) for model in models for mode in modes_of([model])
            for s in [(model.get("modes") or {}).get(mode, {})] if s.get("generations")]
    if not rows:
        return
    from rich.table import Table

    table = Table(title="Generations (function bodies)", title_justify="left")
    for header in ("model", "mode", "n", "edit offered", "edit similarity", "p50 latency"):
        table.add_column(header, justify="left" if header in ("model", "mode") else "right")
    for label, mode, s in rows:
        latency = s.get("generation_p50_latency_ms")
        table.add_row(label, SHORT_MODE_NAMES.get(mode, mode), str(s["generations"]),
                      _fraction(s.get("generation_offered_rate")), _fraction(s.get("generation_edit_similarity")),
                      "–" if latency is None else f"{latency / 1000:.1f} s")
    console.print(table)


def print_report(runs: Sequence[dict[str, Any]], thresholds: Thresholds, console: Any = None) -> list[Verdict]:
    """Print the comparison, the breakdown per kind, failures and verdicts; return the verdicts."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    models = merge_models(runs)
    judged = verdicts(models, thresholds)
    console.print(f"[bold]kura model evaluation[/bold] — {_subtitle(runs)}", highlight=False)
    warning = _mixed_sets(runs)
    if warning:
        console.print(f"[yellow]note:[/yellow] {warning}", highlight=False)

    quality = Table(title="Quality", title_justify="left")
    speed = Table(title="Speed and memory", title_justify="left")
    for table, headers in ((quality, ("exact", "edit sim", "syntax ok", "explain", "errors")),
                           (speed, ("p50 ms", "p95 ms", "tok/s", "tasks/s", "load ms", "RSS +MB", "file MB"))):
        table.add_column("model", overflow="fold")
        table.add_column("mode")
        for header in headers:
            table.add_column(header, justify="right")
    for model in models:
        modes = model.get("modes") or {}
        memory = (_number(model.get("load_ms")), _mb(model.get("peak_rss_delta_bytes")), _mb(model.get("file_bytes")))
        if not modes:
            quality.add_row(model["label"], f"[red]{model.get('status')}[/red]", *["–"] * 5)
            speed.add_row(model["label"], f"[red]{model.get('status')}[/red]", "–", "–", "–", "–", *memory)
            continue
        for mode in modes_of([model]):
            s = modes[mode]
            name = SHORT_MODE_NAMES[mode] if model.get("status") == "ok" else f"{SHORT_MODE_NAMES[mode]} [red]{model.get('status')}[/red]"
            quality.add_row(model["label"], name, _fraction(s.get("exact_match")), _fraction(s.get("edit_similarity")),
                            _fraction(s.get("syntax_validity")), _fraction(s.get("explanation_coverage")),
                            str(s.get("errors", 0)))
            # Tasks finished per second of the run (concurrent lanes against a server raise it).
            throughput = (model.get("throughput") or {}).get(mode) or {}
            speed.add_row(model["label"], name, _number(s.get("p50_latency_ms")), _number(s.get("p95_latency_ms")),
                          _number(s.get("tokens_per_s"), 1), _number(throughput.get("tasks_per_s"), 2), *memory)
    console.print(quality)
    console.print(speed)
    _print_explanations(console, models)
    _print_questions(console, models)
    _print_generations(console, models)

    kinds = Table(title="By task kind (exact / edit similarity)", title_justify="left")
    kinds.add_column("model")
    kinds.add_column("mode")
    for kind in COMPLETION_KINDS:
        kinds.add_column(kind, justify="right")
    for model in models:
        for mode in modes_of([model]):
            by_kind = model["modes"][mode].get("by_kind") or {}
            cells = []
            for kind in COMPLETION_KINDS:
                k = by_kind.get(kind)
                cells.append("–" if not k else f"{_fraction(k.get('exact_match'))} / {_fraction(k.get('edit_similarity'))}"
                             f" (n={k.get('tasks')})")
            kinds.add_row(model["label"], SHORT_MODE_NAMES[mode], *cells)
    if any(modes_of([m]) for m in models):
        console.print(kinds)

    for model in models:
        if model.get("status") != "ok":
            console.print(f"[red]failed:[/red] {model['label']}: {model.get('error')}", highlight=False)

    verdict_table = Table(title=f"Checklist: {thresholds.source}", title_justify="left")
    verdict_table.add_column("model")
    verdict_table.add_column("verdict")
    verdict_table.add_column("checks")
    for v in judged:
        word = f"[green]{v.word}[/green]" if v.adopt else f"[red]{v.word}[/red]"
        lines = [v.reason] if v.reason else [_check_line(c) for c in v.checks] or ["(no thresholds set)"]
        verdict_table.add_row(v.label, word, "\n".join(lines))
    console.print(verdict_table)
    return judged


def _check_line(check: Any) -> str:
    mark = "pass" if check.passed else "n/a " if check.passed is None else "FAIL"
    value = "–" if check.value is None else (f"{check.value:.0f}" if "latency" in check.name else f"{check.value:.3f}")
    note = f" ({check.note})" if check.note else ""
    return f"{mark}  {check.name}: {value}{note}"


# --- HTML -------------------------------------------------------------------------------------------


def render_html(runs: Sequence[dict[str, Any]], thresholds: Thresholds,
                history: Sequence[dict[str, Any]] = ()) -> str:
    """The whole report page. `history`: every run of the store, oldest first, for the trend charts."""
    from assistant.reports import html as h

    models = merge_models(runs)
    judged = verdicts(models, thresholds)
    ok = [m for m in models if m.get("modes")]
    labels = [m["label"] for m in ok]
    modes = modes_of(ok)
    sections: list[tuple[str, str]] = []

    # Verdicts first: the decision is what a reader came for.
    verdict_rows = []
    for v in judged:
        checks = h.Markup("<br>".join(
            f"{h.badge(bool(c.passed), 'pass', 'fail') if c.passed is not None else '<span class=empty>n/a</span>'} "
            f"{h.escape(c.name)}: <b>{h.escape(_check_value(c))}</b>{' — ' + h.escape(c.note) if c.note else ''}"
            for c in v.checks) or h.escape(v.reason or "(no thresholds set)"))
        verdict_rows.append([v.label, h.badge(v.adopt, "adopt", "do not adopt"),
                             "–" if v.reason else MODE_NAMES.get(v.mode, v.mode), checks])
    sections.append(("Verdict", f"<p>Thresholds from <code>{h.escape(thresholds.source)}</code>.</p>"
                     + h.table(["model", "verdict", "scores used", "checks"], verdict_rows)))

    rows = []
    for model in models:
        if not model.get("modes"):
            rows.append([model["label"], "–", model.get("status"), None, None, None, None, None, None, None,
                         model.get("load_ms"), _mb_value(model.get("peak_rss_delta_bytes")),
                         _mb_value(model.get("file_bytes"))])
        for mode in modes_of([model]):
            s = model["modes"][mode]
            rows.append([model["label"], MODE_NAMES[mode], model.get("status"), _pct(s.get("exact_match")),
                         _pct(s.get("edit_similarity")), _pct(s.get("syntax_validity")),
                         _pct(s.get("explanation_coverage")), s.get("p50_latency_ms"), s.get("p95_latency_ms"),
                         s.get("tokens_per_s"), model.get("load_ms"), _mb_value(model.get("peak_rss_delta_bytes")),
                         _mb_value(model.get("file_bytes"))])
    note = _mixed_sets(runs)
    sections.append(("Comparison", (f'<p class="fail">{h.escape(note)}</p>' if note else "") + h.table(
        ["model", "mode", "status", "exact match %", "edit similarity %", "syntax valid %", "explanation coverage %",
         "p50 latency ms", "p95 latency ms", "decode tokens/s", "load ms", "peak RSS +MB", "model file MB"], rows)))

    def per_mode(metric: str) -> dict[str, list[float | None]]:
        return {MODE_NAMES[mode]: [(m["modes"].get(mode) or {}).get(metric) for m in ok] for mode in modes}

    quality = [h.grouped_bar_chart("Exact match", labels, per_mode("exact_match"), percent=True),
               h.grouped_bar_chart("Edit similarity", labels, per_mode("edit_similarity"), percent=True),
               h.grouped_bar_chart("Syntax validity", labels, per_mode("syntax_validity"), percent=True)]
    if any(v is not None for vs in per_mode("explanation_coverage").values() for v in vs):
        quality.append(h.grouped_bar_chart("Explanation checklist coverage", labels, per_mode("explanation_coverage"),
                                           percent=True))
    sections.append(("Quality", h.charts(*quality)))

    cost = [h.grouped_bar_chart("p50 latency", labels, per_mode("p50_latency_ms"), unit=" ms"),
            h.grouped_bar_chart("p95 latency", labels, per_mode("p95_latency_ms"), unit=" ms"),
            h.grouped_bar_chart("Decode speed", labels, per_mode("tokens_per_s"), unit=" tok/s"),
            h.bar_chart("Load time", labels, [m.get("load_ms") for m in ok], unit=" ms"),
            h.grouped_bar_chart("Memory", labels, {
                "peak RSS increase": [_mb_value(m.get("peak_rss_delta_bytes")) for m in ok],
                "model file": [_mb_value(m.get("file_bytes")) for m in ok]}, unit=" MB")]
    sections.append(("Speed and memory", h.charts(*cost)))

    main_mode = thresholds.mode if thresholds.mode in modes else (modes[0] if modes else CONTEXT)
    kind_series = {m["label"]: [((m["modes"].get(main_mode) or {}).get("by_kind") or {}).get(k, {}).get("edit_similarity")
                                for k in COMPLETION_KINDS] for m in ok}
    kind_exact = {m["label"]: [((m["modes"].get(main_mode) or {}).get("by_kind") or {}).get(k, {}).get("exact_match")
                               for k in COMPLETION_KINDS] for m in ok}
    languages = sorted({lang for m in ok for s in m["modes"].values() for lang in (s.get("by_language") or {})})
    language_series = {m["label"]: [((m["modes"].get(main_mode) or {}).get("by_language") or {}).get(lang, {})
                                    .get("edit_similarity") for lang in languages] for m in ok}
    sections.append((f"By task kind and language ({MODE_NAMES.get(main_mode, main_mode)})", h.charts(
        h.grouped_bar_chart("Exact match by kind", list(COMPLETION_KINDS), kind_exact, percent=True),
        h.grouped_bar_chart("Edit similarity by kind", list(COMPLETION_KINDS), kind_series, percent=True),
        h.grouped_bar_chart("Edit similarity by language", languages, language_series, percent=True))))

    explain_rows = []
    for model in ok:
        for r in model.get("results", []):
            if r.get("kind") == "explain":
                explain_rows.append([model["label"], MODE_NAMES.get(r.get("mode"), r.get("mode")), r.get("name"),
                                     _pct(r.get("coverage")), ", ".join(r.get("missing") or []) or "–",
                                     r.get("error") or ""])
    if explain_rows:
        sections.append(("Explanation prompts", h.table(
            ["model", "mode", "prompt", "coverage %", "facts missing", "error"], explain_rows)))
    ask_rows = [[model["label"], MODE_NAMES.get(r.get("mode"), r.get("mode")), r.get("name"),
                 _pct(r.get("citation_precision")), _pct(r.get("citation_recall")), ", ".join(r.get("cited") or []) or "–",
                 r.get("error") or ""]
                for model in ok for r in model.get("results", []) if r.get("kind") == "ask"]
    generate_rows = [[model["label"], MODE_NAMES.get(r.get("mode"), r.get("mode")), f"{r.get('path')}: {r.get('symbol')}",
                      "yes" if r.get("offered") else "no", _pct(r.get("edit_similarity")), r.get("error") or ""]
                     for model in ok for r in model.get("results", []) if r.get("kind") == "generate"]
    if generate_rows:
        sections.append(("Generations (function bodies)", h.table(
            ["model", "mode", "function", "edit offered", "edit similarity %", "error"], generate_rows)))
    if ask_rows:
        sections.append(("Questions (ask)", h.table(
            ["model", "mode", "question", "citation precision %", "citation recall %", "cited", "error"], ask_rows)))

    failures = [[m["label"], m.get("source", ""), m.get("error") or ""] for m in models if m.get("status") != "ok"]
    if failures:
        sections.append(("Failed models", h.table(["model", "config", "error"], failures)))

    if len(history) >= 2:
        x = [f"{(r.get('created') or '')[:16].replace('T', ' ')} {(r.get('set') or {}).get('version', '')}"
             for r in history]
        names = list(dict.fromkeys(m["label"] for r in history for m in r.get("models", [])))

        def trend(metric: str) -> dict[str, list[float | None]]:
            out = {}
            for name in names:
                values = []
                for r in history:
                    found = next((m for m in r.get("models", []) if m["label"] == name), None)
                    s = ((found or {}).get("modes") or {}).get(main_mode) or {}
                    values.append(s.get(metric))
                out[name] = values
            return out

        sections.append(("History", h.charts(h.line_chart("Exact match over runs", x, trend("exact_match"), percent=True),
                                             h.line_chart("Edit similarity over runs", x, trend("edit_similarity"),
                                                          percent=True),
                                             h.line_chart("p95 latency over runs", x, trend("p95_latency_ms"),
                                                          unit=" ms"))))

    machine = "; ".join(f"{r.get('id')}: {(r.get('machine') or {}).get('cpus')} CPUs, {(r.get('machine') or {}).get('platform')}"
                        for r in runs)
    sections.append(("How these numbers were measured", (
        "<p>Each completion task hides code from a file of the repository (a whole line, the rest of an expression "
        "on a line, or a whole function body) and asks the model for it through kura's own completion path. "
        "<b>Exact match</b> compares the answer with the hidden code ignoring trailing whitespace; "
        "<b>edit similarity</b> is 1 − Levenshtein distance / longer length; <b>syntax valid</b> means the file with "
        "the answer in place has no more tree-sitter errors than the original; tasks that errored score 0. "
        "<b>Latency</b> is the whole request (context, prompt, model); <b>decode speed</b> excludes prompt evaluation. "
        "<b>With context</b> adds repository context from the index (never the hidden code itself, never "
        f"confidential files). Explanation coverage is the share of a prompt's facts the answer mentions.</p>"
        f"<p>{h.escape(machine)}</p>")))
    return h.page("kura model evaluation", sections, subtitle=_subtitle(runs))


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _mb_value(value: int | None) -> float | None:
    return None if value is None else round(value / MB, 1)


def _check_value(check: Any) -> str:
    if check.value is None:
        return "–"
    return f"{check.value:.0f} ms" if "latency" in check.name else f"{check.value * 100:.1f}%"

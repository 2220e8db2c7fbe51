"""Reports: the HTML page's charts and numbers read back with html.parser, the terminal tables, the verdicts."""

from __future__ import annotations

import io
from html.parser import HTMLParser

from assistant.evaluation.checklist import Thresholds
from assistant.evaluation.report import exit_code, merge_models, print_report, render_html


def summary(exact: float, edit: float, syntax: float, p50: float, p95: float, tps: float, coverage=None) -> dict:
    return {"tasks": 6, "errors": 0, "exact_match": exact, "edit_similarity": edit, "syntax_validity": syntax,
            "p50_latency_ms": p50, "p95_latency_ms": p95, "tokens_per_s": tps, "explanations": 1,
            "explanation_coverage": coverage,
            "by_kind": {"line": {"tasks": 2, "exact_match": exact, "edit_similarity": edit, "syntax_validity": 1.0},
                        "body": {"tasks": 2, "exact_match": 0.0, "edit_similarity": 0.25, "syntax_validity": 1.0}},
            "by_language": {"python": {"tasks": 4, "exact_match": exact, "edit_similarity": edit, "syntax_validity": 1.0},
                            "go": {"tasks": 2, "exact_match": 0.0, "edit_similarity": 0.1, "syntax_validity": 0.5}}}


RUN = {
    "id": "20250101T000000Z-v0001", "created": "2025-01-01T00:00:00+00:00", "repo": "/src/company", "commit": "abc123",
    "set": {"version": "v0001", "tasks": 6, "explanations": 1},
    "machine": {"cpus": 2, "platform": "Linux"},
    "models": [
        {"label": "qwen-coder", "status": "ok", "error": None, "load_ms": 812.5, "file_bytes": 986 * 1024 * 1024,
         "peak_rss_delta_bytes": 1200 * 1024 * 1024, "source": "qwen.toml",
         "modes": {"context": summary(0.5, 0.75, 1.0, 420.0, 900.0, 35.5, 1.0),
                   "no_context": summary(0.25, 0.5, 1.0, 300.0, 650.0, 36.0, 0.5)},
         "results": [{"kind": "explain", "mode": "context", "name": "invoice totals", "coverage": 1.0, "missing": []}]},
        {"label": "tiny<script>", "status": "ok", "error": None, "load_ms": 10.0, "file_bytes": 600_000,
         "peak_rss_delta_bytes": 40 * 1024 * 1024, "source": "tiny.gguf",
         "modes": {"context": summary(0.0, 0.125, 0.0, 80.0, 100.0, 3000.0, 0.0),
                   "no_context": summary(0.0, 0.1, 0.0, 30.0, 40.0, 4000.0, 0.0)}, "results": []},
        {"label": "absent", "status": "failed", "error": "model file not found: /models/absent.gguf", "load_ms": None,
         "file_bytes": None, "peak_rss_delta_bytes": None, "source": "absent.gguf", "modes": {}, "results": []},
    ],
}


class Page(HTMLParser):
    """Collects chart marks (rect.bar / circle.point with data-*), tags and visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.marks: list[dict[str, str]] = []
        self.charts: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "svg" and "data-chart" in attrs:
            self.charts.append(attrs["data-chart"])
        if attrs.get("class") in ("bar", "point"):
            self.marks.append({**attrs, "chart": self.charts[-1]})

    def handle_data(self, data):
        self.text.append(data)

    def value(self, chart: str, label: str, series: str | None = None) -> float:
        [mark] = [m for m in self.marks if m["chart"] == chart and m["data-label"] == label
                  and (series is None or m.get("data-series") == series)]
        return float(mark["data-value"])


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def test_the_html_report_charts_carry_the_run_numbers():
    page = parse(render_html([RUN], Thresholds()))
    assert {"Exact match", "Edit similarity", "Syntax validity", "p95 latency", "Decode speed", "Memory",
            "Explanation checklist coverage", "Exact match by kind"} <= set(page.charts)
    assert page.value("Exact match", "qwen-coder", "with context") == 0.5
    assert page.value("Exact match", "qwen-coder", "without context") == 0.25
    assert page.value("Edit similarity", "tiny<script>", "with context") == 0.125
    assert page.value("p95 latency", "qwen-coder", "with context") == 900.0
    assert page.value("Load time", "qwen-coder") == 812.5
    assert page.value("Memory", "qwen-coder", "model file") == 986.0
    assert page.value("Exact match by kind", "body", "qwen-coder") == 0.0
    assert page.value("Edit similarity by language", "go", "tiny<script>") == 0.1
    assert not [m for m in page.marks if m["data-label"] == "absent"]  # a failed model has no scores to chart


def test_the_html_report_is_self_contained_and_escapes_labels():
    html = render_html([RUN], Thresholds())
    page = parse(html)
    assert not any(tag == "script" for tag, _ in page.tags)
    assert not any(v.startswith(("http:", "https:", "//")) for _, attrs in page.tags
                   for k, v in attrs.items() if k in ("src", "href") and v)
    assert "tiny&lt;script&gt;" in html and "<script>" not in html


def test_the_html_report_gives_a_verdict_per_model_with_each_check():
    text = " ".join(parse(render_html([RUN], Thresholds())).text)
    assert text.count("do not adopt") == 2 and "adopt" in text.replace("do not adopt", "")
    assert "p95 latency (ms) <= 2000" in text and "model file not found: /models/absent.gguf" in text
    assert "Failed models" in text


def test_the_history_section_charts_every_run():
    later = {**RUN, "id": "20250201T000000Z-v0002", "created": "2025-02-01T00:00:00+00:00",
             "set": {"version": "v0002", "tasks": 8, "explanations": 1}}
    page = parse(render_html([later], Thresholds(), history=[RUN, later]))
    points = [m for m in page.marks if m["chart"] == "Exact match over runs" and m["data-series"] == "qwen-coder"]
    assert [float(p["data-value"]) for p in points] == [0.5, 0.5] and len({p["data-label"] for p in points}) == 2


def test_the_terminal_report_shows_scores_failures_and_verdicts():
    from rich.console import Console

    out = io.StringIO()
    judged = print_report([RUN], Thresholds(), Console(file=out, width=140, color_system=None))
    text = out.getvalue()
    assert "qwen-coder" in text and "50.0%" in text and "75.0%" in text and "900" in text
    assert "failed: absent: model file not found" in text
    assert [v.word for v in judged] == ["adopt", "do not adopt", "do not adopt"]
    assert exit_code(merge_models([RUN]), judged) == 1
    good = {**RUN, "models": RUN["models"][:1]}
    assert exit_code(merge_models([good]), print_report([good], Thresholds(), Console(file=io.StringIO()))) == 0


def test_runs_with_the_same_label_stay_apart():
    other = {**RUN, "id": "later"}
    labels = [m["label"] for m in merge_models([RUN, other])]
    assert labels[:3] == ["qwen-coder", "tiny<script>", "absent"] and "qwen-coder [later]" in labels


def test_the_terminal_report_shows_each_modes_throughput():
    from rich.console import Console

    model = {**RUN["models"][0], "throughput": {"context": {"seconds": 8.0, "tasks": 20, "tasks_per_s": 2.5}}}
    out = io.StringIO()
    print_report([{**RUN, "models": [model]}], Thresholds(), Console(file=out, width=160, color_system=None))
    text = out.getvalue()
    assert "tasks/s" in text and "2.50" in text

"""Self-contained HTML reports with inline SVG charts: no scripts, no CDN, opens offline.

Shared by the effect report (`kura report`) and the model evaluation report (`kura eval report`).
Every bar and point carries `data-label`/`data-value` attributes, so the numbers behind a chart
can be read back by a parser (and by tests), and a `<title>` for a hover tooltip.
"""

from __future__ import annotations

import html
import math
from typing import Sequence

PALETTE = ("#3b6ea5", "#e0803a", "#4f9d69", "#b5484f", "#7d5ba6", "#8c6d4f", "#c2559b", "#6b7280")
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 68, 16, 32, 56  # plot margins: y labels left, x labels below

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Hiragino Sans", "Noto Sans JP", sans-serif;
       color: #1f2933; max-width: 1100px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #d9dee4; }
.subtitle { color: #52606d; } .charts { display: flex; flex-wrap: wrap; gap: 16px; }
/* Two charts a row on a wide screen, one on a narrow one; the SVGs scale with their viewBox. */
figure { margin: 0; flex: 1 1 480px; max-width: calc(50% - 8px); }
@media (max-width: 1000px) { figure { max-width: 100%; } }
svg { background: #fff; border: 1px solid #e4e7eb; border-radius: 4px; width: 100%; height: auto; }
svg text { font: 11px system-ui, sans-serif; fill: #3e4c59; } svg .title { font-size: 13px; font-weight: 600; }
table { border-collapse: collapse; margin: .6em 0; } th, td { border: 1px solid #d9dee4; padding: 4px 10px; }
th { background: #f5f7fa; text-align: left; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.pass { color: #1b7f3b; font-weight: 600; } .fail { color: #b42318; font-weight: 600; }
.empty { color: #7b8794; font-style: italic; }
"""


def escape(text: object) -> str:
    return html.escape(str(text), quote=True)


def fmt(value: float | None, unit: str = "", percent: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if percent:
        return f"{value * 100:.1f}%"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}{unit}"
    return f"{value:,.1f}{unit}" if abs(value) >= 10 else f"{value:,.2f}{unit}"


def _scale_max(values: Sequence[float | None], percent: bool) -> float:
    """The top of the y axis: a round number; for whole-number data one whose quarter ticks are whole."""
    present = [v for v in values if v is not None]
    top = max(present or [0.0])
    if percent:
        return max(1.0, top)
    if top <= 0:
        return 1.0
    counts = all(float(v).is_integer() for v in present)
    if counts and top <= 8:
        return 4.0 if top <= 4 else 8.0
    magnitude = 10 ** math.floor(math.log10(top))
    for step in (1, 1.2, 1.6, 2, 2.5, 4, 5, 6, 8, 10) if counts else (1, 2, 2.5, 5, 10):
        nice = step * magnitude
        if nice >= top and (not counts or float(nice / 4).is_integer()):
            return nice
    return 4 * math.ceil(top / 4) if counts else top


def _frame(title: str, y_max: float, unit: str, percent: bool) -> list[str]:
    """The SVG head: title, horizontal grid lines and y labels."""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" data-chart="{escape(title)}">',
             f'<text class="title" x="{LEFT}" y="18">{escape(title)}</text>']
    plot_h = HEIGHT - TOP - BOTTOM
    for i in range(5):
        value = y_max * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e7eb"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(value, unit, percent))}</text>')
    return parts


def _x_label(x: float, label: str, count: int) -> str:
    if count > 12:  # many labels: slant them so they stay readable
        y = HEIGHT - BOTTOM + 12
        return (f'<text x="{x:.1f}" y="{y}" text-anchor="end" transform="rotate(-40 {x:.1f} {y})">'
                f'{escape(label)}</text>')
    return f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{escape(label)}</text>'


def _y(value: float, y_max: float) -> float:
    plot_h = HEIGHT - TOP - BOTTOM
    return TOP + plot_h - plot_h * min(value, y_max) / y_max


def _legend(names: Sequence[str]) -> list[str]:
    parts, x = [], WIDTH - RIGHT
    for i, name in reversed(list(enumerate(names))):
        x -= 24 + 7 * len(name)
        parts.append(f'<rect x="{x}" y="8" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
                     f'<text x="{x + 14}" y="17">{escape(name)}</text>')
    return parts


def _empty(title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="80" viewBox="0 0 {WIDTH} 80" '
            f'data-chart="{escape(title)}">'
            f'<text class="title" x="{LEFT}" y="18">{escape(title)}</text>'
            f'<text x="{LEFT}" y="50" class="empty">no data</text></svg>')


def grouped_bar_chart(title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]], *,
                      unit: str = "", percent: bool = False) -> str:
    """Bars per label, one colour per series; each value is written above its bar."""
    values = [v for vs in series.values() for v in vs]
    if not labels or all(v is None for v in values):
        return _empty(title)
    y_max = _scale_max(values, percent)
    parts = _frame(title, y_max, unit, percent)
    slot = (WIDTH - LEFT - RIGHT) / len(labels)
    bar_w = min(48.0, slot * 0.8 / max(1, len(series)))
    for i, label in enumerate(labels):
        x0 = LEFT + slot * i + (slot - bar_w * len(series)) / 2
        for j, (name, vs) in enumerate(series.items()):
            value = vs[i]
            if value is None:
                continue
            y = _y(value, y_max)
            x = x0 + j * bar_w
            shown = fmt(value, unit, percent)
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" '
                         f'height="{HEIGHT - BOTTOM - y:.1f}" fill="{PALETTE[j % len(PALETTE)]}" '
                         f'data-series="{escape(name)}" data-label="{escape(label)}" data-value="{value}">'
                         f'<title>{escape(label)} · {escape(name)}: {escape(shown)}</title></rect>')
            if len(labels) * len(series) <= 24:
                parts.append(f'<text x="{x + bar_w / 2 - 1:.1f}" y="{y - 3:.1f}" text-anchor="middle">{escape(shown)}</text>')
        parts.append(_x_label(LEFT + slot * (i + 0.5), label, len(labels)))
    if len(series) > 1:
        parts += _legend(list(series))
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float | None], *,
              unit: str = "", percent: bool = False) -> str:
    return grouped_bar_chart(title, labels, {title: values}, unit=unit, percent=percent)


def line_chart(title: str, x_labels: Sequence[str], series: dict[str, Sequence[float | None]], *,
               unit: str = "", percent: bool = False) -> str:
    """One line per series over the x labels (e.g. days); gaps where a value is None."""
    values = [v for vs in series.values() for v in vs]
    if not x_labels or all(v is None for v in values):
        return _empty(title)
    y_max = _scale_max(values, percent)
    parts = _frame(title, y_max, unit, percent)
    plot_w = WIDTH - LEFT - RIGHT
    step = plot_w / max(1, len(x_labels) - 1) if len(x_labels) > 1 else 0
    xs = [LEFT + (step * i if len(x_labels) > 1 else plot_w / 2) for i in range(len(x_labels))]
    every = max(1, math.ceil(len(x_labels) / 12))
    for i, label in enumerate(x_labels):
        if i % every == 0 or i == len(x_labels) - 1:
            parts.append(_x_label(xs[i], label, min(len(x_labels), 13)))
    for j, (name, vs) in enumerate(series.items()):
        colour = PALETTE[j % len(PALETTE)]
        runs: list[list[str]] = [[]]
        for i, value in enumerate(vs):
            if value is None:
                runs.append([])
                continue
            y = _y(value, y_max)
            runs[-1].append(f"{xs[i]:.1f},{y:.1f}")
            parts.append(f'<circle class="point" cx="{xs[i]:.1f}" cy="{y:.1f}" r="3" fill="{colour}" '
                         f'data-series="{escape(name)}" data-label="{escape(x_labels[i])}" data-value="{value}">'
                         f'<title>{escape(x_labels[i])} · {escape(name)}: {escape(fmt(value, unit, percent))}</title></circle>')
        for run in runs:
            if len(run) > 1:
                parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(run)}"/>')
    if len(series) > 1:
        parts += _legend(list(series))
    parts.append("</svg>")
    return "".join(parts)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """An HTML table; numbers are right-aligned. Cells that are already HTML come as `Markup`."""
    if not rows:
        return '<p class="empty">no data</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for cell in row:
            if isinstance(cell, Markup):
                cells.append(f"<td>{cell}</td>")
            elif isinstance(cell, (int, float)) and not isinstance(cell, bool):
                cells.append(f'<td class="num">{escape(fmt(cell))}</td>')
            else:
                cells.append(f"<td>{escape('–' if cell is None else cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


class Markup(str):
    """A string that is already HTML (e.g. a pass/fail badge) and must not be escaped again."""


def badge(ok: bool, yes: str = "pass", no: str = "fail") -> Markup:
    return Markup(f'<span class="{"pass" if ok else "fail"}">{escape(yes if ok else no)}</span>')


def page(title: str, sections: Sequence[tuple[str, str]], *, subtitle: str = "") -> str:
    """A whole HTML document: a heading per section, its HTML below."""
    body = [f"<h1>{escape(title)}</h1>"]
    if subtitle:
        body.append(f'<p class="subtitle">{escape(subtitle)}</p>')
    for heading, content in sections:
        body.append(f"<section><h2>{escape(heading)}</h2>{content}</section>")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{CSS}</style></head><body>{''.join(body)}</body></html>\n")


def charts(*svgs: str) -> str:
    """Several charts side by side, wrapping on narrow screens."""
    return '<div class="charts">' + "".join(f"<figure>{svg}</figure>" for svg in svgs) + "</div>"

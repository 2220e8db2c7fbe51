"""The adoption checklist: thresholds a company keeps in `.kura/eval/checklist.toml`, and the verdict
("adopt" / "do not adopt", with each threshold's pass or fail) for every model of a run."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from assistant.evaluation import EvalError

CONTEXT, NO_CONTEXT = "context", "no_context"

STARTER_CHECKLIST = '''\
# kura eval checklist: the bar a model must clear before the company adopts it.
# `kura eval report` checks each model of a run against these thresholds and prints "adopt" or
# "do not adopt" with every threshold's pass/fail. Comment a line out to stop checking it.
# Scores are fractions (0.25 = 25%); latency is in milliseconds.

# Which scores the verdict reads: "context" (with repository context, what users get) or "no_context".
mode = "context"

# The model in use today, by its label in the run (e.g. "embedded"). A candidate must not be worse
# than it by more than max_regression (absolute: 0.05 = 5 points) in exact match, edit similarity,
# syntax validity and explanation coverage.
# current_model = "embedded"
# max_regression = 0.05

[thresholds]
min_exact_match = 0.20            # share of completions equal to the held-out code
min_edit_similarity = 0.50        # mean normalized edit similarity (1.0 = identical)
min_syntax_validity = 0.90        # share of completed files with no new syntax errors
max_p95_latency_ms = 2000         # 95th-percentile completion latency
min_explanation_coverage = 0.50   # mean share of the prompts' must_mention facts the answers mention
'''

# (threshold key, summary metric, direction, what it is called in reports)
THRESHOLDS: tuple[tuple[str, str, str, str], ...] = (
    ("min_exact_match", "exact_match", ">=", "exact match"),
    ("min_edit_similarity", "edit_similarity", ">=", "edit similarity"),
    ("min_syntax_validity", "syntax_validity", ">=", "syntax validity"),
    ("max_p95_latency_ms", "p95_latency_ms", "<=", "p95 latency (ms)"),
    ("min_explanation_coverage", "explanation_coverage", ">=", "explanation coverage"),
)
REGRESSION_METRICS = ("exact_match", "edit_similarity", "syntax_validity", "explanation_coverage")
_NAMES = {metric: name for _key, metric, _op, name in THRESHOLDS}


@dataclass(frozen=True)
class Thresholds:
    min_exact_match: float | None = 0.20
    min_edit_similarity: float | None = 0.50
    min_syntax_validity: float | None = 0.90
    max_p95_latency_ms: float | None = 2000.0
    min_explanation_coverage: float | None = 0.50
    current_model: str | None = None
    max_regression: float | None = None
    mode: str = CONTEXT
    source: str = "the starter thresholds (no checklist.toml)"


def load_checklist(path: Path | None) -> Thresholds:
    """The thresholds in `path`; the starter's when it does not exist. EvalError (file:line: problem)
    when it is broken: a verdict from thresholds nobody wrote would be worse than none."""
    if path is None or not Path(path).exists():
        return Thresholds()
    shown = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise EvalError(f"{shown}: cannot read: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        where = f"{shown}:{match.group(1)}" if match else shown
        problem = re.sub(r"\s*\(at line .*\)", "", str(exc))
        raise EvalError(f"{where}: invalid TOML: {problem}") from exc

    def fail(key: str, problem: str) -> EvalError:
        return EvalError(f"{_where(shown, text, key)}: {problem}")

    unknown = sorted(set(data) - {"thresholds", "current_model", "max_regression", "mode"})
    if unknown:
        raise fail(unknown[0], f"unknown key {unknown[0]!r}; expected [thresholds], current_model, max_regression, mode")
    table = data.get("thresholds", {})
    if not isinstance(table, dict):
        raise fail("thresholds", "[thresholds] must be a table")
    known = {key for key, *_ in THRESHOLDS}
    values: dict[str, Any] = {f.name: None for f in fields(Thresholds) if f.name in known}
    for key, value in table.items():
        if key in ("mode", "current_model", "max_regression"):
            raise fail(key, f"{key} belongs above [thresholds] (TOML puts keys after a table header inside it)")
        if key not in known:
            raise fail(key, f"unknown threshold {key!r}; expected one of: {', '.join(sorted(known))}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise fail(key, f"{key} must be a number of 0 or more, got {value!r}")
        if key != "max_p95_latency_ms" and value > 1:
            raise fail(key, f"{key} is a fraction between 0 and 1 (0.25 = 25%), got {value!r}")
        values[key] = float(value)
    current = data.get("current_model")
    if current is not None and (not isinstance(current, str) or not current.strip()):
        raise fail("current_model", "current_model must be a model's label, e.g. \"embedded\"")
    regression = data.get("max_regression")
    if regression is not None and (isinstance(regression, bool) or not isinstance(regression, (int, float))
                                   or not 0 <= regression <= 1):
        raise fail("max_regression", f"max_regression must be a fraction between 0 and 1, got {regression!r}")
    if regression is not None and current is None:
        raise fail("max_regression", "max_regression needs current_model: the label of the model it compares with")
    mode = data.get("mode", CONTEXT)
    if mode not in (CONTEXT, NO_CONTEXT):
        raise fail("mode", f"mode must be \"{CONTEXT}\" or \"{NO_CONTEXT}\", got {mode!r}")
    return Thresholds(**values, current_model=current.strip() if current else None,
                      max_regression=float(regression) if regression is not None else None, mode=mode, source=shown)


def _where(shown: str, text: str, key: str) -> str:
    for lineno, line in enumerate(text.splitlines(), 1):
        if re.match(rf"^\s*(\[\s*)?{re.escape(key)}\s*(=|\])", line):
            return f"{shown}:{lineno}"
    return shown


@dataclass(frozen=True)
class Check:
    name: str  # "exact match >= 0.20"
    value: float | None
    passed: bool | None  # None: could not be measured (no explanation prompts, no current model...)
    note: str = ""


@dataclass(frozen=True)
class Verdict:
    label: str
    adopt: bool
    mode: str
    checks: tuple[Check, ...] = ()
    reason: str = ""  # for a model that failed

    @property
    def word(self) -> str:
        return "adopt" if self.adopt else "do not adopt"


def verdicts(models: list[dict[str, Any]], thresholds: Thresholds) -> list[Verdict]:
    """A verdict per model entry of a run (`{"label", "status", "error", "modes": {mode: summary}}`)."""
    by_label = {m["label"]: m for m in models}
    current = by_label.get(thresholds.current_model) if thresholds.current_model else None
    out = []
    for model in models:
        if model.get("status") != "ok":
            out.append(Verdict(model["label"], False, thresholds.mode,
                               reason=f"the model failed: {model.get('error') or 'unknown error'}"))
            continue
        mode, summary, note = _summary(model, thresholds.mode)
        checks = []
        for key, metric, op, name in THRESHOLDS:
            limit = getattr(thresholds, key)
            if limit is None:
                continue
            value = summary.get(metric)
            shown = _fmt(limit, metric)
            if value is None:
                checks.append(Check(f"{name} {op} {shown}", None, None, "not measured in this run"))
                continue
            passed = value >= limit if op == ">=" else value <= limit
            checks.append(Check(f"{name} {op} {shown}", value, passed, note))
        if thresholds.current_model and thresholds.max_regression is not None and model is not current:
            allowed = thresholds.max_regression
            for metric in REGRESSION_METRICS:
                name = f"{_NAMES[metric]} not worse than {thresholds.current_model} by more than {allowed:.2f}"
                value = summary.get(metric)
                if current is None or current.get("status") != "ok":
                    checks.append(Check(name, value, None, f"{thresholds.current_model!r} is not in this run"
                                        if current is None else f"{thresholds.current_model!r} failed in this run"))
                    continue
                base = _summary(current, mode)[1].get(metric)
                if value is None or base is None:
                    checks.append(Check(name, value, None, "not measured in this run"))
                    continue
                checks.append(Check(name, value, value >= base - allowed - 1e-12, f"{thresholds.current_model}: {base:.3f}"))
        adopt = all(c.passed is not False for c in checks)
        out.append(Verdict(model["label"], adopt, mode, tuple(checks)))
    return out


def _summary(model: dict[str, Any], mode: str) -> tuple[str, dict[str, Any], str]:
    modes = model.get("modes") or {}
    if mode in modes:
        return mode, modes[mode], ""
    other = NO_CONTEXT if mode == CONTEXT else CONTEXT
    if other in modes:
        return other, modes[other], f"{mode} was not run; {other} scores used"
    return mode, {}, ""


def _fmt(value: float, metric: str) -> str:
    return f"{value:.0f}" if metric == "p95_latency_ms" else f"{value:.2f}"

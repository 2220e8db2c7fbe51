"""Scores (pure functions): exact match, normalized edit similarity, syntax validity of the completed
file, checklist coverage of an explanation, percentiles, and the per-model summary of a run."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from assistant.tasks.edit_validation import syntax_errors
from assistant.evaluation.tasks import BODY, CompletionTask


def normalize(text: str) -> str:
    """Whitespace that never matters for a match: trailing spaces on each line, blank lines around."""
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip()


def scored_text(task: CompletionTask, completion: str) -> str:
    """What a task's score reads: for a line or a span, only the completion's first line (a block
    the product would also offer past it is not what the task asks)."""
    return completion if task.kind == BODY else completion.split("\n", 1)[0]


def exact_match(predicted: str, expected: str) -> bool:
    return normalize(predicted) == normalize(expected)


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions), O(len(a) * len(b)) time, O(len(b)) memory."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def edit_similarity(predicted: str, expected: str) -> float:
    """1 - distance / longer length, over normalized text: 1.0 identical, 0.0 nothing in common."""
    a, b = normalize(predicted), normalize(expected)
    if not a and not b:
        return 1.0
    return 1.0 - levenshtein(a, b) / max(len(a), len(b))


def syntax_valid(task: CompletionTask, completion: str) -> bool | None:
    """Whether the file with the completion in place of the expected text has no more tree-sitter
    ERROR/MISSING nodes than the original file; None when kura has no grammar for it."""
    before = syntax_errors(task.original, task.path)
    if before is None:
        return None
    after = syntax_errors(task.prefix + completion + task.suffix, task.path)
    return after is not None and len(after) <= len(before)


def checklist_coverage(answer: str, facts: Sequence[str]) -> tuple[float | None, list[str]]:
    """(share of facts the answer mentions, case-insensitively, the facts it misses)."""
    if not facts:
        return None, []
    lowered = " ".join(answer.lower().split())
    missing = [f for f in facts if " ".join(f.lower().split()) not in lowered]
    return (len(facts) - len(missing)) / len(facts), missing


def explanation_scores(outcome: Any, plan: Any, language: str) -> dict[str, Any]:
    """An explanation's answer, measured: `echo` (what was shown mostly copies the prompt),
    `refused` (the run step recognised an echo and said so instead), `language_share` and
    `in_language` (the shown explanation is written in the requested language; an echo, a refusal
    or an empty answer is not), `copied_share` (of the model's text, against the prompt)."""
    from assistant.tasks.answer_checks import PromptEcho, in_language, language_share
    from assistant.tasks.explain import EMPTY_ANSWER, ECHO_ANSWER, prompt_text

    shown = outcome.markdown[len(plan.notice):] if plan.notice and outcome.markdown.startswith(plan.notice) else outcome.markdown
    refused = bool(getattr(outcome, "echo", False)) or shown.strip() in {*ECHO_ANSWER.values()}
    empty = not shown.strip() or shown.strip() in {*EMPTY_ANSWER.values()}
    echo = PromptEcho(prompt_text(plan.request))
    explained = not (refused or empty)
    echoed = explained and echo.is_echo(shown)
    return {
        "echo": echoed,
        "refused": refused,
        "retried": bool(getattr(outcome, "retried", False)),
        "copied_share": round(echo.copied_share(shown), 3) if explained else None,
        "language_share": round(language_share(shown, language), 3) if explained else 0.0,
        "in_language": explained and not echoed and in_language(shown, language),
    }


def percentile(values: Iterable[float], p: float) -> float | None:
    """The p-th percentile with linear interpolation between closest ranks; None for no values."""
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    k = (len(ordered) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def citation_scores(cited_paths: Sequence[str], expected_paths: Sequence[str]) -> tuple[float | None, float | None]:
    """(precision, recall) of an answer's citations at file level: the share of its citations in an
    expected file, and the share of expected files it cites. None where undefined (nothing cited;
    nothing expected)."""
    expected = set(expected_paths)
    if not expected:
        return None, None
    precision = sum(1 for p in cited_paths if p in expected) / len(cited_paths) if cited_paths else None
    return precision, len(expected & set(cited_paths)) / len(expected)


def mean(values: Iterable[float | bool | None]) -> float | None:
    kept = [float(v) for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def summarize(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One mode of one model: its completion and explanation results → the numbers reports compare."""
    completions = [r for r in results if r.get("kind") not in ("explain", "ask", "generate")]
    generations = [r for r in results if r.get("kind") == "generate"]
    answered = [r for r in completions if r.get("error") is None]
    explains = [r for r in results if r.get("kind") == "explain"]
    questions = [r for r in results if r.get("kind") == "ask"]
    # Decode speed: tokens after the first over the time after the first (prompt evaluation excluded).
    timed = [r for r in answered + explains if r.get("generated_tokens") and r.get("model_ms") is not None
             and r.get("first_token_ms") is not None]
    generated = sum(r["generated_tokens"] - 1 for r in timed)
    model_ms = sum(r["model_ms"] - r["first_token_ms"] for r in timed)
    prompt_tokens = sum((r.get("prompt_tokens") or 0) - (r.get("reused_tokens") or 0) for r in timed)  # evaluated
    prompt_ms = sum(r["first_token_ms"] for r in timed)
    summary: dict[str, Any] = {
        "tasks": len(completions),
        "errors": len(completions) - len(answered) + sum(1 for r in (*explains, *questions, *generations)
                                                         if r.get("error")),
        # A task that errored scores 0: a model that answers nothing must not look accurate.
        "exact_match": mean(bool(r.get("exact_match")) for r in completions),
        "edit_similarity": mean((r.get("edit_similarity") or 0.0) for r in completions),
        "syntax_validity": mean(r.get("syntax_valid") for r in completions if r.get("error") is None)
        if answered else None,
        "p50_latency_ms": _round(percentile((r["latency_ms"] for r in answered if r.get("latency_ms") is not None), 50)),
        "p95_latency_ms": _round(percentile((r["latency_ms"] for r in answered if r.get("latency_ms") is not None), 95)),
        "tokens_per_s": round(generated / (model_ms / 1000), 1) if model_ms > 0 and generated > 0 else None,
        "prompt_tokens_per_s": round(prompt_tokens / (prompt_ms / 1000), 1) if prompt_ms > 0 and prompt_tokens else None,
        "explanations": len(explains),
        "explanation_coverage": mean((r.get("coverage") or 0.0) for r in explains) if explains else None,
        # Of the explanations asked: shown answers that copy the prompt; answers in the requested language.
        "explanation_echo_rate": mean(bool(r.get("echo")) for r in explains) if explains else None,
        "explanation_language_rate": mean(bool(r.get("in_language")) for r in explains) if explains else None,
        "explanations_by_language": _explain_breakdown(explains),
        # Questions asked of the codebase: citations against the expected files (an answer citing
        # nothing has precision 0 where files were expected), facts mentioned, "nothing found".
        "questions": len(questions),
        "citation_precision": mean(0.0 if r.get("citation_recall") is not None and r.get("citation_precision") is None
                                   else r.get("citation_precision") for r in questions) if questions else None,
        "citation_recall": mean(r.get("citation_recall") for r in questions) if questions else None,
        "question_coverage": mean(r.get("coverage") for r in questions) if questions else None,
        "nothing_found_rate": mean(not r.get("found") for r in questions) if questions else None,
        # Held-out function bodies asked as generate (`--generate`): a validated edit offered, and its
        # edit similarity to the real body (no edit: 0).
        "generations": len(generations),
        "generation_offered_rate": mean(bool(r.get("offered")) for r in generations) if generations else None,
        "generation_edit_similarity": mean((r.get("edit_similarity") or 0.0) for r in generations) if generations else None,
        "generation_p50_latency_ms": _round(percentile((r["latency_ms"] for r in generations
                                                        if r.get("latency_ms") is not None), 50)) if generations else None,
        "by_kind": _breakdown(completions, "kind"),
        "by_language": _breakdown(completions, "language"),
    }
    return summary


def _breakdown(results: Sequence[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        groups[str(r.get(key))].append(r)
    return {
        name: {
            "tasks": len(rs),
            "exact_match": mean(bool(r.get("exact_match")) for r in rs),
            "edit_similarity": mean((r.get("edit_similarity") or 0.0) for r in rs),
            "syntax_validity": mean(r.get("syntax_valid") for r in rs if r.get("error") is None),
        }
        for name, rs in sorted(groups.items())
    }


def _explain_breakdown(explains: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in explains:
        groups[str(r.get("answer_language") or "en")].append(r)
    return {
        name: {
            "explanations": len(rs),
            "coverage": mean((r.get("coverage") or 0.0) for r in rs),
            "echo_rate": mean(bool(r.get("echo")) for r in rs),
            "refused_rate": mean(bool(r.get("refused")) for r in rs),
            "language_rate": mean(bool(r.get("in_language")) for r in rs),
        }
        for name, rs in sorted(groups.items())
    }


def _round(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None

"""Scores from known inputs: exact match, edit similarity, syntax validity, coverage, percentiles."""

from __future__ import annotations

import pytest

from assistant.evaluation.scoring import (checklist_coverage, edit_similarity, exact_match, levenshtein, percentile,
                                          scored_text, summarize, syntax_valid)
from assistant.evaluation.tasks import FileText, line_candidates
from eval_fixtures import BILLING_PY


def test_exact_match_ignores_only_trailing_whitespace_and_surrounding_blank_lines():
    assert exact_match("return x  \n", "return x")
    assert exact_match("\nif a:\n    b()  \n\n", "if a:\n    b()")
    assert not exact_match("return  x", "return x")
    assert not exact_match("if a:\nb()", "if a:\n    b()")  # indentation inside is code


def test_edit_similarity_is_one_minus_normalized_levenshtein():
    assert levenshtein("kitten", "sitting") == 3
    assert edit_similarity("kitten", "sitting") == pytest.approx(1 - 3 / 7)
    assert edit_similarity("same", "same") == 1.0
    assert edit_similarity("", "") == 1.0
    assert edit_similarity("", "abc") == 0.0
    assert edit_similarity("abc", "xyz") == 0.0


def billing_task(expected: str):
    ft = FileText.parse("billing/invoice.py", BILLING_PY)
    return next(t for t in line_candidates(ft) if t.expected == expected)


def test_syntax_validity_catches_a_broken_completion():
    task = billing_task("subtotal = Decimal(quantity) * Decimal(unit_price)")
    assert syntax_valid(task, task.expected) is True
    assert syntax_valid(task, "total = quantity * 2") is True  # wrong, but well-formed
    assert syntax_valid(task, "subtotal = Decimal(quantity * (") is False
    assert syntax_valid(task, "return )]") is False


def test_syntax_validity_is_unknown_without_a_grammar():
    from dataclasses import replace

    task = replace(billing_task("subtotal = Decimal(quantity) * Decimal(unit_price)"), path="notes.txt")
    assert syntax_valid(task, "anything") is None


def test_a_line_task_scores_only_the_first_line_of_a_block():
    task = billing_task("subtotal = Decimal(quantity) * Decimal(unit_price)")
    assert scored_text(task, task.expected + "\n    return subtotal") == task.expected


def test_checklist_coverage_is_case_insensitive_and_names_what_is_missing():
    answer = "It RETRIES the call, waiting with exponential\n backoff between attempts."
    assert checklist_coverage(answer, ["retries", "Exponential Backoff", "jitter"]) == (2 / 3, ["jitter"])
    assert checklist_coverage(answer, []) == (None, [])


def test_percentiles_interpolate_between_ranks():
    values = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert percentile(values, 50) == pytest.approx(55)
    assert percentile(values, 95) == pytest.approx(95.5)
    assert percentile([], 50) is None


def test_a_task_that_errored_scores_zero_and_is_counted():
    results = [
        {"kind": "line", "language": "python", "exact_match": True, "edit_similarity": 1.0, "syntax_valid": True,
         "latency_ms": 100.0, "model_ms": 90.0, "first_token_ms": 30.0, "generated_tokens": 7, "prompt_tokens": 50,
         "reused_tokens": 10, "error": None},
        {"kind": "body", "language": "go", "exact_match": False, "edit_similarity": 0.0, "syntax_valid": None,
         "latency_ms": 5.0, "error": "the model server went away"},
        {"kind": "explain", "coverage": 0.5, "latency_ms": 300.0, "error": None},
    ]
    s = summarize(results)
    assert s["tasks"] == 2 and s["errors"] == 1
    assert s["exact_match"] == 0.5 and s["edit_similarity"] == 0.5
    assert s["syntax_validity"] == 1.0  # over the answered tasks only
    assert s["p50_latency_ms"] == 100.0  # errored requests are not latency samples
    assert s["tokens_per_s"] == pytest.approx(6 / 0.060, rel=1e-3)  # decode: after the first token
    assert s["prompt_tokens_per_s"] == pytest.approx(40 / 0.030, rel=1e-3)  # evaluated (not reused) tokens
    assert s["explanation_coverage"] == 0.5
    assert s["by_kind"]["line"]["exact_match"] == 1.0 and s["by_language"]["go"]["edit_similarity"] == 0.0

"""Cutting held-out tasks from a file: whole lines, spans mid-line, whole function bodies."""

from __future__ import annotations

import random

from assistant.evaluation.tasks import (BODY, LINE, MIN_LINE_CHARS, SPAN, FileText, body_candidates, line_candidates, span_candidates,
                                        span_cuts, task_id)
from eval_fixtures import BILLING_PY, FORMAT_JS, RETRY_GO
from indexer.extract import extract_file
from indexer.languages import language_for_path


def parsed(path: str, text: str):
    ft = FileText.parse(path, text)
    definitions = extract_file(path, text.encode(), language_for_path(path)).definitions
    return ft, definitions


def test_a_line_task_hides_the_line_after_its_indentation():
    ft, _ = parsed("billing/invoice.py", BILLING_PY)
    tasks = {t.expected: t for t in line_candidates(ft)}
    task = tasks["subtotal = Decimal(quantity) * Decimal(unit_price)"]
    assert task.kind == LINE
    assert task.prefix.endswith('"""The price of one invoice line."""\n    ')
    assert task.suffix.startswith("\n    return subtotal")
    assert task.original == BILLING_PY
    assert (task.start_line, task.start_col) == (9, 4)


def test_comments_docstrings_and_short_lines_never_become_tasks():
    ft, _ = parsed("billing/invoice.py", BILLING_PY)
    expected = {t.expected for t in line_candidates(ft)}
    assert not any(e.startswith(("#", '"""')) for e in expected)
    assert "Invoices and the totals on them." not in " ".join(expected)
    assert all(len(e) >= MIN_LINE_CHARS for e in expected)
    go, _ = parsed("retry/retry.go", RETRY_GO)
    assert "}" not in {t.expected for t in line_candidates(go)}
    js, _ = parsed("web/format.js", FORMAT_JS)
    assert not any(t.expected.startswith("//") for t in line_candidates(js))


def test_a_span_leaves_the_closing_bracket_after_the_cursor():
    cuts = span_cuts("    totals = compute(first, second)", "python")
    spans = {"    totals = compute(first, second)"[a:b] for a, b in cuts}
    assert "compute(first, second)" in spans  # after `= `: the whole expression
    assert "first, second" in spans  # after `(`: the `)` stays in the suffix
    assert "second" in spans  # after `, `
    assert all(not s.endswith(")") or "(" in s for s in spans)


def test_a_span_never_starts_inside_a_string_or_a_comment():
    line = '    label = "a = b, c(d)"  # x = y(z)'
    spans = {line[a:b] for a, b in span_cuts(line, "python")}
    assert spans == {'"a = b, c(d)"'}


def test_span_tasks_are_mid_line_and_end_at_the_expression():
    ft, _ = parsed("billing/invoice.py", BILLING_PY)
    for task in span_candidates(ft, random.Random(3)):
        assert task.kind == SPAN
        assert task.prefix[task.prefix.rfind("\n") + 1:].strip()  # code before the cursor on its line
        assert "\n" not in task.expected
        assert task.original == BILLING_PY


def test_a_python_body_keeps_its_docstring_in_the_prefix():
    ft, definitions = parsed("billing/invoice.py", BILLING_PY)
    bodies = {t.symbol: t for t in body_candidates(ft, definitions)}
    task = bodies["line_total"]
    assert task.kind == BODY
    assert task.prefix.endswith('    """The price of one invoice line."""\n    ')
    assert task.expected == ('subtotal = Decimal(quantity) * Decimal(unit_price)\n'
                             '    return subtotal.quantize(Decimal("0.01"))')
    assert task.suffix.startswith("\n\n\ndef invoice_total")
    assert "Invoice.describe" in bodies and "Invoice.__init__" in bodies


def test_a_go_body_sits_between_its_braces():
    ft, definitions = parsed("retry/retry.go", RETRY_GO)
    bodies = {t.symbol: t for t in body_candidates(ft, definitions)}
    task = bodies["Backoff"]
    assert task.prefix.endswith("base time.Duration) time.Duration {\n\t")
    assert task.expected.startswith("delay := base") and task.expected.endswith("return delay")
    assert task.suffix.startswith("\n}\n")
    assert "Do" in bodies


def test_the_id_is_the_path_position_and_expected_text():
    assert task_id("a.py", 3, 4, "x = 1") == task_id("a.py", 3, 4, "x = 1")
    assert len({task_id("a.py", 3, 4, "x = 1"), task_id("b.py", 3, 4, "x = 1"),
                task_id("a.py", 4, 4, "x = 1"), task_id("a.py", 3, 4, "x = 2")}) == 4

"""The fix validator, fed with recorded model answers: only safe, smallest edits get through."""

from __future__ import annotations

import pytest

from assistant.tasks.edit_validation import extract_code, smallest_change, validate_fix

BROKEN = '''\
def total(items):
    s = 0
    for x in items
        s += x
    return s
'''
START = BROKEN.index("    for")
END = BROKEN.index("    return")


def apply(text: str, change) -> str:
    return text[: change.start] + change.new_text + text[change.end :]


# Answers recorded from small local models asked to fix lines 3-4 of BROKEN.
FENCED = "```python\n    for x in items:\n        s += x\n```"
PROSE_AND_CODE = ("The loop header is missing a colon. Here is the corrected code:\n\n```python\n"
                  "    for x in items:\n        s += x\n```\n\nThis fixes the SyntaxError.")
DEDENTED = "```py\nfor x in items:\n    s += x\n```"
UNFENCED = "    for x in items:\n        s += x\n"
BREAKS_SYNTAX = "```python\n    for x in items:\n        s += x +\n```"
GARBAGE = "ref ref(( ]] }: elif elif <unk> zz"
GARBAGE_PUNCTUATION = "```\n)]}: ;; (( def\n```"
UNCHANGED = "```python\n    for x in items\n        s += x\n```"
TOUCHES_DEF_LINE = "```python\ndef total(values):\n    s = 0\n    for x in values:\n        s += x\n```"
WHOLE_FILE_WITHOUT_RETURN = "```python\ndef total(items):\n    s = 0\n    for x in items:\n        s += x\n```"


@pytest.mark.parametrize("answer", [FENCED, PROSE_AND_CODE, DEDENTED, UNFENCED])
def test_a_good_answer_becomes_the_smallest_edit(answer):
    result = validate_fix(BROKEN, "calc.py", START, END, answer)

    assert result.ok, result.message
    assert (result.change.new_text, result.change.start_line, result.change.start_col) == (":", 2, 18)
    assert apply(BROKEN, result.change) == BROKEN.replace("in items\n", "in items:\n")


@pytest.mark.parametrize("answer, reason", [
    (BREAKS_SYNTAX, "break the syntax"),
    (GARBAGE, "not usable code"),
    (GARBAGE_PUNCTUATION, "break the syntax"),
    (UNCHANGED, "no change"),
    ("", "returned nothing"),
    ("   \n\n", "returned nothing"),
    ("```python\n```", "no code"),
])
def test_a_bad_answer_is_rejected_with_a_reason(answer, reason):
    result = validate_fix(BROKEN, "calc.py", START, END, answer)

    assert not result.ok
    assert reason in result.message and result.message.startswith("kura:")


@pytest.mark.parametrize("answer", [TOUCHES_DEF_LINE, WHOLE_FILE_WITHOUT_RETURN])
def test_an_answer_that_changes_lines_outside_the_range_is_rejected(answer):
    result = validate_fix(BROKEN, "calc.py", START, END, answer)

    assert not result.ok
    assert "outside lines 3-4" in result.message


def test_repeating_the_line_before_the_selection_is_not_a_change_outside_it():
    answer = "```python\n    s = 0\n    for x in items:\n        s += x\n```"

    result = validate_fix(BROKEN, "calc.py", START, END, answer)

    assert result.ok and result.change.new_text == ":"


def test_an_edit_that_breaks_valid_code_is_rejected():
    good = "def f(a):\n    return a + 1\n"
    start = good.index("    return")

    result = validate_fix(good, "f.py", start, len(good), "```python\n    return a +\n```")

    assert not result.ok and "syntax error at line 2" in result.message


def test_languages_without_a_grammar_skip_only_the_syntax_check():
    text = "alpha\nbeta\ngamma\n"

    result = validate_fix(text, "notes.unknownext", 6, 11, "BETA")

    assert result.ok and apply(text, result.change) == "alpha\nBETA\ngamma\n"


def test_smallest_change_trims_the_common_prefix_and_suffix():
    text = "x = compute(a, b)\n"

    change = smallest_change(text, 0, len(text), "x = compute(a, c)\n")

    assert (change.start, change.end, change.new_text) == (15, 16, "c")
    assert smallest_change(text, 0, len(text), text) is None


def test_extract_code_prefers_the_largest_fenced_block_and_reads_unclosed_fences():
    answer = "Use `x`:\n```\na\n```\nor better:\n```python\nline1\nline2\n```\n"

    assert extract_code(answer) == "line1\nline2\n"
    assert extract_code("```python\nbody\n") == "body\n"
    assert extract_code("plain") == "plain"

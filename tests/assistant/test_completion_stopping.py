"""When generation stops and how a generated completion is trimmed: first line, dedent, line limit,
the suffix's own text, balanced brackets (strings and comments don't count)."""

from __future__ import annotations

import pytest

from assistant.completion.shape import BLOCK, SINGLE_LINE, CompletionShape
from assistant.completion.stopping import StopAtShapeEnd, finalize, should_stop, without_partial_word


def single(language: str) -> CompletionShape:
    return CompletionShape(SINGLE_LINE, 0, 1, language)


def block(language: str, indent: int = 0, max_lines: int = 8) -> CompletionShape:
    return CompletionShape(BLOCK, indent, max_lines, language)


STOP_CASES = [
    # (name, shape, text so far, stop?)
    ("single line goes on", single("python"), "total(a)", False),
    ("single line stops at newline", single("python"), "total(a)\n", True),
    ("python body still indented", block("python"), "\n    x = 1\n    return", False),
    ("python blank line inside the body", block("python"), "\n    x = 1\n\n    y", False),
    ("python dedent to the owner", block("python"), "\n    return 1\ndef", True),
    ("python dedent inside a method", block("python", 4), "\n        return 1\n    def", True),
    ("indentation not yet known", block("python"), "\n    return 1\n    ", False),
    ("typescript closing brace may finish", block("typescript"), "\n  return 1;\n}", False),
    ("typescript closing brace line ended", block("typescript"), "\n  return 1;\n}\n", True),
    ("typescript else after brace", block("typescript", 2), "\n    a();\n  } else {", True),
    ("go body", block("go"), "\n\tif err != nil {\n\t\treturn err", False),
    ("go closing brace line ended", block("go"), "\n\treturn nil\n}\n", True),
    ("line limit reached", block("python", max_lines=2), "\n    a = 1\n    b = 2\n", True),
    ("line limit not reached", block("python", max_lines=2), "\n    a = 1\n    b = 2", False),
    ("first line counts when not empty", block("python", max_lines=1), "a = 1\n", True),
    ("nothing yet", block("python"), "", False),
]


@pytest.mark.parametrize(("shape", "text", "stop"), [c[1:] for c in STOP_CASES], ids=[c[0] for c in STOP_CASES])
def test_should_stop(shape, text, stop):
    assert should_stop(text, shape) is stop


FINALIZE_CASES = [
    # (name, shape, prefix, suffix, generated, expected)
    ("rest of the line re-emitted", single("python"), "foo(", ")\n", "a, b)", "a, b"),
    ("inner call closed, outer left to suffix", single("python"), "print(foo(", ")\n", "x)", "x)"),
    ("suffix text re-emitted", single("python"), "if x == ", ":\n", "1:", "1"),
    ("suffix arguments re-emitted", single("python"), "foo(", ", b)\n", "a, b)", "a"),
    ("single line keeps the first line", single("python"), "x = ", "\n", "value\nmore()", "value"),
    ("unclosed opener is cut", single("python"), "x = ", "\n", "[1, 2", ""),
    ("extra closer is cut", single("python"), "x = ", "\n", "a + b) * 2", "a + b"),
    ("bracket in a string ignored", single("python"), "print(", ")\n", '"(", end="")', '"(", end=""'),
    ("bracket in a comment ignored", single("python"), "x = ", "\n", "1  # (see above", "1  # (see above"),
    ("trailing whitespace dropped", single("python"), "x = ", "\n", "1   ", "1"),
    ("only whitespace is nothing", single("python"), "x = ", "\n", "  \n ", ""),
    ("repeats the next line", single("python"), "    ", "\n    return x\n", "return x", ""),
    ("go brace in a string ignored", single("go"), "\tfmt.Println(", ")\n", '"{", x))', '"{", x'),
    ("typescript template literal", single("typescript"), "const s = ", ";\n", "`${a}(`;", "`${a}(`"),
    ("typescript call closed by suffix", single("typescript"), "items.map(", ");\n", "(x) => x * 2);", "(x) => x * 2"),
    (
        "python block stops at dedent",
        block("python"), "def f():", "\n\ndef g():\n    pass\n",
        "\n    return 1\n\ndef g():\n    pass", "\n    return 1",
    ),
    (
        "typescript brace auto-closed on the same line",
        block("typescript"), "function f() {", "}\n", "\n  return 1;\n}", "\n  return 1;",
    ),
    (
        "typescript brace already on the next line",
        block("typescript"), "function f() {", "\n}\n", "\n  return 1;\n}", "\n  return 1;",
    ),
    (
        "typescript closing brace kept when missing",
        block("typescript"), "function f() {", "", "\n  return 1;\n}\n\nfunction g() {}", "\n  return 1;\n}",
    ),
    (
        "go nested block kept whole",
        block("go"), "func main() {", "\n}\n",
        "\n\tif err != nil {\n\t\treturn\n\t}\n}", "\n\tif err != nil {\n\t\treturn\n\t}",
    ),
    (
        "go model runs into the next line of the suffix",
        block("go"), "func main() {", "\n\tdone()\n}\n", "\n\tstart()\n\tdone()\n}", "\n\tstart()",
    ),
    (
        "line limit",
        block("python", max_lines=2), "def f():", "\n",
        "\n    a = 1\n    b = 2\n    c = 3", "\n    a = 1\n    b = 2",
    ),
    (
        "unfinished block bracket cut back",
        block("python"), "def f():", "\n", "\n    x = 1\n    y = compute(\n        a,", "\n    x = 1",
    ),
    (
        "ruby end line kept",
        block("ruby"), "items.each do |item|", "\n", "\n  puts item\nend\nother", "\n  puts item\nend",
    ),
]


@pytest.mark.parametrize(
    ("shape", "prefix", "suffix", "generated", "expected"),
    [c[1:] for c in FINALIZE_CASES],
    ids=[c[0] for c in FINALIZE_CASES],
)
def test_finalize(shape, prefix, suffix, generated, expected):
    assert finalize(generated, shape, prefix, suffix) == expected


def test_partial_last_line_dropped_when_cut_off_by_the_token_limit():
    text = "\n    a = 1\n    b = compu"
    assert finalize(text, block("python"), "def f():", "\n", cut_off=True) == "\n    a = 1"
    assert finalize(text, block("python"), "def f():", "\n", cut_off=False) == "\n    a = 1\n    b = compu"


def test_prefix_line_brackets_only_count_on_the_cursor_line():
    # The `(` two lines up is not the cursor line's: a `)` here is not the completion's to close.
    prefix = "call(\n    a,\n    "
    assert finalize("b)", single("python"), prefix, "\n") == "b"


def test_stopping_and_finalizing_agree_on_a_streamed_block():
    shape = block("python")
    tokens = ["\n", "    ", "total", " = ", "a + b", "\n", "    return total", "\n", "def", " other"]
    text = ""
    for token in tokens:
        text += token
        if should_stop(text, shape):
            break
    assert text.endswith("def")
    assert finalize(text, shape, "def f(a, b):", "\n") == "\n    total = a + b\n    return total"


def test_the_typing_budget_stops_a_line_once_its_time_is_up_and_travels_to_the_model_process(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr("assistant.completion.stopping.time.monotonic", lambda: clock[0])
    rule = StopAtShapeEnd(single("python"), decode_ms=500)
    assert not rule("")  # no token yet: the clock has not started
    assert not rule("total")  # the first token starts it
    clock[0] += 0.499
    assert not rule("total(a")
    clock[0] += 0.002
    assert rule("total(a,")
    assert not StopAtShapeEnd(single("python"))("total(a, b")  # no budget: only the shape ends it
    copy = StopAtShapeEnd.from_wire(rule.to_wire())
    assert copy.decode_ms == 500 and copy.shape == rule.shape and not copy("x")


def test_a_continued_block_ends_where_the_whole_block_does_and_carries_its_start_to_the_model_process():
    shape = block("python", max_lines=2)
    rule = StopAtShapeEnd(shape, generated="\n    total = a + b\n")
    assert not rule("    return total")
    assert rule("    return total\n    x")  # two whole lines, counting what came before
    assert not StopAtShapeEnd(shape)("    return total\n    x")  # the continuation alone has one
    copy = StopAtShapeEnd.from_wire(rule.to_wire())
    assert copy.generated == rule.generated and copy("    return total\n    x")


@pytest.mark.parametrize("text, expected", [
    ("self.total(order.ite", "self.total(order."),
    ("return comp", "return "),
    ("compute", "compute"),  # nothing else: the word is all there is
    ("items[0], ", "items[0], "),
])
def test_a_line_the_clock_stopped_loses_its_half_word(text, expected):
    assert without_partial_word(text) == expected

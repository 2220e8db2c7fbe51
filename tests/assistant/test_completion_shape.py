"""Shape at the cursor: one line (mid-line, a statement in progress) or a block (after a block opener,
or in an empty body), with the indentation of the block's owner. `▌` marks the cursor."""

from __future__ import annotations

import pytest

from assistant.completion.shape import BLOCK, SINGLE_LINE, decide_shape


def shape_at(marked: str, path: str, **kwargs):
    offset = marked.index("▌")
    return decide_shape(marked.replace("▌", "", 1), offset, path, **kwargs)


CASES = [
    # (name, path, marked source, mode, block_indent)
    ("python mid-line", "a.py", "x = compute(a, ▌b)\n", SINGLE_LINE, None),
    ("python call in progress", "a.py", "print(foo▌)\n", SINGLE_LINE, None),
    ("python after def colon", "a.py", "def f(a):▌\n", BLOCK, 0),
    ("python nested method", "a.py", "class A:\n    def m(self):▌\n", BLOCK, 4),
    ("python header over two lines", "a.py", "def f(a,\n      b):▌\n", BLOCK, 0),
    ("python dict value in progress", "a.py", 'd = {"a":▌\n', SINGLE_LINE, None),
    ("python colon inside a comment", "a.py", "if ready:  # go on:▌\n", SINGLE_LINE, None),
    ("python inside a string", "a.py", 'label = "total: ▌"\n', SINGLE_LINE, None),
    ("python body is only a docstring", "a.py", 'def f():\n    """Doc."""\n    ▌\n\nx = 1\n', BLOCK, 0),
    ("python body is only a comment", "a.py", "if x:\n    # todo\n    ▌\n", BLOCK, 0),
    ("python blank line in a full body", "a.py", "def f():\n    x = 1\n    ▌\n", SINGLE_LINE, None),
    ("python next argument of a call", "a.py", "result = call(a,\n              ▌\n", SINGLE_LINE, None),
    ("typescript auto-closed brace", "a.ts", "function f(a: number) {▌}\n", BLOCK, 0),
    ("typescript arrow body", "a.ts", "  items.forEach((item) => {▌\n", BLOCK, 2),
    ("typescript arrow at line end", "a.ts", "const x = a.map(v =>▌\n", BLOCK, 0),
    ("typescript argument in progress", "a.ts", "const total = items.reduce(▌)\n", SINGLE_LINE, None),
    ("typescript empty method body", "a.ts", "class A {\n  m() {\n    ▌\n  }\n}\n", BLOCK, 2),
    ("typescript mid-line", "a.ts", "const y = ▌x + 1;\n", SINGLE_LINE, None),
    ("go function body", "main.go", "func main() {▌\n", BLOCK, 0),
    ("go if inside a function", "main.go", "func main() {\n\tif err != nil {▌\n", BLOCK, 4),
    ("go call in progress", "main.go", "func main() {\n\tx := compute(▌)\n", SINGLE_LINE, None),
    ("go case label", "main.go", "func f(v int) {\n\tswitch v {\n\tcase 1:▌\n", BLOCK, 4),
    ("ruby do block", "a.rb", "items.each do |item|▌\n", BLOCK, 0),
    ("ruby empty method", "a.rb", "def greet\n  ▌\nend\n", BLOCK, 0),
]


@pytest.mark.parametrize(
    ("path", "marked", "mode", "indent"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_shape_at_cursor(path, marked, mode, indent):
    shape = shape_at(marked, path)
    assert shape.mode == mode
    if indent is not None:
        assert shape.block_indent == indent


def test_single_line_allows_one_line_and_block_the_configured_limit():
    assert shape_at("x = ▌\n", "a.py", max_lines=5).max_lines == 1
    assert shape_at("def f():▌\n", "a.py", max_lines=5).max_lines == 5


def test_shape_remembers_the_cursor_line_and_language():
    shape = shape_at("  if (ok) {▌\n", "a.ts")
    assert shape.line_prefix == "  if (ok) {"
    assert shape.language == "typescript"


def test_unknown_language_falls_back_to_text_rules():
    assert shape_at("section {▌\n", "notes.unknownext").mode == BLOCK
    assert shape_at("some ▌words\n", "notes.unknownext").mode == SINGLE_LINE


def test_cursor_out_of_range_is_clamped():
    assert decide_shape("def f():", 999, "a.py").mode == BLOCK
    assert decide_shape("x = 1", -5, "a.py").mode == SINGLE_LINE

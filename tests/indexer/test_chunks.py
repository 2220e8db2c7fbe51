"""Retrieval chunks: syntax-aligned, large definitions split at statement boundaries, tiny
neighbours merged, and every non-blank line of a file covered."""

from indexer.chunks import MAX_LINES
from indexer.extract import extract_file
from indexer.languages import language_for_path


def chunks_of(source: str, path: str = "pkg/mod.py"):
    return extract_file(path, source.encode("utf-8"), language_for_path(path)).chunks


def covered_lines(chunks):
    return {line for chunk in chunks for line in range(chunk.start_line, chunk.end_line + 1)}


def non_blank_lines(source: str):
    return {number for number, line in enumerate(source.split("\n")) if line.strip()}


def long_function(name: str, statements: int) -> str:
    body = "".join(f"    value_{i} = compute({i})\n    if value_{i}:\n        total += value_{i}\n" for i in range(statements))
    return f"def {name}(total):\n{body}    return total\n"


def test_a_function_is_one_chunk_with_its_symbol():
    source = "import os\n\n\n" + long_function("small", 10) + "\n\n" + long_function("other", 10)
    chunks = chunks_of(source)
    small = next(c for c in chunks if c.symbol == "small")
    assert small.text.startswith("def small(total):")
    assert small.text.endswith("    return total")
    assert small.text == "\n".join(source.split("\n")[small.start_line : small.end_line + 1])


def test_a_large_function_is_split_at_statement_boundaries():
    source = long_function("big", 60)  # 182 lines
    chunks = [c for c in chunks_of(source) if c.symbol == "big"]
    assert len(chunks) >= 3
    assert all(c.end_line - c.start_line + 1 <= MAX_LINES for c in chunks)
    lines = source.split("\n")
    for chunk in chunks[1:]:
        # Each piece starts at a statement of the body, never inside an if-block.
        assert lines[chunk.start_line].startswith(("    value_", "    if value_"))
    assert non_blank_lines(source) <= covered_lines(chunks)


def test_a_large_class_is_split_into_its_methods():
    methods = "".join(
        f"    def method_{i}(self):\n" + "".join(f"        self.x_{j} = {j}\n" for j in range(20)) + "\n"
        for i in range(4)
    )
    source = f"class Big:\n    '''Doc.'''\n\n{methods}"
    chunks = chunks_of(source)
    assert [c.symbol for c in chunks] == ["Big.method_0", "Big.method_1", "Big.method_2", "Big.method_3"]
    assert chunks[0].start_line == 0  # the class header rides with its first method
    assert non_blank_lines(source) <= covered_lines(chunks)


def test_tiny_top_level_pieces_are_merged_and_module_code_is_covered():
    source = (
        "import os\nimport sys\n\n"
        "def a():\n    return 1\n\n"
        "def b():\n    return 2\n\n"
        + long_function("middle", 12)
        + "\nif __name__ == '__main__':\n    a()\n"
    )
    chunks = chunks_of(source)
    assert chunks[0].start_line == 0 and chunks[0].end_line == 7  # imports, a and b together
    assert chunks[0].symbol == "a"
    assert chunks[-1].text.startswith("if __name__")
    assert non_blank_lines(source) <= covered_lines(chunks)


def test_chunks_cover_every_line_in_other_languages():
    source = "package main\n\nimport \"fmt\"\n\n" + "".join(
        f"// F{i} prints.\nfunc F{i}() {{\n" + "".join(f"\tfmt.Println({j})\n" for j in range(30)) + "}\n\n"
        for i in range(5)
    )
    chunks = chunks_of(source, "main.go")
    assert non_blank_lines(source) <= covered_lines(chunks)
    f2 = next(c for c in chunks if c.symbol == "F2")
    assert f2.text.startswith("// F2 prints.\nfunc F2() {")


def test_empty_file_has_no_chunks():
    assert chunks_of("") == []

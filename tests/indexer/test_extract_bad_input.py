"""Bad input never raises: syntax errors are counted and what tree-sitter recovers is indexed;
invalid UTF-8 is decoded with replacement characters while positions stay right."""

import pytest

from indexer import kinds
from indexer.extract import extract_file, identifier_occurrences
from indexer.languages import LANGUAGES, language_for_path


def test_syntax_errors_are_counted_and_the_rest_is_indexed():
    source = b"def ok(a):\n    return a\n\ndef broken(x:\n    y = (\n\nclass After:\n    pass\n"
    result = extract_file("b.py", source, language_for_path("b.py"))
    assert result.syntax_errors >= 1
    assert "ok" in {d.qualname for d in result.definitions}
    assert {"ok", "a", "broken", "x"} <= result.reference_names


def test_valid_file_has_no_syntax_errors():
    result = extract_file("ok.go", b"package x\n\nfunc F() {}\n", language_for_path("ok.go"))
    assert result.syntax_errors == 0


def test_invalid_utf8_is_replaced_and_columns_count_code_points():
    source = b"def f(x):\n    s = b'\xff\xfe' + \"caf\xc3\xa9\" + x\n    return s\n"
    spec = language_for_path("u.py")
    result = extract_file("u.py", source, spec)
    assert [d.qualname for d in result.definitions] == ["f"]
    assert "\ufffd" in result.chunks[0].text and "café" in result.chunks[0].text
    occurrences = identifier_occurrences("u.py", source, spec, "x")
    # Line 1: `    s = b'<ff><fe>' + "café" + x`: two replacement characters, é one column.
    assert [(r.range.start_line, r.range.start_col) for r in occurrences] == [(0, 6), (1, 25)]


def test_non_ascii_names_and_columns():
    source = "def grüße(名前):\n    return 名前\n".encode("utf-8")
    spec = language_for_path("g.py")
    definition = extract_file("g.py", source, spec).definitions[0]
    assert definition.name == "grüße"
    assert (definition.name_range.start_col, definition.name_range.end_col) == (4, 9)
    occurrences = identifier_occurrences("g.py", source, spec, "名前")
    assert [(r.range.start_line, r.range.start_col, r.range.end_col, r.is_definition) for r in occurrences] == [
        (0, 10, 12, False),
        (1, 11, 13, False),
    ]


@pytest.mark.parametrize("spec", LANGUAGES, ids=lambda spec: spec.name)
def test_every_language_survives_garbage(spec):
    garbage = b"}{ class ( def \xff\xfe fn func <?php #include \"x\n" * 20
    result = extract_file(f"junk{spec.suffixes[0]}", garbage, spec)
    assert result.language == spec.name
    assert all(d.kind in kinds.NAMES for d in result.definitions)


@pytest.mark.parametrize("spec", LANGUAGES, ids=lambda spec: spec.name)
def test_every_language_handles_an_empty_file(spec):
    result = extract_file(f"empty{spec.suffixes[0]}", b"", spec)
    assert (result.definitions, result.imports, result.chunks, result.syntax_errors) == ([], [], [], 0)

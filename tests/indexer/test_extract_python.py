"""Extraction from Python: definitions with qualnames, kinds, ranges, signatures and docstrings,
imports, reference names and on-demand identifier occurrences."""

from indexer import kinds
from indexer.extract import extract_file, identifier_occurrences
from indexer.languages import language_for_path
from indexer.model import Span

SOURCE = '''\
"""HTTP sessions."""
import os.path as osp, sys
from .util import (helper as h, other)
from typing import *

MAX_RETRIES = 3
logger = None


# Keeps connection state.
@dataclass
class Session(Base):
    """A session.

    Holds the connection pool.
    """
    timeout: float = 1.0

    def __init__(self, url):
        self.url = url

    @property
    def request(self, method: str,
                url: str) -> "Response":  # trailing note
        \'\'\'Send a request.\'\'\'
        def inner(x):
            return helper(x)
        return inner(method)

    @overload
    def get(self, key: int) -> int: ...
    @overload
    def get(self, key: str) -> str: ...


async def fetch(é, b):
    # not a docstring
    return é + "ü" + b  # call b
'''


def extract(source=SOURCE, path="pkg/session.py"):
    return extract_file(path, source.encode("utf-8"), language_for_path(path))


def by_qualname(result):
    return {definition.qualname: definition for definition in result.definitions}


def test_definitions_have_qualnames_and_kinds():
    definitions = by_qualname(extract())
    assert {name: kinds.NAMES[d.kind] for name, d in definitions.items()} == {
        "MAX_RETRIES": "constant",
        "logger": "variable",
        "Session": "class",
        "Session.timeout": "field",
        "Session.__init__": "constructor",
        "Session.request": "method",
        "Session.request.inner": "function",
        "Session.get": "method",
        "fetch": "function",
    }


def test_overloads_are_each_a_definition():
    result = extract()
    gets = [d for d in result.definitions if d.qualname == "Session.get"]
    assert [d.signature for d in gets] == ["def get(self, key: int) -> int:", "def get(self, key: str) -> str:"]


def test_ranges_include_decorators_and_name_range_is_the_name():
    session = by_qualname(extract())["Session"]
    assert session.range == Span(10, 0, 32, 39)
    assert session.name_range == Span(11, 6, 11, 13)
    assert session.path == "pkg/session.py" and session.language == "python"


def test_multi_line_signature_without_body_or_trailing_comment():
    request = by_qualname(extract())["Session.request"]
    assert request.signature == 'def request(self, method: str,\n                url: str) -> "Response":'
    assert request.doc == "Send a request."


def test_docstring_wins_over_comment_and_is_cleaned():
    definitions = by_qualname(extract())
    assert definitions["Session"].doc == "A session.\n\nHolds the connection pool."
    assert definitions["fetch"].doc == ""
    assert definitions["Session"].signature == "class Session(Base):"


def test_imports():
    imports = [(i.module, i.names, i.line) for i in extract().imports]
    assert imports == [
        ("os.path", (), 1),
        ("sys", (), 1),
        (".util", ("helper", "other"), 2),
        ("typing", ("*",), 3),
    ]


def test_reference_names_are_identifiers_not_comment_or_string_words():
    names = extract().reference_names
    assert {"helper", "inner", "Session", "dataclass", "self", "é", "b", "osp"} <= names
    assert "docstring" not in names and "trailing" not in names and "call" not in names


def test_identifier_occurrences_mark_definitions_and_count_code_points():
    source = SOURCE.encode("utf-8")
    spec = language_for_path("s.py")
    inner = identifier_occurrences("s.py", source, spec, "inner")
    assert [(r.range.start_line, r.range.start_col, r.is_definition) for r in inner] == [(25, 12, True), (27, 15, False)]
    b = identifier_occurrences("s.py", source, spec, "b")
    # `    return é + "ü" + b`: é and ü are two bytes each in UTF-8 but one column each.
    assert [(r.range.start_line, r.range.start_col, r.range.end_col) for r in b] == [(35, 19, 20), (37, 21, 22)]
    assert identifier_occurrences("s.py", source, spec, "missing") == []


def test_chunks_follow_definitions():
    chunks = extract().chunks
    assert chunks[0].start_line == 0 and chunks[0].symbol == ""
    session = next(c for c in chunks if c.symbol == "Session")
    assert session.start_line == 9  # starts at the leading comment
    assert session.text.splitlines()[1] == "@dataclass"

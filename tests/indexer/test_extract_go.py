"""Extraction from Go: structs, interfaces, methods with receivers, generics, constants, imports."""

from tests.indexer.extract_helpers import definition, extract_source, kinds_by_qualname
from indexer.extract import identifier_occurrences
from indexer.languages import language_for_path

SOURCE = '// Package http does requests.\npackage http\n\nimport (\n\t"fmt"\n\tnethttp "net/http"\n)\n\nimport "strings"\n\n// MaxRetries is how often we retry.\nconst MaxRetries = 3\n\nvar defaultClient = &Client{}\n\n// Session keeps state\n// across requests.\ntype Session struct {\n\tURL     string\n\ttimeout int\n}\n\ntype Handler interface {\n\tHandle(r *Request) error\n}\n\ntype Pair[K comparable, V any] struct { Key K; Val V }\n\n// Request sends a request.\nfunc (s *Session) Request(method string,\n\turl string) (*Response, error) {\n\tinner := func(x int) int { return x * 2 }\n\treturn fmt.Println(inner(1), nethttp.MethodGet, strings.ToUpper(method))\n}\n\nfunc NewSession[T any](url string) *Session {\n\treturn &Session{URL: url}\n}\n'


def extract(path='http/session.go'):
    return extract_source(SOURCE, path)


def test_definitions_and_kinds():
    assert kinds_by_qualname(extract()) == {
        "MaxRetries": "constant",
        "defaultClient": "variable",
        "Session": "struct",
        "Session.URL": "field",
        "Session.timeout": "field",
        "Handler": "interface",
        "Handler.Handle": "method",
        "Pair": "struct",
        "Pair.Key": "field",
        "Pair.Val": "field",
        "Session.Request": "method",
        "NewSession": "function",
    }


def test_method_signature_doc_and_ranges():
    result = extract()
    request = definition(result, "Session.Request")
    assert request.signature == "func (s *Session) Request(method string,\n\turl string) (*Response, error)"
    assert request.doc == "Request sends a request."
    assert (request.range.start_line, request.range.end_line) == (29, 33)
    assert (request.name_range.start_line, request.name_range.start_col) == (29, 18)
    session = definition(result, "Session")
    assert session.doc == "Session keeps state\nacross requests."
    assert session.signature == "type Session struct"
    assert definition(result, "NewSession").signature == "func NewSession[T any](url string) *Session"


def test_imports():
    assert [(i.module, i.line) for i in extract().imports] == [("fmt", 4), ("net/http", 5), ("strings", 8)]


def test_references():
    result = extract()
    assert {"Println", "nethttp", "inner", "Response"} <= result.reference_names
    occurrences = identifier_occurrences("s.go", SOURCE.encode(), language_for_path("s.go"), "Session")
    assert [(r.range.start_line, r.is_definition) for r in occurrences] == [(17, True), (29, False), (35, False), (36, False)]

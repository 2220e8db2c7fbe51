"""Extraction from C++: namespaces, template classes, constructors and destructors, out-of-line members, enums, lambdas."""

from tests.indexer.extract_helpers import definition, extract_source, kinds_by_qualname
from indexer.languages import language_for_path

SOURCE = '#pragma once\n#include <string>\n#include <vector>\n\nnamespace net {\n\n/// A session.\ntemplate <typename T>\nclass Session : public Base {\npublic:\n    Session(std::string url);\n    ~Session();\n    /// Sends a request.\n    Response request(const std::string& method) const;\n    virtual void close() override {}\n    static int count;\nprivate:\n    std::string url_;\n};\n\nstruct Point { int x; int y; };\n\nenum class Mode { Fast, Slow };\n\ntemplate <typename T>\nT max_of(T a, T b) { return a > b ? a : b; }\n\nSession::Session(std::string url) : url_(url) {}\n\nResponse Session::request(const std::string& method) const {\n    auto inner = [](int x) { return x * 2; };\n    return Response(inner(1));\n}\n\n}  // namespace net\n'


def extract(path='include/session.hpp'):
    return extract_source(SOURCE, path)


def test_definitions_and_kinds():
    result = extract()
    assert kinds_by_qualname(result) == {
        "net": "namespace",
        "net.Session": "class",
        "net.Session.Session": "constructor",
        "net.Session.~Session": "method",
        "net.Session.request": "method",
        "net.Session.close": "method",
        "net.Session.count": "field",
        "net.Session.url_": "field",
        "net.Point": "struct",
        "net.Point.x": "field",
        "net.Point.y": "field",
        "net.Mode": "enum",
        "net.Mode.Fast": "enum_member",
        "net.Mode.Slow": "enum_member",
        "net.max_of": "function",
    }
    # Declaration in the class and definition out of line are both found.
    assert [d.range.start_line for d in result.definitions if d.qualname == "net.Session.request"] == [13, 29]


def test_templates_belong_to_the_range_and_docs():
    result = extract()
    session = next(d for d in result.definitions if d.qualname == "net.Session")
    assert (session.range.start_line, session.name_range.start_line) == (7, 8)
    assert session.doc == "A session."
    out_of_line = [d for d in result.definitions if d.qualname == "net.Session.request"][1]
    assert out_of_line.signature == "Response Session::request(const std::string& method) const"


def test_includes_and_suffixes():
    assert [i.module for i in extract().imports] == ["string", "vector"]
    for path in ("a.cc", "a.cpp", "a.cxx", "a.hpp", "a.hh", "a.hxx"):
        assert language_for_path(path).name == "cpp"


def test_references():
    assert {"std", "inner", "Response", "url_"} <= extract().reference_names

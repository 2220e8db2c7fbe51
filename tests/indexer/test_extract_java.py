"""Extraction from Java: generic classes, constructors, overloads, annotations, nested classes, enums, records, imports."""

from tests.indexer.extract_helpers import definition, extract_source, kinds_by_qualname

SOURCE = 'package com.acme.http;\n\nimport java.util.List;\nimport java.util.*;\nimport static java.lang.Math.max;\n\n/**\n * A session that sends requests.\n */\n@Deprecated\npublic class Session<T extends Comparable<T>> extends Base implements AutoCloseable {\n    private static final int MAX_RETRIES = 3;\n    private final String url, name;\n\n    public Session(String url) {\n        this.url = url;\n    }\n\n    // Sends a request.\n    @Override\n    public Response request(String method,\n                            Map<String, T> headers) throws IOException {\n        Runnable r = () -> System.out.println(method);\n        return new Response(max(1, 2));\n    }\n\n    public void request(String method) { request(method, null); }\n\n    static class Inner {\n        void run() {}\n    }\n\n    enum Mode { FAST, SLOW }\n}\n\ninterface Handler { void handle(Request r); }\n\nrecord Point(int x, int y) {}\n'


def extract(path='src/Session.java'):
    return extract_source(SOURCE, path)


def test_definitions_and_kinds():
    assert kinds_by_qualname(extract()) == {
        "Session": "class",
        "Session.MAX_RETRIES": "field",
        "Session.url": "field",
        "Session.Session": "constructor",
        "Session.request": "method",
        "Session.Inner": "class",
        "Session.Inner.run": "method",
        "Session.Mode": "enum",
        "Session.Mode.FAST": "enum_member",
        "Session.Mode.SLOW": "enum_member",
        "Handler": "interface",
        "Handler.handle": "method",
        "Point": "class",
    }


def test_overloads_annotations_and_docs():
    result = extract()
    requests = [d for d in result.definitions if d.qualname == "Session.request"]
    assert [d.signature for d in requests] == [
        "@Override\n    public Response request(String method,\n                            Map<String, T> headers) throws IOException",
        "public void request(String method)",
    ]
    assert requests[0].doc == "Sends a request."
    session = definition(result, "Session")
    assert session.doc == "A session that sends requests."
    assert (session.range.start_line, session.name_range.start_line) == (9, 10)


def test_imports():
    assert [(i.module, i.names) for i in extract().imports] == [
        ("java.util", ("List",)),
        ("java.util", ("*",)),
        ("java.lang.Math", ("max",)),
    ]


def test_references():
    assert {"Runnable", "println", "max", "IOException"} <= extract().reference_names

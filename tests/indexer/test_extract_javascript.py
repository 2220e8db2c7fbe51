"""Extraction from JavaScript: classes, fields, constructors, nested functions, arrow functions, ES and CommonJS imports."""

from tests.indexer.extract_helpers import definition, extract_source, kinds_by_qualname
from indexer.extract import identifier_occurrences
from indexer.languages import language_for_path

SOURCE = 'import React, { useState } from "react";\nconst path = require("path");\n\n/**\n * A session.\n */\nclass Session extends Base {\n  #secret = 1;\n  static count = 0;\n\n  constructor(url) {\n    super();\n    this.url = url;\n  }\n\n  /** Sends a request. */\n  async request(method, body) {\n    function inner(x) { return x * 2; }\n    return fetch(this.url, { method });\n  }\n}\n\n// Makes a session.\nexport function makeSession(url) { return new Session(url); }\n\nexport const handler = async (req) => req;\n\nmodule.exports = { Session, makeSession };\n\nconst obj = {\n  greet: function () { return "hi"; },\n};\n'


def extract(path='web/session.js'):
    return extract_source(SOURCE, path)


def test_definitions_and_kinds():
    assert kinds_by_qualname(extract()) == {
        "Session": "class",
        "Session.#secret": "field",
        "Session.count": "field",
        "Session.constructor": "constructor",
        "Session.request": "method",
        "Session.request.inner": "function",
        "makeSession": "function",
        "handler": "function",
        "greet": "function",
    }


def test_signatures_and_docs():
    result = extract()
    assert definition(result, "Session").doc == "A session."
    assert definition(result, "Session.request").signature == "async request(method, body)"
    assert definition(result, "Session.request").doc == "Sends a request."
    assert definition(result, "makeSession").doc == "Makes a session."
    assert definition(result, "handler").signature == "const handler = async (req) =>"
    # The export belongs to the range; the doc comment above it is found through it.
    assert definition(result, "makeSession").range.start_line == 23


def test_imports():
    assert [(i.module, i.names) for i in extract().imports] == [
        ("react", ("React", "useState")),
        ("path", ()),
    ]


def test_references_and_occurrences():
    result = extract()
    assert {"fetch", "Base", "inner", "useState"} <= result.reference_names
    occurrences = identifier_occurrences("s.js", SOURCE.encode(), language_for_path("s.js"), "Session")
    assert [(r.range.start_line, r.is_definition) for r in occurrences] == [(6, True), (23, False), (27, False)]


def test_jsx_suffix_is_javascript():
    assert language_for_path("App.jsx").name == "javascript"
    assert language_for_path("x.mjs").name == language_for_path("x.cjs").name == "javascript"

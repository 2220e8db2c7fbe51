"""Extraction from TypeScript and TSX: interfaces, type aliases, enums, namespaces, generics, overloads, abstract classes, imports."""

from tests.indexer.extract_helpers import definition, extract_source, kinds_by_qualname
from indexer.languages import language_for_path

SOURCE = 'import { Request as Req, Response } from "./http";\nimport * as path from "path";\nimport Default from \'lib\';\nconst fs = require("fs");\nexport { x } from "./reexport";\n\n/** Options for a session. */\nexport interface SessionOptions<T> {\n  timeout: number;\n  retry(n: number): boolean;\n}\n\nexport type Handler = (r: Req) => void;\n\nenum Color { Red, Green = 2 }\n\nnamespace Net { export const port = 80; }\n\n/**\n * A session.\n */\nexport class Session<T> extends Base implements Closeable {\n  private readonly url: string;\n  static count = 0;\n\n  constructor(url: string) {\n    super();\n    this.url = url;\n  }\n\n  // Sends a request.\n  async request(method: string,\n                body?: T): Promise<Response> {\n    const inner = (x: number) => x * 2;\n    return fetch(this.url, { method });\n  }\n\n  get size(): number { return 1; }\n}\n\nexport function overload(a: string): string;\nexport function overload(a: number): number;\nexport function overload(a: any): any { return a; }\n\nexport const handler = async (req: Req) => { return req; };\n\nabstract class Shape { abstract area(): number; }\n'


def extract(path='src/session.ts'):
    return extract_source(SOURCE, path)


EXPECTED = {
    "SessionOptions": "interface",
    "SessionOptions.timeout": "property",
    "SessionOptions.retry": "method",
    "Handler": "class",
    "Color": "enum",
    "Color.Red": "enum_member",
    "Color.Green": "enum_member",
    "Net": "namespace",
    "Session": "class",
    "Session.url": "field",
    "Session.count": "field",
    "Session.constructor": "constructor",
    "Session.request": "method",
    "Session.request.inner": "function",
    "Session.size": "method",
    "overload": "function",
    "handler": "function",
    "Shape": "class",
    "Shape.area": "method",
}


def test_definitions_and_kinds():
    assert kinds_by_qualname(extract()) == EXPECTED


def test_tsx_parses_the_same_definitions():
    assert language_for_path("App.tsx").name == "tsx"
    assert kinds_by_qualname(extract("src/session.tsx")) == EXPECTED


def test_overloads_each_have_their_signature():
    signatures = [d.signature for d in extract().definitions if d.name == "overload"]
    assert signatures == [
        "function overload(a: string): string",
        "function overload(a: number): number",
        "function overload(a: any): any",
    ]


def test_signatures_docs_and_ranges():
    result = extract()
    request = definition(result, "Session.request")
    assert request.signature == "async request(method: string,\n                body?: T): Promise<Response>"
    assert request.doc == "Sends a request."
    session = definition(result, "Session")
    assert session.signature == "export class Session<T> extends Base implements Closeable" or session.signature.startswith("class Session<T>")
    assert session.doc == "A session."
    assert (session.range.start_line, session.range.end_line) == (21, 38)
    assert definition(result, "SessionOptions").doc == "Options for a session."


def test_imports():
    assert [(i.module, i.names, i.line) for i in extract().imports] == [
        ("./http", ("Request", "Response"), 0),
        ("path", ("path",), 1),
        ("lib", ("Default",), 2),
        ("fs", (), 3),
        ("./reexport", ("x",), 4),
    ]


def test_reference_names_include_type_identifiers():
    assert {"Promise", "Req", "Closeable", "fetch"} <= extract().reference_names

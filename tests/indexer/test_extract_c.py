"""Extraction from C: structs, typedefs, enums, unions, macros, prototypes and multi-line definitions, includes."""

from tests.indexer.extract_helpers import definition, extract_source, kinds_by_qualname
from indexer.languages import language_for_path

SOURCE = '#include <stdio.h>\n#include "session.h"\n\n#define MAX_RETRIES 3\n#define SQUARE(x) ((x) * (x))\n\n/* A session. */\nstruct session {\n    const char *url;\n    int timeout;\n};\n\ntypedef struct {\n    int x, y;\n} point_t;\n\nenum mode { MODE_FAST, MODE_SLOW };\n\nunion value { int i; float f; };\n\ntypedef int (*handler_fn)(struct session *s);\n\nint session_open(struct session *s, const char *url);\n\n/**\n * Sends a request.\n */\nstatic int *session_request(struct session *s,\n                            const char *method)\n{\n    enum mode m = MODE_FAST;\n    printf("%s %s\\n", s->url, method);\n    return NULL;\n}\n'


def extract(path='src/session.c'):
    return extract_source(SOURCE, path)


def test_definitions_and_kinds():
    assert kinds_by_qualname(extract()) == {
        "MAX_RETRIES": "constant",
        "SQUARE": "function",
        "session": "struct",
        "session.url": "field",
        "session.timeout": "field",
        "point_t": "struct",
        "point_t.x": "field",
        "mode": "enum",
        "mode.MODE_FAST": "enum_member",
        "mode.MODE_SLOW": "enum_member",
        "value": "struct",
        "value.i": "field",
        "value.f": "field",
        "session_open": "function",
        "session_request": "function",
    }


def test_function_range_signature_and_doc():
    request = definition(extract(), "session_request")
    assert (request.range.start_line, request.range.end_line) == (27, 33)
    assert request.signature == "static int *session_request(struct session *s,\n                            const char *method)"
    assert request.doc == "Sends a request."
    assert definition(extract(), "session").doc == "A session."
    assert definition(extract(), "session_open").signature == "int session_open(struct session *s, const char *url)"


def test_includes():
    assert [i.module for i in extract().imports] == ["stdio.h", "session.h"]


def test_headers_are_c():
    assert language_for_path("include/session.h").name == "c"


def test_references():
    assert {"printf", "MODE_FAST", "handler_fn", "url"} <= extract().reference_names

"""Extraction from Rust: structs, enums, traits, impl blocks, nested functions, modules, macros, use trees."""

from tests.indexer.extract_helpers import definition, extract_source, kinds_by_qualname
from indexer.extract import identifier_occurrences
from indexer.languages import language_for_path

SOURCE = '//! Crate docs.\nuse std::collections::HashMap;\nuse std::io::{self, Read as R, Write};\nuse crate::util::*;\n\n/// Maximum retries.\npub const MAX_RETRIES: u32 = 3;\nstatic GREETING: &str = "hi";\n\n/// A session.\n#[derive(Debug, Clone)]\npub struct Session<T> {\n    pub url: String,\n    state: T,\n}\n\npub enum Mode { Fast, Slow(u8) }\n\npub trait Handler {\n    /// Handles one request.\n    fn handle(&self, req: &Request) -> Result<(), Error>;\n    fn name(&self) -> &str { "h" }\n}\n\nimpl<T: Clone> Session<T> {\n    /// Creates a session.\n    pub fn new(url: &str, state: T) -> Self {\n        fn helper(x: u32) -> u32 { x * 2 }\n        Session { url: url.to_string(), state }\n    }\n\n    pub async fn request(&self,\n                         method: &str) -> io::Result<Response> {\n        println!("{}", method);\n        self.send(method)\n    }\n}\n\nimpl Handler for Session<()> {\n    fn handle(&self, req: &Request) -> Result<(), Error> { Ok(()) }\n}\n\nmod inner {\n    pub fn free() {}\n}\n\nmacro_rules! square { ($x:expr) => { $x * $x }; }\n\ntype Map = HashMap<String, u32>;\n'


def extract(path='src/session.rs'):
    return extract_source(SOURCE, path)


def test_definitions_and_kinds():
    assert kinds_by_qualname(extract()) == {
        "MAX_RETRIES": "constant",
        "GREETING": "variable",
        "Session": "struct",
        "Session.url": "field",
        "Session.state": "field",
        "Mode": "enum",
        "Mode.Fast": "enum_member",
        "Mode.Slow": "enum_member",
        "Handler": "interface",
        "Handler.handle": "method",
        "Handler.name": "method",
        "Session.new": "method",
        "Session.new.helper": "function",
        "Session.request": "method",
        "Session.handle": "method",
        "inner": "module",
        "inner.free": "function",
        "square": "function",
        "Map": "class",
    }


def test_docs_skip_attributes_and_signatures_span_lines():
    result = extract()
    session = definition(result, "Session")
    assert session.doc == "A session."
    assert session.signature == "pub struct Session<T>"
    assert definition(result, "Session.new").doc == "Creates a session."
    assert definition(result, "Session.request").signature == (
        "pub async fn request(&self,\n                         method: &str) -> io::Result<Response>"
    )
    assert definition(result, "Handler.handle").signature == "fn handle(&self, req: &Request) -> Result<(), Error>"


def test_use_trees():
    assert [(i.module, i.names) for i in extract().imports] == [
        ("std::collections", ("HashMap",)),
        ("std::io", ("self", "Read", "Write")),
        ("crate::util", ("*",)),
    ]


def test_impl_blocks_are_chunks():
    chunks = extract().chunks
    impl = next(c for c in chunks if c.text.startswith("impl<T: Clone> Session<T>"))
    # The impl block, then the tiny trait impl for the same type merged into it.
    assert impl.symbol == "Session" and (impl.start_line, impl.end_line) == (24, 40)
    assert "fn handle(&self" in impl.text


def test_references():
    result = extract()
    assert {"HashMap", "to_string", "println", "send"} <= result.reference_names
    occurrences = identifier_occurrences("s.rs", SOURCE.encode(), language_for_path("s.rs"), "helper")
    assert [(r.range.start_line, r.range.start_col, r.is_definition) for r in occurrences] == [(27, 11, True)]

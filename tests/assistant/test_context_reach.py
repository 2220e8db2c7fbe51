"""What a file can reach beyond its own directory is offered as signatures: C headers it includes,
Rust and Java types it imports (their `Type::f(` / `Type.f(` functions), Go packages of the
repository (below go.mod's module path), Rust workspace crates (by their Cargo.toml names), Python
modules imported by name, the methods of a variable's or parameter's declared type (JSDoc's too)
and of the class's base, the methods of a Java class the file calls elsewhere; names imported and
not used yet come first; words in comments are not uses; names called come before
types named nearer the cursor; long signatures are cut."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.context.builder import CHUNK, DEFINITION, IMPORT, ContextBudget, ContextBuilder, Document
from indexer.index import Index

CURSOR = "<|>"


def count_tokens(text: str) -> int:
    return len(re.findall(r"\w+|[^\w\s]|\s+", text))


def make_index(root: Path, files: dict[str, str]) -> Index:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text.replace(CURSOR, ""))
    index = Index.open(root, index_path=root / ".idx.sqlite")
    index.update()
    return index


def build(index: Index, files: dict[str, str], path: str, budget: ContextBudget | None = None):
    text = files[path]
    document = Document(path, text.replace(CURSOR, ""), text.index(CURSOR))
    return ContextBuilder(index, count_tokens, budget).build(document)


def build_in(root: Path, files: dict[str, str], path: str, budget: ContextBudget | None = None):
    """Index `files` under `root` and build the context at the cursor of `path`."""
    index = make_index(root, files)
    try:
        return build(index, files, path, budget)
    finally:
        index.close()


def signatures(context) -> str:
    return "\n".join(s.text for s in context.snippets if s.kind == IMPORT)


def shown(context) -> str:
    """The signatures and definitions in the context (similar chunks may quote anything)."""
    return "\n".join(s.text for s in context.snippets if s.kind != CHUNK)


C_FILES = {
    "include/sds.h": "typedef char *sds;\nint sdsrange(sds s, long start, long end);\nvoid sdsfree(sds s);\n",
    "lib/sds.c": '#include "sds.h"\nint sdsrange(sds s, long start, long end) { return 0; }\n'
                 "void sdsfree(sds s) {}\n",
    "src/net.c": '#include "sds.h"\n\nint flush(sds buf) {\n    ' + CURSOR + "\n    return 0;\n}\n",
    "src/deep/reply.c": '#include "../../include/sds.h"\n\nvoid reply(sds buf) {\n    ' + CURSOR + "\n}\n",
}


@pytest.fixture
def c_index(tmp_path):
    index = make_index(tmp_path, C_FILES)
    yield index
    index.close()


def test_a_c_file_sees_what_an_included_header_declares_from_the_include_directory(c_index):
    assert "int sdsrange(sds s, long start, long end)" in shown(build(c_index, C_FILES, "src/net.c"))


def test_a_relative_include_resolves_against_the_including_file(c_index):
    assert "int sdsrange(sds s, long start, long end)" in shown(build(c_index, C_FILES, "src/deep/reply.c"))


def test_a_c_function_declared_and_defined_is_offered_once(c_index):
    context = build(c_index, C_FILES, "src/net.c")
    signatures = "\n".join(s.text for s in context.snippets if s.kind == IMPORT)
    assert signatures.count("sdsrange(sds s, long start, long end)") == 1


RUST_FILES = {
    "src/lib.rs": "mod frame;\nmod cmd;\npub use frame::Frame;\n",
    "src/frame.rs": "pub enum Frame {\n    Simple(String),\n    Array(Vec<Frame>),\n}\n\nimpl Frame {\n"
                    "    pub fn array() -> Frame {\n        Frame::Array(vec![])\n    }\n\n"
                    "    pub fn push_bulk(&mut self, bytes: Vec<u8>) {}\n}\n",
    "src/cmd/get.rs": "use crate::Frame;\n\npub struct Get {\n    key: String,\n}\n\nimpl Get {\n"
                      "    pub fn into_frame(self) -> Frame {\n        " + CURSOR + "\n    }\n}\n",
}


def test_a_rust_type_imported_through_the_crate_offers_its_associated_functions(tmp_path):
    text = shown(build_in(tmp_path, RUST_FILES, "src/cmd/get.rs"))
    assert "pub fn array() -> Frame" in text
    assert "pub fn push_bulk(&mut self, bytes: Vec<u8>)" in text


JAVA_FILES = {
    "src/main/java/com/acme/util/Strings.java": "package com.acme.util;\n\npublic final class Strings {\n"
        "  public static String pad(String text, int width) {\n    return text;\n  }\n}\n",
    "src/main/java/com/acme/app/Report.java": "package com.acme.app;\n\nimport com.acme.util.Strings;\n\n"
        "public class Report {\n  String render(String title) {\n    " + CURSOR + "\n  }\n}\n",
    "src/main/java/com/acme/util/Checks.java": "package com.acme.util;\n\nfinal class Checks {\n"
        "  static void checkArgument(boolean condition, String message) {}\n}\n",
    "src/main/java/com/acme/app/Table.java": "package com.acme.app;\n\n"
        "import static com.acme.util.Checks.checkArgument;\n\n"
        "public class Table {\n  void add(int row) {\n    " + CURSOR + "\n  }\n}\n",
}


def test_a_java_class_imported_by_package_offers_its_static_methods(tmp_path):
    text = shown(build_in(tmp_path, JAVA_FILES, "src/main/java/com/acme/app/Report.java"))
    assert "public static String pad(String text, int width)" in text


def test_a_java_static_import_offers_the_method_it_names(tmp_path):
    text = shown(build_in(tmp_path, JAVA_FILES, "src/main/java/com/acme/app/Table.java"))
    assert "static void checkArgument(boolean condition, String message)" in text


PY_FILES = {
    "app/__init__.py": "",
    "app/sessions.py": "class Session:\n    def send(self, request):\n        pass\n\n\n"
                       "def session():\n    return Session()\n",
    "app/api.py": "from . import sessions\n\n\ndef request(method, url):\n    " + CURSOR + "\n",
    "app/utils.py": "".join(f"def helper_{i}(value):\n    return value\n\n\n" for i in range(8))
                    + "def super_len(o):\n    return 0\n",
    "app/models.py": "from .utils import " + ", ".join(f"helper_{i}" for i in range(8)) + ", super_len\n\n\n"
                     + "".join(f"def use_{i}(v):\n    return helper_{i}(v)\n\n\n" for i in range(8))
                     + "def prepare_body(data):\n    " + CURSOR + "\n",
    "app/cache.py": "def check(key):\n    return key\n",
    "app/store.py": "def save(key):\n    # check the key first\n    " + CURSOR + "\n",
}


@pytest.fixture
def py_index(tmp_path):
    index = make_index(tmp_path, PY_FILES)
    yield index
    index.close()


def test_a_module_imported_from_its_package_offers_what_it_defines(py_index):
    assert "class Session:" in shown(build(py_index, PY_FILES, "app/api.py"))


def test_an_imported_name_not_used_yet_comes_before_those_used_elsewhere(py_index):
    tight = ContextBudget(max_context_tokens=120)
    text = shown(build(py_index, PY_FILES, "app/models.py", tight))
    assert "def super_len(o):" in text


def test_a_word_in_a_comment_does_not_bring_a_definition(py_index):
    context = build(py_index, PY_FILES, "app/store.py")
    assert not any(s.kind == DEFINITION and "def check" in s.text for s in context.snippets)


GO_FILES = {
    "chi.go": "package chi\n\n// NewRouter returns a new Mux.\nfunc NewRouter() *Mux { return &Mux{} }\n\n"
              "type Mux struct{}\n",
    "internal/walk/walk.go": "package walk\n\n// Routes lists the routes of a router.\n"
                             "func Routes(r any) []string { return nil }\n",
    "middleware/strip.go": "package middleware\n\nimport (\n\t\"net/http\"\n\n\t\"github.com/go-chi/chi/v5\"\n"
                           "\t\"github.com/go-chi/chi/v5/internal/walk\"\n)\n\n"
                           "func StripSlashes(next http.Handler) http.Handler {\n\t" + CURSOR + "\n\treturn next\n}\n",
}


def test_a_go_package_of_the_repository_offers_what_it_exports_through_its_import_path(tmp_path):
    root = tmp_path / "chi"  # a checkout named like its module: the module path's root package
    root.mkdir()
    index = make_index(root, GO_FILES)
    try:
        text = shown(build(index, GO_FILES, "middleware/strip.go"))
    finally:
        index.close()
    assert "func NewRouter() *Mux" in text
    assert "func Routes(r any) []string" in text


JAVA_MEMBERS = {
    "src/main/java/com/acme/cli/OptionGroup.java": "package com.acme.cli;\n\npublic class OptionGroup {\n"
        "  private OptionGroup(String name) {}\n  private void reset() {}\n"
        "  public void setSelected(Option option) {}\n}\n",
    "src/main/java/com/acme/cli/Parser.java": "package com.acme.cli;\n\npublic class Parser {\n"
        "  void update(OptionGroup optionGroup) {\n    if (optionGroup == null) {\n      return;\n    }\n    "
        + CURSOR + "\n  }\n}\n",
}


def test_another_class_offers_its_callable_methods_not_its_private_ones_or_constructors(tmp_path):
    context = build_in(tmp_path, JAVA_MEMBERS, "src/main/java/com/acme/cli/Parser.java")
    signatures = "\n".join(s.text for s in context.snippets if s.kind == IMPORT)
    assert "public void setSelected(Option option)" in signatures
    assert "private" not in signatures


RUST_MODULES = {
    "axum/src/lib.rs": "mod routing;\n",
    "axum/src/routing/mod.rs": "mod path_router;\nmod url_params;\n",
    "axum/src/routing/url_params.rs":
        "pub(crate) fn insert_url_params(extensions: &mut Vec<String>, params: &[String]) {}\n",
    "axum/src/routing/path_router.rs": "use super::url_params;\n\npub(super) fn call_route(params: Vec<String>) {\n"
                                       "    " + CURSOR + "\n}\n",
}


def test_a_rust_module_used_from_its_parent_offers_its_functions(tmp_path):
    text = shown(build_in(tmp_path, RUST_MODULES, "axum/src/routing/path_router.rs"))
    assert "pub(crate) fn insert_url_params(extensions: &mut Vec<String>, params: &[String])" in text


JAVA_RECEIVERS = {
    "src/main/java/com/acme/text/Formatter.java": "package com.acme.text;\n\npublic class Formatter {\n"
        + "".join(f"  public int f{i}() {{ return 0; }}\n" for i in range(60)) + "}\n",
    "src/main/java/com/acme/report/Reporter.java": "package com.acme.report;\n\npublic class Reporter {\n"
        "  public void info(String message) {}\n"
        "  public void flushPendingMessages(String reason, int limit, boolean wait) {}\n}\n",
    "src/main/java/com/acme/app/Job.java": "package com.acme.app;\n\nimport com.acme.text.Formatter;\n"
        "import com.acme.report.Reporter;\n\npublic class Job {\n  private final Reporter log;\n\n"
        "  void run(Formatter formatter) {\n    log.info(\"started\");\n    " + CURSOR + "\n  }\n}\n",
    # `info` is a common name: what defines it says nothing about `log`.
    **{f"src/main/java/com/acme/other/Sink{i}.java": f"package com.acme.other;\n\nclass Sink{i} {{\n"
       "  void info(String message) {}\n}\n" for i in range(4)},
}


def test_a_field_declared_with_a_type_offers_that_types_methods_before_other_imported_types(tmp_path):
    context = build_in(tmp_path, JAVA_RECEIVERS, "src/main/java/com/acme/app/Job.java",
                       ContextBudget(max_context_tokens=260))
    # `log` is a Reporter, whatever its name.
    assert "public void flushPendingMessages(String reason, int limit, boolean wait)" in signatures(context)


JAVA_INHERITED = {
    "src/main/java/com/acme/core/BaseProcessor.java": "package com.acme.core;\n\n"
        "public abstract class BaseProcessor {\n  protected final Reporter errorReporter() { return null; }\n}\n",
    # Namesakes the file imports, listed first by path: only the class hierarchy tells them apart.
    **{f"src/main/java/com/acme/aux/A{i}.java": f"package com.acme.aux;\n\npublic class A{i} {{\n"
       "  public Reporter errorReporter() { return null; }\n}\n" for i in range(3)},
    "src/main/java/com/acme/core/Processor.java": "package com.acme.core;\n\n"
        + "".join(f"import com.acme.aux.A{i};\n" for i in range(3))
        + "\npublic class Processor extends BaseProcessor {\n  void process() {\n    errorReporter().warn(\"x\");\n"
        "    " + CURSOR + "\n  }\n}\n",
}


def test_a_method_called_without_a_receiver_is_the_one_the_class_inherits(tmp_path):
    context = build_in(tmp_path, JAVA_INHERITED, "src/main/java/com/acme/core/Processor.java")
    assert "protected final Reporter errorReporter()" in shown(context)


JAVA_BROKEN_CALL = {
    "src/main/java/com/acme/util/Reports.java": "package com.acme.util;\n\n"
        "public final class Reports {\n  public static Reporter errorReporter() { return null; }\n}\n",
    "src/main/java/com/acme/app/Classifier.java": "package com.acme.app;\n\nfinal class Classifier {\n"
        "  static Classifier classify(Object methods, Reporter reporter, Object env) { return null; }\n}\n",
    "src/main/java/com/acme/app/Processor.java": "package com.acme.app;\n\npublic class Processor {\n"
        "  void process(Object methods, Object env) {\n"
        "    Reporter reporter = com.acme.util.Reports.errorReporter();\n" + "    reporter.note(methods);\n" * 3
        + "    Classifier classifier =\n        Classifier.classify(\n            methods,\n            "
        + CURSOR + "\n            env);\n  }\n}\n",
}


def test_a_blank_argument_line_does_not_hide_what_the_function_called_above_the_call(tmp_path):
    # The parser may take `Classifier.classify(` for the function around the blank line.
    context = build_in(tmp_path, JAVA_BROKEN_CALL, "src/main/java/com/acme/app/Processor.java")
    assert "public static Reporter errorReporter()" in shown(context)


PY_CALLED_FIRST = {
    "app/__init__.py": "",
    "app/shapes.py": "".join(f"class Shape{i}:\n    \"\"\"A shape, number {i}, with a long explanation of what it is "
                             f"for and how it is drawn.\"\"\"\n\n\n" for i in range(6)),
    "app/totals.py": "def compute_total(items, rate, rounding):\n    return 0\n",
    # Modules passed in, not imported: only the definitions of what the function uses reach them.
    "app/report.py": "def report(items, totals, shapes):\n"
                     "    total = totals.compute_total(items, 0.2, 2)\n"
                     + "".join(f"    s{i} = shapes.Shape{i}\n" for i in range(6)) + "    " + CURSOR + "\n",
}


def test_a_function_called_above_comes_before_types_named_nearer_the_cursor(tmp_path):
    context = build_in(tmp_path, PY_CALLED_FIRST, "app/report.py", ContextBudget(max_context_tokens=160))
    assert any(s.kind == DEFINITION and "def compute_total(items, rate, rounding):" in s.text for s in context.snippets)


JAVA_LONG_SIGNATURE = {
    "src/main/java/com/acme/app/Context.java": "package com.acme.app;\n\nclass Context {\n  Context(\n"
        + ",\n".join(f"      String parameterNumber{i}" for i in range(12)) + ") {}\n}\n",
    "src/main/java/com/acme/app/Use.java": "package com.acme.app;\n\nclass Use {\n  void run() {\n"
        "    Context context = new Context(null);\n    " + CURSOR + "\n  }\n}\n",
}


def test_a_long_signature_is_shown_on_one_line_cut_after_its_first_parameters(tmp_path):
    context = build_in(tmp_path, JAVA_LONG_SIGNATURE, "src/main/java/com/acme/app/Use.java")
    [constructor] = [s.text for s in context.snippets if "Context(String parameterNumber0" in s.text]
    assert "\n" not in constructor and constructor.endswith(", …)") and "parameterNumber11" not in constructor


GO_MODULE = {
    "go.mod": "module example.com/acme/router\n\ngo 1.22\n",
    "router.go": "package router\n\n// NewRouter returns a new Mux.\nfunc NewRouter() *Mux { return &Mux{} }\n\n"
                 "type Mux struct{}\n",
    "middleware/strip.go": "package middleware\n\nimport (\n\t\"net/http\"\n\n\t\"example.com/acme/router\"\n)\n\n"
                           "func StripSlashes(next http.Handler) http.Handler {\n\t" + CURSOR + "\n\treturn next\n}\n",
}


def test_a_go_import_path_resolves_below_the_module_path_that_go_mod_declares(tmp_path):
    root = tmp_path / "work"  # a checkout not named like its module
    root.mkdir()
    index = make_index(root, GO_MODULE)
    try:
        text = shown(build(index, GO_MODULE, "middleware/strip.go"))
    finally:
        index.close()
    assert "func NewRouter() *Mux" in text


RUST_WORKSPACE = {
    "crates/searcher/Cargo.toml": '[package]\nname = "grep-searcher"\nversion = "0.1.0"\n',
    "crates/searcher/src/lib.rs": "pub mod sinks;\n",
    "crates/searcher/src/sinks.rs": "pub fn utf8_sink(line: &str) -> usize {\n    0\n}\n",
    "crates/core/Cargo.toml": '[package]\nname = "ripgrep"\nversion = "0.1.0"\n',
    "crates/core/src/lib.rs": "mod search;\n",
    "crates/core/src/search.rs": "use grep_searcher::sinks;\n\npub fn search(line: &str) -> usize {\n    "
                                 + CURSOR + "\n}\n",
}


def test_a_rust_workspace_crate_is_found_by_the_name_in_its_cargo_toml(tmp_path):
    text = shown(build_in(tmp_path, RUST_WORKSPACE, "crates/core/src/search.rs"))
    assert "pub fn utf8_sink(line: &str) -> usize" in text


RUST_MODULE_NAMESAKE = {
    "Cargo.toml": '[package]\nname = "mini-redis"\nversion = "0.1.0"\n',
    "src/lib.rs": "pub mod db;\npub mod server;\npub use db::DbDropGuard;\n\npub const DEFAULT_PORT: u16 = 6379;\n",
    "src/db.rs": "pub struct Db {}\n\npub struct DbDropGuard {\n    db: Db,\n}\n\nimpl DbDropGuard {\n"
                 "    pub(crate) fn db(&self) -> Db {\n        Db {}\n    }\n}\n",
    # `use crate::{...}` offers the crate root's items, its `mod db;` line among them.
    "src/server.rs": "use crate::{DbDropGuard, DEFAULT_PORT};\n\nfn serve() {\n"
                     "    let port = DEFAULT_PORT;\n    " + CURSOR + "\n}\n\nfn close(guard: &DbDropGuard) {}\n",
}


def test_a_crate_roots_module_lines_do_not_take_the_place_of_a_function_of_the_same_name(tmp_path):
    text = shown(build_in(tmp_path, RUST_MODULE_NAMESAKE, "src/server.rs"))
    assert "pub(crate) fn db(&self) -> Db" in text


JAVA_STATIC_HELPERS = {
    "src/main/java/com/acme/util/Reflection.java": "package com.acme.util;\n\npublic final class Reflection {\n"
        "  public static String describeField(Object field) { return null; }\n"
        "  public static RuntimeException accessFailure(Exception cause) { return null; }\n}\n",
    # Other helper classes the file imports, with as many methods, and nothing near the cursor to choose.
    **{f"src/main/java/com/acme/util/Other{i}.java": f"package com.acme.util;\n\npublic final class Other{i} {{\n"
       + "".join(f"  public static int helper{i}x{j}(Object value) {{ return 0; }}\n" for j in range(6)) + "}\n"
       for i in range(4)},
    "src/main/java/com/acme/app/Binder.java": "package com.acme.app;\n\n"
        + "".join(f"import com.acme.util.Other{i};\n" for i in range(4)) + "import com.acme.util.Reflection;\n"
        + "\nclass Binder {\n"
        + "".join(f"  int size{i}(Object f) {{ return Other{i}.helper{i}x0(f); }}\n" for i in range(4))
        + "".join(f"  String name{i}(Object f) {{ return Reflection.describeField(f); }}\n" for i in range(4))
        + "  void bind(Object value) {\n    " + CURSOR + "\n  }\n}\n",
}


def test_a_java_class_the_file_calls_static_methods_on_offers_its_other_methods_first(tmp_path):
    context = build_in(tmp_path, JAVA_STATIC_HELPERS, "src/main/java/com/acme/app/Binder.java",
                       ContextBudget(max_context_tokens=300))
    assert "public static RuntimeException accessFailure(Exception cause)" in signatures(context)


JS_JSDOC = {
    "lib/command.js": "class Command {\n" + "".join(f"  helper{i}(value) {{}}\n" for i in range(8))
        + "  _findOption(arg) {}\n}\n\nexports.Command = Command;\n",
    "lib/option.js": "class Option {\n" + "".join(f"  flag{i}(value) {{}}\n" for i in range(12)) + "}\n\n"
        "exports.Option = Option;\n",
    "lib/help.js": "const { Option } = require('./option.js');\n\nclass Help {\n"
        "  /**\n   * @param {Command} cmd\n   */\n  visibleOptions(cmd) {\n"
        "    const shown = cmd.options.filter((option) => !option.hidden);\n    " + CURSOR + "\n  }\n}\n",
}


def test_a_javascript_parameter_typed_in_jsdoc_offers_that_types_methods(tmp_path):
    context = build_in(tmp_path, JS_JSDOC, "lib/help.js", ContextBudget(max_context_tokens=200))
    assert "_findOption(arg)" in shown(context)


JS_OWN_CLASS_TYPINGS = {
    "lib/command.js": "class Command {\n  /**\n   * @param {Command} source\n   */\n  copySettings(source) {\n"
        "    this.name = source.name;\n    " + CURSOR + "\n  }\n}\n\nexports.Command = Command;\n",
    "typings/index.d.ts": "export class Command {\n  helpInformation(context?: HelpContext): string;\n}\n",
}


def test_a_declaration_file_does_not_stand_for_a_class_the_repository_defines(tmp_path):
    context = build_in(tmp_path, JS_OWN_CLASS_TYPINGS, "lib/command.js")
    assert "helpInformation" not in shown(context)

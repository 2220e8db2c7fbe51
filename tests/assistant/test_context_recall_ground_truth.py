"""The context-recall harness's ground truth: a call site counts only where the callee it names is
the repository's definition, not another file's private method or a namesake of a name the file
imports from a class outside the repository."""

from __future__ import annotations

from assistant.evaluation.context_recall import sample_sites
from test_context_reach import make_index


def sites_in(root, files: dict[str, str], repo: str, **options):
    """Index `files` under `root` and sample the repository's call sites."""
    index = make_index(root, files)
    try:
        return sample_sites(index, repo, **options)
    finally:
        index.close()

JAVA = {
    "src/main/java/com/acme/Printer.java": "package com.acme;\n\nclass Printer {\n"
        "  private void printMessage(String text) {}\n  public void printLine(String text) {}\n"
        "  static <T> T toImmutableMap(T value) { return value; }\n}\n",
    "src/main/java/com/acme/Job.java": "package com.acme;\n\n"
        "import static com.google.common.collect.ImmutableMap.toImmutableMap;\n\nclass Job {\n"
        "  void run(Messager messager, Printer printer) {\n    messager.printMessage(\"x\");\n"
        "    Object map = toImmutableMap(null);\n    printer.printLine(\"y\");\n  }\n}\n",
}


def test_another_files_private_method_and_a_statically_imported_namesake_are_no_sites(tmp_path):
    sites = sites_in(tmp_path, JAVA, "acme", per_kind=10)
    assert [site.callee for site in sites] == ["printLine"]


JAVA_STD = {
    "src/main/java/com/acme/ObjectUtils.java": "package com.acme;\n\npublic class ObjectUtils {\n"
        "  public static boolean isArray(Object value) { return false; }\n}\n",
    "src/main/java/com/acme/Walker.java": "package com.acme;\n\nclass Walker {\n"
        "  void walk(Class<?> c, Object value) {\n    while (c.isArray()) {\n      c = c.getComponentType();\n    }\n"
        "    boolean array = ObjectUtils.isArray(value);\n  }\n}\n",
}


def test_a_jdk_method_on_a_variable_is_no_site_but_the_repositorys_namesake_named_by_its_type_is(tmp_path):
    sites = sites_in(tmp_path, JAVA_STD, "acme", per_kind=10)
    assert [(site.callee, site.line) for site in sites] == [("isArray", 7)]


TS_DECLARED = {
    "typings/index.d.ts": "export class Command {\n  on(event: string, listener: () => void): this;\n}\n",
    "lib/help.js": "function formatHelp(cmd) {\n  return cmd.name;\n}\n\nexports.formatHelp = formatHelp;\n",
    "lib/command.js": "const { formatHelp } = require('./help.js');\n\nclass Command {\n  run() {\n"
                      "    this.on('exit', () => {});\n    const text = formatHelp(this);\n  }\n}\n",
}


def test_a_typescript_declaration_file_defines_nothing_a_call_could_be_measured_against(tmp_path):
    sites = sites_in(tmp_path, TS_DECLARED, "cmd", per_kind=10)
    assert [site.callee for site in sites] == ["formatHelp"]


RUST_QUALIFIED = {
    "extra/src/multipart.rs": "pub fn parse_boundary(content_type: &str) -> Option<String> {\n    None\n}\n",
    "core/src/routing/url_params.rs": "pub fn insert_url_params(params: &[String]) {}\n",
    "core/src/routing/router.rs": "use super::url_params;\n\npub fn route(content_type: &str, params: &[String]) {\n"
                                  "    let boundary = multer::parse_boundary(content_type);\n"
                                  "    url_params::insert_url_params(params);\n}\n",
}


def test_a_rust_call_through_another_crates_module_is_no_site_for_the_repositorys_namesake(tmp_path):
    sites = sites_in(tmp_path, RUST_QUALIFIED, "rs", per_kind=10)
    assert [site.callee for site in sites] == ["insert_url_params"]

"""The context-recall harness's ground truth: a call site counts only where the callee it names is
the repository's definition, not another file's private method or a namesake of a name the file
imports from a class outside the repository."""

from __future__ import annotations

from assistant.evaluation.context_recall import sample_sites
from test_context_reach import make_index

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
    index = make_index(tmp_path, JAVA)
    try:
        sites = sample_sites(index, "acme", per_kind=10)
    finally:
        index.close()
    assert [site.callee for site in sites] == ["printLine"]

"""Context recall: what the enclosing function uses, and what the file can reach, is in the prompt
as signatures; tests and bundles are no context for library code; no snippet appears twice."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from assistant.context.builder import DEFINITION, ContextBuilder, Document
from indexer.index import Index

FILES = {
    "pkg/command.go": """package pkg

// Command is one command.
type Command struct{ name string }

// Root returns the root command.
func (c *Command) Root() *Command { return c }

// Flags returns the flag set.
func (c *Command) Flags() []string { return nil }
""",
    "pkg/util.go": """package pkg

// WriteStringAndCheck writes s or panics.
func WriteStringAndCheck(s string) {}
""",
    "pkg/util_test.go": """package pkg

func helperOnlyForTests() {}
""",
    "dist/bundle.go": """package dist

func WriteStringAndCheck(s string) {}
""",
    "pkg/run.go": """package pkg

func Run(c *Command) {
	root := c.Root()
	WriteStringAndCheck(root.name)

}
""",
}


def count_tokens(text: str) -> int:
    return len(re.findall(r"\w+|[^\w\s]|\s+", text))


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    root: Path = tmp_path_factory.mktemp("gorepo")
    for path, text in FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    idx = Index.open(root, index_path=tmp_path_factory.mktemp("idx") / "idx.sqlite")
    idx.update()
    yield idx
    idx.close()


def cursor_doc() -> Document:
    text = FILES["pkg/run.go"]
    return Document("pkg/run.go", text, text.index("name)\n\n") + len("name)\n\n") - 1)


def test_methods_and_package_functions_used_above_are_in_the_context(index):
    ctx = ContextBuilder(index, count_tokens).build(cursor_doc())
    text = "\n".join(s.text for s in ctx.snippets)
    assert "func (c *Command) Root() *Command" in text
    assert "func WriteStringAndCheck(s string)" in text


def test_same_package_signatures_not_yet_used_are_offered(index):
    ctx = ContextBuilder(index, count_tokens).build(cursor_doc())
    assert "func (c *Command) Flags() []string" in "\n".join(s.text for s in ctx.snippets)


def test_tests_and_bundles_are_not_context_for_library_code(index):
    ctx = ContextBuilder(index, count_tokens).build(cursor_doc())
    assert not any(s.path in ("pkg/util_test.go", "dist/bundle.go") for s in ctx.snippets)


def test_no_definition_is_shown_twice(index):
    ctx = ContextBuilder(index, count_tokens).build(cursor_doc())
    lines = [line for s in ctx.snippets for line in s.text.split("\n") if line.startswith("func")]
    assert len(lines) == len(set(lines))


PY_FILES = {
    "app/__init__.py": "",
    "app/content.py": '''def encode_request(
    content: bytes | None = None,
    boundary: bytes | None = None,
) -> bytes:
    """Encode a request body."""
    return content or b""


def encode_response(content: bytes) -> bytes:
    """Encode a response body."""
    return content
''',
    "app/fixtures_free.py": '''def request_content():
    """A function that happens to share a parameter's name."""
''',
    "app/models.py": (
        "from app.content import encode_request, encode_response\n\n\n"
        "def build(request_content):\n    body = request_content.strip()\n    \n"
    ),
}


@pytest.fixture(scope="module")
def py_index(tmp_path_factory):
    root: Path = tmp_path_factory.mktemp("pyrepo")
    for path, text in PY_FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    idx = Index.open(root, index_path=tmp_path_factory.mktemp("idx") / "idx.sqlite")
    idx.update()
    yield idx
    idx.close()


def test_imported_functions_not_yet_used_are_offered_as_one_line_signatures(py_index):
    text = PY_FILES["app/models.py"]
    doc = Document("app/models.py", text, len(text) - 1)
    ctx = ContextBuilder(py_index, count_tokens).build(doc)
    shown = "\n".join(s.text for s in ctx.snippets)
    assert "def encode_request(content: bytes | None = None, boundary: bytes | None = None) -> bytes:" in shown
    assert "def encode_response(content: bytes) -> bytes:" in shown


def test_a_parameter_named_like_a_function_elsewhere_does_not_bring_its_definition(py_index):
    text = PY_FILES["app/models.py"]
    ctx = ContextBuilder(py_index, count_tokens).build(Document("app/models.py", text, len(text) - 1))
    assert not any(s.kind == DEFINITION and "def request_content" in s.text for s in ctx.snippets)

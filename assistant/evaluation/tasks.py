"""Evaluation tasks and how they are cut from a source file (pure functions of text).

Three kinds of held-out completion: a whole line (the cursor after its indentation), a span (the
cursor mid-line, the rest of the line's expression to predict; closing brackets an editor would
have auto-inserted stay after the cursor) and a whole function body (the cursor on the body's first
line). Plus the company's own explanation prompts with a checklist of facts the answer must mention.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from assistant.completion.stopping import CLOSERS, CODE, COMMENT, OPENERS, Lexer
from indexer import kinds
from indexer.languages import language_for_path, parser_for
from indexer.model import Definition

LINE, SPAN, BODY, EXPLAIN = "line", "span", "body", "explain"
ASK = "ask"
COMPLETION_KINDS = (LINE, SPAN, BODY)

MIN_LINE_CHARS = 10  # shorter lines (`else:`, `}`, `i += 1`) say little about a model
MAX_LINE_CHARS = 160  # longer ones are data or generated code
MIN_SPAN_CHARS = 4
MAX_BODY_LINES = 8  # the completion's default maxLines: a longer body could never be matched
MIN_BODY_CHARS = 12
BODY_KINDS = frozenset({kinds.FUNCTION, kinds.METHOD, kinds.CONSTRUCTOR})
_FUNCTION_NODE_WORDS = ("function", "method", "constructor", "func", "def")
_IDENTIFIER = re.compile(r"[A-Za-z_]")
# Where a cursor naturally stops mid-line: after an assignment, an opening bracket, a comma, `return`.
_CUT_AFTER = re.compile(r"(?<![=!<>])=(?!=)\s*|[(\[{]\s*|,\s+|\breturn\s+|\bawait\s+|=>\s*|:\s+(?=\S)")


def task_id(path: str, line: int, col: int, expected: str) -> str:
    """Stable id: the same text expected at the same place of the same file is the same task."""
    digest = hashlib.sha256(f"{path}\0{line}:{col}\0{expected}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class CompletionTask:
    """One held-out completion: the document is prefix + suffix, the cursor between them, and the
    model should write `expected` there. Lines and columns are 0-based (columns in code points);
    `end_col` is exclusive."""

    id: str
    kind: str  # LINE, SPAN or BODY
    path: str  # repository-relative POSIX path
    language: str
    start_line: int
    start_col: int
    end_line: int
    end_col: int
    prefix: str
    suffix: str
    expected: str
    commit: str | None = None  # git HEAD the text was taken from (None outside git)
    added_in: str = ""  # the set version that first held this task
    symbol: str = ""  # for BODY: the function's qualified name

    @property
    def document(self) -> str:
        return self.prefix + self.suffix

    @property
    def original(self) -> str:
        return self.prefix + self.expected + self.suffix

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompletionTask:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class ExplainTask:
    """An explanation prompt a company wrote: code (a file's lines, or inline) and the facts a good
    answer mentions. Lines are 0-based and inclusive."""

    id: str
    name: str
    source: str  # the prompt file it came from, relative to the store
    path: str
    language: str
    start_line: int
    end_line: int
    code: str
    must_mention: tuple[str, ...] = ()
    commit: str | None = None
    added_in: str = ""
    kind: str = field(default=EXPLAIN)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["must_mention"] = list(self.must_mention)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExplainTask:
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values["must_mention"] = tuple(values.get("must_mention") or ())
        return cls(**values)


@dataclass(frozen=True)
class AskTask(ExplainTask):
    """A question a company wrote about its codebase: the facts a good answer mentions and the files
    it should cite. Kept with the explanation prompts (an inline path, no code of its own)."""

    question: str = ""
    expect_paths: tuple[str, ...] = ()
    kind: str = field(default=ASK)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["expect_paths"] = list(self.expect_paths)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AskTask:
        task = super().from_dict(data)
        return replace(task, expect_paths=tuple(task.expect_paths or ()))


def task_from_dict(data: dict[str, Any]) -> CompletionTask | ExplainTask:
    if data.get("kind") == ASK:
        return AskTask.from_dict(data)
    return ExplainTask.from_dict(data) if data.get("kind") == EXPLAIN else CompletionTask.from_dict(data)


# --- cutting candidates from one file -------------------------------------------------------------


@dataclass
class FileText:
    """A file's text with its line offsets, and the rows a task must not start on (inside
    multi-line strings or comments, or tree-sitter errors)."""

    path: str
    text: str
    language: str
    lines: list[str]
    starts: list[int]  # str offset of each line
    masked: set[int]
    tree: Any = None

    @classmethod
    def parse(cls, path: str, text: str) -> FileText | None:
        spec = language_for_path(path)
        if spec is None:
            return None
        lines = text.split("\n")
        starts, offset = [], 0
        for line in lines:
            starts.append(offset)
            offset += len(line) + 1
        tree = parser_for(spec).parse(text.encode("utf-8", "surrogatepass"))
        return cls(path, text, spec.name, lines, starts, _masked_rows(tree.root_node), tree)

    def offset(self, line: int, col: int) -> int:
        return self.starts[line] + col

    def make(self, kind: str, line: int, col: int, end_line: int, end_col: int, symbol: str = "",
             commit: str | None = None) -> CompletionTask:
        start, end = self.offset(line, col), self.offset(end_line, end_col)
        expected = self.text[start:end]
        return CompletionTask(
            id=task_id(self.path, line, col, expected), kind=kind, path=self.path, language=self.language,
            start_line=line, start_col=col, end_line=end_line, end_col=end_col,
            prefix=self.text[:start], suffix=self.text[end:], expected=expected, commit=commit, symbol=symbol,
        )


def _masked_rows(root: Any) -> set[int]:
    """Rows touched by multi-line strings and comments, and by syntax errors. Only nodes spanning
    several rows (or holding an error) are descended into: a one-row node cannot hold a multi-row one."""
    masked: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        first, last = node.start_point[0], node.end_point[0]
        if node.is_error or node.is_missing:
            masked.update(range(first, last + 1))
            continue
        if last > first and ("string" in node.type or "comment" in node.type or "heredoc" in node.type):
            masked.update(range(first, last + 1))
            continue
        for child in node.children:
            if child.end_point[0] > child.start_point[0] or child.has_error or child.is_missing:
                stack.append(child)
    return masked


def is_code_line(line: str, language: str) -> bool:
    """A line worth completing: long enough, not a comment, with an identifier in its code."""
    stripped = line.strip()
    if not (MIN_LINE_CHARS <= len(stripped) <= MAX_LINE_CHARS):
        return False
    scanned = list(Lexer(language).scan(stripped))
    if not scanned or scanned[0][2] == COMMENT:
        return False
    return bool(_IDENTIFIER.search("".join(ch for _i, ch, kind in scanned if kind == CODE)))


def line_candidates(ft: FileText, commit: str | None = None) -> list[CompletionTask]:
    out = []
    for row, line in enumerate(ft.lines):
        if row in ft.masked or not is_code_line(line, ft.language):
            continue
        indent = len(line) - len(line.lstrip())
        out.append(ft.make(LINE, row, indent, row, len(line.rstrip()), commit=commit))
    return out


def span_candidates(ft: FileText, rng: random.Random, commit: str | None = None) -> list[CompletionTask]:
    """At most one span per line, its cut point chosen by `rng` among the natural ones."""
    out = []
    for row, line in enumerate(ft.lines):
        if row in ft.masked or not is_code_line(line, ft.language):
            continue
        cuts = span_cuts(line, ft.language)
        if cuts:
            start, end = cuts[rng.randrange(len(cuts))]
            out.append(ft.make(SPAN, row, start, row, end, commit=commit))
    return out


def span_cuts(line: str, language: str) -> list[tuple[int, int]]:
    """(cursor column, end column) pairs: the cursor after `=`, `(`, `, `, `return`... in code, the
    span running to the end of the line's expression (an unmatched closing bracket stays after it)."""
    body_end = len(line.rstrip())
    indent = len(line) - len(line.lstrip())
    kinds_at = {i: kind for i, _ch, kind in Lexer(language).scan(line)}
    out = []
    for match in _CUT_AFTER.finditer(line, indent):
        cursor = match.end()
        if cursor - indent < 3 or cursor >= body_end or kinds_at.get(match.start()) != CODE:
            continue
        if kinds_at.get(cursor) == COMMENT:  # nothing left to complete on this line
            continue
        end = _expression_end(line, cursor, body_end, language)
        span = line[cursor:end].rstrip().rstrip(",;").rstrip()  # the separator is not the expression
        if len(span) >= MIN_SPAN_CHARS and _IDENTIFIER.search(span):
            out.append((cursor, cursor + len(span)))
    return list(dict.fromkeys(out))


def _expression_end(line: str, cursor: int, body_end: int, language: str) -> int:
    """Where the expression starting at `cursor` ends: at the first closer it did not open itself,
    or before a trailing line comment, else at the end of the line's code."""
    depth = 0
    for i, ch, kind in Lexer(language).scan(line[cursor:body_end]):
        if kind == COMMENT:
            return cursor + i
        if kind != CODE:
            continue
        if ch in OPENERS:
            depth += 1
        elif ch in CLOSERS:
            depth -= 1
            if depth < 0:
                return cursor + i
    return body_end


def body_candidates(ft: FileText, definitions: list[Definition], commit: str | None = None) -> list[CompletionTask]:
    """Whole bodies of functions and methods: from the first statement (after a Python docstring)
    to the end of the last, when the body starts on its own line and has at most MAX_BODY_LINES."""
    out = []
    for d in definitions:
        if d.kind not in BODY_KINDS:
            continue
        body = _body_rows(ft, d)
        if body is None:
            continue
        first, last = body
        if last - first + 1 > MAX_BODY_LINES:
            continue
        line = ft.lines[first]
        col = len(line) - len(line.lstrip())
        end_col = len(ft.lines[last].rstrip())
        task = ft.make(BODY, first, col, last, end_col, symbol=d.qualname, commit=commit)
        if len(task.expected.strip()) >= MIN_BODY_CHARS:
            out.append(task)
    return out


def _body_rows(ft: FileText, d: Definition) -> tuple[int, int] | None:
    """(first, last) rows of a definition's body statements, or None when it has no usable body."""
    if ft.tree is None or not (0 <= d.name_range.start_line < len(ft.lines)):
        return None
    row = d.name_range.start_line
    col = len(ft.lines[row][: d.name_range.start_col].encode("utf-8", "surrogatepass"))
    node = ft.tree.root_node.descendant_for_point_range((row, col), (row, col))
    while node is not None and not any(word in node.type for word in _FUNCTION_NODE_WORDS):
        node = node.parent
    body = node.child_by_field_name("body") if node is not None else None
    if body is None:  # a declaration without a body (an interface's method, a prototype)
        return None
    children = list(body.children)
    brace = bool(children) and children[0].type == "{"
    if brace:
        if children[-1].type != "}":
            return None
        opener_row, closer_row = children[0].end_point[0], children[-1].start_point[0]
        children = children[1:-1]
    else:
        previous = body.prev_sibling
        opener_row = previous.end_point[0] if previous is not None else node.start_point[0]
        closer_row = None
    if len(children) == 1 and children[0].type == "statement_list":  # Go wraps the statements (and the newline)
        children = list(children[0].children)
    if ft.language == "python" and children and _is_docstring(children[0]):
        opener_row = children[0].end_point[0]
        children = children[1:]
    if not children:
        return None
    first, last = children[0].start_point[0], children[-1].end_point[0]
    if first <= opener_row or (closer_row is not None and last >= closer_row):
        return None
    last_end = children[-1].end_point[1]
    if ft.lines[last].encode("utf-8", "surrogatepass")[last_end:].strip():
        return None  # something else shares the body's last line
    return first, last


def _is_docstring(node: Any) -> bool:
    return node.type == "expression_statement" and bool(node.named_children) and all(
        "string" in c.type for c in node.named_children)

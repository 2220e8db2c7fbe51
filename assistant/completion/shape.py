"""Decide the shape of a completion at the cursor: one line (mid-line, a statement in progress) or a
block (after a block opener, or in an empty body), with the indentation the block must stay inside.

Text rules do most of the work; tree-sitter answers what text cannot: is the cursor inside a string
or comment, and is the enclosing body empty apart from a docstring or comments.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from assistant.completion.lexer import (  # noqa: F401  (re-exported for context.py)
    TAB_WIDTH, bracket_balance, code_only, has_end_keyword, indent_width, line_comment, open_brackets,
)
from indexer.languages import language_for_path, parser_for

log = logging.getLogger(__name__)

SINGLE_LINE = "single_line"
BLOCK = "block"

DEFAULT_MAX_LINES = 8

@dataclass(frozen=True, slots=True)
class CompletionShape:
    """How a completion at one cursor may look.

    mode: SINGLE_LINE (stop at the first newline) or BLOCK.
    block_indent: indentation (columns, tabs = 4) of the line that owns the block being completed;
        in BLOCK mode a later line indented this much or less ends the completion.
    max_lines: the most lines the completion may have.
    language: the language name, for comment and string syntax when trimming.
    line_prefix: the text of the cursor's line before the cursor.
    """

    mode: str
    block_indent: int
    max_lines: int
    language: str = ""
    line_prefix: str = ""

    @property
    def single_line(self) -> bool:
        return self.mode == SINGLE_LINE


def decide_shape(
    text: str, offset: int, path: str = "", *, max_lines: int = DEFAULT_MAX_LINES
) -> CompletionShape:
    """The shape of a completion inserted at `offset` (a `str` index) in the document `text`."""
    offset = max(0, min(offset, len(text)))
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    if line_end < 0:
        line_end = len(text)
    before = text[line_start:offset]
    after = text[offset:line_end]
    local = local_syntax(text, offset, path)
    language = local.language if local else language_name_for_path(path)

    def single() -> CompletionShape:
        return CompletionShape(SINGLE_LINE, indent_width(before), 1, language, before)

    def block(owner_indent: int) -> CompletionShape:
        return CompletionShape(BLOCK, owner_indent, max(1, max_lines), language, before)

    if local is not None and local.in_string_or_comment:
        return single()
    if after.strip() and not _only_closers(after):
        return single()  # mid-line: finish this line only
    if before.strip():
        if _opens_block(before, language):
            return block(_statement_indent(text, line_start, language))
        return single()  # a statement in progress
    # The cursor's line is blank (up to closers the editor auto-inserted).
    if _inside_open_bracket(text, line_start, language):
        return single()  # e.g. the next argument of a call spanning lines
    previous = _previous_code_line(text, line_start, language)
    if previous is not None:
        prev_start, prev_line = previous
        if _opens_block(prev_line, language):
            return block(_statement_indent(text, prev_start, language))
    if local is not None and local.empty_body_indent is not None:
        if indent_width(before) > local.empty_body_indent:
            return block(local.empty_body_indent)
    return single()


# --- text rules -----------------------------------------------------------------------------------

_CLOSERS_ONLY = re.compile(r"""^[\s)\]}>"'`;,:]*$""")


def _only_closers(after: str) -> bool:
    """Text the editor auto-inserts after the cursor (closing brackets, quotes, `;`) doesn't make the
    cursor mid-line."""
    return bool(_CLOSERS_ONLY.match(after))


_DO_AT_END = re.compile(r"(?:^|[^\w])do(?:\s*\|[^|]*\|)?$")
_CASE_LABEL = re.compile(r"^\s*(?:case\b.*|default\s*):$")


def _opens_block(line: str, language: str) -> bool:
    """Whether `line` ends with a block opener: `:` (Python), `{`, `=>`, `do`."""

    code = code_only(line, language).rstrip()
    if not code:
        return False
    if code.endswith("{") or code.endswith("=>"):
        return True
    if _DO_AT_END.search(code):
        return True
    if code.endswith(":"):
        if language == "python":
        
            return not open_brackets(code, language)  # `{"a":` is a dict in progress
        return bool(_CASE_LABEL.match(code))
    return False


def _lines_before(text: str, line_start: int, limit: int):
    """Yield (start, line) for up to `limit` lines before the line starting at `line_start`."""
    end = line_start - 1
    for _ in range(limit):
        if end < 0:
            return
        start = text.rfind("\n", 0, end) + 1
        yield start, text[start:end]
        end = start - 1


def _previous_code_line(text: str, line_start: int, language: str) -> tuple[int, str] | None:
    """The nearest earlier line with code on it (comment-only lines are skipped)."""

    for start, line in _lines_before(text, line_start, 50):
        if code_only(line, language).strip():
            return start, line
    return None


def _statement_indent(text: str, line_start: int, language: str) -> int:
    """Indentation of the statement that ends on the line at `line_start`: `def f(a,\\n b):` is
    indented as its `def` line."""

    line_end = text.find("\n", line_start)
    chunk = text[line_start : line_end if line_end >= 0 else len(text)]
    start_line = chunk
    if bracket_balance(chunk, language)[0] == 0:
        return indent_width(chunk)
    for _start, line in _lines_before(text, line_start, 30):
        chunk = line + "\n" + chunk
        start_line = line
        if bracket_balance(chunk, language)[0] == 0:
            break
    return indent_width(start_line)


def _inside_open_bracket(text: str, line_start: int, language: str) -> bool:
    """Whether a `(` or `[` opened on recent lines is still open at the start of the cursor's line."""

    window_start = line_start
    for start, line in _lines_before(text, line_start, 40):
        window_start = start
        if line and indent_width(line) == 0 and line.strip() and line.lstrip()[0] not in ")]}":
            break  # a top-level line starts a statement; nothing before it can still be open
    opened = open_brackets(text[window_start:line_start], language)
    return bool(opened) and opened[-1] in "(["


# --- tree-sitter ----------------------------------------------------------------------------------

_WINDOW_BEFORE = 200
_WINDOW_AFTER = 40
_BODY_FIELD = "body"
_DEFINITION_WORDS = ("function", "method", "class", "def", "lambda", "impl", "func")
_FUNCTION_WORDS = ("function", "method", "func", "lambda", "arrow", "def", "constructor")
_CONTINUATION = re.compile(r"^(?:else|elif|except|finally|catch|end|case|default)\b|^[)\]}]")


@dataclass(frozen=True, slots=True)
class Scope:
    """The function (or method) enclosing the cursor; lines are 0-based and inclusive."""

    start_line: int
    end_line: int
    header: str  # its first line, stripped


@dataclass(frozen=True, slots=True)
class LocalSyntax:
    """What tree-sitter says about the neighbourhood of the cursor."""

    language: str
    in_string_or_comment: bool
    empty_body_indent: int | None  # indentation of the owner of an empty body ending at the cursor
    scope: Scope | None


def language_name_for_path(path: str) -> str:
    spec = _spec_for_path(path)
    return spec.name if spec is not None else ""


def _spec_for_path(path: str) -> Any:
    if not path:
        return None
    try:
        return language_for_path(path)
    except Exception:  # a broken grammar must not break completions
        log.exception("no language for %s", path)
        return None


def _parser_for_path(path: str) -> tuple[Any, str] | None:
    spec = _spec_for_path(path)
    if spec is None:
        return None
    return parser_for(spec), spec.name


_memo: tuple[str, int, str, LocalSyntax | None] | None = None


def local_syntax(text: str, offset: int, path: str) -> LocalSyntax | None:
    """Parse the lines around the cursor (not the whole file, to stay fast on big files).

    The server asks for the shape and the context of the same document state one after the other;
    the last answer is remembered so that it is parsed once.
    """
    global _memo
    memo = _memo
    if memo is not None and memo[0] is text and memo[1] == offset and memo[2] == path:
        return memo[3]
    try:
        result = _local_syntax(text, offset, path)
    except Exception:  # tree-sitter trouble degrades to the text rules
        log.exception("parsing around the cursor in %s failed", path)
        result = None
    _memo = (text, offset, path, result)
    return result


def _local_syntax(text: str, offset: int, path: str) -> LocalSyntax | None:
    found = _parser_for_path(path)
    if found is None:
        return None
    parser, language = found
    offset = max(0, min(offset, len(text)))
    cursor_line = text.count("\n", 0, offset)
    line_start = text.rfind("\n", 0, offset) + 1

    # The window starts at a top-level line so that the parse is not thrown by a partial block.
    window_start = line_start
    window_first_line = cursor_line
    for start, line in _lines_before(text, line_start, _WINDOW_BEFORE):
        window_start, window_first_line = start, window_first_line - 1
        stripped = line.strip()
        if stripped and indent_width(line) == 0 and not _CONTINUATION.match(stripped):
            break
    window_end = offset
    for _ in range(_WINDOW_AFTER):
        nxt = text.find("\n", window_end + 1)
        if nxt < 0:
            window_end = len(text)
            break
        window_end = nxt
    source = text[window_start:window_end].encode("utf-8", "surrogatepass")
    tree = parser.parse(source)
    row = cursor_line - window_first_line
    col = len(text[line_start:offset].encode("utf-8", "surrogatepass"))
    point = (row, col)
    root = tree.root_node

    in_text = _in_string_or_comment(root, point)
    empty_indent = None
    if not text[line_start:offset].strip():
        empty_indent = _empty_body_owner_indent(root, source, row, text, line_start, language)
    probe = point
    if not text[line_start:offset].strip():
        # On a blank line tree-sitter may place the cursor after the block it belongs to (Python).
        lines = source.split(b"\n")
        prev_row = row - 1
        while prev_row >= 0 and not lines[prev_row].strip():
            prev_row -= 1
        if prev_row >= 0 and indent_width(text[line_start:offset]) > 0:
            probe = (prev_row, max(0, len(lines[prev_row].rstrip()) - 1))
    scope = _enclosing_function(root, probe, source, window_first_line, row)
    return LocalSyntax(language, in_text, empty_indent, scope)


def _in_string_or_comment(root: Any, point: tuple[int, int]) -> bool:
    probes = [point]
    if point[1] > 0:  # a cursor at the very end of a comment belongs to the node before it
        probes.append((point[0], point[1] - 1))
    for probe in probes:
        node = root.descendant_for_point_range(probe, probe)
        while node is not None:
            kind = node.type
            if "comment" in kind:
                if point == node.end_point:  # just after it: inside a line comment only
                    return not (node.text or b"").rstrip().endswith(b"*/")
                if node.start_point < point < node.end_point:
                    return True
                break
            if "string" in kind and not kind.endswith(_STRING_PARTS):
                if node.start_point < point < node.end_point:
                    return True
                break
            if kind in {"block", "module", "program", "source_file"}:
                break
            node = node.parent
    return False


_STRING_PARTS = ("_start", "_end", "content", "fragment")


def _empty_body_owner_indent(
    root: Any, source: bytes, row: int, text: str, line_start: int, language: str
) -> int | None:
    """Indentation of the definition whose body, ending just above the cursor, holds nothing but a
    docstring or comments: `def f():\\n    \"\"\"Doc.\"\"\"\\n    |`."""
    lines = source.split(b"\n")
    prev_row = row - 1
    while prev_row >= 0 and not lines[prev_row].strip():
        prev_row -= 1
    if prev_row < 0:
        return None
    prev = lines[prev_row].rstrip()
    point = (prev_row, max(0, len(prev) - 1))
    node = root.descendant_for_point_range(point, point)
    while node is not None:
        if any(word in node.type for word in _DEFINITION_WORDS) and node.type != "decorator":
            body = node.child_by_field_name(_BODY_FIELD)
            if _is_empty_body(body, language):
                owner = lines[node.start_point[0]].decode("utf-8", "replace")
                return indent_width(owner)
            return None
        node = node.parent
    return None


def _is_empty_body(body: Any, language: str) -> bool:
    if body is None:
        return True
    for child in body.named_children:
        if "comment" in child.type:
            continue
        if child.type == "expression_statement" and all(
            "string" in c.type or "comment" in c.type for c in child.named_children
        ):
            continue  # a docstring
        return False
    return True


def _enclosing_function(
    root: Any, point: tuple[int, int], source: bytes, first_line: int, cursor_row: int
) -> Scope | None:
    node = root.descendant_for_point_range(point, point)
    while node is not None:
        if any(word in node.type for word in _FUNCTION_WORDS) and node.start_point[0] < cursor_row:
            start = node.start_point[0]
            header = source.split(b"\n", start + 1)[start].decode("utf-8", "replace").strip()
            return Scope(start + first_line, node.end_point[0] + first_line, header)
        node = node.parent
    return None

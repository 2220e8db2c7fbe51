"""Where a completion ends: `should_stop` between tokens, and `finalize` to trim what came out.

Pure functions of text. Brackets inside strings and comments are ignored by a small lexer that knows
the quote and comment syntax of the languages kura parses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from assistant.completion.shape import CompletionShape, has_end_keyword, indent_width, line_comment

OPENERS = "([{"
CLOSERS = ")]}"
_MATCH = {")": "(", "]": "[", "}": "{"}

# What a character is, as `Lexer.scan` reports it.
CODE, STRING, COMMENT = 0, 1, 2
# The lexer's states.
_CODE, _STRING, _LINE_COMMENT, _BLOCK_COMMENT = range(4)


class Lexer:
    """Classifies characters as code, string or comment; its state carries over between `scan`
    calls, so the cursor's line and then the completion can be scanned as one text."""

    def __init__(self, language: str) -> None:
        language = language.lower()
        marker = line_comment(language)
        self.hash_comments = marker == "#" or language == "php"
        self.slash_comments = marker == "//" or language == "php"
        self.triple_quotes = language == "python"
        self.backtick_strings = language not in {"python", "c", "cpp", "c_sharp", "csharp", "java"}
        self.raw_backticks = language == "go"
        self.rust = language == "rust"
        self.state = _CODE
        self.delimiter = ""

    def scan(self, text: str) -> Iterator[tuple[int, str, int]]:
        """Yield (index, char, kind) for every character of `text`; kind is CODE, STRING or
        COMMENT."""
        i, n = 0, len(text)
        while i < n:
            ch = text[i]
            state = self.state
            if state == _CODE:
                if self.slash_comments and text.startswith("/*", i):
                    self.state = _BLOCK_COMMENT
                    yield i, ch, COMMENT
                    yield i + 1, "*", COMMENT
                    i += 2
                    continue
                if (self.slash_comments and text.startswith("//", i)) or (
                    self.hash_comments and ch == "#"
                ):
                    self.state = _LINE_COMMENT
                    yield i, ch, COMMENT
                elif ch in "\"'`" and self._opens_string(text, i):
                    if self.triple_quotes and text.startswith(ch * 3, i):
                        self.delimiter = ch * 3
                    else:
                        self.delimiter = ch
                    self.state = _STRING
                    for k in range(len(self.delimiter)):
                        yield i + k, text[i + k], STRING
                    i += len(self.delimiter)
                    continue
                else:
                    yield i, ch, CODE
                i += 1
            elif state == _STRING:
                delimiter = self.delimiter
                if ch == "\\" and not (delimiter == "`" and self.raw_backticks):
                    yield i, ch, STRING
                    if i + 1 < n:
                        yield i + 1, text[i + 1], STRING
                    i += 2
                    continue
                if text.startswith(delimiter, i):
                    for k in range(len(delimiter)):
                        yield i + k, text[i + k], STRING
                    self.state = _CODE
                    i += len(delimiter)
                    continue
                if ch == "\n" and delimiter in {'"', "'"}:
                    self.state = _CODE  # an unterminated one-line string ends with its line
                    yield i, ch, CODE
                else:
                    yield i, ch, STRING
                i += 1
            elif state == _LINE_COMMENT:
                if ch == "\n":
                    self.state = _CODE
                    yield i, ch, CODE
                else:
                    yield i, ch, COMMENT
                i += 1
            else:  # block comment
                if text.startswith("*/", i):
                    yield i, ch, COMMENT
                    yield i + 1, "/", COMMENT
                    self.state = _CODE
                    i += 2
                    continue
                yield i, ch, COMMENT
                i += 1

    def _opens_string(self, text: str, i: int) -> bool:
        ch = text[i]
        if ch == "`":
            return self.backtick_strings
        if ch == "'" and self.rust:  # 'a' and '\n' are chars; 'a alone is a lifetime
            return text[i + 1 : i + 2] == "\\" or text[i + 2 : i + 3] == "'"
        return True

    def brackets(self, text: str) -> Iterator[tuple[int, str]]:
        for i, ch, kind in self.scan(text):
            if kind == CODE and (ch in OPENERS or ch in CLOSERS):
                yield i, ch


def code_only(text: str, language: str) -> str:
    """`text` without its comments (strings are kept)."""
    return "".join(ch for _i, ch, kind in Lexer(language).scan(text) if kind != COMMENT)


def bracket_balance(text: str, language: str) -> tuple[int, list[str]]:
    """(closers that close nothing opened in `text`, openers still open at its end)."""
    stack: list[str] = []
    excess = 0
    for _i, ch in Lexer(language).brackets(text):
        if ch in OPENERS:
            stack.append(ch)
        elif stack:
            stack.pop()
        else:
            excess += 1
    return excess, stack


def open_brackets(text: str, language: str) -> list[str]:
    """The openers still open at the end of `text`, outermost first."""
    return bracket_balance(text, language)[1]


# --- between tokens -------------------------------------------------------------------------------


def should_stop(text_so_far: str, shape: CompletionShape) -> bool:
    """Whether generation can stop now: single-line mode at the first newline; block mode at a line
    indented no deeper than the block's owner (a closing `}` line may finish first), or once
    `shape.max_lines` lines are complete."""
    if not text_so_far:
        return False
    if shape.single_line:
        return "\n" in text_so_far
    lines = text_so_far.split("\n")
    last = len(lines) - 1
    for i in range(1, len(lines)):
        line = lines[i]
        if not line.strip():
            continue
        indent = indent_width(line)
        if indent <= shape.block_indent:
            if i == last and indent == shape.block_indent and _closer_line(line, shape.language):
                return False  # let `}` finish; finalize decides whether it stays
            return True
    complete = last - (0 if lines[0].strip() else 1)
    return complete >= shape.max_lines


# --- after generation -----------------------------------------------------------------------------

_CLOSER_LINE = re.compile(r"^[)\]}]+[)\]};,]*$")


def _closer_line(line: str, language: str) -> bool:
    stripped = line.strip()
    if _CLOSER_LINE.match(stripped):
        return True
    return has_end_keyword(language) and stripped in {"end", "end)", "end,"}


def finalize(
    text: str, shape: CompletionShape, prefix: str, suffix: str, *, cut_off: bool = False
) -> str:
    """Trim a generated completion into what is shown: cut to the shape (first line, dedent, line
    limit), drop what the suffix already has (the rest of the line, the next line), keep brackets
    balanced against the cursor's line, strip trailing whitespace. "" when nothing useful is left.

    cut_off: generation ended at its token limit, so the last line may be partial.
    """
    text = text.replace("\r\n", "\n")
    if not text.strip():
        return ""
    language = shape.language
    line_prefix = prefix[prefix.rfind("\n") + 1 :]
    suffix_line, _, suffix_rest = suffix.partition("\n")
    next_line = next((line for line in suffix_rest.split("\n") if line.strip()), None)

    if shape.single_line:
        text = text.split("\n", 1)[0]
    else:
        text = _cut_block(text, shape, cut_off)

    if next_line is not None:
        lines = text.split("\n")
        for i in range(1, len(lines)):
            if lines[i].strip() and lines[i].rstrip() == next_line.rstrip():
                lines = lines[:i]  # the model went on into what follows the cursor
                break
        text = "\n".join(lines)
        if (
            "\n" not in text
            and not suffix_line.strip()
            and (line_prefix + text).strip() == next_line.strip()
        ):
            return ""  # it only repeats the next line

    text = _fit_to_suffix_line(text, line_prefix, suffix_line, language, not shape.single_line)
    text = "\n".join(line.rstrip() for line in text.split("\n")).rstrip()
    return text if text.strip() else ""


def _cut_block(text: str, shape: CompletionShape, cut_off: bool) -> str:
    lines = text.split("\n")
    kept: list[str] = []
    dedented = False
    for i, line in enumerate(lines):
        if i > 0 and line.strip() and indent_width(line) <= shape.block_indent:
            complete = i < len(lines) - 1 or not cut_off
            if (
                indent_width(line) == shape.block_indent
                and _closer_line(line, shape.language)
                and complete
            ):
                kept.append(line)
            dedented = True
            break
        kept.append(line)
    limit = shape.max_lines + (0 if kept and kept[0].strip() else 1)
    if len(kept) > limit:
        kept = kept[:limit]
    elif cut_off and not dedented and len(kept) > 1:
        kept = kept[:-1]  # the last line stopped mid-way
    return "\n".join(kept)


def _fit_to_suffix_line(
    text: str, line_prefix: str, suffix_line: str, language: str, whole_lines: bool
) -> str:
    """Drop a trailing copy of the rest of the line, and cut brackets that would not balance.

    The model often re-emits what follows the cursor (`foo(|)` → `a, b)`); but `print(foo(|)` →
    `x)` is right as it is. Of the completion with and without the trailing copy, keep the one that
    needs no cut, then the one that leaves fewer brackets open, then the shorter.
    """
    candidates = [(text, False)]
    target = suffix_line.strip()
    body = text.rstrip()
    if target and body.endswith(target):
        candidates.append((body[: len(body) - len(target)], True))
    best: tuple[tuple[bool, int, bool], str] | None = None
    for candidate, trimmed in candidates:
        fitted, was_cut, still_open = _balance(candidate, line_prefix, suffix_line, language)
        if was_cut and whole_lines and "\n" in fitted:
            fitted = fitted[: fitted.rfind("\n")]  # a block keeps whole lines, not `y = compute`
        key = (was_cut, still_open, not trimmed)
        if best is None or key < best[0]:
            best = (key, fitted)
    assert best is not None
    return best[1]


def _balance(text: str, line_prefix: str, suffix_line: str, language: str) -> tuple[str, bool, int]:
    """The longest prefix of `text` whose brackets balance, counting openers on the cursor's line
    that the completion may close (those the rest of the line does not close itself).

    Returns (text, whether it was cut, openers on the line left open).
    """
    lexer = Lexer(language)
    line_open: list[str] = []
    for _i, ch in lexer.brackets(line_prefix):
        if ch in OPENERS:
            line_open.append(ch)
        elif line_open and line_open[-1] == _MATCH[ch]:
            line_open.pop()
    closed_by_suffix = bracket_balance(suffix_line, language)[0]
    # The rest of the line closes the outermost openers; the completion may close the inner ones.
    closable = line_open[closed_by_suffix:]

    local: list[str] = []
    opened_at = 0
    for i, ch in lexer.brackets(text):
        if ch in OPENERS:
            if not local:
                opened_at = i
            local.append(ch)
            continue
        if local:
            if local[-1] != _MATCH[ch]:
                return text[:opened_at], True, len(closable)
            local.pop()
        elif closable and closable[-1] == _MATCH[ch]:
            closable.pop()
        else:
            return text[:i], True, len(closable)
    if local:
        return text[:opened_at], True, len(closable)
    return text, False, len(closable)

"""The small lexer completions share: which characters of a text are code, string or comment in a
language kura parses, bracket balance over code only, comment markers and indentation widths.

Its own module so that deciding a completion's shape and deciding where it stops (shape.py,
stopping.py) both use it without importing each other.
"""

from __future__ import annotations

from collections.abc import Iterator

TAB_WIDTH = 4

# Languages whose line comments start with "#"; the rest of those tree-sitter parses use "//".
_HASH_COMMENT_LANGUAGES = {"python", "ruby", "bash", "shell", "sh", "toml", "yaml", "perl", "r"}
_END_KEYWORD_LANGUAGES = {"ruby", "lua", "elixir"}


def line_comment(language: str) -> str:
    """The line-comment marker of a language ("#" or "//", "--" for Lua and SQL)."""
    language = language.lower()
    if language in _HASH_COMMENT_LANGUAGES:
        return "#"
    if language in {"lua", "sql", "haskell"}:
        return "--"
    return "//"


def has_end_keyword(language: str) -> bool:
    return language.lower() in _END_KEYWORD_LANGUAGES


def indent_width(line: str) -> int:
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += TAB_WIDTH - width % TAB_WIDTH
        else:
            break
    return width


OPENERS = "([{"
CLOSERS = ")]}"
MATCHING = {")": "(", "]": "[", "}": "{"}

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

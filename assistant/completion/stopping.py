"""Where a completion ends: `should_stop` between tokens, and `finalize` to trim what came out.

Pure functions of text. Brackets inside strings and comments are ignored (lexer.py).
"""

from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass, field
from assistant.completion.lexer import (  # noqa: F401  (Lexer and its constants re-exported)
    CLOSERS, CODE, COMMENT, MATCHING, OPENERS, STRING, Lexer, bracket_balance, code_only, has_end_keyword, indent_width,
    line_comment, open_brackets,
)
from assistant.completion.shape import CompletionShape

# --- between tokens -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StopAtShapeEnd:
    """`should_stop` for a completion as plain data, so that a model process can apply it itself
    between tokens (no round trip per token); see process_protocol.py."""

    shape: CompletionShape
    decode_ms: float = 0.0  # > 0: also stop this long after the first token (the typing budget)
    generated: str = ""  # a continuation: what the suggestion already has; the shape ends on the whole
    # The one mutable cell of this frozen rule: when its first token came (one rule per request).
    _first_token_at: list[float] = field(default_factory=list, compare=False, repr=False)

    def __call__(self, text_so_far: str) -> bool:
        if self.decode_ms and text_so_far:
            now = time.monotonic()
            if not self._first_token_at:
                self._first_token_at.append(now)
            elif (now - self._first_token_at[0]) * 1000 >= self.decode_ms:
                return True
        return should_stop(self.generated + text_so_far, self.shape)

    def to_wire(self) -> dict:
        return {**dataclasses.asdict(self.shape), "decode_ms": self.decode_ms, "generated": self.generated}

    @classmethod
    def from_wire(cls, data: dict) -> "StopAtShapeEnd":
        data = dict(data)
        decode_ms = float(data.pop("decode_ms", 0.0))
        generated = str(data.pop("generated", ""))
        return cls(CompletionShape(**data), decode_ms, generated)


def without_partial_word(text: str) -> str:
    """A line whose generation was stopped by the clock ends where the last token did, maybe inside
    a name: drop that tail unless it is all there is (a half name is worse than a shorter line)."""
    trimmed = re.sub(r"\w+$", "", text)
    return trimmed if trimmed.strip() else text


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
        elif line_open and line_open[-1] == MATCHING[ch]:
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
            if local[-1] != MATCHING[ch]:
                return text[:opened_at], True, len(closable)
            local.pop()
        elif closable and closable[-1] == MATCHING[ch]:
            closable.pop()
        else:
            return text[:i], True, len(closable)
    if local:
        return text[:opened_at], True, len(closable)
    return text, False, len(closable)

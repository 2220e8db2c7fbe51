"""The fix validator (pure): a model's answer → the smallest change to the document, or a clear
reason why it cannot be offered.

An answer is offered only when the code it carries differs from the selection, re-parses with
tree-sitter without new syntax errors, and changes nothing outside the range it was asked to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.languages import language_for_path, parser_for

FENCE = re.compile(r"^[ \t]*(```+|~~~+)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.S | re.M)
ANCHOR_LINES = 60
OPEN_FENCE = re.compile(r"^[ \t]*(```+|~~~+)[^\n]*\n(.*)\Z", re.S | re.M)


@dataclass(frozen=True)
class TextChange:
    """Replace text[start:end] with new_text; lines and columns are 0-based code points."""

    start: int
    end: int
    new_text: str
    start_line: int
    start_col: int
    end_line: int
    end_col: int


@dataclass(frozen=True)
class Validation:
    change: TextChange | None
    message: str  # what the change does, or why there is none

    @property
    def ok(self) -> bool:
        return self.change is not None


def extract_code(answer: str) -> str:
    """The code in a model's answer: the largest fenced block, an unclosed fence's body (base
    models stop at the closing fence), or the whole answer when it has no fence."""
    blocks = [m.group(2) for m in FENCE.finditer(answer)]
    if blocks:
        return max(blocks, key=len)
    opened = OPEN_FENCE.search(answer)
    if opened:
        return opened.group(2)
    return answer


def adapt_indentation(code: str, original: str) -> str:
    """Re-indent code the model dedented: shift it so its least-indented line matches the original's."""
    def min_indent(text: str) -> str | None:
        indents = [re.match(r"[ \t]*", line).group(0) for line in text.split("\n") if line.strip()]
        return min(indents, key=len) if indents else None

    want, have = min_indent(original), min_indent(code)
    if want is None or have is None or len(have) >= len(want) or not want.startswith(have):
        return code
    extra = want[len(have):]
    return "\n".join(extra + line if line.strip() else line for line in code.split("\n"))


def replacement_for(original: str, code: str) -> str:
    """The answer's code shaped like the selection it replaces: indentation and final newline."""
    code = code.strip("\n")
    code = "\n".join(line.rstrip() for line in code.split("\n"))
    code = adapt_indentation(code, original)
    if original.endswith("\n") and code:
        code += "\n"
    return code


def smallest_change(text: str, start: int, end: int, replacement: str) -> TextChange | None:
    """Replacing text[start:end] by `replacement`, trimmed to what really changes; None if nothing does."""
    old = text[start:end]
    if old == replacement:
        return None
    prefix = 0
    limit = min(len(old), len(replacement))
    while prefix < limit and old[prefix] == replacement[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[len(old) - 1 - suffix] == replacement[len(replacement) - 1 - suffix]:
        suffix += 1
    a, b = start + prefix, end - suffix
    new_text = replacement[prefix : len(replacement) - suffix]
    (sl, sc), (el, ec) = _position(text, a), _position(text, b)
    return TextChange(a, b, new_text, sl, sc, el, ec)


def syntax_errors(text: str, path: str) -> list[tuple[int, int]] | None:
    """(first, last) 0-based lines of each tree-sitter ERROR/MISSING node, in order; None when kura
    has no grammar for the file."""
    spec = language_for_path(path)
    if spec is None:
        return None
    tree = parser_for(spec).parse(text.encode("utf-8"))
    found: list[tuple[int, int]] = []
    if not tree.root_node.has_error:
        return found
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            found.append((node.start_point[0], node.end_point[0]))
            continue
        if node.has_error:
            stack.extend(node.children)
    return sorted(found)


def validate_fix(text: str, path: str, start: int, end: int, answer: str, *, task: str = "fix") -> Validation:
    """Check a model's answer for the fix of text[start:end] and turn it into the smallest change.
    `task` names the change in messages ("fix", "edit")."""
    first_line, last_line = _position(text, start)[0] + 1, _position(text, max(start, end - 1))[0] + 1
    where = f"lines {first_line}-{last_line}" if last_line > first_line else f"line {first_line}"
    if not answer.strip():
        return Validation(None, "kura: the model returned nothing; no change was made")
    code = extract_code(answer)
    if not code.strip():
        return Validation(None, "kura: the model's answer holds no code; no change was made")
    original = text[start:end]
    span_start, span_end, code = _anchor(text, start, end, code)
    replacement = replacement_for(text[span_start:span_end] if span_start != start or span_end != end else original, code)
    change = smallest_change(text, span_start, span_end, replacement)
    if change is None:
        return Validation(None, f"kura: the model proposed no change to {where}")
    if change.start < start or change.end > end:
        outside = change.start_line + 1 if change.start < start else change.end_line + 1
        return Validation(None, f"kura: the model's answer changes line {outside}, outside {where} it was asked to "
                                f"{'fix' if task == 'fix' else 'change'}; the edit was not applied")
    new_text = text[: change.start] + change.new_text + text[change.end :]
    if _looks_like_garbage(change.new_text):
        return Validation(None, "kura: the model's answer is not usable code (unreadable characters); no change was made")
    before, after = syntax_errors(text, path), syntax_errors(new_text, path)
    if before is not None and after is not None:
        # New errors, or (when the code was broken already and is not less broken) errors in what
        # the fix wrote: either way the edit would break the syntax.
        changed = (change.start_line, change.start_line + change.new_text.count("\n"))
        in_fix = [e for e in after if e[0] <= changed[1] and e[1] >= changed[0]]
        if len(after) > len(before) or (in_fix and len(after) >= len(before)):
            line = (in_fix or after)[0][0] + 1
            return Validation(None, f"kura: the model's {task} would break the syntax (a syntax error at line {line}); "
                                    f"the edit was not applied")
    added, removed = change.new_text.count("\n"), text.count("\n", change.start, change.end)
    return Validation(change, f"kura: {task} for {where} (+{added}/-{removed} lines)" if added or removed
                      else f"kura: {task} for {where}")


def validate_insertion(text: str, path: str, start: int, end: int, code: str) -> Validation:
    """Check new code (already taken out of the answer) to insert at text[start:end] (empty, or a
    blank line it fills): not empty, readable, indented like the code around it, and re-parsing
    without new syntax errors. The change is whole lines."""
    code = "\n".join(l.rstrip() for l in code.strip("\n").split("\n"))
    if not code.strip():
        return Validation(None, "kura: the model's answer holds no code; nothing was inserted")
    if _looks_like_garbage(code):
        return Validation(None, "kura: the model's answer is not usable code (unreadable characters); nothing was inserted")
    code = adapt_indentation(code, insertion_indent(text, start, end) + "x")
    at_line_start = start == 0 or text[start - 1] == "\n"
    code = _spaced(text, start, end, code, path)
    # at a line's start the code becomes whole lines; at the end of a line it starts a new one
    new_text = ("" if at_line_start else "\n") + code + ("\n" if start == end and at_line_start else "")
    new = text[:start] + new_text + text[end:]
    before, after = syntax_errors(text, path), syntax_errors(new, path)
    first = _position(text, start)[0] + (0 if at_line_start else 1) + len(code) - len(code.lstrip("\n"))
    if before is not None and after is not None:
        inserted = (first, first + code.count("\n"))
        inside = [e for e in after if e[0] <= inserted[1] and e[1] >= inserted[0]]
        if len(after) > len(before) or (inside and len(after) >= len(before)):
            where = (inside or after)[0][0] + 1
            return Validation(None, f"kura: the generated code would break the syntax (a syntax error at line {where}); "
                                    f"nothing was inserted")
    (sl, sc), (el, ec) = _position(text, start), _position(text, end)
    lines = code.strip("\n").count("\n") + 1
    return Validation(TextChange(start, end, new_text, sl, sc, el, ec),
                      f"kura: new code at line {first + 1} (+{lines} line{'s' if lines != 1 else ''})")


_TOP_LEVEL_DEFINITION = re.compile(
    r"(async\s+def|def|class|function|func|fn|pub\s|export\s|public\s|private\s|protected\s|static\s|"
    r"interface|struct|impl|type|module)\b")


def _spaced(text: str, start: int, end: int, code: str, path: str) -> str:
    """An unindented new definition set off from the lines around it by blank lines (two in Python,
    as PEP 8 has it; one elsewhere) where those lines are not blank already."""
    if not _TOP_LEVEL_DEFINITION.match(code):
        return code
    blank = "\n\n" if path.endswith((".py", ".pyi")) else "\n"
    head = text[:start]
    at_line_start = not head or head.endswith("\n")
    above = (head[:-1] if at_line_start else head).rsplit("\n", 1)[-1] if head else ""
    tail = text[end:]
    if start == end and at_line_start:
        below = tail.split("\n", 1)[0]
    else:
        below = tail[1:].split("\n", 1)[0] if tail.startswith("\n") else ""
    return (blank if above.strip() else "") + code + (blank if below.strip() else "")


def insertion_indent(text: str, start: int, end: int) -> str:
    """Where new code is indented: a blank line's own indentation; below a line that opens a block
    (`:`, `{`) one level deeper; below a docstring whose function has no body yet, at the docstring's
    level; else like the next non-blank line (the code the new code goes before), or at the end of
    the file not at all (the model's own indentation, relative to the code above it, is kept)."""
    own = text[start:end]
    if own and not own.strip() and "\n" not in own:
        return own
    lines = text.split("\n")
    line = _position(text, start)[0]
    mid_line = start > 0 and text[start - 1] != "\n"  # after a line's last character: the lines below it
    first_below = line + (1 if end > start or mid_line else 0)
    below = _previous_nonblank(lines, first_below, 1)
    above = _previous_nonblank(lines, first_below - 1, -1)
    indent_of = lambda i: re.match(r"[ \t]*", lines[i]).group(0)  # noqa: E731
    below_indent = indent_of(below) if below is not None else ""
    if above is not None:
        above_line, above_indent = lines[above].rstrip(), indent_of(above)
        if above_line.endswith((":", "{")):
            return below_indent if len(below_indent) > len(above_indent) else above_indent + (
                "\t" if above_indent.startswith("\t") else "    ")
        if above_line.endswith(('"""', "'''")) and len(below_indent) < len(above_indent):
            return above_indent
    return below_indent


def _anchor(text: str, start: int, end: int, code: str) -> tuple[int, int, str]:
    """Where the answer's code belongs. Models often repeat the line before or after the selection
    (the `def` line, a closing brace); then the code covers that line too, and a change there is a
    change outside the selection. A whole-file answer covers the whole file."""
    code_lines = code.strip("\n").split("\n")
    doc_lines = text.split("\n")
    first, last = _position(text, start)[0], _position(text, max(start, end - 1))[0]
    sel_lines = doc_lines[first : last + 1]
    nonblank = [i for i, l in enumerate(doc_lines) if l.strip()]
    if (len(code_lines) > len(sel_lines) and nonblank and first > nonblank[0]
            and code_lines[0].strip() == doc_lines[nonblank[0]].strip() and len(code_lines) >= len(doc_lines) // 2):
        return 0, len(text), code  # the model sent back the whole file
    span_start, span_end = start, end
    if code_lines and sel_lines and not _same_head(code_lines[0], sel_lines[0]) and len(code_lines[0].strip()) >= 4:
        # the nearest line above (within a function's reach) that the answer starts with
        for before in range(first - 1, max(-1, first - 1 - ANCHOR_LINES), -1):
            if _same_head(code_lines[0], doc_lines[before]):
                span_start = sum(len(l) + 1 for l in doc_lines[:before])
                break
    after = _previous_nonblank(doc_lines, last + 1, 1)
    if after is not None and code_lines and sel_lines and _same_head(code_lines[-1], doc_lines[after]) \
            and not _same_head(code_lines[-1], sel_lines[-1]):
        span_end = min(len(text), sum(len(l) + 1 for l in doc_lines[: after + 1]))
    return span_start, span_end, code


def _previous_nonblank(lines: list[str], i: int, step: int) -> int | None:
    while 0 <= i < len(lines):
        if lines[i].strip():
            return i
        i += step
    return None


def _same_head(a: str, b: str) -> bool:
    """The same line, or a changed version of the same declaration (same first 12 characters of a
    line that opens a block)."""
    a, b = a.strip(), b.strip()
    if not a or not b:
        return False
    if a == b:
        return True
    opens = b.endswith((":", "{")) and a.endswith((":", "{"))
    head_a, head_b = _HEAD.match(a).group(0).strip(), _HEAD.match(b).group(0).strip()
    return opens and " " in head_b and head_a == head_b


_HEAD = re.compile(r"[\w\s.$]*")


def _looks_like_garbage(text: str) -> bool:
    if "\ufffd" in text or "<unk>" in text:
        return True
    odd = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\n\r") or 0xE000 <= ord(ch) <= 0xF8FF)
    return odd > 0


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset)
    return line, offset - (text.rfind("\n", 0, offset) + 1)

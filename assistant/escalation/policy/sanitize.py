"""The sanitizer pipeline: secrets → internal names → optional comment stripping → residual scan.

Pure functions over text; the only state is the request's `Placeholders`, passed in and grown.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from assistant.escalation.policy.model import Redaction
from assistant.escalation.policy.names import NameScanner, Placeholders
from assistant.escalation.policy.secrets import Hit, SecretScanner


@dataclass(frozen=True)
class Finding:
    """What was redacted or replaced, and why; never the original value."""

    rule_ids: tuple[str, ...]
    kind: str  # "secret" | "email" | "ip" | "host" | "url" | "term" | "ident" | "residual"
    action: str  # "redact" | "block" | "replace"
    line: int  # 1-based line in the piece it came from
    placeholder: str | None


@dataclass(frozen=True)
class SanitizedText:
    text: str
    findings: tuple[Finding, ...]

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.action == "block")


# Lines rescanned on each side of a change: the widest detector match, gitleaks' curl rules (a command
# continued over up to five line breaks of one or two characters, then a whitespace), spans 12 lines;
# the structural net reads one line of context before a value.
RESIDUAL_MARGIN = 12


class Sanitizer:
    """Compiled detectors for one `Redaction`; obtain with `sanitizer_for(redaction)`."""

    def __init__(self, redaction: Redaction) -> None:
        self.redaction = redaction
        self.secrets = SecretScanner(redaction)
        self.names = NameScanner(redaction)

    def sanitize(self, text: str, placeholders: Placeholders, path: str | None = None, *, residual: bool = True) -> SanitizedText:
        """Run the pipeline; `residual=False` when the caller rescans the assembled payload itself."""
        placeholders.reserve_from(text)
        original = text
        text, secret_findings = replace_hits(text, self.secrets.scan(text, path), placeholders)
        text, name_findings = replace_hits(text, self.names.scan(text), placeholders)
        if self.redaction.strip_comments:
            text = strip_comments(text, path)
        hits: list[Hit] = []
        if residual and text != original:
            hits = self.residual(text, path) if self.redaction.strip_comments else self.residual_near(text, path, changed_lines(original, text))
        leftovers = tuple(Finding((h.rule_id,), "residual", "block", _line_of(text, h.start), None) for h in hits)
        return SanitizedText(text, secret_findings + name_findings + leftovers)

    def residual(self, text: str, path: str | None = None) -> list[Hit]:
        """Every detector again over final text; any hit means something slipped through."""
        return self.secrets.scan(text, path) + self.names.scan(text)

    def residual_near(self, text: str, path: str | None, lines: list[int], margin: int = RESIDUAL_MARGIN) -> list[Hit]:
        """The residual scan over the given 0-based lines of `text` and `margin` lines around each.

        Where the text is unchanged from what the detectors already scanned, they find what they found
        before (all of it replaced). A match can span at most RESIDUAL_MARGIN lines (multi-line blocks,
        private keys, are replaced whole), so only lines near a change can hold something new — a
        value a replacement exposed or joined, or one a placeholder's word now puts in context.
        """
        if not lines:
            return []
        starts = [0] + [m.end() for m in re.finditer("\n", text)]
        hits: list[Hit] = []
        for first, last in _windows(lines, margin, len(starts)):
            lo = starts[first]
            hi = starts[last + 1] if last + 1 < len(starts) else len(text)
            hits += [replace_span(h, lo) for h in self.residual(text[lo:hi], path)]
        return hits




def replace_span(hit: Hit, offset: int) -> Hit:
    return Hit(hit.rule_id, hit.kind, hit.start + offset, hit.end + offset, hit.action)


def changed_lines(before: str, after: str) -> list[int]:
    """0-based lines of `after` that differ from `before` (placeholders keep line structure; where they
    do not, every line from the first difference on counts as changed)."""
    old, new = before.split("\n"), after.split("\n")
    if len(old) != len(new):
        first = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
        return list(range(first, len(new)))
    return [i for i, (a, b) in enumerate(zip(old, new)) if a != b]


def _windows(lines: list[int], margin: int, count: int) -> Iterator[tuple[int, int]]:
    """Merged [first, last] line ranges covering each line ± margin, clipped to 0..count-1."""
    first = last = None
    for line in sorted(lines):
        lo, hi = max(0, line - margin), min(count - 1, line + margin)
        if last is not None and lo <= last + 1:
            last = max(last, hi)
            continue
        if first is not None:
            yield first, last
        first, last = lo, hi
    if first is not None:
        yield first, last


@lru_cache(maxsize=16)
def sanitizer_for(redaction: Redaction) -> Sanitizer:
    return Sanitizer(redaction)


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def merge_hits(hits: list[Hit]) -> list[list[Hit]]:
    """Group overlapping hits; each group becomes one replacement spanning them all."""
    groups: list[list[Hit]] = []
    end = -1
    for hit in sorted(hits, key=lambda h: (h.start, -h.end)):
        if groups and hit.start < end:
            groups[-1].append(hit)
            end = max(end, hit.end)
        else:
            groups.append([hit])
            end = hit.end
    return groups


def replace_hits(text: str, hits: list[Hit], placeholders: Placeholders) -> tuple[str, tuple[Finding, ...]]:
    """Replace each group of overlapping hits by one placeholder (the outermost hit's kind)."""
    out: list[str] = []
    findings: list[Finding] = []
    cursor = 0
    for group in merge_hits(hits):
        start, end = min(h.start for h in group), max(h.end for h in group)
        outer = max(group, key=lambda h: (h.end - h.start, h.kind == "secret"))
        kind = "secret" if any(h.kind == "secret" for h in group) else outer.kind
        action = "block" if any(h.action == "block" for h in group) else ("redact" if kind == "secret" else "replace")
        placeholder = placeholders.assign(kind, text[start:end])
        out.append(text[cursor:start])
        out.append(placeholder)
        cursor = end
        rule_ids = tuple(dict.fromkeys(h.rule_id for h in group))
        findings.append(Finding(rule_ids, kind, action, _line_of(text, start), placeholder))
    out.append(text[cursor:])
    return "".join(out), tuple(findings)


# ---------------------------------------------------------------------------------------------
# Comment stripping: a small string-aware lexer per comment syntax; strings are kept verbatim.

_HASH = {"py", "pyi", "rb", "sh", "bash", "zsh", "yaml", "yml", "toml", "r", "pl", "ps1", "cfg", "ini", "conf", "mk", "cmake", "dockerfile", "tf", "ex", "exs", "nim", "jl"}
_SLASH = {"c", "h", "cc", "cpp", "hpp", "cxx", "hh", "java", "js", "jsx", "ts", "tsx", "mjs", "cjs", "go", "rs", "cs", "kt", "kts", "swift", "scala", "php", "dart", "groovy", "m", "mm", "proto", "css", "scss", "less", "zig", "sol"}
_DASH = {"sql", "lua", "hs", "elm", "ada"}


def comment_style(path: str | None) -> str | None:
    if not path:
        return None
    name = path.rsplit("/", 1)[-1].lower()
    ext = name.rsplit(".", 1)[-1] if "." in name else name
    if ext in _HASH or name == "makefile":
        return "hash"
    if ext in _SLASH:
        return "slash"
    if ext in _DASH:
        return "dash"
    return None


def strip_comments(text: str, path: str | None) -> str:
    """Remove comments (keeping line structure); unknown languages are left unchanged."""
    style = comment_style(path)
    if style is None:
        return text
    line_comment = {"hash": "#", "slash": "//", "dash": "--"}[style]
    block = ("/*", "*/") if style == "slash" else None
    quotes = ('"""', "'''", '"', "'") if style == "hash" else ('"', "'", "`")
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text.startswith(line_comment, i) and not (style == "hash" and i == 0 and text.startswith("#!")):
            j = text.find("\n", i)
            i = n if j < 0 else j
            while out and out[-1] in (" ", "\t"):
                out.pop()
            continue
        if block and text.startswith(block[0], i):
            j = text.find(block[1], i + 2)
            end = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, end))
            i = end
            continue
        quote = next((q for q in quotes if text.startswith(q, i)), None)
        if quote:
            j = i + len(quote)
            while j < n and not text.startswith(quote, j):
                if text[j] == "\\":
                    j += 1
                elif text[j] == "\n" and len(quote) == 1 and quote != "`":
                    break
                j += 1
            end = min(n, j + len(quote)) if j < n and text.startswith(quote, j) else j
            out.append(text[i:end])
            i = end
            continue
        out.append(text[i])
        i += 1
    return re.sub(r"[ \t]+\n", "\n", "".join(out)) if out else ""

"""Secrets written in pieces or escaped: the detectors run again over a derived view of the text.

A value split into concatenated string literals (`"sk_" + "live_…"`, implicit concatenation, `..`,
`||`, `&`, `.`) is scanned joined; a line with URL escapes (`p%40ss`) or XML/HTML entities (`&amp;`,
`&#64;`) is scanned unescaped. A hit in a view is mapped back to the original characters it came from
(the whole chain of literals, or exactly the escaped span) and keeps the detector's rule id next to the
view's own (`concatenated-literal`, `url-encoded`, `xml-escaped`), so `kura sanitize` can say both.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Callable, Iterator

Scan = Callable[[str, "str | None"], list[tuple[str, int, int]]]  # (text, path) -> (rule id, start, end)

VIEW_RULES = (
    ("concatenated-literal", "a secret split into concatenated string literals (found in the joined value)"),
    ("url-encoded", "a secret written with URL escapes (found in the unescaped text)"),
    ("xml-escaped", "a secret written with XML/HTML entities (found in the unescaped text)"),
)

_LIT = r'"[^"\\\n]{0,256}"|\'[^\'\\\n]{0,256}\''
_JOIN = r"[ \t]*(?:\+|\.\.?|\|\||&)?[ \t]*(?:\n[ \t]*(?:\+|\.\.?|\|\||&)?[ \t]*)?"
_CHAIN = re.compile(rf"(?:{_LIT})(?:{_JOIN}(?:{_LIT}))+")
_LITERAL = re.compile(_LIT)
_URL_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def view_hits(text: str, path: str | None, scan: Scan) -> Iterator[tuple[str, int, int]]:
    """(rule id, start, end) in `text` for secrets that only a joined or unescaped view shows.

    Each kind of view is one text (the affected lines, joined) scanned once, so the cost stays one
    extra scan of at most the text's size however many lines need a view.
    """
    if "'" in text or '"' in text:
        yield from _concatenated(text, path, scan)
    if "%" in text:
        yield from _unescaped(text, path, scan, _URL_ESCAPE, _url_char, "url-encoded")
    if "&" in text:
        yield from _unescaped(text, path, scan, _ENTITY, lambda m: html.unescape(m.group(0)), "xml-escaped")


def _url_char(match: re.Match) -> str:
    ch = chr(int(match.group(0)[1:], 16))
    return ch if " " < ch < "\x7f" else ""  # "%02d" is a format, not an escape: only printable escapes count


def _concatenated(text: str, path: str | None, scan: Scan) -> Iterator[tuple[str, int, int]]:
    view: list[str] = []
    rows: list[tuple[int, int, int, int]] = []  # per view line: (value start, value end in view, chain span)
    at = 0
    for chain in _CHAIN.finditer(text):
        values = [m.group(0)[1:-1] for m in _LITERAL.finditer(chain.group(0))]
        if len(values) < 2 or not _joins_a_token(values):
            continue
        line_start = text.rfind("\n", 0, chain.start()) + 1
        if not text[line_start:chain.start()].strip() and line_start:  # `key = (` on the line before
            line_start = text.rfind("\n", 0, line_start - 1) + 1
        lead = text[line_start:chain.start()].replace("\n", " ") + '"'
        line = lead + "".join(values) + '"'
        rows.append((at + len(lead), at + len(line) - 1, chain.start(), chain.end()))
        view.append(line)
        at += len(line) + 1
    if not rows:
        return
    starts = [r[0] for r in rows]
    for rule_id, start, end in scan("\n".join(view), path):
        row = rows[max(0, bisect.bisect_right(starts, start) - 1)]
        if end > row[0] and start < row[1]:
            yield rule_id, row[2], row[3]
            yield "concatenated-literal", row[2], row[3]


def _joins_a_token(values: list[str]) -> bool:
    """Some join glues two non-space runs into one of 8+ characters (else the view shows nothing new)."""
    for left, right in zip(values, values[1:]):
        tail = re.search(r"\S*$", left).group(0)
        head = re.match(r"\S*", right).group(0)
        if tail and head and len(tail) + len(head) >= 8:
            return True
    return False


def _unescaped(text: str, path: str | None, scan: Scan, escape: re.Pattern, decode: Callable[[re.Match], str],
               rule: str) -> Iterator[tuple[str, int, int]]:
    """The lines holding an escape, unescaped and joined, with a map from view offsets back to text offsets."""
    view: list[str] = []
    origin: list[tuple[int, int, bool]] = []  # per view character: (start, end) in text, escaped?
    last_line = -1
    for first in escape.finditer(text):
        begin = text.rfind("\n", 0, first.start()) + 1
        if begin <= last_line or not decode(first):
            continue
        stop = text.find("\n", first.end())
        stop = len(text) if stop < 0 else stop
        last_line = begin
        cursor = begin
        for m in escape.finditer(text, begin, stop):
            decoded = decode(m)
            if not decoded:
                continue
            for i in range(cursor, m.start()):
                origin.append((i, i + 1, False))
            view.append(text[cursor:m.start()])
            for ch in decoded:
                view.append(ch)
                origin.append((m.start(), m.end(), True))
            cursor = m.end()
        view.append(text[cursor:stop] + "\n")
        origin.extend((i, i + 1, False) for i in range(cursor, stop + 1))
    if not view:
        return
    for rule_id, start, end in scan("".join(view), path):
        if end > start and any(escaped for _, _, escaped in origin[start:end]):
            yield rule_id, origin[start][0], min(origin[end - 1][1], len(text))
            yield rule, origin[start][0], min(origin[end - 1][1], len(text))

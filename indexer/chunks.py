"""Syntax-aligned retrieval chunks: a function, class or method is a chunk; large ones are split at
statement boundaries, tiny neighbours are merged, and code between definitions is covered too.

Works on line ranges: the outline of definitions (from extraction) says where symbols are, the
syntax tree says where statements start inside anything too large to keep whole.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import tree_sitter

from indexer.model import Chunk

MAX_LINES = 60
MAX_CHARS = 2000
# Pieces shorter than this are merged with a neighbour: alone they are too little context to retrieve.
TINY_LINES = 8
# How deep to look into nested statements for a place to split an oversized one.
_MAX_SPLIT_DEPTH = 6


@dataclass(slots=True)
class Outline:
    """A definition as chunking sees it: its rows (inclusive), qualname, syntax node and nested definitions."""

    start_row: int
    end_row: int
    symbol: str
    node: tree_sitter.Node
    children: list[Outline] = field(default_factory=list)


@dataclass(slots=True)
class _Piece:
    start: int
    end: int
    symbol: str


class _Lines:
    """The file's lines with O(1) character counts of any row range."""

    __slots__ = ("lines", "offsets")

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.offsets = [0, *itertools.accumulate(map(len, lines))]

    def chars(self, start: int, end: int) -> int:
        return self.offsets[end + 1] - self.offsets[start] + end - start  # + the newlines between

    def fits(self, start: int, end: int) -> bool:
        return end - start + 1 <= MAX_LINES and self.chars(start, end) <= MAX_CHARS

    def blank(self, row: int) -> bool:
        return not self.lines[row].strip()


def build_chunks(
    path: str, language: str, lines: list[str], root: tree_sitter.Node, outline: list[Outline]
) -> list[Chunk]:
    """Chunks covering every non-blank line of the file at least once, in file order."""
    text = _Lines(lines)
    pieces = _cover(0, len(lines) - 1, root, "", outline, text)
    pieces = _merge_tiny(pieces, text)
    return [
        Chunk(
            path=path,
            start_line=piece.start,
            end_line=piece.end,
            text="\n".join(lines[piece.start : piece.end + 1]),
            symbol=piece.symbol,
            language=language,
        )
        for piece in pieces
    ]


def _cover(
    start: int, end: int, node: tree_sitter.Node, symbol: str, children: list[Outline], text: _Lines
) -> list[_Piece]:
    """Pieces for rows start..end: each nested definition on its own, the code between them as glue."""
    pieces: list[_Piece] = []
    cursor = start
    for child in sorted(children, key=lambda c: c.start_row):
        if child.end_row < cursor:
            continue  # shares a line with the previous definition; already covered
        if child.start_row > cursor:
            pieces += _glue(cursor, child.start_row - 1, node, symbol, text)
        child_start = max(child.start_row, cursor)
        if text.fits(child_start, child.end_row):
            pieces.append(_Piece(child_start, child.end_row, child.symbol))
        else:
            pieces += _cover(child_start, child.end_row, child.node, child.symbol, child.children, text)
        cursor = child.end_row + 1
    if cursor <= end:
        pieces += _glue(cursor, end, node, symbol, text)
    return pieces


def _glue(start: int, end: int, node: tree_sitter.Node, symbol: str, text: _Lines) -> list[_Piece]:
    while start <= end and text.blank(start):
        start += 1
    while end >= start and text.blank(end):
        end -= 1
    if start > end:
        return []
    if text.fits(start, end):
        return [_Piece(start, end, symbol)]
    cuts = sorted({row for row in _statement_rows(node, start, end, 0) if start < row <= end})
    pieces: list[_Piece] = []
    boundaries = [start, *cuts, end + 1]
    current: _Piece | None = None
    for segment_start, next_start in itertools.pairwise(boundaries):
        segment_end = next_start - 1
        if current is not None and text.fits(current.start, segment_end):
            current.end = segment_end
            continue
        if current is not None:
            pieces.append(current)
        # A segment with no statement boundary inside is cut into windows.
        while not text.fits(segment_start, segment_end) and segment_end - segment_start + 1 > MAX_LINES:
            pieces.append(_Piece(segment_start, segment_start + MAX_LINES - 1, symbol))
            segment_start += MAX_LINES
        current = _Piece(segment_start, segment_end, symbol)
    if current is not None:
        pieces.append(current)
    return pieces


def _statement_rows(node: tree_sitter.Node, start: int, end: int, depth: int) -> list[int]:
    """Rows where a child statement (or, inside oversized statements, a nested one) begins."""
    rows: list[int] = []
    for child in node.named_children:
        child_start, child_end = child.start_point[0], child.end_point[0]
        if child_end < start or child_start > end:
            continue
        rows.append(child_start)
        if child_end - child_start + 1 > MAX_LINES and depth < _MAX_SPLIT_DEPTH:
            rows += _statement_rows(child, start, end, depth + 1)
    return rows


def _merge_tiny(pieces: list[_Piece], text: _Lines) -> list[_Piece]:
    """Merge tiny neighbours with each other, and tiny glue of a definition (a class header, a
    closing brace) into its own members' chunks; a substantial chunk keeps its one symbol."""
    merged: list[_Piece] = []
    for piece in pieces:
        if merged:
            previous = merged[-1]
            previous_tiny = previous.end - previous.start + 1 < TINY_LINES
            tiny = piece.end - piece.start + 1 < TINY_LINES
            joinable = (previous_tiny and tiny) or (
                (previous_tiny and _encloses(previous.symbol, piece.symbol))
                or (tiny and _encloses(piece.symbol, previous.symbol))
            )
            if joinable and piece.start > previous.end and text.fits(previous.start, piece.end):
                if previous_tiny and not tiny:
                    symbol = piece.symbol or previous.symbol
                else:
                    symbol = previous.symbol or piece.symbol
                merged[-1] = _Piece(previous.start, piece.end, symbol)
                continue
        merged.append(piece)
    return merged


def _encloses(outer: str, inner: str) -> bool:
    return outer != "" and (inner == outer or inner.startswith(outer + "."))

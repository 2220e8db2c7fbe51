"""Index spans (code-point columns) ↔ LSP positions in the client's encoding (UTF-16 by default).

Columns differ only on lines with non-ASCII text; those lines are read from the open document or,
for files not open in the editor, from disk.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from lsprotocol import types
from pygls.uris import from_fs_path

from indexer.model import Span

if TYPE_CHECKING:
    from lsp_server.server import KuraServer

WORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


def file_uri(server: "KuraServer", path: str) -> str:
    assert server.root is not None
    return from_fs_path(str(server.root / path)) or ""


def _lines_of(server: "KuraServer", path: str) -> Sequence[str] | None:
    uri = file_uri(server, path)
    doc = server.workspace.text_documents.get(uri)
    if doc is not None:
        return doc.lines
    try:
        return (Path(server.root) / path).read_text(encoding="utf-8", errors="replace").splitlines(True)
    except OSError:
        return None


def to_lsp_range(server: "KuraServer", path: str, span: Span, lines: Sequence[str] | None = None) -> types.Range:
    codec = server.workspace.position_codec

    def convert(line: int, col: int, lines_: Sequence[str] | None) -> types.Position:
        if col == 0 or lines_ is None or line >= len(lines_):
            return types.Position(line=line, character=col)
        text = lines_[line]
        if text.isascii():
            return types.Position(line=line, character=col)
        return types.Position(line=line, character=codec.client_num_units(text[:col]))

    needs_lines = lines is None and (span.start_col or span.end_col)
    if needs_lines:
        lines = _lines_of(server, path)
    return types.Range(start=convert(span.start_line, span.start_col, lines),
                       end=convert(span.end_line, span.end_col, lines))


def to_location(server: "KuraServer", path: str, span: Span) -> types.Location:
    return types.Location(uri=file_uri(server, path), range=to_lsp_range(server, path, span))


def word_at(lines: Sequence[str], line: int, character: int) -> str | None:
    """The identifier under (or just before) a code-point position, or None."""
    if not 0 <= line < len(lines):
        return None
    text = lines[line]
    for match in WORD.finditer(text):
        if match.start() <= character <= match.end():
            return match.group()
    return None

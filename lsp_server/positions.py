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


def _client_units(server: "KuraServer", line: int, col: int, lines: Sequence[str] | None) -> types.Position:
    """(line, code-point column) as an LSP position in the client's units."""
    if col == 0 or lines is None or line >= len(lines) or lines[line].isascii():
        return types.Position(line=line, character=col)
    return types.Position(line=line, character=server.workspace.position_codec.client_num_units(lines[line][:col]))


def to_lsp_range(server: "KuraServer", path: str, span: Span, lines: Sequence[str] | None = None) -> types.Range:
    needs_lines = lines is None and (span.start_col or span.end_col)
    if needs_lines:
        lines = _lines_of(server, path)
    return types.Range(start=_client_units(server, span.start_line, span.start_col, lines),
                       end=_client_units(server, span.end_line, span.end_col, lines))


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


def to_code_points(ls: "KuraServer", lines: list[str], pos: types.Position) -> tuple[int, int]:
    """An LSP position (client units) as (line, code-point column); out-of-range stays out of range."""
    if 0 <= pos.line < len(lines):
        line = lines[pos.line].rstrip("\r\n")
        if not line.isascii():
            units = 0
            for i, ch in enumerate(line):
                if units >= pos.character:
                    return pos.line, i
                units += ls.workspace.position_codec.client_num_units(ch)
            return pos.line, len(line) + max(0, pos.character - units)
    return pos.line, pos.character


def client_position(ls: "KuraServer", text: str, offset: int) -> types.Position:
    """A str offset of `text` as an LSP position in the client's units."""
    from assistant.tasks.explain import position_of

    line, col = position_of(text, offset)
    return _client_units(ls, line, col, text.splitlines(True))

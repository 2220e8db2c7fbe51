"""Navigation from the index, no model needed: workspace and document symbols, definition,
references and hover across the whole repository."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from indexer.model import Definition
from lsp_server.positions import to_location, to_lsp_range, word_at

if TYPE_CHECKING:
    from lsp_server.server import KuraServer

log = logging.getLogger(__name__)
MAX_WORKSPACE_SYMBOLS = 200


def register(server: "KuraServer") -> None:
    @server.feature(types.WORKSPACE_SYMBOL)
    async def workspace_symbol(ls: "KuraServer", params: types.WorkspaceSymbolParams):
        if ls.index is None:
            return []
        found = await ls.query(ls.index.search_symbols, params.query, MAX_WORKSPACE_SYMBOLS)
        return [
            types.SymbolInformation(
                name=d.name, kind=_kind(d.kind), location=to_location(ls, d.path, d.name_range),
                container_name=d.qualname.rpartition(".")[0] or None,
            )
            for d in found
        ]

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def document_symbol(ls: "KuraServer", params: types.DocumentSymbolParams):
        doc = ls.document(params.text_document.uri)
        if doc is None:
            return None
        path = ls.relative_path(doc.uri) or doc.uri
        definitions = await ls.query(live_definitions, path, doc.source)
        return nest_symbols(ls, path, definitions, doc.lines)

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    async def definition(ls: "KuraServer", params: types.DefinitionParams):
        name, path = _name_at(ls, params.text_document.uri, params.position)
        if name is None or ls.index is None:
            return None
        found = await ls.query(ls.index.definitions, name)
        # Definitions in the current file first: the likeliest target for a local name.
        found = sorted(found, key=lambda d: (d.path != path, d.path, d.range.start_line))
        return [to_location(ls, d.path, d.name_range) for d in found] or None

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    async def references(ls: "KuraServer", params: types.ReferenceParams):
        name, _ = _name_at(ls, params.text_document.uri, params.position)
        if name is None or ls.index is None:
            return None
        found = await ls.query(ls.index.references, name)
        include_decl = params.context.include_declaration if params.context else True
        return [to_location(ls, r.path, r.range) for r in found if include_decl or not r.is_definition]

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: "KuraServer", params: types.HoverParams):
        name, path = _name_at(ls, params.text_document.uri, params.position)
        if name is None or ls.index is None:
            return None
        found = await ls.query(ls.index.definitions, name)
        if not found:
            return None
        found = sorted(found, key=lambda d: (d.path != path, d.path))[:3]
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=hover_markdown(found)))


def _name_at(ls: "KuraServer", uri: str, position: types.Position) -> tuple[str | None, str | None]:
    doc = ls.document(uri)
    if doc is None:
        return None, None
    lines = doc.lines
    if not 0 <= position.line < len(lines):
        return None, None
    server_pos = doc.position_codec.position_from_client_units(lines, types.Position(position.line, position.character))
    return word_at(lines, server_pos.line, server_pos.character), ls.relative_path(uri)


def live_definitions(path: str, source: str) -> list[Definition]:
    """Definitions of the buffer as the user sees it, not as last indexed."""
    from indexer.extract import extract_file
    from indexer.languages import language_for_path

    spec = language_for_path(path)
    if spec is None:
        return []
    return extract_file(path, source.encode("utf-8", errors="surrogatepass"), spec).definitions


def nest_symbols(ls: "KuraServer", path: str, definitions: list[Definition], lines) -> list[types.DocumentSymbol]:
    """Nest by qualname (container chain), falling back to top level when a container is missing."""
    by_qualname: dict[str, types.DocumentSymbol] = {}
    roots: list[types.DocumentSymbol] = []
    for d in sorted(definitions, key=lambda d: (d.range.start_line, d.range.start_col)):
        symbol = types.DocumentSymbol(
            name=d.name, kind=_kind(d.kind), detail=d.signature.splitlines()[0] if d.signature else None,
            range=to_lsp_range(ls, path, d.range, lines),
            selection_range=to_lsp_range(ls, path, d.name_range, lines), children=[],
        )
        parent = by_qualname.get(d.qualname.rpartition(".")[0])
        (parent.children if parent is not None else roots).append(symbol)
        by_qualname.setdefault(d.qualname, symbol)
    return roots


def hover_markdown(definitions: list[Definition]) -> str:
    parts = []
    for d in definitions:
        block = f"```{d.language or ''}\n{d.signature.strip() or d.qualname}\n```"
        if d.doc:
            block += f"\n\n{d.doc.strip()}"
        block += f"\n\n*{d.path}:{d.range.start_line + 1}*"
        parts.append(block)
    return "\n\n---\n\n".join(parts)


def _kind(kind: int) -> types.SymbolKind:
    try:
        return types.SymbolKind(kind)
    except ValueError:
        return types.SymbolKind.Variable

"""Navigation from the index across the repository, no model needed."""

from __future__ import annotations

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import start, wait_for_index


def _open(client: LanguageClient, path, language_id: str = "python") -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id=language_id, version=1, text=path.read_text())
    ))
    return uri


def _position_of(path, needle: str, occurrence: int = 0) -> types.Position:
    lines = path.read_text().splitlines()
    seen = 0
    for i, line in enumerate(lines):
        col = line.find(needle)
        if col >= 0:
            if seen == occurrence:
                return types.Position(line=i, character=col + 1)
            seen += 1
    raise AssertionError(f"{needle!r} not in {path}")


async def test_workspace_symbol_finds_classes_across_files(client: LanguageClient, repo, tmp_path):
    await start(client, repo, {"index": {"path": str(tmp_path / "idx.sqlite"), "watch": False}})
    await wait_for_index(client)
    result = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="price tax"))
    names = {s.name for s in result}
    assert "price_with_tax" in names
    symbol = next(s for s in result if s.name == "price_with_tax")
    assert symbol.location.uri.endswith("shop/models.py")
    assert symbol.kind == types.SymbolKind.Method


async def test_definition_jumps_to_another_file(client: LanguageClient, repo, tmp_path):
    await start(client, repo, {"index": {"path": str(tmp_path / "idx.sqlite"), "watch": False}})
    await wait_for_index(client)
    checkout = repo / "shop/checkout.py"
    uri = _open(client, checkout)
    result = await client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=_position_of(checkout, "total_cents")))
    assert result, "no definition found"
    target = result[0]
    assert target.uri.endswith("shop/cart.py")
    line = (repo / "shop/cart.py").read_text().splitlines()[target.range.start.line]
    assert "def total_cents" in line


async def test_references_include_every_caller(client: LanguageClient, repo, tmp_path):
    await start(client, repo, {"index": {"path": str(tmp_path / "idx.sqlite"), "watch": False}})
    await wait_for_index(client)
    cart = repo / "shop/cart.py"
    uri = _open(client, cart)
    result = await client.text_document_references_async(types.ReferenceParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=_position_of(cart, "class Cart").line, character=7),
        context=types.ReferenceContext(include_declaration=True)))
    where = sorted((r.uri.rsplit("/", 1)[-1], r.range.start.line) for r in result)
    # the class itself, the import and two uses in checkout.py
    assert ("cart.py", 7) in where
    assert [w for w in where if w[0] == "checkout.py"] == [("checkout.py", 0), ("checkout.py", 4), ("checkout.py", 10)]


async def test_hover_shows_signature_and_doc(client: LanguageClient, repo, tmp_path):
    await start(client, repo, {"index": {"path": str(tmp_path / "idx.sqlite"), "watch": False}})
    await wait_for_index(client)
    checkout = repo / "shop/checkout.py"
    uri = _open(client, checkout)
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=_position_of(checkout, "total_cents")))
    assert hover is not None
    assert "def total_cents(self) -> int" in hover.contents.value
    assert "Sum of the items' prices with tax." in hover.contents.value
    assert "shop/cart.py:" in hover.contents.value


async def test_document_symbols_follow_the_unsaved_buffer(client: LanguageClient, repo, tmp_path):
    await start(client, repo, {"index": {"path": str(tmp_path / "idx.sqlite"), "watch": False}})
    await wait_for_index(client)
    models = repo / "shop/models.py"
    uri = _open(client, models)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(
            text=models.read_text() + "\n\ndef discount(p: Product) -> int:\n    return 0\n")]))
    result = await client.text_document_document_symbol_async(types.DocumentSymbolParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    top = {s.name: s for s in result}
    assert set(top) >= {"Product", "discount"}
    assert [c.name for c in top["Product"].children] == ["sku", "price_cents", "price_with_tax"] or \
        "price_with_tax" in [c.name for c in top["Product"].children]

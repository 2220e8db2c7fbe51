"""Bad input never crashes the server nor blocks the editor: each case gets a clear outcome."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import SERVER, inline, make_repo, open_document, start, status, wait_for_index, wait_for_model


def _frame(payload: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(payload) + payload


def test_malformed_messages_get_errors_and_the_server_keeps_serving(tmp_path):
    """Raw stdio, no client library: garbage JSON, a wrong shape, then a real initialize."""
    garbage = _frame(b"{this is not json")
    wrong_shape = _frame(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "textDocument/hover", "params": {"position": "nowhere"}}).encode())
    initialize = _frame(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "initialize",
                                    "params": {"processId": None, "rootUri": None, "capabilities": {}}}).encode())
    proc = subprocess.Popen(SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        proc.stdin.write(garbage + wrong_shape + initialize)
        proc.stdin.flush()
        replies = _read_replies(proc, until_id=2, timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert replies[2]["result"]["serverInfo"]["name"] == "kura"
    assert "error" in replies.get(1, {"error": "no reply"})  # answered with an error, not a crash


def _read_replies(proc, until_id: int, timeout: float) -> dict:
    replies: dict = {}
    deadline = time.time() + timeout
    os.set_blocking(proc.stdout.fileno(), True)
    while until_id not in replies and time.time() < deadline:
        header = proc.stdout.readline()
        if not header:
            break
        if not header.lower().startswith(b"content-length"):
            continue
        length = int(header.split(b":")[1])
        while proc.stdout.readline() not in (b"\r\n", b"\n", b""):
            pass
        message = json.loads(proc.stdout.read(length))
        if "id" in message and "method" not in message:
            replies[message["id"]] = message
    return replies


async def test_positions_outside_the_document_and_unknown_uris_answer_empty(client: LanguageClient, repo, tmp_path, tiny_model):
    await start(client, repo, {"model": {"path": str(tiny_model)}, "index": {"path": str(tmp_path / "i.sqlite"), "watch": False}})
    await wait_for_index(client)
    uri = open_document(client, repo / "shop/cart.py")
    assert (await inline(client, uri, 9999, 0)).items == ()
    assert (await inline(client, uri, 3, 500)).items == ()
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=10_000, character=3)))
    assert hover is None
    missing = (repo / "nowhere/ghost.py").as_uri()
    assert await client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=missing), position=types.Position(line=0, character=0))) is None
    untitled = "untitled:Untitled-1"
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=untitled, language_id="python", version=1, text="def f():\n    return 1\n")))
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(
        text_document=types.TextDocumentIdentifier(uri=untitled)))
    assert symbols is not None
    assert (await status(client))["index"]["state"] == "ready"


async def test_a_huge_document_is_not_completed_and_nothing_blocks(client: LanguageClient, repo, tmp_path, tiny_model):
    await start(client, repo, {"model": {"path": str(tiny_model)}, "index": {"path": str(tmp_path / "i.sqlite"), "watch": False}})
    await wait_for_model(client)
    huge = "x = 1\n" * 4_000_000  # 24 MB
    uri = open_document(client, repo / "huge.py", huge)
    started = time.perf_counter()
    result = await inline(client, uri, 10, 0)
    assert result.items == ()
    assert time.perf_counter() - started < 30
    symbols = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="Cart"))
    assert any(s.name == "Cart" for s in symbols)


async def test_a_missing_model_is_named_with_a_fix_and_navigation_keeps_working(client: LanguageClient, repo, tmp_path):
    missing = tmp_path / "models/absent.gguf"
    await start(client, repo, {"model": {"path": str(missing)}, "index": {"path": str(tmp_path / "i.sqlite"), "watch": False}})
    await wait_for_index(client)
    uri = open_document(client, repo / "shop/cart.py")
    assert (await inline(client, uri, 11, 20)).items == ()
    current = await status(client)
    assert current["model"]["state"] == "error"
    assert str(missing) in current["model"]["error"]
    assert str(missing) in (current["lastError"] or "")
    assert any(str(missing) in m.message for m in client.log_messages)
    symbols = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="Cart"))
    assert any(s.name == "Cart" for s in symbols)


async def test_a_corrupt_model_file_is_reported_not_fatal(client: LanguageClient, repo, tmp_path):
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"GGUF" + os.urandom(4096))
    await start(client, repo, {"model": {"path": str(corrupt)}, "index": {"path": str(tmp_path / "i.sqlite"), "watch": False}})
    current = await wait_for_model(client)
    assert current["model"]["state"] == "error"
    assert str(corrupt) in current["model"]["error"]
    uri = open_document(client, repo / "shop/cart.py")
    assert (await inline(client, uri, 11, 20)).items == ()


async def test_an_unreachable_in_house_server_fails_fast_and_is_reported(client: LanguageClient, repo, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    url = f"http://127.0.0.1:{port}"
    await start(client, repo, {"model": {"backend": "openai", "serverUrl": url},
                               "index": {"path": str(tmp_path / "i.sqlite"), "watch": False}})
    await wait_for_index(client)
    uri = open_document(client, repo / "shop/cart.py")
    started = time.perf_counter()
    assert (await inline(client, uri, 11, 20)).items == ()
    assert time.perf_counter() - started < 5
    current = await status(client)
    assert url in (current["lastError"] or "") or url in str(current["model"])


async def test_requests_during_indexing_are_answered(client: LanguageClient, tmp_path, tiny_model):
    files = {f"pkg/mod{i}.py": f"def function_{i}(x):\n    return x + {i}\n\n\nclass Thing{i}:\n    pass\n" for i in range(400)}
    root = make_repo(tmp_path / "big", files)
    await start(client, root, {"model": {"path": str(tiny_model)}, "index": {"path": str(tmp_path / "i.sqlite"), "watch": False}})
    first = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="Thing"))
    assert isinstance(first, (list, tuple))  # whatever is indexed so far, without an error
    ready = await wait_for_index(client)
    assert ready["index"]["files"] == 400
    after = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="Thing399"))
    assert any(s.name == "Thing399" for s in after)

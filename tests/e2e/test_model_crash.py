"""A crash of the local model never takes the server down: the request in flight gets nothing, the
user hears once, navigation keeps working, and the model comes back by itself."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import inline, open_document, start, status, wait_for_model

pytestmark = pytest.mark.slow


async def wait_for_restart(client: LanguageClient, old_pid: int, timeout: float = 60) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        model = (await status(client))["model"]
        if model["state"] == "loaded" and model.get("process_pid") not in (None, old_pid):
            return model
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the model did not come back within {timeout}s: {model}")
        await asyncio.sleep(0.1)


def crash_messages(client: LanguageClient) -> list[str]:
    return [m.message for m in client.messages if "local model process stopped" in m.message]


@pytest.mark.parametrize("signal_number", [signal.SIGKILL, signal.SIGILL], ids=["kill-9", "sigill"])
async def test_the_server_outlives_its_model_process(client: LanguageClient, repo, tmp_path, tiny_model, signal_number):
    await start(client, repo, {"model": {"path": str(tiny_model)},
                               "completion": {"maxTokens": 16, "firstSuggestionTimeoutMs": 0, "debounceMs": 0},
                               "index": {"path": str(tmp_path / "i.sqlite"), "watch": False}})
    ready = await wait_for_model(client)
    pid = ready["model"]["process_pid"]
    assert pid and pid != os.getpid()
    uri = open_document(client, repo / "shop/cart.py")

    os.kill(pid, signal_number)
    during = await inline(client, uri, 14, 8)
    assert during is None or not during.items  # answered with nothing, no error

    symbols = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="Cart"))
    assert any(s.name == "Cart" for s in symbols)
    for _ in range(5):  # keystrokes while it restarts: no new message each time
        await inline(client, uri, 14, 8)
    assert len(crash_messages(client)) == 1
    assert signal.Signals(signal_number).name in crash_messages(client)[0]
    current = await status(client)
    assert "local model process stopped" in (current["lastError"] or "")

    back = await wait_for_restart(client, pid)
    calls = back["completion"]["model_calls"]
    after = await inline(client, repo.joinpath("shop/cart.py").as_uri(), 14, 4)
    assert after is not None
    assert (await status(client))["model"]["completion"]["model_calls"] == calls + 1
    assert len(crash_messages(client)) == 1


def model_messages(client: LanguageClient) -> list[str]:
    return [m.message for m in client.messages if "model" in m.message.lower()]


@pytest.mark.parametrize("problem", ["truncated-gguf", "memory-limit"])
async def test_a_model_that_cannot_load_is_said_once_and_fixing_the_setting_brings_it_back(
        client: LanguageClient, repo, tmp_path, tiny_model, problem):
    if problem == "truncated-gguf":
        broken = tmp_path / "truncated.gguf"
        data = tiny_model.read_bytes()
        broken.write_bytes(data[: len(data) // 2])
        model, says = {"path": str(broken)}, str(broken)
    else:  # the model process may not map even llama.cpp's libraries
        model, says = {"path": str(tiny_model), "memoryLimitMb": 64}, "model.memoryLimitMb"
    options = {"model": model, "completion": {"firstSuggestionTimeoutMs": 0, "debounceMs": 0},
               "index": {"path": str(tmp_path / "i.sqlite"), "watch": False}}
    await start(client, repo, options)
    failed = await wait_for_model(client)
    assert failed["model"]["state"] == "error", failed["model"]
    uri = open_document(client, repo / "shop/cart.py")

    for _ in range(5):  # keystrokes: nothing suggested, no error replies, one message in all
        result = await inline(client, uri, 14, 8)
        assert result is None or not result.items
    symbols = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="Cart"))
    assert any(s.name == "Cart" for s in symbols)
    assert len(model_messages(client)) == 1 and says in model_messages(client)[0], model_messages(client)

    client.set_configuration({**options, "model": {"path": str(tiny_model)}}, section="kura")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    deadline = asyncio.get_running_loop().time() + 60
    while (await status(client))["model"]["state"] != "loaded":
        await inline(client, uri, 14, 8)  # the next keystroke loads the model with the new setting
        assert asyncio.get_running_loop().time() < deadline, (await status(client))["model"]
        await asyncio.sleep(0.2)
    calls = (await status(client))["model"]["completion"]["model_calls"]
    assert await inline(client, uri, 14, 4) is not None
    assert (await status(client))["model"]["completion"]["model_calls"] == calls + 1

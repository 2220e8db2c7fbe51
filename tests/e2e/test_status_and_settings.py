"""`kura/status`, typed settings from initializationOptions, and re-pulled configuration."""

from __future__ import annotations

import asyncio

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import start, status as server_status, wait_for_index


async def test_status_reports_index_and_settings(client: LanguageClient, repo, tmp_path):
    await start(client, repo, {"index": {"path": str(tmp_path / "idx.sqlite"), "watch": False}})
    status = await wait_for_index(client)
    assert status["index"]["state"] == "ready"
    assert status["index"]["files"] == 3
    assert status["index"]["root"] == str(repo.resolve())
    assert status["backend"] == "llama_cpp"
    assert status["settings"]["index"]["watch"] is False


async def test_a_bad_setting_is_named_to_the_user_and_defaulted(client: LanguageClient, repo, tmp_path):
    await start(client, repo, {"completion": {"maxLines": "many"}, "index": {"path": str(tmp_path / "i.sqlite")}})
    await wait_for_index(client)
    messages = [m.message for m in client.messages]
    assert any("kura.completion.maxLines" in m for m in messages), messages
    status = await server_status(client)
    assert status["settings"]["completion"]["maxLines"] == 8


async def test_configuration_is_pulled_again_on_change(client: LanguageClient, repo, tmp_path):
    await start(client, repo, {"index": {"path": str(tmp_path / "i.sqlite"), "watch": False}})
    await wait_for_index(client)
    client.set_configuration({"completion": {"maxLines": 3, "enabled": False}}, section="kura")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    for _ in range(50):
        status = await server_status(client)
        if status["settings"]["completion"]["maxLines"] == 3:
            break
        await asyncio.sleep(0.1)
    assert status["settings"]["completion"]["maxLines"] == 3
    assert status["completionsEnabled"] is False

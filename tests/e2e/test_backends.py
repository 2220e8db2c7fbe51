"""The same inline completion through each real backend behind the server: an in-house
OpenAI-compatible server (`python -m llama_cpp.server` on loopback) and ctransformers."""

from __future__ import annotations

from pytest_lsp import LanguageClient

from tests.e2e.conftest import inline, open_document, start, status, wait_for_model

CURSOR_TEXT = "\n\ndef describe(product: Product) -> str:\n    return "


async def _complete_once(client: LanguageClient, repo) -> dict:
    path = repo / "shop/checkout.py"
    text = path.read_text() + CURSOR_TEXT
    uri = open_document(client, path, text)
    result = await inline(client, uri, text.count("\n"), len(text.split("\n")[-1]))
    assert result is not None
    return await status(client)


async def test_completion_through_an_in_house_llama_cpp_server(client: LanguageClient, repo, tmp_path, llama_server):
    await start(client, repo, {"model": {"backend": "openai", "serverUrl": llama_server, "fimTemplate": "qwen"},
                               "completion": {"firstSuggestionTimeoutMs": 0},
                               "index": {"path": str(tmp_path / "i.sqlite"), "watch": False}})
    await wait_for_model(client)
    after = await _complete_once(client, repo)
    assert after["lastError"] is None, after["lastError"]
    assert after["model"]["backend"] == "openai"
    assert after["model"]["completion"]["model_calls"] == 1
    assert after["model"]["last"]["generated_tokens"] > 0


async def test_completion_through_ctransformers(client: LanguageClient, repo, tmp_path, tiny_model):
    await start(client, repo, {"model": {"backend": "ctransformers", "path": str(tiny_model)},
                               "completion": {"firstSuggestionTimeoutMs": 0},
                               "index": {"path": str(tmp_path / "i.sqlite"), "watch": False}})
    loaded = await wait_for_model(client)
    assert loaded["model"]["state"] == "loaded", loaded["model"]
    after = await _complete_once(client, repo)
    assert after["lastError"] is None, after["lastError"]
    assert after["model"]["completion"]["model_calls"] == 1
    assert after["model"]["last"]["generated_tokens"] > 0
    assert after["model"]["last"]["fim"] is True  # the tiny model carries Qwen's FIM tokens

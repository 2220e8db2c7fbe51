"""`kura.generate` end to end: an instruction on a selection (or at the cursor) comes back as a proposed,
validated WorkspaceEdit — the document untouched — with the model's text streamed as
`kura/generation` chunks; unusable answers and bad input get a clear message instead."""

from __future__ import annotations

import pytest
from lsprotocol import types

from assistant.tasks.edit_validation import syntax_errors
from tests.e2e.conftest import open_document, start, to_plain, wait_for_index
from tests.fixtures.scripted_model_server import scripted_model_server
from tests.fixtures.tiny_gguf import make_tiny_gguf


def record_generation(client):
    chunks: list[dict] = []

    @client.feature("kura/generation")
    def on_generation(params):
        chunks.append(to_plain(params))

    return chunks


async def generate(client, uri, start_line, end_line, instruction, **extra):
    arg = {"uri": uri, "range": {"start": {"line": start_line, "character": 0},
                                 "end": {"line": end_line, "character": 0}}, "instruction": instruction, **extra}
    params = types.ExecuteCommandParams(command="kura.generate", arguments=[arg])
    return to_plain(await client.protocol.send_request_async(types.WORKSPACE_EXECUTE_COMMAND, params))


def the_edit(result, uri):
    edit = result["edit"]
    if edit.get("documentChanges"):
        (change,) = edit["documentChanges"]
        assert change["textDocument"]["uri"] == uri
        (text_edit,) = change["edits"]
    else:
        (text_edit,) = edit["changes"][uri]
    return text_edit


def applied(text: str, edit: dict) -> str:
    lines = text.splitlines(True)
    offset = lambda p: sum(len(l) for l in lines[: p["line"]]) + p["character"]
    return text[: offset(edit["range"]["start"])] + edit["newText"] + text[offset(edit["range"]["end"]):]


@pytest.mark.asyncio
async def test_a_rewrite_streams_then_comes_back_as_an_edit_to_preview(client, repo):
    answer = "Sure, here it is:\n```python\n    def total_cents(self) -> int:\n        \"\"\"Sum with tax.\"\"\"\n" \
             "        return sum(p.price_with_tax(TAX_RATE) for p in self.items if p.price_cents > 0)\n```\nDone."
    with scripted_model_server(answer) as model:
        await start(client, repo, {"model": {"backend": "openai", "serverUrl": model.url}})
        await wait_for_index(client)
        cart = repo / "shop/cart.py"
        before = cart.read_text()
        uri = open_document(client, cart)
        chunks = record_generation(client)

        result = await generate(client, uri, 16, 19, "skip products with a zero price", id="gen-1")

    assert result["id"] == "gen-1" and result["mode"] == "edit", result
    after = applied(before, the_edit(result, uri))
    assert "if p.price_cents > 0)" in after and "Sure" not in after and "Done." not in after
    assert syntax_errors(after, "shop/cart.py") == []
    assert cart.read_text() == before  # only proposed
    assert "".join(c["chunk"] for c in chunks if not c["done"]) == answer
    assert chunks[-1]["done"] and all(c["id"] == "gen-1" for c in chunks)
    assert "Product" in str(model.requests[0]["messages"])  # the index's context went along


@pytest.mark.asyncio
async def test_new_code_at_the_cursor_is_inserted_below_the_line(client, repo):
    answer = "```python\ndef receipt(cart: Cart) -> str:\n    return checkout(cart).upper()\n```"
    with scripted_model_server(answer) as model:
        await start(client, repo, {"model": {"backend": "openai", "serverUrl": model.url}})
        checkout = repo / "shop/checkout.py"
        before = checkout.read_text()
        uri = open_document(client, checkout)

        result = await generate(client, uri, 12, 12, "add receipt() that upper-cases the checkout text")

    edit = the_edit(result, uri)
    assert result["mode"] == "insert" and edit["range"]["start"] == edit["range"]["end"]  # inserted, nothing replaced
    after = applied(before, edit)
    assert after.startswith(before) and after.endswith("def receipt(cart: Cart) -> str:\n    return checkout(cart).upper()\n")


@pytest.mark.asyncio
async def test_an_answer_that_breaks_the_syntax_is_refused_with_a_message(client, repo):
    with scripted_model_server("```python\n    def total_cents(self) -> int\n```") as model:
        await start(client, repo, {"model": {"backend": "openai", "serverUrl": model.url}})
        uri = open_document(client, repo / "shop/cart.py")

        result = await generate(client, uri, 16, 19, "add a type hint")

    assert result["edit"] is None and "break the syntax" in result["message"]
    assert any(m.message == result["message"] for m in client.messages)


@pytest.mark.asyncio
async def test_a_real_tiny_model_gives_an_edit_or_a_reason(client, repo, tmp_path):
    await start(client, repo, {"model": {"path": str(make_tiny_gguf(tmp_path / "tiny.gguf", family="qwen"))}})
    uri = open_document(client, repo / "shop/checkout.py")

    result = await generate(client, uri, 6, 6, "add a function that prints the checkout")

    assert result["mode"] == "insert" and result["message"].startswith("kura:")
    if result["edit"] is None:
        assert any(m.message == result["message"] for m in client.messages)


@pytest.mark.asyncio
@pytest.mark.parametrize("arg, says", [
    ({"uri": "file:///nowhere.py", "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
      "instruction": "add code"}, "cannot read"),
    ({"uri": "file:///x.py", "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}},
     "expects [{uri, range, instruction}]"),
    ({"uri": "file:///x.py", "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
      "instruction": "  "}, "instruction is empty"),
])
async def test_bad_input_gets_a_clear_message(client, repo, tmp_path, arg, says):
    await start(client, repo, {"model": {"path": str(make_tiny_gguf(tmp_path / "tiny.gguf"))}})

    result = to_plain(await client.protocol.send_request_async(
        types.WORKSPACE_EXECUTE_COMMAND, types.ExecuteCommandParams(command="kura.generate", arguments=[arg])))

    assert result["edit"] is None and says in result["message"]

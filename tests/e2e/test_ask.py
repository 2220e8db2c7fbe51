"""`kura.ask` end to end: the answer streamed as `kura/answer` chunks under the client's id, the
citations with the file URI and line to open, "nothing found" without the model, and bad input."""

from __future__ import annotations

import pytest
from lsprotocol import types

from tests.e2e.conftest import start, to_plain, wait_for_index
from tests.fixtures.ask_repo import SIGNATURE_CHECK, make_ask_repo


def record_answers(client):
    chunks: list[dict] = []

    @client.feature("kura/answer")
    def on_answer(params):
        chunks.append(to_plain(params))

    return chunks


async def ask(client, *args):
    params = types.ExecuteCommandParams(command="kura.ask", arguments=list(args))
    return to_plain(await client.protocol.send_request_async(types.WORKSPACE_EXECUTE_COMMAND, params))


@pytest.fixture
def payments(tmp_path):
    return make_ask_repo(tmp_path / "payments")


@pytest.mark.asyncio
async def test_the_answer_streams_and_cites_the_file_and_line_to_open(client, payments, tiny_model):
    await start(client, payments, {"model": {"path": str(tiny_model)}})
    await wait_for_index(client)
    chunks = record_answers(client)

    result = await ask(client, {"question": "where do we validate webhook signatures?", "id": "ask-1"})

    assert result["id"] == "ask-1" and result["found"] is True
    assert "".join(c["chunk"] for c in chunks if not c["done"]) == result["markdown"]
    assert chunks[-1]["done"] and chunks[-1]["reason"] == "done" and {c["id"] for c in chunks} == {"ask-1"}
    first = result["citations"][0]
    assert f"{first['path']}:{first['line']}" == SIGNATURE_CHECK
    assert first["uri"] == (payments / first["path"]).as_uri()
    assert f"`{SIGNATURE_CHECK}`" in result["markdown"]


@pytest.mark.asyncio
async def test_a_question_the_code_does_not_answer_is_told_so(client, payments, tiny_model):
    await start(client, payments, {"model": {"path": str(tiny_model)}}, locale="ja")
    await wait_for_index(client)
    chunks = record_answers(client)

    result = await ask(client, {"question": "how do we charge credit cards?"})

    assert result["found"] is False and result["citations"] == [] and result["answer"] == ""
    assert "見つかりませんでした" in result["markdown"]
    assert chunks[-1] == {**chunks[-1], "id": result["id"], "done": True, "reason": "nothing found"}


@pytest.mark.asyncio
async def test_each_question_is_a_row_in_the_usage_log_with_its_outcome(client, payments, tiny_model, tmp_path):
    from tests.e2e.test_usage import eventually, read

    log = tmp_path / "usage.sqlite"
    await start(client, payments, {"model": {"path": str(tiny_model)}, "usage": {"path": str(log)}})
    await wait_for_index(client)

    await ask(client, {"question": "how does the retry policy work?"})
    await ask(client, {"question": "how do we charge credit cards?"})

    rows = await eventually("two ask rows", lambda: len(read(log, "events")) >= 2 and read(log, "events"))
    assert [(r["kind"], r["task"], r["outcome"]) for r in rows] == [("ask", "ask", "done"), ("ask", "ask", "nothing_found")]
    assert rows[0]["latency_ms"] > 0 and rows[0]["text"] is None  # no code stored unless the policy says so


@pytest.mark.asyncio
async def test_a_missing_question_is_answered_with_an_error_not_a_crash(client, payments, tiny_model):
    await start(client, payments, {"model": {"path": str(tiny_model)}})

    result = await ask(client, {"uri": "file:///nowhere"})

    assert result["found"] is False and "expects [{question}]" in result["error"]
    assert (await ask(client, "  "))["error"]

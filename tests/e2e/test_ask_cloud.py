"""`kura.askCloud` end to end: the pieces found locally go to a loopback OpenAI-compatible server that
records every byte it receives — sanitized, confidential files dropped, placeholders restored in the
answer, nothing sent when the policy denies or nothing was found."""

from __future__ import annotations

import pytest

from tests.e2e.test_escalation import (  # noqa: F401  (fixtures)
    CONFIDENTIAL_MARKER, HOST, SECRET, begin, client, cloud, command, shown, workspace,
)
from tests.fixtures.policy_text import with_task

QUESTION = "how does fetch get the internal rate table with its token?"


@pytest.mark.asyncio
async def test_the_question_and_its_code_arrive_sanitized_and_the_answer_is_restored(client, workspace, cloud, tiny_model):
    root = workspace()
    with_task(root, "ask", "auto")
    await begin(client, root, tiny_model)
    cloud.answer_chunks = ["fetch sends KURA_SEC", "RET_1 to KURA_URL_1."]

    result = await command(client, "kura.askCloud", [{"question": QUESTION, "id": "ask-cloud-1"}])

    received = cloud.all_bytes.decode()
    assert len(cloud.received) == 1 and SECRET not in received and HOST not in received
    assert "KURA_SECRET_1" in received and "Question: " in received and "fetch" in received
    assert CONFIDENTIAL_MARKER not in received  # internal/billing/rates.py was found, then dropped
    assert f"fetch sends {SECRET} to https://{HOST}/v1." in result["markdown"] and result["cloud"] is True
    cited = [c["path"] for c in result["citations"]]
    assert cited and cited[0] == "src/app.py" and "internal/billing/rates.py" not in cited


@pytest.mark.asyncio
async def test_without_ask_in_the_policy_nothing_is_sent_and_it_says_why(client, workspace, cloud, tiny_model):
    root = workspace()  # [tasks] names explain and fix only: ask is denied
    await begin(client, root, tiny_model)

    result = await command(client, "kura.askCloud", [{"question": QUESTION}])

    assert cloud.received == [] and result["markdown"] == "" and "deny" in result["error"]
    assert "deny" in shown(client)


@pytest.mark.asyncio
async def test_a_question_the_code_does_not_answer_sends_nothing(client, workspace, cloud, tiny_model):
    root = workspace()
    with_task(root, "ask", "auto")
    await begin(client, root, tiny_model)

    result = await command(client, "kura.askCloud", [{"question": "how do we charge credit cards?"}])

    assert cloud.received == [] and result["found"] is False and "found nothing" in result["markdown"]

"""`kura.generateCloud` end to end: the generation escalated under the workspace policy, against a
loopback OpenAI-compatible server that records every byte — the secret and the internal host never
arrive, the placeholders in the generated code are restored before the edit is proposed, a policy that
does not list `generate` sends nothing, and a failing cloud falls back to the local model."""

from __future__ import annotations

import pytest

from tests.e2e.test_escalation import (  # noqa: F401  (fixtures)
    ADD, FETCH, HOST, SECRET, at, begin, client, cloud, command, policy_toml, workspace,
)

GENERATE_POLICY = "generate = \"auto\"\n"


def with_generate(base_url: str) -> str:
    return policy_toml(base_url).replace('fix = "auto"\n', 'fix = "auto"\n' + GENERATE_POLICY)


def applied(text: str, edit: dict) -> str:
    (change,) = edit["documentChanges"] if edit.get("documentChanges") else [{"edits": next(iter(edit["changes"].values()))}]
    (text_edit,) = change["edits"]
    lines = text.splitlines(True)
    offset = lambda p: sum(len(l) for l in lines[: p["line"]]) + p["character"]
    return text[: offset(text_edit["range"]["start"])] + text_edit["newText"] + text[offset(text_edit["range"]["end"]):]


@pytest.mark.asyncio
async def test_the_secret_never_arrives_and_the_generated_code_gets_it_back(client, workspace, cloud, tiny_model):
    root = workspace(policy="")
    (root / ".kura/policy.toml").write_text(with_generate(cloud.base_url))
    await begin(client, root, tiny_model)
    before = (root / "src/app.py").read_text()
    cloud.answer_chunks = ["Here you go:\n```python\ndef fetch(get):\n    token = \"KURA_SEC", "RET_1\"\n",
                           "    print(\"calling KURA_URL_1\")\n",
                           "    return get(\"KURA_URL_1\", token, internal_rate_table())\n```\nDone."]

    result = await command(client, "kura.generateCloud", at(root, FETCH, instruction="print the URL before the call"))

    received = cloud.all_bytes.decode()
    assert len(cloud.received) == 1 and SECRET not in received and HOST not in received
    assert "KURA_SECRET_1" in received and "print the URL before the call" in received
    assert result["cloud"] is True and result["edit"] is not None, result
    after = applied(before, result["edit"])
    assert f'    print("calling https://{HOST}/v1")\n' in after  # restored in the code, before the buffer
    assert after.replace(f'    print("calling https://{HOST}/v1")\n', "") == before
    assert "cloud model test-model" in result["message"]


@pytest.mark.asyncio
async def test_a_policy_that_does_not_list_generate_sends_nothing(client, workspace, cloud, tiny_model):
    root = workspace()  # explain and fix only
    await begin(client, root, tiny_model)

    result = await command(client, "kura.generateCloud", at(root, ADD, instruction="return the sum"))

    assert cloud.received == [] and result["edit"] is None
    assert "nothing was sent" in result["message"]


@pytest.mark.asyncio
async def test_a_failing_cloud_falls_back_to_the_local_model(client, workspace, cloud, tiny_model):
    root = workspace(policy="")
    (root / ".kura/policy.toml").write_text(with_generate(cloud.base_url))
    await begin(client, root, tiny_model)
    cloud.fail_statuses = [500, 500, 500, 500]

    result = await command(client, "kura.generateCloud", at(root, ADD, instruction="return the sum"))

    assert result["cloud"] is False and result["cloudError"]
    assert result["mode"] == "edit" and result["message"].startswith("kura:")  # the local model's edit, or why none

"""`kura.explainCloud`, `kura.fixCloud` and `kura.previewEscalation` end to end: the real server over
stdio, and a loopback OpenAI-compatible server that records every byte it receives."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.conftest import SERVER, make_repo, start, status, to_plain, wait_for_index

POLICY_TESTS = Path(__file__).resolve().parents[1] / "policy"
sys.path.insert(0, str(POLICY_TESTS))
from policy_fixtures import API_KEY, API_KEY_ENV, policy_toml  # noqa: E402

_spec = importlib.util.spec_from_file_location("kura_policy_conftest", POLICY_TESTS / "conftest.py")
_recording = sys.modules.setdefault("kura_policy_conftest", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(_recording)  # type: ignore[union-attr]

SECRET = "ghp_R4nd0mT0k3nV4lu3Abcdefghijklmnopqrstuv"
HOST = "cache01.corp.acme.io"
CONFIDENTIAL_MARKER = "RATE_TABLE_7731"
FILES = {
    "src/app.py": f'''\
        from internal.billing.rates import internal_rate_table


        def fetch(get):
            token = "{SECRET}"
            return get("https://{HOST}/v1", token, internal_rate_table())


        def add(a, b):
            return a - b
        ''',
    "internal/billing/rates.py": f'''\
        def internal_rate_table(seed="{CONFIDENTIAL_MARKER}"):
            """The {CONFIDENTIAL_MARKER} negotiated with the bank."""
            return {{"standard": 0.19}}
        ''',
}
FETCH = (3, 5)  # 0-based lines of fetch()
ADD = (8, 9)

SERVER_ENV = {k: v for k, v in os.environ.items() if k != "KURA_ORG_POLICY"} | {API_KEY_ENV: API_KEY}


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=SERVER_ENV))
async def client(lsp_client: LanguageClient):
    """A VS Code-like client that answers showMessageRequest with `client.answers` (popped in order)."""
    lsp_client.editor = "visual-studio-code"  # type: ignore[attr-defined]
    lsp_client.answers = []  # type: ignore[attr-defined]
    lsp_client.asked = []  # type: ignore[attr-defined]
    lsp_client.explanations = []  # type: ignore[attr-defined]

    @lsp_client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def on_request(params: types.ShowMessageRequestParams):
        lsp_client.asked.append(params)
        title = lsp_client.answers.pop(0) if lsp_client.answers else None
        return types.MessageActionItem(title=title) if title else None

    @lsp_client.feature("kura/explanation")
    def on_explanation(params):
        lsp_client.explanations.append(to_plain(params))

    yield
    try:
        await lsp_client.shutdown_session()
    except Exception:
        pass


@pytest.fixture
def cloud():
    fake = _recording.FakeOpenAI()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _recording._handler(fake))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def workspace(tmp_path, cloud):
    """A git repository with a policy pointing at the recording server; `workspace(approval=...)`."""

    def make(approval: str = "auto", policy: str | None = None) -> Path:
        root = make_repo(tmp_path / "repo", FILES)
        (root / ".kura").mkdir()
        (root / ".kura/policy.toml").write_text(policy if policy is not None else policy_toml(cloud.base_url, approval=approval))
        return root

    return make


def at(root: Path, lines: tuple[int, int], **extra) -> list[dict]:
    return [{"uri": (root / "src/app.py").as_uri(),
             "range": {"start": {"line": lines[0], "character": 0}, "end": {"line": lines[1] + 1, "character": 0}}, **extra}]


async def command(client: LanguageClient, name: str, args: list) -> dict:
    params = types.ExecuteCommandParams(command=name, arguments=args)
    return to_plain(await client.protocol.send_request_async(types.WORKSPACE_EXECUTE_COMMAND, params))


async def begin(client: LanguageClient, root: Path, tiny_model: Path) -> None:
    await start(client, root, {"model": {"path": str(tiny_model)}})
    await wait_for_index(client)


def shown(client: LanguageClient) -> str:
    return "\n".join(m.message for m in client.messages)


@pytest.mark.asyncio
async def test_a_secret_and_an_internal_host_never_arrive_and_the_answer_is_restored(client, workspace, cloud, tiny_model):
    root = workspace()
    await begin(client, root, tiny_model)
    cloud.answer_chunks = ["It calls KURA_U", "RL_1 with the token KURA_SEC", "RET_1."]

    result = await command(client, "kura.explainCloud", at(root, FETCH))

    received = cloud.all_bytes.decode()
    assert len(cloud.received) == 1 and SECRET not in received and HOST not in received and "corp.acme.io" not in received
    assert "KURA_SECRET_1" in received and "KURA_URL_1" in received
    assert f"It calls https://{HOST}/v1 with the token {SECRET}." in result["markdown"]
    assert "cloud model" in result["markdown"] and result["cloud"] is True
    streamed = [c for c in client.explanations if c["id"] == result["id"]]
    assert "".join(c["chunk"] for c in streamed) == result["markdown"]
    assert streamed[-1]["done"] and all(c["cloud"] is True for c in streamed)


@pytest.mark.asyncio
async def test_a_confidential_definition_pulled_in_as_context_never_arrives(client, workspace, cloud, tiny_model):
    root = workspace()
    await begin(client, root, tiny_model)

    preview = await command(client, "kura.previewEscalation", [{**at(root, FETCH)[0], "task": "explain"}])
    result = await command(client, "kura.explainCloud", at(root, FETCH))

    assert result["markdown"] and len(cloud.received) == 1
    assert "internal/billing/rates.py" in {d["path"] for d in preview["dropped"]}  # it was gathered, then dropped
    assert CONFIDENTIAL_MARKER not in cloud.all_bytes.decode()


@pytest.mark.asyncio
async def test_a_confidential_file_as_selection_sends_nothing(client, workspace, cloud, tiny_model):
    root = workspace()
    await begin(client, root, tiny_model)
    rates = {"uri": (root / "internal/billing/rates.py").as_uri(),
             "range": {"start": {"line": 0, "character": 0}, "end": {"line": 3, "character": 0}}}

    result = await command(client, "kura.explainCloud", [rates])

    assert cloud.received == [] and result["markdown"] == ""
    assert "confidential" in result["error"] and "confidential" in shown(client)


@pytest.mark.asyncio
async def test_deny_sends_nothing_and_says_why(client, workspace, cloud, tiny_model):
    root = workspace(approval="deny")
    await begin(client, root, tiny_model)

    result = await command(client, "kura.explainCloud", at(root, FETCH))
    fix = await command(client, "kura.fixCloud", at(root, ADD))

    assert cloud.received == []
    assert "deny" in result["error"] and fix["edit"] is None and "deny" in fix["message"]
    assert "approval: deny" in shown(client)


@pytest.mark.asyncio
async def test_a_broken_policy_sends_nothing_and_names_file_and_line(client, workspace, cloud, tiny_model):
    root = workspace(policy=policy_toml(cloud.base_url) + "\n[tasks\nexplain = 'auto'\n")
    await begin(client, root, tiny_model)

    result = await command(client, "kura.explainCloud", at(root, FETCH))

    assert cloud.received == [] and result["markdown"] == ""
    assert re.search(r"policy\.toml.*:\d+", shown(client)), shown(client)
    assert (await status(client))["policy"]["state"] == "errors"


@pytest.mark.asyncio
async def test_a_fixed_policy_is_reloaded_without_a_restart(client, workspace, cloud, tiny_model):
    root = workspace(policy="version = [\n")
    await begin(client, root, tiny_model)
    assert (await command(client, "kura.explainCloud", at(root, FETCH)))["markdown"] == ""

    (root / ".kura/policy.toml").write_text(policy_toml(cloud.base_url))
    result = await command(client, "kura.explainCloud", at(root, FETCH))

    assert result["markdown"] and len(cloud.received) == 1


@pytest.mark.asyncio
@pytest.mark.parametrize("answers, requests", [(["Cancel"], 0), (["Send"], 1), (["Show payload", "Send"], 1), ([], 0)])
async def test_approval_prompt_sends_only_when_the_user_says_send(client, workspace, cloud, tiny_model, answers, requests):
    root = workspace(approval="prompt")
    await begin(client, root, tiny_model)
    client.answers = list(answers)

    result = await command(client, "kura.explainCloud", at(root, FETCH))

    assert len(cloud.received) == requests
    assert [a.title for a in client.asked[0].actions] == ["Send", "Show payload", "Cancel"]
    assert len(client.asked) == max(1, len(answers))
    assert bool(result["markdown"]) == (requests == 1)


@pytest.mark.asyncio
async def test_preview_sends_nothing_and_returns_the_exact_body(client, workspace, cloud, tiny_model):
    root = workspace()
    await begin(client, root, tiny_model)

    preview = await command(client, "kura.previewEscalation", [{**at(root, FETCH)[0], "task": "explain"}])

    assert cloud.received == []
    assert preview["decision"] == "send" and SECRET not in preview["payload"] and HOST not in preview["payload"]
    assert {"rule", "kind", "line"} <= set(preview["redactions"][0])
    assert {r["kind"] for r in preview["redactions"]} >= {"secret", "url"}
    assert 5 in {r["line"] for r in preview["redactions"] if r["kind"] == "secret"}  # the file's line, 1-based

    await command(client, "kura.explainCloud", at(root, FETCH))
    assert cloud.received[0].split(b"\r\n\r\n", 1)[1] == preview["payload"].encode("utf-8")


@pytest.mark.asyncio
async def test_fix_cloud_returns_a_validated_edit(client, workspace, cloud, tiny_model):
    root = workspace()
    await begin(client, root, tiny_model)
    cloud.answer_chunks = ["```python\ndef add(a, b):\n    return a + b\n```\nThe operator was wrong."]

    result = await command(client, "kura.fixCloud", at(root, ADD))

    assert len(cloud.received) == 1 and result["cloud"] is True, result
    edits = result["edit"]["changes"][(root / "src/app.py").as_uri()]  # not open: an unversioned edit
    assert len(edits) == 1 and edits[0]["range"]["start"]["line"] == 9 and "+" in edits[0]["newText"]
    assert "cloud" in result["message"]


@pytest.mark.asyncio
async def test_a_cloud_failure_is_told_and_the_local_answer_offered(client, workspace, cloud, tiny_model):
    root = workspace()
    await begin(client, root, tiny_model)
    cloud.fail_statuses = [500, 500, 500, 500]

    result = await command(client, "kura.explainCloud", at(root, ADD))

    assert result["cloud"] is False and result["cloudError"] and "markdown" in result
    assert "cloud model failed" in shown(client) and "local" in shown(client)
    assert API_KEY not in shown(client)


@pytest.mark.asyncio
async def test_the_audit_log_verifies_and_the_key_appears_nowhere(client, workspace, cloud, tiny_model):
    from assistant.escalation.policy.audit import verify

    root = workspace()
    await begin(client, root, tiny_model)
    await command(client, "kura.explainCloud", at(root, FETCH))
    await command(client, "kura.fixCloud", at(root, ADD))
    current = await status(client)

    audit = verify(root / "audit/audit.jsonl")
    assert audit.ok and audit.entries == 2, audit.problems
    assert current["policy"]["state"] == "loaded" and current["policy"]["tasks"] == {"explain": "auto", "fix": "auto"}
    assert current["policy"]["providerConfigured"] and current["policy"]["provider"]["apiKeySet"]
    everything = json.dumps(current) + shown(client) + "\n".join(m.message for m in client.log_messages)
    everything += (root / "audit/audit.jsonl").read_text()
    assert API_KEY not in everything and SECRET not in (root / "audit/audit.jsonl").read_text()

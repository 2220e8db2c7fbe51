"""End to end against a loopback OpenAI-compatible server that records every byte it receives."""

from __future__ import annotations

import json

from assistant.escalation.escalator import Escalator
from assistant.escalation.policy.audit import verify
from assistant.escalation.policy.decide import ContextPiece, EscalationRequest
from policy_fixtures import API_KEY, policy_toml

APP = '''import os
import psycopg

DATABASE_URL = "postgresql://billing:Tr0ub4dor-and-3@db01.corp.acme.io:5432/ledger"
GITHUB_TOKEN = "ghp_R4nd0mT0k3nV4lu3Abcdefghijklmnopqrstuv"
OWNER = "jane.doe@acme.io"
CACHE_HOST = "10.20.30.40"


def connect():
    """Open the Acme ledger on Project Falcon's cluster."""
    return psycopg.connect(DATABASE_URL, application_name=acmelib_ledger_client)
'''
SECRETS = ["Tr0ub4dor-and-3", "ghp_R4nd0mT0k3nV4lu3Abcdefghijklmnopqrstuv"]
NAMES = ["db01.corp.acme.io", "corp.acme.io", "jane.doe", "10.20.30.40", "Acme", "acme", "Project Falcon", "acmelib_ledger_client"]


def request(text=APP, path="src/app.py", context=(), task="explain"):
    return EscalationRequest(task, ContextPiece(path, text, "selection", 1, text.count("\n") + 1), tuple(context), "Why is this slow?")


def test_planted_secrets_internal_names_and_terms_never_reach_the_cloud(cloud, make_repo, env):
    root = make_repo(policy_toml(cloud.base_url))
    escalator = Escalator(root, env=env)

    result = escalator.send(escalator.preview(request()), approved=True)

    assert result.ok, result.reason
    received = cloud.all_bytes.decode()
    for value in SECRETS + NAMES:
        assert value not in received
    assert "KURA_SECRET_1" in received and "KURA_HOST_1" in received or "KURA_URL_1" in received


def test_confidential_selection_sends_nothing(cloud, make_repo, env):
    root = make_repo(policy_toml(cloud.base_url))
    escalator = Escalator(root, env=env)

    result = escalator.send(escalator.preview(request("API_TOKEN=abc\n", path=".env.production")), approved=True)

    assert result.outcome == "blocked" and "confidential" in result.reason
    assert cloud.received == []


def test_confidential_file_pulled_in_as_context_never_arrives(cloud, make_repo, env):
    root = make_repo(policy_toml(cloud.base_url))
    escalator = Escalator(root, env=env)
    marker = "def internal_rate_table(): return RATE_TABLE_7731"
    context = (
        ContextPiece("internal/billing/rates.py", marker, "definition", 3, 3, symbol="internal_rate_table"),
        ContextPiece("secrets/notes.md", "the vault unlock phrase is blue-giraffe", "doc"),
        ContextPiece(None, "text of unknown origin UNKNOWN_ORIGIN_42", "context"),
        ContextPiece("src/util.py", "def helper(): return 42", "definition", symbol="helper"),
    )

    preview = escalator.preview(request(context=context))
    result = escalator.send(preview, approved=True)

    assert result.ok
    received = cloud.all_bytes.decode()
    assert "RATE_TABLE_7731" not in received and "blue-giraffe" not in received and "UNKNOWN_ORIGIN_42" not in received
    assert "def helper(): return 42" in received
    assert {d.path for d in preview.decision.dropped} == {"internal/billing/rates.py", "secrets/notes.md", None}


def test_placeholders_in_the_streamed_answer_are_restored_even_split_across_chunks(cloud, make_repo, env):
    root = make_repo(policy_toml(cloud.base_url))
    escalator = Escalator(root, env=env)
    preview = escalator.preview(request())
    host = next(p for p, o in preview.placeholders.by_placeholder.items() if o == "Acme")
    cloud.answer_chunks = ["The ", host[:3], host[3:9], host[9:], " code; ", "KURA_TERM_99 is unknown."]
    streamed = []

    result = escalator.send(preview, approved=True, on_text=streamed.append)

    assert result.text == "The Acme code; KURA_TERM_99 is unknown."
    assert "".join(streamed) == result.text


def test_non_streamed_answer_is_restored(cloud, make_repo, env):
    root = make_repo(policy_toml(cloud.base_url))
    escalator = Escalator(root, env=env)
    preview = escalator.preview(request(), stream=False)
    cloud.answer_chunks = ["Rotate KURA_SECRET_2 now."]

    result = escalator.send(preview, approved=True)

    assert json.loads(cloud.received[0].split(b"\r\n\r\n", 1)[1])["stream"] is False
    assert result.text == "Rotate ghp_R4nd0mT0k3nV4lu3Abcdefghijklmnopqrstuv now."


def test_the_exact_previewed_bytes_are_what_is_sent(cloud, make_repo, env):
    root = make_repo(policy_toml(cloud.base_url))
    escalator = Escalator(root, env=env)
    preview = escalator.preview(request())

    escalator.send(preview, approved=True)

    assert cloud.received[0].split(b"\r\n\r\n", 1)[1] == preview.body


def test_broken_policy_sends_nothing(cloud, make_repo, env):
    root = make_repo(policy_toml(cloud.base_url) + "\nsurprise = true\n")
    escalator = Escalator(root, env=env)

    preview = escalator.preview(request())
    result = escalator.send(preview, approved=True)

    assert result.outcome == "blocked" and "unknown key 'surprise'" in result.reason
    assert preview.body == b"" and cloud.received == []


def test_deny_sends_nothing(cloud, make_repo, env):
    root = make_repo(policy_toml(cloud.base_url, approval="deny"))
    escalator = Escalator(root, env=env)

    result = escalator.send(escalator.preview(request()), approved=True)

    assert result.outcome == "blocked" and cloud.received == []


def test_prompt_approval_without_consent_sends_nothing(cloud, make_repo, env):
    root = make_repo(policy_toml(cloud.base_url, approval="prompt"))
    escalator = Escalator(root, env=env)
    preview = escalator.preview(request())

    result = escalator.send(preview, approved=False)

    assert preview.needs_approval and result.outcome == "cancelled" and cloud.received == []


def test_a_blocking_rule_hit_sends_nothing(cloud, make_repo, env):
    extra = '[redaction.actions]\nprivate-key = "block"\n'
    root = make_repo(policy_toml(cloud.base_url, extra=extra))
    escalator = Escalator(root, env=env)
    text = 'KEY = """-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----"""\n'

    preview = escalator.preview(request(text))
    result = escalator.send(preview, approved=True)

    assert preview.blocked and "private-key" in preview.decision.reason
    assert result.outcome == "blocked" and cloud.received == []
    assert "MIIEowIBAAKCAQEA7" not in preview.body.decode()


def test_api_key_is_sent_only_as_the_bearer_header_and_never_audited(cloud, make_repo, env):
    root = make_repo(policy_toml(cloud.base_url))
    escalator = Escalator(root, env=env)

    escalator.send(escalator.preview(request()), approved=True)

    assert cloud.received[0].count(API_KEY.encode()) == 1
    assert f"Authorization: Bearer {API_KEY}".encode() in cloud.received[0]
    log_text = (root / "audit" / "audit.jsonl").read_text()
    assert API_KEY not in log_text


def test_server_errors_are_retried_then_reported_without_the_key(cloud, make_repo, env):
    root = make_repo(policy_toml(cloud.base_url))
    escalator = Escalator(root, env=env)
    cloud.fail_statuses = [503, 503, 503]

    result = escalator.send(escalator.preview(request()), approved=True)

    assert result.outcome == "failed" and "503" in result.reason and API_KEY not in result.reason
    assert len(cloud.received) == 3  # the first try and max_retries = 2


def test_a_transient_error_is_retried_and_succeeds(cloud, make_repo, env):
    root = make_repo(policy_toml(cloud.base_url))
    escalator = Escalator(root, env=env)
    cloud.fail_statuses = [429]

    result = escalator.send(escalator.preview(request()), approved=True)

    assert result.ok and len(cloud.received) == 2


def test_missing_api_key_env_sends_nothing_and_names_the_variable(cloud, make_repo):
    root = make_repo(policy_toml(cloud.base_url))
    escalator = Escalator(root, env={})

    result = escalator.send(escalator.preview(request()), approved=True)

    assert result.outcome == "failed" and "KURA_TEST_CLOUD_KEY" in result.reason and cloud.received == []


def test_every_attempt_is_audited_with_a_verifying_chain_and_no_originals(cloud, make_repo, env):
    root = make_repo(policy_toml(cloud.base_url))
    escalator = Escalator(root, env=env)
    escalator.send(escalator.preview(request()), approved=True)
    escalator.send(escalator.preview(request("x=1\n", path=".env")), approved=True)

    entries = escalator.audit.entries()

    assert [e["decision"] for e in entries] == ["sent", "blocked"]
    assert verify(root / "audit" / "audit.jsonl").ok
    log_text = (root / "audit" / "audit.jsonl").read_text()
    for value in SECRETS + ["db01.corp.acme.io", "jane.doe@acme.io", "Project Falcon"]:
        assert value not in log_text
    assert entries[0]["payload"] == cloud.received[0].split(b"\r\n\r\n", 1)[1].decode()
    assert {h["rule"] for h in entries[0]["hits"]} >= {"github-token", "db-url-password", "email", "term"}


def test_requests_per_hour_limit_blocks_further_sends(cloud, make_repo, env):
    root = make_repo(policy_toml(cloud.base_url).replace("requests_per_hour = 100", "requests_per_hour = 1"))
    escalator = Escalator(root, env=env)
    escalator.send(escalator.preview(request()), approved=True)

    second = escalator.send(escalator.preview(request()), approved=True)

    assert second.outcome == "blocked" and "requests in the last hour" in second.reason
    assert len(cloud.received) == 1

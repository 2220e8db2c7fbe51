"""Shared test data for the policy tests: the API key used on loopback, a policy file text, and what
an explanation of a selection would send."""

from __future__ import annotations

from assistant.escalation.escalator import build_preview
from assistant.escalation.policy.decide import ContextPiece, EscalationRequest

API_KEY_ENV = "KURA_TEST_CLOUD_KEY"
API_KEY = "sk-test-loopback-key-0123456789abcdef"



def policy_toml(base_url: str = "http://127.0.0.1:9/v1", *, approval: str = "auto", extra: str = "",
                audit: str = "audit/audit.jsonl") -> str:
    return f'''version = 1

[provider]
base_url = "{base_url}"
model = "test-model"
api_key_env = "{API_KEY_ENV}"
timeout_seconds = 5
max_retries = 2

[tasks]
explain = "{approval}"
fix = "{approval}"

[paths]
confidential = [".env*", "*.pem", "secrets/**", "internal/billing/**"]
allow = ["**"]

[redaction]
secrets = "redact"
emails = true
private_ips = true
internal_domains = ["corp.acme.io", "acme.internal"]
terms = ["Acme", "Project Falcon"]
identifier_patterns = ["acmelib_[a-z_]+"]
{extra}
[limits]
max_chars = 20000
max_lines = 600
requests_per_hour = 100

[audit]
path = "{audit}"
'''


def preview_of(policy, path: str, text: str):
    """The preview of explaining `text`, selected in src/`path`."""
    return build_preview(EscalationRequest("explain", ContextPiece(f"src/{path}", text, "selection")), policy)


def sent_by(policy, path: str, text: str) -> str:
    """What that explanation would send of the selection ("" when blocked)."""
    preview = preview_of(policy, path, text)
    return "" if preview.blocked else preview.messages[1]["content"]


def assert_sent_unchanged(policy, path: str, text: str) -> None:
    """The explanation sends `text` as it is: nothing redacted or replaced."""
    sent = sent_by(policy, path, text)
    assert text in sent and "KURA_" not in sent

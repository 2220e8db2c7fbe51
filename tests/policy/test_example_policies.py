"""The example policies in docs/policies/ load with the real loader and mean what docs/rollout.md says.

Each file must load without errors (an error would make it silently local-only), and each one is
checked for the properties its comments and the rollout guide promise, through the real loader,
merge, path classification and sanitizer.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from assistant.escalation.escalator import build_preview
from assistant.escalation.policy.decide import ContextPiece, EscalationRequest
from assistant.escalation.policy.load import load_policy_file, merge
from assistant.escalation.policy.model import TASKS, Policy
from assistant.escalation.policy.paths import classify

POLICIES = Path(__file__).resolve().parents[2] / "docs" / "policies"
DOCUMENTED = {
    "local-only.toml",
    "pilot-explain-only.toml",
    "strict-finance.toml",
    "org-baseline.toml",
    "pilot-usage-logging.toml",
}
REPO_EXAMPLES = ("local-only.toml", "pilot-explain-only.toml", "strict-finance.toml", "pilot-usage-logging.toml")
AWS_KEY_LINE = 'aws_key_id = "AKIAABCDEFGHIJKLMNOP"\n'


def load(name: str, layer: str = "repo") -> Policy:
    policy = load_policy_file(POLICIES / name, layer)
    assert not policy.errors, "\n".join(str(e) for e in policy.errors)
    return policy


def preview(policy: Policy, path: str, text: str, task: str = "explain"):
    return build_preview(EscalationRequest(task, ContextPiece(path, text, "selection")), policy)


def test_every_documented_example_exists_and_every_example_is_documented():
    assert {p.name for p in POLICIES.glob("*.toml")} == DOCUMENTED
    for doc in ("rollout.md", "rollout.ja.md"):
        text = (POLICIES.parent / doc).read_text(encoding="utf-8")
        missing = [name for name in DOCUMENTED if f"policies/{name}" not in text]
        assert not missing, f"docs/{doc} does not link {missing}"


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_example_loads_without_errors(name):
    policy = load(name, "org" if name.startswith("org-") else "repo")
    assert not policy.local_only and policy.sources[0].sha256


def test_local_only_lets_no_task_and_no_path_escalate():
    policy = load("local-only.toml")
    assert policy.provider is None
    assert {task: policy.approval_for(task) for task in TASKS} == {task: "deny" for task in TASKS}
    assert not classify(policy, "src/app.py").may_leave
    for task in TASKS:
        assert preview(policy, "src/app.py", "def f():\n    return 1\n", task).blocked


def test_pilot_explain_only_prompts_for_explain_and_keeps_everything_else_local():
    policy = load("pilot-explain-only.toml")
    assert policy.provider is not None
    assert policy.approval_for("explain") == "prompt"
    assert [t for t in TASKS if policy.approval_for(t) != "deny"] == ["explain"]
    assert classify(policy, "config/production/db.yml").confidential
    assert classify(policy, "src/billing/invoice.py").confidential
    assert classify(policy, ".env.local").confidential
    assert not classify(policy, "scripts/deploy.sh").may_leave  # outside the allow-list
    assert classify(policy, "src/app/main.py").may_leave

    shown = preview(policy, "src/app/main.py", 'URL = "https://db.corp.example.com/orders"  # Project Falcon\n')
    assert shown.needs_approval and not shown.blocked
    assert b"corp.example.com" not in shown.body and b"Project Falcon" not in shown.body
    assert preview(policy, "src/billing/invoice.py", "x = 1\n").blocked
    assert preview(policy, "src/app/main.py", "x = 1\n", "fix").blocked


def test_strict_finance_blocks_secrets_strips_comments_and_has_tight_limits():
    policy = load("strict-finance.toml")
    assert policy.redaction.secrets == "block"
    assert policy.redaction.strip_comments
    assert policy.redaction.identifier_patterns
    assert policy.limits.max_chars <= 4000 and policy.limits.max_lines <= 120 and policy.limits.requests_per_hour <= 10
    assert [t for t in TASKS if policy.approval_for(t) != "deny"] == ["explain"]
    assert policy.approval_for("explain") == "prompt"

    assert preview(policy, "src/pay.py", AWS_KEY_LINE).blocked  # a redacted secret would still be sent elsewhere
    assert preview(policy, "src/pay.py", 'transfer("001-1234567")\n').blocked  # the account-number rule
    clean = preview(policy, "src/pay.py", "def total(xs):\n    # Example Bank rounding rule\n    return exb_round(sum(xs))\n")
    assert not clean.blocked
    assert b"rounding rule" not in clean.body and b"exb_round" not in clean.body
    assert classify(policy, "src/rules/fees.py").confidential and classify(policy, "db/seed.sql").confidential
    assert preview(policy, "src/pay.py", "x = 1\n" * (policy.limits.max_lines + 1)).blocked


def test_org_baseline_is_a_ceiling_that_repositories_cannot_loosen():
    org = load("org-baseline.toml", "org")
    assert org.provider is not None and org.audit_path
    assert org.approval_for("complete") == "deny" and org.approval_for("chat") == "deny"
    assert dict(org.redaction.actions)["private-key"] == "block"

    loose = load("pilot-explain-only.toml")
    merged = merge(org, loose)
    assert not merged.errors
    assert merged.provider == org.provider and merged.audit_path == org.audit_path
    assert merged.approval_for("explain") == "prompt" and merged.approval_for("fix") == "deny"
    assert classify(merged, "data/users.sqlite").confidential  # from the org
    assert classify(merged, "src/billing/invoice.py").confidential  # from the repository
    assert merged.limits.max_chars == min(org.limits.max_chars, loose.limits.max_chars)

    for name in REPO_EXAMPLES:
        combined = merge(org, load(name))
        assert not combined.errors, name
        for task in TASKS:
            assert combined.approval_for(task) in ("deny", "prompt"), (name, task)  # never "auto"
        assert preview(combined, "src/app.py", "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n").blocked
        assert not combined.store_usage_code, name  # the baseline keeps code text out of usage logs


def test_pilot_usage_logging_stores_code_and_is_otherwise_the_explain_only_pilot():
    policy = load("pilot-usage-logging.toml")
    assert policy.store_usage_code is True
    assert [t for t in TASKS if policy.approval_for(t) != "deny"] == ["explain"]
    assert policy.approval_for("explain") == "prompt"
    assert classify(policy, "src/billing/invoice.py").confidential
    for name in DOCUMENTED - {"pilot-usage-logging.toml"}:
        assert not load(name, "org" if name.startswith("org-") else "repo").store_usage_code, name

    # Both layers must allow it: an org policy that allows it for the pilot machines.
    org = load("org-baseline.toml", "org")
    assert merge(replace(org, store_usage_code=True), policy).store_usage_code
    assert not merge(org, policy).store_usage_code

"""The policy file: fail closed with file, line and problem; stricter wins when org and repo merge."""

from __future__ import annotations

import os

import pytest

from assistant.escalation.policy.load import load_policy, load_policy_file, merge
from assistant.escalation.policy.starter import STARTER_POLICY
from policy_fixtures import policy_toml


def errors_of(tmp_path, text: str):
    path = tmp_path / "policy.toml"
    path.write_text(text)
    policy = load_policy_file(path)
    assert policy.local_only
    return [str(e) for e in policy.errors], str(path)


def test_the_starter_policy_is_valid_and_escalates_nothing_without_a_provider(tmp_path):
    (tmp_path / "p.toml").write_text(STARTER_POLICY)
    policy = load_policy_file(tmp_path / "p.toml")
    assert not policy.errors
    assert policy.provider is None and policy.approval_for("explain") == "prompt" and policy.approval_for("chat") == "deny"


def test_missing_repo_policy_is_local_only_and_names_the_file(tmp_path):
    policy = load_policy(tmp_path, env={})
    assert policy.local_only and str(tmp_path / ".kura/policy.toml") in str(policy.errors[0])
    assert "not found" in str(policy.errors[0])


def test_invalid_toml_names_file_and_line(tmp_path):
    errors, path = errors_of(tmp_path, 'version = 1\n[tasks]\nexplain = "prompt\n')
    assert errors[0].startswith(f"{path}:3: invalid TOML")


def test_unknown_version_names_the_line(tmp_path):
    errors, path = errors_of(tmp_path, "# hi\nversion = 2\n")
    assert errors == [f"{path}:2: unknown policy version 2 (this kura understands version = 1)"]


def test_missing_version_is_an_error(tmp_path):
    errors, _ = errors_of(tmp_path, '[tasks]\nexplain = "auto"\n')
    assert "missing 'version'" in errors[0]


@pytest.mark.parametrize(
    "snippet, line, problem",
    [
        ('[paths]\nconfidental = ["*.pem"]\n', 3, "unknown key 'confidental' in [paths]"),
        ('[providr]\nmodel = "x"\n', 2, "unknown key 'providr'"),
        ('[tasks]\nexplain = "sometimes"\n', 3, "'tasks.explain' must be one of auto, prompt, deny"),
        ('[tasks]\nrefactor = "auto"\n', 3, "unknown key 'refactor' in [tasks]"),
        ('[redaction]\nidentifier_patterns = ["acme_(["]\n', 3, "does not compile"),
        ('[redaction]\nterms = "Acme"\n', 3, "'redaction.terms' must be a list of strings"),
        ('[limits]\nmax_chars = -5\n', 3, "'limits.max_chars' must be a positive integer"),
        ('[redaction.actions]\nno-such-rule = "block"\n', 3, "unknown rule id 'no-such-rule'"),
        ('[redaction]\nsecrets = "ignore"\n', 3, "'redaction.secrets' must be one of redact, block"),
        ('[provider]\nbase_url = "https://x/v1"\nmodel = "m"\napi_key_env = "sk-live-123"\n', 5, "*name* of an environment variable"),
        ('[provider]\nbase_url = "https://x/v1"\n', 2, "[provider] is missing 'model'"),
    ],
)
def test_each_fail_closed_case_names_file_line_and_problem(tmp_path, snippet, line, problem):
    errors, path = errors_of(tmp_path, "version = 1\n" + snippet)
    assert any(e.startswith(f"{path}:{line}: ") and problem in e for e in errors), errors


def test_a_bad_regex_in_a_rule_array_names_its_line(tmp_path):
    text = 'version = 1\n[[redaction.rules]]\nid = "ok"\npattern = "OK-[0-9]+"\n\n[[redaction.rules]]\nid = "bad"\npattern = "BAD-[0-9"\n'
    errors, path = errors_of(tmp_path, text)
    assert errors == [f"{path}:8: rule 'bad': regex 'BAD-[0-9' does not compile: unterminated character set at position 4"]


def test_an_unreadable_policy_is_local_only(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text("version = 1\n")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as a user who can read anything")
        policy = load_policy_file(path)
        assert policy.local_only and "cannot read" in str(policy.errors[0])
    finally:
        path.chmod(0o600)


def test_a_named_org_policy_that_is_missing_fails_closed(tmp_path):
    (tmp_path / ".kura").mkdir()
    (tmp_path / ".kura/policy.toml").write_text(policy_toml())
    policy = load_policy(tmp_path, env={"KURA_ORG_POLICY": str(tmp_path / "org.toml")})
    assert policy.local_only and "org.toml" in str(policy.errors[0])


def test_a_broken_org_policy_makes_everything_local_only(tmp_path):
    (tmp_path / ".kura").mkdir()
    (tmp_path / ".kura/policy.toml").write_text(policy_toml())
    (tmp_path / "org.toml").write_text("version = 1\n[tasks]\nexplain = 3\n")
    policy = load_policy(tmp_path, env={"KURA_ORG_POLICY": str(tmp_path / "org.toml")})
    assert policy.local_only and f"{tmp_path / 'org.toml'}:3:" in str(policy.errors[0])


def _layer(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    policy = load_policy_file(tmp_path / name, "org" if name.startswith("org") else "repo")
    assert not policy.errors, policy.errors
    return policy


def test_stricter_rule_wins_everywhere_and_the_repo_cannot_loosen_the_org(tmp_path):
    org = _layer(tmp_path, "org.toml", '''version = 1
[provider]
base_url = "https://llm.example.com/v1"
model = "org-model"
api_key_env = "ORG_KEY"
[tasks]
explain = "prompt"
fix = "auto"
chat = "auto"
[paths]
confidential = ["*.pem"]
allow = ["src/**"]
[redaction]
secrets = "block"
emails = false
terms = ["Acme"]
[limits]
max_chars = 1000
requests_per_hour = 50
''')
    repo = _layer(tmp_path, "repo.toml", '''version = 1
[provider]
base_url = "https://elsewhere.example.net/v1"
model = "repo-model"
api_key_env = "REPO_KEY"
[tasks]
explain = "auto"
fix = "deny"
complete = "auto"
[paths]
confidential = ["secrets/**"]
allow = ["**"]
[redaction]
secrets = "redact"
emails = true
terms = ["Falcon"]
strip_comments = true
[limits]
max_chars = 5000
requests_per_hour = 10
''')
    policy = merge(org, repo)
    assert policy.provider.base_url == "https://llm.example.com/v1" and policy.provider.api_key_env == "ORG_KEY"
    assert dict(policy.tasks) == {"explain": "prompt", "fix": "deny"}  # chat/complete: only one layer allows
    assert set(policy.confidential) == {"*.pem", "secrets/**"}
    assert policy.allow == (("src/**",), ("**",))
    assert policy.redaction.secrets == "block" and policy.redaction.emails and policy.redaction.strip_comments
    assert set(policy.redaction.terms) == {"Acme", "Falcon"}
    assert (policy.limits.max_chars, policy.limits.requests_per_hour) == (1000, 10)
    assert [s.layer for s in policy.sources] == ["org", "repo"]

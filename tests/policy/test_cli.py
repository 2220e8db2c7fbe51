"""The `kura policy|sanitize|audit` commands, run as a user would: a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from policy_fixtures import policy_toml

MAIN = Path(__file__).resolve().parents[2]


def kura(*args, cwd, stdin=None, env=None):
    full_env = {**os.environ, "PYTHONPATH": str(MAIN), **(env or {})}
    full_env.pop("KURA_ORG_POLICY", None)
    return subprocess.run([sys.executable, "-m", "lsp_server.cli", *args], cwd=cwd, input=stdin, capture_output=True,
                          text=True, env=full_env, timeout=60)


def test_policy_init_writes_a_valid_starter_and_check_explains_a_path(tmp_path):
    assert kura("policy", "init", str(tmp_path), cwd=tmp_path).returncode == 0
    assert (tmp_path / ".kura/policy.toml").exists()
    assert kura("policy", "init", str(tmp_path), cwd=tmp_path).returncode == 2  # no silent overwrite

    check = kura("policy", "check", "--root", str(tmp_path), "--path", "deploy/.env.prod", cwd=tmp_path)

    assert check.returncode == 0
    assert "deploy/.env.prod: confidential (confidential: matches '.env*')" in check.stdout


def test_sanitize_prints_the_exact_payload_and_exits_0(tmp_path):
    (tmp_path / ".kura").mkdir()
    (tmp_path / ".kura/policy.toml").write_text(policy_toml())
    (tmp_path / "app.py").write_text('TOKEN = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"\nHOST = "api.corp.acme.io"\n')

    result = kura("sanitize", "--root", str(tmp_path), str(tmp_path / "app.py"), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert "ghp_abcdefghijklmnopqrstuvwxyz0123456789" not in result.stdout and "corp.acme.io" not in result.stdout
    assert "KURA_SECRET_1" in body["messages"][1]["content"] and "github-token" in result.stderr


def test_sanitize_refuses_a_confidential_path_with_exit_3(tmp_path):
    (tmp_path / ".kura").mkdir()
    (tmp_path / ".kura/policy.toml").write_text(policy_toml())

    result = kura("sanitize", "--root", str(tmp_path), "--path", "secrets/db.py", "-", cwd=tmp_path, stdin="x = 1\n")

    assert result.returncode == 3 and result.stdout == "" and "confidential" in result.stderr


def test_sanitize_with_a_broken_policy_exits_2_naming_file_and_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('version = 1\n[tasks]\nexplain = "always"\n')

    result = kura("sanitize", "--policy", str(bad), "--path", "a.py", "-", cwd=tmp_path, stdin="x = 1\n")

    assert result.returncode == 2 and f"{bad}:3:" in result.stderr and result.stdout == ""


def test_sanitize_jsonl_writes_one_result_per_line(tmp_path):
    (tmp_path / ".kura").mkdir()
    (tmp_path / ".kura/policy.toml").write_text(policy_toml())
    lines = [{"path": "a.py", "text": "x = 1\n"}, {"path": ".env", "text": "A=1\n"},
             {"path": "b.js", "text": "const password = 'S3cure!pass';\n"}]

    result = kura("sanitize", "--root", str(tmp_path), "--jsonl", cwd=tmp_path, stdin="".join(json.dumps(x) + "\n" for x in lines))

    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["decision"] for o in out] == ["send", "block", "send"] and result.returncode == 3
    assert out[0]["payload"] == "x = 1\n" and out[1]["payload"] is None
    assert out[2]["payload"] == "const password = 'KURA_SECRET_1';\n" and out[2]["hits"][0]["rule"] == "credential-assignment"


def test_audit_verify_and_show(tmp_path):
    from assistant.escalation.policy.audit import AuditLog

    log = AuditLog(tmp_path / "audit.jsonl")
    log.append({"task": "explain", "decision": "sent", "files": [{"path": "a.py", "range": [1, 3]}], "hits": [], "reason": "ok"})
    log.append({"task": "fix", "decision": "blocked", "files": [], "hits": [{"rule": "private-key", "count": 1}], "reason": "no"})

    assert kura("audit", "verify", "--log", str(log.path), cwd=tmp_path).returncode == 0
    shown = kura("audit", "show", "--log", str(log.path), cwd=tmp_path)
    assert "#1" in shown.stdout and "a.py:1-3" in shown.stdout and "private-key×1" in shown.stdout

    log.path.write_text(log.path.read_text().replace('"fix"', '"chat"'))
    failed = kura("audit", "verify", "--log", str(log.path), cwd=tmp_path)
    assert failed.returncode == 3 and "entry hash does not match" in failed.stderr

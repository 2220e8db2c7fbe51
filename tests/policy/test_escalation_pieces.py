"""Every piece of an escalation goes through the same sanitizer: code, paths, symbol names, questions;
the final check is per piece under its own path, plus the glue between pieces."""

from __future__ import annotations

from pathlib import Path

from assistant.escalation.escalator import Escalator, build_preview
from assistant.escalation.policy.decide import ContextPiece, EscalationRequest
from assistant.escalation.policy.load import load_policy_file
from assistant.escalation.policy.names import Placeholders
from assistant.escalation.policy.sanitize import changed_lines, sanitizer_for
from policy_fixtures import policy_toml

CORPUS = Path(__file__).parent / "corpus"
TOKEN = "ghp_S9mb0lN4m3T0k3nAbcdefghijklmnopqrstuv"
STRIPE = "sk_live_4eC39HqLyjWDarjtT1zdp7dcQ9x"


def policy(tmp_path):
    (tmp_path / "policy.toml").write_text(policy_toml())
    return load_policy_file(tmp_path / "policy.toml")


def selection(text="def add(a, b):\n    return a + b\n", path="src/app.py"):
    return ContextPiece(path, text, "selection", 1, text.count("\n"))


def test_a_secret_in_a_symbol_name_never_arrives(cloud, make_repo, env):
    root = make_repo(policy_toml(cloud.base_url))
    escalator = Escalator(root, env=env)
    context = (ContextPiece("src/keys.py", "def f():\n    return 1\n", "definition", 1, 2, symbol=f"{TOKEN}_getter"),
               ContextPiece("src/ledger.py", "def g():\n    return 2\n", "definition", 1, 2, symbol="acmelib_ledger_client"))

    preview = escalator.preview(EscalationRequest("explain", selection(), context))
    result = escalator.send(preview, approved=True)

    assert result.ok, result.reason
    received = cloud.all_bytes.decode()
    assert TOKEN not in received and "acmelib_ledger_client" not in received
    assert "[definition of KURA_" in received
    assert {f.piece for f in preview.findings} >= {"symbol"}


def test_a_secret_in_a_context_piece_never_arrives(cloud, make_repo, env):
    root = make_repo(policy_toml(cloud.base_url))
    escalator = Escalator(root, env=env)
    context = (ContextPiece("src/billing.py", f'STRIPE_KEY = "{STRIPE}"\npassword = "Zq7!rTp9x"\n', "context", 4, 5),)

    result = escalator.send(escalator.preview(EscalationRequest("explain", selection(), context)), approved=True)

    assert result.ok, result.reason
    received = cloud.all_bytes.decode()
    assert STRIPE not in received and "Zq7!rTp9x" not in received
    assert "def add(a, b)" in received


def test_each_piece_is_judged_under_its_own_path(tmp_path):
    # Unquoted `password = value` is a secret in a config file but an expression in Python code; a
    # Python selection next to a YAML piece must not be judged by the YAML rules (nor the reverse).
    code = "def login(user, password):\n    password = derive_key(user)\n    return password\n"
    config = ContextPiece("deploy/app.yaml", "db:\n  password: hunter2x9\n", "context", 1, 2)

    preview = build_preview(EscalationRequest("explain", selection(code), (config,)), policy(tmp_path))

    assert not preview.blocked, preview.summary()
    assert preview.sanitized[0] == code and "hunter2x9" not in preview.sanitized[1]
    assert not [f for f in preview.findings if f.piece == "payload"]


def test_the_payload_is_the_sanitized_pieces_in_kuras_glue(tmp_path):
    context = (ContextPiece("src/keys.py", f'KEY = "{STRIPE}"\n', "definition", 1, 1, symbol="KEY"),)

    preview = build_preview(EscalationRequest("explain", selection(), context, "What does KEY do?"), policy(tmp_path))

    user = preview.messages[1]["content"]
    assert all(f"```\n{text}\n```" in user for text in preview.sanitized)
    assert STRIPE not in user and "What does KEY do?" in user


def test_the_rescan_near_changes_finds_what_a_full_rescan_finds(tmp_path):
    # The residual check rescans only lines near a replacement; on every corpus file it must agree
    # with rescanning the whole sanitized text.
    sanitizer = sanitizer_for(policy(tmp_path).redaction)
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix != ".json" and p.name != "make_corpus.py")
    assert len(files) > 50
    for file in files:
        text = file.read_text(encoding="utf-8", errors="replace")
        path = str(file.relative_to(CORPUS))
        clean = sanitizer.sanitize(text, Placeholders(), path, residual=False).text
        near = {(h.rule_id, h.start, h.end) for h in sanitizer.residual_near(clean, path, changed_lines(text, clean))}
        full = {(h.rule_id, h.start, h.end) for h in sanitizer.residual(clean, path)}
        assert near == full, path

"""decide(): tasks, approvals, confidential and allow-listed paths, limits — a pure function."""

from __future__ import annotations

from dataclasses import replace

from assistant.escalation.policy.decide import ContextPiece, EscalationRequest, decide
from assistant.escalation.policy.model import Limits, Policy, PolicyError, Provider
from assistant.escalation.policy.paths import classify

PROVIDER = Provider("https://llm.example.com/v1", "m", "KEY")
POLICY = Policy(provider=PROVIDER, tasks=(("explain", "prompt"), ("fix", "auto")),
                confidential=(".env*", "*.pem", "secrets/**", "config/prod/*.yaml"), allow=(("src/**", "lib/**"),))


def req(path="src/a.py", task="explain", context=(), text="x = 1"):
    return EscalationRequest(task, ContextPiece(path, text, "selection"), tuple(context))


def test_allowed_task_and_path_prompts_or_sends_by_approval():
    assert decide(req(), POLICY).action == "prompt"
    assert decide(req(task="fix"), POLICY).action == "send"


def test_a_task_the_policy_does_not_list_is_blocked():
    assert decide(req(task="chat"), POLICY).blocked


def test_confidential_paths_match_gitignore_style_anywhere_in_the_tree():
    for path in (".env", "src/.env.local", "src/certs/server.pem", "secrets/a/b.txt", "config/prod/db.yaml", "SRC/KEY.PEM"):
        assert classify(POLICY, path).confidential, path
    assert not classify(POLICY, "src/app.py").confidential


def test_paths_escaping_the_repository_never_leave():
    for path in ("/etc/passwd", "../other/x.py", "src/../../x.py", "", None, "C:/x.py"):
        assert not classify(POLICY, path).may_leave


def test_a_path_outside_the_allow_list_is_blocked_and_an_empty_allow_list_allows_nothing():
    assert "not allowed" in decide(req("docs/a.md"), POLICY).reason
    assert decide(req(), replace(POLICY, allow=((),))).blocked


def test_context_from_confidential_or_unlisted_files_is_dropped_not_sent():
    context = [ContextPiece("secrets/k.py", "K=1", "definition", symbol="K"), ContextPiece("docs/x.md", "doc", "doc"),
               ContextPiece("lib/ok.py", "ok", "definition")]
    decision = decide(req(context=context), POLICY)
    assert [p.path for p in decision.pieces] == ["src/a.py", "lib/ok.py"]
    assert [d.path for d in decision.dropped] == ["secrets/k.py", "docs/x.md"]


def test_limits_block_oversized_requests_and_too_many_per_hour():
    small = replace(POLICY, limits=Limits(max_chars=10, max_lines=2, requests_per_hour=3))
    assert "characters" in decide(req(text="y" * 11), small).reason
    assert "lines" in decide(req(text="a\nb\nc"), small).reason
    assert "last hour" in decide(req(), small, requests_last_hour=3).reason


def test_a_policy_with_errors_blocks_everything():
    broken = Policy.fail_closed([PolicyError("/r/.kura/policy.toml", 3, "bad")])
    decision = decide(req(), broken)
    assert decision.blocked and "/r/.kura/policy.toml:3: bad" in decision.reason

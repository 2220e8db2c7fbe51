"""Property: random secrets planted in random code never reach the cloud."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.escalation.escalator import Escalator, build_preview
from assistant.escalation.policy.decide import ContextPiece, EscalationRequest
from assistant.escalation.policy.load import load_policy_file
from policy_fixtures import policy_toml
from plants import KINDS, LANGS, plant, random_code

SUFFIX = {"python": "py", "javascript": "js", "go": "go", "java": "java", "ruby": "rb", "csharp": "cs", "php": "php",
          "yaml": "yaml", "env": "env.example", "json": "json", "shell": "sh", "terraform": "tf"}


def planted_file(seed: int, count: int):
    rng = random.Random(seed)
    lang = rng.choice(LANGS)
    lines = random_code(rng, rng.randint(0, 40))
    secrets = []
    for _ in range(count):
        code, value = plant(rng, rng.choice(sorted(KINDS)), lang)
        lines.insert(rng.randint(0, len(lines)), code)
        secrets.append(value)
    return f"src/mod.{SUFFIX[lang]}", "\n".join(lines) + "\n", secrets


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**32), st.integers(min_value=1, max_value=4))
def test_no_planted_secret_survives_sanitization(tmp_path_factory, seed, count):
    policy = _policy(tmp_path_factory)
    path, text, secrets = planted_file(seed, count)
    preview = build_preview(EscalationRequest("explain", ContextPiece(path, text, "selection")), policy)
    body = preview.body.decode()
    for secret in secrets:
        assert secret not in body


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=0, max_value=2**32))
def test_no_planted_secret_reaches_the_loopback_server(cloud, make_repo, env, seed):
    root = make_repo(policy_toml(cloud.base_url))
    path, text, secrets = planted_file(seed, 3)
    escalator = Escalator(root, env=env)
    escalator.send(escalator.preview(EscalationRequest("fix", ContextPiece(path, text, "selection"))), approved=True)
    received = cloud.all_bytes.decode()
    for secret in secrets:
        assert secret not in received


_CACHE = {}


def _policy(factory):
    if "p" not in _CACHE:
        path = factory.mktemp("pol") / "policy.toml"
        path.write_text(policy_toml())
        _CACHE["p"] = load_policy_file(path)
    return _CACHE["p"]

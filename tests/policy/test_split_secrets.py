"""Secrets written in pieces or escaped never leave: concatenated literals, URL escapes, XML entities.
The measurement over the tuning half's tokens lives in benchmarks/secrets_split.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.escalation.policy.load import load_policy_file
from assistant.escalation.policy.names import Placeholders
from assistant.escalation.policy.sanitize import sanitizer_for
from assistant.escalation.policy.secrets import describe
from policy_fixtures import policy_toml

STRIPE = "sk_live_4eC39HqLyjWDarjtT1zdp7dcQ9x"
GITHUB = "ghp_R4nd0mT0k3nV4lu3Abcdefghijklmnopqrstuv"


@pytest.fixture(scope="module")
def sanitizer(tmp_path_factory):
    path = tmp_path_factory.mktemp("policy") / "policy.toml"
    path.write_text(policy_toml())
    return sanitizer_for(load_policy_file(path).redaction)


@pytest.mark.parametrize(("path", "text", "pieces", "rule"), [
    ("src/pay.py", f'STRIPE = "{STRIPE[:3]}" + "{STRIPE[3:]}"\n', (STRIPE[:3], STRIPE[3:]), "concatenated-literal"),
    ("src/gh.py", f'TOKEN = (\n    "{GITHUB[:20]}"\n    "{GITHUB[20:]}"\n)\n', (GITHUB[:20], GITHUB[20:]), "concatenated-literal"),
    ("pay.lua", f'local key = "{STRIPE[:12]}" .. "{STRIPE[12:]}"\n', (STRIPE[:12], STRIPE[12:]), "concatenated-literal"),
    ("src/url.js", "const u = 'https://api.example.com/v1?key=" + "".join(f"%{ord(c):02X}" for c in GITHUB) + "';\n",
     ("".join(f"%{ord(c):02X}" for c in GITHUB),), "url-encoded"),
    ("web.config", '<add key="DbPassword" value="Tr0ub&amp;dor9x" />\n', ("Tr0ub&amp;dor9x",), "xml-escaped"),
])
def test_a_split_or_escaped_secret_never_leaves_and_says_how_it_was_written(sanitizer, path, text, pieces, rule):
    result = sanitizer.sanitize(text, Placeholders(), path)

    assert not all(piece in result.text for piece in pieces), result.text
    assert rule in {r for f in result.findings for r in f.rule_ids}
    assert "KURA_SECRET_1" in result.text and not result.blocking
    assert describe(rule) != "policy rule"


@pytest.mark.parametrize("text", [
    'query = "SELECT name " + "FROM users " + "WHERE id = ?"\n',
    'message = "Hello, " + name + "!"\n',
    'url = "https://example.com/search?q=hello%20world&lang=en"\n',
    '<p>Fish &amp; chips cost &lt; 10 &euro;</p>\n',
    'path = os.path.join("src", "assistant", "policy")\n',
])
def test_ordinary_concatenation_and_escapes_are_left_alone(sanitizer, text):
    assert sanitizer.sanitize(text, Placeholders(), "src/app.py").text == text

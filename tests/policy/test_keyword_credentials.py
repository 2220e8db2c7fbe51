"""Keyword-named credentials in code: a literal compared with a credential-named variable through an
equality call, and a letters-only key under a credential name. All values are written for this test."""

from __future__ import annotations

import pytest

from assistant.escalation.escalator import build_preview
from assistant.escalation.policy.decide import ContextPiece, EscalationRequest
from assistant.escalation.policy.load import load_policy_file
from assistant.escalation.policy.secrets import describe
from assistant.escalation.policy.starter import STARTER_POLICY


@pytest.fixture(scope="module")
def starter(tmp_path_factory):
    text = STARTER_POLICY.replace("# [provider]", "[provider]").replace('# base_url = "https', 'base_url = "https')
    text = text.replace('# model = "gpt-4o"', 'model = "gpt-4o"').replace("# api_key_env =", "api_key_env =")
    path = tmp_path_factory.mktemp("starter") / "policy.toml"
    path.write_text(text)
    policy = load_policy_file(path)
    assert not policy.errors
    return policy


def _preview(policy, path: str, text: str):
    return build_preview(EscalationRequest("explain", ContextPiece(f"src/{path}", text, "selection")), policy)


def _sent(policy, path: str, text: str) -> str:
    preview = _preview(policy, path, text)
    return "" if preview.blocked else preview.messages[1]["content"]


def _rules(policy, path: str, text: str) -> set[str]:
    return {r for f in _preview(policy, path, text).findings for r in f.finding.rule_ids}


EQUALITY_CALLS = [
    ("Login.java", 'if (adminPassword.equals("{v}")) {{ grant(); }}\n', "Mq7-rp2Lz"),
    ("Login.java", 'if ("{v}".equals(pwd)) {{\n', "harbor42!x"),
    ("Login.java", 'boolean ok = user.getPassword().equalsIgnoreCase("{v}");\n', "Vt8kLw3q"),
    ("Auth.java", 'return Objects.equals(apiKey, "{v}");\n', "p4Nq8Zr2Lw6Xk1Mv"),
    ("Auth.cs", 'if (string.Equals(secret, "{v}")) {{\n', "Rq3!mZ8vLp2w"),
    ("login.c", 'if (strcmp(passwd, "{v}") == 0) {{\n', "otter99&lake"),
    ("login.c", 'if (!strcmp("{v}", pass)) {{\n', "Kj4#pW9z"),
    ("auth.py", 'if hmac.compare_digest(token, "{v}"):\n', "n8Rw2Kq5Zt7Lp3Vx"),
    ("auth.rb", 'return true if password.eql?("{v}")\n', "maple7!Tern"),
    ("auth.php", 'if (hash_equals($apiSecret, "{v}")) {{\n', "Qz5-Lm8r-Vw2k"),
]


@pytest.mark.parametrize("path, template, value", EQUALITY_CALLS, ids=[t.split("(")[1][:24] for _, t, _ in EQUALITY_CALLS])
def test_a_literal_compared_with_a_credential_by_an_equality_call_is_redacted(starter, path, template, value):
    text = template.replace("{{", "{").replace("}}", "}").replace("{v}", value)
    assert value not in _sent(starter, path, text)
    assert "credential-comparison" in _rules(starter, path, text)


NOT_COMPARED_CREDENTIALS = [
    ("User.java", 'if (name.equals("administrator")) {\n'),
    ("User.java", 'if (role.equalsIgnoreCase("Mq7rp2Lz")) {\n'),
    ("Check.java", 'if (password.equals(confirmation)) {\n'),
    ("Check.java", 'assertEquals(expected, "Mq7rp2Lz");\n'),
    ("mode.c", 'if (strcmp(mode, "r+b") == 0) {\n'),
    ("form.py", 'if hmac.compare_digest(expected_digest, "whatever"):\n'),
]


@pytest.mark.parametrize("path, text", NOT_COMPARED_CREDENTIALS, ids=[t[:28] for _, t in NOT_COMPARED_CREDENTIALS])
def test_an_equality_call_without_a_credential_name_and_literal_is_sent_unchanged(starter, path, text):
    sent = _sent(starter, path, text)
    assert text in sent and "KURA_" not in sent


LETTER_KEYS = [
    ("Client.java", 'props.setProperty("api-key", "{v}");\n', "qhzkwmvtrplxnbgfey"),
    ("client.ts", "const authToken = '{v}';\n", "VKDQPZMWRTLXNBHGJ"),
    ("settings.py", 'SECRET = "{v}"\n', "wrxqpzmvkdtlnbhgcf"),
]


@pytest.mark.parametrize("path, template, value", LETTER_KEYS, ids=[v for _, _, v in LETTER_KEYS])
def test_a_quoted_letters_only_key_under_a_credential_name_is_redacted(starter, path, template, value):
    text = template.replace("{v}", value)
    assert value not in _sent(starter, path, text)


LETTER_WORDS = [
    ("Client.java", 'props.setProperty("secretary", "qhzkwmvtrplxnbgfey");\n'),  # a word that starts with "secret"
    ("keys.js", 'const keyboardLayout = "qwertyuiopasdfghj";\n'),
    ("auth.py", 'AUTH_HEADER = "authorizationvalue"\n'),  # letters that read like words
    ("tokens.py", 'token_kind = "punctuationmarker"\n'),
    ("notes.py", 'message = "qhzkwmvtrplxnbgfey"\n'),  # no credential word on the line
]


@pytest.mark.parametrize("path, text", LETTER_WORDS, ids=[t[:28] for _, t in LETTER_WORDS])
def test_letters_that_read_as_words_or_stand_without_a_credential_name_are_sent_unchanged(starter, path, text):
    sent = _sent(starter, path, text)
    assert text in sent and "KURA_" not in sent


def test_the_comparison_rule_explains_the_call_form():
    assert "equals" in describe("credential-comparison")


@pytest.mark.parametrize("text", [
    'var cache = []string{"9f1a3c7be84d2a6c4e7d9c32bf1e7f05"} // unkeyed entries\n',
    'keyboardLayouts = ["9f1a3c7be84d2a6c4e7d9c32bf1e7f05"]\n',
])
def test_a_word_that_only_contains_key_does_not_make_a_hex_value_a_credential(starter, text):
    sent = _sent(starter, "layouts.go", text)
    assert text in sent and "KURA_" not in sent


@pytest.mark.parametrize("text", [
    'client := New("9f1a3c7be84d2a6c4e7d9c32bf1e7f05") // the vendor apiKey\n',
    'DEPLOY_KEY = "9f1a3c7be84d2a6c4e7d9c32bf1e7f05"\n',
])
def test_a_hex_value_named_by_a_key_stays_a_credential(starter, text):
    assert "9f1a3c7be84d2a6c4e7d9c32bf1e7f05" not in _sent(starter, "client.go", text)

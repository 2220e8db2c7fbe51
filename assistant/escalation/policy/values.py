"""What a candidate value looks like: a placeholder or reference (not a secret), a token-ish literal, an
identifier or dotted name, and whether a path is a configuration file (where a bare value is data)."""

from __future__ import annotations

import math
import re

from assistant.escalation.policy.structural import name_of_words, wordiness

PLACEHOLDER = re.compile(r"KURA_[A-Z]+_\d+")

_PLACEHOLDER_VALUES = {
    "", "password", "passwd", "secret", "token", "changeme", "change_me", "changeit", "xxx", "xxxx",
    "none", "null", "nil", "undefined", "true", "false", "todo", "redacted", "example", "dummy",
    "string", "str", "required", "optional", "your_password", "yourpassword", "your-password",
    "your_token", "your_api_key", "your-api-key", "api_key", "apikey", "secret_key", "access_token",
    "refresh_token", "id_token", "bearer", "basic", "token_type", "client_credentials", "password123"[:0],
    # the names every tutorial and test uses for "some value"
    "foo", "bar", "baz", "qux", "foobar", "test", "testing", "pass", "pwd", "qwerty", "asdf", "username:password",
    "whatever",
    # access levels (`permissions: id-token: write` in a GitHub Actions workflow)
    "read", "write", "read-all", "write-all",
}
_CONFIG_SUFFIXES = (".env", ".ini", ".cfg", ".conf", ".properties", ".yaml", ".yml", ".toml", ".sh",
                    ".bash", ".zsh", ".envrc", ".tfvars", ".netrc", ".npmrc", ".pypirc", ".txt", ".bat", ".cmd", ".mk")


def is_placeholder_value(value: str) -> bool:
    v = value.strip()
    if v.lower() in _PLACEHOLDER_VALUES or PLACEHOLDER.fullmatch(v):
        return True
    if len(v) < 4 or len(set(v)) == 1:
        return True  # "abc", "aaaaaaaa": too short or too plain to be anyone's credential
    if v[1:] == v[1:].lower() and re.fullmatch(r"[a-z_\-: ]*(?:password|passwd|secret)[a-z_\-: ]*", v.lower()):
        return True  # "secretpassword", "my-super-secret-password": a stand-in that names itself ("Password1",
        # "secret123" are among the passwords people really use: values)
    if (re.fullmatch(r"[A-Za-z]+(?:[_\-.][A-Za-z]+)*", v) and re.search(r"(?i)passw(?:or)?d|secret", v)
            and not re.search(r"[a-z]{2,}(?:passw|secret)", v)) or re.fullmatch(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_(?:PASSWORD|PASSWD|PWD|SECRET|TOKEN|KEY)", v):
        return True  # "trustStorePassword", "AZURE_PASSWORD": the name of a setting or variable that holds one
    if re.fullmatch(r"A[A-Z0-9]{3}[A-Z0-9]{9}EXAMPLE|[A-Za-z0-9/+]{20,30}EXAMPLE(?:KEY)?", v):
        return True  # the example keys AWS's documentation uses (`AKIAIOSFODNN7EXAMPLE`, `wJalrXUtnFEMI/…/bPxRfiCYEXAMPLEKEY`)
    if re.fullmatch(r"(?:op|vault|keyvault|secretsmanager|awssm|gcpsm|azkv)://\S+|arn:aws:(?:secretsmanager|ssm):\S+", v):
        return True  # a reference into a secret manager (1Password, Vault, AWS), not the secret
    if re.fullmatch(r"(?:\$\w+(?:\[\w+\])?|\$\{[^}]*\}|[:@/])+", v) or re.fullmatch(r"/[\w.\-/]*|[a-z]+/[a-z0-9.+\-]+", v):
        return True  # interpolations only ("$user:$pass"); a path or a MIME type
    if re.fullmatch(r"\$\{[A-Za-z_][\w.:\-]*\}?|\$\([A-Za-z_][\w.\-]*\)?", v):
        return True  # `${NPM_TOKEN}` read up to its closing brace (an unquoted value stops there): a reference
    if re.fullmatch(r"[~^>=<]{0,2}v?\d+(?:\.\d+){1,3}(?:-[\w.]+)?", v):
        return True  # a version (`"pbkdf2-password": "1.2.1"`: a package's name, then its version)
    if re.fullmatch(r":?[*xX.•#_-]+", v) or re.fullmatch(r"<[^<>]*>|\$\{\{.*|\$\{[^}]*\}|\{\{.*\}\}|\{\s*[\w.\-\[\]]*\s*\}|%\(?\w*\)?[sd]|\$\w+|\$\(.*\)", v):
        return True
    return bool(PLACEHOLDER.fullmatch(v.strip("'\"")))


def shannon_entropy(value: str) -> float:
    if not value:
        return 0.0
    counts: dict[str, int] = {}
    for ch in value:
        counts[ch] = counts.get(ch, 0) + 1
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def looks_config(path: str | None) -> bool:
    if not path:
        return True  # unknown: assume the looser syntax, i.e. detect more
    name = path.rsplit("/", 1)[-1].lower()
    return (".env" in name or name.startswith("dockerfile") or name.endswith(_CONFIG_SUFFIXES) or "." not in name
            or name.endswith((".example", ".sample", ".template", ".dist", ".tpl")))


REGEX_SOURCE = re.compile(r"\(\?[:=!<P]|\[\^?[A-Za-z0-9]-[A-Za-z0-9]|\\[dwsSbB]|[\]\w)]\{\d+(?:,\d*)?\}")


def secret_like(value: str, min_len: int = 8) -> bool:
    """A token-ish literal: long enough, no spaces, mixes character classes, not a path/URL/word."""
    if len(value) < min_len or re.search(r"\s", value) or "://" in value or value.startswith(("/", "./", "~")):
        return False
    if re.fullmatch(r"[#@:$%&*!]?[a-z]+(?:[_.\-][a-z]+)*", value) or re.fullmatch(r"[A-Z]+(?:_[A-Z]+)*", value):
        return False  # lowercase words (maybe a symbol's sigil: "#bygroup") / CONSTANT_NAMES
    if re.fullmatch(r"(?:[A-Z]?[a-z]+|[A-Z])(?:-(?:[A-Z]?[a-z]+|[A-Z]+))+|[a-z_]+(?:/[a-z_]+)+", value):
        return False  # a header name ("X-Xet-Access-Token"), a module path ("rack/protection/x")
    if REGEX_SOURCE.search(value) or name_of_words(value):
        return False  # a regular expression's source, an identifier
    classes = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z0-9]"))
    return classes >= 2 and shannon_entropy(value) >= 2.5


def wordy_identifier(value: str) -> bool:
    """`createTokenWithCount`: letters only, reading like words (a `Token name` in code, not `Token abc…`)."""
    return value.isalpha() and wordiness(value)[0] >= 0.7


def dotted_name(value: str) -> bool:
    """`pkg.module.name`, `Items[0].Name`, `~mod.Class`: a reference, not a secret."""
    return bool(re.fullmatch(r"~?[A-Za-z_][\w$]*(?:\[\d+\]|\.[A-Za-z_][\w$]*)+", value))

"""Random secrets of many formats planted into code of several languages (tests and the corpus)."""

from __future__ import annotations

import base64
import json
import random
import string

ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits
B64 = string.ascii_letters + string.digits + "+/"


def _r(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _mixed(rng: random.Random, alphabet: str, n: int) -> str:
    while True:
        value = _r(rng, alphabet, n)
        if any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
            return value


def _jwt(rng):
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
    return f"{enc({'alg': 'HS256', 'typ': 'JWT'})}.{enc({'sub': _r(rng, ALNUM, 8), 'iat': rng.randint(10**9, 2 * 10**9)})}.{_r(rng, ALNUM + '-_', 43)}"


def _private_key(rng):
    body = "\n".join(_r(rng, B64, 64) for _ in range(rng.randint(3, 8)))
    kind = rng.choice(["RSA ", "EC ", "OPENSSH ", ""])
    return f"-----BEGIN {kind}PRIVATE KEY-----\n{body}\n-----END {kind}PRIVATE KEY-----"


def _password(rng):
    return _mixed(rng, ALNUM + "!@#%^&*-_+=?", rng.randint(8, 20))


# kind -> (value generator, credential-like variable names; None = any name works)
KINDS = {
    "aws-access-key-id": (lambda r: "AKIA" + _r(r, UPPER_DIGITS, 16), None),
    "aws-secret": (lambda r: _mixed(r, B64, 40), ["aws_secret_access_key", "AWS_SECRET_ACCESS_KEY", "awsSecretKey"]),
    "gcp-api-key": (lambda r: "AIza" + _r(r, ALNUM + "-_", 35), None),
    "github-token": (lambda r: r.choice(["ghp_", "gho_", "ghs_"]) + _r(r, ALNUM, 36), None),
    "github-pat": (lambda r: "github_pat_" + _r(r, ALNUM, 22) + "_" + _r(r, ALNUM, 59), None),
    "gitlab-token": (lambda r: "glpat-" + _r(r, ALNUM + "-_", 20), None),
    "slack-token": (lambda r: f"xoxb-{r.randint(10**10, 10**11)}-{r.randint(10**10, 10**11)}-{_r(r, ALNUM, 24)}", None),
    "slack-webhook": (lambda r: f"https://hooks.slack.com/services/T{_r(r, UPPER_DIGITS, 8)}/B{_r(r, UPPER_DIGITS, 8)}/{_r(r, ALNUM, 24)}", None),
    "stripe-key": (lambda r: r.choice(["sk_live_", "rk_live_", "sk_test_"]) + _r(r, ALNUM, 24), None),
    "sendgrid-key": (lambda r: "SG." + _r(r, ALNUM + "-_", 22) + "." + _r(r, ALNUM + "-_", 43), None),
    "npm-token": (lambda r: "npm_" + _r(r, ALNUM, 36), None),
    "openai-key": (lambda r: "sk-proj-" + _r(r, ALNUM + "-_", 48), None),
    "azure-storage-key": (lambda r: "DefaultEndpointsProtocol=https;AccountName=store" + _r(r, string.digits, 3)
                          + ";AccountKey=" + _r(r, B64, 86) + "==;EndpointSuffix=core.windows.net", None),
    "jwt": (_jwt, None),
    "password": (_password, ["password", "db_password", "DB_PASSWORD", "adminPassword", "passwd", "smtp_pass", "pwd"]),
    "token": (lambda r: _mixed(r, ALNUM, r.randint(24, 40)), ["api_token", "auth_token", "API_KEY", "apiKey", "client_secret", "secret_key", "access_token"]),
    "hex-secret": (lambda r: _mixed(r, "0123456789abcdef", 32), ["webhook_secret", "signing_key", "SECRET_KEY", "hmac_secret"]),
    "db-url": (lambda r: _password(r).replace("@", "9").replace("#", "8").replace("?", "7").replace("/", "6"), "url"),
    "private-key": (_private_key, "block"),
}

LANGS = ("python", "javascript", "go", "java", "ruby", "csharp", "php", "yaml", "env", "json", "shell", "terraform")


def assign(lang: str, name: str, value: str) -> str:
    """One line (or block) assigning a string literal in `lang`."""
    return {
        "python": f'{name} = "{value}"',
        "javascript": f"const {name} = '{value}';",
        "go": f'\t{name} := "{value}"',
        "java": f'    private static final String {name} = "{value}";',
        "ruby": f"{name} = '{value}'",
        "csharp": f'        var {name} = "{value}";',
        "php": f"${name} = '{value}';",
        "yaml": f"  {name}: {value}",
        "env": f"{name}={value}",
        "json": f'  "{name}": "{value}",',
        "shell": f'export {name}="{value}"',
        "terraform": f'  {name} = "{value}"',
    }[lang]


def plant(rng: random.Random, kind: str, lang: str) -> tuple[str, str]:
    """(code, secret value) for one planted secret."""
    make, names = KINDS[kind]
    value = make(rng)
    if names == "url":
        scheme = rng.choice(["postgres", "mysql", "mongodb", "redis", "amqp"])
        url = f"{scheme}://{rng.choice(['app', 'svc_user', 'admin'])}:{value}@db{rng.randint(1, 9)}.prod.example.net:{rng.randint(1000, 9999)}/main"
        return assign(lang, rng.choice(["DATABASE_URL", "db_url", "BROKER_URL", "dsn"]), url), value
    if names == "block":
        if lang in ("python", "ruby"):
            return f'KEY_PEM = """{value}\n"""' if lang == "python" else f"KEY_PEM = <<~PEM\n{value}\nPEM", value
        escaped = value.replace("\n", "\\n")
        return assign(lang if lang not in ("env", "yaml") else "json", "private_key", escaped), value.split("\n")[1]
    name = rng.choice(names) if names else rng.choice(["value", "cfg", "client_id_b", "upstream", "data"])
    return assign(lang, name, value), value


def random_code(rng: random.Random, lines: int) -> list[str]:
    words = ["user", "order", "count", "total", "items", "result", "buffer", "config", "retry", "index", "name"]
    out = []
    for _ in range(lines):
        a, b = rng.choice(words), rng.choice(words)
        out.append(rng.choice([
            f"{a}_{b} = {rng.randint(0, 10**6)}",
            f"def get_{a}({b}): return {b}.{a}",
            f"# {a} {b} handling",
            f'log.info("{a} {b} done")',
            f"if {a} > {b}: {a} = {b}",
            f"{a}s = [{b} for {b} in {a}_list]",
            f'{a}_id = "{rng.randint(10**8, 10**9)}"',
        ]))
    return out

"""Regenerate the labelled corpus: `planted/` (secrets in realistic code, labels in labels.json)
and `clean/` (code that must pass through unchanged). Deterministic: `python make_corpus.py`."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import sys
import uuid
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
from plants import KINDS, assign, plant  # noqa: E402

SKELETONS = {
    "python": ("py", "import logging\nimport os\n\nlog = logging.getLogger(__name__)\n\n{slot}\n\n\nclass {Name}Client:\n    \"\"\"Talks to the {name} service.\"\"\"\n\n    def __init__(self, timeout: float = 10.0) -> None:\n        self.timeout = timeout\n        self.session = None\n\n    def fetch(self, item_id: int) -> dict:\n        log.debug(\"fetching %s\", item_id)\n        return {{\"id\": item_id, \"ok\": True}}\n"),
    "javascript": ("js", "'use strict';\nconst express = require('express');\n\n{slot}\n\nfunction create{Name}Router() {{\n  const router = express.Router();\n  router.get('/health', (req, res) => res.json({{ ok: true }}));\n  return router;\n}}\n\nmodule.exports = {{ create{Name}Router }};\n"),
    "go": ("go", "package {name}\n\nimport (\n\t\"context\"\n\t\"net/http\"\n)\n\nfunc New{Name}Client(ctx context.Context) *http.Client {{\n{slot}\n\t_ = ctx\n\treturn &http.Client{{}}\n}}\n"),
    "java": ("java", "package com.example.{name};\n\nimport java.util.Map;\n\npublic final class {Name}Config {{\n{slot}\n\n    public Map<String, String> asMap() {{\n        return Map.of(\"service\", \"{name}\");\n    }}\n}}\n"),
    "ruby": ("rb", "require 'net/http'\n\nmodule {Name}\n  class Client\n    def initialize(timeout: 5)\n      @timeout = timeout\n    end\n  end\nend\n\n{slot}\n"),
    "csharp": ("cs", "using System;\n\nnamespace Example.{Name}\n{{\n    public static class Settings\n    {{\n        public static void Load()\n        {{\n{slot}\n            Console.WriteLine(\"loaded\");\n        }}\n    }}\n}}\n"),
    "php": ("php", "<?php\n\nnamespace App\\{Name};\n\nfunction connect(): void\n{{\n{slot}\n    error_log('connected');\n}}\n"),
    "yaml": ("yaml", "# {name} deployment settings\nservice:\n  name: {name}\n  replicas: 3\ncredentials:\n{slot}\nlogging:\n  level: info\n"),
    "env": ("env.example", "# {name} local settings\nAPP_ENV=production\nLOG_LEVEL=info\n{slot}\nPORT=8080\n"),
    "json": ("json", "{{\n  \"service\": \"{name}\",\n{slot}\n  \"retries\": 3\n}}\n"),
    "shell": ("sh", "#!/usr/bin/env bash\nset -euo pipefail\n# deploy {name}\n{slot}\ncurl -fsS \"https://api.example.org/deploy\" >/dev/null\n"),
    "terraform": ("tf", "resource \"example_service\" \"{name}\" {{\n  name    = \"{name}\"\n  region  = \"eu-west-1\"\n{slot}\n}}\n"),
}
SERVICES = ["billing", "ledger", "search", "notify", "orders", "inventory", "gateway", "reports", "auth", "media"]


def make_planted(rng: random.Random) -> dict:
    out = HERE / "planted"
    out.mkdir(exist_ok=True)
    labels = {}
    kinds = sorted(KINDS)
    langs = sorted(SKELETONS)
    for i in range(44):
        lang = langs[i % len(langs)]
        suffix, skeleton = SKELETONS[lang]
        name = SERVICES[i % len(SERVICES)]
        lines, secrets = [], []
        for j in range(3):
            kind = kinds[(i * 3 + j) % len(kinds)]
            code, value = plant(rng, kind, lang)
            lines.append(code)
            secrets.append({"kind": kind, "value": value})
        text = skeleton.format(slot="\n".join(lines), name=name, Name=name.title())
        file = f"{i:03d}_{name}.{suffix}"
        (out / file).write_text(text)
        labels[file] = secrets
    return labels


CLEAN = [
    ("lockfile_hashes.py", lambda r: "".join(f'    "pkg{i}": "sha256:{hashlib.sha256(str(r.random()).encode()).hexdigest()}",\n' for i in range(12)), "HASHES = {{\n{body}}}\n"),
    ("uuids.py", lambda r: "".join(f'    "{uuid.UUID(int=r.getrandbits(128))}",\n' for _ in range(12)), "KNOWN_TENANT_IDS = [\n{body}]\n"),
    ("fixtures_b64.py", lambda r: base64.b64encode(bytes(r.getrandbits(8) for _ in range(120))).decode(), 'PNG_FIXTURE = "{body}"\n\ndef load_fixture():\n    return PNG_FIXTURE\n'),
    ("git_shas.py", lambda r: "".join(f'    ("v1.{i}", "{r.getrandbits(160):040x}"),\n' for i in range(10)), "RELEASES = [\n{body}]\n"),
    ("long_identifiers.java", lambda r: "", "public class AbstractSingletonProxyFactoryBeanTokenizerConfigurationManager {{\n    private final TokenizerConfigurationProviderRegistryFactory tokenizerConfigurationProviderRegistryFactory;\n    private int maxTokens = 4096;\n    public String passwordResetEmailTemplateName() {{ return \"password_reset_email\"; }}\n}}\n"),
    ("password_validation.py", lambda r: "", 'MIN_PASSWORD_LENGTH = 12\n\n\ndef validate_password(password: str) -> list[str]:\n    errors = []\n    if len(password) < MIN_PASSWORD_LENGTH:\n        errors.append("Password must be at least 12 characters.")\n    if password == password.lower():\n        errors.append("Password needs an uppercase letter.")\n    return errors\n\n\ndef change_password(user, old_password, new_password):\n    if not user.check_password(old_password):\n        raise PermissionError("wrong password")\n    user.set_password(new_password)\n'),
    ("tokenizer.ts", lambda r: "", "export interface Token {{ kind: string; text: string }}\n\nexport function tokenize(source: string): Token[] {{\n  const tokens: Token[] = [];\n  let token = '';\n  for (const ch of source) {{\n    if (ch === ' ') {{ tokens.push({{ kind: 'word', text: token }}); token = ''; }} else {{ token += ch; }}\n  }}\n  return tokens;\n}}\n\nconst tokenType = 'bearer';\nconst refreshTokenKey = 'refresh_token';\n"),
    ("oauth_flow.py", lambda r: "", 'TOKEN_URL = "https://oauth2.example.com/token"\n\n\ndef refresh(session, refresh_token):\n    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}\n    response = session.post(TOKEN_URL, data=data)\n    token = response.json()["access_token"]\n    return token\n\n\nheaders = {"Authorization": f"Bearer {token}"}\napi_key = os.environ["SERVICE_API_KEY"]\npassword = os.getenv("DB_PASSWORD", "")\nsecret = settings.SECRET_KEY\n'),
    ("settings_env.py", lambda r: "", 'import os\n\nDATABASES = {\n    "default": {\n        "ENGINE": "django.db.backends.postgresql",\n        "NAME": os.environ.get("DB_NAME", "app"),\n        "PASSWORD": os.environ["DB_PASSWORD"],\n        "HOST": "localhost",\n    }\n}\nSECRET_KEY = os.environ["DJANGO_SECRET_KEY"]\nAPI_TOKEN = "${API_TOKEN}"\nDSN = "postgres://app:${DB_PASSWORD}@localhost:5432/app"\n'),
    ("crypto_test_vectors.go", lambda r: "".join(f'\t{{"{r.getrandbits(256):064x}", "{r.getrandbits(256):064x}"}},\n' for _ in range(6)), "package crypto\n\nvar sha256Vectors = []struct{{ in, digest string }}{{\n{body}}}\n"),
    ("colors.css", lambda r: "".join(f".c{i} {{ color: #{r.getrandbits(24):06x}; }}\n" for i in range(20)), "{body}"),
    ("migrations.sql", lambda r: "", "CREATE TABLE users (\n  id UUID PRIMARY KEY,\n  email TEXT NOT NULL,\n  password_hash TEXT NOT NULL,\n  api_token_hash CHAR(64)\n);\nCREATE INDEX users_email ON users (email);\n"),
    ("package.json", lambda r: "".join(f'    "dep-{i}": {{"version": "1.{i}.0", "integrity": "sha512-{base64.b64encode(bytes(r.getrandbits(8) for _ in range(64))).decode()}"}},\n' for i in range(6)), '{{\n  "name": "web",\n  "dependencies": {{\n{body}    "last": {{"version": "0.0.1"}}\n  }}\n}}\n'),
    ("k8s.yaml", lambda r: "", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: registry.example.com/web@sha256:" + "ab" * 32 + "\n          env:\n            - name: DB_PASSWORD\n              valueFrom:\n                secretKeyRef:\n                  name: db\n                  key: password\n"),
    ("rust_tokens.rs", lambda r: "", "pub struct Lexer<'a> { src: &'a str }\n\nimpl<'a> Lexer<'a> {\n    pub fn next_token(&mut self) -> Option<Token> {\n        let token = self.peek()?;\n        Some(token)\n    }\n}\n\nconst MAX_TOKEN_LEN: usize = 256;\nlet secret_len = secret.len();\n"),
    ("math_ops.py", lambda r: "", "import numpy as np\n\n\ndef attention(q, k, v):\n    scores = q @ k.T / np.sqrt(k.shape[-1])\n    weights = softmax(scores)\n    return weights @ v\n\nkey = jax.random.PRNGKey(0)\nkey, subkey = jax.random.split(key)\n"),
    ("auth_middleware.js", lambda r: "", "const jwt = require('jsonwebtoken');\n\nfunction requireAuth(req, res, next) {\n  const header = req.headers.authorization || '';\n  const token = header.replace('Bearer ', '');\n  try {\n    req.user = jwt.verify(token, process.env.JWT_SECRET);\n    next();\n  } catch (err) {\n    res.status(401).json({ error: 'invalid token' });\n  }\n}\n\nmodule.exports = { requireAuth };\n"),
    ("constants.c", lambda r: "".join(f"    0x{r.getrandbits(32):08x},\n" for _ in range(16)), "static const unsigned int crc_table[] = {{\n{body}}};\n#define MAX_PASSWORD_LEN 128\n#define TOKEN_BUCKET_SIZE 64\n"),
]


def make_clean(rng: random.Random) -> list[str]:
    out = HERE / "clean"
    out.mkdir(exist_ok=True)
    names = []
    for round_ in range(3):
        for file, body, template in CLEAN:
            stem, suffix = file.rsplit(".", 1)
            name = f"{stem}_{round_}.{suffix}"
            (out / name).write_text(template.format(body=body(rng)) if "{body}" in template else template.replace("{{", "{").replace("}}", "}"))
            names.append(name)
    return names


if __name__ == "__main__":
    rng = random.Random(20251121)
    labels = make_planted(rng)
    clean = make_clean(rng)
    (HERE / "labels.json").write_text(json.dumps({"planted": labels, "clean": clean}, indent=1) + "\n")
    print(f"{sum(len(v) for v in labels.values())} planted secrets in {len(labels)} files; {len(clean)} clean files")

"""Secret formats kura's detectors were not written from still never leave; real code stays unchanged.

The planted values below are synthetic strings in the shapes the product owners saw leak, plus a
few positive samples from secret scanners whose test data is MIT-licensed: CredSweeper
(Copyright (c) 2021 Samsung, tests/samples) and secretlint (Copyright (c) 2020 azu,
packages/@secretlint/*/test/snapshots). The full measurement lives in benchmarks/secrets_eval.py.
"""

from __future__ import annotations

import pytest

from assistant.escalation.policy.paths import classify
from policy_fixtures import assert_sent_unchanged, sent_by

PLANTED = [
    # shapes from the issue (synthetic values)
    ("main.go", 'func client() {\n\tapiKey := "{v}"\n}\n', "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"),
    ("notify.py", 'SLACK = "{v}"\n', "xoxe-1-My0xLTEyMzQ1Njc4OTAxMjMtNDU2Nzg5MDEyMzQ1Ng-9f8e7d6c5b4a"),
    ("jira.js", "const jira = { token: '{v}' };\n", "ATATT3xFfGF0aB9cD8eF7gH6iJ5kL4mN3oP2qR1sT0uV9wX8yZ7"),
    ("Storage.cs", 'private const string storageAccountKey = "{v}";\n',
     "q8Zk3Vd7Rm2Lp9Xw4Tb6Nc1Hy5Gf0Js8Ke3Ua7Qo2Wi9Ev4Rt6Yb1Mn5Lp8Zx3Cv7Bn2Mq9Wd4Fg6Hj1Kl5Az0Sx8Dc3=="),
    ("solar.go", 'solarwindsKey := "{v}"\n', "k3n9x2p7q4w8m1v6b5c0z7t2r9y4u8i3"),
    ("credentials.xml", "<com.cloudbees.plugins.credentials.impl.StringCredentialsImpl>\n  <id>deploy</id>\n"
     "  <secret>{v}</secret>\n</com.cloudbees.plugins.credentials.impl.StringCredentialsImpl>\n",
     "{AQAAABAAAAAQ9zKx3Lw7Vb2Nq8Rt5Ym1Pc4Hd6Gf0Ja=}"),
    ("fetch.sh", 'curl "https://api.example.net/v1/items?auth_token={v}&limit=5"\n', "Zq8Lx3Vb7Nm2Kp9Wd4Tc6Rf1"),
    ("session.js", "const session = '{v}';\n",
     "eyJhbGciOiJIUzI1NiJ9.eyJ1aWQiOjQyLCJyb2xlIjoib3BzIn0.Zq8Lx3Vb7Nm2Kp9Wd4Tc6Rf1Yh5Gs0JaQm2Xn7Vw"),
    ("worker.py", 'BROKER = "amqp://svc:{v}@mq.internal:5672//"\n', "k7Qp2Xz9Lk4Vb8Nc"),
    ("deploy.sh", "export TUGBOAT_ACCESS_KEY={v}\n", "m7Qp2Xz9Lk4Vb8Nc3Rt6Yh1Gd5Fs0Ja"),
    ("notes.txt", "[DEBUG] Using Key={v}\n", "aB1cD2eF3gH4iJ5kL6mN7oP8"),
    ("vendor.py", 'ONEPASSWORD_KEY = "{v}"\n', "A3-K7P2QX-ZT4M9RB6W1C-8N3VJ-5L2HD-9QK4F"),
    ("billing.env.example", "SM_TOKEN={v}\n", "sm_aat_Xq7Lm3Vb9Nk2Pz8Wd4Tc6Rf1Yh5Gs0Ja"),
    ("config.php", "<?php\n$dbpasswd = '{v}';\n", "Tr0ub4dor&3"),
    # CredSweeper tests/samples (MIT)
    ("password_TRUE", "password={v}\n", "2bkJgtJDiLcq1t"),
    ("api.toml", 'gi_reo_gi_api = "{v}";\n', "DvMB_glvwjlEQ_uqIyn8k"),
    # secretlint snapshots (MIT)
    ("input.txt", "bot-token={v}\n", "xoxb-23984754863-2348975623000-AAAAANzjawSSE9krECohd"),
    # the generic nets (synthetic values): a value found once goes everywhere it stands
    ("notes.txt", "login: {v}  password: {v}\n", "Vq7mZ2pLk9"),
    ("README.ja.md", "初期パスワード: {v}\n", "Hk8mQ2vLx#"),
    ("setup.ko.txt", "비밀번호 {v}\n", "Tz4!wQ9pLm"),
    ("legacy.txt", "PSWRD:={v}\n", "Rm3vXq8LpZ"),
    ("db.properties", "url={v}\n", "jdbc:postgresql://db.internal:5432/billing?user=svc"),
    ("appsettings.txt", 'conn = "{v}"\n', "Endpoint=https://cfg.example.azconfig.io;Id=ab1c;Secret=Zx8Lm2Vq7Np3Kw9Rt4Yb6"),
    ("hooks.py", 'URL = "{v}"\n', "https://ops.example.com/workflows/run?api-version=1&sig=Q7xLm2Vp9Kw4Zt8Rb3Nc6Yh1"),
    ("schema.sql", "CREATE USER reporter WITH LOGIN IDENTIFIED BY {v};\n", "Qz7wLp2Vm9"),
    ("settings.py", 'DB_PASSWORD = os.getenv("DB_PASSWORD", "{v}")\n', "w8Ld2Vq7Xz"),
    ("server.xml", '<password encrypted="false">{v}</password>\n', "Pl4mVq8Zx!"),
    ("notes.txt", "[DEBUG] client Key={v}\n", "4/1234567890123456/9876543210987654:9f1a3c7be84d2a6c4e7d9c32bf1e7f05"),
    ("jobs.py", 'salt1 = b"{v}"\n', "\\x91k2!\\xae77qz@"),
    ("run.cmd", "psexec \\\\build01 -u deploy -p {v} cmd /c dir\n", "Wint3r!Sky9"),
    ("restore.sh", "mysql -u root -p{v} shop < dump.sql\n", "q7Rz2Lm9x"),
    ("client.go", 'req.Header.Set("X-Tenant-Key", "{v}")\n', "fern2719"),
    ("notes.txt", "vendorACCESS {v}\n", "0123456789abcdef0123456789abcdef"),  # a key's stand-in under a credential word
    ("notes.txt", "billing SECRET {v}\n", "kQ4Zp8Ww3Rm1"),  # 12 characters: short, but named
    ("notify.sh", "curl -X POST https://hooks.example.com/hooks/catch/{v}\n", "q9Xk2Lm7Rt4Wz8Np"),
    ("tasks.py", "TRACKER = '{v}'\n", "7e1B9c04Fa22d3E8b5C61f0A9d4e7B2c"),  # mixed-case hex is no digest
    ("ci.env.example", "repo_pat = {v}\n", "d3f7a1c9e2b84d60a5c7e9f1b3d5a7c9"),
    # a credential named by a sibling field, a declaration, a call or a DSL (synthetic values)
    ("deployment.yaml", "env:\n  - name: DB_PASSWORD\n    value: {v}\n", "Qm7vLx2Pz9"),
    ("params.json", '[{"key": "api_token", "value": "{v}"}]\n', "r8Kd2mQx7Lp3"),
    ("context.xml", "<param><name>smtp.password</name><value>{v}</value></param>\n", "Vb3nX8qLz2"),
    ("users.xml", "<pwd>{v}</pwd>\n", "Lk4wPz8Rm2"),
    ("auth.c", 'char admin_password[64] = "{v}";\n', "Tq9mZ3xVb7"),
    ("Config.kt", 'val dbPassword: String = "{v}"\n', "Hx2vLq8Pm4"),
    ("Store.java", 'props.put("password", "{v}");\n', "Np6rKz2Wq8"),
    ("build.gradle", 'credentials {\n    password "{v}"\n}\n', "Gf5tYh8Jk2"),
    ("ci.yml", "dbpass: {v}\n", "Zr4mQx9Lv2"),
    # a 32-40 character hex key next to a service's name only (the external finding)
    ("notes.txt", "wandb {v}\n", "3f9c2a7e1b8d4c6f0a5e9b2d7c1f8a3e6b4d9c0f"),
    ("deploy.env", "NICEREPLY={v}\n", "9b2d7c1f8a3e6b4d3f9c2a7e1b8d4c6f"),
    ("hosting.py", "glitchcloud = '{v}'\n", "7c1f8a3e-6b4d-4f9c-a2d7-1b8d4c6f9b2d"),  # services issue UUID keys
    # punctuation-heavy values that are no template and no code; the value written before the name
    ("client.js", "const apiToken = `{v}`;\n", "r7${Kq2]Lm9(Wz4!"),
    ("app.conf", "api_key = {v}\n", "Xk4}Lm9)q2Vz[7"),
    ("main.go", "dbPass := {v}\n", "Wq7{z]K2(p9x"),
    ("login.go", 'if ("{v}" == adminPassword) {\n', "Zq3!vL8#pW"),
    ("settings.py", 'smtp_password_backup = "{v}"\n', "Rk8#vQ2!mZ"),
    ("main.go", "dbpass_staging := {v}\n", "Xv9}qL2]mZ(7"),
    ("auth.js", 'if ("{v}" !== admin_password_old) {\n', "Wd4!kP9zQ"),
    ("keys.h", "#define HMACKEY {{v}}\n", "0x4f, 0x1a, 0x9c, 0xd2, 0x07, 0x6e, 0xb3, 0x58, 0x21, 0xfa"),
]

CLEAN = [
    ("handler.go", "return toMiddlewareOrPanic(config)\n"),
    # `eyJ` inside a name is no JWT; a URL whose password is its user name is a dummy
    ("Survey.java", 'JSONObject keyJson = surveyJson.getJSONObject("key");\nString v = keyJson.getString("v");\n'),
    ("conftest.py", 'DSN = "postgresql://user:user@localhost/test_db"\n'),
    ("Reflection.java", "public boolean isEmptyTokenAsNull() {\n    return emptyTokenAsNull;\n}\n"),
    ("build.py", "from distutils.msvc9compiler import MSVCCompiler\n"),
    ("links.py", "# https://github.com/pypa/pip/issues/3383#issuecomment-173267692\n"),
    ("chars.c", 'static const char Table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";\n'),
    ("codec_test.go", 'in := "VGhpcyBpcyBhbiBlbmNvZGVkIHN0cmluZw==" // "This is an encoded string"\n'),
    ("version.ts", 'export const VERSION = "4.17.21-beta.3+build.20240101";\n'),
    ("Ids.cs", 'var id = Guid.Parse("3f2504e0-4f89-11d3-9a0c-0305e82c3301");\n'),
    ("pins.py", 'COMMIT = "98e958c0df498efd7cf44a2078cc71caeb7aed23"  # sha of the release\n'),
    ("docs.py", "# Each plugin is identified by its entry point name.\n"),
    ("links.md", "See https://docs.example.com/search?q=retry&page=2 for details.\n"),
    ("fmt.py", 'MESSAGE = "user {name} logged in with {password}"\n'),
    ("status.py", 'HTTP_407_PROXY_AUTHENTICATION_REQUIRED = 407\n__all__ = ("HTTP_407_PROXY_AUTHENTICATION_REQUIRED",)\n'),
    ("run.sh", "docker run -p 8080:80 -u 1000 app\n"),
    ("test_de.rs", "test(18446744073709551615, &[Token::U64(18446744073709551615)]);\n"),
    ("providers.py", "from huggingface_hub.utils import get_session\n"),
    ("oauth2.py", "def login(form_data: OAuth2PasswordRequestForm):\n    token = OAuth2PasswordRequestForm\n"),
    ("claims.py", 'ok = all(c in "0123456789abcdef" for c in token)\n'),
    ("masking.py", 'masked_token = f"{token[:3]}****{token[-4:]}"\n'),
    ("rules.py", "secret = r'([a-z0-9]{64})'\n"),
    ("Bench.java", "// use profilers (see -prof, -lprof) -u none\n"),
    ("DurationTest.java", "private Token createTokenWithCount(final CharSequence value) {\n"),
    ("container.txt", "root@df8b1e7cb106:/app# rack_session=head ruby app.rb\n"),
    ("pool.py", "# Do not pass 'self' as callback to 'finalize'.\n"),
    ("decorators.py", "\" Pass 'package_name' to the decorator\"\n"),
    ("deployment.yaml", "env:\n  - name: LOG_LEVEL\n    value: debug\n"),
    ("bypass.py", 'bypass = "cache1234"\n'),
    ("release.go", 'const gitCommit = "98e958c0df498efd7cf44a2078cc71caeb7aed23"\n'),
    ("checksums.txt", "libfoo-1.2.tar.gz 3f9c2a7e1b8d4c6f0a5e9b2d7c1f8a3e\n"),
    ("call.go", 'x := lookup("3f9c2a7e1b8d4c6f0a5e9b2d7c1f8a3e")\n'),
    ("fixtures.py", "request_id = '7c1f8a3e-6b4d-4f9c-a2d7-1b8d4c6f9b2d'\n"),
    ("Tenant.cs", 'tenantId: "7c1f8a3e-6b4d-4f9c-a2d7-1b8d4c6f9b2d"\n'),
    ("jwt.js", "const authToken = `${header}.${payload}.${signature}`;\n"),
    ("read.go", "password := strings.TrimSpace(string(input[:n]))\n"),
    ("check.js", 'if ("string" === typeof password) {\n'),
    ("table.c", "static const uint8_t hash_key[8] = {1, 2, 3, 4, 5, 6, 7, 8};\n"),
    ("forms.py", 'password_field = widgets.PasswordInput(attrs={"class": "form-control"})\n'),
    ("compiler.cc", "llvm_pass_manager = createPassManager(options);\n"),
    ("views.py", 'if "reset" == password_reset_state:\n'),
]


@pytest.mark.parametrize("path, template, value", PLANTED, ids=[p for p, _, _ in PLANTED])
def test_secret_of_a_format_kura_was_not_written_for_never_leaves(starter, path, template, value):
    assert value not in sent_by(starter, path, template.replace("{v}", value))


@pytest.mark.parametrize("path, text", CLEAN, ids=[p for p, _ in CLEAN])
def test_real_code_that_only_looks_random_is_sent_unchanged(starter, path, text):
    assert_sent_unchanged(starter, path, text)


@pytest.mark.parametrize("path", ["home/u/.s3cfg", ".pgpass", "etc/shadow", "www/.htpasswd", "config/secrets.yml",
                                  ".tugboat", "cloud/.credentials", ".git-credentials", ".idea/WebServers.xml",
                                  "www/wp-config.php", ".m2/settings-security.xml"])
def test_real_credential_file_names_are_confidential_under_the_starter_policy(starter, path):
    assert classify(starter, path).confidential


def test_an_s3cmd_config_is_redacted_by_content_when_its_path_says_nothing(starter):
    text = "[default]\naccess_key = AKIAZ7XQ3LMB5NV2KP4W\nsecret_key = p9Xk2Lm7Qv4Rb8Nt3Wz6Yc1Hd5Gf0Js8Ke3Ua7Qo\n"
    sent = sent_by(starter, "notes/s3.txt", text)
    assert "AKIAZ7XQ3LMB5NV2KP4W" not in sent and "p9Xk2Lm7Qv4Rb8Nt3Wz6Yc1Hd5Gf0Js8Ke3Ua7Qo" not in sent


def test_kingfishers_vendor_rules_are_loaded_guarded_and_named_in_what_they_found(starter):
    from assistant.escalation.policy.formats import kingfisher_detectors
    from assistant.escalation.policy.secrets import SecretScanner, describe

    detectors = kingfisher_detectors()
    assert len(detectors) >= 500 and all(d.needles for d in detectors)  # every rule runs only where it could match
    key = "aio_" + "Xq7Lm3Vb9Nk2Pz8Wd4Tc6Rf1Yh5G"  # synthetic, in the Adafruit IO shape
    hits = SecretScanner(starter.redaction).scan(f'IO_KEY = "{key}"\n', "src/feeds.py")
    assert any(h.rule_id == "kingfisher.adafruitio.1" and h.end - h.start == len(key) for h in hits)
    assert describe("kingfisher.adafruitio.1") == "Adafruit IO Key"
    assert key not in sent_by(starter, "feeds.py", f'IO_KEY = "{key}"\n')

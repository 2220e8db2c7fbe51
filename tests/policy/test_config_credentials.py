"""Credentials in configuration shapes: salts and keys drawn from all printable characters, XML elements
named `Pass`, npm/yarn registry credentials, and quoted values in JSON/YAML under a secret's key. All values
are written for this test; none comes from the evaluation corpus."""

from __future__ import annotations

import pytest

from policy_fixtures import assert_sent_unchanged, preview_of, sent_by


def _rules(policy, path: str, text: str) -> set[str]:
    return {r for f in preview_of(policy, path, text).findings for r in f.finding.rule_ids}


PUNCTUATED_KEYS = [
    ("settings.py", "SECRET_KEY = '{v}'\n", "x#9Lq$2v!Zp@7Mw^4Rk&8Nt*3Hb(6Yc)1Fd"),
    ("app.rb", 'config.cookie_salt = "{v}"\n', "Q7;m]Vz2|kP9<wR4 t&Ln8^bX3}jH6"),
    ("keys.php", "$signing_key = '{v}';\n", "p3K|z8@Wq;1Lm^Vr6}Tn%Xb2)Hc9~Js4"),
]


@pytest.mark.parametrize("path, template, value", PUNCTUATED_KEYS, ids=[p for p, _, _ in PUNCTUATED_KEYS])
def test_a_key_drawn_from_all_printable_characters_is_redacted_under_a_credential_name(starter, path, template, value):
    text = template.format(v=value)
    assert value not in sent_by(starter, path, text)


NOT_PUNCTUATED_KEYS = [
    ("log.py", "LOG_FORMAT_KEY = '%(asctime)s [%(levelname)s] %(name)s: %(message)s'\n"),
    ("check.py", "KEY_PATTERN = r'^[A-Za-z0-9+/=]{20,}$|^\\d{4}-[A-Z]{2}$'\n"),
    ("chars.py", "PUNCTUATION = '!@#$%^&*()_+-=[]{}|;:,.<>?0123456789aAzZ'\n"),
    ("help.py", "api_key_help = 'Your API key (e.g. \"Ab12-Cd34!\") goes here, 32 chars'\n"),
]


@pytest.mark.parametrize("path, text", NOT_PUNCTUATED_KEYS, ids=[p for p, _ in NOT_PUNCTUATED_KEYS])
def test_format_strings_regexes_and_prose_near_a_key_name_are_sent_unchanged(starter, path, text):
    assert_sent_unchanged(starter, path, text)


@pytest.mark.parametrize("text, value", [
    ("<Server>\n  <Host>ftp.example.org</Host>\n  <Pass>Rv8!kq2Lm</Pass>\n</Server>\n", "Rv8!kq2Lm"),
    ("<mail>\n  <smtpPass>heron-77-Vault</smtpPass>\n</mail>\n", "heron-77-Vault"),
    ("<db>\n  <admin_pass> t0ucan#Reef </admin_pass>\n</db>\n", "t0ucan#Reef"),
])
def test_an_xml_element_named_pass_holds_a_password(starter, text, value):
    assert value not in sent_by(starter, "sites.xml", text)
    assert "credential-literal" in _rules(starter, "sites.xml", text)


def test_xml_elements_that_only_contain_pass_in_a_word_are_sent_unchanged(starter):
    assert_sent_unchanged(starter, "route.xml", "<route>\n  <bypass>cache1234</bypass>\n  <Compass>North42</Compass>\n</route>\n")


@pytest.mark.parametrize("line, value", [
    ("//npm.corp.example/repo/:_password=cGluZWNvbmUtNDI=", "cGluZWNvbmUtNDI="),
    ("_auth = bWFyYTpoZXJvbi03Nw==", "bWFyYTpoZXJvbi03Nw=="),
    ('//registry.example.org/:_authToken="tok-Lm29-walrus"', "tok-Lm29-walrus"),
])
def test_an_npm_registry_credential_is_redacted_whatever_its_shape(starter, line, value):
    text = "registry=https://registry.example.org/\n" + line + "\n"
    assert value not in sent_by(starter, "ci/npm-setup.txt", text)
    assert "npm-registry-auth" in _rules(starter, "ci/npm-setup.txt", text)


@pytest.mark.parametrize("path, text", [
    ("ci/npm-setup.txt", "//registry.example.org/:_authToken=${NPM_TOKEN}\n"),
    ("npm.py", "TOKEN_RE = re.compile(r'//.+/:_authToken=\\s*(npm_\\w+)')\n"),
])
def test_an_npm_credential_read_from_the_environment_or_a_regex_is_sent_unchanged(starter, path, text):
    assert_sent_unchanged(starter, path, text)


@pytest.mark.parametrize("path, text, value", [
    ("appsettings.json", '{\n  "Auth": {\n    "ClientSecret": "tangerine_otter_lamp"\n  }\n}\n', "tangerine_otter_lamp"),
    ("deploy.yaml", 'oauth:\n  client_secret: "walnut-harbor-sixty"\n', "walnut-harbor-sixty"),
    ("settings.xml", '<settings>\n  <apiSecret>quiet_maple_rain</apiSecret>\n</settings>\n', "quiet_maple_rain"),
])
def test_a_quoted_config_value_under_a_secrets_key_is_a_value_even_when_it_reads_as_words(starter, path, text, value):
    assert value not in sent_by(starter, path, text)


@pytest.mark.parametrize("path, text", [
    ("appsettings.json", '{\n  "ClientSecret": "CLIENT_SECRET_FROM_ENV"\n}\n'),
    ("appsettings.json", '{\n  "token": "${DEPLOY_TOKEN}"\n}\n'),
    ("appsettings.json", '{\n  "apiSecret": "/run/secrets/api_secret"\n}\n'),
    ("client.ts", "const secret = 'shared_config_name';\n"),
])
def test_references_to_a_secret_and_names_in_code_are_sent_unchanged(starter, path, text):
    assert_sent_unchanged(starter, path, text)


def test_a_swift_implicitly_unwrapped_password_field_is_code(starter):
    assert_sent_unchanged(starter, "Login.swift", "    var passwordInput: UITextField! = nil\n")


@pytest.mark.parametrize("path, text, value", [
    ("api.py", 'requests.get(url, headers={"Authorization": "Bearer 7fq2Lk9w"})\n', "7fq2Lk9w"),
    ("call.sh", "curl -H 'Authorization: Basic dTpwdzE=' https://example.org/api\n", "dTpwdzE="),
    ("Client.java", 'req.setHeader("Authorization", "token gh-93kq7");\n', "gh-93kq7"),
])
def test_a_short_credential_given_to_an_authorization_header_is_redacted(starter, path, text, value):
    assert value not in sent_by(starter, path, text)


@pytest.mark.parametrize("path, text", [
    ("hooks.ts", "request.headers.set('Authorization', 'token initial-token');\n"),
    ("auth.ts", "headers.set('Authorization', 'Bearer ' + accessToken);\n"),
    ("auth.go", 'req.Header.Set("Authorization", "Bearer "+token)\n'),
])
def test_an_authorization_header_built_from_a_variable_or_named_in_words_is_sent_unchanged(starter, path, text):
    assert_sent_unchanged(starter, path, text)


@pytest.mark.parametrize("path, text, value", [
    ("db.c", 'mysql_real_connect(conn, "localhost", "app", "c0rm0rant", "shop", 0, NULL, 0);\n', "c0rm0rant"),
    ("pg.c", 'conn = PQsetdbLogin("db", "5432", NULL, NULL, "shop", "app", "ib1s-rest");\n', "ib1s-rest"),
])
def test_a_password_passed_to_a_c_database_login_call_is_redacted(starter, path, text, value):
    assert value not in sent_by(starter, path, text)


def test_a_weak_password_that_names_itself_with_digits_is_still_a_password(starter):
    text = "export MAIL_PASSWORD='Password1'\nexport CACHE_SECRET=\"secret2024\"\n"
    sent = sent_by(starter, "ci/vars.txt", text)
    assert "Password1" not in sent and "secret2024" not in sent
    assert_sent_unchanged(starter, "ci/vars.txt", "export MAIL_PASSWORD='my-secret-password'\n")


@pytest.mark.parametrize("path, text, value", [
    ("keys.go", 'const webhookSecret string = "otter-k3y-5"\n', "otter-k3y-5"),
    ("sign.go", 'var signingKey = []byte("w4lrus_tusk")\n', "w4lrus_tusk"),
    ("Settings.cs", 'public string SmtpPassword { get; set; } = "heron#42";\n', "heron#42"),
    ("boot.rb", "ENV['DEPLOY_TOKEN'] ||= 'tok9mzq2x'\n", "tok9mzq2x"),
    ("app.ts", "config.apiSecret ??= 'lynx-72-feather';\n", "lynx-72-feather"),
    ("conf.py", 'webhook_secret = "blue-heron-27"\n', "blue-heron-27"),
])
def test_typed_defaulted_and_made_up_secrets_in_code_are_redacted(starter, path, text, value):
    assert value not in sent_by(starter, path, text)


@pytest.mark.parametrize("path, text", [
    ("triage.ts", 'token ??= execFileSync("gh", ["auth", "token"], { encoding: "utf8" }).trim();\n'),
    ("keys.go", 'const tokenHeader string = "X-Request-Token"\n'),
    ("release.py", 'release_token = "v2-rc1"\n'),
    ("cache.py", 'secret_name = "db-password-2"\n'),
])
def test_calls_versions_and_names_near_a_secrets_name_are_sent_unchanged(starter, path, text):
    assert_sent_unchanged(starter, path, text)


def test_every_value_of_a_kubernetes_secret_is_redacted_whatever_its_key(starter):
    text = ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\nstringData:\n  mail: Pq7-walnut\n"
            "  relay: smtp-lynx-4\ntype: Opaque\n")
    sent = sent_by(starter, "deploy/app-secret.yaml", text)
    assert "Pq7-walnut" not in sent and "smtp-lynx-4" not in sent
    assert "name: app" in sent and "type: Opaque" in sent


def test_data_of_a_config_map_is_sent_unchanged(starter):
    assert_sent_unchanged(starter, "deploy/app-config.yaml",
                          "apiVersion: v1\nkind: ConfigMap\ndata:\n  mode: relay-lynx-4\n  region: eu-west-1\n")


def test_a_dotnet_app_setting_named_as_a_credential_is_redacted(starter):
    text = '<appSettings>\n  <add key="PaymentsApiKey" value="pay-otter-71" />\n  <add key="Theme" value="dark-7" />\n</appSettings>\n'
    sent = sent_by(starter, "web.config", text)
    assert "pay-otter-71" not in sent and 'value="dark-7"' in sent


def test_a_redis_password_directive_is_redacted_and_its_commented_example_is_not(starter):
    sent = sent_by(starter, "redis.conf", "bind 127.0.0.1\nrequirepass gull-harbor-3\nmasterauth gull-harbor-4\n")
    assert "gull-harbor-3" not in sent and "gull-harbor-4" not in sent
    assert_sent_unchanged(starter, "redis.conf", "# requirepass foobared\nport 6379\n")


@pytest.mark.parametrize("path, text, values", [
    ("accounts.csv", "username,password,role\nadmin,csv-pw-Kq7,owner\nbob,Tr0ut-88,viewer\n", ["csv-pw-Kq7", "Tr0ut-88"]),
    ("staging.md", "| host | user | password |\n|---|---|---|\n| db1 | app | tbl-pw-7Lq |\n", ["tbl-pw-7Lq"]),
    ("keys.tsv", "service\tapi_key\nmaps\tmk-29-lynx\n", ["mk-29-lynx"]),
])
def test_cells_under_a_tables_credential_column_are_redacted(starter, path, text, values):
    sent = sent_by(starter, path, text)
    assert all(v not in sent for v in values)
    assert "admin" in sent or "db1" in sent or "maps" in sent


@pytest.mark.parametrize("path, text", [
    ("login.py", "def login(user, password, token):\n    return check(user, password)\n"),
    ("fields.md", "| field | meaning |\n|---|---|\n| password | the user's password, hashed |\n"),
    ("cols.csv", "name,password_set,role\nbob,true,viewer\n"),
])
def test_code_and_tables_without_credential_cells_are_sent_unchanged(starter, path, text):
    assert_sent_unchanged(starter, path, text)


def test_a_password_stated_in_prose_is_redacted_but_prose_about_passwords_is_not(starter):
    assert "Kq71Zp" not in sent_by(starter, "deploy.py", "# the prod db pass is Kq71Zp (do not share)\n")
    assert_sent_unchanged(starter, "forms.py", "# the password is required and is checked by validate2()\n")


@pytest.mark.parametrize("path, text", [
    (".github/workflows/release.yml", "permissions:\n  contents: read\n  id-token: write\n"),
    (".github/workflows/ci.yml", "env:\n  NPM_TOKEN: ${{ secrets.NPM_TOKEN }}\n"),
    ("package.json", '{\n  "dependencies": {\n    "pbkdf2-password": "1.2.1",\n    "secret-handshake": "^2.0.4"\n  }\n}\n'),
])
def test_access_levels_workflow_expressions_and_versions_are_no_secrets(starter, path, text):
    assert_sent_unchanged(starter, path, text)


def test_a_real_token_in_a_workflow_is_still_redacted(starter):
    assert "gha-npm-tok-77" not in sent_by(starter, ".github/workflows/ci.yml", "env:\n  NPM_TOKEN: gha-npm-tok-77\n")


@pytest.mark.parametrize("path, text", [
    (".github/workflows/ci.yml", "steps:\n  - uses: actions/cache@5c1d8f0e2a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d # v4.1.0\n"
                                 "env:\n  GITHUB_TOKEN: ${{secrets.GITHUB_TOKEN}}\n"),
    ("FUNDING.json", '{\n  "drips": {"ethereum": {"ownedBy": "0x4B20993Bc481177ec7E8f571ceCaE8A9e22C02db"}}\n}\n'),
    ("NEWS.md", "- GHSA-7rjr-3q55-vv33: fix an overflow in the token reader.\n"),
    ("package-lock.json", '"integrity": "sha512-Zq3pW9xKm2Lr8Tn4Vb6Yc1Hd5Gf0Js8Ke3Ua7Qo2Pw4Xz6Ny8Mv0Bt2Rs4Lp6Jk8Hg0Fd2Sa4Qw6Er8Ty0Ui2=="\n'),
])
def test_pinned_actions_public_addresses_advisory_ids_and_lockfile_integrity_are_no_secrets(starter, path, text):
    assert_sent_unchanged(starter, path, text)


def test_an_ethereum_private_key_is_still_redacted(starter):
    key = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
    assert key not in sent_by(starter, "wallet.ts", f"const privateKey = '{key}';\n")

"""Keyword-named credentials in code: a literal compared with a credential-named variable through an
equality call, and a letters-only key under a credential name. All values are written for this test."""

from __future__ import annotations

import pytest

from assistant.escalation.policy.secrets import describe
from policy_fixtures import assert_sent_unchanged, preview_of, sent_by


def _rules(policy, path: str, text: str) -> set[str]:
    return {r for f in preview_of(policy, path, text).findings for r in f.finding.rule_ids}


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
    text = template.format(v=value)
    assert value not in sent_by(starter, path, text)
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
    assert_sent_unchanged(starter, path, text)


LETTER_KEYS = [
    ("Client.java", 'props.setProperty("api-key", "{v}");\n', "qhzkwmvtrplxnbgfey"),
    ("client.ts", "const authToken = '{v}';\n", "VKDQPZMWRTLXNBHGJ"),
    ("settings.py", 'SECRET = "{v}"\n', "wrxqpzmvkdtlnbhgcf"),
]


@pytest.mark.parametrize("path, template, value", LETTER_KEYS, ids=[v for _, _, v in LETTER_KEYS])
def test_a_quoted_letters_only_key_under_a_credential_name_is_redacted(starter, path, template, value):
    text = template.format(v=value)
    assert value not in sent_by(starter, path, text)


LETTER_WORDS = [
    ("Client.java", 'props.setProperty("secretary", "qhzkwmvtrplxnbgfey");\n'),  # a word that starts with "secret"
    ("keys.js", 'const keyboardLayout = "qwertyuiopasdfghj";\n'),
    ("auth.py", 'AUTH_HEADER = "authorizationvalue"\n'),  # letters that read like words
    ("tokens.py", 'token_kind = "punctuationmarker"\n'),
    ("notes.py", 'message = "qhzkwmvtrplxnbgfey"\n'),  # no credential word on the line
]


@pytest.mark.parametrize("path, text", LETTER_WORDS, ids=[t[:28] for _, t in LETTER_WORDS])
def test_letters_that_read_as_words_or_stand_without_a_credential_name_are_sent_unchanged(starter, path, text):
    assert_sent_unchanged(starter, path, text)


def test_the_comparison_rule_explains_the_call_form():
    assert "equals" in describe("credential-comparison")


@pytest.mark.parametrize("text", [
    'var cache = []string{"9f1a3c7be84d2a6c4e7d9c32bf1e7f05"} // unkeyed entries\n',
    'keyboardLayouts = ["9f1a3c7be84d2a6c4e7d9c32bf1e7f05"]\n',
])
def test_a_word_that_only_contains_key_does_not_make_a_hex_value_a_credential(starter, text):
    assert_sent_unchanged(starter, "layouts.go", text)


@pytest.mark.parametrize("text", [
    'client := New("9f1a3c7be84d2a6c4e7d9c32bf1e7f05") // the vendor apiKey\n',
    'DEPLOY_KEY = "9f1a3c7be84d2a6c4e7d9c32bf1e7f05"\n',
])
def test_a_hex_value_named_by_a_key_stays_a_credential(starter, text):
    assert "9f1a3c7be84d2a6c4e7d9c32bf1e7f05" not in sent_by(starter, "client.go", text)


SIGNING_SECRETS = [
    ("app.py", 'app.config["SECRET_KEY"] = "{v}"\n', "marmot-17"),
    ("settings.py", 'SECRET_KEY = "{v}"\n', "tulipfield"),
    ("auth.js", "const jwtSecretKey = '{v}';\n", "blueharbor"),
    ("app.py", 'app.config.update({{"JWT_SECRET_KEY": "{v}"}})\n', "pelican"),
]


@pytest.mark.parametrize("path, template, value", SIGNING_SECRETS, ids=[v for _, _, v in SIGNING_SECRETS])
def test_a_signing_secret_chosen_by_a_person_is_redacted_whatever_its_shape(starter, path, template, value):
    text = template.format(v=value)
    assert value not in sent_by(starter, path, text)
    assert "credential-assignment" in _rules(starter, path, text)


NOT_SIGNING_SECRETS = [
    ("settings.py", 'SECRET_KEY = os.environ["SECRET_KEY"]\n'),
    ("settings.py", 'SECRET_KEY_VAR = "APP_SECRET_KEY"\n'),
    ("labels.py", 'LABELS = {"secret_key": "Secret key"}\n'),
    ("cache.py", 'sort_key = "lastname"\n'),
    ("config.js", "const secretKey = 'mySecretKey';\n"),
]


@pytest.mark.parametrize("path, text", NOT_SIGNING_SECRETS, ids=[t[:28] for _, t in NOT_SIGNING_SECRETS])
def test_a_secret_keys_name_label_or_lookup_key_is_sent_unchanged(starter, path, text):
    assert_sent_unchanged(starter, path, text)


CAMEL_PASSWORDS = [
    ("Db.java", 'private static final String dbPasswordProd = "{v}";\n', "Wq8!mz2Lp"),
    ("db.go", 'passwordBackup2 := "{v}"\n', "r7Kx-9vLq"),
    ("mail.ts", "const smtpPassphraseOld = '{v}';\n", "kq8-Lm2z-x"),
]


@pytest.mark.parametrize("path, template, value", CAMEL_PASSWORDS, ids=[v for _, _, v in CAMEL_PASSWORDS])
def test_a_password_under_a_camel_case_qualified_password_name_is_redacted(starter, path, template, value):
    text = template.format(v=value)
    assert value not in sent_by(starter, path, text)
    assert "suffixed-password" in _rules(starter, path, text)


@pytest.mark.parametrize("path, text", [
    ("Form.java", 'String passwordField = "pw_input_1";\n'),
    ("Policy.java", 'passwordMinLength = "12345678";\n'),
    ("Dialog.java", 'String passwordConfirmLabel = "Confirm it";\n'),
    ("Cache.java", 'String bypassWordCache = "abcdefgh12";\n'),
])
def test_a_camel_case_name_that_describes_a_password_or_only_contains_pass_is_sent_unchanged(starter, path, text):
    assert_sent_unchanged(starter, path, text)


@pytest.mark.parametrize("text", [
    'TRUSTSTORE_PASSWORD = "trustStorePassword"\n',  # the setting's name, not its value
    "settings = dict(password='MAIL_PASSWORD')\n",  # the environment variable that holds it
])
def test_a_password_settings_name_is_sent_unchanged(starter, text):
    assert_sent_unchanged(starter, "settings.py", text)


def test_a_secret_manager_reference_is_no_secret(starter):
    text = 'password = "op://Infra/mail/password"\n'  # a 1Password reference (its host is a name: replaced as one)
    assert "KURA_SECRET" not in sent_by(starter, "settings.py", text)
    assert not {"credential-assignment", "password-value"} & _rules(starter, "settings.py", text)


def test_a_gitleaks_rule_written_for_one_kind_of_file_fires_only_there():
    from assistant.escalation.policy.formats import gitleaks_detectors

    rule = next(d for d in gitleaks_detectors() if d.id == "gitleaks.hashicorp-tf-password")
    text = 'administrator_login_password = "kq82xz0plm"\n'
    match = rule.regex.search(text)
    value = match.group(rule.group)
    assert rule.check(value, match, "infra/main.tf")
    assert not rule.check(value, match, "src/settings.py")
    assert rule.check(value, match, None)  # no path: the rule is not held back


POSITIONAL_PASSWORDS = [
    ("cache.py", 'store = redis.Redis("cache.internal", 6379, 2, "{v}")\n', "Tr0ut-lake-41"),
    ("cache.py", 'store = redis.StrictRedis(\n    "cache.internal",\n    6379,\n    0,\n    "{v}",\n)\n', "Heron_gate77"),
    ("legacy.py", 'db = pg.DB("orders", "db.internal", 5432, None, "app", "{v}")\n', "Mellow-Quay9"),
    ("mail.py", 'smtp = smtplib.SMTP_SSL(host)\nsmtp.login("ops@example.org", "{v}")\n', "Orchid+glass2"),
    ("sync.py", 'ftp = FTP("files.example.org", "mirror", "{v}")\n', "Lantern.58x"),
    ("fetch.py", 'r = requests.get(url, auth=("robot", "{v}"))\n', "Wren-9-pine"),
    ("fetch.py", 'r = requests.get(url, auth=HTTPBasicAuth("robot", "{v}"))\n', "Cobalt~tide3"),
    ("Db.java", 'Connection c = DriverManager.getConnection(url, "report", "{v}");\n', "Kelp#44marsh"),
    ("Proxy.java", 'return new PasswordAuthentication("proxy", "{v}".toCharArray());\n', "Gale-19-fern"),
    ("Client.cs", 'var cred = new NetworkCredential("svc", "{v}");\n', "Fjord33-plum"),
    ("mail.go", 'auth := smtp.PlainAuth("", "ops@example.org", "{v}", "smtp.example.org")\n', "Basalt_72q"),
    ("db.php", '$pdo = new PDO($dsn, "shop", "{v}");\n', "Quartz-6-bay"),
    ("db.js", 'const sequelize = new Sequelize("shop", "shop_app", "{v}", {{ dialect: "mysql" }});\n', "Ember.81.oak"),
    ("tokens.py", 'token = jwt.encode(claims, "{v}", algorithm="HS256")\n', "Rx9-quill-sail"),
    ("tokens.js", 'const token = jwt.sign(claims, "{v}", {{ expiresIn: "1h" }});\n', "Marsh.hen.63"),
    ("sign.py", 'mac = hmac.new(b"{v}", body, hashlib.sha256)\n', "Plover-31-dune"),
    ("Sign.java", 'Key k = new SecretKeySpec("{v}".getBytes(UTF_8), "HmacSHA256");\n', "Tern+42-lake"),
    ("Tls.java", 'keyStore.load(in, "{v}".toCharArray());\n', "Birch-77-ice"),
    ("store.go", 'client, _ := minio.New(host, &minio.Options{{Creds: credentials.NewStaticV4("AKIDEXAMPLE", "{v}", "")}})\n', "Sorrel9-wharf"),
    ("Auth.java", 'Algorithm algorithm = Algorithm.HMAC256("{v}");\n', "Vole-63-reed"),
    ("Auth.java", 'String jws = Jwts.builder().setSubject(id).signWith(SignatureAlgorithm.HS256, "{v}").compact();\n', "Fen+71-wick"),
    ("auth.go", 'signed, err := token.SignedString([]byte("{v}"))\n', "Adder_58_moor"),
    ("auth.php", '$jwt = JWT::encode($claims, "{v}", "HS256");\n', "Sedge#52-bank"),
    ("hook.php", '$sig = hash_hmac("sha256", $body, "{v}");\n', "Alder-81-holt"),
    ("Startup.cs", 'var key = new SymmetricSecurityKey(Encoding.UTF8.GetBytes("{v}"));\n', "Osier-93-carr"),
    ("sign.rb", 'sig = OpenSSL::HMAC.hexdigest("SHA256", "{v}", data)\n', "Tansy-47-ley"),
    ("hook.js", 'const h = crypto.createHmac("sha256", Buffer.from("{v}"));\n', "Whin-29-scar"),
]


@pytest.mark.parametrize("path,template,value", POSITIONAL_PASSWORDS)
def test_a_password_passed_positionally_to_a_known_connection_or_login_call_is_redacted(starter, path, template, value):
    text = template.format(v=value)
    assert value not in sent_by(starter, path, text)
    assert "credential-argument" in _rules(starter, path, text)
    assert describe("credential-argument").startswith("a literal passed where")


@pytest.mark.parametrize("path,text", [
    ("app.py", 'conn = sqlite3.connect("orders.db")\n'),  # connect of a module that takes no password
    ("cache.py", 'store = redis.Redis("cache.internal", 6379, 0)\n'),  # no password given
    ("cache.py", 'store = redis.Redis(host="cache.internal", port=6379, db=1, decode_responses=True)\n'),
    ("sync.py", 'ftp = FTP("files.example.org", "anonymous", "")\n'),  # the empty password of anonymous FTP
    ("auth.py", 'def login(self, user, password):\n    return self.session.login(user, password)\n'),  # variables
    ("Db.java", 'Connection c = DriverManager.getConnection(url, user, password);\n'),
    ("Config.java", 'props.load(in, "application.properties");\n'),  # a common method name, no char[] password
    ("tokens.py", 'claims = jwt.decode(token, key, algorithms=["HS256"])\n'),
    ("Startup.cs", 'var key = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(config["Jwt:Key"]));\n'),  # read, not written
    ("sign.go", 'mac := hmac.New(sha256.New, key)\n'),
])
def test_a_connection_call_without_a_literal_password_is_sent_unchanged(starter, path, text):
    assert "credential-argument" not in _rules(starter, path, text)
    assert sent_by(starter, path, text).count(text.strip().splitlines()[0].strip()) == 1


@pytest.mark.parametrize("text,value", [
    ('db_password_prod = "{v}"\n', "lantern over the weir"),
    ('smtpPasswordBackup = "{v}"\n', "copper kettle song 7"),
])
def test_a_passphrase_under_a_qualified_password_name_is_redacted(starter, text, value):
    text = text.format(v=value)
    assert value not in sent_by(starter, "settings.py", text)
    assert "suffixed-password" in _rules(starter, "settings.py", text)


@pytest.mark.parametrize("text", [
    'password_rule_text = "Use 8 or more characters with a digit."\n',  # help text: a sentence
    'password_error = "passwords do not match"\n',  # a name that describes the password
    'password_reminder_subject = "Your reminder for {name}"\n',  # a template
])
def test_a_sentence_under_a_qualified_password_name_is_sent_unchanged(starter, text):
    assert sent_by(starter, "settings.py", text).count(text.strip()) == 1


IN_STRING_PAIRS = [
    ("Db.java", 'String dsn = "host=db;user=app;passwd={v}";\n', "Kx8mQ2zv"),
    ("login.go", 'body := "login=ann&pwd={v}"\n', "Lz7qWx3k"),
    ("Vault.cs", 'var s = "Passphrase: {v}";\n', "Hr5nKw8z"),
    ("query.py", "params = 'user=ops;password={v}'\n", "t4Rk9wPz"),
]


@pytest.mark.parametrize("path, template, value", IN_STRING_PAIRS, ids=[p for p, _, _ in IN_STRING_PAIRS])
def test_a_credential_pair_written_inside_a_string_literal_is_redacted(starter, path, template, value):
    assert value not in sent_by(starter, path, template.format(v=value))


NOT_IN_STRING_VALUES = [
    ("Form.java", 'error("password: must be at least eight characters");\n'),
    ("Log.java", 'log.info("token=" + token + " user=" + user);\n'),
    ("fmt.go", 'msg := fmt.Sprintf("user=%s;password=%s", user, pwd)\n'),
    ("Auth.java", "if (passwd == other) { retry(); }\n"),
    ("conf.py", 'url = "db?user=app&password=settings.DB_PASSWORD2"\n'),
]


@pytest.mark.parametrize("path, text", NOT_IN_STRING_VALUES, ids=[p for p, _ in NOT_IN_STRING_VALUES])
def test_a_credential_word_in_a_string_with_no_value_after_it_is_sent_as_written(starter, path, text):
    assert_sent_unchanged(starter, path, text)


def test_a_credential_written_in_a_comment_is_redacted_but_a_comment_about_one_is_not(starter):
    assert "Kq3zWx8m" not in sent_by(starter, "seed.py", "# staging password: Kq3zWx8m\nseed()\n")
    assert "Lp2v9Rt7xQm4Kz" not in sent_by(starter, "Seed.java", "// token=Lp2v9Rt7xQm4Kz (rotate monthly)\nseed();\n")
    assert_sent_unchanged(starter, "forms.py", "# password: required, checked by validate_password\nfield = Field()\n")
    assert_sent_unchanged(starter, "auth.go", "// token: see refreshToken2 below\nfunc f() {}\n")


@pytest.mark.parametrize("name", ["pass_word", "passw", "PASSW"])
def test_a_password_named_with_an_unusual_spelling_is_redacted(starter, name):
    assert "Kq3zWx8m" not in sent_by(starter, "conf.py", f'{name} = "Kq3zWx8m"\n')


def test_a_word_that_begins_with_passw_is_no_credential_name(starter):
    assert_sent_unchanged(starter, "walk.py", 'passwalk = "Kq3zWx8m_route"\n')


def test_a_password_in_a_yaml_block_scalar_is_redacted_but_a_multi_line_description_is_not(starter):
    assert "Kq3zWx8m" not in sent_by(starter, "values.yaml", "db:\n  password: >-\n    Kq3zWx8m\n  port: 5432\n")
    assert_sent_unchanged(starter, "values.yaml", "password: |\n  Set it with the DB_PASSWORD variable.\nport: 5432\n")


def test_a_yaml_value_with_an_equals_sign_is_not_read_as_a_typed_assignment(starter):
    assert "d7zf6Q4ye9umYtg=U" not in sent_by(starter, "mail.yaml", "mail:\n  smtp_pass: d7zf6Q4ye9umYtg=U\n")
    assert "Kq3zWx8m" not in sent_by(starter, "conf.py", 'password: str = "Kq3zWx8m"\n')


@pytest.mark.parametrize("path, text, value", [
    ("auth.py", 'password = base64.b64decode("SHVudGVyMjAyNCE=")\n', "SHVudGVyMjAyNCE="),
    ("sign.js", 'const signingSecret = atob("c2lnbi1tZS05OTE=");\n', "c2lnbi1tZS05OTE="),
    ("Auth.cs", 'var apiSecret = Convert.FromBase64String("bGVtdXItNzctZXll");\n', "bGVtdXItNzctZXll"),
])
def test_a_literal_decoded_into_a_credential_name_is_redacted(starter, path, text, value):
    assert value not in sent_by(starter, path, text)


@pytest.mark.parametrize("path, text", [
    ("read.py", 'password = raw_bytes.decode("utf-8")\n'),
    ("read.py", "token = base64.b64decode(token_b64)\n"),
])
def test_decoding_a_variable_or_naming_a_charset_is_sent_unchanged(starter, path, text):
    assert_sent_unchanged(starter, path, text)


@pytest.mark.parametrize("path, text, value", [
    ("Db.java", 'String pwd = new String("chinchilla8");\n', "chinchilla8"),
    ("Db.java", 'String password = String.valueOf("marmot12");\n', "marmot12"),
    ("sign.ts", 'const signingKey = Buffer.from("9c41aa07e2d35b68", "hex");\n', "9c41aa07e2d35b68"),
    ("conf.py", 'password = os.getenv("PW") or "pyfallback9"\n', "pyfallback9"),
    ("conf.js", 'const secret = process.env.SECRET ?? "jsfallback77";\n', "jsfallback77"),
    ("Conf.kt", 'val password = System.getenv("PW") ?: "kotlinfallback1"\n', "kotlinfallback1"),
    ("conf.go", 'password := cmp.Or(os.Getenv("PW"), "gofallback5")\n', "gofallback5"),
    ("Auth.java", "char[] password = {'s', 'e', 'c', 'r', '3', 't', '9', 'x'};\n", "'s', 'e', 'c', 'r', '3', 't', '9'"),
])
def test_a_literal_wrapped_converted_or_given_as_a_fallback_to_a_credential_name_is_redacted(starter, path, text, value):
    assert value not in sent_by(starter, path, text)


@pytest.mark.parametrize("path, text", [
    ("conf.py", 'password = os.getenv("PW") or ""\n'),
    ("conf.py", 'mode = os.getenv("MODE") or "readonly7"\n'),
    ("Db.java", "String password = String.valueOf(chars);\n"),
    ("sign.ts", "const signingKey = Buffer.from(raw, 'hex');\n"),
    ("Hex.java", "char[] hexDigits = {'0', '1', '2', '3', '4', '5', '6', '7'};\n"),
])
def test_fallbacks_and_wrappers_without_a_literal_credential_are_sent_unchanged(starter, path, text):
    assert_sent_unchanged(starter, path, text)


@pytest.mark.parametrize("path, text, value", [
    ("keys.rs", 'const API_KEY: &str = "rust-api-key-71";\n', "rust-api-key-71"),
    ("keys.rs", "static SIGNING_SECRET: &'static str = \"rs-sign-8q\";\n", "rs-sign-8q"),
    ("auth.rs", 'let token = String::from("rs-tok-9x2");\n', "rs-tok-9x2"),
    ("push.sh", 'echo "sh-echo-pw-2" | docker login -u bob --password-stdin registry.example.org\n', "sh-echo-pw-2"),
])
def test_rust_references_wrappers_and_a_password_piped_to_a_registry_login_are_redacted(starter, path, text, value):
    assert value not in sent_by(starter, path, text)


@pytest.mark.parametrize("path, text", [
    ("push.sh", 'echo "$REGISTRY_TOKEN" | docker login -u bob --password-stdin registry.example.org\n'),
    ("names.rs", 'const APP_NAME: &str = "kura-cli-2";\n'),
])
def test_an_interpolated_piped_password_and_a_named_rust_constant_are_sent_unchanged(starter, path, text):
    assert_sent_unchanged(starter, path, text)

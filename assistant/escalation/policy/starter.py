"""The commented starter policy that `kura policy init` writes to `.kura/policy.toml`."""

STARTER_POLICY = '''\
# kura escalation policy. Nothing leaves this machine unless this file allows it.
# Any error in this file (or in the organisation policy named by KURA_ORG_POLICY, default
# /etc/kura/policy.toml) turns escalation off: kura then stays local-only and says why.
# Where both files exist, the stricter rule wins; this file can never loosen the org's.
version = 1

# The cloud model: an OpenAI-compatible Chat Completions endpoint. Fill in to enable escalation.
# api_key_env is the NAME of the environment variable holding the key, never the key itself.
# [provider]
# base_url = "https://api.openai.com/v1"
# model = "gpt-4o"
# api_key_env = "KURA_CLOUD_API_KEY"
# timeout_seconds = 60
# max_retries = 2

# Which tasks may escalate, and how: "prompt" (show the payload, ask), "auto", or "deny".
# A task not listed may not escalate.
[tasks]
explain = "prompt"
fix = "prompt"
generate = "prompt"
# complete = "deny"
# chat = "deny"

[paths]
# gitignore-style globs. Content of these files never leaves: not as the selection, not as
# context, not as a symbol's definition or doc. `!` negations are ignored here (stricter).
# The second block names credential files as they leak from real repositories (after shhgit's and
# gitleaks' path signatures): cloud CLI configs, database password files, FTP/SFTP client
# configs, web-server password files, framework secrets files, shell rc and history files.
confidential = [
    ".env*", "*.env", "*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", "*.kdbx",
    "id_rsa*", "id_ed25519*", "id_ecdsa*", "*.tfstate", "*.tfstate.*", "*.tfvars",
    "secrets/**", "**/secrets/**", "credentials*", ".aws/**", ".ssh/**", ".gnupg/**",
    ".netrc", ".npmrc", ".pypirc", ".kura/**",
    ".credentials*", "*.credentials", ".git-credentials", ".s3cfg", ".boto", ".tugboat", ".dockercfg",
    ".docker/config.json", ".kube/config", ".azure/**", ".config/gcloud/**", "doctl/config.yaml",
    ".gem/credentials", "config/hub", ".pgpass", ".my.cnf", ".mylogin.cnf", "*.sqlite", "*.sqlite3",
    ".htpasswd", "*.htpasswd", "shadow", "gshadow", "passwd", "proftpdpasswd",
    "secrets.yml", "secrets.yaml", "secret_token.rb", "master.key", "credentials.yml.enc", "database.yml",
    "wp-config.php", "settings-security.xml",
    "sftp-config.json", ".vscode/sftp.json", "filezilla.xml", "recentservers.xml", "sitemanager.xml",
    ".idea/WebServers.xml", ".idea/dataSources.xml", "credentials.xml", "*.ovpn", "*.ppk", "*.pkcs12",
    "*.keychain", "*.kwallet", "*.psafe3", "*_rsa", "*_dsa", "*_ed25519", "*_ecdsa", "id_dsa*",
    ".bashrc", ".zshrc", ".bash_profile", ".zprofile", ".profile", ".bash_aliases", "*_history",
    ".muttrc", ".irssi/config", ".purple/accounts.xml", "*.keytab",
]
# Paths allowed to escalate (empty = nothing). "**" = every non-confidential path.
allow = ["**"]

[redaction]
# Built-in secret detectors are always on; choose what a hit does: "redact" or "block".
secrets = "redact"
emails = true
private_ips = true
# Hostnames under these suffixes (and URLs to them) become placeholders like KURA_HOST_1.
internal_domains = []   # e.g. ["corp.example.com", "internal"]
# Company and product names, replaced wherever they appear (case-insensitive).
terms = []              # e.g. ["Example Corp", "Project Falcon"]
# Regexes for internal identifiers, e.g. internal package names.
identifier_patterns = []   # e.g. ["excorp_[a-z_]+"]
strip_comments = false

# Per built-in rule overrides, e.g. never send anything that contains a private key:
[redaction.actions]
private-key = "block"

# Your own secret formats; a named group (?P<secret>...) narrows what is redacted.
# [[redaction.rules]]
# id = "internal-token"
# pattern = "EXC-[0-9A-F]{32}"
# action = "block"

[limits]
max_chars = 16000
max_lines = 400
requests_per_hour = 30

# [audit]
# path = "~/.local/state/kura/audit.jsonl"

# The local usage log (kura report) stores no code by default. For a pilot, storing the text of
# suggestions (never of confidential paths) helps review them; org and repo policy must both allow it.
# [usage]
# store_code = true
'''

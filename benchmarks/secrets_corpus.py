"""Build the sanitizer's evaluation corpus from other projects' test data; nothing of it enters the repo.

Planted secrets come from the positive test cases of secret scanners that kura's detectors were NOT
written from (measurement sources), turned into realistic code in several languages:

  trufflesecurity/trufflehog  pkg/detectors/*/*_test.go  (AGPL-3.0: measured, never vendored)
  Samsung/CredSweeper         tests/samples + tests/data/output.json  (MIT)
  secretlint/secretlint       packages/@secretlint/secretlint-rule-*/test/snapshots/ng.*  (MIT)
  adeptex/whispers            tests/fixtures/** (config files and code in 15 languages); its planted values
                              all spell "hardcoded", which is how they are found here  (BSD-3-Clause)
  Yelp/detect-secrets         tests/plugins/{keyword,high_entropy_strings}_test.py tables and the test_data
                              files tests/core/baseline_test.py counts secrets in  (Apache-2.0)
  sirwart/ripsecrets          test/one_per_line/* (one secret a line) and test/one_per_file/* (one a file),
                              as its no_false_negatives test asserts  (MIT)
  Plazmaz/leaky-repo          credential files under their real names (.s3cfg, .pgpass, .htpasswd, etc/shadow,
                              wp-config.php, .docker/config.json, FileZilla and SFTP client configs, ...), with the
                              number of risk lines per file in .leaky-meta/secrets.csv; each file is sent twice,
                              with its real path (`leaky-repo`: the confidential globs may block it) and under a
                              neutral name (`leaky-repo/renamed`: the content scan alone)  (MIT)
  auth0/repo-supervisor       test/fixtures/integration/dir.with.secrets/* with the secrets its CLI test expects,
                              and test/fixtures/fixtures.json's random secrets  (MIT)

Keyword-named credentials in code, with the snippets each tool labels NOT a secret kept apart as
negatives (negatives.jsonl, scored like clean files):

  securego/gosec              testutils/g101_samples.go: G101 sample programs with their expected issue
                              count (0 = negative unless silenced by #nosec / gosec:disable)  (Apache-2.0)
  PyCQA/bandit                examples/hardcoded-passwords.py: blocks under `# Possible hardcoded password: 'x'`
                              (B105/B106/B107; counted by tests/functional/test_functional.py)  (Apache-2.0)
  nickdeis/eslint-plugin-no-secrets  tests/lib/rules/no-secrets.ts valid/invalid codes with default options,
                              and staging/has{,-no}-secret.{js,json}  (MIT)
  thoughtworks/talisman       detector/filecontent/filecontent_detector_test.go (HasFailures true/false)  (MIT)
  SonarSource/sonar-java      java-checks-test-sources/default/src/main/{java,files/non-compiling}/checks/
                              HardCodedPasswordCheckSample.java (S2068) and HardCodedSecretCheckSample.java
                              (S6418): `// Noncompliant` lines holding a literal; `// Compliant` / `// OK` lines
                              are negatives  (LGPL-3.0: measured, never vendored)
  SonarSource/sonar-python    python-checks/src/test/resources/checks/{hardCodedCredentials,hardcodedCredentialsCall,
                              hotspots/hardcodedCredentialsEntropy,flaskHardCodedSecretKey,flaskHardCodedJWTSecretKey}.py:
                              `# Noncompliant` / `# Compliant` / `# OK` lines likewise  (LGPL-3.0: measured, never vendored)
  aquasecurity/trivy          pkg/fanal/secret/testdata/* with the findings TestSecretScanner in
                              pkg/fanal/secret/scanner_test.go expects from its builtin rules (the secret is what
                              `Match` masks, one `*` a character); tests expecting none are negatives  (Apache-2.0)
  semgrep/semgrep-rules       generic/secrets/security/* and the tests of its rules on hard-coded credentials
                              (`hardcode` / `static-credentials` rule ids): `ruleid:`-annotated code is a positive,
                              `ok:` a negative  (Semgrep Rules License v1.0, Commons Clause + LGPL-2.1: measured,
                              never vendored)
  americanexpress/earlybird   pkg/scan/falsePositives_test.go: labelled lines with their file names, `wantIsFP:
                              false` a positive (the value bound to the line's key), `true` a negative  (Apache-2.0)

Their families (what decides the half) are the name a snippet's literal is bound to (gosec, bandit),
the test's constant or function (eslint-plugin-no-secrets, talisman), or the sample file's numbered
section (sonar-java), or the file and the name (sonar-python), the rule id (trivy; its negatives: the test
name), the rule's test file (semgrep), or earlybird's rule code. trivy and semgrep-rules were added in the
third round and scored once before any tuning; leaky-repo (family: the file, the same half for both of its
variants), repo-supervisor (family: the fixture file; all five landed in the held-out half) and earlybird
in the fourth, likewise scored once before any tuning (recall 86.7 % with real paths, 78.3 % renamed,
89.7 % and 47.8 %; after the fourth round's tuning, which looked only at tuning-half misses: 96.4 %, 91.6 %,
89.7 % and 73.9 %, the whole corpus 97.0 % tuning / 91.8 % held-out, clean files 0.74 %); trivy's builtin
rules and semgrep's generic/secrets/gitleaks/* (derived from gitleaks) are no rule source of kura, and the
latter are not measured either.

gitleaks (config/gitleaks.toml, MIT) and kingfisher (data/rules, Apache-2.0) are RULE sources for kura
(assistant/escalation/policy/{gitleaks,kingfisher}_rules.json), so neither is used for measurement here;
detect-secrets is a dependency whose regex plugins kura runs, so only the tests of its detectors kura does
NOT run (keyword, high entropy) are. praetorian-inc/noseyparker's rule examples are not a source: kingfisher's
rules descend from noseyparker's. (kingfisher's rule examples were a measurement source until its
rules were vendored; `kingfisher_cases` still builds them, for a look at in-distribution recall only:
--with-rule-examples.)

Clean files (false positives) are real code in the eleven indexed languages: the installed packages
in .venv/lib/python3.11/site-packages plus public repositories (gin, cobra, gson, commons-lang,
ripgrep, serde, hiredis, fmt, nlohmann/json, Newtonsoft.Json, AutoMapper, sinatra, rack, guzzle,
symfony/console, zod, ky, express, lua, jq, tree-sitter, libuv, client_golang, echo, urfave/cli).

Each case is split into the tuning or the held-out half by a hash of source + format family, fixed
before anything was looked at, so held-out formats are unseen while tuning.

Get the data: `git clone https://github.com/<owner>/<name> $SRC/<owner>+<name>/repo` for each
repository above (bare or not; HEAD is read), or point --sources at such a directory (the default
is /work/.mirror, then ~/.cache/kura-eval/src). Output: ~/.cache/kura-eval/{cases,clean,negatives}.jsonl.

Usage: python benchmarks/secrets_corpus.py [--sources DIR] [--out DIR] [--clean-per-lang N] [--with-rule-examples]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = Path.home() / ".cache" / "kura-eval"
MEASURE = ("trufflesecurity+trufflehog", "Samsung+CredSweeper", "secretlint+secretlint", "adeptex+whispers",
           "Yelp+detect-secrets", "sirwart+ripsecrets", "Plazmaz+leaky-repo", "auth0+repo-supervisor")
# sources that also label non-secrets: their builders return (positives, negatives)
MEASURE_WITH_NEGATIVES = ("securego+gosec", "PyCQA+bandit", "nickdeis+eslint-plugin-no-secrets", "thoughtworks+talisman",
                          "SonarSource+sonar-java", "SonarSource+sonar-python", "aquasecurity+trivy",
                          "semgrep+semgrep-rules", "americanexpress+earlybird")
CLEAN_REPOS = (
    "gin-gonic+gin", "spf13+cobra", "google+gson", "apache+commons-lang", "BurntSushi+ripgrep", "serde-rs+serde",
    "redis+hiredis", "fmtlib+fmt", "nlohmann+json", "JamesNK+Newtonsoft.Json", "AutoMapper+AutoMapper",
    "sinatra+sinatra", "rack+rack", "guzzle+guzzle", "symfony+console", "colinhacks+zod", "sindresorhus+ky",
    "expressjs+express", "lua+lua", "jqlang+jq", "tree-sitter+tree-sitter", "libuv+libuv", "prometheus+client_golang",
    "labstack+echo", "urfave+cli",
)
LANG_SUFFIX = {
    ".py": "python", ".js": "javascript", ".mjs": "javascript", ".ts": "typescript", ".tsx": "typescript",
    ".go": "go", ".java": "java", ".rs": "rust", ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".hpp": "cpp",
    ".cxx": "cpp", ".cs": "csharp", ".rb": "ruby", ".php": "php",
}


def half_of(source: str, family: str) -> str:
    """Deterministic split by format family: the same family always lands in the same half."""
    return "heldout" if int(hashlib.sha256(f"{source}:{family}".encode()).hexdigest(), 16) % 2 else "tuning"


class Repo:
    """HEAD of a clone or bare mirror, read with git (no work tree needed)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def files(self) -> list[str]:
        out = subprocess.run(["git", "-C", str(self.path), "ls-tree", "-r", "--name-only", "HEAD"],
                             capture_output=True, text=True, check=True).stdout
        return out.splitlines()

    def read_many(self, paths: list[str]) -> dict[str, bytes]:
        if not paths:
            return {}
        proc = subprocess.run(["git", "-C", str(self.path), "cat-file", "--batch"],
                              input="".join(f"HEAD:{p}\n" for p in paths).encode(), capture_output=True, check=True)
        data, out, pos = proc.stdout, {}, 0
        for p in paths:
            nl = data.index(b"\n", pos)
            header = data[pos:nl].split()
            pos = nl + 1
            if len(header) < 3 or header[1] == b"missing":
                continue
            size = int(header[2])
            out[p] = data[pos:pos + size]
            pos += size + 1
        return out


def find_repo(sources: list[Path], name: str) -> Repo | None:
    for base in sources:
        for candidate in (base / name / "repo", base / name):
            if (candidate / "HEAD").exists() or (candidate / ".git").exists():
                return Repo(candidate)
    return None


def entropy(value: str) -> float:
    counts = {c: value.count(c) for c in set(value)}
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values()) if value else 0.0


# ---------------------------------------------------------------------------------------------
# trufflehog: a tiny evaluator for the Go expressions used as test inputs

_GO_STR = r'`[^`]*`|"(?:\\.|[^"\\\n])*"'


def _go_unquote(lit: str) -> str:
    if lit.startswith("`"):
        return lit[1:-1]
    body = lit[1:-1]
    return re.sub(r'\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|.)', lambda m: {
        "n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "'": "'"}.get(m.group(1), m.group(1) if len(m.group(1)) == 1
                                                                            else chr(int(m.group(1)[1:], 16))), body)


def _go_consts(src: str) -> dict[str, str]:
    consts: dict[str, str] = {}
    for m in re.finditer(r"(?m)^\s*(?:(?:var|const)\s+)?([A-Za-z_]\w*)\s*(?:string\s*)?=\s*((?:" + _GO_STR + r")(?:\s*\+\s*(?:" + _GO_STR + r"))*)\s*$", src):
        consts[m.group(1)] = "".join(_go_unquote(x) for x in re.findall(_GO_STR, m.group(2)))
    return consts


def _go_eval(expr: str, consts: dict[str, str]) -> str | None:
    expr = expr.strip().rstrip(",").strip()
    m = re.fullmatch(r"fmt\.Sprintf\((.*)\)", expr, re.S)
    if m:
        args = _split_args(m.group(1))
        values = [_go_eval(a, consts) for a in args]
        if any(v is None for v in values):
            return None
        fmt, rest = values[0], values[1:]
        try:
            return re.sub(r"%[sdvq]", lambda _m: rest.pop(0) if rest else "", fmt)
        except IndexError:
            return None
    parts = _split_args(expr, "+")
    out = []
    for part in parts:
        part = part.strip()
        if re.fullmatch(_GO_STR, part, re.S):
            out.append(_go_unquote(part))
        elif part in consts:
            out.append(consts[part])
        else:
            return None
    return "".join(out)


def _split_args(text: str, sep: str = ",") -> list[str]:
    out, depth, cur, i = [], 0, "", 0
    while i < len(text):
        ch = text[i]
        if ch in "`\"":
            m = re.compile(_GO_STR, re.S).match(text, i)
            if m:
                cur += m.group(0)
                i = m.end()
                continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == sep and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    if cur.strip():
        out.append(cur)
    return out


def _secret_parts(want: str, text: str) -> list[str]:
    """The secret(s) of a trufflehog `want`: the string itself when it is in the input, otherwise its most
    random-looking component (RawV2 is often id+secret or a JSON of both)."""
    if want in text:
        return [want]
    parts = [p for p in re.split(r"[\s{}\"',;|]+|(?<!:):(?!//)", want) if len(p) >= 6 and p in text]
    parts = [p for p in parts if not re.fullmatch(r"https?://\S+|[\w.-]+@[\w.-]+|[\w-]+(\.[\w-]+)+", p)] or parts
    if not parts:
        return []
    return [max(parts, key=lambda p: (entropy(p), len(p)))]


def trufflehog_cases(repo: Repo) -> list[dict]:
    paths = [p for p in repo.files() if re.fullmatch(r"pkg/detectors/[^/]+/(?:[^/]+/)?[^/]+_test\.go", p) and "integration" not in p]
    cases = []
    for path, raw in sorted(repo.read_many(paths).items()):
        src = raw.decode("utf-8", "replace")
        family = path.split("/")[2]
        consts = _go_consts(src)
        for m in re.finditer(r"input:\s*(.*?),?\s*\n\s*want:\s*(?:\[\]string\{(.*?)\}|nil)", src, re.S):
            text = _go_eval(m.group(1), consts)
            if not text or m.group(2) is None:
                continue
            wants = [_go_eval(w, consts) for w in _split_args(m.group(2))]
            secrets = sorted({s for w in wants if w for s in _secret_parts(w, text)})
            if secrets:
                cases.append({"source": "trufflehog", "family": family, "input": text, "secrets": secrets})
    return cases


# ---------------------------------------------------------------------------------------------
# CredSweeper and secretlint


def credsweeper_cases(repo: Repo) -> list[dict]:
    report = json.loads(repo.read_many(["tests/data/output.json"])["tests/data/output.json"])
    by_file: dict[tuple[str, str], set[str]] = {}
    for item in report:
        for line in item["line_data_list"]:
            value = line.get("value") or ""
            if len(value) >= 4:
                by_file.setdefault((line["path"].removeprefix("./"), item["rule"]), set()).add(value)
    texts = repo.read_many(sorted({p for p, _ in by_file}))
    cases = []
    for (path, rule), values in sorted(by_file.items()):
        raw = texts.get(path)
        if raw is None or b"\0" in raw:
            continue
        text = raw.decode("utf-8", "replace")
        secrets = sorted(v for v in values if v in text)
        if secrets:
            cases.append({"source": "credsweeper", "family": rule, "path": path.removeprefix("tests/"), "text": text,
                          "secrets": secrets})
    return cases


def secretlint_cases(repo: Repo) -> list[dict]:
    skip = ("preset", "pattern", "example", "no-homedir", "no-dotenv", "filter-comments")
    wanted = [p for p in repo.files() if re.fullmatch(r"packages/@secretlint/secretlint-rule-[^/]+/test/snapshots/ng[^/]*/[^/]+", p)
              and not any(s in p.split("/")[2] for s in skip)]
    files = repo.read_many(wanted)
    cases = []
    for path, raw in sorted(files.items()):
        if not path.endswith("output.json"):
            continue
        report = json.loads(raw)
        text = report.get("sourceContent") or ""
        family = path.split("/")[2].removeprefix("secretlint-rule-")
        secrets = sorted({text[m["range"][0]:m["range"][1]] for m in report.get("messages", []) if m.get("range")})
        inputs = [p for p in files if p.startswith(path.rsplit("/", 1)[0] + "/input")]
        name = inputs[0].rsplit("/", 1)[-1] if inputs else "input.txt"
        if text and secrets:
            cases.append({"source": "secretlint", "family": family, "path": f"{family}/{name}", "text": text,
                          "secrets": [s for s in secrets if s.strip()]})
    return cases


def kingfisher_cases(repo: Repo) -> list[dict]:
    """Each rule's `examples`; the planted secrets are what the rule's own pattern captures in them
    (hosts, URLs and e-mails a rule captures as context are not secrets)."""
    import yaml

    paths = [p for p in repo.files() if re.fullmatch(r"data/rules/[^/]+\.ya?ml", p)]
    cases = []
    for path, raw in sorted(repo.read_many(paths).items()):
        family = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        for rule in (yaml.safe_load(raw) or {}).get("rules") or []:
            try:
                pattern = re.compile(rule["pattern"])
            except (re.error, KeyError, TypeError):
                continue
            for example in rule.get("examples") or []:
                found = {g for m in pattern.finditer(example) for g in ([x for x in m.groups() if x] or [m.group(0)])}
                secrets = sorted(v.strip() for v in found if len(v.strip()) >= 8
                                 and not re.fullmatch(r"https?://\S+|[\w.-]+@[\w.-]+|[\w-]+(\.[\w-]+)+", v.strip()))
                if secrets:
                    cases.append({"source": "kingfisher", "family": family, "input": example, "secrets": secrets})
    return cases


_WHISPERS_VALUE = re.compile(r"(?i)(?<![\w$/@.+-])[A-Za-z0-9+/_\-.$]*hardcoded[A-Za-z0-9+/_\-.=]*")


def whispers_cases(repo: Repo) -> list[dict]:
    """whispers' fixtures as they are (real file names and formats). Its planted values all contain
    "hardcoded"; names that contain it (`hardcoded_password:`), e-mails, paths, and the files of its
    false-positive and exclusion tests are not secrets."""
    paths = [p for p in repo.files() if p.startswith("tests/fixtures/") and "/falsepositive/" not in p
             and not p.rsplit("/", 1)[-1].startswith("excluded")]
    cases = []
    for path, raw in sorted(repo.read_many(paths).items()):
        if b"\0" in raw:
            continue
        text = raw.decode("utf-8", "replace")
        secrets = sorted({m.group(0) for m in _WHISPERS_VALUE.finditer(text)
                          if not re.match(r"\s*[:=]", text[m.end():m.end() + 2]) and "@" not in text[m.end():m.end() + 1]
                          and "/" not in m.group(0)[:1] and not m.group(0).startswith("key/")})
        if secrets:
            cases.append({"source": "whispers", "family": path.removeprefix("tests/fixtures/"),
                          "path": path.removeprefix("tests/fixtures/"), "text": text, "secrets": secrets})
    return cases


# ---------------------------------------------------------------------------------------------
# detect-secrets: only the tests of detectors kura does not run (its regex plugins are kura's)


def _py_value(node, names: dict[str, object]):
    """A constant expression of a test module: literals, names bound to them, str.format, tuples, lists."""
    import ast

    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return names[node.id]
    if isinstance(node, ast.Tuple):
        return tuple(_py_value(e, names) for e in node.elts)
    if isinstance(node, ast.List):  # a table: rows that are not constants (a generated long line) are left out
        rows = []
        for e in node.elts:
            try:
                rows.append(_py_value(e, names))
            except (ValueError, KeyError, IndexError):
                continue
        return rows
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
            and not node.keywords):
        return str(_py_value(node.func.value, names)).format(*(_py_value(a, names) for a in node.args))
    raise ValueError(ast.dump(node)[:80])


def _py_constants(src: str) -> dict[str, object]:
    import ast

    names: dict[str, object] = {}
    for stmt in ast.parse(src).body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            try:
                names[stmt.targets[0].id] = _py_value(stmt.value, names)
            except (ValueError, KeyError, IndexError):
                continue
    return names


def detect_secrets_cases(repo: Repo) -> list[dict]:
    """Yelp/detect-secrets' labelled lines for the detectors kura does not run: KeywordDetector's
    (line, expected secret) tables per file type, the high-entropy plugins' caught formats, and the
    test_data files whose secret count a baseline test asserts (values on `# pragma: allowlist` lines
    are not secrets there). Its regex plugins are run by kura, so their tests are in-distribution."""
    keyword, entropy_test = "tests/plugins/keyword_test.py", "tests/plugins/high_entropy_strings_test.py"
    baseline_test = "tests/core/baseline_test.py"
    files = repo.read_many([keyword, entropy_test, baseline_test])
    cases = []
    src = files[keyword].decode()
    names = _py_constants(src)
    table = re.search(r"parse_test_cases\(\[(.*?)\]\)", src, re.S).group(1)
    for ext, list_name in re.findall(r"\((?:'(\w+)'|None),\s*(\w+_TEST_CASES)\)", table):
        for line, expected in names.get(list_name, []):
            if expected and expected in line:
                cases.append({"source": "detect-secrets", "family": f"keyword/{list_name.removesuffix('_TEST_CASES')}",
                              "path": f"keyword/mock_filename.{ext or 'txt'}", "text": line + "\n", "secrets": [expected]})
    src = files[entropy_test].decode()
    block = src[src.index("@pytest.mark.parametrize"):src.index("class TestHighEntropyString")]
    formats = src[src.index("class TestHighEntropyString"):src.index("class TestHexEntropyCalculation")]
    caught = re.findall(r"\(\s*'([^']*\{secret\}[^']*)',\s*True\)|\(\s*\"([^\"]*\{secret\}[^\"]*)\",\s*True\)", formats)
    for plugin, _non_secret, secret in re.findall(r"\(\s*(\w+HighEntropyString),\s*'([^']*)',(?:\s*#[^\n]*)?\s*'([^']*)'\s*[,)]", block):
        for fmt in (a or b for a, b in caught):
            cases.append({"source": "detect-secrets", "family": f"entropy/{plugin}", "path": "entropy/sample.txt",
                          "text": fmt.format(secret=secret) + "\n", "secrets": [secret]})
    src = files[baseline_test].decode()
    counted = {p: int(n) for p, n in re.findall(r"Path\('(test_data/[^']+)'\)\)\]\) == (\d+)", src)}
    texts = repo.read_many(sorted(counted))
    for path, count in sorted(counted.items()):
        text = texts[path].decode()
        values = [v for line in text.splitlines() if "pragma: allowlist" not in line
                  for v in re.findall(r"'([^'\s]{20,})'|\"([^\"\s]{20,})\"", line) for v in v if v]
        if len(values) == count:
            cases.append({"source": "detect-secrets", "family": path, "path": path.removeprefix("test_data/"),
                          "text": text, "secrets": sorted(set(values))})
    return cases


# ---------------------------------------------------------------------------------------------
# ripsecrets: its test files, one secret a line or a file; the value is what follows a name's = or :

_RS_NAME = re.compile(r"""^\s*(?:export\s+)?[\w.\-/:\[\]'"]{1,40}?\s*(?::=|=|:)\s*""")
_RS_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S)


def _ripsecrets_value(line: str) -> str | None:
    """The secret of one labelled line: a URL's password, an XML element's text, an assignment's value or the
    bare token. Placeholders its tests also count (`xxxxxxxx`, `USERNAME:PASSWORD`) are not secrets here."""
    line = line.strip()
    if m := re.search(r"://[^:/@\s]+:([^@\s]+)@", line):
        value = m.group(1)
    elif m := re.fullmatch(r"<(\w+)>(.*)</\1>", line):
        value = m.group(2)
    else:
        value = _RS_NAME.sub("", line, count=1) if _RS_NAME.match(line) and not line.startswith("http") else line
        value = value.rstrip(",").strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
    if not value or re.search(r"(.)\1{7}", value) or re.fullmatch(r"[A-Z]+", value):
        return None
    return value


def ripsecrets_cases(repo: Repo) -> list[dict]:
    """ripsecrets' own labels: its no_false_negatives test asserts one finding per line of test/one_per_line/*
    and one per file of test/one_per_file/* (there: the private key block, else the file's most random value)."""
    paths = [p for p in repo.files() if re.fullmatch(r"test/one_per_(?:line|file)/[^/]+", p)]
    cases = []
    for path, raw in sorted(repo.read_many(paths).items()):
        text, family = raw.decode("utf-8", "replace"), path.rsplit("/", 1)[-1]
        if "/one_per_line/" in path:
            for line in text.splitlines():
                if value := _ripsecrets_value(line):
                    cases.append({"source": "ripsecrets", "family": family, "input": line, "secrets": [value]})
            continue
        pem = _RS_PEM.search(text)
        values = [v for v in map(_ripsecrets_value, text.splitlines()) if v and len(v) >= 16 and " " not in v]
        secret = pem.group(0) if pem else max(values, key=entropy, default=None)
        if secret:
            cases.append({"source": "ripsecrets", "family": family, "path": f"ripsecrets/{family}", "text": text,
                          "secrets": [secret]})
    return cases


# ---------------------------------------------------------------------------------------------
# Keyword-named credentials in code: gosec, bandit, eslint-plugin-no-secrets, talisman, sonar-java.
# Their labels are per snippet (a sample, a marked line); a snippet's family is the name its literal is
# bound to (the first identifier of the literal's line, language words left out), or the sample file's
# section where it has them (sonar-java), so one name lands in one half.

_STOPWORDS = {"if", "else", "var", "const", "let", "final", "static", "private", "public", "protected", "string",
              "char", "this", "self", "def", "return", "new", "func", "_", "map", "struct", "log", "info"}


def _name_family(line: str, value: str) -> str:
    rest = line.replace(value, " ")
    for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", rest):
        if word.lower() not in _STOPWORDS:
            return re.sub(r"[\d_]+", "", word.lower()) or word.lower()
    return "anonymous"


def _credential_part(literal: str) -> str:
    """The credential of a flagged literal: a URL's password, else the most random of its words."""
    if m := re.search(r"://[^:/@\s]*:([^@\s]+)@", literal):
        return m.group(1)
    words = [w for w in literal.split() if len(w) >= 6]
    return max(words, key=entropy) if len(words) > 1 else literal


def gosec_cases(repo: Repo) -> tuple[list[dict], list[dict]]:
    """securego/gosec's G101 (hard-coded credentials) samples: each sample program with its expected issue
    count. Positives (count >= 1): the program, with the literal G101 reports (the most random literal not
    printed; a URL's password, a `Bearer: x`'s token). Negatives: count 0 samples, except those silenced
    by `#nosec` / `gosec:disable` (suppressed, not labelled clean)."""
    path = "testutils/g101_samples.go"
    src = repo.read_many([path])[path].decode()
    pos, neg = [], []
    for i, m in enumerate(re.finditer(r"\{\[\]string\{`(.*?)`\},\s*(\d+),", src, re.S)):
        code, count = m.group(1).lstrip("\n"), int(m.group(2))
        if count == 0:
            if "nosec" not in code and "gosec:disable" not in code:
                neg.append({"source": "gosec", "family": f"g101/{i}", "path": f"gosec/g101_{i}.go", "text": code})
            continue
        literals = [(line, _go_unquote(lit)) for line in code.splitlines() if "fmt." not in line
                    for lit in re.findall(r'"(?:\\.|[^"\\\n])*"', line)]
        literals = [(line, v) for line, v in literals if len(v) >= 8]
        if not literals:
            continue
        line, literal = max(literals, key=lambda lv: entropy(lv[1]))
        pos.append({"source": "gosec", "family": _name_family(line, literal), "path": f"gosec/g101_{i}.go",
                    "text": code, "secrets": [_credential_part(literal)]})
    return pos, neg


_BANDIT_LABEL = re.compile(r"^# Possible hardcoded password: (.*)$")


def bandit_cases(repo: Repo) -> tuple[list[dict], list[dict]]:
    """PyCQA/bandit's examples/hardcoded-passwords.py (B105/B106/B107; tests/functional/test_functional.py
    counts its findings): each block under a `# Possible hardcoded password: 'x'` comment is a positive
    with x as the secret, the label comments left out of the text; blocks under `# ... but not:` are
    negatives. Labels that are no value (None, '') are dropped."""
    path = "examples/hardcoded-passwords.py"
    text = repo.read_many([path])[path].decode()
    pos, neg = [], []
    for i, block in enumerate(re.split(r"\n\s*\n", text)):
        lines = block.splitlines()
        labels = [m.group(1) for line in lines if (m := _BANDIT_LABEL.match(line.strip()))]
        body = "\n".join(line for line in lines if not re.match(r"\s*# (Possible hardcoded|Severity:)", line)) + "\n"
        if labels:
            try:
                import ast
                value = ast.literal_eval(labels[0])
            except (ValueError, SyntaxError):
                continue
            if not isinstance(value, str) or not value:
                continue
            line = next((line for line in body.splitlines() if value in line), "")
            pos.append({"source": "bandit", "family": _name_family(line, value), "path": f"bandit/block_{i}.py",
                        "text": body, "secrets": [value]})
        elif "but not:" in block:
            neg.append({"source": "bandit", "family": f"but-not/{i}", "path": f"bandit/block_{i}.py", "text": body})
    return pos, neg


def eslint_no_secrets_cases(repo: Repo) -> tuple[list[dict], list[dict]]:
    """nickdeis/eslint-plugin-no-secrets' no-secrets rule tests (tests/lib/rules/no-secrets.ts): `invalid` codes
    run with default options (or only extra regexes) that expect a high-entropy error; the secret is the
    most random word of their string literals. `valid` codes with default options are negatives; codes
    valid only through an ignore option are neither (they hold a secret the default flags). Its staging
    has-secret / has-no-secret files likewise."""
    path = "tests/lib/rules/no-secrets.ts"
    src = repo.read_many([path])[path].decode()
    consts = {m.group(1): m.group(2) for m in re.finditer(r"(?m)^const (\w+)\s*=\s*`(.*?)`;", src, re.S)}
    consts.update({m.group(1): m.group(2) for m in re.finditer(r'(?m)^const (\w+)\s*=\s*\n?\s*"(.*?)";', src)})
    body = src[src.index("createTests("):]
    valid, invalid = body.split("invalid:", 1)
    pos, neg = [], []

    def entries(section: str):
        for m in re.finditer(r"\{\s*(?://[^\n]*\n\s*)?code:\s*(\w+|`.*?`)\s*,(.*?)\n\s{6}\}", section, re.S):
            code = m.group(1)
            yield (consts.get(code) if not code.startswith("`") else code[1:-1]), code, m.group(2)

    for code, name, rest in entries(valid):
        if code is not None and "ignore" not in rest and "additionalDelimiters" not in rest and code.strip():
            neg.append({"source": "eslint-no-secrets", "family": f"valid/{name}", "path": "no-secrets/valid.js",
                        "text": code.lstrip("\n")})
    for code, name, rest in entries(invalid):
        if code is None or "HIGH_ENTROPY_MSG" not in rest or re.search(r"options:\s*\[\s*\{(?!\s*additionalRegexes)", rest):
            continue
        words = [w for lit in re.findall(r'"([^"\n]*)"|\'([^\'\n]*)\'', code) for part in lit for w in part.split()
                 if len(w) >= 16]
        words += [w for line in code.splitlines() if line.strip().startswith("//")
                  for part in re.findall(r'"([^"\n]*)"', line) for w in part.split() if len(w) >= 16]
        if words:
            family = name if not name.startswith("`") else _name_family(code, "")
            pos.append({"source": "eslint-no-secrets", "family": f"invalid/{family}", "path": "no-secrets/secret.js",
                        "text": code.strip("\n").strip() + "\n", "secrets": [max(words, key=entropy)]})
    staged = repo.read_many(["staging/has-secret.js", "staging/has-secret.json", "staging/has-no-secret.js",
                             "staging/has-no-secret.json"])
    for p, raw in sorted(staged.items()):
        text = raw.decode()
        if "no-secret" in p:
            neg.append({"source": "eslint-no-secrets", "family": p, "path": p, "text": text})
        elif words := [w for w in re.findall(r'"([^"\n]{16,})"', text) if entropy(w) > 3.5]:
            pos.append({"source": "eslint-no-secrets", "family": p, "path": p, "text": text, "secrets": [max(words, key=entropy)]})
    return pos, neg


def talisman_cases(repo: Repo) -> tuple[list[dict], list[dict]]:
    """thoughtworks/talisman's file content detector tests (detector/filecontent/filecontent_detector_test.go):
    a test asserting `results.HasFailures()` true is a positive whose secret is the flagged value (a whole
    file's content, or the literal in the Java code); asserted false, a negative. Tests that pass through an
    ignore or threshold setting, and the hex-encoded "hello world!" (no credential), are left out."""
    path = "detector/filecontent/filecontent_detector_test.go"
    src = repo.read_many([path])[path].decode()
    pos, neg = [], []
    for m in re.finditer(r"(?ms)^func (Test\w+)\(t \*testing\.T\) \{\n(.*?)^\}", src):
        name, body = m.groups()
        if re.search(r"Ignore|Threshold|AllowedPatterns|[Hh]ex", body.replace("defaultIgnoreEvaluator", "")):
            continue
        consts = _go_consts(body.replace(":=", "="))
        content = None
        if c := re.search(r"\[\]byte\((\w+|\"[^\"]*\")\)", body):
            content = consts.get(c.group(1)) if not c.group(1).startswith('"') else _go_unquote(c.group(1))
        if content is None:
            continue
        if "assert.True(t, results.HasFailures()" in body:
            literals = re.findall(r'"((?:\\.|[^"\\])*)"', content)
            secret = max(literals, key=entropy) if "\n" in content and literals else content
            case = {"source": "talisman", "family": name, "secrets": [secret]}
            pos.append({**case, "input": content} if "\n" not in content.strip() else
                       {**case, "path": "talisman/HelloWorld.java", "text": content})
        elif "assert.False(t, results.HasFailures()" in body:
            neg.append({"source": "talisman", "family": name, "path": "talisman/content.txt", "text": content})
    return pos, neg


_SONAR_FILES = ("java-checks-test-sources/default/src/main/java/checks/HardCodedPasswordCheckSample.java",
                "java-checks-test-sources/default/src/main/java/checks/HardCodedSecretCheckSample.java",
                "java-checks-test-sources/default/src/main/files/non-compiling/checks/HardCodedPasswordCheckSample.java")
_SONAR_KEY = re.compile(r"(?i)(?:^|[&\s;,|#:?\"])(?:password|passwd|pwd|passphrase|secret|token|api[_.-]?key|credentials?|auth)=([^&\s;,|#\\\"]+)")


def _sonar_value(literal: str) -> str:
    if m := re.search(r"://[^:/@\s]*:([^@\s]+)@", literal):
        return m.group(1)
    if m := _SONAR_KEY.search(literal):
        return m.group(1)
    return literal


def sonar_java_cases(repo: Repo) -> tuple[list[dict], list[dict]]:
    """SonarSource/sonar-java's samples for S2068 (HardCodedPasswordCheck) and S6418 (HardCodedSecretCheck) with
    the default configuration (the *Custom samples use other words): a line marked `// Noncompliant` that
    holds a string literal is a positive, its secret the last literal of the line (a URL's password or a
    `password=x` pair's value where the literal is one); lines marked `// Compliant` or `// OK` holding a
    literal are negatives. Each line is sent alone, its marker comment removed, inside a class and method."""
    pos, neg = [], []
    for path, raw in sorted(repo.read_many(list(_SONAR_FILES)).items()):
        stem, section = path.rsplit("/", 1)[-1].removesuffix(".java"), "0"
        if "non-compiling" in path:
            stem += "-noncompiling"
        for n, line in enumerate(raw.decode().splitlines()):
            if h := re.search(r"// =+ ([\d.]+)", line):
                section = h.group(1)
                continue
            marker = re.search(r"//[ \t]*(?=(?:Noncompliant|Compliant|OK)\b)", line)  # not a URL's `//`
            if marker is None:
                continue
            code, comment = line[:marker.start()], line[marker.end():]
            literals = re.findall(r'"((?:\\.|[^"\\])*)"', code)
            if not literals:
                continue
            text = f"class Sample {{\n  void run() throws Exception {{\n    {code.strip()}\n  }}\n}}\n"
            item = {"source": "sonar-java", "family": f"{stem}/{section}", "path": f"sonar/{stem}_{n}.java", "text": text}
            if re.match(r"\s*Noncompliant(?!@)", comment):
                value = _sonar_value(literals[-1])
                if value:
                    pos.append({**item, "secrets": [value]})
            elif re.match(r"\s*(?:Compliant|OK)\b", comment):
                neg.append(item)
    return pos, neg


_SONAR_PY_FILES = ("hardCodedCredentials.py", "hardcodedCredentialsCall.py", "hotspots/hardcodedCredentialsEntropy.py",
                   "flaskHardCodedSecretKey.py", "flaskHardCodedJWTSecretKey.py")
_PY_LITERAL = re.compile(r"""(?<![\w'"])[rRbBuUfF]{0,2}("(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')""")


def sonar_python_cases(repo: Repo) -> tuple[list[dict], list[dict]]:
    """SonarSource/sonar-python's samples for S2068 (hardCodedCredentials.py), S6418 (hotspots/
    hardcodedCredentialsEntropy.py), S6437 (hardcodedCredentialsCall.py) and S6779 / S6781
    (flaskHardCodedSecretKey.py, flaskHardCodedJWTSecretKey.py), each verified with the default
    configuration (the *Custom / *_custom samples use other words): as sonar_java_cases, a line marked
    `# Noncompliant` that holds a string literal is a positive (its last literal, unless that is a subscript or
    dict key; a URL's password or a `password=x` pair's value inside it), lines marked `# Compliant` / `# OK` holding a literal are
    negatives; each line is sent alone, dedented. The family is the file and the name the literal is
    bound to on its line."""
    base = "python-checks/src/test/resources/checks/"
    pos, neg = [], []
    for path, raw in sorted(repo.read_many([base + f for f in _SONAR_PY_FILES]).items()):
        stem = path.removeprefix(base).removesuffix(".py")
        for n, line in enumerate(raw.decode().splitlines()):
            marker = re.search(r"#[ \t]*(?=(?:Noncompliant|Compliant|OK)\b)", line)
            if marker is None:
                continue
            code, comment = line[:marker.start()].strip(), line[marker.end():]
            found = list(_PY_LITERAL.finditer(code))
            if not found:
                continue
            literals = [m.group(1)[1:-1] for m in found]
            item = {"source": "sonar-python", "path": f"sonar/{stem.replace('/', '_')}_{n}.py", "text": code + "\n"}
            if re.match(r"Noncompliant(?!@)", comment):
                if code[found[-1].end():].lstrip()[:1] in ("]", ":"):
                    continue  # the last literal is a key (`config['SECRET_KEY'] = name`): no literal value
                value = _sonar_value(literals[-1])
                if value:
                    pos.append({**item, "family": f"{stem}/{_name_family(code, literals[-1])}", "secrets": [value]})
            elif re.match(r"(?:Compliant|OK)\b", comment):
                neg.append({**item, "family": f"{stem}/{_name_family(code, literals[-1])}"})
    return pos, neg

# ---------------------------------------------------------------------------------------------
# trivy and semgrep-rules (added in round 3, scored once before any tuning on them)


def _brace_block(text: str, start: int) -> str:
    """The text from the `{` at `start` to its matching `}`, skipping Go string literals."""
    depth, i = 0, start
    while i < len(text):
        if text[i] in "`\"":
            m = re.compile(_GO_STR, re.S).match(text, i)
            if m:
                i = m.end()
                continue
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start:i + 1]
        i += 1
    return text[start:]


def _trivy_finding(block: str, consts: dict[str, str]) -> dict | None:
    rule = re.search(r'RuleID:\s*"([^"]+)"', block)
    start, end = re.search(r"StartLine:\s*(\d+)", block), re.search(r"EndLine:\s*(\d+)", block)
    match = re.search(r"\n\s*Match:\s*(.*?),?[ \t]*(?://[^\n]*)?\n", block)
    if not (rule and start and end and match):
        return None
    masked = _go_eval(match.group(1), consts)
    return {"rule": rule.group(1), "start": int(start.group(1)), "end": int(end.group(1)), "masked": masked} if masked else None


def _trivy_unmask(text: str, finding: dict) -> list[str]:
    """The values trivy masked in a finding's Match: it writes one `*` per character of the secret."""
    lines = text.splitlines()
    window = "\n".join(lines[finding["start"] - 1:finding["end"]])
    masked = finding["masked"]
    for any_length in (False, True):
        pattern = "".join(re.escape(p) if not p.startswith("*") else r"([\s\S]+?)" if any_length else f"([\\s\\S]{{{len(p)}}})"
                          for p in re.findall(r"\*+|[^*]+", masked))
        if m := re.search(pattern, window):
            values = [v.strip() for v in m.groups() if v.strip() and set(v.strip()) != {"*"}]
            return [v for v in values if len(v) >= 4]
    return []


def trivy_cases(repo: Repo) -> tuple[list[dict], list[dict]]:
    """aquasecurity/trivy's secret scanner tests (pkg/fanal/secret/scanner_test.go, TestSecretScanner) run with
    its builtin rules (configs skip-test.yaml / config.yaml; the custom rules those configs add are left out):
    each expected finding of a builtin rule is a positive, its secret what trivy masks with `*` in `Match`
    (one `*` a character) on the finding's lines of the testdata file; a test expecting no finding with
    the builtin rules is a negative (the file skipped by path is not). The family is the rule id (negatives:
    the test name)."""
    base = "pkg/fanal/secret/"
    src = repo.read_many([base + "scanner_test.go"])[base + "scanner_test.go"].decode()
    src = re.sub(r'strings\.Repeat\("\*",\s*(\d+)\)', lambda m: '"' + "*" * int(m.group(1)) + '"', src)
    body = src[src.index("func TestSecretScanner("):]
    body = body[:body.index("\nfunc ", 1)]
    consts = {k: v for k, v in _go_consts(body.replace(":=", "=")).items() if set(v) <= {"*"}}
    configs = [p for p in repo.files() if re.fullmatch(re.escape(base) + r"testdata/[^/]+\.ya?ml", p)]
    custom = {r for raw in repo.read_many(configs).values() for r in re.findall(r"(?m)^\s*-?\s*id:\s*(\S+)", raw.decode())}
    findings: dict[str, dict] = {}
    for m in re.finditer(r"(?m)^\t(\w+) := types\.SecretFinding\{", body):
        if f := _trivy_finding(_brace_block(body, m.end() - 1), consts):
            findings[m.group(1)] = f
    for m in re.finditer(r'(?m)^\t(\w+) := openAIFinding\("([^"]+)",[^\n]*?(\d+)\)', body):
        findings[m.group(1)] = {"rule": m.group(2), "start": 1, "end": 1, "masked": "*" * int(m.group(3))}
    tests = []
    for m in re.finditer(r'\{\s*name:\s*"([^"]*)",\s*configPath:\s*(.*?),\s*inputFilePath:\s*(.*?),\s*\n', body):
        config, path = (_go_eval(x.replace("filepath.Join(", "").rstrip(")").replace(", ", ' + "/" + '), {}) or ""
                        for x in (m.group(2), m.group(3)))
        want = re.compile(r"\s*want:\s*types\.Secret\{").match(body, m.end())
        block = _brace_block(body, want.end() - 1) if want else ""
        tests.append((m.group(1), config.rsplit("/", 1)[-1], path.removeprefix("testdata/"), block))
    texts = {p.removeprefix(base + "testdata/"): raw for p, raw in
             repo.read_many(sorted({base + "testdata/" + t[2] for t in tests})).items()}
    pos, neg, seen = [], [], set()
    for name, config, path, block in tests:
        raw = texts.get(path)
        if config not in ("skip-test.yaml", "config.yaml") or raw is None or b"\0" in raw:
            continue
        text = raw.decode("utf-8", "replace")
        found = re.search(r"Findings:\s*\[\]types\.SecretFinding\{", block)
        wanted: list[dict] = []
        if found:
            inner = _brace_block(block, found.end() - 1)[1:-1]
            i = 0
            while i < len(inner):
                if inner[i] == "{":
                    inline = _brace_block(inner, i)
                    if f := _trivy_finding(inline, consts):
                        wanted.append(f)
                    i += len(inline)
                    continue
                if w := re.compile(r"\w+").match(inner, i):
                    if w.group(0) in findings:
                        wanted.append(findings[w.group(0)])
                    i = w.end()
                    continue
                i += 1
        if not wanted:
            if "skip" not in name and path not in seen:
                seen.add(path)
                neg.append({"source": "trivy", "family": name, "path": f"trivy/{path}", "text": text})
            continue
        for f in wanted:
            if f["rule"] in custom:
                continue
            secrets = sorted(set(_trivy_unmask(text, f)))
            if secrets and (path, f["rule"], tuple(secrets)) not in seen:
                seen.add((path, f["rule"], tuple(secrets)))
                pos.append({"source": "trivy", "family": f["rule"], "path": f"trivy/{path}", "text": text, "secrets": secrets})
    return pos, neg


_SEMGREP_MARK = re.compile(r"(?:#|//|/\*|<!--|--|;)\s*(todoruleid|ruleid|todook|ok):\s*([\w.-]+(?:\s*,\s*[\w.-]+)*)")
_SEMGREP_CODE_RULE = re.compile(r"hardcode|static-credentials")
# an account number and a service-account file's `"type"` marker: not credentials; a /tmp path is not secret
_SEMGREP_NOT_SECRET = ("detected-aws-account-id", "detected-google-gcm-service-account", "hardcoded-tmp-path")
_ALGORITHM = re.compile(r"(?i)[HRPE]S(?:256|384|512)|none|sha\d*|md5|utf-?8|base64|hex|aes[\w-]*")


def _semgrep_code_value(line: str) -> str | None:
    """The hard-coded secret of one flagged code line: the literal bound to a secret-like key or name, else the
    last literal that is neither a key nor the value of one (an algorithm name or a payload is not)."""
    found = list(_PY_LITERAL.finditer(line))
    keyed, loose = [], []
    for m in found:
        value = m.group(1)[1:-1]
        if len(value) < 2 or _ALGORITHM.fullmatch(value) or line[m.end():].lstrip()[:1] == ":":
            continue
        before = line[:m.start()].rstrip()
        key = re.search(r"""([\w$.'"]+)\s*['"]?\s*(?:[:=]|=>)$""", before)
        if key and re.search(r"(?i)secret|passw|pwd|token|key|credential|passphrase", key.group(1)):
            keyed.append(value)
        elif not key:
            loose.append(value)
    return (keyed or loose or [None])[-1]


def _semgrep_block_value(block: str) -> str | None:
    """The secret of a flagged block of a generic test file: a key's body, a URL's password, else its most random token."""
    if "-----BEGIN" in block:
        body = "".join(line.strip() for line in block.splitlines() if line.strip() and "-----" not in line)
        return body if len(body) >= 16 else None
    if m := re.search(r"://[^:/@\s]+:([^@\s]+)@", block):
        return m.group(1)
    tokens = []
    for token in re.split(r"[\s\"'`,;()<>\[\]{}&?]+|=(?=[^=\s])|:(?!//)", block):
        tokens += token.split("/") if re.match(r"(?:https?:)?//", token) else [token]  # a URL's secret is a path segment
    tokens = [t for t in tokens if len(t) >= 8]
    # a host name or a lower-case word is the context of a secret, not it, unless nothing else is there
    values = [t for t in tokens if not re.fullmatch(r"[a-z_]+|[\w-]+(?:\.[\w-]+)*\.[a-z]{2,6}", t)] or tokens
    return max(values, key=lambda t: (entropy(t), len(t)), default=None)


def semgrep_cases(repo: Repo) -> tuple[list[dict], list[dict]]:
    """semgrep/semgrep-rules' test files for its own secret rules (generic/secrets/security/*; the gitleaks-derived
    generic/secrets/gitleaks/* are left out, gitleaks being a kura rule source) and for its language rules
    on hard-coded credentials (rule ids with `hardcode` / `static-credentials`): the code after a `ruleid:`
    (or `todoruleid:`) annotation is a positive, after `ok:` (or `todook:`) a negative. In the generic files
    that is the block up to the next blank line or annotation, its secret a private key's body, a URL's
    password or the most random token; in code, the one line, its secret the literal bound to a secret-like
    name (else the last literal that is not a key, a keyed value or an algorithm). The family is the rule's
    test file."""
    files = repo.files()
    code_rules = {p.removesuffix(".yaml") for p in files if p.endswith(".yaml") and not p.startswith("generic/secrets/")}
    wanted = [p for p in files if not p.endswith((".yaml", ".yml", ".md")) and ".fixed." not in p
              and (p.startswith("generic/secrets/security/") or p.split(".", 1)[0] in code_rules)]
    pos, neg = [], []
    for path, raw in sorted(repo.read_many(wanted).items()):
        text = raw.decode("utf-8", "replace")
        generic = path.startswith("generic/secrets/security/")
        if not generic and not any(_SEMGREP_CODE_RULE.search(r) for _, ids in _SEMGREP_MARK.findall(text) for r in ids.split(",")):
            continue
        lines, family = text.splitlines(), path.split(".", 1)[0]
        for n, line in enumerate(lines):
            mark = _SEMGREP_MARK.search(line)
            if mark is None:
                continue
            rules = [r.strip() for r in mark.group(2).split(",")]
            if not generic and not any(_SEMGREP_CODE_RULE.search(r) for r in rules):
                continue
            rules = [r.split(".")[-1] for r in rules]
            if any(r in _SEMGREP_NOT_SECRET for r in rules):
                continue
            inline = line[:mark.start()].strip()
            if inline:
                block = inline
            elif generic:
                body = []
                for nxt in lines[n + 1:]:
                    if not nxt.strip() or _SEMGREP_MARK.search(nxt):
                        break
                    body.append(nxt)
                block = "\n".join(body)
            else:
                block = next((x.strip() for x in lines[n + 1:] if x.strip()), "")
            if not block:
                continue
            value = _semgrep_block_value(block) if generic else _semgrep_code_value(block)
            name = path.rsplit("/", 1)[-1]
            # a code case's path names no rule: a short value ("secret") must not be found in the path sent with it
            item = {"source": "semgrep", "family": family,
                    "path": f"semgrep/{name}" if generic else f"semgrep/case_{n}.{name.split('.', 1)[1]}",
                    "text": block + "\n"}
            if mark.group(1).endswith("ruleid"):
                if value and value in block:
                    pos.append({**item, "secrets": [value]})
            elif generic or value:
                neg.append(item)
    return pos, neg


# ---------------------------------------------------------------------------------------------
# Fourth round: leaky-repo, earlybird, repo-supervisor (scored once before any tuning)

_LEAKY_CRYPT = re.compile(r"\$(?:1|2[abxy]?|5|6|apr1)\$[^\s:'\",]+")
_LEAKY_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----\n(.*?)-----END [A-Z ]*PRIVATE KEY-----", re.S)
_LEAKY_CRED_KEY = re.compile(r"(?i)pass|pwd|secret|token|auth|credential|key|encrypted")
_LEAKY_NOT_CRED_KEY = re.compile(r"(?i)field$|url$|host|path|file|_id$|^id$|prompt|interactive|enabled|save|type$|method"
                                 r"|timeout|changed|driver|^name$")
_LEAKY_PAIR = re.compile(r"""^\s*(?:export\s+|define\(\s*)?["']?\$?([\w.\-/]+)["']?\s*(?:=>|[:=,])\s*(.*)$""")


def _leaky_unquote(value: str) -> str:
    value = re.sub(r"\s+#.*$", "", value.strip()).strip().rstrip(";,").rstrip(")").strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return value


def _leaky_line_values(line: str, risk_marked: bool) -> list[str]:
    """The credentials of one line: crypt hashes, a URL's password, a .pgpass line's last field, a netrc-style
    `password x`, XML text or attributes and key/value pairs whose key names a credential; on a line a
    `Risk` comment marks, else its last string literal."""
    values = _LEAKY_CRYPT.findall(line)
    if m := re.search(r"://([^\s/]+)@[^@\s/]+", line):
        if ":" in m.group(1):
            values.append(m.group(1).split(":", 1)[1])
    if re.fullmatch(r"[^\s:#]+(?::[^\s:]*){4}", line.strip()):
        values.append(line.strip().rsplit(":", 1)[1])
    if m := re.search(r"\b(?:password|passwd|pass)\s+\"?([^\s\"]+)", line):
        values.append(m.group(1))
    pairs = [(k, v, risk_marked) for k, v in re.findall(r"<(\w+)[^>]*>([^<]+)</\1>", line)]
    pairs += [(k, v, False) for k, v in re.findall(r"([\w-]+)=\"([^\"]*)\"", line)]  # an attribute: by its name only
    if not pairs and (m := _LEAKY_PAIR.match(line)):
        key, value = m.group(1), _leaky_unquote(m.group(2))
        if inner := re.fullmatch(r"[^=\s]*?(\w+)=([^=\s]+)", value):  # //registry.npmjs.org/:_authToken=value
            key, value = inner.groups()
        pairs = [(key, value, risk_marked)]
    for key, value, marked in pairs:
        value = value.strip()
        if ((_LEAKY_CRED_KEY.search(key) and not _LEAKY_NOT_CRED_KEY.search(key)) or marked) and len(value) >= 3 \
                and not value.startswith("$") and value.lower() not in ("true", "false", "null", "none"):
            values.append(value)
    if risk_marked and not values:
        values = [lit[1:-1] for lit in re.findall(r"'[^']*'|\"[^\"]*\"", line)][-1:]
    return list(dict.fromkeys(v for v in values if v))


def leaky_repo_cases(repo: Repo) -> list[dict]:
    """Plazmaz/leaky-repo: credential files as they leak from real repositories, each with the number of lines
    that hold a risk in .leaky-meta/secrets.csv (informative lines, such as user names and hosts, are not
    counted). Its secrets are the values of those lines, found without kura: private-key bodies, crypt hashes,
    URL passwords, .pgpass fields and values bound to a credential-like key or on a line under a `Risk`
    comment, leaving out lines that say or follow `Informative`. A file whose count of such lines differs from
    the CSV's is reported. Each file is sent twice: with its real path (through the policy's confidential globs)
    as `leaky-repo`, and under a neutral name as `leaky-repo/renamed` (the content scan alone); the family, and
    so the half of both, is the file. (Six files' CSV counts exceed the lines found: the CSV also counts lines
    its own comments call informative, or repeats; the values found are used.)"""
    meta = repo.read_many([".leaky-meta/secrets.csv"])[".leaky-meta/secrets.csv"].decode()
    counts = {}
    for line in meta.splitlines():
        parts = line.split(",")
        if not line.startswith("#") and len(parts) == 3 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    texts = repo.read_many(sorted(p for p, n in counts.items() if n))
    cases = []
    for path, raw in sorted(texts.items()):
        if b"\0" in raw:
            continue
        text = raw.decode("utf-8", "replace")
        secrets, risk_lines = [], 0
        if m := _LEAKY_PEM.search(text):
            secrets, risk_lines = [m.group(1).replace("\n", "")], 1
            text_rest = ""
        elif m := re.search(r"Private-Lines: (\d+)\n", text):
            secrets, risk_lines = ["".join(text[m.end():].splitlines()[:int(m.group(1))])], 1
            text_rest = ""
        elif re.fullmatch(r"[0-9a-f]{32}\s*", text):
            secrets, risk_lines = [text.strip()], 1
            text_rest = ""
        else:
            text_rest = text
        previous = ""
        for line in text_rest.splitlines():
            comment = re.fullmatch(r"\s*(?:#|//(?=\s)|<!--|--)(.*)", line)
            informative = "Informative" in line or ("Informative" in previous and "Risk" not in previous)
            risk_marked = bool(re.search(r"Risk|Sensitive", previous)) and not informative
            if comment is None and not informative:
                found = _leaky_line_values(line, risk_marked)
                risk_lines += bool(found)
                secrets += found
            if line.strip():
                previous = line if comment else ""
        if risk_lines != counts[path]:
            print(f"leaky-repo: {path}: {risk_lines} lines with a credential found, {counts[path]} in secrets.csv",
                  file=sys.stderr)
        secrets = sorted({s for s in secrets if s in text or s in text.replace("\n", "")})
        if secrets:
            cases.append({"source": "leaky-repo", "family": path, "path": path, "text": text, "secrets": secrets})
            neutral = "leaky/" + re.sub(r"\W+", "_", path).strip("_") + ".txt"
            cases.append({"source": "leaky-repo/renamed", "split_source": "leaky-repo", "family": path,
                          "path": neutral, "text": text, "secrets": secrets})
    return cases


def _earlybird_value(line: str) -> str | None:
    """The credential of a labelled earlybird hit: XML text, else the value of its key (quotes stripped)."""
    if m := re.search(r"<(\w+)>([^<]*)</\1>", line):
        return m.group(2)
    if "-----BEGIN" in line:
        return None  # a key's first line, no body
    m = re.match(r"""^\s*["']?([\w.\-]+)["']?\s*(?::=|=>|[:=])\s*(.+?)\s*,?\s*$""", line)
    if not m:
        return None
    value = m.group(2).strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'`":
        value = value[1:-1]
    return value or None


def earlybird_cases(repo: Repo) -> tuple[list[dict], list[dict]]:
    """americanexpress/earlybird's false-positive filter tests (pkg/scan/falsePositives_test.go): each hit is a
    labelled line (MatchValue or LineValue) with its file name; `wantIsFP: false` is a positive whose secret
    is the value bound to the line's key (or an XML element's text), `wantIsFP: true` a negative. Lines with
    no key/value shape (a URL fragment, a key's BEGIN line) and positives whose value is one character repeated
    (`xxxxxx`, labelled a negative elsewhere in the same test) are left out. The family is the rule code."""
    path = "pkg/scan/falsePositives_test.go"
    src = repo.read_many([path])[path].decode()
    pos, neg = [], []
    for m in re.finditer(r"hit:\s*Hit\{(.*?)\n\t\t\t\},\s*\n\s*wantIsFP:\s*(true|false)", src, re.S):
        body, is_fp = m.group(1), m.group(2) == "true"
        code = re.search(r"Code:\s*(\d+)", body)
        name = re.search(r'Filename:\s*"([^"]+)"', body)
        line = re.search(r"(?:MatchValue|LineValue):\s*(`[^`]*`|\"(?:\\.|[^\"\\])*\")", body)
        if not (code and name and line):
            continue
        text = _go_unquote(line.group(1))
        item = {"source": "earlybird", "family": code.group(1), "path": f"earlybird/{name.group(1)}",
                "text": text.strip("\n") + "\n"}
        if is_fp:
            neg.append(item)
        elif (value := _earlybird_value(text)) and len(value) >= 4 and len(set(value)) > 1:  # not `xxxxxx`
            pos.append({**item, "secrets": [value]})
    return pos, neg


def repo_supervisor_cases(repo: Repo) -> list[dict]:
    """auth0/repo-supervisor: the fixture files its CLI test (test/integration/src/cli.js) expects secrets in,
    with those secrets (a `NAME=value` finding counts its value), and its fixtures.json random secrets as bare
    tokens. The family is the fixture file."""
    spec = repo.read_many(["test/integration/src/cli.js"])["test/integration/src/cli.js"].decode()
    expected: dict[str, list[str]] = {}
    m = re.search(r"'\{\"result\":\[(\{\"filepath\".*?)\]\}'", spec)
    for item in json.loads("[" + m.group(1) + "]") if m else []:
        expected[item["filepath"].removeprefix("./")] = [re.sub(r"^[A-Z_]+=", "", s) for s in item["secrets"]]
    texts = repo.read_many(sorted(expected))
    cases = []
    for path, secrets in sorted(expected.items()):
        text = texts[path].decode("utf-8", "replace")
        if found := [s for s in secrets if s in text]:
            cases.append({"source": "repo-supervisor", "family": path.rsplit("/", 1)[-1],
                          "path": "supervisor/" + path.rsplit("/", 1)[-1], "text": text, "secrets": found})
    fixtures = json.loads(repo.read_many(["test/fixtures/fixtures.json"])["test/fixtures/fixtures.json"])
    for value in fixtures.get("randomSecrets", []):
        cases.append({"source": "repo-supervisor", "family": "randomSecrets", "input": value, "secrets": [value]})
    return cases


# ---------------------------------------------------------------------------------------------
# Realistic code around a bare token

_WRAPPERS = (
    ("go", "config.go", 'package config\n\nfunc newClient() *Client {\n\t{camel}Key := "{v}"\n\treturn &Client{key: {camel}Key}\n}\n'),
    ("python", "settings.py", 'import os\n\n{UPPER}_API_KEY = "{v}"\nTIMEOUT = 30\n'),
    ("csharp", "Secrets.cs", 'namespace App\n{\n    public static class Secrets\n    {\n        private const string {camel}Key = "{v}";\n    }\n}\n'),
    ("javascript", "client.js", "const client = createClient({\n  {camel}Token: '{v}',\n  retries: 3,\n});\n"),
    ("shell", "deploy.sh", "#!/bin/sh\nexport {UPPER}_KEY={v}\n./run.sh --verbose\n"),
    ("yaml", "config.yaml", "{lower}:\n  enabled: true\n  api_key: {v}\n"),
    ("xml", "credentials.xml", "<com.cloudbees.plugins.credentials.impl.StringCredentialsImpl>\n  <scope>GLOBAL</scope>\n  <id>{lower}</id>\n  <secret>{v}</secret>\n</com.cloudbees.plugins.credentials.impl.StringCredentialsImpl>\n"),
    ("shell", "fetch.sh", 'curl -s "https://api.{lower}.com/v1/items?auth_token={v}&limit=10"\n'),
    ("env", "app.env.example", "APP_ENV=production\n{UPPER}_SECRET={v}\n"),
    ("java", "Config.java", 'public class Config {\n    static final String {camel}ApiKey = "{v}";\n}\n'),
    ("php", "config.php", "<?php\n$config['{lower}_key'] = '{v}';\n"),
    ("ruby", "client.rb", '{UPPER}_TOKEN = ENV.fetch("{UPPER}_TOKEN", "{v}")\n'),
    ("go", "http.go", 'req.Header.Set("X-{camel}-Key", "{v}")\n'),
    ("json", "settings.json", '{\n  "{lower}": {\n    "token": "{v}"\n  }\n}\n'),
)


def wrap(case: dict) -> dict:
    """A bare token becomes code that uses it; inputs that are already code or config are kept."""
    text, family = case["input"], case["family"]
    bare = "\n" not in text.strip() and not re.search(r"[=:\"'<>{}(]", text.strip()) and " " not in text.strip()
    digest = int(hashlib.sha256(text.encode()).hexdigest(), 16)
    words = re.findall(r"[A-Za-z0-9]+", family) or ["service"]
    lower = "".join(words).lower()
    camel = words[0].lower() + "".join(w.capitalize() for w in words[1:])
    upper = "_".join(w.upper() for w in words)
    if bare:
        lang, name, template = _WRAPPERS[digest % len(_WRAPPERS)]
        body = template.replace("{camel}", camel).replace("{UPPER}", upper).replace("{lower}", lower).replace("{v}", text.strip())
    else:
        lang, name, body = "text", "notes.txt", text
        if re.search(r"(?m)^\s*(?:package|func|import) ", text):
            name = "main.go"
        elif re.search(r"(?m)^\s*<", text):
            name = "config.xml"
        elif re.search(r"(?m)^\s*(?:export )?[A-Z_]+=", text):
            name = "app.env.example" if digest % 2 else "setup.sh"
    return {"source": case["source"], "family": family, "path": f"{lower}/{name}", "text": body, "secrets": case["secrets"]}


# ---------------------------------------------------------------------------------------------
# Clean code


def clean_files(sources: list[Path], per_lang: int) -> list[dict]:
    import random

    pools: dict[str, list[tuple[str, Path | Repo, str]]] = {}
    site = ROOT / ".venv" / "lib" / "python3.11" / "site-packages"
    for path in sorted(site.rglob("*")) if site.exists() else ():
        lang = LANG_SUFFIX.get(path.suffix)
        if lang and path.is_file() and 200 < path.stat().st_size < 100_000:
            pools.setdefault(lang, []).append((f"site-packages/{path.relative_to(site)}", path, ""))
    for name in CLEAN_REPOS:
        repo = find_repo(sources, name)
        if repo is None:
            print(f"clean: {name} not found under {sources}", file=sys.stderr)
            continue
        for rel in repo.files():
            lang = LANG_SUFFIX.get(Path(rel).suffix)
            if lang:
                pools.setdefault(lang, []).append((f"{name}/{rel}", repo, rel))
    out = []
    for lang, pool in sorted(pools.items()):
        random.Random(lang).shuffle(pool)
        picked = pool[:per_lang]
        by_repo: dict[int, list[str]] = {}
        for _, src, rel in picked:
            if isinstance(src, Repo):
                by_repo.setdefault(id(src), []).append(rel)
        blobs = {}
        for _, src, rel in picked:
            if isinstance(src, Repo) and id(src) in by_repo:
                blobs.update({(id(src), k): v for k, v in src.read_many(by_repo.pop(id(src))).items()})
        for shown, src, rel in picked:
            raw = src.read_bytes() if isinstance(src, Path) else blobs.get((id(src), rel))
            if not raw or b"\0" in raw or len(raw) > 100_000:
                continue
            out.append({"lang": lang, "path": shown, "text": raw.decode("utf-8", "replace")})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", action="append", type=Path)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--clean-per-lang", type=int, default=700)
    parser.add_argument("--with-rule-examples", action="store_true",
                        help="also kingfisher's rule examples (in-distribution since its rules are vendored)")
    args = parser.parse_args()
    sources = args.sources or [Path("/work/.mirror"), DEFAULT_OUT / "src"]
    args.out.mkdir(parents=True, exist_ok=True)

    cases = []
    builders = list(zip(MEASURE, (trufflehog_cases, credsweeper_cases, secretlint_cases, whispers_cases,
                                  detect_secrets_cases, ripsecrets_cases, leaky_repo_cases, repo_supervisor_cases)))
    if args.with_rule_examples:
        builders.append(("mongodb+kingfisher", kingfisher_cases))
    builders += list(zip(MEASURE_WITH_NEGATIVES, (gosec_cases, bandit_cases, eslint_no_secrets_cases, talisman_cases,
                                                  sonar_java_cases, sonar_python_cases, trivy_cases, semgrep_cases,
                                                  earlybird_cases)))
    negatives = []
    for name, build in builders:
        repo = find_repo(sources, name)
        if repo is None:
            sys.exit(f"{name} not found under {[str(s) for s in sources]}; clone it there (see --help)")
        found = build(repo)
        if isinstance(found, tuple):
            found, neg = found
            negatives += neg
            print(f"{name}: {len(neg)} labelled non-secrets", file=sys.stderr)
        print(f"{name}: {len(found)} cases from {len({c['family'] for c in found})} families", file=sys.stderr)
        cases += [wrap(c) if "input" in c else c for c in found]
    for case in cases + negatives:  # a variant of another source's case (leaky-repo/renamed) shares its half
        case["half"] = half_of(case.pop("split_source", case["source"]), case["family"])
    with (args.out / "negatives.jsonl").open("w") as out:
        for item in negatives:
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
    seen = set()
    with (args.out / "cases.jsonl").open("w") as out:
        for case in cases:
            key = (case["text"], tuple(case["secrets"]), case["path"] if case["source"].endswith("/renamed") else "")
            if key in seen:
                continue
            seen.add(key)
            out.write(json.dumps(case, ensure_ascii=False) + "\n")
    halves = [c["half"] for c in cases]
    print(f"cases: {len(seen)} ({halves.count('tuning')} tuning, {halves.count('heldout')} held-out before dedup)", file=sys.stderr)

    clean = clean_files(sources, args.clean_per_lang)
    with (args.out / "clean.jsonl").open("w") as out:
        for item in clean:
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
    langs = {}
    for item in clean:
        langs[item["lang"]] = langs.get(item["lang"], 0) + 1
    print(f"clean files: {len(clean)} {langs}", file=sys.stderr)


if __name__ == "__main__":
    main()

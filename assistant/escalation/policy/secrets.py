"""Secret detectors: known formats first (kura's own, gitleaks' vendored rules, detect-secrets' regex
plugins, the policy's regexes), then the structural net (credential-named assignments, random-looking
values: structural.py).

`SecretScanner(redaction).scan(text, path) -> list[Hit]` is pure; a hit carries the rule id and
span, never a copy of the matched value beyond the caller's own text.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from assistant.escalation.policy.model import Action, Redaction
from assistant.escalation.policy.structural import is_charset, name_of_words, password_hits, random_value_hits, wordiness
from assistant.escalation.policy.views import VIEW_RULES, view_hits

PLACEHOLDER = re.compile(r"KURA_[A-Z]+_\d+")


@dataclass(frozen=True)
class Hit:
    """A detector's match over `text[start:end]`."""

    rule_id: str
    kind: str  # "secret" or a name category ("email", "ip", "host", "url", "term", "ident")
    start: int
    end: int
    action: str  # "redact" | "block" for secrets; "replace" for names


Check = Callable[[str, re.Match, str | None], bool]  # (value, match, path) -> is it a secret?


@dataclass(frozen=True)
class Detector:
    id: str
    description: str
    regex: re.Pattern
    group: int | str = 0
    check: Check | None = None
    needles: tuple[str, ...] = ()  # substrings one of which must occur (a cheap prefilter); lowercase ones
    # are looked up in the lowercased text, any with a capital letter in the text as written


# ---------------------------------------------------------------------------------------------
# Value heuristics

_PLACEHOLDER_VALUES = {
    "", "password", "passwd", "secret", "token", "changeme", "change_me", "changeit", "xxx", "xxxx",
    "none", "null", "nil", "undefined", "true", "false", "todo", "redacted", "example", "dummy",
    "string", "str", "required", "optional", "your_password", "yourpassword", "your-password",
    "your_token", "your_api_key", "your-api-key", "api_key", "apikey", "secret_key", "access_token",
    "refresh_token", "id_token", "bearer", "basic", "token_type", "client_credentials", "password123"[:0],
    # the names every tutorial and test uses for "some value"
    "foo", "bar", "baz", "qux", "foobar", "test", "testing", "pass", "pwd", "qwerty", "asdf", "username:password",
    "whatever",
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
    if re.fullmatch(r":?[*xX.•#_-]+", v) or re.fullmatch(r"<[^<>]*>|\$\{[^}]*\}|\{\{.*\}\}|\{\s*[\w.\-\[\]]*\s*\}|%\(?\w*\)?[sd]|\$\w+|\$\(.*\)", v):
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


def _looks_config(path: str | None) -> bool:
    if not path:
        return True  # unknown: assume the looser syntax, i.e. detect more
    name = path.rsplit("/", 1)[-1].lower()
    return (".env" in name or name.startswith("dockerfile") or name.endswith(_CONFIG_SUFFIXES) or "." not in name
            or name.endswith((".example", ".sample", ".template", ".dist", ".tpl")))


_REGEX_SOURCE = re.compile(r"\(\?[:=!<P]|\[\^?[A-Za-z0-9]-[A-Za-z0-9]|\\[dwsSbB]|[\]\w)]\{\d+(?:,\d*)?\}")


def _secret_like(value: str, min_len: int = 8) -> bool:
    """A token-ish literal: long enough, no spaces, mixes character classes, not a path/URL/word."""
    if len(value) < min_len or re.search(r"\s", value) or "://" in value or value.startswith(("/", "./", "~")):
        return False
    if re.fullmatch(r"[#@:$%&*!]?[a-z]+(?:[_.\-][a-z]+)*", value) or re.fullmatch(r"[A-Z]+(?:_[A-Z]+)*", value):
        return False  # lowercase words (maybe a symbol's sigil: "#bygroup") / CONSTANT_NAMES
    if re.fullmatch(r"(?:[A-Z]?[a-z]+|[A-Z])(?:-(?:[A-Z]?[a-z]+|[A-Z]+))+|[a-z_]+(?:/[a-z_]+)+", value):
        return False  # a header name ("X-Xet-Access-Token"), a module path ("rack/protection/x")
    if _REGEX_SOURCE.search(value) or name_of_words(value):
        return False  # a regular expression's source, an identifier
    classes = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z0-9]"))
    return classes >= 2 and shannon_entropy(value) >= 2.5


_CRED_WORDS = {"password", "passwd", "pwd", "pass", "passphrase", "passcode", "pw", "secret", "token",
               "credential", "credentials", "salt"}
# Abbreviated spellings (PSWD, PSSWRD, PASWORD) and the password words of the languages kura serves.
_PASSWORD_SPELLING = re.compile(r"(?i)pa?s{1,2}w(?:o?r)?d|pass_word|passw|비밀번호|비번|암호|패스워드|パスワード|暗証番号|密码|密碼|口令")
# `secret key`, `api key`, `Authentication key`: a credential word, then a space, then "key".
_SPACED_KEY = re.compile(r"(?i)(?:secret|api|access|private|auth\w*|encryption|signing|license|master|client|app)[ \t]$")
_KEY_PREFIXES = ("api", "access", "secret", "private", "auth", "signing", "encryption", "master", "account",
                 "app", "consumer", "license", "shared", "client", "sas", "storage", "subscription", "service",
                 "webhook", "session", "admin", "hmac", "jwt", "crypt", "cipher", "aes", "root", "deploy")


# Whose password a glued `…pass` names ("dbpass", "rootpass"), against words that end in "pass" ("bypass").
_PASS_OWNERS = ("db", "sql", "admin", "root", "user", "ftp", "smtp", "mail", "ldap", "redis", "app", "svc", "ssh")


def _key_before(text: str, start: int) -> str:
    i = start
    while i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_.-"):
        i -= 1
    return text[i:start]


def _credential_key(text: str, match: re.Match) -> str | None:
    """'password'-type or 'token'-type when the identifier ending at the keyword names a credential."""
    word = match.group("word")
    before = _key_before(text, match.start("word"))
    low = word.lower()
    if low == "key":
        stem = re.sub(r"[_.\-]$", "", before).lower()
        if not before and _SPACED_KEY.search(text, max(0, match.start("word") - 24), match.start("word")):
            return "token"
        return "token" if stem.endswith(_KEY_PREFIXES) or stem.startswith("x-") else None  # x-: a header
    if _PASSWORD_SPELLING.fullmatch(word):
        return "password"
    if low not in _CRED_WORDS:
        return None
    if before and before[-1].isalnum() and low in ("pass", "pw", "secret", "token"):
        if (not (before[-1].islower() and word[0].isupper()) and not before.isupper()
                and not (low == "pass" and before.lower().endswith(_PASS_OWNERS))):
            return None  # inside a word: "bypass", "compass"
    return "password" if low.startswith("pass") or low in ("pwd", "pw", "passwd") else "token"


_ASSIGNMENT = re.compile(
    r"""(?P<word>(?i:pa?s{1,2}w(?:o?r)?d|pass_word|passw(?![a-z])|passwd|passphrase|passcode|pass|pwd|pw|secret|token|key|credentials?|salt)
        |비밀번호|비번|암호|패스워드|パスワード|暗証番号|密码|密碼|口令)
        \d{0,2}(?:\[\w*\]|[ \t]*:[ \t]*[A-Za-z_][\w.<>?!]*(?:\[\])?(?=[ \t]+=[^=>])
          |[ \t]+(?:string|\[\]byte|\[\]rune)(?=[ \t]*=[^=])  # Go: `const apiKey string = "…"`
          |[ \t]*\{[ \t]*get;[^{}\n]*\}(?=[ \t]*=[^=>]))?  # C#: `Password { get; set; } = "…"`
        (?P<close>["'`\]]{0,2})
        [ \t]*(?P<op>\|\|=|\?\?=|:=|\?=|=>|!==?|={1,3}|:|：|,|\(|<-|[ \t]-(?=[ \t]*["'`])|[ \t]is(?=[ \t]*["'`])|(?<=[ \t])(?=["']))[ \t]*
        (?:(?:[fFbBrRuU]{1,2}|@|\[\](?:byte|rune)\()?(?P<q>["'`])(?P<qv>(?:\\.|(?!(?P=q))[^\\\n]){0,512})(?P=q)
          |(?P<uv>[^\s,;'"`)\]}]{1,512}))""",
    re.VERBOSE,
)


def _chosen_signing_secret(text: str, match: re.Match, value: str) -> bool:
    """`SECRET_KEY = "woopie"`, `"JWT_SECRET_KEY": "hunter2"`: an application's signing secret is chosen by a
    person, so under a `…secret_key` / `…SecretKey` name one token of any shape is the secret (a constant's
    or variable's name, a path, a URL, a value that names itself are not)."""
    if match.group("word").lower() != "key" or not re.sub(r"[_.\-]$", "", _key_before(text, match.start("word"))).lower().endswith("secret"):
        return False
    if not 6 <= len(value) <= 128 or re.search(r"\s", value) or "://" in value or value.startswith(("/", "./", "~", "$")):
        return False
    low = value.lower()
    return not (re.fullmatch(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+", value) or "secret" in low or "key" in low
                or name_of_words(value) or re.fullmatch(r"[A-Za-z_]\w*(?:\.\w+)+", value))


def _inside_string(text: str, start: int) -> bool:
    """Whether `start` lies inside a string literal opened earlier on its line (an odd count of unescaped
    double quotes, or of single quotes where there are no double ones, before it) or in a comment."""
    line = re.sub(r"\\.", "", text[text.rfind("\n", 0, start) + 1:start])
    doubles = line.count('"')
    if re.match(r"[ \t]*(?:#|//|/?\*|--|;)", line) or re.search(r"(?:^|[ \t])(?:#|//)[ \t]", line) and doubles % 2 == 0:
        return True  # a comment: what follows `password:` there is a value, not an expression
    return doubles % 2 == 1 or (doubles == 0 and line.count("'") % 2 == 1)


def _config_value(value: str) -> bool:
    """A quoted value in a configuration file is data, as an unquoted one is: under a secret's key, any single
    token is the secret (`"clientSecret": "do_not_use_this_in_production"`), save a reference to one (an
    environment variable's or setting's NAME, a path, a URL, `${…}`)."""
    return (6 <= len(value) <= 512 and not re.search(r"\s", value) and "://" not in value
            and not value.startswith(("/", "./", "~", "$", "%", "{")) and not re.fullmatch(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+", value))


def _made_up_value(value: str) -> bool:
    """`hello-world-99`, `apisecret-v2-x`: words joined by dashes or underscores with a number among them, as a
    person makes up a secret; not a version (`v1-2`), a constant's NAME or a short `id_1`."""
    return (8 <= len(value) <= 64 and bool(re.fullmatch(r"[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)+", value))
            and bool(re.search(r"\d", value)) and len(re.findall(r"[A-Za-z]", value)) >= 4
            and not re.fullmatch(r"[A-Z0-9_]+|v?\d+(?:[-_]\w+)?|\d{4}-\d{2}-\d{2}\w*", value))


def _assignment_hits(text: str, path: str | None) -> Iterator[tuple[int, int]]:
    config = _looks_config(path)
    data = config or bool(path) and path.lower().endswith((".json", ".xml", ".plist"))  # values, not code
    for match in _ASSIGNMENT.finditer(text):
        kind = _credential_key(text, match)
        if kind is None:
            continue
        quoted = match.group("q") is not None
        if match.group("op") in (",", "(", "||=", "??=") and not quoted:
            continue  # `password, other` in a parameter list; `check(password)`; `token ??= fetchToken()`
        if (match.group("op") == "," and match.group("close")[:1] in ("'", '"', "`")
                and not _key_before(text, match.start("word")).lower().startswith("x-")
                and not (quoted and _first_argument(text, match.start("word")))):
            continue  # `'pass', 'raise'`: the next item of a list of strings (a header's value, and
            # `put("password", "x")`, `define("DB_PASSWORD", "x")`, are not)
        if not match.group("op") and not (kind == "password" and quoted and match.group("word").lower() not in ("pass", "pw")):
            continue  # `password "x"` (Gradle, Groovy): only a password word ("pass 'self'" is prose), only a literal
        value = match.group("qv") if quoted else match.group("uv")
        if not quoted and config and match.group("op") == ":" and re.fullmatch(r"[|>][+-]?", value):
            block = re.compile(r"\n[ \t]+([^\s#][^\n]{3,255}?)[ \t]*(?=\n|$)").match(text, match.end("uv"))
            body = block.group(1) if block else ""
            if block and not re.search(r"\s", body) and not is_placeholder_value(body) and (kind == "password" or _secret_like(body)):
                yield block.span(1)  # `password: >-` (a YAML block scalar), then the value indented on the next line
            continue
        if not quoted and (config or match.group("op") in ("=", ":=")):
            whole = _unquoted_literal(text, match.start("uv"), config)
            if whole is not None:
                if not is_placeholder_value(text[whole[0]:whole[1]]):
                    yield whole
                continue
        if is_placeholder_value(value):
            continue
        bare_braces = text[match.start("q") - 1:match.start("q")] in ("f", "F", "$")
        holes = _template_holes(value, bare_braces) if quoted else []
        if holes and not re.search(r"[A-Za-z0-9+/=_\-]{8}", "".join(re.split("|".join(map(re.escape, holes)), value))):
            continue  # `f"{token[:3]}****{token[-4:]}"`: a template around variables, no literal secret
        if not quoted and re.fullmatch(r"[A-Za-z_][\w.]*\(", value):
            # `SECRET := getenv("NAME", "default")`: the literal default is the credential, the call is code.
            call = _call_default(text, match.end("uv"))
            if call is not None:
                yield call
            continue
        if not quoted:
            if value.startswith("\\"):
                continue  # an escape sequence (`passwd:\n`), not a value
            if config:
                if match.group("op") == ":" and (value.startswith("!") or re.fullmatch(r"[&*][\w-]+", value)):
                    continue  # YAML tags, anchors and aliases (after `key:`; `passwd=*4_x` is a value)
            elif value.startswith(("!", "|", ">", "&", "*", "$", "%", "<", "@", "#")) or re.search(r"[(\[{]", value):
                continue
            expression = re.fullmatch(r"[A-Za-z_$][\w$]*(?:(?:\.|::|->)[A-Za-z_$][\w$]*)*|[\d.]+|\w+[:+\-]?", value)
            if not config and expression and not (_inside_string(text, match.start("word")) and _secret_like(value, 6)
                                                  and re.search(r"\d", value) and not _dotted_name(value)):
                continue  # `passwd = other` is code; `"user=a;passwd=Kx8mQ2zv"` is a literal holding a value
            if not config and not (kind == "password" or (_secret_like(value, 12) and re.search(r"\d", value))):
                continue
            if not config and re.fullmatch(r"[A-Z][a-z]+(?:[A-Z][a-z]+)*-[A-Z][A-Za-z]+", value):
                continue  # a PowerShell cmdlet (`$pw = ConvertTo-SecureString …`), not a value
            if re.fullmatch(r"[A-Za-z_]\w*(?:\.\w+)+", value) and not config:
                continue
        elif kind == "token" and (not (_secret_like(value) or re.fullmatch(r"\d{16,}", value)) or _dotted_name(value)):
            if _dotted_name(value) or not (_chosen_signing_secret(text, match, value) or (data and _config_value(value))
                                           or _made_up_value(value)):
                continue
        elif kind == "password" and re.search(r"\s\S+\s\S+\s", value) and value[:1].isupper():
            continue  # a sentence: a label or help text
        group = "qv" if quoted else "uv"
        yield match.start(group), match.end(group)


_INTERPOLATION = re.compile(r"\$?\{[A-Za-z_][^{}\n]*\}|#\{[^{}\n]*\}")
_CLOSER = {"(": ")", "[": "]", "{": "}"}


def _balanced(code: str) -> bool:
    """Brackets closed in order and quotes paired, as in any expression a program could hold."""
    stack: list[str] = []
    for ch in code:
        if ch in _CLOSER:
            stack.append(_CLOSER[ch])
        elif ch in ")]}":
            if not stack or stack.pop() != ch:
                return False
    return not stack and all(code.count(q) % 2 == 0 for q in "'\"`")


def _unclosed(code: str) -> str:
    """The closers that the brackets and quotes left open in `code` still need, innermost last."""
    need: list[str] = []
    for ch in code:
        if need and need[-1] in "'\"`":
            if ch == need[-1]:
                need.pop()
        elif ch in _CLOSER:
            need.append(_CLOSER[ch])
        elif ch in "'\"`":
            need.append(ch)
        elif ch in ")]}" and need and need[-1] == ch:
            need.pop()
    return "".join(need)


def _template_holes(value: str, bare_braces: bool) -> list[str]:
    """The interpolations of a string template (`${name}`, `#{expr}`, and `{expr}` in an f-string or a
    C# `$"..."`) whose inside is a well-formed expression; `${e]x(` in a random value is no hole."""
    pattern = r"[$#]?\{([^{}\n]*)\}" if bare_braces else r"[$#]\{([^{}\n]*)\}"
    return [m.group(0) for m in re.finditer(pattern, value)
            if re.match(r"[A-Za-z_@.!]|$", m.group(1)) and _balanced(m.group(1))]


def _unquoted_literal(text: str, start: int, config: bool) -> tuple[int, int] | None:
    """An unquoted value that runs on past a bracket or quote to the next space, where that run is no
    expression a program could hold (`pw := Xk{9]q(2z`, a config's `key = a}b)c`): the whole run is the
    value. None where the value is code, or stops at a bracket that closes something before it."""
    end = start
    while end < len(text) and not text[end].isspace():
        end += 1
    run = text[start:end]
    stop = re.search(r"[\s,;'\"`)\]}]", run)
    if stop is None or run[stop.start()] == ",":
        return None  # the value ends where the regex ended it: nothing more to take
    core = run.rstrip(",;")
    line_start = text.rfind("\n", 0, start) + 1
    opened = _unclosed(text[line_start:start])
    while core and opened and core[-1] == opened[-1]:
        core, opened = core[:-1].rstrip(",;"), opened[:-1]  # `f(token = default)`: the call's own bracket
    if not re.search(r"[\s,;'\"`)\]}]", core):
        return None
    if len(core) < 8 or not core[0].isalnum() or re.match(r"[\w.$&*]+[(\[]", core) or core[-1] in "([{":
        return None  # a call or an index, or a literal opened here and closed on later lines: code
    if _balanced(core) and not (config and re.search(r"[)\]}]", core)):
        return None  # `f(x)`, `{a: b}`: a well-formed expression
    if len(re.findall(r"[A-Za-z0-9]", core)) < 4 or shannon_entropy(core) < 3.0:
        return None
    return start, start + len(core)


def _first_argument(text: str, word_start: int) -> bool:
    """Whether the string literal holding the word at `word_start` is a call's first argument."""
    i = word_start - len(_key_before(text, word_start)) - 1
    return i >= 0 and text[i] in "'\"" and text[:i].rstrip().endswith("(")


def _call_default(text: str, start: int) -> tuple[int, int] | None:
    """The span of the last string literal among two or more arguments of the call whose arguments
    begin at `start` (on the same line), if it looks like a value rather than a name."""
    end = text.find("\n", start)
    line = text[start:len(text) if end < 0 else end]
    literals = list(re.finditer(r"""(["'])((?:\\.|(?!\1)[^\\])*)\1""", line.split(")", 1)[0]))
    if len(literals) < 2 or not literals[-1].group(2) or is_placeholder_value(literals[-1].group(2)):
        return None
    value = literals[-1].group(2)
    if not (_secret_like(value, 6) or re.search(r"\d", value) and re.search(r"[A-Za-z]", value)):
        return None
    return start + literals[-1].start(2), start + literals[-1].end(2)


def _identifier(value: str) -> bool:
    """`createTokenWithCount`: letters only, reading like words (a `Token name` in code, not `Token abc…`)."""
    return value.isalpha() and wordiness(value)[0] >= 0.7


def _dotted_name(value: str) -> bool:
    """`pkg.module.name`, `Items[0].Name`, `~mod.Class`: a reference, not a secret."""
    return bool(re.fullmatch(r"~?[A-Za-z_][\w$]*(?:\[\d+\]|\.[A-Za-z_][\w$]*)+", value))


def _sentinel_assignment(text: str, path: str | None) -> Iterator[tuple[int, int]]:
    """`#define API_KEY "x"` and `<password>x</password>` where no operator separates key and value."""
    for match in re.finditer(r"(?m)^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]+\"([^\"\n]*)\"", text):
        key = match.group(1)
        fake = re.search(r"(?i)(passw(?:or)?d|passwd|pwd|secret|token|key|credentials?)$", key)
        if fake and not is_placeholder_value(match.group(2)) and (
            fake.group(1).lower() != "key" or key.lower()[: fake.start(1)].rstrip("_").endswith(_KEY_PREFIXES)
        ):
            yield match.start(2), match.end(2)
    # `<Pass>` (FileZilla), `<dbPass>`, `<smtp_pass>`: `pass` as a whole word of the tag, not `<bypass>`
    for match in re.finditer(r"<(\w*(?:[Pp]assword|[Ss]ecret|[Tt]oken|[Aa]pi[Kk]ey|PASSWORD|SECRET|TOKEN|[Pp]wd|PWD|[Pp]asswd|PASSWD"
                             r"|[Pp]assphrase|PASSPHRASE)\w{0,8}|(?:\w*[a-z])?(?:Pass|PASS)|(?:\w*_)?pass)(?:\s[^<>\n]*)?>"
                             r"([^<\n]{1,256})</\1>", text):
        value = match.group(2).strip()
        if value and not is_placeholder_value(value):
            yield match.start(2) + match.group(2).index(value), match.start(2) + match.group(2).index(value) + len(value)
    # `<entry key="db.password">x</entry>` (Java's XML properties), `<setting name="ApiToken">x</setting>`
    for match in re.finditer(r"""<([\w:.\-]+)\s[^<>\n]*?\b(?:key|name)=["']([\w.\-:]{1,64})["'][^<>\n]*>([^<\n]{1,256})</\1>""", text):
        value = match.group(3).strip()
        if (match.group(1) not in ("param", "typeparam", "paramref", "exception", "see")  # C# doc comments: prose
                and _CREDENTIAL_NAME.search(match.group(2)) and value and not re.search(r"\s", value)
                and not is_placeholder_value(value)):
            yield match.start(3), match.end(3)


_CREDENTIAL_NAME = re.compile(r"(?i)(?:pa?s{1,2}w(?:o?r)?d|passwd|passphrase|pwd|(?<![a-z])pass|secret|token|api[_.\-]?key"
                              r"|access[_.\-]?key|private[_.\-]?key|credentials?)\d{0,2}$")
_NAME_VALUE = re.compile(
    r"""["']?(?:key|name)["']?[ \t]*[:=][ \t]*["']?(?P<n1>[\w.\-]{1,64})["']?[ \t]*,[ \t]*["']?value["']?[ \t]*[:=][ \t]*(?P<q1>["'])(?P<v1>[^"'\n]{1,512})(?P=q1)"""
    r"""|(?m:^[ \t]*-?[ \t]*(?:key|name):[ \t]*["']?(?P<n2>[\w.\-]{1,64})["']?[ \t]*\n[ \t]*value:[ \t]*["']?(?P<v2>[^\s"'#]{1,512}))"""
    r"""|<(?P<t>key|name)>(?P<n3>[\w.\-]{1,64})</(?P=t)>\s*<value>(?P<v3>[^<\n]{1,512})</value>""")


def _name_value_hits(text: str, path: str | None) -> Iterator[tuple[int, int]]:
    """`{"name": "DB_PASSWORD", "value": "x"}`, `- name: DB_PASSWORD` / `value: x` (Kubernetes env),
    `<name>password</name><value>x</value>`: the value of a pair whose name names a credential."""
    if "value" not in text:
        return
    for match in _NAME_VALUE.finditer(text):
        n = next(i for i in (1, 2, 3) if match.group(f"v{i}") is not None)
        if _CREDENTIAL_NAME.search(match.group(f"n{n}")) and not is_placeholder_value(match.group(f"v{n}")):
            yield match.span(f"v{n}")


_BYTE = r"(?:0[xX][0-9a-fA-F]{1,2}|\d{1,3})"
_BYTE_ARRAY = re.compile(r"\{[\s\\]*(?P<body>(?:" + _BYTE + r"[\s\\]*,[\s\\]*){7,}(?:" + _BYTE + r")?)")
_ARRAY_NAME = re.compile(r"(?P<name>[A-Za-z_]\w*)[ \t]*(?:\[[^\]\n]*\][ \t]*)*(?:=[ \t]*)?$")
_KEY_NAME = re.compile(r"(?i)(?:key|secret|passw(?:or)?d|pwd|token|salt)$")


def _byte_array_hits(text: str, path: str | None) -> Iterator[tuple[int, int]]:
    """`#define AESKEY {0x35, 0x34, …}`, `uint8_t key[16] = {…}`: a key written as an array of bytes."""
    if "{" not in text:
        return
    for match in _BYTE_ARRAY.finditer(text):
        named = _ARRAY_NAME.search(text, max(0, match.start() - 120), match.start())
        if named is None:
            continue
        name = named.group("name")
        key = _KEY_NAME.search(name)
        if key is None:
            continue
        stem = name[:key.start()].rstrip("_").lower()
        if key.group(0).lower() == "key" and stem and not stem.endswith(_KEY_PREFIXES):
            continue  # `hash_key`, `sort_key`: a lookup key, not a cipher's
        body = match.group("body").rstrip(" \t\\\n,")
        if len(set(re.findall(_BYTE, body))) >= 4:
            yield match.start("body"), match.start("body") + len(body)


_PASSWORD_WORD = r"(?i:pa?s{1,2}w(?:o?r)?d|passwd|pwd|(?:" + "|".join(_PASS_OWNERS) + r")_?pass)"
_SUFFIXED_PASSWORD_NAME = re.compile(_PASSWORD_WORD + r"(?:_[A-Za-z0-9]+){1,2}$")
_PASSWORD_NAME_SUFFIXED = re.compile(  # the owner of a glued `pass` is checked apart: a regex that starts
    # with a dozen alternatives costs milliseconds on every request
    r"(?P<name>(?P<word>(?i:pa?s{1,2}w(?:o?r)?d|passwd|pwd|pass))(?:_[A-Za-z0-9]+){1,2})"
    r"""[ \t]*(?::=|=)[ \t]*(?:(?P<q>["'`])(?P<qv>[^"'`\s][^"'`\n]{6,254}[^"'`\s])(?P=q)|(?P<uv>[^\s"'`]{8,256}))""")
_NOT_THE_PASSWORD = re.compile(
    r"(?i)_(?:hash\w*|digest|len\w*|min|max|size|type|name|label|field|prompt|path|file|url|uri|env|var|key|id|header"
    r"|param\w*|policy|regex|re|pattern|format|mode|count|expir\w*|ttl|reset|confirm\w*|hint|help|placeholder|enabled"
    r"|input|column|attr\w*|error|msg|message|text|title|strength|valid\w*|check|rules?|template|command|cmd|store"
    r"|manager|provider|form|widget|encoder|hasher|salt|algo\w*|method|scheme|selector|locator|xpath|css|icon|class)(?=_|$)")


# The same in camelCase (`dbPasswordProd`, `passwordBackup2`): the qualifier's words are capitalised.
_PASSWORD_NAME_CAMEL = re.compile(
    r"(?P<name>(?P<word>[Pp]ass(?:word|wd|phrase)|[Pp]wd)(?:[A-Z][a-z]*\d{0,2}){1,2})(?![\w$])"
    r"""[ \t]*(?::=|=)[ \t]*(?:(?P<q>["'`])(?P<qv>[^"'`\s][^"'`\n]{6,254}[^"'`\s])(?P=q)|(?P<uv>[^\s"'`]{8,256}))""")


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _suffixed_password_hits(text: str, path: str | None) -> Iterator[tuple[int, int]]:
    """`db_password_prod = "x"`, `smtp_pwd_backup := x`, `dbPasswordProd = "x"`: a password name with a
    qualifier after it, holding a value shaped like a password (a name that describes the password,
    `password_hash`, `passwordField`, is no password, and neither is a word, a path or an expression)."""
    camel = _PASSWORD_NAME_CAMEL.finditer(text) if ("assw" in text or "wd" in text or "assp" in text) else ()
    for match in itertools.chain(_PASSWORD_NAME_SUFFIXED.finditer(text), camel):
        before = _key_before(text, match.start())
        if match.re is _PASSWORD_NAME_CAMEL:
            if before and not (before[-1] in "_." or (before[-1].isalnum() and match.group("word")[0].isupper())):
                continue  # inside a word
        elif match.group("word").lower() == "pass":
            if not before.lower().rstrip("_").endswith(_PASS_OWNERS):
                continue  # `pass_manager`, `bypass_cache`: no password
        elif before and before[-1] not in "_.":
            continue  # inside a word
        if _NOT_THE_PASSWORD.search(_snake(match.group("name"))):
            continue  # a name that describes the password
        group = "qv" if match.group("q") else "uv"
        value = match.group(group)
        if is_placeholder_value(value):
            continue
        if group == "uv":
            config = _looks_config(path)
            whole = _unquoted_literal(text, match.start("uv"), config)
            if whole is None and not (config and _secret_like(value.rstrip(",;"))):
                continue
            yield whole or (match.start("uv"), match.start("uv") + len(value.rstrip(",;")))
        elif re.search(r"\s", value):
            # a passphrase ("lantern over the weir"), not a sentence of help text ("Use 8 or more characters.")
            if len(value) <= 64 and not (value[:1].isupper() and re.search(r"\s\S+\s\S+\s", value)) and not re.search(r"[.!?:]$|\{\w*\}|%[sd]", value):
                yield match.span("qv")
        elif _secret_like(value) or (shannon_entropy(value) >= 3.0 and re.search(r"[^\w]", value)
                                     and not _REGEX_SOURCE.search(value) and "://" not in value):
            yield match.span("qv")


_COMPARED = re.compile(r"""(?P<q>["'`])(?P<v>(?:\\.|(?!(?P=q))[^\\\n]){4,512})(?P=q)[ \t]*(?:===?|!==?)[ \t]*(?P<name>[A-Za-z_$][\w$.]*)""")


_QUOTED = r"""(?P<q>["'`])(?P<v>(?:\\.|(?!(?P=q))[^\\\n]){4,512})(?P=q)"""
_OPERAND = r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*"
# `password.equals("x")`, `"x".equals(password)`, `Objects.equals(password, "x")`, `strcmp(pw, "x")`: an
# equality written as a call, either operand first (a `==` written name first is an assignment's match).
# Found from the call (a literal anchor), then its operands are read either side.
_EQ_CALL = re.compile(r"(?P<fn>equals|equalsIgnoreCase|Equals|contentEquals|eql\?|equal\?|strn?cmp"
                      r"|strcasecmp|_?stricmp|compare_digest|hash_equals|secure_compare|safe_str_cmp|constant_time_compare)[ \t]*\([ \t]*")
_EQ_HINT = re.compile(r"qual|eql\?|cmp|compare")  # a quick scan for the calls' names (a long alternation is slow)
_RECEIVER = re.compile("(?:(?<![\\w$.])(?P<name>" + _OPERAND + r")(?:\(\))?|" + _QUOTED + r")[ \t]*$")
_ARGUMENT = re.compile("(?:(?P<name>" + _OPERAND + ")|" + _QUOTED + r")[ \t]*(?P<end>[),])")
_ARGUMENT2 = re.compile("[ \t]*(?:(?P<name>" + _OPERAND + ")|" + _QUOTED + r")[ \t]*\)")


def _equals_call_pairs(text: str) -> Iterator[tuple[str, int, int]]:
    """(name, start, end of the literal) for each equality call between a name and a literal."""
    for hint in _EQ_HINT.finditer(text):
        start = hint.start()
        while start and (text[start - 1].isalnum() or text[start - 1] in "_$"):
            start -= 1  # back to the start of the name (a longer one, `assertEquals`, matches no call)
        call = _EQ_CALL.match(text, start)
        if call is None or call.end("fn") < hint.end():
            continue
        first = _ARGUMENT.match(text, call.end())
        if first is None:
            continue
        before = text[max(0, call.start() - 120):call.start()].rstrip(" \t")
        if before.endswith(".") and first.group("end") == ")":  # a method: the receiver and the one argument
            receiver = _RECEIVER.search(before[:-1])
            operands = [receiver, first] if receiver else []
        elif first.group("end") == ",":  # a function of two arguments (`Objects.equals(a, b)`)
            second = _ARGUMENT2.match(text, first.end())
            operands = [first, second] if second else []
        else:
            continue
        names = [m.group("name") for m in operands if m.group("name")]
        literals = [m for m in operands if m.group("v") is not None]
        if len(names) == 1 and len(literals) == 1:
            yield names[0], literals[0].start("v"), literals[0].end("v")


def _compared_secret(name: str, value: str) -> bool:
    """A literal compared with `name` is its credential: the name names one and the value is no stand-in."""
    name = name.rsplit(".", 1)[-1]
    suffixed = _SUFFIXED_PASSWORD_NAME.search(name) and not _NOT_THE_PASSWORD.search(name)
    if not (_CREDENTIAL_NAME.search(name) or suffixed) or is_placeholder_value(value):
        return False
    return bool(_PASSWORD_SPELLING.search(name) or suffixed or _secret_like(value) or (
        not re.search(r"\s", value) and shannon_entropy(value) >= 3.0 and re.search(r"[^\w]", value)))


def _compared_hits(text: str, path: str | None) -> Iterator[tuple[int, int]]:
    """`if ("x" == password)`: a literal compared with a credential-named variable, written value first
    (the name-first order is an assignment's, `credential-assignment`), or compared by a call in either
    order (`password.equals("x")`, `"x".equals(token)`, `strcmp(passwd, "x")`)."""
    for match in _COMPARED.finditer(text):
        if _compared_secret(match.group("name"), match.group("v")):
            yield match.span("v")
    if "qual" not in text and "eql?" not in text and "cmp" not in text and "compare" not in text:
        return
    for name, start, end in _equals_call_pairs(text):
        if _compared_secret(name, text[start:end]):
            yield start, end


# Where well-known connection and login calls take their password positionally, from each library's
# documented signature (index from 0). A dotted key needs that receiver (`pg.connect`, not `sqlite3.connect`);
# a bare key is the constructor or function's own name; `.login` needs some receiver (a client object).
_PASSWORD_ARGUMENTS = {
    # Python
    "pg.DB": 5, "pg.connect": 5,  # PyGreSQL: DB(dbname, host, port, opt, user, passwd)
    "Redis": 3, "StrictRedis": 3,  # redis-py: Redis(host, port, db, password)
    "FTP": 2, "FTP_TLS": 2,  # ftplib: FTP(host, user, passwd, acct)
    "MySQLdb.connect": 2, "MySQLdb.Connect": 2, "pymysql.connect": 2,  # connect(host, user, passwd, db)
    "pymssql.connect": 2,  # pymssql.connect(server, user, password, database)
    "cx_Oracle.connect": 1,  # cx_Oracle.connect(user, password, dsn)
    "HTTPBasicAuth": 1, "HTTPDigestAuth": 1, "HTTPProxyAuth": 1,  # requests.auth (username, password)
    "BasicAuth": 1, "DigestAuth": 1,  # aiohttp.BasicAuth(login, password), httpx.BasicAuth / DigestAuth
    "PlainCredentials": 1,  # pika.PlainCredentials(username, password)
    "simple_bind_s": 1, "simple_bind": 1, "bind_s": 1,  # python-ldap: simple_bind_s(who, cred)
    ".login": 1,  # smtplib / imaplib / ftplib / Django's test client: client.login(user, password)
    # Java, Kotlin, C#
    "DriverManager.getConnection": 2,  # getConnection(url, user, password)
    "PasswordAuthentication": 1,  # java.net.PasswordAuthentication(userName, password)
    "UsernamePasswordCredentials": 1,  # Apache HttpClient (userName, password)
    "UsernamePasswordAuthenticationToken": 1,  # Spring Security (principal, credentials)
    "NetworkCredential": 1,  # .NET System.Net.NetworkCredential(userName, password)
    # Go
    "smtp.PlainAuth": 2,  # net/smtp PlainAuth(identity, username, password, host)
    "url.UserPassword": 1,  # net/url UserPassword(username, password)
    ".SetBasicAuth": 1,  # net/http (*Request).SetBasicAuth(username, password)
    # JavaScript
    "Sequelize": 2,  # new Sequelize(database, username, password, options)
    # PHP
    "PDO": 2, "mysqli": 2, "mysqli_connect": 2, "mysql_connect": 2,  # (dsn|host, user, password, ...)
    # C: libmysqlclient mysql_real_connect(mysql, host, user, passwd, db, ...), libpq PQsetdbLogin(host, port,
    # options, tty, dbName, login, pwd)
    "mysql_real_connect": 3, "PQsetdbLogin": 6,
    "ftp_login": 2, "ldap_bind": 2, "ssh2_auth_password": 2,  # (connection, user, password)
    "oci_connect": 1,  # oci_connect(username, password, ...)
    # Signing and encryption keys: PyJWT encode/decode(payload, key), jsonwebtoken sign/verify(payload, secret),
    # hmac.new(key, msg), Node crypto.createHmac(algorithm, key), javax.crypto SecretKeySpec(key, algorithm)
    "jwt.encode": 1, "jwt.decode": 1, "jwt.sign": 1, "jwt.verify": 1, "hmac.new": 0, "createHmac": 1, "SecretKeySpec": 0,
    # Cloud and database credentials: aws-sdk-go NewStaticCredentials(id, secret, token), minio-go
    # NewStaticV4(id, secret, token), aws-sdk-js Credentials(accessKeyId, secretAccessKey), MongoDB's
    # MongoCredential.createCredential(user, database, password) (Java) / CreateCredential(database, user, password) (C#)
    "NewStaticCredentials": 1, "NewStaticV4": 1, "NewStaticV2": 1, "AWS.Credentials": 1,
    "createCredential": 2, "CreateCredential": 2, "createScramSha1Credential": 2, "createScramSha256Credential": 2,
    "createPlainCredential": 2, "Transport.send": 2,  # javax.mail Transport.send(message, user, password)
    # Java keystores take their password as a char[]: KeyStore.load(stream, password), getKey(alias, password),
    # setKeyEntry(alias, key, password, chain), KeyManagerFactory.init(keyStore, password), PBEKeySpec(password),
    # KeyStore.PasswordProtection(password) — only a literal's .toCharArray() is taken for these common names
    "PBEKeySpec": 0, "PasswordProtection": 0,
    # More signing keys: auth0 java-jwt Algorithm.HMAC256(secret), jjwt signWith(algorithm, secret) and
    # setSigningKey(secret), ruby-jwt / php-jwt JWT.encode / JWT::encode(payload, key), golang-jwt
    # SignedString(key), Go hmac.New(hash, key), PHP hash_hmac(algo, data, key), Ruby OpenSSL::HMAC.digest /
    # hexdigest(digest, key, data), .NET HMACSHA256(key) and SymmetricSecurityKey(key), PyCryptodome
    # AES.new(key, mode)
    "Algorithm.HMAC256": 0, "Algorithm.HMAC384": 0, "Algorithm.HMAC512": 0, ".signWith": 1, ".setSigningKey": 0,
    "JWT.encode": 1, "JWT.decode": 1, ".SignedString": 0, "hmac.New": 1, "hash_hmac": 2, "HMAC.digest": 1,
    "HMAC.hexdigest": 1, "HMACSHA1": 0, "HMACSHA256": 0, "HMACSHA384": 0, "HMACSHA512": 0, "SymmetricSecurityKey": 0,
    "AES.new": 0, "DES3.new": 0,
    # A private key's passphrase: Ruby OpenSSL::PKey::RSA.new(pem, passphrase), key.to_pem(cipher, passphrase)
    "RSA.new": 1, ".to_pem": 1,
}
# Whatever a program passes these calls is the key it signs, encrypts or unlocks with, even a word that
# elsewhere stands in for one (`jwt.sign(payload, "secret")`, `Algorithm.HMAC256("my_secret_key")`):
# only an empty, blanked or interpolated value is none.
_KEY_ARGUMENTS = frozenset(k for k in _PASSWORD_ARGUMENTS if re.search(
    r"(?i)jwt|hmac|sign|SecretKeySpec|SymmetricSecurityKey|AES|DES3|RSA|to_pem", k))
_CHAR_ARRAY_PASSWORD_ARGUMENTS = {".load": 1, ".getKey": 1, ".setKeyEntry": 2, ".init": 1}
_ARGUMENT_CALL = re.compile(r"(?<![\w$])(?P<fn>[A-Za-z_][\w$]*)[ \t]*\(")  # every call, looked up by name (quicker
# than an alternation of the names, which the regex engine tries at every position)
_ARGUMENT_CALL_NAMES = frozenset(k.rsplit(".", 1)[-1] for k in (*_PASSWORD_ARGUMENTS, *_CHAR_ARRAY_PASSWORD_ARGUMENTS))
# A literal, maybe turned into bytes or chars: "x".getBytes(), b"x", []byte("x"), Encoding.UTF8.GetBytes("x"),
# Buffer.from("x"), "x".toCharArray().
_ARGUMENT_LITERAL = re.compile(
    r"""\s*(?P<wrap>(?:\[\]byte|[\w.]*GetBytes|Buffer\.from|bytes|str\.encode)\(\s*)?(?:[rRbBuU]{1,2}|@)?(?P<q>["'`])(?P<v>(?:\\.|(?!(?P=q))[^\\\n]){1,256})(?P=q)"""
    r"""(?(wrap)\s*(?:,[^()\n]*)?\))(?:\.toCharArray\(\)|\.getBytes\([^()]*\)|\.encode\([^()]*\))?\s*""")
# `auth=("user", "pw")` (requests, httpx), `http_auth=(…)` (elasticsearch), `auth: ['user', 'pw']`.
_AUTH_PAIR = re.compile(
    r"""(?<![\w$])(?:auth|basic_auth|http_auth|proxy_auth)[ \t]*[=:][ \t]*[(\[][ \t]*(?P<q1>["'])[^"'\n]*(?P=q1)[ \t]*,[ \t]*"""
    r"""(?:[rRbBuU]{1,2})?(?P<q>["'])(?P<v>(?:\\.|(?!(?P=q))[^\\\n]){1,256})(?P=q)[ \t]*,?[ \t]*[)\]]""")


def _call_arguments(text: str, start: int, limit: int = 4000) -> list[tuple[int, int]]:
    """The spans of the top-level arguments of the call whose `(` is just before `start` (over lines),
    up to the closing bracket; strings and nested brackets are skipped whole."""
    spans: list[tuple[int, int]] = []
    depth, i, arg_start, end = 0, start, start, min(len(text), start + limit)
    while i < end:
        ch = text[i]
        if ch in "'\"`":
            close = i + 1
            while close < end and text[close] != ch and (ch == "`" or text[close] != "\n"):
                close += 2 if text[close] == "\\" else 1
            i = close + 1
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                spans.append((arg_start, i))
                return spans
            depth -= 1
        elif ch == "," and depth == 0:
            spans.append((arg_start, i))
            arg_start = i + 1
        i += 1
    spans.append((arg_start, end))
    return spans


def _blank_key(value: str) -> bool:
    """No key at all: too short, one character repeated, masked, or an interpolation or template hole."""
    v = value.strip()
    return (len(v) < 4 or len(set(v)) == 1 or bool(PLACEHOLDER.fullmatch(v))
            or bool(re.fullmatch(r":?[*xX.•#_-]+|<[^<>]*>|\$\{[^}]*\}|\{\{.*\}\}|%\(?\w*\)?[sd]|\$\w+|\$\(.*\)|#\{[^}]*\}", v)))


# Ruby calls its methods without brackets too: `JWT.encode payload, "key", "HS256"`, `RSA.new pem, "pass"`.
_RUBY_COMMAND_CALL = re.compile(r"(?<![\w$])(?P<recv>[A-Z]\w*)(?:\.|::)(?P<fn>[a-z_]\w*)[ \t]+(?=[\w\"':@\[])(?![a-z]+\b[ \t]*[=?:])")


def _call_key(receiver: str | None, fn: str) -> tuple[str | None, int | None, bool]:
    """(the table key, the password argument's index, whether it is a char array) of a call, or Nones."""
    key = None
    if receiver is not None and f"{receiver}.{fn}" in _PASSWORD_ARGUMENTS:
        key = f"{receiver}.{fn}"
    elif fn in _PASSWORD_ARGUMENTS:
        key = fn
    elif receiver is not None and "." + fn in _PASSWORD_ARGUMENTS:
        key = "." + fn
    if key is not None:
        return key, _PASSWORD_ARGUMENTS[key], False
    if receiver is not None and "." + fn in _CHAR_ARRAY_PASSWORD_ARGUMENTS:
        return None, _CHAR_ARRAY_PASSWORD_ARGUMENTS["." + fn], True
    return None, None, False


def _known_calls(text: str, path: str | None) -> Iterator[tuple[str | None, int, bool, list[tuple[int, int]]]]:
    """(key, index, char array, argument spans) for each call of the table's, bracketed or (Ruby) not."""
    if "(" in text:
        for match in _ARGUMENT_CALL.finditer(text):
            fn = match.group("fn")
            if fn not in _ARGUMENT_CALL_NAMES:
                continue
            before = text[:match.start("fn")]
            receiver = re.search(r"([A-Za-z_$][\w$]*|\))[ \t]*(?:\.|::|->)[ \t]*$", before[-64:])  # `)`: a chained call
            key, index, char_array = _call_key(receiver.group(1) if receiver else None, fn)
            if index is None or re.search(r"\b(?:def|function|func|fun)[ \t]+$", before[-16:]):
                continue  # not one of the calls, or its definition (`def login(self, user, pw)`)
            yield key, index, char_array, _call_arguments(text, match.end())
    if path is None or path.endswith((".rb", ".rake", ".ru", "Gemfile", "Rakefile")):
        for match in _RUBY_COMMAND_CALL.finditer(text):
            key, index, char_array = _call_key(match.group("recv"), match.group("fn"))
            if index is None or char_array:
                continue
            end = text.find("\n", match.end())
            end = len(text) if end < 0 else end
            yield key, index, False, _call_arguments(text[:end] + ")", match.end())  # the line ends the arguments


def _argument_hits(text: str, path: str | None) -> Iterator[tuple[int, int]]:
    """`redis.Redis("db1", 6379, 0, "pw")`, `DriverManager.getConnection(url, "app", "pw")`,
    `auth=("user", "pw")`: a literal passed where a well-known connection or login call takes its password."""
    for key, index, char_array, arguments in _known_calls(text, path):
        positional = []
        for a, b in arguments:
            if re.match(r"\s*[A-Za-z_]\w*[ \t]*=(?!=)|\s*\*", text[a:b]):
                break  # keyword arguments (`password=` is credential-assignment's) and `*args` end the positions
            positional.append((a, b))
        if index >= len(positional):
            continue
        a, b = positional[index]
        literal = _ARGUMENT_LITERAL.fullmatch(text, a, b)
        if literal is not None and char_array and not text[a:b].rstrip().endswith(".toCharArray()"):
            continue
        if literal is not None and not (_blank_key(literal.group("v")) if key in _KEY_ARGUMENTS else is_placeholder_value(literal.group("v"))):
            yield literal.span("v")
    if "auth" in text:
        for match in _AUTH_PAIR.finditer(text):
            if not is_placeholder_value(match.group("v")):
                yield match.span("v")


_CLI_USER = re.compile(r"(?<![\w-])(?:-u|-U|--user(?:name)?)(?:[ \t=]+|(?=\w))[^\s-]")
# `-p VALUE`, `--password=VALUE`, or glued `-pVALUE` (mysql) when VALUE is not a word (`-prof` is a flag).
_CLI_PASSWORD = re.compile(r"(?<![\w-])(?:(?:-p|-pw|--pass(?:word)?)[ \t=]+|-p(?=[A-Za-z]*[\d!@#$%^&*]))([^\s'\"`,;]{4,128})")


# Commands whose flag can only mean a password: `sshpass -p pw` (also as an argv list), `htpasswd -b file user pw`.
_PASSWORD_COMMANDS = re.compile(
    r"""sshpass(?:["']?[ \t,]+["']?-[A-Za-z]*)*?["']?[ \t,]+["']?-p["']?(?:[ \t,]+["']?|(?=\w))(?P<v>[^\s'"`,;]{4,128})"""
    r"""|htpasswd(?:[ \t]+-[A-Za-z]+)*[ \t]+-[A-Za-z]*b[A-Za-z]*(?:[ \t]+-[A-Za-z]+)*[ \t]+\S+[ \t]+\S+[ \t]+(?P<h>[^\s'"`;|&]{4,128})""")


def _cli_password_hits(text: str, path: str | None) -> Iterator[tuple[int, int]]:
    """`mysql -u root -pS3cret`, `psexec \\host -u admin -p s3cret`: a password flag on a command line
    that also names a user (`-p 8080` alone is a port); `sshpass -p s3cret`, `htpasswd -b file user s3cret`."""
    if "-p" not in text and "htpasswd" not in text:
        return
    for match in _CLI_PASSWORD.finditer(text):
        begin = text.rfind("\n", 0, match.start()) + 1
        end = text.find("\n", match.end())
        line = text[begin:len(text) if end < 0 else end]
        value = match.group(1)
        # a long `--password` flag needs no user beside it, but then a value that mixes letters and digits
        long_flag = match.group(0).startswith("--pass") and re.search(r"\d", value) and re.search(r"[A-Za-z]", value)
        if (not (_CLI_USER.search(line) or long_flag) or value[0] in "$%-<{[(&*" or re.fullmatch(r"[\d:./]+", value)
                or is_placeholder_value(value)):
            continue
        yield match.start(1), match.end(1)
    if "sshpass" in text or "htpasswd" in text:
        for match in _PASSWORD_COMMANDS.finditer(text):
            group = "v" if match.group("v") is not None else "h"
            value = match.group(group)
            if value[0] not in "$%-<{[(&*" and not is_placeholder_value(value):
                yield match.span(group)


_CRED_CONTEXT = re.compile(r"(?i)passw|pwd|secret|token|api[_.\-]?key|apikey|access[_.\-]?key|private[_.\-]?key|auth(?!or)|credential|bearer|signature|signing|hmac|(?<![a-z])key(?![a-z])|[a-z_]key\b")
_QUOTED_BLOB = re.compile(r"""(["'`])([A-Za-z0-9+/=_\-.~]{16,})\1""")


_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _entropy_hits(text: str, path: str | None) -> Iterator[tuple[int, int]]:
    for match in _QUOTED_BLOB.finditer(text):
        value = match.group(2)
        if _GUID.fullmatch(value) and re.search(r"(?i)guid|uuid", text[text.rfind("\n", 0, match.start()) + 1:match.start()]):
            continue  # `new Guid("…")`: an identifier
        if (is_placeholder_value(value) or re.fullmatch(r"[a-z_.\-]+|[A-Z_.\-]+|\d+", value) or not re.search(r"\d", value)
                or _dotted_name(value) or name_of_words(value) or is_charset(value) or PLACEHOLDER.search(value)):
            continue  # (a value holding our own placeholder: its secret part is already out)
        hexish = re.fullmatch(r"[0-9a-fA-F\-]+", value)
        if shannon_entropy(value) <= (3.0 if hexish else 3.7):
            continue
        line_start = text.rfind("\n", 0, match.start()) + 1
        line_end = text.find("\n", match.end())
        if _CRED_CONTEXT.search(PLACEHOLDER.sub("", text[line_start:len(text) if line_end < 0 else line_end])):
            yield match.start(2), match.end(2)  # ("KURA_SECRET_1" on the line names no credential)


_URL = re.compile(r"https?://[^\s'\"`<>()\[\]{}|\\^]+")
_CREDENTIAL_PARAM = re.compile(
    r"(?i)[?&;](?:sig|signature|token|access_token|id_token|refresh_token|auth_token|api_?key|key|secret|client_secret"
    r"|password|passwd|pwd|x-amz-(?:signature|credential|security-token|algorithm)|x-goog-(?:signature|credential))=([^&#\s]+)")


def _capability_url_hits(text: str, path: str | None) -> Iterator[tuple[int, int]]:
    """A URL that carries a credential in its query (a signed or tokened link, a webhook with its
    signature) is itself the credential: the whole URL goes, not just the parameter."""
    if "://" not in text:
        return
    for match in _URL.finditer(text):
        param = _CREDENTIAL_PARAM.search(match.group(0))
        if param and len(param.group(1)) >= 4 and not is_placeholder_value(param.group(1)):
            yield match.start(), match.end()


def _valid_db_password(value: str, match: re.Match, path: str | None) -> bool:
    return not is_placeholder_value(value) and value.lower() not in ("pass", "pw", "pwd", "user", "username")


def _not_placeholder(value: str, match: re.Match, path: str | None) -> bool:
    return not is_placeholder_value(value)


_B = r"(?<![A-Za-z0-9_])"  # left boundary for prefixed tokens
_E = r"(?![A-Za-z0-9_])"

BUILTIN: tuple[Detector, ...] = (
    Detector("private-key", "private key block",
             re.compile(r"-----BEGIN[ A-Z0-9_-]*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END[ A-Z0-9_-]*PRIVATE KEY(?: BLOCK)?-----|\Z)", re.S), needles=("private key",)),
    Detector("putty-private-key", "PuTTY private key",
             re.compile(r"PuTTY-User-Key-File-\d:.*?(?:Private-MAC:[^\n]*|\Z)", re.S), needles=("putty",)),
    Detector("aws-access-key-id", "AWS access key id",
             re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Z0-9])"), 0, _not_placeholder,
             needles=("AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "A3T")),
    Detector("aws-secret-access-key", "AWS secret access key",
             re.compile(r"(?i)aws.{0,24}?(?:secret|sk|key).{0,24}?[=:>,(]\s*[\"'`]?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"), 1, needles=("aws",)),
    Detector("gcp-api-key", "Google API key", re.compile(_B + r"AIza[0-9A-Za-z_\-]{35}" + r"(?![A-Za-z0-9_\-])"), needles=("aiza",)),
    Detector("gcp-oauth-client-secret", "Google OAuth client secret", re.compile(r"GOCSPX-[A-Za-z0-9_\-]{28}"), needles=("gocspx",)),
    Detector("gcp-oauth-token", "Google OAuth access token", re.compile(r"ya29\.[0-9A-Za-z_\-]{20,}"), needles=("ya29.",)),
    Detector("gcp-service-account-key-id", "GCP service account private_key_id",
             re.compile(r"\"private_key_id\"\s*:\s*\"([0-9a-f]{40})\""), 1, needles=("private_key_id",)),
    Detector("azure-storage-key", "Azure storage account key",
             re.compile(r"(?i)(?:AccountKey|SharedAccessKey|azure[_.\-]?storage[_.\-]?key)\s*[=:]\s*[\"']?([A-Za-z0-9+/]{40,}={0,2})"), 1, needles=("accountkey", "sharedaccesskey", "storage")),
    Detector("azure-sas-token", "Azure SAS signature", re.compile(r"(?:[?&;]|\b)sig=([A-Za-z0-9%+/=]{30,})"), 1, needles=("sig=",)),
    Detector("azure-client-secret", "Azure AD client secret",
             re.compile(r"(?<![A-Za-z0-9_~.\-])[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}(?![A-Za-z0-9_~.\-])"), needles=("q~",)),
    Detector("github-token", "GitHub token",
             re.compile(_B + r"(?:(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{50,255})" + _E), needles=("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")),
    Detector("gitlab-token", "GitLab token",
             re.compile(_B + r"(?:(?:glpat|gldt|glrt|glptt|glcbt|glimt|glsoat|glffct|glagent|gloas)-[A-Za-z0-9_\-]{20,}|GR1348941[A-Za-z0-9_\-]{20,})"), needles=("gl", "GR1348941")),
    Detector("slack-token", "Slack token", re.compile(_B + r"(?:xox[abposre]-[A-Za-z0-9\-]{10,}|xapp-\d-[A-Za-z0-9\-]{20,})"), needles=("xox", "xapp")),
    Detector("slack-webhook", "Slack webhook URL",
             re.compile(r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_\-]{20,}"), needles=("hooks.slack",)),
    Detector("stripe-key", "Stripe secret/restricted key or webhook secret",
             re.compile(_B + r"(?:(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}|whsec_[A-Za-z0-9]{24,})" + _E), needles=("_live_", "_test_", "whsec_")),
    Detector("openai-key", "OpenAI API key",
             re.compile(_B + r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}T3BlbkFJ[A-Za-z0-9_\-]{20,}|" + _B + r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{40,}"), needles=("sk-",)),
    Detector("anthropic-key", "Anthropic API key", re.compile(_B + r"sk-ant-[a-z0-9]{2,10}-[A-Za-z0-9_\-]{40,}"), needles=("sk-ant",)),
    Detector("huggingface-token", "Hugging Face token", re.compile(_B + r"hf_[A-Za-z0-9]{34,}" + _E), needles=("hf_",)),
    Detector("npm-token", "npm token", re.compile(_B + r"npm_[A-Za-z0-9]{36}" + _E), needles=("npm_",)),
    # .npmrc / .yarnrc: `_auth` (base64 user:password), `_password` (base64) and `_authToken`, bare or scoped to
    # a registry (`//host/path/:_auth=…`); whatever their value's shape, they are the registry's credential.
    Detector("npm-registry-auth", "npm/yarn registry credential (_auth, _password, _authToken)",
             re.compile(r"(?m)(?:^[ \t]*|:)_(?:auth|authToken|password)[ \t]*=[ \t]*[\"']?([^\s\"'#;\\()\[\]{}]{6,})(?=[\s\"'#;]|$)"), 1,
             _not_placeholder, needles=("_auth", "_password")),
    Detector("pypi-token", "PyPI token", re.compile(r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}"), needles=("pypi-",)),
    Detector("sendgrid-key", "SendGrid API key", re.compile(r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}"), needles=("sg.",)),
    Detector("twilio-key", "Twilio API key", re.compile(_B + r"SK[0-9a-fA-F]{32}" + _E), needles=("sk",)),
    Detector("mailgun-key", "Mailgun API key", re.compile(_B + r"key-[0-9a-f]{32}" + _E), needles=("key-",)),
    Detector("square-token", "Square token", re.compile(r"sq0(?:atp|csp)-[0-9A-Za-z\-_]{22,43}"), needles=("sq0",)),
    # Vendor formats no rule source covers: Azure's identifiable 84-character keys (AI services, container
    # registries, ...) carry the signature "JQQJ99" after 52 characters; Onfido API tokens are
    # `api_live[_region].<id>.<secret>`; Braintree access tokens `access_token$<env>$<merchant>$<secret>`;
    # a Tailscale key `tskey-<kind>-…` is one even glued to a name (`MY_tskey-…`).
    Detector("azure-identifiable-key", "Azure identifiable key (84 characters, signature JQQJ99)",
             re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9]{52}JQQJ99[A-Za-z0-9]{26}(?![A-Za-z0-9+/])"), needles=("JQQJ99",)),
    Detector("onfido-token", "Onfido API token",
             re.compile(_B + r"api_(?:live|sandbox)(?:_[a-z]{2})?\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{16,}"), needles=("api_live", "api_sandbox")),
    Detector("braintree-token", "Braintree access token",
             re.compile(r"access_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-z]{32}"), needles=("access_token$",)),
    Detector("tailscale-key", "Tailscale key", re.compile(r"tskey-(?:api|auth|client|scim|webhook)-[0-9A-Za-z]+-[0-9A-Za-z]{16,}"),
             needles=("tskey-",)),
    Detector("shopify-token", "Shopify token", re.compile(_B + r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}" + _E), needles=("shp",)),
    Detector("digitalocean-token", "DigitalOcean token", re.compile(_B + r"do[opr]_v1_[a-f0-9]{64}" + _E), needles=("_v1_",)),
    Detector("telegram-bot-token", "Telegram bot token", re.compile(r"(?<![\d])\d{8,10}:AA[A-Za-z0-9_\-]{33}" + _E), needles=(":aa",)),
    Detector("discord-bot-token", "Discord bot token",
             re.compile(r"(?<![A-Za-z0-9_\-.])[MNO][A-Za-z\d_\-]{23,25}\.[A-Za-z\d_\-]{6}\.[A-Za-z\d_\-]{27,38}"), needles=(".",)),
    Detector("jwt", "JSON Web Token",
             re.compile(r"(?<![A-Za-z0-9_\-])eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"), needles=("eyj",)),
    Detector("db-url-password", "password in a connection URL",
             re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]{1,20}://[^\s:/@'\"`<>]{1,128}:([^\s@'\"`<>/]{1,256})@"), 1, _valid_db_password, needles=("://",)),
    Detector("go-dsn-password", "password in a Go SQL driver DSN (`user:password@tcp(host:port)/db`)",
             re.compile(r"(?<![\w.\-])[\w.\-]{1,64}:([^\s:@'\"`/]{1,128})@(?:tcp|udp|unix|tcp6)\("), 1, _not_placeholder,
             needles=("@tcp(", "@unix(", "@udp(", "@tcp6(")),
    Detector("netrc-password", "password in a .netrc line (`machine host login user password pw`)",
             re.compile(r"\b(?:machine[ \t]+\S+|default)[ \t]+login[ \t]+\S+[ \t]+password[ \t]+([^\s'\"`]{4,256})"), 1, _not_placeholder,
             needles=("login",)),
    Detector("securestring-password", "plain text made a PowerShell SecureString (`ConvertTo-SecureString \"pw\" -AsPlainText`)",
             re.compile(r"(?i)ConvertTo-SecureString[ \t]+(?:-String[ \t]+)?([\"'])([^\"'\n]{4,256})\1[^\n]*?-AsPlainText"), 2,
             _not_placeholder, needles=("convertto-securestring",)),
    Detector("default-credential", "the default of a credential-named variable (`${DB_PASSWORD:pw}`, `${API_TOKEN:-tok}`)",
             re.compile(r"\$\{[\w.\-]*(?i:pass(?:w(?:or)?d)?|pwd|secret|token|api[_.\-]?key|credential)[\w.\-]*:-?([^}\s'\"`$]{4,256})\}"), 1,
             lambda v, m, p: not is_placeholder_value(v) and bool(re.search(r"\d", v)) and bool(re.search(r"[A-Za-z]", v)),
             needles=("${",)),
    Detector("connection-string-password", "password in a connection string",
             re.compile(r"(?i)(?:(?<=;)|(?<=[\"'])|^)[ \t]*(?:password|pwd)[ \t]*=[ \t]*([^;'\"\n]{1,256}?)[ \t]*(?=;)", re.M), 1,
             _not_placeholder, needles=("password", "pwd")),
    Detector("sql-password", "password in SQL",
             re.compile(r"(?i)\b(?:identified\s+(?:with\s+\w+\s+)?by|with\s+(?:encrypted\s+)?password|password)\s+'([^'\n]{1,256})'"
), 1,
             _not_placeholder, needles=("password", "identified")),
    Detector("sql-password", "password in SQL",
             re.compile(r"(?i)\b(?:create|alter)\s+(?:user|role|login)\b[^;\n]{0,120}?\bidentified\s+by\s+(?!password\b|values?\b)([^\s'\";)]{4,128})"), 1,
             _not_placeholder, needles=("identified",)),
    Detector("connection-string", "database connection string (jdbc URL, or one carrying a secret), whole",
             re.compile(r"(?i)(?<![\w.])jdbc:[a-z0-9]+:[^\s'\"`<>]+"
                        r"|(?<![\w])(?:Endpoint|Server|Data Source|Host|AccountName|DefaultEndpointsProtocol)=[^'\"`\n]*?"
                        r"(?:Secret|Password|Pwd|AccountKey|SharedAccessKey|SharedAccessSignature|AccessKey)=[^'\"`\s;]+(?:;[^'\"`\s;]*)*"),
             0, _not_placeholder, needles=("jdbc:", "secret=", "password=", "pwd=", "accountkey=", "sharedaccess", "accesskey=")),
    Detector("auth-header", "bearer/basic credentials in an Authorization header",
             re.compile(r"(?i)\b(?:bearer|token|basic)[ \t]+([A-Za-z0-9\-._~+/]{16,}=*)(?![A-Za-z0-9\-._~+/=])"), 1,
             lambda v, m, p: not is_placeholder_value(v) and _secret_like(v, 16) and not _identifier(v)),
    # Named as an Authorization header's value (`"Authorization": "Bearer …"`, `-H 'Authorization: Basic …'`),
    # a credential of any length: what a program sends there is the credential, not a word about it.
    Detector("authorization-header", "the credential in a value given to an Authorization header",
             re.compile(r"(?i)authorization[\"'`]?[ \t]*(?:[:=,]|=>)[ \t]*[\"'`]?(?:bearer|basic|token|digest|apikey|sso-key)"
                        r"[ \t]+([A-Za-z0-9\-._~+/:]{6,}=*)(?![A-Za-z0-9\-._~+/=$({])"), 1,
             lambda v, m, p: not (is_placeholder_value(v) or _identifier(v) or _dotted_name(v)
                                  or re.fullmatch(r"[a-z]+(?:[-_.][a-z]+)*", v)),  # `valid-key`: words for one
             needles=("authorization",)),
)

# Function-based detectors share the Detector shape through these ids.
FUNCTION_DETECTORS: tuple[tuple[str, str, Callable[[str, str | None], Iterator[tuple[int, int]]]], ...] = (
    ("credential-assignment", "password/secret/token assigned to a credential-named key", _assignment_hits),
    ("credential-literal", "credential in a #define or XML element", _sentinel_assignment),
    ("high-entropy-credential", "high-entropy string in a credential context", _entropy_hits),
    ("capability-url", "URL carrying a credential in its query (signed link, tokened webhook), whole", _capability_url_hits),
    ("cli-password", "password given with -p/--password on a command line that names a user", _cli_password_hits),
    ("named-value", "the value of a name/value pair whose name names a credential (Kubernetes env, parameters)", _name_value_hits),
    ("credential-bytes", "a key, secret or password written as an array of byte literals", _byte_array_hits),
    ("suffixed-password", "a password value under a qualified password name (`db_password_prod`, `dbPasswordProd`)", _suffixed_password_hits),
    ("credential-comparison", "a literal compared with a credential-named variable (`\"x\" == password`, `password.equals(\"x\")`)", _compared_hits),
    ("credential-argument", "a literal passed where a well-known connection, login or signing call takes its password or key (`Redis(host, port, db, \"pw\")`, `getConnection(url, user, \"pw\")`, `auth=(\"user\", \"pw\")`)", _argument_hits),
)


def _jwt_shaped(value: str, match: re.Match, path: str | None) -> bool:
    """detect-secrets' JWT pattern has no left boundary and takes any `eyJ…` run. A JWT is a token of its own
    whose header encodes a JSON object (`{"alg":"none"}` is 19 characters): not `keyJson.getString()`."""
    start = match.start()
    glued = start > 0 and match.string[start - 1].isalnum()
    return not glued and len(value.split(".", 1)[0]) >= 16 and not is_placeholder_value(value)


# A URL's user:password is judged as the db-url rule judges it (`postgresql://user:user@…` is a dummy).
_DS_CHECKS = {"ds.jwttoken": _jwt_shaped, "ds.basicauth": _valid_db_password}
_DS_NEEDLES = {
    "ds.ibmcloudiam": ("ibm", "iam"), "ds.ibmcoshmac": ("ibm", "cos", "hmac"), "ds.cloudant": ("cloudant", "clou", "cl_", "cl-", "clkey", "clpw", "clpass", "cltoken", "clapi"),
    "ds.softlayer": ("softlayer", "sl"), "ds.slack": ("xox", "slack"), "ds.artifactory": ("AKC", "AP"),
    "ds.npm": ("npm",), "ds.discordbottoken": (".",), "ds.githubtoken": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), "ds.gitlabtoken": ("glpat-", "gldt-", "glft-", "glsoat-", "glrt-", "GR1348941", "glcbt-", "glimt-", "glptt-", "glagent-", "gloas-"),
    "ds.jwttoken": ("eyj",), "ds.mailchimp": ("-us",), "ds.openai": ("sk-",), "ds.pypitoken": ("pypi",),
    "ds.sendgrid": ("sg.",), "ds.squareoauth": ("sq0",), "ds.stripe": ("_live_",), "ds.telegrambottoken": (":",),
    "ds.twiliokey": ("SK", "AC"), "ds.awskey": ("AKIA", "ASIA", "A3T", "aws"), "ds.azurestoragekey": ("accountkey",), "ds.basicauth": ("://",),
}


@lru_cache(maxsize=1)
def detect_secrets_detectors() -> tuple[Detector, ...]:
    """detect-secrets' regex plugins, used in-process (no settings, no baseline, no files)."""
    try:
        import importlib
        import pkgutil

        import detect_secrets.plugins as plugins
        from detect_secrets.plugins.base import RegexBasedDetector
    except ImportError:  # pragma: no cover - a declared dependency
        return ()
    skip = {"IPPublicDetector", "PrivateKeyDetector"}  # not secrets / covered as whole blocks above
    out = []
    for info in pkgutil.iter_modules(plugins.__path__):
        module = importlib.import_module(f"{plugins.__name__}.{info.name}")
        for name, cls in sorted(vars(module).items()):
            if (isinstance(cls, type) and issubclass(cls, RegexBasedDetector) and cls is not RegexBasedDetector
                    and cls.__module__ == module.__name__ and name not in skip):
                rule_id = "ds." + re.sub(r"detector$", "", name.lower())
                for regex in cls().denylist:
                    group = 1 if regex.groups else 0
                    out.append(Detector(rule_id, f"detect-secrets {cls.secret_type}", regex, group,
                                        _DS_CHECKS.get(rule_id, _not_placeholder), _DS_NEEDLES.get(rule_id, ())))
    return tuple(out)


GITLEAKS_RULES = Path(__file__).with_name("gitleaks_rules.json")


def _gitleaks_check(entropy_min: float, allowlists: tuple[tuple[str, tuple[re.Pattern, ...], frozenset[str]], ...],
                    global_regexes: tuple[re.Pattern, ...], global_stopwords: frozenset[str],
                    scope: re.Pattern | None = None) -> Check:
    def check(value: str, match: re.Match, path: str | None) -> bool:
        if scope is not None and path and not scope.search(path):
            return False  # a rule written for one kind of file (Terraform's password field, a nuget.config)
        if entropy_min and shannon_entropy(value) < entropy_min:
            return False
        low = value.lower()
        if any(r.search(value) for r in global_regexes) or any(w in low for w in global_stopwords):
            return False
        for target, regexes, stopwords in allowlists:
            subject = match.group(0) if target == "match" else value
            if any(r.search(subject) for r in regexes) or any(w in low for w in stopwords):
                return False
        return not is_placeholder_value(value)
    return check


@lru_cache(maxsize=1)
def gitleaks_detectors() -> tuple[Detector, ...]:
    """gitleaks' rules (MIT), vendored in gitleaks_rules.json by benchmarks/secrets_gitleaks_rules.py."""
    data = json.loads(GITLEAKS_RULES.read_text(encoding="utf-8"))
    glob = data.get("global_allowlist", {})
    global_regexes = tuple(re.compile(r) for r in glob.get("regexes", []))
    global_stopwords = frozenset(glob.get("stopwords", []))
    out = []
    for rule in data["rules"]:
        regex = re.compile(rule["regex"])
        group = rule["secret_group"] or (1 if regex.groups else 0)
        lists = tuple((a["target"], tuple(re.compile(r) for r in a["regexes"]), frozenset(a["stopwords"]))
                      for a in rule["allowlists"] if not a["paths"] and a["target"] != "line")
        out.append(Detector("gitleaks." + rule["id"], rule["description"], regex, group,
                            _gitleaks_check(rule["entropy"], lists, global_regexes, global_stopwords,
                                            re.compile(rule["path"]) if rule.get("path") else None),
                            tuple(rule["keywords"])))
    return tuple(out)


KINGFISHER_RULES = Path(__file__).with_name("kingfisher_rules.json")
FIRST_GROUP = -1  # Detector.group: the first capture group that took part in the match


def _entropy_check(entropy_min: float) -> Check:
    def check(value: str, match: re.Match, path: str | None) -> bool:
        if _INTERPOLATION.search(value) and not re.search(r"[A-Za-z0-9+/=_\-]{12}", _INTERPOLATION.sub("", value)):
            return False  # `postgres://app:${DB_PASSWORD}@host`: the secret is a variable, not in the text
        return shannon_entropy(value) >= entropy_min and not is_placeholder_value(value)
    return check


@lru_cache(maxsize=1)
def kingfisher_detectors() -> tuple[Detector, ...]:
    """kingfisher's ~740 vendor rules (Apache-2.0), vendored in kingfisher_rules.json by
    benchmarks/secrets_kingfisher_rules.py; each runs only when its needles occur in the text."""
    data = json.loads(KINGFISHER_RULES.read_text(encoding="utf-8"))
    return tuple(Detector("kingfisher." + rule["id"], rule["description"], re.compile(rule["regex"]),
                          FIRST_GROUP, _entropy_check(rule["entropy"]), tuple(rule["needles"]))
                 for rule in data["rules"])


STRUCTURAL_RULES = (
    ("random-credential", "random-looking value on a line that names a credential"),
    ("random-token", "random-looking token (letters and digits mixed like a generated key)"),
    ("password-value", "letters-and-digits value right after a password word"),
    ("repeated-secret", "another occurrence of a value redacted elsewhere in the same text"),
)

BUILTIN_RULE_IDS = frozenset(
    [d.id for d in BUILTIN] + [i for i, _, _ in FUNCTION_DETECTORS] + [d.id for d in detect_secrets_detectors()]
    + [d.id for d in gitleaks_detectors()] + [d.id for d in kingfisher_detectors()]
    + [i for i, _ in STRUCTURAL_RULES + VIEW_RULES]
)


@lru_cache(maxsize=1)
def _descriptions() -> dict[str, str]:
    out = {d.id: d.description for d in BUILTIN + gitleaks_detectors() + kingfisher_detectors() + detect_secrets_detectors()}
    out.update({i: text for i, text, _ in FUNCTION_DETECTORS})
    out.update(dict(STRUCTURAL_RULES + VIEW_RULES))
    return out


def describe(rule_id: str) -> str:
    """What a built-in rule looks for, for `kura sanitize` to explain a redaction."""
    return _descriptions().get(rule_id, "policy rule" if not rule_id.startswith(("internal-", "identifier-")) else rule_id)


class SecretScanner:
    """All secret detectors for one policy's redaction settings, compiled once."""

    def __init__(self, redaction: Redaction) -> None:
        self.redaction = redaction
        self.regex_detectors: tuple[Detector, ...] = BUILTIN + gitleaks_detectors() + kingfisher_detectors() + detect_secrets_detectors() + tuple(
            _policy_detector(r.id, r.pattern, r.description) for r in redaction.rules
        )
        self._custom_actions = {r.id: r.action for r in redaction.rules}
        needles = {n for d in self.regex_detectors for n in d.needles}
        lower = sorted(n for n in needles if n == n.lower())
        self._short_needles = tuple(n for n in lower if len(n) < 3)
        # A thousand needles tested one by one cost more than the regexes they guard: index them by
        # their first three characters, and test only those whose trigram occurs in the text.
        self._needles_by_trigram: dict[str, list[str]] = {}
        for needle in lower:
            if len(needle) >= 3:
                self._needles_by_trigram.setdefault(needle[:3], []).append(needle)
        self._case_needles = tuple(sorted(n for n in needles if n != n.lower()))
        self._unguarded = tuple(i for i, d in enumerate(self.regex_detectors) if not d.needles)
        self._guarded_by: dict[str, list[int]] = {}  # needle -> positions of the detectors it lets run
        for i, detector in enumerate(self.regex_detectors):
            for needle in detector.needles:
                self._guarded_by.setdefault(needle, []).append(i)

    def action_for(self, rule_id: str) -> Action:
        overrides = dict(self.redaction.actions)
        if rule_id in overrides:
            return overrides[rule_id]
        return self._custom_actions.get(rule_id, self.redaction.secrets)  # type: ignore[return-value]

    def scan(self, text: str, path: str | None = None) -> list[Hit]:
        hits = self._scan_as_written(text, path)
        for rule_id, start, end in view_hits(text, path, self._spans):
            hits.append(Hit(rule_id, "secret", start, end, self.action_for(rule_id)))
        hits = [h for h in hits if not _inside_placeholder(text, h)]
        hits += _whole_values(text, hits)
        return hits + self._repeats(text, hits)

    def _repeats(self, text: str, hits: list[Hit]) -> list[Hit]:
        """A value found once is a secret wherever else it stands in the text (`login: X password: X`,
        a token logged after it was assigned), though no detector would fire there on its own."""
        values = {text[h.start:h.end] for h in hits if h.kind == "secret"}
        covered = {(h.start, h.end) for h in hits}
        out: list[Hit] = []
        for value in values:
            if len(value) < 6 or "\n" in value or is_placeholder_value(value) or text.count(value) < 2:
                continue
            for match in re.finditer(r"(?<![A-Za-z0-9])" + re.escape(value) + r"(?![A-Za-z0-9])", text):
                if match.span() not in covered:
                    out.append(Hit("repeated-secret", "secret", match.start(), match.end(), self.action_for("repeated-secret")))
        return out

    def _spans(self, text: str, path: str | None) -> list[tuple[str, int, int]]:
        return [(h.rule_id, h.start, h.end) for h in self._scan_as_written(text, path) if not _inside_placeholder(text, h)]

    def _scan_as_written(self, text: str, path: str | None) -> list[Hit]:
        hits: list[Hit] = []
        lower = text.lower()
        present = {n for n in self._short_needles if n in lower} | {n for n in self._case_needles if n in text}
        trigrams = {lower[i:i + 3] for i in range(len(lower) - 2)}
        for trigram in trigrams.intersection(self._needles_by_trigram):
            present.update(n for n in self._needles_by_trigram[trigram] if n in lower)
        chosen = set(self._unguarded)
        for needle in present:
            chosen.update(self._guarded_by[needle])
        for position in sorted(chosen):
            detector = self.regex_detectors[position]
            for match in detector.regex.finditer(text):
                group = detector.group
                if group == FIRST_GROUP:
                    group = next((i for i in range(1, match.re.groups + 1) if match.start(i) >= 0), 0)
                start, end = match.span(group)
                if start < 0 or end <= start:
                    continue
                if detector.check and not detector.check(match.group(group), match, path):
                    continue
                hits.append(Hit(detector.id, "secret", start, end, self.action_for(detector.id)))
        for rule_id, _, function in FUNCTION_DETECTORS:
            for start, end in function(text, path):
                if end > start:
                    hits.append(Hit(rule_id, "secret", start, end, self.action_for(rule_id)))
        for start, end in password_hits(text):
            if not is_placeholder_value(text[start:end]):
                hits.append(Hit("password-value", "secret", start, end, self.action_for("password-value")))
        for rule_id, start, end in random_value_hits(text, path):
            hits.append(Hit(rule_id, "secret", start, end, self.action_for(rule_id)))
        return hits


_KEYED_VALUE = re.compile(r"(?i)[\w.\-]*(?:key|token|secret|passw\w*|pwd|auth\w*|credentials?)[=:]")
_VALUE_STOP = " \t\n\"'`<>"


def _whole_values(text: str, hits: list[Hit]) -> list[Hit]:
    """A hit inside the value of `credential_key=VALUE` (no spaces) widens to the whole value: a
    token with a readable part (`Key=7/123…/456:9f1a…`) is one credential, not just its random tail."""
    out: list[Hit] = []
    for hit in hits:
        if hit.kind != "secret":
            continue
        start, end = hit.start, hit.end
        while start > 0 and text[start - 1] not in _VALUE_STOP and hit.end - start < 512:
            start -= 1
        while end < len(text) and text[end] not in _VALUE_STOP and end - hit.start < 512:
            end += 1
        keyed = _KEYED_VALUE.match(text, start, hit.start)
        if keyed and (keyed.end(), end) != (hit.start, hit.end) and keyed.end() <= hit.start:
            out.append(Hit(hit.rule_id, "secret", keyed.end(), end, hit.action))
    return out


def _policy_detector(rule_id: str, pattern: str, description: str) -> Detector:
    regex = re.compile(pattern)
    return Detector(rule_id, description or "policy rule", regex, "secret" if "secret" in regex.groupindex else 0)


def _inside_placeholder(text: str, hit: Hit) -> bool:
    """A hit that only covers a placeholder (or part of one) is our own redaction, not a leak."""
    lo = max(0, hit.start - 40)
    for match in PLACEHOLDER.finditer(text, lo, min(len(text), hit.end + 40)):
        if match.start() <= hit.start and hit.end <= match.end():
            return True
    value = text[hit.start:hit.end]
    return bool(re.fullmatch(r"(?:KURA_[A-Z]+_\d+[\W_]*)+", value))

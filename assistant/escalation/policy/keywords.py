"""Credentials named by a keyword: `password = …`, `SECRET_KEY: …`, `<password>…</password>`, `#define API_KEY`,
name/value pairs, byte arrays under a key's name, qualified password names, and high-entropy strings on a
line that names a credential. Each `*_hits(text, path)` yields the spans of the values."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from assistant.escalation.policy.structural import is_charset, name_of_words
from assistant.escalation.policy.values import (
    PLACEHOLDER, REGEX_SOURCE, dotted_name, is_placeholder_value, looks_config, secret_like, shannon_entropy,
)

_CRED_WORDS = {"password", "passwd", "pwd", "pass", "passphrase", "passcode", "pw", "secret", "token",
               "credential", "credentials", "salt"}
# Abbreviated spellings (PSWD, PSSWRD, PASWORD) and the password words of the languages kura serves.
PASSWORD_SPELLING = re.compile(r"(?i)pa?s{1,2}w(?:o?r)?d|pass_word|passw|비밀번호|비번|암호|패스워드|パスワード|暗証番号|密码|密碼|口令")
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
    if PASSWORD_SPELLING.fullmatch(word):
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
        \d{0,2}(?:\[\w*\]|[ \t]*:[ \t]*&?(?:'[a-z]+[ \t]+)?[A-Za-z_][\w.<>?!]*(?:\[\])?(?=[ \t]+=[^=>])
          |[ \t]+(?:string|\[\]byte|\[\]rune)(?=[ \t]*=[^=])  # Go: `const apiKey string = "…"`
          |[ \t]*\{[ \t]*get;[^{}\n]*\}(?=[ \t]*=[^=>]))?  # C#: `Password { get; set; } = "…"`
        (?P<close>["'`\]]{0,2})
        [ \t]*(?P<op>\|\|=|\?\?=|:=|\?=|=>|!==?|={1,3}|:|：|,|\(|<-|[ \t]-(?=[ \t]*["'`])|[ \t]is(?=[ \t]*["'`]|[ \t]+[A-Za-z0-9][^\s,;]*\d)|(?<=[ \t])(?=["']))[ \t]*
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


def assignment_hits(text: str, path: str | None) -> Iterator[tuple[int, int]]:
    config = looks_config(path)
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
            if block and not re.search(r"\s", body) and not is_placeholder_value(body) and (kind == "password" or secret_like(body)):
                yield block.span(1)  # `password: >-` (a YAML block scalar), then the value indented on the next line
            continue
        if not quoted and (found := _wrapped_literal(text, match.start("uv"), kind) or _fallback_literal(text, match.start("uv"), kind)):
            yield found  # `new String("…")`, `b64decode("…")`, `getenv("PW") or "…"`: the literal is the value
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
        if not quoted and re.fullmatch(r"[A-Za-z_][\w.]*\((?:[A-Za-z_][\w.]*\()*", value):
            # `SECRET := getenv("NAME", "default")`, `cmp.Or(os.Getenv("PW"), "default")`: the literal default is
            # the credential, the call is code.
            call = _call_default(text, match.start("uv") + value.index("(") + 1)
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
            if not config and expression and not (_inside_string(text, match.start("word")) and secret_like(value, 6)
                                                  and re.search(r"\d", value) and not dotted_name(value)):
                continue  # `passwd = other` is code; `"user=a;passwd=Kx8mQ2zv"` is a literal holding a value
            if not config and not (kind == "password" or (secret_like(value, 12) and re.search(r"\d", value))):
                continue
            if not config and re.fullmatch(r"[A-Z][a-z]+(?:[A-Z][a-z]+)*-[A-Z][A-Za-z]+", value):
                continue  # a PowerShell cmdlet (`$pw = ConvertTo-SecureString …`), not a value
            if re.fullmatch(r"[A-Za-z_]\w*(?:\.\w+)+", value) and not config:
                continue
        elif kind == "token" and (not (secret_like(value) or re.fullmatch(r"\d{16,}", value)) or dotted_name(value)):
            if dotted_name(value) or not (_chosen_signing_secret(text, match, value) or (data and _config_value(value))
                                           or _made_up_value(value)):
                continue
        elif kind == "password" and re.search(r"\s\S+\s\S+\s", value) and value[:1].isupper():
            continue  # a sentence: a label or help text
        group = "qv" if quoted else "uv"
        yield match.start(group), match.end(group)

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


# Calls that only decode, convert or wrap their argument: what a credential's name is bound to through them
# is the literal they are given (`base64.b64decode("…")`, `new String("…")`, `Buffer.from("…", "hex")`).
_DECODERS = frozenset(("b64decode", "b32decode", "urlsafe_b64decode", "decodebytes", "unhexlify", "fromhex", "atob",
                       "decode", "DecodeString", "FromBase64String", "decodeBase64", "parseBase64Binary"))
_WRAPPERS = frozenset(("String", "valueOf", "str", "from", "SecretStr", "SecretString", "SecureString", "Secret"))
_WRAPPED = re.compile(r"""(?:new[ \t]+)?(?:[\w$]+(?:\.|::))*(?P<fn>\w+)\([ \t]*[bB]?(?P<q>["'`])(?P<v>(?:\\.|(?!(?P=q))[^\\\n]){4,256})(?P=q)[ \t]*[,)]""")
# `os.getenv("PW") or "x"`, `process.env.SECRET ?? "x"`, `getenv("PW") ?: "x"`, `.orElse("x")`: the fallback
_FALLBACK = re.compile(r"""(?:[ \t]or|\|\||\?\?|\?:|\.orElse\(|\.unwrap_or\()[ \t]*(?P<q>["'`])(?P<v>(?:\\.|(?!(?P=q))[^\\\n]){4,256})(?P=q)""")


def _literal_value(value: str, kind: str) -> bool:
    """A literal a credential's name gets through a call or a fallback: any non-placeholder for a password,
    a token's shape (or a made-up secret) for the rest."""
    if is_placeholder_value(value) or "://" in value or re.search(r"\s", value):
        return False
    return kind == "password" or secret_like(value) or _made_up_value(value) or bool(
        re.search(r"\d", value) and re.search(r"[A-Za-z]", value) and not dotted_name(value))


def _wrapped_literal(text: str, start: int, kind: str) -> tuple[int, int] | None:
    match = _WRAPPED.match(text, start)
    if match is None:
        return None
    if match.group("fn") in _DECODERS:
        ok = re.fullmatch(r"[A-Za-z0-9+/=_\-]{8,}", match.group("v")) and not is_placeholder_value(match.group("v"))
    else:
        ok = match.group("fn") in _WRAPPERS and _literal_value(match.group("v"), kind)
    return match.span("v") if ok else None


def _fallback_literal(text: str, start: int, kind: str) -> tuple[int, int] | None:
    end = text.find("\n", start)
    statement = re.split(r";[ \t]*(?:$|//|#)", text[start:len(text) if end < 0 else end], maxsplit=1)[0]
    match = _FALLBACK.search(statement)
    if match is None or not _literal_value(match.group("v"), kind):
        return None
    return start + match.start("v"), start + match.end("v")


def _arguments(line: str) -> str:
    """The text of a call's arguments up to the parenthesis that closes it (`line` begins after its `(`)."""
    depth, i = 0, 0
    while i < len(line):
        ch = line[i]
        if ch in "\"'`":
            close = line.find(ch, i + 1)
            while close > 0 and line[close - 1] == "\\":
                close = line.find(ch, close + 1)
            if close < 0:
                return line
            i = close + 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                return line[:i]
            depth -= 1
        i += 1
    return line


def _call_default(text: str, start: int) -> tuple[int, int] | None:
    """The span of the last string literal among two or more arguments of the call whose arguments
    begin at `start` (on the same line), if it looks like a value rather than a name."""
    end = text.find("\n", start)
    line = text[start:len(text) if end < 0 else end]
    literals = list(re.finditer(r"""(["'])((?:\\.|(?!\1)[^\\])*)\1""", _arguments(line)))
    if len(literals) < 2 or not literals[-1].group(2) or is_placeholder_value(literals[-1].group(2)):
        return None
    value = literals[-1].group(2)
    if not (secret_like(value, 6) or re.search(r"\d", value) and re.search(r"[A-Za-z]", value)):
        return None
    return start + literals[-1].start(2), start + literals[-1].end(2)


def sentinel_hits(text: str, path: str | None) -> Iterator[tuple[int, int]]:
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
                and CREDENTIAL_NAME.search(match.group(2)) and value and not re.search(r"\s", value)
                and not is_placeholder_value(value)):
            yield match.start(3), match.end(3)


CREDENTIAL_NAME = re.compile(r"(?i)(?:pa?s{1,2}w(?:o?r)?d|passwd|passphrase|pwd|(?<![a-z])pass|secret|token|api[_.\-]?key"
                              r"|access[_.\-]?key|private[_.\-]?key|credentials?)\d{0,2}$")
_NAME_VALUE = re.compile(
    r"""["']?(?:key|name)["']?[ \t]*[:=][ \t]*["']?(?P<n1>[\w.\-]{1,64})["']?[ \t]*,[ \t]*["']?value["']?[ \t]*[:=][ \t]*(?P<q1>["'])(?P<v1>[^"'\n]{1,512})(?P=q1)"""
    r"""|(?m:^[ \t]*-?[ \t]*(?:key|name):[ \t]*["']?(?P<n2>[\w.\-]{1,64})["']?[ \t]*\n[ \t]*value:[ \t]*["']?(?P<v2>[^\s"'#]{1,512}))"""
    r"""|<(?P<t>key|name)>(?P<n3>[\w.\-]{1,64})</(?P=t)>\s*<value>(?P<v3>[^<\n]{1,512})</value>"""
    r"""|<\w+[^<>\n]*?\b(?:key|name)=(?P<q4>["'])(?P<n4>[\w.\-:]{1,64})(?P=q4)[^<>\n]*?\bvalue=(?P<q5>["'])(?P<v4>[^"'\n]{1,512})(?P=q5)""")


def name_value_hits(text: str, path: str | None) -> Iterator[tuple[int, int]]:
    """`{"name": "DB_PASSWORD", "value": "x"}`, `- name: DB_PASSWORD` / `value: x` (Kubernetes env),
    `<name>password</name><value>x</value>`, `<add key="ApiKey" value="x" />` (.NET appSettings): the value of
    a pair whose name names a credential."""
    if "value" not in text:
        return
    for match in _NAME_VALUE.finditer(text):
        n = next(i for i in (1, 2, 3, 4) if match.group(f"v{i}") is not None)
        if CREDENTIAL_NAME.search(match.group(f"n{n}")) and not is_placeholder_value(match.group(f"v{n}")):
            yield match.span(f"v{n}")


_KUBE_SECRET = re.compile(r"(?m)^[ \t]*kind:[ \t]*[\"']?Secret[\"']?[ \t]*$")
_KUBE_DATA = re.compile(r"(?m)^(?P<indent>[ \t]*)(?:data|stringData):[ \t]*$")
_KUBE_ENTRY = re.compile(r"(?P<indent>[ \t]+)[\"']?[\w.\-]+[\"']?:[ \t]+[\"']?(?P<v>[^\s\"'#][^\n\"']*?)[\"']?[ \t]*$")


def kube_secret_hits(text: str, path: str | None) -> Iterator[tuple[int, int]]:
    """A Kubernetes Secret manifest: every value under its `data:` (base64) or `stringData:` is a secret,
    whatever its key is called (`mail: …`, `DATABASE_URL: …`)."""
    if "Secret" not in text or not _KUBE_SECRET.search(text):
        return
    for block in _KUBE_DATA.finditer(text):
        pos = block.end() + 1
        while pos < len(text):
            end = text.find("\n", pos)
            end = len(text) if end < 0 else end
            entry = _KUBE_ENTRY.fullmatch(text, pos, end)
            if entry is None or len(entry.group("indent")) <= len(block.group("indent")):
                break
            if not is_placeholder_value(entry.group("v")):
                yield entry.span("v")
            pos = end + 1


_TABLE_SEPARATOR = re.compile(r"[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*")


def _cells(line: str, sep: str) -> list[tuple[int, int]]:
    """(start, end) of each stripped cell of a table row (`|` rows may open and close with a bar)."""
    spans, pos = [], 0
    for part in line.split(sep):
        lead = len(part) - len(part.lstrip())
        spans.append((pos + lead, pos + len(part.rstrip())))
        pos += len(part) + 1
    if sep == "|" and line.strip().startswith("|"):
        spans = spans[1:]
    if sep == "|" and line.strip().endswith("|"):
        spans = spans[:-1]
    return spans


# A header row: names and separators only (a line of code has brackets, operators or a colon), one naming a credential
_HEADER_LINE = re.compile(r"""(?m)^[\w .\-"'`*|\t,;]{3,300}$""")
_COLUMN_WORD = re.compile(r"(?i)pass|pw|secret|token|key|credential")


def credential_column_hits(text: str, path: str | None) -> Iterator[tuple[int, int]]:
    """A table (CSV, TSV, a Markdown table) whose header names a credential column (`password`, `api_key`):
    each row's cell in that column is a credential."""
    for head in _HEADER_LINE.finditer(text):
        header, begin = head.group(0), head.start()
        if not _COLUMN_WORD.search(header):
            continue
        sep = next((c for c in ("|", "\t", ",", ";") if header.count(c) >= (2 if c == "|" else 1)), None)
        if sep is None:
            continue
        names = [header[a:b].strip("\"'` *") for a, b in _cells(header, sep)]
        columns = [n for n, name in enumerate(names) if CREDENTIAL_NAME.fullmatch(name) or name.lower() in ("pass", "pw")]
        if not columns or len(names) < 2 or not all(re.fullmatch(r"[\w .\-]{1,40}", n) for n in names):
            continue
        pos = begin + len(header) + 1
        for _ in range(200):
            if pos >= len(text):
                break
            stop = text.find("\n", pos)
            stop = len(text) if stop < 0 else stop
            row = text[pos:stop]
            if not (sep == "|" and _TABLE_SEPARATOR.fullmatch(row)):
                cells = _cells(row, sep)
                if len(cells) != len(names):
                    break
                for n in columns:
                    a, b = cells[n]
                    value = row[a:b].strip("\"'`")
                    if value and not is_placeholder_value(value) and not re.search(r"\s", value):
                        yield pos + a + row[a:b].index(value), pos + a + row[a:b].index(value) + len(value)
            pos = stop + 1


_BYTE = r"(?:0[xX][0-9a-fA-F]{1,2}|\d{1,3}|'(?:\\.|[^'\\\n])')"  # a byte, or a char: `char[] password = {'s', …}`
_BYTE_ARRAY = re.compile(r"\{[\s\\]*(?P<body>(?:" + _BYTE + r"[\s\\]*,[\s\\]*){7,}(?:" + _BYTE + r")?)")
_ARRAY_NAME = re.compile(r"(?P<name>[A-Za-z_]\w*)[ \t]*(?:\[[^\]\n]*\][ \t]*)*(?:=[ \t]*)?$")
_KEY_NAME = re.compile(r"(?i)(?:key|secret|passw(?:or)?d|pwd|token|salt)$")


def byte_array_hits(text: str, path: str | None) -> Iterator[tuple[int, int]]:
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
SUFFIXED_PASSWORD_NAME = re.compile(_PASSWORD_WORD + r"(?:_[A-Za-z0-9]+){1,2}$")
_PASSWORD_NAME_SUFFIXED = re.compile(  # the owner of a glued `pass` is checked apart: a regex that starts
    # with a dozen alternatives costs milliseconds on every request
    r"(?P<name>(?P<word>(?i:pa?s{1,2}w(?:o?r)?d|passwd|pwd|pass))(?:_[A-Za-z0-9]+){1,2})"
    r"""[ \t]*(?::=|=)[ \t]*(?:(?P<q>["'`])(?P<qv>[^"'`\s][^"'`\n]{6,254}[^"'`\s])(?P=q)|(?P<uv>[^\s"'`]{8,256}))""")
NOT_THE_PASSWORD = re.compile(
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


def suffixed_password_hits(text: str, path: str | None) -> Iterator[tuple[int, int]]:
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
        if NOT_THE_PASSWORD.search(_snake(match.group("name"))):
            continue  # a name that describes the password
        group = "qv" if match.group("q") else "uv"
        value = match.group(group)
        if is_placeholder_value(value):
            continue
        if group == "uv":
            config = looks_config(path)
            whole = _unquoted_literal(text, match.start("uv"), config)
            if whole is None and not (config and secret_like(value.rstrip(",;"))):
                continue
            yield whole or (match.start("uv"), match.start("uv") + len(value.rstrip(",;")))
        elif re.search(r"\s", value):
            # a passphrase ("lantern over the weir"), not a sentence of help text ("Use 8 or more characters.")
            if len(value) <= 64 and not (value[:1].isupper() and re.search(r"\s\S+\s\S+\s", value)) and not re.search(r"[.!?:]$|\{\w*\}|%[sd]", value):
                yield match.span("qv")
        elif secret_like(value) or (shannon_entropy(value) >= 3.0 and re.search(r"[^\w]", value)
                                     and not REGEX_SOURCE.search(value) and "://" not in value):
            yield match.span("qv")


_CRED_CONTEXT = re.compile(r"(?i)passw|pwd|secret|token|api[_.\-]?key|apikey|access[_.\-]?key|private[_.\-]?key|auth(?!or)|credential|bearer|signature|signing|hmac|(?<![a-z])key(?![a-z])|[a-z_]key\b")
_QUOTED_BLOB = re.compile(r"""(["'`])([A-Za-z0-9+/=_\-.~]{16,})\1""")


_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def entropy_hits(text: str, path: str | None) -> Iterator[tuple[int, int]]:
    for match in _QUOTED_BLOB.finditer(text):
        value = match.group(2)
        if _GUID.fullmatch(value) and re.search(r"(?i)guid|uuid", text[text.rfind("\n", 0, match.start()) + 1:match.start()]):
            continue  # `new Guid("…")`: an identifier
        if (is_placeholder_value(value) or re.fullmatch(r"[a-z_.\-]+|[A-Z_.\-]+|\d+", value) or not re.search(r"\d", value)
                or dotted_name(value) or name_of_words(value) or is_charset(value) or PLACEHOLDER.search(value)):
            continue  # (a value holding our own placeholder: its secret part is already out)
        hexish = re.fullmatch(r"[0-9a-fA-F\-]+", value)
        if shannon_entropy(value) <= (3.0 if hexish else 3.7):
            continue
        line_start = text.rfind("\n", 0, match.start()) + 1
        line_end = text.find("\n", match.end())
        if _CRED_CONTEXT.search(PLACEHOLDER.sub("", text[line_start:len(text) if line_end < 0 else line_end])):
            yield match.start(2), match.end(2)  # ("KURA_SECRET_1" on the line names no credential)

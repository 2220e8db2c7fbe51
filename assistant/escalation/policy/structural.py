"""The second net: a value that looks like a credential is redacted even when no known format matches.

Known formats (formats.py) catch what a vendor documents; this module catches the rest by shape.
Every token of 16+ characters from the credential alphabet (letters, digits, + / = _ - . ~) is a
candidate, wherever it stands (string literal, assignment, URL query, header, XML/JSON/YAML value,
env line, comment); it is redacted when it looks random and is clearly none of the things real code
is full of (identifiers, words, paths, versions, hashes in lockfiles, UUIDs, encoded data blobs).
A credential word on the same line (key, token, secret, password, auth, ...) lowers the bar. The
thresholds were tuned on the tuning half of benchmarks/secrets_corpus.py and ~5 500 real files.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import math
import re
from collections.abc import Iterator

# Boundaries exclude the alphabet itself, so a candidate is a maximal run.
_CANDIDATE = re.compile(r"(?<![A-Za-z0-9+/_\-.~=])[A-Za-z0-9+/_\-.~][A-Za-z0-9+/_\-.~=]{15,}")
_RUN = re.compile(r"[A-Za-z0-9+/=_\-.~]{24,}")  # long runs are values, not names: no context inside them
_NAME_EQ = re.compile(r"[A-Za-z_][\w.\-]{0,63}=(?=[^=])")
# A vendor token: a short prefix, maybe an environment word, then a long body ("shippo_live_...",
# "pgar_...", "BBDC-..."); the body may be a test dummy ("1111...", "aaaa...") and still counts.
_PREFIXED = re.compile(r"[A-Za-z][A-Za-z0-9]{1,11}[_\-](?:[a-z]{2,8}[_\-])?([A-Za-z0-9]{20,}|[A-Za-z0-9]{8,}[_\-][A-Za-z0-9]{16,})")
# A credential word names the line: then hex, UUID-shaped and shorter values count too.
_CONTEXT = re.compile(
    r"(?i)(?:passw|passwd|pwd|secret|token|api[_.\-]?key|apikey|access[_.\-]?key|private[_.\-]?key|auth(?!or)|credential"
    r"|bearer|signature|signing|hmac|salt(?![a-z])|(?<![a-z])key(?![a-z])|[a-z_]key(?![a-z])|(?-i:[a-z]Key|KEY)|sas(?![a-z])|sig=|session|cookie"
    r"|client[_.\-]?id|account[_.\-]?key|license|webhook|dsn|connection[_.\-]?string|api\W{0,2}\s*[=:]"
    r"|[_\-.]pat(?![a-z])|(?-i:(?<![A-Za-z])PAT(?![A-Za-z])|ACCESS|PRIVATE))"  # shouted, these name a credential ("vendorACCESS …"); in lowercase they are words
)
# Lines that name a digest: a hex/base64 value there is a checksum, not a credential.
_DIGEST = re.compile(r"(?i)sha-?(?:1|224|256|384|512)|\bsha\b|(?<![\w-])uses:|md5|checksum|digest|integrity|hash|fingerprint|etag|commit|revision|\brev\b|crc|nonce|sri|blake|xxh|murmur|git[_-]?sha|oid|object[_-]?id|boundary")
_DIGIT = re.compile(r"\d")
_GUID_WORD = re.compile(r"(?i)guid|uuid")
_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")
# Names of encoded data: a random-looking value after one of these (and no credential word) is data.
_DATA_WORDS = re.compile(r"(?:(?<![A-Za-z])|(?<=[a-z])(?=[A-Z]))(?i:png|jpe?g|gif|webp|image|icon|font|woff|fixture|b64|base64|blob|payload|sample|vector|bitmap|thumbnail)")
# `wandb 3f9c…`, `NICEREPLY=…`, `mailchimp: "…"`: one name, then the value, nothing else on the line.
# A UUID there too (`railway = '…'`): services issue UUIDs as API keys; ids are named so (`user_id`, `ns`).
_SERVICE_KEY = re.compile(r"[0-9a-f]{32,64}|[0-9A-F]{32,64}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ID_NAME = re.compile(r"(?:^|[_.\-])(?i:ids?|ns|namespace)$|[a-z](?:Id|ID|Ids)$")
_SERVICE_LINE = re.compile(r"[ \t]*(?:export[ \t]+)?[\"']?(?P<name>[A-Za-z][\w.\-]{1,63})[\"']?[ \t]*(?:[:=][ \t]*|[ \t])[\"']?")


def _service_line(text: str, start: int, end: int) -> bool:
    """A line that is only `name value` (or `name = value`): a hex value there is a key given to a
    service, not a digest (those are named: sha, checksum, commit, … — see _DIGEST)."""
    begin = text.rfind("\n", 0, start) + 1
    stop = text.find("\n", end)
    after = text[end:len(text) if stop < 0 else stop]
    named = _SERVICE_LINE.fullmatch(text, begin, start)
    if not named or re.search(r"\.[A-Za-z0-9]{1,5}$", named.group("name")):
        return False  # `libfoo-1.2.tar.gz 3f9c…`: a file's checksum
    if "-" in text[start:end] and (_ID_NAME.search(named.group("name")) or named.group("name").lower() == "id"):
        return False  # `request_id = "<uuid>"`: an identifier
    return not after.strip(" \t\"',;")


_HOOK_URL = re.compile(r"(?i)[/.](?:web)?hooks?[/.]")  # a webhook URL: its path is the credential
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SEGMENTS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_VOWELS = set("aeiouAEIOU")
# Public by design: an Ethereum address (a private key is 64 hex digits), a GitHub security advisory id
_PUBLIC_ID = re.compile(r"0x[0-9a-fA-F]{40}|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}")
_NOT_SECRET_PREFIX = ("data:", "sha256-", "sha384-", "sha512-", "sha1-", "md5-", "urn:", "xmlns", "http", "www.")


def entropy(value: str) -> float:
    counts: dict[str, int] = {}
    for ch in value:
        counts[ch] = counts.get(ch, 0) + 1
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


# The letter pairs that make up 97 % of the pairs inside identifier words of the Python standard
# library (camelCase and snake_case split into words, lowercased). Identifiers and words score ~0.9+
# on `wordiness`; generated keys ~0.4, since their letter pairs are uniform over all 676.
_COMMON_PAIRS = frozenset((
    "ab ac ad af ag ai ak al am an ap ar as at au av aw ax ay ba bc bd be bi bj bl bo br bs bu by ca cc "
    "ce ch ci ck cl co cr cs ct cu cy da dd de dg di dl do dr ds dt du ea eb ec ed ee ef eg ei el em en "
    "ep eq er es et ev ew ex ey fa fe ff fi fl fo fr ft fu ga ge gh gi gl gn go gr gs gu ha he hi ho ht "
    "ia ib ic id ie if ig il im in io ip ir is it iv ix iz je ke ki ks la ld le lf li ll lo ls lt lu ly "
    "ma mb me mi mm mo mp ms mu na nc nd ne nf ng ni nk nl nn no np ns nt nu nv ny oa ob oc od of og oi "
    "ok ol om on oo op or os ot ou ov ow pa pd pe ph pi pl po pp pr ps pt pu py qu ra rc rd re rg ri rk "
    "rl rm rn ro rr rs rt ru rv ry sa sc se sh si sk sl sm so sp sq ss st su sy ta tc te th ti tl to tp "
    "tr ts tt tu tw ty ua ub uc ud ue ui uk ul um un up ur us ut va ve vi wa we wh wi wo wr ws xa xc xe "
    "xi xp xt ym yn yp ys yt ze "
).split())


def wordiness(value: str) -> tuple[float, int]:
    """(share of letter pairs that are common in identifier words, number of pairs)."""
    pairs = common = 0
    for segment in _SEGMENTS.findall(value):
        if segment.isdigit():
            continue
        low = segment.lower()
        for i in range(len(low) - 1):
            pairs += 1
            common += low[i:i + 2] in _COMMON_PAIRS
    return (common / pairs if pairs else 1.0), pairs


def _hexlike(value: str) -> bool:
    """Hex like a digest or id: digests are printed in one case, so mixed-case hex is a key."""
    core = value.replace("-", "")
    if re.search(r"[a-f]", core) and re.search(r"[A-F]", core):
        return False
    return sum(c in "0123456789abcdefABCDEF" for c in core) >= 0.85 * len(core)


def _without_runs(text: str) -> str:
    """`text` with long value runs blanked out, keeping a `name=` that begins one (`Key=7/12…`)."""
    def keep_name(match: re.Match) -> str:
        name = _NAME_EQ.match(match.group(0))
        return " " + (name.group(0) if name else "") + " "
    return _RUN.sub(keep_name, text)


def _random_score(value: str) -> bool:
    """Random-looking on its own: letter pairs unlike words, or digits scattered through letters."""
    core = re.sub(r"[^A-Za-z0-9]", "", value)
    letters = sum(c.isalpha() for c in core)
    if len(core) < 14 or letters < 4 or entropy(core) < (3.0 if len(core) < 24 else 3.3):
        return False
    parts = [p for p in re.split(r"[._\-/~+=]+", value) if p]
    if len(parts) >= 3 and max(map(len, parts)) <= 10:
        return False  # snake/kebab/dotted names and paths of short words
    w, pairs = wordiness(value)
    digit_runs = len(re.findall(r"\d+", core))
    if pairs < 6:
        return digit_runs >= 4
    if digit_runs == 0:
        return w < 0.45 and len(core) >= 20
    return w < 0.6 or (w < 0.75 and digit_runs >= 3)


_NAME_PART = re.compile(r"[A-Z]?[a-z]+|[A-Z]+|\d+|v\d+")


def name_of_words(value: str) -> bool:
    """`huggingface_hub.utils`, `HTTP_407_PROXY_AUTHENTICATION_REQUIRED`, `validator-v1-signature`,
    `OAuth2PasswordRequestForm`: three or more parts (snake, kebab, dotted or camel case), each a
    word or a number, the words reading like words."""
    parts = [p for p in re.split(r"[_\-.]+", value) if p]
    if len(parts) == 1:
        parts = _SEGMENTS.findall(value)
        camel = re.search(r"[a-z][A-Z]", value) and sum(p.isdigit() for p in parts) <= 1
        if not camel or "".join(parts) != value or sum(len(p) == 1 and p.isalpha() for p in parts) > 1:
            return False
    if len(parts) < 3 or not all(_NAME_PART.fullmatch(p) for p in parts):
        return False
    w, pairs = wordiness("_".join(p for p in parts if not p.isdigit()))
    return pairs >= 6 and w >= (0.6 if value.isalpha() or not re.search(r"\d", value) else 0.8)


def _clearly_not_secret(value: str, text: str, start: int, context: bool) -> bool:
    """Clearly a number, version, path, name, escape run or encoded sentence; with no credential word on
    the line also an alphabet or counting table (with one, "abcdef123456…" is a key's stand-in: redact it)."""
    low = value.lower()
    if name_of_words(value):
        return True
    if low.startswith(_NOT_SECRET_PREFIX) or value.startswith(("/", "./", "../", "-", ".")):
        return True
    if _PUBLIC_ID.fullmatch(value):
        return True
    if context and value.isdigit() and len(value) >= 20 and text[start - 1:start] != "(":
        return False  # a long number under a credential word: an account key, not a count
    if re.fullmatch(r"[\d.\-_:/+]+", value) or re.fullmatch(r"v?\d+(?:\.\d+){1,3}(?:[-+.][\w.]+)?", value):
        return True  # numbers, dates, versions
    if re.fullmatch(r"[+-]?\d+(?:\.\d+)?[eE][+-]?\d+", value):
        return True  # a float with an exponent
    if text[max(0, start - 2):start] == "--":
        return True  # a multipart boundary (`--` then the boundary's random part)
    if re.search(r"/(?:blob|tree|commit|commits|raw|compare)/$", text[max(0, start - 10):start]):
        return True  # a commit id in a repository URL
    if re.fullmatch(r"P(?:\d+[YMWD])*(?:T(?:\d+(?:\.\d+)?[HMS])+)?|-{2,}\w+", value):
        return True  # an ISO-8601 duration, a multipart boundary
    if _base64_of_prose(value) or (_sequential(value) and (not context or is_charset(value))):
        return True  # a counting table, or under a credential word a character set ("0123456789abcdef")
    if low.startswith("xn--"):
        return True
    if text[max(0, start - 3):start] == "h1:" and re.fullmatch(r"[A-Za-z0-9+/]{43}=", value):
        return True  # a Go module's checksum (`golang.org/x/mod v0.4.2 h1:…=` in go.sum and go.mod listings)
    before = text[max(0, start - 1):start]
    if before == "\\" or text[max(0, start - 2):start] in ("\\x", "\\u", "0x", "&#"):
        return True  # an escape sequence run
    return False


def _base64_of_prose(value: str) -> bool:
    """Base64 that decodes to a sentence ("VGhpcyBpcyBh..." = "This is a...") is test data, not a key."""
    if len(value) % 4 or not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", value):
        return False
    try:
        decoded = base64.b64decode(value, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    prose = decoded.count(" ") >= 1 and sum(c.isalpha() or c in " .,'!?" for c in decoded) >= 0.9 * len(decoded)
    return prose or _sequential(decoded)


_CHAR_RANGES = (frozenset("0123456789"), frozenset("abcdefghijklmnopqrstuvwxyz"), frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))


def is_charset(value: str) -> bool:
    """Each character once, whole ranges only (0-9, a-f or a-z, A-F or A-Z): an alphabet constant."""
    chars = set(value) - set("+/=-_.")
    if len(set(value)) != len(value):
        return False
    for whole in _CHAR_RANGES:
        part = chars & whole
        if part and part != whole and part != whole & set("0123456789abcdefABCDEF"):
            return False
    return True


def _sequential(value: str) -> bool:
    """An alphabet or counting table ("abcdef...", "0123456789"), not a key."""
    steps = sum(ord(b) - ord(a) == 1 for a, b in zip(value, value[1:]))
    return steps >= 0.6 * (len(value) - 1)


def _candidates(text: str) -> Iterator[tuple[int, str, tuple[int, int] | None]]:
    """(offset, token, URL span) for each run of the credential alphabet; `name=value` yields the value,
    and a URL or path yields its segments (a key in a webhook path; the host and words are never random)
    with, for a URL, the span of the whole URL: one whose path holds a key is itself the credential."""
    for match in _CANDIDATE.finditer(text):
        start, value = match.start(), match.group(0)
        name = _NAME_EQ.match(value)
        if name:
            start, value = start + name.end(), value[name.end():]
        if "/" in value and (value.startswith("/") or re.match(r"[\w\-]+(?:\.[\w\-]+)+/", value)):
            scheme = re.search(r"[A-Za-z][A-Za-z0-9+.\-]{1,15}:$", text[max(0, start - 17):start]) if value.startswith("//") else None
            url = (start - len(scheme.group(0)), start + len(value)) if scheme else None
            offset = 0
            for segment in value.split("/"):
                stripped = segment.strip(".-~")
                if len(stripped) >= 16:
                    yield start + offset + segment.find(stripped), stripped, url
                offset += len(segment) + 1
            continue
        stripped = value.strip(".-~")
        if len(stripped) >= 16:
            yield start + value.find(stripped), stripped, None


def _prefixed_token(value: str) -> bool:
    match = _PREFIXED.fullmatch(value)
    if not match:
        return False
    body = match.group(1)
    if _dummy_body(body):
        return True  # a vendor prefix with a dummy body is still a credential's shape
    w, pairs = wordiness(body)
    return w < 0.6 or len(re.findall(r"\d+", body)) >= 3


def _dummy_body(body: str) -> bool:
    """"1111…", "aaaa…", "AAAA-BBBB…", "1234…": a test stand-in for a generated body."""
    return all(len(set(part)) <= 2 for part in re.split(r"[_\-]", body)) or body.isdigit()


def _prefixed_dummy(value: str) -> bool:
    """A vendor-style prefix before a dummy body: `pgar_aaaa…`, `BBDC-1111…`, `da2-aaaa…`."""
    match = _PREFIXED.fullmatch(value)
    return bool(match) and _dummy_body(match.group(1)) and not value[:match.start(1)].strip("_-").isdigit()


# A credential word as a whole part of a name (`secret`, `apiKey`, `db_password`), not inside a longer word
# (`secretary`, `tokenization`, `keyboard`): the stricter context a letters-only value needs.
_CREDENTIAL_PART = re.compile(r"(?i:passw(?:or)?d|passwd|passphrase|pwd|secret|token|api[_.\-]?key|apikey|access[_.\-]?key"
                              r"|private[_.\-]?key|secret[_.\-]?key|auth|credentials?|bearer)(?![a-z])")


def _names_credential(text: str, start: int, end: int) -> bool:
    begin = text.rfind("\n", 0, start) + 1
    stop = text.find("\n", end)
    return bool(_CREDENTIAL_PART.search(text[begin:start] + " " + text[end:len(text) if stop < 0 else stop]))


def _quoted_letters(text: str, start: int, value: str) -> bool:
    """A quoted literal of 16-19 letters only ("qhzkwmvtrplxnbgfe"): a key's shape when a credential word
    names its line (it must then still read unlike words, `_context_score`)."""
    return (value.isalpha() and value.isascii() and text[start - 1:start] in ("'", '"', "`")
            and text[start + len(value):start + len(value) + 1] == text[start - 1:start])


def random_value_hits(text: str, path: str | None = None) -> Iterator[tuple[str, int, int]]:
    """(rule id, start, end) for each random-looking token; rule id says whether context helped."""
    lockfile = bool(path) and bool(re.search(r"(?i)(?:^|/)(?:[\w.-]*lock[\w.-]*|go\.sum|[\w.-]*\.lock|integrity[\w.-]*)$", path or ""))

    def line_flags(start: int, end: int) -> tuple[bool, bool]:
        """(credential word on this or the previous line, digest word on this line); the value itself
        does not count (a base64 run can spell "key")."""
        begin = text.rfind("\n", 0, start) + 1
        stop = text.find("\n", end)
        stop = len(text) if stop < 0 else stop
        previous = text.rfind("\n", 0, max(0, begin - 1)) + 1 if begin else begin
        around = _without_runs(text[previous:start] + " " + text[end:stop])
        return bool(_CONTEXT.search(around)), bool(_DIGEST.search(_without_runs(text[begin:start] + " " + text[end:stop])))

    for start, value, url in _candidates(text):
        if len(value) < 20 and not _DIGIT.search(value):
            if not (_quoted_letters(text, start, value) and _names_credential(text, start, start + len(value))):
                continue
        if _prefixed_dummy(value) and not value.lower().startswith(_NOT_SECRET_PREFIX):
            yield ("random-token", start, start + len(value))
            continue
        context, digest = line_flags(start, start + len(value))
        context = context or bool(url and _HOOK_URL.search(text, url[0], url[1]))
        if _clearly_not_secret(value, text, start, context):
            continue
        hexish = _hexlike(value)
        if digest and not context:
            continue  # an ETag, checksum or digest named on the line
        if _ULID.fullmatch(value):
            continue  # a ULID: a sortable id (timestamp + randomness), not a key
        if _UUID.fullmatch(value) and _GUID_WORD.search(text, text.rfind("\n", 0, start) + 1, start):
            continue  # `new Guid("…")`, `uuid = "…"`: an identifier
        if hexish or (len(value) in (40, 44, 64, 88, 128) and digest):
            named = bool(_SERVICE_KEY.fullmatch(value)) and _service_line(text, start, start + len(value))
            if lockfile or digest or not (context or named):
                continue  # a hash: commit ids, checksums, test vectors
            if _UUID.fullmatch(value) and not (context or named):
                continue
            if len(value.replace("-", "")) >= 16 and entropy(value) >= 2.8:
                yield "random-credential", start, start + len(value)
            continue
        if not context and (len(value) > 300 or _DATA_WORDS.search(text, text.rfind("\n", 0, start) + 1, start)):
            continue  # an encoded data blob (image, font, fixture, test vector), not a credential
        if _random_score(value) or _prefixed_token(value):
            yield ("random-credential" if context else "random-token"), *(url or (start, start + len(value)))
        elif context and _context_score(value):
            yield "random-credential", *(url or (start, start + len(value)))
    for match in _SHORT_CANDIDATE.finditer(text):
        value = match.group(0)
        if _short_key(value) and line_flags(match.start(), match.end()) == (True, False):
            yield "random-credential", match.start(), match.end()
    for match in _PUNCTUATED.finditer(text):
        start, end = match.span("v")
        if _punctuated_random(match.group("v")) and line_flags(start, end)[0]:  # no digest has these symbols
            yield "random-credential", start, end


# A generated key or salt need not keep to the credential alphabet: WordPress' AUTH_KEY, a Django SECRET_KEY
# drawn from all printable characters ('MW1p(>M%0Vl 2(#o0|2$cB+K|…'). Whole quoted literals, then.
_PUNCTUATED = re.compile(r"""(?P<q>['"`])(?P<v>(?:(?!(?P=q))[^\n\\]){24,256})(?P=q)""")
_SYMBOLS = re.compile(r"[^A-Za-z0-9\s]")


def _punctuated_random(value: str) -> bool:
    """Letters of both cases, digits and many symbols, spread evenly (no words, no syntax): a value drawn
    from all printable characters. Format strings, regexes, templates, URLs and prose are not."""
    if "://" in value or value.count(" ") > 2 or len(_SYMBOLS.findall(value)) < 6:
        return False
    if not (re.search(r"[a-z]", value) and re.search(r"[A-Z]", value) and re.search(r"\d", value)):
        return False
    if re.search(r"%[-+ #0]*\d*(?:\.\d+)?[sdfxr]|\{\w*\}|\$\{|\[\^?\w-\w|\\[dws]", value):
        return False  # `%s`, `{name}`, `${x}`, `[a-z`, `\d`: a template or a regex
    if any(wordiness(run)[0] >= 0.7 and sum(c in _VOWELS for c in run) * 5 >= len(run)
           for run in re.findall(r"[A-Za-z]{6,}", value)):
        return False  # a word among the symbols: text or code
    return entropy(value) >= 4.5


# 12-15 characters: too short to tell from names on their own, so only under a credential word.
_SHORT_CANDIDATE = re.compile(r"(?<![A-Za-z0-9+/_\-.~=])[A-Za-z0-9]{12,15}(?![A-Za-z0-9+/_\-.~=])")


def _short_key(value: str) -> bool:
    """Letters and digits mixed like a generated key ("abcDE1234567890"), not a name with a number."""
    digits = sum(c.isdigit() for c in value)
    if digits < 3 or len(value) - digits < 3 or entropy(value) < 3.0:
        return False
    if re.fullmatch(r"[A-Za-z]+\d{1,4}|\d{1,4}[A-Za-z]+|[A-Za-z]+\d+[A-Za-z]{1,2}|0x[0-9a-fA-F]+|[0-9a-f]+", value):
        return False  # a name with a number; a short commit or container id
    w, pairs = wordiness(value)
    return pairs < 6 or w < 0.7


_PASSWORD_WORD = re.compile(r"(?:pa?s{1,2}w(?:o?r)?s?d|passwd|passphrase|(?<![a-z])pass(?=[:=\s\"'])|pwd|pswd|(?<![a-z0-9+/])pw(?![a-z])"
                            r"|(?<![a-z])p/w|비밀번호|비번|암호|패스워드|パスワード|暗証番号|密码|密碼|口令|(?<![a-z])pin(?=\s*[:=]))")
_PASSWORD_NEEDLES = ("pas", "pw", "psw", "pssw", "p/w", "pin", "비밀번호", "비번", "암호", "패스워드", "パスワード", "暗証番号", "密码", "密碼", "口令")
_PASSWORD_WORD_I = re.compile(_PASSWORD_WORD.pattern, re.I)
_SHORT_VALUE = re.compile(r"[^\s'\"`,;()\[\]{}<>=:|]{6,64}")


def password_hits(text: str) -> Iterator[tuple[int, int]]:
    """Short passwords (6+ characters, letters and digits, not a word) in the two tokens after a password word."""
    lower = text.lower()
    if not any(needle in lower for needle in _PASSWORD_NEEDLES):
        return
    # Offsets in `lower` are offsets in `text` unless lowercasing changed a length (rare non-ASCII).
    for match in (_PASSWORD_WORD.finditer(lower) if len(lower) == len(text) else _PASSWORD_WORD_I.finditer(text)):
        word_start = match.start()
        while word_start > 0 and (text[word_start - 1].isalnum() or text[word_start - 1] in "_-.+/="):
            word_start -= 1
        if match.end() - word_start > 40 or "+" in text[word_start:match.start()] or "/" in text[word_start:match.start()]:
            continue  # "pw" inside a base64 or hash run, not a name
        end = text.find("\n", match.end())
        end = len(text) if end < 0 else end
        bare_pass = text[match.start():match.end()].lower() == "pass"
        for n, token in enumerate(_SHORT_VALUE.finditer(text, match.end(), min(end, match.end() + 120))):
            if n >= (1 if bare_pass else 2):
                break
            if bare_pass and text[match.end():token.start()].strip(" \t:=\"'"):
                break  # "first pass: determine ...": prose, not `pass=value`
            value = token.group(0).strip(".")
            quoted = text[token.start() - 1:token.start()] in ("'", '"', "`") and text[token.end():token.end() + 1] in ("'", '"', "`")
            if (len(value) < 6 or not re.search(r"\d", value) or not re.search(r"[A-Za-z]", value)
                    or re.fullmatch(r"[\w]+(?:[._\-/][\w]+)*", value) and max(map(len, re.split(r"[._\-/]", value))) <= 10
                    and "_" in value or value.startswith(("$", "%", "@", "{", "#", "&", "*", "\\", "/", ".", "-"))):
                continue
            if _PASSWORD_WORD_I.match(value) or (not quoted and re.fullmatch(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+", value)):
                continue  # `pwd2.uid`, `password2`: a name, not a value
            w, pairs = wordiness(value)
            digit_runs = len(re.findall(r"\d+", value))
            # An identifier-shaped value is a name (`password = derive2(...)`) unless it is a quoted literal.
            if (w < 0.85 or digit_runs >= 2) and (quoted or not re.fullmatch(r"[A-Za-z_]\w*\(?", value)) or re.search(r"[!#%^&*@$]", value[1:]):
                if not re.fullmatch(r"[a-z]+\d{1,3}|v?\d+(?:\.\d+)+\w*|\d+[a-z]{1,3}", value):
                    yield token.start() + token.group(0).find(value), token.start() + token.group(0).find(value) + len(value)


def _context_score(value: str) -> bool:
    """With a credential word on the line, a shorter or less random value still counts."""
    core = re.sub(r"[^A-Za-z0-9]", "", value)
    if len(core) < 14 or entropy(core) < 3.0:
        return False
    parts = [p for p in re.split(r"[._\-/~+=]+", value) if p]
    w, pairs = wordiness(value)
    if len(parts) >= 3 and max(map(len, parts)) <= 10 and w >= 0.65:
        return False  # snake/kebab/dotted names of short words ("uv__convert_utf16_to_utf8")
    digit_runs = len(re.findall(r"\d+", core))
    return w < 0.7 or (w < 0.85 and digit_runs >= 2) or (pairs < 6 and digit_runs >= 2)

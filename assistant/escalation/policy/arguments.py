"""Literals used as credentials by what the code does with them: compared with a credential-named variable,
passed where a well-known login, connection or signing call takes its password or key, or given to `-p` /
`--password` on a command line. Each `*_hits(text, path)` yields the spans of the literals."""

from __future__ import annotations

import re
from collections.abc import Iterator

from assistant.escalation.policy.keywords import (
    CREDENTIAL_NAME, NOT_THE_PASSWORD, PASSWORD_SPELLING, SUFFIXED_PASSWORD_NAME,
)
from assistant.escalation.policy.values import PLACEHOLDER, is_placeholder_value, secret_like, shannon_entropy

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
    suffixed = SUFFIXED_PASSWORD_NAME.search(name) and not NOT_THE_PASSWORD.search(name)
    if not (CREDENTIAL_NAME.search(name) or suffixed) or is_placeholder_value(value):
        return False
    return bool(PASSWORD_SPELLING.search(name) or suffixed or secret_like(value) or (
        not re.search(r"\s", value) and shannon_entropy(value) >= 3.0 and re.search(r"[^\w]", value)))


def compared_hits(text: str, path: str | None) -> Iterator[tuple[int, int]]:
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


def argument_hits(text: str, path: str | None) -> Iterator[tuple[int, int]]:
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


def cli_password_hits(text: str, path: str | None) -> Iterator[tuple[int, int]]:
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
    if "-stdin" in text:
        for match in _STDIN_PASSWORD.finditer(text):
            if match.group("v")[0] not in "$%<{[(&*" and not is_placeholder_value(match.group("v")):
                yield match.span("v")


# `echo "pw" | docker login -u bob --password-stdin` (docker, podman, helm registry, oras, …): what is piped in
_STDIN_PASSWORD = re.compile(r"""(?:echo|printf)[ \t]+(?:-n[ \t]+)?(?P<q>["']?)(?P<v>[^\s"'|;]{4,256})(?P=q)[ \t]*\|[^|\n]*?--password-stdin""")

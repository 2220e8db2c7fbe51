"""Code-aware words for full-text search: `getUserName`, `get_user_name`, `GetUserName` and `user name` meet.

Every identifier becomes its lower-cased parts (camelCase, PascalCase, snake_case and digit boundaries)
plus the parts joined (`getusername`), so a whole identifier in any spelling and any of its words match.
The store feeds these space-separated words to FTS5's `unicode61` tokenizer, and builds queries with
the same functions, so index and query always agree. Changing the rules here changes what is stored:
bump `WORDS_VERSION` (the store rebuilds an index made with other rules).
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import chain

WORDS_VERSION = 1

# An identifier or a word in a comment/string: a letter or underscore, then letters, digits,
# underscores — whole, and at most 64 characters: longer ones are data (hashes, base64), not names.
_MAX_IDENTIFIER = 64
_IDENTIFIER = re.compile(r"(?<!\w)[^\W\d]\w{0,%d}(?!\w)" % (_MAX_IDENTIFIER - 1))
# The same tokens found faster: every run of word characters, then those runs kept that start with a
# non-digit (\d is Unicode Nd, as str.isdecimal) and fit the length limit. A plain \w+ scan is about
# twice as fast as the look-around pattern, and the filter runs once per distinct run.
_WORD_RUN = re.compile(r"\w+")
# In ASCII text \w is [A-Za-z0-9_]: mapping every other byte to a space and splitting on whitespace
# finds the same runs as _WORD_RUN about three times faster (bytes.translate is a table lookup).
_ASCII_NON_WORD = bytes(c if chr(c).isalnum() or c == 0x5F else 0x20 for c in range(128)) + b" " * 128
# The parts of one identifier. "Lower" means any letter that is not an ASCII capital, so non-ASCII words
# (größe, имя) stay whole instead of being cut at every accented letter.
_PART = re.compile(
    r"[A-Z]+(?=[A-Z][^\W\dA-Z_])"  # an acronym before a capitalised word: HTTP|Server
    r"|[A-Z]?[^\W\dA-Z_]+"  # a (capitalised) word: get, User
    r"|[A-Z]+"  # a trailing acronym: parseXML -> XML
    r"|\d+"
)


@lru_cache(maxsize=1 << 16)
def split_identifier(identifier: str) -> tuple[str, ...]:
    """Lower-cased parts of one identifier: `HTTPServer2_conf` -> ('http', 'server', '2', 'conf')."""
    return tuple(part.lower() for part in _PART.findall(identifier))


@lru_cache(maxsize=1 << 17)
def identifier_words(identifier: str) -> tuple[str, ...]:
    """The words one identifier is indexed under: the parts joined, then each part if there are several."""
    parts = split_identifier(identifier)
    if not parts:
        return ()
    joined = "".join(parts)
    if len(parts) == 1:
        return (joined,)
    return (joined, *parts)


def identifiers(text: str) -> list[str]:
    """The identifier-like tokens of a text, in order (numbers alone are not words)."""
    return _IDENTIFIER.findall(text)


class _RunWords(dict):
    """A run of word characters → the words it is indexed under; () for runs that are not
    identifiers (numbers, over-long data). Looked up with the dict's own C `__getitem__`, so a
    run seen before costs no Python call; emptied when it grows past `_RUN_CACHE_SIZE`."""

    def __missing__(self, run: str) -> tuple[str, ...]:
        if len(self) >= _RUN_CACHE_SIZE:
            self.clear()
        words = identifier_words(run) if len(run) <= _MAX_IDENTIFIER and not run[0].isdecimal() else ()
        self[run] = words
        return words


_RUN_CACHE_SIZE = 1 << 18
_run_words = _RunWords()


def word_runs(text: str) -> list[str]:
    """Every run of word characters (`\\w+`) in the text, in order."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_NON_WORD).decode("ascii").split()
    return _WORD_RUN.findall(text)


def text_words(text: str, unique: bool = False) -> str:
    """The space-separated words to index for a text (code, comments, a symbol name): the union of
    `identifier_words` over its identifiers. With `unique`, each word once: retrieval ranks chunks by
    which words they hold, and the index stays small."""
    runs = word_runs(text)
    if not unique:
        return " ".join(chain.from_iterable(map(_run_words.__getitem__, runs)))
    # This runs over every indexed character: findall/map/chain/fromkeys keep the per-identifier work
    # in C, and each distinct run is split once per process.
    return " ".join(dict.fromkeys(chain.from_iterable(map(_run_words.__getitem__, dict.fromkeys(runs)))))


def _quote(word: str) -> str:
    # Words only hold \w characters, but quoting keeps FTS5 from reading AND/OR/NOT/NEAR as operators.
    return '"' + word.replace('"', '""') + '"'


def match_any(text: str) -> str:
    """An FTS5 query matching documents with any word of `text` (BM25 ranks those with more first)."""
    seen: dict[str, None] = {}
    for identifier in identifiers(text):
        for word in identifier_words(identifier):
            seen.setdefault(word)
    return " OR ".join(_quote(w) for w in seen)


def match_prefix(text: str) -> str:
    """An FTS5 query for symbol search: every identifier in `text` must match as a prefix,
    either as a whole (`getus` -> getUserName) or word by word (`get_us` -> getUserName)."""
    clauses = []
    for identifier in identifiers(text):
        parts = split_identifier(identifier)
        if not parts:
            continue
        whole = _quote("".join(parts)) + "*"
        if len(parts) == 1:
            clauses.append(whole)
        else:
            each = " AND ".join(_quote(p) + "*" for p in parts)
            clauses.append(f"({whole} OR ({each}))")
    return " AND ".join(clauses)

"""Code-aware words: every spelling of an identifier, and its plain words, find each other."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.words import identifier_words, match_any, match_prefix, split_identifier, text_words


@pytest.mark.parametrize("spelling", ["getUserName", "get_user_name", "GetUserName", "GET_USER_NAME", "get-user-name"])
def test_every_spelling_splits_into_the_same_words(spelling):
    assert text_words(spelling).split()[-3:] == ["get", "user", "name"]


def test_an_identifier_is_indexed_whole_and_by_its_parts():
    assert identifier_words("getUserName") == ("getusername", "get", "user", "name")
    assert identifier_words("self") == ("self",)


@pytest.mark.parametrize(
    ("identifier", "parts"),
    [
        ("HTTPServer", ("http", "server")),
        ("parseXML", ("parse", "xml")),
        ("utf8Decode", ("utf", "8", "decode")),
        ("__init__", ("init",)),
        ("größeBerechnen", ("größe", "berechnen")),
    ],
)
def test_acronyms_digits_and_non_ascii_letters_split_sensibly(identifier, parts):
    assert split_identifier(identifier) == parts


def test_unique_words_hold_each_word_once():
    words = text_words("user_name = getUserName(user)", unique=True).split()
    assert sorted(words) == sorted({"username", "user", "name", "getusername", "get"})


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("aZ_9 é.Σ(xY\n"), max_size=40))
def test_the_bulk_word_path_agrees_with_the_per_identifier_rules(text):
    # The store deletes FTS rows by recomputing their words: the two paths must never disagree.
    assert set(text_words(text, unique=True).split()) == set(text_words(text).split())
    assert text_words(text, unique=True) == text_words(text, unique=True)


def test_identifiers_too_long_to_be_names_are_not_indexed():
    assert text_words("x" * 65 + " ok") == "ok"


@pytest.fixture
def fts():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(words, tokenize='unicode61 remove_diacritics 0')")
    for rowid, text in [(1, "def getUserName(self): return self._name"), (2, "class HttpClient: pass"),
                        (3, "# the user's display name\nDISPLAY = 1")]:
        db.execute("INSERT INTO t(rowid, words) VALUES (?, ?)", (rowid, text_words(text)))
    return lambda query: {r[0] for r in db.execute("SELECT rowid FROM t WHERE t MATCH ?", (query,))}


@pytest.mark.parametrize("query", ["getUserName", "get_user_name", "GetUserName", "user name"])
def test_fts_finds_the_identifier_from_any_spelling(fts, query):
    assert 1 in fts(match_any(query))


def test_prefix_queries_match_whole_identifiers_and_word_by_word(fts):
    assert fts(match_prefix("getUs")) == {1}
    assert fts(match_prefix("get_na")) == {1}
    assert fts(match_prefix("http")) == {2}
    assert fts(match_prefix("client")) == {2}


def test_query_words_that_are_fts_operators_are_taken_literally(fts):
    assert fts(match_any("NOT OR AND")) == set()
    assert match_prefix("!!") == ""

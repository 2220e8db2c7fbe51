"""Restoring placeholders in the cloud's answer: exact, escaped, and correct across stream chunks."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.escalation.policy.restore import Restorer, restore, restore_stream

MAPPING = {"KURA_HOST_1": "db01.corp.acme.io", "KURA_HOST_12": "cache.corp.acme.io", "KURA_TERM_1": "Acme", "KURA_SECRET_3": "p$a\\1ss"}


def test_restore_is_exact_and_never_matches_a_longer_number():
    assert restore("KURA_HOST_1 KURA_HOST_12 KURA_HOST_123 KURA_HOST_2", MAPPING) == \
        "db01.corp.acme.io cache.corp.acme.io KURA_HOST_123 KURA_HOST_2"


def test_restore_inside_identifiers_and_with_regex_metacharacters_in_originals():
    assert restore("class KURA_TERM_1Client: pw = 'KURA_SECRET_3'", MAPPING) == "class AcmeClient: pw = 'p$a\\1ss'"


def test_a_placeholder_split_across_chunks_is_restored():
    chunks = ["connect to K", "URA_HO", "ST_1", "2 and KURA_HOST_", "1", " done KUR"]
    assert "".join(restore_stream(chunks, MAPPING)) == "connect to cache.corp.acme.io and db01.corp.acme.io done KUR"


def test_text_is_released_as_soon_as_it_cannot_be_a_placeholder():
    restorer = Restorer(MAPPING)
    assert restorer.feed("Hello KURA_TE") == "Hello "
    assert restorer.feed("RM_1 world") == "Acme world"
    assert restorer.flush() == ""


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["KURA_HOST_1", "KURA_HOST_12", "KURA_TERM_1", "KURA_X_9", "K", "_", " ", "text", "1"]), max_size=30),
       st.lists(st.integers(min_value=0, max_value=400), max_size=12))
def test_streamed_restore_equals_whole_restore_for_any_split(tokens, cuts):
    text = "".join(tokens)
    points = sorted({c % (len(text) + 1) for c in cuts})
    chunks = [text[a:b] for a, b in zip([0, *points], [*points, len(text)])]
    assert "".join(restore_stream(chunks, MAPPING)) == restore(text, MAPPING)

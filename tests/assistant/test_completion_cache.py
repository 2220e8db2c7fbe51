"""The typed-through cache answers keystrokes that follow the visible suggestion without the model;
the LRU answers a document state seen before."""

from __future__ import annotations

from assistant.completion.cache import RECENT, TYPED_THROUGH, CompletionCache

DOC = "file:///repo/shop/checkout.py"
PREFIX = "def checkout(cart):\n    return "
SUFFIX = "\n\nprint(1)\n"


def suggested(text: str = "apply_discount(cart.total(), 10)") -> CompletionCache:
    cache = CompletionCache()
    cache.store(DOC, PREFIX, SUFFIX, text)
    return cache


def test_typing_the_suggestion_answers_with_the_rest():
    cache = suggested()
    hit = cache.lookup(DOC, PREFIX + "apply_", SUFFIX)
    assert hit is not None
    assert (hit.text, hit.source) == ("discount(cart.total(), 10)", TYPED_THROUGH)


def test_each_further_keystroke_is_answered_from_the_same_anchor():
    cache = suggested()
    for typed in ["a", "ap", "app", "apply_d", "apply_discount("]:
        hit = cache.lookup(DOC, PREFIX + typed, SUFFIX)
        assert hit is not None and "apply_discount(cart.total(), 10)" == typed + hit.text


def test_backspace_inside_the_typed_part_still_answers():
    cache = suggested()
    cache.lookup(DOC, PREFIX + "apply", SUFFIX)
    hit = cache.lookup(DOC, PREFIX + "app", SUFFIX)
    assert hit is not None and hit.text == "ly_discount(cart.total(), 10)"


def test_a_character_that_differs_invalidates_the_anchor():
    cache = suggested()
    assert cache.lookup(DOC, PREFIX + "apx", SUFFIX) is None
    # Going back to a matching state does not revive it: the suggestion is gone.
    hit = cache.lookup(DOC, PREFIX + "ap", SUFFIX)
    assert hit is None


def test_an_edit_after_the_cursor_is_a_miss():
    cache = suggested()
    assert cache.lookup(DOC, PREFIX + "app", SUFFIX + "x") is None


def test_an_edit_before_the_anchor_is_a_miss():
    cache = suggested()
    assert cache.lookup(DOC, "# note\n" + PREFIX + "app", SUFFIX) is None


def test_typing_all_of_it_or_accepting_ends_the_anchor():
    cache = suggested("total")
    assert cache.lookup(DOC, PREFIX + "total", SUFFIX) is None
    cache = suggested("total")
    cache.accepted(DOC)
    assert cache.lookup(DOC, PREFIX + "to", SUFFIX) is None


def test_anchors_are_per_document():
    cache = suggested()
    assert cache.lookup("file:///repo/other.py", PREFIX + "app", SUFFIX) is None
    assert cache.lookup(DOC, PREFIX + "app", SUFFIX) is not None


def test_recent_state_is_answered_from_the_lru_even_after_the_anchor_is_gone():
    cache = suggested()
    cache.invalidate(DOC)
    hit = cache.lookup(DOC, PREFIX, SUFFIX)
    assert hit is not None and (hit.text, hit.source) == ("apply_discount(cart.total(), 10)", RECENT)


def test_an_empty_completion_is_remembered_as_empty():
    cache = CompletionCache()
    cache.store(DOC, PREFIX, SUFFIX, "")
    hit = cache.lookup(DOC, PREFIX, SUFFIX)
    assert hit is not None and hit.text == ""
    assert cache.lookup(DOC, PREFIX + "x", SUFFIX) is None


def test_lru_forgets_the_least_recently_used():
    cache = CompletionCache(max_recent=2)
    cache.store("a", "p1", "s", "one")
    cache.store("a", "p2", "s", "two")
    cache.invalidate("a")
    assert cache.lookup("a", "p1", "s") is not None  # p1 is now the most recent
    cache.store("a", "p3", "s", "three")
    cache.invalidate("a")
    assert cache.lookup("a", "p2", "s") is None
    assert cache.lookup("a", "p1", "s").text == "one"

"""A first suggestion in time: a prompt the local model cannot read in time (a new place, a cold KV
cache, a slow machine) is cut to the lines around the cursor; once the model has read the whole
prompt (a warm-up at a resting cursor), the next request there carries the repository context.

A real llama.cpp model (a tiny random-weight GGUF) and a real index. The tiny model reads thousands
of tokens a second, so the tests set the measured reading speed to a slow laptop's: the one thing
not real here."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assistant.completion.in_time import window_only
from assistant.completion.service import CompletionService, DocumentSnapshot
from assistant.context.builder import CompletionContext, Snippet
from assistant.models.base import CANCELLED, GenerationResult
from assistant.models.prefill import PrefillTracker, common_prefix_length
from assistant.settings import Settings

# The tiny model's vocabulary is nearly one token a character: 200 tokens a second reads the five
# lines around the cursor in time, not the definitions from pricing.py as well.
SLOW_LAPTOP_TOKENS_PER_S = 200.0

PRICING = '''"""Prices, taxes and discounts for the shop."""


def tax_rate(region: str, category: str) -> float:
    """The VAT rate for a category of goods sold into a region, from the yearly table."""
    table = {"food": 0.07, "books": 0.05, "default": 0.19}
    return table.get(category, table["default"])


def discounted(amount: float, percent: float) -> float:
    """`amount` less `percent` per cent, never below zero."""
    return max(0.0, amount * (1 - percent / 100))
'''

CHECKOUT = '''from shop.pricing import discounted, tax_rate


def total(order):
    net = discounted(order.amount, order.discount)
    
    return net


def refund(order):
    
    return 0
'''


@pytest.fixture
def shop(tmp_path):
    from indexer.index import Index

    root = tmp_path / "shop-repo"
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "pricing.py").write_text(PRICING)
    (root / "shop" / "checkout.py").write_text(CHECKOUT)
    index = Index.open(root, tmp_path / "index.sqlite3")
    index.update()
    yield root, index
    index.close()


@pytest.fixture
def service(shop, tiny_gguf):
    root, index = shop
    base = Settings()
    settings = replace(base, model=replace(base.model, path=str(tiny_gguf("qwen"))),
                       completion=replace(base.completion, debounce_ms=0, first_suggestion_timeout_ms=0))
    service = CompletionService(settings, index=lambda: index, root=lambda: root)
    yield service
    service.close()


def _at(line_text: str, occurrence: int = 0) -> DocumentSnapshot:
    """The cursor at the end of the `occurrence`-th line equal to `line_text` in CHECKOUT."""
    lines = CHECKOUT.split("\n")
    index = [i for i, line in enumerate(lines) if line == line_text][occurrence]
    offset = sum(len(line) + 1 for line in lines[:index]) + len(line_text)
    return DocumentSnapshot("file:///shop/checkout.py", "shop/checkout.py", CHECKOUT, offset, line=index,
                            character=len(line_text))


async def test_a_prompt_the_model_cannot_read_in_time_is_cut_to_the_window(service):
    worker = await service.model.worker()
    worker.prefill.tokens_per_s = SLOW_LAPTOP_TOKENS_PER_S

    outcome = await service.complete(_at("    "))

    assert outcome is not None and service.stats.window_only == 1
    assert service.last["context_tokens"] == 0  # no repository snippets
    assert service.last["prompt_tokens"] <= SLOW_LAPTOP_TOKENS_PER_S + 60  # the FIM tokens, repository and path
    assert "def tax_rate" not in worker.prefill.held and "net = discounted(" in worker.prefill.held


async def test_after_a_warm_up_the_request_there_carries_the_repository_context(service):
    worker = await service.model.worker()
    place = _at("    ", 1)  # the top of refund()'s body
    assert await service.warm(place)  # the cursor rested: the whole prompt is read, however long
    assert "def tax_rate" in worker.prefill.held
    worker.prefill.tokens_per_s = SLOW_LAPTOP_TOKENS_PER_S

    await service.complete(place)

    assert service.stats.window_only == 0 and service.last["context_tokens"] > 0
    assert service.last["prompt_tokens"] - service.last["reused_tokens"] <= 2


async def test_a_fast_model_reads_the_whole_prompt(service):
    worker = await service.model.worker()
    worker.prefill.tokens_per_s = 50_000.0
    await service.complete(_at("    "))
    assert service.stats.window_only == 0 and service.last["context_tokens"] > 0


async def test_batch_callers_always_get_the_whole_prompt(shop, tiny_gguf):
    root, index = shop
    base = Settings()
    settings = replace(base, model=replace(base.model, path=str(tiny_gguf("qwen"))))
    batch = CompletionService(settings, index=lambda: index, root=lambda: root, typing=False)
    try:
        worker = await batch.model.worker()
        worker.prefill.tokens_per_s = SLOW_LAPTOP_TOKENS_PER_S
        await batch.complete(_at("    "))
    finally:
        batch.close()
    assert batch.stats.window_only == 0 and batch.last["context_tokens"] > 0


# --- the pieces -----------------------------------------------------------------------------------

def test_window_only_keeps_the_lines_nearest_the_cursor_and_drops_the_snippets():
    prefix = "".join(f"line {i}\n" for i in range(40)) + "    x = "
    suffix = " + 1\n" + "".join(f"after {i}\n" for i in range(40))
    snippet = Snippet("definition", "shop/pricing.py", 4, "def tax_rate(region, category): ...")
    context = CompletionContext("shop/checkout.py", "python", prefix, suffix, snippets=(snippet,), snippet_tokens=12,
                                window_start_line=10, window_end_line=91, prefix_tokens=len(prefix) // 4,
                                suffix_tokens=len(suffix) // 4)

    cut = window_only(context, 40, suffix_share=0.25)

    assert cut.snippets == () and cut.snippet_tokens == 0
    assert cut.prefix.endswith("line 39\n    x = ") and prefix.endswith(cut.prefix) and cut.prefix.startswith("line ")
    assert cut.suffix.startswith(" + 1\nafter 0\n") and suffix.startswith(cut.suffix) and cut.suffix.endswith("\n")
    assert 100 <= len(cut.prefix) + len(cut.suffix) <= 160  # about 40 tokens of 4 characters
    assert len(cut.suffix) < len(cut.prefix)
    assert cut.window_start_line == 10 + prefix.count("\n") - cut.prefix.count("\n")
    assert cut.window_end_line == 91 - suffix.count("\n") + cut.suffix.count("\n")


def test_window_only_keeps_the_cursor_line_whatever_the_budget():
    context = CompletionContext("a.py", "python", "a\n" + "x" * 300, "y" * 300 + "\nz\n", prefix_tokens=150,
                                suffix_tokens=75)
    cut = window_only(context, 1, suffix_share=0.25)
    assert cut.prefix == "x" * 300 and cut.suffix == "y" * 300 + "\n"


def test_without_fim_the_whole_budget_goes_above_the_cursor():
    context = CompletionContext("a.py", "python", "".join(f"l{i}\n" for i in range(50)), "below\n" * 50,
                                prefix_tokens=50, suffix_tokens=50)
    assert window_only(context, 20, suffix_share=0.0).suffix == "below\n"


def test_the_tracker_knows_what_the_model_holds_and_how_fast_it_reads():
    tracker = PrefillTracker()
    assert tracker.tokens_per_s is None and tracker.unread("abc") == "abc"
    tracker.reading("context one\nwindow")
    tracker.read("context one\nwindow", GenerationResult("x", "stop", prompt_tokens=300, reused_tokens=100,
                                                         read_tokens=200, read_ms=2000.0))
    assert tracker.held == "context one\nwindow" and tracker.tokens_per_s == pytest.approx(100.0)
    assert tracker.unread("context one\nwindow more") == " more"

    tracker.reading("context two")  # a read that is cancelled leaves only the shared part surely held
    tracker.read("context two", GenerationResult("", CANCELLED, read_tokens=256, read_ms=1280.0))
    assert tracker.held == "context " and tracker.unread("context one\nwindow") == "one\nwindow"
    assert tracker.tokens_per_s == pytest.approx(0.3 * 200 + 0.7 * 100)  # a cancelled read is timed too

    tracker.read("context two", GenerationResult("y", "stop", read_tokens=20, read_ms=1.0))  # too few to time
    assert tracker.held == "context two"
    assert tracker.tokens_per_s == pytest.approx(130.0)


@pytest.mark.parametrize(("a", "b", "expected"), [("", "abc", 0), ("abc", "abc", 3), ("abcd", "abxd", 2),
                                                  ("ab", "abc", 2), ("x" * 5000 + "a", "x" * 5000 + "b", 5000)])
def test_common_prefix_length(a, b, expected):
    assert common_prefix_length(a, b) == expected == common_prefix_length(b, a)

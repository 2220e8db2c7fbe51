"""A suggestion in time: a prompt the local model cannot read in time (a new place, a cold KV cache,
a slow machine) is cut to what it can: the snippets it has read, a few more, the lines around the
cursor. Typing on brings the snippets back; a warm-up at a resting cursor brings the whole prompt.

A real llama.cpp model (a tiny random-weight GGUF) and a real index. The tiny model reads thousands
of tokens a second, so the tests set the measured reading speed to a slow laptop's: the one thing
not real here."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from assistant.completion.in_time import MIN_WINDOW_TOKENS, apply_cut, plan_cut
from assistant.completion.service import CompletionService, DocumentSnapshot
from assistant.context.builder import CompletionContext, ContextBuilder, Snippet
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


def _typed(typed: str) -> DocumentSnapshot:
    """CHECKOUT with `typed` at the top of total()'s body, the cursor after it."""
    at = CHECKOUT.index("    \n") + 4
    text = CHECKOUT[:at] + typed + CHECKOUT[at:]
    return DocumentSnapshot("file:///shop/checkout.py", "shop/checkout.py", text, at + len(typed),
                            line=text[: at + len(typed)].count("\n"), character=len(typed.split("\n")[-1]) + 4)


async def test_a_prompt_the_model_cannot_read_in_time_is_cut_to_what_it_can(service):
    worker = await service.model.worker()
    worker.prefill.tokens_per_s = SLOW_LAPTOP_TOKENS_PER_S

    outcome = await service.complete(_typed(""))

    assert outcome is not None and service.stats.cut_in_time == 1
    read = service.last["prompt_tokens"] - service.last["reused_tokens"]
    assert read <= SLOW_LAPTOP_TOKENS_PER_S * 1.1  # what the model reads in a second, give or take a line
    assert "net = discounted(" in worker.prefill.held  # the lines above the cursor first
    assert "def discounted" not in worker.prefill.held  # not the whole repository context


async def test_a_slow_context_build_leaves_the_model_less_time_to_read(service, monkeypatch):
    worker = await service.model.worker()
    worker.prefill.tokens_per_s = SLOW_LAPTOP_TOKENS_PER_S
    build = ContextBuilder.build

    def slow_build(self, *args, **kwargs):
        time.sleep(0.5)  # a busy laptop's context build, simulated: what it costs is what is measured
        return build(self, *args, **kwargs)

    monkeypatch.setattr(ContextBuilder, "build", slow_build)
    await service.complete(_typed(""))

    assert service.stats.cut_in_time == 1 and service.last["context_ms"] >= 500
    read = service.last["prompt_tokens"] - service.last["reused_tokens"]
    # 1.5 s less the typing clock's 0.4 s, the first token's 0.1 s and the 0.5 s spent building:
    # half a second's reading, give or take a line and the prompt's own tokens (a fast build: ~200)
    # and never below the window's minimum (estimated from characters: half of it at the least)
    assert MIN_WINDOW_TOKENS / 2 <= read <= SLOW_LAPTOP_TOKENS_PER_S * 0.5 + 30, read


async def test_typing_reads_only_what_changed_and_each_new_line_brings_more_context(service):
    worker = await service.model.worker()
    lines = ["rate = tax_rate(order.region, 'food')", "gross = net * (1 + rate)", "fee = 0", "tip = 0"]
    first_reads, later_reads = [], []
    for n, line in enumerate(lines):
        done = "".join(f"{typed}\n    " for typed in lines[:n])
        for end in range(len(line) + 1):
            worker.prefill.tokens_per_s = SLOW_LAPTOP_TOKENS_PER_S  # the tiny model's own speed would take over
            await service.complete(_typed(done + line[:end]))
            if not service.last["from_cache"]:
                read = service.last["prompt_tokens"] - service.last["reused_tokens"]
                (first_reads if end == 0 else later_reads).append(read)

    assert max(first_reads) <= SLOW_LAPTOP_TOKENS_PER_S * 1.1, first_reads  # a new line: a second's reading
    # A keystroke reads what it typed and the window's lines below the cursor (FIM puts them after
    # the prefix), a quarter of the window; not the snippets or the lines above again.
    assert max(later_reads) <= SLOW_LAPTOP_TOKENS_PER_S * 0.25 + 10, later_reads
    pinned = service._pinned["file:///shop/checkout.py"].snippets
    assert pinned and all(snippet.text in worker.prefill.held for snippet in pinned)  # the context is back


async def test_after_a_warm_up_the_request_there_carries_the_whole_prompt(service):
    worker = await service.model.worker()
    place = _at("    ", 1)  # the top of refund()'s body
    assert await service.warm(place)  # the cursor rested: the whole prompt is read, however long
    assert "def tax_rate" in worker.prefill.held
    worker.prefill.tokens_per_s = SLOW_LAPTOP_TOKENS_PER_S

    await service.complete(place)

    assert service.stats.cut_in_time == 0 and service.last["context_tokens"] > 0
    assert service.last["prompt_tokens"] - service.last["reused_tokens"] <= 2


async def test_a_fast_model_reads_the_whole_prompt(service):
    worker = await service.model.worker()
    worker.prefill.tokens_per_s = 50_000.0
    await service.complete(_at("    "))
    assert service.stats.cut_in_time == 0 and service.last["context_tokens"] > 0


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
    assert batch.stats.cut_in_time == 0 and batch.last["context_tokens"] > 0


async def test_an_editor_s_model_times_its_reading_as_it_loads_and_a_batch_command_s_does_not(tiny_gguf):
    from assistant.models.host import ModelHost

    base = Settings()
    settings = replace(base.model, path=str(tiny_gguf("qwen")))
    editor, batch = ModelHost(settings, time_reading=True), ModelHost(settings)
    try:
        assert (await editor.worker()).prefill.tokens_per_s > 0  # before any completion has run
        assert (await batch.worker()).prefill.tokens_per_s is None
    finally:
        editor.close()
        batch.close()


# --- the pieces -----------------------------------------------------------------------------------

def _render(context: CompletionContext) -> str:
    return "".join(f"# {s.label}\n{s.text}\n" for s in context.snippets) + context.prefix + "<mid>" + context.suffix


def _window(lines_above: int = 40, lines_below: int = 40) -> tuple[str, str]:
    return "".join(f"line {i}\n" for i in range(lines_above)) + "    x = ", " + 1\n" + "".join(
        f"after {i}\n" for i in range(lines_below))


def _fit(context: CompletionContext, unread_tokens, tokens: int, suffix_share: float = 0.25) -> CompletionContext:
    return apply_cut(context, plan_cut(context, _render, unread_tokens, tokens, suffix_share))


def _quarter(text: str) -> int:  # four characters a token, nothing read yet
    return (len(text) + 3) // 4


def test_the_snippets_read_already_are_free_and_the_next_is_cut_after_a_line():
    prefix, suffix = _window()
    first = Snippet("definition", "a.py", 0, "def a():\n    return 1")
    second = Snippet("definition", "b.py", 0, "\n".join(f"    b{i} = {i}" for i in range(30)))
    context = CompletionContext("c.py", "python", prefix, suffix, snippets=(first, second), snippet_tokens=100,
                                prefix_tokens=len(prefix) // 4, suffix_tokens=len(suffix) // 4)
    held = _render(replace(context, snippets=(first,), prefix="", suffix=""))  # the model read the first

    def unread_tokens(text: str) -> int:
        shared = 0
        while shared < min(len(text), len(held)) and text[shared] == held[shared]:
            shared += 1
        return _quarter(text[shared:])

    fitted = _fit(context, unread_tokens, 80)

    assert fitted.snippets[0] == first
    assert second.text.startswith(fitted.snippets[1].text) and 0 < len(fitted.snippets[1].text) < len(second.text)
    assert (fitted.snippets[1].text + "\n") in second.text + "\n"  # whole lines
    head = _render(replace(fitted, prefix="", suffix="")).removesuffix("<mid>")
    assert unread_tokens(head) <= 40  # half the time for snippets
    assert unread_tokens(_render(fitted)) <= 90  # the window in the rest, give or take a line
    assert fitted.prefix.endswith("    x = ") and fitted.suffix.startswith(" + 1\n")


def test_a_snippet_without_a_line_that_fits_ends_the_snippets():
    prefix, suffix = _window()
    big = Snippet("definition", "a.py", 0, "x" * 400)
    small = Snippet("definition", "b.py", 0, "y = 1")
    context = CompletionContext("c.py", "python", prefix, suffix, snippets=(big, small), snippet_tokens=100,
                                prefix_tokens=len(prefix) // 4, suffix_tokens=len(suffix) // 4)
    fitted = _fit(context, _quarter, 80)
    assert fitted.snippets == () and fitted.snippet_tokens == 0  # "small" after it would change what follows "big"


def test_the_window_keeps_the_lines_nearest_the_cursor():
    prefix, suffix = _window()
    context = CompletionContext("shop/checkout.py", "python", prefix, suffix, window_start_line=10, window_end_line=91,
                                prefix_tokens=len(prefix) // 4, suffix_tokens=len(suffix) // 4)

    cut = _fit(context, _quarter, 40)

    assert cut.prefix.endswith("line 39\n    x = ") and prefix.endswith(cut.prefix) and cut.prefix.startswith("line ")
    assert cut.suffix.startswith(" + 1\nafter 0\n") and suffix.startswith(cut.suffix) and cut.suffix.endswith("\n")
    assert 100 <= len(cut.prefix) + len(cut.suffix) <= 160 + 20  # about 40 tokens of 4 characters, the cursor line on top
    assert len(cut.suffix) < len(cut.prefix)
    assert cut.window_start_line == 10 + prefix.count("\n") - cut.prefix.count("\n")
    assert cut.window_end_line == 91 - suffix.count("\n") + cut.suffix.count("\n")


def test_typing_on_the_line_keeps_its_cut_and_the_window_start():
    prefix, suffix = _window()
    context = CompletionContext("a.py", "python", prefix, suffix, prefix_tokens=len(prefix) // 4,
                                suffix_tokens=len(suffix) // 4)
    cut = plan_cut(context, _render, _quarter, 40, 0.25)
    typed_on = apply_cut(replace(context, prefix=prefix + "compute_the_total(order)"), cut)
    assert typed_on.prefix == apply_cut(context, cut).prefix + "compute_the_total(order)"
    assert typed_on.suffix == apply_cut(context, cut).suffix


def test_the_cursor_line_stays_whatever_the_budget():
    context = CompletionContext("a.py", "python", "the line above\n" + "x" * 300, "y" * 300 + "\nz\n",
                                prefix_tokens=150, suffix_tokens=75)
    cut = _fit(context, _quarter, 1)
    assert cut.prefix == "x" * 300 and cut.suffix == "y" * 300 + "\n"


def test_without_fim_the_whole_window_goes_above_the_cursor():
    context = CompletionContext("a.py", "python", "".join(f"l{i}\n" for i in range(50)), "below\n" * 50,
                                prefix_tokens=50, suffix_tokens=50)
    assert _fit(context, _quarter, 20, suffix_share=0.0).suffix == "below\n"


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

"""Work a completion goes on with after its answer. A block suggestion answered on the typing clock
goes on growing in the background: the longer block replaces the shown one in the cache, the editor
is told once, and asking again costs no model call. A request at the state a generation is already
under way for waits for it instead of starting over. Batch callers (`kura complete`, evaluation) get
the whole suggestion without the clock.

A real llama.cpp model (a tiny random-weight GGUF) runs in process. It decodes in milliseconds, so
the typing clock is shortened to one token's time to make the first answer stop early."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

import assistant.completion.service as service_module
from assistant.completion.cache import CompletionCache
from assistant.completion.service import CompletionService, DocumentSnapshot
from assistant.settings import Settings

TEXT = "import os\n\ndef total(order):\n    \n"
CURSOR = TEXT.index("    \n") + 4  # an empty function body: a block


@pytest.fixture
def settings(tiny_gguf) -> Settings:
    base = Settings()
    model = tiny_gguf("qwen")
    return replace(base, model=replace(base.model, path=str(model)),
                   completion=replace(base.completion, debounce_ms=0, first_suggestion_timeout_ms=0))


@pytest.fixture
def short_clock(monkeypatch):
    monkeypatch.setattr(service_module, "SINGLE_LINE_DECODE_MS", 0.001)


def _snap(text: str = TEXT, offset: int = CURSOR) -> DocumentSnapshot:
    return DocumentSnapshot("file:///w/shop.py", "shop.py", text, offset)


async def _poll(condition, seconds: float = 30.0) -> bool:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return True
        await asyncio.sleep(0.02)
    return condition()


async def test_a_block_answered_early_grows_and_the_editor_is_told_once(settings, short_clock):
    ready: list[str] = []
    service = CompletionService(settings, on_ready=ready.append)
    try:
        first = await service.complete(_snap())
        assert first is not None and first.timings["generated_tokens"] <= 2  # the clock answered it
        assert await _poll(lambda: service.stats.grown_blocks == 1)
        assert ready == ["file:///w/shop.py"]
        calls = service.stats.model_calls
        again = await service.complete(_snap())  # what the editor does on kura/suggestionReady
    finally:
        service.close()
    assert again.from_cache and service.stats.model_calls == calls
    assert again.text.startswith(first.text) and len(again.text) > len(first.text)


async def test_a_newer_request_for_the_document_stops_the_growth(settings, short_clock):
    ready: list[str] = []
    service = CompletionService(settings, on_ready=ready.append)
    typed = TEXT.replace("    \n", "    x = \n")
    try:
        first = await service.complete(_snap())
        assert first is not None and first.timings["generated_tokens"] <= 2
        # The user typed on: a single line now (which does not grow), asked before the block's growth ran.
        await service.complete(_snap(typed, typed.index("x = ") + 4))
        assert await _poll(lambda: not service._growing)
    finally:
        service.close()
    assert ready == [] and service.stats.grown_blocks == 0


async def test_batch_callers_get_the_whole_suggestion_without_the_clock(settings, short_clock):
    service = CompletionService(settings, typing=False)
    try:
        whole = await service.complete(_snap())
    finally:
        service.close()
    assert whole.timings["generated_tokens"] > 2 and whole.stop_reason != "callback"
    assert service.stats.grown_blocks == 0 and not service._growing


def test_growth_replaces_only_the_suggestion_still_shown():
    cache = CompletionCache()
    cache.store("d", "def f():\n", "", "    x = 1")
    assert cache.lookup("d", "def f():\n    x", "").text == " = 1"  # typed through: still the suggestion
    assert cache.grow("d", "def f():\n", "", "    x = 1", "    x = 1\n    return x")
    assert cache.lookup("d", "def f():\n    x", "").text == " = 1\n    return x"
    assert not cache.grow("d", "def f():\n", "", "    x = 1", "    y = 2")  # not a longer version of it
    cache.store("d", "def g():\n", "", "    pass")  # the user went elsewhere
    assert not cache.grow("d", "def f():\n", "", "    x = 1\n    return x", "    x = 1\n    return x + 1")
    assert cache.lookup("d", "def g():\n", "").text == "    pass"


async def test_asking_again_where_a_generation_is_under_way_waits_for_it(settings):
    service = CompletionService(settings)
    try:
        first, again = await asyncio.gather(service.complete(_snap()), service.complete(_snap()))
    finally:
        service.close()
    assert first is not None and again is not None and again.text == first.text
    assert service.stats.model_calls == 1 and service.stats.superseded == 0


async def test_a_withdrawn_request_leaves_the_generation_to_another_waiting_for_it(settings):
    # VS Code asks for the suggest widget (textDocument/completion) and for ghost text at the same
    # place; withdrawing the first must not stop the model under the second.
    service = CompletionService(settings)
    try:
        first = asyncio.ensure_future(service.complete(_snap()))
        assert await _poll(lambda: service._running)
        again = asyncio.ensure_future(service.complete(_snap()))
        assert await _poll(lambda: next(iter(service._running.values())).waiters == 2)
        first.cancel()
        outcome = await again
    finally:
        service.close()
    assert first.cancelled()
    assert outcome is not None and outcome.text and not outcome.from_cache
    assert service.stats.model_calls == 1


async def test_withdrawing_the_only_request_stops_the_model(settings):
    service = CompletionService(settings)
    try:
        first = asyncio.ensure_future(service.complete(_snap()))
        assert await _poll(lambda: service._running)
        generation = next(iter(service._running.values())).generation
        first.cancel()
        assert await _poll(generation.done)
    finally:
        service.close()
    assert generation.cancelled() and service.stats.model_calls == 0


async def test_a_growth_that_fails_is_logged_and_the_service_goes_on(settings, short_clock, monkeypatch, caplog):
    real_finalize, calls = service_module.finalize, []

    def finalize_failing_the_growth(*args, **kwargs):  # the second call is the growth's
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("a bug in trimming")
        return real_finalize(*args, **kwargs)

    monkeypatch.setattr(service_module, "finalize", finalize_failing_the_growth)
    ready: list[str] = []
    service = CompletionService(settings, on_ready=ready.append)
    try:
        first = await service.complete(_snap())
        assert await _poll(lambda: not service._growing)
        again = await service.complete(_snap())
    finally:
        service.close()
    assert ready == [] and again.text == first.text and again.from_cache
    assert any("failed to grow" in r.message and r.exc_info for r in caplog.records)


@pytest.fixture
def late(settings, monkeypatch):
    """Every request answered empty at once; the suggestion comes later, announced."""
    monkeypatch.setattr(service_module, "ANNOUNCE_AGAIN_S", 0.05)
    return replace(settings, completion=replace(settings.completion, first_suggestion_timeout_ms=1))


async def test_an_editor_that_does_not_ask_after_an_announcement_is_told_once_more(late):
    ready: list[str] = []
    service = CompletionService(late, on_ready=ready.append)
    try:
        assert await service.complete(_snap()) is None  # the cap: answered empty, the model goes on
        assert await _poll(lambda: len(ready) == 2)
        await asyncio.sleep(0.2)  # four times the wait: still no third
    finally:
        service.close()
    assert ready == ["file:///w/shop.py"] * 2 and service.stats.late_suggestions == 1


async def test_an_editor_that_asks_after_an_announcement_is_told_once(late):
    ready: list[str] = []
    service = CompletionService(late, on_ready=ready.append)
    try:
        assert await service.complete(_snap()) is None
        assert await _poll(lambda: ready)
        again = await service.complete(_snap())  # what the editor does when told
        assert again is not None and again.from_cache
        await asyncio.sleep(0.2)  # four times the wait
    finally:
        service.close()
    assert ready == ["file:///w/shop.py"]

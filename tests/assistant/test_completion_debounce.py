"""The debounce waits only in a burst of keystrokes: the first request after a pause goes to the model
at once (a wait there would add its whole length to the suggestion), a request that comes sooner than
the debounce after the previous one waits it out and is dropped if the user types on.

A real llama.cpp model (a tiny random-weight GGUF) runs in process. The pause between bursts is
real time passing (the service reads the monotonic clock, which asyncio's loop uses too)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from assistant.completion.service import CompletionService, DocumentSnapshot
from assistant.settings import Settings

DEBOUNCE_MS = 300
TEXT = "import os\n\ndef total(order):\n    return sum(order.prices) + os.getpid()\n"
LINE_END = TEXT.index("\n", TEXT.index("return"))


@pytest.fixture
def service(tiny_gguf):
    base = Settings()
    settings = replace(base, model=replace(base.model, path=str(tiny_gguf("qwen"))),
                       completion=replace(base.completion, debounce_ms=DEBOUNCE_MS, first_suggestion_timeout_ms=0))
    service = CompletionService(settings, typing=False)
    yield service
    service.close()


def _snap(typed: int) -> DocumentSnapshot:
    """The document as if the last `typed` characters before the line end were just typed."""
    offset = LINE_END - 8 + typed
    return DocumentSnapshot("file:///w/shop.py", "shop.py", TEXT[:offset] + TEXT[LINE_END:], offset)


async def test_the_first_request_after_a_pause_does_not_wait(service):
    outcome = await service.complete(_snap(0))
    assert outcome is not None
    assert service.stats.debounced == 0 and service.stats.model_calls == 1


async def test_a_burst_waits_and_only_its_last_keystroke_reaches_the_model(service):
    first = asyncio.ensure_future(service.complete(_snap(0)))  # after a pause: at once
    await asyncio.sleep(0)  # let it start, as the editor's next keystroke comes a moment later
    second = asyncio.ensure_future(service.complete(_snap(1)))  # in the burst: waits
    third = asyncio.ensure_future(service.complete(_snap(2)))  # in the burst: waits, supersedes the second
    outcomes = await asyncio.gather(first, second, third)
    assert outcomes[1] is None  # dropped inside its debounce
    assert outcomes[2] is not None
    assert service.stats.debounced == 2
    # The middle one never reached the model; the first may have (or was superseded while it loaded).
    assert service.stats.model_calls <= 2


async def test_a_pause_longer_than_the_debounce_ends_the_burst(service):
    assert await service.complete(_snap(0)) is not None
    await asyncio.sleep(DEBOUNCE_MS / 1000 * 1.5)  # the user stops typing for a moment
    assert await service.complete(_snap(1)) is not None
    assert service.stats.debounced == 0

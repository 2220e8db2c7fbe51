"""The next line's suggestion, computed while the user reads the one just accepted: kept in the
cache, so the request after Enter costs no model call; never in the way of a real request.

A real llama.cpp model (a tiny random-weight GGUF) runs in process; what it writes does not matter
here, only whether the model was asked."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from assistant.completion.service import CompletionService, DocumentSnapshot
from assistant.settings import Settings

DOC = "file:///w/shop.py"
ABOVE = "import os\n\ndef total(order):\n    "
ACCEPTED = "return sum(order.prices)"
BELOW = "\n\ndef count(order):\n    return len(order)\n"


@pytest.fixture
def service(tiny_gguf):
    base = Settings()
    settings = replace(base, model=replace(base.model, path=str(tiny_gguf("qwen"))),
                       completion=replace(base.completion, debounce_ms=0, first_suggestion_timeout_ms=0))
    service = CompletionService(settings)
    yield service
    service.close()


def _shown(service: CompletionService, suffix: str = BELOW) -> None:
    """The editor showed ACCEPTED at the end of the function's first line."""
    service.cache.store(DOC, ABOVE, suffix, ACCEPTED)


async def test_after_an_accept_the_next_line_is_answered_without_the_model(service):
    _shown(service)
    next_line = service.accepted(DOC, "shop.py")
    assert next_line is not None
    assert next_line.text == ABOVE + ACCEPTED + "\n" + BELOW and next_line.offset == len(ABOVE + ACCEPTED + "\n")
    assert await service.speculate(next_line)
    calls = service.stats.model_calls
    outcome = await service.complete(next_line)  # the user pressed Enter
    assert outcome is not None and outcome.from_cache
    assert service.stats.model_calls == calls and service.stats.speculated == 1


async def test_enter_while_the_guess_is_under_way_waits_for_it(service):
    _shown(service)
    next_line = service.accepted(DOC, "shop.py")
    guess = asyncio.ensure_future(service.speculate(next_line))
    await asyncio.sleep(0)  # the guess has started (it waits for the model to load)
    outcome = await service.complete(next_line)  # Enter before the guess is ready
    assert outcome is not None and outcome.from_cache
    assert await guess and service.stats.model_calls == 0  # one generation, the guess's


async def test_a_real_request_cancels_the_guess(service):
    _shown(service)
    guess = asyncio.ensure_future(service.speculate(service.accepted(DOC, "shop.py")))
    await asyncio.sleep(0)  # the guess has started (it waits for the model to load)
    elsewhere = DocumentSnapshot(DOC, "shop.py", ABOVE + ACCEPTED + BELOW, len(ABOVE))
    assert await service.complete(elsewhere) is not None  # the user went on elsewhere at once
    assert await guess is False
    assert service.stats.speculated == 0


def test_no_guess_after_an_accept_in_the_middle_of_a_line_or_without_a_suggestion(service):
    _shown(service, suffix=")  # total\n")
    assert service.accepted(DOC) is None
    assert service.accepted(DOC) is None  # the anchor is gone: nothing was shown any more

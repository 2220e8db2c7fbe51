"""Explanation requests: the target, context labelled path:line, the budget, the language."""

from __future__ import annotations

import asyncio
import textwrap

import pytest

from assistant.tasks.explain import (
    ContextPiece, Target, TargetError, answer_language, gather_context, plan_explanation, repeating,
    resolve_target, run_explanation,
)
from assistant.models.base import GenerationResult
from indexer.model import Definition, Reference, Span

CART = textwrap.dedent('''\
    """The shopping cart."""

    from shop.models import Product

    TAX_RATE = 0.1


    class Cart:
        """Products a customer is about to buy."""

        def total_cents(self) -> int:
            """Sum of the items' prices with tax."""
            return sum(p.price_with_tax(TAX_RATE) for p in self.items)
''')


class FakeIndex:
    """Index answers as the real index gives them for the shop repository."""

    def definitions(self, name):
        return {
            "price_with_tax": [Definition("price_with_tax", "Product.price_with_tax", 6, "shop/models.py",
                                          Span(12, 4, 14, 50), Span(12, 8, 12, 22),
                                          "def price_with_tax(self, rate: float) -> int:",
                                          "Price including tax, rounded to whole cents.")],
            "TAX_RATE": [Definition("TAX_RATE", "TAX_RATE", 14, "shop/cart.py", Span(4, 0, 4, 14), Span(4, 0, 4, 8),
                                    "TAX_RATE = 0.1", "")],
        }.get(name, [])

    def references(self, name):
        if name == "total_cents":
            return [Reference("total_cents", "shop/checkout.py", Span(5, 17, 5, 28))]
        return []


def test_an_empty_range_grows_to_the_enclosing_function():
    line = CART.split("\n").index("        return sum(p.price_with_tax(TAX_RATE) for p in self.items)")

    target = resolve_target("shop/cart.py", CART, (line, 10), (line, 10))

    assert target.enclosing == "Cart.total_cents"
    assert target.code.lstrip().startswith("def total_cents") and (target.start_line, target.end_line) == (10, 12)


@pytest.mark.parametrize("text, start, end, problem", [
    ("", (0, 0), (0, 0), "is empty"),
    ("x = 1\n", (5, 0), (6, 0), "outside"),
    ("x = 1\n", (0, 0), (0, 99), "outside"),
    ("x = 1\n", (0, 0), (0, 0), "no function or class encloses line 1"),
])
def test_bad_targets_say_what_is_wrong(text, start, end, problem):
    with pytest.raises(TargetError, match=problem):
        resolve_target("a.py", text, start, end)


def test_context_cites_definitions_callers_class_module_and_imports_by_path_and_line():
    target = resolve_target("shop/cart.py", CART, (12, 0), (12, 0))
    read_line = lambda path, line: "    total = cart.total_cents()" if (path, line) == ("shop/checkout.py", 5) else None

    pieces = gather_context(target, FakeIndex(), read_line)

    labels = {(p.kind, p.label) for p in pieces}
    assert ("module", "shop/cart.py:1") in labels
    assert ("enclosing", "shop/cart.py:8") in labels
    assert ("definition", "shop/models.py:13") in labels
    assert ("definition", "shop/cart.py:5") in labels
    assert ("import", "shop/cart.py:3") in labels
    assert ("caller", "shop/checkout.py:6") in labels
    plan = plan_explanation(target, pieces)
    prompt = "\n".join(m["content"] for m in plan.request.messages)
    assert "[shop/models.py:13] (definition)\ndef price_with_tax" in prompt and "Price including tax" in prompt


def test_a_ten_thousand_line_selection_is_truncated_and_the_answer_says_so():
    text = "".join(f"value_{i} = {i}\n" for i in range(10_000))
    target = resolve_target("big.py", text, (0, 0), (10_000, 0))

    plan = plan_explanation(target, [], context_tokens=4096)

    prompt = plan.request.messages[-1]["content"]
    assert plan.truncated and "10000 lines" in plan.notice
    assert "value_9999" not in prompt and "value_0 = 0" in prompt and len(prompt) < 4096 * 4


@pytest.mark.parametrize("setting, locale, expected", [
    ("", "ja", "ja"), ("", "ja-JP", "ja"), ("en", "ja", "en"), ("ja", "en-US", "ja"), ("", "", "en"), ("", "xx", "en"),
])
def test_the_answer_language_comes_from_the_setting_then_the_editor_locale(setting, locale, expected):
    assert answer_language(setting, locale) == expected


def test_japanese_explanations_ask_for_japanese_and_say_truncation_in_japanese():
    text = "".join(f"v{i} = {i}\n" for i in range(5000))
    plan = plan_explanation(resolve_target("big.py", text, (0, 0), (5000, 0)), [], language="ja")

    assert "Japanese" in plan.request.messages[-1]["content"] and "注意" in plan.notice


def test_repeating_answers_stop_generation():
    line = "The function returns the total price.\n"
    assert repeating("Summary.\n" + line * 3)
    assert not repeating("Summary.\n" + line * 2)


class RecordedWorker:
    """Replays a recorded stream of model chunks, as ModelWorker.generate delivers them."""

    def __init__(self, chunks):
        self.chunks = chunks

    async def generate(self, request, cancel=None, on_text=None):
        for chunk in self.chunks:
            await asyncio.sleep(0)
            on_text(chunk)
        return GenerationResult("".join(self.chunks), "stop")


def test_the_explanation_streams_the_notice_then_the_model_text():
    text = "".join(f"v{i} = {i}\n" for i in range(10_000))
    plan = plan_explanation(resolve_target("big.py", text, (0, 0), (10_000, 0)), [])
    seen = []

    outcome = asyncio.run(run_explanation(RecordedWorker(["Sets ", "values."]), plan, seen.append))

    assert seen[0].startswith("> **Note:**") and seen[1:] == ["Sets ", "values."]
    assert outcome.markdown == "".join(seen) and outcome.first_chunk_ms is not None


def test_a_model_that_returns_nothing_gets_a_clear_line_instead():
    plan = plan_explanation(Target("a.py", "x = 1\n", 0, 6, "python"), [])

    outcome = asyncio.run(run_explanation(RecordedWorker([]), plan))

    assert "returned no explanation" in outcome.markdown

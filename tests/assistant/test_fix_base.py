"""Fixes with a base model: a document to continue (the code, then the same lines fixed), and an
answer that copies the context asked again without it."""

from __future__ import annotations

import asyncio

from assistant.models.base import GenerationResult
from assistant.tasks.explain import ContextPiece, resolve_target
from assistant.tasks.fix import plan_fix, run_fix

CODE = "def total(items):\n    return sum(i.price for i in item)\n"
PIECES = [ContextPiece("shop/models.py:3", "definition", "class Item: price: int  # the price in cents, tax included")]


class Answers:
    def __init__(self, *texts):
        self.texts = list(texts)
        self.requests = []

    async def generate(self, request, cancel=None, on_text=None):
        self.requests.append(request)
        return GenerationResult(self.texts.pop(0), "stop")


def test_a_base_model_fix_is_the_code_that_follows_the_problem():
    target = resolve_target("shop/cart.py", CODE, (0, 0), (1, 5), whole_lines=True)

    plan = plan_fix(target, PIECES, problem="NameError: name 'item' is not defined", style="base")

    prompt = plan.request.prompt
    assert prompt.endswith("Problem fixed: NameError: name 'item' is not defined\n\n```python\n")
    assert "# shop/models.py:3\nclass Item" in prompt and "(definition)" not in prompt


def test_a_fix_that_copies_the_context_is_asked_again_without_it():
    target = resolve_target("shop/cart.py", CODE, (0, 0), (1, 5), whole_lines=True)
    plan = plan_fix(target, PIECES, problem="NameError", style="base")
    worker = Answers("class Item: price: int  # the price in cents, tax included\n",
                     "def total(items):\n    return sum(i.price for i in items)\n")

    outcome = asyncio.run(run_fix(worker, plan))

    assert outcome.retried and outcome.change is not None and outcome.change.new_text == "s"  # item -> items
    assert "shop/models.py" not in worker.requests[1].prompt

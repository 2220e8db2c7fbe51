"""Generate/edit from an instruction: where the code goes, the context the instruction pulls in from a
real index, the request for chat and base models, and the reading of answers (fenced code only, no
chatter, validated like a fix) — then one run through the task runner with a real tiny GGUF."""

from __future__ import annotations

import asyncio

import pytest

from assistant.tasks.edit_validation import syntax_errors
from assistant.tasks.explain import TargetError
from assistant.tasks.generate import (
    EDIT, INSERT, GenerateOutcome, Instruction, extract_generated_code, gather_generate_context, instruction_for,
    instruction_names, plan_generation, read_answer,
)
from indexer.index import Index

CART = '''\
"""The shopping cart."""

from shop.prices import parse_price


class Cart:
    def __init__(self):
        self.items = []

    def add(self, item):
        self.items.append(item)

    def total(self):
        return sum(self.items)
'''
PRICES = '''\
def parse_price(text: str) -> int:
    """Cents from a price like "12.30"."""
    euros, _, cents = text.partition(".")
    return int(euros) * 100 + int(cents or 0)


def format_price(cents: int) -> str:
    """A price in cents as "12.30"."""
    return f"{cents // 100}.{cents % 100:02d}"
'''


def applied(text: str, change) -> str:
    return text[: change.start] + change.new_text + text[change.end:]


# --- where the code goes -----------------------------------------------------------------------


def test_a_selection_is_rewritten_as_whole_lines():
    place = instruction_for("cart.py", CART, (13, 8), (13, 20), "use a generator").place

    assert place.code == "        return sum(self.items)\n"
    assert (place.start_line, place.end_line) == (13, 13)


def test_without_a_selection_new_code_goes_below_the_cursor_line():
    place = instruction_for("cart.py", CART, (10, 12), (10, 12), "log the item").place

    assert place.start == place.end and place.start_line == 11 and place.code == ""


def test_below_the_last_line_new_code_goes_at_its_end_never_past_the_last_line():
    place = instruction_for("cart.py", CART, (13, 0), (13, 0), "add a method").place

    assert place.start == place.end == len(CART) - 1 and place.start_line == 13


def test_new_code_below_the_last_line_keeps_the_files_final_newline():
    target = instruction_for("cart.py", CART, (13, 0), (13, 0), "add a method")

    validation = read_answer(target.place, "```python\n\n    def count(self):\n        return len(self.items)\n```")

    assert validation.ok, validation.message
    assert applied(CART, validation.change) == CART + "    def count(self):\n        return len(self.items)\n"
    assert validation.message == "kura: new code at line 15 (+2 lines)"


def test_a_blank_cursor_line_is_filled_rather_than_pushed_down():
    place = instruction_for("cart.py", CART, (11, 0), (11, 0), "add a remove method").place

    assert place.start_line == place.end_line == 11 and CART.split("\n")[11] == "" and not place.code.strip()


@pytest.mark.parametrize("start, end, instruction, problem", [
    ((0, 0), (0, 0), "   ", "instruction is empty"),
    ((90, 0), (90, 0), "add a method", "outside cart.py"),
])
def test_bad_requests_say_what_is_wrong(start, end, instruction, problem):
    with pytest.raises(TargetError, match=problem):
        instruction_for("cart.py", CART, start, end, instruction)


# --- context ----------------------------------------------------------------------------------


def test_names_in_the_instruction_that_look_like_code_are_picked_out():
    names = instruction_names("parse the price with `parse_price` then call formatPrice() on the CartItem")

    assert {"parse_price", "formatPrice", "CartItem"} <= set(names)
    assert "the" not in names and "price" not in names


@pytest.fixture
def shop_index(tmp_path):
    root = tmp_path / "repo"
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "cart.py").write_text(CART)
    (root / "shop" / "prices.py").write_text(PRICES)
    index = Index.open(root, tmp_path / "index.db")
    index.update()
    yield index
    index.close()


def test_the_instruction_pulls_in_definitions_it_names_first_then_the_files_context(shop_index):
    target = instruction_for("shop/cart.py", CART, (12, 0), (12, 0), "add a method that shows the total with format_price")

    pieces = gather_generate_context(target, shop_index)

    labels = [(p.kind, p.label) for p in pieces]
    assert labels[0] == ("definition", "shop/prices.py:7")  # format_price, named by the instruction
    assert "format_price(cents: int) -> str" in pieces[0].text
    assert ("import", "shop/cart.py:3") in labels
    assert not any(p.kind == "similar" and p.label.startswith("shop/cart.py") for p in pieces)


def test_similar_code_elsewhere_is_offered(shop_index):
    target = instruction_for("shop/cart.py", CART, (12, 0), (12, 0), "parse a price text into cents and euros")

    pieces = gather_generate_context(target, shop_index)

    assert any(p.kind == "similar" and p.label.startswith("shop/prices.py") for p in pieces)


# --- the request -------------------------------------------------------------------------------


def test_a_base_model_gets_a_document_to_continue_ending_in_an_open_fence():
    target = instruction_for("cart.py", CART, (13, 0), (14, 0), "return 0 for an empty cart")

    plan = plan_generation(target, [], style="base", context_tokens=2048)

    assert plan.mode == EDIT and plan.request.messages is None
    assert "# Before:\n        return sum(self.items)\n```" in plan.request.prompt
    assert plan.request.prompt.endswith("```python\n# After (return 0 for an empty cart):\n")
    assert "```" in plan.request.stop and "# After (" in plan.request.stop  # it stops before starting over


def test_a_base_model_writes_new_code_as_the_continuation_of_a_comment_stating_it():
    target = instruction_for("cart.py", CART, (11, 0), (11, 0), "add a clear method")

    plan = plan_generation(target, [], style="base", context_tokens=2048)

    assert plan.mode == INSERT
    assert plan.request.prompt.endswith("        self.items.append(item)\n\n    # add a clear method\n")
    assert "\n\n\n" in plan.request.stop  # two blank lines end a new definition


def test_a_chat_model_is_asked_for_only_the_new_code_at_the_cursor():
    target = instruction_for("cart.py", CART, (11, 0), (11, 0), "add a clear method")

    plan = plan_generation(target, [], style="chat", context_tokens=2048)

    user = plan.request.messages[-1]["content"]
    assert plan.mode == INSERT and plan.request.prompt is None
    assert "Instruction: add a clear method" in user and "only the new code to insert at line 12" in user
    assert "def add(self, item):" in user  # the code above where it goes
    assert plan.request.max_tokens <= 2048 // 3


def test_the_context_fits_a_small_window():
    target = instruction_for("cart.py", CART, (13, 0), (14, 0), "use a generator")
    from assistant.tasks.explain import ContextPiece
    pieces = [ContextPiece(f"big.py:{i}", "definition", "x = 1\n" * 200) for i in range(20)]

    plan = plan_generation(target, pieces, style="base", context_tokens=512)

    assert len(plan.request.prompt) / 3.5 + plan.request.max_tokens <= 512


# --- the answer --------------------------------------------------------------------------------


def test_chatter_around_a_fenced_block_never_reaches_the_buffer():
    answer = "Sure! Here is the updated code:\n```python\nreturn 1\n```\nThis returns one now."

    assert extract_generated_code(answer) == "return 1\n"


def test_unfenced_chatter_lines_are_dropped_and_code_kept():
    answer = "Here is the new method:\n\n    def clear(self):\n        self.items = []\n\nThis empties the cart."

    assert extract_generated_code(answer) == "    def clear(self):\n        self.items = []"


def test_a_base_models_unclosed_fence_is_read_to_its_end():
    assert extract_generated_code("```python\nx = 1\ny = 2\n") == "x = 1\ny = 2\n"


def test_a_rewrite_becomes_the_smallest_edit_inside_the_selection():
    target = instruction_for("cart.py", CART, (13, 0), (14, 0), "sum prices")

    validation = read_answer(target.place, "```python\n        return sum(i.price for i in self.items)\n```")

    assert validation.ok, validation.message
    assert validation.change.start_line == 13 and validation.message.startswith("kura: edit for line 14")
    assert "return sum(i.price for i in self.items)" in applied(CART, validation.change)


@pytest.mark.parametrize("answer, problem", [
    ("", "returned nothing"),
    ("I cannot do that.", "holds no code"),
    ("```python\n        return sum(self.items)\n```", "proposed no change"),
    ("```python\n        return sum(self.items\n```", "break the syntax"),
])
def test_an_unusable_rewrite_is_refused_with_a_reason(answer, problem):
    target = instruction_for("cart.py", CART, (13, 0), (14, 0), "sum prices")

    validation = read_answer(target.place, answer)

    assert not validation.ok and problem in validation.message


def test_inserted_code_is_indented_like_the_code_around_it_and_parses():
    target = instruction_for("cart.py", CART, (11, 0), (11, 0), "add a clear method")

    validation = read_answer(target.place, "```python\ndef clear(self):\n    self.items = []\n```")

    assert validation.ok, validation.message
    new = applied(CART, validation.change)
    assert "\n    def clear(self):\n        self.items = []\n" in new
    assert syntax_errors(new, "cart.py") == []


def test_code_inserted_below_a_line_keeps_the_lines_after_it_intact():
    target = instruction_for("cart.py", CART, (7, 4), (7, 4), "count the items")

    validation = read_answer(target.place, "```python\n        self.count = 0\n```")

    assert validation.ok, validation.message
    assert applied(CART, validation.change).split("\n")[7:10] == [
        "        self.items = []", "        self.count = 0", ""]


@pytest.mark.parametrize("path, blank", [("cart.py", "\n\n"), ("cart.ts", "\n")])
def test_a_new_top_level_definition_is_set_off_by_blank_lines(path, blank):
    text = "const a = 1;\nconst b = 2;\n" if path.endswith(".ts") else "a = 1\nb = 2\n"
    target = instruction_for(path, text, (0, 0), (0, 0), "add a function")
    code = "function f() {\n  return 1;\n}" if path.endswith(".ts") else "def f():\n    return 1"

    validation = read_answer(target.place, f"```\n{code}\n```")

    assert validation.ok, validation.message
    lines = text.split("\n")
    assert applied(text, validation.change) == f"{lines[0]}\n{blank}{code}\n{blank}{lines[1]}\n"
    assert validation.message == f"kura: new code at line {2 + blank.count(chr(10))} (+{code.count(chr(10)) + 1} lines)"


def test_a_body_below_a_docstring_goes_at_the_docstrings_level_and_stops_at_the_next_method():
    text = 'class Cart:\n    def clear(self):\n        """Empty the cart."""\n\n    def total(self):\n        return 0\n'
    target = instruction_for("cart.py", text, (2, 8), (2, 8), "implement clear")

    validation = read_answer(target.place, "```python\n        self.items = []\n    def extra(self):\n        pass\n```")

    assert validation.ok, validation.message
    assert applied(text, validation.change).split("\n")[2:5] == ['        """Empty the cart."""', "        self.items = []", ""]


def test_below_a_line_that_opens_a_block_new_code_goes_one_level_deeper():
    text = "def f(x):\n    return x\n\n\ndef g(y):\n"
    target = instruction_for("m.py", text, (4, 0), (4, 0), "return y doubled")

    validation = read_answer(target.place, "```python\nreturn y * 2\n```")

    assert validation.ok, validation.message
    assert applied(text, validation.change).endswith("def g(y):\n    return y * 2\n")


def test_inserted_code_that_does_not_parse_is_refused():
    target = instruction_for("cart.py", CART, (11, 0), (11, 0), "add a clear method")

    validation = read_answer(target.place, "```python\ndef clear(self:\n```")

    assert not validation.ok and "nothing was inserted" in validation.message


def test_an_answer_with_only_chatter_inserts_nothing():
    target = instruction_for("cart.py", CART, (11, 0), (11, 0), "add a clear method")

    validation = read_answer(target.place, "Sure, here is the code:\n\n")

    assert not validation.ok and "holds no code" in validation.message


# --- through the runner, with a real model ------------------------------------------------------


@pytest.mark.slow
def test_the_runner_plans_and_runs_a_generation_with_a_real_model(tiny_gguf, tmp_path):
    from assistant.models.host import ModelHost
    from assistant.settings import ModelSettings
    from assistant.tasks.runner import GENERATE, TASKS, TaskEnv, plan_task, run_task

    host = ModelHost(ModelSettings(path=str(tiny_gguf("qwen")), context_tokens=1024))
    target = instruction_for("cart.py", CART, (11, 0), (11, 0), "add a clear method")
    chunks: list[str] = []

    async def go():
        worker = await host.worker()
        plan = await plan_task(GENERATE, target, worker, TaskEnv(context_tokens=1024))
        return plan, await run_task(GENERATE, plan, worker, chunks.append)

    try:
        plan, outcome = asyncio.run(go())
    finally:
        host.close()

    assert TASKS["generate"] is GENERATE and plan.mode == INSERT
    assert isinstance(outcome, GenerateOutcome) and outcome.answer == "".join(chunks)
    # A random tiny model rarely writes valid code: either a validated change or a reason, never both.
    assert (outcome.change is None) == (not outcome.message.startswith("kura: new code"))
    assert outcome.message.startswith("kura:")

"""Repository context for a completion: definitions of what is used near the cursor, imported
signatures, similar code, recent edits; within the budget, and stable while the user types."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from assistant.completion.prompt import build_prompt
from assistant.context.builder import CHUNK, DEFINITION, IMPORT, RECENT, ContextBudget, ContextBuilder, Document, RecentEdit
from assistant.models.fim import template_by_name
from indexer.index import Index

FILES = {
    "shop/__init__.py": "",
    "shop/pricing.py": '''"""Prices and discounts."""


def apply_discount(price: float, percent: float) -> float:
    """Return the price reduced by `percent` per cent."""
    return price * (1 - percent / 100)


class Cart:
    """A shopping cart."""

    def __init__(self):
        self.items = []

    def total(self) -> float:
        return sum(item.price for item in self.items)
''',
    "shop/tax.py": '''"""Value added tax."""

RATE = 0.2


def vat_for(amount: float, country: str) -> float:
    """The VAT owed on `amount` in `country`."""
    return amount * RATE
''',
    "shop/shipping.py": '''def shipping_cost(parcel_weight, delivery_distance):
    """Cost of shipping a parcel."""
    per_km = 0.05 * parcel_weight
    return per_km * delivery_distance + 2
''',
    "shop/report.py": '''class Report:
    def total(self, rows):
        return len(rows)
''',
    "shop/checkout.py": '''from shop.pricing import apply_discount
from shop import tax


def helper_here(x):
    return x


def checkout(cart, country, parcel_weight, delivery_distance):
    subtotal = apply_discount(cart.total(), 10)
    owed = tax.vat_for(subtotal, country)
    fee = helper_here(parcel_weight * delivery_distance)
    return subtotal + owed + 
''',
}

CURSOR_FILE = "shop/checkout.py"


def count_tokens(text: str) -> int:
    return len(re.findall(r"\w+|[^\w\s]|\s+", text))


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("repo")
    for path, text in FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "shop"], cwd=root, check=True)
    return root


@pytest.fixture(scope="module")
def index(repo, tmp_path_factory):
    idx = Index.open(repo, index_path=tmp_path_factory.mktemp("idx") / "idx.sqlite")
    idx.update()
    yield idx
    idx.close()


def at_end_of_return(text: str = FILES[CURSOR_FILE]) -> Document:
    return Document(CURSOR_FILE, text, text.index("owed + ") + len("owed + "))


def type_at(doc: Document, chars: str) -> Document:
    return Document(doc.path, doc.text[: doc.offset] + chars + doc.text[doc.offset :], doc.offset + len(chars))


def test_definitions_of_called_functions_from_other_files_are_in_the_context(index):
    ctx = ContextBuilder(index, count_tokens).build(at_end_of_return())
    text = "\n".join(s.text for s in ctx.snippets)
    assert "def apply_discount(price: float, percent: float) -> float:" in text
    assert "Return the price reduced" in text
    assert "def vat_for(amount: float, country: str) -> float:" in text
    labels = {s.label for s in ctx.snippets}
    assert "shop/pricing.py:4" in labels


def test_a_method_called_on_an_object_is_taken_from_what_the_file_imports(index):
    ctx = ContextBuilder(index, count_tokens).build(at_end_of_return())
    # As a definition or among the signatures (`cart` is a Cart: its methods are offered there).
    totals = [s for s in ctx.snippets if s.kind in (DEFINITION, IMPORT) and "def total" in s.text]
    assert [s.path for s in totals] == ["shop/pricing.py"]  # not Report.total in shop/report.py


def test_imported_modules_contribute_their_signatures(index):
    ctx = ContextBuilder(index, count_tokens).build(at_end_of_return())
    imported = [s for s in ctx.snippets if s.kind == IMPORT]
    assert {s.path for s in imported} >= {"shop/pricing.py", "shop/tax.py"}
    # What the imports section shows is not repeated as a per-function definition.
    where = [(s.path, s.line) for s in ctx.snippets if s.kind in (IMPORT, DEFINITION)]
    assert len(where) == len(set(where))


def test_similar_code_elsewhere_is_found_through_bm25(index):
    ctx = ContextBuilder(index, count_tokens).build(at_end_of_return())
    assert any(s.kind == CHUNK and s.path == "shop/shipping.py" for s in ctx.snippets)


def test_own_definitions_already_in_the_window_are_not_repeated(index):
    ctx = ContextBuilder(index, count_tokens).build(at_end_of_return())
    assert "def helper_here(x):" in ctx.prefix
    assert not any(s.path == CURSOR_FILE for s in ctx.snippets)


def test_order_is_imports_then_recent_then_definitions_then_chunks(index):
    recent = [RecentEdit("shop/shipping.py", FILES["shop/shipping.py"], 2)]
    ctx = ContextBuilder(index, count_tokens).build(at_end_of_return(), recent)
    order = [s.kind for s in ctx.snippets]
    rank = {IMPORT: 0, RECENT: 1, DEFINITION: 2, CHUNK: 3}
    assert order == sorted(order, key=rank.__getitem__)
    assert RECENT in order


def test_recent_edits_of_the_current_file_are_not_repeated(index):
    doc = at_end_of_return()
    recent = [RecentEdit(CURSOR_FILE, doc.text, 3), RecentEdit("shop/tax.py", FILES["shop/tax.py"], 5)]
    ctx = ContextBuilder(index, count_tokens).build(doc, recent)
    assert [s.path for s in ctx.snippets if s.kind == RECENT] == ["shop/tax.py"]


def test_budget_is_respected_and_the_window_is_cut_at_line_boundaries(index):
    body = "".join(f"    value_{i} = apply_discount(value_{i - 1}, {i})\n" for i in range(1, 200))
    text = "from shop.pricing import apply_discount\n\n\ndef long(value_0):\n" + body
    text += "    return \n" + "".join(f"# trailing {i}\n" for i in range(200))
    doc = Document(CURSOR_FILE, text, text.index("return ") + len("return "))
    budget = ContextBudget(max_context_tokens=400)
    ctx = ContextBuilder(index, count_tokens, budget).build(doc)

    used = count_tokens(ctx.prefix) + count_tokens(ctx.suffix)
    used += sum(count_tokens(s.label + "\n") + count_tokens(s.text + "\n") for s in ctx.snippets)
    assert used <= 400
    assert ctx.prefix_tokens + ctx.suffix_tokens + ctx.snippet_tokens <= 400
    start = doc.offset - len(ctx.prefix)
    assert start > 0 and text[start - 1] == "\n"
    end = doc.offset + len(ctx.suffix)
    assert end < len(text) and text[end] == "\n"
    assert text[start:end] == ctx.prefix + ctx.suffix


def test_snippets_stay_the_same_while_typing(index):
    builder = ContextBuilder(index, count_tokens)
    doc = at_end_of_return()
    before = builder.build(doc).snippets
    for ch in "fee":
        doc = type_at(doc, ch)
        assert builder.build(doc).snippets == before


def test_prompt_head_is_unchanged_when_a_character_is_typed(index):
    builder = ContextBuilder(index, count_tokens)
    doc = at_end_of_return()
    old = build_prompt(builder.build(doc)).text
    new = build_prompt(builder.build(type_at(doc, "f"))).text
    assert new == old + "f"

    qwen = template_by_name("qwen")
    old = build_prompt(builder.build(doc), template=qwen).text
    new = build_prompt(builder.build(type_at(doc, "f")), template=qwen).text
    head = old.split(qwen.suffix)[0]  # everything up to the cursor
    assert new.startswith(head + "f" + qwen.suffix)


def test_the_window_start_moves_in_jumps_not_on_every_new_line(index):
    lines = "".join(f"    step_{i} = step_{i - 1} + {i}\n" for i in range(1, 120))
    doc = Document(CURSOR_FILE, "def run(step_0):\n" + lines, len("def run(step_0):\n" + lines))
    builder = ContextBuilder(None, count_tokens, ContextBudget(max_context_tokens=500))
    starts = []
    for i in range(120, 140):
        doc = type_at(doc, f"    step_{i} = step_{i - 1} + {i}\n")
        starts.append(builder.build(doc).window_start_line)
    # 20 new lines of ~15 tokens into a ~225-token prefix window: a few jumps, not 20 moves.
    assert len(set(starts)) <= 5
    assert starts[-1] > starts[0]  # it does follow the cursor


def test_without_an_index_the_window_is_still_built():
    doc = at_end_of_return()
    ctx = ContextBuilder(None, count_tokens).build(doc)
    assert ctx.snippets == ()
    assert ctx.prefix == doc.text[: doc.offset]
    assert ctx.suffix == doc.text[doc.offset :]


def test_a_failing_index_degrades_to_the_window():
    class Broken:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise RuntimeError("database is locked")

            return fail

    doc = at_end_of_return()
    ctx = ContextBuilder(Broken(), count_tokens).build(doc)
    assert ctx.snippets == ()
    assert ctx.prefix == doc.text[: doc.offset]


def test_closing_a_document_never_waits_for_a_build_in_progress(index):
    import threading

    inside, release = threading.Event(), threading.Event()

    def slow_count(text: str) -> int:  # a build waiting on the model (its process is generating)
        inside.set()
        release.wait(10)
        return count_tokens(text)

    builder = ContextBuilder(index, slow_count)
    building = threading.Thread(target=builder.build, args=(at_end_of_return(),))
    building.start()
    assert inside.wait(10)
    closer = threading.Thread(target=lambda: (builder.forget("shop/cart.py"), builder.index_changed()))
    closer.start()
    closer.join(2)
    waited = closer.is_alive()
    release.set()
    building.join(10)
    assert not waited  # the event loop's calls returned while the build still held the builder
    assert builder.build(at_end_of_return()).snippets  # applied before the next build, which still works

"""While the user types on one line, the repository part of the prompt stays what it was when the
line began, so each keystroke's prompt differs from the last only at the end (KV cache reuse)."""

from __future__ import annotations

from assistant.completion.service import CompletionService, DocumentSnapshot
from assistant.context.builder import CompletionContext, Snippet
from assistant.settings import Settings

BEFORE = "def total(order):\n    "
AFTER = "\n    return 0\n"


def _context(name: str) -> CompletionContext:
    snippet = Snippet("definition", f"shop/{name}.py", 3, f"def {name}(): ...")
    return CompletionContext("shop/checkout.py", "python", "", "", snippets=(snippet,), snippet_tokens=7)


def _snap(text: str, offset: int) -> DocumentSnapshot:
    return DocumentSnapshot("file:///shop/checkout.py", "shop/checkout.py", text, offset)


def test_keystrokes_on_one_line_keep_the_context_the_line_began_with():
    service = CompletionService(Settings())
    first = service._pin(_snap(BEFORE + "x" + AFTER, len(BEFORE) + 1), _context("tax"))
    assert first.snippets[0].path == "shop/tax.py"
    typed = BEFORE + "x = stop" + AFTER
    again = service._pin(_snap(typed, len(BEFORE) + 8), _context("stop_all"))
    assert again.snippets == first.snippets and again.snippet_tokens == 7


def test_another_line_or_an_edit_elsewhere_chooses_the_context_again():
    service = CompletionService(Settings())
    service._pin(_snap(BEFORE + "x" + AFTER, len(BEFORE) + 1), _context("tax"))
    next_line = BEFORE + "x\n    " + AFTER
    moved = service._pin(_snap(next_line, len(next_line) - len(AFTER)), _context("ship"))
    assert moved.snippets[0].path == "shop/ship.py"
    edited_below = BEFORE + "x\n    " + AFTER.replace("0", "1")
    changed = service._pin(_snap(edited_below, len(next_line) - len(AFTER)), _context("refund"))
    assert changed.snippets[0].path == "shop/refund.py"
    service.forget("file:///shop/checkout.py")
    assert service._pin(_snap(edited_below, len(next_line) - len(AFTER)), _context("fees")).snippets[0].path == "shop/fees.py"

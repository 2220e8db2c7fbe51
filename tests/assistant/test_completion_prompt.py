"""The prompt from a context: FIM through the model's template, or prefix-only with the repository
context as a comment block in the file's own comment syntax; stop strings by shape."""

from __future__ import annotations

from assistant.completion.prompt import build_prompt
from assistant.completion.shape import BLOCK, SINGLE_LINE, CompletionShape
from assistant.context.builder import DEFINITION, IMPORT, CompletionContext, Snippet
from assistant.models.fim import template_by_name

SNIPPETS = (
    Snippet(IMPORT, "shop/tax.py", 5, 'def vat_for(amount, country):\n    """The VAT owed."""'),
    Snippet(DEFINITION, "shop/pricing.py", 3, "def apply_discount(price, percent):"),
)


def context(path: str = "shop/checkout.py", language: str = "python") -> CompletionContext:
    return CompletionContext(path, language, "def f(cart):\n    return ", "\n\nx = 1\n", SNIPPETS)


def test_prefix_only_prompt_puts_commented_context_before_the_prefix():
    prompt = build_prompt(context())
    assert prompt.text == (
        "# shop/tax.py:6\n"
        "# def vat_for(amount, country):\n"
        '#     """The VAT owed."""\n'
        "#\n"
        "# shop/pricing.py:4\n"
        "# def apply_discount(price, percent):\n"
        "#\n"
        "# shop/checkout.py\n"
        "def f(cart):\n    return "
    )
    assert not prompt.fim


def test_prefix_only_prompt_uses_the_files_comment_syntax():
    text = build_prompt(context("web/cart.ts", "typescript")).text
    assert text.startswith("// shop/tax.py:6\n// def vat_for(amount, country):\n")
    assert "# " not in text.split("def f(cart)")[0]


def test_fim_prompt_goes_through_the_template_with_labelled_repo_context():
    qwen = template_by_name("qwen")
    prompt = build_prompt(context(), template=qwen, repo="shop")
    assert prompt.fim
    assert prompt.text.startswith("<|repo_name|>shop\n<|file_sep|>shop/tax.py:6\ndef vat_for")
    assert prompt.text.endswith(
        "<|file_sep|>shop/checkout.py\n<|fim_prefix|>def f(cart):\n    return <|fim_suffix|>\n\nx = 1\n<|fim_middle|>"
    )
    assert "<|endoftext|>" in prompt.stop


def test_fim_without_file_tokens_comments_the_context_inside_the_prefix():
    codellama = template_by_name("codellama")
    prompt = build_prompt(context(), template=codellama)
    assert "# shop/pricing.py:4\ndef apply_discount(price, percent):" in prompt.text
    assert prompt.text.index("shop/pricing.py") < prompt.text.index("▁<SUF>")


def test_single_line_stops_at_newline_and_block_does_not():
    single = CompletionShape(SINGLE_LINE, 4, 1, "python")
    block = CompletionShape(BLOCK, 0, 8, "python")
    assert "\n" in build_prompt(context(), single).stop
    assert "\n" not in build_prompt(context(), block).stop
    # The shape never changes the prompt text itself, so the KV cache is shared between shapes.
    assert build_prompt(context(), single).text == build_prompt(context(), block).text

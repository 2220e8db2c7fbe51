"""Base or instruct, and how big: read from the GGUF, reported by info(), deciding the prompt style."""

from __future__ import annotations

import pytest

from assistant.models.config import ModelConfig
from assistant.models.llama_cpp_backend import LlamaCppBackend
from assistant.models.traits import instruct_kind, parameter_count
from assistant.tasks.explain import choose_style, fit_context_to_model, ContextPiece

EMBEDDED_GEMMA = {"general.architecture": "gemma3", "general.name": "Gemma 3 270m", "general.basename": "gemma-3",
                  "general.size_label": "270M"}


def info_of(path):
    backend = LlamaCppBackend(ModelConfig(path=str(path), context_tokens=256, threads=1))
    backend.load()
    try:
        return backend.info()
    finally:
        backend.close()


def test_a_gguf_without_chat_template_is_a_base_model_and_gets_the_base_prompt(tiny_gguf):
    info = info_of(tiny_gguf("none", with_chat_template=False))

    assert info["instruct"] is False and info["chat_template"] is False
    assert choose_style(info) == "base"


def test_a_gguf_with_a_chat_template_is_an_instruct_model_and_gets_chat(tiny_gguf):
    info = info_of(tiny_gguf("none"))

    assert info["instruct"] is True and info["chat_template"] is True
    assert choose_style(info) == "chat"


def test_the_finetune_field_wins_over_the_chat_template(tiny_gguf):
    assert info_of(tiny_gguf("none", with_chat_template=False, finetune="Instruct"))["instruct"] is True
    assert info_of(tiny_gguf("none", finetune="base"))["instruct"] is False


def test_the_size_label_and_file_size_give_the_parameter_count(tiny_gguf):
    path = tiny_gguf("none", size_label="270M")
    info = info_of(path)

    assert info["parameters"] == 270_000_000 and info["file_bytes"] == path.stat().st_size
    assert parameter_count({}, 4_700_000_000) == pytest.approx(7.8e9, rel=0.01)  # a 7B Q4_K_M file
    assert parameter_count({"general.size_label": "8x7B"}) == 56_000_000_000


def test_the_info_crosses_the_model_process_as_plain_data(tiny_gguf):
    from assistant.models.process import ProcessBackend

    backend = ProcessBackend(ModelConfig(path=str(tiny_gguf("none", with_chat_template=False)), threads=1))
    try:
        backend.load()
        info = backend.info()
    finally:
        backend.close()
    assert info["instruct"] is False and choose_style(info) == "base"


@pytest.mark.parametrize("metadata, path, instruct", [
    (EMBEDDED_GEMMA, "gemma-3-270m-q4_k_m.gguf", False),  # what kura embeds: no template, no hint
    (EMBEDDED_GEMMA, "gemma-3-270m-it-q4_k_m.gguf", True),
    ({**EMBEDDED_GEMMA, "general.finetune": "it"}, None, True),
    ({"general.name": "Qwen2.5 Coder 7B Instruct", "tokenizer.chat_template": "{{x}}"}, None, True),
    ({"general.name": "Qwen2.5 Coder 1.5B", "general.finetune": "base", "tokenizer.chat_template": "{{x}}"}, None, False),
    ({"general.name": "deepseek-coder-6.7b-base"}, "deepseek-coder-6.7b-base.Q4_K_M.gguf", False),
    ({"general.name": "Llama 3.1 8B Chat"}, None, True),
])
def test_instruct_or_base_from_what_the_publisher_wrote(metadata, path, instruct):
    found, reason = instruct_kind(metadata, path)

    assert found is instruct and reason


def test_a_small_model_gets_a_few_one_line_signatures_and_a_large_one_everything():
    pieces = [ContextPiece(f"m.py:{i}", "definition", f"def f{i}(\n    a: int,\n    b: int,\n) -> int:\n    doc {i}")
              for i in range(6)] + [ContextPiece("a.py:1", "import", "import os"),
                                    ContextPiece("b.py:9", "caller", "f0(1, 2)")]

    small = fit_context_to_model(pieces, {"parameters": 270_000_000})
    large = fit_context_to_model(pieces, {"parameters": 7_000_000_000})

    assert [p.text for p in small] == [f"def f{i}(a: int, b: int,) -> int:" for i in range(4)]
    assert large == pieces and fit_context_to_model(pieces, {}) == pieces

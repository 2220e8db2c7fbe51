"""Fill-in-the-middle templates found without configuration, from real (tiny) GGUF files."""

from __future__ import annotations

import pytest

from assistant.models.fim import FAMILIES, detect_fim_from_gguf, read_gguf_header, template_by_name

FAMILY_TEMPLATE = {
    "qwen": "qwen2.5-coder",
    "starcoder": "starcoder",
    "deepseek": "deepseek-coder",
    "codellama": "codellama",
    "codegemma": "codegemma",
}


@pytest.mark.parametrize("family", sorted(FAMILY_TEMPLATE))
def test_fim_tokens_come_from_gguf_metadata(tiny_gguf, family):
    template = detect_fim_from_gguf(tiny_gguf(family, with_fim_metadata=True))

    expected = FAMILIES[FAMILY_TEMPLATE[family]]
    assert template is not None
    assert template.source == "metadata"
    assert template.name == expected.name
    assert (template.prefix, template.suffix, template.middle) == (expected.prefix, expected.suffix, expected.middle)


@pytest.mark.parametrize("family", sorted(FAMILY_TEMPLATE))
def test_fim_family_is_recognised_from_vocab_when_metadata_has_no_fim_ids(tiny_gguf, family):
    template = detect_fim_from_gguf(tiny_gguf(family, with_fim_metadata=False))

    assert template is not None
    assert template.source == "family"
    assert template.name == FAMILY_TEMPLATE[family]


def test_repo_level_tokens_are_read_from_metadata(tiny_gguf):
    qwen = detect_fim_from_gguf(tiny_gguf("qwen"))
    starcoder = detect_fim_from_gguf(tiny_gguf("starcoder"))
    codegemma = detect_fim_from_gguf(tiny_gguf("codegemma"))

    assert (qwen.file_sep, qwen.repo_name, qwen.pad) == ("<|file_sep|>", "<|repo_name|>", "<|fim_pad|>")
    assert (starcoder.file_sep, starcoder.repo_name) == ("<file_sep>", "<repo_name>")
    assert codegemma.file_sep == "<|file_separator|>" and codegemma.repo_name is None


def test_legacy_prefix_suffix_middle_keys_are_understood(tiny_gguf):
    path = tiny_gguf("codellama", with_fim_metadata=True, legacy_fim_keys=True)
    assert "tokenizer.ggml.prefix_token_id" in read_gguf_header(path, with_tokens=False)[0]

    template = detect_fim_from_gguf(path)

    assert template.source == "metadata"
    assert (template.prefix, template.suffix, template.middle) == ("▁<PRE>", "▁<SUF>", "▁<MID>")


def test_model_without_fim_tokens_gets_no_template(tiny_gguf):
    assert detect_fim_from_gguf(tiny_gguf("none")) is None


def test_forced_template_wins_over_detection(tiny_gguf):
    forced = detect_fim_from_gguf(tiny_gguf("none"), "starcoder2")
    disabled = detect_fim_from_gguf(tiny_gguf("qwen"), "none")

    assert forced.name == "starcoder" and forced.source == "forced"
    assert disabled is None


def test_unknown_forced_template_names_the_valid_ones():
    with pytest.raises(ValueError, match="qwen2.5-coder"):
        template_by_name("gpt-fim")


def test_render_puts_repository_context_before_the_fim_prefix():
    template = FAMILIES["qwen2.5-coder"]

    prompt = template.render(
        "def area(r):\n    return ", "\n", [("geo/consts.py", "PI = 3.14159")], path="geo/area.py", repo="geo"
    )

    assert prompt == (
        "<|repo_name|>geo\n"
        "<|file_sep|>geo/consts.py\nPI = 3.14159\n"
        "<|file_sep|>geo/area.py\n"
        "<|fim_prefix|>def area(r):\n    return <|fim_suffix|>\n<|fim_middle|>"
    )


def test_render_without_file_tokens_writes_context_as_comments_inside_the_prefix():
    template = FAMILIES["deepseek-coder"]

    prompt = template.render("x = ", "", [("a.py", "A = 1\n")], path="b.py")

    assert prompt == "<｜fim▁begin｜># a.py\nA = 1\n\n# b.py\nx = <｜fim▁hole｜><｜fim▁end｜>"


def test_stop_tokens_include_end_of_text_and_file_separator():
    template = FAMILIES["starcoder"]

    assert "<|endoftext|>" in template.stop and "<file_sep>" in template.stop


def test_header_reader_rejects_a_file_that_is_not_gguf(tmp_path):
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"PK\x03\x04 not a model")

    with pytest.raises(ValueError, match="not a GGUF"):
        read_gguf_header(bogus)

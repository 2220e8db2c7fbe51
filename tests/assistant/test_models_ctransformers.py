"""The ctransformers backend loads and runs tiny llama-architecture GGUF files."""

from __future__ import annotations

import pytest

from assistant.models.base import CancelToken, GenerationRequest, ModelError
from assistant.models.ctransformers_backend import CTransformersBackend
from assistant.models.registry import ModelConfig, create_backend

PROMPT = "class Stack:\n    def push(self, item):\n        self"


def backend_for(path, **config) -> CTransformersBackend:
    return CTransformersBackend(ModelConfig(backend="ctransformers", path=str(path), context_tokens=512, threads=1, **config))


@pytest.fixture(scope="module")
def backend(tiny_gguf):
    backend = backend_for(tiny_gguf("codellama"))
    backend.load()
    yield backend
    backend.close()


@pytest.mark.parametrize("dtype", ["f32", "f16"])
@pytest.mark.parametrize("version", [2, 3])
def test_loads_and_generates_from_gguf_versions_and_tensor_types(tiny_gguf, dtype, version):
    backend = backend_for(tiny_gguf("none", dtype=dtype, gguf_version=version))
    chunks: list[str] = []

    result = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=8), on_text=chunks.append)

    assert result.stop_reason == "length" and result.generated_tokens == 8
    assert result.text and "".join(chunks) == result.text
    backend.close()


def test_registry_creates_the_ctransformers_backend(tiny_gguf):
    from assistant.models.process import ProcessBackend

    config = ModelConfig(backend="ctransformers", path=str(tiny_gguf("none")), context_tokens=256)
    backend = create_backend(config)

    # In its own model process by default (a native crash must not take the server down), else here.
    assert isinstance(backend, ProcessBackend) and backend.name == "ctransformers"
    assert isinstance(create_backend(config, isolated=False), CTransformersBackend)


def test_greedy_output_matches_llama_cpp_on_the_same_file(backend, tiny_gguf):
    from assistant.models.llama_cpp_backend import LlamaCppBackend

    template = backend.fim_template()
    prompt = template.render("def add(a, b):\n    return ", "\n")
    llama = LlamaCppBackend(ModelConfig(path=str(tiny_gguf("codellama")), context_tokens=512, threads=1))
    expected = llama.generate(GenerationRequest(prompt=prompt, max_tokens=10))
    llama.close()

    result = backend.generate(GenerationRequest(prompt=prompt, max_tokens=10))

    assert result.prompt_tokens == expected.prompt_tokens
    assert result.text == expected.text


def test_fim_special_tokens_are_inserted_by_id(backend, tiny_gguf):
    from fixtures.tiny_gguf import special_token_ids

    ids = special_token_ids("codellama")
    prompt = backend.fim_template().render("x = ", "\n")

    tokens = backend._tokenize(prompt)

    assert tokens[1] == ids["fim_pre"] and tokens[-1] == ids["fim_mid"] and ids["fim_suf"] in tokens


def test_second_request_sharing_a_prefix_reuses_evaluated_tokens(backend):
    first = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=3))
    second = backend.generate(GenerationRequest(prompt=PROMPT + ".items", max_tokens=3))

    assert second.reused_tokens >= first.prompt_tokens - 2 > 0


def test_cancel_stops_between_tokens(backend):
    cancel = CancelToken()

    def on_text(chunk: str) -> None:
        cancel.cancel()

    result = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=200), cancel, on_text)

    assert result.stop_reason == "cancelled" and result.generated_tokens <= 2


def test_should_stop_and_chat_messages(backend):
    stopped = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=200, should_stop=lambda t: len(t) > 5))
    chat = backend.generate(GenerationRequest(messages=[{"role": "user", "content": "hi"}], max_tokens=4))

    assert stopped.stop_reason == "callback"
    assert chat.generated_tokens == 4


def test_missing_file_is_a_clear_error(tmp_path):
    missing = tmp_path / "model.gguf"

    with pytest.raises(ModelError, match="model file not found") as error:
        backend_for(missing).load()

    assert str(missing) in str(error.value)


def test_non_llama_gguf_is_refused_before_loading(tiny_gguf, tmp_path):
    from gguf import GGUFWriter

    path = tmp_path / "qwen2.gguf"
    writer = GGUFWriter(str(path), "qwen2")
    writer.add_name("not llama")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    with pytest.raises(ModelError, match="architecture is 'qwen2'") as error:
        backend_for(path).load()

    assert "llama_cpp" in str(error.value)

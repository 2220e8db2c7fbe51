"""The default backend, llama-cpp-python in-process, against tiny generated GGUF files."""

from __future__ import annotations

import pytest

from assistant.models.base import CancelToken, GenerationRequest, ModelError
from assistant.models.fim import detect_fim_from_gguf
from assistant.models.llama_cpp_backend import LlamaCppBackend
from assistant.models.registry import ModelConfig, create_backend

PROMPT = "def total(items):\n    result = 0\n    for item in items:\n        result"


@pytest.fixture(scope="module")
def backend(tiny_gguf):
    backend = LlamaCppBackend(ModelConfig(path=str(tiny_gguf("qwen")), context_tokens=512, threads=1))
    backend.load()
    yield backend
    backend.close()


def fresh(tiny_gguf) -> LlamaCppBackend:
    return LlamaCppBackend(ModelConfig(path=str(tiny_gguf("qwen")), context_tokens=512, threads=1))


def test_generates_text_from_a_tiny_gguf(backend):
    chunks: list[str] = []

    result = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=12), on_text=chunks.append)

    assert result.stop_reason == "length"
    assert result.generated_tokens == 12
    assert result.text and "".join(chunks) == result.text
    assert result.prompt_tokens == backend.count_tokens(PROMPT) + 1  # + BOS
    assert result.first_token_ms is not None and result.model_ms >= result.first_token_ms


def test_second_request_sharing_a_prefix_reuses_the_kv_cache(backend):
    first = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=4))
    second = backend.generate(GenerationRequest(prompt=PROMPT + " +=", max_tokens=4))

    assert second.reused_tokens > 0
    assert second.reused_tokens >= first.prompt_tokens - 2  # all but a re-tokenized boundary
    assert second.reused_tokens < second.prompt_tokens


def test_reused_cache_gives_the_same_text_as_a_cold_start(backend, tiny_gguf):
    backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=6))
    warm = backend.generate(GenerationRequest(prompt=PROMPT + " +=", max_tokens=10))
    cold_backend = fresh(tiny_gguf)
    cold = cold_backend.generate(GenerationRequest(prompt=PROMPT + " +=", max_tokens=10))
    cold_backend.close()

    assert warm.reused_tokens > 0 and cold.reused_tokens == 0
    assert warm.text == cold.text


def test_unrelated_prompt_reuses_at_most_the_bos_token(backend):
    backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=2))

    other = backend.generate(GenerationRequest(prompt="import os", max_tokens=2))

    assert other.reused_tokens <= 1


def test_cancel_from_on_text_stops_between_tokens(backend):
    cancel = CancelToken()
    chunks: list[str] = []

    def on_text(chunk: str) -> None:
        chunks.append(chunk)
        cancel.cancel()

    result = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=200), cancel, on_text)

    assert result.stop_reason == "cancelled"
    assert result.generated_tokens <= 2
    assert len(chunks) == 1


def test_a_long_prompt_is_evaluated_in_chunks_and_a_cancel_between_them_keeps_what_was_evaluated(tiny_gguf, monkeypatch):
    from assistant.models import llama_cpp_backend

    monkeypatch.setattr(llama_cpp_backend, "PREFILL_CHUNK", 32)
    backend = fresh(tiny_gguf)
    backend.load()
    llama, cancel, chunks = backend.llama, CancelToken(), []
    evaluate = llama.eval

    def eval_then_cancel(tokens):  # the real evaluation; the user moves on after its first chunk
        chunks.append(len(tokens))
        evaluate(tokens)
        cancel.cancel()

    monkeypatch.setattr(llama, "eval", eval_then_cancel)
    prompt = PROMPT * 8
    try:
        result = backend.generate(GenerationRequest(prompt=prompt, max_tokens=4), cancel)
        monkeypatch.setattr(llama, "eval", evaluate)
        again = backend.generate(GenerationRequest(prompt=prompt, max_tokens=4))
    finally:
        backend.close()
    assert result.stop_reason == "cancelled" and result.generated_tokens == 0
    assert chunks == [32] and result.prompt_tokens > 64
    assert again.reused_tokens == 32 and again.stop_reason == "length"
    # how fast the model reads is timed on what it read, a cancelled read included
    assert result.read_tokens == 32 and result.read_ms > 0
    assert again.read_tokens == again.prompt_tokens - 32 - 1 and again.read_ms > 0  # the last is sampled after


def test_already_cancelled_request_generates_nothing(backend):
    cancel = CancelToken()
    cancel.cancel()

    result = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=50), cancel)

    assert result.stop_reason == "cancelled" and result.generated_tokens == 0 and result.text == ""


def test_should_stop_ends_generation(backend):
    result = backend.generate(
        GenerationRequest(prompt=PROMPT, max_tokens=200, should_stop=lambda text: len(text) >= 6)
    )

    assert result.stop_reason == "callback"
    assert 6 <= len(result.text) < 40
    assert result.generated_tokens < 200


def test_stop_string_cuts_the_text_before_it(backend):
    full = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=16)).text
    stop = full[len(full) // 2 : len(full) // 2 + 3]
    assert stop.strip(), f"generated text too uniform for this test: {full!r}"
    chunks: list[str] = []

    result = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=16, stop=(stop,)), on_text=chunks.append)

    assert result.stop_reason == "stop"
    assert result.text == full[: full.index(stop)]
    assert "".join(chunks) == result.text


def test_chat_messages_use_the_gguf_chat_template(backend):
    result = backend.generate(
        GenerationRequest(messages=[{"role": "user", "content": "explain this"}], max_tokens=5)
    )

    # The tiny GGUF's template renders "user: explain this\nassistant:".
    assert result.prompt_tokens == 1 + backend.count_tokens("user: explain this\nassistant:")
    assert result.generated_tokens == 5


@pytest.mark.parametrize("family", ["qwen", "codellama", "deepseek", "none"])
def test_fim_template_of_the_loaded_model_matches_the_file(tiny_gguf, family):
    path = tiny_gguf(family, with_fim_metadata=False)
    backend = LlamaCppBackend(ModelConfig(path=str(path), context_tokens=256, threads=1))

    template = backend.fim_template()
    backend.close()

    assert template == detect_fim_from_gguf(path)


def test_fim_prompt_special_tokens_are_single_tokens(backend):
    template = backend.fim_template()
    prompt = template.render("x = ", "\n")

    tokens = backend.llama.tokenize(prompt.encode(), add_bos=False, special=True)

    assert backend.llama._model.token_get_text(tokens[0]) == "<|fim_prefix|>"
    assert backend.llama._model.token_get_text(tokens[-1]) == "<|fim_middle|>"


def test_missing_model_file_names_the_path_and_the_fix(tmp_path):
    missing = tmp_path / "nowhere" / "model.gguf"
    backend = create_backend(ModelConfig(path=str(missing)))

    with pytest.raises(ModelError) as error:
        backend.load()

    assert str(missing) in str(error.value) and "model.path" in str(error.value)
    assert backend.info()["last_error"] == str(error.value)


def test_file_that_is_not_a_gguf_is_reported_as_corrupt(tmp_path):
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"<html>404 Not Found</html>")

    with pytest.raises(ModelError, match="not a usable GGUF") as error:
        LlamaCppBackend(ModelConfig(path=str(bogus))).load()

    assert str(bogus) in str(error.value)


def test_truncated_gguf_is_reported_with_its_path(tmp_path, tiny_gguf):
    whole = tiny_gguf("none").read_bytes()
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(whole[: len(whole) // 2])

    with pytest.raises(ModelError) as error:
        LlamaCppBackend(ModelConfig(path=str(truncated), context_tokens=256)).load()

    assert str(truncated) in str(error.value) and "corrupt" in str(error.value)


def test_prompt_longer_than_the_context_is_a_clear_error(tiny_gguf):
    backend = LlamaCppBackend(ModelConfig(path=str(tiny_gguf("none")), context_tokens=64, threads=1))

    with pytest.raises(ModelError, match="contextTokens"):
        backend.generate(GenerationRequest(prompt="x " * 200))
    backend.close()


def test_info_reports_model_context_and_fim(backend):
    info = backend.info()

    assert info["backend"] == "llama_cpp" and info["loaded"] is True
    assert info["context_tokens"] == 512
    assert info["fim_template"] == "qwen2.5-coder"
    assert info["model_path"].endswith(".gguf")


def test_loading_neither_swallows_stdout_nor_writes_to_stderr(tiny_gguf):
    """stdout carries the LSP protocol: a load on the worker thread must not redirect it, and
    llama.cpp's log lines must not land on stderr."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(f"""
        import threading
        from assistant.models.base import GenerationRequest
        from assistant.models.llama_cpp_backend import LlamaCppBackend
        from assistant.models.registry import ModelConfig

        def load_repeatedly():  # a tiny model loads in milliseconds: widen the window
            for _ in range(8):
                backend = LlamaCppBackend(ModelConfig(path={str(tiny_gguf("qwen"))!r}, context_tokens=256, threads=1))
                backend.load()
                backend.close()

        loader = threading.Thread(target=load_repeatedly)
        loader.start()
        n = 0
        while loader.is_alive() or n < 200:
            print("line", n, flush=True)
            n += 1
        loader.join()
        backend = LlamaCppBackend(ModelConfig(path={str(tiny_gguf("qwen"))!r}, context_tokens=256, threads=1))
        backend.generate(GenerationRequest(prompt="x", max_tokens=2))
        print("total", n, flush=True)
    """)

    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)

    lines = done.stdout.splitlines()
    total = int(lines[-1].split()[1])
    assert lines[:-1] == [f"line {i}" for i in range(total)]
    assert done.stderr == ""

"""The OpenAI-compatible backend against a real in-house server: `python -m llama_cpp.server` on
loopback serving a tiny GGUF."""

from __future__ import annotations

import threading
import time

import pytest

from assistant.models.base import CancelToken, GenerationRequest, ModelError
from assistant.models.openai_backend import OpenAIBackend
from assistant.models.registry import ModelConfig, create_backend

pytestmark = pytest.mark.slow  # starts a server process

PROMPT = "def mean(values):\n    return sum(values) /"


@pytest.fixture
def backend(llama_server):
    backend = create_backend(ModelConfig(backend="openai", server_url=llama_server, timeout_s=30))
    yield backend
    backend.close()


def test_streamed_completion_arrives_in_chunks(backend):
    chunks: list[str] = []

    result = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=8), on_text=chunks.append)

    assert result.stop_reason == "length"
    assert len(chunks) >= 4 and "".join(chunks) == result.text
    assert result.first_token_ms is not None and result.first_token_ms <= result.model_ms


def test_same_prompt_gives_the_same_text_as_in_process_generation(backend, tiny_gguf):
    from assistant.models.llama_cpp_backend import LlamaCppBackend

    local = LlamaCppBackend(ModelConfig(path=str(tiny_gguf("qwen")), context_tokens=512, threads=1))
    expected = local.generate(GenerationRequest(prompt=PROMPT, max_tokens=8)).text
    local.close()

    assert backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=8)).text == expected


def test_chat_messages_go_to_chat_completions(backend):
    chunks: list[str] = []

    result = backend.generate(
        GenerationRequest(messages=[{"role": "user", "content": "name a number"}], max_tokens=6),
        on_text=chunks.append,
    )

    assert result.text and "".join(chunks) == result.text
    assert result.stop_reason == "length"


def test_cancel_closes_the_stream_and_the_server_stays_usable(backend):
    cancel = CancelToken()
    chunks: list[str] = []

    def on_text(chunk: str) -> None:
        chunks.append(chunk)
        cancel.cancel()

    cancelled = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=400), cancel, on_text)
    after = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=3))

    assert cancelled.stop_reason == "cancelled" and len(chunks) == 1
    assert cancelled.generated_tokens < 400
    assert after.stop_reason == "length"


def test_cancel_from_another_thread_interrupts_a_blocked_read(backend):
    cancel = CancelToken()
    timer = threading.Timer(0.05, cancel.cancel)
    timer.start()
    started = time.perf_counter()

    result = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=2000), cancel)

    elapsed = time.perf_counter() - started
    timer.join()
    assert result.stop_reason == "cancelled" and result.generated_tokens < 500
    assert elapsed < 2


def test_stop_strings_and_should_stop_work_over_http(backend):
    full = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=12)).text
    stop = full[len(full) // 2 : len(full) // 2 + 2]

    stopped = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=12, stop=(stop,)))
    called = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=200, should_stop=lambda t: len(t) >= 4))

    assert stopped.stop_reason == "stop" and stopped.text == full[: full.index(stop)]
    assert called.stop_reason == "callback" and called.generated_tokens < 200


def test_tokens_are_counted_by_the_server(backend):
    assert backend.count_tokens("def f") == 3  # BOS, "▁def", "▁f" as llama_cpp.server counts them
    assert backend.info()["last_error"] is None


def test_unreachable_server_fails_fast_with_the_url_and_the_fix():
    from fixtures.model_server import free_port

    url = f"http://127.0.0.1:{free_port()}"
    backend = OpenAIBackend(ModelConfig(backend="openai", server_url=url, connect_timeout_s=1))
    started = time.perf_counter()

    with pytest.raises(ModelError) as error:
        backend.generate(GenerationRequest(prompt="x"))

    assert time.perf_counter() - started < 2
    assert url in str(error.value) and "model.serverUrl" in str(error.value)
    info = backend.info()
    assert info["last_error"] and info["next_retry_at"] > time.time()


def test_after_a_failure_calls_skip_the_network_until_the_backoff_passes():
    from fixtures.model_server import free_port

    backend = OpenAIBackend(ModelConfig(backend="openai", server_url=f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(ModelError):
        backend.load()
    first_retry_at = backend.next_retry_at

    with pytest.raises(ModelError, match="next retry in"):
        backend.generate(GenerationRequest(prompt="x"))
    assert backend.next_retry_at == first_retry_at  # no new attempt was made

    backend.next_retry_at = time.time() - 1  # the backoff has passed
    with pytest.raises(ModelError):
        backend.load()
    assert backend.next_retry_at - time.time() > 1.5  # tried again, and the backoff doubled


def test_server_that_comes_up_later_is_used_on_the_next_retry(tiny_gguf):
    from fixtures.model_server import free_port, llama_cpp_server

    port = free_port()
    backend = OpenAIBackend(ModelConfig(backend="openai", server_url=f"http://127.0.0.1:{port}"))
    with pytest.raises(ModelError):
        backend.generate(GenerationRequest(prompt="x", max_tokens=2))

    with llama_cpp_server(tiny_gguf("none"), port=port):
        backend.next_retry_at = time.time()  # as if the backoff had passed
        result = backend.generate(GenerationRequest(prompt="x", max_tokens=2))

    assert result.generated_tokens == 2
    assert backend.info()["last_error"] is None and backend.info()["next_retry_at"] is None
    backend.close()


def test_fim_template_comes_from_settings():
    named = OpenAIBackend(ModelConfig(backend="openai", server_url="http://127.0.0.1:1", fim_template="deepseek"))
    unnamed = OpenAIBackend(ModelConfig(backend="openai", server_url="http://127.0.0.1:1"))

    assert named.fim_template().name == "deepseek-coder"
    assert unnamed.fim_template() is None


def test_missing_server_url_is_a_clear_error():
    backend = OpenAIBackend(ModelConfig(backend="openai"))

    with pytest.raises(ModelError, match="model.serverUrl is empty"):
        backend.load()
    assert "serverUrl" in backend.info()["last_error"]

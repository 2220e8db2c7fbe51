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
    with pytest.raises(ModelError) as failure:
        backend.load()
    first_retry_at = backend.next_retry_at

    with pytest.raises(ModelError) as skipped:
        backend.generate(GenerationRequest(prompt="x"))
    assert backend.next_retry_at == first_retry_at  # no new attempt was made
    assert str(skipped.value) == str(failure.value)  # the same words: the editor reports it once
    assert backend.info()["retry_in_s"] > 0

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


# -- behind a gateway: refusals, Retry-After, the engine's cache -----------------------------------


class _Gateway:
    """A loopback HTTP server answering every request with one canned response, counting them."""

    def __init__(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        outer = self
        self.requests = 0

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                outer.requests += 1
                self.rfile.read(int(self.headers.get("content-length") or 0))
                data = body.encode()
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def canned():
    servers: list[_Gateway] = []

    def start(status: int, body: str = "{}", headers: dict[str, str] | None = None) -> _Gateway:
        servers.append(_Gateway(status, body, headers))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_a_rejected_key_names_the_variable_and_waits_a_minute(canned, monkeypatch):
    from assistant.models.openai_backend import KEY_REJECTED, ServerRefused

    server = canned(401, '{"error": {"message": "unknown key", "type": "invalid_api_key"}}')
    monkeypatch.setenv("TEAM_KEY", "kura-revoked")
    backend = OpenAIBackend(ModelConfig(backend="openai", server_url=server.url, api_key_env="TEAM_KEY"))

    with pytest.raises(ServerRefused) as refused:
        backend.generate(GenerationRequest(prompt="x"))
    with pytest.raises(ServerRefused) as again:
        backend.generate(GenerationRequest(prompt="x"))

    assert refused.value.state == KEY_REJECTED and "$TEAM_KEY" in str(refused.value) and "unknown key" in str(refused.value)
    assert str(again.value) == str(refused.value) and server.requests == 1
    assert backend.info()["server_state"] == KEY_REJECTED and backend.info()["retry_in_s"] > 55


@pytest.mark.parametrize("retry_after, expected_s", [("7", 7), (None, 1)])
def test_a_rate_limit_pauses_for_retry_after_or_backs_off(canned, retry_after, expected_s):
    from assistant.models.openai_backend import RATE_LIMITED, ServerRefused

    server = canned(429, '{"error": {"message": "slow down"}}', {"retry-after": retry_after} if retry_after else {})
    backend = OpenAIBackend(ModelConfig(backend="openai", server_url=server.url))

    with pytest.raises(ServerRefused) as limited:
        backend.load()

    assert limited.value.state == RATE_LIMITED and limited.value.status == 429
    assert backend.next_retry_at - time.time() == pytest.approx(expected_s, abs=0.5)


def test_a_gateway_without_a_live_engine_is_engine_down_with_backoff(canned):
    from assistant.models.openai_backend import ENGINE_DOWN, ServerRefused

    server = canned(503, '{"error": {"message": "no healthy upstream"}}')
    backend = OpenAIBackend(ModelConfig(backend="openai", server_url=server.url))

    with pytest.raises(ServerRefused) as down:
        backend.generate(GenerationRequest(prompt="x"))

    assert down.value.state == ENGINE_DOWN and "no healthy upstream" in str(down.value)
    assert backend.next_retry_at > time.time()


def test_a_bad_request_is_reported_without_a_backoff(canned):
    server = canned(404, '{"error": {"message": "model nope not found"}}')
    backend = OpenAIBackend(ModelConfig(backend="openai", server_url=server.url, model_name="nope"))

    with pytest.raises(ModelError, match="model nope not found.*model.modelName"):
        backend.generate(GenerationRequest(prompt="x"))
    assert backend.next_retry_at is None


@pytest.mark.parametrize("value, expected", [("120", 120.0), ("0", 0.0), ("soon", None), (None, None), ("99999", 600.0)])
def test_retry_after_is_read_as_seconds(value, expected):
    from assistant.models.openai_backend import retry_after_seconds

    assert retry_after_seconds(value) == expected


def test_retry_after_may_be_an_http_date():
    from email.utils import formatdate

    from assistant.models.openai_backend import retry_after_seconds

    now = time.time()
    assert retry_after_seconds(formatdate(now + 30, usegmt=True), now) == pytest.approx(30, abs=1)


def test_reused_tokens_come_from_llama_server_timings_or_the_openai_usage_field():
    from assistant.models.openai_backend import reused_prompt_tokens

    assert reused_prompt_tokens({}, {"cache_n": 41, "prompt_n": 3}) == 41  # llama-server
    assert reused_prompt_tokens({"prompt_tokens_details": {"cached_tokens": 96}}, {}) == 96  # vLLM
    assert reused_prompt_tokens({"prompt_tokens": 12}, {}) is None  # llama_cpp.server does not say


def test_probe_of_a_server_that_is_not_there_says_unreachable():
    from fixtures.model_server import free_port

    from assistant.models.openai_backend import UNREACHABLE, probe_server

    probe = probe_server(ModelConfig(backend="openai", server_url=f"http://127.0.0.1:{free_port()}"))

    assert not probe.ok and probe.state == UNREACHABLE and not probe.reachable and "unreachable" in probe.error


def test_probe_without_the_key_variable_says_so_before_any_request(monkeypatch):
    from assistant.models.openai_backend import KEY_MISSING, probe_server

    monkeypatch.delenv("KURA_ABSENT_KEY", raising=False)
    probe = probe_server(ModelConfig(backend="openai", server_url="http://127.0.0.1:9", api_key_env="KURA_ABSENT_KEY"))

    assert probe.state == KEY_MISSING and "KURA_ABSENT_KEY" in probe.error


def test_probe_of_a_live_server_reports_its_model_and_latency(llama_server):
    from assistant.models.openai_backend import probe_server

    probe = probe_server(ModelConfig(backend="openai", server_url=llama_server))

    assert probe.ok and probe.models and probe.model_found is None
    assert probe.list_ms > 0 and probe.first_token_ms is not None


def test_status_shows_the_totals_of_prompt_and_reused_tokens(backend):
    backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=2))

    info = backend.info()

    assert info["server_totals"]["requests"] == 1 and info["server_totals"]["generated_tokens"] == 2
    assert info["last_reused_tokens"] is None  # llama_cpp.server does not report its cache use

"""An in-house model server speaking the OpenAI-compatible API (llama.cpp's llama-server, vLLM,
Ollama, `python -m llama_cpp.server`): streamed `/v1/completions` for prompts and
`/v1/chat/completions` for messages, over httpx.

An unreachable server fails fast (short connect timeout) with a ModelError naming the URL, and
later calls skip the network until an exponential backoff has passed, so a dead server never
stalls the editor. Behind a gateway (deploy/, docs/team-server.md) a rejected key, a rate limit
(429, Retry-After honoured) and a gateway whose engine is down each give one message, repeated
word for word while the backoff lasts so the editor reports it once. Cancelling closes the stream.
`probe_server()` is the health check of `kura doctor`.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from assistant.models.base import (
    CANCELLED,
    LENGTH,
    STOP,
    CancelToken,
    GenerationRequest,
    GenerationResult,
    ModelError,
    StopScanner,
    early_stop,
)
from assistant.models.fim import AUTO, FimTemplate, detect_fim_from_gguf
from assistant.models.config import ModelConfig

log = logging.getLogger(__name__)

BACKOFF_START_S = 1.0
BACKOFF_MAX_S = 60.0
KEY_REJECTED_BACKOFF_S = 60.0  # a key is not fixed by retrying; check again each minute
MAX_RETRY_AFTER_S = 600.0

# The server's state as info()["server_state"] and kura/status show it.
OK, UNREACHABLE, KEY_REJECTED, RATE_LIMITED, ENGINE_DOWN, BAD_REQUEST = (
    "ok", "unreachable", "key rejected", "rate limited", "engine down", "bad request")
NOT_CONFIGURED, KEY_MISSING = "not configured", "key missing"


class ServerRefused(ModelError):
    """The server (or the gateway in front of it) answered with an error; `state` says which kind."""

    def __init__(self, message: str, state: str, status: int | None = None, retry_at: float | None = None) -> None:
        super().__init__(message)
        self.state, self.status, self.retry_at = state, status, retry_at


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date (RFC 9110); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, min(MAX_RETRY_AFTER_S, float(value)))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, min(MAX_RETRY_AFTER_S, when - (time.time() if now is None else now)))


def _server_message(text: str) -> str:
    """The error message an OpenAI-compatible server or the gateway put in its JSON body, else the text."""
    try:
        body = json.loads(text)
    except ValueError:
        return text.strip()[:300]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])[:300]
    if isinstance(error, str):
        return error[:300]
    if isinstance(body, dict) and body.get("detail"):
        return str(body["detail"])[:300]
    return text.strip()[:300]


class OpenAIBackend:
    """A remote model behind an OpenAI-compatible HTTP API."""

    name = "openai"

    def __init__(self, config: ModelConfig | None = None, *, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config or ModelConfig(backend="openai")
        self.base_url = self.config.server_url.rstrip("/")
        if self.base_url.endswith("/v1"):
            self.base_url = self.base_url[: -len("/v1")]
        self._transport = transport
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()
        self.model_name = self.config.model_name
        self.last_error: str | None = None
        self.next_retry_at: float | None = None  # time.time() before which calls fail fast
        self._backoff_s = 0.0
        self._loaded = False
        self._tokenize_endpoint: str | None | bool = None  # None: not probed; False: unavailable
        self._template: FimTemplate | None = None
        self.server_state = OK
        self.totals = {"requests": 0, "prompt_tokens": 0, "reused_tokens": 0, "generated_tokens": 0}
        self.last_reused_tokens: int | None = None
        self.served_models: list[str] = []

    # -- connection -------------------------------------------------------------------------

    def _http(self) -> httpx.Client:
        if not self.base_url:
            self.last_error = (
                "model.backend is 'openai' but model.serverUrl is empty; set it to your server, "
                "e.g. http://127.0.0.1:8080"
            )
            self.server_state = NOT_CONFIGURED
            raise ModelError(self.last_error)
        if self._client is None:
            headers = {}
            if self.config.api_key_env:
                key = os.environ.get(self.config.api_key_env)
                if not key:
                    self.last_error = (
                        f"the API key environment variable {self.config.api_key_env} is not set; "
                        "export it before starting kura, or clear model.apiKeyEnv"
                    )
                    self.server_state = KEY_MISSING
                    raise ModelError(self.last_error)
                headers["Authorization"] = f"Bearer {key}"
            timeout = httpx.Timeout(
                self.config.timeout_s, connect=self.config.connect_timeout_s, pool=self.config.connect_timeout_s
            )
            self._client = httpx.Client(
                base_url=self.base_url, timeout=timeout, headers=headers, transport=self._transport, trust_env=False,
                verify=tls_context(),
            )
        return self._client

    def _check_backoff(self) -> None:
        # The same words as the failure itself, so that the editor, which reports a message once,
        # stays quiet while the backoff lasts; info() says when the next try is.
        if self.next_retry_at is not None and time.time() < self.next_retry_at:
            raise ServerRefused(self.last_error or "the model server failed", self.server_state,
                                retry_at=self.next_retry_at)

    def _key_hint(self) -> str:
        if self.config.api_key_env:
            return f"the key in ${self.config.api_key_env} (model.apiKeyEnv)"
        return "no key (model.apiKeyEnv is empty)"

    def _refused(self, what: str, status: int, text: str, headers: httpx.Headers | None = None) -> ServerRefused:
        """One clear message per kind of refusal, and the backoff that kind deserves."""
        detail = _server_message(text)
        now = time.time()
        if status in (401, 403):
            self.server_state, wait = KEY_REJECTED, KEY_REJECTED_BACKOFF_S
            message = (f"the model server at {self.base_url} rejected {self._key_hint()} ({status}: {detail}); "
                       "ask your platform team for a key or check the variable; kura tries again each minute")
        elif status == 429:
            given = retry_after_seconds(headers.get("retry-after") if headers is not None else None, now)
            self._backoff_s = min(BACKOFF_MAX_S, self._backoff_s * 2 if self._backoff_s else BACKOFF_START_S)
            self.server_state, wait = RATE_LIMITED, given if given is not None else self._backoff_s
            message = (f"the model server at {self.base_url} is rate limiting this key (429); kura pauses "
                       "requests for as long as the server asks (Retry-After)")
        elif status in (502, 503, 504):
            self._backoff_s = min(BACKOFF_MAX_S, self._backoff_s * 2 if self._backoff_s else BACKOFF_START_S)
            self.server_state, wait = ENGINE_DOWN, self._backoff_s
            message = (f"the model server at {self.base_url} answered {status} to {what}: no model engine behind "
                       f"it is answering ({detail}); tell your platform team (kura retries with backoff)")
        else:
            self.server_state = BAD_REQUEST
            self.last_error = (f"the model server at {self.base_url} answered {status} to {what}: {detail}; "
                               "check model.modelName and the server's log")
            return ServerRefused(self.last_error, BAD_REQUEST, status)
        self.next_retry_at = now + wait
        self.last_error = message
        log.warning("%s", message)
        return ServerRefused(message, self.server_state, status, self.next_retry_at)

    def _failed(self, what: str, exc: Exception) -> ModelError:
        self._backoff_s = min(BACKOFF_MAX_S, self._backoff_s * 2 if self._backoff_s else BACKOFF_START_S)
        self.next_retry_at = time.time() + self._backoff_s
        self.server_state = UNREACHABLE
        if isinstance(exc, httpx.TimeoutException):
            reason = "timed out"
        elif "CERTIFICATE_VERIFY_FAILED" in str(exc):
            reason = (f"is unreachable: its TLS certificate is not trusted ({exc}); install the company CA in the "
                      "system's trust store or point SSL_CERT_FILE at it")
        elif isinstance(exc, httpx.TransportError):
            reason = f"is unreachable ({type(exc).__name__}: {exc})"
        else:
            reason = f"failed ({exc})"
        self.last_error = (
            f"the model server at {self.base_url} {reason} during {what}; start it or fix "
            "model.serverUrl (kura retries with backoff)"
        )
        log.warning(self.last_error)
        return ModelError(self.last_error)

    def _succeeded(self) -> None:
        self.last_error = None
        self.next_retry_at = None
        self._backoff_s = 0.0
        self.server_state = OK

    # -- ModelBackend -----------------------------------------------------------------------

    def load(self) -> None:
        """Check the server answers (GET /v1/models) and learn its model name if none was set."""
        with self._lock:
            self._check_backoff()
            client = self._http()
            try:
                response = client.get("/v1/models")
            except httpx.HTTPError as exc:
                raise self._failed("GET /v1/models", exc) from exc
            if response.status_code >= 400:
                raise self._refused("GET /v1/models", response.status_code, response.text, response.headers)
            self._succeeded()
            try:
                models = response.json().get("data") or []
            except ValueError:
                models = []
            self.served_models = [str(m.get("id", "")) for m in models if isinstance(m, dict)]
            if not self.model_name and models:
                self.model_name = str(models[0].get("id", ""))
            self._loaded = True

    def generate(
        self,
        request: GenerationRequest,
        cancel: CancelToken | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> GenerationResult:
        with self._lock:
            self._check_backoff()
            started = time.perf_counter()
            cancel = cancel or CancelToken()
            if cancel.cancelled:
                return GenerationResult(text="", stop_reason=CANCELLED)
            body: dict[str, Any] = {
                "max_tokens": request.max_tokens,
                "temperature": request.temperature,
                "stream": True,
                "stream_options": {"include_usage": True},
                # llama.cpp's servers keep each slot's KV cache and reuse the longest common prefix
                # (the default of llama-server, said outright for the others); vLLM ignores the field
                # and reuses prefixes itself with --enable-prefix-caching.
                "cache_prompt": True,
            }
            if self.model_name:
                body["model"] = self.model_name
            if request.stop:
                body["stop"] = list(request.stop)[:4]  # the OpenAI API allows at most four
            if request.messages is not None:
                path, body["messages"] = "/v1/chat/completions", request.messages
            else:
                path, body["prompt"] = "/v1/completions", request.prompt
            return self._stream(path, body, request, cancel, on_text, started)

    def _stream(
        self,
        path: str,
        body: dict[str, Any],
        request: GenerationRequest,
        cancel: CancelToken,
        on_text: Callable[[str], None] | None,
        started: float,
    ) -> GenerationResult:
        """Read the stream on a helper thread and consume its events here, so that a cancel returns
        at once even while the read is blocked (waiting for headers or the next token); the
        helper then shuts the socket down, which tells the server to stop too."""
        reader = _StreamReader(self._http(), path, body)
        unregister = cancel.on_cancel(reader.abort)
        threading.Thread(target=reader.run, name="kura-openai-stream", daemon=True).start()
        scanner = StopScanner(request.stop)
        stop_reason = STOP
        generated = 0
        first_token_ms: float | None = None
        usage: dict[str, Any] = {}
        timings: dict[str, Any] = {}
        try:
            while True:
                kind, payload = reader.events.get()
                if cancel.cancelled or kind == "aborted":
                    stop_reason = CANCELLED
                    break
                if kind == "status":
                    status, text, headers = payload
                    raise self._refused(f"POST {path}", status, text, headers)
                if kind == "error":
                    raise self._failed(f"POST {path}", payload)
                if kind == "done":
                    break
                if kind == "connected":
                    self._succeeded()
                    continue
                event = payload
                usage = event.get("usage") or usage
                timings = event.get("timings") or timings
                choices = event.get("choices") or []
                if not choices:
                    continue
                choice = choices[0]
                piece = choice.get("text")
                if piece is None:
                    piece = (choice.get("delta") or {}).get("content") or ""
                if piece:
                    generated += 1
                    if first_token_ms is None:
                        first_token_ms = (time.perf_counter() - started) * 1000
                    out = scanner.feed(piece)
                    if out and on_text:
                        on_text(out)
                    reason = early_stop(scanner, cancel, request)
                    if reason:
                        stop_reason = reason
                        break
                finish = choice.get("finish_reason")
                if finish:
                    stop_reason = LENGTH if finish == "length" else STOP
        finally:
            unregister()
            reader.abort()  # no-op when the stream already ended
        tail = scanner.finish()
        if tail and on_text:
            on_text(tail)
        reused = reused_prompt_tokens(usage, timings)
        result = GenerationResult(
            text=scanner.text,
            stop_reason=stop_reason,
            prompt_tokens=int(usage.get("prompt_tokens") or timings.get("prompt_n", 0) + timings.get("cache_n", 0)),
            reused_tokens=reused or 0,
            generated_tokens=int(usage.get("completion_tokens") or generated),
            model_ms=(time.perf_counter() - started) * 1000,
            first_token_ms=first_token_ms,
        )
        self.last_reused_tokens = reused
        for key, value in (("requests", 1), ("prompt_tokens", result.prompt_tokens),
                           ("reused_tokens", result.reused_tokens), ("generated_tokens", result.generated_tokens)):
            self.totals[key] += value
        return result

    def count_tokens(self, text: str) -> int:
        """Exact via the server's tokenizer (`/extras/tokenize` of llama_cpp.server, `/tokenize` of
        llama-server) when it has one; otherwise an estimate of ~3.5 characters per token."""
        with self._lock:
            if self._tokenize_endpoint is not False and (self.next_retry_at is None or time.time() >= self.next_retry_at):
                candidates = [self._tokenize_endpoint] if self._tokenize_endpoint else ["/extras/tokenize", "/tokenize"]
                for endpoint in candidates:
                    try:
                        body = {"input": text} if endpoint == "/extras/tokenize" else {"content": text}
                        if endpoint == "/extras/tokenize" and self.model_name:
                            body["model"] = self.model_name
                        response = self._http().post(endpoint, json=body)
                    except httpx.HTTPError:
                        break  # unreachable: estimate now, probe again next time
                    if response.status_code == 200:
                        tokens = response.json().get("tokens")
                        if isinstance(tokens, list):
                            self._tokenize_endpoint = endpoint
                            return len(tokens)
                else:
                    self._tokenize_endpoint = False
            return max(1, round(len(text) / 3.5)) if text else 0

    def fim_template(self) -> FimTemplate | None:
        """The template settings name; with "auto", one read from `model.path` if it points at the
        GGUF the server runs; otherwise none (the server's model is opaque to kura)."""
        if self._template is None:
            forced = (self.config.fim_template or AUTO).strip().lower()
            if forced != AUTO or (self.config.path and os.path.isfile(self.config.path)):
                try:
                    self._template = detect_fim_from_gguf(self.config.path, forced)
                except (OSError, ValueError) as exc:
                    log.warning("could not read FIM tokens from %s: %s", self.config.path, exc)
        return self._template

    def info(self) -> dict[str, Any]:
        template = self.fim_template()
        return {
            "backend": self.name,
            "server_url": self.base_url,
            "model": self.model_name,
            "loaded": self._loaded,
            "fim_template": template.name if template else None,
            "last_error": self.last_error,
            "server_state": self.server_state,
            "api_key_env": self.config.api_key_env or None,
            "next_retry_at": self.next_retry_at,
            "retry_in_s": max(0.0, self.next_retry_at - time.time()) if self.next_retry_at else None,
            # The engine's KV/prefix cache: prompt tokens it did not evaluate again (None where the
            # engine does not report it).
            "last_reused_tokens": self.last_reused_tokens,
            "server_totals": dict(self.totals),
        }

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        self._loaded = False


def tls_context() -> ssl.SSLContext:
    """Server certificates are checked against the system's trust store, where a company installs
    its own CA (SSL_CERT_FILE / SSL_CERT_DIR replace it, as for OpenSSL); Python builds without one
    (macOS) fall back to certifi's public CAs."""
    context = ssl.create_default_context()
    if not context.cert_store_stats().get("x509_ca"):
        import certifi

        context.load_verify_locations(certifi.where())
    return context


def reused_prompt_tokens(usage: dict[str, Any], timings: dict[str, Any]) -> int | None:
    """Prompt tokens the engine took from its KV/prefix cache, where it says: llama-server's
    `timings.cache_n`, or the OpenAI field vLLM fills (`usage.prompt_tokens_details.cached_tokens`,
    with --enable-prompt-tokens-details). None when the engine does not report it."""
    if "cache_n" in timings:
        return int(timings.get("cache_n") or 0)
    details = usage.get("prompt_tokens_details") or {}
    if isinstance(details, dict) and details.get("cached_tokens") is not None:
        return int(details["cached_tokens"])
    return None


@dataclass
class ServerProbe:
    """What `probe_server` found: reachable, key accepted, the model, and how fast."""

    url: str
    state: str = UNREACHABLE  # OK or the kind of failure (the constants above)
    reachable: bool = False
    key_accepted: bool | None = None  # None: nothing answered that could say
    models: list[str] = field(default_factory=list)
    model: str | None = None  # the model kura will ask for
    model_found: bool | None = None  # None: model.modelName is empty (kura takes the server's first)
    list_ms: float | None = None  # GET /v1/models, round trip
    first_token_ms: float | None = None  # a one-token completion
    completion_ms: float | None = None
    reused_tokens: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.state == OK and self.model_found is not False


def probe_server(config: ModelConfig, *, transport: httpx.BaseTransport | None = None,
                 generate: bool = True) -> ServerProbe:
    """Check the configured server the way kura will use it: GET /v1/models with the key from
    model.apiKeyEnv, then (with generate) a one-token completion. Never raises; a failure is in
    `state` and `error`, worded as the editor would show it."""
    backend = OpenAIBackend(config, transport=transport)
    probe = ServerProbe(url=backend.base_url)
    try:
        started = time.perf_counter()
        try:
            backend.load()
        except ModelError as exc:
            probe.state, probe.error = backend.server_state, str(exc)
            probe.reachable = backend.server_state not in (UNREACHABLE, NOT_CONFIGURED, KEY_MISSING)
            probe.key_accepted = False if backend.server_state == KEY_REJECTED else None
            return probe
        probe.list_ms = round((time.perf_counter() - started) * 1000, 1)
        probe.reachable, probe.key_accepted = True, True
        probe.models = list(backend.served_models)
        probe.model = backend.model_name or None
        if config.model_name:
            probe.model_found = config.model_name in probe.models
            if not probe.model_found:
                probe.error = (f"model.modelName {config.model_name!r} is not served at {backend.base_url}; "
                               f"it serves: {', '.join(probe.models) or 'nothing'}")
        if generate:
            try:
                result = backend.generate(GenerationRequest(prompt="def ", max_tokens=1, temperature=0.0))
            except ModelError as exc:
                probe.state, probe.error = backend.server_state, str(exc)
                return probe
            probe.first_token_ms = round(result.first_token_ms, 1) if result.first_token_ms is not None else None
            probe.completion_ms = round(result.model_ms, 1)
            probe.reused_tokens = backend.last_reused_tokens
        probe.state = OK
        return probe
    finally:
        backend.close()


class _StreamReader:
    """One streamed POST read on its own thread, delivered as (kind, payload) events:
    "connected", "event" (a parsed SSE payload), "status" (an HTTP error), "error", "done",
    "aborted". abort() may be called from any thread at any time."""

    def __init__(self, client: httpx.Client, path: str, body: dict[str, Any]) -> None:
        self.client, self.path, self.body = client, path, body
        self.events: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._aborted = False
        self._finished = False
        self._sockets: list[Any] = []

    def abort(self) -> None:
        with self._lock:
            if self._aborted or self._finished:
                return
            self._aborted = True
            sockets = list(self._sockets)
        self.events.put(("aborted", None))
        for sock in sockets:
            try:  # shutdown (unlike close) wakes a recv() blocked in the reader thread
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _trace(self, event: str, info: dict[str, Any]) -> None:
        # httpcore reports each new connection; remember its socket so abort() can shut it down
        # even before the response headers arrive.
        if event.endswith(("connect_tcp.complete", "start_tls.complete")):
            self._remember(info.get("return_value"))

    def _remember(self, network_stream: Any) -> None:
        sock = network_stream.get_extra_info("socket") if network_stream is not None else None
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            aborted = self._aborted
        if aborted:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def run(self) -> None:
        try:
            with self.client.stream("POST", self.path, json=self.body, extensions={"trace": self._trace}) as response:
                self._remember(response.extensions.get("network_stream"))  # a reused connection
                if self._aborted:
                    return
                if response.status_code >= 400:
                    response.read()
                    self.events.put(("status", (response.status_code, response.text, response.headers)))
                    return
                self.events.put(("connected", None))
                for event in _sse_events(response.iter_lines()):
                    if self._aborted:
                        return
                    self.events.put(("event", event))
            self.events.put(("done", None))
        except Exception as exc:  # noqa: BLE001 - every failure is reported to the consumer
            if not self._aborted:
                self.events.put(("error", exc))
        finally:
            with self._lock:
                self._finished = True
                self._sockets.clear()


def _sse_events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """The JSON payloads of a server-sent-events stream, until `data: [DONE]`."""
    data: list[str] = []
    for line in lines:
        if line.startswith("data:"):
            data.append(line[5:].lstrip())
            payload = data[-1]
            # Servers send one JSON object per event on a single line; parse it right away rather
            # than waiting for the blank line, so a chunk reaches the editor as soon as it arrives.
            if payload == "[DONE]":
                return
            try:
                yield json.loads("".join(data))
                data = []
            except ValueError:
                continue  # a payload split over several data: lines
        elif not line.strip():
            data = []
        # comments (":"), "event:", "id:" lines carry nothing we need

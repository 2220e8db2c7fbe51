"""The default backend: llama-cpp-python in-process, loaded once, driven token by token.

Consecutive requests share their longest common token prefix through the KV cache (only the new
tail of the prompt is evaluated, which is what makes completion-while-typing fast), and a cancel
token or `should_stop` ends generation between two tokens.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from assistant.models.base import (
    CANCELLED,
    LENGTH,
    CancelToken,
    GenerationRequest,
    GenerationResult,
    ModelError,
    stream_tokens,
)
from assistant.models.fim import AUTO, FimTemplate, ModelFacts, detect_fim, read_gguf_header
from assistant.models.config import ModelConfig
from assistant.models.traits import model_traits

log = logging.getLogger(__name__)
native_log = logging.getLogger("llama_cpp.native")
_log_callback: Any = None

# Prompt tokens evaluated between two looks at `cancel`. llama.cpp evaluates a batch (512 tokens)
# without a pause, seconds on a slow CPU: a superseded request or a warm-up would hold the model
# that long. A cancelled prefill keeps what it evaluated, so the next prompt reuses it.
PREFILL_CHUNK = 128

# Used when a GGUF carries no chat template of its own.
GEMMA_CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}"
    "{% set role = 'model' if m['role'] == 'assistant' else 'user' %}"
    "<start_of_turn>{{ role }}\n{{ m['content'] | trim }}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
PLAIN_CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)


def route_native_logs() -> None:
    """Send llama.cpp's C-level log lines to `logging` (DEBUG, logger "llama_cpp.native") instead
    of stderr. llama-cpp-python's own callback maps the levels of this llama.cpp wrongly and
    prints warnings even when not verbose."""
    global _log_callback
    if _log_callback is not None:
        return
    import ctypes

    import llama_cpp

    @llama_cpp.llama_log_callback
    def callback(level: int, text: bytes, user_data: Any) -> None:
        if native_log.isEnabledFor(logging.DEBUG):
            native_log.debug("%s", text.decode("utf-8", errors="replace").rstrip("\n"))

    llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))
    _log_callback = callback  # ctypes needs the callback object kept alive


def resolve_model_path(config: ModelConfig) -> Path:
    """The GGUF to load: `config.path`, or the embedded model when it is empty."""
    if config.path:
        return Path(os.path.expanduser(config.path))
    from assistant.models.embedded import embedded_model_path

    return embedded_model_path()


def check_model_file(path: Path) -> None:
    """Raise a ModelError that names `path` and the fix when it is missing or not a GGUF."""
    if not path.exists():
        raise ModelError(
            f"model file not found: {path}; set model.path to a GGUF file (e.g. a Qwen2.5-Coder "
            "GGUF from Hugging Face), or leave it empty to use the embedded Gemma 3 270M"
        )
    if not path.is_file():
        raise ModelError(f"model.path points at {path}, which is not a file; point it at a .gguf file")
    try:
        read_gguf_header(path, with_tokens=False)
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"model file {path} is not a usable GGUF ({exc}); it may be truncated or corrupt: "
            "download it again, or point model.path at another GGUF"
        ) from exc


def render_chat(
    messages: list[dict[str, str]], template: str | None, architecture: str, bos: str, eos: str
) -> tuple[str, tuple[str, ...]]:
    """Apply a chat template (the GGUF's own, else a family default); returns (prompt, stops)."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    stops: tuple[str, ...] = (eos,) if eos else ()
    if not template:
        if architecture.startswith("gemma"):
            template, stops = GEMMA_CHAT_TEMPLATE, (*stops, "<end_of_turn>")
        else:
            template, stops = PLAIN_CHAT_TEMPLATE, (*stops, "\nuser:")
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)

    def raise_exception(message: str) -> None:
        raise ModelError(f"the model's chat template rejected the messages: {message}")

    prompt = env.from_string(template).render(
        messages=messages, bos_token=bos, eos_token=eos, add_generation_prompt=True,
        raise_exception=raise_exception,
    )
    return prompt, stops


class LlamaCppBackend:
    """A GGUF model in this process via llama-cpp-python. Not thread-safe: use one thread
    (ModelWorker); a lock guards against accidental concurrent use."""

    name = "llama_cpp"

    def __init__(self, config: ModelConfig | None = None) -> None:
        self.config = config or ModelConfig()
        self.path: Path | None = None
        self._llama: Any = None
        self._lock = threading.RLock()
        self._metadata: dict[str, Any] = {}
        self._template: FimTemplate | None = None
        self._template_known = False
        self.load_ms: float | None = None
        self.last_error: str | None = None

    # -- loading ----------------------------------------------------------------------------

    def load(self) -> None:
        with self._lock:
            if self._llama is not None:
                return
            try:
                self._load()
                self.last_error = None
            except ModelError as exc:
                self.last_error = str(exc)
                raise

    def _load(self) -> None:
        try:
            import llama_cpp
        except ImportError as exc:
            raise ModelError(
                f"llama-cpp-python is not installed ({exc}); install it with `pip install llama-cpp-python`, "
                "or set model.backend to 'openai' or 'ctransformers'"
            ) from exc
        path = resolve_model_path(self.config)
        check_model_file(path)
        metadata, _ = read_gguf_header(path, with_tokens=False)
        architecture = str(metadata.get("general.architecture", ""))
        threads = self.config.resolved_threads
        kwargs: dict[str, Any] = {
            "model_path": str(path),
            "n_ctx": self.config.context_tokens,
            "n_threads": threads,
            "n_threads_batch": threads,
        }
        if metadata.get(f"{architecture}.attention.sliding_window"):
            # Sliding-window layers drop old cells, which would make rolling back to a shared
            # prefix unsound; the full-size SWA cache keeps prefix reuse exact.
            kwargs["swa_full"] = True
        route_native_logs()
        started = time.perf_counter()
        captured = io.StringIO()
        try:
            # verbose=True only so that llama-cpp-python does not point fds 1 and 2 at /dev/null
            # while it loads (its verbose=False does): in a stdio language server fd 1 carries the
            # protocol, and messages the event loop writes meanwhile would be lost. llama.cpp's own
            # logs go to `logging` (route_native_logs); the few Python prints are captured here.
            with contextlib.redirect_stderr(captured):
                llama = llama_cpp.Llama(**kwargs, verbose=True)
            llama.verbose = False
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(
                f"llama.cpp could not load {path} ({exc}); the file may be corrupt, truncated, or for an "
                "architecture this llama-cpp-python does not know: download it again or choose another GGUF"
            ) from exc
        finally:
            if captured.getvalue():
                native_log.debug("%s", captured.getvalue().rstrip())
        self.load_ms = (time.perf_counter() - started) * 1000
        self._llama, self.path = llama, path
        self._metadata = {**metadata, **{k: v for k, v in (llama.metadata or {}).items() if k not in metadata}}
        log.info("loaded %s in %.0f ms (%d threads, n_ctx %d)", path, self.load_ms, threads, self.config.context_tokens)

    @property
    def llama(self) -> Any:
        """The underlying `llama_cpp.Llama` (loads it first)."""
        self.load()
        return self._llama

    # -- generation -------------------------------------------------------------------------

    def generate(
        self,
        request: GenerationRequest,
        cancel: CancelToken | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> GenerationResult:
        with self._lock:
            self.load()
            started = time.perf_counter()
            llama = self._llama
            stop = request.stop
            if request.messages is not None:
                prompt, chat_stops = self._render_chat(request.messages)
                stop = tuple(dict.fromkeys((*stop, *chat_stops)))
                bos = self._token_text(llama.token_bos())
                tokens = llama.tokenize(prompt.encode(), add_bos=not (bos and prompt.startswith(bos)), special=True)
            else:
                tokens = llama.tokenize((request.prompt or "").encode(), add_bos=True, special=True)
            if not tokens:
                tokens = [llama.token_bos()]
            # llama.cpp may round n_ctx up; the Python-side token buffer keeps the requested size.
            capacity = min(llama.n_ctx(), len(llama.input_ids))
            room = capacity - len(tokens)
            if room <= 0:
                raise ModelError(
                    f"the prompt has {len(tokens)} tokens but the context holds {capacity}; "
                    "shorten the context or raise model.contextTokens"
                )
            max_tokens = min(request.max_tokens, room)
            reused = self._reuse_prefix(tokens)

            cancel = cancel or CancelToken()
            if cancel.cancelled or max_tokens <= 0:
                return GenerationResult("", CANCELLED if cancel.cancelled else LENGTH, len(tokens), 0, 0,
                                        (time.perf_counter() - started) * 1000, None)
            sampling = {"temp": request.temperature, "top_k": 40, "top_p": 0.95, "min_p": 0.05,
                        "repeat_penalty": request.repeat_penalty}
            if request.temperature <= 0:
                sampling.update(temp=0.0, top_k=1)
            pending = tokens[reused:]
            read = 0
            reading = time.perf_counter()
            for start in range(0, len(pending) - 1, PREFILL_CHUNK):  # the last one: generate() samples after it
                if cancel.cancelled:
                    return GenerationResult("", CANCELLED, len(tokens), reused, 0, (time.perf_counter() - started) * 1000,
                                            None, read, (time.perf_counter() - reading) * 1000)
                read = min(start + PREFILL_CHUNK, len(pending) - 1)
                llama.eval(pending[start:read])
            read_ms = (time.perf_counter() - reading) * 1000
            result = stream_tokens(
                llama.generate(pending[-1:], reset=False, **sampling),
                lambda token: llama.detokenize([token], special=True),
                request, cancel, on_text, stop=stop, max_tokens=max_tokens, started=started,
                prompt_tokens=len(tokens), reused_tokens=reused, is_end=self._is_eog,
                exhausted=LENGTH,  # llama.generate never ends by itself
            )
            return replace(result, read_tokens=read, read_ms=read_ms)

    def _is_eog(self, token: int) -> bool:
        import llama_cpp

        return bool(llama_cpp.llama_vocab_is_eog(self._llama._model.vocab, token))

    def _reuse_prefix(self, tokens: list[int]) -> int:
        """Keep the KV cache for the longest common token prefix with what it holds; returns how
        many prompt tokens will not be evaluated again.

        Done here rather than by `Llama.generate(reset=True)` so that the number is exact: at least
        one prompt token is always evaluated (sampling needs fresh logits), and if llama.cpp
        refuses a partial removal the cache is cleared and 0 is reported.
        """
        llama = self._llama
        cached = llama._input_ids
        limit = min(len(cached), len(tokens) - 1)
        common = 0
        while common < limit and cached[common] == tokens[common]:
            common += 1
        if common > 0 and llama._ctx.kv_cache_seq_rm(-1, common, -1):
            llama.n_tokens = common
            llama._requires_eval = True
            return common
        llama.reset()
        return 0

    def _render_chat(self, messages: list[dict[str, str]]) -> tuple[str, tuple[str, ...]]:
        llama = self._llama
        template = self._metadata.get("tokenizer.chat_template")
        architecture = str(self._metadata.get("general.architecture", ""))
        return render_chat(
            messages, template, architecture,
            self._token_text(llama.token_bos()), self._token_text(llama.token_eos()),
        )

    def _token_text(self, token_id: int) -> str:
        if token_id is None or token_id < 0:
            return ""
        return self._llama._model.token_get_text(token_id)

    # -- the rest of the interface ----------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return len(self.llama.tokenize(text.encode(), add_bos=False, special=True))

    def fim_template(self) -> FimTemplate | None:
        with self._lock:
            if not self._template_known:
                forced = self.config.fim_template or AUTO
                if forced.strip().lower() != AUTO:
                    self._template = detect_fim(ModelFacts({}, lambda i: None, lambda t: False), forced)
                else:
                    self._template = detect_fim(self._facts(), forced)
                self._template_known = True
            return self._template

    def _facts(self) -> ModelFacts:
        """FIM facts from the loaded model: its metadata, and its vocab through llama.cpp (which
        avoids reading a 262k-entry token list in Python)."""
        llama = self.llama
        n_vocab = llama.n_vocab()

        def has_token(text: str) -> bool:
            ids = llama.tokenize(text.encode(), add_bos=False, special=True)
            return len(ids) == 1 and self._token_text(ids[0]) == text

        def token_text(token_id: int) -> str | None:
            return self._token_text(token_id) if 0 <= token_id < n_vocab else None

        return ModelFacts(self._metadata, token_text, has_token, vocab_size=n_vocab)

    def info(self) -> dict[str, Any]:
        template = self.fim_template() if self._llama is not None else None
        return {
            "backend": self.name,
            "model_path": str(self.path or self.config.path or "(embedded)"),
            "model_name": str(self._metadata.get("general.name", "")),
            "architecture": str(self._metadata.get("general.architecture", "")),
            "context_tokens": (
                min(self._llama.n_ctx(), len(self._llama.input_ids)) if self._llama is not None
                else self.config.context_tokens
            ),
            "threads": self.config.resolved_threads,
            "fim_template": template.name if template else None,
            "loaded": self._llama is not None,
            "load_ms": self.load_ms,
            "last_error": self.last_error,
            # instruct vs base, size: which prompt style and how much context the tasks give it
            **(self._traits() if self._metadata else {}),
        }

    def _traits(self) -> dict[str, Any]:
        path = self.path
        try:
            size = path.stat().st_size if path is not None else None
        except OSError:
            size = None
        return model_traits(self._metadata, path, size)

    def close(self) -> None:
        with self._lock:
            if self._llama is not None:
                self._llama.close()
                self._llama = None

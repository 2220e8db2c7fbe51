"""The one interface every model backend implements: requests, results, cancellation, errors.

A backend is blocking and single-threaded by design; `ModelWorker` (worker.py) puts it on its own
thread so that the event loop never waits on a model.
"""

from __future__ import annotations

import codecs
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from assistant.models.fim import FimTemplate

# Why a generation ended.
STOP = "stop"  # end-of-generation token or a stop string
LENGTH = "length"  # max_tokens reached
CANCELLED = "cancelled"  # the CancelToken fired
CALLBACK = "callback"  # request.should_stop returned True


@dataclass
class GenerationRequest:
    """What to generate. Exactly one of `prompt` and `messages` is set.

    prompt: the raw prompt, FIM already applied by the caller (see `FimTemplate.render`).
    messages: chat messages `[{"role": ..., "content": ...}]`; the backend applies the model's own
        chat template (from GGUF metadata, or the server's).
    stop: strings that end generation; the returned text stops before them.
    should_stop: called with the text generated so far after each token; True ends generation with
        stop_reason "callback" (the text it was given is kept).
    on_prompt: called once with (prompt_tokens, reused_tokens) when the prompt is known, before the
        first token, so that a caller that ends generation early still knows what it cost.
    repeat_penalty: >1 makes tokens already in the context less likely (a small base model decoding
        greedily falls into loops without it); 1.0 leaves the distribution alone. Local backends only.
    """

    prompt: str | None = None
    messages: list[dict[str, str]] | None = None
    max_tokens: int = 128
    temperature: float = 0.0
    stop: tuple[str, ...] = ()
    should_stop: Callable[[str], bool] | None = None
    on_prompt: Callable[[int, int], None] | None = None
    repeat_penalty: float = 1.0

    def __post_init__(self) -> None:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("GenerationRequest needs exactly one of prompt= or messages=")
        self.stop = tuple(s for s in self.stop if s)


@dataclass
class GenerationResult:
    """What came out, and what it cost.

    prompt_tokens: tokens in the prompt as the model saw it (after the chat template).
    reused_tokens: prompt tokens not evaluated again because the KV cache already held them
        (the longest common token prefix with the previous request); 0 when unknown.
    generated_tokens: tokens sampled (including one that hit a stop string).
    model_ms: wall time inside the backend; first_token_ms: until the first token (None if none).
    read_tokens, read_ms: prompt tokens evaluated and the time that took, a read cancelled halfway
        included: how fast this model reads on this machine now (local backends; 0 when unknown).
    """

    text: str
    stop_reason: str
    prompt_tokens: int = 0
    reused_tokens: int = 0
    generated_tokens: int = 0
    model_ms: float = 0.0
    first_token_ms: float | None = None
    read_tokens: int = 0
    read_ms: float = 0.0


class CancelToken:
    """A thread-safe, one-way cancel flag; backends check it between tokens.

    `on_cancel(fn)` registers a callback run (once, on the cancelling thread) when the token fires,
    so that a backend blocked in I/O (an HTTP stream) can be interrupted too.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], Any]] = []

    def cancel(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # a callback failing must not stop the others
                pass

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def on_cancel(self, callback: Callable[[], Any]) -> Callable[[], None]:
        """Run `callback` when cancelled (now, if already). Returns a function that unregisters it."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return lambda: self._remove(callback)
        callback()
        return lambda: None

    def _remove(self, callback: Callable[[], Any]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)


class ModelError(Exception):
    """A model could not be loaded or called. The message says what failed, which path or URL, and
    how to fix it; it is meant to be shown to the user as is."""


@runtime_checkable
class ModelBackend(Protocol):
    """A model behind one interface. All methods are blocking; call them from one thread.

    load() raises ModelError (a missing file says which path was tried and how to get one);
    generate() calls load() itself when needed, checks `cancel` and `request.should_stop` between
    tokens, and calls `on_text` with each new piece of text (never text past a stop string).
    """

    name: str

    def load(self) -> None: ...

    def generate(
        self,
        request: GenerationRequest,
        cancel: CancelToken | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> GenerationResult: ...

    def count_tokens(self, text: str) -> int: ...

    def fim_template(self) -> FimTemplate | None: ...

    def info(self) -> dict[str, Any]: ...

    def close(self) -> None: ...


class StopScanner:
    """Streams generated text while holding back anything that might be the start of a stop string.

    feed(piece) returns the text that is now safe to emit, and sets `stopped` when a stop string
    appeared (the text is cut before it). finish() returns what was held back.
    """

    def __init__(self, stop: tuple[str, ...]) -> None:
        self.stop = stop
        self.text = ""  # everything accepted so far (cut at a stop string)
        self._emitted = 0
        self.stopped = False

    def feed(self, piece: str) -> str:
        if self.stopped:
            return ""
        search_from = max(0, len(self.text) - max((len(s) for s in self.stop), default=0))
        self.text += piece
        cut = min(
            (i for i in (self.text.find(s, search_from) for s in self.stop) if i >= 0), default=-1
        )
        if cut >= 0:
            self.text = self.text[:cut]
            self.stopped = True
            return self._flush(len(self.text))
        hold = 0
        for s in self.stop:
            for n in range(min(len(s) - 1, len(self.text)), 0, -1):
                if self.text.endswith(s[:n]):
                    hold = max(hold, n)
                    break
        return self._flush(len(self.text) - hold)

    def finish(self) -> str:
        return self._flush(len(self.text))

    def _flush(self, upto: int) -> str:
        if upto <= self._emitted:
            return ""
        out = self.text[self._emitted : upto]
        self._emitted = upto
        return out


def early_stop(scanner: "StopScanner", cancel: "CancelToken", request: "GenerationRequest") -> str | None:
    """Why generation must end after the text fed so far: a stop string, a cancel, or the
    request's own callback; None to go on. Shared by every backend's token loop."""
    if scanner.stopped:
        return STOP
    if cancel.cancelled:
        return CANCELLED
    if request.should_stop and request.should_stop(scanner.text):
        return CALLBACK
    return None


def stream_tokens(
    tokens: Iterable[int],
    detokenize: Callable[[int], bytes],
    request: GenerationRequest,
    cancel: CancelToken,
    on_text: Callable[[str], None] | None,
    *,
    stop: tuple[str, ...],
    max_tokens: int,
    started: float,
    prompt_tokens: int,
    reused_tokens: int,
    is_end: Callable[[int], bool] = lambda token: False,
    exhausted: str = STOP,
) -> GenerationResult:
    """The token loop local backends share: decode UTF-8 across token boundaries, hold back possible
    stop strings, and end between tokens on a stop string, cancel, `should_stop` or `max_tokens`.

    is_end: an end-of-generation token (not counted, not shown); exhausted: why generation ended
    when `tokens` runs out by itself (a generator that stops at EOS means STOP).
    """
    if request.on_prompt is not None:
        request.on_prompt(prompt_tokens, reused_tokens)
    scanner = StopScanner(stop)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    stop_reason = exhausted
    generated = 0
    first_token_ms: float | None = None
    for token in tokens:
        if first_token_ms is None:
            first_token_ms = (time.perf_counter() - started) * 1000
        if is_end(token):
            stop_reason = STOP
            break
        generated += 1
        piece = decoder.decode(detokenize(token))
        out = scanner.feed(piece) if piece else ""
        if out and on_text:
            on_text(out)
        reason = early_stop(scanner, cancel, request)
        if reason:
            stop_reason = reason
            break
        if generated >= max_tokens:
            stop_reason = LENGTH
            break
    if not scanner.stopped:
        tail = scanner.feed(decoder.decode(b"", final=True)) + scanner.finish()
        if tail and on_text:
            on_text(tail)
    return GenerationResult(
        text=scanner.text, stop_reason=stop_reason, prompt_tokens=prompt_tokens, reused_tokens=reused_tokens,
        generated_tokens=generated, model_ms=(time.perf_counter() - started) * 1000, first_token_ms=first_token_ms,
    )

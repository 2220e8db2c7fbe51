"""`ModelWorker`: one dedicated thread per backend, so that model calls never run on the event loop.

Jobs run one at a time in arrival order. Text streamed by the backend is handed back to the
event loop with `call_soon_threadsafe`, and always before the result it belongs to. A request
given a `key` supersedes (cancels) any older request with the same key, queued or running, and
cancelling the awaiting task cancels the generation between tokens.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from assistant.models.base import CANCELLED, CancelToken, GenerationRequest, GenerationResult, ModelBackend
from assistant.models.prefill import PrefillTracker

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class _Job:
    fn: Callable[[], Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future
    cancel: CancelToken | None = None


class ModelWorker:
    """Runs one backend's blocking calls on its own thread; the async methods are for the loop."""

    def __init__(self, backend: ModelBackend) -> None:
        self.backend = backend
        self.prefill = PrefillTracker()  # what the model has read, and how fast it reads
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._by_key: dict[Hashable, CancelToken] = {}
        self._active: set[CancelToken] = set()
        self._closed = False
        self._thread = threading.Thread(
            target=self._run, name=f"kura-model-{getattr(backend, 'name', 'backend')}", daemon=True
        )
        self._thread.start()

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    async def load(self) -> None:
        """Load the model on the worker thread (raises the backend's ModelError)."""
        await self.call(self.backend.load)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run any blocking backend call (count_tokens, info, ...) on the worker thread."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._submit(_Job(lambda: fn(*args), loop, future))
        return await future

    async def generate(
        self,
        request: GenerationRequest,
        cancel: CancelToken | None = None,
        on_text: Callable[[str], None] | None = None,
        *,
        key: Hashable | None = None,
    ) -> GenerationResult:
        """Generate on the worker thread; `on_text` is called on the event loop with each chunk.

        key: requests sharing a key supersede each other (e.g. one per document): a newer one
        cancels the older, which then returns with stop_reason "cancelled".
        """
        loop = asyncio.get_running_loop()
        cancel = cancel or CancelToken()
        future: asyncio.Future[GenerationResult] = loop.create_future()

        deliver = None
        if on_text is not None:

            def on_loop(chunk: str) -> None:
                if future.done():
                    return
                try:
                    on_text(chunk)
                except Exception:
                    log.exception("on_text callback failed")

            def deliver(chunk: str) -> None:
                try:
                    loop.call_soon_threadsafe(on_loop, chunk)
                except RuntimeError:  # the loop is closed; nobody is listening any more
                    pass

        with self._lock:
            if key is not None:
                older = self._by_key.get(key)
                self._by_key[key] = cancel
            else:
                older = None
            self._active.add(cancel)
        if older is not None:
            older.cancel()

        def run() -> GenerationResult:
            if cancel.cancelled:  # superseded while queued: never touch the model
                return GenerationResult(text="", stop_reason=CANCELLED)
            self.prefill.reading(request.prompt)
            result = self.backend.generate(request, cancel, deliver)
            self.prefill.read(request.prompt, result)
            return result

        self._submit(_Job(run, loop, future, cancel))
        try:
            return await future
        except asyncio.CancelledError:
            cancel.cancel()
            raise
        finally:
            with self._lock:
                self._active.discard(cancel)
                if key is not None and self._by_key.get(key) is cancel:
                    del self._by_key[key]

    def supersede(self, key: Hashable) -> None:
        """Cancel the generation registered under `key` now, queued or running, rather than when a
        newer one with that key is submitted (which may first need the model for other calls)."""
        with self._lock:
            older = self._by_key.pop(key, None)
        if older is not None:
            older.cancel()

    def cancel_all(self) -> None:
        """Cancel every queued and running generation."""
        with self._lock:
            tokens = list(self._active)
        for token in tokens:
            token.cancel()

    def close(self, timeout: float = 10.0) -> None:
        """Cancel what is running, close the backend on its own thread, and stop the thread."""
        if self._closed:
            return
        self._closed = True
        self.cancel_all()
        self._jobs.put(None)
        self._thread.join(timeout)

    def _submit(self, job: _Job) -> None:
        if self._closed:
            raise RuntimeError("ModelWorker is closed")
        self._jobs.put(job)

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                break
            if job.future.done():  # the awaiting task was cancelled before we got here
                continue
            try:
                outcome, failed = job.fn(), False
            except BaseException as exc:  # handed to the awaiting task, which decides
                outcome, failed = exc, True
            try:
                job.loop.call_soon_threadsafe(_settle, job.future, outcome, failed)
            except RuntimeError:
                pass
        try:
            self.backend.close()
        except Exception:
            log.exception("closing the model backend failed")


def _settle(future: asyncio.Future, outcome: Any, failed: bool) -> None:
    if future.done():
        return
    if failed:
        future.set_exception(outcome)
    else:
        future.set_result(outcome)

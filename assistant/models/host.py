"""`ModelHost`: the one model a session uses, created from settings, loaded once on its own worker
thread, shared by every task (completion, explanation, fix), and swapped when its settings change.

A load failure is kept and reported (`status()`); loading is tried again after a pause, or at once
when the settings change, so a missing model never costs a stalled keystroke each time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Hashable
from typing import Any

from assistant.models.base import GenerationRequest, ModelError
from assistant.models.registry import ModelConfig, create_backend
from assistant.models.worker import ModelWorker
from assistant.settings import ModelSettings

log = logging.getLogger(__name__)
RETRY_LOAD_AFTER_S = 15.0


def model_config(settings: ModelSettings) -> ModelConfig:
    return ModelConfig(
        backend=settings.backend, path=settings.path, server_url=settings.server_url, model_name=settings.name,
        api_key_env=settings.api_key_env, context_tokens=settings.context_tokens, threads=settings.threads,
        fim_template=settings.fim_template, timeout_s=settings.timeout_ms / 1000,
        memory_limit_mb=settings.memory_limit_mb,
    )


class ModelHost:
    def __init__(self, settings: ModelSettings, *, time_reading: bool = False) -> None:
        """time_reading: time how fast a local model reads as it loads (~0.5 s on a 2-core laptop),
        for an editor's completions (in_time.py); batch commands never cut a prompt and skip it."""
        self.settings = settings
        self.time_reading = time_reading
        self._worker: ModelWorker | None = None
        self._loading: asyncio.Task | None = None
        self._error: ModelError | None = None
        self._failed_at = 0.0
        self.load_ms: float | None = None

    async def worker(self) -> ModelWorker:
        """The loaded model's worker; raises ModelError (cached for a while) when it cannot load."""
        if self._worker is not None and self._loading is None:
            return self._worker
        if self._error is not None and time.monotonic() - self._failed_at < RETRY_LOAD_AFTER_S:
            raise self._error
        if self._loading is None:
            self._loading = asyncio.ensure_future(self._load())
        # shield: a cancelled completion must not cancel the load others are waiting for
        return await asyncio.shield(self._loading)

    def supersede(self, key: Hashable) -> None:
        """Cancel the loaded model's generation for `key` (see ModelWorker.supersede)."""
        if self._worker is not None:
            self._worker.supersede(key)

    def preload(self) -> None:
        """Start loading now (e.g. on initialize) so the first suggestion does not pay for it."""
        async def load_quietly() -> None:
            try:
                await self.worker()
            except ModelError:
                pass  # kept in status(); reported when a task needs the model

        asyncio.ensure_future(load_quietly())

    async def _load(self) -> ModelWorker:
        started = time.perf_counter()
        worker = None
        try:
            worker = ModelWorker(create_backend(model_config(self.settings)))
            await worker.load()
            self.load_ms = (time.perf_counter() - started) * 1000
            log.info("model loaded in %.0f ms: %s", self.load_ms, self.describe())
            if self.time_reading and worker.backend.name == "llama_cpp":
                await _time_reading(worker)
        except ModelError as exc:
            self._fail(exc, worker)
            raise
        except Exception as exc:  # a library crash loading a bad file is still the user's model problem
            error = ModelError(f"could not load the model ({self.describe()}): {type(exc).__name__}: {exc}")
            self._fail(error, worker)
            raise error from exc
        finally:
            self._loading = None
        self._worker, self._error = worker, None
        return worker

    def _fail(self, error: ModelError, worker: ModelWorker | None) -> None:
        self._error, self._failed_at = error, time.monotonic()
        if worker is not None:
            worker.close(timeout=1)

    @property
    def error(self) -> ModelError | None:
        return self._error

    def reconfigure(self, settings: ModelSettings) -> None:
        if settings == self.settings:
            return
        self.close()
        self.settings = settings
        self._error = None

    def describe(self) -> str:
        s = self.settings
        if s.backend == "openai":
            return f"openai at {s.server_url or '(no model.serverUrl)'}"
        return f"{s.backend} {s.path or 'embedded Gemma 3 270M'}"

    def status(self) -> dict[str, Any]:
        state = "loaded" if self._worker else "loading" if self._loading else "error" if self._error else "not loaded"
        info: dict[str, Any] = {"state": state, "backend": self.settings.backend, "description": self.describe(),
                                "error": str(self._error) if self._error else None, "loadMs": self.load_ms}
        if self._worker is not None:
            try:
                backend_info = self._worker.backend.info()
                info.update({k: v for k, v in backend_info.items() if _is_json(v)})
                # The documented names (docs/architecture.md) beside the backend's own.
                info.update(name=backend_info.get("model_name"), path=backend_info.get("model_path"),
                            fim=backend_info.get("fim_template"))
                if backend_info.get("process_state") == "restarting":  # the model process crashed
                    info.update(state="restarting", error=backend_info.get("last_crash"))
            except Exception as exc:
                info["infoError"] = str(exc)
        return info

    def close(self) -> None:
        """Stop the model; never waits long (a prompt being evaluated ends at its next token)."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.close(timeout=2)


def _is_json(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, list, dict))


# Code-like text of about a hundred tokens: enough to time how fast the model reads on this machine
# before the first completion has to decide how much of its prompt can be read in time (in_time.py).
READING_PROBE = "def scale(values, factor):\n    return [value * factor for value in values]\n\n" * 4


async def _time_reading(worker: ModelWorker) -> None:
    try:
        await worker.generate(GenerationRequest(prompt=READING_PROBE, max_tokens=1))
    except ModelError as exc:  # the first real request reports it; the speed is then learned from it
        log.info("could not time the model's reading: %s", exc)
    else:
        rate = worker.prefill.tokens_per_s
        log.info("the model reads %s tokens/s here", f"{rate:.0f}" if rate else "an unknown number of")

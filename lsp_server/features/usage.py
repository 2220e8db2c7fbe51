"""The usage log, server side: which suggestions were shown and what became of them, plus each
explanation, fix and escalation. `assistant/usage/log.py` stores it, on this machine only.

Accepts and dismissals come from the editor (`kura/didAcceptCompletion`, `kura/didDismissCompletion`,
or the command on the inline item). A while after an acceptance the document is read again to
measure how many of the accepted characters survived.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.settings import ModelSettings, UsageSettings
from assistant.usage.log import UsageConfig, UsageLog, UsageLogError, default_usage_path, kept_characters

if TYPE_CHECKING:
    from lsp_server.server import KuraServer

log = logging.getLogger(__name__)
MAX_PENDING = 256  # shown suggestions remembered for their accept/dismiss report
DISMISS_REASONS = {"hidden", "typed_over", "replaced", "closed", "moved", "diverged"}


@dataclass
class Shown:
    uri: str
    line: int  # where it was inserted, for measuring what survived
    text: str
    accepted_chars: int = 0
    timer: asyncio.TimerHandle | None = None


def register(server: "KuraServer") -> None:
    server.usage = UsageRecorder(server)
    server.before_shutdown.append(lambda ls: ls.usage.close())


class UsageRecorder:
    def __init__(self, ls: "KuraServer") -> None:
        self.ls = ls
        self._log: UsageLog | None = None
        self._opened_for: tuple | None = None  # (settings, root) the log was opened for
        self._failed_for: tuple | None = None
        self.error: str | None = None
        self._shown: OrderedDict[str, Shown] = OrderedDict()

    # --- the log, (re)opened when its settings change ---------------------------------------

    def log(self) -> UsageLog | None:
        settings: UsageSettings = self.ls.settings.usage
        key = (settings, self.ls.root)
        if not settings.enabled:
            self.close()
            return None
        if key == self._opened_for and self._log is not None:
            return self._log
        if key == self._failed_for:
            return None
        self.close()
        path = Path(settings.path).expanduser() if settings.path else default_usage_path()
        config = UsageConfig(path, retention_days=settings.retention_days, max_bytes=settings.max_megabytes << 20,
                             repo=self.ls.root.name if self.ls.root else None)
        try:
            self._log = UsageLog(config)
        except UsageLogError as exc:
            self._failed_for, self.error = key, f"kura: usage log off: {exc}"
            self.ls.record_error(self.error)  # loses nothing: the file is left as it is
            return None
        self._opened_for, self.error = key, None
        return self._log

    def close(self) -> None:
        for shown in self._shown.values():
            if shown.timer is not None:
                shown.timer.cancel()
        self._shown.clear()
        if self._log is not None:
            self._log.close()
        self._log, self._opened_for = None, None

    def status(self) -> dict[str, Any]:
        usage = self.ls.settings.usage
        path = str(self._log.config.path) if self._log else (usage.path or None)
        return {"enabled": usage.enabled, "path": path, "error": self.error or (self._log and self._log.last_error)}

    # --- suggestions ---------------------------------------------------------------------------

    def shown(self, uri: str, line: int, language: str, outcome: Any) -> None:
        usage = self.log()
        if usage is None:
            return
        path = self.ls.relative_path(uri)
        usage.store_code = self._may_store_code(path)
        usage.suggestion_shown(
            outcome.id, outcome.text, language=language or _language_of(path), model=model_label(self.ls.settings.model),
            backend=self.ls.settings.model.backend, latency_ms=outcome.timings.get("total_ms"),
            mode=outcome.timings.get("mode"), from_cache=outcome.from_cache)
        self._shown[outcome.id] = Shown(uri, line, outcome.text)
        while len(self._shown) > MAX_PENDING:
            _, old = self._shown.popitem(last=False)
            if old.timer is not None:
                old.timer.cancel()

    def accepted(self, suggestion_id: str, accepted_chars: int | None) -> None:
        usage = self.log()
        if usage is None:
            return
        usage.suggestion_accepted(suggestion_id, accepted_chars)
        shown = self._shown.get(suggestion_id)
        if shown is None:
            return
        shown.accepted_chars = len(shown.text) if accepted_chars is None else min(
            len(shown.text), shown.accepted_chars + max(0, accepted_chars))
        if shown.timer is not None:  # measure once, after the last accept
            shown.timer.cancel()
        delay = self.ls.settings.usage.kept_after_seconds
        shown.timer = asyncio.get_running_loop().call_later(delay, self._measure_kept, suggestion_id)

    def dismissed(self, suggestion_id: str, reason: str | None) -> None:
        usage = self.log()
        if usage is None:
            return
        reason = reason if reason in DISMISS_REASONS else "hidden"
        usage.suggestion_dismissed(suggestion_id, "typed_over" if reason == "diverged" else reason)

    def _measure_kept(self, suggestion_id: str) -> None:
        shown = self._shown.pop(suggestion_id, None)
        usage = self._log
        if shown is None or usage is None:
            return
        doc = self.ls.document(shown.uri)  # the open document, or the file as saved
        if doc is None:
            return
        kept = kept_characters(shown.text[: shown.accepted_chars], doc.source, shown.line)
        usage.suggestion_kept(suggestion_id, kept)

    # --- explanations, fixes, escalations ------------------------------------------------------

    def event(self, kind: str, *, uri: str | None = None, started: float | None = None,
              text: str | None = None, **fields: Any) -> None:
        """One explanation, fix or escalation; `started` is a `time.perf_counter()` reading."""
        usage = self.log()
        if usage is None:
            return
        path = self.ls.relative_path(uri) if uri else None
        usage.store_code = self._may_store_code(path)
        if started is not None:
            fields.setdefault("latency_ms", round((time.perf_counter() - started) * 1000, 1))
        fields.setdefault("model", model_label(self.ls.settings.model))
        fields.setdefault("backend", self.ls.settings.model.backend)
        usage.event(kind, language=_language_of(path), text=text, **fields)

    def _may_store_code(self, path: str | None) -> bool:
        """Only when the policy enables it for a pilot, and never for a confidential path."""
        from lsp_server.features.escalation import escalator_for

        try:
            escalator = escalator_for(self.ls)
        except Exception:  # in doubt: no code
            return False
        if escalator is None or not escalator.policy.store_usage_code or escalator.policy.local_only:
            return False
        from assistant.escalation.policy.paths import confidential_glob

        return path is not None and confidential_glob(escalator.policy, path) is None


def model_label(settings: ModelSettings) -> str:
    """A short name for reports: the GGUF's file name, the in-house model's name, or the embedded one."""
    if settings.backend == "openai":
        return settings.name or settings.server_url or "openai"
    return Path(settings.path).stem if settings.path else "gemma-3-270m (embedded)"


def _language_of(path: str | None) -> str | None:
    if not path:
        return None
    from indexer.languages import language_for_path

    language = language_for_path(path)
    return language.name if language else None

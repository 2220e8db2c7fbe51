"""`kura/status`: model, backend, index state and the last error, for status bars and scripts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assistant.settings import to_dict

if TYPE_CHECKING:
    from lsp_server.server import KuraServer

STATUS = "kura/status"


def register(server: "KuraServer") -> None:
    @server.feature(STATUS)
    def status(ls: "KuraServer", params: Any = None) -> dict:
        return server_status(ls)


def server_status(ls: "KuraServer") -> dict:
    index: dict[str, Any] = {"state": ls.index_state, "root": str(ls.root) if ls.root else None,
                             "progress": ls.index_progress or None, "lastUpdate": ls.index_updated_at}
    if ls.index is not None:
        try:
            index.update(ls.index.stats())
        except Exception as exc:  # a locked or broken index must not break the status bar
            index["error"] = str(exc)
    from lsp_server.features.escalation import policy_status

    model = ls.completions.status() if ls.completions is not None else {"state": "not started"}
    return {
        "version": ls.version,
        "model": model,
        "backend": ls.settings.model.backend,
        "completionsEnabled": ls.settings.completion.enabled,
        "index": index,
        "policy": policy_status(ls),
        "usage": ls.usage.status() if ls.usage is not None else None,
        "lastError": ls.last_error,
        "lastErrorAt": ls.last_error_at,
        "settings": to_dict(ls.settings),
    }

"""Document sync side effects: remember recent edits for context, re-index on save.

pygls keeps the open documents' text itself (incremental sync); these handlers run after it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from lsp_server.server import KuraServer

log = logging.getLogger(__name__)
MAX_RECENT = 20


def register(server: "KuraServer") -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def on_change(ls: "KuraServer", params: types.DidChangeTextDocumentParams) -> None:
        path = ls.relative_path(params.text_document.uri)
        if path is None:
            return
        changes = params.content_changes
        line = getattr(changes[-1], "range", None).start.line if changes and getattr(changes[-1], "range", None) else 0
        ls.recent_edits[path] = (time.time(), line)
        if len(ls.recent_edits) > MAX_RECENT:
            oldest = min(ls.recent_edits, key=lambda p: ls.recent_edits[p][0])
            del ls.recent_edits[oldest]

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def on_save(ls: "KuraServer", params: types.DidSaveTextDocumentParams) -> None:
        for hook in ls.after_save:
            result = hook(ls, params.text_document.uri)
            if asyncio.iscoroutine(result):
                await result
        path = ls.relative_path(params.text_document.uri)
        if path is None or ls.index is None:
            return
        try:
            await ls.in_index_thread(lambda: ls.index.update(paths=[path]))
            ls.index_updated()
        except Exception as exc:
            ls.record_error(f"kura: could not re-index {path}: {exc}")

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def on_close(ls: "KuraServer", params: types.DidCloseTextDocumentParams) -> None:
        if ls.completions is not None:
            ls.completions.forget(params.text_document.uri, ls.relative_path(params.text_document.uri))

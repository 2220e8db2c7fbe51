"""Initialize and shutdown, settings (initializationOptions, re-pulled on change), and the index's
life: opened or built with `$/progress` on initialize, kept fresh by the watcher."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from assistant.settings import Settings, parse_settings
from lsp_server.plumbing import spawn

if TYPE_CHECKING:
    from lsp_server.server import KuraServer

log = logging.getLogger(__name__)


def register(server: "KuraServer") -> None:
    @server.feature(types.INITIALIZE)
    def on_initialize(ls: "KuraServer", params: types.InitializeParams) -> None:
        ls.locale = params.locale or ""
        ls.root = workspace_root(params)
        apply_settings(ls, params.initialization_options)

    @server.feature(types.INITIALIZED)
    async def on_initialized(ls: "KuraServer", params: types.InitializedParams) -> None:
        if ls.root is None:
            ls.index_state = "unavailable"
            ls.log_to_editor("kura: no workspace folder; navigation and repository context are off")
        else:
            spawn(open_index(ls))
        if ls.completions is not None:
            ls.completions.preload()
        for hook in ls.after_initialized:
            await _maybe_await(hook(ls))

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def on_configuration_changed(ls: "KuraServer", params: types.DidChangeConfigurationParams) -> None:
        raw = None
        if _supports_configuration(ls):
            try:
                result = await asyncio.wait_for(
                    ls.workspace_configuration_async(
                        types.ConfigurationParams(items=[types.ConfigurationItem(section="kura")])
                    ),
                    timeout=5,
                )
                raw = result[0] if result else None
            except Exception as exc:  # a client that never answers must not wedge the server
                log.warning("kura: could not pull settings with workspace/configuration: %s", exc)
        if raw is None and isinstance(params.settings, dict):
            raw = params.settings.get("kura", params.settings)
        apply_settings(ls, raw)

    @server.command("kura.reindex")
    async def reindex(ls, *args):
        if ls.index is None:
            return {"error": "no index: kura has no workspace folder"}
        report = await ls.in_index_thread(ls.index.update)
        ls.index_updated()
        return {"files": report.files, "parsed": report.indexed, "seconds": round(report.seconds, 3)}

    @server.feature(types.SHUTDOWN)
    def on_shutdown(ls: "KuraServer", params: None) -> None:
        stop_watcher(ls)
        if ls.completions is not None:
            ls.completions.close()
        for hook in ls.before_shutdown:
            hook(ls)


async def _maybe_await(result) -> None:
    if asyncio.iscoroutine(result):
        await result


def workspace_root(params: types.InitializeParams) -> Path | None:
    from lsp_server.server import uri_to_path

    uris = [f.uri for f in params.workspace_folders or []]
    if params.root_uri:
        uris.append(params.root_uri)
    for uri in uris:
        path = uri_to_path(uri)
        if path is not None and path.is_dir():
            return path.resolve()
    if params.root_path and Path(params.root_path).is_dir():
        return Path(params.root_path).resolve()
    return None


def apply_settings(ls: "KuraServer", raw: object) -> None:
    """Parse, report each bad key once to the user, and (re)configure what depends on settings."""
    settings, errors = parse_settings(raw if raw is not None else {})
    for error in errors:
        ls.show_to_user(str(error), types.MessageType.Warning)
        log.warning("%s", error)
    previous: Settings = ls.settings
    ls.settings = settings
    logging.getLogger().setLevel(getattr(logging, settings.log_level.upper(), logging.INFO))

    from lsp_server.features.completion import configure_completions

    configure_completions(ls, previous)


def _supports_configuration(ls: "KuraServer") -> bool:
    caps = ls.client_capabilities
    return bool(caps and caps.workspace and caps.workspace.configuration)


def _supports_progress(ls: "KuraServer") -> bool:
    caps = ls.client_capabilities
    return bool(caps and caps.window and caps.window.work_done_progress)


async def open_index(ls: "KuraServer") -> None:
    """Open (or build) the workspace index in the index thread, reporting `$/progress`."""
    from indexer.index import Index

    ls.index_state = "indexing"
    loop = asyncio.get_running_loop()
    token = None
    if _supports_progress(ls):
        token = f"kura-index-{uuid.uuid4()}"
        try:
            await asyncio.wait_for(ls.work_done_progress.create_async(token), timeout=5)
            ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(title="kura: indexing", percentage=0, cancellable=False))
        except Exception:
            token = None

    last_report = 0.0

    def progress(done: int, total: int, *_path) -> None:  # called from the index thread
        nonlocal last_report
        ls.index_progress = {"done": done, "total": total}
        now = time.monotonic()
        if token is None or (now - last_report < 0.2 and done < total):
            return
        last_report = now
        pct = int(100 * done / total) if total else 100
        loop.call_soon_threadsafe(
            ls.work_done_progress.report, token,
            types.WorkDoneProgressReport(message=f"{done}/{total} files", percentage=pct),
        )

    index_path = Path(ls.settings.index.path).expanduser() if ls.settings.index.path else None
    root = ls.root
    assert root is not None

    try:
        # Open first (fast), so that requests arriving during the build see what is there already.
        ls.index = await ls.in_index_thread(lambda: Index.open(root, index_path=index_path))
        report = await ls.in_index_thread(lambda: ls.index.update(progress=progress))
    except Exception as exc:
        ls.index_state = "error"
        ls.record_error(f"kura: could not open the index for {root}: {exc}", show=True)
        if token:
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message="failed"))
        return
    ls.index_state = "ready"
    ls.index_updated()
    rebuilt = getattr(ls.index, "rebuilt_reason", None) or getattr(report, "rebuilt_reason", None)
    if rebuilt:
        ls.log_to_editor(f"kura: the index was rebuilt: {rebuilt}", types.MessageType.Warning)
    if token:
        ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=summary(report)))
    if ls.settings.index.watch:
        start_watcher(ls)


def summary(report) -> str:
    return f"{report.files} files, {report.indexed} parsed, {report.seconds:.1f}s"


def start_watcher(ls: "KuraServer") -> None:
    from indexer.watcher import IndexWatcher

    if ls.watcher is not None or ls.index is None:
        return
    loop = asyncio.get_running_loop()

    def updated(*_args) -> None:  # on the watcher's thread
        loop.call_soon_threadsafe(ls.index_updated)

    try:
        ls.watcher = IndexWatcher(ls.index, on_update=updated)
        ls.watcher.start()
    except Exception as exc:  # e.g. inotify watch limit: the index still refreshes on save
        ls.watcher = None
        ls.record_error(f"kura: file watching is off ({exc}); the index refreshes on save")


def stop_watcher(ls: "KuraServer") -> None:
    if ls.watcher is not None:
        try:
            ls.watcher.stop()
        finally:
            ls.watcher = None

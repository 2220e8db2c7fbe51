"""LSP plumbing the features share: command arguments, documents as task targets, work-done
progress, relaying cancellation to the task that does the work, and fire-and-forget work
(positions: positions.py)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from assistant.tasks.explain import Target, TargetError, decode_source, resolve_target
from assistant.tasks.runner import TaskEnv
from lsp_server.positions import client_position, to_code_points  # noqa: F401  (features take them from here)

if TYPE_CHECKING:
    from lsp_server.server import KuraServer

log = logging.getLogger(__name__)
_background: set[asyncio.Task] = set()  # keeps fire-and-forget tasks alive until they finish


def spawn(coro) -> asyncio.Task:
    """Run `coro` in the background (opening the index, guessing the next suggestion)."""
    task = asyncio.ensure_future(coro)
    _background.add(task)
    task.add_done_callback(_background.discard)
    return task


# --- arguments ---------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """pygls hands command arguments over as nested namedtuples; features want dicts and lists."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def range_json(rng: types.Range) -> dict:
    return {"start": {"line": rng.start.line, "character": rng.start.character},
            "end": {"line": rng.end.line, "character": rng.end.character}}


class BadArgument(TargetError):
    """A command's argument no editor sends (a client bug, not something the user can act on): it
    is answered with the error and logged, never popped up."""


def parse_location_argument(arg: Any, command: str) -> tuple[str, types.Range]:
    """`{uri, range}` from a command's first argument (a dict, or pygls' namedtuple form)."""
    arg = plain(arg)
    if not isinstance(arg, dict) or not isinstance(arg.get("uri"), str) or not isinstance(arg.get("range"), dict):
        raise BadArgument(f"kura: {command} expects [{{uri, range}}], got {arg!r}"[:300])
    r = arg["range"]
    try:
        rng = types.Range(start=types.Position(line=int(r["start"]["line"]), character=int(r["start"]["character"])),
                          end=types.Position(line=int(r["end"]["line"]), character=int(r["end"]["character"])))
    except (KeyError, TypeError, ValueError):
        raise BadArgument(f"kura: {command} got a malformed range {r!r}"[:300]) from None
    return arg["uri"], rng


def tell_target_error(ls: "KuraServer", error: TargetError) -> None:
    """Say why there is no code to work on (once per kind); a malformed argument is only logged."""
    if isinstance(error, BadArgument):
        ls.record_error(str(error))
    else:
        ls.show_to_user(str(error), types.MessageType.Warning)


# --- documents and positions -------------------------------------------------------------------


async def load_target(ls: "KuraServer", uri: str, rng: types.Range, *, whole_lines: bool = False,
                      build: Callable[..., Any] | None = None) -> Target:
    """The document (open in the editor, else from disk) and the range as a Target; `build(path,
    text, start, end)` makes another kind of target from the same (generate's place for new code)."""
    from lsp_server.server import uri_to_path

    doc = ls.workspace.text_documents.get(uri)
    path = ls.relative_path(uri)
    if doc is not None:
        text = doc.source
        lines = doc.lines
    else:
        fs_path = uri_to_path(uri)
        if fs_path is None:
            raise TargetError(f"kura: cannot read {uri}: only file: documents can be explained")
        try:
            data = await asyncio.get_running_loop().run_in_executor(None, Path(fs_path).read_bytes)
        except OSError as exc:
            raise TargetError(f"kura: cannot read {fs_path}: {exc.strerror}") from None
        text = decode_source(data, path or fs_path.name)
        lines = text.splitlines(True)
    path = path or (uri_to_path(uri).name if uri_to_path(uri) else uri)
    start, end = to_code_points(ls, lines, rng.start), to_code_points(ls, lines, rng.end)
    if build is not None:
        return await ls.query(build, path, text, start, end)
    if whole_lines:
        from assistant.tasks.fix import fix_target

        return await ls.query(fix_target, path, text, start, end)
    return await ls.query(lambda: resolve_target(path, text, start, end))


def task_env(ls: "KuraServer", language: str = "en") -> TaskEnv:
    """Where the editor's tasks run: its index (read on the query pool), root and settings."""
    return TaskEnv(index=ls.index, root=ls.root, prompts_dir=ls.settings.prompts_dir,
                   context_tokens=ls.settings.model.context_tokens, language=language, query=ls.query)


# --- progress and cancellation -----------------------------------------------------------------


async def begin_progress(ls: "KuraServer", title: str) -> str | None:
    """A cancellable work-done progress in the editor, when it supports one; its token."""
    caps = ls.client_capabilities
    if not (caps and caps.window and caps.window.work_done_progress):
        return None
    token = f"kura-progress-{uuid.uuid4().hex[:12]}"
    try:
        await asyncio.wait_for(ls.work_done_progress.create_async(token), timeout=5)
        ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title, cancellable=True, message="thinking…"))
        return token
    except Exception:
        log.debug("work-done progress unavailable", exc_info=True)
        return None


def end_progress(ls: "KuraServer", token: str | None, how: str) -> None:
    if token is None:
        return
    try:
        ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=how))
    except Exception:
        log.debug("could not end progress %s", token, exc_info=True)


def cancel_on_progress_cancel(ls: "KuraServer", token: str | None, task: asyncio.Task | None):
    """Cancelling the progress in the editor (window/workDoneProgress/cancel) cancels the task.
    Returns a function that stops watching."""
    if token is None or task is None:
        return None
    future = ls.work_done_progress.tokens.get(token)
    if future is None:
        return None
    future.add_done_callback(_cancel_when_cancelled(task))
    return lambda: ls.work_done_progress.tokens.pop(token, None)


def follow_request_cancel(ls: "KuraServer", task: asyncio.Task | None) -> None:
    """`$/cancelRequest` cancels pygls' future for the executeCommand request, not the command's own
    task (pygls runs commands inside a generator handler); relay it so the model really stops."""
    request_id = getattr(ls.protocol, "msg_id", None)
    future = getattr(ls.protocol, "_request_futures", {}).get(request_id)
    if task is None or future is None or future is task:
        return
    future.add_done_callback(_cancel_when_cancelled(task))


def _cancel_when_cancelled(task: asyncio.Task):
    def on_done(future) -> None:
        if future.cancelled() and not task.done():
            task.get_loop().call_soon_threadsafe(task.cancel)

    return on_done

"""Explanations: command `kura.explain` (`[{uri, range}]` → `{id, markdown}`), streamed as
`kura/explanation` notifications and work-done `$/progress`; the "Explain with kura" code action
(offered by the code-action handler in fix.py) runs this command."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from assistant.explain import (
    Target, TargetError, answer_language, choose_style, decode_source, file_line_reader, gather_context,
    plan_explanation, resolve_target, run_explanation,
)
from assistant.models.base import ModelError

if TYPE_CHECKING:
    from lsp_server.server import KuraServer

log = logging.getLogger(__name__)
EXPLAIN_COMMAND = "kura.explain"
EXPLANATION_NOTIFICATION = "kura/explanation"
EXPLAIN_ACTION_KIND = types.CodeActionKind.Empty  # not a quickfix nor a refactoring: any selection
PROGRESS_EVERY_CHARS = 200


def register(server: "KuraServer") -> None:
    @server.command(EXPLAIN_COMMAND)
    async def explain(ls, *args):  # no annotations: pygls resolves them at call time
        return await explain_command(ls, args[0] if args else None)


def explain_action(uri: str, rng: types.Range) -> types.CodeAction:
    """The "Explain with kura" action: command-based, so the lightbulb never runs the model."""
    return types.CodeAction(
        title="Explain with kura", kind=EXPLAIN_ACTION_KIND,
        command=types.Command(title="Explain with kura", command=EXPLAIN_COMMAND,
                              arguments=[{"uri": uri, "range": _range_json(rng)}]),
    )


async def explain_command(ls: "KuraServer", arg: Any) -> dict:
    explanation_id = f"kura-explain-{uuid.uuid4().hex[:12]}"
    try:
        uri, rng = parse_location_argument(arg, EXPLAIN_COMMAND)
        target = await load_target(ls, uri, rng)
    except TargetError as exc:
        ls.show_to_user(str(exc), types.MessageType.Warning)
        return {"id": explanation_id, "markdown": "", "error": str(exc)}

    try:
        worker = await ls.completions.model.worker() if ls.completions is not None else None
    except ModelError as exc:
        ls.record_error(str(exc), show=True)
        return {"id": explanation_id, "markdown": "", "error": str(exc)}
    if worker is None:
        return {"id": explanation_id, "markdown": "", "error": "kura: the model is not configured yet"}

    pieces = await ls.query(gather_context, target, ls.index, file_line_reader(ls.root))
    info = await _model_info(worker)
    plan = plan_explanation(
        target, pieces, language=answer_language(ls.settings.language, ls.locale), style=choose_style(info),
        context_tokens=await effective_context_tokens(worker, _context_tokens(ls, info), target.code), prompts_dir=ls.settings.prompts_dir,
    )
    if plan.template_error is not None:
        ls.record_error(str(plan.template_error), show=True)

    token = await _begin_progress(ls, f"kura: explaining {target.path}:{target.start_line + 1}-{target.end_line + 1}")
    sent = 0

    def on_chunk(chunk: str) -> None:
        nonlocal sent
        ls.protocol.notify(EXPLANATION_NOTIFICATION,
                           {"id": explanation_id, "uri": uri, "chunk": chunk, "done": False, "cloud": False})
        if token is not None and (sent == 0 or sent // PROGRESS_EVERY_CHARS != (sent + len(chunk)) // PROGRESS_EVERY_CHARS):
            ls.work_done_progress.report(token, types.WorkDoneProgressReport(message="writing…"))
        sent += len(chunk)

    task = asyncio.current_task()
    cancel_watch = _cancel_on_progress_cancel(ls, token, task)
    follow_request_cancel(ls, task)
    outcome = None
    started = time.perf_counter()
    try:
        outcome = await run_explanation(worker, plan, on_chunk)
    except asyncio.CancelledError:
        _finish(ls, explanation_id, uri, token, "cancelled")
        ls.usage.event("explain", task="explain", uri=uri, outcome="cancelled", started=started, chars=sent)
        raise
    except ModelError as exc:
        ls.record_error(str(exc), show=True)
        _finish(ls, explanation_id, uri, token, "failed")
        ls.usage.event("explain", task="explain", uri=uri, outcome="failed", reason=str(exc)[:200], started=started)
        return {"id": explanation_id, "markdown": "", "error": str(exc)}
    finally:
        if cancel_watch is not None:
            cancel_watch()
    _finish(ls, explanation_id, uri, token, "done")
    ls.usage.event("explain", task="explain", uri=uri, outcome="done", latency_ms=round(outcome.total_ms, 1),
                   first_chunk_ms=outcome.first_chunk_ms, chars=len(outcome.markdown), text=outcome.markdown)
    log.info("explanation %s: first chunk %s ms, total %.0f ms", explanation_id,
             f"{outcome.first_chunk_ms:.0f}" if outcome.first_chunk_ms is not None else "-", outcome.total_ms)
    return {"id": explanation_id, "markdown": outcome.markdown, "truncated": plan.truncated}


def parse_location_argument(arg: Any, command: str) -> tuple[str, types.Range]:
    """`{uri, range}` from a command's first argument (a dict, or pygls' namedtuple form)."""
    arg = _plain(arg)
    if not isinstance(arg, dict) or not isinstance(arg.get("uri"), str) or not isinstance(arg.get("range"), dict):
        raise TargetError(f"kura: {command} expects [{{uri, range}}], got {arg!r}"[:300])
    r = arg["range"]
    try:
        rng = types.Range(start=types.Position(line=int(r["start"]["line"]), character=int(r["start"]["character"])),
                          end=types.Position(line=int(r["end"]["line"]), character=int(r["end"]["character"])))
    except (KeyError, TypeError, ValueError):
        raise TargetError(f"kura: {command} got a malformed range {r!r}"[:300]) from None
    return arg["uri"], rng


async def load_target(ls: "KuraServer", uri: str, rng: types.Range, *, whole_lines: bool = False) -> Target:
    """The document (open in the editor, else from disk) and the range as a Target."""
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
    if whole_lines:
        from assistant.fix import fix_target

        return await ls.query(fix_target, path, text, start, end)
    return await ls.query(lambda: resolve_target(path, text, start, end))


def to_code_points(ls: "KuraServer", lines: list[str], pos: types.Position) -> tuple[int, int]:
    """An LSP position (client units) as (line, code-point column); out-of-range stays out of range."""
    if 0 <= pos.line < len(lines):
        line = lines[pos.line].rstrip("\r\n")
        if not line.isascii():
            units = 0
            for i, ch in enumerate(line):
                if units >= pos.character:
                    return pos.line, i
                units += ls.workspace.position_codec.client_num_units(ch)
            return pos.line, len(line) + max(0, pos.character - units)
    return pos.line, pos.character


async def _model_info(worker: Any) -> dict:
    try:
        return await worker.call(worker.backend.info)
    except Exception:
        return {}


def _context_tokens(ls: "KuraServer", info: dict) -> int:
    ctx = info.get("context_tokens")
    return int(ctx) if isinstance(ctx, int) and ctx > 0 else ls.settings.model.context_tokens


async def effective_context_tokens(worker: Any, context_tokens: int, sample: str) -> int:
    """The context in units of the planner's estimate: a model whose tokenizer splits this code
    finer than `CHARS_PER_TOKEN` gets proportionally less, so the prompt always fits."""
    from assistant.explain import CHARS_PER_TOKEN

    sample = sample[:4000]
    try:
        tokens = await worker.call(worker.backend.count_tokens, sample) if sample else 0
    except Exception:
        return context_tokens
    ratio = len(sample) / tokens if tokens else CHARS_PER_TOKEN
    return context_tokens if ratio >= CHARS_PER_TOKEN else int(context_tokens * ratio / CHARS_PER_TOKEN)


async def _begin_progress(ls: "KuraServer", title: str) -> str | None:
    caps = ls.client_capabilities
    if not (caps and caps.window and caps.window.work_done_progress):
        return None
    token = f"kura-explain-{uuid.uuid4().hex[:12]}"
    try:
        await asyncio.wait_for(ls.work_done_progress.create_async(token), timeout=5)
        ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title, cancellable=True, message="thinking…"))
        return token
    except Exception:
        log.debug("work-done progress unavailable", exc_info=True)
        return None


def _cancel_on_progress_cancel(ls: "KuraServer", token: str | None, task: asyncio.Task | None):
    """Cancelling the progress in the editor (window/workDoneProgress/cancel) cancels the task."""
    if token is None or task is None:
        return None
    future = ls.work_done_progress.tokens.get(token)
    if future is None:
        return None

    def on_done(f) -> None:
        if f.cancelled() and not task.done():
            task.get_loop().call_soon_threadsafe(task.cancel)

    future.add_done_callback(on_done)
    return lambda: ls.work_done_progress.tokens.pop(token, None)


def follow_request_cancel(ls: "KuraServer", task: asyncio.Task | None) -> None:
    """`$/cancelRequest` cancels pygls' future for the executeCommand request, not the command's own
    task (pygls runs commands inside a generator handler); relay it so the model really stops."""
    request_id = getattr(ls.protocol, "msg_id", None)
    future = getattr(ls.protocol, "_request_futures", {}).get(request_id)
    if task is None or future is None or future is task:
        return

    def on_done(f) -> None:
        if f.cancelled() and not task.done():
            task.get_loop().call_soon_threadsafe(task.cancel)

    future.add_done_callback(on_done)


def _finish(ls: "KuraServer", explanation_id: str, uri: str, token: str | None, how: str) -> None:
    try:
        ls.protocol.notify(EXPLANATION_NOTIFICATION,
                           {"id": explanation_id, "uri": uri, "chunk": "", "done": True, "cloud": False, "reason": how})
        if token is not None:
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=how))
    except Exception:
        log.debug("could not send the end of explanation %s", explanation_id, exc_info=True)


def _range_json(rng: types.Range) -> dict:
    return {"start": {"line": rng.start.line, "character": rng.start.character},
            "end": {"line": rng.end.line, "character": rng.end.character}}


def _plain(value: Any) -> Any:
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value

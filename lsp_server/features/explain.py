"""Explanations: command `kura.explain` (`[{uri, range}]` → `{id, markdown}`), streamed as
`kura/explanation` notifications and work-done `$/progress`; the "Explain with kura" code action
(offered by the code-action handler in fix.py) runs this command."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from assistant.tasks.explain import TargetError, answer_language
from assistant.models.base import ModelError
from assistant.tasks.runner import EXPLAIN, plan_task, run_task
from lsp_server.plumbing import (
    begin_progress, cancel_on_progress_cancel, end_progress, follow_request_cancel, load_target,
    parse_location_argument, range_json, task_env, tell_target_error,
)

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
                              arguments=[{"uri": uri, "range": range_json(rng)}]),
    )


async def explain_command(ls: "KuraServer", arg: Any) -> dict:
    explanation_id = f"kura-explain-{uuid.uuid4().hex[:12]}"
    try:
        uri, rng = parse_location_argument(arg, EXPLAIN_COMMAND)
        target = await load_target(ls, uri, rng)
    except TargetError as exc:
        tell_target_error(ls, exc)
        return {"id": explanation_id, "markdown": "", "error": str(exc)}

    try:
        worker = await ls.completions.model.worker() if ls.completions is not None else None
    except ModelError as exc:
        ls.record_error(str(exc), show=True)
        return {"id": explanation_id, "markdown": "", "error": str(exc)}
    if worker is None:
        return {"id": explanation_id, "markdown": "", "error": "kura: the model is not configured yet"}

    plan = await plan_task(EXPLAIN, target, worker, task_env(ls, answer_language(ls.settings.language, ls.locale)))
    if plan.template_error is not None:
        ls.record_error(str(plan.template_error), show=True)

    token = await begin_progress(ls, f"kura: explaining {target.path}:{target.start_line + 1}-{target.end_line + 1}")
    sent = 0

    def on_chunk(chunk: str) -> None:
        nonlocal sent
        ls.protocol.notify(EXPLANATION_NOTIFICATION,
                           {"id": explanation_id, "uri": uri, "chunk": chunk, "done": False, "cloud": False})
        if token is not None and (sent == 0 or sent // PROGRESS_EVERY_CHARS != (sent + len(chunk)) // PROGRESS_EVERY_CHARS):
            ls.work_done_progress.report(token, types.WorkDoneProgressReport(message="writing…"))
        sent += len(chunk)

    task = asyncio.current_task()
    cancel_watch = cancel_on_progress_cancel(ls, token, task)
    follow_request_cancel(ls, task)
    outcome = None
    started = time.perf_counter()
    try:
        outcome = await run_task(EXPLAIN, plan, worker, on_chunk)
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


def _finish(ls: "KuraServer", explanation_id: str, uri: str, token: str | None, how: str) -> None:
    try:
        ls.protocol.notify(EXPLANATION_NOTIFICATION,
                           {"id": explanation_id, "uri": uri, "chunk": "", "done": True, "cloud": False, "reason": how})
        end_progress(ls, token, how)
    except Exception:
        log.debug("could not send the end of explanation %s", explanation_id, exc_info=True)

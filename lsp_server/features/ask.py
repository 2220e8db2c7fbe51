"""Ask the codebase: command `kura.ask` (`[{question, id?}]` → `{id, found, markdown, answer,
citations}`), streamed as `kura/answer` notifications and work-done `$/progress`; each citation
carries the file's URI and 1-based line so editors can open it."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from assistant.models.base import ModelError
from assistant.tasks.ask import Question
from assistant.tasks.explain import answer_language
from assistant.tasks.runner import ASK, plan_task, run_task
from lsp_server.plumbing import (
    begin_progress, cancel_on_progress_cancel, end_progress, follow_request_cancel, plain, task_env,
)

if TYPE_CHECKING:
    from lsp_server.server import KuraServer

log = logging.getLogger(__name__)
ASK_COMMAND = "kura.ask"
ANSWER_NOTIFICATION = "kura/answer"
MAX_QUESTION_CHARS = 2000
PROGRESS_EVERY_CHARS = 200


def register(server: "KuraServer") -> None:
    @server.command(ASK_COMMAND)
    async def ask(ls, *args):  # no annotations: pygls resolves them at call time
        return await ask_command(ls, args[0] if args else None)


def parse_question(arg: Any) -> tuple[str, str | None]:
    """(question, the client's id for the answer or None) from `{question, id?}` or a bare string."""
    arg = plain(arg)
    if isinstance(arg, str):
        return arg.strip()[:MAX_QUESTION_CHARS], None
    if isinstance(arg, dict) and isinstance(arg.get("question"), str):
        answer_id = arg.get("id")
        return arg["question"].strip()[:MAX_QUESTION_CHARS], answer_id if isinstance(answer_id, str) and answer_id else None
    return "", None


async def ask_command(ls: "KuraServer", arg: Any) -> dict:
    question, answer_id = parse_question(arg)
    answer_id = answer_id or f"kura-ask-{uuid.uuid4().hex[:12]}"
    empty = {"id": answer_id, "found": False, "markdown": "", "answer": "", "citations": []}
    if not question:
        error = f"kura: {ASK_COMMAND} expects [{{question}}] with a question, got {plain(arg)!r}"[:300]
        ls.record_error(error)
        return {**empty, "error": error}
    try:
        worker = await ls.completions.model.worker() if ls.completions is not None else None
    except ModelError as exc:
        ls.record_error(str(exc), show=True)
        return {**empty, "error": str(exc)}
    if worker is None:
        return {**empty, "error": "kura: the model is not configured yet"}

    plan = await plan_task(ASK, Question(question), worker, task_env(ls, answer_language(ls.settings.language, ls.locale)))
    if plan.template_error is not None:
        ls.record_error(str(plan.template_error), show=True)

    token = await begin_progress(ls, f"kura: {question[:60]}") if plan.found else None
    sent = 0

    def on_chunk(chunk: str) -> None:
        nonlocal sent
        ls.protocol.notify(ANSWER_NOTIFICATION, {"id": answer_id, "chunk": chunk, "done": False, "cloud": False})
        if token is not None and (sent == 0 or sent // PROGRESS_EVERY_CHARS != (sent + len(chunk)) // PROGRESS_EVERY_CHARS):
            ls.work_done_progress.report(token, types.WorkDoneProgressReport(message="writing…"))
        sent += len(chunk)

    task = asyncio.current_task()
    cancel_watch = cancel_on_progress_cancel(ls, token, task)
    follow_request_cancel(ls, task)
    started = time.perf_counter()
    try:
        outcome = await run_task(ASK, plan, worker, on_chunk)
    except asyncio.CancelledError:
        _finish(ls, answer_id, token, "cancelled")
        ls.usage.event("ask", task="ask", outcome="cancelled", started=started, chars=sent)
        raise
    except ModelError as exc:
        ls.record_error(str(exc), show=True)
        _finish(ls, answer_id, token, "failed")
        ls.usage.event("ask", task="ask", outcome="failed", reason=str(exc)[:200], started=started)
        return {**empty, "error": str(exc)}
    finally:
        if cancel_watch is not None:
            cancel_watch()
    _finish(ls, answer_id, token, "done" if outcome.found else "nothing found")
    ls.usage.event("ask", task="ask", outcome="done" if outcome.found else "nothing_found",
                   latency_ms=round(outcome.total_ms, 1), first_chunk_ms=outcome.first_chunk_ms, chars=len(outcome.markdown))
    return {"id": answer_id, "found": outcome.found, "markdown": outcome.markdown, "answer": outcome.answer,
            "citations": [_citation(ls, s) for s in outcome.citations]}


def _citation(ls: "KuraServer", source) -> dict:
    citation = source.to_json()
    if ls.root is not None:
        citation["uri"] = (ls.root / source.path).as_uri()
    return citation


def _finish(ls: "KuraServer", answer_id: str, token: str | None, how: str) -> None:
    try:
        ls.protocol.notify(ANSWER_NOTIFICATION, {"id": answer_id, "chunk": "", "done": True, "cloud": False, "reason": how})
        end_progress(ls, token, how)
    except Exception:
        log.debug("could not send the end of answer %s", answer_id, exc_info=True)

"""Ask the codebase: command `kura.ask` (`[{question, id?}]` → `{id, found, markdown, answer,
citations}`), streamed as `kura/answer` notifications and work-done `$/progress`; each citation
carries the file's URI and 1-based line so editors can open it.

`kura.askCloud` is the same escalated under the workspace policy: the pieces found locally are the
excerpt (confidential ones dropped, the rest and the question sanitized, approval as the policy
says), the answer's placeholders restored; nothing found locally sends nothing."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from assistant.models.base import ModelError
from assistant.tasks.ask import Question, gather_sources, nothing_found_message, plan_ask, sources_markdown
from assistant.tasks.explain import LANGUAGE_NAMES, answer_language, file_line_reader
from assistant.tasks.prompt_templates import load_template
from assistant.tasks.runner import ASK, plan_task, run_task
from lsp_server.plumbing import (
    begin_progress, cancel_on_progress_cancel, end_progress, follow_request_cancel, plain, task_env,
)

if TYPE_CHECKING:
    from lsp_server.server import KuraServer

log = logging.getLogger(__name__)
ASK_COMMAND = "kura.ask"
ASK_CLOUD_COMMAND = "kura.askCloud"
ANSWER_NOTIFICATION = "kura/answer"
MAX_QUESTION_CHARS = 2000
PROGRESS_EVERY_CHARS = 200


def register(server: "KuraServer") -> None:
    @server.command(ASK_COMMAND)
    async def ask(ls, *args):  # no annotations: pygls resolves them at call time
        return await ask_command(ls, args[0] if args else None)

    @server.command(ASK_CLOUD_COMMAND)
    async def ask_cloud(ls, *args):
        return await ask_cloud_command(ls, args[0] if args else None)


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


async def ask_cloud_command(ls: "KuraServer", arg: Any) -> dict:
    """The question escalated: the policy decides on the pieces found locally (the best one is the
    selection), they and the question are sanitized, the user approves as the policy says, and the
    answer's placeholders are restored; the cloud failing falls back to the local model."""
    from assistant.escalation.policy.decide import ContextPiece, EscalationRequest
    from lsp_server.features.escalation import CLOUD_MARKER, escalate, escalator_for

    question, answer_id = parse_question(arg)
    answer_id = answer_id or f"kura-ask-cloud-{uuid.uuid4().hex[:12]}"
    empty = {"id": answer_id, "found": False, "markdown": "", "answer": "", "citations": [], "cloud": True}
    if not question:
        error = f"kura: {ASK_CLOUD_COMMAND} expects [{{question}}] with a question, got {plain(arg)!r}"[:300]
        ls.record_error(error)
        return {**empty, "error": error}
    escalator = escalator_for(ls)
    if escalator is None:
        ls.show_to_user("kura: cloud escalation needs a workspace folder with a .kura/policy.toml")
        return {**empty, "error": "no workspace folder"}
    language = answer_language(ls.settings.language, ls.locale)
    sources = await ls.query(gather_sources, Question(question), ls.index, file_line_reader(ls.root))
    loop = asyncio.get_running_loop()

    def notify(chunk: str, done: bool = False, reason: str = "") -> None:  # from any thread
        params = {"id": answer_id, "chunk": chunk, "done": done, "cloud": True, **({"reason": reason} if done else {})}
        loop.call_soon_threadsafe(ls.protocol.notify, ANSWER_NOTIFICATION, params)

    if not sources:  # nothing to ask about: nothing leaves, and no model invents an answer
        text = nothing_found_message(plan_ask(Question(question), [], language=language))
        notify(text)
        notify("", True, "nothing found")
        return {**empty, "markdown": text}
    template, error = load_template("ask", "cloud", ls.settings.prompts_dir)
    if error is not None:
        ls.record_error(str(error))
    instruction = template.render(question=question, answer_language=LANGUAGE_NAMES.get(language, "English"),
                                  context="", answer_lead="").strip()
    # The selection is the best piece that may leave (a confidential best piece must not block the
    # rest); the others go as context, where the policy drops what may not leave and says so.
    from assistant.escalation.policy.paths import classify

    leaving = [s for s in sources if classify(escalator.policy, s.path).may_leave]
    ordered = [leaving[0], *(s for s in sources if s is not leaving[0])] if leaving else sources
    pieces = [ContextPiece(s.path, s.text, "selection" if i == 0 else "context", s.start_line + 1, s.end_line + 1,
                           s.symbol or None) for i, s in enumerate(ordered)]
    preview = escalator.preview(EscalationRequest("ask", pieces[0], tuple(pieces[1:]), instruction))
    model = preview.policy.provider.model if preview.policy.provider else "cloud"
    marker = CLOUD_MARKER.format(model=model)
    started = False

    def on_text(text: str) -> None:  # on the escalation's worker thread
        nonlocal started
        if not started:
            started = True
            notify(marker)
        notify(text)

    token = None if preview.blocked else await begin_progress(ls, f"kura: asking the cloud model: {question[:60]}")
    try:
        result = await escalate(ls, escalator, preview, on_text)
    except asyncio.CancelledError:
        notify("", True, "cancelled")
        end_progress(ls, token, "cancelled")
        raise
    end_progress(ls, token, result.outcome)
    if result.outcome == "failed":
        notify("", True, "failed")
        ls.record_error(f"kura: the cloud model failed: {result.reason}; asking the local model instead", show=True)
        local = await ask_command(ls, arg)
        return {**local, "cloud": False, "cloudError": result.reason}
    if result.outcome != "sent":
        message = ("kura: nothing was sent to the cloud model (cancelled)" if result.outcome == "cancelled"
                   else f"kura: nothing was sent to the cloud model: {result.reason}")
        ls.show_to_user(message, types.MessageType.Warning)
        notify("", True, result.outcome)
        return {**empty, "error": message, "outcome": result.outcome}
    dropped = {d.path for d in preview.decision.dropped}
    cited = [s for s in ordered if s.path not in dropped]  # what the cloud model was given
    tail = sources_markdown(cited, language)
    notify(tail)
    notify("", True, "done")
    ls.usage.event("ask", task="ask", outcome="done", chars=len(result.text), reason="cloud")
    return {"id": answer_id, "found": True, "markdown": marker + result.text + tail, "answer": result.text,
            "citations": [_citation(ls, s) for s in cited], "cloud": True}

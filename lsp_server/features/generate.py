"""Generate/edit from an instruction: command `kura.generate` (`[{uri, range, instruction, id?}]` →
`{id, mode, edit: WorkspaceEdit | null, message}`), the model's text streamed as `kura/generation`
notifications for a preview. The edit is only proposed: the client shows it and applies it when the
user accepts, then runs `kura.didResolveGeneration` (`[{uri, id, outcome: accepted | rejected}]`).
`kura.generateCloud` is the same escalated under the workspace policy (sanitized excerpt, approval,
placeholders restored in the code, audit; the local model when the cloud fails)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from assistant.models.base import ModelError
from assistant.tasks.explain import TargetError
from assistant.tasks.explain import file_line_reader
from assistant.tasks.generate import (
    MAX_INSTRUCTION_CHARS, GenerateOutcome, Instruction, cloud_excerpt, cloud_instruction, gather_generate_context,
    generate_target, mode_of, read_answer,
)
from assistant.tasks.runner import GENERATE, plan_task, run_task
from lsp_server.features.fix import workspace_edit
from lsp_server.plumbing import (
    BadArgument, begin_progress, cancel_on_progress_cancel, end_progress, follow_request_cancel, load_target,
    parse_location_argument, plain, task_env, tell_target_error,
)

if TYPE_CHECKING:
    from lsp_server.server import KuraServer

log = logging.getLogger(__name__)
GENERATE_COMMAND = "kura.generate"
GENERATE_CLOUD_COMMAND = "kura.generateCloud"
RESOLVED_COMMAND = "kura.didResolveGeneration"
GENERATION_NOTIFICATION = "kura/generation"
OUTCOMES = ("accepted", "rejected")


def register(server: "KuraServer") -> None:
    @server.command(GENERATE_COMMAND)
    async def generate(ls, *args):  # no annotations: pygls resolves them at call time
        return await generate_command(ls, args[0] if args else None)

    @server.command(GENERATE_CLOUD_COMMAND)
    async def generate_cloud(ls, *args):
        return await generate_cloud_command(ls, args[0] if args else None)

    @server.command(RESOLVED_COMMAND)
    def resolved(ls, *args):
        arg = plain(args[0]) if args else None
        if not isinstance(arg, dict) or arg.get("outcome") not in OUTCOMES:
            ls.record_error(f"kura: {RESOLVED_COMMAND} expects [{{uri, id, outcome: accepted|rejected}}], "
                            f"got {arg!r}"[:300])
            return None
        uri = arg.get("uri")
        ls.usage.event("generate_resolved", task="generate", uri=uri if isinstance(uri, str) else None,
                       outcome=arg["outcome"])
        return None


def parse_generate_argument(arg: Any) -> tuple[str, types.Range, str, str | None]:
    """(uri, range, instruction, the client's id or None) from `{uri, range, instruction, id?}`."""
    uri, rng = parse_location_argument(arg, GENERATE_COMMAND)
    arg = plain(arg)
    instruction = arg.get("instruction")
    if not isinstance(instruction, str):
        raise BadArgument(f"kura: {GENERATE_COMMAND} expects [{{uri, range, instruction}}], got {arg!r}"[:300])
    if not instruction.strip():
        raise TargetError("kura: say what to generate or change (the instruction is empty)")
    given = arg.get("id")
    return uri, rng, instruction.strip()[:MAX_INSTRUCTION_CHARS], given if isinstance(given, str) and given else None


async def generate_command(ls: "KuraServer", arg: Any) -> dict:
    generation_id = f"kura-generate-{uuid.uuid4().hex[:12]}"
    try:
        uri, rng, instruction, given = parse_generate_argument(arg)
        generation_id = given or generation_id
        place = await load_target(ls, uri, rng, build=generate_target)
    except TargetError as exc:
        tell_target_error(ls, exc)
        return {"id": generation_id, "mode": None, "edit": None, "message": str(exc)}
    target = Instruction(place, instruction)
    try:
        worker = await ls.completions.model.worker() if ls.completions is not None else None
    except ModelError as exc:
        ls.record_error(str(exc), show=True)
        return {"id": generation_id, "mode": None, "edit": None, "message": str(exc)}
    if worker is None:
        return {"id": generation_id, "mode": None, "edit": None, "message": "kura: the model is not configured yet"}

    plan = await plan_task(GENERATE, target, worker, task_env(ls))
    if plan.template_error is not None:
        ls.record_error(str(plan.template_error), show=True)
    token = await begin_progress(ls, f"kura: generating in {place.path}:{place.start_line + 1}")

    def on_chunk(chunk: str) -> None:
        ls.protocol.notify(GENERATION_NOTIFICATION, {"id": generation_id, "uri": uri, "chunk": chunk, "done": False})

    task = asyncio.current_task()
    cancel_watch = cancel_on_progress_cancel(ls, token, task)
    follow_request_cancel(ls, task)
    started = time.perf_counter()
    try:
        outcome = await run_task(GENERATE, plan, worker, on_chunk)
    except asyncio.CancelledError:
        _finish(ls, generation_id, uri, token, "cancelled")
        ls.usage.event("generate", task="generate", uri=uri, outcome="cancelled", started=started)
        raise
    except ModelError as exc:
        ls.record_error(str(exc), show=True)
        _finish(ls, generation_id, uri, token, "failed")
        ls.usage.event("generate", task="generate", uri=uri, outcome="failed", reason=str(exc)[:200], started=started)
        return {"id": generation_id, "mode": plan.mode, "edit": None, "message": str(exc)}
    finally:
        if cancel_watch is not None:
            cancel_watch()
    _finish(ls, generation_id, uri, token, "done" if outcome.change is not None else "no edit")
    if outcome.change is None:
        ls.show_to_user(outcome.message, types.MessageType.Warning)
        ls.usage.event("generate", task="generate", uri=uri, outcome="invalid", reason=outcome.message[:200],
                       started=started)
        return {"id": generation_id, "mode": plan.mode, "edit": None, "message": outcome.message}
    edit = workspace_edit(ls, uri, place.text, outcome)
    ls.usage.event("generate", task="generate", uri=uri, outcome="offered", started=started,
                   chars=len(outcome.change.new_text), text=outcome.change.new_text)
    log.info("generation %s (%s): %s, %.0f ms", generation_id, plan.mode, outcome.message, outcome.total_ms)
    return {"id": generation_id, "mode": plan.mode, "edit": ls.protocol._converter.unstructure(edit),
            "message": outcome.message}


def _finish(ls: "KuraServer", generation_id: str, uri: str, token: str | None, how: str) -> None:
    try:
        ls.protocol.notify(GENERATION_NOTIFICATION, {"id": generation_id, "uri": uri, "chunk": "", "done": True,
                                                     "reason": how})
        end_progress(ls, token, how)
    except Exception:
        log.debug("could not send the end of generation %s", generation_id, exc_info=True)


async def generate_cloud_command(ls: "KuraServer", arg: Any) -> dict:
    """The generation escalated: the policy decides, the excerpt is sanitized, the user approves (as
    the policy says), the answer's placeholders are restored before it is validated like a local one."""
    from lsp_server.features.escalation import escalate, escalation_request, escalator_for

    generation_id = f"kura-generate-cloud-{uuid.uuid4().hex[:12]}"
    escalator = escalator_for(ls)
    if escalator is None:
        ls.show_to_user("kura: cloud escalation needs a workspace folder with a .kura/policy.toml")
        return {"id": generation_id, "mode": None, "edit": None, "message": "no workspace folder", "cloud": True}
    try:
        uri, rng, instruction, given = parse_generate_argument(arg)
        generation_id = given or generation_id
        if ls.relative_path(uri) is None:
            raise TargetError(f"kura: only files inside the workspace can be sent to the cloud model ({uri})")
        place = await load_target(ls, uri, rng, build=generate_target)
    except TargetError as exc:
        tell_target_error(ls, exc)
        return {"id": generation_id, "mode": None, "edit": None, "message": str(exc), "cloud": True}
    target = Instruction(place, instruction)
    asked, template_error = cloud_instruction(target, ls.settings.prompts_dir)
    if template_error is not None:
        ls.record_error(str(template_error))
    pieces = await ls.query(gather_generate_context, target, ls.index, file_line_reader(ls.root))
    preview = escalator.preview(escalation_request("generate", cloud_excerpt(place), pieces, asked))
    loop = asyncio.get_running_loop()

    def on_text(text: str) -> None:  # on the escalation's worker thread
        loop.call_soon_threadsafe(ls.protocol.notify, GENERATION_NOTIFICATION,
                                  {"id": generation_id, "uri": uri, "chunk": text, "done": False, "cloud": True})

    token = None if preview.blocked else await begin_progress(ls, f"kura: asking the cloud model to write in {place.path}")
    try:
        result = await escalate(ls, escalator, preview, on_text)
    except asyncio.CancelledError:
        _finish(ls, generation_id, uri, token, "cancelled")
        raise
    _finish(ls, generation_id, uri, token, result.outcome)
    mode = mode_of(place)
    if result.outcome == "failed":
        ls.record_error(f"kura: the cloud model failed: {result.reason}; asking the local model instead", show=True)
        local = await generate_command(ls, arg)
        return {**local, "cloud": False, "cloudError": result.reason}
    if result.outcome != "sent":
        message = ("kura: nothing was sent to the cloud model (cancelled)" if result.outcome == "cancelled"
                   else f"kura: nothing was sent to the cloud model: {result.reason}")
        ls.show_to_user(message, types.MessageType.Warning)
        return {"id": generation_id, "mode": mode, "edit": None, "message": message, "cloud": True,
                "outcome": result.outcome}
    model = preview.policy.provider.model if preview.policy.provider else "cloud"
    validation = read_answer(place, result.text)
    message = f"{validation.message} (☁️ cloud model {model})"
    if validation.change is None:
        ls.show_to_user(message, types.MessageType.Warning)
        ls.usage.event("generate", task="generate", uri=uri, outcome="invalid", reason=message[:200])
        return {"id": generation_id, "mode": mode, "edit": None, "message": message, "cloud": True, "answer": result.text}
    edit = workspace_edit(ls, uri, place.text, GenerateOutcome(validation.change, message))
    ls.usage.event("generate", task="generate", uri=uri, outcome="offered", chars=len(validation.change.new_text))
    return {"id": generation_id, "mode": mode, "edit": ls.protocol._converter.unstructure(edit), "message": message,
            "cloud": True}

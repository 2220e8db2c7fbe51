"""Escalation to the cloud model from the editor: `kura.explainCloud` and `kura.fixCloud` (the local
commands' shapes, answered by the cloud model under the workspace policy, sanitized and audited) and
`kura.previewEscalation` (the exact bytes that would be sent, with what was redacted; nothing sent).

The policy is loaded per workspace root on `initialized` and reloaded whenever a policy file's mtime
changes (checked before every use and on didSave; didChangeWatchedFiles too, from clients that send it
for `**/.kura/policy.toml`, e.g. via the extension's file watcher). No dynamic registration: not every
client answers `client/registerCapability`, and the mtime check covers edits made outside the editor.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from assistant.escalation.escalator import EscalationResult, Escalator, Preview
from assistant.tasks.explain import LANGUAGE_NAMES, Target, TargetError, answer_language, file_line_reader, gather_context
from assistant.tasks.explain import ContextPiece as LocalPiece
from assistant.tasks.fix import DEFAULT_PROBLEM, FixOutcome
from assistant.escalation.policy.decide import ContextPiece, EscalationRequest
from assistant.tasks.prompt_templates import load_template
from lsp_server.features.explain import EXPLANATION_NOTIFICATION, explain_command
from lsp_server.plumbing import (
    begin_progress, end_progress, follow_request_cancel, load_target, parse_location_argument, plain,
    tell_target_error,
)

if TYPE_CHECKING:
    from lsp_server.server import KuraServer

log = logging.getLogger(__name__)
EXPLAIN_CLOUD_COMMAND = "kura.explainCloud"
FIX_CLOUD_COMMAND = "kura.fixCloud"
PREVIEW_COMMAND = "kura.previewEscalation"
REPO_POLICY = Path(".kura") / "policy.toml"
SEND, SHOW_PAYLOAD, CANCEL = "Send", "Show payload", "Cancel"
MAX_ASKS = 5  # "Show payload" then ask again, a few times at most
CLOUD_MARKER = "> ☁️ **Answered by the cloud model** (`{model}`) from a sanitized excerpt, under the workspace policy.\n\n"

# Context kinds of the local explain/fix → the policy's piece kinds (each keeps its real source path).
_KINDS = {"definition": "definition", "module": "doc"}


@dataclass
class PolicyState:
    """The workspace's escalator and the policy files' mtimes it was loaded from."""

    root: Path
    escalator: Escalator
    signature: tuple


def register(server: "KuraServer") -> None:
    @server.command(EXPLAIN_CLOUD_COMMAND)
    async def explain_cloud(ls, *args):  # no annotations: pygls resolves them at call time
        return await explain_cloud_command(ls, args[0] if args else None)

    @server.command(FIX_CLOUD_COMMAND)
    async def fix_cloud(ls, *args):
        return await fix_cloud_command(ls, args[0] if args else None)

    @server.command(PREVIEW_COMMAND)
    async def preview_escalation(ls, *args):
        return await preview_command(ls, args[0] if args else None)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def on_watched_files(ls: "KuraServer", params: types.DidChangeWatchedFilesParams) -> None:
        if any(c.uri.endswith("/.kura/policy.toml") for c in params.changes):
            escalator_for(ls)

    server.after_initialized.append(lambda ls: escalator_for(ls))
    server.after_save.append(_on_saved)


def _on_saved(ls: "KuraServer", uri: str) -> None:
    if uri.endswith("/.kura/policy.toml"):
        escalator_for(ls)


# --- the policy, per workspace root ----------------------------------------------------------------


def _policy_files(root: Path) -> list[Path]:
    from assistant.escalation.policy.load import org_policy_path

    org, _named = org_policy_path(None)
    return [root / REPO_POLICY, Path(org)]


def _signature(root: Path) -> tuple:
    out = []
    for path in _policy_files(root):
        try:
            st = path.stat()
            out.append((str(path), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((str(path), None, None))
    return tuple(out)


def escalator_for(ls: "KuraServer") -> Escalator | None:
    """The workspace's escalator, (re)loading the policy when a policy file changed; None without a root."""
    if ls.root is None:
        return None
    state: PolicyState | None = getattr(ls, "escalation", None)
    signature = _signature(ls.root)
    if state is not None and state.root == ls.root and state.signature == signature:
        return state.escalator
    if state is not None and state.root == ls.root:
        state.escalator.reload()
        state.signature = signature
    else:
        state = PolicyState(ls.root, Escalator(ls.root), signature)
        ls.escalation = state  # type: ignore[attr-defined]
    _report_policy(ls, state.escalator)
    return state.escalator


def _report_policy(ls: "KuraServer", escalator: Escalator) -> None:
    policy = escalator.policy
    if not policy.errors:
        ls.log_to_editor(f"kura: escalation policy loaded from {', '.join(s.path for s in policy.sources)}")
        return
    if not policy.sources and not (escalator.root / REPO_POLICY).exists():
        # No policy at all is the ordinary case: local only, nothing to act on.
        ls.log_to_editor("kura: no .kura/policy.toml; cloud escalation is off (run `kura policy init`)")
        return
    for error in policy.errors:
        ls.show_to_user(f"kura: policy error, cloud escalation is off: {error}", types.MessageType.Error)
        log.warning("policy error: %s", error)


def policy_status(ls: "KuraServer") -> dict:
    """For `kura/status`: whether a policy is loaded, its errors, the provider and each task's approval.
    The API key itself never appears, only whether its variable is set."""
    try:
        escalator = escalator_for(ls)
    except Exception as exc:  # the status bar must survive anything here
        log.exception("policy status")
        return {"state": "errors", "errors": [str(exc)]}
    if escalator is None:
        return {"state": "no workspace"}
    policy = escalator.policy
    provider = None
    if policy.provider is not None:
        provider = {"model": policy.provider.model, "apiKeyEnv": policy.provider.api_key_env,
                    "apiKeySet": bool(os.environ.get(policy.provider.api_key_env))}
    return {
        "state": "errors" if policy.errors else "loaded",
        "files": [s.path for s in policy.sources],
        "errors": [str(e) for e in policy.errors],
        "providerConfigured": provider is not None,
        "provider": provider,
        "tasks": {} if policy.local_only else dict(policy.tasks),
    }


# --- the request: the selection and the local context, each with its real path ------------------


async def build_request(ls: "KuraServer", arg: Any, task: str, instruction: str) -> tuple[str, Target, EscalationRequest]:
    uri, rng = parse_location_argument(arg, EXPLAIN_CLOUD_COMMAND if task == "explain" else FIX_CLOUD_COMMAND)
    if ls.relative_path(uri) is None:
        # Only repository files have a path the policy can judge.
        raise TargetError(f"kura: only files inside the workspace can be sent to the cloud model ({uri})")
    target = await load_target(ls, uri, rng, whole_lines=task == "fix")
    pieces = await ls.query(gather_context, target, ls.index, file_line_reader(ls.root))
    return uri, target, escalation_request(task, target, pieces, instruction)


def escalation_request(task: str, target: Target, pieces: list[LocalPiece], instruction: str) -> EscalationRequest:
    """The policy's request: the target's code as the selection, the task's context pieces, the instruction."""
    selection = ContextPiece(target.path, target.code, "selection", target.start_line + 1, target.end_line + 1)
    return EscalationRequest(task, selection, tuple(_policy_piece(p) for p in pieces), instruction)


def _policy_piece(piece: LocalPiece) -> ContextPiece:
    path, _, line = piece.label.rpartition(":")
    start = int(line) if line.isdigit() else None
    return ContextPiece(path or None, piece.text, _KINDS.get(piece.kind, "context"), start, start)  # type: ignore[arg-type]


def redactions(preview: Preview) -> list[dict]:
    selection = preview.request.selection
    out = []
    for f in preview.findings:
        line = f.finding.line
        if f.piece == "selection" and selection.start_line:
            line += selection.start_line - 1  # a line of the file, not of the excerpt
        out.append({"rule": ", ".join(f.finding.rule_ids), "kind": f.finding.kind, "line": line, "path": f.path,
                    "piece": f.piece, "action": f.finding.action, "placeholder": f.finding.placeholder})
    return out


def preview_json(preview: Preview) -> dict:
    return {
        "decision": preview.decision.action,
        "reason": preview.decision.reason,
        "payload": "" if preview.blocked else preview.body.decode("utf-8"),
        "redactions": redactions(preview),
        "dropped": [{"path": d.path, "kind": d.kind, "reason": d.reason} for d in preview.decision.dropped],
        "summary": preview.summary(),
    }


async def preview_command(ls: "KuraServer", arg: Any) -> dict:
    arg = plain(arg)
    task = arg.get("task", "explain") if isinstance(arg, dict) else "explain"
    escalator = escalator_for(ls)
    if escalator is None:
        return {"decision": "block", "reason": "no workspace folder", "payload": "", "redactions": []}
    try:
        _uri, _target, request = await build_request(ls, arg, task, _instruction(ls, task, ""))
    except TargetError as exc:
        return {"decision": "block", "reason": str(exc), "payload": "", "redactions": []}
    return preview_json(escalator.preview(request))


def _instruction(ls: "KuraServer", task: str, problem: str) -> str:
    """What the cloud model is asked, from the task's `cloud` prompt template (overridable like the others)."""
    template, error = load_template(task, "cloud", ls.settings.prompts_dir)
    if error is not None:
        ls.record_error(str(error))
    language = LANGUAGE_NAMES.get(answer_language(ls.settings.language, ls.locale), "English")
    return template.render(answer_language=language, problem=problem.strip() or DEFAULT_PROBLEM).strip()


# --- approval, send ----------------------------------------------------------------------------------


async def approve(ls: "KuraServer", preview: Preview) -> bool:
    """Approval `prompt`: Send / Show payload / Cancel; "Show payload" shows it and asks again."""
    where = preview.request.selection
    question = (f"kura: send a sanitized excerpt of {where.path}:{where.start_line}-{where.end_line} "
                f"({len(preview.body)} bytes, {len(preview.findings)} redaction(s)) to the cloud model "
                f"{preview.policy.provider.model if preview.policy.provider else ''}?")
    for _ in range(MAX_ASKS):
        try:
            answer = await ls.window_show_message_request_async(types.ShowMessageRequestParams(
                type=types.MessageType.Info, message=question,
                actions=[types.MessageActionItem(title=t) for t in (SEND, SHOW_PAYLOAD, CANCEL)]))
        except Exception:
            log.debug("showMessageRequest failed", exc_info=True)
            return False
        title = getattr(answer, "title", None)
        if title == SEND:
            return True
        if title != SHOW_PAYLOAD:
            return False
        await show_payload(ls, preview)
    return False


async def show_payload(ls: "KuraServer", preview: Preview) -> None:
    text = f"{preview.summary()}\n\n--- exact request body ---\n{preview.body.decode('utf-8')}\n"
    caps = ls.client_capabilities
    if caps and caps.window and caps.window.show_document and caps.window.show_document.support:
        fd, name = tempfile.mkstemp(prefix="kura-payload-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        try:
            await asyncio.wait_for(ls.window_show_document_async(types.ShowDocumentParams(
                uri=Path(name).as_uri(), take_focus=True)), timeout=10)
            return
        except Exception:
            log.debug("showDocument failed", exc_info=True)
    ls.show_to_user(text, types.MessageType.Info)


async def escalate(ls: "KuraServer", escalator: Escalator, preview: Preview, on_text=None) -> EscalationResult:
    """Approve (if asked), send in a worker thread, audit. Blocked previews are audited unless the
    policy itself is broken (then there is no valid audit location to trust)."""
    started = time.perf_counter()
    result = None
    try:
        result = await _escalate(ls, escalator, preview, on_text)
        return result
    finally:
        ls.usage.event("escalation", task=preview.request.task, uri=_selection_uri(ls, preview),
                       outcome=result.outcome if result else "cancelled",
                       reason=(result.reason if result else "the editor cancelled the request")[:200], started=started)


def _selection_uri(ls: "KuraServer", preview: Preview) -> str | None:
    path = preview.request.selection.path
    return (ls.root / path).as_uri() if ls.root is not None and path else None


async def _escalate(ls: "KuraServer", escalator: Escalator, preview: Preview, on_text=None) -> EscalationResult:
    loop = asyncio.get_running_loop()
    if preview.blocked:
        if not preview.policy.local_only:
            return await loop.run_in_executor(None, lambda: escalator.send(preview, approved=False))
        return EscalationResult("blocked", "", preview.decision.reason)
    approved = not preview.needs_approval or await approve(ls, preview)
    stop = threading.Event()
    task = asyncio.current_task()
    follow_request_cancel(ls, task)
    try:
        return await loop.run_in_executor(
            None, lambda: escalator.send(preview, approved=approved, on_text=on_text, cancel=stop.is_set))
    except asyncio.CancelledError:
        stop.set()  # the worker stops between chunks and audits the partial send
        raise


def _notify(ls: "KuraServer", loop, explanation_id: str, uri: str, chunk: str, done: bool, reason: str = "") -> None:
    params = {"id": explanation_id, "uri": uri, "chunk": chunk, "done": done, "cloud": True}
    if reason:
        params["reason"] = reason
    loop.call_soon_threadsafe(ls.protocol.notify, EXPLANATION_NOTIFICATION, params)


def _not_sent_message(result: EscalationResult) -> str:
    if result.outcome == "cancelled":
        return "kura: nothing was sent to the cloud model (cancelled)"
    return f"kura: nothing was sent to the cloud model: {result.reason}"


# --- the commands ------------------------------------------------------------------------------------


async def explain_cloud_command(ls: "KuraServer", arg: Any) -> dict:
    explanation_id = f"kura-explain-cloud-{uuid.uuid4().hex[:12]}"
    escalator = escalator_for(ls)
    if escalator is None:
        ls.show_to_user("kura: cloud escalation needs a workspace folder with a .kura/policy.toml")
        return {"id": explanation_id, "markdown": "", "error": "no workspace folder", "cloud": True}
    try:
        uri, target, request = await build_request(ls, arg, "explain", _instruction(ls, "explain", ""))
    except TargetError as exc:
        tell_target_error(ls, exc)
        return {"id": explanation_id, "markdown": "", "error": str(exc), "cloud": True}
    preview = escalator.preview(request)
    loop = asyncio.get_running_loop()
    model = preview.policy.provider.model if preview.policy.provider else "cloud"
    marker = CLOUD_MARKER.format(model=model)
    started = False

    def on_text(text: str) -> None:
        nonlocal started
        if not started:
            started = True
            _notify(ls, loop, explanation_id, uri, marker, False)
        _notify(ls, loop, explanation_id, uri, text, False)

    token = None
    if not preview.blocked:
        token = await begin_progress(ls, f"kura: asking the cloud model about {target.path}:{target.start_line + 1}-{target.end_line + 1}")
    try:
        result = await escalate(ls, escalator, preview, on_text)
    except asyncio.CancelledError:
        _notify(ls, loop, explanation_id, uri, "", True, "cancelled")
        end_progress(ls, token, "cancelled")
        raise
    end_progress(ls, token, result.outcome)
    if result.outcome == "sent":
        _notify(ls, loop, explanation_id, uri, "", True, "done")
        return {"id": explanation_id, "markdown": marker + result.text, "cloud": True}
    if result.outcome == "failed":
        _notify(ls, loop, explanation_id, uri, "", True, "failed")
        ls.record_error(f"kura: the cloud model failed: {result.reason}; showing the local model's answer instead", show=True)
        local = await explain_command(ls, arg)
        return {**local, "cloud": False, "cloudError": result.reason}
    message = _not_sent_message(result)
    ls.show_to_user(message, types.MessageType.Warning)
    _notify(ls, loop, explanation_id, uri, "", True, result.outcome)
    return {"id": explanation_id, "markdown": "", "error": message, "cloud": True, "outcome": result.outcome}


async def fix_cloud_command(ls: "KuraServer", arg: Any) -> dict:
    from assistant.tasks.edit_validation import validate_fix
    from lsp_server.features.fix import fix_location, workspace_edit

    fix_id = f"kura-fix-cloud-{uuid.uuid4().hex[:12]}"
    fields = plain(arg)
    diagnostic = fields.get("diagnostic") if isinstance(fields, dict) else None
    if isinstance(diagnostic, dict):
        diagnostic = diagnostic.get("message")
    escalator = escalator_for(ls)
    if escalator is None:
        ls.show_to_user("kura: cloud escalation needs a workspace folder with a .kura/policy.toml")
        return {"id": fix_id, "edit": None, "message": "no workspace folder", "cloud": True}
    try:
        uri, target, request = await build_request(ls, fields, "fix", _instruction(ls, "fix", diagnostic or ""))
    except TargetError as exc:
        tell_target_error(ls, exc)
        return {"id": fix_id, "edit": None, "message": str(exc), "cloud": True}
    preview = escalator.preview(request)
    result = await escalate(ls, escalator, preview)
    if result.outcome == "failed":
        ls.record_error(f"kura: the cloud model failed: {result.reason}; trying the local model instead", show=True)
        outcome = await fix_location(ls, fields.get("uri"), fields.get("range"), diagnostic or "")
        edit = ls.protocol._converter.unstructure(outcome.edit) if outcome.edit is not None else None
        return {"id": fix_id, "edit": edit, "message": outcome.message, "cloud": False, "cloudError": result.reason}
    if result.outcome != "sent":
        message = _not_sent_message(result)
        ls.show_to_user(message, types.MessageType.Warning)
        return {"id": fix_id, "edit": None, "message": message, "cloud": True, "outcome": result.outcome}
    validation = validate_fix(target.text, target.path, target.start, target.end, result.text)
    message = f"{validation.message} (cloud model)"
    if validation.change is None:
        ls.show_to_user(message, types.MessageType.Warning)
        return {"id": fix_id, "edit": None, "message": message, "cloud": True, "answer": result.text}
    edit = workspace_edit(ls, uri, target.text, FixOutcome(validation.change, message))
    return {"id": fix_id, "edit": ls.protocol._converter.unstructure(edit), "message": message, "cloud": True}

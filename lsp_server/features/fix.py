"""Fixes: code actions (`quickfix` for the diagnostics the editor passes, `refactor.rewrite` "Fix/improve
with kura" on a selection, plus "Explain with kura"), the model running only on `codeAction/resolve`;
and command `kura.fix` (`[{uri, range, diagnostic?}]` → `{id, edit, message}`)."""

from __future__ import annotations

import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from assistant.tasks.explain import TargetError
from assistant.tasks.fix import FixOutcome
from assistant.models.base import ModelError
from assistant.tasks.runner import FIX, plan_task, run_task
from lsp_server.features.explain import explain_action
from lsp_server.plumbing import client_position, load_target, parse_location_argument, plain, range_json, task_env

if TYPE_CHECKING:
    from lsp_server.server import KuraServer

log = logging.getLogger(__name__)
FIX_COMMAND = "kura.fix"
FIX_APPLIED_COMMAND = "kura.didApplyFix"  # clients run it after applying a fix: `[{uri}]`
ACTION_KINDS = [types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite, types.CodeActionKind.Empty]


def register(server: "KuraServer") -> None:
    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=ACTION_KINDS, resolve_provider=True),
    )
    def code_actions(ls: "KuraServer", params: types.CodeActionParams) -> list[types.CodeAction]:
        return actions_for(params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve(ls: "KuraServer", action: types.CodeAction) -> types.CodeAction:
        data = plain(action.data) if action.data is not None else None
        if not isinstance(data, dict) or data.get("kura") != "fix":
            return action
        outcome = await fix_location(ls, data.get("uri"), data.get("range"), data.get("diagnostic") or "")
        if outcome.change is None or outcome.edit is None:
            ls.show_to_user(outcome.message, types.MessageType.Warning)
            return action
        action.edit = outcome.edit
        # Editors run an action's command after applying its edit: that is how kura learns it was applied.
        action.command = types.Command(title="kura: fix applied", command=FIX_APPLIED_COMMAND,
                                       arguments=[{"uri": data.get("uri")}])
        return action

    @server.command(FIX_APPLIED_COMMAND)
    def fix_applied(ls, *args):
        arg = plain(args[0]) if args else None
        uri = arg.get("uri") if isinstance(arg, dict) else None
        ls.usage.event("fix_applied", task="fix", uri=uri if isinstance(uri, str) else None, outcome="applied")

    @server.command(FIX_COMMAND)
    async def fix(ls, *args):  # no annotations: pygls resolves them at call time
        fix_id = f"kura-fix-{uuid.uuid4().hex[:12]}"
        arg = plain(args[0]) if args else None
        diagnostic = arg.get("diagnostic") if isinstance(arg, dict) else None
        if isinstance(diagnostic, dict):  # a whole LSP Diagnostic is fine too
            diagnostic = diagnostic.get("message")
        outcome = await fix_location(ls, arg.get("uri") if isinstance(arg, dict) else None,
                                     arg.get("range") if isinstance(arg, dict) else None, diagnostic or "")
        if outcome.edit is None:
            ls.show_to_user(outcome.message, types.MessageType.Warning)
        edit = ls.protocol._converter.unstructure(outcome.edit) if outcome.edit is not None else None
        return {"id": fix_id, "edit": edit, "message": outcome.message}


def actions_for(params: types.CodeActionParams) -> list[types.CodeAction]:
    """The lightbulb: cheap, no model. The model runs when an action is resolved."""
    only = params.context.only
    uri, rng = params.text_document.uri, params.range

    def wanted(kind: str) -> bool:
        return not only or any(kind == k or kind.startswith(f"{k}.") for k in only)

    actions: list[types.CodeAction] = []
    if wanted(types.CodeActionKind.QuickFix):
        for d in params.context.diagnostics:
            if not _overlaps(d.range, rng):
                continue
            source = f"{d.source}: " if d.source else ""
            first = d.message.strip().splitlines()[0] if d.message.strip() else "problem"
            actions.append(types.CodeAction(
                title=f"Fix with kura: {first}"[:100], kind=types.CodeActionKind.QuickFix, diagnostics=[d],
                data={"kura": "fix", "uri": uri, "range": range_json(d.range), "diagnostic": f"{source}{d.message}"},
            ))
    selection = rng.start != rng.end
    if selection and wanted(types.CodeActionKind.RefactorRewrite):
        actions.append(types.CodeAction(
            title="Fix/improve with kura", kind=types.CodeActionKind.RefactorRewrite,
            data={"kura": "fix", "uri": uri, "range": range_json(rng), "diagnostic": ""},
        ))
    if selection and (not only or types.CodeActionKind.Empty in only):
        actions.append(explain_action(uri, rng))
    return actions


class _Result(FixOutcome):
    edit: types.WorkspaceEdit | None = None


async def fix_location(ls: "KuraServer", uri: Any, rng: Any, problem: str) -> _Result:
    """Run the fix for `uri`/`rng` and return the outcome with its WorkspaceEdit (or why none)."""
    try:
        uri, lsp_range = parse_location_argument({"uri": uri, "range": rng}, FIX_COMMAND)
        target = await load_target(ls, uri, lsp_range, whole_lines=True)
    except TargetError as exc:
        return _result(FixOutcome(None, str(exc)))
    try:
        if ls.completions is None:
            return _result(FixOutcome(None, "kura: the model is not configured yet"))
        worker = await ls.completions.model.worker()
    except ModelError as exc:
        ls.record_error(str(exc))
        return _result(FixOutcome(None, str(exc)))
    plan = await plan_task(FIX, target, worker, task_env(ls), problem=problem)
    if plan.template_error is not None:
        ls.record_error(str(plan.template_error), show=True)
    started = time.perf_counter()
    try:
        outcome = await run_task(FIX, plan, worker)
    except ModelError as exc:
        ls.record_error(str(exc))
        ls.usage.event("fix_offered", task="fix", uri=uri, outcome="failed", reason=str(exc)[:200], started=started)
        return _result(FixOutcome(None, str(exc)))
    result = _result(outcome)
    if outcome.change is not None:
        result.edit = workspace_edit(ls, uri, target.text, outcome)
        ls.usage.event("fix_offered", task="fix", uri=uri, outcome="offered", started=started,
                       chars=len(outcome.change.new_text), text=outcome.change.new_text)
    else:  # the model answered, but nothing passed validation
        ls.usage.event("fix_offered", task="fix", uri=uri, outcome="invalid", reason=outcome.message[:200], started=started)
    return result


def workspace_edit(ls: "KuraServer", uri: str, text: str, outcome: FixOutcome) -> types.WorkspaceEdit:
    """One TextEdit in the selection's file; versioned when the client takes documentChanges."""
    change = outcome.change
    assert change is not None
    start, end = client_position(ls, text, change.start), client_position(ls, text, change.end)
    edit = types.TextEdit(range=types.Range(start=start, end=end), new_text=change.new_text)
    caps = ls.client_capabilities
    doc = ls.workspace.text_documents.get(uri)
    if doc is not None and caps and caps.workspace and caps.workspace.workspace_edit \
            and caps.workspace.workspace_edit.document_changes:
        return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=doc.version), edits=[edit])])
    return types.WorkspaceEdit(changes={uri: [edit]})


def _result(outcome: FixOutcome) -> _Result:
    return _Result(outcome.change, outcome.message, outcome.answer, outcome.result, outcome.total_ms)


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return p.line, p.character

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)

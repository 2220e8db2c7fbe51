"""Fixes end to end: code actions for diagnostics and selections, the model only on resolve, and
only validated edits (or a clear message) coming back."""

from __future__ import annotations

import pytest
from lsprotocol import types

from assistant.tasks.edit_validation import syntax_errors
from tests.e2e.conftest import start, to_plain
from tests.fixtures.tiny_gguf import make_tiny_gguf

BROKEN = "def total(items):\n    s = 0\n    for x in items\n        s += x\n    return s\n"
DIAGNOSTIC = types.Diagnostic(
    range=types.Range(start=types.Position(line=2, character=18), end=types.Position(line=2, character=18)),
    message="expected ':'", source="pyright", severity=types.DiagnosticSeverity.Error)


def open_broken(client, repo):
    path = repo / "calc.py"
    path.write_text(BROKEN, encoding="utf-8")
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=path.as_uri(), language_id="python", version=1, text=BROKEN)))
    return path.as_uri()


async def code_actions(client, uri, rng, diagnostics=()):
    return await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=rng,
        context=types.CodeActionContext(diagnostics=list(diagnostics))))


def applied(text: str, edit: types.TextEdit) -> str:
    lines = text.splitlines(True)
    offset = lambda p: sum(len(l) for l in lines[: p.line]) + p.character
    return text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]


@pytest.mark.asyncio
async def test_a_diagnostic_gets_a_quickfix_that_resolves_to_a_valid_edit_or_a_clear_message(client, repo):
    await start(client, repo)  # the embedded model
    uri = open_broken(client, repo)

    actions = await code_actions(client, uri, DIAGNOSTIC.range, [DIAGNOSTIC])
    quickfix = next(a for a in actions if a.kind == types.CodeActionKind.QuickFix)
    assert quickfix.edit is None and "expected ':'" in quickfix.title  # nothing computed for the lightbulb
    resolved = await client.code_action_resolve_async(quickfix)

    if resolved.edit is None:
        assert any(m.message.startswith("kura:") for m in client.messages)
    else:
        changes = resolved.edit.changes or {d.text_document.uri: d.edits for d in resolved.edit.document_changes}
        (edit,) = changes[uri]
        assert edit.range.start.line >= 2 and edit.range.end.line <= 3  # inside the diagnostic's line
        assert syntax_errors(applied(BROKEN, edit), "calc.py") == []


@pytest.mark.asyncio
async def test_a_garbage_answer_is_rejected_with_a_message_not_a_broken_edit(client, repo, tmp_path):
    tiny = make_tiny_gguf(tmp_path / "tiny.gguf", family="qwen")
    await start(client, repo, {"model": {"path": str(tiny)}})
    uri = open_broken(client, repo)

    result = to_plain(await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="kura.fix", arguments=[{"uri": uri, "range": {"start": {"line": 2, "character": 0},
                                                              "end": {"line": 4, "character": 0}},
                                        "diagnostic": "expected ':'"}])))

    assert result["edit"] is None and result["message"].startswith("kura:")
    assert any(m.message == result["message"] for m in client.messages)


@pytest.mark.asyncio
async def test_a_selection_offers_fix_improve_and_explain_and_only_asked_kinds(client, repo, tmp_path):
    await start(client, repo, {"model": {"path": str(make_tiny_gguf(tmp_path / "tiny.gguf"))}})
    uri = open_broken(client, repo)
    selection = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=4, character=0))

    titles = {a.title for a in await code_actions(client, uri, selection)}
    only = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=selection,
        context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.QuickFix])))

    assert {"Fix/improve with kura", "Explain with kura"} <= titles
    assert not only


@pytest.mark.asyncio
async def test_fix_outside_the_document_says_so(client, repo, tmp_path):
    await start(client, repo, {"model": {"path": str(make_tiny_gguf(tmp_path / "tiny.gguf"))}})
    uri = open_broken(client, repo)

    result = to_plain(await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="kura.fix", arguments=[{"uri": uri, "range": {"start": {"line": 90, "character": 0},
                                                              "end": {"line": 95, "character": 0}}}])))

    assert result["edit"] is None and "outside" in result["message"]

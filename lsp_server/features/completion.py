"""Completions: `textDocument/inlineCompletion` (ghost text, the main path) and
`textDocument/completion` (index symbols matching the prefix, plus one AI item)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from lsprotocol import types

from assistant.settings import Settings
from assistant.completion.service import CompletionService, DocumentSnapshot
from assistant.context.builder import RecentEdit
from lsp_server.plumbing import spawn
from lsp_server.positions import WORD

if TYPE_CHECKING:
    from lsp_server.server import KuraServer

log = logging.getLogger(__name__)
MAX_SYMBOL_ITEMS = 30
ACCEPTED_COMMAND = "kura.didAcceptCompletion"  # attached to every inline item
ACCEPTED_NOTIFICATION = "kura/didAcceptCompletion"
DISMISSED_NOTIFICATION = "kura/didDismissCompletion"
# Server → editor: a suggestion for this document finished after its request was answered empty
# (completion.firstSuggestionTimeoutMs); asking again at the same place answers it from the cache.
SUGGESTION_READY_NOTIFICATION = "kura/suggestionReady"
# Editor → server: the cursor came to rest here ({uri, position}); the model prefills the prompt a
# completion here would send, so the first suggestion does not start from a cold cache.
CURSOR_NOTIFICATION = "kura/cursorMoved"
TOGGLE_COMMAND = "kura.toggleCompletions"


def register(server: "KuraServer") -> None:
    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(ls: "KuraServer", params: types.InlineCompletionParams):
        snapshot = snapshot_at(ls, params.text_document.uri, params.position)
        if snapshot is None or ls.completions is None or not ls.settings.completion.enabled:
            return types.InlineCompletionList(items=[])
        invoked = params.context is not None and params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
        outcome = await ls.completions.complete(snapshot, invoked)
        if outcome is None or not outcome.text:
            return types.InlineCompletionList(items=[])
        here = types.Position(line=params.position.line, character=params.position.character)
        ls.usage.shown(snapshot.doc_id, snapshot.line, snapshot.language_id, outcome)
        return types.InlineCompletionList(items=[
            types.InlineCompletionItem(
                insert_text=outcome.text,
                range=types.Range(start=here, end=here),
                command=types.Command(title="kura: accepted", command=ACCEPTED_COMMAND,
                                      arguments=[{"uri": snapshot.doc_id, "id": outcome.id}]),
            )
        ])

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=["."]))
    async def completion(ls: "KuraServer", params: types.CompletionParams):
        snapshot = snapshot_at(ls, params.text_document.uri, params.position)
        if snapshot is None:
            return types.CompletionList(is_incomplete=False, items=[])
        prefix = word_before(snapshot.text, snapshot.offset)
        items: list[types.CompletionItem] = []
        if prefix and ls.index is not None:
            found = await ls.query(ls.index.search_symbols, prefix, MAX_SYMBOL_ITEMS)
            seen: set[str] = set()
            for d in found:
                if d.name in seen or not d.name.lower().startswith(prefix.lower()[:1]):
                    continue
                seen.add(d.name)
                items.append(types.CompletionItem(
                    label=d.name, kind=_completion_kind(d.kind), detail=d.signature.splitlines()[0] if d.signature else None,
                    documentation=d.doc or None, sort_text=f"1{len(items):04d}",
                ))
        if ls.completions is not None and ls.settings.completion.enabled:
            # complete() answers empty at the first-suggestion cap itself, and leaves a generation
            # that an inline request for the same place also waits for running (a timeout here
            # would cancel it under that request).
            outcome = await ls.completions.complete(snapshot)
            if outcome is not None and outcome.text.strip():
                first_line = outcome.text.strip().splitlines()[0]
                here = types.Position(line=params.position.line, character=params.position.character)
                items.insert(0, types.CompletionItem(
                    label=f"✨ {prefix}{first_line}"[:80], kind=types.CompletionItemKind.Snippet, detail="kura (local model)",
                    filter_text=prefix + outcome.text, sort_text="0",
                    text_edit=types.TextEdit(range=types.Range(start=here, end=here), new_text=outcome.text),
                    insert_text_format=types.InsertTextFormat.PlainText,
                ))
        return types.CompletionList(is_incomplete=True, items=items)

    # No annotations on command/notification handlers: pygls resolves them at call time, and
    # "KuraServer" exists only for type checkers.
    @server.command(ACCEPTED_COMMAND)
    def accepted_command(ls, *args):
        _accepted(ls, args[0] if args else None)

    @server.feature(ACCEPTED_NOTIFICATION)
    def accepted_notification(ls, params):
        _accepted(ls, params)

    @server.feature(CURSOR_NOTIFICATION)
    async def cursor_moved(ls: "KuraServer", params):
        uri, position = _field(params, "uri"), _field(params, "position")
        line, character = _field(position, "line"), _field(position, "character")
        if (ls.completions is None or not ls.settings.completion.enabled or not isinstance(uri, str)
                or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in (line, character))):
            return
        snapshot = snapshot_at(ls, uri, types.Position(line=line, character=character))
        if snapshot is not None:
            await ls.completions.warm(snapshot)

    @server.feature(DISMISSED_NOTIFICATION)
    def dismissed(ls, params):
        uri, suggestion_id = _field(params, "uri"), _field(params, "id")
        if ls.completions is not None and uri:
            ls.completions.cache.invalidate(uri)
        reason = _field(params, "reason")
        log.debug("a suggestion was dismissed (%s): its cache anchor is dropped", reason)
        if isinstance(suggestion_id, str):
            ls.usage.dismissed(suggestion_id, reason if isinstance(reason, str) else None)

    @server.command(TOGGLE_COMMAND)
    def toggle(ls, *args):
        wanted = args[0] if args and isinstance(args[0], bool) else not ls.settings.completion.enabled
        ls.settings = replace(ls.settings, completion=replace(ls.settings.completion, enabled=wanted))
        return {"enabled": wanted}


def _field(params, name: str):
    """A field of a custom message's params: a dict, or the namedtuple pygls makes of one."""
    if isinstance(params, dict):
        return params.get(name)
    return getattr(params, name, None)


def _accepted(ls: "KuraServer", params) -> None:
    """A whole suggestion (the item's command) or a part of it (`acceptedChars`) was accepted."""
    uri, suggestion_id, chars = _field(params, "uri"), _field(params, "id"), _field(params, "acceptedChars")
    partial = chars if isinstance(chars, int) and not isinstance(chars, bool) else None
    if ls.completions is not None and isinstance(uri, str):
        if partial is None:
            next_line = ls.completions.accepted(uri, ls.relative_path(uri))
            if next_line is not None and ls.settings.completion.enabled:
                spawn(ls.completions.speculate(next_line))  # while the user reads what was accepted
        else:
            ls.completions.cache.invalidate(uri)
    if isinstance(suggestion_id, str):
        ls.usage.accepted(suggestion_id, partial)


def snapshot_at(ls: "KuraServer", uri: str, position: types.Position) -> DocumentSnapshot | None:
    """The document's text and the cursor as a code-point offset; None for positions outside it."""
    doc = ls.document(uri)
    if doc is None:
        return None
    lines = doc.lines
    if position.line < 0 or position.character < 0 or position.line > len(lines):
        return None
    if position.line == len(lines):  # the empty last line after a final newline
        if position.character != 0:
            return None
        line_text = ""
    else:
        line_text = lines[position.line]
        if doc.position_codec.client_num_units(line_text.rstrip("\r\n")) < position.character:
            return None
    server_pos = doc.position_codec.position_from_client_units(lines, types.Position(position.line, position.character)) if lines else None
    character = server_pos.character if server_pos else 0
    offset = sum(len(l) for l in lines[: position.line]) + character
    return DocumentSnapshot(
        doc_id=uri, path=ls.relative_path(uri), language_id=doc.language_id or "", text=doc.source,
        offset=offset, line=position.line, character=character, version=doc.version,
    )


def word_before(text: str, offset: int) -> str:
    start = offset
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_$"):
        start -= 1
    word = text[start:offset]
    return word if WORD.fullmatch(word or "-") else ""


def configure_completions(ls: "KuraServer", previous: Settings) -> None:
    """Create the completion service, or swap its model when the model settings changed."""
    if ls.completions is None:
        ls.completions = CompletionService(
            ls.settings, index=lambda: ls.index, recent=lambda path: recent_edits(ls, path),
            root=lambda: ls.root, on_error=ls.record_error, on_ready=lambda uri: _suggestion_ready(ls, uri),
        )
    elif previous.model != ls.settings.model or previous.completion != ls.settings.completion:
        ls.completions.reconfigure(ls.settings)


def _suggestion_ready(ls: "KuraServer", uri: str) -> None:
    if not ls.editor_gone:
        ls.protocol.notify(SUGGESTION_READY_NOTIFICATION, {"uri": uri})


def recent_edits(ls: "KuraServer", current: str | None, limit: int = 3) -> list[RecentEdit]:
    """Other open files the user edited lately, newest first, with the line of the last edit."""
    out = []
    for path, (_, line) in sorted(ls.recent_edits.items(), key=lambda item: -item[1][0]):
        if path == current or ls.root is None:
            continue
        doc = ls.workspace.text_documents.get((ls.root / path).as_uri())
        if doc is not None:
            out.append(RecentEdit(path, doc.source, line))
        if len(out) == limit:
            break
    return out


def _completion_kind(kind: int) -> types.CompletionItemKind:
    return {
        5: types.CompletionItemKind.Class, 6: types.CompletionItemKind.Method, 12: types.CompletionItemKind.Function,
        13: types.CompletionItemKind.Variable, 14: types.CompletionItemKind.Constant, 8: types.CompletionItemKind.Field,
        10: types.CompletionItemKind.Enum, 11: types.CompletionItemKind.Interface, 23: types.CompletionItemKind.Struct,
        2: types.CompletionItemKind.Module, 7: types.CompletionItemKind.Property, 9: types.CompletionItemKind.Constructor,
    }.get(kind, types.CompletionItemKind.Text)

"""The usage log end to end: the real server, a real model, the editor's accept/dismiss reports,
and the SQLite file it writes. Nothing here leaves the machine; no code text unless the policy says so."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from lsprotocol import types

from tests.e2e.conftest import inline, open_document, start, status, to_plain, wait_for_model

NEW_LINE = "\n\ndef describe(product: Product) -> str:\n    return "


def options(tmp_path: Path, tiny_model: Path, **usage) -> dict:
    return {"model": {"path": str(tiny_model)}, "completion": {"debounceMs": 0, "firstSuggestionTimeoutMs": 0},
            "index": {"path": str(tmp_path / "index.sqlite"), "watch": False},
            "usage": {"path": str(tmp_path / "usage.sqlite"), "keptAfterSeconds": 0, **usage}}


def read(path: Path, table: str) -> list[dict]:
    if not path.exists():
        return []
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute(f"SELECT * FROM {table} ORDER BY ts")]
    except sqlite3.OperationalError:  # the server has not created the tables yet
        return []
    finally:
        db.close()


async def eventually(what: str, check, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} (last: {value!r})")
        await asyncio.sleep(0.05)


async def suggest(client, repo: Path, name: str = "shop/checkout.py"):
    """Open a file ending mid-statement and get one suggestion: (uri, line, col, item)."""
    path = repo / name
    text = path.read_text() + NEW_LINE
    uri = open_document(client, path, text)
    line, col = text.count("\n"), len(text.split("\n")[-1])
    result = await inline(client, uri, line, col)
    assert result.items and result.items[0].insert_text, "the tiny model (fixed seed) suggested nothing"
    return uri, line, col, result.items[0], text


def edit(client, uri: str, version: int, line: int, col: int, end_col: int, text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line, col), end=types.Position(line, end_col)), text=text)]))


async def test_an_accepted_suggestion_is_logged_with_the_characters_that_survived(client, repo, tmp_path, tiny_model):
    log = tmp_path / "usage.sqlite"
    await start(client, repo, options(tmp_path, tiny_model))
    await wait_for_model(client)
    uri, line, col, item, _ = await suggest(client, repo)
    shown = await eventually("the shown row", lambda: read(log, "suggestions"))
    assert shown[0]["id"] == item.command.arguments[0]["id"] and shown[0]["outcome"] == "shown"
    assert shown[0]["language"] == "python" and shown[0]["shown_chars"] == len(item.insert_text)
    assert shown[0]["latency_ms"] > 0 and shown[0]["backend"] == "llama_cpp" and shown[0]["model"] == Path(tiny_model).stem
    assert shown[0]["text"] is None  # no policy: no code in the log

    # Tab: the editor inserts the text and runs the item's command. The user's later edit (deleting
    # the last 3 characters) is sent first here, so the measurement (keptAfterSeconds=0) sees it
    # without the test depending on timing.
    suggestion = item.insert_text
    edit(client, uri, 2, line, col, col, suggestion)
    edit(client, uri, 3, line, col + len(suggestion) - 3, col + len(suggestion), "")
    await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=item.command.command, arguments=item.command.arguments))
    row = (await eventually("kept characters", lambda: [r for r in read(log, "suggestions") if r["kept_chars"] is not None]))[0]
    assert row["outcome"] == "accepted" and row["accepted_chars"] == len(suggestion)
    assert row["kept_chars"] == len(suggestion) - 3


async def test_partial_accepts_dismissals_and_typing_over_are_told_apart(client, repo, tmp_path, tiny_model):
    log = tmp_path / "usage.sqlite"
    await start(client, repo, options(tmp_path, tiny_model, keptAfterSeconds=3600))
    await wait_for_model(client)
    ids = []
    for name in ("shop/checkout.py", "shop/cart.py", "shop/models.py"):
        *_, item, _ = await suggest(client, repo, name)
        ids.append(item.command.arguments[0])
    partial, dismissed, typed_over = ids
    client.protocol.notify("kura/didAcceptCompletion", {**partial, "acceptedChars": 2})
    client.protocol.notify("kura/didDismissCompletion", {**dismissed, "reason": "hidden"})
    client.protocol.notify("kura/didDismissCompletion", {**typed_over, "reason": "typed_over"})
    client.protocol.notify("kura/didDismissCompletion", {**partial, "reason": "moved"})  # after a partial accept

    def settled():
        got = {r["id"]: r for r in read(log, "suggestions")}
        return got if all(got.get(i["id"], {}).get("outcome") != "shown" for i in ids) else None

    got = await eventually("three outcomes", settled)
    assert (got[partial["id"]]["outcome"], got[partial["id"]]["accepted_chars"]) == ("partial", 2)
    assert (got[dismissed["id"]]["outcome"], got[dismissed["id"]]["reason"]) == ("dismissed", "hidden")
    assert got[typed_over["id"]]["outcome"] == "typed_over"


async def test_the_policy_can_store_suggestion_text_but_never_for_confidential_paths(client, repo, tmp_path, tiny_model):
    (repo / ".kura").mkdir()
    (repo / ".kura/policy.toml").write_text('version = 1\n[paths]\nconfidential = ["shop/cart.py"]\n'
                                            '[usage]\nstore_code = true\n')
    log = tmp_path / "usage.sqlite"
    await start(client, repo, options(tmp_path, tiny_model))
    await wait_for_model(client)
    *_, open_item, _ = await suggest(client, repo, "shop/checkout.py")
    *_, secret_item, _ = await suggest(client, repo, "shop/cart.py")
    got = {r["id"]: r for r in await eventually("two rows", lambda: len(read(log, "suggestions")) == 2 and read(log, "suggestions"))}
    assert got[open_item.command.arguments[0]["id"]]["text"] == open_item.insert_text
    assert got[secret_item.command.arguments[0]["id"]]["text"] is None


async def test_explanations_fixes_applied_and_escalations_are_logged(client, repo, tmp_path, tiny_model):
    log = tmp_path / "usage.sqlite"
    await start(client, repo, options(tmp_path, tiny_model))
    await wait_for_model(client)
    where = {"uri": (repo / "shop/cart.py").as_uri(),
             "range": {"start": {"line": 17, "character": 0}, "end": {"line": 19, "character": 0}}}
    explained = to_plain(await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="kura.explain", arguments=[where])))
    await client.workspace_execute_command_async(types.ExecuteCommandParams(command="kura.didApplyFix", arguments=[where]))
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="kura.explainCloud", arguments=[where]))  # no policy: blocked

    events = await eventually("three events", lambda: len(read(log, "events")) >= 3 and read(log, "events"))
    by_kind = {e["kind"]: e for e in events}
    assert by_kind["explain"]["outcome"] == "done" and by_kind["explain"]["chars"] == len(explained["markdown"])
    assert by_kind["explain"]["latency_ms"] > 0 and by_kind["explain"]["language"] == "python"
    assert by_kind["explain"]["text"] is None
    assert by_kind["fix_applied"]["outcome"] == "applied"
    escalation = by_kind["escalation"]
    assert escalation["task"] == "explain" and escalation["outcome"] == "blocked" and escalation["reason"]


async def test_an_unusable_log_is_reported_left_untouched_and_completions_go_on(client, repo, tmp_path, tiny_model):
    log = tmp_path / "usage.sqlite"
    log.write_bytes(b"this is not a database" * 50)
    before = log.read_bytes()
    await start(client, repo, options(tmp_path, tiny_model))
    await wait_for_model(client)
    *_, item, _ = await suggest(client, repo)
    assert item.insert_text
    current = await status(client)
    assert "usage log off" in current["usage"]["error"] and str(log) in current["usage"]["error"]
    assert log.read_bytes() == before


async def test_a_disabled_log_writes_nothing(client, repo, tmp_path, tiny_model):
    await start(client, repo, options(tmp_path, tiny_model, enabled=False))
    await wait_for_model(client)
    await suggest(client, repo)
    assert (await status(client))["usage"]["enabled"] is False
    assert not (tmp_path / "usage.sqlite").exists()

"""Errors go to the log and `kura/status`; the user is told once per kind of message, not once per error.

The server is the real `create_server()` with pygls' real dispatch; only its output is caught, as the
editor would read it, instead of going to stdout.
"""

from __future__ import annotations

import json

from lsprotocol import types

from lsp_server.server import create_server


class Editor:
    """What the server writes, read back as LSP messages."""

    def __init__(self) -> None:
        self.buffer = b""

    def write(self, data: bytes) -> None:
        self.buffer += data

    def messages(self) -> list[dict]:
        out, rest = [], self.buffer
        while rest:
            header, _, rest = rest.partition(b"\r\n\r\n")
            length = int(next(line for line in header.split(b"\r\n") if line.lower().startswith(b"content-length")).split(b":")[1])
            out.append(json.loads(rest[:length]))
            rest = rest[length:]
        return out

    def shown(self) -> list[str]:
        return [m["params"]["message"] for m in self.messages() if m.get("method") == "window/showMessage"]

    def logged(self) -> list[str]:
        return [m["params"]["message"] for m in self.messages() if m.get("method") == "window/logMessage"]


def serve():
    server = create_server()
    editor = Editor()
    server.protocol.set_writer(editor)
    return server, editor


def receive(server, message: dict) -> None:
    """One message from the editor, through pygls' own parsing and dispatch."""
    server.protocol.handle_message(json.loads(json.dumps(message), object_hook=server.protocol.structure_message))


def test_a_notification_handler_that_raises_twice_pops_up_once_and_logs_both():
    server, editor = serve()
    calls = []

    @server.feature("kura/testExplode")
    def explode(ls, params):
        calls.append(params)
        raise RuntimeError(f"boom {len(calls)}")

    receive(server, {"jsonrpc": "2.0", "method": "kura/testExplode", "params": {}})
    receive(server, {"jsonrpc": "2.0", "method": "kura/testExplode", "params": {}})

    assert len(calls) == 2
    assert len(editor.shown()) == 1 and "boom 1" in editor.shown()[0]
    assert any("boom 2" in m for m in editor.logged())
    assert "boom 2" in server.last_error


def test_the_same_error_reported_again_is_not_shown_again_but_another_kind_is():
    server, editor = serve()

    for attempt in range(3):
        server.record_error(f"kura: the model failed (attempt {attempt})", show=True)
    server.record_error("kura: the policy file is broken", show=True, once_per="policy")
    server.record_error("kura: the policy file is still broken", show=True, once_per="policy")

    assert editor.shown() == ["kura: the model failed (attempt 0)", "kura: the policy file is broken"]
    assert server.last_error == "kura: the policy file is still broken"


def test_a_message_from_the_same_place_is_shown_once():
    server, editor = serve()

    for name in ("a.py", "b.py"):
        server.show_to_user(f"kura: cannot explain {name}", types.MessageType.Warning)

    assert editor.shown() == ["kura: cannot explain a.py"]


def test_a_request_that_fails_gets_its_error_reply_and_no_popup():
    server, editor = serve()

    @server.feature("kura/testFail")
    def fail(ls, params):
        raise ValueError("bad request")

    receive(server, {"jsonrpc": "2.0", "id": 7, "method": "kura/testFail", "params": {}})

    (reply,) = [m for m in editor.messages() if m.get("id") == 7]
    assert "bad request" in reply["error"]["message"]
    assert editor.shown() == []
    assert "bad request" in server.last_error


class GoneEditor:
    """An editor whose end of the connection is closed: every write fails, as on a closed stdout."""

    def __init__(self) -> None:
        self.attempts = 0

    def write(self, data: bytes) -> None:
        self.attempts += 1
        raise ValueError("I/O operation on closed file.")


def test_when_the_editor_is_gone_errors_are_logged_not_sent_round_and_round():
    server = create_server()
    gone = GoneEditor()
    server.protocol.set_writer(gone)

    server.record_error("kura: something failed", show=True)  # a send fails, which is reported, which sends...
    server.record_error("kura: something else failed", show=True)

    assert server.editor_gone
    assert gone.attempts <= 2  # one failed try, then nothing more: no loop of reports about reports
    assert server.last_error == "kura: something else failed"

"""Ten thousand well-framed but malformed messages: the server keeps answering, stays up, and tells
the user at most a handful of things (the errors go to its log and `kura/status`, not to popups)."""

from __future__ import annotations

import itertools
import json
import os
import queue
import random
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from lsprotocol import converters
from pytest_lsp import client_capabilities

from tests.e2e.conftest import SERVER

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

MESSAGES = 10_000
PROBE_EVERY = 250
PROBE_TIMEOUT = 60.0
# One popup per kind of message, however many times it happens. A malformed command argument is a
# client bug, answered and logged, not popped up; kura.fix still shows the message it answers with
# (once). One more, an internal error, is allowed.
MAX_POPUPS = 2

REQUESTS = [
    "textDocument/inlineCompletion", "textDocument/completion", "textDocument/hover", "textDocument/definition",
    "textDocument/references", "textDocument/documentSymbol", "textDocument/codeAction", "codeAction/resolve",
    "workspace/symbol", "workspace/executeCommand", "kura/status",
]
NOTIFICATIONS = [
    "textDocument/didOpen", "textDocument/didChange", "textDocument/didSave", "textDocument/didClose",
    "workspace/didChangeWatchedFiles", "kura/didAcceptCompletion", "kura/didDismissCompletion", "$/cancelRequest",
]
COMMANDS = [
    "kura.explain", "kura.fix", "kura.explainCloud", "kura.fixCloud", "kura.previewEscalation", "kura.reindex",
    "kura.toggleCompletions", "kura.didAcceptCompletion", "kura.didApplyFix", "kura.nonexistent",
]


class RawServer:
    """The server over stdio with no client library: a thread writing frames, a thread reading them
    that answers the server's own requests like a minimal editor would. (Writing from its own thread,
    so that the reader never waits on a full stdin while the server waits on a full stdout.)"""

    def __init__(self, command: list[str], log: Path, configuration: dict) -> None:
        self.configuration = configuration
        self.log_path = log
        self.log = log.open("wb")
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log)
        self.replies: dict[Any, dict] = {}
        self.reader_error: BaseException | None = None
        self.notifications: list[dict] = []
        self.changed = threading.Condition()
        self.outbox: queue.Queue[bytes | None] = queue.Queue(maxsize=64)
        self.bytes_sent = 0
        self.reader = threading.Thread(target=self._read, name="lsp-reader", daemon=True)
        self.writer = threading.Thread(target=self._write, name="lsp-writer", daemon=True)
        self.reader.start()
        self.writer.start()

    def send(self, message: dict | bytes) -> None:
        body = message if isinstance(message, bytes) else json.dumps(message).encode()
        self.bytes_sent += len(body)
        self.outbox.put(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def _write(self) -> None:
        while (frame := self.outbox.get()) is not None:
            try:
                self.proc.stdin.write(frame)
                self.proc.stdin.flush()
            except OSError:
                return

    def request(self, msg_id: str, method: str, params: Any, timeout: float) -> dict | None:
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        with self.changed:
            while msg_id not in self.replies:
                left = deadline - time.monotonic()
                if self.reader_error is not None:
                    raise AssertionError("reading the server's output failed") from self.reader_error
                if left <= 0 or not self.reader.is_alive():
                    return None
                self.changed.wait(left)
            return self.replies.pop(msg_id)

    def shown(self) -> list[str]:
        with self.changed:
            return [n["params"]["message"] for n in self.notifications if n["method"] == "window/showMessage"]

    def _read(self) -> None:
        try:
            self._read_frames()
        except BaseException as exc:
            self.reader_error = exc
        finally:
            with self.changed:
                self.changed.notify_all()

    def _read_frames(self) -> None:
        stream = self.proc.stdout
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            assert length is not None, "a frame without Content-Length"
            message = json.loads(stream.read(length))
            if "method" in message and "id" in message:
                body = json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": self._answer(message)}).encode()
                threading.Thread(target=self.outbox.put, args=(b"Content-Length: %d\r\n\r\n" % len(body) + body,),
                                 daemon=True).start()  # never block reading on a full outbox
                continue
            with self.changed:
                if "method" in message:
                    self.notifications.append(message)
                elif isinstance(message.get("id"), (int, str)):  # ids the fuzz made up are echoed too
                    self.replies[message["id"]] = message
                self.changed.notify_all()

    def _answer(self, request: dict) -> Any:
        if request["method"] == "workspace/configuration":
            return [self.configuration for _ in request["params"]["items"]]
        return None

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (Linux; NaN elsewhere)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def close(self) -> int | None:
        """Shut the server down politely; its exit code (None if it had to be killed)."""
        if self.proc.poll() is None:
            try:
                self.request("shutdown", "shutdown", None, timeout=10)
                self.send({"jsonrpc": "2.0", "method": "exit"})
                self.outbox.put(None)
                self.writer.join(timeout=15)
                self.proc.stdin.close()
                return self.proc.wait(timeout=15)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
                return None
            finally:
                self.log.close()
        self.log.close()
        return self.proc.returncode


# --- the malformed messages ---------------------------------------------------------------------------


class Fuzzer:
    """Deterministic malformed messages around the methods the server registers."""

    def __init__(self, seed: int, real_uris: list[str]) -> None:
        self.rng = random.Random(seed)
        self.real_uris = real_uris
        self.ids = itertools.count(1)

    def garbage(self, depth: int = 0) -> Any:
        r = self.rng
        choices = [
            lambda: None, lambda: True, lambda: -1, lambda: 0, lambda: 2**63, lambda: -(2**31) - 1, lambda: 1.5e300,
            lambda: "", lambda: "\ud800", lambda: "\udfff tail", lambda: "x" * 100_000, lambda: "é" * r.randint(1, 50),
            lambda: "file:///nowhere/ghost.py", lambda: "untitled:Untitled-9", lambda: "file://%zz", lambda: "\x00",
            lambda: r.choice(self.real_uris), lambda: [], lambda: {}, lambda: r.random(),
        ]
        if depth < 3:
            choices += [lambda: [self.garbage(depth + 1) for _ in range(r.randint(1, 3))],
                        lambda: {r.choice(["uri", "line", "range", "text", "id", "jsonrpc"]): self.garbage(depth + 1)}]
        return r.choice(choices)()

    def uri(self) -> Any:
        r = self.rng.random()
        if r < 0.5:
            return self.rng.choice(self.real_uris)
        if r < 0.8:
            return self.rng.choice(["file:///nowhere/ghost.py", "untitled:Untitled-1", "https://example.invalid/x.py",
                                    "file:///etc/passwd", "not a uri", "file://" + "a/" * 2000])
        return self.garbage()

    def position(self) -> Any:
        r = self.rng
        if r.random() < 0.7:
            return {"line": r.choice([-1, 0, 3, 12, 10**6, 2**31, -(2**31)]), "character": r.choice([-5, 0, 4, 80, 10**9])}
        return r.choice([{"line": "3", "character": 0}, {"line": 1}, {}, [1, 2], None, {"line": 1.5, "character": None}])

    def range(self) -> Any:
        if self.rng.random() < 0.8:
            return {"start": self.position(), "end": self.position()}
        return self.garbage()

    def document(self) -> dict:
        return {"uri": self.uri()}

    def params(self, method: str) -> Any:
        r = self.rng
        doc, pos = self.document(), self.position()
        if method in ("textDocument/hover", "textDocument/definition", "textDocument/completion"):
            return {"textDocument": doc, "position": pos}
        if method == "textDocument/inlineCompletion":
            return {"textDocument": doc, "position": pos, "context": {"triggerKind": r.choice([1, 2, 0, 99, "x"])}}
        if method == "textDocument/references":
            return {"textDocument": doc, "position": pos, "context": {"includeDeclaration": r.choice([True, "yes", None])}}
        if method == "textDocument/documentSymbol":
            return {"textDocument": doc}
        if method in ("textDocument/codeAction", "codeAction/resolve"):
            return {"textDocument": doc, "range": self.range(),
                    "context": {"diagnostics": r.choice([[], [{"range": self.range(), "message": self.garbage()}], None])},
                    "title": "kura", "kind": r.choice(["quickfix", "refactor.rewrite", 7])}
        if method == "workspace/symbol":
            return {"query": r.choice(["Cart", "", "\ud800", "x" * 100_000, None, 5, "%", "*"])}
        if method == "workspace/executeCommand":
            return {"command": r.choice(COMMANDS),
                    "arguments": r.choice([[], [self.garbage()], [{"uri": self.uri(), "range": self.range()}], None, "x"])}
        if method == "kura/status":
            return r.choice([{}, None, [], self.garbage()])
        if method == "textDocument/didOpen":
            return {"textDocument": {"uri": self.uri(), "languageId": r.choice(["python", "", 3, "cobol"]),
                                     "version": r.choice([1, -1, 2**40, "1"]),
                                     "text": r.choice(["def f(:\n", "\ud800\n", "x = 1\n" * 1000, "é" * 100_000, None, ""])}}
        if method == "textDocument/didChange":  # mostly to documents that were never opened
            change = r.choice([{"range": self.range(), "text": r.choice(["a", "\ud800", "\n" * 50, ""])},
                               {"text": "whole\n"}, {"range": self.range()}, {}])
            return {"textDocument": {"uri": self.uri(), "version": r.choice([2, -1, None])},
                    "contentChanges": r.choice([[change], [change] * 5, [], None, change])}
        if method in ("textDocument/didSave", "textDocument/didClose"):
            return {"textDocument": doc, "text": r.choice([None, "y = 2\n", 5])}
        if method == "workspace/didChangeWatchedFiles":
            return {"changes": [{"uri": self.uri(), "type": r.choice([1, 2, 3, 0, 42, "x"])}]}
        if method in ("kura/didAcceptCompletion", "kura/didDismissCompletion"):
            return {"id": self.garbage(), "acceptedChars": r.choice([3, -1, None, "all"]), "reason": self.garbage()}
        if method == "$/cancelRequest":
            return r.choice([{"id": r.randint(-5, 10_000)}, {"id": None}, {}, None, {"id": [1]}])
        return self.garbage()

    def mutate(self, message: dict) -> dict:
        """One or two deliberate faults in an otherwise plausible message."""
        r = self.rng
        for _ in range(r.randint(1, 2)):
            fault = r.randrange(9)
            if fault == 0:
                message.pop("params", None)
            elif fault == 1:
                message["params"] = self.garbage()
            elif fault == 2 and isinstance(message.get("params"), dict) and message["params"]:
                key = r.choice(sorted(message["params"]))
                if r.random() < 0.5:
                    del message["params"][key]
                else:
                    message["params"][key] = self.garbage()
            elif fault == 3:
                message["id"] = r.choice([None, True, 1.5, [], {"a": 1}, "", -1])  # an id that is no id
            elif fault == 4:
                had_id = message.pop("id", None) is not None  # a request without an id
                if not had_id and message.get("method") in NOTIFICATIONS:
                    message["id"] = next(self.ids)  # a notification with an id
            elif fault == 5:
                message["jsonrpc"] = r.choice(["1.0", 2, None])
            elif fault == 6:
                message.pop("jsonrpc", None)
            elif fault == 7:
                message["method"] = r.choice(["textDocument/hoverr", "kura/unknown", "", "$/unknown", 42, None,
                                              f"{message['method']}/x"])
            else:
                message["extra"] = self.garbage()
        return message

    def raw(self) -> bytes:
        """Bodies that are not a JSON-RPC object at all."""
        r = self.rng
        choice = r.randrange(10)
        if choice == 0:
            return b"{this is not json"
        if choice == 1:
            return json.dumps([{"jsonrpc": "2.0", "id": 1, "method": "kura/status"}]).encode()  # a batch: not in LSP
        if choice == 2:
            return r.choice([b"42", b"null", b'"a string"', b"true", b"[]", b"1e400", b"NaN"])
        if choice == 3:
            return b"\xff\xfe\x00garbage"  # not UTF-8
        if choice == 4:
            return json.dumps({"jsonrpc": "2.0", "id": next(self.ids), "method": "textDocument/hover"}).encode()[:-3]
        if choice == 5:
            return b'{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"text": "\\ud800"}}}'
        if choice == 6:
            return b"[" * 5000 + b"]" * 5000  # deep nesting
        if choice == 7:
            return b'{"jsonrpc": "2.0", "id": 7, "id": "dup", "method": "kura/status", "params": {}}'
        if choice == 8:
            return b""
        return b" " * r.randint(1, 100)

    def messages(self, count: int) -> Iterator[dict | bytes]:
        for _ in range(count):
            if self.rng.random() < 0.1:
                yield self.raw()
                continue
            method = self.rng.choice(REQUESTS + NOTIFICATIONS)
            message: dict = {"jsonrpc": "2.0", "method": method, "params": self.params(method)}
            if method in REQUESTS:
                message["id"] = next(self.ids)
            yield self.mutate(message) if self.rng.random() < 0.9 else message


# --- the test ---------------------------------------------------------------------------------------------


def initialize(server: RawServer, root: Path, options: dict) -> dict:
    capabilities = converters.get_converter().unstructure(client_capabilities("visual-studio-code"))
    reply = server.request("init", "initialize", {
        "processId": None, "rootUri": root.as_uri(), "capabilities": capabilities, "initializationOptions": options,
        "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}]}, timeout=60)
    assert reply and "result" in reply, reply or server.log_tail()
    server.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = server.request(f"status-{time.monotonic()}", "kura/status", {}, timeout=30)
        if status and status["result"]["index"]["state"] in ("ready", "error", "unavailable"):
            return status["result"]
        time.sleep(0.1)
    raise AssertionError("the index was not ready within 60 s")


def test_ten_thousand_malformed_messages_leave_the_server_answering_with_at_most_a_few_popups(repo, tmp_path, tiny_model):
    options = {"model": {"path": str(tiny_model)}, "completion": {"maxTokens": 8},
               "index": {"path": str(tmp_path / "i.sqlite"), "watch": False}}
    log = tmp_path / "server.log"
    server = RawServer([*SERVER[:-2], "--log-level", "warning"], log, options)
    try:
        assert initialize(server, repo, options)["index"]["state"] == "ready"
        uris = [p.as_uri() for p in sorted(repo.rglob("*.py"))]
        started = time.perf_counter()
        probes: list[float | None] = []

        for n, message in enumerate(Fuzzer(seed=20240611, real_uris=uris).messages(MESSAGES), start=1):
            server.send(message)
            if n % PROBE_EVERY == 0:
                sent = time.perf_counter()
                reply = server.request(f"probe-{n}", "workspace/symbol", {"query": "Cart"}, PROBE_TIMEOUT)
                probes.append(time.perf_counter() - sent if reply and isinstance(reply.get("result"), list) else None)

        status = server.request("final-status", "kura/status", {}, timeout=PROBE_TIMEOUT)
        elapsed = time.perf_counter() - started
        alive = server.proc.poll() is None
        server_cpu = server.cpu_seconds() if alive else float("nan")
        shown = server.shown()
        print(f"\nfuzz: {MESSAGES} messages, {sum(p is not None for p in probes)}/{len(probes)} probes answered "
              f"(slowest {max((p for p in probes if p is not None), default=0):.2f} s), {len(shown)} popups, "
              f"{elapsed:.1f} s, {server.bytes_sent / 1e6:.0f} MB sent, server CPU {server_cpu:.0f} s, "
              f"test CPU {time.process_time():.0f} s, log {log.stat().st_size / 1e6:.1f} MB; popups: {shown}")
    finally:
        exit_code = server.close()

    assert alive, server.log_tail()
    assert None not in probes, probes
    assert len(probes) == MESSAGES // PROBE_EVERY
    assert len(shown) <= MAX_POPUPS, shown
    assert len(set(shown)) == len(shown), shown
    assert status and status["result"]["lastError"], status  # the errors went to the status instead
    assert exit_code == 0
    # A line per malformed message at most, not its 100 kB params and a traceback.
    assert log.stat().st_size < MESSAGES * 500, log.stat().st_size


def test_lone_surrogates_and_huge_queries_are_answered_not_failed(repo, tmp_path, tiny_model):
    options = {"model": {"path": str(tiny_model)}, "index": {"path": str(tmp_path / "i.sqlite"), "watch": False}}
    log = tmp_path / "server.log"
    server = RawServer([*SERVER[:-2], "--log-level", "warning"], log, options)
    try:
        assert initialize(server, repo, options)["index"]["state"] == "ready"
        odd_uri = repo.as_uri() + "/caf\ud800.py"  # as JSON: "\\ud800", which no UTF-8 can hold
        server.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": odd_uri, "languageId": "python", "version": 1, "text": "def caf\udc80():\n    return 1\n"}}})
        replies = {
            "surrogate": server.request("q1", "workspace/symbol", {"query": "Ca\ud800rt"}, 30),
            "huge": server.request("q2", "workspace/symbol", {"query": "Cart" * 25_000}, 30),
            "symbols": server.request("q3", "textDocument/documentSymbol", {"textDocument": {"uri": odd_uri}}, 30),
            "found": server.request("q4", "workspace/symbol", {"query": "Cart"}, 30),
        }
    finally:
        server.close()

    assert all(reply and "result" in reply for reply in replies.values()), replies
    assert replies["huge"]["result"] == [] and replies["found"]["result"]
    assert "UnicodeEncodeError" not in log.read_text(errors="replace")


def test_requests_the_server_cannot_read_get_an_error_reply_and_it_keeps_serving(tmp_path):
    server = RawServer([*SERVER[:-2], "--log-level", "warning"], tmp_path / "server.log", {})
    try:
        wrong_type = server.request(1, "textDocument/hover", {"textDocument": {"uri": "file:///a.py"},
                                                              "position": {"line": "three", "character": 0}}, 30)
        no_method = server.request(2, 42, {}, 30)
        server.send(b"[1, 2, 3]")
        status = server.request(3, "kura/status", {}, 30)
    finally:
        server.close()

    assert wrong_type["error"]["code"] == -32602 and "three" in wrong_type["error"]["message"]
    assert no_method["error"]["code"] == -32600
    assert "result" in status and server.shown() == []

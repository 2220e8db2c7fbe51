"""`ProcessBackend`: a local model (llama.cpp, ctransformers) in a supervised child process.

Native code can die in ways Python cannot catch — an instruction this CPU does not have (SIGILL), a
segfault on a bad GGUF, the out-of-memory killer. In its own process such a death ends only the
model: the request in flight gets `WorkerCrashed` (a ModelError the user can read, once), the
process is restarted in the background with a growing pause, and navigation, the index and
escalation go on. The child keeps the KV cache, so prefix reuse and its exact counts work as
in-process; cancel and the caller's `should_stop` reach it between tokens (process_protocol.py).
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.models.base import (
    CALLBACK,
    CANCELLED,
    CancelToken,
    GenerationRequest,
    GenerationResult,
    ModelError,
)
from assistant.models.fim import FimTemplate
from assistant.models.process_protocol import (
    decode,
    encode,
    is_stop_rule,
    request_to_wire,
    result_from_wire,
    template_from_wire,
)
from assistant.models.config import ModelConfig

log = logging.getLogger(__name__)

FIRST_RESTART_S = 1.0
MAX_RESTART_S = 60.0
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class WorkerCrashed(ModelError):
    """The model process died. `signal_name` ("SIGILL", ...) or `exit_code` says how; the message
    says what it means and what to do."""

    def __init__(self, message: str, *, signal_name: str | None, exit_code: int | None, stderr_tail: str) -> None:
        super().__init__(message)
        self.signal_name, self.exit_code, self.stderr_tail = signal_name, exit_code, stderr_tail


class ModelRestarting(ModelError):
    """The model process crashed and is being restarted; nothing to show the user again."""


def crash_message(returncode: int | None, stderr_tail: str, config: ModelConfig) -> tuple[str | None, str]:
    """(signal name, what happened and what to do) for a model process that ended with `returncode`."""
    signal_name = None
    if returncode is not None and returncode < 0:
        try:
            signal_name = signal.Signals(-returncode).name
        except ValueError:
            signal_name = f"signal {-returncode}"
    how = signal_name or f"exit code {returncode}"
    lowered = stderr_tail.lower()
    if signal_name == "SIGILL":
        advice = ("llama.cpp was built for CPU instructions this machine cannot execute; run `kura doctor`, "
                  "then rebuild portably: `rm -rf .venv && make setup` (or `make LLAMA_CPU=x86-64 setup` "
                  "for CPUs without AVX2)")
    elif signal_name == "SIGKILL" or "memoryerror" in lowered or "bad_alloc" in lowered or "out of memory" in lowered:
        limit = f" (model.memoryLimitMb is {config.memory_limit_mb})" if config.memory_limit_mb else ""
        advice = (f"it was killed or ran out of memory{limit}: close other programs, choose a smaller model, "
                  "or lower model.contextTokens")
    elif signal_name in ("SIGSEGV", "SIGBUS", "SIGABRT"):
        advice = ("the model file may be corrupt or of an architecture this llama.cpp does not support: "
                  "download it again or choose another GGUF; `kura doctor` checks it")
    else:
        advice = "see the kura log for its last lines; `kura doctor` checks the model"
    return signal_name, (f"the local model process stopped ({how}): {advice}. kura restarts it; "
                         "navigation and the index keep working")


class ProcessBackend:
    """A ModelBackend whose model runs in a child process. Calls are serialized (as in-process:
    one model, one conversation); cancel may come from any thread."""

    def __init__(self, config: ModelConfig | None = None) -> None:
        self.config = config or ModelConfig()
        self.name = self.config.backend
        self._proc: subprocess.Popen | None = None
        self._sock: socket.socket | None = None
        self._reader: Any = None
        self._conversation = threading.RLock()
        self._send_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._info: dict[str, Any] = {}
        self._template: FimTemplate | None = None
        self._template_known = False
        self._token_counts: collections.OrderedDict[str, int] = collections.OrderedDict()
        self._stderr: collections.deque[str] = collections.deque(maxlen=40)
        self._closed = False
        self.crashes = 0  # in a row; a generation that completes resets it
        self.total_crashes = 0
        self.last_crash: WorkerCrashed | None = None
        self.last_error: str | None = None  # the last load failure, as the in-process backends keep it
        self._restart_at = 0.0
        self._restart_timer: threading.Timer | None = None

    # -- the ModelBackend interface ---------------------------------------------------------

    def load(self) -> None:
        with self._conversation:
            if self._alive() and self._info:
                return
            self._start()
            try:
                self._info = self._call("load")
            except ModelError as exc:
                self.last_error = str(exc)
                self._stop_process()  # a retry starts afresh
                raise
            self.last_error = None

    def generate(
        self,
        request: GenerationRequest,
        cancel: CancelToken | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> GenerationResult:
        cancel = cancel or CancelToken()
        with self._conversation:
            self._ready()
            started = time.perf_counter()
            if cancel.cancelled:
                return GenerationResult(text="", stop_reason=CANCELLED)
            op_id = next(self._ids)
            # A stop rule the child can apply and no one streaming: no message per token at all.
            quiet = on_text is None and (request.should_stop is None or is_stop_rule(request.should_stop))
            self._send({"op": "generate", "id": op_id, "request": request_to_wire(request, quiet=quiet)})
            unregister = cancel.on_cancel(lambda: self._send_quietly({"op": "cancel", "id": op_id}))
            try:
                return self._stream(op_id, request, on_text, started)
            finally:
                unregister()

    def count_tokens(self, text: str) -> int:
        # Context building counts the same snippets again and again; each count is a round trip.
        with self._conversation:
            if text in self._token_counts:
                self._token_counts.move_to_end(text)
                return self._token_counts[text]
            count = self._call("count_tokens", text=text)
            self._token_counts[text] = count
            if len(self._token_counts) > 4096:
                self._token_counts.popitem(last=False)
            return count

    def fim_template(self) -> FimTemplate | None:
        with self._conversation:
            if not self._template_known:
                self._template = template_from_wire(self._call("fim_template"))
                self._template_known = True
            return self._template

    def info(self) -> dict[str, Any]:
        """What the model process said at load, and its state now (no round trip: the status bar
        asks this on the event loop)."""
        info = dict(self._info) or {"backend": self.name, "model_path": self.config.path or "(embedded)",
                                    "loaded": False}
        state = "ready" if self._alive() else "restarting" if self.last_crash is not None else "not started"
        info.setdefault("last_error", self.last_error)
        info.update(process_state=state, process_pid=self._proc.pid if self._alive() else None,
                    crashes=self.total_crashes,
                    last_crash=str(self.last_crash) if self.last_crash is not None else None)
        if state == "restarting":
            info["restart_in_s"] = round(max(0.0, self._restart_at - time.monotonic()), 1)
        return info

    def close(self) -> None:
        self._closed = True
        if self._restart_timer is not None:
            self._restart_timer.cancel()
        self._stop_process()

    # -- the conversation ---------------------------------------------------------------------

    def _stream(self, op_id: int, request: GenerationRequest, on_text: Callable[[str], None] | None,
                started: float) -> GenerationResult:
        text, prompt_tokens, reused_tokens, generated = "", 0, 0, 0
        first_token_ms: float | None = None
        while True:
            message = self._receive()
            if message.get("id") != op_id:
                continue  # the tail of a generation this side already ended (see below)
            if "prompt" in message:
                prompt_tokens, reused_tokens = message["prompt"]
                if request.on_prompt is not None:
                    request.on_prompt(prompt_tokens, reused_tokens)
            elif "text" in message:
                chunk = message["text"]
                text, generated = text + chunk, message.get("n", generated + 1)
                if first_token_ms is None:
                    first_token_ms = (time.perf_counter() - started) * 1000
                if on_text is not None:
                    on_text(chunk)
                if request.should_stop is not None and not is_stop_rule(request.should_stop) and request.should_stop(text):
                    # Answer now; the child stops at its next token and its last messages are skipped.
                    self._send_quietly({"op": "stop", "id": op_id})
                    self.crashes = 0
                    return GenerationResult(text, CALLBACK, prompt_tokens, reused_tokens, generated,
                                            (time.perf_counter() - started) * 1000, first_token_ms)
            elif "error" in message:
                raise ModelError(message["error"])
            else:
                self.crashes = 0
                return result_from_wire(message["ok"])

    def _call(self, op: str, **fields: Any) -> Any:
        with self._conversation:
            if op != "load":
                self._ready()
            op_id = next(self._ids)
            self._send({"op": op, "id": op_id, **fields})
            while True:
                message = self._receive()
                if message.get("id") != op_id or not ("ok" in message or "error" in message):
                    continue
                if "error" in message:
                    raise ModelError(message["error"])
                return message["ok"]

    def _ready(self) -> None:
        """Make sure a loaded model process is there: start one, or say it is restarting."""
        if self._alive():
            return
        if self._closed:
            raise ModelError("the model was closed")
        if self._proc is not None:  # it died since the last request
            raise self._crashed()
        if self.last_crash is not None and time.monotonic() < self._restart_at:
            raise ModelRestarting(f"the local model is restarting after: {self.last_crash}")
        self.load()

    def _send(self, message: dict[str, Any]) -> None:
        try:
            with self._send_lock:
                assert self._sock is not None
                self._sock.sendall(encode(message))
        except OSError:
            raise self._crashed() from None

    def _send_quietly(self, message: dict[str, Any]) -> None:
        try:
            with self._send_lock:
                if self._sock is not None:
                    self._sock.sendall(encode(message))
        except OSError:
            pass  # the reading side finds out and reports it

    def _receive(self) -> dict[str, Any]:
        try:
            line = self._reader.readline()
        except (OSError, ValueError):
            line = b""
        if not line:
            raise self._crashed()
        return decode(line)

    # -- the process ----------------------------------------------------------------------------

    def _alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _start(self) -> None:
        self._stop_process()
        parent, child = socket.socketpair()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, (_PACKAGE_ROOT, os.environ.get("PYTHONPATH")))))
        command = [sys.executable, "-m", "assistant.models.process_main", "--fd", str(child.fileno()),
                   "--parent", str(os.getpid()), "--config", json.dumps(dataclasses.asdict(self.config))]
        try:
            self._proc = subprocess.Popen(command, pass_fds=[child.fileno()], stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        except OSError as exc:
            parent.close()
            raise ModelError(f"could not start the model process ({exc})") from exc
        finally:
            child.close()
        self._sock, self._reader = parent, parent.makefile("rb")
        self._stderr.clear()
        threading.Thread(target=self._drain_stderr, args=(self._proc,), name="kura-model-stderr", daemon=True).start()
        log.info("model process %d started (%s)", self._proc.pid, self.name)

    def _drain_stderr(self, proc: subprocess.Popen) -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            self._stderr.append(line)
            log.debug("model process %d: %s", proc.pid, line)

    def _crashed(self) -> WorkerCrashed:
        """The child is gone (or its socket is): record why, and schedule a restart."""
        proc = self._proc
        returncode = None
        if proc is not None:
            try:
                returncode = proc.wait(timeout=5)
            except subprocess.TimeoutExpired:  # its socket broke but it lives on: end it
                proc.kill()
                returncode = proc.wait()
        tail = "\n".join(self._stderr)
        signal_name, message = crash_message(returncode, tail, self.config)
        error = WorkerCrashed(message, signal_name=signal_name, exit_code=returncode, stderr_tail=tail)
        self._stop_process()
        self.crashes += 1
        self.total_crashes += 1
        self.last_crash = error
        pause = min(MAX_RESTART_S, FIRST_RESTART_S * 2 ** (self.crashes - 1))
        self._restart_at = time.monotonic() + pause
        log.error("%s; restarting in %.0f s%s", message, pause, f"\n{tail}" if tail else "")
        self._schedule_restart(pause)
        return error

    def _schedule_restart(self, pause: float) -> None:
        if self._closed:
            return
        if self._restart_timer is not None:
            self._restart_timer.cancel()
        self._restart_timer = threading.Timer(pause, self._restart)
        self._restart_timer.daemon = True
        self._restart_timer.start()

    def _restart(self) -> None:
        """Load again in the background, so the next request finds the model warm."""
        try:
            with self._conversation:
                if not self._closed and not self._alive():
                    self.load()
                    log.info("model process restarted after %d crash(es)", self.crashes)
        except ModelError as exc:  # a crash while loading schedules the next try itself
            log.warning("restarting the model failed: %s", exc)

    def _stop_process(self) -> None:
        proc, sock, reader = self._proc, self._sock, self._reader
        self._proc = self._sock = self._reader = None
        self._info = {}
        for closable in (reader, sock):
            if closable is not None:
                try:
                    closable.close()
                except OSError:
                    pass
        if proc is not None and proc.poll() is None:
            try:
                proc.wait(timeout=2)  # it exits by itself once its socket closes
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

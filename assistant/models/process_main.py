"""The model process: one local backend (llama.cpp or ctransformers) serving the language server over
a socket (process_protocol.py), so that a crash in native code — an illegal instruction, a segfault,
the out-of-memory killer — ends this process and not the editor's language server.

Started by `ProcessBackend` as `python -m assistant.models.process_main --fd N --parent PID --config JSON`.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assistant.models.base import CancelToken, ModelError
from assistant.models.process_protocol import (
    decode,
    encode,
    request_from_wire,
    result_to_wire,
    template_to_wire,
)
from assistant.models.config import ModelConfig
from assistant.models.registry import backend_class


class _PolledCancel(CancelToken):
    """A cancel flag that first reads what the server sent since: the backend asks it between
    tokens, so cancel and stop arrive mid-generation without a reader thread to hand ops over
    (each hand-over is a thread wake-up on every request)."""

    def __init__(self, poll: Callable[[], None]) -> None:
        super().__init__()
        self._poll = poll

    @property
    def cancelled(self) -> bool:
        self._poll()
        return super().cancelled


@dataclass
class _Generation:
    op_id: int
    cancel: CancelToken
    stop: bool = False


class ModelProcess:
    """Reads ops from the socket on this one thread and runs them in order; during a generation
    it reads on between tokens, for cancel and stop."""

    def __init__(self, sock: socket.socket, config: ModelConfig) -> None:
        self.sock = sock
        self.config = config
        self.backend: Any = None  # made by the first op, so that failing to make it is an answer too
        self.buffer = bytearray()
        self.waiting: collections.deque[dict[str, Any]] = collections.deque()  # ops read mid-generation
        self.generation: _Generation | None = None
        self.closed = False

    def serve(self) -> None:
        while (op := self._next_op()) is not None:
            self._run(op)
        if self.backend is not None:
            self.backend.close()

    def _next_op(self) -> dict[str, Any] | None:
        while not self.waiting:
            if self.closed or not self._read(block=True):
                return None
        return self.waiting.popleft()

    def _poll(self) -> None:
        """Take in whatever has arrived, without waiting."""
        while not self.closed and self._read(block=False):
            pass

    def _read(self, *, block: bool) -> bool:
        """Read once from the socket and file the complete messages; False when nothing came
        (or, blocking, when the server closed its end)."""
        try:
            data = self.sock.recv(1 << 16, 0 if block else socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            data = b""
        if not data:
            self.closed = True
            return False
        self.buffer += data
        *lines, rest = self.buffer.split(b"\n")
        self.buffer = bytearray(rest)
        for line in lines:
            try:
                self._file(decode(line))
            except ValueError:
                continue
        return True

    def _file(self, op: dict[str, Any]) -> None:
        kind, generation = op.get("op"), self.generation
        if kind in ("cancel", "stop"):
            if generation is not None and generation.op_id == op.get("id"):
                if kind == "cancel":
                    generation.cancel.cancel()
                else:
                    generation.stop = True
            for waiting in self.waiting:  # read in the same breath as its generate: ends it before it starts
                if waiting.get("id") == op.get("id"):
                    waiting["ended"] = kind
            return  # else one for a generation already answered: nothing left to end
        self.waiting.append(op)

    def _send(self, message: dict[str, Any]) -> None:
        self.sock.sendall(encode(message))

    def _run(self, op: dict[str, Any]) -> None:
        op_id = op.get("id")
        try:
            self._send({"id": op_id, "ok": self._answer(op)})
        except ModelError as exc:
            self._send({"id": op_id, "error": explain_memory(str(exc), self.config)})
        except Exception as exc:  # a library error is still an answer, not a dead process
            logging.getLogger(__name__).exception("model op %s failed", op.get("op"))
            message = f"the model failed: {type(exc).__name__}: {exc}"
            self._send({"id": op_id, "error": explain_memory(message, self.config)})
        finally:
            self.generation = None

    def _answer(self, op: dict[str, Any]) -> Any:
        kind = op.get("op")
        if self.backend is None:  # importing a backend maps native libraries: under a memory limit it may fail
            self.backend = backend_class(self.config.backend)(self.config)
        if kind == "load":
            self.backend.load()
            return self._info()
        if kind == "generate":
            return self._generate(op["id"], op["request"], op.get("ended"))
        if kind == "count_tokens":
            return self.backend.count_tokens(op["text"])
        if kind == "info":
            return self._info()
        if kind == "fim_template":
            return template_to_wire(self.backend.fim_template())
        raise ModelError(f"unknown model process op {kind!r}")

    def _generate(self, op_id: int, wire: dict[str, Any], ended: str | None = None) -> dict[str, Any]:
        generation = self.generation = _Generation(op_id, _PolledCancel(self._poll), stop=ended == "stop")
        if ended == "cancel":
            generation.cancel.cancel()
        request = request_from_wire(wire)
        rule = request.should_stop  # the caller's own stop rule, applied here between tokens
        tokens_checked = 0

        def should_stop(text: str) -> bool:
            # stream_tokens calls this once after each token, after handing that token's text on.
            nonlocal tokens_checked
            tokens_checked += 1
            self._poll()
            return generation.stop or (rule is not None and rule(text))

        def on_text(chunk: str) -> None:
            self._send({"id": op_id, "text": chunk, "n": tokens_checked + 1})

        request.should_stop = should_stop
        if wire.get("report_prompt", True):  # else the counts come with the result only: one message less
            request.on_prompt = lambda prompt, reused: self._send({"id": op_id, "prompt": [prompt, reused]})
        quiet = bool(wire.get("quiet"))  # nobody reads the text as it comes: only the result goes back
        return result_to_wire(self.backend.generate(request, generation.cancel, None if quiet else on_text))

    def _info(self) -> dict[str, Any]:
        info = {k: v for k, v in self.backend.info().items() if _is_plain(v)}
        info["pid"] = os.getpid()
        if self.backend.name == "llama_cpp":
            import llama_cpp

            info["system_info"] = llama_cpp.llama_print_system_info().decode("utf-8", "replace").strip()
        return info


def _is_plain(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, list, dict))


_OUT_OF_MEMORY = ("cannot allocate memory", "failed to map segment", "memoryerror", "bad_alloc",
                  "out of memory", "failed to allocate")


def explain_memory(message: str, config: ModelConfig) -> str:
    """Under model.memoryLimitMb, an allocation failure (which libraries word in many ways, e.g. an
    import that "is not installed" because its library could not be mapped) is that limit's doing."""
    lines = [line.strip() for line in message.splitlines()]
    cause = next((line for line in lines if any(sign in line.lower() for sign in _OUT_OF_MEMORY)), None)
    if config.memory_limit_mb and cause is not None:
        return (f"the model does not fit in model.memoryLimitMb ({config.memory_limit_mb} MB): raise it, set it "
                f"to 0 (no limit), or choose a smaller model ({cause[:160]})")
    return message


def limit_memory(megabytes: int) -> None:
    """Cap this process's address space, so a model too big for the machine fails here, not the
    machine (the server sets it from model.memoryLimitMb)."""
    if megabytes > 0:
        import resource

        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def die_with_parent(parent: int, every_s: float = 1.0) -> None:
    """End this process soon after the server that started it ends, however it ends: its socket
    may stay open in a process the server forked, so end of file alone is not enough. (Linux's
    PR_SET_PDEATHSIG would fire when the starting *thread* ends, and restarts start from a timer.)"""

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(0)
            time.sleep(every_s)

    threading.Thread(target=watch, name="kura-model-parent-watch", daemon=True).start()


def main(argv: list[str]) -> int:
    args = dict(zip(argv[::2], argv[1::2]))
    die_with_parent(int(args.get("--parent", os.getppid())))
    config = ModelConfig(**json.loads(args["--config"]))
    # fd 1 carries nothing here; keep stray native prints off it and in the stderr the server logs.
    os.dup2(2, 1)
    logging.basicConfig(level=os.environ.get("KURA_MODEL_LOG", "WARNING"), stream=sys.stderr,
                        format="kura-model %(levelname)s %(name)s: %(message)s")
    limit_memory(config.memory_limit_mb)
    sock = socket.socket(fileno=int(args["--fd"]))
    ModelProcess(sock, config).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

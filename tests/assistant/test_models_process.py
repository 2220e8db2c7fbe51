"""ProcessBackend: the local model in its own supervised process answers exactly as in-process, and
its death (kill -9, SIGILL, a bad file, too little memory) is a readable error, then a restart."""

from __future__ import annotations

import os
import signal
import time

import pytest

from assistant.models.base import CALLBACK, CANCELLED, CancelToken, GenerationRequest, ModelError
from assistant.models.llama_cpp_backend import LlamaCppBackend
from assistant.models.process import ModelRestarting, ProcessBackend, WorkerCrashed
from assistant.models.registry import ModelConfig, create_backend

pytestmark = pytest.mark.slow

PROMPT = "def parse(line):\n    name, value = line"


@pytest.fixture(scope="module")
def model_path(tiny_gguf):
    return str(tiny_gguf("starcoder"))


@pytest.fixture
def backend(model_path):
    backend = ProcessBackend(ModelConfig(path=model_path, context_tokens=1024, threads=1))
    yield backend
    backend.close()


def wait_until(predicate, timeout: float = 30.0, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(step)


def test_local_backends_are_created_in_their_own_process(model_path):
    backend = create_backend(ModelConfig(path=model_path, threads=1))
    try:
        assert isinstance(backend, ProcessBackend)
        backend.load()
        pid = backend.info()["process_pid"]
        assert pid and pid != os.getpid()
    finally:
        backend.close()


def test_answers_and_kv_reuse_match_the_in_process_backend(backend, model_path):
    local = LlamaCppBackend(ModelConfig(path=model_path, context_tokens=1024, threads=1))
    try:
        first = GenerationRequest(prompt=PROMPT, max_tokens=12)
        longer = GenerationRequest(prompt=PROMPT + " .split('=')\n    return", max_tokens=12)
        chunks: list[str] = []
        results = [backend.generate(first, on_text=chunks.append), backend.generate(longer)]
        expected = [local.generate(first), local.generate(longer)]
        local_count = local.count_tokens(PROMPT)
    finally:
        local.close()

    assert [r.text for r in results] == [e.text for e in expected]
    assert "".join(chunks) == results[0].text
    assert [(r.prompt_tokens, r.reused_tokens, r.generated_tokens) for r in results] == \
        [(e.prompt_tokens, e.reused_tokens, e.generated_tokens) for e in expected]
    assert results[1].reused_tokens > 0
    assert backend.count_tokens(PROMPT) == local_count
    assert backend.fim_template() is not None and backend.fim_template().name == "starcoder"


def test_should_stop_ends_with_exactly_the_text_it_was_given(backend):
    seen: list[str] = []

    def should_stop(text: str) -> bool:
        seen.append(text)
        return len(seen) == 3

    result = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=200, should_stop=should_stop))

    assert result.stop_reason == CALLBACK and result.text == seen[-1]
    assert result.prompt_tokens > 0
    # The generation the child finished after the stop does not leak into the next answer.
    again = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=5))
    assert again.generated_tokens == 5


def test_a_completions_stop_rule_is_applied_in_the_model_process_exactly_as_in_process(backend, model_path):
    from assistant.completion.shape import BLOCK, CompletionShape
    from assistant.completion.stopping import StopAtShapeEnd

    rule = StopAtShapeEnd(CompletionShape(mode=BLOCK, block_indent=4, max_lines=2, language="python"))
    request = GenerationRequest(prompt=PROMPT, max_tokens=200, should_stop=rule)
    local = LlamaCppBackend(ModelConfig(path=model_path, context_tokens=1024, threads=1))
    try:
        expected = local.generate(request)
    finally:
        local.close()

    result = backend.generate(request)  # no on_text: a quiet request, one message each way

    assert (result.text, result.stop_reason, result.generated_tokens) == \
        (expected.text, expected.stop_reason, expected.generated_tokens)


def test_a_quiet_completion_is_one_message_each_way_and_still_cancels_mid_generation(backend):
    import threading

    backend.load()
    received: list[dict] = []
    sent = threading.Event()
    receive, send = backend._receive, backend._send
    backend._receive = lambda: received.append(receive()) or received[-1]
    backend._send = lambda message: (send(message), message.get("op") == "generate" and sent.set())

    result = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=8))
    assert len(received) == 1 and received[0]["ok"]["generated_tokens"] == result.generated_tokens == 8
    assert result.prompt_tokens > 0  # the counts come with the result

    # No reader thread in the model process: it reads the cancel between tokens itself.
    sent.clear()
    cancel = CancelToken()
    threading.Thread(target=lambda: sent.wait(10) and cancel.cancel(), daemon=True).start()
    result = backend.generate(GenerationRequest(prompt=PROMPT + " long", max_tokens=100_000), cancel)
    # Uncancelled, it fills the context (~1000 tokens, a second or so) and ends as "length".
    assert result.stop_reason == CANCELLED and result.generated_tokens < 900


def test_only_kuras_own_stop_rules_are_rebuilt_from_the_wire():
    from assistant.models.process_protocol import stop_rule_from_wire

    with pytest.raises(ValueError):
        stop_rule_from_wire({"type": "os:system", "data": "rm -rf /"})


def test_cancel_from_another_thread_stops_between_tokens(backend):
    cancel = CancelToken()
    pieces: list[str] = []

    def on_text(chunk: str) -> None:
        pieces.append(chunk)
        if len(pieces) == 2:
            cancel.cancel()

    result = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=500), cancel, on_text)

    assert result.stop_reason == CANCELLED
    assert result.generated_tokens < 500


@pytest.mark.parametrize("signal_number, name", [(signal.SIGKILL, "SIGKILL"), (signal.SIGILL, "SIGILL")])
def test_a_model_process_killed_mid_generation_is_reported_and_restarted(backend, signal_number, name):
    backend.load()
    pid = backend.info()["process_pid"]

    def kill_at_first_text(chunk: str) -> None:
        os.kill(pid, signal_number)

    with pytest.raises(WorkerCrashed) as crash:
        backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=2000), on_text=kill_at_first_text)

    assert crash.value.signal_name == name
    assert name in str(crash.value) and "restarts it" in str(crash.value)
    if name == "SIGILL":
        assert "make setup" in str(crash.value)
    assert backend.info()["process_state"] == "restarting"
    # Asked again at once: a quiet "restarting", not a second crash report.
    with pytest.raises(ModelRestarting):
        backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=4))
    wait_until(lambda: backend.info()["process_state"] == "ready")
    assert backend.info()["process_pid"] != pid
    assert backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=4)).generated_tokens == 4


def test_a_truncated_gguf_is_a_readable_error_not_a_crash(model_path, tmp_path):
    data = open(model_path, "rb").read()
    broken = tmp_path / "truncated.gguf"
    broken.write_bytes(data[: len(data) // 2])
    backend = ProcessBackend(ModelConfig(path=str(broken), threads=1))
    try:
        with pytest.raises(ModelError) as error:
            backend.load()
        assert str(broken) in str(error.value) or "stopped" in str(error.value)
    finally:
        backend.close()


def test_a_memory_limit_too_small_for_the_model_fails_its_process_only(model_path):
    import resource

    ours = resource.getrlimit(resource.RLIMIT_AS)
    backend = ProcessBackend(ModelConfig(path=model_path, threads=1, memory_limit_mb=64))
    try:
        with pytest.raises(ModelError) as error:
            backend.load()
        assert "memory" in str(error.value).lower() or "stopped" in str(error.value)
    finally:
        backend.close()
    assert resource.getrlimit(resource.RLIMIT_AS) == ours  # the limit applied to the model process alone


def test_the_model_process_ends_when_its_server_is_killed(model_path, tmp_path):
    import subprocess
    import sys

    server = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        "from assistant.models.process import ProcessBackend\n"
        "from assistant.models.registry import ModelConfig\n"
        f"b = ProcessBackend(ModelConfig(path={model_path!r}, threads=1)); b.load()\n"
        "import os\n"
        "if os.fork() == 0:\n"  # like the index's process pool: a fork holds the server's socket open
        "    time.sleep(60); os._exit(0)\n"
        "print(b.info()['process_pid'], flush=True); time.sleep(600)\n")], stdout=subprocess.PIPE, text=True)
    try:
        child = int(server.stdout.readline())
        os.kill(server.pid, signal.SIGKILL)  # no goodbye: the way an editor's crash ends a server
        server.wait(10)
        wait_until(lambda: not os.path.exists(f"/proc/{child}") or "Z" in open(f"/proc/{child}/stat").read().split()[2])
    finally:
        server.kill()

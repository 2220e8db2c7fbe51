"""ModelWorker: generation on one dedicated thread, text streamed back to the event loop,
newer requests superseding older ones."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from assistant.models.base import GenerationRequest
from assistant.models.llama_cpp_backend import LlamaCppBackend
from assistant.models.registry import ModelConfig
from assistant.models.worker import ModelWorker

PROMPT = "def parse(line):\n    name, value = line"


@pytest.fixture(scope="module")
def worker(tiny_gguf):
    worker = ModelWorker(LlamaCppBackend(ModelConfig(path=str(tiny_gguf("starcoder")), context_tokens=1024, threads=1)))
    yield worker
    worker.close()


def slow_down(seconds: float):
    """A should_stop that makes each token take `seconds`, so a request is still running later."""

    def should_stop(text: str) -> bool:
        time.sleep(seconds)
        return False

    return should_stop


def test_generation_runs_on_the_worker_thread_and_text_arrives_on_the_loop(worker):
    model_threads: set[str] = set()
    text_threads: set[str] = set()
    chunks: list[str] = []

    def should_stop(text: str) -> bool:
        model_threads.add(threading.current_thread().name)
        return False

    def on_text(chunk: str) -> None:
        text_threads.add(threading.current_thread().name)
        chunks.append(chunk)

    async def main():
        await worker.load()
        return await worker.generate(GenerationRequest(prompt=PROMPT, max_tokens=10, should_stop=should_stop), on_text=on_text)

    result = asyncio.run(main())

    assert model_threads == {worker.thread.name} and worker.thread.name.startswith("kura-model-")
    assert text_threads == {threading.main_thread().name}
    assert "".join(chunks) == result.text and result.generated_tokens == 10


def test_event_loop_keeps_running_while_the_model_generates(worker):
    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        task = asyncio.create_task(ticker())
        await worker.generate(GenerationRequest(prompt=PROMPT, max_tokens=20, should_stop=slow_down(0.01)))
        task.cancel()
        return ticks

    assert asyncio.run(main()) >= 10


def test_newer_request_with_the_same_key_supersedes_the_older(worker):
    async def main():
        older = asyncio.create_task(
            worker.generate(GenerationRequest(prompt=PROMPT, max_tokens=500, should_stop=slow_down(0.01)), key="doc.py")
        )
        await asyncio.sleep(0.1)
        newer = await worker.generate(GenerationRequest(prompt=PROMPT + " =", max_tokens=5), key="doc.py")
        return await older, newer

    older, newer = asyncio.run(main())

    assert older.stop_reason == "cancelled" and older.generated_tokens < 500
    assert newer.stop_reason == "length" and newer.generated_tokens == 5


def test_superseding_a_key_stops_its_generation_without_a_newer_one(worker):
    async def main():
        running = asyncio.create_task(
            worker.generate(GenerationRequest(prompt=PROMPT, max_tokens=500, should_stop=slow_down(0.01)), key="doc.py")
        )
        await asyncio.sleep(0.1)
        worker.supersede("other.py")  # another key: nothing happens
        worker.supersede("doc.py")
        return await running

    result = asyncio.run(main())

    assert result.stop_reason == "cancelled" and result.generated_tokens < 500


def test_requests_with_different_keys_do_not_cancel_each_other(worker):
    async def main():
        return await asyncio.gather(
            worker.generate(GenerationRequest(prompt=PROMPT, max_tokens=5), key="a.py"),
            worker.generate(GenerationRequest(prompt=PROMPT, max_tokens=5), key="b.py"),
        )

    first, second = asyncio.run(main())

    assert first.stop_reason == second.stop_reason == "length"


def test_cancelling_the_awaiting_task_stops_the_model_between_tokens(worker):
    async def main():
        task = asyncio.create_task(
            worker.generate(GenerationRequest(prompt=PROMPT, max_tokens=800, should_stop=slow_down(0.01)))
        )
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        started = time.perf_counter()
        # The next job only starts once the cancelled generation has stopped.
        await worker.call(lambda: None)
        return time.perf_counter() - started

    assert asyncio.run(main()) < 1.0  # 800 slowed tokens would take 8 s


def test_backend_errors_reach_the_caller(tiny_gguf, tmp_path):
    broken = ModelWorker(LlamaCppBackend(ModelConfig(path=str(tmp_path / "missing.gguf"))))

    async def main():
        await broken.generate(GenerationRequest(prompt="x"))

    try:
        with pytest.raises(Exception, match="missing.gguf"):
            asyncio.run(main())
    finally:
        broken.close()

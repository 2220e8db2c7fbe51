"""Run an evaluation set against model configurations, one model at a time, through the product's
own completion path (`CompletionService`: shape, context, prompt, model worker, stopping, finalize)
and the task runner every explanation takes (assistant/tasks/runner.py).

Each model runs with repository context (the index, less the held-out answer and confidential
files) and without, unless told otherwise. A model that cannot load, or fails every task, is recorded
as failed with its error and the run goes on with the next one.

A model on a server (backend "openai") gets several requests in flight: each lane has its own
client, completion service and held-out view of the index, so a GPU server batching them turns
hours into minutes. A local model runs one task at a time (one copy in memory).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import platform
import re
import resource
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.evaluation import EvalError
from assistant.evaluation.build import Confidentiality, git_head, load_confidentiality
from assistant.evaluation.checklist import CONTEXT, NO_CONTEXT
from assistant.evaluation.configs import EvalModel
from assistant.evaluation.scoring import (checklist_coverage, citation_scores, edit_similarity, exact_match,
                                          explanation_scores, scored_text, summarize, syntax_valid)
from assistant.evaluation.store import EvalSet
from assistant.evaluation.tasks import AskTask, CompletionTask, ExplainTask
from assistant.models.base import ModelError
from indexer.model import Chunk, Definition, Import, Reference

log = logging.getLogger(__name__)
Progress = Callable[[str, str, int, int], None]  # (model label, mode, done, total)
MAX_STORED_ANSWER = 4000


# Requests in flight to a model server when not told: enough to fill llama-server's default 4 slots
# twice over (or two replicas), small enough not to swamp a shared server with one person's run.
DEFAULT_SERVER_CONCURRENCY = 8


@dataclass(frozen=True)
class RunOptions:
    modes: tuple[str, ...] = (CONTEXT, NO_CONTEXT)
    limit: int | None = None
    concurrency: int | None = None  # requests in flight to a model server; None: DEFAULT_SERVER_CONCURRENCY
    languages: tuple[str, ...] = ("en",)  # each explanation prompt is asked once in each answer language
    generate: bool = False  # also ask each held-out function body as a generate task (its header the instruction)


@dataclass(frozen=True)
class Generation:
    """A held-out function body (a BODY completion task) asked as generate/edit: the body removed, the
    cursor on its first line, the function's header as the instruction."""

    task: CompletionTask

    @property
    def path(self) -> str:
        return self.task.path

    @property
    def start_line(self) -> int:
        return self.task.start_line


RATE_LIMIT_RETRIES = 5


def _rate_limit_wait(host: Any) -> float | None:
    """Seconds the server asked this lane to wait (429 Retry-After), or None if it is not rate limited."""
    from assistant.models.openai_backend import RATE_LIMITED

    status = host.status()
    if status.get("server_state") != RATE_LIMITED:
        return None
    return min(60.0, float(status.get("retry_in_s") or 1.0)) + 0.05


def lanes_for(model: EvalModel, requested: int | None) -> int:
    """How many tasks of this model run at once: 1 for a local model, else `requested` or the default."""
    from assistant.models.registry import backend_class

    try:
        remote = backend_class(model.settings.model.backend).name == "openai"
    except ModelError:
        remote = False  # the load reports the bad backend name
    return max(1, requested or DEFAULT_SERVER_CONCURRENCY) if remote else 1


class HeldOutIndex:
    """The index as a held-out task may see it: nothing from confidential files, and no chunk of the
    task's own file that holds the answer (overlaps its lines or contains its text)."""

    def __init__(self, index: Any, confidentiality: Confidentiality) -> None:
        self.index = index
        self.confidentiality = confidentiality
        self.task: CompletionTask | None = None

    def _visible(self, path: str) -> bool:
        return self.confidentiality.glob_for(path) is None

    def _leaks(self, chunk: Chunk) -> bool:
        task = self.task
        if task is None or chunk.path != task.path:
            return False
        if chunk.start_line <= task.end_line and chunk.end_line >= task.start_line:
            return True
        answer = task.expected.strip()
        return len(answer) >= 8 and answer in chunk.text

    def definitions(self, name: str) -> list[Definition]:
        return [d for d in self.index.definitions(name) if self._visible(d.path)]

    def imports(self, path: str) -> list[Import]:
        return self.index.imports(path)

    def file_symbols(self, path: str) -> list[Definition]:
        return self.index.file_symbols(path) if self._visible(path) else []

    def references(self, name: str) -> list[Reference]:
        return [r for r in self.index.references(name) if self._visible(r.path)]

    def search_chunks(self, text: str, limit: int = 10) -> list[tuple[Chunk, float]]:
        found = self.index.search_chunks(text, limit * 2 + 4)
        return [(c, s) for c, s in found if self._visible(c.path) and not self._leaks(c)][:limit]

    def search_symbols(self, query: str, limit: int = 50) -> list[Definition]:
        return [d for d in self.index.search_symbols(query, limit * 2 + 4) if self._visible(d.path)][:limit]


class RssSampler:
    """Peak resident memory of this process while a model runs, sampled from /proc every 20 ms
    (ru_maxrss elsewhere, which only grows over the process's life)."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.baseline = current_rss()
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kura-eval-rss", daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(1)
        self._sample()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self) -> None:
        rss = current_rss()
        if rss is not None and (self.peak is None or rss > self.peak):
            self.peak = rss

    @property
    def delta(self) -> int | None:
        return self.peak - self.baseline if self.peak is not None and self.baseline is not None else None


def current_rss() -> int | None:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        scale = 1 if sys.platform == "darwin" else 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def select_tasks(eval_set: EvalSet, confidentiality: Confidentiality, limit: int | None
                 ) -> tuple[list[CompletionTask], list[ExplainTask], int]:
    """The set's tasks this run uses: not confidential under today's policy, the first `limit` of
    each kind of work (the set's order spreads kinds and languages). Returns (tasks, explains, skipped)."""
    tasks = [t for t in eval_set.tasks if confidentiality.glob_for(t.path) is None]
    explains = [t for t in eval_set.explains if t.path.startswith("inline/") or confidentiality.glob_for(t.path) is None]
    skipped = len(eval_set.tasks) + len(eval_set.explains) - len(tasks) - len(explains)
    if limit is not None:
        tasks, explains = tasks[:limit], explains[:limit]
    return tasks, explains, skipped


def run_evaluation(root: Path, eval_set: EvalSet, models: list[EvalModel], *, options: RunOptions = RunOptions(),
                   index_path: str | Path | None = None, env: dict[str, str] | None = None,
                   progress: Progress | None = None) -> dict[str, Any]:
    """Run every model over the set; returns the run record (see `kura eval run`)."""
    root = Path(root).resolve()
    confidentiality = load_confidentiality(root, env)
    tasks, explains, skipped = select_tasks(eval_set, confidentiality, options.limit)
    if not tasks and not explains:
        raise EvalError(f"set {eval_set.version} has no tasks to run"
                        + (f" ({skipped} are confidential under today's policy)" if skipped else ""))
    started = dt.datetime.now(dt.timezone.utc)
    index = None
    if CONTEXT in options.modes:
        from indexer.index import Index

        try:
            index = Index.open(root, index_path)
            index.update()
        except (OSError, ValueError) as exc:
            raise EvalError(f"cannot open the index of {root}: {exc}") from exc
    try:
        entries = asyncio.run(_run_models(models, tasks, explains, root, index, confidentiality, options, progress))
    finally:
        if index is not None:
            index.close()
    return {
        "id": started.strftime("%Y%m%dT%H%M%S") + f".{started.microsecond // 1000:03d}Z-{eval_set.version}",
        "created": started.isoformat(timespec="seconds"),
        "seconds": round((dt.datetime.now(dt.timezone.utc) - started).total_seconds(), 1),
        "repo": str(root), "commit": git_head(root),
        "set": {"version": eval_set.version, "created": eval_set.manifest.get("created"),
                "commit": eval_set.manifest.get("commit"), "tasks": len(tasks), "explanations": len(explains),
                "skipped_confidential": skipped},
        "options": {"modes": list(options.modes), "limit": options.limit},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "models": entries,
    }


async def _run_models(models, tasks, explains, root, index, confidentiality, options, progress) -> list[dict]:
    entries = []
    for model in models:
        entries.append(await _run_model(model, tasks, explains, root, index, confidentiality, options, progress))
    return entries


async def _run_model(model: EvalModel, tasks: list[CompletionTask], explains: list[ExplainTask], root: Path,
                     index: Any, confidentiality: Confidentiality, options: RunOptions,
                     progress: Progress | None) -> dict[str, Any]:
    from assistant.models.host import ModelHost

    entry: dict[str, Any] = {"label": model.label, "source": model.source, "config": model.describe(),
                             "status": "ok", "error": None, "load_ms": None, "file_bytes": None,
                             "peak_rss_delta_bytes": None, "info": {}, "modes": {}, "results": []}
    lanes = lanes_for(model, options.concurrency)
    hosts = [ModelHost(model.settings.model) for _ in range(lanes)]  # a server's lanes load nothing
    views = [HeldOutIndex(index, confidentiality) if index is not None else None for _ in range(lanes)]
    total = len(tasks) + len(explains) * len(options.languages) + len(generations_of(tasks, options))
    entry["concurrency"] = lanes
    with RssSampler() as rss:
        try:
            try:
                worker = await hosts[0].worker()
            except ModelError as exc:
                entry.update(status="failed", error=str(exc))
                return entry
            entry["load_ms"] = round(hosts[0].load_ms or 0.0, 1)
            info = await worker.call(worker.backend.info)
            entry["info"] = {k: info.get(k) for k in ("backend", "model_name", "model_path", "architecture",
                                                      "fim_template", "context_tokens", "threads")}
            entry["file_bytes"] = _file_size(info.get("model_path"))
            for mode in options.modes:
                mode_started = time.perf_counter()
                results = await _run_mode(model, mode, tasks, explains, hosts, views, root, info, progress, total,
                                          options.languages, generations_of(tasks, options))
                seconds = time.perf_counter() - mode_started
                entry["results"].extend(results)
                entry["modes"][mode] = summarize(results)
                entry.setdefault("throughput", {})[mode] = {
                    "seconds": round(seconds, 2), "tasks": len(results),
                    "tasks_per_s": round(len(results) / seconds, 2) if seconds > 0 else None,
                    "generated_tokens_per_s": round(sum(r.get("generated_tokens") or 0 for r in results) / seconds, 1)
                    if seconds > 0 else None,
                }
        finally:
            for host in hosts:
                host.close()
    entry["peak_rss_delta_bytes"] = rss.delta
    answered = [r for r in entry["results"] if r.get("error") is None]
    if entry["results"] and not answered:
        entry.update(status="failed", error=entry["results"][0]["error"])
    return entry


async def _run_mode(model: EvalModel, mode: str, tasks: list[CompletionTask], explains: list[ExplainTask],
                    hosts: list[Any], views: list[HeldOutIndex | None], root: Path, info: dict[str, Any],
                    progress: Progress | None, total: int, languages: tuple[str, ...] = ("en",),
                    generations: list[Generation] = ()) -> list[dict[str, Any]]:
    """Every task of one mode, spread over the lanes (one host, service and view each); results
    in task order (each explanation prompt once per answer language)."""
    from assistant.completion.service import CompletionService

    asked = [(task, language) for task in explains for language in languages]
    jobs = iter(enumerate([*((t, "") for t in tasks), *asked, *((g, "") for g in generations)]))
    results: list[dict[str, Any]] = [{} for _ in range(len(tasks) + len(asked) + len(generations))]
    done = 0

    async def lane(i: int) -> None:
        nonlocal done
        view = views[i] if mode == CONTEXT else None
        errors: list[str] = []
        service = CompletionService(model.settings, index=lambda v=view: v, root=lambda: root, model=hosts[i],
                                    on_error=lambda message, show=False: errors.append(message), typing=False)
        async def run(task: CompletionTask | ExplainTask | Generation, language: str) -> dict[str, Any]:
            if isinstance(task, CompletionTask):
                return await _complete(service, view, task, mode, errors)
            if isinstance(task, Generation):
                return await _generate(hosts[i], task.task, mode, view, root, model)
            try:
                worker = await hosts[i].worker()
            except ModelError as exc:
                return {"id": task.id, "kind": task.kind, "name": task.name, "language": task.language,
                        "answer_language": language, "path": task.path, "mode": mode, "answer": None,
                        "error": str(exc), "coverage": 0.0, "missing": list(task.must_mention)}
            if isinstance(task, AskTask):
                return await _ask(worker, task, mode, view, root, model, language)
            return await _explain(worker, task, mode, view, root, model, language)

        for position, (task, language) in jobs:  # one shared iterator: each lane takes the next task when free
            result = await run(task, language)
            # A server's rate limit is a pause, not the task's failure: wait as long as it asks, retry.
            for _ in range(RATE_LIMIT_RETRIES):
                wait = _rate_limit_wait(hosts[i]) if result.get("error") else None
                if wait is None:
                    break
                await asyncio.sleep(wait)
                result = await run(task, language)
            results[position] = result
            done += 1
            if progress:
                progress(model.label, mode, done, total)

    await asyncio.gather(*(lane(i) for i in range(len(hosts))))
    return results


async def _complete(service: Any, view: HeldOutIndex | None, task: CompletionTask, mode: str,
                    errors: list[str]) -> dict[str, Any]:
    from assistant.completion.service import DocumentSnapshot

    doc_id = f"kura-eval:{task.id}:{mode}"
    if view is not None:
        view.task = task
    service.forget(doc_id, task.path)  # per-document context state must not carry over between tasks
    record: dict[str, Any] = {"id": task.id, "kind": task.kind, "language": task.language, "path": task.path,
                              "mode": mode, "completion": None, "error": None}
    started = time.perf_counter()
    try:
        outcome = await service.complete(DocumentSnapshot(doc_id, task.path, task.document, len(task.prefix)))
    except Exception as exc:  # one task's crash (a grammar, a tokenizer) must not end the run
        log.exception("task %s failed", task.id)
        outcome, errors = None, [*errors, f"{type(exc).__name__}: {exc}"]
    if outcome is None:
        # The service reports a repeated error once; the same error again leaves `errors` as it was.
        message = errors[-1] if errors else "no completion (the request was superseded or timed out)"
        record.update(error=message, exact_match=False, edit_similarity=0.0, syntax_valid=None,
                      latency_ms=round((time.perf_counter() - started) * 1000, 1))
        return record
    text = outcome.text
    scored = scored_text(task, text)
    t = outcome.timings
    record.update(
        completion=text, exact_match=exact_match(scored, task.expected),
        edit_similarity=round(edit_similarity(scored, task.expected), 4), syntax_valid=syntax_valid(task, scored),
        latency_ms=t.get("total_ms"), model_ms=t.get("model_ms"), context_ms=t.get("context_ms"),
        first_token_ms=t.get("first_token_ms"), prompt_tokens=t.get("prompt_tokens"), reused_tokens=t.get("reused_tokens"),
        generated_tokens=t.get("generated_tokens"), context_tokens=t.get("context_tokens"),
        shape=t.get("mode"), fim=t.get("fim"), stop_reason=outcome.stop_reason,
    )
    return record


async def _explain(worker: Any, task: ExplainTask, mode: str, view: HeldOutIndex | None, root: Path,
                   model: EvalModel, language: str = "en") -> dict[str, Any]:
    from assistant.tasks.runner import EXPLAIN, TaskEnv, plan_task, run_task

    record: dict[str, Any] = {"id": task.id, "kind": "explain", "name": task.name, "language": task.language,
                              "answer_language": language, "path": task.path, "mode": mode, "answer": None,
                              "error": None}
    if view is not None:
        view.task = None
    try:
        target = explain_target(task, root)
        env = TaskEnv(index=view, root=root, prompts_dir=model.settings.prompts_dir,
                      context_tokens=model.settings.model.context_tokens, language=language)
        plan = await plan_task(EXPLAIN, target, worker, env)  # exactly what the editor runs
        outcome = await run_task(EXPLAIN, plan, worker)
    except Exception as exc:  # a model error on one prompt is that prompt's result
        message = str(exc) if isinstance(exc, ModelError) else f"{type(exc).__name__}: {exc}"
        record.update(error=message, coverage=0.0, missing=list(task.must_mention))
        return record
    coverage, missing = checklist_coverage(outcome.markdown, task.must_mention)
    result = outcome.result
    record.update(
        answer=outcome.markdown[:MAX_STORED_ANSWER], coverage=coverage, missing=missing,
        latency_ms=round(outcome.total_ms, 1),
        first_token_ms=round(result.first_token_ms, 1) if result and result.first_token_ms is not None else None,
        model_ms=round(result.model_ms, 1) if result else None,
        prompt_tokens=result.prompt_tokens if result else None, reused_tokens=result.reused_tokens if result else None,
        generated_tokens=result.generated_tokens if result else None, context_pieces=len(plan.pieces),
        **explanation_scores(outcome, plan, language),
    )
    return record


async def _ask(worker: Any, task: AskTask, mode: str, view: HeldOutIndex | None, root: Path,
               model: EvalModel, language: str = "en") -> dict[str, Any]:
    """A question through the ask task the editor runs: the files its answer cites against the
    expected ones (precision, recall), and the facts it mentions. Without context there is no index
    to search: the answer is "nothing found", and recall 0."""
    from assistant.tasks.ask import Question
    from assistant.tasks.runner import ASK, TaskEnv, plan_task, run_task

    record: dict[str, Any] = {"id": task.id, "kind": task.kind, "name": task.name, "language": "",
                              "answer_language": language, "path": task.path, "mode": mode, "answer": None,
                              "error": None, "question": task.question}
    if view is not None:
        view.task = None
    try:
        env = TaskEnv(index=view, root=root, prompts_dir=model.settings.prompts_dir,
                      context_tokens=model.settings.model.context_tokens, language=language)
        plan = await plan_task(ASK, Question(task.question), worker, env)
        outcome = await run_task(ASK, plan, worker)
    except Exception as exc:  # a model error on one question is that question's result
        message = str(exc) if isinstance(exc, ModelError) else f"{type(exc).__name__}: {exc}"
        record.update(error=message, coverage=0.0, missing=list(task.must_mention), citation_precision=None,
                      citation_recall=0.0 if task.expect_paths else None, found=False, cited=[])
        return record
    coverage, missing = checklist_coverage(outcome.markdown, task.must_mention) if task.must_mention else (None, [])
    precision, recall = citation_scores([c.path for c in outcome.citations], task.expect_paths)
    result = outcome.result
    record.update(
        answer=outcome.markdown[:MAX_STORED_ANSWER], found=outcome.found, cited=[c.label for c in outcome.citations],
        citation_precision=precision, citation_recall=recall, coverage=coverage, missing=missing,
        latency_ms=round(outcome.total_ms, 1),
        first_token_ms=round(result.first_token_ms, 1) if result and result.first_token_ms is not None else None,
        model_ms=round(result.model_ms, 1) if result else None,
        prompt_tokens=result.prompt_tokens if result else None, reused_tokens=result.reused_tokens if result else None,
        generated_tokens=result.generated_tokens if result else None, context_pieces=len(plan.sources),
    )
    return record


def generations_of(tasks: list[CompletionTask], options: RunOptions) -> list[Generation]:
    from assistant.evaluation.tasks import BODY

    return [Generation(t) for t in tasks if t.kind == BODY] if options.generate else []


def generation_instruction(task: CompletionTask) -> str:
    """The held-out function's header line (found above the body by its name) as the instruction."""
    name = (task.symbol or "").rsplit(".", 1)[-1]
    lines = task.prefix.split("\n")
    for line in reversed(lines[:-1]):
        if name and re.search(rf"\b{re.escape(name)}\s*[(<]", line):
            return f"write the body of {line.strip().rstrip('{:').strip()}"
    return f"write the body of {name or 'this function'}"


def _lines(code: str) -> str:
    return "\n".join(line.strip() for line in code.strip("\n").split("\n") if line.strip())


async def _generate(host: Any, task: CompletionTask, mode: str, view: HeldOutIndex | None, root: Path,
                    model: EvalModel) -> dict[str, Any]:
    """A held-out body through the generate task the editor runs: whether a validated edit came back,
    and its edit similarity (line by line, indentation aside) to the real body."""
    from assistant.tasks.generate import instruction_for
    from assistant.tasks.runner import GENERATE, TaskEnv, plan_task, run_task

    record: dict[str, Any] = {"id": task.id, "kind": "generate", "language": task.language, "path": task.path,
                              "symbol": task.symbol, "mode": mode, "completion": None, "error": None}
    if view is not None:
        view.task = task  # the held-out body is no context for its own generation
    started = time.perf_counter()
    try:
        worker = await host.worker()
        here = (task.start_line, task.start_col)
        target = instruction_for(task.path, task.prefix + task.suffix, here, here, generation_instruction(task))
        env = TaskEnv(index=view, root=root, prompts_dir=model.settings.prompts_dir,
                      context_tokens=model.settings.model.context_tokens)
        plan = await plan_task(GENERATE, target, worker, env)
        outcome = await run_task(GENERATE, plan, worker)
    except Exception as exc:  # one body's failure is that body's result
        message = str(exc) if isinstance(exc, ModelError) else f"{type(exc).__name__}: {exc}"
        record.update(error=message, offered=False, edit_similarity=0.0, syntax_valid=None,
                      latency_ms=round((time.perf_counter() - started) * 1000, 1))
        return record
    code = outcome.change.new_text if outcome.change is not None else ""
    result = outcome.result
    record.update(
        completion=code, offered=outcome.change is not None, message=outcome.message,
        edit_similarity=round(edit_similarity(_lines(code), _lines(task.expected)), 4) if code else 0.0,
        syntax_valid=outcome.change is not None,  # an offered edit re-parsed without new syntax errors
        latency_ms=round(outcome.total_ms, 1),
        first_token_ms=round(result.first_token_ms, 1) if result and result.first_token_ms is not None else None,
        model_ms=round(result.model_ms, 1) if result else None,
        prompt_tokens=result.prompt_tokens if result else None, reused_tokens=result.reused_tokens if result else None,
        generated_tokens=result.generated_tokens if result else None, context_pieces=len(plan.pieces),
    )
    return record


def explain_target(task: ExplainTask, root: Path):
    """The code to explain inside its file as it is now (so context sees its surroundings), or on its
    own when the file changed or the code was given inline."""
    from assistant.tasks.explain import Target

    if not task.path.startswith("inline/"):
        try:
            text = (root / task.path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = None
        if text is not None:
            lines = text.split("\n")
            start = sum(len(line) + 1 for line in lines[: task.start_line])
            if text[start : start + len(task.code)] == task.code:
                return Target(task.path, text, start, start + len(task.code), task.language)
    return Target(task.path, task.code, 0, len(task.code), task.language)


def _file_size(path: Any) -> int | None:
    if not path or path == "(embedded)":
        return None
    try:
        return os.path.getsize(os.path.expanduser(str(path)))
    except OSError:
        return None

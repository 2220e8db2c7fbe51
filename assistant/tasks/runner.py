"""The one path every task takes: the target's repository context, the budget the model can really
hold, the prompt from the task's templates, the model run, and the task's own reading of the answer.

The editor, the CLI and the evaluation differ only in where the target comes from and where the text
goes; what a task is (its templates, context recipe, budget and validation) lives in its TaskSpec.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.tasks.explain import (
    CHARS_PER_TOKEN, ExplainOutcome, ExplainPlan, Target, choose_style, file_line_reader, fit_context_to_model,
    gather_context, plan_explanation, run_explanation,
)
from assistant.tasks.fix import FixOutcome, FixPlan, plan_fix, run_fix
from assistant.tasks.ask import AskOutcome, gather_sources, plan_ask, run_ask
from assistant.tasks.generate import GenerateOutcome, gather_generate_context, plan_generation, run_generation
from assistant.models.base import CancelToken


@dataclass(frozen=True)
class TaskSpec:
    """What a task is. `name` is also the policy's task name; `whole_lines`: its target is widened
    to whole lines (a fix replaces lines); `plan` builds the request from the target and its
    context; `run` streams it through the model and reads the answer (validation included)."""

    name: str
    whole_lines: bool
    plan: Callable[..., Any]
    run: Callable[..., Awaitable[Any]]
    # The context recipe, `gather(target, index, read_line) -> pieces`; None: the target's repository
    # context (what explain and fix use). Ask gathers the code its question is about instead.
    gather: Callable[..., Any] | None = None
    # How the context shrinks to the model, `fit(pieces, model_info) -> pieces` (a 270M model gets a
    # few one-line signatures); None: the context as gathered.
    fit: Callable[[list, dict], list] | None = None


@dataclass(frozen=True)
class TaskEnv:
    """Where a task runs: the index (None: no repository context), the repository root, the user's
    prompt templates, the configured context window and the answer language; `query` runs a
    blocking index read off the event loop (the server passes its index-reader pool)."""

    index: Any = None
    root: Path | None = None
    prompts_dir: str = ""
    context_tokens: int = 4096
    language: str = "en"
    query: Callable[..., Awaitable[Any]] = asyncio.to_thread


def _plan_explain(target: Target, pieces: list, *, language: str, style: str, context_tokens: int,
                  prompts_dir: str, problem: str) -> ExplainPlan:
    return plan_explanation(target, pieces, language=language, style=style, context_tokens=context_tokens,
                            prompts_dir=prompts_dir)


def _plan_fix(target: Target, pieces: list, *, language: str, style: str, context_tokens: int,
              prompts_dir: str, problem: str) -> FixPlan:
    return plan_fix(target, pieces, problem=problem, style=style, context_tokens=context_tokens, prompts_dir=prompts_dir)


async def _run_fix(worker: Any, plan: FixPlan, on_chunk: Callable[[str], None] | None = None,
                   cancel: CancelToken | None = None) -> FixOutcome:
    return await run_fix(worker, plan)


EXPLAIN = TaskSpec("explain", whole_lines=False, plan=_plan_explain, run=run_explanation, fit=fit_context_to_model)
FIX = TaskSpec("fix", whole_lines=True, plan=_plan_fix, run=_run_fix, fit=fit_context_to_model)
ASK = TaskSpec("ask", whole_lines=False, plan=plan_ask, run=run_ask, gather=gather_sources)
# Generate's target is an `Instruction` (the place and what to write); its context starts from the instruction.
GENERATE = TaskSpec("generate", whole_lines=True, plan=plan_generation, run=run_generation,
                    gather=gather_generate_context)
TASKS = {spec.name: spec for spec in (EXPLAIN, FIX, ASK, GENERATE)}


async def plan_task(spec: TaskSpec, target: Target, worker: Any, env: TaskEnv, *, problem: str = "") -> Any:
    """The task's plan (request, context pieces chosen, template error if any) for this model."""
    pieces = await env.query(spec.gather or gather_context, target, env.index, file_line_reader(env.root))
    info = await model_info(worker)
    if spec.fit is not None:
        pieces = spec.fit(pieces, info)
    window = info.get("context_tokens")
    window = window if isinstance(window, int) and window > 0 else env.context_tokens
    budget = await effective_context_tokens(worker, window, target.code)
    return spec.plan(target, pieces, language=env.language, style=choose_style(info), context_tokens=budget,
                     prompts_dir=env.prompts_dir, problem=problem)


async def run_task(spec: TaskSpec, plan: Any, worker: Any, on_chunk: Callable[[str], None] | None = None,
                   cancel: CancelToken | None = None) -> ExplainOutcome | FixOutcome | AskOutcome | GenerateOutcome:
    return await spec.run(worker, plan, on_chunk, cancel)


async def model_info(worker: Any) -> dict:
    try:
        return await worker.call(worker.backend.info)
    except Exception:  # an unknown model still gets a task, with the configured window
        return {}


async def effective_context_tokens(worker: Any, context_tokens: int, sample: str) -> int:
    """The context in units of the planner's estimate: a model whose tokenizer splits this code
    finer than `CHARS_PER_TOKEN` gets proportionally less, so the prompt always fits."""
    sample = sample[:4000]
    try:
        tokens = await worker.call(worker.backend.count_tokens, sample) if sample else 0
    except Exception:
        return context_tokens
    ratio = len(sample) / tokens if tokens else CHARS_PER_TOKEN
    return context_tokens if ratio >= CHARS_PER_TOKEN else int(context_tokens * ratio / CHARS_PER_TOKEN)

"""Fixes: the request for a corrected version of whole lines (a diagnostic's, or a selection's), and
running it through the validator (`edit_validation`), so that only a safe, smallest edit is offered.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from assistant.tasks.edit_validation import TextChange, validate_fix
from assistant.tasks.answer_checks import copied_share
from assistant.tasks.explain import (
    ContextPiece, Target, base_context, code_budget, estimate_tokens, fit_pieces, resolve_target,
)
from assistant.models.base import CANCELLED, CancelToken, GenerationRequest, GenerationResult
from assistant.tasks.prompt_templates import PromptError, PromptTemplate, load_template

log = logging.getLogger(__name__)

MAX_FIX_LINES = 200  # beyond this a rewrite is not a fix, and the model could not echo it back anyway
DEFAULT_PROBLEM = "improve this code: fix bugs and errors, keep its behaviour otherwise"


@dataclass
class FixPlan:
    target: Target
    request: GenerationRequest
    problem: str
    pieces: list[ContextPiece] = field(default_factory=list)
    template_error: PromptError | None = None
    fallback: FixPlan | None = None  # the same request without context, for an answer that copied it


@dataclass
class FixOutcome:
    change: TextChange | None
    message: str
    answer: str = ""
    result: GenerationResult | None = None
    total_ms: float = 0.0
    retried: bool = False  # the first answer copied the context and was asked again without it


def fix_target(path: str, text: str, start: tuple[int, int], end: tuple[int, int]) -> Target:
    """The whole lines to fix (an empty range: the enclosing function or class)."""
    from assistant.tasks.explain import TargetError

    target = resolve_target(path, text, start, end, whole_lines=True)
    lines = target.end_line - target.start_line + 1
    if lines > MAX_FIX_LINES:
        raise TargetError(f"kura: {lines} lines are too many to fix at once (at most {MAX_FIX_LINES}); select less")
    return target


def plan_fix(
    target: Target,
    pieces: list[ContextPiece],
    *,
    problem: str = "",
    style: str = "chat",
    context_tokens: int = 4096,
    prompts_dir: str = "",
    template: PromptTemplate | None = None,
) -> FixPlan:
    template_error = None
    if template is None:
        template, template_error = load_template("fix", style, prompts_dir)
    code = target.code
    # the answer repeats the code, so leave room for all of it and a little more
    max_tokens = min(max(64, estimate_tokens(code) * 3 // 2 + 48), max(64, context_tokens // 2))
    budget = code_budget(context_tokens, max_tokens) - estimate_tokens(code)
    chosen = fit_pieces(pieces, max(0, budget))
    if template.style == "base":  # a document to continue: the context as code, none when there is none
        context = base_context(chosen, "en", target.language or "text")
    else:
        context = "\n\n".join(p.render() for p in chosen) or "(none found)"
    values = dict(
        context=context, problem=problem.strip() or DEFAULT_PROBLEM,
        path=target.path, start_line=target.start_line + 1, end_line=target.end_line + 1,
        code_language=target.language or "text", code=code.rstrip("\n"),
    )
    if template.style == "chat":
        request = GenerationRequest(messages=template.messages(**values), max_tokens=max_tokens, temperature=0.0)
    else:
        request = GenerationRequest(prompt=template.render(**values), max_tokens=max_tokens, temperature=0.0,
                                    stop=("```",))
    fallback = None
    if chosen:
        fallback = plan_fix(target, [], problem=problem, style=style, context_tokens=context_tokens,
                            prompts_dir=prompts_dir, template=template)
    return FixPlan(target, request, values["problem"], chosen, template_error, fallback)


async def run_fix(worker: Any, plan: FixPlan, cancel: CancelToken | None = None) -> FixOutcome:
    """Ask the model, then validate its answer; the outcome has a change or says why not. An answer
    that copies the repository context instead of fixing the code (it may even parse) is asked
    again once without the context."""
    started = time.perf_counter()
    t = plan.target
    retried = False
    while True:
        result = await worker.generate(plan.request, cancel)
        elapsed = (time.perf_counter() - started) * 1000
        if result.stop_reason == CANCELLED:
            return FixOutcome(None, "kura: the fix was cancelled", result.text, result, elapsed, retried)
        validation = validate_fix(t.text, t.path, t.start, t.end, result.text)
        if plan.fallback is None or not copies_context(result.text, plan):
            break
        log.info("the fix copied its context back; asking again without it")
        plan, retried = plan.fallback, True
    if not validation.ok:
        log.info("fix rejected: %s; the model said: %r", validation.message, result.text[:500])
    return FixOutcome(validation.change, validation.message, result.text, result, elapsed, retried)


def copies_context(answer: str, plan: FixPlan) -> bool:
    """The answer is mostly the context pieces' text (not the code, which a fix repeats by design)."""
    context = "\n".join(p.text for p in plan.pieces)
    return bool(context.strip()) and copied_share(answer, context) >= 0.5

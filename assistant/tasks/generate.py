"""Generation from an instruction: with a selection, the selected lines rewritten as instructed; with
none, new code inserted at the cursor's line. The context recipe, the request, and the reading of the
answer (fenced code only, no chatter) checked like a fix (`edit_validation`) before it is offered.

Everything here but `run_generation` is pure and runs on any thread.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from assistant.models.base import CANCELLED, CancelToken, GenerationRequest, GenerationResult
from assistant.tasks.edit_validation import (
    FENCE, OPEN_FENCE, TextChange, Validation, insertion_indent, validate_fix, validate_insertion,
)
from assistant.tasks.explain import (
    ContextPiece, IndexQueries, Target, TargetError, code_budget, estimate_tokens, fit_pieces, gather_context,
    offset_of, repeating, resolve_target, used_names,
)
from assistant.tasks.prompt_templates import PromptError, PromptTemplate, load_template
from indexer.languages import language_for_path

log = logging.getLogger(__name__)

EDIT, INSERT = "edit", "insert"
MAX_EDIT_LINES = 200  # as for fixes: the model has to write all of them back
AROUND_LINES = 12  # lines above and below the target the model sees, and whose names it gets definitions of
INSERT_MAX_TOKENS = 320
MAX_SIMILAR = 2
MAX_INSTRUCTION_NAMES = 12
MAX_INSTRUCTION_CHARS = 2000

# Lines a chat model wraps around code when it does not fence it ("Here is the updated code:").
_CHATTER = re.compile(
    r"^\s*(here(?:'s| is| are)|sure\b|certainly\b|of course\b|okay\b|ok[,.!]|below\b|the (?:following|updated|new|"
    r"rewritten|modified|code)\b|this (?:code|function|version|change|will)\b|i (?:have|'ve|added|changed|updated|"
    r"rewrote|will)\b|explanation\b|note\b|changes?:|output:|answer:)", re.I)

# An unindented English sentence: "This empties the cart." (code seldom starts capitalised, spaced out, and ends in a period)
_SENTENCE = re.compile(r"^[A-Z][a-z'’]*(?: [\w'’,()-]+){2,}[.!:]$")


def _is_chatter(line: str) -> bool:
    return bool(_CHATTER.match(line) or _SENTENCE.match(line))


@dataclass(frozen=True)
class Instruction:
    """A generate task's target: the place (edit: the selected whole lines; insert: an empty span,
    or a blank line, where the code goes) and what to write there."""

    place: Target
    text: str

    @property
    def code(self) -> str:
        return self.place.code


@dataclass
class GeneratePlan:
    target: Target  # the place
    request: GenerationRequest
    instruction: str
    mode: str  # EDIT | INSERT
    pieces: list[ContextPiece] = field(default_factory=list)
    template_error: PromptError | None = None


@dataclass
class GenerateOutcome:
    change: TextChange | None
    message: str
    answer: str = ""
    result: GenerationResult | None = None
    total_ms: float = 0.0
    first_chunk_ms: float | None = None
    mode: str = EDIT


# --- the target --------------------------------------------------------------------------------


def generate_target(path: str, text: str, start: tuple[int, int], end: tuple[int, int]) -> Target:
    """A selection: its whole lines, to rewrite. No selection: where new code goes — the cursor's
    line when it is blank, else the start of the line below it (below the last line: the end of
    that line, so that the edit never names a line past the end, which editors treat differently)."""
    if start == end:
        line = start[0]
        line_start = offset_of(text, line, 0)
        if line_start is None:
            lines = text.count("\n") + 1
            raise TargetError(f"kura: line {line + 1} is outside {path} ({lines} lines)")
        nl = text.find("\n", line_start)
        line_end = len(text) if nl < 0 else nl
        spec = language_for_path(path)
        if text[line_start:line_end].strip():
            at = len(text) if nl < 0 else nl if nl + 1 == len(text) else nl + 1
            return Target(path, text, at, at, spec.name if spec else "")
        return Target(path, text, line_start, line_end, spec.name if spec else "")  # the blank line is filled
    if not text.strip():
        raise TargetError(f"kura: {path} is empty; select nothing to write new code into it")
    target = resolve_target(path, text, start, end, whole_lines=True)
    lines = target.end_line - target.start_line + 1
    if lines > MAX_EDIT_LINES:
        raise TargetError(f"kura: {lines} lines are too many to rewrite at once (at most {MAX_EDIT_LINES}); select less")
    return target


def instruction_for(path: str, text: str, start: tuple[int, int], end: tuple[int, int], instruction: str) -> Instruction:
    """The generate task's target for a selection (or cursor) and the user's instruction."""
    if not instruction.strip():
        raise TargetError("kura: say what to generate or change (the instruction is empty)")
    return Instruction(generate_target(path, text, start, end), instruction.strip())


def mode_of(target: Target) -> str:
    return EDIT if target.code.strip() else INSERT


# --- context -----------------------------------------------------------------------------------


def gather_generate_context(instruction: Instruction, index: IndexQueries | None,
                            read_line: Callable[[str, int], str | None] | None = None) -> list[ContextPiece]:
    """Definitions of the names the instruction mentions first, then what explain gathers for the
    code around the place (enclosing class, definitions of the names used nearby, the file's
    imports, callers), then similar code elsewhere in the repository."""
    target, instruction = instruction.place, instruction.text
    text = target.text
    first = max(0, target.start_line - AROUND_LINES)
    a = offset_of(text, first, 0) or 0
    last_line = target.end_line + AROUND_LINES
    b = offset_of(text, last_line, 0)
    around = Target(target.path, text, a, len(text) if b is None else b, target.language, target.enclosing)
    pieces: list[ContextPiece] = []
    seen: set[str] = set()

    def add(piece: ContextPiece) -> None:
        if piece.label + piece.kind not in seen:
            seen.add(piece.label + piece.kind)
            pieces.append(piece)

    if index is not None:
        for name in instruction_names(instruction)[:MAX_INSTRUCTION_NAMES]:
            try:
                found = index.definitions(name)
            except Exception:
                log.debug("definitions(%s) failed", name, exc_info=True)
                continue
            for d in found[:2]:
                doc = f"\n    {d.doc.strip()}" if d.doc.strip() else ""
                add(ContextPiece(f"{d.path}:{d.range.start_line + 1}", "definition", f"{d.signature.strip() or d.name}{doc}"))
    for piece in gather_context(around, index, read_line):
        add(piece)
    search = getattr(index, "search_chunks", None)
    if search is not None and instruction.strip():
        try:
            similar = search(f"{instruction}\n{target.code}", MAX_SIMILAR + 3)
        except Exception:
            log.debug("search_chunks failed", exc_info=True)
            similar = []
        kept = 0
        for chunk, _score in similar:
            if kept >= MAX_SIMILAR:
                break
            if chunk.path == target.path and chunk.start_line <= target.end_line + AROUND_LINES \
                    and chunk.end_line >= first:
                continue  # the model sees that code already
            add(ContextPiece(f"{chunk.path}:{chunk.start_line + 1}", "similar", chunk.text))
            kept += 1
    return pieces


def instruction_names(instruction: str) -> list[str]:
    """Identifiers in the instruction that look like code (snake_case, camelCase, `quoted`, Dotted.names,
    call()s) rather than English words."""
    names: list[str] = []
    for quoted in re.findall(r"`([^`]+)`", instruction):
        names.extend(used_names(quoted))
    for word in re.findall(r"[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*(?=\s*\()?", instruction):
        for part in word.split("."):
            if "_" in part or re.search(r"[a-z][A-Z]", part) or re.match(r"[A-Z][a-z]+[A-Z]", part) or "." in word:
                names.append(part)
    for call in re.findall(r"([A-Za-z_$][A-Za-z0-9_$]*)\s*\(", instruction):
        names.append(call)
    for word in re.findall(r"\b[A-Z][a-zA-Z0-9]+\b", instruction[1:]):  # capitalised mid-sentence: a type name
        names.append(word)
    return [n for n in dict.fromkeys(names) if len(n) > 1]


# --- the request -------------------------------------------------------------------------------


def plan_generation(
    target: Instruction,
    pieces: list[ContextPiece],
    *,
    style: str = "chat",
    context_tokens: int = 4096,
    prompts_dir: str = "",
    template: PromptTemplate | None = None,
    language: str = "en",
    problem: str = "",
) -> GeneratePlan:
    """The request for the rewrite of the selection (or the code to insert), within the model's
    context. (`language`, `problem`: the runner's common arguments; code needs neither.)"""
    target, instruction = target.place, " ".join(target.text.split())[:MAX_INSTRUCTION_CHARS]
    if not instruction:
        raise TargetError("kura: say what to generate or change (the instruction is empty)")
    template_error = None
    if template is None:
        template, template_error = load_template("generate", style, prompts_dir)
    mode = mode_of(target)
    lines = target.text.split("\n")
    comment = comment_marker(target.language)
    fence = f"```{target.language or 'text'}"
    # A base model continues documents: the code, then a comment stating the change. A rewrite is
    # the selection "Before:" and an open block "After (instruction):"; new code is the code above
    # it with the instruction as the comment it continues from.
    if mode == EDIT:
        code = target.code.rstrip("\n")
        max_tokens = min(max(128, estimate_tokens(code) * 2 + 64), max(64, context_tokens // 2))
        code_heading = f"lines {target.start_line + 1}-{target.end_line + 1}, to be changed"
        answer_heading = f"The same lines {target.start_line + 1}-{target.end_line + 1} after the change"
        reply = f"the rewritten lines {target.start_line + 1}-{target.end_line + 1}"
        before = f"{comment} Before:\n{code}\n```\n\n{fence}"
        change = f"{comment} After ({instruction}):"
        again = f"{comment} After ("
    else:
        above = target.text[: target.start].split("\n")[-2 * AROUND_LINES :]
        while above and not above[0].strip():
            above.pop(0)
        code = "\n".join(above).rstrip()
        max_tokens = min(INSERT_MAX_TOKENS, max(64, context_tokens // 3))
        at_line_start = target.start == 0 or target.text[target.start - 1] == "\n"
        where = f"line {target.start_line + (1 if at_line_start else 2)}"
        code_heading = f"the lines above {where}, where the new code goes" if code else f"empty so far; the new code goes at {where}"
        answer_heading = f"Only the new code to insert at {where}"
        reply = f"only the new code to insert at {where}"
        before = f"{code}\n" if code else ""
        change = f"{insertion_indent(target.text, target.start, target.end)}{comment} {instruction}"
        again = change.strip()
    mid_line = target.start > 0 and target.text[target.start - 1] != "\n"
    # A base model that has written its code goes on with the document: a closing fence, two blank
    # lines after a new definition, or the prompt's own headings and change comment over again.
    stop = ("```", "\n# Repository context", f"\n# {target.path} (", again, *(("\n\n\n",) if mode == INSERT else ()))
    after_from = target.end_line + 1 if target.end > target.start or mid_line else target.start_line
    after = lines[after_from : after_from + 4]
    budget = code_budget(context_tokens, max_tokens) - estimate_tokens(code) - estimate_tokens(instruction)
    chosen = fit_pieces(pieces, max(0, budget))
    values = dict(
        context="\n\n".join(p.render() for p in chosen) or "(none found)", instruction=instruction,
        path=target.path, start_line=target.start_line + 1, end_line=target.end_line + 1,
        code_language=target.language or "text", code=code, code_heading=code_heading,
        answer_heading=answer_heading, reply=reply, mode=mode,
        after="\n".join(after).rstrip() or "(end of file)", before=before, change=change, comment=comment,
    )
    if template.style == "chat":
        request = GenerationRequest(messages=template.messages(**values), max_tokens=max_tokens, temperature=0.0,
                                    should_stop=repeating)
    else:
        # new code is one block: a base model that dedents below where it started has left it
        done = (lambda text: repeating(text) or leaves_block(text)) if mode == INSERT else repeating
        request = GenerationRequest(prompt=template.render(**values), max_tokens=max_tokens, temperature=0.0,
                                    stop=stop, should_stop=done)
    return GeneratePlan(target, request, instruction, mode, chosen, template_error)


def cloud_instruction(target: Instruction, prompts_dir: str = "") -> tuple[str, PromptError | None]:
    """What an escalated generation asks the cloud model (`generate.cloud.md`, with the same values
    as the local prompts; the sanitized excerpt travels separately)."""
    plan = plan_generation(target, [], style="cloud", prompts_dir=prompts_dir)
    return (plan.request.prompt or "").strip(), plan.template_error


def cloud_excerpt(place: Target) -> Target:
    """The code an escalated generation shows the cloud model: the selection, or for new code the
    lines above where it goes (the model sees no more of the file than that and the context)."""
    if mode_of(place) == EDIT:
        return place
    first = max(0, place.start_line - 2 * AROUND_LINES)
    a = offset_of(place.text, first, 0) or 0
    end = place.start if place.start > a else min(len(place.text), place.end)
    return Target(place.path, place.text, a, end, place.language)


def comment_marker(language: str) -> str:
    """How a line comment starts in the language (kura's grammars: `#` or `//`)."""
    return "#" if language in ("python", "ruby", "") else "//"


# --- the answer --------------------------------------------------------------------------------


def extract_generated_code(answer: str) -> str:
    """The code in a model's answer: the largest fenced block, an unclosed fence's body (a base
    model stops at the closing fence), or, unfenced, the answer without the sentences a chat model
    puts around code."""
    blocks = [m.group(2) for m in FENCE.finditer(answer)]
    if blocks:
        return max(blocks, key=len)
    opened = OPEN_FENCE.search(answer)
    if opened:
        return opened.group(2)
    lines = answer.split("\n")
    while lines and (not lines[0].strip() or _is_chatter(lines[0])):
        lines.pop(0)
    while lines and (not lines[-1].strip() or _is_chatter(lines[-1])):
        lines.pop()
    return "\n".join(lines)


def leaves_block(text: str) -> bool:
    """True once a complete line is indented less than the first non-blank line (the block new code
    started in has ended; an unindented start never ends this way)."""
    lines = text.split("\n")[:-1]  # complete lines only
    nonblank = [l for l in lines if l.strip()]
    if len(nonblank) < 2:
        return False
    first = len(nonblank[0]) - len(nonblank[0].lstrip())
    return first > 0 and any(len(l) - len(l.lstrip()) < first for l in nonblank[1:])


def one_block(code: str) -> str:
    """New code up to where it dedents below its first line (a base model writes on into the next
    method or function)."""
    lines = code.split("\n")
    first = next((l for l in lines if l.strip()), "")
    indent = len(first) - len(first.lstrip())
    if indent == 0:
        return code
    seen = False
    for i, line in enumerate(lines):
        if line.strip():
            if seen and len(line) - len(line.lstrip()) < indent:
                return "\n".join(lines[:i])
            seen = True
    return code


def read_answer(target: Target, answer: str) -> Validation:
    """The model's answer as the change to offer, or why there is none."""
    code = extract_generated_code(answer)
    if not answer.strip():
        return Validation(None, "kura: the model returned nothing; no change was made")
    if mode_of(target) == EDIT:
        if not code.strip():
            return Validation(None, "kura: the model's answer holds no code; no change was made")
        # the extracted code, fenced again so validate_fix reads exactly it
        return validate_fix(target.text, target.path, target.start, target.end, f"```\n{code}\n```\n", task="edit")
    return validate_insertion(target.text, target.path, target.start, target.end, one_block(code))


async def run_generation(worker: Any, plan: GeneratePlan, on_chunk: Callable[[str], None] | None = None,
                         cancel: CancelToken | None = None) -> GenerateOutcome:
    """Stream the answer (`on_chunk` gets the raw text for a preview), then read and validate it;
    the outcome has a change or says why not."""
    started = time.perf_counter()
    first_chunk_ms: float | None = None

    def emit(chunk: str) -> None:
        nonlocal first_chunk_ms
        if chunk and first_chunk_ms is None:
            first_chunk_ms = (time.perf_counter() - started) * 1000
        if chunk and on_chunk is not None:
            on_chunk(chunk)

    result = await worker.generate(plan.request, cancel, on_text=emit)
    elapsed = (time.perf_counter() - started) * 1000
    if result.stop_reason == CANCELLED:
        return GenerateOutcome(None, "kura: the generation was cancelled", result.text, result, elapsed,
                               first_chunk_ms, plan.mode)
    validation = read_answer(plan.target, result.text)
    if not validation.ok:
        log.info("generation rejected: %s; the model said: %r", validation.message, result.text[:500])
    return GenerateOutcome(validation.change, validation.message, result.text, result, elapsed, first_chunk_ms, plan.mode)

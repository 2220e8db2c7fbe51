"""Explanations: the code to explain (an empty range grows to the enclosing function or class), its
context from the index labelled `path:line`, fitted to a token budget, and the streamed Markdown.

Shared with fixes (assistant/tasks/fix.py): `Target`, `resolve_target`, `gather_context`, budgeting.
Everything here but `run_explanation` is pure and runs on any thread.
"""

from __future__ import annotations

import logging
import re
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from assistant.models.base import CANCELLED, CancelToken, GenerationRequest, GenerationResult
from assistant.tasks.answer_checks import PromptEcho, loop_start, squash
from assistant.tasks.prompt_templates import PromptError, PromptTemplate, load_template
from indexer import kinds
from indexer.extract import extract_file
from indexer.languages import LanguageSpec, language_for_path
from indexer.model import Definition, FileExtract, Reference

log = logging.getLogger(__name__)

CHARS_PER_TOKEN = 3.5  # a conservative estimate for code; the budget never needs the model's tokenizer
EXPLAIN_MAX_TOKENS = 384
EXPLAIN_CONTEXT_TOKENS = 700  # small models read slowly and follow short prompts better
TEMPLATE_OVERHEAD_TOKENS = 250
MAX_NAMES = 40
MAX_DEFINITIONS_PER_NAME = 2
MAX_CALLERS = 6
CONTAINER_KINDS = {kinds.CLASS, kinds.STRUCT, kinds.INTERFACE, kinds.ENUM, kinds.MODULE, kinds.NAMESPACE}
CALLABLE_KINDS = {kinds.FUNCTION, kinds.METHOD, kinds.CONSTRUCTOR}
WORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")

LANGUAGE_NAMES = {
    "en": "English", "ja": "Japanese (日本語)", "zh": "Chinese (中文)", "ko": "Korean (한국어)",
    "de": "German (Deutsch)", "fr": "French (français)", "es": "Spanish (español)",
    "pt": "Portuguese (português)", "it": "Italian (italiano)", "ru": "Russian (русский)",
}
TRUNCATION_NOTICE = {
    "en": "> **Note:** the selection has {total} lines; only lines {first}–{last} fit the model's budget, "
          "so this explanation covers those lines only.\n\n",
    "ja": "> **注意:** 選択範囲は {total} 行あります。モデルの予算に収まった {first}–{last} 行目だけを説明します。\n\n",
}
EMPTY_ANSWER = {
    "en": "_The model returned no explanation. Try a smaller selection or another model._",
    "ja": "_モデルから説明が返りませんでした。選択範囲を小さくするか、別のモデルを試してください。_",
}
ECHO_ANSWER = {
    "en": "_The model only repeated the code and its context back (also when asked again with less context), "
          "so there is no explanation to show. A larger or instruction-tuned model (setting `model.path`) "
          "explains better._",
    "ja": "_モデルはコードと文脈をそのまま繰り返しただけでした(文脈を減らして再度試しても同じでした)。表示できる説明は"
          "ありません。より大きなモデルか指示チューニング済みのモデル(設定 `model.path`)を使うと説明の質が上がります。_",
}
# A base model does not follow instructions, it continues documents: the explanation is the paragraph
# the document (a few-shot "code, then its explanation" page) has started, in the answer's language.
BASE_EXPLAIN_MAX_TOKENS = 200
BASE_STOPS = ("\n## ", "\n### ", "\n```", "\n\n\n")
BASE_REPEAT_PENALTY = 1.15  # measured on Gemma 3 270M: greedy Japanese loops without it, none at 1.15
ANSWER_LEADS = {
    "en": {"function": "This function", "method": "This method", "class": "This class", "code": "This code"},
    "ja": {"function": "この関数は", "method": "このメソッドは", "class": "このクラスは", "code": "このコードは"},
}
CONTEXT_HEADINGS = {"en": "## Definitions it uses", "ja": "## 使われている定義"}
# Models this small echo long context back instead of using it: they get the selection and a few
# one-line signatures of what it uses. Larger ones get the whole context that fits.
SMALL_MODEL_PARAMETERS = 1_500_000_000
SMALL_MODEL_SIGNATURES = 4
ECHO_PROBE_CHARS = 48  # the answer is held back until this much shows it is not an echo
STREAM_LAG_CHARS = 48  # then streamed this far behind, so that a loop is cut before it is shown


class TargetError(Exception):
    """The code asked about cannot be used (empty file, range outside it, binary file); the message
    is meant for the user as is."""


class IndexQueries(Protocol):
    def definitions(self, name: str) -> list[Definition]: ...

    def references(self, name: str) -> list[Reference]: ...


@dataclass(frozen=True)
class Target:
    """The code a task is about: a span of one document's text."""

    path: str  # repository-relative POSIX path (or the path as given, outside a repository)
    text: str  # the whole document
    start: int  # str offsets into text
    end: int
    language: str = ""  # the code's language name, "" when kura has no grammar for it
    enclosing: str = ""  # the definition an empty range grew to

    @property
    def code(self) -> str:
        return self.text[self.start : self.end]

    @property
    def start_line(self) -> int:  # 0-based
        return self.text.count("\n", 0, self.start)

    @property
    def end_line(self) -> int:  # 0-based, inclusive: a selection ending at column 0 ends on the line before
        end = self.end - 1 if self.end > self.start and self.text[self.end - 1] == "\n" else self.end
        return self.text.count("\n", 0, end)


@dataclass(frozen=True)
class ContextPiece:
    label: str  # "path:line" (1-based), what the answer cites
    kind: str  # "enclosing" | "module" | "definition" | "import" | "caller"
    text: str

    def render(self) -> str:
        return f"[{self.label}] ({self.kind})\n{self.text.rstrip()}"


@dataclass
class ExplainPlan:
    target: Target
    request: GenerationRequest
    language: str  # answer language code, "en", "ja", ...
    notice: str = ""  # Markdown put before the model's answer (truncation)
    truncated: bool = False
    pieces: list[ContextPiece] = field(default_factory=list)
    template_error: PromptError | None = None
    lead: str = ""  # the answer's opening, written into a base model's prompt; part of the answer
    fallback: ExplainPlan | None = None  # the same request with less context, for an echoed answer


@dataclass
class ExplainOutcome:
    markdown: str
    result: GenerationResult | None
    first_chunk_ms: float | None
    total_ms: float
    echo: bool = False  # the model only copied its prompt back (after the retry, if there was one)
    retried: bool = False  # the first answer echoed and the request was run again with less context
    copied_share: float | None = None  # of the last answer, see answer_checks.copied_share


# --- the document and the target --------------------------------------------------------------


def decode_source(data: bytes, path: str) -> str:
    """The file's text; TargetError for binary files."""
    if b"\0" in data[:8192]:
        raise TargetError(f"kura: {path} looks like a binary file; there is no code to read")
    return data.decode("utf-8", "replace")


def offset_of(text: str, line: int, col: int) -> int | None:
    """The str offset of a 0-based (line, code-point column), or None when it is outside the text."""
    if line < 0 or col < 0:
        return None
    start = 0
    for _ in range(line):
        nl = text.find("\n", start)
        if nl < 0:
            return None
        start = nl + 1
    nl = text.find("\n", start)
    line_end = len(text) if nl < 0 else nl
    if start + col > line_end:
        return None
    return start + col


def position_of(text: str, offset: int) -> tuple[int, int]:
    """0-based (line, code-point column) of a str offset."""
    line = text.count("\n", 0, offset)
    return line, offset - (text.rfind("\n", 0, offset) + 1)


def resolve_target(path: str, text: str, start: tuple[int, int], end: tuple[int, int], *, whole_lines: bool = False) -> Target:
    """The selection as a Target; an empty one grows to the innermost enclosing function or class.

    whole_lines: widen a non-empty selection to whole lines (fixes replace whole lines).
    """
    if not text.strip():
        raise TargetError(f"kura: {path} is empty; there is no code to work on")
    lines = text.count("\n") + 1
    a, b = offset_of(text, *start), offset_of(text, *end)
    if a is None or b is None or b < a:
        raise TargetError(f"kura: the range {start[0] + 1}:{start[1] + 1}-{end[0] + 1}:{end[1] + 1} is outside "
                          f"{path} ({lines} lines)")
    spec = language_for_path(path)
    language = spec.name if spec else ""
    if a == b:
        found = enclosing_definition(path, text, start[0], spec)
        if found is None:
            raise TargetError(f"kura: no function or class encloses line {start[0] + 1} of {path}; select the code instead")
        a = offset_of(text, found.range.start_line, 0) or 0
        b = _line_end(text, found.range.end_line)
        return Target(path, text, a, b, language, found.qualname)
    if whole_lines:
        a = a - (start[1])
        b_line, b_col = end
        if b_col > 0 or b == a:
            b = _line_end(text, b_line)
    if not text[a:b].strip():
        raise TargetError(f"kura: the selection in {path} holds only whitespace")
    return Target(path, text, a, b, language)


def enclosing_definition(path: str, text: str, line: int, spec: LanguageSpec | None) -> Definition | None:
    """The innermost function, method or class (by tree-sitter) whose range holds `line`."""
    if spec is None:
        return None
    found = [d for d in extract_file(path, text.encode("utf-8"), spec).definitions
             if d.range.contains_line(line) and (d.kind in CALLABLE_KINDS or d.kind in CONTAINER_KINDS)]
    return min(found, key=lambda d: d.range.end_line - d.range.start_line, default=None)


def _line_end(text: str, line: int) -> int:
    """Offset just past line `line`'s newline (or the end of the text)."""
    start = offset_of(text, line, 0)
    if start is None:
        return len(text)
    nl = text.find("\n", start)
    return len(text) if nl < 0 else nl + 1


# --- context -----------------------------------------------------------------------------------


def gather_context(target: Target, index: IndexQueries | None, read_line: Callable[[str, int], str | None] | None = None) -> list[ContextPiece]:
    """What the model should know, most useful first: the enclosing class and module docstring,
    definitions of the names the code uses, the file's imports, then its callers."""
    spec = language_for_path(target.path)
    extract: FileExtract | None = None
    if spec is not None:
        try:
            extract = extract_file(target.path, target.text.encode("utf-8"), spec)
        except Exception:  # a grammar crash must not cost the explanation
            log.debug("extracting %s failed", target.path, exc_info=True)
    first, last = target.start_line, target.end_line
    pieces: list[ContextPiece] = []
    module_doc = module_docstring(target.text)
    if module_doc and first > 0:
        pieces.append(ContextPiece(f"{target.path}:1", "module", module_doc))
    own: list[Definition] = []
    if extract is not None:
        for d in extract.definitions:
            if d.range.start_line >= first and d.range.end_line <= last:
                own.append(d)
            elif d.kind in CONTAINER_KINDS and d.range.start_line < first and d.range.end_line >= last:
                pieces.append(ContextPiece(f"{d.path}:{d.range.start_line + 1}", "enclosing", _describe(d)))
    own_sites = {(d.path, d.range.start_line) for d in own}

    if index is not None:
        seen: set[tuple[str, int]] = set(own_sites)
        for name in used_names(target.code)[:MAX_NAMES]:
            try:
                found = index.definitions(name)
            except Exception:
                log.debug("definitions(%s) failed", name, exc_info=True)
                continue
            for d in found[:MAX_DEFINITIONS_PER_NAME]:
                key = (d.path, d.range.start_line)
                inside = d.path == target.path and first <= d.range.start_line <= last
                if key in seen or inside:
                    continue
                seen.add(key)
                pieces.append(ContextPiece(f"{d.path}:{d.range.start_line + 1}", "definition", _describe(d)))

    if extract is not None and extract.imports:
        lines = target.text.split("\n")
        for imp in extract.imports:
            text = lines[imp.line].strip() if 0 <= imp.line < len(lines) else imp.module
            pieces.append(ContextPiece(f"{target.path}:{imp.line + 1}", "import", text))

    if index is not None:
        names = [d.name for d in own if d.kind in CALLABLE_KINDS or d.kind in CONTAINER_KINDS]
        if target.enclosing:
            names.insert(0, target.enclosing.rsplit(".", 1)[-1])
        callers = 0
        for name in dict.fromkeys(names):
            try:
                refs = index.references(name)
            except Exception:
                log.debug("references(%s) failed", name, exc_info=True)
                continue
            for ref in refs:
                if callers >= MAX_CALLERS:
                    break
                if ref.is_definition or (ref.path == target.path and first <= ref.range.start_line <= last):
                    continue
                line_text = _line_text(target, ref, read_line)
                if line_text is None:
                    continue
                pieces.append(ContextPiece(f"{ref.path}:{ref.range.start_line + 1}", "caller", line_text.strip()))
                callers += 1
    return pieces


def used_names(code: str) -> list[str]:
    """Identifiers in the code, in order of first use, without duplicates or keywords."""
    return [w for w in dict.fromkeys(WORD.findall(_strip_strings(code))) if w not in _KEYWORDS and len(w) > 1]


def module_docstring(text: str) -> str:
    """A Python-style module docstring or the leading comment block; "" when none."""
    body = text.lstrip("\ufeff")
    lines = body.split("\n")
    while lines and (lines[0].startswith("#!") or "coding" in lines[0] and lines[0].startswith("#")):
        lines.pop(0)
    rest = "\n".join(lines).lstrip()
    for quote in ('"""', "'''"):
        if rest.startswith(quote):
            end = rest.find(quote, 3)
            return rest[3:end].strip() if end > 0 else ""
    comment = []
    for line in rest.split("\n"):
        stripped = line.strip()
        if stripped.startswith(("#", "//", "/*", "*", "--")):
            comment.append(stripped.lstrip("#/*- ").rstrip("*/ "))
        else:
            break
    return "\n".join(comment).strip()


def _describe(d: Definition) -> str:
    doc = f"\n    {d.doc.strip()}" if d.doc.strip() else ""
    return f"{d.signature.strip() or d.name}{doc}"


def _line_text(target: Target, ref: Reference, read_line: Callable[[str, int], str | None] | None) -> str | None:
    if ref.path == target.path:
        lines = target.text.split("\n")
        return lines[ref.range.start_line] if ref.range.start_line < len(lines) else None
    return read_line(ref.path, ref.range.start_line) if read_line else None


def file_line_reader(root: Path | None) -> Callable[[str, int], str | None]:
    """Reads line N of repository files, caching each file's lines."""
    cache: dict[str, list[str] | None] = {}

    def read(path: str, line: int) -> str | None:
        if root is None:
            return None
        if path not in cache:
            try:
                cache[path] = (root / path).read_text(encoding="utf-8", errors="replace").split("\n")
            except OSError:
                cache[path] = None
        lines = cache[path]
        return lines[line] if lines is not None and 0 <= line < len(lines) else None

    return read


_STRING = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'')
_KEYWORDS = frozenset(
    "and as assert async await break case catch class const continue def default del do elif else enum "
    "except export extends false final finally for from func function go if implements import in "
    "instanceof interface is lambda let match new nil none not null or package pass private protected "
    "public raise return self static struct super switch this throw true try type typeof var void while "
    "with yield None True False int str float bool list dict set tuple len print range".split()
)


def _strip_strings(code: str) -> str:
    return _STRING.sub(" ", code)


# --- budget and request -------------------------------------------------------------------------


def estimate_tokens(text: str) -> int:
    return int(len(text) / CHARS_PER_TOKEN) + 1


def fit_code(code: str, budget_tokens: int) -> tuple[str, int]:
    """The code's leading whole lines that fit the budget, and how many lines were kept."""
    lines = code.split("\n")
    if code.endswith("\n"):
        lines = lines[:-1]
    used, kept = 0, 0
    for line in lines:
        cost = estimate_tokens(line + "\n")
        if used + cost > budget_tokens and kept > 0:
            break
        used += cost
        kept += 1
    if kept == len(lines):
        return code, kept
    return "\n".join(lines[:kept]) + "\n", kept


def fit_pieces(pieces: list[ContextPiece], budget_tokens: int) -> list[ContextPiece]:
    """The pieces, in order, that fit the budget (a piece too big is skipped, smaller ones may follow)."""
    out, used = [], 0
    for piece in pieces:
        cost = estimate_tokens(piece.render()) + 2
        if used + cost <= budget_tokens:
            out.append(piece)
            used += cost
    return out


def answer_language(setting: str, locale: str) -> str:
    """The answer language code: the `language` setting, else the editor's locale, else English."""
    raw = (setting or locale or "en").strip().lower().replace("_", "-")
    code = raw.split("-")[0] or "en"
    return code if code in LANGUAGE_NAMES else "en"


def choose_style(info: dict[str, Any]) -> str:
    """"base" for a model its metadata shows is not instruction-tuned (see models/traits.py: no chat
    template, `general.finetune`, name hints), "chat" otherwise (unknown models included: the backends
    fall back to the family's chat template)."""
    return "base" if info.get("instruct") is False or info.get("chat") is False else "chat"


def is_small_model(info: dict[str, Any]) -> bool:
    parameters = info.get("parameters")
    return isinstance(parameters, (int, float)) and 0 < parameters < SMALL_MODEL_PARAMETERS


def fit_context_to_model(pieces: list[ContextPiece], info: dict[str, Any]) -> list[ContextPiece]:
    """The context a model can use: for a small one (under SMALL_MODEL_PARAMETERS, from the GGUF's
    size label or file size) a few one-line signatures of what the code uses; for others all of it."""
    if not is_small_model(info):
        return pieces
    out: list[ContextPiece] = []
    for piece in pieces:
        if piece.kind in ("definition", "enclosing") and len(out) < SMALL_MODEL_SIGNATURES:
            signature = one_line_signature(piece.text)
            if signature:
                out.append(ContextPiece(piece.label, piece.kind, signature))
    return out


def one_line_signature(text: str, limit: int = 160) -> str:
    """A definition's signature on one line: its first line, continued until its brackets close
    (a parameter list over several lines), whitespace squashed, at most `limit` characters."""
    parts, depth = [], 0
    for line in text.split("\n"):
        if not line.strip() and not parts:
            continue
        parts.append(line.strip())
        depth += sum(line.count(c) for c in "([{") - sum(line.count(c) for c in ")]}")
        if depth <= 0:
            break
    signature = squash(" ".join(parts)).replace("( ", "(").replace(" )", ")")
    return signature if len(signature) <= limit else signature[: limit - 1] + "…"


def code_kind(target: Target) -> str:
    """"function", "method", "class" or "code": what the answer's opening calls the selection."""
    first = next((line.strip() for line in target.code.split("\n") if line.strip()), "")
    first = re.sub(r"^(?:@\S+\s*)+", "", first)
    first = re.sub(r"^(?:export\s+|default\s+|public\s+|private\s+|protected\s+|static\s+|async\s+|pub\s+)+", "", first)
    if re.match(r"(?:class|struct|interface|enum|trait|impl)\b|type\s+\w+\s+(?:struct|interface)\b", first):
        return "class"
    indented = target.code[:1] in (" ", "\t") or "." in target.enclosing
    if re.match(r"func\s*\(", first) or (indented and re.match(r"(?:def|fn|function)\s", first)):
        return "method"
    if re.match(r"(?:def|func|fn|function)\s", first):
        return "function"
    return "code"


def base_context(pieces: list[ContextPiece], language: str, code_language: str) -> str:
    """Context for a document-style prompt: a section of code with each piece under a comment naming
    where it comes from; "" when there is none (the section is left out)."""
    if not pieces:
        return ""
    comment = "#" if code_language in ("python", "ruby", "bash", "toml", "yaml") else "--" if code_language in ("lua", "sql", "haskell") else "//"
    body = "\n".join(f"{comment} {p.label}\n{p.text.rstrip()}" for p in pieces)
    heading = CONTEXT_HEADINGS.get(language, CONTEXT_HEADINGS["en"])
    return f"{heading}\n\n```{code_language}\n{body}\n```\n\n"


def _uses(template: PromptTemplate, name: str) -> bool:
    try:
        return any(field_name == name for _, field_name, _, _ in string.Formatter().parse(template.text))
    except ValueError:
        return False


def code_budget(context_tokens: int, max_tokens: int) -> int:
    """Prompt tokens left for the code and its context."""
    return max(200, context_tokens - max_tokens - TEMPLATE_OVERHEAD_TOKENS)


def plan_explanation(
    target: Target,
    pieces: list[ContextPiece],
    *,
    language: str = "en",
    style: str = "chat",
    context_tokens: int = 4096,
    prompts_dir: str = "",
    max_tokens: int = EXPLAIN_MAX_TOKENS,
    template: PromptTemplate | None = None,
) -> ExplainPlan:
    """The generation request for an explanation, within the model's context."""
    template_error = None
    if template is None:
        template, template_error = load_template("explain", style, prompts_dir,
                                                 language=language if style == "base" else "")
    if template.style == "base":
        max_tokens = min(max_tokens, BASE_EXPLAIN_MAX_TOKENS)
    max_tokens = min(max_tokens, max(64, context_tokens // 4))
    budget = code_budget(context_tokens, max_tokens)
    code, kept = fit_code(target.code, budget * 3 // 5)
    total = target.end_line - target.start_line + 1
    truncated = kept < total
    first, last = target.start_line + 1, target.start_line + kept
    chosen = fit_pieces(pieces, min(EXPLAIN_CONTEXT_TOKENS, budget - estimate_tokens(code)))
    if template.style == "base":
        context = base_context(chosen, language, target.language or "text")
    else:
        context = "\n\n".join(p.render() for p in chosen) or "(none found)"
    truncation = f" — truncated: only lines {first}-{last} of {target.start_line + 1}-{target.end_line + 1} are shown" if truncated else ""
    leads = ANSWER_LEADS.get(language, ANSWER_LEADS["en"])
    lead = leads[code_kind(target)] if template.style == "base" and _uses(template, "answer_lead") else ""
    values = dict(
        answer_language=LANGUAGE_NAMES.get(language, "English"), context=context, path=target.path,
        start_line=first, end_line=last if truncated else target.end_line + 1,
        code_language=target.language or "text", code=code.rstrip("\n"), truncation=truncation, answer_lead=lead,
    )
    if template.style == "chat":
        request = GenerationRequest(messages=template.messages(**values), max_tokens=max_tokens, temperature=0.0,
                                    should_stop=repeating)
    else:
        prompt = template.render(**values)
        if lead:  # the model continues the opening sentence, not a new line after it
            prompt = prompt.rstrip("\n")
        request = GenerationRequest(prompt=prompt, max_tokens=max_tokens, temperature=0.0,
                                    stop=("\n# Repository context", *BASE_STOPS), should_stop=repeating,
                                    repeat_penalty=BASE_REPEAT_PENALTY)
    notice = ""
    if truncated:
        notice = TRUNCATION_NOTICE.get(language, TRUNCATION_NOTICE["en"]).format(total=total, first=first, last=last)
    fallback = None
    if chosen:  # an answer that echoes its prompt is asked again once, with the code alone
        fallback = plan_explanation(target, [], language=language, style=style, context_tokens=context_tokens,
                                    prompts_dir=prompts_dir, max_tokens=max_tokens, template=template)
    return ExplainPlan(target, request, language, notice, truncated, chosen, template_error, lead, fallback)


def repeating(text: str) -> bool:
    """True when the answer has fallen into a loop: its last substantial line already appeared
    twice before (small models do this); generation stops there."""
    if not text.endswith("\n"):
        return False
    lines = [l.strip() for l in text.split("\n") if l.strip()]
    if len(lines) < 3 or len(lines[-1]) < 12:
        return False
    return lines[:-1].count(lines[-1]) >= 2


def prompt_text(request: GenerationRequest) -> str:
    """What the model was shown, as text (a chat request's messages joined)."""
    if request.prompt is not None:
        return request.prompt
    return "\n".join(m.get("content", "") for m in request.messages or [])


class AnswerGuard:
    """Stands between the model's stream and the reader: holds the answer back until enough of it
    shows it is not an echo of the prompt, then streams it a little behind (so that a loop is cut
    before it is shown), keeping the model's chunk boundaries. `should_stop` ends generation on an
    echo or a loop; `finish` releases what is left, or nothing when the whole answer is an echo."""

    def __init__(self, plan: ExplainPlan, emit: Callable[[str], None]) -> None:
        self.lead = plan.lead
        self.echo = PromptEcho(prompt_text(plan.request))
        self.inner = plan.request.should_stop
        self.emit = emit
        self.text = ""  # the model's text as streamed
        self.pending: list[str] = []  # chunks not shown yet
        self.shown = 0  # characters of self.text shown
        self.released = False
        self.probed = False  # should_stop has judged the first ECHO_PROBE_CHARS

    def should_stop(self, text: str) -> bool:
        if self.inner is not None and self.inner(text):
            return True
        if loop_start(text) is not None:
            return True
        size = len(squash(text))
        if size >= ECHO_PROBE_CHARS and not self.probed:
            # the same text `feed` decides on (the stream's prefixes arrive in the same order)
            self.probed = True
            if self.echo.is_echo(self.lead + text):
                return True
        # an answer that began well and then turned into a copy of the prompt
        return size >= 160 and self.echo.is_echo(text[-160:], share=0.8)

    def feed(self, chunk: str) -> None:
        self.text += chunk
        self.pending.append(chunk)
        if not self.released:
            if len(squash(self.text)) < ECHO_PROBE_CHARS or self.echo.is_echo(self.lead + self.text):
                return
            self.released = True
            if self.lead:
                self.emit(self.lead)
        self._release(len(self.text) - STREAM_LAG_CHARS)

    def _release(self, upto: int) -> None:
        """Show pending chunks that end at or before `upto` (a chunk crossing `upto` is cut there
        only when the end is final)."""
        while self.pending and self.shown + len(self.pending[0]) <= upto:
            chunk = self.pending.pop(0)
            self.shown += len(chunk)
            self.emit(chunk)

    def finish(self, final: str) -> tuple[str, bool, float]:
        """(the answer as shown, lead included; whether it was an echo; its copied share)."""
        cut = loop_start(final)
        if cut is not None:  # keep what came before the loop, to its last sentence or clause end
            kept = final[:cut]
            ends = [kept.rfind(p) + len(p) for p in ("。", ". ", ".\n", "\n", "、", ", ") if kept.rfind(p) > 0]
            final = (kept[: max(ends)] if ends else kept).rstrip() + " …"
        share = self.echo.copied_share(self.lead + final) if final.strip() else 0.0
        if not self.released:
            if self.echo.is_echo(self.lead + final):
                return "", True, share
            if not final.strip():
                return "", False, share
            self.released = True
            if self.lead:
                self.emit(self.lead)
        # The final text may differ from the stream at its end (a stop string held back, a loop cut).
        streamed = self.text[: self.shown]
        rest = final[len(streamed) :] if final.startswith(streamed) else ""
        for chunk in self.pending:
            if not rest:
                break
            piece = chunk if rest.startswith(chunk) else rest
            self.emit(piece)
            rest = rest[len(piece) :]
        if rest:
            self.emit(rest)
        return self.lead + (final if final.startswith(streamed) else streamed), False, share


async def run_explanation(
    worker: Any, plan: ExplainPlan, on_chunk: Callable[[str], None] | None = None, cancel: CancelToken | None = None,
) -> ExplainOutcome:
    """Stream the explanation: the notice (if any), then the model's text as it comes. An answer
    that only copies the prompt is not shown: the request runs once more with less context (the
    plan's fallback), and if that echoes too the answer says so. Cancelling the awaiting task (or
    `cancel`) stops the model between tokens."""
    started = time.perf_counter()
    first_chunk_ms: float | None = None
    parts: list[str] = []

    def emit(chunk: str) -> None:
        nonlocal first_chunk_ms
        if not chunk:
            return
        if first_chunk_ms is None:
            first_chunk_ms = (time.perf_counter() - started) * 1000
        parts.append(chunk)
        if on_chunk is not None:
            on_chunk(chunk)

    emit(plan.notice)
    attempt, retried = plan, False
    while True:
        guard = AnswerGuard(attempt, emit)
        request = replace(attempt.request, should_stop=guard.should_stop)
        result = await worker.generate(request, cancel, on_text=guard.feed)
        answer, echo, share = guard.finish(result.text)
        if not echo or attempt.fallback is None or result.stop_reason == CANCELLED:
            break
        log.info("the explanation echoed its prompt (%.0f%% copied); asking again with less context", share * 100)
        attempt, retried = attempt.fallback, True
    if echo:
        log.info("the explanation echoed its prompt again (%.0f%% copied); not shown", share * 100)
        emit(ECHO_ANSWER.get(plan.language, ECHO_ANSWER["en"]))
    elif result.stop_reason != CANCELLED and not answer.strip():
        emit(EMPTY_ANSWER.get(plan.language, EMPTY_ANSWER["en"]))
    return ExplainOutcome("".join(parts), result, first_chunk_ms, (time.perf_counter() - started) * 1000,
                          echo=echo, retried=retried, copied_share=round(share, 3))

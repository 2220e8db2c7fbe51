"""Ask the codebase: a question in words, the code the index finds for it (symbols, BM25 chunks,
the best symbol's references), a streamed answer from that code alone, and the `path:line` of
every piece the model was given as citations. Nothing relevant found: say so, never call the model.

Everything here but `run_ask` is pure and runs on any thread.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from assistant.models.base import CancelToken, GenerationRequest, GenerationResult
from assistant.tasks.explain import (
    LANGUAGE_NAMES, ContextPiece, code_budget, estimate_tokens, fit_pieces, repeating,
)
from assistant.tasks.prompt_templates import PromptError, PromptTemplate, load_template
from indexer.model import Chunk, Definition, Reference
from indexer.words import identifier_words, split_identifier

log = logging.getLogger(__name__)

ASK_MAX_TOKENS = 320
MAX_SOURCES = 6  # what a small model can read; also the most citations an answer carries
MAX_SOURCE_LINES = 40
MAX_SOURCE_CHARS = 1600
CHUNK_POOL = 60  # built bundles and tests repeat the answer's words: room for the source itself
SYMBOLS_PER_TERM = 20
MAX_REFERENCES = 4
RELATIVE_FLOOR = 0.6
MAX_TERMS = 12  # a pasted paragraph is not a question: its first words say what it is about
MIN_COVERAGE = 0.5  # a source must hold at least half of the question's words (all, for a one-word question)

# Words that say what kind of question it is, not what it is about.
STOPWORDS = frozenset(
    "a about after all also an and any are as at be been before being between both but by can could did do "
    "does doing done each else for from get gets got had has have having here how i if in into is it its "
    "just let me more most my no not of on once only or other our out over own same should so some such "
    "than that the their them then there these they this those through to too under until up us very was "
    "we were what when where which while who whom why will with within would you your "
    "code codebase repo repository project function functions method methods class classes file files "
    "implement implemented implementation work works working happen happens handled handle handles "
    "use used uses using find defined define called call calls done kind thing things way ways "
    "explain show tell describe mean means".split()
)
# Japanese words for common code concepts: a Japanese question has no spaces and names things in
# Japanese, while the code names them in English.
JA_TERMS = {
    "署名": "signature", "検証": "validate verify", "再試行": "retry", "リトライ": "retry", "設定": "config settings",
    "認証": "auth authenticate", "接続": "connection connect", "例外": "exception", "エラー": "error",
    "タイムアウト": "timeout", "キャッシュ": "cache", "ログ": "log", "読み込": "read load", "書き込": "write",
    "解析": "parse", "パース": "parse", "送信": "send", "受信": "receive", "リクエスト": "request",
    "レスポンス": "response", "応答": "response", "ユーザー": "user", "パスワード": "password", "トークン": "token",
    "暗号": "encrypt", "ハッシュ": "hash", "削除": "delete remove", "作成": "create", "更新": "update",
    "保存": "save store", "検索": "search", "プロキシ": "proxy", "ヘッダ": "header", "クッキー": "cookie",
    "リダイレクト": "redirect", "引数": "argument", "コマンド": "command", "フラグ": "flag", "ポリシー": "policy",
    "上限": "limit", "制限": "limit", "ストリーム": "stream", "エンコード": "encode", "デコード": "decode",
    "インターセプタ": "interceptor", "アダプタ": "adapter", "クライアント": "client", "サーバ": "server",
    "ファイル": "file", "補完": "completion", "フック": "hook", "イベント": "event", "キャンセル": "cancel",
}
_ASCII_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Where an answer is least likely to be: built bundles and vendored copies, type declarations, tests,
# examples. They still count, below the code itself.
_GENERATED_DIRS = frozenset({"dist", "build", "out", "vendor", "node_modules", "third_party", "generated", "gen"})
_TEST_DIRS = frozenset({"test", "tests", "testing", "spec", "specs", "__tests__", "e2e", "testdata", "fixtures"})
_EXAMPLE_DIRS = frozenset({"examples", "example", "docs", "doc", "benchmarks", "sandbox", "samples"})

NOTHING_FOUND = {
    "en": "I found nothing in the repository index that answers this{terms}, so I won't guess. "
          "Try the names the code uses, or check that the repository is indexed (`kura index`).",
    "ja": "リポジトリのインデックスには、この質問に答えるコードが見つかりませんでした{terms}。推測では答えません。"
          "コード中の名前で聞き直すか、リポジトリがインデックスされているか (`kura index`) 確認してください。",
}
SEARCHED_FOR = {"en": " (searched for: {words})", "ja": "（検索語: {words}）"}
SOURCES_HEADING = {"en": "**Sources**", "ja": "**出典**"}
# How the answer opens: a base model continues it (in this language, citing the best source).
ANSWER_LEAD = {"en": "According to `{label}`,", "ja": "`{label}` によると、"}
# With the best piece's symbol: the model goes on to say what it does.
ANSWER_LEAD_SYMBOL = {"en": "According to `{label}`, `{symbol}`", "ja": "`{label}` の `{symbol}` は、"}
# With its docstring too: the answer opens with what the code says of itself, quoted.
ANSWER_LEAD_DOC = {"en": "According to `{label}`, `{symbol}` does this: \"{doc}\"",
                   "ja": "`{label}` の `{symbol}` は「{doc}」と説明されています。"}
BASE_MAX_TOKENS = 160  # a base model answers in one paragraph; past it, small ones invent
EMPTY_ANSWER = {
    "en": "_The model returned no answer; the sources below are what the index found._",
    "ja": "_モデルから回答が返りませんでした。以下はインデックスが見つけた出典です。_",
}


class IndexQueries(Protocol):
    def search_symbols(self, query: str, limit: int = 50) -> list[Definition]: ...

    def search_chunks(self, text: str, limit: int = 10) -> list[tuple[Chunk, float]]: ...

    def references(self, name: str) -> list[Reference]: ...


@dataclass(frozen=True)
class Question:
    """What the user asked; plays the part a code selection plays for explain (`code` is the text the
    runner measures the tokenizer on)."""

    text: str

    @property
    def code(self) -> str:
        return self.text


@dataclass(frozen=True)
class Term:
    """One word of the question and the spellings the code may use for it."""

    word: str
    variants: frozenset[str]

    def matches(self, word: str) -> bool:
        return word in self.variants or _same_stem(self.word, word)


@dataclass(frozen=True)
class Source:
    """A piece of code retrieved for the question; what the answer cites."""

    path: str
    start_line: int  # 0-based, inclusive
    end_line: int
    text: str
    kind: str  # "symbol" | "chunk" | "reference"
    symbol: str = ""
    score: float = 0.0
    line: int = -1  # 0-based line cited (where the piece's answer is); -1: its first line
    doc: str = ""  # the symbol's docstring or leading comment, when the index has one

    @property
    def cited_line(self) -> int:
        return self.line if self.start_line <= self.line <= self.end_line else self.start_line

    @property
    def label(self) -> str:  # "path:line", 1-based: what the editors open
        return f"{self.path}:{self.cited_line + 1}"

    def piece(self) -> ContextPiece:
        heading = f"{self.kind} {self.symbol}".strip() if self.symbol else self.kind
        return ContextPiece(self.label, heading, self.text)

    def to_json(self) -> dict:
        return {"path": self.path, "line": self.cited_line + 1, "startLine": self.start_line + 1,
                "endLine": self.end_line + 1, "kind": self.kind,
                "symbol": self.symbol, "score": round(self.score, 3), "label": self.label}


@dataclass
class AskPlan:
    question: Question
    request: GenerationRequest | None  # None: nothing relevant was found, the model is not asked
    language: str
    terms: list[Term]
    sources: list[Source] = field(default_factory=list)  # given to the model, best first: the citations
    lead: str = ""  # the answer's opening, given to the model and shown
    template_error: PromptError | None = None

    @property
    def found(self) -> bool:
        return self.request is not None

    @property
    def pieces(self) -> list[ContextPiece]:
        return [s.piece() for s in self.sources]


@dataclass
class AskOutcome:
    markdown: str  # the answer as shown, the sources list included
    answer: str  # the model's text alone ("" when nothing was found)
    citations: list[Source]
    found: bool
    result: GenerationResult | None
    first_chunk_ms: float | None
    total_ms: float


# --- the question's words ------------------------------------------------------------------------


def question_terms(question: str) -> list[Term]:
    """The words retrieval looks for: identifiers and words of the question without question words,
    with plural/verb-form variants; Japanese concept words mapped to the English the code uses."""
    words: list[str] = []
    for ja, en in JA_TERMS.items():
        if ja in question:
            words.extend(en.split())
    for token in _ASCII_WORD.findall(question):
        parts = split_identifier(token)
        if len(parts) > 1 and token.lower() not in STOPWORDS:
            words.append("".join(parts))  # the identifier as a whole, as the index stores it
        words.extend(p for p in parts if len(p) > 2 or token.isupper())  # short words only as acronyms (IO, DB)
    terms: dict[str, Term] = {}
    for word in words:
        if word in STOPWORDS or word.isdigit() or len(word) < 2:
            continue
        stem = _stem(word)
        if stem not in terms:
            terms[stem] = Term(word, frozenset(_variants(word)))
    return list(terms.values())[:MAX_TERMS]


def _stem(word: str) -> str:
    for suffix, replacement in (("ies", "y"), ("sses", "ss"), ("ses", "s"), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: len(word) - len(suffix)] + replacement
    return word


def _variants(word: str) -> set[str]:
    """Spellings of one word the FTS index may hold (it matches whole words, without stemming)."""
    stem = _stem(word)
    out = {word, stem, stem + "s", stem + "es"}
    if stem.endswith("y"):
        out.add(stem[:-1] + "ies")
    base = stem[:-1] if stem.endswith("e") else stem
    out |= {base + "ed", base + "ing", base + "er", base + "ion", base + "ation", base + "or"}
    if stem.endswith("e"):
        out |= {stem + "d", stem + "r"}
    for suffix in ("ation", "ion", "ing", "ed", "er"):
        if stem.endswith(suffix) and len(stem) - len(suffix) >= 3:
            root = stem[: -len(suffix)]
            out |= {root, root + "e", root + "es", root + "s"}
    return {w for w in out if len(w) >= 2}


def _same_stem(a: str, b: str) -> bool:
    """`retry`~`retries`, `validate`~`validation`, `signature`~`signatures`; short words only exactly."""
    if a == b:
        return True
    shorter = min(len(a), len(b))
    if shorter < 4:
        return False
    common = 0
    for x, y in zip(a, b):
        if x != y:
            break
        common += 1
    if common < max(4, shorter - 2):
        return False
    # A long ending needs a long shared start: `configured`~`config`, but not `database`~`data`.
    return max(len(a), len(b)) - common < 4 or common >= 6


def fts_text(terms: list[Term]) -> str:
    """The words to give the index's BM25 search (any of them matches)."""
    return " ".join(sorted({v for t in terms for v in t.variants}))


# --- retrieval -----------------------------------------------------------------------------------


def coverage(terms: list[Term], text: str) -> float:
    """The share of the question's terms that occur in the text (as code-aware words)."""
    if not terms:
        return 0.0
    words = set()
    for token in _ASCII_WORD.findall(text):
        words.update(identifier_words(token))
    return sum(1 for t in terms if any(t.matches(w) for w in words)) / len(terms)


def required_coverage(terms: list[Term]) -> float:
    return 1.0 if len(terms) == 1 else MIN_COVERAGE


def gather_sources(question: Question, index: IndexQueries | None,
                   read_line: Callable[[str, int], str | None] | None = None) -> list[Source]:
    """The code that may answer the question, best first, overlapping pieces merged; only pieces that
    hold enough of the question's words (`required_coverage`) — none at all means nothing was found."""
    terms = question_terms(question.text)
    if index is None or not terms:
        return []
    need = required_coverage(terms)
    candidates: list[Source] = []

    try:
        hits = index.search_chunks(fts_text(terms), limit=CHUNK_POOL)
    except Exception:
        log.debug("chunk search failed for %r", question.text, exc_info=True)
        hits = []
    best_bm25 = max((s for _, s in hits), default=0.0) or 1.0
    for chunk, bm25 in hits:
        cov = coverage(terms, chunk.text)
        if cov < need:
            continue
        name_cov = coverage(terms, chunk.symbol.rsplit(".", 1)[-1]) if chunk.symbol else 0.0
        score = cov + 0.5 * name_cov + 0.3 * max(bm25, 0.0) / best_bm25
        candidates.append(Source(chunk.path, chunk.start_line, chunk.end_line, _trim(chunk.text), "chunk",
                                 chunk.symbol, score, focus_line(terms, chunk.text, chunk.start_line, chunk.symbol)))

    best_symbol: tuple[float, Definition] | None = None
    for definition in _matching_symbols(index, terms):
        text = _definition_text(definition, read_line)
        cov = coverage(terms, f"{definition.qualname}\n{definition.signature}\n{definition.doc}\n{text}")
        if cov < need:
            continue
        name_cov = coverage(terms, definition.name)
        score = cov + 0.5 * name_cov + 0.3
        candidates.append(Source(definition.path, definition.range.start_line, definition.range.end_line,
                                 _trim(text or definition.signature), "symbol", definition.qualname, score,
                                 doc=definition.doc))
        if best_symbol is None or name_cov > coverage(terms, best_symbol[1].name):
            best_symbol = (score, definition)

    sources = _merge(candidates)
    if sources:  # a piece far weaker than the best one is more likely noise than a second answer
        floor = sources[0].score * RELATIVE_FLOOR
        sources = [s for s in sources if s.score >= floor]
        sources[0] = _with_doc(index, sources[0])
    if best_symbol is not None and coverage(terms, best_symbol[1].name) >= need:
        sources += _reference_sources(index, best_symbol[1], read_line, sources, best_symbol[0] * 0.5)
        sources.sort(key=lambda s: -s.score)
    return sources[: MAX_SOURCES * 2]


def focus_line(terms: list[Term], text: str, start_line: int, symbol: str = "") -> int:
    """The line of a piece to cite: where its symbol is defined when that line has a question word,
    else the line holding most of the question's words."""
    lines = text.split("\n")
    name = symbol.rsplit(".", 1)[-1]
    scored = [(coverage(terms, line), i) for i, line in enumerate(lines)]
    if name:
        for (cov, i), line in zip(scored, lines):
            if cov > 0 and re.search(r"\b(def|class|func|function|fn|type|interface|struct)\b[^\n]*\b" + re.escape(name) + r"\b", line):
                return start_line + i
    best = max(scored, key=lambda t: (t[0], -t[1]), default=(0.0, 0))
    return start_line + (best[1] if best[0] > 0 else 0)


def _matching_symbols(index: IndexQueries, terms: list[Term]) -> list[Definition]:
    """Definitions whose name is made of the question's words (one word, or two neighbours joined)."""
    queries = [t.word for t in terms if len(t.word) >= 3]
    queries += [a.word + "_" + b.word for a, b in zip(terms, terms[1:])]
    found: dict[tuple, Definition] = {}
    for query in queries:
        try:
            for d in index.search_symbols(query, limit=SYMBOLS_PER_TERM):
                parts = split_identifier(d.name)
                if parts and any(t.matches(p) or t.matches("".join(parts)) for t in terms for p in parts):
                    found.setdefault((d.path, d.range.start_line, d.name), d)
        except Exception:
            log.debug("symbol search failed for %r", query, exc_info=True)
    return list(found.values())


def _with_doc(index: IndexQueries, source: Source) -> Source:
    """The piece with its symbol's docstring, looked up for a chunk (symbols come with theirs)."""
    if source.doc or not source.symbol or not hasattr(index, "definitions"):
        return source
    try:
        found = index.definitions(source.symbol.rsplit(".", 1)[-1])
    except Exception:
        log.debug("definitions(%s) failed", source.symbol, exc_info=True)
        return source
    for d in found:
        if d.path == source.path and source.start_line <= d.range.start_line <= source.end_line and d.doc.strip():
            return replace(source, doc=d.doc)
    return source


def first_sentence(doc: str, limit: int = 200) -> str:
    """A docstring's first sentence (or line), for quoting."""
    text = " ".join(doc.strip().split("\n\n", 1)[0].split())
    end = re.search(r"(?<=[.!?。])\s", text)
    text = text[: end.start()] if end else text
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _definition_text(d: Definition, read_line: Callable[[str, int], str | None] | None) -> str:
    if read_line is None:
        return ""
    lines = []
    for line in range(d.range.start_line, min(d.range.end_line, d.range.start_line + MAX_SOURCE_LINES - 1) + 1):
        text = read_line(d.path, line)
        if text is None:
            break
        lines.append(text)
    return "\n".join(lines)


def _reference_sources(index: IndexQueries, d: Definition, read_line, sources: list[Source], score: float) -> list[Source]:
    """Where the best-matching symbol is used (one line each), outside the pieces already chosen."""
    try:
        refs = index.references(d.name)
    except Exception:
        log.debug("references(%s) failed", d.name, exc_info=True)
        return []
    out: list[Source] = []
    for ref in refs:
        if len(out) >= MAX_REFERENCES:
            break
        line = ref.range.start_line
        if ref.is_definition or any(s.path == ref.path and s.start_line <= line <= s.end_line for s in sources):
            continue
        text = read_line(ref.path, line) if read_line else None
        if not text or not text.strip():
            continue
        out.append(Source(ref.path, line, line, text.strip(), "reference", d.name, score))
    return out


def path_weight(path: str) -> float:
    """How much a piece from this path counts: 1 for the code itself, less for built copies, type
    declarations, tests and examples."""
    *dirs, name = path.lower().split("/")
    stem = name.rsplit(".", 1)[0]
    if any(d in _GENERATED_DIRS for d in dirs) or ".min." in name or ".bundle." in name:
        return 0.5
    if name.endswith((".d.ts", ".d.cts", ".d.mts", ".pyi")):
        return 0.7
    if (any(d in _TEST_DIRS for d in dirs) or stem.startswith("test_") or stem == "conftest"
            or stem.endswith(("_test", ".test", ".spec", "_spec"))):
        return 0.75
    if any(d in _EXAMPLE_DIRS for d in dirs):
        return 0.8
    return 1.0


def _merge(candidates: list[Source]) -> list[Source]:
    """Best first (weighted by `path_weight`); a piece overlapping a better one in the same file, or
    the same code as a better one elsewhere (a built copy), is dropped."""
    kept: list[Source] = []
    seen_code: set[str] = set()
    weighted = [replace(s, score=s.score * path_weight(s.path)) for s in candidates]
    for source in sorted(weighted, key=lambda s: (-s.score, s.path, s.start_line)):
        if any(k.path == source.path and k.start_line <= source.end_line and source.start_line <= k.end_line
               for k in kept):
            continue
        code = " ".join(source.text.split())[:400]
        if source.kind != "reference" and code in seen_code:
            continue
        seen_code.add(code)
        kept.append(source)
    return kept


def _trim(text: str) -> str:
    lines = text.split("\n")[:MAX_SOURCE_LINES]
    out = "\n".join(lines)
    return out if len(out) <= MAX_SOURCE_CHARS else out[:MAX_SOURCE_CHARS] + "\n…"


# --- the request ---------------------------------------------------------------------------------


def plan_ask(question: Question, sources: list[Source], *, language: str = "en", style: str = "chat",
             context_tokens: int = 4096, prompts_dir: str = "", max_tokens: int = ASK_MAX_TOKENS,
             template: PromptTemplate | None = None, problem: str = "") -> AskPlan:
    """The request for an answer from the sources that fit the model, or no request (nothing found)."""
    terms = question_terms(question.text)
    if not sources:
        return AskPlan(question, None, language, terms)
    template_error = None
    if template is None:
        template, template_error = load_template("ask", style, prompts_dir)
    max_tokens = min(max_tokens, max(64, context_tokens // 4))
    budget = code_budget(context_tokens, max_tokens) - estimate_tokens(question.text)
    by_label = {s.label: s for s in sources[:MAX_SOURCES]}
    chosen_pieces = fit_pieces([s.piece() for s in by_label.values()], budget)
    chosen = [by_label[p.label] for p in chosen_pieces]
    if not chosen:  # even the best source is too big for this model: give it cut to the budget
        best = sources[0]
        chosen = [Source(best.path, best.start_line, best.end_line,
                         best.text[: max(200, int(budget * 3))], best.kind, best.symbol, best.score)]
    context = "\n\n".join(s.piece().render() for s in chosen)
    lead = ""
    if template.style == "base":
        best = chosen[0]
        leads = ANSWER_LEAD_DOC if best.symbol and best.doc.strip() else ANSWER_LEAD_SYMBOL if best.symbol else ANSWER_LEAD
        lead = leads.get(language, leads["en"]).format(label=best.label, symbol=best.symbol.rsplit(".", 1)[-1],
                                                       doc=first_sentence(best.doc))
    values = dict(question=question.text.strip(), context=context, answer_language=LANGUAGE_NAMES.get(language, "English"),
                  answer_lead=lead)
    if template.style == "chat":
        request = GenerationRequest(messages=template.messages(**values), max_tokens=max_tokens, temperature=0.0,
                                    should_stop=answer_repeating)
    else:
        # One paragraph, no invented links: what a small base model writes past these is rarely true.
        request = GenerationRequest(prompt=template.render(**values), max_tokens=min(max_tokens, BASE_MAX_TOKENS),
                                    temperature=0.0, should_stop=answer_repeating,
                                    stop=("\n\n", "\nQ:", "\nA:", "\n# ", "\n[", "```", "http://", "https://"))
    return AskPlan(question, request, language, terms, chosen, lead, template_error)


def answer_repeating(text: str) -> bool:
    """`repeating` over the complete lines so far: a newline often comes in one token with what
    follows it ("\nThe", "\n    "), so the text rarely ends right after one."""
    cut = text.rfind("\n")
    return cut >= 0 and repeating(text[: cut + 1])


def nothing_found_message(plan: AskPlan) -> str:
    terms = ""
    if plan.terms:
        words = ", ".join(f"`{t.word}`" for t in plan.terms[:8])
        terms = SEARCHED_FOR.get(plan.language, SEARCHED_FOR["en"]).format(words=words)
    return NOTHING_FOUND.get(plan.language, NOTHING_FOUND["en"]).format(terms=terms)


def sources_markdown(sources: list[Source], language: str) -> str:
    """The citations as a Markdown list of `path:line` (the editors turn these into links)."""
    if not sources:
        return ""
    lines = [SOURCES_HEADING.get(language, SOURCES_HEADING["en"])]
    for s in sources:
        what = f" — {s.symbol}" if s.symbol else ""
        lines.append(f"- `{s.label}`{what} ({s.kind})")
    return "\n\n" + "\n".join(lines) + "\n"


_LABEL = re.compile(r"([\w./\\-]+\.\w+):(\d+)")


def mentioned_labels(answer: str) -> list[str]:
    """`path:line` mentions in the model's text, in order (the citations themselves come from the plan)."""
    return list(dict.fromkeys(f"{m.group(1)}:{m.group(2)}" for m in _LABEL.finditer(answer)))


async def run_ask(worker: Any, plan: AskPlan, on_chunk: Callable[[str], None] | None = None,
                  cancel: CancelToken | None = None) -> AskOutcome:
    """Stream the answer: the lead, the model's text, then the sources. Nothing found: the message
    saying so, and the model is never called."""
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

    if not plan.found:
        emit(nothing_found_message(plan))
        return AskOutcome("".join(parts), "", [], False, None, first_chunk_ms, (time.perf_counter() - started) * 1000)
    emit(plan.lead + (" " if plan.lead else ""))
    model_started = len(parts)
    result = await worker.generate(plan.request, cancel, on_text=emit)
    answer = "".join(parts[model_started:])
    if result.stop_reason != "cancelled" and not answer.strip():
        emit(EMPTY_ANSWER.get(plan.language, EMPTY_ANSWER["en"]))
    if result.stop_reason != "cancelled":
        emit(sources_markdown(plan.sources, plan.language))
    return AskOutcome("".join(parts), (plan.lead + " " + answer).strip() if plan.lead else answer.strip(),
                      list(plan.sources), True, result, first_chunk_ms, (time.perf_counter() - started) * 1000)


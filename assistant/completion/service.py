"""`CompletionService`: one completion request from document snapshot to finished suggestion.

cache → debounce (in a burst of keystrokes only) → context (worker thread) → prompt → model (its own
thread, cancellable between tokens, superseded per document) → finalize → cache. Timings and counters
for `kura/status`, `kura complete` and the benchmark.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from assistant.completion.cache import CacheHit, CompletionCache
from assistant.completion.in_time import MIN_WINDOW_TOKENS, Cut, apply_cut, plan_cut, reading_time, tokens_in_time
from assistant.completion.prompt import build_prompt
from assistant.completion.shape import CompletionShape, decide_shape
from assistant.completion.stopping import StopAtShapeEnd
from assistant.completion.stopping import finalize, should_stop, without_partial_word
from assistant.context.builder import CompletionContext, ContextBudget, ContextBuilder, Document, RecentEdit
from assistant.models.host import ModelHost
from assistant.models.worker import ModelWorker
from assistant.models.base import CALLBACK, CANCELLED, LENGTH, CancelToken, GenerationRequest, ModelError
from assistant.models.process import ModelRestarting, WorkerCrashed
from assistant.settings import Settings

log = logging.getLogger(__name__)
MAX_DOCUMENT_CHARS = 20_000_000  # beyond this a document is not completed (and never copied around)
SINGLE_LINE_MAX_TOKENS = 32  # a line of code is rarely longer; decode time is most of the latency
# While the user types, a suggestion is answered this long after its first token (llama.vim's
# t_max_predict_ms does the same): the rest of a line comes with a later keystroke, and the developer
# does not wait for a long tail of tokens on a slow CPU. A block (after `:` or `{`, at a new line)
# is answered with the whole lines it has by then and goes on growing in the background up to
# BLOCK_DECODE_MS; the editor is told when it is longer (kura/suggestionReady) and asks again.
SINGLE_LINE_DECODE_MS = 400
READING_S = reading_time(SINGLE_LINE_DECODE_MS / 1000)  # a new place's prompt: what is read of it (in_time.py)
ANNOUNCE_AGAIN_S = 0.5  # an editor told a late suggestion is ready that has not asked after this: tell it again
# A request the user invoked (Alt+\ in VS Code, "suggest now" in Neovim) waits for its suggestion this
# long, past completion.firstSuggestionTimeoutMs: VS Code takes an invoked request's answer as final
# for that place and version, and an empty one there ignores every later trigger, kura's own on
# kura/suggestionReady included. Typing on cancels the request, and the model with it, as ever.
INVOKED_WAIT_S = 15.0
BLOCK_DECODE_MS = 1000


@dataclass(frozen=True)
class DocumentSnapshot:
    doc_id: str  # the URI, or any stable key for the document
    path: str | None  # repository-relative POSIX path, None outside the repository
    text: str
    offset: int  # the cursor as a `str` index into text
    language_id: str = ""
    line: int = 0
    character: int = 0
    version: int | None = None


@dataclass(frozen=True)
class _PinnedContext:
    key: tuple[int, int]  # hashes of the document above and below the cursor's line
    snippets: tuple
    tokens: int
    cut: Cut | None = None  # how the line's first request was cut to be read in time (in_time.py)


@dataclass(frozen=True)
class _Guess:
    """The next line's suggestion being computed after an accept (`speculate`), for the document
    state (prefix, suffix) the editor will be in after Enter, less the indentation it adds."""

    prefix: str
    suffix: str
    cancel: CancelToken
    done: asyncio.Future


@dataclass
class _Running:
    prefix: str  # the document state the generation is for
    suffix: str
    generation: asyncio.Future
    mine: int  # the sequence number of the request that started it
    waiters: int = 0  # requests still waiting for it; the model stops when the last is withdrawn
    announcing: bool = False  # past the cap: the editor is told when it finishes


@dataclass
class CompletionOutcome:
    id: str
    text: str
    from_cache: bool
    timings: dict[str, float | int] = field(default_factory=dict)
    stop_reason: str = ""


@dataclass
class CompletionStats:
    requests: int = 0
    cache_answers: int = 0
    model_calls: int = 0
    superseded: int = 0
    debounced: int = 0  # requests that came in a burst of keystrokes and waited out completion.debounceMs
    timeouts: int = 0  # requests answered empty at completion.firstSuggestionTimeoutMs
    late_suggestions: int = 0  # of those, finished afterwards and announced to the editor
    grown_blocks: int = 0  # block suggestions made longer in the background after their answer
    cut_in_time: int = 0  # prompts cut to what the model reads in time (in_time.py): a new place, a cold cache
    warmups: int = 0  # prefills at a resting cursor (kura/cursorMoved)
    warmed_tokens: int = 0  # prompt tokens they evaluated
    speculated: int = 0  # next-line suggestions cached after an accept, before the user asked
    prompt_tokens: int = 0
    reused_tokens: int = 0

    def as_dict(self) -> dict[str, Any]:
        share = self.reused_tokens / self.prompt_tokens if self.prompt_tokens else None
        return {**self.__dict__, "reusedShare": share}


class CompletionService:
    def __init__(
        self,
        settings: Settings,
        *,
        index: Callable[[], Any] = lambda: None,
        recent: Callable[[str | None], list[RecentEdit]] = lambda path: [],
        root: Callable[[], Path | None] = lambda: None,
        on_error: Callable[..., None] = lambda message, show=False, once_per=None: None,
        on_ready: Callable[[str], None] = lambda doc_id: None,
        model: ModelHost | None = None,
        typing: bool = True,
    ) -> None:
        """typing: answer on the typing clock (SINGLE_LINE_DECODE_MS, blocks grown in the background),
        as an editor needs; False for a whole suggestion per request (`kura complete`, evaluation),
        which must not depend on how fast the machine is."""
        self.settings = settings
        self.model = model or ModelHost(settings.model, time_reading=typing)
        self._index, self._recent, self._root, self._on_error = index, recent, root, on_error
        self._on_ready = on_ready  # a suggestion that outlived its request is in the cache: ask again
        self._typing = typing
        self._growing: set[asyncio.Future] = set()  # block suggestions growing after their answer
        self.cache = CompletionCache()
        self.stats = CompletionStats()
        self._builder: ContextBuilder | None = None
        self._latest: dict[str, int] = {}  # doc_id -> sequence number of its newest request
        self._asked_at: dict[str, float] = {}  # doc_id -> when its previous request came (monotonic)
        self._sequence = 0
        self._reported_error: str | None = None
        self._warming: dict[str, CancelToken] = {}  # doc_id -> the warm-up queued or running for it
        self._guesses: dict[str, _Guess] = {}  # doc_id -> the next line's suggestion being guessed
        self._running: dict[str, _Running] = {}  # doc_id -> the generation under way for it
        self._pinned: dict[str, _PinnedContext] = {}  # doc_id -> the repository context of the line being typed
        self.last: dict[str, Any] = {}  # the last answered request's timings, for status and benchmarks

    # --- lifecycle -----------------------------------------------------------------------------

    def preload(self) -> None:
        self.model.preload()

    def reconfigure(self, settings: Settings) -> None:
        if settings.model != self.settings.model:
            self.model.reconfigure(settings.model)
            self._builder = None
            self.cache.clear()
        if settings.completion != self.settings.completion:
            self._builder = None
        self.settings = settings

    def index_changed(self) -> None:
        if self._builder is not None:
            self._builder.index_changed()

    def forget(self, doc_id: str, path: str | None = None) -> None:
        self.cache.invalidate(doc_id)
        self._latest.pop(doc_id, None)
        self._asked_at.pop(doc_id, None)
        self._pinned.pop(doc_id, None)
        if self._builder is not None and path:
            self._builder.forget(path)

    def accepted(self, doc_id: str, path: str | None = None) -> DocumentSnapshot | None:
        """The user accepted the document's whole suggestion. Returns where the next line's
        suggestion would be asked (`speculate` there), when the suggestion ended its line."""
        accepted = self.cache.accepted(doc_id)
        if accepted is None:
            return None
        prefix, suggestion, suffix = accepted
        if suffix[:1] not in ("", "\n", "\r"):
            return None  # accepted in the middle of a line: no next line to guess
        here = prefix + suggestion + "\n"
        return DocumentSnapshot(doc_id, path, here + suffix, len(here))

    def close(self) -> None:
        self.model.close()

    def status(self) -> dict[str, Any]:
        return {**self.model.status(), "completion": self.stats.as_dict(), "last": self.last}

    # --- one request ---------------------------------------------------------------------------

    async def complete(self, snap: DocumentSnapshot, invoked: bool = False) -> CompletionOutcome | None:
        """The suggestion at the cursor, "" when there is none, None when superseded or failed.
        invoked: the user asked for it; it is waited for past the first-suggestion cap."""
        started = time.perf_counter()
        self.stats.requests += 1
        now = time.monotonic()
        previous, self._asked_at[snap.doc_id] = self._asked_at.get(snap.doc_id), now
        if len(snap.text) > MAX_DOCUMENT_CHARS:
            return None
        prefix, suffix = snap.text[: snap.offset], snap.text[snap.offset :]
        hit = self.cache.lookup(snap.doc_id, prefix, suffix)
        if hit is not None:
            return self._from_cache(hit, started)

        guess = self._guesses.get(snap.doc_id)  # removed by `speculate` when it ends
        if guess is not None:
            typed = prefix[len(guess.prefix):] if prefix.startswith(guess.prefix) and suffix == guess.suffix else None
            if typed is not None and not typed.strip():  # Enter and its indentation: the guess's state
                outcome = await self._joined(guess, snap.doc_id, prefix, suffix, started)
                if outcome is not None:
                    return outcome
            guess.cancel.cancel()
        warming = self._warming.pop(snap.doc_id, None)
        if warming is not None:
            warming.cancel()  # a real request goes first; a warm-up already prefilling still helps it
        running = self._running.get(snap.doc_id)
        if running is not None and not running.generation.done() and (running.prefix, running.suffix) == (prefix, suffix):
            # Asked again where a generation is under way (an editor re-asking on activity while a
            # first suggestion is still being read): wait for that one, do not start over.
            return await self._answer(running, snap.doc_id, invoked)
        # The document left the state the running generation (a block growing, a request past
        # its cap) was for. Stop it now: this request's context needs the model too (token
        # counts) and would otherwise wait for it.
        self.model.supersede(snap.doc_id)
        self._sequence += 1
        mine = self._latest[snap.doc_id] = self._sequence
        # The first keystroke after a pause asks at once; in a burst (this request came sooner than
        # the debounce after the last one) wait it out, as the next keystroke is likely on its way.
        # A trailing wait on every request would add its whole length to every suggestion.
        debounce = self.settings.completion.debounce_ms / 1000
        if debounce and previous is not None and now - previous < debounce:
            self.stats.debounced += 1
            await asyncio.sleep(debounce)
            if self._latest.get(snap.doc_id) != mine:  # the user kept typing
                self.stats.superseded += 1
                return None
        generation = asyncio.ensure_future(self._generate(snap, prefix, suffix, started, mine))
        running = self._running[snap.doc_id] = _Running(prefix, suffix, generation, mine)
        generation.add_done_callback(lambda _: self._ended(snap.doc_id, running))
        return await self._answer(running, snap.doc_id, invoked)

    async def _answer(self, running: _Running, doc_id: str, invoked: bool = False) -> CompletionOutcome | None:
        """Wait for a generation up to the first-suggestion cap (INVOKED_WAIT_S at least for an
        invoked request). Past the cap the request is answered empty, but the model's work is not
        thrown away: it finishes into the cache (unless a newer request for the document supersedes
        it) and the editor is told to ask again."""
        cap = self.settings.completion.first_suggestion_timeout_ms / 1000
        if invoked and cap:
            cap = max(cap, INVOKED_WAIT_S)
        generation = running.generation
        running.waiters += 1
        try:
            return await asyncio.wait_for(asyncio.shield(generation), timeout=cap or None)
        except asyncio.TimeoutError:
            self.stats.timeouts += 1
            log.info("completion still running after %.0f ms (completion.firstSuggestionTimeoutMs): "
                     "answered empty, continuing in the background", cap * 1000)
            if not running.announcing:
                running.announcing = True
                generation.add_done_callback(lambda task: self._finished_late(task, doc_id, running.mine))
            return None
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():  # the editor withdrew this request
                if running.waiters == 1 and not running.announcing:
                    generation.cancel()  # so does the model, unless another request waits for it
                raise
            return None  # the generation was stopped: a newer request superseded it
        except ModelRestarting:
            return None  # the crash that caused it was reported; the status line shows "restarting"
        except WorkerCrashed as exc:
            self._report(str(exc), kind="the local model crashed")  # the one message a crash deserves
            return None
        except ModelError as exc:  # no model to ask (a bad file, a dead server): said once, then logged
            self._report(str(exc), kind="the model is unavailable")
            return None
        finally:
            running.waiters -= 1

    async def _generate(self, snap: DocumentSnapshot, prefix: str, suffix: str, started: float,
                        mine: int) -> CompletionOutcome | None:
        worker = await self.model.worker()
        request, shape, context, prompt, context_ms = await self._request_for(snap, worker, read_by=self._read_by(started))
        if self._latest.get(snap.doc_id) != mine:
            self.stats.superseded += 1  # a newer request came while this one built its context: it
            return None  # must not reach the model after that one and cancel it there
        result = await worker.generate(request, key=snap.doc_id)
        if result.stop_reason == CANCELLED:
            self.stats.superseded += 1
            return None
        self.stats.model_calls += 1
        self.stats.prompt_tokens += result.prompt_tokens
        self.stats.reused_tokens += result.reused_tokens
        raw = result.text
        clock_stopped = result.stop_reason == CALLBACK and not should_stop(raw, shape)
        if shape.single_line and clock_stopped:
            raw = without_partial_word(raw)
        text = finalize(raw, shape, prefix, suffix, cut_off=result.stop_reason == LENGTH or clock_stopped)
        if not text:
            log.debug("nothing to show at %s:%d:%d (%s, stopped by %s) from %r", snap.path or snap.doc_id, snap.line + 1,
                      snap.character + 1, shape.mode, result.stop_reason, raw[:200])
        self.cache.store(snap.doc_id, prefix, suffix, text)
        if clock_stopped and not shape.single_line and result.generated_tokens < request.max_tokens:
            growth = asyncio.ensure_future(self._grow_block(
                snap, shape, replace(request, max_tokens=request.max_tokens - result.generated_tokens), raw, text, mine))
            self._growing.add(growth)
            growth.add_done_callback(self._growth_ended)
        self._reported_error = None
        timings = {
            "total_ms": _ms(started), "model_ms": round(result.model_ms, 1), "context_ms": context_ms,
            "first_token_ms": round(result.first_token_ms, 1) if result.first_token_ms is not None else None,
            "prompt_tokens": result.prompt_tokens, "reused_tokens": result.reused_tokens,
            "generated_tokens": result.generated_tokens, "context_tokens": context.snippet_tokens,
            "mode": shape.mode, "fim": prompt.fim, "from_cache": False,
        }
        self.last = timings
        return CompletionOutcome(_new_id(), text, False, timings, result.stop_reason)

    def _read_by(self, started: float) -> float | None:
        """While the user types, a request that came at `started` reads what it can by then (in_time.py)."""
        return started + READING_S if self._typing else None

    async def _request_for(self, snap: DocumentSnapshot, worker: ModelWorker, *, read_by: float | None = None):
        """(request, shape, context, prompt, context ms) of a completion at the snapshot's cursor.
        read_by: a prompt the local model could not read by then (perf_counter) is cut to what it can
        (in_time.py)."""
        backend = worker.backend
        path = snap.path or _fallback_path(snap)
        shape = decide_shape(snap.text, snap.offset, path, max_lines=self.settings.completion.max_lines)
        builder = self._context_builder(backend.count_tokens)
        t_context = time.perf_counter()
        context = await asyncio.to_thread(builder.build, Document(path, snap.text, snap.offset), self._recent(snap.path))
        context = self._pin(snap, context)
        pinned = self._pinned[snap.doc_id]  # this line's, whatever newer requests pin meanwhile
        template = backend.fim_template()
        root = self._root()
        repo = root.name if root else None
        prompt = build_prompt(context, shape, template, repo=repo)
        if read_by is not None and worker.prefill.tokens_per_s:  # measured only where the backend times its reads
            suffix_share = builder.budget.suffix_share if template else 0.0  # no FIM: no suffix
            cut = await self._in_time(snap.doc_id, pinned, context, prompt.text, worker, read_by,
                                      lambda c: build_prompt(c, shape, template, repo=repo).text, suffix_share)
            if cut is not context:
                context, prompt = cut, build_prompt(cut, shape, template, repo=repo)
        context_ms = _ms(t_context)
        max_tokens = self.settings.completion.max_tokens
        if shape.single_line:
            max_tokens = min(max_tokens, SINGLE_LINE_MAX_TOKENS)
        request = GenerationRequest(
            prompt=prompt.text, stop=prompt.stop, max_tokens=max_tokens,
            should_stop=StopAtShapeEnd(shape, SINGLE_LINE_DECODE_MS if self._typing else 0.0),
        )
        return request, shape, context, prompt, context_ms

    async def _in_time(self, doc_id: str, pinned: _PinnedContext, context: CompletionContext, whole: str,
                       worker: ModelWorker, read_by: float, render: Callable[[CompletionContext], str],
                       suffix_share: float) -> CompletionContext:
        """`context`, or its cut when the model could not read its prompt (`whole`) by `read_by`
        (in_time.py). The line's first cut is pinned with the line, so that typing on it reads only
        what changed."""
        tokens_per_s = worker.prefill.tokens_per_s or 0.0
        if tokens_in_time(tokens_per_s, READING_S) < MIN_WINDOW_TOKENS:
            return context  # too slow a model for any cut to leave a suggestion something to go on
        # A slow context build leaves less time to read, never less than the window's minimum.
        allowed = max(MIN_WINDOW_TOKENS, tokens_in_time(tokens_per_s, read_by - time.perf_counter()))

        def unread_tokens(text: str) -> int:
            unread = worker.prefill.unread(text)
            return worker.backend.count_tokens(unread) if unread else 0

        if len(worker.prefill.unread(whole)) <= allowed or (
                await asyncio.to_thread(unread_tokens, whole)) <= allowed:
            return context
        cut = pinned.cut
        if cut is None:
            cut = await asyncio.to_thread(plan_cut, context, render, unread_tokens, allowed, suffix_share)
            if self._pinned.get(doc_id) is pinned:
                self._pinned[doc_id] = replace(pinned, cut=cut)
        self.stats.cut_in_time += 1
        return apply_cut(context, cut)

    async def _grow_block(self, snap: DocumentSnapshot, shape: CompletionShape, request: GenerationRequest,
                          raw: str, shown: str, mine: int) -> None:
        """Go on with a block the typing clock answered early (`raw` so far, `shown` of it answered)
        for the rest of BLOCK_DECODE_MS; if it gets longer while still the document's suggestion,
        the cache holds the longer one and the editor is told to ask again. A newer request for the
        document cancels it, like any generation."""
        more = replace(request, prompt=request.prompt + raw,
                       should_stop=StopAtShapeEnd(shape, BLOCK_DECODE_MS - SINGLE_LINE_DECODE_MS, generated=raw))
        prefix, suffix = snap.text[: snap.offset], snap.text[snap.offset:]
        try:
            worker = await self.model.worker()
            result = await worker.generate(more, key=snap.doc_id)
        except ModelError as exc:
            log.info("a block suggestion could not grow: %s", exc)
            return
        if result.stop_reason == CANCELLED or self._latest.get(snap.doc_id) != mine:
            return
        whole = raw + result.text
        cut_off = result.stop_reason == LENGTH or (result.stop_reason == CALLBACK and not should_stop(whole, shape))
        longer = finalize(whole, shape, prefix, suffix, cut_off=cut_off)
        if self.cache.grow(snap.doc_id, prefix, suffix, shown, longer):
            self.stats.grown_blocks += 1
            self._on_ready(snap.doc_id)

    def _growth_ended(self, task: asyncio.Future) -> None:
        self._growing.discard(task)
        if not task.cancelled() and task.exception() is not None:  # a bug, not the user's problem: logged
            log.error("a block suggestion failed to grow", exc_info=task.exception())

    def _pin(self, snap: DocumentSnapshot, context: CompletionContext) -> CompletionContext:
        """While the user types on one line, the repository context chosen when they began it stays:
        each keystroke's prompt then differs from the last only at its end, and the model reuses all
        the rest. (A new name typed on this line brings its definition from the next line on.)"""
        line_start = snap.text.rfind("\n", 0, snap.offset) + 1
        line_end = snap.text.find("\n", snap.offset)
        key = (hash(snap.text[:line_start]), hash(snap.text[line_end:]) if line_end >= 0 else 0)
        pinned = self._pinned.get(snap.doc_id)
        if pinned is not None and pinned.key == key:
            return replace(context, snippets=pinned.snippets, snippet_tokens=pinned.tokens)
        self._pinned[snap.doc_id] = _PinnedContext(key, context.snippets, context.snippet_tokens)
        return context

    async def warm(self, snap: DocumentSnapshot) -> bool:
        """Prefill the prompt a completion at this cursor would send, with its whole repository
        context (one token sampled and thrown away), so that the first request here evaluates only
        what changed since: the editor sends the cursor when it rests. Never delays a real request by
        more than a prefill already under way: one for the document cancels a warm-up still queued.
        True when the model prefilled."""
        if len(snap.text) > MAX_DOCUMENT_CHARS:
            return False
        cancel = CancelToken()
        self._warming[snap.doc_id] = cancel  # a request arriving while the prompt is built cancels it too
        try:
            worker = await self.model.worker()
            request, *_ = await self._request_for(snap, worker)
            if cancel.cancelled or not worker.prefill.unread(request.prompt):
                return False  # a request came first, or the model has read this prompt already
            result = await worker.generate(replace(request, max_tokens=1, stop=(), should_stop=None), cancel,
                                           key=("warm", snap.doc_id))
        except ModelError:
            return False
        finally:
            if self._warming.get(snap.doc_id) is cancel:
                del self._warming[snap.doc_id]
        if result.stop_reason == CANCELLED:
            return False
        evaluated = result.prompt_tokens - result.reused_tokens
        self.stats.warmups += 1
        self.stats.warmed_tokens += evaluated
        log.debug("warmed the prompt at %s:%d:%d (%d tokens evaluated)", snap.path or snap.doc_id, snap.line + 1,
                  snap.character + 1, evaluated)
        return True

    async def speculate(self, snap: DocumentSnapshot) -> bool:
        """The next line's suggestion, computed while the user reads the one just accepted (`snap`:
        the document with a new line after it, as `accepted` returns it), and kept in the cache: the
        editor's request once the user presses Enter (its indentation typed through the suggestion)
        is answered without the model. Cancelled by any real request for the document, as a warm-up
        is. True when a suggestion was cached."""
        if len(snap.text) > MAX_DOCUMENT_CHARS:
            return False
        prefix, suffix = snap.text[: snap.offset], snap.text[snap.offset :]
        guess = self._guesses[snap.doc_id] = _Guess(prefix, suffix, CancelToken(), asyncio.get_running_loop().create_future())
        try:
            return await self._guess(snap, guess)
        finally:
            guess.done.set_result(None)
            if self._guesses.get(snap.doc_id) is guess:
                del self._guesses[snap.doc_id]

    async def _guess(self, snap: DocumentSnapshot, guess: _Guess) -> bool:
        cancel = guess.cancel
        try:
            worker = await self.model.worker()
            # The user may press Enter while it runs and wait for it: read what fits from now on.
            request, shape, *_ = await self._request_for(snap, worker, read_by=self._read_by(time.perf_counter()))
            if cancel.cancelled:
                return False
            # No one waits for this answer: no typing clock, the shape's end stops it.
            result = await worker.generate(replace(request, should_stop=StopAtShapeEnd(shape, 0.0)), cancel,
                                           key=("warm", snap.doc_id))
        except ModelError:
            return False
        if result.stop_reason == CANCELLED or cancel.cancelled:
            return False
        text = finalize(result.text, shape, guess.prefix, guess.suffix, cut_off=result.stop_reason == LENGTH)
        self.cache.store(snap.doc_id, guess.prefix, guess.suffix, text)
        self.stats.speculated += 1
        return True

    async def _joined(self, guess: _Guess, doc_id: str, prefix: str, suffix: str,
                      started: float) -> CompletionOutcome | None:
        """The answer a guess still under way gives the request after Enter (up to the first-suggestion
        cap), or None when it gives none: cancelled, too slow, or indented otherwise than the editor did."""
        cap = self.settings.completion.first_suggestion_timeout_ms / 1000
        try:
            await asyncio.wait_for(asyncio.shield(guess.done), timeout=cap or None)
        except asyncio.TimeoutError:
            return None
        hit = self.cache.lookup(doc_id, prefix, suffix)
        return self._from_cache(hit, started) if hit is not None else None

    def _from_cache(self, hit: CacheHit, started: float) -> CompletionOutcome:
        log.debug("answered from the cache (%s): %d characters", hit.source, len(hit.text))
        self.stats.cache_answers += 1
        self.last = {"total_ms": _ms(started), "model_ms": 0.0, "from_cache": True}
        return CompletionOutcome(_new_id(), hit.text, True, self.last, hit.source)

    def _ended(self, doc_id: str, running: _Running) -> None:
        if self._running.get(doc_id) is running:
            del self._running[doc_id]

    def _finished_late(self, task: asyncio.Future, doc_id: str, mine: int) -> None:
        """A generation that outlived its request's cap has ended: if it produced a suggestion and
        no newer request for the document came since, the cache holds it; tell the editor."""
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            log.info("a completion finished late with an error: %s", error)
            return
        outcome = task.result()
        if outcome is not None and outcome.text and self._latest.get(doc_id) == mine:
            self.stats.late_suggestions += 1
            log.debug("a suggestion finished after its request's cap: the editor is told to ask again")
            told = time.monotonic()
            self._on_ready(doc_id)
            asyncio.get_running_loop().call_later(ANNOUNCE_AGAIN_S, self._announce_again, doc_id, told)
        else:
            log.debug("a suggestion finished after its request's cap, not announced: %s",
                      "superseded" if outcome is None or self._latest.get(doc_id) != mine else "empty")

    def _announce_again(self, doc_id: str, told: float) -> None:
        """The editor was told a suggestion is ready and has not asked since: tell it once more (an
        announcement that crossed the editor's own request on the way can be lost)."""
        if self._asked_at.get(doc_id, told) < told:
            log.debug("the editor did not ask after being told a suggestion is ready: telling it again")
            self._on_ready(doc_id)

    def _context_builder(self, count_tokens: Callable[[str], int]) -> ContextBuilder:
        index = self._index()
        if self._builder is None or self._builder.index is not index:
            budget = ContextBudget(max_context_tokens=self.settings.completion.context_tokens)
            self._builder = ContextBuilder(index, count_tokens, budget)
        return self._builder

    def _report(self, message: str, *, kind: str) -> None:
        """Tell the user about a model problem once per kind in a session, not on every keystroke;
        a new message is still logged and kept as the last error."""
        if message != self._reported_error:
            self._reported_error = message
            self._on_error(message, show=True, once_per=kind)


def _fallback_path(snap: DocumentSnapshot) -> str:
    """A path whose suffix names the language, for documents outside the repository (untitled...)."""
    name = snap.doc_id.rsplit("/", 1)[-1]
    if "." in name:
        return name
    suffixes = {"python": ".py", "javascript": ".js", "typescript": ".ts", "typescriptreact": ".tsx", "go": ".go",
                "java": ".java", "rust": ".rs", "c": ".c", "cpp": ".cpp", "csharp": ".cs", "ruby": ".rb", "php": ".php"}
    return "untitled" + suffixes.get(snap.language_id, "")


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)

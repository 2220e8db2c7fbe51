"""Repository context for a completion, within a token budget, ordered so that what changes least
comes first: imports-level signatures, recently edited files, per-function definitions and chunks,
then the local window with the cursor last; so that while the user types, the model's KV cache keeps
the prompt's head and only new tokens are evaluated.

Stability is deliberate: the window's first line moves in jumps rather than a line at a time, and the
per-function snippets are chosen once per enclosing function and only appended to while it stays.
"""

from __future__ import annotations

import logging
import posixpath
import re
import threading
import tomllib
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from assistant.completion.lexer import CODE, Lexer
from assistant.completion.shape import Scope, language_name_for_path, line_comment, local_syntax
from indexer import kinds
from indexer.model import Chunk, Definition, Import
from indexer.words import split_identifier

log = logging.getLogger(__name__)

IMPORT = "import"
RECENT = "recent"
DEFINITION = "definition"
CHUNK = "chunk"


class IndexQueries(Protocol):
    """The part of `indexer.index.Index` that context needs."""

    def definitions(self, name: str) -> list[Definition]: ...

    def imports(self, path: str) -> list[Import]: ...

    def search_chunks(self, text: str, limit: int = 10) -> list[tuple[Chunk, float]]: ...

    def file_symbols(self, path: str) -> list[Definition]: ...


@dataclass(frozen=True, slots=True)
class Document:
    path: str  # repository-relative, POSIX separators
    text: str  # the editor's current text
    offset: int  # the cursor, a `str` index into text


@dataclass(frozen=True, slots=True)
class RecentEdit:
    """Another file the user edited lately, and the line (0-based) where."""

    path: str
    text: str
    line: int


@dataclass(frozen=True, slots=True)
class ContextBudget:
    """How `max_context_tokens` is shared. The window gets `window_share`, of which the suffix gets
    `suffix_share`; the rest, and what the window leaves unused, is repository context, filled by
    value: definitions of what the enclosing function uses first, then ranked signatures (at least
    `imports_share`), recent edits (at most `recent_share`), and similar chunks with what remains
    (`chunks_share / 2` of it kept for them)."""

    max_context_tokens: int = 1500
    window_share: float = 0.6
    suffix_share: float = 0.25
    imports_share: float = 0.55
    recent_share: float = 0.15
    definitions_share: float = 0.35
    chunks_share: float = 0.2
    nearby_lines: int = 30  # identifiers this far above the cursor count as used near it
    recent_lines: int = 5  # lines shown each side of a recent edit
    definitions_per_name: int = 2
    signatures_per_name: int = 1  # among the ranked signatures, namesakes after the first are left out
    chunk_candidates: int = 8
    pending_import_bonus: float = 1.0  # for an imported name the file does not use yet
    near_file_weight: float = 0.5  # for a definition in a file that defines what is used near the cursor
    receiver_weight: float = 0.5  # for a method of the type a variable near the cursor is named after
    declared_receiver_weight: float = 1.5  # for a method of the type a variable near the cursor is declared with
    file_receiver_weight: float = 0.6  # for a method of a type the file calls methods on (`Foo.f(`, `foo.f(`), by count
    methods_per_used_type: int = 15  # how many of such a type's methods are lifted
    inherited_weight: float = 0.6  # for a method the enclosing class inherits from a repository type
    suffix_word_weight: float = 0.5  # words below the cursor, against 1.0 for those right above it


@dataclass(frozen=True, slots=True)
class Snippet:
    kind: str  # IMPORT, RECENT, DEFINITION or CHUNK
    path: str
    line: int  # 0-based first line
    text: str

    @property
    def label(self) -> str:
        return f"{self.path}:{self.line + 1}"


@dataclass(frozen=True, slots=True)
class CompletionContext:
    """What goes into a completion prompt, in prompt order: snippets, then prefix, cursor, suffix."""

    path: str
    language: str
    prefix: str  # the window before the cursor, whole lines but the cursor's
    suffix: str  # the window after the cursor, whole lines but the cursor's
    snippets: tuple[Snippet, ...] = ()
    window_start_line: int = 0
    window_end_line: int = 0
    prefix_tokens: int = 0
    suffix_tokens: int = 0
    snippet_tokens: int = 0

    @property
    def comment(self) -> str:
        return line_comment(self.language)

    def repo_context(self) -> list[tuple[str, str]]:
        """(label, text) pairs, as `FimTemplate.render(..., repo_context=...)` takes them."""
        return [(s.label, s.text) for s in self.snippets]


@dataclass
class _Session:
    """Per enclosing function: what was chosen, so that it is not reshuffled while the user types."""

    key: tuple
    definitions: list[Snippet] = field(default_factory=list)
    considered: set[str] = field(default_factory=set)
    chunks: tuple[Snippet, ...] | None = None
    signatures: list[tuple[Definition, str]] | None = None  # ranked, for the imports section
    signatures_room: int = 0
    receivers: dict[str, tuple[str, ...]] | None = None  # variable -> the type it is declared with
    bases: frozenset[str] | None = None  # the types the enclosing class extends


class _Lru(OrderedDict):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key, value) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


class ContextBuilder:
    """Builds `CompletionContext`s for one index and one model's tokenizer, keeping what makes them
    stable (window starts, per-function selections) and cheap (token counts, index lookups)."""

    def __init__(
        self,
        index: IndexQueries | None,
        count_tokens: Callable[[str], int],
        budget: ContextBudget | None = None,
    ) -> None:
        self.index = index
        self.count_tokens = count_tokens
        self.budget = budget or ContextBudget()
        self._lock = threading.Lock()
        # What the event loop asked for while a build (on a worker thread, perhaps waiting on the
        # model) held the lock: applied before the next build, so that the loop never waits.
        self._pending_lock = threading.Lock()
        self._index_stale = False
        self._closed_paths: set[str] = set()
        self._token_counts: _Lru = _Lru(20000)
        self._window_starts: dict[str, int] = {}
        self._sessions: dict[str, _Session] = {}
        self._lookups: _Lru = _Lru(4096)
        self._imports: _Lru = _Lru(512)

    def index_changed(self) -> None:
        """Drop what was read from the index (call after an index update). Never waits."""
        with self._pending_lock:
            self._index_stale = True

    def forget(self, path: str) -> None:
        """The document closed. Never waits."""
        with self._pending_lock:
            self._closed_paths.add(path)

    def build(self, document: Document, recent: Sequence[RecentEdit] = ()) -> CompletionContext:
        with self._lock:
            self._apply_pending()
            return self._build(document, recent)

    def _apply_pending(self) -> None:
        with self._pending_lock:
            stale, closed = self._index_stale, self._closed_paths
            self._index_stale, self._closed_paths = False, set()
        if stale:
            self._lookups.clear()
            self._imports.clear()
            self._sessions.clear()
        for path in closed:
            self._window_starts.pop(path, None)
            self._sessions.pop(path, None)

    # --- the local window ---------------------------------------------------------------------

    def _tokens(self, text: str) -> int:
        count = self._token_counts.get(text)
        if count is None:
            count = max(0, int(self.count_tokens(text))) if text else 0
            self._token_counts.put(text, count)
        return count

    def _prefix_window(self, doc: Document, line_start: int, cursor_line: int, budget: int):
        """(first line, first offset, tokens) of the window before the cursor.

        The first line is remembered per document and kept while the window fits and is not much
        smaller than the budget; when it no longer fits, it jumps down so that the window fills 75%
        of the budget, leaving room to type before the next jump.
        """
        text, offset = doc.text, doc.offset
        partial = text[line_start:offset]
        total = self._tokens(partial)
        if total > budget:  # one enormous line: keep its end
            keep = max(1, len(partial) * budget // max(total, 1))
            return cursor_line, offset - keep, budget
        remembered = self._window_starts.get(doc.path)
        if remembered is not None and remembered <= cursor_line:
            start, first, tokens = line_start, cursor_line, total
            fits = True
            for s, line in _lines_before(text, line_start, cursor_line - remembered):
                tokens += self._tokens(line + "\n")
                start, first = s, first - 1
                if tokens > budget:
                    fits = False
                    break
            if fits and first == remembered and (first == 0 or tokens >= budget // 2):
                return first, start, tokens
        target = budget * 3 // 4
        start, first, tokens = line_start, cursor_line, total
        for s, line in _lines_before(text, line_start, cursor_line):
            cost = self._tokens(line + "\n")
            if tokens + cost > target:
                break
            tokens += cost
            start, first = s, first - 1
        self._window_starts[doc.path] = first
        return first, start, tokens

    def _suffix_window(self, doc: Document, cursor_line: int, budget: int):
        """(suffix text, last line, tokens): the rest of the cursor's line and whole lines below."""
        text, offset = doc.text, doc.offset
        end = text.find("\n", offset)
        if end < 0:
            rest = text[offset:]
            return rest, cursor_line, min(self._tokens(rest), budget)
        tokens = self._tokens(text[offset:end])
        if tokens > budget:
            return "", cursor_line, 0
        last = cursor_line
        while end < len(text):
            nxt = text.find("\n", end + 1)
            if nxt < 0:
                nxt = len(text)
            cost = self._tokens(text[end:nxt])
            if tokens + cost > budget:
                break
            tokens += cost
            end, last = nxt, last + 1
        return text[offset:end], last, tokens

    # --- assembling ---------------------------------------------------------------------------

    def _build(self, doc: Document, recent: Sequence[RecentEdit]) -> CompletionContext:
        offset = max(0, min(doc.offset, len(doc.text)))
        if offset != doc.offset:
            doc = Document(doc.path, doc.text, offset)
        b = self.budget
        language = language_name_for_path(doc.path)
        window_budget = int(b.max_context_tokens * b.window_share)
        suffix_budget = int(window_budget * b.suffix_share)
        prefix_budget = window_budget - suffix_budget
        repo_budget = b.max_context_tokens - window_budget

        line_start = doc.text.rfind("\n", 0, offset) + 1
        cursor_line = doc.text.count("\n", 0, offset)
        first_line, start, prefix_tokens = self._prefix_window(doc, line_start, cursor_line, prefix_budget)
        suffix, last_line, suffix_tokens = self._suffix_window(doc, cursor_line, suffix_budget)
        window = (first_line, last_line)

        # What the window leaves unused (a short file, a short suffix) goes to repository context.
        repo_budget = max(repo_budget, b.max_context_tokens - prefix_tokens - suffix_tokens)
        snippets: list[Snippet] = []
        used_total = 0
        if self.index is not None or recent:
            try:
                snippets, used_total = self._repository_context(doc, recent, cursor_line, window, repo_budget)
            except Exception as error:  # an index being rebuilt or locked must not fail a completion
                log.warning("repository context for %s left out: %s", doc.path, error)
                snippets, used_total = [], 0

        return CompletionContext(
            path=doc.path,
            language=language,
            prefix=doc.text[start:offset],
            suffix=suffix,
            snippets=tuple(snippets),
            window_start_line=first_line,
            window_end_line=last_line,
            prefix_tokens=prefix_tokens,
            suffix_tokens=suffix_tokens,
            snippet_tokens=used_total,
        )

    def _repository_context(
        self, doc: Document, recent: Sequence[RecentEdit], cursor_line: int, window: tuple[int, int], budget: int
    ) -> tuple[list[Snippet], int]:
        """Sections filled by value (definitions of what is used, then imported and related
        signatures, recent edits, similar chunks) and placed stable-first (imports, recent,
        definitions, chunks)."""
        b = self.budget
        local = local_syntax(doc.text, doc.offset, doc.path)
        scope = local.scope if local else None
        session = self._session(doc, scope, cursor_line)
        uses, called, dotted = self._uses(doc, scope, cursor_line)
        # What the enclosing function uses is worth most: its cost is reserved first.
        # Names called come before types and values: a call is likeliest to be made again.
        by_value = sorted(uses, key=lambda use: use[0] not in called)
        wanted = self._definition_snippets(doc, scope, window, session, by_value, budget, set(), dry_run=True)[1]
        if session.signatures is None:
            # Sized once per function, so that the prompt's head stays put while the user types.
            reserve = int(budget * b.recent_share) if recent else 0
            room = max(int(budget * b.imports_share), budget - wanted - reserve - int(budget * b.chunks_share) // 2)
            session.signatures_room = room
            session.signatures = self._choose_signatures(doc, uses, room, session, dotted)
        room = min(session.signatures_room, budget)
        imports, used, covered = _fit_signatures(session.signatures, room, self._tokens)
        definitions, d_used = self._definition_snippets(doc, scope, window, session, by_value, budget - used, covered)
        used += d_used
        recent_snippets, r_used = self._recent_snippets(doc, recent, min(budget - used, int(budget * b.recent_share)))
        used += r_used
        shown = imports + recent_snippets + definitions
        chunks, c_used = self._chunk_snippets(doc, scope, cursor_line, window, session, budget - used, shown)
        used += c_used
        return imports + recent_snippets + definitions + chunks, used

    def _uses(
        self, doc: Document, scope: Scope | None, cursor_line: int
    ) -> tuple[list[tuple[str, bool]], frozenset[str], frozenset[str]]:
        """Names used above the cursor in the enclosing function (its header included), nearest
        first, with whether only as an attribute; at module level, in the `nearby_lines` above.
        And the names among them that are called (`f(`, `x.f(`), and those that are receivers (`x.`)."""
        first = cursor_line - self.budget.nearby_lines
        if scope is not None:
            # A blank line inside a call's arguments can make the parser take the call for the
            # enclosing function: the function the index knows around the cursor starts no later.
            start_line = min(scope.start_line, self._enclosing_function_line(doc.path, cursor_line, scope.start_line))
            first = max(start_line, cursor_line - 4 * self.budget.nearby_lines)
        start = _line_offset(doc.text, max(0, first))
        # Words in comments and strings are not uses: `# check the access` calls no `check`.
        text = doc.text[:start] + _code_only(doc.text[start : doc.offset], language_name_for_path(doc.path))
        uses = _uses_near_cursor(text, doc.offset, max(0, first))
        # A parameter or local variable named like a function elsewhere is not a use of it; unless
        # a method of that name is called too (`methods = spec.methods()`): that is an attribute use.
        region = text[start : doc.offset]
        local = _bound_names(region)
        methods = set(_METHOD_CALLED.findall(region))
        uses = [
            (name, attribute or name in local)
            for name, attribute in uses
            if attribute or name not in local or name in methods
        ]
        return uses, frozenset(_CALLED.findall(region)) | methods, frozenset(_RECEIVER.findall(region))

    def _enclosing_function_line(self, path: str, line: int, default: int) -> int:
        """The first line of the innermost function of the indexed file around `line`."""
        starts = [
            d.range.start_line for d in self._symbols_of(path)
            if d.kind in _CALLABLE_KINDS and d.range.start_line <= line <= d.range.end_line
        ]
        return max(starts) if starts else default

    def _snippet_tokens(self, snippet: Snippet) -> int:
        # The label line costs tokens too (a comment or a file separator with the path).
        return self._tokens(snippet.label + "\n") + self._tokens(snippet.text + "\n")

    def _lookup(self, name: str) -> list[Definition]:
        found = self._lookups.get(name)
        if found is None:
            found = list(self.index.definitions(name)) if self.index is not None else []
            self._lookups.put(name, found)
        return found

    def _file_imports(self, path: str) -> list[Import]:
        found = self._imports.get(("imports", path))
        if found is None:
            found = list(self.index.imports(path)) if self.index is not None else []
            self._imports.put(("imports", path), found)
        return found

    # --- sections -----------------------------------------------------------------------------

    def _choose_signatures(
        self,
        doc: Document,
        uses: list[tuple[str, bool]],
        room: int,
        session: _Session | None = None,
        receivers_used: frozenset[str] = frozenset(),
    ) -> list[tuple[Definition, str]]:
        """(definition, rendering) of what the file can reach, ranked by value: what the imports
        name (C: what the included headers declare; the functions of imported types, for
        `Type::f(`), the package's neighbours (Go, C, Java), methods of the types used near the
        cursor (named after it, or declared with it: `Foo foo;`, `foo: Foo`, `c *Command`), and what
        the enclosing class inherits (called without a receiver). Ranked up: names imported and not
        used yet, names sharing words with the identifiers around the cursor, neighbours of what is
        used there; at most `signatures_per_name` of one name."""
        if self.index is None or room <= 0:
            return []
        language = language_name_for_path(doc.path)
        test = _is_test_path(doc.path)
        used_names = {name for name, _attribute in uses}
        near_words: dict[str, float] = {}
        for rank, (name, _attribute) in enumerate(uses):
            for word in split_identifier(name):
                if len(word) > 2 and word not in _KEYWORDS:
                    near_words.setdefault(word, 1.0 / (1 + rank / 10))
        # The lines below the cursor say what is being built too (the model sees them as the suffix).
        for rank, name in enumerate(_names_below_cursor(doc.text, doc.offset, self.budget.nearby_lines // 2)):
            for word in split_identifier(name):
                if len(word) > 2 and word not in _KEYWORDS:
                    near_words.setdefault(word, self.budget.suffix_word_weight / (1 + rank / 10))
        # What the file calls elsewhere it is likely to call again here.
        in_file: dict[str, int] = {}
        for name in _IDENTIFIER.findall(doc.text):
            in_file[name] = in_file.get(name, 0) + 1
        # A name imported and not used yet is there to be used: most likely where the cursor is.
        for imp in self._file_imports(doc.path):
            for name in imp.names:
                in_file[name] = in_file.get(name, 0) - 1
        pending = {name for imp in self._file_imports(doc.path) for name in imp.names if in_file.get(name, 0) <= 0}
        # Where what is used near the cursor is defined, its neighbours are likely used too
        # (`sdslen` above: `sdsrange` next; `utils.a` above: `utils.b`).
        near_files: dict[str, float] = {}
        for rank, (name, _attribute) in enumerate(uses[:40]):
            found = [d for d in self._lookup(name) if d.path != doc.path and d.kind in _API_KINDS]
            if 0 < len(found) <= 3:
                for d in found:
                    near_files.setdefault(d.path, 1.0 / (1 + rank / 10))
        defined_here = {d.name for d in self._symbols_of(doc.path)} if language in _INCLUDE_LANGUAGES else set()
        receivers = self._receiver_types(doc, session)
        # Java names a static helper's class on every call (`StringUtils.isBlank(`), and declares every
        # variable's type: elsewhere, capitalised receivers are modules and enums, and the counts misled.
        type_uses = _receiver_type_counts(doc.text, receivers) if language in _STATIC_CLASS_LANGUAGES else {}
        candidates: dict[object, tuple[float, int, Definition, str]] = {}

        def offer(d: Definition, bonus: float, brief_doc: bool, pending_owner: bool = False) -> None:
            where: object = (d.path, d.range.start_line)
            if language in _INCLUDE_LANGUAGES and "." not in d.qualname:
                # A C function is declared in a header and defined in a source file: one of them.
                if d.name in defined_here:
                    return
                where = d.name
            if d.path == doc.path or (not test and _is_test_path(d.path)) or d.kind not in _API_KINDS:
                return
            if d.name.startswith("__") and d.name.endswith("__"):
                return  # `__eq__` and kin are called through operators, never by name
            parts = split_identifier(d.name)
            overlap = sum(near_words.get(p, 0.0) for p in parts) / max(1, len(parts))
            score = overlap + bonus + (2.0 if d.name in used_names else 0.0) + min(in_file.get(d.name, 0), 3) / 3
            score += self.budget.near_file_weight * near_files.get(d.path, 0.0)
            if d.name in pending or pending_owner:
                score += self.budget.pending_import_bonus
            old = candidates.get(where)
            if old is None or old[0] < score:
                # A doc line for what the function uses; for the rest, more signatures instead.
                text = _render_definition(d, brief=True) if brief_doc and d.name in used_names else _brief(d.signature)
                candidates[where] = (score, old[1] if old else len(candidates), d, text)

        for imp in self._file_imports(doc.path):
            for definition in self._imported_definitions(doc.path, imp, language):
                offer(definition, 0.5, True)
                if definition.kind in _TYPE_KINDS | {kinds.ENUM}:
                    # `Type.create(`, `Type::new(`: what an imported type offers, by its name.
                    for member in self._members(definition):
                        offer(member, 0.2, False, pending_owner=definition.name in pending)
        for imp in self._file_imports(doc.path):
            # `import utils from './utils.js'`, `import pkg`: what the module offers, behind its name.
            if language == "go":  # `import "github.com/spf13/cobra"`: `cobra.X(` reaches what it exports
                module = self._go_package_symbols(imp.module.strip().strip('"'))
            else:
                crates = self._rust_crates() if language == "rust" else None
                stems = _module_stems(imp.module, doc.path, language, crates)
                module = self._module_symbols(stems, language)
            for definition in module:
                # A crate root's `mod db;` lines offer nothing to call, and would take the place of `fn db(`.
                if definition.kind != kinds.MODULE:
                    offer(definition, 0.1, False)
        if language in _DIRECTORY_LANGUAGES:
            for definition in self._neighbour_symbols(doc.path):
                offer(definition, 0.0, False)
        for rank, (name, _attribute) in enumerate(uses[:80]):  # nearest first
            for owner in self._lookup(name):
                if owner.kind in _TYPE_KINDS and owner.path != doc.path:
                    for d in self._members(owner):
                        offer(d, 0.3, False)
        # `optionGroup.`, `currentOption.` near the cursor: a variable named after its type, whose
        # methods are the likeliest next call.
        for rank, (name, _attribute) in enumerate(uses[:40]):
            words = split_identifier(name)
            if not words or name[:1].isupper():
                continue
            for type_name in dict.fromkeys((name[:1].upper() + name[1:], words[-1].capitalize())):
                for owner in self._lookup(type_name):
                    if owner.kind in _TYPE_KINDS and owner.path != doc.path:
                        for d in self._members(owner):
                            offer(d, 0.3 + self.budget.receiver_weight / (1 + rank / 10), False)
        # `private final Messager messager;` / `c *Command` / `frame: &Frame`, then `messager.` near the
        # cursor: the declared type's methods.
        named = [name for name, _attribute in uses[:40]]
        # A parameter (`visibleOptions(cmd)`, `@param {Command} cmd`) is no use of a definition, but
        # its declared type's methods are what `cmd.` calls.
        parameters = sorted(name for name in receivers_used if name in receivers and name not in named)
        for rank, name in [*enumerate(named), *((10, name) for name in parameters)]:
            if name not in receivers_used:
                continue  # `self._cookies = None` calls nothing on it
            for type_name in receivers.get(name, ()):
                owners = [o for o in self._lookup(type_name) if o.kind in _TYPE_KINDS]
                if any(o.path == doc.path or not _is_declaration_file(o.path) for o in owners):
                    # The class is in the repository's source: typings/index.d.ts only repeats it.
                    owners = [o for o in owners if not _is_declaration_file(o.path)]
                for owner in owners:
                    if owner.path != doc.path:
                        for d in self._members(owner):
                            offer(d, 0.3 + self.budget.declared_receiver_weight / (1 + rank / 10), False)
        # `class AutoValueProcessor extends AutoValueishProcessor`: inherited methods are called bare.
        for base in self._base_types(doc, session):
            for owner in self._lookup(base):
                if owner.kind in _TYPE_KINDS and owner.path != doc.path:
                    depth = owner.qualname.count(".") + 1  # not the methods of its nested classes
                    for d in self._members(owner):
                        if d.qualname.count(".") == depth:
                            offer(d, self.budget.inherited_weight, True)
        ranked = sorted(candidates.values(), key=lambda c: (-c[0], c[1]))
        # A type the file calls methods on (`ReflectionHelper.f(`, `element.f(` with `JsonElement
        # element`) is likely called again: its best-ranked methods come up, by how often, but only
        # a few of each, or one big utility class would take every place.
        per_type: dict[str, int] = {}
        lifted = []
        for score, order, d, text in ranked:
            owner = d.qualname.rsplit(".", 2)[-2] if "." in d.qualname else ""
            if type_uses.get(owner, 0) > 0:
                per_type[owner] = per_type.get(owner, 0) + 1
                if per_type[owner] <= self.budget.methods_per_used_type:
                    score += self.budget.file_receiver_weight * min(type_uses[owner], 5) / 5
            lifted.append((score, order, d, text))
        ranked = sorted(lifted, key=lambda c: (-c[0], c[1]))
        # A dozen overrides of `write` say no more than the best-ranked one: the room goes to other names.
        per_name: dict[str, int] = {}
        kept = []
        for _score, _order, d, text in ranked:
            per_name[d.name] = per_name.get(d.name, 0) + 1
            if per_name[d.name] <= self.budget.signatures_per_name:
                kept.append((d, text))
        return kept[:200]

    def _receiver_types(self, doc: Document, session: _Session | None) -> dict[str, tuple[str, ...]]:
        """Variables, fields and parameters of the file and the types they are declared with;
        read once per enclosing function."""
        if session is not None and session.receivers is not None:
            return session.receivers
        found = _declared_types(doc.text, language_name_for_path(doc.path), doc.offset)
        if session is not None:
            session.receivers = found
        return found

    def _base_types(self, doc: Document, session: _Session | None) -> frozenset[str]:
        """What the classes around the cursor extend (the index's view of the file), and what
        those extend in turn."""
        if session is not None and session.bases is not None:
            return session.bases
        line = doc.text.count("\n", 0, doc.offset)
        bases: set[str] = set()
        for d in self._symbols_of(doc.path):
            if d.kind in _TYPE_KINDS and d.range.start_line <= line <= d.range.end_line:
                bases.update(_extended_types(d.signature))
        for name in list(bases):
            for owner in self._lookup(name):
                if owner.kind in _TYPE_KINDS and owner.path != doc.path:
                    bases.update(_extended_types(owner.signature))
        found = frozenset(bases)
        if session is not None:
            session.bases = found
        return found

    def _members(self, owner: Definition) -> list[Definition]:
        """The methods another file can call on a type: those defined in its body (or its `impl`
        blocks in the same file), but constructors (`new Type(` needs the type, not them) and
        `private` ones."""
        prefix = owner.name + "."
        return [
            d for d in self._symbols_of(owner.path)
            if d.qualname.startswith(prefix) and d.kind in (kinds.METHOD, kinds.FUNCTION)
            and not _PRIVATE.match(_one_line(d.signature))
        ]

    def _symbols_of(self, path: str) -> list[Definition]:
        key = ("all", path)
        symbols = self._imports.get(key)
        if symbols is None:
            symbols = list(self.index.file_symbols(path)) if self.index is not None else []
            self._imports.put(key, symbols)
        return symbols

    def _neighbour_symbols(self, path: str) -> list[Definition]:
        """Top-level definitions and the methods another file may call (not `private` ones) in the
        other files of the file's directory."""
        paths = getattr(self.index, "indexed_paths", None)
        if paths is None:
            return []
        directory = posixpath.dirname(path)
        prefix = directory + "/" if directory else ""
        out = []
        siblings = [p for p in paths(prefix) if p != path and posixpath.dirname(p) == directory]
        for sibling in siblings[:60]:
            out += [
                d for d in self._symbols_of(sibling)
                if d.qualname.count(".") <= 1 and not ("." in d.qualname and _PRIVATE.match(_one_line(d.signature)))
            ]
        return out

    def _go_package_symbols(self, import_path: str) -> list[Definition]:
        """What a Go package of this repository exports: the directory below the module path that
        go.mod declares, else the directory the import path ends with (the repository's root for
        its module path, when the checkout is named like it)."""
        paths = getattr(self.index, "indexed_paths", None)
        if paths is None:
            return []
        directories = self._imports.get(("go-dirs",))
        if directories is None:
            directories = {posixpath.dirname(p) for p in paths() if p.endswith(".go") and not _is_test_path(p)}
            self._imports.put(("go-dirs",), directories)
        matching = [d for d in directories if d and (import_path == d or import_path.endswith("/" + d))]
        module = self._go_module()
        below = None
        if module and (import_path + "/").startswith(module + "/"):
            below = import_path[len(module) :].strip("/")
        if below is not None and below in directories:
            directory = below
        elif matching:
            directory = max(matching, key=len)
        else:
            root = getattr(self.index, "root", None)
            named = getattr(root, "name", None)
            last = re.sub(r"/v\d+$", "", import_path).rsplit("/", 1)[-1]  # `chi/v5` is chi
            if "" not in directories or not named or last != named:
                return []
            directory = ""
        prefix = directory + "/" if directory else ""
        files = [p for p in paths(prefix) if posixpath.dirname(p) == directory and p.endswith(".go")]
        out = []
        for file in files[:60]:
            out += [d for d in self._symbols_of(file) if "." not in d.qualname and d.name[:1].isupper()]
        return out

    def _go_module(self) -> str:
        """The module path go.mod at the repository's root declares (`github.com/go-chi/chi/v5`)."""
        found = self._imports.get(("go-module",))
        if found is None:
            found = ""
            root = getattr(self.index, "root", None)
            try:
                text = (Path(root) / "go.mod").read_text(encoding="utf-8") if root else ""
            except (OSError, UnicodeDecodeError):
                text = ""
            declared = re.search(r"^module\s+(\S+)", text, re.MULTILINE)
            if declared:
                found = declared.group(1).strip('"')
            self._imports.put(("go-module",), found)
        return found

    def _imported_definitions(self, path: str, imp: Import, language: str) -> list[Definition]:
        if language in _INCLUDE_LANGUAGES:
            return self._header_symbols(path, imp.module)
        if language == "go":  # what a package exports is offered below, behind its name
            return []
        crates = self._rust_crates() if language == "rust" else None
        stems = _module_stems(imp.module, path, language, crates)
        if not stems and not imp.names:
            return []
        out: list[Definition] = []
        for name in imp.names[:40]:
            matches = [
                d
                for d in self._lookup(name)
                if ("." not in d.qualname or _static_member(d, imp.module, language))
                and _path_matches(d.path, stems, language)
            ]
            # `from pkg import module`, `use grep_searcher::sinks`: the name may be a module itself
            # (Rust: its `mod` line matched), all of it offered.
            if not matches or (language == "rust" and all(d.kind == kinds.MODULE for d in matches)):
                sub = _module_stems(_submodule(imp.module, name) if language == "python" else name, path, language)
                module = self._module_symbols(sub, language)
                if not module and language == "rust":  # `use super::url_params;`
                    module = self._rust_module_symbols(
                        path, _module_stems(f"{imp.module}::{name}", path, language, crates)
                    )
                if module:
                    out.extend(matches[:1] + module)
                    continue
            if not matches:
                # Re-exported (`pub use`, `__init__` imports) or laid out unlike its module path: a
                # name defined once at top level is that one.
                top = [d for d in self._lookup(name) if "." not in d.qualname and not _is_test_path(d.path)]
                matches = top if len(top) == 1 else []
            out.extend(matches[:3])
        if not imp.names:
            out.extend(self._module_symbols(stems, language))
        return out

    def _header_symbols(self, path: str, include: str, depth: int = 2) -> list[Definition]:
        """What an `#include "x.h"` declares: the header next to the file, else the repository's
        header at that path below any directory (its include directories); and what the headers
        it includes declare, one level down."""
        header = self._resolve_include(path, include)
        if header is None:
            return []
        out = [d for d in self._symbols_of(header) if "." not in d.qualname and d.kind in _API_KINDS]
        if depth > 1:
            for imp in self._file_imports(header):
                out += self._header_symbols(header, imp.module, depth - 1)
        return out

    def _files_by_name(self) -> dict[str, list[str]]:
        """The repository's files by file name, read once per index update."""
        found = self._imports.get(("files-by-name",))
        if found is None:
            paths = getattr(self.index, "indexed_paths", None)
            found = {}
            for p in paths() if paths is not None else []:
                found.setdefault(posixpath.basename(p), []).append(p)
            self._imports.put(("files-by-name",), found)
        return found

    def _resolve_include(self, path: str, include: str) -> str | None:
        include = include.strip().strip('"<>')
        if not include:
            return None
        key = ("include", posixpath.dirname(path), include)
        if key in self._imports:
            return self._imports[key]
        by_name = self._files_by_name()
        found = None
        if by_name:
            nearby = posixpath.normpath(posixpath.join(posixpath.dirname(path), include))
            tail = posixpath.normpath(include).lstrip("./")
            same_name = by_name.get(posixpath.basename(tail), [])
            headers = [p for p in same_name if p == nearby or p == tail or p.endswith("/" + tail)]
            if nearby in headers:
                found = nearby
            elif headers:
                found = min(headers, key=lambda p: (_is_test_path(p), p.count("/"), p))
        self._imports.put(key, found)
        return found

    def _rust_crates(self) -> dict[str, str]:
        """A Rust workspace's crates: the name code uses (`grep_searcher`, from Cargo.toml's
        `[lib] name` or `[package] name`) -> its source directory (`crates/searcher/src`)."""
        found = self._imports.get(("rust-crates",))
        if found is None:
            found = {}
            paths = getattr(self.index, "indexed_paths", None)
            root = getattr(self.index, "root", None)
            libraries = [p for p in paths() if p == "src/lib.rs" or p.endswith("/src/lib.rs")] if paths and root else []
            for lib in libraries:
                source = posixpath.dirname(lib)
                name = _crate_name(Path(root) / posixpath.dirname(source) / "Cargo.toml")
                if name:
                    found.setdefault(name, source)
            self._imports.put(("rust-crates",), found)
        return found

    def _rust_module_symbols(self, path: str, stems: list[str]) -> list[Definition]:
        """A Rust module by its path below some crate's source root (`routing/url_params`: the
        file `.../routing/url_params.rs` or `.../url_params/mod.rs`), the one nearest the file."""
        by_name = self._files_by_name()
        for stem in stems:
            last = stem.rsplit("/", 1)[-1]
            found = [p for p in by_name.get(last + ".rs", []) if p[: -len(".rs")].endswith(stem)]
            found += [p for p in by_name.get("mod.rs", []) if p[: -len("/mod.rs")].endswith(stem)]
            if found:
                nearest = max(found, key=lambda p: (len(posixpath.commonprefix([p, path])), -len(p)))
                return [d for d in self._symbols_of(nearest) if "." not in d.qualname and d.kind in _API_KINDS][:80]
        return []

    def _module_symbols(self, stems: list[str], language: str = "") -> list[Definition]:
        """Top-level definitions of the first candidate file of a module that the index knows."""
        if self.index is None:
            return []
        for candidate in _candidate_files(stems, language):
            key = ("file", candidate)
            symbols = self._imports.get(key)
            if symbols is None:
                symbols = [d for d in self.index.file_symbols(candidate) if "." not in d.qualname]
                self._imports.put(key, symbols)
            if symbols:
                return [d for d in symbols if d.kind in _API_KINDS][:80]
        return []

    def _recent_snippets(
        self, doc: Document, recent: Sequence[RecentEdit], budget: int
    ) -> tuple[list[Snippet], int]:
        """The lines around each recent edit in other files, in path order."""
        by_path: dict[str, RecentEdit] = {}
        for edit in recent:
            if edit.path != doc.path and edit.path not in by_path:
                by_path[edit.path] = edit
        if not by_path or budget <= 0:
            return [], 0
        share = budget // len(by_path)
        snippets, used = [], 0
        for path in sorted(by_path):
            edit = by_path[path]
            lines = edit.text.split("\n")
            line = max(0, min(edit.line, len(lines) - 1))
            first = max(0, line - self.budget.recent_lines)
            last = min(len(lines), line + self.budget.recent_lines + 1)
            while last > first:
                snippet = Snippet(RECENT, path, first, "\n".join(lines[first:last]).rstrip())
                cost = self._snippet_tokens(snippet)
                if cost <= share and snippet.text.strip():
                    snippets.append(snippet)
                    used += cost
                    break
                # Too big: shrink around the edit, the far side first.
                if last - 1 - line >= line - first:
                    last -= 1
                else:
                    first += 1
        return snippets, used

    def _session(self, doc: Document, scope: Scope | None, cursor_line: int) -> _Session:
        if scope is not None:
            key = (scope.start_line, scope.header)
        else:  # module level: a new session every 40 lines
            key = ("module", cursor_line // 40)
        session = self._sessions.get(doc.path)
        if session is None or session.key != key:
            session = self._sessions[doc.path] = _Session(key)
        return session

    def _definition_snippets(
        self,
        doc: Document,
        scope: Scope | None,
        window: tuple[int, int],
        session: _Session,
        uses: list[tuple[str, bool]],
        budget: int,
        shown: set[tuple[str, int]],
        dry_run: bool = False,
    ) -> tuple[list[Snippet], int]:
        """Definitions of the names used near the cursor: those chosen earlier in this function
        first, in their order; then new ones, nearest first while they fit, placed by path/line.
        A dry run only says what they would cost, remembering nothing."""
        kept, used = [], 0
        for snippet in session.definitions:
            cost = self._snippet_tokens(snippet)
            if used + cost > budget:
                break
            if not _visible(snippet, doc.path, window) and (snippet.path, snippet.line) not in shown:
                kept.append(snippet)
                used += cost
        if self.index is None:
            return kept, used

        have = {(s.path, s.line) for s in kept} | shown
        imports = self._file_imports(doc.path)
        language = language_name_for_path(doc.path)
        stems = _import_stems(imports, doc.path, language, self._rust_crates() if language == "rust" else None)
        module = self._go_module() if language == "go" else ""
        if module:  # `github.com/go-chi/chi/v5/middleware` is the directory middleware
            stems = [s[len(module) :].strip("/") for s in stems if (s + "/").startswith(module + "/")] + stems
        added: list[Snippet] = []
        # `x.name` is the name of x's declared type, or of a type the enclosing class extends.
        receivers = self._receiver_types(doc, session)
        near = frozenset(
            [name for name, _attribute in uses]
            + [t for name, _attribute in uses for t in receivers.get(name, ())]
            + list(self._base_types(doc, session))
        )
        considered = set(session.considered)
        for name, attribute in uses:
            if name in considered:
                continue
            considered.add(name)
            for definition in self._pick_definitions(name, attribute, doc, scope, window, stems, language, near):
                snippet = Snippet(
                    DEFINITION, definition.path, definition.range.start_line, _render_definition(definition, brief=True)
                )
                if (snippet.path, snippet.line) in have:
                    continue
                cost = self._snippet_tokens(snippet)
                if used + cost > budget:
                    # The doc line is the first thing to go; the signature is what must be there.
                    snippet = Snippet(
                        DEFINITION, definition.path, definition.range.start_line, _brief(definition.signature)
                    )
                    cost = self._snippet_tokens(snippet)
                    if used + cost > budget:
                        continue
                have.add((snippet.path, snippet.line))
                added.append(snippet)
                used += cost
        if dry_run:
            return kept + added, used
        session.considered = considered
        added.sort(key=lambda s: (s.path, s.line))
        session.definitions.extend(added)
        return kept + added, used

    def _pick_definitions(
        self,
        name: str,
        attribute: bool,
        doc: Document,
        scope: Scope | None,
        window: tuple[int, int],
        import_stems: list[str],
        language: str,
        near: frozenset[str] = frozenset(),
    ) -> list[Definition]:
        test = _is_test_path(doc.path)
        # Test helpers and bundled copies are no context for library code.
        candidates = [
            d for d in self._lookup(name) if d.kind in _DEFINITION_KINDS and (test or not _is_test_path(d.path))
        ]
        if any(d.path == doc.path for d in candidates):
            # Defined in this file: that is the one meant, not a namesake elsewhere.
            candidates = [d for d in candidates if d.path == doc.path]

        here = posixpath.dirname(doc.path)

        def known(d: Definition) -> bool:
            if d.path == doc.path or _path_matches(d.path, import_stems, language):
                return True
            # A Go package is its directory; C sees its neighbours through headers.
            return language in _DIRECTORY_LANGUAGES and posixpath.dirname(d.path) == here

        def receiver_used(d: Definition) -> bool:
            # `c.Root()` with `c *Command` (or `Command(...)`) near the cursor: Command's Root.
            return "." in d.qualname and d.qualname.split(".", 1)[0] in near

        found = []
        for d in candidates:
            if d.path == doc.path and (
                window[0] <= d.range.start_line <= window[1]
                or (scope is not None and d.range.start_line == scope.start_line)
            ):
                continue  # already in the window
            if attribute and not known(d) and not receiver_used(d) and len(candidates) > 1:
                continue  # `x.name` could be any class's `name`: trust the imports and the types in use
            found.append(d)
        found.sort(
            key=lambda d: (d.path != doc.path, not receiver_used(d), not known(d), d.path, d.range.start_line)
        )
        limit = self.budget.definitions_per_name
        if len(found) > 2 * limit:
            found = [d for d in found if known(d)]  # a common name, defined all over
        return found[:limit]

    def _chunk_snippets(
        self,
        doc: Document,
        scope: Scope | None,
        cursor_line: int,
        window: tuple[int, int],
        session: _Session,
        budget: int,
        shown: Sequence[Snippet] = (),
    ) -> tuple[list[Snippet], int]:
        """BM25 chunks like the enclosing function, chosen once per function; none that repeats
        lines another section shows."""
        if session.chunks is None:
            session.chunks = tuple(self._choose_chunks(doc, scope, cursor_line, window, budget))
        kept, used = [], 0
        for snippet in session.chunks:
            cost = self._snippet_tokens(snippet)
            if used + cost > budget:
                break
            if any(_overlaps(snippet, other) for other in shown):
                continue
            kept.append(snippet)
            used += cost
        return kept, used

    def _choose_chunks(
        self, doc: Document, scope: Scope | None, cursor_line: int, window: tuple[int, int], budget: int
    ) -> list[Snippet]:
        if self.index is None or budget <= 0:
            return []
        first = scope.start_line if scope is not None else cursor_line - self.budget.nearby_lines
        names = _names_near_cursor(doc.text, doc.offset, max(0, first))
        if not names:
            return []
        query = " ".join(names[:40])
        chosen, used = [], 0
        test = _is_test_path(doc.path)
        for chunk, _score in self.index.search_chunks(query, self.budget.chunk_candidates):
            if chunk.path == doc.path and (
                chunk.start_line <= window[1] and chunk.end_line >= window[0]
            ):
                continue  # the window shows it already
            if not test and _is_test_path(chunk.path):
                continue
            if any(c.path == chunk.path and c.line <= chunk.end_line and chunk.start_line <= c.line + c.text.count("\n")
                   for c in chosen):
                continue  # overlapping chunks: one is enough
            snippet = _fit_chunk(chunk, budget - used, self._snippet_tokens)
            if snippet is None:
                continue
            chosen.append(snippet)
            used += self._snippet_tokens(snippet)
        chosen.sort(key=lambda s: (s.path, s.line))
        return chosen


# --- helpers --------------------------------------------------------------------------------------

# What is worth a signature in the prompt (not fields or variables).
_DEFINITION_KINDS = {
    kinds.FUNCTION,
    kinds.METHOD,
    kinds.CONSTRUCTOR,
    kinds.CLASS,
    kinds.INTERFACE,
    kinds.STRUCT,
    kinds.ENUM,
    kinds.CONSTANT,
    kinds.MODULE,
    kinds.TYPE_PARAMETER,
}
_API_KINDS = _DEFINITION_KINDS
_TYPE_KINDS = {kinds.CLASS, kinds.INTERFACE, kinds.STRUCT}
_CALLABLE_KINDS = {kinds.METHOD, kinds.FUNCTION, kinds.CONSTRUCTOR}
# Languages whose files see their directory's definitions without an import.
_DIRECTORY_LANGUAGES = {"go", "c", "cpp", "java"}
# A member only its own type may call (Java, C#, TypeScript, Kotlin, PHP).
_PRIVATE = re.compile(r"\s*(?:@[\w.]+(?:\([^)]*\))?\s+)*private\b")
# Languages where a function is a class's method, called through the class or a declared variable.
_STATIC_CLASS_LANGUAGES = {"java", "csharp"}
# Languages that import by including a header.
_INCLUDE_LANGUAGES = {"c", "cpp"}
# Languages whose import names a directory (a package), not a file.
_PACKAGE_DIRECTORY_LANGUAGES = {"go", "java"}
_TEST_DIRS = frozenset({"test", "tests", "testing", "spec", "specs", "__tests__", "fixtures", "examples", "e2e"})


_SOURCE_SUFFIXES = {".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".py", ".h", ".hpp"}
_GENERATED_DIRS = frozenset({"dist", "build", "node_modules", "vendor"})


def _is_test_path(path: str) -> bool:
    """Tests, fixtures and examples (context for tests, never for library code), and bundles or
    vendored copies (context for nothing: the source they were built from is there)."""
    *dirs, name = path.split("/")
    if any(d in _TEST_DIRS or d in _GENERATED_DIRS for d in dirs) or name.endswith(".min.js"):
        return True
    stem = name.rsplit(".", 1)[0]
    return stem.startswith("test_") or stem.endswith(("_test", ".test", ".spec")) or stem == "conftest"


def _is_declaration_file(path: str) -> bool:
    return path.endswith((".d.ts", ".d.cts", ".d.mts"))


def _fit_signatures(
    chosen: list[tuple[Definition, str]], budget: int, tokens: Callable[[str], int]
) -> tuple[list[Snippet], int, set[tuple[str, int]]]:
    """The best-ranked signatures that fit, grouped per file in path order (one label a file)."""
    picked: dict[str, list[tuple[Definition, str]]] = {}
    used = 0
    for d, text in chosen:
        cost = tokens(text + "\n")
        if d.path not in picked:
            cost += tokens(f"{d.path}:{d.range.start_line + 1}\n")
        if used + cost > budget:
            continue
        used += cost
        picked.setdefault(d.path, []).append((d, text))
    snippets = []
    for path in sorted(picked):
        group = sorted(picked[path], key=lambda p: (p[0].range.start_line, p[0].range.start_col))
        snippets.append(Snippet(IMPORT, path, group[0][0].range.start_line, "\n".join(t for _d, t in group)))
    covered = {(d.path, d.range.start_line) for group in picked.values() for d, _t in group}
    return snippets, used, covered


def _one_line(signature: str) -> str:
    """A signature laid out over lines, on one: the same tokens without the indentation."""
    text = signature.strip()
    if "\n" not in text:
        return signature.rstrip()
    indent = signature[: len(signature) - len(signature.lstrip())]
    text = re.sub(r"\s*\n\s*", " ", text)
    return indent + re.sub(r"([(\[{]) | ?,? ([)\]}])", lambda m: m.group(1) or m.group(2), text)


_BRIEF_CHARS = 160


def _brief(signature: str) -> str:
    """A signature on one line, its parameter list cut after `_BRIEF_CHARS` characters at a
    parameter's end: the name, the result and the first parameters say the most, and a seven-line
    constructor would crowd out three other definitions."""
    line = _one_line(signature)
    if len(line) <= _BRIEF_CHARS:
        return line
    # The lines up to the one that opens the parameters stay whole: they name the definition.
    head = 0
    for written in signature.strip().split("\n"):
        head += len(written.strip()) + 1
        if "(" in written:
            break
    limit = max(_BRIEF_CHARS, len(line) - len(line.lstrip()) + head)
    if len(line) <= limit:
        return line
    cut = line.rfind(", ", 0, limit)
    if cut < 0 or "(" not in line[:cut]:
        return line
    return line[:cut] + ", …)"


def _overlaps(a: Snippet, b: Snippet) -> bool:
    return a.path == b.path and a.line <= b.line + b.text.count("\n") and b.line <= a.line + a.text.count("\n")

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEYWORDS = frozenset(
    """
    and as assert async await break case catch class const continue def default defer del delete do
    elif else enum except export extends false False finally fn for from func function go if impl
    import in instanceof interface is lambda let match mod mut new nil None nonlocal not null or
    package pass pub raise return select self Self static struct super switch this throw true True
    try type typeof undefined use var void while with yield chan map range string int float bool str
    len print list dict set tuple object any bytes error byte rune number boolean
    final synchronized throws protected private public abstract native transient volatile implements
    """.split()
)


def _names_near_cursor(text: str, offset: int, first_line: int) -> list[str]:
    """Identifiers from the start of `first_line` to the cursor, nearest the cursor first."""
    return [name for name, _attribute in _uses_near_cursor(text, offset, first_line)]


def _code_only(text: str, language: str) -> str:
    """`text` with its comments and string literals blanked, offsets and lines kept."""
    if not language:
        return text
    kept = list(text)
    for i, ch, kind in Lexer(language).scan(text):
        if kind != CODE and ch != "\n":
            kept[i] = " "
    return "".join(kept)


def _names_below_cursor(text: str, offset: int, lines: int) -> list[str]:
    """Identifiers from the cursor to the end of the `lines` lines below it, nearest first."""
    end = offset
    for _ in range(lines + 1):
        end = text.find("\n", end + 1)
        if end < 0:
            end = len(text)
            break
    names = [m.group() for m in _IDENTIFIER.finditer(text, offset, end)]
    return [n for n in dict.fromkeys(names) if n not in _KEYWORDS and len(n) > 1]


def _uses_near_cursor(text: str, offset: int, first_line: int) -> list[tuple[str, bool]]:
    """(identifier, whether it is only ever used as an attribute `x.name`), nearest first."""
    start = text.rfind("\n", 0, offset) + 1
    line = text.count("\n", 0, offset)
    while line > first_line and start > 0:
        start = text.rfind("\n", 0, start - 1) + 1
        line -= 1
    order: list[str] = []
    attribute_only: dict[str, bool] = {}
    for match in reversed(list(_IDENTIFIER.finditer(text, start, offset))):
        name = match.group()
        if name in _KEYWORDS or len(name) < 2:
            continue
        is_attribute = match.start() > 0 and text[match.start() - 1] == "."
        if name not in attribute_only:
            order.append(name)
            attribute_only[name] = is_attribute
        elif not is_attribute:
            attribute_only[name] = False
    return [(name, attribute_only[name]) for name in order]


_ASSIGNED = re.compile(r"(?<![\w.$])([A-Za-z_]\w*)\s*(?::=|=(?!=)|\bin\b)|\b(?:as|let|var|const)\s+([A-Za-z_]\w*)")
_PARAMETER = re.compile(r"[(,]\s*\*{0,2}([A-Za-z_]\w*)\s*(?=[:,)=]|\s+[*\[\]\w.]+\s*[,)])")
_CALLED = re.compile(r"(?<![\w.$])([A-Za-z_]\w*)\s*\(")
_RECEIVER = re.compile(r"([A-Za-z_]\w*)\s*(?:\.|->|::)\s*[A-Za-z_]")
_METHOD_CALLED = re.compile(r"(?<=\.)([A-Za-z_]\w*)\s*\(")


def _bound_names(text: str) -> set[str]:
    """Names the text binds (assignments, loop variables, parameters) and never calls: locals."""
    bound = {a or b for a, b in _ASSIGNED.findall(text)}
    first_line = text.split("\n", 1)[0]
    bound.update(_PARAMETER.findall(first_line))
    return bound - set(_CALLED.findall(text))


# Declarations that say a variable's type, per language: (pattern, group of the name, group of the type).
_JAVA_LIKE = [
    (re.compile(r"\b([A-Z]\w*)(?:<[^;(){}=]*?>)?(?:\[\])*\s+([a-z_]\w*)\s*(?=[;=,)])"), 2, 1),  # Foo foo; (Foo foo,
    (re.compile(r"\b([a-z_]\w*)\s*=\s*new\s+(?:\w+\.)*([A-Z]\w*)"), 1, 2),  # foo = new Foo(
]
_ANNOTATED = (re.compile(r"\b([a-z_]\w*)\??\s*:\s*&?(?:'\w+\s+)?(?:mut\s+)?(?:\w+(?:\.|::))*([A-Z]\w*)"), 1, 2)
# JSDoc: `@param {Command} cmd`, `/** @type {Option} */ const option` (JavaScript's only declared types).
_JSDOC = [
    (re.compile(r"@param\s*\{\s*(?:[\w$]+\.)*([A-Z][\w$]*)(?:<[^{}]*>)?(?:\[\])?\s*\}\s*\[?([A-Za-z_$][\w$]*)"), 2, 1),
    (re.compile(r"@type\s*\{\s*(?:[\w$]+\.)*([A-Z][\w$]*)\s*\}\s*\*/\s*(?:(?:const|let|var)\s+|this\.)?([A-Za-z_$][\w$]*)"),
     2, 1),
]
_DECLARED_TYPES = {
    "java": _JAVA_LIKE,
    "csharp": _JAVA_LIKE,
    "typescript": [_ANNOTATED, _JAVA_LIKE[1], *_JSDOC],
    "javascript": [_JAVA_LIKE[1], *_JSDOC],
    "python": [_ANNOTATED, (re.compile(r"\b([a-z_]\w*)\s*=\s*(?:\w+\.)*([A-Z]\w*)\("), 1, 2)],  # foo = Foo(
    "rust": [
        _ANNOTATED,
        (re.compile(r"\blet\s+(?:mut\s+)?([a-z_]\w*)\s*=\s*(?:\w+::)*([A-Z]\w*)(?:::\w+)?\s*[({]"), 1, 2),
    ],
    "go": [
        (re.compile(r"\b([a-z_]\w*)\s+\*?(?:\[\])?(?:[a-z]\w*\.)?([A-Z]\w*)\b"), 1, 2),  # c *Command, var m Mux
        (re.compile(r"\b([a-z_]\w*)\s*:?=\s*&?(?:[a-z]\w*\.)?([A-Z]\w*)\s*\{"), 1, 2),  # m := &Mux{
        (re.compile(r"\b([a-z_]\w*)\s*:?=\s*(?:[a-z]\w*\.)?New([A-Z]\w*)\("), 1, 2),  # m := NewMux(
    ],
}
_NOT_VARIABLES = _KEYWORDS | {"return", "case", "else", "throw", "throws", "extends", "implements", "instanceof"}


def _declared_types(text: str, language: str, offset: int) -> dict[str, tuple[str, ...]]:
    """variable -> the capitalised type it is declared with in `text` (a field, a parameter, a
    local): the declaration nearest above `offset`, else the first below it."""
    above: dict[str, tuple[int, str]] = {}
    below: dict[str, tuple[int, str]] = {}
    for pattern, name_group, type_group in _DECLARED_TYPES.get(language, ()):
        for match in pattern.finditer(text):
            name, type_name = match.group(name_group), match.group(type_group)
            if name in _NOT_VARIABLES:
                continue
            where = match.start(name_group)
            if where < offset:
                if name not in above or above[name][0] < where:
                    above[name] = (where, type_name)
            elif name not in below or below[name][0] > where:
                below[name] = (where, type_name)
    return {name: (type_name,) for name, (_where, type_name) in {**below, **above}.items()}


_EXTENDS = re.compile(r"\bextends\s+(?:[\w]+\.)*([A-Z]\w*)")
_PYTHON_BASES = re.compile(r"^\s*class\s+\w+\s*\(([^)]*)\)")


def _receiver_type_counts(text: str, declared: Mapping[str, tuple[str, ...]]) -> dict[str, int]:
    """Type -> how often the file uses it as a receiver: `StringUtils.isEmpty(` names it, `element.`
    with `JsonElement element` declared stands for it."""
    counts: dict[str, int] = {}
    for name in _RECEIVER.findall(text):
        for type_name in (name,) if name[:1].isupper() else declared.get(name, ()):
            counts[type_name] = counts.get(type_name, 0) + 1
    return counts


def _extended_types(signature: str) -> list[str]:
    """The classes a class signature extends: `class A extends B<T>`, `class A(pkg.B, C):`."""
    found = _EXTENDS.findall(signature)
    bases = _PYTHON_BASES.match(signature)
    if bases:
        for base in bases.group(1).split(","):
            base = base.strip().rsplit(".", 1)[-1]
            if base[:1].isupper() and "=" not in base:
                found.append(base)
    return found


def _line_offset(text: str, line: int) -> int:
    offset = 0
    for _ in range(line):
        found = text.find("\n", offset)
        if found < 0:
            return len(text)
        offset = found + 1
    return offset


def _visible(snippet: Snippet, path: str, window: tuple[int, int]) -> bool:
    return snippet.path == path and window[0] <= snippet.line <= window[1]


def _render_definition(d: Definition, brief: bool = False) -> str:
    """Signature (on one line: the same tokens for less) and doc, written as the definition's
    language would."""
    signature = _brief(d.signature)
    doc = d.doc.strip()
    if doc:
        paragraph = doc.split("\n\n", 1)[0].strip().split("\n")
        doc = "\n".join(line.strip() for line in paragraph[: 1 if brief else 4])
    if not doc:
        return signature
    python = d.language == "python" or d.path.endswith((".py", ".pyi"))
    if python:
        indent = " " * (len(signature) - len(signature.lstrip()) + 4)
        body = doc.replace("\n", "\n" + indent)
        return f'{signature}\n{indent}"""{body}"""'
    comment = line_comment(d.language or language_name_for_path(d.path))
    indent = signature[: len(signature) - len(signature.lstrip())]
    lines = "\n".join(f"{indent}{comment} {line}".rstrip() for line in doc.split("\n"))
    return f"{lines}\n{signature}"


def _fit_chunk(chunk: Chunk, budget: int, cost_of: Callable[[Snippet], int]) -> Snippet | None:
    lines = chunk.text.rstrip().split("\n")
    while lines:
        snippet = Snippet(CHUNK, chunk.path, chunk.start_line, "\n".join(lines))
        if cost_of(snippet) <= budget:
            return snippet
        if len(lines) <= 3:
            return None
        lines = lines[: len(lines) * 3 // 4]  # keep the head: the signature says the most
    return None


def _module_stems(module: str, path: str, language: str, crates: Mapping[str, str] | None = None) -> list[str]:
    """Repository path stems (no suffix) a module spec may name, relative to the importing file;
    `crates` maps a Rust workspace's crate names to their source directories."""
    module = module.strip().strip("\"'")
    if not module:
        return []
    here = posixpath.dirname(path)
    if language == "python":
        dots = len(module) - len(module.lstrip("."))
        rest = module[dots:].replace(".", "/")
        if dots:
            base = here
            for _ in range(dots - 1):
                base = posixpath.dirname(base)
            stem = posixpath.join(base, rest) if rest else base
            return [stem.strip("/")] if stem else []
        return [rest]
    if module.startswith("."):
        stem = posixpath.normpath(posixpath.join(here, module))
        root, ext = posixpath.splitext(stem)
        if ext in _SOURCE_SUFFIXES:  # `./settle.js` names the file settle.js
            stem = root
        return [] if stem.startswith("..") else [stem]
    if language == "java":  # `com.google.gson.internal`: a package is a directory
        return [module.replace(".", "/")]
    if language == "rust":  # `crate::cmd`, `super::frame`: paths below the crate's source root
        written = module.split("::")
        parts = [p for p in written if p not in {"crate", "self", "super", "*"}]
        stems = ["/".join(parts)] if parts else []
        crates = crates or {}
        source = crates.get(written[0])  # `use grep_searcher::sinks`: that crate's src/sinks
        if source is None and written[0] == "crate":
            owners = [d for d in crates.values() if path.startswith(d + "/") or d == ""]
            source = max(owners, key=len) if owners else None
        if source is not None:
            rest = [p for p in written[1:] if p not in {"self", "*"}]
            stems.insert(0, "/".join([source, *rest]).strip("/"))
        return list(dict.fromkeys(stems))
    # Package paths (Go import paths, crate paths): the repository holds them as a path suffix.
    return [module.replace("::", "/").replace("\\", "/")]


def _crate_name(manifest: Path) -> str | None:
    """The name Rust code imports a crate by, from its Cargo.toml (`grep-searcher` -> `grep_searcher`)."""
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    name = (data.get("lib") or {}).get("name") or (data.get("package") or {}).get("name")
    return name.replace("-", "_") if isinstance(name, str) else None


def _static_member(d: Definition, module: str, language: str) -> bool:
    """`import static pkg.Util.checkArgument`: a class's member imported by name."""
    return language == "java" and d.qualname == f"{module.rsplit('.', 1)[-1]}.{d.name}"


def _submodule(module: str, name: str) -> str:
    """`from pkg import name` / `from . import name`: the module `name` would be."""
    return f"{module}.{name}" if module.strip(".") else module + name


def _import_stems(
    imports: list[Import], path: str, language: str, crates: Mapping[str, str] | None = None
) -> list[str]:
    stems: list[str] = []
    for imp in imports:
        stems += _module_stems(imp.module, path, language, crates)
        if language == "python":  # `from pkg import module`
            for name in imp.names:
                stems += _module_stems(_submodule(imp.module, name), path, language)
    return list(dict.fromkeys(stems))


def _path_matches(path: str, stems: list[str], language: str) -> bool:
    """Whether a repository file belongs to one of the module stems: its file, its package
    `__init__`/`index`, or (Go, where a package is a directory) any file in its directory."""
    if not stems:
        return False
    root, _ext = posixpath.splitext(path)
    directory = posixpath.dirname(path)
    candidates = (root, directory) if language in _PACKAGE_DIRECTORY_LANGUAGES else (root,)
    for stem in stems:
        if not stem:
            continue
        for candidate in candidates:
            if candidate == stem or candidate.endswith("/" + stem):
                return True
        if root.endswith(("/__init__", "/index", "/mod", "/lib")) and (
            directory == stem or directory.endswith("/" + stem)
        ):
            return True
    return False


_SUFFIX_GUESSES = (".py", "/__init__.py", ".ts", ".tsx", ".js", "/index.ts", "/index.js", ".go", ".rs")
# The files a module of the importing file's language may be (a JavaScript file may import TypeScript's
# output and the reverse); a language not listed guesses every suffix.
_LANGUAGE_SUFFIXES = {
    "python": (".py", "/__init__.py"),
    "javascript": (".ts", ".tsx", ".js", "/index.ts", "/index.js"),
    "typescript": (".ts", ".tsx", ".js", "/index.ts", "/index.js"),
    "tsx": (".ts", ".tsx", ".js", "/index.ts", "/index.js"),
    "go": (".go",),
    "rust": (".rs", "/mod.rs", "/lib.rs"),
    "java": (),  # a package is a directory: found by the path rules, never as a file
    "c": (),
    "cpp": (),
}


def _candidate_files(stems: list[str], language: str = "") -> list[str]:
    out = []
    for stem in stems:
        for suffix in _LANGUAGE_SUFFIXES.get(language, _SUFFIX_GUESSES):
            out.append(stem + suffix)
            out.append("src/" + stem + suffix)
    return out


def _lines_before(text: str, line_start: int, limit: int):
    """Yield (start, line) for up to `limit` lines before the line starting at `line_start`."""
    end = line_start - 1
    for _ in range(max(0, limit)):
        if end < 0:
            return
        start = text.rfind("\n", 0, end) + 1
        yield start, text[start:end]
        end = start - 1

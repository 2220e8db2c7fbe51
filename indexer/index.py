"""`Index`: the facade the CLI and the server use — open, update incrementally, query.

An update compares each file's (size, mtime) with the store, hashes only files that differ, and
re-parses only those whose hash changed; files gone from disk are dropped. A large update parses in a
process pool (workers read, hash and extract; this process alone writes), a small one inline, since
starting workers costs more than parsing a handful of files.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_cache_dir

from indexer import files as fs
from indexer import kinds
from indexer.model import Chunk, Definition, Import, Reference
from indexer.store import FileState, FileWrite, IndexStore, prepare
from indexer.words import match_any, match_prefix, split_identifier

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]  # (files done, files to parse, path)

POOL_THRESHOLD = 48  # parse inline below this many files: a pool's start-up costs ~0.2 s
BATCH_FILES = 200  # files per write transaction: short enough that another writer gets its turn
POOL_CHUNK = 4  # files per task sent to a worker process
# In the last batch's worth of files, the writer stores what has arrived whenever it would otherwise
# wait for a worker (once it is this many files): so after the last parse only a few files remain to
# write, instead of a whole batch with one core idle. Not earlier: written 16 files a transaction, a
# full index costs the writer ~25-30% more CPU than 200 at a time (hugo, redis: more FTS segments, commits).
IDLE_FLUSH_FILES = 16
HASH_BYTES = 16
COMPACT_AFTER_FILES = 100  # an update this large also merges the FTS segments it left behind
MAX_SYMBOL_QUERY = 500  # characters: no one types a longer workspace-symbol query, and FTS would refuse it

# Kinds worth listing when nobody has typed anything yet.
_TOP_KINDS = (kinds.CLASS, kinds.INTERFACE, kinds.STRUCT, kinds.ENUM, kinds.FUNCTION, kinds.MODULE, kinds.NAMESPACE)
# Within one match quality, show types before functions before the rest.
_KIND_ORDER = {k: i for i, k in enumerate((kinds.CLASS, kinds.INTERFACE, kinds.STRUCT, kinds.ENUM, kinds.FUNCTION,
                                           kinds.METHOD, kinds.CONSTRUCTOR, kinds.MODULE, kinds.NAMESPACE))}


def default_index_path(root: Path) -> Path:
    """Where the index of `root` lives: the user cache dir, keyed by the resolved root (never inside it)."""
    root = Path(root).resolve()
    key = hashlib.blake2b(str(root).encode("utf-8", "surrogateescape"), digest_size=8).hexdigest()
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", root.name)[:40] or "root"
    return Path(user_cache_dir("kura")) / "indexes" / f"{name}-{key}.sqlite3"


@dataclass(slots=True)
class IndexReport:
    indexed: int = 0  # files parsed and stored
    unchanged: int = 0  # files whose size/mtime or content hash matched the store
    deleted: int = 0  # files dropped from the index
    skipped: Counter[str] = field(default_factory=Counter)  # per reason (files.py)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, message): kept their old entry
    syntax_errors: int = 0  # files indexed from tree-sitter's error recovery
    symbols: int = 0  # in the whole index after the update
    chunks: int = 0
    files: int = 0
    seconds: float = 0.0
    rebuilt_reason: str | None = None  # set when the index file was moved aside and rebuilt

    def to_dict(self) -> dict:
        return {
            "files_indexed": self.indexed, "files_unchanged": self.unchanged, "files_deleted": self.deleted,
            "skipped": dict(sorted(self.skipped.items())), "errors": [{"path": p, "error": e} for p, e in self.errors],
            "files_with_syntax_errors": self.syntax_errors, "files": self.files, "symbols": self.symbols,
            "chunks": self.chunks, "seconds": round(self.seconds, 3), "rebuilt_reason": self.rebuilt_reason,
        }


# --- the work one file needs: runs in pool workers, so module-level and picklable ----------------

@dataclass(slots=True)
class _Job:
    path: str
    known_hash: bytes | None
    max_file_bytes: int


@dataclass(slots=True)
class _Outcome:
    path: str
    write: FileWrite | None = None  # parsed: store it
    unchanged: tuple[int, int] | None = None  # same hash: just refresh (size, mtime_ns)
    skipped: str | None = None  # a files.py reason: drop it from the index
    error: str | None = None  # extraction failed: keep what the index had


def _process(root: str, job: _Job) -> _Outcome:
    from indexer.extract import extract_file
    from indexer.languages import language_for_path

    full = os.path.join(root, job.path)
    try:
        with open(full, "rb") as f:
            st = os.fstat(f.fileno())
            if st.st_size > job.max_file_bytes:
                return _Outcome(job.path, skipped=fs.TOO_LARGE)
            data = f.read(job.max_file_bytes + 1)
    except FileNotFoundError:
        return _Outcome(job.path, skipped=fs.VANISHED)
    except IsADirectoryError:
        return _Outcome(job.path, skipped=fs.NOT_A_FILE)
    except OSError:
        return _Outcome(job.path, skipped=fs.UNREADABLE)
    if len(data) > job.max_file_bytes:  # grew after the stat
        return _Outcome(job.path, skipped=fs.TOO_LARGE)
    digest = hashlib.blake2b(data, digest_size=HASH_BYTES).digest()
    if digest == job.known_hash:
        return _Outcome(job.path, unchanged=(len(data), st.st_mtime_ns))
    reason = fs.content_skip_reason(data)
    if reason:
        return _Outcome(job.path, skipped=reason)
    spec = language_for_path(job.path)
    if spec is None:
        return _Outcome(job.path, skipped=fs.NO_LANGUAGE)
    try:
        extract = extract_file(job.path, data, spec)
    except Exception as exc:  # a bug in extraction must not stop the whole index
        log.exception("extracting %s failed", job.path)
        return _Outcome(job.path, error=f"{type(exc).__name__}: {exc}")
    return _Outcome(job.path, write=prepare(job.path, digest, len(data), st.st_mtime_ns, extract))


def _process_chunk(root: str, jobs: list[_Job]) -> list[_Outcome]:
    return [_process(root, job) for job in jobs]


def _pooled(executor: ProcessPoolExecutor, root: str, jobs: list[_Job]) -> Iterator[_Outcome | None]:
    """Outcomes in job order, and None whenever the next one is not ready yet: the caller's turn to write."""
    futures = [executor.submit(_process_chunk, root, jobs[i:i + POOL_CHUNK]) for i in range(0, len(jobs), POOL_CHUNK)]
    for future in futures:
        if not future.done():
            yield None
        yield from future.result()


def _pool_context() -> multiprocessing.context.BaseContext:
    # fork is fastest, but forking a process that runs other threads (the watcher, the server) can
    # copy a held lock into the child; forkserver starts clean workers then.
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # Preloaded, the fork server imports the extraction code once and each worker forks from it
    # ready to parse, instead of importing tree-sitter and the grammars itself.
    context.set_forkserver_preload(["indexer.index", "indexer.extract"])
    return context


class Index:
    """A repository's index: `Index.open(root)`, `update()`, then the queries."""

    def __init__(self, root: Path, store: IndexStore, max_file_bytes: int = fs.MAX_FILE_BYTES, workers: int | None = None):
        self.root = Path(root).resolve()
        self.store = store
        self.max_file_bytes = max_file_bytes
        self.workers = workers or max(1, min(2, os.cpu_count() or 1))
        self._update_lock = threading.Lock()  # one update at a time per process (watcher vs didSave)
        self._pending_rebuilt_reason = store.rebuilt_reason

    @classmethod
    def open(cls, root: Path | str, index_path: Path | str | None = None, *, max_file_bytes: int = fs.MAX_FILE_BYTES,
             workers: int | None = None) -> Index:
        root = Path(root).resolve()
        if not root.is_dir():
            raise NotADirectoryError(f"not a directory: {root}")
        store = IndexStore.open(Path(index_path) if index_path else default_index_path(root))
        return cls(root, store, max_file_bytes, workers)

    @property
    def index_path(self) -> Path:
        return self.store.path

    @property
    def rebuilt_reason(self) -> str | None:
        return self.store.rebuilt_reason

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- updating ------------------------------------------------------------------------------

    def update(self, paths: Iterable[str | Path] | None = None, progress: Progress | None = None) -> IndexReport:
        """Bring the index up to date with the files on disk: all of them, or just `paths`."""
        with self._update_lock:
            started = time.perf_counter()
            report = IndexReport(rebuilt_reason=self._pending_rebuilt_reason)
            self._pending_rebuilt_reason = None
            if paths is None:
                known = self.store.file_states()
                found, deletes = self._plan_full(known, report)
            else:
                # Only the named files' states: an editor's save should not read the whole table.
                rels = sorted({r for r in (self._relative(p) for p in paths) if r})
                known = self.store.file_states(rels)
                found, deletes = self._plan_paths(rels, known, report)
            jobs = []
            for f in found:
                state = known.get(f.path)
                if state and state.size == f.size and state.mtime_ns == f.mtime_ns:
                    report.unchanged += 1
                else:
                    jobs.append(_Job(f.path, state.hash if state else None, self.max_file_bytes))
            self._run(jobs, deletes, known, report, progress)
            counts = self.store.counts()
            report.files, report.symbols, report.chunks = counts["files"], counts["symbols"], counts["chunks"]
            report.seconds = time.perf_counter() - started
            return report

    def _plan_full(self, known: dict[str, FileState], report: IndexReport) -> tuple[list[fs.FoundFile], list[str]]:
        discovery = fs.discover(self.root, self.max_file_bytes)
        report.skipped.update(discovery.skipped)
        present = {f.path for f in discovery.files}
        return discovery.files, [p for p in known if p not in present]

    def _plan_paths(self, rels: list[str], known: dict[str, FileState],
                    report: IndexReport) -> tuple[list[fs.FoundFile], list[str]]:
        ignored = fs.ignored_paths(self.root, [r for r in rels if r not in known]) if rels else set()
        found, deletes = [], []
        for rel in rels:
            if rel in ignored:
                report.skipped["ignored"] += 1
                continue
            outcome = fs.check_file(self.root, rel, self.max_file_bytes)
            if isinstance(outcome, fs.FoundFile):
                found.append(outcome)
                continue
            if outcome != fs.NO_LANGUAGE and outcome != fs.VANISHED:
                report.skipped[outcome] += 1
            if rel in known:  # deleted, or no longer indexable (grew, became binary)
                deletes.append(rel)
        return found, deletes

    def _relative(self, path: str | Path) -> str | None:
        p = Path(path)
        if not p.is_absolute():
            p = self.root / p
        # Normalise without resolving symlinks: the path as the user sees it is what we index.
        p = Path(os.path.normpath(p))
        try:
            rel = p.relative_to(self.root).as_posix()
        except ValueError:
            log.info("ignoring %s: outside %s", path, self.root)
            return None
        if rel == "." or rel.split("/", 1)[0] == ".git":
            return None
        return rel

    def _run(self, jobs: list[_Job], deletes: list[str], known: dict[str, FileState], report: IndexReport,
             progress: Progress | None) -> None:
        root = str(self.root)
        writes: list[FileWrite] = []
        touches: list[tuple[str, int, int]] = []
        drop: list[str] = []

        def flush(meta: dict[str, str] | None = None) -> None:
            self.store.write(writes, drop, touches, meta)
            writes.clear()
            touches.clear()
            drop.clear()

        # Deletes come from this update's snapshot of the store, so a file another writer added since
        # is never among them.
        drop.extend(deletes)
        report.deleted += len(drop)
        if len(jobs) >= POOL_THRESHOLD and self.workers > 1:
            executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=_pool_context())
            outcomes = _pooled(executor, root, jobs)
        else:
            executor = None
            outcomes = (_process(root, j) for j in jobs)
        done = 0
        try:
            for outcome in outcomes:
                if outcome is None:  # the workers are busy
                    if len(jobs) - done <= BATCH_FILES and len(writes) + len(touches) >= IDLE_FLUSH_FILES:
                        flush()
                    continue
                done += 1
                if outcome.write:
                    writes.append(outcome.write)
                    report.indexed += 1
                    report.syntax_errors += outcome.write.syntax_errors > 0
                elif outcome.unchanged:
                    touches.append((outcome.path, *outcome.unchanged))
                    report.unchanged += 1
                elif outcome.skipped:
                    if outcome.skipped != fs.NO_LANGUAGE:
                        report.skipped[outcome.skipped] += 1
                    if outcome.path in known:
                        drop.append(outcome.path)
                        report.deleted += 1
                elif outcome.error:
                    report.errors.append((outcome.path, outcome.error))
                if progress:
                    progress(done, len(jobs), outcome.path)
                if len(writes) + len(touches) >= BATCH_FILES:
                    flush()
        except BrokenProcessPool:
            # A worker died (a crash in a grammar, the OOM killer): keep what was parsed, name the rest.
            log.error("an indexing worker process died; %d files were not indexed", len(jobs) - done)
            report.errors.extend((job.path, "the worker process parsing it died") for job in jobs[done:])
        finally:
            if executor:
                executor.shutdown(wait=True, cancel_futures=True)
        flush(meta={"last_update": str(time.time()), "root": root})
        if report.indexed + report.deleted >= COMPACT_AFTER_FILES:
            self.store.compact()
            # A small update leaves its few pages to SQLite's automatic checkpoint: folding them in
            # now would cost a save more than its parsing does.
            self.store.checkpoint()

    # --- queries -------------------------------------------------------------------------------

    def definitions(self, name: str) -> list[Definition]:
        """Definitions named exactly `name`."""
        return self.store.definitions(name)

    def file_symbols(self, path: str) -> list[Definition]:
        """Definitions in one file, in source order."""
        return self.store.file_symbols(self._relative(path) or path)

    def imports(self, path: str) -> list[Import]:
        return self.store.imports(self._relative(path) or path)

    def search_symbols(self, query: str, limit: int = 50) -> list[Definition]:
        """Workspace-symbol search: exact, then prefix, then word-prefix, then subsequence matches.
        An empty query lists the most referenced top-level types and functions."""
        query = query.strip()
        if not query:
            return self._top_symbols(limit)
        if len(query) > MAX_SYMBOL_QUERY:  # no name is that long; FTS and LIKE patterns of it would not compile
            return []
        name_query = query.rsplit(".", 1)[-1] if "." in query else query
        container = query.rsplit(".", 1)[0].lower() if "." in query else ""
        # FTS returns matches in no useful order and we take a bounded pool of them, so exact
        # matches are fetched first: they must never be crowded out.
        candidates: dict[tuple, Definition] = {_key(d): d for d in self.store.definitions(name_query)}
        pool = max(limit * 40, 2000)
        fts = match_prefix(name_query)
        if fts:
            for d in self.store.symbols_matching(fts, pool):
                candidates[_key(d)] = d
        if len(candidates) < pool and name_query:
            # Subsequence (`gun` -> getUserName): LIKE '%g%u%n%' runs over names only.
            pattern = "%" + "%".join(_like_escape(c) for c in name_query) + "%"
            for d in self.store.symbols_like(pattern, pool):
                candidates.setdefault(_key(d), d)
        scored = []
        for d in candidates.values():
            score = _match_score(name_query, d.name)
            if score is None:
                continue
            if container and container not in d.qualname.lower():
                continue
            scored.append((score, _KIND_ORDER.get(d.kind, 99), len(d.name), d.qualname.count("."), d.path, d.range.start_line, d))
        scored.sort(key=lambda t: t[:6])
        return [t[-1] for t in scored[:limit]]

    def _top_symbols(self, limit: int) -> list[Definition]:
        # The code base's vocabulary: types and functions many files mention, defined once (a name
        # like `register` or `run` defined in five places is a convention, not a landmark), outside
        # tests. Each name once.
        rows = self.store.top_symbols(max(limit * 20, 200), _TOP_KINDS)
        rows.sort(key=lambda r: (_is_test_path(r.definition.path), r.namesakes > 1, -r.references))
        seen: dict[str, Definition] = {}
        for row in rows:
            seen.setdefault(row.definition.name, row.definition)
        return list(seen.values())[:limit]

    def references(self, name: str) -> list[Reference]:
        """Every occurrence of identifier `name`. The postings say which files; each is re-read and
        re-scanned now, so positions are those of the current contents. Files edited since they were
        indexed (their postings may be stale) are scanned too, so an edit the index has not seen yet
        neither hides nor invents a reference."""
        from indexer.extract import identifier_occurrences
        from indexer.languages import language_for_path

        candidates = set(self.store.posting_paths(name))
        for path, state in self.store.file_states().items():
            if path not in candidates:
                try:
                    st = os.stat(self.root / path)
                except OSError:
                    continue
                if (st.st_size, st.st_mtime_ns) != (state.size, state.mtime_ns):
                    candidates.add(path)
        wanted = name.encode("utf-8")
        out: list[Reference] = []
        for path in sorted(candidates):
            spec = language_for_path(path)
            if spec is None:
                continue
            try:
                source = (self.root / path).read_bytes()
            except OSError:  # vanished or unreadable since indexing: no occurrences to show
                continue
            if wanted in source:  # a byte search first: parsing is the expensive part
                out.extend(identifier_occurrences(path, source, spec, name))
        out.sort(key=lambda r: (r.path, r.range.start_line, r.range.start_col))
        return out

    def search_chunks(self, text: str, limit: int = 10) -> list[tuple[Chunk, float]]:
        """Chunks ranked by BM25 over code-aware words (higher score is better)."""
        fts = match_any(text)
        if not fts:
            return []
        return self.store.search_chunks(fts, limit)

    def indexed_paths(self, prefix: str = "") -> list[str]:
        """Repository-relative paths of the indexed files, optionally only those under `prefix`."""
        return self.store.paths(prefix)

    def stats(self) -> dict:
        counts = self.store.counts()
        last = self.store.meta("last_update")
        return {
            "root": str(self.root),
            "index_path": str(self.store.path),
            **counts,
            "last_update": float(last) if last else None,
            "index_bytes": self.store.size_bytes(),
            "languages": [{"language": lang, "files": f, "symbols": s} for lang, f, s in self.store.languages()],
        }


_TEST_DIRS = frozenset({"test", "tests", "testing", "spec", "specs", "__tests__", "fixtures", "examples", "e2e",
                        "benchmarks"})


def _is_test_path(path: str) -> bool:
    *dirs, name = path.split("/")
    if any(d in _TEST_DIRS for d in dirs):
        return True
    stem = name.rsplit(".", 1)[0]
    return stem.startswith("test_") or stem.endswith(("_test", ".test", ".spec")) or stem == "conftest"


def _key(d: Definition) -> tuple:
    return (d.path, d.range.start_line, d.range.start_col, d.name)


def _like_escape(c: str) -> str:
    return "\\" + c if c in "%_\\" else c


def _match_score(query: str, name: str) -> int | None:
    """Lower is better: 0 exact, 1 exact ignoring case, 2 prefix, 3 prefix ignoring case, 4 the query's
    words start the name's words, 5 substring, 6 subsequence; None when it does not match. A query
    in lower case ignores case throughout ("smart case", as editors do)."""
    lname, lquery = name.lower(), query.lower()
    exact_case = query != lquery
    if name == query or (not exact_case and lname == lquery):
        return 0
    if lname == lquery:
        return 1
    if name.startswith(query) or (not exact_case and lname.startswith(lquery)):
        return 2
    if lname.startswith(lquery):
        return 3
    qparts, nparts = split_identifier(query), split_identifier(name)
    if qparts and _words_match(qparts, nparts):
        return 4
    if lquery.replace("_", "") in lname.replace("_", ""):
        return 5
    it = iter(lname)
    if all(c in it for c in lquery):
        return 6
    return None


def _words_match(qparts: tuple[str, ...], nparts: tuple[str, ...]) -> bool:
    """Each query word is a prefix of a name word, in order (`usr_nam` ~ getUserName is not; `user_na` is)."""
    i = 0
    for q in qparts:
        while i < len(nparts) and not nparts[i].startswith(q):
            i += 1
        if i == len(nparts):
            return False
        i += 1
    return True

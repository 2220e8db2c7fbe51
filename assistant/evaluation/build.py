"""`build_set`: the company's indexed repository → the next version of its evaluation set.

The previous version's tasks are carried forward while their file exists, is not confidential and
still holds the expected text at the same place (prefix and suffix are refreshed from the file as it
is now); then `n` new tasks are drawn with a fixed seed, spread over the three kinds, the languages
and the files; then the explanation prompts in `prompts/*.toml`. Confidential paths (the policy's
globs) never give a task.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import subprocess
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from assistant.evaluation import EvalError
from assistant.evaluation.prompts import load_prompts
from assistant.evaluation.store import EvalSet, EvalStore
from assistant.evaluation.tasks import (BODY, COMPLETION_KINDS, LINE, SPAN, CompletionTask, FileText, body_candidates,
                                        is_code_line, line_candidates, span_candidates, span_cuts)

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_TASKS = 50
DEFAULT_SEED = 1
MAX_READ_BYTES = 1 << 20


# --- the policy's confidential paths ------------------------------------------------------------------


@dataclass(frozen=True)
class Confidentiality:
    """Which paths must never give a task: the effective policy's confidential globs."""

    globs: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # the policy files they came from
    _policy: Any = None

    def glob_for(self, path: str) -> str | None:
        if self._policy is None or not self.globs:
            return None
        from assistant.escalation.policy.paths import confidential_glob

        return confidential_glob(self._policy, path)


def load_confidentiality(root: Path, env: dict[str, str] | None = None) -> Confidentiality:
    """The repository's confidential globs. No policy file at all means none; a policy file that
    exists but is broken stops the build (EvalError naming file, line and problem): ignoring it
    could copy confidential code into a set."""
    from assistant.escalation.policy.load import REPO_POLICY_RELPATH, load_policy, load_policy_file, org_policy_path

    repo_file = Path(root) / REPO_POLICY_RELPATH
    org_file, org_named = org_policy_path(env)
    org_exists = org_file.exists()
    if not repo_file.exists() and not org_named and not org_exists:
        return Confidentiality()
    if repo_file.exists():
        policy = load_policy(root, env=env)
    else:  # only the organisation's policy applies
        policy = load_policy_file(org_file, "org")
    if policy.errors:
        problems = "; ".join(str(e) for e in policy.errors)
        raise EvalError(f"the policy is invalid, so confidential paths cannot be respected: {problems} "
                        "(fix it, then check with `kura policy check`)")
    return Confidentiality(tuple(g for g in policy.confidential if not g.startswith("!")),
                           tuple(s.path for s in policy.sources), policy)


# --- building ---------------------------------------------------------------------------------------


@dataclass
class BuildResult:
    set: EvalSet
    carried: int
    new: int
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> previous tasks not carried
    checklist_created: bool = False
    index_files: int = 0
    confidential_files: int = 0


def git_head(root: Path) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "--verify", "-q", "HEAD"], capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def build_set(root: Path, store: EvalStore, *, n: int = DEFAULT_TASKS, seed: int = DEFAULT_SEED,
              index_path: str | Path | None = None, env: dict[str, str] | None = None,
              progress: Callable[[str], None] | None = None) -> BuildResult:
    """Build and write the next set version. Raises EvalError on bad input (a broken policy or
    prompt file, a repository with nothing to build tasks from)."""
    from indexer.index import Index

    root = Path(root).resolve()
    say = progress or (lambda message: None)
    if n < 0:
        raise EvalError(f"--n must be 0 or more, got {n}")
    confidentiality = load_confidentiality(root, env)
    commit = git_head(root)
    say(f"indexing {root}")
    try:
        index = Index.open(root, index_path)
    except (OSError, ValueError) as exc:
        raise EvalError(f"cannot open the index of {root}: {exc}") from exc
    try:
        report = index.update()
        paths = index.indexed_paths()
        if not paths:
            skipped = ", ".join(f"{k}: {v}" for k, v in sorted(report.skipped.items())) or "none"
            raise EvalError(f"no tasks could be built: {root} has no indexable source files "
                            f"(kura parses {_language_names()}; files skipped: {skipped})")
        allowed = [p for p in paths if confidentiality.glob_for(p) is None]
        hidden = len(paths) - len(allowed)
        previous = store.load_set(store.latest()) if store.latest() else None
        carried, dropped = (_carry_forward(previous, root, confidentiality, commit, index.file_symbols)
                            if previous else ([], {}))
        say(f"choosing {n} new tasks from {len(allowed)} files (seed {seed})")
        fresh = choose_tasks(root, allowed, lambda p: index.file_symbols(p), n=n, seed=seed,
                             exclude={t.id for t in carried}, commit=commit)
    finally:
        index.close()
    explains = load_prompts(store.prompts_dir, root, confidential=confidentiality.glob_for, commit=commit)
    old_explains = {t.id: t for t in previous.explains} if previous else {}
    explains = [replace(t, added_in=old_explains[t.id].added_in) if t.id in old_explains else t for t in explains]
    if not carried and not fresh and not explains:
        reason = (f"all {len(paths)} indexed files are confidential under the policy ({', '.join(confidentiality.sources)})"
                  if not allowed else f"no line, span or function body in the {len(allowed)} indexed files qualifies")
        raise EvalError(f"no tasks could be built: {reason}")
    tasks = interleave(carried + fresh)
    manifest = {
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "repo": str(root), "commit": commit, "seed": seed, "n": n,
        "previous": previous.version if previous else None,
        "carried": len(carried), "new": len(fresh), "dropped": dropped,
        "tasks": len(tasks), "explanations": len(explains),
        "counts": {
            "kind": dict(sorted(Counter(t.kind for t in tasks).items())),
            "language": dict(sorted(Counter(t.language for t in tasks).items())),
            "kind_language": {k: dict(sorted(Counter(t.language for t in tasks if t.kind == k).items()))
                              for k in COMPLETION_KINDS},
        },
        "policy": {"sources": list(confidentiality.sources), "confidential_globs": len(confidentiality.globs),
                   "confidential_files_excluded": hidden},
        "index": {"files": len(paths)},
    }
    written = store.write_set(manifest, [*tasks, *explains])
    created = _ensure_checklist(store)
    return BuildResult(written, len(carried), len(fresh), dropped, created, len(paths), hidden)


def _language_names() -> str:
    from indexer.languages import LANGUAGES

    return ", ".join(sorted({spec.name for spec in LANGUAGES}))


def _ensure_checklist(store: EvalStore) -> bool:
    from assistant.evaluation.checklist import STARTER_CHECKLIST

    if store.checklist_path.exists():
        return False
    store.directory.mkdir(parents=True, exist_ok=True)
    try:
        with open(store.checklist_path, "x", encoding="utf-8") as f:
            f.write(STARTER_CHECKLIST)
    except FileExistsError:
        return False
    return True


def _carry_forward(previous: EvalSet, root: Path, confidentiality: Confidentiality, commit: str | None,
                   symbols: Callable[[str], list]) -> tuple[list[CompletionTask], dict[str, int]]:
    """The previous version's tasks that would still be cut, at the same place with the same text,
    from the files as they are now; prefix and suffix are refreshed from them."""
    kept: list[CompletionTask] = []
    dropped: Counter[str] = Counter()
    files: dict[str, FileText | None] = {}
    valid: dict[tuple[str, str], set[str]] = {}
    for task in previous.tasks:
        if confidentiality.glob_for(task.path) is not None:
            dropped["confidential"] += 1
            continue
        if task.path not in files:
            text = _read(root / task.path)
            files[task.path] = FileText.parse(task.path, text) if text is not None else None
        ft = files[task.path]
        if ft is None:
            dropped["file gone"] += 1
            continue
        key = (task.path, task.kind)
        if key not in valid:
            valid[key] = _valid_ids(ft, task.kind, symbols)
        if task.id not in valid[key]:
            dropped["text changed"] += 1
            continue
        start, end = ft.offset(task.start_line, task.start_col), ft.offset(task.end_line, task.end_col)
        kept.append(replace(task, prefix=ft.text[:start], suffix=ft.text[end:], commit=commit,
                            added_in=task.added_in or previous.version))
    return kept, dict(sorted(dropped.items()))


def _valid_ids(ft: FileText, kind: str, symbols: Callable[[str], list]) -> set[str]:
    """Ids of every task of `kind` the file gives today (spans: every cut point, not only the drawn one)."""
    if kind == LINE:
        return {t.id for t in line_candidates(ft)}
    if kind == BODY:
        try:
            definitions = symbols(ft.path)
        except Exception:
            log.warning("symbols of %s unavailable", ft.path, exc_info=True)
            definitions = []
        return {t.id for t in body_candidates(ft, definitions)}
    out = set()
    for row, line in enumerate(ft.lines):
        if row not in ft.masked and is_code_line(line, ft.language):
            out.update(ft.make(SPAN, row, a, row, b).id for a, b in span_cuts(line, ft.language))
    return out


def _read(path: Path) -> str | None:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_READ_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_READ_BYTES or b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", "replace")


def choose_tasks(root: Path, paths: Sequence[str], symbols: Callable[[str], list], *, n: int, seed: int,
                 exclude: set[str] = frozenset(), commit: str | None = None) -> list[CompletionTask]:
    """`n` tasks drawn with `seed`: round-robin over kinds, then languages, then files, so that a
    small set still covers every kind and language. Only a sample of each language's files is read,
    so a large repository costs about as much as a small one."""
    if n <= 0:
        return []
    from indexer.languages import language_for_path

    rng = random.Random(seed)
    by_language: dict[str, list[str]] = defaultdict(list)
    for path in sorted(paths):
        spec = language_for_path(path)
        if spec is not None:
            by_language[spec.name].append(path)
    files_per_language = max(12, 2 * n)
    buckets: dict[tuple[str, str], list[list[CompletionTask]]] = defaultdict(list)  # per file, in file order
    for language in sorted(by_language):
        files = by_language[language]
        rng.shuffle(files)
        for path in files[:files_per_language]:
            text = _read(Path(root) / path)
            if text is None:
                continue
            ft = FileText.parse(path, text)
            if ft is None:
                continue
            file_rng = random.Random(f"{seed}:{path}")  # a file's picks depend on it alone
            try:
                definitions = symbols(path)
            except Exception:  # the index being rebuilt must not cost the whole build
                log.warning("symbols of %s unavailable", path, exc_info=True)
                definitions = []
            for kind, found in ((LINE, line_candidates(ft, commit)), (SPAN, span_candidates(ft, file_rng, commit)),
                                (BODY, body_candidates(ft, definitions, commit))):
                found = [t for t in found if t.id not in exclude]
                file_rng.shuffle(found)
                if found:
                    buckets[(kind, language)].append(found)
    queues = {key: deque(_round_robin(per_file)) for key, per_file in buckets.items()}
    languages = sorted({language for _kind, language in queues})
    kinds = [k for k in COMPLETION_KINDS if any(kind == k for kind, _l in queues)]
    turn = dict.fromkeys(kinds, 0)
    chosen: list[CompletionTask] = []
    seen: set[str] = set()
    while len(chosen) < n:
        took = False
        for kind in kinds:
            for _ in range(len(languages)):  # this kind's next language that still has a task
                if len(chosen) >= n:
                    break
                queue = queues.get((kind, languages[turn[kind] % len(languages)]))
                turn[kind] += 1
                while queue and queue[0].id in seen:  # a one-line body can equal a line task
                    queue.popleft()
                if queue:
                    task = queue.popleft()
                    seen.add(task.id)
                    chosen.append(task)
                    took = True
                    break
        if not took:
            break
    return chosen


def _round_robin(groups: Iterable[list[T]]) -> list[T]:
    """One from each group in turn: [[a1, a2], [b1]] → [a1, b1, a2]."""
    lists = [list(g) for g in groups]
    out: list[T] = []
    i = 0
    while any(lists):
        for group in lists:
            if i < len(group):
                out.append(group[i])
        i += 1
        if all(i >= len(g) for g in lists):
            break
    return out


def interleave(tasks: list[CompletionTask]) -> list[CompletionTask]:
    """The set's order: kinds in turn, languages in turn within a kind, so `--limit N` stays spread."""
    per_kind = []
    for kind in COMPLETION_KINDS:
        by_language: dict[str, list[CompletionTask]] = defaultdict(list)
        for task in tasks:
            if task.kind == kind:
                by_language[task.language].append(task)
        per_kind.append(_round_robin(by_language[lang] for lang in sorted(by_language)))
    return _round_robin(per_kind)

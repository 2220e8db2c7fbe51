"""Which repository paths are confidential and which may escalate (gitignore-style globs).

Paths are repository-relative POSIX strings. Anything that is not one (absolute, escaping the
root with `..`, empty) is treated as confidential: when in doubt, nothing leaves.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from functools import lru_cache

import pathspec

from assistant.escalation.policy.model import Policy


@dataclass(frozen=True)
class PathVerdict:
    path: str
    confidential: bool
    allowed: bool
    reason: str

    @property
    def may_leave(self) -> bool:
        return self.allowed and not self.confidential


def normalize(path: str | None) -> str | None:
    """A clean repo-relative POSIX path, or None when the path cannot be trusted."""
    if not path:
        return None
    path = path.replace("\\", "/")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        return None
    clean = posixpath.normpath(path)
    if clean in (".", "") or clean == ".." or clean.startswith("../"):
        return None
    return clean


@lru_cache(maxsize=64)
def _spec(globs: tuple[str, ...]) -> list[tuple[str, pathspec.PathSpec]]:
    return [(glob, pathspec.GitIgnoreSpec.from_lines([glob])) for glob in globs]


def _matching_glob(globs: tuple[str, ...], path: str) -> str | None:
    """The glob deciding `path` (gitignore semantics: last match wins, `!` negates), or None."""
    decided = None
    for glob, spec in _spec(globs):
        candidates = (path, path.lower())
        if glob.startswith("!"):
            if decided and any(pathspec.GitIgnoreSpec.from_lines([glob[1:]]).match_file(c) for c in candidates):
                decided = None
        elif any(spec.match_file(c) for c in candidates):
            decided = glob
    return decided


def confidential_glob(policy: Policy, path: str) -> str | None:
    """The confidential glob matching `path`; negations cannot un-confidential a file (stricter)."""
    for glob in policy.confidential:
        if glob.startswith("!"):
            continue
        spec = _spec((glob,))[0][1]
        if spec.match_file(path) or spec.match_file(path.lower()):
            return glob
    return None


def classify(policy: Policy, path: str | None) -> PathVerdict:
    """Whether content of `path` may leave under `policy`, and why."""
    clean = normalize(path)
    if clean is None:
        return PathVerdict(str(path), True, False, "no trustworthy repository-relative path")
    glob = confidential_glob(policy, clean)
    if glob is not None:
        return PathVerdict(clean, True, False, f"confidential: matches {glob!r}")
    for layer in policy.allow:
        if _matching_glob(layer, clean) is None:
            if not layer:
                return PathVerdict(clean, False, False, "not allowed: the allow-list is empty")
            return PathVerdict(clean, False, False, "not allowed: no allow-list glob matches")
    globs = [_matching_glob(layer, clean) for layer in policy.allow]
    return PathVerdict(clean, False, True, "allowed by " + ", ".join(repr(g) for g in globs))

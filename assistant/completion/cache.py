"""Answers without the model: the typed-through cache (the user types what the suggestion shows) and
a small LRU of recent (prefix, suffix) → completion.

Pure data structures with a lock, so that the event loop and a worker thread may both use them.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

TYPED_THROUGH = "typed_through"
RECENT = "recent"


@dataclass(frozen=True, slots=True)
class CacheHit:
    text: str  # the completion to show at the new cursor ("" = known to be empty)
    source: str  # TYPED_THROUGH or RECENT


@dataclass(frozen=True, slots=True)
class _Anchor:
    prefix: str  # document text before the cursor when the suggestion was made
    suffix: str  # document text after the cursor then
    suggestion: str


def _key(prefix: str, suffix: str) -> bytes:
    digest = hashlib.blake2b(digest_size=16)
    digest.update(len(prefix).to_bytes(8, "little"))
    digest.update(prefix.encode("utf-8", "surrogatepass"))
    digest.update(suffix.encode("utf-8", "surrogatepass"))
    return digest.digest()


class CompletionCache:
    """Per document, the last suggestion and where it was anchored; plus recent completions.

    `lookup` answers a request when its prefix is the anchor's prefix plus characters that begin the
    suggestion (and the suffix is unchanged): the rest of the suggestion is the answer. Any other
    state of the document drops the anchor.
    """

    def __init__(self, max_recent: int = 64) -> None:
        self._lock = threading.Lock()
        self._anchors: dict[str, _Anchor] = {}
        self._recent: OrderedDict[bytes, str] = OrderedDict()
        self._max_recent = max_recent

    def lookup(self, document: str, prefix: str, suffix: str) -> CacheHit | None:
        """The completion for the document state (prefix, suffix), if known without the model."""
        with self._lock:
            anchor = self._anchors.get(document)
            if anchor is not None:
                remaining = _typed_through(anchor, prefix, suffix)
                if remaining:
                    return CacheHit(remaining, TYPED_THROUGH)
                # Typed all of it (an accept by typing), or something else: the anchor is stale.
                del self._anchors[document]
            key = _key(prefix, suffix)
            text = self._recent.get(key)
            if text is None:
                return None
            self._recent.move_to_end(key)
            return CacheHit(text, RECENT)

    def store(self, document: str, prefix: str, suffix: str, completion: str) -> None:
        """Remember the completion shown for the document state (prefix, suffix)."""
        with self._lock:
            if completion:
                self._anchors[document] = _Anchor(prefix, suffix, completion)
            else:
                self._anchors.pop(document, None)
            key = _key(prefix, suffix)
            self._recent[key] = completion
            self._recent.move_to_end(key)
            while len(self._recent) > self._max_recent:
                self._recent.popitem(last=False)

    def grow(self, document: str, prefix: str, suffix: str, shown: str, longer: str) -> bool:
        """Replace the suggestion shown for (prefix, suffix) with a longer one that begins with it,
        if it is still the document's suggestion (typing through it keeps it so; anything else the
        user did since does not). True when replaced."""
        if not longer.startswith(shown) or len(longer) <= len(shown):
            return False
        with self._lock:
            anchor = self._anchors.get(document)
            if shown and anchor != _Anchor(prefix, suffix, shown):
                return False
            if not shown and anchor is not None:
                return False  # the empty answer left no anchor; a newer suggestion did
            self._anchors[document] = _Anchor(prefix, suffix, longer)
            key = _key(prefix, suffix)
            self._recent[key] = longer
            self._recent.move_to_end(key)
            return True

    def accepted(self, document: str) -> tuple[str, str, str] | None:
        """The user accepted the suggestion: it is in the document now, so the anchor is done.
        Returns what was accepted where, (prefix, suggestion, suffix), if the document had one."""
        with self._lock:
            anchor = self._anchors.pop(document, None)
        return (anchor.prefix, anchor.suggestion, anchor.suffix) if anchor is not None else None

    def invalidate(self, document: str) -> None:
        """Forget the document's suggestion (an edit elsewhere, the document closed)."""
        with self._lock:
            self._anchors.pop(document, None)

    def clear(self) -> None:
        with self._lock:
            self._anchors.clear()
            self._recent.clear()


def _typed_through(anchor: _Anchor, prefix: str, suffix: str) -> str:
    """The rest of the suggestion once the user has typed its beginning; "" when that is not what
    happened."""
    if suffix != anchor.suffix or len(prefix) < len(anchor.prefix):
        return ""
    if not prefix.startswith(anchor.prefix):
        return ""
    typed = prefix[len(anchor.prefix) :]
    if not anchor.suggestion.startswith(typed):
        return ""
    return anchor.suggestion[len(typed) :]

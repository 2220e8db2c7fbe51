"""Put the originals back into the cloud's answer, whole or streamed chunk by chunk.

Matching is exact and escaped: only placeholders present in this request's mapping are replaced,
and `KURA_HOST_1` never matches inside `KURA_HOST_12`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

# The longest suffix of a buffer that could still grow into a placeholder (digits may continue).
_PARTIAL = re.compile(r"K(?:U(?:R(?:A(?:_(?:[A-Z]+(?:_\d*)?)?)?)?)?)?$")


class Restorer:
    """Restores placeholders from one mapping; `feed`/`flush` for streams, `restore` for whole text."""

    def __init__(self, mapping: Mapping[str, str]) -> None:
        self.mapping = dict(mapping)
        names = sorted(self.mapping, key=len, reverse=True)
        self._regex = re.compile("(?:" + "|".join(re.escape(n) for n in names) + r")(?!\d)") if names else None
        self._buffer = ""

    def restore(self, text: str) -> str:
        if self._regex is None:
            return text
        return self._regex.sub(lambda m: self.mapping[m.group(0)], text)

    def feed(self, chunk: str) -> str:
        """Restored text that is final; a possible placeholder prefix at the end is held back."""
        self._buffer += chunk
        if self._regex is None:
            out, self._buffer = self._buffer, ""
            return out
        partial = _PARTIAL.search(self._buffer)
        cut = partial.start() if partial else len(self._buffer)
        out, self._buffer = self._buffer[:cut], self._buffer[cut:]
        return self.restore(out)

    def flush(self) -> str:
        out, self._buffer = self._buffer, ""
        return self.restore(out)


def restore(text: str, mapping: Mapping[str, str]) -> str:
    return Restorer(mapping).restore(text)


def restore_stream(chunks: Iterable[str], mapping: Mapping[str, str]) -> Iterator[str]:
    restorer = Restorer(mapping)
    for chunk in chunks:
        out = restorer.feed(chunk)
        if out:
            yield out
    tail = restorer.flush()
    if tail:
        yield tail

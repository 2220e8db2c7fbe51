"""`PrefillTracker`: what a local model has already read (its KV cache holds the last prompt) and
how fast it reads new prompt tokens, so that a caller can tell before sending a prompt how long the
model will take to read it. The first suggestion at a new place hangs on exactly that.

Updated by the model's worker thread around every generation; read from the event loop (each field
is replaced whole, never mutated).
"""

from __future__ import annotations

from assistant.models.base import CANCELLED, GenerationResult

MIN_MEASURED_TOKENS = 32  # fewer are timed too coarsely to go by
SMOOTHING = 0.3  # weight of the newest measurement: the machine's load changes, one outlier should not


class PrefillTracker:
    def __init__(self) -> None:
        self.held = ""  # a prefix of what the KV cache holds, as prompt text ("" when unknown)
        self.tokens_per_s: float | None = None  # None until a generation has measured it

    def reading(self, prompt: str | None) -> None:
        """A generation starts on `prompt`: from here on the cache surely holds only what it shares
        with the last one (a cancelled or failed read leaves an unknown part of the rest)."""
        self.held = self.held[: common_prefix_length(self.held, prompt or "")]

    def read(self, prompt: str | None, result: GenerationResult) -> None:
        """A generation on `prompt` ended with `result`."""
        if prompt and result.stop_reason != CANCELLED:
            self.held = prompt
        if result.read_tokens >= MIN_MEASURED_TOKENS and result.read_ms > 0:
            rate = result.read_tokens / (result.read_ms / 1000)
            self.tokens_per_s = rate if self.tokens_per_s is None else (
                SMOOTHING * rate + (1 - SMOOTHING) * self.tokens_per_s)

    def unread(self, prompt: str) -> str:
        """The part of `prompt` the model would have to read (evaluate) before its first token."""
        return prompt[common_prefix_length(self.held, prompt):]


def common_prefix_length(a: str, b: str) -> int:
    """Length of the longest common prefix; slices compare in C, so a binary search beats a loop."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low

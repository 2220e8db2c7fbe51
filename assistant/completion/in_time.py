"""A first suggestion in time. At a new place in the code the local model has read almost nothing of
the prompt (its KV cache holds another place's), and reading ~1 400 tokens of repository context and
window takes 9-15 s on a 2-core laptop: longer than anyone waits at the start of a line. Then the
suggestion is made from the lines around the cursor alone, as many as the model reads in
READ_BUDGET_S; the repository context comes with a later request, once the model has read it (the
editors have it read, a warm-up, while the cursor rests)."""

from __future__ import annotations

from dataclasses import replace

from assistant.context.builder import CompletionContext

# The prompt's unread part must be readable in this long: with the typing clock's first line
# (SINGLE_LINE_DECODE_MS) the suggestion then shows within the 1.5 s.
READ_BUDGET_S = 1.0
MIN_WINDOW_TOKENS = 48  # below this a suggestion has too little to go on: read the whole prompt


def tokens_in_time(tokens_per_s: float) -> int:
    return int(tokens_per_s * READ_BUDGET_S)


def window_only(context: CompletionContext, tokens: int, suffix_share: float) -> CompletionContext:
    """`context` without its repository snippets, its window cut to about `tokens`: the lines
    nearest the cursor, `suffix_share` of them below it. Token counts are scaled from the window's
    own characters per token (no model call)."""
    window_chars = len(context.prefix) + len(context.suffix)
    window_tokens = context.prefix_tokens + context.suffix_tokens
    chars_per_token = window_chars / window_tokens if window_tokens and window_chars else 4.0
    suffix_chars = int(tokens * suffix_share * chars_per_token) if context.suffix else 0
    prefix_chars = int(tokens * chars_per_token) - min(suffix_chars, len(context.suffix))
    prefix = _last_lines(context.prefix, prefix_chars)
    suffix = _first_lines(context.suffix, suffix_chars)
    return replace(
        context, prefix=prefix, suffix=suffix, snippets=(), snippet_tokens=0,
        window_start_line=context.window_start_line + context.prefix.count("\n") - prefix.count("\n"),
        window_end_line=context.window_end_line - context.suffix.count("\n") + suffix.count("\n"),
        prefix_tokens=round(len(prefix) / chars_per_token), suffix_tokens=round(len(suffix) / chars_per_token),
    )


def _last_lines(text: str, chars: int) -> str:
    """The whole lines at the end of `text` within `chars`; the last (the cursor's) always."""
    start = text.rfind("\n") + 1
    while start > 0:
        previous = text.rfind("\n", 0, start - 1) + 1
        if len(text) - previous > chars:
            break
        start = previous
    return text[start:]


def _first_lines(text: str, chars: int) -> str:
    """The whole lines at the start of `text` within `chars`; the first (the cursor's) always."""
    end = text.find("\n") + 1
    if end == 0:
        return text
    while end < len(text):
        following = text.find("\n", end)
        following = len(text) if following < 0 else following + 1
        if following > chars:
            break
        end = following
    return text[:end]

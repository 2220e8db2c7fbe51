"""A suggestion in time at a new place. There the local model has read almost nothing of the prompt
(its KV cache holds another place's), and reading ~1 400 tokens of repository context and window
takes 9-15 s on a 2-core laptop: longer than anyone waits at the start of a line. So the first
request on a line cuts the prompt to what the model reads in the time left of FIRST_SUGGESTION_S
once its context is built and the typing clock's first line is set aside: the repository snippets
it has read already (they cost nothing), more of them in their order (the last one cut after a line)
while they take at most half of that time, and the lines around the cursor in the rest. The cut is
kept while the user types on that line, so each keystroke reads only what it changed; the next
line's first request reads a few snippets more. The whole prompt comes back once the model has read
it: a warm-up at a resting cursor does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from assistant.context.builder import CompletionContext, Snippet

# A suggestion at a new place shows within this long (the target). Building the context
# takes 0.1-0.3 s of it on a busy laptop, so the reading gets what is left, not a fixed share.
FIRST_SUGGESTION_S = 1.5
FIRST_TOKEN_S = 0.1  # planning the cut and the first token after the prompt is read (270M model, 1 thread)
SNIPPETS_SHARE = 0.5  # of that time, what snippets not read yet may take; the window gets the rest
MIN_WINDOW_TOKENS = 48  # below this a suggestion has too little to go on: read the whole prompt
_WINDOW_MARK = "\x00kura-window\x00"


def reading_time(decode_s: float) -> float:
    """How long a request may read its prompt, counted from its arrival, so that its suggestion,
    `decode_s` of tokens after the first, shows within FIRST_SUGGESTION_S."""
    return FIRST_SUGGESTION_S - decode_s - FIRST_TOKEN_S


def tokens_in_time(tokens_per_s: float, seconds: float) -> int:
    return int(tokens_per_s * max(0.0, seconds))


@dataclass(frozen=True)
class Cut:
    """How a line's first request cut its context; the line's later requests cut theirs alike."""

    snippets: tuple[Snippet, ...]
    lines_above: int  # whole lines kept above the cursor's line
    lines_below: int  # whole lines kept below it
    snippet_share: float  # of the whole context's snippet characters (for the token statistic)


def plan_cut(context: CompletionContext, render: Callable[[CompletionContext], str],
             unread_tokens: Callable[[str], int], tokens: int, suffix_share: float) -> Cut:
    """The cut of `context` whose prompt (`render`) the model reads in about `tokens`;
    `unread_tokens` says how many tokens of a prompt text it has not read yet. The snippets keep
    their order and the last one kept may be cut after a line: what was read stays a prefix of the
    prompts that come next."""

    def cost(snippets: list[Snippet]) -> int:
        head = render(replace(context, snippets=tuple(snippets), prefix=_WINDOW_MARK, suffix=""))
        return unread_tokens(head[: head.index(_WINDOW_MARK)])

    budget = tokens * SNIPPETS_SHARE
    kept: list[Snippet] = []
    spent = 0
    for snippet in context.snippets:
        whole = cost([*kept, snippet])
        if whole <= budget:
            kept.append(snippet)
            spent = whole
            continue
        lines = snippet.text.split("\n")
        low, high = 0, len(lines) - 1  # the most lines of it that fit (costs grow with lines)
        while low < high:
            middle = (low + high + 1) // 2
            if cost([*kept, replace(snippet, text="\n".join(lines[:middle]))]) <= budget:
                low = middle
            else:
                high = middle - 1
        if low:
            kept.append(replace(snippet, text="\n".join(lines[:low])))
            spent = cost(kept)
        break
    window_chars = len(context.prefix) + len(context.suffix)
    window_tokens = context.prefix_tokens + context.suffix_tokens
    chars_per_token = window_chars / window_tokens if window_tokens and window_chars else 4.0
    chars = int((tokens - spent) * chars_per_token)
    suffix_chars = int(chars * suffix_share) if context.suffix else 0
    above = context.prefix[: context.prefix.rfind("\n") + 1]
    below = context.suffix[context.suffix.find("\n") + 1:] if "\n" in context.suffix else ""
    lines_below = _whole_lines(below.split("\n"), suffix_chars)
    lines_above = _whole_lines(above.split("\n")[-2::-1], chars - min(suffix_chars, len(below)))
    share = sum(len(s.text) for s in kept) / max(1, sum(len(s.text) for s in context.snippets))
    return Cut(tuple(kept), lines_above, lines_below, share)


def apply_cut(context: CompletionContext, cut: Cut) -> CompletionContext:
    """`context` with the cut's snippets and its window cut to the cut's lines around the cursor."""
    prefix_lines = context.prefix.split("\n")
    prefix = "\n".join(prefix_lines[max(0, len(prefix_lines) - 1 - cut.lines_above):])
    suffix_lines = context.suffix.split("\n")
    suffix = "\n".join(suffix_lines[: 1 + cut.lines_below]) + ("\n" if len(suffix_lines) > 1 + cut.lines_below else "")
    window_chars = len(context.prefix) + len(context.suffix)
    kept_chars = len(prefix) + len(suffix)
    scale = kept_chars / window_chars if window_chars else 1.0
    return replace(
        context, prefix=prefix, suffix=suffix, snippets=cut.snippets,
        snippet_tokens=round(context.snippet_tokens * cut.snippet_share),
        window_start_line=context.window_start_line + context.prefix.count("\n") - prefix.count("\n"),
        window_end_line=context.window_end_line - context.suffix.count("\n") + suffix.count("\n"),
        prefix_tokens=round(context.prefix_tokens * scale), suffix_tokens=round(context.suffix_tokens * scale),
    )


def _whole_lines(lines: list[str], chars: int) -> int:
    """How many of `lines` (each with its newline) fit in `chars`, from the first."""
    count = used = 0
    for line in lines:
        used += len(line) + 1
        if used > chars:
            break
        count += 1
    return count

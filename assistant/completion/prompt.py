"""Assemble a completion prompt from a `CompletionContext`: fill-in-the-middle when the model has a
template, otherwise prefix-only with the repository context as a leading comment block.

Repository context comes first and the cursor last, so consecutive prompts share a long head.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.completion.shape import CompletionShape
from assistant.context.builder import CompletionContext

if TYPE_CHECKING:
    from assistant.models.fim import FimTemplate


@dataclass(frozen=True, slots=True)
class Prompt:
    text: str
    stop: tuple[str, ...]  # strings that end generation
    fim: bool  # whether the model fills in the middle (the suffix is in the prompt)


def build_prompt(
    context: CompletionContext,
    shape: CompletionShape | None = None,
    template: FimTemplate | None = None,
    *,
    repo: str | None = None,
) -> Prompt:
    """The prompt text and stop strings for `context`. `repo` names the repository for FIM
    families with repo-level tokens."""
    if template is not None:
        text = template.render(
            context.prefix,
            context.suffix,
            context.repo_context(),
            path=context.path,
            repo=repo,
            comment=context.comment,
        )
        stop = tuple(template.stop)
    else:
        text = comment_block(context) + context.prefix
        stop = ()
    if shape is not None and shape.single_line:
        stop += ("\n",)
    return Prompt(text, tuple(dict.fromkeys(s for s in stop if s)), template is not None)


def comment_block(context: CompletionContext) -> str:
    """The snippets as line comments, each under its `path:line` label, then the file's own path."""
    if not context.snippets and not context.path:
        return ""
    c = context.comment
    out = []
    for snippet in context.snippets:
        out.append(f"{c} {snippet.label}\n")
        for line in snippet.text.split("\n"):
            out.append(f"{c} {line}".rstrip() + "\n")
        out.append(f"{c}\n")
    if context.path:
        out.append(f"{c} {context.path}\n")
    return "".join(out)

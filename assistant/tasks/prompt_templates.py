"""Prompt templates as files: one per task and model style (`explain.chat.md`, `fix.base.md`,
`explain.cloud.md` for the instruction sent to a cloud model, ...),
built in under `assistant/tasks/prompts/`, overridable from the directory in `settings.prompts_dir`.

A template is text with `{placeholder}`s (`{{`/`}}` for literal braces). A chat template may split
into `[system]` and `[user]` sections (lines on their own); without them it is one user message.
A broken override (unreadable, unknown placeholder, bad braces) yields a `PromptError` saying which
file and what is wrong, and the built-in template is used instead.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

BUILTIN_DIR = Path(__file__).with_name("prompts")
TASKS = ("explain", "fix", "ask", "generate")
# "cloud": the instruction sent with an escalated excerpt (the cloud model's own system prompt and the
# sanitized excerpt are the escalation's; this is what the task asks of it).
STYLES = ("chat", "base", "cloud")

# What each task's templates may use; every value is always provided.
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "explain": frozenset({"answer_language", "context", "path", "start_line", "end_line", "code_language",
                          "code", "truncation", "answer_lead"}),
    "fix": frozenset({"context", "problem", "path", "start_line", "end_line", "code_language", "code"}),
    "ask": frozenset({"question", "context", "answer_language", "answer_lead"}),
    "generate": frozenset({"context", "instruction", "path", "start_line", "end_line", "code_language", "code",
                           "code_heading", "answer_heading", "reply", "mode", "after", "before", "change",
                           "comment"}),
}
SECTION_MARKERS = {"[system]": "system", "[user]": "user"}


class PromptError(Exception):
    """A template that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class PromptTemplate:
    task: str
    style: str  # "chat" | "base"
    text: str
    source: str  # the file it came from, for messages

    def render(self, **values: object) -> str:
        """The template with its placeholders filled in (the whole text, markers included)."""
        return string.Formatter().vformat(self.text, (), {k: str(v) for k, v in values.items()})

    def messages(self, **values: object) -> list[dict[str, str]]:
        """Chat messages: `[system]`/`[user]` sections, or the whole text as one user message."""
        out: list[dict[str, str]] = []
        role, lines = "user", []
        for line in self.render(**values).split("\n"):
            marker = SECTION_MARKERS.get(line.strip())
            if marker is not None:
                if "".join(lines).strip():
                    out.append({"role": role, "content": "\n".join(lines).strip()})
                role, lines = marker, []
            else:
                lines.append(line)
        if "".join(lines).strip():
            out.append({"role": role, "content": "\n".join(lines).strip()})
        return out


def file_name(task: str, style: str, language: str = "") -> str:
    return f"{task}.{style}.{language}.md" if language else f"{task}.{style}.md"


def parse_template(task: str, style: str, text: str, source: str) -> PromptTemplate:
    """Check a template's placeholders against its task's; raises PromptError."""
    allowed = PLACEHOLDERS[task]
    try:
        fields = [name for _, name, spec, conv in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:  # a lone "{" or "}"
        raise PromptError(f"kura: prompt template {source} is broken: {exc} (write {{{{ and }}}} for literal braces)") from None
    for name in fields:
        if name not in allowed:
            line = _line_of(text, "{" + name)
            raise PromptError(
                f"kura: prompt template {source}" + (f", line {line}" if line else "")
                + f": unknown placeholder {{{name}}}; {task} templates may use "
                + ", ".join(f"{{{p}}}" for p in sorted(allowed))
            )
    return PromptTemplate(task, style, text, source)


def builtin_template(task: str, style: str, language: str = "") -> PromptTemplate:
    """The built-in template; with `language`, its `<task>.<style>.<language>.md` variant when there is
    one (a base model continues a document in the document's own language)."""
    path = BUILTIN_DIR / file_name(task, style, language)
    if language and not path.exists():
        path = BUILTIN_DIR / file_name(task, style)
    return parse_template(task, style, path.read_text(encoding="utf-8"), str(path))


def load_template(task: str, style: str, prompts_dir: str = "", *, language: str = ""
                  ) -> tuple[PromptTemplate, PromptError | None]:
    """The override from `prompts_dir` when there is a usable one, else the built-in template; with
    `language`, a `<task>.<style>.<language>.md` file is preferred to `<task>.<style>.md` in each place.

    Returns (template, error): error says why an override that exists was not used.
    """
    if task not in TASKS or style not in STYLES:
        raise ValueError(f"no prompt template for task {task!r} and style {style!r}")
    if prompts_dir:
        names = [file_name(task, style, language)] if language else []
        for name in [*names, file_name(task, style)]:
            path = Path(prompts_dir).expanduser() / name
            if not path.exists():
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                return builtin_template(task, style, language), PromptError(
                    f"kura: cannot read prompt template {path}: {reason}; using the built-in one")
            try:
                return parse_template(task, style, text, str(path)), None
            except PromptError as exc:
                return builtin_template(task, style, language), PromptError(f"{exc}; using the built-in one")
    return builtin_template(task, style, language), None


def _line_of(text: str, needle: str) -> int | None:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else None

"""The company's own explanation prompts, `.kura/eval/prompts/*.toml`, read into `ExplainTask`s.

    [[prompt]]
    name = "HTTP retries"
    path = "src/http/client.py"     # repository-relative
    lines = [10, 42]                # 1-based, inclusive
    must_mention = ["retries", "exponential backoff"]

    [[prompt]]
    name = "inline snippet"
    language = "python"
    code = '''
    def backoff(attempt): return min(60, 2 ** attempt)
    '''
    must_mention = ["exponential"]

    [[prompt]]
    name = "where are webhooks verified"
    question = "where do we validate webhook signatures?"   # asked of the codebase (kura ask)
    expect_paths = ["src/webhooks.py"]                      # the files a good answer cites
    must_mention = ["signature"]                            # optional for a question

A file may also hold one prompt as top-level keys. Any problem names the file, the line and the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.evaluation import EvalError
from assistant.evaluation.tasks import AskTask, ExplainTask, task_id
from indexer.languages import LANGUAGES, language_for_path, language_named

_KEYS = {"name", "path", "lines", "code", "language", "must_mention", "task", "question", "expect_paths"}


def load_prompts(directory: Path, root: Path, *, confidential: Callable[[str], str | None],
                 commit: str | None = None) -> list[ExplainTask]:
    """Every prompt in `directory/*.toml`, in file then table order; EvalError on the first problem.
    `confidential(path)` returns the matching glob for a path whose code must not be copied into a set."""
    if not directory.is_dir():
        return []
    out: list[ExplainTask] = []
    for file in sorted(directory.glob("*.toml")):
        out.extend(_load_file(file, directory, root, confidential, commit))
    seen: dict[str, str] = {}
    for task in out:
        if task.id in seen:
            raise EvalError(f"{task.source}: prompt {task.name!r} repeats {seen[task.id]!r} (same code and facts)")
        seen[task.id] = task.name
    return out


def _load_file(file: Path, directory: Path, root: Path, confidential, commit) -> list[ExplainTask]:
    shown = str(file)
    try:
        text = file.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise EvalError(f"{shown}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise EvalError(f"{shown}: not UTF-8 ({exc.reason})") from exc
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        where = f"{shown}:{match.group(1)}" if match else shown
        problem = re.sub(r"\s*\(at line .*\)", "", str(exc))
        raise EvalError(f"{where}: invalid TOML: {problem}") from exc
    if "prompt" in data:
        extra = sorted(set(data) - {"prompt"})
        if extra:
            raise EvalError(f"{_where(shown, text, extra[0])}: unknown key {extra[0]!r} beside [[prompt]] tables")
        tables = data["prompt"]
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            raise EvalError(f"{_where(shown, text, 'prompt')}: 'prompt' must be [[prompt]] tables")
    else:
        tables = [data]
    source = file.relative_to(directory.parent).as_posix() if directory.parent in file.parents else shown
    return [_task(table, i, shown, text, source, root, confidential, commit) for i, table in enumerate(tables)]


def _task(table: dict[str, Any], index: int, shown: str, text: str, source: str, root: Path, confidential,
          commit) -> ExplainTask:
    def fail(key: str, problem: str) -> EvalError:
        return EvalError(f"{_where(shown, text, key, index)}: {problem}")

    unknown = sorted(set(table) - _KEYS)
    if unknown:
        expected = ", ".join(sorted(_KEYS - {"task"}))
        raise fail(unknown[0], f"unknown key {unknown[0]!r}; expected {expected}")
    if "question" in table or table.get("task") == "ask":
        return _ask_task(table, index, shown, source, fail, commit)
    if table.get("task", "explain") != "explain":
        raise fail("task", f"task {table['task']!r} is not supported; only \"explain\" and \"ask\" prompts are")
    for key in ("expect_paths",):
        if key in table:
            raise fail(key, f"{key} belongs to a question (question = \"...\"), not to an explanation prompt")
    facts = table.get("must_mention")
    if not isinstance(facts, list) or not facts or not all(isinstance(f, str) and f.strip() for f in facts):
        raise fail("must_mention", "must_mention must be a non-empty list of strings (the facts the answer must mention)")
    name = table.get("name", f"{Path(shown).stem}#{index + 1}")
    if not isinstance(name, str) or not name.strip():
        raise fail("name", "name must be a non-empty string")
    has_path, has_code = "path" in table, "code" in table
    if has_path == has_code:
        raise fail("path" if has_path else "name", "give either path (with lines) or code, not both" if has_path
                   else "give the code to explain: path = \"...\" with lines = [first, last], or code = '''...'''")
    if has_code:
        code = table["code"]
        language = table.get("language", "")
        if not isinstance(code, str) or not code.strip():
            raise fail("code", "code must be a non-empty string")
        if not isinstance(language, str) or (language and language_named(language) is None):
            known = ", ".join(spec.name for spec in LANGUAGES)
            raise fail("language", f"unknown language {language!r}; one of: {known}")
        spec = language_named(language) if language else None
        path = f"inline/{Path(shown).stem}-{index + 1}{spec.suffixes[0] if spec else '.txt'}"
        code = code.strip("\n") + "\n"
        first, last = 0, code.count("\n") - 1
    else:
        path = table["path"]
        if not isinstance(path, str) or not path.strip() or path.startswith("/") or ".." in Path(path).parts:
            raise fail("path", "path must be a repository-relative path")
        glob = confidential(path)
        if glob is not None:
            raise fail("path", f"{path} is confidential under the policy (matches {glob!r}); its code may not be "
                               "copied into an evaluation set: use another file or inline code")
        lines = table.get("lines")
        if (not isinstance(lines, list) or len(lines) != 2 or not all(isinstance(n, int) and not isinstance(n, bool)
                                                                         for n in lines) or not 1 <= lines[0] <= lines[1]):
            raise fail("lines", "lines must be [first, last], 1-based and inclusive")
        try:
            content = (root / path).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise fail("path", f"cannot read {path} in {root}: {exc.strerror or exc}") from exc
        all_lines = content.split("\n")
        count = len(all_lines) - (1 if content.endswith("\n") else 0)
        if lines[1] > count:
            raise fail("lines", f"lines {lines[0]}-{lines[1]} are outside {path} ({count} lines)")
        first, last = lines[0] - 1, lines[1] - 1
        code = "\n".join(all_lines[first : last + 1]) + "\n"
        spec = language_for_path(path)
        language = spec.name if spec else ""
    facts = tuple(f.strip() for f in facts)
    return ExplainTask(
        id=task_id(path, first, 0, code + "\0" + "\0".join(facts)), name=name.strip(), source=source, path=path,
        language=language, start_line=first, end_line=last, code=code, must_mention=facts, commit=commit,
    )


def _ask_task(table: dict[str, Any], index: int, shown: str, source: str, fail, commit) -> AskTask:
    """A question about the codebase: scored by the files its answer cites and the facts it mentions."""
    question = table.get("question")
    if not isinstance(question, str) or not question.strip():
        raise fail("question", "question must be a non-empty string (what a developer would ask about the code)")
    for key in ("path", "lines", "code", "language"):
        if key in table:
            raise fail(key, f"a question takes no {key}: kura finds the code itself")
    facts = table.get("must_mention", [])
    if not isinstance(facts, list) or not all(isinstance(f, str) and f.strip() for f in facts):
        raise fail("must_mention", "must_mention must be a list of strings (the facts the answer must mention)")
    paths = table.get("expect_paths", [])
    if (not isinstance(paths, list) or not all(isinstance(p, str) and p.strip() and not p.startswith("/")
                                               and ".." not in Path(p).parts for p in paths)):
        raise fail("expect_paths", "expect_paths must be a list of repository-relative paths")
    if not facts and not paths:
        raise fail("question", "give expect_paths (the files a good answer cites) or must_mention (its facts), or both")
    name = table.get("name", f"{Path(shown).stem}#{index + 1}")
    if not isinstance(name, str) or not name.strip():
        raise fail("name", "name must be a non-empty string")
    question = question.strip()
    facts, paths = tuple(f.strip() for f in facts), tuple(p.strip() for p in paths)
    path = f"inline/ask-{Path(shown).stem}-{index + 1}"
    return AskTask(
        id=task_id(path, 0, 0, question + "\0" + "\0".join(facts) + "\0" + "\0".join(paths)), name=name.strip(),
        source=source, path=path, language="", start_line=0, end_line=0, code="", must_mention=facts, commit=commit,
        question=question, expect_paths=paths,
    )


def _where(shown: str, text: str, key: str, index: int | None = None) -> str:
    """file:line of `key` (in the index-th [[prompt]] table when there are several)."""
    table = -1
    for lineno, line in enumerate(text.splitlines(), 1):
        if re.match(r"^\s*\[\[\s*prompt\s*\]\]", line):
            table += 1
            continue
        if (index is None or table == index or table == -1) and re.match(rf"^\s*{re.escape(key)}\s*=", line):
            return f"{shown}:{lineno}"
    return shown

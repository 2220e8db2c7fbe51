"""Prompt templates: built-in files per task and style, company overrides, broken ones reported."""

from __future__ import annotations

import pytest

from assistant.tasks.prompt_templates import PLACEHOLDERS, STYLES, TASKS, builtin_template, load_template

VALUES = {
    "explain": dict(answer_language="English", context="[a.py:1] (import)\nimport os", path="a.py", start_line=1,
                    end_line=2, code_language="python", code="x = {1: 2}", truncation="",
                    answer_lead=""),
    "fix": dict(context="", problem="E999", path="a.py", start_line=1, end_line=2, code_language="python", code="x"),
    # ask has no code placeholder: `code` is what its context shows.
    "ask": dict(question="where?", context="[a.py:1] (chunk)\nx = {1: 2}", answer_language="English", answer_lead="",
                code="x = {1: 2}"),
    "generate": dict(context="", instruction="add a test", path="a.py", start_line=1, end_line=2, code_language="python",
                     code="x = {1: 2}", code_heading="lines 1-2", answer_heading="The same lines", reply="the lines",
                     mode="edit", after="y = 3", before="x = {1: 2}\n", change="# add a test", comment="#"),
}


MODEL_STYLES = [style for style in STYLES if style != "cloud"]


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("style", MODEL_STYLES)
def test_every_builtin_template_renders_with_its_tasks_values(task, style):
    template = builtin_template(task, style)

    rendered = template.render(**VALUES[task])

    assert VALUES[task]["code"] in rendered and "{" + "path" + "}" not in rendered


@pytest.mark.parametrize("task, says", [("explain", "Answer in English"), ("fix", "Problem: E999")])
def test_the_cloud_instruction_is_a_template_too(task, says, tmp_path):
    # The escalated excerpt travels separately (sanitized); the template is only what is asked of it.
    assert says in builtin_template(task, "cloud").render(**VALUES[task])
    (tmp_path / f"{task}.cloud.md").write_text("Company wording: {answer_language}" if task == "explain" else "Fix: {problem}")
    template, error = load_template(task, "cloud", str(tmp_path))
    assert error is None and template.render(**VALUES[task]) in ("Company wording: English", "Fix: E999")


def test_chat_templates_split_into_system_and_user_messages():
    messages = builtin_template("fix", "chat").messages(**VALUES["fix"])

    assert [m["role"] for m in messages] == ["system", "user"]
    assert "E999" in messages[1]["content"]


def test_an_override_from_the_prompts_dir_is_used(tmp_path):
    (tmp_path / "explain.chat.md").write_text("Company rules. Explain {code} from {path}.", encoding="utf-8")

    template, error = load_template("explain", "chat", str(tmp_path))

    assert error is None
    assert template.render(**VALUES["explain"]) == "Company rules. Explain x = {1: 2} from a.py."


@pytest.mark.parametrize("text, problem", [
    ("Explain {snippet}", "unknown placeholder {snippet}"),
    ("line one\nExplain {code} {oops}", "line 2: unknown placeholder {oops}"),
    ("Explain { code", "broken"),
])
def test_a_broken_override_is_reported_and_the_builtin_one_used(tmp_path, text, problem):
    (tmp_path / "explain.chat.md").write_text(text, encoding="utf-8")

    template, error = load_template("explain", "chat", str(tmp_path))

    assert error is not None and problem in str(error) and str(tmp_path / "explain.chat.md") in str(error)
    assert template.source.endswith("assistant/tasks/prompts/explain.chat.md")


def test_an_unreadable_override_is_reported(tmp_path):
    (tmp_path / "fix.base.md").write_bytes(b"\xff\xfe\x00broken")

    template, error = load_template("fix", "base", str(tmp_path))

    assert error is not None and "cannot read prompt template" in str(error)
    assert set(PLACEHOLDERS["fix"]) >= {"code", "problem"} and template.style == "base"

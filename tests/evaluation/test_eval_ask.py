"""Questions in `kura eval`: written next to the explanation prompts, kept in the set, run through the
ask task the editor runs, scored by the files the answer cites (precision/recall) and its facts."""

from __future__ import annotations

import io

import pytest

from assistant.evaluation import EvalError
from assistant.evaluation.build import build_set
from assistant.evaluation.checklist import Thresholds
from assistant.evaluation.configs import parse_model_arg
from assistant.evaluation.prompts import load_prompts
from assistant.evaluation.report import print_report, render_html
from assistant.evaluation.runner import run_evaluation
from assistant.evaluation.scoring import citation_scores
from assistant.evaluation.tasks import AskTask

QUESTIONS = '''[[prompt]]
name = "invoice totals"
question = "how is the invoice total computed with tax?"
expect_paths = ["billing/invoice.py"]
must_mention = ["tax"]
'''


def load(tmp_path, text: str):
    directory = tmp_path / "prompts"
    directory.mkdir(exist_ok=True)
    (directory / "questions.toml").write_text(text)
    return load_prompts(directory, tmp_path, confidential=lambda path: None)


def test_a_question_is_loaded_with_the_files_and_facts_its_answer_should_have(tmp_path):
    [task] = load(tmp_path, QUESTIONS)

    assert isinstance(task, AskTask) and task.kind == "ask"
    assert task.question == "how is the invoice total computed with tax?"
    assert task.expect_paths == ("billing/invoice.py",) and task.must_mention == ("tax",)
    assert AskTask.from_dict(task.to_dict()) == task


@pytest.mark.parametrize("text, problem", [
    ('question = "where?"\npath = "a.py"\nlines = [1, 2]\n', "questions.toml:2: a question takes no path"),
    ('question = "where?"\n', "give expect_paths"),
    ('question = "where?"\nexpect_paths = ["../etc/passwd"]\n', "repository-relative"),
    ('question = ""\nexpect_paths = ["a.py"]\n', "question must be a non-empty string"),
])
def test_a_bad_question_names_the_file_line_and_key(tmp_path, text, problem):
    with pytest.raises(EvalError, match=problem):
        load(tmp_path, text)


def test_citation_precision_and_recall_are_per_file():
    assert citation_scores(["a.py", "b.py", "a.py"], ["a.py", "c.py"]) == (pytest.approx(2 / 3), 0.5)
    assert citation_scores([], ["a.py"]) == (None, 0.0)
    assert citation_scores(["a.py"], []) == (None, None)


def test_questions_run_with_context_cite_the_expected_file_and_without_find_nothing(repo, store, index_path, tiny_gguf):
    store.prompts_dir.mkdir(parents=True)
    (store.prompts_dir / "questions.toml").write_text(QUESTIONS)
    built = build_set(repo, store, n=2, seed=4, index_path=index_path).set

    run = run_evaluation(repo, built, [parse_model_arg(str(tiny_gguf("qwen")))], index_path=index_path)

    [model] = run["models"]
    by_mode = {r["mode"]: r for r in model["results"] if r["kind"] == "ask"}
    assert by_mode["context"]["found"] is True and by_mode["context"]["citation_recall"] == 1.0
    assert by_mode["context"]["cited"][0].startswith("billing/invoice.py:")
    assert by_mode["no_context"]["found"] is False and by_mode["no_context"]["citation_recall"] == 0.0
    context = model["modes"]["context"]
    assert context["questions"] == 1 and context["citation_recall"] == 1.0 and context["tasks"] == 2  # not a completion
    assert model["modes"]["no_context"]["nothing_found_rate"] == 1.0

    out = io.StringIO()
    from rich.console import Console

    print_report([run], Thresholds(), Console(file=out, width=200))
    assert "Questions (ask)" in out.getvalue()
    assert "Questions (ask)" in render_html([run], Thresholds()) and "invoice totals" in render_html([run], Thresholds())

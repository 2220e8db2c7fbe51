"""Explanation prompts asked in several languages and scored for echo and answer language."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.evaluation.build import build_set
from assistant.evaluation.configs import parse_model_arg
from assistant.evaluation.runner import RunOptions, run_evaluation
from assistant.evaluation.scoring import explanation_scores, summarize
from assistant.models.base import GenerationRequest
from assistant.tasks.explain import ECHO_ANSWER

PROMPT = "Explain this code:\ndef peek_filelike_length(stream: typing.Any) -> int | None:\n    fd = stream.fileno()\n"


@dataclass
class Plan:
    request: GenerationRequest
    notice: str = ""


@dataclass
class Outcome:
    markdown: str
    echo: bool = False
    retried: bool = False


def scores(markdown, language="en", **outcome):
    return explanation_scores(Outcome(markdown, **outcome), Plan(GenerationRequest(prompt=PROMPT)), language)


def test_an_explanation_in_the_requested_language_scores_in_language_and_no_echo():
    s = scores("この関数はストリームのファイル記述子から長さを返します。", "ja")

    assert s["in_language"] and not s["echo"] and not s["refused"] and s["language_share"] == 1.0


def test_an_answer_copying_the_prompt_is_an_echo_and_not_in_any_language():
    s = scores("def peek_filelike_length(stream: typing.Any) -> int | None: fd = stream.fileno()")

    assert s["echo"] and not s["in_language"] and s["copied_share"] > 0.9


def test_a_refused_echo_is_counted_as_refused_not_as_an_answer():
    s = scores(ECHO_ANSWER["ja"], "ja", echo=True, retried=True)

    assert s["refused"] and s["retried"] and not s["echo"] and not s["in_language"]


def test_the_summary_gives_echo_and_language_rates_per_answer_language():
    results = [{"kind": "explain", "answer_language": "en", "coverage": 1.0, "echo": False, "in_language": True},
               {"kind": "explain", "answer_language": "ja", "coverage": 0.5, "echo": True, "in_language": False},
               {"kind": "explain", "answer_language": "ja", "coverage": 0.0, "refused": True, "in_language": False}]

    s = summarize(results)

    assert s["explanation_echo_rate"] == 1 / 3 and s["explanation_language_rate"] == 1 / 3
    assert s["explanations_by_language"]["ja"] == {"explanations": 2, "coverage": 0.25, "echo_rate": 0.5,
                                                  "refused_rate": 0.5, "language_rate": 0.0}


def test_each_prompt_is_asked_once_per_language(repo, store, index_path, tiny_gguf):
    store.prompts_dir.mkdir(parents=True)
    (store.prompts_dir / "billing.toml").write_text(
        '[[prompt]]\nname = "invoice totals"\npath = "billing/invoice.py"\nlines = [14, 17]\nmust_mention = ["tax"]\n')
    built = build_set(repo, store, n=1, seed=4, index_path=index_path).set

    run = run_evaluation(repo, built, [parse_model_arg(str(tiny_gguf("qwen")))],
                         options=RunOptions(modes=("no_context",), languages=("en", "ja")), index_path=index_path)

    explains = [r for r in run["models"][0]["results"] if r["kind"] == "explain"]
    assert [r["answer_language"] for r in explains] == ["en", "ja"]
    assert all(isinstance(r["in_language"], bool) and isinstance(r["echo"], bool) for r in explains)
    summary = run["models"][0]["modes"]["no_context"]
    assert summary["explanations"] == 2 and set(summary["explanations_by_language"]) == {"en", "ja"}

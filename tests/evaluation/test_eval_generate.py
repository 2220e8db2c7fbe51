"""Generation in `kura eval run --generate`: each held-out function body asked again through the
generate task the editor runs (the body removed, the function's header as the instruction), scored
by whether a validated edit came back and its edit similarity to the real body, with and without
repository context; in the terminal and HTML reports."""

from __future__ import annotations

import io

import pytest
from fixtures.scripted_model_server import scripted_model_server

from assistant.evaluation.build import build_set
from assistant.evaluation.checklist import Thresholds
from assistant.evaluation.configs import parse_model_arg
from assistant.evaluation.report import print_report, render_html
from assistant.evaluation.runner import RunOptions, generation_instruction, run_evaluation


@pytest.fixture
def built(repo, store, index_path):
    built = build_set(repo, store, n=12, seed=4, index_path=index_path).set
    assert any(t.kind == "body" for t in built.tasks), "the sample repository's set has no function body"
    return built


def bodies(built):
    return [t for t in built.tasks if t.kind == "body"]


def test_the_instruction_is_the_functions_header(built):
    for task in bodies(built):
        name = task.symbol.rsplit(".", 1)[-1]
        instruction = generation_instruction(task)

        assert instruction.startswith("write the body of ") and name in instruction


def test_without_generate_no_generation_is_run(repo, built, index_path, tiny_gguf):
    run = run_evaluation(repo, built, [parse_model_arg(str(tiny_gguf("qwen")))],
                         options=RunOptions(modes=("no_context",)), index_path=index_path)

    assert not any(r["kind"] == "generate" for r in run["models"][0]["results"])
    assert run["models"][0]["modes"]["no_context"]["generations"] == 0


def test_each_body_is_generated_with_and_without_context_and_reported(repo, built, index_path, tiny_gguf):
    run = run_evaluation(repo, built, [parse_model_arg(str(tiny_gguf("qwen")))], options=RunOptions(generate=True),
                         index_path=index_path)

    [model] = run["models"]
    generated = [r for r in model["results"] if r["kind"] == "generate"]
    assert sorted((r["id"], r["mode"]) for r in generated) == sorted(
        (t.id, mode) for t in bodies(built) for mode in ("context", "no_context"))
    for r in generated:  # a random tiny model: an edit or not, scored either way
        assert r["error"] is None and isinstance(r["offered"], bool) and 0.0 <= r["edit_similarity"] <= 1.0
    summary = model["modes"]["context"]
    assert summary["generations"] == len(bodies(built)) and summary["tasks"] == len(built.tasks)  # not completions
    out = io.StringIO()
    from rich.console import Console

    print_report([run], Thresholds(), Console(file=out, width=200))
    assert "Generations (function bodies)" in out.getvalue()
    assert "Generations (function bodies)" in render_html([run], Thresholds())


def test_a_model_that_writes_the_real_body_scores_one(repo, built, index_path, tmp_path):
    task = bodies(built)[0]
    answer = "```\n" + " " * task.start_col + task.expected + "\n```"
    with scripted_model_server(answer) as server:
        config = tmp_path / "server.toml"
        config.write_text(f'label = "scripted"\nbackend = "openai"\nserver_url = "{server.url}"\n')
        run = run_evaluation(repo, built, [parse_model_arg(str(config))],
                             options=RunOptions(modes=("no_context",), generate=True), index_path=index_path)

    [result] = [r for r in run["models"][0]["results"] if r["kind"] == "generate" and r["id"] == task.id]
    assert result["offered"] is True and result["syntax_valid"] is True, result
    assert result["edit_similarity"] == 1.0
    assert task.expected.split("\n")[0].strip() in result["completion"]

"""Running sets against real (tiny) models through the product's completion and explain paths."""

from __future__ import annotations

import pytest

from assistant.evaluation import EvalError
from assistant.evaluation.build import build_set, load_confidentiality
from assistant.evaluation.configs import parse_model_arg, unique_labels
from assistant.evaluation.runner import HeldOutIndex, RunOptions, run_evaluation

PROMPTS = '''[[prompt]]
name = "invoice totals"
path = "billing/invoice.py"
lines = [14, 17]
must_mention = ["tax", "discount"]
'''


@pytest.fixture
def built(repo, store, index_path):
    store.prompts_dir.mkdir(parents=True)
    (store.prompts_dir / "billing.toml").write_text(PROMPTS)
    return build_set(repo, store, n=6, seed=4, index_path=index_path).set


def test_a_model_that_cannot_load_is_reported_and_the_others_still_run(repo, built, index_path, tiny_gguf, tmp_path):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x00" * 64)
    models = unique_labels([parse_model_arg(str(tiny_gguf("qwen"))), parse_model_arg(str(tmp_path / "absent.gguf")),
                            parse_model_arg(str(broken)), parse_model_arg(str(tiny_gguf("none")))])
    run = run_evaluation(repo, built, models, index_path=index_path)
    by_label = {m["label"]: m for m in run["models"]}
    assert [m["status"] for m in run["models"]] == ["ok", "failed", "failed", "ok"]
    assert "absent.gguf" in by_label["absent"]["error"] and "not found" in by_label["absent"]["error"]
    assert "broken.gguf" in by_label["broken"]["error"]
    for label, family in (("qwen-meta", "qwen"), ("none-meta", "none")):
        model = by_label[label]
        assert set(model["modes"]) == {"context", "no_context"}
        assert model["modes"]["context"]["tasks"] == 6 and model["modes"]["context"]["explanations"] == 1
        assert len(model["results"]) == 2 * (6 + 1)
        assert model["load_ms"] > 0 and model["file_bytes"] == tiny_gguf(family).stat().st_size
        assert model["peak_rss_delta_bytes"] is not None


def test_each_result_is_scored_against_the_held_out_text(repo, built, index_path, tiny_gguf):
    from assistant.evaluation.scoring import edit_similarity, scored_text

    run = run_evaluation(repo, built, [parse_model_arg(str(tiny_gguf("qwen")))],
                         options=RunOptions(modes=("no_context",)), index_path=index_path)
    [model] = run["models"]
    tasks = {t.id: t for t in built.tasks}
    for r in model["results"]:
        if r["kind"] == "explain":
            assert r["answer"] and 0.0 <= r["coverage"] <= 1.0 and r["missing"] is not None
            continue
        task = tasks[r["id"]]
        assert r["error"] is None and r["mode"] == "no_context"
        assert r["edit_similarity"] == pytest.approx(edit_similarity(scored_text(task, r["completion"]), task.expected),
                                                     abs=1e-4)
        assert r["exact_match"] is (r["edit_similarity"] == 1.0)
        assert r["latency_ms"] > 0 and r["generated_tokens"] >= 1 and r["syntax_valid"] in (True, False)
        assert r["shape"] in ("single_line", "block") and r["fim"] is True  # the qwen GGUF fills in the middle
    assert model["modes"]["no_context"]["p95_latency_ms"] >= model["modes"]["no_context"]["p50_latency_ms"]
    assert model["modes"]["no_context"]["tokens_per_s"] > 0


def test_context_never_shows_the_held_out_code_or_confidential_files(repo, built, index_path):
    from indexer.index import Index

    with Index.open(repo, index_path) as index:
        index.update()
        view = HeldOutIndex(index, load_confidentiality(repo))
        body = next(t for t in built.tasks if t.kind == "body")
        assert any(c.path == body.path for c, _ in index.search_chunks(body.expected, 20))
        view.task = body
        for chunk, _score in view.search_chunks(body.expected, 20):
            assert body.expected.strip() not in chunk.text
            assert not (chunk.path == body.path and chunk.start_line <= body.end_line
                        and chunk.end_line >= body.start_line)
        assert index.definitions("signing_key_material") and not view.definitions("signing_key_material")
        assert not any(c.path.startswith("vault/") for c, _ in view.search_chunks("hidden secret signing", 20))


def test_no_context_runs_only_without_and_limit_takes_the_first_tasks(repo, built, index_path, tiny_gguf):
    run = run_evaluation(repo, built, [parse_model_arg(str(tiny_gguf("qwen")))],
                         options=RunOptions(modes=("no_context",), limit=2), index_path=index_path)
    [model] = run["models"]
    assert list(model["modes"]) == ["no_context"]
    assert [r["id"] for r in model["results"] if r["kind"] != "explain"] == [t.id for t in built.tasks[:2]]
    assert run["set"] == {**run["set"], "version": "v0001", "tasks": 2, "explanations": 1}


def test_tasks_made_confidential_since_the_build_are_skipped(repo, built, index_path, tiny_gguf):
    policy = repo / ".kura" / "policy.toml"
    policy.write_text(policy.read_text().replace('"vault/**"', '"vault/**", "billing/**"'))
    run = run_evaluation(repo, built, [parse_model_arg(str(tiny_gguf("qwen")))],
                         options=RunOptions(modes=("no_context",)), index_path=index_path)
    assert run["set"]["skipped_confidential"] == sum(1 for t in built.tasks if t.path.startswith("billing/")) + 1
    assert not any(r["path"].startswith("billing/") for r in run["models"][0]["results"])


def test_a_model_configuration_file_sets_label_backend_and_relative_path(tmp_path, tiny_gguf):
    (tmp_path / "models").mkdir()
    target = tmp_path / "models" / "tiny.gguf"
    target.write_bytes(tiny_gguf("qwen").read_bytes())
    config = tmp_path / "models" / "candidate.toml"
    config.write_text('label = "candidate"\nbackend = "llama_cpp"\npath = "tiny.gguf"\ncontextTokens = 1024\n'
                      '[completion]\nmax_tokens = 16\n')
    model = parse_model_arg(str(config))
    assert model.label == "candidate" and model.settings.model.path == str(target)
    assert model.settings.model.context_tokens == 1024 and model.settings.completion.max_tokens == 16
    assert model.settings.completion.debounce_ms == 0
    assert parse_model_arg("embedded").settings.model.path == ""


@pytest.mark.parametrize("content, problem", [
    ('backend = "tensorflow"\n', "must be one of"),
    ('label = "x"\nmodel_path = "a.gguf"\n', "'model_path' is not a known setting"),
    ("backend = \n", "not valid TOML"),
])
def test_a_bad_model_configuration_is_a_usage_error(tmp_path, content, problem):
    config = tmp_path / "bad.toml"
    config.write_text(content)
    with pytest.raises(EvalError, match=problem):
        parse_model_arg(str(config))
    with pytest.raises(EvalError, match="not found"):
        parse_model_arg(str(tmp_path / "absent.toml"))
    with pytest.raises(EvalError, match="expected `embedded`"):
        parse_model_arg("gpt-5")


@pytest.mark.slow
def test_the_embedded_model_runs_a_small_set(repo, store, index_path, embedded_gguf):
    eval_set = build_set(repo, store, n=3, seed=1, index_path=index_path).set
    run = run_evaluation(repo, eval_set, [parse_model_arg("embedded")], options=RunOptions(modes=("no_context",)),
                         index_path=index_path)
    [model] = run["models"]
    assert model["status"] == "ok", model["error"]
    assert model["file_bytes"] == embedded_gguf.stat().st_size
    assert model["info"]["architecture"] == "gemma3" and model["load_ms"] > 0
    summary = model["modes"]["no_context"]
    assert summary["tasks"] == 3 and summary["errors"] == 0
    assert 0.0 <= summary["edit_similarity"] <= 1.0 and summary["tokens_per_s"] > 0
    assert all(r["completion"] is not None for r in model["results"])


# -- a model server: several requests in flight -----------------------------------------------


@pytest.fixture(scope="module")
def shared_server(tiny_gguf):
    """llama_cpp.server as a team would run it: each request finishes even when others wait (its
    default, interrupt_requests, cuts a stream short whenever another request arrives; its settings
    are read from the environment too)."""
    import os

    from fixtures.model_server import llama_cpp_server

    before = os.environ.get("INTERRUPT_REQUESTS")
    os.environ["INTERRUPT_REQUESTS"] = "false"
    try:
        server = llama_cpp_server(tiny_gguf("qwen"))
        url = server.__enter__()
    finally:
        if before is None:
            os.environ.pop("INTERRUPT_REQUESTS", None)
        else:
            os.environ["INTERRUPT_REQUESTS"] = before
    yield url
    server.__exit__(None, None, None)


def server_model(tmp_path, url: str):
    config = tmp_path / "server.toml"
    config.write_text(f'label = "team-server"\nbackend = "openai"\nserver_url = "{url}"\n')
    return parse_model_arg(str(config))


@pytest.mark.slow
def test_a_model_server_gets_concurrent_requests_and_gives_the_same_results(repo, built, index_path, shared_server,
                                                                           tmp_path):
    model = server_model(tmp_path, shared_server)

    one = run_evaluation(repo, built, [model], options=RunOptions(concurrency=1), index_path=index_path)
    four = run_evaluation(repo, built, [model], options=RunOptions(concurrency=4), index_path=index_path)

    [sequential], [concurrent] = one["models"], four["models"]
    assert sequential["concurrency"] == 1 and concurrent["concurrency"] == 4
    assert concurrent["status"] == "ok" and all(r["error"] is None for r in concurrent["results"])
    # Same tasks in the same order with the same answers: lanes share nothing but the server.
    assert [(r["id"], r["mode"], r.get("completion")) for r in concurrent["results"]] == \
        [(r["id"], r["mode"], r.get("completion")) for r in sequential["results"]]
    for mode in ("context", "no_context"):
        assert concurrent["throughput"][mode]["tasks"] == 6 + 1 and concurrent["throughput"][mode]["tasks_per_s"] > 0


def test_a_local_model_runs_one_task_at_a_time_and_a_server_eight_unless_told(tmp_path, tiny_gguf):
    from assistant.evaluation.runner import DEFAULT_SERVER_CONCURRENCY, lanes_for

    local, server = parse_model_arg(str(tiny_gguf("qwen"))), server_model(tmp_path, "http://127.0.0.1:9")

    assert lanes_for(local, None) == 1 and lanes_for(local, 16) == 1
    assert lanes_for(server, None) == DEFAULT_SERVER_CONCURRENCY == 8 and lanes_for(server, 3) == 3


@pytest.mark.slow
def test_a_rate_limited_key_pauses_the_lanes_instead_of_failing_tasks(repo, built, index_path, shared_server,
                                                                     tmp_path, monkeypatch):
    """Through the team server's real gateway (deploy/), with a key allowed 60 requests a minute
    in bursts of 2: the 429s make lanes wait for Retry-After, and every task still gets its answer."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy"))
    from gateway_fixtures import envoy_gateway, serverctl

    state = tmp_path / "gateway"
    monkeypatch.setenv("KURA_EVAL_KEY", serverctl.add_key(state, "eval", rpm=60, burst=2))
    with envoy_gateway([shared_server], state) as gateway:
        config = tmp_path / "gateway.toml"
        config.write_text(f'backend = "openai"\nserver_url = "{gateway.url}"\napi_key_env = "KURA_EVAL_KEY"\n')
        run = run_evaluation(repo, built, [parse_model_arg(str(config))],
                             options=RunOptions(modes=("no_context",), concurrency=4), index_path=index_path)
        limited = gateway.metric("envoy_http_local_rate_limit_rate_limited", envoy_local_http_ratelimit_prefix="key_eval")

    [model] = run["models"]
    assert limited >= 1  # the gateway did refuse some
    assert model["status"] == "ok" and [r["error"] for r in model["results"]] == [None] * (6 + 1)

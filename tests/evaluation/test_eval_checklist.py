"""The adoption checklist: thresholds from checklist.toml and the verdict per model."""

from __future__ import annotations

import pytest

from assistant.evaluation import EvalError
from assistant.evaluation.checklist import STARTER_CHECKLIST, Thresholds, load_checklist, verdicts


def model(label: str, status: str = "ok", **scores) -> dict:
    summary = {"exact_match": 0.4, "edit_similarity": 0.7, "syntax_validity": 0.95, "p95_latency_ms": 800.0,
               "explanation_coverage": None, **scores}
    return {"label": label, "status": status, "error": None if status == "ok" else "model file not found",
            "modes": {"context": summary} if status == "ok" else {}}


def test_the_starter_checklist_loads_to_its_documented_thresholds(tmp_path):
    path = tmp_path / "checklist.toml"
    path.write_text(STARTER_CHECKLIST)
    t = load_checklist(path)
    assert (t.min_exact_match, t.min_edit_similarity, t.min_syntax_validity, t.max_p95_latency_ms) == (0.2, 0.5, 0.9, 2000)
    assert t.mode == "context" and t.current_model is None and t.source == str(path)


def test_a_model_clearing_every_threshold_is_adopted():
    [v] = verdicts([model("qwen")], Thresholds())
    assert v.adopt and v.word == "adopt"
    assert [c.passed for c in v.checks] == [True, True, True, True, None]  # no explanation prompts: n/a


def test_one_threshold_missed_means_do_not_adopt_and_says_which():
    [v] = verdicts([model("slow", p95_latency_ms=2600.0)], Thresholds())
    assert not v.adopt and v.word == "do not adopt"
    failed = [c for c in v.checks if c.passed is False]
    assert [c.name for c in failed] == ["p95 latency (ms) <= 2000"] and failed[0].value == 2600.0


def test_a_model_that_failed_is_never_adopted():
    [v] = verdicts([model("broken", status="failed")], Thresholds())
    assert not v.adopt and "model file not found" in v.reason


def test_a_candidate_worse_than_the_current_model_by_more_than_allowed_fails(tmp_path):
    path = tmp_path / "checklist.toml"
    path.write_text('current_model = "embedded"\nmax_regression = 0.05\n[thresholds]\nmin_exact_match = 0.1\n')
    t = load_checklist(path)
    judged = {v.label: v for v in verdicts([model("embedded", exact_match=0.40), model("close", exact_match=0.36),
                                            model("worse", exact_match=0.30)], t)}
    assert judged["embedded"].adopt and judged["close"].adopt
    assert not judged["worse"].adopt
    [regressed] = [c for c in judged["worse"].checks if c.passed is False]
    assert regressed.name.startswith("exact match not worse than embedded")


@pytest.mark.parametrize("text, where, problem", [
    ("[thresholds]\nmin_exact_match = 'high'\n", ":2", "must be a number"),
    ("[thresholds]\nmin_exact_match = 20\n", ":2", "fraction between 0 and 1"),
    ("[thresholds]\nmin_exactmatch = 0.2\n", ":2", "unknown threshold 'min_exactmatch'"),
    ("[thresholds]\nmode = 'context'\n", ":2", "belongs above [thresholds]"),
    ("mode = 'fast'\n", ":1", "mode must be"),
    ("max_regression = 0.1\n", ":1", "needs current_model"),
    ("[thresholds\n", ":1", "invalid TOML"),
])
def test_a_broken_checklist_names_file_line_and_problem(tmp_path, text, where, problem):
    path = tmp_path / "checklist.toml"
    path.write_text(text)
    with pytest.raises(EvalError) as caught:
        load_checklist(path)
    assert f"{path}{where}:" in str(caught.value) and problem in str(caught.value)

"""The labelled corpus: recall ≥ 99 % of planted secrets, clean code changed in ≤ 2 % of files."""

from __future__ import annotations

from assistant.escalation.policy.load import load_policy_file
from policy_fixtures import policy_toml
from corpus_eval import evaluate


def test_corpus_recall_and_false_positive_rate_meet_the_targets(tmp_path):
    (tmp_path / "policy.toml").write_text(policy_toml())
    score = evaluate(load_policy_file(tmp_path / "policy.toml"))
    print(f"recall {score.recall:.1%} ({score.caught}/{score.planted}); clean changed {score.false_positive_rate:.1%}")
    assert score.planted >= 100 and score.clean_files >= 50
    assert score.recall >= 0.99, score.missed
    assert score.false_positive_rate <= 0.02, score.changed

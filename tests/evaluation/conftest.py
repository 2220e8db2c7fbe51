"""Fixtures for the evaluation tests: a small real repository, its index in tmp_path, its store."""

from __future__ import annotations

import pytest

from eval_fixtures import POLICY, make_repo


@pytest.fixture(autouse=True)
def no_org_policy(monkeypatch):
    """No organisation policy named by the environment: the repository's own policy decides."""
    monkeypatch.delenv("KURA_ORG_POLICY", raising=False)


@pytest.fixture
def repo(tmp_path):
    """A committed repository with Python, Go and JavaScript, and a policy marking vault/** confidential."""
    return make_repo(tmp_path / "company", policy=POLICY)


@pytest.fixture
def index_path(tmp_path):
    return tmp_path / "index.sqlite3"


@pytest.fixture
def store(repo):
    from assistant.evaluation.store import EvalStore

    return EvalStore.for_repo(repo)

"""`kura ask` from a terminal, as the README writes it: a real repository indexed on the way, a real
(tiny) model in its own process, the answer with its sources, JSON with the cited locations."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures.ask_repo import RETRY_POLICY, SIGNATURE_CHECK, make_ask_repo
from fixtures.git_repo import GIT_ENV

pytestmark = pytest.mark.slow

KURA = str(Path(sys.executable).with_name("kura"))


@pytest.fixture
def repo(tmp_path, monkeypatch):
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return make_ask_repo(tmp_path / "repo")


def kura(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([KURA, *args], cwd=cwd, capture_output=True, text=True, timeout=240)


def test_kura_ask_json_has_the_answer_and_the_cited_locations(repo, tiny_gguf):
    result = kura(repo / "payments", "ask", "where do we validate webhook signatures?", "--json",
                  "--model", str(tiny_gguf("qwen")))

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["found"] is True and report["answer"]
    first = report["citations"][0]
    assert f"{first['path']}:{first['line']}" == SIGNATURE_CHECK and first["symbol"] == "verify_webhook_signature"
    assert all((repo / c["path"]).is_file() for c in report["citations"])


def test_kura_ask_streams_the_answer_then_its_sources(repo, tiny_gguf):
    result = kura(repo, "ask", "how does the retry policy work?", "--model", str(tiny_gguf("qwen")), "--timings")

    assert result.returncode == 0, result.stderr
    assert "**Sources**" in result.stdout and f"`{RETRY_POLICY}`" in result.stdout
    assert "[ask] 2 sources" in result.stderr


def test_kura_ask_says_when_the_code_has_no_answer_and_exits_1(repo, tiny_gguf):
    result = kura(repo, "ask", "how do we charge credit cards?", "--json", "--model", str(tiny_gguf("qwen")))

    report = json.loads(result.stdout)
    assert result.returncode == 1
    assert report == {**report, "found": False, "answer": "", "citations": []}
    assert "found nothing" in report["markdown"]


def test_kura_ask_outside_a_repository_says_there_is_no_code(tmp_path, tiny_gguf):
    (tmp_path / "lonely").mkdir()

    result = kura(tmp_path / "lonely", "ask", "where?", "--model", str(tiny_gguf("qwen")))

    assert result.returncode == 2 and "not in a git repository" in result.stderr

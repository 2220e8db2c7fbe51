"""`make run`, the README's first command, as a newcomer without a terminal runs it (CI, a pipe): it
indexes the repository, starts Neovim headless with the plugin, and shows a real completion from the
embedded model through the server."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from fixtures.git_repo import GIT_ENV, git

REPO_ROOT = Path(__file__).resolve().parents[2]

SHOP = '''"""Prices of a small shop."""


def price_with_tax(price_cents: int, rate: float) -> int:
    """The price including tax, rounded to whole cents."""
    taxed = price_cents * (1 + rate)
    return round(taxed)


def total(prices: list[int], rate: float) -> int:
    """Sum of the prices including tax."""
    result = 0
    for price in prices:
        result += price_with_tax(price, rate)
    return result
'''


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_make_run_indexes_and_shows_a_completion(tmp_path):
    repo = tmp_path / "shop"
    repo.mkdir()
    (repo / "shop.py").write_text(SHOP)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")

    result = subprocess.run(["make", "run", f"REPO={repo}"], cwd=REPO_ROOT, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=580, env={**os.environ, **GIT_ENV})

    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "indexing" in output and "smoke check ok: completion at shop.py:" in output, output[-3000:]

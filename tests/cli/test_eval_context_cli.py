"""`kura eval context` on one's own repository: the sites it samples, the recall it reports, the JSON
with every site, and a clear exit when there is nothing to measure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

KURA = str(Path(sys.executable).with_name("kura"))

MONEY = '''"""Money helpers."""


def round_cents(amount):
    """Round to whole cents."""
    return round(amount, 2)


def apply_tax(amount, rate):
    """The amount with tax."""
    return amount * (1 + rate)
'''

ORDERS = '''from shop.money import apply_tax, round_cents


def order_total(items, rate):
    subtotal = round_cents(sum(item.price for item in items))
    shipping = 5 if subtotal < 50 else 0
    taxed = apply_tax(subtotal + shipping, rate)
    return round_cents(taxed)


def refund(order, rate):
    base = round_cents(order.paid)
    return apply_tax(base, rate)
'''


def kura(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([KURA, *args], cwd=cwd, capture_output=True, text=True, timeout=240)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "shop-repo"
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "money.py").write_text(MONEY)
    (root / "shop" / "orders.py").write_text(ORDERS)
    return root


def test_kura_eval_context_reports_recall_per_kind_and_writes_every_site(repo, tmp_path):
    out = tmp_path / "recall.json"
    result = kura(repo, "eval", "context", "--sites", "10", "--json", str(out))

    assert result.returncode == 0, result.stderr
    assert "python" in result.stdout and "used above" in result.stdout
    report = json.loads(out.read_text())
    sites = report["sites"]
    assert sites and {s["callee"] for s in sites} <= {"round_cents", "apply_tax"}
    assert all(s["path"] == "shop/orders.py" and s["definition_path"] == "shop/money.py" for s in sites)
    # Two small files: every definition fits in the prompt.
    assert all(s["hit"] for s in sites), [s for s in sites if not s["hit"]]
    assert {r["kind"] for r in report["summary"]} <= {"used above", "not used above"}
    assert all(r["recall"] == 1.0 for r in report["summary"])


def test_kura_eval_context_says_when_there_is_nothing_to_measure(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    (lonely / "one.py").write_text("def f():\n    return 1\n")
    result = kura(lonely, "eval", "context")
    assert result.returncode == 1 and "no site found" in result.stderr
    assert kura(lonely, "eval", "context", "--template", "nonsense").returncode == 2


def test_kura_eval_context_takes_the_repository_and_index_as_the_docs_write_them(repo, tmp_path):
    index = tmp_path / "own-index.sqlite"
    result = kura(tmp_path, "eval", "context", "--repo", str(repo), "--sites", "10", "--misses", "--index", str(index))

    assert result.returncode == 0, result.stderr
    assert "used above" in result.stdout and "\nmiss " not in result.stdout  # every callee found: no miss lines
    assert index.is_file()

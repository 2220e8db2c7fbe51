"""Builders for the evaluation tests: a small real git repository in three languages."""

from __future__ import annotations

from pathlib import Path

from fixtures.git_repo import git

BILLING_PY = '''"""Invoices and the totals on them."""

from decimal import Decimal

TAX_RATE = Decimal("0.10")


def line_total(quantity, unit_price):
    """The price of one invoice line."""
    subtotal = Decimal(quantity) * Decimal(unit_price)
    return subtotal.quantize(Decimal("0.01"))


def invoice_total(lines, discount=Decimal("0")):
    totals = [line_total(q, p) for q, p in lines]
    gross = sum(totals, Decimal("0")) - discount
    return gross + gross * TAX_RATE


class Invoice:
    def __init__(self, customer, lines):
        self.customer = customer
        self.lines = list(lines)

    def total(self):
        return invoice_total(self.lines)

    def describe(self):
        count = len(self.lines)
        return f"{self.customer}: {count} lines, total {self.total()}"
'''

RETRY_GO = '''package retry

import "time"

// Backoff returns how long to wait before the given attempt.
func Backoff(attempt int, base time.Duration) time.Duration {
	delay := base * time.Duration(1<<uint(attempt))
	if delay > 30*time.Second {
		delay = 30 * time.Second
	}
	return delay
}

// Do calls fn until it succeeds or attempts run out.
func Do(attempts int, fn func() error) error {
	var err error
	for attempt := 0; attempt < attempts; attempt++ {
		if err = fn(); err == nil {
			return nil
		}
		time.Sleep(Backoff(attempt, 100*time.Millisecond))
	}
	return err
}
'''

FORMAT_JS = '''// Formatting helpers for the web front end.

export function formatPrice(amount, currency) {
  const rounded = Math.round(amount * 100) / 100;
  return `${rounded.toFixed(2)} ${currency}`;
}

export function initials(name) {
  const parts = name.trim().split(/\\s+/);
  return parts.map((part) => part[0].toUpperCase()).join("");
}
'''

SECRET_PY = '''def signing_key_material(seed_value):
    hidden_secret = seed_value * 7919 + 104729
    return hidden_secret.to_bytes(16, "big")


def rotate_signing_material(current_material):
    rotated_secret = bytes(reversed(current_material))
    return rotated_secret
'''

FILES = {
    "billing/invoice.py": BILLING_PY,
    "retry/retry.go": RETRY_GO,
    "web/format.js": FORMAT_JS,
    "vault/keys.py": SECRET_PY,
    "README.md": "# Demo company code\n",
}

POLICY = '''version = 1

[paths]
confidential = [".env*", "*.pem", "vault/**"]
allow = ["**"]
'''


def make_repo(root: Path, files: dict[str, str] | None = None, *, policy: str | None = None) -> Path:
    """A committed git repository at `root` holding `files` (the three-language demo by default)."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    for rel, content in (FILES if files is None else files).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    if policy is not None:
        (root / ".kura").mkdir(exist_ok=True)
        (root / ".kura" / "policy.toml").write_text(policy, encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root

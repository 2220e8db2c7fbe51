"""The one result every doctor check returns: ok, warn or fail, what was found, and the fix in one line."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["ok", "warn", "fail"]
OK: Status = "ok"
WARN: Status = "warn"  # works, but something will bite later; does not change the exit code
FAIL: Status = "fail"  # broken: `kura doctor` exits 1


@dataclass(frozen=True)
class Check:
    """name: what was checked ("model", "index", ...); detail: what was found, with paths and numbers;
    fix: one line the user can act on (empty when there is nothing to do)."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "fix": self.fix or None}


def healthy(checks: Iterable[Check]) -> bool:
    return not any(c.status == FAIL for c in checks)


def split_fix(message: str) -> tuple[str, str]:
    """kura's error messages read "what failed; what to do" (see ModelError): the two halves, or the
    whole message and "" when it has no such shape."""
    what, sep, fix = message.partition("; ")
    return (what, fix) if sep and fix else (message, "")

"""Append-only JSONL audit log, each entry hash-chained to the previous one.

A `<log>.head` file records the last sequence number and hash so that `verify` also detects
truncation of whole trailing entries. Entries hold rule ids and hashes, never matched values.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

GENESIS = "0" * 64


def _canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(entry: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


def sha256_text(text: str | bytes) -> str:
    return hashlib.sha256(text.encode("utf-8") if isinstance(text, str) else text).hexdigest()


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    problems: tuple[str, ...]


@contextlib.contextmanager
def _locked(path: Path):
    lock = path.with_name(path.name + ".lock")
    with open(lock, "a+") as handle:
        try:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - non-POSIX
            pass
        yield


class AuditLog:
    """One log file. `append(fields)` adds time, user, seq, prev and hash, then writes one line."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.head = self.path.with_name(self.path.name + ".head")

    def append(self, fields: dict[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(self.path):
            seq, prev = self._tail()
            entry = {
                "v": 1,
                "seq": seq + 1,
                "time": (now or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
                "user": _user(),
                **fields,
                "prev": prev,
            }
            entry["hash"] = entry_hash(entry)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, _canonical(entry) + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
            tmp = self.head.with_name(self.head.name + ".tmp")
            tmp.write_text(json.dumps({"seq": entry["seq"], "hash": entry["hash"]}) + "\n")
            os.replace(tmp, self.head)
        return entry

    def _tail(self) -> tuple[int, str]:
        if self.head.exists():
            head = json.loads(self.head.read_text())
            return int(head["seq"]), str(head["hash"])
        entries = self.entries()
        return (entries[-1]["seq"], entries[-1]["hash"]) if entries else (0, GENESIS)

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def verify(self) -> Verification:
        return verify(self.path)


def verify(path: str | Path) -> Verification:
    """Check every line parses, hashes match, the chain links and the head matches the last entry."""
    path = Path(path).expanduser()
    head_path = path.with_name(path.name + ".head")
    problems: list[str] = []
    if not path.exists():
        if head_path.exists():
            return Verification(False, 0, (f"{path}: log is missing but its head file exists (deleted?)",))
        return Verification(True, 0, ())
    raw = path.read_bytes()
    if raw and not raw.endswith(b"\n"):
        problems.append(f"{path}: last line is incomplete (truncated?)")
    prev, seq, count = GENESIS, 0, 0
    for lineno, line in enumerate(raw.decode("utf-8", "replace").splitlines(), start=1):
        if not line.strip():
            problems.append(f"{path}:{lineno}: blank line")
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            problems.append(f"{path}:{lineno}: not valid JSON (edited or truncated)")
            prev = None  # type: ignore[assignment]
            continue
        count += 1
        if entry.get("hash") != entry_hash(entry):
            problems.append(f"{path}:{lineno}: entry hash does not match its content (edited)")
        if prev is not None and entry.get("prev") != prev:
            problems.append(f"{path}:{lineno}: chain broken (an entry before it was removed, edited or reordered)")
        if entry.get("seq") != seq + 1:
            problems.append(f"{path}:{lineno}: sequence {entry.get('seq')} follows {seq} (entries missing)")
        prev, seq = entry.get("hash"), entry.get("seq") if isinstance(entry.get("seq"), int) else seq + 1
    if head_path.exists():
        try:
            head = json.loads(head_path.read_text())
        except (json.JSONDecodeError, OSError):
            problems.append(f"{head_path}: unreadable head file")
        else:
            if head.get("seq") != seq or head.get("hash") != prev:
                problems.append(f"{path}: log ends at entry {seq} but the head records entry {head.get('seq')} (truncated)")
    elif count:
        problems.append(f"{head_path}: head file missing; truncation cannot be ruled out")
    return Verification(not problems, count, tuple(problems))


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # getpass raises various errors without a login name
        return os.environ.get("USER", "unknown")

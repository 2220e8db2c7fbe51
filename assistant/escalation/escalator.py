"""Escalation to the cloud model: build payload → decide → (caller approves) → send → restore → audit.

`build_preview` is pure and returns the exact bytes that would be sent, with what was redacted and
why. `Escalator` holds the per-workspace state (policy, audit log, hourly count) and does the I/O.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from assistant.escalation.cloud import CloudClient, CloudError
from assistant.escalation.policy.audit import AuditLog, sha256_text
from assistant.escalation.policy.decide import ContextPiece, Decision, EscalationRequest, decide
from assistant.escalation.policy.load import load_policy
from assistant.escalation.policy.model import Policy
from assistant.escalation.policy.names import Placeholders
from assistant.escalation.policy.restore import Restorer
from assistant.escalation.policy.sanitize import Finding, sanitizer_for

log = logging.getLogger(__name__)

SYSTEM_PROMPTS = {
    "explain": "You are a senior engineer. Explain the selected code clearly and concisely. "
    "Identifiers like KURA_HOST_1 are placeholders for redacted names; keep them exactly as written.",
    "fix": "You are a senior engineer. Fix the problem in the selected code and return the corrected code "
    "with a short explanation. Identifiers like KURA_SECRET_1 are placeholders; keep them exactly as written.",
    "complete": "Complete the selected code. Placeholders like KURA_HOST_1 must be kept exactly as written.",
    "chat": "You are a helpful coding assistant. Placeholders like KURA_HOST_1 must be kept exactly as written.",
}
DEFAULT_AUDIT_PATH = "~/.local/state/kura/audit.jsonl"


@dataclass(frozen=True)
class PieceFinding:
    """A sanitizer finding located in a request piece (path and line), never the original value."""

    path: str | None
    piece: str  # "selection" | "context" | "definition" | "doc" | "instruction" | "payload"
    finding: Finding

    def describe(self) -> str:
        f = self.finding
        what = {"redact": "redacted", "replace": "replaced", "block": "BLOCKS the send"}[f.action]
        target = f" → {f.placeholder}" if f.placeholder else ""
        return f"{self.path or self.piece}:{f.line}: {f.kind} ({', '.join(f.rule_ids)}) {what}{target}"


@dataclass(frozen=True)
class Preview:
    """Everything about a would-be send. `body` is exactly what `Escalator.send` posts."""

    request: EscalationRequest
    policy: Policy
    decision: Decision
    body: bytes
    messages: tuple[dict[str, str], ...]
    findings: tuple[PieceFinding, ...]
    placeholders: Placeholders = field(repr=False, compare=False)
    sanitized: tuple[str, ...] = ()  # each sent piece's sanitized text, selection first

    @property
    def blocked(self) -> bool:
        return self.decision.blocked

    @property
    def needs_approval(self) -> bool:
        return self.decision.action == "prompt"

    def summary(self) -> str:
        """Human-readable: decision, reasons, dropped context, and each redaction with its rule."""
        lines = [f"decision: {self.decision.action} — {self.decision.reason}"]
        lines += [f"dropped {d.kind} from {d.path}: {d.reason}" for d in self.decision.dropped]
        lines += [f.describe() for f in self.findings]
        return "\n".join(lines)


@dataclass(frozen=True)
class EscalationResult:
    outcome: str  # "sent" | "blocked" | "cancelled" | "failed"
    text: str  # the restored answer ("" unless sent; partial on failure)
    reason: str
    audit_entry: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "sent"


# ---------------------------------------------------------------------------------------------
# Pure: request + policy → preview


def _fence(piece: ContextPiece, path_text: str, symbol_text: str | None) -> str:
    """The piece's header line from its sanitized path and symbol; kind and lines are kura's own."""
    where = path_text
    if piece.start_line is not None:
        where += f" (lines {piece.start_line}-{piece.end_line or piece.start_line})"
    if symbol_text:
        where += f" [{piece.kind} of {symbol_text}]"
    elif piece.kind not in ("selection", "context"):
        where += f" [{piece.kind}]"
    return where


def build_preview(request: EscalationRequest, policy: Policy, *, requests_last_hour: int = 0, stream: bool = True) -> Preview:
    decision = decide(request, policy, requests_last_hour=requests_last_hour)
    placeholders = Placeholders()
    if decision.blocked and not decision.pieces:
        return Preview(request, policy, decision, b"", (), (), placeholders, ())
    sanitizer = sanitizer_for(policy.redaction)
    for piece in decision.pieces:  # reserve first: no placeholder may collide with any piece
        placeholders.reserve_from(piece.text)
        placeholders.reserve_from(piece.symbol or "")
    placeholders.reserve_from(request.instruction)

    # Every piece of text that leaves — path, symbol, code, question — goes through the same sanitizer,
    # each with its own residual check (a code piece under its own path's rules).
    findings: list[PieceFinding] = []
    sanitized: list[str] = []
    parts: list[str] = [f"Task: {request.task}"]
    checked: list[tuple[str, str]] = []  # (kura's text before a checked part, the part)
    for index, piece in enumerate(decision.pieces):
        path_clean = sanitizer.sanitize(piece.path or "", placeholders, None)
        symbol_clean = sanitizer.sanitize(piece.symbol, placeholders, None) if piece.symbol else None
        text_clean = sanitizer.sanitize(piece.text, placeholders, piece.path)
        findings += [PieceFinding(piece.path, "path", f) for f in path_clean.findings]
        if symbol_clean:
            findings += [PieceFinding(piece.path, "symbol", f) for f in symbol_clean.findings]
        findings += [PieceFinding(piece.path, piece.kind, f) for f in text_clean.findings]
        sanitized.append(text_clean.text)
        title = "Selected code" if index == 0 else "Related context"
        header = _fence(piece, path_clean.text, symbol_clean.text if symbol_clean else None)
        parts.append(f"{title}: {header}\n```\n{text_clean.text}\n```")
        checked.append((f"{title}: {header}\n```\n", text_clean.text))
    if request.instruction:
        instruction = sanitizer.sanitize(request.instruction, placeholders, None)
        findings += [PieceFinding(None, "instruction", f) for f in instruction.findings]
        parts.append(f"Question: {instruction.text}")
        checked.append(("Question: ", instruction.text))
    user = "\n\n".join(parts)
    system = SYSTEM_PROMPTS.get(request.task, SYSTEM_PROMPTS["chat"])

    # The payload is the checked parts (each sanitized and rescanned above, code under its own path)
    # joined by kura's fence text: only a match that reaches into that glue can be new. Rescan the
    # lines around each part's edges and keep the hits that touch the glue.
    spans = _part_spans(user, checked)
    edges = sorted({user.count("\n", 0, i) for start, end in spans for i in (start, end)})
    for hit in sanitizer.residual_near(user, None, edges):
        if not any(start <= hit.start and hit.end <= end for start, end in spans):
            line = user.count("\n", 0, hit.start) + 1
            findings.append(PieceFinding(None, "payload", Finding((hit.rule_id,), "residual", "block", line, None)))

    blocking = [f for f in findings if f.finding.action == "block"]
    if blocking and not decision.blocked:
        decision = replace(decision, action="block", reasons=decision.reasons + (
            f"{len(blocking)} finding(s) block the send: " + ", ".join(sorted({r for f in blocking for r in f.finding.rule_ids})),
        ))
    messages = ({"role": "system", "content": system}, {"role": "user", "content": user})
    model = policy.provider.model if policy.provider else ""
    body = json.dumps({"model": model, "messages": list(messages), "stream": stream, "temperature": 0.2},
                      ensure_ascii=False).encode("utf-8")
    return Preview(request, policy, decision, body, messages, tuple(findings), placeholders, tuple(sanitized))


def _part_spans(user: str, checked: list[tuple[str, str]]) -> list[tuple[int, int]]:
    """Where each checked part lies in the payload; asserts the payload is exactly those parts in kura's glue."""
    spans, at = [], 0
    for lead, text in checked:
        start = user.index(lead + text, at) + len(lead)
        spans.append((start, start + len(text)))
        at = start + len(text)
    return spans


# ---------------------------------------------------------------------------------------------
# Stateful shell: policy reload, hourly count, approval, send, restore, audit


class Escalator:
    """One per workspace. The server and CLI call `preview()` then `send()`."""

    def __init__(
        self,
        root: str | Path,
        *,
        policy: Policy | None = None,
        env: Mapping[str, str] | None = None,
        client_factory: Callable[..., CloudClient] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = Path(root)
        self.env = env
        self.clock = clock
        self.client_factory = client_factory or CloudClient.from_provider
        self.policy = policy if policy is not None else load_policy(self.root, env=env)
        self._sent: deque[float] = deque()
        self._load_recent_sends()

    def reload(self) -> Policy:
        """Re-read the policy files (call on file change); errors make it local-only."""
        self.policy = load_policy(self.root, env=self.env)
        return self.policy

    @property
    def audit(self) -> AuditLog:
        return AuditLog(audit_path(self.policy, self.root))

    def _load_recent_sends(self) -> None:
        cutoff = datetime.now(timezone.utc) - timedelta(hours=1)
        try:
            for entry in self.audit.entries():
                when = datetime.fromisoformat(entry.get("time", "1970-01-01T00:00:00+00:00"))
                if entry.get("decision") == "sent" and when >= cutoff:
                    self._sent.append(when.timestamp())
        except (OSError, ValueError):
            log.warning("could not read the audit log to count recent requests")

    def requests_last_hour(self) -> int:
        cutoff = self.clock() - 3600
        while self._sent and self._sent[0] < cutoff:
            self._sent.popleft()
        return len(self._sent)

    def preview(self, request: EscalationRequest, *, stream: bool = True) -> Preview:
        return build_preview(request, self.policy, requests_last_hour=self.requests_last_hour(), stream=stream)

    def send(
        self,
        preview: Preview,
        *,
        approved: bool,
        on_text: Callable[[str], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> EscalationResult:
        """Send `preview.body` if allowed and approved; stream restored text to `on_text`; audit it."""
        if preview.policy.sources != self.policy.sources or preview.policy.errors != self.policy.errors:
            return self._finish(preview, "blocked", "the policy changed since the preview; preview again", None, "")
        if preview.blocked:
            return self._finish(preview, "blocked", preview.decision.reason, None, "")
        if preview.needs_approval and not approved:
            return self._finish(preview, "cancelled", "the user did not approve the send", None, "")
        try:
            client = self.client_factory(self.policy.provider, env=self.env)
        except CloudError as exc:
            return self._finish(preview, "failed", str(exc), None, "")
        restorer = Restorer(preview.placeholders.by_placeholder)
        raw: list[str] = []
        out: list[str] = []
        try:
            for delta in client.stream(preview.body, cancel=cancel):
                raw.append(delta)
                text = restorer.feed(delta)
                if text:
                    out.append(text)
                    if on_text:
                        on_text(text)
        except CloudError as exc:
            self._sent.append(self.clock())
            return self._finish(preview, "failed", str(exc), "".join(raw), "".join(out))
        tail = restorer.flush()
        if tail:
            out.append(tail)
            if on_text:
                on_text(tail)
        self._sent.append(self.clock())
        return self._finish(preview, "sent", preview.decision.reason, "".join(raw), "".join(out))

    def _finish(self, preview: Preview, outcome: str, reason: str, raw: str | None, text: str) -> EscalationResult:
        entry = None
        try:
            entry = self.audit.append(audit_fields(preview, outcome, reason, raw))
        except OSError as exc:
            log.error("could not write the audit log: %s", exc)
            reason += f" (audit log not written: {exc.strerror or exc})"
        return EscalationResult(outcome, text, reason, entry)


def audit_path(policy: Policy, root: Path) -> Path:
    path = Path(policy.audit_path or DEFAULT_AUDIT_PATH).expanduser()
    return path if path.is_absolute() else root / path


def audit_fields(preview: Preview, outcome: str, reason: str, raw_response: str | None) -> dict[str, Any]:
    """The audit entry body: hashes, ids and the redacted payload — never originals or the mapping."""
    request = preview.request
    pieces = [request.selection, *request.context]
    hits: dict[tuple[str, str, str], int] = {}
    for f in preview.findings:
        for rule in f.finding.rule_ids:
            key = (rule, f.finding.kind, f.finding.action)
            hits[key] = hits.get(key, 0) + 1
    sent = outcome in ("sent", "failed") and bool(preview.body)
    return {
        "policy": [{"path": s.path, "sha256": s.sha256, "layer": s.layer} for s in preview.policy.sources],
        "task": request.task,
        "files": [
            {"path": p.path, "kind": p.kind, "range": [p.start_line, p.end_line] if p.start_line else None,
             "sent": p in preview.decision.pieces}
            for p in pieces
        ],
        "dropped": [{"path": d.path, "kind": d.kind, "reason": d.reason} for d in preview.decision.dropped],
        "hits": [{"rule": r, "kind": k, "action": a, "count": n} for (r, k, a), n in sorted(hits.items())],
        "decision": outcome,
        "reason": reason,
        "payload_sha256": sha256_text(preview.body) if preview.body else None,
        "payload": preview.body.decode("utf-8") if sent else None,
        "response_sha256": sha256_text(raw_response) if raw_response is not None else None,
    }

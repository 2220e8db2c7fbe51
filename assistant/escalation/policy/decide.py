"""`decide(request, policy) -> Decision`: may this request escalate, with which pieces, and how?

Pure: task and approval, confidential and allow-listed paths (context from confidential files is
dropped, never sent), size limits and the hourly rate. Content checks live in `sanitize`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from assistant.escalation.policy.model import TASKS, Approval, Policy
from assistant.escalation.policy.paths import classify

PieceKind = Literal["selection", "context", "definition", "doc", "instruction"]


@dataclass(frozen=True)
class ContextPiece:
    """Text with the repo-relative path it came from (None = unknown, which never leaves)."""

    path: str | None
    text: str
    kind: PieceKind = "context"
    start_line: int | None = None  # 1-based, inclusive
    end_line: int | None = None
    symbol: str | None = None  # for definitions/docs pulled from the index


@dataclass(frozen=True)
class EscalationRequest:
    task: str  # "explain" | "fix" | "complete" | "chat"
    selection: ContextPiece
    context: tuple[ContextPiece, ...] = ()
    instruction: str = ""  # the user's question; sanitized like code, has no path


@dataclass(frozen=True)
class DroppedPiece:
    path: str | None
    kind: str
    reason: str


@dataclass(frozen=True)
class Decision:
    """`action`: "send" (auto), "prompt" (ask the user first) or "block" (nothing leaves)."""

    action: Literal["send", "prompt", "block"]
    reasons: tuple[str, ...]
    approval: Approval
    pieces: tuple[ContextPiece, ...] = ()  # what may be sanitized and sent, selection first
    dropped: tuple[DroppedPiece, ...] = field(default=())

    @property
    def blocked(self) -> bool:
        return self.action == "block"

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def decide(request: EscalationRequest, policy: Policy, *, requests_last_hour: int = 0) -> Decision:
    """Gate a request on the policy. Sanitizer findings can still turn a send into a block later."""
    if policy.local_only:
        return _block(["policy error, local only: " + "; ".join(str(e) for e in policy.errors)])
    if request.task not in TASKS:
        return _block([f"unknown task {request.task!r}"])
    approval = policy.approval_for(request.task)
    if approval == "deny":
        return _block([f"task {request.task!r} may not escalate (approval: deny)"], approval)
    if policy.provider is None:
        return _block(["no [provider] configured"], approval)
    selection = classify(policy, request.selection.path)
    if not selection.may_leave:
        return _block([f"selection {selection.path}: {selection.reason}"], approval)

    kept = [request.selection]
    dropped = []
    for piece in request.context:
        verdict = classify(policy, piece.path)
        if verdict.may_leave:
            kept.append(piece)
        else:
            dropped.append(DroppedPiece(piece.path, piece.kind, verdict.reason))

    reasons = []
    chars = sum(len(p.text) for p in kept) + len(request.instruction)
    lines = sum(p.text.count("\n") + 1 for p in kept)
    if chars > policy.limits.max_chars:
        reasons.append(f"request has {chars} characters; the limit is {policy.limits.max_chars}")
    if lines > policy.limits.max_lines:
        reasons.append(f"request has {lines} lines; the limit is {policy.limits.max_lines}")
    if requests_last_hour >= policy.limits.requests_per_hour:
        reasons.append(f"{requests_last_hour} requests in the last hour; the limit is {policy.limits.requests_per_hour}")
    if reasons:
        return Decision("block", tuple(reasons), approval, tuple(kept), tuple(dropped))
    why = f"task {request.task!r} allowed with approval {approval!r}; {selection.reason}"
    if dropped:
        why += f"; {len(dropped)} context piece(s) dropped"
    return Decision("send" if approval == "auto" else "prompt", (why,), approval, tuple(kept), tuple(dropped))


def _block(reasons: list[str], approval: Approval = "deny") -> Decision:
    return Decision("block", tuple(reasons), approval)

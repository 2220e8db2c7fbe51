"""Typed policy dataclasses: what the policy file says, after validation and merging.

Every default here is the strict one: no tasks, no paths, no provider, all redaction on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

POLICY_VERSION = 1
TASKS = ("explain", "fix", "complete", "chat", "generate", "ask")
APPROVALS = ("auto", "prompt", "deny")  # ordered loosest → strictest
ACTIONS = ("redact", "block")  # ordered loosest → strictest

Approval = Literal["auto", "prompt", "deny"]
Action = Literal["redact", "block"]


@dataclass(frozen=True)
class PolicyError:
    """A problem in a policy file; any one of them makes the whole policy local-only."""

    file: str
    line: int | None
    problem: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.problem}"


@dataclass(frozen=True)
class PolicySource:
    """A policy file that contributed to the effective policy, by path and content hash."""

    path: str
    sha256: str
    layer: Literal["org", "repo"]


@dataclass(frozen=True)
class Provider:
    """The OpenAI-compatible endpoint; the API key is read from the env var *named* here."""

    base_url: str
    model: str
    api_key_env: str
    timeout_seconds: float = 60.0
    max_retries: int = 2


@dataclass(frozen=True)
class SecretRule:
    """A policy-defined secret regex; a named group `secret` narrows what is redacted."""

    id: str
    pattern: str
    action: Action = "block"
    description: str = ""


@dataclass(frozen=True)
class Redaction:
    """What the sanitizer does. Built-in secret detectors are always on; only their action varies."""

    secrets: Action = "redact"  # default action of the built-in detectors
    actions: tuple[tuple[str, Action], ...] = ()  # per built-in rule id overrides
    rules: tuple[SecretRule, ...] = ()
    emails: bool = True
    private_ips: bool = True
    internal_domains: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()
    identifier_patterns: tuple[str, ...] = ()
    strip_comments: bool = False

    def action_for(self, rule_id: str) -> Action:
        return dict(self.actions).get(rule_id, self.secrets)


@dataclass(frozen=True)
class Limits:
    max_chars: int = 16_000
    max_lines: int = 400
    requests_per_hour: int = 30


@dataclass(frozen=True)
class Policy:
    """The effective policy. `errors` non-empty means local-only: nothing may leave."""

    version: int = POLICY_VERSION
    provider: Provider | None = None
    tasks: tuple[tuple[str, Approval], ...] = ()  # absent task = may not escalate
    confidential: tuple[str, ...] = ()
    # Each layer's allow-list; a path must be allowed by every layer (empty layer = nothing).
    allow: tuple[tuple[str, ...], ...] = ((),)
    redaction: Redaction = field(default_factory=Redaction)
    limits: Limits = field(default_factory=Limits)
    audit_path: str | None = None
    store_usage_code: bool = False  # [usage] store_code: code text in the local usage log, for a pilot
    sources: tuple[PolicySource, ...] = ()
    errors: tuple[PolicyError, ...] = ()

    @property
    def local_only(self) -> bool:
        return bool(self.errors)

    def approval_for(self, task: str) -> Approval:
        return dict(self.tasks).get(task, "deny")

    @classmethod
    def fail_closed(cls, errors: list[PolicyError] | tuple[PolicyError, ...], sources=()) -> Policy:
        return cls(errors=tuple(errors), sources=tuple(sources))


def stricter_approval(a: Approval, b: Approval) -> Approval:
    return a if APPROVALS.index(a) >= APPROVALS.index(b) else b


def stricter_action(a: Action, b: Action) -> Action:
    return a if ACTIONS.index(a) >= ACTIONS.index(b) else b

"""Read and validate policy TOML files and merge org + repo so that the stricter rule wins.

Fail closed: any problem (missing, unreadable, invalid TOML, unknown version or key, bad value,
regex that does not compile) yields a local-only `Policy` whose errors name file, line and problem.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pathspec

from assistant.escalation.policy.model import (
    ACTIONS,
    APPROVALS,
    POLICY_VERSION,
    TASKS,
    Limits,
    Policy,
    PolicyError,
    PolicySource,
    Provider,
    Redaction,
    SecretRule,
    stricter_action,
    stricter_approval,
)

REPO_POLICY_RELPATH = ".kura/policy.toml"
ORG_POLICY_ENV = "KURA_ORG_POLICY"
DEFAULT_ORG_POLICY = "/etc/kura/policy.toml"

_SCHEMA: dict[str, Any] = {
    "version": int,
    "provider": {"base_url": str, "model": str, "api_key_env": str, "timeout_seconds": float, "max_retries": int},
    "tasks": {task: "approval" for task in TASKS},
    "paths": {"confidential": "globs", "allow": "globs"},
    "redaction": {
        "secrets": "action",
        "actions": "actions",
        "rules": "rules",
        "emails": bool,
        "private_ips": bool,
        "internal_domains": "strings",
        "terms": "strings",
        "identifier_patterns": "regexes",
        "strip_comments": bool,
    },
    "limits": {"max_chars": "positive", "max_lines": "positive", "requests_per_hour": "positive"},
    "audit": {"path": str},
    "usage": {"store_code": bool},
}
_RULE_KEYS = {"id", "pattern", "action", "description"}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RULE_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


# ---------------------------------------------------------------------------------------------
# Locating a key's line: tomllib gives no positions, so we scan the text for the header/key.


def _locate(text: str, table: tuple[str, ...], key: str | None = None, index: int | None = None) -> int | None:
    header = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    current: tuple[str, ...] = ()
    seen_array = -1
    fallback = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        match = header.match(line)
        if match:
            current = tuple(part.strip().strip('"') for part in match.group(2).split("."))
            if match.group(1) == "[[" and current == table:
                seen_array += 1
            if key is None and current == table and (index is None or seen_array == index):
                return lineno
            if key is not None and current[: len(table) + 1] == table + (key,):
                return lineno  # the key is itself a table: [key] or [table.key]
            continue
        if key is None:
            continue
        key_match = re.match(r"^\s*([A-Za-z0-9_.\"-]+)\s*=", line)
        if not key_match:
            continue
        dotted = tuple(part.strip().strip('"') for part in key_match.group(1).split("."))
        full = current + dotted
        if full == table + (key,) and (index is None or seen_array == index):
            return lineno
        if dotted[-1] == key and fallback is None:
            fallback = lineno
    if key is not None and fallback is None and table:
        return _locate(text, table, None, index)
    return fallback


class _Collector:
    def __init__(self, path: str, text: str) -> None:
        self.path, self.text, self.errors = path, text, []

    def error(self, problem: str, table: tuple[str, ...] = (), key: str | None = None, index: int | None = None):
        self.errors.append(PolicyError(self.path, _locate(self.text, table, key, index), problem))


# ---------------------------------------------------------------------------------------------
# One file → a Policy layer


def load_policy_file(path: str | Path, layer: str = "repo") -> Policy:
    """Validate one policy file into a single-layer `Policy` (local-only with errors on any problem)."""
    path = Path(path)
    shown = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Policy.fail_closed([PolicyError(shown, None, "policy file not found; escalation is off (run `kura policy init`)")])
    except OSError as exc:
        return Policy.fail_closed([PolicyError(shown, None, f"cannot read policy file: {exc.strerror or exc}")])
    source = PolicySource(shown, hashlib.sha256(raw).hexdigest(), layer)  # type: ignore[arg-type]
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        return Policy.fail_closed([PolicyError(shown, None, f"not UTF-8: {exc.reason}")], [source])
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\(at line (\d+), column \d+\)", message)
        line = int(match.group(1)) if match else None
        problem = re.sub(r"\s*\(at line \d+, column \d+\)", "", message) if match else message
        if match is None and "end of document" in message:
            line = text.count("\n") + 1
        return Policy.fail_closed([PolicyError(shown, line, f"invalid TOML: {problem}")], [source])
    errors = _Collector(shown, text)
    policy = _build(data, errors, source)
    if errors.errors:
        return Policy.fail_closed(errors.errors, [source])
    return policy


def _check_type(value: Any, kind: Any, where: tuple[str, ...], key: str, errors: _Collector) -> Any:
    name = ".".join(where + (key,))
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            errors.error(f"'{name}' must be a positive number", where, key)
            return None
        return float(value)
    if kind is int or kind == "positive":
        if isinstance(value, bool) or not isinstance(value, int) or (kind == "positive" and value <= 0) or value < 0:
            errors.error(f"'{name}' must be a {'positive' if kind == 'positive' else 'non-negative'} integer", where, key)
            return None
        return value
    if kind in (str, bool):
        if not isinstance(value, kind):
            errors.error(f"'{name}' must be a {'string' if kind is str else 'boolean (true/false)'}", where, key)
            return None
        return value
    if kind == "approval":
        if value not in APPROVALS:
            errors.error(f"'{name}' must be one of {', '.join(APPROVALS)} (got {value!r})", where, key)
            return None
        return value
    if kind == "action":
        if value not in ACTIONS:
            errors.error(f"'{name}' must be one of {', '.join(ACTIONS)} (got {value!r})", where, key)
            return None
        return value
    if kind in ("strings", "globs", "regexes"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors.error(f"'{name}' must be a list of strings", where, key)
            return None
        if kind == "globs":
            for glob in value:
                try:
                    pathspec.GitIgnoreSpec.from_lines([glob])
                except Exception as exc:  # pathspec raises several types for bad patterns
                    errors.error(f"'{name}': invalid glob {glob!r}: {exc}", where, key)
                    return None
        if kind == "regexes":
            for pattern in value:
                if _regex_problem(pattern, f"'{name}'", where, key, errors):
                    return None
        if kind == "strings" and any(not v.strip() for v in value):
            errors.error(f"'{name}' must not contain empty strings", where, key)
            return None
        return tuple(value)
    raise AssertionError(kind)


def _regex_problem(pattern: str, name: str, where, key, errors: _Collector, index: int | None = None) -> bool:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        errors.error(f"{name}: regex {pattern!r} does not compile: {exc}", where, key, index)
        return True
    if compiled.match(""):
        errors.error(f"{name}: regex {pattern!r} matches the empty string", where, key, index)
        return True
    return False


def _build(data: Mapping[str, Any], errors: _Collector, source: PolicySource) -> Policy:
    from assistant.escalation.policy.secrets import BUILTIN_RULE_IDS

    for key in data:
        if key not in _SCHEMA:
            errors.error(f"unknown key '{key}'", (), key)
    version = data.get("version")
    if version is None:
        errors.error("missing 'version' (this kura understands version = 1)", ())
    elif isinstance(version, bool) or version != POLICY_VERSION:
        errors.error(f"unknown policy version {version!r} (this kura understands version = {POLICY_VERSION})", (), "version")

    values: dict[str, dict[str, Any]] = {}
    for table, spec in _SCHEMA.items():
        if table == "version" or table not in data:
            continue
        section = data[table]
        if not isinstance(section, dict):
            errors.error(f"'{table}' must be a table", (), table)
            continue
        values[table] = {}
        for key, value in section.items():
            if key not in spec:
                errors.error(f"unknown key '{key}' in [{table}]", (table,), key)
                continue
            kind = spec[key]
            if kind == "actions":
                values[table][key] = _check_actions(value, errors, BUILTIN_RULE_IDS, section.get("rules", []))
            elif kind == "rules":
                values[table][key] = _check_rules(value, errors)
            else:
                checked = _check_type(value, kind, (table,), key, errors)
                if checked is not None:
                    values[table][key] = checked

    provider = None
    if "provider" in values:
        p = values["provider"]
        missing = [k for k in ("base_url", "model", "api_key_env") if k not in p and k not in data["provider"]]
        for key in missing:
            errors.error(f"[provider] is missing '{key}'", ("provider",))
        env = p.get("api_key_env")
        if env is not None and not _ENV_NAME.match(env):
            errors.error("'provider.api_key_env' must be the *name* of an environment variable, not a key", ("provider",), "api_key_env")
        url = p.get("base_url")
        if url is not None and not re.match(r"^https?://[^\s/]+", url):
            errors.error(f"'provider.base_url' must be an http(s) URL (got {url!r})", ("provider",), "base_url")
        if not missing and not errors.errors:
            provider = Provider(**p)

    redaction = values.get("redaction", {})
    paths = values.get("paths", {})
    limits = values.get("limits", {})
    audit = values.get("audit", {})
    return Policy(
        provider=provider,
        tasks=tuple(sorted(values.get("tasks", {}).items())),
        confidential=paths.get("confidential", ()),
        allow=(paths.get("allow", ()),),
        redaction=Redaction(**{k: v for k, v in redaction.items() if v is not None}),
        limits=Limits(**limits),
        audit_path=audit.get("path"),
        store_usage_code=values.get("usage", {}).get("store_code", False),
        sources=(source,),
    )


def _check_actions(value: Any, errors: _Collector, builtin: frozenset[str], rules: Any) -> tuple:
    where = ("redaction", "actions")
    if not isinstance(value, dict):
        errors.error("'redaction.actions' must be a table of rule id = \"redact\" | \"block\"", ("redaction",), "actions")
        return ()
    custom = {r.get("id") for r in rules if isinstance(r, dict)} if isinstance(rules, list) else set()
    out = []
    for rule_id, action in value.items():
        if rule_id not in builtin and rule_id not in custom:
            errors.error(f"unknown rule id '{rule_id}' in [redaction.actions]", where, rule_id)
        elif action not in ACTIONS:
            errors.error(f"'redaction.actions.{rule_id}' must be one of {', '.join(ACTIONS)} (got {action!r})", where, rule_id)
        else:
            out.append((rule_id, action))
    return tuple(sorted(out))


def _check_rules(value: Any, errors: _Collector) -> tuple[SecretRule, ...]:
    where = ("redaction", "rules")
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        errors.error("'redaction.rules' must be an array of tables ([[redaction.rules]])", ("redaction",), "rules")
        return ()
    out = []
    for index, rule in enumerate(value):
        for key in rule:
            if key not in _RULE_KEYS:
                errors.error(f"unknown key '{key}' in [[redaction.rules]] #{index + 1}", where, key, index)
        rule_id, pattern = rule.get("id"), rule.get("pattern")
        if not isinstance(rule_id, str) or not _RULE_ID.match(rule_id):
            errors.error(f"[[redaction.rules]] #{index + 1} needs an 'id' (lowercase letters, digits, . _ -)", where, "id" if "id" in rule else None, index)
            continue
        if not isinstance(pattern, str):
            errors.error(f"rule '{rule_id}' needs a 'pattern' string", where, "pattern" if "pattern" in rule else None, index)
            continue
        if _regex_problem(pattern, f"rule '{rule_id}'", where, "pattern", errors, index):
            continue
        action = rule.get("action", "block")
        if action not in ACTIONS:
            errors.error(f"rule '{rule_id}': 'action' must be one of {', '.join(ACTIONS)} (got {action!r})", where, "action", index)
            continue
        description = rule.get("description", "")
        if not isinstance(description, str):
            errors.error(f"rule '{rule_id}': 'description' must be a string", where, "description", index)
            continue
        out.append(SecretRule(rule_id, pattern, action, description))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Two layers → the effective policy


def merge(org: Policy, repo: Policy) -> Policy:
    """Combine two valid layers; the stricter rule wins everywhere, the org's provider and audit path win."""
    if org.errors or repo.errors:
        return Policy.fail_closed(org.errors + repo.errors, org.sources + repo.sources)
    org_tasks, repo_tasks = dict(org.tasks), dict(repo.tasks)
    tasks = tuple(sorted((t, stricter_approval(org_tasks[t], repo_tasks[t])) for t in org_tasks.keys() & repo_tasks.keys()))
    a, b = org.redaction, repo.redaction
    actions: dict[str, str] = {}
    for rule_id, action in a.actions + b.actions:
        actions[rule_id] = stricter_action(actions.get(rule_id, action), action)  # type: ignore[arg-type]
    redaction = Redaction(
        secrets=stricter_action(a.secrets, b.secrets),
        actions=tuple(sorted(actions.items())),  # type: ignore[arg-type]
        rules=a.rules + b.rules,
        emails=a.emails or b.emails,
        private_ips=a.private_ips or b.private_ips,
        internal_domains=_union(a.internal_domains, b.internal_domains),
        terms=_union(a.terms, b.terms),
        identifier_patterns=_union(a.identifier_patterns, b.identifier_patterns),
        strip_comments=a.strip_comments or b.strip_comments,
    )
    limits = Limits(
        max_chars=min(org.limits.max_chars, repo.limits.max_chars),
        max_lines=min(org.limits.max_lines, repo.limits.max_lines),
        requests_per_hour=min(org.limits.requests_per_hour, repo.limits.requests_per_hour),
    )
    provider = org.provider or repo.provider
    if org.provider and repo.provider:
        provider = type(org.provider)(
            base_url=org.provider.base_url,
            model=org.provider.model,
            api_key_env=org.provider.api_key_env,
            timeout_seconds=min(org.provider.timeout_seconds, repo.provider.timeout_seconds),
            max_retries=min(org.provider.max_retries, repo.provider.max_retries),
        )
    return Policy(
        provider=provider,
        tasks=tasks,
        confidential=_union(org.confidential, repo.confidential),
        allow=org.allow + repo.allow,
        redaction=redaction,
        limits=limits,
        audit_path=org.audit_path or repo.audit_path,
        store_usage_code=org.store_usage_code and repo.store_usage_code,  # both must allow it
        sources=org.sources + repo.sources,
    )


def _union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a + b))


def org_policy_path(env: Mapping[str, str] | None = None) -> tuple[Path, bool]:
    """The org policy path and whether it was named explicitly (then it must exist)."""
    env = os.environ if env is None else env
    named = env.get(ORG_POLICY_ENV)
    return (Path(named), True) if named else (Path(DEFAULT_ORG_POLICY), False)


def load_policy(root: str | Path, *, repo_policy: str | Path | None = None, env: Mapping[str, str] | None = None) -> Policy:
    """The effective policy for a repository: `.kura/policy.toml` (or `repo_policy`) merged with the org policy.

    An org policy named by `KURA_ORG_POLICY` must exist; the default `/etc/kura/policy.toml` is
    optional, but when it exists it must be valid.
    """
    repo = load_policy_file(Path(repo_policy) if repo_policy else Path(root) / REPO_POLICY_RELPATH, "repo")
    org_path, named = org_policy_path(env)
    if not named and not org_path.exists():
        return repo
    org = load_policy_file(org_path, "org")
    return merge(org, repo)

"""Checks of what kura keeps for a repository and a user: the index, the git hooks, the escalation
policy and its provider, the usage log. They only read: nothing is repaired, moved or sent."""

from __future__ import annotations

import os
import re
import shlex
import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from assistant.doctor.check import FAIL, OK, WARN, Check
from assistant.escalation.policy.model import TASKS, Policy
from assistant.settings import UsageSettings

INDEX_FIX = "`kura index` (in the repository) moves the broken file aside and builds a new index"


def _size(nbytes: int) -> str:
    for unit in ("B", "KB", "MB"):
        if nbytes < 1024:
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.1f} GB"


def _age(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"


def _file_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


# --- the index -----------------------------------------------------------------------------------


def check_index(root: Path | None, index_path: Path | None, now: float | None = None) -> Check:
    """The repository's index file, read only: schema version, files, last update, SQLite integrity."""
    from indexer.index import default_index_path
    from indexer.store import SCHEMA_VERSION

    if root is None:
        return Check("index", WARN, "no repository here: nothing to index", "run `kura doctor` inside your repository, or pass --root")
    path = Path(index_path).expanduser() if index_path else default_index_path(root)
    if not path.exists():
        return Check("index", WARN, f"no index of {root} yet (looked for {path})",
                     "`kura index` builds it (the editor also builds it when kura starts)")
    problem, facts = _read_index(path, SCHEMA_VERSION)
    where = f"{path} ({_size(_file_bytes(path))})"
    if problem == "corrupt":
        return Check("index", FAIL, f"the index file {where} is corrupt: {facts['why']}", INDEX_FIX)
    if problem == "schema":
        return Check("index", WARN, f"the index {where} was made by {facts['why']}; kura rebuilds it when it opens it",
                     "`kura index` rebuilds it now")
    files, last = facts["files"], facts["last_update"]
    updated = f"updated {_age((now or time.time()) - last)}" if last else "never updated"
    detail = f"{files} file{'s' * (files != 1)}, schema {SCHEMA_VERSION}, {updated}, integrity ok: {where}"
    if files == 0:
        return Check("index", WARN, f"the index of {root} is empty ({detail})", "`kura index` fills it")
    return Check("index", OK, detail)


def _read_index(path: Path, schema_version: int) -> tuple[str | None, dict]:
    """(None | "corrupt" | "schema", facts) from opening the index read-only."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as exc:
        return "corrupt", {"why": f"cannot read it ({exc.strerror})"}
    if head != b"SQLite format 3\x00":
        return "corrupt", {"why": "not a SQLite database" if head else "the file is empty"}
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as exc:
        return "corrupt", {"why": str(exc)}
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "schema_version" not in tables:
            return "corrupt", {"why": "no schema_version table: not a kura index"}
        row = conn.execute("SELECT version FROM schema_version").fetchone()
        version = row[0] if row else None
        if version != schema_version:
            age = "an older" if (version or 0) < schema_version else "a newer"
            return "schema", {"why": f"{age} kura (schema {version}, this kura uses {schema_version})"}
        result = [r[0] for r in conn.execute("PRAGMA integrity_check(3)")]
        if result != ["ok"]:
            return "corrupt", {"why": "; ".join(result)}
        files = conn.execute("SELECT count(*) FROM files").fetchone()[0]
        last = conn.execute("SELECT value FROM meta WHERE key='last_update'").fetchone()
        return None, {"files": files, "last_update": float(last[0]) if last and last[0] else None}
    except sqlite3.DatabaseError as exc:
        return "corrupt", {"why": str(exc)}
    finally:
        conn.close()


# --- git hooks -----------------------------------------------------------------------------------


def check_hooks(root: Path | None) -> Check:
    """kura's post-commit/merge/checkout/rewrite hooks, and the Python they start."""
    import git

    from indexer.hooks import HOOK_NAMES, MARKER, hooks_dir

    if root is None:
        return Check("git hooks", OK, "no repository here: no hooks to check")
    try:
        directory = hooks_dir(root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return Check("git hooks", OK, f"{root} is not a git repository: hooks do not apply")
    ours, pythons = [], set()
    for name in HOOK_NAMES:
        try:
            text = (directory / name).read_text("utf-8", "replace")
        except OSError:
            continue
        if MARKER in text:
            ours.append(name)
            match = re.search(r"\$detach (\S+) -m lsp_server\.cli", text)
            if match:
                pythons.update(shlex.split(match.group(1)))
    if not ours:
        return Check("git hooks", WARN, f"not installed in {directory}: after a commit, merge or checkout the index "
                                        "catches up only when an editor runs kura", "`kura hook install`")
    missing = [n for n in HOOK_NAMES if n not in ours]
    gone = sorted(p for p in pythons if not Path(p).exists())
    if gone:
        return Check("git hooks", WARN, f"installed, but they start {', '.join(gone)}, which no longer exists: "
                                        "the index is not refreshed on commit", "`kura hook install` (updates them)")
    if missing:
        return Check("git hooks", WARN, f"{', '.join(ours)} installed, {', '.join(missing)} missing in {directory}",
                     "`kura hook install`")
    return Check("git hooks", OK, f"{', '.join(ours)} in {directory}")


# --- the policy and its provider -------------------------------------------------------------------


def check_policy(root: Path | None, env: Mapping[str, str]) -> tuple[Check, Policy | None]:
    """Whether the policy is valid, and whether escalation is on and why; the valid Policy or None."""
    from assistant.escalation.policy.load import REPO_POLICY_RELPATH, load_policy, load_policy_file, org_policy_path

    policy_fix = "fix the file and line named; `kura policy check` validates it"
    org_path, org_named = org_policy_path(env)
    repo_file = (root or Path.cwd()) / REPO_POLICY_RELPATH
    if not repo_file.exists():
        if org_named or org_path.exists():
            org = load_policy_file(org_path, "org")
            if org.errors:
                return Check("policy", FAIL, "the org policy is invalid: " + "; ".join(map(str, org.errors)), policy_fix), None
        return Check("policy", OK, f"no {repo_file}: cloud escalation is off, everything stays on this machine "
                                   "(the default; `kura policy init` writes a starter)"), None
    policy = load_policy(root or Path.cwd(), env=env)
    if policy.local_only:
        return Check("policy", FAIL, "invalid, so cloud escalation is off: " + "; ".join(map(str, policy.errors)),
                     policy_fix), None
    files = ", ".join(s.path for s in policy.sources)
    allowed = [f"{t} ({policy.approval_for(t)})" for t in TASKS if policy.approval_for(t) != "deny"]
    if policy.provider is None:
        state = "escalation off: no [provider]"
    elif not allowed:
        state = "escalation off: [tasks] allows none"
    else:
        state = f"escalation on for {', '.join(allowed)} to {policy.provider.model}"
    confidential = f"; {len(policy.confidential)} confidential path patterns" if policy.confidential else ""
    return Check("policy", OK, f"valid ({files}); {state}{confidential}"), policy


def check_provider(policy: Policy | None, env: Mapping[str, str], transport: httpx.BaseTransport | None = None) -> Check | None:
    """The cloud provider the policy names: its key is set and it answers GET /models. Sends no code."""
    from assistant.escalation.cloud import CloudClient, CloudError

    if policy is None or policy.provider is None:
        return None
    provider = policy.provider
    try:
        client = CloudClient.from_provider(provider, env)
    except CloudError as exc:
        if provider.api_key_env and not env.get(provider.api_key_env):
            fix = f"export {provider.api_key_env}=<key> in the environment the editor starts kura from"
        else:
            fix = "use an https:// base_url in the policy's [provider]"
        return Check("cloud provider", FAIL, str(exc), fix)
    url = f"{client.base_url}/models"
    started = time.perf_counter()
    try:
        with httpx.Client(timeout=min(10.0, provider.timeout_seconds), transport=transport, trust_env=False,
                          follow_redirects=False) as http:
            response = http.get(url, headers={"Authorization": f"Bearer {client.api_key}"})
    except httpx.HTTPError as exc:
        return Check("cloud provider", FAIL, f"{url} is unreachable ({type(exc).__name__}: {exc})",
                     "check base_url in the policy's [provider] and this machine's network")
    ms = (time.perf_counter() - started) * 1000
    if response.status_code in (401, 403):
        return Check("cloud provider", FAIL, f"{url} rejected the key in {provider.api_key_env} (HTTP {response.status_code})",
                     f"put a valid key in {provider.api_key_env}")
    if response.status_code == 200:
        try:
            models = {str(m.get("id")) for m in response.json().get("data") or []}
        except (ValueError, AttributeError):
            models = set()
        if models and provider.model not in models:
            return Check("cloud provider", WARN, f"{client.base_url} answered in {ms:.0f} ms but does not list model "
                                                 f"{provider.model}", "check model in the policy's [provider]")
    return Check("cloud provider", OK, f"{client.base_url} answered GET /models in {ms:.0f} ms (HTTP {response.status_code}); "
                                       f"model {provider.model}, key from {provider.api_key_env}; no code was sent")


# --- the usage log -------------------------------------------------------------------------------


def check_usage_log(usage: UsageSettings, policy: Policy | None, now: float | None = None) -> Check:
    from assistant.usage.log import UsageLogError, connect, default_usage_path

    if not usage.enabled:
        return Check("usage log", OK, "off (usage.enabled is false): nothing is recorded")
    path = Path(usage.path).expanduser() if usage.path else default_usage_path()
    code = "stores suggestion text ([usage] store_code in the policy)" if policy and policy.store_usage_code else "no code stored"
    if not path.exists():
        parent = next((p for p in path.parents if p.exists()), None)
        if parent is None or not os.access(parent, os.W_OK):
            return Check("usage log", FAIL, f"{path} cannot be created: {parent} is not writable, so nothing is recorded",
                         "make that folder writable, or set usage.path to a writable file")
        return Check("usage log", OK, f"none yet: kura creates {path} when the editor starts it ({code})")
    try:
        db = connect(path, create=False)
    except UsageLogError as exc:
        fix = ("upgrade kura" if "newer kura" in str(exc)
               else f"move it aside (`mv {path} {path}.broken`); kura starts a new log")
        return Check("usage log", FAIL, f"{exc}: usage is not recorded", fix)
    try:
        suggestions = db.execute("SELECT count(*), max(ts) FROM suggestions").fetchone()
        events = db.execute("SELECT count(*), max(ts) FROM events").fetchone()
    except sqlite3.DatabaseError as exc:
        return Check("usage log", FAIL, f"{path} cannot be read ({exc})",
                     f"move it aside (`mv {path} {path}.broken`); kura starts a new log")
    finally:
        db.close()
    last = max(filter(None, (suggestions[1], events[1])), default=None)
    when = f", last entry {_age((now or time.time()) - last)}" if last else ""
    return Check("usage log", OK, f"{path} ({_size(_file_bytes(path))}): {suggestions[0]} suggestions, {events[0]} events"
                                  f"{when}; {code}; `kura report` summarises it")

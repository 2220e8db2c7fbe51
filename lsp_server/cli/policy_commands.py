"""`kura policy init|check`, `kura sanitize` and `kura audit verify|show`.

Exit codes: 0 = ok / would send, 2 = policy error (or bad usage), 3 = blocked / audit problem.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from assistant.escalation.policy.model import TASKS, Policy  # light; the rest is imported by each command

EXIT_OK, EXIT_POLICY, EXIT_BLOCKED = 0, 2, 3


def register(subparsers: argparse._SubParsersAction) -> None:
    policy = subparsers.add_parser("policy", help="create and check the escalation policy")
    policy_sub = policy.add_subparsers(dest="policy_command", metavar="ACTION")
    init = policy_sub.add_parser("init", help="write a commented starter .kura/policy.toml")
    init.add_argument("path", nargs="?", default=".", help="repository root (or a .toml file path); default: .")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(func=cmd_policy_init)
    check = policy_sub.add_parser("check", help="validate and print the effective (merged) policy")
    check.add_argument("--path", help="a repository-relative path: is it confidential, may it escalate?")
    check.add_argument("--root", help="repository root (default: found from the current directory)")
    check.add_argument("--policy", help="use this file instead of .kura/policy.toml")
    check.set_defaults(func=cmd_policy_check)
    policy.set_defaults(func=lambda args: (policy.print_help(), EXIT_POLICY)[1])

    sanitize = subparsers.add_parser("sanitize", help="print exactly what would be sent to the cloud, or why not")
    sanitize.add_argument("file", nargs="?", default="-", help="file to sanitize, or - for stdin")
    sanitize.add_argument("--policy", help="use this file instead of .kura/policy.toml")
    sanitize.add_argument("--task", default="explain", choices=TASKS)
    sanitize.add_argument("--path", help="repository-relative path the text comes from (for confidentiality)")
    sanitize.add_argument("--root", help="repository root (default: found from the current directory)")
    sanitize.add_argument("--jsonl", action="store_true",
                          help='read {"path","text"} per line on stdin, write {"decision","payload","hits"} per line')
    sanitize.set_defaults(func=cmd_sanitize)

    audit = subparsers.add_parser("audit", help="inspect the escalation audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="ACTION")
    for name, func, text in (("verify", cmd_audit_verify, "check the hash chain (tampering, truncation)"),
                             ("show", cmd_audit_show, "list entries")):
        sub = audit_sub.add_parser(name, help=text)
        sub.add_argument("--log", help="audit log file (default: from the policy)")
        sub.add_argument("--root", help="repository root (default: found from the current directory)")
        if name == "show":
            sub.add_argument("--limit", type=int, default=20, help="show the last N entries (0 = all)")
            sub.add_argument("--json", action="store_true", help="print raw JSON lines")
        sub.set_defaults(func=func)
    audit.set_defaults(func=lambda args: (audit.print_help(), EXIT_POLICY)[1])


def find_root(start: str | None) -> Path:
    from assistant.escalation.policy.load import REPO_POLICY_RELPATH
    if start:
        return Path(start).resolve()
    here = Path.cwd().resolve()
    for directory in (here, *here.parents):
        if (directory / REPO_POLICY_RELPATH).exists() or (directory / ".git").exists():
            return directory
    return here


def _report_errors(policy: Policy) -> int:
    for error in policy.errors:
        print(f"kura: policy error: {error}", file=sys.stderr)
    print("kura: escalation is off (local only) until this is fixed", file=sys.stderr)
    return EXIT_POLICY


def cmd_policy_init(args: argparse.Namespace) -> int:
    from assistant.escalation.policy.load import REPO_POLICY_RELPATH
    from assistant.escalation.policy.starter import STARTER_POLICY
    target = Path(args.path)
    if target.suffix != ".toml":
        target = target / REPO_POLICY_RELPATH
    if target.exists() and not args.force:
        print(f"kura: {target} already exists (use --force to overwrite)", file=sys.stderr)
        return EXIT_POLICY
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(STARTER_POLICY, encoding="utf-8")
    print(f"wrote {target}; fill in [provider] to enable escalation, then run `kura policy check`")
    return EXIT_OK


def cmd_policy_check(args: argparse.Namespace) -> int:
    from assistant.escalation.policy.load import load_policy
    from assistant.escalation.policy.paths import classify
    root = find_root(args.root)
    policy = load_policy(root, repo_policy=args.policy)
    if policy.local_only:
        return _report_errors(policy)
    effective = asdict(policy)
    effective.pop("errors")
    print(json.dumps(effective, indent=2))
    if args.path:
        verdict = classify(policy, args.path)
        state = "confidential" if verdict.confidential else ("may escalate" if verdict.allowed else "may not escalate")
        print(f"{verdict.path}: {state} ({verdict.reason})")
    return EXIT_OK


def _relative(file: str, root: Path) -> str | None:
    try:
        return Path(file).resolve().relative_to(root).as_posix()
    except ValueError:
        return None


def cmd_sanitize(args: argparse.Namespace) -> int:
    from assistant.escalation.escalator import build_preview
    from assistant.escalation.policy.decide import ContextPiece, EscalationRequest
    from assistant.escalation.policy.load import load_policy
    root = find_root(args.root)
    policy = load_policy(root, repo_policy=args.policy)
    if policy.local_only:
        return _report_errors(policy)
    if args.jsonl:
        return _sanitize_jsonl(policy, args.task)
    if args.file == "-":
        text = sys.stdin.read()
        path = args.path
    else:
        try:
            text = Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"kura: cannot read {args.file}: {exc}", file=sys.stderr)
            return EXIT_POLICY
        path = args.path or _relative(args.file, root)
    preview = build_preview(EscalationRequest(args.task, ContextPiece(path, text, "selection")), policy)
    for line in preview.summary().splitlines():
        print(f"kura: {line}", file=sys.stderr)
    if preview.blocked:
        return EXIT_BLOCKED
    sys.stdout.buffer.write(preview.body)
    sys.stdout.buffer.write(b"\n")
    sys.stdout.flush()
    return EXIT_OK


def _sanitize_jsonl(policy: Policy, task: str) -> int:
    from assistant.escalation.escalator import build_preview
    from assistant.escalation.policy.decide import ContextPiece, EscalationRequest
    from assistant.escalation.policy.secrets import describe
    exit_code = EXIT_OK
    for raw in sys.stdin:
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
            path, text = item.get("path"), item["text"]
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
            result = {"decision": "block", "payload": None, "hits": [], "reasons": ["input line is not {\"path\", \"text\"}"]}
        else:
            preview = build_preview(EscalationRequest(task, ContextPiece(path, text, "selection")), policy)
            result = {
                "decision": "block" if preview.blocked else "send",
                "payload": preview.sanitized[0] if preview.sanitized else None,
                "hits": [
                    {"rule": rule, "why": describe(rule), "kind": f.finding.kind, "action": f.finding.action,
                     "line": f.finding.line, "placeholder": f.finding.placeholder}
                    for f in preview.findings for rule in f.finding.rule_ids
                ],
                "reasons": list(preview.decision.reasons),
            }
        if result["decision"] == "block":
            exit_code = EXIT_BLOCKED
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return exit_code


def _log_path(args: argparse.Namespace) -> Path | None:
    from assistant.escalation.escalator import audit_path
    from assistant.escalation.policy.load import load_policy
    if args.log:
        return Path(args.log)
    root = find_root(args.root)
    policy = load_policy(root)
    if policy.local_only:
        _report_errors(policy)
        return None
    return audit_path(policy, root)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from assistant.escalation.policy.audit import verify
    path = _log_path(args)
    if path is None:
        return EXIT_POLICY
    result = verify(path)
    for problem in result.problems:
        print(f"kura: {problem}", file=sys.stderr)
    print(f"{path}: {result.entries} entries, {'chain verified' if result.ok else 'NOT VERIFIED'}")
    return EXIT_OK if result.ok else EXIT_BLOCKED


def cmd_audit_show(args: argparse.Namespace) -> int:
    from assistant.escalation.policy.audit import AuditLog
    path = _log_path(args)
    if path is None:
        return EXIT_POLICY
    try:
        entries = AuditLog(path).entries()
    except (OSError, ValueError) as exc:
        print(f"kura: cannot read {path}: {exc}", file=sys.stderr)
        return EXIT_BLOCKED
    if args.limit:
        entries = entries[-args.limit:]
    for entry in entries:
        if args.json:
            print(json.dumps(entry, ensure_ascii=False))
            continue
        files = ", ".join(f"{f['path']}" + (f":{f['range'][0]}-{f['range'][1]}" if f.get("range") else "") for f in entry.get("files", []))
        rules = ", ".join(f"{h['rule']}×{h['count']}" for h in entry.get("hits", [])) or "no hits"
        print(f"#{entry.get('seq')} {entry.get('time')} {entry.get('user')} {entry.get('task')} "
              f"{entry.get('decision')}: {files} [{rules}] — {entry.get('reason')}")
    return EXIT_OK

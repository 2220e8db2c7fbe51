"""Regenerate assistant/escalation/policy/kingfisher_rules.json from kingfisher's rules (Apache-2.0).

kingfisher (github.com/mongodb/kingfisher, grown from Praetorian's Nose Parker) keeps ~750 vendor
rules in data/rules/*.yml: a regex whose capture group is the secret, a minimum entropy and examples.
This compiles each pattern with Python's `re` (the few it cannot compile are listed and left out),
derives needles (literal text every match must contain, lowercased) so that a rule runs only on a
payload that could match it, and writes what kura loads, with the licence and the source commit.
Left out, to keep a 200-line payload well under 20 ms: generic rules and the weak-password list
(kura's structural detectors cover them), rules with no needle (they would run on every payload;
gitleaks' rules cover those vendors), and rules whose needles are in more than 10 % of ordinary
code (the Python standard library stands in for it: "key", "line", "column" ...).

Usage: python benchmarks/secrets_kingfisher_rules.py PATH/TO/kingfisher   (a clone, or a bare mirror)
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

try:  # Python 3.11+: the parser moved
    import re._parser as sre_parse
    import re._constants as sre_constants
except ImportError:  # pragma: no cover
    import sre_constants
    import sre_parse

import sysconfig

import yaml

OUT = Path(__file__).resolve().parents[1] / "assistant" / "escalation" / "policy" / "kingfisher_rules.json"


def needles(pattern: str) -> list[str]:
    """Literal runs (3+ characters) that every match contains, lowercased; one alternative each for a
    top-level branch of literals. [] when none can be proved (the rule then always runs)."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return []
    runs = _mandatory_runs(list(parsed))
    best = max(runs, key=lambda alternatives: min(map(len, alternatives)), default=None)
    return sorted(set(best)) if best and min(map(len, best)) >= 3 else []


def _mandatory_runs(items) -> list[list[str]]:
    """Each element: the alternatives one of which must occur, as lowercased literal runs."""
    out, run = [], ""
    for op, arg in items:
        if op is sre_constants.LITERAL:
            run += chr(arg).lower()
            continue
        if run:
            out.append([run])
            run = ""
        if op is sre_constants.SUBPATTERN:
            out.extend(_mandatory_runs(list(arg[-1])))
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT) and arg[0] >= 1:
            out.extend(_mandatory_runs(list(arg[2])))
        elif op is sre_constants.BRANCH:
            branches = [_mandatory_runs(list(b)) for b in arg[1]]
            if all(branches):
                firsts = [max(b, key=lambda a: min(map(len, a))) for b in branches]
                out.append([s for alternatives in firsts for s in alternatives])
        elif op is sre_constants.IN and len(arg) == 2 and all(o is sre_constants.LITERAL for o, _ in arg):
            chars = {chr(c).lower() for _, c in arg}
            if len(chars) == 1:  # [Aa] under (?i) and the like
                run += chars.pop()
    if run:
        out.append([run])
    return out


def common_text_share() -> "callable":
    """The share of standard-library modules that contain any of some needles."""
    stdlib = sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py"))
    texts = [p.read_text(encoding="utf-8", errors="replace").lower() for p in stdlib]
    return lambda found: sum(any(n in t for n in found) for t in texts) / max(1, len(texts))


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    repo = Path(sys.argv[1])
    git = ["git", "-C", str(repo)]
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    files = [f for f in subprocess.run([*git, "ls-tree", "-r", "--name-only", "HEAD"], capture_output=True, text=True,
                                       check=True).stdout.splitlines() if re.fullmatch(r"data/rules/[^/]+\.ya?ml", f)]
    licence = subprocess.run([*git, "show", "HEAD:LICENSE"], capture_output=True, text=True, check=True).stdout
    rules, dropped = [], []
    share = common_text_share()
    for path in sorted(files):
        text = subprocess.run([*git, "show", f"HEAD:{path}"], capture_output=True, text=True, check=True).stdout
        for rule in (yaml.safe_load(text) or {}).get("rules") or []:
            rule_id = str(rule.get("id", ""))
            if not rule_id or "generic" in rule_id or "weak_password" in rule_id or "pattern" not in rule:
                dropped.append(rule_id or path)
                continue
            pattern = rule["pattern"].replace(r"\z", r"\Z")
            try:
                re.compile(pattern)
            except re.error as exc:
                dropped.append(f"{rule_id} ({exc})")
                continue
            found = needles(pattern)
            if not found or share(found) > 0.10:
                dropped.append(f"{rule_id} (needles {found or 'none'})")
                continue
            rules.append({"id": rule_id.removeprefix("kingfisher."), "description": rule.get("name", ""),
                          "regex": pattern, "entropy": float(rule.get("min_entropy") or 0.0), "needles": found})
    data = {"source": f"https://github.com/mongodb/kingfisher/tree/{commit}/data/rules", "licence": licence,
            "notice": "Copyright MongoDB, Inc. kingfisher's rules grew from Praetorian's Nose Parker (Apache-2.0); "
                      "its THIRD_PARTY_NOTICES lists the works it includes. Changes here: patterns compiled for "
                      "Python's re, needles derived, generic and common-word rules left out.",
            "generated_by": "benchmarks/secrets_kingfisher_rules.py", "rules": rules}
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}: {len(rules)} rules from {commit[:12]}; left out {len(dropped)}: {', '.join(dropped)}")


if __name__ == "__main__":
    main()

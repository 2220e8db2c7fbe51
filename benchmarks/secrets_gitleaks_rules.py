"""Regenerate assistant/escalation/policy/gitleaks_rules.json from gitleaks' config/gitleaks.toml (MIT licence).

gitleaks' rules are Go RE2 regexes; this translates the few constructs Python's `re` spells
differently (a global `(?i)` after the start, `\\z`, POSIX classes), compiles every rule, and writes
the rules kura loads (id, regex, secret group, entropy, keywords, allow-lists, and the file-path pattern
a rule is scoped to, e.g. Terraform files for hashicorp-tf-password) with the licence and the source commit. Rules that only match file paths, and the generic keyword rule (kura's structural
detector covers it), are left out.

Usage: python benchmarks/secrets_gitleaks_rules.py PATH/TO/gitleaks   (a clone: git clone https://github.com/gitleaks/gitleaks)
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "assistant" / "escalation" / "policy" / "gitleaks_rules.json"
SKIP = {"generic-api-key"}
POSIX = {"[:alnum:]": "A-Za-z0-9", "[:alpha:]": "A-Za-z", "[:digit:]": "0-9", "[:upper:]": "A-Z", "[:lower:]": "a-z",
         "[:space:]": r"\s", "[:xdigit:]": "0-9A-Fa-f", "[:punct:]": r"!-/:-@\[-`{-~", "[:word:]": r"\w"}


def to_python(regex: str) -> str:
    """Go RE2 → Python re: scope a mid-pattern `(?i)` to the end of its enclosing group."""
    for posix, py in POSIX.items():
        regex = regex.replace(posix, py)
    regex = regex.replace(r"\z", r"\Z")
    while True:
        pos = regex.find("(?i)", 1)
        if pos < 0:
            return regex
        depth, i = 0, pos + 4
        while i < len(regex):
            ch = regex[i]
            if ch == "\\":
                i += 2
                continue
            if ch == "[":
                j = i + 1
                if j < len(regex) and regex[j] == "]":
                    j += 1
                while j < len(regex) and regex[j] != "]":
                    j += 2 if regex[j] == "\\" else 1
                i = j + 1
                continue
            if ch == "(":
                depth += 1
            elif ch == ")":
                if depth == 0:
                    break
                depth -= 1
            i += 1
        regex = regex[:pos] + "(?i:" + regex[pos + 4:i] + ")" + regex[i:]


def allowlist(entry: dict) -> dict:
    return {"regexes": [to_python(r) for r in entry.get("regexes", [])], "target": entry.get("regexTarget", "secret"),
            "stopwords": [s.lower() for s in entry.get("stopwords", [])], "paths": entry.get("paths", []),
            "condition": entry.get("condition", "OR")}


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    repo = Path(sys.argv[1])
    config = tomllib.loads((repo / "config" / "gitleaks.toml").read_text())
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    licence = (repo / "LICENSE").read_text()
    rules, dropped = [], []
    for rule in config["rules"]:
        if "regex" not in rule or rule["id"] in SKIP:
            dropped.append(rule["id"])
            continue
        regex = to_python(rule["regex"])
        try:
            re.compile(regex)
            lists = [allowlist(a) for a in rule.get("allowlists", [])]
            for a in lists:
                for r in a["regexes"]:
                    re.compile(r)
        except re.error as exc:
            dropped.append(f"{rule['id']} ({exc})")
            continue
        rules.append({"id": rule["id"], "description": rule.get("description", ""), "regex": regex,
                      "secret_group": rule.get("secretGroup", 0), "entropy": rule.get("entropy", 0.0),
                      "keywords": [k.lower() for k in rule.get("keywords", [])], "allowlists": lists,
                      **({"path": to_python(rule["path"])} if "path" in rule else {})})
    glob = config.get("allowlist", {})
    data = {
        "source": f"https://github.com/gitleaks/gitleaks/blob/{commit}/config/gitleaks.toml",
        "licence": licence,
        "generated_by": "benchmarks/secrets_gitleaks_rules.py",
        "global_allowlist": {"regexes": [to_python(r) for r in glob.get("regexes", [])],
                             "stopwords": [s.lower() for s in glob.get("stopwords", [])]},
        "rules": rules,
    }
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}: {len(rules)} rules from {commit[:12]}; left out: {', '.join(dropped)}")


if __name__ == "__main__":
    main()

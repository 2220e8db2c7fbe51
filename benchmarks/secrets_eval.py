"""Score the sanitizer on the corpus built by benchmarks/secrets_corpus.py: recall per half, clean-file FP.

A planted secret counts as caught when the request is blocked or the value is gone from what would be
sent; a long value also leaks when any 32-character run of one of its tokens survives (a partial
redaction is not a redaction). A clean file counts as a false positive when a secret detector fires on
it (names — e-mails, private IPs — are policy replacements, reported apart). The snippets measurement
sources label as NOT secrets (negatives.jsonl) are scored the same way and reported apart, per source.

Usage: python benchmarks/secrets_eval.py [--corpus DIR] [--half tuning|heldout|both] [--show N]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.escalation.escalator import build_preview  # noqa: E402
from assistant.escalation.policy.decide import ContextPiece, EscalationRequest  # noqa: E402
from assistant.escalation.policy.load import load_policy_file  # noqa: E402
from assistant.escalation.policy.starter import STARTER_POLICY  # noqa: E402

DEFAULT_CORPUS = Path.home() / ".cache" / "kura-eval"


def starter_policy():
    """The starter policy as `kura policy init` writes it, with a provider and no size limits."""
    text = STARTER_POLICY.replace("# [provider]", "[provider]").replace('# base_url = "https', 'base_url = "https')
    text = text.replace('# model = "gpt-4o"', 'model = "gpt-4o"').replace('# api_key_env =', "api_key_env =")
    text = text.replace("max_chars = 16000", "max_chars = 100000000").replace("max_lines = 400", "max_lines = 10000000")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "policy.toml").write_text(text)
        policy = load_policy_file(Path(tmp) / "policy.toml")
    assert not policy.errors and policy.provider, policy.errors
    return policy


def leaked(value: str, sent: str) -> bool:
    if value in sent:
        return True
    for token in re.split(r"[\s;&,]+", value):
        for i in range(0, len(token) - 31):
            if token[i:i + 32] in sent:
                return True
    return False


def preview_of(path: str, text: str, policy):
    return build_preview(EscalationRequest("explain", ContextPiece(path, text, "selection")), policy)


@dataclass
class Score:
    planted: int = 0
    caught: int = 0
    blocked: int = 0
    missed: list = field(default_factory=list)
    planted_by_source: Counter = field(default_factory=Counter)

    @property
    def recall(self) -> float:
        return self.caught / self.planted if self.planted else 1.0


def score_cases(cases: list[dict], policy) -> Score:
    score = Score()
    for case in cases:
        preview = preview_of(case["path"], case["text"], policy)
        sent = "" if preview.blocked else preview.messages[1]["content"]
        for value in case["secrets"]:
            score.planted += 1
            score.planted_by_source[case["source"]] += 1
            if not leaked(value, sent):
                score.caught += 1
                score.blocked += preview.blocked
            else:
                score.missed.append((case, value))
    return score


def _clean_verdict(item: dict) -> tuple[str, list[str], list[str]]:
    preview = preview_of(item["path"], item["text"], _POLICY[0])
    kinds = {f.finding.kind for f in preview.findings}
    if preview.blocked or "secret" in kinds or "residual" in kinds:
        rules = [r for f in preview.findings if f.finding.kind in ("secret", "residual") for r in f.finding.rule_ids]
        sanitized = preview.sanitized[0] if preview.sanitized else ""
        lines = [o.strip()[:160] for o, n in zip(item["text"].splitlines(), sanitized.splitlines()) if o != n and "KURA_SECRET" in n]
        return "secret", rules or [preview.decision.reason[:100]], lines[:3]
    if preview.sanitized and preview.sanitized[0] != item["text"]:
        return "name", [], []
    return "", [], []


_POLICY: list = []


def _init_worker() -> None:
    _POLICY[:] = [starter_policy()]


def score_clean(files: list[dict], workers: int = 2) -> tuple[list, list]:
    """(files a secret detector changed or blocked, with rules and lines; files only name replacement changed)."""
    from multiprocessing import Pool

    with Pool(workers, initializer=_init_worker) as pool:
        verdicts = pool.map(_clean_verdict, files, chunksize=32)
    secret_fp = [(item, rules, lines) for item, (kind, rules, lines) in zip(files, verdicts) if kind == "secret"]
    name_only = [item for item, (kind, _, _) in zip(files, verdicts) if kind == "name"]
    return secret_fp, name_only


def load(corpus: Path):
    cases = [json.loads(line) for line in (corpus / "cases.jsonl").open()]
    clean = [json.loads(line) for line in (corpus / "clean.jsonl").open()]
    return cases, clean


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--half", default="both", choices=("tuning", "heldout", "both"))
    parser.add_argument("--show", type=int, default=0, help="print N misses / FPs of the tuning half")
    parser.add_argument("--no-clean", action="store_true")
    parser.add_argument("--clean-step", type=int, default=1, help="score every Nth clean file (quicker tuning)")
    args = parser.parse_args()
    if not (args.corpus / "cases.jsonl").exists():
        sys.exit(f"no corpus in {args.corpus}: run benchmarks/secrets_corpus.py first")
    policy = starter_policy()
    cases, clean = load(args.corpus)
    clean = clean[:: args.clean_step]
    for half in ("tuning", "heldout"):
        if args.half not in (half, "both"):
            continue
        t0 = time.perf_counter()
        score = score_cases([c for c in cases if c["half"] == half], policy)
        missed = Counter(c["source"] for c, _ in score.missed)
        per_source = ", ".join(f"{src} {(n - missed[src]) / n:.1%} ({n - missed[src]}/{n})"
                               for src, n in sorted(score.planted_by_source.items()))
        print(f"{half}: recall {score.recall:.1%} ({score.caught}/{score.planted}, {score.blocked} by blocking) "
              f"[{time.perf_counter() - t0:.1f} s]\n  by source: {per_source}")
        if half == "tuning":
            for case, value in score.missed[: args.show]:
                print(f"  MISS {case['source']}/{case['family']} {case['path']}: {value[:80]!r}")
                print("    " + case["text"][:400].replace("\n", "\n    "))
    negatives_path = args.corpus / "negatives.jsonl"
    if negatives_path.exists():
        negatives = [json.loads(line) for line in negatives_path.open()]
        _init_worker()
        for half in ("tuning", "heldout"):
            if args.half not in (half, "both"):
                continue
            items = [n for n in negatives if n["half"] == half]
            verdicts = [(n, _clean_verdict(n)) for n in items]
            flagged = Counter(n["source"] for n, (kind, _, _) in verdicts if kind == "secret")
            total = Counter(n["source"] for n in items)
            per_source = ", ".join(f"{src} {flagged[src]}/{n}" for src, n in sorted(total.items()))
            print(f"{half} labelled non-secrets flagged: {sum(flagged.values())}/{len(items)}\n  by source: {per_source}")
            if half == "tuning":
                for n, (kind, rules, lines) in verdicts:
                    if kind == "secret" and args.show:
                        print(f"  NEG-FP {n['source']}/{n['family']}: {dict(Counter(rules))} {lines[:2]}")
    if not args.no_clean:
        t0 = time.perf_counter()
        fps, names = score_clean(clean)
        langs = Counter(i["lang"] for i, _, _ in fps)
        print(f"clean: {len(fps)}/{len(clean)} files changed by secret detectors ({len(fps) / len(clean):.2%}) "
              f"{dict(langs)}; {len(names)} more by name replacement only [{time.perf_counter() - t0:.1f} s]")
        for item, rules, lines in fps[: args.show]:
            print(f"  FP {item['path']}: {dict(Counter(rules))}")
            for line in lines:
                print(f"     {line}")


if __name__ == "__main__":
    main()

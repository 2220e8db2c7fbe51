"""Recall and false-positive rate of the sanitizer on the labelled corpus (shared by test and benchmark)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from assistant.escalation.escalator import build_preview
from assistant.escalation.policy.decide import ContextPiece, EscalationRequest
from assistant.escalation.policy.model import Policy

CORPUS = Path(__file__).parent / "corpus"


@dataclass
class CorpusScore:
    planted: int
    caught: int
    missed: list[tuple[str, str]]  # (file, kind)
    clean_files: int
    changed: list[str]

    @property
    def recall(self) -> float:
        return self.caught / self.planted

    @property
    def false_positive_rate(self) -> float:
        return len(self.changed) / self.clean_files


def evaluate(policy: Policy) -> CorpusScore:
    labels = json.loads((CORPUS / "labels.json").read_text())
    caught, missed = 0, []
    planted = 0
    for file, secrets in labels["planted"].items():
        text = (CORPUS / "planted" / file).read_text()
        preview = build_preview(EscalationRequest("explain", ContextPiece(f"src/{file}", text, "selection")), policy)
        sent = preview.sanitized[0] if preview.sanitized else ""
        for secret in secrets:
            planted += 1
            if secret["value"] in sent:
                missed.append((file, secret["kind"]))
            else:
                caught += 1
    changed = []
    for file in labels["clean"]:
        text = (CORPUS / "clean" / file).read_text()
        preview = build_preview(EscalationRequest("explain", ContextPiece(f"src/{file}", text, "selection")), policy)
        if preview.blocked or preview.sanitized[0] != text:
            changed.append(file)
    return CorpusScore(planted, caught, missed, len(labels["clean"]), changed)

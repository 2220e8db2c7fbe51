"""The combined pass over a text: known formats (formats.py), keyword context (keywords.py), what code does
with a literal (arguments.py), the structural net of random-looking values (structural.py) and decoded
views (views.py), then one hit per redaction with its rule id.

`SecretScanner(redaction).scan(text, path) -> list[Hit]` is pure; a hit carries the rule id and
span, never a copy of the matched value beyond the caller's own text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from assistant.escalation.policy.arguments import argument_hits, cli_password_hits, compared_hits
from assistant.escalation.policy.formats import (
    BUILTIN, FIRST_GROUP, Detector, capability_url_hits, detect_secrets_detectors, gitleaks_detectors,
    kingfisher_detectors, policy_detector,
)
from assistant.escalation.policy.keywords import (
    assignment_hits, byte_array_hits, credential_column_hits, entropy_hits, kube_secret_hits, name_value_hits,
    sentinel_hits, suffixed_password_hits,
)
from assistant.escalation.policy.model import Action, Redaction
from assistant.escalation.policy.structural import password_hits, random_value_hits
from assistant.escalation.policy.values import PLACEHOLDER, is_placeholder_value
from assistant.escalation.policy.views import VIEW_RULES, view_hits


@dataclass(frozen=True)
class Hit:
    """A detector's match over `text[start:end]`."""

    rule_id: str
    kind: str  # "secret" or a name category ("email", "ip", "host", "url", "term", "ident")
    start: int
    end: int
    action: str  # "redact" | "block" for secrets; "replace" for names


FUNCTION_DETECTORS: tuple[tuple[str, str, Callable[[str, str | None], Iterator[tuple[int, int]]]], ...] = (
    ("credential-assignment", "password/secret/token assigned to a credential-named key", assignment_hits),
    ("credential-literal", "credential in a #define or XML element", sentinel_hits),
    ("high-entropy-credential", "high-entropy string in a credential context", entropy_hits),
    ("capability-url", "URL carrying a credential in its query (signed link, tokened webhook), whole", capability_url_hits),
    ("cli-password", "password given with -p/--password on a command line that names a user", cli_password_hits),
    ("named-value", "the value of a name/value pair whose name names a credential (Kubernetes env, parameters)", name_value_hits),
    ("kubernetes-secret", "a value under data or stringData of a Kubernetes Secret manifest", kube_secret_hits),
    ("credential-column", "a cell under a table's credential column (CSV, TSV, Markdown: `user,password`)", credential_column_hits),
    ("credential-bytes", "a key, secret or password written as an array of byte literals", byte_array_hits),
    ("suffixed-password", "a password value under a qualified password name (`db_password_prod`, `dbPasswordProd`)", suffixed_password_hits),
    ("credential-comparison", "a literal compared with a credential-named variable (`\"x\" == password`, `password.equals(\"x\")`)", compared_hits),
    ("credential-argument", "a literal passed where a well-known connection, login or signing call takes its password or key (`Redis(host, port, db, \"pw\")`, `getConnection(url, user, \"pw\")`, `auth=(\"user\", \"pw\")`)", argument_hits),
)


STRUCTURAL_RULES = (
    ("random-credential", "random-looking value on a line that names a credential"),
    ("random-token", "random-looking token (letters and digits mixed like a generated key)"),
    ("password-value", "letters-and-digits value right after a password word"),
    ("repeated-secret", "another occurrence of a value redacted elsewhere in the same text"),
)

BUILTIN_RULE_IDS = frozenset(
    [d.id for d in BUILTIN] + [i for i, _, _ in FUNCTION_DETECTORS] + [d.id for d in detect_secrets_detectors()]
    + [d.id for d in gitleaks_detectors()] + [d.id for d in kingfisher_detectors()]
    + [i for i, _ in STRUCTURAL_RULES + VIEW_RULES]
)


@lru_cache(maxsize=1)
def _descriptions() -> dict[str, str]:
    out = {d.id: d.description for d in BUILTIN + gitleaks_detectors() + kingfisher_detectors() + detect_secrets_detectors()}
    out.update({i: text for i, text, _ in FUNCTION_DETECTORS})
    out.update(dict(STRUCTURAL_RULES + VIEW_RULES))
    return out


def describe(rule_id: str) -> str:
    """What a built-in rule looks for, for `kura sanitize` to explain a redaction."""
    return _descriptions().get(rule_id, "policy rule" if not rule_id.startswith(("internal-", "identifier-")) else rule_id)


class SecretScanner:
    """All secret detectors for one policy's redaction settings, compiled once."""

    def __init__(self, redaction: Redaction) -> None:
        self.redaction = redaction
        self.regex_detectors: tuple[Detector, ...] = BUILTIN + gitleaks_detectors() + kingfisher_detectors() + detect_secrets_detectors() + tuple(
            policy_detector(r.id, r.pattern, r.description) for r in redaction.rules
        )
        self._custom_actions = {r.id: r.action for r in redaction.rules}
        needles = {n for d in self.regex_detectors for n in d.needles}
        lower = sorted(n for n in needles if n == n.lower())
        self._short_needles = tuple(n for n in lower if len(n) < 3)
        # A thousand needles tested one by one cost more than the regexes they guard: index them by
        # their first three characters, and test only those whose trigram occurs in the text.
        self._needles_by_trigram: dict[str, list[str]] = {}
        for needle in lower:
            if len(needle) >= 3:
                self._needles_by_trigram.setdefault(needle[:3], []).append(needle)
        self._case_needles = tuple(sorted(n for n in needles if n != n.lower()))
        self._unguarded = tuple(i for i, d in enumerate(self.regex_detectors) if not d.needles)
        self._guarded_by: dict[str, list[int]] = {}  # needle -> positions of the detectors it lets run
        for i, detector in enumerate(self.regex_detectors):
            for needle in detector.needles:
                self._guarded_by.setdefault(needle, []).append(i)

    def action_for(self, rule_id: str) -> Action:
        overrides = dict(self.redaction.actions)
        if rule_id in overrides:
            return overrides[rule_id]
        return self._custom_actions.get(rule_id, self.redaction.secrets)  # type: ignore[return-value]

    def scan(self, text: str, path: str | None = None) -> list[Hit]:
        hits = self._scan_as_written(text, path)
        for rule_id, start, end in view_hits(text, path, self._spans):
            hits.append(Hit(rule_id, "secret", start, end, self.action_for(rule_id)))
        hits = [h for h in hits if not _inside_placeholder(text, h)]
        hits += _whole_values(text, hits)
        return hits + self._repeats(text, hits)

    def _repeats(self, text: str, hits: list[Hit]) -> list[Hit]:
        """A value found once is a secret wherever else it stands in the text (`login: X password: X`,
        a token logged after it was assigned), though no detector would fire there on its own."""
        values = {text[h.start:h.end] for h in hits if h.kind == "secret"}
        covered = {(h.start, h.end) for h in hits}
        out: list[Hit] = []
        for value in values:
            if len(value) < 6 or "\n" in value or is_placeholder_value(value) or text.count(value) < 2:
                continue
            for match in re.finditer(r"(?<![A-Za-z0-9])" + re.escape(value) + r"(?![A-Za-z0-9])", text):
                if match.span() not in covered:
                    out.append(Hit("repeated-secret", "secret", match.start(), match.end(), self.action_for("repeated-secret")))
        return out

    def _spans(self, text: str, path: str | None) -> list[tuple[str, int, int]]:
        return [(h.rule_id, h.start, h.end) for h in self._scan_as_written(text, path) if not _inside_placeholder(text, h)]

    def _scan_as_written(self, text: str, path: str | None) -> list[Hit]:
        hits: list[Hit] = []
        lower = text.lower()
        present = {n for n in self._short_needles if n in lower} | {n for n in self._case_needles if n in text}
        trigrams = {lower[i:i + 3] for i in range(len(lower) - 2)}
        for trigram in trigrams.intersection(self._needles_by_trigram):
            present.update(n for n in self._needles_by_trigram[trigram] if n in lower)
        chosen = set(self._unguarded)
        for needle in present:
            chosen.update(self._guarded_by[needle])
        for position in sorted(chosen):
            detector = self.regex_detectors[position]
            for match in detector.regex.finditer(text):
                group = detector.group
                if group == FIRST_GROUP:
                    group = next((i for i in range(1, match.re.groups + 1) if match.start(i) >= 0), 0)
                start, end = match.span(group)
                if start < 0 or end <= start:
                    continue
                if detector.check and not detector.check(match.group(group), match, path):
                    continue
                hits.append(Hit(detector.id, "secret", start, end, self.action_for(detector.id)))
        for rule_id, _, function in FUNCTION_DETECTORS:
            for start, end in function(text, path):
                if end > start:
                    hits.append(Hit(rule_id, "secret", start, end, self.action_for(rule_id)))
        for start, end in password_hits(text):
            if not is_placeholder_value(text[start:end]):
                hits.append(Hit("password-value", "secret", start, end, self.action_for("password-value")))
        for rule_id, start, end in random_value_hits(text, path):
            hits.append(Hit(rule_id, "secret", start, end, self.action_for(rule_id)))
        return hits


_KEYED_VALUE = re.compile(r"(?i)[\w.\-]*(?:key|token|secret|passw\w*|pwd|auth\w*|credentials?)[=:]")
_VALUE_STOP = " \t\n\"'`<>"


def _whole_values(text: str, hits: list[Hit]) -> list[Hit]:
    """A hit inside the value of `credential_key=VALUE` (no spaces) widens to the whole value: a
    token with a readable part (`Key=7/123…/456:9f1a…`) is one credential, not just its random tail."""
    out: list[Hit] = []
    for hit in hits:
        if hit.kind != "secret":
            continue
        start, end = hit.start, hit.end
        while start > 0 and text[start - 1] not in _VALUE_STOP and hit.end - start < 512:
            start -= 1
        while end < len(text) and text[end] not in _VALUE_STOP and end - hit.start < 512:
            end += 1
        keyed = _KEYED_VALUE.match(text, start, hit.start)
        if keyed and (keyed.end(), end) != (hit.start, hit.end) and keyed.end() <= hit.start:
            out.append(Hit(hit.rule_id, "secret", keyed.end(), end, hit.action))
    return out


def _inside_placeholder(text: str, hit: Hit) -> bool:
    """A hit that only covers a placeholder (or part of one) is our own redaction, not a leak."""
    lo = max(0, hit.start - 40)
    for match in PLACEHOLDER.finditer(text, lo, min(len(text), hit.end + 40)):
        if match.start() <= hit.start and hit.end <= match.end():
            return True
    value = text[hit.start:hit.end]
    return bool(re.fullmatch(r"(?:KURA_[A-Z]+_\d+[\W_]*)+", value))

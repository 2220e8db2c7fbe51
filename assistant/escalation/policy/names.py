"""Internal names → stable placeholders that are valid identifiers (`KURA_HOST_1`).

Detects e-mail addresses, private IPs, internal hostnames (policy suffixes), URLs to internal
hosts, company/product terms and policy identifier patterns. The mapping lives in `Placeholders`,
one per request, in memory only.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from assistant.escalation.policy.model import Redaction
from assistant.escalation.policy.secrets import Hit
from assistant.escalation.policy.values import PLACEHOLDER

CATEGORY = {"secret": "SECRET", "email": "EMAIL", "ip": "IP", "host": "HOST", "url": "URL", "term": "TERM", "ident": "IDENT"}

_PRIVATE_NETS = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7", "fe80::/10")
)
_RESERVED_EMAIL_DOMAINS = re.compile(r"(?i)(?:^|\.)(?:example\.(?:com|org|net)|example|test|invalid|localhost)$")
_COMMON_TLDS = frozenset(
    "com org net edu gov mil int io dev app ai co biz info me tech cloud online site xyz local internal corp lan "
    "home intranet private".split()
)
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+\-])([A-Za-z0-9._%+\-]{1,64})@((?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,24}))(?![A-Za-z0-9\-])")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.]|\.\d)")
_IPV6 = re.compile(r"(?i)(?<![0-9a-f:])f[c-e][0-9a-f]{2}:[0-9a-f:]*[0-9a-f](?![0-9a-f:])")
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]{1,20}://[^\s'\"`<>()\[\]\\]+")
_URL_HOST = re.compile(r"://(?:[^@/\s]*@)?(\[[^\]]+\]|[^:/\s?#]+)")


def is_private_ip(text: str) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return any(address in net for net in _PRIVATE_NETS if net.version == address.version)


@dataclass
class Placeholders:
    """Original ↔ placeholder for one request. Never serialised, never logged."""

    reserved: set[str] = field(default_factory=set)  # names already in the input: never reuse them
    by_original: dict[tuple[str, str], str] = field(default_factory=dict)
    by_placeholder: dict[str, str] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)

    def reserve_from(self, text: str) -> None:
        self.reserved.update(PLACEHOLDER.findall(text))

    def assign(self, kind: str, original: str) -> str:
        category = CATEGORY[kind]
        key = (category, original)
        if key in self.by_original:
            return self.by_original[key]
        n = self.counters.get(category, 0)
        while True:
            n += 1
            name = f"KURA_{category}_{n}"
            if name not in self.reserved:
                break
        self.counters[category] = n
        self.by_original[key] = name
        self.by_placeholder[name] = original
        return name

    def __repr__(self) -> str:  # keep originals out of logs and tracebacks
        return f"Placeholders({len(self.by_placeholder)} entries)"


class NameScanner:
    """Internal-name detectors for one policy's redaction settings, compiled once."""

    def __init__(self, redaction: Redaction) -> None:
        self.redaction = redaction
        suffixes = [s.strip().strip(".").lower() for s in redaction.internal_domains if s.strip().strip(".")]
        self.suffixes = tuple(suffixes)
        self.host = (
            re.compile(
                r"(?i)(?<![A-Za-z0-9\-.])(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)*(?:"
                + "|".join(re.escape(s) for s in sorted(suffixes, key=len, reverse=True))
                + r")(?![A-Za-z0-9\-]|\.[A-Za-z0-9])"
            )
            if suffixes
            else None
        )
        terms = sorted({t for t in redaction.terms if t.strip()}, key=len, reverse=True)
        self.term = re.compile("(?i)" + "|".join(re.escape(t) for t in terms)) if terms else None
        self.term_needles = tuple(t.lower() for t in terms)
        self.idents = tuple(re.compile(p) for p in redaction.identifier_patterns)

    def is_internal_host(self, host: str) -> bool:
        host = host.strip("[]").lower().rstrip(".")
        if not host or re.search(r"[{}$%<>]", host):
            return False  # a template (`{host}`, `${HOST}`): nothing concrete to hide
        if is_private_ip(host):
            return True
        if any(host == s or host.endswith("." + s) for s in self.suffixes):
            return True
        # A single-label host (`http://buildbox/`) only resolves inside a network.
        return "." not in host and ":" not in host and host not in ("localhost",) and not host.startswith("kura_")

    def scan(self, text: str) -> list[Hit]:
        hits: list[Hit] = []
        lower = text.lower()  # substring prefilters: each regex runs only where it can match
        for match in _URL.finditer(text) if "://" in text else ():
            host = _URL_HOST.search(match.group(0))
            if host and self.is_internal_host(host.group(1)):
                hits.append(Hit("internal-url", "url", match.start(), match.end(), "replace"))
        if self.redaction.emails and "@" in text:
            for match in _EMAIL.finditer(text):
                domain, tld = match.group(2).lower(), match.group(3).lower()
                internal = any(domain == s or domain.endswith("." + s) for s in self.suffixes)
                if not internal and (_RESERVED_EMAIL_DOMAINS.search(domain) or match.group(1) == "git"):
                    continue
                if internal or tld in _COMMON_TLDS or len(tld) == 2:
                    hits.append(Hit("email", "email", match.start(), match.end(), "replace"))
        if self.host and any(suffix in lower for suffix in self.suffixes):
            for match in self.host.finditer(text):
                hits.append(Hit("internal-host", "host", match.start(), match.end(), "replace"))
        if self.redaction.private_ips:
            for regex in (_IPV4, _IPV6) if ("fc" in lower or "fd" in lower or "fe" in lower) else (_IPV4,):
                for match in regex.finditer(text):
                    if is_private_ip(match.group(0)):
                        hits.append(Hit("private-ip", "ip", match.start(), match.end(), "replace"))
        if self.term and any(t in lower for t in self.term_needles):
            for match in self.term.finditer(text):
                hits.append(Hit("term", "term", match.start(), match.end(), "replace"))
        for index, regex in enumerate(self.idents):
            for match in regex.finditer(text):
                if match.end() > match.start():
                    hits.append(Hit(f"identifier-pattern-{index + 1}", "ident", match.start(), match.end(), "replace"))
        return [h for h in hits if not PLACEHOLDER.fullmatch(text[h.start:h.end]) and not _within_placeholder(text, h)]


def _within_placeholder(text: str, hit: Hit) -> bool:
    for match in PLACEHOLDER.finditer(text, max(0, hit.start - 30), min(len(text), hit.end + 30)):
        if match.start() <= hit.start and hit.end <= match.end():
            return True
    return False

"""Secrets written in pieces or encoded: recall on variants built from the tuning half's tokens.

Each single-token secret of the tuning half (16+ characters, no spaces) that the sanitizer catches
written plainly in a Python assignment is rewritten as: two concatenated literals (`"ab" + "cd"`), implicit
concatenation over two lines, a URL-encoded query value, an XML-escaped attribute, a base64-wrapped
value and a secret split over two lines of a comment. Only the tuning half is used; held-out tokens stay unseen.

Usage: python benchmarks/secrets_split.py [--corpus DIR]
"""

from __future__ import annotations

import argparse
import base64
import sys
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import quoteattr

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import secrets_eval  # noqa: E402

def _halves(v: str) -> tuple[str, str]:
    return v[:len(v) // 2], v[len(v) // 2:]


def _url_all(v: str) -> str:
    return "".join(f"%{b:02X}" for b in v.encode())


def _xml(v: str) -> str:
    return quoteattr(v).replace("-", "&#45;").replace("_", "&#95;")[1:-1]


# name -> (the text to sanitize, the forms of the value that together would leak it)
VARIANTS = {
    "plain": lambda v: (f'api_token = "{v}"\n', (v,)),
    "concatenated": lambda v: ('api_token = "{}" + "{}"\n'.format(*_halves(v)), _halves(v)),
    "implicit concatenation": lambda v: ('api_token = (\n    "{}"\n    "{}"\n)\n'.format(*_halves(v)), _halves(v)),
    "url-encoded (every character)": lambda v: (f'url = "https://api.example.com/v1?token={_url_all(v)}"\n', (_url_all(v),)),
    "url-encoded (specials)": lambda v: (f'url = "https://api.example.com/v1?token={quote(v, safe="")}"\n', (quote(v, safe=""),)),
    "xml-escaped (- and _ as entities)": lambda v: (f'<add key="ApiToken" value="{_xml(v)}" />\n', (_xml(v),)),
    "base64-wrapped": lambda v: (f'auth = "{base64.b64encode(v.encode()).decode()}"\n', (base64.b64encode(v.encode()).decode(),)),
    "split over comment lines": lambda v: ("# token: {}\n# {}\n".format(*_halves(v)), _halves(v)),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=secrets_eval.DEFAULT_CORPUS)
    args = parser.parse_args()
    policy = secrets_eval.starter_policy()
    cases, _ = secrets_eval.load(args.corpus)
    tokens = sorted({v for c in cases if c["half"] == "tuning" for v in c["secrets"] if len(v) >= 16 and " " not in v and "\n" not in v})
    caught_plain = [v for v in tokens if not _leaked(VARIANTS["plain"], v, policy)]
    print(f"{len(tokens)} single-token tuning secrets; {len(caught_plain)} caught written plainly; variants of those:")
    for name, make in VARIANTS.items():
        missed = [v for v in caught_plain if _leaked(make, v, policy)]
        n = len(caught_plain)
        print(f"  {name:32s} {n - len(missed):4d}/{n} ({(n - len(missed)) / n:.1%})")


def _leaked(variant, value: str, policy) -> bool:
    text, forms = variant(value)
    preview = secrets_eval.preview_of("src/settings.py", text, policy)
    return not preview.blocked and all(form in preview.messages[1]["content"] for form in forms)


if __name__ == "__main__":
    main()

"""What an answer is, measured (pure functions): how much of it copies the prompt (an echo, what a
base model does when a prompt does not fit it), whether it has fallen into a loop, and which
language it is written in. The run step uses them to retry or refuse; the evaluation to score.
"""

from __future__ import annotations

import re
import unicodedata

ECHO_NGRAM_CHARS = 24  # a copied run this long is not an accident (a quoted identifier is shorter)
# An answer whose characters are mostly inside such runs is an echo. Measured on Gemma 3 270M over
# httpx: echoes of the context copy 0.88-1.0; an answer paraphrasing the code's own docstring 0.59.
ECHO_SHARE = 0.65
ECHO_MIN_CHARS = 40  # below this, too little to judge
LANGUAGE_SHARE = 0.5

_SPACE = re.compile(r"\s+")
_FENCE = re.compile(r"```.*?(?:```|$)", re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]+")


def squash(text: str) -> str:
    """Whitespace runs as one space: copying is judged on the words, not the indentation."""
    return _SPACE.sub(" ", text).strip()


# A context piece's label as prompts show it, `[path:line] (kind)`: a model that writes such lines is
# continuing the prompt's context section (with invented paths and lines, so no n-gram catches it).
_LABEL_LINE = re.compile(r"^\s*\[[^\]\n]+:\d+\]\s*\([a-z]+\)\s*$", re.MULTILINE)


class PromptEcho:
    """A prompt's n-character runs, kept to test answers against it while they stream."""

    def __init__(self, source: str, n: int = ECHO_NGRAM_CHARS) -> None:
        s = squash(source)
        self.n = n
        self.grams = {s[i : i + n] for i in range(len(s) - n + 1)}
        self.labelled = bool(_LABEL_LINE.search(source))

    def writes_labels(self, answer: str) -> bool:
        """The answer goes on with the prompt's `[path:line] (kind)` context section."""
        return self.labelled and len(_LABEL_LINE.findall(answer)) >= 2

    def copied_share(self, answer: str) -> float:
        """The share of the answer's characters (whitespace squashed) that lie inside an n-character
        run also found in the prompt: 0.0 all its own, 1.0 all copied."""
        a, n = squash(answer), self.n
        if len(a) < n or not self.grams:
            return 0.0
        covered = [False] * len(a)
        for i in range(len(a) - n + 1):
            if a[i : i + n] in self.grams:
                covered[i : i + n] = [True] * n
        return sum(covered) / len(a)

    def is_echo(self, answer: str, share: float = ECHO_SHARE) -> bool:
        """True when the answer mostly copies the prompt (long n-gram overlap), or continues its
        labelled context section."""
        if len(squash(answer)) < ECHO_MIN_CHARS:
            return False
        return self.copied_share(answer) >= share or self.writes_labels(answer)


def copied_share(answer: str, source: str, n: int = ECHO_NGRAM_CHARS) -> float:
    return PromptEcho(source, n).copied_share(answer)


def is_echo(answer: str, source: str, *, share: float = ECHO_SHARE) -> bool:
    return PromptEcho(source).is_echo(answer, share)


def loop_start(text: str, *, min_period: int = 3, max_period: int = 80, repeats: int = 3) -> int | None:
    """Where a loop begins when the text ends in the same run of characters `repeats` times over
    (`、そのデータを読み込むと、そのデータを読み込むと…`): the offset of its first copy, so
    `text[:offset]` is what came before it. None when the text does not end in a loop."""
    for period in range(min_period, min(max_period, len(text) // repeats) + 1):
        unit = text[-period:]
        if not unit.strip() or text[-period * repeats :] != unit * repeats:
            continue
        start = len(text) - period * repeats
        while start >= period and text[start - period : start] == unit:
            start -= period
        return start
    return None


def script_units(text: str) -> dict[str, float]:
    """Prose measured by script, code left out (fenced blocks, inline code): Latin and Cyrillic
    words count 1 each; Han and kana characters ½ (a Japanese or Chinese word is about two);
    Hangul syllables ½."""
    prose = _INLINE_CODE.sub(" ", _FENCE.sub(" ", text))
    units = {
        "latin": float(len(_LATIN_WORD.findall(prose))),
        "cyrillic": float(len(_CYRILLIC.findall(prose))),
        "kana": len(_KANA.findall(prose)) / 2,
        "han": len(_HAN.findall(prose)) / 2,
        "hangul": len(_HANGUL.findall(prose)) / 2,
    }
    return {k: v for k, v in units.items() if v}


# Which scripts write each answer language.
_SCRIPTS = {"ja": ("kana", "han"), "zh": ("han",), "ko": ("hangul", "han"), "ru": ("cyrillic",)}


def language_share(text: str, language: str) -> float:
    """The share of the answer's prose written in the scripts of `language` (en, de, fr...: Latin;
    ja: kana and kanji; zh: Han; ko: Hangul; ru: Cyrillic); 0.0 for an answer with no prose."""
    text = unicodedata.normalize("NFKC", text)
    units = script_units(text)
    total = sum(units.values())
    if not total:
        return 0.0
    scripts = _SCRIPTS.get(language, ("latin",))
    if language == "ja" and not units.get("kana"):
        return 0.0  # Japanese prose always has kana; kanji alone is Chinese
    return sum(units.get(s, 0.0) for s in scripts) / total


def in_language(text: str, language: str, *, share: float = LANGUAGE_SHARE) -> bool:
    return language_share(text, language) >= share

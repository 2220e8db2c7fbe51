"""Fill-in-the-middle templates, detected from a model without configuration.

Detection order: a template forced by settings; the FIM token ids in GGUF metadata mapped through
the vocab; a known family recognised from its vocab tokens and name; otherwise None, and the caller
builds a prefix-only prompt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Settings values that mean "no forced template".
AUTO = "auto"
NONE = "none"


@dataclass(frozen=True)
class FimTemplate:
    """How one model family spells a fill-in-the-middle prompt (prefix-suffix-middle order).

    file_sep / repo_name: repo-level tokens; with them, repository context is rendered as the
    family was trained (`<file_sep>path\\ncontent`), otherwise as commented file headers inside
    the prefix. stop: strings that end a completion (end-of-text, FIM and file tokens).
    """

    name: str
    prefix: str
    suffix: str
    middle: str
    file_sep: str | None = None
    repo_name: str | None = None
    pad: str | None = None
    eot: str | None = None
    stop: tuple[str, ...] = ()
    source: str = "family"  # "forced" | "metadata" | "family": how it was found

    def render(
        self,
        prefix: str,
        suffix: str,
        repo_context: Sequence[tuple[str, str]] | None = None,
        *,
        path: str | None = None,
        repo: str | None = None,
        comment: str = "#",
    ) -> str:
        """The prompt: repository context first (it changes least, so the KV cache keeps it), then
        the FIM prefix, suffix and middle tokens. `path` names the file being edited, `repo` the
        repository (used only by families with repo-level tokens), `comment` the line-comment
        marker for families without file tokens."""
        head = ""
        if repo_context or (path and self.file_sep):
            if self.file_sep:
                if repo and self.repo_name:
                    head += f"{self.repo_name}{repo}\n"
                for ctx_path, text in repo_context or ():
                    head += f"{self.file_sep}{ctx_path}\n{_with_newline(text)}"
                if path:
                    head += f"{self.file_sep}{path}\n"
            else:
                for ctx_path, text in repo_context or ():
                    head += f"{comment} {ctx_path}\n{_with_newline(text)}\n"
                if path:
                    head += f"{comment} {path}\n"
        if self.file_sep:
            return f"{head}{self.prefix}{prefix}{self.suffix}{suffix}{self.middle}"
        return f"{self.prefix}{head}{prefix}{self.suffix}{suffix}{self.middle}"

    def special_tokens(self) -> tuple[str, ...]:
        """Every token text this template writes or stops on (for tokenizers that need them)."""
        found = [self.prefix, self.suffix, self.middle, self.file_sep, self.repo_name, self.pad]
        found += [self.eot, *self.stop]
        return tuple(dict.fromkeys(t for t in found if t))


def _with_newline(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def _family(name: str, pre: str, suf: str, mid: str, **extra: Any) -> FimTemplate:
    template = FimTemplate(name, pre, suf, mid, **extra)
    stop = [template.eot, template.file_sep, template.repo_name, template.pad, pre, suf, mid]
    stop += list(extra.get("stop", ()))
    return replace(template, stop=tuple(dict.fromkeys(s for s in stop if s)))


# Known families, recognised by their tokens. Order matters: CodeGemma and Qwen share the
# <|fim_prefix|> spelling and differ in their file separator.
FAMILIES: dict[str, FimTemplate] = {
    "qwen2.5-coder": _family(
        "qwen2.5-coder", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>",
        file_sep="<|file_sep|>", repo_name="<|repo_name|>", pad="<|fim_pad|>",
        eot="<|endoftext|>", stop=("<|im_end|>",),
    ),
    "codegemma": _family(
        "codegemma", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>",
        file_sep="<|file_separator|>", eot="<eos>", stop=("<end_of_turn>",),
    ),
    "starcoder": _family(
        "starcoder", "<fim_prefix>", "<fim_suffix>", "<fim_middle>",
        file_sep="<file_sep>", repo_name="<repo_name>", pad="<fim_pad>", eot="<|endoftext|>",
    ),
    "deepseek-coder": _family(
        "deepseek-coder", "<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>",
        eot="<|EOT|>", stop=("<｜end▁of▁sentence｜>",),
    ),
    "codellama": _family("codellama", "▁<PRE>", "▁<SUF>", "▁<MID>", eot="▁<EOT>", stop=("<EOT>",)),
}

# Other spellings settings may use for a forced template.
ALIASES = {
    "qwen": "qwen2.5-coder", "qwen2.5": "qwen2.5-coder", "qwen-coder": "qwen2.5-coder",
    "starcoder2": "starcoder", "santacoder": "starcoder",
    "deepseek": "deepseek-coder", "code-llama": "codellama", "gemma": "codegemma",
}


def template_by_name(name: str) -> FimTemplate:
    """The family template a setting names; raises ValueError listing the valid names."""
    key = ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in FAMILIES:
        valid = ", ".join([AUTO, NONE, *FAMILIES])
        raise ValueError(f"unknown FIM template {name!r}; use one of: {valid}")
    return replace(FAMILIES[key], source="forced")


@dataclass
class ModelFacts:
    """What FIM detection needs to know about a model, whatever loaded it.

    metadata: GGUF key/value pairs (scalars are enough; ids as int or numeric str).
    token_text: token id → its vocab text (None if out of range).
    has_token: is this text exactly one vocab token? (For family recognition.)
    """

    metadata: Mapping[str, Any]
    token_text: Callable[[int], str | None]
    has_token: Callable[[str], bool]
    vocab_size: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


_META_ROLES = {
    "prefix": ("tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.prefix_token_id"),
    "suffix": ("tokenizer.ggml.fim_suf_token_id", "tokenizer.ggml.suffix_token_id"),
    "middle": ("tokenizer.ggml.fim_mid_token_id", "tokenizer.ggml.middle_token_id"),
    "pad": ("tokenizer.ggml.fim_pad_token_id",),
    "repo_name": ("tokenizer.ggml.fim_rep_token_id",),
    "file_sep": ("tokenizer.ggml.fim_sep_token_id",),
    "eot": ("tokenizer.ggml.eot_token_id",),
}


def detect_fim(facts: ModelFacts, forced: str = AUTO) -> FimTemplate | None:
    """The model's FIM template: forced by settings, from GGUF metadata, from a known family, or
    None (prefix-only). `forced` is "auto", "none" or a family name (see `template_by_name`)."""
    forced = (forced or AUTO).strip().lower()
    if forced == NONE:
        return None
    if forced != AUTO:
        return template_by_name(forced)
    return _from_metadata(facts) or _from_family_tokens(facts)


def _token_for(facts: ModelFacts, keys: tuple[str, ...]) -> str | None:
    for key in keys:
        raw = facts.metadata.get(key)
        if raw is None:
            continue
        try:
            token_id = int(raw)
        except (TypeError, ValueError):
            continue
        if token_id < 0 or (facts.vocab_size and token_id >= facts.vocab_size):
            continue
        text = facts.token_text(token_id)
        if text:
            return text
    return None


def _from_metadata(facts: ModelFacts) -> FimTemplate | None:
    found = {role: _token_for(facts, keys) for role, keys in _META_ROLES.items()}
    if not (found["prefix"] and found["suffix"] and found["middle"]):
        return None
    family = _family_matching(found["prefix"], found["file_sep"], facts)
    name = family.name if family else "gguf-metadata"
    eot = found["eot"] or (family.eot if family and facts.has_token(family.eot or "") else None)
    template = _family(
        name, found["prefix"], found["suffix"], found["middle"],
        file_sep=found["file_sep"] or _present(facts, family and family.file_sep),
        repo_name=found["repo_name"] or _present(facts, family and family.repo_name),
        pad=found["pad"], eot=eot,
        stop=tuple(s for s in (family.stop if family else ()) if facts.has_token(s)),
    )
    return replace(template, source="metadata")


def _present(facts: ModelFacts, token: str | None) -> str | None:
    return token if token and facts.has_token(token) else None


def _family_matching(prefix_token: str, file_sep: str | None, facts: ModelFacts) -> FimTemplate | None:
    candidates = [t for t in FAMILIES.values() if t.prefix == prefix_token]
    if file_sep:
        candidates = [t for t in candidates if t.file_sep == file_sep] or candidates
    if len(candidates) > 1:
        candidates = [t for t in candidates if t.file_sep and facts.has_token(t.file_sep)] or candidates
    if len(candidates) > 1:
        hint = _name_hint(facts)
        candidates = [t for t in candidates if _hint_matches(t.name, hint)] or candidates
    return candidates[0] if candidates else None


def _name_hint(facts: ModelFacts) -> str:
    return " ".join(
        str(facts.metadata.get(k, "")) for k in ("general.name", "general.architecture", "general.basename")
    ).lower()


def _hint_matches(family: str, hint: str) -> bool:
    words = {"qwen2.5-coder": ("qwen",), "codegemma": ("gemma",), "starcoder": ("starcoder", "santacoder"),
             "deepseek-coder": ("deepseek",), "codellama": ("llama",)}[family]
    return any(w in hint for w in words)


def _from_family_tokens(facts: ModelFacts) -> FimTemplate | None:
    matches = [t for t in FAMILIES.values() if all(facts.has_token(x) for x in (t.prefix, t.suffix, t.middle))]
    if not matches:
        return None
    template = _family_matching(matches[0].prefix, None, facts) if len(matches) > 1 else matches[0]
    template = template or matches[0]
    # Keep only the optional tokens this vocab really has.
    return replace(
        template,
        file_sep=_present(facts, template.file_sep),
        repo_name=_present(facts, template.repo_name),
        pad=_present(facts, template.pad),
        eot=_present(facts, template.eot),
        stop=tuple(s for s in template.stop if facts.has_token(s)),
        source="family",
    )


_GGUF_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


def read_gguf_header(path: str | Path, *, with_tokens: bool = True) -> tuple[dict[str, Any], list[str]]:
    """A GGUF file's scalar metadata and (optionally) its token list, read from the header alone.

    Hand-rolled rather than `gguf.GGUFReader`, which takes ~12 s over a 262k-token vocab; this
    takes well under a second. Raises ValueError naming the problem if the file is not a GGUF.
    """
    import mmap
    import struct

    with open(path, "rb") as f:
        try:
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError as exc:  # empty file
            raise ValueError("the file is empty") from exc
    try:
        if data[:4] != b"GGUF":
            raise ValueError(f"not a GGUF file (starts with {bytes(data[:4])!r}, expected b'GGUF')")
        version = struct.unpack_from("<I", data, 4)[0]
        if version < 2:
            raise ValueError(f"GGUF version {version} is too old (llama.cpp reads v2 and v3)")
        _n_tensors, n_kv = struct.unpack_from("<QQ", data, 8)
        pos = 24
        metadata: dict[str, Any] = {"GGUF.version": version}
        tokens: list[str] = []
        unpack_from = struct.unpack_from

        def read_string(pos: int) -> tuple[str, int]:
            (length,) = unpack_from("<Q", data, pos)
            end = pos + 8 + length
            if end > len(data):
                raise ValueError("truncated GGUF header")
            return data[pos + 8 : end].decode("utf-8", errors="replace"), end

        for _ in range(n_kv):
            key, pos = read_string(pos)
            (vtype,) = unpack_from("<I", data, pos)
            pos += 4
            if vtype == _STRING:
                metadata[key], pos = read_string(pos)
            elif vtype in _GGUF_SCALARS:
                fmt = _GGUF_SCALARS[vtype]
                (metadata[key],) = unpack_from(fmt, data, pos)
                pos += struct.calcsize(fmt)
            elif vtype == _ARRAY:
                etype, count = unpack_from("<IQ", data, pos)
                pos += 12
                if etype == _STRING:
                    keep = with_tokens and key == "tokenizer.ggml.tokens"
                    for _ in range(count):
                        (length,) = unpack_from("<Q", data, pos)
                        if keep:
                            tokens.append(data[pos + 8 : pos + 8 + length].decode("utf-8", errors="replace"))
                        pos += 8 + length
                elif etype in _GGUF_SCALARS:
                    pos += count * struct.calcsize(_GGUF_SCALARS[etype])
                else:
                    raise ValueError(f"unsupported GGUF array type {etype} under {key!r}")
                metadata[key + ".count"] = count
            else:
                raise ValueError(f"unknown GGUF value type {vtype} under {key!r}")
            if pos > len(data):
                raise ValueError("truncated GGUF header")
        return metadata, tokens
    except struct.error as exc:
        raise ValueError(f"truncated or corrupt GGUF header ({exc})") from exc
    finally:
        data.close()


def gguf_facts(path: str | Path) -> ModelFacts:
    """FIM-relevant facts from a GGUF file's header, without loading its weights.

    Raises ValueError if the file is not a readable GGUF.
    """
    metadata, tokens = read_gguf_header(path)
    token_set = set(tokens)
    return ModelFacts(
        metadata=metadata,
        token_text=lambda i: tokens[i] if 0 <= i < len(tokens) else None,
        has_token=token_set.__contains__,
        vocab_size=len(tokens),
    )


def detect_fim_from_gguf(path: str | Path, forced: str = AUTO) -> FimTemplate | None:
    """`detect_fim` for a GGUF file on disk (a forced template needs no file at all)."""
    forced = (forced or AUTO).strip().lower()
    if forced != AUTO:
        return detect_fim(ModelFacts({}, lambda i: None, lambda t: False), forced)
    return detect_fim(gguf_facts(path), forced)

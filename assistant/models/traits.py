"""What a model is, read from its GGUF metadata: instruction-tuned or base (which decides whether a
task is asked as a chat or as a document to continue), and how big (which decides how much context
it can use). Pure functions of the metadata, so every backend that reads GGUF headers shares them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

# Words in `general.finetune`, the name or the file name that say how a model was tuned.
_INSTRUCT = re.compile(r"(?:^|[^a-z0-9])(instruct|chat(?![-_ ]?template)|it|sft|dpo|rlhf|orpo|assistant)(?:[^a-z0-9]|$)")
_BASE = re.compile(r"(?:^|[^a-z0-9])(base|pretrain(?:ed)?)(?:[^a-z0-9]|$)")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmbt])\s*$", re.IGNORECASE)
_SCALE = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}
BYTES_PER_PARAMETER = 0.6  # a Q4_K_M GGUF: ~4.8 bits per weight, plus embeddings kept wider


def instruct_kind(metadata: dict[str, Any], path: str | Path | None = None) -> tuple[bool, str]:
    """(is the model instruction-tuned, why we think so).

    What the publisher wrote wins: `general.finetune`, then the model's name and basename, then the
    file name ("-it", "Instruct", "chat" vs "base"). Without such a hint, a chat template in the
    file says instruct and its absence says base (a base model continues documents)."""
    finetune = str(metadata.get("general.finetune") or "").strip().lower()
    names = [finetune, str(metadata.get("general.name") or "").lower(), str(metadata.get("general.basename") or "").lower()]
    if path:
        names.append(Path(str(path)).name.lower().removesuffix(".gguf"))
    for where, text in zip(("general.finetune", "general.name", "general.basename", "file name"), names):
        if not text:
            continue
        if _BASE.search(text):
            return False, f"{where} says base ({text!r})"
        found = _INSTRUCT.search(text)
        if found:
            return True, f"{where} says {found.group(1)} ({text!r})"
    if metadata.get("tokenizer.chat_template"):
        return True, "the GGUF carries a chat template"
    return False, "no chat template and no instruct/chat hint in the GGUF"


def parameter_count(metadata: dict[str, Any], file_bytes: int | None = None) -> int | None:
    """Parameters from `general.size_label` ("270M", "7B", "8x7B" counts its experts), else estimated
    from the file size; None when neither is known."""
    label = str(metadata.get("general.size_label") or "")
    experts = 1
    if "x" in label.lower():
        head, _, label = label.lower().partition("x")
        experts = int(head) if head.strip().isdigit() else 1
    match = _SIZE.match(label)
    if match:
        return int(float(match.group(1)) * _SCALE[match.group(2).lower()] * experts)
    if file_bytes:
        return int(file_bytes / BYTES_PER_PARAMETER)
    return None


def model_traits(metadata: dict[str, Any], path: str | Path | None = None, file_bytes: int | None = None,
                 parameters: int | None = None) -> dict[str, Any]:
    """The plain-data facts `info()` reports (they cross the model process as JSON)."""
    instruct, reason = instruct_kind(metadata, path)
    return {
        "chat_template": bool(metadata.get("tokenizer.chat_template")),
        "finetune": str(metadata.get("general.finetune") or ""),
        "instruct": instruct,
        "instruct_reason": reason,
        "parameters": parameters or parameter_count(metadata, file_bytes),
        "file_bytes": file_bytes,
    }

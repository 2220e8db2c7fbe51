"""The messages between the language server and its model process: one JSON object a line.

Server → model process (`op`):
    load                          load the model; answered with {"id", "ok": info}
    generate  request             stream {"id", "prompt": [prompt_tokens, reused_tokens]}, then
                                  {"id", "text": chunk, "n": tokens so far} per chunk, then
                                  {"id", "ok": result}
    cancel / stop                 end the generation `id` between tokens (as cancelled / as the
                                  caller's should_stop said); no answer of their own
    count_tokens  text            {"id", "ok": n}
    info                          {"id", "ok": info dict, with llama.cpp's system info}
    fim_template                  {"id", "ok": template fields or null}
Any op may be answered {"id", "error": message} instead (a ModelError the user can read).

Kept small and typed on purpose: only plain data crosses, never a Python callable.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from assistant.models.base import GenerationRequest, GenerationResult
from assistant.models.fim import FimTemplate


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    message = json.loads(line)
    if not isinstance(message, dict):
        raise ValueError(f"not a message: {line[:80]!r}")
    return message


def request_to_wire(request: GenerationRequest) -> dict[str, Any]:
    return {"prompt": request.prompt, "messages": request.messages, "max_tokens": request.max_tokens,
            "temperature": request.temperature, "stop": list(request.stop)}


def request_from_wire(data: dict[str, Any]) -> GenerationRequest:
    return GenerationRequest(
        prompt=data.get("prompt"), messages=data.get("messages"), max_tokens=int(data["max_tokens"]),
        temperature=float(data["temperature"]), stop=tuple(data.get("stop") or ()),
    )


def result_to_wire(result: GenerationResult) -> dict[str, Any]:
    return dataclasses.asdict(result)


def result_from_wire(data: dict[str, Any]) -> GenerationResult:
    return GenerationResult(**data)


def template_to_wire(template: FimTemplate | None) -> dict[str, Any] | None:
    return dataclasses.asdict(template) if template is not None else None


def template_from_wire(data: dict[str, Any] | None) -> FimTemplate | None:
    if data is None:
        return None
    return FimTemplate(**{**data, "stop": tuple(data.get("stop") or ())})

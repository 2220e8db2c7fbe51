"""The messages between the language server and its model process: one JSON object a line.

Server → model process (`op`):
    load                          load the model; answered with {"id", "ok": info}
    generate  request             stream {"id", "prompt": [prompt_tokens, reused_tokens]} (if
                                  `report_prompt`), then
                                  {"id", "text": chunk, "n": tokens so far} per chunk, then
                                  {"id", "ok": result}
    cancel / stop                 end the generation `id` between tokens (as cancelled / as the
                                  caller's should_stop said); no answer of their own. The model
                                  process reads them between tokens, on its one thread
    count_tokens  text            {"id", "ok": n}
    info                          {"id", "ok": info dict, with llama.cpp's system info}
    fim_template                  {"id", "ok": template fields or null}
Any op may be answered {"id", "error": message} instead (a ModelError the user can read).

Kept small and typed on purpose: only plain data crosses, never a Python callable. A request's
`should_stop` crosses only as a stop rule: an object of a class under `assistant.` with `to_wire()`
and `from_wire(data)` (e.g. a completion's shape), which the model process applies itself between
tokens; with no `on_text` either, the request is `quiet` and no text is sent until the result, so a
completion costs one message each way instead of one per token.
"""

from __future__ import annotations

import dataclasses
import importlib
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


def is_stop_rule(should_stop: Any) -> bool:
    return should_stop is not None and hasattr(should_stop, "to_wire") and hasattr(type(should_stop), "from_wire")


def request_to_wire(request: GenerationRequest, *, quiet: bool = False) -> dict[str, Any]:
    wire: dict[str, Any] = {"prompt": request.prompt, "messages": request.messages, "max_tokens": request.max_tokens,
                            "temperature": request.temperature, "stop": list(request.stop), "quiet": quiet,
                            "repeat_penalty": request.repeat_penalty,
                            # a streamed answer may end on this side, with the counts it was sent
                            "report_prompt": not quiet or request.on_prompt is not None}
    if is_stop_rule(request.should_stop):
        rule = type(request.should_stop)
        wire["stop_rule"] = {"type": f"{rule.__module__}:{rule.__qualname__}", "data": request.should_stop.to_wire()}
    return wire


def request_from_wire(data: dict[str, Any]) -> GenerationRequest:
    return GenerationRequest(
        prompt=data.get("prompt"), messages=data.get("messages"), max_tokens=int(data["max_tokens"]),
        temperature=float(data["temperature"]), stop=tuple(data.get("stop") or ()),
        should_stop=stop_rule_from_wire(data.get("stop_rule")), repeat_penalty=float(data.get("repeat_penalty", 1.0)),
    )


def stop_rule_from_wire(data: dict[str, Any] | None) -> Any:
    if not data:
        return None
    module, _, name = str(data["type"]).partition(":")
    if not module.startswith("assistant."):  # only kura's own rules are ever rebuilt
        raise ValueError(f"not a kura stop rule: {data['type']!r}")
    return getattr(importlib.import_module(module), name).from_wire(data["data"])


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

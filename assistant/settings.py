"""kura's settings: typed, fully defaulted, structured from what editors send.

Editors send camelCase keys (the VS Code `package.json` schema is the one source of truth; this
module mirrors it). A bad value never raises: it yields a `SettingError` naming the key, and the
default is used.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

Backend = Literal["llama_cpp", "openai", "ctransformers"]
FimTemplateName = Literal["auto", "none", "qwen", "starcoder", "deepseek", "codellama", "codegemma"]


@dataclass(frozen=True)
class ModelSettings:
    backend: Backend = "llama_cpp"
    path: str = ""  # a GGUF file; empty = the embedded Gemma 3 270M
    server_url: str = ""  # the in-house OpenAI-compatible server, for backend "openai"
    name: str = ""  # model name sent to the in-house server
    api_key_env: str = ""  # name of the environment variable holding the in-house server's key
    context_tokens: int = 4096
    threads: int = 0  # 0 = one fewer than the cores (at least 1)
    fim_template: FimTemplateName = "auto"
    timeout_ms: int = 30000
    memory_limit_mb: int = 0  # address-space cap of the local model's process; 0 = none


@dataclass(frozen=True)
class CompletionSettings:
    enabled: bool = True
    debounce_ms: int = 50
    max_lines: int = 8
    max_tokens: int = 64
    context_tokens: int = 1500
    first_suggestion_timeout_ms: int = 3000


@dataclass(frozen=True)
class IndexSettings:
    path: str = ""  # empty = the user cache, keyed by repository root
    watch: bool = True
    max_file_bytes: int = 1 << 20


@dataclass(frozen=True)
class UsageSettings:
    enabled: bool = True  # the local usage log; it never leaves this machine
    path: str = ""  # empty = usage.sqlite in the user data dir
    retention_days: int = 180
    max_megabytes: int = 64
    kept_after_seconds: int = 30  # when to measure how much of an accepted suggestion survived


@dataclass(frozen=True)
class Settings:
    model: ModelSettings = field(default_factory=ModelSettings)
    completion: CompletionSettings = field(default_factory=CompletionSettings)
    index: IndexSettings = field(default_factory=IndexSettings)
    usage: UsageSettings = field(default_factory=UsageSettings)
    language: str = ""  # explanations' language; empty = the editor's locale
    prompts_dir: str = ""  # a directory of prompt templates overriding the built-in ones
    log_level: Literal["debug", "info", "warning", "error"] = "info"


@dataclass(frozen=True)
class SettingError:
    key: str  # dotted camelCase, as the user wrote it: "kura.model.contextTokens"
    problem: str

    def __str__(self) -> str:
        return f"kura: setting '{self.key}' {self.problem}; using the default"


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def parse_settings(raw: Any, prefix: str = "kura") -> tuple[Settings, list[SettingError]]:
    """Structure `raw` (a dict from the editor, or None) into `Settings`, collecting errors."""
    errors: list[SettingError] = []
    settings = _structure(Settings, raw if raw is not None else {}, prefix, errors)
    return settings, errors


def to_dict(settings: Any) -> dict[str, Any]:
    """The camelCase form editors use, e.g. for `kura/status`."""
    return {camel(f.name): (to_dict(v) if dataclasses.is_dataclass(v) else v)
            for f in dataclasses.fields(settings) for v in [getattr(settings, f.name)]}


def _structure(cls: type, raw: Any, prefix: str, errors: list[SettingError]) -> Any:
    if not isinstance(raw, dict):
        errors.append(SettingError(prefix, f"must be an object, got {type(raw).__name__}"))
        return cls()
    hints = typing.get_type_hints(cls)
    known = {camel(f.name): f for f in dataclasses.fields(cls)} | {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        f = known.get(key)
        key_path = f"{prefix}.{key}"
        if f is None:
            errors.append(SettingError(key_path, "is not a known setting"))
            continue
        if value is None:  # editors send null for "unset"
            continue
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            values[f.name] = _structure(hint, value, key_path, errors)
            continue
        problem = _check(hint, value)
        if problem:
            errors.append(SettingError(key_path, problem))
        else:
            values[f.name] = value
    return cls(**values)


def _check(hint: Any, value: Any) -> str | None:
    """Why `value` does not fit `hint`, or None when it does."""
    if typing.get_origin(hint) is Literal:
        allowed = typing.get_args(hint)
        return None if value in allowed else f"must be one of {', '.join(map(repr, allowed))}, got {value!r}"
    if hint is bool:
        return None if isinstance(value, bool) else f"must be true or false, got {value!r}"
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be an integer, got {value!r}"
        return None if value >= 0 else f"must not be negative, got {value}"
    if hint is str:
        return None if isinstance(value, str) else f"must be a string, got {value!r}"
    if isinstance(hint, types.UnionType):
        return None
    return None

"""Model configurations for `kura eval run --model CONFIG`.

CONFIG is `embedded` (the embedded Gemma 3 270M), a path ending in `.gguf`, or a TOML/JSON file
with the model settings (snake_case or the editors' camelCase) and an optional display label:

    label = "qwen2.5-coder-1.5b"
    backend = "llama_cpp"            # llama_cpp | openai | ctransformers
    path = "models/qwen2.5-coder-1.5b-q4_k_m.gguf"   # relative to this file
    # server_url = "http://models.internal:8080"  name = "qwen2.5-coder-7b"  (backend "openai")
    [completion]                     # optional: the completion settings to evaluate with
    max_tokens = 64

The settings may also sit in a `[model]` table. A bad key or value is a usage error (nothing runs);
a model that cannot load is not: the run goes on and reports it as failed.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from assistant.evaluation import EvalError
from assistant.settings import Settings, parse_settings, to_dict

EMBEDDED = "embedded"


@dataclass(frozen=True)
class EvalModel:
    label: str
    settings: Settings
    source: str  # what was given on the command line

    def describe(self) -> dict[str, Any]:
        """The settings as stored in a run (camelCase, as editors write them; no secrets are in settings)."""
        return {"model": to_dict(self.settings.model), "completion": to_dict(self.settings.completion)}


def parse_model_arg(arg: str, cwd: Path | None = None) -> EvalModel:
    cwd = Path(cwd or Path.cwd())
    text = arg.strip()
    if not text:
        raise EvalError("--model needs a value: `embedded`, a .gguf file, or a .toml/.json model configuration")
    if text == EMBEDDED:
        return EvalModel(EMBEDDED, _eval_settings(Settings()), arg)
    path = Path(text).expanduser()
    path = path if path.is_absolute() else cwd / path
    suffix = path.suffix.lower()
    if suffix == ".gguf":  # its absence is a load failure the run reports, not a usage error
        settings = Settings()
        return EvalModel(path.stem, _eval_settings(replace(settings, model=replace(settings.model, path=str(path)))), arg)
    if suffix in (".toml", ".json"):
        return _from_file(path, arg)
    raise EvalError(f"--model {arg!r}: expected `embedded`, a path ending in .gguf, or a .toml/.json model "
                    "configuration")


def _from_file(path: Path, arg: str) -> EvalModel:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise EvalError(f"--model {arg}: model configuration {path} not found") from exc
    except OSError as exc:
        raise EvalError(f"--model {arg}: cannot read {path}: {exc.strerror or exc}") from exc
    try:
        data = json.loads(raw) if path.suffix.lower() == ".json" else tomllib.loads(raw)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise EvalError(f"{path}: not valid {path.suffix[1:].upper()}: {exc}") from exc
    if not isinstance(data, dict):
        raise EvalError(f"{path}: expected an object of model settings")
    data = dict(data)
    label = data.pop("label", path.stem)
    if not isinstance(label, str) or not label.strip():
        raise EvalError(f"{path}: label must be a non-empty string")
    completion = data.pop("completion", {})
    model = data.pop("model", None)
    flat = model is None
    if flat:
        model = data
    elif data:
        raise EvalError(f"{path}: unknown key {sorted(data)[0]!r} beside the [model] table")
    settings, errors = parse_settings({"model": model, "completion": completion}, prefix="")
    if errors:
        def shown(key: str) -> str:  # the key as written in this file
            key = key.lstrip(".")
            return key[len("model."):] if flat and key.startswith("model.") else key

        problems = "; ".join(f"'{shown(e.key)}' {e.problem}" for e in errors)
        raise EvalError(f"{path}: {problems}")
    if settings.model.path and not Path(settings.model.path).expanduser().is_absolute():
        settings = replace(settings, model=replace(settings.model, path=str(path.parent / settings.model.path)))
    return EvalModel(label.strip(), _eval_settings(settings), arg)


def _eval_settings(settings: Settings) -> Settings:
    """No debounce and no first-suggestion cap: every task waits for its whole answer."""
    return replace(settings, completion=replace(settings.completion, debounce_ms=0, first_suggestion_timeout_ms=0))


def unique_labels(models: list[EvalModel]) -> list[EvalModel]:
    """Labels made distinct (`name`, `name (2)`): results and reports are keyed by label."""
    seen: dict[str, int] = {}
    out = []
    for model in models:
        count = seen.get(model.label, 0) + 1
        seen[model.label] = count
        out.append(model if count == 1 else replace(model, label=f"{model.label} ({count})"))
    return out

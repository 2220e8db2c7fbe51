"""Backend name → class, and `create_backend(config)`: the one place that knows every backend."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from assistant.models.base import ModelError
from assistant.models.config import DEFAULT_BACKEND, ModelConfig  # noqa: F401  (re-exported)

if TYPE_CHECKING:
    from assistant.models.base import ModelBackend


def _backends() -> dict[str, type]:
    # Imported lazily: each backend pulls in its own (heavy, native) library only when chosen.
    from assistant.models.ctransformers_backend import CTransformersBackend
    from assistant.models.llama_cpp_backend import LlamaCppBackend
    from assistant.models.openai_backend import OpenAIBackend

    return {"llama_cpp": LlamaCppBackend, "openai": OpenAIBackend, "ctransformers": CTransformersBackend}


BACKEND_NAMES = ("llama_cpp", "openai", "ctransformers")


def backend_class(name: str) -> type:
    """The class registered under `name`; raises ModelError listing the valid names."""
    key = (name or DEFAULT_BACKEND).strip().lower().replace("-", "_")
    key = {"llamacpp": "llama_cpp", "llama.cpp": "llama_cpp", "openai_compatible": "openai"}.get(key, key)
    if key not in BACKEND_NAMES:
        raise ModelError(f"unknown model backend {name!r}; set model.backend to one of: {', '.join(BACKEND_NAMES)}")
    return _backends()[key]


# Backends whose native code runs in this process unless put in a model process of its own.
LOCAL_BACKENDS = ("llama_cpp", "ctransformers")


def create_backend(config: ModelConfig | None = None, *, isolated: bool = True) -> ModelBackend:
    """A backend for `config`, not yet loaded (call `load()`, or let the first `generate()` do it).

    isolated: run a local model in a supervised child process (process.py), so that a crash in
    native code never takes the caller down; False loads it here (benchmarks compare the two).
    """
    config = config or ModelConfig()
    cls = backend_class(config.backend)
    if isolated and cls.name in LOCAL_BACKENDS:
        from assistant.models.process import ProcessBackend

        return ProcessBackend(dataclasses.replace(config, backend=cls.name))
    return cls(config)

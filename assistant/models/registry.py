"""Backend name → class, and `create_backend(config)`: the one place that knows every backend."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.models.base import ModelError

if TYPE_CHECKING:
    from assistant.models.base import ModelBackend

DEFAULT_BACKEND = "llama_cpp"


@dataclass
class ModelConfig:
    """Model settings as the backends need them (the server's settings map onto this).

    backend: "llama_cpp" (default, in-process), "openai" (an OpenAI-compatible server) or
        "ctransformers".
    path: a GGUF (or GGML for ctransformers) file; empty means the embedded Gemma 3 270M.
    server_url / model_name / api_key_env: for "openai"; the key is read from that environment
        variable, never stored in settings.
    context_tokens: the context window to allocate; threads: 0 means one per CPU core.
    fim_template: "auto" (detect), "none" (prefix-only) or a family name (see fim.FAMILIES).
    timeout_s: read timeout for a server's stream; connect_timeout_s fails an unreachable one fast.
    memory_limit_mb: the address-space cap of the model process (0: none).
    """

    backend: str = DEFAULT_BACKEND
    path: str = ""
    server_url: str = ""
    model_name: str = ""
    api_key_env: str = ""
    context_tokens: int = 4096
    threads: int = 0
    fim_template: str = "auto"
    timeout_s: float = 30.0
    connect_timeout_s: float = 2.0
    memory_limit_mb: int = 0

    @property
    def resolved_threads(self) -> int:
        """threads, or one fewer than the cores: llama.cpp's threads spin-wait on each other, and on a
        busy machine (the editor, the indexer) using every core was measured 7-16x slower here."""
        return self.threads or max(1, (os.cpu_count() or 2) - 1)


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

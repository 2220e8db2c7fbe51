"""`ModelConfig`: model settings as the backends need them (the server's settings map onto this).

Its own module so that the backends and the registry that knows them never import each other.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

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

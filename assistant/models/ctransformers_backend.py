"""ctransformers for llama-family GGUF (and GGML-era) models, streamed token by token.

ctransformers 0.2.x embeds a 2023 llama.cpp: it reads llama-architecture GGUF v2/v3 files with
F32/F16 (and the older quant) tensors, but not newer architectures (gemma3, qwen2, ...). Its
tokenizer knows nothing of special tokens in text, so prompts are split at the FIM/chat special
tokens here and those are inserted by id.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.models.base import (
    CANCELLED,
    CancelToken,
    GenerationRequest,
    GenerationResult,
    ModelError,
    stream_tokens,
)
from assistant.models.fim import AUTO, FimTemplate, ModelFacts, detect_fim, read_gguf_header
from assistant.models.llama_cpp_backend import render_chat, resolve_model_path
from assistant.models.config import ModelConfig

from assistant.models.traits import model_traits

log = logging.getLogger(__name__)

# Architectures the llama.cpp inside ctransformers 0.2.27 reads from GGUF.
GGUF_ARCHITECTURES = ("llama",)


class CTransformersBackend:
    """A llama-family model via ctransformers. Not thread-safe: use one thread (ModelWorker)."""

    name = "ctransformers"

    def __init__(self, config: ModelConfig | None = None, *, model_type: str = "llama") -> None:
        self.config = config or ModelConfig(backend="ctransformers")
        self.model_type = model_type
        self.path: Path | None = None
        self._llm: Any = None
        self._lock = threading.RLock()
        self._metadata: dict[str, Any] = {}
        self._vocab: list[str] = []
        self._ids: dict[str, int] = {}
        self._template: FimTemplate | None = None
        self._template_known = False
        self.load_ms: float | None = None
        self.last_error: str | None = None

    def load(self) -> None:
        with self._lock:
            if self._llm is not None:
                return
            try:
                self._load()
                self.last_error = None
            except ModelError as exc:
                self.last_error = str(exc)
                raise

    def _load(self) -> None:
        try:
            from ctransformers import AutoModelForCausalLM
        except ImportError as exc:
            raise ModelError(
                f"ctransformers is not installed ({exc}); `pip install ctransformers`, or set model.backend "
                "to 'llama_cpp'"
            ) from exc
        path = resolve_model_path(self.config)
        if not path.is_file():
            raise ModelError(
                f"model file not found: {path}; set model.path to a llama-architecture GGUF or GGML file "
                "for the ctransformers backend"
            )
        with path.open("rb") as f:
            magic = f.read(4)
        if magic == b"GGUF":
            try:
                self._metadata, self._vocab = read_gguf_header(path)
            except (OSError, ValueError) as exc:
                raise ModelError(
                    f"model file {path} is not a usable GGUF ({exc}); it may be truncated or corrupt: "
                    "download it again"
                ) from exc
            architecture = str(self._metadata.get("general.architecture", ""))
            if architecture not in GGUF_ARCHITECTURES:
                raise ModelError(
                    f"ctransformers cannot run {path}: its architecture is {architecture!r}, and the llama.cpp "
                    f"inside ctransformers reads only {', '.join(GGUF_ARCHITECTURES)} GGUF files; use "
                    "model.backend 'llama_cpp' for this model"
                )
            self._ids = {text: i for i, text in enumerate(self._vocab)}
        threads = self.config.resolved_threads
        started = time.perf_counter()
        try:
            llm = AutoModelForCausalLM.from_pretrained(
                str(path), model_type=self.model_type, context_length=self.config.context_tokens,
                threads=threads, gpu_layers=0, batch_size=64,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(
                f"ctransformers could not load {path} ({exc}); the file may be corrupt or a format ctransformers "
                "does not read: use model.backend 'llama_cpp'"
            ) from exc
        self.load_ms = (time.perf_counter() - started) * 1000
        self._llm, self.path = llm, path

    # -- tokens -----------------------------------------------------------------------------

    def _special_texts(self) -> list[str]:
        texts: list[str] = []
        template = self.fim_template()
        if template:
            texts += template.special_tokens()
        texts += [self._vocab[i] for i in (self._llm.bos_token_id, self._llm.eos_token_id)
                  if self._vocab and 0 <= i < len(self._vocab)]
        return [t for t in dict.fromkeys(texts) if t in self._ids]

    def _tokenize(self, text: str, add_bos: bool = True) -> list[int]:
        """Tokenize with special tokens (as the vocab spells them) inserted by id."""
        llm = self._llm
        specials = self._special_texts()
        tokens: list[int] = [llm.bos_token_id] if add_bos and llm.bos_token_id >= 0 else []
        if not specials:
            return tokens + llm.tokenize(text, add_bos_token=False) if text else tokens
        parts = re.split("(" + "|".join(map(re.escape, sorted(specials, key=len, reverse=True))) + ")", text)
        for part in parts:
            if not part:
                continue
            if part in self._ids:
                tokens.append(self._ids[part])
                continue
            # Like llama.cpp's SentencePiece tokenizer, this one puts a space before every text
            # fragment, so both backends see the same tokens.
            tokens += llm.tokenize(part, add_bos_token=False)
        return tokens

    # -- generation -------------------------------------------------------------------------

    def generate(
        self,
        request: GenerationRequest,
        cancel: CancelToken | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> GenerationResult:
        with self._lock:
            self.load()
            started = time.perf_counter()
            llm = self._llm
            stop = request.stop
            if request.messages is not None:
                bos = self._vocab[llm.bos_token_id] if self._vocab else ""
                eos = self._vocab[llm.eos_token_id] if self._vocab else ""
                prompt, chat_stops = render_chat(
                    request.messages, self._metadata.get("tokenizer.chat_template"),
                    str(self._metadata.get("general.architecture", "")), bos, eos,
                )
                stop = tuple(dict.fromkeys((*stop, *chat_stops)))
                tokens = self._tokenize(prompt, add_bos=not (bos and prompt.startswith(bos)))
            else:
                tokens = self._tokenize(request.prompt or "")
            if not tokens:
                tokens = [llm.bos_token_id]
            room = llm.context_length - len(tokens)
            if room <= 0:
                raise ModelError(
                    f"the prompt has {len(tokens)} tokens but the context holds {llm.context_length}; "
                    "shorten the context or raise model.contextTokens"
                )
            max_tokens = min(request.max_tokens, room)
            # ctransformers keeps the longest common prefix itself (generate(reset=True) trims the
            # already-evaluated tokens); this is the same computation, for an honest count.
            cached = llm._context
            limit = min(len(tokens) - 1, len(cached))
            reused = 0
            while reused < limit and tokens[reused] == cached[reused]:
                reused += 1

            cancel = cancel or CancelToken()
            if cancel.cancelled:
                return GenerationResult("", CANCELLED, len(tokens), 0, 0, 0.0, None)
            if request.temperature <= 0:
                sampling = {"top_k": 1, "top_p": 1.0, "temperature": 1.0}
            else:
                sampling = {"top_k": 40, "top_p": 0.95, "temperature": request.temperature}
            return stream_tokens(
                llm.generate(tokens, repetition_penalty=1.0, reset=True, **sampling),
                lambda token: llm.detokenize([token], decode=False),
                request, cancel, on_text, stop=stop, max_tokens=max_tokens, started=started,
                prompt_tokens=len(tokens), reused_tokens=reused,  # its generator ends at EOS: STOP
            )

    def count_tokens(self, text: str) -> int:
        with self._lock:
            self.load()
            return len(self._tokenize(text, add_bos=False))

    def fim_template(self) -> FimTemplate | None:
        with self._lock:
            if not self._template_known:
                forced = self.config.fim_template or AUTO
                vocab, ids = self._vocab, self._ids
                facts = ModelFacts(
                    self._metadata,
                    lambda i: vocab[i] if 0 <= i < len(vocab) else None,
                    ids.__contains__,
                    vocab_size=len(vocab),
                )
                self._template = detect_fim(facts, forced)  # GGML files have no metadata: forced or None
                self._template_known = True
            return self._template

    def info(self) -> dict[str, Any]:
        template = self.fim_template() if self._llm is not None else None
        return {
            "backend": self.name,
            "model_path": str(self.path or self.config.path or "(embedded)"),
            "model_name": str(self._metadata.get("general.name", "")),
            **(model_traits(self._metadata, self.path, _size(self.path)) if self._metadata else {}),
            "model_type": self.model_type,
            "context_tokens": self._llm.context_length if self._llm is not None else self.config.context_tokens,
            "threads": self.config.resolved_threads,
            "fim_template": template.name if template else None,
            "loaded": self._llm is not None,
            "load_ms": self.load_ms,
            "last_error": self.last_error,
        }

    def close(self) -> None:
        with self._lock:
            self._llm = None


def _size(path: Path | None) -> int | None:
    try:
        return path.stat().st_size if path is not None else None
    except OSError:
        return None

"""Checks of the model a configuration names: the local one loaded and run in a throwaway model
process (so a SIGILL or a segfault is a result, not the end of `kura doctor`), or the in-house server."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from assistant.doctor.check import FAIL, OK, WARN, Check, split_fix
from assistant.models.base import GenerationRequest, ModelError
from assistant.models.registry import ModelConfig

PROBE_PROMPT = "def add(a, b):\n    return"  # code, so even a tiny model has something to continue
PROBE_TOKENS = 16
SLOW_TOKENS_PER_S = 5.0
SLOW_FIRST_TOKEN_MS = 3000.0  # completion.firstSuggestionTimeoutMs' default: later means no suggestion


# How a model process died → what to do (SIGILL has its own fix: the rebuild for this CPU).
CRASH_FIXES = {
    "SIGKILL": "it was killed, most likely out of memory: choose a smaller model or lower model.contextTokens",
    "SIGSEGV": "the GGUF may be corrupt or of an architecture this llama.cpp does not know: download it again or choose another",
    "SIGBUS": "the GGUF may be truncated or on a failing disk: download it again",
    "SIGABRT": "llama.cpp gave up on this GGUF: download it again or choose another GGUF",
}


def _seconds(ms: float | None) -> str:
    if ms is None:
        return "?"
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def check_local_model(config: ModelConfig, rebuild_fix: str) -> list[Check]:
    """"model", then "model speed" and "fill-in-the-middle" when it loaded: the configured GGUF (or
    the embedded one) loaded in a model process, one short generation timed."""
    from assistant.models.process import ProcessBackend, WorkerCrashed

    described = config.path or "the embedded Gemma 3 270M"
    try:
        path = _model_file(config)
    except ModelError as exc:
        what, fix = split_fix(str(exc))
        return [Check("model", FAIL, what, fix)]
    backend = ProcessBackend(config)
    try:
        started = time.perf_counter()
        backend.load()
        load_ms = (time.perf_counter() - started) * 1000
        info: dict[str, Any] = backend.info()
        template = backend.fim_template()
        result = backend.generate(GenerationRequest(prompt=PROBE_PROMPT, max_tokens=PROBE_TOKENS))
    except WorkerCrashed as exc:
        detail = f"the model process died ({exc.signal_name or f'exit code {exc.exit_code}'}) with {described}"
        if exc.signal_name == "SIGILL":
            return [Check("model", FAIL, f"{detail}: llama.cpp was built for CPU instructions this CPU cannot "
                                         "execute", rebuild_fix)]
        tail = exc.stderr_tail.strip().splitlines()[-1:] if exc.stderr_tail else []
        return [Check("model", FAIL, f"{detail}{': ' + tail[0] if tail else ''}", CRASH_FIXES.get(
            exc.signal_name or "", "run `kura -v doctor` to see the model process's last words"))]
    except ModelError as exc:
        what, fix = split_fix(str(exc))
        return [Check("model", FAIL, what, fix)]
    finally:
        backend.close()

    name = info.get("model_name") or Path(str(info.get("model_path") or path or "")).name
    architecture = info.get("architecture") or "unknown architecture"
    model_load = info.get("load_ms")
    checks = [Check("model", OK, f"{name} ({architecture}, {config.backend}) from {info.get('model_path') or path}: "
                                 f"loaded in {_seconds(load_ms)}" + (f" (llama.cpp {_seconds(model_load)})" if model_load else ""))]
    checks.append(_speed(result))
    if template is not None:
        checks.append(Check("fill-in-the-middle", OK, f"{template.name}: completions see the code after the cursor too"))
    elif not config.path:
        checks.append(Check("fill-in-the-middle", OK, "none: the embedded Gemma 3 270M completes from the code before "
                                                      "the cursor only (a code model with FIM does better)"))
    else:
        checks.append(Check("fill-in-the-middle", WARN, f"{name} has no fill-in-the-middle tokens kura knows: completions "
                                                        "see only the code before the cursor",
                            "use a code model with FIM (Qwen2.5-Coder, StarCoder2, DeepSeek-Coder, CodeGemma) or set "
                            "model.fimTemplate if this one has a known family's tokens"))
    return checks


def _model_file(config: ModelConfig) -> Path | None:
    """The GGUF llama.cpp would load, checked (ModelError names the path and the fix); None for
    backends whose files kura does not read itself."""
    if config.backend != "llama_cpp":
        return Path(config.path).expanduser() if config.path else None
    from assistant.models.llama_cpp_backend import check_model_file, resolve_model_path

    path = resolve_model_path(config)
    check_model_file(path)
    return path


def _speed(result) -> Check:
    generated, model_ms, first_ms = result.generated_tokens, result.model_ms, result.first_token_ms
    if generated > 1 and first_ms is not None and model_ms > first_ms:
        rate = (generated - 1) / ((model_ms - first_ms) / 1000)
    else:
        rate = generated / (model_ms / 1000) if model_ms > 0 else 0.0
    detail = (f"{generated} tokens in {_seconds(model_ms)}: {rate:.1f} tokens/s, first token after {_seconds(first_ms)} "
              f"(prompt {result.prompt_tokens} tokens)")
    if generated == 0:
        return Check("model speed", WARN, f"the model generated nothing for a short code prompt ({detail})",
                     "try another GGUF; `kura complete FILE:LINE:COL` shows what it does on your code")
    if rate < SLOW_TOKENS_PER_S or (first_ms or 0) > SLOW_FIRST_TOKEN_MS:
        return Check("model speed", WARN, f"slow: {detail}",
                     "choose a smaller model or quantization, close busy programs, or raise "
                     "completion.firstSuggestionTimeoutMs")
    return Check("model speed", OK, detail)


def check_inhouse_server(config: ModelConfig) -> list[Check]:
    """The in-house OpenAI-compatible server (or the gateway in front of it), as kura will use it:
    reachable, the key accepted, the model served, and the latency of a one-token completion."""
    from assistant.models.openai_backend import probe_server

    if not config.server_url:
        return [Check("in-house server", FAIL, "model backend is openai but no server URL is set",
                      "set model.serverUrl (or pass --server-url), e.g. http://models.internal:8080")]
    probe = probe_server(config)
    if probe.state != "ok" or probe.model_found is False:
        what, fix = split_fix(probe.error or f"{probe.url} does not serve the model")
        return [Check("in-house server", FAIL, what, fix or "check model.serverUrl, model.apiKeyEnv and model.name")]
    key = f"the key from ${config.api_key_env} accepted" if config.api_key_env else "no key configured (model.apiKeyEnv)"
    model = probe.model or "(the server's default)"
    return [Check("in-house server", OK, f"{probe.url}: model {model}; GET /v1/models {_seconds(probe.list_ms)}, "
                                         f"1 tokens in {_seconds(probe.completion_ms)}, first after "
                                         f"{_seconds(probe.first_token_ms)}; {key}")]

"""The model interface's small parts: requests, cancel tokens, stop-string streaming, the registry."""

from __future__ import annotations

import pytest

from assistant.models.base import CancelToken, GenerationRequest, ModelBackend, ModelError, StopScanner
from assistant.models.registry import BACKEND_NAMES, ModelConfig, backend_class, create_backend


def test_request_needs_exactly_one_of_prompt_and_messages():
    with pytest.raises(ValueError):
        GenerationRequest()
    with pytest.raises(ValueError):
        GenerationRequest(prompt="x", messages=[{"role": "user", "content": "y"}])


def test_cancel_token_runs_callbacks_once_and_late_callbacks_at_once():
    token = CancelToken()
    calls: list[str] = []
    token.on_cancel(lambda: calls.append("early"))
    unregister = token.on_cancel(lambda: calls.append("removed"))
    unregister()

    token.cancel()
    token.cancel()
    token.on_cancel(lambda: calls.append("late"))

    assert token.cancelled and calls == ["early", "late"]


def test_stop_scanner_never_emits_text_past_a_stop_string():
    scanner = StopScanner(("\n\n", "<|endoftext|>"))

    emitted = [scanner.feed(p) for p in ["return x", "\n", "<|endo", "ftext|>", "more"]]

    assert scanner.stopped and scanner.text == "return x\n"
    assert "".join(emitted) + scanner.finish() == "return x\n"
    assert emitted[1] == ""  # "\n" was held back: it might have begun "\n\n"


def test_stop_scanner_releases_held_text_that_turned_out_harmless():
    scanner = StopScanner(("</s>",))

    emitted = scanner.feed("a <") + scanner.feed("b")

    assert emitted == "a <b" and not scanner.stopped


@pytest.mark.parametrize("name", BACKEND_NAMES)
def test_every_registered_backend_implements_the_interface(name):
    backend = create_backend(ModelConfig(backend=name, path="/nonexistent.gguf", server_url="http://127.0.0.1:9"))

    assert isinstance(backend, ModelBackend) and backend.name == name
    assert backend.info()["loaded"] is False


def test_unknown_backend_names_the_valid_ones():
    with pytest.raises(ModelError, match="llama_cpp, openai, ctransformers"):
        backend_class("tensorflow")


def test_default_backend_is_llama_cpp_with_the_embedded_model():
    config = ModelConfig()

    assert backend_class(config.backend).__name__ == "LlamaCppBackend" and config.path == ""

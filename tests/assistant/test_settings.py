"""Settings from editors: camelCase in, typed and fully defaulted out, bad values named and defaulted."""

from assistant.settings import CompletionSettings, ModelSettings, Settings, parse_settings, to_dict


def test_empty_options_give_all_defaults():
    settings, errors = parse_settings(None)
    assert settings == Settings()
    assert errors == []


def test_camel_case_keys_from_the_editor_are_structured():
    settings, errors = parse_settings(
        {"model": {"backend": "openai", "serverUrl": "http://127.0.0.1:8080", "contextTokens": 2048},
         "completion": {"maxLines": 3}, "language": "ja"}
    )
    assert errors == []
    assert settings.model == ModelSettings(backend="openai", server_url="http://127.0.0.1:8080", context_tokens=2048)
    assert settings.completion.max_lines == 3
    assert settings.completion.debounce_ms == CompletionSettings().debounce_ms
    assert settings.language == "ja"


def test_a_bad_value_names_the_key_and_keeps_the_default():
    settings, errors = parse_settings({"model": {"backend": "gpt-9", "contextTokens": "lots"}, "completion": {"enabled": "yes"}})
    assert settings == Settings()
    keys = sorted(e.key for e in errors)
    assert keys == ["kura.completion.enabled", "kura.model.backend", "kura.model.contextTokens"]
    assert "one of 'llama_cpp'" in str(next(e for e in errors if e.key == "kura.model.backend"))


def test_unknown_keys_and_wrong_shapes_are_reported_not_fatal():
    settings, errors = parse_settings({"modle": {}, "index": 5, "completion": {"maxLines": -2}})
    assert settings == Settings()
    assert {e.key for e in errors} == {"kura.modle", "kura.index", "kura.completion.maxLines"}


def test_to_dict_round_trips_through_parse():
    settings, _ = parse_settings({"model": {"path": "/models/x.gguf"}, "index": {"watch": False}})
    again, errors = parse_settings(to_dict(settings))
    assert errors == [] and again == settings

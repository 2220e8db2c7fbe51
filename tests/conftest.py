"""Shared fixtures that build real things: tiny GGUF models, a loopback model server, the
embedded model. (Builders live in tests/fixtures/.)"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# The builders are imported as `fixtures.*` whatever import mode or package layout pytest uses.
_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)


@pytest.fixture(scope="session", autouse=True)
def private_data_dir(tmp_path_factory):
    """Servers the tests start keep their usage log here, never in the developer's own data dir."""
    data = tmp_path_factory.mktemp("xdg-data")
    before = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(data)
    yield data
    if before is None:
        os.environ.pop("XDG_DATA_HOME", None)
    else:
        os.environ["XDG_DATA_HOME"] = before


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory):
    """`tiny_gguf(family="none", with_fim_metadata=True, **options) -> Path`: a tiny random-weight
    llama GGUF (see fixtures/tiny_gguf.py), built once per set of arguments."""
    from fixtures.tiny_gguf import make_tiny_gguf

    directory = tmp_path_factory.mktemp("gguf")
    built: dict[tuple, Path] = {}

    def build(family: str = "none", with_fim_metadata: bool = True, **options) -> Path:
        key = (family, with_fim_metadata, tuple(sorted(options.items())))
        if key not in built:
            name = "-".join([family, "meta" if with_fim_metadata else "nometa", *(f"{k}{v}" for k, v in key[2])])
            built[key] = make_tiny_gguf(directory / f"{name}.gguf", family, with_fim_metadata, **options)
        return built[key]

    return build


@pytest.fixture(scope="session")
def llama_server(tiny_gguf):
    """Base URL of `python -m llama_cpp.server` on loopback serving a tiny Qwen-family GGUF."""
    from fixtures.model_server import llama_cpp_server

    with llama_cpp_server(tiny_gguf("qwen")) as url:
        yield url


@pytest.fixture(scope="session")
def embedded_gguf() -> Path:
    """The embedded Gemma 3 270M GGUF, assembled into the user cache if needed."""
    from assistant.models.embedded import embedded_model_path

    return embedded_model_path()

"""Fixtures of the team server tests: engines and the gateway, started once per session."""

from __future__ import annotations

import pytest

from gateway_fixtures import envoy_gateway, llama_engines, serverctl


@pytest.fixture(scope="session")
def engines(tiny_gguf):
    """Two llama_cpp.server replicas of a tiny Qwen-family GGUF: the CPU profile without containers."""
    with llama_engines(tiny_gguf("qwen"), 2) as urls:
        yield urls


@pytest.fixture(scope="session")
def gateway(engines, tmp_path_factory):
    """The gateway in front of both replicas, with keys for alice (generous) and bob (1 request a
    minute, a burst of 2)."""
    state = tmp_path_factory.mktemp("gateway") / "state"
    state.mkdir()
    keys = {"alice": serverctl.add_key(state, "alice"), "bob": serverctl.add_key(state, "bob", rpm=1, burst=2)}
    with envoy_gateway(engines, state) as gw:
        gw.keys = keys
        yield gw

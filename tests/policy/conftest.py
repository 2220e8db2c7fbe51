"""Fixtures for the policy tests: a loopback OpenAI-compatible server that records every byte,
a repository in tmp_path with a policy file, and the starter policy with a provider filled in."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.escalation.policy.load import load_policy_file
from assistant.escalation.policy.starter import STARTER_POLICY
from policy_fixtures import API_KEY, API_KEY_ENV, policy_toml  # noqa: F401  (re-exported for fixtures)


@dataclass
class FakeOpenAI:
    """Speaks /v1/chat/completions (streamed or not); `received` holds every raw byte per request."""

    answer_chunks: list[str] = field(default_factory=lambda: ["Looks fine."])
    fail_statuses: list[int] = field(default_factory=list)  # answered first, one per request
    received: list[bytes] = field(default_factory=list)
    base_url: str = ""

    @property
    def all_bytes(self) -> bytes:
        return b"".join(self.received)

    def bodies(self) -> list[dict]:
        return [json.loads(raw.split(b"\r\n\r\n", 1)[1]) for raw in self.received]


def _handler(fake: FakeOpenAI):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # keep test output quiet
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            head = self.requestline.encode() + b"\r\n" + bytes(self.headers)
            fake.received.append(head.rstrip(b"\r\n") + b"\r\n\r\n" + body)
            if fake.fail_statuses:
                status = fake.fail_statuses.pop(0)
                payload = b'{"error": {"message": "try later"}}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            request = json.loads(body)
            if request.get("stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for chunk in fake.answer_chunks:
                    event = {"choices": [{"index": 0, "delta": {"content": chunk}}]}
                    self.wfile.write(b"data: " + json.dumps(event).encode() + b"\n\n")
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.close_connection = True
                return
            payload = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant",
                                                                       "content": "".join(fake.answer_chunks)}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


@pytest.fixture
def cloud():
    fake = FakeOpenAI()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def make_repo(tmp_path, monkeypatch):
    """A repository root with `.kura/policy.toml` and files; the org policy is switched off."""
    monkeypatch.setenv("KURA_ORG_POLICY", str(tmp_path / "no-org-policy-here.toml"))
    monkeypatch.delenv("KURA_ORG_POLICY")

    def make(policy: str | None, files: dict[str, str] | None = None) -> Path:
        root = tmp_path / "repo"
        (root / ".kura").mkdir(parents=True, exist_ok=True)
        if policy is not None:
            (root / ".kura" / "policy.toml").write_text(policy)
        for rel, text in (files or {}).items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        return root

    return make


@pytest.fixture
def env(monkeypatch):
    """Only the API key variable; no org policy (the default /etc path is checked not to exist)."""
    assert not Path("/etc/kura/policy.toml").exists(), "tests assume no machine-wide org policy"
    return {API_KEY_ENV: API_KEY}


@pytest.fixture(scope="module")
def starter(tmp_path_factory):
    """The starter policy as `kura policy init` writes it, with its `[provider]` filled in."""
    text = STARTER_POLICY.replace("# [provider]", "[provider]").replace('# base_url = "https', 'base_url = "https')
    text = text.replace('# model = "gpt-4o"', 'model = "gpt-4o"').replace("# api_key_env =", "api_key_env =")
    path = tmp_path_factory.mktemp("starter") / "policy.toml"
    path.write_text(text)
    policy = load_policy_file(path)
    assert not policy.errors
    return policy

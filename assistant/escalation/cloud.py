"""OpenAI-compatible Chat Completions client for escalation: sends the exact bytes it is given.

The API key comes from the environment variable *named* in the policy; it is never logged, never
put in an error message, and `repr()` hides it. Retries happen only before any output arrived.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from assistant.escalation.policy.model import Provider

log = logging.getLogger(__name__)

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
_LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}


class CloudError(Exception):
    """A failed cloud call; the message is safe to show (it never contains the key)."""


@dataclass
class CloudClient:
    base_url: str
    model: str
    api_key: str = field(repr=False)
    timeout_seconds: float = 60.0
    max_retries: int = 2
    transport: httpx.BaseTransport | None = field(default=None, repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    @classmethod
    def from_provider(cls, provider: Provider, env: Mapping[str, str] | None = None, **kwargs) -> CloudClient:
        env = os.environ if env is None else env
        key = env.get(provider.api_key_env, "")
        if not key:
            raise CloudError(f"the environment variable {provider.api_key_env} (named in the policy) is not set")
        parts = urlsplit(provider.base_url)
        if parts.scheme != "https" and (parts.hostname or "") not in _LOOPBACK:
            raise CloudError(f"refusing to send over {parts.scheme}:// to {parts.hostname}; use https")
        return cls(provider.base_url.rstrip("/"), provider.model, key, provider.timeout_seconds, provider.max_retries, **kwargs)

    @property
    def url(self) -> str:
        return f"{self.base_url}/chat/completions"

    def _safe(self, text: str) -> str:
        return text.replace(self.api_key, "***") if self.api_key else text

    def _client(self) -> httpx.Client:
        timeout = httpx.Timeout(self.timeout_seconds, connect=min(10.0, self.timeout_seconds))
        return httpx.Client(timeout=timeout, transport=self.transport, follow_redirects=False, trust_env=False)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json", "Accept": "text/event-stream, application/json"}

    def stream(self, body: bytes, cancel: Callable[[], bool] | None = None) -> Iterator[str]:
        """POST `body` verbatim and yield the answer's text deltas (SSE if the body asks to stream)."""
        streaming = json.loads(body).get("stream", False)
        attempt = 0
        while True:
            attempt += 1
            produced = False
            try:
                with self._client() as client, client.stream("POST", self.url, content=body, headers=self._headers()) as response:
                    if response.status_code != 200:
                        detail = self._safe(response.read().decode("utf-8", "replace")[:300])
                        error = CloudError(f"cloud model answered HTTP {response.status_code}: {detail}")
                        if response.status_code in _RETRY_STATUS and attempt <= self.max_retries:
                            log.warning("%s; retrying (%d/%d)", error, attempt, self.max_retries)
                            self.sleep(min(8.0, 0.5 * 2 ** (attempt - 1)))
                            continue
                        raise error
                    if not streaming:
                        yield _message_text(json.loads(response.read()))
                        return
                    for delta in _sse_deltas(response.iter_lines()):
                        if cancel and cancel():
                            return
                        produced = True
                        yield delta
                    return
            except httpx.HTTPError as exc:
                message = self._safe(f"cannot reach the cloud model at {self.base_url}: {type(exc).__name__}")
                if not produced and attempt <= self.max_retries:
                    log.warning("%s; retrying (%d/%d)", message, attempt, self.max_retries)
                    self.sleep(min(8.0, 0.5 * 2 ** (attempt - 1)))
                    continue
                raise CloudError(message) from None
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                raise CloudError(f"unexpected answer from the cloud model: {type(exc).__name__}") from None

    def complete(self, body: bytes) -> str:
        return "".join(self.stream(body))


def _message_text(data: dict) -> str:
    return data["choices"][0]["message"].get("content") or ""


def _sse_deltas(lines: Iterator[str]) -> Iterator[str]:
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        event = json.loads(data)
        if "error" in event:
            raise CloudError(f"cloud model reported an error: {str(event['error'])[:300]}")
        for choice in event.get("choices", []):
            content = (choice.get("delta") or {}).get("content")
            if content:
                yield content

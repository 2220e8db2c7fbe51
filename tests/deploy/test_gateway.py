"""kura through the team server's gateway, all real and on loopback: Envoy with the configuration
deploy/serverctl.py makes, in front of two `python -m llama_cpp.server` replicas (the CPU profile
without containers)."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from assistant.models.base import CancelToken, GenerationRequest, ModelError
from assistant.models.openai_backend import (ENGINE_DOWN, KEY_REJECTED, OK, RATE_LIMITED, UNREACHABLE, OpenAIBackend,
                                             ServerRefused, probe_server)
from assistant.models.registry import ModelConfig
from gateway_fixtures import envoy_gateway, make_certificates, serverctl

pytestmark = pytest.mark.slow  # starts engines and the gateway

PROMPT = "def mean(values):\n    return sum(values) /"
KEY_ENV = "KURA_TEST_GATEWAY_KEY"


def backend_for(gateway, key: str, monkeypatch) -> OpenAIBackend:
    monkeypatch.setenv(KEY_ENV, key)
    return OpenAIBackend(ModelConfig(backend="openai", server_url=gateway.url, api_key_env=KEY_ENV, timeout_s=30))


def wait_for_metric(gateway, name: str, minimum: float = 1, timeout_s: float = 8.0, **labels: str) -> float:
    """Envoy flushes histograms every 5 s (stats_flush_interval); counters show at once."""
    deadline = time.monotonic() + timeout_s
    while (value := gateway.metric(name, **labels)) < minimum and time.monotonic() < deadline:
        time.sleep(0.2)
    return value


async def test_kura_completes_and_explains_through_the_gateway_with_a_developer_key(gateway, monkeypatch):
    from assistant.completion.service import CompletionService, DocumentSnapshot
    from assistant.tasks.explain import Target
    from assistant.tasks.runner import EXPLAIN, TaskEnv, plan_task, run_task
    from assistant.models.host import ModelHost
    from assistant.settings import CompletionSettings, ModelSettings, Settings

    monkeypatch.setenv(KEY_ENV, gateway.keys["alice"])
    # No first-suggestion cap: a loaded 2-core CI machine must not turn a slow answer into none.
    settings = Settings(model=ModelSettings(backend="openai", server_url=gateway.url, api_key_env=KEY_ENV),
                        completion=CompletionSettings(first_suggestion_timeout_ms=0))
    host = ModelHost(settings.model)
    errors: list[str] = []
    service = CompletionService(settings, model=host, on_error=errors.append)
    text = "def mean(values):\n    return "
    try:
        outcome = await service.complete(DocumentSnapshot("file:///w/stats.py", "stats.py", text, len(text)))
        code = "def mean(values):\n    return sum(values) / len(values)\n"
        target = Target("stats.py", code, 0, len(code), "python")
        worker = await host.worker()
        plan = await plan_task(EXPLAIN, target, worker, TaskEnv(context_tokens=1024))  # what the editor runs
        explained = await run_task(EXPLAIN, plan, worker)
    finally:
        host.close()

    assert errors == [] and outcome is not None and outcome.text
    assert outcome.timings["model_ms"] > 0
    assert explained.markdown.strip() and explained.result.generated_tokens > 0


def test_streaming_reaches_kura_in_chunks_through_the_gateway(gateway, monkeypatch):
    backend = backend_for(gateway, gateway.keys["alice"], monkeypatch)
    chunks: list[str] = []

    result = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=8), on_text=chunks.append)
    backend.close()

    assert result.stop_reason == "length" and len(chunks) >= 4 and "".join(chunks) == result.text
    assert backend.info()["server_state"] == OK


def test_cancelling_in_kura_closes_the_request_to_the_engine(gateway, monkeypatch):
    backend = backend_for(gateway, gateway.keys["alice"], monkeypatch)
    resets_before = gateway.metric("envoy_cluster_upstream_cx_destroy_local_with_active_rq", envoy_cluster_name="engine")
    cancel = CancelToken()
    timer = threading.Timer(0.3, cancel.cancel)
    timer.start()

    result = backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=3000), cancel)
    timer.join()
    backend.close()

    assert result.stop_reason == "cancelled" and result.generated_tokens < 3000
    deadline = time.monotonic() + 5  # the gateway closes its connection to the engine mid-request
    while gateway.metric("envoy_cluster_upstream_cx_destroy_local_with_active_rq", envoy_cluster_name="engine") <= resets_before:
        assert time.monotonic() < deadline, "the gateway never reset the request to the engine"
        time.sleep(0.1)


def test_a_rejected_key_is_one_clear_message_then_a_quiet_backoff(gateway, monkeypatch):
    backend = backend_for(gateway, "kura-not-a-key", monkeypatch)

    with pytest.raises(ServerRefused) as first:
        backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=2))
    rejected_at_gateway = gateway.metric("envoy_http_downstream_rq_xx", envoy_http_conn_manager_prefix="kura",
                                         envoy_response_code_class="4")
    with pytest.raises(ServerRefused) as again:
        backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=2))

    assert first.value.state == KEY_REJECTED and first.value.status == 401
    assert KEY_ENV in str(first.value) and "platform team" in str(first.value)
    assert str(again.value) == str(first.value)  # the editor reports a message once: same words
    assert backend.next_retry_at - time.time() > 50  # retried each minute, not each keystroke
    assert gateway.metric("envoy_http_downstream_rq_xx", envoy_http_conn_manager_prefix="kura",
                          envoy_response_code_class="4") == rejected_at_gateway  # no second request sent


def test_an_over_limit_key_gets_429_and_kura_waits_for_retry_after(gateway, monkeypatch):
    backend = backend_for(gateway, gateway.keys["bob"], monkeypatch)  # 1 a minute, a burst of 2
    for _ in range(2):
        backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=1))

    with pytest.raises(ServerRefused) as limited:
        backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=1))
    with pytest.raises(ServerRefused) as again:
        backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=1))
    backend.close()

    assert limited.value.state == RATE_LIMITED and limited.value.status == 429
    assert "rate limiting this key" in str(limited.value) and str(again.value) == str(limited.value)
    assert 55 < backend.next_retry_at - time.time() <= 60  # the gateway's Retry-After: 60 s for 1/min
    assert gateway.metric("envoy_http_local_rate_limit_rate_limited", envoy_local_http_ratelimit_prefix="key_bob") == 1
    tokenized = httpx.post(f"{gateway.url}/extras/tokenize", json={"input": "def f"},
                           headers={"Authorization": f"Bearer {gateway.keys['bob']}"}, timeout=10)
    assert tokenized.status_code == 200  # counting tokens needs the key but spends no rate


def test_a_stopped_engine_and_then_a_dead_gateway_each_give_their_own_message(tiny_gguf, tmp_path, monkeypatch):
    from fixtures.model_server import llama_cpp_server

    state = tmp_path / "state"
    key = serverctl.add_key(state, "carol")
    engine, gateway_stack = ExitStack(), ExitStack()
    with gateway_stack, engine:
        gateway = gateway_stack.enter_context(envoy_gateway([engine.enter_context(llama_cpp_server(tiny_gguf("none")))],
                                                            state))
        backend = backend_for(gateway, key, monkeypatch)
        backend.generate(GenerationRequest(prompt="x", max_tokens=2))

        engine.close()  # the engine stops; the gateway stays
        with pytest.raises(ServerRefused) as engine_down:
            backend.generate(GenerationRequest(prompt="x", max_tokens=2))

        gateway_stack.close()  # now the gateway stops too
        backend.next_retry_at = time.time() - 1  # as if the backoff had passed
        with pytest.raises(ModelError) as gateway_down:
            backend.generate(GenerationRequest(prompt="x", max_tokens=2))

    assert engine_down.value.state == ENGINE_DOWN and engine_down.value.status == 503
    assert "no model engine behind it" in str(engine_down.value) and gateway.url in str(engine_down.value)
    assert backend.server_state == UNREACHABLE and "is unreachable" in str(gateway_down.value)
    assert gateway.url in str(gateway_down.value)


def test_revoking_a_key_takes_effect_within_seconds_without_a_restart(gateway, monkeypatch):
    key = serverctl.add_key(gateway.state, "dave")
    headers = {"Authorization": f"Bearer {key}"}
    _wait_for_status(gateway, headers, 200)

    serverctl.revoke_key(gateway.state, "dave")

    _wait_for_status(gateway, headers, 401)
    assert gateway.process.poll() is None


def _wait_for_status(gateway, headers: dict[str, str], status: int, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while (got := httpx.get(f"{gateway.url}/v1/models", headers=headers, timeout=5).status_code) != status:
        assert time.monotonic() < deadline, f"still {got}, expected {status}"
        time.sleep(0.1)


def test_the_request_log_names_the_key_but_never_holds_the_prompt(gateway, monkeypatch):
    backend = backend_for(gateway, gateway.keys["alice"], monkeypatch)
    secret_code = "def payroll_tax_rate_7731(employee):"

    backend.generate(GenerationRequest(prompt=secret_code, max_tokens=2))
    backend.close()

    deadline = time.monotonic() + 5  # the access log is written asynchronously
    while not any(e["client"] == "alice" and e["path"] == "/v1/completions" and e["status"] == 200
                  for e in access_log_entries(gateway)):
        assert time.monotonic() < deadline, gateway.access_log()[-2000:]
        time.sleep(0.1)
    log = gateway.access_log()
    assert "payroll_tax_rate_7731" not in log and gateway.keys["alice"] not in log


def access_log_entries(gateway) -> list[dict]:
    return [json.loads(line) for line in gateway.access_log().splitlines() if line.startswith("{")]


def test_requests_are_balanced_over_both_replicas(gateway):
    headers = {"Authorization": f"Bearer {gateway.keys['alice']}"}
    body = {"prompt": PROMPT, "max_tokens": 16}

    def one() -> None:
        httpx.post(f"{gateway.url}/v1/completions", json=body, headers=headers, timeout=30).raise_for_status()

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    clusters = httpx.get(f"{gateway.admin_url}/clusters", timeout=5).text
    per_replica = [int(n) for n in re.findall(r"^engine::[^:]+:\d+::rq_total::(\d+)$", clusters, re.M)]
    assert len(per_replica) == 2 and min(per_replica) >= 1


def test_the_metrics_show_requests_latency_and_errors_per_key(gateway, monkeypatch):
    backend = backend_for(gateway, gateway.keys["alice"], monkeypatch)
    backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=2))
    backend.close()

    assert gateway.metric("envoy_vhost_route_upstream_rq_completed", envoy_route="key_alice") >= 1
    assert wait_for_metric(gateway, "envoy_vhost_route_upstream_rq_time_count", envoy_route="key_alice") >= 1
    assert gateway.metric("envoy_vhost_route_upstream_rq_xx", envoy_route="key_alice",
                          envoy_response_code_class="2") >= 1
    assert gateway.metric("envoy_cluster_membership_healthy", envoy_cluster_name="engine") == 2


def test_every_gateway_metric_the_dashboard_plots_exists(gateway, monkeypatch):
    # Traffic of every kind first, so that each counter has been created.
    backend = backend_for(gateway, gateway.keys["alice"], monkeypatch)
    backend.generate(GenerationRequest(prompt=PROMPT, max_tokens=2))
    httpx.get(f"{gateway.url}/v1/models", headers={"Authorization": "Bearer nope"}, timeout=5)
    wait_for_metric(gateway, "envoy_vhost_route_upstream_rq_time_count", envoy_route="key_alice")
    names_served = set(re.findall(r"^([a-z_:]+)(?:\{| )", gateway.metrics(), re.M))
    dashboard = json.loads((serverctl_dir() / "grafana" / "dashboards" / "kura-server.json").read_text())

    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {n for e in exprs for n in re.findall(r"\b(envoy_[a-z_]+)\{", e)}

    assert used and not used - names_served - _histogram_parts(names_served), used - names_served


def serverctl_dir() -> Path:
    return Path(serverctl.__file__).parent


def _histogram_parts(names: set[str]) -> set[str]:
    return {n + suffix for n in names for suffix in ("_bucket", "_count", "_sum")}


def test_probe_server_says_reachable_key_accepted_model_and_latency(gateway, monkeypatch):
    monkeypatch.setenv(KEY_ENV, gateway.keys["alice"])
    good = probe_server(ModelConfig(backend="openai", server_url=gateway.url, api_key_env=KEY_ENV))
    monkeypatch.setenv(KEY_ENV, "kura-wrong")
    rejected = probe_server(ModelConfig(backend="openai", server_url=gateway.url, api_key_env=KEY_ENV))
    monkeypatch.setenv(KEY_ENV, gateway.keys["alice"])
    missing = probe_server(ModelConfig(backend="openai", server_url=gateway.url, api_key_env=KEY_ENV,
                                       model_name="no-such-model"), generate=False)

    assert good.ok and good.reachable and good.key_accepted and good.models and good.model == good.models[0]
    assert good.list_ms > 0 and good.first_token_ms is not None and good.completion_ms >= good.first_token_ms
    assert not rejected.ok and rejected.reachable and rejected.key_accepted is False
    assert rejected.state == KEY_REJECTED and KEY_ENV in rejected.error
    assert not missing.ok and missing.model_found is False and "no-such-model" in missing.error


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make certificates")
def test_over_tls_kura_trusts_the_company_ca_named_by_ssl_cert_file(engines, tmp_path, monkeypatch):
    ca, cert, key_file = make_certificates(tmp_path / "tls")
    state = tmp_path / "state"
    key = serverctl.add_key(state, "erin")
    with envoy_gateway(engines, state, tls=(cert, key_file)) as gateway:
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        untrusted = backend_for(gateway, key, monkeypatch)
        with pytest.raises(ModelError) as refused:
            untrusted.generate(GenerationRequest(prompt=PROMPT, max_tokens=2))

        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
        trusted = backend_for(gateway, key, monkeypatch)
        result = trusted.generate(GenerationRequest(prompt=PROMPT, max_tokens=2))
        trusted.close()

    assert gateway.url.startswith("https://") and result.generated_tokens == 2
    assert "not trusted" in str(refused.value) and "SSL_CERT_FILE" in str(refused.value)

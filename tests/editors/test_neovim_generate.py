""":KuraGenerate in a real headless Neovim against the real server: the instruction, the streamed
answer, the diff float — and the buffer changing only when the proposal is accepted. The model is an
in-house server whose answer the test writes (a random tiny model seldom writes code one would
accept), and a real tiny GGUF for the path where the answer is refused."""

from __future__ import annotations

import sqlite3

import pytest
from fixtures.scripted_model_server import scripted_model_server

from tests.editors.test_neovim import APP, editor, needs_nvim, repo, wait_for  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def buffer_of(ed, path) -> list[str]:
    return ed.lua("return vim.api.nvim_buf_get_lines(vim.fn.bufnr(...), 0, -1, false)", str(path))


def usage_outcomes(log) -> list[tuple]:
    if not log.exists():
        return []
    db = sqlite3.connect(log)
    try:
        return db.execute("SELECT kind, outcome FROM events WHERE task = 'generate' ORDER BY ts").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


@needs_nvim
def test_new_code_is_previewed_as_a_diff_and_lands_in_the_buffer_when_accepted(editor, repo, tmp_path):
    answer = "Here is the function:\n```python\n\n\ndef double(x: int) -> int:\n    return add(x, x)\n```\nIt reuses add."
    log = tmp_path / "usage.db"
    with scripted_model_server(answer) as model:
        ed = editor(settings={"model": {"backend": "openai", "serverUrl": model.url},
                              "usage": {"path": str(log)}})
        ed.open(repo / "app.py")
        ed.wait_for_server()
        before = ed.lines()
        ed.nvim.current.window.cursor = (13, 4)  # on `return result`, the last line

        ed.nvim.command("KuraGenerate add double() that uses add")

        wait_for("the diff preview", lambda: ed.lua("return vim.bo.filetype") == "diff", timeout=90)
        diff = "\n".join(ed.nvim.current.buffer[:])
        assert "+def double(x: int) -> int:" in diff and "+    return add(x, x)" in diff
        assert "Here is" not in diff and "reuses" not in diff
        assert buffer_of(ed, repo / "app.py") == before  # nothing touched yet
        assert "add double() that uses add" in str(model.requests[0])

        ed.nvim.input("a")

        after = wait_for("the code applied", lambda: (lines := buffer_of(ed, repo / "app.py")) != before and lines)
    assert after == before + ["", "", "def double(x: int) -> int:", "    return add(x, x)"]  # PEP 8's two blank lines
    assert (repo / "app.py").read_text() == APP  # in the buffer, not saved behind the user's back
    wait_for("the accept in the usage log", lambda: ("generate_resolved", "accepted") in usage_outcomes(log))


@needs_nvim
def test_a_rewrite_of_a_range_can_be_rejected_and_nothing_changes(editor, repo):
    answer = '```python\ndef plus(a: int, b: int) -> int:\n    """Sum of two prices in cents."""\n    return a + b\n```'
    with scripted_model_server(answer) as model:
        ed = editor(settings={"model": {"backend": "openai", "serverUrl": model.url}})
        ed.open(repo / "app.py")
        ed.wait_for_server()
        before = ed.lines()

        ed.nvim.command("4,6KuraGenerate rename add to plus")

        wait_for("the diff preview", lambda: ed.lua("return vim.bo.filetype") == "diff", timeout=90)
        diff = "\n".join(ed.nvim.current.buffer[:])
        assert "-def add(a: int, b: int) -> int:" in diff and "+def plus(a: int, b: int) -> int:" in diff
        ed.nvim.input("q")

        wait_for("the preview closed", lambda: ed.lua("return vim.bo.filetype") != "diff", timeout=20)
    assert buffer_of(ed, repo / "app.py") == before


@needs_nvim
def test_an_unusable_answer_from_a_real_tiny_model_is_shown_not_applied(editor, repo):
    ed = editor()  # a tiny random-weight GGUF
    ed.open(repo / "app.py")
    ed.wait_for_server()
    before = ed.lines()

    ed.nvim.command("KuraGenerate add a function that doubles a price")

    outcome = wait_for("a diff preview or a message", lambda: (
        "preview" if ed.lua("return vim.bo.filetype") == "diff" else
        "message" if any(m["msg"].startswith("kura:") for m in ed.messages()) or ed.server_said() else None),
        timeout=120)
    assert buffer_of(ed, repo / "app.py") == before
    if outcome == "message":  # the float, which showed the stream, says why too
        wait_for("the reason in the float", lambda: "\n".join(ed.nvim.current.buffer[:]).startswith("kura:"), timeout=30)


@needs_nvim
def test_an_instruction_is_required(editor, repo):
    ed = editor()
    ed.open(repo / "app.py")
    ed.wait_for_server()

    ed.lua("require('kura.commands').run('KuraGenerate', { range = 0, args = '  ' })")
    ed.lua("require('kura.commands').run('KuraGenerateCloud', { range = 0, args = '' })")

    assert len([m for m in ed.messages() if "say what to write" in m["msg"]]) == 2
    assert ed.lua("return vim.fn.exists(':KuraGenerateCloud')") == 2

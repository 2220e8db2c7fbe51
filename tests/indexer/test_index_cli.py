"""The index commands as people and scripts run them: `python -m lsp_server.cli ... --json`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from repo_fixtures import cli_env, make_repo, write

SOURCE = '''class UserStore:
    """Keeps users."""

    def getUserName(self, user_id):
        return self.names[user_id]


def lookup(store):
    return store.getUserName(1)
'''


def kura(*args: str, cwd=None, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lsp_server.cli", *args], capture_output=True, text=True,
                          env=cli_env(), cwd=cwd, input=input, timeout=120)


def kura_json(*args: str, **kwargs):
    out = kura(*args, "--json", **kwargs)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture
def repo(tmp_path):
    return make_repo(tmp_path / "repo", {"store.py": SOURCE, "blob.py": b"\0\0\0", "README.md": "hi"})


@pytest.fixture
def index(tmp_path):
    return str(tmp_path / "index.sqlite3")


def test_index_prints_a_json_summary_and_reindexes_nothing_the_second_time(repo, index):
    first = kura_json("index", str(repo), "--index", index)
    assert (first["files_indexed"], first["files_unchanged"], first["skipped"]) == (1, 0, {"binary": 1})
    assert first["symbols"] == 3 and first["chunks"] >= 1 and first["rebuilt_reason"] is None
    second = kura_json("index", str(repo), "--index", index)
    assert (second["files_indexed"], second["files_unchanged"]) == (0, 1)


def test_without_a_terminal_index_prints_one_quiet_summary_line(repo, index):
    out = kura("index", str(repo), "--index", index)
    assert out.returncode == 0
    assert out.stdout.count("\n") == 1 and "indexed 1" in out.stdout and "\x1b[" not in out.stdout


def test_changed_files_can_come_from_arguments_or_stdin(repo, index):
    kura_json("index", str(repo), "--index", index)
    write(repo, {"extra.py": "def extra():\n    pass\n", "more.py": "def more():\n    pass\n"})
    assert kura_json("index", str(repo), "--index", index, "--changed", "extra.py")["files_indexed"] == 1
    assert kura_json("index", str(repo), "--index", index, "--changed", input="more.py\n")["files_indexed"] == 1


def test_symbols_refs_and_search(repo, index):
    kura_json("index", str(repo), "--index", index)
    symbols = kura_json("symbols", "getuser", "--root", str(repo), "--index", index)
    assert symbols[0]["qualname"] == "UserStore.getUserName" and symbols[0]["kind_name"] == "method"
    top = kura_json("symbols", "", "--limit", "15", "--root", str(repo), "--index", index)
    assert {s["name"] for s in top} == {"UserStore", "lookup"}
    refs = kura_json("refs", "getUserName", "--root", str(repo), "--index", index)
    assert [(r["path"], r["range"]["start_line"], r["is_definition"]) for r in refs] == [
        ("store.py", 3, True), ("store.py", 8, False)]
    hits = kura_json("search", "user name", "--root", str(repo), "--index", index)
    assert "getUserName" in hits[0]["text"] and hits[0]["score"] > 0


def test_queries_default_to_the_repository_containing_the_working_directory(repo, index):
    write(repo, {"pkg/sub/mod.py": "def nested():\n    pass\n"})
    summary = kura_json("index", "--index", index, cwd=repo / "pkg" / "sub")  # anywhere inside the repository
    assert summary["root"] == str(repo) and summary["files_indexed"] == 2
    assert kura_json("symbols", "lookup", "--index", index, cwd=repo / "pkg")[0]["path"] == "store.py"


def test_a_corrupt_index_is_rebuilt_and_the_user_told(repo, index):
    kura_json("index", str(repo), "--index", index)
    with open(index, "wb") as f:
        f.write(b"garbage" * 1000)
    out = kura("index", str(repo), "--index", index, "--json")
    assert out.returncode == 0
    assert "corrupt" in json.loads(out.stdout)["rebuilt_reason"]
    assert "rebuilt" in out.stderr


def test_hook_install_and_uninstall(repo, index):
    out = kura("hook", "install", str(repo), "--index", index)
    assert out.returncode == 0 and "post-commit: installed" in out.stdout
    assert (repo / ".git" / "hooks" / "post-commit").exists()
    assert kura("hook", "uninstall", str(repo)).returncode == 0
    assert not (repo / ".git" / "hooks" / "post-commit").exists()


def test_errors_are_messages_not_tracebacks(tmp_path, index):
    out = kura("index", str(tmp_path / "missing"), "--index", index)
    assert out.returncode != 0 and "not a directory" in out.stderr and "Traceback" not in out.stderr
    (tmp_path / "plain").mkdir()
    out = kura("hook", "install", str(tmp_path / "plain"))
    assert out.returncode == 2 and "not a git repository" in out.stderr
    (tmp_path / "a-file").write_text("")
    out = kura("index", str(tmp_path / "plain"), "--index", str(tmp_path / "a-file" / "index.sqlite3"))
    assert out.returncode != 0 and "cannot open the index" in out.stderr and "Traceback" not in out.stderr

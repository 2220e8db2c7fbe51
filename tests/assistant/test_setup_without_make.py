"""The README's set-up without make, exactly as written, in a fresh clone: the portable llama.cpp
build (from the keyed wheel cache when this machine has built it once) and an editable install."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def readme_command() -> str:
    text = (REPO_ROOT / "README.md").read_text()
    found = re.search(r"Without make: `([^`]+)`", text.replace("\n", " "))
    assert found, "the README no longer documents a set-up without make"
    return found.group(1)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_documented_setup_without_make_installs_a_working_kura(tmp_path):
    clone = tmp_path / "kura"
    subprocess.run(["git", "clone", "-q", str(REPO_ROOT), str(clone)], check=True)
    subprocess.run([sys.executable, "-m", "venv", ".venv"], cwd=clone, check=True)

    setup = subprocess.run(["bash", "-c", readme_command()], cwd=clone, capture_output=True, text=True, timeout=880)

    assert setup.returncode == 0, setup.stderr[-2000:]
    probe = subprocess.run([".venv/bin/python", "-c", "import llama_cpp, lsp_server.cli; print(llama_cpp.__version__)"],
                           cwd=clone, capture_output=True, text=True)
    assert probe.returncode == 0 and probe.stdout.strip(), probe.stderr
    assert subprocess.run([".venv/bin/kura", "--help"], cwd=clone, capture_output=True).returncode == 0

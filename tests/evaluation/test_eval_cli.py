"""`kura eval build|run|report|list` end to end through `lsp_server.cli.main`, exit codes included."""

from __future__ import annotations

import json
from html.parser import HTMLParser

from eval_fixtures import make_repo
from lsp_server.cli import main


def kura(*args: str) -> int:
    return main(["eval", *args])


def test_build_run_report_end_to_end(repo, index_path, tiny_gguf, tmp_path, capsys):
    common = ["--repo", str(repo)]
    index = ["--index", str(index_path)]
    assert kura("build", *common, *index, "--n", "6", "--seed", "2") == 0
    out = capsys.readouterr().out
    assert "set v0001: 6 completion tasks" in out and "starter checklist" in out
    assert (repo / ".kura" / "eval" / "sets" / "v0001.jsonl").exists()

    tiny = str(tiny_gguf("qwen"))
    missing = str(tmp_path / "missing.gguf")
    code = kura("run", *common, *index, "--model", tiny, "--model", missing, "--no-context", "--limit", "3")
    captured = capsys.readouterr()
    assert code == 1  # a model failed
    assert "model missing failed: model file not found" in captured.err
    [run_file] = (repo / ".kura" / "eval" / "runs").glob("*.json")
    run = json.loads(run_file.read_text())
    assert [m["status"] for m in run["models"]] == ["ok", "failed"]
    assert run["set"]["tasks"] == 3 and run["options"] == {"modes": ["no_context"], "limit": 3}

    html = tmp_path / "out" / "report.html"
    assert kura("report", *common, "--html", str(html)) == 1  # tiny models never clear the starter thresholds
    out = capsys.readouterr().out
    assert "do not adopt" in out and f"HTML report written to {html}" in out
    charts = []

    class Charts(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "svg":
                charts.append(dict(attrs).get("data-chart"))

    Charts().feed(html.read_text())
    assert "Exact match" in charts and "p95 latency" in charts

    # Thresholds everyone clears, and only the model that works: the verdict is "adopt", exit 0.
    (repo / ".kura" / "eval" / "checklist.toml").write_text("[thresholds]\nmin_edit_similarity = 0.0\n")
    assert kura("run", *common, *index, "--model", tiny, "--no-context", "--limit", "2") == 0
    assert kura("report", *common) == 0
    assert "adopt" in capsys.readouterr().out
    assert kura("report", *common, "--run", str(run_file)) == 1  # the older run still has the failed model

    assert kura("list", *common) == 0
    listing = capsys.readouterr().out
    assert "v0001" in listing and "missing (failed)" in listing


def test_bad_input_exits_2_with_a_clear_message(repo, index_path, tmp_path, capsys):
    common = ["--repo", str(repo)]
    assert kura("run", *common, "--model", "embedded") == 2
    assert "no evaluation set" in capsys.readouterr().err

    assert kura("build", *common, "--index", str(index_path), "--n", "2") == 0
    capsys.readouterr()
    assert kura("run", *common, "--model", "embedded", "--set", "v42") == 2
    assert "unknown set version 'v42'" in capsys.readouterr().err
    assert kura("run", *common, "--model", "chatgpt") == 2
    assert "expected `embedded`" in capsys.readouterr().err
    assert kura("report", *common) == 2
    assert "no runs in" in capsys.readouterr().err

    empty = make_repo(tmp_path / "empty", {"README.md": "# words only\n"})
    assert kura("build", "--repo", str(empty), "--index", str(tmp_path / "empty.sqlite3")) == 2
    assert "no tasks could be built" in capsys.readouterr().err
    assert kura("build", "--repo", str(tmp_path / "nowhere")) == 2
    assert kura() == 2  # `kura eval` alone prints its help

"""`make eval`: the model evaluation end to end on a small real repository, in a few minutes on 2 cores.

    python benchmarks/eval_demo.py [--n 9] [--limit 12] [--out artifacts/eval]

A copy of this repository's `indexer/` package becomes a git repository (with a policy that marks one
file confidential and two explanation prompts of the company's own), then `kura eval build`, `kura eval
run` with the embedded Gemma 3 270M and a tiny generated GGUF, and `kura eval report --html`. The store
under OUT/store keeps every set version and run, so running the demo again accumulates versions and
history (each run takes the first --limit tasks of the latest set, so its time stays the same).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))

POLICY = '''version = 1

[paths]
# The demo's "confidential" code: no task is ever cut from it.
confidential = [".env*", "*.pem", "secrets/**", "indexer/hooks.py"]
allow = ["**"]
'''

PROMPTS = '''# The company's own explanation prompts: the answer must mention each fact (case-insensitive).
[[prompt]]
name = "split_identifier"
path = "indexer/words.py"
lines = [32, 35]
must_mention = ["identifier", "lower", "parts"]

[[prompt]]
name = "retry with backoff (inline)"
language = "python"
code = \'\'\'
def fetch_with_retries(fetch, attempts=5):
    for attempt in range(attempts):
        try:
            return fetch()
        except ConnectionError:
            time.sleep(min(30, 2 ** attempt))
    raise ConnectionError("gave up")
\'\'\'
must_mention = ["retries", "exponential", "ConnectionError"]
'''

GIT_ENV = {"GIT_AUTHOR_NAME": "kura demo", "GIT_AUTHOR_EMAIL": "demo@kura.invalid",
           "GIT_COMMITTER_NAME": "kura demo", "GIT_COMMITTER_EMAIL": "demo@kura.invalid",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def make_repository(repo: Path) -> None:
    """A fresh copy of indexer/ as a one-commit git repository, with a policy."""
    if repo.exists():
        shutil.rmtree(repo)
    shutil.copytree(REPO_ROOT / "indexer", repo / "indexer", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (repo / ".kura").mkdir(parents=True)
    (repo / ".kura" / "policy.toml").write_text(POLICY, encoding="utf-8")
    env = {**os.environ, **GIT_ENV}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "demo"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)


def kura(*args: str) -> tuple[int, float]:
    started = time.perf_counter()
    print(f"\n$ kura {' '.join(args)}", flush=True)
    code = subprocess.run([sys.executable, "-m", "lsp_server.cli", *args], cwd=REPO_ROOT).returncode
    return code, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=9, help="new tasks per build (default 9: three of each kind)")
    parser.add_argument("--limit", type=int, default=12,
                        help="tasks per run (default 12): the set grows with every build, the demo's time does not")
    parser.add_argument("--out", default=str(REPO_ROOT / "artifacts" / "eval"))
    args = parser.parse_args()
    out = Path(args.out).resolve()
    repo, store = out / "repo", out / "store"
    out.mkdir(parents=True, exist_ok=True)
    make_repository(repo)
    (store / "prompts").mkdir(parents=True, exist_ok=True)
    (store / "prompts" / "demo.toml").write_text(PROMPTS, encoding="utf-8")

    from fixtures.tiny_gguf import make_tiny_gguf

    tiny = make_tiny_gguf(out / "tiny-qwen.gguf", "qwen")
    common = ["--repo", str(repo), "--dir", str(store)]
    index = ["--index", str(out / "index.sqlite3")]
    timings = {}
    code, timings["build"] = kura("eval", "build", *common, *index, "--n", str(args.n), "--seed", "7")
    if code != 0:
        return code
    code, timings["run"] = kura("eval", "run", *common, *index, "--model", "embedded", "--model", str(tiny),
                                "--model", str(out / "missing-model.gguf"), "--limit", str(args.limit))
    if code not in (0, 1):  # 1: the deliberately missing model failed, as it should
        return code
    html = out / "report.html"
    code, timings["report"] = kura("eval", "report", *common, "--html", str(html))
    if code not in (0, 1):  # 1: a verdict says "do not adopt" (tiny models never pass)
        return code
    run = json.loads(sorted((store / "runs").glob("*.json"))[-1].read_text())
    print("\ndemo timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    for model in run["models"]:
        scores = "; ".join(
            f"{mode}: exact {s['exact_match']:.2f}, edit {s['edit_similarity']:.2f}, syntax "
            f"{s['syntax_validity'] if s['syntax_validity'] is None else round(s['syntax_validity'], 2)}, "
            f"explain {s['explanation_coverage'] if s['explanation_coverage'] is None else round(s['explanation_coverage'], 2)}, "
            f"p50 {s['p50_latency_ms']} ms, p95 {s['p95_latency_ms']} ms, {s['tokens_per_s']} tok/s"
            for mode, s in model["modes"].items())
        print(f"  {model['label']} ({model['status']}, load {model['load_ms']} ms): {scores or model['error']}")
    print(f"HTML report: {html}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

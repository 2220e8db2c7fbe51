"""Index benchmark: full, no-change and 10-changed re-index of a repository, against universal-ctags.

Usage: python benchmarks/index_bench.py REPO [--json] [--repeat N] [--stages]

Works on a temporary copy of REPO (the 10 changed files are edited there, never in REPO). The full
index runs as `python -m lsp_server.cli index` in a subprocess, so interpreter start-up counts and
peak RSS covers the whole process tree, worker processes included.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.files import content_skip_reason, discover  # noqa: E402
from indexer.index import Index  # noqa: E402

# The issue's goals: a full index within 3x universal-ctags' wall time, a no-change update in 0.3 s,
# ten changed files in 100 ms.
TARGETS = {"full_vs_ctags": 3.0, "no_change_s": 0.3, "ten_changed_s": 0.1, "peak_rss_mb": 300.0, "index_vs_source": 1.5}
CTAGS = "/usr/bin/ctags" if os.path.exists("/usr/bin/ctags") else shutil.which("ctags")


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def _tree_rss_kb(pid: int) -> int:
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
        stack.extend(_children(p))
    return total


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # includes grandchildren that were waited for
    return usage.ru_utime + usage.ru_stime


def run_measured(cmd: list[str], env: dict | None = None) -> tuple[float, int, str, float]:
    """(wall seconds, peak RSS of the process tree in KiB sampled every 20 ms, stdout, CPU seconds)."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kb(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[:4]} failed ({proc.returncode}):\n{err}")
    return elapsed, peak, out, _children_cpu() - cpu_before


def ctags_seconds(tree: Path, repeat: int) -> tuple[float, float] | None:
    """(best wall seconds, CPU seconds of that run) for universal-ctags over the tree."""
    if not CTAGS:
        return None
    best = None
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeat):
            cpu_before = _children_cpu()
            started = time.perf_counter()
            subprocess.run([CTAGS, "-R", "--links=no", "--exclude=.git", "-f", os.path.join(tmp, "tags"), str(tree)],
                           check=True, capture_output=True)
            run = (time.perf_counter() - started, _children_cpu() - cpu_before)
            best = run if best is None or run[0] < best[0] else best
    return best


def stage_split(tree: Path, files: list) -> dict[str, float]:
    """CPU seconds per stage of a full index, measured in this process one file at a time with the
    indexer's own functions (the pipeline spreads the same work over workers and the writer). Stages
    that run inside a larger call are timed again on their own and subtracted from it."""
    import zlib

    import tree_sitter

    from indexer.extract import extract_file
    from indexer.languages import language_for_path, parser_for, queries_for
    from indexer.store import _ZLIB_LEVEL, IndexStore, prepare

    clock = time.process_time
    # words: `prepare` less its compression, i.e. the chunks' and names' search words, mostly.
    spent = dict.fromkeys(("read", "parse", "query", "extraction", "words", "compress", "sqlite"), 0.0)
    writes = []
    for f in files:
        started = clock()
        data = (tree / f.path).read_bytes()
        spec = language_for_path(f.path)
        if spec is None or content_skip_reason(data):
            continue
        queries = queries_for(spec).tags
        read = clock()
        root = parser_for(spec).parse(data).root_node
        parsed = clock()
        tree_sitter.QueryCursor(queries).captures(root)
        queried = clock()
        extract = extract_file(f.path, data, spec)  # parses and queries again
        extracted = clock()
        zlib.compress("".join(c.text for c in extract.chunks).encode("utf-8", "surrogatepass"), _ZLIB_LEVEL)
        compressed = clock()
        writes.append(prepare(f.path, b"", len(data), 0, extract))  # compresses the same text again
        prepared = clock()
        spent["read"] += read - started
        spent["parse"] += parsed - read
        spent["query"] += queried - parsed
        spent["extraction"] += (extracted - queried) - (queried - read)
        spent["words"] += (prepared - compressed) - (compressed - extracted)
        spent["compress"] += compressed - extracted
    with tempfile.TemporaryDirectory() as tmp:
        store = IndexStore.open(Path(tmp) / "stages.sqlite3")
        try:
            started = clock()
            for i in range(0, len(writes), 200):
                store.write(writes[i:i + 200])
            store.compact()
            store.checkpoint()
            spent["sqlite"] = clock() - started
        finally:
            store.close()
    return spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON too")
    parser.add_argument("--repeat", type=int, default=1, help="full-index runs (the best counts); ctags runs 3x this")
    parser.add_argument("--stages", action="store_true",
                        help="also split a full index's CPU time by stage (parse, query, extraction, words, sqlite...)")
    args = parser.parse_args()
    repo = args.repo.resolve()
    if not repo.is_dir():
        raise SystemExit(f"not a directory: {repo}")

    with tempfile.TemporaryDirectory(prefix="kura-bench-") as tmp:
        tree = Path(tmp) / "tree"
        shutil.copytree(repo, tree, symlinks=True)
        found = discover(tree)
        source_bytes = sum(f.size for f in found.files)
        lines = 0
        for f in found.files:
            with open(tree / f.path, "rb") as fh:
                lines += fh.read().count(b"\n")

        env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        cli = [sys.executable, "-m", "lsp_server.cli", "index", str(tree), "--json"]
        full_s, full_cpu, peak_kb = None, None, 0
        for i in range(args.repeat):
            index_path = Path(tmp) / f"index-{i}.sqlite3"
            seconds, kb, out, cpu = run_measured([*cli, "--index", str(index_path)], env)
            summary = json.loads(out)
            if full_s is None or seconds < full_s:
                full_s, full_cpu = seconds, cpu
            peak_kb = max(peak_kb, kb)
        index_bytes = sum(p.stat().st_size for p in Path(tmp).glob(f"index-{args.repeat - 1}.sqlite3*"))
        ctags = ctags_seconds(tree, 3 * args.repeat)
        ctags_s, ctags_cpu = ctags if ctags else (None, None)

        cli_no_change_s, _, _, _ = run_measured([*cli, "--index", str(index_path)], env)
        with Index.open(tree, index_path) as idx:
            started = time.perf_counter()
            report = idx.update()
            no_change_s = time.perf_counter() - started
            assert report.indexed == 0, report

            def change(files: list[str], tag: str) -> None:
                for n, rel in enumerate(files):
                    with open(tree / rel, "a", encoding="utf-8") as fh:
                        fh.write(f"\n\ndef kura_bench_{tag}_{n}():\n    return {n}\n")

            cpu: dict[str, float] = {}

            def timed_update(tag: str, **kwargs) -> float:
                started, cpu_started = time.perf_counter(), time.process_time()
                report = idx.update(**kwargs)
                assert report.indexed == 10 and not report.errors, report
                cpu[tag] = time.process_time() - cpu_started
                return time.perf_counter() - started

            step = max(1, len(found.files) // 40)
            picks = [f.path for f in found.files[::step]]
            batches = [picks[i:i + 10] for i in range(0, 40, 10)]
            # First in this process (grammar and queries load), then warm as in `kura watch` or the server.
            change(batches[0], "cold")
            ten_changed_cold_s = timed_update("cold", paths=batches[0])
            change(batches[1], "warm")
            ten_changed_s = timed_update("warm", paths=batches[1])
            change(batches[2], "scan")
            ten_changed_scan_s = timed_update("scan")
        stages = stage_split(tree, found.files) if args.stages else None

    results = {
        "repo": str(repo), "files": len(found.files), "lines": lines, "source_mb": round(source_bytes / 1e6, 2),
        "full_index_s": round(full_s, 2), "full_index_cpu_s": round(full_cpu, 2), "lines_per_s": round(lines / full_s),
        "files_per_s": round(len(found.files) / full_s),
        "symbols": summary["symbols"], "chunks": summary["chunks"],
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "index_mb": round(index_bytes / 1e6, 2), "index_vs_source": round(index_bytes / source_bytes, 2),
        "no_change_s": round(no_change_s, 3), "no_change_cli_s": round(cli_no_change_s, 3),
        "ten_changed_s": round(ten_changed_s, 3), "ten_changed_cpu_s": round(cpu["warm"], 3),
        "ten_changed_cold_s": round(ten_changed_cold_s, 3),
        "ten_changed_full_scan_s": round(ten_changed_scan_s, 3),
        "ctags_s": round(ctags_s, 3) if ctags_s else None, "ctags_cpu_s": round(ctags_cpu, 3) if ctags_s else None,
        "full_vs_ctags": round(full_s / ctags_s, 1) if ctags_s else None,
        "full_vs_ctags_cpu": round(full_cpu / ctags_cpu, 1) if ctags_cpu else None,
        "cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    if stages:
        results["stages_cpu_s"] = {k: round(v, 3) for k, v in stages.items()}
    checks = {
        "full_vs_ctags": results["full_vs_ctags"], "no_change_s": results["no_change_s"],
        "ten_changed_s": results["ten_changed_s"], "peak_rss_mb": results["peak_rss_mb"],
        "index_vs_source": results["index_vs_source"],
    }
    print(f"repository        {repo}")
    print(f"files / lines     {results['files']:,} / {lines:,} ({results['source_mb']} MB)")
    print(f"full index        {results['full_index_s']} s wall, {results['full_index_cpu_s']} s CPU "
          f"({results['files_per_s']:,} files/s, {results['lines_per_s']:,} lines/s, {results['symbols']:,} symbols, {results['chunks']:,} chunks)")
    if ctags_s:
        print(f"universal-ctags   {results['ctags_s']} s wall, {results['ctags_cpu_s']} s CPU -> kura/ctags = "
              f"{results['full_vs_ctags']}x wall, {results['full_vs_ctags_cpu']}x CPU")
    else:
        print("universal-ctags   not found: apt-get install universal-ctags")
    print(f"peak RSS          {results['peak_rss_mb']} MB (whole process tree)")
    print(f"index size        {results['index_mb']} MB = {results['index_vs_source']}x source")
    print(f"no-change         {results['no_change_s']} s in-process, {results['no_change_cli_s']} s via CLI")
    print(f"10 files changed  {results['ten_changed_s']} s ({results['ten_changed_cpu_s']} s CPU) via update(paths) warm "
          f"({results['ten_changed_cold_s']} s as the first update of a process), "
          f"{results['ten_changed_full_scan_s']} s via a full scan")
    print(f"machine           {results['cpus']} CPUs, load average {results['load_avg_1m']}")
    if stages:
        total = sum(stages.values())
        print(f"CPU by stage      {total:.2f} s in one process: " + ", ".join(
            f"{k} {v:.2f} ({100 * v / total:.0f}%)" for k, v in stages.items()))
        if ctags_cpu:
            print(f"                  parse + query alone = {(stages['parse'] + stages['query']) / ctags_cpu:.1f}x ctags CPU")
    print("targets:")
    for key, value in checks.items():
        if value is None:
            continue
        ok = value <= TARGETS[key]
        print(f"  {key:<16} {value:>8} <= {TARGETS[key]:<6} {'ok' if ok else 'MISSED'}")
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

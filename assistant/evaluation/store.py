"""The evaluation store: `<repo>/.kura/eval/` by default.

    sets/v0001.jsonl   one task per line, never rewritten once written
    sets/v0001.json    its manifest: date, commit, seed, counts per kind and language, sha256 of the tasks
    runs/*.json        one file per `kura eval run`
    prompts/*.toml     the company's own explanation prompts (read by `build`)
    checklist.toml     the adopt / do-not-adopt thresholds (a commented starter is written on first build)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from assistant.evaluation import EvalError
from assistant.evaluation.tasks import CompletionTask, ExplainTask, task_from_dict

STORE_RELPATH = ".kura/eval"
_VERSION = re.compile(r"^v(\d{4,})$")


@dataclass
class EvalSet:
    version: str
    manifest: dict[str, Any]
    tasks: list[CompletionTask]
    explains: list[ExplainTask]

    @property
    def size(self) -> int:
        return len(self.tasks) + len(self.explains)


class EvalStore:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    @classmethod
    def for_repo(cls, root: Path, directory: str | Path | None = None) -> EvalStore:
        return cls(Path(directory).expanduser().resolve() if directory else Path(root).resolve() / STORE_RELPATH)

    @property
    def sets_dir(self) -> Path:
        return self.directory / "sets"

    @property
    def runs_dir(self) -> Path:
        return self.directory / "runs"

    @property
    def prompts_dir(self) -> Path:
        return self.directory / "prompts"

    @property
    def checklist_path(self) -> Path:
        return self.directory / "checklist.toml"

    # --- sets ------------------------------------------------------------------------------------

    def versions(self) -> list[str]:
        """Versions with both a task file and a manifest, oldest first."""
        if not self.sets_dir.is_dir():
            return []
        found = []
        for path in self.sets_dir.glob("v*.json"):
            match = _VERSION.match(path.stem)
            if match and path.with_suffix(".jsonl").is_file():
                found.append((int(match.group(1)), path.stem))
        return [name for _n, name in sorted(found)]

    def latest(self) -> str | None:
        versions = self.versions()
        return versions[-1] if versions else None

    def resolve(self, version: str | None) -> str:
        """"v3", "3", "v0003" or "latest"/None → the stored version name; EvalError when unknown."""
        versions = self.versions()
        if not versions:
            raise EvalError(f"no evaluation set in {self.directory}; build one with `kura eval build`")
        if version in (None, "", "latest"):
            return versions[-1]
        match = re.fullmatch(r"v?(\d+)", version.strip())
        if match:
            name = f"v{int(match.group(1)):04d}"
            if name in versions:
                return name
        raise EvalError(f"unknown set version {version!r} in {self.sets_dir}; available: {', '.join(versions)}")

    def load_set(self, version: str | None = None) -> EvalSet:
        name = self.resolve(version)
        tasks_path = self.sets_dir / f"{name}.jsonl"
        manifest_path = self.sets_dir / f"{name}.json"
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            raw = tasks_path.read_bytes()
        except (OSError, ValueError) as exc:
            raise EvalError(f"cannot read set {name} in {self.sets_dir}: {exc}") from exc
        if manifest.get("sha256") and hashlib.sha256(raw).hexdigest() != manifest["sha256"]:
            raise EvalError(f"{tasks_path} was changed after it was built (sha256 differs from {manifest_path.name}); "
                            "sets are immutable: build a new version instead of editing one")
        tasks: list[CompletionTask] = []
        explains: list[ExplainTask] = []
        for lineno, line in enumerate(raw.decode("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                task = task_from_dict(json.loads(line))
            except (ValueError, TypeError) as exc:
                raise EvalError(f"{tasks_path}:{lineno}: not a task record: {exc}") from exc
            (explains if isinstance(task, ExplainTask) else tasks).append(task)
        return EvalSet(name, manifest, tasks, explains)

    def write_set(self, manifest: dict[str, Any], tasks: list[CompletionTask | ExplainTask]) -> EvalSet:
        """Write the next version; never overwrites one (a concurrent build takes the number after)."""
        self.sets_dir.mkdir(parents=True, exist_ok=True)
        latest = self.latest()
        number = int(latest[1:]) + 1 if latest else 1
        while True:
            name = f"v{number:04d}"
            tasks = [t if t.added_in else replace(t, added_in=name) for t in tasks]
            data = "".join(json.dumps(t.to_dict(), ensure_ascii=False, sort_keys=True) + "\n" for t in tasks).encode()
            try:
                with open(self.sets_dir / f"{name}.jsonl", "xb") as f:
                    f.write(data)
                break
            except FileExistsError:
                number += 1
        manifest = {"version": name, **manifest, "sha256": hashlib.sha256(data).hexdigest()}
        _write_json(self.sets_dir / f"{name}.json", manifest)
        completions = [t for t in tasks if isinstance(t, CompletionTask)]
        explains = [t for t in tasks if isinstance(t, ExplainTask)]
        return EvalSet(name, manifest, completions, explains)

    # --- runs ------------------------------------------------------------------------------------

    def write_run(self, run: dict[str, Any]) -> Path:
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        stem = f"{run['id']}"
        path = self.runs_dir / f"{stem}.json"
        n = 1
        while path.exists():
            n += 1
            path = self.runs_dir / f"{stem}~{n}.json"  # "~" sorts after ".": the newest stays last
        _write_json(path, run)
        return path

    def runs(self) -> list[Path]:
        """Run files, oldest first (their names start with the UTC time of the run)."""
        return sorted(self.runs_dir.glob("*.json")) if self.runs_dir.is_dir() else []


def load_run(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        run = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EvalError(f"cannot read run file {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise EvalError(f"{path} is not a run file (invalid JSON: {exc})") from exc
    if not isinstance(run, dict) or not isinstance(run.get("models"), list):
        raise EvalError(f"{path} is not a `kura eval run` result (no \"models\" list)")
    run.setdefault("file", str(path))
    return run


def _write_json(path: Path, data: Any) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(partial, path)

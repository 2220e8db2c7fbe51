"""`kura doctor`'s checks: small functions that each return a `Check` (ok, warn or fail, what was
found, the fix in one line), run in order by `run_checks`. The CLI, `:checkhealth kura` and the VS
Code command only show them."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from assistant.doctor.check import FAIL, OK, WARN, Check, Status, healthy, split_fix
from assistant.settings import ModelSettings, UsageSettings

__all__ = ["Check", "DoctorOptions", "FAIL", "OK", "Status", "WARN", "healthy", "run_checks", "split_fix"]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DoctorOptions:
    """What to check: the model settings (as `kura complete` takes them), the repository and its index,
    the usage log, and where to look for editors."""

    model: ModelSettings = field(default_factory=ModelSettings)
    root: Path | None = None
    index_path: Path | None = None
    usage: UsageSettings = field(default_factory=UsageSettings)
    home: Path = field(default_factory=Path.home)
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


def _guarded(name: str, run: Callable[[], Check | list[Check] | None]) -> list[Check]:
    """A check that raises is itself a failed check: `kura doctor` always finishes its report."""
    try:
        result = run()
    except Exception as exc:  # noqa: BLE001 - whatever broke is what the user needs to see
        log.debug("check %s raised", name, exc_info=True)
        return [Check(name, FAIL, f"the check itself failed: {type(exc).__name__}: {exc}",
                      "run `kura -v doctor` for the traceback and report it")]
    if result is None:
        return []
    return result if isinstance(result, list) else [result]


def run_checks(options: DoctorOptions) -> Iterator[Check]:
    """Every check, in the order a newcomer would fix things, yielded as each finishes."""
    from assistant.doctor import editors, environment, model, workspace
    from assistant.models.host import model_config

    config = model_config(options.model)
    backend = config.backend
    yield from _guarded("python", environment.check_python)
    yield from _guarded("packages", lambda: environment.check_packages(backend))
    yield from _guarded("llama.cpp build", lambda: environment.check_llama_build(backend, options.env, options.home))
    if backend == "openai":
        yield from _guarded("in-house server", lambda: model.check_inhouse_server(config))
    else:
        yield from _guarded("model", lambda: model.check_local_model(config, environment.llama_rebuild_fix()))
    yield from _guarded("index", lambda: workspace.check_index(options.root, options.index_path))
    yield from _guarded("git hooks", lambda: workspace.check_hooks(options.root))
    policy_state: dict = {}

    def policy() -> Check:
        check, policy_state["policy"] = workspace.check_policy(options.root, options.env)
        return check

    yield from _guarded("policy", policy)
    yield from _guarded("cloud provider", lambda: workspace.check_provider(policy_state.get("policy"), options.env))
    yield from _guarded("usage log", lambda: workspace.check_usage_log(options.usage, policy_state.get("policy")))
    yield from _guarded("VS Code extension", lambda: editors.check_vscode(options.home, options.env))
    yield from _guarded("Neovim plugin", lambda: editors.check_neovim(options.home, options.env))

"""Best-effort checks for the editor clients on this machine: the VS Code extension in the usual
extension folders, the Neovim plugin in the usual plugin folders or named by the user's config.
Finding one on disk does not prove the editor loads it; `:checkhealth kura` confirms it for Neovim."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

from assistant.doctor.check import OK, WARN, Check

EXTENSION_ID = "kura.kura"  # publisher.name in editors/vscode/package.json
CHECKOUT = Path(__file__).resolve().parents[2]  # the kura checkout, when kura runs from one
MAX_CONFIG_FILES = 200


def _short(path: Path, home: Path) -> str:
    try:
        return "~/" + path.relative_to(home).as_posix()
    except ValueError:
        return str(path)


def vscode_extension_dirs(home: Path, env: Mapping[str, str]) -> list[tuple[str, Path]]:
    data = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    dirs = [("VS Code", home / ".vscode" / "extensions"), ("VS Code Insiders", home / ".vscode-insiders" / "extensions"),
            ("VSCodium", home / ".vscode-oss" / "extensions"), ("VS Code Server", home / ".vscode-server" / "extensions"),
            ("code-server", data / "code-server" / "extensions")]
    if env.get("VSCODE_EXTENSIONS"):
        dirs.insert(0, ("VS Code (VSCODE_EXTENSIONS)", Path(env["VSCODE_EXTENSIONS"])))
    return dirs


def check_vscode(home: Path, env: Mapping[str, str]) -> Check:
    dirs = vscode_extension_dirs(home, env)
    found, editors = [], []
    for editor, directory in dirs:
        if not directory.is_dir():
            continue
        editors.append(editor)
        for ext in sorted(directory.glob(f"{EXTENSION_ID}-*")):
            try:
                version = json.loads((ext / "package.json").read_text("utf-8")).get("version", "?")
            except (OSError, ValueError):
                version = "?"
            found.append(f"{version} in {editor} ({_short(ext, home)})")
    vsix = CHECKOUT / "editors" / "vscode" / "kura.vsix"
    install = (f"`make vsix`, then `code --install-extension {vsix if vsix.parent.is_dir() else 'kura.vsix'}` "
               "(or code-server --install-extension)")
    if found:
        return Check("VS Code extension", OK, "kura " + "; ".join(found))
    if editors:
        return Check("VS Code extension", WARN, f"{', '.join(editors)} found, without the kura extension", install)
    looked = ", ".join(_short(d, home) for _, d in dirs)
    return Check("VS Code extension", OK, f"no VS Code here (looked in {looked}); nothing to do unless you use it")


def _plugin_at(path: Path) -> bool:
    return (path / "lua" / "kura" / "health.lua").is_file() and (path / "plugin" / "kura.lua").is_file()


def _config_files(config: Path) -> list[Path]:
    files = [p for p in (config / "init.lua", config / "init.vim") if p.is_file()]
    lua = config / "lua"
    if lua.is_dir():
        files += sorted(lua.rglob("*.lua"))[:MAX_CONFIG_FILES]
    return files


def check_neovim(home: Path, env: Mapping[str, str], which: Callable[[str], str | None] = shutil.which) -> Check:
    config = Path(env.get("XDG_CONFIG_HOME") or home / ".config") / "nvim"
    data = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share") / "nvim"
    found: dict[Path, str] = {}
    running = env.get("KURA_NEOVIM_PLUGIN")  # set by the plugin's `:checkhealth kura`
    if running and _plugin_at(Path(running)):
        found[Path(running)] = "`:checkhealth kura` ran from it"
    for pattern in ("lazy/*", "site/pack/*/start/*", "site/pack/*/opt/*", "plugged/*"):
        for candidate in data.glob(pattern):
            if _plugin_at(candidate):
                found.setdefault(candidate, "plugin folder")
    for candidate in config.glob("pack/*/*/*"):
        if _plugin_at(candidate):
            found.setdefault(candidate, "plugin folder")
    # `vim.opt.runtimepath:append('~/src/kura/editors/neovim')` or lazy.nvim's `dir = '...'`.
    for file in _config_files(config):
        try:
            text = file.read_text("utf-8", "replace")
        except OSError:
            continue
        for quoted in re.findall(r"""['"]([^'"\n]*editors/neovim)/?['"]""", text):
            candidate = Path(quoted).expanduser()
            if _plugin_at(candidate):
                found.setdefault(candidate, f"named in {_short(file, home)}")
    if found:
        places = "; ".join(f"{_short(p, home)} ({how})" for p, how in found.items())
        return Check("Neovim plugin", OK, f"kura plugin at {places}; `:checkhealth kura` confirms Neovim loads it")
    plugin = CHECKOUT / "editors" / "neovim"
    fix = (f"add `vim.opt.runtimepath:append('{plugin}')` and `require('kura').setup({{}})` to your init.lua "
           "(lazy.nvim: `{ dir = '" + str(plugin) + "', name = 'kura', opts = {} }`)")
    if which("nvim") or config.is_dir() or env.get("NVIM"):
        return Check("Neovim plugin", WARN, f"Neovim found, but no kura plugin in {_short(data, home)} or named in "
                                            f"{_short(config, home)} (best effort: other plugin managers are not searched)", fix)
    return Check("Neovim plugin", OK, "no Neovim here; nothing to do unless you use it")

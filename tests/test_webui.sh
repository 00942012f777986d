#!/bin/sh
# The web UI in a real browser (web/test/ui.test.mjs says what it claims).
#
# Builds a store from the generator's theft (coinhound-gen --theft, ingest,
# cluster build, the generator's labels and an analyst's tag of the thief
# imported), writes `coinhound trace --json` of the thief's address for each
# policy the test switches to (the expected values), builds the UI
# (web/build.mjs) when web/node_modules is installed, starts
# `coinhound serve --web` on a free loopback port and drives Debian's
# chromium through puppeteer-core. Screenshots go to $BUILD/webui/.
# Skips, saying why, when node, chromium or web/node_modules is absent
# (scripts/deps.sh installs them). Prints cmocka-style lines for tests/run.sh.
BUILD=${BUILD:-build}
CH=$BUILD/coinhound
GEN=$BUILD/coinhound-gen
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
skip() {
  echo "[  SKIPPED ] webui: $1"
  echo "[  SKIPPED ] 1 test(s)."
  exit 0
}
command -v node >/dev/null 2>&1 || skip "node is absent (scripts/deps.sh installs it)"
[ -x "$CHROMIUM" ] || skip "no chromium at $CHROMIUM (scripts/deps.sh installs Debian's chromium)"
[ -d web/node_modules/puppeteer-core ] || skip "web/node_modules is absent (npm ci in web/, as scripts/deps.sh does)"
OUT=$BUILD/webui
tmp=$(mktemp -d)
srv=""
cleanup() {
  [ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
mkdir -p "$OUT"
fail() {
  echo "[  ERROR   ] webui: $1"
  [ -f "$2" ] && tail -20 "$2"
  echo "[  FAILED  ] 1 test(s), listed above."
  exit 1
}

(cd web && node build.mjs) > "$tmp/build.log" 2>&1 || fail "the UI does not build (node web/build.mjs)" "$tmp/build.log"
$GEN --out "$tmp/chain" --txs 20000 --theft --seed 7 > "$tmp/gen.log" 2>&1 || fail "coinhound-gen" "$tmp/gen.log"
{
  $CH ingest btc "$tmp/chain" --db "$tmp/db" &&
    $CH cluster build --db "$tmp/db" &&
    THIEF=$(sed -n 's/.*"thief_address": *"\([^"]*\)".*/\1/p' "$tmp/chain/theft.json") &&
    printf 'address,category,entity\n%s,stolen_funds,generator thief (analyst tag)\n' "$THIEF" > "$tmp/thief.csv" &&
    $CH intel import --format csv "$tmp/chain/labels.csv" "$tmp/thief.csv" --db "$tmp/db"
} > "$tmp/store.log" 2>&1 || fail "building the store" "$tmp/store.log"
THIEF=$(sed -n 's/.*"thief_address": *"\([^"]*\)".*/\1/p' "$tmp/chain/theft.json")
for p in haircut fifo poison; do
  $CH trace --db "$tmp/db" --from "$THIEF" --policy "$p" --json > "$tmp/trace-$p.json" 2> "$tmp/trace.log" ||
    fail "coinhound trace --policy $p" "$tmp/trace.log"
done
$CH serve --db "$tmp/db" --listen 127.0.0.1:0 --web web/dist 2> "$tmp/serve.log" &
srv=$!
port=""
for _ in $(seq 100); do
  port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\)\/.*/\1/p' "$tmp/serve.log")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || fail "coinhound serve did not start" "$tmp/serve.log"
CH_URL="http://127.0.0.1:$port" CH_THIEF="$THIEF" CH_THEFT="$tmp/chain/theft.json" CH_TRACE_DIR="$tmp" \
  CH_OUT="$OUT" CH_BIN="$CH" CHROMIUM="$CHROMIUM" node web/test/ui.test.mjs

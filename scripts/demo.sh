#!/bin/sh
# The main job on generated and bundled data, from a fresh Debian 12 machine:
# installs what is missing, builds, then
#   1. generates a Bitcoin-format chain with a planted theft and its laundering,
#   2. ingests it into a store (kill it any time; re-run resumes),
#   3. traces the stolen coins to the exchanges where they landed,
#   4. clusters addresses,
#   5. builds an attribution store from the real OFAC / FBI / ATT&CK data in
#      ../shared/fixtures (when present) and screens the Ronin bridge exploiter,
#      then screens an exchange deposit address fed by the theft (indirect
#      exposure through the chain store),
#   6. ingests real mainnet blocks 0..255 and shows the first bitcoin payment,
#   7. does the same on an EVM chain: generated JSON-RPC data with a drained
#      hot wallet, splits, token swaps and exchange/bridge landings, traced per
#      asset; address-poisoning attempts caught at ingest; deposit clustering,
#   8. writes the theft's case report and the stolen-value totals (HTML),
#   9. serves the web UI on the demo's store and prints its URL.
# Everything it writes goes to ./demo/.
set -e
cd "$(dirname "$0")/.."
sh scripts/deps.sh
make -j"$(nproc 2>/dev/null || echo 2)" all >/dev/null
CH=build/coinhound
GEN=build/coinhound-gen
FIX=${COINHOUND_FIXTURES:-../shared/fixtures}
OUT=demo
TXS=${DEMO_TXS:-200000}
rm -rf "$OUT"
mkdir -p "$OUT"
step() { printf '\n== %s\n' "$*"; }

step "1. generate $TXS transactions with a planted theft ($OUT/chain)"
$GEN --out "$OUT/chain" --txs "$TXS" --theft --seed 7

step "2. ingest the blk files into a store ($OUT/db)"
$CH ingest btc "$OUT/chain" --db "$OUT/db"
$CH status --db "$OUT/db"

# theft.json is one line of JSON written by coinhound-gen
field() { sed -n "s/.*\"$1\": *\"\{0,1\}\([^\",]*\).*/\1/p" "$OUT/chain/theft.json" | head -1; }
THEFT_TXID=$(field theft_txid)
THEFT_VOUT=$(field theft_vout)
THIEF=$(field thief_address)
DEPOSIT=$(sed -n 's/.*"landings":\[{"address":"\([^"]*\)".*/\1/p' "$OUT/chain/theft.json")
step "3. follow the stolen output $THEFT_TXID:$THEFT_VOUT (haircut, forward)"
$CH trace --db "$OUT/db" --from "$THEFT_TXID:$THEFT_VOUT" --policy haircut \
  --labels "$OUT/chain/labels.csv"
$CH trace --db "$OUT/db" --from "$THEFT_TXID:$THEFT_VOUT" --policy fifo \
  --labels "$OUT/chain/labels.csv" --json > "$OUT/trace-fifo.json"
$CH trace --db "$OUT/db" --from "$THEFT_TXID:$THEFT_VOUT" --policy haircut \
  --labels "$OUT/chain/labels.csv" --dot > "$OUT/trace.dot"
echo "(FIFO trace as JSON in $OUT/trace-fifo.json, flow graph in $OUT/trace.dot)"

step "4. cluster addresses (multi-input heuristic, CoinJoins skipped)"
$CH cluster build --db "$OUT/db"

step "5. attribution store and screening"
if [ -d "$FIX/intel" ]; then
  echo "from the real OFAC, FBI and MITRE ATT&CK data:"
  $CH intel import "$FIX/intel/ofac-lists" "$FIX/intel/mitre-attack-dprk-groups.stix21.json" \
    "$FIX/intel/misp-galaxy-threat-actor.json" --db "$OUT/db"
  $CH intel export-set --out "$OUT/screen.set" --db "$OUT/db"
  echo "screening the Ronin bridge exploiter (lowercase, as a wallet might paste it):"
  $CH screen 0x098b716b8aaf21512996dc57eb0615e2383e2f96 --set "$OUT/screen.set" || true
else
  echo "(skipping the real data: no fixtures at $FIX)"
fi
echo
echo "an analyst tags the thief's address; an exchange then screens a deposit address:"
printf 'address,category,entity\n%s,stolen_funds,Demo theft (analyst tag)\n' "$THIEF" > "$OUT/thief.csv"
$CH intel import --format csv "$OUT/chain/labels.csv" "$OUT/thief.csv" --db "$OUT/db" | tail -1
$CH screen "$DEPOSIT" --db "$OUT/db" || true

if [ -d "$FIX/btc/mainnet-0-255" ]; then
  step "6. real mainnet blocks 0..255: the first bitcoin payment, block 170"
  $CH ingest btc "$FIX/btc/mainnet-0-255" --db "$OUT/mainnet"
  $CH tx f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16 --db "$OUT/mainnet"
  $CH address 12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S --db "$OUT/mainnet" --limit 3
else
  echo "(skipping step 6: no fixtures at $FIX)"
fi
step "7. an EVM chain: a Bybit-shaped drain (generated JSON-RPC responses)"
build/coinhound-evmgen --out "$OUT/evm" --transfers 50000 --theft --seed 5
# the safeguard reads token tables at ingest: the generator's own (what tokens
# call themselves) and, when present, Etherscan's list (which are genuine)
[ -f "$FIX/eth/erc20-tokens.csv" ] && export COINHOUND_TOKENS="$FIX/eth/erc20-tokens.csv"
COINHOUND_TOKEN_META="$OUT/evm/tokens.csv" $CH ingest eth "$OUT/evm" --db "$OUT/db" --chain eth
$CH status --db "$OUT/db" --chain eth
# The services' labels go into the attribution store too, so that every door
# (the web desk's trace and address pages, serve's POST /v1/trace) sees the
# EVM landings, not only a CLI run handed --labels.
$CH intel import --format csv "$OUT/evm/labels.csv" --db "$OUT/db" | tail -1
EXPLOITER=$(sed -n 's/.*"exploiter": *"\(0x[0-9a-f]*\)".*/\1/p' "$OUT/evm/theft.json" | head -1)
echo "following everything the exploiter $EXPLOITER received (haircut, per asset):"
$CH trace --db "$OUT/db" --chain eth --from "$EXPLOITER" --policy haircut \
  --labels "$OUT/evm/labels.csv" --tokens "$OUT/evm/tokens.csv" | head -40
# the first zero-value poisoning attempt the generator planted
ATTEMPT=$(sed 's/},{/}\n{/g' "$OUT/evm/theft.json" | grep '"kind":"zero_value"' | head -1)
VICTIM=$(echo "$ATTEMPT" | sed -n 's/.*"victim": *"\(0x[0-9a-f]*\)".*/\1/p')
LOOK=$(echo "$ATTEMPT" | sed -n 's/.*"lookalike": *"\(0x[0-9a-f]*\)".*/\1/p')
if [ -n "$VICTIM" ]; then
  echo
  echo "address poisoning aimed at $VICTIM:"
  $CH poison "$VICTIM" --db "$OUT/db" --chain eth | head -12
  echo "the victim is about to pay $LOOK (copied from its history):"
  $CH poison --check "$LOOK" --from "$VICTIM" --db "$OUT/db" --chain eth || true
fi
$CH cluster build --chain eth --db "$OUT/db" --labels "$OUT/evm/labels.csv" | tail -3

step "8. reports people read: the theft's case report, and stolen-value totals"
$CH report case --db "$OUT/db" --from "$THEFT_TXID:$THEFT_VOUT" --policy haircut \
  --labels "$OUT/chain/labels.csv" --title "Demo case: the planted theft" \
  --out "$OUT/case-report.html"
# the project's cited incidents and published figures (data/, docs/report.md)
$CH report totals --incidents data/incidents.csv --published data/published.csv \
  --out "$OUT/totals-report.html"

step "9. the investigator's desk: the web UI on the demo's store"
# built from web/ (npm ci by scripts/deps.sh) and served by coinhound serve
# at /; left running so the URL below opens (DEMO_PORT, default 8080)
PORT=${DEMO_PORT:-8080}
if [ -d web/node_modules/esbuild ] && make web >/dev/null; then
  $CH serve --db "$OUT/db" --listen "127.0.0.1:$PORT" --web web/dist 2> "$OUT/serve.log" &
  echo $! > "$OUT/serve.pid"
  sleep 1
  if kill -0 "$(cat "$OUT/serve.pid")" 2>/dev/null; then
    UI="http://127.0.0.1:$PORT"
    echo "the UI on the demo's store: $UI/"
    echo "  the thief's address:      $UI/?q=$THIEF"
    echo "  the trace of the theft:   $UI/#/trace?from=$THEFT_TXID:$THEFT_VOUT&policy=haircut&direction=forward"
    echo "  (stop it with: kill $(cat "$OUT/serve.pid"))"
  else
    echo "(the UI could not be served on port $PORT: $(tail -1 "$OUT/serve.log"); try DEMO_PORT=...)"
  fi
else
  echo "(the web UI is not built: npm is absent or npm ci in web/ failed; see scripts/deps.sh)"
fi

printf '\ndemo done: everything is in %s/\n' "$OUT"
echo "case report (open in a browser, print to PDF): $OUT/case-report.html"
echo "stolen-value totals report:                     $OUT/totals-report.html"
if [ -n "${UI:-}" ]; then echo "web UI on the demo's store:                     $UI/"; fi

#!/bin/sh
# coinhound serve under wrk (Debian's wrk), beside a baseline measured in the
# same run: the same wrk against /healthz, a static answer of the same server
# library (the HTTP cost every request pays). Prints requests/s, p50 and p99,
# the CPU the server and wrk spent, and the ratios; a benchmark, not a test
# (nothing is asserted).
#
#   sh bench/bench_serve.sh [SECONDS] [CONNECTIONS] [BATCH] [BATCH_CONNECTIONS]
#
# Environment (all optional):
#   THREADS=N        the server's --threads (default 2)
#   WRK_THREADS=N    wrk's -t (default 1)
#   SRV_CPUS=LIST    pin the server with taskset -c LIST (say 0)
#   WRK_CPUS=LIST    pin wrk with taskset -c LIST (say 1)
#   KEYED=1          serve with --keys (one unlimited read key) and send it in
#                    X-API-Key, as a keyed client does
#
# On a shared machine the wall-clock rates say little: the CPU the server
# spends per request (its utime+stime from /proc over each run, 10 ms
# ticks) is the figure to compare, printed with the load average before
# and after each run. wrk's own CPU is printed too: on 2 cores it takes
# about as much as the server does.
#
# Batches run on BATCH_CONNECTIONS (default 4: two per server thread) with
# a 30 s timeout: 64 clients each posting 10,000 addresses only queue, and
# wrk counts an answer later than its 2 s default as no answer.
#
# Batches have a baseline of their own: the same body sent (GET) to a
# static file of the server's web folder holding the batch's own answer,
# so the HTTP cost of moving that many bytes in and out is measured apart.
#
# The set: a generated chain's labels (coinhound-gen --theft) and OFAC's
# per-asset address lists (FIXTURES/intel/ofac-lists), exported as a
# screening set. Two batches, each beside its own baseline:
#   batch  the worst case: the chain's listed addresses (2,403) with the
#          theft's 13 unlabelled ones, so 99.5% are listed and nearly every
#          verdict is a full one (716 bytes: reason, source, listing dates);
#   mix    a compliance desk's file: MIX_LISTED percent (default 1) of its
#          items drawn in turn from OFAC's XBT and ETH lists (listed,
#          severe), the rest distinct random mainnet addresses no list names
#          (bench/clean_addrs.py: P2PKH, P2SH, P2WPKH, P2TR, EVM), so most
#          verdicts are clean ones (about 200 bytes).
# The mix needs the fixtures (FIXTURES, default ../shared/fixtures) and
# python3; without them it is left out, said so. Run from the repository
# root after `make`.
set -e
SECS=${1:-5}
CONNS=${2:-64}
BATCH=${3:-1000}
BCONNS=${4:-4}
B=${BUILD:-build}
THREADS=${THREADS:-2}
WRK_THREADS=${WRK_THREADS:-1}
command -v wrk >/dev/null || { echo "bench_serve: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
T=$(mktemp -d)
SRV=""
cleanup() { [ -n "$SRV" ] && kill "$SRV" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM
"$B/coinhound-gen" --out "$T/chain" --txs 20000 --theft --seed 7 >/dev/null
"$B/coinhound" ingest btc "$T/chain" --db "$T/db" --no-progress >/dev/null
"$B/coinhound" intel import --format csv "$T/chain/labels.csv" --db "$T/db" >/dev/null
FIX=${FIXTURES:-../shared/fixtures}
MIX=0
if [ -d "$FIX/intel/ofac-lists" ] && command -v python3 >/dev/null; then
  "$B/coinhound" intel import "$FIX/intel/ofac-lists" --db "$T/db" >/dev/null
  MIX=1
else
  echo "bench_serve: no $FIX/intel/ofac-lists or no python3: the mixed batch is left out" >&2
fi
"$B/coinhound" intel export-set --db "$T/db" --out "$T/set.chset" >/dev/null

# the addresses: listed (labels.csv) and unlisted (the theft's path)
{ tail -n +2 "$T/chain/labels.csv" | cut -d, -f1;
  grep -o '"address": *"[^"]*"' "$T/chain/theft.json" | sed 's/.*"\([^"]*\)"$/\1/'; } |
  sort -u > "$T/addrs"
LISTED=$(sed -n 2p "$T/chain/labels.csv" | cut -d, -f1)
awk -v n="$BATCH" 'BEGIN { printf "[" }
  { a[NR] = $0 }
  END { for (i = 0; i < n; i++) printf "%s{\"address\":\"%s\",\"external_id\":\"%d\"}",
        (i ? "," : ""), a[i % NR + 1], i; printf "]" }' "$T/addrs" > "$T/batch.json"
# the mix: every (100 / MIX_LISTED)th item an OFAC address, the rest clean
if [ "$MIX" = 1 ]; then
  cat "$FIX/intel/ofac-lists/sanctioned_addresses_XBT.txt" \
      "$FIX/intel/ofac-lists/sanctioned_addresses_ETH.txt" | tr -d '\r' | grep . > "$T/ofac"
  python3 "$(dirname "$0")/clean_addrs.py" "$BATCH" 7 > "$T/clean"
  awk -v n="$BATCH" -v pct="${MIX_LISTED:-1}" 'BEGIN { printf "[" }
    FNR == 1 { f++ } f == 1 { o[++no] = $0 } f == 2 { c[++nc] = $0 }
    END { every = 100 / pct; k = 0
      for (i = 0; i < n; i++) {
        a = (i % every == every - 1) ? o[(k++ * 37) % no + 1] : c[i + 1] # stride 37: over both lists
        printf "%s{\"address\":\"%s\",\"external_id\":\"%d\"}", (i ? "," : ""), a, i }
      printf "]" }' "$T/ofac" "$T/clean" > "$T/mix.json"
fi
KEYARGS=""
HDR=""
if [ "${KEYED:-0}" = 1 ]; then
  echo "bench $(echo bench-key | "$B/coinhound" serve --hash-key) read unlimited" > "$T/keys"
  KEYARGS="--keys $T/keys"
  HDR="X-API-Key: bench-key"
fi
# post.lua: the batch; get.lua: the same body sent to the batch's static
# baseline (a GET of a file as large as the batch's answer); the mix's
# mixpost.lua and mixget.lua the same with its body
for m in POST GET; do
  for b in batch mix; do
    [ "$b" = mix ] && [ "$MIX" = 0 ] && continue
    lua="$T/$(echo $m | tr 'A-Z' 'a-z').lua"
    [ "$b" = mix ] && lua="$T/mix$(echo $m | tr 'A-Z' 'a-z').lua"
    cat > "$lua" <<LUA
local f = io.open("$T/$b.json", "rb")
wrk.method = "$m"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
if "$HDR" ~= "" then wrk.headers["X-API-Key"] = "bench-key" end
LUA
  done
done
mkdir "$T/web"

# pinned: taskset -c LIST CMD...; else CMD...
pin() { cpus=$1; shift; if [ -n "$cpus" ]; then taskset -c "$cpus" "$@"; else "$@"; fi; }

# taskset execs the server: $! is its pid (the CPU read from /proc below)
TS=""
[ -n "$SRV_CPUS" ] && TS="taskset -c $SRV_CPUS"
# shellcheck disable=SC2086 # TS and KEYARGS are words or none
$TS "$B/coinhound" serve --set "$T/set.chset" --listen 127.0.0.1:0 \
  --threads "$THREADS" --max-batch "$BATCH" --web "$T/web" $KEYARGS 2> "$T/serve.log" &
SRV=$!
i=0
while ! grep -q listening "$T/serve.log" 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 100 ] && { cat "$T/serve.log" >&2; exit 2; }; sleep 0.05
done
PORT=$(grep -o '127\.0\.0\.1:[0-9][0-9]*' "$T/serve.log" | head -1 | cut -d: -f2)
U="http://127.0.0.1:$PORT"

# the server's CPU so far in clock ticks (utime + stime of every thread)
ticks() { awk '{ print $14 + $15 }' "/proc/$SRV/stat"; }
HZ=$(getconf CLK_TCK)

# ms of wrk's p-th percentile line ("50%", "99%")
pct() {
  awk -v p="$1" '$1 == p { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 }
      else if (v ~ /ms$/) sub(/ms$/, "", v); else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }
      print v }' "$2"
}

# run NAME ARGS...: wrk's requests/s, p50/p99 (ms), the server's and wrk's
# CPU into NAME_rps, NAME_cpu_us (server CPU µs per request)
run() {
  name=$1; shift
  la=$(cut -d' ' -f1 /proc/loadavg)
  t0=$(ticks)
  if [ -n "$HDR" ]; then set -- -H "$HDR" "$@"; fi
  pin "$WRK_CPUS" /usr/bin/time -f "%U %S" -o "$T/$name.time" \
    wrk -t"$WRK_THREADS" -c"${C:-$CONNS}" -d"${SECS}s" --timeout 30s --latency "$@" \
    > "$T/$name.out" 2>&1
  t1=$(ticks)
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$T/$name.out")
  reqs=$(awk '/requests in/ { print $1 }' "$T/$name.out")
  p50=$(pct 50% "$T/$name.out")
  p99=$(pct 99% "$T/$name.out")
  errs=$(grep -c "Non-2xx\|Socket errors" "$T/$name.out" || true)
  read -r wu ws < "$T/$name.time"
  cpu_us=$(awk -v t="$((t1 - t0))" -v hz="$HZ" -v n="$reqs" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
  srv_cores=$(awk -v t="$((t1 - t0))" -v hz="$HZ" -v s="$SECS" 'BEGIN { printf "%.2f", t / hz / s }')
  wrk_cores=$(awk -v u="$wu" -v s2="$ws" -v s="$SECS" 'BEGIN { printf "%.2f", (u + s2) / s }')
  eval "${name}_rps=\$rps; ${name}_cpu=\$cpu_us"
  printf '%-10s %10s req/s  p50 %7s ms  p99 %7s ms  server %8s us CPU/req (%s cores)  wrk %s cores  load %s->%s%s\n' \
    "$name" "$rps" "$p50" "$p99" "$cpu_us" "$srv_cores" "$wrk_cores" "$la" \
    "$(cut -d' ' -f1 /proc/loadavg)" "$([ "$errs" != 0 ] && echo "  (errors or non-2xx answers!)")"
}

# the batch's baseline: its own answer, saved as a static file of the server
curl -s -o "$T/web/answer.json" -H 'Content-Type: application/json' ${HDR:+-H "$HDR"} \
  --data-binary @"$T/batch.json" "$U/v1/screen"
[ "$MIX" = 1 ] && curl -s -o "$T/web/mix.json" -H 'Content-Type: application/json' \
  ${HDR:+-H "$HDR"} --data-binary @"$T/mix.json" "$U/v1/screen"

echo "coinhound serve, wrk -t$WRK_THREADS -c$CONNS (batches -c$BCONNS) -d${SECS}s, server --threads $THREADS, $(nproc) cores;"
echo "pinned: server ${SRV_CPUS:-no}, wrk ${WRK_CPUS:-no}; keys: ${KEYED:-0}; set: $(wc -l < "$T/addrs") addresses asked, batch of $BATCH"
# the machine's load says whether the figures are to trust (2 cores shared)
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)   $(date -u '+%Y-%m-%d %H:%M UTC')"
run baseline "$U/healthz"
run sanctions "$U/api/v1/address/$LISTED"
C=$BCONNS run batchbase -s "$T/get.lua" "$U/answer.json"
C=$BCONNS run batch -s "$T/post.lua" "$U/v1/screen"
if [ "$MIX" = 1 ]; then
  C=$BCONNS run mixbase -s "$T/mixget.lua" "$U/mix.json"
  C=$BCONNS run mix -s "$T/mixpost.lua" "$U/v1/screen"
fi
awk -v b="$baseline_rps" -v s="$sanctions_rps" -v t="$batch_rps" -v n="$BATCH" \
    -v bc="$baseline_cpu" -v sc="$sanctions_cpu" -v tc="$batch_cpu" \
    -v tb="$batchbase_rps" -v tbc="$batchbase_cpu" -v bytes="$(wc -c < "$T/web/answer.json")" 'BEGIN {
  printf "sanctions / baseline:  %.2f of the static answer'"'"'s rate; CPU per request %.2f x the baseline'"'"'s\n", s / b, sc / bc
  printf "sanctions per server CPU-second: %.0f (baseline %.0f)\n", 1e6 / sc, 1e6 / bc
  printf "batch: %.0f addresses/s wall, %.3f us server CPU per address, %.0f addresses per server CPU-second\n", t * n, tc / n, n * 1e6 / tc
  printf "batch baseline (the same body in, a static answer of the same %d bytes out): %.0f addresses/s wall, %.0f per server CPU-second; batch / its baseline %.2f\n", bytes, tb * n, n * 1e6 / tbc, t / tb
}'
if [ "$MIX" = 1 ]; then
  awk -v t="$mix_rps" -v tc="$mix_cpu" -v tb="$mixbase_rps" -v tbc="$mixbase_cpu" -v n="$BATCH" \
      -v pct="${MIX_LISTED:-1}" -v bytes="$(wc -c < "$T/web/mix.json")" 'BEGIN {
    printf "mix (%s%% listed): %.0f addresses/s wall, %.3f us server CPU per address, %.0f addresses per server CPU-second\n", pct, t * n, tc / n, n * 1e6 / tc
    printf "mix baseline (the same body in, a static answer of the same %d bytes out): %.0f addresses/s wall, %.0f per server CPU-second; mix / its baseline %.2f\n", bytes, tb * n, n * 1e6 / tbc, t / tb
  }'
fi
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"

#!/bin/sh
# coinhound serve under wrk (Debian's wrk), beside a baseline measured in the
# same run: the same wrk against /healthz, a static answer of the same server
# library (the HTTP cost every request pays). Prints requests/s, p99 and the
# ratios; a benchmark, not a test (nothing is asserted).
#
#   sh bench/bench_serve.sh [SECONDS] [CONNECTIONS] [BATCH] [BATCH_CONNECTIONS]
#
# Batches run on BATCH_CONNECTIONS (default 4: two per server thread) with
# a 30 s timeout: 64 clients each posting 10,000 addresses only queue, and
# wrk counts an answer later than its 2 s default as no answer.
#
# The set: a generated chain's labels (coinhound-gen --theft), exported as a
# screening set; the batch mixes its listed addresses with the theft's
# unlabelled ones. Run from the repository root after `make`.
set -e
SECS=${1:-5}
CONNS=${2:-64}
BATCH=${3:-1000}
BCONNS=${4:-4}
B=${BUILD:-build}
command -v wrk >/dev/null || { echo "bench_serve: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
T=$(mktemp -d)
SRV=""
cleanup() { [ -n "$SRV" ] && kill "$SRV" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM
"$B/coinhound-gen" --out "$T/chain" --txs 20000 --theft --seed 7 >/dev/null
"$B/coinhound" ingest btc "$T/chain" --db "$T/db" --no-progress >/dev/null
"$B/coinhound" intel import --format csv "$T/chain/labels.csv" --db "$T/db" >/dev/null
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
cat > "$T/post.lua" <<LUA
local f = io.open("$T/batch.json", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
LUA

"$B/coinhound" serve --set "$T/set.chset" --listen 127.0.0.1:0 --threads 2 --max-batch "$BATCH" \
  2> "$T/serve.log" &
SRV=$!
i=0
while ! grep -q listening "$T/serve.log" 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 100 ] && { cat "$T/serve.log" >&2; exit 2; }; sleep 0.05
done
PORT=$(grep -o '127\.0\.0\.1:[0-9][0-9]*' "$T/serve.log" | head -1 | cut -d: -f2)
U="http://127.0.0.1:$PORT"

# run NAME ARGS...: wrk's requests/s and p99 (ms) into NAME_rps, NAME_p99
run() {
  name=$1; shift
  wrk -t1 -c"${C:-$CONNS}" -d"${SECS}s" --timeout 30s --latency "$@" > "$T/$name.out" 2>&1
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$T/$name.out")
  p99=$(awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 }
        else if (v ~ /ms$/) sub(/ms$/, "", v); else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }
        print v }' "$T/$name.out")
  errs=$(grep -c "Non-2xx" "$T/$name.out" || true)
  eval "${name}_rps=\$rps; ${name}_p99=\$p99"
  printf '%-28s %12s req/s   p99 %8s ms%s\n' "$name" "$rps" "$p99" \
    "$([ "$errs" != 0 ] && echo "   (non-2xx answers!)")"
}

echo "coinhound serve, wrk -t1 -c$CONNS (batches -c$BCONNS) -d${SECS}s, server --threads 2, $(nproc) cores;"
echo "set: $(wc -l < "$T/addrs") addresses asked, batch of $BATCH"
# the machine's load says whether the figures are to trust (2 cores shared)
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
run baseline "$U/healthz"
run sanctions "$U/api/v1/address/$LISTED"
C=$BCONNS run batch -s "$T/post.lua" "$U/v1/screen"
awk -v b="$baseline_rps" -v s="$sanctions_rps" -v t="$batch_rps" -v n="$BATCH" 'BEGIN {
  printf "sanctions / baseline:        %.2f of the static answer'"'"'s rate\n", s / b
  printf "batch addresses per second:  %.0f (%.2f x the single-address rate)\n", t * n, t * n / s
}'
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"

#!/bin/sh
# Old build against new build, in one run: the CLI's ingest, trace, cluster
# and screening, timed with both binaries on the same generated chain.
#
#   bench/compare_builds.sh [options] OLD_REF [NEW_REF]
#
# NEW_REF defaults to HEAD. Each ref is checked out in a temporary worktree
# of this repository (under the work folder) and built there with its own
# Makefile (`make build/coinhound build/coinhound-gen`), so the two binaries
# differ only by the source of their refs. The new build's coinhound-gen
# writes one chain (--txs N, --theft); then, for each of --rounds rounds, both
# builds run every operation below, the order of the two builds alternating
# from round to round (old first in odd rounds), each build in a store of its
# own made afresh by its own ingest:
#
#   ingest        ingest btc CHAIN (a new store)
#   intel         intel import --format csv of every other labels.csv row
#   cluster       cluster build
#   trace-poison  trace --from THEFT:0 --policy poison --json (default stops)
#   trace-haircut the same with --policy haircut
#   trace-wide    trace --from THEFT:0 --policy haircut --stop-at= --json
#                 (no stop: the taint spreads over the chain after the theft)
#   trace-wide-text  the same as text (the summary: the walk and the sums
#                 without the JSON writer)
#   export-set    intel export-set (each build writes its own set format)
#   screen-set    screen --set SET --json over --screen-addrs addresses
#                 (every labels.csv address, half of them listed, repeated)
#   screen-db     screen --db DIR --json over the first --db-addrs of them
#                 (attributions, clusters and indirect exposure, 3 hops)
#
# Every command is timed by /usr/bin/time; the table gives per operation the
# median over the rounds of CPU seconds (user + sys: the figure to trust on
# a shared machine), of wall seconds and of peak RSS, for each build, and
# new/old ratios. Output goes to /dev/null (the JSON contracts differ between
# refs: what is compared is the work of answering). Raw figures stay in
# DIR/times.tsv (op, build, round, wall, user, sys, maxrss KiB).
#
# What changed between the refs is mapped: CLI options in map_args (none of
# those used here changed between ae974da, the last commit before issue 12,
# and main of 2026-12-07; add a case there when one does), and the address
# form of a ref whose store does not know its network (before 59339d4: it
# writes a regtest chain's addresses as mainnet's, so its labels and the
# addresses it screens are re-encoded so, see mainnet_form). Before the table,
# what each build found (the poison trace's txs and landings, how many
# addresses each screening flagged): the two did the same work only if they
# agree. docs/benchmarks.md has a run and what it showed.
#
# options:
#   --dir DIR           work folder (default: a new /tmp/coinhound-cmp.XXXXXX)
#   --txs N             transactions of the chain (default 2000000)
#   --seed S            generator seed (default 1)
#   --rounds N          rounds (default 3)
#   --screen-addrs N    addresses screened against the set (default 1000000)
#   --db-addrs N        addresses screened with --db (default 20000)
#   --jobs N            make -j (default 2)
#   --keep              keep the work folder (stores, chain, worktrees)
#
# Exit: 0 when every command of both builds succeeded, 2 otherwise.
set -eu

usage() { sed -n '2,/^set -eu/p' "$0" | sed -e '/^set -eu/d' -e 's/^# \{0,1\}//'; }
die() { echo "compare_builds: $*" >&2; exit 2; }

DIR='' TXS=2000000 SEED=1 ROUNDS=3 SCREEN_ADDRS=1000000 DB_ADDRS=20000 JOBS=2 KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --dir) DIR=$2; shift 2 ;;
    --txs) TXS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --screen-addrs) SCREEN_ADDRS=$2; shift 2 ;;
    --db-addrs) DB_ADDRS=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) break ;;
  esac
done
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage >&2; exit 2; fi
for n in "$TXS" "$ROUNDS" "$SCREEN_ADDRS" "$DB_ADDRS" "$JOBS"; do
  case $n in '' | *[!0-9]*) die "'$n' is not a whole number" ;; esac
done
[ -x /usr/bin/time ] || die "/usr/bin/time is needed (Debian package time)"

REPO=$(git rev-parse --show-toplevel) || die "run it inside the coinhound repository"
OLD_SHA=$(git -C "$REPO" rev-parse --verify "$1^{commit}") || die "no commit '$1'"
NEW_SHA=$(git -C "$REPO" rev-parse --verify "${2:-HEAD}^{commit}") || die "no commit '${2:-HEAD}'"
if [ -z "$DIR" ]; then DIR=$(mktemp -d /tmp/coinhound-cmp.XXXXXX); else mkdir -p "$DIR"; fi
DIR=$(cd "$DIR" && pwd)
case $DIR in *[[:space:]]*) die "the work folder's path must not hold spaces: $DIR" ;; esac

# shellcheck disable=SC2317 # called by the trap
cleanup() {
  for b in old new; do
    if [ -d "$DIR/src-$b" ]; then git -C "$REPO" worktree remove --force "$DIR/src-$b" 2>/dev/null || true; fi
  done
  [ "$KEEP" = 1 ] || rm -rf "$DIR"
}
[ "$KEEP" = 1 ] || trap cleanup EXIT INT TERM

# ---- builds ----
build() { # build NAME SHA
  src=$DIR/src-$1
  if [ -d "$src" ]; then # a kept work folder: the same worktree, moved to the ref
    git -C "$src" checkout -q --detach "$2" || die "cannot check $2 out in $src"
  else
    git -C "$REPO" worktree add --detach "$src" "$2" >/dev/null 2>&1 || die "cannot check $2 out in $src"
  fi
  echo "building $1 ($(git -C "$src" log -1 --format='%h %s' | cut -c1-70))" >&2
  make -C "$src" -j"$JOBS" Q=@ build/coinhound build/coinhound-gen >"$DIR/build-$1.log" 2>&1 ||
    die "the $1 build failed (see $DIR/build-$1.log)"
}
build old "$OLD_SHA"
build new "$NEW_SHA"

# map_args BUILD OP ARGS...: the arguments of OP as BUILD's CLI spells them.
# One argument a line. Every option used here is spelled the same by both
# refs today; a renamed one would be a case here, e.g.
#   [ "$1" = old ] && { shift 2; printf '%s\n' "$@" | sed 's/^--new-name/--old-name/'; return; }
map_args() {
  shift 2
  printf '%s\n' "$@"
}

# What changed between the refs besides options: a ref whose store does not
# record its network (before 59339d4) writes a regtest chain's addresses in
# mainnet form (bc1..., 1..., 3...), so its labels and the addresses it
# screens are given in that form, or it would find none of them and do
# other work (a trace would never stop at an exchange).
addr_form() { # addr_form SHA: regtest or mainnet
  if git -C "$REPO" grep -q ch_store_network "$1" -- include/coinhound/store.h; then
    echo regtest
  else
    echo mainnet
  fi
}

# mainnet_form < IN > OUT: the first comma-separated field of every line,
# when it is a regtest address (bcrt1..., m/n/2...), re-encoded for mainnet
# (bc1...; version byte 0x00 or 0x05), checksums made again.
mainnet_form() {
  python3 -c '
import hashlib, sys
B32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
def polymod(vs):
    g = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    c = 1
    for v in vs:
        b = c >> 25
        c = (c & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            if b >> i & 1:
                c ^= g[i]
    return c
def hrp_x(h):
    return [ord(x) >> 5 for x in h] + [0] + [ord(x) & 31 for x in h]
def bech32(a, hrp):
    data = [B32.index(ch) for ch in a[a.rfind("1") + 1:]]
    const = polymod(hrp_x(a[:a.rfind("1")]) + data)  # bech32 or bech32m
    body = data[:-6]
    c = polymod(hrp_x(hrp) + body + [0] * 6) ^ const
    return hrp + "1" + "".join(B32[v] for v in body + [c >> 5 * (5 - i) & 31 for i in range(6)])
def b58(a):
    n = 0
    for ch in a:
        n = n * 58 + B58.index(ch)
    raw = n.to_bytes(25, "big")
    ver = {0x6F: 0x00, 0xC4: 0x05}[raw[0]]
    body = bytes([ver]) + raw[1:21]
    body += hashlib.sha256(hashlib.sha256(body).digest()).digest()[:4]
    n = int.from_bytes(body, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(body) - len(body.lstrip(b"\0"))) + out
for line in sys.stdin:
    f, sep, rest = line.partition(",")
    f = f.rstrip("\n")
    if f.startswith("bcrt1"):
        f = bech32(f, "bc")
    elif f[:1] in ("m", "n", "2") and 26 <= len(f) <= 35:
        f = b58(f)
    sys.stdout.write(f + sep + rest if sep else f + "\n")
'
}

# ---- the chain and the inputs ----
CHAIN=$DIR/chain
if [ ! -f "$CHAIN/theft.json" ] || [ "$(sed -n 's/^txs=//p' "$CHAIN/bench.params" 2>/dev/null)" != "$TXS:$SEED" ]; then
  echo "generating $TXS txs (seed $SEED)" >&2
  "$DIR/src-new/build/coinhound-gen" --out "$CHAIN" --txs "$TXS" --seed "$SEED" --theft >/dev/null ||
    die "coinhound-gen failed"
  echo "txs=$TXS:$SEED" >"$CHAIN/bench.params"
fi
THEFT=$(sed -n 's/.*"theft_txid":"\([0-9a-f]*\)".*/\1/p' "$CHAIN/theft.json")
[ -n "$THEFT" ] || die "no theft_txid in $CHAIN/theft.json"
# half of the labels listed (every other row), all of them screened, in
# each build's address form
awk 'NR == 1 || NR % 2 == 0' "$CHAIN/labels.csv" >"$DIR/listed-new.csv"
awk -v want="$SCREEN_ADDRS" -F, 'NR > 1 { a[n++] = $1 }
  END { if (n) for (i = 0; i < want; i++) print a[i % n] }' "$CHAIN/labels.csv" >"$DIR/screen-new.txt"
head -n "$DB_ADDRS" "$DIR/screen-new.txt" >"$DIR/screen-db-new.txt"
FORM_old=$(addr_form "$OLD_SHA")
for f in listed.csv screen.txt screen-db.txt; do
  if [ "$FORM_old" = mainnet ]; then
    mainnet_form <"$DIR/${f%.*}-new.${f##*.}" >"$DIR/${f%.*}-old.${f##*.}" || die "python3 is needed"
  else
    cp "$DIR/${f%.*}-new.${f##*.}" "$DIR/${f%.*}-old.${f##*.}"
  fi
done

# ---- timing ----
TIMES=$DIR/times.tsv
: >"$TIMES"
FAILED=0
# run BUILD ROUND OP ARGS...: time BIN ARGS (mapped), stdout to /dev/null.
run() {
  b=$1 r=$2 op=$3
  shift 3
  bin=$DIR/src-$b/build/coinhound
  # one argument a line (no argument here is empty or holds a newline)
  old_ifs=$IFS
  IFS='
'
  set -f
  # shellcheck disable=SC2046
  set -- $(map_args "$b" "$op" "$@")
  set +f
  IFS=$old_ifs
  case $op in screen-*) ok=1 ;; *) ok=0 ;; esac # screen: 1 is "some flagged"
  st=0
  /usr/bin/time -f '%e %U %S %M' -o "$DIR/t" "$bin" "$@" >/dev/null 2>"$DIR/err-$b-$op.log" || st=$?
  if [ "$st" -le "$ok" ]; then
    # shellcheck disable=SC2034 # read fills all four
    tail -n 1 "$DIR/t" | { read -r wall user sys rss
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$op" "$b" "$r" "$wall" "$user" "$sys" "$rss"; } >>"$TIMES"
  else
    echo "  $b $op failed (exit $st): $(tail -n 1 "$DIR/err-$b-$op.log")" >&2
    FAILED=1
  fi
}

# What each build found, once (untimed): the two did the same work only if
# these agree. The trace's JSON contract changed (amounts as strings), so
# the figures are read with python3 whatever the spelling.
outcome() { # outcome BUILD
  bin=$DIR/src-$1/build/coinhound db=$DIR/db-$1
  "$bin" trace --db "$db" --from "$THEFT:0" --policy poison --json >"$DIR/trace-$1.json" || true
  "$bin" screen --set "$db/set.chset" --file "$DIR/screen-db-$1.txt" --json >"$DIR/screen-$1.json" || true
  "$bin" screen --db "$db" --file "$DIR/screen-db-$1.txt" --json >"$DIR/screen-db-$1.json" || true
  python3 -c '
import json, sys
def flagged(path):
    levels = ("severe", "high", "medium", "low")
    return sum(json.loads(l).get("risk") in levels for l in open(path) if l.strip())
t = json.load(open(sys.argv[1]))
print("  %s: trace-poison %s txs, %d landings, %s landed; of the first %s addresses, %d flagged"
      " by screen-set, %d by screen-db" % (sys.argv[4], t.get("txs"), len(t.get("landings", [])),
      t.get("landed_total"), sys.argv[5], flagged(sys.argv[2]), flagged(sys.argv[3])))
' "$DIR/trace-$1.json" "$DIR/screen-$1.json" "$DIR/screen-db-$1.json" "$1" "$DB_ADDRS"
}

pipeline() { # pipeline BUILD ROUND
  db=$DIR/db-$1
  rm -rf "$db"
  run "$1" "$2" ingest ingest btc "$CHAIN" --db "$db" --no-progress
  run "$1" "$2" intel intel import --format csv "$DIR/listed-$1.csv" --db "$db"
  run "$1" "$2" cluster cluster build --db "$db"
  run "$1" "$2" trace-poison trace --db "$db" --from "$THEFT:0" --policy poison --json
  run "$1" "$2" trace-haircut trace --db "$db" --from "$THEFT:0" --policy haircut --json
  run "$1" "$2" trace-wide trace --db "$db" --from "$THEFT:0" --policy haircut --stop-at= --json
  run "$1" "$2" trace-wide-text trace --db "$db" --from "$THEFT:0" --policy haircut --stop-at=
  run "$1" "$2" export-set intel export-set --out "$db/set.chset" --db "$db"
  run "$1" "$2" screen-set screen --set "$db/set.chset" --file "$DIR/screen-$1.txt" --json
  run "$1" "$2" screen-db screen --db "$db" --file "$DIR/screen-db-$1.txt" --json
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date -u '+%Y-%m-%d %H:%M UTC')
r=1
while [ "$r" -le "$ROUNDS" ]; do
  echo "round $r of $ROUNDS" >&2
  if [ $((r % 2)) = 1 ]; then pipeline old "$r"; pipeline new "$r"; else pipeline new "$r"; pipeline old "$r"; fi
  r=$((r + 1))
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
CHECK=$(outcome old; outcome new)

# ---- the table ----
echo "old $(git -C "$REPO" log -1 --format='%h %ad' --date=short "$OLD_SHA"), new $(git -C "$REPO" log -1 --format='%h %ad' --date=short "$NEW_SHA")"
echo "$START, $(nproc) cores, load average $LOAD0 at the start, $LOAD1 at the end"
echo "chain: $TXS txs (seed $SEED); $ROUNDS rounds, builds alternating; medians"
echo "screen-set: $SCREEN_ADDRS addresses; screen-db: $DB_ADDRS; $(($(wc -l <"$DIR/listed-new.csv") - 1)) listed of $(($(wc -l <"$CHAIN/labels.csv") - 1))"
echo "what each found:"
echo "$CHECK"
awk -F'\t' '
function median(key,   n, i, j, t, v) {
  n = cnt[key]
  for (i = 1; i <= n; i++) v[i] = val[key, i]
  for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
  return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function add(key, x) { val[key, ++cnt[key]] = x }
function ratio(a, b) { return a > 0 ? sprintf("%.2f", b / a) : "-" }
{
  if (!($1 in seen)) { seen[$1] = 1; ops[++nops] = $1 }
  add($1 SUBSEP $2 SUBSEP "cpu", $5 + $6); add($1 SUBSEP $2 SUBSEP "wall", $4)
  add($1 SUBSEP $2 SUBSEP "rss", $7 / 1024)
}
END {
  printf "%-16s %9s %9s %6s   %8s %8s %6s   %8s %8s\n", "operation", "cpu old", "cpu new", "new/old", "wall old", "wall new", "new/old", "MiB old", "MiB new"
  for (i = 1; i <= nops; i++) {
    o = ops[i]
    co = median(o SUBSEP "old" SUBSEP "cpu"); cn = median(o SUBSEP "new" SUBSEP "cpu")
    wo = median(o SUBSEP "old" SUBSEP "wall"); wn = median(o SUBSEP "new" SUBSEP "wall")
    mo = median(o SUBSEP "old" SUBSEP "rss"); mn = median(o SUBSEP "new" SUBSEP "rss")
    printf "%-16s %9.2f %9.2f %6s   %8.2f %8.2f %6s   %8.0f %8.0f\n", o, co, cn, ratio(co, cn), wo, wn, ratio(wo, wn), mo, mn
  }
}' "$TIMES"
[ "$KEEP" = 1 ] && echo "raw figures: $TIMES" >&2
exit $((FAILED * 2))

#!/bin/sh
# `coinhound watch --help` teaches rules that `coinhound watch check` takes,
# one of every kind but entity and category. The service files in contrib/
# are what systemd accepts: the watcher's unit
# passes `systemd-analyze verify` (its ExecStart pointed at this build's
# binary) and its offline security exposure stays at or below 2.0 ("OK":
# hardened); the example environment names what the unit reads. Skipped,
# saying so, where systemd-analyze is absent.
#
# Prints cmocka-style lines for tests/run.sh.
BUILD=${BUILD:-build}
pass=0
fail=0
ok() { echo "[       OK ] contrib: $1"; pass=$((pass + 1)); }
bad() {
  echo "[  ERROR   ] contrib: $1"
  [ -n "$2" ] && printf '%s\n' "$2" | head -20
  fail=$((fail + 1))
}
echo "[==========] contrib: the systemd unit of coinhound watch, and its --help"
unit=contrib/coinhound-watch@.service
# the rules --help teaches are a rules file the watcher takes, every kind in it
tmph=$(mktemp)
"$BUILD/coinhound" watch --help | sed -n '/^  rules:/,/^$/p' >"$tmph"
out=$("$BUILD/coinhound" watch check "$tmph" 2>&1)
kinds=$(printf '%s\n' "$out" | sed -n 's/.*kind \([a-z_]*\),.*/\1/p' | sort -u | tr '\n' ' ')
[ "$kinds" = "actor address deposit_exposure incident large_transfer poisoning " ] &&
  ok "the rules in 'watch --help' pass 'watch check' ($kinds)" ||
  bad "the rules in 'watch --help' are not a valid file of every kind: got '$kinds'" "$out"
rm -f "$tmph"
# under journald (JOURNAL_STREAM set, as systemd sets it for a unit whose
# stderr is the journal) each log line starts with its priority, <6> info,
# <4> warning, <3> error, so that journalctl -p warning filters by level;
# elsewhere no such prefix
tmpj=$(mktemp -d)
"$BUILD/coinhound-gen" --out "$tmpj/blocks" --txs 200 --txs-per-block 20 --maturity 10 >/dev/null 2>&1
# an EVM address in a Bitcoin rule: a warning at the start
printf 'rules:\n  - name: nobody\n    kind: address\n    addresses: [0x70997970c51812dc3a010c7d01b50e0d17dc79c8]\n' >"$tmpj/r.yaml"
for j in journal plain; do
  if [ $j = journal ]; then
    JOURNAL_STREAM=8:12345 timeout -s TERM 2 "$BUILD/coinhound" watch btc --blocks "$tmpj/blocks" \
      --db "$tmpj/db" --rules "$tmpj/r.yaml" --alerts /dev/null 2>"$tmpj/$j.log"
  else
    env -u JOURNAL_STREAM timeout -s TERM 2 "$BUILD/coinhound" watch btc --blocks "$tmpj/blocks" \
      --db "$tmpj/db" --rules "$tmpj/r.yaml" --alerts /dev/null 2>"$tmpj/$j.log"
  fi
done
if grep -q '^<4>coinhound watch: [0-9TZ:-]* warn: ' "$tmpj/journal.log" &&
  grep -q '^<6>coinhound watch: [0-9TZ:-]* info: watching ' "$tmpj/journal.log" &&
  ! grep -qv '^<[346]>coinhound watch: ' "$tmpj/journal.log" &&
  grep -q '^coinhound watch: [0-9TZ:-]* warn: ' "$tmpj/plain.log" &&
  ! grep -q '^<' "$tmpj/plain.log"; then
  ok "under journald each log line carries its priority (<6> info, <4> warn), elsewhere none"
else
  bad "log lines' priorities" "$(cat "$tmpj/journal.log" "$tmpj/plain.log")"
fi
rm -rf "$tmpj"
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "contrib: skipped: systemd-analyze is absent"
  echo "[  SKIPPED ] 1 test(s)."
  echo "[==========] contrib: $pass test(s) run."
  [ $pass -gt 0 ] && echo "[  PASSED  ] $pass test(s)."
  exit 0
fi
tmp=$(mktemp -d)
bin=$(cd "$(dirname "$BUILD/coinhound")" && pwd)/coinhound
sed "s|/usr/local/bin/coinhound|$bin|g" "$unit" >"$tmp/coinhound-watch@eth.service"
out=$(systemd-analyze verify "$tmp/coinhound-watch@eth.service" 2>&1)
[ $? -eq 0 ] && [ -z "$out" ] && ok "systemd-analyze verify accepts $unit" ||
  bad "systemd-analyze verify refuses $unit" "$out"
out=$(systemd-analyze security --offline=yes "$tmp/coinhound-watch@eth.service" 2>&1)
level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
if [ -n "$level" ] && awk "BEGIN{exit !($level <= 2.0)}"; then
  ok "the unit is hardened (exposure $level, at most 2.0)"
else
  bad "exposure level '$level' is above 2.0 or unreadable" "$(printf '%s\n' "$out" | grep '✗' | head)"
fi
missing=""
for v in CHAIN RPC RULES WATCH_ARGS; do
  grep -q "^$v=" contrib/coinhound-watch.env.example || missing="$missing $v"
  grep -q "\${$v}\|\$$v" "$unit" || missing="$missing (unit:$v)"
done
[ -z "$missing" ] && ok "the example environment sets what the unit reads" ||
  bad "not in contrib/coinhound-watch.env.example or the unit:$missing"
rm -rf "$tmp"
echo "[==========] contrib: $((pass + fail)) test(s) run."
[ $pass -gt 0 ] && echo "[  PASSED  ] $pass test(s)."
[ $fail -gt 0 ] && echo "[  FAILED  ] $fail test(s), listed above."
[ $fail -eq 0 ]

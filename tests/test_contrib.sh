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

#!/bin/sh
# make check-layers catches an include that crosses a layer the wrong way.
#
# Claims, each on a copy of the tree's src/, include/ and docs/layers.md (the
# real tree is never touched):
#   - the tree as it is passes (what `make check-layers` runs);
#   - a store file that includes an analysis's header (trace.h) is refused,
#     with the file and line named;
#   - a format parser that includes the store's private header is refused;
#   - ingest including the safeguard (the coupling the layers removed) is
#     refused;
#   - a folder the table does not place is refused (a new part must be placed
#     before it can be built on);
#   - an include downwards (an analysis including the store) passes.
# Prints cmocka-style lines for tests/run.sh.
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
pass=0
fail=0
ok() { echo "[       OK ] check_layers: $1"; pass=$((pass + 1)); }
bad() {
  echo "[  ERROR   ] check_layers: $1"
  [ -n "${2:-}" ] && printf '%s\n' "$2" | head -20
  fail=$((fail + 1))
}

# fresh: a copy of what the check reads
fresh() {
  rm -rf "$tmp/t" && mkdir -p "$tmp/t/docs" &&
    cp -r "$here/src" "$here/include" "$tmp/t/" && cp "$here/docs/layers.md" "$tmp/t/docs/"
}
check() { out=$(sh "$here/scripts/check_layers.sh" "$tmp/t" 2>&1); rc=$?; }

# expect_refused NAME FILE PATTERN: the check exits 1 and names FILE with PATTERN
expect_refused() {
  check
  if [ $rc -eq 1 ] && printf '%s\n' "$out" | grep -q "^$2:[0-9]*: includes $3"; then
    ok "$1"
  else
    bad "$1 (exit $rc)" "$out"
  fi
}

fresh
check
if [ $rc -eq 0 ]; then ok "the tree as it is passes"; else bad "the tree as it is passes (exit $rc)" "$out"; fi

fresh
printf '#include "coinhound/trace.h"\n' >> "$tmp/t/src/store/store.c"
expect_refused "the store including an analysis is refused" src/store/store.c coinhound/trace.h

fresh
printf '#include "store/store_internal.h"\n' >> "$tmp/t/src/chains/btc/block.c"
expect_refused "a format parser including the store is refused" src/chains/btc/block.c store/store_internal.h

fresh
printf '#include "coinhound/poison.h"\n' >> "$tmp/t/src/ingest/evm.c"
expect_refused "ingest including the safeguard is refused" src/ingest/evm.c coinhound/poison.h

fresh
printf '#include "coinhound/cluster.h"\n' >> "$tmp/t/include/coinhound/store.h"
expect_refused "a public header including a higher one is refused" include/coinhound/store.h coinhound/cluster.h

fresh
mkdir -p "$tmp/t/src/unplaced" && printf '#include "coinhound/error.h"\n' > "$tmp/t/src/unplaced/x.c"
check
if [ $rc -eq 1 ] && printf '%s\n' "$out" | grep -q "^src/unplaced/x.c: a folder on no line"; then
  ok "a folder on no line of the table is refused"
else
  bad "a folder on no line of the table is refused (exit $rc)" "$out"
fi

fresh
printf '#include "coinhound/store.h"\n#include "store/column.h"\n' >> "$tmp/t/src/risk/verdict.c"
check
if [ $rc -eq 0 ]; then ok "an analysis including the store passes"; else bad "an analysis including the store passes (exit $rc)" "$out"; fi

rm -rf "$tmp"
echo "[==========] check_layers: $((pass + fail)) test(s) run."
[ $pass -gt 0 ] && echo "[  PASSED  ] $pass test(s)."
[ $fail -gt 0 ] && echo "[  FAILED  ] $fail test(s), listed above."
[ $fail -eq 0 ]

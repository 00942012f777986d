#!/bin/sh
# Runs every test binary given on the command line, shows each one's cmocka
# output, and closes with one summary line: "N passed, N failed, N skipped".
pass=0; fail=0; skip=0; failed=""
for t in "$@"; do
  out=$("$t" 2>&1); rc=$?
  printf '%s\n' "$out"
  p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -1)
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0})); skip=$((skip + ${s:-0}))
  if [ $rc -ne 0 ] && [ -z "$f" ]; then fail=$((fail + 1)); fi
  [ $rc -ne 0 ] && failed="$failed $(basename "$t")"
done
[ -n "$failed" ] && echo "failing:$failed"
echo "$pass passed, $fail failed, $skip skipped"
[ -z "$failed" ]

#!/bin/sh
# The Python binding (python/): builds its cffi module against $BUILD's
# libcoinhound.so, then runs tests/python with pytest, whose oracle is the
# CLI and the generators' records. Prints cmocka-style lines for
# tests/run.sh. Skips, saying why, without python3's cffi and pytest
# (Debian: python3-cffi python3-pytest python3-dev; scripts/deps.sh installs
# them) and under the sanitizers (an ASan library cannot be loaded into an
# uninstrumented python3 without preloading the runtime).
BUILD=${BUILD:-build}
skip() {
  echo "[  SKIPPED ] python: $1"
  echo "[==========] python: 0 test(s) run."
  echo "[  SKIPPED ] 1 test(s)."
  exit 0
}
[ -n "${SAN_LDFLAGS:-}" ] && skip "not run under the sanitizers (the C tests cover the library there)"
PY=""
for p in ${PYTHON:-} python3 /usr/bin/python3; do
  command -v "$p" >/dev/null 2>&1 && "$p" -c 'import cffi, pytest' 2>/dev/null && { PY=$p; break; }
done
[ -n "$PY" ] || skip "no python3 with cffi and pytest (apt-get install python3-cffi python3-pytest python3-dev)"

out=$("$PY" python/build_native.py --include include --lib "$BUILD" --out "$BUILD/python" 2>&1) || {
  echo "[  ERROR   ] python: the cffi module does not build"
  printf '%s\n' "$out" | tail -20
  echo "[  FAILED  ] 1 test(s), listed above."
  exit 1
}
log=$(PYTHONPATH="python:$BUILD/python" COINHOUND_BUILD="$BUILD" PYTHONDONTWRITEBYTECODE=1 \
  "$PY" -m pytest -q -p no:cacheprovider tests/python 2>&1)
rc=$?
printf '%s\n' "$log"
# pytest's last line: "3 failed, 9 passed, 1 skipped in 2.1s"
count() { printf '%s\n' "$log" | tail -1 | grep -o "[0-9][0-9]* $1" | cut -d' ' -f1; }
passed=$(count passed)
failed=$(count failed)
skipped=$(count skipped)
echo "[==========] python: $((${passed:-0} + ${failed:-0} + ${skipped:-0})) test(s) run."
[ -n "$passed" ] && echo "[  PASSED  ] $passed test(s)."
[ -n "$skipped" ] && echo "[  SKIPPED ] $skipped test(s)."
[ -n "$failed" ] && echo "[  FAILED  ] $failed test(s), listed above."
[ $rc -eq 0 ] || [ -n "$failed" ] || echo "[  FAILED  ] pytest exited $rc"
exit $rc

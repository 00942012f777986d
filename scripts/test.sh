#!/bin/sh
# The whole test suite, from a fresh Debian 12 machine:
#   1. install what is missing, 2. build with -Werror,
#   3. unit and integration tests, 4. the same under ASan + UBSan,
#   5. each libFuzzer harness for a short run (FUZZ_SECONDS, default 10),
#   6. clang-format kept (make format-check), 7. the layer order (make check-layers),
#   8. every static function of 30 lines or more says why (make check-comments).
# Fixtures come from $COINHOUND_FIXTURES (default ../shared/fixtures); tests
# that need them skip with a message when they are absent. The last line is
# the plain test run's "N passed, N failed, N skipped".
set -e
cd "$(dirname "$0")/.."
sh scripts/deps.sh
JOBS=$(nproc 2>/dev/null || echo 2)
mkdir -p build

# run NAME CMD...: show the output as it comes, keep it in build/NAME.log,
# and fail with the command's own exit code. sh has no pipefail, so the
# command's status goes through a file; "|| rc=$?" keeps set -e from ending
# the subshell before it is written, and the file is removed first so a
# previous run's status can never be read as this one's.
run() {
  name=$1; shift
  rm -f "build/$name.rc"
  { rc=0; "$@" 2>&1 || rc=$?; echo "$rc" > "build/$name.rc"; } | tee "build/$name.log"
  rc=$(cat "build/$name.rc" 2>/dev/null || echo 127)
  [ "$rc" -eq 0 ] || { echo "$name: failed (exit $rc)"; exit "$rc"; }
}

run build make -j"$JOBS" all
run test make -j"$JOBS" test
run sanitize make -j"$JOBS" sanitize
run fuzz make fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-10}"
run format make format-check
run layers make check-layers
run comments make check-comments
echo "== summary"
echo "sanitize: $(grep -E "^[0-9]+ passed, " build/sanitize.log | tail -1)"
tail -1 build/fuzz.log
tail -1 build/test.log

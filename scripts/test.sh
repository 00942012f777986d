#!/bin/sh
# The whole test suite, from a fresh Debian 12 machine:
#   1. install what is missing, 2. build with -Werror,
#   3. unit and integration tests, 4. the same under ASan + UBSan,
#   5. each libFuzzer harness for a short run.
# Fixtures come from $COINHOUND_FIXTURES (default ../shared/fixtures); tests
# that need them skip with a message when they are absent.
set -e
cd "$(dirname "$0")/.."
sh scripts/deps.sh
JOBS=$(nproc 2>/dev/null || echo 2)
make -j"$JOBS" all
make -j"$JOBS" test
make -j"$JOBS" sanitize
make fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-10}"

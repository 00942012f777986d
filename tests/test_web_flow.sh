#!/bin/sh
# The web UI's flow-graph model, amounts and case exports under node, on a
# trace worked out by hand (web/test/flow.test.mjs says what it claims).
# Needs only node (no browser, no node_modules); skips without it.
# Prints cmocka-style lines for tests/run.sh.
if ! command -v node >/dev/null 2>&1; then
  echo "[  SKIPPED ] web flow: node is absent (scripts/deps.sh installs it)"
  echo "[  SKIPPED ] 1 test(s)."
  exit 0
fi
exec node web/test/flow.test.mjs

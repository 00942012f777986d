#!/bin/sh
# Functions longer than MAX_LINES (default 100) lines: one line per
# offender, "FILE:LINE: NAME (N lines)", longest first, and a count on
# stderr. Exit 0 when there are none, 1 otherwise.
#
#   sh scripts/long_functions.sh [DIR...]   (default: src)
#   MAX_LINES=60 sh scripts/long_functions.sh src/cli   (the house's "about 60")
#
# A function is a definition that starts at column 0 with its return type
# and name (static or not) and ends at the first "}" at column 0 after it,
# as scripts/uncommented_statics.sh reads them (clang-format's layout); its
# length counts the signature too. A function that long is usually several
# ideas: split it into named steps, each with its comment.
set -eu
MAX=${MAX_LINES:-100}
dirs=${*:-src}
st=0
# shellcheck disable=SC2086,SC2016 # DIRs split on purpose; awk's $ are awk's
out=$(find $dirs -name '*.c' | sort | xargs awk -v max="$MAX" '
FNR == 1 { in_fn = 0 }
{
  if (!in_fn && $0 ~ /^[A-Za-z_][A-Za-z0-9_ *]*[ *]\**[A-Za-z_][A-Za-z0-9_]*\(/ &&
      $0 !~ /^(typedef|return|else|if|for|while|switch|do)[ (]/ && $0 !~ /;[[:space:]]*$/) {
    in_fn = 1; start = FNR; file = FILENAME
    name = $0; sub(/\(.*/, "", name); n = split(name, w, /[ *]+/); name = w[n]
  }
  if (in_fn && $0 ~ /^}/) {
    in_fn = 0
    len = FNR - start + 1
    if (len > max) { printf "%d\t%s:%d: %s (%d lines)\n", len, file, start, name, len; bad++ }
  }
}
END {
  printf "%d function(s) of more than %d lines\n", bad, max > "/dev/stderr"
  exit bad > 0
}') || st=1
[ -z "$out" ] || printf '%s\n' "$out" | sort -rn | cut -f2-
exit "$st"

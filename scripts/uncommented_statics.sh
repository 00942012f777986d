#!/bin/sh
# Static functions of 30 lines or more with no comment saying why they
# exist: one line per offender, "FILE:LINE: NAME (N lines)", and a count on
# stderr. Exit 0 when there are none, 1 otherwise.
#
#   sh scripts/uncommented_statics.sh [DIR...]   (default: src)
#
# A function is a definition that starts at column 0 with "static" and ends
# at the first "}" at column 0 after it (clang-format's layout, which
# `make format-check` keeps); its length counts the signature too. Its comment
# is a block comment ending on the line just above the signature (or above
# an attribute line), as the house style writes them.
set -eu
MIN=${MIN_LINES:-30}
dirs=${*:-src}
find $dirs -name '*.c' | sort | xargs awk -v min="$MIN" '
FNR == 1 { in_fn = 0; prev = ""; prev2 = "" }
{
  if (!in_fn && $0 ~ /^static [^=;]*\(/ && $0 !~ /;[[:space:]]*$/) {
    in_fn = 1; start = FNR; file = FILENAME
    name = $0; sub(/\(.*/, "", name); n = split(name, w, /[ *]+/); name = w[n]
    commented = (prev ~ /\*\/[[:space:]]*$/ || prev ~ /^[[:space:]]*\/\//)
    if (!commented && prev ~ /^__attribute__/ && prev2 ~ /\*\/[[:space:]]*$/) commented = 1
  }
  if (in_fn && $0 ~ /^}/) {
    in_fn = 0
    len = FNR - start + 1
    if (len >= min && !commented) { printf "%s:%d: %s (%d lines)\n", file, start, name, len; bad++ }
  }
  prev2 = prev; prev = $0
}
END {
  printf "%d static function(s) of %d lines or more without a comment\n", bad, min > "/dev/stderr"
  exit bad > 0
}'

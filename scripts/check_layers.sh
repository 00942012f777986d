#!/bin/sh
# make check-layers: every #include "..." in src/ and include/coinhound/ stays
# within the layer order written in docs/layers.md (the ```layers block).
#
#   sh scripts/check_layers.sh [ROOT]
#
# ROOT (default: the repository this script is in) holds docs/layers.md,
# src/ and include/coinhound/; tests/test_check_layers.sh runs it on a copy
# with a wrong include planted. Exit 0 when every include is allowed; 1 with
# one line per offence ("FILE:LINE: includes X (rank ...) from rank ...");
# 2 when the table cannot be read. System includes (<...>) are not checked.
set -eu
ROOT=${1:-$(dirname "$0")/..}
TABLE="$ROOT/docs/layers.md"
[ -r "$TABLE" ] || { echo "check-layers: cannot read $TABLE" >&2; exit 2; }

cd "$ROOT"
files=$(find src include/coinhound -name '*.[ch]' | sort)
[ -n "$files" ] || { echo "check-layers: no sources under $ROOT" >&2; exit 2; }

# The table first (its lines prefixed T), then every quoted include of every
# file as "I FILE LINE TARGET".
{
  sed -n '/^```layers$/,/^```$/p' "$TABLE" | sed -e '1d' -e '$d' -e 's/^/T /'
  for f in $files; do echo "F $f"; done
  # FILE:LINE:TEXT for every quoted include -> "I FILE LINE TARGET"
  grep -Hn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' $files |
    sed 's/^\([^:]*\):\([0-9]*\):[^"]*"\([^"]*\)".*/I \1 \2 \3/' || true
} | awk '
function folder_of(path,   n, p, i, d) {
  # the longest table folder that is a prefix of path ("src/chains/eth/x.c"
  # belongs to src/chains)
  d = ""
  for (i in rank) if (index(path, i "/") == 1 && length(i) > length(d)) d = i
  return d
}
$1 == "T" && $2 == "peers" { for (i = 3; i <= NF; i++) peer[$i] = 1; next }
$1 == "T" && $2 ~ /^#/ { next }
$1 == "T" && NF >= 3 {
  rank[$3] = $2
  for (i = 4; i <= NF; i++) { hrank["include/coinhound/" $i] = $2; hdir["include/coinhound/" $i] = $3 }
  ntab++
  next
}
$1 == "F" {
  f = $2
  if (f ~ /^include\/coinhound\//) {
    if (!(f in hrank)) { print f ": a public header on no line of docs/layers.md"; bad++ }
  } else if (folder_of(f) == "") { print f ": a folder on no line of docs/layers.md"; bad++ }
  next
}
$1 == "I" {
  f = $2; line = $3; t = $4
  if (f ~ /^include\/coinhound\//) { fr = hrank[f]; fd = hdir[f] } else { fd = folder_of(f); fr = rank[fd] }
  if (fd == "") next
  if (t ~ /^coinhound\//) {
    tp = "include/" t
    if (!(tp in hrank)) { print f ":" line ": includes " t ", a public header on no line of docs/layers.md"; bad++; next }
    tr = hrank[tp]; td = hdir[tp]
  } else if (t !~ /\//) {
    next # a header beside the file: its own folder
  } else {
    td = folder_of("src/" t)
    if (td == "") { print f ":" line ": includes " t ", in a folder on no line of docs/layers.md"; bad++; next }
    tr = rank[td]
  }
  if (td == fd || tr + 0 < fr + 0) next
  if (tr + 0 == fr + 0 && (fr in peer)) next
  printf "%s:%s: includes %s (%s, rank %s) from %s (rank %s): data flows one way (docs/layers.md)\n", f, line, t, td, tr, fd, fr
  bad++
}
END {
  if (ntab == 0) { print "check-layers: no ```layers table in docs/layers.md"; exit 2 }
  if (bad) { printf "check-layers: %d include(s) cross a layer the wrong way\n", bad; exit 1 }
}'

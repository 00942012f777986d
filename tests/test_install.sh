#!/bin/sh
# The installed library is usable as an embedder would use it.
#
# `make install PREFIX=<tmp>` from the current build ($BUILD), then, using only
# the installed tree and pkg-config: the screen.h example (docs/examples) is
# built as C and as C++, linked with libcoinhound.so and with libcoinhound.a,
# and run against a set the installed CLI wrote; every installed header
# compiles alone as C11 and C++11; the libraries export ch_* symbols only, so
# a program with its own csv_init/csv_free (libcsv's names) links and runs
# either way. Internal headers are not installed.
#
# Prints cmocka-style lines for tests/run.sh. Under sanitizers (SAN_LDFLAGS,
# passed by `make sanitize`) the programs are linked with them too.
BUILD=${BUILD:-build}
CC=${CC:-cc}
CXX=${CXX:-g++}
SAN=${SAN_LDFLAGS:-}
pass=0
fail=0
ok() { echo "[       OK ] install: $1"; pass=$((pass + 1)); }
bad() {
  echo "[  ERROR   ] install: $1"
  [ -n "$2" ] && printf '%s\n' "$2" | head -20
  fail=$((fail + 1))
}
finish() {
  rm -rf "$tmp"
  echo "[==========] install: $((pass + fail)) test(s) run."
  [ $pass -gt 0 ] && echo "[  PASSED  ] $pass test(s)."
  [ $fail -gt 0 ] && echo "[  FAILED  ] $fail test(s), listed above."
  [ $fail -eq 0 ]
  exit $?
}

tmp=$(mktemp -d)
P=$tmp/prefix
echo "[==========] install: make install PREFIX=$P (BUILD=$BUILD)"
# Not a recursive make of ours: drop the caller's jobserver settings.
unset MAKEFLAGS MAKELEVEL MFLAGS
out=$(make --no-print-directory BUILD="$BUILD" ${OPT:+OPT="$OPT"} EXTRA_LDFLAGS="$SAN" \
  PREFIX="$P" install 2>&1) || { bad "make install fails" "$out"; finish; }
ok "make install PREFIX=... succeeds"

VERSION=$(sed -n 's/^#define COINHOUND_VERSION "\(.*\)"/\1/p' include/coinhound/version.h)
MAJOR=${VERSION%%.*}
missing=""
for f in bin/coinhound bin/coinhound-gen include/coinhound/screen.h include/coinhound/error.h \
  include/coinhound/coinhound.h lib/libcoinhound.a "lib/libcoinhound.so.$VERSION" \
  "lib/libcoinhound.so.$MAJOR" lib/libcoinhound.so lib/pkgconfig/coinhound.pc; do
  [ -e "$P/$f" ] || missing="$missing $f"
done
[ -z "$missing" ] && ok "CLI, headers, libcoinhound.a, .so.$VERSION and coinhound.pc are installed" ||
  bad "not installed:$missing"

leaked=""
for h in jsonw.h progress.h encode.h gen.h evmgen.h; do
  [ -e "$P/include/coinhound/$h" ] && leaked="$leaked $h"
done
[ -z "$leaked" ] && ok "internal and tool headers are not installed" ||
  bad "internal headers installed:$leaked"

soname=$(readelf -d "$P/lib/libcoinhound.so.$VERSION" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = "libcoinhound.so.$MAJOR" ] && ok "libcoinhound.so has soname $soname" ||
  bad "soname is '$soname', not libcoinhound.so.$MAJOR"

# Exports: defined global symbols of each library, ch_* only, and many of them.
syms_a=$(nm -g --defined-only "$P/lib/libcoinhound.a" | awk 'NF == 3 { print $3 }' | sort -u)
syms_so=$(nm -D --defined-only "$P/lib/libcoinhound.so" | awk 'NF == 3 { print $3 }' | sort -u)
for which in a so; do
  eval "syms=\$syms_$which"
  n=$(printf '%s\n' "$syms" | grep -c '^ch_')
  other=$(printf '%s\n' "$syms" | grep -v '^ch_' | grep -v '^$' | head -10 | tr '\n' ' ')
  if [ -z "$other" ] && [ "$n" -gt 100 ] && printf '%s\n' "$syms" | grep -qx ch_screen_lookup; then
    ok "libcoinhound.$which exports $n symbols, all ch_*"
  else
    bad "libcoinhound.$which exports non-ch_ symbols: $other ($n ch_ ones)"
  fi
done

export PKG_CONFIG_PATH="$P/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
cflags=$(pkg-config --cflags coinhound) || { bad "pkg-config knows no coinhound"; finish; }
libs=$(pkg-config --libs coinhound)
# Static: libcoinhound.a, then the libraries it requires (as the system has
# them, shared) and its Libs.private. pkg-config --static would also ask for
# the static closure of libcurl's own dependencies, which Debian's -dev
# packages do not all ship.
privlibs=$(sed -n 's/^Libs.private: *//p' "$P/lib/pkgconfig/coinhound.pc")
slibs="$P/lib/libcoinhound.a $(pkg-config --libs $(pkg-config --print-requires-private coinhound)) $privlibs"
case "$(pkg-config --print-requires-private coinhound | tr '\n' ' ')" in
  *lmdb*libcrypto*jansson*libxml-2.0*yaml-0.1*libcurl*libmicrohttpd*yajl*) ok "coinhound.pc requires its libraries privately" ;;
  *) bad "coinhound.pc Requires.private: $(pkg-config --print-requires-private coinhound | tr '\n' ' ')" ;;
esac

# Every installed header alone, as C11 and as C++11 (extern "C", no C-only syntax).
hdr_bad=""
for h in "$P"/include/coinhound/*.h; do
  n=$(basename "$h")
  printf '#include "coinhound/%s"\nint ch_test_unit;\n' "$n" > "$tmp/h.c"
  $CC -std=c11 -Wall -Wextra -Werror -pedantic $cflags -fsyntax-only "$tmp/h.c" 2>"$tmp/err" || hdr_bad="$hdr_bad $n(C)"
  $CXX -x c++ -std=c++11 -Wall -Wextra -Werror $cflags -fsyntax-only "$tmp/h.c" 2>>"$tmp/err" || hdr_bad="$hdr_bad $n(C++)"
done
[ -z "$hdr_bad" ] && ok "every installed header compiles alone as C11 and C++11" ||
  bad "headers that do not compile:$hdr_bad" "$(cat "$tmp/err")"

# A set to screen against, written by the installed CLI.
"$P/bin/coinhound" intel import tests/data/intel/list.csv --db "$tmp/db" >"$tmp/imp" 2>&1
"$P/bin/coinhound" intel export-set --out "$tmp/t.chset" --db "$tmp/db" >>"$tmp/imp" 2>&1 ||
  { bad "the installed CLI cannot write a set" "$(cat "$tmp/imp")"; finish; }
LISTED=0x098B716B8Aaf21512996dC57EB0615e2383E2f96
CLEAN=1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu

# run_example NAME: the example's three answers (listed 1, clean 0, invalid 2).
run_example() {
  exe=$tmp/$1
  out=$(LD_LIBRARY_PATH="$P/lib" "$exe" "$tmp/t.chset" $LISTED 2>&1); st=$?
  [ $st -eq 1 ] && printf '%s' "$out" | grep -q "HIDDEN COBRA" || { echo "listed: exit $st: $out"; return 1; }
  out=$(LD_LIBRARY_PATH="$P/lib" "$exe" "$tmp/t.chset" $CLEAN 2>&1); st=$?
  [ $st -eq 0 ] && printf '%s' "$out" | grep -q "not listed" || { echo "clean: exit $st: $out"; return 1; }
  out=$(LD_LIBRARY_PATH="$P/lib" "$exe" "$tmp/t.chset" 0x098B716B8Aaf21512996dC57EB0615e2383E2f9 2>&1); st=$?
  [ $st -eq 2 ] && printf '%s' "$out" | grep -q "invalid" || { echo "invalid: exit $st: $out"; return 1; }
}

# is_static EXE: linked without libcoinhound.so.
uses_so() { readelf -d "$1" | grep -q "libcoinhound.so.$MAJOR"; }

EX=docs/examples/screen_example.c
for lang in C C++; do
  if [ $lang = C ]; then comp="$CC -std=c11 -x c"; else comp="$CXX -std=c++11 -x c++"; fi
  for link in shared static; do
    name=ex_$(echo $lang | tr -d +)_${link}_$(printf %s $lang | wc -c)
    if [ $link = shared ]; then l=$libs; else l=$slibs; fi
    out=$($comp -Wall -Wextra -Werror $cflags $EX -x none $SAN $l -o "$tmp/$name" 2>&1) ||
      { bad "the example does not build as $lang ($link)" "$out"; continue; }
    if [ $link = shared ] && ! uses_so "$tmp/$name"; then bad "$lang $link: not linked with the .so"; continue; fi
    if [ $link = static ] && uses_so "$tmp/$name"; then bad "$lang $link: linked with the .so"; continue; fi
    out=$(run_example "$name") && ok "the screen.h example built as $lang against the installed $link library answers listed, clean and invalid" ||
      bad "the example built as $lang ($link) answers wrong" "$out"
  done
done

# libcsv's names in the embedder's own program: no clash with the library.
cat > "$tmp/csvclash.c" <<'EOF'
#include <stdio.h>
#include <string.h>

#include "coinhound/intel.h"

/* The embedder's own functions, named as libcsv's and as the library's
 * internal CSV reader and importer. */
int csv_init(void *p, unsigned char options);
int csv_init(void *p, unsigned char options) { (void)p; return options == 7 ? 42 : -1; }
void csv_free(void *p);
void csv_free(void *p) { (void)p; }
int import_csv(void);
int import_csv(void) { return 3; }

/* Imports a CSV list through the library (its own CSV reader) into DBDIR,
 * then counts the attributions of one address. */
int main(int argc, char **argv) {
    ch_intel *db;
    ch_error err;
    ch_import_opts o;
    ch_import_stats st;
    memset(&o, 0, sizeof o);
    if (argc < 4 || ch_intel_open(argv[1], true, &db, &err) != 0) return 2;
    if (ch_intel_import(db, argv[2], &o, &st, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    int n = ch_intel_lookup(db, argv[3], NULL, NULL, &err);
    ch_intel_close(db);
    csv_free(NULL);
    printf("%d %d %d %llu\n", csv_init(NULL, 7), import_csv(), n, (unsigned long long)st.addresses);
    return 0;
}
EOF
for link in shared static; do
  if [ $link = shared ]; then l=$libs; else l=$slibs; fi
  out=$($CC -std=c11 -Wall -Wextra -Werror $cflags "$tmp/csvclash.c" $SAN $l -o "$tmp/clash_$link" 2>&1) ||
    { bad "a program defining csv_init/csv_free/import_csv does not link ($link)" "$out"; continue; }
  out=$(LD_LIBRARY_PATH="$P/lib" "$tmp/clash_$link" "$tmp/clash_$link.db" tests/data/intel/list.csv \
    $(echo $LISTED | tr 'A-F' 'a-f') 2>&1)
  case "$out" in "42 3 "[1-9]*" 2") true ;; *) false ;; esac && ok "a program defining csv_init, csv_free and import_csv links ($link), keeps its own and imports CSV with the library's" ||
    bad "csv_init clash ($link): got '$out', wanted '42 3 <attributions found> 2'"
done
finish

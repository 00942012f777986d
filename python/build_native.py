"""Builds coinhound's Python binding: a cffi extension module over libcoinhound.so.

cffi's API mode (not its ABI mode) is used on purpose: the module is compiled
against coinhound's own headers, so every struct layout, enum value and
signature declared below is checked by the C compiler, and a header change
that would make Python read the wrong bytes fails the build instead.

    python3 python/build_native.py --include DIR --lib DIR --out DIR

DIR of --include holds coinhound/*.h (the source tree's include/), --lib the
built libcoinhound.so; the module (_coinhound_native*.so) goes to --out, with
an rpath to --lib so no LD_LIBRARY_PATH is needed.
"""

import argparse
import os
import sys

from cffi import FFI

# What Python calls, as the headers declare it. "...;" leaves a struct's other
# fields to the compiler: Python never allocates by guesswork.
CDEF = r"""
typedef struct { char msg[512]; } ch_error;
typedef ... FILE;
FILE *open_memstream(char **ptr, size_t *sizeloc);
int fclose(FILE *f);
void free(void *p);

/* store.h */
typedef struct ch_store ch_store;
enum { CH_STORE_READ = 0 };
int ch_store_open(const char *dir, const char *chain, int mode, ch_store **out, ch_error *err);
void ch_store_close(ch_store *s);
int ch_store_refresh(ch_store *s, ch_error *err);
bool ch_store_is_account(const ch_store *s);
int ch_store_damage(const ch_store *s, ch_error *err);
typedef struct {
    uint64_t blocks, txs, inputs, outputs, addresses;
    uint64_t transfers;
    ...;
} ch_store_counts;
void ch_store_get_counts(const ch_store *s, ch_store_counts *c);
uint64_t ch_store_disk_bytes(const ch_store *s);

/* query.h */
typedef struct ch_toktab ch_toktab;
int ch_query_find_tx(ch_store *s, const char *text, uint64_t *tx, size_t *n_candidates,
                     ch_error *err);
void ch_q_tx_json(FILE *f, const ch_store *s, uint64_t tx, const ch_toktab *tokens);
typedef struct { ...; } ch_q_address;
int ch_query_address(ch_store *s, const char *text, ch_q_address *out, ch_error *err);
void ch_q_address_free(ch_q_address *a);
typedef struct { size_t n; char next[...]; ...; } ch_q_page;
int ch_query_history(ch_store *s, const ch_q_address *a, const char *cursor, uint64_t limit,
                     ch_q_page *out, ch_error *err);
void ch_q_page_free(ch_q_page *p);
void ch_q_address_json(FILE *f, const ch_store *s, const ch_q_address *a, const ch_q_page *page,
                       size_t max_peers, const ch_toktab *tokens);
void ch_q_page_json(FILE *f, const ch_store *s, const ch_q_address *a, const ch_q_page *page,
                    const ch_toktab *tokens);
typedef struct { ...; } ch_q_block;
int ch_query_block(const ch_store *s, const char *text, ch_q_block *out, ch_error *err);
void ch_q_block_json(FILE *f, const ch_store *s, const ch_q_block *b, bool txs,
                     const ch_toktab *tokens);

/* trace.h */
typedef enum { CH_POLICY_POISON, CH_POLICY_HAIRCUT, CH_POLICY_FIFO, ... } ch_trace_policy;
typedef enum { CH_TRACE_FORWARD, CH_TRACE_BACKWARD } ch_trace_direction;
int ch_trace_policy_parse(const char *s, ch_trace_policy *out);
int ch_trace_direction_parse(const char *s, ch_trace_direction *out);
typedef struct ch_labels ch_labels;
void ch_labels_free(ch_labels *l);
int ch_labels_open(ch_store *s, const char *db, const char *stop_at, const char *const *csv,
                   size_t n_csv, ch_labels **out, ch_error *warn, ch_error *err);
typedef struct {
    const char *source;
    ch_trace_policy policy;
    ch_trace_direction direction;
    uint32_t max_hops;
    uint64_t first_block;
    uint64_t last_block;
    uint32_t since, until;
    const char *stop_at;
    ch_labels *labels;
    const char *chain;
    ...;
} ch_trace_spec;
void ch_trace_spec_init(ch_trace_spec *o);
int ch_trace_spec_set_min_amount(ch_trace_spec *o, const char *base_units, ch_error *err);
typedef struct ch_trace_result ch_trace_result;
int ch_trace_exec(ch_store *s, const ch_trace_spec *spec, ch_trace_result **out, ch_error *err);
void ch_trace_result_free(ch_trace_result *r);
typedef enum { CH_TRACE_TEXT, CH_TRACE_JSON, CH_TRACE_CSV, CH_TRACE_EDGES, CH_TRACE_DOT } ch_trace_format;
int ch_trace_write(ch_trace_result *r, ch_trace_format f, FILE *out);

/* screener.h */
typedef struct ch_screener ch_screener;
typedef struct {
    const char *set_path;
    const char *db;
    const char *chain;
    uint32_t max_hops;
    ...;
} ch_screener_opts;
void ch_screener_opts_init(ch_screener_opts *o);
int ch_screener_open(const ch_screener_opts *o, ch_screener **out, ch_error *warn, ch_error *err);
int ch_screener_close(ch_screener *s, ch_error *err);
int ch_screener_refresh(ch_screener *s, ch_error *err);
typedef enum { CH_VERDICT_OK, CH_VERDICT_INVALID, CH_VERDICT_UNSUPPORTED, CH_VERDICT_ERROR } ch_verdict_kind;
typedef struct { ...; } ch_verdict;
ch_verdict *ch_verdict_new(void);
void ch_verdict_free(ch_verdict *v);
ch_verdict_kind ch_screener_screen(ch_screener *s, const char *address, ch_verdict *v);
typedef struct { ...; } ch_jw;
void ch_jw_init(ch_jw *w, FILE *f);
void ch_verdict_write_json(const ch_verdict *v, ch_jw *w, const char *external_id);

/* intel.h */
typedef struct {
    char address[128];
    char asset[16];
    char entity[128];
    char actor[64];
    char actor_country[8];
    char category[32];
    char source_name[64];
    char source_url[256];
    char source_date[16];
    uint8_t confidence;
    char first_listed[16];
    char last_listed[16];
    bool delisted;
    char delisted_date[16];
    char note[256];
    char source_id[32];
    bool case_folded;
    bool address_checked;
} ch_attribution;
typedef struct ch_intel ch_intel;
int ch_intel_open(const char *dbdir, bool writable, ch_intel **out, ch_error *err);
void ch_intel_close(ch_intel *db);
typedef int (*ch_attribution_fn)(const ch_attribution *a, void *ctx);
int ch_intel_lookup(ch_intel *db, const char *canonical, ch_attribution_fn fn, void *ctx,
                    ch_error *err);
int ch_intel_canonical(const char *address, const char *asset, char out[128], ch_error *err);
typedef struct {
    char name[64];
    char country[8];
    char attack_id[16];
    char source[64];
    char description[512];
} ch_actor;
int ch_intel_actor_resolve(ch_intel *db, const char *name, ch_actor *out, ch_error *err);
int ch_intel_actors_foreach(ch_intel *db, int (*fn)(const ch_actor *a, void *ctx), void *ctx,
                            ch_error *err);
typedef struct {
    uint64_t attributions, addresses, delisted, actors, aliases, techniques;
} ch_intel_counts;
int ch_intel_counts_get(ch_intel *db, ch_intel_counts *out, ch_error *err);

extern "Python" int _py_attribution(const ch_attribution *a, void *ctx);
extern "Python" int _py_actor(const ch_actor *a, void *ctx);
"""

SOURCE = r"""
#include <stdio.h>
#include <stdlib.h>
#include "coinhound/intel.h"
#include "coinhound/query.h"
#include "coinhound/screener.h"
#include "coinhound/store.h"
#include "coinhound/trace.h"
"""


def builder(include, lib):
    ffi = FFI()
    ffi.cdef(CDEF)
    ffi.set_source(
        "_coinhound_native",
        SOURCE,
        include_dirs=[include],
        library_dirs=[lib],
        runtime_library_dirs=[lib],
        libraries=["coinhound"],
        extra_compile_args=["-std=gnu11"],
    )
    return ffi


def main(argv):
    ap = argparse.ArgumentParser(description="build coinhound's Python binding")
    ap.add_argument("--include", required=True, help="folder holding coinhound/*.h")
    ap.add_argument("--lib", required=True, help="folder holding libcoinhound.so")
    ap.add_argument("--out", required=True, help="where the module is written")
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    ffi = builder(os.path.abspath(a.include), os.path.abspath(a.lib))
    path = ffi.compile(tmpdir=a.out, verbose=False)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

/* Internals of the attribution store shared by store.c, actors.c and the
 * importers. Not installed; include/coinhound/intel.h is the public API. */
#ifndef COINHOUND_INTEL_INTERNAL_H
#define COINHOUND_INTEL_INTERNAL_H

#include <lmdb.h>
#include <stdbool.h>
#include <stdio.h>

#include "coinhound/intel.h"

struct ch_intel {
    MDB_env *env;
    bool writable;
    MDB_dbi attr;  /* address NUL id8 -> attribution record (see store.c) */
    MDB_dbi actor; /* canonical name -> actor record */
    MDB_dbi alias; /* normalised alias -> rank, actor, alias as written */
    MDB_dbi tech;  /* actor NUL technique id -> technique name */
    MDB_dbi meta;  /* "list:<source>|<asset>" -> latest list date, "seed" -> version */
};

/* ---- store.c ---- */
int intel_lmdb_err(ch_error *err, const char *what, int rc);
/* Attribution record <-> struct (address is not in the record: it is the key). */
size_t intel_attr_encode(const ch_attribution *a, uint8_t *buf, size_t cap);
int intel_attr_decode(const void *data, size_t len, ch_attribution *a);
/* Key: canonical address, NUL, 8-byte id of (asset, source, entity). */
size_t intel_attr_key(const ch_attribution *a, uint8_t *key, size_t cap);
int intel_meta_get(ch_intel *db, MDB_txn *txn, const char *key, char *val, size_t cap);
int intel_meta_put(ch_intel *db, MDB_txn *txn, const char *key, const char *val, ch_error *err);
/* Today's date (UTC) as YYYY-MM-DD. */
void intel_today(char out[16]);
/* Copy with truncation, always NUL-terminated. */
void intel_copy(char *dst, size_t cap, const char *src);
/* Append src (after sep when dst is not empty), truncating. */
void intel_append(char *dst, size_t cap, const char *sep, const char *src);

/* ---- actors.c ---- */
enum { ALIAS_RANK_OTHER = 0, ALIAS_RANK_MISP = 1, ALIAS_RANK_ATTACK = 2, ALIAS_RANK_BUILTIN = 3 };
/* Lowercase letters and digits only: "HIDDEN COBRA" -> "hiddencobra". */
void intel_alias_norm(const char *s, char *out, size_t cap);
/* Install the built-in DPRK family (idempotent). */
int intel_actors_seed(ch_intel *db, MDB_txn *txn, ch_error *err);
int intel_actor_put(ch_intel *db, MDB_txn *txn, const ch_actor *a, ch_error *err);
int intel_actor_get(ch_intel *db, MDB_txn *txn, const char *name, ch_actor *out);
/* Record alias -> actor unless a higher-ranked source maps it elsewhere.
 * Returns 1 written, 0 kept the existing mapping, -1 error. */
int intel_alias_put(ch_intel *db, MDB_txn *txn, const char *alias, const char *actor, int rank,
                    ch_error *err);
int intel_technique_put(ch_intel *db, MDB_txn *txn, const char *actor, const char *tid,
                        const char *name, ch_error *err);
/* Resolve inside a transaction: 1 found (out filled), 0 not. */
int intel_actor_resolve_txn(ch_intel *db, MDB_txn *txn, const char *text, ch_actor *out);
/* The whole string only (for entity names, where a part of a name such as
 * "Tornado.Cash: Router" must not match an alias by accident). */
int intel_actor_resolve_exact(ch_intel *db, MDB_txn *txn, const char *text, ch_actor *out);

/* ---- seed.c ---- */
int intel_seed_facts(ch_intel *db, MDB_txn *txn, ch_error *err);

/* ---- import.c: the context every importer writes through ---- */
#define IMP_MAX_SCOPES 64
typedef struct imp_scope {
    char source[64];
    char asset[16]; /* "" = the whole source */
    char date[16];
} imp_scope;

struct ch_import {
    ch_intel *db;
    MDB_txn *txn;
    ch_import_opts opts;
    char as_of[16];
    bool failed;
    imp_scope scopes[IMP_MAX_SCOPES];
    int nscopes;
    ch_import_stats *st; /* the counts of the file being read */
    const char *file;    /* its name, for messages */
};
typedef struct ch_import ch_imp;

/* How an importer vouches for its addresses. */
typedef enum imp_trust {
    IMP_VALIDATE = 0, /* reject an address that fails validation */
    IMP_AS_LISTED,    /* official list: keep what it lists verbatim, with a note */
} imp_trust;

/* Add or refresh one attribution. `a` carries everything but address,
 * actor and actor_country; actor_hint (may be NULL) is tried before the
 * entity to resolve the actor. `where` locates the row for messages
 * ("line 12"). Returns 0 (also when the row was rejected), -1 on error. */
int imp_add(ch_imp *im, const char *raw_address, ch_attribution *a, const char *actor_hint,
            imp_trust trust, const char *where, ch_error *err);
/* Declare that this import is a complete list of `source` (for one asset,
 * or all when asset is "") as of `date`: what it no longer lists is delisted
 * when the transaction commits. */
int imp_snapshot(ch_imp *im, const char *source, const char *asset, const char *date,
                 ch_error *err);
void imp_warn(ch_imp *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Normalise a date: "MM/DD/YYYY", "YYYY-MM-DD...", "YYYY-MM-DDTHH..." ->
 * "YYYY-MM-DD". Returns 0 or -1 (out = ""). */
int imp_date(const char *s, char out[16]);

/* ---- importers: each reads one file from `f` named `name` ---- */
int import_ofac_xml(ch_imp *im, FILE *f, const char *name, ch_error *err);
int import_ofac_advanced(ch_imp *im, FILE *f, const char *name, ch_error *err);
int import_ofac_csv(ch_imp *im, FILE *f, const char *name, ch_error *err);
int import_ofac_list(ch_imp *im, FILE *f, const char *name, ch_error *err);
int import_csv(ch_imp *im, FILE *f, const char *name, ch_error *err);
int import_tagpack(ch_imp *im, FILE *f, const char *name, ch_error *err);
int import_stix(ch_imp *im, FILE *f, const char *name, ch_error *err);
int import_misp(ch_imp *im, FILE *f, const char *name, ch_error *err);
int import_misp_galaxy(ch_imp *im, FILE *f, const char *name, ch_error *err);
int import_etherscan(ch_imp *im, FILE *f, const char *name, ch_error *err);

/* Base name without folders and without the extension ("ofac" from
 * ".../ofac.yaml"). */
void imp_stem(const char *path, char *out, size_t cap);

#endif

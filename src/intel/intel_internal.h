/* Internals of the attribution store shared by store.c, actors.c and the
 * importers. Not installed; include/coinhound/intel.h is the public API. */
#ifndef COINHOUND_INTEL_INTERNAL_H
#define COINHOUND_INTEL_INTERNAL_H

#include <lmdb.h>
#include <stdbool.h>
#include <stdio.h>

#include "coinhound/chainaddr.h"
#include "coinhound/intel.h"

struct ch_intel {
    struct ch_lmdb *lm; /* the process's one environment of the folder (util/lmdbenv.h) */
    MDB_env *env;       /* lm's */
    bool writable;
    bool shared;                 /* ch_intel_open_shared: writes between write_begin/end */
    struct ch_writer_lock *lock; /* writers: dbdir/intel/writer.lock */
    char dir[4096];              /* dbdir/intel */
    char data_path[4200];        /* dbdir/intel/data.mdb, for I/O errors */
    MDB_dbi attr;                /* address NUL id8 -> attribution record (see store.c) */
    MDB_dbi actor;               /* canonical name -> actor record */
    MDB_dbi alias;               /* normalised alias -> rank, actor, alias as written */
    MDB_dbi tech;                /* actor NUL technique id -> technique name */
    MDB_dbi meta; /* "list:<source>|<asset>" -> latest list date, "seed" -> version */
};

/* ---- store.c ---- */
int intel_lmdb_err(ch_error *err, const char *what, int rc);
/* A failed commit of db: a full disk named as such, with the file. */
int intel_commit_err(const ch_intel *db, ch_error *err, const char *what, int rc);
/* Attribution record <-> struct (address is not in the record: it is the key). */
size_t intel_attr_encode(const ch_attribution *a, uint8_t *buf, size_t cap);
int intel_attr_decode(const void *data, size_t len, ch_attribution *a);
/* Key: canonical address, NUL, 8-byte id of (asset, source, entity). */
size_t intel_attr_key(const ch_attribution *a, uint8_t *key, size_t cap);
int intel_meta_get(ch_intel *db, MDB_txn *txn, const char *key, char *val, size_t cap);
int intel_meta_put(ch_intel *db, MDB_txn *txn, const char *key, const char *val, ch_error *err);
/* out = s with A-Z lowered; true when s had an upper-case letter (and fit):
 * the key under which a case-lost copy of s would be stored. */
bool intel_fold_case(const char *s, char *out, size_t cap);
/* Today's date (UTC) as YYYY-MM-DD. */
void intel_today(char out[16]);
/* Copy with truncation, always NUL-terminated. */
void intel_copy(char *dst, size_t cap, const char *src);
/* Append src (after sep when dst is not empty), truncating. */
void intel_append(char *dst, size_t cap, const char *sep, const char *src);

/* ---- attr_text.c ---- */
/* Make every text field of a valid UTF-8 (ch_utf8_repair: bytes of no
 * UTF-8 sequence read as CP1252; a sequence cut by truncation dropped).
 * Returns how many fields changed. */
size_t intel_attr_repair_utf8(ch_attribution *a);

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

/* One row of sdn_comments.csv: the rest of an sdn.csv remark. */
typedef struct ofac_comment {
    char ent_num[24];
    char *text;
} ofac_comment;

/* A real-case address the store holds, by its lower-cased form. */
typedef struct case_entry {
    char lower[128], real[128];
} case_entry;

struct ch_import {
    ch_intel *db;
    MDB_txn *txn;  /* the import's transaction, or the child of one file (see run_one) */
    MDB_txn *root; /* the import's own transaction */
    ch_import_opts opts;
    bool as_of_given;    /* the caller named the date (else it is today) */
    bool warned_undated; /* said once that an undated list is taken as today's */
    char as_of[16];
    bool failed;
    imp_scope scopes[IMP_MAX_SCOPES];
    int nscopes;
    ch_import_stats *st; /* the counts of the file being read */
    const char *file;    /* its name, for messages */
    /* sdn_comments.csv read in this import (import_ofac_csv.c) */
    ofac_comment *comments;
    size_t ncomments, capcomments;
    char comments_file[256]; /* where they came from, "" = none */
    /* lower-cased -> real-case addresses (case.c), built on first need */
    case_entry *cases;
    size_t ncases, capcases;
    bool cases_built, cases_sorted;
    /* per file and family: addresses seen, and how many had lost their case */
    uint64_t fam_seen[CH_FAM_COUNT], fam_lost[CH_FAM_COUNT];
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
/* Does a CSV header line (any case) name an address column? */
bool csv_header_has_address(const char *header);
/* sdn_comments.csv: kept in the import for the sdn.csv read after it. */
int import_ofac_comments(ch_imp *im, FILE *f, const char *name, ch_error *err);
void ofac_comments_free(ch_imp *im);
/* Read the sdn_comments.csv beside an sdn.csv, if any and none was read. */
int ofac_comments_beside(ch_imp *im, const char *sdn_path, ch_error *err);
/* Is this file name OFAC's comments file ("sdn_comments.csv", any case)? */
bool ofac_is_comments_name(const char *path);

/* ---- case.c: lists that lost letter case ---- */
/* The family a lower-cased Base58 address looks like (by its first letter
 * and length), CH_FAM_UNKNOWN when it does not look like one. */
ch_family case_lost_family(const char *s);
/* The real-case address the store (or this import) holds whose lower-cased
 * form is `lower`: 1 found (real filled), 0 none, -1 error. */
int case_find_real(ch_imp *im, const char *lower, char real[128], ch_error *err);
/* A real-case address was written: remember it, and move the attributions
 * that sources listed under its lower-cased form onto it. */
int case_note_real(ch_imp *im, const char *real, ch_error *err);
/* After a file: warn when many of its Base58 addresses had lost their case. */
void case_report(ch_imp *im);
void case_free(ch_imp *im);

/* ---- import.c: the merge for a re-keyed record (case.c) ---- */
int imp_put_record(ch_imp *im, ch_attribution *a, ch_error *err);

/* Base name without folders and without the extension ("ofac" from
 * ".../ofac.yaml"). */
void imp_stem(const char *path, char *out, size_t cap);

#endif

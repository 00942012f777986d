/* Checksums of committed ranges (see docs/store.md, "Checksums"): each
 * commit records, for every column whose committed bytes never change, the
 * record range it added and the XXH3-64 of those bytes, in the LMDB table
 * "commits" (key: the commit's number), inside the commit's own LMDB
 * transaction. Internal to the store. */
#ifndef COINHOUND_STORE_CHECKSUMS_H
#define COINHOUND_STORE_CHECKSUMS_H

#include "store/store_internal.h"

/* The commit in txn: one record for the pending records of every column
 * (nothing when no column grew). 0, or MDB error code. */
int st_ck_record(ch_store *s, MDB_txn *txn);
/* A cut to keep[] records per column, in the cut's transaction: records
 * past it are shortened to it (their hash made again over what stays, read
 * from the committed mapping) or deleted when nothing stays. 0, or an MDB
 * error code. */
int st_ck_cut(ch_store *s, MDB_txn *txn, const uint64_t keep[COL_COUNT]);
/* Recompute every recorded range of a reader's committed view; each one
 * that differs (or that the files do not hold) goes to problem(ctx, msg).
 * *commits gets the number of records found (0: a store written before
 * they were kept, or none yet). Returns the number of problems. */
typedef void (*st_ck_problem_fn)(void *ctx, const char *msg);
uint64_t st_ck_check(ch_store *s, st_ck_problem_fn problem, void *ctx, uint64_t *commits);

#endif

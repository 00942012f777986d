/* Comparing two stores file by file (crash, resume and reorg tests). */
#ifndef COINHOUND_TEST_STORECMP_H
#define COINHOUND_TEST_STORECMP_H

#include <stddef.h>
#include <stdint.h>

#include "coinhound/store.h"

/* Every column file (*.col) of db_a/chain and db_b/chain has the same bytes;
 * a file in one store only is a failure. Fails the test naming the file and
 * the first differing byte. */
void tu_assert_same_columns(const char *db_a, const char *db_b, const char *chain);

/* Query for query: equal counts and first block number; every block hash,
 * txid and address of a found in b at the same number (addresses with the
 * same history head); for account chains every tx's record and transfers
 * equal too. */
void tu_assert_same_indexes(const char *db_a, const char *db_b, const char *chain);
/* Columns byte for byte, then indexes query for query. */
void tu_assert_same_store(const char *db_a, const char *db_b, const char *chain);
/* `coinhound check --db db` passes (else the test fails with its output). */
void tu_assert_check(const char *db);
/* A clean `coinhound ingest FAMILY SRC` into WORK/clean builds the store at
 * db (the chain named as the family: btc, eth), byte for byte and query
 * for query: what a watcher or a resumed ingest built is what one whole
 * ingest builds. */
void tu_assert_same_as_ingest(const char *family, const char *src, const char *db,
                              const char *work);
/* A store's counts; all zero when it cannot be opened (no store yet). */
void tu_store_counts(const char *db, const char *chain, ch_store_counts *c);

/* All of a store's column files, concatenated in name order (for "the
 * store is unchanged" checks); *len gets the size. Caller frees. */
char *tu_store_snapshot(const char *db, const char *chain, size_t *len);

/* kill -9 during ingest: `coinhound ingest FAMILY SRC --db DB --commit-bytes
 * 1` runs in a child until it has been killed `rounds` times (at most 4x
 * `rounds` tries), each killed after a random delay within one full run's
 * time divided by `divisor` (later rounds resume, so they have less to do;
 * the delay window shrinks when a run ends before its kill). After each try
 * the store (DB/CHAIN) is read: fewer than `total` blocks but some is a
 * mid-chain kill; at `total` the store is wiped so the kills keep landing
 * mid-run. Returns the number of kills and sets *mid. A child that exits
 * with an error fails the test. */
int tu_kill9_ingest(const char *family, const char *src, const char *db, const char *chain,
                    uint64_t total, int rounds, int divisor, int *mid);

#endif

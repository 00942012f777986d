/* Comparing two stores file by file (crash, resume and reorg tests). */
#ifndef COINHOUND_TEST_STORECMP_H
#define COINHOUND_TEST_STORECMP_H

#include <stddef.h>
#include <stdint.h>

/* Every column file (*.col) of db_a/chain and db_b/chain has the same bytes;
 * a file in one store only is a failure. Fails the test naming the file and
 * the first differing byte. */
void tu_assert_same_columns(const char *db_a, const char *db_b, const char *chain);

/* All of a store's column files, concatenated in name order (for "the
 * store is unchanged" checks); *len gets the size. Caller frees. */
char *tu_store_snapshot(const char *db, const char *chain, size_t *len);

/* kill -9 during ingest: `coinhound ingest FAMILY SRC --db DB --commit-bytes
 * 1` runs `rounds` times in a child, each killed after a random delay within
 * one full run's time divided by `divisor` (later rounds resume, so they
 * have less to do). After each round the store (DB/CHAIN) is read: fewer
 * than `total` blocks but some is a mid-chain kill; at `total` the store is
 * wiped so the kills keep landing mid-run. Returns the number of kills and
 * sets *mid. A child that exits with an error fails the test. */
int tu_kill9_ingest(const char *family, const char *src, const char *db, const char *chain,
                    uint64_t total, int rounds, int divisor, int *mid);

#endif

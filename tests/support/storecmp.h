/* Comparing two stores file by file (crash, resume and reorg tests). */
#ifndef COINHOUND_TEST_STORECMP_H
#define COINHOUND_TEST_STORECMP_H

#include <stddef.h>

/* Every column file (*.col) of db_a/chain and db_b/chain has the same bytes;
 * a file in one store only is a failure. Fails the test naming the file and
 * the first differing byte. */
void tu_assert_same_columns(const char *db_a, const char *db_b, const char *chain);

/* All of a store's column files, concatenated in name order (for "the
 * store is unchanged" checks); *len gets the size. Caller frees. */
char *tu_store_snapshot(const char *db, const char *chain, size_t *len);

#endif

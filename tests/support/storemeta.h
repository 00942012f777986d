/* A store's index (DIR/CHAIN/index, LMDB) edited behind the store's back,
 * as damage, an older format or a crash would leave it: for tests that
 * must put the files in a state the library never writes. Each call opens
 * the environment, does its one change in one transaction and closes it;
 * no store handle may be open on that index in this process meanwhile (one
 * LMDB environment per file per process: util/lmdbenv.h). A failure fails
 * the test. */
#ifndef COINHOUND_TEST_STOREMETA_H
#define COINHOUND_TEST_STOREMETA_H

#include <stddef.h>
#include <stdint.h>

/* Put key -> the len bytes at val into the meta table. */
void tu_meta_put(const char *index_dir, const char *key, const void *val, size_t len);
/* Put key -> a 64-bit value (the store's own encoding: native order). */
void tu_meta_put_u64(const char *index_dir, const char *key, uint64_t v);
/* The 64-bit value of key (fails the test when it is missing or shorter). */
uint64_t tu_meta_get_u64(const char *index_dir, const char *key);
/* Delete key from the meta table (it must be there). */
void tu_meta_del(const char *index_dir, const char *key);
/* Delete the named table, entries and all (flags: as it was created, e.g.
 * MDB_INTEGERKEY). */
void tu_index_drop(const char *index_dir, const char *table, unsigned flags);

#endif

/* Editing blk files for tests: split a blk00000.dat into its records,
 * change a header and mine it again (cheap at regtest's target), build a
 * rival branch of re-headered copies, write records back out. */
#ifndef COINHOUND_TEST_BLKEDIT_H
#define COINHOUND_TEST_BLKEDIT_H

#include <stddef.h>
#include <stdint.h>

#include "coinhound/hash.h"

/* One record: magic, size, block (p points into the loaded file or into a
 * copy the caller owns). */
typedef struct tu_blkrec {
    uint8_t *p;
    size_t len; /* 8 + block size */
} tu_blkrec;

typedef struct tu_blkfile {
    uint8_t *data;
    size_t len;
    tu_blkrec *rec;
    size_t n;
} tu_blkfile;

/* Load dir/blk00000.dat (not obfuscated) and split it; fails the test when
 * it cannot. */
void tu_blk_load(tu_blkfile *f, const char *dir);
void tu_blk_free(tu_blkfile *f);
/* Write records to dir/blk00000.dat (replacing it). */
void tu_blk_write(const char *dir, const tu_blkrec *recs, size_t n);
/* A malloc'ed copy of a record. */
tu_blkrec tu_blk_copy(const tu_blkrec *r);
/* The block hash of a record. */
ch_hash256 tu_blk_hash(const tu_blkrec *r);
/* Point the header at prev (when not NULL) and try nonces until its hash
 * meets the target of its own bits: for regtest bits only (about two tries). */
void tu_blk_remine(tu_blkrec *r, const ch_hash256 *prev);
/* Re-headered copies of records [from, to) chained on record from - 1: the
 * same transactions on another branch. Caller frees each p and the array. */
tu_blkrec *tu_blk_rival(const tu_blkfile *f, size_t from, size_t to, uint32_t salt);

#endif

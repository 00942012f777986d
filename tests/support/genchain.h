/* A generated Bitcoin chain with a planted theft, ingested into a store:
 * what the trace tests run on. */
#ifndef COINHOUND_TEST_GENCHAIN_H
#define COINHOUND_TEST_GENCHAIN_H

#include <stdint.h>

#include "coinhound/gen.h"
#include "coinhound/store.h"

typedef struct tu_genchain {
    char *dir;         /* temporary directory holding both */
    char blocks[1024]; /* the blk files, labels.csv, theft.json */
    char db[1024];     /* the store */
    ch_store *s;       /* opened read-only */
} tu_genchain;

/* coinhound-gen with this seed and tx count (40 txs a block, coinbase
 * maturity 20, a theft), then ingest; fails the test on error. */
void tu_genchain_make(tu_genchain *g, uint64_t seed, uint64_t txs);
void tu_genchain_close(tu_genchain *g);

/* coinhound-gen's default options, writing to dir. */
ch_gen_opts tu_gen_opts(const char *dir);
/* coinhound-gen with o; fails the test, saying why, on error. */
void tu_gen_run(const ch_gen_opts *o);
/* Blocks appended to dir's chain as Bitcoin Core appends them (xor.dat's
 * obfuscation kept), the last reorg of them replaced first: ch_gen_run's
 * extend. */
void tu_gen_extend(const char *dir, uint32_t blocks, uint32_t reorg);

#endif

/* A generated Bitcoin chain with a planted theft, ingested into a store:
 * what the trace tests run on. */
#ifndef COINHOUND_TEST_GENCHAIN_H
#define COINHOUND_TEST_GENCHAIN_H

#include <stdint.h>

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

#endif

/* coinhound: bringing a chain into the store. */
#ifndef COINHOUND_INGEST_H
#define COINHOUND_INGEST_H

#include <stdbool.h>
#include <stdint.h>

#include "coinhound/btc.h"
#include "coinhound/error.h"
#include "coinhound/store.h"

typedef struct ch_ingest_opts {
    int progress;          /* 1 on, 0 off, -1 when stderr is a terminal */
    uint64_t commit_bytes; /* commit when this much is pending (0: default 64 MiB) */
    uint32_t max_blocks;   /* stop after this many new blocks (0: all) */
} ch_ingest_opts;

typedef struct ch_ingest_stats {
    uint32_t start_height; /* first height written in this run */
    uint32_t tip_height;   /* tip after the run (UINT32_MAX: empty) */
    uint32_t reorg_height; /* height cut back to, UINT32_MAX when no reorg */
    uint64_t blocks, txs, bytes;
    uint64_t stale; /* records of the blk files off the best chain */
    double seconds;
} ch_ingest_stats;

/* Ingest Bitcoin Core blk files from blocks_dir into db_dir/btc: only blocks
 * the store lacks; a stale tip is replaced. On error the store stays at its
 * last commit and the message names the file and offset. */
int ch_ingest_btc(const char *blocks_dir, const char *db_dir, const ch_ingest_opts *opts,
                  ch_ingest_stats *stats, ch_error *err);

/* Append one parsed block to an open store (no commit). */
int ch_ingest_btc_block(ch_store *s, const ch_btc_block *b, ch_error *err);

#endif

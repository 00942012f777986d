/* The source-independent half of EVM ingest: where each block goes in the
 * store (skip, append, cut back on a reorg, refuse a gap), commits, stats
 * and progress. Files (evm.c) and a live node (evm_node.c) feed it blocks in
 * increasing number. */
#ifndef COINHOUND_INGEST_EVM_INGEST_H
#define COINHOUND_INGEST_EVM_INGEST_H

#include "coinhound/evm.h"
#include "coinhound/ingest.h"
#include "coinhound/progress.h"

typedef struct evm_sink {
    ch_store *s;
    bool wait; /* for the writer lock */
    ch_ingest_stats *st;
    ch_ingest_stats scratch; /* when the caller wants no stats */
    ch_progress prog;
    uint64_t commit_bytes;
    uint32_t max_blocks;
    ch_ingest_block_hook on_block; /* the caller's pass over each appended block */
    void *on_block_ctx;
    double t0;
} evm_sink;

/* Reset stats and start the clock and the progress line (cannot fail). */
void evm_sink_init(evm_sink *k, const ch_ingest_opts *opts, ch_ingest_stats *st);
/* Open db_dir/chain for writing; it must be (or become) an account chain. */
int evm_sink_open(evm_sink *k, const char *db_dir, const char *chain, ch_error *err);
/* Place one block: 1 taken or skipped (more wanted), 0 taken and
 * --max-blocks reached, -1 error (nothing since the last commit is kept). */
int evm_sink_put(evm_sink *k, const ch_evm_block *b, uint64_t bytes, ch_error *err);
/* Commit when rc is 0, roll back to the last commit otherwise; fill the tip
 * and the time, close the store. Returns rc, or -1 when the commit fails. */
int evm_sink_close(evm_sink *k, int rc, ch_error *err);

/* A live node (chains/eth/node.h): the first block to fetch to bring the
 * store up to the node, the one after the last block both hold with the same
 * hash (0 for an empty store). A reorg while away walks back to the fork
 * point (at most 1024 blocks; deeper is an error naming --from-block). */
struct evm_node;
int evm_node_resume_point(struct evm_node *n, ch_store *s, uint64_t latest, uint64_t *from,
                          ch_error *err);

#endif

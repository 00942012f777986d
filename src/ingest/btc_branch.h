/* Checking a Bitcoin branch before it replaces stored blocks (a reorg):
 * what can be known before the cut is known before it, so that a bad file
 * costs no committed data. */
#ifndef COINHOUND_INGEST_BTC_BRANCH_H
#define COINHOUND_INGEST_BTC_BRANCH_H

#include "coinhound/btc.h"
#include "coinhound/ingest.h"
#include "coinhound/store.h"

/* The bits of the store's blocks [fork_h, tip] (what a branch replacing
 * them must outweigh, ch_btc_work_cmp): malloc'd, NULL when out of memory. */
uint32_t *btc_stored_bits(ch_store *s, uint32_t fork_h);

/* The best chain's branch from fork_h replaces the store's blocks [fork_h,
 * tip] only when it carries more work than they do: a file that lost or
 * damaged blocks the store holds is refused (err names the block, file and
 * offset). *need gets the first height by which the branch has passed the
 * stored blocks' work (the reorg must reach it). 0 or -1. */
int btc_check_more_work(ch_store *s, ch_blkdir *d, const ch_blk_chain *chain, uint32_t fork_h,
                        uint32_t *need, ch_error *err);

/* Every block of the branch [from, to) parses, with its merkle root and
 * witness commitment, and every input spends an output that exists below
 * the fork or earlier in the branch and that nothing below the fork or
 * earlier in the branch spends: the store's own rules for an input, checked
 * against the state the cut will leave. 0, or -1 naming the block, file,
 * offset and transaction. */
int btc_check_branch(ch_store *s, ch_blkdir *d, const ch_blk_chain *chain, uint32_t from,
                     uint32_t to, ch_error *err);

/* The same spend rules block by block, for a branch held in memory (a
 * node's RPC): new, then each block in order (-1 naming the tx and input
 * that breaks them), then free. */
typedef struct btc_spends btc_spends;
btc_spends *btc_spends_new(ch_store *s, uint32_t fork_h);
int btc_spends_block(btc_spends *sp, const ch_btc_block *b, ch_error *err);
void btc_spends_free(btc_spends *sp);

/* Blocks held in memory (raw bytes, heights fork_h, fork_h + 1, ...) onto
 * an open store: each must parse with its merkle root and witness
 * commitment and link to the one before (the first to the store's block
 * fork_h - 1), the headers must pass the network's rules over the whole
 * chain they make; where they replace stored blocks they must carry more
 * work and spend only what the cut leaves. Only then is the store cut (a
 * reorg) and the blocks appended and committed. net: the store's network
 * (a ch_btc_net). st as btc_ingest_chain. On error the store is as it was. */
typedef struct btc_raw_block {
    uint8_t *p;
    size_t len;
} btc_raw_block;
int btc_ingest_raw(ch_store *s, int net, uint32_t fork_h, const btc_raw_block *v, size_t n,
                   ch_ingest_stats *st, ch_error *err);
/* btc_ingest_raw, leaving the appended blocks pending (the caller commits:
 * ch_ingest_opts.defer_commit); blocks pending from an earlier call are
 * committed before a reorg's checks and cut. */
int btc_ingest_raw_deferred(ch_store *s, int net, uint32_t fork_h, const btc_raw_block *v, size_t n,
                            ch_ingest_stats *st, ch_error *err);

/* Commit the blocks a deferred ingest left pending (none: 0 at once); on
 * failure they are dropped (the store stays at its last commit) and -1. */
int btc_commit_pending(ch_store *s, ch_error *err);

/* Bring an open store to the best chain `chain` of folder d: the fork
 * with the store, a reorg's checks and cut (as ch_ingest_btc), then blocks
 * [fork, to) appended and committed (to: the chain's end, or fork +
 * o->max_blocks, and at least past a reorged tip's work; with
 * o->defer_commit the last batch is left pending). st gets
 * reorg_height, start_height, tip_height and the counts. On error the
 * store stays at its last commit. */
int btc_ingest_chain(ch_store *s, ch_blkdir *d, const ch_blk_chain *chain, const ch_ingest_opts *o,
                     ch_ingest_stats *st, ch_error *err);
/* The same for a caller that takes its blocks one at a time (the
 * watcher): keep (btc_pipe.h, may be NULL) holds a block's buffers from
 * one call to the next, and a call of one block reads it in this thread
 * and checks its witness commitment beside the adds. The store, the
 * stats and any error are those of btc_ingest_chain. */
typedef struct btc_keep btc_keep;
int btc_ingest_chain_kept(ch_store *s, ch_blkdir *d, const ch_blk_chain *chain,
                          const ch_ingest_opts *o, btc_keep *keep, ch_ingest_stats *st,
                          ch_error *err);
/* Where a store keeps the block index of the folder it is fed from:
 * DIR/btc/blkindex. */
int btc_index_path(const char *db_dir, char *out, size_t cap, ch_error *err);

#endif

/* coinhound: bringing a chain into the store. */
#ifndef COINHOUND_INGEST_H
#define COINHOUND_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coinhound/btc.h"
#include "coinhound/error.h"
#include "coinhound/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A pass the caller runs over each appended block of an account chain, after
 * the block's records are appended and before they are committed: what it
 * adds to the store (ch_store_add_note) is committed with the block and cut
 * with it on a reorg. ctx is the caller's (ch_ingest_opts.on_block_ctx).
 * 0 to go on; -1 with err stops the ingest (nothing of the batch is kept).
 * Ingest itself runs no analysis: the people's safeguard (poison.h,
 * ch_poison_ingest_block) is one such pass, chosen by the caller. */
typedef int (*ch_ingest_block_hook)(void *ctx, ch_store *s, ch_error *err);

typedef struct ch_ingest_opts {
    int progress;                  /* 1 on, 0 off, -1 when stderr is a terminal */
    uint64_t commit_bytes;         /* commit when this much is pending (0: default 64 MiB) */
    uint32_t max_blocks;           /* stop after this many new blocks (0: all) */
    bool wait;                     /* another writer holds the store: wait for it (else fail) */
    uint64_t mem_bytes;            /* bound on the process's memory (0: half the machine's RAM) */
    ch_ingest_block_hook on_block; /* account chains: run on each appended block (NULL: none) */
    void *on_block_ctx;            /* passed to on_block */
    uint32_t threads; /* btc: 1 reads and parses in the store's thread; 0 (default) or 2 in a
                         reader thread ahead of it (the same store either way) */
    /* Bitcoin: leave the last batch uncommitted (pending in the writer, whose
     * own reads see it) for the caller to commit; blocks still pending from
     * an earlier call are committed before a reorg's checks and cut. A
     * watcher's group commit (docs/watch.md). */
    bool defer_commit;
    /* btc: bytes of the writer's UTXO map (ch_store_set_utxo_mem), within
     * mem_bytes; 0: none (a watcher's default); CH_INGEST_UTXO_AUTO: a
     * fifth of the memory bound (the ingest command's default) */
    uint64_t utxo_mem_bytes;
} ch_ingest_opts;

#define CH_INGEST_UTXO_AUTO UINT64_MAX

typedef struct ch_ingest_stats {
    uint32_t start_height; /* first height written in this run */
    uint32_t tip_height;   /* tip after the run (UINT32_MAX: empty) */
    uint32_t reorg_height; /* height cut back to, UINT32_MAX when no reorg */
    uint64_t blocks, txs, bytes;
    uint64_t stale; /* records of the blk files off the best chain */
    /* btc: inputs the UTXO map resolved, and those it did not (read from
     * the records), in this run */
    uint64_t utxo_hits, utxo_misses;
    double seconds;
    /* btc: of those, the store's thread waited this long for blocks read,
     * parsed and checked (the reader thread's lead, or the whole read in
     * one thread) */
    double read_seconds;
} ch_ingest_stats;

/* The default memory bound of an ingest: half the machine's RAM. */
uint64_t ch_ingest_default_mem(void);

/* Ingest Bitcoin Core blk files from blocks_dir into db_dir/btc: only blocks
 * the store lacks. Before the store changes: every header of the best chain
 * passes ch_blk_chain_check; where the store's blocks leave the best chain,
 * the branch must carry more work than they do (a file that lost or damaged
 * stored blocks is refused, not taken for a reorg) and every block of it
 * must parse with its merkle root and witness commitment, and every input
 * spend what the cut leaves or the branch made, once; only then are the
 * stored blocks cut and the branch appended (past the old tip's work even
 * with max_blocks). Every block appended is checked the same way. On error
 * the store stays at its last commit and the message names the block, file
 * and offset. */
int ch_ingest_btc(const char *blocks_dir, const char *db_dir, const ch_ingest_opts *opts,
                  ch_ingest_stats *stats, ch_error *err);

/* Append one parsed block to an open store (no commit). */
int ch_ingest_btc_block(ch_store *s, const ch_btc_block *b, ch_error *err);

struct ch_evm_block;
/* EVM chains: JSON-RPC response files or blockchain-etl exports at path (a
 * file or a directory; see evm.h) into db_dir/<chain> (an account-chain
 * store: eth, bsc, polygon, arbitrum, ...). Blocks the store has are
 * skipped when their hash matches; a different hash at a stored height is a
 * reorg: the store is cut back there and the new blocks appended. */
int ch_ingest_evm(const char *path, const char *db_dir, const char *chain,
                  const ch_ingest_opts *opts, ch_ingest_stats *stats, ch_error *err);
/* Addition: the same from several files and directories read as one input
 * (joined by block number), in the format fmt (a ch_evm_format: AUTO, RPC,
 * or ETL for CSV or JSON lines exports). */
int ch_ingest_evm_paths(const char *const *paths, size_t n, int fmt, const char *db_dir,
                        const char *chain, const ch_ingest_opts *opts, ch_ingest_stats *stats,
                        ch_error *err);
/* A live node's HTTP JSON-RPC endpoint (libcurl): blocks [from, to] (to:
 * the node's latest when has_to is false; from: the store's next block, or
 * 0, when has_from is false), fetched in batches with retries, then as
 * ch_ingest_evm. */
typedef struct ch_node_opts {
    uint64_t from_block, to_block;
    bool has_from, has_to;
    unsigned batch;   /* blocks per JSON-RPC batch (default 10) */
    unsigned retries; /* per request, with backoff (default 5) */
    bool traces;      /* also ask debug_traceBlockByNumber (callTracer) */
} ch_node_opts;

int ch_ingest_evm_node(const char *url, const char *db_dir, const char *chain,
                       const ch_node_opts *node, const ch_ingest_opts *opts, ch_ingest_stats *stats,
                       ch_error *err);

/* Append one EVM block (no commit): a block's txs, each with its fee and
 * transfers, then its withdrawals. */
int ch_ingest_evm_block(ch_store *s, const struct ch_evm_block *b, ch_error *err);

#ifdef __cplusplus
}
#endif

#endif

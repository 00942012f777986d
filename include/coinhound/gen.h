/* coinhound: a synthetic Bitcoin chain, written as Bitcoin Core blk files.
 *
 * The generator makes a structurally valid chain (genesis block, prev-hash
 * links, merkle roots, BIP141 witness commitments, regtest proof of work,
 * every input spending an existing unspent output, values conserved) with
 * the shapes that forensics code has to handle: payments with change,
 * consolidations, exchange deposit addresses swept into reused hot wallets,
 * batch payouts, CoinJoins, and on request a planted theft that is laundered
 * through a peel chain, splits, a CoinJoin, a mixer and exchange deposits.
 *
 * Everything is drawn from one seeded PRNG, so a seed always gives the same
 * bytes. The layout options (xor, shuffle, stale blocks, file size) draw from
 * a second stream and never change the best chain. Signatures are random
 * bytes shaped like DER/Schnorr signatures: nothing here can be verified
 * cryptographically, and nothing here is a real key. */
#ifndef COINHOUND_GEN_H
#define COINHOUND_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "coinhound/error.h"
#include "coinhound/hash.h"
#include "coinhound/model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CH_GEN_DEFAULT_TXS           10000
#define CH_GEN_DEFAULT_TXS_PER_BLOCK 250
#define CH_GEN_DEFAULT_MATURITY      100
#define CH_GEN_DEFAULT_MAX_FILE      (128ULL * 1024 * 1024) /* Core's MAX_BLOCKFILE_SIZE */
#define CH_GEN_DEFAULT_SHUFFLE_WIN   16
#define CH_GEN_MIN_FILE_SIZE         1024

typedef struct ch_gen_opts {
    const char *out_dir; /* created when missing; blk files, xor.dat and side files go here */
    uint64_t seed;
    /* Size of the chain. txs counts non-coinbase transactions; blocks counts
     * every block of the best chain, genesis and the coinbase-only warm-up
     * (maturity blocks) included. Give either, or both (then txs are spread
     * evenly over the blocks); with neither, txs = CH_GEN_DEFAULT_TXS. The
     * count is exact except that the theft's stages may overrun a block
     * (a few dozen more transactions on short chains). */
    uint64_t txs;
    uint32_t blocks;
    uint32_t txs_per_block;
    /* Blocks before a coinbase output may be spent (Bitcoin: 100). The
     * chain starts with this many coinbase-only blocks, as regtest does. */
    uint32_t maturity;
    uint64_t max_file_size; /* a blk file rolls over before passing this */
    bool xor_enabled;       /* write xor.dat and obfuscate blk bytes */
    bool xor_key_set;       /* use xor_key instead of a random key */
    uint8_t xor_key[8];
    bool shuffle;            /* store blocks out of height order ... */
    uint32_t shuffle_window; /* ... within a window of this many blocks */
    uint32_t stale;          /* stale one-block branches to add */
    bool theft;              /* plant a theft; writes theft.json */
    /* Extend the chain already in out_dir (as an earlier run wrote it and
     * recorded in out_dir/gen.params) by extend_blocks blocks appended to
     * its last blk file, as Core appends what it receives. The chain is
     * rebuilt in memory from its recorded options (the same seed gives the
     * same blocks) and only the new blocks are written; the options above
     * are taken from gen.params, not from here. With reorg_depth D, the
     * last D blocks of the best chain are replaced by a branch of D +
     * extend_blocks blocks from the same parent (other transactions): the
     * old blocks stay in the files, off the best chain, as a node keeps
     * them after a reorg. */
    bool extend;
    uint32_t extend_blocks;
    uint32_t reorg_depth;
} ch_gen_opts;

typedef struct ch_gen_stats {
    uint32_t blocks; /* on the best chain, genesis included */
    uint32_t stale_blocks;
    uint64_t txs; /* on the best chain, coinbases included */
    uint64_t inputs, outputs;
    uint64_t bytes; /* written to blk files, framing included */
    uint32_t files;
    uint64_t outputs_by_type[CH_SCRIPT_TYPE_COUNT];
    ch_hash256 tip;  /* hash of the last block of the best chain */
    uint32_t labels; /* rows of labels.csv */
} ch_gen_stats;

/* Fill opts with the defaults above (seed 1, no out_dir). */
void ch_gen_opts_init(ch_gen_opts *o);

/* Generate the chain described by o into o->out_dir (created if missing).
 * blkNNNNN.dat, xor.dat, labels.csv and theft.json left there by an earlier
 * run are removed first; other files are left alone. stats may be NULL. */
int ch_gen_run(const ch_gen_opts *o, ch_gen_stats *stats, ch_error *err);

#ifdef __cplusplus
}
#endif

#endif

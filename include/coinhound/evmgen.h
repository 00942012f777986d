/* coinhound: a synthetic EVM chain, written as JSON-RPC responses.
 *
 * The generator writes what a node would answer, one JSON line per block:
 *   blocks.jsonl    eth_getBlockByNumber(n, true)  (full transactions, EIP-1559
 *                   fields, withdrawals)
 *   receipts.jsonl  eth_getBlockReceipts(n)        (status, gasUsed,
 *                   effectiveGasPrice, logs with their logIndex)
 *   traces.jsonl    debug_traceBlockByNumber(n, {"tracer":"callTracer"}),
 *                   only for blocks where some call frame moves value
 * each as {"jsonrpc":"2.0","id":n,"result":...} with hex quantities.
 *
 * The chain has a population of accounts, ERC-20 tokens (at the mainnet
 * addresses of USDT, USDC and WETH, plus an unknown token and a fake "USDT"),
 * exchanges with a deposit address per customer swept into a hot wallet, a
 * bridge, a DEX whose swaps move the token in a log and the ETH in an
 * internal call, an ERC-721 collection, failed transactions, beacon
 * withdrawals, and address-poisoning attempts. On request a planted theft:
 * a wallet drained, split over many fresh addresses, tokens swapped to ETH,
 * funds deposited at exchanges and a bridge.
 *
 * Every balance is kept while generating, so no transaction spends what its
 * sender does not hold; a failed transaction pays its fee and moves nothing.
 * Hashes are Keccak-256 of deterministic bytes (no RLP, no real signatures);
 * they are unique and the block hashes link through parentHash. One seed
 * always gives the same bytes. */
#ifndef COINHOUND_EVMGEN_H
#define COINHOUND_EVMGEN_H

#include <stdbool.h>
#include <stdint.h>

#include "coinhound/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CH_EVMGEN_DEFAULT_TRANSFERS     10000
#define CH_EVMGEN_DEFAULT_TXS_PER_BLOCK 150
#define CH_EVMGEN_DEFAULT_FIRST_BLOCK   20000000
#define CH_EVMGEN_DEFAULT_CHAIN_ID      1
#define CH_EVMGEN_MIN_THEFT_BLOCKS      40

typedef struct ch_evmgen_opts {
    const char *out_dir; /* created when missing */
    uint64_t seed;
    /* Size: with blocks, exactly that many blocks; otherwise blocks are
     * added until at least `transfers` value transfers were written (native
     * with value, internal calls with value, ERC-20 Transfer logs,
     * withdrawals; ERC-721 transfers do not count). With --theft the chain
     * is extended until the theft has fully played out. */
    uint64_t transfers;
    uint32_t blocks;
    uint32_t txs_per_block;
    uint64_t chain_id;
    uint64_t first_block; /* number of the first block written */
    bool theft;
} ch_evmgen_opts;

typedef struct ch_evmgen_stats {
    uint64_t blocks, txs, failed_txs, logs, calls, withdrawals, trace_blocks;
    /* transfers as ch_evm_block_transfers() would list them */
    uint64_t native;    /* successful txs with a nonzero value */
    uint64_t internal;  /* value-moving call frames of successful txs */
    uint64_t erc20;     /* Transfer logs with 3 topics (zero-value ones included) */
    uint64_t erc721;    /* Transfer logs with 4 topics */
    uint64_t transfers; /* native + internal + erc20 + withdrawals */
    uint64_t poisonings;
    uint64_t accounts, labels;
    uint64_t bytes; /* written to the three .jsonl files */
} ch_evmgen_stats;

void ch_evmgen_opts_init(ch_evmgen_opts *o);

/* Generate into o->out_dir: blocks.jsonl, receipts.jsonl, traces.jsonl,
 * labels.csv, tokens.csv and theft.json (replaced when present). stats may
 * be NULL. */
int ch_evmgen_run(const ch_evmgen_opts *o, ch_evmgen_stats *stats, ch_error *err);

#ifdef __cplusplus
}
#endif

#endif

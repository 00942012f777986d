/* A JSON-RPC client of an Ethereum (or other EVM) node over HTTP, libcurl.
 *
 * Blocks come in batches: one HTTP request carries, per block,
 * eth_getBlockByNumber(n, true), eth_getBlockReceipts(n) and, when asked,
 * debug_traceBlockByNumber(n, {"tracer":"callTracer"}). A node without
 * eth_getBlockReceipts (JSON-RPC "method not found") is asked
 * eth_getTransactionReceipt per transaction instead, for the rest of the
 * session. Failed requests (transport errors, timeouts, HTTP errors,
 * unreadable bodies, JSON-RPC errors, a block the node says it lacks) are
 * retried with exponential backoff; the last error names the URL, the
 * method and the block. */
#ifndef COINHOUND_CHAINS_ETH_NODE_H
#define COINHOUND_CHAINS_ETH_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include "coinhound/error.h"
#include "coinhound/evm.h"

typedef struct evm_node_cfg {
    const char *url;
    unsigned retries;    /* attempts after the first, per request */
    unsigned backoff_ms; /* wait before the first retry; doubles, capped at 10 s (0: 250) */
    long timeout_ms;     /* per HTTP request (0: 120 s) */
    bool traces;         /* also fetch callTracer traces */
} evm_node_cfg;

typedef struct evm_node_stats {
    uint64_t http_requests; /* attempts, failed ones included */
    uint64_t retries;
    uint64_t calls;         /* JSON-RPC calls sent */
    uint64_t bytes;         /* response bytes received */
    uint64_t receipt_calls; /* eth_getTransactionReceipt calls (the fallback) */
    bool no_block_receipts; /* the node lacks eth_getBlockReceipts */
    bool no_traces; /* a fetch with traces failed: the node lacks debug_traceBlockByNumber */
} evm_node_stats;

typedef struct evm_node evm_node;

int evm_node_open(const evm_node_cfg *cfg, evm_node **out, ch_error *err);
void evm_node_close(evm_node *n);
const evm_node_stats *evm_node_get_stats(const evm_node *n);

/* eth_blockNumber */
int evm_node_latest(evm_node *n, uint64_t *number, ch_error *err);
/* The hash of block `number` (eth_getBlockByNumber(n, false)). */
int evm_node_block_hash(evm_node *n, uint64_t number, ch_hash256 *hash, ch_error *err);
/* Blocks [first, last] complete with receipts (and traces), in increasing
 * number, appended to *blocks (NULL at first; free with
 * ch_evm_blocks_free). */
int evm_node_fetch(evm_node *n, uint64_t first, uint64_t last, ch_evm_block **blocks,
                   size_t *n_blocks, ch_error *err);

#endif

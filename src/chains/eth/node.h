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

#include <signal.h>
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
    /* a fetch whose trace call the node does not have (JSON-RPC "method
     * not found", -32601, or its debug API said disabled or unsupported)
     * is done again without traces, and traces are off for the rest of
     * the session (stats.traces_dropped says why). Any other failure of
     * the traces (an error answered to the trace call, a trace that
     * cannot be read, a request with traces that gets no answer, an HTTP
     * error or a truncated body, while eth_blockNumber answers) fails the
     * fetch with stats.traces_failed set: a passing fault the caller may
     * retry, or follow without traces (evm_node_set_traces). Without it
     * any such fetch fails */
    bool traces_optional;
    /* set (by a signal handler) to give up the request in hand within a
     * second, and not to retry: a stop is not kept waiting on a stalled
     * node for the timeout (NULL: never) */
    volatile sig_atomic_t *stop;
} evm_node_cfg;

typedef struct evm_node_stats {
    uint64_t http_requests; /* attempts, failed ones included */
    uint64_t retries;
    uint64_t calls;         /* JSON-RPC calls sent */
    uint64_t bytes;         /* response bytes received */
    uint64_t receipt_calls; /* eth_getTransactionReceipt calls (the fallback) */
    bool no_block_receipts; /* the node lacks eth_getBlockReceipts */
    bool no_traces; /* a fetch with traces failed: the node lacks debug_traceBlockByNumber */
    /* traces_optional: traces were dropped at a fetch of blocks
     * traces_dropped_at.. (the blocks given without), for this reason */
    bool traces_dropped;
    uint64_t traces_dropped_at;
    char traces_dropped_why[CH_ERROR_MAX];
    /* traces_optional: the last fetch failed on its traces alone (the
     * error says how), the node answering otherwise */
    bool traces_failed;
} evm_node_stats;

typedef struct evm_node evm_node;

int evm_node_open(const evm_node_cfg *cfg, evm_node **out, ch_error *err);
void evm_node_close(evm_node *n);
const evm_node_stats *evm_node_get_stats(const evm_node *n);

/* Does the node answer debug_traceBlockByNumber(block, callTracer)? 1: it
 * does (a callTracer array); 0: it does not trace, why[] says how (the
 * method missing, its debug API disabled, an answer that is not a
 * callTracer trace); 2: it failed to this time, why[] says how (an error
 * answered, no answer in time or an HTTP error while eth_blockNumber
 * answers); -1: the node does not answer at all (err). */
int evm_node_probe_traces(evm_node *n, uint64_t block, char *why, size_t why_cap, ch_error *err);
/* Fetch traces (or not) from the next evm_node_fetch on; clears
 * stats.traces_dropped. */
void evm_node_set_traces(evm_node *n, bool on);

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

/* A live node's JSON-RPC endpoint -> the store: blocks fetched in batches
 * (chains/eth/node.c), placed as file ingest places them (evm_ingest.h).
 *
 * Resuming checks the stored tip against the node first: when the node's
 * block at that height has another hash, the chain reorganised while we
 * were away, and the walk goes back to the last block both agree on; the
 * blocks after it then arrive with other hashes and replace the store's. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "chains/eth/node.h"
#include "coinhound/ingest.h"
#include "ingest/evm_ingest.h"

#define MAX_REORG_DEPTH 1024

/* Tuning for tests and slow links: milliseconds from the environment. */
static unsigned env_ms(const char *name, unsigned dflt) {
    const char *v = getenv(name);
    if (!v || !*v) return dflt;
    char *end;
    unsigned long ms = strtoul(v, &end, 10);
    return *end == '\0' && ms > 0 && ms < 3600000 ? (unsigned)ms : dflt;
}

/* The first block to fetch when the caller gave none: the one after the
 * last block the node and the store agree on (0 for an empty store). The
 * watcher (src/watch) resumes through it too. */
int evm_node_resume_point(evm_node *n, ch_store *s, uint64_t latest, uint64_t *from,
                          ch_error *err) {
    uint32_t next = ch_store_next_height(s);
    uint64_t first = ch_store_first_number(s);
    if (next == 0) {
        *from = 0;
        return 0;
    }
    uint64_t tip = first + next - 1;
    /* a node behind the store: compare at its tip (the store keeps the rest) */
    uint64_t k = tip < latest ? tip : latest;
    if (k < first)
        return ch_err(err,
                      "the node's latest block %" PRIu64 " is before the store's first %" PRIu64,
                      latest, first);
    for (unsigned depth = 0;; depth++, k--) {
        ch_hash256 h;
        if (evm_node_block_hash(n, k, &h, err) != 0) return -1;
        if (memcmp(ch_store_block(s, (uint32_t)(k - first))->hash, h.b, 32) == 0) {
            *from = k + 1;
            return 0;
        }
        if (k == first)
            return ch_err(err, "the node's chain does not hold the store's first block %" PRIu64,
                          first);
        if (depth == MAX_REORG_DEPTH)
            return ch_err(err,
                          "the node and the store disagree on the last %u blocks before %" PRIu64
                          ": a reorg this deep is refused (pass --from-block to force)",
                          MAX_REORG_DEPTH, tip);
    }
}

/* Fetch [from, to] in batches and place each block; stops early at
 * --max-blocks. */
static int fetch_range(evm_node *n, evm_sink *k, uint64_t from, uint64_t to, unsigned batch,
                       ch_error *err) {
    uint64_t total = to - from + 1, done = 0;
    for (uint64_t lo = from; lo <= to;) {
        uint64_t hi = to - lo < batch - 1 ? to : lo + batch - 1;
        ch_evm_block *v = NULL;
        size_t count = 0;
        if (evm_node_fetch(n, lo, hi, &v, &count, err) != 0) return -1;
        int more = 1;
        uint64_t bytes = evm_node_get_stats(n)->bytes;
        for (size_t i = 0; i < count && more > 0; i++)
            more = evm_sink_put(k, &v[i], bytes, err);
        ch_evm_blocks_free(v, count);
        if (more <= 0) return more;
        /* the ETA: what the blocks so far cost, times the blocks to go */
        done += hi - lo + 1;
        k->prog.total_bytes = (uint64_t)((double)bytes / (double)done * (double)total);
        if (hi == to) break;
        lo = hi + 1;
    }
    return 0;
}

int ch_ingest_evm_node(const char *url, const char *db_dir, const char *chain,
                       const ch_node_opts *node, const ch_ingest_opts *opts, ch_ingest_stats *st,
                       ch_error *err) {
    ch_node_opts defaults = {.batch = 10, .retries = 5};
    const ch_node_opts *no = node ? node : &defaults;
    evm_sink k;
    evm_sink_init(&k, opts, st);
    evm_node_cfg cfg = {
        .url = url,
        .retries = no->retries,
        .backoff_ms = env_ms("COINHOUND_RPC_BACKOFF_MS", 250),
        .timeout_ms = env_ms("COINHOUND_RPC_TIMEOUT_MS", 120000),
        .traces = no->traces,
    };
    unsigned batch = no->batch ? no->batch : 10;
    evm_node *n = NULL;
    int rc = -1;
    if (no->has_from && no->has_to && no->from_block > no->to_block) {
        ch_err(err, "--from-block %" PRIu64 " is after --to-block %" PRIu64, no->from_block,
               no->to_block);
        goto out;
    }
    if (evm_node_open(&cfg, &n, err) != 0) goto out;
    if (evm_sink_open(&k, db_dir, chain, err) != 0) goto out;
    uint64_t latest = 0, from = 0, to = 0;
    if (evm_node_latest(n, &latest, err) != 0) goto out;
    to = no->has_to ? no->to_block : latest;
    if (to > latest) {
        ch_err(err, "%s: --to-block %" PRIu64 " is past the node's latest block %" PRIu64, url, to,
               latest);
        goto out;
    }
    if (no->has_from)
        from = no->from_block;
    else if (evm_node_resume_point(n, k.s, latest, &from, err) != 0) {
        ch_err_prefix(err, "%s", url);
        goto out;
    }
    k.prog.top_height = (uint32_t)to;
    rc = from <= to ? fetch_range(n, &k, from, to, batch, err) : 0;
out:
    if (n) st->bytes = evm_node_get_stats(n)->bytes;
    rc = evm_sink_close(&k, rc, err);
    evm_node_close(n);
    return rc;
}

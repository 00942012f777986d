/* Blocks a node handed over (raw bytes in memory) onto the store: what
 * ingest does for blk files, for a follower that reads no files. Checked
 * whole before the store changes (btc_branch.h: btc_ingest_raw). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/btc_branch.h"

#define INTERVAL 2016 /* blocks between retargets */

/* The headers of the chain these blocks make, checked by the network's
 * rules: theirs, after enough of the store's for the rules' look-back (the
 * period before, and the 11 blocks of the median time). The window starts
 * on a period's first block, so that heights modulo the period are those
 * of the chain: a round costs its own blocks, not the chain's length. */
static int check_headers(ch_store *s, int net, uint32_t fork_h, const ch_btc_header *h, size_t n,
                         ch_error *err) {
    ch_blk_chain c;
    uint32_t base = fork_h >= 2 * INTERVAL ? (fork_h / INTERVAL - 1) * INTERVAL : 0;
    size_t total = (size_t)(fork_h - base) + n;
    int rc = ch_blk_chain_alloc(&c, total, err);
    for (uint32_t i = base; rc == 0 && i < fork_h; i++) {
        const ch_block_rec *b = ch_store_block(s, i);
        ch_blk_rec *r = &c.rec[i - base];
        memcpy(r->hash.b, b->hash, 32);
        r->bits = b->bits;
        r->time = b->time;
    }
    size_t at = fork_h - base;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        ch_blk_rec *r = &c.rec[at + i];
        r->hash = h[i].hash;
        r->bits = h[i].bits;
        r->time = h[i].time;
    }
    if (rc == 0) rc = ch_btc_chain_check_from_net((ch_btc_net)net, &c, at, err);
    if (rc != 0 && base) ch_err_prefix(err, "(heights counted from %u)", base);
    ch_blk_chain_free(&c);
    return rc;
}

/* A block parsed once, by check_all, and appended from that parse: its
 * transactions live in its own parser's arrays (a block's parse is about
 * 100 bytes a transaction plus 72 an input and 24 an output, some 1 MB
 * for a full mainnet block: less than the raw bytes held beside it). */
typedef struct raw_parsed {
    ch_btc_parser *p;
    ch_btc_block b;
} raw_parsed;

static void parsed_free(raw_parsed *pb, size_t n) {
    for (size_t i = 0; pb && i < n; i++)
        ch_btc_parser_free(pb[i].p);
    free(pb);
}

/* Every block parses (into pb[i]), links and (for a reorg) spends rightly;
 * the headers pass; a reorg carries more work. */
static int check_all(ch_store *s, int net, uint32_t fork_h, const btc_raw_block *v, size_t n,
                     raw_parsed *pb, ch_error *err) {
    ch_btc_header *h = malloc((n ? n : 1) * sizeof *h);
    uint32_t have = ch_store_next_height(s);
    btc_spends *sp = fork_h < have ? btc_spends_new(s, fork_h) : NULL;
    int rc = h && (sp || fork_h >= have) ? 0 : ch_err(err, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        ch_btc_block *b = &pb[i].b;
        uint32_t height = fork_h + (uint32_t)i;
        if (!(pb[i].p = ch_btc_parser_new())) {
            rc = ch_err(err, "out of memory");
            break;
        }
        if (ch_btc_parse_block(pb[i].p, v[i].p, v[i].len, b, err) != 0 ||
            ch_btc_check_witness_commitment(b, err) != 0 ||
            (sp && btc_spends_block(sp, b, err) != 0)) {
            rc = ch_err_prefix(err, "block at height %u", height);
            break;
        }
        h[i] = b->header;
        static const uint8_t zero[32];
        const uint8_t *want = i        ? h[i - 1].hash.b
                              : height ? ch_store_block(s, height - 1)->hash
                                       : zero;
        if (memcmp(b->header.prev.b, want, 32) != 0)
            rc = ch_err(err,
                        "block at height %u does not link to the block before it (the "
                        "node's chain moved while it was read)",
                        height);
    }
    if (rc == 0) rc = check_headers(s, net, fork_h, h, n, err);
    if (rc == 0 && fork_h < have) {
        uint32_t *stored = btc_stored_bits(s, fork_h);
        uint32_t *bits = malloc((n ? n : 1) * sizeof *bits);
        if (!stored || !bits) rc = ch_err(err, "out of memory");
        for (size_t i = 0; rc == 0 && i < n; i++)
            bits[i] = h[i].bits;
        if (rc == 0 && ch_btc_work_cmp(bits, n, stored, have - fork_h) <= 0)
            rc = ch_err(err,
                        "the node's branch from height %u carries no more work than the %u "
                        "blocks the store holds from there (not yet a reorg)",
                        fork_h, have - fork_h);
        free(stored);
        free(bits);
    }
    btc_spends_free(sp);
    free(h);
    return rc;
}

/* Raw blocks v[0..n), heights fork_h on, into the store: all checked first,
 * a reorg's cut made, each appended from its one parse, then committed unless
 * defer (the caller commits a batch later). The one path of both entry
 * points below. */
static int ingest_raw(ch_store *s, int net, uint32_t fork_h, const btc_raw_block *v, size_t n,
                      bool defer, ch_ingest_stats *st, ch_error *err) {
    if (fork_h > ch_store_next_height(s)) return ch_err(err, "internal: a gap before the blocks");
    if (n == 0) return 0;
    /* a pending batch (a deferred commit) is committed before a reorg's
     * checks read the store and its cut drops what is pending */
    if (fork_h < ch_store_next_height(s) && btc_commit_pending(s, err) != 0) return -1;
    raw_parsed *pb = calloc(n, sizeof *pb);
    if (!pb) return ch_err(err, "out of memory");
    if (check_all(s, net, fork_h, v, n, pb, err) != 0 || ch_store_set_network(s, net, err) != 0) {
        parsed_free(pb, n);
        return -1;
    }
    if (fork_h < ch_store_next_height(s)) {
        st->reorg_height = fork_h;
        if (ch_store_truncate(s, fork_h, err) != 0) {
            parsed_free(pb, n);
            return -1;
        }
    }
    st->start_height = fork_h;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (ch_ingest_btc_block(s, &pb[i].b, err) != 0) {
            rc = ch_err_prefix(err, "block at height %zu", fork_h + i);
            break;
        }
        st->blocks++;
        st->txs += pb[i].b.n_tx;
        st->bytes += v[i].len;
        ch_btc_parser_free(pb[i].p); /* appended: its parse is no longer needed */
        pb[i].p = NULL;
    }
    parsed_free(pb, n);
    if (rc == 0 && !defer) rc = ch_store_commit(s, err);
    if (rc != 0) ch_store_abort(s);
    uint32_t next = ch_store_next_height(s);
    st->tip_height = next ? next - 1 : UINT32_MAX;
    return rc;
}

int btc_ingest_raw(ch_store *s, int net, uint32_t fork_h, const btc_raw_block *v, size_t n,
                   ch_ingest_stats *st, ch_error *err) {
    return ingest_raw(s, net, fork_h, v, n, false, st, err);
}

int btc_ingest_raw_deferred(ch_store *s, int net, uint32_t fork_h, const btc_raw_block *v, size_t n,
                            ch_ingest_stats *st, ch_error *err) {
    return ingest_raw(s, net, fork_h, v, n, true, st, err);
}

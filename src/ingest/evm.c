/* EVM blocks -> the store: the EVM module's parse turned into the account
 * calls of store.h. */
#include "coinhound/ingest.h"

#include <stdlib.h>
#include <string.h>

#include "coinhound/evm.h"
#include "coinhound/progress.h"
#include "ingest/evm_ingest.h"
#include "util/vec.h"

static bool zero20(const ch_evm_addr *e) {
    static const uint8_t ZERO[20];
    return !memcmp(e->b, ZERO, 20);
}

static void evm_addr(const ch_evm_addr *e, ch_addr *a) {
    memset(a, 0, sizeof *a);
    a->kind = CH_ADDR_EVM;
    a->len = 20;
    memcpy(a->bytes, e->b, 20);
}

/* 256 -> 128 bits, saturating; *flags gets CH_XFER_SATURATED when cut. */
static void to128(const ch_u256 *v, uint64_t *lo, uint64_t *hi, uint8_t *flags) {
    if (v->w[2] || v->w[3]) {
        *lo = *hi = UINT64_MAX;
        *flags |= CH_XFER_SATURATED;
        return;
    }
    *lo = v->w[0];
    *hi = v->w[1];
}

typedef struct xfer_list {
    ch_evm_transfer *v;
    size_t n, cap;
} xfer_list;

static int collect(const ch_evm_transfer *t, void *ctx) {
    xfer_list *l = ctx;
    if (l->n == l->cap) { /* the check inline: once per transfer */
        ch_evm_transfer *v = ch_grow(l->v, &l->cap, l->n + 1, sizeof *v);
        if (!v) return -1;
        l->v = v;
    }
    l->v[l->n++] = *t;
    return 0;
}

static ch_xfer_kind kind_of(ch_evm_transfer_kind k) {
    switch (k) {
    case CH_EVM_XFER_NATIVE:
        return CH_XFER_NATIVE;
    case CH_EVM_XFER_INTERNAL:
        return CH_XFER_INTERNAL;
    case CH_EVM_XFER_ERC20:
        return CH_XFER_TOKEN;
    case CH_EVM_XFER_ERC721:
        return CH_XFER_NFT;
    case CH_EVM_XFER_WITHDRAWAL:
        return CH_XFER_WITHDRAWAL;
    case CH_EVM_XFER_REWARD:
        return CH_XFER_REWARD;
    }
    return CH_XFER_NATIVE;
}

static int add_one(ch_store *s, const ch_evm_block *b, const ch_evm_transfer *t, ch_error *err) {
    ch_addr asset, from, to;
    bool native = true;
    for (int i = 0; i < 20; i++)
        native &= t->asset.b[i] == 0;
    evm_addr(&t->asset, &asset);
    evm_addr(&t->from, &from);
    evm_addr(&t->to, &to);
    uint64_t lo, hi;
    uint8_t flags = 0;
    to128(&t->value, &lo, &hi, &flags);
    /* a zero-value token event whose sender is not the tx's sender: the
     * shape of a transferFrom-based address-poisoning attempt */
    if (t->kind == CH_EVM_XFER_ERC20 && ch_u256_is_zero(&t->value) && t->tx_index < b->n_tx &&
        memcmp(t->from.b, b->tx[t->tx_index].from.b, 20) != 0)
        flags |= CH_XFER_ZERO_SPOOF;
    bool from_none = t->kind == CH_EVM_XFER_WITHDRAWAL || t->kind == CH_EVM_XFER_REWARD;
    return ch_store_add_transfer(s, kind_of(t->kind), t->position, native ? NULL : &asset,
                                 from_none ? NULL : &from, &to, lo, hi, flags, err);
}

int ch_ingest_evm_block(ch_store *s, const ch_evm_block *b, ch_error *err) {
    if (ch_store_next_height(s) == 0 && ch_store_set_first_number(s, b->number, err) != 0)
        return -1;
    ch_block_meta m = {.hash = b->hash, .time = (uint32_t)b->timestamp};
    if (ch_store_begin_block(s, &m, err) != 0) return -1;
    xfer_list l = {0};
    if (ch_evm_block_transfers(b, collect, &l) != 0) {
        free(l.v);
        return ch_err(err, "block %llu: out of memory", (unsigned long long)b->number);
    }
    size_t k = 0;
    int rc = 0;
    for (size_t i = 0; i < b->n_tx && rc == 0; i++) {
        const ch_evm_tx *tx = &b->tx[i];
        char hex[65];
        /* a receipt says a tx ran and paid gas, but not who sent it: stored
         * alone it would be a payment from nobody (the zero address) */
        if (tx->partial && tx->has_receipt) {
            ch_hex_encode(tx->hash.b, 32, hex);
            rc = ch_err(err,
                        "receipt of tx 0x%s (index %u) without its transaction: give the block "
                        "with full transactions (eth_getBlockByNumber) or the transactions "
                        "export, or its trace, in the same ingest",
                        hex, tx->index);
            break;
        }
        ch_addr from, to, created;
        evm_addr(&tx->from, &from);
        evm_addr(&tx->to, &to);
        evm_addr(&tx->created, &created);
        /* a tx named only by its logs has no known sender or recipient */
        bool has_from = !tx->partial, has_to = !tx->partial && tx->has_to;
        bool made = !tx->partial && !tx->has_to && !zero20(&tx->created);
        rc = ch_store_add_account_tx(s, &tx->hash, has_from ? &from : NULL, has_to ? &to : NULL,
                                     made ? &created : NULL, tx->status, tx->type, err);
        /* a failed call moved nothing, but its recipient was named: a
         * zero-value record puts the attempt in the recipient's history */
        if (rc == 0 && tx->status == 0 && has_to)
            rc = ch_store_add_transfer(s, CH_XFER_NATIVE, 0, NULL, &from, &to, 0, 0,
                                       CH_XFER_FAILED_CALL, err);
        /* gas: the fee leaves the sender whether the tx succeeded or not */
        if (rc == 0 && tx->has_receipt && tx->gas_used) {
            ch_u256 fee;
            uint8_t flags = 0;
            uint64_t lo, hi;
            ch_u256_mul64(&fee, &tx->gas_price, tx->gas_used);
            to128(&fee, &lo, &hi, &flags);
            rc = ch_store_add_transfer(s, CH_XFER_FEE, 0, NULL, &from, NULL, lo, hi, flags, err);
        }
        for (; rc == 0 && k < l.n && l.v[k].tx_index == tx->index; k++)
            rc = add_one(s, b, &l.v[k], err);
        if (rc != 0) {
            ch_hex_encode(tx->hash.b, 32, hex);
            ch_err_prefix(err, "tx 0x%s", hex);
        }
    }
    /* what is left: withdrawals and rewards (a transfer of an unknown tx is
     * an error) */
    for (; rc == 0 && k < l.n; k++) {
        if (l.v[k].kind != CH_EVM_XFER_WITHDRAWAL && l.v[k].kind != CH_EVM_XFER_REWARD) {
            rc = ch_err(err, "a transfer names tx index %u, which the block does not have",
                        l.v[k].tx_index);
            break;
        }
        rc = add_one(s, b, &l.v[k], err);
    }
    free(l.v);
    if (rc != 0) return ch_err_prefix(err, "block %llu", (unsigned long long)b->number);
    return ch_store_end_block(s, err);
}

/* Where a block goes: 1 append, 0 skip (already stored), -1 error; a
 * different block at a stored height cuts the store back first. */
static int place_block(ch_store *s, const ch_evm_block *b, ch_ingest_stats *st, ch_error *err) {
    uint64_t first = ch_store_first_number(s), next = ch_store_next_height(s);
    if (next == 0) return 1;
    if (b->number < first)
        return ch_err(err, "block %llu is before the store's first block %llu",
                      (unsigned long long)b->number, (unsigned long long)first);
    uint64_t h = b->number - first;
    if (h < next) {
        if (memcmp(ch_store_block(s, (uint32_t)h)->hash, b->hash.b, 32) == 0) return 0;
        /* receipts, logs, traces or token transfers without the header
         * cannot join a stored block (the store is append-only), nor show
         * that the chain reorganised: replacing the block would lose it */
        if (!b->has_header)
            return ch_err(err,
                          "block %llu is in the store already: records of it without its header "
                          "(receipts, logs, traces, token transfers) cannot be added to it; "
                          "ingest them together with the block",
                          (unsigned long long)b->number);
        /* stats speak block numbers on account chains, as tip_height does */
        if (st->reorg_height == UINT32_MAX || b->number < st->reorg_height)
            st->reorg_height = (uint32_t)b->number;
        if (ch_store_commit(s, err) != 0 || ch_store_truncate(s, (uint32_t)h, err) != 0) return -1;
        next = h;
    }
    if (h > next)
        return ch_err(err,
                      "block %llu is missing: the store ends at %llu and the input jumps to %llu",
                      (unsigned long long)(first + next), (unsigned long long)(first + next - 1),
                      (unsigned long long)b->number);
    /* a block known without its header does not say its parent */
    if (h > 0 && b->has_header &&
        memcmp(ch_store_block(s, (uint32_t)h - 1)->hash, b->parent.b, 32) != 0)
        return ch_err(err,
                      "block %llu's parent is not the stored block %llu (a reorg deeper "
                      "than the input reaches)",
                      (unsigned long long)b->number, (unsigned long long)(b->number - 1));
    return 1;
}

void evm_sink_init(evm_sink *k, const ch_ingest_opts *opts, ch_ingest_stats *st) {
    ch_ingest_opts defaults = {.progress = -1};
    const ch_ingest_opts *o = opts ? opts : &defaults;
    memset(k, 0, sizeof *k);
    if (!st) st = &k->scratch;
    memset(st, 0, sizeof *st);
    st->reorg_height = UINT32_MAX;
    st->tip_height = UINT32_MAX;
    k->st = st;
    k->t0 = ch_now();
    k->commit_bytes = o->commit_bytes ? o->commit_bytes : (64u << 20);
    k->max_blocks = o->max_blocks;
    k->wait = o->wait;
    k->on_block = o->on_block;
    k->on_block_ctx = o->on_block_ctx;
    ch_progress_init(&k->prog, stderr, o->progress, 0, 0);
}

int evm_sink_open(evm_sink *k, const char *db_dir, const char *chain, ch_error *err) {
    if (ch_store_open(db_dir, chain, CH_STORE_WRITE | (k->wait ? CH_STORE_WAIT : 0), &k->s, err) !=
        0)
        return -1;
    if (!ch_store_is_account(k->s))
        return ch_err(err, "%s/%s holds a UTXO chain, not an account chain", db_dir, chain);
    return 0;
}

int evm_sink_put(evm_sink *k, const ch_evm_block *b, uint64_t bytes, ch_error *err) {
    ch_ingest_stats *st = k->st;
    int place = place_block(k->s, b, st, err);
    if (place < 0) return -1;
    if (place == 0) return 1;
    if (ch_ingest_evm_block(k->s, b, err) != 0) return -1;
    if (k->on_block && k->on_block(k->on_block_ctx, k->s, err) != 0)
        return ch_err_prefix(err, "block %llu", (unsigned long long)b->number);
    if (st->blocks == 0) st->start_height = (uint32_t)b->number;
    st->blocks++;
    st->txs += b->n_tx;
    if (ch_store_pending_bytes(k->s) >= k->commit_bytes && ch_store_commit(k->s, err) != 0)
        return -1;
    ch_progress_update(&k->prog, (uint32_t)b->number, st->txs, bytes);
    return k->max_blocks && st->blocks >= k->max_blocks ? 0 : 1;
}

int evm_sink_close(evm_sink *k, int rc, ch_error *err) {
    ch_progress_done(&k->prog);
    if (rc == 0 && k->s) rc = ch_store_commit(k->s, err);
    if (rc != 0 && k->s) ch_store_abort(k->s);
    if (k->s) {
        uint32_t next = ch_store_next_height(k->s);
        k->st->tip_height = next ? (uint32_t)(ch_store_first_number(k->s) + next - 1) : UINT32_MAX;
    }
    k->st->seconds = ch_now() - k->t0;
    ch_store_close(k->s);
    k->s = NULL;
    return rc;
}

int ch_ingest_evm(const char *path, const char *db_dir, const char *chain,
                  const ch_ingest_opts *opts, ch_ingest_stats *st, ch_error *err) {
    return ch_ingest_evm_paths(&path, 1, CH_EVM_FMT_AUTO, db_dir, chain, opts, st, err);
}

int ch_ingest_evm_paths(const char *const *paths, size_t n, int fmt, const char *db_dir,
                        const char *chain, const ch_ingest_opts *opts, ch_ingest_stats *st,
                        ch_error *err) {
    evm_sink k;
    evm_sink_init(&k, opts, st);
    ch_evm_reader *r = NULL;
    ch_evm_block b;
    ch_evm_block_init(&b);
    int rc = -1;
    if (ch_evm_reader_open_paths(paths, n, (ch_evm_format)fmt, &r, err) != 0) goto out;
    if (evm_sink_open(&k, db_dir, chain, err) != 0) goto out;
    for (;;) {
        int got = ch_evm_reader_next(r, &b, err);
        if (got < 0) goto out;
        if (got == 0) break;
        int more = evm_sink_put(&k, &b, 0, err);
        if (more < 0) goto out;
        if (more == 0) break;
    }
    rc = 0;
out:
    rc = evm_sink_close(&k, rc, err);
    ch_evm_reader_close(r);
    ch_evm_block_free(&b);
    return rc;
}

/* Account tracer: setup, sources and the sweep over transfers in order
 * (forward: a min-heap of each followed account's next transfer; backward:
 * its previous one). A popped transfer's whole tx is processed at once, so
 * that swaps inside it can be seen; entries for a tx already processed are
 * only rescheduled. */
#include <stdlib.h>
#include <string.h>

#include "coinhound/hash.h"
#include "trace/account_internal.h"
#include "util/vec.h"

void ch_atrace_opts_init(ch_atrace_opts *o) {
    memset(o, 0, sizeof *o);
    o->policy = CH_POLICY_HAIRCUT;
    o->direction = CH_TRACE_FORWARD;
}

/* The first transfer of block height h (or later), n_xfers past the end. */
static uint64_t block_first_xfer(const ch_atrace *t, uint64_t h, uint64_t n_blocks) {
    for (; h < n_blocks; h++) {
        const ch_block_rec *b = ch_store_block(t->s, (uint32_t)h);
        if (b->n_tx) return ch_store_tx(t->s, b->first_tx)->first_out;
    }
    return t->n_xfers;
}

void at_set_window(ch_atrace *t) {
    ch_store_counts c;
    ch_store_get_counts(t->s, &c);
    uint64_t first = ch_store_first_number(t->s), h_lo = 0, h_hi = c.blocks;
    if (t->o.first_block > first) h_lo = t->o.first_block - first;
    if (t->o.last_block && t->o.last_block + 1 - first < h_hi)
        h_hi = t->o.last_block < first ? 0 : t->o.last_block + 1 - first;
    if (t->o.since)
        while (h_lo < h_hi && ch_store_block(t->s, (uint32_t)h_lo)->time < t->o.since)
            h_lo++;
    if (t->o.until)
        while (h_hi > h_lo && ch_store_block(t->s, (uint32_t)(h_hi - 1))->time > t->o.until)
            h_hi--;
    /* an open end is the store's end (withdrawals before a block's first tx
     * would otherwise fall outside) */
    t->x_lo = h_lo == 0 ? 0 : block_first_xfer(t, h_lo, c.blocks);
    t->x_hi = h_hi >= c.blocks ? t->n_xfers : block_first_xfer(t, h_hi, c.blocks);
    if (h_lo >= h_hi) t->x_hi = t->x_lo;
}

int ch_atrace_new(ch_store *s, const ch_atrace_opts *o, ch_atrace **out, ch_error *err) {
    *out = NULL;
    if (!ch_store_is_account(s)) return ch_err(err, "not an account-chain store");
    if (o->policy == CH_POLICY_LIFO)
        return ch_err(err, "account tracing supports poison, haircut and fifo");
    ch_atrace *t = calloc(1, sizeof *t);
    if (!t) return ch_err(err, "out of memory");
    t->s = s;
    t->o = *o;
    t->n_xfers = ch_store_xfer_count(s);
    if (tr_stop_parse(o->stop_at ? o->stop_at : CH_TRACE_DEFAULT_STOP, &t->stop, &t->n_stop) != 0 ||
        tr_map_init(&t->src_tx, 16) != 0 || tr_map_init(&t->src_xfer, 16) != 0 ||
        tr_map_init(&t->pool_by, 1024) != 0 || tr_map_init(&t->acct_by, 1024) != 0 ||
        tr_map_init(&t->tot_by, 16) != 0 || tr_map_init(&t->land_by, 64) != 0 ||
        tr_map_init(&t->bdem_by, 64) != 0) {
        ch_atrace_free(t);
        return ch_err(err, "out of memory");
    }
    /* the zero address stands for "no one" in token mints and burns */
    ch_addr z = {.kind = CH_ADDR_EVM, .len = 20};
    uint64_t last;
    ch_addr_id id;
    if (ch_store_find_addr(s, &z, &id, &last, NULL) == 1) t->zero_addr = id;
    at_set_window(t);
    *out = t;
    return 0;
}

void ch_atrace_free(ch_atrace *t) {
    if (!t) return;
    tr_stop_free(t->stop, t->n_stop);
    for (size_t i = 0; i < t->n_pool; i++) {
        free(t->pool[i].q);
        free(t->pool[i].dx);
        free(t->pool[i].doff);
        free(t->pool[i].seg);
    }
    free(t->pool);
    for (size_t i = 0; i < t->n_acct; i++)
        free(t->acct[i].hist);
    free(t->acct);
    for (size_t i = 0; i < t->cap_sw; i++)
        free(t->sw[i].line.v);
    free(t->sw);
    free(t->df);
    free(t->carry.v);
    free(t->tmp.v);
    free(t->tmp2.v);
    free(t->stash.v);
    free(t->bdem);
    free(t->src_addr);
    free(t->src_list);
    free(t->heap);
    free(t->tot);
    free(t->land);
    free(t->land_pub);
    free(t->hold);
    tr_map_free(&t->src_tx);
    tr_map_free(&t->src_xfer);
    tr_map_free(&t->pool_by);
    tr_map_free(&t->acct_by);
    tr_map_free(&t->tot_by);
    tr_map_free(&t->land_by);
    tr_map_free(&t->bdem_by);
    free(t);
}

/* ---- sources ---- */

static int src_push(ch_atrace *t, uint64_t x, ch_error *err) {
    if (tr_grow((void **)&t->src_list, &t->cap_src_list, t->n_src_list + 1, sizeof *t->src_list) !=
        0)
        return ch_err(err, "out of memory");
    t->src_list[t->n_src_list++] = x;
    return 0;
}

int ch_atrace_add_address(ch_atrace *t, ch_addr_id addr, ch_error *err) {
    if (t->ran) return ch_err(err, "sources are added before the run");
    uint32_t a;
    if (at_acct_get(t, addr, &a, err) != 0) return -1;
    if (t->acct[a].source) return 0;
    t->acct[a].source = true;
    if (tr_grow((void **)&t->src_addr, &t->cap_src_addr, t->n_src_addr + 1, sizeof *t->src_addr) !=
        0)
        return ch_err(err, "out of memory");
    t->src_addr[t->n_src_addr++] = a;
    return 0;
}

int ch_atrace_add_xfer(ch_atrace *t, uint64_t x, ch_error *err) {
    if (t->ran) return ch_err(err, "sources are added before the run");
    if (x >= t->n_xfers)
        return ch_err(err, "transfer %llu is not in the store", (unsigned long long)x);
    if (tr_map_get(&t->src_xfer, x) != TR_NONE) return 0;
    if (tr_map_put(&t->src_xfer, x, 1) != 0) return ch_err(err, "out of memory");
    return src_push(t, x, err);
}

int ch_atrace_add_tx(ch_atrace *t, uint64_t tx, ch_error *err) {
    if (t->ran) return ch_err(err, "sources are added before the run");
    if (tr_map_get(&t->src_tx, tx) != TR_NONE) return 0;
    uint64_t f, n;
    ch_store_tx_xfers(t->s, tx, &f, &n);
    if (tr_map_put(&t->src_tx, tx, 1) != 0) return ch_err(err, "out of memory");
    return n ? src_push(t, f, err) : 0;
}

static bool all_hex(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i]) return false;
    return true;
}

int ch_atrace_add_from_string(ch_atrace *t, const char *from, ch_error *err) {
    size_t n = strlen(from);
    if (n < 2 || from[0] != '0' || (from[1] != 'x' && from[1] != 'X') || !all_hex(from + 2, n - 2))
        return ch_err(err, "'%s' is neither an 0x address nor an 0x tx hash", from), -1;
    if (n == 42) {
        ch_addr a = {.kind = CH_ADDR_EVM, .len = 20};
        ch_hex_decode(from + 2, 40, a.bytes, 20);
        ch_addr_id id;
        uint64_t last;
        int rc = ch_store_find_addr(t->s, &a, &id, &last, err);
        if (rc < 0) return -1;
        if (rc == 0) return ch_err(err, "address %s is not in the store", from), 0;
        return ch_atrace_add_address(t, id, err) == 0 ? 1 : -1;
    }
    if (n == 66) {
        ch_hash256 h;
        ch_hex_decode(from + 2, 64, h.b, 32); /* EVM hashes keep their written order */
        uint64_t tx;
        int rc = ch_store_find_tx(t->s, &h, &tx, err);
        if (rc < 0) return -1;
        if (rc == 0) return ch_err(err, "transaction %s is not in the store", from), 0;
        return ch_atrace_add_tx(t, tx, err) == 0 ? 1 : -1;
    }
    return ch_err(err, "'%s' is neither an 0x address (40 digits) nor a tx hash (64)", from), -1;
}

/* ---- swaps in one tx ---- */

static at_swap *swap_slot(ch_atrace *t, ch_addr_id addr) {
    for (size_t i = 0; i < t->n_sw; i++)
        if (t->sw[i].addr == addr) return &t->sw[i];
    if (t->n_sw == t->cap_sw) { /* keep each slot's line buffer across txs */
        size_t cap = t->cap_sw;
        at_swap *v = ch_grow(t->sw, &cap, t->n_sw + 1, sizeof *v);
        if (!v) return NULL;
        memset(v + t->cap_sw, 0, (cap - t->cap_sw) * sizeof *v);
        t->sw = v;
        t->cap_sw = cap;
    }
    at_swap *s = &t->sw[t->n_sw++];
    at_runs line = s->line;
    memset(s, 0, sizeof *s);
    s->line = line;
    s->line.n = 0;
    s->addr = addr;
    s->best_pool = TR_NONE;
    return s;
}

static bool has_asset(const at_swap *s, ch_addr_id asset) {
    for (size_t i = 0; i < s->n_assets; i++)
        if (s->assets[i] == asset) return true;
    return false;
}

int at_find_swaps(ch_atrace *t, uint64_t f, uint64_t n) {
    t->n_sw = 0;
    /* senders: followed accounts sending value (not gas) */
    for (uint64_t x = f; x < f + n; x++) {
        const ch_xfer_rec *r = ch_store_xfer(t->s, x);
        if (at_skip(r) || r->kind == CH_XFER_FEE || at_nobody(t, r->from) ||
            tr_map_get(&t->acct_by, r->from) == TR_NONE)
            continue;
        at_swap *s = swap_slot(t, r->from);
        if (!s) return -1;
        if (!has_asset(s, r->asset) && s->n_assets < 8) s->assets[s->n_assets++] = r->asset;
    }
    if (!t->n_sw) return 0;
    for (uint64_t x = f; x < f + n; x++) {
        const ch_xfer_rec *r = ch_store_xfer(t->s, x);
        if (at_skip(r) || r->from == r->to) continue;
        for (size_t i = 0; i < t->n_sw; i++)
            if (t->sw[i].addr == r->to && !has_asset(&t->sw[i], r->asset)) t->sw[i].receives = true;
    }
    /* keep the swap accounts only */
    size_t k = 0;
    for (size_t i = 0; i < t->n_sw; i++)
        if (t->sw[i].receives) {
            at_swap tmp = t->sw[k];
            t->sw[k++] = t->sw[i];
            t->sw[i] = tmp;
        }
    t->n_sw = k;
    return 0;
}

int at_swap_of(const ch_atrace *t, ch_addr_id addr, ch_addr_id asset, bool send) {
    for (size_t i = 0; i < t->n_sw; i++)
        if (t->sw[i].addr == addr) return has_asset(&t->sw[i], asset) == send ? (int)i : -1;
    return -1;
}

/* ---- the sweep ---- */

int at_sweep(ch_atrace *t, ch_error *err) {
    bool fwd = t->o.direction == CH_TRACE_FORWARD;
    while (t->n_heap) {
        at_hent h = at_heap_pop(t);
        uint64_t x = fwd ? h.key : ~h.key;
        bool stale = t->any_done && (fwd ? x <= t->done : x >= t->done);
        if (!stale) {
            const ch_xfer_rec *r = ch_store_xfer(t->s, x);
            uint64_t f = x, n = 1;
            if (r->tx != CH_NO_TX) ch_store_tx_xfers(t->s, r->tx, &f, &n);
            if (n == 0) f = x, n = 1; /* cannot happen: x is in its tx */
            int rc = fwd ? at_forward_tx(t, f, n, err) : at_backward_tx(t, f, n, err);
            if (rc != 0) return -1;
            t->st.txs++;
            t->done = fwd ? f + n - 1 : f;
            t->any_done = true;
        }
        if (h.acct != TR_NONE && at_schedule(t, h.acct) != 0) return ch_err(err, "out of memory");
    }
    return 0;
}

int ch_atrace_run(ch_atrace *t, ch_error *err) {
    if (t->ran) return ch_err(err, "the trace has run");
    t->ran = true;
    bool fwd = t->o.direction == CH_TRACE_FORWARD;
    for (size_t i = 0; i < t->n_src_addr; i++)
        if (at_schedule(t, t->src_addr[i]) != 0) return ch_err(err, "out of memory");
    for (size_t i = 0; i < t->n_src_list; i++) {
        uint64_t x = t->src_list[i];
        if (x < t->x_lo || x >= t->x_hi) continue;
        if (!fwd) { /* backward starts from the tx's last transfer */
            const ch_xfer_rec *r = ch_store_xfer(t->s, x);
            if (r->tx != CH_NO_TX && tr_map_get(&t->src_tx, r->tx) != TR_NONE) {
                uint64_t f, n;
                ch_store_tx_xfers(t->s, r->tx, &f, &n);
                x = f + n - 1;
            }
        }
        if (at_heap_push(t, fwd ? x : ~x, TR_NONE) != 0) return ch_err(err, "out of memory");
    }
    if (at_sweep(t, err) != 0) return -1;
    return at_collect(t, err);
}

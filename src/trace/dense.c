/* The dense form of the forward sweep, for haircut and poison (see tr_dense
 * in trace_internal.h for why it keeps no entries).
 *
 * The walk is the sweep's: txs in tx-number order, each shared out once
 * with every coin that will ever reach it, in the same order and with the
 * same arithmetic as the heap, so totals, landings, holdings, flows and
 * paths come out the same to the unit (tests/test_trace_sweep.c holds the
 * three walks to that). What changes is what is written down. Per tx of the
 * range: the taint waiting and the fewest hops (sw_acc), and once shared
 * out, done or cut (state). Per output: nothing. An output's amount is what
 * its tx's share-out gives it, which can be worked out again from the tx's
 * taint and the store's values (tr_forward_shares) when a flow or a path asks;
 * whether it landed, from the labels. Landed and held outputs are listed as
 * they are found, for the results to sum per address. So the walk writes
 * no stream as long as the outputs, and reads the inputs of no tx: their
 * values are in txvin.col. */
#include <stdlib.h>
#include <string.h>

#include "trace/trace_internal.h"
#include "util/vec.h"

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void tr_dense_free(ch_trace *t) {
    tr_dense *d = &t->dn;
    tr_big_free(d->state);
    free(d->src);
    free(d->land_v);
    if (d->hold_big)
        tr_big_free(d->hold_v);
    else
        free(d->hold_v);
    memset(d, 0, sizeof *d);
    t->dense = false;
}

int tr_dense_begin(ch_trace *t) {
    tr_dense *d = &t->dn;
    uint64_t n_tx = t->n_txs - t->sw_base;
    d->base_out = t->txs[t->sw_base].first_out;
    /* a fresh mapping: only the part the trace reaches costs memory */
    d->state = tr_big_alloc(n_tx, 1);
    size_t n_src = 0;
    for (size_t i = 0; i < t->n_e; i++)
        n_src += t->e[i].source && t->e[i].out >= d->base_out;
    d->src = malloc((n_src ? n_src : 1) * sizeof *d->src);
    /* the held outputs, at most one per output of the range or entry (no
     * entry is made once the sweep is dense): reserved to that bound, so
     * the list never moves and its pages come in huge ones as it fills */
    size_t bound = (size_t)(t->n_outs - d->base_out) + t->n_e + 1;
    d->hold_v = tr_big_alloc(bound, sizeof *d->hold_v);
    d->cap_hold = bound;
    d->hold_big = true;
    if (!d->state || !d->src || !d->hold_v) {
        tr_dense_free(t);
        return 1;
    }
    for (size_t i = 0; i < t->n_e; i++)
        if (t->e[i].source && t->e[i].out >= d->base_out) d->src[d->n_src++] = t->e[i].out;
    if (d->n_src > 1) qsort(d->src, d->n_src, sizeof *d->src, cmp_u64);
    t->dense = true;
    return 0;
}

/* Is o a source (reached again, its taint is "returned", not placed)? */
static bool is_source(const tr_dense *d, uint64_t o) {
    return d->n_src && bsearch(&o, d->src, d->n_src, sizeof *d->src, cmp_u64);
}

/* Out of line: the walk's loop stays small. */
static __attribute__((noinline)) int grow_held(tr_dense *d) {
    if (d->hold_big) return -1; /* cannot happen: reserved to its bound */
    return tr_grow((void **)&d->hold_v, &d->cap_hold, d->n_hold + 1, sizeof *d->hold_v);
}

/* A coin of `amount` at output o, `hops` from a source (place() and
 * route() of trace.c, without the entry). */
static inline __attribute__((always_inline)) int dense_place(ch_trace *t, uint64_t o,
                                                             uint64_t amount, uint32_t hops) {
    tr_dense *d = &t->dn;
    if (amount == 0) return 0;
    if (amount < t->min_units) {
        t->tot.below_min += amount;
        return 0;
    }
    /* outputs come in increasing order: the sources ahead are a cursor */
    while (d->src_at < d->n_src && d->src[d->src_at] < o)
        d->src_at++;
    if (d->src_at < d->n_src && d->src[d->src_at] == o) {
        t->tot.returned += amount; /* a source reached again: counted in full already */
        return 0;
    }
    t->tot.outputs++;
    ch_addr_id addr = ch_out_addr(&t->outs[o]);
    if (t->o.labels && t->n_stop && tr_at_service(t, o)) {
        t->tot.landed += amount;
        if (tr_grow((void **)&d->land_v, &d->cap_land, d->n_land + 1, sizeof *d->land_v) != 0)
            return -1;
        d->land_v[d->n_land++] = (tr_landed){addr, hops, o, amount};
        return 0;
    }
    int64_t sp = tr_out_spender(t, o);
    if (sp < 0) {
        t->tot.held += amount;
        if (d->n_hold == d->cap_hold && grow_held(d) != 0) return -1;
        d->hold_v[d->n_hold++] = (tr_held){addr, amount};
        return 0;
    }
    /* wait for the spender (its parent, the coin that brings the fewest
     * hops, is found again when a path asks: dense_parent) */
    uint64_t k = (uint64_t)sp - t->sw_base;
    uint64_t *w = &t->sw_bits[k >> 6], bit = 1ULL << (k & 63);
    tr_acc *a = &t->sw_acc[k];
    if (!(*w & bit)) {
        *w |= bit;
        a->taint = amount;
        a->hops = hops;
    } else {
        a->taint += amount;
        if (hops < a->hops) a->hops = hops;
    }
    return 0;
}

/* Share out the tx at k of the range (forward_share of trace.c). */
static int dense_tx(ch_trace *t, uint64_t k) {
    const tr_acc *a = &t->sw_acc[k];
    uint64_t tx = t->sw_base + k;
    uint64_t taint = a->taint;
    uint8_t st = (t->o.max_hops || t->o.since || t->o.until) ? tr_cut_state(t, tx, a->hops) : 0;
    t->dn.state[k] = st ? st : ST_DONE;
    if (st) {
        t->sw_cuts++;
        if (st == ST_CUT_HOPS)
            t->tot.cut_hops += taint;
        else
            t->tot.cut_window += taint;
        return 0;
    }
    if (!tr_outs_sound(t, tx)) return 0; /* (the sweep reads no inputs: txvin) */
    uint64_t fo, no, fi = TR_FIRST_IN(&t->txs[tx]);
    tr_tx_outs(t, tx, &fo, &no);
    t->tot.txs++;
    t->tot.edge_visits += (tx + 1 < t->n_txs ? TR_FIRST_IN(&t->txs[tx + 1]) : t->n_ins) - fi + no;
    if (no + 1 > t->cap_sc && tr_grow_scratch(t, no + 1) != 0) return -1;
    uint64_t *share = t->sc_share;
    uint64_t vin = tr_forward_shares(t, tx, taint, fo, no, t->sc_val, share);
    if (t->o.policy == CH_POLICY_POISON)
        t->tot.clean_in += (ch_taint_sum)vin * CH_TAINT_ONE - taint;
    uint32_t hops = a->hops + 1;
    for (uint64_t j = 0; j < no; j++)
        if (dense_place(t, fo + j, share[j], hops) != 0) return -1;
    t->tot.fees += share[no];
    return 0;
}

/* Memory, not arithmetic, is what the sweep waits for: reading the txs in
 * order streams, but each output sends its coin to its spender's
 * accumulator, at random. The txs ahead with taint waiting are known
 * (their bits are set), so those accumulators are fetched AHEAD txs early. */
#define DENSE_AHEAD 16

static void prefetch_spenders(const ch_trace *t, uint64_t k) {
    uint64_t fo, no;
    tr_tx_outs(t, t->sw_base + k, &fo, &no);
    for (uint64_t j = 0; j < no; j++) {
        const ch_out_rec *r = &t->outs[fo + j];
        if (ch_out_spent(r) > t->sw_base && ch_out_spent(r) <= t->n_txs) {
            uint64_t q = ch_out_spent(r) - 1 - t->sw_base;
            __builtin_prefetch(&t->sw_acc[q], 1);
            __builtin_prefetch(&t->sw_bits[q >> 6], 1);
        }
    }
}

int tr_dense_run(ch_trace *t) {
    uint64_t n = t->n_txs - t->sw_base, ahead = 0;
    for (uint64_t k = tr_sweep_next(t, 0, n); k < n; k = tr_sweep_next(t, k + 1, n)) {
        /* sharing a tx out sets bits of later txs only */
        t->sw_bits[k >> 6] &= ~(1ULL << (k & 63));
        if (ahead < k + 1) ahead = k + 1;
        uint64_t end = k + DENSE_AHEAD < n ? k + DENSE_AHEAD : n;
        for (ahead = tr_sweep_next(t, ahead, end); ahead < end;
             ahead = tr_sweep_next(t, ahead + 1, end))
            prefetch_spenders(t, ahead);
        if (dense_tx(t, k) != 0) return -1;
    }
    /* the entries that waited (placed by the heap): done, or cut with their tx */
    for (size_t i = 0; i < t->n_e; i++) {
        tr_entry *e = &t->e[i];
        if (e->state != ST_PENDING) continue;
        e->state = t->dn.state[(uint64_t)tr_out_spender(t, e->out) - t->sw_base];
    }
    return 0;
}

/* ---- results: the outputs' amounts worked out again ---- */

/* Scratch for dense_amounts: the results side keeps the trace const. */
typedef struct amounts {
    uint64_t *val, *share;
    size_t cap;
} amounts;

/* The amounts the walk placed on the outputs of tx (at k of the range,
 * shared out): share[j], 0 where nothing was placed (nothing given,
 * dropped below the minimum, or a source reached again). */
static int dense_amounts(const ch_trace *t, uint64_t k, uint64_t fo, uint64_t no, amounts *m) {
    if (no + 1 > m->cap) {
        void **cols[] = {(void **)&m->val, (void **)&m->share};
        const size_t sz[] = {sizeof *m->val, sizeof *m->share};
        if (ch_grow_cols(cols, sz, 2, &m->cap, (size_t)no + 1) != 0) return -1;
    }
    tr_forward_shares(t, t->sw_base + k, t->sw_acc[k].taint, fo, no, m->val, m->share);
    for (uint64_t j = 0; j < no; j++)
        if (m->share[j] < t->min_units || is_source(&t->dn, fo + j)) m->share[j] = 0;
    return 0;
}

int tr_dense_foreach(const ch_trace *t, ch_trace_flow_fn fn, void *ctx) {
    if (!t->dense) return 0;
    const tr_dense *d = &t->dn;
    uint64_t n = t->n_txs - t->sw_base;
    amounts m = {0};
    int rc = 0;
    for (uint64_t k = 0; k < n && !rc; k++) {
        if (d->state[k] != ST_DONE) continue; /* only txs shared out made coins */
        uint64_t tx = t->sw_base + k, fo, no;
        tr_tx_outs(t, tx, &fo, &no);
        if (dense_amounts(t, k, fo, no, &m) != 0) {
            rc = -1;
            break;
        }
        for (uint64_t j = 0; j < no && !rc; j++) {
            if (!m.share[j]) continue;
            uint64_t o = fo + j;
            ch_trace_flow f = {.out = o,
                               .addr = ch_out_addr(&t->outs[o]),
                               .from_tx = (int64_t)tx,
                               .to_tx = -1,
                               .amount = m.share[j],
                               .hops = t->sw_acc[k].hops + 1,
                               .landing = tr_at_service(t, o)};
            int64_t sp = tr_out_spender(t, o);
            if (!f.landing && sp >= 0 && d->state[(uint64_t)sp - t->sw_base] == ST_DONE)
                f.to_tx = sp;
            rc = fn(&f, ctx);
        }
    }
    free(m.val);
    free(m.share);
    return rc;
}

/* The amount the walk placed on output o, created by tx c (0: none). */
static uint64_t dense_amount_of(const ch_trace *t, uint64_t c, uint64_t o, amounts *m) {
    if (c < t->sw_base || t->dn.state[c - t->sw_base] != ST_DONE) return 0;
    uint64_t fo, no;
    tr_tx_outs(t, c, &fo, &no);
    if (dense_amounts(t, c - t->sw_base, fo, no, m) != 0) return 0;
    return m->share[o - fo];
}

/* The coin that brought tx c (shared out by the dense sweep) its fewest
 * hops: of its inputs that carried taint, the fewest hops, then the first
 * to arrive (entries, in entry order, came before any dense output, and
 * dense outputs came in output order). The walk keeps only the hops; the
 * parent is found again here, for the few paths asked for. Returns its
 * creator tx, and its entry in *entry (TR_NONE for a dense output). */
static uint64_t dense_parent(const ch_trace *t, uint64_t c, uint32_t *entry, amounts *m) {
    uint64_t fi, ni, best_out = UINT64_MAX;
    uint32_t best_hops = UINT32_MAX, best_entry = TR_NONE;
    uint64_t best_tx = 0;
    tr_tx_ins(t, c, &fi, &ni);
    for (uint64_t i = 0; i < ni; i++) {
        const ch_in_rec *r = &t->ins[fi + i];
        if (ch_in_spent_tx(r) >= c) continue; /* a coinbase's (or a damaged store's) */
        uint64_t o = t->txs[ch_in_spent_tx(r)].first_out + ch_in_vout(r);
        if (o >= t->txs[ch_in_spent_tx(r) + 1].first_out) continue; /* damaged */
        uint32_t ei = tr_map_get(&t->by_out, o), h;
        if (ei != TR_NONE) {
            if (t->e[ei].state == ST_LANDING) continue;
            h = t->e[ei].hops;
            if (h > best_hops || (h == best_hops && best_entry != TR_NONE && ei > best_entry))
                continue;
        } else if (dense_amount_of(t, ch_in_spent_tx(r), o, m) && !tr_at_service(t, o)) {
            h = t->sw_acc[ch_in_spent_tx(r) - t->sw_base].hops + 1;
            if (h > best_hops || (h == best_hops && (best_entry != TR_NONE || o > best_out)))
                continue;
        } else {
            continue;
        }
        best_hops = h;
        best_entry = ei;
        best_out = o;
        best_tx = ch_in_spent_tx(r);
    }
    *entry = best_entry;
    return best_tx;
}

size_t tr_dense_path(const ch_trace *t, uint64_t o, uint64_t *path, size_t max) {
    if (!t->dense || o >= t->n_outs || o < t->dn.base_out) return 0;
    amounts m = {0};
    uint64_t c = tr_out_tx(t, o);
    size_t n = 0;
    if (dense_amount_of(t, c, o, &m)) {
        n = (size_t)t->sw_acc[c - t->sw_base].hops + 2;
        /* back through dense coins by their creators, then through entries */
        for (size_t i = n; i > 0;) {
            i--;
            if (i < max) path[i] = c;
            if (i == 0) break;
            uint32_t e;
            c = dense_parent(t, c, &e, &m);
            if (e != TR_NONE) {
                for (; e != TR_NONE && i > 0; e = t->e[e].parent) {
                    i--;
                    if (i < max) path[i] = tr_e_tx(&t->e[e]);
                }
                break;
            }
        }
    }
    free(m.val);
    free(m.share);
    return n;
}

/* Account tracer, backward: transfers undone from the latest, one tx at a
 * time. A pool's state is its balance after the transfer being undone and
 * the demand M attached to its content (what later debits asked it to
 * explain). Undoing a debit adds that debit's demand to M; undoing a credit
 * hands the credit its share of M, which becomes a demand on the same
 * transfer seen as the sender's debit:
 *   haircut  share = M * credit / balance (every unit of a haircut pool is
 *            the same mixture, so the demand is spread evenly over it);
 *   fifo     the demand of each debit goes to the credits it consumed (each
 *            in proportion to its part of the debit), found by replaying the
 *            pool's queue once when the pool is first reached;
 *   poison   once demanded, every earlier credit is demanded in full.
 * Swap debits wait for the end of the tx, when the demand on the account's
 * swap credits is known. */
#include <stdlib.h>
#include <string.h>

#include "trace/account_internal.h"

#define OOM(err) ch_err(err, "out of memory")

static int bdem_add(ch_atrace *t, uint64_t credit, u128 a) {
    uint32_t k = tr_map_get(&t->bdem_by, credit);
    if (k == TR_NONE) {
        if (tr_grow((void **)&t->bdem, &t->cap_bdem, t->n_bdem + 1, sizeof *t->bdem) != 0 ||
            tr_map_put(&t->bdem_by, credit, (uint32_t)t->n_bdem) != 0)
            return -1;
        k = (uint32_t)t->n_bdem++;
        t->bdem[k] = 0;
    }
    t->bdem[k] += a;
    return 0;
}

/* Undo the credit of x to pool q: the share of its demand the credit
 * explains. */
static u128 undo_credit(ch_atrace *t, at_pool *p, uint64_t x, u128 v) {
    u128 a = 0;
    switch (t->o.policy) {
    case CH_POLICY_POISON:
        a = p->poisoned ? v : 0;
        break;
    case CH_POLICY_FIFO: {
        uint32_t k = tr_map_get(&t->bdem_by, x);
        if (k != TR_NONE) {
            a = t->bdem[k];
            t->bdem[k] = 0;
        }
        break;
    }
    default:
        a = v >= p->bal ? p->taint : at_muldiv(p->taint, v, p->bal);
        break;
    }
    if (t->o.policy != CH_POLICY_POISON) p->taint -= a < p->taint ? a : p->taint;
    p->bal -= v < p->bal ? v : p->bal;
    return a;
}

/* Undo debit x (value v, demand a) of pool p. */
static int undo_debit(ch_atrace *t, at_pool *p, uint64_t x, u128 v, u128 a, ch_error *err) {
    p->bal = p->bal > U128_MAX - v ? U128_MAX : p->bal + v;
    if (t->o.policy == CH_POLICY_POISON) {
        if (a) p->poisoned = 1;
        return 0;
    }
    if (t->o.policy == CH_POLICY_HAIRCUT) {
        p->taint += a;
        return 0;
    }
    if (!a) return 0;
    /* fifo: the credits this debit consumed, found by binary search */
    size_t lo = 0, hi = p->n_dx;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->dx[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    ch_atrace_asset *A = at_tot(t, p->asset);
    if (lo == p->n_dx || p->dx[lo] != x) { /* not in the log: cannot be explained */
        A->unknown += a;
        return 0;
    }
    u128 cum = 0, prev = 0;
    for (size_t i = p->doff[lo]; i < p->doff[lo + 1]; i++) {
        cum += p->seg[i].len;
        u128 c = at_muldiv(cum, a, v), share = c - prev;
        prev = c;
        if (!share) continue;
        if (p->seg[i].credit == AT_NONE)
            A->unknown += share;
        else if (bdem_add(t, p->seg[i].credit, share) != 0)
            return OOM(err);
        p->taint += share;
    }
    if (a > prev) A->unknown += a - prev; /* the debit was larger than the log says */
    return 0;
}

/* The debit side of x: demand a reaching sender r->from from pool `child`. */
static int bwd_debit(ch_atrace *t, uint64_t x, const ch_xfer_rec *r, u128 a, uint32_t hops,
                     uint32_t child, bool swap, ch_error *err) {
    ch_atrace_asset *A = at_tot(t, r->asset);
    if (!A) return OOM(err);
    if (at_nobody(t, r->from) || r->kind == CH_XFER_REWARD || r->kind == CH_XFER_WITHDRAWAL) {
        A->minted += a;
        return 0;
    }
    if (a) {
        ch_label l;
        if (at_is_stop(t, r->from, &l))
            return at_landing(t, r->from, r->asset, a, hops, x, child, swap) ? OOM(err) : 0;
        bool cut = t->o.max_hops && hops > t->o.max_hops;
        if (cut || a < t->o.min_amount) {
            if (cut)
                A->cut_hops += a;
            else
                A->below_min += a;
            a = 0;
        }
    }
    uint32_t q = at_pool_find(t, r->from, r->asset);
    if (q == TR_NONE) {
        if (!a) return 0;
        if (at_pool_new(t, r->from, r->asset, x, &q, err) != 0) return -1;
    }
    if (undo_debit(t, &t->pool[q], x, xval(r), a, err) != 0) return -1;
    if (a) at_pool_reach(&t->pool[q], hops, x, child, swap);
    return 0;
}

/* The credit side of x: the demand on it, sources included. hops and child
 * tell where it came from. */
static int bwd_credit(ch_atrace *t, uint64_t x, const ch_xfer_rec *r, u128 *a, uint32_t *hops,
                      uint32_t *child) {
    u128 v = xval(r);
    *a = 0;
    *hops = 0;
    *child = TR_NONE;
    uint32_t q = at_nobody(t, r->to) ? TR_NONE : at_pool_find(t, r->to, r->asset);
    if (q != TR_NONE) {
        *a = undo_credit(t, &t->pool[q], x, v);
        *hops = t->pool[q].hops + 1;
        *child = q;
    }
    if (r->kind != CH_XFER_FEE && (at_is_source_tx(t, r, x) || at_is_source_addr(t, r->to))) {
        ch_atrace_asset *A = at_tot(t, r->asset);
        if (!A) return -1;
        A->source += v - (*a < v ? *a : v);
        *a = v;
        *hops = 0;
        *child = TR_NONE;
    }
    return 0;
}

static int bwd_move(ch_atrace *t, uint64_t x, const ch_xfer_rec *r, ch_error *err) {
    u128 a;
    uint32_t hops, child;
    if (bwd_credit(t, x, r, &a, &hops, &child) != 0) return OOM(err);
    int sw = at_swap_of(t, r->to, r->asset, false);
    if (sw >= 0) { /* what the account got in the swap is explained by what it sent */
        at_swap *s = &t->sw[sw];
        s->v_in += xval(r);
        s->d_in += a;
        if (a && child != TR_NONE &&
            (s->best_pool == TR_NONE || t->pool[child].hops < t->pool[s->best_pool].hops))
            s->best_pool = child;
        at_tot(t, r->asset)->swapped_out += a;
        a = 0;
    }
    return bwd_debit(t, x, r, a, hops, child, false, err);
}

/* Phase 2: the swap debits of one account, latest first, take the demand of
 * its swap credits in proportion to value. */
static int bwd_swap_debits(ch_atrace *t, ch_error *err) {
    for (size_t i = 0; i < t->n_sw; i++) {
        at_swap *s = &t->sw[i];
        u128 cum = 0, prev = 0;
        for (size_t k = 0; k < t->n_df; k++) { /* df is latest first */
            at_defer *d = &t->df[k];
            if (d->sw != i) continue;
            const ch_xfer_rec *r = ch_store_xfer(t->s, d->x);
            u128 v = xval(r), a, conv = 0;
            uint32_t hops, child;
            if (bwd_credit(t, d->x, r, &a, &hops, &child) != 0) return OOM(err);
            cum += v;
            if (t->o.policy == CH_POLICY_POISON) {
                conv = s->d_in ? v : 0;
            } else if (s->v_in) {
                /* demand fraction d_in / v_in of the credits, on the debits */
                u128 din = s->d_in < s->v_in ? s->d_in : s->v_in;
                u128 c = at_muldiv(cum, din, s->v_in);
                conv = c - prev;
                prev = c;
            }
            u128 total = a + conv > v ? v : a + conv;
            ch_atrace_asset *A = at_tot(t, r->asset);
            if (!A) return OOM(err);
            A->swapped_in += total - a;
            bool swap = false;
            if (total > a && s->best_pool != TR_NONE &&
                (!a || t->pool[s->best_pool].hops + 1 < hops)) {
                child = s->best_pool;
                hops = t->pool[child].hops + 1;
                swap = true;
                t->st.swaps++;
            }
            if (bwd_debit(t, d->x, r, total, hops, child, swap, err) != 0) return -1;
        }
    }
    return 0;
}

int at_backward_tx(ch_atrace *t, uint64_t f, uint64_t n, ch_error *err) {
    t->n_df = 0;
    if (n > 1 && at_find_swaps(t, f, n) != 0) return OOM(err);
    for (uint64_t x = f + n; x-- > f;) {
        const ch_xfer_rec *r = ch_store_xfer(t->s, x);
        t->st.edge_visits++;
        t->st.xfers++;
        if (at_skip(r)) continue;
        int sw;
        if (r->kind != CH_XFER_FEE && (sw = at_swap_of(t, r->from, r->asset, true)) >= 0) {
            if (tr_grow((void **)&t->df, &t->cap_df, t->n_df + 1, sizeof *t->df) != 0)
                return OOM(err);
            t->df[t->n_df++] = (at_defer){.x = x, .sw = (uint32_t)sw};
            continue;
        }
        if (bwd_move(t, x, r, err) != 0) return -1;
    }
    if (t->n_df && bwd_swap_debits(t, err) != 0) return -1;
    t->n_sw = 0;
    return 0;
}

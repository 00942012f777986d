/* Account tracer, forward: one tx at a time, its transfers in order. A
 * transfer is a debit of the sender's pool (what taint it carries is the
 * policy's answer) and a credit of the recipient's pool. Swap credits wait
 * for the end of the tx, when the taint of the swap debits is known. */
#include <stdlib.h>
#include <string.h>

#include "trace/account_internal.h"

#define OOM(err) ch_err(err, "out of memory")

/* Take v out of pool p; *carried gets its taint, fifo runs go to t->carry. */
static int debit(ch_atrace *t, at_pool *p, u128 v, u128 *carried, ch_error *err) {
    u128 take = v < p->bal ? v : p->bal;
    switch (t->o.policy) {
    case CH_POLICY_POISON:
        *carried = p->poisoned ? v : 0;
        /* value missing from the pool comes out poisoned too: clean in */
        if (p->poisoned && v > take) at_tot(t, p->asset)->clean_in += v - take;
        p->bal -= take;
        p->taint = p->poisoned ? p->bal : 0;
        return 0;
    case CH_POLICY_FIFO:
        /* the value missing from the pool is older than anything in it */
        if (at_runs_push(&t->carry, v - take, false) != 0 || at_q_take(p, take, &t->carry) != 0)
            return OOM(err);
        *carried = at_runs_tainted(&t->carry);
        break;
    default: /* haircut */
        *carried = take == p->bal ? p->taint : at_muldiv(take, p->taint, p->bal);
        break;
    }
    p->bal -= take;
    p->taint -= *carried;
    return 0;
}

static int credit(ch_atrace *t, at_pool *p, u128 v, u128 carried, ch_error *err) {
    u128 nb = p->bal > U128_MAX - v ? U128_MAX : p->bal + v;
    switch (t->o.policy) {
    case CH_POLICY_POISON:
        if (carried && !p->poisoned) {
            p->poisoned = 1;
            at_tot(t, p->asset)->clean_in += p->bal; /* what was there becomes tainted */
        }
        if (p->poisoned) at_tot(t, p->asset)->clean_in += v - carried;
        p->bal = nb;
        p->taint = p->poisoned ? p->bal : 0;
        return 0;
    case CH_POLICY_FIFO:
        for (size_t i = 0; i < t->carry.n; i++)
            if (at_q_push(p, t->carry.v[i].len, t->carry.v[i].taint != 0) != 0) return OOM(err);
        break;
    default:
        break;
    }
    p->bal = nb;
    p->taint += carried;
    return 0;
}

/* t->carry as one run of v (tainted or not), for fifo. */
static int carry_whole(ch_atrace *t, u128 v, bool taint) {
    t->carry.n = 0;
    return at_runs_push(&t->carry, v, taint);
}

/* Tell the caller's hook about a credit that carried taint. */
static int report(ch_atrace *t, uint64_t x, const ch_xfer_rec *r, u128 carried, uint32_t hops,
                  uint32_t parent, bool swap, const ch_label *landing, bool burned, ch_error *err) {
    if (!t->o.on_move || !carried) return 0;
    ch_atrace_move m = {.xfer = x,
                        .from = r->from,
                        .to = r->to,
                        .asset = r->asset,
                        .value = xval(r),
                        .amount = carried,
                        .hops = hops,
                        .landing = landing != NULL,
                        .burned = burned,
                        .swap = swap,
                        .source = parent == TR_NONE,
                        .parent = parent};
    if (landing) m.label = *landing;
    if (t->o.on_move(t, &m, t->o.move_ctx) != 0)
        return ch_err(err, "the trace was stopped by its move hook");
    return 0;
}

/* The credit side of transfer x: carried taint (fifo: t->carry) reaching
 * r->to at `hops` from pool `parent`. */
static int fwd_credit(ch_atrace *t, uint64_t x, const ch_xfer_rec *r, u128 carried, uint32_t hops,
                      uint32_t parent, bool swap, ch_error *err) {
    u128 v = xval(r);
    bool fifo = t->o.policy == CH_POLICY_FIFO;
    ch_atrace_asset *A = at_tot(t, r->asset);
    if (!A) return OOM(err);
    if (r->kind == CH_XFER_FEE) {
        A->fees += carried;
        return 0;
    }
    if (at_nobody(t, r->to)) {
        A->burned += carried;
        return report(t, x, r, carried, hops, parent, swap, NULL, true, err);
    }
    bool src = at_is_source_addr(t, r->to);
    if (src) { /* everything the source address receives is tainted */
        A->source += v - carried;
        carried = v;
        if (fifo && carry_whole(t, v, true) != 0) return OOM(err);
        hops = 0;
        parent = TR_NONE;
        swap = false;
    } else if (carried) {
        ch_label l;
        if (at_is_stop(t, r->to, &l)) {
            if (at_landing(t, r->to, r->asset, carried, hops, x, parent, swap) != 0)
                return OOM(err);
            return report(t, x, r, carried, hops, parent, swap, &l, false, err);
        }
        bool cut_hops = t->o.max_hops && hops > t->o.max_hops;
        bool below = !cut_hops && carried < t->o.min_amount;
        if (cut_hops || below) {
            if (cut_hops)
                A->cut_hops += carried;
            else
                A->below_min += carried;
            carried = 0;
            if (fifo && carry_whole(t, v, false) != 0) return OOM(err);
        }
    }
    uint32_t q = at_pool_find(t, r->to, r->asset);
    if (q == TR_NONE) {
        if (!carried) return 0;
        if (at_pool_new(t, r->to, r->asset, x, &q, err) != 0) return -1;
    }
    if (credit(t, &t->pool[q], v, carried, err) != 0) return -1;
    if (carried) at_pool_reach(&t->pool[q], hops, src ? AT_NONE : x, parent, swap);
    return report(t, x, r, carried, hops, parent, swap, NULL, false, err);
}

/* Phase 1 for one transfer: the debit, then the credit unless it waits. */
static int fwd_move(ch_atrace *t, uint64_t x, const ch_xfer_rec *r, ch_error *err) {
    u128 v = xval(r), carried = 0;
    bool fifo = t->o.policy == CH_POLICY_FIFO;
    t->carry.n = 0;
    uint32_t from = TR_NONE;
    if (!at_nobody(t, r->from) && (from = at_pool_find(t, r->from, r->asset)) != TR_NONE &&
        debit(t, &t->pool[from], v, &carried, err) != 0)
        return -1;
    if (fifo && t->carry.n == 0 && carry_whole(t, v, false) != 0) return OOM(err);
    uint32_t hops = from != TR_NONE ? t->pool[from].hops + 1 : 0;
    uint32_t parent = from;
    if (at_is_source_tx(t, r, x)) { /* taints in full; only the new part is source */
        at_tot(t, r->asset)->source += v - carried;
        carried = v;
        if (fifo && carry_whole(t, v, true) != 0) return OOM(err);
        hops = 0;
        parent = TR_NONE;
    }
    int sw;
    if (r->kind != CH_XFER_FEE && (sw = at_swap_of(t, r->from, r->asset, true)) >= 0) {
        /* the taint goes on in what the account receives, not to the pool */
        at_swap *s = &t->sw[sw];
        s->v_out += v;
        s->t_out += carried;
        if (fifo)
            for (size_t i = 0; i < t->carry.n; i++)
                if (at_runs_push(&s->line, t->carry.v[i].len, t->carry.v[i].taint != 0) != 0)
                    return OOM(err);
        if (carried && from != TR_NONE &&
            (s->best_pool == TR_NONE || t->pool[from].hops < t->pool[s->best_pool].hops))
            s->best_pool = from;
        at_tot(t, r->asset)->swapped_out += carried;
        carried = 0;
        if (fifo && carry_whole(t, v, false) != 0) return OOM(err);
    }
    if ((sw = at_swap_of(t, r->to, r->asset, false)) >= 0) {
        if (tr_grow((void **)&t->df, &t->cap_df, t->n_df + 1, sizeof *t->df) != 0) return OOM(err);
        at_defer *d = &t->df[t->n_df++];
        *d = (at_defer){x, (uint32_t)sw, parent, carried, t->stash.n, t->carry.n};
        for (size_t i = 0; i < t->carry.n; i++) {
            if (tr_grow((void **)&t->stash.v, &t->stash.cap, t->stash.n + 1, sizeof *t->stash.v) !=
                0)
                return OOM(err);
            t->stash.v[t->stash.n++] = t->carry.v[i]; /* unmerged: kept as is */
        }
        return 0;
    }
    return fwd_credit(t, x, r, carried, hops, parent, false, err);
}

/* Phase 2: the swap credits of one account in one asset get the taint of its
 * swap debits in proportion (fifo: the debits' line scaled onto theirs). */
static int fwd_swap_group(ch_atrace *t, size_t first, ch_error *err) {
    at_defer *d0 = &t->df[first];
    at_swap *s = &t->sw[d0->sw];
    ch_addr_id asset = ch_store_xfer(t->s, d0->x)->asset;
    bool fifo = t->o.policy == CH_POLICY_FIFO;
    u128 vb = 0; /* the B line: these credits end to end */
    for (size_t i = first; i < t->n_df; i++) {
        const ch_xfer_rec *r = ch_store_xfer(t->s, t->df[i].x);
        if (t->df[i].sw == d0->sw && r->asset == asset) vb += xval(r);
    }
    /* fifo: the A line scaled onto the B line */
    t->tmp.n = 0;
    if (fifo && s->v_out) {
        u128 a = 0, b_prev = 0;
        for (size_t i = 0; i < s->line.n; i++) {
            a += s->line.v[i].len;
            u128 b = at_muldiv(a, vb, s->v_out);
            if (at_runs_push(&t->tmp, b - b_prev, s->line.v[i].taint != 0) != 0) return OOM(err);
            b_prev = b;
        }
    }
    u128 cum = 0, conv_prev = 0;
    size_t line_i = 0;
    u128 line_used = 0;
    for (size_t i = first; i < t->n_df; i++) {
        at_defer *d = &t->df[i];
        const ch_xfer_rec *r = ch_store_xfer(t->s, d->x);
        if (d->sw != d0->sw || r->asset != asset || d->run_n == (size_t)-1) continue;
        u128 v = xval(r), carried = d->carried, conv = 0;
        cum += v;
        if (t->o.policy == CH_POLICY_POISON) {
            conv = s->t_out ? v : 0;
        } else if (!fifo && s->v_out) {
            u128 c = at_muldiv(cum, s->t_out, s->v_out);
            conv = c - conv_prev;
            conv_prev = c;
        }
        u128 total;
        t->carry.n = 0;
        if (fifo) {
            /* this credit's part of the scaled line, united with its own runs */
            t->tmp2.n = 0;
            u128 need = v;
            while (need > 0 && line_i < t->tmp.n) {
                u128 left = t->tmp.v[line_i].len - line_used;
                u128 step = left < need ? left : need;
                if (at_runs_push(&t->tmp2, step, t->tmp.v[line_i].taint != 0) != 0) return OOM(err);
                need -= step;
                line_used += step;
                if (line_used == t->tmp.v[line_i].len) line_i++, line_used = 0;
            }
            if (at_runs_push(&t->tmp2, need, false) != 0) return OOM(err);
            at_runs own = {t->stash.v + d->run_off, d->run_n, d->run_n};
            if (at_runs_union(&own, &t->tmp2, &t->carry) != 0) return OOM(err);
            total = at_runs_tainted(&t->carry);
        } else {
            total = carried + conv > v ? v : carried + conv;
        }
        ch_atrace_asset *B = at_tot(t, asset);
        if (!B) return OOM(err);
        B->swapped_in += total - carried;
        /* the path: through the swap when it brought taint, else as carried */
        uint32_t parent = d->parent, hops = parent != TR_NONE ? t->pool[parent].hops + 1 : 0;
        bool swap = false;
        if (total > carried && s->best_pool != TR_NONE &&
            (!carried || t->pool[s->best_pool].hops + 1 < hops)) {
            parent = s->best_pool;
            hops = t->pool[parent].hops + 1;
            swap = true;
            t->st.swaps++;
        }
        if (fwd_credit(t, d->x, r, total, hops, parent, swap, err) != 0) return -1;
        d->run_n = (size_t)-1; /* done */
    }
    return 0;
}

int at_forward_tx(ch_atrace *t, uint64_t f, uint64_t n, ch_error *err) {
    t->n_df = 0;
    t->stash.n = 0;
    if (n > 1 && at_find_swaps(t, f, n) != 0) return OOM(err);
    for (uint64_t x = f; x < f + n; x++) {
        const ch_xfer_rec *r = ch_store_xfer(t->s, x);
        t->st.edge_visits++;
        t->st.xfers++;
        if (at_skip(r)) continue;
        if (fwd_move(t, x, r, err) != 0) return -1;
    }
    for (size_t i = 0; i < t->n_df; i++)
        if (t->df[i].run_n != (size_t)-1 && fwd_swap_group(t, i, err) != 0) return -1;
    t->n_sw = 0;
    return 0;
}

/* Account tracer: pools, accounts, the sweep's heap, exact arithmetic. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "trace/account_internal.h"

/* ---- 128 x 128 / 128 ---- */

/* The 256-bit product of a and b as (hi, lo). */
static void mul256(u128 a, u128 b, u128 *hi, u128 *lo) {
    uint64_t a0 = (uint64_t)a, a1 = (uint64_t)(a >> 64);
    uint64_t b0 = (uint64_t)b, b1 = (uint64_t)(b >> 64);
    u128 p00 = (u128)a0 * b0, p01 = (u128)a0 * b1, p10 = (u128)a1 * b0, p11 = (u128)a1 * b1;
    u128 mid = (p00 >> 64) + (uint64_t)p01 + (uint64_t)p10; /* < 3 * 2^64 */
    *lo = (p00 & UINT64_MAX) | (mid << 64);
    *hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
}

u128 at_muldiv(u128 a, u128 b, u128 c) {
    u128 hi, lo;
    mul256(a, b, &hi, &lo);
    if (hi == 0) return lo / c;
    /* long division of (hi, lo) by c, one bit at a time: the quotient fits
     * 128 bits (hi < c), so the remainder starts as hi */
    u128 r = hi, q = 0;
    for (int i = 127; i >= 0; i--) {
        bool top = r >> 127;
        r = (r << 1) | (u128)((lo >> i) & 1);
        q <<= 1;
        if (top || r >= c) {
            r -= c;
            q |= 1;
        }
    }
    return q;
}

/* ---- runs ---- */

int at_runs_push(at_runs *r, u128 len, bool taint) {
    if (len == 0) return 0;
    if (r->n && (r->v[r->n - 1].taint != 0) == taint) {
        r->v[r->n - 1].len += len;
        return 0;
    }
    if (tr_grow((void **)&r->v, &r->cap, r->n + 1, sizeof *r->v) != 0) return -1;
    r->v[r->n++] = (at_run){len, taint, 0};
    return 0;
}

u128 at_runs_tainted(const at_runs *r) {
    u128 s = 0;
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].taint) s += r->v[i].len;
    return s;
}

int at_runs_union(const at_runs *a, const at_runs *b, at_runs *out) {
    out->n = 0;
    size_t i = 0, j = 0;
    u128 ua = 0, ub = 0; /* used of a->v[i], b->v[j] */
    while (i < a->n && j < b->n) {
        u128 ra = a->v[i].len - ua, rb = b->v[j].len - ub;
        u128 step = ra < rb ? ra : rb;
        if (at_runs_push(out, step, a->v[i].taint || b->v[j].taint) != 0) return -1;
        ua += step;
        ub += step;
        if (ua == a->v[i].len) i++, ua = 0;
        if (ub == b->v[j].len) j++, ub = 0;
    }
    /* lengths should match; keep whatever is left of either */
    for (; i < a->n; i++, ua = 0)
        if (at_runs_push(out, a->v[i].len - ua, a->v[i].taint) != 0) return -1;
    for (; j < b->n; j++, ub = 0)
        if (at_runs_push(out, b->v[j].len - ub, b->v[j].taint) != 0) return -1;
    return 0;
}

/* ---- the fifo queue of a pool ---- */

int at_q_push(at_pool *p, u128 len, bool taint) {
    if (len == 0) return 0;
    if (p->qn > p->qh && (p->q[p->qn - 1].taint != 0) == taint) {
        p->q[p->qn - 1].len += len;
        return 0;
    }
    if (p->qh > 0 && p->qh * 2 >= p->qn) { /* compact: the front was consumed */
        memmove(p->q, p->q + p->qh, (p->qn - p->qh) * sizeof *p->q);
        p->qn -= p->qh;
        p->qh = 0;
    }
    if (tr_grow((void **)&p->q, &p->qcap, p->qn + 1, sizeof *p->q) != 0) return -1;
    p->q[p->qn++] = (at_run){len, taint, 0};
    return 0;
}

int at_q_take(at_pool *p, u128 v, at_runs *out) {
    while (v > 0 && p->qh < p->qn) {
        at_run *r = &p->q[p->qh];
        u128 step = r->len < v ? r->len : v;
        if (at_runs_push(out, step, r->taint != 0) != 0) return -1;
        r->len -= step;
        v -= step;
        if (r->len == 0) p->qh++;
    }
    return 0;
}

/* ---- totals per asset ---- */

ch_atrace_asset *at_tot(ch_atrace *t, ch_addr_id asset) {
    uint32_t k = tr_map_get(&t->tot_by, asset);
    if (k != TR_NONE) return &t->tot[k];
    if (tr_grow((void **)&t->tot, &t->cap_tot, t->n_tot + 1, sizeof *t->tot) != 0) return NULL;
    if (tr_map_put(&t->tot_by, asset, (uint32_t)t->n_tot) != 0) return NULL;
    memset(&t->tot[t->n_tot], 0, sizeof *t->tot);
    t->tot[t->n_tot].asset = asset;
    return &t->tot[t->n_tot++];
}

/* ---- accounts ---- */

/* The account's whole history, ascending, from its head backwards. */
static int load_history(ch_atrace *t, at_acct *a, ch_error *err) {
    ch_addr ad;
    ch_store_addr_of(t->s, a->addr, &ad);
    ch_addr_id id;
    uint64_t head;
    int rc = ch_store_find_addr(t->s, &ad, &id, &head, err);
    if (rc < 0) return -1;
    if (rc == 0) return 0; /* no history */
    size_t cap = 0;
    for (int64_t x = (int64_t)head; x >= 0 && (uint64_t)x < t->n_xfers;
         x = ch_store_xfer_prev(t->s, (uint64_t)x, a->addr)) {
        if (tr_grow((void **)&a->hist, &cap, a->n_hist + 1, sizeof *a->hist) != 0)
            return ch_err(err, "out of memory");
        a->hist[a->n_hist++] = (uint64_t)x;
    }
    t->st.edge_visits += a->n_hist;
    for (size_t i = 0, j = a->n_hist; i + 1 < j; i++, j--) {
        uint64_t tmp = a->hist[i];
        a->hist[i] = a->hist[j - 1];
        a->hist[j - 1] = tmp;
    }
    return 0;
}

int at_acct_get(ch_atrace *t, ch_addr_id addr, uint32_t *out, ch_error *err) {
    uint32_t k = tr_map_get(&t->acct_by, addr);
    if (k != TR_NONE) {
        *out = k;
        return 0;
    }
    if (tr_grow((void **)&t->acct, &t->cap_acct, t->n_acct + 1, sizeof *t->acct) != 0)
        return ch_err(err, "out of memory");
    at_acct *a = &t->acct[t->n_acct];
    memset(a, 0, sizeof *a);
    a->addr = addr;
    if (load_history(t, a, err) != 0) {
        free(a->hist);
        return -1;
    }
    bool fwd = t->o.direction == CH_TRACE_FORWARD;
    a->cur = fwd ? 0 : a->n_hist;
    if (tr_map_put(&t->acct_by, addr, (uint32_t)t->n_acct) != 0)
        return ch_err(err, "out of memory");
    *out = (uint32_t)t->n_acct++;
    t->st.accounts++;
    /* scheduled now: its next transfer relative to what is done (the one
     * being processed is not rescheduled: forward it is <= done only after
     * the tx, so at_schedule is also called once the tx is done) */
    return 0;
}

/* ---- pools ---- */

/* Balance of asset at account a over its history entries before `end`
 * (forward: x excluded; backward: x included), clamped at 0 as the trace
 * clamps a debit larger than the pool. fifo backward also logs which credits
 * each debit consumed. */
static int history_balance(ch_atrace *t, at_acct *a, at_pool *p, uint64_t x, bool incl,
                           ch_error *err) {
    bool log = t->o.policy == CH_POLICY_FIFO && t->o.direction == CH_TRACE_BACKWARD;
    /* the fifo replay: a queue of (credit, remaining) */
    at_seg *q = NULL;
    size_t qh = 0, qn = 0, qcap = 0, cap_dx = 0, cap_doff = 0, cap_seg = 0;
    u128 bal = 0;
    for (size_t i = 0; i < a->n_hist && (a->hist[i] < x || (incl && a->hist[i] == x)); i++) {
        const ch_xfer_rec *r = ch_store_xfer(t->s, a->hist[i]);
        t->st.edge_visits++;
        if (r->asset != p->asset || at_skip(r)) continue;
        u128 v = xval(r);
        if (r->from == a->addr) {
            u128 take = v < bal ? v : bal;
            bal -= take;
            if (log) {
                if (tr_grow((void **)&p->dx, &cap_dx, p->n_dx + 1, sizeof *p->dx) != 0 ||
                    tr_grow((void **)&p->doff, &cap_doff, p->n_dx + 2, sizeof *p->doff) != 0)
                    goto oom;
                p->doff[p->n_dx] = p->n_seg;
                p->dx[p->n_dx++] = a->hist[i];
                /* the value missing from the pool is older than its history */
                if (v > take) {
                    if (tr_grow((void **)&p->seg, &cap_seg, p->n_seg + 1, sizeof *p->seg) != 0)
                        goto oom;
                    p->seg[p->n_seg++] = (at_seg){AT_NONE, v - take};
                }
                while (take > 0 && qh < qn) {
                    u128 step = q[qh].len < take ? q[qh].len : take;
                    if (tr_grow((void **)&p->seg, &cap_seg, p->n_seg + 1, sizeof *p->seg) != 0)
                        goto oom;
                    p->seg[p->n_seg++] = (at_seg){q[qh].credit, step};
                    q[qh].len -= step;
                    take -= step;
                    if (q[qh].len == 0) qh++;
                }
                p->doff[p->n_dx] = p->n_seg;
            }
        }
        if (r->to == a->addr) {
            bal = bal > U128_MAX - v ? U128_MAX : bal + v;
            if (log) {
                if (tr_grow((void **)&q, &qcap, qn + 1, sizeof *q) != 0) goto oom;
                q[qn++] = (at_seg){a->hist[i], v};
            }
        }
    }
    free(q);
    p->bal = bal;
    return 0;
oom:
    free(q);
    return ch_err(err, "out of memory");
}

int at_pool_new(ch_atrace *t, ch_addr_id addr, ch_addr_id asset, uint64_t x, uint32_t *out,
                ch_error *err) {
    uint32_t a;
    bool fresh = tr_map_get(&t->acct_by, addr) == TR_NONE;
    if (at_acct_get(t, addr, &a, err) != 0) return -1;
    if (tr_grow((void **)&t->pool, &t->cap_pool, t->n_pool + 1, sizeof *t->pool) != 0)
        return ch_err(err, "out of memory");
    at_pool *p = &t->pool[t->n_pool];
    memset(p, 0, sizeof *p);
    p->addr = addr;
    p->asset = asset;
    p->acct = a;
    p->hops = UINT32_MAX;
    p->parent = TR_NONE;
    p->via = AT_NONE;
    bool fwd = t->o.direction == CH_TRACE_FORWARD;
    if (history_balance(t, &t->acct[a], p, x, !fwd, err) != 0) return -1;
    /* fifo forward: what was there before is one clean interval */
    if (fwd && t->o.policy == CH_POLICY_FIFO && at_q_push(p, p->bal, false) != 0)
        return ch_err(err, "out of memory");
    uint64_t key;
    at_pool_find_key(t, addr, asset, &key);
    if (tr_map_put(&t->pool_by, key, (uint32_t)t->n_pool) != 0) return ch_err(err, "out of memory");
    *out = (uint32_t)t->n_pool++;
    t->st.pools++;
    if (fresh && at_schedule(t, a) != 0) return ch_err(err, "out of memory");
    return 0;
}

void at_pool_reach(at_pool *p, uint32_t hops, uint64_t x, uint32_t parent, bool swap) {
    if (hops >= p->hops) return;
    p->hops = hops;
    p->via = x;
    p->parent = parent;
    p->swap = swap;
}

/* ---- the heap (min on key) ---- */

int at_heap_push(ch_atrace *t, uint64_t key, uint32_t acct) {
    if (tr_grow((void **)&t->heap, &t->cap_heap, t->n_heap + 1, sizeof *t->heap) != 0) return -1;
    size_t i = t->n_heap++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (t->heap[up].key <= key) break;
        t->heap[i] = t->heap[up];
        i = up;
    }
    t->heap[i] = (at_hent){key, acct};
    return 0;
}

at_hent at_heap_pop(ch_atrace *t) {
    at_hent top = t->heap[0], last = t->heap[--t->n_heap];
    size_t i = 0, n = t->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && t->heap[c + 1].key < t->heap[c].key) c++;
        if (last.key <= t->heap[c].key) break;
        t->heap[i] = t->heap[c];
        i = c;
    }
    if (n) t->heap[i] = last;
    return top;
}

int at_schedule(ch_atrace *t, uint32_t ai) {
    at_acct *a = &t->acct[ai];
    if (t->o.direction == CH_TRACE_FORWARD) {
        while (a->cur < a->n_hist && t->any_done && a->hist[a->cur] <= t->done)
            a->cur++;
        while (a->cur < a->n_hist && a->hist[a->cur] < t->x_lo)
            a->cur++;
        if (a->cur < a->n_hist && a->hist[a->cur] < t->x_hi)
            return at_heap_push(t, a->hist[a->cur], ai);
    } else {
        while (a->cur > 0 && t->any_done && a->hist[a->cur - 1] >= t->done)
            a->cur--;
        while (a->cur > 0 && a->hist[a->cur - 1] >= t->x_hi)
            a->cur--;
        if (a->cur > 0 && a->hist[a->cur - 1] >= t->x_lo)
            return at_heap_push(t, ~a->hist[a->cur - 1], ai);
    }
    return 0;
}

/* ---- labels, landings, sources ---- */

bool at_is_stop(ch_atrace *t, ch_addr_id addr, ch_label *l) {
    if (!t->o.labels || ch_labels_get(t->o.labels, addr, l) != 1) return false;
    return tr_stop_has(t->stop, t->n_stop, l->category);
}

int at_landing(ch_atrace *t, ch_addr_id addr, ch_addr_id asset, u128 amount, uint32_t hops,
               uint64_t x, uint32_t parent, bool swap) {
    uint64_t key;
    uint32_t k = at_land_find(t, addr, asset, &key);
    if (k == TR_NONE) {
        if (tr_grow((void **)&t->land, &t->cap_land, t->n_land + 1, sizeof *t->land) != 0 ||
            tr_map_put(&t->land_by, key, (uint32_t)t->n_land) != 0)
            return -1;
        k = (uint32_t)t->n_land++;
        at_land *L = &t->land[k];
        memset(L, 0, sizeof *L);
        L->l.addr = addr;
        L->l.asset = asset;
        L->l.hops = UINT32_MAX;
        ch_labels_get(t->o.labels, addr, &L->l.label);
    }
    at_land *L = &t->land[k];
    L->l.amount += amount;
    L->l.xfers += L->l.xfers < UINT32_MAX; /* saturates (trace_account.h) */
    if (hops < L->l.hops) {
        L->l.hops = hops;
        L->l.xfer = x;
        L->parent = parent;
        L->swap = swap;
    }
    ch_atrace_asset *tt = at_tot(t, asset);
    if (!tt) return -1;
    tt->landed += amount;
    return 0;
}

bool at_is_source_tx(const ch_atrace *t, const ch_xfer_rec *r, uint64_t x) {
    if (r->kind == CH_XFER_FEE) return false;
    if (t->src_xfer.n && tr_map_get(&t->src_xfer, x) != TR_NONE) return true;
    return r->tx != CH_NO_TX && t->src_tx.n && tr_map_get(&t->src_tx, r->tx) != TR_NONE;
}

bool at_is_source_addr(ch_atrace *t, ch_addr_id addr) {
    if (!t->n_src_addr) return false;
    uint32_t k = tr_map_get(&t->acct_by, addr);
    return k != TR_NONE && t->acct[k].source;
}

/* Account tracer: totals, landings, holdings and shortest paths. */
#include <stdlib.h>
#include <string.h>

#include "trace/account_internal.h"
#include "util/vec.h"

static int cmp_land(const void *pa, const void *pb) {
    const at_land *a = pa, *b = pb;
    if (a->l.amount != b->l.amount) return a->l.amount > b->l.amount ? -1 : 1;
    if (a->l.addr != b->l.addr) return a->l.addr < b->l.addr ? -1 : 1;
    return a->l.asset < b->l.asset ? -1 : a->l.asset > b->l.asset;
}

static int cmp_hold(const void *pa, const void *pb) {
    const ch_atrace_holding *a = pa, *b = pb;
    if (a->amount != b->amount) return a->amount > b->amount ? -1 : 1;
    if (a->addr != b->addr) return a->addr < b->addr ? -1 : 1;
    return a->asset < b->asset ? -1 : a->asset > b->asset;
}

int at_collect(ch_atrace *t, ch_error *err) {
    bool fwd = t->o.direction == CH_TRACE_FORWARD;
    size_t n = 0;
    for (size_t i = 0; i < t->n_pool; i++)
        n += t->pool[i].taint != 0;
    if (fwd && n && !(t->hold = calloc(n, sizeof *t->hold))) return ch_err(err, "out of memory");
    for (size_t i = 0; i < t->n_pool; i++) {
        at_pool *p = &t->pool[i];
        if (!p->taint) continue;
        ch_atrace_asset *A = at_tot(t, p->asset);
        if (!A) return ch_err(err, "out of memory");
        if (fwd) {
            A->held += p->taint;
            t->hold[t->n_hold++] = (ch_atrace_holding){p->addr, p->asset, p->taint, p->hops};
        } else if (t->o.policy != CH_POLICY_POISON) {
            /* demand left when the pool's known history ran out */
            if (t->o.policy == CH_POLICY_HAIRCUT) A->unknown += p->taint;
        }
    }
    if (!fwd && t->o.policy == CH_POLICY_FIFO) {
        /* demand on credits the sweep never reached (before the window) */
        for (size_t i = 0; i < t->bdem_by.cap; i++) {
            if (t->bdem_by.keys[i] == UINT64_MAX) continue;
            u128 a = t->bdem[t->bdem_by.vals[i]];
            if (!a) continue;
            ch_atrace_asset *A = at_tot(t, ch_store_xfer(t->s, t->bdem_by.keys[i])->asset);
            if (!A) return ch_err(err, "out of memory");
            A->unknown += a;
        }
    }
    if (t->n_land) qsort(t->land, t->n_land, sizeof *t->land, cmp_land);
    if (t->n_land && !(t->land_pub = malloc(t->n_land * sizeof *t->land_pub)))
        return ch_err(err, "out of memory");
    /* the map again from empty: its probe chains follow the insertion order */
    tr_map_free(&t->land_by);
    if (tr_map_init(&t->land_by, t->n_land * 2 + 64) != 0) return ch_err(err, "out of memory");
    for (size_t i = 0; i < t->n_land; i++) {
        t->land_pub[i] = t->land[i].l;
        uint64_t key;
        at_land_find(t, t->land[i].l.addr, t->land[i].l.asset, &key);
        if (tr_map_put(&t->land_by, key, (uint32_t)i) != 0) return ch_err(err, "out of memory");
    }
    if (t->n_hold) qsort(t->hold, t->n_hold, sizeof *t->hold, cmp_hold);
    t->sorted = true;
    return 0;
}

size_t ch_atrace_assets(const ch_atrace *t, const ch_atrace_asset **out) {
    *out = t->tot;
    return t->n_tot;
}

void ch_atrace_asset_totals(const ch_atrace *t, ch_addr_id asset, ch_atrace_asset *out) {
    uint32_t k = tr_map_get(&t->tot_by, asset);
    if (k != TR_NONE) {
        *out = t->tot[k];
        return;
    }
    memset(out, 0, sizeof *out);
    out->asset = asset;
}

void ch_atrace_get_stats(const ch_atrace *t, ch_atrace_stats *out) {
    *out = t->st;
}

size_t ch_atrace_landings(ch_atrace *t, const ch_atrace_landing **out) {
    *out = t->land_pub;
    return t->land_pub ? t->n_land : 0;
}

size_t ch_atrace_holdings(ch_atrace *t, const ch_atrace_holding **out) {
    *out = t->hold;
    return t->n_hold;
}

/* Steps from pool p back to a source, then reversed: source first. */
static size_t path_from(ch_atrace *t, uint32_t p, uint64_t last, bool last_swap,
                        ch_atrace_step *steps, size_t max) {
    size_t n = 0, cap = 64;
    ch_atrace_step *tmp = malloc(cap * sizeof *tmp);
    if (!tmp) return 0;
    tmp[n++] = (ch_atrace_step){last, last_swap};
    for (size_t guard = 0; p != TR_NONE && guard < t->n_pool + 1; guard++) {
        at_pool *q = &t->pool[p];
        if (q->via != AT_NONE) {
            ch_atrace_step *v = ch_grow(tmp, &cap, n + 1, sizeof *v);
            if (!v) break;
            tmp = v;
            tmp[n++] = (ch_atrace_step){q->via, q->swap != 0};
        }
        p = q->parent;
    }
    for (size_t i = 0; i < n && i < max; i++)
        steps[i] = tmp[n - 1 - i];
    free(tmp);
    return n;
}

size_t ch_atrace_landing_path(ch_atrace *t, const ch_atrace_landing *l, ch_atrace_step *steps,
                              size_t max) {
    uint32_t k = at_land_find(t, l->addr, l->asset, NULL);
    if (k == TR_NONE || !t->sorted) return 0;
    const at_land *L = &t->land[k];
    return path_from(t, L->parent, L->l.xfer, L->swap, steps, max);
}

size_t ch_atrace_holding_path(ch_atrace *t, const ch_atrace_holding *h, ch_atrace_step *steps,
                              size_t max) {
    uint32_t p = at_pool_find(t, h->addr, h->asset);
    if (p == TR_NONE) return 0;
    at_pool *q = &t->pool[p];
    if (q->via == AT_NONE) return 0; /* the source address itself */
    return path_from(t, q->parent, q->via, q->swap != 0, steps, max);
}

size_t ch_atrace_move_path(ch_atrace *t, const ch_atrace_move *m, ch_atrace_step *steps,
                           size_t max) {
    if (m->parent == TR_NONE) { /* a source transfer: the path is itself */
        if (max) steps[0] = (ch_atrace_step){m->xfer, m->swap};
        return 1;
    }
    return path_from(t, m->parent, m->xfer, m->swap, steps, max);
}

/* What a trace found: landings and holdings per address, paths, the flow
 * for graphs, and amounts as decimal text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/trace_internal.h"

static int cmp_land(const void *pa, const void *pb) {
    const ch_trace_landing *a = pa, *b = pb;
    if (a->amount != b->amount) return a->amount > b->amount ? -1 : 1;
    return a->addr < b->addr ? -1 : a->addr > b->addr;
}

static int cmp_hold(const void *pa, const void *pb) {
    const ch_trace_holding *a = pa, *b = pb;
    if (a->amount != b->amount) return a->amount > b->amount ? -1 : 1;
    return a->addr < b->addr ? -1 : a->addr > b->addr;
}

int tr_collect(ch_trace *t, ch_error *err) {
    tr_map land, hold;
    size_t cap_l = 0, cap_h = 0;
    if (tr_map_init(&land, 64) != 0) return ch_err(err, "out of memory");
    if (tr_map_init(&hold, 64) != 0) {
        tr_map_free(&land);
        return ch_err(err, "out of memory");
    }
    int rc = 0;
    for (size_t i = 0; i < t->n_e && rc == 0; i++) {
        const tr_entry *e = &t->e[i];
        uint32_t addr = t->outs[e->out].addr;
        if (e->state == ST_LANDING) {
            uint32_t k = tr_map_get(&land, addr);
            if (k == TR_NONE) {
                if (tr_grow((void **)&t->land, &cap_l, t->n_land + 1, sizeof *t->land) != 0 ||
                    tr_map_put(&land, addr, (uint32_t)t->n_land) != 0) {
                    rc = -1;
                    break;
                }
                k = (uint32_t)t->n_land++;
                ch_trace_landing *l = &t->land[k];
                memset(l, 0, sizeof *l);
                l->addr = addr;
                l->hops = UINT32_MAX;
                ch_labels_get(t->o.labels, addr, &l->label);
            }
            ch_trace_landing *l = &t->land[k];
            l->amount += e->amount;
            l->outputs++;
            if (e->hops < l->hops || (e->hops == l->hops && e->out < l->out)) {
                l->hops = e->hops;
                l->out = e->out;
            }
        } else if (e->state == ST_HOLDING) {
            uint32_t k = tr_map_get(&hold, addr);
            if (k == TR_NONE) {
                if (tr_grow((void **)&t->hold, &cap_h, t->n_hold + 1, sizeof *t->hold) != 0 ||
                    tr_map_put(&hold, addr, (uint32_t)t->n_hold) != 0) {
                    rc = -1;
                    break;
                }
                k = (uint32_t)t->n_hold++;
                memset(&t->hold[k], 0, sizeof t->hold[k]);
                t->hold[k].addr = addr;
            }
            t->hold[k].amount += e->amount;
            t->hold[k].outputs++;
        }
    }
    tr_map_free(&land);
    tr_map_free(&hold);
    if (rc) return ch_err(err, "out of memory");
    return 0;
}

/* Sorting is for people: done when the lists are first asked for. */
static void sort_results(ch_trace *t) {
    if (t->sorted) return;
    t->sorted = true;
    if (t->n_land) qsort(t->land, t->n_land, sizeof *t->land, cmp_land);
    if (t->n_hold) qsort(t->hold, t->n_hold, sizeof *t->hold, cmp_hold);
}

size_t ch_trace_landings(ch_trace *t, const ch_trace_landing **out) {
    sort_results(t);
    *out = t->land;
    return t->n_land;
}

size_t ch_trace_holdings(ch_trace *t, const ch_trace_holding **out) {
    sort_results(t);
    *out = t->hold;
    return t->n_hold;
}

size_t ch_trace_path(ch_trace *t, uint64_t out, uint64_t *path, size_t max) {
    if (!t->by_out_built) { /* the walk needs no index by output; paths do */
        for (size_t k = 0; k < t->n_e; k++)
            if (tr_map_put(&t->by_out, t->e[k].out, (uint32_t)k) != 0) return 0;
        t->by_out_built = true;
    }
    uint32_t i = tr_map_get(&t->by_out, out);
    if (i == TR_NONE) return 0;
    size_t n = t->e[i].hops + 1;
    /* walk back from the output to its source, filling from the end */
    for (size_t k = n; k > 0 && i != TR_NONE; k--) {
        if (k - 1 < max) path[k - 1] = t->e[i].tx;
        i = t->e[i].parent;
    }
    return n;
}

int ch_trace_foreach_flow(const ch_trace *t, ch_trace_flow_fn fn, void *ctx) {
    bool fwd = t->o.direction == CH_TRACE_FORWARD;
    for (size_t i = 0; i < t->n_e; i++) {
        const tr_entry *e = &t->e[i];
        ch_trace_flow f = {.out = e->out,
                           .addr = t->outs[e->out].addr,
                           .from_tx = e->tx,
                           .to_tx = -1,
                           .amount = e->amount,
                           .hops = e->hops,
                           .landing = e->state == ST_LANDING};
        if (fwd ? e->state == ST_DONE : !e->source) {
            uint32_t sp = t->outs[e->out].spent; /* its spender moved it on */
            f.to_tx = sp ? (int64_t)sp - 1 : -1;
        }
        int rc = fn(&f, ctx);
        if (rc) return rc;
    }
    return 0;
}

const char *ch_taint_str(ch_taint_sum v, char out[64]) {
    ch_taint_sum sat = v >> CH_TAINT_FRAC_BITS;
    uint64_t frac = (uint64_t)(v & (CH_TAINT_ONE - 1));
    char digits[48];
    int n = 0;
    do {
        digits[n++] = (char)('0' + (int)(sat % 10));
        sat /= 10;
    } while (sat);
    int k = 0;
    while (n)
        out[k++] = digits[--n];
    if (frac) {
        /* frac / 8192 = frac * 5^13 / 10^13: exactly 13 decimal digits */
        char f[16];
        snprintf(f, sizeof f, "%013llu", (unsigned long long)(frac * 1220703125ULL));
        int len = 13;
        while (f[len - 1] == '0')
            len--;
        out[k++] = '.';
        memcpy(out + k, f, (size_t)len);
        k += len;
    }
    out[k] = '\0';
    return out;
}

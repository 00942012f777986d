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

/* Landings and holdings are summed per address by sorting the entries by
 * address rather than through a hash map: a trace holds millions of
 * entries, and a map over as many addresses costs a cache miss per entry,
 * where an LSD radix sort streams through memory. */
typedef struct tr_agg {
    uint64_t key;    /* address << 32 | entry: stable sorting keeps entry order */
    uint64_t amount; /* the entry's */
} tr_agg;

/* Sort a[0..n) by the address half of the key (11-bit digits, skipping
 * digits all keys share); tmp holds n. Returns the sorted array (a or tmp). */
static tr_agg *sort_by_addr(tr_agg *a, tr_agg *tmp, size_t n) {
    size_t cnt[2048];
    for (unsigned shift = 32; shift < 64; shift += 11) {
        memset(cnt, 0, sizeof cnt);
        for (size_t i = 0; i < n; i++)
            cnt[(a[i].key >> shift) & 2047]++;
        if (n && cnt[(a[0].key >> shift) & 2047] == n) continue; /* one digit value */
        size_t sum = 0;
        for (size_t d = 0; d < 2048; d++) {
            size_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp[cnt[(a[i].key >> shift) & 2047]++] = a[i];
        tr_agg *x = a;
        a = tmp;
        tmp = x;
    }
    return a;
}

int tr_collect(ch_trace *t, ch_error *err) {
    size_t n_l = 0, n_h = 0;
    for (size_t i = 0; i < t->n_e; i++) {
        n_l += t->e[i].state == ST_LANDING;
        n_h += t->e[i].state == ST_HOLDING;
    }
    size_t n = n_l + n_h;
    tr_agg *a = malloc((n ? n : 1) * sizeof *a), *tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!a || !tmp) {
        free(a);
        free(tmp);
        return ch_err(err, "out of memory");
    }
    /* landings first, holdings after, each sorted by address on its own */
    size_t il = 0, ih = n_l;
    for (size_t i = 0; i < t->n_e; i++) {
        const tr_entry *e = &t->e[i];
        if (e->state != ST_LANDING && e->state != ST_HOLDING) continue;
        tr_agg g = {(uint64_t)t->outs[e->out].addr << 32 | i, e->amount};
        a[e->state == ST_LANDING ? il++ : ih++] = g;
    }
    tr_agg *land = sort_by_addr(a, tmp, n_l);
    tr_agg *hold = sort_by_addr(a + n_l, tmp + n_l, n_h);
    size_t groups_l = 0, groups_h = 0;
    for (size_t i = 0; i < n_l; i++)
        groups_l += i == 0 || land[i].key >> 32 != land[i - 1].key >> 32;
    for (size_t i = 0; i < n_h; i++)
        groups_h += i == 0 || hold[i].key >> 32 != hold[i - 1].key >> 32;
    t->land = calloc(groups_l ? groups_l : 1, sizeof *t->land);
    t->hold = calloc(groups_h ? groups_h : 1, sizeof *t->hold);
    if (!t->land || !t->hold) {
        free(a);
        free(tmp);
        return ch_err(err, "out of memory");
    }
    for (size_t i = 0; i < n_l; i++) {
        uint32_t addr = (uint32_t)(land[i].key >> 32);
        const tr_entry *e = &t->e[(uint32_t)land[i].key];
        if (i == 0 || addr != t->land[t->n_land - 1].addr) {
            ch_trace_landing *l = &t->land[t->n_land++];
            l->addr = addr;
            l->hops = UINT32_MAX;
            ch_labels_get(t->o.labels, addr, &l->label);
        }
        ch_trace_landing *l = &t->land[t->n_land - 1];
        l->amount += land[i].amount;
        l->outputs++;
        if (e->hops < l->hops || (e->hops == l->hops && e->out < l->out)) {
            l->hops = e->hops;
            l->out = e->out;
        }
    }
    for (size_t i = 0; i < n_h; i++) {
        uint32_t addr = (uint32_t)(hold[i].key >> 32);
        if (i == 0 || addr != t->hold[t->n_hold - 1].addr) t->hold[t->n_hold++].addr = addr;
        t->hold[t->n_hold - 1].amount += hold[i].amount;
        t->hold[t->n_hold - 1].outputs++;
    }
    free(a);
    free(tmp);
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

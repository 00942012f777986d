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

/* Holdings are summed per address through a table over the address slots
 * (the store's ids are dense), numbering the addresses in order of first
 * appearance, rather than by sorting the held outputs by address: a trace
 * can hold millions of outputs, which one pass touches once. The table
 * reads are fetched ahead, and the table sits in huge pages (4 bytes per
 * address of the chain: a few TLB entries on this chain, and on a chain of
 * a billion addresses pages only where held addresses fall). */
static int sum_held(ch_trace *t, const tr_held *h, size_t n) {
    uint32_t *group = tr_big_alloc(t->n_addrs + 1, sizeof *group);
    t->hold = tr_big_alloc(n ? n : 1, sizeof *t->hold); /* at most one per output */
    if (!group || !t->hold) {
        tr_big_free(group);
        return -1;
    }
    size_t groups = 0;
    for (size_t i = 0; i < n; i++) {
        /* the table 32 ahead; 16 ahead, the holding an address seen before has */
        if (i + 32 < n) __builtin_prefetch(&group[tr_slot(t, h[i + 32].addr)], 1);
        if (i + 16 < n && group[tr_slot(t, h[i + 16].addr)])
            __builtin_prefetch(&t->hold[group[tr_slot(t, h[i + 16].addr)] - 1], 1);
        uint32_t *g = &group[tr_slot(t, h[i].addr)];
        if (!*g) {
            t->hold[groups] = (ch_trace_holding){.amount = 0, .addr = h[i].addr, .outputs = 0};
            *g = (uint32_t)++groups;
        }
        ch_trace_holding *x = &t->hold[*g - 1];
        x->amount += h[i].amount;
        x->outputs += x->outputs < UINT32_MAX; /* saturates: see ch_trace_holding */
    }
    t->n_hold = groups;
    tr_big_free(group);
    return 0;
}

/* Landings are few (outputs at services): a plain sort. */
static int cmp_landed(const void *pa, const void *pb) {
    const tr_landed *a = pa, *b = pb;
    return a->addr < b->addr ? -1 : a->addr > b->addr;
}

int tr_collect(ch_trace *t, ch_error *err) {
    /* the entries' landed and held outputs join the dense sweep's lists */
    tr_dense *d = &t->dn;
    for (size_t i = 0; i < t->n_e; i++) {
        const tr_entry *e = &t->e[i];
        ch_addr_id addr = ch_out_addr(tr_outr(t, e->out));
        if (e->state == ST_LANDING) {
            if (tr_grow((void **)&d->land_v, &d->cap_land, d->n_land + 1, sizeof *d->land_v) != 0)
                return ch_err(err, "out of memory");
            d->land_v[d->n_land++] = (tr_landed){addr, e->hops, e->out, e->amount};
        } else if (e->state == ST_HOLDING) {
            if (tr_grow((void **)&d->hold_v, &d->cap_hold, d->n_hold + 1, sizeof *d->hold_v) != 0)
                return ch_err(err, "out of memory");
            d->hold_v[d->n_hold++] = (tr_held){addr, e->amount};
        }
    }
    size_t n_l = d->n_land;
    tr_landed *land = d->land_v;
    if (n_l) qsort(land, n_l, sizeof *land, cmp_landed);
    size_t groups_l = 0;
    for (size_t i = 0; i < n_l; i++)
        groups_l += i == 0 || land[i].addr != land[i - 1].addr;
    t->land = calloc(groups_l ? groups_l : 1, sizeof *t->land);
    if (!t->land || sum_held(t, d->hold_v, d->n_hold) != 0) return ch_err(err, "out of memory");
    for (size_t i = 0; i < n_l; i++) {
        const tr_landed *x = &land[i];
        if (i == 0 || x->addr != t->land[t->n_land - 1].addr) {
            ch_trace_landing *l = &t->land[t->n_land++];
            l->addr = x->addr;
            l->hops = UINT32_MAX;
            ch_labels_get(t->o.labels, x->addr, &l->label);
        }
        ch_trace_landing *l = &t->land[t->n_land - 1];
        l->amount += x->amount;
        l->outputs += l->outputs < UINT32_MAX;
        if (x->hops < l->hops || (x->hops == l->hops && x->out < l->out)) {
            l->hops = x->hops;
            l->out = x->out;
        }
    }
    return 0;
}

/* Holdings by amount (largest first), then address: a dense trace has
 * hundreds of thousands, where qsort's compares of 128-bit amounts cost more
 * than the trace. So an LSD radix sort on a 16-byte key per holding (the
 * amount complemented, so ascending digits mean largest first; the address;
 * where it was), 11-bit digits, skipping the digits all keys share, then one
 * move of the holdings into that order. The key stays 16 bytes (two arrays
 * of it for a million holdings: 24-byte keys cost a wide trace 4,000 more
 * page faults) by holding the address as its slot (tr_slot) in 32 bits,
 * which orders as the
 * id does (the dense index numbers the 20-byte class first, and ids with
 * CH_ADDR_ID_WIDE, bit 39, are above all of those); a holding whose amount
 * does not fit 64 bits (it is at most the coins of one address, in units)
 * goes to the plain sort, as when memory is short, and so does a holding
 * whose slot does not fit 32 bits (a store of 2^32 addresses or more: the
 * order is the same, the sort slower). */
typedef struct hold_key {
    uint64_t amount; /* ~amount: ascending = largest first */
    uint32_t addr;
    uint32_t at;
} hold_key;

static unsigned key_digit(const hold_key *k, unsigned d) {
    /* digits 0..2: the address (least significant first), 3..8: the amount */
    return d < 3 ? (k->addr >> (11 * d)) & 2047 : (unsigned)(k->amount >> (11 * (d - 3))) & 2047;
}

/* Sort holdings by amount, largest first, then address, with an LSD radix
 * sort (9 passes of 11 bits over the 96-bit key): a million holdings sort in
 * linear time. A digit's counts do not depend on the keys' order, so all
 * nine are counted in the one pass that makes the keys (not a pass each),
 * and a digit all keys share costs nothing. 1 sorted; 0 when an amount
 * does not fit the key or memory is short (the caller sorts otherwise). */
static int radix_holdings(const ch_trace *t, ch_trace_holding *h, size_t n) {
    hold_key *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    ch_trace_holding *moved = malloc(n * sizeof *moved);
    size_t(*cnt)[2048] = calloc(9, sizeof *cnt);
    int ok = a && b && moved && cnt;
    for (size_t i = 0; ok && i < n; i++) {
        uint64_t slot = tr_slot(t, h[i].addr);
        if (h[i].amount > UINT64_MAX || slot > UINT32_MAX) ok = 0;
        a[i] = (hold_key){~(uint64_t)h[i].amount, (uint32_t)slot, (uint32_t)i};
        for (unsigned d = 0; d < 9; d++)
            cnt[d][key_digit(&a[i], d)]++;
    }
    for (unsigned d = 0; ok && d < 9; d++) {
        size_t *c = cnt[d], sum = 0;
        if (c[key_digit(&a[0], d)] == n) continue; /* one digit value: already in order */
        for (size_t v = 0; v < 2048; v++) {
            size_t k = c[v];
            c[v] = sum;
            sum += k;
        }
        for (size_t i = 0; i < n; i++)
            b[c[key_digit(&a[i], d)]++] = a[i];
        hold_key *x = a;
        a = b;
        b = x;
    }
    if (ok) {
        for (size_t i = 0; i < n; i++)
            moved[i] = h[a[i].at];
        memcpy(h, moved, n * sizeof *h);
    }
    free(a);
    free(b);
    free(moved);
    free(cnt);
    return ok;
}

/* Sorting is for people: done when the lists are first asked for. */
static void sort_results(ch_trace *t) {
    if (t->sorted) return;
    t->sorted = true;
    if (t->n_land) qsort(t->land, t->n_land, sizeof *t->land, cmp_land);
    if (t->n_hold && !radix_holdings(t, t->hold, t->n_hold))
        if (t->n_hold > 1) qsort(t->hold, t->n_hold, sizeof *t->hold, cmp_hold);
}

int ch_trace_collect(ch_trace *t, ch_error *err) {
    if (!t->ran) return ch_err(err, "the trace has not run");
    if (t->collected) return t->collect_failed ? ch_err(err, "out of memory") : 0;
    t->collected = true;
    if (tr_collect(t, err) == 0) return 0;
    t->collect_failed = true;
    return -1;
}

size_t ch_trace_landings(ch_trace *t, const ch_trace_landing **out) {
    *out = NULL;
    if (ch_trace_collect(t, NULL) != 0) return 0;
    sort_results(t);
    *out = t->land;
    return t->n_land;
}

size_t ch_trace_holdings(ch_trace *t, const ch_trace_holding **out) {
    *out = NULL;
    if (ch_trace_collect(t, NULL) != 0) return 0;
    sort_results(t);
    *out = t->hold;
    return t->n_hold;
}

int tr_index_entries(ch_trace *t) {
    for (; t->by_out_n < t->n_e; t->by_out_n++)
        if (tr_map_put(&t->by_out, t->e[t->by_out_n].out, (uint32_t)t->by_out_n) != 0) return -1;
    return 0;
}

size_t ch_trace_path(ch_trace *t, uint64_t out, uint64_t *path, size_t max) {
    /* the walk needs no index by output; paths do (an extended trace's
     * new entries join it) */
    if (tr_index_entries(t) != 0) return 0;
    uint32_t i = tr_map_get(&t->by_out, out);
    if (i == TR_NONE) return tr_dense_path(t, out, path, max);
    size_t n = t->e[i].hops + 1;
    /* walk back from the output to its source, filling from the end */
    for (size_t k = n; k > 0 && i != TR_NONE; k--) {
        if (k - 1 < max) path[k - 1] = tr_e_tx(&t->e[i]);
        i = t->e[i].parent;
    }
    return n;
}

ch_trace_flow tr_flow_of(const ch_trace *t, size_t i) {
    const tr_entry *e = &t->e[i];
    ch_trace_flow f = {.out = e->out,
                       .addr = ch_out_addr(tr_outr(t, e->out)),
                       .from_tx = (int64_t)tr_e_tx(e),
                       .to_tx = -1,
                       .amount = e->amount,
                       .hops = e->hops,
                       .landing = e->state == ST_LANDING};
    if (t->o.direction == CH_TRACE_FORWARD ? e->state == ST_DONE : !e->source) {
        f.to_tx = tr_out_spender(t, e->out); /* its spender moved it on */
    }
    return f;
}

int ch_trace_foreach_flow(const ch_trace *t, ch_trace_flow_fn fn, void *ctx) {
    for (size_t i = 0; i < t->n_e; i++) {
        ch_trace_flow f = tr_flow_of(t, i);
        int rc = fn(&f, ctx);
        if (rc) return rc;
    }
    return tr_dense_foreach(t, fn, ctx); /* in entry order: they came after */
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

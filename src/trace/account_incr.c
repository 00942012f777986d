/* Account tracer, carried on as the chain grows: a forward trace that has
 * run over blocks [first, last] is extended to a later block with the state
 * it holds (pools, queues, the sweep's position), so that each new block
 * costs the work of its own transfers, not a trace from the start. The
 * equality with a fresh run is the contract (tests/test_trace_incremental.c):
 * the sweep is the same function, resumed where it stopped, and what changes
 * between the two calls is only what a longer window would have shown the
 * first run (histories grown by the transfers committed since). */
#include <stdlib.h>
#include <string.h>

#include "trace/account_internal.h"

typedef struct hit {
    uint32_t acct;
    uint64_t x;
} hit;

static int cmp_hit(const void *pa, const void *pb) {
    const hit *a = pa, *b = pb;
    if (a->acct != b->acct) return a->acct < b->acct ? -1 : 1;
    return a->x < b->x ? -1 : a->x > b->x;
}

/* Append to the followed accounts' histories the transfers [from, to),
 * committed after the histories were read. Each new transfer goes to its
 * sender's and its receiver's account when they are followed (once when
 * they are the same: the store chains it once), so a block costs its own
 * transfers, not a walk down every followed account's chain. The matches
 * are grouped by account (ascending transfers within) so each history
 * grows once. */
static int grow_histories(ch_atrace *t, uint64_t from, uint64_t to, ch_error *err) {
    hit *v = NULL;
    size_t n = 0, cap = 0;
    for (uint64_t x = from; x < to; x++) {
        const ch_xfer_rec *r = ch_store_xfer(t->s, x);
        ch_addr_id side[2] = {r->from, r->to};
        for (int i = 0; i < 2; i++) {
            if (!side[i] || (i == 1 && side[1] == side[0])) continue;
            uint32_t k = tr_map_get(&t->acct_by, side[i]);
            if (k == TR_NONE) continue;
            if (tr_grow((void **)&v, &cap, n + 1, sizeof *v) != 0) {
                free(v);
                return ch_err(err, "out of memory");
            }
            v[n++] = (hit){k, x};
        }
    }
    if (n)
        qsort(v, n, sizeof *v, cmp_hit); /* v is NULL when no transfer touched a followed account */
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i; j < n && v[j].acct == v[i].acct; j++) {
        }
        at_acct *a = &t->acct[v[i].acct];
        size_t hcap = a->n_hist;
        if (tr_grow((void **)&a->hist, &hcap, a->n_hist + (j - i), sizeof *a->hist) != 0) {
            free(v);
            return ch_err(err, "out of memory");
        }
        for (size_t k = i; k < j; k++)
            a->hist[a->n_hist++] = v[k].x;
        t->st.edge_visits += j - i;
    }
    free(v);
    return 0;
}

/* Forget the last collect: its sorted copies and the held totals it summed
 * (the pools keep the truth; collect sums them again). */
static void uncollect(ch_atrace *t) {
    free(t->land_pub);
    t->land_pub = NULL;
    free(t->hold);
    t->hold = NULL;
    t->n_hold = 0;
    for (size_t i = 0; i < t->n_tot; i++)
        t->tot[i].held = 0;
    t->sorted = false;
}

int ch_atrace_extend(ch_atrace *t, uint64_t new_last, ch_error *err) {
    if (!t->ran) return ch_err(err, "extend: the trace has not run");
    if (t->o.direction != CH_TRACE_FORWARD || t->o.since || t->o.until)
        return ch_err(err, "extend: only a forward trace without a time window can be carried on");
    uint64_t n = ch_store_xfer_count(t->s);
    if (n < t->n_xfers)
        return ch_err(err, "extend: the store lost transfers since the trace ran (a reorg cut "
                           "it): trace again");
    uint64_t old_n = t->n_xfers, old_hi = t->x_hi;
    if (t->o.last_block && new_last < t->o.last_block)
        return ch_err(err, "extend: block %llu is before the trace's end %llu",
                      (unsigned long long)new_last, (unsigned long long)t->o.last_block);
    t->n_xfers = n;
    t->o.last_block = new_last;
    at_set_window(t);
    if (t->x_hi < old_hi) t->x_hi = old_hi; /* an open end already swept the store */
    t->extended++;
    if (n > old_n && grow_histories(t, old_n, n, err) != 0) return -1;
    uncollect(t);
    /* sources that enter the window now (a source tx in the new blocks) */
    for (size_t i = 0; i < t->n_src_list; i++) {
        uint64_t x = t->src_list[i];
        if (x >= old_hi && x >= t->x_lo && x < t->x_hi && at_heap_push(t, x, TR_NONE) != 0)
            return ch_err(err, "out of memory");
    }
    for (size_t i = 0; i < t->n_acct; i++)
        if (at_schedule(t, (uint32_t)i) != 0) return ch_err(err, "out of memory");
    if (at_sweep(t, err) != 0) return -1;
    return at_collect(t, err);
}

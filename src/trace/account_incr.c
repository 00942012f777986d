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

/* Append to account a's history the transfers in [from, to) (committed to
 * the store after its history was read), ascending. */
static int grow_history(ch_atrace *t, at_acct *a, uint64_t from, uint64_t to, ch_error *err) {
    ch_addr ad;
    ch_store_addr_of(t->s, a->addr, &ad);
    uint32_t id;
    uint64_t head;
    int rc = ch_store_find_addr(t->s, &ad, &id, &head, err);
    if (rc <= 0) return rc;
    size_t first_new = a->n_hist, cap = a->n_hist;
    for (int64_t x = (int64_t)head; x >= 0 && (uint64_t)x >= from;
         x = ch_store_xfer_prev(t->s, (uint64_t)x, a->addr)) {
        if ((uint64_t)x >= to) continue;
        if (tr_grow((void **)&a->hist, &cap, a->n_hist + 1, sizeof *a->hist) != 0)
            return ch_err(err, "out of memory");
        a->hist[a->n_hist++] = (uint64_t)x;
        t->st.edge_visits++;
    }
    for (size_t i = first_new, j = a->n_hist; i + 1 < j; i++, j--) {
        uint64_t tmp = a->hist[i];
        a->hist[i] = a->hist[j - 1];
        a->hist[j - 1] = tmp;
    }
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
    if (n > old_n)
        for (size_t i = 0; i < t->n_acct; i++)
            if (grow_history(t, &t->acct[i], old_n, n, err) != 0) return -1;
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

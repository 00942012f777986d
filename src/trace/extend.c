/* A forward UTXO trace carried on as the store grows (a watcher's new
 * blocks): ch_trace_extend. The walk shares transactions out in tx order,
 * and a new block's transactions come after every stored one, so the run
 * over the grown store differs from the run that was made only in what the
 * new transactions do: they spend outputs whose taint the old run left
 * held (those coins move on), they pay address sources (new sources), and
 * they are shared out themselves. The extension does exactly that with the
 * run's own functions (tr_route, tr_walk), so entries are made in the same
 * tx order and every amount equals a fresh run's to the unit
 * (tests/test_trace_extend.c). What it needs of the run: an entry per
 * tainted output (the heap walk: opts.extendable keeps the run off the
 * dense sweep, which keeps none) and the entries indexed by output, to find
 * the held coins a new input spends in one look-up. */
#include <stdlib.h>

#include "trace/trace_internal.h"

/* Forget the last collect: the lists it summed and sorted (the entries
 * keep the truth; collect sums them again when asked). */
static void uncollect(ch_trace *t) {
    free(t->land);
    t->land = NULL;
    t->n_land = 0;
    tr_big_free(t->hold);
    t->hold = NULL;
    t->n_hold = 0;
    t->dn.n_land = 0; /* collect's copies of the entries (no dense sweep ran) */
    t->dn.n_hold = 0;
    t->collected = t->collect_failed = t->sorted = false;
}

/* The outputs [old_outs, n_outs) that pay an address source (from the
 * source height on) become sources: entries from first on, not routed. */
static int new_sources(ch_trace *t, uint64_t old_outs, ch_error *err) {
    for (size_t i = 0; i < t->n_src_addr; i++) {
        bool found;
        if (tr_add_address_outputs(t, t->src_addr[i], old_outs, &found, err) != 0) return -1;
    }
    return 0;
}

/* Coins the run left held at outputs that txs [old_txs, n_txs) spend: each
 * waits in the heap for its spender, as the run would have queued it. */
static int release_held(ch_trace *t, uint64_t old_txs, size_t old_e) {
    uint64_t first = TR_FIRST_IN(tr_txr(t, old_txs));
    for (uint64_t i = first; i < t->n_ins; i++) {
        const ch_in_rec *r = tr_in(t, i);
        if (ch_in_spent_tx(r) == CH_NO_TX || ch_in_spent_tx(r) >= old_txs)
            continue; /* new coins: walked */
        uint64_t o = tr_in_out(t, r);
        if (o >= t->n_outs) continue; /* damaged: its tx is refused when shared out */
        uint32_t ei = tr_map_get(&t->by_out, o);
        if (ei == TR_NONE || ei >= old_e || t->e[ei].state != ST_HOLDING) continue;
        int64_t sp = tr_out_spender(t, o);
        if (sp < 0) continue; /* spent past the committed txs: not yet */
        tr_entry *e = &t->e[ei];
        t->tot.held -= e->amount;
        e->state = ST_PENDING;
        if (tr_heap_push(&t->heap, tr_hkey_make((uint64_t)sp, ei)) != 0) return -1;
    }
    return 0;
}

int ch_trace_extend(ch_trace *t, ch_trace_flow_fn on_new, void *ctx, ch_error *err) {
    if (!t->ran) return ch_err(err, "extend: the trace has not run");
    if (!t->o.extendable || t->o.direction != CH_TRACE_FORWARD || t->o.since || t->o.until)
        return ch_err(err, "extend: only a forward trace made extendable, without a time "
                           "window, can be carried on");
    ch_store_counts c;
    if (t->o.pending)
        ch_store_get_counts_pending(t->s, &c, NULL);
    else
        ch_store_get_counts(t->s, &c);
    if (c.txs < t->n_txs || c.inputs < t->n_ins || c.outputs < t->n_outs)
        return ch_err(err, "extend: the store lost transactions since the trace ran (a reorg "
                           "cut it): trace again");
    if (c.txs > TR_MAX_TXS)
        return ch_err(err,
                      "extend: the store counts %llu transactions, past the 2^40-1 its records "
                      "can number (run 'coinhound check')",
                      (unsigned long long)c.txs);
    uint64_t old_txs = t->n_txs, old_outs = t->n_outs;
    size_t old_e = t->n_e;
    if (tr_view(t) != 0) return ch_err(err, "out of memory");
    uncollect(t);
    if (tr_index_entries(t) != 0) return ch_err(err, "out of memory");
    if (t->n_txs > old_txs) {
        if (new_sources(t, old_outs, err) != 0) return -1;
        /* sources first, as the run routes them before its walk */
        for (size_t i = old_e; i < t->n_e; i++)
            if (tr_route(t, (uint32_t)i, true) != 0) return ch_err(err, "out of memory");
        if (release_held(t, old_txs, old_e) != 0 || tr_walk(t, true, TR_WALK_HEAP) != 0)
            return ch_err(err, "out of memory");
        if (tr_index_entries(t) != 0) return ch_err(err, "out of memory");
    }
    if (t->damaged)
        return ch_err(err,
                      "the store is damaged: tx %llu's inputs or outputs point outside it (run "
                      "'coinhound check')",
                      (unsigned long long)t->damaged_tx);
    for (size_t i = old_e; on_new && i < t->n_e; i++) {
        ch_trace_flow f = tr_flow_of(t, i);
        int rc = on_new(&f, ctx);
        if (rc) return rc;
    }
    return 0;
}

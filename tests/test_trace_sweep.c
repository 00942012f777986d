/* The two walks of a forward trace give the same results.
 *
 * A forward trace walks the heap while its frontier is sparse and sweeps
 * the txs in order once it is dense (trace.c). Which walk runs must not
 * show: on generated chains with a planted theft, for every policy, with
 * and without labels, hop limits, time windows and a minimum amount, the
 * heap alone, the sweep from the start and the switch from one to the
 * other half way (the engine's choice, made early here) give
 * the same totals, landings, holdings, flows and paths, to the unit. */
#include "support/testutil.h"
#include "support/genchain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/gen.h"
#include "coinhound/ingest.h"
#include "coinhound/store.h"
#include "coinhound/trace.h"
#include "trace/trace_internal.h"

/* A generated chain, with its labels loaded for landings. */
typedef struct chain {
    tu_genchain gen;
    ch_store *s; /* gen.s */
    ch_labels *labels;
} chain;

static void chain_make(chain *g, uint64_t seed, uint64_t txs) {
    tu_genchain_make(&g->gen, seed, txs);
    g->s = g->gen.s;
    ch_error err;
    char p[1100];
    snprintf(p, sizeof p, "%s/labels.csv", g->gen.blocks);
    assert_int_equal(ch_labels_new(g->s, NULL, CH_TRACE_DEFAULT_STOP, &g->labels, &err), 0);
    uint64_t rows, skipped;
    if (ch_labels_load_csv(g->labels, p, &rows, &skipped, &err) != 0)
        fail_msg("labels: %s", err.msg);
}

static void chain_close(chain *g) {
    ch_labels_free(g->labels);
    tu_genchain_close(&g->gen);
}

typedef struct flows {
    ch_trace_flow *v;
    size_t n, cap;
} flows;

static int take_flow(const ch_trace_flow *f, void *ctx) {
    flows *x = ctx;
    if (x->n == x->cap) {
        x->cap = x->cap ? 2 * x->cap : 256;
        x->v = realloc(x->v, x->cap * sizeof *x->v);
        assert_non_null(x->v);
    }
    x->v[x->n++] = *f;
    return 0;
}

static ch_trace *run(const chain *g, const ch_trace_opts *o, const uint64_t *src, size_t n_src,
                     int walk) {
    ch_trace *t;
    ch_error err;
    assert_int_equal(ch_trace_new(g->s, o, &t, &err), 0);
    tr_set_walk(t, walk);
    if (walk == TR_WALK_AUTO) t->sw_min = 16; /* switch early: these chains are small */
    for (size_t i = 0; i < n_src; i++)
        assert_int_equal(ch_trace_add_output(t, src[i], &err), 0);
    if (ch_trace_run(t, &err) != 0) fail_msg("trace: %s", err.msg);
    return t;
}

static void assert_same(ch_trace *a, ch_trace *b, const char *what) {
    ch_trace_totals x, y;
    ch_trace_get_totals(a, &x);
    ch_trace_get_totals(b, &y);
    if (memcmp(&x, &y, sizeof x) != 0) fail_msg("%s: totals differ", what);
    const ch_trace_landing *la, *lb;
    size_t nl = ch_trace_landings(a, &la);
    assert_int_equal(nl, ch_trace_landings(b, &lb));
    for (size_t i = 0; i < nl; i++)
        if (la[i].addr != lb[i].addr || la[i].amount != lb[i].amount ||
            la[i].outputs != lb[i].outputs || la[i].hops != lb[i].hops || la[i].out != lb[i].out)
            fail_msg("%s: landing %zu differs", what, i);
    const ch_trace_holding *ha, *hb;
    size_t nh = ch_trace_holdings(a, &ha);
    assert_int_equal(nh, ch_trace_holdings(b, &hb));
    for (size_t i = 1; i < nh; i++) /* largest first, then by address, one per address */
        if (ha[i - 1].amount < ha[i].amount ||
            (ha[i - 1].amount == ha[i].amount && ha[i - 1].addr >= ha[i].addr))
            fail_msg("%s: holdings out of order at %zu", what, i);
    for (size_t i = 0; i < nh; i++)
        if (ha[i].addr != hb[i].addr || ha[i].amount != hb[i].amount ||
            ha[i].outputs != hb[i].outputs)
            fail_msg("%s: holding %zu differs", what, i);
    flows fa = {0}, fb = {0};
    ch_trace_foreach_flow(a, take_flow, &fa);
    ch_trace_foreach_flow(b, take_flow, &fb);
    assert_int_equal(fa.n, fb.n);
    for (size_t i = 0; i < fa.n; i++) {
        const ch_trace_flow *p = &fa.v[i], *q = &fb.v[i];
        if (p->out != q->out || p->addr != q->addr || p->from_tx != q->from_tx ||
            p->to_tx != q->to_tx || p->amount != q->amount || p->hops != q->hops ||
            p->landing != q->landing)
            fail_msg("%s: flow %zu (output %llu) differs", what, i, (unsigned long long)p->out);
    }
    /* the shortest paths, to every 7th tainted output */
    uint64_t pa[64], pb[64];
    for (size_t i = 0; i < fa.n; i += 7) {
        size_t n = ch_trace_path(a, fa.v[i].out, pa, 64);
        assert_int_equal(n, ch_trace_path(b, fa.v[i].out, pb, 64));
        if (memcmp(pa, pb, (n < 64 ? n : 64) * sizeof *pa) != 0)
            fail_msg("%s: path to output %llu differs", what, (unsigned long long)fa.v[i].out);
    }
    free(fa.v);
    free(fb.v);
}

/* The block time of the tx at a share of the chain, for windows. */
static uint32_t time_at(const chain *g, double share) {
    ch_store_counts c;
    ch_store_get_counts(g->s, &c);
    uint64_t tx = (uint64_t)((double)c.txs * share);
    return ch_store_block(g->s, ch_store_tx_height(g->s, tx))->time;
}

static void test_walks_agree(void **state) {
    (void)state;
    static const ch_trace_policy POL[] = {CH_POLICY_POISON, CH_POLICY_HAIRCUT, CH_POLICY_FIFO,
                                          CH_POLICY_LIFO};
    for (uint64_t seed = 1; seed <= 3; seed++) {
        chain g;
        chain_make(&g, seed * 104729, 3000);
        ch_store_counts c;
        ch_store_get_counts(g.s, &c);
        /* sources: the early output of widest reach among a few, a middle
         * one, several at once */
        uint64_t wide = 0, best = 0;
        for (uint64_t k = 0; k < 24; k++) {
            uint64_t o = c.outputs / 40 + 17 * k + seed;
            ch_trace_opts po;
            ch_trace_opts_init(&po);
            po.policy = CH_POLICY_POISON;
            ch_trace *t = run(&g, &po, &o, 1, TR_WALK_HEAP);
            ch_trace_totals tt;
            ch_trace_get_totals(t, &tt);
            if (tt.txs > best) {
                best = tt.txs;
                wide = o;
            }
            ch_trace_free(t);
        }
        uint64_t srcs[][3] = {{wide, 0, 0},
                              {c.outputs / 2 + 3 * seed, 0, 0},
                              {c.outputs / 30, c.outputs / 25 + seed, c.outputs / 4}};
        size_t n_srcs[] = {1, 1, 3};
        for (size_t pi = 0; pi < 4; pi++)
            for (size_t si = 0; si < 3; si++)
                for (int variant = 0; variant < 5; variant++) {
                    ch_trace_opts o;
                    ch_trace_opts_init(&o);
                    o.policy = POL[pi];
                    o.labels = variant == 1 ? NULL : g.labels;
                    if (variant == 2) o.max_hops = 4;
                    if (variant == 3) {
                        o.since = time_at(&g, 0.01);
                        o.until = time_at(&g, 0.6);
                    }
                    if (variant == 4) o.min_amount = 20000;
                    char what[128];
                    snprintf(what, sizeof what, "seed %llu, %s, source set %zu, variant %d",
                             (unsigned long long)seed, ch_trace_policy_name(POL[pi]), si, variant);
                    ch_trace *heap = run(&g, &o, srcs[si], n_srcs[si], TR_WALK_HEAP);
                    ch_trace *sweep = run(&g, &o, srcs[si], n_srcs[si], TR_WALK_SWEEP);
                    ch_trace *aut = run(&g, &o, srcs[si], n_srcs[si], TR_WALK_AUTO);
                    ch_trace_totals tot;
                    ch_trace_get_totals(heap, &tot);
                    if (pi == 0 && si == 0 && variant == 1 && tot.txs < 50)
                        fail_msg("%s: the trace reached only %llu txs", what,
                                 (unsigned long long)tot.txs);
                    assert_same(heap, sweep, what);
                    assert_same(heap, aut, what);
                    ch_trace_free(heap);
                    ch_trace_free(sweep);
                    ch_trace_free(aut);
                }
        chain_close(&g);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walks_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

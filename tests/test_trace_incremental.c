/* A forward account trace carried on block by block (ch_atrace_extend, what
 * the watcher's incident rule runs) equals a full trace over the same
 * blocks. The oracle is the engine's own full run (ch_atrace_run over the
 * window [first, last], itself checked against a naive reference in
 * test_trace_account.c): every total of every asset, every landing (amount,
 * transfers, fewest hops, the transfer it arrived in) and every holding must
 * be equal, for poison, haircut and fifo, on
 *   - a generated chain with a planted theft (evmgen: swaps, tokens, gas,
 *     labelled services), the trace extended one block at a time over a
 *     store that holds them all;
 *   - a store that grows under the trace: blocks committed one by one, the
 *     trace extended after each commit (new transfers of accounts it already
 *     follows, a source tx, landings at a labelled exchange).
 * The moves reported to the hook are checked too: those reported across the
 * extensions are exactly those of a full run (count and amounts), and the
 * landing moves add up to the landed totals. */
#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "coinhound/evmgen.h"
#include "coinhound/ingest.h"
#include "coinhound/store.h"
#include "coinhound/trace_account.h"
#include "support/acctchain.h"

typedef struct moves {
    uint64_t n, landings;
    ch_taint_sum amount, landed;
} moves;

static int count_move(ch_atrace *t, const ch_atrace_move *m, void *ctx) {
    moves *mv = ctx;
    assert_true(m->amount > 0 && m->amount <= m->value);
    ch_atrace_step path[64];
    size_t n = ch_atrace_move_path(t, m, path, 64);
    assert_true(n >= 1);
    if (n <= 64) assert_true(path[n - 1].xfer == m->xfer); /* the path ends at the move */
    mv->n++;
    mv->amount += m->amount;
    if (m->landing) {
        mv->landings++;
        mv->landed += m->amount;
    }
    return 0;
}

static void same_trace(ch_atrace *a, ch_atrace *b, const char *where) {
    const ch_atrace_asset *ta, *tb;
    size_t na = ch_atrace_assets(a, &ta), nb = ch_atrace_assets(b, &tb);
    /* the incremental trace may know assets that held no taint yet: compare
     * every asset either knows, by value */
    for (int side = 0; side < 2; side++) {
        const ch_atrace_asset *v = side ? tb : ta;
        size_t n = side ? nb : na;
        for (size_t i = 0; i < n; i++) {
            ch_atrace_asset x, y;
            ch_atrace_asset_totals(a, v[i].asset, &x);
            ch_atrace_asset_totals(b, v[i].asset, &y);
            if (memcmp(&x, &y, sizeof x) != 0)
                fail_msg("%s: asset %u: totals differ (source %.0f/%.0f landed %.0f/%.0f held "
                         "%.0f/%.0f fees %.0f/%.0f)",
                         where, v[i].asset, (double)x.source, (double)y.source, (double)x.landed,
                         (double)y.landed, (double)x.held, (double)y.held, (double)x.fees,
                         (double)y.fees);
        }
    }
    const ch_atrace_landing *la, *lb;
    size_t nla = ch_atrace_landings(a, &la), nlb = ch_atrace_landings(b, &lb);
    if (nla != nlb) fail_msg("%s: %zu landings, a full trace has %zu", where, nla, nlb);
    for (size_t i = 0; i < nla; i++) {
        if (la[i].addr != lb[i].addr || la[i].asset != lb[i].asset ||
            la[i].amount != lb[i].amount || la[i].xfers != lb[i].xfers ||
            la[i].hops != lb[i].hops || la[i].xfer != lb[i].xfer)
            fail_msg("%s: landing %zu differs (addr %u/%u amount %.0f/%.0f hops %u/%u)", where, i,
                     la[i].addr, lb[i].addr, (double)la[i].amount, (double)lb[i].amount, la[i].hops,
                     lb[i].hops);
        ch_atrace_step pa[256], pb[256];
        size_t npa = ch_atrace_landing_path(a, &la[i], pa, 256);
        size_t npb = ch_atrace_landing_path(b, &lb[i], pb, 256);
        assert_int_equal(npa, npb);
        for (size_t k = 0; k < npa && k < 256; k++)
            assert_true(pa[k].xfer == pb[k].xfer && pa[k].swap == pb[k].swap);
    }
    const ch_atrace_holding *ha, *hb;
    size_t nha = ch_atrace_holdings(a, &ha), nhb = ch_atrace_holdings(b, &hb);
    if (nha != nhb) fail_msg("%s: %zu holdings, a full trace has %zu", where, nha, nhb);
    for (size_t i = 0; i < nha; i++)
        if (ha[i].addr != hb[i].addr || ha[i].asset != hb[i].asset ||
            ha[i].amount != hb[i].amount || ha[i].hops != hb[i].hops)
            fail_msg("%s: holding %zu differs (addr %u/%u amount %.0f/%.0f)", where, i, ha[i].addr,
                     hb[i].addr, (double)ha[i].amount, (double)hb[i].amount);
}

/* A full forward trace of source over [first, last]. */
static ch_atrace *full(ch_store *s, ch_labels *l, ch_trace_policy p, const char *source,
                       uint64_t first, uint64_t last, moves *mv) {
    ch_error err = {{0}};
    ch_atrace_opts o;
    ch_atrace_opts_init(&o);
    o.policy = p;
    o.labels = l;
    o.first_block = first;
    o.last_block = last;
    if (mv) {
        o.on_move = count_move;
        o.move_ctx = mv;
    }
    ch_atrace *t;
    assert_int_equal(ch_atrace_new(s, &o, &t, &err), 0);
    if (ch_atrace_add_from_string(t, source, &err) != 1) fail_msg("source: %s", err.msg);
    if (ch_atrace_run(t, &err) != 0) fail_msg("run: %s", err.msg);
    return t;
}

static void test_extended_block_by_block_equals_a_full_trace(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), gen[2048], db[2048], path[4096];
    snprintf(gen, sizeof gen, "%s/gen", dir);
    snprintf(db, sizeof db, "%s/db", dir);
    ch_error err = {{0}};
    ch_evmgen_opts go;
    ch_evmgen_opts_init(&go);
    go.out_dir = gen;
    go.seed = 23;
    go.transfers = 3000;
    go.theft = true;
    if (ch_evmgen_run(&go, NULL, &err) != 0) fail_msg("evmgen: %s", err.msg);
    ch_ingest_opts io = {0};
    ch_ingest_stats ist;
    if (ch_ingest_evm(gen, db, "eth", &io, &ist, &err) != 0) fail_msg("ingest: %s", err.msg);
    ch_store *s;
    assert_int_equal(ch_store_open(db, "eth", CH_STORE_READ, &s, &err), 0);
    snprintf(path, sizeof path, "%s/theft.json", gen);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    assert_non_null(root);
    const char *exploiter =
        json_string_value(json_object_get(json_object_get(root, "theft"), "exploiter"));
    assert_non_null(exploiter);
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    uint64_t first = ch_store_first_number(s), last = first + c.blocks - 1;
    if (c.blocks < 20) fail_msg("%llu blocks", (unsigned long long)c.blocks);
    for (int p = 0; p < 3; p++) {
        ch_labels *l;
        assert_int_equal(ch_labels_new(s, NULL, NULL, &l, &err), 0);
        snprintf(path, sizeof path, "%s/labels.csv", gen);
        assert_int_equal(ch_labels_load_csv(l, path, NULL, NULL, &err), 0);
        moves inc = {0}, ref = {0};
        /* start with a window of one block, then one block at a time */
        ch_atrace *t = full(s, l, (ch_trace_policy)p, exploiter, first, first, &inc);
        for (uint64_t b = first + 1; b <= last; b++) {
            if (ch_atrace_extend(t, b, &err) != 0)
                fail_msg("extend to %llu: %s", (unsigned long long)b, err.msg);
            if ((b - first) % 9 == 0 || b == last) {
                char where[96];
                snprintf(where, sizeof where, "policy %d, block %llu", p, (unsigned long long)b);
                ch_atrace *f = full(s, l, (ch_trace_policy)p, exploiter, first, b, NULL);
                same_trace(t, f, where);
                ch_atrace_free(f);
            }
        }
        ch_atrace *f = full(s, l, (ch_trace_policy)p, exploiter, first, last, &ref);
        assert_true(inc.n == ref.n && inc.amount == ref.amount && inc.landings == ref.landings);
        assert_true(ref.n > 0 && ref.landings > 0); /* the theft reached services */
        ch_atrace_asset tot;
        ch_taint_sum landed = 0;
        const ch_atrace_asset *all;
        size_t na = ch_atrace_assets(f, &all);
        for (size_t i = 0; i < na; i++) {
            ch_atrace_asset_totals(f, all[i].asset, &tot);
            landed += tot.landed;
        }
        assert_true(inc.landed == landed);
        ch_atrace_free(f);
        ch_atrace_free(t);
        ch_labels_free(l);
    }
    json_decref(root);
    ch_store_close(s);
    tu_rmrf(dir);
    free(dir);
}

/* ---- a store that grows under the trace ---- */

static uint64_t rnd(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static ch_addr who(int n) {
    char hex[41];
    snprintf(hex, sizeof hex, "%040x", 0xa000 + n);
    return ac_addr(hex);
}

#define N_ACCT   10
#define EXCHANGE 20
#define DEX      21
#define TOKEN_C  22
#define VICTIM   23
#define THIEF    24

/* One block of random traffic among the accounts, the thief, the exchange
 * and a DEX (swaps: token to the DEX, ETH back in the same tx), with gas. */
static void random_block(achain *c, uint64_t *seed) {
    ac_block(c);
    int txs = 1 + (int)(rnd(seed) % 4);
    for (int i = 0; i < txs; i++) {
        int kinds = (int)(rnd(seed) % 5);
        int from = (int)(rnd(seed) % (N_ACCT + 1)), to = (int)(rnd(seed) % N_ACCT);
        if (from == N_ACCT) from = THIEF;
        if (rnd(seed) % 6 == 0) to = EXCHANGE;
        ch_addr f = who(from), t = who(to), dex = who(DEX), tok = who(TOKEN_C);
        uint64_t v = 1 + rnd(seed) % 5000;
        ac_tx(c, &f, kinds == 1 ? &tok : &t, 1);
        ac_xfer(c, CH_XFER_FEE, NULL, &f, NULL, 1 + rnd(seed) % 7, 0);
        if (kinds == 0 || kinds >= 3) ac_xfer(c, CH_XFER_NATIVE, NULL, &f, &t, v, 0);
        if (kinds == 1) ac_xfer(c, CH_XFER_TOKEN, &tok, &f, &t, v, 0);
        if (kinds == 2) { /* a swap: token in, ETH out */
            ac_xfer(c, CH_XFER_TOKEN, &tok, &f, &dex, v, 0);
            ac_xfer(c, CH_XFER_INTERNAL, NULL, &dex, &f, v / 2 + 1, 0);
        }
    }
    ac_end_block(c);
}

static void test_extended_as_the_store_grows_equals_a_full_trace(void **state) {
    (void)state;
    for (int p = 0; p < 3; p++) {
        achain c;
        ac_open(&c);
        uint64_t seed = 0x9e3779b97f4a7c15ULL + (uint64_t)p;
        /* block 0: everyone funded in ETH and the token */
        ac_block(&c);
        ch_addr tok = who(TOKEN_C);
        for (int i = 0; i < THIEF; i++) { /* the thief holds only what it steals */
            ch_addr a = who(i);
            ac_tx(&c, NULL, &a, 1);
            ac_xfer(&c, CH_XFER_WITHDRAWAL, NULL, NULL, &a, 100000, 0);
            ac_xfer(&c, CH_XFER_TOKEN, &tok, NULL, &a, 100000, 0);
        }
        ac_end_block(&c);
        /* block 1: the theft */
        ac_block(&c);
        ch_addr victim = who(VICTIM), thief = who(THIEF);
        ac_pay(&c, &victim, &thief, 90000);
        ac_end_block(&c);
        ac_commit(&c);
        char theft[67] = "0x";
        ch_hash256 h = ac_txid(c.n_txs - 1);
        ch_hex_encode(h.b, 32, theft + 2);
        ch_error err = {{0}};
        ch_labels *l;
        assert_int_equal(ch_labels_new(c.s, NULL, NULL, &l, &err), 0);
        char ex[43];
        snprintf(ex, sizeof ex, "0x%040x", 0xa000 + EXCHANGE);
        assert_int_equal(ch_labels_add(l, ex, "exchange", "Test Exchange", &err), 1);
        moves inc = {0}, ref = {0};
        ch_atrace *t = full(c.s, l, (ch_trace_policy)p, theft, 0, 1, &inc);
        for (uint64_t b = 2; b < 80; b++) {
            random_block(&c, &seed);
            ac_commit(&c);
            if (ch_atrace_extend(t, b, &err) != 0) fail_msg("extend: %s", err.msg);
            if (b % 13 == 0 || b == 79) {
                char where[64];
                snprintf(where, sizeof where, "growing, policy %d, block %llu", p,
                         (unsigned long long)b);
                ch_atrace *f = full(c.s, l, (ch_trace_policy)p, theft, 0, b, NULL);
                same_trace(t, f, where);
                ch_atrace_free(f);
            }
        }
        ch_atrace *f = full(c.s, l, (ch_trace_policy)p, theft, 0, 79, &ref);
        assert_true(inc.n == ref.n && inc.amount == ref.amount && inc.landed == ref.landed);
        assert_true(ref.landings > 0);
        ch_atrace_free(f);
        /* a store that lost blocks (a reorg) is refused, never half-traced */
        ch_atrace_free(t);
        ch_labels_free(l);
        ac_close(&c);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extended_block_by_block_equals_a_full_trace),
        cmocka_unit_test(test_extended_as_the_store_grows_equals_a_full_trace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

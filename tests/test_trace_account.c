/* Tracing on account chains: hand-made chains written straight into an
 * account store, expected results computed by hand or by the naive
 * reference below (every transfer of every account replayed, unit by unit
 * for fifo, in long double for haircut). */
#include "support/testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "coinhound/evmgen.h"
#include "coinhound/hash.h"
#include "coinhound/ingest.h"
#include "coinhound/store.h"
#include "coinhound/trace_account.h"

#define ETH   1000000000000000000ULL /* wei */
#define TOKEN 900u                   /* account number of the token contract */

/* ---- a hand-made account chain ---- */

typedef struct ac {
    char *dir;
    ch_store *s;
    ch_error err;
    uint32_t n_blocks, n_txs;
} ac;

/* Account n as an EVM address (n = 0: none). */
static ch_addr eaddr(uint32_t n) {
    ch_addr a = {.kind = CH_ADDR_EVM, .len = 20};
    a.bytes[0] = 0xaa;
    memcpy(a.bytes + 16, &n, 4);
    return a;
}

static ch_hash256 txhash(uint32_t n) {
    ch_hash256 h;
    memset(&h, 0, sizeof h);
    h.b[0] = 0xe7;
    memcpy(h.b + 1, &n, 4);
    return h;
}

static void ac_open(ac *c) {
    memset(c, 0, sizeof *c);
    c->dir = tu_tmpdir();
    assert_int_equal(ch_store_open(c->dir, "eth", CH_STORE_WRITE, &c->s, &c->err), 0);
}

static void ac_block(ac *c) {
    ch_block_meta m = {.time = 1700000000u + c->n_blocks * 12};
    memset(&m.hash, 0, sizeof m.hash);
    m.hash.b[0] = 0xb1;
    memcpy(m.hash.b + 1, &c->n_blocks, 4);
    c->n_blocks++;
    assert_int_equal(ch_store_begin_block(c->s, &m, &c->err), 0);
}

static void ac_end_block(ac *c) {
    assert_int_equal(ch_store_end_block(c->s, &c->err), 0);
}

/* A tx from -> to; returns its number. */
static uint32_t ac_tx(ac *c, uint32_t from, uint32_t to) {
    ch_hash256 h = txhash(c->n_txs);
    ch_addr f = eaddr(from), t = eaddr(to);
    assert_int_equal(ch_store_add_account_tx(c->s, &h, &f, &t, NULL, 1, 2, &c->err), 0);
    return c->n_txs++;
}

/* asset: 0 native, else an account number (the token contract). */
static void ac_xfer(ac *c, ch_xfer_kind kind, uint32_t pos, uint32_t asset, uint32_t from,
                    uint32_t to, uint64_t v) {
    ch_addr as = eaddr(asset), f = eaddr(from), t = eaddr(to);
    assert_int_equal(ch_store_add_transfer(c->s, kind, pos, asset ? &as : NULL, from ? &f : NULL,
                                           to ? &t : NULL, v, 0, 0, &c->err),
                     0);
}

static void ac_finish(ac *c) {
    assert_int_equal(ch_store_commit(c->s, &c->err), 0);
    ch_store_close(c->s);
    assert_int_equal(ch_store_open(c->dir, "eth", CH_STORE_READ, &c->s, &c->err), 0);
}

static void ac_close(ac *c) {
    ch_store_close(c->s);
    tu_rmrf(c->dir);
    free(c->dir);
}

static ch_addr_id id_of(ac *c, uint32_t n) {
    ch_addr a = eaddr(n);
    ch_addr_id id;
    uint64_t last;
    assert_int_equal(ch_store_find_addr(c->s, &a, &id, &last, &c->err), 1);
    return id;
}

static const char *addr_hex(uint32_t n, char buf[43]) {
    ch_addr a = eaddr(n);
    buf[0] = '0';
    buf[1] = 'x';
    for (int i = 0; i < 20; i++)
        sprintf(buf + 2 + 2 * i, "%02x", a.bytes[i]);
    return buf;
}

static ch_labels *labels(ac *c, const uint32_t *acct, const char *const *cat, size_t n) {
    ch_labels *l;
    assert_int_equal(ch_labels_new(c->s, NULL, NULL, &l, &c->err), 0);
    for (size_t i = 0; i < n; i++) {
        char b[43];
        assert_int_equal(ch_labels_add(l, addr_hex(acct[i], b), cat[i], "Ent", &c->err), 1);
    }
    return l;
}

static ch_atrace *run(ac *c, ch_trace_policy p, ch_trace_direction d, ch_labels *l,
                      uint32_t src_addr, int64_t src_tx) {
    ch_atrace_opts o;
    ch_atrace_opts_init(&o);
    o.policy = p;
    o.direction = d;
    o.labels = l;
    ch_atrace *t;
    assert_int_equal(ch_atrace_new(c->s, &o, &t, &c->err), 0);
    if (src_addr) assert_int_equal(ch_atrace_add_address(t, id_of(c, src_addr), &c->err), 0);
    if (src_tx >= 0) assert_int_equal(ch_atrace_add_tx(t, (uint64_t)src_tx, &c->err), 0);
    if (ch_atrace_run(t, &c->err) != 0) fail_msg("run: %s", c->err.msg);
    return t;
}

static ch_taint_sum held_at(ch_atrace *t, ch_addr_id id, ch_addr_id asset) {
    const ch_atrace_holding *h;
    size_t n = ch_atrace_holdings(t, &h);
    for (size_t i = 0; i < n; i++)
        if (h[i].addr == id && h[i].asset == asset) return h[i].amount;
    return 0;
}

static ch_taint_sum landed_at(ch_atrace *t, ch_addr_id id, ch_addr_id asset) {
    const ch_atrace_landing *l;
    size_t n = ch_atrace_landings(t, &l);
    for (size_t i = 0; i < n; i++)
        if (l[i].addr == id && l[i].asset == asset) return l[i].amount;
    return 0;
}

/* Conservation per asset (see trace_account.h). */
static void check_conservation(ch_atrace *t, ch_trace_direction d, ch_trace_policy p) {
    const ch_atrace_asset *a;
    size_t n = ch_atrace_assets(t, &a);
    for (size_t i = 0; i < n; i++) {
        ch_taint_sum in, out;
        if (d == CH_TRACE_FORWARD) {
            in = a[i].source + a[i].swapped_in + a[i].clean_in;
            out = a[i].landed + a[i].held + a[i].fees + a[i].burned + a[i].swapped_out +
                  a[i].below_min + a[i].cut_hops;
        } else {
            if (p == CH_POLICY_POISON) continue;
            in = a[i].source + a[i].swapped_in;
            out = a[i].landed + a[i].minted + a[i].unknown + a[i].swapped_out + a[i].below_min +
                  a[i].cut_hops;
        }
        if (in != out)
            fail_msg("asset %u: in %.0f != out %.0f", a[i].asset, (double)in, (double)out);
    }
}

/* ---- the worked example: 3 stolen ETH and 7 clean in one pool, then a
 * debit of 5 ---- */

typedef struct worked {
    ac c;
    uint32_t src_tx;
} worked;

/* V (1) sends the stolen 3 to P (2) in the source tx, C (3) sends 7 clean
 * (in that order when stolen_first), then P sends 5 to Q (4). */
static void worked_build(worked *w, bool stolen_first) {
    ac *c = &w->c;
    ac_open(c);
    ac_block(c);
    ac_xfer(c, CH_XFER_REWARD, 0, 0, 0, 1, 50 * ETH);
    ac_xfer(c, CH_XFER_REWARD, 0, 0, 0, 3, 50 * ETH);
    ac_end_block(c);
    ac_block(c);
    for (int k = 0; k < 2; k++) {
        if ((k == 0) == stolen_first) {
            w->src_tx = ac_tx(c, 1, 2);
            ac_xfer(c, CH_XFER_NATIVE, 0, 0, 1, 2, 3 * ETH);
        } else {
            ac_tx(c, 3, 2);
            ac_xfer(c, CH_XFER_NATIVE, 0, 0, 3, 2, 7 * ETH);
        }
    }
    ac_tx(c, 2, 4);
    ac_xfer(c, CH_XFER_NATIVE, 0, 0, 2, 4, 5 * ETH);
    ac_end_block(c);
    ac_finish(c);
}

static void test_worked_example(void **state) {
    (void)state;
    for (int order = 0; order < 2; order++) {
        worked w;
        worked_build(&w, order == 0);
        ac *c = &w.c;
        ch_addr_id P = id_of(c, 2), Q = id_of(c, 4);
        /* expected at Q: haircut 1.5, fifo 3 (stolen first) or 0, poison 5 */
        const ch_trace_policy pol[3] = {CH_POLICY_HAIRCUT, CH_POLICY_FIFO, CH_POLICY_POISON};
        const ch_taint_sum at_q[3] = {3 * ETH / 2, order == 0 ? 3 * ETH : 0, 5 * ETH};
        const ch_taint_sum at_p[3] = {3 * ETH / 2, order == 0 ? 0 : 3 * ETH, 5 * ETH};
        for (int i = 0; i < 3; i++) {
            ch_atrace *t = run(c, pol[i], CH_TRACE_FORWARD, NULL, 0, w.src_tx);
            ch_atrace_asset a;
            ch_atrace_asset_totals(t, 0, &a);
            assert_true(a.source == 3 * ETH);
            assert_true(held_at(t, Q, 0) == at_q[i]);
            assert_true(held_at(t, P, 0) == at_p[i]);
            if (pol[i] == CH_POLICY_POISON) assert_true(a.clean_in == 7 * ETH);
            check_conservation(t, CH_TRACE_FORWARD, pol[i]);
            ch_atrace_free(t);
        }
        /* Q an exchange: the same amounts land there, 1 hop, path: both txs */
        uint32_t q4 = 4;
        const char *cat = "exchange";
        ch_labels *l = labels(c, &q4, &cat, 1);
        ch_atrace *t = run(c, CH_POLICY_HAIRCUT, CH_TRACE_FORWARD, l, 0, w.src_tx);
        const ch_atrace_landing *land;
        assert_int_equal(ch_atrace_landings(t, &land), 1);
        assert_true(land[0].amount == 3 * ETH / 2);
        assert_int_equal(land[0].hops, 1);
        assert_string_equal(land[0].label.category, "exchange");
        ch_atrace_step steps[8];
        assert_int_equal(ch_atrace_landing_path(t, &land[0], steps, 8), 2);
        assert_int_equal(ch_store_xfer(c->s, steps[0].xfer)->tx, w.src_tx);
        assert_int_equal(ch_store_xfer(c->s, steps[1].xfer)->tx, 2);
        assert_false(steps[1].swap);
        ch_atrace_free(t);
        ch_labels_free(l);
        ac_close(c);
    }
}

/* ---- fifo with interleaved credits and debits ---- */

static void test_fifo_interleaved(void **state) {
    (void)state;
    ac c;
    ac_open(&c);
    ac_block(&c);
    ac_xfer(&c, CH_XFER_REWARD, 0, 0, 0, 1, 100);
    ac_xfer(&c, CH_XFER_REWARD, 0, 0, 0, 3, 100);
    ac_end_block(&c);
    ac_block(&c);
    ac_tx(&c, 3, 2);
    ac_xfer(&c, CH_XFER_NATIVE, 0, 0, 3, 2, 2); /* P: clean 2 */
    uint32_t src = ac_tx(&c, 1, 2);
    ac_xfer(&c, CH_XFER_NATIVE, 0, 0, 1, 2, 3); /* P: [c2][t3] */
    ac_tx(&c, 2, 11);
    ac_xfer(&c, CH_XFER_NATIVE, 0, 0, 2, 11, 4); /* Q1 <- c2 t2; P: [t1] */
    ac_tx(&c, 3, 2);
    ac_xfer(&c, CH_XFER_NATIVE, 0, 0, 3, 2, 5); /* P: [t1][c5] */
    ac_tx(&c, 2, 12);
    ac_xfer(&c, CH_XFER_NATIVE, 0, 0, 2, 12, 3); /* Q2 <- t1 c2; P: [c3] */
    ac_tx(&c, 2, 13);
    ac_xfer(&c, CH_XFER_NATIVE, 0, 0, 2, 13, 3); /* Q3 <- c3 */
    ac_tx(&c, 11, 14);
    ac_xfer(&c, CH_XFER_NATIVE, 0, 0, 11, 14, 1); /* Q4 <- c1; Q1: [c1][t2] */
    ac_tx(&c, 11, 15);
    ac_xfer(&c, CH_XFER_NATIVE, 0, 0, 11, 15, 3); /* Q5 <- c1 t2 */
    ac_end_block(&c);
    ac_finish(&c);
    ch_atrace *t = run(&c, CH_POLICY_FIFO, CH_TRACE_FORWARD, NULL, 0, src);
    assert_true(held_at(t, id_of(&c, 2), 0) == 0);
    assert_true(held_at(t, id_of(&c, 11), 0) == 0);
    assert_true(held_at(t, id_of(&c, 12), 0) == 1);
    assert_true(held_at(t, id_of(&c, 13), 0) == 0);
    assert_true(held_at(t, id_of(&c, 14), 0) == 0);
    assert_true(held_at(t, id_of(&c, 15), 0) == 2);
    check_conservation(t, CH_TRACE_FORWARD, CH_POLICY_FIFO);
    ch_atrace_free(t);
    ac_close(&c);
}

/* ---- a swap: token in, ETH out in the same tx, then a deposit ---- */

static void test_swap_hop(void **state) {
    (void)state;
    /* V (1) holds 1000 USDT-like tokens; X (2) the thief; D (5) a DEX pool;
     * E (6) an exchange. Gas: 0.01 ETH per tx. */
    const uint64_t fee = ETH / 100;
    ac c;
    ac_open(&c);
    ac_block(&c);
    ac_xfer(&c, CH_XFER_REWARD, 0, 0, 0, 1, 10 * ETH);
    ac_xfer(&c, CH_XFER_REWARD, 0, 0, 0, 2, ETH / 10);
    ac_xfer(&c, CH_XFER_REWARD, 0, 0, 0, 5, 100 * ETH);
    ac_end_block(&c);
    ac_block(&c);
    uint32_t mint = ac_tx(&c, 1, TOKEN);
    ac_xfer(&c, CH_XFER_TOKEN, 0x10000, TOKEN, 0, 1, 1000000000); /* a mint to V */
    uint32_t theft = ac_tx(&c, 1, TOKEN);
    ac_xfer(&c, CH_XFER_FEE, 0, 0, 1, 0, fee);
    ac_xfer(&c, CH_XFER_TOKEN, 0x10000, TOKEN, 1, 2, 1000000000);
    uint32_t swap = ac_tx(&c, 2, 5);
    ac_xfer(&c, CH_XFER_FEE, 0, 0, 2, 0, fee);
    ac_xfer(&c, CH_XFER_INTERNAL, 1, 0, 5, 2, 2 * ETH);           /* ETH back first */
    ac_xfer(&c, CH_XFER_TOKEN, 0x10001, TOKEN, 2, 5, 1000000000); /* then the token log */
    uint32_t dep = ac_tx(&c, 2, 6);
    ac_xfer(&c, CH_XFER_FEE, 0, 0, 2, 0, fee);
    ac_xfer(&c, CH_XFER_NATIVE, 0, 0, 2, 6, 2 * ETH);
    ac_end_block(&c);
    ac_finish(&c);
    (void)mint;
    uint32_t e6 = 6;
    const char *cat = "exchange";
    ch_labels *l = labels(&c, &e6, &cat, 1);
    ch_addr_id X = id_of(&c, 2), D = id_of(&c, 5), E = id_of(&c, 6), tok = id_of(&c, TOKEN);
    for (int p = 0; p < 3; p++) {
        ch_trace_policy pol = p == 0   ? CH_POLICY_FIFO
                              : p == 1 ? CH_POLICY_POISON
                                       : CH_POLICY_HAIRCUT;
        ch_atrace *t = run(&c, pol, CH_TRACE_FORWARD, l, 0, theft);
        ch_atrace_asset tk, eth;
        ch_atrace_asset_totals(t, tok, &tk);
        ch_atrace_asset_totals(t, 0, &eth);
        assert_true(tk.source == 1000000000);
        assert_true(tk.swapped_out == 1000000000);
        assert_true(held_at(t, D, tok) == 0); /* the pool got no tainted tokens */
        assert_true(eth.swapped_in == 2 * ETH);
        /* X's ETH pool: 0.09 clean (0.1 less the swap's gas) then 2 tainted */
        ch_taint_sum land, fees, held;
        if (pol == CH_POLICY_FIFO) { /* gas and deposit take the clean front */
            land = 2 * ETH - (ETH / 10 - 2 * fee);
            fees = 0;
            held = ETH / 10 - 2 * fee;
        } else if (pol == CH_POLICY_POISON) {
            land = 2 * ETH;
            fees = fee;
            held = ETH / 10 - 2 * fee;
            assert_true(eth.clean_in == ETH / 10 - fee);
        } else { /* haircut: pool 2.09 with 2 tainted, gas 0.01, then 2 */
            ch_taint_sum bal = 2 * ETH + ETH / 10 - fee, taint = 2 * ETH;
            fees = (ch_taint_sum)fee * taint / bal;
            taint -= fees;
            bal -= fee;
            land = (ch_taint_sum)2 * ETH * taint / bal;
            held = taint - land;
        }
        assert_true(landed_at(t, E, 0) == land);
        assert_true(eth.fees == fees);
        assert_true(held_at(t, X, 0) == held);
        const ch_atrace_landing *L;
        assert_int_equal(ch_atrace_landings(t, &L), 1);
        assert_int_equal(L[0].hops, 2); /* the swap counts one hop */
        ch_atrace_step st[8];
        assert_int_equal(ch_atrace_landing_path(t, &L[0], st, 8), 3);
        assert_int_equal(ch_store_xfer(c.s, st[0].xfer)->tx, theft);
        assert_int_equal(ch_store_xfer(c.s, st[1].xfer)->tx, swap);
        assert_true(st[1].swap);
        assert_int_equal(ch_store_xfer(c.s, st[2].xfer)->tx, dep);
        check_conservation(t, CH_TRACE_FORWARD, pol);
        ch_atrace_stats s;
        ch_atrace_get_stats(t, &s);
        assert_true(s.swaps >= 1);
        ch_atrace_free(t);
    }
    /* backward from the exchange's deposit: the ETH came from the tokens
     * taken from V (via the swap), and the rest from X's own 0.1 ETH */
    ch_atrace *t = run(&c, CH_POLICY_HAIRCUT, CH_TRACE_BACKWARD, NULL, 6, -1);
    ch_atrace_asset tk, eth;
    ch_atrace_asset_totals(t, tok, &tk);
    ch_atrace_asset_totals(t, 0, &eth);
    assert_true(eth.source == 2 * ETH);
    assert_true(eth.swapped_out > 0 && tk.swapped_in > 0);
    assert_true(tk.minted == tk.swapped_in); /* the tokens were minted to V */
    check_conservation(t, CH_TRACE_BACKWARD, CH_POLICY_HAIRCUT);
    ch_atrace_free(t);
    ch_labels_free(l);
    ac_close(&c);
}

/* ---- fees: a fully tainted pool pays gas ---- */

static void test_fees(void **state) {
    (void)state;
    ac c;
    ac_open(&c);
    ac_block(&c);
    ac_xfer(&c, CH_XFER_REWARD, 0, 0, 0, 3, 100);
    ac_end_block(&c);
    ac_block(&c);
    ac_tx(&c, 3, 2);
    ac_xfer(&c, CH_XFER_NATIVE, 0, 0, 3, 2, 10); /* the source address P (2) gets 10 */
    ac_tx(&c, 2, 4);
    ac_xfer(&c, CH_XFER_FEE, 0, 0, 2, 0, 1);
    ac_xfer(&c, CH_XFER_NATIVE, 0, 0, 2, 4, 4);
    ac_tx(&c, 2, 4); /* a failed tx: only its gas */
    ac_xfer(&c, CH_XFER_FEE, 0, 0, 2, 0, 1);
    ac_end_block(&c);
    ac_finish(&c);
    for (int p = 0; p < 3; p++) {
        ch_trace_policy pol = (ch_trace_policy)p; /* poison, haircut, fifo */
        ch_atrace *t = run(&c, pol, CH_TRACE_FORWARD, NULL, 2, -1);
        ch_atrace_asset a;
        ch_atrace_asset_totals(t, 0, &a);
        assert_true(a.source == 10);
        assert_true(a.fees == 2);
        assert_true(held_at(t, id_of(&c, 4), 0) == 4);
        assert_true(held_at(t, id_of(&c, 2), 0) == 4);
        check_conservation(t, CH_TRACE_FORWARD, pol);
        ch_atrace_free(t);
    }
    ac_close(&c);
}

/* ---- backward: where did Q's 5 come from ---- */

static void test_backward(void **state) {
    (void)state;
    worked w;
    worked_build(&w, true);
    ac *c = &w.c;
    const uint32_t acct[2] = {1, 3};
    const char *const cat[2] = {"mixer", "exchange"};
    ch_labels *l = labels(c, acct, cat, 2);
    ch_addr_id V = id_of(c, 1), C = id_of(c, 3);
    const ch_trace_policy pol[3] = {CH_POLICY_HAIRCUT, CH_POLICY_FIFO, CH_POLICY_POISON};
    const ch_taint_sum from_v[3] = {3 * ETH / 2, 3 * ETH, 3 * ETH};
    const ch_taint_sum from_c[3] = {7 * ETH / 2, 2 * ETH, 7 * ETH};
    for (int i = 0; i < 3; i++) {
        ch_atrace *t = run(c, pol[i], CH_TRACE_BACKWARD, l, 4, -1);
        assert_true(landed_at(t, V, 0) == from_v[i]);
        assert_true(landed_at(t, C, 0) == from_c[i]);
        ch_atrace_asset a;
        ch_atrace_asset_totals(t, 0, &a);
        assert_true(a.source == 5 * ETH);
        check_conservation(t, CH_TRACE_BACKWARD, pol[i]);
        const ch_atrace_landing *L;
        ch_atrace_landings(t, &L);
        assert_int_equal(L[0].hops, 1);
        ch_atrace_free(t);
    }
    /* without labels the value goes back to the rewards that minted it */
    ch_atrace *t = run(c, CH_POLICY_HAIRCUT, CH_TRACE_BACKWARD, NULL, 4, -1);
    ch_atrace_asset a;
    ch_atrace_asset_totals(t, 0, &a);
    assert_true(a.minted == 5 * ETH);
    ch_atrace_free(t);
    ch_labels_free(l);
    ac_close(c);
}

/* ---- max hops ---- */

static void test_max_hops(void **state) {
    (void)state;
    ac c;
    ac_open(&c);
    ac_block(&c);
    ac_xfer(&c, CH_XFER_REWARD, 0, 0, 0, 1, 100);
    ac_end_block(&c);
    ac_block(&c);
    uint32_t src = ac_tx(&c, 1, 2);
    ac_xfer(&c, CH_XFER_NATIVE, 0, 0, 1, 2, 10);
    for (uint32_t k = 2; k < 6; k++) { /* 2 -> 3 -> 4 -> 5 -> 6 */
        ac_tx(&c, k, k + 1);
        ac_xfer(&c, CH_XFER_NATIVE, 0, 0, k, k + 1, 10);
    }
    ac_end_block(&c);
    ac_finish(&c);
    ch_atrace_opts o;
    ch_atrace_opts_init(&o);
    o.max_hops = 2;
    ch_atrace *t;
    assert_int_equal(ch_atrace_new(c.s, &o, &t, &c.err), 0);
    assert_int_equal(ch_atrace_add_tx(t, src, &c.err), 0);
    assert_int_equal(ch_atrace_run(t, &c.err), 0);
    ch_atrace_asset a;
    ch_atrace_asset_totals(t, 0, &a);
    assert_true(held_at(t, id_of(&c, 4), 0) == 0);
    assert_true(a.cut_hops == 10); /* 4 (hop 2) sending on is hop 3 */
    check_conservation(t, CH_TRACE_FORWARD, CH_POLICY_HAIRCUT);
    ch_atrace_free(t);
    ac_close(&c);
}

/* ---- conservation and agreement with a naive reference on random chains ---- */

#define RN   20 /* accounts 1..20: 18, 19 exchanges, 20 a DEX */
#define RDEX 20

typedef struct rx {
    uint32_t tx; /* UINT32_MAX: none */
    uint8_t kind;
    uint8_t asset; /* 0 native, 1 token */
    uint8_t from, to;
    uint64_t v;
} rx;

typedef struct rchain {
    rx *x;
    size_t n, cap;
    uint32_t n_tx;
} rchain;

static uint64_t rng_next(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void rpush(rchain *r, uint32_t tx, ch_xfer_kind k, int asset, int from, int to, uint64_t v) {
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 256;
        r->x = realloc(r->x, r->cap * sizeof *r->x);
        assert_non_null(r->x);
    }
    r->x[r->n++] = (rx){tx, (uint8_t)k, (uint8_t)asset, (uint8_t)from, (uint8_t)to, v};
}

/* A consistent random chain (nobody sends more than it holds). */
static void rgen(rchain *r, uint64_t seed) {
    memset(r, 0, sizeof *r);
    uint64_t bal[RN + 1][2] = {{0}};
    for (int a = 1; a <= RN; a++) {
        rpush(r, UINT32_MAX, CH_XFER_REWARD, 0, 0, a, 200);
        bal[a][0] = 200;
    }
    for (int a = 1; a <= RN; a += 2) { /* token mints */
        rpush(r, r->n_tx++, CH_XFER_TOKEN, 1, 0, a, 300);
        bal[a][1] += 300;
    }
    for (int i = 0; i < 120; i++) {
        int kind = (int)(rng_next(&seed) % 10);
        int a = 1 + (int)(rng_next(&seed) % RN);
        if (bal[a][0] < 2) continue;
        uint32_t tx = r->n_tx++;
        rpush(r, tx, CH_XFER_FEE, 0, a, 0, 1);
        bal[a][0] -= 1;
        if (kind < 2 && a != RDEX && bal[a][1] > 0 && bal[RDEX][0] > 0) {
            /* a swap: the DEX sends ETH first (internal), then the token log */
            uint64_t tv = 1 + rng_next(&seed) % bal[a][1];
            uint64_t ev = 1 + rng_next(&seed) % (bal[RDEX][0] < 80 ? bal[RDEX][0] : 80);
            rpush(r, tx, CH_XFER_INTERNAL, 0, RDEX, a, ev);
            rpush(r, tx, CH_XFER_TOKEN, 1, a, RDEX, tv);
            bal[RDEX][0] -= ev, bal[a][0] += ev, bal[a][1] -= tv, bal[RDEX][1] += tv;
            continue;
        }
        int parts = kind < 4 ? 2 : 1;
        for (int p = 0; p < parts; p++) {
            int asset = (int)(rng_next(&seed) % 3 == 0);
            int b = 1 + (int)(rng_next(&seed) % RN);
            if (!bal[a][asset]) continue;
            uint64_t v = 1 + rng_next(&seed) % bal[a][asset];
            rpush(r, tx, asset ? CH_XFER_TOKEN : CH_XFER_NATIVE, asset, a, b, v);
            bal[a][asset] -= v;
            bal[b][asset] += v;
        }
        if (kind == 9 && bal[a][0] > 0) { /* a burn */
            rpush(r, tx, CH_XFER_NATIVE, 0, a, 0, 1);
            bal[a][0] -= 1;
        }
    }
}

/* Write it into a store with values times scale. */
static void rstore(ac *c, const rchain *r, uint64_t scale) {
    ac_open(c);
    ac_block(c);
    uint32_t cur = UINT32_MAX;
    uint32_t pos = 0;
    for (size_t i = 0; i < r->n; i++) {
        const rx *x = &r->x[i];
        if (x->tx != UINT32_MAX && x->tx != cur) {
            cur = x->tx;
            ac_tx(c, x->from ? x->from : 1, x->to ? x->to : 1);
            pos = 0;
        }
        ac_xfer(c, (ch_xfer_kind)x->kind, pos++, x->asset ? TOKEN : 0, x->from, x->to,
                x->v * scale);
    }
    ac_end_block(c);
    ac_finish(c);
}

/* The reference: every account's pools replayed; fifo as one flag per unit. */
typedef struct upool {
    uint8_t *u; /* units, front at h */
    size_t h, n, cap;
} upool;

static void u_push(upool *p, uint8_t f, uint64_t k) {
    while (p->n + k > p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->u = realloc(p->u, p->cap);
        assert_non_null(p->u);
    }
    memset(p->u + p->n, f, k);
    p->n += k;
}

typedef struct ref {
    long double bal[RN + 1][2], taint[RN + 1][2]; /* haircut and poison */
    bool poisoned[RN + 1][2];
    upool q[RN + 1][2];
    long double landed[RN + 1][2], fees, held[RN + 1][2];
} ref;

/* Units moved by one transfer (fifo), or its taint. */
typedef struct moved {
    long double t;
    uint8_t *u;
    uint64_t n;
} moved;

static bool is_stop(int a) {
    return a == 18 || a == 19;
}

static void ref_debit(ref *R, ch_trace_policy p, int a, int s, uint64_t v, moved *m) {
    m->n = v;
    m->u = calloc(v ? v : 1, 1);
    if (!a) return;
    if (p == CH_POLICY_FIFO) {
        upool *q = &R->q[a][s];
        for (uint64_t k = 0; k < v && q->h < q->n; k++)
            m->u[k] = q->u[q->h++];
        m->t = 0;
        for (uint64_t k = 0; k < v; k++)
            m->t += m->u[k];
    } else if (p == CH_POLICY_POISON) {
        m->t = R->poisoned[a][s] ? v : 0;
    } else {
        m->t = R->bal[a][s] > 0 ? R->taint[a][s] * v / R->bal[a][s] : 0;
        R->taint[a][s] -= m->t;
    }
    R->bal[a][s] -= v;
}

static void ref_credit(ref *R, ch_trace_policy p, const rx *x, moved *m) {
    int b = x->to, s = x->asset;
    if (x->kind == CH_XFER_FEE || !b) {
        if (x->kind == CH_XFER_FEE) R->fees += m->t;
        return;
    }
    if (is_stop(b)) {
        R->landed[b][s] += m->t;
        m->t = 0;
        memset(m->u, 0, m->n);
    }
    if (p == CH_POLICY_FIFO) {
        for (uint64_t k = 0; k < m->n; k++)
            u_push(&R->q[b][s], m->u[k], 1);
    } else if (p == CH_POLICY_POISON) {
        if (m->t > 0) R->poisoned[b][s] = true;
    } else {
        R->taint[b][s] += m->t;
    }
    R->bal[b][s] += x->v;
}

static void ref_full(moved *m, uint64_t v) {
    m->t = v;
    memset(m->u, 1, v);
}

/* Forward reference over the whole chain. src_addr or src_tx. */
static void ref_run(ref *R, const rchain *r, ch_trace_policy p, int src_addr, uint32_t src_tx) {
    memset(R, 0, sizeof *R);
    size_t i = 0;
    while (i < r->n) {
        size_t e = i + 1;
        if (r->x[i].tx != UINT32_MAX)
            while (e < r->n && r->x[e].tx == r->x[i].tx)
                e++;
        /* swap accounts: send asset A (not gas), receive B they do not send */
        bool sends[RN + 1][2] = {{false}}, swap_in[RN + 1][2] = {{false}};
        for (size_t k = i; k < e; k++)
            if (r->x[k].kind != CH_XFER_FEE && r->x[k].from) sends[r->x[k].from][r->x[k].asset] = 1;
        for (size_t k = i; k < e; k++) {
            const rx *x = &r->x[k];
            if (x->to && x->from != x->to && !sends[x->to][x->asset] &&
                (sends[x->to][0] || sends[x->to][1]))
                swap_in[x->to][x->asset] = true;
        }
        moved def[16];
        size_t def_k[16], n_def = 0;
        long double out_v[RN + 1] = {0}, out_t[RN + 1] = {0};
        uint8_t *line[RN + 1] = {0};
        uint64_t line_n[RN + 1] = {0};
        for (size_t k = i; k < e; k++) {
            const rx *x = &r->x[k];
            moved m = {0};
            ref_debit(R, p, x->from, x->asset, x->v, &m);
            if (x->tx == src_tx && src_tx != UINT32_MAX && x->kind != CH_XFER_FEE)
                ref_full(&m, x->v);
            bool swap_out = x->kind != CH_XFER_FEE && x->from && swap_in[x->from][!x->asset];
            if (swap_out) {
                int a = x->from;
                out_v[a] += x->v;
                out_t[a] += m.t;
                line[a] = realloc(line[a], line_n[a] + x->v);
                memcpy(line[a] + line_n[a], m.u, x->v);
                line_n[a] += x->v;
                m.t = 0;
                memset(m.u, 0, m.n);
            }
            /* the source address: what it receives is tainted in full */
            if (x->to == src_addr && src_addr) ref_full(&m, x->v);
            if (x->to && swap_in[x->to][x->asset] && x->to != src_addr) {
                assert_true(n_def < 16);
                def[n_def] = m;
                def_k[n_def++] = k;
                continue;
            }
            ref_credit(R, p, x, &m);
            free(m.u);
        }
        /* swap credits: in proportion to the swap debits (fifo: unit by unit) */
        for (int a = 1; a <= RN; a++) {
            uint64_t vb = 0, cum = 0;
            for (size_t d = 0; d < n_def; d++)
                if (r->x[def_k[d]].to == a) vb += r->x[def_k[d]].v;
            uint8_t *bl = calloc(vb ? vb : 1, 1);
            for (uint64_t u = 0; u < line_n[a]; u++) { /* unit u of A covers these of B */
                uint64_t b0 = (uint64_t)((unsigned __int128)u * vb / line_n[a]);
                uint64_t b1 = (uint64_t)((unsigned __int128)(u + 1) * vb / line_n[a]);
                memset(bl + b0, line[a][u], b1 - b0);
            }
            for (size_t d = 0; d < n_def; d++) {
                const rx *x = &r->x[def_k[d]];
                if (x->to != a) continue;
                moved *m = &def[d];
                if (p == CH_POLICY_FIFO) {
                    m->t = 0;
                    for (uint64_t k = 0; k < x->v; k++)
                        m->t += (m->u[k] |= bl[cum + k]);
                } else if (p == CH_POLICY_POISON) {
                    if (out_t[a] > 0) m->t = x->v;
                } else if (out_v[a] > 0) {
                    m->t += out_t[a] * x->v / out_v[a];
                    if (m->t > x->v) m->t = x->v;
                }
                cum += x->v;
                ref_credit(R, p, x, m);
            }
            free(bl);
            free(line[a]);
        }
        for (size_t d = 0; d < n_def; d++)
            free(def[d].u);
        i = e;
    }
    for (int a = 1; a <= RN; a++)
        for (int s = 0; s < 2; s++) {
            if (is_stop(a)) continue;
            if (p == CH_POLICY_FIFO) {
                for (size_t k = R->q[a][s].h; k < R->q[a][s].n; k++)
                    R->held[a][s] += R->q[a][s].u[k];
            } else if (p == CH_POLICY_POISON) {
                R->held[a][s] = R->poisoned[a][s] ? R->bal[a][s] : 0;
            } else {
                R->held[a][s] = R->taint[a][s];
            }
        }
    for (int a = 0; a <= RN; a++)
        for (int s = 0; s < 2; s++)
            free(R->q[a][s].u);
}

static int g_round, g_policy, g_asset;

static void near(long double got, long double want, long double tol, const char *what, int a) {
    if (fabsl(got - want) > tol)
        fail_msg("round %d policy %d asset %d: %s at %d: engine %.6Lf, reference %.6Lf", g_round,
                 g_policy, g_asset, what, a, got, want);
}

static void test_random_chains(void **state) {
    (void)state;
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    ref *R = malloc(sizeof *R);
    assert_non_null(R);
    uint64_t swaps = 0, landings = 0;
    for (int round = 0; round < 40; round++) {
        rchain r;
        rgen(&r, seed + (uint64_t)round * 7919);
        uint64_t pick = rng_next(&seed);
        int src_addr = pick % 2 ? 1 + (int)(pick / 2 % 10) : 0;
        uint32_t src_tx = src_addr ? UINT32_MAX : (uint32_t)(RN / 2 + pick / 2 % 20);
        for (int p = 0; p < 3; p++) {
            ch_trace_policy pol = (ch_trace_policy)p;
            /* haircut at a large scale (rounding is then negligible) */
            uint64_t scale = pol == CH_POLICY_HAIRCUT ? 1000000000000ULL : 1;
            ac c;
            rstore(&c, &r, scale);
            const uint32_t acct[2] = {18, 19};
            const char *const cat[2] = {"exchange", "bridge"};
            ch_labels *l = labels(&c, acct, cat, 2);
            ch_atrace *t = run(&c, pol, CH_TRACE_FORWARD, l, (uint32_t)src_addr,
                               src_addr ? -1 : (int64_t)src_tx);
            check_conservation(t, CH_TRACE_FORWARD, pol);
            ref_run(R, &r, pol, src_addr, src_tx);
            long double tol = pol == CH_POLICY_HAIRCUT ? 1e-6L : 0;
            ch_addr_id tok = id_of(&c, TOKEN);
            for (int a = 1; a <= RN; a++)
                for (int s = 0; s < 2; s++) {
                    ch_addr ad = eaddr((uint32_t)a);
                    ch_addr_id id;
                    uint64_t last;
                    if (ch_store_find_addr(c.s, &ad, &id, &last, &c.err) != 1) continue;
                    ch_addr_id asset = s ? tok : 0;
                    g_round = round, g_policy = p, g_asset = s;
                    near((long double)landed_at(t, id, asset) / scale, R->landed[a][s], tol,
                         "landed", a);
                    near((long double)held_at(t, id, asset) / scale, R->held[a][s], tol, "held", a);
                }
            ch_atrace_asset eth;
            ch_atrace_asset_totals(t, 0, &eth);
            near((long double)eth.fees / scale, R->fees, tol, "fees", 0);
            ch_atrace_stats st;
            ch_atrace_get_stats(t, &st);
            swaps += st.swaps;
            landings += ch_atrace_landings(t, &(const ch_atrace_landing *){0});
            ch_atrace_free(t);
            ch_labels_free(l);
            ac_close(&c);
        }
        free(r.x);
    }
    free(R);
    /* the chains exercised what they are meant to */
    assert_true(swaps > 0);
    assert_true(landings > 0);
}

/* ---- backward conservation on random chains ---- */

static void test_random_backward(void **state) {
    (void)state;
    for (int round = 0; round < 20; round++) {
        rchain r;
        rgen(&r, 777 + (uint64_t)round);
        ac c;
        rstore(&c, &r, 1000);
        for (int p = 0; p < 3; p++) {
            ch_atrace *t =
                run(&c, (ch_trace_policy)p, CH_TRACE_BACKWARD, NULL, 1 + (uint32_t)round % RN, -1);
            check_conservation(t, CH_TRACE_BACKWARD, (ch_trace_policy)p);
            ch_atrace_free(t);
        }
        ac_close(&c);
        free(r.x);
    }
}

/* ---- the EVM generator's planted theft: landings agree with theft.json ---- */

static void test_generated_theft(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), gen[2048], db[2048], path[4096];
    snprintf(gen, sizeof gen, "%s/gen", dir);
    snprintf(db, sizeof db, "%s/db", dir);
    ch_error err = {{0}};
    ch_evmgen_opts go;
    ch_evmgen_opts_init(&go);
    go.out_dir = gen;
    go.seed = 11;
    go.transfers = 8000;
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
    json_t *theft = json_object_get(root, "theft");
    const char *exploiter = json_string_value(json_object_get(theft, "exploiter"));
    json_t *want = json_object_get(theft, "landings");
    assert_non_null(exploiter);
    assert_true(json_array_size(want) > 0);
    for (int p = 0; p < 3; p++) {
        ch_labels *l;
        assert_int_equal(ch_labels_new(s, NULL, NULL, &l, &err), 0);
        snprintf(path, sizeof path, "%s/labels.csv", gen);
        assert_int_equal(ch_labels_load_csv(l, path, NULL, NULL, &err), 0);
        ch_atrace_opts o;
        ch_atrace_opts_init(&o);
        o.policy = (ch_trace_policy)p;
        o.labels = l;
        ch_atrace *t;
        assert_int_equal(ch_atrace_new(s, &o, &t, &err), 0);
        assert_int_equal(ch_atrace_add_from_string(t, exploiter, &err), 1);
        assert_int_equal(ch_atrace_run(t, &err), 0);
        check_conservation(t, CH_TRACE_FORWARD, (ch_trace_policy)p);
        /* every expected landing (summed per address and asset) is found */
        const ch_atrace_landing *land;
        size_t nl = ch_atrace_landings(t, &land);
        size_t i;
        json_t *w;
        ch_taint_sum want_total = 0, got_total = 0;
        json_array_foreach(want, i, w) {
            const char *addr = json_string_value(json_object_get(w, "address"));
            const char *asset = json_string_value(json_object_get(w, "asset"));
            const char *amt = json_string_value(json_object_get(w, "amount"));
            ch_taint_sum v = 0;
            for (const char *c = amt; *c; c++)
                v = v * 10 + (ch_taint_sum)(*c - '0');
            want_total += v;
            ch_addr a = {.kind = CH_ADDR_EVM, .len = 20};
            assert_int_equal(ch_hex_decode(addr + 2, 40, a.bytes, 20), 0);
            ch_addr_id id;
            ch_addr_id aid = 0;
            uint64_t last;
            assert_int_equal(ch_store_find_addr(s, &a, &id, &last, &err), 1);
            if (strcmp(asset, "native") != 0) {
                ch_addr b = {.kind = CH_ADDR_EVM, .len = 20};
                assert_int_equal(ch_hex_decode(asset + 2, 40, b.bytes, 20), 0);
                assert_int_equal(ch_store_find_addr(s, &b, &aid, &last, &err), 1);
            }
            ch_taint_sum got = landed_at(t, id, aid), sum = 0;
            json_t *w2;
            size_t j;
            json_array_foreach(want, j, w2) /* the same address may land twice */
                if (!strcmp(addr, json_string_value(json_object_get(w2, "address"))) &&
                    !strcmp(asset, json_string_value(json_object_get(w2, "asset")))) {
                ch_taint_sum v2 = 0;
                for (const char *c = json_string_value(json_object_get(w2, "amount")); *c; c++)
                    v2 = v2 * 10 + (ch_taint_sum)(*c - '0');
                sum += v2;
            }
            if (got != sum)
                fail_msg("policy %d: landing %s %s: %.0f, want %.0f", p, addr, asset, (double)got,
                         (double)sum);
        }
        for (size_t k = 0; k < nl; k++)
            got_total += land[k].amount;
        assert_true(got_total == want_total); /* and no landing that is not expected */
        ch_atrace_free(t);
        ch_labels_free(l);
    }
    json_decref(root);
    ch_store_close(s);
    tu_rmrf(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worked_example),  cmocka_unit_test(test_fifo_interleaved),
        cmocka_unit_test(test_swap_hop),        cmocka_unit_test(test_fees),
        cmocka_unit_test(test_backward),        cmocka_unit_test(test_max_hops),
        cmocka_unit_test(test_random_chains),   cmocka_unit_test(test_random_backward),
        cmocka_unit_test(test_generated_theft),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

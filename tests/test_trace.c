/* Taint tracing.
 *
 * Expected results come from outside the engine: the worked example of
 * methods.md computed by hand on a chain built with the store's write API;
 * a small reference tracer in this file (a plain scan over every tx in
 * order, dense arrays indexed by output, long double haircut, interval
 * overlap by a double loop) for generated chains with a planted theft; and
 * the generator's own theft.json for the amounts that no policy can change.
 * Conservation and "poison covers haircut" are checked as properties over
 * several seeds. */
#include "support/testutil.h"
#include "support/genchain.h"
#include "support/handchain.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/address.h"
#include "coinhound/gen.h"
#include "coinhound/ingest.h"
#include "coinhound/store.h"
#include "coinhound/trace.h"

#define BTC  100000000ULL
#define UNIT CH_TAINT_ONE

static uint64_t find_tx(ch_store *s, const ch_hash256 *id) {
    uint64_t tx;
    ch_error err;
    assert_int_equal(ch_store_find_tx(s, id, &tx, &err), 1);
    return tx;
}

static uint64_t outpoint(ch_store *s, const ch_hash256 *id, uint32_t vout) {
    uint64_t fo, no;
    ch_store_tx_outputs(s, find_tx(s, id), &fo, &no);
    assert_true(vout < no);
    return fo + vout;
}

/* Run a trace from one outpoint; labels may be NULL. */
static ch_trace *run_from(ch_store *s, ch_trace_policy p, ch_trace_direction d, ch_labels *l,
                          uint64_t out) {
    ch_trace_opts o;
    ch_trace_opts_init(&o);
    o.policy = p;
    o.direction = d;
    o.labels = l;
    ch_trace *t;
    ch_error err;
    assert_int_equal(ch_trace_new(s, &o, &t, &err), 0);
    assert_int_equal(ch_trace_add_output(t, out, &err), 0);
    if (ch_trace_run(t, &err) != 0) fail_msg("trace: %s", err.msg);
    return t;
}

/* The taint a trace left on an output (units), from the flow. */
typedef struct find_ctx {
    uint64_t out;
    uint64_t amount;
    bool found;
} find_ctx;

static int find_flow(const ch_trace_flow *f, void *vctx) {
    find_ctx *c = vctx;
    if (f->out == c->out) {
        c->amount = f->amount;
        c->found = true;
    }
    return 0;
}

static uint64_t taint_of(const ch_trace *t, uint64_t out) {
    find_ctx c = {.out = out};
    ch_trace_foreach_flow(t, find_flow, &c);
    return c.amount;
}

/* ---- the worked example ------------------------------------------------ */

/* Coinbases pay 3 BTC (stolen, to address 1) and 7 BTC (clean, address 2);
 * one tx spends stolen then clean into `outs`. */
typedef struct example {
    hand h;
    ch_hash256 stolen, clean, mix;
} example;

static void build_example(example *e, bool clean_first, const hout *outs, size_t n) {
    hand_open(&e->h);
    hand_block(&e->h, 1000);
    hout s = {3 * BTC, 1}, c = {7 * BTC, 2};
    e->stolen = hand_coinbase(&e->h, &s, 1);
    e->clean = hand_coinbase(&e->h, &c, 1);
    hand_end_block(&e->h);
    hand_block(&e->h, 2000);
    hin in[2] = {{e->stolen, 0}, {e->clean, 0}};
    if (clean_first) {
        in[0] = (hin){e->clean, 0};
        in[1] = (hin){e->stolen, 0};
    }
    e->mix = hand_tx(&e->h, in, 2, outs, n);
    hand_end_block(&e->h);
    hand_finish(&e->h);
}

static void assert_conserved(const ch_trace *t) {
    ch_trace_totals x;
    ch_trace_get_totals(t, &x);
    ch_taint_sum out = x.landed + x.held + x.fees + x.coinbase + x.below_min + x.cut_hops +
                       x.cut_window + x.returned;
    if (out != x.source)
        fail_msg("conservation: source %.4f != %.4f out", ch_taint_double(x.source),
                 ch_taint_double(out));
}

static void test_worked_example_one_output(void **state) {
    (void)state;
    example e;
    hout one = {10 * BTC, 3};
    build_example(&e, false, &one, 1);
    ch_store *s = e.h.s;
    uint64_t src = outpoint(s, &e.stolen, 0), dst = outpoint(s, &e.mix, 0);

    ch_trace *t = run_from(s, CH_POLICY_POISON, CH_TRACE_FORWARD, NULL, src);
    assert_true(taint_of(t, dst) == 10 * BTC * UNIT); /* poison: all 10 */
    ch_trace_free(t);

    t = run_from(s, CH_POLICY_HAIRCUT, CH_TRACE_FORWARD, NULL, src);
    assert_true(taint_of(t, dst) == 3 * BTC * UNIT); /* 10 BTC at 30% */
    const ch_trace_holding *hold;
    assert_int_equal(ch_trace_holdings(t, &hold), 1);
    assert_true(hold[0].amount == (ch_taint_sum)3 * BTC * UNIT);
    assert_conserved(t);
    ch_trace_free(t);

    t = run_from(s, CH_POLICY_FIFO, CH_TRACE_FORWARD, NULL, src);
    assert_true(taint_of(t, dst) == 3 * BTC * UNIT);
    assert_conserved(t);
    ch_trace_free(t);
    hand_close(&e.h);
}

static void test_worked_example_fifo_split(void **state) {
    (void)state;
    example e;
    hout two[2] = {{3 * BTC, 3}, {7 * BTC, 4}};
    build_example(&e, false, two, 2);
    ch_store *s = e.h.s;
    uint64_t src = outpoint(s, &e.stolen, 0);
    uint64_t o0 = outpoint(s, &e.mix, 0), o1 = outpoint(s, &e.mix, 1);

    ch_trace *t = run_from(s, CH_POLICY_FIFO, CH_TRACE_FORWARD, NULL, src);
    assert_true(taint_of(t, o0) == 3 * BTC * UNIT); /* the first output is the stolen 3 */
    assert_true(taint_of(t, o1) == 0);
    assert_conserved(t);
    ch_trace_free(t);

    /* lifo lays the clean 7 first: the stolen 3 fall into the 7 BTC output */
    t = run_from(s, CH_POLICY_LIFO, CH_TRACE_FORWARD, NULL, src);
    assert_true(taint_of(t, o0) == 0);
    assert_true(taint_of(t, o1) == 3 * BTC * UNIT);
    ch_trace_free(t);

    /* haircut: 30% of each */
    t = run_from(s, CH_POLICY_HAIRCUT, CH_TRACE_FORWARD, NULL, src);
    assert_true(taint_of(t, o0) == 9 * BTC / 10 * UNIT);
    assert_true(taint_of(t, o1) == 21 * BTC / 10 * UNIT);
    ch_trace_free(t);
    hand_close(&e.h);
}

/* Outputs 6 + 3.9, fee 0.1. */
static void test_worked_example_fees(void **state) {
    (void)state;
    example e;
    hout two[2] = {{6 * BTC, 3}, {39 * BTC / 10, 4}};
    build_example(&e, false, two, 2);
    ch_store *s = e.h.s;
    uint64_t src = outpoint(s, &e.stolen, 0);
    uint64_t o0 = outpoint(s, &e.mix, 0), o1 = outpoint(s, &e.mix, 1);
    ch_trace_totals x;

    /* haircut: 30% everywhere, 0.03 BTC of it to the miners */
    ch_trace *t = run_from(s, CH_POLICY_HAIRCUT, CH_TRACE_FORWARD, NULL, src);
    assert_true(taint_of(t, o0) == 18 * BTC / 10 * UNIT);
    assert_true(taint_of(t, o1) == 117 * BTC / 100 * UNIT);
    ch_trace_get_totals(t, &x);
    assert_true(x.fees == (ch_taint_sum)3 * BTC / 100 * UNIT);
    assert_conserved(t);
    ch_trace_free(t);

    /* poison: every output and the fee fully */
    t = run_from(s, CH_POLICY_POISON, CH_TRACE_FORWARD, NULL, src);
    ch_trace_get_totals(t, &x);
    assert_true(x.held == (ch_taint_sum)99 * BTC / 10 * UNIT);
    assert_true(x.fees == (ch_taint_sum)BTC / 10 * UNIT);
    assert_true(x.clean_in == (ch_taint_sum)7 * BTC * UNIT);
    ch_trace_free(t);

    /* fifo: the stolen 3 sit at the start of the 6 BTC output */
    t = run_from(s, CH_POLICY_FIFO, CH_TRACE_FORWARD, NULL, src);
    assert_true(taint_of(t, o0) == 3 * BTC * UNIT);
    ch_trace_get_totals(t, &x);
    assert_true(x.fees == 0);
    ch_trace_free(t);
    hand_close(&e.h);

    /* clean first: the stolen 3 are [7, 10) of the line, the 3.9 output is
     * [6, 9.9) and the fee [9.9, 10): 2.9 BTC to the output, 0.1 to fees */
    build_example(&e, true, two, 2);
    s = e.h.s;
    src = outpoint(s, &e.stolen, 0);
    o1 = outpoint(s, &e.mix, 1);
    t = run_from(s, CH_POLICY_FIFO, CH_TRACE_FORWARD, NULL, src);
    assert_true(taint_of(t, o1) == 29 * BTC / 10 * UNIT);
    ch_trace_get_totals(t, &x);
    assert_true(x.fees == (ch_taint_sum)BTC / 10 * UNIT);
    assert_conserved(t);
    ch_trace_free(t);
    hand_close(&e.h);
}

/* A landing: the mix pays an exchange; amount, hops and path. */
static void test_landing_and_path(void **state) {
    (void)state;
    example e;
    hout two[2] = {{6 * BTC, 3}, {39 * BTC / 10, 4}};
    build_example(&e, false, two, 2);
    ch_store *s = e.h.s;
    ch_labels *l;
    ch_error err;
    char buf[CH_ADDR_STR_MAX];
    assert_int_equal(ch_labels_new(s, NULL, CH_TRACE_DEFAULT_STOP, &l, &err), 0);
    assert_int_equal(ch_labels_add(l, addr_str(3, buf), "exchange", "Northwind", &err), 1);
    assert_int_equal(ch_labels_add(l, addr_str(4, buf), "hacker", "Someone", &err), 1);
    assert_int_equal(ch_labels_add(l, addr_str(999, buf), "exchange", "Absent", &err), 0);
    uint64_t src = outpoint(s, &e.stolen, 0);
    ch_trace *t = run_from(s, CH_POLICY_HAIRCUT, CH_TRACE_FORWARD, l, src);
    const ch_trace_landing *land;
    assert_int_equal(ch_trace_landings(t, &land), 1);
    assert_string_equal(land[0].label.entity, "Northwind");
    assert_string_equal(land[0].label.category, "exchange");
    assert_true(land[0].amount == (ch_taint_sum)18 * BTC / 10 * UNIT);
    assert_int_equal(land[0].hops, 1);
    uint64_t path[4];
    assert_int_equal(ch_trace_path(t, land[0].out, path, 4), 2);
    assert_true(path[0] == find_tx(s, &e.stolen));
    assert_true(path[1] == find_tx(s, &e.mix));
    /* "hacker" is no stop category: that output is a holding */
    const ch_trace_holding *hold;
    assert_int_equal(ch_trace_holdings(t, &hold), 1);
    assert_true(hold[0].amount == (ch_taint_sum)117 * BTC / 100 * UNIT);
    assert_conserved(t);
    char amt[64];
    assert_string_equal(ch_taint_str(land[0].amount, amt), "180000000");
    assert_string_equal(ch_taint_str(UNIT / 2 + 3 * UNIT, amt), "3.5");
    assert_string_equal(ch_taint_str(1, amt), "0.0001220703125");
    ch_trace_free(t);

    /* --stop-at none: no landing */
    ch_trace_opts o;
    ch_trace_opts_init(&o);
    o.labels = l;
    o.stop_at = "";
    assert_int_equal(ch_trace_new(s, &o, &t, &err), 0);
    assert_int_equal(ch_trace_add_output(t, src, &err), 0);
    assert_int_equal(ch_trace_run(t, &err), 0);
    assert_int_equal(ch_trace_landings(t, &land), 0);
    ch_trace_free(t);
    ch_labels_free(l);
    hand_close(&e.h);
}

/* ---- backward ---------------------------------------------------------- */

/* C1 pays 5 BTC to an exchange (10), C2 5 BTC to a user (11); Y spends both
 * into 8 BTC (12) + 1.9 BTC (13); Z spends the 8 into 7.9 BTC (14). Where
 * did Z's output come from? */
static void test_backward(void **state) {
    (void)state;
    hand h;
    hand_open(&h);
    hand_block(&h, 1000);
    hout c1 = {5 * BTC, 10}, c2 = {5 * BTC, 11};
    ch_hash256 C1 = hand_coinbase(&h, &c1, 1), C2 = hand_coinbase(&h, &c2, 1);
    hand_end_block(&h);
    hand_block(&h, 2000);
    hin yin[2] = {{C1, 0}, {C2, 0}};
    hout yout[2] = {{8 * BTC, 12}, {19 * BTC / 10, 13}};
    ch_hash256 Y = hand_tx(&h, yin, 2, yout, 2);
    hin zin = {Y, 0};
    hout zout = {79 * BTC / 10, 14};
    ch_hash256 Z = hand_tx(&h, &zin, 1, &zout, 1);
    hand_end_block(&h);
    hand_finish(&h);
    ch_store *s = h.s;
    ch_labels *l;
    ch_error err;
    char buf[CH_ADDR_STR_MAX];
    assert_int_equal(ch_labels_new(s, NULL, NULL, &l, &err), 0);
    assert_int_equal(ch_labels_add(l, addr_str(10, buf), "exchange", "Quarry", &err), 1);
    uint64_t src = outpoint(s, &Z, 0);
    ch_trace_totals x;
    const ch_trace_landing *land;

    /* haircut: Y's 8 BTC output carries 7.9; Y's inputs 5 + 5 each give half */
    ch_trace *t = run_from(s, CH_POLICY_HAIRCUT, CH_TRACE_BACKWARD, l, src);
    assert_true(taint_of(t, outpoint(s, &Y, 0)) == 79 * BTC / 10 * UNIT);
    assert_true(taint_of(t, outpoint(s, &Y, 1)) == 0);
    assert_int_equal(ch_trace_landings(t, &land), 1);
    assert_true(land[0].amount == (ch_taint_sum)395 * BTC / 100 * UNIT);
    assert_int_equal(land[0].hops, 2);
    uint64_t path[3];
    assert_int_equal(ch_trace_path(t, land[0].out, path, 3), 3);
    assert_true(path[0] == find_tx(s, &Z) && path[1] == find_tx(s, &Y) &&
                path[2] == find_tx(s, &C1));
    ch_trace_get_totals(t, &x);
    assert_true(x.coinbase == (ch_taint_sum)395 * BTC / 100 * UNIT);
    assert_true(x.fees == 0 && x.held == 0);
    assert_conserved(t);
    ch_trace_free(t);

    /* fifo: the 7.9 are [0, 7.9) of Y's output line: 5 from the exchange's
     * coin, 2.9 from the user's */
    t = run_from(s, CH_POLICY_FIFO, CH_TRACE_BACKWARD, l, src);
    assert_int_equal(ch_trace_landings(t, &land), 1);
    assert_true(land[0].amount == (ch_taint_sum)5 * BTC * UNIT);
    ch_trace_get_totals(t, &x);
    assert_true(x.coinbase == (ch_taint_sum)29 * BTC / 10 * UNIT);
    assert_conserved(t);
    ch_trace_free(t);

    /* poison: both inputs in full */
    t = run_from(s, CH_POLICY_POISON, CH_TRACE_BACKWARD, l, src);
    assert_int_equal(ch_trace_landings(t, &land), 1);
    assert_true(land[0].amount == (ch_taint_sum)5 * BTC * UNIT);
    ch_trace_get_totals(t, &x);
    assert_true(x.coinbase == (ch_taint_sum)5 * BTC * UNIT);
    ch_trace_free(t);

    /* max hops 1: stops after Z, with the 7.9 on Y's output */
    ch_trace_opts o;
    ch_trace_opts_init(&o);
    o.direction = CH_TRACE_BACKWARD;
    o.labels = l;
    o.max_hops = 1;
    assert_int_equal(ch_trace_new(s, &o, &t, &err), 0);
    assert_int_equal(ch_trace_add_output(t, src, &err), 0);
    assert_int_equal(ch_trace_run(t, &err), 0);
    ch_trace_get_totals(t, &x);
    assert_true(x.cut_hops == (ch_taint_sum)79 * BTC / 10 * UNIT);
    assert_conserved(t);
    ch_trace_free(t);
    ch_labels_free(l);
    hand_close(&h);
}

/* An address that pays itself: its change is counted as returned. Also the
 * time window and min amount. */
static void test_address_source_and_limits(void **state) {
    (void)state;
    hand h;
    hand_open(&h);
    hand_block(&h, 1000);
    hout c1 = {10 * BTC, 20};
    ch_hash256 C1 = hand_coinbase(&h, &c1, 1);
    hand_end_block(&h);
    hand_block(&h, 2000);
    hin in1 = {C1, 0};
    hout o1[2] = {{4 * BTC, 21}, {5 * BTC, 20}}; /* 5 back to itself, fee 1 */
    ch_hash256 A = hand_tx(&h, &in1, 1, o1, 2);
    hand_end_block(&h);
    hand_block(&h, 3000);
    hin in2 = {A, 0};
    hout o2 = {4 * BTC - 1000, 22};
    hand_tx(&h, &in2, 1, &o2, 1);
    hand_end_block(&h);
    hand_finish(&h);
    ch_store *s = h.s;
    ch_error err;
    char buf[CH_ADDR_STR_MAX];
    ch_trace_opts o;
    ch_trace_opts_init(&o);
    ch_trace *t;
    ch_trace_totals x;
    assert_int_equal(ch_trace_new(s, &o, &t, &err), 0);
    assert_int_equal(ch_trace_add_from_string(t, addr_str(20, buf), &err), 1);
    assert_int_equal(ch_trace_run(t, &err), 0);
    ch_trace_get_totals(t, &x);
    assert_true(x.source == (ch_taint_sum)15 * BTC * UNIT); /* 10 + 5 received */
    assert_true(x.returned == (ch_taint_sum)5 * BTC * UNIT);
    assert_true(x.fees == (ch_taint_sum)(BTC + 1000) * UNIT);
    assert_conserved(t);
    ch_trace_free(t);

    /* until 2500: the last tx is outside the window */
    o.until = 2500;
    assert_int_equal(ch_trace_new(s, &o, &t, &err), 0);
    assert_int_equal(ch_trace_add_output(t, outpoint(s, &C1, 0), &err), 0);
    assert_int_equal(ch_trace_run(t, &err), 0);
    ch_trace_get_totals(t, &x);
    assert_true(x.cut_window == (ch_taint_sum)4 * BTC * UNIT);
    assert_conserved(t);
    ch_trace_free(t);

    /* min amount 4.5 BTC: the 4 BTC output is dropped */
    o.until = 0;
    o.min_amount = 45 * BTC / 10;
    assert_int_equal(ch_trace_new(s, &o, &t, &err), 0);
    assert_int_equal(ch_trace_add_output(t, outpoint(s, &C1, 0), &err), 0);
    assert_int_equal(ch_trace_run(t, &err), 0);
    ch_trace_get_totals(t, &x);
    assert_true(x.below_min == (ch_taint_sum)4 * BTC * UNIT);
    assert_true(x.held == (ch_taint_sum)5 * BTC * UNIT);
    assert_conserved(t);
    ch_trace_free(t);

    /* the --from syntax */
    assert_int_equal(ch_trace_new(s, &o, &t, &err), 0);
    assert_int_equal(ch_trace_add_from_string(t, "zz", &err), -1);
    assert_int_equal(
        ch_trace_add_from_string(
            t, "00000000000000000000000000000000000000000000000000000000000000ff", &err),
        0);
    assert_non_null(strstr(err.msg, "not in the store"));
    char txid[80];
    ch_hash256_to_hex(&A, txid);
    strcat(txid, ":7");
    assert_int_equal(ch_trace_add_from_string(t, txid, &err), 0);
    txid[64] = '\0';
    strcat(txid, ":x");
    assert_int_equal(ch_trace_add_from_string(t, txid, &err), -1);
    ch_trace_free(t);
    hand_close(&h);
}

/* ---- generated chains --------------------------------------------------- */

typedef tu_genchain genchain;

static void gen_chain(genchain *g, uint64_t seed, uint64_t txs) {
    tu_genchain_make(g, seed, txs);
}
static void gen_close(genchain *g) {
    tu_genchain_close(g);
}

/* theft.json: the stolen outpoint and the landings the generator planted. */
typedef struct theft {
    json_t *j;
    uint64_t out;
} theft;

static void load_theft(genchain *g, theft *th) {
    char p[4200];
    snprintf(p, sizeof p, "%s/theft.json", g->blocks);
    json_error_t je;
    th->j = json_load_file(p, 0, &je);
    assert_non_null(th->j);
    ch_hash256 id;
    assert_int_equal(
        ch_hash256_from_hex(json_string_value(json_object_get(th->j, "theft_txid")), &id), 0);
    th->out =
        outpoint(g->s, &id, (uint32_t)json_integer_value(json_object_get(th->j, "theft_vout")));
}

/* ---- the reference tracer ---------------------------------------------- *
 * Deliberately simple: dense arrays over every output, a scan over every tx
 * after the source in order (no heap), the store's public accessors, the
 * stop set as address strings read from labels.csv by hand, haircut in long
 * double, fifo overlap by a double loop. */

typedef struct ref_iv {
    uint64_t a, b;
} ref_iv;

typedef struct ref {
    ch_store *s;
    uint64_t n_txs, n_outs;
    long double *taint; /* satoshi, per output */
    bool *tainted;
    ref_iv **iv; /* fifo intervals per output */
    size_t *n_iv;
    char **stop_addr;
    size_t n_stop;
    bool *stops; /* per output: pays a stop address */
    /* results: landings per address string */
    char (*land_addr)[CH_ADDR_STR_MAX];
    long double *land_amt;
    size_t n_land;
} ref;

static bool ref_is_stop(ref *r, uint64_t o) {
    const ch_out_rec *rec = ch_store_output(r->s, o);
    if (!ch_out_addr(rec)) return false;
    ch_addr a;
    char buf[CH_ADDR_STR_MAX];
    ch_store_addr_of(r->s, ch_out_addr(rec), &a);
    if (ch_addr_to_string(&a, ch_store_addr_net(r->s), buf) != 0) return false;
    for (size_t i = 0; i < r->n_stop; i++)
        if (!strcmp(r->stop_addr[i], buf)) return true;
    return false;
}

static void ref_land(ref *r, uint64_t o, long double amt) {
    ch_addr a;
    char buf[CH_ADDR_STR_MAX];
    ch_store_addr_of(r->s, ch_out_addr(ch_store_output(r->s, o)), &a);
    ch_addr_to_string(&a, ch_store_addr_net(r->s), buf);
    for (size_t i = 0; i < r->n_land; i++)
        if (!strcmp(r->land_addr[i], buf)) {
            r->land_amt[i] += amt;
            return;
        }
    r->land_addr = realloc(r->land_addr, (r->n_land + 1) * sizeof *r->land_addr);
    r->land_amt = realloc(r->land_amt, (r->n_land + 1) * sizeof *r->land_amt);
    strcpy(r->land_addr[r->n_land], buf);
    r->land_amt[r->n_land++] = amt;
}

static void ref_load_labels(ref *r, const char *csv) {
    FILE *f = fopen(csv, "r");
    assert_non_null(f);
    char line[1024];
    assert_non_null(fgets(line, sizeof line, f)); /* header */
    while (fgets(line, sizeof line, f)) {
        char *c1 = strchr(line, ',');
        if (!c1) continue;
        char *c2 = strchr(c1 + 1, ',');
        *c1 = '\0';
        if (c2) *c2 = '\0';
        const char *cat = c1 + 1;
        if (strcmp(cat, "exchange") && strcmp(cat, "mixer") && strcmp(cat, "bridge") &&
            strcmp(cat, "gambling") && strcmp(cat, "payment_processor"))
            continue;
        r->stop_addr = realloc(r->stop_addr, (r->n_stop + 1) * sizeof *r->stop_addr);
        r->stop_addr[r->n_stop++] = strdup(line);
    }
    fclose(f);
}

/* Put taint on output o (created by a processed tx or a source). Landings
 * stop there; everything else waits for its spender. */
static void ref_put(ref *r, uint64_t o, long double amt, ref_iv *iv, size_t n) {
    if (amt <= 0) {
        free(iv);
        return;
    }
    if (r->stops[o]) {
        ref_land(r, o, amt);
        free(iv);
        return;
    }
    r->tainted[o] = true;
    r->taint[o] = amt;
    r->iv[o] = iv;
    r->n_iv[o] = n;
}

static void ref_run(ref *r, ch_trace_policy p, uint64_t src) {
    ch_store_counts c;
    ch_store_get_counts(r->s, &c);
    r->n_txs = c.txs;
    r->n_outs = c.outputs;
    r->taint = calloc(c.outputs, sizeof *r->taint);
    r->tainted = calloc(c.outputs, sizeof *r->tainted);
    r->iv = calloc(c.outputs, sizeof *r->iv);
    r->n_iv = calloc(c.outputs, sizeof *r->n_iv);
    r->stops = calloc(c.outputs, sizeof *r->stops);
    for (uint64_t o = 0; o < c.outputs; o++)
        r->stops[o] = ref_is_stop(r, o);
    uint64_t v0 = CH_OUT_VALUE(ch_store_output(r->s, src));
    ref_iv *whole = malloc(sizeof *whole);
    whole->a = 0;
    whole->b = v0;
    ref_put(r, src, (long double)v0, whole, 1);
    for (uint64_t tx = 0; tx < c.txs; tx++) {
        uint64_t fi, ni, fo, no;
        ch_store_tx_inputs(r->s, tx, &fi, &ni);
        ch_store_tx_outputs(r->s, tx, &fo, &no);
        long double T = 0;
        uint64_t V = 0, W = 0;
        bool any = false;
        for (uint64_t i = 0; i < ni; i++) {
            int64_t o = ch_store_input_spent_output(r->s, fi + i);
            if (o < 0) continue;
            V += CH_OUT_VALUE(ch_store_output(r->s, (uint64_t)o));
            if (r->tainted[o]) {
                any = true;
                T += r->taint[o];
            }
        }
        if (!any) continue;
        for (uint64_t j = 0; j < no; j++)
            W += CH_OUT_VALUE(ch_store_output(r->s, fo + j));
        /* fifo: every tainted interval against every output, by overlap */
        uint64_t pos = 0, opos = 0;
        ref_iv *line = NULL;
        size_t n_line = 0;
        for (uint64_t i = 0; i < ni; i++) {
            int64_t o = ch_store_input_spent_output(r->s, fi + i);
            uint64_t v = CH_OUT_VALUE(ch_store_output(r->s, (uint64_t)o));
            if (r->tainted[o]) {
                for (size_t k = 0; k < r->n_iv[o]; k++) {
                    line = realloc(line, (n_line + 1) * sizeof *line);
                    line[n_line].a = r->iv[o][k].a + pos;
                    line[n_line].b = r->iv[o][k].b + pos;
                    n_line++;
                }
                r->tainted[o] = false; /* consumed */
            }
            pos += v;
        }
        for (uint64_t j = 0; j < no; j++) {
            uint64_t w = CH_OUT_VALUE(ch_store_output(r->s, fo + j));
            long double amt = 0;
            ref_iv *iv = NULL;
            size_t n = 0;
            if (p == CH_POLICY_POISON) {
                amt = (long double)w;
            } else if (p == CH_POLICY_HAIRCUT) {
                amt = (long double)w * T / (long double)V;
            } else {
                for (size_t k = 0; k < n_line; k++) {
                    uint64_t a = line[k].a > opos ? line[k].a : opos;
                    uint64_t b = line[k].b < opos + w ? line[k].b : opos + w;
                    if (a >= b) continue;
                    iv = realloc(iv, (n + 1) * sizeof *iv);
                    iv[n].a = a - opos;
                    iv[n].b = b - opos;
                    n++;
                    amt += (long double)(b - a);
                }
            }
            ref_put(r, fo + j, amt, iv, n);
            opos += w;
        }
        free(line);
    }
}

static void ref_free(ref *r) {
    for (uint64_t o = 0; o < r->n_outs; o++)
        free(r->iv[o]);
    for (size_t i = 0; i < r->n_stop; i++)
        free(r->stop_addr[i]);
    free(r->stop_addr);
    free(r->iv);
    free(r->n_iv);
    free(r->taint);
    free(r->tainted);
    free(r->stops);
    free(r->land_addr);
    free(r->land_amt);
}

static ch_labels *gen_labels(genchain *g) {
    ch_labels *l;
    ch_error err;
    char p[4200];
    snprintf(p, sizeof p, "%s/labels.csv", g->blocks);
    assert_int_equal(ch_labels_new(g->s, NULL, CH_TRACE_DEFAULT_STOP, &l, &err), 0);
    uint64_t rows, skipped;
    if (ch_labels_load_csv(l, p, &rows, &skipped, &err) != 0) fail_msg("labels: %s", err.msg);
    assert_true(rows > 0);
    return l;
}

static const char *land_str(ch_store *s, const ch_trace_landing *l, char buf[CH_ADDR_STR_MAX]) {
    ch_addr a;
    ch_store_addr_of(s, l->addr, &a);
    assert_int_equal(ch_addr_to_string(&a, ch_store_addr_net(s), buf), 0);
    return buf;
}

/* The planted theft: the engine's landings equal the reference tracer's,
 * and the amounts no policy can change equal theft.json's. */
static void test_planted_theft(void **state) {
    (void)state;
    genchain g;
    gen_chain(&g, 11, 4000);
    theft th;
    load_theft(&g, &th);
    ch_labels *l = gen_labels(&g);
    char p[4200];
    snprintf(p, sizeof p, "%s/labels.csv", g.blocks);
    ch_trace_policy pols[] = {CH_POLICY_POISON, CH_POLICY_HAIRCUT, CH_POLICY_FIFO};
    for (size_t pi = 0; pi < 3; pi++) {
        ref r = {.s = g.s};
        ref_load_labels(&r, p);
        ref_run(&r, pols[pi], th.out);
        ch_trace *t = run_from(g.s, pols[pi], CH_TRACE_FORWARD, l, th.out);
        const ch_trace_landing *land;
        size_t n = ch_trace_landings(t, &land);
        assert_int_equal(n, r.n_land);
        for (size_t i = 0; i < n; i++) {
            char buf[CH_ADDR_STR_MAX];
            land_str(g.s, &land[i], buf);
            size_t k = 0;
            while (k < r.n_land && strcmp(r.land_addr[k], buf))
                k++;
            if (k == r.n_land)
                fail_msg("%s: landing %s not in the reference", ch_trace_policy_name(pols[pi]),
                         buf);
            long double diff = fabsl(r.land_amt[k] - (long double)ch_taint_double(land[i].amount));
            if (pols[pi] == CH_POLICY_HAIRCUT ? diff > 1.0L : diff != 0.0L)
                fail_msg("%s: %s: engine %.4f, reference %.4Lf", ch_trace_policy_name(pols[pi]),
                         buf, ch_taint_double(land[i].amount), r.land_amt[k]);
        }
        /* theft.json: every planted landing is found; peel and split
         * deposits carry only stolen coins, so every policy lands them in
         * full */
        json_t *jl = json_object_get(th.j, "landings");
        size_t ji;
        json_t *x;
        json_array_foreach(jl, ji, x) {
            const char *a = json_string_value(json_object_get(x, "address"));
            const char *via = json_string_value(json_object_get(x, "via"));
            uint64_t amt = (uint64_t)json_integer_value(json_object_get(x, "amount"));
            /* fifo gives the thief's place on the CoinJoin's line to
             * whichever outputs overlap it, not to "his" equal output */
            if (!strcmp(via, "coinjoin") && pols[pi] == CH_POLICY_FIFO) continue;
            size_t k = 0;
            char buf[CH_ADDR_STR_MAX];
            while (k < n && strcmp(land_str(g.s, &land[k], buf), a))
                k++;
            if (k == n)
                fail_msg("%s: planted landing %s missed", ch_trace_policy_name(pols[pi]), a);
            if (strcmp(via, "coinjoin") && pols[pi] != CH_POLICY_POISON)
                assert_true(land[k].amount == (ch_taint_sum)amt * UNIT);
            assert_true(land[k].amount >=
                        (ch_taint_sum)(pols[pi] == CH_POLICY_POISON ? amt : 0) * UNIT);
            assert_string_equal(land[k].label.entity,
                                json_string_value(json_object_get(x, "entity")));
        }
        /* the dormant split is still held in full (not by fifo through the
         * coinjoin change, which depends on the input order) */
        json_t *d0 = json_array_get(json_object_get(th.j, "dormant"), 0);
        const ch_trace_holding *hold;
        size_t nh = ch_trace_holdings(t, &hold);
        bool seen = false;
        for (size_t i = 0; i < nh; i++) {
            ch_addr a;
            char buf[CH_ADDR_STR_MAX];
            if (!hold[i].addr) continue;
            ch_store_addr_of(g.s, hold[i].addr, &a);
            ch_addr_to_string(&a, ch_store_addr_net(g.s), buf);
            if (!strcmp(buf, json_string_value(json_object_get(d0, "address")))) {
                seen = true;
                assert_true(hold[i].amount ==
                            (ch_taint_sum)json_integer_value(json_object_get(d0, "amount")) * UNIT);
            }
        }
        assert_true(seen);
        ch_trace_free(t);
        ref_free(&r);
    }
    json_decref(th.j);
    ch_labels_free(l);
    gen_close(&g);
}

/* Sets of outputs a trace reached, for "poison covers haircut". */
typedef struct outset {
    uint64_t *v;
    size_t n, cap;
} outset;

static int collect(const ch_trace_flow *f, void *vctx) {
    outset *s = vctx;
    if (s->n == s->cap) s->v = realloc(s->v, (s->cap = s->cap ? 2 * s->cap : 256) * sizeof *s->v);
    s->v[s->n++] = f->out;
    return 0;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void check_conservation(ch_store *s, ch_labels *l, uint64_t src, ch_trace_direction d,
                               uint32_t max_hops, uint64_t min_amount) {
    ch_trace_policy pols[] = {CH_POLICY_POISON, CH_POLICY_HAIRCUT, CH_POLICY_FIFO, CH_POLICY_LIFO};
    outset sets[4] = {{0}};
    for (size_t pi = 0; pi < 4; pi++) {
        ch_trace_opts o;
        ch_trace_opts_init(&o);
        o.policy = pols[pi];
        o.direction = d;
        o.labels = l;
        o.max_hops = max_hops;
        o.min_amount = min_amount;
        ch_trace *t;
        ch_error err;
        assert_int_equal(ch_trace_new(s, &o, &t, &err), 0);
        assert_int_equal(ch_trace_add_output(t, src, &err), 0);
        assert_int_equal(ch_trace_run(t, &err), 0);
        ch_trace_totals x;
        ch_trace_get_totals(t, &x);
        ch_taint_sum out = x.landed + x.held + x.fees + x.coinbase + x.below_min + x.cut_hops +
                           x.cut_window + x.returned;
        if (pols[pi] == CH_POLICY_POISON)
            assert_true(out == x.source + x.clean_in); /* poison's own invariant */
        else
            assert_true(out == x.source); /* exact, to the 1/8192 satoshi */
        /* landings and holdings add up to their totals */
        const ch_trace_landing *land;
        const ch_trace_holding *hold;
        size_t nl = ch_trace_landings(t, &land), nh = ch_trace_holdings(t, &hold);
        ch_taint_sum sl = 0, sh = 0;
        for (size_t i = 0; i < nl; i++)
            sl += land[i].amount;
        for (size_t i = 0; i < nh; i++)
            sh += hold[i].amount;
        assert_true(sl == x.landed && sh == x.held);
        ch_trace_foreach_flow(t, collect, &sets[pi]);
        qsort(sets[pi].v, sets[pi].n, sizeof *sets[pi].v, cmp_u64);
        ch_trace_free(t);
    }
    /* poison reaches every output haircut reaches (with no min amount;
     * a min amount may keep poison's larger amounts where haircut's drop,
     * never the reverse) */
    for (size_t i = 0; i < sets[1].n; i++)
        if (!bsearch(&sets[1].v[i], sets[0].v, sets[0].n, sizeof *sets[0].v, cmp_u64))
            fail_msg("haircut reached output %llu, poison did not",
                     (unsigned long long)sets[1].v[i]);
    for (size_t pi = 0; pi < 4; pi++)
        free(sets[pi].v);
}

static void test_conservation_property(void **state) {
    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        genchain g;
        gen_chain(&g, seed * 7919, 2500);
        theft th;
        load_theft(&g, &th);
        ch_labels *l = gen_labels(&g);
        ch_store_counts c;
        ch_store_get_counts(g.s, &c);
        /* the theft, then a few outputs picked by the seed */
        uint64_t srcs[4] = {th.out, c.outputs / 5 + seed, c.outputs / 3 + 7 * seed,
                            c.outputs / 2 + seed};
        for (size_t i = 0; i < 4; i++) {
            check_conservation(g.s, l, srcs[i], CH_TRACE_FORWARD, 0, 0);
            check_conservation(g.s, NULL, srcs[i], CH_TRACE_FORWARD, 0, 0);
            check_conservation(g.s, l, srcs[i], CH_TRACE_FORWARD, 3, 50000);
            check_conservation(g.s, l, srcs[i], CH_TRACE_BACKWARD, 0, 0);
            check_conservation(g.s, NULL, srcs[i], CH_TRACE_BACKWARD, 6, 1000);
        }
        json_decref(th.j);
        ch_labels_free(l);
        gen_close(&g);
    }
}

/* ---- the command ------------------------------------------------------- */

static char *run_cli(const char *args, int *status) {
    const char *bin = tu_bin("coinhound");
    size_t n = strlen(bin) + strlen(args) + 16;
    char *cmd = malloc(n);
    snprintf(cmd, n, "%s trace %s", bin, args);
    char *out = tu_run(cmd, status);
    free(cmd);
    return out;
}

static void test_cli(void **state) {
    (void)state;
    genchain g;
    gen_chain(&g, 5, 2000);
    theft th;
    load_theft(&g, &th);
    const char *txid = json_string_value(json_object_get(th.j, "theft_txid"));
    char args[8192];
    int st;

    /* --json: the contract's fields and types */
    snprintf(args, sizeof args,
             "--db %s --from %s:0 --labels %s/labels.csv --policy haircut --json", g.db, txid,
             g.blocks);
    char *out = run_cli(args, &st);
    assert_int_equal(st, 0);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j) fail_msg("not JSON: %s\n%s", je.text, out);
    assert_string_equal(json_string_value(json_object_get(j, "policy")), "haircut");
    assert_string_equal(json_string_value(json_object_get(j, "direction")), "forward");
    assert_true(json_is_string(json_object_get(j, "source")));
    /* amounts are decimal strings of whole satoshi (issue 12: one contract
     * with account chains, whose wei do not fit a double) */
    char want_total[32];
    snprintf(want_total, sizeof want_total, "%lld",
             (long long)json_integer_value(json_object_get(th.j, "amount")));
    assert_string_equal(json_string_value(json_object_get(j, "tainted_total")), want_total);
    assert_true(json_is_string(json_object_get(j, "fees")));
    assert_true(json_is_string(json_object_get(j, "below_min")));
    assert_true(json_is_integer(json_object_get(j, "edge_visits")));
    json_t *land = json_object_get(j, "landings"), *x;
    assert_true(json_is_array(land) && json_array_size(land) > 0);
    size_t i;
    json_array_foreach(land, i, x) {
        assert_true(json_is_string(json_object_get(x, "address")));
        assert_true(json_is_string(json_object_get(x, "entity")));
        assert_true(json_is_string(json_object_get(x, "category")));
        assert_true(json_is_string(json_object_get(x, "amount")));
        assert_true(json_is_integer(json_object_get(x, "hops")));
        json_t *path = json_object_get(x, "path");
        assert_true(json_is_array(path));
        assert_int_equal(json_array_size(path), json_integer_value(json_object_get(x, "hops")) + 1);
        assert_string_equal(json_string_value(json_array_get(path, 0)), txid);
    }
    json_t *hold = json_object_get(j, "holdings");
    assert_true(json_is_array(hold));
    json_array_foreach(hold, i, x) {
        json_t *a = json_object_get(x, "address");
        assert_true(json_is_string(a) || json_is_null(a));
        assert_true(json_is_string(json_object_get(x, "amount")));
    }
    json_decref(j);
    free(out);

    /* --csv */
    snprintf(args, sizeof args, "--db %s --from %s --labels %s/labels.csv --policy fifo --csv",
             g.db, txid, g.blocks);
    out = run_cli(args, &st);
    assert_int_equal(st, 0);
    assert_true(!strncmp(out, "address,entity,category,amount,hops\n", 36));
    assert_non_null(strstr(out, ",exchange,"));
    free(out);

    /* --dot */
    snprintf(args, sizeof args, "--db %s --from %s --labels %s/labels.csv --policy poison --dot",
             g.db, txid, g.blocks);
    out = run_cli(args, &st);
    assert_int_equal(st, 0);
    assert_true(!strncmp(out, "digraph", 7));
    assert_non_null(strstr(out, "->"));
    assert_true(out[strlen(out) - 2] == '}');
    free(out);

    /* the default summary */
    snprintf(args, sizeof args, "--db %s --from %s --labels %s/labels.csv --max-hops 4", g.db, txid,
             g.blocks);
    out = run_cli(args, &st);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "By entity"));
    free(out);

    /* unknown txid: exit 1 with a clear message; malformed: exit 2 */
    snprintf(args, sizeof args,
             "--db %s --from 00000000000000000000000000000000000000000000000000000000000000ff "
             "2>&1",
             g.db);
    out = run_cli(args, &st);
    assert_int_equal(st, 1);
    assert_non_null(strstr(out, "not in the store"));
    free(out);
    snprintf(args, sizeof args, "--db %s --from nonsense 2>&1", g.db);
    out = run_cli(args, &st);
    assert_int_equal(st, 2);
    free(out);
    snprintf(args, sizeof args, "--db %s --from %s --policy nope 2>&1", g.db, txid);
    out = run_cli(args, &st);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "--policy"));
    free(out);
    out = run_cli("--help", &st);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "example"));
    free(out);
    json_decref(th.j);
    gen_close(&g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worked_example_one_output),
        cmocka_unit_test(test_worked_example_fifo_split),
        cmocka_unit_test(test_worked_example_fees),
        cmocka_unit_test(test_landing_and_path),
        cmocka_unit_test(test_backward),
        cmocka_unit_test(test_address_source_and_limits),
        cmocka_unit_test(test_planted_theft),
        cmocka_unit_test(test_conservation_property),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

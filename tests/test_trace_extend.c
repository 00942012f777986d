/* A forward UTXO trace carried on block by block (ch_trace_extend, what
 * watch btc's incident rule runs) equals a full trace over the same store.
 * A chain from coinhound-gen with a planted theft (peels, a split, a
 * CoinJoin, deposits at labelled exchanges) is ingested up to the theft's
 * block into a store opened for writing, as the watcher holds it; the
 * trace runs there, and then the store takes the rest of the chain one
 * block per commit, the trace extended after each. The oracle is a fresh
 * ch_trace_run over the grown store after every block (the engine's own
 * full run, itself checked against a naive reference in test_trace.c, and
 * left to pick its dense sweep): every total, every landing (amount,
 * outputs, fewest hops) and every holding must be equal to the unit, for
 * poison, haircut, fifo and lifo, from the theft tx, its output, the
 * thief's address, and an address paid again and again (the miner of the
 * theft's block: its later receipts become sources as they arrive),
 * and with max_hops and a minimum. The outputs the extensions report are
 * exactly the entries a full run made past the theft's block. Labels come
 * from the attribution store, looked up as addresses appear. */
#include "support/testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/address.h"
#include "coinhound/gen.h"
#include "coinhound/intel.h"
#include "coinhound/store.h"
#include "coinhound/trace.h"
#include "ingest/btc_branch.h"

typedef struct chain {
    char *dir;
    char blocks[600], db[600];
    char theft[65], thief[100];
    char miner[CH_ADDR_STR_MAX]; /* the address the theft block's coinbase pays: paid again and
                                    again */
    uint32_t theft_height, tip;
} chain;

static void make_chain(chain *c, uint64_t seed) {
    memset(c, 0, sizeof *c);
    c->dir = tu_tmpdir();
    snprintf(c->blocks, sizeof c->blocks, "%s/blocks", c->dir);
    snprintf(c->db, sizeof c->db, "%s/db", c->dir);
    ch_gen_opts o;
    ch_gen_opts_init(&o);
    o.out_dir = c->blocks;
    o.seed = seed;
    o.txs = 3000;
    o.txs_per_block = 40;
    o.maturity = 20;
    o.theft = true;
    ch_error err;
    if (ch_gen_run(&o, NULL, &err) != 0) fail_msg("gen: %s", err.msg);
    char path[700];
    snprintf(path, sizeof path, "%s/theft.json", c->blocks);
    json_error_t je;
    json_t *t = json_load_file(path, 0, &je);
    assert_non_null(t);
    snprintf(c->theft, sizeof c->theft, "%s", json_string_value(json_object_get(t, "theft_txid")));
    snprintf(c->thief, sizeof c->thief, "%s",
             json_string_value(json_object_get(t, "thief_address")));
    c->theft_height = (uint32_t)json_integer_value(json_object_get(t, "height"));
    json_decref(t);
    char cmd[2000];
    snprintf(cmd, sizeof cmd, "%s intel import --format csv %s/labels.csv --db %s 2>&1",
             tu_bin("coinhound"), c->blocks, c->db);
    int st;
    char *out = tu_run(cmd, &st);
    if (st != 0) fail_msg("intel import: %s", out);
    free(out);
}

static void free_chain(chain *c) {
    tu_rmrf(c->dir);
    free(c->dir);
}

typedef struct feed {
    ch_store *s;
    ch_blkdir *d;
    ch_blk_chain bc;
} feed;

/* A fresh store, opened for writing, fed the chain's first `upto` blocks. */
static void feed_open(feed *f, const chain *c, uint32_t upto) {
    ch_error err;
    char sub[700];
    snprintf(sub, sizeof sub, "%s/btc", c->db);
    tu_rmrf(sub);
    if (ch_blkdir_open(c->blocks, &f->d, &err) != 0 || ch_blkdir_best_chain(f->d, &f->bc, &err))
        fail_msg("%s", err.msg);
    if (ch_store_open(c->db, "btc", CH_STORE_WRITE, &f->s, &err) != 0) fail_msg("%s", err.msg);
    ch_ingest_stats st = {.reorg_height = UINT32_MAX};
    ch_ingest_opts io = {.progress = 0, .max_blocks = upto};
    if (btc_ingest_chain(f->s, f->d, &f->bc, &io, &st, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(ch_store_next_height(f->s), upto);
}

/* One more block, committed unless defer (then left pending, as the
 * watcher's group commit leaves it): false at the chain's end. */
static bool feed_add(feed *f, bool defer) {
    if (ch_store_next_height(f->s) >= f->bc.n) return false;
    ch_error err;
    ch_ingest_stats st = {.reorg_height = UINT32_MAX};
    ch_ingest_opts io = {.progress = 0, .max_blocks = 1, .defer_commit = defer};
    uint32_t before = ch_store_next_height(f->s);
    if (btc_ingest_chain(f->s, f->d, &f->bc, &io, &st, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(ch_store_next_height(f->s), before + 1);
    return true;
}

static bool feed_next(feed *f) {
    return feed_add(f, false);
}

/* The blocks left pending, committed. */
static void feed_commit(feed *f) {
    ch_error err;
    if (btc_commit_pending(f->s, &err) != 0) fail_msg("commit: %s", err.msg);
}

static void feed_close(feed *f) {
    ch_store_close(f->s);
    ch_blk_chain_free(&f->bc);
    ch_blkdir_close(f->d);
}

typedef struct setup {
    ch_trace_policy policy;
    const char *source; /* "tx", "output" or "address" */
    uint32_t max_hops;
    uint64_t min_amount;
} setup;

/* A trace of the chain's theft as su says; pending: of the writer's own
 * view (its pending blocks included, as the watcher's incident rule). */
static ch_trace *trace_view(ch_store *s, ch_labels *l, const chain *c, const setup *su,
                            bool extendable, bool pending) {
    ch_trace_opts o;
    ch_trace_opts_init(&o);
    o.policy = su->policy;
    o.labels = l;
    o.max_hops = su->max_hops;
    o.min_amount = su->min_amount;
    o.extendable = extendable;
    o.pending = pending;
    ch_trace *t;
    ch_error err;
    if (ch_trace_new(s, &o, &t, &err) != 0) fail_msg("%s", err.msg);
    char from[200];
    if (!strcmp(su->source, "tx"))
        snprintf(from, sizeof from, "%s", c->theft);
    else if (!strcmp(su->source, "output"))
        snprintf(from, sizeof from, "%s:0", c->theft);
    else if (!strcmp(su->source, "address"))
        snprintf(from, sizeof from, "%s", c->thief);
    else
        snprintf(from, sizeof from, "%s", c->miner);
    if (ch_trace_add_from_string(t, from, &err) != 1) fail_msg("%s: %s", from, err.msg);
    if (ch_trace_run(t, &err) != 0) fail_msg("%s", err.msg);
    return t;
}

static ch_trace *trace_on(ch_store *s, ch_labels *l, const chain *c, const setup *su,
                          bool extendable) {
    return trace_view(s, l, c, su, extendable, false);
}

static void same_sum(ch_taint_sum a, ch_taint_sum b, const char *what, const char *where) {
    if (a == b) return;
    char x[64], y[64];
    fail_msg("%s: %s %s units carried on, %s in a full trace", where, what, ch_taint_str(a, x),
             ch_taint_str(b, y));
}

static void same_trace(ch_trace *inc, ch_trace *full, const char *where) {
    ch_trace_totals a, b;
    ch_trace_get_totals(inc, &a);
    ch_trace_get_totals(full, &b);
    same_sum(a.source, b.source, "source", where);
    same_sum(a.landed, b.landed, "landed", where);
    same_sum(a.held, b.held, "held", where);
    same_sum(a.fees, b.fees, "fees", where);
    same_sum(a.below_min, b.below_min, "below_min", where);
    same_sum(a.cut_hops, b.cut_hops, "cut_hops", where);
    same_sum(a.returned, b.returned, "returned", where);
    same_sum(a.clean_in, b.clean_in, "clean_in", where);
    assert_int_equal(a.txs, b.txs);
    const ch_trace_landing *la, *lb;
    size_t na = ch_trace_landings(inc, &la), nb = ch_trace_landings(full, &lb);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_int_equal(la[i].addr, lb[i].addr);
        same_sum(la[i].amount, lb[i].amount, "a landing", where);
        assert_int_equal(la[i].outputs, lb[i].outputs);
        assert_int_equal(la[i].hops, lb[i].hops);
        assert_string_equal(la[i].label.category, lb[i].label.category);
    }
    const ch_trace_holding *ha, *hb;
    na = ch_trace_holdings(inc, &ha);
    nb = ch_trace_holdings(full, &hb);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_int_equal(ha[i].addr, hb[i].addr);
        same_sum(ha[i].amount, hb[i].amount, "a holding", where);
        assert_int_equal(ha[i].outputs, hb[i].outputs);
    }
}

/* What the extensions reported: the tainted outputs, by output. */
typedef struct seen {
    json_t *by_out; /* "out" -> amount (units, as text) */
    uint64_t landings;
} seen;

static int on_new(const ch_trace_flow *f, void *ctx) {
    seen *sn = ctx;
    char k[32], v[32];
    snprintf(k, sizeof k, "%llu", (unsigned long long)f->out);
    snprintf(v, sizeof v, "%llu", (unsigned long long)f->amount);
    assert_null(json_object_get(sn->by_out, k)); /* each output reported once */
    json_object_set_new(sn->by_out, k, json_string(v));
    sn->landings += f->landing;
    return 0;
}

typedef struct later {
    json_t *by_out;
    uint64_t first_out;
} later;

/* The full run's entries for outputs past the first extension's start. */
static int full_flow(const ch_trace_flow *f, void *ctx) {
    later *l = ctx;
    if (f->out < l->first_out) return 0;
    char k[32], v[32];
    snprintf(k, sizeof k, "%llu", (unsigned long long)f->out);
    snprintf(v, sizeof v, "%llu", (unsigned long long)f->amount);
    json_object_set_new(l->by_out, k, json_string(v));
    return 0;
}

/* c->miner, once: an address the coinbase of the theft's block pays (s
 * holds that block, committed or pending). */
static void find_miner(chain *c, ch_store *s) {
    if (!c->miner[0]) {
        const ch_block_rec *b = ch_store_block(s, c->theft_height);
        uint64_t fo, no;
        ch_store_tx_outputs(s, b->first_tx, &fo, &no);
        for (uint64_t o = fo; o < fo + no && !c->miner[0]; o++) {
            ch_addr_id id = ch_out_addr(ch_store_output(s, o));
            ch_addr a;
            if (!id) continue;
            ch_store_addr_of(s, id, &a);
            ch_addr back;
            ch_error e;
            /* one a trace can be asked for by its text (not a bare key) */
            if (ch_addr_to_string(&a, ch_store_addr_net(s), c->miner) != 0 ||
                ch_addr_from_string(c->miner, &back, NULL, &e) != 0)
                c->miner[0] = 0;
        }
        assert_true(c->miner[0] != 0);
    }
}

static void run_setup(chain *c, ch_intel *intel, const setup *su) {
    feed f;
    feed_open(&f, c, c->theft_height + 1);
    ch_error err;
    ch_labels *l;
    if (ch_labels_new(f.s, intel, CH_TRACE_DEFAULT_STOP, &l, &err) != 0) fail_msg("%s", err.msg);
    find_miner(c, f.s);
    ch_trace *inc = trace_on(f.s, l, c, su, true);
    ch_store_counts cnt;
    ch_store_get_counts(f.s, &cnt);
    uint64_t first_out = cnt.outputs;
    seen sn = {.by_out = json_object()};
    unsigned blocks = 0;
    while (feed_next(&f)) {
        blocks++;
        if (ch_trace_extend(inc, on_new, &sn, &err) != 0) fail_msg("%s", err.msg);
        /* the full trace after every few blocks and at the end */
        if (blocks % 7 && ch_store_next_height(f.s) < f.bc.n) continue;
        char where[160];
        snprintf(where, sizeof where, "%s from the %s, max_hops %u, block %u",
                 ch_trace_policy_name(su->policy), su->source, su->max_hops,
                 ch_store_next_height(f.s) - 1);
        ch_trace *full = trace_on(f.s, l, c, su, false);
        same_trace(inc, full, where);
        ch_trace_free(full);
    }
    assert_true(blocks > 40);
    /* the outputs reported are the full run's past the theft's block */
    ch_trace *full = trace_on(f.s, l, c, su, true);
    later lt = {.by_out = json_object(), .first_out = first_out};
    assert_int_equal(ch_trace_foreach_flow(full, full_flow, &lt), 0);
    if (!json_equal(lt.by_out, sn.by_out))
        fail_msg("%s from the %s: %zu outputs reported by the extensions, %zu in a full run",
                 ch_trace_policy_name(su->policy), su->source, json_object_size(sn.by_out),
                 json_object_size(lt.by_out));
    ch_trace_totals tot;
    ch_trace_get_totals(full, &tot);
    fprintf(
        stderr, "%s from the %s (max_hops %u): %u blocks, %zu outputs reported, %llu landing%s\n",
        ch_trace_policy_name(su->policy), su->source, su->max_hops, blocks,
        json_object_size(sn.by_out), (unsigned long long)sn.landings, sn.landings == 1 ? "" : "s");
    json_decref(lt.by_out);
    json_decref(sn.by_out);
    ch_trace_free(full);
    ch_trace_free(inc);
    ch_labels_free(l);
    feed_close(&f);
}

/* run_setup with the blocks left pending between commits, as the watcher
 * leaves them (its group commit comes after the alerts): the trace
 * (opts.pending) is built while the theft's block is still pending (its
 * source found among the writer's pending txs), extended after each block
 * added, and the store commits every `group` blocks. While blocks are
 * pending, a fresh pending trace over the same view must equal it; after
 * each commit, the engine's full run over the committed store (left to
 * pick its dense sweep); and the outputs the extensions reported must be
 * the full run's past the build's view. */
static void run_setup_pending(chain *c, ch_intel *intel, const setup *su, unsigned group) {
    feed f;
    feed_open(&f, c, c->theft_height);
    assert_true(feed_add(&f, true)); /* the theft's block, pending */
    ch_error err;
    ch_labels *l;
    if (ch_labels_new(f.s, intel, CH_TRACE_DEFAULT_STOP, &l, &err) != 0) fail_msg("%s", err.msg);
    find_miner(c, f.s);
    ch_trace *inc = trace_view(f.s, l, c, su, true, true);
    ch_store_counts cnt;
    ch_store_get_counts_pending(f.s, &cnt, NULL);
    uint64_t first_out = cnt.outputs;
    ch_store_get_counts(f.s, &cnt);
    assert_true(cnt.outputs < first_out); /* the build saw pending outputs */
    seen sn = {.by_out = json_object()};
    unsigned blocks = 0, pending = 1, commits = 0, checks = 0;
    char where[200];
    for (;;) {
        bool more = feed_add(&f, true);
        if (more) {
            blocks++;
            pending++;
            if (ch_trace_extend(inc, on_new, &sn, &err) != 0) fail_msg("%s", err.msg);
        }
        if (!more || pending >= group) {
            feed_commit(&f);
            pending = 0;
            commits++;
            /* the commit moved the records: the trace looks again (nothing new) */
            size_t before = json_object_size(sn.by_out);
            if (ch_trace_extend(inc, on_new, &sn, &err) != 0) fail_msg("%s", err.msg);
            assert_int_equal(json_object_size(sn.by_out), before);
            snprintf(where, sizeof where, "%s from the %s, max_hops %u, committed at block %u",
                     ch_trace_policy_name(su->policy), su->source, su->max_hops,
                     ch_store_next_height(f.s) - 1);
            ch_trace *full = trace_on(f.s, l, c, su, false);
            same_trace(inc, full, where);
            ch_trace_free(full);
            checks++;
        } else if (pending >= 2) {
            snprintf(where, sizeof where, "%s from the %s, max_hops %u, %u blocks pending at %u",
                     ch_trace_policy_name(su->policy), su->source, su->max_hops, pending,
                     ch_store_next_height(f.s) - 1);
            ch_trace *fresh = trace_view(f.s, l, c, su, true, true);
            same_trace(inc, fresh, where);
            ch_trace_free(fresh);
            checks++;
        }
        if (!more) break;
    }
    assert_true(blocks > 40 && commits > 10 && checks > blocks / 2);
    ch_trace *full = trace_on(f.s, l, c, su, true);
    later lt = {.by_out = json_object(), .first_out = first_out};
    assert_int_equal(ch_trace_foreach_flow(full, full_flow, &lt), 0);
    if (!json_equal(lt.by_out, sn.by_out))
        fail_msg("%s from the %s, pending: %zu outputs reported by the extensions, %zu in a full "
                 "run",
                 ch_trace_policy_name(su->policy), su->source, json_object_size(sn.by_out),
                 json_object_size(lt.by_out));
    fprintf(stderr, "pending, %s from the %s (max_hops %u): %u blocks, %u commits, %zu outputs\n",
            ch_trace_policy_name(su->policy), su->source, su->max_hops, blocks, commits,
            json_object_size(sn.by_out));
    json_decref(lt.by_out);
    json_decref(sn.by_out);
    ch_trace_free(full);
    ch_trace_free(inc);
    ch_labels_free(l);
    feed_close(&f);
}

static void test_trace_of_pending_blocks_equals_a_full_trace_after_each_commit(void **state) {
    (void)state;
    chain c;
    make_chain(&c, 5);
    ch_intel *intel;
    ch_error err;
    if (ch_intel_open(c.db, false, &intel, &err) != 0) fail_msg("%s", err.msg);
    static const ch_trace_policy pol[] = {CH_POLICY_POISON, CH_POLICY_HAIRCUT, CH_POLICY_FIFO,
                                          CH_POLICY_LIFO};
    static const char *const src[] = {"tx", "output", "address", "miner"};
    for (size_t p = 0; p < 4; p++)
        for (size_t k = 0; k < 4; k++) {
            setup su = {.policy = pol[p], .source = src[k]};
            run_setup_pending(&c, intel, &su, 3 + (unsigned)(p + k) % 3);
        }
    setup cut = {.policy = CH_POLICY_HAIRCUT, .source = "tx", .max_hops = 3, .min_amount = 5000};
    run_setup_pending(&c, intel, &cut, 4);
    ch_intel_close(intel);
    free_chain(&c);
}

static void test_extended_trace_equals_a_full_trace_block_by_block(void **state) {
    (void)state;
    chain c;
    make_chain(&c, 5);
    ch_intel *intel;
    ch_error err;
    if (ch_intel_open(c.db, false, &intel, &err) != 0) fail_msg("%s", err.msg);
    static const ch_trace_policy pol[] = {CH_POLICY_POISON, CH_POLICY_HAIRCUT, CH_POLICY_FIFO,
                                          CH_POLICY_LIFO};
    static const char *const src[] = {"tx", "output", "address", "miner"};
    uint64_t landings_seen = 0;
    for (size_t p = 0; p < 4; p++)
        for (size_t k = 0; k < 4; k++) {
            setup su = {.policy = pol[p], .source = src[k]};
            run_setup(&c, intel, &su);
            landings_seen++;
        }
    setup cut = {.policy = CH_POLICY_HAIRCUT, .source = "tx", .max_hops = 3, .min_amount = 5000};
    run_setup(&c, intel, &cut);
    cut.policy = CH_POLICY_FIFO;
    run_setup(&c, intel, &cut);
    assert_true(landings_seen == 16);
    ch_intel_close(intel);
    free_chain(&c);
}

/* A store that lost blocks under the trace (a reorg's cut) is refused, not
 * extended over: the watcher traces again. */
static void test_extend_after_a_cut_is_refused(void **state) {
    (void)state;
    chain c;
    make_chain(&c, 6);
    feed f;
    feed_open(&f, &c, c.theft_height + 3);
    setup su = {.policy = CH_POLICY_HAIRCUT, .source = "tx"};
    ch_trace *t = trace_on(f.s, NULL, &c, &su, true);
    ch_error err;
    assert_int_equal(ch_store_truncate(f.s, c.theft_height + 1, &err), 0);
    assert_int_equal(ch_trace_extend(t, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "trace again"));
    ch_trace_free(t);
    /* and a trace that was not made extendable says so */
    su.policy = CH_POLICY_POISON;
    t = trace_on(f.s, NULL, &c, &su, false);
    assert_int_equal(ch_trace_extend(t, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "extendable"));
    ch_trace_free(t);
    feed_close(&f);
    free_chain(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extended_trace_equals_a_full_trace_block_by_block),
        cmocka_unit_test(test_trace_of_pending_blocks_equals_a_full_trace_after_each_commit),
        cmocka_unit_test(test_extend_after_a_cut_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Address clustering: hand-made chains written through the store's write
 * API with answers worked out by hand; every CoinJoin rule on a tx that
 * meets it and one that just misses it; the union-find result against a
 * naive reference (label propagation to a fixpoint) on random and generated
 * chains; the cluster file across reopen and corruption; the CLI's JSON. */
#include "support/testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/address.h"
#include "coinhound/cluster.h"
#include "coinhound/gen.h"
#include "coinhound/ingest.h"
#include "coinhound/intel.h"
#include "coinhound/store.h"

/* ---- a tiny chain builder: one tx per block ---- */
#define WIDE_K 0x10000000u /* test address numbers with this bit are 32-byte (P2TR) */

typedef struct tc {
    char *dir;
    ch_store *s;
    uint32_t ntx;
} tc;

typedef struct tin {
    uint32_t tx, vout;
} tin;

typedef struct tout {
    uint32_t addr; /* test address number, 0 = no address */
    uint64_t value;
} tout;

static ch_addr taddr(uint32_t k) {
    ch_addr a;
    memset(&a, 0, sizeof a);
    a.kind = CH_ADDR_WITNESS;
    a.version = (k & WIDE_K) ? 1 : 0;
    a.len = (k & WIDE_K) ? 32 : 20;
    memcpy(a.bytes, &k, 4);
    a.bytes[a.len - 1] = 0xa7;
    return a;
}

static ch_hash256 thash(uint32_t n, uint8_t tag) {
    ch_hash256 h;
    memset(&h, 0, sizeof h);
    memcpy(h.b, &n, 4);
    h.b[31] = tag;
    return h;
}

static void tc_begin(tc *c) {
    c->dir = tu_tmpdir();
    c->ntx = 0;
    ch_error err;
    if (ch_store_open(c->dir, "btc", CH_STORE_WRITE, &c->s, &err) != 0) fail_msg("%s", err.msg);
}

/* One block holding one tx; ni == 0 makes a coinbase. Returns its number. */
static uint32_t tc_tx(tc *c, const tin *in, size_t ni, const tout *out, size_t no) {
    ch_error err;
    ch_block_meta b;
    memset(&b, 0, sizeof b);
    b.hash = thash(c->ntx, 0xb1);
    ch_hash256 id = thash(c->ntx, 0x5a);
    if (ch_store_begin_block(c->s, &b, &err) != 0 || ch_store_add_tx(c->s, &id, 200, &err) != 0)
        fail_msg("%s", err.msg);
    if (ni == 0 && ch_store_add_coinbase_input(c->s, &err) != 0) fail_msg("%s", err.msg);
    for (size_t i = 0; i < ni; i++) {
        ch_hash256 prev = thash(in[i].tx, 0x5a);
        if (ch_store_add_input(c->s, &prev, in[i].vout, &err) != 0) fail_msg("%s", err.msg);
    }
    for (size_t j = 0; j < no; j++) {
        ch_addr a = taddr(out[j].addr);
        ch_script_type t = (out[j].addr & WIDE_K) ? CH_SCRIPT_P2TR : CH_SCRIPT_P2WPKH;
        if (ch_store_add_output(c->s, out[j].value, out[j].addr ? t : CH_SCRIPT_NULLDATA,
                                out[j].addr ? &a : NULL, &err) != 0)
            fail_msg("%s", err.msg);
    }
    if (ch_store_end_block(c->s, &err) != 0) fail_msg("%s", err.msg);
    return c->ntx++;
}

/* A coinbase paying one address. */
static uint32_t fund(tc *c, uint32_t k, uint64_t v) {
    tout o = {k, v};
    return tc_tx(c, NULL, 0, &o, 1);
}

/* Commit, then reopen read-only (as the CLI sees it). */
static void tc_finish(tc *c) {
    ch_error err;
    if (ch_store_commit(c->s, &err) != 0) fail_msg("%s", err.msg);
    ch_store_close(c->s);
    if (ch_store_open(c->dir, "btc", CH_STORE_READ, &c->s, &err) != 0) fail_msg("%s", err.msg);
}

static void tc_end(tc *c) {
    ch_store_close(c->s);
    tu_rmrf(c->dir);
    free(c->dir);
}

static ch_addr_id tc_id(tc *c, uint32_t k) {
    ch_addr a = taddr(k);
    ch_addr_id id;
    uint64_t last;
    ch_error err;
    assert_int_equal(ch_store_find_addr(c->s, &a, &id, &last, &err), 1);
    return id;
}

static ch_clusters *build_open(tc *c, bool change) {
    ch_cluster_opts o = {.change = change, .progress = 0};
    ch_cluster_meta m;
    ch_error err;
    ch_clusters *cl;
    if (ch_cluster_build(c->dir, &o, &m, NULL, &err) != 0) fail_msg("%s", err.msg);
    if (ch_clusters_open(c->dir, &cl, &err) != 0) fail_msg("%s", err.msg);
    return cl;
}

static bool same(tc *c, ch_clusters *cl, uint32_t ka, uint32_t kb) {
    return ch_cluster_of(cl, tc_id(c, ka)) == ch_cluster_of(cl, tc_id(c, kb));
}

/* ---- hand-made chains ---- */
static void test_cospend_merges(void **state) {
    (void)state;
    tc c;
    tc_begin(&c);
    uint32_t a = fund(&c, 1, 5000), b = fund(&c, 2, 7000);
    tin in[] = {{a, 0}, {b, 0}};
    tout out[] = {{3, 11000}};
    tc_tx(&c, in, 2, out, 1);
    tc_finish(&c);
    ch_clusters *cl = build_open(&c, false);
    ch_addr_id ia = tc_id(&c, 1), ib = tc_id(&c, 2), ic = tc_id(&c, 3);
    assert_true(same(&c, cl, 1, 2));
    assert_false(same(&c, cl, 1, 3));
    /* the cluster is named by its smallest address id */
    assert_int_equal(ch_cluster_of(cl, ia), ia < ib ? ia : ib);
    assert_int_equal(ch_cluster_size(cl, ib), 2);
    assert_int_equal(ch_cluster_size(cl, ic), 1);
    ch_addr_id m[4];
    assert_int_equal(ch_cluster_members(cl, ib, m, 4), 2);
    assert_int_equal(m[0], ia < ib ? ia : ib);
    assert_int_equal(m[1], ia < ib ? ib : ia);
    const ch_cluster_meta *meta = ch_clusters_meta(cl);
    assert_int_equal(meta->addresses, 3);
    assert_int_equal(meta->clusters, 2);
    assert_int_equal(meta->largest_size, 2);
    assert_int_equal(meta->txs, 3);
    ch_clusters_close(cl);
    tc_end(&c);
}

static void test_transitive(void **state) {
    (void)state;
    tc c;
    tc_begin(&c);
    /* A+B, C+D, then B+C: A..D one cluster; E, spent alone, stays apart.
     * D and E are 32-byte addresses (the store's other id class). */
    uint32_t D = 4 | WIDE_K, E = 5 | WIDE_K;
    uint32_t f[6] = {fund(&c, 1, 100), fund(&c, 2, 100), fund(&c, 3, 100),
                     fund(&c, D, 100), fund(&c, 2, 100), fund(&c, 3, 100)};
    uint32_t fe = fund(&c, E, 100);
    tout o = {9, 150};
    tc_tx(&c, (tin[]){{f[0], 0}, {f[1], 0}}, 2, &o, 1);
    tc_tx(&c, (tin[]){{f[2], 0}, {f[3], 0}}, 2, &o, 1);
    tc_tx(&c, (tin[]){{f[4], 0}, {f[5], 0}}, 2, &o, 1);
    tc_tx(&c, (tin[]){{fe, 0}}, 1, &o, 1);
    tc_finish(&c);
    ch_clusters *cl = build_open(&c, false);
    assert_true(same(&c, cl, 1, 2));
    assert_true(same(&c, cl, 1, 3));
    assert_true(same(&c, cl, 1, D));
    assert_false(same(&c, cl, 1, E));
    assert_false(same(&c, cl, 1, 9));
    assert_int_equal(ch_cluster_of(cl, tc_id(&c, D)), tc_id(&c, 1));
    assert_int_equal(ch_cluster_size(cl, tc_id(&c, D)), 4);
    assert_int_equal(ch_cluster_of(cl, tc_id(&c, E)), tc_id(&c, E));
    ch_clusters_close(cl);
    tc_end(&c);
}

static void test_coinbase_never_merges(void **state) {
    (void)state;
    tc c;
    tc_begin(&c);
    /* a coinbase paying three fresh addresses: with or without --change */
    tout o[] = {{1, 100}, {2, 200}, {3, 300}};
    tc_tx(&c, NULL, 0, o, 3);
    tc_finish(&c);
    for (int change = 0; change <= 1; change++) {
        ch_clusters *cl = build_open(&c, change);
        assert_false(same(&c, cl, 1, 2));
        assert_false(same(&c, cl, 2, 3));
        assert_int_equal(ch_clusters_meta(cl)->clusters, 3);
        ch_clusters_close(cl);
    }
    tc_end(&c);
}

/* 5 inputs from 5 addresses, 5 equal outputs of 0.1 BTC and 4 change
 * outputs: n = ceil(9 / 2) = 5 <= 5 inputs, 5 distinct addresses, and the
 * most common value (10,000,000) occurs exactly 5 times. */
static void test_generic_coinjoin_not_merged(void **state) {
    (void)state;
    tc c;
    tc_begin(&c);
    tin in[5];
    for (uint32_t i = 0; i < 5; i++)
        in[i] = (tin){fund(&c, 10 + i, 30000000), 0};
    tout out[9];
    for (uint32_t j = 0; j < 5; j++)
        out[j] = (tout){20 + j, 10000000};
    for (uint32_t j = 0; j < 4; j++)
        out[5 + j] = (tout){30 + j, 1000000 + j * 777};
    uint32_t cj = tc_tx(&c, in, 5, out, 9);
    /* the same with one mixed output off by 1 sat: 4 equal, not a CoinJoin */
    tin in2[5];
    for (uint32_t i = 0; i < 5; i++)
        in2[i] = (tin){fund(&c, 40 + i, 30000000), 0};
    out[4].value = 10000001;
    uint32_t plain = tc_tx(&c, in2, 5, out, 9);
    tc_finish(&c);
    ch_coinjoin_rule r;
    ch_error err;
    assert_int_equal(ch_coinjoin_detect(c.s, cj, &r, &err), 0);
    assert_int_not_equal(r, CH_CJ_NONE);
    assert_int_equal(ch_coinjoin_detect(c.s, plain, &r, &err), 0);
    assert_int_equal(r, CH_CJ_NONE);
    ch_clusters *cl = build_open(&c, false);
    for (uint32_t i = 1; i < 5; i++)
        assert_false(same(&c, cl, 10, 10 + i));
    for (uint32_t i = 1; i < 5; i++)
        assert_true(same(&c, cl, 40, 40 + i));
    const ch_cluster_meta *m = ch_clusters_meta(cl);
    assert_int_equal(m->coinjoins[CH_CJ_NONE], 1);
    assert_int_equal(m->coinjoins[CH_CJ_GENERIC], 1);
    ch_clusters_close(cl);
    tc_end(&c);
}

/* ---- the rules on shapes (expected masks worked out by hand) ---- */
typedef struct shape {
    size_t ni, no;
    uint64_t iv[32];
    ch_addr_id ia[32];
    uint64_t ov[32];
} shape;

static unsigned rules(const shape *s) {
    ch_tx_shape t = {s->ni, s->iv, s->ia, s->no, s->ov};
    return ch_coinjoin_rules(&t);
}

static void inputs(shape *s, size_t n, uint64_t v) {
    s->ni = n;
    for (size_t i = 0; i < n; i++) {
        s->iv[i] = v + i;
        s->ia[i] = (uint32_t)(100 + i);
    }
}

#define BIT(r) (1u << (r))

static void test_rule_generic(void **state) {
    (void)state;
    shape s = {0};
    inputs(&s, 3, 50000000);
    /* 5 outputs: n = 3, value 7,000,000 three times */
    uint64_t ov[] = {7000000, 7000000, 7000000, 123, 4567};
    s.no = 5;
    memcpy(s.ov, ov, sizeof ov);
    assert_true(rules(&s) & BIT(CH_CJ_GENERIC));
    /* just misses: only 2 distinct input addresses (< n = 3) */
    s.ia[2] = s.ia[1];
    assert_false(rules(&s) & BIT(CH_CJ_GENERIC));
    s.ia[2] = 102;
    /* just misses: the common value is the dust value 546 */
    for (int j = 0; j < 3; j++)
        s.ov[j] = 546;
    assert_false(rules(&s) & BIT(CH_CJ_GENERIC));
    /* 2,731 is no dust value */
    for (int j = 0; j < 3; j++)
        s.ov[j] = 2731;
    assert_true(rules(&s) & BIT(CH_CJ_GENERIC));
}

static void test_rule_wasabi1(void **state) {
    (void)state;
    shape s = {0};
    inputs(&s, 10, 20000000);
    uint64_t ov[] = {10400000, 10400000, 10400000, 888888, 9999999};
    s.no = 5;
    memcpy(s.ov, ov, sizeof ov);
    assert_true(rules(&s) & BIT(CH_CJ_WASABI1));
    assert_int_equal(ch_coinjoin_classify(&(ch_tx_shape){s.ni, s.iv, s.ia, s.no, s.ov}),
                     CH_CJ_WASABI1);
    s.ni = 9; /* just misses: 9 inputs */
    assert_false(rules(&s) & BIT(CH_CJ_WASABI1));
    s.ni = 10;
    for (int j = 0; j < 3; j++)
        s.ov[j] = 10500001; /* 1 sat past 0.105 BTC */
    assert_false(rules(&s) & BIT(CH_CJ_WASABI1));
    for (int j = 0; j < 3; j++)
        s.ov[j] = 9500000; /* the edge itself counts */
    assert_true(rules(&s) & BIT(CH_CJ_WASABI1));
    s.ov[2] = 9500001; /* only 2 equal */
    assert_false(rules(&s) & BIT(CH_CJ_WASABI1));
}

static void test_rule_wasabi2(void **state) {
    (void)state;
    shape s = {0};
    inputs(&s, 20, 3000000);
    /* 3 repeated values (6 outputs) + 7 singles = 13 outputs; 2 * 6 >= 12 */
    uint64_t ov[] = {50000, 50000, 80000, 80000, 130000, 130000, 5000,
                     6001,  7002,  8003,  9004,  10005,  11006};
    s.no = 13;
    memcpy(s.ov, ov, sizeof ov);
    assert_true(rules(&s) & BIT(CH_CJ_WASABI2));
    s.ni = 19; /* just misses: 19 inputs */
    assert_false(rules(&s) & BIT(CH_CJ_WASABI2));
    s.ni = 20;
    s.ov[6] = 4999; /* just misses: an output under 5,000 sat */
    assert_false(rules(&s) & BIT(CH_CJ_WASABI2));
    s.ov[6] = 5000;
    s.ov[13] = 12007; /* just misses: 14 outputs, 2 * 6 < 13 */
    s.no = 14;
    assert_false(rules(&s) & BIT(CH_CJ_WASABI2));
    s.no = 13;
    s.ov[5] = 130001; /* just misses: only 2 repeated values */
    assert_false(rules(&s) & BIT(CH_CJ_WASABI2));
}

static void test_rule_whirlpool(void **state) {
    (void)state;
    shape s = {0};
    inputs(&s, 5, 1000000);
    s.iv[4] = 1110000; /* the top of [d, d + 110,000] */
    s.no = 5;
    for (int j = 0; j < 5; j++)
        s.ov[j] = 1000000;
    assert_true(rules(&s) & BIT(CH_CJ_WHIRLPOOL));
    assert_int_equal(ch_coinjoin_classify(&(ch_tx_shape){s.ni, s.iv, s.ia, s.no, s.ov}),
                     CH_CJ_WHIRLPOOL);
    s.iv[4] = 1110001; /* just misses: one input 1 sat too big */
    assert_false(rules(&s) & BIT(CH_CJ_WHIRLPOOL));
    s.iv[4] = 1000000;
    for (int j = 0; j < 5; j++)
        s.ov[j] = 2000000; /* not a pool size */
    for (int i = 0; i < 5; i++)
        s.iv[i] = 2000000;
    assert_false(rules(&s) & BIT(CH_CJ_WHIRLPOOL));
    for (int j = 0; j < 5; j++)
        s.ov[j] = 5000000; /* the 0.05 pool */
    for (int i = 0; i < 5; i++)
        s.iv[i] = 5050000;
    assert_true(rules(&s) & BIT(CH_CJ_WHIRLPOOL));
    s.no = 4; /* just misses: 5 inputs, 4 outputs */
    assert_false(rules(&s) & BIT(CH_CJ_WHIRLPOOL));
}

static void test_rule_joinmarket(void **state) {
    (void)state;
    shape s = {0};
    inputs(&s, 3, 9000000);
    /* 3 equal outputs + 2 change: n = 3, 2n >= 5, 3 <= 3 distinct, change */
    uint64_t ov[] = {5000000, 5000000, 5000000, 3999000, 3998000};
    s.no = 5;
    memcpy(s.ov, ov, sizeof ov);
    assert_true(rules(&s) & BIT(CH_CJ_JOINMARKET));
    s.ia[1] = s.ia[0]; /* just misses: 2 distinct input addresses */
    assert_false(rules(&s) & BIT(CH_CJ_JOINMARKET));
    s.ia[1] = 101;
    s.no = 3; /* just misses: no change output */
    assert_false(rules(&s) & BIT(CH_CJ_JOINMARKET));
    /* 3 equal + 4 others: 2 * 3 < 7, just misses; no generic either (n = 4) */
    uint64_t ov2[] = {5000000, 5000000, 5000000, 1, 2, 3, 4};
    inputs(&s, 4, 9000000);
    s.no = 7;
    memcpy(s.ov, ov2, sizeof ov2);
    assert_int_equal(rules(&s), 0);
    /* dust-sized equal outputs do not count */
    uint64_t ov3[] = {2730, 2730, 2730, 3999000, 3998000};
    s.no = 5;
    memcpy(s.ov, ov3, sizeof ov3);
    assert_false(rules(&s) & BIT(CH_CJ_JOINMARKET));
}

/* ---- one-time change ---- */
static void test_change_only_with_flag(void **state) {
    (void)state;
    tc c;
    tc_begin(&c);
    uint32_t fa = fund(&c, 1, 100000), fb = fund(&c, 2, 500), fa2 = fund(&c, 1, 100000);
    uint32_t fa3 = fund(&c, 1, 100000);
    (void)fb;
    /* A pays B (seen before) and fresh C: C is A's change */
    tout o1[] = {{2, 60000}, {3, 39000}};
    tc_tx(&c, (tin[]){{fa, 0}}, 1, o1, 2);
    /* A pays fresh D and fresh E: two candidates, no change */
    tout o2[] = {{4, 60000}, {5, 39000}};
    tc_tx(&c, (tin[]){{fa2, 0}}, 1, o2, 2);
    /* A pays fresh F and back to A: self-change, no one-time change */
    tout o3[] = {{6, 60000}, {1, 39000}};
    tc_tx(&c, (tin[]){{fa3, 0}}, 1, o3, 2);
    tc_finish(&c);
    ch_clusters *cl = build_open(&c, false);
    assert_false(same(&c, cl, 1, 3));
    assert_int_equal(ch_clusters_meta(cl)->flags & CH_CLUSTER_CHANGE, 0);
    ch_clusters_close(cl);
    cl = build_open(&c, true);
    assert_true(same(&c, cl, 1, 3));
    assert_false(same(&c, cl, 1, 2));
    assert_false(same(&c, cl, 1, 4));
    assert_false(same(&c, cl, 1, 5));
    assert_false(same(&c, cl, 1, 6));
    assert_int_equal(ch_clusters_meta(cl)->change_links, 1);
    assert_true(ch_clusters_meta(cl)->flags & CH_CLUSTER_CHANGE);
    ch_clusters_close(cl);
    tc_end(&c);
}

/* ---- naive reference ---- */
typedef struct edge {
    uint32_t a, b; /* slots */
} edge;

/* Clusters by label propagation to a fixpoint over the co-spend (and change)
 * edges, read through the store's public per-record API. lab[slot] ends as
 * the smallest slot of the component. */
static uint32_t *reference(ch_store *s, bool change) {
    ch_store_counts cnt;
    ch_store_get_counts(s, &cnt);
    size_t n = cnt.addresses + 1;
    uint32_t *lab = malloc(n * sizeof *lab);
    bool *seen = calloc(n, 1);
    edge *e = NULL;
    size_t ne = 0, cap = 0;
    for (size_t i = 0; i < n; i++)
        lab[i] = (uint32_t)i;
    for (uint64_t t = 0; t < cnt.txs; t++) {
        uint64_t fi, ni, fo, no;
        ch_store_tx_inputs(s, t, &fi, &ni);
        ch_store_tx_outputs(s, t, &fo, &no);
        uint32_t fresh = 0, fresh_slot = 0;
        for (uint64_t j = 0; j < no; j++) {
            ch_addr_id id = ch_out_addr(ch_store_output(s, fo + j));
            if (!id) continue;
            uint32_t sl = (uint32_t)ch_store_addr_index(s, id) + 1;
            if (!seen[sl]) {
                seen[sl] = true;
                fresh++;
                fresh_slot = sl;
            }
        }
        if (ch_store_input_spent_output(s, fi) < 0) continue; /* coinbase */
        ch_coinjoin_rule r;
        assert_int_equal(ch_coinjoin_detect(s, t, &r, NULL), 0);
        if (r != CH_CJ_NONE) continue;
        uint32_t first = 0;
        bool self = false;
        for (uint64_t i = 0; i < ni; i++) {
            ch_addr_id id =
                ch_out_addr(ch_store_output(s, (uint64_t)ch_store_input_spent_output(s, fi + i)));
            if (!id) continue;
            uint32_t sl = (uint32_t)ch_store_addr_index(s, id) + 1;
            for (uint64_t j = 0; j < no; j++)
                self |= ch_out_addr(ch_store_output(s, fo + j)) == id;
            if (!first) first = sl;
            if (ne == cap) e = realloc(e, (cap = cap ? cap * 2 : 256) * sizeof *e);
            e[ne++] = (edge){first, sl};
        }
        if (change && first && no >= 2 && fresh == 1 && !self) {
            if (ne == cap) e = realloc(e, (cap = cap ? cap * 2 : 256) * sizeof *e);
            e[ne++] = (edge){first, fresh_slot};
        }
    }
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < ne; i++) {
            uint32_t a = e[i].a, b = e[i].b, m = lab[a] < lab[b] ? lab[a] : lab[b];
            if (lab[a] != m || lab[b] != m) {
                lab[a] = lab[b] = m;
                changed = true;
            }
        }
    }
    free(e);
    free(seen);
    return lab;
}

static void check_against_reference(const char *dir, bool change) {
    ch_error err;
    ch_cluster_opts o = {.change = change};
    ch_cluster_meta m;
    if (ch_cluster_build(dir, &o, &m, NULL, &err) != 0) fail_msg("%s", err.msg);
    ch_store *s;
    ch_clusters *cl;
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_READ, &s, &err), 0);
    assert_int_equal(ch_clusters_open(dir, &cl, &err), 0);
    uint32_t *lab = reference(s, change);
    ch_store_counts cnt;
    ch_store_get_counts(s, &cnt);
    uint32_t *size = calloc(cnt.addresses + 1, sizeof *size);
    uint64_t clusters = 0, multi = 0;
    for (uint64_t sl = 1; sl <= cnt.addresses; sl++) {
        size[lab[sl]]++;
        clusters += lab[sl] == sl;
    }
    for (uint64_t sl = 1; sl <= cnt.addresses; sl++) {
        ch_addr_id id = ch_store_addr_id_at(s, sl - 1);
        ch_addr_id want = ch_store_addr_id_at(s, lab[sl] - 1);
        if (ch_cluster_of(cl, id) != want)
            fail_msg("address id %llu: cluster %llu, reference %llu", (unsigned long long)id,
                     (unsigned long long)ch_cluster_of(cl, id), (unsigned long long)want);
        assert_int_equal(ch_cluster_size(cl, id), size[lab[sl]]);
        multi += size[lab[sl]] > 1;
    }
    assert_int_equal(m.clusters, clusters);
    assert_true(multi > 0); /* the chain did merge something */
    /* members of a few clusters: every slot with that label, ascending */
    for (uint64_t sl = 1; sl <= cnt.addresses; sl += 7) {
        ch_addr_id id = ch_store_addr_id_at(s, sl - 1), got[64];
        size_t k = ch_cluster_members(cl, id, got, 64), w = 0;
        for (uint64_t x = 1; x <= cnt.addresses && w < 64; x++)
            if (lab[x] == lab[sl]) assert_int_equal(got[w++], ch_store_addr_id_at(s, x - 1));
        assert_int_equal(k, w);
    }
    free(size);
    free(lab);
    ch_clusters_close(cl);
    ch_store_close(s);
}

static uint64_t rng_state;
static uint32_t rnd(uint32_t n) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

/* A random chain: payments with 1..4 inputs and 1..3 outputs to new or
 * reused addresses (a fifth of them 32-byte), with a planted CoinJoin now
 * and then. */
static void random_chain(tc *c, uint64_t seed, uint32_t n_tx) {
    rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
    typedef struct utxo {
        uint32_t tx, vout;
        uint64_t v;
    } utxo;
    utxo *u = malloc(sizeof *u * (n_tx * 10 + 1000));
    size_t nu = 0;
    uint32_t next_addr = 1;
#define NEWADDR() (rnd(5) == 0 ? (next_addr++ | WIDE_K) : next_addr++)
#define OLDADDR() (1 + rnd(next_addr - 1))
    for (uint32_t t = 0; t < n_tx; t++) {
        if (t % 25 == 0 || nu < 12) {
            tout o[2] = {{NEWADDR(), 5000000}, {NEWADDR(), 5000000}};
            uint32_t x = tc_tx(c, NULL, 0, o, 2);
            u[nu++] = (utxo){x, 0, 5000000};
            u[nu++] = (utxo){x, 1, 5000000};
            continue;
        }
        tin in[8];
        tout out[16];
        size_t ni = 1 + rnd(4), no;
        bool cj = rnd(20) == 0 && nu >= 6;
        if (cj) ni = 5;
        uint64_t total = 0;
        for (size_t i = 0; i < ni; i++) {
            size_t k = rnd((uint32_t)nu);
            in[i] = (tin){u[k].tx, u[k].vout};
            total += u[k].v;
            u[k] = u[--nu];
        }
        if (cj) { /* 5 equal + 4 change to fresh addresses */
            uint64_t d = total / 20;
            no = 9;
            for (size_t j = 0; j < 5; j++)
                out[j] = (tout){NEWADDR(), d};
            for (size_t j = 5; j < 9; j++)
                out[j] = (tout){NEWADDR(), d / 2 + j};
        } else {
            no = 1 + rnd(3);
            for (size_t j = 0; j < no; j++) {
                uint32_t a = (rnd(3) == 0 && next_addr > 1) ? OLDADDR() : NEWADDR();
                if (rnd(30) == 0) a = 0; /* OP_RETURN-like: no address */
                out[j] = (tout){a, total / (no + 1) + j};
            }
        }
        uint32_t x = tc_tx(c, in, ni, out, no);
        for (size_t j = 0; j < no; j++)
            if (out[j].addr) u[nu++] = (utxo){x, (uint32_t)j, out[j].value};
    }
    /* inputs may also spend an address-less output: not here, they are not kept */
    free(u);
#undef NEWADDR
#undef OLDADDR
}

static void test_matches_reference_random(void **state) {
    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        tc c;
        tc_begin(&c);
        random_chain(&c, seed, 1500);
        tc_finish(&c);
        check_against_reference(c.dir, false);
        check_against_reference(c.dir, true);
        tc_end(&c);
    }
}

/* The generator's chain (CoinJoins, consolidations, exchange sweeps). */
static void test_matches_reference_generated(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char blk[4200];
    snprintf(blk, sizeof blk, "%s/blk", dir);
    ch_gen_opts g;
    ch_gen_opts_init(&g);
    g.out_dir = blk;
    g.txs = 4000;
    g.seed = 11;
    g.theft = true;
    ch_error err;
    if (ch_gen_run(&g, NULL, &err) != 0) fail_msg("%s", err.msg);
    ch_ingest_opts io = {.progress = 0};
    ch_ingest_stats st;
    if (ch_ingest_btc(blk, dir, &io, &st, &err) != 0) fail_msg("%s", err.msg);
    check_against_reference(dir, false);
    check_against_reference(dir, true);
    tu_rmrf(dir);
    free(dir);
}

/* ---- the file ---- */
static void corrupt(const char *dir, long off, int whence, int trunc_by) {
    char p[4200];
    snprintf(p, sizeof p, "%s/btc/%s", dir, CH_CLUSTER_FILE);
    if (trunc_by) {
        size_t len;
        uint8_t *d = tu_read_file(p, &len);
        FILE *f = fopen(p, "wb");
        fwrite(d, 1, len - (size_t)trunc_by, f);
        fclose(f);
        free(d);
        return;
    }
    FILE *f = fopen(p, "r+b");
    assert_non_null(f);
    fseek(f, off, whence);
    int ch = fgetc(f);
    fseek(f, off, whence);
    fputc(ch ^ 0x40, f);
    fclose(f);
}

static void expect_open_error(const char *dir, const char *needle) {
    ch_clusters *cl;
    ch_error err;
    assert_int_equal(ch_clusters_open(dir, &cl, &err), -1);
    if (!strstr(err.msg, needle)) fail_msg("expected '%s' in: %s", needle, err.msg);
}

static void test_file_reopen_and_corruption(void **state) {
    (void)state;
    tc c;
    tc_begin(&c);
    random_chain(&c, 9, 400);
    tc_finish(&c);
    expect_open_error(c.dir, "no cluster file");
    ch_clusters *cl = build_open(&c, false);
    ch_store_counts cnt;
    ch_store_get_counts(c.s, &cnt);
    ch_addr_id *before = malloc(cnt.addresses * sizeof *before);
    for (uint64_t i = 0; i < cnt.addresses; i++)
        before[i] = ch_cluster_of(cl, ch_store_addr_id_at(c.s, i));
    ch_cluster_meta m = *ch_clusters_meta(cl);
    ch_clusters_close(cl);
    /* reopen: same answers, same meta */
    ch_error err;
    assert_int_equal(ch_clusters_open(c.dir, &cl, &err), 0);
    assert_memory_equal(&m, ch_clusters_meta(cl), sizeof m);
    for (uint64_t i = 0; i < cnt.addresses; i++)
        assert_int_equal(before[i], ch_cluster_of(cl, ch_store_addr_id_at(c.s, i)));
    ch_clusters_close(cl);
    free(before);
    /* a torn tail */
    corrupt(c.dir, 0, SEEK_SET, 4);
    expect_open_error(c.dir, "truncated");
    cl = build_open(&c, false);
    ch_clusters_close(cl);
    /* a flipped byte in the data */
    corrupt(c.dir, -9, SEEK_END, 0);
    expect_open_error(c.dir, "checksum");
    cl = build_open(&c, false);
    ch_clusters_close(cl);
    /* a flipped byte in the header's counts */
    corrupt(c.dir, 20, SEEK_SET, 0);
    expect_open_error(c.dir, "corrupt header");
    /* not our file at all */
    corrupt(c.dir, 0, SEEK_SET, 0);
    expect_open_error(c.dir, "not a coinhound cluster file");
    /* shorter than a header */
    char p[4200];
    snprintf(p, sizeof p, "%s/btc/%s", c.dir, CH_CLUSTER_FILE);
    FILE *f = fopen(p, "wb");
    fputs("CH", f);
    fclose(f);
    expect_open_error(c.dir, "truncated");
    tc_end(&c);
}

/* An address newer than the file is its own singleton. */
static void test_newer_address_is_singleton(void **state) {
    (void)state;
    tc c;
    tc_begin(&c);
    uint32_t a = fund(&c, 1, 100), b = fund(&c, 2, 100);
    tout o = {3, 150};
    tc_tx(&c, (tin[]){{a, 0}, {b, 0}}, 2, &o, 1);
    tc_finish(&c);
    ch_clusters *cl = build_open(&c, false);
    ch_clusters_close(cl);
    ch_store_close(c.s);
    ch_error err;
    assert_int_equal(ch_store_open(c.dir, "btc", CH_STORE_WRITE, &c.s, &err), 0);
    fund(&c, 4, 100);
    fund(&c, 5 | WIDE_K, 100);
    tc_finish(&c);
    assert_int_equal(ch_clusters_open(c.dir, &cl, &err), 0);
    ch_addr_id i4 = tc_id(&c, 4), i5 = tc_id(&c, 5 | WIDE_K);
    assert_int_equal(ch_cluster_of(cl, i4), i4);
    assert_int_equal(ch_cluster_size(cl, i4), 1);
    assert_int_equal(ch_cluster_of(cl, i5), i5);
    ch_addr_id m[2];
    assert_int_equal(ch_cluster_members(cl, i5, m, 2), 1);
    assert_int_equal(m[0], i5);
    assert_true(same(&c, cl, 1, 2));
    ch_clusters_close(cl);
    tc_end(&c);
}

/* ---- labels through the cluster, and the CLI ---- */
static const char *str_of(tc *c, uint32_t k, char buf[CH_ADDR_STR_MAX]) {
    ch_addr a = taddr(k);
    assert_int_equal(ch_addr_to_string(&a, CH_NET_MAINNET, buf), 0);
    (void)c;
    return buf;
}

/* A, B, C spent together; B is labelled in a CSV. */
static void labelled_chain(tc *c, char *csv_path, size_t n) {
    tc_begin(c);
    uint32_t a = fund(c, 1, 100), b = fund(c, 2, 100), d = fund(c, 3 | WIDE_K, 100);
    fund(c, 4, 100);
    tout o = {5, 250};
    tc_tx(c, (tin[]){{a, 0}, {b, 0}, {d, 0}}, 3, &o, 1);
    tc_finish(c);
    char s2[CH_ADDR_STR_MAX], s4[CH_ADDR_STR_MAX];
    snprintf(csv_path, n, "%s/labels.csv", c->dir);
    FILE *f = fopen(csv_path, "w");
    fprintf(f, "address,category,entity\n%s,exchange,Northwind\n%s,scam,Other\n", str_of(c, 2, s2),
            str_of(c, 4, s4));
    fclose(f);
}

static int collect(const char *member, const ch_attribution *a, void *ctx) {
    json_t *arr = ctx;
    json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "member", member, "category", a->category,
                                         "entity", a->entity));
    return 0;
}

static void test_labels_for_screening(void **state) {
    (void)state;
    tc c;
    char csv[4200];
    labelled_chain(&c, csv, sizeof csv);
    ch_clusters *cl = build_open(&c, false);
    ch_clusters_close(cl);
    char s1[CH_ADDR_STR_MAX], s2[CH_ADDR_STR_MAX];
    str_of(&c, 1, s1);
    str_of(&c, 2, s2);
    ch_error err;
    ch_cluster_hit hit;
    json_t *got = json_array();
    /* no attribution store yet: nothing, and no error */
    assert_int_equal(ch_cluster_labels_dir(c.dir, s1, collect, got, &hit, &err), 0);
    assert_int_equal(json_array_size(got), 0);
    ch_intel *in;
    if (ch_intel_open(c.dir, true, &in, &err) != 0) fail_msg("%s", err.msg);
    ch_import_opts io = {.format = CH_FMT_CSV};
    ch_import_stats st;
    if (ch_intel_import(in, csv, &io, &st, &err) != 0) fail_msg("%s", err.msg);
    ch_intel_close(in);
    /* A's cluster mate B carries a label: reported with B as the member */
    assert_int_equal(ch_cluster_labels_dir(c.dir, s1, collect, got, &hit, &err), 0);
    assert_int_equal(hit.size, 3);
    assert_int_equal(hit.labelled, 1);
    assert_int_equal(json_array_size(got), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(got, 0), "member")), s2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(got, 0), "category")),
                        "exchange");
    /* B's own label is not B's cluster evidence */
    json_array_clear(got);
    assert_int_equal(ch_cluster_labels_dir(c.dir, s2, collect, got, &hit, &err), 0);
    assert_int_equal(json_array_size(got), 0);
    json_decref(got);
    tc_end(&c);
}

static void test_cli_json(void **state) {
    (void)state;
    tc c;
    char csv[4200];
    labelled_chain(&c, csv, sizeof csv);
    char cmd[9000], s1[CH_ADDR_STR_MAX], s2[CH_ADDR_STR_MAX];
    int status;
    snprintf(cmd, sizeof cmd, "%s cluster build --db %s", tu_bin("coinhound"), c.dir);
    char *out = tu_run(cmd, &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "clusters"));
    free(out);
    snprintf(cmd, sizeof cmd, "%s cluster %s --db %s --json --labels %s", tu_bin("coinhound"),
             str_of(&c, 1, s1), c.dir, csv);
    out = tu_run(cmd, &status);
    assert_int_equal(status, 0);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j) fail_msg("not JSON: %s", out);
    assert_string_equal(json_string_value(json_object_get(j, "address")), s1);
    assert_int_equal(json_integer_value(json_object_get(j, "cluster")), tc_id(&c, 1));
    assert_int_equal(json_integer_value(json_object_get(j, "size")), 3);
    json_t *labels = json_object_get(j, "labels");
    assert_int_equal(json_array_size(labels), 1); /* the scam label is on another cluster */
    json_t *l = json_array_get(labels, 0);
    assert_string_equal(json_string_value(json_object_get(l, "address")), str_of(&c, 2, s2));
    assert_string_equal(json_string_value(json_object_get(l, "category")), "exchange");
    assert_string_equal(json_string_value(json_object_get(l, "entity")), "Northwind");
    assert_non_null(json_string_value(json_object_get(l, "source")));
    json_t *mem = json_object_get(j, "members");
    assert_int_equal(json_array_size(mem), 3);
    assert_string_equal(json_string_value(json_array_get(mem, 0)), s1);
    json_decref(j);
    free(out);
    /* an unknown address: exit 1; garbage: exit 2 */
    snprintf(cmd, sizeof cmd, "%s cluster %s --db %s 2>/dev/null", tu_bin("coinhound"),
             str_of(&c, 77, s1), c.dir);
    free(tu_run(cmd, &status));
    assert_int_equal(status, 1);
    snprintf(cmd, sizeof cmd, "%s cluster notanaddress --db %s 2>/dev/null", tu_bin("coinhound"),
             c.dir);
    free(tu_run(cmd, &status));
    assert_int_equal(status, 2);
    tc_end(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cospend_merges),
        cmocka_unit_test(test_transitive),
        cmocka_unit_test(test_coinbase_never_merges),
        cmocka_unit_test(test_generic_coinjoin_not_merged),
        cmocka_unit_test(test_rule_generic),
        cmocka_unit_test(test_rule_wasabi1),
        cmocka_unit_test(test_rule_wasabi2),
        cmocka_unit_test(test_rule_whirlpool),
        cmocka_unit_test(test_rule_joinmarket),
        cmocka_unit_test(test_change_only_with_flag),
        cmocka_unit_test(test_matches_reference_random),
        cmocka_unit_test(test_matches_reference_generated),
        cmocka_unit_test(test_file_reopen_and_corruption),
        cmocka_unit_test(test_newer_address_is_singleton),
        cmocka_unit_test(test_labels_for_screening),
        cmocka_unit_test(test_cli_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

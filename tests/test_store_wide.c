/* Store format 4: tx numbers and address ids are 40 bits in the records,
 * 64 in the API (docs/store.md, "Format 4").
 *
 * Ids of the wide class (P2WSH, P2TR: addrs32.col) carry CH_ADDR_ID_WIDE,
 * bit 39, so every one of them is above 2^32: a generated chain's wide
 * addresses are followed through ingest, the readers, the query, a trace
 * and the clusters, and must come back whole (a 32-bit field anywhere on
 * the way would cut the bit off and name another address, or none). The
 * record layouts themselves are held to values at the top of their 40 bits
 * (and the input's 24-bit vout) through the column writer's in-place patch,
 * as spent marks are written. */
#include "support/genchain.h"
#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/address.h"
#include "coinhound/cluster.h"
#include "coinhound/query.h"
#include "coinhound/store.h"
#include "coinhound/trace.h"
#include "store/store_internal.h"

/* A wide-class address with an unspent output: its id and that output. */
static ch_addr_id wide_with_unspent(ch_store *s, uint64_t *unspent) {
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    uint64_t n20 = ch_store_addr_index(s, CH_ADDR_ID_WIDE | 1);
    assert_true(n20 < c.addresses); /* the generator pays P2WSH and P2TR */
    for (uint64_t i = n20; i < c.addresses; i++) {
        ch_addr_id id = ch_store_addr_id_at(s, i);
        ch_addr a;
        ch_store_addr_of(s, id, &a);
        ch_addr_id got;
        uint64_t last;
        ch_error err;
        assert_int_equal(ch_store_find_addr(s, &a, &got, &last, &err), 1);
        assert_true(got == id);
        for (int64_t o = (int64_t)last; o >= 0;
             o = ch_store_output_prev_same_addr(s, (uint64_t)o)) {
            assert_true(ch_out_addr(ch_store_output(s, (uint64_t)o)) == id);
            if (ch_store_output_spender(s, (uint64_t)o) < 0) {
                *unspent = (uint64_t)o;
                return id;
            }
        }
    }
    fail_msg("no wide-class address holds an unspent output");
    return 0;
}

static void test_wide_ids_above_2_32_round_trip_ingest_query_trace_cluster(void **state) {
    (void)state;
    tu_genchain g;
    tu_genchain_make(&g, 17, 4000);
    ch_store *s = g.s;
    ch_error err;
    uint64_t out;
    ch_addr_id w = wide_with_unspent(s, &out);
    assert_true(w > UINT32_MAX);
    assert_true(w & CH_ADDR_ID_WIDE);
    /* the dense index and back */
    assert_true(ch_store_addr_id_at(s, ch_store_addr_index(s, w)) == w);

    /* query: the address's text names the same id */
    ch_addr a;
    ch_store_addr_of(s, w, &a);
    char text[CH_ADDR_STR_MAX];
    assert_int_equal(ch_addr_to_string(&a, ch_store_addr_net(s), text), 0);
    ch_q_address qa;
    assert_int_equal(ch_query_address(s, text, &qa, &err), 1);
    assert_true(qa.id == w);
    ch_q_address_free(&qa);

    /* trace: forward from the address, its unspent output is held there */
    ch_trace_opts o;
    ch_trace_opts_init(&o);
    o.direction = CH_TRACE_FORWARD;
    ch_trace *t;
    assert_int_equal(ch_trace_new(s, &o, &t, &err), 0);
    assert_int_equal(ch_trace_add_address(t, w, &err), 0);
    assert_int_equal(ch_trace_run(t, &err), 0);
    const ch_trace_holding *h;
    size_t nh = ch_trace_holdings(t, &h), found = 0;
    for (size_t i = 0; i < nh; i++) {
        if (h[i].addr == 0) continue;
        /* every address a holding names is stored, under its own id */
        ch_addr ha;
        ch_store_addr_of(s, h[i].addr, &ha);
        ch_addr_id back;
        uint64_t last;
        assert_int_equal(ch_store_find_addr(s, &ha, &back, &last, &err), 1);
        assert_true(back == h[i].addr);
        found += h[i].addr == w;
    }
    assert_int_equal(found, 1);
    ch_trace_free(t);
    assert_int_equal(ch_store_damage(s, &err), 0);

    /* clusters: the file keeps slots; ids above 2^32 come back whole */
    ch_cluster_meta m;
    assert_int_equal(ch_cluster_build(g.db, NULL, &m, NULL, &err), 0);
    ch_clusters *c;
    assert_int_equal(ch_clusters_open_for(s, g.db, "btc", &c, &err), 0);
    ch_addr_id name = ch_cluster_of(c, w);
    uint32_t size = ch_cluster_size(c, w);
    assert_true(size >= 1);
    ch_addr_id *mem = calloc(size, sizeof *mem);
    assert_int_equal(ch_cluster_members(c, w, mem, size), size);
    assert_true(mem[0] == name); /* named by its smallest member */
    size_t self = 0;
    for (uint32_t i = 0; i < size; i++) {
        self += mem[i] == w;
        assert_true(ch_cluster_of(c, mem[i]) == name);
        if (i) assert_true(mem[i] > mem[i - 1]);
    }
    assert_int_equal(self, 1);
    free(mem);
    /* the largest cluster's name is an id of the store */
    ch_addr la;
    ch_store_addr_of(s, ch_clusters_meta(c)->largest, &la);
    assert_int_equal(ch_store_damage(s, &err), 0);
    ch_clusters_close(c);
    tu_genchain_close(&g);
}

/* The records hold their fields' full widths: outputs of 40-bit address ids
 * whose 40-bit spent marks are patched in place (as marks.c writes them)
 * keep value, type and address intact and read back whole; inputs keep a
 * 40-bit tx and a 24-bit vout; the coinbase input reads as CH_NO_TX. */
static void test_records_hold_40_bit_ids(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/outs.col", dir);
    enum { N = 5000 };
    static const uint64_t tops[] = {CH_ID_MASK - 1, (1ULL << 32), (1ULL << 32) - 1, 1,
                                    CH_ADDR_ID_WIDE | 0x123456789ULL};
    st_col c;
    ch_error err;
    assert_int_equal(st_col_open(&c, path, sizeof(ch_out_rec), 0, true, &err), 0);
    for (uint64_t i = 0; i < N; i++) {
        uint64_t vt = (i * 0x9E3779B97F4A7C15ULL) >> 8 | (uint64_t)(i % 9) << 56;
        ch_out_rec r = st_out_make(vt, tops[i % 5] ^ (i % 3));
        assert_int_equal(st_col_append(&c, &r), i);
    }
    assert_int_equal(st_col_write(&c, &err), 0);
    assert_int_equal(st_col_publish(&c, &err), 0);
    st_col_edit *e = malloc(N * sizeof *e);
    for (uint64_t i = 0; i < N; i++)
        e[i] = (st_col_edit){N - 1 - i, tops[(i + 2) % 5]};
    assert_int_equal(st_col_patch_many(&c, e, N, CH_OUT_SPENT_OFF, CH_OUT_ID_BYTES, &err), 0);
    for (uint64_t i = 0; i < N; i++) {
        ch_out_rec r;
        assert_int_equal(st_col_pread(&c, i, &r), 0);
        uint64_t vt = (i * 0x9E3779B97F4A7C15ULL) >> 8 | (uint64_t)(i % 9) << 56;
        assert_true(CH_OUT_VALUE(&r) == (vt & 0x00ffffffffffffffULL));
        assert_int_equal(CH_OUT_TYPE(&r), i % 9);
        assert_true(ch_out_addr(&r) == (tops[i % 5] ^ (i % 3)));
        assert_true(ch_out_spent(&r) == tops[(N - 1 - i + 2) % 5]);
    }
    free(e);
    st_col_close(&c);

    ch_in_rec in = st_in_make(CH_ID_MASK - 1, (1u << 24) - 1);
    assert_true(ch_in_spent_tx(&in) == CH_ID_MASK - 1);
    assert_int_equal(ch_in_vout(&in), (1u << 24) - 1);
    in = st_in_make((1ULL << 32) + 7, 3);
    assert_true(ch_in_spent_tx(&in) == (1ULL << 32) + 7);
    assert_int_equal(ch_in_vout(&in), 3);
    in = st_in_make(CH_NO_TX, 0);
    assert_true(ch_in_spent_tx(&in) == CH_NO_TX);

    /* a hot map entry: a 40-bit id beside 24 bits of flags, each its own */
    st_hot_entry h = {0};
    st_hot_set_id(&h, CH_ID_MASK);
    st_hot_set_flags(&h, (1u << ST_HOT_FLAG_BITS) - 1);
    assert_true(st_hot_id(&h) == CH_ID_MASK);
    assert_int_equal(st_hot_flags(&h), (1u << ST_HOT_FLAG_BITS) - 1);
    st_hot_set_flags(&h, ST_HOT_NEW);
    assert_true(st_hot_id(&h) == CH_ID_MASK);
    st_hot_set_id(&h, CH_ADDR_ID_WIDE | 5);
    assert_int_equal(st_hot_flags(&h), ST_HOT_NEW);
    assert_true(st_hot_id(&h) == (CH_ADDR_ID_WIDE | 5));
    tu_rmrf(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wide_ids_above_2_32_round_trip_ingest_query_trace_cluster),
        cmocka_unit_test(test_records_hold_40_bit_ids),
    };
    return cmocka_run_group_tests_name("store_wide", tests, NULL, NULL);
}

/* The writer's UTXO map (src/store/utxomap.h): SipHash-2-4 as its paper
 * gives it; the map against a plain oracle (every hit is the output put
 * under that key, never another's; a full map lets go of its oldest
 * entries; a cut sweeps what it cut); and the store it helps write is the
 * one written without it, byte for byte on every column, with a map large
 * enough for every output, with one so small that it lets go all the time,
 * across commits, an abort, a refused double spend and a reorg cut that
 * brings the same txids back under other tx numbers. */
#include "support/testutil.h"
#include "support/storecmp.h"
#include "support/genchain.h"
#include "support/randcoins.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/ingest.h"
#include "coinhound/store.h"
#include "store/store_internal.h"
#include "store/utxomap.h"

/* The 64-bit vectors of the SipHash paper's reference code (key 00..0f,
 * message 00..len-1): the empty message and the 15-byte one of its
 * appendix. The map's key is the same function's 128-bit output. */
static void test_siphash24_matches_the_reference_vectors(void **state) {
    (void)state;
    const uint64_t key[2] = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
    uint8_t msg[15];
    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    assert_true(st_siphash24(key, msg, 0) == 0x726fdb47dd0e0e31ULL);
    assert_true(st_siphash24(key, msg, 15) == 0xa129ca6149be45e5ULL);
}

enum { N_OUT = 40000 };

typedef struct oracle_out {
    ch_hash256 txid;
    uint32_t vout;
    bool live;
} oracle_out;

/* Random puts, spends and lookups of absent keys against an oracle, in a
 * map holding about 6,000 entries of the 40,000 put: every hit is the
 * output put under its key with its values; misses are of outputs let go,
 * and the ones let go are the oldest (an entry at least as new as the
 * newest one missed is always found); the newest quarter is always held. */
static void map_against_oracle(uint64_t seed) {
    tu_rng = seed;
    oracle_out *o = calloc(N_OUT, sizeof *o);
    st_utxo m = {0};
    assert_int_equal(st_utxo_init(&m, 8000 * ST_UTXO_REC), 0);
    uint64_t hits = 0, misses = 0;
    for (uint64_t i = 0; i < N_OUT; i++) {
        o[i].txid = tu_rand_txid();
        o[i].vout = (uint32_t)(tu_next_rand() % 4);
        o[i].live = true;
        st_utxo_val v = {i, i / 3, i * 1000 + 7}; /* from i: the oracle keeps no copy */
        st_utxo_put(&m, st_utxo_key_of(&m, &o[i].txid, o[i].vout), &v);
        if (i % 3 != 0) continue;
        /* spend a random live earlier output */
        uint64_t j = tu_next_rand() % (i + 1);
        if (!o[j].live) continue;
        st_utxo_key k = st_utxo_key_of(&m, &o[j].txid, o[j].vout);
        st_utxo_val got;
        if (st_utxo_get(&m, k, &got)) {
            assert_true(got.out == j && got.tx == j / 3 && got.value == j * 1000 + 7);
            st_utxo_del(&m, k);
            assert_false(st_utxo_get(&m, k, &got)); /* spent: gone */
            hits++;
        } else {
            assert_true(i - j > m.max / 4); /* only older outputs are let go */
            misses++;
        }
        o[j].live = false;
        /* a key never put (another vout of a stored txid) is never found */
        assert_false(st_utxo_get(&m, st_utxo_key_of(&m, &o[j].txid, o[j].vout + 4), &got));
    }
    assert_true(m.evictions > 5);
    assert_true(hits > 1000 && misses > 1000);
    assert_true(m.count <= m.max);
    /* every live output newer than the newest one missing is found */
    uint64_t newest_gone = 0;
    for (uint64_t i = 0; i < N_OUT; i++) {
        st_utxo_val got;
        bool found = st_utxo_get(&m, st_utxo_key_of(&m, &o[i].txid, o[i].vout), &got);
        if (o[i].live && !found) newest_gone = i;
        if (found) assert_true(o[i].live && got.out == i);
    }
    uint64_t held = 0;
    for (uint64_t i = newest_gone + 1; i < N_OUT; i++) {
        st_utxo_val got;
        if (!o[i].live) continue;
        assert_true(st_utxo_get(&m, st_utxo_key_of(&m, &o[i].txid, o[i].vout), &got));
        held++;
    }
    assert_int_equal(held, m.count);
    /* a cut sweeps every entry at or past it, and only those */
    st_utxo_cut(&m, N_OUT - 1000);
    for (uint64_t i = newest_gone + 1; i < N_OUT; i++) {
        st_utxo_val got;
        bool found = st_utxo_get(&m, st_utxo_key_of(&m, &o[i].txid, o[i].vout), &got);
        assert_true(found == (o[i].live && i < N_OUT - 1000));
    }
    /* puts after the cut (its bounds shrunk): the map fills and lets go
     * again, and the newest outputs are always held */
    uint64_t ev = m.evictions;
    ch_hash256 *more = malloc(20000 * sizeof *more);
    for (uint64_t i = 0; i < 20000; i++) {
        more[i] = tu_rand_txid();
        st_utxo_val w = {N_OUT + i, 1, i};
        st_utxo_put(&m, st_utxo_key_of(&m, &more[i], 0), &w);
        assert_true(m.count <= m.max);
    }
    assert_true(m.evictions > ev + 5);
    for (uint64_t i = 20000 - m.max / 2; i < 20000; i++) {
        st_utxo_val got;
        assert_true(st_utxo_get(&m, st_utxo_key_of(&m, &more[i], 0), &got));
        assert_true(got.out == N_OUT + i && got.value == i);
    }
    free(more);
    /* the same key put twice (a txid stored again): neither is found */
    st_utxo_val v = {N_OUT + 20000, 1, 1};
    ch_hash256 t = tu_rand_txid();
    st_utxo_put(&m, st_utxo_key_of(&m, &t, 0), &v);
    v.out++;
    st_utxo_put(&m, st_utxo_key_of(&m, &t, 0), &v);
    st_utxo_val got;
    assert_false(st_utxo_get(&m, st_utxo_key_of(&m, &t, 0), &got));
    st_utxo_free(&m);
    free(o);
}

static void test_map_hits_are_exact_and_a_full_map_lets_go_of_its_oldest(void **state) {
    (void)state;
    for (uint64_t seed = 1; seed <= 6; seed++)
        map_against_oracle(seed * 0x9e3779b97f4a7c15ULL);
}

/* --- stores written through the API: the same calls into a store without
 * a map, one with a tiny map and one with a large map --- */

enum { N_STORES = 3, BLOCKS = 1000, CUT = 900 };

typedef struct model {
    ch_store *s[N_STORES];
    tu_coins live;
    uint32_t height;
} model;

static ch_addr addr_of(uint64_t n) {
    ch_addr a = {.kind = CH_ADDR_WITNESS, .version = 0, .len = 20, .bytes = {0}};
    memcpy(a.bytes, &n, 8);
    return a;
}

/* One call on every store, each giving the same result (and message). */
#define ALL(m, call)                                                                               \
    do {                                                                                           \
        int rc0 = -2;                                                                              \
        char msg0[512] = "";                                                                       \
        for (int w = 0; w < N_STORES; w++) {                                                       \
            ch_store *s = (m)->s[w];                                                               \
            ch_error err = {0};                                                                    \
            int rc = (call);                                                                       \
            if (w == 0) {                                                                          \
                rc0 = rc;                                                                          \
                snprintf(msg0, sizeof msg0, "%s", rc ? err.msg : "");                              \
            } else {                                                                               \
                assert_int_equal(rc, rc0);                                                         \
                if (rc) assert_string_equal(err.msg, msg0);                                        \
            }                                                                                      \
        }                                                                                          \
        last_rc = rc0;                                                                             \
    } while (0)

static int last_rc;

/* A block of a coinbase and up to 12 txs, each spending 1-3 live coins
 * (taken from the model in a random order) into 1-3 new outputs. Txids
 * come from the model's random stream, so a branch that replays the stream
 * from a saved state brings the same txids back. */
static void add_block(model *m) {
    ch_block_meta b = {.hash = tu_rand_txid(), .time = m->height, .bits = 0x207fffff};
    ALL(m, ch_store_begin_block(s, &b, &err));
    uint32_t n_tx = 1 + (uint32_t)(tu_next_rand() % 13);
    for (uint32_t t = 0; t < n_tx; t++) {
        ch_hash256 id = tu_rand_txid();
        ALL(m, ch_store_add_tx(s, &id, 200, &err));
        if (t == 0 || m->live.n < 4) {
            ALL(m, ch_store_add_coinbase_input(s, &err));
        } else {
            uint32_t n_in = 1 + (uint32_t)(tu_next_rand() % 3);
            for (uint32_t i = 0; i < n_in && m->live.n; i++) {
                tu_coin c = tu_coins_take(&m->live);
                ALL(m, ch_store_add_input(s, &c.txid, c.vout, &err));
                assert_int_equal(last_rc, 0);
            }
        }
        uint32_t n_out = 1 + (uint32_t)(tu_next_rand() % 3);
        for (uint32_t o = 0; o < n_out; o++) {
            ch_addr a = addr_of(tu_next_rand() % 5000);
            uint64_t value = tu_next_rand() % 5000000000ULL;
            ALL(m, ch_store_add_output(s, value, CH_SCRIPT_P2WPKH, &a, &err));
            tu_coins_push(&m->live, &id, o);
        }
    }
    ALL(m, ch_store_end_block(s, &err));
    m->height++;
}

static void test_store_is_the_same_with_any_map_across_abort_double_spend_and_cut(void **state) {
    (void)state;
    tu_rng = 0x2545f4914f6cdd1dULL;
    char *dir[N_STORES];
    model m = {0};
    ch_error e0;
    const uint64_t map_bytes[N_STORES] = {0, 1, 64u << 20}; /* none, tiny (64 slots), large */
    /* tx hot maps of 4096 slots: they let go of a generation every 1,536
     * txs, whose unspent outputs go to the map */
    tu_open_writers(dir, m.s, N_STORES, 64u << 10);
    for (int w = 0; w < N_STORES; w++) {
        assert_int_equal(ch_store_set_utxo_mem(m.s[w], map_bytes[w], &e0), 0);
    }
    uint64_t saved_rng = 0;
    tu_coin *saved_live = NULL;
    size_t saved_n = 0;
    for (uint32_t h = 0; h < BLOCKS; h++) {
        if (h == CUT) { /* the model's state where the branch will start */
            saved_rng = tu_rng;
            saved_n = m.live.n;
            saved_live = malloc(saved_n * sizeof *saved_live);
            memcpy(saved_live, m.live.v, saved_n * sizeof *saved_live);
        }
        add_block(&m);
        if (h % 16 == 15) ALL(&m, ch_store_commit(s, &err));
        if (h == 100) {
            /* a batch that spends a coin twice: refused alike, then aborted
             * (the model forgets the block) */
            uint64_t r = tu_rng;
            size_t n = m.live.n;
            tu_coin *l = malloc(n * sizeof *l);
            memcpy(l, m.live.v, n * sizeof *l);
            ALL(&m, ch_store_commit(s, &err));
            add_block(&m);
            tu_coin c = m.live.v[0];
            ch_block_meta b = {.hash = tu_rand_txid()};
            ch_hash256 id = tu_rand_txid();
            ALL(&m, ch_store_begin_block(s, &b, &err));
            ALL(&m, ch_store_add_tx(s, &id, 100, &err));
            ALL(&m, ch_store_add_input(s, &c.txid, c.vout, &err));
            ALL(&m, ch_store_add_input(s, &c.txid, c.vout, &err));
            assert_int_equal(last_rc, -1);
            for (int w = 0; w < N_STORES; w++)
                ch_store_abort(m.s[w]);
            tu_rng = r ^ 0x5555; /* another block from here */
            m.live.n = n;
            memcpy(m.live.v, l, n * sizeof *l);
            free(l);
            m.height--;
        }
    }
    ALL(&m, ch_store_commit(s, &err));
    /* a reorg: cut back to CUT, then a branch that replays the same random
     * stream (the same txids, spending the same coins) and goes on */
    ALL(&m, ch_store_truncate(s, CUT, &err));
    assert_int_equal(last_rc, 0);
    tu_rng = saved_rng;
    m.live.n = saved_n;
    memcpy(m.live.v, saved_live, saved_n * sizeof *saved_live);
    m.height = CUT;
    tu_rng ^= 1; /* the branch's first block differs, its txs with it */
    for (uint32_t h = CUT; h < BLOCKS + 30; h++) {
        if (h == CUT + 1) tu_rng = saved_rng; /* then the old txids come back */
        add_block(&m);
        if (h % 16 == 15) ALL(&m, ch_store_commit(s, &err));
    }
    ALL(&m, ch_store_commit(s, &err));
    ch_store_utxo_counts c[N_STORES];
    for (int w = 0; w < N_STORES; w++)
        ch_store_utxo_stats(m.s[w], &c[w]);
    assert_true(c[0].hits == 0 && c[0].misses == 0);   /* no map */
    assert_true(c[1].evictions > 5 && c[1].hits > 20); /* tiny: lets go */
    /* large: misses the txs a cut or an abort took from the hot maps
     * before their generation turned (found through the records) */
    assert_true(c[2].evictions == 0 && c[2].hits > 100);
    for (int w = 0; w < N_STORES; w++)
        ch_store_close(m.s[w]);
    tu_assert_same_store(dir[0], dir[1], "btc");
    tu_assert_same_store(dir[0], dir[2], "btc");
    for (int w = 0; w < N_STORES; w++) {
        tu_rmrf(dir[w]);
        free(dir[w]);
    }
    free(saved_live);
    tu_coins_free(&m.live);
}

/* A memory bound so small that the runs' filters pass their share (a
 * 16th of it) after a few commits: the largest runs' filters are let go
 * until the rest fit, and every txid is still found at its tx number
 * through the runs (the hot maps, at their smallest, have long dropped
 * the older ones); the store equals one written without a bound. */
static void test_filters_over_their_share_are_let_go_and_lookups_stay_right(void **state) {
    (void)state;
    tu_rng = 0x6a09e667f3bcc909ULL;
    char *dir[N_STORES];
    model m = {0};
    ch_error e0;
    tu_open_writers(dir, m.s, N_STORES, 0);
    ch_store_set_mem(m.s[1], 64u << 10); /* filters: 4 KiB, about 3,300 keys */
    ch_store_set_mem(m.s[2], 64u << 10);
    assert_int_equal(ch_store_set_utxo_mem(m.s[2], 1, &e0), 0);
    for (uint32_t h = 0; h < 1200; h++) {
        add_block(&m);
        if (h % 16 == 15) ALL(&m, ch_store_commit(s, &err));
    }
    ALL(&m, ch_store_commit(s, &err));
    for (int w = 1; w < N_STORES; w++) {
        ch_store *s = m.s[w];
        assert_false(s->tx_hot_complete);
        uint64_t bytes = st_runs_filter_bytes(&s->txid_runs) + st_runs_filter_bytes(&s->addr_runs);
        assert_true(bytes <= (64u << 10) / 16);
        /* some runs lost theirs, the small ones kept them */
        size_t without = 0, with = 0;
        for (size_t i = 0; i < s->txid_runs.n; i++)
            *(s->txid_runs.v[i].filter.bits ? &with : &without) += 1;
        assert_true(without > 0 && with > 0);
        ch_store_counts cn;
        ch_store_get_counts(s, &cn);
        assert_true(cn.txs > 5000);
        for (uint64_t t = 0; t < cn.txs; t++) {
            ch_hash256 id;
            ch_store_txid(s, t, &id);
            uint64_t found = UINT64_MAX;
            assert_int_equal(st_index_find_tx(s, &id, &found), 1);
            assert_true(found == t);
        }
    }
    /* the unbounded store kept every filter */
    assert_true(st_runs_largest_filter(&m.s[0]->txid_runs) != NULL);
    for (size_t i = 0; i < m.s[0]->txid_runs.n; i++)
        assert_non_null(m.s[0]->txid_runs.v[i].filter.bits);
    for (int w = 0; w < N_STORES; w++)
        ch_store_close(m.s[w]);
    tu_assert_same_store(dir[0], dir[1], "btc");
    tu_assert_same_store(dir[0], dir[2], "btc");
    for (int w = 0; w < N_STORES; w++) {
        tu_rmrf(dir[w]);
        free(dir[w]);
    }
    tu_coins_free(&m.live);
}

/* A generated chain through `ingest btc` with a small --mem (tx hot maps
 * that let go of a generation every 3,072 txs, so the map fills): with the
 * default map (a fifth of it), a tiny one and none, the same store; and an
 * ingest stopped after 200 blocks, its map then lost, resumed to the end:
 * the same store as well. */
static void test_ingest_with_and_without_the_map_builds_the_same_store(void **state) {
    (void)state;
    tu_genchain g;
    tu_genchain_make(&g, 7, 12000);
    const uint64_t sizes[4] = {CH_INGEST_UTXO_AUTO, 1, 0, CH_INGEST_UTXO_AUTO};
    char *db[4];
    ch_ingest_stats st[4];
    for (int i = 0; i < 4; i++) {
        db[i] = tu_tmpdir();
        ch_ingest_opts o = {.progress = 0,
                            .commit_bytes = 64 << 10,
                            .mem_bytes = 2u << 20,
                            .utxo_mem_bytes = sizes[i],
                            .max_blocks = i == 3 ? 200 : 0};
        ch_error err;
        if (ch_ingest_btc(g.blocks, db[i], &o, &st[i], &err) != 0) fail_msg("%s", err.msg);
        if (i != 3) continue;
        assert_int_equal(st[i].blocks, 200);
        assert_true(st[i].utxo_hits > 100);
        o.max_blocks = 0; /* resumed by a new writer: its map starts empty */
        if (ch_ingest_btc(g.blocks, db[i], &o, &st[i], &err) != 0) fail_msg("%s", err.msg);
    }
    assert_true(st[0].utxo_hits > 500);
    assert_true(st[2].utxo_hits == 0 && st[2].utxo_misses == 0);
    tu_assert_same_store(db[2], db[0], "btc");
    tu_assert_same_store(db[2], db[1], "btc");
    tu_assert_same_store(db[2], db[3], "btc");
    tu_assert_same_store(db[2], g.db, "btc");
    for (int i = 0; i < 4; i++) {
        tu_rmrf(db[i]);
        free(db[i]);
    }
    tu_genchain_close(&g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_siphash24_matches_the_reference_vectors),
        cmocka_unit_test(test_map_hits_are_exact_and_a_full_map_lets_go_of_its_oldest),
        cmocka_unit_test(test_store_is_the_same_with_any_map_across_abort_double_spend_and_cut),
        cmocka_unit_test(test_filters_over_their_share_are_let_go_and_lookups_stay_right),
        cmocka_unit_test(test_ingest_with_and_without_the_map_builds_the_same_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

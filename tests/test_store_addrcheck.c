/* The address hot entries' checks (src/store/append.c): a payment to an
 * address the hot maps hold is confirmed by 23 keyed bits kept in its
 * entry instead of a read of the address's record. Two stores are written
 * through the API with the same calls, one with the checks and one with
 * every hit confirmed by its record (the path before them), under a memory
 * bound so small that the hot maps turn every few hundred txs and the
 * columns are cold (records read by pread): the two stores are the same
 * byte for byte, and against the test's own model every output names the
 * address it was paid to and every address has one id, pairs of addresses
 * that share their index key included. */
#include "support/testutil.h"
#include "support/storecmp.h"
#include "support/randcoins.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/store.h"
#include "store/store_internal.h"

enum { N_STORES = 2, BLOCKS = 600, N_ADDRS = 3000 };

/* The key's state after the first three words of a 32-byte address (the
 * store's own mixer, st_mix64, as st_addr_key chains it), to build two
 * addresses that share a key. */
static uint64_t state3(const ch_addr *a) {
    uint64_t h = st_mix64(((uint64_t)a->kind << 16) | ((uint64_t)a->version << 8) | a->len);
    for (int i = 0; i < 3; i++) {
        uint64_t w;
        memcpy(&w, a->bytes + 8 * i, 8);
        h = st_mix64(h ^ w);
    }
    return h;
}

/* Address n: a 20-byte witness program; every 7th a 32-byte one (the wide
 * class, its own column and ids), and the one after it its twin: other
 * bytes, the same index key (its last word cancels the difference in the
 * key's state), so that lookups of either meet the other's entries in the
 * hot maps and its candidates in the runs. */
static ch_addr addr_of(uint64_t n) {
    ch_addr a = {.kind = CH_ADDR_WITNESS, .version = 0, .len = 20, .bytes = {0}};
    uint64_t base = n % 7 == 1 ? n - 1 : n;
    if (base % 7 == 0) {
        a.version = 1;
        a.len = 32;
    }
    memcpy(a.bytes, &base, 8);
    a.bytes[a.len - 1] = 0x5a;
    if (base != n) {
        uint64_t h = state3(&a), w;
        a.bytes[8] ^= 0xa5; /* another address */
        memcpy(&w, a.bytes + 24, 8);
        w ^= h ^ state3(&a);
        memcpy(a.bytes + 24, &w, 8);
    }
    return a;
}

typedef struct model {
    ch_store *s[N_STORES];
    tu_coins live;
    uint32_t *paid; /* the address number of each output */
    size_t n_out, out_cap;
} model;

static void push_out(model *m, const ch_hash256 *t, uint32_t vout, uint32_t addr) {
    tu_coins_push(&m->live, t, vout);
    if (m->n_out == m->out_cap) {
        m->out_cap = m->out_cap ? 2 * m->out_cap : 1024;
        m->paid = realloc(m->paid, m->out_cap * sizeof *m->paid);
    }
    m->paid[m->n_out++] = addr;
}

/* One call on every store, each succeeding. */
#define ALL(m, call)                                                                               \
    do {                                                                                           \
        for (int w = 0; w < N_STORES; w++) {                                                       \
            ch_store *s = (m)->s[w];                                                               \
            ch_error err = {0};                                                                    \
            if ((call) != 0) fail_msg("store %d: %s", w, err.msg);                                 \
        }                                                                                          \
    } while (0)

/* A block of up to 16 txs, each spending 0-2 live coins into 1-3 outputs
 * paid to addresses drawn from N_ADDRS (most of them paid again and again,
 * so that lookups hit the young map, the old one and the runs). */
static void add_block(model *m, uint32_t height) {
    ch_block_meta b = {.hash = tu_rand_txid(), .time = height, .bits = 0x207fffff};
    ALL(m, ch_store_begin_block(s, &b, &err));
    uint32_t n_tx = 1 + (uint32_t)(tu_next_rand() % 16);
    for (uint32_t t = 0; t < n_tx; t++) {
        ch_hash256 id = tu_rand_txid();
        ALL(m, ch_store_add_tx(s, &id, 150, &err));
        uint32_t n_in = t == 0 || m->live.n < 8 ? 0 : (uint32_t)(1 + tu_next_rand() % 2);
        if (n_in == 0) ALL(m, ch_store_add_coinbase_input(s, &err));
        for (uint32_t i = 0; i < n_in; i++) {
            tu_coin c = tu_coins_take(&m->live);
            ALL(m, ch_store_add_input(s, &c.txid, c.vout, &err));
        }
        uint32_t n_out = 1 + (uint32_t)(tu_next_rand() % 3);
        for (uint32_t o = 0; o < n_out; o++) {
            uint32_t n = (uint32_t)(tu_next_rand() % N_ADDRS);
            ch_addr a = addr_of(n);
            ALL(m, ch_store_add_output(s, 1000 + o, CH_SCRIPT_P2WPKH, &a, &err));
            push_out(m, &id, o, n);
        }
    }
    ALL(m, ch_store_end_block(s, &err));
    for (int w = 0; w < N_STORES; w++)
        ch_store_trim(m->s[w]);
}

static void test_checked_hits_build_the_store_record_confirmed_hits_build(void **state) {
    (void)state;
    tu_rng = 0x9e3779b97f4a7c15ULL;
    char *dir[N_STORES];
    model m = {0};
    /* hot maps of 4,096 slots (a generation every 1,536 entries) and cold
     * columns from the first trim on */
    tu_open_writers(dir, m.s, N_STORES, 64u << 10);
    for (int w = 0; w < N_STORES; w++) {
        /* the batch tag wraps (after four million commits) within the test:
         * the entries moved off their keys must stay marked so */
        m.s[w]->batch = (1u << (ST_HOT_FLAG_BITS - ST_HOT_TAG_SHIFT)) - 40;
    }
    m.s[0]->addr_check_off = true;
    for (uint64_t n = 1; n < 100; n += 7) { /* the twins share their keys */
        ch_addr a = addr_of(n - 1), t = addr_of(n);
        assert_true(st_addr_key(&a) == st_addr_key(&t));
        assert_true(memcmp(a.bytes, t.bytes, 32) != 0);
    }
    for (uint32_t h = 0; h < BLOCKS; h++) {
        add_block(&m, h);
        if (h % 8 == 7) ALL(&m, ch_store_commit(s, &err));
    }
    ALL(&m, ch_store_commit(s, &err));
    /* the checks' path ran where it matters: the records read by pread */
    assert_true(m.s[1]->col[COL_ADDRS20].cold && m.s[1]->col[COL_HEADS20].cold);

    /* the writer finds every address paid at its id, and none never paid */
    ch_store *s = m.s[1];
    ch_addr_id *ids = calloc(N_ADDRS, sizeof *ids);
    for (size_t o = 0; o < m.n_out; o++) {
        const ch_out_rec *r = ch_store_output(s, o);
        ch_addr_id id = ch_out_addr(r);
        ch_addr got, want = addr_of(m.paid[o]);
        ch_store_addr_of(s, id, &got);
        assert_int_equal(got.len, want.len);
        assert_int_equal(got.version, want.version);
        assert_memory_equal(got.bytes, want.bytes, want.len);
        if (ids[m.paid[o]] == 0) ids[m.paid[o]] = id;
        assert_true(ids[m.paid[o]] == id); /* one id an address */
    }
    for (uint32_t n = 0; n < N_ADDRS; n++) {
        ch_addr a = addr_of(n);
        ch_addr_id id = 0;
        ch_error err;
        int rc = ch_store_writer_find_addr(s, &a, &id, &err);
        assert_int_equal(rc, ids[n] != 0);
        if (rc) assert_true(id == ids[n]);
    }
    ch_addr never = addr_of(N_ADDRS + 1);
    ch_addr_id id = 0;
    ch_error err;
    assert_int_equal(ch_store_writer_find_addr(s, &never, &id, &err), 0);

    for (int w = 0; w < N_STORES; w++)
        ch_store_close(m.s[w]);
    tu_assert_same_store(dir[0], dir[1], "btc");
    for (int w = 0; w < N_STORES; w++) {
        tu_rmrf(dir[w]);
        free(dir[w]);
    }
    free(ids);
    tu_coins_free(&m.live);
    free(m.paid);
}

/* An entry's aux: the last output packed with the check below 2^40 - 1,
 * none packed too, a larger last kept raw (no check: the record decides). */
static void test_aux_packs_the_last_output_and_keeps_a_large_one_raw(void **state) {
    (void)state;
    const uint64_t check = 0x5a5a5a;
    const uint64_t lasts[] = {0, 1, 123456789, (1ULL << 40) - 2, UINT64_MAX};
    for (size_t i = 0; i < sizeof lasts / sizeof *lasts; i++) {
        uint64_t aux = st_addr_aux(lasts[i], check);
        assert_true(aux >> 63);
        assert_true((aux >> 40 & ((1ULL << 23) - 1)) == check);
        assert_true(st_addr_aux_last(aux) == lasts[i]);
    }
    const uint64_t raw[] = {(1ULL << 40) - 1, 1ULL << 40, 1ULL << 50};
    for (size_t i = 0; i < sizeof raw / sizeof *raw; i++) {
        uint64_t aux = st_addr_aux(raw[i], check);
        assert_true(aux == raw[i]);
        assert_true(st_addr_aux_last(aux) == raw[i]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checked_hits_build_the_store_record_confirmed_hits_build),
        cmocka_unit_test(test_aux_packs_the_last_output_and_keeps_a_large_one_raw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

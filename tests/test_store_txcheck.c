/* The tx hot entries' checks and output ranges (src/store/append.c): an
 * input whose tx the hot maps hold takes the tx's outputs from its entry,
 * the txid confirmed by 24 keyed bits instead of a read of its record.
 * Two stores are written through the API with the same calls, one with
 * the checks and one with every tx hit confirmed by its txid's record,
 * under a memory bound so small that the hot maps turn every few hundred
 * txs and the columns are cold (records read by pread): the two stores are
 * the same byte for byte, and against the test's own model every input
 * names the tx and output it spent, pairs of txids that share their first
 * eight bytes (their index key) included. Made to always agree, the check
 * takes the first of such a pair for the second. */
#include "support/testutil.h"
#include "support/storecmp.h"
#include "support/randcoins.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/store.h"
#include "store/store_internal.h"

enum { N_STORES = 2, BLOCKS = 600 };

typedef struct model {
    ch_store *s[N_STORES];
    tu_coins live;
    tu_coin *spent; /* the coin each input spent (a coinbase's: vout UINT32_MAX) */
    size_t n_in, in_cap;
    ch_hash256 last; /* the txid before, for a twin */
} model;

static void push_in(model *m, const tu_coin *c) {
    if (m->n_in == m->in_cap) {
        m->in_cap = m->in_cap ? 2 * m->in_cap : 1024;
        m->spent = realloc(m->spent, m->in_cap * sizeof *m->spent);
    }
    m->spent[m->n_in++] = *c;
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

/* A block of up to 16 txs, each spending 0-2 live coins into 1-4 outputs;
 * every 4th txid is the twin of the one before (its first eight bytes,
 * other bytes after), so that lookups of either meet the other's entry. */
static void add_block(model *m, uint32_t height, uint64_t *n_tx_all) {
    ch_block_meta b = {.hash = tu_rand_txid(), .time = height, .bits = 0x207fffff};
    ALL(m, ch_store_begin_block(s, &b, &err));
    uint32_t n_tx = 1 + (uint32_t)(tu_next_rand() % 16);
    for (uint32_t t = 0; t < n_tx; t++) {
        ch_hash256 id = tu_rand_txid();
        if (++*n_tx_all % 4 == 0) memcpy(id.b, m->last.b, 8);
        m->last = id;
        ALL(m, ch_store_add_tx(s, &id, 150, &err));
        uint32_t n_in = t == 0 || m->live.n < 8 ? 0 : (uint32_t)(1 + tu_next_rand() % 2);
        if (n_in == 0) {
            ALL(m, ch_store_add_coinbase_input(s, &err));
            push_in(m, &(tu_coin){.vout = UINT32_MAX});
        }
        for (uint32_t i = 0; i < n_in; i++) {
            tu_coin c = tu_coins_take(&m->live);
            ALL(m, ch_store_add_input(s, &c.txid, c.vout, &err));
            push_in(m, &c);
        }
        uint32_t n_out = 1 + (uint32_t)(tu_next_rand() % 4);
        for (uint32_t o = 0; o < n_out; o++) {
            ch_addr a = {.kind = CH_ADDR_WITNESS, .len = 20, .bytes = {(uint8_t)o, 7}};
            ALL(m, ch_store_add_output(s, 1000 + o, CH_SCRIPT_P2WPKH, &a, &err));
            tu_coins_push(&m->live, &id, o);
        }
    }
    ALL(m, ch_store_end_block(s, &err));
    for (int w = 0; w < N_STORES; w++)
        ch_store_trim(m->s[w]);
}

static void test_checked_tx_hits_build_the_store_record_confirmed_hits_build(void **state) {
    (void)state;
    tu_rng = 0x2545f4914f6cdd1dULL;
    char *dir[N_STORES];
    model m = {0};
    /* hot maps of 4,096 slots and cold columns from the first trim on */
    tu_open_writers(dir, m.s, N_STORES, 64u << 10);
    m.s[0]->tx_check_off = true;
    uint64_t n_tx = 0;
    for (uint32_t h = 0; h < BLOCKS; h++) {
        add_block(&m, h, &n_tx);
        if (h % 8 == 7) ALL(&m, ch_store_commit(s, &err));
    }
    ALL(&m, ch_store_commit(s, &err));
    assert_true(m.s[1]->col[COL_TXS].cold && m.s[1]->col[COL_TXIDS].cold);

    /* every input names the coin it spent */
    ch_store *s = m.s[1];
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    assert_true(c.inputs == m.n_in);
    size_t spends = 0;
    for (uint64_t i = 0; i < m.n_in; i++) {
        const ch_in_rec *r = ch_store_input(s, i);
        if (m.spent[i].vout == UINT32_MAX) {
            assert_true(ch_in_spent_tx(r) == CH_NO_TX);
            continue;
        }
        ch_hash256 got;
        ch_store_txid(s, ch_in_spent_tx(r), &got);
        assert_memory_equal(got.b, m.spent[i].txid.b, 32);
        assert_int_equal(ch_in_vout(r), m.spent[i].vout);
        spends++;
    }
    assert_true(spends > 1000);

    for (int w = 0; w < N_STORES; w++)
        ch_store_close(m.s[w]);
    tu_assert_same_store(dir[0], dir[1], "btc");
    for (int w = 0; w < N_STORES; w++) {
        tu_rmrf(dir[w]);
        free(dir[w]);
    }
    tu_coins_free(&m.live);
    free(m.spent);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checked_tx_hits_build_the_store_record_confirmed_hits_build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The chain store for account chains: transfers, per-account histories in
 * time order, fees, reorgs and aborts, checked against a plain replay of the
 * transfers the test wrote. */
#include "support/testutil.h"
#include "support/storecmp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/store.h"

#define N_ACCOUNTS 12
#define N_TOKENS   3

typedef struct planned {
    uint32_t block, tx; /* tx within the block; UINT32_MAX = withdrawal */
    uint32_t from, to;  /* account numbers, 0 = none */
    uint32_t token;     /* 0 native, else token number */
    uint64_t value;
    ch_xfer_kind kind;
} planned;

static ch_addr account(uint32_t n, uint8_t salt) {
    ch_addr a;
    memset(&a, 0, sizeof a);
    a.kind = CH_ADDR_EVM;
    a.len = 20;
    a.bytes[0] = salt;
    memcpy(a.bytes + 16, &n, 4);
    return a;
}

static ch_hash256 hash_of(uint32_t tag, uint32_t n, uint32_t salt) {
    ch_hash256 h;
    memset(&h, 0, sizeof h);
    memcpy(h.b, &tag, 4);
    memcpy(h.b + 4, &n, 4);
    memcpy(h.b + 8, &salt, 4);
    h.b[31] = 0xee;
    return h;
}

/* A random chain: blocks of a few txs, each with 1-3 transfers and a fee. */
static size_t plan_chain(planned *p, size_t cap, uint32_t blocks, unsigned seed) {
    srand(seed);
    size_t n = 0;
    for (uint32_t b = 0; b < blocks; b++) {
        uint32_t txs = (uint32_t)(rand() % 4);
        for (uint32_t t = 0; t < txs && n + 4 < cap; t++) {
            uint32_t sender = 1 + (uint32_t)(rand() % N_ACCOUNTS);
            uint32_t k = 1 + (uint32_t)(rand() % 3);
            for (uint32_t i = 0; i < k; i++) {
                uint32_t to = 1 + (uint32_t)(rand() % N_ACCOUNTS);
                uint32_t token = (uint32_t)(rand() % (N_TOKENS + 1));
                p[n++] = (planned){b,
                                   t,
                                   sender,
                                   to,
                                   token,
                                   (uint64_t)(rand() % 1000),
                                   token ? CH_XFER_TOKEN : CH_XFER_NATIVE};
            }
            p[n++] = (planned){b, t, sender, 0, 0, 21, CH_XFER_FEE};
        }
        if (rand() % 5 == 0 && n < cap)
            p[n++] = (planned){b,   UINT32_MAX,        0, 1 + (uint32_t)(rand() % N_ACCOUNTS), 0,
                               500, CH_XFER_WITHDRAWAL};
    }
    return n;
}

/* Write blocks [from, to) of the plan; salt changes hashes (a rival chain). */
static void write_blocks(ch_store *s, const planned *p, size_t n, uint32_t first_block,
                         uint32_t end_block, uint32_t salt) {
    ch_error err;
    for (uint32_t b = first_block; b < end_block; b++) {
        ch_block_meta m = {.hash = hash_of(1, b, salt), .time = 1000 + b};
        assert_int_equal(ch_store_begin_block(s, &m, &err), 0);
        uint32_t cur = UINT32_MAX;
        for (size_t i = 0; i < n; i++) {
            if (p[i].block != b || p[i].tx == UINT32_MAX) continue;
            ch_addr from = account(p[i].from, 0), to = account(p[i].to, 0);
            ch_addr tok = account(p[i].token, 0x70);
            if (p[i].tx != cur) {
                cur = p[i].tx;
                ch_hash256 h = hash_of(2, b * 16 + cur, salt);
                assert_int_equal(ch_store_add_account_tx(s, &h, &from, &to, NULL, 1, 2, &err), 0);
            }
            assert_int_equal(ch_store_add_transfer(s, p[i].kind, (uint32_t)i,
                                                   p[i].token ? &tok : NULL, &from,
                                                   p[i].to ? &to : NULL, p[i].value, 0, 0, &err),
                             0);
        }
        for (size_t i = 0; i < n; i++) {
            if (p[i].block != b || p[i].tx != UINT32_MAX) continue;
            ch_addr to = account(p[i].to, 0);
            assert_int_equal(ch_store_add_transfer(s, CH_XFER_WITHDRAWAL, 0, NULL, NULL, &to,
                                                   p[i].value, 0, 0, &err),
                             0);
        }
        assert_int_equal(ch_store_end_block(s, &err), 0);
    }
}

/* Each account's history (walked backward from its head) lists exactly the
 * transfers that name it, newest first; balances per asset match a replay. */
static void check_histories(ch_store *s, const planned *p, size_t n, uint32_t blocks) {
    ch_error err;
    for (uint32_t a = 1; a <= N_ACCOUNTS; a++) {
        ch_addr addr = account(a, 0);
        ch_addr_id id;
        uint64_t last;
        int64_t want_bal[N_TOKENS + 1] = {0}, got_bal[N_TOKENS + 1] = {0};
        size_t want = 0;
        for (size_t i = 0; i < n; i++) {
            if (p[i].block >= blocks) continue;
            bool in = p[i].to == a, out = p[i].from == a;
            if (in || out) want++;
            if (in) want_bal[p[i].token] += (int64_t)p[i].value;
            if (out) want_bal[p[i].token] -= (int64_t)p[i].value;
        }
        int rc = ch_store_find_addr(s, &addr, &id, &last, &err);
        if (want == 0) continue;
        assert_int_equal(rc, 1);
        size_t got = 0;
        uint64_t prev = UINT64_MAX;
        for (int64_t x = (int64_t)last; x >= 0; x = ch_store_xfer_prev(s, (uint64_t)x, id)) {
            assert_true((uint64_t)x < prev); /* strictly backward in time */
            prev = (uint64_t)x;
            const ch_xfer_rec *r = ch_store_xfer(s, (uint64_t)x);
            assert_true(r->from == id || r->to == id);
            uint32_t tok = 0;
            if (r->asset) {
                ch_addr t;
                ch_store_addr_of(s, r->asset, &t);
                memcpy(&tok, t.bytes + 16, 4);
            }
            if (r->to == id) got_bal[tok] += (int64_t)r->value_lo;
            if (r->from == id) got_bal[tok] -= (int64_t)r->value_lo;
            got++;
        }
        assert_int_equal(got, want);
        assert_memory_equal(got_bal, want_bal, sizeof want_bal);
    }
}

static void build(const char *dir, const planned *p, size_t n, uint32_t blocks, uint32_t salt) {
    ch_store *s;
    ch_error err;
    assert_int_equal(ch_store_open(dir, "eth", CH_STORE_WRITE, &s, &err), 0);
    assert_true(ch_store_is_account(s));
    assert_int_equal(ch_store_set_first_number(s, 15000000, &err), 0);
    write_blocks(s, p, n, 0, blocks, salt);
    assert_int_equal(ch_store_commit(s, &err), 0);
    ch_store_close(s);
}

static void test_histories_and_balances(void **state) {
    (void)state;
    static planned p[4000];
    size_t n = plan_chain(p, 4000, 300, 7);
    char *dir = tu_tmpdir();
    build(dir, p, n, 300, 0);
    ch_store *s;
    ch_error err;
    assert_int_equal(ch_store_open(dir, "eth", CH_STORE_READ, &s, &err), 0);
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    assert_int_equal(c.blocks, 300);
    assert_true(c.transfers == n);
    assert_true(ch_store_first_number(s) == 15000000);
    check_histories(s, p, n, 300);
    /* every tx's transfers come back in order, fee included */
    uint64_t seen = 0;
    for (uint64_t tx = 0; tx < c.txs; tx++) {
        uint64_t first, k;
        ch_store_tx_xfers(s, tx, &first, &k);
        assert_true(k >= 2);
        assert_int_equal(ch_store_xfer(s, first + k - 1)->kind, CH_XFER_FEE);
        seen += k;
    }
    uint64_t withdrawals = 0;
    for (size_t i = 0; i < n; i++)
        withdrawals += p[i].kind == CH_XFER_WITHDRAWAL;
    assert_true(seen + withdrawals == n);
    ch_store_close(s);
    tu_rmrf(dir);
    free(dir);
}

static void test_resume_reorg_abort(void **state) {
    (void)state;
    static planned p[4000];
    size_t n = plan_chain(p, 4000, 200, 11);
    char *clean = tu_tmpdir(), *steps = tu_tmpdir(), *rival = tu_tmpdir();
    build(clean, p, n, 200, 0);
    ch_store *s;
    ch_error err;
    /* in three sessions, with an aborted batch in the middle */
    assert_int_equal(ch_store_open(steps, "eth", CH_STORE_WRITE, &s, &err), 0);
    assert_int_equal(ch_store_set_first_number(s, 15000000, &err), 0);
    write_blocks(s, p, n, 0, 80, 0);
    assert_int_equal(ch_store_commit(s, &err), 0);
    write_blocks(s, p, n, 80, 120, 0);
    ch_store_abort(s);
    ch_store_close(s);
    assert_int_equal(ch_store_open(steps, "eth", CH_STORE_WRITE, &s, &err), 0);
    assert_int_equal(ch_store_next_height(s), 80);
    /* a rival branch from 150 on is written, committed, then cut back */
    write_blocks(s, p, n, 80, 150, 0);
    write_blocks(s, p, n, 150, 190, 99);
    assert_int_equal(ch_store_commit(s, &err), 0);
    assert_int_equal(ch_store_truncate(s, 150, &err), 0);
    write_blocks(s, p, n, 150, 200, 0);
    assert_int_equal(ch_store_commit(s, &err), 0);
    ch_store_close(s);
    tu_assert_same_columns(clean, steps, "eth");
    assert_int_equal(ch_store_open(steps, "eth", CH_STORE_READ, &s, &err), 0);
    check_histories(s, p, n, 200);
    /* the rival branch's txids are gone, the real ones found */
    ch_hash256 gone = hash_of(2, 160 * 16, 99), kept = hash_of(2, 160 * 16, 0);
    uint64_t tx;
    bool has_tx160 = false;
    for (size_t i = 0; i < n; i++)
        has_tx160 |= p[i].block == 160 && p[i].tx == 0;
    assert_int_equal(ch_store_find_tx(s, &gone, &tx, &err), 0);
    if (has_tx160) assert_int_equal(ch_store_find_tx(s, &kept, &tx, &err), 1);
    ch_store_close(s);
    (void)rival;
    tu_rmrf(clean);
    tu_rmrf(steps);
    tu_rmrf(rival);
    free(clean);
    free(steps);
    free(rival);
}

static void test_kind_is_fixed(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    ch_store *s;
    ch_error err;
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_WRITE, &s, &err), 0);
    assert_false(ch_store_is_account(s));
    ch_block_meta m = {.hash = hash_of(1, 0, 0)};
    assert_int_equal(ch_store_begin_block(s, &m, &err), 0);
    ch_addr a = account(1, 0);
    assert_int_equal(ch_store_add_account_tx(s, &m.hash, &a, &a, NULL, 1, 0, &err), -1);
    ch_store_close(s);
    tu_rmrf(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_histories_and_balances),
        cmocka_unit_test(test_resume_reorg_abort),
        cmocka_unit_test(test_kind_is_fixed),
    };
    return cmocka_run_group_tests_name("store_account", tests, NULL, NULL);
}

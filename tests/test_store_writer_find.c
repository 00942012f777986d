/* ch_store_writer_find_addr: an address's id as the writer sees it. The
 * oracle is the store's own record of each output's address id: every
 * address paid, whether its output is pending (added, not committed),
 * committed in this writer's run (its in-memory index) or committed by an
 * earlier writer (found in the sorted runs only), is found under the id
 * its outputs carry; ch_store_find_addr finds the committed ones only; an
 * address nobody paid is found by neither. */
#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/store.h"

enum { PER_BLOCK = 400 };

static ch_hash256 hash_of(uint32_t n, uint8_t tag) {
    ch_hash256 h;
    memset(&h, 0, sizeof h);
    memcpy(h.b, &n, 4);
    h.b[31] = tag;
    return h;
}

/* Address k: 20-byte witness programs for even k, 32-byte (the other
 * class of ids) for odd k. */
static ch_addr addr_of(uint32_t k) {
    ch_addr a;
    memset(&a, 0, sizeof a);
    a.kind = CH_ADDR_WITNESS;
    a.len = k % 2 ? 32 : 20;
    memcpy(a.bytes, &k, 4);
    a.bytes[a.len - 1] = 0x5a;
    return a;
}

/* Block `height`: one coinbase tx paying addresses first .. first +
 * PER_BLOCK - 1 (the first of them paid twice). */
static void add_block(ch_store *s, uint32_t height, uint32_t first) {
    ch_error err;
    ch_block_meta m;
    memset(&m, 0, sizeof m);
    m.hash = hash_of(height, 0x11);
    assert_int_equal(ch_store_begin_block(s, &m, &err), 0);
    ch_hash256 id = hash_of(height, 0x22);
    assert_int_equal(ch_store_add_tx(s, &id, 100, &err), 0);
    assert_int_equal(ch_store_add_coinbase_input(s, &err), 0);
    for (uint32_t k = 0; k <= PER_BLOCK; k++) {
        ch_addr a = addr_of(first + (k == PER_BLOCK ? 0 : k));
        ch_script_type t = a.len == 32 ? CH_SCRIPT_P2WSH : CH_SCRIPT_P2WPKH;
        assert_int_equal(ch_store_add_output(s, 1000 + k, t, &a, &err), 0);
    }
    assert_int_equal(ch_store_end_block(s, &err), 0);
}

/* Every output's address found under the id the output carries, by the
 * writer's look-up; by the committed look-up only when committed. */
static void check_outputs(ch_store *s, uint64_t committed_outs) {
    ch_error err;
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    uint64_t first, n;
    for (uint32_t h = 0; h < ch_store_next_height(s); h++) {
        const ch_block_rec *b = ch_store_block(s, h);
        ch_store_tx_outputs(s, b->first_tx, &first, &n);
        for (uint64_t o = first; o < first + n; o++) {
            ch_addr_id want = ch_out_addr(ch_store_output(s, o)), id = 0, cid = 0;
            ch_addr a;
            ch_store_addr_of(s, want, &a);
            assert_int_equal(ch_store_writer_find_addr(s, &a, &id, &err), 1);
            assert_true(id == want);
            int rc = ch_store_find_addr(s, &a, &cid, NULL, &err);
            if (o < committed_outs) {
                assert_int_equal(rc, 1);
                assert_true(cid == want);
            } else if (o >= c.outputs && (o - first) < PER_BLOCK) {
                /* a new address of a pending block: not committed yet
                 * (the block's last output pays its first address again) */
                uint32_t k;
                memcpy(&k, a.bytes, 4);
                if (k >= (uint32_t)(c.blocks * PER_BLOCK)) assert_int_equal(rc, 0);
            }
        }
    }
    /* nobody paid these */
    for (uint32_t k = 1000000; k < 1000010; k++) {
        ch_addr a = addr_of(k);
        ch_addr_id id;
        assert_int_equal(ch_store_writer_find_addr(s, &a, &id, &err), 0);
        assert_int_equal(ch_store_find_addr(s, &a, &id, NULL, &err), 0);
    }
}

static void test_the_writer_finds_pending_committed_and_stored_addresses(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    ch_store *s;
    ch_error err;
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_WRITE, &s, &err), 0);
    /* blocks 0 and 1 committed, block 2 pending (new addresses, and block
     * 1's paid again) */
    add_block(s, 0, 0);
    assert_int_equal(ch_store_commit(s, &err), 0);
    add_block(s, 1, PER_BLOCK);
    assert_int_equal(ch_store_commit(s, &err), 0);
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    add_block(s, 2, 2 * PER_BLOCK - PER_BLOCK / 2);
    check_outputs(s, c.outputs);
    assert_int_equal(ch_store_commit(s, &err), 0);
    ch_store_close(s);
    /* a new writer: what earlier runs stored is in the sorted runs only */
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_WRITE, &s, &err), 0);
    ch_store_get_counts(s, &c);
    add_block(s, 3, 3 * PER_BLOCK);
    check_outputs(s, c.outputs);
    ch_store_abort(s);
    ch_store_close(s);
    /* a reader: the committed look-up */
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_READ, &s, &err), 0);
    ch_store_get_counts(s, &c);
    check_outputs(s, c.outputs);
    ch_store_close(s);
    tu_rmrf(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_writer_finds_pending_committed_and_stored_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

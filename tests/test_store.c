/* The chain store against real mainnet blocks 0..255: every txid, output
 * value and address agrees with the independent decoder's expected file;
 * every input's spent value is that of the output it names; resuming,
 * kill -9 at random points and corrupt input leave the store as a clean
 * build would have it (reorgs: test_ingest_checks.c). */
#include "support/testutil.h"
#include "support/storecmp.h"
#include "support/genchain.h"

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "coinhound/address.h"
#include "coinhound/ingest.h"
#include "coinhound/store.h"

#define BLK_DIR  "btc/mainnet-0-255"
#define EXPECTED "btc/mainnet-0-255.expected.jsonl"

static char *fixture_dup(const char *rel) {
    const char *p = tu_fixture(rel);
    return p ? strdup(p) : NULL;
}

static int ingest(const char *blocks, const char *db, uint32_t max_blocks, ch_error *err) {
    ch_ingest_opts o = {.progress = 0, .max_blocks = max_blocks, .commit_bytes = 1};
    ch_ingest_stats st;
    return ch_ingest_btc(blocks, db, &o, &st, err);
}

static void test_agrees_with_expected(void **state) {
    (void)state;
    char *blocks = fixture_dup(BLK_DIR), *expected = fixture_dup(EXPECTED);
    if (!blocks || !expected) skip();
    char *db = tu_tmpdir();
    ch_error err;
    if (ingest(blocks, db, 0, &err) != 0) fail_msg("%s", err.msg);
    ch_store *s;
    assert_int_equal(ch_store_open(db, "btc", CH_STORE_READ, &s, &err), 0);
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    assert_int_equal(c.blocks, 256);

    FILE *f = fopen(expected, "r");
    assert_non_null(f);
    char line[65536];
    uint64_t tx = 0, outs_seen = 0;
    while (fgets(line, sizeof line, f)) {
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        assert_non_null(j);
        ch_hash256 want;
        assert_int_equal(ch_hash256_from_hex(json_string_value(json_object_get(j, "txid")), &want),
                         0);
        uint64_t found;
        assert_int_equal(ch_store_find_tx(s, &want, &found, &err), 1);
        assert_true(found == tx);
        assert_int_equal(ch_store_tx_height(s, tx), json_integer_value(json_object_get(j, "h")));
        uint64_t first, n;
        ch_store_tx_outputs(s, tx, &first, &n);
        json_t *outs = json_object_get(j, "outs");
        assert_int_equal(n, json_array_size(outs));
        for (uint64_t o = 0; o < n; o++) {
            json_t *pair = json_array_get(outs, o);
            const ch_out_rec *r = ch_store_output(s, first + o);
            assert_true(CH_OUT_VALUE(r) == (uint64_t)json_integer_value(json_array_get(pair, 0)));
            const char *addr = json_string_value(json_array_get(pair, 1));
            char buf[128];
            if (addr) {
                assert_true(ch_out_addr(r) != 0);
                ch_addr a;
                ch_store_addr_of(s, ch_out_addr(r), &a);
                assert_int_equal(ch_addr_to_string(&a, CH_NET_MAINNET, buf), 0);
                assert_string_equal(buf, addr);
            } else {
                /* the expected decoder has no address for P2PK; we show the
                 * P2PKH of the key and say the script was P2PK */
                assert_true(ch_out_addr(r) == 0 || CH_OUT_TYPE(r) == CH_SCRIPT_P2PK);
            }
            outs_seen++;
        }
        json_decref(j);
        tx++;
    }
    fclose(f);
    assert_true(tx == c.txs);
    assert_true(outs_seen == c.outputs);

    /* inputs: each spends an earlier output; value conserved per tx */
    for (uint64_t t = 0; t < c.txs; t++) {
        uint64_t first, n, vin = 0, vout = 0, of, on;
        ch_store_tx_inputs(s, t, &first, &n);
        bool coinbase = false;
        for (uint64_t i = first; i < first + n; i++) {
            int64_t o = ch_store_input_spent_output(s, i);
            if (o < 0) {
                coinbase = true;
                continue;
            }
            assert_true(ch_store_output_spender(s, (uint64_t)o) == (int64_t)t);
            vin += CH_OUT_VALUE(ch_store_output(s, (uint64_t)o));
        }
        ch_store_tx_outputs(s, t, &of, &on);
        for (uint64_t o = of; o < of + on; o++)
            vout += CH_OUT_VALUE(ch_store_output(s, o));
        if (!coinbase) assert_true(vin >= vout);
        assert_true(*ch_store_tx_in_value(s, t) == vin); /* txvin.col */
    }
    /* the first bitcoin payment: block 170, Satoshi -> Hal Finney, 10 BTC */
    ch_hash256 pay;
    ch_hash256_from_hex("f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16", &pay);
    uint64_t t170, first, n;
    assert_int_equal(ch_store_find_tx(s, &pay, &t170, &err), 1);
    assert_int_equal(ch_store_tx_height(s, t170), 170);
    ch_store_tx_inputs(s, t170, &first, &n);
    assert_int_equal(n, 1);
    int64_t spent = ch_store_input_spent_output(s, first);
    assert_true(CH_OUT_VALUE(ch_store_output(s, (uint64_t)spent)) == 5000000000ULL);
    assert_int_equal(ch_store_tx_height(s, ch_in_spent_tx(ch_store_input(s, first))), 9);
    ch_store_close(s);
    tu_rmrf(db);
    free(db);
    free(blocks);
    free(expected);
}

static void test_xor_copy_gives_same_store(void **state) {
    (void)state;
    char *plain = fixture_dup(BLK_DIR), *xored = fixture_dup("btc/mainnet-0-255-xor");
    if (!plain || !xored) skip();
    char *a = tu_tmpdir(), *b = tu_tmpdir();
    ch_error err;
    if (ingest(plain, a, 0, &err) != 0) fail_msg("%s", err.msg);
    if (ingest(xored, b, 0, &err) != 0) fail_msg("%s", err.msg);
    tu_assert_same_columns(a, b, "btc");
    tu_assert_same_indexes(a, b, "btc");
    tu_rmrf(a);
    tu_rmrf(b);
    free(a);
    free(b);
    free(plain);
    free(xored);
}

static void test_resume_equals_clean_build(void **state) {
    (void)state;
    char *blocks = fixture_dup(BLK_DIR);
    if (!blocks) skip();
    char *clean = tu_tmpdir(), *steps = tu_tmpdir();
    ch_error err;
    assert_int_equal(ingest(blocks, clean, 0, &err), 0);
    /* in slices of 37 blocks, reopening the store each time */
    for (int i = 0; i < 8; i++)
        assert_int_equal(ingest(blocks, steps, 37, &err), 0);
    ch_ingest_stats st;
    ch_ingest_opts o = {.progress = 0};
    assert_int_equal(ch_ingest_btc(blocks, steps, &o, &st, &err), 0);
    assert_int_equal(st.blocks, 0); /* nothing new */
    tu_assert_same_columns(clean, steps, "btc");
    tu_assert_same_indexes(clean, steps, "btc");
    tu_rmrf(clean);
    tu_rmrf(steps);
    free(clean);
    free(steps);
    free(blocks);
}

/* Reorgs: tests/test_ingest_checks.c (a rival branch must carry more work
 * and real proof of work, which a changed nonce on a mainnet block lacks). */

static void test_corrupt_input_leaves_store_unchanged(void **state) {
    (void)state;
    char *blocks = fixture_dup(BLK_DIR);
    if (!blocks) skip();
    char src[4096];
    snprintf(src, sizeof src, "%s/blk00000.dat", blocks);
    size_t len;
    uint8_t *data = tu_read_file(src, &len);
    char *db = tu_tmpdir(), *bad = tu_tmpdir();
    ch_error err;
    assert_int_equal(ingest(blocks, db, 50, &err), 0);
    ch_store_counts before, after;
    tu_store_counts(db, "btc", &before);
    assert_int_equal(before.blocks, 50);

    /* a flipped byte inside a transaction of block 120: merkle mismatch */
    size_t off = 0;
    for (int h = 0; h < 120; h++) {
        uint32_t size;
        memcpy(&size, data + off + 4, 4);
        off += 8 + size;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/blk00000.dat", bad);
    data[off + 8 + 80 + 10] ^= 0x40;
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, len, f);
    fclose(f);
    ch_ingest_opts o = {.progress = 0}; /* one batch: 50..255 */
    ch_ingest_stats st;
    assert_int_equal(ch_ingest_btc(bad, db, &o, &st, &err), -1);
    assert_non_null(strstr(err.msg, "blk00000.dat"));
    assert_non_null(strstr(err.msg, "offset"));
    assert_non_null(strstr(err.msg, "merkle"));
    tu_store_counts(db, "btc", &after);
    assert_memory_equal(&before, &after, sizeof before);

    /* a truncated file: the record of the last block is cut short */
    data[off + 8 + 80 + 10] ^= 0x40;
    f = fopen(path, "wb");
    fwrite(data, 1, len - 100, f);
    fclose(f);
    assert_int_equal(ch_ingest_btc(bad, db, &o, &st, &err), -1);
    assert_non_null(strstr(err.msg, "blk00000.dat"));
    tu_store_counts(db, "btc", &after);
    assert_memory_equal(&before, &after, sizeof before);
    free(data);
    tu_rmrf(db);
    tu_rmrf(bad);
    free(db);
    free(bad);
    free(blocks);
}

/* kill -9 the CLI at random moments, many times, resuming each time; the
 * result must equal a clean build. Committing after every block makes
 * every kill land near a commit boundary. */
static void test_kill9_at_random_points(void **state) {
    (void)state;
    char *blocks = fixture_dup(BLK_DIR);
    if (!blocks) skip();
    char *db = tu_tmpdir(), *clean = tu_tmpdir();
    ch_error err;
    assert_int_equal(ingest(blocks, clean, 0, &err), 0);
    int mid_heights;
    /* each round resumes, so later rounds have less to do: aim at the
     * first third of a full run */
    int kills = tu_kill9_ingest("btc", blocks, db, "btc", 256, 60, 3, &mid_heights);
    print_message("killed ingestion %d times, %d of them mid-chain\n", kills, mid_heights);
    assert_true(kills > 10);
    assert_true(mid_heights > 5);
    assert_int_equal(ingest(blocks, db, 0, &err), 0); /* finish */
    /* every commit's checksums hold after the kills (crashes left none of
     * an uncommitted batch) */
    ch_store_counts vc;
    if (ch_store_verify(db, "btc", NULL, NULL, &vc, &err) != 0) fail_msg("%s", err.msg);
    assert_true(vc.checksum_commits > 0);
    tu_assert_same_columns(clean, db, "btc");
    tu_assert_same_indexes(clean, db, "btc");
    tu_rmrf(db);
    tu_rmrf(clean);
    free(db);
    free(clean);
    free(blocks);
}

/* txvin.col on a generated chain (multi-input spends, consolidations,
 * sweeps): each tx's in-value is the sum of the outputs its inputs spend,
 * found through the inputs; a coinbase's is 0; the fee is never negative. */
static void test_in_values_on_generated_chain(void **state) {
    (void)state;
    tu_genchain g;
    tu_genchain_make(&g, 977, 4000);
    ch_store_counts c;
    ch_store_get_counts(g.s, &c);
    uint64_t multi = 0;
    for (uint64_t t = 0; t < c.txs; t++) {
        uint64_t first, n, vin = 0, vout = 0, of, on;
        ch_store_tx_inputs(g.s, t, &first, &n);
        for (uint64_t i = first; i < first + n; i++) {
            int64_t o = ch_store_input_spent_output(g.s, i);
            if (o >= 0) vin += CH_OUT_VALUE(ch_store_output(g.s, (uint64_t)o));
        }
        multi += n > 1;
        ch_store_tx_outputs(g.s, t, &of, &on);
        for (uint64_t o = of; o < of + on; o++)
            vout += CH_OUT_VALUE(ch_store_output(g.s, o));
        uint64_t got = *ch_store_tx_in_value(g.s, t);
        if (got != vin)
            fail_msg("tx %llu: txvin %llu, inputs spend %llu", (unsigned long long)t,
                     (unsigned long long)got, (unsigned long long)vin);
        if (vin) assert_true(vin >= vout);
    }
    assert_true(multi > c.txs / 20); /* the chain has multi-input spends to sum */
    tu_genchain_close(&g);
}

static void test_unknown_ids(void **state) {
    (void)state;
    char *blocks = fixture_dup(BLK_DIR);
    if (!blocks) skip();
    char *db = tu_tmpdir();
    ch_error err;
    assert_int_equal(ingest(blocks, db, 0, &err), 0);
    char cmd[8192];
    int st;
    const char *bin = tu_bin("coinhound");
    snprintf(cmd, sizeof cmd, "%s tx %064d --db %s 2>&1", bin, 7, db);
    free(tu_run(cmd, &st));
    assert_int_equal(st, 1); /* well-formed, absent */
    snprintf(cmd, sizeof cmd, "%s tx xyz --db %s 2>&1", bin, db);
    char *out = tu_run(cmd, &st);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "not a txid"));
    free(out);
    snprintf(cmd, sizeof cmd, "%s address 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb --db %s 2>&1", bin,
             db);
    out = tu_run(cmd, &st);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "checksum"));
    free(out);
    snprintf(cmd, sizeof cmd, "%s block 256 --db %s 2>&1", bin, db);
    free(tu_run(cmd, &st));
    assert_int_equal(st, 1);
    /* the genesis address: 50 BTC received, never spent (coinbase 0 is
     * unspendable, but the store records it as received) */
    snprintf(cmd, sizeof cmd, "%s address 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa --db %s --json", bin,
             db);
    out = tu_run(cmd, &st);
    assert_int_equal(st, 0);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "received")), 5000000000LL);
    assert_int_equal(json_integer_value(json_object_get(j, "balance")), 5000000000LL);
    json_decref(j);
    free(out);
    tu_rmrf(db);
    free(db);
    free(blocks);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agrees_with_expected),
        cmocka_unit_test(test_xor_copy_gives_same_store),
        cmocka_unit_test(test_resume_equals_clean_build),
        cmocka_unit_test(test_corrupt_input_leaves_store_unchanged),
        cmocka_unit_test(test_kill9_at_random_points),
        cmocka_unit_test(test_in_values_on_generated_chain),
        cmocka_unit_test(test_unknown_ids),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}

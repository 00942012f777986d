/* The store over a long ingest of many commits: killed with SIGKILL at
 * random moments (inside commits, run merges and head updates too) and
 * resumed each time, it ends equal to a clean build, column for column and
 * query for query; an old-format store is refused with a message that says
 * what to do. */
#include "support/storemeta.h"
#include "support/testutil.h"
#include "support/storecmp.h"
#include "support/genchain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/ingest.h"
#include "coinhound/store.h"

static void test_kill9_mid_long_multi_commit_ingest(void **state) {
    (void)state;
    tu_genchain g;
    /* 12,000 txs in 300-odd blocks: with a commit per block, hundreds of
     * commits whose runs merge as a binary counter carries */
    tu_genchain_make(&g, 7, 12000);
    ch_store_counts c;
    ch_store_get_counts(g.s, &c);
    char *db = tu_tmpdir();
    int mid;
    int kills = tu_kill9_ingest("btc", g.blocks, db, "btc", c.blocks, 20, 2, &mid);
    print_message("killed a %llu-block ingest %d times, %d of them mid-chain\n",
                  (unsigned long long)c.blocks, kills, mid);
    assert_true(kills >= 10);
    assert_true(mid >= 5);
    ch_ingest_opts o = {.progress = 0, .commit_bytes = 1};
    ch_ingest_stats st;
    ch_error err;
    if (ch_ingest_btc(g.blocks, db, &o, &st, &err) != 0) fail_msg("%s", err.msg);
    tu_assert_same_store(g.db, db, "btc");
    tu_rmrf(db);
    free(db);
    tu_genchain_close(&g);
}

/* A store of format 2 (LMDB txid and address tables) or 3 (32-bit tx
 * numbers and address ids in its records) is refused, naming both formats
 * and the way out, for reading and for writing, and by the CLI (exit 2). */
static void test_old_format_refused_with_clear_message(void **state) {
    (void)state;
    tu_genchain g;
    tu_genchain_make(&g, 3, 1500);
    ch_store_close(g.s);
    g.s = NULL;
    for (uint64_t old = 2; old <= 3; old++) {
        /* turn it into what a writer of that format left: meta "format" */
        char index[4096];
        snprintf(index, sizeof index, "%s/btc/index", g.db);
        tu_meta_put_u64(index, "format", old);
        char want[64];
        snprintf(want, sizeof want, "store format %llu", (unsigned long long)old);
        for (int mode = 0; mode < 2; mode++) {
            ch_store *s;
            ch_error err;
            assert_int_not_equal(
                ch_store_open(g.db, "btc", mode ? CH_STORE_WRITE : CH_STORE_READ, &s, &err), 0);
            assert_non_null(strstr(err.msg, want));
            assert_non_null(strstr(err.msg, "reads format 4"));
            assert_non_null(strstr(err.msg, "ingest again"));
        }
        char cmd[4096];
        int status;
        snprintf(cmd, sizeof cmd, "%s status --db %s 2>&1", tu_bin("coinhound"), g.db);
        char *out = tu_run(cmd, &status);
        assert_int_equal(status, 2);
        assert_non_null(strstr(out, want));
        assert_non_null(strstr(out, "ingest again"));
        free(out);
    }
    tu_genchain_close(&g);
}

/* --mem: a bounded ingest (smaller commits, hot maps dropped sooner,
 * mapped pages let go) builds the same store; a bad size is refused with
 * exit 2 and a message naming the option. */
static void test_mem_bound_builds_the_same_store(void **state) {
    (void)state;
    tu_genchain g;
    tu_genchain_make(&g, 11, 3000);
    char *db = tu_tmpdir();
    char cmd[4096];
    int status;
    snprintf(cmd, sizeof cmd, "%s ingest btc %s --db %s --mem 256M --no-progress 2>&1",
             tu_bin("coinhound"), g.blocks, db);
    free(tu_run(cmd, &status));
    assert_int_equal(status, 0);
    tu_assert_same_store(g.db, db, "btc");
    snprintf(cmd, sizeof cmd, "%s ingest btc %s --db %s --mem 12K 2>&1", tu_bin("coinhound"),
             g.blocks, db);
    char *out = tu_run(cmd, &status);
    assert_int_equal(status, 2);
    assert_non_null(strstr(out, "--mem"));
    free(out);
    tu_rmrf(db);
    free(db);
    tu_genchain_close(&g);
}

/* A budget so small that the hot maps take their least size (4096 slots a
 * table: the young map turns old past 1536 entries), with a commit per
 * block: over 12,000 txs and their addresses the maps turn over dozens of
 * times, so lookups go young, old, then the runs, and every block is past
 * the trim threshold (mapped pages dropped after each). The store is the
 * same as a clean build's. */
static void test_tiny_budget_hot_generations_build_the_same_store(void **state) {
    (void)state;
    tu_genchain g;
    tu_genchain_make(&g, 5, 12000);
    char *db = tu_tmpdir();
    ch_ingest_opts o = {.progress = 0, .commit_bytes = 1, .mem_bytes = 1u << 20};
    ch_ingest_stats st;
    ch_error err;
    if (ch_ingest_btc(g.blocks, db, &o, &st, &err) != 0) fail_msg("%s", err.msg);
    assert_true(st.txs > 12000);
    tu_assert_same_store(g.db, db, "btc");
    tu_rmrf(db);
    free(db);
    tu_genchain_close(&g);
}

/* ch_store_set_hot_cap sizes the writer's four index tables at once to the
 * most slots that fit the cap (24-byte slots), whatever a larger
 * ch_store_set_mem allows, and the smaller of the two wins; a reader has
 * none and is refused. */
static void test_hot_cap_fixes_the_index_tables_at_once(void **state) {
    (void)state;
    tu_genchain g;
    tu_genchain_make(&g, 3, 1500);
    ch_store_close(g.s);
    g.s = NULL;
    ch_store *s;
    ch_error err;
    if (ch_store_open(g.db, "btc", CH_STORE_WRITE, &s, &err) != 0) fail_msg("%s", err.msg);
    ch_store_set_mem(s, 256u << 20); /* 2/5 of it: tables of 2^20 slots */
    assert_int_equal(ch_store_set_hot_cap(s, 32u << 20, &err), 0);
    assert_int_equal(ch_store_hot_bytes(s), 4 * (1u << 18) * 24);
    assert_int_equal(ch_store_set_hot_cap(s, 1u << 20, &err), 0);
    assert_int_equal(ch_store_hot_bytes(s), 4 * 8192 * 24);
    ch_store_set_mem(s, 256u << 20); /* the cap still holds */
    assert_int_equal(ch_store_set_hot_cap(s, 1u << 20, &err), 0);
    assert_int_equal(ch_store_hot_bytes(s), 4 * 8192 * 24);
    ch_store_close(s);
    if (ch_store_open(g.db, "btc", CH_STORE_READ, &s, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(ch_store_hot_bytes(s), 0);
    assert_int_not_equal(ch_store_set_hot_cap(s, 1u << 20, &err), 0);
    assert_non_null(strstr(err.msg, "read-only"));
    ch_store_close(s);
    tu_genchain_close(&g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill9_mid_long_multi_commit_ingest),
        cmocka_unit_test(test_old_format_refused_with_clear_message),
        cmocka_unit_test(test_mem_bound_builds_the_same_store),
        cmocka_unit_test(test_tiny_budget_hot_generations_build_the_same_store),
        cmocka_unit_test(test_hot_cap_fixes_the_index_tables_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Checksums of committed ranges (docs/store.md, "Checksums"): a byte
 * flipped inside a committed range of an append-only column, where no
 * length, link or index check can see it (a block's nonce, an unspent
 * output's value), makes check fail naming the column, the byte range and
 * the commit; clean, resumed and reorged stores check clean (reorgs:
 * test_ingest_checks.c, kill -9: test_store.c); a store without the
 * records is checked without them and says so. */
#include "support/storemeta.h"
#include "support/testutil.h"
#include "support/genchain.h"
#include "support/storecmp.h"

#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coinhound/ingest.h"
#include "coinhound/store.h"

typedef struct seen {
    int n;
    char all[4096];
} seen;

static void collect(const char *problem, void *ctx) {
    seen *s = ctx;
    s->n++;
    size_t l = strlen(s->all);
    snprintf(s->all + l, sizeof s->all - l, "%s\n", problem);
}

static int verify(const char *db, seen *sn, ch_store_counts *c) {
    ch_error err;
    memset(sn, 0, sizeof *sn);
    return ch_store_verify(db, "btc", collect, sn, c, &err);
}

static void flip(const char *db, const char *col, long off) {
    char path[4096];
    snprintf(path, sizeof path, "%s/btc/%s", db, col);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    unsigned char b;
    assert_int_equal(pread(fd, &b, 1, off), 1);
    b ^= 0x10;
    assert_int_equal(pwrite(fd, &b, 1, off), 1);
    close(fd);
}

/* A store committed after every block: one checksum record per commit. */
static void ingest_per_block(const char *blocks, const char *db, uint32_t max_blocks) {
    ch_ingest_opts o = {.progress = 0, .commit_bytes = 1, .max_blocks = max_blocks};
    ch_ingest_stats st;
    ch_error err;
    if (ch_ingest_btc(blocks, db, &o, &st, &err) != 0) fail_msg("ingest: %s", err.msg);
}

static void test_flipped_nonce_and_unspent_value_named_by_check(void **state) {
    (void)state;
    tu_genchain g;
    tu_genchain_make(&g, 11, 2000);
    char *db = tu_tmpdir();
    ingest_per_block(g.blocks, db, 0);
    seen sn;
    ch_store_counts c;
    assert_int_equal(verify(db, &sn, &c), 0);
    assert_true(c.checksum_commits >= c.blocks); /* one commit a block at least */

    /* block 40's nonce (the record's last byte): nothing points at it */
    flip(db, "blocks.col", 40 * 64 + 63);
    assert_int_equal(verify(db, &sn, &c), 1);
    assert_int_equal(sn.n, 1); /* only the checksum saw it */
    assert_non_null(strstr(sn.all, "blocks.col: bytes [2560, 2624) (records [40, 41))"));
    assert_non_null(strstr(sn.all, "commit "));
    flip(db, "blocks.col", 40 * 64 + 63);
    assert_int_equal(verify(db, &sn, &c), 0);

    /* an unspent output's value: no input sums it */
    ch_store *s;
    ch_error err;
    assert_int_equal(ch_store_open(db, "btc", CH_STORE_READ, &s, &err), 0);
    uint64_t out = UINT64_MAX;
    for (uint64_t o = c.outputs; o-- > 0;)
        if (ch_store_output_spender(s, o) < 0) {
            out = o;
            break;
        }
    ch_store_close(s);
    assert_true(out != UINT64_MAX);
    flip(db, "outs.col", (long)(out * sizeof(ch_out_rec) + 1));
    assert_int_equal(verify(db, &sn, &c), 1);
    assert_int_equal(sn.n, 1);
    assert_non_null(strstr(sn.all, "outs.col: bytes ["));
    /* the CLI: exit 1, the same words */
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s check --db %s --chain btc 2>&1", tu_bin("coinhound"), db);
    int st;
    char *txt = tu_run(cmd, &st);
    assert_int_equal(st, 1);
    assert_non_null(strstr(txt, "outs.col: bytes ["));
    assert_non_null(strstr(txt, "differ from the checksum commit"));
    free(txt);
    tu_rmrf(db);
    free(db);
    tu_genchain_close(&g);
}

static void test_resumed_store_checks_clean(void **state) {
    (void)state;
    tu_genchain g;
    tu_genchain_make(&g, 12, 2000);
    char *db = tu_tmpdir();
    ch_store_counts c, whole;
    tu_store_counts(g.db, "btc", &whole);
    for (int i = 0; i < 20; i++) {
        ch_ingest_opts o = {.progress = 0, .max_blocks = 7};
        ch_ingest_stats st;
        ch_error err;
        if (ch_ingest_btc(g.blocks, db, &o, &st, &err) != 0) fail_msg("ingest: %s", err.msg);
    }
    seen sn;
    assert_int_equal(verify(db, &sn, &c), 0);
    assert_int_equal(c.blocks, whole.blocks);
    assert_int_equal(c.checksum_commits, (whole.blocks + 6) / 7);
    tu_rmrf(db);
    free(db);
    tu_genchain_close(&g);
}

/* A store written before the records (the table dropped here) is checked
 * without them, and check says so; a writer then starts keeping them. */
static void test_store_without_records_checked_without_them(void **state) {
    (void)state;
    tu_genchain g;
    tu_genchain_make(&g, 13, 600);
    ch_store_close(g.s);
    g.s = NULL;
    char idx[2048];
    snprintf(idx, sizeof idx, "%s/btc/index", g.db);
    tu_index_drop(idx, "commits", MDB_INTEGERKEY);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s check --db %s --chain btc 2>&1", tu_bin("coinhound"), g.db);
    int st;
    char *txt = tu_run(cmd, &st);
    assert_int_equal(st, 0);
    assert_non_null(strstr(txt, "checksums: none recorded"));
    free(txt);
    seen sn;
    ch_store_counts c;
    assert_int_equal(verify(g.db, &sn, &c), 0);
    assert_int_equal(c.checksum_commits, 0);
    tu_rmrf(g.dir);
    free(g.dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flipped_nonce_and_unspent_value_named_by_check),
        cmocka_unit_test(test_resumed_store_checks_clean),
        cmocka_unit_test(test_store_without_records_checked_without_them),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

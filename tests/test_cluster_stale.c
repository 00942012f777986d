/* A cluster file knows the store state it was built from: after a reorg
 * replaced that state, or in a store that holds less than it was built
 * from, it is refused (cluster ADDR: exit 2 with how to rebuild; screen:
 * a warning, and labels through clusters left out), never read past the
 * store's end; after appends alone it still serves, newer addresses as
 * singletons. Chains are generated (regtest); the rival branch carries the
 * same transactions under other headers, mined again. */
#include "support/testutil.h"
#include "support/blkedit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "coinhound/address.h"
#include "coinhound/cluster.h"
#include "coinhound/gen.h"
#include "coinhound/ingest.h"
#include "coinhound/intel.h"
#include "coinhound/store.h"

typedef struct world {
    char *dir;
    char first[1100], next[1100], all[1100], db[1100];
    tu_blkfile f;
} world;

/* 120 generated blocks; first: 0..99; next: 0..59 then a rival 60'..119'
 * (more work than 60..99); all: 0..119 as generated. */
static void world_make(world *w) {
    w->dir = tu_tmpdir();
    snprintf(w->all, sizeof w->all, "%s/all", w->dir);
    ch_gen_opts o;
    ch_gen_opts_init(&o);
    o.out_dir = w->all;
    o.seed = 5;
    o.blocks = 120;
    o.txs = 120 * 6;
    o.txs_per_block = 6;
    o.maturity = 10;
    ch_error err;
    if (ch_gen_run(&o, NULL, &err) != 0) fail_msg("gen: %s", err.msg);
    tu_blk_load(&w->f, w->all);
    snprintf(w->first, sizeof w->first, "%s/first", w->dir);
    snprintf(w->next, sizeof w->next, "%s/next", w->dir);
    snprintf(w->db, sizeof w->db, "%s/db", w->dir);
    assert_int_equal(mkdir(w->first, 0755), 0);
    assert_int_equal(mkdir(w->next, 0755), 0);
    tu_blk_write(w->first, w->f.rec, 100);
    tu_blkrec *rival = tu_blk_rival(&w->f, 60, 120, 77);
    tu_blkrec recs[120];
    memcpy(recs, w->f.rec, 60 * sizeof *recs);
    memcpy(recs + 60, rival, 60 * sizeof *recs);
    tu_blk_write(w->next, recs, 120);
    for (int i = 0; i < 60; i++)
        free(rival[i].p);
    free(rival);
    /* an empty attribution store, for screen --db */
    ch_intel *in;
    if (ch_intel_open(w->db, true, &in, &err) != 0) fail_msg("intel: %s", err.msg);
    ch_intel_close(in);
}

static void world_free(world *w) {
    tu_blk_free(&w->f);
    tu_rmrf(w->dir);
    free(w->dir);
}

static void ingest(const char *blocks, const char *db, uint32_t max_blocks) {
    ch_ingest_opts o = {.progress = 0, .max_blocks = max_blocks};
    ch_error err;
    if (ch_ingest_btc(blocks, db, &o, NULL, &err) != 0) fail_msg("ingest: %s", err.msg);
}

static void build(const char *db) {
    ch_cluster_opts o = {.progress = 0};
    ch_cluster_meta m;
    ch_error err;
    if (ch_cluster_build(db, &o, &m, NULL, &err) != 0) fail_msg("cluster build: %s", err.msg);
}

/* 0 when the file in db fits db's store, else -1 with err. */
static int check(const char *db, ch_error *err) {
    ch_store *s;
    assert_int_equal(ch_store_open(db, "btc", CH_STORE_READ, &s, err), 0);
    ch_clusters *c;
    int rc = ch_clusters_open_for(s, db, "btc", &c, err);
    if (rc == 0) ch_clusters_close(c);
    ch_store_close(s);
    return rc;
}

/* The address of the store's 20-byte address id `id`, as text. */
static void addr_text(const char *db, ch_addr_id id, char out[CH_ADDR_STR_MAX]) {
    ch_store *s;
    ch_error err;
    assert_int_equal(ch_store_open(db, "btc", CH_STORE_READ, &s, &err), 0);
    ch_addr a;
    ch_store_addr_of(s, id, &a);
    assert_int_equal(ch_addr_to_string(&a, CH_NET_MAINNET, out), 0);
    ch_store_close(s);
}

/* Run the CLI with stderr folded into the output. */
static char *cli(const char *args, const char *db, int *status) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s --db %s 2>&1", tu_bin("coinhound"), args, db);
    return tu_run(cmd, status);
}

static void test_reorg_makes_cluster_file_stale(void **state) {
    (void)state;
    world w;
    world_make(&w);
    ingest(w.first, w.db, 0);
    build(w.db);
    ch_error err;
    if (check(w.db, &err) != 0) fail_msg("fresh file refused: %s", err.msg);
    char a[CH_ADDR_STR_MAX], args[256];
    addr_text(w.db, 1, a);
    /* the reorg replaces the blocks from 60 on */
    ingest(w.next, w.db, 0);
    assert_int_equal(check(w.db, &err), -1);
    assert_non_null(strstr(err.msg, "stale"));
    assert_non_null(strstr(err.msg, "reorg"));
    assert_non_null(strstr(err.msg, "built at height 99"));
    assert_non_null(strstr(err.msg, "cluster build"));
    int status;
    snprintf(args, sizeof args, "cluster %s", a);
    char *out = cli(args, w.db, &status);
    assert_int_equal(status, 2);
    assert_non_null(strstr(out, "stale"));
    free(out);
    snprintf(args, sizeof args, "screen %s", a);
    out = cli(args, w.db, &status);
    assert_true(status == 0 || status == 1); /* an answer, not an error or a signal */
    assert_non_null(strstr(out, "warning: not using the cluster file"));
    free(out);
    /* rebuilt, it serves again */
    build(w.db);
    if (check(w.db, &err) != 0) fail_msg("rebuilt file refused: %s", err.msg);
    snprintf(args, sizeof args, "cluster %s", a);
    out = cli(args, w.db, &status);
    assert_int_equal(status, 0);
    free(out);
    world_free(&w);
}

/* A file built from 100 blocks in a store of 40 (what a reorg's cut leaves
 * for a moment): refused, no signal, though its member ids run past the
 * store's addresses. */
static void test_file_from_a_longer_state_is_refused(void **state) {
    (void)state;
    world w;
    world_make(&w);
    ingest(w.first, w.db, 0);
    build(w.db);
    char short_db[1200];
    snprintf(short_db, sizeof short_db, "%s/short", w.dir);
    ingest(w.first, short_db, 40);
    char from[1300], to[1300];
    snprintf(from, sizeof from, "%s/btc/%s", w.db, CH_CLUSTER_FILE);
    snprintf(to, sizeof to, "%s/btc/%s", short_db, CH_CLUSTER_FILE);
    size_t len;
    uint8_t *bytes = tu_read_file(from, &len);
    assert_non_null(bytes);
    FILE *f = fopen(to, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    fclose(f);
    free(bytes);
    ch_error err;
    assert_int_equal(check(short_db, &err), -1);
    assert_non_null(strstr(err.msg, "more blocks than the store holds"));
    char a[CH_ADDR_STR_MAX], args[256];
    addr_text(short_db, 1, a);
    int status;
    snprintf(args, sizeof args, "cluster %s", a);
    char *out = cli(args, short_db, &status);
    assert_int_equal(status, 2);
    assert_non_null(strstr(out, "stale"));
    free(out);
    world_free(&w);
}

/* Appends alone keep the file usable: the store extends the state it was
 * built from, and addresses newer than the file are singletons. */
static void test_appends_keep_the_file_usable(void **state) {
    (void)state;
    world w;
    world_make(&w);
    ingest(w.first, w.db, 0);
    build(w.db);
    ch_store *s;
    ch_error err;
    assert_int_equal(ch_store_open(w.db, "btc", CH_STORE_READ, &s, &err), 0);
    ch_store_counts before;
    ch_store_get_counts(s, &before);
    ch_store_close(s);
    ingest(w.all, w.db, 0); /* 100..119 */
    assert_int_equal(ch_store_open(w.db, "btc", CH_STORE_READ, &s, &err), 0);
    ch_store_counts after;
    ch_store_get_counts(s, &after);
    assert_true(after.addresses > before.addresses);
    ch_clusters *c;
    if (ch_clusters_open_for(s, w.db, "btc", &c, &err) != 0) fail_msg("%s", err.msg);
    ch_addr_id newest = ch_store_addr_id_at(s, after.addresses - 1);
    assert_int_equal(ch_cluster_of(c, newest), newest);
    assert_int_equal(ch_cluster_size(c, newest), 1);
    ch_clusters_close(c);
    ch_store_close(s);
    world_free(&w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reorg_makes_cluster_file_stale),
        cmocka_unit_test(test_file_from_a_longer_state_is_refused),
        cmocka_unit_test(test_appends_keep_the_file_usable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

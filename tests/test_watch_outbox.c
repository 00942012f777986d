/* The watcher's alert log and cursors (src/watch/outbox.c) on their own:
 * the in-memory entries pruned to a window of recent blocks while the log
 * on disk keeps every line, and the cursor file's record of the last
 * committed block (the group commit's restart point) written and read
 * back, with a file of the older form (without it) still read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "support/testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "watch/watch_internal.h"

/* An alert of block `height` as the Bitcoin evaluator writes one (what the
 * log needs: an id, a height and a block hash), its id from n. */
static json_t *alert(unsigned n, unsigned height) {
    char id[33], hash[65];
    snprintf(id, sizeof id, "%032x", n);
    snprintf(hash, sizeof hash, "%064x", height + 1);
    return json_pack("{s:s,s:s,s:I,s:s,s:b}", "id", id, "rule", "r", "height", (json_int_t)height,
                     "block_hash", hash, "retracted", 0);
}

/* A temporary DIR with DIR/btc (the store's folder, where the watcher's
 * own folder goes). */
static char *db_dir(void) {
    char *dir = tu_tmpdir(), p[4200];
    snprintf(p, sizeof p, "%s/btc", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    return dir;
}

static size_t lines_of(const char *path) {
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = 0;
    int c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static void test_pruned_entries_leave_the_log_whole_and_the_recent_ones_deduplicated(void **state) {
    (void)state;
    char *dir = db_dir();
    watch_outbox o;
    ch_error err;
    if (watch_outbox_open(&o, dir, "btc", &err) != 0) fail_msg("%s", err.msg);
    /* two alerts a block over 3,000 blocks */
    for (unsigned h = 0; h < 3000; h++)
        for (unsigned k = 0; k < 2; k++)
            assert_int_equal(watch_outbox_add(&o, alert(2 * h + k, h), &err), 1);
    assert_int_equal(o.n, 6000);
    assert_int_equal(watch_outbox_prune(&o, 2000), 4000);
    assert_int_equal(o.n, 2000);
    assert_true(o.cap <= 2000); /* the arrays were made again at the size kept */
    for (size_t i = 0; i < o.n; i++)
        assert_true(o.v[i].number >= 2000);
    /* every kept alert is still known: logged again, it is dropped */
    for (unsigned h = 2000; h < 3000; h++)
        for (unsigned k = 0; k < 2; k++)
            assert_int_equal(watch_outbox_add(&o, alert(2 * h + k, h), &err), 0);
    /* a new one after the prune is logged and then known */
    assert_int_equal(watch_outbox_add(&o, alert(7000, 3000), &err), 1);
    assert_int_equal(watch_outbox_add(&o, alert(7000, 3000), &err), 0);
    assert_int_equal(watch_outbox_prune(&o, 2000), 0); /* nothing below: nothing changes */
    assert_int_equal(o.n, 2001);
    if (watch_outbox_sync(&o, &err) != 0) fail_msg("%s", err.msg);
    watch_outbox_close(&o);
    /* the log on disk holds every line, and reads back whole */
    char p[4200];
    snprintf(p, sizeof p, "%s/btc/watch/alerts.jsonl", dir);
    assert_int_equal(lines_of(p), 6001);
    if (watch_outbox_open(&o, dir, "btc", &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(o.n, 6001);
    watch_outbox_close(&o);
    tu_rmrf(dir);
    free(dir);
}

static void test_the_cursor_keeps_the_last_committed_block(void **state) {
    (void)state;
    char *dir = db_dir();
    watch_outbox o;
    ch_error err;
    if (watch_outbox_open(&o, dir, "btc", &err) != 0) fail_msg("%s", err.msg);
    assert_false(o.has_eval);
    o.has_eval = true;
    o.eval_next = 120;
    memset(o.eval_prev, 0xab, 32);
    o.has_committed = true;
    o.committed_next = 117;
    memset(o.committed_prev, 0xcd, 32);
    if (watch_outbox_save(&o, &err) != 0) fail_msg("%s", err.msg);
    watch_outbox_close(&o);
    if (watch_outbox_open(&o, dir, "btc", &err) != 0) fail_msg("%s", err.msg);
    assert_true(o.has_eval);
    assert_int_equal(o.eval_next, 120);
    assert_true(o.has_committed);
    assert_int_equal(o.committed_next, 117);
    uint8_t want[32];
    memset(want, 0xcd, 32);
    assert_memory_equal(o.committed_prev, want, 32);
    watch_outbox_close(&o);
    /* the older form, written by a watcher that committed before it
     * evaluated: read, without a committed block */
    char p[4200];
    snprintf(p, sizeof p, "%s/btc/watch/state", dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fprintf(f, "coinhound-watch-state 1\ndelivered 0\neval_next 7\neval_prev %064x\n", 5);
    fclose(f);
    if (watch_outbox_open(&o, dir, "btc", &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(o.eval_next, 7);
    assert_false(o.has_committed);
    watch_outbox_close(&o);
    tu_rmrf(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pruned_entries_leave_the_log_whole_and_the_recent_ones_deduplicated),
        cmocka_unit_test(test_the_cursor_keeps_the_last_committed_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The watcher's alert log and cursors (src/watch/outbox.c) on their own:
 * the in-memory entries pruned to a window of recent blocks while the log
 * on disk keeps every line, and the cursor file's record of the last
 * committed block (the group commit's restart point) written and read
 * back, with a file of the older form (without it) still read, watch
 * eth's open range of blocks followed without traces kept there too, and the
 * cursor's record rewritten in place once a run has written it; and the
 * alerts file's torn last line (a delivery cut by a kill) cut on open. */
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
#include <unistd.h>

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
    assert_false(o.untraced); /* nor a range of blocks followed without traces */
    watch_outbox_close(&o);
    tu_rmrf(dir);
    free(dir);
}

/* watch eth's open range of blocks followed without traces: saved and
 * read back (with the committed block beside it, and with no block taken
 * yet; a state of the older form has none: above), and set right by the
 * log's last coverage alert when the state lags it; a coverage alert (no block
 * hash, kind "coverage") is logged, and dropped when logged again under its
 * id after a reopen (a restart). */
static void test_the_cursor_keeps_the_blocks_followed_without_traces(void **state) {
    (void)state;
    char *dir = db_dir();
    watch_outbox o;
    ch_error err;
    if (watch_outbox_open(&o, dir, "btc", &err) != 0) fail_msg("%s", err.msg);
    assert_false(o.untraced);
    o.has_eval = true;
    o.eval_next = 40;
    o.has_committed = true;
    o.committed_next = 39;
    o.untraced = true;
    o.untraced_from = 31;
    o.untraced_lo = 31;
    o.untraced_hi = 39;
    json_t *cov =
        json_pack("{s:s,s:s,s:s,s:s,s:I,s:n,s:b}", "id", "c0ffee00c0ffee00c0ffee00c0ffee00", "rule",
                  "watcher", "kind", "coverage", "event", "traces_off", "height", (json_int_t)31,
                  "block_hash", "retracted", 0);
    assert_int_equal(watch_outbox_add(&o, json_incref(cov), &err), 1);
    if (watch_outbox_sync(&o, &err) != 0 || watch_outbox_save(&o, &err) != 0)
        fail_msg("%s", err.msg);
    watch_outbox_close(&o);
    if (watch_outbox_open(&o, dir, "btc", &err) != 0) fail_msg("%s", err.msg);
    assert_true(o.untraced);
    assert_int_equal(o.untraced_from, 31);
    assert_int_equal(o.untraced_lo, 31);
    assert_int_equal(o.untraced_hi, 39);
    assert_true(o.has_committed);
    assert_int_equal(o.committed_next, 39);
    assert_int_equal(o.eval_next, 40);
    assert_int_equal(o.n, 1);
    assert_true(o.v[0].coverage);
    assert_int_equal(watch_outbox_add(&o, cov, &err), 0); /* the same id: dropped */
    /* open, no block taken yet; then closed */
    o.untraced_lo = UINT64_MAX;
    o.untraced_hi = 0;
    if (watch_outbox_save(&o, &err) != 0) fail_msg("%s", err.msg);
    watch_outbox_close(&o);
    if (watch_outbox_open(&o, dir, "btc", &err) != 0) fail_msg("%s", err.msg);
    assert_true(o.untraced);
    assert_int_equal(o.untraced_from, 31);
    assert_true(o.untraced_lo > o.untraced_hi);
    /* a state a step behind the log (a kill between a coverage alert's
     * sync and the save): the log's last traces_off opens the range */
    o.untraced = false;
    if (watch_outbox_save(&o, &err) != 0) fail_msg("%s", err.msg);
    watch_outbox_close(&o);
    if (watch_outbox_open(&o, dir, "btc", &err) != 0) fail_msg("%s", err.msg);
    assert_true(o.untraced);
    assert_int_equal(o.untraced_from, 31);
    assert_true(o.untraced_lo > o.untraced_hi);
    assert_true(o.has_committed);
    /* and its traces_on, logged, closes it though the state says open */
    json_t *on =
        json_pack("{s:s,s:s,s:s,s:s,s:I,s:n,s:b}", "id", "c0ffee01c0ffee01c0ffee01c0ffee01", "rule",
                  "watcher", "kind", "coverage", "event", "traces_on", "height", (json_int_t)31,
                  "block_hash", "retracted", 0);
    assert_int_equal(watch_outbox_add(&o, on, &err), 1);
    if (watch_outbox_sync(&o, &err) != 0 || watch_outbox_save(&o, &err) != 0)
        fail_msg("%s", err.msg);
    watch_outbox_close(&o);
    if (watch_outbox_open(&o, dir, "btc", &err) != 0) fail_msg("%s", err.msg);
    assert_false(o.untraced);
    assert_int_equal(o.n, 2);
    watch_outbox_close(&o);
    tu_rmrf(dir);
    free(dir);
}

/* What a reader outside the watcher (bench_watch_btc, a monitor) reads
 * from the state file with the documented fields. */
static void read_state(const char *path, unsigned long long *delivered, unsigned *eval_next) {
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char hex[80];
    unsigned committed = 0;
    assert_int_equal(fscanf(f, "coinhound-watch-state 1 delivered %llu eval_next %u eval_prev %70s",
                            delivered, eval_next, hex),
                     3);
    assert_int_equal(fscanf(f, " committed_next %u committed_prev %70s", &committed, hex), 2);
    int c; /* then only padding to the record's end */
    while ((c = fgetc(f)) != EOF)
        assert_true(c == ' ' || c == '\n');
    fclose(f);
}

static void test_the_cursor_is_rewritten_in_place_after_the_first_save(void **state) {
    (void)state;
    char *dir = db_dir();
    char p[4200];
    snprintf(p, sizeof p, "%s/btc/watch/state", dir);
    watch_outbox o;
    ch_error err;
    if (watch_outbox_open(&o, dir, "btc", &err) != 0) fail_msg("%s", err.msg);
    /* a state of the older, shorter form, left by an earlier watcher */
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fprintf(f, "coinhound-watch-state 1\ndelivered 0\neval_next 7\neval_prev %064x\n", 5);
    fclose(f);
    struct stat old, first, later;
    assert_int_equal(stat(p, &old), 0);
    o.has_eval = true;
    o.eval_next = 8;
    o.has_committed = true;
    o.committed_next = 3;
    if (watch_outbox_save(&o, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(stat(p, &first), 0);
    assert_int_equal(first.st_size, 512);    /* one sector */
    assert_true(first.st_ino != old.st_ino); /* the first save renames */
    unsigned long long delivered;
    unsigned next;
    read_state(p, &delivered, &next);
    assert_int_equal(next, 8);
    /* later saves write the same file in place, each read back whole */
    for (unsigned i = 0; i < 50; i++) {
        o.eval_next = 9 + i;
        o.delivered = 1000000000000ULL + i;
        if (watch_outbox_save(&o, &err) != 0) fail_msg("%s", err.msg);
        read_state(p, &delivered, &next);
        assert_int_equal(next, 9 + i);
        assert_true(delivered == 1000000000000ULL + i);
    }
    assert_int_equal(stat(p, &later), 0);
    assert_true(later.st_ino == first.st_ino);
    assert_int_equal(later.st_size, 512);
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", p);
    assert_int_equal(access(tmp, F_OK), -1); /* no temporary file left */
    watch_outbox_close(&o);
    /* a file replaced behind the watcher's back is written anew, not in place */
    if (watch_outbox_open(&o, dir, "btc", &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(o.eval_next, 58);
    assert_true(o.delivered == 0); /* more than the log holds: cut to its size */
    assert_int_equal(o.committed_next, 3);
    if (watch_outbox_save(&o, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(unlink(p), 0);
    f = fopen(p, "w");
    assert_non_null(f);
    fprintf(f, "coinhound-watch-state 1\ndelivered 0\neval_next 2\neval_prev %064x\n", 5);
    fclose(f);
    o.eval_next = 60;
    if (watch_outbox_save(&o, &err) != 0) fail_msg("%s", err.msg);
    read_state(p, &delivered, &next);
    assert_int_equal(next, 60);
    watch_outbox_close(&o);
    tu_rmrf(dir);
    free(dir);
}

/* The alerts file (--alerts) after a kill cut a delivery short: the part
 * of a line at its end is cut when the next watcher opens it, whole lines
 * are kept, and a file of whole lines is left as it is. */
static void test_a_torn_last_line_of_the_alerts_file_is_cut(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char p[4200];
    snprintf(p, sizeof p, "%s/alerts.jsonl", dir);
    const char *whole = "{\"id\":\"a\"}\n{\"id\":\"b\"}\n";
    static const char *const tails[] = {"", "{\"id\":\"c\",\"ru"};
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fprintf(f, "%s%s", whole, tails[i]);
        fclose(f);
        ch_watch_opts o = {.alerts_path = p};
        watch_follow w = {.o = &o, .sink_fd = -1};
        ch_error err;
        if (watch_follow_open_sink(&w, &err) != 0) fail_msg("%s", err.msg);
        assert_int_equal(write(w.sink_fd, "{\"id\":\"c\"}\n", 11), 11);
        close(w.sink_fd);
        size_t len = 0;
        uint8_t *t = tu_read_file(p, &len);
        const char *want = "{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"id\":\"c\"}\n";
        assert_non_null(t);
        assert_int_equal(len, strlen(want));
        assert_memory_equal(t, want, len);
        free(t);
    }
    /* a file of one torn line, nothing else */
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("{\"id\":", f);
    fclose(f);
    ch_watch_opts o = {.alerts_path = p};
    watch_follow w = {.o = &o, .sink_fd = -1};
    ch_error err;
    if (watch_follow_open_sink(&w, &err) != 0) fail_msg("%s", err.msg);
    close(w.sink_fd);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_size, 0);
    tu_rmrf(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pruned_entries_leave_the_log_whole_and_the_recent_ones_deduplicated),
        cmocka_unit_test(test_the_cursor_keeps_the_last_committed_block),
        cmocka_unit_test(test_the_cursor_keeps_the_blocks_followed_without_traces),
        cmocka_unit_test(test_the_cursor_is_rewritten_in_place_after_the_first_save),
        cmocka_unit_test(test_a_torn_last_line_of_the_alerts_file_is_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

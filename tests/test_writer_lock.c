/* One writer at a time (coinhound/lock.h): a second writer of a store is
 * refused at once naming the holder's pid, or waits with --wait; the lock
 * dies with its holder (kill -9); two `ingest btc` or two `ingest eth` started
 * together leave the store byte for byte equal to a clean build (the oracle:
 * one ingest of the same generated chain into an empty directory); cluster
 * build and intel import take the lock too, and a killed cluster build's
 * temporary file is gone after the next build. */
#include "support/testutil.h"
#include "support/storecmp.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coinhound/cluster.h"
#include "coinhound/evmgen.h"
#include "coinhound/gen.h"
#include "coinhound/ingest.h"
#include "coinhound/intel.h"
#include "coinhound/lock.h"
#include "coinhound/store.h"
#include "coinhound/poison.h"

typedef struct fixture {
    char *dir;
    char btc[1024], eth[1024]; /* the generated chains */
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    f->dir = tu_tmpdir();
    snprintf(f->btc, sizeof f->btc, "%s/btc-blocks", f->dir);
    snprintf(f->eth, sizeof f->eth, "%s/eth-rpc", f->dir);
    ch_error err;
    ch_gen_opts o;
    ch_gen_opts_init(&o);
    o.out_dir = f->btc;
    o.seed = 11;
    o.txs = 6000;
    o.txs_per_block = 40;
    o.maturity = 20;
    if (ch_gen_run(&o, NULL, &err) != 0) fail_msg("gen: %s", err.msg);
    ch_evmgen_opts e;
    ch_evmgen_opts_init(&e);
    e.out_dir = f->eth;
    e.seed = 11;
    e.transfers = 3000;
    if (ch_evmgen_run(&e, NULL, &err) != 0) fail_msg("evmgen: %s", err.msg);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    tu_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void db_path(const fixture *f, const char *name, char *out, size_t cap) {
    snprintf(out, cap, "%s/%s", f->dir, name);
    tu_rmrf(out);
}

static void test_second_writer_refused_naming_pid(void **state) {
    fixture *f = *state;
    char db[1100];
    db_path(f, "refused", db, sizeof db);
    ch_error err;
    ch_store *a, *b;
    assert_int_equal(ch_store_open(db, "btc", CH_STORE_WRITE, &a, &err), 0);
    /* flock belongs to the open file: a second open, even ours, conflicts */
    assert_int_equal(ch_store_open(db, "btc", CH_STORE_WRITE, &b, &err), -1);
    assert_null(b);
    char pid[32];
    snprintf(pid, sizeof pid, "pid %ld", (long)getpid());
    assert_non_null(strstr(err.msg, pid));
    assert_non_null(strstr(err.msg, "btc"));
    /* readers take no lock */
    assert_int_equal(ch_store_open(db, "btc", CH_STORE_READ, &b, &err), 0);
    ch_store_close(b);
    /* the CLI says the same and exits 2 */
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s ingest btc %s --db %s --no-progress 2>&1", tu_bin("coinhound"),
             f->btc, db);
    int status;
    char *out = tu_run(cmd, &status);
    assert_int_equal(status, 2);
    assert_non_null(strstr(out, pid));
    free(out);
    ch_store_close(a);
    assert_int_equal(ch_store_open(db, "btc", CH_STORE_WRITE, &b, &err), 0);
    ch_store_close(b);
}

static void test_lock_dies_with_a_killed_writer(void **state) {
    fixture *f = *state;
    char db[1100];
    db_path(f, "killed", db, sizeof db);
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        ch_error err;
        ch_store *s;
        if (ch_store_open(db, "btc", CH_STORE_WRITE, &s, &err) != 0) _exit(3);
        if (write(p[1], "x", 1) != 1) _exit(4);
        pause(); /* holds the lock until killed */
        _exit(0);
    }
    char c;
    assert_int_equal(read(p[0], &c, 1), 1);
    ch_error err;
    ch_store *s;
    assert_int_equal(ch_store_open(db, "btc", CH_STORE_WRITE, &s, &err), -1);
    kill(child, SIGKILL);
    int st;
    waitpid(child, &st, 0);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(ch_store_open(db, "btc", CH_STORE_WRITE, &s, &err), 0);
    ch_store_close(s);
    close(p[0]);
    close(p[1]);
}

/* Start `coinhound ARGS` in the background; its pid. */
static pid_t spawn(const char *cmd) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int reap(pid_t pid) {
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st)); /* never a signal */
    return WEXITSTATUS(st);
}

static void test_waiting_writer_runs_when_the_holder_ends(void **state) {
    fixture *f = *state;
    char db[1100], clean[1100], dir[1200];
    db_path(f, "waited", db, sizeof db);
    db_path(f, "waited-clean", clean, sizeof clean);
    snprintf(dir, sizeof dir, "%s/btc", db);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    assert_int_equal(system(cmd), 0);
    ch_error err;
    ch_writer_lock *l;
    assert_int_equal(ch_writer_lock_take(dir, false, &l, &err), 0);
    snprintf(cmd, sizeof cmd, "%s ingest btc %s --db %s --no-progress --wait >/dev/null 2>&1",
             tu_bin("coinhound"), f->btc, db);
    pid_t w = spawn(cmd);
    usleep(500 * 1000);
    int st;
    assert_int_equal(waitpid(w, &st, WNOHANG), 0); /* still waiting */
    ch_store_counts c;
    tu_store_counts(db, "btc", &c);
    assert_int_equal(c.blocks, 0); /* and has written nothing */
    ch_writer_lock_release(l);
    assert_int_equal(reap(w), 0);
    ch_ingest_opts o = {.progress = 0};
    assert_int_equal(ch_ingest_btc(f->btc, clean, &o, NULL, &err), 0);
    tu_assert_same_store(db, clean, "btc");
}

/* Two ingests of one source started at the same moment, several rounds
 * (committing every record so that the runs are long and overlap): each
 * ends with 0 or with the refusal, and the store is the clean build. */
static void two_writers(const fixture *f, const char *family, const char *src, const char *chain) {
    char clean[1100], db[1100], cmd[4096];
    snprintf(clean, sizeof clean, "%s/clean-%s", f->dir, family);
    tu_rmrf(clean);
    ch_error err;
    /* the clean build runs the people's safeguard on account chains, as the
     * CLI's ingest does */
    ch_poison *guard;
    assert_int_equal(ch_poison_new(NULL, &guard, &err), 0);
    ch_ingest_opts o = {.progress = 0, .on_block = ch_poison_ingest_block, .on_block_ctx = guard};
    if (!strcmp(family, "btc"))
        assert_int_equal(ch_ingest_btc(src, clean, &o, NULL, &err), 0);
    else
        assert_int_equal(ch_ingest_evm(src, clean, chain, &o, NULL, &err), 0);
    ch_poison_free(guard);
    int refused = 0;
    for (int round = 0; round < 3; round++) {
        snprintf(db, sizeof db, "%s/two-%s-%d", f->dir, family, round);
        tu_rmrf(db);
        char log[2][1200];
        pid_t pid[2];
        for (int i = 0; i < 2; i++) {
            snprintf(log[i], sizeof log[i], "%s.log%d", db, i);
            snprintf(cmd, sizeof cmd,
                     "%s ingest %s %s --db %s --chain %s --no-progress --commit-bytes 4096 "
                     ">%s 2>&1",
                     tu_bin("coinhound"), family, src, db, chain, log[i]);
            pid[i] = spawn(cmd);
        }
        for (int i = 0; i < 2; i++) {
            int rc = reap(pid[i]);
            size_t n;
            char *text = (char *)tu_read_file(log[i], &n);
            assert_non_null(text);
            if (rc == 2) {
                if (!strstr(text, "is being written by another coinhound"))
                    fail_msg("writer %d failed otherwise: %s", i, text);
                refused++;
            } else if (rc != 0) {
                fail_msg("writer %d exit %d: %s", i, rc, text);
            }
            free(text);
        }
        tu_assert_same_store(db, clean, chain);
    }
    fprintf(stderr, "two %s writers: %d of 3 rounds saw the second refused\n", family, refused);
    assert_true(refused >= 1); /* started together, they did overlap */
}

static void test_two_btc_writers_started_together_equal_a_clean_build(void **state) {
    fixture *f = *state;
    two_writers(f, "btc", f->btc, "btc");
}

static void test_two_eth_writers_started_together_equal_a_clean_build(void **state) {
    fixture *f = *state;
    two_writers(f, "eth", f->eth, "eth");
}

static void test_cluster_build_and_intel_import_take_the_lock(void **state) {
    fixture *f = *state;
    char db[1100];
    db_path(f, "others", db, sizeof db);
    ch_error err;
    ch_ingest_opts o = {.progress = 0};
    assert_int_equal(ch_ingest_btc(f->btc, db, &o, NULL, &err), 0);
    ch_store *s;
    assert_int_equal(ch_store_open(db, "btc", CH_STORE_WRITE, &s, &err), 0);
    ch_cluster_opts co = {.progress = 0};
    ch_cluster_meta m;
    assert_int_equal(ch_cluster_build(db, &co, &m, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "is being written by another coinhound"));
    ch_store_close(s);
    /* a build killed mid-write left its temporary file: the next build
     * (under the lock, so no other build owns it) removes it */
    char tmp[1300];
    snprintf(tmp, sizeof tmp, "%s/btc/%s.tmp", db, CH_CLUSTER_FILE);
    FILE *t = fopen(tmp, "w");
    assert_non_null(t);
    fputs("half a cluster file", t);
    fclose(t);
    assert_int_equal(ch_cluster_build(db, &co, &m, NULL, &err), 0);
    assert_int_equal(access(tmp, F_OK), -1);

    ch_intel *a, *b;
    assert_int_equal(ch_intel_open(db, true, &a, &err), 0);
    assert_int_equal(ch_intel_open(db, true, &b, &err), -1);
    assert_non_null(strstr(err.msg, "is being written by another coinhound"));
    assert_int_equal(ch_intel_open(db, false, &b, &err), 0); /* readers are free */
    ch_intel_close(b);
    ch_intel_close(a);
    assert_int_equal(ch_intel_open_writer(db, false, &b, &err), 0);
    ch_intel_close(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_second_writer_refused_naming_pid),
        cmocka_unit_test(test_lock_dies_with_a_killed_writer),
        cmocka_unit_test(test_waiting_writer_runs_when_the_holder_ends),
        cmocka_unit_test(test_two_btc_writers_started_together_equal_a_clean_build),
        cmocka_unit_test(test_two_eth_writers_started_together_equal_a_clean_build),
        cmocka_unit_test(test_cluster_build_and_intel_import_take_the_lock),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* One LMDB environment per file per process (src/util/lmdbenv.h).
 *
 * Claims: several handles on one store or attribution store in one process
 * share one environment; closing one handle leaves the others' read
 * transactions registered in lock.mdb, where writers in other processes
 * look; a writer in another process therefore never reuses the pages a live
 * reader of this process still reads; a child after fork opens an
 * environment of its own; a writer joining a process's readers shares their
 * environment (read-write), and one joining a read-only environment is
 * refused with an error naming the folder.
 *
 * The oracle is another process: a child that opens the index the way any
 * other coinhound process would (a plain mdb_env_open of its own) and reads
 * the reader table (mdb_reader_list, after mdb_reader_check as a writer
 * runs it), or writes as a writer would. Before the registry, the first two
 * claims failed: the table showed no reader of this process once a second
 * handle had been closed, and the reader read the child's later value. */
#include "support/handchain.h"
#include "support/testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coinhound/intel.h"
#include "coinhound/store.h"
#include "intel/intel_internal.h"
#include "store/store_internal.h"
#include "util/lmdbenv.h"

/* A store of one block (a coinbase), closed; the probe key in its meta table
 * holds 0. The folder; the caller frees it (tu_rmrf, free). */
static char *make_store(char index[1200]) {
    hand h;
    hand_open(&h);
    hand_block(&h, 1000);
    hout o = {5000000000ULL, 1};
    hand_coinbase(&h, &o, 1);
    hand_end_block(&h);
    assert_int_equal(ch_store_commit(h.s, &h.err), 0);
    ch_store_close(h.s);
    snprintf(index, 1200, "%s/btc/index", h.dir);
    /* no environment of this process is open on it here */
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta;
    assert_int_equal(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 8);
    assert_int_equal(mdb_env_open(env, index, MDB_NOTLS, 0644), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    uint64_t zero = 0;
    MDB_val k = {5, "probe"}, v = {8, &zero};
    assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    return h.dir;
}

typedef struct count_ctx {
    int pid;
    int live;
} count_ctx;

/* One line of mdb_reader_list: "pid thread txnid" ("-": no transaction). */
static int count_line(const char *line, void *vctx) {
    count_ctx *c = vctx;
    int pid;
    size_t tid;
    char txn[32];
    if (sscanf(line, "%d %zx %31s", &pid, &tid, txn) == 3 && pid == c->pid && txn[0] != '-')
        c->live++;
    return 0;
}

/* In a child process (a plain environment of its own, as another coinhound
 * would open): mdb_reader_check, then how many live read transactions the
 * reader table lists for this process. */
static int readers_seen_elsewhere(const char *index) {
    int parent = (int)getpid();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        MDB_env *env;
        int dead = 0;
        if (mdb_env_create(&env) || mdb_env_open(env, index, MDB_RDONLY | MDB_NOTLS, 0644))
            _exit(200);
        mdb_reader_check(env, &dead);
        count_ctx c = {parent, 0};
        mdb_reader_list(env, count_line, &c);
        mdb_env_close(env);
        _exit(c.live > 100 ? 100 : c.live);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_not_equal(WEXITSTATUS(status), 200);
    return WEXITSTATUS(status);
}

/* In a child process: 1 when this process still holds LMDB's fcntl locks on
 * lock.mdb, the shared lock on byte 0 (which tells another opener that the
 * file is in use, so it keeps the reader table) and the lock on the byte at
 * this process's pid (by which mdb_reader_check tells a live reader from a
 * dead one); 0 when either is gone. */
static int locks_held_elsewhere(const char *index) {
    int parent = (int)getpid();
    char path[1300];
    snprintf(path, sizeof path, "%s/lock.mdb", index);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(path, O_RDWR);
        if (fd < 0) _exit(200);
        int held = 1;
        off_t at[2] = {0, parent};
        for (int i = 0; i < 2; i++) {
            struct flock l = {
                .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = at[i], .l_len = 1};
            if (fcntl(fd, F_GETLK, &l) != 0) _exit(201);
            if (l.l_type == F_UNLCK || l.l_pid != parent) held = 0;
        }
        _exit(held);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_true(WEXITSTATUS(status) < 200);
    return WEXITSTATUS(status);
}

/* In a child process: a writer of its own environment commits `n` times,
 * each time setting probe to the commit's number and adding a page of
 * filler, as an ingest would churn the index. */
static void write_elsewhere(const char *index, int n) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        MDB_env *env;
        MDB_dbi meta;
        if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 8) ||
            mdb_env_set_mapsize(env, (size_t)1 << 30) || mdb_env_open(env, index, MDB_NOTLS, 0644))
            _exit(1);
        char filler[3000];
        memset(filler, 'f', sizeof filler);
        for (int i = 1; i <= n; i++) {
            MDB_txn *txn;
            if (mdb_txn_begin(env, NULL, 0, &txn) || mdb_dbi_open(txn, "meta", 0, &meta)) _exit(2);
            uint64_t val = (uint64_t)i;
            char key[16];
            snprintf(key, sizeof key, "fill%d", i);
            MDB_val k = {5, "probe"}, v = {8, &val}, fk = {strlen(key), key},
                    fv = {sizeof filler, filler};
            if (mdb_put(txn, meta, &k, &v, 0) || mdb_put(txn, meta, &fk, &fv, 0) ||
                mdb_txn_commit(txn))
                _exit(3);
        }
        mdb_env_close(env);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* probe as the reader's own read transaction sees it. */
static uint64_t probe_seen(ch_store *s) {
    MDB_val k = {5, "probe"}, v;
    int rc = mdb_get(s->rtxn, s->db_meta, &k, &v);
    if (rc != 0) fail_msg("the reader's snapshot lost its probe: %s", mdb_strerror(rc));
    if (v.mv_size != 8) fail_msg("the reader's probe has %zu bytes, not 8", v.mv_size);
    uint64_t x;
    memcpy(&x, v.mv_data, 8);
    return x;
}

static void test_closing_one_handle_keeps_the_others_reader_registered(void **state) {
    (void)state;
    char index[1200];
    char *dir = make_store(index);
    ch_error err;
    ch_store *a, *b;
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_READ, &a, &err), 0);
    assert_int_equal(readers_seen_elsewhere(index), 1);
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_READ, &b, &err), 0);
    /* both handles' read transactions, while both are open (b's open
     * reserves nothing: no descriptor of lock.mdb closed under a) */
    assert_int_equal(locks_held_elsewhere(index), 1);
    assert_int_equal(readers_seen_elsewhere(index), 2);
    ch_store_close(b);
    /* a's, still: another process's writer must see it */
    assert_int_equal(locks_held_elsewhere(index), 1);
    assert_int_equal(readers_seen_elsewhere(index), 1);
    ch_store_close(a);
    assert_int_equal(readers_seen_elsewhere(index), 0);
    tu_rmrf(dir);
    free(dir);
}

static void test_a_writer_elsewhere_never_reuses_a_live_readers_pages(void **state) {
    (void)state;
    char index[1200];
    char *dir = make_store(index);
    ch_error err;
    ch_store *a, *b;
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_READ, &a, &err), 0);
    assert_int_equal(probe_seen(a), 0);
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_READ, &b, &err), 0);
    ch_store_close(b);
    write_elsewhere(index, 12);
    /* a's snapshot is the state before the writer's commits */
    assert_int_equal(probe_seen(a), 0);
    assert_int_equal(ch_store_refresh(a, &err), 1);
    assert_int_equal(probe_seen(a), 12);
    ch_store_close(a);
    tu_rmrf(dir);
    free(dir);
}

/* A library call that opens the store inside itself and closes it again
 * (ch_store_verify here; the cluster and label calls do the same) is one
 * more handle: the caller's reader stays registered. */
static void test_a_library_call_opening_the_store_inside_keeps_the_callers_reader(void **state) {
    (void)state;
    char index[1200];
    char *dir = make_store(index);
    ch_error err;
    ch_store *a;
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_READ, &a, &err), 0);
    ch_store_counts n;
    if (ch_store_verify(dir, "btc", NULL, NULL, &n, &err) != 0) fail_msg("verify: %s", err.msg);
    assert_int_equal(n.blocks, 1);
    assert_int_equal(locks_held_elsewhere(index), 1);
    assert_int_equal(readers_seen_elsewhere(index), 1);
    write_elsewhere(index, 6);
    assert_int_equal(probe_seen(a), 0);
    ch_store_close(a);
    tu_rmrf(dir);
    free(dir);
}

static void test_handles_of_one_store_share_one_environment(void **state) {
    (void)state;
    char index[1200];
    char *dir = make_store(index);
    ch_error err;
    ch_store *a, *b, *w;
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_READ, &a, &err), 0);
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_READ, &b, &err), 0);
    assert_ptr_equal(a->env, b->env);
    assert_int_equal(a->db_meta, b->db_meta);
    assert_int_equal(ch_lmdb_open_count(index), 1);
    /* a writer joining the readers shares their (read-write) environment */
    if (ch_store_open(dir, "btc", CH_STORE_WRITE, &w, &err) != 0) fail_msg("writer: %s", err.msg);
    assert_ptr_equal(w->env, a->env);
    assert_int_equal(ch_lmdb_open_count(index), 1);
    ch_store_close(w); /* writes its meta: writer_open back to 0 */
    assert_int_equal(readers_seen_elsewhere(index), 2);
    ch_store_close(a);
    assert_int_equal(ch_lmdb_open_count(index), 1);
    assert_int_equal(probe_seen(b), 0);
    ch_store_close(b);
    assert_int_equal(ch_lmdb_open_count(index), 0);
    tu_rmrf(dir);
    free(dir);
}

static void test_a_child_after_fork_opens_its_own_environment(void **state) {
    (void)state;
    char index[1200];
    char *dir = make_store(index);
    ch_error err;
    ch_store *a;
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_READ, &a, &err), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* the parent's environment is not this process's: a new one */
        ch_store *c;
        if (ch_store_open(dir, "btc", CH_STORE_READ, &c, &err) != 0) _exit(1);
        int bad = c->env == a->env ? 2 : ch_lmdb_open_count(index) != 1 ? 3 : 0;
        ch_store_counts n;
        ch_store_get_counts(c, &n);
        if (!bad && n.blocks != 1) bad = 4;
        ch_store_close(c);
        if (!bad && ch_lmdb_open_count(index) != 0) bad = 5;
        _exit(bad);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* the child's close cleared none of the parent's readers */
    assert_int_equal(readers_seen_elsewhere(index), 1);
    write_elsewhere(index, 6);
    assert_int_equal(probe_seen(a), 0);
    ch_store_close(a);
    tu_rmrf(dir);
    free(dir);
}

/* A child that closes the handles it inherited (a careless embedder's
 * cleanup after fork) touches nothing of the parent's: its reader stays
 * registered, its snapshot intact, its writer lock's pid in place. */
static void test_a_child_closing_inherited_handles_leaves_the_parents_alone(void **state) {
    (void)state;
    char index[1200];
    char *dir = make_store(index);
    ch_error err;
    ch_store *a;
    ch_intel *w;
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_READ, &a, &err), 0);
    assert_int_equal(ch_intel_open_writer(dir, false, &w, &err), 0);
    char lock[1300];
    snprintf(lock, sizeof lock, "%s/intel/writer.lock", dir);
    struct stat before;
    assert_int_equal(stat(lock, &before), 0);
    assert_true(before.st_size > 0); /* the holder's pid */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ch_store_close(a);
        ch_intel_close(w);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(locks_held_elsewhere(index), 1);
    assert_int_equal(readers_seen_elsewhere(index), 1);
    write_elsewhere(index, 6);
    assert_int_equal(probe_seen(a), 0);
    struct stat after;
    assert_int_equal(stat(lock, &after), 0);
    assert_int_equal(after.st_size, before.st_size);
    ch_intel_close(w);
    ch_store_close(a);
    tu_rmrf(dir);
    free(dir);
}

typedef struct churn {
    const char *dir;
    int failures;
} churn;

static void *open_close_many(void *arg) {
    churn *c = arg;
    for (int i = 0; i < 40; i++) {
        ch_store *s;
        ch_error err;
        ch_store_counts n;
        if (ch_store_open(c->dir, "btc", CH_STORE_READ, &s, &err) != 0) {
            c->failures++;
            continue;
        }
        ch_store_get_counts(s, &n);
        if (n.blocks != 1) c->failures++;
        ch_store_close(s);
    }
    return NULL;
}

/* Threads opening and closing handles of one store while another handle
 * lives: every open succeeds, the living handle's reader stays registered
 * and its snapshot intact, and the last close leaves no environment. */
static void test_threads_opening_and_closing_handles_share_safely(void **state) {
    (void)state;
    char index[1200];
    char *dir = make_store(index);
    ch_error err;
    ch_store *a;
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_READ, &a, &err), 0);
    pthread_t t[4];
    churn c[4];
    for (int i = 0; i < 4; i++) {
        c[i] = (churn){dir, 0};
        assert_int_equal(pthread_create(&t[i], NULL, open_close_many, &c[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(c[i].failures, 0);
    }
    assert_int_equal(ch_lmdb_open_count(index), 1);
    assert_int_equal(readers_seen_elsewhere(index), 1);
    write_elsewhere(index, 6);
    assert_int_equal(probe_seen(a), 0);
    ch_store_close(a);
    assert_int_equal(ch_lmdb_open_count(index), 0);
    tu_rmrf(dir);
    free(dir);
}

/* Set or clear the immutable attribute of path (root may write any file
 * mode allows it not to: only this refuses it the write); 0 or -1. */
static int set_immutable(const char *path, bool on) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    int flags = 0, rc = ioctl(fd, FS_IOC_GETFLAGS, &flags);
    if (rc == 0) {
        flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
        rc = ioctl(fd, FS_IOC_SETFLAGS, &flags);
    }
    close(fd);
    return rc;
}

static void test_a_writer_cannot_join_a_read_only_environment(void **state) {
    (void)state;
    char index[1200], data[1300];
    char *dir = make_store(index);
    snprintf(data, sizeof data, "%s/data.mdb", index);
    bool root = geteuid() == 0;
    if (root ? set_immutable(data, true) != 0 : chmod(data, 0444) != 0) {
        tu_rmrf(dir);
        free(dir);
        fprintf(stderr, "skipped: cannot make data.mdb unwritable here (%s)\n", strerror(errno));
        skip();
        return;
    }
    ch_error err;
    ch_store *a, *w;
    int rc = ch_store_open(dir, "btc", CH_STORE_READ, &a, &err);
    /* (writable again before any assertion, so the folder can be removed) */
    if (root)
        set_immutable(data, false);
    else
        chmod(data, 0644);
    assert_int_equal(rc, 0);
    assert_false(ch_lmdb_writable(a->lm));
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_WRITE, &w, &err), -1);
    assert_non_null(strstr(err.msg, "read-only"));
    assert_non_null(strstr(err.msg, index));
    /* the reader is unharmed, and once it is closed a writer opens */
    assert_int_equal(readers_seen_elsewhere(index), 1);
    assert_int_equal(probe_seen(a), 0);
    ch_store_close(a);
    assert_int_equal(ch_store_open(dir, "btc", CH_STORE_WRITE, &w, &err), 0);
    assert_true(ch_lmdb_writable(w->lm));
    ch_store_close(w);
    tu_rmrf(dir);
    free(dir);
}

static void test_handles_of_one_attribution_store_share_one_environment(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), idir[1200];
    snprintf(idir, sizeof idir, "%s/intel", dir);
    ch_error err;
    ch_intel *w, *r1, *r2;
    assert_int_equal(ch_intel_open_writer(dir, false, &w, &err), 0); /* created, seeded */
    ch_intel_close(w);
    assert_int_equal(ch_lmdb_open_count(idir), 0);
    assert_int_equal(ch_intel_open(dir, false, &r1, &err), 0);
    assert_int_equal(ch_intel_open(dir, false, &r2, &err), 0);
    assert_ptr_equal(r1->env, r2->env);
    assert_int_equal(r1->attr, r2->attr);
    if (ch_intel_open_writer(dir, false, &w, &err) != 0) fail_msg("writer: %s", err.msg);
    assert_ptr_equal(w->env, r1->env);
    assert_int_equal(ch_lmdb_open_count(idir), 1);
    ch_intel_close(w);
    ch_intel_close(r2);
    ch_actor act;
    assert_int_equal(ch_intel_actor_resolve(r1, "HIDDEN COBRA", &act, &err), 1);
    assert_string_equal(act.name, "Lazarus Group");
    ch_intel_close(r1);
    assert_int_equal(ch_lmdb_open_count(idir), 0);
    tu_rmrf(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closing_one_handle_keeps_the_others_reader_registered),
        cmocka_unit_test(test_a_writer_elsewhere_never_reuses_a_live_readers_pages),
        cmocka_unit_test(test_a_library_call_opening_the_store_inside_keeps_the_callers_reader),
        cmocka_unit_test(test_handles_of_one_store_share_one_environment),
        cmocka_unit_test(test_a_child_after_fork_opens_its_own_environment),
        cmocka_unit_test(test_a_child_closing_inherited_handles_leaves_the_parents_alone),
        cmocka_unit_test(test_threads_opening_and_closing_handles_share_safely),
        cmocka_unit_test(test_a_writer_cannot_join_a_read_only_environment),
        cmocka_unit_test(test_handles_of_one_attribution_store_share_one_environment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "storecmp.h"

#include "testutil.h"

#include "coinhound/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The .col names in dir, sorted; returns the count (at most max). */
static size_t col_names(const char *dir, char names[][64], size_t max) {
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) && n < max) {
        size_t len = strlen(e->d_name);
        if (len > 4 && len < 64 && !strcmp(e->d_name + len - 4, ".col"))
            strcpy(names[n++], e->d_name);
    }
    if (d) closedir(d);
    qsort(names, n, 64, (int (*)(const void *, const void *))strcmp);
    return n;
}

static void compare_file(const char *a, const char *b, const char *name) {
    size_t la = 0, lb = 0;
    uint8_t *x = tu_read_file(a, &la), *y = tu_read_file(b, &lb);
    if (!x || !y) fail_msg("%s exists in one store only", name);
    if (la != lb || memcmp(x, y, la) != 0) {
        size_t k = 0;
        while (k < la && k < lb && x[k] == y[k])
            k++;
        free(x);
        free(y);
        fail_msg("%s differs (%zu and %zu bytes; first difference at byte %zu)", name, la, lb, k);
    }
    free(x);
    free(y);
}

void tu_assert_same_columns(const char *db_a, const char *db_b, const char *chain) {
    char da[4096], dbb[4096];
    snprintf(da, sizeof da, "%s/%s", db_a, chain);
    snprintf(dbb, sizeof dbb, "%s/%s", db_b, chain);
    char na[32][64], nb[32][64];
    size_t n = col_names(da, na, 32), m = col_names(dbb, nb, 32);
    if (n == 0) fail_msg("%s holds no column files", da);
    if (n != m) fail_msg("%s has %zu column files, %s %zu", da, n, dbb, m);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(na[i], nb[i]) != 0) fail_msg("%s is in one store only", na[i]);
        char pa[4200], pb[4200];
        snprintf(pa, sizeof pa, "%s/%s", da, na[i]);
        snprintf(pb, sizeof pb, "%s/%s", dbb, nb[i]);
        compare_file(pa, pb, na[i]);
    }
}

char *tu_store_snapshot(const char *db, const char *chain, size_t *len) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", db, chain);
    char names[32][64];
    size_t n = col_names(dir, names, 32), total = 0;
    char *all = malloc(1);
    for (size_t i = 0; i < n && all; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        size_t l = 0;
        uint8_t *d = tu_read_file(p, &l);
        char *grown = realloc(all, total + l + 1);
        if (!grown) {
            free(all);
            all = NULL;
        } else {
            all = grown;
            if (d) memcpy(all + total, d, l);
            total += l;
        }
        free(d);
    }
    *len = total;
    return all;
}

static uint64_t blocks_in(const char *db, const char *chain) {
    ch_store *s;
    ch_error err;
    if (ch_store_open(db, chain, CH_STORE_READ, &s, &err) != 0) return 0;
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    ch_store_close(s);
    return c.blocks;
}

static pid_t spawn_ingest(const char *bin, const char *family, const char *src, const char *db) {
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execl(bin, bin, "ingest", family, src, "--db", db, "--commit-bytes", "1", "--no-progress",
              (char *)NULL);
        _exit(127);
    }
    return pid;
}

int tu_kill9_ingest(const char *family, const char *src, const char *db, const char *chain,
                    uint64_t total, int rounds, int divisor, int *mid) {
    char bin[1024];
    snprintf(bin, sizeof bin, "%s", tu_bin("coinhound"));
    if (access(bin, X_OK) != 0) fail_msg("%s is not built", bin);
    /* how long an uninterrupted run takes, to spread the kills over it */
    char *timed = tu_tmpdir();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int status;
    waitpid(spawn_ingest(bin, family, src, timed), &status, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail_msg("the timed ingest failed");
    tu_rmrf(timed);
    free(timed);
    long run_us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
    long window = run_us / divisor + 1000;
    srand((unsigned)time(NULL));
    int kills = 0;
    *mid = 0;
    /* A resumed run has less to do than the timed one, and a loaded machine
     * makes any run's length vary: a run that ends before its kill is not
     * counted, the window shrinks, and up to 4x the rounds are tried, so the
     * kills asked for land however fast or slow this machine is today. */
    for (int round = 0, tries = 0; round < rounds && tries < 4 * rounds; tries++) {
        pid_t pid = spawn_ingest(bin, family, src, db);
        usleep((useconds_t)(rand() % window));
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        if (WIFSIGNALED(status)) {
            kills++;
            round++;
        } else if (WEXITSTATUS(status) != 0) {
            fail_msg("ingest exited %d", WEXITSTATUS(status));
        } else if (window > 2000) {
            window = window * 3 / 4;
        }
        uint64_t n = blocks_in(db, chain);
        if (n > 0 && n < total) (*mid)++;
        if (n == total) { /* done: start over so the kills keep landing mid-run */
            tu_rmrf(db);
            mkdir(db, 0700);
        }
    }
    return kills;
}

void tu_store_counts(const char *db, const char *chain, ch_store_counts *c) {
    ch_store *s;
    ch_error err;
    memset(c, 0, sizeof *c);
    if (ch_store_open(db, chain, CH_STORE_READ, &s, &err) != 0) return;
    ch_store_get_counts(s, c);
    ch_store_close(s);
}

static void same_account_txs(const ch_store *a, const ch_store *b, uint64_t txs) {
    for (uint64_t t = 0; t < txs; t++) {
        uint64_t fa, na, fb, nb;
        assert_memory_equal(ch_store_etx(a, t), ch_store_etx(b, t), sizeof(ch_etx_rec));
        ch_store_tx_xfers(a, t, &fa, &na);
        ch_store_tx_xfers(b, t, &fb, &nb);
        assert_true(fa == fb && na == nb);
        for (uint64_t x = fa; x < fa + na; x++)
            assert_memory_equal(ch_store_xfer(a, x), ch_store_xfer(b, x), sizeof(ch_xfer_rec));
    }
}

void tu_assert_same_indexes(const char *db_a, const char *db_b, const char *chain) {
    ch_store *a, *b;
    ch_error err;
    assert_int_equal(ch_store_open(db_a, chain, CH_STORE_READ, &a, &err), 0);
    assert_int_equal(ch_store_open(db_b, chain, CH_STORE_READ, &b, &err), 0);
    ch_store_counts ca, cb;
    ch_store_get_counts(a, &ca);
    ch_store_get_counts(b, &cb);
    assert_memory_equal(&ca, &cb, sizeof ca);
    assert_true(ch_store_first_number(a) == ch_store_first_number(b));
    for (uint32_t h = 0; h < ca.blocks; h++) {
        ch_hash256 bh;
        uint32_t hb;
        memcpy(bh.b, ch_store_block(a, h)->hash, 32);
        assert_int_equal(ch_store_find_block(b, &bh, &hb, &err), 1);
        assert_int_equal(hb, h);
    }
    for (uint64_t t = 0; t < ca.txs; t++) {
        ch_hash256 id;
        uint64_t ta, tb;
        ch_store_txid(a, t, &id);
        assert_int_equal(ch_store_find_tx(a, &id, &ta, &err), 1);
        assert_int_equal(ch_store_find_tx(b, &id, &tb, &err), 1);
        assert_true(ta == tb);
    }
    for (uint64_t i = 0; i < ca.addresses; i++) {
        ch_addr_id id = ch_store_addr_id_at(a, i), ia, ib;
        assert_true(ch_store_addr_index(a, id) == i);
        uint64_t la, lb;
        ch_addr ad;
        ch_store_addr_of(a, id, &ad);
        assert_int_equal(ch_store_find_addr(a, &ad, &ia, &la, &err), 1);
        assert_int_equal(ch_store_find_addr(b, &ad, &ib, &lb, &err), 1);
        assert_int_equal(ia, id);
        assert_int_equal(ib, id);
        assert_true(la == lb);
    }
    if (ch_store_is_account(a)) same_account_txs(a, b, ca.txs);
    ch_store_close(a);
    ch_store_close(b);
}

void tu_assert_same_store(const char *db_a, const char *db_b, const char *chain) {
    tu_assert_same_columns(db_a, db_b, chain);
    tu_assert_same_indexes(db_a, db_b, chain);
}

void tu_assert_check(const char *db) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s check --db %s 2>&1", tu_bin("coinhound"), db);
    int st;
    char *out = tu_run(cmd, &st);
    if (st != 0) fail_msg("coinhound check: %s", out);
    free(out);
}

void tu_assert_same_as_ingest(const char *family, const char *src, const char *db,
                              const char *work) {
    char clean[1200], cmd[4000];
    snprintf(clean, sizeof clean, "%s/clean", work);
    snprintf(cmd, sizeof cmd, "%s ingest %s %s --db %s --no-progress 2>&1", tu_bin("coinhound"),
             family, src, clean);
    int st;
    char *out = tu_run(cmd, &st);
    if (st != 0) fail_msg("ingest %s: %s", family, out);
    free(out);
    tu_assert_same_store(clean, db, family);
}

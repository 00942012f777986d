/* The sorted-run index (src/store/runs.h) against a plain array oracle:
 * after many batches, merged or not, every key finds exactly the values it
 * was given, oldest first; absent keys find nothing; the run count stays
 * logarithmic; a staged run that is not published leaves no trace; the
 * files a crashed writer left are swept; and the runs' filters never hide
 * a key, and are rebuilt when their files cannot be trusted; a run this
 * process wrote is searched through its fences and finds the same. */
#include "support/testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gen/gen_internal.h"
#include "store/runs.h"

static uint64_t rng = 88172645463325252ULL;
static uint64_t next_rand(void) {
    return gen_splitmix64(&rng);
}

static int cmp_item(const void *a, const void *b) {
    const st_run_item *x = a, *y = b;
    uint64_t kx = x->key >> 16, ky = y->key >> 16;
    if (kx != ky) return kx < ky ? -1 : 1;
    return x->val < y->val ? -1 : x->val > y->val;
}

typedef struct collect {
    uint64_t v[8];
    int n;
} collect;

static int gather(void *ctx, uint64_t val) {
    collect *c = ctx;
    if (c->n < 8) c->v[c->n] = val;
    c->n++;
    return 0;
}

static int count_run_files(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strstr(e->d_name, ".run") != NULL;
    closedir(d);
    return n;
}

static void test_runs_find_every_key_after_merges(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    st_runs r;
    ch_error err;
    assert_int_equal(st_runs_open(&r, dir, "t", NULL, NULL, 0, &err), 0);
    enum { BATCHES = 200, MAXB = 700 };
    st_run_item *all = malloc(sizeof *all * BATCHES * MAXB);
    size_t n_all = 0;
    uint64_t seq = 1;
    for (int b = 0; b < BATCHES; b++) {
        size_t n = 1 + next_rand() % MAXB;
        st_run_item *batch = all + n_all;
        for (size_t i = 0; i < n; i++) {
            /* one key in 16 repeats an earlier one (a duplicate txid) */
            uint64_t key = (n_all + i > 0 && next_rand() % 16 == 0)
                               ? all[next_rand() % (n_all + i)].key
                               : next_rand();
            batch[i] = (st_run_item){key, n_all + i};
        }
        qsort(batch, n, sizeof *batch, cmp_item);
        for (size_t i = 0; i < n; i++) /* a value is its item's place in all[] */
            batch[i].val = n_all + i;
        assert_int_equal(st_runs_add(&r, batch, n, seq++, &err), 0);
        if (b % 10 == 9) { /* a commit that failed: nothing changes */
            st_runs_unstage(&r);
            continue;
        }
        st_runs_publish(&r);
        n_all += n;
        assert_true(r.n <= (size_t)(2 + 64 - __builtin_clzll(n_all))); /* logarithmic */
        assert_int_equal(count_run_files(dir), (int)r.n);
    }
    assert_int_equal(st_runs_entries(&r), n_all);
    /* every key: all its values, in insertion order (oldest first) */
    for (size_t i = 0; i < n_all; i++) {
        collect c = {{0}, 0};
        st_runs_find(&r, all[i].key, gather, &c);
        int want = 0;
        uint64_t prev = 0;
        for (size_t j = 0; j < n_all; j++)
            if (all[j].key >> 16 == all[i].key >> 16) want++;
        assert_int_equal(c.n, want);
        for (int k = 0; k < c.n && k < 8; k++) {
            assert_true(all[c.v[k]].key >> 16 == all[i].key >> 16);
            if (k) assert_true(c.v[k] > prev);
            prev = c.v[k];
        }
    }
    for (int i = 0; i < 2000; i++) {
        collect c = {{0}, 0};
        uint64_t k = next_rand();
        st_runs_find(&r, k, gather, &c);
        int want = 0;
        for (size_t j = 0; j < n_all; j++)
            want += all[j].key >> 16 == k >> 16;
        assert_int_equal(c.n, want);
    }
    /* reopen from the list, as a store does */
    uint64_t seqs[ST_RUNS_MAX + 1], counts[ST_RUNS_MAX + 1];
    size_t n = st_runs_list(&r, seqs, counts);
    st_runs_close(&r);
    /* a crashed writer's leftover is swept */
    char stray[4200];
    snprintf(stray, sizeof stray, "%s/t-999.run", dir);
    FILE *f = fopen(stray, "w");
    fclose(f);
    assert_int_equal(st_runs_open(&r, dir, "t", seqs, counts, n, &err), 0);
    st_runs_sweep(&r);
    struct stat st;
    assert_int_not_equal(stat(stray, &st), 0);
    collect c = {{0}, 0};
    st_runs_find(&r, all[n_all / 2].key, gather, &c);
    assert_true(c.n >= 1);
    st_runs_close(&r);
    free(all);
    tu_rmrf(dir);
    free(dir);
}

typedef struct counted {
    size_t visits;
} counted;

static int count_visit(void *ctx, uint64_t val) {
    (void)val;
    ((counted *)ctx)->visits++;
    return 0;
}

static int count_files(const char *dir, const char *suffix) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    size_t ls = strlen(suffix);
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        n += l > ls && strcmp(e->d_name + l - ls, suffix) == 0;
    }
    closedir(d);
    return n;
}

/* With filters (a writer's runs): every key is still found, in every run
 * that holds it, after merges and a reopen; a key of no run passes about
 * 1% of the filters; a filter file that is damaged, of another run or
 * missing is built again from its run, never trusted; a crashed writer's
 * filter is swept with its run. */
static void test_filters_never_hide_a_key(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    st_runs r;
    ch_error err;
    assert_int_equal(st_runs_open(&r, dir, "f", NULL, NULL, 0, &err), 0);
    assert_int_equal(st_runs_use_filters(&r, &err), 0);
    enum { BATCHES = 40, PER = 5000 };
    st_run_item *all = malloc(sizeof *all * BATCHES * PER);
    size_t n_all = 0;
    for (int b = 0; b < BATCHES; b++) {
        st_run_item *batch = all + n_all;
        for (size_t i = 0; i < PER; i++)
            batch[i] = (st_run_item){next_rand(), 0};
        qsort(batch, PER, sizeof *batch, cmp_item);
        for (size_t i = 0; i < PER; i++)
            batch[i].val = n_all + i;
        assert_int_equal(st_runs_add(&r, batch, PER, (uint64_t)b + 1, &err), 0);
        st_runs_publish(&r);
        n_all += PER;
    }
    assert_int_equal(count_files(dir, ".filter"), (int)r.n);
    assert_int_equal(count_files(dir, ".fence"), (int)r.n); /* the merged runs' went with them */
    /* each read from its file's mapping, not held in the writer's memory */
    for (size_t i = 0; i < r.n; i++) {
        assert_non_null(r.v[i].filter.bits);
        assert_non_null(r.v[i].filter.map);
    }
    for (size_t i = 0; i < n_all; i++) {
        collect c = {{0}, 0};
        st_runs_find(&r, all[i].key, gather, &c);
        assert_int_equal(c.n, 1);
        assert_int_equal(c.v[0], i);
    }
    /* misses: how many runs' filters let a random key through */
    size_t passed = 0, probes = 0;
    for (int k = 0; k < 20000; k++) {
        uint64_t key = next_rand() >> 16;
        for (size_t i = 0; i < r.n; i++, probes++)
            passed += st_filter_may(&r.v[i].filter, key);
    }
    assert_true(passed * 100 < probes * 3); /* under 3% */
    uint64_t seqs[ST_RUNS_MAX + 1], counts[ST_RUNS_MAX + 1];
    size_t n = st_runs_list(&r, seqs, counts);
    st_runs_close(&r);

    /* damage: flip a bit of one filter (a zero bit would hide keys), make
     * another one of a different run, delete a third */
    char path[4200];
    snprintf(path, sizeof path, "%s/f-%llu.filter", dir, (unsigned long long)seqs[0]);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 100, SEEK_SET);
    int ch = fgetc(f);
    fseek(f, 100, SEEK_SET);
    fputc(ch ^ 0xff, f);
    fclose(f);
    if (n > 2) {
        char other[4200];
        snprintf(path, sizeof path, "%s/f-%llu.filter", dir, (unsigned long long)seqs[1]);
        snprintf(other, sizeof other, "%s/f-%llu.filter", dir, (unsigned long long)seqs[2]);
        assert_int_equal(rename(other, path), 0); /* seqs[2]'s filter now stands for seqs[1] */
    }
    /* a crashed writer's run and filter */
    snprintf(path, sizeof path, "%s/f-999.run", dir);
    fclose(fopen(path, "w"));
    snprintf(path, sizeof path, "%s/f-999.filter", dir);
    fclose(fopen(path, "w"));
    snprintf(path, sizeof path, "%s/f-999.fence", dir);
    fclose(fopen(path, "w"));
    snprintf(path, sizeof path, "%s/f-%llu.fence.tmp", dir, (unsigned long long)seqs[0]);
    fclose(fopen(path, "w"));
    assert_int_equal(st_runs_open(&r, dir, "f", seqs, counts, n, &err), 0);
    st_runs_sweep(&r);
    assert_int_equal(st_runs_use_filters(&r, &err), 0);
    assert_int_equal(count_files(dir, ".filter"), (int)r.n);
    assert_int_equal(count_files(dir, ".fence"), (int)r.n);
    assert_int_equal(count_files(dir, ".tmp"), 0);
    assert_int_equal(count_files(dir, ".run"), (int)r.n);
    for (size_t i = 0; i < r.n; i++) /* loaded or built again: mapped */
        assert_non_null(r.v[i].filter.map);
    for (size_t i = 0; i < n_all; i++) {
        counted c = {0};
        st_runs_find(&r, all[i].key, count_visit, &c);
        assert_int_equal(c.visits, 1);
    }
    st_runs_close(&r);
    free(all);
    tu_rmrf(dir);
    free(dir);
}

/* How many entries of all[0, n) share key's 48 bits. */
static int oracle_count(const st_run_item *all, size_t n, uint64_t key) {
    int want = 0;
    for (size_t j = 0; j < n; j++)
        want += all[j].key >> 16 == key >> 16;
    return want;
}

/* A run this process wrote has fences, saved beside it, and a lookup
 * through them (one block read by pread) finds what the search of the
 * mapping finds, which a reopened run without them does: a key repeated
 * over three blocks (its values all visited, in order, from the block read
 * and past it), keys before the first entry and past the last, every key
 * at a fence and beside one, absent keys. Passes: as written; reopened
 * without fences; reopened with st_runs_use_fences (the saved file); with
 * the saved file's fences damaged (a key moved past its block's: trusted,
 * it would send lookups to the wrong block), which is built again from
 * the run; with the file gone, likewise. */
/* Move the fifth fence of the file at path past the sixth's key (the
 * header is 64 bytes), keeping its size. */
static void damage_fence(const char *path) {
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint64_t k[2];
    assert_int_equal(pread(fd, k, sizeof k, 64 + 4 * 8), (ssize_t)sizeof k);
    k[0] = k[1] + 1;
    assert_int_equal(pwrite(fd, k, 8, 64 + 4 * 8), 8);
    close(fd);
}

/* The tag runs.c gives a run's derived files (runfilter.h). */
static uint64_t run_tag_of(const st_run *run) {
    uint64_t bytes = run->n * ST_RUN_REC, part = bytes < 4096 ? bytes : 4096;
    return st_filter_tag(run->map, part, run->map + bytes - part, part);
}

static void test_fenced_lookups_find_what_the_mapping_search_finds(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    st_runs r;
    ch_error err;
    assert_int_equal(st_runs_open(&r, dir, "g", NULL, NULL, 0, &err), 0);
    enum { N = 9000, REP = 3 * ST_RUN_FENCE };
    st_run_item *all = malloc(sizeof *all * N);
    const uint64_t rep = 0x8000123456789abcULL;
    for (size_t i = 0; i < N; i++)
        all[i] = (st_run_item){i < REP ? rep : next_rand(), 0};
    qsort(all, N, sizeof *all, cmp_item);
    for (size_t i = 0; i < N; i++)
        all[i].val = i;
    assert_int_equal(st_runs_add(&r, all, N, 1, &err), 0);
    st_runs_publish(&r);
    assert_int_equal(r.n, 1);
    assert_non_null(r.v[0].fence.keys);
    assert_non_null(r.v[0].fence.map); /* read from the saved file */
    char fpath[4200];
    snprintf(fpath, sizeof fpath, "%s/g-1.fence", dir);
    for (int pass = 0; pass < 5; pass++) {
        if (pass == 3) damage_fence(fpath);
        if (pass == 4) assert_int_equal(unlink(fpath), 0);
        if (pass >= 1) { /* reopened: no fences (the mapping searched) until asked */
            uint64_t seqs[ST_RUNS_MAX + 1], counts[ST_RUNS_MAX + 1];
            size_t n = st_runs_list(&r, seqs, counts);
            st_runs_close(&r);
            assert_int_equal(st_runs_open(&r, dir, "g", seqs, counts, n, &err), 0);
            assert_null(r.v[0].fence.keys);
            if (pass >= 2) {
                assert_int_equal(st_runs_use_fences(&r, &err), 0);
                assert_non_null(r.v[0].fence.keys);
                /* what was loaded, or built again, is the run's own */
                for (uint64_t f = 0; f < r.v[0].fence.count; f++)
                    assert_true(r.v[0].fence.keys[f] == all[f * ST_RUN_FENCE].key >> 16);
                st_fences again;
                assert_int_equal(st_fence_load(&again, fpath, 1, N, run_tag_of(&r.v[0])), 0);
                st_fence_free(&again);
            }
        }
        for (size_t i = 0; i < N; i++) {
            collect c = {{0}, 0};
            st_runs_find(&r, all[i].key, gather, &c);
            assert_int_equal(c.n, oracle_count(all, N, all[i].key));
            for (int k = 0; k < c.n && k < 8; k++)
                assert_true(all[c.v[k]].key >> 16 == all[i].key >> 16);
        }
        collect c = {{0}, 0};
        st_runs_find(&r, rep, gather, &c);
        assert_int_equal(c.n, REP);
        uint64_t edges[2] = {0, UINT64_MAX};
        for (int e = 0; e < 2; e++) {
            c = (collect){{0}, 0};
            st_runs_find(&r, edges[e], gather, &c);
            assert_int_equal(c.n, oracle_count(all, N, edges[e]));
        }
        for (int i = 0; i < 3000; i++) {
            uint64_t k = next_rand();
            c = (collect){{0}, 0};
            st_runs_find(&r, k, gather, &c);
            assert_int_equal(c.n, oracle_count(all, N, k));
        }
    }
    st_runs_close(&r);
    free(all);
    tu_rmrf(dir);
    free(dir);
}

/* --- merges in the background --- */

/* The items of a sorted oracle (by key, then value) under key: [*lo, hi). */
static size_t oracle_range(const st_run_item *sorted, size_t n, uint64_t key, size_t *lo) {
    size_t a = 0, b = n;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (sorted[m].key >> 16 < key >> 16)
            a = m + 1;
        else
            b = m;
    }
    *lo = a;
    while (b < n && sorted[b].key >> 16 == key >> 16)
        b++;
    return b;
}

/* Every key of the first n items of all finds exactly its values, oldest
 * first (an independent oracle: all[] sorted). */
static void check_all_keys(const st_runs *r, const st_run_item *all, size_t n) {
    st_run_item *sorted = malloc(n * sizeof *sorted + 1);
    memcpy(sorted, all, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_item);
    for (size_t i = 0; i < n; i += 1 + i % 7) {
        collect c = {{0}, 0};
        st_runs_find(r, all[i].key, gather, &c);
        size_t lo, hi = oracle_range(sorted, n, all[i].key, &lo);
        assert_int_equal(c.n, (int)(hi - lo));
        for (int k = 0; k < c.n && k < 8; k++)
            assert_true(c.v[k] == sorted[lo + (size_t)k].val);
    }
    for (int i = 0; i < 500; i++) {
        uint64_t k = next_rand();
        collect c = {{0}, 0};
        st_runs_find(r, k, gather, &c);
        size_t lo, hi = oracle_range(sorted, n, k, &lo);
        assert_int_equal(c.n, (int)(hi - lo));
    }
    free(sorted);
}

/* One batch of n items with values from base, sorted as a commit gives
 * them; one key in 16 repeats an earlier one. */
static void make_batch(st_run_item *all, size_t base, size_t n) {
    st_run_item *batch = all + base;
    for (size_t i = 0; i < n; i++) {
        uint64_t key = (base + i > 0 && next_rand() % 16 == 0) ? all[next_rand() % (base + i)].key
                                                               : next_rand();
        batch[i] = (st_run_item){key, 0};
    }
    qsort(batch, n, sizeof *batch, cmp_item);
    for (size_t i = 0; i < n; i++)
        batch[i].val = base + i;
}

/* A writer's runs in dir: with filters. */
static void open_filtered(st_runs *r, const char *dir, const char *name) {
    ch_error err;
    assert_int_equal(st_runs_open(r, dir, name, NULL, NULL, 0, &err), 0);
    assert_int_equal(st_runs_use_filters(r, &err), 0);
}

/* A batch of n items made, added as run (*seq)++ and published: *n_all grows by n. */
static void add_published(st_runs *r, st_run_item *all, size_t *n_all, size_t n, uint64_t *seq) {
    ch_error err;
    make_batch(all, *n_all, n);
    assert_int_equal(st_runs_add(r, all + *n_all, n, (*seq)++, &err), 0);
    st_runs_publish(r);
    *n_all += n;
}

/* Runs merged by a thread beside the commits, as a watcher's store does:
 * every key is found with its values in order before, during and after
 * the merges; the batches are never merged in the commit; the list stays
 * short; a merge is taken in only by a commit, and its runs' files are
 * deleted only once a list without them is published; a failed commit
 * leaves everything usable; a close during a merge leaves no file of it. */
static void test_background_merges_keep_every_key(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    st_runs r;
    ch_error err;
    open_filtered(&r, dir, "t");
    r.background = true;
    enum { BATCHES = 300, MAXB = 400, BIG = 300000 };
    st_run_item *all = malloc(sizeof *all * (BATCHES * MAXB + 2 * BIG));
    size_t n_all = 0, adopted = 0, started = 0;
    uint64_t seq = 1;
    for (int b = 0; b < BATCHES; b++) {
        int got = st_runs_merge_adopt(&r, &err); /* the commit's first step */
        assert_true(got >= 0);
        adopted += (size_t)got;
        size_t n = 1 + next_rand() % MAXB, was = r.n;
        make_batch(all, n_all, n);
        assert_int_equal(st_runs_add(&r, all + n_all, n, seq++, &err), 0);
        if (r.n < ST_RUNS_MAX - 5) assert_int_equal(r.keep, was); /* not merged in the commit */
        if (b % 10 == 9) {                                        /* a commit that failed */
            st_runs_unstage(&r);
            check_all_keys(&r, all, n_all);
            continue;
        }
        uint64_t seqs[ST_RUNS_MAX + 1], counts[ST_RUNS_MAX + 1];
        assert_true(st_runs_list(&r, seqs, counts) <= ST_RUNS_MAX - 4);
        st_runs_publish(&r);
        n_all += n;
        /* the files: the listed runs, and a running merge's new run */
        int files = count_run_files(dir);
        assert_true(files == (int)r.n || (r.bg && files == (int)r.n + 1));
        started += (size_t)st_runs_merge_start(&r, seq);
        if (r.bg) seq++;
        if (b % 3 == 0) check_all_keys(&r, all, n_all); /* during a merge */
    }
    assert_true(started > 10 && adopted > 5);
    /* merged down: what is left is logarithmic */
    for (;;) {
        assert_int_equal(st_runs_merge_wait(&r, &err), 0);
        st_runs_publish(&r);
        if (!st_runs_merge_start(&r, seq++)) break;
    }
    assert_true(r.n <= (size_t)(2 + 64 - __builtin_clzll(n_all)));
    assert_int_equal(count_run_files(dir), (int)r.n);
    assert_int_equal(st_runs_entries(&r), n_all);
    check_all_keys(&r, all, n_all);
    /* a close while a merge (of two large runs) runs: nothing of it stays */
    for (int k = 0; k < 2; k++)
        add_published(&r, all, &n_all, BIG, &seq);
    assert_int_equal(st_runs_merge_start(&r, seq++), 1);
    uint64_t seqs[ST_RUNS_MAX + 1], counts[ST_RUNS_MAX + 1];
    size_t listed = st_runs_list(&r, seqs, counts);
    st_runs_close(&r);
    assert_int_equal(count_run_files(dir), (int)listed);
    assert_int_equal(st_runs_open(&r, dir, "t", seqs, counts, listed, &err), 0);
    check_all_keys(&r, all, n_all);
    st_runs_close(&r);
    free(all);
    tu_rmrf(dir);
    free(dir);
}

/* The size of run seq's file in dir (-1: none). */
static long long run_file_size(const char *dir, uint64_t seq) {
    char path[1200];
    snprintf(path, sizeof path, "%s/t-%llu.run", dir, (unsigned long long)seq);
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* A background merge beside a watcher's block (ch_store_hold_background):
 * while the writer holds it, it writes nothing; released, it finishes
 * with every key; held for good, it still finishes (each hold is
 * bounded), with every key. */
static void test_a_held_merge_writes_nothing_until_released(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    st_runs r;
    ch_error err;
    open_filtered(&r, dir, "t");
    st_run_hold hold = {.max_ms = 60000}; /* for the test: no bound to race */
    atomic_init(&hold.on, true);
    r.background = true;
    r.hold = &hold;
    enum { BIG = 300000, SMALL = 2000 };
    st_run_item *all = malloc(sizeof *all * (2 * BIG + 2 * SMALL));
    size_t n_all = 0;
    uint64_t seq = 1;
    for (int k = 0; k < 2; k++)
        add_published(&r, all, &n_all, BIG, &seq);
    uint64_t merged = seq++;
    assert_int_equal(st_runs_merge_start(&r, merged), 1);
    struct timespec t = {0, 300 * 1000000}; /* unheld, it writes 1 MiB at a time */
    nanosleep(&t, NULL);
    assert_int_equal(run_file_size(dir, merged), 0);    /* opened, nothing written */
    assert_int_equal(st_runs_merge_adopt(&r, &err), 0); /* still running */
    check_all_keys(&r, all, n_all);
    atomic_store(&hold.on, false);
    assert_int_equal(st_runs_merge_wait(&r, &err), 0);
    st_runs_publish(&r);
    assert_int_equal(r.n, 1);
    assert_int_equal(run_file_size(dir, merged), (long long)n_all * ST_RUN_REC);
    check_all_keys(&r, all, n_all);
    /* held and never released: the merge goes on, a bounded wait at a time */
    hold.max_ms = 20;
    atomic_store(&hold.on, true);
    for (int k = 0; k < 2; k++)
        add_published(&r, all, &n_all, SMALL, &seq);
    assert_int_equal(st_runs_merge_start(&r, seq++), 1); /* the two small runs */
    assert_int_equal(st_runs_merge_wait(&r, &err), 0);
    st_runs_publish(&r);
    assert_int_equal(r.n, 2);
    assert_int_equal(st_runs_entries(&r), n_all);
    check_all_keys(&r, all, n_all);
    st_runs_close(&r);
    free(all);
    tu_rmrf(dir);
    free(dir);
}

/* A writer killed (SIGKILL) while a merge writes its new run: the runs
 * its last published list names are whole, every key is found, and the
 * merge's file is swept by the next writer's open. */
static void test_kill_during_a_background_merge(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    enum { BIG = 400000 };
    st_run_item *all = malloc(sizeof *all * 3 * BIG);
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    for (int k = 0; k < 3; k++)
        make_batch(all, (size_t)k * BIG, BIG); /* the same items in both processes */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        st_runs r;
        ch_error err;
        if (st_runs_open(&r, dir, "t", NULL, NULL, 0, &err) != 0 || st_runs_use_filters(&r, &err))
            _exit(1);
        r.background = true;
        uint64_t seq = 1;
        for (int k = 0; k < 3; k++) {
            if (st_runs_add(&r, all + (size_t)k * BIG, BIG, seq++, &err) != 0) _exit(1);
            st_runs_publish(&r);
        }
        uint64_t list[1 + 2 * (ST_RUNS_MAX + 1)];
        size_t n = st_runs_list(&r, list + 1, list + 1 + ST_RUNS_MAX + 1);
        list[0] = n;
        if (st_runs_merge_start(&r, seq) != 1) _exit(1);
        /* the list is what a commit recorded; the merge now runs */
        if (write(pipefd[1], list, sizeof list) != (ssize_t)sizeof list) _exit(1);
        pause();
        _exit(0);
    }
    uint64_t list[1 + 2 * (ST_RUNS_MAX + 1)];
    assert_int_equal(read(pipefd[0], list, sizeof list), (ssize_t)sizeof list);
    usleep(20000); /* well inside the merge of 1.2M entries */
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    close(pipefd[0]);
    close(pipefd[1]);
    size_t n = (size_t)list[0];
    assert_int_equal(n, 3);
    st_runs r;
    ch_error err;
    assert_int_equal(st_runs_open(&r, dir, "t", list + 1, list + 1 + ST_RUNS_MAX + 1, n, &err), 0);
    st_runs_sweep(&r);
    assert_int_equal(count_run_files(dir), 3);
    check_all_keys(&r, all, 3 * BIG);
    st_runs_close(&r);
    free(all);
    tu_rmrf(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs_find_every_key_after_merges),
        cmocka_unit_test(test_filters_never_hide_a_key),
        cmocka_unit_test(test_fenced_lookups_find_what_the_mapping_search_finds),
        cmocka_unit_test(test_background_merges_keep_every_key),
        cmocka_unit_test(test_a_held_merge_writes_nothing_until_released),
        cmocka_unit_test(test_kill_during_a_background_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

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
#include <sys/stat.h>
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs_find_every_key_after_merges),
        cmocka_unit_test(test_filters_never_hide_a_key),
        cmocka_unit_test(test_fenced_lookups_find_what_the_mapping_search_finds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

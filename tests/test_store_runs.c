/* The sorted-run index (src/store/runs.h) against a plain array oracle:
 * after many batches, merged or not, every key finds exactly the values it
 * was given, oldest first; absent keys find nothing; the run count stays
 * logarithmic; a staged run that is not published leaves no trace; and the
 * files a crashed writer left are swept. */
#include "support/testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/runs.h"

static uint64_t rng = 88172645463325252ULL;
static uint64_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs_find_every_key_after_merges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

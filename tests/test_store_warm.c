/* ch_store_warm_maps (src/store/warm.c): a writer that has just opened a
 * store finds the cached pages of its runs and columns mapped, so that
 * its first look-ups do not fault on each page they touch; nothing on
 * disk changes, and no more than the bound asked is mapped. The oracles
 * are the kernel's: the resident bytes of the store's mappings in this
 * process (/proc/self/smaps), and its count of the process's minor faults
 * (getrusage) over the same look-ups from a fresh opening without the
 * warm-up (not under AddressSanitizer, whose shadow memory faults too). */
#include "support/testutil.h"
#include "support/storecmp.h"
#include "support/genchain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "coinhound/store.h"

/* Resident bytes of this process's mappings of files under dir. */
static uint64_t mapped_resident(const char *dir) {
    FILE *f = fopen("/proc/self/smaps", "r");
    assert_non_null(f);
    char line[4096];
    bool ours = false;
    uint64_t total = 0;
    size_t n = strlen(dir);
    while (fgets(line, sizeof line, f)) {
        unsigned long kb;
        const char *path = strchr(line, '/');
        if (strchr(line, '-') && strchr(line, '-') < strchr(line, ' ') && line[0] != ' ')
            ours = path && !strncmp(path, dir, n); /* a mapping's first line */
        else if (ours && sscanf(line, "Rss: %lu kB", &kb) == 1)
            total += (uint64_t)kb * 1024;
    }
    fclose(f);
    return total;
}

static long minor_faults(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

/* The writer's look-up of every txid, and a read of each tx's first
 * output: the minor faults it took. */
static long lookups_faults(ch_store *s, const ch_hash256 *ids, uint64_t n) {
    long f0 = minor_faults();
    ch_error err;
    volatile uint64_t sink = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t tx;
        if (ch_store_writer_find_tx(s, &ids[i], &tx, &err) != 1)
            fail_msg("tx %llu not found", (unsigned long long)i);
        uint64_t first, count;
        ch_store_tx_outputs(s, tx, &first, &count);
        if (count) sink += ch_out_value_type(ch_store_output(s, first));
    }
    (void)sink;
    return minor_faults() - f0;
}

static void test_warm_maps_spare_the_first_lookups_their_faults_and_change_nothing(void **state) {
    (void)state;
    tu_genchain g;
    tu_genchain_make(&g, 31, 150000);
    ch_store_counts c;
    ch_store_get_counts(g.s, &c);
    assert_true(c.txs > 150000);
    ch_hash256 *ids = malloc(c.txs * sizeof *ids);
    assert_non_null(ids);
    for (uint64_t i = 0; i < c.txs; i++)
        ch_store_txid(g.s, i, &ids[i]);
    ch_store_close(g.s); /* the reader goes, the store stays */
    g.s = NULL;
    char *copy = tu_tmpdir(), cmd[3000];
    snprintf(cmd, sizeof cmd, "cp -a %s/. %s/", g.db, copy);
    assert_int_equal(system(cmd), 0);
    ch_store *s;
    ch_error err;
    /* a fresh opening: its mappings have no page-table entry yet */
    if (ch_store_open(g.db, "btc", CH_STORE_WRITE, &s, &err) != 0) fail_msg("%s", err.msg);
    long cold = lookups_faults(s, ids, c.txs);
    ch_store_close(s);
    if (ch_store_open(g.db, "btc", CH_STORE_WRITE, &s, &err) != 0) fail_msg("%s", err.msg);
    /* a bound of three pages maps three pages at most */
    assert_true(ch_store_warm_maps(s, 3 * 4096) <= 3 * 4096);
    ch_store_close(s);
    if (ch_store_open(g.db, "btc", CH_STORE_WRITE, &s, &err) != 0) fail_msg("%s", err.msg);
    uint64_t before = mapped_resident(g.db);
    uint64_t mapped = ch_store_warm_maps(s, UINT64_MAX / 2);
    uint64_t after = mapped_resident(g.db);
    long warm = lookups_faults(s, ids, c.txs);
    ch_store_close(s);
    /* the files were just written: cached, and now mapped into this
     * process; the look-ups then fault a small fraction of what they did */
    assert_true(mapped > 1000000);
    if (after < mapped * 9 / 10 || after < before + mapped / 2)
        fail_msg("resident in the store's mappings: %llu bytes before, %llu after %llu mapped",
                 (unsigned long long)before, (unsigned long long)after, (unsigned long long)mapped);
    assert_true(cold >= 100);
    if (!TU_UNDER_ASAN && warm * 4 > cold)
        fail_msg("minor faults: %ld without the warm-up, %ld with it", cold, warm);
    /* nothing on disk changed */
    tu_assert_same_store(g.db, copy, "btc");
    /* a reader has no writer's maps to warm */
    if (ch_store_open(g.db, "btc", CH_STORE_READ, &s, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(ch_store_warm_maps(s, UINT64_MAX / 2), 0);
    ch_store_close(s);
    tu_rmrf(copy);
    free(copy);
    free(ids);
    tu_genchain_close(&g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_warm_maps_spare_the_first_lookups_their_faults_and_change_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

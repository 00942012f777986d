/* Labels live in the attribution store: imported once (`intel import`), a
 * trace reads them from there and gives, byte for byte, the answer the same
 * trace gives when handed the label file (--labels FILE, parsed on every
 * run), without the file.
 *
 * Oracle: the --labels path itself, an independent reader of the same file
 * (CSV rows resolved to address ids when loaded, against the store's lazy
 * lookups by canonical string). Run on a generated chain with a planted
 * theft (coinhound-gen, tests/support/genchain.h), whose labels.csv names
 * the exchanges its funds reach, and on the chain's own labelled addresses
 * as sources; a trace without any labels must differ for the labels to
 * have been asked at all. */
#include "support/testutil.h"
#include "support/genchain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/store.h"

static tu_genchain g_chain;

static int setup(void **state) {
    (void)state;
    tu_genchain_make(&g_chain, 7, 3000);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    tu_genchain_close(&g_chain);
    return 0;
}

/* `coinhound ARGS` (stderr kept apart): its output; fails on a non-zero exit. */
static char *run_ok(const char *args) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s %s 2>/dev/null", tu_bin("coinhound"), args);
    int st;
    char *o = tu_run(cmd, &st);
    if (st != 0) fail_msg("'%s': exit %d: %s", args, st, o ? o : "");
    assert_non_null(o);
    return o;
}

/* The theft's txid, from the generator's theft.json. */
static void theft_txid(char out[65]) {
    char path[1200];
    snprintf(path, sizeof path, "%s/theft.json", g_chain.blocks);
    size_t n;
    char *j = (char *)tu_read_file(path, &n);
    assert_non_null(j);
    const char *p = strstr(j, "\"theft_txid\":\"");
    assert_non_null(p);
    memcpy(out, p + 14, 64);
    out[64] = '\0';
    free(j);
}

static void test_store_labels_trace_as_the_label_file_does(void **state) {
    (void)state;
    char csv[1200], txid[65], args[4096];
    snprintf(csv, sizeof csv, "%s/labels.csv", g_chain.blocks);
    theft_txid(txid);
    /* sources: the theft, and transactions spread over the chain */
    enum { N = 12 };
    char from[N][65];
    memcpy(from[0], txid, sizeof txid);
    ch_store_counts c;
    ch_store_get_counts(g_chain.s, &c);
    for (size_t i = 1; i < N; i++) {
        ch_hash256 h;
        ch_store_txid(g_chain.s, c.txs * i / (N + 1), &h);
        ch_hash256_to_hex(&h, from[i]);
    }
    static const char *const FORMS[] = {"--json", "--csv"};
    char *with_file[N][2], *bare[N][2];
    for (size_t i = 0; i < N; i++)
        for (size_t f = 0; f < 2; f++) {
            snprintf(args, sizeof args, "trace --db %s --from %s --labels %s %s", g_chain.db,
                     from[i], csv, FORMS[f]);
            with_file[i][f] = run_ok(args);
            snprintf(args, sizeof args, "trace --db %s --from %s %s", g_chain.db, from[i],
                     FORMS[f]);
            bare[i][f] = run_ok(args);
        }
    /* imported once */
    snprintf(args, sizeof args, "intel import --source generator %s --db %s", csv, g_chain.db);
    free(run_ok(args));
    size_t differed = 0;
    for (size_t i = 0; i < N; i++)
        for (size_t f = 0; f < 2; f++) {
            snprintf(args, sizeof args, "trace --db %s --from %s %s", g_chain.db, from[i],
                     FORMS[f]);
            char *from_store = run_ok(args);
            if (strcmp(from_store, with_file[i][f]) != 0)
                fail_msg("trace from %s %s: the store's labels give\n%s\nthe file's\n%s", from[i],
                         FORMS[f], from_store, with_file[i][f]);
            differed += strcmp(from_store, bare[i][f]) != 0;
            free(from_store);
            free(with_file[i][f]);
            free(bare[i][f]);
        }
    /* the theft's funds reach labelled exchanges: the labels were asked */
    assert_true(differed > 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_labels_trace_as_the_label_file_does),
    };
    return cmocka_run_group_tests_name("trace labels in the store", tests, setup, teardown);
}

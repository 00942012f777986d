/* Cluster labels through the precomputed index (ch_cluster_labels_indexed)
 * say exactly what the walk says (ch_cluster_labels, the oracle): the same
 * members, attributions and order, the same hit, for every address of a
 * generated chain, with many labels (the walk goes member by member) and
 * with few (the walk goes through the attribution store, the clusters being
 * larger than it); and a screener screening many addresses (it builds the
 * index from the second) gives each the verdict it gives alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "coinhound/address.h"
#include "coinhound/cluster.h"
#include "coinhound/gen.h"
#include "coinhound/ingest.h"
#include "coinhound/intel.h"
#include "coinhound/jsonw.h"
#include "coinhound/screener.h"
#include "coinhound/store.h"
#include "support/testutil.h"

/* A generated chain, ingested and clustered, in a fresh folder. */
static char *clustered_chain(uint64_t txs) {
    char *dir = tu_tmpdir();
    char blk[4200];
    snprintf(blk, sizeof blk, "%s/blk", dir);
    ch_gen_opts g;
    ch_gen_opts_init(&g);
    g.out_dir = blk;
    g.txs = txs;
    g.seed = 23;
    ch_error err;
    if (ch_gen_run(&g, NULL, &err) != 0) fail_msg("%s", err.msg);
    ch_ingest_opts io = {.progress = 0};
    ch_ingest_stats st;
    if (ch_ingest_btc(blk, dir, &io, &st, &err) != 0) fail_msg("%s", err.msg);
    ch_cluster_opts o = {.change = true, .progress = 0};
    ch_cluster_meta m;
    if (ch_cluster_build(dir, &o, &m, NULL, &err) != 0) fail_msg("%s", err.msg);
    return dir;
}

/* Label every `every`-th address of a cluster of two or more (a second
 * label on every third of those), at most `max` addresses, as a CSV
 * imported into DIR/intel. Returns how many addresses were labelled. */
static size_t label_some(const char *dir, ch_store *s, const ch_clusters *c, size_t every,
                         size_t max) {
    char path[4200];
    snprintf(path, sizeof path, "%s/labels.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "address,category,entity\n");
    ch_store_counts n;
    ch_store_get_counts(s, &n);
    size_t seen = 0, labelled = 0;
    for (uint64_t i = 0; i < n.addresses && labelled < max; i++) {
        ch_addr_id id = ch_store_addr_id_at(s, i);
        if (ch_cluster_size(c, id) < 2 || seen++ % every) continue;
        ch_addr a;
        char str[CH_ADDR_STR_MAX];
        ch_store_addr_of(s, id, &a);
        if (ch_addr_to_string(&a, ch_store_addr_net(s), str) != 0) continue;
        fprintf(f, "%s,exchange,Desk %zu\n", str, labelled % 4);
        if (labelled % 3 == 0) fprintf(f, "%s,scam,Ring %zu\n", str, labelled % 5);
        labelled++;
    }
    fclose(f);
    ch_intel *db;
    ch_error err;
    if (ch_intel_open(dir, true, &db, &err) != 0) fail_msg("%s", err.msg);
    ch_import_opts io;
    memset(&io, 0, sizeof io);
    ch_import_stats st;
    if (ch_intel_import(db, path, &io, &st, &err) != 0) fail_msg("%s", err.msg);
    ch_intel_close(db);
    return labelled;
}

/* What a walk reported, as text: one line per attribution. */
typedef struct said {
    char *text;
    size_t n, cap;
} said;

static int note(const char *member, const ch_attribution *a, void *ctx) {
    said *w = ctx;
    char line[1024];
    int k = snprintf(line, sizeof line, "%s|%s|%s|%s|%d\n", member, a->address, a->category,
                     a->entity, a->case_folded);
    if (w->n + (size_t)k + 1 > w->cap) {
        w->cap = (w->cap + (size_t)k + 1) * 2;
        w->text = realloc(w->text, w->cap);
        assert_non_null(w->text);
    }
    memcpy(w->text + w->n, line, (size_t)k + 1);
    w->n += (size_t)k;
    return 0;
}

/* Every address of the store through both: equal. Returns the attributions
 * reported in all and, through *large, how many addresses sat in a cluster
 * larger than the attribution store (the walk's other branch). */
static uint64_t compare_all(const char *dir, uint64_t *large) {
    ch_store *s;
    ch_clusters *c;
    ch_intel *db;
    ch_error err;
    if (ch_store_open(dir, "btc", CH_STORE_READ, &s, &err) != 0 ||
        ch_clusters_open_for(s, dir, "btc", &c, &err) != 0 ||
        ch_intel_open(dir, false, &db, &err) != 0)
        fail_msg("%s", err.msg);
    ch_cluster_label_index *x;
    if (ch_cluster_label_index_build(s, c, db, &x, &err) != 0) fail_msg("%s", err.msg);
    ch_intel_counts ic;
    assert_int_equal(ch_intel_counts_get(db, &ic, &err), 0);
    ch_store_counts n;
    ch_store_get_counts(s, &n);
    uint64_t reported = 0;
    *large = 0;
    for (uint64_t i = 0; i < n.addresses; i++) {
        ch_addr_id id = ch_store_addr_id_at(s, i);
        ch_addr a;
        char str[CH_ADDR_STR_MAX];
        ch_store_addr_of(s, id, &a);
        if (ch_addr_to_string(&a, ch_store_addr_net(s), str) != 0) continue;
        said w1 = {0}, w2 = {0};
        ch_cluster_hit h1, h2;
        assert_int_equal(ch_cluster_labels(s, c, db, str, note, &w1, &h1, &err), 0);
        assert_int_equal(ch_cluster_labels_indexed(s, c, db, x, str, note, &w2, &h2, &err), 0);
        assert_int_equal(h1.cluster, h2.cluster);
        assert_int_equal(h1.size, h2.size);
        assert_int_equal(h1.labelled, h2.labelled);
        assert_string_equal(w1.text ? w1.text : "", w2.text ? w2.text : "");
        reported += h1.labelled;
        if (h1.size > ic.addresses) (*large)++;
        free(w1.text);
        free(w2.text);
    }
    ch_cluster_label_index_free(x);
    ch_intel_close(db);
    ch_clusters_close(c);
    ch_store_close(s);
    return reported;
}

static size_t label_store(const char *dir, size_t every, size_t max) {
    ch_store *s;
    ch_clusters *c;
    ch_error err;
    if (ch_store_open(dir, "btc", CH_STORE_READ, &s, &err) != 0 ||
        ch_clusters_open_for(s, dir, "btc", &c, &err) != 0)
        fail_msg("%s", err.msg);
    size_t k = label_some(dir, s, c, every, max);
    ch_clusters_close(c);
    ch_store_close(s);
    return k;
}

static void test_index_says_what_the_member_walk_says(void **state) {
    (void)state;
    char *dir = clustered_chain(3000);
    size_t k = label_store(dir, 3, 100000);
    assert_true(k > 50);
    uint64_t large;
    uint64_t reported = compare_all(dir, &large);
    assert_true(reported > 100); /* labels did reach fellow members */
    tu_rmrf(dir);
    free(dir);
}

static void test_index_says_what_the_label_walk_says(void **state) {
    (void)state;
    char *dir = clustered_chain(3000);
    size_t k = label_store(dir, 5, 3); /* 3 labelled addresses: clusters outgrow the store */
    assert_int_equal(k, 3);
    uint64_t large;
    uint64_t reported = compare_all(dir, &large);
    assert_true(large > 0); /* the label-walk branch was taken */
    assert_true(reported > 0);
    tu_rmrf(dir);
    free(dir);
}

/* A verdict as JSON text. */
static char *verdict_json(ch_screener *sc, const char *addr) {
    ch_verdict *v = ch_verdict_new();
    assert_non_null(v);
    ch_screener_screen(sc, addr, v);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ch_jw w;
    ch_jw_init(&w, f);
    ch_verdict_write_json(v, &w, NULL);
    fclose(f);
    ch_verdict_free(v);
    return buf;
}

static void test_screener_many_addresses_as_one_by_one(void **state) {
    (void)state;
    char *dir = clustered_chain(2000);
    label_store(dir, 4, 100000);
    ch_store *s;
    ch_error err, warn;
    if (ch_store_open(dir, "btc", CH_STORE_READ, &s, &err) != 0) fail_msg("%s", err.msg);
    ch_store_counts n;
    ch_store_get_counts(s, &n);
    ch_screener_opts o;
    ch_screener_opts_init(&o);
    o.db = dir;
    o.max_hops = 0;
    ch_screener *many;
    if (ch_screener_open(&o, &many, &warn, &err) != 0) fail_msg("%s", err.msg);
    size_t via_cluster = 0;
    for (uint64_t i = 0; i < n.addresses && i < 400; i++) {
        ch_addr a;
        char str[CH_ADDR_STR_MAX];
        ch_store_addr_of(s, ch_store_addr_id_at(s, i), &a);
        if (ch_addr_to_string(&a, ch_store_addr_net(s), str) != 0) continue;
        ch_screener *one; /* a fresh screener: its first address, by the walk */
        if (ch_screener_open(&o, &one, &warn, &err) != 0) fail_msg("%s", err.msg);
        char *j1 = verdict_json(one, str), *j2 = verdict_json(many, str);
        assert_string_equal(j1, j2);
        via_cluster += strstr(j1, "Desk ") != NULL;
        free(j1);
        free(j2);
        ch_screener_close(one, NULL);
    }
    assert_true(via_cluster > 10);
    ch_screener_close(many, NULL);
    ch_store_close(s);
    tu_rmrf(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_says_what_the_member_walk_says),
        cmocka_unit_test(test_index_says_what_the_label_walk_says),
        cmocka_unit_test(test_screener_many_addresses_as_one_by_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

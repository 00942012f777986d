/* Cluster labels through the precomputed index (ch_cluster_labels_indexed)
 * say exactly what the walk says (ch_cluster_labels, the oracle): the same
 * members, attributions and order, the same hit, for every address of a
 * generated chain, with many labels (the walk goes member by member) and
 * with few (the walk goes through the attribution store, the clusters being
 * larger than it); and a screener screening many addresses (it builds the
 * index from the second) gives each the verdict it gives alone, also after
 * labels were imported and the clusters built again; a refresh that finds
 * nothing new keeps the index, one after the clusters were built again
 * drops it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "coinhound/address.h"
#include "coinhound/cluster.h"
#include "coinhound/gen.h"
#include "coinhound/ingest.h"
#include "coinhound/intel.h"
#include "coinhound/jsonw.h"
#include "coinhound/screener.h"
#include "coinhound/store.h"
#include "screen/screener_internal.h"
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

/* dir's store and its clusters, opened to read (fails the test when they
 * cannot be). */
static void open_clustered(const char *dir, ch_store **s, ch_clusters **c) {
    ch_error err;
    if (ch_store_open(dir, "btc", CH_STORE_READ, s, &err) != 0 ||
        ch_clusters_open_for(*s, dir, "btc", c, &err) != 0)
        fail_msg("%s", err.msg);
}

static size_t label_store(const char *dir, size_t every, size_t max) {
    ch_store *s;
    ch_clusters *c;
    open_clustered(dir, &s, &c);
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

/* The chain the screener's tests read: clustered_chain of 2000
 * transactions, every 4th address of it labelled. */
static char *labelled_chain(void) {
    char *dir = clustered_chain(2000);
    label_store(dir, 4, 100000);
    return dir;
}

/* A screener of dir whose labels reach an address through its cluster
 * alone (max_hops 0: no indirect exposure), or NULL with err set. */
static ch_screener *cluster_screener(const char *dir, ch_error *err) {
    ch_screener_opts o;
    ch_screener_opts_init(&o);
    o.db = dir;
    o.max_hops = 0;
    ch_screener *sc;
    ch_error warn;
    return ch_screener_open(&o, &sc, &warn, err) == 0 ? sc : NULL;
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
    char *dir = labelled_chain();
    ch_store *s;
    ch_error err;
    if (ch_store_open(dir, "btc", CH_STORE_READ, &s, &err) != 0) fail_msg("%s", err.msg);
    ch_store_counts n;
    ch_store_get_counts(s, &n);
    ch_screener *many = cluster_screener(dir, &err);
    if (!many) fail_msg("%s", err.msg);
    size_t via_cluster = 0;
    for (uint64_t i = 0; i < n.addresses && i < 400; i++) {
        ch_addr a;
        char str[CH_ADDR_STR_MAX];
        ch_store_addr_of(s, ch_store_addr_id_at(s, i), &a);
        if (ch_addr_to_string(&a, ch_store_addr_net(s), str) != 0) continue;
        ch_screener *one = cluster_screener(dir, &err); /* fresh: its first address, by the walk */
        if (!one) fail_msg("%s", err.msg);
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

/* A CSV of one label (address,category,entity) imported into DIR/intel, by
 * another process (LMDB: one environment open once in a process, and the
 * screener under test holds the store's). */
static void import_label(const char *dir, const char *addr, const char *category,
                         const char *entity) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid > 0) {
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        return;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/more.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "address,category,entity\n%s,%s,%s\n", addr, category, entity);
    fclose(f);
    ch_intel *db;
    ch_error err;
    if (ch_intel_open(dir, true, &db, &err) != 0) _exit(1);
    ch_import_opts io;
    memset(&io, 0, sizeof io);
    ch_import_stats st;
    if (ch_intel_import(db, path, &io, &st, &err) != 0) _exit(1);
    ch_intel_close(db);
    _exit(0);
}

/* The chain of dir clustered again without the change heuristic, by
 * another process (as import_label). */
static void recluster(const char *dir) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ch_cluster_opts co = {.change = false, .progress = 0};
        ch_cluster_meta m;
        ch_error err;
        _exit(ch_cluster_build(dir, &co, &m, NULL, &err) != 0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Every address of list[0..n) screened by sc (its cluster views kept from
 * earlier addresses) and by a fresh screener each (the walk, nothing kept):
 * the same verdict. The fresh ones screen in another process: closing a
 * second handle on the store in this one would end sc's reader slot
 * (LMDB). Returns how many said "severe". */
static size_t same_as_fresh(ch_screener *sc, const char *dir, char (*list)[CH_ADDR_STR_MAX],
                            size_t n) {
    char path[4200];
    snprintf(path, sizeof path, "%s/fresh.jsonl", dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *f = fopen(path, "w");
        for (size_t i = 0; f && i < n; i++) {
            ch_error err;
            ch_screener *one = cluster_screener(dir, &err);
            if (!one) _exit(1);
            char *j = verdict_json(one, list[i]);
            fprintf(f, "%s\n", j);
            free(j);
            ch_screener_close(one, NULL);
        }
        _exit(!f || fclose(f) != 0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0, severe = 0;
    for (size_t i = 0; i < n; i++) {
        ssize_t len = getline(&line, &cap, f);
        assert_true(len > 1);
        line[len - 1] = '\0';
        char *mine = verdict_json(sc, list[i]);
        assert_string_equal(line, mine);
        severe += strstr(mine, "\"risk\":\"severe\"") != NULL;
        free(mine);
    }
    free(line);
    fclose(f);
    return severe;
}

/* The views a screener keeps of its clusters' labels give what the walk
 * gives, and go when what they came from changes: a sanctions label
 * imported on one member of the largest cluster (its view kept, warm)
 * reaches every member at once, never "clean"; the cluster file built
 * again otherwise (without the change heuristic) is taken by a refresh. */
static void test_screener_views_follow_labels_and_clusters(void **state) {
    (void)state;
    char *dir = labelled_chain();
    ch_store *s;
    ch_clusters *c;
    ch_error err;
    open_clustered(dir, &s, &c);
    ch_store_counts n;
    ch_store_get_counts(s, &n);
    /* the largest cluster, and up to 40 of its members */
    ch_addr_id big = 0;
    uint32_t big_size = 0;
    for (uint64_t i = 0; i < n.addresses; i++) {
        ch_addr_id id = ch_store_addr_id_at(s, i);
        if (ch_cluster_size(c, id) > big_size)
            big_size = ch_cluster_size(c, id), big = ch_cluster_of(c, id);
    }
    assert_true(big_size >= 10);
    enum { MAX = 40 };
    char(*members)[CH_ADDR_STR_MAX] = calloc(MAX, CH_ADDR_STR_MAX);
    assert_non_null(members);
    size_t nm = 0;
    for (uint64_t i = 0; i < n.addresses && nm < MAX; i++) {
        ch_addr_id id = ch_store_addr_id_at(s, i);
        ch_addr a;
        ch_store_addr_of(s, id, &a);
        if (ch_cluster_of(c, id) == big &&
            ch_addr_to_string(&a, ch_store_addr_net(s), members[nm]) == 0)
            nm++;
    }
    ch_clusters_close(c);
    ch_store_close(s);
    assert_true(nm >= 10);

    ch_screener *sc = cluster_screener(dir, &err);
    if (!sc) fail_msg("%s", err.msg);
    assert_int_equal(same_as_fresh(sc, dir, members, nm), 0); /* kept: the cluster's view */
    /* a sanctions listing on one member: every member severe, at once */
    import_label(dir, members[nm / 2], "sanctions", "Sanctioned Desk");
    assert_int_equal(same_as_fresh(sc, dir, members, nm), nm);

    /* nothing new since: a refresh keeps the labels' index and its views */
    const ch_cluster_label_index *ix = scr_screener_labels_index(sc);
    assert_non_null(ix);
    assert_int_equal(ch_screener_refresh(sc, &err), 0);
    assert_ptr_equal(scr_screener_labels_index(sc), ix);
    assert_int_equal(ch_screener_refresh(sc, &err), 0);
    assert_ptr_equal(scr_screener_labels_index(sc), ix);

    /* clustered again without change outputs: other clusters */
    char *before = verdict_json(sc, members[0]);
    recluster(dir);
    if (ch_screener_refresh(sc, &err) != 1) fail_msg("not taken: %s", err.msg);
    assert_null(scr_screener_labels_index(sc)); /* built from the old clusters: gone */
    char *after = verdict_json(sc, members[0]);
    assert_string_not_equal(before, after); /* the cluster changed: so did its verdict */
    same_as_fresh(sc, dir, members, nm);
    free(before);
    free(after);
    ch_screener_close(sc, NULL);
    free(members);
    tu_rmrf(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_says_what_the_member_walk_says),
        cmocka_unit_test(test_index_says_what_the_label_walk_says),
        cmocka_unit_test(test_screener_many_addresses_as_one_by_one),
        cmocka_unit_test(test_screener_views_follow_labels_and_clusters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

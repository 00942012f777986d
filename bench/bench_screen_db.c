/* Benchmark (not a test): screening against a database with clusters
 * (`coinhound screen --db`), addresses per second, the cluster labels
 * through the walk (ch_cluster_labels: each address walks its cluster's
 * members, or the whole attribution store when the cluster is larger) as
 * the baseline, against the index precomputed per cluster
 * (ch_cluster_labels_indexed), in the same run, on the same addresses.
 *
 *   bench_screen_db [--quick] [--txs N] [--labels N] [--keep DIR]
 *
 * Generates a chain (400k transactions, 50k with --quick), ingests and
 * clusters it (multi-input and change), labels --labels addresses (default
 * 50,000; the real OFAC + TagPack store had 236k) spread over the clustered
 * addresses (a cluster's labels mostly name one entity, one in ten
 * another), then screens addresses drawn from the clustered ones: the walk
 * for up to 5 seconds, the index for all of them; and the whole verdict
 * through ch_screener_screen (which builds the index on its second address)
 * with exposure off. CPU time of the thread. Target: 100k addresses/s of whole verdicts
 * (what screen --db answers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coinhound/address.h"
#include "coinhound/cluster.h"
#include "coinhound/gen.h"
#include "coinhound/ingest.h"
#include "coinhound/intel.h"
#include "coinhound/screener.h"
#include "coinhound/store.h"

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const ch_error *err) {
    fprintf(stderr, "%s: %s\n", what, err->msg);
    exit(2);
}

static int count_label(const char *member, const ch_attribution *a, void *ctx) {
    (void)member;
    (void)a;
    (*(uint64_t *)ctx)++;
    return 0;
}

int main(int argc, char **argv) {
    uint64_t txs = 400000, labels = 50000;
    const char *keep = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            txs = 50000, labels = 5000;
        else if (!strcmp(argv[i], "--txs") && i + 1 < argc)
            txs = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--labels") && i + 1 < argc)
            labels = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--keep") && i + 1 < argc)
            keep = argv[++i];
        else {
            fprintf(stderr,
                    "usage: bench_screen_db [--quick] [--txs N] [--labels N] [--keep DIR]\n");
            return 2;
        }
    }
    char tmpl[] = "/tmp/bench_screen_db_XXXXXX";
    const char *dir = keep;
    if (!dir && !(dir = mkdtemp(tmpl))) {
        perror("mkdtemp");
        return 2;
    }
    ch_error err, warn;
    ch_store *s;
    char blk[4200], csv[4200];
    snprintf(blk, sizeof blk, "%s/blk", dir);
    snprintf(csv, sizeof csv, "%s/labels.csv", dir);
    if (ch_store_open(dir, "btc", CH_STORE_READ, &s, &err) != 0) { /* not kept: build it */
        double t0 = now();
        ch_gen_opts g;
        ch_gen_opts_init(&g);
        g.out_dir = blk;
        g.txs = txs;
        g.seed = 5;
        if (ch_gen_run(&g, NULL, &err) != 0) die("gen", &err);
        ch_ingest_opts io = {.progress = 0};
        ch_ingest_stats st;
        if (ch_ingest_btc(blk, dir, &io, &st, &err) != 0) die("ingest", &err);
        ch_cluster_opts o = {.change = true, .progress = 0};
        ch_cluster_meta m;
        if (ch_cluster_build(dir, &o, &m, NULL, &err) != 0) die("cluster", &err);
        if (ch_store_open(dir, "btc", CH_STORE_READ, &s, &err) != 0) die("open", &err);
        printf("built the chain, store and clusters in %.1f s\n", now() - t0);
    }
    ch_clusters *c;
    if (ch_clusters_open_for(s, dir, "btc", &c, &err) != 0) die("clusters", &err);
    ch_store_counts n;
    ch_store_get_counts(s, &n);
    /* the clustered addresses: labels go to some, queries to all */
    ch_addr_id *clustered = malloc(n.addresses * sizeof *clustered);
    if (!clustered) return 2;
    size_t nc = 0;
    uint32_t largest = 0;
    for (uint64_t i = 0; i < n.addresses; i++) {
        ch_addr_id id = ch_store_addr_id_at(s, i);
        uint32_t sz = ch_cluster_size(c, id);
        if (sz < 2) continue;
        clustered[nc++] = id;
        if (sz > largest) largest = sz;
    }
    char path[4300];
    snprintf(path, sizeof path, "%s/intel", dir);
    if (access(path, F_OK) != 0) {
        FILE *f = fopen(csv, "w");
        if (!f) return 2;
        fprintf(f, "address,category,entity\n");
        uint64_t step = nc / (labels ? labels : 1);
        if (step == 0) step = 1;
        for (size_t i = 0, k = 0; i < nc && k < labels; i += step, k++) {
            ch_addr a;
            char str[CH_ADDR_STR_MAX];
            ch_store_addr_of(s, clustered[i], &a);
            /* a cluster is one owner: its labelled members mostly name it
             * alike (one in ten another way: a second source, a mistake) */
            ch_addr_id cl = ch_cluster_of(c, clustered[i]);
            if (ch_addr_to_string(&a, ch_store_addr_net(s), str) == 0)
                fprintf(f, "%s,%s,Entity %u\n", str, cl % 2 ? "exchange" : "scam",
                        k % 10 ? (unsigned)(cl % 997) : (unsigned)(k % 97));
        }
        fclose(f);
        ch_intel *w;
        if (ch_intel_open(dir, true, &w, &err) != 0) die("intel", &err);
        ch_import_opts io;
        memset(&io, 0, sizeof io);
        ch_import_stats st;
        if (ch_intel_import(w, csv, &io, &st, &err) != 0) die("import", &err);
        ch_intel_close(w);
    }
    ch_intel *db;
    if (ch_intel_open(dir, false, &db, &err) != 0) die("intel", &err);
    ch_intel_counts ic;
    if (ch_intel_counts_get(db, &ic, &err) != 0) die("intel", &err);
    printf("chain: %llu txs, %llu addresses, %zu in clusters of two or more (largest %u); "
           "%llu labelled addresses\n",
           (unsigned long long)n.txs, (unsigned long long)n.addresses, nc, largest,
           (unsigned long long)ic.addresses);

    /* the queries: clustered addresses in a scattered order */
    size_t nq = nc < 200000 ? nc : 200000;
    char(*q)[CH_ADDR_STR_MAX] = malloc(nq * CH_ADDR_STR_MAX);
    if (!q) return 2;
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < nq; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        ch_addr a;
        ch_store_addr_of(s, clustered[x % nc], &a);
        if (ch_addr_to_string(&a, ch_store_addr_net(s), q[i]) != 0) q[i][0] = '\0';
    }

    /* the baseline: the walk, for up to 5 s of CPU */
    uint64_t walk_labels = 0;
    size_t walked = 0;
    double c0 = cpu_now();
    for (; walked < nq && cpu_now() - c0 < 5.0; walked++)
        if (ch_cluster_labels(s, c, db, q[walked], count_label, &walk_labels, NULL, &err) != 0)
            die("walk", &err);
    double t_walk = cpu_now() - c0;

    c0 = cpu_now();
    ch_cluster_label_index *ix;
    if (ch_cluster_label_index_build(s, c, db, &ix, &err) != 0) die("index", &err);
    double t_build = cpu_now() - c0;
    uint64_t members, attrs, clusters;
    ch_cluster_label_index_counts(ix, &members, &attrs, &clusters);

    uint64_t ix_labels = 0, ix_first = 0;
    c0 = cpu_now();
    for (size_t i = 0; i < nq; i++) {
        if (i == walked) ix_first = ix_labels; /* the walk's share, to check */
        if (ch_cluster_labels_indexed(s, c, db, ix, q[i], count_label, &ix_labels, NULL, &err) != 0)
            die("indexed", &err);
    }
    if (walked == nq) ix_first = ix_labels;
    double t_ix = cpu_now() - c0;

    ch_screener_opts so;
    ch_screener_opts_init(&so);
    so.db = dir;
    so.max_hops = 0;
    ch_screener *sc;
    if (ch_screener_open(&so, &sc, &warn, &err) != 0) die("screener", &err);
    ch_verdict *v = ch_verdict_new();
    if (!v) return 2;
    c0 = cpu_now();
    for (size_t i = 0; i < nq; i++)
        ch_screener_screen(sc, q[i], v);
    double t_screen = cpu_now() - c0;

    double r_walk = (double)walked / t_walk, r_ix = (double)nq / t_ix;
    printf("index: %llu labelled members (%llu attributions) in %llu clusters, built in %.3f s\n",
           (unsigned long long)members, (unsigned long long)attrs, (unsigned long long)clusters,
           t_build);
    printf("walk (baseline):  %8zu addresses in %7.3f s CPU = %12.0f addresses/s (%llu labels)\n",
           walked, t_walk, r_walk, (unsigned long long)walk_labels);
    printf("index:            %8zu addresses in %7.3f s CPU = %12.0f addresses/s (%llu labels; "
           "the walk's %zu: %llu, %s)\n",
           nq, t_ix, r_ix, (unsigned long long)ix_labels, walked, (unsigned long long)ix_first,
           ix_first == walk_labels ? "the same" : "DIFFERENT");
    printf("screener, whole verdicts (exposure off): %zu in %.3f s CPU = %.0f addresses/s\n", nq,
           t_screen, (double)nq / t_screen);
    /* the target is screen --db's: whole verdicts. The index row hands
     * over every label of every member of the address's cluster (hundreds
     * an address here), which a verdict does not ask for (it takes each
     * cluster's labels once, with their counts) */
    printf("ratio index/walk: %.0fx; target 100k addresses/s (screen --db: whole verdicts): %s\n",
           r_ix / r_walk, (double)nq / t_screen >= 1e5 ? "met" : "NOT met");
    ch_verdict_free(v);
    ch_screener_close(sc, NULL);
    ch_cluster_label_index_free(ix);
    ch_intel_close(db);
    ch_clusters_close(c);
    ch_store_close(s);
    free(q);
    free(clustered);
    if (!keep) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    }
    return ix_first == walk_labels ? 0 : 1;
}

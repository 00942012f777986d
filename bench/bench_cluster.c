/* bench_cluster: clustering throughput (inputs/s) on a generated chain,
 * beside a baseline measured in the same run over the same co-spend edges:
 * extract the edges (same skips: coinbases, CoinJoins), build an adjacency
 * list (CSR) and label components by BFS. A benchmark, not a test.
 *
 *   bench_cluster [--quick] [--txs N] [--db DIR] [--runs N] [--keep]
 *
 * --db DIR uses an existing store (DIR/btc) instead of generating one.
 * Each is timed --runs times (default 5), interleaved: the best and the
 * spread (slowest / best) are printed, wall clock and the thread's CPU time
 * (on a shared machine other work steals the CPU, which wall clock counts). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster/cluster_internal.h"
#include "coinhound/cluster.h"
#include "coinhound/gen.h"
#include "coinhound/ingest.h"
#include "coinhound/progress.h"
#include "coinhound/store.h"

typedef struct edges {
    uint32_t *a, *b;
    size_t n, cap;
} edges;

static void push(edges *e, uint32_t a, uint32_t b) {
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 1 << 16;
        e->a = realloc(e->a, e->cap * sizeof *e->a);
        e->b = realloc(e->b, e->cap * sizeof *e->b);
        if (!e->a || !e->b) {
            fprintf(stderr, "bench_cluster: out of memory\n");
            exit(2);
        }
    }
    e->a[e->n] = a;
    e->b[e->n++] = b;
}

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The multi-input edges (first input address -> each other), as slots,
 * skipping coinbases and CoinJoins exactly as the engine does. */
static void extract(const ch_store *s, edges *e) {
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    const ch_tx_rec *txs = ch_store_tx(s, 0);
    const ch_in_rec *ins = ch_store_input(s, 0);
    const ch_out_rec *outs = ch_store_output(s, 0);
    ch_addr_id *ia = malloc(1 << 20); /* slots */
    uint32_t cap = (1 << 20) / 8;
    uint64_t *iv = malloc(1 << 20), *ov = malloc(1 << 20);
    cl_scratch sc = {0};
    for (uint64_t t = 0; t < c.txs; t++) {
        uint64_t fi = CL_FIRST_IN(&txs[t]);
        uint64_t ni = (t + 1 < c.txs ? CL_FIRST_IN(&txs[t + 1]) : c.inputs) - fi;
        uint64_t fo = txs[t].first_out;
        uint64_t no = (t + 1 < c.txs ? txs[t + 1].first_out : c.outputs) - fo;
        if (ni < 2 || ch_in_spent_tx(&ins[fi]) == CH_NO_TX) continue;
        if (ni > cap || no > cap) continue; /* not in generated chains */
        for (uint64_t i = 0; i < ni; i++) {
            const ch_out_rec *p =
                &outs[txs[ch_in_spent_tx(&ins[fi + i])].first_out + ch_in_vout(&ins[fi + i])];
            ia[i] = ch_out_addr(p) ? ch_store_addr_index(s, ch_out_addr(p)) + 1 : 0;
            iv[i] = CH_OUT_VALUE(p);
        }
        if (no >= 3) {
            for (uint64_t j = 0; j < no; j++)
                ov[j] = CH_OUT_VALUE(&outs[fo + j]);
            ch_tx_shape sh = {ni, iv, ia, no, ov};
            unsigned mask;
            if (cl_coinjoin_rules(&sh, &sc, &mask) == 0 && mask) continue;
        }
        uint32_t first = 0;
        for (uint64_t i = 0; i < ni; i++) {
            if (!ia[i]) continue;
            if (!first)
                first = (uint32_t)ia[i];
            else if (ia[i] != first)
                push(e, first, (uint32_t)ia[i]);
        }
    }
    cl_scratch_free(&sc);
    free(ia);
    free(iv);
    free(ov);
}

/* Components by BFS over a CSR adjacency; label = smallest slot (BFS starts
 * from each unlabelled slot in ascending order). Returns the component count. */
static uint64_t bfs_components(const edges *e, uint32_t n, uint32_t *lab) {
    uint64_t *off = calloc((size_t)n + 2, sizeof *off);
    uint32_t *adj = malloc(2 * e->n * sizeof *adj + 1), *queue = malloc(((size_t)n + 1) * 4);
    for (size_t i = 0; i < e->n; i++) {
        off[e->a[i] + 1]++;
        off[e->b[i] + 1]++;
    }
    for (uint32_t v = 1; v <= n + 1; v++)
        off[v] += off[v - 1];
    uint64_t *fill = malloc(((size_t)n + 1) * sizeof *fill);
    memcpy(fill, off, ((size_t)n + 1) * sizeof *fill);
    for (size_t i = 0; i < e->n; i++) {
        adj[fill[e->a[i]]++] = e->b[i];
        adj[fill[e->b[i]]++] = e->a[i];
    }
    free(fill);
    memset(lab, 0, ((size_t)n + 1) * sizeof *lab);
    uint64_t comps = 0;
    for (uint32_t v = 1; v <= n; v++) {
        if (lab[v]) continue;
        comps++;
        size_t head = 0, tail = 0;
        lab[v] = v;
        queue[tail++] = v;
        while (head < tail) {
            uint32_t x = queue[head++];
            for (uint64_t k = off[x]; k < off[x + 1]; k++)
                if (!lab[adj[k]]) {
                    lab[adj[k]] = v;
                    queue[tail++] = adj[k];
                }
        }
    }
    free(off);
    free(adj);
    free(queue);
    return comps;
}

int main(int argc, char **argv) {
    bool quick = false, keep = false;
    uint64_t txs = 0;
    int runs = 5;
    const char *db = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            quick = true;
        else if (!strcmp(argv[i], "--keep"))
            keep = true;
        else if (!strcmp(argv[i], "--txs") && i + 1 < argc)
            txs = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--db") && i + 1 < argc)
            db = argv[++i];
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]) > 0 ? atoi(argv[i]) : 1;
        else {
            fprintf(stderr,
                    "usage: bench_cluster [--quick] [--txs N] [--db DIR] [--runs N] [--keep]\n");
            return 2;
        }
    }
    if (!txs) txs = quick ? 60000 : 700000;
    ch_error err;
    char tmp[] = "/tmp/bench_cluster_XXXXXX";
    if (!db) {
        if (!mkdtemp(tmp)) return 2;
        db = tmp;
        char blk[4200];
        snprintf(blk, sizeof blk, "%s/blk", tmp);
        ch_gen_opts g;
        ch_gen_opts_init(&g);
        g.out_dir = blk;
        g.txs = txs;
        g.seed = 42;
        double t0 = ch_now();
        if (ch_gen_run(&g, NULL, &err) != 0) {
            fprintf(stderr, "bench_cluster: gen: %s\n", err.msg);
            return 2;
        }
        ch_ingest_opts io = {.progress = 0};
        ch_ingest_stats st;
        if (ch_ingest_btc(blk, tmp, &io, &st, &err) != 0) {
            fprintf(stderr, "bench_cluster: ingest: %s\n", err.msg);
            return 2;
        }
        printf("chain: %" PRIu64 " generated txs, made and ingested in %.1f s\n", txs,
               ch_now() - t0);
    }
    ch_store *s;
    if (ch_store_open(db, "btc", CH_STORE_READ, &s, &err) != 0) {
        fprintf(stderr, "bench_cluster: %s\n", err.msg);
        return 2;
    }
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    printf("store: %" PRIu64 " txs, %" PRIu64 " inputs, %" PRIu64 " outputs, %" PRIu64
           " addresses\n",
           c.txs, c.inputs, c.outputs, c.addresses);

    /* best of `runs` each, interleaved, so both see the same warm caches */
    double best_uf = 1e30, best_bfs = 1e30, best_ext = 0, best_cc = 0;
    double worst_uf = 0, worst_bfs = 0, cpu_uf = 1e30, cpu_bfs = 1e30;
    uint64_t uf_clusters = 0, bfs_clusters = 0;
    size_t n_edges = 0;
    for (int run = 0; run < runs; run++) {
        uint32_t *cid;
        ch_cluster_meta m;
        ch_cluster_opts o = {0};
        double t0 = ch_now(), c0 = cpu_now();
        if (ch_cluster_compute(s, &o, &cid, &m, NULL, &err) != 0) {
            fprintf(stderr, "bench_cluster: %s\n", err.msg);
            return 2;
        }
        double t_uf = ch_now() - t0, c_uf = cpu_now() - c0;
        free(cid);
        uf_clusters = m.clusters;

        t0 = ch_now();
        c0 = cpu_now();
        edges e = {0};
        extract(s, &e);
        double t1 = ch_now();
        uint32_t *lab = malloc((c.addresses + 1) * sizeof *lab);
        bfs_clusters = bfs_components(&e, (uint32_t)c.addresses, lab);
        double t_bfs = ch_now() - t0, c_bfs = cpu_now() - c0;
        n_edges = e.n;
        free(lab);
        free(e.a);
        free(e.b);
        if (t_uf < best_uf) best_uf = t_uf;
        if (t_uf > worst_uf) worst_uf = t_uf;
        if (t_bfs > worst_bfs) worst_bfs = t_bfs;
        if (c_uf < cpu_uf) cpu_uf = c_uf;
        if (c_bfs < cpu_bfs) cpu_bfs = c_bfs;
        if (t_bfs < best_bfs) {
            best_bfs = t_bfs;
            best_ext = t1 - t0;
            best_cc = t_bfs - (t1 - t0);
        }
    }
    double uf_rate = (double)c.inputs / best_uf, bfs_rate = (double)c.inputs / best_bfs;
    printf("edges: %zu co-spend edges; clusters: union-find %" PRIu64 ", BFS %" PRIu64 "%s\n",
           n_edges, uf_clusters, bfs_clusters, uf_clusters == bfs_clusters ? "" : "  MISMATCH");
    printf("%d runs each, interleaved\n", runs);
    printf("union-find (engine, store -> clusters): %8.3f s  %7.1fM inputs/s (spread %.2fx;"
           " CPU %.3f s = %.1fM/s)\n",
           best_uf, uf_rate / 1e6, worst_uf / best_uf, cpu_uf, (double)c.inputs / cpu_uf / 1e6);
    printf("baseline (edges + CSR + BFS):           %8.3f s  %7.1fM inputs/s (spread %.2fx;"
           " CPU %.3f s = %.1fM/s)  (extract %.3f s, CSR+BFS %.3f s)\n",
           best_bfs, bfs_rate / 1e6, worst_bfs / best_bfs, cpu_bfs,
           (double)c.inputs / cpu_bfs / 1e6, best_ext, best_cc);
    printf("ratio union-find / baseline: %.2fx\n", uf_rate / bfs_rate);
    printf("target 20M inputs/s on one core: %s (%.1fM)\n", uf_rate >= 20e6 ? "met" : "NOT met",
           uf_rate / 1e6);
    ch_store_close(s);
    if (db == tmp && !keep) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        if (system(cmd) != 0) fprintf(stderr, "bench_cluster: could not remove %s\n", tmp);
    } else if (db == tmp) {
        printf("kept %s\n", tmp);
    }
    return uf_clusters == bfs_clusters ? 0 : 1;
}

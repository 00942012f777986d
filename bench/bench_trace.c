/* Benchmark (not a test): forward haircut tracing in edge visits per second,
 * beside a plain BFS over the same spender edges measured in the same run.
 *
 *   bench_trace [--quick] [--txs N] [--runs N] [--keep DIR]
 *
 * Generates a chain with the generator's library API (1M transactions, or
 * 50k with --quick), ingests it, picks the output with the widest forward
 * reach among early candidates, then times both walks from it. Both count
 * the same edges: the inputs and outputs of every transaction reached (the
 * BFS reads only the outputs, so the count flatters it: the ratio is on the
 * conservative side). Target: 50M edge visits/s on one core.
 *
 * The trace runs twice per round: with the heap only (the walk for sparse
 * traces) and with the engine's choice (heap, then the tx-order sweep once
 * the frontier is dense); their totals must agree to the unit. The walk
 * (ch_trace_run: every tx reached shared out, totals known) is timed on its
 * own, then with the per-address results summed (ch_trace_collect: what the
 * trace command prints). Each is timed --runs times (default 5),
 * interleaved; the best and the spread (slowest / best) are printed, in
 * wall-clock time and in the thread's CPU time (a shared machine steals the
 * CPU, which wall-clock time counts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coinhound/gen.h"
#include "coinhound/ingest.h"
#include "coinhound/store.h"
#include "coinhound/trace.h"
#include "trace/trace_internal.h"

#define TARGET 50e6

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* best and worst of a timed thing, wall clock and CPU */
typedef struct timing {
    double best, worst, cpu_best, cpu_worst;
} timing;

static void timing_add(timing *m, double wall, double cpu) {
    if (wall < m->best) m->best = wall;
    if (wall > m->worst) m->worst = wall;
    if (cpu < m->cpu_best) m->cpu_best = cpu;
    if (cpu > m->cpu_worst) m->cpu_worst = cpu;
}

static void timing_print(const char *name, const timing *m, uint64_t txs, uint64_t edges) {
    printf("%-18s %9llu txs, %9llu edges: best %.3f s = %6.1f M edge visits/s (spread %.2fx);"
           " CPU %.3f s = %6.1f M/s (spread %.2fx)\n",
           name, (unsigned long long)txs, (unsigned long long)edges, m->best,
           (double)edges / m->best / 1e6, m->worst / m->best, m->cpu_best,
           (double)edges / m->cpu_best / 1e6, m->cpu_worst / m->cpu_best);
}

/* Plain BFS over spender edges from one output: a FIFO queue of txs and a
 * visited bitset. Returns the edges incident to the txs reached. */
static uint64_t bfs(ch_store *s, uint64_t src, uint64_t *txs_reached) {
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    uint64_t *seen = calloc((c.txs + 63) / 64, 8);
    uint32_t *q = malloc(c.txs * sizeof *q);
    if (!seen || !q) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    size_t head = 0, tail = 0;
    uint64_t edges = 0;
    int64_t sp = ch_store_output_spender(s, src);
    if (sp >= 0) {
        seen[sp / 64] |= 1ULL << (sp % 64);
        q[tail++] = (uint32_t)sp;
    }
    while (head < tail) {
        uint64_t tx = q[head++], fo, no, fi, ni;
        ch_store_tx_outputs(s, tx, &fo, &no);
        ch_store_tx_inputs(s, tx, &fi, &ni);
        edges += ni + no;
        for (uint64_t j = 0; j < no; j++) {
            int64_t n = ch_store_output_spender(s, fo + j);
            if (n < 0 || (seen[n / 64] >> (n % 64) & 1)) continue;
            seen[n / 64] |= 1ULL << (n % 64);
            q[tail++] = (uint32_t)n;
        }
    }
    *txs_reached = tail;
    free(seen);
    free(q);
    return edges;
}

/* One trace: the walk timed into m, the walk and the results into r
 * (NULL: not timed). */
static int trace_once(ch_store *s, uint64_t src, int walk, ch_trace_totals *tot, timing *m,
                      timing *r) {
    ch_trace_opts o;
    ch_trace_opts_init(&o);
    o.policy = CH_POLICY_HAIRCUT;
    ch_trace *t;
    ch_error err;
    double t0 = now(), c0 = cpu_now();
    if (ch_trace_new(s, &o, &t, &err) != 0) {
        fprintf(stderr, "trace: %s\n", err.msg);
        return -1;
    }
    tr_set_walk(t, walk);
    if (ch_trace_add_output(t, src, &err) != 0 || ch_trace_run(t, &err) != 0) {
        fprintf(stderr, "trace: %s\n", err.msg);
        return -1;
    }
    double t1 = now(), c1 = cpu_now();
    timing_add(m, t1 - t0, c1 - c0);
    if (ch_trace_collect(t, &err) != 0) {
        fprintf(stderr, "trace: %s\n", err.msg);
        return -1;
    }
    if (r) timing_add(r, now() - t0, cpu_now() - c0);
    ch_trace_get_totals(t, tot);
    ch_trace_free(t);
    return 0;
}

int main(int argc, char **argv) {
    uint64_t txs = 1000000;
    const char *keep = NULL;
    int runs = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            txs = 50000;
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]) > 0 ? atoi(argv[i]) : 1;
        else if (!strcmp(argv[i], "--txs") && i + 1 < argc)
            txs = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--keep") && i + 1 < argc)
            keep = argv[++i];
        else {
            fprintf(stderr, "usage: bench_trace [--quick] [--txs N] [--runs N] [--keep DIR]\n");
            return 2;
        }
    }
    char tmpl[] = "/tmp/bench_trace_XXXXXX";
    const char *dir = keep;
    if (!dir && !(dir = mkdtemp(tmpl))) {
        perror("mkdtemp");
        return 2;
    }
    char blocks[4096], db[4096];
    snprintf(blocks, sizeof blocks, "%s/blocks", dir);
    snprintf(db, sizeof db, "%s/db", dir);
    ch_error err;
    ch_store *s;
    if (ch_store_open(db, "btc", CH_STORE_READ, &s, &err) != 0) { /* not kept: build it */
        ch_gen_opts go;
        ch_gen_opts_init(&go);
        go.out_dir = blocks;
        go.seed = 42;
        go.txs = txs;
        double t0 = now();
        ch_gen_stats gs;
        if (ch_gen_run(&go, &gs, &err) != 0) {
            fprintf(stderr, "gen: %s\n", err.msg);
            return 2;
        }
        printf("generated %llu txs in %.1f s\n", (unsigned long long)gs.txs, now() - t0);
        ch_ingest_opts io = {.progress = 0};
        ch_ingest_stats is;
        t0 = now();
        if (ch_ingest_btc(blocks, db, &io, &is, &err) != 0) {
            fprintf(stderr, "ingest: %s\n", err.msg);
            return 2;
        }
        printf("ingested in %.1f s\n", now() - t0);
        if (ch_store_open(db, "btc", CH_STORE_READ, &s, &err) != 0) {
            fprintf(stderr, "open: %s\n", err.msg);
            return 2;
        }
    }
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    printf("chain: %llu txs, %llu inputs, %llu outputs\n", (unsigned long long)c.txs,
           (unsigned long long)c.inputs, (unsigned long long)c.outputs);

    /* The widest source among outputs of the first traffic transactions
     * (after the coinbase-only warm-up): a theft early in a busy chain. */
    uint64_t best = 0, best_reach = 0, reach;
    uint64_t first = c.txs / 50;
    for (uint64_t k = 0; k < 64; k++) {
        uint64_t fo, no;
        ch_store_tx_outputs(s, first + k * 7, &fo, &no);
        bfs(s, fo, &reach);
        if (reach > best_reach) {
            best_reach = reach;
            best = fo;
        }
    }
    printf("source: output %llu, reaches %llu txs (%.0f%% of the chain)\n",
           (unsigned long long)best, (unsigned long long)best_reach,
           100.0 * (double)best_reach / (double)c.txs);

    /* best of `runs` for each, interleaved */
    timing tb = {1e30, 0, 1e30, 0}, th = tb, ta = tb, tar = tb;
    uint64_t eb = 0, rb = 0;
    ch_trace_totals heap, tot;
    for (int r = 0; r < runs; r++) {
        double t0 = now(), c0 = cpu_now();
        eb = bfs(s, best, &rb);
        timing_add(&tb, now() - t0, cpu_now() - c0);
        if (trace_once(s, best, TR_WALK_HEAP, &heap, &th, NULL) != 0) return 2;
        if (trace_once(s, best, TR_WALK_AUTO, &tot, &ta, &tar) != 0) return 2;
    }
    bool same = tot.landed == heap.landed && tot.held == heap.held && tot.fees == heap.fees &&
                tot.below_min == heap.below_min && tot.txs == heap.txs &&
                tot.edge_visits == heap.edge_visits && tot.outputs == heap.outputs;
    printf("%d runs each, interleaved\n", runs);
    timing_print("BFS baseline:", &tb, rb, eb);
    timing_print("haircut, heap:", &th, heap.txs, heap.edge_visits);
    timing_print("haircut, engine:", &ta, tot.txs, tot.edge_visits);
    timing_print("engine + results:", &tar, tot.txs, tot.edge_visits);
    double rate_b = (double)eb / tb.best, rate_t = (double)tot.edge_visits / ta.best;
    double cpu_b = (double)eb / tb.cpu_best, cpu_t = (double)tot.edge_visits / ta.cpu_best;
    printf("heap and engine walks agree: %s\n", same ? "yes" : "NO");
    double rate_r = (double)tot.edge_visits / tar.best;
    printf("ratio engine/BFS: %.2f (CPU %.2f); engine/heap %.2f; target 50M edge visits/s %s"
           " by the walk (wall %.1fM, CPU %.1fM), %s with the results summed (wall %.1fM)\n",
           rate_t / rate_b, cpu_t / cpu_b, th.best / ta.best, rate_t >= TARGET ? "MET" : "NOT met",
           rate_t / 1e6, cpu_t / 1e6, rate_r >= TARGET ? "met" : "not met", rate_r / 1e6);
    if (!same) return 1;
    ch_store_close(s);
    if (!keep) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    }
    return 0;
}

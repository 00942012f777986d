/* Benchmark (not a test): how fast a trace's result is written, as JSON
 * (src/util/jsonw.c through src/trace/write.c) beside the other formats of
 * the same result in the same run: the text summary, the landings as CSV
 * and the steps as an edge list (CSV written with fprintf), the baseline.
 *
 *   bench_trace_output [--quick] [--txs N] [--runs N] [--keep DIR]
 *
 * Generates a chain (1M transactions, 100k with --quick), ingests it, and
 * runs a poison trace forward from the output with the widest reach among
 * early candidates (poison taints everything downstream: the largest
 * result a trace gives). Each format is written --runs times (default 3),
 * interleaved, to a file in the bench's folder (written, then truncated:
 * the page cache absorbs it), and the best time is kept, wall clock and
 * the thread's CPU time. Printed: bytes, MB/s, and each format's time
 * against the edge list's (same result, bytes of the same order).
 * Measured before the JSON writer went through unlocked stdio, an 868 MB
 * poison trace took 14 s as JSON against 1.2 s as text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coinhound/gen.h"
#include "coinhound/hash.h"
#include "coinhound/ingest.h"
#include "coinhound/store.h"
#include "coinhound/trace.h"

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

/* Transactions reached forward from output o (spender edges), at most cap
 * visited: a cheap measure of a source's reach. */
static uint64_t reach(ch_store *s, uint64_t o, uint64_t cap) {
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    uint8_t *seen = calloc(c.txs, 1);
    uint64_t *q = malloc(c.txs * sizeof *q);
    if (!seen || !q) exit(2);
    size_t head = 0, tail = 0;
    int64_t sp = ch_store_output_spender(s, o);
    if (sp >= 0) seen[sp] = 1, q[tail++] = (uint64_t)sp;
    while (head < tail && tail < cap) {
        uint64_t tx = q[head++], fo, no;
        ch_store_tx_outputs(s, tx, &fo, &no);
        for (uint64_t j = 0; j < no; j++) {
            int64_t n = ch_store_output_spender(s, fo + j);
            if (n < 0 || seen[n]) continue;
            seen[n] = 1;
            q[tail++] = (uint64_t)n;
        }
    }
    free(seen);
    free(q);
    return tail;
}

typedef struct fmt {
    const char *name;
    ch_trace_format f;
    double wall, cpu;
    long bytes;
} fmt;

int main(int argc, char **argv) {
    uint64_t txs = 1000000;
    int runs = 3;
    const char *keep = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            txs = 100000;
        else if (!strcmp(argv[i], "--txs") && i + 1 < argc)
            txs = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]) > 0 ? atoi(argv[i]) : 1;
        else if (!strcmp(argv[i], "--keep") && i + 1 < argc)
            keep = argv[++i];
        else {
            fprintf(stderr, "usage: bench_trace_output [--quick] [--txs N] [--runs N] "
                            "[--keep DIR]\n");
            return 2;
        }
    }
    char tmpl[] = "/tmp/bench_trace_output_XXXXXX";
    const char *dir = keep;
    if (!dir && !(dir = mkdtemp(tmpl))) {
        perror("mkdtemp");
        return 2;
    }
    char blocks[4096], db[4096], out[4200];
    snprintf(blocks, sizeof blocks, "%s/blocks", dir);
    snprintf(db, sizeof db, "%s/db", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    ch_error err;
    ch_store *s;
    if (ch_store_open(db, "btc", CH_STORE_READ, &s, &err) != 0) { /* not kept: build it */
        ch_gen_opts go;
        ch_gen_opts_init(&go);
        go.out_dir = blocks;
        go.seed = 42;
        go.txs = txs;
        ch_gen_stats gs;
        if (ch_gen_run(&go, &gs, &err) != 0) {
            fprintf(stderr, "gen: %s\n", err.msg);
            return 2;
        }
        ch_ingest_opts io = {.progress = 0};
        ch_ingest_stats is;
        if (ch_ingest_btc(blocks, db, &io, &is, &err) != 0 ||
            ch_store_open(db, "btc", CH_STORE_READ, &s, &err) != 0) {
            fprintf(stderr, "ingest: %s\n", err.msg);
            return 2;
        }
    }
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    uint64_t best = 0, best_tx = 0, best_reach = 0;
    for (uint64_t k = 0; k < 32; k++) {
        uint64_t tx = c.txs / 50 + k * 7, fo, no;
        ch_store_tx_outputs(s, tx, &fo, &no);
        uint64_t r = reach(s, fo, c.txs);
        if (r > best_reach) best_reach = r, best = fo, best_tx = tx;
    }
    uint64_t fo, no;
    ch_store_tx_outputs(s, best_tx, &fo, &no);
    ch_hash256 id;
    ch_store_txid(s, best_tx, &id);
    char source[80];
    ch_hash256_to_hex(&id, source);
    snprintf(source + 64, sizeof source - 64, ":%llu", (unsigned long long)(best - fo));
    ch_trace_spec sp;
    ch_trace_spec_init(&sp);
    sp.source = source;
    sp.policy = CH_POLICY_POISON;
    ch_trace_result *r;
    double t0 = now();
    int found = ch_trace_exec(s, &sp, &r, &err);
    if (found != 1) {
        fprintf(stderr, "trace: %s\n", found < 0 ? err.msg : "source not found");
        return 2;
    }
    printf("chain: %llu txs; poison trace from %s (reaches %llu txs) in %.2f s\n",
           (unsigned long long)c.txs, source, (unsigned long long)best_reach, now() - t0);

    fmt f[] = {{"JSON", CH_TRACE_JSON, 1e30, 1e30, 0},
               {"text", CH_TRACE_TEXT, 1e30, 1e30, 0},
               {"CSV (landings)", CH_TRACE_CSV, 1e30, 1e30, 0},
               {"edges (CSV, baseline)", CH_TRACE_EDGES, 1e30, 1e30, 0}};
    int nf = (int)(sizeof f / sizeof f[0]);
    for (int run = 0; run < runs; run++)
        for (int i = 0; i < nf; i++) {
            FILE *o = fopen(out, "w");
            if (!o) {
                perror(out);
                return 2;
            }
            double w0 = now(), c0 = cpu_now();
            int rc = ch_trace_write(r, f[i].f, o);
            long bytes = ftell(o);
            rc |= fclose(o);
            double w = now() - w0, cpu = cpu_now() - c0;
            if (rc != 0) {
                fprintf(stderr, "write %s failed\n", f[i].name);
                return 2;
            }
            if (w < f[i].wall) f[i].wall = w;
            if (cpu < f[i].cpu) f[i].cpu = cpu;
            f[i].bytes = bytes;
        }
    const fmt *base = &f[nf - 1];
    printf("%-24s %12s %9s %9s %9s %9s %14s\n", "format", "bytes", "wall s", "CPU s", "MB/s",
           "CPU MB/s", "CPU/baseline");
    for (int i = 0; i < nf; i++)
        printf("%-24s %12ld %9.3f %9.3f %9.1f %9.1f %14.2f\n", f[i].name, f[i].bytes, f[i].wall,
               f[i].cpu, (double)f[i].bytes / 1e6 / f[i].wall, (double)f[i].bytes / 1e6 / f[i].cpu,
               f[i].cpu / base->cpu);
    printf("JSON per byte against the edge list's: %.2fx the CPU time (best of %d, interleaved)\n",
           (f[0].cpu / (double)f[0].bytes) / (base->cpu / (double)base->bytes), runs);
    unlink(out);
    ch_trace_result_free(r);
    ch_store_close(s);
    if (!keep) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    }
    return 0;
}

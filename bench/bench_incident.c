/* Benchmark (not a test): what the watcher's incident rule pays per block.
 *
 *   bench_incident [--transfers N] [--blocks K] [--policy haircut|fifo|poison]
 *
 * Generates an EVM chain with a planted theft (coinhound-evmgen's: swaps,
 * tokens, gas, labelled services; default 200,000 transfers), ingests it,
 * and traces the theft from its exploiter over the first half of the
 * blocks. Then, for each of the next K blocks (default 200), the time to
 * carry the taint on to that block (ch_atrace_extend, what the watcher does
 * per block), beside the time of a full trace over the same blocks (what a
 * watcher without incremental state would do): p50, p99 and max of each, in
 * milliseconds. The two must end with the same landed total, checked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "coinhound/evmgen.h"
#include "coinhound/ingest.h"
#include "coinhound/store.h"
#include "coinhound/trace_account.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const ch_error *e) {
    fprintf(stderr, "bench_incident: %s: %s\n", what, e ? e->msg : "");
    exit(1);
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void stats(const char *what, double *v, size_t n) {
    qsort(v, n, sizeof *v, cmp_d);
    printf("  %-28s p50 %8.3f ms  p99 %8.3f ms  max %8.3f ms\n", what, v[n / 2] * 1e3,
           v[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] * 1e3, v[n - 1] * 1e3);
}

static ch_atrace *trace(ch_store *s, ch_labels *l, ch_trace_policy p, const char *src,
                        uint64_t first, uint64_t last) {
    ch_error err = {{0}};
    ch_atrace_opts o;
    ch_atrace_opts_init(&o);
    o.policy = p;
    o.labels = l;
    o.first_block = first;
    o.last_block = last;
    ch_atrace *t;
    if (ch_atrace_new(s, &o, &t, &err) != 0) die("trace", &err);
    if (ch_atrace_add_from_string(t, src, &err) != 1) die("source", &err);
    if (ch_atrace_run(t, &err) != 0) die("run", &err);
    return t;
}

static ch_taint_sum landed(ch_atrace *t) {
    const ch_atrace_asset *a;
    size_t n = ch_atrace_assets(t, &a);
    ch_taint_sum sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += a[i].landed;
    return sum;
}

int main(int argc, char **argv) {
    uint64_t transfers = 200000;
    size_t k = 200;
    ch_trace_policy policy = CH_POLICY_HAIRCUT;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--transfers"))
            transfers = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--blocks"))
            k = (size_t)strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--policy") && ch_trace_policy_parse(argv[i + 1], &policy) == 0)
            ;
        else {
            fprintf(stderr, "usage: bench_incident [--transfers N] [--blocks K] [--policy P]\n");
            return 2;
        }
    }
    char dir[] = "/tmp/coinhound-bench-incident-XXXXXX", gen[600], db[600], path[700];
    if (!mkdtemp(dir)) die("mkdtemp", NULL);
    snprintf(gen, sizeof gen, "%s/gen", dir);
    snprintf(db, sizeof db, "%s/db", dir);
    ch_error err = {{0}};
    ch_evmgen_opts go;
    ch_evmgen_opts_init(&go);
    go.out_dir = gen;
    go.seed = 5;
    go.transfers = transfers;
    go.theft = true;
    if (ch_evmgen_run(&go, NULL, &err) != 0) die("evmgen", &err);
    ch_ingest_opts io = {0};
    ch_ingest_stats ist;
    if (ch_ingest_evm(gen, db, "eth", &io, &ist, &err) != 0) die("ingest", &err);
    ch_store *s;
    if (ch_store_open(db, "eth", CH_STORE_READ, &s, &err) != 0) die("open", &err);
    snprintf(path, sizeof path, "%s/theft.json", gen);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    const char *src =
        json_string_value(json_object_get(json_object_get(root, "theft"), "exploiter"));
    if (!src) die("theft.json has no exploiter", NULL);
    ch_labels *l;
    if (ch_labels_new(s, NULL, NULL, &l, &err) != 0) die("labels", &err);
    snprintf(path, sizeof path, "%s/labels.csv", gen);
    if (ch_labels_load_csv(l, path, NULL, NULL, &err) != 0) die("labels.csv", &err);
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    uint64_t first = ch_store_first_number(s), mid = first + c.blocks / 2;
    if (k > c.blocks / 2) k = c.blocks / 2;
    printf("bench_incident: %llu transfers in %llu blocks (%s); the theft traced from %s over "
           "blocks %llu..%llu, then %zu blocks one at a time\n",
           (unsigned long long)ch_store_xfer_count(s), (unsigned long long)c.blocks,
           ch_trace_policy_name(policy), src, (unsigned long long)first, (unsigned long long)mid,
           k);
    ch_atrace *t = trace(s, l, policy, src, first, mid);
    double *inc = calloc(k, sizeof *inc), *full = calloc(k, sizeof *full);
    for (size_t i = 0; i < k; i++) {
        double t0 = now();
        if (ch_atrace_extend(t, mid + 1 + i, &err) != 0) die("extend", &err);
        inc[i] = now() - t0;
        t0 = now();
        ch_atrace *f = trace(s, l, policy, src, first, mid + 1 + i);
        full[i] = now() - t0;
        if (landed(f) != landed(t)) die("the carried trace differs from a full trace", NULL);
        ch_atrace_free(f);
    }
    stats("carried on (ch_atrace_extend)", inc, k);
    stats("full trace to the same block", full, k);
    ch_atrace_stats st;
    ch_atrace_get_stats(t, &st);
    printf("  the carried trace follows %llu accounts, %llu pools\n",
           (unsigned long long)st.accounts, (unsigned long long)st.pools);
    free(inc);
    free(full);
    ch_atrace_free(t);
    ch_labels_free(l);
    json_decref(root);
    ch_store_close(s);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "bench_incident: %s left behind\n", dir);
    return 0;
}

/* bench_run_lookup: what one lookup in a large sorted run costs (the txid
 * and address indexes, src/store/runs.h), by the three ways a run can be
 * searched (not a test: it prints figures).
 *
 *   bench_run_lookup [--entries N] [--lookups L] [--dir DIR --name txid|addr]
 *
 * Writes one run of N random keys (default 50,000,000: 600 MB, the size
 * of the txid run of a 25M-tx store; mainnet's is 1.1 billion) in a
 * temporary folder, or opens the runs of a store's index folder DIR
 * (DIR/<name>-<seq>.run, e.g. db/btc/index). Then L lookups (default
 * 1,000,000) of keys the runs hold (an input's previous tx) and L of keys
 * they do not (a new address), each way:
 *   - mapped: a guess, doubling steps and a binary search through the
 *     run's mapping (a run a process opened without fences);
 *   - fenced, pread: the fences in memory, then the block's 48 entries
 *     around the key by pread (a run this writer wrote);
 *   - fenced, mapped: the fences, then those entries from the mapping (a
 *     run whose saved fences a writer loaded: st_runs_use_fences).
 * Every way with the runs' filters, as a writer searches (a key is looked
 * for only in the runs whose filter lets it through). Each way twice: "first" on a fresh mapping
 * (every page a lookup touches is faulted into the process, as for a watcher that has just
 * started), then "again" with other keys (the pages the first pass mapped stay: a watcher that has
 * run a while). The run files are read once before (warm: page cache). Figures: the thread's CPU
 * and the wall time a lookup, the minor faults a lookup, and each way's ratio to mapped. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gen/gen_internal.h"
#include "store/runs.h"

static void die(const char *m) {
    fprintf(stderr, "bench_run_lookup: %s\n", m);
    exit(2);
}

static double clock_s(clockid_t c) {
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long minor_faults(void) {
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return ru.ru_minflt;
}

/* Read every page of p (len bytes): the file in the page cache. */
static void touch(const uint8_t *p, size_t len) {
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < len; i += 4096)
        sink ^= p[i];
    (void)sink;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next_rand(void) {
    return gen_splitmix64(&rng);
}

static int cmp_item(const void *a, const void *b) {
    uint64_t x = ((const st_run_item *)a)->key >> 16, y = ((const st_run_item *)b)->key >> 16;
    return x < y ? -1 : x > y;
}

static int count_visit(void *ctx, uint64_t val) {
    (void)val;
    ++*(uint64_t *)ctx;
    return 0;
}

/* Runs listed in dir under name (seq order), into seqs/counts. */
static size_t list_runs(const char *dir, const char *name, uint64_t *seqs, uint64_t *counts) {
    size_t n = 0;
    for (uint64_t seq = 0; seq < 100000 && n < ST_RUNS_MAX; seq++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s-%" PRIu64 ".run", dir, name, seq);
        struct stat st;
        if (stat(path, &st) != 0) continue;
        seqs[n] = seq;
        counts[n++] = (uint64_t)st.st_size / ST_RUN_REC;
    }
    return n;
}

/* Keys the runs hold (top 48 bits, shifted back up), read at random
 * places of the run files. */
static void present_keys(const st_runs *r, uint64_t *keys, size_t n) {
    uint64_t total = st_runs_entries(r);
    for (size_t i = 0; i < n; i++) {
        uint64_t at = next_rand() % total;
        size_t k = 0;
        while (at >= r->v[k].n)
            at -= r->v[k++].n;
        const uint8_t *e = r->v[k].map + at * ST_RUN_REC;
        uint64_t key = 0;
        for (int b = 0; b < 6; b++)
            key = key << 8 | e[b];
        keys[i] = key << 16;
    }
}

enum way { MAPPED, FENCED_PREAD, FENCED_MAPPED, WAYS };
static const char *way_name[WAYS] = {"mapped", "fenced, pread", "fenced, mapped"};

/* Open the runs for a way, as a writer does (filters loaded or built):
 * fences loaded (or built) for the fenced ways, the files open for
 * pread's. */
static void open_way(st_runs *r, const char *dir, const char *name, const uint64_t *seqs,
                     const uint64_t *counts, size_t n, enum way w) {
    ch_error err;
    if (st_runs_open(r, dir, name, seqs, counts, n, &err) != 0) die(err.msg);
    /* as a writer: only the runs whose filter lets the key through */
    if (st_runs_use_filters(r, &err) != 0) die(err.msg);
    if (w != MAPPED && st_runs_use_fences(r, &err) != 0) die(err.msg);
    for (size_t i = 0; w == FENCED_PREAD && i < r->n; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s-%" PRIu64 ".run", dir, name, r->v[i].seq);
        r->v[i].fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r->v[i].fd < 0) die("cannot open a run");
    }
}

typedef struct pass {
    double cpu_ns, wall_ns, faults;
} pass;

static pass time_lookups(const st_runs *r, const uint64_t *keys, size_t n, uint64_t *found) {
    long f0 = minor_faults();
    double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC);
    for (size_t i = 0; i < n; i++)
        st_runs_find(r, keys[i], count_visit, found);
    double c1 = clock_s(CLOCK_THREAD_CPUTIME_ID), w1 = clock_s(CLOCK_MONOTONIC);
    return (pass){(c1 - c0) * 1e9 / (double)n, (w1 - w0) * 1e9 / (double)n,
                  (double)(minor_faults() - f0) / (double)n};
}

int main(int argc, char **argv) {
    uint64_t entries = 50000000, lookups = 1000000;
    const char *dir = NULL, *name = "txid";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--entries"))
            entries = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--lookups"))
            lookups = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--dir"))
            dir = argv[i + 1];
        else if (!strcmp(argv[i], "--name"))
            name = argv[i + 1];
        else
            die("usage: bench_run_lookup [--entries N] [--lookups L] [--dir DIR --name NAME]");
    }
    char tmp[] = "/tmp/coinhound-bench-runs-XXXXXX";
    uint64_t seqs[ST_RUNS_MAX + 1], counts[ST_RUNS_MAX + 1];
    size_t n_runs;
    ch_error err;
    if (!dir) {
        if (!mkdtemp(tmp)) die("cannot make a temporary folder");
        dir = tmp;
        name = "b";
        st_run_item *items = malloc(entries * sizeof *items);
        if (!items) die("out of memory");
        for (uint64_t i = 0; i < entries; i++)
            items[i] = (st_run_item){next_rand(), i};
        qsort(items, entries, sizeof *items, cmp_item);
        st_runs w;
        if (st_runs_open(&w, dir, name, NULL, NULL, 0, &err) != 0 ||
            st_runs_add(&w, items, entries, 1, &err) != 0)
            die(err.msg);
        st_runs_publish(&w);
        n_runs = st_runs_list(&w, seqs, counts);
        st_runs_close(&w);
        free(items);
    } else {
        n_runs = list_runs(dir, name, seqs, counts);
        if (n_runs == 0) die("no runs of that name in --dir");
    }
    st_runs r;
    open_way(&r, dir, name, seqs, counts, n_runs, FENCED_MAPPED); /* builds missing fences */
    for (size_t i = 0; i < r.n; i++) /* warm: the files in the page cache */
        touch(r.v[i].map, r.v[i].n * ST_RUN_REC);
    uint64_t total = st_runs_entries(&r);
    /* per way and pass: present keys, then absent ones (fresh each time) */
    size_t per = (size_t)lookups;
    uint64_t *keys = malloc(per * 2 * WAYS * 2 * sizeof *keys);
    if (!keys) die("out of memory");
    for (int k = 0; k < WAYS * 2; k++) {
        present_keys(&r, keys + (size_t)k * 2 * per, per);
        for (size_t i = 0; i < per; i++)
            keys[(size_t)k * 2 * per + per + i] = next_rand();
    }
    st_runs_close(&r);
    printf("%zu %s run(s), %" PRIu64 " entries (%.0f MB), %zu lookups of present and %zu of "
           "absent keys a pass\n",
           n_runs, name, total, (double)total * ST_RUN_REC / 1e6, per, per);
    pass res[WAYS][2][2];
    for (int w = 0; w < WAYS; w++) {
        open_way(&r, dir, name, seqs, counts, n_runs, (enum way)w);
        for (int p = 0; p < 2; p++) {
            const uint64_t *kk = keys + (size_t)(w * 2 + p) * 2 * per;
            uint64_t found = 0;
            res[w][p][0] = time_lookups(&r, kk, per, &found);
            if (found < per) die("a present key was not found");
            found = 0;
            res[w][p][1] = time_lookups(&r, kk + per, per, &found);
        }
        st_runs_close(&r);
    }
    static const char *pass_name[2] = {"first", "again"}, *kind[2] = {"present", "absent"};
    for (int p = 0; p < 2; p++)
        for (int k = 0; k < 2; k++)
            for (int w = 0; w < WAYS; w++) {
                const pass *x = &res[w][p][k], *base = &res[MAPPED][p][k];
                printf("%-5s %-7s %-14s cpu %7.0f ns  wall %7.0f ns  faults %.3f  "
                       "(cpu %.2fx, wall %.2fx of mapped)\n",
                       pass_name[p], kind[k], way_name[w], x->cpu_ns, x->wall_ns, x->faults,
                       x->cpu_ns / base->cpu_ns, x->wall_ns / base->wall_ns);
            }
    free(keys);
    if (dir == tmp) {
        char cmd[200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        if (system(cmd) != 0) die("cannot remove the temporary folder");
    }
    return 0;
}

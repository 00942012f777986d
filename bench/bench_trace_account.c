/* Benchmark (not a test): forward haircut tracing on an account chain, in
 * edge visits (transfer records examined) per second, beside a plain BFS
 * over the same account graph measured in the same run.
 *
 *   bench_trace_account [--transfers N] [--accounts N] [--runs N]
 *
 * Builds a chain with the store's write API (default 1M transfers: txs of a
 * gas FEE and one native payment between random accounts, every payment at
 * most what the sender holds), then traces forward with haircut from a
 * wide source: the first 1,000 payment txs. The BFS starts from the same
 * recipients and, per account reached, walks its whole history (the
 * store's backward chain), following every debit to its recipient: the
 * same records the tracer reads, without any taint arithmetic or ordering.
 * Times are best of --runs (default 3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coinhound/store.h"
#include "coinhound/trace_account.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static ch_addr acct_addr(uint32_t n) {
    ch_addr a = {.kind = CH_ADDR_EVM, .len = 20};
    a.bytes[0] = 0xbe;
    memcpy(a.bytes + 16, &n, 4);
    return a;
}

static void die(const char *what, const ch_error *e) {
    fprintf(stderr, "bench_trace_account: %s: %s\n", what, e ? e->msg : "");
    exit(1);
}

/* The chain: n_acc accounts funded by rewards, then payments. */
static void build(const char *dir, uint64_t n_xfers, uint32_t n_acc) {
    ch_error err = {{0}};
    ch_store *s;
    if (ch_store_open(dir, "eth", CH_STORE_WRITE, &s, &err) != 0) die("open", &err);
    uint64_t *bal = calloc(n_acc + 1, sizeof *bal), seed = 0x2545f4914f6cdd1dULL, written = 0;
    uint32_t block = 0, tx = 0;
    const uint64_t fee = 21000ULL * 20000000000ULL; /* 21k gas at 20 gwei */
    while (written < n_xfers) {
        ch_block_meta m = {.time = 1700000000u + block * 12};
        memcpy(m.hash.b, &block, 4);
        m.hash.b[31] = 0xbb;
        if (ch_store_begin_block(s, &m, &err) != 0) die("block", &err);
        if (block == 0)
            for (uint32_t a = 1; a <= n_acc; a++) {
                ch_addr to = acct_addr(a);
                bal[a] = 100ULL * 1000000000000000000ULL;
                if (ch_store_add_transfer(s, CH_XFER_REWARD, 0, NULL, NULL, &to, bal[a], 0, 0,
                                          &err) != 0)
                    die("reward", &err);
                written++;
            }
        for (int k = 0; k < 1000 && written < n_xfers; k++) {
            uint32_t a = 1 + (uint32_t)(rng(&seed) % n_acc), b = 1 + (uint32_t)(rng(&seed) % n_acc);
            if (bal[a] < 2 * fee) continue;
            uint64_t v = 1 + rng(&seed) % (bal[a] - fee) / 2;
            ch_addr fa = acct_addr(a), ta = acct_addr(b);
            ch_hash256 h = {{0}};
            memcpy(h.b, &tx, 4);
            h.b[31] = 0x7a;
            tx++;
            if (ch_store_add_account_tx(s, &h, &fa, &ta, NULL, 1, 2, &err) != 0 ||
                ch_store_add_transfer(s, CH_XFER_FEE, 0, NULL, &fa, NULL, fee, 0, 0, &err) != 0 ||
                ch_store_add_transfer(s, CH_XFER_NATIVE, 0, NULL, &fa, &ta, v, 0, 0, &err) != 0)
                die("tx", &err);
            bal[a] -= fee + v;
            bal[b] += v;
            written += 2;
        }
        if (ch_store_end_block(s, &err) != 0) die("end block", &err);
        if (++block % 100 == 0 && ch_store_commit(s, &err) != 0) die("commit", &err);
    }
    if (ch_store_commit(s, &err) != 0) die("commit", &err);
    ch_store_close(s);
    free(bal);
}

/* Plain BFS over accounts: every debit of a reached account leads to its
 * recipient. Returns the transfer records examined. */
static uint64_t bfs(ch_store *s, const ch_addr_id *start, size_t n_start, uint64_t *reached) {
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    uint8_t *seen = calloc(c.addresses + 1, 1);
    ch_addr_id *queue = malloc((c.addresses + 1) * sizeof *queue);
    size_t qh = 0, qn = 0;
    uint64_t visits = 0;
    for (size_t i = 0; i < n_start; i++) {
        uint64_t k = ch_store_addr_index(s, start[i]);
        if (!seen[k]) seen[k] = 1, queue[qn++] = start[i];
    }
    while (qh < qn) {
        ch_addr_id id = queue[qh++];
        ch_addr a;
        ch_store_addr_of(s, id, &a);
        ch_addr_id got;
        uint64_t head;
        if (ch_store_find_addr(s, &a, &got, &head, NULL) != 1) continue;
        for (int64_t x = (int64_t)head; x >= 0; x = ch_store_xfer_prev(s, (uint64_t)x, id)) {
            const ch_xfer_rec *r = ch_store_xfer(s, (uint64_t)x);
            visits++;
            if (r->from != id || !r->to) continue;
            uint64_t k = ch_store_addr_index(s, r->to);
            if (!seen[k]) seen[k] = 1, queue[qn++] = r->to;
        }
    }
    *reached = qn;
    free(seen);
    free(queue);
    return visits;
}

int main(int argc, char **argv) {
    uint64_t n_xfers = 1000000;
    uint32_t n_acc = 100000;
    int runs = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--transfers")) n_xfers = strtoull(argv[i + 1], NULL, 10);
        if (!strcmp(argv[i], "--accounts")) n_acc = (uint32_t)strtoul(argv[i + 1], NULL, 10);
        if (!strcmp(argv[i], "--runs")) runs = atoi(argv[i + 1]);
    }
    char dir[] = "/tmp/bench-trace-account-XXXXXX";
    if (!mkdtemp(dir)) die("mkdtemp", NULL);
    double t0 = now();
    build(dir, n_xfers, n_acc);
    printf("chain: %llu transfers, %u accounts, built in %.2f s\n", (unsigned long long)n_xfers,
           n_acc, now() - t0);

    ch_error err = {{0}};
    ch_store *s;
    if (ch_store_open(dir, "eth", CH_STORE_READ, &s, &err) != 0) die("open", &err);
    /* the wide source: the first 1,000 payment txs */
    const uint64_t n_src = 1000;
    ch_addr_id *start = malloc(n_src * sizeof *start);
    double best_tr = 1e30, best_bfs = 1e30;
    uint64_t tr_visits = 0, bfs_visits = 0, reached = 0;
    ch_atrace_stats st = {0};
    for (int r = 0; r < runs; r++) {
        ch_atrace_opts o;
        ch_atrace_opts_init(&o);
        o.policy = CH_POLICY_HAIRCUT;
        ch_atrace *t;
        if (ch_atrace_new(s, &o, &t, &err) != 0) die("trace", &err);
        for (uint64_t k = 0; k < n_src; k++) {
            uint64_t f, n;
            ch_store_tx_xfers(s, k, &f, &n);
            start[k] = ch_store_xfer(s, f + n - 1)->to;
            if (ch_atrace_add_tx(t, k, &err) != 0) die("source", &err);
        }
        double a = now();
        if (ch_atrace_run(t, &err) != 0) die("run", &err);
        double d = now() - a;
        ch_atrace_get_stats(t, &st);
        tr_visits = st.edge_visits;
        if (d < best_tr) best_tr = d;
        ch_atrace_free(t);
        a = now();
        bfs_visits = bfs(s, start, n_src, &reached);
        d = now() - a;
        if (d < best_bfs) best_bfs = d;
    }
    double tr_rate = (double)tr_visits / best_tr, bfs_rate = (double)bfs_visits / best_bfs;
    printf("haircut trace: %llu edge visits (%llu transfers swept, %llu accounts, %llu pools) in "
           "%.3f s = %.1f M edge visits/s\n",
           (unsigned long long)tr_visits, (unsigned long long)st.xfers,
           (unsigned long long)st.accounts, (unsigned long long)st.pools, best_tr, tr_rate / 1e6);
    printf("plain BFS:     %llu edge visits (%llu accounts) in %.3f s = %.1f M edge visits/s\n",
           (unsigned long long)bfs_visits, (unsigned long long)reached, best_bfs, bfs_rate / 1e6);
    printf("ratio trace/BFS (edge visits per second): %.2f\n", tr_rate / bfs_rate);
    free(start);
    ch_store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return 0;
}

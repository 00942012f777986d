/* EVM JSON ingest benchmark, parse side (not a test): how fast does
 * ch_evm_parse_rpc turn JSON-RPC responses into blocks and transfers,
 * beside the floor of jansson merely parsing the same bytes, measured in
 * the same run?
 *
 *   bench_evm_parse [--blocks N] [--txs N] [--quick]
 *
 * Input: a synthesized JSON-lines file held in memory (per block an
 * eth_getBlockByNumber response with full transactions, then an
 * eth_getBlockReceipts response with one ERC-20 Transfer log per tx), and,
 * when the fixtures are present, ethereum-etl's recorded responses. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coinhound/evm.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static void put(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(buf *b, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (k >= 0 && (size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        b->cap = b->cap ? b->cap * 2 : 1 << 20;
        b->p = realloc(b->p, b->cap);
        if (!b->p) abort();
    }
}

/* 20- and 32-byte hex that vary with i, so nothing is trivially repeated */
static const char *hex(uint64_t i, int bytes, char *out) {
    static const char d[] = "0123456789abcdef";
    uint64_t x = i * 0x9e3779b97f4a7c15ull + 1;
    out[0] = '0';
    out[1] = 'x';
    for (int k = 0; k < 2 * bytes; k++) {
        x ^= x >> 13;
        x *= 0xff51afd7ed558ccdull;
        out[2 + k] = d[(x >> 33) & 15];
    }
    out[2 + 2 * bytes] = '\0';
    return out;
}

static void synth(buf *b, int blocks, int txs) {
    char h1[67], h2[67], a1[43], a2[43], a3[43];
    const char *topic = "0x" CH_EVM_TRANSFER_TOPIC;
    for (int n = 0; n < blocks; n++) {
        uint64_t num = 15000000 + (uint64_t)n;
        put(b,
            "{\"jsonrpc\":\"2.0\",\"id\":%d,\"result\":{\"number\":\"0x%llx\",\"hash\":\"%s\","
            "\"parentHash\":\"%s\",\"timestamp\":\"0x62a0a4f0\",\"miner\":\"%s\","
            "\"gasUsed\":\"0x1c9c380\",\"gasLimit\":\"0x1c9c380\",\"baseFeePerGas\":"
            "\"0x8f0d1800\",\"transactions\":[",
            n, (unsigned long long)num, hex(num, 32, h1), hex(num - 1, 32, h2), hex(num, 20, a1));
        for (int t = 0; t < txs; t++) {
            uint64_t id = num * 1000 + (uint64_t)t;
            put(b,
                "%s{\"blockHash\":\"%s\",\"blockNumber\":\"0x%llx\",\"from\":\"%s\","
                "\"gas\":\"0x2d710\",\"gasPrice\":\"0x9502f9000\",\"hash\":\"%s\","
                "\"input\":\"0xa9059cbb000000000000000000000000%s0000000000000000000000000000"
                "0000000000000000000000000000000186a0\",\"nonce\":\"0x%x\",\"to\":\"%s\","
                "\"transactionIndex\":\"0x%x\",\"value\":\"0x%llx\",\"type\":\"0x2\","
                "\"v\":\"0x1\",\"r\":\"%s\",\"s\":\"%s\"}",
                t ? "," : "", h1, (unsigned long long)num, hex(id, 20, a1), hex(id, 32, h2),
                hex(id + 7, 20, a2) + 2, t, hex(id + 3, 20, a3), t,
                (unsigned long long)(id * 1000003), h2, h2);
        }
        put(b, "]}}\n{\"jsonrpc\":\"2.0\",\"id\":%d,\"result\":[", n);
        for (int t = 0; t < txs; t++) {
            uint64_t id = num * 1000 + (uint64_t)t;
            put(b,
                "%s{\"blockHash\":\"%s\",\"blockNumber\":\"0x%llx\",\"contractAddress\":null,"
                "\"cumulativeGasUsed\":\"0x%x\",\"effectiveGasPrice\":\"0x9502f9000\","
                "\"from\":\"%s\",\"gasUsed\":\"0xc6a5\",\"status\":\"0x1\",\"to\":\"%s\","
                "\"transactionHash\":\"%s\",\"transactionIndex\":\"0x%x\",\"type\":\"0x2\","
                "\"logs\":[{\"address\":\"%s\",\"topics\":[\"%s\",\"0x000000000000000000000000%s\","
                "\"0x000000000000000000000000%s\"],\"data\":\"0x000000000000000000000000000000000"
                "00000000000000000000000000186a0\",\"blockNumber\":\"0x%llx\",\"transactionHash\":"
                "\"%s\",\"transactionIndex\":\"0x%x\",\"blockHash\":\"%s\",\"logIndex\":\"0x%x\","
                "\"removed\":false}]}",
                t ? "," : "", h1, (unsigned long long)num, 50853 * (t + 1), hex(id, 20, a1),
                hex(id + 3, 20, a2), hex(id, 32, h2), t, a2, topic, a1 + 2, hex(id + 7, 20, a3) + 2,
                (unsigned long long)num, h2, t, h1, t);
        }
        put(b, "]}\n");
    }
}

static int count_transfer(const ch_evm_transfer *t, void *ctx) {
    (void)t;
    (*(uint64_t *)ctx)++;
    return 0;
}

/* jansson alone over the same documents, one after another */
static double bare_jansson(const char *p, size_t n) {
    double t0 = now();
    size_t off = 0;
    while (off < n) {
        while (off < n && (p[off] == '\n' || p[off] == ' ' || p[off] == '\r' || p[off] == '\t'))
            off++;
        if (off >= n) break;
        json_error_t je;
        json_t *v = json_loadb(p + off, n - off, JSON_DISABLE_EOF_CHECK, &je);
        if (!v) {
            fprintf(stderr, "jansson: %s\n", je.text);
            exit(1);
        }
        json_decref(v);
        off += (size_t)je.position;
    }
    return now() - t0;
}

static double ours(const char *p, size_t n, const char *name, uint64_t *transfers) {
    double t0 = now();
    ch_evm_block *blocks = NULL;
    size_t nb = 0;
    ch_error err = {""};
    if (ch_evm_parse_rpc(p, n, name, &blocks, &nb, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    for (size_t i = 0; i < nb; i++)
        ch_evm_block_transfers(&blocks[i], count_transfer, transfers);
    ch_evm_blocks_free(blocks, nb);
    return now() - t0;
}

static void report(const char *what, size_t bytes, int reps, double t_ours, double t_bare,
                   uint64_t transfers) {
    double mb = (double)bytes * reps / 1e6;
    printf("%s: %.1f kB x %d\n", what, (double)bytes / 1e3, reps);
    printf("  jansson json_loadb alone: %8.1f MB/s\n", mb / t_bare);
    printf("  ch_evm_parse_rpc + transfers: %8.1f MB/s, %.0f transfers/s (%llu transfers)\n",
           mb / t_ours, (double)transfers / t_ours, (unsigned long long)transfers);
    printf("  ratio ours/jansson time: %.2f (jansson's parse is %.0f%% of ours)\n", t_ours / t_bare,
           100.0 * t_bare / t_ours);
}

int main(int argc, char **argv) {
    int blocks = 200, txs = 150, reps = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            blocks = 20, reps = 1;
        else if (!strcmp(argv[i], "--blocks") && i + 1 < argc)
            blocks = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--txs") && i + 1 < argc)
            txs = atoi(argv[++i]);
    }
    buf b = {NULL, 0, 0};
    synth(&b, blocks, txs);
    double tb = 0, to = 0;
    uint64_t transfers = 0;
    /* alternate, so neither side gets all the warm caches */
    for (int r = 0; r < reps; r++) {
        tb += bare_jansson(b.p, b.n);
        uint64_t k = 0;
        to += ours(b.p, b.n, "synth.jsonl", &k);
        transfers = k * (uint64_t)reps;
    }
    char what[96];
    snprintf(what, sizeof what, "synthesized JSON lines, %d blocks x %d txs + receipts", blocks,
             txs);
    report(what, b.n, reps, to, tb, transfers);
    free(b.p);

    /* the recorded responses of ethereum-etl's test suite, many times over */
    const char *root = getenv("COINHOUND_FIXTURES");
    char path[4096];
    snprintf(path, sizeof path,
             "%s/eth/ethereum-etl/tests/resources/test_export_blocks_job/"
             "block_with_logs/web3_response.eth_getBlockByNumber_0x76250_true.json",
             root ? root : "../shared/fixtures");
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("fixtures absent: recorded responses skipped\n");
        return 0;
    }
    buf fx = {NULL, 0, 0};
    fseek(f, 0, SEEK_END);
    fx.n = (size_t)ftell(f);
    rewind(f);
    fx.p = malloc(fx.n);
    if (fread(fx.p, 1, fx.n, f) != fx.n) return 1;
    fclose(f);
    int n = 2000;
    tb = to = 0;
    transfers = 0;
    for (int r = 0; r < n; r++) {
        tb += bare_jansson(fx.p, fx.n);
        to += ours(fx.p, fx.n, path, &transfers);
    }
    report("fixture eth_getBlockByNumber 0x76250 (4 txs)", fx.n, n, to, tb, transfers);
    free(fx.p);
    return 0;
}

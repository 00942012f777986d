/* Ingest from a live node's JSON-RPC URL, against a mock node on 127.0.0.1
 * (libmicrohttpd, an ephemeral port, bounded in requests and time).
 *
 * The mock answers from chains held in memory: the recorded ethereum-etl
 * responses of mainnet blocks 1,755,634-1,755,635, or a chain built here
 * (blocks, receipts with ERC-20 logs, failed txs, contract creations,
 * values above 2^64, callTracer traces, withdrawals). The oracles: the same
 * responses ingested from files (the store must be the same, column files
 * byte for byte and query for query), blockchain-etl's expected outputs,
 * and counts taken from the chain as it was built. */
#include "support/testutil.h"
#include "support/storecmp.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "coinhound/address.h"
#include "coinhound/evm.h"
#include "coinhound/ingest.h"
#include "coinhound/progress.h"
#include "coinhound/store.h"
#include "coinhound/poison.h"

#define STREAM     "eth/ethereum-etl/tests/resources/test_stream/blocks_1755634_1755635"
#define MAX_BLOCKS 64
#define TRANSFER   "0x" CH_EVM_TRANSFER_TOPIC

/* ---------------------------------------------------------------------------
 * Chains the mock serves */

typedef struct chain {
    uint64_t first;
    size_t n;
    json_t *blocks[MAX_BLOCKS];   /* eth_getBlockByNumber(n, true) results */
    json_t *receipts[MAX_BLOCKS]; /* eth_getBlockReceipts(n) results */
    json_t *traces[MAX_BLOCKS];   /* debug_traceBlockByNumber(n) results, or NULL */
    /* counted while building, independently of the parsers */
    size_t txs, erc20, internal, withdrawals;
} chain;

static void chain_free(chain *c) {
    for (size_t i = 0; i < c->n; i++) {
        json_decref(c->blocks[i]);
        json_decref(c->receipts[i]);
        json_decref(c->traces[i]);
    }
    memset(c, 0, sizeof *c);
}

static json_t *hexq(uint64_t v) {
    char s[24];
    snprintf(s, sizeof s, "0x%" PRIx64, v);
    return json_string(s);
}

static json_t *addr(uint64_t k) {
    char s[48];
    snprintf(s, sizeof s, "0x%040" PRIx64, k);
    return json_string(s);
}

static json_t *hash32(uint64_t tag, uint64_t a, uint64_t b) {
    char s[72];
    snprintf(s, sizeof s, "0x%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64, tag, a, b,
             (uint64_t)0xc01);
    return json_string(s);
}

/* A 32-byte word (topic or log data) holding k. */
static json_t *word(uint64_t k) {
    char s[72];
    snprintf(s, sizeof s, "0x%064" PRIx64, k);
    return json_string(s);
}

enum { TX_PLAIN, TX_ERC20, TX_FAILED, TX_CALL, TX_BIG };

/* One transaction of the built chain, with its receipt and trace. */
static void build_tx(chain *c, size_t i, size_t t, uint32_t v, json_t *bhash, json_t *txs,
                     json_t *rcs, json_t *trs, uint64_t *gas, uint32_t *log_index) {
    uint64_t number = c->first + i;
    int kind = (int)((number + t + v) % 5);
    bool create = t == 0 && number % 7 == 0;
    json_t *h = hash32(0x7a, number * 16 + t, v);
    uint64_t from = 1 + (number + t) % 9, to = 0, value = 0;
    const char *big = NULL;
    switch (kind) {
    case TX_PLAIN:
        to = 20 + t, value = (t + 1) * 1000000000000000ULL;
        break;
    case TX_ERC20:
        to = 0x70ce;
        break;
    case TX_FAILED:
        to = 60, value = 7;
        break;
    case TX_CALL:
        to = 0xc0de, value = 1000;
        break;
    case TX_BIG:
        to = 80, big = "0x1000000000000000000001";
        break; /* 2^84 + 1 wei */
    }
    if (create) to = 0, value = 0, big = NULL, kind = TX_PLAIN;
    uint64_t used = 21000 + 1000 * t;
    *gas += used;
    json_t *tx =
        json_pack("{s:O, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:s, s:o, s:O}", "hash", h,
                  "transactionIndex", hexq(t), "nonce", hexq(number * 10 + t), "from", addr(from),
                  "to", to ? addr(to) : json_null(), "value", big ? json_string(big) : hexq(value),
                  "gas", hexq(300000), "gasPrice", hexq(1000000000 + number), "input", "0x", "type",
                  "0x2", "blockNumber", hexq(number), "blockHash", bhash);
    json_t *logs = json_array();
    if (kind == TX_ERC20) {
        json_array_append_new(
            logs, json_pack("{s:o, s:[s, o, o], s:o, s:o, s:o, s:O, s:o, s:O, s:b}", "address",
                            addr(0x70ce), "topics", TRANSFER, word(from), word(50 + t), "data",
                            word(number * 1000 + t), "logIndex", hexq((*log_index)++),
                            "transactionIndex", hexq(t), "transactionHash", h, "blockNumber",
                            hexq(number), "blockHash", bhash, "removed", 0));
        c->erc20++;
    }
    json_t *rc =
        json_pack("{s:O, s:o, s:o, s:O, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "transactionHash",
                  h, "transactionIndex", hexq(t), "blockNumber", hexq(number), "blockHash", bhash,
                  "from", addr(from), "to", to ? addr(to) : json_null(), "status",
                  hexq(kind == TX_FAILED ? 0 : 1), "gasUsed", hexq(used), "cumulativeGasUsed",
                  hexq(*gas), "effectiveGasPrice", hexq(1000000000 + number), "contractAddress",
                  create ? addr(0xc0000 + number) : json_null(), "logs", logs);
    /* callTracer: the top frame repeats the tx; a CALL tx pays on 400 wei */
    json_t *top = json_pack(
        "{s:s, s:o, s:o, s:o, s:s, s:s, s:s}", "type", create ? "CREATE" : "CALL", "from",
        addr(from), "to", addr(create ? 0xc0000 + number : to), "value",
        big ? json_string(big) : hexq(value), "gas", "0x0", "gasUsed", "0x0", "input", "0x");
    if (kind == TX_FAILED) json_object_set_new(top, "error", json_string("execution reverted"));
    if (kind == TX_CALL) {
        json_object_set_new(top, "calls",
                            json_pack("[{s:s, s:o, s:o, s:o, s:s, s:s, s:s}]", "type", "CALL",
                                      "from", addr(0xc0de), "to", addr(70 + t), "value", hexq(400),
                                      "gas", "0x0", "gasUsed", "0x0", "input", "0x"));
        c->internal++;
    }
    json_array_append_new(trs, json_pack("{s:O, s:o}", "txHash", h, "result", top));
    json_array_append_new(txs, tx);
    json_array_append_new(rcs, rc);
    json_decref(h);
    c->txs++;
}

/* n blocks from `first`; from index fork_at on (when >= 0) the blocks are
 * variant `v`: other hashes, other transactions. */
static void build_chain(chain *c, uint64_t first, size_t n, int fork_at, uint32_t variant) {
    memset(c, 0, sizeof *c);
    c->first = first;
    c->n = n;
    json_t *parent = hash32(0xb10c, first - 1, 0);
    for (size_t i = 0; i < n; i++) {
        uint64_t number = first + i;
        uint32_t v = fork_at >= 0 && (int)i >= fork_at ? variant : 0;
        json_t *bh = hash32(0xb10c, number, v);
        json_t *txs = json_array(), *rcs = json_array(), *trs = json_array(), *wds = json_array();
        uint64_t gas = 0;
        uint32_t log_index = 0;
        size_t ntx = (number * 3 + v) % 5;
        for (size_t t = 0; t < ntx; t++)
            build_tx(c, i, t, v, bh, txs, rcs, trs, &gas, &log_index);
        if (number % 5 == 0) {
            json_array_append_new(wds, json_pack("{s:o, s:o, s:o, s:o}", "index", hexq(number),
                                                 "validatorIndex", hexq(7), "address", addr(0x5a1),
                                                 "amount", hexq(32000 + v)));
            c->withdrawals++;
        }
        c->blocks[i] =
            json_pack("{s:o, s:O, s:O, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "number", hexq(number),
                      "hash", bh, "parentHash", parent, "timestamp", hexq(1700000000 + number * 12),
                      "miner", addr(0xfee), "gasUsed", hexq(gas), "gasLimit", hexq(30000000),
                      "baseFeePerGas", hexq(7), "transactions", txs, "withdrawals", wds);
        c->receipts[i] = rcs;
        c->traces[i] = trs;
        json_decref(parent);
        parent = bh;
    }
    json_decref(parent);
}

/* The recorded responses of blocks 1,755,634-1,755,635: two blocks, and
 * per-tx receipts grouped here into what eth_getBlockReceipts would say. */
static bool load_fixture_chain(chain *c) {
    const char *dir = tu_fixture(STREAM);
    if (!dir) return false;
    memset(c, 0, sizeof *c);
    c->first = 1755634;
    c->n = 2;
    static const char *const rcpt[] = {
        "0x2e3dcd051a91d3a694f6b8de2ac4b5fe7acdba55f58bcf8471ff00d4a430074d",
        "0x9a5437ec71b74ecf5930b406908ac6999966d38a86d1534b7190ece7599095eb"};
    char path[4096];
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path,
                 "%s/%s/web3_response.eth_getBlockByNumber_0x%" PRIx64 "_true.json",
                 tu_fixtures_dir(), STREAM, c->first + i);
        json_t *doc = json_load_file(path, 0, NULL);
        assert_non_null(doc);
        c->blocks[i] = json_incref(json_object_get(doc, "result"));
        c->receipts[i] = json_array();
        c->txs += json_array_size(json_object_get(c->blocks[i], "transactions"));
        json_decref(doc);
    }
    for (size_t k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s/web3_response.eth_getTransactionReceipt_%s.json",
                 tu_fixtures_dir(), STREAM, rcpt[k]);
        json_t *doc = json_load_file(path, 0, NULL);
        assert_non_null(doc);
        json_t *r = json_object_get(doc, "result");
        uint64_t number = strtoull(json_string_value(json_object_get(r, "blockNumber")), NULL, 16);
        assert_true(number >= c->first && number < c->first + c->n);
        json_array_append(c->receipts[number - c->first], r); /* in tx order already */
        json_decref(doc);
    }
    return true;
}

/* The chain as response files: responses.jsonl (blocks and receipts) and,
 * with traces, one debug_traceBlockByNumber file per block (a callTracer
 * result says its block only through the file's name). */
static void write_chain_files(const chain *c, const char *dir, bool traces) {
    char path[4096];
    snprintf(path, sizeof path, "%s/responses.jsonl", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (size_t i = 0; i < c->n; i++) {
        json_t *a = json_pack("{s:s, s:i, s:O}", "jsonrpc", "2.0", "id", 1, "result", c->blocks[i]);
        json_t *b =
            json_pack("{s:s, s:i, s:O}", "jsonrpc", "2.0", "id", 2, "result", c->receipts[i]);
        json_dumpf(a, f, JSON_COMPACT);
        fputc('\n', f);
        json_dumpf(b, f, JSON_COMPACT);
        fputc('\n', f);
        json_decref(a);
        json_decref(b);
        if (!traces) continue;
        snprintf(path, sizeof path, "%s/web3_response.debug_traceBlockByNumber_0x%" PRIx64 ".json",
                 dir, c->first + i);
        json_t *t = json_pack("{s:s, s:i, s:O}", "jsonrpc", "2.0", "id", 3, "result", c->traces[i]);
        assert_int_equal(json_dump_file(t, path, JSON_COMPACT), 0);
        json_decref(t);
    }
    fclose(f);
}

/* ---------------------------------------------------------------------------
 * The mock node */

enum { M_NORMAL, M_HTTP500, M_RPC_ERROR, M_SLOW, M_GARBAGE };
enum { K_BLOCKNUMBER, K_BLOCK_FULL, K_BLOCK_HEADER, K_BLOCK_RECEIPTS, K_TX_RECEIPT, K_TRACE, K_N };

typedef struct mock {
    struct MHD_Daemon *d;
    char url[64];
    pthread_mutex_t mu;
    const chain *c;
    /* behaviour */
    int plan[8]; /* what requests 1, 2, ... get; then M_NORMAL */
    unsigned n_plan;
    unsigned fail_after; /* > 0: every request after this many fails with HTTP 500 */
    bool no_block_receipts;
    bool no_traces; /* debug_traceBlockByNumber answers "method not found" */
    /* no_traces says it so (NULL: -32601 "the method ... does not exist") */
    const char *no_traces_msg;
    unsigned max_requests;
    double deadline;
    /* what it saw */
    unsigned requests, max_calls;
    unsigned calls[K_N];
    uint64_t lo, hi; /* blocks asked with full transactions */
} mock;

typedef struct body {
    char *p;
    size_t n;
} body;

static uint64_t param_number(json_t *params) {
    json_t *q = json_array_get(params, 0);
    return json_is_string(q) ? strtoull(json_string_value(q), NULL, 16) : UINT64_MAX;
}

static json_t *rpc_error(json_t *id, int code, const char *msg) {
    return json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id, "error", "code", code,
                     "message", msg);
}

/* The answer to one call (counted under m->mu). */
static json_t *answer(mock *m, json_t *call) {
    const chain *c = m->c;
    json_t *id = json_object_get(call, "id");
    const char *method = json_string_value(json_object_get(call, "method"));
    json_t *params = json_object_get(call, "params");
    json_t *res = NULL;
    if (!method) return rpc_error(id, -32600, "invalid request");
    uint64_t k = param_number(params);
    bool have = k >= c->first && k < c->first + c->n;
    size_t i = have ? k - c->first : 0;
    if (!strcmp(method, "eth_blockNumber")) {
        m->calls[K_BLOCKNUMBER]++;
        res = hexq(c->first + c->n - 1);
    } else if (!strcmp(method, "eth_getBlockByNumber")) {
        bool full = json_is_true(json_array_get(params, 1));
        m->calls[full ? K_BLOCK_FULL : K_BLOCK_HEADER]++;
        if (full && have) {
            m->lo = k < m->lo ? k : m->lo;
            m->hi = k > m->hi ? k : m->hi;
        }
        if (!have) {
            res = json_null();
        } else if (full) {
            res = json_incref(c->blocks[i]);
        } else { /* hashes only, as a node gives them */
            res = json_deep_copy(c->blocks[i]);
            json_t *hashes = json_array(), *txs = json_object_get(c->blocks[i], "transactions");
            for (size_t t = 0; t < json_array_size(txs); t++)
                json_array_append(hashes, json_object_get(json_array_get(txs, t), "hash"));
            json_object_set_new(res, "transactions", hashes);
        }
    } else if (!strcmp(method, "eth_getBlockReceipts")) {
        m->calls[K_BLOCK_RECEIPTS]++;
        if (m->no_block_receipts)
            return rpc_error(id, -32601,
                             "the method eth_getBlockReceipts does not exist/is not available");
        res = have ? json_incref(c->receipts[i]) : json_null();
    } else if (!strcmp(method, "eth_getTransactionReceipt")) {
        m->calls[K_TX_RECEIPT]++;
        const char *h = json_string_value(json_array_get(params, 0));
        for (size_t b = 0; b < c->n && !res && h; b++)
            for (size_t t = 0; t < json_array_size(c->receipts[b]) && !res; t++) {
                json_t *r = json_array_get(c->receipts[b], t);
                if (!strcmp(json_string_value(json_object_get(r, "transactionHash")), h))
                    res = json_incref(r);
            }
        if (!res) res = json_null();
    } else if (!strcmp(method, "debug_traceBlockByNumber")) {
        m->calls[K_TRACE]++;
        if (m->no_traces && m->no_traces_msg) return rpc_error(id, -32000, m->no_traces_msg);
        if (m->no_traces)
            return rpc_error(id, -32601,
                             "the method debug_traceBlockByNumber does not exist/is not available");
        res = have && c->traces[i] ? json_incref(c->traces[i]) : json_array();
    } else {
        return rpc_error(id, -32601, "the method does not exist/is not available");
    }
    return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result", res);
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, char *text) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ok = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result handle(mock *m, struct MHD_Connection *conn, const body *b) {
    pthread_mutex_lock(&m->mu);
    unsigned nth = ++m->requests;
    int mode = nth <= m->n_plan ? m->plan[nth - 1] : M_NORMAL;
    if (m->fail_after && nth > m->fail_after) mode = M_HTTP500;
    bool over = nth > m->max_requests || ch_now() > m->deadline;
    pthread_mutex_unlock(&m->mu);
    if (over) return reply(conn, 503, strdup("{\"error\":\"the mock node's budget is spent\"}"));
    if (mode == M_HTTP500) return reply(conn, 500, strdup("internal error"));
    if (mode == M_GARBAGE) return reply(conn, 200, strdup("[{\"jsonrpc\":\"2.0\",\"id\":1,\"res"));
    if (mode == M_SLOW) usleep(1500 * 1000); /* past the client's timeout */
    json_t *calls = json_loadb(b->p ? b->p : "", b->n, 0, NULL);
    if (!json_is_array(calls)) {
        json_decref(calls);
        return reply(conn, 400, strdup("{\"error\":\"a batch was expected\"}"));
    }
    json_t *out = json_array();
    pthread_mutex_lock(&m->mu);
    if (json_array_size(calls) > m->max_calls) m->max_calls = (unsigned)json_array_size(calls);
    /* backwards: answers need not come in the order of the calls */
    for (size_t i = json_array_size(calls); i-- > 0;) {
        json_t *call = json_array_get(calls, i);
        json_array_append_new(out, mode == M_RPC_ERROR ? rpc_error(json_object_get(call, "id"),
                                                                   -32000, "server is busy")
                                                       : answer(m, call));
    }
    pthread_mutex_unlock(&m->mu);
    char *text = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    json_decref(calls);
    return reply(conn, 200, text);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
    (void)url;
    (void)version;
    body *b = *con_cls;
    if (!b) { /* headers only so far */
        *con_cls = calloc(1, sizeof *b);
        return *con_cls ? MHD_YES : MHD_NO;
    }
    if (*upload_data_size) {
        char *p = realloc(b->p, b->n + *upload_data_size + 1);
        if (!p) return MHD_NO;
        memcpy(p + b->n, upload_data, *upload_data_size);
        b->p = p;
        b->n += *upload_data_size;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "POST") != 0) return reply(conn, 405, strdup("{}"));
    return handle(cls, conn, b);
}

static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                    enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)conn;
    (void)toe;
    body *b = *con_cls;
    if (b) free(b->p);
    free(b);
    *con_cls = NULL;
}

/* Start on 127.0.0.1, an ephemeral port; at most 2,000 requests within 60 s. */
static void mock_start(mock *m, const chain *c) {
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
    m->c = c;
    m->max_requests = 2000;
    m->deadline = ch_now() + 60;
    m->lo = UINT64_MAX;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    m->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
                            NULL, NULL, on_request, m, MHD_OPTION_SOCK_ADDR, &sa,
                            MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
                            MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    assert_non_null(m->d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(info);
    snprintf(m->url, sizeof m->url, "http://127.0.0.1:%u/", (unsigned)info->port);
}

static void mock_stop(mock *m) {
    MHD_stop_daemon(m->d);
    pthread_mutex_destroy(&m->mu);
}

static void mock_reset_counts(mock *m) {
    pthread_mutex_lock(&m->mu);
    m->requests = m->max_calls = 0;
    memset(m->calls, 0, sizeof m->calls);
    m->lo = UINT64_MAX;
    m->hi = 0;
    pthread_mutex_unlock(&m->mu);
}

/* ---------------------------------------------------------------------------
 * Ingest and compare */

static int node_ingest(const char *url, const char *db, unsigned batch, bool traces, int64_t from,
                       int64_t to, ch_ingest_stats *st, ch_error *err) {
    ch_node_opts no = {.batch = batch, .retries = 3, .traces = traces};
    if (from >= 0) no.from_block = (uint64_t)from, no.has_from = true;
    if (to >= 0) no.to_block = (uint64_t)to, no.has_to = true;
    /* the people's safeguard over each block, as the CLI's ingest runs it,
     * so that stores built here and by the CLI compare equal */
    ch_poison *guard;
    if (ch_poison_new(NULL, &guard, err) != 0) return -1;
    ch_ingest_opts o = {.progress = 0, .on_block = ch_poison_ingest_block, .on_block_ctx = guard};
    ch_ingest_stats local;
    int rc = ch_ingest_evm_node(url, db, "eth", &no, &o, st ? st : &local, err);
    ch_poison_free(guard);
    return rc;
}

static int file_ingest(const char *path, const char *db, ch_error *err) {
    ch_poison *guard;
    if (ch_poison_new(NULL, &guard, err) != 0) return -1;
    ch_ingest_opts o = {.progress = 0, .on_block = ch_poison_ingest_block, .on_block_ctx = guard};
    ch_ingest_stats st;
    int rc = ch_ingest_evm(path, db, "eth", &o, &st, err);
    ch_poison_free(guard);
    return rc;
}

/* Transfers of each kind in a store. */
static void kinds_of(const char *db, uint64_t n[7]) {
    ch_store *s;
    ch_error err;
    memset(n, 0, 7 * sizeof *n);
    assert_int_equal(ch_store_open(db, "eth", CH_STORE_READ, &s, &err), 0);
    for (uint64_t x = 0; x < ch_store_xfer_count(s); x++)
        n[ch_store_xfer(s, x)->kind]++;
    ch_store_close(s);
}

/* All the column bytes of a store, for "unchanged" checks. */
typedef struct snap {
    char *p;
    size_t n;
} snap;

static void assert_same_snap(const snap *a, const snap *b) {
    assert_true(a->n == b->n);
    assert_memory_equal(a->p, b->p, a->n);
}

static snap snapshot(const char *db) {
    snap s = {NULL, 0};
    s.p = tu_store_snapshot(db, "eth", &s.n);
    return s;
}

/* ---------------------------------------------------------------------------
 * Tests */

typedef struct fx {
    char *dbs[4];
    char *files;
} fx;

static int fx_setup(void **state) {
    fx *f = calloc(1, sizeof *f);
    for (int i = 0; i < 4; i++)
        f->dbs[i] = tu_tmpdir();
    f->files = tu_tmpdir();
    *state = f;
    setenv("COINHOUND_RPC_BACKOFF_MS", "5", 1);
    setenv("COINHOUND_RPC_TIMEOUT_MS", "5000", 1);
    return 0;
}

static int fx_teardown(void **state) {
    fx *f = *state;
    for (int i = 0; i < 4; i++) {
        tu_rmrf(f->dbs[i]);
        free(f->dbs[i]);
    }
    tu_rmrf(f->files);
    free(f->files);
    free(f);
    return 0;
}

/* The recorded mainnet responses, through the URL and from files: the same
 * store, and what blockchain-etl exported from them. */
static void test_fixture_url_equals_files(void **state) {
    fx *f = *state;
    chain c;
    if (!load_fixture_chain(&c)) skip();
    mock m;
    mock_start(&m, &c);
    ch_error err;
    ch_ingest_stats st;
    if (node_ingest(m.url, f->dbs[0], 10, false, 1755634, -1, &st, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(st.blocks, 2);
    assert_int_equal(st.tip_height, 1755635);
    assert_int_equal(m.calls[K_BLOCK_RECEIPTS], 2);
    write_chain_files(&c, f->files, false);
    char path[4096];
    snprintf(path, sizeof path, "%s/responses.jsonl", f->files);
    if (file_ingest(path, f->dbs[1], &err) != 0) fail_msg("%s", err.msg);
    tu_assert_same_store(f->dbs[0], f->dbs[1], "eth");
    mock_stop(&m);
    chain_free(&c);
}

static void test_fixture_agrees_with_etl(void **state) {
    fx *f = *state;
    chain c;
    if (!load_fixture_chain(&c)) skip();
    mock m;
    mock_start(&m, &c);
    ch_error err;
    if (node_ingest(m.url, f->dbs[0], 1, false, 1755634, 1755635, NULL, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(m.lo, 1755634);
    assert_int_equal(m.hi, 1755635);
    mock_stop(&m);
    ch_store *s;
    assert_int_equal(ch_store_open(f->dbs[0], "eth", CH_STORE_READ, &s, &err), 0);
    ch_store_counts cnt;
    ch_store_get_counts(s, &cnt);
    assert_int_equal(cnt.blocks, 2);
    assert_int_equal(ch_store_first_number(s), 1755634);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/expected_transactions.json", tu_fixtures_dir(), STREAM);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char line[16384];
    uint64_t n = 0;
    while (fgets(line, sizeof line, fp)) {
        json_t *j = json_loads(line, 0, NULL);
        assert_non_null(j);
        ch_hash256 h;
        const char *hx = json_string_value(json_object_get(j, "hash"));
        assert_int_equal(ch_hex_decode(hx + 2, 64, h.b, 32), 0);
        uint64_t tx;
        assert_int_equal(ch_store_find_tx(s, &h, &tx, &err), 1);
        const ch_etx_rec *e = ch_store_etx(s, tx);
        ch_addr a;
        char buf[128];
        ch_store_addr_of(s, e->from, &a);
        assert_int_equal(ch_addr_to_string(&a, CH_NET_MAINNET, buf), 0);
        assert_string_equal(buf, json_string_value(json_object_get(j, "from_address")));
        ch_store_addr_of(s, e->to, &a);
        assert_int_equal(ch_addr_to_string(&a, CH_NET_MAINNET, buf), 0);
        assert_string_equal(buf, json_string_value(json_object_get(j, "to_address")));
        /* the fee: receipt gas used times the effective price */
        uint64_t first, k;
        ch_store_tx_xfers(s, tx, &first, &k);
        uint64_t fee = 0;
        for (uint64_t x = first; x < first + k; x++)
            if (ch_store_xfer(s, x)->kind == CH_XFER_FEE) fee = ch_store_xfer(s, x)->value_lo;
        assert_true(fee == (uint64_t)json_integer_value(json_object_get(j, "receipt_gas_used")) *
                               (uint64_t)json_integer_value(
                                   json_object_get(j, "receipt_effective_gas_price")));
        json_decref(j);
        n++;
    }
    fclose(fp);
    assert_true(n == cnt.txs);
    /* the one token transfer: 5e18 units of 0xbb9b... */
    uint64_t kinds[7];
    ch_store_close(s);
    kinds_of(f->dbs[0], kinds);
    assert_int_equal(kinds[CH_XFER_TOKEN], 1);
    chain_free(&c);
}

/* A built chain with traces: URL (batches of 7) and files agree, and the
 * store holds what the chain was built with. */
static void test_built_chain_url_equals_files(void **state) {
    fx *f = *state;
    chain c;
    build_chain(&c, 1000, 30, -1, 0);
    mock m;
    mock_start(&m, &c);
    ch_error err;
    ch_ingest_stats st;
    if (node_ingest(m.url, f->dbs[0], 7, true, 1000, -1, &st, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(st.blocks, 30);
    assert_int_equal(m.calls[K_TRACE], 30);
    assert_int_equal(m.max_calls, 21); /* 7 blocks x (block, receipts, trace) */
    write_chain_files(&c, f->files, true);
    if (file_ingest(f->files, f->dbs[1], &err) != 0) fail_msg("%s", err.msg);
    tu_assert_same_store(f->dbs[0], f->dbs[1], "eth");
    ch_store_counts cnt;
    tu_store_counts(f->dbs[0], "eth", &cnt);
    assert_true(cnt.txs == c.txs);
    uint64_t kinds[7];
    kinds_of(f->dbs[0], kinds);
    assert_true(kinds[CH_XFER_TOKEN] == c.erc20);
    assert_true(kinds[CH_XFER_INTERNAL] == c.internal);
    assert_true(kinds[CH_XFER_FEE] == c.txs); /* every tx paid gas, failed ones too */
    assert_true(kinds[CH_XFER_WITHDRAWAL] == c.withdrawals);
    mock_stop(&m);
    chain_free(&c);
}

static void test_batch_sizes_give_same_store(void **state) {
    fx *f = *state;
    chain c;
    build_chain(&c, 500, 23, -1, 0);
    mock m;
    mock_start(&m, &c);
    ch_error err;
    unsigned sizes[] = {1, 7, 50};
    for (int i = 0; i < 3; i++) {
        mock_reset_counts(&m);
        if (node_ingest(m.url, f->dbs[i], sizes[i], false, 500, -1, NULL, &err) != 0)
            fail_msg("batch %u: %s", sizes[i], err.msg);
        unsigned per = 2 * (sizes[i] < 23 ? sizes[i] : 23);
        assert_int_equal(m.max_calls, per);
        assert_int_equal(m.calls[K_BLOCK_FULL], 23);
    }
    tu_assert_same_store(f->dbs[0], f->dbs[1], "eth");
    tu_assert_same_store(f->dbs[0], f->dbs[2], "eth");
    mock_stop(&m);
    chain_free(&c);
}

/* HTTP 500, then a JSON-RPC error, then garbage, then a timeout: each is
 * retried and the store ends as a clean run's. */
static void test_retries_then_succeeds(void **state) {
    fx *f = *state;
    chain c;
    build_chain(&c, 200, 12, -1, 0);
    mock m;
    mock_start(&m, &c);
    ch_error err;
    if (node_ingest(m.url, f->dbs[0], 5, false, 200, -1, NULL, &err) != 0) fail_msg("%s", err.msg);
    mock_reset_counts(&m);
    m.plan[0] = M_HTTP500;
    m.plan[1] = M_RPC_ERROR;
    m.n_plan = 2;
    if (node_ingest(m.url, f->dbs[1], 5, false, 200, -1, NULL, &err) != 0) fail_msg("%s", err.msg);
    /* eth_blockNumber x3 (two failures), then 3 batches */
    assert_int_equal(m.requests, 2 + 1 + 3);
    tu_assert_same_store(f->dbs[0], f->dbs[1], "eth");
    mock_reset_counts(&m);
    m.plan[0] = M_NORMAL;
    m.plan[1] = M_GARBAGE;
    m.plan[2] = M_SLOW;
    m.n_plan = 3;
    setenv("COINHOUND_RPC_TIMEOUT_MS", "300", 1);
    if (node_ingest(m.url, f->dbs[2], 5, false, 200, -1, NULL, &err) != 0) fail_msg("%s", err.msg);
    setenv("COINHOUND_RPC_TIMEOUT_MS", "5000", 1);
    assert_int_equal(m.requests, 1 + 2 + 3);
    tu_assert_same_store(f->dbs[0], f->dbs[2], "eth");
    mock_stop(&m);
    chain_free(&c);
}

/* A node that fails for good: a clear error naming the URL, the method and
 * the block, and the store as it was (the first batch was fetched and
 * placed, but not committed). */
static void test_always_failing_leaves_store_unchanged(void **state) {
    fx *f = *state;
    chain c;
    build_chain(&c, 300, 20, -1, 0);
    mock m;
    mock_start(&m, &c);
    ch_error err;
    if (node_ingest(m.url, f->dbs[0], 4, false, 300, 305, NULL, &err) != 0) fail_msg("%s", err.msg);
    ch_store_counts before, after;
    tu_store_counts(f->dbs[0], "eth", &before);
    snap s1 = snapshot(f->dbs[0]);
    /* eth_blockNumber, the tip check, one batch (306..309): then HTTP 500 */
    mock_reset_counts(&m);
    m.fail_after = 3;
    assert_int_equal(node_ingest(m.url, f->dbs[0], 4, false, -1, -1, NULL, &err), -1);
    print_message("error: %s\n", err.msg);
    assert_non_null(strstr(err.msg, m.url));
    assert_non_null(strstr(err.msg, "eth_getBlockByNumber"));
    assert_non_null(strstr(err.msg, "blocks 310..313"));
    assert_non_null(strstr(err.msg, "HTTP 500"));
    assert_non_null(strstr(err.msg, "4 attempts"));
    assert_int_equal(m.requests, 3 + 4);
    tu_store_counts(f->dbs[0], "eth", &after);
    assert_memory_equal(&before, &after, sizeof before);
    snap s2 = snapshot(f->dbs[0]);
    assert_same_snap(&s1, &s2);
    free(s1.p);
    free(s2.p);
    /* and from the very start: nothing at all */
    mock_reset_counts(&m);
    m.fail_after = 0;
    m.n_plan = 4;
    for (int i = 0; i < 4; i++)
        m.plan[i] = M_HTTP500;
    assert_int_equal(node_ingest(m.url, f->dbs[1], 4, false, -1, -1, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "eth_blockNumber"));
    tu_store_counts(f->dbs[1], "eth", &after);
    assert_int_equal(after.blocks, 0);
    mock_stop(&m);
    chain_free(&c);
}

/* --from-block/--to-block: only those blocks are asked for and stored;
 * then a run without them resumes after the store's tip. */
static void test_from_to_and_resume(void **state) {
    fx *f = *state;
    chain c;
    build_chain(&c, 700, 25, -1, 0);
    mock m;
    mock_start(&m, &c);
    ch_error err;
    ch_ingest_stats st;
    if (node_ingest(m.url, f->dbs[0], 3, false, 705, 712, &st, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(m.lo, 705);
    assert_int_equal(m.hi, 712);
    assert_int_equal(st.blocks, 8);
    assert_int_equal(st.start_height, 705);
    assert_int_equal(st.tip_height, 712);
    mock_reset_counts(&m);
    if (node_ingest(m.url, f->dbs[0], 3, false, -1, -1, &st, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(m.lo, 713); /* the tip check reads headers only */
    assert_int_equal(m.hi, 724);
    assert_int_equal(m.calls[K_BLOCK_HEADER], 1);
    assert_int_equal(st.blocks, 12);
    /* once more: nothing new */
    if (node_ingest(m.url, f->dbs[0], 3, false, -1, -1, &st, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(st.blocks, 0);
    /* one run over 705..724 gives the same store */
    if (node_ingest(m.url, f->dbs[1], 3, false, 705, -1, &st, &err) != 0) fail_msg("%s", err.msg);
    tu_assert_same_store(f->dbs[0], f->dbs[1], "eth");
    /* an explicit range over stored blocks re-reads them and changes nothing */
    snap s1 = snapshot(f->dbs[0]);
    if (node_ingest(m.url, f->dbs[0], 3, false, 710, 720, &st, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(st.blocks, 0);
    snap s2 = snapshot(f->dbs[0]);
    assert_same_snap(&s1, &s2);
    free(s1.p);
    free(s2.p);
    /* a range past the node's head, or backwards, is refused */
    assert_int_equal(node_ingest(m.url, f->dbs[2], 3, false, 700, 800, &st, &err), -1);
    assert_non_null(strstr(err.msg, "latest block 724"));
    assert_int_equal(node_ingest(m.url, f->dbs[2], 3, false, 710, 705, &st, &err), -1);
    mock_stop(&m);
    chain_free(&c);
}

/* A node without eth_getBlockReceipts is asked per transaction, and the
 * store is the same. */
static void test_receipts_per_tx_fallback(void **state) {
    fx *f = *state;
    chain c;
    build_chain(&c, 40, 15, -1, 0);
    mock m;
    mock_start(&m, &c);
    ch_error err;
    if (node_ingest(m.url, f->dbs[0], 4, false, 40, -1, NULL, &err) != 0) fail_msg("%s", err.msg);
    mock_reset_counts(&m);
    m.no_block_receipts = true;
    if (node_ingest(m.url, f->dbs[1], 4, false, 40, -1, NULL, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(m.calls[K_BLOCK_RECEIPTS], 4); /* asked once, in the first batch */
    assert_true(m.calls[K_TX_RECEIPT] == c.txs);
    tu_assert_same_store(f->dbs[0], f->dbs[1], "eth");
    mock_stop(&m);
    chain_free(&c);
}

/* The node's chain reorganised while we were away: the resume walks back to
 * the common block and the new branch replaces the store's. */
static void test_node_reorg(void **state) {
    fx *f = *state;
    chain a, b;
    build_chain(&a, 900, 30, -1, 0);
    build_chain(&b, 900, 33, 26, 1); /* 926.. differ, and the branch is longer */
    mock m;
    mock_start(&m, &a);
    ch_error err;
    ch_ingest_stats st;
    if (node_ingest(m.url, f->dbs[0], 8, false, 900, -1, &st, &err) != 0) fail_msg("%s", err.msg);
    mock_stop(&m);
    mock_start(&m, &b);
    if (node_ingest(m.url, f->dbs[0], 8, false, -1, -1, &st, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(st.reorg_height, 926);
    assert_int_equal(st.tip_height, 932);
    assert_int_equal(st.blocks, 7);
    assert_int_equal(m.calls[K_BLOCK_HEADER], 5); /* 929, 928, 927, 926 differ; 925 agrees */
    if (node_ingest(m.url, f->dbs[1], 8, false, 900, -1, &st, &err) != 0) fail_msg("%s", err.msg);
    tu_assert_same_store(f->dbs[0], f->dbs[1], "eth");
    mock_stop(&m);
    chain_free(&a);
    chain_free(&b);
}

/* The CLI against the mock node, with its options. */
static void test_cli_url(void **state) {
    fx *f = *state;
    const char *bin = tu_bin("coinhound");
    if (access(bin, X_OK) != 0) fail_msg("%s is not built", bin);
    chain c;
    build_chain(&c, 100, 20, -1, 0);
    mock m;
    mock_start(&m, &c);
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "%s ingest eth %s --db %s --from-block 103 --to-block 111 --batch 4 --json "
             "--no-progress 2>&1",
             bin, m.url, f->dbs[0]);
    int status;
    char *out = tu_run(cmd, &status);
    if (status != 0) fail_msg("exit %d: %s", status, out);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "blocks")), 9);
    assert_int_equal(json_integer_value(json_object_get(j, "tip_height")), 111);
    json_decref(j);
    free(out);
    assert_int_equal(m.lo, 103);
    assert_int_equal(m.hi, 111);
    assert_int_equal(m.max_calls, 8);
    ch_error err;
    if (node_ingest(m.url, f->dbs[1], 10, false, 103, 111, NULL, &err) != 0)
        fail_msg("%s", err.msg);
    tu_assert_same_store(f->dbs[0], f->dbs[1], "eth");
    mock_stop(&m);
    chain_free(&c);
}

/* How many times text occurs in the file at path. */
static int count_in_file(const char *path, const char *text) {
    size_t len;
    char *t = (char *)tu_read_file(path, &len);
    int n = 0;
    for (const char *p = t; p && (p = strstr(p, text)); p += strlen(text))
        n++;
    free(t);
    return n;
}

/* `coinhound watch eth` (with flag: --no-traces, or NULL) against the mock
 * from block 100 of a 20-block chain, until its status line names the tip
 * (119), then SIGTERM: exit 0. Its log in log. */
static void watch_mock(const mock *m, const char *db, const char *log, const char *flag) {
    char rules[4200];
    snprintf(rules, sizeof rules, "%s/rules.yaml", db);
    FILE *o = fopen(rules, "w");
    assert_non_null(o);
    fputs("rules:\n  - name: big\n    kind: large_transfer\n    asset: ETH\n    min: \"1\"\n", o);
    fclose(o);
    const char *argv[] = {tu_bin("coinhound"),
                          "watch",
                          "eth",
                          "--rpc",
                          m->url,
                          "--db",
                          db,
                          "--rules",
                          rules,
                          "--from-block",
                          "100",
                          "--poll-ms",
                          "200",
                          "--heartbeat",
                          "1",
                          flag,
                          NULL};
    int before = count_in_file(log, "info: following ");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int e = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644), out = open("/dev/null", O_WRONLY);
        if (e < 0 || out < 0) _exit(127);
        dup2(out, 1);
        dup2(e, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    char want[200];
    snprintf(want, sizeof want, "info: following %s: at block 119,", m->url);
    for (int i = 0; i < 300 && count_in_file(log, want) <= before; i++)
        usleep(100 * 1000);
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
    if (count_in_file(log, want) <= before) {
        size_t len;
        char *t = (char *)tu_read_file(log, &len);
        fail_msg("the watcher did not reach block 119: %s", t ? t : "(no log)");
    }
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* watch eth fetches each block's callTracer traces where the node has
 * them (the value contracts move is only there), with no flag: it asks the
 * node once (the tip's trace) and says so; its store equals an ingest with
 * --traces. Against a node without debug_traceBlockByNumber it says once
 * that internal transfers are not seen, asks no more, and follows the node
 * without them: its store equals an ingest without; so too against one
 * whose trace call says its debug namespace is disabled (-32000, as
 * hosted nodes put it: no "method" in the words); and with --no-traces it
 * never asks. */
static void test_watch_takes_traces_where_the_node_has_them(void **state) {
    fx *f = *state;
    chain c;
    build_chain(&c, 100, 20, -1, 0);
    mock m;
    char log[4200];
    snprintf(log, sizeof log, "%s/watch.log", f->dbs[3]);
    ch_error err;
    /* a node with traces */
    mock_start(&m, &c);
    watch_mock(&m, f->dbs[0], log, NULL);
    assert_true(m.calls[K_TRACE] >= 21); /* the tip's, then the blocks' */
    assert_int_equal(count_in_file(log, "info: traces: on ("), 1);
    mock_stop(&m);
    mock_start(&m, &c);
    if (node_ingest(m.url, f->dbs[1], 10, true, 100, -1, NULL, &err) != 0) fail_msg("%s", err.msg);
    mock_stop(&m);
    tu_assert_same_store(f->dbs[0], f->dbs[1], "eth");
    tu_rmrf(f->dbs[0]);
    tu_rmrf(f->dbs[1]);
    assert_int_equal(mkdir(f->dbs[0], 0755), 0);
    assert_int_equal(mkdir(f->dbs[1], 0755), 0);
    /* a node without: one warning, asked once, then followed without */
    mock_start(&m, &c);
    m.no_traces = true;
    watch_mock(&m, f->dbs[0], log, NULL);
    assert_int_equal(count_in_file(log, "does not answer debug_traceBlockByNumber (JSON-RPC error "
                                        "-32601 the method debug_traceBlockByNumber does not "
                                        "exist/is not available): internal transfers are not "
                                        "seen"),
                     1);
    assert_int_equal(count_in_file(log, " warn: "), 1);
    assert_int_equal(m.calls[K_TRACE], 1);
    mock_stop(&m);
    mock_start(&m, &c);
    if (node_ingest(m.url, f->dbs[1], 10, false, 100, -1, NULL, &err) != 0) fail_msg("%s", err.msg);
    mock_stop(&m);
    tu_assert_same_store(f->dbs[0], f->dbs[1], "eth");
    /* the debug namespace disabled: a node without traces too, not a
     * passing failure (no wait for traces) */
    mock_start(&m, &c);
    m.no_traces = true;
    m.no_traces_msg = "the debug namespace is disabled on this endpoint";
    watch_mock(&m, f->dbs[2], log, NULL);
    assert_int_equal(count_in_file(log, "does not answer debug_traceBlockByNumber (JSON-RPC error "
                                        "-32000 the debug namespace is disabled on this endpoint)"),
                     1);
    assert_int_equal(count_in_file(log, " warn: "), 2); /* the one before, this one */
    assert_int_equal(m.calls[K_TRACE], 1);
    mock_stop(&m);
    tu_assert_same_store(f->dbs[2], f->dbs[1], "eth");
    tu_rmrf(f->dbs[2]);
    assert_int_equal(mkdir(f->dbs[2], 0755), 0);
    /* --no-traces: never asked */
    mock_start(&m, &c);
    watch_mock(&m, f->dbs[2], log, "--no-traces");
    assert_int_equal(m.calls[K_TRACE], 0);
    mock_stop(&m);
    tu_assert_same_store(f->dbs[2], f->dbs[1], "eth");
    chain_free(&c);
}

int main(void) {
    alarm(600); /* whatever happens, the test and its mock node end */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fixture_url_equals_files, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_fixture_agrees_with_etl, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_built_chain_url_equals_files, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_batch_sizes_give_same_store, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_retries_then_succeeds, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_always_failing_leaves_store_unchanged, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_from_to_and_resume, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_receipts_per_tx_fallback, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_node_reorg, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_cli_url, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_watch_takes_traces_where_the_node_has_them, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

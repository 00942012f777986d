/* A JSON-RPC client of an EVM node over HTTP (libcurl): see node.h.
 *
 * Every request is a JSON-RPC batch (an array), even of one call, so one
 * code path reads every answer. Answers may come in any order; they are
 * matched to calls by id. Each answer is handed to the response parser
 * (rpc.c) on its own, under a name that says the URL, the method and the
 * block: the parser's messages then say where a bad answer came from, and a
 * callTracer trace (which does not name its block) gets its block from that
 * name. */
#include "chains/eth/node.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chains/eth/evm_internal.h"
#include "util/curlstop.h"
#include "util/vec.h"

#define RECEIPT_CALLS_PER_REQUEST 100
#define BACKOFF_CAP_MS            10000
#define MAX_RESPONSE_BYTES        ((size_t)1 << 30)

struct evm_node {
    evm_node_cfg cfg;
    char *url;
    CURL *curl;
    struct curl_slist *headers;
    char curl_err[CURL_ERROR_SIZE];
    evm_node_stats stats;
};

/* --- one batch of calls ---------------------------------------------------- */

typedef struct call {
    const char *method;
    uint64_t block;   /* the block the call concerns */
    json_t *params;   /* owned until the batch is freed */
    json_t *response; /* the answer object, borrowed from batch.doc */
} call;

typedef struct batch {
    call *v;
    size_t n, cap;
    json_t *doc;           /* the parsed answer */
    size_t missing_method; /* index of a call whose method the node lacks */
    /* the call whose answer made the last attempt fail; SIZE_MAX when the
     * whole request failed (no answer, HTTP error, not JSON-RPC) */
    size_t bad_call;
} batch;

static void batch_free(batch *b) {
    for (size_t i = 0; i < b->n; i++)
        json_decref(b->v[i].params);
    free(b->v);
    json_decref(b->doc);
    memset(b, 0, sizeof *b);
}

/* Takes the reference to params. */
static int batch_add(batch *b, const char *method, uint64_t block, json_t *params, ch_error *err) {
    if (!params) return ch_err(err, "out of memory");
    call *v = ch_grow(b->v, &b->cap, b->n + 1, sizeof *v);
    if (!v) {
        json_decref(params);
        return ch_err(err, "out of memory");
    }
    b->v = v;
    b->v[b->n++] = (call){.method = method, .block = block, .params = params};
    return 0;
}

static json_t *hex_quantity(uint64_t v) {
    char s[24];
    snprintf(s, sizeof s, "0x%" PRIx64, v);
    return json_string(s);
}

/* "eth_getBlockByNumber, eth_getBlockReceipts for blocks 10..19" */
static void batch_describe(const batch *b, char *out, size_t cap) {
    size_t len = 0;
    out[0] = '\0';
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < b->n; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !strcmp(b->v[j].method, b->v[i].method);
        if (!seen && len < cap)
            len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? ", " : "", b->v[i].method);
        if (b->v[i].block != UINT64_MAX) {
            lo = b->v[i].block < lo ? b->v[i].block : lo;
            hi = b->v[i].block > hi ? b->v[i].block : hi;
        }
    }
    if (lo == UINT64_MAX || len >= cap) return;
    if (lo == hi)
        snprintf(out + len, cap - len, " for block %" PRIu64, lo);
    else
        snprintf(out + len, cap - len, " for blocks %" PRIu64 "..%" PRIu64, lo, hi);
}

/* --- HTTP ------------------------------------------------------------------ */

typedef struct buf {
    char *p;
    size_t n, cap;
    bool too_big;
} buf;

static size_t on_data(char *data, size_t size, size_t nmemb, void *ctx) {
    buf *b = ctx;
    size_t n = size * nmemb;
    if (b->n + n + 1 > MAX_RESPONSE_BYTES) {
        b->too_big = true;
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    }
    char *p = ch_grow(b->p, &b->cap, b->n + n + 1, 1);
    if (!p) return 0; /* curl stops with CURLE_WRITE_ERROR */
    b->p = p;
    memcpy(b->p + b->n, data, n);
    b->n += n;
    b->p[b->n] = '\0';
    return n;
}

static bool stopped(const evm_node *n) {
    return n->cfg.stop && *n->cfg.stop;
}

/* POST body; 0 with the answer in *out, -1 with the reason in err. */
static int http_post(evm_node *n, const char *body, buf *out, ch_error *err) {
    out->n = 0;
    out->too_big = false;
    n->curl_err[0] = '\0';
    curl_easy_setopt(n->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(n->curl, CURLOPT_WRITEDATA, out);
    n->stats.http_requests++;
    CURLcode cc = curl_easy_perform(n->curl);
    n->stats.bytes += out->n;
    if (out->too_big) return ch_err(err, "the answer is larger than %zu bytes", MAX_RESPONSE_BYTES);
    if (cc == CURLE_ABORTED_BY_CALLBACK) return ch_err(err, "given up: stopping");
    if (cc == CURLE_OPERATION_TIMEDOUT) /* a slow node, said as such */
        return ch_err(err, "no answer within %.1f s (the node is slow or stalled)",
                      (n->cfg.timeout_ms > 0 ? n->cfg.timeout_ms : 120000) / 1e3);
    if (cc != CURLE_OK)
        return ch_err(err, "%s", n->curl_err[0] ? n->curl_err : curl_easy_strerror(cc));
    long status = 0;
    curl_easy_getinfo(n->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        /* a short excerpt of the body often says why (rate limit, auth) */
        int show = out->n > 120 ? 120 : (int)out->n;
        return ch_err(err, "HTTP %ld%s%.*s", status, show ? ": " : "", show, out->p ? out->p : "");
    }
    return 0;
}

/* --- one attempt ------------------------------------------------------------ */

enum { ATT_OK = 0, ATT_RETRY = -1, ATT_FATAL = -2, ATT_NO_METHOD = 1 };

/* The node does not have this method (as opposed to failing to run it):
 * -32601 is the JSON-RPC code; some nodes send -32600 or -32000 with words. */
static bool is_no_method(json_int_t code, const char *msg) {
    if (code == -32601) return true;
    if (!msg || !strstr(msg, "method")) return false;
    return strstr(msg, "not found") || strstr(msg, "does not exist") ||
           strstr(msg, "not supported") || strstr(msg, "unsupported") ||
           strstr(msg, "not available");
}

/* A node that will not trace, said otherwise than "method not found": a
 * debug namespace (or API) disabled or not enabled, the tracer or the call
 * unsupported. Words, compared without case, as nodes and providers put
 * them. */
static bool is_no_tracing(const char *msg) {
    static const char *const words[] = {"namespace",   "disabled",      "not enabled",
                                        "unsupported", "not supported", "tracer not found"};
    for (size_t i = 0; msg && i < sizeof words / sizeof *words; i++)
        if (strcasestr(msg, words[i])) return true;
    return false;
}

static bool is_trace_call(const call *c) {
    return !strcmp(c->method, "debug_traceBlockByNumber");
}

/* A result the call may not have: no such block (yet), no receipt. */
static bool null_is_missing(const char *method) {
    return !strcmp(method, "eth_getBlockByNumber") || !strcmp(method, "eth_getBlockReceipts") ||
           !strcmp(method, "eth_getTransactionReceipt") ||
           !strcmp(method, "debug_traceBlockByNumber");
}

/* "eth_getBlockReceipts for block 17: msg" */
static int call_error(const call *c, const char *msg, ch_error *err) {
    if (c->block == UINT64_MAX) return ch_err(err, "%s: %s", c->method, msg);
    return ch_err(err, "%s for block %" PRIu64 ": %s", c->method, c->block, msg);
}

/* Check one answer object against its call: ATT_OK, ATT_RETRY or
 * ATT_NO_METHOD, with the reason in err. */
static int check_answer(batch *b, size_t i, json_t *o, ch_error *err) {
    call *c = &b->v[i];
    if (c->response) {
        call_error(c, "answered twice", err);
        return ATT_RETRY;
    }
    c->response = o;
    json_t *e = json_object_get(o, "error");
    if (e && !json_is_null(e)) {
        json_t *m = json_object_get(e, "message");
        const char *msg = json_is_string(m) ? json_string_value(m) : "(no message)";
        json_int_t code = json_integer_value(json_object_get(e, "code"));
        char detail[CH_ERROR_MAX / 2];
        snprintf(detail, sizeof detail, "JSON-RPC error %" JSON_INTEGER_FORMAT " %s", code, msg);
        call_error(c, detail, err);
        if (!is_no_method(code, msg) && !(is_trace_call(c) && is_no_tracing(msg))) return ATT_RETRY;
        b->missing_method = i;
        return ATT_NO_METHOD;
    }
    json_t *res = json_object_get(o, "result");
    if (!res) {
        call_error(c, "an answer without \"result\"", err);
        return ATT_RETRY;
    }
    if (json_is_null(res) && null_is_missing(c->method)) {
        call_error(c, "the node answered null (it does not have it yet?)", err);
        return ATT_RETRY;
    }
    return ATT_OK;
}

/* Send the batch once and match answers to calls. */
static int attempt(evm_node *n, batch *b, const char *body, buf *resp, ch_error *err) {
    json_decref(b->doc);
    b->doc = NULL;
    b->bad_call = SIZE_MAX;
    for (size_t i = 0; i < b->n; i++)
        b->v[i].response = NULL;
    if (http_post(n, body, resp, err) != 0) return ATT_RETRY;
    json_error_t je;
    b->doc = json_loadb(resp->p ? resp->p : "", resp->n, 0, &je);
    if (!b->doc)
        return ch_err(err, "the answer is not JSON (line %d, column %d: %s)", je.line, je.column,
                      je.text),
               ATT_RETRY;
    if (json_is_object(b->doc)) {
        /* one error for the whole batch (overload, bad request) */
        json_t *e = json_object_get(b->doc, "error");
        json_t *m = e ? json_object_get(e, "message") : NULL;
        return ch_err(err, "the node answered the batch with one %s: %s", e ? "error" : "object",
                      json_is_string(m) ? json_string_value(m) : "?"),
               ATT_RETRY;
    }
    if (!json_is_array(b->doc)) return ch_err(err, "the answer is not a JSON array"), ATT_RETRY;
    int worst = ATT_OK;
    ch_error first_err = {{0}};
    for (size_t i = 0; i < json_array_size(b->doc); i++) {
        json_t *o = json_array_get(b->doc, i);
        json_t *id = json_object_get(o, "id");
        json_int_t k = json_is_integer(id) ? json_integer_value(id) : 0;
        if (!json_is_object(o) || k < 1 || (size_t)k > b->n)
            return ch_err(err, "answer %zu has no id of this batch", i), ATT_RETRY;
        ch_error e1;
        int rc = check_answer(b, (size_t)k - 1, o, &e1);
        /* a missing method outranks a passing failure: retrying won't help */
        if (rc != ATT_OK && (worst == ATT_OK || rc == ATT_NO_METHOD)) {
            if (worst != ATT_NO_METHOD) {
                worst = rc;
                first_err = e1;
                b->bad_call = (size_t)k - 1;
            }
        }
    }
    if (worst != ATT_OK) {
        if (err) *err = first_err;
        return worst;
    }
    for (size_t i = 0; i < b->n; i++)
        if (!b->v[i].response) {
            call_error(&b->v[i], "the node did not answer this call", err);
            b->bad_call = i;
            return ATT_RETRY;
        }
    return ATT_OK;
}

static void sleep_ms(unsigned ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Send with retries: ATT_OK, ATT_NO_METHOD (b->missing_method says which
 * call), or -1 with a message naming the URL, the calls and the attempts. */
static int batch_send(evm_node *n, batch *b, ch_error *err) {
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < b->n; i++) {
        json_t *o = json_pack("{s:s, s:I, s:s, s:O}", "jsonrpc", "2.0", "id", (json_int_t)(i + 1),
                              "method", b->v[i].method, "params", b->v[i].params);
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    char *body = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    b->bad_call = SIZE_MAX;
    if (!body) return ch_err(err, "out of memory");
    n->stats.calls += b->n;
    buf resp = {0};
    unsigned wait = n->cfg.backoff_ms ? n->cfg.backoff_ms : 250;
    int rc = ATT_RETRY;
    unsigned tries = 0;
    for (;;) {
        tries++;
        rc = attempt(n, b, body, &resp, err);
        if (rc != ATT_RETRY || tries > n->cfg.retries || stopped(n)) break;
        n->stats.retries++;
        sleep_ms(wait);
        wait = wait * 2 > BACKOFF_CAP_MS ? BACKOFF_CAP_MS : wait * 2;
    }
    free(body);
    free(resp.p);
    if (rc == ATT_OK || rc == ATT_NO_METHOD) return rc;
    char what[160];
    batch_describe(b, what, sizeof what);
    ch_err_prefix(err, "%s: %s (%u attempt%s)", n->url, what, tries, tries == 1 ? "" : "s");
    return -1;
}

/* --- the session --------------------------------------------------------------- */

int evm_node_open(const evm_node_cfg *cfg, evm_node **out, ch_error *err) {
    *out = NULL;
    /* refcounted by libcurl; not thread-safe, but the CLI is one thread */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return ch_err(err, "%s: libcurl would not start", cfg->url);
    evm_node *n = calloc(1, sizeof *n);
    if (!n) {
        curl_global_cleanup();
        return ch_err(err, "out of memory");
    }
    n->cfg = *cfg;
    n->url = strdup(cfg->url);
    n->curl = curl_easy_init();
    n->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (!n->url || !n->curl || !n->headers) {
        evm_node_close(n);
        return ch_err(err, "out of memory");
    }
    n->cfg.url = n->url;
    long timeout = cfg->timeout_ms > 0 ? cfg->timeout_ms : 120000;
    curl_easy_setopt(n->curl, CURLOPT_URL, n->url);
    curl_easy_setopt(n->curl, CURLOPT_HTTPHEADER, n->headers);
    curl_easy_setopt(n->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(n->curl, CURLOPT_ERRORBUFFER, n->curl_err);
    curl_easy_setopt(n->curl, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(n->curl, CURLOPT_CONNECTTIMEOUT_MS, timeout < 10000 ? timeout : 10000L);
    curl_easy_setopt(n->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(n->curl, CURLOPT_ACCEPT_ENCODING, ""); /* gzip when the node offers it */
    curl_easy_setopt(n->curl, CURLOPT_USERAGENT, "coinhound");
    ch_curl_stop_on(n->curl, cfg->stop); /* a stop gives up the request in hand */
    *out = n;
    return 0;
}

void evm_node_close(evm_node *n) {
    if (!n) return;
    if (n->curl) curl_easy_cleanup(n->curl);
    curl_slist_free_all(n->headers);
    free(n->url);
    free(n);
    curl_global_cleanup();
}

const evm_node_stats *evm_node_get_stats(const evm_node *n) {
    return &n->stats;
}

static int quantity_of(const evm_node *n, json_t *v, const char *what, uint64_t *out,
                       ch_error *err) {
    if (!json_is_string(v) || evm_hex_u64(json_string_value(v), json_string_length(v), out) != 0)
        return ch_err(err, "%s: %s: not a hex quantity", n->url, what);
    return 0;
}

int evm_node_latest(evm_node *n, uint64_t *number, ch_error *err) {
    batch b = {0};
    int rc = batch_add(&b, "eth_blockNumber", UINT64_MAX, json_array(), err);
    if (rc == 0) rc = batch_send(n, &b, err);
    if (rc == ATT_NO_METHOD)
        rc = ch_err(err, "%s: the node does not offer eth_blockNumber", n->url);
    if (rc == 0)
        rc = quantity_of(n, json_object_get(b.v[0].response, "result"), "eth_blockNumber", number,
                         err);
    batch_free(&b);
    return rc;
}

static json_t *block_params(uint64_t number, bool full) {
    return json_pack("[o, b]", hex_quantity(number), full);
}

int evm_node_block_hash(evm_node *n, uint64_t number, ch_hash256 *hash, ch_error *err) {
    batch b = {0};
    int rc = batch_add(&b, "eth_getBlockByNumber", number, block_params(number, false), err);
    if (rc == 0) rc = batch_send(n, &b, err);
    if (rc == ATT_NO_METHOD)
        rc = ch_err(err, "%s: the node does not offer eth_getBlockByNumber", n->url);
    if (rc == 0) {
        json_t *h = json_object_get(json_object_get(b.v[0].response, "result"), "hash");
        if (!json_is_string(h) ||
            evm_hex_fixed(json_string_value(h), json_string_length(h), hash->b, 32) != 0)
            rc = ch_err(err, "%s: eth_getBlockByNumber for block %" PRIu64 ": no block hash",
                        n->url, number);
    }
    batch_free(&b);
    return rc;
}

/* The parser's view of one answer, named after its call. */
static int feed(evm_node *n, evm_set *set, const call *c, ch_error *err) {
    char name[512];
    if (!strcmp(c->method, "debug_traceBlockByNumber")) /* rpc.c reads the block from this */
        snprintf(name, sizeof name, "%s debug_traceBlockByNumber_0x%" PRIx64 " (block %" PRIu64 ")",
                 n->url, c->block, c->block);
    else
        snprintf(name, sizeof name, "%s %s for block %" PRIu64, n->url, c->method, c->block);
    char *text = json_dumps(c->response, JSON_COMPACT);
    if (!text) return ch_err(err, "out of memory");
    int rc = evm_rpc_parse(set, text, strlen(text), name, err);
    free(text);
    return rc;
}

/* Send a batch of eth_getTransactionReceipt calls and feed the answers. */
static int send_receipts(evm_node *n, batch *b, evm_set *set, ch_error *err) {
    int rc = batch_send(n, b, err);
    if (rc == ATT_NO_METHOD)
        rc = ch_err(err,
                    "%s: the node offers neither eth_getBlockReceipts nor "
                    "eth_getTransactionReceipt",
                    n->url);
    n->stats.receipt_calls += b->n;
    for (size_t k = 0; k < b->n && rc == 0; k++)
        rc = feed(n, set, &b->v[k], err);
    batch_free(b);
    return rc;
}

/* The node lacks eth_getBlockReceipts: ask for each transaction's receipt,
 * RECEIPT_CALLS_PER_REQUEST to a request. */
static int fetch_tx_receipts(evm_node *n, const batch *blocks, evm_set *set, ch_error *err) {
    batch b = {0};
    int rc = 0;
    for (size_t i = 0; i < blocks->n && rc == 0; i++) {
        const call *c = &blocks->v[i];
        if (strcmp(c->method, "eth_getBlockByNumber") != 0) continue;
        json_t *txs = json_object_get(json_object_get(c->response, "result"), "transactions");
        for (size_t j = 0; j < json_array_size(txs) && rc == 0; j++) {
            json_t *h = json_object_get(json_array_get(txs, j), "hash");
            if (!json_is_string(h))
                rc = ch_err(err,
                            "%s: eth_getBlockByNumber for block %" PRIu64
                            ": transaction %zu has no hash",
                            n->url, c->block, j);
            else
                rc = batch_add(&b, "eth_getTransactionReceipt", c->block, json_pack("[O]", h), err);
            if (rc == 0 && b.n == RECEIPT_CALLS_PER_REQUEST) rc = send_receipts(n, &b, set, err);
        }
    }
    if (rc == 0 && b.n) rc = send_receipts(n, &b, set, err);
    batch_free(&b);
    return rc;
}

static int build_block_batch(const evm_node *n, batch *b, uint64_t first, uint64_t last,
                             bool traces, ch_error *err) {
    for (uint64_t k = first; k <= last; k++) {
        if (batch_add(b, "eth_getBlockByNumber", k, block_params(k, true), err) != 0) return -1;
        if (!n->stats.no_block_receipts &&
            batch_add(b, "eth_getBlockReceipts", k, json_pack("[o]", hex_quantity(k)), err) != 0)
            return -1;
        if (traces &&
            batch_add(b, "debug_traceBlockByNumber", k,
                      json_pack("[o, {s:s}]", hex_quantity(k), "tracer", "callTracer"), err) != 0)
            return -1;
        if (k == UINT64_MAX) break;
    }
    return 0;
}

/* What the node gave must be whole: each block once, each tx with its
 * receipt (the fee comes from it). */
static int check_blocks(const evm_node *n, const ch_evm_block *v, size_t count, uint64_t first,
                        uint64_t last, ch_error *err) {
    if (count != last - first + 1)
        return ch_err(err, "%s: asked blocks %" PRIu64 "..%" PRIu64 ", the answers hold %zu",
                      n->url, first, last, count);
    for (size_t i = 0; i < count; i++) {
        if (v[i].number != first + i || !v[i].has_header)
            return ch_err(err, "%s: block %" PRIu64 " is missing from the answers", n->url,
                          first + i);
        for (size_t t = 0; t < v[i].n_tx; t++)
            if (!v[i].tx[t].has_receipt)
                return ch_err(err, "%s: block %" PRIu64 ": transaction %zu has no receipt", n->url,
                              v[i].number, t);
    }
    return 0;
}

/* An error message less the node's URL at its start (its reader names
 * the node already). */
static const char *without_url(const evm_node *n, const char *msg) {
    size_t ul = strlen(n->url);
    return strncmp(msg, n->url, ul) == 0 && msg[ul] == ':' && msg[ul + 1] == ' ' ? msg + ul + 2
                                                                                 : msg;
}

/* Why a fetch with traces failed, as far as its traces go. */
enum {
    FAULT_NONE,      /* not the traces' (or a fetch without them) */
    FAULT_NO_TRACES, /* the node does not trace: the method missing, the API disabled */
    FAULT_TRACES,    /* a trace call's own answer: an error, unreadable */
    FAULT_TRANSPORT, /* the whole request: no answer, HTTP error, not JSON-RPC */
    FAULT_OTHER      /* another call's answer, or the blocks as put together */
};

/* Blocks [first, last] with traces or without, exported into *v; -1 with
 * err and *fault saying whether the traces may be to blame. */
static int fetch_range(evm_node *n, uint64_t first, uint64_t last, bool traces, ch_evm_block **v,
                       size_t *count, int *fault, ch_error *err) {
    batch b = {.bad_call = SIZE_MAX};
    evm_set set = {0};
    int rc;
    *fault = FAULT_NONE;
    *v = NULL;
    *count = 0;
    for (;;) {
        rc = build_block_batch(n, &b, first, last, traces, err);
        if (rc == 0) rc = batch_send(n, &b, err);
        if (rc != ATT_NO_METHOD) break;
        const call *c = &b.v[b.missing_method];
        if (is_trace_call(c)) {
            n->stats.no_traces = true;
            *fault = FAULT_NO_TRACES;
        }
        if (strcmp(c->method, "eth_getBlockReceipts") != 0 || n->stats.no_block_receipts) {
            rc = ch_err(err, "%s: the node does not offer %s%s", n->url, c->method,
                        is_trace_call(c) && !n->cfg.traces_optional
                            ? " (run without --traces, or use a node with the debug API)"
                            : "");
            break;
        }
        /* from now on: one eth_getTransactionReceipt per transaction */
        n->stats.no_block_receipts = true;
        batch_free(&b);
    }
    if (rc < 0 && traces && *fault == FAULT_NONE)
        *fault = b.bad_call >= b.n                 ? FAULT_TRANSPORT
                 : is_trace_call(&b.v[b.bad_call]) ? FAULT_TRACES
                                                   : FAULT_OTHER;
    for (size_t i = 0; i < b.n && rc == 0; i++) {
        rc = feed(n, &set, &b.v[i], err);
        if (rc != 0 && traces) *fault = is_trace_call(&b.v[i]) ? FAULT_TRACES : FAULT_OTHER;
    }
    if (rc == 0 && n->stats.no_block_receipts) rc = fetch_tx_receipts(n, &b, &set, err);
    batch_free(&b);
    if (rc == 0) rc = evm_set_export(&set, v, count, err);
    evm_set_free(&set);
    if (rc == 0) rc = check_blocks(n, *v, *count, first, last, err);
    if (rc != 0) {
        if (traces && *fault == FAULT_NONE) *fault = FAULT_OTHER;
        ch_evm_blocks_free(*v, *count);
        *v = NULL;
        *count = 0;
        return -1;
    }
    return 0;
}

/* The node does not trace (traces optional): the same blocks without
 * traces, and traces off for the session (stats.traces_dropped says from
 * which block and why). */
static int fetch_without_traces(evm_node *n, uint64_t first, uint64_t last, const ch_error *why,
                                ch_evm_block **v, size_t *count, ch_error *err) {
    int f2;
    n->cfg.traces = false;
    n->stats.traces_dropped = true;
    n->stats.traces_dropped_at = first;
    snprintf(n->stats.traces_dropped_why, sizeof n->stats.traces_dropped_why, "%s",
             without_url(n, why->msg));
    return fetch_range(n, first, last, false, v, count, &f2, err);
}

int evm_node_fetch(evm_node *n, uint64_t first, uint64_t last, ch_evm_block **blocks,
                   size_t *n_blocks, ch_error *err) {
    ch_evm_block *v = NULL;
    size_t count = 0;
    int fault;
    n->stats.traces_failed = false;
    int rc = fetch_range(n, first, last, n->cfg.traces, &v, &count, &fault, err);
    if (rc != 0 && fault == FAULT_NO_TRACES && n->cfg.traces_optional) {
        ch_error why = *err;
        rc = fetch_without_traces(n, first, last, &why, &v, &count, err);
    } else if (rc != 0 && n->cfg.traces_optional &&
               (fault == FAULT_TRACES || fault == FAULT_TRANSPORT)) {
        /* a request with traces that got no answer is the traces' only if
         * the node still answers eth_blockNumber: else the node is away */
        uint64_t tip;
        ch_error e2;
        n->stats.traces_failed = fault == FAULT_TRACES || evm_node_latest(n, &tip, &e2) == 0;
    }
    if (rc != 0) return -1;
    /* exact size, once per call: the caller's array keeps no capacity */
    ch_evm_block *all = realloc(*blocks, (*n_blocks + count) * sizeof *all);
    if (!all) {
        ch_evm_blocks_free(v, count);
        return ch_err(err, "out of memory");
    }
    memcpy(all + *n_blocks, v, count * sizeof *v);
    *blocks = all;
    *n_blocks += count;
    free(v);
    return 0;
}

void evm_node_set_traces(evm_node *n, bool on) {
    n->cfg.traces = on;
    n->stats.traces_dropped = false;
    n->stats.traces_dropped_why[0] = '\0';
}

int evm_node_probe_traces(evm_node *n, uint64_t block, char *why, size_t why_cap, ch_error *err) {
    batch b = {0};
    int rc = batch_add(&b, "debug_traceBlockByNumber", block,
                       json_pack("[o, {s:s}]", hex_quantity(block), "tracer", "callTracer"), err);
    if (rc != 0) return -1;
    ch_error e = {{0}};
    rc = batch_send(n, &b, &e);
    json_t *res = rc == ATT_OK ? json_object_get(b.v[0].response, "result") : NULL;
    json_t *rpc_err = json_object_get(b.v[0].response, "error");
    json_t *msg = json_object_get(rpc_err, "message");
    int out = 0;
    uint64_t tip;
    if (rc == ATT_OK && json_is_array(res)) {
        out = 1;
    } else if (rc == ATT_OK) {
        snprintf(why, why_cap, "its answer for block %" PRIu64 " is not a callTracer trace", block);
    } else if (json_is_object(rpc_err)) { /* the node's own words */
        snprintf(why, why_cap, "JSON-RPC error %" JSON_INTEGER_FORMAT " %s",
                 json_integer_value(json_object_get(rpc_err, "code")),
                 json_is_string(msg) ? json_string_value(msg) : "(no message)");
        out = rc == ATT_NO_METHOD ? 0 : 2; /* "not found": it does not trace */
    } else if (rc != ATT_NO_METHOD && b.bad_call >= b.n && evm_node_latest(n, &tip, err) != 0) {
        out = -1; /* no answer to anything: the node is away, not its traces */
    } else {
        snprintf(why, why_cap, "%s", without_url(n, e.msg));
        out = rc == ATT_NO_METHOD ? 0 : 2;
    }
    batch_free(&b);
    return out;
}

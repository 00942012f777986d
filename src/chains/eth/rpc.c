/* Ethereum JSON-RPC responses (simdjson, through util/sjson.h; jansson
 * only to name the line and column of text that is not JSON): eth_getBlockByNumber with full
 * transactions, eth_getBlockReceipts / eth_getTransactionReceipt,
 * eth_getLogs / eth_getFilterLogs, debug_traceBlockByNumber (callTracer) and
 * Parity's trace_block. A buffer may hold one document, an array of
 * responses (a batch), or several documents one after another (JSON lines).
 * What a response is comes from the shape of its result, not its id; only
 * callTracer results do not say their block, which then comes from the name
 * ("debug_traceBlockByNumber_0x..." as the fixture files are called). */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chains/eth/evm_internal.h"
#include "util/sjson.h"

typedef struct rctx {
    evm_set *set;
    const char *name;
    size_t doc_off;  /* byte offset of the document being read */
    long line;       /* its line, when read line by line (0: not) */
    long doc_line;   /* the line the document starts on, in a whole buffer (0: unknown) */
    char where[96];  /* what is being read, for messages */
    bool name_block; /* the name says which block (debug_traceBlockByNumber_0x..) */
    uint64_t name_number;
    ch_error *err;
} rctx;

__attribute__((format(printf, 2, 3))) static int fail(rctx *c, const char *fmt, ...) {
    char msg[CH_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->line > 0)
        return ch_err(c->err, "%s: line %ld: %s%s%s", c->name, c->line, c->where,
                      c->where[0] ? ": " : "", msg);
    if (c->doc_line > 0)
        return ch_err(c->err, "%s: document at byte %zu (line %ld): %s%s%s", c->name, c->doc_off,
                      c->doc_line, c->where, c->where[0] ? ": " : "", msg);
    return ch_err(c->err, "%s: document at byte %zu: %s%s%s", c->name, c->doc_off, c->where,
                  c->where[0] ? ": " : "", msg);
}

/* --- field access -------------------------------------------------------- */

static bool has(sj_val o, const char *key) {
    return sj_present(sj_get(o, key));
}

/* 1 a string, 0 absent or null, -1 another type */
static int str_of(sj_val o, const char *key, const char **s, size_t *len) {
    sj_val v = sj_get(o, key);
    if (!sj_present(v) || sj_is_null(v)) return 0;
    if (!sj_is_string(v)) return -1;
    *s = sj_str(v, len);
    return 1;
}

/* A non-negative JSON integer (jansson's json_integer_value >= 0). */
static bool is_natural(sj_val v) {
    return v.type == SJ_UINT || (v.type == SJ_INT && sj_int(v) >= 0);
}

static int need_str(rctx *c, sj_val o, const char *key, const char **s, size_t *len) {
    int r = str_of(o, key, s, len);
    if (r == 0) return fail(c, "missing \"%s\"", key);
    if (r < 0) return fail(c, "\"%s\" is not a string", key);
    return 0;
}

/* A quantity: "0x..." or, as Parity writes block numbers and positions, a
 * non-negative JSON integer. 1 read, 0 absent/null, -1 error (reported). */
static int opt_u64(rctx *c, sj_val o, const char *key, uint64_t *out) {
    sj_val v = sj_get(o, key);
    if (!sj_present(v) || sj_is_null(v)) return 0;
    if (is_natural(v)) {
        *out = sj_uint(v);
        return 1;
    }
    size_t n;
    const char *s = sj_str(v, &n);
    if (!s || evm_hex_u64(s, n, out) != 0)
        return fail(c, "\"%s\" is not a hex quantity below 2^64", key);
    return 1;
}

static int need_u64(rctx *c, sj_val o, const char *key, uint64_t *out) {
    int r = opt_u64(c, o, key, out);
    if (r == 0) return fail(c, "missing \"%s\"", key);
    return r < 0 ? -1 : 0;
}

static int need_u32(rctx *c, sj_val o, const char *key, uint32_t *out) {
    uint64_t v;
    if (need_u64(c, o, key, &v) != 0) return -1;
    if (v >= UINT32_MAX) return fail(c, "\"%s\" is out of range", key);
    *out = (uint32_t)v;
    return 0;
}

static int opt_u256(rctx *c, sj_val o, const char *key, ch_u256 *out) {
    const char *s;
    size_t n;
    int r = str_of(o, key, &s, &n);
    if (r < 0 || (r > 0 && ch_u256_from_hex(s, n, out) != 0))
        return fail(c, "\"%s\" is not a hex quantity below 2^256", key);
    return r;
}

static int need_u256(rctx *c, sj_val o, const char *key, ch_u256 *out) {
    int r = opt_u256(c, o, key, out);
    if (r == 0) return fail(c, "missing \"%s\"", key);
    return r < 0 ? -1 : 0;
}

static int opt_addr(rctx *c, sj_val o, const char *key, ch_evm_addr *out) {
    const char *s;
    size_t n;
    int r = str_of(o, key, &s, &n);
    if (r < 0 || (r > 0 && ch_evm_addr_from_hex(s, n, out) != 0))
        return fail(c, "\"%s\" is not a 20-byte hex address", key);
    return r;
}

static int need_addr(rctx *c, sj_val o, const char *key, ch_evm_addr *out) {
    int r = opt_addr(c, o, key, out);
    if (r == 0) return fail(c, "missing \"%s\"", key);
    return r < 0 ? -1 : 0;
}

static int opt_hash(rctx *c, sj_val o, const char *key, ch_hash256 *out) {
    const char *s;
    size_t n;
    int r = str_of(o, key, &s, &n);
    if (r < 0 || (r > 0 && evm_hex_fixed(s, n, out->b, 32) != 0))
        return fail(c, "\"%s\" is not a 32-byte hex hash", key);
    return r;
}

static int need_hash(rctx *c, sj_val o, const char *key, ch_hash256 *out) {
    int r = opt_hash(c, o, key, out);
    if (r == 0) return fail(c, "missing \"%s\"", key);
    return r < 0 ? -1 : 0;
}

static int need_bytes(rctx *c, ch_evm_block *b, sj_val o, const char *key, const uint8_t **p,
                      size_t *n) {
    const char *s;
    size_t len;
    if (need_str(c, o, key, &s, &len) != 0) return -1;
    if (evm_hex_bytes(b, s, len, p, n) != 0) return fail(c, "\"%s\" is not hex bytes", key);
    return 0;
}

static ch_evm_block *block_of(rctx *c, uint64_t number) {
    ch_evm_block *b = evm_set_get(c->set, number);
    if (!b) fail(c, "out of memory");
    return b;
}

/* --- logs and receipts ----------------------------------------------------- */

/* One log object of a receipt or an eth_getLogs answer into its block
 * (number given by the receipt, else its own blockNumber). */
static int parse_log(rctx *c, sj_val o, uint64_t number, const uint32_t *tx_index) {
    if (!sj_is_object(o)) return fail(c, "a log is not an object");
    uint64_t bn = number;
    if (number == UINT64_MAX && need_u64(c, o, "blockNumber", &bn) != 0) return -1;
    ch_evm_block *b = block_of(c, bn);
    if (!b) return -1;
    ch_evm_log *l = evm_add_log(b);
    if (!l) return fail(c, "out of memory");
    if (need_u32(c, o, "logIndex", &l->log_index) != 0) return -1;
    if (tx_index)
        l->tx_index = *tx_index;
    else if (need_u32(c, o, "transactionIndex", &l->tx_index) != 0)
        return -1;
    if (need_addr(c, o, "address", &l->address) != 0) return -1;
    ch_hash256 h;
    int hr = opt_hash(c, o, "transactionHash", &h);
    if (hr < 0) return -1;
    if (hr > 0 && !tx_index && evm_add_txref(b, &h, l->tx_index) != 0)
        return fail(c, "out of memory");
    if (need_bytes(c, b, o, "data", &l->data, &l->data_len) != 0) return -1;
    sj_val topics = sj_get(o, "topics");
    if (!sj_is_array(topics)) return fail(c, "log %u: \"topics\" is not an array", l->log_index);
    size_t n_topics = sj_size(topics);
    if (n_topics > 4) return fail(c, "log %u: %zu topics (at most 4)", l->log_index, n_topics);
    l->n_topics = (uint8_t)n_topics;
    sj_iter it = sj_items(topics);
    sj_val t;
    for (size_t i = 0; sj_next(&it, &t); i++) {
        size_t tn;
        const char *ts = sj_str(t, &tn);
        if (!ts || evm_hex_fixed(ts, tn, l->topics[i], 32) != 0)
            return fail(c, "log %u: topic %zu is not a 32-byte hex word", l->log_index, i);
    }
    l->removed = sj_is(sj_get(o, "removed"), SJ_TRUE);
    return 0;
}

/* One receipt (eth_getTransactionReceipt, eth_getBlockReceipts) into its
 * block: status, gas used, created contract, and its logs. */
static int parse_receipt(rctx *c, sj_val o) {
    if (!sj_is_object(o)) return fail(c, "a receipt is not an object");
    uint64_t number;
    if (need_u64(c, o, "blockNumber", &number) != 0) return -1;
    ch_evm_block *b = block_of(c, number);
    if (!b) return -1;
    evm_receipt *r = evm_add_receipt(b);
    if (!r) return fail(c, "out of memory");
    if (need_hash(c, o, "transactionHash", &r->tx_hash) != 0) return -1;
    if (need_u32(c, o, "transactionIndex", &r->tx_index) != 0) return -1;
    r->has_hash = r->has_index = true;
    uint32_t tx_index = r->tx_index;
    snprintf(c->where, sizeof c->where, "block %llu: receipt of tx %u", (unsigned long long)number,
             tx_index);
    uint64_t st;
    int k = opt_u64(c, o, "status", &st);
    if (k < 0) return -1;
    if (k > 0 && st > 1) return fail(c, "\"status\" is neither 0x0 nor 0x1");
    r->status = k > 0 ? (int)st : -1; /* pre-Byzantium receipts give a state root instead */
    if (need_u64(c, o, "gasUsed", &r->gas_used) != 0) return -1;
    if (opt_u64(c, o, "cumulativeGasUsed", &r->cumulative_gas_used) < 0) return -1;
    if ((k = opt_u256(c, o, "effectiveGasPrice", &r->price)) < 0) return -1;
    r->has_price = k > 0;
    if ((k = opt_addr(c, o, "contractAddress", &r->contract)) < 0) return -1;
    r->has_contract = k > 0;
    sj_val logs = sj_get(o, "logs");
    if (sj_present(logs) && !sj_is_array(logs)) return fail(c, "\"logs\" is not an array");
    sj_iter it = sj_items(logs);
    for (sj_val lg; sj_next(&it, &lg);)
        if (parse_log(c, lg, number, &tx_index) != 0) return -1;
    c->where[0] = '\0';
    return 0;
}

/* --- blocks ------------------------------------------------------------------ */

static int parse_tx(rctx *c, ch_evm_block *b, sj_val o, size_t i) {
    snprintf(c->where, sizeof c->where, "block %llu: transaction %zu",
             (unsigned long long)b->number, i);
    if (!sj_is_object(o)) return fail(c, "not an object");
    ch_evm_tx *t = evm_add_tx(b);
    if (!t) return fail(c, "out of memory");
    if (need_hash(c, o, "hash", &t->hash) != 0) return -1;
    if (need_u32(c, o, "transactionIndex", &t->index) != 0) return -1;
    if (need_u64(c, o, "nonce", &t->nonce) != 0) return -1;
    if (need_addr(c, o, "from", &t->from) != 0) return -1;
    int k = opt_addr(c, o, "to", &t->to);
    if (k < 0) return -1;
    t->has_to = k > 0;
    if (need_u256(c, o, "value", &t->value) != 0) return -1;
    if (need_u64(c, o, "gas", &t->gas) != 0) return -1;
    if (opt_u256(c, o, "gasPrice", &t->gas_price) < 0) return -1;
    if (need_bytes(c, b, o, "input", &t->input, &t->input_len) != 0) return -1;
    uint64_t v;
    if ((k = opt_u64(c, o, "type", &v)) < 0) return -1;
    if (k > 0 && v > 255) return fail(c, "\"type\" out of range");
    t->type = (uint8_t)(k > 0 ? v : 0);
    if ((k = opt_u64(c, o, "blockNumber", &v)) < 0) return -1;
    if (k > 0 && v != b->number) return fail(c, "\"blockNumber\" is %llu", (unsigned long long)v);
    return 0;
}

/* An eth_getBlockByNumber answer with full txs: the header, each tx and the
 * withdrawals; a block that appears twice is refused. */
static int parse_block(rctx *c, sj_val o) {
    uint64_t number;
    if (need_u64(c, o, "number", &number) != 0) return -1;
    ch_evm_block *b = block_of(c, number);
    if (!b) return -1;
    snprintf(c->where, sizeof c->where, "block %llu", (unsigned long long)number);
    if (b->has_header) return fail(c, "the block appears twice");
    b->has_header = true;
    if (need_hash(c, o, "hash", &b->hash) != 0) return -1;
    if (need_hash(c, o, "parentHash", &b->parent) != 0) return -1;
    if (need_u64(c, o, "timestamp", &b->timestamp) != 0) return -1;
    if (need_addr(c, o, "miner", &b->miner) != 0) return -1;
    if (need_u64(c, o, "gasUsed", &b->gas_used) != 0) return -1;
    if (need_u64(c, o, "gasLimit", &b->gas_limit) != 0) return -1;
    if (opt_u256(c, o, "baseFeePerGas", &b->base_fee) < 0) return -1;
    sj_val txs = sj_get(o, "transactions");
    if (!sj_is_array(txs)) return fail(c, "\"transactions\" is not an array");
    sj_iter it = sj_items(txs);
    sj_val t;
    for (size_t i = 0; sj_next(&it, &t); i++) {
        /* eth_getBlockByNumber(n, false) lists hashes only: the header is
         * still good, the transactions must come from elsewhere */
        if (sj_is_string(t)) continue;
        if (parse_tx(c, b, t, i) != 0) return -1;
    }
    snprintf(c->where, sizeof c->where, "block %llu", (unsigned long long)number);
    sj_val wds = sj_get(o, "withdrawals");
    if (sj_present(wds) && !sj_is_null(wds) && !sj_is_array(wds))
        return fail(c, "\"withdrawals\" is not an array");
    it = sj_items(wds);
    sj_val w;
    for (size_t i = 0; sj_next(&it, &w); i++) {
        ch_evm_withdrawal *wd = evm_add_withdrawal(b);
        if (!wd) return fail(c, "out of memory");
        snprintf(c->where, sizeof c->where, "block %llu: withdrawal %zu",
                 (unsigned long long)number, i);
        if (!sj_is_object(w)) return fail(c, "not an object");
        if (need_u64(c, w, "index", &wd->index) != 0 ||
            need_u64(c, w, "validatorIndex", &wd->validator) != 0 ||
            need_addr(c, w, "address", &wd->address) != 0 ||
            need_u64(c, w, "amount", &wd->amount_gwei) != 0)
            return -1;
    }
    c->where[0] = '\0';
    return 0;
}

/* --- traces ------------------------------------------------------------------ */

static void lower_copy(char *dst, size_t cap, const char *src) {
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++)
        dst[i] = (char)(src[i] >= 'A' && src[i] <= 'Z' ? src[i] - 'A' + 'a' : src[i]);
    dst[i] = '\0';
}

/* One trace of trace_block / trace_replayBlockTransactions (Parity's flat
 * form: traceAddress, action, result, error) into an internal call of its
 * block. */
static int parse_parity(rctx *c, sj_val o, size_t i) {
    snprintf(c->where, sizeof c->where, "trace %zu", i);
    if (!sj_is_object(o)) return fail(c, "not an object");
    uint64_t number;
    if (need_u64(c, o, "blockNumber", &number) != 0) return -1;
    ch_evm_block *b = block_of(c, number);
    if (!b) return -1;
    evm_pcall *p = evm_add_pcall(b);
    if (!p) return fail(c, "out of memory");
    ch_evm_call *k = &p->c;
    const char *type;
    size_t tlen;
    if (need_str(c, o, "type", &type, &tlen) != 0) return -1;
    sj_val act = sj_get(o, "action");
    if (!sj_is_object(act)) return fail(c, "\"action\" is not an object");
    sj_val res = sj_get(o, "result");
    /* the block hash each trace repeats: checked against the block's
     * header, or the block's hash when only traces name the block */
    ch_hash256 bh;
    int hk = opt_hash(c, o, "blockHash", &bh);
    if (hk < 0) return -1;
    if (!strcmp(type, "reward")) {
        if (hk > 0 && evm_add_claim(b, &bh, UINT32_MAX) != 0) return fail(c, "out of memory");
        k->tx_index = UINT32_MAX;
        p->has_index = true;
        strcpy(k->type, "reward");
        if (need_addr(c, act, "author", &k->to) != 0) return -1;
        if (need_u256(c, act, "value", &k->value) != 0) return -1;
        return 0;
    }
    uint64_t pos;
    if (need_u64(c, o, "transactionPosition", &pos) != 0) return -1;
    if (pos >= UINT32_MAX) return fail(c, "\"transactionPosition\" out of range");
    k->tx_index = (uint32_t)pos;
    p->has_index = true;
    if (hk > 0 && evm_add_claim(b, &bh, k->tx_index) != 0) return fail(c, "out of memory");
    /* the hash names the tx when no block body does (traces alone) */
    int th = opt_hash(c, o, "transactionHash", &p->tx_hash);
    if (th < 0) return -1;
    p->has_hash = th > 0;
    sj_val ta = sj_get(o, "traceAddress");
    if (!sj_is_array(ta)) return fail(c, "\"traceAddress\" is not an array");
    size_t depth = sj_size(ta);
    if (depth > 1024) return fail(c, "\"traceAddress\" deeper than 1024");
    uint32_t *addr = evm_alloc(b, (depth ? depth : 1) * sizeof *addr);
    if (!addr) return fail(c, "out of memory");
    sj_iter it = sj_items(ta);
    sj_val v;
    for (size_t d = 0; sj_next(&it, &v); d++) {
        if (!is_natural(v) || sj_uint(v) >= UINT32_MAX)
            return fail(c, "\"traceAddress\" holds a non-index");
        addr[d] = (uint32_t)sj_uint(v);
    }
    k->trace_addr = addr;
    k->depth = (uint16_t)depth;
    k->self_error = sj_present(sj_get(o, "error"));
    if (!strcmp(type, "call")) {
        const char *ct;
        size_t ctl;
        if (need_str(c, act, "callType", &ct, &ctl) != 0) return -1;
        lower_copy(k->type, sizeof k->type, ct);
        if (need_addr(c, act, "from", &k->from) != 0) return -1;
        if (need_addr(c, act, "to", &k->to) != 0) return -1;
        if (need_u256(c, act, "value", &k->value) != 0) return -1;
    } else if (!strcmp(type, "create")) {
        size_t ml;
        const char *m = sj_str(sj_get(act, "creationMethod"), &ml);
        strcpy(k->type, m && !strcmp(m, "create2") ? "create2" : "create");
        if (need_addr(c, act, "from", &k->from) != 0) return -1;
        if (need_u256(c, act, "value", &k->value) != 0) return -1;
        if (sj_is_object(res) && opt_addr(c, res, "address", &k->to) < 0) return -1;
    } else if (!strcmp(type, "suicide")) {
        strcpy(k->type, "selfdestruct");
        if (need_addr(c, act, "address", &k->from) != 0) return -1;
        if (need_addr(c, act, "refundAddress", &k->to) != 0) return -1;
        if (need_u256(c, act, "balance", &k->value) != 0) return -1;
    } else {
        return fail(c, "unknown trace type \"%s\"", type);
    }
    return 0;
}

/* One callTracer frame and, depth first, the frames it called. */
static int parse_frame(rctx *c, ch_evm_block *b, sj_val f, uint32_t tx_index, bool has_hash,
                       const ch_hash256 *hash, const uint32_t *parent, uint16_t depth,
                       uint32_t child) {
    if (!sj_is_object(f)) return fail(c, "a call frame is not an object");
    if (depth > 1024) return fail(c, "calls nested deeper than 1024");
    evm_pcall *p = evm_add_pcall(b);
    if (!p) return fail(c, "out of memory");
    uint32_t *addr = evm_alloc(b, (depth ? depth : 1) * sizeof *addr);
    if (!addr) return fail(c, "out of memory");
    if (depth) {
        if (depth > 1) memcpy(addr, parent, (depth - 1) * sizeof *addr);
        addr[depth - 1] = child;
    }
    ch_evm_call *k = &p->c;
    k->tx_index = tx_index;
    p->has_index = true;
    p->has_hash = has_hash;
    if (has_hash) p->tx_hash = *hash;
    k->trace_addr = addr;
    k->depth = depth;
    const char *type;
    size_t tlen;
    if (need_str(c, f, "type", &type, &tlen) != 0) return -1;
    lower_copy(k->type, sizeof k->type, type);
    /* a SELFDESTRUCT frame may carry no from/to/value at all */
    if (opt_addr(c, f, "from", &k->from) < 0 || opt_addr(c, f, "to", &k->to) < 0 ||
        opt_u256(c, f, "value", &k->value) < 0)
        return -1;
    k->self_error = sj_present(sj_get(f, "error"));
    sj_val calls = sj_get(f, "calls");
    if (sj_present(calls) && !sj_is_array(calls)) return fail(c, "\"calls\" is not an array");
    /* p may move as the array grows: keep nothing of it past this point */
    sj_iter it = sj_items(calls);
    sj_val sub;
    for (size_t i = 0; sj_next(&it, &sub); i++)
        if (parse_frame(c, b, sub, tx_index, has_hash, hash, addr, (uint16_t)(depth + 1),
                        (uint32_t)i) != 0)
            return -1;
    return 0;
}

/* The block already read that holds transaction h, or NULL. Traces mostly
 * follow their blocks, so the search starts from the newest block. */
static ch_evm_block *block_with_tx(rctx *c, const ch_hash256 *h) {
    for (size_t i = c->set->n; i-- > 0;) {
        ch_evm_block *b = c->set->v[i];
        for (size_t t = 0; t < b->n_tx; t++)
            if (memcmp(b->tx[t].hash.b, h->b, 32) == 0) return b;
    }
    return NULL;
}

/* A callTracer response does not carry its block number: it comes from
 * the file name (debug_traceBlockByNumber_0x<number>), or else from the
 * block read earlier that holds the first traced transaction (JSON lines
 * of traces beside a blocks file). */
static ch_evm_block *calltracer_block(rctx *c, sj_val arr) {
    if (c->name_block) return block_of(c, c->name_number);
    ch_hash256 h;
    sj_val first = sj_at(arr, 0);
    int k = sj_is_object(first) ? opt_hash(c, first, "txHash", &h) : 0;
    if (k < 0) return NULL;
    ch_evm_block *b = k > 0 ? block_with_tx(c, &h) : NULL;
    if (b) return block_of(c, b->number); /* the same block, named: the reader sees it */
    fail(c, "a callTracer trace does not say its block: read its block first, or name "
            "the source debug_traceBlockByNumber_0x<number>");
    return NULL;
}

static int parse_calltracer(rctx *c, sj_val arr) {
    ch_evm_block *b = calltracer_block(c, arr);
    if (!b) return -1;
    sj_iter it = sj_items(arr);
    sj_val item;
    for (size_t i = 0; sj_next(&it, &item); i++) {
        snprintf(c->where, sizeof c->where, "block %llu: trace of tx %zu",
                 (unsigned long long)b->number, i);
        if (!sj_is_object(item)) return fail(c, "not an object");
        if (sj_present(sj_get(item, "error"))) return fail(c, "the node could not trace it");
        sj_val frame = sj_get(item, "result");
        if (!sj_present(frame)) frame = item; /* some nodes give the frames bare */
        ch_hash256 h;
        int k = opt_hash(c, item, "txHash", &h);
        if (k < 0) return -1;
        if (parse_frame(c, b, frame, (uint32_t)i, k > 0, &h, NULL, 0, 0) != 0) return -1;
    }
    c->where[0] = '\0';
    return 0;
}

/* --- dispatch ------------------------------------------------------------------ */

/* A callTracer result: an array of {"txHash","result"} (or of bare frames),
 * told apart from the other array results by what its items lack. */
static bool is_calltracer(sj_val res) {
    sj_val first = sj_at(res, 0);
    if (!sj_is_object(first) || has(first, "action") || has(first, "topics") ||
        (has(first, "transactionHash") && has(first, "gasUsed")))
        return false;
    return has(first, "result") || has(first, "type") || has(first, "txHash");
}

/* What a JSON-RPC result holds, told apart by shape: a block, a receipt, or
 * an array of receipts, logs or traces; results of other calls (eth_chainId,
 * ...) are skipped. */
static int parse_result(rctx *c, sj_val res) {
    if (sj_is_object(res)) {
        if (has(res, "transactions")) return parse_block(c, res);
        if (has(res, "transactionHash") && has(res, "gasUsed")) return parse_receipt(c, res);
        return fail(c, "a result that is neither a block nor a receipt");
    }
    if (!sj_is_array(res)) return 0; /* eth_chainId, eth_newFilter, ...: nothing for us */
    sj_val first = sj_at(res, 0);
    if (!sj_present(first)) return 0;
    if (!sj_is_object(first)) return fail(c, "a result array of non-objects");
    sj_iter it = sj_items(res);
    sj_val item;
    if (has(first, "action")) {
        for (size_t i = 0; sj_next(&it, &item); i++)
            if (parse_parity(c, item, i) != 0) return -1;
        c->where[0] = '\0';
        return 0;
    }
    if (has(first, "topics")) {
        for (size_t i = 0; sj_next(&it, &item); i++) {
            snprintf(c->where, sizeof c->where, "log %zu", i);
            if (parse_log(c, item, UINT64_MAX, NULL) != 0) return -1;
        }
        c->where[0] = '\0';
        return 0;
    }
    if (has(first, "transactionHash") && has(first, "gasUsed")) {
        while (sj_next(&it, &item))
            if (parse_receipt(c, item) != 0) return -1;
        return 0;
    }
    if (is_calltracer(res)) return parse_calltracer(c, res);
    return fail(c, "a result array of unknown objects");
}

static int parse_response(rctx *c, sj_val o) {
    if (!sj_is_object(o)) return fail(c, "a response is not an object");
    sj_val e = sj_get(o, "error");
    if (sj_present(e) && !sj_is_null(e)) {
        size_t ml;
        const char *m = sj_str(sj_get(e, "message"), &ml);
        return fail(c, "JSON-RPC error: %s", m ? m : "?");
    }
    sj_val res = sj_get(o, "result");
    if (!sj_present(res)) return fail(c, "a response without \"result\"");
    return parse_result(c, res);
}

/* "…debug_traceBlockByNumber_0x1a_tracer…" -> 26 */
static void block_from_name(rctx *c) {
    const char *p = c->name ? strstr(c->name, "traceBlockByNumber_0x") : NULL;
    if (!p) return;
    p += strlen("traceBlockByNumber_");
    size_t n = 2;
    while (n < 18 && ((p[n] >= '0' && p[n] <= '9') || (p[n] >= 'a' && p[n] <= 'f') ||
                      (p[n] >= 'A' && p[n] <= 'F')))
        n++;
    if (evm_hex_u64(p, n, &c->name_number) == 0) c->name_block = true;
}

/* One document: a response, or an array of them (a batch). */
static int parse_doc(rctx *c, sj_val doc) {
    if (!sj_is_array(doc)) return parse_response(c, doc);
    sj_iter it = sj_items(doc);
    for (sj_val r; sj_next(&it, &r);)
        if (parse_response(c, r) != 0) return -1;
    return 0;
}

/* Does a block response among the first n of the batch hold transaction h? */
static bool batch_has_tx(sj_val doc, size_t n, const ch_hash256 *h) {
    sj_iter it = sj_items(doc);
    sj_val r;
    for (size_t i = 0; i < n && sj_next(&it, &r); i++) {
        sj_iter ti = sj_items(sj_get(sj_get(r, "result"), "transactions"));
        for (sj_val t; sj_next(&ti, &t);) {
            size_t hl;
            const char *hs = sj_str(sj_get(t, "hash"), &hl);
            ch_hash256 th;
            if (hs && evm_hex_fixed(hs, hl, th.b, 32) == 0 && !memcmp(th.b, h->b, 32)) return true;
        }
    }
    return false;
}

/* Can every callTracer response of doc find its block now? (It names its
 * block by its first transaction only, which a block read earlier holds.)
 * Documents that will fail for another reason say yes: applying reports it. */
static bool placeable(rctx *c, sj_val doc) {
    if (c->name_block) return true;
    bool batch = sj_is_array(doc);
    sj_iter it = sj_items(doc);
    sj_val r = doc;
    for (size_t i = 0; batch ? sj_next(&it, &r) : i == 0; i++) {
        sj_val res = sj_get(r, "result");
        if (!sj_is_array(res) || !is_calltracer(res)) continue;
        size_t hl;
        const char *hs = sj_str(sj_get(sj_at(res, 0), "txHash"), &hl);
        ch_hash256 h;
        if (!hs || evm_hex_fixed(hs, hl, h.b, 32) != 0) continue;
        if (!block_with_tx(c, &h) && !(batch && batch_has_tx(doc, i, &h))) return false;
    }
    return true;
}

static void line_ctx(rctx *c, evm_set *s, const char *name, long line_no, ch_error *err) {
    memset(c, 0, sizeof *c);
    c->set = s;
    c->name = name ? name : "(memory)";
    c->line = line_no > 0 ? line_no : 1;
    c->err = err;
    block_from_name(c);
}

/* The set's parser, made on first use (freed with the set). */
static sj_parser *parser_of(rctx *c) {
    if (!c->set->json && !(c->set->json = sj_parser_new())) fail(c, "out of memory");
    return c->set->json;
}

/* Parse text (one document) with simdjson into *doc. When simdjson refuses
 * it, jansson reads it again to name the column (the messages the readers
 * always gave): this costs nothing on good input. */
static int parse_line_doc(rctx *c, const char *text, size_t len, sj_val *doc) {
    sj_parser *p = parser_of(c);
    if (!p) return -1;
    if (sj_parse(p, text, len, doc) == 0) {
        if (sj_is_object(*doc) || sj_is_array(*doc)) return 0;
        /* jansson (without JSON_DECODE_ANY) refused bare scalars: so do we */
    }
    json_error_t je;
    json_t *j = json_loadb(text, len, 0, &je);
    if (!j)
        return ch_err(c->err, "%s: line %ld, column %d: %s", c->name, c->line, je.column, je.text);
    json_decref(j);
    return ch_err(c->err, "%s: line %ld: %s", c->name, c->line,
                  sj_is_object(*doc) || sj_is_array(*doc) || !sj_present(*doc)
                      ? sj_parser_error(p)
                      : "'[' or '{' expected");
}

struct evm_held {
    sj_parser *p; /* owns doc's text and tape */
    sj_val doc;
};

void evm_held_free(evm_held *h) {
    if (!h) return;
    sj_parser_free(h->p);
    free(h);
}

int evm_rpc_line(evm_set *s, const char *line, size_t len, const char *name, long line_no,
                 evm_held **held, ch_error *err) {
    *held = NULL;
    size_t lead = 0;
    while (lead < len &&
           (line[lead] == ' ' || line[lead] == '\t' || line[lead] == '\r' || line[lead] == '\n'))
        lead++;
    if (lead == len) return 0; /* a blank line */
    rctx c;
    line_ctx(&c, s, name, line_no, err);
    sj_val doc;
    if (parse_line_doc(&c, line, len, &doc) != 0) return -1;
    if (!placeable(&c, doc)) {
        /* the document lasts until its parser's next parse: the held
         * response takes the parser, the set goes on with its spare (or a
         * new one, made on use) */
        evm_held *h = malloc(sizeof *h);
        if (!h) return fail(&c, "out of memory");
        *h = (evm_held){s->json, doc};
        s->json = s->json_spare;
        s->json_spare = NULL;
        *held = h;
        return 1;
    }
    return parse_doc(&c, doc);
}

int evm_rpc_apply_held(evm_set *s, evm_held *held, const char *name, long line_no, bool force,
                       ch_error *err) {
    rctx c;
    line_ctx(&c, s, name, line_no, err);
    if (!force && !placeable(&c, held->doc)) return 1;
    int rc = parse_doc(&c, held->doc);
    /* its parser becomes the set's spare, for the next response held */
    if (!s->json_spare) {
        s->json_spare = held->p;
        held->p = NULL;
    }
    evm_held_free(held);
    return rc;
}

/* Where the object or array that opens at json[off] ends (one past its
 * closing bracket), by its brackets outside strings; 0 when it does not
 * open with a bracket or does not close before len (the parser then says
 * what is wrong). Whether it is JSON is the parser's business. */
static size_t doc_end(const char *json, size_t off, size_t len) {
    if (json[off] != '{' && json[off] != '[') return 0;
    size_t depth = 0;
    for (size_t i = off; i < len; i++) {
        char ch = json[i];
        if (ch == '"') {
            for (i++; i < len && json[i] != '"'; i++)
                if (json[i] == '\\') i++;
            if (i >= len) return 0;
        } else if (ch == '{' || ch == '[') {
            depth++;
        } else if (ch == '}' || ch == ']') {
            if (--depth == 0) return i + 1;
        }
    }
    return 0;
}

int evm_rpc_parse(evm_set *s, const char *json, size_t len, const char *name, ch_error *err) {
    rctx c;
    memset(&c, 0, sizeof c);
    c.set = s;
    c.name = name ? name : "(memory)";
    c.err = err;
    block_from_name(&c);
    sj_parser *p = parser_of(&c);
    if (!p) return -1;
    size_t off = 0, docs = 0;
    /* the buffer's line and where it starts, up to `seen` (jansson counts
     * lines from the document it parses, not from the file) */
    size_t seen = 0, line_start = 0;
    long line = 1;
    for (;;) {
        while (off < len &&
               (json[off] == ' ' || json[off] == '\n' || json[off] == '\r' || json[off] == '\t'))
            off++;
        if (off >= len) break;
        for (const char *nl; seen < off && (nl = memchr(json + seen, '\n', off - seen));) {
            line++;
            seen = line_start = (size_t)(nl - json) + 1;
        }
        seen = off;
        c.doc_off = off;
        c.doc_line = line;
        /* one value at a time: the buffer may hold several. JSON lines
         * first (a line that parses whole is the document), else the
         * extent of the value by its brackets (a document over lines) */
        const char *nl = memchr(json + off, '\n', len - off);
        size_t end = nl ? (size_t)(nl - json) : len;
        sj_val doc;
        bool ok = sj_parse(p, json + off, end - off, &doc) == 0 &&
                  (sj_is_object(doc) || sj_is_array(doc));
        if (!ok) {
            end = doc_end(json, off, len);
            ok = end && sj_parse(p, json + off, end - off, &doc) == 0;
        }
        if (!ok) {
            /* not JSON: jansson names the line and column, as it always did */
            json_error_t je;
            json_t *j = json_loadb(json + off, len - off, JSON_DISABLE_EOF_CHECK, &je);
            if (!j) {
                long at_line = line + (je.line > 0 ? je.line - 1 : 0);
                long at_col = je.line <= 1 ? (long)(off - line_start) + je.column : je.column;
                return ch_err(err, "%s: byte %zu (line %ld, column %ld): %s", c.name,
                              off + (size_t)je.position, at_line, at_col, je.text);
            }
            json_decref(j);
            if (end || (size_t)je.position == 0 ||
                sj_parse(p, json + off, (size_t)je.position, &doc) != 0)
                return ch_err(err, "%s: byte %zu (line %ld): %s", c.name, off, line,
                              sj_parser_error(p));
            end = off + (size_t)je.position;
        }
        if (parse_doc(&c, doc) != 0) return -1;
        docs++;
        off = end;
    }
    if (docs == 0) return ch_err(err, "%s: no JSON document", c.name);
    return 0;
}

int ch_evm_parse_rpc(const char *json, size_t len, const char *name, ch_evm_block **blocks,
                     size_t *n_blocks, ch_error *err) {
    evm_set s = {0};
    if (evm_rpc_parse(&s, json, len, name, err) != 0) {
        evm_set_free(&s);
        return -1;
    }
    if (evm_set_export(&s, blocks, n_blocks, err) != 0) {
        evm_set_free(&s);
        return -1;
    }
    return 0;
}

/* blockchain-etl exports: blocks, transactions, receipts, logs,
 * token_transfers and traces, as CSV (RFC 4180, util/csvread) or JSON lines
 * (one object a line). A JSON line is parsed by simdjson (util/sjson.h),
 * whose integers are exact up to 2^64; ETL writes wei values as bare JSON
 * integers far above that, which simdjson refuses (and a double would
 * corrupt), so such a line - and any line simdjson refuses, or that holds
 * a negative or fractional number, whose text simdjson does not keep - is
 * read again by yajl's tree API, which keeps every number's text and names
 * what is wrong with a malformed line. Both give a row the same texts.
 *
 * Column names follow ethereum-etl (block_number, from_address, ...); the
 * camelCase names of GraphSense's exports (blockId, fromAddress, txHash, ...)
 * are accepted as aliases. What a file holds comes from a row's "type" (the
 * stream exporter mixes kinds), else its columns, else its name. */
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "chains/eth/evm_internal.h"
#include "util/csvread.h"
#include "util/decimal.h"
#include "util/sjson.h"

typedef enum { K_NONE, K_BLOCK, K_TX, K_RECEIPT, K_LOG, K_TT, K_TRACE } row_kind;

/* Alias lists: names separated by '|'. */
#define A_BLOCK   "block_number|blockId|blockNumber"
#define A_TXHASH  "transaction_hash|txHash|transactionHash"
#define A_TXINDEX "transaction_index|transactionIndex"
#define A_FROM    "from_address|fromAddress|from"
#define A_TO      "to_address|toAddress|to"

#define CACHE_N 48

typedef struct ectx {
    evm_set *set;
    const char *name;
    long line;
    ch_error *err;
    row_kind file_kind;
    /* CSV: the header and a cache from alias list (by address) to column */
    csv_reader *csv;
    char **hdr;
    int n_hdr;
    const char *cache_key[CACHE_N];
    int cache_col[CACHE_N];
    /* JSON lines: the row, as yajl's tree (obj) or simdjson's document
     * (sobj, when use_sj) */
    yajl_val obj;
    sj_val sobj;
    bool use_sj;
    /* simdjson's integers as text: a ring for single fields, then room for
     * a list's items (a trace address of up to 1024) */
    unsigned num_at;
    char num[16 + 1025][24];
} ectx;

#define NUM_RING 16

__attribute__((format(printf, 2, 3))) static int fail(ectx *c, const char *fmt, ...) {
    char msg[CH_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ch_err(c->err, "%s: line %ld: %s", c->name, c->line, msg);
}

static int csv_col(ectx *c, const char *aliases) {
    for (int i = 0; i < CACHE_N && c->cache_key[i]; i++)
        if (c->cache_key[i] == aliases) return c->cache_col[i];
    int col = -1;
    /* the first alias that is a column wins, so the order in the list matters */
    for (const char *p = aliases; col < 0;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        for (int i = 0; i < c->n_hdr; i++)
            if (strlen(c->hdr[i]) == len && !memcmp(c->hdr[i], p, len)) {
                col = i;
                break;
            }
        if (!bar) break;
        p = bar + 1;
    }
    for (int i = 0; i < CACHE_N; i++)
        if (!c->cache_key[i]) {
            c->cache_key[i] = aliases;
            c->cache_col[i] = col;
            break;
        }
    return col;
}

static yajl_val json_field(ectx *c, const char *aliases) {
    for (const char *p = aliases;;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        for (size_t i = 0; i < c->obj->u.object.len; i++) {
            const char *k = c->obj->u.object.keys[i];
            if (strlen(k) == len && !memcmp(k, p, len)) return c->obj->u.object.values[i];
        }
        if (!bar) return NULL;
        p = bar + 1;
    }
}

/* The first of the aliases the simdjson row has (SJ_NONE: none). */
static sj_val sj_field(ectx *c, const char *aliases) {
    for (const char *p = aliases;;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        char key[64];
        if (len < sizeof key) {
            memcpy(key, p, len);
            key[len] = '\0';
            sj_val v = sj_get(c->sobj, key);
            if (sj_present(v)) return v;
        }
        if (!bar) return sj_none();
        p = bar + 1;
    }
}

/* A simdjson integer's decimal text into buf (the row's integers are not
 * negative: lines with a '-' outside strings go to yajl), as the JSON text
 * wrote it (JSON has no leading zeros). */
static const char *num_text(sj_val v, char buf[24]) {
    ch_dec_u64(sj_uint(v), buf);
    return buf;
}

/* The text of a scalar simdjson value as yajl's tree gives it (a number's
 * digits, "true", "false"), NULL for null, absent, arrays and objects. */
static const char *sj_scalar(ectx *c, sj_val v, char buf[24]) {
    size_t n;
    switch (v.type) {
    case SJ_STRING:
        return sj_str(v, &n);
    case SJ_INT:
    case SJ_UINT:
        return num_text(v, buf);
    case SJ_TRUE:
        return "true";
    case SJ_FALSE:
        return "false";
    default:
        (void)c;
        return NULL;
    }
}

/* The text of a scalar field: 1 found, 0 absent, null or empty, -1 not a
 * scalar (reported). */
static int get(ectx *c, const char *aliases, const char **s, size_t *len) {
    if (c->csv) {
        int col = csv_col(c, aliases);
        if (col < 0 || !c->csv->field[col][0]) return 0;
        *s = c->csv->field[col];
        *len = strlen(*s);
        return 1;
    }
    if (c->use_sj) {
        sj_val v = sj_field(c, aliases);
        if (!sj_present(v) || sj_is_null(v)) return 0;
        *s = sj_scalar(c, v, c->num[c->num_at++ % NUM_RING]);
        if (!*s) return fail(c, "\"%s\" is not a scalar", aliases);
        *len = strlen(*s);
        return *len ? 1 : 0;
    }
    yajl_val v = json_field(c, aliases);
    if (!v || YAJL_IS_NULL(v)) return 0;
    if (YAJL_IS_STRING(v))
        *s = v->u.string;
    else if (YAJL_IS_NUMBER(v))
        *s = v->u.number.r;
    else if (YAJL_IS_TRUE(v))
        *s = "true";
    else if (YAJL_IS_FALSE(v))
        *s = "false";
    else
        return fail(c, "\"%s\" is not a scalar", aliases);
    *len = strlen(*s);
    return *len ? 1 : 0;
}

static const char *first_alias(const char *aliases, char *buf, size_t cap) {
    size_t n = strcspn(aliases, "|");
    if (n >= cap) n = cap - 1;
    memcpy(buf, aliases, n);
    buf[n] = '\0';
    return buf;
}

/* Typed getters: 1 read, 0 absent, -1 error (reported). */
static int opt_u64(ectx *c, const char *aliases, uint64_t *out) {
    const char *s;
    size_t n;
    int r = get(c, aliases, &s, &n);
    char b[40];
    if (r > 0 && evm_num_u64(s, n, out) != 0)
        return fail(c, "%s \"%.40s\" is not a number below 2^64", first_alias(aliases, b, sizeof b),
                    s);
    return r;
}

static int need_u64(ectx *c, const char *aliases, uint64_t *out) {
    int r = opt_u64(c, aliases, out);
    char b[40];
    if (r == 0) return fail(c, "missing %s", first_alias(aliases, b, sizeof b));
    return r < 0 ? -1 : 0;
}

static int need_u32(ectx *c, const char *aliases, uint32_t *out) {
    uint64_t v;
    char b[40];
    if (need_u64(c, aliases, &v) != 0) return -1;
    if (v >= UINT32_MAX) return fail(c, "%s out of range", first_alias(aliases, b, sizeof b));
    *out = (uint32_t)v;
    return 0;
}

static int opt_u256(ectx *c, const char *aliases, ch_u256 *out) {
    const char *s;
    size_t n;
    int r = get(c, aliases, &s, &n);
    char b[40];
    if (r > 0 && evm_num_u256(s, n, out) != 0)
        return fail(c, "%s \"%.80s\" is not a number below 2^256",
                    first_alias(aliases, b, sizeof b), s);
    return r;
}

static int opt_addr(ectx *c, const char *aliases, ch_evm_addr *out) {
    const char *s;
    size_t n;
    int r = get(c, aliases, &s, &n);
    char b[40];
    if (r > 0 && ch_evm_addr_from_hex(s, n, out) != 0)
        return fail(c, "%s \"%.50s\" is not a 20-byte hex address",
                    first_alias(aliases, b, sizeof b), s);
    return r;
}

static int need_addr(ectx *c, const char *aliases, ch_evm_addr *out) {
    int r = opt_addr(c, aliases, out);
    char b[40];
    if (r == 0) return fail(c, "missing %s", first_alias(aliases, b, sizeof b));
    return r < 0 ? -1 : 0;
}

static int opt_hash(ectx *c, const char *aliases, ch_hash256 *out) {
    const char *s;
    size_t n;
    int r = get(c, aliases, &s, &n);
    char b[40];
    if (r > 0 && evm_hex_fixed(s, n, out->b, 32) != 0)
        return fail(c, "%s \"%.70s\" is not a 32-byte hex hash", first_alias(aliases, b, sizeof b),
                    s);
    return r;
}

static int need_hash(ectx *c, const char *aliases, ch_hash256 *out) {
    int r = opt_hash(c, aliases, out);
    char b[40];
    if (r == 0) return fail(c, "missing %s", first_alias(aliases, b, sizeof b));
    return r < 0 ? -1 : 0;
}

/* A list field: CSV writes "a,b,c" in one cell, JSON an array. Returns the
 * count, or -1 (reported) when there are more than max or not scalars. */
static int get_list(ectx *c, const char *aliases, const char **item, size_t *len, int max) {
    int n = 0;
    if (c->csv) {
        const char *s;
        size_t sl;
        if (get(c, aliases, &s, &sl) <= 0) return 0;
        for (const char *p = s;; n++) {
            const char *comma = strchr(p, ',');
            if (n == max) return fail(c, "%s: more than %d items", aliases, max);
            item[n] = p;
            len[n] = comma ? (size_t)(comma - p) : strlen(p);
            if (!comma) return n + 1;
            p = comma + 1;
        }
    }
    if (c->use_sj) {
        sj_val v = sj_field(c, aliases);
        if (!sj_present(v) || sj_is_null(v)) return 0;
        if (!sj_is_array(v)) return fail(c, "%s is not an array", aliases);
        if (sj_size(v) > (size_t)max) return fail(c, "%s: more than %d items", aliases, max);
        sj_iter it = sj_items(v);
        for (sj_val e; sj_next(&it, &e); n++) {
            if (!sj_is_string(e) && !sj_is_integer(e))
                return fail(c, "%s holds a non-scalar", aliases);
            item[n] = sj_scalar(c, e, c->num[NUM_RING + n]);
            len[n] = strlen(item[n]);
        }
        return n;
    }
    yajl_val v = json_field(c, aliases);
    if (!v || YAJL_IS_NULL(v)) return 0;
    if (!YAJL_IS_ARRAY(v)) return fail(c, "%s is not an array", aliases);
    if (v->u.array.len > (size_t)max) return fail(c, "%s: more than %d items", aliases, max);
    for (size_t i = 0; i < v->u.array.len; i++, n++) {
        yajl_val e = v->u.array.values[i];
        if (YAJL_IS_STRING(e))
            item[n] = e->u.string;
        else if (YAJL_IS_NUMBER(e))
            item[n] = e->u.number.r;
        else
            return fail(c, "%s holds a non-scalar", aliases);
        len[n] = strlen(item[n]);
    }
    return n;
}

static ch_evm_block *block_for(ectx *c, uint64_t *number) {
    if (need_u64(c, A_BLOCK, number) != 0) return NULL;
    ch_evm_block *b = evm_set_get(c->set, *number);
    if (!b) fail(c, "out of memory");
    return b;
}

static bool has(ectx *c, const char *aliases);

/* --- rows ------------------------------------------------------------------ */

static int add_withdrawal(ectx *c, ch_evm_block *b, uint64_t idx, uint64_t val, const char *addr,
                          uint64_t amount) {
    ch_evm_withdrawal *w = evm_add_withdrawal(b);
    if (!w) return fail(c, "out of memory");
    w->index = idx;
    w->validator = val;
    w->amount_gwei = amount;
    if (!addr || ch_evm_addr_from_hex(addr, strlen(addr), &w->address) != 0)
        return fail(c, "withdrawal %llu: bad address", (unsigned long long)idx);
    return 0;
}

/* Withdrawals: a JSON array in a JSON row, JSON text in a CSV cell (which
 * ethereum-etl writes without the outer brackets). */
static int row_withdrawals(ectx *c, ch_evm_block *b) {
    if (c->csv) {
        const char *s;
        size_t n;
        if (get(c, "withdrawals", &s, &n) <= 0) return 0;
        bool bare = s[0] != '[';
        char *text = malloc(n + 3);
        if (!text) return fail(c, "out of memory");
        snprintf(text, n + 3, bare ? "[%s]" : "%s", s);
        json_error_t je;
        json_t *arr = json_loads(text, 0, &je);
        free(text);
        if (!json_is_array(arr)) {
            json_decref(arr);
            return fail(c, "withdrawals: not a JSON array of objects");
        }
        int rc = 0;
        for (size_t i = 0; i < json_array_size(arr) && rc == 0; i++) {
            json_t *w = json_array_get(arr, i);
            json_t *ix = json_object_get(w, "index"), *vi = json_object_get(w, "validator_index"),
                   *am = json_object_get(w, "amount");
            if (!json_is_integer(ix) || !json_is_integer(vi) || !json_is_integer(am) ||
                json_integer_value(ix) < 0 || json_integer_value(vi) < 0 ||
                json_integer_value(am) < 0)
                rc = fail(c, "withdrawal %zu: index, validator_index or amount missing", i);
            else
                rc = add_withdrawal(c, b, (uint64_t)json_integer_value(ix),
                                    (uint64_t)json_integer_value(vi),
                                    json_string_value(json_object_get(w, "address")),
                                    (uint64_t)json_integer_value(am));
        }
        json_decref(arr);
        return rc;
    }
    if (c->use_sj) {
        sj_val v = sj_field(c, "withdrawals");
        if (!sj_present(v) || sj_is_null(v)) return 0;
        if (!sj_is_array(v)) return fail(c, "withdrawals is not an array");
        sj_iter it = sj_items(v);
        sj_val w;
        for (size_t i = 0; sj_next(&it, &w); i++) {
            if (!sj_is_object(w)) return fail(c, "withdrawal %zu is not an object", i);
            sj_val ix = sj_get(w, "index"), vi = sj_get(w, "validator_index"),
                   am = sj_get(w, "amount"), ad = sj_get(w, "address");
            char b1[24], b2[24], b3[24];
            uint64_t a, bv, d;
            if (!sj_is_integer(ix) || !sj_is_integer(vi) || !sj_is_integer(am) ||
                evm_dec_u64(num_text(ix, b1), strlen(b1), &a) ||
                evm_dec_u64(num_text(vi, b2), strlen(b2), &bv) ||
                evm_dec_u64(num_text(am, b3), strlen(b3), &d))
                return fail(c, "withdrawal %zu: index, validator_index or amount missing", i);
            size_t adn;
            if (add_withdrawal(c, b, a, bv, sj_is_string(ad) ? sj_str(ad, &adn) : NULL, d) != 0)
                return -1;
        }
        return 0;
    }
    yajl_val v = json_field(c, "withdrawals");
    if (!v || YAJL_IS_NULL(v)) return 0;
    if (!YAJL_IS_ARRAY(v)) return fail(c, "withdrawals is not an array");
    for (size_t i = 0; i < v->u.array.len; i++) {
        yajl_val w = v->u.array.values[i];
        if (!YAJL_IS_OBJECT(w)) return fail(c, "withdrawal %zu is not an object", i);
        const char *path_ix[] = {"index", NULL}, *path_vi[] = {"validator_index", NULL},
                   *path_am[] = {"amount", NULL}, *path_ad[] = {"address", NULL};
        yajl_val ix = yajl_tree_get(w, path_ix, yajl_t_number),
                 vi = yajl_tree_get(w, path_vi, yajl_t_number),
                 am = yajl_tree_get(w, path_am, yajl_t_number),
                 ad = yajl_tree_get(w, path_ad, yajl_t_string);
        uint64_t a, bv, d;
        if (!ix || !vi || !am || evm_dec_u64(ix->u.number.r, strlen(ix->u.number.r), &a) ||
            evm_dec_u64(vi->u.number.r, strlen(vi->u.number.r), &bv) ||
            evm_dec_u64(am->u.number.r, strlen(am->u.number.r), &d))
            return fail(c, "withdrawal %zu: index, validator_index or amount missing", i);
        if (add_withdrawal(c, b, a, bv, ad ? ad->u.string : NULL, d) != 0) return -1;
    }
    return 0;
}

static int row_block(ectx *c) {
    uint64_t number;
    if (need_u64(c, "number|blockId|block_number", &number) != 0) return -1;
    ch_evm_block *b = evm_set_get(c->set, number);
    if (!b) return fail(c, "out of memory");
    if (b->has_header) return fail(c, "block %llu appears twice", (unsigned long long)number);
    b->has_header = true;
    if (need_hash(c, "hash|blockHash", &b->hash) != 0) return -1;
    if (need_hash(c, "parent_hash|parentHash", &b->parent) != 0) return -1;
    if (opt_addr(c, "miner", &b->miner) < 0) return -1;
    if (opt_u64(c, "timestamp", &b->timestamp) < 0) return -1;
    if (opt_u64(c, "gas_used|gasUsed", &b->gas_used) < 0) return -1;
    if (opt_u64(c, "gas_limit|gasLimit", &b->gas_limit) < 0) return -1;
    if (opt_u256(c, "base_fee_per_gas|baseFeePerGas", &b->base_fee) < 0) return -1;
    return row_withdrawals(c, b);
}

/* One row of blockchain-etl's transactions export into its block's tx list
 * (hash, index, sender, recipient, value, gas and, when the export carries
 * them, the receipt's fields). */
static int row_tx(ectx *c) {
    uint64_t number;
    ch_evm_block *b = block_for(c, &number);
    if (!b) return -1;
    ch_evm_tx *t = evm_add_tx(b);
    if (!t) return fail(c, "out of memory");
    if (need_hash(c, "hash|txHash", &t->hash) != 0) return -1;
    if (need_u32(c, A_TXINDEX, &t->index) != 0) return -1;
    if (need_u64(c, "nonce", &t->nonce) != 0) return -1;
    ch_hash256 bh;
    int r = opt_hash(c, "block_hash|blockHash", &bh);
    if (r < 0) return -1;
    if (r > 0 && evm_add_claim(b, &bh, t->index) != 0) return fail(c, "out of memory");
    if (need_addr(c, A_FROM, &t->from) != 0) return -1;
    int k = opt_addr(c, A_TO, &t->to);
    if (k < 0) return -1;
    t->has_to = k > 0;
    if ((k = opt_u256(c, "value", &t->value)) <= 0) return k < 0 ? -1 : fail(c, "missing value");
    if (need_u64(c, "gas", &t->gas) != 0) return -1;
    if (opt_u256(c, "gas_price|gasPrice", &t->gas_price) < 0) return -1;
    const char *s;
    size_t n;
    if ((k = get(c, "input", &s, &n)) < 0) return -1;
    if (k > 0 && evm_hex_bytes(b, s, n, &t->input, &t->input_len) != 0)
        return fail(c, "input is not hex bytes");
    uint64_t v;
    if ((k = opt_u64(c, "transaction_type", &v)) < 0) return -1;
    t->type = (uint8_t)(k > 0 && v < 256 ? v : 0);
    /* the stream exporter joins the receipt in (receipt_*); GraphSense keeps
     * only the gas used */
    int has_gas = opt_u64(c, "receipt_gas_used|receiptGasUsed", &t->gas_used);
    if (has_gas < 0) return -1;
    t->has_receipt = has_gas > 0;
    if ((k = opt_u64(c, "receipt_status", &v)) < 0) return -1;
    if (k > 0 && v > 1) return fail(c, "receipt_status is neither 0 nor 1");
    t->status = k > 0 ? (int)v : -1;
    if (opt_u64(c, "receipt_cumulative_gas_used", &t->cumulative_gas_used) < 0) return -1;
    ch_u256 price;
    if ((k = opt_u256(c, "receipt_effective_gas_price", &price)) < 0) return -1;
    if (k > 0) t->gas_price = price;
    if (opt_addr(c, "receipt_contract_address", &t->created) < 0) return -1;
    return 0;
}

static int row_receipt(ectx *c) {
    uint64_t number;
    ch_evm_block *b = block_for(c, &number);
    if (!b) return -1;
    evm_receipt *r = evm_add_receipt(b);
    if (!r) return fail(c, "out of memory");
    if (need_hash(c, A_TXHASH, &r->tx_hash) != 0) return -1;
    if (need_u32(c, A_TXINDEX, &r->tx_index) != 0) return -1;
    r->has_hash = r->has_index = true;
    uint64_t v;
    int k = opt_u64(c, "status", &v);
    if (k < 0) return -1;
    if (k > 0 && v > 1) return fail(c, "status is neither 0 nor 1");
    r->status = k > 0 ? (int)v : -1;
    if (need_u64(c, "gas_used|gasUsed", &r->gas_used) != 0) return -1;
    if (opt_u64(c, "cumulative_gas_used|cumulativeGasUsed", &r->cumulative_gas_used) < 0) return -1;
    if ((k = opt_u256(c, "effective_gas_price|effectiveGasPrice", &r->price)) < 0) return -1;
    r->has_price = k > 0;
    if ((k = opt_addr(c, "contract_address|contractAddress", &r->contract)) < 0) return -1;
    r->has_contract = k > 0;
    return 0;
}

/* One row of blockchain-etl's logs export: the event's index, tx, emitting
 * contract, topics and data, for the transfers decoded from it. */
static int row_log(ectx *c) {
    uint64_t number;
    ch_evm_block *b = block_for(c, &number);
    if (!b) return -1;
    ch_evm_log *l = evm_add_log(b);
    if (!l) return fail(c, "out of memory");
    if (need_u32(c, "log_index|logIndex", &l->log_index) != 0) return -1;
    if (need_u32(c, A_TXINDEX, &l->tx_index) != 0) return -1;
    if (need_addr(c, "address", &l->address) != 0) return -1;
    ch_hash256 h;
    int hr = opt_hash(c, A_TXHASH, &h);
    if (hr < 0) return -1;
    if (hr > 0 && evm_add_txref(b, &h, l->tx_index) != 0) return fail(c, "out of memory");
    const char *s;
    size_t n;
    int k = get(c, "data", &s, &n);
    if (k < 0) return -1;
    if (k == 0) s = "0x", n = 2;
    if (evm_hex_bytes(b, s, n, &l->data, &l->data_len) != 0)
        return fail(c, "data is not hex bytes");
    const char *item[4];
    size_t len[4];
    int nt = get_list(c, "topics", item, len, 4);
    if (nt < 0) return -1;
    l->n_topics = (uint8_t)nt;
    for (int i = 0; i < nt; i++)
        if (evm_hex_fixed(item[i], len[i], l->topics[i], 32) != 0)
            return fail(c, "topic %d is not a 32-byte hex word", i);
    return 0;
}

/* A token transfer row becomes the ERC-20 Transfer log it came from. */
static int row_tt(ectx *c) {
    uint64_t number;
    ch_evm_block *b = block_for(c, &number);
    if (!b) return -1;
    evm_ttlog *tt = evm_add_tt(b);
    if (!tt) return fail(c, "out of memory");
    ch_evm_log *l = &tt->l;
    if (need_u32(c, "log_index|logIndex", &l->log_index) != 0) return -1;
    int k = opt_u64(c, A_TXINDEX, &(uint64_t){0});
    if (k < 0) return -1;
    if (k > 0) {
        if (need_u32(c, A_TXINDEX, &l->tx_index) != 0) return -1;
        tt->has_index = true;
    } else if (need_hash(c, A_TXHASH, &tt->tx_hash) != 0) {
        return -1;
    }
    if (need_addr(c, "token_address|tokenAddress", &l->address) != 0) return -1;
    ch_evm_addr from, to;
    ch_u256 value;
    if (need_addr(c, A_FROM, &from) != 0 || need_addr(c, A_TO, &to) != 0) return -1;
    if ((k = opt_u256(c, "value", &value)) <= 0) return k < 0 ? -1 : fail(c, "missing value");
    ch_hex_decode(CH_EVM_TRANSFER_TOPIC, 64, l->topics[0], 32);
    memcpy(l->topics[1] + 12, from.b, 20);
    memcpy(l->topics[2] + 12, to.b, 20);
    l->n_topics = 3;
    uint8_t *data = evm_alloc(b, 32);
    if (!data) return fail(c, "out of memory");
    for (int i = 0; i < 32; i++)
        data[i] = (uint8_t)(value.w[3 - i / 8] >> (8 * (7 - i % 8)));
    l->data = data;
    l->data_len = 32;
    return 0;
}

/* GraphSense names traces "call_<txhash>_0_1": the type and trace address
 * are in the id. */
static int trace_id_parts(ectx *c, const char *id, size_t idlen, char *type, size_t cap,
                          const char **addr, size_t *addr_len) {
    const char *us = memchr(id, '_', idlen);
    if (!us || (size_t)(us - id) >= cap) return fail(c, "trace id \"%.80s\" unreadable", id);
    memcpy(type, id, (size_t)(us - id));
    type[us - id] = '\0';
    *addr = NULL;
    *addr_len = 0;
    if (!strcmp(type, "call") || !strcmp(type, "create") || !strcmp(type, "suicide")) {
        /* <type>_0x<64 hex>_<a>_<b>... */
        const char *p = us + 1;
        if (idlen < (size_t)(p - id) + 67 || p[66] != '_')
            return fail(c, "trace id \"%.80s\" unreadable", id);
        *addr = p + 67;
        *addr_len = idlen - (size_t)(*addr - id);
    }
    return 0;
}

/* One row of blockchain-etl's traces export (Parity-style: trace_address,
 * call type, value, error) into an internal call of its block; the rows of
 * one tx are put in order later (order_calls). */
static int row_trace(ectx *c) {
    uint64_t number;
    ch_evm_block *b = block_for(c, &number);
    if (!b) return -1;
    evm_pcall *p = evm_add_pcall(b);
    if (!p) return fail(c, "out of memory");
    ch_evm_call *k = &p->c;
    const char *s, *id = NULL, *ids = NULL;
    size_t n, idn = 0, idsn = 0;
    char type[16] = "";
    int r = get(c, "trace_type|traceType", &s, &n);
    if (r < 0) return -1;
    if (r > 0) {
        if (n >= sizeof type) return fail(c, "trace_type \"%.20s\" unknown", s);
        memcpy(type, s, n + 1);
    }
    if ((r = get(c, "trace_id|traceId", &id, &idn)) < 0) return -1;
    if (r > 0) {
        char t2[16];
        if (trace_id_parts(c, id, idn, t2, sizeof t2, &ids, &idsn) != 0) return -1;
        if (!type[0]) strcpy(type, t2);
    }
    if (!type[0]) return fail(c, "neither trace_type nor trace_id");

    uint64_t order;
    if ((r = opt_u64(c, "trace_index|traceIndex", &order)) < 0) return -1;
    if (r > 0 && order < UINT32_MAX) p->seq = (uint32_t)order;
    if (opt_u256(c, "value", &k->value) < 0) return -1;
    if (opt_addr(c, A_FROM, &k->from) < 0 || opt_addr(c, A_TO, &k->to) < 0) return -1;
    if (!strcmp(type, "reward") || !strcmp(type, "genesis")) {
        strcpy(k->type, type);
        k->tx_index = UINT32_MAX;
        p->has_index = true;
        return 0;
    }
    if (!strcmp(type, "call")) {
        if ((r = get(c, "call_type|callType", &s, &n)) < 0) return -1;
        if (r > 0 && n >= sizeof k->type) return fail(c, "call_type \"%.20s\" unknown", s);
        strcpy(k->type, r > 0 ? s : "call");
    } else if (!strcmp(type, "create") || !strcmp(type, "create2")) {
        strcpy(k->type, type);
    } else if (!strcmp(type, "suicide") || !strcmp(type, "selfdestruct")) {
        strcpy(k->type, "selfdestruct");
    } else {
        return fail(c, "trace type \"%s\" unknown", type);
    }
    uint64_t ti;
    if ((r = opt_u64(c, A_TXINDEX, &ti)) < 0) return -1;
    if (r > 0) {
        if (ti >= UINT32_MAX) return fail(c, "transaction_index out of range");
        k->tx_index = (uint32_t)ti;
        p->has_index = true;
    }
    if ((r = opt_hash(c, A_TXHASH, &p->tx_hash)) < 0) return -1;
    p->has_hash = r > 0;
    if (!p->has_index && !p->has_hash) return fail(c, "a trace naming no transaction");

    /* trace address: its own column, else the tail of the trace id */
    const char *item[1025];
    size_t len[1025];
    int depth = get_list(c, "trace_address|traceAddress", item, len, 1024);
    if (depth < 0) return -1;
    if (depth == 0 && idsn) {
        for (const char *q = ids; q < ids + idsn && depth < 1025;) {
            const char *u = memchr(q, '_', (size_t)(ids + idsn - q));
            item[depth] = q;
            len[depth++] = u ? (size_t)(u - q) : (size_t)(ids + idsn - q);
            q = u ? u + 1 : ids + idsn;
        }
        if (depth > 1024) return fail(c, "trace deeper than 1024");
    }
    uint32_t *addr = evm_alloc(b, (size_t)(depth ? depth : 1) * sizeof *addr);
    if (!addr) return fail(c, "out of memory");
    for (int i = 0; i < depth; i++) {
        uint64_t v;
        if (evm_dec_u64(item[i], len[i], &v) != 0 || v >= UINT32_MAX)
            return fail(c, "trace address holds \"%.*s\"", (int)(len[i] > 20 ? 20 : len[i]),
                        item[i]);
        addr[i] = (uint32_t)v;
    }
    k->trace_addr = addr;
    k->depth = (uint16_t)depth;
    /* error text when given; else status, which ETL already carries down */
    if (has(c, "error")) {
        if ((r = get(c, "error", &s, &n)) < 0) return -1;
        k->self_error = r > 0;
    } else {
        uint64_t st;
        if ((r = opt_u64(c, "status", &st)) < 0) return -1;
        k->self_error = r > 0 && st == 0;
    }
    return 0;
}

/* --- kinds ------------------------------------------------------------------ */

static bool has(ectx *c, const char *aliases) {
    if (c->csv) return csv_col(c, aliases) >= 0;
    if (c->use_sj) return sj_present(sj_field(c, aliases));
    return json_field(c, aliases) != NULL;
}

static row_kind kind_by_columns(ectx *c) {
    if (has(c, "topics")) return K_LOG;
    if (has(c, "trace_type|traceId|trace_id|trace_address")) return K_TRACE;
    if (has(c, "token_address|tokenAddress")) return K_TT;
    if (has(c, "parent_hash|parentHash")) return K_BLOCK;
    if (has(c, "nonce") && has(c, A_FROM)) return K_TX;
    if (has(c, "cumulative_gas_used|cumulativeGasUsed")) return K_RECEIPT;
    return K_NONE;
}

static row_kind kind_by_name(const char *name) {
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    if (strstr(base, "token_transfer")) return K_TT;
    if (strstr(base, "receipt")) return K_RECEIPT;
    if (strstr(base, "transaction")) return K_TX;
    if (strstr(base, "trace")) return K_TRACE;
    if (strstr(base, "log")) return K_LOG;
    if (strstr(base, "block")) return K_BLOCK;
    return K_NONE;
}

static row_kind kind_by_type(const char *t) {
    static const struct {
        const char *name;
        row_kind k;
    } m[] = {{"block", K_BLOCK}, {"transaction", K_TX},    {"receipt", K_RECEIPT},
             {"log", K_LOG},     {"token_transfer", K_TT}, {"trace", K_TRACE}};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (!strcmp(t, m[i].name)) return m[i].k;
    return K_NONE;
}

static int do_row(ectx *c, row_kind k) {
    switch (k) {
    case K_BLOCK:
        return row_block(c);
    case K_TX:
        return row_tx(c);
    case K_RECEIPT:
        return row_receipt(c);
    case K_LOG:
        return row_log(c);
    case K_TT:
        return row_tt(c);
    case K_TRACE:
        return row_trace(c);
    default:
        return fail(c, "cannot tell what this row is (block, transaction, log, ...)");
    }
}

/* --- CSV ---------------------------------------------------------------------- */

/* An ETL export as CSV: the header picks the table (blocks, transactions,
 * logs, token_transfers, traces, receipts) by its columns, then each row
 * goes to that table's reader. */
static int parse_csv(ectx *c, FILE *f) {
    csv_reader r;
    csv_init(&r, f, c->name);
    int rc = -1;
    int got = csv_next(&r, c->err);
    if (got <= 0) {
        csv_free(&r);
        return got < 0 ? -1 : 0; /* an empty file: nothing (ETL writes those) */
    }
    c->n_hdr = r.nfields;
    c->hdr = calloc((size_t)r.nfields, sizeof *c->hdr);
    if (!c->hdr) goto out;
    for (int i = 0; i < r.nfields; i++)
        if (!(c->hdr[i] = strdup(r.field[i]))) goto out;
    c->csv = &r;
    row_kind k = kind_by_columns(c);
    if (k == K_NONE) k = c->file_kind;
    if (k == K_NONE) {
        c->line = 1;
        fail(c, "a header of no known export (blocks, transactions, logs, ...)");
        goto out;
    }
    while ((got = csv_next(&r, c->err)) > 0) {
        c->line = r.rec_line;
        if (r.nfields == 1 && !r.field[0][0]) continue; /* blank line */
        if (r.nfields != c->n_hdr) {
            fail(c, "%d fields, the header has %d", r.nfields, c->n_hdr);
            goto out;
        }
        if (do_row(c, k) != 0) goto out;
    }
    if (got == 0) rc = 0;
out:
    if (c->hdr)
        for (int i = 0; i < c->n_hdr; i++)
            free(c->hdr[i]);
    free(c->hdr);
    c->hdr = NULL;
    c->csv = NULL;
    csv_free(&r);
    return rc;
}

/* --- JSON lines ------------------------------------------------------------------ */

/* What a line holds outside its strings: nesting deeper than 32 (yajl's
 * tree frees recursively: refused before parsing), and a '-' (a negative
 * number, whose text simdjson does not keep: such a line is read by yajl). */
static bool too_deep(const char *s, size_t n, bool *minus) {
    int depth = 0;
    bool in_str = false;
    *minus = false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (in_str) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_str = false;
        } else if (ch == '"') {
            in_str = true;
        } else if (ch == '{' || ch == '[') {
            if (++depth > 32) return true;
        } else if (ch == '}' || ch == ']') {
            depth--;
        } else if (ch == '-') {
            *minus = true;
        }
    }
    return false;
}

/* The row's kind: its "type", else its columns, else the file's name. */
static row_kind kind_of(ectx *c, const char *type) {
    row_kind k = K_NONE;
    if (type) k = kind_by_type(type);
    if (k == K_NONE) k = kind_by_columns(c);
    if (k == K_NONE) k = c->file_kind;
    return k;
}

bool evm_etl_yajl_only = false;

/* The row by simdjson: 1 done (rc set), 0 when yajl must read it (simdjson
 * refused the line, or it holds a number simdjson keeps no text of). */
static int sj_row(ectx *c, const char *line, size_t len, int *rc) {
    if (!c->set->json && !(c->set->json = sj_parser_new())) return 0;
    sj_val root;
    if (sj_parse(c->set->json, line, len, &root) != 0 || sj_has_double(root)) return 0;
    if (!sj_is_object(root)) {
        *rc = fail(c, "not a JSON object");
        return 1;
    }
    c->sobj = root;
    c->use_sj = true;
    c->num_at = 0;
    sj_val t = sj_get(root, "type");
    size_t tn;
    *rc = do_row(c, kind_of(c, sj_is_string(t) ? sj_str(t, &tn) : NULL));
    c->use_sj = false;
    return 1;
}

/* One line: a row object. 0 done (or blank), -1 error (reported). */
static int jsonl_row(ectx *c, char *line, size_t len) {
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
        line[--len] = '\0';
    size_t lead = strspn(line, " \t");
    if (lead == len) return 0;
    if (strlen(line) != len) return fail(c, "NUL byte (not a text file?)");
    bool minus;
    if (too_deep(line, len, &minus)) return fail(c, "JSON nested deeper than 32");
    int rc;
    if (!minus && !evm_etl_yajl_only && sj_row(c, line, len, &rc)) return rc;
    char msg[256];
    yajl_val v = yajl_tree_parse(line, msg, sizeof msg);
    if (!v) {
        msg[strcspn(msg, "\n")] = '\0';
        return fail(c, "%s", msg[0] ? msg : "bad JSON");
    }
    if (!YAJL_IS_OBJECT(v)) {
        yajl_tree_free(v);
        return fail(c, "not a JSON object");
    }
    c->obj = v;
    const char *path[] = {"type", NULL};
    yajl_val t = yajl_tree_get(v, path, yajl_t_string);
    rc = do_row(c, kind_of(c, t ? t->u.string : NULL));
    c->obj = NULL;
    yajl_tree_free(v);
    return rc;
}

static int parse_jsonl(ectx *c, FILE *f) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    c->line = 0;
    while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
        c->line++;
        rc = jsonl_row(c, line, (size_t)n);
    }
    free(line);
    return rc;
}

int evm_etl_jsonl_line(evm_set *s, char *line, size_t len, const char *name, long line_no,
                       ch_error *err) {
    ectx c;
    c.set = s;
    c.name = name ? name : "(memory)";
    c.line = line_no;
    c.err = err;
    c.file_kind = kind_by_name(c.name);
    c.csv = NULL;
    c.hdr = NULL;
    c.n_hdr = 0;
    c.obj = NULL;
    c.use_sj = false;
    return jsonl_row(&c, line, len);
}

int evm_etl_parse_file(evm_set *s, FILE *f, const char *name, ch_evm_format fmt, ch_error *err) {
    ectx c;
    memset(&c, 0, sizeof c);
    c.set = s;
    c.name = name ? name : "(memory)";
    c.err = err;
    c.file_kind = kind_by_name(c.name);
    if (fmt == CH_EVM_FMT_AUTO || fmt == CH_EVM_FMT_ETL) { /* CSV or JSON lines: look */
        int ch;
        do
            ch = getc(f);
        while (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n');
        if (ch == EOF) return 0;
        fmt = ch == '{' || ch == '[' ? CH_EVM_FMT_ETL_JSON : CH_EVM_FMT_ETL_CSV;
        rewind(f);
    }
    if (fmt == CH_EVM_FMT_ETL_JSON) return parse_jsonl(&c, f);
    if (fmt == CH_EVM_FMT_ETL_CSV) return parse_csv(&c, f);
    return ch_err(err, "%s: not an ETL format", c.name);
}

int evm_etl_parse(evm_set *s, const char *text, size_t len, const char *name, ch_evm_format fmt,
                  ch_error *err) {
    if (len == 0) return 0;
    FILE *f = fmemopen((void *)text, len, "r");
    if (!f) return ch_err(err, "%s: cannot open the buffer", name ? name : "(memory)");
    int rc = evm_etl_parse_file(s, f, name, fmt, err);
    fclose(f);
    return rc;
}

int ch_evm_parse_etl(const char *text, size_t len, const char *name, ch_evm_format fmt,
                     ch_evm_block **blocks, size_t *n_blocks, ch_error *err) {
    evm_set s = {0};
    if (evm_etl_parse(&s, text, len, name, fmt, err) != 0 ||
        evm_set_export(&s, blocks, n_blocks, err) != 0) {
        evm_set_free(&s);
        return -1;
    }
    return 0;
}

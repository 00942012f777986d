/* An account store's tx and block as text and JSON: the output of `coinhound
 * tx` and `coinhound block` on an EVM store, a contract (fields are added,
 * never renamed). Amounts are decimal base units; symbols and decimals come
 * from the caller's token table. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "query/query_internal.h"

static const char *const KIND_NAMES[] = {"native",     "internal", "token", "nft",
                                         "withdrawal", "fee",      "reward"};

static const char *kind_name(uint8_t k) {
    return k < sizeof KIND_NAMES / sizeof KIND_NAMES[0] ? KIND_NAMES[k] : "unknown";
}

/* Symbol and decimals of an asset id (native: "ETH", 18), or NULL. */
static const ch_token_info *token_of(const ch_store *s, const ch_toktab *tk, ch_addr_id asset) {
    if (!tk || !asset) return NULL;
    ch_addr a;
    ch_store_addr_of(s, asset, &a);
    return a.len == 20 ? ch_toktab_find(tk, a.bytes) : NULL;
}

/* "symbol" and "decimals" beside an asset's contract, when known. */
static void json_token_fields(ch_jw *w, const ch_store *s, const ch_toktab *tk, ch_addr_id asset) {
    const ch_token_info *ti = token_of(s, tk, asset);
    if (!asset) {
        ch_jw_key(w, "symbol");
        ch_jw_str(w, "ETH");
        ch_jw_key(w, "decimals");
        ch_jw_uint(w, 18);
        return;
    }
    if (!ti) return;
    ch_jw_key(w, "symbol");
    ch_jw_str(w, ti->symbol);
    if (ti->decimals >= 0) {
        ch_jw_key(w, "decimals");
        ch_jw_uint(w, (uint64_t)ti->decimals);
    }
}

static void hash_hex(const uint8_t b[32], char out[67]) {
    ch_q_hash_hex(b, true, out);
}

static void json_xfer(ch_jw *w, const ch_store *s, const ch_toktab *tk, uint64_t x) {
    const ch_xfer_rec *r = ch_store_xfer(s, x);
    char a[128], v[48];
    ch_jw_obj_begin(w);
    ch_jw_key(w, "kind");
    ch_jw_str(w, kind_name(r->kind));
    ch_jw_key(w, "asset");
    ch_jw_str(w, r->asset ? ch_q_addr_str(s, r->asset, a) : "native");
    json_token_fields(w, s, tk, r->asset);
    ch_jw_key(w, "from");
    ch_jw_str(w, ch_q_addr_str(s, r->from, a));
    ch_jw_key(w, "to");
    ch_jw_str(w, ch_q_addr_str(s, r->to, a));
    ch_jw_key(w, "value");
    ch_jw_str(w, ch_u128_str((ch_q_amount)(r->value_hi) << 64 | (r->value_lo), v));
    ch_jw_key(w, "position");
    ch_jw_uint(w, r->position);
    if (r->flags & CH_XFER_ZERO_SPOOF) {
        ch_jw_key(w, "zero_value_spoof");
        ch_jw_bool(w, true);
    }
    if (r->flags & CH_XFER_FAILED_CALL) {
        ch_jw_key(w, "failed_call");
        ch_jw_bool(w, true);
    }
    ch_jw_obj_end(w);
}

/* A tx's fee: its FEE transfer. false when it has none (no receipt was
 * given): the fee is then unknown, not 0. */
static bool tx_fee(const ch_store *s, uint64_t tx, uint64_t *lo, uint64_t *hi) {
    uint64_t first, n;
    *lo = *hi = 0;
    ch_store_tx_xfers(s, tx, &first, &n);
    for (uint64_t x = first; x < first + n; x++)
        if (ch_store_xfer(s, x)->kind == CH_XFER_FEE) {
            *lo = ch_store_xfer(s, x)->value_lo;
            *hi = ch_store_xfer(s, x)->value_hi;
            return true;
        }
    return false;
}

static const char *status_name(const ch_etx_rec *e) {
    return e->status == 1 ? "success" : e->status == 0 ? "failed" : "unknown";
}

/* The time of a block, null when no source gave its header (0). */
static void json_time(ch_jw *w, uint32_t t) {
    ch_jw_key(w, "time");
    if (t)
        ch_jw_uint(w, t);
    else
        ch_jw_null(w);
}

static const char *text_time(uint32_t t, char buf[32]) {
    return t ? ch_q_time(t, buf) : "unknown (no block header given)";
}

void ch_q_acct_tx_jw(ch_jw *w, const ch_store *s, const ch_toktab *tk, uint64_t tx) {
    char h[67], a[128], v[48];
    ch_hash256 id;
    ch_store_txid(s, tx, &id);
    hash_hex(id.b, h);
    uint32_t height = ch_store_tx_height(s, tx);
    const ch_block_rec *blk = ch_store_block(s, height);
    const ch_etx_rec *e = ch_store_etx(s, tx);
    uint64_t first, n, fee_lo, fee_hi;
    bool has_fee = tx_fee(s, tx, &fee_lo, &fee_hi);
    ch_store_tx_xfers(s, tx, &first, &n);
    ch_jw_obj_begin(w);
    ch_jw_key(w, "hash");
    ch_jw_str(w, h);
    ch_jw_key(w, "block_number");
    ch_jw_uint(w, ch_store_first_number(s) + height);
    ch_jw_key(w, "block_hash");
    hash_hex(blk->hash, h);
    ch_jw_str(w, h);
    json_time(w, blk->time);
    ch_jw_key(w, "from");
    ch_jw_str(w, ch_q_addr_str(s, e->from, a));
    ch_jw_key(w, "to");
    ch_jw_str(w, ch_q_addr_str(s, e->to, a));
    if (e->created) {
        ch_jw_key(w, "created");
        ch_jw_str(w, ch_q_addr_str(s, e->created, a));
    }
    ch_jw_key(w, "status");
    ch_jw_str(w, status_name(e));
    ch_jw_key(w, "fee");
    ch_jw_str(w, has_fee ? ch_u128_str((ch_q_amount)(fee_hi) << 64 | (fee_lo), v) : NULL);
    ch_jw_key(w, "transfers");
    ch_jw_arr_begin(w);
    for (uint64_t x = first; x < first + n; x++)
        json_xfer(w, s, tk, x);
    ch_jw_arr_end(w);
    ch_jw_obj_end(w);
}

void ch_q_acct_tx_out(FILE *f, const ch_store *s, const ch_toktab *tk, uint64_t tx, bool json) {
    if (json) {
        ch_jw w;
        ch_jw_init(&w, f);
        ch_q_acct_tx_jw(&w, s, tk, tx);
        ch_jw_newline(&w);
        return;
    }
    char h[67], a[128], b[128], v[48];
    ch_hash256 id;
    ch_store_txid(s, tx, &id);
    hash_hex(id.b, h);
    uint32_t height = ch_store_tx_height(s, tx);
    const ch_block_rec *blk = ch_store_block(s, height);
    const ch_etx_rec *e = ch_store_etx(s, tx);
    uint64_t first, n, fee_lo, fee_hi;
    bool has_fee = tx_fee(s, tx, &fee_lo, &fee_hi);
    ch_store_tx_xfers(s, tx, &first, &n);
    uint64_t number = ch_store_first_number(s) + height;
    const char *status = status_name(e);
    char t[32];
    fprintf(f, "tx %s\n  block %" PRIu64 "  %s%s  %s\n", h, number, text_time(blk->time, t),
            blk->time ? " UTC" : "", status);
    fprintf(f, "  from %s\n  to   %s\n", ch_q_addr_str(s, e->from, a) ? a : "(unknown)",
            e->to                   ? ch_q_addr_str(s, e->to, b)
            : e->created || e->from ? "(contract creation)"
                                    : "(unknown: no source gave the transaction)");
    if (has_fee)
        fprintf(f, "  fee  %s wei\n", ch_u128_str((ch_q_amount)(fee_hi) << 64 | (fee_lo), v));
    else
        fprintf(f, "  fee  unknown (no receipt)\n");
    fprintf(f, "  transfers (%" PRIu64 ")\n", n);
    for (uint64_t x = first; x < first + n; x++) {
        const ch_xfer_rec *r = ch_store_xfer(s, x);
        if (r->kind == CH_XFER_FEE) continue;
        char asset[128];
        fprintf(f, "    %-8s %s -> %s  %s %s%s\n", kind_name(r->kind),
                ch_q_addr_str(s, r->from, a) ? a : "-", ch_q_addr_str(s, r->to, b) ? b : "-",
                ch_u128_str((ch_q_amount)(r->value_hi) << 64 | (r->value_lo), v),
                r->asset ? ch_q_addr_str(s, r->asset, asset) : "wei",
                r->flags & CH_XFER_FAILED_CALL ? "  (failed: moved nothing)" : "");
    }
}

static void add128(uint64_t *lo, uint64_t *hi, uint64_t alo, uint64_t ahi) {
    uint64_t l = *lo + alo;
    *hi += ahi + (l < *lo);
    *lo = l;
}

/* --- a block --- */

void ch_q_acct_block_out(FILE *f, const ch_store *s, const ch_toktab *tk, uint32_t height,
                         bool json, bool txs) {
    const ch_block_rec *b = ch_store_block(s, height);
    uint64_t number = ch_store_first_number(s) + height;
    char hex[67], prev[67] = "", t[32], v[48];
    hash_hex(b->hash, hex);
    if (height > 0) hash_hex(ch_store_block(s, height - 1)->hash, prev);
    uint64_t fees_lo = 0, fees_hi = 0;
    for (uint64_t tx = b->first_tx; tx < b->first_tx + b->n_tx; tx++) {
        uint64_t lo, hi;
        if (tx_fee(s, tx, &lo, &hi)) add128(&fees_lo, &fees_hi, lo, hi);
    }
    if (json) {
        ch_jw w;
        ch_jw_init(&w, f);
        ch_jw_obj_begin(&w);
        ch_jw_key(&w, "number");
        ch_jw_uint(&w, number);
        ch_jw_key(&w, "hash");
        ch_jw_str(&w, hex);
        ch_jw_key(&w, "parent_hash");
        ch_jw_str(&w, height ? prev : NULL);
        json_time(&w, b->time);
        ch_jw_key(&w, "n_tx");
        ch_jw_uint(&w, b->n_tx);
        ch_jw_key(&w, "fees");
        ch_jw_str(&w, ch_u128_str((ch_q_amount)(fees_hi) << 64 | (fees_lo), v));
        ch_jw_key(&w, "tx");
        ch_jw_arr_begin(&w);
        for (uint64_t tx = b->first_tx; tx < b->first_tx + b->n_tx; tx++) {
            if (txs) {
                ch_q_acct_tx_jw(&w, s, tk, tx);
            } else {
                ch_hash256 id;
                ch_store_txid(s, tx, &id);
                hash_hex(id.b, hex);
                ch_jw_str(&w, hex);
            }
        }
        ch_jw_arr_end(&w);
        ch_jw_obj_end(&w);
        ch_jw_newline(&w);
        return;
    }
    fprintf(f, "block %" PRIu64 " %s\n  time %s%s  txs %u\n", number, hex, text_time(b->time, t),
            b->time ? " UTC" : "", b->n_tx);
    fprintf(f, "  fees %s wei (of the transactions with a receipt)\n",
            ch_u128_str((ch_q_amount)(fees_hi) << 64 | (fees_lo), v));
    if (height) fprintf(f, "  previous %s\n", prev);
    for (uint64_t tx = b->first_tx; tx < b->first_tx + b->n_tx; tx++) {
        if (txs) {
            ch_q_acct_tx_out(f, s, tk, tx, false);
        } else {
            ch_hash256 id;
            ch_store_txid(s, tx, &id);
            hash_hex(id.b, hex);
            fprintf(f, "  %s\n", hex);
        }
    }
}

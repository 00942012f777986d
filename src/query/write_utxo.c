/* A UTXO store's tx and block as text and JSON: the output of `coinhound tx`
 * and `coinhound block` on a btc store, a contract (fields are added, never
 * renamed); the same field names as `coinhound decode --json`. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "query/query_internal.h"

void ch_q_utxo_tx_values(const ch_store *s, uint64_t tx, uint64_t *in, uint64_t *out,
                         int *coinbase) {
    uint64_t first, n;
    *in = *out = 0;
    *coinbase = 0;
    ch_store_tx_inputs(s, tx, &first, &n);
    for (uint64_t i = first; i < first + n; i++) {
        int64_t o = ch_store_input_spent_output(s, i);
        if (o < 0)
            *coinbase = 1;
        else
            *in += CH_OUT_VALUE(ch_store_output(s, (uint64_t)o));
    }
    ch_store_tx_outputs(s, tx, &first, &n);
    for (uint64_t o = first; o < first + n; o++)
        *out += CH_OUT_VALUE(ch_store_output(s, o));
}

static void out_fields(ch_jw *w, const ch_store *s, uint64_t o) {
    const ch_out_rec *r = ch_store_output(s, o);
    char buf[128];
    ch_jw_key(w, "value");
    ch_jw_uint(w, CH_OUT_VALUE(r));
    ch_jw_key(w, "address");
    ch_jw_str(w, ch_q_addr_str(s, ch_out_addr(r), buf));
    ch_jw_key(w, "type");
    ch_jw_str(w, ch_script_type_name(CH_OUT_TYPE(r)));
}

void ch_q_utxo_tx_jw(ch_jw *w, const ch_store *s, uint64_t tx) {
    char hex[67];
    ch_hash256 txid;
    ch_store_txid(s, tx, &txid);
    ch_hash256_to_hex(&txid, hex);
    uint32_t height = ch_store_tx_height(s, tx);
    const ch_block_rec *b = ch_store_block(s, height);
    uint64_t vin, vout, first, n;
    int coinbase;
    ch_q_utxo_tx_values(s, tx, &vin, &vout, &coinbase);
    ch_jw_obj_begin(w);
    ch_jw_key(w, "txid");
    ch_jw_str(w, hex);
    ch_jw_key(w, "size");
    ch_jw_uint(w, ch_store_tx_size(s, tx));
    ch_jw_key(w, "block_height");
    ch_jw_uint(w, height);
    ch_jw_key(w, "block_hash");
    ch_q_hash_hex(b->hash, false, hex);
    ch_jw_str(w, hex);
    ch_jw_key(w, "time");
    ch_jw_uint(w, b->time);
    ch_jw_key(w, "coinbase");
    ch_jw_bool(w, coinbase);
    ch_jw_key(w, "fee");
    if (coinbase)
        ch_jw_null(w);
    else
        ch_jw_uint(w, vin - vout);
    ch_jw_key(w, "inputs");
    ch_jw_arr_begin(w);
    ch_store_tx_inputs(s, tx, &first, &n);
    for (uint64_t i = first; i < first + n; i++) {
        const ch_in_rec *r = ch_store_input(s, i);
        ch_jw_obj_begin(w);
        if (ch_in_spent_tx(r) == CH_NO_TX) {
            ch_jw_key(w, "coinbase");
            ch_jw_bool(w, 1);
        } else {
            ch_hash256 prev;
            ch_store_txid(s, ch_in_spent_tx(r), &prev);
            ch_hash256_to_hex(&prev, hex);
            ch_jw_key(w, "txid");
            ch_jw_str(w, hex);
            ch_jw_key(w, "vout");
            ch_jw_uint(w, ch_in_vout(r));
            out_fields(w, s, (uint64_t)ch_store_input_spent_output(s, i));
        }
        ch_jw_obj_end(w);
    }
    ch_jw_arr_end(w);
    ch_jw_key(w, "outputs");
    ch_jw_arr_begin(w);
    ch_store_tx_outputs(s, tx, &first, &n);
    for (uint64_t o = first; o < first + n; o++) {
        ch_jw_obj_begin(w);
        ch_jw_key(w, "n");
        ch_jw_uint(w, o - first);
        out_fields(w, s, o);
        ch_jw_key(w, "spent_by");
        int64_t sp = ch_store_output_spender(s, o);
        if (sp < 0) {
            ch_jw_null(w);
        } else {
            ch_hash256 t;
            ch_store_txid(s, (uint64_t)sp, &t);
            ch_hash256_to_hex(&t, hex);
            ch_jw_str(w, hex);
        }
        ch_jw_obj_end(w);
    }
    ch_jw_arr_end(w);
    ch_jw_obj_end(w);
}

void ch_q_utxo_tx_text(FILE *f, const ch_store *s, uint64_t tx) {
    char hex[67], a[128], v[32], t[32];
    ch_hash256 txid;
    ch_store_txid(s, tx, &txid);
    ch_hash256_to_hex(&txid, hex);
    uint32_t height = ch_store_tx_height(s, tx);
    uint64_t vin, vout, first, n;
    int coinbase;
    ch_q_utxo_tx_values(s, tx, &vin, &vout, &coinbase);
    fprintf(f, "tx %s\n  block %u  %s UTC  %u bytes\n", hex, height,
            ch_q_time(ch_store_block(s, height)->time, t), ch_store_tx_size(s, tx));
    if (coinbase)
        fprintf(f, "  coinbase: new coins %s BTC\n", ch_q_btc(vout, v));
    else
        fprintf(f, "  fee %s BTC\n", ch_q_btc(vin - vout, v));
    ch_store_tx_inputs(s, tx, &first, &n);
    fprintf(f, "  inputs (%" PRIu64 ")\n", n);
    for (uint64_t i = first; i < first + n && !coinbase; i++) {
        int64_t o = ch_store_input_spent_output(s, i);
        const ch_out_rec *r = ch_store_output(s, (uint64_t)o);
        const ch_in_rec *in = ch_store_input(s, i);
        ch_hash256 prev;
        ch_store_txid(s, ch_in_spent_tx(in), &prev);
        ch_hash256_to_hex(&prev, hex);
        const char *addr = ch_q_addr_str(s, ch_out_addr(r), a);
        fprintf(f, "    %s:%u  %s BTC  %s\n", hex, ch_in_vout(in), ch_q_btc(CH_OUT_VALUE(r), v),
                addr ? addr : ch_script_type_short(CH_OUT_TYPE(r)));
    }
    ch_store_tx_outputs(s, tx, &first, &n);
    fprintf(f, "  outputs (%" PRIu64 ")\n", n);
    for (uint64_t o = first; o < first + n; o++) {
        const ch_out_rec *r = ch_store_output(s, o);
        const char *addr = ch_q_addr_str(s, ch_out_addr(r), a);
        fprintf(f, "    %" PRIu64 "  %s BTC  %s  [%s]%s\n", o - first, ch_q_btc(CH_OUT_VALUE(r), v),
                addr ? addr : "-", ch_script_type_short(CH_OUT_TYPE(r)),
                ch_store_output_spender(s, o) >= 0 ? "  spent" : "");
    }
}

void ch_q_utxo_block_out(FILE *f, const ch_store *s, uint32_t height, bool json, bool txs) {
    const ch_block_rec *b = ch_store_block(s, height);
    char hex[67], prev[67] = "", t[32], v[32];
    ch_q_hash_hex(b->hash, false, hex);
    if (height > 0) ch_q_hash_hex(ch_store_block(s, height - 1)->hash, false, prev);
    uint64_t total_out = 0, fees = 0;
    for (uint64_t tx = b->first_tx; tx < b->first_tx + b->n_tx; tx++) {
        uint64_t in, out;
        int cb;
        ch_q_utxo_tx_values(s, tx, &in, &out, &cb);
        total_out += out;
        if (!cb) fees += in - out;
    }
    if (json) {
        ch_jw w;
        ch_jw_init(&w, f);
        ch_jw_obj_begin(&w);
        ch_jw_key(&w, "hash");
        ch_jw_str(&w, hex);
        ch_jw_key(&w, "height");
        ch_jw_uint(&w, height);
        ch_jw_key(&w, "previousblockhash");
        ch_jw_str(&w, height ? prev : NULL);
        ch_jw_key(&w, "time");
        ch_jw_uint(&w, b->time);
        ch_jw_key(&w, "version");
        ch_jw_int(&w, b->version);
        ch_jw_key(&w, "bits");
        char bits[9];
        snprintf(bits, sizeof bits, "%08x", b->bits);
        ch_jw_str(&w, bits);
        ch_jw_key(&w, "nonce");
        ch_jw_uint(&w, b->nonce);
        ch_jw_key(&w, "size");
        ch_jw_uint(&w, b->size);
        ch_jw_key(&w, "n_tx");
        ch_jw_uint(&w, b->n_tx);
        ch_jw_key(&w, "total_out");
        ch_jw_uint(&w, total_out);
        ch_jw_key(&w, "fees");
        ch_jw_uint(&w, fees);
        ch_jw_key(&w, "tx");
        ch_jw_arr_begin(&w);
        for (uint64_t tx = b->first_tx; tx < b->first_tx + b->n_tx; tx++) {
            if (txs) {
                ch_q_utxo_tx_jw(&w, s, tx);
            } else {
                ch_hash256 id;
                ch_store_txid(s, tx, &id);
                ch_hash256_to_hex(&id, hex);
                ch_jw_str(&w, hex);
            }
        }
        ch_jw_arr_end(&w);
        ch_jw_obj_end(&w);
        ch_jw_newline(&w);
        return;
    }
    fprintf(f, "block %u %s\n  time %s UTC  size %u  txs %u\n", height, hex, ch_q_time(b->time, t),
            b->size, b->n_tx);
    fprintf(f, "  total out %s BTC", ch_q_btc(total_out, v));
    fprintf(f, "  fees %s BTC\n", ch_q_btc(fees, v));
    if (height) fprintf(f, "  previous %s\n", prev);
    for (uint64_t tx = b->first_tx; txs && tx < b->first_tx + b->n_tx; tx++)
        ch_q_utxo_tx_text(f, s, tx);
}

/* libFuzzer harness for the Bitcoin transaction parser.
 *
 * Beyond "no crash, no out-of-bounds read" (ASan/UBSan), it checks what a
 * caller relies on: a parsed transaction lies inside the input, its txid is
 * SHA256d of the stripped form (the whole thing when it has no witness),
 * parsing its own bytes again gives the same result, and every output can
 * be classified and its address printed. abort() on a broken property. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/address.h"
#include "coinhound/btc.h"

static void check(int ok) {
    if (!ok) abort();
}

static void check_outputs(const ch_btc_tx *tx, const uint8_t *data, size_t size) {
    for (uint32_t i = 0; i < tx->n_out; i++) {
        const ch_btc_txout *o = &tx->out[i];
        check(o->script >= data && o->script + o->script_len <= data + size);
        check(o->value <= CH_BTC_MAX_MONEY);
        ch_addr a;
        ch_script_type t = ch_btc_classify(o->script, o->script_len, &a);
        check((unsigned)t < CH_SCRIPT_TYPE_COUNT);
        char s[CH_ADDR_STR_MAX];
        if (a.kind != CH_ADDR_NONE) check(ch_addr_to_string(&a, CH_NET_MAINNET, s) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static ch_btc_parser *p;
    if (!p) p = ch_btc_parser_new();
    ch_btc_tx tx;
    size_t used = 0;
    ch_error err = {""};
    if (ch_btc_parse_tx(p, data, size, &used, &tx, &err) != 0) {
        check(err.msg[0] != '\0');
        return 0;
    }
    check(used == tx.size && used <= size && tx.raw == data);
    check(tx.base_size <= tx.size && tx.n_in > 0);
    ch_hash256 w;
    ch_btc_tx_wtxid(&tx, &w);
    if (!tx.has_witness) {
        check(tx.base_size == tx.size);
        check(!memcmp(w.b, tx.txid.b, 32));
    }
    for (uint32_t i = 0; i < tx.n_in; i++) {
        const ch_btc_txin *in = &tx.in[i];
        check(in->script + in->script_len <= data + used);
        if (in->witness) check(tx.has_witness && in->witness + in->witness_len <= data + used);
    }
    check_outputs(&tx, data, used);
    (void)ch_btc_tx_is_coinbase(&tx);

    /* the exact bytes, alone, parse to the same transaction */
    uint8_t *copy = malloc(used);
    memcpy(copy, data, used);
    ch_btc_tx again;
    size_t used2 = 0;
    check(ch_btc_parse_tx(p, copy, used, &used2, &again, &err) == 0);
    check(used2 == used && !memcmp(again.txid.b, tx.txid.b, 32));
    free(copy);
    return 0;
}

/* libFuzzer harness for the Bitcoin block parser.
 *
 * Random bytes almost never carry a right merkle root, which would stop
 * the fuzzer at the end of every block. So the harness first splits the
 * input into transactions itself (header, count, ch_btc_parse_tx one after
 * another), writes the merkle root of those txids into its copy of the
 * header, and then holds ch_btc_parse_block to the same answer: it must
 * succeed exactly when the transaction-by-transaction walk does (unless the
 * tree is mutated, CVE-2012-2459), with the same txids. Parsed blocks then
 * go through the witness commitment check and output classification. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/address.h"
#include "coinhound/btc.h"

static void check(int ok) {
    if (!ok) abort();
}

/* The compact-size transaction count at data[80]; -1 when absent. */
static int tx_count(const uint8_t *d, size_t size, uint64_t *n, size_t *pos) {
    if (size < 81) return -1;
    uint8_t b = d[80];
    size_t w = b < 0xfd ? 0 : b == 0xfd ? 2 : b == 0xfe ? 4 : 8;
    if (size - 81 < w) return -1;
    *n = w ? 0 : b;
    for (size_t i = 0; i < w; i++)
        *n |= (uint64_t)d[81 + i] << (8 * i);
    *pos = 81 + w;
    return 0;
}

/* Walk the transactions one by one; fills txids, returns how many or -1. */
static long walk(ch_btc_parser *p, const uint8_t *d, size_t size, ch_hash256 **ids) {
    uint64_t n;
    size_t pos;
    if (tx_count(d, size, &n, &pos) < 0 || n == 0 || n > size) return -1;
    *ids = malloc(n * sizeof **ids);
    for (uint64_t i = 0; i < n; i++) {
        ch_btc_tx tx;
        size_t used;
        if (ch_btc_parse_tx(p, d + pos, size - pos, &used, &tx, NULL) != 0) return -1;
        (*ids)[i] = tx.txid;
        pos += used;
    }
    return pos == size ? (long)n : -1;
}

static void check_block(const ch_btc_block *b, const ch_hash256 *ids, long n) {
    check(n < 0 || b->n_tx == (uint32_t)n);
    for (uint32_t i = 0; i < b->n_tx; i++) {
        const ch_btc_tx *tx = &b->tx[i];
        if (n >= 0) check(!memcmp(tx->txid.b, ids[i].b, 32));
        ch_hash256 w;
        ch_btc_tx_wtxid(tx, &w);
        for (uint32_t k = 0; k < tx->n_out; k++) {
            ch_addr a;
            char s[CH_ADDR_STR_MAX];
            ch_btc_classify(tx->out[k].script, tx->out[k].script_len, &a);
            if (a.kind != CH_ADDR_NONE) check(ch_addr_to_string(&a, CH_NET_MAINNET, s) == 0);
        }
    }
    ch_error err;
    (void)ch_btc_check_witness_commitment(b, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static ch_btc_parser *p, *q;
    if (!p) {
        p = ch_btc_parser_new();
        q = ch_btc_parser_new();
    }
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    ch_hash256 *ids = NULL;
    long n = walk(q, copy, size, &ids);
    if (n > 0) {
        ch_hash256 *scratch = malloc((size_t)n * sizeof *scratch), root;
        ch_btc_merkle_root(ids, (size_t)n, scratch, &root);
        memcpy(copy + 36, root.b, 32);
        free(scratch);
    }
    ch_btc_block b;
    ch_error err = {""};
    int rc = ch_btc_parse_block(p, copy, size, &b, &err);
    if (n > 0)
        check(rc == 0 || strstr(err.msg, "mutated") != NULL);
    else
        check(rc != 0);
    if (rc == 0)
        check_block(&b, ids, n);
    else
        check(err.msg[0] != '\0');
    free(ids);
    free(copy);
    return 0;
}

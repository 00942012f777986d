/* A tx and a block: finding a block by what a user types, and the writers'
 * front doors, which pick the UTXO or the account form by the store's kind. */
#include <stdio.h>
#include <string.h>

#include "query/query_internal.h"
#include "util/numparse.h"

void ch_q_tx_json(FILE *f, const ch_store *s, uint64_t tx, const ch_toktab *tokens) {
    if (ch_store_is_account(s)) {
        ch_q_acct_tx_out(f, s, tokens, tx, true);
        return;
    }
    ch_jw w;
    ch_jw_init(&w, f);
    ch_q_utxo_tx_jw(&w, s, tx);
    ch_jw_newline(&w);
}

void ch_q_tx_text(FILE *f, const ch_store *s, uint64_t tx, const ch_toktab *tokens) {
    if (ch_store_is_account(s))
        ch_q_acct_tx_out(f, s, tokens, tx, false);
    else
        ch_q_utxo_tx_text(f, s, tx);
}

int ch_query_block(const ch_store *s, const char *text, ch_q_block *out, ch_error *err) {
    memset(out, 0, sizeof *out);
    bool account = ch_store_is_account(s);
    size_t len = strlen(text);
    /* account chains count blocks by number from mainnet genesis */
    bool is_height = len > 0 && len < (account ? 20 : 11) && strspn(text, "0123456789") == len;
    uint32_t height = 0;
    int rc;
    if (is_height) {
        /* the checked parser; a number too large is simply not in the store */
        uint64_t h = UINT64_MAX, base = account ? ch_store_first_number(s) : 0;
        (void)ch_parse_uint(text, 0, UINT64_MAX - 1, false, &h);
        rc = h >= base && h - base < ch_store_next_height(s) ? 1 : 0;
        height = (uint32_t)(h - base);
    } else {
        ch_hash256 hash;
        bool ok = account ? strncmp(text, "0x", 2) == 0 && len == 66 &&
                                ch_hex_decode(text + 2, 64, hash.b, 32) == 0
                          : ch_hash256_from_hex(text, &hash) == 0;
        if (!ok)
            return ch_err(err, "'%s' is neither a %s nor a block hash (%s)", text,
                          account ? "block number" : "height",
                          account ? "0x and 64 hex digits" : "64 hex digits");
        rc = ch_store_find_block((ch_store *)s, &hash, &height, err);
    }
    if (rc != 1) return rc;
    const ch_block_rec *b = ch_store_block(s, height);
    out->height = height;
    out->number = (account ? ch_store_first_number(s) : 0) + height;
    memcpy(out->hash.b, b->hash, 32);
    out->time = b->time;
    out->first_tx = b->first_tx;
    out->n_tx = b->n_tx;
    return 1;
}

void ch_q_block_json(FILE *f, const ch_store *s, const ch_q_block *b, bool txs,
                     const ch_toktab *tokens) {
    if (ch_store_is_account(s))
        ch_q_acct_block_out(f, s, tokens, b->height, true, txs);
    else
        ch_q_utxo_block_out(f, s, b->height, true, txs);
}

void ch_q_block_text(FILE *f, const ch_store *s, const ch_q_block *b, bool txs,
                     const ch_toktab *tokens) {
    if (ch_store_is_account(s))
        ch_q_acct_block_out(f, s, tokens, b->height, false, txs);
    else
        ch_q_utxo_block_out(f, s, b->height, false, txs);
}

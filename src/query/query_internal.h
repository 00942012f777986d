/* Shared by the query files: a transfer's block, 128-bit
 * decimal, and the JSON-writer forms of the public writers (a block's JSON
 * nests whole txs). */
#ifndef COINHOUND_QUERY_INTERNAL_H
#define COINHOUND_QUERY_INTERNAL_H

#include <stddef.h>

#include "coinhound/jsonw.h"
#include "coinhound/query.h"
#include "coinhound/trace.h"
#include "util/vec.h" /* the growable array (ch_vec) */

/* Amounts in decimal: ch_u128_str (coinhound/trace.h), one writer for every
 * 128-bit amount the library prints. */
/* "12.34567890" from satoshi. */
const char *ch_q_btc(uint64_t sat, char out[32]);
/* UTC "2009-01-03 18:15:05". */
const char *ch_q_time(uint32_t t, char out[32]);
/* The address string of an address id (mainnet form), or NULL for id 0. */
const char *ch_q_addr_str(const ch_store *s, ch_addr_id id, char out[128]);
/* A hash as printed: byte-reversed hex (UTXO) or 0x + hex as stored. */
void ch_q_hash_hex(const uint8_t b[32], bool account, char out[67]);

/* The kind-specific writers behind ch_q_tx_* and ch_q_block_*. */
void ch_q_utxo_tx_values(const ch_store *s, uint64_t tx, uint64_t *in, uint64_t *out,
                         int *coinbase);
void ch_q_utxo_tx_jw(ch_jw *w, const ch_store *s, uint64_t tx);
void ch_q_utxo_tx_text(FILE *f, const ch_store *s, uint64_t tx);
void ch_q_utxo_block_out(FILE *f, const ch_store *s, uint32_t height, bool json, bool txs);
void ch_q_acct_tx_jw(ch_jw *w, const ch_store *s, const ch_toktab *tk, uint64_t tx);
void ch_q_acct_tx_out(FILE *f, const ch_store *s, const ch_toktab *tk, uint64_t tx, bool json);
void ch_q_acct_block_out(FILE *f, const ch_store *s, const ch_toktab *tk, uint32_t height,
                         bool json, bool txs);

#endif

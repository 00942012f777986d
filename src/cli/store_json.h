/* Writing store records as JSON and text, shared by tx, block and address. */
#ifndef COINHOUND_CLI_STORE_JSON_H
#define COINHOUND_CLI_STORE_JSON_H

#include <stdint.h>
#include <stdio.h>

#include "coinhound/jsonw.h"
#include "coinhound/store.h"

/* One transaction: txid, size, block height/hash/time, inputs (spent
 * outpoint, value, address, type), outputs (n, value, address, type,
 * spent_by), fee; the same field names as `coinhound decode --json`. */
void cli_tx_json(ch_jw *w, ch_store *s, uint64_t tx);
void cli_tx_text(FILE *f, ch_store *s, uint64_t tx);
/* Sum of input values (0 for a coinbase) and output values. */
void cli_tx_values(const ch_store *s, uint64_t tx, uint64_t *in, uint64_t *out, int *coinbase);

#endif

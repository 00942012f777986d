/* The account-chain (EVM) side of `coinhound tx` and `coinhound address`. */
#ifndef COINHOUND_CLI_ACCOUNT_QUERY_H
#define COINHOUND_CLI_ACCOUNT_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coinhound/error.h"

#include "coinhound/store.h"
#include "coinhound/tokens.h"

/* "0x" + 64 hex digits -> hash bytes as written (no reversal); -1 if not. */
int cli_evm_hash(const char *s, ch_hash256 *h);
/* 128-bit amount in decimal; out needs 48 bytes. */
const char *cli_u128_dec(uint64_t lo, uint64_t hi, char out[48]);
/* Load the token tables for display (--tokens files and the environment's);
 * free them when done. */
int cli_account_tokens(const char *const *files, size_t n, ch_error *err);
void cli_account_tokens_free(void);
/* The loaded table, or NULL when none was given. */
const ch_toktab *cli_account_tokens_table(void);
#endif

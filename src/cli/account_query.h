/* The token tables an account store's query is read with (cli_query_open:
 * `coinhound tx`, `address`, `block` and the others on an EVM chain). */
#ifndef COINHOUND_CLI_ACCOUNT_QUERY_H
#define COINHOUND_CLI_ACCOUNT_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coinhound/error.h"

#include "coinhound/store.h"
#include "coinhound/tokens.h"

/* Load the token tables for display (--tokens files and the environment's);
 * free them when done. */
int cli_account_tokens(const char *const *files, size_t n, ch_error *err);
void cli_account_tokens_free(void);
/* The loaded table, or NULL when none was given. */
const ch_toktab *cli_account_tokens_table(void);
#endif

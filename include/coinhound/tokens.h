/* coinhound: token tables (EVM): what a token contract calls itself, its
 * decimals, and whether a reference list names it as the genuine token of
 * its symbol.
 *
 * Tables are CSV with a header naming at least the contract address column
 * ("address" or "contract") and "symbol"; "decimals" and "chainId" are
 * optional. Two kinds: a reference table (trusted: e.g. the Etherscan token
 * list in ../shared/fixtures/eth/erc20-tokens.csv) says which contracts are
 * the genuine ones; a metadata table (e.g. a generator's tokens.csv) only
 * says what tokens call themselves. Used for display (symbol, decimals) and
 * by the people's safeguard (fake tokens). */
#ifndef COINHOUND_TOKENS_H
#define COINHOUND_TOKENS_H

#include <stdbool.h>
#include <stdint.h>

#include "coinhound/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ch_toktab ch_toktab;

typedef struct ch_token_info {
    uint8_t addr[20];
    char symbol[24]; /* normalised: ASCII upper case, no spaces */
    int decimals;    /* -1: unknown */
    bool trusted;    /* a reference table lists this contract under this symbol */
    uint32_t rows;   /* reference rows naming it (the most named is the symbol's genuine one) */
} ch_token_info;

/* An empty table for chain id chain_id (1 Ethereum, 56 BSC, ...). */
int ch_toktab_new(uint64_t chain_id, ch_toktab **out, ch_error *err);
void ch_toktab_free(ch_toktab *t);
/* Merge a CSV file in (see above); trusted for a reference table. */
int ch_toktab_load(ch_toktab *t, const char *path, bool trusted, ch_error *err);
/* Add one token by hand (tests; symbol NULL keeps a known one). */
int ch_toktab_add(ch_toktab *t, const uint8_t addr[20], const char *symbol, int decimals,
                  bool trusted, ch_error *err);
const ch_token_info *ch_toktab_find(const ch_toktab *t, const uint8_t addr[20]);
/* The genuine contract of a symbol: the trusted entry most reference rows
 * name (ties: the first loaded), or NULL. */
const ch_token_info *ch_toktab_genuine(const ch_toktab *t, const char *symbol);
/* Whether a symbol is one poisoners imitate (USDT, USDC, WETH, DAI, ...). */
bool ch_toktab_is_major(const char *symbol);
/* A well-known symbol on a contract the reference tables do not list under
 * it: a fake. */
bool ch_toktab_is_fake(const ch_toktab *t, const ch_token_info *ti);

#ifdef __cplusplus
}
#endif

#endif

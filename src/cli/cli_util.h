/* Small helpers shared by the subcommands. */
#ifndef COINHOUND_CLI_UTIL_H
#define COINHOUND_CLI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coinhound/error.h"
#include "coinhound/poison.h"
#include "coinhound/store.h"
#include "coinhound/tokens.h"

/* The database directory: the --db value, else $COINHOUND_DB, else NULL
 * after printing "cmd: no database: give --db DIR or set COINHOUND_DB". */
const char *cli_db_dir(const char *cmd, const char *opt);
/* The same rule, silent: for a command whose database is optional (screen
 * with --set). The only reader of $COINHOUND_DB. */
const char *cli_db_find(const char *opt);
/* Print "coinhound CMD: message" to stderr and return 2. */
int cli_fail(const char *cmd, const ch_error *err);
int cli_failf(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The address string of an output's address id, or NULL for none. */
const char *cli_addr_str(const ch_store *s, ch_addr_id id, char buf[128]);
/* True when the string is "-h" or "--help". */
bool cli_is_help(const char *s);

/* Close a store read by a command and give its exit code: rc, or 2 after
 * saying so when the reads met damage (ch_store_damage): an answer read
 * from a damaged store is not trusted. s may be NULL. */
int cli_store_close(const char *cmd, ch_store *s, int rc);

/* Checked option values (util/numparse.h): 0 and *out set, or -1 after
 * printing "coinhound CMD: OPT wants ..., not 'TEXT'" (the caller exits 2). */
int cli_opt_u64(const char *cmd, const char *opt, const char *text, uint64_t min, uint64_t max,
                uint64_t *out);
/* A memory size: digits and an optional K, M or G (powers of 1024), at
 * least 256M; -1 after printing what is wrong. */
int cli_opt_mem(const char *cmd, const char *opt, const char *text, uint64_t *out);
/* The same for any size of at least min bytes (a whole number of MiB). */
int cli_opt_size(const char *cmd, const char *opt, const char *text, uint64_t min, uint64_t *out);
int cli_opt_u32(const char *cmd, const char *opt, const char *text, uint32_t min, uint32_t max,
                uint32_t *out);
/* A block number: decimal or 0x hex. */
int cli_opt_block(const char *cmd, const char *opt, const char *text, uint64_t *out);
/* Unix seconds or YYYY-MM-DD (UTC; end_of_day for --until). */
int cli_opt_time(const char *cmd, const char *opt, const char *text, bool end_of_day,
                 uint32_t *out);
/* --since and --until together: until must not be before since (0: unset). */
int cli_opt_range(const char *cmd, uint32_t since, uint32_t until);
/* A --chain value: a store name, never a path. */
int cli_opt_chain(const char *cmd, const char *text);

/* The one chain rule of the query commands: --chain when given, else the
 * argument's form (0x...: an account chain, "eth"), else "btc". The store
 * opened then says how the argument is read (ch_store_is_account). */
const char *cli_chain_of(const char *chain_opt, const char *arg);

/* What a query command reads, opened one way: the store DIR/<chain> (DIR from
 * --db or $COINHOUND_DB, cli_db_dir) and, on an account store, the token
 * tables of the one token policy (--tokens files, $COINHOUND_TOKENS as the
 * trusted reference list, $COINHOUND_TOKEN_META; account_query.c). */
typedef struct cli_query {
    const char *db;
    ch_store *s;
    const ch_toktab *tokens; /* NULL: none given, or a UTXO store */
} cli_query;

/* 0, or 2 after printing why (the command exits with it). */
int cli_query_open(const char *cmd, const char *db_opt, const char *chain_opt, const char *arg,
                   const char *const *token_files, size_t n_token_files, cli_query *q);
/* Close it; the exit code as cli_store_close gives it. */
int cli_query_close(const char *cmd, cli_query *q, int rc);

/* The people's safeguard of a command, by the one token policy: tokens_opt
 * (a trusted reference list) and meta_opt (a metadata table) when given,
 * else $COINHOUND_TOKENS and $COINHOUND_TOKEN_META; the chain id from
 * $COINHOUND_CHAIN_ID (default 1). The library reads no environment: this
 * is where a front door turns its own into detector options. 0 and *out
 * set (the caller frees it), or 2 after printing why. */
int cli_poison_open(const char *cmd, const char *tokens_opt, const char *meta_opt, ch_poison **out);

#endif

/* Small helpers shared by the subcommands. */
#ifndef COINHOUND_CLI_UTIL_H
#define COINHOUND_CLI_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "coinhound/error.h"
#include "coinhound/store.h"

/* The database directory: the --db value, else $COINHOUND_DB, else NULL
 * after printing "cmd: no database: give --db DIR or set COINHOUND_DB". */
const char *cli_db_dir(const char *cmd, const char *opt);
/* Print "coinhound CMD: message" to stderr and return 2. */
int cli_fail(const char *cmd, const ch_error *err);
int cli_failf(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The address string of an output's address id, or NULL for none. */
const char *cli_addr_str(const ch_store *s, uint32_t id, char buf[128]);
/* "12.34567890" from satoshi. */
const char *cli_btc(uint64_t sat, char buf[32]);
/* UTC "2009-01-03 18:15:05". */
const char *cli_time(uint32_t t, char buf[32]);
/* True when the string is "-h" or "--help". */
bool cli_is_help(const char *s);

#endif

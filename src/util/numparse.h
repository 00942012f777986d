/* One checked parser for the numbers, dates and names that come from
 * outside (command lines, config): the whole text must be the thing, with
 * no sign, space, trailing junk or overflow, so that `--hops abc` or
 * `--limit -1` is an error instead of a silent 0 or 2^64-1. */
#ifndef COINHOUND_UTIL_NUMPARSE_H
#define COINHOUND_UTIL_NUMPARSE_H

#include <stdbool.h>
#include <stdint.h>

/* A decimal whole number in [min, max] (hex with 0x when hex_ok): 0, or
 * -1 when s is anything else (empty, signed, junk, out of range). */
int ch_parse_uint(const char *s, uint64_t min, uint64_t max, bool hex_ok, uint64_t *out);
/* A time: unix seconds (up to 2^32-1), or a real calendar date YYYY-MM-DD
 * (UTC; 2024-02-30 is refused) at its first second, or its last with
 * end_of_day. 0 or -1. */
int ch_parse_time(const char *s, bool end_of_day, uint32_t *out);
/* A store name (a chain): 1..64 letters, digits and '-', not starting with
 * '-', and not "intel" (the attribution store's folder): never a path. */
bool ch_store_name_ok(const char *s);

#endif

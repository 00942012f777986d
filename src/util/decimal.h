/* Unsigned integers as decimal text: the one writer behind the JSON writer,
 * the 128-bit amounts of account chains (ch_u128_str), the ETL reader's
 * numbers and the EVM generator. Digits only, no sign, no leading zeros
 * ("0" for zero). */
#ifndef COINHOUND_UTIL_DECIMAL_H
#define COINHOUND_UTIL_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

#define CH_DEC_U64_LEN  21 /* 20 digits (2^64-1) and the NUL */
#define CH_DEC_U128_LEN 40 /* 39 digits (2^128-1) and the NUL */

/* v's digits written backwards so that they end just before end (no NUL);
 * returns the first digit. At most 20 bytes before end are written. */
char *ch_dec_u64_back(uint64_t v, char *end);
/* v's digits and a NUL at out; returns the number of digits. */
size_t ch_dec_u64(uint64_t v, char out[CH_DEC_U64_LEN]);
/* The same for a 128-bit value. */
__extension__ size_t ch_dec_u128(unsigned __int128 v, char out[CH_DEC_U128_LEN]);

#endif

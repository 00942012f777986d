/* Decimal text of 64- and 128-bit unsigned integers (decimal.h). */
#include "util/decimal.h"

#include <string.h>

char *ch_dec_u64_back(uint64_t v, char *end) {
    char *p = end;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

size_t ch_dec_u64(uint64_t v, char out[CH_DEC_U64_LEN]) {
    char tmp[CH_DEC_U64_LEN];
    char *p = ch_dec_u64_back(v, tmp + sizeof tmp);
    size_t n = (size_t)(tmp + sizeof tmp - p);
    memcpy(out, p, n);
    out[n] = '\0';
    return n;
}

/* A 128-bit value is cut into 19-digit pieces (10^19 < 2^64), so that the
 * digits come from 64-bit divisions and the slow 128-bit division runs at
 * most twice. */
__extension__ size_t ch_dec_u128(unsigned __int128 v, char out[CH_DEC_U128_LEN]) {
    if (v >> 64 == 0) return ch_dec_u64((uint64_t)v, out);
    const uint64_t piece = 10000000000000000000ULL; /* 10^19 */
    char tmp[CH_DEC_U128_LEN];
    char *end = tmp + sizeof tmp, *p = end;
    while (v >> 64 != 0) {
        uint64_t low = (uint64_t)(v % piece);
        v /= piece;
        char *q = ch_dec_u64_back(low, p);
        while (q > p - 19) /* the piece's leading zeros */
            *--q = '0';
        p = q;
    }
    p = ch_dec_u64_back((uint64_t)v, p);
    size_t n = (size_t)(end - p);
    memcpy(out, p, n);
    out[n] = '\0';
    return n;
}

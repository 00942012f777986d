/* 128-bit amounts as decimal strings, for account-chain output. */
#include <string.h>

#include "coinhound/trace_account.h"
#include "util/decimal.h"

const char *ch_u128_str(ch_taint_sum v, char out[48]) {
    ch_dec_u128(v, out);
    return out;
}

int ch_u128_parse(const char *s, ch_taint_sum *out) {
    if (!s || !*s) return -1;
    const ch_taint_sum max = ~(ch_taint_sum)0;
    ch_taint_sum v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10) return -1; /* v * 10 + d would wrap */
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

const char *ch_u128_decimals_str(ch_taint_sum v, int decimals, char out[48]) {
    char d[48];
    ch_u128_str(v, d);
    if (decimals <= 0) return strcpy(out, d);
    if (decimals > 40) decimals = 40; /* no token has more; keeps out within 48 */
    size_t n = strlen(d), dec = (size_t)decimals;
    char buf[96];
    size_t k = 0;
    if (n <= dec) { /* 0.000ddd */
        buf[k++] = '0';
        buf[k++] = '.';
        for (size_t i = n; i < dec; i++)
            buf[k++] = '0';
        memcpy(buf + k, d, n);
        k += n;
    } else {
        memcpy(buf, d, n - dec);
        k = n - dec;
        buf[k++] = '.';
        memcpy(buf + k, d + n - dec, dec);
        k += dec;
    }
    while (buf[k - 1] == '0') /* trailing zeros of the fraction */
        k--;
    if (buf[k - 1] == '.') k--;
    buf[k] = 0;
    memcpy(out, buf, k + 1); /* at most 39 digits, a point and one leading zero */
    return out;
}

/* 256-bit unsigned integers, EVM addresses and the hex/decimal text helpers
 * the parsers share. */
#include <string.h>

#include "chains/eth/evm_internal.h"
#include "util/hexval.h"

static bool has_0x(const char *s, size_t len) {
    return len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

int ch_u256_from_hex(const char *s, size_t len, ch_u256 *out) {
    if (!has_0x(s, len)) return -1;
    s += 2;
    len -= 2;
    if (len == 0 || len > 64) return -1;
    memset(out, 0, sizeof *out);
    /* the last digit is the least significant nibble; each limb is read
     * most significant digit first, 16 digits (or what is left) at a time */
    const unsigned char *u = (const unsigned char *)s;
    unsigned bad = 0;
    for (size_t limb = 0, left = len; left; limb++) {
        size_t n = left < 16 ? left : 16;
        uint64_t w = 0;
        for (const unsigned char *d = u + left - n; d < u + left; d++) {
            unsigned v = ch_hexval[*d];
            bad |= v;
            w = w << 4 | (v & 15);
        }
        out->w[limb] = w;
        left -= n;
    }
    return bad & 0x80 ? -1 : 0;
}

int ch_u256_from_dec(const char *s, size_t len, ch_u256 *out) {
    if (len == 0 || len > 78) return -1; /* 2^256 - 1 has 78 digits */
    ch_u256 r = {{0, 0, 0, 0}};
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        /* r = r * 10 + digit, refusing a carry out of the top limb */
        uint64_t carry = (uint64_t)(s[i] - '0');
        for (int k = 0; k < 4; k++) {
            unsigned __int128 t = (unsigned __int128)r.w[k] * 10 + carry;
            r.w[k] = (uint64_t)t;
            carry = (uint64_t)(t >> 64);
        }
        if (carry) return -1;
    }
    *out = r;
    return 0;
}

void ch_u256_from_be32(const uint8_t b[32], ch_u256 *out) {
    for (int k = 0; k < 4; k++) {
        uint64_t w = 0;
        for (int i = 0; i < 8; i++)
            w = (w << 8) | b[(3 - k) * 8 + i];
        out->w[k] = w;
    }
}

const char *ch_u256_to_dec(const ch_u256 *v, char out[80]) {
    ch_u256 t = *v;
    char tmp[80];
    int n = 0;
    do {
        /* t /= 10, collecting the remainder, most significant limb first */
        uint64_t rem = 0;
        for (int k = 3; k >= 0; k--) {
            unsigned __int128 cur = ((unsigned __int128)rem << 64) | t.w[k];
            t.w[k] = (uint64_t)(cur / 10);
            rem = (uint64_t)(cur % 10);
        }
        tmp[n++] = (char)('0' + rem);
    } while (!ch_u256_is_zero(&t));
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return out;
}

bool ch_u256_is_zero(const ch_u256 *v) {
    return (v->w[0] | v->w[1] | v->w[2] | v->w[3]) == 0;
}

int ch_u256_cmp(const ch_u256 *a, const ch_u256 *b) {
    for (int k = 3; k >= 0; k--)
        if (a->w[k] != b->w[k]) return a->w[k] < b->w[k] ? -1 : 1;
    return 0;
}

void ch_u256_add(ch_u256 *r, const ch_u256 *a, const ch_u256 *b) {
    uint64_t carry = 0;
    for (int k = 0; k < 4; k++) {
        unsigned __int128 t = (unsigned __int128)a->w[k] + b->w[k] + carry;
        r->w[k] = (uint64_t)t;
        carry = (uint64_t)(t >> 64);
    }
}

void ch_u256_sub(ch_u256 *r, const ch_u256 *a, const ch_u256 *b) {
    uint64_t borrow = 0;
    for (int k = 0; k < 4; k++) {
        uint64_t x = a->w[k], y = b->w[k];
        uint64_t d = x - y - borrow;
        borrow = (x < y) || (x == y && borrow);
        r->w[k] = d;
    }
}

void ch_u256_mul64(ch_u256 *r, const ch_u256 *a, uint64_t m) {
    uint64_t carry = 0;
    for (int k = 0; k < 4; k++) {
        unsigned __int128 t = (unsigned __int128)a->w[k] * m + carry;
        r->w[k] = (uint64_t)t;
        carry = (uint64_t)(t >> 64);
    }
}

double ch_u256_to_double(const ch_u256 *v) {
    double d = 0;
    for (int k = 3; k >= 0; k--)
        d = d * 18446744073709551616.0 + (double)v->w[k];
    return d;
}

int ch_evm_addr_from_hex(const char *s, size_t len, ch_evm_addr *out) {
    return evm_hex_fixed(s, len, out->b, 20);
}

const char *ch_evm_addr_to_hex(const ch_evm_addr *a, char out[43]) {
    out[0] = '0';
    out[1] = 'x';
    ch_hex_encode(a->b, 20, out + 2);
    return out;
}

/* --- helpers for the parsers --- */

int evm_hex_fixed(const char *s, size_t len, uint8_t *out, size_t n) {
    if (!has_0x(s, len) || len != 2 + 2 * n) return -1;
    return ch_hex_decode(s + 2, len - 2, out, n);
}

int evm_hex_bytes(ch_evm_block *b, const char *s, size_t len, const uint8_t **out,
                  size_t *out_len) {
    if (!has_0x(s, len) || (len & 1)) return -1;
    size_t n = (len - 2) / 2;
    uint8_t *p = evm_alloc(b, n ? n : 1);
    if (!p || (n && ch_hex_decode(s + 2, len - 2, p, n) != 0)) return -1;
    *out = p;
    *out_len = n;
    return 0;
}

int evm_hex_u64(const char *s, size_t len, uint64_t *out) {
    ch_u256 v;
    if (ch_u256_from_hex(s, len, &v) != 0 || v.w[1] || v.w[2] || v.w[3]) return -1;
    *out = v.w[0];
    return 0;
}

int evm_dec_u64(const char *s, size_t len, uint64_t *out) {
    if (len == 0 || len > 20) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* GraphSense's CSV writes some round values in exponent form ("199e17"):
 * spell "<digits>[.<digits>]e[+]<digits>" out in plain digits when it is a
 * whole number that fits; -1 otherwise. */
static int expand_exponent(const char *s, size_t len, char *out, size_t cap, size_t *out_len) {
    size_t i = 0, n = 0, frac = 0;
    bool dot = false;
    for (; i < len && s[i] != 'e' && s[i] != 'E'; i++) {
        if (s[i] == '.' && !dot) {
            dot = true;
            continue;
        }
        if (s[i] < '0' || s[i] > '9' || n + 1 >= cap) return -1;
        out[n++] = s[i];
        frac += dot;
    }
    if (n == 0 || i == len) return -1;
    i++;
    if (i < len && s[i] == '+') i++;
    uint64_t e;
    if (evm_dec_u64(s + i, len - i, &e) != 0 || e < frac || e - frac + n >= cap) return -1;
    for (uint64_t z = 0; z < e - frac; z++)
        out[n++] = '0';
    *out_len = n;
    return 0;
}

int evm_num_u256(const char *s, size_t len, ch_u256 *out) {
    if (has_0x(s, len)) return ch_u256_from_hex(s, len, out);
    if (!memchr(s, 'e', len) && !memchr(s, 'E', len)) return ch_u256_from_dec(s, len, out);
    char buf[100];
    size_t n;
    if (expand_exponent(s, len, buf, sizeof buf, &n) != 0) return -1;
    return ch_u256_from_dec(buf, n, out);
}

int evm_num_u64(const char *s, size_t len, uint64_t *out) {
    if (has_0x(s, len)) return evm_hex_u64(s, len, out);
    if (!memchr(s, 'e', len) && !memchr(s, 'E', len)) return evm_dec_u64(s, len, out);
    char buf[100];
    size_t n;
    if (expand_exponent(s, len, buf, sizeof buf, &n) != 0) return -1;
    return evm_dec_u64(buf, n, out);
}

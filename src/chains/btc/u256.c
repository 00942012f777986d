/* 256-bit unsigned arithmetic for proof of work: targets from their compact
 * "bits" form and back, and the work a target stands for. Four 64-bit
 * limbs, least significant first; nothing here allocates. */
#include <string.h>

#include "chains/btc/btc_internal.h"

int btc_u256_cmp(const btc_u256 *a, const btc_u256 *b) {
    for (int i = 3; i >= 0; i--)
        if (a->w[i] != b->w[i]) return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

bool btc_u256_is_zero(const btc_u256 *a) {
    return !(a->w[0] | a->w[1] | a->w[2] | a->w[3]);
}

void btc_u256_add(btc_u256 *a, const btc_u256 *b) {
    uint64_t carry = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t s = a->w[i] + carry;
        carry = s < carry;
        a->w[i] = s + b->w[i];
        carry += a->w[i] < s;
    }
}

static void u256_sub(btc_u256 *a, const btc_u256 *b) {
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t x = a->w[i], y = b->w[i];
        a->w[i] = x - y - borrow;
        borrow = (x < y) || (x == y && borrow);
    }
}

/* Shift left by one; returns the bit shifted out. */
static int u256_shl1(btc_u256 *a) {
    int out = (int)(a->w[3] >> 63);
    for (int i = 3; i > 0; i--)
        a->w[i] = a->w[i] << 1 | a->w[i - 1] >> 63;
    a->w[0] <<= 1;
    return out;
}

/* q = n / d by shift and subtract (d != 0). */
static void u256_div(const btc_u256 *n, const btc_u256 *d, btc_u256 *q) {
    btc_u256 r = {{0}};
    memset(q, 0, sizeof *q);
    for (int bit = 255; bit >= 0; bit--) {
        int over = u256_shl1(&r);
        r.w[0] |= (n->w[bit / 64] >> (bit % 64)) & 1;
        /* r < 2d, and r >= 2^256 only when d is that large: then r > d too. */
        if (over || btc_u256_cmp(&r, d) >= 0) {
            u256_sub(&r, d);
            q->w[bit / 64] |= 1ULL << (bit % 64);
        }
    }
}

/* a *= m; the caller keeps the product below 2^256 (targets are below
 * 2^255 and timespans below 2^23). */
void btc_u256_mul32(btc_u256 *a, uint32_t m) {
    unsigned __int128 carry = 0;
    for (int i = 0; i < 4; i++) {
        unsigned __int128 p = (unsigned __int128)a->w[i] * m + carry;
        a->w[i] = (uint64_t)p;
        carry = p >> 64;
    }
}

/* a /= d (d != 0), remainder dropped. */
void btc_u256_div32(btc_u256 *a, uint32_t d) {
    unsigned __int128 rem = 0;
    for (int i = 3; i >= 0; i--) {
        unsigned __int128 cur = rem << 64 | a->w[i];
        a->w[i] = (uint64_t)(cur / d);
        rem = cur % d;
    }
}

void btc_u256_from_hash(btc_u256 *a, const ch_hash256 *h) {
    for (int i = 0; i < 4; i++) {
        uint64_t w = 0;
        for (int k = 7; k >= 0; k--)
            w = w << 8 | h->b[8 * i + k];
        a->w[i] = w;
    }
}

/* Shift left by whole bytes (0..31): the compact form's exponent. */
static void u256_shl_bytes(btc_u256 *a, unsigned bytes) {
    btc_u256 r = {{0}};
    for (unsigned bit = 0; bit < 256; bit++) {
        unsigned to = bit + 8 * bytes;
        if (to < 256 && (a->w[bit / 64] >> (bit % 64) & 1)) r.w[to / 64] |= 1ULL << (to % 64);
    }
    *a = r;
}

int btc_target_from_bits(uint32_t bits, btc_u256 *target) {
    memset(target, 0, sizeof *target);
    uint32_t size = bits >> 24, word = bits & 0x007fffff;
    if (word != 0 && (bits & 0x00800000)) return -1; /* negative */
    if (word != 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32)))
        return -1; /* overflows 256 bits */
    if (size <= 3) {
        target->w[0] = word >> (8 * (3 - size));
    } else {
        target->w[0] = word;
        u256_shl_bytes(target, size - 3);
    }
    return btc_u256_is_zero(target) ? -1 : 0;
}

uint32_t btc_bits_from_target(const btc_u256 *target) {
    unsigned bitlen = 0;
    for (int i = 3; i >= 0 && !bitlen; i--)
        if (target->w[i]) bitlen = (unsigned)(64 * i + 64 - __builtin_clzll(target->w[i]));
    uint32_t size = (bitlen + 7) / 8, compact;
    if (size <= 3) {
        compact = (uint32_t)(target->w[0] << (8 * (3 - size)));
    } else {
        /* the three most significant bytes */
        unsigned shift = 8 * (size - 3);
        btc_u256 t = *target;
        for (unsigned k = 0; k < shift; k++) { /* shift right one bit at a time */
            for (int i = 0; i < 3; i++)
                t.w[i] = t.w[i] >> 1 | t.w[i + 1] << 63;
            t.w[3] >>= 1;
        }
        compact = (uint32_t)t.w[0];
    }
    if (compact & 0x00800000) { /* the sign bit: one more byte of exponent */
        compact >>= 8;
        size++;
    }
    return compact | size << 24;
}

void btc_header_work(uint32_t bits, btc_u256 *work) {
    memset(work, 0, sizeof *work);
    btc_u256 target;
    if (btc_target_from_bits(bits, &target) != 0) return;
    /* 2^256 / (target + 1), as Core computes it: ~target / (target + 1) + 1 */
    btc_u256 inv, plus1 = target, one = {{1, 0, 0, 0}};
    for (int i = 0; i < 4; i++)
        inv.w[i] = ~target.w[i];
    btc_u256_add(&plus1, &one);
    if (btc_u256_is_zero(&plus1)) { /* target 2^256 - 1 (no compact form gives it) */
        work->w[0] = 1;
        return;
    }
    u256_div(&inv, &plus1, work);
    btc_u256_add(work, &one);
}

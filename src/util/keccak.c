/* Keccak-256 as Ethereum and Monero use it: Keccak-f[1600] in a sponge with
 * rate 1088 bits (136 bytes), capacity 512, 32 bytes of output and the
 * original Keccak padding (0x01 ... 0x80). FIPS 202 SHA3-256 differs only in
 * the padding byte (0x06), which is why OpenSSL's SHA3 cannot be used here.
 *
 * Written from "The Keccak reference" (Bertoni, Daemen, Peeters, Van Assche,
 * version 3.0): the state is 5x5 lanes of 64 bits, A[x][y] stored as
 * a[x + 5*y]; bytes map to lanes little-endian. */
#include "util/keccak.h"

#include <string.h>

#include "coinhound/hash.h"

#define KECCAK_ROUNDS  24
#define KECCAK256_RATE 136

/* Round constants of the iota step (the spec derives them from an LFSR;
 * the values are the published ones). */
static const uint64_t RC[KECCAK_ROUNDS] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808AULL, 0x8000000080008000ULL,
    0x000000000000808BULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008AULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000AULL,
    0x000000008000808BULL, 0x800000000000008BULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800AULL, 0x800000008000000AULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/* Rotation offsets of the rho step, r[x + 5*y]. */
static const unsigned RHO[25] = {
    0,  1,  62, 28, 27, /* y = 0 */
    36, 44, 6,  55, 20, /* y = 1 */
    3,  10, 43, 25, 39, /* y = 2 */
    41, 45, 15, 21, 8,  /* y = 3 */
    18, 2,  61, 56, 14, /* y = 4 */
};

static uint64_t rotl64(uint64_t v, unsigned n) {
    return n ? (v << n) | (v >> (64 - n)) : v;
}

static void keccak_f1600(uint64_t a[25]) {
    for (int round = 0; round < KECCAK_ROUNDS; round++) {
        uint64_t c[5], d[5], b[25];
        /* theta: xor each column's parity of its two neighbours in. */
        for (int x = 0; x < 5; x++)
            c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
        for (int x = 0; x < 5; x++)
            d[x] = c[(x + 4) % 5] ^ rotl64(c[(x + 1) % 5], 1);
        for (int i = 0; i < 25; i++)
            a[i] ^= d[i % 5];
        /* rho and pi: B[y][2x+3y] = rot(A[x][y], r[x][y]). */
        for (int x = 0; x < 5; x++)
            for (int y = 0; y < 5; y++)
                b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl64(a[x + 5 * y], RHO[x + 5 * y]);
        /* chi: the only non-linear step, along rows. */
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 5; x++)
                a[x + 5 * y] = b[x + 5 * y] ^ (~b[(x + 1) % 5 + 5 * y] & b[(x + 2) % 5 + 5 * y]);
        /* iota */
        a[0] ^= RC[round];
    }
}

static uint64_t load_le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void absorb_block(uint64_t a[25], const uint8_t *block) {
    for (int i = 0; i < KECCAK256_RATE / 8; i++)
        a[i] ^= load_le64(block + 8 * i);
    keccak_f1600(a);
}

void ch_keccak256_domain(const void *data, size_t len, uint8_t domain, uint8_t out[32]) {
    uint64_t a[25] = {0};
    const uint8_t *p = data;
    uint8_t last[KECCAK256_RATE];

    while (len >= KECCAK256_RATE) {
        absorb_block(a, p);
        p += KECCAK256_RATE;
        len -= KECCAK256_RATE;
    }
    /* pad10*1 after the domain bits; when only one byte is left both ends
     * of the padding land in it. */
    memset(last, 0, sizeof last);
    if (len) memcpy(last, p, len);
    last[len] ^= domain;
    last[KECCAK256_RATE - 1] ^= 0x80;
    absorb_block(a, last);

    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 8; k++)
            out[8 * i + k] = (uint8_t)(a[i] >> (8 * k));
}

void ch_keccak256(const void *data, size_t len, uint8_t out[32]) {
    ch_keccak256_domain(data, len, KECCAK_DOMAIN_ORIGINAL, out);
}

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

/* The permutation on one state: the lanes in general registers. Where the
 * compiler can, a second copy for x86-64-v3 (BMI's and-not and rotate
 * without flags), chosen at load time: a fifth less time per permutation,
 * and screening raw EVM addresses runs one per address (EIP-55). */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define KF_ATTR __attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
#endif
#ifndef KF_ATTR
#define KF_ATTR
#endif
#define KF_NAME keccak_f1600
#define KF_LANE uint64_t
#include "util/keccak_f1600.h"
#undef KF_NAME
#undef KF_LANE
#undef KF_ATTR

/* The permutation on several states at once, one per element of a vector:
 * eight with AVX-512, four with AVX2, each instance compiled for its
 * instruction set and called only when the CPU has it (ch_keccak256_many).
 * Everything that touches a vector lane type stays inside functions of that
 * target, so no vector crosses a call made by plain x86-64 code. */
#if defined(__x86_64__) && defined(__GNUC__)
#define KECCAK_MULTI 1
typedef uint64_t kf_v8 __attribute__((vector_size(64)));
typedef uint64_t kf_v4 __attribute__((vector_size(32)));
#define KF_ATTR __attribute__((target("avx512f")))
#define KF_NAME keccak_f1600_x8
#define KF_LANE kf_v8
#include "util/keccak_f1600.h"
#undef KF_NAME
#undef KF_LANE
#undef KF_ATTR
#define KF_ATTR __attribute__((target("avx2")))
#define KF_NAME keccak_f1600_x4
#define KF_LANE kf_v4
#include "util/keccak_f1600.h"
#undef KF_NAME
#undef KF_LANE
#undef KF_ATTR
#endif

/* Eight bytes as a little-endian lane (one load where the CPU is
 * little-endian; the byte loop GCC made of the shifts cost a tenth of a
 * permutation). */
static inline uint64_t load_le64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static void absorb_block(uint64_t a[25], const uint8_t *block) {
    for (int i = 0; i < KECCAK256_RATE / 8; i++)
        a[i] ^= load_le64(block + 8 * i);
    keccak_f1600(a);
}

/* The last block: len < KECCAK256_RATE bytes of message, then pad10*1
 * after the domain bits (when only one byte is left, both ends of the
 * padding land in it). */
static void pad_block(const uint8_t *msg, size_t len, uint8_t domain,
                      uint8_t block[KECCAK256_RATE]) {
    memset(block, 0, KECCAK256_RATE);
    if (len) memcpy(block, msg, len);
    block[len] ^= domain;
    block[KECCAK256_RATE - 1] ^= 0x80;
}

/* The 32 bytes of output from lanes 0..3 (little-endian). */
static void squeeze(const uint64_t lane[4], uint8_t out[32]) {
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 8; k++)
            out[8 * i + k] = (uint8_t)(lane[i] >> (8 * k));
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
    pad_block(p, len, domain, last);
    absorb_block(a, last);
    squeeze(a, out);
}

void ch_keccak256(const void *data, size_t len, uint8_t out[32]) {
    ch_keccak256_domain(data, len, KECCAK_DOMAIN_ORIGINAL, out);
}

#ifdef KECCAK_MULTI
/* WAYS padded blocks absorbed into WAYS fresh states side by side, and
 * their digests: one instance per vector width. */
#define KECCAK_ABSORB_WAYS(NAME, ATTR, LANE, PERMUTE, WAYS)                                        \
    ATTR static void NAME(const uint8_t(*blk)[KECCAK256_RATE], uint8_t(*out)[32]) {                \
        LANE st[25];                                                                               \
        for (int i = 0; i < 25; i++)                                                               \
            for (int j = 0; j < (WAYS); j++)                                                       \
                st[i][j] = i < KECCAK256_RATE / 8 ? load_le64(blk[j] + 8 * i) : 0;                 \
        PERMUTE(st);                                                                               \
        for (int j = 0; j < (WAYS); j++) {                                                         \
            uint64_t lane[4] = {st[0][j], st[1][j], st[2][j], st[3][j]};                           \
            squeeze(lane, out[j]);                                                                 \
        }                                                                                          \
    }
KECCAK_ABSORB_WAYS(absorb_x8, __attribute__((target("avx512f"))), kf_v8, keccak_f1600_x8, 8)
KECCAK_ABSORB_WAYS(absorb_x4, __attribute__((target("avx2"))), kf_v4, keccak_f1600_x4, 4)
#endif

void ch_keccak256_many(const uint8_t *const *msgs, size_t len, size_t n, uint8_t domain,
                       uint8_t (*out)[32]) {
    size_t i = 0;
#ifdef KECCAK_MULTI
    if (len < KECCAK256_RATE) {
        int ways = __builtin_cpu_supports("avx512f") ? 8 : __builtin_cpu_supports("avx2") ? 4 : 0;
        uint8_t blk[8][KECCAK256_RATE];
        /* a last group of 2 or more is padded with copies of its last
         * message (one vector permutation costs less than two scalar ones),
         * its extra digests dropped */
        for (; ways && n - i >= 2; i += (size_t)ways) {
            size_t m = n - i < (size_t)ways ? n - i : (size_t)ways;
            uint8_t dig[8][32];
            for (size_t j = 0; j < (size_t)ways; j++)
                pad_block(msgs[i + (j < m ? j : m - 1)], len, domain, blk[j]);
            if (ways == 8)
                absorb_x8(blk, dig);
            else
                absorb_x4(blk, dig);
            memcpy(out + i, dig, m * 32);
            if (m < (size_t)ways) {
                i += m;
                break;
            }
        }
    }
#endif
    for (; i < n; i++) /* the rest (and every one without the vector units) */
        ch_keccak256_domain(msgs[i], len, domain, out[i]);
}

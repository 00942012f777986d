/* The generator's randomness: xoshiro256** (Blackman and Vigna), seeded
 * through splitmix64 as its authors recommend. Written from the published
 * algorithm descriptions; fast and reproducible on every platform, which is
 * all a data generator needs (it is not for secrets). */
#include "gen_internal.h"

uint64_t gen_splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void gen_rng_seed(gen_rng *r, uint64_t seed) {
    uint64_t s = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = gen_splitmix64(&s);
}

static inline uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

uint64_t gen_rng_next(gen_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Lemire's multiply-shift; the bias for n far below 2^64 is negligible for
 * test data, and skipping the rejection loop keeps the stream length fixed. */
uint64_t gen_rng_below(gen_rng *r, uint64_t n) {
    return (uint64_t)(((unsigned __int128)gen_rng_next(r) * n) >> 64);
}

uint64_t gen_rng_range(gen_rng *r, uint64_t lo, uint64_t hi) {
    return lo + gen_rng_below(r, hi - lo + 1);
}

bool gen_rng_chance(gen_rng *r, unsigned per_mille) {
    return gen_rng_below(r, 1000) < per_mille;
}

void gen_rng_bytes(gen_rng *r, uint8_t *out, size_t n) {
    while (n > 0) {
        uint64_t v = gen_rng_next(r);
        for (int i = 0; i < 8 && n > 0; i++, n--)
            *out++ = (uint8_t)(v >> (8 * i));
    }
}

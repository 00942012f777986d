/* The key hash of the screening set.
 *
 * Keys are short strings (26 to 106 bytes) that are already close to random,
 * so the hash only has to spread them evenly and fast: each 8-byte word is
 * xored in and multiplied by an odd constant, and a final avalanche step
 * (xor-shift, multiply, twice) makes every output bit depend on every input
 * bit. Words are read little-endian so that a set written on one machine
 * reads the same on any other. A per-file seed lets a writer pick another
 * hash should a data set ever make buckets lopsided. */
#include <stdint.h>

#include "coinhound/screen.h"
#include "screen/format.h"

#define K1 0x9e3779b97f4a7c15ULL /* 2^64 / golden ratio, odd */
#define K2 0xbf58476d1ce4e5b9ULL
#define K3 0x94d049bb133111ebULL

static uint64_t load_word(const uint8_t *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

uint64_t ch_screen_hash(const void *key, size_t len, uint64_t seed) {
    const uint8_t *p = key;
    uint64_t h = seed ^ ((uint64_t)len * K1);
    while (len >= 8) {
        h = (h ^ load_word(p, 8)) * K1;
        h ^= h >> 31;
        p += 8;
        len -= 8;
    }
    if (len) {
        h = (h ^ load_word(p, len)) * K1;
        h ^= h >> 31;
    }
    h ^= h >> 30;
    h *= K2;
    h ^= h >> 27;
    h *= K3;
    h ^= h >> 31;
    return h;
}

/* The key hashes of the screening set.
 *
 * Format 3 (written since 2026-12) uses XXH3-128 (format.h,
 * scr_fingerprint_xxh3), so that any wallet can compute it with a port of
 * a published hash. What follows is format 2's own hash, still read.
 *
 * Keys are short strings (26 to 106 bytes) that are already close to random,
 * so the hash only has to spread them evenly and fast: each 8-byte word is
 * xored in and multiplied by an odd constant, and a final avalanche step
 * (xor-shift, multiply, twice) makes every output bit depend on every input
 * bit. Words are read little-endian so that a set written on one machine
 * reads the same on any other. A per-file seed lets a writer pick another
 * hash should a data set ever make buckets lopsided, or (format 2) two of
 * its keys share a fingerprint.
 *
 * scr_fingerprint runs a second lane beside the first over the same words:
 * other multipliers, another start and another final mix, so its 64 bits
 * are independent of the first lane's for keys not built against the hash.
 * The two multiply chains do not depend on each other, so the processor
 * runs them side by side: 128 bits cost little more than 64. */
#include <stdint.h>

#include "coinhound/screen.h"
#include "screen/format.h"

/* The constants, the word loads and the second lane (scr_fingerprint)
 * are in format.h, inline, for the lookup path. */

/* Format 3's h1 (low 64 bits of XXH3-128): what picks a key's bucket in
 * the files this build writes. */
uint64_t ch_screen_hash(const void *key, size_t len, uint64_t seed) {
    return scr_fingerprint_xxh3(key, len, seed).h1;
}

/* Format 2's h1 (the first lane of scr_fingerprint), for tests of old
 * files. */
uint64_t scr_hash_v2(const void *key, size_t len, uint64_t seed);
uint64_t scr_hash_v2(const void *key, size_t len, uint64_t seed) {
    const uint8_t *p = key;
    const size_t total = len;
    uint64_t h = seed ^ ((uint64_t)len * SCR_K1);
    while (len >= 8) {
        h = (h ^ scr_load_word(p, 8)) * SCR_K1;
        h ^= h >> 31;
        p += 8;
        len -= 8;
    }
    if (len) {
        h = (h ^ scr_load_tail(p, len, total)) * SCR_K1;
        h ^= h >> 31;
    }
    h ^= h >> 30;
    h *= SCR_K2;
    h ^= h >> 27;
    h *= SCR_K3;
    h ^= h >> 31;
    return h;
}

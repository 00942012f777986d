/* Internal: the on-disk layout of a screening set (described in screen.h). */
#ifndef COINHOUND_SCREEN_FORMAT_H
#define COINHOUND_SCREEN_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* XXH3 from Debian's libxxhash (format 3's hash), its functions inlined
 * from the package's header: the lookup path hashes every key, and a call
 * into the shared library would cost more than the hash of a short key.
 * The results are XXH3's, bit for bit, whichever way it is compiled. */
#ifndef XXH_INLINE_ALL
#define XXH_INLINE_ALL
#endif
#include <xxhash.h>

#define SCR_SLOTS        4 /* slots per 64-byte bucket */
#define SCR_SLOT_BYTES   16
#define SCR_BUCKET_BYTES 64
/* Addresses per bucket the writer aims at, as a fraction: 5/4 = 1.25 of 4
 * slots (31% full). With Poisson(1.25) keys per bucket, E[max(X-4,0)]/1.25
 * = 0.9% of keys find their home bucket full: > 99% sit at home. */
#define SCR_LOAD_NUM     5
#define SCR_LOAD_DEN     4
#define SCR_ATTR_BYTES   52
#define SCR_ATTR_STRINGS 12
#define SCR_REC_ALIGN    4
#define SCR_SET_BYTES    8 /* u32 count, u32 first index */
/* Seeds the writer tries before giving up (a fingerprint collision among
 * listed keys has probability ~ n^2 / 2^97 per seed: one retry is already
 * astronomically unlikely to be needed). */
#define SCR_MAX_SEEDS 64

/* Slot: u64 fingerprint (second hash), u32 high half of the first hash,
 * u32 attribution set + 1 (0 = empty). */
#define SLOT_FP64_AT 0
#define SLOT_FP32_AT 8
#define SLOT_SET_AT  12

/* Header field offsets. */
enum {
    H_MAGIC = 0,
    H_VERSION = 8,
    H_HEADER_SIZE = 12,
    H_FILE_SIZE = 16,
    H_ADDRESSES = 24,
    H_ATTRS = 32,
    H_BUCKETS = 40,
    H_SEED = 48,
    H_BUCKETS_OFF = 56,
    H_BUCKETS_SIZE = 64,
    H_RECORDS_OFF = 72,
    H_RECORDS_SIZE = 80,
    H_ATTRS_OFF = 88,
    H_ATTRS_SIZE = 96,
    H_STRINGS_OFF = 104,
    H_STRINGS_SIZE = 112,
    H_CREATED = 120,
    H_SHA256 = 128,
    H_SETS = 160,
    H_SETS_OFF = 168,
    H_SETS_SIZE = 176,
    H_SETIDX_OFF = 184,
    H_SETIDX_SIZE = 192,
    H_FLAGS = 200,
};
/* Header flags (u64 at H_FLAGS; files without it read 0). */
#define SCR_FLAG_FOLDED_KEYS 1 /* some key is a lower-case string that is no valid address */

/* Attribution record: string fields in this order, then confidence, flags. */
enum {
    A_ASSET,
    A_ENTITY,
    A_ACTOR,
    A_ACTOR_COUNTRY,
    A_CATEGORY,
    A_SOURCE_NAME,
    A_SOURCE_URL,
    A_SOURCE_DATE,
    A_FIRST_LISTED,
    A_LAST_LISTED,
    A_DELISTED_DATE,
    A_NOTE,
};
#define A_CONFIDENCE_AT 48
#define A_FLAGS_AT      49
#define A_FLAG_DELISTED 1

/* Record: u16 key length, u16 0, u32 set, key, NUL, pad to 4. */
#define REC_KEY_AT 8
static inline uint64_t scr_rec_size(uint64_t key_len) {
    return (REC_KEY_AT + key_len + 1 + SCR_REC_ALIGN - 1) & ~(uint64_t)(SCR_REC_ALIGN - 1);
}

static inline uint16_t scr_le16(const uint8_t *p) {
    return (uint16_t)(p[0] | p[1] << 8);
}
/* Whole-word loads (one instruction on little-endian hosts, a swap on
 * big-endian ones): the lookup path reads bucket words with these. */
static inline uint32_t scr_le32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}
static inline uint64_t scr_le64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}
static inline void scr_put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void scr_put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void scr_put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Bucket of a hash among n: the low 32 bits scaled to [0, n). */
static inline uint64_t scr_bucket_of(uint64_t h, uint64_t n) {
    return ((h & 0xffffffffULL) * n) >> 32;
}

/* A key's identity in the index: h1 = ch_screen_hash (its low 32 bits pick
 * the bucket, its high 32 bits are stored), h2 = a second, independent hash
 * of the same bytes (stored whole). Computed in one pass: two multiply
 * chains side by side over the same words, with other multipliers, another
 * start and another final mix for the second, so that its bits are
 * independent of the first lane's for keys not built against the hash. */
typedef struct scr_fp {
    uint64_t h1, h2;
} scr_fp;

#define SCR_K1 0x9e3779b97f4a7c15ULL /* 2^64 / golden ratio, odd */
#define SCR_K2 0xbf58476d1ce4e5b9ULL
#define SCR_K3 0x94d049bb133111ebULL

static inline uint64_t scr_load_word(const uint8_t *p, size_t n) {
    if (n == 8) return scr_le64(p); /* one load */
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* The last len (1..7) bytes of a key, p at the first of them, as
 * scr_load_word(p, len) reads them: when the key has 8 bytes or more (total),
 * one load of the 8 ending at its end, shifted down, instead of a loop. */
static inline uint64_t scr_load_tail(const uint8_t *p, size_t len, size_t total) {
    if (total >= 8) return scr_le64(p + len - 8) >> (8 * (8 - len));
    return scr_load_word(p, len);
}

#define SCR_L1    0xc2b2ae3d27d4eb4fULL /* the second lane's constants, all odd */
#define SCR_L2    0xff51afd7ed558ccdULL
#define SCR_L3    0xc4ceb9fe1a85ec53ULL
#define SCR_LSEED 0x2545f4914f6cdd1dULL

static inline scr_fp scr_fingerprint(const void *key, size_t len, uint64_t seed) {
    const uint8_t *p = key;
    const size_t total = len;
    uint64_t h = seed ^ ((uint64_t)len * SCR_K1);
    uint64_t g = (seed ^ SCR_LSEED) ^ ((uint64_t)len * SCR_L1);
    while (len >= 8) {
        uint64_t w = scr_load_word(p, 8);
        h = (h ^ w) * SCR_K1;
        g = (g ^ w) * SCR_L1;
        h ^= h >> 31;
        g ^= g >> 29;
        p += 8;
        len -= 8;
    }
    if (len) {
        uint64_t w = scr_load_tail(p, len, total);
        h = (h ^ w) * SCR_K1;
        g = (g ^ w) * SCR_L1;
        h ^= h >> 31;
        g ^= g >> 29;
    }
    h ^= h >> 30;
    h *= SCR_K2;
    h ^= h >> 27;
    h *= SCR_K3;
    h ^= h >> 31;
    g ^= g >> 33;
    g *= SCR_L2;
    g ^= g >> 33;
    g *= SCR_L3;
    g ^= g >> 33;
    return (scr_fp){h, g};
}

/* Format 3: h1 and h2 are the low and high 64 bits of XXH3-128 of the key
 * under the seed (XXH3_128bits_withSeed): a hash with a published spec and
 * ports in every language a wallet is written in (docs/screening-set.md).
 * Format 2 keeps scr_fingerprint above, read but no longer written by
 * default. */
static inline scr_fp scr_fingerprint_xxh3(const void *key, size_t len, uint64_t seed) {
    XXH128_hash_t h = XXH3_128bits_withSeed(key, len, seed);
    return (scr_fp){h.low64, h.high64};
}

#define SCR_VERSION_OLDEST 2 /* the oldest format this build reads */

/* The fingerprint of a key in a file of the given format version (2 or 3:
 * the reader has refused others at open). */
static inline scr_fp scr_fingerprint_of(uint32_t version, const void *key, size_t len,
                                        uint64_t seed) {
    return version == 2 ? scr_fingerprint(key, len, seed) : scr_fingerprint_xxh3(key, len, seed);
}

/* Test hook (writer only): when nonzero, the writer's collision check
 * compares only the low `bits` bits of h2 (and ignores h1's high half), so a
 * test can make it fire and watch the writer reseed, or give up. Files
 * written so are still exact: full fingerprints are stored and checked. */
struct ch_screen_writer;
void scr_writer_test_collide_bits(struct ch_screen_writer *w, unsigned bits);

#endif

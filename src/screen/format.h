/* Internal: the on-disk layout of a screening set (described in screen.h). */
#ifndef COINHOUND_SCREEN_FORMAT_H
#define COINHOUND_SCREEN_FORMAT_H

#include <stdint.h>
#include <string.h>

#define SCR_SLOTS        8 /* slots per 64-byte bucket */
#define SCR_BUCKET_BYTES 64
#define SCR_LOAD         5 /* addresses per bucket the writer aims at */
#define SCR_ATTR_BYTES   52
#define SCR_ATTR_STRINGS 12
#define SCR_REC_ALIGN    8

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
};

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

/* Record: u16 key length, u16 0, u32 count, key, NUL, pad to 4, indexes. */
#define REC_KEY_AT 8
static inline uint64_t scr_rec_index_at(uint64_t key_len) {
    return (REC_KEY_AT + key_len + 1 + 3) & ~(uint64_t)3;
}
static inline uint64_t scr_rec_size(uint64_t key_len, uint64_t count) {
    return (scr_rec_index_at(key_len) + 4 * count + SCR_REC_ALIGN - 1) &
           ~(uint64_t)(SCR_REC_ALIGN - 1);
}

static inline uint16_t scr_le16(const uint8_t *p) {
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t scr_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t scr_le64(const uint8_t *p) {
    return (uint64_t)scr_le32(p) | (uint64_t)scr_le32(p + 4) << 32;
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

#endif

/* An open-addressing hash map from 64-bit index keys to a small value: the
 * store's in-memory front of its LMDB indexes during ingest, so that the
 * common lookups (an input's previous tx, an output's address) cost a cache
 * miss rather than a B-tree descent. Internal to the store. */
#ifndef COINHOUND_STORE_HOTMAP_H
#define COINHOUND_STORE_HOTMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct st_hot_entry {
    uint64_t key; /* index key; 0 marks an empty slot (key 0 is remapped) */
    uint64_t aux; /* tx number and output count, or an address's last output */
    /* an address's id in the low 40 bits (CH_ID_BITS) and its flags in the
     * high 24; a tx's first output and check (append.c) */
    uint64_t idf;
} st_hot_entry;

/* flags: the owner's bits below ST_HOT_TAG_SHIFT, a batch tag above
 * (see append.c): ST_HOT_FLAG_BITS in all */
enum { ST_HOT_NEW = 1, ST_HOT_SHIFTED = 2, ST_HOT_TAG_SHIFT = 2, ST_HOT_FLAG_BITS = 24 };
#define ST_HOT_ID_MASK ((1ULL << (64 - ST_HOT_FLAG_BITS)) - 1)

static inline uint64_t st_hot_id(const st_hot_entry *e) {
    return e->idf & ST_HOT_ID_MASK;
}
static inline uint32_t st_hot_flags(const st_hot_entry *e) {
    return (uint32_t)(e->idf >> (64 - ST_HOT_FLAG_BITS));
}
static inline void st_hot_set_id(st_hot_entry *e, uint64_t id) {
    e->idf = (e->idf & ~ST_HOT_ID_MASK) | (id & ST_HOT_ID_MASK);
}
static inline void st_hot_set_flags(st_hot_entry *e, uint32_t flags) {
    e->idf = (e->idf & ST_HOT_ID_MASK) | (uint64_t)flags << (64 - ST_HOT_FLAG_BITS);
}

struct st_hot_warm;

typedef struct st_hotmap {
    st_hot_entry *slots;
    size_t mask; /* capacity - 1 (a power of two) */
    size_t count;
    struct st_hot_warm *warm; /* a large table's page population, or NULL (hotmap.c) */
} st_hotmap;

int st_hot_init(st_hotmap *m, size_t capacity_pow2);
void st_hot_free(st_hotmap *m);
void st_hot_clear(st_hotmap *m);
/* NULL when absent. */
st_hot_entry *st_hot_get(const st_hotmap *m, uint64_t key);
/* Insert or return the existing entry; NULL only on allocation failure. */
st_hot_entry *st_hot_put(st_hotmap *m, uint64_t key);

/* Make room for n entries in all, so that the next puts up to n do not
 * rehash the table (one allocation up front instead of several doublings). */
int st_hot_reserve(st_hotmap *m, size_t n);
/* Replace an empty table larger than cap slots (a power of two) by one of
 * cap slots, so that a table a large batch grew does not keep its size
 * once it is emptied; -1 (the table unchanged) on allocation failure. */
int st_hot_shrink(st_hotmap *m, size_t cap);
/* Zero the batch tag of every entry, keeping the owner's bits (an entry
 * moved off its key stays marked so: its match and its index key depend
 * on it). */
void st_hot_clear_flags(st_hotmap *m);

/* Key 0 is the empty marker; a real key of 0 is stored as this. */
#define ST_HOT_KEY(k) ((k) ? (k) : 0x9e3779b97f4a7c15ULL)

/* Start loading the slot where a lookup of key begins, without waiting for
 * it: a hint that lets many cache misses overlap. An entry is 24 bytes, so
 * it may straddle two cache lines; both are asked for. */
static inline void st_hot_prefetch(const st_hotmap *m, uint64_t key) {
    const st_hot_entry *e = &m->slots[ST_HOT_KEY(key) & m->mask];
    __builtin_prefetch(e);
    __builtin_prefetch((const char *)e + sizeof *e - 1);
}

#endif

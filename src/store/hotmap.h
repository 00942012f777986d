/* An open-addressing hash map from 64-bit index keys to a small value: the
 * store's in-memory front of its LMDB indexes during ingest, so that the
 * common lookups (an input's previous tx, an output's address) cost a cache
 * miss rather than a B-tree descent. Internal to the store. */
#ifndef COINHOUND_STORE_HOTMAP_H
#define COINHOUND_STORE_HOTMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ch_hot_entry {
    uint64_t key; /* LMDB key; 0 marks an empty slot (key 0 is remapped) */
    uint64_t aux; /* tx number, or an address's last output */
    uint32_t id;  /* address id */
    uint32_t flags;
} ch_hot_entry;

/* flags: the owner's bits below CH_HOT_TAG_SHIFT, a batch tag above
 * (see append.c) */
enum { CH_HOT_NEW = 1, CH_HOT_SHIFTED = 2, CH_HOT_TAG_SHIFT = 2 };

typedef struct ch_hotmap {
    ch_hot_entry *slots;
    size_t mask; /* capacity - 1 (a power of two) */
    size_t count;
} ch_hotmap;

int ch_hot_init(ch_hotmap *m, size_t capacity_pow2);
void ch_hot_free(ch_hotmap *m);
void ch_hot_clear(ch_hotmap *m);
/* NULL when absent. */
ch_hot_entry *ch_hot_get(const ch_hotmap *m, uint64_t key);
/* Insert or return the existing entry; NULL only on allocation failure. */
ch_hot_entry *ch_hot_put(ch_hotmap *m, uint64_t key);

/* Make room for n entries in all, so that the next puts up to n do not
 * rehash the table (one allocation up front instead of several doublings). */
int ch_hot_reserve(ch_hotmap *m, size_t n);
/* Zero the flags of every entry. */
void ch_hot_clear_flags(ch_hotmap *m);

/* Key 0 is the empty marker; a real key of 0 is stored as this. */
#define CH_HOT_KEY(k) ((k) ? (k) : 0x9e3779b97f4a7c15ULL)

/* Start loading the slot where a lookup of key begins, without waiting for
 * it: a hint that lets many cache misses overlap. An entry is 24 bytes, so
 * it may straddle two cache lines; both are asked for. */
static inline void ch_hot_prefetch(const ch_hotmap *m, uint64_t key) {
    const ch_hot_entry *e = &m->slots[CH_HOT_KEY(key) & m->mask];
    __builtin_prefetch(e);
    __builtin_prefetch((const char *)e + sizeof *e - 1);
}

#endif

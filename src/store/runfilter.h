/* A blocked Bloom filter over one sorted run's keys (the top 48 bits the
 * run keeps), so that a lookup skips every run that cannot hold its key:
 * most lookups of a growing store are of keys in one run (an older tx an
 * input spends) or in none (a new address), while the runs number about
 * log2 of the store's batches. Each key sets ST_FILTER_K bits of one 512-bit
 * block (one cache line), ST_FILTER_BITS bits a key: about 1% false
 * positives. Derived data: kept beside the run as <name>-<seq>.filter
 * with what ties it to its run (seq, entry count, a hash of the run's
 * first and last 4 KiB) and an XXH3-64 of its bits: a stale or damaged one
 * is built again from the run, never trusted (a filter that let a key of
 * its run through would make a stored tx or address look new). Internal
 * to the store. */
#ifndef COINHOUND_STORE_RUNFILTER_H
#define COINHOUND_STORE_RUNFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coinhound/error.h"

#define ST_FILTER_BITS 10 /* bits a key */

typedef struct st_filter {
    uint64_t *bits;  /* blocks of 8 words; NULL: no filter (every key may be there) */
    uint64_t blocks; /* 512-bit blocks */
    /* non-NULL: bits lie in this read-only mapping of the filter's file
     * (map_len bytes): page cache, not the writer's own memory, which
     * would otherwise grow 1.25 bytes an index key for the writer's life */
    void *map;
    size_t map_len;
} st_filter;

/* An empty filter sized for n keys (in memory, writable); -1 when out of
 * memory. */
int st_filter_init(st_filter *f, uint64_t n);
void st_filter_free(st_filter *f);
void st_filter_add(st_filter *f, uint64_t key48);

/* The block of key48: loads it ahead (st_filter_prefetch) or tests it. */
static inline const uint64_t *st_filter_block(const st_filter *f, uint64_t key48) {
    return f->bits + 8 * (uint64_t)(((unsigned __int128)key48 * f->blocks) >> 48);
}

static inline uint64_t st_filter_mix(uint64_t x) {
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ULL;
    x ^= x >> 27;
    x *= 0x81dadef4bc2dd44dULL;
    return x ^ (x >> 33);
}

#define ST_FILTER_K 7

/* May the run hold key48? false: certainly not. */
static inline bool st_filter_may(const st_filter *f, uint64_t key48) {
    if (!f->bits) return true;
    const uint64_t *b = st_filter_block(f, key48);
    uint64_t h = st_filter_mix(key48);
    for (int i = 0; i < ST_FILTER_K; i++, h >>= 9)
        if (!(b[(h >> 6) & 7] >> (h & 63) & 1)) return false;
    return true;
}

static inline void st_filter_prefetch(const st_filter *f, uint64_t key48) {
    if (f->bits) __builtin_prefetch(st_filter_block(f, key48));
}

/* A run's tag: XXH3-64 of its first bytes a (alen) then its last b. */
uint64_t st_filter_tag(const void *a, size_t alen, const void *b, size_t blen);
/* Load path's filter for the run seq of n entries and tag into f (mapped
 * from the file, read-only): 0, or -1 when it is missing, another run's,
 * or damaged (f then empty). */
int st_filter_load(st_filter *f, const char *path, uint64_t seq, uint64_t n, uint64_t tag);
/* Write f as path's filter for that run (a temporary file, renamed; not
 * synced: see runfilter.c). 0, or -1 with err set. Once written, f's bits
 * are read from the file's mapping and its memory is freed (when the file
 * cannot be mapped, f stays as it was). */
int st_filter_save(st_filter *f, const char *path, uint64_t seq, uint64_t n, uint64_t tag,
                   ch_error *err);

#endif

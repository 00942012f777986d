/* The small containers of the tracing engine: a u64 -> u32 hash map, a
 * binary min-heap and array growth. */
#include <stdlib.h>
#include <string.h>

#include "trace/trace_internal.h"
#include "util/bigmem.h"
#include "util/vec.h"

int tr_grow(void **p, size_t *cap, size_t need, size_t sz) {
    if (need <= *cap) return 0;
    void *q = ch_grow(*p, cap, need, sz); /* util/vec.h: sizes checked */
    if (!q) return -1;
    *p = q;
    return 0;
}

/* The length sits in front of the block, where tr_big_free finds it. */
#define BIG_HEAD 64

void *tr_big_alloc(size_t n, size_t sz) {
    if (n && sz > (SIZE_MAX - BIG_HEAD) / n) return NULL;
    size_t len = n * sz + BIG_HEAD;
    uint8_t *p = ch_big_alloc(len);
    if (!p) return NULL;
    memcpy(p, &len, sizeof len);
    return p + BIG_HEAD;
}

void tr_big_free(void *p) {
    if (!p) return;
    uint8_t *base = (uint8_t *)p - BIG_HEAD;
    size_t len;
    memcpy(&len, base, sizeof len);
    ch_big_free(base, len);
}

static int map_alloc(tr_map *m, size_t cap) {
    m->keys = malloc(cap * sizeof *m->keys);
    m->vals = malloc(cap * sizeof *m->vals);
    if (!m->keys || !m->vals) {
        free(m->keys);
        free(m->vals);
        m->keys = NULL;
        m->vals = NULL;
        return -1;
    }
    memset(m->keys, 0xff, cap * sizeof *m->keys); /* all UINT64_MAX: empty */
    m->cap = cap;
    m->n = 0;
    m->shift = 64;
    while (cap > 1) {
        cap >>= 1;
        m->shift--;
    }
    return 0;
}

int tr_map_init(tr_map *m, size_t hint) {
    size_t cap = 64;
    while (cap < hint * 2)
        cap *= 2;
    return map_alloc(m, cap);
}

void tr_map_free(tr_map *m) {
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static void put_nogrow(tr_map *m, uint64_t key, uint32_t val) {
    size_t mask = m->cap - 1;
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ULL) >> m->shift);
    while (m->keys[i] != UINT64_MAX && m->keys[i] != key)
        i = (i + 1) & mask;
    if (m->keys[i] == UINT64_MAX) m->n++;
    m->keys[i] = key;
    m->vals[i] = val;
}

int tr_map_put(tr_map *m, uint64_t key, uint32_t val) {
    /* values index a trace's arrays: the index 2^32-1 (TR_NONE) is refused
     * as out of memory, so a count past it fails, never wraps (2^32
     * elements of the smallest such array, 16 bytes, would be 64 GiB) */
    if (val == TR_NONE) return -1;
    if ((m->n + 1) * 2 > m->cap) { /* keep the load at most 1/2 */
        tr_map old = *m;
        if (map_alloc(m, old.cap * 2) != 0) {
            *m = old;
            return -1;
        }
        for (size_t i = 0; i < old.cap; i++)
            if (old.keys[i] != UINT64_MAX) put_nogrow(m, old.keys[i], old.vals[i]);
        free(old.keys);
        free(old.vals);
    }
    put_nogrow(m, key, val);
    return 0;
}

/* A 4-ary heap: half the levels of a binary one, and the four children of
 * a node share a cache line. */
int tr_heap_push(tr_heap *h, tr_hkey x) {
    if (tr_grow((void **)&h->v, &h->cap, h->n + 1, sizeof *h->v) != 0) return -1;
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 4;
        if (h->v[p] <= x) break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = x;
    return 0;
}

tr_hkey tr_heap_pop(tr_heap *h) {
    tr_hkey top = h->v[0], x = h->v[--h->n];
    size_t i = 0, n = h->n;
    for (;;) {
        size_t c = 4 * i + 1, end = c + 4 < n ? c + 4 : n;
        if (c >= n) break;
        size_t best = c;
        for (size_t k = c + 1; k < end; k++)
            if (h->v[k] < h->v[best]) best = k;
        if (x <= h->v[best]) break;
        h->v[i] = h->v[best];
        i = best;
    }
    if (n > 0) h->v[i] = x;
    return top;
}

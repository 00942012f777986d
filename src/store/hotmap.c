#include "store/hotmap.h"

#include "util/bigmem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Lookups land on random slots of a table of tens of MB: see bigmem.c. */
static st_hot_entry *alloc_slots(size_t cap) {
    return ch_big_alloc(cap * sizeof(st_hot_entry));
}

static void free_slots(st_hot_entry *slots, size_t cap) {
    ch_big_free(slots, cap * sizeof(st_hot_entry));
}

int st_hot_init(st_hotmap *m, size_t cap) {
    memset(m, 0, sizeof *m);
    m->slots = alloc_slots(cap);
    if (!m->slots) return -1;
    m->mask = cap - 1;
    return 0;
}

void st_hot_free(st_hotmap *m) {
    free_slots(m->slots, m->mask + 1);
    memset(m, 0, sizeof *m);
}

void st_hot_clear(st_hotmap *m) {
    memset(m->slots, 0, (m->mask + 1) * sizeof *m->slots);
    m->count = 0;
}

/* Keys are already uniformly distributed (they are hash prefixes), so the
 * low bits index the table directly. */
st_hot_entry *st_hot_get(const st_hotmap *m, uint64_t key) {
    key = ST_HOT_KEY(key);
    for (size_t i = (size_t)key & m->mask;; i = (i + 1) & m->mask) {
        st_hot_entry *e = &m->slots[i];
        if (e->key == key) return e;
        if (e->key == 0) return NULL;
    }
}

/* Rehash into a table of cap slots (a power of two, larger). */
static int rehash(st_hotmap *m, size_t cap) {
    st_hotmap bigger;
    if (st_hot_init(&bigger, cap) != 0) return -1;
    for (size_t i = 0; i <= m->mask; i++) {
        if (m->slots[i].key == 0) continue;
        size_t j = (size_t)m->slots[i].key & bigger.mask;
        while (bigger.slots[j].key)
            j = (j + 1) & bigger.mask;
        bigger.slots[j] = m->slots[i];
        bigger.count++;
    }
    free_slots(m->slots, m->mask + 1);
    *m = bigger;
    return 0;
}

/* at most half full: misses (every new item is one) stay short */
static bool fits(const st_hotmap *m, size_t n) {
    return n * 2 <= m->mask + 1;
}

int st_hot_reserve(st_hotmap *m, size_t n) {
    size_t cap = m->mask + 1;
    while (cap / 2 < n) {
        if (cap > SIZE_MAX / 2 / sizeof(st_hot_entry)) return -1;
        cap *= 2;
    }
    return cap == m->mask + 1 ? 0 : rehash(m, cap);
}

int st_hot_shrink(st_hotmap *m, size_t cap) {
    if (m->count || m->mask + 1 <= cap) return 0;
    st_hotmap smaller;
    if (st_hot_init(&smaller, cap) != 0) return -1;
    st_hot_free(m);
    *m = smaller;
    return 0;
}

void st_hot_clear_flags(st_hotmap *m) {
    for (size_t i = 0; i <= m->mask; i++)
        st_hot_set_flags(&m->slots[i], 0);
}

st_hot_entry *st_hot_put(st_hotmap *m, uint64_t key) {
    key = ST_HOT_KEY(key);
    if (!fits(m, m->count + 1) && rehash(m, (m->mask + 1) * 2) != 0) return NULL;
    for (size_t i = (size_t)key & m->mask;; i = (i + 1) & m->mask) {
        st_hot_entry *e = &m->slots[i];
        if (e->key == key) return e;
        if (e->key == 0) {
            memset(e, 0, sizeof *e);
            e->key = key;
            m->count++;
            return e;
        }
    }
}

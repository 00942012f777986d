#include "store/hotmap.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Lookups land on random slots of a table of tens of MB, so each costs a
 * cache miss and, with 4 KiB pages, a TLB miss too: large tables are mapped
 * anonymously and offered to transparent huge pages. */
#define HUGE_FROM (2u << 20)

static ch_hot_entry *alloc_slots(size_t cap) {
    size_t bytes = cap * sizeof(ch_hot_entry);
    if (bytes < HUGE_FROM) return calloc(cap, sizeof(ch_hot_entry));
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    madvise(p, bytes, MADV_HUGEPAGE);
    return p;
}

static void free_slots(ch_hot_entry *slots, size_t cap) {
    size_t bytes = cap * sizeof(ch_hot_entry);
    if (!slots) return;
    if (bytes < HUGE_FROM)
        free(slots);
    else
        munmap(slots, bytes);
}

int ch_hot_init(ch_hotmap *m, size_t cap) {
    memset(m, 0, sizeof *m);
    m->slots = alloc_slots(cap);
    if (!m->slots) return -1;
    m->mask = cap - 1;
    return 0;
}

void ch_hot_free(ch_hotmap *m) {
    free_slots(m->slots, m->mask + 1);
    memset(m, 0, sizeof *m);
}

void ch_hot_clear(ch_hotmap *m) {
    memset(m->slots, 0, (m->mask + 1) * sizeof *m->slots);
    m->count = 0;
}

/* Keys are already uniformly distributed (they are hash prefixes), so the
 * low bits index the table directly. */
ch_hot_entry *ch_hot_get(const ch_hotmap *m, uint64_t key) {
    key = CH_HOT_KEY(key);
    for (size_t i = (size_t)key & m->mask;; i = (i + 1) & m->mask) {
        ch_hot_entry *e = &m->slots[i];
        if (e->key == key) return e;
        if (e->key == 0) return NULL;
    }
}

static int grow(ch_hotmap *m) {
    ch_hotmap bigger;
    if (ch_hot_init(&bigger, (m->mask + 1) * 2) != 0) return -1;
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

ch_hot_entry *ch_hot_put(ch_hotmap *m, uint64_t key) {
    key = CH_HOT_KEY(key);
    /* at most half full: misses (every new item is one) stay short */
    if ((m->count + 1) * 2 > m->mask + 1 && grow(m) != 0) return NULL;
    for (size_t i = (size_t)key & m->mask;; i = (i + 1) & m->mask) {
        ch_hot_entry *e = &m->slots[i];
        if (e->key == key) return e;
        if (e->key == 0) {
            memset(e, 0, sizeof *e);
            e->key = key;
            m->count++;
            return e;
        }
    }
}

#include "store/hotmap.h"

#include <stdlib.h>
#include <string.h>

int ch_hot_init(ch_hotmap *m, size_t cap) {
    memset(m, 0, sizeof *m);
    m->slots = calloc(cap, sizeof *m->slots);
    if (!m->slots) return -1;
    m->mask = cap - 1;
    return 0;
}

void ch_hot_free(ch_hotmap *m) {
    free(m->slots);
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
    free(m->slots);
    *m = bigger;
    return 0;
}

ch_hot_entry *ch_hot_put(ch_hotmap *m, uint64_t key) {
    key = CH_HOT_KEY(key);
    if ((m->count + 1) * 4 > (m->mask + 1) * 3 && grow(m) != 0) return NULL;
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

#include "store/hotmap.h"

#include "util/bigmem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* A large table's pages are made resident by a thread of their own.
 * Random keys touch every page of a table within its first few thousand
 * puts, and the first touch of each costs the kernel's zeroing of it:
 * measured on the benchmark VM, 0.04 s for the 288 MB of a 2M-tx chain's
 * tables when the host already backs the memory, 0.8 s when it does not,
 * all of it in the store's thread, the critical path of an ingest. The
 * thread only asks the kernel to fault the pages in (MADV_POPULATE_WRITE:
 * no byte is read or written), so the writer may fill the table at the
 * same time; it stops and is joined before the table is unmapped. */
#define WARM_FROM (16u << 20)
#define WARM_STEP (2u << 20)

typedef struct st_hot_warm {
    pthread_t th;
    char *p;
    size_t len;
    atomic_bool stop;
} st_hot_warm;

static void *warm_main(void *arg) {
    st_hot_warm *w = arg;
#ifdef MADV_POPULATE_WRITE
    for (size_t off = 0; off < w->len && !atomic_load(&w->stop); off += WARM_STEP) {
        size_t n = w->len - off < WARM_STEP ? w->len - off : WARM_STEP;
        if (madvise(w->p + off, n, MADV_POPULATE_WRITE) != 0) break; /* an old kernel */
    }
#endif
    return NULL;
}

/* NULL when the table is small or no thread can start: it is then warmed
 * by its first touches, as any memory. */
static st_hot_warm *warm_start(void *p, size_t len) {
    if (len < WARM_FROM) return NULL;
    st_hot_warm *w = malloc(sizeof *w);
    if (!w) return NULL;
    w->p = p;
    w->len = len;
    atomic_init(&w->stop, false);
    if (pthread_create(&w->th, NULL, warm_main, w) != 0) {
        free(w);
        return NULL;
    }
    return w;
}

static void warm_stop(st_hot_warm *w) {
    if (!w) return;
    atomic_store(&w->stop, true);
    pthread_join(w->th, NULL);
    free(w);
}

/* Lookups land on random slots of a table of tens of MB: see bigmem.c. */
static int alloc_slots(st_hotmap *m, size_t cap) {
    m->slots = ch_big_alloc(cap * sizeof(st_hot_entry));
    if (!m->slots) return -1;
    m->warm = warm_start(m->slots, cap * sizeof(st_hot_entry));
    return 0;
}

static void free_slots(st_hotmap *m) {
    warm_stop(m->warm);
    m->warm = NULL;
    ch_big_free(m->slots, (m->mask + 1) * sizeof(st_hot_entry));
}

int st_hot_init(st_hotmap *m, size_t cap) {
    memset(m, 0, sizeof *m);
    if (alloc_slots(m, cap) != 0) return -1;
    m->mask = cap - 1;
    return 0;
}

void st_hot_free(st_hotmap *m) {
    if (m->slots) free_slots(m);
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
    free_slots(m);
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
    const uint32_t owner = (1u << ST_HOT_TAG_SHIFT) - 1;
    for (size_t i = 0; i <= m->mask; i++)
        st_hot_set_flags(&m->slots[i], st_hot_flags(&m->slots[i]) & owner);
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

/* A long-lived writer's mappings filled at its start (ch_store_warm_maps).
 *
 * Why: a process that has just mapped the store has no page-table entry
 * for any of it, so its first blocks' look-ups fault on nearly every page
 * they touch, even with the whole store in the page cache: a watcher's
 * first block of 3,000 txs on a 10.5M-tx store took some 8,000 minor
 * faults in its adds, the tenth still 100-200, where later blocks take
 * about 50 (docs/watch.md, "Latency"). Filling the tables once at the
 * start (about 0.3 ms a cached MB) moves that cost off the first blocks'
 * path. Only what the page cache holds is mapped (mincore): nothing is
 * read from the disk, and a store larger than the memory is not read
 * whole. Nothing on disk changes. */
#include "store/store_internal.h"

#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux 5.14 */
#endif

/* The span asked of mincore at a time. */
#define SPAN (2u << 20)
#define PAGE 4096u

/* Map [p, p + n) into the page tables: one call where the kernel has
 * MADV_POPULATE_READ, else a read of a byte a page. */
static void populate(const uint8_t *p, size_t n) {
    if (madvise((void *)p, n, MADV_POPULATE_READ) == 0) return;
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < n; i += PAGE)
        sink ^= p[i];
    (void)sink;
}

/* The cached pages of [map, map + len) mapped, up to *left bytes (taken
 * from it). */
static void warm_range(const uint8_t *map, size_t len, uint64_t *left) {
    unsigned char vec[SPAN / PAGE];
    for (size_t at = 0; at < len && *left; at += SPAN) {
        size_t n = len - at < SPAN ? len - at : SPAN;
        size_t pages = (n + PAGE - 1) / PAGE;
        if (mincore((void *)(map + at), n, vec) != 0) return;
        /* each run of cached pages in one call */
        for (size_t p = 0; p < pages && *left;) {
            if (!(vec[p] & 1)) {
                p++;
                continue;
            }
            size_t q = p;
            while (q < pages && (vec[q] & 1) && (uint64_t)(q - p + 1) * PAGE <= *left)
                q++;
            if (q == p) return;
            size_t bytes = (q - p) * PAGE;
            if (at + p * PAGE + bytes > len) bytes = len - at - p * PAGE;
            populate(map + at + p * PAGE, bytes);
            *left -= bytes < *left ? bytes : *left;
            p = q;
        }
    }
}

static void warm_runs(const st_runs *r, uint64_t *left) {
    for (size_t i = r->n; i-- > 0 && *left;)
        if (r->v[i].map) warm_range(r->v[i].map, r->v[i].n * ST_RUN_REC, left);
}

uint64_t ch_store_warm_maps(ch_store *s, uint64_t max_bytes) {
    if (!s->writable) return 0;
    uint64_t left = max_bytes;
    /* in the order a block's look-ups reach them: the runs (newest
     * first), the tx records, the outputs an input spends, the address
     * records; then the rest */
    warm_runs(&s->txid_runs, &left);
    warm_runs(&s->addr_runs, &left);
    static const int order[] = {COL_TXS,   COL_OUTS,    COL_ADDRS20, COL_ADDRS32,
                                COL_TXIDS, COL_HEADS20, COL_HEADS32, COL_OUTPREV,
                                COL_INS,   COL_TXVIN,   COL_BLOCKS};
    for (size_t i = 0; i < sizeof order / sizeof *order && left; i++) {
        const st_col *c = &s->col[order[i]];
        if (c->map && !c->cold) warm_range(c->map, c->map_len, &left);
    }
    return max_bytes - left;
}

#include "util/bigmem.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* A page fault costs microseconds (about 2.5 us a 4 KiB page on the
 * benchmark VM), and a random read of a large table is a TLB miss as well
 * as a cache miss. Buffers of 2 MiB or more are therefore mapped
 * anonymously and offered to transparent huge pages: a fault per 2 MiB
 * instead of per 4 KiB, and one TLB entry for as much. Smaller ones come
 * from malloc. */
#define HUGE_FROM (2u << 20)

void *ch_big_alloc(size_t bytes) {
    if (bytes < HUGE_FROM) return calloc(1, bytes ? bytes : 1);
    /* no reserve: a buffer sized to a bound (one slot per output of the
     * chain) may be far larger than the part that is ever touched */
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED) return NULL;
    madvise(p, bytes, MADV_HUGEPAGE);
    return p;
}

void ch_big_free(void *p, size_t bytes) {
    if (!p) return;
    if (bytes < HUGE_FROM)
        free(p);
    else
        munmap(p, bytes);
}

/* A large buffer moves by copying to a fresh mapping rather than by
 * mremap, which could leave it at an address that is not huge-page aligned
 * (and so split into small pages). A small one is realloc'ed to exactly the
 * size asked: the caller chose it (ch_grow cannot, it knows no mappings). */
void *ch_big_grow(void *p, size_t old, size_t bytes) {
    if (bytes < HUGE_FROM) return realloc(p, bytes);
    void *q = ch_big_alloc(bytes);
    if (!q) return NULL;
    if (p) memcpy(q, p, old);
    ch_big_free(p, old);
    return q;
}

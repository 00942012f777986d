/* Blocked Bloom filters over the runs' keys (see runfilter.h). */
#include "store/runfilter.h"

#include "store/derived.h"
#include "util/bigmem.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The file: a derived head (derived.h), then the blocks. The head is 64
 * bytes, so that the blocks of a mapped file are each one cache line
 * (version 1's header was 48 bytes: such a file fails the magic check and
 * is built again). */
static const char MAGIC[8] = {'C', 'H', 'R', 'U', 'N', 'F', 'L', '2'};

static uint64_t blocks_for(uint64_t n) {
    uint64_t b = (n * ST_FILTER_BITS + 511) / 512;
    return b ? b : 1;
}

int st_filter_init(st_filter *f, uint64_t n) {
    f->blocks = blocks_for(n);
    f->map = NULL;
    f->map_len = 0;
    f->bits = ch_big_alloc(f->blocks * 64);
    return f->bits ? 0 : -1;
}

void st_filter_free(st_filter *f) {
    if (f->map)
        munmap(f->map, f->map_len);
    else if (f->bits)
        ch_big_free(f->bits, f->blocks * 64);
    f->bits = NULL;
    f->blocks = 0;
    f->map = NULL;
    f->map_len = 0;
}

void st_filter_add(st_filter *f, uint64_t key48) {
    uint64_t *b = (uint64_t *)st_filter_block(f, key48);
    uint64_t h = st_filter_mix(key48);
    for (int i = 0; i < ST_FILTER_K; i++, h >>= 9)
        b[(h >> 6) & 7] |= 1ULL << (h & 63);
}

uint64_t st_filter_tag(const void *a, size_t alen, const void *b, size_t blen) {
    XXH3_state_t st;
    XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, a, alen);
    XXH3_64bits_update(&st, b, blen);
    return XXH3_64bits_digest(&st);
}

int st_filter_load(st_filter *f, const char *path, uint64_t seq, uint64_t n, uint64_t tag) {
    *f = (st_filter){NULL, 0, NULL, 0};
    st_derived_head want = st_derived_head_for(MAGIC, seq, n, tag, blocks_for(n));
    size_t len;
    void *m = st_derived_load(path, &want, 64, &len);
    if (!m) return -1;
    /* the hash read every page in; the lookups read one block each */
    *f = (st_filter){(uint64_t *)((uint8_t *)m + sizeof want), want.count, m, len};
    return 0;
}

int st_filter_save(st_filter *f, const char *path, uint64_t seq, uint64_t n, uint64_t tag,
                   ch_error *err) {
    st_derived_head h = st_derived_head_for(MAGIC, seq, n, tag, f->blocks);
    int fd = st_derived_write(path, &h, f->bits, f->blocks * 64, err);
    if (fd < 0) return -1;
    /* read from the file from now on (its pages are in the page cache,
     * just written); the memory it was built in is freed */
    if (!f->map) {
        size_t len = sizeof h + f->blocks * 64;
        void *m = st_derived_map(fd, len);
        if (m) {
            ch_big_free(f->bits, f->blocks * 64);
            f->map = m;
            f->map_len = len;
            f->bits = (uint64_t *)((uint8_t *)m + sizeof h);
        }
    }
    close(fd);
    return 0;
}

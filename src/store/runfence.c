/* Fences of the sorted runs, saved beside them (see runfence.h). */
#include "store/runfence.h"

#include "store/derived.h"
#include "store/runs.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The file: this header, then the fences (native-endian 64-bit keys). */
typedef struct fence_head {
    char magic[8]; /* "CHRUNFC1" */
    uint64_t seq, n, tag, count;
    uint64_t hash; /* XXH3-64 of the fences */
    uint64_t zero[2];
} fence_head;
CH_STATIC_ASSERT(sizeof(fence_head) == 64, "a fence file's header is 64 bytes");

static const char MAGIC[8] = {'C', 'H', 'R', 'U', 'N', 'F', 'C', '1'};

uint64_t st_fence_count(uint64_t n) {
    return (n + ST_RUN_FENCE - 1) / ST_RUN_FENCE;
}

void st_fence_free(st_fences *f) {
    if (f->map) munmap(f->map, f->map_len);
    *f = (st_fences){NULL, 0, NULL, 0};
}

/* What a fence file's head must say for the run (fence_want): its size,
 * or 0 when it names another run or is not a fence file. */
typedef struct fence_want {
    uint64_t seq, n, tag;
} fence_want;

static uint64_t fence_head_ok(const void *head, const void *ctx) {
    const fence_head *h = head;
    const fence_want *w = ctx;
    uint64_t count = st_fence_count(w->n);
    if (memcmp(h->magic, MAGIC, 8) != 0 || h->seq != w->seq || h->n != w->n || h->tag != w->tag ||
        h->count != count || h->zero[0] || h->zero[1])
        return 0;
    return sizeof *h + count * 8;
}

int st_fence_load(st_fences *f, const char *path, uint64_t seq, uint64_t n, uint64_t tag) {
    *f = (st_fences){NULL, 0, NULL, 0};
    fence_head h = {0};
    fence_want w = {seq, n, tag};
    size_t len;
    void *m = st_derived_load(path, &h, sizeof h, &h.hash, fence_head_ok, &w, &len);
    if (!m) return -1;
    *f = (st_fences){(const uint64_t *)((const uint8_t *)m + sizeof h), h.count, m, len};
    return 0;
}

int st_fence_save(st_fences *f, const char *path, uint64_t seq, uint64_t n, uint64_t tag,
                  const uint64_t *keys, ch_error *err) {
    *f = (st_fences){NULL, 0, NULL, 0};
    uint64_t count = st_fence_count(n);
    fence_head h = {0};
    memset(&h, 0, sizeof h);
    memcpy(h.magic, MAGIC, 8);
    h.seq = seq;
    h.n = n;
    h.tag = tag;
    h.count = count;
    h.hash = XXH3_64bits(keys, count * 8);
    int fd = st_derived_write(path, &h, sizeof h, keys, count * 8, err);
    if (fd < 0) return -1;
    size_t len = sizeof h + count * 8;
    void *m = st_derived_map(fd, len);
    close(fd);
    if (!m) return ch_err(err, "%s: mmap: %s", path, strerror(errno));
    *f = (st_fences){(const uint64_t *)((const uint8_t *)m + sizeof h), count, m, len};
    return 0;
}

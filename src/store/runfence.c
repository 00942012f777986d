/* Fences of the sorted runs, saved beside them (see runfence.h). */
#include "store/runfence.h"

#include "store/derived.h"
#include "store/runs.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The file: a derived head (derived.h), then the fences (native-endian
 * 64-bit keys). */
static const char MAGIC[8] = {'C', 'H', 'R', 'U', 'N', 'F', 'C', '1'};

uint64_t st_fence_count(uint64_t n) {
    return (n + ST_RUN_FENCE - 1) / ST_RUN_FENCE;
}

void st_fence_free(st_fences *f) {
    if (f->map) munmap(f->map, f->map_len);
    *f = (st_fences){NULL, 0, NULL, 0};
}

int st_fence_load(st_fences *f, const char *path, uint64_t seq, uint64_t n, uint64_t tag) {
    *f = (st_fences){NULL, 0, NULL, 0};
    st_derived_head want = st_derived_head_for(MAGIC, seq, n, tag, st_fence_count(n));
    size_t len;
    void *m = st_derived_load(path, &want, 8, &len);
    if (!m) return -1;
    *f = (st_fences){(const uint64_t *)((const uint8_t *)m + sizeof want), want.count, m, len};
    return 0;
}

int st_fence_save(st_fences *f, const char *path, uint64_t seq, uint64_t n, uint64_t tag,
                  const uint64_t *keys, ch_error *err) {
    *f = (st_fences){NULL, 0, NULL, 0};
    uint64_t count = st_fence_count(n);
    st_derived_head h = st_derived_head_for(MAGIC, seq, n, tag, count);
    int fd = st_derived_write(path, &h, keys, count * 8, err);
    if (fd < 0) return -1;
    size_t len = sizeof h + count * 8;
    void *m = st_derived_map(fd, len);
    close(fd);
    if (!m) return ch_err(err, "%s: mmap: %s", path, strerror(errno));
    *f = (st_fences){(const uint64_t *)((const uint8_t *)m + sizeof h), count, m, len};
    return 0;
}

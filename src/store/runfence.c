/* Fences of the sorted runs, saved beside them (see runfence.h). */
#include "store/runfence.h"

#include "store/runs.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
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

/* The file fd of len bytes mapped read-only, or NULL. A lookup's binary
 * search over the fences starts at the same middle keys every time: they
 * stay cached; no read-ahead past what is touched. */
static void *map_file(int fd, size_t len) {
    void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) return NULL;
    madvise(m, len, MADV_RANDOM);
    return m;
}

void st_fence_free(st_fences *f) {
    if (f->map) munmap(f->map, f->map_len);
    *f = (st_fences){NULL, 0, NULL, 0};
}

int st_fence_load(st_fences *f, const char *path, uint64_t seq, uint64_t n, uint64_t tag) {
    *f = (st_fences){NULL, 0, NULL, 0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    fence_head h;
    struct stat st;
    uint64_t count = st_fence_count(n);
    ssize_t got = pread(fd, &h, sizeof h, 0);
    if (got != (ssize_t)sizeof h || fstat(fd, &st) != 0 || memcmp(h.magic, MAGIC, 8) != 0 ||
        h.seq != seq || h.n != n || h.tag != tag || h.count != count || h.zero[0] || h.zero[1] ||
        (uint64_t)st.st_size != sizeof h + count * 8) {
        close(fd);
        return -1;
    }
    size_t len = (size_t)st.st_size;
    void *m = map_file(fd, len);
    close(fd);
    if (!m) return -1;
    const uint64_t *keys = (const uint64_t *)((const uint8_t *)m + sizeof h);
    if (XXH3_64bits(keys, count * 8) != h.hash) {
        munmap(m, len);
        return -1;
    }
    *f = (st_fences){keys, count, m, len};
    return 0;
}

/* All of len bytes of p written to fd: 0, or an errno. */
static int write_all(int fd, const void *p, size_t len) {
    const uint8_t *q = p;
    while (len > 0) {
        ssize_t k = write(fd, q, len);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return k < 0 ? errno : ENOSPC;
        q += k;
        len -= (size_t)k;
    }
    return 0;
}

int st_fence_save(st_fences *f, const char *path, uint64_t seq, uint64_t n, uint64_t tag,
                  const uint64_t *keys, ch_error *err) {
    *f = (st_fences){NULL, 0, NULL, 0};
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    uint64_t count = st_fence_count(n);
    fence_head h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, MAGIC, 8);
    h.seq = seq;
    h.n = n;
    h.tag = tag;
    h.count = count;
    h.hash = XXH3_64bits(keys, count * 8);
    int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644); /* read: mapped after */
    if (fd < 0) return ch_err(err, "%s: %s", tmp, strerror(errno));
    int failed = write_all(fd, &h, sizeof h);
    if (!failed) failed = write_all(fd, keys, count * 8);
    /* not synced, as a filter is not (runfilter.c): a cut or missing file
     * fails its checks at the next open and is built again */
    if (!failed && rename(tmp, path) != 0) failed = errno;
    if (failed) {
        close(fd);
        unlink(tmp);
        return ch_err(err, "%s: writing: %s", path, strerror(failed));
    }
    size_t len = sizeof h + count * 8;
    void *m = map_file(fd, len);
    close(fd);
    if (!m) return ch_err(err, "%s: mmap: %s", path, strerror(errno));
    *f = (st_fences){(const uint64_t *)((const uint8_t *)m + sizeof h), count, m, len};
    return 0;
}

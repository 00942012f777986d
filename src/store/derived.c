/* Files derived from a sorted run (see derived.h). */
#include "store/derived.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int st_derived_open(const char *path, void *head, size_t head_len, uint64_t *size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    ssize_t got;
    do
        got = pread(fd, head, head_len, 0);
    while (got < 0 && errno == EINTR);
    if (got != (ssize_t)head_len || fstat(fd, &st) != 0) {
        close(fd);
        return -1;
    }
    *size = (uint64_t)st.st_size;
    return fd;
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

int st_derived_write(const char *path, const void *head, size_t head_len, const void *body,
                     size_t body_len, ch_error *err) {
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644); /* read: mapped after */
    if (fd < 0) return ch_err(err, "%s: %s", tmp, strerror(errno));
    int failed = write_all(fd, head, head_len);
    if (!failed) failed = write_all(fd, body, body_len);
    if (!failed && rename(tmp, path) != 0) failed = errno;
    if (failed) {
        close(fd);
        unlink(tmp);
        return ch_err(err, "%s: writing: %s", path, strerror(failed));
    }
    return fd;
}

void *st_derived_load(const char *path, void *head, size_t head_len, const uint64_t *hash,
                      uint64_t (*ok)(const void *head, const void *ctx), const void *ctx,
                      size_t *len) {
    uint64_t size;
    int fd = st_derived_open(path, head, head_len, &size);
    if (fd < 0) return NULL;
    uint64_t want = ok(head, ctx);
    void *m = want && size == want ? st_derived_map(fd, (size_t)size) : NULL;
    close(fd);
    if (!m) return NULL;
    if (XXH3_64bits((const uint8_t *)m + head_len, (size_t)size - head_len) != *hash) {
        munmap(m, (size_t)size);
        return NULL;
    }
    *len = (size_t)size;
    return m;
}

void *st_derived_map(int fd, size_t len) {
    void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) return NULL;
    madvise(m, len, MADV_RANDOM);
    return m;
}

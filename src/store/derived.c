/* Files derived from a sorted run (see derived.h). */
#include "store/derived.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

st_derived_head st_derived_head_for(const char magic[8], uint64_t seq, uint64_t n, uint64_t tag,
                                    uint64_t count) {
    st_derived_head h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, magic, 8);
    h.seq = seq;
    h.n = n;
    h.tag = tag;
    h.count = count;
    return h;
}

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

int st_derived_write(const char *path, const st_derived_head *head, const void *body,
                     size_t body_len, ch_error *err) {
    st_derived_head h = *head;
    h.hash = XXH3_64bits(body, body_len);
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644); /* read: mapped after */
    if (fd < 0) return ch_err(err, "%s: %s", tmp, strerror(errno));
    int failed = write_all(fd, &h, sizeof h);
    if (!failed) failed = write_all(fd, body, body_len);
    if (!failed && rename(tmp, path) != 0) failed = errno;
    if (failed) {
        close(fd);
        unlink(tmp);
        return ch_err(err, "%s: writing: %s", path, strerror(failed));
    }
    return fd;
}

/* A head that names want's kind, run and count, with its zero fields 0. */
static bool head_is(const st_derived_head *h, const st_derived_head *want) {
    return memcmp(h->magic, want->magic, 8) == 0 && h->seq == want->seq && h->n == want->n &&
           h->tag == want->tag && h->count == want->count && !h->zero[0] && !h->zero[1];
}

void *st_derived_load(const char *path, const st_derived_head *want, size_t unit, size_t *len) {
    st_derived_head h;
    uint64_t size;
    int fd = st_derived_open(path, &h, sizeof h, &size);
    if (fd < 0) return NULL;
    bool ok = head_is(&h, want) && size == sizeof h + want->count * unit;
    void *m = ok ? st_derived_map(fd, (size_t)size) : NULL;
    close(fd);
    if (!m) return NULL;
    if (XXH3_64bits((const uint8_t *)m + sizeof h, (size_t)size - sizeof h) != h.hash) {
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

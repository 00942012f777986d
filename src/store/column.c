#include "store/column.h"

#include "util/bigmem.h"
#include "util/ioerr.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The committed records, mapped shared (writable for a writer: the spent
 * marks and address heads are stores into it, not a pwrite each). A grown
 * column keeps its mapping (mremap): the pages already mapped need no
 * fault again after each commit. */
static int remap(st_col *c, ch_error *err) {
    size_t want = (size_t)(c->n_committed * c->rec);
    if (want == c->map_len) return 0;
    if (c->map && want) {
        void *m = mremap(c->map, c->map_len, want, MREMAP_MAYMOVE);
        if (m != MAP_FAILED) {
            c->map = m;
            c->map_len = want;
            return 0;
        }
    }
    if (c->map) munmap(c->map, c->map_len);
    c->map = NULL;
    c->map_len = 0;
    if (want == 0) return 0;
    int prot = PROT_READ | (c->writable ? PROT_WRITE : 0);
    void *m = mmap(NULL, want, prot, MAP_SHARED, c->fd, 0);
    if (m == MAP_FAILED) return ch_err(err, "%s: mmap: %s", c->path, strerror(errno));
    /* (mremap above keeps the advice: the mapping stays one region) */
    if (c->small_pages) madvise(m, want, MADV_RANDOM);
    c->map = m;
    c->map_len = want;
    return 0;
}

/* Pending records are read back at random during ingest (an input's
 * source tx and output, an address's record): see bigmem.c. */
static void pend_free(st_col *c) {
    ch_big_free(c->pend, c->pend_cap * c->rec);
    c->pend = NULL;
    c->pend_cap = 0;
}

/* Reads of fd no longer update its access time (O_NOATIME). A column is
 * written at every commit, so under relatime (atime older than mtime) the
 * first read after each commit updated the inode's atime (a journalled
 * inode update), and every pread went through the time checks (2.7% of
 * the samples of an ingest past its memory bound; not seen in its totals:
 * docs/store.md, "The miss path's reads"). Refused (EPERM) unless the process owns the file: reads
 * then update the access time as before. */
static void fd_noatime(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) (void)fcntl(fd, F_SETFL, fl | O_NOATIME);
}

int st_col_open(st_col *c, const char *path, size_t rec, uint64_t n_committed, bool writable,
                ch_error *err) {
    memset(c, 0, sizeof *c);
    c->rec = rec;
    c->fd = -1;
    strncpy(c->path, path, sizeof c->path - 1);
    c->fd = open(path, writable ? O_RDWR | O_CREAT | O_CLOEXEC : O_RDONLY | O_CLOEXEC, 0644);
    if (c->fd < 0) return ch_err(err, "%s: %s", path, strerror(errno));
    fd_noatime(c->fd);
    struct stat st;
    if (fstat(c->fd, &st) != 0) return ch_err(err, "%s: %s", path, strerror(errno));
    uint64_t have = (uint64_t)st.st_size / rec;
    if (have < n_committed)
        return ch_err(err, "%s: holds %llu records but the index says %llu were committed", path,
                      (unsigned long long)have, (unsigned long long)n_committed);
    if (writable && (uint64_t)st.st_size != n_committed * rec &&
        ftruncate(c->fd, (off_t)(n_committed * rec)) != 0)
        return ch_err(err, "%s: cutting uncommitted tail: %s", path, strerror(errno));
    c->n_committed = n_committed;
    c->writable = writable;
    return remap(c, err);
}

int st_col_remap_to(st_col *c, uint64_t n, ch_error *err) {
    struct stat st;
    if (fstat(c->fd, &st) != 0) return ch_err(err, "%s: %s", c->path, strerror(errno));
    if ((uint64_t)st.st_size / c->rec < n)
        return ch_err(err, "%s: holds %llu records but the index says %llu were committed", c->path,
                      (unsigned long long)((uint64_t)st.st_size / c->rec), (unsigned long long)n);
    c->n_committed = n;
    return remap(c, err);
}

void st_col_close(st_col *c) {
    if (c->map) munmap(c->map, c->map_len);
    if (c->fd >= 0) close(c->fd);
    pend_free(c);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

uint64_t st_col_append(st_col *c, const void *rec) {
    if (c->pend_n == c->pend_cap) { /* not ch_grow: a big block lives in huge pages */
        uint64_t cap = c->pend_cap ? c->pend_cap * 2 : 4096;
        uint8_t *p = ch_big_grow(c->pend, c->pend_cap * c->rec, cap * c->rec);
        if (!p) return UINT64_MAX;
        c->pend = p;
        c->pend_cap = cap;
    }
    memcpy(c->pend + c->pend_n * c->rec, rec, c->rec);
    return c->n_committed + c->pend_n++;
}

int st_col_patch(st_col *c, uint64_t i, size_t off, const void *data, size_t len, ch_error *err) {
    if (i >= c->n_committed) {
        memcpy((uint8_t *)st_col_at(c, i) + off, data, len);
        return 0;
    }
    /* committed records are already allocated on disk: a store into the
     * mapping cannot run out of space (no write error to name) */
    if (!c->writable) return ch_err(err, "%s: opened read-only", c->path);
    memcpy(c->map + i * c->rec + off, data, len);
    return 0;
}

static int write_all(int fd, const uint8_t *p, size_t len, off_t off) {
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, off);
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) errno = ENOSPC; /* a write that takes nothing: the disk is full */
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

/* Page-cache pages a small-pages column is held in (st_col_small_pages). */
#define SMALL_PAGE 4096u

int st_col_write(st_col *c, ch_error *err) {
    if (c->fd < 0 || c->pend_n == 0) return 0; /* nothing, or a column not kept */
    size_t len = (size_t)(c->pend_n * c->rec);
    off_t off = (off_t)(c->n_committed * c->rec);
    /* a small-pages column: each write within one page, so that the page
     * cache makes 4 KiB folios of what it appends */
    size_t step = c->small_pages ? SMALL_PAGE : len;
    for (size_t done = 0; done < len;) {
        off_t at = off + (off_t)done;
        size_t n = step - (size_t)(at % (off_t)step);
        if (n > len - done) n = len - done;
        if (write_all(c->fd, c->pend + done, n, at) != 0)
            return ch_io_err(err, c->path, "write", NULL, errno);
        done += n;
    }
    /* a hint: the disk starts on it now, so that the fdatasync to come finds
     * less to wait for (its own errors are fdatasync's to report) */
    sync_file_range(c->fd, off, (off_t)len, SYNC_FILE_RANGE_WRITE);
    return 0;
}

/* The span that st_col_small_pages drops and reads back at a time: the
 * largest folio the page cache makes of a file. */
#define SMALL_SPAN (2u << 20)

/* Read [at, at + n) of c's file into buf (the bytes are not kept: only
 * the page cache's copy matters). 0, or -1 with errno. */
static int read_span(const st_col *c, uint8_t *buf, off_t at, size_t n) {
    for (size_t done = 0; done < n;) {
        ssize_t k = pread(c->fd, buf + done, n - done, at + (off_t)done);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            if (k == 0) errno = EIO;
            return -1;
        }
        done += (size_t)k;
    }
    return 0;
}

int st_col_small_pages(st_col *c, ch_error *err) {
    if (c->fd < 0 || !c->writable || c->small_pages) return 0;
    c->small_pages = true;
    if (c->map) madvise(c->map, c->map_len, MADV_RANDOM);
    if (posix_fadvise(c->fd, 0, 0, POSIX_FADV_RANDOM) != 0) return 0; /* a hint: no harm */
    /* only what the page cache holds is dropped and read back (a store
     * larger than the memory is never read whole): mincore of the mapping
     * says which pages; the rest comes in 4 KiB pages when first read */
    uint8_t *buf = malloc(SMALL_SPAN);
    unsigned char vec[SMALL_SPAN / SMALL_PAGE];
    if (!buf) return ch_err(err, "out of memory");
    int rc = 0;
    for (size_t at = 0; at < c->map_len && rc == 0; at += SMALL_SPAN) {
        size_t n = c->map_len - at < SMALL_SPAN ? c->map_len - at : SMALL_SPAN;
        size_t pages = (n + SMALL_PAGE - 1) / SMALL_PAGE, cached = 0;
        if (mincore(c->map + at, n, vec) != 0) memset(vec, 1, pages); /* unknown: all */
        for (size_t p = 0; p < pages; p++)
            cached += vec[p] & 1;
        if (!cached) continue;
        /* clean (a dirty page is not dropped), unmapped here, dropped */
        sync_file_range(c->fd, (off_t)at, (off_t)n,
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                            SYNC_FILE_RANGE_WAIT_AFTER);
        madvise(c->map + at, n, MADV_DONTNEED);
        posix_fadvise(c->fd, (off_t)at, (off_t)n, POSIX_FADV_DONTNEED);
        /* the pages that were cached read back without readahead (4 KiB
         * folios), a run of them at a time */
        for (size_t p = 0; p < pages && rc == 0;) {
            if (!(vec[p] & 1)) {
                p++;
                continue;
            }
            size_t q = p;
            while (q < pages && (vec[q] & 1))
                q++;
            size_t from = p * SMALL_PAGE, to = q * SMALL_PAGE < n ? q * SMALL_PAGE : n;
            if (read_span(c, buf, (off_t)(at + from), to - from) != 0)
                rc = ch_io_err(err, c->path, "read", NULL, errno);
            p = q;
        }
    }
    free(buf);
    return rc;
}

int st_col_sync(st_col *c, ch_error *err) {
    if (c->fd < 0) return 0;
    if (fdatasync(c->fd) != 0) return ch_io_err(err, c->path, "fdatasync", NULL, errno);
    return 0;
}

int st_col_publish(st_col *c, ch_error *err) {
    c->n_committed += c->pend_n;
    c->pend_n = 0;
    /* keep the buffer for the next batch unless it grew very large */
    if (c->pend_cap * c->rec > (64u << 20)) pend_free(c);
    return remap(c, err);
}

void st_col_discard(st_col *c) {
    c->pend_n = 0;
}

int st_col_truncate(st_col *c, uint64_t n, ch_error *err) {
    c->pend_n = 0;
    if (n > c->n_committed) return ch_err(err, "%s: cannot extend by truncation", c->path);
    c->n_committed = n;
    if (c->fd < 0) return 0;
    /* a shrinking mapping is made again: mremap would keep the cut pages'
     * stores pending against a shorter file */
    if (c->map) munmap(c->map, c->map_len);
    c->map = NULL;
    c->map_len = 0;
    if (remap(c, err) != 0) return -1;
    if (ftruncate(c->fd, (off_t)(n * c->rec)) != 0)
        return ch_err(err, "%s: truncate: %s", c->path, strerror(errno));
    return 0;
}

int st_col_pread(const st_col *c, uint64_t i, void *out) {
    if (c->fd < 0) return -1;
    ssize_t n = pread(c->fd, out, c->rec, (off_t)(i * c->rec));
    return n == (ssize_t)c->rec ? 0 : -1;
}

int st_col_pread_n(const st_col *c, uint64_t i, uint64_t n, void *out) {
    if (c->fd < 0) return -1;
    ssize_t k = pread(c->fd, out, n * c->rec, (off_t)(i * c->rec));
    return k == (ssize_t)(n * c->rec) ? 0 : -1;
}

int st_col_read_any(const st_col *c, uint64_t i, void *out) {
    if (i < st_col_count(c)) {
        memcpy(out, st_col_at(c, i), c->rec);
        return 0;
    }
    if (c->fd < 0) return -1;
    ssize_t n = pread(c->fd, out, c->rec, (off_t)(i * c->rec));
    return n == (ssize_t)c->rec ? 0 : -1;
}

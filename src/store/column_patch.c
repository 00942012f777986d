/* In-place writes of committed records in batches (st_col_patch_many, see
 * column.h): a commit's spent marks and address heads. */
#include "store/column.h"

#include "util/bigmem.h"
#include "util/ioerr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE 4096u
/* Pages between two edits that still share a span: reading and writing
 * them back costs less than another pair of system calls. */
#define SPAN_GAP (4u * PAGE)
/* The largest span, and so the buffer. */
#define SPAN_MAX (1u << 20)

/* LSD radix sort on the record number, 11 bits a pass, as many passes as
 * the largest number needs; stable. -1 when out of memory. */
static int sort_edits(st_col_edit *v, size_t n) {
    uint64_t most = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i].i > most) most = v[i].i;
    int passes = 0;
    while (most >> (11 * passes))
        passes++;
    if (passes == 0 || n < 2) return 0;
    st_col_edit *tmp = ch_big_alloc(n * sizeof *tmp), *src = v, *dst = tmp;
    if (!tmp) return -1;
    size_t count[2048];
    for (int p = 0; p < passes; p++) {
        int shift = 11 * p;
        memset(count, 0, sizeof count);
        for (size_t i = 0; i < n; i++)
            count[(src[i].i >> shift) & 2047]++;
        size_t sum = 0;
        for (int b = 0; b < 2048; b++) {
            size_t c = count[b];
            count[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[(src[i].i >> shift) & 2047]++] = src[i];
        st_col_edit *t = src;
        src = dst;
        dst = t;
    }
    if (src != v) memcpy(v, src, n * sizeof *v);
    ch_big_free(tmp, n * sizeof *tmp);
    return 0;
}

static int pread_all(int fd, uint8_t *p, size_t len, off_t off) {
    while (len > 0) {
        ssize_t k = pread(fd, p, len, off);
        if (k < 0 && errno == EINTR) continue;
        if (k == 0) errno = EIO; /* the file is shorter than its committed records */
        if (k <= 0) return -1;
        p += k;
        len -= (size_t)k;
        off += k;
    }
    return 0;
}

static int pwrite_all(int fd, const uint8_t *p, size_t len, off_t off) {
    while (len > 0) {
        ssize_t k = pwrite(fd, p, len, off);
        if (k < 0 && errno == EINTR) continue;
        if (k == 0) errno = ENOSPC;
        if (k <= 0) return -1;
        p += k;
        len -= (size_t)k;
        off += k;
    }
    return 0;
}

/* Edits [k, j) into buf, which holds the column's bytes from file offset
 * base: v stored as a uint32_t or a uint64_t would be (len 4 or 8), in
 * order (of two edits of one record the later wins). Returns j. */
static size_t apply_edits(const st_col *c, const st_col_edit *edits, size_t k, size_t j, size_t off,
                          size_t len, uint8_t *buf, uint64_t base) {
    for (; k < j; k++) {
        uint8_t *at = buf + (edits[k].i * c->rec + off - base);
        uint32_t v32 = (uint32_t)edits[k].v;
        if (len == 4)
            memcpy(at, &v32, 4);
        else
            memcpy(at, &edits[k].v, len);
    }
    return j;
}

/* st_col_patch_many for a column held in 4 KiB folios (st_col_small_pages):
 * the edits of each page (sorted, so adjacent) in one pwrite of the bytes
 * from its first edit to its last, taken from the mapping (the page is
 * cached) and patched, which dirties that page alone, where a span's
 * pwrite would dirty every page it covers. Not stores into the writable
 * mapping: each such page's write-back must then write-protect it in this
 * process again (folio_mkclean), one TLB shootdown of every core the
 * process runs on apiece, and the next store to it faults; perf put that
 * at 39% of a watcher's samples on 3,001-tx blocks (the commit's marks and
 * heads, some 10,000 pages a block), its IPIs interrupting the thread that
 * reads the next block. A page read through the mapping stays mapped
 * read-only, which write-back leaves alone. */
static int patch_small_pages(st_col *c, const st_col_edit *edits, size_t n, size_t off, size_t len,
                             ch_error *err) {
    uint8_t buf[PAGE];
    for (size_t k = 0; k < n;) {
        uint64_t lo = edits[k].i * c->rec + off, page = lo & ~(uint64_t)(PAGE - 1);
        uint64_t hi = lo + len;
        size_t j = k + 1;
        for (; j < n; j++) { /* the edits that lie wholly in this page */
            uint64_t b = edits[j].i * c->rec + off;
            if (b + len > page + PAGE) break;
            if (b + len > hi) hi = b + len;
        }
        /* hi - lo <= PAGE: the first edit may cross into the next page
         * (len bytes at most), every other one ends in this page */
        memcpy(buf, c->map + lo, (size_t)(hi - lo));
        k = apply_edits(c, edits, k, j, off, len, buf, lo);
        if (pwrite_all(c->fd, buf, (size_t)(hi - lo), (off_t)lo) != 0)
            return ch_io_err(err, c->path, "write", NULL, errno);
    }
    return 0;
}

int st_col_patch_many(st_col *c, st_col_edit *edits, size_t n, size_t off, size_t len,
                      ch_error *err) {
    if (n == 0) return 0;
    if (!c->writable || c->fd < 0) return ch_err(err, "%s: opened read-only", c->path);
    if (len > sizeof edits->v || off + len > c->rec)
        return ch_err(err, "%s: a patch of %zu bytes at %zu does not fit a record", c->path, len,
                      off);
    if (sort_edits(edits, n) != 0) return ch_err(err, "out of memory");
    if (edits[n - 1].i >= c->n_committed)
        return ch_err(err, "%s: patch of record %llu past the %llu committed", c->path,
                      (unsigned long long)edits[n - 1].i, (unsigned long long)c->n_committed);
    if (c->small_pages && c->map) return patch_small_pages(c, edits, n, off, len, err);
    uint64_t file_end = c->n_committed * c->rec;
    uint8_t *buf = malloc(SPAN_MAX + PAGE);
    if (!buf) return ch_err(err, "out of memory");
    int rc = 0;
    for (size_t k = 0; k < n && rc == 0;) {
        uint64_t first = edits[k].i * c->rec + off;
        uint64_t start = first & ~(uint64_t)(PAGE - 1);
        uint64_t end = (first + len + PAGE - 1) & ~(uint64_t)(PAGE - 1);
        size_t j = k + 1;
        for (; j < n; j++) {
            uint64_t b = edits[j].i * c->rec + off;
            uint64_t e = (b + len + PAGE - 1) & ~(uint64_t)(PAGE - 1);
            if ((b & ~(uint64_t)(PAGE - 1)) > end + SPAN_GAP || e - start > SPAN_MAX) break;
            if (e > end) end = e;
        }
        if (end > file_end) end = file_end;
        size_t span = (size_t)(end - start);
        if (pread_all(c->fd, buf, span, (off_t)start) != 0) {
            rc = ch_io_err(err, c->path, "read", NULL, errno);
            break;
        }
        k = apply_edits(c, edits, k, j, off, len, buf, start);
        if (pwrite_all(c->fd, buf, span, (off_t)start) != 0)
            rc = ch_io_err(err, c->path, "write", NULL, errno);
    }
    free(buf);
    return rc;
}

/* Blocked Bloom filters over the runs' keys (see runfilter.h). */
#include "store/runfilter.h"

#include "util/bigmem.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The file: this header, then the blocks. */
typedef struct filter_head {
    char magic[8]; /* "CHRUNFL1" */
    uint64_t seq, n, tag, blocks;
    uint64_t hash; /* XXH3-64 of the blocks */
} filter_head;

static const char MAGIC[8] = {'C', 'H', 'R', 'U', 'N', 'F', 'L', '1'};

static uint64_t blocks_for(uint64_t n) {
    uint64_t b = (n * ST_FILTER_BITS + 511) / 512;
    return b ? b : 1;
}

int st_filter_init(st_filter *f, uint64_t n) {
    f->blocks = blocks_for(n);
    f->bits = ch_big_alloc(f->blocks * 64);
    return f->bits ? 0 : -1;
}

void st_filter_free(st_filter *f) {
    if (f->bits) ch_big_free(f->bits, f->blocks * 64);
    f->bits = NULL;
    f->blocks = 0;
}

void st_filter_add(st_filter *f, uint64_t key48) {
    uint64_t *b = (uint64_t *)st_filter_block(f, key48);
    uint64_t h = st_filter_mix(key48);
    for (int i = 0; i < ST_FILTER_K; i++, h >>= 9)
        b[(h >> 6) & 7] |= 1ULL << (h & 63);
}

static int read_all(int fd, void *p, size_t len, off_t off) {
    uint8_t *q = p;
    while (len > 0) {
        ssize_t k = pread(fd, q, len, off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        q += k;
        len -= (size_t)k;
        off += k;
    }
    return 0;
}

uint64_t st_filter_tag(const void *a, size_t alen, const void *b, size_t blen) {
    XXH3_state_t st;
    XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, a, alen);
    XXH3_64bits_update(&st, b, blen);
    return XXH3_64bits_digest(&st);
}

int st_filter_load(st_filter *f, const char *path, uint64_t seq, uint64_t n, uint64_t tag) {
    f->bits = NULL;
    f->blocks = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    filter_head h;
    struct stat st;
    uint64_t blocks = blocks_for(n);
    if (fstat(fd, &st) != 0 || read_all(fd, &h, sizeof h, 0) != 0 ||
        memcmp(h.magic, MAGIC, 8) != 0 || h.seq != seq || h.n != n || h.tag != tag ||
        h.blocks != blocks || (uint64_t)st.st_size != sizeof h + blocks * 64 ||
        st_filter_init(f, n) != 0) {
        close(fd);
        return -1;
    }
    int rc = read_all(fd, f->bits, blocks * 64, sizeof h);
    close(fd);
    if (rc != 0 || XXH3_64bits(f->bits, blocks * 64) != h.hash) {
        st_filter_free(f);
        return -1;
    }
    return 0;
}

int st_filter_save(const st_filter *f, const char *path, uint64_t seq, uint64_t n, uint64_t tag,
                   ch_error *err) {
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    filter_head h;
    memcpy(h.magic, MAGIC, 8);
    h.seq = seq;
    h.n = n;
    h.tag = tag;
    h.blocks = f->blocks;
    h.hash = XXH3_64bits(f->bits, f->blocks * 64);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return ch_err(err, "%s: %s", tmp, strerror(errno));
    const uint8_t *parts[2] = {(const uint8_t *)&h, (const uint8_t *)f->bits};
    size_t lens[2] = {sizeof h, f->blocks * 64};
    int failed = 0;
    for (int i = 0; i < 2 && !failed; i++) {
        size_t off = 0;
        while (off < lens[i] && !failed) {
            ssize_t k = write(fd, parts[i] + off, lens[i] - off);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0)
                failed = k < 0 ? errno : ENOSPC;
            else
                off += (size_t)k;
        }
    }
    /* not synced: a file a crash cut short or left unwritten fails its
     * size or hash check at the next open and is built again, and a sync
     * would cost the commit (one a block, in the watcher) a disk flush
     * more for each new run */
    close(fd);
    if (!failed && rename(tmp, path) != 0) failed = errno;
    if (failed) {
        unlink(tmp);
        return ch_err(err, "%s: writing: %s", path, strerror(failed));
    }
    return 0;
}

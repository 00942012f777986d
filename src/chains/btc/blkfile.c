/* Bitcoin Core's block files: blocks/blkNNNNN.dat holds records of network
 * magic (4 bytes), block size (4 bytes, little-endian) and the block, in
 * arrival order. Core preallocates files, so zeros may follow the last
 * record. Since Core 28, xor.dat holds an 8-byte key and every byte of a
 * blk file is XORed with key[file_offset % 8].
 *
 * Files are read with pread, one file descriptor open at a time: a mainnet
 * node has thousands of blk files, more than a process may keep open. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chains/btc/btc_internal.h"

#define RECORD_HEAD  8 /* magic + size */
#define HEADER_BYTES 80

/* Magic of each Bitcoin network, as the bytes appear in the file, in
 * ch_btc_net order. */
static const uint8_t MAGICS[CH_BTC_NET_COUNT][4] = {
    {0xf9, 0xbe, 0xb4, 0xd9}, /* mainnet */
    {0x0b, 0x11, 0x09, 0x07}, /* testnet3 */
    {0x1c, 0x16, 0x3f, 0x28}, /* testnet4 */
    {0x0a, 0x03, 0xcf, 0x40}, /* signet */
    {0xfa, 0xbf, 0xb5, 0xda}, /* regtest */
};

typedef struct blk_file {
    uint32_t no;
    char *path;
} blk_file;

struct ch_blkdir {
    char *dir;
    uint8_t key[8];
    bool obfuscated;
    blk_file *files;
    uint32_t n_files;
    uint8_t magic[4]; /* fixed by the first record seen */
    bool have_magic;
    ch_btc_net net; /* the network of that magic */
    int fd;         /* the one open file, or -1 */
    uint32_t fd_no;
};

/* "blk" + at least five digits + ".dat"; *no gets the number. */
static bool blk_name(const char *name, uint32_t *no) {
    if (strncmp(name, "blk", 3)) return false;
    const char *p = name + 3;
    uint64_t v = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 9) {
        v = v * 10 + (uint64_t)(*p++ - '0');
        digits++;
    }
    if (digits < 5 || strcmp(p, ".dat")) return false;
    *no = (uint32_t)v;
    return true;
}

static int cmp_file(const void *a, const void *b) {
    uint32_t x = ((const blk_file *)a)->no, y = ((const blk_file *)b)->no;
    return x < y ? -1 : x > y;
}

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s/%s", dir, name);
    return s;
}

static int read_key(ch_blkdir *d, ch_error *err) {
    char *path = join(d->dir, "xor.dat");
    if (!path) return ch_err(err, "out of memory");
    int rc = 0;
    FILE *f = fopen(path, "rb");
    if (f) {
        uint8_t extra;
        size_t n = fread(d->key, 1, 8, f);
        if (n != 8 || fread(&extra, 1, 1, f) != 0)
            rc = ch_err(err, "%s: expected an 8-byte key", path);
        fclose(f);
    } else if (errno != ENOENT) {
        rc = ch_err(err, "%s: %s", path, strerror(errno));
    }
    for (int i = 0; i < 8 && rc == 0; i++)
        if (d->key[i]) d->obfuscated = true;
    free(path);
    return rc;
}

static int list_files(ch_blkdir *d, ch_error *err) {
    DIR *dir = opendir(d->dir);
    if (!dir) return ch_err(err, "%s: %s", d->dir, strerror(errno));
    size_t cap = 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(dir)) && rc == 0) {
        uint32_t no;
        if (!blk_name(e->d_name, &no)) continue;
        if (btc_grow((void **)&d->files, &cap, (size_t)d->n_files + 1, sizeof *d->files) < 0) {
            rc = ch_err(err, "out of memory");
            break;
        }
        char *path = join(d->dir, e->d_name);
        if (!path) {
            rc = ch_err(err, "out of memory");
            break;
        }
        d->files[d->n_files++] = (blk_file){no, path};
    }
    closedir(dir);
    if (rc == 0 && d->n_files == 0) rc = ch_err(err, "%s: no blk?????.dat files", d->dir);
    if (rc == 0) qsort(d->files, d->n_files, sizeof *d->files, cmp_file);
    return rc;
}

int ch_blkdir_open(const char *dir, ch_blkdir **out, ch_error *err) {
    *out = NULL;
    ch_blkdir *d = calloc(1, sizeof *d);
    if (!d || !(d->dir = strdup(dir))) {
        free(d);
        return ch_err(err, "out of memory");
    }
    d->fd = -1;
    if (read_key(d, err) < 0 || list_files(d, err) < 0) {
        ch_blkdir_close(d);
        return -1;
    }
    *out = d;
    return 0;
}

void ch_blkdir_close(ch_blkdir *d) {
    if (!d) return;
    if (d->fd >= 0) close(d->fd);
    for (uint32_t i = 0; i < d->n_files; i++)
        free(d->files[i].path);
    free(d->files);
    free(d->dir);
    free(d);
}

const char *btc_blkdir_dir(const ch_blkdir *d) {
    return d->dir;
}

ch_btc_net btc_blkdir_net(const ch_blkdir *d) {
    return d->have_magic ? d->net : CH_BTC_NET_COUNT;
}

uint32_t ch_blkdir_file_count(const ch_blkdir *d) {
    return d->n_files;
}

static const blk_file *find_file(const ch_blkdir *d, uint32_t no) {
    size_t lo = 0, hi = d->n_files;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (d->files[mid].no == no) return &d->files[mid];
        if (d->files[mid].no < no)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *ch_blkdir_path(const ch_blkdir *d, uint32_t file_no) {
    const blk_file *f = find_file(d, file_no);
    return f ? f->path : NULL;
}

/* The descriptor of blk file `no`, reusing the open one when it matches. */
static int file_fd(ch_blkdir *d, const blk_file *f, ch_error *err) {
    if (d->fd >= 0 && d->fd_no == f->no) return d->fd;
    if (d->fd >= 0) close(d->fd);
    d->fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (d->fd < 0) return ch_err(err, "%s: %s", f->path, strerror(errno));
    d->fd_no = f->no;
    return d->fd;
}

static void unxor(const ch_blkdir *d, uint8_t *buf, size_t n, uint64_t offset) {
    if (!d->obfuscated) return;
    for (size_t i = 0; i < n; i++)
        buf[i] ^= d->key[(offset + i) % 8];
}

/* pread all n bytes as stored; a short read is reported as truncation. */
static int read_raw(ch_blkdir *d, const blk_file *f, uint8_t *buf, size_t n, uint64_t offset,
                    const char *what, ch_error *err) {
    int fd = file_fd(d, f, err);
    if (fd < 0) return -1;
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, buf + got, n - got, (off_t)(offset + got));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0)
            return ch_err(err, "%s: read at offset %llu: %s", f->path, (unsigned long long)offset,
                          strerror(errno));
        if (r == 0)
            return ch_err(err,
                          "%s: truncated %s at offset %llu: expected %zu bytes, file ends "
                          "after %zu",
                          f->path, what, (unsigned long long)offset, n, got);
        got += (size_t)r;
    }
    return 0;
}

/* read_raw, then de-obfuscate. */
static int read_at(ch_blkdir *d, const blk_file *f, uint8_t *buf, size_t n, uint64_t offset,
                   const char *what, ch_error *err) {
    if (read_raw(d, f, buf, n, offset, what, err) < 0) return -1;
    unxor(d, buf, n, offset);
    return 0;
}

int ch_blkdir_read(ch_blkdir *d, const ch_blk_pos *pos, uint8_t **buf, size_t *cap, ch_error *err) {
    const blk_file *f = find_file(d, pos->file_no);
    if (!f) return ch_err(err, "%s: no blk%05u.dat", d->dir, pos->file_no);
    /* pos may come from a saved index, not a scan: a size no record can
     * have (Core never serializes more than 32 MiB, its MAX_SIZE) is
     * refused before any memory is asked for it. */
    if (pos->size < HEADER_BYTES || pos->size > BTC_MAX_SIZE)
        return ch_err(err, "%s: a block record of %u bytes at offset %llu: not a block's size",
                      f->path, pos->size, (unsigned long long)pos->offset);
    if (btc_grow((void **)buf, cap, pos->size, 1) < 0)
        return ch_err(err, "out of memory for a %u-byte block", pos->size);
    return read_at(d, f, *buf, pos->size, pos->offset, "block", err);
}

/* Is buf (read at offset, de-obfuscated) zero padding? Core preallocates
 * raw zeros, which de-obfuscate to the key, so both views count. */
static bool padding_view(const ch_blkdir *d, const uint8_t *buf, size_t n, uint64_t offset,
                         bool *plain_zero, bool *raw_zero) {
    for (size_t i = 0; i < n; i++) {
        uint8_t k = d->obfuscated ? d->key[(offset + i) % 8] : 0;
        if (buf[i]) *plain_zero = false;
        if (buf[i] != k) *raw_zero = false;
    }
    return *plain_zero || *raw_zero;
}

/* The rest of a file from `offset` on must be padding. */
static int check_padding(ch_blkdir *d, const blk_file *f, uint64_t offset, uint64_t size,
                         ch_error *err) {
    uint8_t buf[65536];
    bool plain_zero = true, raw_zero = true;
    for (uint64_t off = offset; off < size;) {
        size_t n = size - off < sizeof buf ? (size_t)(size - off) : sizeof buf;
        if (read_at(d, f, buf, n, off, "padding", err) < 0) return -1;
        if (!padding_view(d, buf, n, off, &plain_zero, &raw_zero))
            return ch_err(err,
                          "%s: bad magic in zero padding: data follows the zeros that "
                          "start at offset %llu",
                          f->path, (unsigned long long)offset);
        off += n;
    }
    return 0;
}

/* Check a record's magic; the first record of the directory picks the
 * network, every later one must agree. */
static int check_magic(ch_blkdir *d, const blk_file *f, const uint8_t *m, uint64_t off,
                       ch_error *err) {
    if (d->have_magic) {
        if (!memcmp(m, d->magic, 4)) return 0;
        return ch_err(err,
                      "%s: bad magic %02x%02x%02x%02x at offset %llu (expected "
                      "%02x%02x%02x%02x)",
                      f->path, m[0], m[1], m[2], m[3], (unsigned long long)off, d->magic[0],
                      d->magic[1], d->magic[2], d->magic[3]);
    }
    for (size_t i = 0; i < sizeof MAGICS / sizeof MAGICS[0]; i++) {
        if (!memcmp(m, MAGICS[i], 4)) {
            memcpy(d->magic, m, 4);
            d->have_magic = true;
            d->net = (ch_btc_net)i;
            return 0;
        }
    }
    return ch_err(err,
                  "%s: bad magic %02x%02x%02x%02x at offset %llu (expected f9beb4d9 or "
                  "another Bitcoin network's)",
                  f->path, m[0], m[1], m[2], m[3], (unsigned long long)off);
}

/* Walk one blk file's records (magic, size, header) from byte `off` on,
 * handing each block's place to fn: what the block index and the best
 * chain are built from (see btc_blkdir_scan_file for tolerant and strict);
 * *end gets where the next scan starts. */
static int scan_file(ch_blkdir *d, const blk_file *f, uint64_t off, bool tolerant, btc_blk_visit fn,
                     void *ctx, uint64_t *end, ch_error *err) {
    int fd = file_fd(d, f, err);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) < 0) return ch_err(err, "%s: %s", f->path, strerror(errno));
    uint64_t size = (uint64_t)st.st_size;
    uint8_t head[RECORD_HEAD + HEADER_BYTES];
    *end = off;
    while (off < size) {
        uint64_t rest = size - off;
        size_t n = rest < sizeof head ? (size_t)rest : sizeof head;
        if (read_at(d, f, head, n, off, "record", err) < 0) return -1;
        bool plain_zero = true, raw_zero = true;
        if (padding_view(d, head, n < 4 ? n : 4, off, &plain_zero, &raw_zero))
            return tolerant ? 0 : check_padding(d, f, off, size, err);
        /* a record Core has not finished writing: the next scan reads it */
        if (tolerant && (n < RECORD_HEAD || btc_le32(head + 4) > rest - RECORD_HEAD)) return 0;
        if (n < RECORD_HEAD)
            return ch_err(err,
                          "%s: truncated record at offset %llu: expected 8 bytes of magic "
                          "and size, file ends after %zu",
                          f->path, (unsigned long long)off, n);
        if (check_magic(d, f, head, off, err) < 0) return -1;
        uint32_t bsize = btc_le32(head + 4);
        if (bsize < HEADER_BYTES)
            return ch_err(err,
                          "%s: corrupt record at offset %llu: size %u is smaller than a "
                          "block header",
                          f->path, (unsigned long long)off, bsize);
        if (bsize > BTC_MAX_SIZE)
            return ch_err(err,
                          "%s: corrupt record at offset %llu: size %u is more than any block "
                          "(%u bytes)",
                          f->path, (unsigned long long)off, bsize, BTC_MAX_SIZE);
        if (bsize > rest - RECORD_HEAD)
            return ch_err(err,
                          "%s: truncated record at offset %llu: size says %u bytes but the "
                          "file has %llu left",
                          f->path, (unsigned long long)off, bsize,
                          (unsigned long long)(rest - RECORD_HEAD));
        ch_blk_pos pos = {f->no, off + RECORD_HEAD, bsize};
        if (fn(ctx, &pos, head + RECORD_HEAD, err) < 0) return -1;
        off += RECORD_HEAD + bsize;
        *end = off;
    }
    return 0;
}

int btc_blkdir_scan(ch_blkdir *d, btc_blk_visit fn, void *ctx, ch_error *err) {
    uint64_t end;
    for (uint32_t i = 0; i < d->n_files; i++)
        if (scan_file(d, &d->files[i], 0, false, fn, ctx, &end, err) < 0) return -1;
    return 0;
}

int btc_blkdir_scan_file(ch_blkdir *d, uint32_t i, uint64_t from, bool tolerant, btc_blk_visit fn,
                         void *ctx, uint64_t *end, ch_error *err) {
    if (i >= d->n_files) return ch_err(err, "%s: no blk file #%u", d->dir, i);
    return scan_file(d, &d->files[i], from, tolerant, fn, ctx, end, err);
}

uint32_t btc_blkdir_file_no(const ch_blkdir *d, uint32_t i) {
    return d->files[i].no;
}

const uint8_t *btc_blkdir_key(const ch_blkdir *d) {
    return d->key;
}

const uint8_t *btc_blkdir_magic(const ch_blkdir *d) {
    return d->have_magic ? d->magic : NULL;
}

int btc_blkdir_set_magic(ch_blkdir *d, const uint8_t magic[4], ch_error *err) {
    if (d->have_magic) return memcmp(d->magic, magic, 4) ? ch_err(err, "magic differs") : 0;
    for (size_t i = 0; i < sizeof MAGICS / sizeof MAGICS[0]; i++)
        if (!memcmp(magic, MAGICS[i], 4)) {
            memcpy(d->magic, magic, 4);
            d->have_magic = true;
            d->net = (ch_btc_net)i;
            return 0;
        }
    return ch_err(err, "unknown magic");
}

int ch_blkdir_relist(ch_blkdir *d, ch_error *err) {
    if (d->fd >= 0) close(d->fd);
    d->fd = -1;
    for (uint32_t i = 0; i < d->n_files; i++)
        free(d->files[i].path);
    free(d->files);
    d->files = NULL;
    d->n_files = 0;
    return list_files(d, err);
}

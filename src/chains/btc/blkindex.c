/* The persisted index of a blk folder's records (btc.h, ch_blkidx).
 *
 * In memory: every record's header fields (btc_hdr) in the order read, and
 * per blk file the offset the next read starts at with the file's size and
 * modification time when it was read. An update stats each file of the
 * listing: one whose size and time are unchanged is not opened (Core only
 * appends to its current file, and writing into preallocated space moves
 * the time); a changed one is read from its offset; one now shorter than
 * that offset means the folder was written anew, and everything is read
 * again. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chains/btc/btc_internal.h"

CH_STATIC_ASSERT(sizeof(btc_hdr) == 88, "an index record is 88 bytes");

typedef struct file_state {
    uint32_t no;
    uint64_t next; /* where the next read starts */
    uint64_t size;
    int64_t mtime_ns;
} file_state;

struct ch_blkidx {
    char dir[PATH_MAX];
    uint8_t key[8];
    uint8_t magic[4];
    bool have_magic;
    btc_hdr *h;
    size_t n, cap;
    size_t n_saved; /* records already in the file */
    bool rewrite;   /* the file's records are not a prefix of these: write all */
    file_state *f;
    size_t n_f, cap_f;
    size_t n_read; /* records read from blk files since the load */
};

static void reset(ch_blkidx *x) {
    x->n = 0;
    x->n_f = 0;
    x->have_magic = false;
    x->rewrite = true;
}

static int grow(void **p, size_t *cap, size_t need, size_t each) {
    return btc_grow(p, cap, need, each);
}

static file_state *state_of(ch_blkidx *x, uint32_t no) {
    for (size_t i = x->n_f; i-- > 0;) /* new files come last */
        if (x->f[i].no == no) return &x->f[i];
    return NULL;
}

static void folder_of(ch_blkdir *d, char out[PATH_MAX]) {
    if (!realpath(btc_blkdir_dir(d), out)) snprintf(out, PATH_MAX, "%s", btc_blkdir_dir(d));
}

static char *state_path(const char *path) {
    size_t n = strlen(path) + 8;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s.state", path);
    return s;
}

/* Read PATH.state and PATH into x; any mismatch leaves x empty. */
static void load_files(ch_blkidx *x, const char *path) {
    char *sp = state_path(path);
    FILE *f = sp ? fopen(sp, "r") : NULL;
    free(sp);
    if (!f) return;
    char dir[PATH_MAX + 1] = "", key[17] = "", magic[9] = "";
    unsigned long long n = 0, n_f = 0;
    bool ok =
        fscanf(f, "coinhound-blkindex 1 dir %4096s key %16s magic %8s records %llu files %llu", dir,
               key, magic, &n, &n_f) == 5 &&
        !strcmp(dir, x->dir) && strlen(key) == 16 && n < (1ULL << 32) && n_f < (1u << 20);
    uint8_t k[8], m[4];
    ok = ok && ch_hex_decode(key, 16, k, 8) == 0 && !memcmp(k, x->key, 8);
    bool has_magic = ok && strcmp(magic, "none");
    if (has_magic) ok = strlen(magic) == 8 && ch_hex_decode(magic, 8, m, 4) == 0;
    ok = ok && grow((void **)&x->f, &x->cap_f, (size_t)n_f, sizeof *x->f) == 0;
    for (size_t i = 0; ok && i < n_f; i++) {
        unsigned no;
        unsigned long long next, size;
        long long mt;
        ok = fscanf(f, " file %u %llu %llu %lld", &no, &next, &size, &mt) == 4 && next <= size;
        if (ok) x->f[x->n_f++] = (file_state){no, next, size, mt};
    }
    fclose(f);
    int fd = ok ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    ok = fd >= 0 && grow((void **)&x->h, &x->cap, (size_t)n, sizeof *x->h) == 0;
    size_t want = (size_t)n * sizeof *x->h, got = 0;
    while (ok && got < want) {
        ssize_t r = pread(fd, (uint8_t *)x->h + got, want - got, (off_t)got);
        if (r <= 0) ok = false;
        got += r > 0 ? (size_t)r : 0;
    }
    if (fd >= 0) close(fd);
    if (!ok) {
        reset(x);
        return;
    }
    x->n = x->n_saved = (size_t)n;
    x->rewrite = false;
    if (has_magic) {
        memcpy(x->magic, m, 4);
        x->have_magic = true;
    }
}

int ch_blkidx_load(const char *path, ch_blkdir *d, ch_blkidx **out, ch_error *err) {
    ch_blkidx *x = calloc(1, sizeof *x);
    if (!x) return ch_err(err, "out of memory");
    folder_of(d, x->dir);
    memcpy(x->key, btc_blkdir_key(d), 8);
    x->rewrite = true;
    if (path) load_files(x, path);
    /* the folder's network is its records' magic, read before: tell the
     * folder, which would otherwise learn it from the first record read */
    ch_error e;
    if (x->have_magic && btc_blkdir_set_magic(d, x->magic, &e) != 0) reset(x);
    *out = x;
    return 0;
}

static int on_record(void *ctx, const ch_blk_pos *pos, const uint8_t header[80], ch_error *err) {
    ch_blkidx *x = ctx;
    if (grow((void **)&x->h, &x->cap, x->n + 1, sizeof *x->h) != 0)
        return ch_err(err, "out of memory after %zu block headers", x->n);
    ch_btc_header h;
    btc_header_decode(header, &h);
    x->h[x->n++] = (btc_hdr){.hash = h.hash,
                             .prev = h.prev,
                             .file_no = pos->file_no,
                             .size = pos->size,
                             .offset = pos->offset,
                             .bits = h.bits,
                             .time = h.time};
    x->n_read++;
    return 0;
}

/* One pass over the listing; 1 when the folder was written anew (x must be
 * reset and read again), 0 done, -1 error. */
static int update_pass(ch_blkidx *x, ch_blkdir *d, bool strict, ch_error *err) {
    uint32_t n_files = ch_blkdir_file_count(d);
    for (uint32_t i = 0; i < n_files; i++) {
        uint32_t no = btc_blkdir_file_no(d, i);
        const char *p = ch_blkdir_path(d, no);
        struct stat st;
        if (stat(p, &st) != 0) return ch_err(err, "%s: %s", p, strerror(errno));
        int64_t mt = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        file_state *fs = state_of(x, no);
        /* unchanged; strict reads again a tail left unread (padding, or a
         * record cut short that a tolerant update waited for) */
        if (fs && fs->size == (uint64_t)st.st_size && fs->mtime_ns == mt &&
            (!strict || fs->next == fs->size))
            continue;
        if (fs && (uint64_t)st.st_size < fs->next) return 1;
        if (!fs) {
            if (grow((void **)&x->f, &x->cap_f, x->n_f + 1, sizeof *x->f) != 0)
                return ch_err(err, "out of memory");
            fs = &x->f[x->n_f++];
            *fs = (file_state){.no = no};
        }
        uint64_t end;
        if (btc_blkdir_scan_file(d, i, fs->next, !strict, on_record, x, &end, err) != 0) return -1;
        *fs = (file_state){no, end, (uint64_t)st.st_size, mt};
    }
    const uint8_t *m = btc_blkdir_magic(d);
    if (m && !x->have_magic) {
        memcpy(x->magic, m, 4);
        x->have_magic = true;
    }
    return 0;
}

int ch_blkidx_update(ch_blkidx *x, ch_blkdir *d, bool strict, ch_error *err) {
    if (ch_blkdir_relist(d, err) != 0) return -1;
    size_t before = x->n;
    int rc = update_pass(x, d, strict, err);
    if (rc == 1) {
        reset(x);
        before = 0;
        rc = update_pass(x, d, strict, err);
    }
    if (rc != 0) return -1;
    return (int)(x->n - before);
}

static int write_all_at(int fd, const void *p, size_t n, uint64_t off) {
    const uint8_t *b = p;
    while (n) {
        ssize_t w = pwrite(fd, b, n, (off_t)off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        b += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

static int save_state(const ch_blkidx *x, const char *path, ch_error *err) {
    char *sp = state_path(path);
    if (!sp) return ch_err(err, "out of memory");
    size_t tn = strlen(sp) + 8;
    char *tmp = malloc(tn);
    if (!tmp) {
        free(sp);
        return ch_err(err, "out of memory");
    }
    snprintf(tmp, tn, "%s.tmp", sp);
    int rc = 0;
    FILE *f = fopen(tmp, "w");
    if (!f) {
        rc = ch_err(err, "%s: cannot write: %s", tmp, strerror(errno));
        goto out;
    }
    char key[17], magic[9] = "none";
    ch_hex_encode(x->key, 8, key);
    if (x->have_magic) ch_hex_encode(x->magic, 4, magic);
    fprintf(f, "coinhound-blkindex 1\ndir %s\nkey %s\nmagic %s\nrecords %zu\nfiles %zu\n", x->dir,
            key, magic, x->n, x->n_f);
    for (size_t i = 0; i < x->n_f; i++)
        fprintf(f, "file %u %" PRIu64 " %" PRIu64 " %" PRId64 "\n", x->f[i].no, x->f[i].next,
                x->f[i].size, x->f[i].mtime_ns);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) rc = ch_err(err, "%s: cannot write", tmp);
    if (fclose(f) != 0 && rc == 0) rc = ch_err(err, "%s: cannot write", tmp);
    if (rc == 0 && rename(tmp, sp) != 0)
        rc = ch_err(err, "%s: cannot rename: %s", sp, strerror(errno));
out:
    free(tmp);
    free(sp);
    return rc;
}

int ch_blkidx_save(ch_blkidx *x, const char *path, ch_error *err) {
    if (x->dir[0] && strchr(x->dir, ' ')) return 0; /* the state's format has no quoting */
    if (!x->rewrite && x->n_saved == x->n) {
        /* nothing new among the records; file states may have moved */
        return save_state(x, path, err);
    }
    if (x->rewrite) {
        /* the old state must not outlive the records it counted */
        char *sp = state_path(path);
        if (sp) unlink(sp);
        free(sp);
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return ch_err(err, "%s: cannot write: %s", path, strerror(errno));
    size_t from = x->rewrite ? 0 : x->n_saved;
    int rc = 0;
    if (write_all_at(fd, x->h + from, (x->n - from) * sizeof *x->h, from * sizeof *x->h) != 0 ||
        ftruncate(fd, (off_t)(x->n * sizeof *x->h)) != 0 || fdatasync(fd) != 0)
        rc = ch_err(err, "%s: cannot write: %s", path, strerror(errno));
    close(fd);
    if (rc == 0) rc = save_state(x, path, err);
    if (rc == 0) {
        x->n_saved = x->n;
        x->rewrite = false;
    }
    return rc;
}

int ch_blkidx_best_chain(const ch_blkidx *x, ch_blk_chain *chain, ch_error *err) {
    return btc_best_chain_of(x->h, x->n, x->dir, chain, err);
}

size_t ch_blkidx_count(const ch_blkidx *x) {
    return x->n;
}

size_t ch_blkidx_read_count(const ch_blkidx *x) {
    return x->n_read;
}

void ch_blkidx_free(ch_blkidx *x) {
    if (!x) return;
    free(x->h);
    free(x->f);
    free(x);
}

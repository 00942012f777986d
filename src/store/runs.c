/* The sorted-run index (see runs.h). */
#include "store/runs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

static uint64_t get48(const uint8_t *p) {
    return (uint64_t)p[0] << 40 | (uint64_t)p[1] << 32 | (uint64_t)p[2] << 24 |
           (uint64_t)p[3] << 16 | (uint64_t)p[4] << 8 | p[5];
}

static void put48(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 6; i++)
        p[i] = (uint8_t)(v >> (40 - 8 * i));
}

static const uint8_t *entry(const st_run *r, uint64_t i) {
    return r->map + i * ST_RUN_REC;
}

static void run_path(const char *dir, const char *name, uint64_t seq, char *out, size_t cap) {
    snprintf(out, cap, "%s/%s-%" PRIu64 ".run", dir, name, seq);
}

static void filter_path(const char *dir, const char *name, uint64_t seq, char *out, size_t cap) {
    snprintf(out, cap, "%s/%s-%" PRIu64 ".filter", dir, name, seq);
}

static void fence_path(const char *dir, const char *name, uint64_t seq, char *out, size_t cap) {
    snprintf(out, cap, "%s/%s-%" PRIu64 ".fence", dir, name, seq);
}

void st_run_unmap(st_run *run) {
    if (run->map) munmap(run->map, run->n * ST_RUN_REC);
    run->map = NULL;
    st_filter_free(&run->filter);
    st_fence_free(&run->fence);
    if (run->fd >= 0) close(run->fd);
    run->fd = -1;
}

/* A run listed, not yet mapped. */
static st_run run_new(uint64_t seq, uint64_t n) {
    return (st_run){.seq = seq, .n = n, .fd = -1};
}

void st_run_unlink(const char *dir, const char *name, uint64_t seq) {
    char path[4200];
    run_path(dir, name, seq, path, sizeof path);
    unlink(path);
    filter_path(dir, name, seq, path, sizeof path);
    unlink(path);
    fence_path(dir, name, seq, path, sizeof path);
    unlink(path);
}

/* A run of r gone: its files. */
static void run_unlink(const st_runs *r, uint64_t seq) {
    st_run_unlink(r->dir, r->name, seq);
}

/* Map run's file (keep_fd: and keep it open, for a fenced run's reads). */
static int run_map(const char *dir, const char *name, st_run *run, bool keep_fd, ch_error *err) {
    run->map = NULL;
    run->fd = -1;
    if (run->n == 0) return 0;
    char path[4200];
    run_path(dir, name, run->seq, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ch_err(err, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != run->n * ST_RUN_REC) {
        close(fd);
        return ch_err(err, "%s: holds %lld bytes, the index lists %" PRIu64 " entries", path,
                      (long long)st.st_size, run->n);
    }
    void *m = mmap(NULL, run->n * ST_RUN_REC, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        close(fd);
        return ch_err(err, "%s: mmap: %s", path, strerror(errno));
    }
    if (keep_fd)
        run->fd = fd;
    else
        close(fd);
    /* lookups land at random: reading ahead would only evict */
    madvise(m, run->n * ST_RUN_REC, MADV_RANDOM);
    run->map = m;
    return 0;
}

int st_runs_open(st_runs *r, const char *dir, const char *name, const uint64_t *seqs,
                 const uint64_t *counts, size_t n, ch_error *err) {
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    snprintf(r->name, sizeof r->name, "%s", name);
    if (n > ST_RUNS_MAX)
        return ch_err(err, "%s: %zu %s runs listed, at most %d", dir, n, name, ST_RUNS_MAX);
    for (size_t i = 0; i < n; i++) {
        r->v[i] = run_new(seqs[i], counts[i]);
        if (run_map(r->dir, r->name, &r->v[i], false, err) != 0) {
            r->n = i;
            st_runs_close(r);
            return -1;
        }
    }
    r->n = n;
    return 0;
}

void st_runs_close(st_runs *r) {
    st_runs_merge_stop(r);
    st_runs_unstage(r);
    for (size_t i = 0; i < r->n; i++)
        st_run_unmap(&r->v[i]);
    r->n = 0;
    r->filters = false;
}

/* What ties a filter file to its run's contents (beside seq and count): a
 * hash of the run's first and last 4 KiB. */
static uint64_t run_tag(const st_run *run) {
    uint64_t bytes = run->n * ST_RUN_REC, part = bytes < 4096 ? bytes : 4096;
    if (!run->map) return 0;
    return st_filter_tag(run->map, part, run->map + bytes - part, part);
}

/* Run's filter from its entries, saved beside it. */
static int build_filter(const st_runs *r, st_run *run, ch_error *err) {
    if (st_filter_init(&run->filter, run->n) != 0) return ch_err(err, "out of memory");
    for (uint64_t i = 0; i < run->n; i++)
        st_filter_add(&run->filter, get48(entry(run, i)));
    /* the pages read: let go, as a merge does */
    if (run->n) madvise(run->map, run->n * ST_RUN_REC, MADV_DONTNEED);
    char path[4200];
    filter_path(r->dir, r->name, run->seq, path, sizeof path);
    return st_filter_save(&run->filter, path, run->seq, run->n, run_tag(run), err);
}

int st_runs_use_filters(st_runs *r, ch_error *err) {
    for (size_t i = 0; i < r->n; i++) {
        st_run *run = &r->v[i];
        if (run->filter.bits) continue;
        char path[4200];
        filter_path(r->dir, r->name, run->seq, path, sizeof path);
        if (st_filter_load(&run->filter, path, run->seq, run->n, run_tag(run)) == 0) continue;
        if (build_filter(r, run, err) != 0) {
            for (size_t j = 0; j <= i; j++)
                st_filter_free(&r->v[j].filter);
            return -1;
        }
    }
    r->filters = true;
    return 0;
}

/* Run's fences from its entries (every ST_RUN_FENCE-th: each page of the
 * run is read once), saved beside it. */
static int build_fences(const st_runs *r, st_run *run, ch_error *err) {
    uint64_t count = st_fence_count(run->n);
    uint64_t *keys = malloc(count * sizeof *keys);
    if (!keys) return ch_err(err, "out of memory");
    for (uint64_t i = 0; i < count; i++)
        keys[i] = get48(entry(run, i * ST_RUN_FENCE));
    madvise(run->map, run->n * ST_RUN_REC, MADV_DONTNEED); /* as build_filter */
    char path[4200];
    fence_path(r->dir, r->name, run->seq, path, sizeof path);
    int rc = st_fence_save(&run->fence, path, run->seq, run->n, run_tag(run), keys, err);
    free(keys);
    return rc;
}

int st_runs_use_fences(st_runs *r, ch_error *err) {
    for (size_t i = 0; i < r->n; i++) {
        st_run *run = &r->v[i];
        if (run->n == 0) continue;
        if (!run->fence.keys) {
            char path[4200];
            fence_path(r->dir, r->name, run->seq, path, sizeof path);
            if (st_fence_load(&run->fence, path, run->seq, run->n, run_tag(run)) != 0 &&
                build_fences(r, run, err) != 0)
                return -1;
        }
    }
    return 0;
}

/* The first entry of run whose key is >= k (run->n when none): a guess
 * from the key's value (the keys are uniform hashes), widened by doubling
 * steps until it brackets, then a binary search. */
static uint64_t lower_bound(const st_run *run, uint64_t k) {
    uint64_t n = run->n;
    if (n == 0) return 0;
    uint64_t g = (uint64_t)(((unsigned __int128)k * n) >> 48), lo, hi, step = 16;
    if (g >= n) g = n - 1;
    if (get48(entry(run, g)) < k) {
        lo = g + 1;
        hi = lo + step;
        while (hi < n && get48(entry(run, hi - 1)) < k) {
            lo = hi;
            step *= 2;
            hi = lo + step;
        }
        if (hi > n) hi = n;
    } else {
        hi = g;
        lo = g >= step ? g - step : 0;
        while (lo > 0 && get48(entry(run, lo)) >= k) {
            hi = lo;
            step *= 2;
            lo = hi >= step ? hi - step : 0;
        }
    }
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (get48(entry(run, mid)) < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Entries [a, b) of run into buf: by pread when its file is open (a run
 * this writer wrote: see st_run.fence), else from its mapping. 0, or -1
 * when the read failed. */
static int read_entries(const st_run *run, uint64_t a, uint64_t b, uint8_t *buf) {
    size_t len = (size_t)(b - a) * ST_RUN_REC;
    if (run->fd < 0) {
        memcpy(buf, entry(run, a), len);
        return 0;
    }
    ssize_t rd;
    do
        rd = pread(run->fd, buf, len, (off_t)(a * ST_RUN_REC));
    while (rd < 0 && errno == EINTR);
    return rd == (ssize_t)len ? 0 : -1;
}

/* Entries a fenced lookup reads first, either side of where the key's
 * value puts it between its two fences (the keys are uniform hashes: the
 * place is off by about 8 entries of the 256, so 24 either side almost
 * always bracket it); else the whole block. */
#define FENCE_WINDOW 24

/* The first entry of a fenced run whose key is >= k (run->n when none),
 * as lower_bound, with the entries read for it in buf (entries
 * [*base, *base + *got)); UINT64_MAX when a read failed (the caller
 * searches the mapping instead). The fences' keys are the entries' own:
 * between fence lo - 1 (< k) and fence lo (>= k), a window around the
 * interpolated place, checked to bracket the answer, or the block. */
static uint64_t fenced_lower_bound(const st_run *run, uint64_t k, uint8_t *buf, uint64_t *base,
                                   uint64_t *got) {
    const uint64_t *fence = run->fence.keys;
    uint64_t nf = run->fence.count, lo = 0, hi = nf;
    while (lo < hi) { /* the first fence >= k */
        uint64_t mid = lo + (hi - lo) / 2;
        if (fence[mid] < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    *got = 0;
    if (lo == 0) return 0; /* the first entry is >= k */
    /* the answer is in (b0, b1]: entry b0 (the fence) is < k, entry b1 is >= k or the end */
    uint64_t b0 = (lo - 1) * ST_RUN_FENCE,
             b1 = lo * ST_RUN_FENCE < run->n ? lo * ST_RUN_FENCE : run->n;
    uint64_t f0 = fence[lo - 1], f1 = lo < nf ? fence[lo] : 1ULL << 48;
    uint64_t est = b0 + (uint64_t)((unsigned __int128)(k - f0) * (b1 - b0) / (f1 - f0 + 1));
    uint64_t w0 = est > b0 + FENCE_WINDOW ? est - FENCE_WINDOW : b0 + 1;
    uint64_t w1 = est + FENCE_WINDOW < b1 ? est + FENCE_WINDOW : b1;
    if (w0 < w1) {
        if (read_entries(run, w0, w1, buf) != 0) return UINT64_MAX;
        /* bracketed: the entry before the window is < k ... */
        if (w0 == b0 + 1 || get48(buf) < k) {
            for (uint64_t j = w0; j < w1; j++)
                if (get48(buf + (j - w0) * ST_RUN_REC) >= k) {
                    *base = w0;
                    *got = w1 - w0;
                    return j;
                }
            /* ... and one in it, or the window reaches the block's end, is >= k */
            if (w1 == b1) {
                *base = w0;
                *got = w1 - w0;
                return b1;
            }
        }
    }
    if (read_entries(run, b0, b1, buf) != 0) return UINT64_MAX;
    *base = b0;
    *got = b1 - b0;
    for (uint64_t j = b0 + 1; j < b1; j++)
        if (get48(buf + (j - b0) * ST_RUN_REC) >= k) return j;
    return b1;
}

int st_runs_find(const st_runs *r, uint64_t key, st_run_visit visit, void *ctx) {
    uint64_t k = key >> 16;
    uint8_t buf[ST_RUN_FENCE * ST_RUN_REC];
    for (size_t i = 0; i < r->n; i++) {
        const st_run *run = &r->v[i];
        if (!st_filter_may(&run->filter, k)) continue;
        uint64_t base = 0, got = 0, j = UINT64_MAX;
        if (run->fence.keys) j = fenced_lower_bound(run, k, buf, &base, &got);
        if (j == UINT64_MAX) j = lower_bound(run, k), got = 0;
        for (; j < run->n; j++) {
            /* from the block read, past it (equal keys that run on) from the mapping */
            const uint8_t *e =
                j >= base && j < base + got ? buf + (j - base) * ST_RUN_REC : entry(run, j);
            if (get48(e) != k) break;
            int rc = visit(ctx, get48(e + 6));
            if (rc) return rc;
        }
    }
    return 0;
}

void st_runs_prefetch(const st_runs *r, uint64_t key) {
    uint64_t k = key >> 16;
    for (size_t i = 0; i < r->n; i++) {
        const st_run *run = &r->v[i];
        if (run->n == 0) continue;
        if (run->filter.bits) { /* the entry is read only if the filter passes */
            st_filter_prefetch(&run->filter, k);
            continue;
        }
        uint64_t g = (uint64_t)(((unsigned __int128)k * run->n) >> 48);
        __builtin_prefetch(entry(run, g < run->n ? g : run->n - 1));
    }
}

uint64_t st_runs_entries(const st_runs *r) {
    uint64_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += r->v[i].n;
    return n;
}

/* --- writing --- */

/* A buffered sequential writer of a new run file. */
typedef struct run_writer {
    st_filter *filter; /* the new run's, or NULL */
    uint64_t *fence;   /* the new run's fences, or NULL */
    uint64_t count;    /* entries put so far */
    int fd;
    uint8_t *buf;
    size_t used, cap;
    bool paced;           /* each buffer's write-back started, the one before waited for */
    uint64_t off, before; /* bytes written; where the buffer before this one starts */
    const atomic_bool *cancel;
    const st_run_hold *hold; /* while on, write nothing (hold_writes) */
    int failed;              /* errno of the first failure */
} run_writer;

/* A merge beside a watcher: while the watcher takes a block from its
 * arrival to its alerts (whose syncs wait for whatever the disk has
 * queued before them), the merge's writes wait (runs.h, st_run_hold). */
static void hold_writes(const run_writer *w) {
    if (!w->hold) return;
    unsigned most = w->hold->max_ms ? w->hold->max_ms : 250;
    struct timespec ms = {0, 1000000};
    for (unsigned i = 0; i < most && atomic_load(&w->hold->on); i++)
        nanosleep(&ms, NULL);
}

/* A paced writer's buffer just written at [w->before, w->off): its
 * write-back starts now and the one before's is waited for, so that a
 * merge beside a live writer leaves at most two buffers of its file dirty
 * in the page cache. Otherwise its whole file would be written back at
 * once, when the kernel or the final sync gets to it, and every sync of
 * the store's and the alerts' files queued behind it on the disk would
 * wait for it (ext4 orders a journal commit behind the data of the blocks
 * it allocates). */
static void rw_pace(run_writer *w, uint64_t start) {
    sync_file_range(w->fd, (off_t)start, (off_t)(w->off - start), SYNC_FILE_RANGE_WRITE);
    if (start > w->before)
        sync_file_range(w->fd, (off_t)w->before, (off_t)(start - w->before),
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                            SYNC_FILE_RANGE_WAIT_AFTER);
    w->before = start;
}

static void rw_flush(run_writer *w) {
    size_t off = 0;
    uint64_t start = w->off;
    hold_writes(w);
    while (off < w->used && !w->failed) {
        ssize_t k = write(w->fd, w->buf + off, w->used - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0)
            w->failed = k < 0 ? errno : EIO;
        else
            off += (size_t)k;
    }
    w->off += off;
    w->used = 0;
    if (w->paced && !w->failed && w->off > start) rw_pace(w, start);
}

static void rw_put(run_writer *w, uint64_t key48, uint64_t val) {
    if (w->used + ST_RUN_REC > w->cap) rw_flush(w);
    if (w->filter) st_filter_add(w->filter, key48);
    if (w->fence && w->count % ST_RUN_FENCE == 0) w->fence[w->count / ST_RUN_FENCE] = key48;
    w->count++;
    put48(w->buf + w->used, key48);
    put48(w->buf + w->used + 6, val & 0xffffffffffffULL);
    w->used += ST_RUN_REC;
}

/* One input of the merge: a run being read, or the batch. */
typedef struct source {
    const st_run *run;
    const st_run_item *items;
    uint64_t pos, n;
} source;

static uint64_t src_key(const source *s) {
    return s->run ? get48(entry(s->run, s->pos)) : s->items[s->pos].key >> 16;
}

static uint64_t src_val(const source *s) {
    return s->run ? get48(entry(s->run, s->pos) + 6) : s->items[s->pos].val;
}

/* Merge the sources (oldest first; equal keys are taken oldest first, so
 * a run stays in value order for its duplicates) into w. The inputs are
 * read once, in order: their pages are let go behind the merge so that it
 * does not hold the whole index in memory. A cancelled merge stops there
 * (w->failed: ECANCELED). */
static void merge_into(run_writer *w, source *src, size_t n_src) {
    const uint64_t release = 64u << 20; /* bytes read between releases */
    uint64_t since = 0;
    for (;;) {
        size_t best = n_src;
        uint64_t bk = 0;
        for (size_t i = 0; i < n_src; i++) {
            if (src[i].pos >= src[i].n) continue;
            uint64_t k = src_key(&src[i]);
            if (best == n_src || k < bk) {
                best = i;
                bk = k;
            }
        }
        if (best == n_src) break;
        rw_put(w, bk, src_val(&src[best]));
        src[best].pos++;
        if ((since += ST_RUN_REC) >= release) {
            since = 0;
            for (size_t i = 0; i < n_src; i++) {
                if (!src[i].run) continue;
                uint64_t done = src[i].pos * ST_RUN_REC & ~(uint64_t)4095;
                if (done) madvise(src[i].run->map, done, MADV_DONTNEED);
            }
        }
        if (w->cancel && (w->count & 0xffff) == 0 && atomic_load(w->cancel)) {
            w->failed = ECANCELED;
            return;
        }
    }
    rw_flush(w);
}

static int sync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Close a staged run's file kept open for the caller's sync. */
static void drop_sync(st_runs *r) {
    if (r->sync_pending) close(r->sync_fd);
    r->sync_pending = false;
}

int st_runs_sync_fd(const st_runs *r) {
    return r->staged && r->sync_pending ? r->sync_fd : -1;
}

/* How a run is written: where, with a filter or not, made durable here
 * or by the caller, paced or not (rw_pace), and a flag that cancels it. */
typedef struct run_job {
    const char *dir, *name;
    bool filters, sync, paced;
    const atomic_bool *cancel;
    const st_run_hold *hold; /* NULL: none */
} run_job;

/* Write the sources' total entries as the run seq, with its filter (when
 * j->filters) and its fences, and map it into out (its file kept open for
 * the fenced reads). With j->sync the file and its folder's entry are made
 * durable here; otherwise the file is left open in *sync_fd for the
 * caller's sync. On failure nothing of it is left behind. */
static int write_run(const run_job *j, source *src, size_t n_src, uint64_t total, uint64_t seq,
                     st_run *out, int *sync_fd, ch_error *err) {
    char path[4200];
    run_path(j->dir, j->name, seq, path, sizeof path);
    /* The write buffer: 4 MiB at most, no more than the run needs (a
     * watcher commits a run of a few entries every block); 1 MiB paced */
    size_t cap = ((j->paced ? 1u : 4u) << 20) / ST_RUN_REC * ST_RUN_REC;
    if (total * ST_RUN_REC < cap) cap = (size_t)total * ST_RUN_REC;
    run_writer w = {.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644),
                    .cap = cap,
                    .paced = j->paced,
                    .cancel = j->cancel,
                    .hold = j->hold};
    if (w.fd < 0) return ch_err(err, "%s: %s", path, strerror(errno));
    st_filter filter = {NULL, 0, NULL, 0};
    /* without the memory for them, no fences: lookups search the mapping */
    w.fence = malloc((total + ST_RUN_FENCE - 1) / ST_RUN_FENCE * sizeof *w.fence);
    w.buf = malloc(w.cap);
    if (!w.buf || (j->filters && st_filter_init(&filter, total) != 0))
        w.failed = ENOMEM;
    else {
        w.filter = filter.bits ? &filter : NULL;
        merge_into(&w, src, n_src);
    }
    if (!w.failed && j->sync) hold_writes(&w); /* its sync too */
    if (!w.failed && j->sync && fdatasync(w.fd) != 0) w.failed = errno;
    if (w.failed || j->sync)
        close(w.fd);
    else /* the caller syncs it */
        *sync_fd = w.fd;
    free(w.buf);
    if (!w.failed && j->sync && sync_dir(j->dir) != 0) w.failed = errno;
    if (w.failed) {
        unlink(path);
        st_filter_free(&filter);
        free(w.fence);
        return ch_err(err, "%s: writing: %s", path, strerror(w.failed));
    }
    *out = run_new(seq, total);
    char fpath[4200], cpath[4200];
    filter_path(j->dir, j->name, seq, fpath, sizeof fpath);
    fence_path(j->dir, j->name, seq, cpath, sizeof cpath);
    if (run_map(j->dir, j->name, out, w.fence != NULL, err) != 0 ||
        (filter.bits && st_filter_save(&filter, fpath, seq, total, run_tag(out), err) != 0) ||
        (w.fence &&
         st_fence_save(&out->fence, cpath, seq, total, run_tag(out), w.fence, err) != 0)) {
        st_run_unmap(out);
        st_filter_free(&filter);
        free(w.fence);
        st_run_unlink(j->dir, j->name, seq);
        if (!j->sync) close(*sync_fd);
        return -1;
    }
    free(w.fence); /* read from the saved file's mapping from now on */
    out->filter = filter;
    return 0;
}

size_t st_runs_policy(const st_runs *r, size_t end, size_t floor, uint64_t *total, bool by_size,
                      size_t limit) {
    size_t keep = end;
    while (keep > floor && ((by_size && r->v[keep - 1].n <= 2 * *total) || keep >= limit))
        *total += r->v[--keep].n;
    return keep;
}

int st_runs_add(st_runs *r, const st_run_item *items, size_t n, uint64_t seq, ch_error *err) {
    st_runs_unstage(r);
    if (n == 0) return 0;
    /* merge policy: take in the newest runs while each is at most twice
     * what is gathered so far, and while the list is too long. With merges
     * in the background (runmerge.c) only the second: the batch is a run
     * of its own, and a running merge's runs (and older ones) are not
     * taken; when the list nears its limit that merge is waited for. */
    size_t limit = r->background ? ST_RUNS_MAX - 4 : ST_RUNS_MAX;
    if (r->bg && r->n >= limit) (void)st_runs_merge_wait(r, NULL); /* failed: the runs stay */
    uint64_t total = n;
    size_t keep = st_runs_policy(r, r->n, st_runs_merge_end(r), &total, !r->background, limit);
    source src[ST_RUNS_MAX + 1];
    size_t n_src = 0;
    for (size_t i = keep; i < r->n; i++)
        src[n_src++] = (source){&r->v[i], NULL, 0, r->v[i].n};
    src[n_src++] = (source){NULL, items, 0, n};

    run_job j = {r->dir, r->name, r->filters, !r->defer_sync, false, NULL, NULL};
    int fd = -1;
    int rc = write_run(&j, src, n_src, total, seq, &r->next, &fd, err);
    /* the merged runs' pages were let go during the merge: map them anew
     * for the lookups until the commit publishes the new run */
    for (size_t i = keep; i < r->n; i++)
        madvise(r->v[i].map, r->v[i].n * ST_RUN_REC, MADV_RANDOM);
    if (rc != 0) return -1;
    if (r->defer_sync) { /* the commit syncs it (st_runs_sync_fd) */
        r->sync_fd = fd;
        r->sync_pending = true;
    }
    r->keep = keep;
    r->staged = true;
    return 0;
}

int st_run_write_merged(const char *dir, const char *name, bool filters, const st_run *in, size_t n,
                        uint64_t seq, const atomic_bool *cancel, const st_run_hold *hold,
                        st_run *out, ch_error *err) {
    source src[ST_RUNS_MAX];
    uint64_t total = 0;
    if (n > ST_RUNS_MAX) return ch_err(err, "%s: a merge of %zu runs", dir, n);
    for (size_t i = 0; i < n; i++) {
        src[i] = (source){&in[i], NULL, 0, in[i].n};
        total += in[i].n;
    }
    run_job j = {dir, name, filters, true, true, cancel, hold};
    return write_run(&j, src, n, total, seq, out, NULL, err);
}

size_t st_runs_list(const st_runs *r, uint64_t *seqs, uint64_t *counts) {
    size_t n = r->staged ? r->keep : r->n, k = 0;
    for (size_t i = 0; i < n; i++, k++) {
        seqs[k] = r->v[i].seq;
        counts[k] = r->v[i].n;
    }
    if (r->staged) {
        seqs[k] = r->next.seq;
        counts[k++] = r->next.n;
    }
    return k;
}

void st_runs_publish(st_runs *r) {
    drop_sync(r);
    /* the runs a background merge replaced: the list committed no longer
     * names them */
    for (size_t i = 0; i < r->n_retired; i++)
        run_unlink(r, r->retired[i]);
    r->n_retired = 0;
    if (!r->staged) return;
    for (size_t i = r->keep; i < r->n; i++) {
        st_run_unmap(&r->v[i]);
        run_unlink(r, r->v[i].seq);
    }
    r->v[r->keep] = r->next;
    r->n = r->keep + 1;
    r->staged = false;
}

void st_runs_unstage(st_runs *r) {
    drop_sync(r);
    if (!r->staged) return;
    st_run_unmap(&r->next);
    run_unlink(r, r->next.seq);
    r->staged = false;
}

void st_runs_sweep(const st_runs *r) {
    DIR *d = opendir(r->dir);
    if (!d) return;
    size_t len = strlen(r->name);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *nm = e->d_name;
        if (strncmp(nm, r->name, len) != 0 || nm[len] != '-') continue;
        char *end;
        uint64_t seq = strtoull(nm + len + 1, &end, 10);
        bool tmp = strcmp(end, ".filter.tmp") == 0 || strcmp(end, ".fence.tmp") == 0;
        if (strcmp(end, ".run") != 0 && strcmp(end, ".filter") != 0 && strcmp(end, ".fence") != 0 &&
            !tmp)
            continue;
        bool used = r->staged && r->next.seq == seq && !tmp;
        for (size_t i = 0; i < r->n && !used; i++)
            used = r->v[i].seq == seq && !tmp;
        if (used) continue;
        unlinkat(dirfd(d), nm, 0);
    }
    closedir(d);
}

void st_runs_release(st_runs *r) {
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].map) madvise(r->v[i].map, r->v[i].n * ST_RUN_REC, MADV_DONTNEED);
}

uint64_t st_runs_filter_bytes(const st_runs *r) {
    uint64_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += r->v[i].filter.bits ? r->v[i].filter.blocks * 64 : 0;
    return n;
}

st_run *st_runs_largest_filter(st_runs *r) {
    st_run *best = NULL;
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].filter.bits && (!best || r->v[i].filter.blocks > best->filter.blocks))
            best = &r->v[i];
    return best;
}

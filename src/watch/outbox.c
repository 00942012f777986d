/* The alert log (DIR/<chain>/watch/alerts.jsonl) and the watcher's cursors
 * (DIR/<chain>/watch/state).
 *
 * Crash safety, in the order the watcher writes:
 *   1. alerts of an evaluated block are appended to the log, fdatasync;
 *   2. the evaluation cursor moves past the block (state: a 512-byte
 *      record, the first time of a run through a temporary file, fsync,
 *      rename and an fsync of the folder, then rewritten in place and not
 *      synced: see watch_outbox_save);
 *   3. the log past the delivery cursor is copied to the sink, which is
 *      fdatasync'ed; then the delivery cursor moves (state again).
 * (The Bitcoin follower does 1's sync and 3's side by side, after 3's
 * copy, and moves both cursors in one save once both files are durable:
 * watch_outbox_deliver.)
 * A kill between 1 and 2 evaluates the block again after a restart: its
 * alerts come out with the same ids, which the log already holds, and are
 * dropped. A kill between 3's copy and its cursor delivers those lines
 * again: at least once, with the same ids. A kill in the middle of an
 * append leaves a torn last line, cut on the next open (it was never
 * cursored, so its block is evaluated again).
 *
 * The Bitcoin follower commits the store after 1-3 (follow_btc.c, group
 * commit): a kill can then leave alerts, and an evaluation cursor, past
 * the store's tip. The state file also records the last committed block
 * (committed_next, committed_prev); a restart resumes after it when the
 * store still holds it, the lost blocks are added and evaluated again
 * (their alerts' ids are logged: dropped), and alerts above the store's
 * tip wait for their heights before they are judged (follower.c).
 *
 * watch eth's coverage alerts (blocks followed without traces: kind
 * "coverage", no block hash, never retracted) are logged here too, and the
 * open range of such blocks is kept in the state (untraced_from, and
 * untraced_blocks once a block was taken), saved after its traces_off line
 * is synced; on open the log's last coverage line sets a state that lags
 * it right (follow.c raises them). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "coinhound/hash.h"
#include "watch/watch_internal.h"
#include "util/syncmany.h"
#include "util/vec.h"

#define LOG_NAME   "alerts.jsonl"
#define STATE_NAME "state"
#define STATE_SIZE 512 /* one sector: written whole or not at all */

static size_t id_hash(const char *id) {
    uint64_t h = 1469598103934665603ULL;
    for (; *id; id++)
        h = (h ^ (uint8_t)*id) * 1099511628211ULL;
    return (size_t)h;
}

static watch_entry *find(watch_outbox *o, const char *id) {
    if (!o->n_slots) return NULL;
    for (size_t i = id_hash(id) & (o->n_slots - 1);; i = (i + 1) & (o->n_slots - 1)) {
        if (o->slots[i] == SIZE_MAX) return NULL;
        if (!strcmp(o->v[o->slots[i]].id, id)) return &o->v[o->slots[i]];
    }
}

static int grow_slots(watch_outbox *o) {
    size_t n = o->n_slots ? o->n_slots * 2 : 1024;
    size_t *s = malloc(n * sizeof *s);
    if (!s) return -1;
    memset(s, 0xff, n * sizeof *s);
    for (size_t k = 0; k < o->n; k++) {
        size_t i = id_hash(o->v[k].id) & (n - 1);
        while (s[i] != SIZE_MAX)
            i = (i + 1) & (n - 1);
        s[i] = k;
    }
    free(o->slots);
    o->slots = s;
    o->n_slots = n;
    return 0;
}

/* A new entry (the id must not be present) for the line at off, len. */
static watch_entry *insert(watch_outbox *o, const char *id, uint64_t off, uint32_t len) {
    if ((o->n + 1) * 2 > o->n_slots && grow_slots(o) != 0) return NULL;
    watch_entry *v = ch_grow(o->v, &o->cap, o->n + 1, sizeof *v);
    if (!v) return NULL;
    o->v = v;
    watch_entry *e = &o->v[o->n];
    memset(e, 0, sizeof *e);
    snprintf(e->id, sizeof e->id, "%s", id);
    e->off = off;
    e->len = len;
    size_t i = id_hash(id) & (o->n_slots - 1);
    while (o->slots[i] != SIZE_MAX)
        i = (i + 1) & (o->n_slots - 1);
    o->slots[i] = o->n++;
    return e;
}

/* The facts an entry keeps, from a logged object. */
static int entry_facts(watch_entry *e, json_t *a) {
    json_t *h = json_object_get(a, "height");
    const char *bh = json_string_value(json_object_get(a, "block_hash"));
    const char *kind = json_string_value(json_object_get(a, "kind"));
    e->coverage = kind && !strcmp(kind, "coverage");
    if (!json_is_integer(h) || (!bh && !e->coverage)) return -1;
    e->number = (uint64_t)json_integer_value(h);
    if (!bh) { /* a coverage alert names blocks, not one block's hash */
        memset(e->hash, 0, 32);
        e->retracted = false;
        return 0;
    }
    if (strlen(bh) == 64) { /* Bitcoin's: shown byte-reversed, as explorers show it */
        ch_hash256 v;
        if (ch_hash256_from_hex(bh, &v) != 0) return -1;
        memcpy(e->hash, v.b, 32);
    } else if (strlen(bh) != 66 || ch_hex_decode(bh + 2, 64, e->hash, 32) != 0) {
        return -1;
    }
    e->retracted = json_is_true(json_object_get(a, "retracted"));
    return 0;
}

static int write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int path_in(const watch_outbox *o, const char *name, char *out, size_t cap) {
    return snprintf(out, cap, "%s/%s", o->dir, name) < (int)cap ? 0 : -1;
}

/* The cursors from the state file: its first four values, then the
 * optional ones, each found by its name (a file written before a field
 * existed lacks it, and reads as before). */
static int load_state(watch_outbox *o, ch_error *err) {
    char p[4200];
    path_in(o, STATE_NAME, p, sizeof p);
    FILE *f = fopen(p, "r");
    if (!f) return errno == ENOENT ? 0 : ch_err(err, "%s: cannot read the watcher's state", p);
    char text[STATE_SIZE + 1];
    size_t got = fread(text, 1, STATE_SIZE, f);
    fclose(f);
    text[got] = 0;
    char hex[80] = "";
    unsigned long long delivered = 0;
    unsigned eval_next = 0;
    int n = sscanf(text, "coinhound-watch-state 1 delivered %llu eval_next %u eval_prev %70s",
                   &delivered, &eval_next, hex);
    if (n != 3 || strlen(hex) != 64 || ch_hex_decode(hex, 64, o->eval_prev, 32) != 0)
        return ch_err(err, "%s: not a watcher state file (remove it to evaluate from the tip)", p);
    /* a watcher that commits after it evaluates writes these */
    char chex[80] = "";
    unsigned committed = 0;
    const char *c = strstr(text, "\ncommitted_next ");
    if (c && sscanf(c, " committed_next %u committed_prev %70s", &committed, chex) == 2 &&
        strlen(chex) == 64 && ch_hex_decode(chex, 64, o->committed_prev, 32) == 0) {
        o->has_committed = true;
        o->committed_next = committed;
    }
    /* watch eth following blocks without traces (since 2026-12-07) */
    unsigned long long from, lo, hi;
    const char *u = strstr(text, "\nuntraced_from ");
    if (u && sscanf(u, " untraced_from %llu", &from) == 1) {
        o->untraced = true;
        o->untraced_from = from;
        o->untraced_lo = UINT64_MAX;
        o->untraced_hi = 0;
        const char *b = strstr(text, "\nuntraced_blocks ");
        if (b && sscanf(b, " untraced_blocks %llu %llu", &lo, &hi) == 2 && lo <= hi) {
            o->untraced_lo = lo;
            o->untraced_hi = hi;
        }
    }
    o->delivered = delivered;
    o->eval_next = eval_next;
    o->has_eval = true;
    return 0;
}

/* The state file as a fixed record: the text, padded with spaces to
 * STATE_SIZE - 1 bytes and a newline (the fields are read by fscanf, which
 * skips the padding), so that it can be rewritten in place. */
static void state_text(const watch_outbox *o, char buf[STATE_SIZE]) {
    char hex[65], chex[65];
    ch_hex_encode(o->eval_prev, 32, hex);
    int len =
        snprintf(buf, STATE_SIZE,
                 "coinhound-watch-state 1\ndelivered %" PRIu64 "\neval_next %u\neval_prev %s\n",
                 o->delivered, o->eval_next, hex);
    if (o->has_committed) {
        ch_hex_encode(o->committed_prev, 32, chex);
        len += snprintf(buf + len, STATE_SIZE - (size_t)len,
                        "committed_next %u\ncommitted_prev %s\n", o->committed_next, chex);
    }
    if (o->untraced) {
        len += snprintf(buf + len, STATE_SIZE - (size_t)len, "untraced_from %" PRIu64 "\n",
                        o->untraced_from);
        if (o->untraced_lo <= o->untraced_hi)
            len += snprintf(buf + len, STATE_SIZE - (size_t)len,
                            "untraced_blocks %" PRIu64 " %" PRIu64 "\n", o->untraced_lo,
                            o->untraced_hi);
    }
    memset(buf + len, ' ', STATE_SIZE - 1 - (size_t)len);
    buf[STATE_SIZE - 1] = '\n';
}

/* The first save of a run (or one over a state file of another size):
 * the record through a temporary file, fsync, rename and an fsync of the
 * folder; the file is then kept open for the saves in place. */
static int save_by_rename(watch_outbox *o, const char *p, const char buf[STATE_SIZE],
                          ch_error *err) {
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", p);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return ch_err(err, "%s: cannot write: %s", tmp, strerror(errno));
    if (write_all(fd, buf, STATE_SIZE) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        return ch_err(err, "%s: cannot write: %s", tmp, strerror(e));
    }
    close(fd);
    if (rename(tmp, p) != 0) return ch_err(err, "%s: cannot rename: %s", p, strerror(errno));
    int dfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    o->state_fd = open(p, O_WRONLY | O_CLOEXEC);
    return 0; /* without the fd, the next save renames again */
}

int watch_outbox_save(watch_outbox *o, ch_error *err) {
    char p[4200], buf[STATE_SIZE];
    path_in(o, STATE_NAME, p, sizeof p);
    state_text(o, buf);
    struct stat st, at;
    if (o->state_fd >= 0 &&
        (fstat(o->state_fd, &st) != 0 || stat(p, &at) != 0 || st.st_ino != at.st_ino ||
         st.st_dev != at.st_dev || st.st_size != STATE_SIZE)) {
        close(o->state_fd); /* not the record this run wrote: made anew */
        o->state_fd = -1;
    }
    if (o->state_fd < 0) return save_by_rename(o, p, buf, err);
    /* In place, one sector, not synced: every value it holds is backed by
     * lines already synced (the log before eval_next moves, the sink
     * before delivered does), so the copy on disk, whenever the kernel
     * writes it, is one state or the next, never ahead of the files; a
     * power cut costs at most an evaluation or a delivery again (at least
     * once). A kill leaves the page cache whole. */
    if (pwrite(o->state_fd, buf, STATE_SIZE, 0) != STATE_SIZE)
        return ch_err(err, "%s: cannot write: %s", p, strerror(errno));
    return 0;
}

int watch_outbox_open(watch_outbox *o, const char *db_dir, const char *chain, ch_error *err) {
    memset(o, 0, sizeof *o);
    o->fd = -1;
    o->state_fd = -1;
    if (snprintf(o->dir, sizeof o->dir, "%s/%s/watch", db_dir, chain) >= (int)sizeof o->dir)
        return ch_err(err, "%s: path too long", db_dir);
    if (mkdir(o->dir, 0755) != 0 && errno != EEXIST)
        return ch_err(err, "%s: cannot create: %s", o->dir, strerror(errno));
    char p[4200];
    path_in(o, LOG_NAME, p, sizeof p);
    o->fd = open(p, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (o->fd < 0) return ch_err(err, "%s: cannot open: %s", p, strerror(errno));
    struct stat st;
    if (fstat(o->fd, &st) != 0) return ch_err(err, "%s: %s", p, strerror(errno));
    size_t len = (size_t)st.st_size;
    char *buf = malloc(len + 1);
    if (!buf) return ch_err(err, "out of memory");
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(o->fd, buf + got, len - got, (off_t)got);
        if (r <= 0) {
            free(buf);
            return ch_err(err, "%s: read error", p);
        }
        got += (size_t)r;
    }
    /* a torn last line: cut it */
    size_t end = len;
    while (end > 0 && buf[end - 1] != '\n')
        end--;
    if (end < len && ftruncate(o->fd, (off_t)end) != 0) {
        free(buf);
        return ch_err(err, "%s: cannot cut a torn last line: %s", p, strerror(errno));
    }
    o->size = end;
    unsigned long lineno = 0;
    /* the last coverage alert logged: 1 traces_off, 2 traces_on, at block */
    int last_cov = 0;
    uint64_t last_cov_at = 0;
    for (size_t pos = 0; pos < end;) {
        char *nl = memchr(buf + pos, '\n', end - pos);
        size_t n = (size_t)(nl - (buf + pos));
        lineno++;
        json_error_t je;
        json_t *a = json_loadb(buf + pos, n, 0, &je);
        const char *id = json_string_value(json_object_get(a, "id"));
        watch_entry tmp;
        if (!a || !id || strlen(id) != 32 || entry_facts(&tmp, a) != 0) {
            json_decref(a);
            free(buf);
            return ch_err(err, "%s: line %lu is not a watcher alert", p, lineno);
        }
        watch_entry *e = find(o, id);
        if (!e && !(e = insert(o, id, pos, (uint32_t)n))) {
            json_decref(a);
            free(buf);
            return ch_err(err, "out of memory");
        }
        e->number = tmp.number;
        memcpy(e->hash, tmp.hash, 32);
        e->retracted = tmp.retracted;
        e->coverage = tmp.coverage;
        if (tmp.coverage) {
            const char *ev = json_string_value(json_object_get(a, "event"));
            last_cov = ev && !strcmp(ev, "traces_off") ? 1 : ev && !strcmp(ev, "traces_on") ? 2 : 0;
            last_cov_at = tmp.number;
        }
        json_decref(a);
        pos += n + 1;
    }
    free(buf);
    if (load_state(o, err) != 0) return -1;
    if (o->delivered > o->size) o->delivered = o->size;
    /* the log says last whether a range is open: a kill between a coverage
     * alert's sync and the state's save leaves the state a step behind */
    if (last_cov == 1 && !o->untraced) {
        o->untraced = true;
        o->untraced_from = last_cov_at;
        o->untraced_lo = UINT64_MAX;
        o->untraced_hi = 0;
    } else if (last_cov == 2 && o->untraced && o->untraced_from == last_cov_at) {
        o->untraced = false;
    }
    return 0;
}

void watch_outbox_close(watch_outbox *o) {
    free(o->v);
    free(o->slots);
    if (o->fd >= 0) close(o->fd);
    if (o->state_fd >= 0) close(o->state_fd);
    memset(o, 0, sizeof *o);
    o->fd = -1;
    o->state_fd = -1;
}

/* Append a as one line; *off and *len (may be NULL) get where it lies. */
static int append(watch_outbox *o, json_t *a, uint64_t *off, uint32_t *len, ch_error *err) {
    char *line = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!line) return ch_err(err, "out of memory");
    size_t n = strlen(line);
    line[n] = '\n';
    int rc = write_all(o->fd, line, n + 1);
    free(line);
    if (rc != 0) {
        int e = errno;
        /* the part written is a torn line: cut it so the log stays whole */
        if (ftruncate(o->fd, (off_t)o->size) != 0) {
            /* the next open cuts it */
        }
        return ch_err(err, "%s/%s: cannot append an alert: %s", o->dir, LOG_NAME, strerror(e));
    }
    if (off) *off = o->size;
    if (len) *len = (uint32_t)n;
    o->size += n + 1;
    o->dirty = true;
    return 0;
}

int watch_outbox_add(watch_outbox *o, json_t *alert, ch_error *err) {
    const char *id = json_string_value(json_object_get(alert, "id"));
    watch_entry *e = id ? find(o, id) : NULL;
    if (e && !e->retracted) {
        json_decref(alert);
        return 0;
    }
    watch_entry facts;
    if (!id || strlen(id) != 32 || entry_facts(&facts, alert) != 0) {
        json_decref(alert);
        return ch_err(err, "internal: an alert without id, height or block hash");
    }
    char idbuf[33];
    snprintf(idbuf, sizeof idbuf, "%s", id);
    uint64_t off;
    uint32_t len;
    int rc = append(o, alert, &off, &len, err);
    json_decref(alert);
    if (rc != 0) return -1;
    if (!e && !(e = insert(o, idbuf, off, len))) return ch_err(err, "out of memory");
    e->off = off;
    e->len = len;
    e->number = facts.number;
    memcpy(e->hash, facts.hash, 32);
    e->retracted = false;
    e->coverage = facts.coverage;
    return 1;
}

/* The alert as first logged, read back from the log; NULL when it cannot
 * be (the log is the watcher's own: that is damage). */
static json_t *read_back(const watch_outbox *o, const watch_entry *e) {
    char *buf = malloc((size_t)e->len + 1);
    if (!buf) return NULL;
    size_t got = 0;
    while (got < e->len) {
        ssize_t r = pread(o->fd, buf + got, e->len - got, (off_t)(e->off + got));
        if (r <= 0) break;
        got += (size_t)r;
    }
    json_t *a = got == e->len ? json_loadb(buf, e->len, 0, NULL) : NULL;
    free(buf);
    return a;
}

int watch_outbox_retract_gone(watch_outbox *o, ch_store *s, bool below_tip, size_t *above,
                              ch_error *err) {
    uint64_t first = ch_store_first_number(s);
    uint32_t next = ch_store_next_height(s);
    int count = 0;
    if (above) *above = 0;
    for (size_t i = 0; i < o->n; i++) {
        watch_entry *e = &o->v[i];
        if (e->retracted || e->coverage || e->number < first) continue;
        uint64_t h = e->number - first;
        if (h < next && memcmp(ch_store_block(s, (uint32_t)h)->hash, e->hash, 32) == 0) continue;
        if (h >= next && below_tip) {
            if (above) ++*above;
            continue;
        }
        json_t *a = read_back(o, e);
        if (!a) return ch_err(err, "%s/%s: alert %s cannot be read back", o->dir, LOG_NAME, e->id);
        char why[200];
        snprintf(why, sizeof why,
                 "block %" PRIu64 " was reorganised away: the node's best chain no longer holds it",
                 e->number);
        json_object_set_new(a, "retracted", json_true());
        json_object_set_new(a, "retraction", json_string(why));
        int rc = append(o, a, NULL, NULL, err);
        json_decref(a);
        if (rc != 0) return -1;
        e->retracted = true;
        count++;
    }
    return count;
}

size_t watch_outbox_prune(watch_outbox *o, uint64_t below) {
    size_t k = 0;
    for (size_t i = 0; i < o->n; i++)
        k += o->v[i].number >= below;
    if (k == o->n) return 0;
    /* the arrays made anew at the size kept (memory follows the window);
     * without the memory for them, nothing is dropped */
    size_t n_slots = 1024;
    while (n_slots < 2 * (k + 1))
        n_slots *= 2;
    watch_entry *v = malloc((k ? k : 1) * sizeof *v);
    size_t *slots = malloc(n_slots * sizeof *slots);
    if (!v || !slots) {
        free(v);
        free(slots);
        return 0;
    }
    memset(slots, 0xff, n_slots * sizeof *slots);
    size_t dropped = o->n - k;
    k = 0;
    for (size_t i = 0; i < o->n; i++) {
        if (o->v[i].number < below) continue;
        v[k] = o->v[i];
        size_t h = id_hash(v[k].id) & (n_slots - 1);
        while (slots[h] != SIZE_MAX)
            h = (h + 1) & (n_slots - 1);
        slots[h] = k++;
    }
    free(o->v);
    free(o->slots);
    o->v = v;
    o->cap = k ? k : 1;
    o->n = k;
    o->slots = slots;
    o->n_slots = n_slots;
    return dropped;
}

int watch_outbox_sync(watch_outbox *o, ch_error *err) {
    if (!o->dirty) return 0;
    if (fdatasync(o->fd) != 0)
        return ch_err(err, "%s/%s: fdatasync: %s", o->dir, LOG_NAME, strerror(errno));
    o->dirty = false;
    return 0;
}

/* Both files durable: the log (when anything was appended) and the sink
 * (when it is a file), side by side (ch_sync_many), so that they share one
 * journal commit and one flush of the disk's cache instead of waiting for
 * two in turn. */
static int sync_both(watch_outbox *o, int fd, ch_error *err) {
    char log[4200];
    path_in(o, LOG_NAME, log, sizeof log);
    ch_sync_job jobs[2];
    size_t n = 0;
    if (o->dirty) jobs[n++] = (ch_sync_job){o->fd, false, log, 0};
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        jobs[n++] = (ch_sync_job){fd, false, "the alerts file", 0};
    if (ch_sync_many(jobs, n, err) != 0) return -1;
    o->dirty = false;
    return 0;
}

int watch_outbox_deliver(watch_outbox *o, int fd, ch_error *err) {
    if (o->delivered >= o->size) return watch_outbox_sync(o, err);
    /* The sink may take lines before the log is durable: neither cursor
     * moves until both are, so a crash before then evaluates the block
     * again and delivers its alerts again, with the same ids (at least
     * once). After a kill the page cache holds the log's lines; only a
     * power cut in this window can leave the sink lines the log lost,
     * which the block's evaluation again writes anew, unless a reorg took
     * the block away meanwhile: then no retraction follows them. */
    int lines = 0;
    char buf[65536];
    for (uint64_t pos = o->delivered; pos < o->size;) {
        size_t want = o->size - pos < sizeof buf ? (size_t)(o->size - pos) : sizeof buf;
        ssize_t r = pread(o->fd, buf, want, (off_t)pos);
        if (r <= 0) return ch_err(err, "%s/%s: read error", o->dir, LOG_NAME);
        for (ssize_t i = 0; i < r; i++)
            lines += buf[i] == '\n';
        if (write_all(fd, buf, (size_t)r) != 0)
            return ch_err(err, "cannot write alerts: %s", strerror(errno));
        pos += (uint64_t)r;
    }
    if (sync_both(o, fd, err) != 0) return -1;
    o->delivered = o->size;
    if (watch_outbox_save(o, err) != 0) return -1;
    return lines;
}

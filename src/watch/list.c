/* Reading the alert log beside a store (coinhound alerts, serve's alert
 * endpoints): a reader, safe while the watcher appends (a last line without
 * its newline is being written, and is left out). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "coinhound/watch.h"
#include "util/vec.h"

/* The log's bytes from offset to its end, cut after the last newline:
 * *buf (free it) and *len. 1 read, 0 no log (ENOENT), -1 error. */
static int read_tail(const char *path, uint64_t offset, char **buf, size_t *len, ch_error *err) {
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) return 0;
        return ch_err(err, "%s: cannot open: %s", path, strerror(errno));
    }
    if (offset && fseeko(f, (off_t)offset, SEEK_SET) != 0) {
        fclose(f);
        return ch_err(err, "%s: cannot seek: %s", path, strerror(errno));
    }
    char *b = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            char *nb = ch_grow(b, &cap, n + 65536, 1);
            if (!nb) {
                free(b);
                fclose(f);
                return ch_err(err, "out of memory");
            }
            b = nb;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    while (n > 0 && b[n - 1] != '\n')
        n--;
    *buf = b;
    *len = n;
    return 1;
}

/* Where the records after the last line carrying since_id start in buf;
 * -1 when no line carries it. */
static long long after_id(const char *buf, size_t len, const char *since_id) {
    char key[160];
    snprintf(key, sizeof key, "{\"id\":\"%s\"", since_id);
    size_t kl = strlen(key);
    long long start = -1;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t n = (size_t)(nl - (buf + pos));
        if (n >= kl && !memcmp(buf + pos, key, kl)) start = (long long)(pos + n + 1);
        pos += n + 1;
    }
    return start;
}

/* Each line of buf[start, len) to fn: the count, or -1 when fn stops. */
static int each_line(const char *buf, size_t start, size_t len, ch_watch_alert_fn fn, void *ctx) {
    int count = 0;
    for (size_t pos = start; pos < len;) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t n = (size_t)(nl - (buf + pos));
        if (fn(buf + pos, n, ctx) != 0) return -1;
        count++;
        pos += n + 1;
    }
    return count;
}

int ch_watch_alerts_foreach(const char *db_dir, const char *chain, const char *since_id,
                            ch_watch_alert_fn fn, void *ctx, ch_error *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s/watch/alerts.jsonl", db_dir, chain);
    char *buf;
    size_t len;
    int rc = read_tail(path, 0, &buf, &len, err);
    if (rc < 0) return -1;
    if (rc == 0)
        return ch_err(err, "%s: no alert log (has 'coinhound watch %s' run on this store?)", path,
                      chain);
    /* --since: start after the last line carrying that id */
    long long start = 0;
    if (since_id && (start = after_id(buf, len, since_id)) < 0) {
        free(buf);
        return ch_err(err, "%s: no alert has id %s", path, since_id);
    }
    int count = each_line(buf, (size_t)start, len, fn, ctx);
    free(buf);
    return count;
}

int ch_watch_alerts_follow(const char *db_dir, const char *chain, const char *since_id,
                           uint64_t *offset, ch_watch_alert_fn fn, void *ctx, ch_error *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s/watch/alerts.jsonl", db_dir, chain);
    char *buf;
    size_t len;
    int rc = read_tail(path, *offset, &buf, &len, err);
    if (rc <= 0) return rc; /* no log yet: nothing to follow, not an error */
    long long start = 0;
    if (since_id && (start = after_id(buf, len, since_id)) < 0) {
        free(buf);
        return ch_err(err, "%s: no alert has id %s", path, since_id);
    }
    int count = each_line(buf, (size_t)start, len, fn, ctx);
    if (count >= 0) *offset += len;
    free(buf);
    return count;
}

/* Reading the alert log beside a store (coinhound alerts): a reader, safe
 * while the watcher appends (a last line without its newline is being
 * written, and is left out). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/watch.h"
#include "util/vec.h"

int ch_watch_alerts_foreach(const char *db_dir, const char *chain, const char *since_id,
                            ch_watch_alert_fn fn, void *ctx, ch_error *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s/watch/alerts.jsonl", db_dir, chain);
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return ch_err(err, "%s: no alert log (has 'coinhound watch %s' run on this store?)",
                          path, chain);
        return ch_err(err, "%s: cannot open: %s", path, strerror(errno));
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            char *nb = ch_grow(buf, &cap, len + 65536, 1);
            if (!nb) {
                free(buf);
                fclose(f);
                return ch_err(err, "out of memory");
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    fclose(f);
    while (len > 0 && buf[len - 1] != '\n')
        len--;
    /* --since: start after the last line carrying that id */
    size_t start = 0;
    if (since_id) {
        char key[80];
        snprintf(key, sizeof key, "{\"id\":\"%s\"", since_id);
        bool found = false;
        for (size_t pos = 0; pos < len;) {
            char *nl = memchr(buf + pos, '\n', len - pos);
            size_t n = (size_t)(nl - (buf + pos));
            if (n >= strlen(key) && !memcmp(buf + pos, key, strlen(key))) {
                found = true;
                start = pos + n + 1;
            }
            pos += n + 1;
        }
        if (!found) {
            free(buf);
            return ch_err(err, "%s: no alert has id %s", path, since_id);
        }
    }
    int count = 0;
    for (size_t pos = start; pos < len;) {
        char *nl = memchr(buf + pos, '\n', len - pos);
        size_t n = (size_t)(nl - (buf + pos));
        if (fn(buf + pos, n, ctx) != 0) {
            free(buf);
            return -1;
        }
        count++;
        pos += n + 1;
    }
    free(buf);
    return count;
}

/* Webhook delivery of the alert log: each line of DIR/<chain>/watch/
 * alerts.jsonl, once it is synced to disk, is POSTed alone to the URL, the
 * body signed with HMAC-SHA256 under a shared secret, and the cursor
 * (DIR/<chain>/watch/webhook.cursor, with the URL it belongs to) moves past
 * the line only when the receiver answered 2xx. So delivery is at least
 * once: a kill -9 between the answer and the cursor's rename delivers that
 * line again after a restart, with the same id, which the receiver dedups.
 *
 * It runs on a thread of its own, so that a receiver that is down or slow
 * never holds up the chain: failures are retried with backoff (250 ms
 * doubling to the cap), each streak logged once when it starts and once when
 * it ends. On stop, what is already synced is delivered for up to the grace
 * period; the rest waits in the log for the next run.
 *
 * Headers of each POST:
 *   Content-Type: application/json
 *   X-Coinhound-Alert-Id: <the alert's id>
 *   X-Coinhound-Signature: sha256=<hex HMAC-SHA256(secret, body)>
 *   User-Agent: coinhound-watch */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coinhound/hash.h"
#include "watch/watch_internal.h"
#include "util/vec.h"

#define CURSOR_NAME "webhook.cursor"
#define MAX_LINE    (4u << 20) /* an alert line is a few KiB; a longer one is skipped */

struct watch_webhook {
    char url[2048];
    uint8_t *secret;
    size_t secret_len;
    char dir[4096];
    int fd; /* the log, read */
    unsigned max_backoff_ms;
    uint64_t cursor;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t synced; /* bytes of the log known to be on disk (main thread) */
    int stop;        /* 1: drain until the deadline, then leave */
    struct timespec deadline;
    uint64_t delivered, failures;
    CURL *curl;
};

static void now_ts(struct timespec *t) {
    clock_gettime(CLOCK_MONOTONIC, t);
}

static bool past(const struct timespec *d) {
    struct timespec n;
    now_ts(&n);
    return n.tv_sec > d->tv_sec || (n.tv_sec == d->tv_sec && n.tv_nsec >= d->tv_nsec);
}

void watch_webhook_sign(const uint8_t *key, size_t key_len, const char *body, size_t len,
                        char out[65]) {
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)body, len, mac, &n);
    ch_hex_encode(mac, 32, out);
}

/* The cursor file: "coinhound-webhook 1\nurl URL\noffset N\n". A cursor of
 * another URL does not count: a new receiver gets the log from its start. */
static uint64_t load_cursor(watch_webhook *h) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", h->dir, CURSOR_NAME);
    FILE *f = fopen(p, "r");
    if (!f) return 0;
    char line[2200], url[2100] = "";
    unsigned long long off = 0;
    bool ok = fgets(line, sizeof line, f) && !strcmp(line, "coinhound-webhook 1\n") &&
              fgets(line, sizeof line, f) && sscanf(line, "url %2047s", url) == 1 &&
              fgets(line, sizeof line, f) && sscanf(line, "offset %llu", &off) == 1;
    fclose(f);
    return ok && !strcmp(url, h->url) ? off : 0;
}

static int save_cursor(watch_webhook *h) {
    char p[4200], tmp[4300], buf[2300];
    snprintf(p, sizeof p, "%s/%s", h->dir, CURSOR_NAME);
    snprintf(tmp, sizeof tmp, "%s.tmp", p);
    int len = snprintf(buf, sizeof buf, "coinhound-webhook 1\nurl %s\noffset %" PRIu64 "\n", h->url,
                       h->cursor);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    bool ok = write(fd, buf, (size_t)len) == len && fsync(fd) == 0;
    close(fd);
    if (!ok || rename(tmp, p) != 0) return -1;
    int dfd = open(h->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

static size_t discard(char *d, size_t sz, size_t nm, void *ctx) {
    (void)d, (void)ctx;
    return sz * nm;
}

/* POST one alert: 0 when the receiver took it (2xx), else -1 with why. */
static int post(watch_webhook *h, const char *body, size_t len, char why[256]) {
    char sig[65], hsig[100], hid[80] = "X-Coinhound-Alert-Id: ";
    watch_webhook_sign(h->secret, h->secret_len, body, len, sig);
    snprintf(hsig, sizeof hsig, "X-Coinhound-Signature: sha256=%s", sig);
    const char *id = strstr(body, "\"id\":\"");
    if (id) snprintf(hid + strlen(hid), sizeof hid - strlen(hid), "%.32s", id + 6);
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    hd = curl_slist_append(hd, hsig);
    hd = curl_slist_append(hd, hid);
    hd = curl_slist_append(hd, "Expect:");
    CURL *c = h->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, h->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "coinhound-watch");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 15000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(hd);
    long code = 0;
    if (rc != CURLE_OK) {
        snprintf(why, 256, "%s", curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (code < 200 || code > 299) {
        snprintf(why, 256, "HTTP %ld", code);
        return -1;
    }
    return 0;
}

/* The line at the cursor (up to `avail`), malloc'ed, without its newline;
 * NULL when none is whole yet. *skip is set for a line too long to send. */
static char *line_at(watch_webhook *h, uint64_t avail, size_t *len, bool *skip) {
    *skip = false;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    while (b && h->cursor + n < avail) {
        if (n == cap) {
            if (cap >= MAX_LINE) {
                *skip = true;
                break;
            }
            char *nb = ch_grow(b, &cap, cap + 1, 1); /* doubles */
            if (!nb) break;
            b = nb;
        }
        size_t want = cap - n;
        if (avail - h->cursor - n < want) want = (size_t)(avail - h->cursor - n);
        ssize_t r = pread(h->fd, b + n, want, (off_t)(h->cursor + n));
        if (r <= 0) break;
        char *nl = memchr(b + n, '\n', (size_t)r);
        if (nl) {
            *len = (size_t)(nl - b);
            *nl = 0;
            return b;
        }
        n += (size_t)r;
    }
    if (*skip) { /* find its end to step over it */
        uint64_t pos = h->cursor + n;
        char c;
        while (pos < avail && pread(h->fd, &c, 1, (off_t)pos) == 1 && c != '\n')
            pos++;
        *len = (size_t)(pos - h->cursor);
    }
    free(b);
    return NULL;
}

/* Wait up to ms or until stopped; false when the thread should leave. */
static bool nap(watch_webhook *h, unsigned ms) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&h->mu);
    while (!h->stop && pthread_cond_timedwait(&h->cv, &h->mu, &until) != ETIMEDOUT) {
    }
    bool go_on = !h->stop;
    pthread_mutex_unlock(&h->mu);
    return go_on;
}

/* The delivery thread: sends the log's alerts from the cursor on, one POST
 * each, only those already synced to disk (never an alert a crash could
 * take back), moves the cursor on a 2xx alone (at least once), backs off on
 * failure, and on stop keeps delivering until the deadline. Its own thread
 * so a slow receiver never holds up the block the watcher is taking. */
static void *run(void *arg) {
    watch_webhook *h = arg;
    unsigned backoff = 250;
    bool failing = false;
    for (;;) {
        pthread_mutex_lock(&h->mu);
        while (!h->stop && h->cursor >= h->synced)
            pthread_cond_wait(&h->cv, &h->mu);
        uint64_t avail = h->synced;
        int stop = h->stop;
        pthread_mutex_unlock(&h->mu);
        if (stop && (h->cursor >= avail || past(&h->deadline))) break;
        size_t len = 0;
        bool skip;
        char *line = line_at(h, avail, &len, &skip);
        if (!line) {
            if (skip) {
                watch_log("error",
                          "webhook: the alert at byte %" PRIu64
                          " of the log is over 4 MiB: not sent",
                          h->cursor);
                h->cursor += len + 1;
                save_cursor(h);
                continue;
            }
            if (!nap(h, 200) && past(&h->deadline)) break;
            continue;
        }
        char why[256];
        if (post(h, line, len, why) == 0) {
            h->cursor += len + 1;
            h->delivered++;
            if (save_cursor(h) != 0)
                watch_log("error", "webhook: cannot save %s/%s: %s (the alert may be sent again)",
                          h->dir, CURSOR_NAME, strerror(errno));
            if (failing)
                watch_log("info", "webhook: %s takes alerts again (%" PRIu64 " failed attempt%s)",
                          h->url, h->failures, h->failures == 1 ? "" : "s");
            failing = false;
            h->failures = 0;
            backoff = 250;
        } else {
            h->failures++;
            if (!failing)
                watch_log("warn",
                          "webhook: %s: %s; retrying with backoff (the alerts wait in the "
                          "log)",
                          h->url, why);
            failing = true;
            unsigned cap = h->max_backoff_ms ? h->max_backoff_ms : 30000;
            bool go_on = nap(h, backoff);
            backoff = backoff * 2 > cap ? cap : backoff * 2;
            if (!go_on) { /* stopping: one failure ends the drain */
                free(line);
                break;
            }
        }
        free(line);
    }
    return NULL;
}

int watch_webhook_start(const char *url, const uint8_t *secret, size_t secret_len,
                        const watch_outbox *ob, unsigned max_backoff_ms, watch_webhook **out,
                        ch_error *err) {
    *out = NULL;
    if (strlen(url) >= 2048 || strchr(url, ' ') || strchr(url, '\n'))
        return ch_err(err, "--webhook: '%s' is not a usable URL", url);
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
        return ch_err(err, "--webhook: '%s' is not an http:// or https:// URL", url);
    if (!secret || !secret_len)
        return ch_err(err, "--webhook needs a secret to sign with (--webhook-secret-file FILE, "
                           "or COINHOUND_WEBHOOK_SECRET)");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return ch_err(err, "libcurl failed to initialise");
    watch_webhook *h = calloc(1, sizeof *h);
    if (!h || !(h->secret = malloc(secret_len)) || !(h->curl = curl_easy_init())) {
        if (h) free(h->secret);
        free(h);
        return ch_err(err, "out of memory");
    }
    memcpy(h->secret, secret, secret_len);
    h->secret_len = secret_len;
    snprintf(h->url, sizeof h->url, "%s", url);
    snprintf(h->dir, sizeof h->dir, "%s", ob->dir);
    h->max_backoff_ms = max_backoff_ms;
    char p[4200];
    snprintf(p, sizeof p, "%s/alerts.jsonl", ob->dir);
    h->fd = open(p, O_RDONLY | O_CLOEXEC);
    if (h->fd < 0) {
        curl_easy_cleanup(h->curl);
        free(h->secret);
        free(h);
        return ch_err(err, "%s: cannot open: %s", p, strerror(errno));
    }
    h->cursor = load_cursor(h);
    /* a cursor past the log (a torn tail cut since): what follows is new */
    if (h->cursor > ob->size) h->cursor = ob->size;
    h->synced = ob->dirty ? 0 : ob->size;
    if (h->synced < h->cursor) h->synced = h->cursor;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    if (pthread_create(&h->th, NULL, run, h) != 0) {
        close(h->fd);
        curl_easy_cleanup(h->curl);
        free(h->secret);
        free(h);
        return ch_err(err, "cannot start the webhook thread");
    }
    watch_log("info", "webhook: delivering to %s from byte %" PRIu64 " of the log", url, h->cursor);
    *out = h;
    return 0;
}

void watch_webhook_publish(watch_webhook *h, uint64_t synced) {
    if (!h) return;
    pthread_mutex_lock(&h->mu);
    if (synced > h->synced) {
        h->synced = synced;
        pthread_cond_signal(&h->cv);
    }
    pthread_mutex_unlock(&h->mu);
}

void watch_webhook_stop(watch_webhook *h, unsigned grace_ms) {
    if (!h) return;
    pthread_mutex_lock(&h->mu);
    now_ts(&h->deadline);
    h->deadline.tv_sec += grace_ms / 1000;
    h->deadline.tv_nsec += (long)(grace_ms % 1000) * 1000000L;
    if (h->deadline.tv_nsec >= 1000000000L)
        h->deadline.tv_sec++, h->deadline.tv_nsec -= 1000000000L;
    h->stop = 1;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->th, NULL);
    uint64_t left = h->synced > h->cursor ? h->synced - h->cursor : 0;
    if (left)
        watch_log("warn",
                  "webhook: %" PRIu64 " bytes of alerts not acknowledged by %s: they are "
                  "sent on the next run",
                  left, h->url);
    close(h->fd);
    curl_easy_cleanup(h->curl);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    free(h->secret);
    free(h);
}

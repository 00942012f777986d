/* The webhook receiver of the watcher's tests (hookrecv.h). */
#include "hookrecv.h"
#include "testutil.h"

#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct body {
    char *p;
    size_t n;
} body;

static bool signature_ok(const hookrecv *r, const char *hdr, const char *b, size_t n) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    HMAC(EVP_sha256(), r->secret, (int)strlen(r->secret), (const unsigned char *)b, n, mac, &len);
    char want[80] = "sha256=";
    for (unsigned i = 0; i < len; i++)
        snprintf(want + 7 + 2 * i, 3, "%02x", mac[i]);
    return hdr && !strcmp(hdr, want);
}

/* One request: the body gathered, then checked and answered (400 a bad
 * signature or id header, 500 when told to fail, else 200 and the id kept). */
static enum MHD_Result on_req(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **con_cls) {
    (void)url, (void)version;
    hookrecv *r = cls;
    body *b = *con_cls;
    if (!b) {
        *con_cls = calloc(1, sizeof(body));
        return *con_cls ? MHD_YES : MHD_NO;
    }
    if (*size) {
        char *p = realloc(b->p, b->n + *size + 1);
        if (!p) return MHD_NO;
        b->p = p;
        memcpy(b->p + b->n, data, *size);
        b->n += *size;
        b->p[b->n] = 0;
        *size = 0;
        return MHD_YES;
    }
    unsigned status = 200;
    pthread_mutex_lock(&r->mu);
    r->requests++;
    const char *sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Coinhound-Signature");
    const char *hid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Coinhound-Alert-Id");
    json_t *a = b->p ? json_loads(b->p, 0, NULL) : NULL;
    const char *id = json_string_value(json_object_get(a, "id"));
    if (strcmp(method, "POST") || !b->p || !signature_ok(r, sig, b->p, b->n) || !id || !hid ||
        strcmp(id, hid)) {
        r->bad_signatures++;
        status = 400;
    } else if (r->fail_next > 0) {
        r->fail_next--;
        status = 500;
    } else if (r->every_nth_fail && r->requests % r->every_nth_fail == 0) {
        status = 500;
    } else {
        r->acked++;
        json_object_set_new(r->ids, id,
                            json_boolean(json_is_true(json_object_get(a, "retracted"))));
    }
    pthread_mutex_unlock(&r->mu);
    json_decref(a);
    struct MHD_Response *resp = MHD_create_response_from_buffer(2, "ok", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode t) {
    (void)cls, (void)c, (void)t;
    body *b = *con_cls;
    if (b) free(b->p);
    free(b);
    *con_cls = NULL;
}

void hr_init(hookrecv *r, const char *secret) {
    memset(r, 0, sizeof *r);
    r->secret = secret;
    r->ids = json_object();
    pthread_mutex_init(&r->mu, NULL);
}

int hr_start(hookrecv *r, int port) {
    r->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port, NULL, NULL, on_req, r,
                            MHD_OPTION_NOTIFY_COMPLETED, on_done, r, MHD_OPTION_END);
    assert_non_null(r->d);
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(r->d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(i);
    r->port = i->port;
    return r->port;
}

void hr_stop(hookrecv *r) {
    if (r->d) MHD_stop_daemon(r->d);
    r->d = NULL;
}

void hr_free(hookrecv *r) {
    hr_stop(r);
    json_decref(r->ids);
    r->ids = NULL;
}

int hr_acked_ids(hookrecv *r) {
    pthread_mutex_lock(&r->mu);
    int n = (int)json_object_size(r->ids);
    pthread_mutex_unlock(&r->mu);
    return n;
}

bool hr_has(hookrecv *r, const char *id) {
    pthread_mutex_lock(&r->mu);
    bool has = json_object_get(r->ids, id) != NULL;
    pthread_mutex_unlock(&r->mu);
    return has;
}

void hr_wait_acked(hookrecv *r, int want, unsigned ms) {
    for (unsigned t = 0; hr_acked_ids(r) < want && t < ms; t += 100) {
        struct timespec ts = {0, 100000000L};
        nanosleep(&ts, NULL);
    }
}

int hr_assert_log_acked(hookrecv *r, const char *db, const char *chain) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s alerts --db %s --chain %s --json", tu_bin("coinhound"), db,
             chain);
    int st;
    char *out = tu_run(cmd, &st);
    assert_int_equal(st, 0);
    json_t *logged = json_object(); /* id -> retracted, of its last line */
    int n = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        json_t *a = json_loads(line, 0, NULL);
        assert_non_null(a);
        const char *id = json_string_value(json_object_get(a, "id"));
        assert_non_null(id);
        if (!hr_has(r, id)) fail_msg("alert %s of the log never reached the receiver", id);
        json_object_set_new(logged, id,
                            json_boolean(json_is_true(json_object_get(a, "retracted"))));
        json_decref(a);
        n++;
    }
    free(out);
    /* nothing acknowledged that the log does not hold, and the last line
     * acknowledged of each id is the log's last (a retraction reached the
     * receiver after its alert) */
    pthread_mutex_lock(&r->mu);
    bool same = json_equal(r->ids, logged);
    pthread_mutex_unlock(&r->mu);
    if (!same) {
        char *a = json_dumps(r->ids, JSON_COMPACT | JSON_SORT_KEYS);
        char *b = json_dumps(logged, JSON_COMPACT | JSON_SORT_KEYS);
        fail_msg("the receiver's ids (id -> retracted) differ from the log's:\n%.2000s\n%.2000s", a,
                 b);
    }
    json_decref(logged);
    return n;
}

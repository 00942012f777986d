/* Webhook delivery against a real node (anvil) and a receiver in this test
 * (libmicrohttpd on a loopback port) that checks each POST's signature
 * itself (HMAC-SHA256 of the body under the secret, computed here with
 * OpenSSL) and counts the ids it acknowledged. The claims:
 *   - every alert of the log reaches the receiver, signed, with its id in a
 *     header, even when the receiver answers 500 at first, then recovers;
 *   - a receiver that is down while the watcher runs, then a kill -9 of the
 *     watcher, then a restart with the receiver up: everything the log holds
 *     is delivered (at least once; the receiver dedups by id);
 *   - kill -9 at random moments while payments flow and the receiver fails
 *     now and then: at the end, every id of the log was acknowledged.
 * Skipped, saying why, when anvil is absent. */
#include "support/testutil.h"
#include "support/anvil.h"

#include <curl/curl.h>
#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SECRET "test secret: not a real one"

/* ---- the receiver ---- */

typedef struct receiver {
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t mu;
    int fail_next;      /* answer 500 to this many more requests */
    int every_nth_fail; /* answer 500 to every n-th request (0: never) */
    int requests, bad_signatures, acked;
    char ids[512][33]; /* distinct ids acknowledged */
    int n_ids;
} receiver;

typedef struct body {
    char *p;
    size_t n;
} body;

static bool signature_ok(const char *hdr, const char *b, size_t n) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)b, n, mac, &len);
    char want[80] = "sha256=";
    for (unsigned i = 0; i < len; i++)
        snprintf(want + 7 + 2 * i, 3, "%02x", mac[i]);
    return hdr && !strcmp(hdr, want);
}

static enum MHD_Result on_req(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **con_cls) {
    (void)url, (void)version;
    receiver *r = cls;
    body *b = *con_cls;
    if (!b) {
        *con_cls = calloc(1, sizeof(body));
        return MHD_YES;
    }
    if (*size) {
        b->p = realloc(b->p, b->n + *size + 1);
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
    if (strcmp(method, "POST") || !b->p || !signature_ok(sig, b->p, b->n) || !id || !hid ||
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
        bool seen = false;
        for (int i = 0; i < r->n_ids && !seen; i++)
            seen = !strcmp(r->ids[i], id);
        if (!seen && r->n_ids < 512) snprintf(r->ids[r->n_ids++], 33, "%s", id);
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

static void receiver_start(receiver *r, int port) {
    r->port = port;
    r->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port, NULL, NULL, on_req, r,
                            MHD_OPTION_NOTIFY_COMPLETED, on_done, r, MHD_OPTION_END);
    assert_non_null(r->d);
}

static void receiver_stop(receiver *r) {
    if (r->d) MHD_stop_daemon(r->d);
    r->d = NULL;
}

static int acked_ids(receiver *r) {
    pthread_mutex_lock(&r->mu);
    int n = r->n_ids;
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* Every id of the store's alert log was acknowledged by r. */
static void all_log_ids_acked(fx *f, receiver *r, int want) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s alerts --db %s --json", tu_bin("coinhound"), f->db);
    int st;
    char *out = tu_run(cmd, &st);
    assert_int_equal(st, 0);
    int n = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        json_t *a = json_loads(line, 0, NULL);
        assert_non_null(a);
        const char *id = json_string_value(json_object_get(a, "id"));
        bool seen = false;
        for (int i = 0; i < r->n_ids && !seen; i++)
            seen = !strcmp(r->ids[i], id);
        if (!seen) fail_msg("alert %s of the log never reached the receiver", id);
        json_decref(a);
        n++;
    }
    free(out);
    assert_int_equal(n, want);
    assert_int_equal(r->n_ids, want);
}

static char g_url[64], g_secret_path[600];
static const char *g_args[] = {"--webhook", g_url, "--webhook-secret-file", g_secret_path, NULL};

static void with_webhook(fx *f, int port) {
    snprintf(g_url, sizeof g_url, "http://127.0.0.1:%d/hook", port);
    snprintf(g_secret_path, sizeof g_secret_path, "%s/secret", f->dir);
    an_write_file(g_secret_path, SECRET "\n");
    an_write_file(f->rules, "rules:\n"
                            "  - name: thief-moves\n"
                            "    kind: address\n"
                            "    addresses: [" THIEF "]\n"
                            "    severity: high\n");
    f->watch_args = g_args;
}

static void wait_acked(receiver *r, int want, unsigned ms) {
    for (unsigned t = 0; acked_ids(r) < want && t < ms; t += 100)
        an_msleep(100);
}

static void test_each_alert_is_posted_signed_through_a_failing_receiver(void **state) {
    (void)state;
    static fx f;
    if (!an_setup(&f)) skip();
    static receiver r;
    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.mu, NULL);
    r.fail_next = 3; /* fails, then recovers */
    int port = an_free_port();
    receiver_start(&r, port);
    with_webhook(&f, port);
    an_start_watcher(&f, NULL);
    for (int i = 0; i < 5; i++)
        free(an_send_eth(&f, ACCT0, THIEF, "0x1"));
    wait_acked(&r, 5, 60000);
    assert_int_equal(an_stop_watcher(&f), 0);
    assert_int_equal(r.bad_signatures, 0);
    assert_true(r.requests >= 5 + 3); /* the three refusals were retried */
    all_log_ids_acked(&f, &r, 5);
    /* the watcher said the receiver failed, then that it recovered */
    assert_true(an_count_in_file(f.log, " warn: webhook: ") >= 1);
    assert_true(an_count_in_file(f.log, "takes alerts again") >= 1);
    /* a restart sends nothing acknowledged again */
    int before = r.requests;
    an_start_watcher(&f, NULL);
    an_msleep(1000);
    assert_int_equal(an_stop_watcher(&f), 0);
    assert_int_equal(r.requests, before);
    receiver_stop(&r);
    an_teardown(&f);
}

static void test_a_kill9_while_the_receiver_is_down_loses_nothing(void **state) {
    (void)state;
    static fx f;
    if (!an_setup(&f)) skip();
    static receiver r;
    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.mu, NULL);
    int port = an_free_port();
    with_webhook(&f, port); /* nobody listens there yet */
    an_start_watcher(&f, NULL);
    for (int i = 0; i < 4; i++)
        free(an_send_eth(&f, ACCT0, THIEF, "0x2"));
    json_t *a = an_wait_alerts(&f, 4, 20000);
    assert_int_equal(json_array_size(a), 4);
    json_decref(a);
    kill(f.watcher, SIGKILL);
    waitpid(f.watcher, NULL, 0);
    f.watcher = 0;
    receiver_start(&r, port);
    an_start_watcher(&f, NULL);
    wait_acked(&r, 4, 60000);
    assert_int_equal(an_stop_watcher(&f), 0);
    assert_int_equal(r.bad_signatures, 0);
    all_log_ids_acked(&f, &r, 4);
    receiver_stop(&r);
    an_teardown(&f);
}

static void test_kill9_at_random_moments_with_a_flaky_receiver_loses_nothing(void **state) {
    (void)state;
    static fx f;
    if (!an_setup(&f)) skip();
    static receiver r;
    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.mu, NULL);
    r.every_nth_fail = 3;
    int port = an_free_port();
    receiver_start(&r, port);
    with_webhook(&f, port);
    srand(7);
    int sent = 0;
    for (int round = 0; round < 8; round++) {
        an_start_watcher_nowait(&f, NULL, round % 2 == 0);
        for (int i = 0; i < 2; i++, sent++)
            free(an_send_eth(&f, ACCT0, THIEF, "0x3"));
        an_msleep((unsigned)(rand() % 400));
        kill(f.watcher, SIGKILL);
        waitpid(f.watcher, NULL, 0);
        f.watcher = 0;
    }
    an_start_watcher(&f, NULL);
    /* every payment's alert in the log (the watcher catches up first: on a
     * busy machine that takes a while), then every one acknowledged */
    json_t *logged = an_wait_alerts(&f, (size_t)sent, 180000);
    if (json_array_size(logged) < (size_t)sent) {
        size_t len;
        char *log = (char *)tu_read_file(f.log, &len);
        fprintf(stderr, "only %zu of %d alerts delivered; the watcher's log:\n%s\n",
                json_array_size(logged), sent, log ? log : "(none)");
        free(log);
    }
    assert_int_equal(json_array_size(logged) >= (size_t)sent, 1);
    json_decref(logged);
    wait_acked(&r, sent, 90000);
    assert_int_equal(an_stop_watcher(&f), 0);
    assert_int_equal(r.bad_signatures, 0);
    all_log_ids_acked(&f, &r, sent);
    fprintf(stderr, "webhook under 8 kill -9s: %d alerts, %d requests, %d acknowledged\n", sent,
            r.requests, r.acked);
    receiver_stop(&r);
    an_teardown(&f);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_each_alert_is_posted_signed_through_a_failing_receiver,
                                  an_end_processes),
        cmocka_unit_test_teardown(test_a_kill9_while_the_receiver_is_down_loses_nothing,
                                  an_end_processes),
        cmocka_unit_test_teardown(test_kill9_at_random_moments_with_a_flaky_receiver_loses_nothing,
                                  an_end_processes),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}

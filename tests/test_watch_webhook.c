/* Webhook delivery against a real node (anvil) and a receiver in this test
 * process (tests/support/hookrecv.c: libmicrohttpd on a loopback port) that
 * checks each POST's signature itself (HMAC-SHA256 of the body under the
 * secret, computed with OpenSSL) and keeps the ids it acknowledged. The claims:
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
#include "support/hookrecv.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SECRET "test secret: not a real one"

/* Every id of the store's alert log was acknowledged by r, and want of them. */
static void all_log_ids_acked(fx *f, hookrecv *r, int want) {
    assert_int_equal(hr_assert_log_acked(r, f->db, "eth"), want);
    assert_int_equal(hr_acked_ids(r), want);
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

static void test_each_alert_is_posted_signed_through_a_failing_receiver(void **state) {
    (void)state;
    static fx f;
    if (!an_setup(&f)) skip();
    static hookrecv r;
    hr_init(&r, SECRET);
    r.fail_next = 3; /* fails, then recovers */
    int port = an_free_port();
    hr_start(&r, port);
    with_webhook(&f, port);
    an_start_watcher(&f, NULL);
    for (int i = 0; i < 5; i++)
        free(an_send_eth(&f, ACCT0, THIEF, "0x1"));
    hr_wait_acked(&r, 5, 60000);
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
    hr_free(&r);
    an_teardown(&f);
}

static void test_a_kill9_while_the_receiver_is_down_loses_nothing(void **state) {
    (void)state;
    static fx f;
    if (!an_setup(&f)) skip();
    static hookrecv r;
    hr_init(&r, SECRET);
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
    hr_start(&r, port);
    an_start_watcher(&f, NULL);
    hr_wait_acked(&r, 4, 60000);
    assert_int_equal(an_stop_watcher(&f), 0);
    assert_int_equal(r.bad_signatures, 0);
    all_log_ids_acked(&f, &r, 4);
    hr_free(&r);
    an_teardown(&f);
}

static void test_kill9_at_random_moments_with_a_flaky_receiver_loses_nothing(void **state) {
    (void)state;
    static fx f;
    if (!an_setup(&f)) skip();
    static hookrecv r;
    hr_init(&r, SECRET);
    r.every_nth_fail = 3;
    int port = an_free_port();
    hr_start(&r, port);
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
    hr_wait_acked(&r, sent, 90000);
    assert_int_equal(an_stop_watcher(&f), 0);
    assert_int_equal(r.bad_signatures, 0);
    all_log_ids_acked(&f, &r, sent);
    fprintf(stderr, "webhook under 8 kill -9s: %d alerts, %d requests, %d acknowledged\n", sent,
            r.requests, r.acked);
    hr_free(&r);
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

/* watch eth --rpc ws://...: new heads through an eth_subscribe("newHeads")
 * subscription (src/chains/eth/ws.c, the watcher's own RFC 6455 client),
 * blocks fetched over http:// at the same place, against a real node
 * (anvil serves both on one port). The claims:
 *   - with the poll interval set to ten minutes, each payment's alert
 *     arrives within seconds: the subscription, not polling, brings the
 *     blocks;
 *   - a connection dropped under the watcher (a TCP relay in this test,
 *     between the watcher and anvil, cuts it and refuses new ones for a
 *     while) is noticed, tried again with a growing wait (each retry
 *     logged with it), and once the relay lets it through the
 *     subscription stands again and the next payment's alert arrives as
 *     promptly.
 * The frame parser and writer are checked byte by byte here too (RFC 6455
 * section 5.7's examples), besides fuzz/fuzz_ws_frame.c. Skipped, saying
 * why, when anvil is absent (the frame checks run anyway). */
#include "support/testutil.h"
#include "support/anvil.h"

#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "chains/eth/ws.h"

/* ---- RFC 6455's examples ---- */

static void test_frames_parse_and_write_as_rfc6455_shows(void **state) {
    (void)state;
    ch_error err;
    ws_frame f;
    /* 5.7: a single-frame unmasked text message "Hello" */
    static const uint8_t hello[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    assert_int_equal(ws_frame_parse(hello, sizeof hello, 1 << 20, &f, &err), 1);
    assert_true(f.fin && f.opcode == WS_TEXT && !f.masked && f.len == 5 && f.header == 2);
    assert_int_equal(ws_frame_parse(hello, 4, 1 << 20, &f, &err), 0); /* more needed */
    /* a masked one */
    static const uint8_t masked[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                     0x7f, 0x9f, 0x4d, 0x51, 0x58};
    assert_int_equal(ws_frame_parse(masked, sizeof masked, 1 << 20, &f, &err), 1);
    char text[6];
    for (int i = 0; i < 5; i++)
        text[i] = (char)(masked[f.header + i] ^ f.mask[i & 3]);
    text[5] = 0;
    assert_string_equal(text, "Hello");
    /* the writer makes exactly that frame with that mask */
    uint8_t out[32];
    static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    assert_int_equal(ws_frame_write(out, WS_TEXT, (const uint8_t *)"Hello", 5, key), sizeof masked);
    assert_memory_equal(out, masked, sizeof masked);
    /* fragmented: "Hel" then "lo" */
    static const uint8_t frag[] = {0x01, 0x03, 0x48, 0x65, 0x6c};
    assert_int_equal(ws_frame_parse(frag, sizeof frag, 1 << 20, &f, &err), 1);
    assert_false(f.fin);
    /* a 256-byte binary frame: the 16-bit length */
    uint8_t big[4 + 256] = {0x82, 0x7e, 0x01, 0x00};
    assert_int_equal(ws_frame_parse(big, sizeof big, 1 << 20, &f, &err), 1);
    assert_true(f.len == 256 && f.header == 4);
    /* malformed: reserved bits, a fragmented ping, a long close, a bound */
    static const uint8_t rsv[] = {0xc1, 0x00};
    assert_int_equal(ws_frame_parse(rsv, 2, 1 << 20, &f, &err), -1);
    static const uint8_t fping[] = {0x09, 0x00};
    assert_int_equal(ws_frame_parse(fping, 2, 1 << 20, &f, &err), -1);
    static const uint8_t lclose[] = {0x88, 0x7e, 0x00, 0x80};
    assert_int_equal(ws_frame_parse(lclose, 4, 1 << 20, &f, &err), -1);
    assert_int_equal(ws_frame_parse(big, sizeof big, 100, &f, &err), -1);
    assert_non_null(strstr(err.msg, "over 100"));
    /* 1.3: the accept value of the RFC's sample key */
    char acc[29];
    ws_accept_for("dGhlIHNhbXBsZSBub25jZQ==", acc);
    assert_string_equal(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

/* ---- a TCP relay that can drop its connections ---- */

typedef struct relay {
    int lfd, port, to_port;
    pthread_t th;
    pthread_mutex_t mu;
    int pairs[64][2];
    int n;
    bool refuse; /* accept and close at once */
    bool cut;    /* close every pair now */
    bool stop;
} relay;

static int dial(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void drop_pair(relay *r, int i) {
    close(r->pairs[i][0]);
    close(r->pairs[i][1]);
    r->pairs[i][0] = r->pairs[--r->n][0];
    r->pairs[i][1] = r->pairs[r->n][1];
}

/* Accept, connect each to the node, copy bytes both ways. */
static void *relay_run(void *arg) {
    relay *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        if (r->stop) {
            pthread_mutex_unlock(&r->mu);
            break;
        }
        if (r->cut) {
            while (r->n)
                drop_pair(r, 0);
            r->cut = false;
        }
        struct pollfd p[129];
        int np = 0;
        p[np++] = (struct pollfd){.fd = r->lfd, .events = POLLIN};
        for (int i = 0; i < r->n; i++) {
            p[np++] = (struct pollfd){.fd = r->pairs[i][0], .events = POLLIN};
            p[np++] = (struct pollfd){.fd = r->pairs[i][1], .events = POLLIN};
        }
        pthread_mutex_unlock(&r->mu);
        if (poll(p, (nfds_t)np, 50) <= 0) continue;
        pthread_mutex_lock(&r->mu);
        if (p[0].revents & POLLIN) {
            int c = accept4(r->lfd, NULL, NULL, SOCK_CLOEXEC);
            int s = c >= 0 && !r->refuse && r->n < 64 ? dial(r->to_port) : -1;
            if (s >= 0) {
                r->pairs[r->n][0] = c;
                r->pairs[r->n][1] = s;
                r->n++;
            } else if (c >= 0) {
                close(c);
            }
        }
        for (int k = 1; k < np; k++) {
            if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            int i = (k - 1) / 2, side = (k - 1) % 2;
            if (i >= r->n || r->pairs[i][side] != p[k].fd) continue; /* dropped meanwhile */
            char buf[65536];
            ssize_t got = read(p[k].fd, buf, sizeof buf);
            if (got <= 0 || send(r->pairs[i][!side], buf, (size_t)got, MSG_NOSIGNAL) != got)
                drop_pair(r, i);
        }
        pthread_mutex_unlock(&r->mu);
    }
    while (r->n)
        drop_pair(r, 0);
    close(r->lfd);
    return NULL;
}

static void relay_start(relay *r, int to_port) {
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    r->to_port = to_port;
    r->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(r->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(r->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(r->lfd, 16), 0);
    socklen_t l = sizeof a;
    getsockname(r->lfd, (struct sockaddr *)&a, &l);
    r->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&r->th, NULL, relay_run, r), 0);
}

static void relay_set(relay *r, bool refuse, bool cut) {
    pthread_mutex_lock(&r->mu);
    r->refuse = refuse;
    r->cut = r->cut || cut;
    pthread_mutex_unlock(&r->mu);
}

static void relay_stop(relay *r) {
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->th, NULL);
}

/* ---- the watcher on a subscription ---- */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char g_ws[80];
static const char *g_args[] = {"--rpc", g_ws, "--poll-ms", "600000", NULL};

static void watch_thief(fx *f, int port) {
    snprintf(g_ws, sizeof g_ws, "ws://127.0.0.1:%d", port);
    an_write_file(f->rules, "rules:\n"
                            "  - name: thief-moves\n"
                            "    kind: address\n"
                            "    addresses: [" THIEF "]\n"
                            "    severity: high\n");
    f->watch_args = g_args; /* after the fixture's --rpc and --poll-ms: they win */
}

static void wait_log(const fx *f, const char *needle, int count, unsigned ms) {
    for (unsigned t = 0; an_count_in_file(f->log, needle) < count && t < ms; t += 50)
        an_msleep(50);
    if (an_count_in_file(f->log, needle) < count) {
        size_t len;
        char *log = (char *)tu_read_file(f->log, &len);
        fail_msg("'%s' not %d times in the watcher's log:\n%s", needle, count, log ? log : "");
    }
}

/* A payment to the thief, and the seconds until its alert was delivered. */
static double pay_and_time(fx *f, size_t alerts_before) {
    double t0 = now_s();
    free(an_send_eth(f, ACCT0, THIEF, "0x1"));
    json_t *a = an_wait_alerts(f, alerts_before + 1, 30000);
    size_t got = json_array_size(a);
    json_decref(a);
    assert_int_equal(got, alerts_before + 1);
    return now_s() - t0;
}

static void test_new_heads_come_through_the_subscription_not_polling(void **state) {
    (void)state;
    static fx f;
    if (!an_setup(&f)) skip();
    watch_thief(&f, f.port);
    an_start_watcher(&f, NULL);
    wait_log(&f, "info: subscribed to new heads at ws://", 1, 20000);
    double worst = 0;
    for (size_t i = 0; i < 3; i++) {
        double s = pay_and_time(&f, i);
        worst = s > worst ? s : worst;
    }
    /* a poll every ten minutes could not have brought them */
    assert_true(worst < 15);
    fprintf(stderr, "ws: 3 payments alerted, the slowest %.2f s after its send (poll: 600 s)\n",
            worst);
    assert_int_equal(an_stop_watcher(&f), 0);
    an_teardown(&f);
}

static void test_a_dropped_subscription_comes_back_with_backoff(void **state) {
    (void)state;
    static fx f;
    if (!an_setup(&f)) skip();
    static relay r;
    relay_start(&r, f.port);
    watch_thief(&f, r.port);
    an_start_watcher(&f, NULL);
    wait_log(&f, "info: subscribed to new heads at ws://", 1, 20000);
    pay_and_time(&f, 0);
    /* the node goes away: connections cut, new ones refused for a while */
    relay_set(&r, true, true);
    wait_log(&f, "warn: subscription: lost: ", 1, 10000);
    wait_log(&f, "warn: subscription: cannot connect: ", 3, 20000);
    relay_set(&r, false, false);
    wait_log(&f, "info: subscribed to new heads at ws://", 2, 40000);
    /* the waits grew: 250, 500, 1000 ms ... */
    assert_true(an_count_in_file(f.log, "retrying in 250 ms") >= 1);
    assert_true(an_count_in_file(f.log, "retrying in 500 ms") >= 1);
    assert_true(an_count_in_file(f.log, "retrying in 1000 ms") >= 1);
    double s = pay_and_time(&f, 1);
    assert_true(s < 15);
    fprintf(stderr, "ws: after the drop, the next payment alerted %.2f s after its send\n", s);
    assert_int_equal(an_stop_watcher(&f), 0);
    relay_stop(&r);
    an_teardown(&f);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frames_parse_and_write_as_rfc6455_shows),
        cmocka_unit_test_teardown(test_new_heads_come_through_the_subscription_not_polling,
                                  an_end_processes),
        cmocka_unit_test_teardown(test_a_dropped_subscription_comes_back_with_backoff,
                                  an_end_processes),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}

/* coinhound watch against a real node: anvil (Foundry's local Ethereum node,
 * installed from npm into tests/node by scripts/deps.sh), on a free loopback
 * port. The tests send real ETH transfers from anvil's funded, unlocked
 * accounts, script reorgs (anvil_reorg) and blocks (evm_mine), run the
 * watcher as a separate process (kill -9 included), and check its alerts
 * against what the node itself says: tx hashes from eth_sendTransaction,
 * block numbers and hashes from the receipts. Skipped, saying why, when
 * anvil is absent. */
#include "support/testutil.h"
#include "support/anvil.h"
#include "support/storecmp.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/select.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The facts of one alert against the node's own receipt. */
/* wei as ETH: 18 decimals, trailing zeros of the fraction cut. */
static void eth_of_wei(const char *wei, char out[64]) {
    char digits[48];
    size_t n = strlen(wei);
    snprintf(digits, sizeof digits, "%0*d%s", n < 19 ? (int)(19 - n) : 0, 0, wei);
    if (n >= 19) snprintf(digits, sizeof digits, "%s", wei);
    size_t whole = strlen(digits) - 18;
    snprintf(out, 64, "%.*s.%s", (int)whole, digits, digits + whole);
    size_t k = strlen(out);
    while (out[k - 1] == '0')
        out[--k] = 0;
    if (out[k - 1] == '.') out[--k] = 0;
}

static void check_alert(const fx *f, json_t *a, const char *tx, const char *amount,
                        const char *address, const char *severity) {
    long long number;
    char hash[67];
    an_receipt_block(f, tx, &number, hash);
    assert_string_equal(an_s_of(a, "tx"), tx);
    assert_int_equal(json_integer_value(json_object_get(a, "height")), number);
    assert_string_equal(an_s_of(a, "block_hash"), hash);
    assert_string_equal(an_s_of(a, "chain"), "eth");
    assert_string_equal(an_s_of(a, "asset"), "ETH");
    assert_string_equal(an_s_of(a, "amount"), amount);
    char eth[64];
    eth_of_wei(amount, eth);
    assert_string_equal(an_s_of(a, "amount_display"), eth);
    assert_string_equal(an_s_of(a, "severity"), severity);
    assert_int_equal(strlen(an_s_of(a, "id")), 32);
    assert_false(json_is_true(json_object_get(a, "retracted")));
    json_t *addrs = json_object_get(a, "addresses");
    bool found = false;
    size_t i;
    json_t *x;
    json_array_foreach(addrs, i, x) found |= !strcmp(json_string_value(x), address);
    assert_true(found);
    json_t *reasons = json_object_get(a, "reasons");
    assert_true(json_array_size(reasons) >= 1);
    json_array_foreach(reasons, i, x) {
        assert_true(strlen(an_s_of(x, "source")) > 0);
        assert_true(strlen(an_s_of(x, "why")) > 0);
    }
}

/* The rules file: one rule, "thief-moves", alerting (high) what reaches THIEF. */
static void write_thief_rule(const fx *f) {
    an_write_file(f->rules, "rules:\n  - name: thief-moves\n    kind: address\n"
                            "    addresses: [" THIEF "]\n    severity: high\n");
}

/* an_setup, then the thief-moves rule written: false when anvil is absent
 * (the test skips). */
static bool setup_watching_thief(fx *f) {
    if (!an_setup(f)) return false;
    write_thief_rule(f);
    return true;
}

static void test_address_large_and_actor_rules_alert_with_the_nodes_facts(void **state) {
    (void)state;
    static fx f;
    if (!an_setup(&f)) skip();
    an_write_file(f.rules, "rules:\n"
                           "  - name: thief-moves\n"
                           "    kind: address\n"
                           "    addresses: [" THIEF "]\n"
                           "    severity: high\n"
                           "  - name: big\n"
                           "    kind: large_transfer\n"
                           "    asset: ETH\n"
                           "    min: \"1000000000000000000000\"   # base units\n"
                           "    severity: medium\n"
                           "  - name: dprk\n"
                           "    kind: actor\n"
                           "    actor: DPRK\n"
                           "    severity: critical\n");
    /* the attribution store the actor rule reads */
    char csv[600], cmd[2048];
    snprintf(csv, sizeof csv, "%s/intel.csv", f.dir);
    an_write_file(csv, "address,asset,category,entity,actor,source\n" LAZ
                       ",ETH,hacker,Test Thief Crew,Lazarus Group,watch test list\n");
    snprintf(cmd, sizeof cmd, "%s intel import --db %s %s 2>&1", tu_bin("coinhound"), f.db, csv);
    int st;
    free(tu_run(cmd, &st));
    assert_int_equal(st, 0);

    an_start_watcher(&f, NULL);
    char *a = an_send_eth(&f, ACCT0, THIEF, "0xde0b6b3a7640000"); /* 1 ETH to the thief */
    char *b = an_send_eth(&f, ACCT2, ACCT3, ETH_1000);            /* exactly the minimum */
    char *c = an_send_eth(&f, ACCT2, ACCT3, ETH_999);             /* below it: no alert */
    char *d = an_send_eth(&f, ACCT5, LAZ, "0x1bc16d674ec80000");  /* 2 ETH to Lazarus */
    json_t *alerts = an_wait_alerts(&f, 3, 20000);
    an_msleep(500); /* nothing more may come */
    json_decref(alerts);
    alerts = an_read_alerts(f.alerts);
    assert_int_equal(json_array_size(alerts), 3);
    check_alert(&f, an_by_rule(alerts, "thief-moves"), a, "1000000000000000000", THIEF, "high");
    check_alert(&f, an_by_rule(alerts, "big"), b, "1000000000000000000000", ACCT2, "medium");
    json_t *dp = an_by_rule(alerts, "dprk");
    check_alert(&f, dp, d, "2000000000000000000", LAZ, "critical");
    /* the reason names the source that attributes the address */
    json_t *r0 = json_array_get(json_object_get(dp, "reasons"), 0);
    assert_string_equal(an_s_of(r0, "source"), "watch test list");
    assert_non_null(strstr(an_s_of(r0, "why"), "DPRK"));
    (void)c;

    /* the store's writer lock: a second watcher is refused, naming the holder */
    snprintf(cmd, sizeof cmd, "%s watch eth --rpc %s --db %s --rules %s 2>&1 >/dev/null",
             tu_bin("coinhound"), f.url, f.db, f.rules);
    char *out = tu_run(cmd, &st);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "being written by another coinhound"));
    free(out);

    /* the alerts kept in the store are the ones delivered */
    snprintf(cmd, sizeof cmd, "%s alerts --db %s --json", tu_bin("coinhound"), f.db);
    out = tu_run(cmd, &st);
    assert_int_equal(st, 0);
    size_t len;
    char *file = (char *)tu_read_file(f.alerts, &len);
    assert_non_null(file);
    assert_string_equal(out, file);
    free(out);
    /* --since the first id: the two after it */
    snprintf(cmd, sizeof cmd, "%s alerts --db %s --json --since %s | wc -l", tu_bin("coinhound"),
             f.db, an_s_of(json_array_get(alerts, 0), "id"));
    out = tu_run(cmd, &st);
    assert_int_equal(atoi(out), 2);
    free(out);

    /* a clean stop, and a restart delivers nothing twice */
    assert_int_equal(an_stop_watcher(&f), 0);
    char *log = (char *)tu_read_file(f.log, &len);
    assert_non_null(strstr(log, " info: stopping: store committed at block 4"));
    free(log);
    an_start_watcher(&f, NULL);
    an_msleep(1500);
    assert_int_equal(an_stop_watcher(&f), 0);
    char *file2 = (char *)tu_read_file(f.alerts, &len);
    assert_string_equal(file, file2);
    free(file);
    free(file2);
    json_decref(alerts);
    free(a), free(b), free(c), free(d);
    an_teardown(&f);
}

static void test_a_reorg_retracts_the_alert_under_its_id(void **state) {
    (void)state;
    static fx f;
    if (!an_setup(&f)) skip();
    an_write_file(f.rules, "rules:\n  - name: big\n    kind: large_transfer\n    asset: ETH\n"
                           "    min: \"1000000000000000000000\"\n");
    an_start_watcher(&f, NULL);
    char *tx = an_send_eth(&f, ACCT2, ACCT3, ETH_1000);
    json_t *alerts = an_wait_alerts(&f, 1, 20000);
    assert_int_equal(json_array_size(alerts), 1);
    check_alert(&f, json_array_get(alerts, 0), tx, "1000000000000000000000", ACCT3, "medium");
    json_decref(alerts);
    /* the block holding it is replaced by an empty one */
    json_t *r = an_rpc(&f, "anvil_reorg", json_pack("[i,[]]", 1));
    json_decref(r);
    alerts = an_wait_alerts(&f, 2, 20000);
    assert_int_equal(json_array_size(alerts), 2);
    json_t *a0 = json_array_get(alerts, 0), *a1 = json_array_get(alerts, 1);
    assert_string_equal(an_s_of(a0, "id"), an_s_of(a1, "id"));
    assert_true(json_is_true(json_object_get(a1, "retracted")));
    assert_string_equal(an_s_of(a0, "block_hash"), an_s_of(a1, "block_hash"));
    /* the store follows the node's new block */
    json_t *blk = an_rpc(&f, "eth_getBlockByNumber", json_pack("[s,b]", "latest", 0));
    assert_string_not_equal(json_string_value(json_object_get(blk, "hash")),
                            an_s_of(a0, "block_hash"));
    json_decref(blk);
    assert_int_equal(an_stop_watcher(&f), 0);
    json_decref(alerts);
    free(tx);
    an_teardown(&f);
}

static void test_confirmations_hold_an_alert_until_its_depth(void **state) {
    (void)state;
    static fx f;
    if (!setup_watching_thief(&f)) skip();
    an_start_watcher(&f, "3");
    char *tx = an_send_eth(&f, ACCT0, THIEF, "0x3e8"); /* block 1 */
    json_t *alerts = an_wait_alerts(&f, 1, 1500);
    assert_int_equal(json_array_size(alerts), 0); /* one confirmation */
    json_decref(alerts);
    json_decref(an_rpc(&f, "evm_mine", NULL)); /* block 2 */
    alerts = an_wait_alerts(&f, 1, 1500);
    assert_int_equal(json_array_size(alerts), 0); /* two */
    json_decref(alerts);
    json_decref(an_rpc(&f, "evm_mine", NULL)); /* block 3: three confirmations */
    alerts = an_wait_alerts(&f, 1, 20000);
    assert_int_equal(json_array_size(alerts), 1);
    check_alert(&f, json_array_get(alerts, 0), tx, "1000", THIEF, "high");
    json_decref(alerts);
    /* a payment reorganised away before its depth is never alerted (nor retracted) */
    char *tx2 = an_send_eth(&f, ACCT0, THIEF, "0x3e9"); /* block 4 */
    an_msleep(500);
    json_decref(an_rpc(&f, "anvil_reorg", json_pack("[i,[]]", 1)));
    for (int i = 0; i < 3; i++)
        json_decref(an_rpc(&f, "evm_mine", NULL));
    an_msleep(2000);
    alerts = an_read_alerts(f.alerts);
    assert_int_equal(json_array_size(alerts), 1);
    json_decref(alerts);
    assert_int_equal(an_stop_watcher(&f), 0);
    free(tx);
    free(tx2);
    an_teardown(&f);
}

static void test_kill9_at_random_moments_loses_no_alert(void **state) {
    (void)state;
    static fx f;
    if (!setup_watching_thief(&f)) skip();
    enum { N = 24 };
    char *txs[N];
    srand((unsigned)time(NULL));
    unsigned kills = 0;
    an_start_watcher(&f, NULL);
    for (int i = 0; i < N; i++) {
        char wei[16];
        snprintf(wei, sizeof wei, "0x%x", 1000 + i);
        txs[i] = an_send_eth(&f, ACCT0, THIEF, wei);
        if (i % 2 == 1) {
            an_msleep((unsigned)(rand() % 120));
            kill(f.watcher, SIGKILL);
            waitpid(f.watcher, NULL, 0);
            kills++;
            /* half the restarts are killed again before they are up */
            an_start_watcher_nowait(&f, NULL, i == N - 1 || rand() % 2);
        }
    }
    json_t *alerts = NULL;
    /* every payment's alert arrives; wait for the last one */
    for (int t = 0; t < 300; t++) {
        json_decref(alerts);
        alerts = an_read_alerts(f.alerts);
        size_t seen = 0;
        for (int i = 0; i < N; i++) {
            size_t k;
            json_t *a;
            json_array_foreach(alerts, k, a) if (!strcmp(an_s_of(a, "tx"), txs[i])) {
                seen++;
                break;
            }
        }
        if (seen == N) break;
        an_msleep(100);
    }
    assert_int_equal(an_stop_watcher(&f), 0);
    json_decref(alerts);
    alerts = an_read_alerts(f.alerts);
    /* each payment: present, one id for all its copies, ids distinct across payments */
    char ids[N][33];
    for (int i = 0; i < N; i++) {
        ids[i][0] = 0;
        size_t k;
        json_t *a;
        json_array_foreach(alerts, k, a) {
            if (strcmp(an_s_of(a, "tx"), txs[i])) continue;
            assert_false(json_is_true(json_object_get(a, "retracted")));
            if (!ids[i][0])
                snprintf(ids[i], 33, "%s", an_s_of(a, "id"));
            else
                assert_string_equal(ids[i], an_s_of(a, "id"));
        }
        if (!ids[i][0]) fail_msg("payment %d (%s) has no alert after %u kills", i, txs[i], kills);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(ids[i], ids[j]);
    }
    assert_true(json_array_size(alerts) >= N);
    /* the store's log holds each alert once */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s alerts --db %s --json | wc -l", tu_bin("coinhound"), f.db);
    int st;
    char *out = tu_run(cmd, &st);
    assert_int_equal(atoi(out), N);
    free(out);
    /* and the store is sound after the kills */
    snprintf(cmd, sizeof cmd, "%s check --db %s --chain eth 2>&1", tu_bin("coinhound"), f.db);
    out = tu_run(cmd, &st);
    if (st != 0) fail_msg("coinhound check: %s", out);
    free(out);
    fprintf(stderr, "kill -9: %u kills, %d payments, %zu lines delivered\n", kills, N,
            json_array_size(alerts));
    json_decref(alerts);
    for (int i = 0; i < N; i++)
        free(txs[i]);
    an_teardown(&f);
}

/* A socket listening on loopback port port (asserts). */
static int listen_loopback(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((uint16_t)port)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 16), 0);
    return fd;
}

/* A connection accepted on fd within 0.1 s, or -1 (a server's loop then
 * looks at its stop flag again). */
static int accept_soon(int fd) {
    struct timeval tv = {0, 100000};
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(fd, &rd);
    if (select(fd + 1, &rd, NULL, NULL, &tv) <= 0) return -1;
    return accept(fd, NULL, NULL);
}

/* A server on the node's port that answers every request with garbage
 * (HTTP 200, a body that is not JSON-RPC), until told to stop. */
typedef struct garbage {
    int fd;
    volatile int stop;
    unsigned served;
    pthread_t th;
} garbage;

static void *garbage_loop(void *arg) {
    garbage *g = arg;
    while (!g->stop) {
        int c = accept_soon(g->fd);
        if (c < 0) continue;
        char req[8192];
        struct timeval rt = {1, 0};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &rt, sizeof rt);
        if (recv(c, req, sizeof req, 0) > 0) {
            const char *ans = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                              "Content-Length: 12\r\nConnection: close\r\n\r\n{\"nonsense\":[";
            if (send(c, ans, strlen(ans), MSG_NOSIGNAL) > 0) g->served++;
        }
        close(c);
    }
    return NULL;
}

static void garbage_start(garbage *g, int port) {
    memset(g, 0, sizeof *g);
    g->fd = listen_loopback(port);
    assert_int_equal(pthread_create(&g->th, NULL, garbage_loop, g), 0);
}

static void garbage_stop(garbage *g) {
    g->stop = 1;
    pthread_join(g->th, NULL);
    close(g->fd);
}

static bool alive(pid_t pid) {
    return waitpid(pid, NULL, WNOHANG) == 0;
}

static void test_a_node_away_or_answering_garbage_is_retried_then_followed(void **state) {
    (void)state;
    static fx f;
    if (!an_setup(&f)) skip();
    /* the node goes away before the watcher starts */
    kill(f.anvil, SIGTERM);
    waitpid(f.anvil, NULL, 0);
    f.anvil = 0;
    write_thief_rule(&f);
    an_start_watcher(&f, NULL);
    an_msleep(1200);
    assert_true(alive(f.watcher));
    /* then something answers on its port, with garbage */
    garbage g;
    garbage_start(&g, f.port);
    an_msleep(2500);
    garbage_stop(&g);
    assert_true(g.served > 0);
    assert_true(alive(f.watcher));
    /* then the node is back: the watcher follows it and alerts */
    an_start_anvil(&f, an_anvil_bin());
    char *tx = an_send_eth(&f, ACCT0, THIEF, "0x3e8");
    json_t *alerts = an_wait_alerts(&f, 1, 40000);
    assert_int_equal(json_array_size(alerts), 1);
    check_alert(&f, json_array_get(alerts, 0), tx, "1000", THIEF, "high");
    json_decref(alerts);
    assert_int_equal(an_stop_watcher(&f), 0);
    char want[200];
    snprintf(want, sizeof want, " warn: node: %s: eth_blockNumber", f.url);
    /* the node away, and the garbage named as such */
    tu_assert_file_says(f.log, (const char *[]){want, "retrying in", "the answer is not JSON",
                                                "Couldn't connect to server", " info: node ",
                                                "answers again", NULL});
    free(tx);
    an_teardown(&f);
}

/* Blocks that reached the store while no watcher ran (ingest eth from the
 * node, or a watcher killed between its commit and its evaluation) are
 * evaluated when the watcher starts, not only once the node's next block
 * arrives: no block is mined after the start. */
static void test_blocks_stored_while_no_watcher_ran_are_alerted_at_its_start(void **state) {
    (void)state;
    static fx f;
    if (!setup_watching_thief(&f)) skip();
    an_start_watcher(&f, NULL); /* a first run: the cursor is set on the empty store */
    assert_int_equal(an_stop_watcher(&f), 0);
    char *tx = an_send_eth(&f, ACCT0, THIEF, "0x3e8"); /* block 1 */
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s ingest eth %s --db %s 2>&1", tu_bin("coinhound"), f.url, f.db);
    int st;
    char *out = tu_run(cmd, &st);
    if (st != 0) fail_msg("ingest eth: %s", out);
    free(out);
    an_start_watcher(&f, NULL);
    json_t *alerts = an_wait_alerts(&f, 1, 20000);
    assert_int_equal(json_array_size(alerts), 1);
    check_alert(&f, json_array_get(alerts, 0), tx, "1000", THIEF, "high");
    json_decref(alerts);
    assert_int_equal(an_stop_watcher(&f), 0);
    free(tx);
    an_teardown(&f);
}

/* Several attribution rules answered by one lookup per address: each rule
 * alerts with its own reasons only (the entity rule names the entity, the
 * category rules their category, on the side that carries it), and a rule
 * no attribution meets stays silent. */
static void test_each_attribution_rule_alerts_with_its_own_reasons(void **state) {
    (void)state;
    static fx f;
    if (!an_setup(&f)) skip();
    char csv[600], cmd[2048];
    snprintf(csv, sizeof csv, "%s/intel.csv", f.dir);
    an_write_file(csv, "address,asset,category,entity,actor,source\n" LAZ
                       ",ETH,hacker,Test Thief Crew,Lazarus Group,watch test list\n" ACCT2
                       ",ETH,exchange,Test Exchange,,exchange list\n");
    snprintf(cmd, sizeof cmd, "%s intel import --db %s %s 2>&1", tu_bin("coinhound"), f.db, csv);
    int st;
    free(tu_run(cmd, &st));
    assert_int_equal(st, 0);
    an_write_file(f.rules, "rules:\n"
                           "  - name: crew\n    kind: entity\n    entity: Test Thief Crew\n"
                           "  - name: hackers\n    kind: category\n    category: hacker\n"
                           "  - name: exchanges\n    kind: category\n    category: exchange\n"
                           "  - name: mixers\n    kind: category\n    category: mixer\n");
    an_start_watcher(&f, NULL);
    char *tx = an_send_eth(&f, LAZ, ACCT2, "0xde0b6b3a7640000"); /* 1 ETH */
    json_t *alerts = an_wait_alerts(&f, 3, 20000);
    an_msleep(800);
    json_decref(alerts);
    alerts = an_read_alerts(f.alerts);
    assert_int_equal(json_array_size(alerts), 3);
    const struct {
        const char *rule, *address, *want, *not_want;
    } cases[] = {{"crew", LAZ, "(entity Test Thief Crew)", "category"},
                 {"hackers", LAZ, "(category hacker)", "exchange"},
                 {"exchanges", ACCT2, "(category exchange)", "hacker"}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        json_t *a = an_by_rule(alerts, cases[k].rule);
        assert_non_null(a);
        assert_string_equal(an_s_of(a, "tx"), tx);
        json_t *addrs = json_object_get(a, "addresses");
        assert_int_equal(json_array_size(addrs), 1);
        assert_string_equal(json_string_value(json_array_get(addrs, 0)), cases[k].address);
        json_t *reasons = json_object_get(a, "reasons");
        assert_int_equal(json_array_size(reasons), 1);
        const char *why = an_s_of(json_array_get(reasons, 0), "why");
        assert_non_null(strstr(why, cases[k].address));
        assert_non_null(strstr(why, cases[k].want));
        assert_null(strstr(why, cases[k].not_want));
    }
    json_decref(alerts);
    assert_int_equal(an_stop_watcher(&f), 0);
    free(tx);
    an_teardown(&f);
}

/* Wait until needle occurs at least n times in the watcher's log. */
static bool wait_in_log(const fx *f, const char *needle, int n, unsigned timeout_ms) {
    for (unsigned t = 0; t <= timeout_ms; t += 100) {
        if (an_count_in_file(f->log, needle) >= n) return true;
        an_msleep(100);
    }
    return false;
}

/* The same, failing with the log when it does not come n times. */
static void expect_in_log_n(const fx *f, const char *needle, int n, unsigned timeout_ms) {
    if (wait_in_log(f, needle, n, timeout_ms)) return;
    size_t len;
    char *log = (char *)tu_read_file(f->log, &len);
    fail_msg("not %d times in the watcher's log: \"%s\"\n%s", n, needle, log ? log : "(none)");
}

static void expect_in_log(const fx *f, const char *needle, unsigned timeout_ms) {
    expect_in_log_n(f, needle, 1, timeout_ms);
}

/* The watcher's cursor (DB/eth/watch/state) says block `number` was
 * evaluated (the store starts at block 0). */
static bool evaluated(const char *db, long long number) {
    char p[700];
    snprintf(p, sizeof p, "%s/eth/watch/state", db);
    FILE *in = fopen(p, "r");
    if (!in) return false;
    unsigned long long delivered, next = 0;
    int n = fscanf(in, "coinhound-watch-state 1 delivered %llu eval_next %llu", &delivered, &next);
    fclose(in);
    return n == 2 && (long long)next > number;
}

static void wait_evaluated(const fx *f, long long number) {
    for (int i = 0; i < 600 && !evaluated(f->db, number); i++)
        an_msleep(100);
    if (!evaluated(f->db, number)) fail_msg("the watcher did not evaluate block %lld", number);
}

/* A contract that forwards the ETH it is sent: 15 bytes assembled here,
 * CALL the address in the calldata with the call's value (init code: copy
 * and return them). Deployed from ACCT0; its address in contract. */
static void deploy_forwarder(const fx *f, char contract[43]) {
    json_t *deploy = an_rpc(f, "eth_sendTransaction",
                            json_pack("[{s:s,s:s}]", "from", ACCT0, "data",
                                      "0x600f600c600039600f6000f3" /* init: return the code */
                                      "6000600060006000346000355af100")); /* CALL(to, value) */
    assert_true(json_is_string(deploy));
    json_t *rc = NULL; /* null until mined (at once, unless the machine is busy) */
    for (int i = 0; i < 100 && !json_is_object(rc); i++) {
        json_decref(rc);
        rc = an_rpc(f, "eth_getTransactionReceipt", json_pack("[O]", deploy));
        if (!json_is_object(rc)) an_msleep(100);
    }
    assert_true(json_is_object(rc));
    snprintf(contract, 43, "%s", an_s_of(rc, "contractAddress"));
    json_decref(rc);
    json_decref(deploy);
}

/* wei sent from ACCT0 to the forwarder, which passes it on to `to` in an
 * internal call; the tx hash (caller frees). */
static char *forward_eth(const fx *f, const char *contract, const char *to, const char *wei) {
    char data[80];
    snprintf(data, sizeof data, "0x000000000000000000000000%s", to + 2);
    json_t *tx = an_rpc(f, "eth_sendTransaction",
                        json_pack("[{s:s,s:s,s:s,s:s}]", "from", ACCT0, "to", contract, "value",
                                  wei, "data", data));
    assert_true(json_is_string(tx));
    char *h = strdup(json_string_value(tx));
    json_decref(tx);
    return h;
}

/* The alert of an internal transfer: 5 ETH from the forwarder to THIEF in tx. */
static void check_internal_alert(const fx *f, json_t *a, const char *tx, const char *contract) {
    check_alert(f, a, tx, "5000000000000000000", THIEF, "high");
    assert_string_equal(an_s_of(json_object_get(a, "transfer"), "kind"), "internal");
    assert_string_equal(an_s_of(a, "amount_display"), "5");
    assert_non_null(strstr(an_s_of(a, "summary"), ": 5 ETH from "));
    assert_string_equal(an_s_of(a, "from"), contract);
}

#define ETH_5 "0x4563918244f40000"

static bool is_coverage(json_t *a) {
    return !strcmp(an_s_of(a, "kind"), "coverage");
}

/* The alerts of alerts that are (coverage true) or are not the watcher's
 * own coverage alerts, in order: a new array. */
static json_t *alerts_of(json_t *alerts, bool coverage) {
    json_t *out = json_array();
    size_t i;
    json_t *a;
    json_array_foreach(alerts, i, a) if (is_coverage(a) == coverage) json_array_append(out, a);
    return out;
}

/* an_wait_alerts for want alerts of the rules, the coverage alerts left
 * out: those alerts (a new array). */
static json_t *wait_rule_alerts(const fx *f, size_t want, unsigned timeout_ms) {
    for (unsigned t = 0;; t += 100) {
        json_t *all = an_read_alerts(f->alerts), *r = alerts_of(all, false);
        json_decref(all);
        if (json_array_size(r) >= want || t >= timeout_ms) return r;
        json_decref(r);
        an_msleep(100);
    }
}

/* The last coverage alert of event delivered (a reference), waiting for
 * one up to timeout_ms; fails the test when none comes. */
static json_t *wait_coverage(const fx *f, const char *event, unsigned timeout_ms) {
    for (unsigned t = 0; t <= timeout_ms; t += 100) {
        json_t *all = an_read_alerts(f->alerts), *c = alerts_of(all, true), *got = NULL;
        json_decref(all);
        size_t i;
        json_t *a;
        json_array_foreach(c, i, a) if (!strcmp(an_s_of(a, "event"), event)) got = a;
        json_incref(got);
        json_decref(c);
        if (got) return got;
        an_msleep(100);
    }
    fail_msg("no coverage alert %s in %s", event, f->alerts);
    return NULL;
}

/* A coverage alert of the watcher (rule "watcher", kind "coverage"): its
 * event, the first block without traces (height, and blocks.from), the
 * node behind the proxy at port; traces_off: severity high, the range
 * open, the reason and what to do; traces_on: the range closed at
 * blocks.to >= to_min. */
static void check_coverage(json_t *a, const char *event, long long first, int port,
                           long long to_min) {
    char node[64];
    snprintf(node, sizeof node, "http://127.0.0.1:%d", port);
    assert_string_equal(an_s_of(a, "rule"), "watcher");
    assert_string_equal(an_s_of(a, "event"), event);
    assert_string_equal(an_s_of(a, "chain"), "eth");
    assert_string_equal(an_s_of(a, "node"), node); /* the path with its key left out */
    char *text = json_dumps(a, 0);
    assert_null(strstr(text, "api-key-not-for-alerts"));
    free(text);
    if (strcmp(event, "traces_off") == 0 || to_min > 0) /* a command to re-run: the user's URL */
        assert_non_null(strstr(an_s_of(a, "action"), "NODE_URL"));
    assert_int_equal(strlen(an_s_of(a, "id")), 32);
    assert_int_equal(json_integer_value(json_object_get(a, "height")), first);
    json_t *b = json_object_get(a, "blocks");
    assert_int_equal(json_integer_value(json_object_get(b, "from")), first);
    const char *why = an_s_of(json_array_get(json_object_get(a, "reasons"), 0), "why");
    if (!strcmp(event, "traces_off")) {
        assert_string_equal(an_s_of(a, "severity"), "high");
        assert_true(json_is_null(json_object_get(b, "to")));
        assert_non_null(strstr(why, "internal transfers (value moved by contracts) are not seen"));
        assert_non_null(strstr(why, "historical state not available"));
        assert_non_null(strstr(an_s_of(a, "action"), "debug API"));
        assert_non_null(strstr(an_s_of(a, "action"), "--traces"));
    } else {
        assert_true(json_integer_value(json_object_get(b, "to")) >= to_min);
        assert_non_null(strstr(why, "were evaluated without them"));
        assert_non_null(strstr(an_s_of(a, "action"), "ingest eth"));
    }
    char want[120];
    snprintf(want, sizeof want, "coverage/%s: eth ", event);
    assert_non_null(strstr(an_s_of(a, "summary"), want));
}

/* The lines of `coinhound alerts --db DB --json` that are coverage alerts
 * of event: how many, each with id. */
static int listed_coverage(const fx *f, const char *event, const char *id) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s alerts --db %s --json", tu_bin("coinhound"), f->db);
    int st, n = 0;
    char *out = tu_run(cmd, &st);
    assert_int_equal(st, 0);
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        json_t *a = json_loads(line, 0, NULL);
        assert_non_null(a);
        if (is_coverage(a) && !strcmp(an_s_of(a, "event"), event)) {
            assert_string_equal(an_s_of(a, "id"), id);
            n++;
        }
        json_decref(a);
    }
    free(out);
    return n;
}

/* Value a contract moves reaches a watched address only through an
 * internal call, which no transaction or receipt shows. watch eth, with no
 * flag, finds that anvil answers debug_traceBlockByNumber, says so, reads
 * the forwarded 5 ETH from the block's callTracer traces and alerts it
 * (transfer kind "internal", from the contract). A watcher with
 * --no-traces, over the same blocks into its own store, says traces are
 * off and does not see it. */
static void test_value_a_contract_forwards_is_alerted_from_the_nodes_traces(void **state) {
    (void)state;
    static fx f;
    if (!setup_watching_thief(&f)) skip();
    an_start_watcher(&f, NULL);
    char want[300];
    snprintf(want, sizeof want,
             " info: traces: on (%s answers debug_traceBlockByNumber): value moved by contracts",
             f.url);
    expect_in_log(&f, want, 20000);
    char contract[43];
    deploy_forwarder(&f, contract);
    char *tx = forward_eth(&f, contract, THIEF, ETH_5);
    json_t *alerts = an_wait_alerts(&f, 1, 20000);
    assert_int_equal(json_array_size(alerts), 1);
    check_internal_alert(&f, json_array_get(alerts, 0), tx, contract);
    json_decref(alerts);
    assert_int_equal(an_stop_watcher(&f), 0);
    assert_int_equal(an_count_in_file(f.log, " warn: "), 0);

    /* --no-traces: the same blocks, another store and alert file */
    long long number;
    char hash[67];
    an_receipt_block(&f, tx, &number, hash);
    snprintf(f.db, sizeof f.db, "%s/db-no-traces", f.dir);
    snprintf(f.alerts, sizeof f.alerts, "%s/alerts-no-traces.jsonl", f.dir);
    static const char *const args[] = {"--no-traces", NULL};
    f.watch_args = args;
    an_start_watcher(&f, NULL);
    wait_evaluated(&f, number);
    alerts = an_read_alerts(f.alerts);
    assert_int_equal(json_array_size(alerts), 0);
    json_decref(alerts);
    assert_int_equal(an_stop_watcher(&f), 0);
    assert_int_equal(an_count_in_file(f.log, " info: traces: off (--no-traces): internal "
                                             "transfers (value moved by contracts) are not seen"),
                     1);
    assert_int_equal(an_count_in_file(f.log, " info: traces: on ("), 1);
    free(tx);
    an_teardown(&f);
}

/* watch eth at the node's tip, in silence: a status line every --heartbeat
 * seconds naming the node and the block, one warning once no block has
 * come for --stale-after seconds (not one per status line), and an info
 * line when the next block comes. */
static void test_a_silent_eth_watcher_says_it_is_alive_and_warns_once_of_a_stall(void **state) {
    (void)state;
    static fx f;
    if (!an_setup(&f)) skip();
    static const char *const args[] = {"--heartbeat", "1", "--stale-after", "2", NULL};
    f.watch_args = args;
    write_thief_rule(&f);
    an_start_watcher(&f, NULL);
    char *tx = an_send_eth(&f, ACCT0, THIEF, "0x3e8"); /* block 1 */
    json_t *alerts = an_wait_alerts(&f, 1, 20000);
    assert_int_equal(json_array_size(alerts), 1);
    json_decref(alerts);
    char want[300];
    snprintf(want, sizeof want, " warn: %s: no new block for ", f.url);
    expect_in_log(&f, want, 20000);
    /* two more status lines after the warning, and no second warning */
    snprintf(want, sizeof want, " info: following %s: at block 1, the last new block ", f.url);
    int beats = an_count_in_file(f.log, want);
    assert_true(wait_in_log(&f, want, beats + 2, 20000));
    assert_int_equal(an_count_in_file(f.log, ": no new block for "), 1);
    free(tx);
    tx = an_send_eth(&f, ACCT0, ACCT5, "0x1"); /* block 2 */
    snprintf(want, sizeof want, " info: %s: block 2 came after ", f.url);
    expect_in_log(&f, want, 20000);
    snprintf(want, sizeof want, " info: following %s: at block 2, the last new block ", f.url);
    expect_in_log(&f, want, 20000);
    assert_int_equal(an_stop_watcher(&f), 0);
    free(tx);
    an_teardown(&f);
}

/* Catching up from an empty store to a node 120 blocks ahead (10 blocks a
 * request) logs "catching up: block N of 120" with N rising, then one line
 * at the tip; COINHOUND_WATCH_PROGRESS_MS shortens the interval (5 s in
 * service) so that each request logs. */
static void test_catch_up_logs_progress_rising_to_the_tip(void **state) {
    (void)state;
    static fx f;
    if (!setup_watching_thief(&f)) skip();
    json_decref(an_rpc(&f, "anvil_mine", json_pack("[i]", 120)));
    setenv("COINHOUND_WATCH_PROGRESS_MS", "1", 1);
    an_start_watcher(&f, NULL);
    unsetenv("COINHOUND_WATCH_PROGRESS_MS");
    for (int i = 0; i < 600 && !an_count_in_file(f.log, ": at the tip"); i++)
        an_msleep(50);
    assert_int_equal(an_stop_watcher(&f), 0);
    size_t len;
    char *log = (char *)tu_read_file(f.log, &len);
    unsigned last = 0, lines = 0, tips = 0;
    for (char *p = log; (p = strstr(p, "info: catching up: block ")); p++) {
        unsigned b, t;
        assert_int_equal(sscanf(p, "info: catching up: block %u of %u", &b, &t), 2);
        assert_int_equal(t, 120);
        if (lines) assert_true(b > last);
        last = b;
        lines++;
        char *nl = strchr(p, '\n');
        if (nl && strstr(p, ": at the tip") && strstr(p, ": at the tip") < nl) {
            assert_int_equal(b, 120);
            tips++;
        } else {
            assert_true(b < 120);
        }
    }
    if (lines < 5 || tips != 1 || last != 120)
        fail_msg("%u progress lines, %u at the tip, the last at block %u\n%s", lines, tips, last,
                 log);
    free(log);
    an_teardown(&f);
}

/* A node between the watcher and anvil: a proxy on its own port that
 * forwards each request to anvil and, while `slow` is set, holds every
 * third answer back 2.5 s (past the watcher's --rpc-timeout 1); as
 * `debug` says, answers the trace calls (debug_*) itself or holds them;
 * and fails the next `flaky` requests with a trace call, each in the next
 * of the ways FLAKY_* (a node restarting, overloaded, cut off). */
enum {
    DEBUG_PASS,      /* forwarded */
    DEBUG_NO_METHOD, /* "Method not found" (-32601): a node without the debug API */
    DEBUG_ERROR,     /* -32000 "historical state not available": a node that stopped tracing */
    DEBUG_HOLD,      /* a request with a trace call held 2.5 s: a node too slow to trace */
    DEBUG_STALL      /* a request with a trace call held while this mode lasts */
};

enum {
    FLAKY_HTTP_500,  /* HTTP 500 Internal Server Error */
    FLAKY_TRUNCATED, /* the answer cut in the middle (its Content-Length says the part) */
    FLAKY_INTERNAL,  /* the trace call answered JSON-RPC error -32603 "internal error" */
    FLAKY_HOLD,      /* held 2.5 s, past --rpc-timeout 1 */
    FLAKY_KINDS
};

typedef struct slowproxy {
    int fd, port;
    volatile int stop, slow, debug;
    volatile int stall; /* every request held while set: a node that hangs */
    /* counted with __atomic builtins: each connection has its own thread,
     * as a node answers each request on its own (a held answer delays no
     * other) */
    unsigned requests, held, live;
    unsigned debug_calls; /* trace calls seen */
    int flaky;            /* requests with a trace call still to fail (atomic) */
    unsigned flaked;      /* requests with a trace call failed so far (atomic) */
    char node_url[64];    /* a copy: start_via_proxy points the fixture's url at the proxy */
    pthread_t th;
} slowproxy;

/* What a provider's URL carries in its path (the proxy answers any path):
 * an API key that the alerts must never show (check_coverage). The
 * coverage tests give the watcher the proxy's URL with it; the others,
 * whose log lines name the URL, without (proxy_stop resets it). */
#define PROXY_KEY "/v3/api-key-not-for-alerts"
static const char *proxy_path = "";

#define ADD(x, n) __atomic_add_fetch(&(x), (n), __ATOMIC_SEQ_CST)
#define GET(x)    __atomic_load_n(&(x), __ATOMIC_SEQ_CST)

/* One HTTP request off c: its body (caller frees), NULL on failure. */
static char *proxy_read(int c) {
    char *req = malloc(1 << 20);
    size_t n = 0, want = 0;
    char *body = NULL;
    while (n < (1 << 20) - 1) {
        ssize_t k = recv(c, req + n, (1 << 20) - 1 - n, 0);
        if (k <= 0) break;
        n += (size_t)k;
        req[n] = 0;
        char *end = strstr(req, "\r\n\r\n");
        if (!end) continue;
        const char *cl = strcasestr(req, "Content-Length:");
        want = (size_t)(end + 4 - req) + (cl ? strtoul(cl + 15, NULL, 10) : 0);
        if (n >= want) {
            body = strdup(end + 4);
            break;
        }
    }
    free(req);
    return body;
}

static bool is_debug_call(json_t *call) {
    const char *m = json_string_value(json_object_get(call, "method"));
    return m && !strncmp(m, "debug_", 6);
}

/* The answer to a JSON-RPC batch whose trace calls the proxy answers
 * itself with the error code, msg (the rest forwarded in one batch); NULL
 * on failure. */
static char *proxy_refuse_debug(slowproxy *p, json_t *calls, int code, const char *msg) {
    json_t *fwd = json_array(), *out = json_array();
    size_t i;
    json_t *call;
    json_array_foreach(calls, i, call) {
        if (!is_debug_call(call)) {
            json_array_append(fwd, call);
            continue;
        }
        ADD(p->debug_calls, 1);
        json_array_append_new(out, json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id",
                                             json_object_get(call, "id"), "error", "code", code,
                                             "message", msg));
    }
    char *ans = NULL;
    if (json_array_size(fwd)) {
        char *req = json_dumps(fwd, JSON_COMPACT);
        char *got = an_post_json(p->node_url, req);
        json_t *res = got ? json_loads(got, 0, NULL) : NULL;
        if (json_is_array(res)) {
            json_array_extend(out, res);
        } else {
            json_decref(out);
            out = NULL;
        }
        json_decref(res);
        free(got);
        free(req);
    }
    if (out) ans = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    json_decref(fwd);
    return ans;
}

typedef struct proxy_conn {
    slowproxy *p;
    int c;
} proxy_conn;

/* One connection: its request read, held or answered as the proxy's modes
 * say, forwarded, answered, closed. */
static void *proxy_serve(void *arg) {
    proxy_conn *pc = arg;
    slowproxy *p = pc->p;
    int c = pc->c;
    free(pc);
    struct timeval rt = {2, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &rt, sizeof rt);
    char *body = proxy_read(c);
    json_t *calls = body ? json_loads(body, 0, NULL) : NULL;
    bool traced = false;
    size_t i;
    json_t *call;
    if (json_is_array(calls)) json_array_foreach(calls, i, call) traced |= is_debug_call(call);
    int flake = -1; /* FLAKY_*: how this request fails */
    if (traced && __atomic_sub_fetch(&p->flaky, 1, __ATOMIC_SEQ_CST) >= 0)
        flake = (int)((ADD(p->flaked, 1) - 1) % FLAKY_KINDS);
    bool hold = (p->slow && ADD(p->requests, 1) % 3 == 0) || (traced && p->debug == DEBUG_HOLD) ||
                flake == FLAKY_HOLD;
    if (body && hold) {
        ADD(p->held, 1);
        for (int k = 0; k < 25 && !p->stop; k++)
            an_msleep(100);
    }
    if (body && traced && p->debug == DEBUG_STALL) {
        ADD(p->held, 1);
        while (p->debug == DEBUG_STALL && !p->stop)
            an_msleep(50);
    }
    if (body && p->stall) {
        ADD(p->held, 1);
        while (p->stall && !p->stop)
            an_msleep(50);
    }
    char *ans = NULL;
    const char *status = "200 OK";
    if (flake == FLAKY_HTTP_500) {
        status = "500 Internal Server Error";
        ans = strdup("upstream restarting");
    } else if (flake == FLAKY_INTERNAL) {
        ans = proxy_refuse_debug(p, calls, -32603, "internal error");
    } else if (traced && (p->debug == DEBUG_NO_METHOD || p->debug == DEBUG_ERROR)) {
        bool none = p->debug == DEBUG_NO_METHOD;
        ans = proxy_refuse_debug(p, calls, none ? -32601 : -32000,
                                 none ? "Method not found" : "historical state not available");
    } else if (body) {
        if (traced) json_array_foreach(calls, i, call) ADD(p->debug_calls, is_debug_call(call));
        ans = an_post_json(p->node_url, body);
    }
    if (ans && flake == FLAKY_TRUNCATED) ans[strlen(ans) / 2] = '\0';
    if (ans) {
        char head[200];
        snprintf(head, sizeof head,
                 "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
                 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                 status, strlen(ans));
        if (send(c, head, strlen(head), MSG_NOSIGNAL) > 0) send(c, ans, strlen(ans), MSG_NOSIGNAL);
    }
    json_decref(calls);
    free(ans);
    free(body);
    close(c);
    ADD(p->live, -1u);
    return NULL;
}

static void *proxy_loop(void *arg) {
    slowproxy *p = arg;
    while (!p->stop) {
        int c = accept_soon(p->fd);
        if (c < 0) continue;
        proxy_conn *pc = malloc(sizeof *pc);
        pthread_t th;
        ADD(p->live, 1);
        *pc = (proxy_conn){p, c};
        /* while slow, a node stalled as a whole: one request at a time, a
         * held answer holding back those behind it */
        if (p->slow) {
            proxy_serve(pc);
            continue;
        }
        if (pthread_create(&th, NULL, proxy_serve, pc) != 0) {
            free(pc);
            close(c);
            ADD(p->live, -1u);
            continue;
        }
        pthread_detach(th);
    }
    return NULL;
}

static void proxy_start(slowproxy *p, const char *node_url) {
    memset(p, 0, sizeof *p);
    snprintf(p->node_url, sizeof p->node_url, "%s", node_url);
    p->port = an_free_port();
    p->fd = listen_loopback(p->port);
    assert_int_equal(pthread_create(&p->th, NULL, proxy_loop, p), 0);
}

static void proxy_stop(slowproxy *p) {
    proxy_path = ""; /* the next test's watcher gets the plain URL */
    p->stop = 1;
    pthread_join(p->th, NULL);
    close(p->fd);
    while (GET(p->live)) /* the connections' threads read p */
        an_msleep(20);
}

/* Start the watcher against the proxy in front of anvil. */
static void start_via_proxy(fx *f, const slowproxy *p, bool wait) {
    char node_url[64];
    snprintf(node_url, sizeof node_url, "%s", f->url);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d%s", p->port, proxy_path);
    an_start_watcher_nowait(f, NULL, wait);
    snprintf(f->url, sizeof f->url, "%s", node_url);
}

/* A node slower than --rpc-timeout (1 s) for a while: each request left
 * unanswered is named ("no answer within 1.0 s"), backed off from and
 * asked again; once answers come in time the watcher follows on and alerts.
 * No block is half-written: the store equals a clean ingest of the node
 * (with traces, as the watcher took them) and `coinhound check` passes. */
static void test_a_node_slower_than_the_timeout_is_retried_then_followed(void **state) {
    (void)state;
    static fx f;
    static slowproxy p;
    if (!setup_watching_thief(&f)) skip();
    for (int i = 0; i < 3; i++)
        free(an_send_eth(&f, ACCT0, THIEF, "0x3e8"));
    json_decref(an_rpc(&f, "anvil_mine", json_pack("[i]", 40)));
    proxy_start(&p, f.url);
    p.slow = 1;
    static const char *const args[] = {"--rpc-timeout", "1", NULL};
    f.watch_args = args;
    start_via_proxy(&f, &p, true);
    f.watch_args = NULL;
    for (int i = 0; i < 300 && an_count_in_file(f.log, "no answer within 1.0 s") < 3; i++)
        an_msleep(100);
    assert_true(an_count_in_file(f.log, "no answer within 1.0 s") >= 3);
    assert_int_equal(kill(f.watcher, 0), 0); /* alive */
    p.slow = 0;
    char *tx = an_send_eth(&f, ACCT0, THIEF, "0x3e9");
    json_t *alerts = an_wait_alerts(&f, 4, 60000);
    assert_int_equal(json_array_size(alerts), 4);
    json_decref(alerts);
    assert_int_equal(an_stop_watcher(&f), 0);
    proxy_stop(&p);
    assert_true(p.held >= 3);
    /* the held answers were retried: they cost the watcher no traces */
    tu_assert_file_says(f.log, (const char *[]){" warn: node: ", "retrying in", "answers again",
                                                " info: traces: on (", NULL});
    assert_int_equal(an_count_in_file(f.log, "traces: off"), 0);
    char traced[100]; /* the node, ingested with traces as the watcher took them */
    snprintf(traced, sizeof traced, "%s --traces", f.url);
    tu_assert_same_as_ingest("eth", traced, f.db, f.dir);
    tu_assert_check(f.db);
    free(tx);
    an_teardown(&f);
}

/* setup_watching_thief, the forwarder deployed (block 1) into contract,
 * and the proxy started in front of anvil: false when anvil is absent. */
static bool forwarder_behind_proxy(fx *f, slowproxy *p, char contract[43]) {
    if (!setup_watching_thief(f)) return false;
    deploy_forwarder(f, contract);
    proxy_start(p, f->url);
    return true;
}

/* forwarder_behind_proxy, then the watcher started through the proxy
 * with args (static, NULL-ended), traces found on and the forwarder's
 * block evaluated: false when anvil is absent. */
static bool watching_forwarder_behind_proxy(fx *f, slowproxy *p, char contract[43],
                                            const char *const *args) {
    if (!forwarder_behind_proxy(f, p, contract)) return false;
    f->watch_args = args;
    start_via_proxy(f, p, true);
    expect_in_log(f, " info: traces: on (", 20000);
    wait_evaluated(f, 1);
    return true;
}

/* A node that does not answer the trace call (a proxy before anvil
 * answering debug_* "Method not found", as geth without --http.api debug
 * does): one warning line at the start, saying internal transfers are not
 * seen; the node is not asked again per block; the watcher follows the
 * blocks and plain transfers are alerted, the forwarded 5 ETH is not.
 * --traces against the same node fails at the start, saying why (exit 2). */
static void test_a_node_without_traces_is_warned_about_once_and_followed(void **state) {
    (void)state;
    static fx f;
    static slowproxy p;
    char contract[43];
    if (!forwarder_behind_proxy(&f, &p, contract)) skip();
    p.debug = DEBUG_NO_METHOD;
    start_via_proxy(&f, &p, true);
    char want[400];
    snprintf(want, sizeof want,
             " warn: traces: off, http://127.0.0.1:%d does not answer debug_traceBlockByNumber ("
             "JSON-RPC error -32601 Method not found): internal transfers are not seen",
             p.port);
    expect_in_log(&f, want, 20000);
    char *fw = forward_eth(&f, contract, THIEF, ETH_5); /* block 2: internal, unseen */
    char *tx = an_send_eth(&f, ACCT0, THIEF, "0x3e8");  /* block 3 */
    json_decref(an_rpc(&f, "anvil_mine", json_pack("[i]", 3)));
    char *tx2 = an_send_eth(&f, ACCT5, THIEF, "0x3e9"); /* block 7 */
    json_t *alerts = an_wait_alerts(&f, 2, 20000);
    assert_int_equal(json_array_size(alerts), 2);
    check_alert(&f, json_array_get(alerts, 0), tx, "1000", THIEF, "high");
    check_alert(&f, json_array_get(alerts, 1), tx2, "1001", THIEF, "high");
    json_decref(alerts);
    assert_int_equal(an_stop_watcher(&f), 0);
    /* the one warning, and the node asked once (the probe), not per block */
    assert_int_equal(an_count_in_file(f.log, " warn: "), 1);
    assert_int_equal(an_count_in_file(f.log, want), 1);
    assert_int_equal(GET(p.debug_calls), 1);

    /* --traces against it: an error at the start, a non-zero exit */
    snprintf(f.db, sizeof f.db, "%s/db-required", f.dir);
    static const char *const args[] = {"--traces", NULL};
    f.watch_args = args;
    start_via_proxy(&f, &p, false);
    int st = 0, i;
    for (i = 0; i < 300 && waitpid(f.watcher, &st, WNOHANG) != f.watcher; i++)
        an_msleep(100);
    if (i == 300) fail_msg("watch eth --traces against a node without traces did not exit");
    f.watcher = 0;
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 2);
    snprintf(want, sizeof want,
             "coinhound watch: --traces: http://127.0.0.1:%d does not answer "
             "debug_traceBlockByNumber (JSON-RPC error -32601 Method not found): use a node with "
             "the debug API",
             p.port);
    assert_int_equal(an_count_in_file(f.log, want), 1);
    proxy_stop(&p);
    free(fw);
    free(tx);
    free(tx2);
    an_teardown(&f);
}

/* A node that traced blocks and then stops, at block N: it answers the
 * trace call with an error (mode DEBUG_ERROR) or not within --rpc-timeout
 * (DEBUG_HOLD), passing faults as far as the watcher can tell: block N
 * waits for its traces, asked again with backoff (a "traces: URL failed
 * to trace block N" line each round) for --traces-wait 2 s; or it says it
 * no longer has the trace call (DEBUG_NO_METHOD): no wait. Then the
 * watcher warns once ("traces: off from block N"), takes block N and the
 * next without traces and alerts their plain transfers; no block is
 * half-written: its store equals an ingest with traces up to N - 1 and
 * without from N, and `coinhound check` passes. The failures past the
 * wait also give one traces_off coverage alert naming block N and the
 * node's error; the node without the trace call none. */
static void traces_lost_midway(int mode, const char *reason) {
    static fx f;
    static slowproxy p;
    char contract[43];
    static const char *const args[] = {"--rpc-timeout", "1", "--traces-wait", "2", NULL};
    if (!watching_forwarder_behind_proxy(&f, &p, contract, args)) skip();
    char *fw = forward_eth(&f, contract, THIEF, ETH_5); /* block 2: seen in its trace */
    json_t *alerts = an_wait_alerts(&f, 1, 20000);
    assert_int_equal(json_array_size(alerts), 1);
    check_internal_alert(&f, json_array_get(alerts, 0), fw, contract);
    json_decref(alerts);
    p.debug = mode;
    char *tx = an_send_eth(&f, ACCT0, THIEF, "0x3e8"); /* block 3: N */
    char *fw2 = forward_eth(&f, contract, THIEF, ETH_5);
    char *tx2 = an_send_eth(&f, ACCT5, THIEF, "0x3e9");
    alerts = wait_rule_alerts(&f, 3, 60000);
    assert_int_equal(json_array_size(alerts), 3);
    check_alert(&f, json_array_get(alerts, 1), tx, "1000", THIEF, "high");
    check_alert(&f, json_array_get(alerts, 2), tx2, "1001", THIEF, "high");
    json_decref(alerts);
    assert_int_equal(kill(f.watcher, 0), 0); /* alive */
    assert_int_equal(an_stop_watcher(&f), 0);
    /* a node that failed to trace past --traces-wait: one traces_off alert
     * (its reason checked below); one that said it does not trace: none */
    json_t *all = an_read_alerts(f.alerts), *cov = alerts_of(all, true);
    assert_int_equal(json_array_size(cov), mode == DEBUG_NO_METHOD ? 0 : 1);
    const char *cov_why =
        json_array_size(cov)
            ? an_s_of(json_array_get(json_object_get(json_array_get(cov, 0), "reasons"), 0), "why")
            : NULL;
    size_t len;
    char *log = (char *)tu_read_file(f.log, &len);
    const char *w = strstr(log, " warn: traces: off from block ");
    assert_non_null(w);
    long long n = strtoll(w + strlen(" warn: traces: off from block "), NULL, 10);
    long long tx_block;
    char hash[67];
    an_receipt_block(&f, tx, &tx_block, hash);
    assert_int_equal(n, tx_block);
    assert_non_null(strstr(w, reason));
    assert_non_null(strstr(w, "internal transfers are not seen from there"));
    assert_null(strstr(w + 1, " warn: traces: off")); /* once */
    fprintf(stderr, "the warning:%.*s\n", (int)strcspn(w, "\n"), w);
    /* the rounds block N waited for its traces (none for a node without them) */
    char round[200];
    snprintf(round, sizeof round, " warn: traces: http://127.0.0.1:%d failed to trace block",
             p.port); /* "block N (" or "blocks N..M (" */
    const char *r = strstr(log, round);
    if (mode == DEBUG_NO_METHOD) {
        assert_null(r);
        assert_non_null(strstr(w, "does not trace it"));
    } else {
        assert_true(r && r < w);
        assert_non_null(strstr(r, reason));
        assert_non_null(strstr(w, "failed to trace it for "));
        json_t *c = json_array_get(cov, 0);
        assert_string_equal(an_s_of(c, "event"), "traces_off");
        assert_int_equal(json_integer_value(json_object_get(c, "height")), n);
        assert_non_null(strstr(cov_why, reason));
    }
    json_decref(cov);
    json_decref(all);
    free(log);
    proxy_stop(&p);
    /* the store: traces up to N - 1, none from N */
    char clean[600], cmd[2400];
    snprintf(clean, sizeof clean, "%s/clean", f.dir);
    snprintf(cmd, sizeof cmd, "%s ingest eth %s --db %s --traces --to-block %lld 2>&1",
             tu_bin("coinhound"), f.url, clean, n - 1);
    int st;
    char *out = tu_run(cmd, &st);
    if (st != 0) fail_msg("ingest eth: %s", out);
    free(out);
    tu_assert_same_as_ingest("eth", f.url, f.db, f.dir); /* into clean, from N */
    tu_assert_check(f.db);
    free(fw);
    free(fw2);
    free(tx);
    free(tx2);
    an_teardown(&f);
}

static void test_a_node_that_stops_tracing_is_followed_without_traces(void **state) {
    (void)state;
    traces_lost_midway(DEBUG_ERROR, "JSON-RPC error -32000 historical state not available");
}

static void test_a_node_too_slow_to_trace_is_followed_without_traces(void **state) {
    (void)state;
    traces_lost_midway(DEBUG_HOLD, "no answer within 1.0 s (the node is slow or stalled)");
}

static void test_a_node_that_loses_its_debug_api_is_followed_without_traces_at_once(void **state) {
    (void)state;
    traces_lost_midway(DEBUG_NO_METHOD, "the node does not offer debug_traceBlockByNumber");
}

/* A node that fails to trace for a moment (restarting, overloaded): the
 * block with an internal transfer, 5 ETH a contract forwards to a watched
 * address, gets for its trace call in turn an HTTP 500, an answer cut in
 * half, a JSON-RPC -32603 internal error and no answer within
 * --rpc-timeout, and so on for 6 requests. The watcher logs each round
 * (the block, the node, why), does not evaluate the block without its
 * traces, and once the trace comes alerts the internal transfer; traces
 * never go off, and the store equals an ingest with traces. */
static void test_a_trace_that_fails_for_a_while_is_waited_for_and_alerted(void **state) {
    (void)state;
    static fx f;
    static slowproxy p;
    char contract[43];
    static const char *const args[] = {"--rpc-timeout", "1", NULL};
    if (!watching_forwarder_behind_proxy(&f, &p, contract, args)) skip();
    __atomic_store_n(&p.flaky, 6, __ATOMIC_SEQ_CST);
    char *fw = forward_eth(&f, contract, THIEF, ETH_5); /* block 2 */
    json_t *alerts = an_wait_alerts(&f, 1, 30000);
    assert_int_equal(json_array_size(alerts), 1);
    check_internal_alert(&f, json_array_get(alerts, 0), fw, contract);
    json_decref(alerts);
    assert_int_equal(an_stop_watcher(&f), 0);
    proxy_stop(&p);
    assert_true(GET(p.flaked) == 6);
    long long number;
    char hash[67];
    an_receipt_block(&f, fw, &number, hash);
    char round[200];
    snprintf(round, sizeof round, " warn: traces: http://127.0.0.1:%d failed to trace block %lld (",
             p.port, number); /* block 2 alone: nothing else is mined */
    assert_true(an_count_in_file(f.log, round) >= 2);
    assert_true(an_count_in_file(f.log, "not evaluated without traces, waiting for them") >= 2);
    assert_int_equal(an_count_in_file(f.log, "traces: off"), 0);
    size_t len;
    char *log = (char *)tu_read_file(f.log, &len);
    fprintf(stderr, "the first round:%.*s\n", (int)strcspn(strstr(log, round), "\n"),
            strstr(log, round));
    free(log);
    char traced[100];
    snprintf(traced, sizeof traced, "%s --traces", f.url);
    tu_assert_same_as_ingest("eth", traced, f.db, f.dir);
    free(fw);
    an_teardown(&f);
}

/* A node that fails to trace for longer than --traces-wait (2 s here):
 * from block N the watcher follows without traces, saying so once; the
 * plain transfer of block N is alerted, an internal one while traces are
 * off is not; the status line (--heartbeat 1) says from which block
 * traces are off. The node is asked again (each --traces-wait, as it is
 * shorter than a minute); once it traces, a line says traces are on again
 * and which blocks were evaluated without them, and the next internal
 * transfer is alerted. Both ends reach the alerts file: a traces_off
 * coverage alert naming block N, then a traces_on one with the range the
 * log names, each listed once by `coinhound alerts --db`. */
static void test_traces_failing_past_the_wait_are_followed_without_then_come_back(void **state) {
    (void)state;
    proxy_path = PROXY_KEY;
    static fx f;
    static slowproxy p;
    char contract[43];
    static const char *const args[] = {
        "--rpc-timeout", "1", "--traces-wait", "2", "--heartbeat", "1", NULL};
    if (!watching_forwarder_behind_proxy(&f, &p, contract, args)) skip();
    p.debug = DEBUG_ERROR;
    char *tx = an_send_eth(&f, ACCT0, THIEF, "0x3e8"); /* block N */
    json_t *alerts = wait_rule_alerts(&f, 1, 30000);
    assert_int_equal(json_array_size(alerts), 1);
    json_decref(alerts);
    long long n, m;
    char hash[67];
    an_receipt_block(&f, tx, &n, hash);
    /* the blind spot reaches the alerts: traces_off, from block N */
    json_t *off = wait_coverage(&f, "traces_off", 20000);
    check_coverage(off, "traces_off", n, p.port, 0);
    char *fw = forward_eth(&f, contract, THIEF, ETH_5); /* without traces: not seen */
    an_receipt_block(&f, fw, &m, hash);
    wait_evaluated(&f, m);
    char note[100]; /* the status line says it meanwhile */
    snprintf(note, sizeof note, " since the start; traces off: blocks %lld..", n);
    expect_in_log(&f, note, 20000);
    p.debug = DEBUG_PASS;
    expect_in_log(&f, " info: traces: on again (", 20000);
    /* and its end: traces_on, the blocks N..M (at least) to look at again */
    json_t *on_alert = wait_coverage(&f, "traces_on", 20000);
    check_coverage(on_alert, "traces_on", n, p.port, m);
    char *fw2 = forward_eth(&f, contract, THIEF, ETH_5); /* traced again: alerted */
    alerts = wait_rule_alerts(&f, 2, 30000);
    assert_int_equal(json_array_size(alerts), 2);
    check_alert(&f, json_array_get(alerts, 0), tx, "1000", THIEF, "high");
    check_internal_alert(&f, json_array_get(alerts, 1), fw2, contract);
    json_decref(alerts);
    assert_int_equal(an_stop_watcher(&f), 0);
    proxy_stop(&p);
    char want[300];
    snprintf(want, sizeof want,
             " warn: traces: off from block %lld, http://127.0.0.1:%d" PROXY_KEY
             " failed to trace it for ",
             n, p.port);
    assert_int_equal(an_count_in_file(f.log, want), 1);
    assert_int_equal(an_count_in_file(f.log, " warn: traces: off"), 1);
    size_t len;
    char *log = (char *)tu_read_file(f.log, &len);
    const char *on = strstr(log, " info: traces: on again (");
    long long lo = 0, hi = 0;
    const char *b = strstr(on, "; blocks ");
    assert_non_null(b);
    assert_int_equal(sscanf(b, "; blocks %lld..%lld were evaluated without traces", &lo, &hi), 2);
    assert_int_equal(lo, n);
    assert_true(hi >= m);
    fprintf(stderr, "%.*s\n", (int)strcspn(on, "\n"), on);
    free(log);
    /* the alert names the log's range; each is kept in the store once */
    json_t *range = json_object_get(on_alert, "blocks");
    assert_int_equal(json_integer_value(json_object_get(range, "to")), hi);
    assert_int_equal(listed_coverage(&f, "traces_off", an_s_of(off, "id")), 1);
    assert_int_equal(listed_coverage(&f, "traces_on", an_s_of(on_alert, "id")), 1);
    json_decref(off);
    json_decref(on_alert);
    free(tx);
    free(fw);
    free(fw2);
    an_teardown(&f);
}

/* A kill -9 while blocks are followed without traces: the range stays
 * open across the restart (the state file keeps it). The node fails to
 * trace from block N past --traces-wait 2: the traces_off alert names N;
 * the watcher is killed; block N + 1 is mined; the restart, still without
 * traces, says the range is open, waits for N + 1's traces, takes it
 * without them and raises no second traces_off (one id in the alerts file
 * and in the store); once traces come back, traces_on names N..N + 1, the
 * first block from before the kill. */
static void test_a_kill_while_traces_are_off_keeps_the_range_open(void **state) {
    (void)state;
    proxy_path = PROXY_KEY;
    static fx f;
    static slowproxy p;
    char contract[43];
    static const char *const args[] = {"--rpc-timeout", "1", "--traces-wait", "2", NULL};
    if (!watching_forwarder_behind_proxy(&f, &p, contract, args)) skip();
    p.debug = DEBUG_ERROR;
    char *tx = an_send_eth(&f, ACCT0, THIEF, "0x3e8"); /* block N */
    long long n, n2;
    char hash[67];
    an_receipt_block(&f, tx, &n, hash);
    json_t *off = wait_coverage(&f, "traces_off", 30000);
    check_coverage(off, "traces_off", n, p.port, 0);
    wait_evaluated(&f, n);
    kill(f.watcher, SIGKILL);
    waitpid(f.watcher, NULL, 0);
    f.watcher = 0;
    char *tx2 = an_send_eth(&f, ACCT0, THIEF, "0x3e9"); /* block N + 1, no watcher */
    an_receipt_block(&f, tx2, &n2, hash);
    start_via_proxy(&f, &p, true);
    expect_in_log(&f, " warn: traces: off since before the last stop", 20000);
    json_t *alerts = wait_rule_alerts(&f, 2, 30000); /* N + 1 taken without traces */
    assert_int_equal(json_array_size(alerts), 2);
    check_alert(&f, json_array_get(alerts, 1), tx2, "1001", THIEF, "high");
    json_decref(alerts);
    expect_in_log(&f, "(still the blind spot alerted before the last stop)", 20000);
    p.debug = DEBUG_PASS;
    json_t *on = wait_coverage(&f, "traces_on", 20000);
    check_coverage(on, "traces_on", n, p.port, n2);
    assert_int_equal(an_stop_watcher(&f), 0);
    proxy_stop(&p);
    /* every traces_off delivered carries the one id; the store lists each once */
    json_t *all = an_read_alerts(f.alerts), *cov = alerts_of(all, true);
    size_t i, offs = 0;
    json_t *a;
    json_array_foreach(cov, i, a) if (!strcmp(an_s_of(a, "event"), "traces_off")) {
        assert_string_equal(an_s_of(a, "id"), an_s_of(off, "id"));
        offs++;
    }
    assert_true(offs >= 1);
    assert_int_equal(listed_coverage(&f, "traces_off", an_s_of(off, "id")), 1);
    assert_int_equal(listed_coverage(&f, "traces_on", an_s_of(on, "id")), 1);
    assert_int_equal(an_count_in_file(f.log, " info: traces: on again ("), 1);
    char *line = json_dumps(off, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fprintf(stderr, "before the kill: %s\nafter the restart: %s\n", line, an_s_of(on, "summary"));
    free(line);
    json_decref(cov);
    json_decref(all);
    json_decref(on);
    json_decref(off);
    free(tx);
    free(tx2);
    an_teardown(&f);
}

/* setup_watching_thief, the proxy started in front of anvil and the
 * watcher through it with --rpc-timeout 3600 (a held request is never
 * given up on for a timeout), traces on, block 0 evaluated: false when
 * anvil is absent. */
static bool watching_behind_patient_proxy(fx *f, slowproxy *p) {
    if (!setup_watching_thief(f)) return false;
    proxy_start(p, f->url);
    static const char *const args[] = {"--rpc-timeout", "3600", NULL};
    f->watch_args = args;
    start_via_proxy(f, p, true);
    expect_in_log(f, " info: traces: on (", 20000);
    /* block 0 taken: the store is empty at the start, and the node's
     * answer of "traces: on" comes before block 0 is fetched; a test that
     * turns the traces off at once caught block 0 (1 run in 4 under ASan) */
    wait_evaluated(f, 0);
    return true;
}

/* Once the proxy holds a request: SIGTERM stops the watcher (exit 0,
 * an_stop_watcher gives it 10 s); then the proxy lets go and stops, and
 * the store was committed at block 0 (the held block not taken). */
static void stop_while_held(fx *f, slowproxy *p) {
    for (int i = 0; i < 200 && GET(p->held) == 0; i++)
        an_msleep(50);
    assert_true(GET(p->held) >= 1);
    an_msleep(300);
    assert_int_equal(an_stop_watcher(f), 0);
    p->stall = 0;
    p->debug = DEBUG_PASS;
    proxy_stop(p);
    assert_int_equal(an_count_in_file(f->log, " info: stopping: store committed at block 0"), 1);
}

/* A node that hangs in the middle of a request (as anvil 1.7.1 was seen
 * to: docs/watch.md): SIGTERM stops the watcher (exit 0) without waiting
 * out --rpc-timeout (an hour here; an_stop_watcher gives it 10 s). */
static void test_a_stop_does_not_wait_on_a_hung_node(void **state) {
    (void)state;
    static fx f;
    static slowproxy p;
    if (!watching_behind_patient_proxy(&f, &p)) skip();
    p.stall = 1;
    json_decref(an_rpc(&f, "evm_mine", NULL));
    stop_while_held(&f, &p);
    an_teardown(&f);
}

/* A stop while a block waits for its traces: the node answers the trace
 * call with an error for some rounds, then holds it (--rpc-timeout an
 * hour). SIGTERM stops the watcher (exit 0, an_stop_watcher gives it
 * 10 s) with the block neither committed nor evaluated without its traces,
 * and traces never said off. */
static void test_a_stop_while_a_block_waits_for_its_traces_is_not_kept_waiting(void **state) {
    (void)state;
    static fx f;
    static slowproxy p;
    if (!watching_behind_patient_proxy(&f, &p)) skip();
    p.debug = DEBUG_ERROR;
    json_decref(an_rpc(&f, "evm_mine", NULL)); /* block 1 */
    char round[200];
    snprintf(round, sizeof round, " warn: traces: http://127.0.0.1:%d failed to trace block 1 (",
             p.port);
    expect_in_log_n(&f, round, 2, 20000); /* two rounds */
    p.debug = DEBUG_STALL;
    stop_while_held(&f, &p);
    assert_int_equal(an_count_in_file(f.log, "traces: off"), 0);
    assert_false(evaluated(f.db, 1));
    an_teardown(&f);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);
    const char *only = getenv("COINHOUND_TEST_FILTER"); /* one test at a time, by name */
    if (only && *only) cmocka_set_test_filter(only);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_address_large_and_actor_rules_alert_with_the_nodes_facts,
                                  an_end_processes),
        cmocka_unit_test_teardown(test_a_reorg_retracts_the_alert_under_its_id, an_end_processes),
        cmocka_unit_test_teardown(test_confirmations_hold_an_alert_until_its_depth,
                                  an_end_processes),
        cmocka_unit_test_teardown(test_kill9_at_random_moments_loses_no_alert, an_end_processes),
        cmocka_unit_test_teardown(test_a_node_away_or_answering_garbage_is_retried_then_followed,
                                  an_end_processes),
        cmocka_unit_test_teardown(test_blocks_stored_while_no_watcher_ran_are_alerted_at_its_start,
                                  an_end_processes),
        cmocka_unit_test_teardown(test_each_attribution_rule_alerts_with_its_own_reasons,
                                  an_end_processes),
        cmocka_unit_test_teardown(
            test_a_silent_eth_watcher_says_it_is_alive_and_warns_once_of_a_stall, an_end_processes),
        cmocka_unit_test_teardown(test_value_a_contract_forwards_is_alerted_from_the_nodes_traces,
                                  an_end_processes),
        cmocka_unit_test_teardown(test_catch_up_logs_progress_rising_to_the_tip, an_end_processes),
        cmocka_unit_test_teardown(test_a_node_slower_than_the_timeout_is_retried_then_followed,
                                  an_end_processes),
        cmocka_unit_test_teardown(test_a_node_without_traces_is_warned_about_once_and_followed,
                                  an_end_processes),
        cmocka_unit_test_teardown(test_a_node_that_stops_tracing_is_followed_without_traces,
                                  an_end_processes),
        cmocka_unit_test_teardown(test_a_node_too_slow_to_trace_is_followed_without_traces,
                                  an_end_processes),
        cmocka_unit_test_teardown(
            test_a_node_that_loses_its_debug_api_is_followed_without_traces_at_once,
            an_end_processes),
        cmocka_unit_test_teardown(test_a_trace_that_fails_for_a_while_is_waited_for_and_alerted,
                                  an_end_processes),
        cmocka_unit_test_teardown(
            test_traces_failing_past_the_wait_are_followed_without_then_come_back,
            an_end_processes),
        cmocka_unit_test_teardown(test_a_kill_while_traces_are_off_keeps_the_range_open,
                                  an_end_processes),
        cmocka_unit_test_teardown(test_a_stop_does_not_wait_on_a_hung_node, an_end_processes),
        cmocka_unit_test_teardown(
            test_a_stop_while_a_block_waits_for_its_traces_is_not_kept_waiting, an_end_processes),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}

/* coinhound watch against a real node: anvil (Foundry's local Ethereum node,
 * installed from npm into tests/node by scripts/deps.sh), on a free loopback
 * port. The tests send real ETH transfers from anvil's funded, unlocked
 * accounts, script reorgs (anvil_reorg) and blocks (evm_mine), run the
 * watcher as a separate process (kill -9 included), and check its alerts
 * against what the node itself says: tx hashes from eth_sendTransaction,
 * block numbers and hashes from the receipts. Skipped, saying why, when
 * anvil is absent. */
#include "support/testutil.h"

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

#define ANVIL_DEFAULT "tests/node/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"

/* anvil's default accounts (its fixed test mnemonic), each funded with 10000 ETH */
#define ACCT0 "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
#define THIEF "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
#define ACCT2 "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc"
#define ACCT3 "0x90f79bf6eb2c4f870365e785982e1f101e93b906"
#define LAZ   "0x15d34aaf54267db7d7c367839aaf71a00a2c6a65" /* attributed to Lazarus below */
#define ACCT5 "0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc"

#define ETH_1000 "0x3635c9adc5dea00000" /* 1000 ETH in wei */
#define ETH_999  "0x3627e8f712373c0000" /* 999 ETH */

typedef struct fx {
    char *dir;
    char db[512], rules[512], alerts[512], log[512], url[64];
    int port;
    pid_t anvil, watcher;
} fx;

static const char *anvil_bin(void) {
    const char *e = getenv("COINHOUND_ANVIL");
    const char *p = e && *e ? e : ANVIL_DEFAULT;
    return access(p, X_OK) == 0 ? p : NULL;
}

static int free_port(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    return ntohs(a.sin_port);
}

static pid_t spawn(char *const argv[], const char *out_path, const char *err_path) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int e = open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (o < 0 || e < 0) _exit(127);
        dup2(o, 1);
        dup2(e, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static void msleep(unsigned ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

typedef struct buf {
    char *p;
    size_t n;
} buf;

static size_t on_body(char *d, size_t sz, size_t nm, void *ctx) {
    buf *b = ctx;
    char *p = realloc(b->p, b->n + sz * nm + 1);
    if (!p) return 0;
    memcpy(p + b->n, d, sz * nm);
    b->n += sz * nm;
    p[b->n] = 0;
    b->p = p;
    return sz * nm;
}

/* One JSON-RPC call; the result (new reference) or NULL when the node does
 * not answer or answers an error. */
static json_t *rpc(const fx *f, const char *method, json_t *params) {
    json_t *req = json_pack("{s:s,s:i,s:s,s:o}", "jsonrpc", "2.0", "id", 1, "method", method,
                            "params", params ? params : json_array());
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    buf b = {0};
    curl_easy_setopt(c, CURLOPT_URL, f->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(body);
    json_t *doc = rc == CURLE_OK && b.p ? json_loads(b.p, 0, NULL) : NULL;
    free(b.p);
    json_t *res = json_object_get(doc, "result");
    if (res) json_incref(res);
    json_decref(doc);
    return res;
}

/* eth_sendTransaction from an unlocked account; the tx hash (caller frees).
 * anvil mines it into a block of its own at once. */
static char *send_eth(const fx *f, const char *from, const char *to, const char *wei_hex) {
    json_t *r = rpc(f, "eth_sendTransaction",
                    json_pack("[{s:s,s:s,s:s}]", "from", from, "to", to, "value", wei_hex));
    assert_non_null(r);
    char *h = strdup(json_string_value(r));
    json_decref(r);
    return h;
}

/* The receipt's block number and hash of a mined tx. */
static void receipt_block(const fx *f, const char *tx, long long *number, char hash[67]) {
    json_t *r = rpc(f, "eth_getTransactionReceipt", json_pack("[s]", tx));
    assert_non_null(r);
    *number = strtoll(json_string_value(json_object_get(r, "blockNumber")), NULL, 16);
    snprintf(hash, 67, "%s", json_string_value(json_object_get(r, "blockHash")));
    json_decref(r);
}

static void write_file(const char *path, const char *text) {
    FILE *o = fopen(path, "w");
    assert_non_null(o);
    fputs(text, o);
    fclose(o);
}

/* The alert lines delivered so far, parsed. */
static json_t *read_alerts(const char *path) {
    json_t *arr = json_array();
    FILE *in = fopen(path, "r");
    if (!in) return arr;
    char line[16384];
    while (fgets(line, sizeof line, in)) {
        size_t n = strlen(line);
        if (n == 0 || line[n - 1] != '\n') break; /* a line still being written */
        json_t *a = json_loads(line, 0, NULL);
        assert_non_null(a);
        json_array_append_new(arr, a);
    }
    fclose(in);
    return arr;
}

static json_t *wait_alerts(const fx *f, size_t want, unsigned timeout_ms) {
    for (unsigned t = 0;; t += 100) {
        json_t *a = read_alerts(f->alerts);
        if (json_array_size(a) >= want || t >= timeout_ms) return a;
        json_decref(a);
        msleep(100);
    }
}

static void start_anvil(fx *f, const char *bin) {
    char port[16], alog[600];
    snprintf(port, sizeof port, "%d", f->port);
    snprintf(alog, sizeof alog, "%s/anvil.log", f->dir);
    char *argv[] = {(char *)bin, "--port", port, "--host", "127.0.0.1", NULL};
    f->anvil = spawn(argv, alog, alog);
    for (int i = 0; i < 200; i++) {
        json_t *r = rpc(f, "eth_blockNumber", NULL);
        if (r) {
            json_decref(r);
            return;
        }
        msleep(50);
    }
    fail_msg("anvil did not answer on %s", f->url);
}

/* The fixture of the running test: cmocka's teardown ends its processes even
 * when an assertion left the test early. */
static fx *g_fx;

static bool setup(fx *f) {
    g_fx = f;
    const char *bin = anvil_bin();
    if (!bin) {
        fprintf(stderr,
                "skipped: anvil is absent (%s): scripts/deps.sh installs it with 'npm ci' "
                "in tests/node\n",
                ANVIL_DEFAULT);
        return false;
    }
    memset(f, 0, sizeof *f);
    f->dir = tu_tmpdir();
    snprintf(f->db, sizeof f->db, "%s/db", f->dir);
    snprintf(f->rules, sizeof f->rules, "%s/rules.yaml", f->dir);
    snprintf(f->alerts, sizeof f->alerts, "%s/alerts.jsonl", f->dir);
    snprintf(f->log, sizeof f->log, "%s/watch.log", f->dir);
    f->port = free_port();
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d", f->port);
    start_anvil(f, bin);
    return true;
}

static int count_in_file(const char *path, const char *needle) {
    size_t len;
    char *t = (char *)tu_read_file(path, &len);
    int n = 0;
    for (const char *p = t; p && (p = strstr(p, needle)); p++)
        n++;
    free(t);
    return n;
}

/* Start a watcher and wait until it says it is watching (its signal
 * handlers are in place from then on). */
static pid_t start_watcher_nowait(fx *f, const char *extra, bool wait) {
    static char conf[32];
    snprintf(conf, sizeof conf, "%s", extra ? extra : "1");
    int before = count_in_file(f->log, " info: watching ");
    char *argv[] = {(char *)tu_bin("coinhound"),
                    "watch",
                    "eth",
                    "--rpc",
                    f->url,
                    "--db",
                    f->db,
                    "--rules",
                    f->rules,
                    "--alerts",
                    f->alerts,
                    "--poll-ms",
                    "50",
                    "--confirmations",
                    conf,
                    NULL};
    f->watcher = spawn(argv, "/dev/null", f->log);
    for (int i = 0; wait && i < 400 && count_in_file(f->log, " info: watching ") == before; i++)
        msleep(25);
    return f->watcher;
}

static pid_t start_watcher(fx *f, const char *extra) {
    return start_watcher_nowait(f, extra, true);
}

/* SIGTERM and the exit code (-1 when it did not stop within 10 s). */
static int stop_watcher(fx *f) {
    kill(f->watcher, SIGTERM);
    for (int i = 0; i < 200; i++) {
        int st;
        if (waitpid(f->watcher, &st, WNOHANG) == f->watcher) {
            f->watcher = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
        msleep(50);
    }
    kill(f->watcher, SIGKILL);
    waitpid(f->watcher, NULL, 0);
    f->watcher = 0;
    return -1;
}

static void teardown(fx *f) {
    if (f->watcher) {
        kill(f->watcher, SIGKILL);
        waitpid(f->watcher, NULL, 0);
    }
    if (f->anvil) {
        kill(f->anvil, SIGTERM);
        waitpid(f->anvil, NULL, 0);
    }
    tu_rmrf(f->dir);
    free(f->dir);
    f->dir = NULL;
    f->watcher = f->anvil = 0;
    g_fx = NULL;
}

static int end_processes(void **state) {
    (void)state;
    if (g_fx && g_fx->dir) teardown(g_fx);
    return 0;
}

static json_t *by_rule(json_t *alerts, const char *rule) {
    size_t i;
    json_t *a;
    json_array_foreach(
        alerts, i, a) if (!strcmp(json_string_value(json_object_get(a, "rule")), rule)) return a;
    fail_msg("no alert of rule %s", rule);
    return NULL;
}

static const char *s_of(json_t *a, const char *k) {
    const char *s = json_string_value(json_object_get(a, k));
    assert_non_null(s);
    return s;
}

/* The facts of one alert against the node's own receipt. */
static void check_alert(const fx *f, json_t *a, const char *tx, const char *amount,
                        const char *address, const char *severity) {
    long long number;
    char hash[67];
    receipt_block(f, tx, &number, hash);
    assert_string_equal(s_of(a, "tx"), tx);
    assert_int_equal(json_integer_value(json_object_get(a, "height")), number);
    assert_string_equal(s_of(a, "block_hash"), hash);
    assert_string_equal(s_of(a, "chain"), "eth");
    assert_string_equal(s_of(a, "asset"), "ETH");
    assert_string_equal(s_of(a, "amount"), amount);
    assert_string_equal(s_of(a, "severity"), severity);
    assert_int_equal(strlen(s_of(a, "id")), 32);
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
        assert_true(strlen(s_of(x, "source")) > 0);
        assert_true(strlen(s_of(x, "why")) > 0);
    }
}

static void test_address_large_and_actor_rules_alert_with_the_nodes_facts(void **state) {
    (void)state;
    static fx f;
    if (!setup(&f)) skip();
    write_file(f.rules, "rules:\n"
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
    write_file(csv, "address,asset,category,entity,actor,source\n" LAZ
                    ",ETH,hacker,Test Thief Crew,Lazarus Group,watch test list\n");
    snprintf(cmd, sizeof cmd, "%s intel import --db %s %s 2>&1", tu_bin("coinhound"), f.db, csv);
    int st;
    free(tu_run(cmd, &st));
    assert_int_equal(st, 0);

    start_watcher(&f, NULL);
    char *a = send_eth(&f, ACCT0, THIEF, "0xde0b6b3a7640000"); /* 1 ETH to the thief */
    char *b = send_eth(&f, ACCT2, ACCT3, ETH_1000);            /* exactly the minimum */
    char *c = send_eth(&f, ACCT2, ACCT3, ETH_999);             /* below it: no alert */
    char *d = send_eth(&f, ACCT5, LAZ, "0x1bc16d674ec80000");  /* 2 ETH to Lazarus */
    json_t *alerts = wait_alerts(&f, 3, 20000);
    msleep(500); /* nothing more may come */
    json_decref(alerts);
    alerts = read_alerts(f.alerts);
    assert_int_equal(json_array_size(alerts), 3);
    check_alert(&f, by_rule(alerts, "thief-moves"), a, "1000000000000000000", THIEF, "high");
    check_alert(&f, by_rule(alerts, "big"), b, "1000000000000000000000", ACCT2, "medium");
    json_t *dp = by_rule(alerts, "dprk");
    check_alert(&f, dp, d, "2000000000000000000", LAZ, "critical");
    /* the reason names the source that attributes the address */
    json_t *r0 = json_array_get(json_object_get(dp, "reasons"), 0);
    assert_string_equal(s_of(r0, "source"), "watch test list");
    assert_non_null(strstr(s_of(r0, "why"), "DPRK"));
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
             f.db, s_of(json_array_get(alerts, 0), "id"));
    out = tu_run(cmd, &st);
    assert_int_equal(atoi(out), 2);
    free(out);

    /* a clean stop, and a restart delivers nothing twice */
    assert_int_equal(stop_watcher(&f), 0);
    char *log = (char *)tu_read_file(f.log, &len);
    assert_non_null(strstr(log, " info: stopping: store committed at block 4"));
    free(log);
    start_watcher(&f, NULL);
    msleep(1500);
    assert_int_equal(stop_watcher(&f), 0);
    char *file2 = (char *)tu_read_file(f.alerts, &len);
    assert_string_equal(file, file2);
    free(file);
    free(file2);
    json_decref(alerts);
    free(a), free(b), free(c), free(d);
    teardown(&f);
}

static void test_a_reorg_retracts_the_alert_under_its_id(void **state) {
    (void)state;
    static fx f;
    if (!setup(&f)) skip();
    write_file(f.rules, "rules:\n  - name: big\n    kind: large_transfer\n    asset: ETH\n"
                        "    min: \"1000000000000000000000\"\n");
    start_watcher(&f, NULL);
    char *tx = send_eth(&f, ACCT2, ACCT3, ETH_1000);
    json_t *alerts = wait_alerts(&f, 1, 20000);
    assert_int_equal(json_array_size(alerts), 1);
    check_alert(&f, json_array_get(alerts, 0), tx, "1000000000000000000000", ACCT3, "medium");
    json_decref(alerts);
    /* the block holding it is replaced by an empty one */
    json_t *r = rpc(&f, "anvil_reorg", json_pack("[i,[]]", 1));
    json_decref(r);
    alerts = wait_alerts(&f, 2, 20000);
    assert_int_equal(json_array_size(alerts), 2);
    json_t *a0 = json_array_get(alerts, 0), *a1 = json_array_get(alerts, 1);
    assert_string_equal(s_of(a0, "id"), s_of(a1, "id"));
    assert_true(json_is_true(json_object_get(a1, "retracted")));
    assert_string_equal(s_of(a0, "block_hash"), s_of(a1, "block_hash"));
    /* the store follows the node's new block */
    json_t *blk = rpc(&f, "eth_getBlockByNumber", json_pack("[s,b]", "latest", 0));
    assert_string_not_equal(json_string_value(json_object_get(blk, "hash")),
                            s_of(a0, "block_hash"));
    json_decref(blk);
    assert_int_equal(stop_watcher(&f), 0);
    json_decref(alerts);
    free(tx);
    teardown(&f);
}

static void test_confirmations_hold_an_alert_until_its_depth(void **state) {
    (void)state;
    static fx f;
    if (!setup(&f)) skip();
    write_file(f.rules, "rules:\n  - name: thief-moves\n    kind: address\n"
                        "    addresses: [" THIEF "]\n    severity: high\n");
    start_watcher(&f, "3");
    char *tx = send_eth(&f, ACCT0, THIEF, "0x3e8"); /* block 1 */
    json_t *alerts = wait_alerts(&f, 1, 1500);
    assert_int_equal(json_array_size(alerts), 0); /* one confirmation */
    json_decref(alerts);
    json_decref(rpc(&f, "evm_mine", NULL)); /* block 2 */
    alerts = wait_alerts(&f, 1, 1500);
    assert_int_equal(json_array_size(alerts), 0); /* two */
    json_decref(alerts);
    json_decref(rpc(&f, "evm_mine", NULL)); /* block 3: three confirmations */
    alerts = wait_alerts(&f, 1, 20000);
    assert_int_equal(json_array_size(alerts), 1);
    check_alert(&f, json_array_get(alerts, 0), tx, "1000", THIEF, "high");
    json_decref(alerts);
    /* a payment reorganised away before its depth is never alerted (nor retracted) */
    char *tx2 = send_eth(&f, ACCT0, THIEF, "0x3e9"); /* block 4 */
    msleep(500);
    json_decref(rpc(&f, "anvil_reorg", json_pack("[i,[]]", 1)));
    for (int i = 0; i < 3; i++)
        json_decref(rpc(&f, "evm_mine", NULL));
    msleep(2000);
    alerts = read_alerts(f.alerts);
    assert_int_equal(json_array_size(alerts), 1);
    json_decref(alerts);
    assert_int_equal(stop_watcher(&f), 0);
    free(tx);
    free(tx2);
    teardown(&f);
}

static void test_kill9_at_random_moments_loses_no_alert(void **state) {
    (void)state;
    static fx f;
    if (!setup(&f)) skip();
    write_file(f.rules, "rules:\n  - name: thief-moves\n    kind: address\n"
                        "    addresses: [" THIEF "]\n    severity: high\n");
    enum { N = 24 };
    char *txs[N];
    srand((unsigned)time(NULL));
    unsigned kills = 0;
    start_watcher(&f, NULL);
    for (int i = 0; i < N; i++) {
        char wei[16];
        snprintf(wei, sizeof wei, "0x%x", 1000 + i);
        txs[i] = send_eth(&f, ACCT0, THIEF, wei);
        if (i % 2 == 1) {
            msleep((unsigned)(rand() % 120));
            kill(f.watcher, SIGKILL);
            waitpid(f.watcher, NULL, 0);
            kills++;
            /* half the restarts are killed again before they are up */
            start_watcher_nowait(&f, NULL, i == N - 1 || rand() % 2);
        }
    }
    json_t *alerts = NULL;
    /* every payment's alert arrives; wait for the last one */
    for (int t = 0; t < 300; t++) {
        json_decref(alerts);
        alerts = read_alerts(f.alerts);
        size_t seen = 0;
        for (int i = 0; i < N; i++) {
            size_t k;
            json_t *a;
            json_array_foreach(alerts, k, a) if (!strcmp(s_of(a, "tx"), txs[i])) {
                seen++;
                break;
            }
        }
        if (seen == N) break;
        msleep(100);
    }
    assert_int_equal(stop_watcher(&f), 0);
    json_decref(alerts);
    alerts = read_alerts(f.alerts);
    /* each payment: present, one id for all its copies, ids distinct across payments */
    char ids[N][33];
    for (int i = 0; i < N; i++) {
        ids[i][0] = 0;
        size_t k;
        json_t *a;
        json_array_foreach(alerts, k, a) {
            if (strcmp(s_of(a, "tx"), txs[i])) continue;
            assert_false(json_is_true(json_object_get(a, "retracted")));
            if (!ids[i][0])
                snprintf(ids[i], 33, "%s", s_of(a, "id"));
            else
                assert_string_equal(ids[i], s_of(a, "id"));
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
    teardown(&f);
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
        struct timeval tv = {0, 100000};
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(g->fd, &rd);
        if (select(g->fd + 1, &rd, NULL, NULL, &tv) <= 0) continue;
        int c = accept(g->fd, NULL, NULL);
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
    g->fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(g->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((uint16_t)port)};
    assert_int_equal(bind(g->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(g->fd, 16), 0);
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
    if (!setup(&f)) skip();
    /* the node goes away before the watcher starts */
    kill(f.anvil, SIGTERM);
    waitpid(f.anvil, NULL, 0);
    f.anvil = 0;
    write_file(f.rules, "rules:\n  - name: thief-moves\n    kind: address\n"
                        "    addresses: [" THIEF "]\n    severity: high\n");
    start_watcher(&f, NULL);
    msleep(1200);
    assert_true(alive(f.watcher));
    /* then something answers on its port, with garbage */
    garbage g;
    garbage_start(&g, f.port);
    msleep(2500);
    garbage_stop(&g);
    assert_true(g.served > 0);
    assert_true(alive(f.watcher));
    /* then the node is back: the watcher follows it and alerts */
    start_anvil(&f, anvil_bin());
    char *tx = send_eth(&f, ACCT0, THIEF, "0x3e8");
    json_t *alerts = wait_alerts(&f, 1, 40000);
    assert_int_equal(json_array_size(alerts), 1);
    check_alert(&f, json_array_get(alerts, 0), tx, "1000", THIEF, "high");
    json_decref(alerts);
    assert_int_equal(stop_watcher(&f), 0);
    size_t len;
    char *log = (char *)tu_read_file(f.log, &len);
    char want[200];
    snprintf(want, sizeof want, " warn: node: %s: eth_blockNumber", f.url);
    assert_non_null(strstr(log, want));
    assert_non_null(strstr(log, "retrying in"));
    /* the garbage was named as such */
    assert_non_null(strstr(log, "the answer is not JSON"));
    assert_non_null(strstr(log, "Couldn't connect to server"));
    assert_non_null(strstr(log, " info: node "));
    assert_non_null(strstr(log, "answers again"));
    free(log);
    free(tx);
    teardown(&f);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_address_large_and_actor_rules_alert_with_the_nodes_facts,
                                  end_processes),
        cmocka_unit_test_teardown(test_a_reorg_retracts_the_alert_under_its_id, end_processes),
        cmocka_unit_test_teardown(test_confirmations_hold_an_alert_until_its_depth, end_processes),
        cmocka_unit_test_teardown(test_kill9_at_random_moments_loses_no_alert, end_processes),
        cmocka_unit_test_teardown(test_a_node_away_or_answering_garbage_is_retried_then_followed,
                                  end_processes),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}

/* coinhound serve's query, trace, intel and alert endpoints, with curl.
 *
 * Claims, each against an independent oracle, the CLI run as another
 * process over the same database (its --json is the contract the endpoint
 * must equal, field for field):
 *   - GET /v1/address/{a} equals `address A --json --limit N`, on a Bitcoin
 *     and an account (eth) store of one database;
 *   - walking /v1/address/{a}/txs one entry a page gives the whole history
 *     of `address A --history --limit 0`, in order, with no duplicate;
 *   - /v1/tx by whole id and by an 8-digit prefix equals `tx --json`;
 *     /v1/block by height, by hash and (eth) by number equals `block --json`;
 *   - /v1/cluster equals `cluster A --json --limit 3`;
 *   - POST /v1/trace equals `trace --from S --max-hops 4 --json` (both chain
 *     kinds); a trace asking past the service's hop bound is refused;
 *   - /v1/intel/address equals `intel lookup --json`, a delisted listing
 *     kept as history (sdn_2022.xml lists 0x1111..., sdn_2023.xml not);
 *     /v1/intel/actors holds `intel actor 'Lazarus Group' --json`;
 *   - /v1/alerts equals `alerts --json` over an alert log written here in
 *     the watcher's layout, since= continues after an id, limit= pages;
 *   - /v1/alerts/stream sends the records after since as Server-Sent Events
 *     and then each record appended to the log, within a second;
 *   - POST /v1/intel/import (write scope) commits a CSV another process then
 *     reads (`intel lookup --json` equals /v1/intel/address); a malformed
 *     file is a 400 and changes nothing; a row with a bad address is counted
 *     and named in warnings;
 *   - a header block over the bound is a 431 with a JSON error, and the
 *     service answers after it; without keys, nothing but loopback is
 *     listened on (a connection to the host's other address is refused);
 *   - every answer, errors included, validates against docs/openapi.json,
 *     and each error path answers its status with a JSON error: 400
 *     malformed, 404 absent, 401/403 on a keyed service.
 * The chains are coinhound-gen's and coinhound-evmgen's (--theft). */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <ifaddrs.h>
#include <jansson.h>
#include <net/if.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "coinhound/screener.h"
#include "coinhound/server.h"
#include "support/httpcheck.h"
#include "support/testutil.h"

static char *g_dir;
static char g_ch[1024], g_db[4096];
static char g_thief[128], g_theft_tx[80], g_eth_addr[64], g_eth_tx[80];
static ch_screener *g_sc, *g_keyed_sc;
static ch_server *g_srv, *g_keyed;
static uint16_t g_port, g_keyed_port;

#define KEY_READ  "api-reader-1"
#define KEY_WRITE "api-writer-2"

static void sh(const char *cmd) {
    int st;
    free(tu_run(cmd, &st));
    if (st != 0) fprintf(stderr, "failed: %s\n", cmd);
    assert_int_equal(st, 0);
}

/* The CLI's JSON answer to args (exit status want). */
static json_t *cli_json(const char *args, int want) {
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "%s %s --db %s", g_ch, args, g_db);
    int st;
    char *out = tu_run(cmd, &st);
    if (st != want) fprintf(stderr, "%s: exit %d\n", cmd, st);
    assert_int_equal(st, want);
    json_error_t je;
    json_t *j = json_loads(out, JSON_DECODE_ANY, &je);
    if (!j) fprintf(stderr, "%s: not JSON: %.200s\n", cmd, out);
    assert_non_null(j);
    free(out);
    return j;
}

/* GET path: 200, valid against the document's path_key; the body. */
static json_t *api_get(const char *path, const char *path_key) {
    hc_resp r;
    hc_get(g_port, path, NULL, &r);
    if (r.status != 200) fprintf(stderr, "GET %s: %ld %.300s\n", path, r.status, r.body);
    assert_int_equal(r.status, 200);
    json_t *b = hc_checked(&r, path_key, "get");
    free(r.body);
    return b;
}

static void assert_same(json_t *api, json_t *cli, const char *what) {
    if (!json_equal(api, cli)) {
        char *a = json_dumps(api, JSON_SORT_KEYS), *c = json_dumps(cli, JSON_SORT_KEYS);
        fprintf(stderr, "%s:\n  serve: %.800s\n  cli:   %.800s\n", what, a, c);
        free(a);
        free(c);
    }
    assert_true(json_equal(api, cli));
}

static void expect_error(uint16_t port, const char *method, const char *path, const char *key,
                         const char *body, long status, const char *path_key) {
    hc_resp r;
    if (body)
        hc_req(port, method, path, key, body, strlen(body), NULL, &r);
    else
        hc_get(port, path, key, &r);
    hc_assert_error(&r, status, path_key, !strcmp(method, "POST") ? "post" : "get");
    free(r.body);
}

static int setup(void **state) {
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g_dir = tu_tmpdir();
    snprintf(g_ch, sizeof g_ch, "%s", tu_bin("coinhound"));
    snprintf(g_db, sizeof g_db, "%s/db", g_dir);
    char gen[1024], egen[1024], cmd[65536];
    snprintf(gen, sizeof gen, "%s", tu_bin("coinhound-gen"));
    snprintf(egen, sizeof egen, "%s", tu_bin("coinhound-evmgen"));
    snprintf(cmd, sizeof cmd,
             "%s --out %s/chain --txs 6000 --theft --seed 11 >/dev/null && "
             "%s ingest btc %s/chain --db %s --no-progress >/dev/null && "
             "%s --out %s/evm --transfers 3000 --theft --seed 3 >/dev/null && "
             "%s ingest eth %s/evm --db %s --no-progress >/dev/null && "
             "%s intel import --format csv %s/chain/labels.csv --db %s >/dev/null && "
             "%s intel import tests/data/intel/sdn_2022.xml --db %s >/dev/null && "
             "%s intel import tests/data/intel/sdn_2023.xml --db %s >/dev/null && "
             "%s cluster build --db %s >/dev/null 2>&1",
             gen, g_dir, g_ch, g_dir, g_db, egen, g_dir, g_ch, g_dir, g_db, g_ch, g_dir, g_db, g_ch,
             g_db, g_ch, g_db, g_ch, g_db);
    sh(cmd);
    char path[4200];
    snprintf(path, sizeof path, "%s/chain/theft.json", g_dir);
    json_t *t = json_load_file(path, 0, NULL);
    assert_non_null(t);
    snprintf(g_thief, sizeof g_thief, "%s", json_string_value(json_object_get(t, "thief_address")));
    snprintf(g_theft_tx, sizeof g_theft_tx, "%s",
             json_string_value(json_object_get(t, "theft_txid")));
    json_decref(t);
    snprintf(path, sizeof path, "%s/evm/theft.json", g_dir);
    t = json_load_file(path, 0, NULL);
    assert_non_null(t);
    snprintf(g_eth_addr, sizeof g_eth_addr, "%s",
             json_string_value(json_object_get(json_object_get(t, "contracts"), "router")));
    json_decref(t);
    /* an account tx: the router's newest transfer's, from the CLI */
    snprintf(cmd, sizeof cmd, "address %s --history --limit 1 --json", g_eth_addr);
    json_t *h = cli_json(cmd, 0);
    snprintf(g_eth_tx, sizeof g_eth_tx, "%s",
             json_string_value(
                 json_object_get(json_array_get(json_object_get(h, "entries"), 0), "hash")));
    json_decref(h);
    assert_int_equal(strlen(g_eth_tx), 66);

    /* keys: a reader and a writer (hashes made by the CLI) */
    snprintf(cmd, sizeof cmd,
             "{ printf 'r %%s read 100/min\\n' $(echo " KEY_READ " | %s serve --hash-key); "
             "printf 'w %%s write unlimited\\n' $(echo " KEY_WRITE " | %s serve --hash-key); "
             "} > %s/keys",
             g_ch, g_ch, g_dir);
    sh(cmd);

    ch_error err, warn;
    ch_screener_opts so;
    ch_screener_opts_init(&so);
    so.db = g_db;
    assert_int_equal(ch_screener_open(&so, &g_sc, &warn, &err), 0);
    ch_server_opts o;
    ch_server_opts_init(&o);
    o.listen = "127.0.0.1:0";
    o.db = g_db;
    o.max_trace_hops = 6;
    if (ch_server_start(g_sc, &o, &g_srv, &err) != 0) fprintf(stderr, "%s\n", err.msg);
    assert_non_null(g_srv);
    g_port = ch_server_port(g_srv);

    /* a keyed service over the eth store */
    char keys[4200];
    snprintf(keys, sizeof keys, "%s/keys", g_dir);
    ch_screener_opts_init(&so);
    so.db = g_db;
    so.chain = "eth";
    so.intel_shared = true; /* imports through the service, as coinhound serve opens it */
    assert_int_equal(ch_screener_open(&so, &g_keyed_sc, &warn, &err), 0);
    assert_string_equal(warn.msg, "");
    o.keys_path = keys;
    if (ch_server_start(g_keyed_sc, &o, &g_keyed, &err) != 0) fprintf(stderr, "%s\n", err.msg);
    assert_non_null(g_keyed);
    g_keyed_port = ch_server_port(g_keyed);
    hc_openapi_load();
    return 0;
}

static int teardown(void **state) {
    (void)state;
    ch_server_stop(g_srv);
    ch_server_stop(g_keyed);
    ch_error err;
    assert_int_equal(ch_screener_close(g_sc, &err), 0);
    assert_int_equal(ch_screener_close(g_keyed_sc, &err), 0);
    hc_openapi_free();
    curl_global_cleanup();
    tu_rmrf(g_dir);
    free(g_dir);
    return 0;
}

static void test_address_summary_equals_cli_on_both_chain_kinds(void **state) {
    (void)state;
    char path[512], args[512];
    const char *addrs[] = {g_thief, g_eth_addr};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "/v1/address/%s?limit=5", addrs[i]);
        snprintf(args, sizeof args, "address %s --json --limit 5", addrs[i]);
        json_t *a = api_get(path, "/v1/address/{address}"), *c = cli_json(args, 0);
        assert_same(a, c, path);
        json_decref(a);
        json_decref(c);
    }
    /* the eth address named with chain=eth explicitly: the same answer */
    snprintf(path, sizeof path, "/v1/address/%s?limit=5&chain=eth", g_eth_addr);
    json_decref(api_get(path, "/v1/address/{address}"));
    expect_error(g_port, "GET", "/v1/address/1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN4", NULL, NULL, 400,
                 "/v1/address/{address}"); /* a bad checksum */
    expect_error(g_port, "GET", "/v1/address/0x2222222222222222222222222222222222222222", NULL,
                 NULL, 404, "/v1/address/{address}"); /* never in the store */
    expect_error(g_port, "GET", "/v1/address/x?chain=../etc", NULL, NULL, 400,
                 "/v1/address/{address}");
    expect_error(g_port, "GET", "/v1/address/0x2222222222222222222222222222222222222222?chain=sol",
                 NULL, NULL, 404, "/v1/address/{address}"); /* no such store */
    snprintf(path, sizeof path, "/v1/address/%s?limit=0", g_thief);
    expect_error(g_port, "GET", path, NULL, NULL, 400, "/v1/address/{address}");
    snprintf(path, sizeof path, "/v1/address/%s?limit=1001", g_thief);
    expect_error(g_port, "GET", path, NULL, NULL, 400, "/v1/address/{address}");
}

/* Pages of one entry each, concatenated, are the whole history. */
static void walk_pages(const char *addr) {
    char args[512], path[1024], cursor[64] = "";
    snprintf(args, sizeof args, "address %s --history --limit 0 --json", addr);
    json_t *whole = cli_json(args, 0);
    json_t *all = json_object_get(whole, "entries");
    assert_true(json_array_size(all) >= 2);
    size_t n = 0;
    for (;;) {
        snprintf(path, sizeof path, "/v1/address/%s/txs?limit=1%s%s", addr,
                 cursor[0] ? "&cursor=" : "", cursor);
        json_t *p = api_get(path, "/v1/address/{address}/txs");
        json_t *e = json_object_get(p, "entries");
        assert_int_equal(json_array_size(e), 1);
        assert_same(json_array_get(e, 0), json_array_get(all, n), path);
        n++;
        const char *next = json_string_value(json_object_get(p, "next_cursor"));
        snprintf(cursor, sizeof cursor, "%s", next ? next : "");
        json_decref(p);
        if (!cursor[0]) break; /* null (or "") when the history is done */
        assert_true(n < json_array_size(all));
    }
    assert_int_equal(n, json_array_size(all));
    json_decref(whole);
}

static void test_history_pages_concatenate_to_the_whole_history(void **state) {
    (void)state;
    walk_pages(g_thief);
    walk_pages(g_eth_addr);
    char path[512];
    snprintf(path, sizeof path, "/v1/address/%s/txs?cursor=zz!", g_thief);
    expect_error(g_port, "GET", path, NULL, NULL, 400, "/v1/address/{address}/txs");
    snprintf(path, sizeof path, "/v1/address/%s/txs?cursor=ffffffffffffffffffff", g_thief);
    hc_resp r;
    hc_get(g_port, path, NULL, &r);
    assert_true(r.status == 400 || r.status == 200); /* a cursor past the store: no crash */
    json_decref(hc_checked(&r, "/v1/address/{address}/txs", "get"));
    free(r.body);
}

static void test_tx_and_block_equal_cli(void **state) {
    (void)state;
    char path[512], args[512], prefix[16];
    const char *txs[] = {g_theft_tx, g_eth_tx};
    for (int i = 0; i < 2; i++) {
        snprintf(args, sizeof args, "tx %s --json", txs[i]);
        json_t *c = cli_json(args, 0);
        snprintf(path, sizeof path, "/v1/tx/%s", txs[i]);
        json_t *a = api_get(path, "/v1/tx/{txid}");
        assert_same(a, c, path);
        json_decref(a);
        /* a unique prefix: 8 hex digits (after the 0x of an account hash) */
        snprintf(prefix, sizeof prefix, "%.*s", i ? 10 : 8, txs[i]);
        snprintf(path, sizeof path, "/v1/tx/%s", prefix);
        a = api_get(path, "/v1/tx/{txid}");
        assert_same(a, c, path);
        json_decref(a);
        json_decref(c);
    }
    expect_error(g_port, "GET",
                 "/v1/tx/00000000000000000000000000000000000000000000000000000000000000ff", NULL,
                 NULL, 404, "/v1/tx/{txid}");
    expect_error(g_port, "GET", "/v1/tx/zz12", NULL, NULL, 400, "/v1/tx/{txid}");
    expect_error(g_port, "GET", "/v1/tx/0", NULL, NULL, 400, "/v1/tx/{txid}"); /* too short */

    json_t *c = cli_json("block 107 --json", 0);
    json_t *a = api_get("/v1/block/107", "/v1/block/{block}");
    assert_same(a, c, "block 107");
    snprintf(path, sizeof path, "/v1/block/%s", json_string_value(json_object_get(c, "hash")));
    json_decref(a);
    a = api_get(path, "/v1/block/{block}");
    assert_same(a, c, "block by hash");
    json_decref(a);
    json_decref(c);
    c = cli_json("block 20000005 --chain eth --json", 0);
    a = api_get("/v1/block/20000005?chain=eth", "/v1/block/{block}");
    assert_same(a, c, "eth block");
    json_decref(a);
    json_decref(c);
    c = cli_json("block 3 --json --txs", 0);
    a = api_get("/v1/block/3?txs=true", "/v1/block/{block}");
    assert_same(a, c, "block 3 with its txs");
    json_decref(a);
    json_decref(c);
    expect_error(g_port, "GET", "/v1/block/99999999", NULL, NULL, 404, "/v1/block/{block}");
    expect_error(g_port, "GET", "/v1/block/12ab", NULL, NULL, 400, "/v1/block/{block}");
    expect_error(g_port, "GET", "/v1/block/3?txs=yes", NULL, NULL, 400, "/v1/block/{block}");
}

static void test_cluster_equals_cli(void **state) {
    (void)state;
    char path[512], args[512];
    snprintf(args, sizeof args, "cluster %s --json --limit 3", g_thief);
    snprintf(path, sizeof path, "/v1/cluster/%s?limit=3", g_thief);
    json_t *c = cli_json(args, 0), *a = api_get(path, "/v1/cluster/{address}");
    assert_same(a, c, path);
    json_decref(a);
    json_decref(c);
    /* a valid regtest address that never appears */
    expect_error(g_port, "GET", "/v1/cluster/mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", NULL, NULL, 404,
                 "/v1/cluster/{address}");
    expect_error(g_port, "GET", "/v1/cluster/nope", NULL, NULL, 400, "/v1/cluster/{address}");
}

static void trace_equals_cli(const char *source, const char *extra_json, const char *extra_args) {
    char body[1024], args[1024];
    snprintf(body, sizeof body, "{\"source\":\"%s\",\"max_hops\":4%s}", source, extra_json);
    snprintf(args, sizeof args, "trace --from %s --max-hops 4 --json%s", source, extra_args);
    hc_resp r;
    hc_post(g_port, "/v1/trace", NULL, body, &r);
    if (r.status != 200) fprintf(stderr, "POST /v1/trace %s: %ld %.300s\n", body, r.status, r.body);
    assert_int_equal(r.status, 200);
    json_t *a = hc_checked(&r, "/v1/trace", "post"), *c = cli_json(args, 0);
    assert_same(a, c, body);
    json_decref(a);
    json_decref(c);
    free(r.body);
}

static void test_trace_equals_cli_and_is_bounded(void **state) {
    (void)state;
    char src[128];
    snprintf(src, sizeof src, "%s:0", g_theft_tx);
    trace_equals_cli(src, "", "");
    trace_equals_cli(src, ",\"policy\":\"poison\"", " --policy poison");
    trace_equals_cli(g_eth_tx, ",\"policy\":\"fifo\"", " --policy fifo");
    expect_error(g_port, "POST", "/v1/trace", NULL, "{\"source\":\"x\",\"max_hops\":7}", 400,
                 "/v1/trace"); /* past the service's bound of 6 */
    expect_error(g_port, "POST", "/v1/trace", NULL, "{\"source\":\"x\",\"hops\":2}", 400,
                 "/v1/trace"); /* unknown field */
    expect_error(g_port, "POST", "/v1/trace", NULL, "{\"policy\":\"fifo\"}", 400, "/v1/trace");
    expect_error(g_port, "POST", "/v1/trace", NULL, "[1]", 400, "/v1/trace");
    expect_error(
        g_port, "POST", "/v1/trace", NULL,
        "{\"source\":\"00000000000000000000000000000000000000000000000000000000000000ff\"}", 404,
        "/v1/trace");
    char body[256];
    snprintf(body, sizeof body, "{\"source\":\"%s\",\"policy\":\"lifo\"}", g_eth_tx);
    expect_error(g_port, "POST", "/v1/trace", NULL, body, 400, "/v1/trace");
}

/* POST /v1/report/case: the case report of the trace the same TraceRequest
 * asks POST /v1/trace for. The page embeds the trace it was made of (a
 * <script type="application/json" id="coinhound-trace"> block): it equals
 * the service's own trace answer; the investigator's title is escaped; bad
 * bodies are 400s with a JSON error, a source not in the store a 404. */
static void test_report_case_embeds_the_trace_it_reports(void **state) {
    (void)state;
    char body[1024], tbody[512];
    snprintf(tbody, sizeof tbody, "{\"source\":\"%s:0\",\"max_hops\":4}", g_theft_tx);
    snprintf(body, sizeof body,
             "{\"trace\":%s,\"title\":\"Case <b>17</b>\",\"notes\":\"seen 3 a.m.\","
             "\"tags\":[\"dprk\",\"bridge\"]}",
             tbody);
    hc_resp r, t;
    hc_post(g_port, "/v1/report/case", NULL, body, &r);
    if (r.status != 200) fprintf(stderr, "POST /v1/report/case: %ld %.300s\n", r.status, r.body);
    assert_int_equal(r.status, 200);
    char ct[128];
    assert_non_null(hc_header(&r, "Content-Type", ct, sizeof ct));
    assert_non_null(strstr(ct, "text/html"));
    assert_null(strstr(r.body, "<b>17</b>")); /* the title is text, never markup */
    assert_non_null(strstr(r.body, "Case &lt;b&gt;17&lt;/b&gt;"));
    const char *open = "<script type=\"application/json\" id=\"coinhound-trace\">";
    char *at = strstr(r.body, open);
    assert_non_null(at);
    at += strlen(open);
    char *end = strstr(at, "</script>");
    assert_non_null(end);
    json_error_t je;
    json_t *embedded = json_loadb(at, (size_t)(end - at), 0, &je);
    if (!embedded) fail_msg("the embedded trace is not JSON: %s", je.text);
    hc_post(g_port, "/v1/trace", NULL, tbody, &t);
    assert_int_equal(t.status, 200);
    json_t *direct = hc_checked(&t, "/v1/trace", "post");
    assert_true(json_array_size(json_object_get(direct, "landings")) > 0);
    assert_same(embedded, direct, "report's embedded trace vs POST /v1/trace");
    json_decref(embedded);
    json_decref(direct);
    free(t.body);
    free(r.body);
    expect_error(g_port, "POST", "/v1/report/case", NULL, tbody, 400, "/v1/report/case");
    expect_error(g_port, "POST", "/v1/report/case", NULL,
                 "{\"trace\":{\"source\":\"x\"},\"extra\":1}", 400, "/v1/report/case");
    expect_error(g_port, "POST", "/v1/report/case", NULL,
                 "{\"trace\":{\"source\":\"x\"},\"tags\":[1]}", 400, "/v1/report/case");
    expect_error(g_port, "POST", "/v1/report/case", NULL, "{\"trace\":", 400, "/v1/report/case");
    expect_error(g_port, "POST", "/v1/report/case", NULL,
                 "{\"trace\":{\"source\":"
                 "\"00000000000000000000000000000000000000000000000000000000000000ff\"}}",
                 404, "/v1/report/case");
}

static void test_intel_endpoints_equal_cli_with_history(void **state) {
    (void)state;
    const char *addrs[] = {"12ZEw5Hcv1hTb6YUQJ69y1V7uhcoDz92PH",
                           "0x1111111111111111111111111111111111111111"};
    char path[512], args[512];
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "/v1/intel/address/%s", addrs[i]);
        snprintf(args, sizeof args, "intel lookup %s --json", addrs[i]);
        json_t *a = api_get(path, "/v1/intel/address/{address}"), *c = cli_json(args, 0);
        assert_same(a, c, path);
        json_decref(c);
        if (i == 1) { /* listed in 2022, gone in 2023: kept, delisted */
            json_t *at = json_array_get(json_object_get(a, "attributions"), 0);
            assert_true(json_is_true(json_object_get(at, "delisted")));
        }
        json_decref(a);
    }
    expect_error(g_port, "GET", "/v1/intel/address/1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN4", NULL, NULL,
                 400, "/v1/intel/address/{address}");
    json_t *all = api_get("/v1/intel/actors", "/v1/intel/actors");
    json_t *lz = cli_json("intel actor 'Lazarus Group' --json", 0);
    json_object_del(lz, "query");
    json_t *v;
    size_t i, found = 0;
    json_array_foreach(json_object_get(all, "actors"), i, v) {
        if (json_equal(v, lz)) found++;
    }
    assert_int_equal(found, 1);
    json_decref(lz);
    json_decref(all);
}

static void write_alerts(void) {
    char path[4200];
    snprintf(path, sizeof path, "%s/eth/watch", g_db);
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", path);
    sh(cmd);
    snprintf(path, sizeof path, "%s/eth/watch/alerts.jsonl", g_db);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 1; i <= 3; i++)
        fprintf(f,
                "{\"id\":\"a%d\",\"rule\":\"big\",\"severity\":\"high\",\"chain\":\"eth\","
                "\"height\":%d,\"tx\":\"0x%064d\",\"amount\":\"%d000\",\"asset\":\"ETH\","
                "\"from\":\"0x%040d\",\"to\":\"0x%040d\",\"reasons\":[{\"why\":\"large\","
                "\"source\":\"rule big\"}]}\n",
                i, 20000000 + i, i, i, i, i + 1);
    fprintf(f, "{\"id\":\"a2\",\"retracted\":true,\"chain\":\"eth\"}\n");
    fclose(f);
}

static void test_alerts_equal_cli_since_and_pages(void **state) {
    (void)state;
    expect_error(g_port, "GET", "/v1/alerts?chain=eth", NULL, NULL, 404, "/v1/alerts");
    write_alerts();
    /* the CLI prints one record a line: as an array, the same records */
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "%s alerts --json --chain eth --db %s", g_ch, g_db);
    int st;
    char *out = tu_run(cmd, &st);
    assert_int_equal(st, 0);
    json_t *lines = json_array();
    for (char *save = NULL, *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        json_array_append_new(lines, json_loads(l, 0, NULL));
    free(out);
    assert_int_equal(json_array_size(lines), 4);
    json_t *a = api_get("/v1/alerts?chain=eth", "/v1/alerts");
    assert_same(json_object_get(a, "alerts"), lines, "alerts");
    assert_string_equal(json_string_value(json_object_get(a, "next_since")), "a2");
    assert_true(json_is_false(json_object_get(a, "more")));
    json_decref(a);
    a = api_get("/v1/alerts?chain=eth&since=a3", "/v1/alerts");
    assert_int_equal(json_array_size(json_object_get(a, "alerts")), 1); /* the retraction */
    json_decref(a);
    a = api_get("/v1/alerts?chain=eth&limit=2", "/v1/alerts");
    assert_int_equal(json_array_size(json_object_get(a, "alerts")), 2);
    assert_string_equal(json_string_value(json_object_get(a, "next_since")), "a2");
    assert_true(json_is_true(json_object_get(a, "more")));
    json_decref(a);
    json_decref(lines);
    /* the keyed service serves eth: its log is the default */
    hc_resp r;
    hc_get(g_keyed_port, "/v1/alerts", KEY_READ, &r);
    assert_int_equal(r.status, 200);
    json_decref(hc_checked(&r, "/v1/alerts", "get"));
    free(r.body);
    expect_error(g_port, "GET", "/v1/alerts?chain=eth&since=nope", NULL, NULL, 400, "/v1/alerts");
}

/* An open event stream: a socket with the request sent. */
static int stream_open(uint16_t port, const char *path) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    struct timeval tv = {.tv_usec = 100000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char req[1024];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
    return fd;
}

/* Read the stream into buf (appending) until needle shows or secs pass. */
static bool stream_wait(int fd, char *buf, size_t cap, const char *needle, double secs) {
    size_t len = strlen(buf);
    for (int i = 0; i < (int)(secs * 10) && !strstr(buf, needle); i++) {
        ssize_t k = recv(fd, buf + len, cap - 1 - len, 0);
        if (k > 0) len += (size_t)k;
        buf[len] = '\0';
    }
    return strstr(buf, needle) != NULL;
}

static void append_alert(const char *id) {
    char path[4200];
    snprintf(path, sizeof path, "%s/eth/watch/alerts.jsonl", g_db);
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fprintf(f, "{\"id\":\"%s\",\"rule\":\"big\",\"chain\":\"eth\"}\n", id);
    fclose(f);
}

static void test_alert_stream_sends_records_as_they_are_appended(void **state) {
    (void)state;
    write_alerts(); /* a1, a2, a3, the retraction of a2 */
    char buf[65536] = "";
    int fd = stream_open(g_port, "/v1/alerts/stream?chain=eth&since=a1");
    assert_true(stream_wait(fd, buf, sizeof buf, "id: a3", 5));
    assert_non_null(strstr(buf, "HTTP/1.1 200"));
    assert_non_null(strstr(buf, "text/event-stream"));
    assert_null(strstr(buf, "id: a1\n")); /* since a1: after it */
    assert_non_null(strstr(buf, "id: a2\ndata: {\"id\":\"a2\",\"rule\""));
    /* a stream without since starts at the log's end */
    char buf2[65536] = "";
    int fd2 = stream_open(g_port, "/v1/alerts/stream?chain=eth");
    assert_true(stream_wait(fd2, buf2, sizeof buf2, "text/event-stream", 5));
    /* appended while both are open: each gets it, within a second */
    append_alert("a4");
    assert_true(stream_wait(fd, buf, sizeof buf, "id: a4\ndata: {\"id\":\"a4\"", 1.5));
    assert_true(stream_wait(fd2, buf2, sizeof buf2, "id: a4\n", 1.5));
    assert_null(strstr(buf2, "id: a3\n"));
    close(fd);
    close(fd2);
    /* the service goes on answering */
    json_t *a = api_get("/v1/alerts?chain=eth&since=a3", "/v1/alerts");
    assert_int_equal(json_array_size(json_object_get(a, "alerts")), 2);
    json_decref(a);
    expect_error(g_port, "GET", "/v1/alerts/stream?chain=eth&since=nope", NULL, NULL, 400,
                 "/v1/alerts/stream");
    expect_error(g_keyed_port, "GET", "/v1/alerts/stream", NULL, NULL, 401, "/v1/alerts/stream");
}

static void import(const char *query, const char *key, const char *body, hc_resp *r) {
    char path[512];
    snprintf(path, sizeof path, "/v1/intel/import%s", query);
    hc_req(g_keyed_port, "POST", path, key, body, strlen(body), "text/csv", r);
}

static void test_intel_import_commits_for_other_readers(void **state) {
    (void)state;
    const char *addr = "0x2222222222222222222222222222222222222222";
    char path[256], args[256];
    snprintf(path, sizeof path, "/v1/intel/address/%s", addr);
    snprintf(args, sizeof args, "intel lookup %s --json", addr);
    json_t *before = cli_json(args, 0);
    hc_resp r;
    /* refused: no key, a reader's key, no format, a file that does not parse */
    import("?format=csv", NULL, "x", &r);
    hc_assert_error(&r, 401, "/v1/intel/import", "post");
    free(r.body);
    import("?format=csv", KEY_READ, "x", &r);
    hc_assert_error(&r, 403, "/v1/intel/import", "post");
    free(r.body);
    import("", KEY_WRITE, "address,category,entity\n", &r);
    hc_assert_error(&r, 400, "/v1/intel/import", "post");
    free(r.body);
    char bad[512];
    snprintf(bad, sizeof bad, "address,category,entity\n%s,hacker,\"unclosed\n", addr);
    import("?format=csv", KEY_WRITE, bad, &r);
    hc_assert_error(&r, 400, "/v1/intel/import", "post");
    free(r.body);
    json_t *same = cli_json(args, 0);
    assert_same(same, before, "after a refused import");
    json_decref(same);
    /* a good file: one row taken, one bad address named */
    char good[512];
    snprintf(good, sizeof good,
             "address,category,entity\n%s,hacker,Imported Over HTTP\n0x12,hacker,Short\n", addr);
    import("?format=csv&name=desk.csv", KEY_WRITE, good, &r);
    if (r.status != 200) fprintf(stderr, "import: %ld %s\n", r.status, r.body);
    assert_int_equal(r.status, 200);
    json_t *a = hc_checked(&r, "/v1/intel/import", "post");
    free(r.body);
    json_t *st = json_object_get(a, "stats");
    assert_int_equal(json_integer_value(json_object_get(st, "added")), 1);
    assert_int_equal(json_integer_value(json_object_get(st, "rejected")), 1);
    assert_int_equal(json_array_size(json_object_get(a, "warnings")), 1);
    assert_non_null(
        strstr(json_string_value(json_array_get(json_object_get(a, "warnings"), 0)), "desk.csv"));
    json_decref(a);
    /* another process reads it from the disk: the same answer as the service */
    json_t *cli = cli_json(args, 0);
    hc_get(g_keyed_port, path, KEY_READ, &r);
    assert_int_equal(r.status, 200);
    a = hc_checked(&r, "/v1/intel/address/{address}", "get");
    free(r.body);
    assert_same(a, cli, "after the import");
    json_t *at = json_array_get(json_object_get(a, "attributions"), 0);
    assert_string_equal(json_string_value(json_object_get(at, "entity")), "Imported Over HTTP");
    json_decref(a);
    json_decref(cli);
    json_decref(before);
    /* a service whose handle is read-only (this test's unkeyed one) refuses */
    expect_error(g_port, "POST", "/v1/intel/import?format=csv", NULL, good, 503,
                 "/v1/intel/import");
}

static void test_keys_guard_the_query_endpoints(void **state) {
    (void)state;
    char path[512], h[64];
    snprintf(path, sizeof path, "/v1/address/%s", g_eth_addr);
    expect_error(g_keyed_port, "GET", path, NULL, NULL, 401, "/v1/address/{address}");
    expect_error(g_keyed_port, "GET", path, KEY_WRITE, NULL, 403, "/v1/address/{address}");
    expect_error(g_keyed_port, "POST", "/v1/trace", NULL, "{\"source\":\"x\"}", 401, "/v1/trace");
    hc_resp r;
    hc_get(g_keyed_port, path, KEY_READ, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(hc_header(&r, "X-RateLimit-Limit", h, sizeof h), "100");
    assert_non_null(hc_header(&r, "X-RateLimit-Remaining", h, sizeof h));
    /* the keyed service's store is eth: an 0x address needs no chain */
    json_t *a = hc_checked(&r, "/v1/address/{address}", "get");
    assert_string_equal(json_string_value(json_object_get(a, "address")), g_eth_addr);
    json_decref(a);
    free(r.body);
    /* a block number on it is an eth block */
    hc_get(g_keyed_port, "/v1/block/20000001", KEY_READ, &r);
    assert_int_equal(r.status, 200);
    json_decref(hc_checked(&r, "/v1/block/{block}", "get"));
    free(r.body);
}

/* Bytes on a socket to 127.0.0.1:port; what comes back (up to cap). */
static void raw(uint16_t port, const char *data, size_t n, char *out, size_t cap) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (size_t off = 0; off < n;) {
        ssize_t w = send(fd, data + off, n - off, MSG_NOSIGNAL);
        if (w <= 0) break;
        off += (size_t)w;
    }
    size_t got = 0;
    ssize_t k;
    while (got + 1 < cap && (k = recv(fd, out + got, cap - 1 - got, 0)) > 0)
        got += (size_t)k;
    out[got] = '\0';
    close(fd);
}

static void test_oversized_headers_get_a_json_431(void **state) {
    (void)state;
    size_t big = 12 * 1024; /* over the 8 KiB bound, within the connection's 32 KiB */
    char *req = malloc(big + 256);
    assert_non_null(req);
    size_t k = (size_t)sprintf(req, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(req + k, 'b', big);
    k += big;
    k += (size_t)sprintf(req + k, "\r\n\r\n");
    char out[4096];
    raw(g_port, req, k, out, sizeof out);
    free(req);
    assert_int_equal(strncmp(out, "HTTP/1.1 431", 12), 0);
    const char *body = strstr(out, "\r\n\r\n");
    assert_non_null(body);
    json_t *j = json_loads(body + 4, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "error"), "status")),
                     431);
    json_decref(j);
    /* a long query string counts too */
    char *path = malloc(big + 64);
    assert_non_null(path);
    k = (size_t)sprintf(path, "/v1/address/%s?chain=", g_thief);
    memset(path + k, 'e', big);
    path[k + big] = '\0';
    hc_resp r;
    hc_get(g_port, path, NULL, &r);
    free(path);
    assert_int_equal(r.status, 431);
    free(r.body);
    hc_get(g_port, "/healthz", NULL, &r);
    assert_int_equal(r.status, 200);
    free(r.body);
}

/* A non-loopback IPv4 address of this host, or 0 when it has none. */
static in_addr_t other_address(void) {
    struct ifaddrs *ifs, *i;
    in_addr_t found = 0;
    if (getifaddrs(&ifs) != 0) return 0;
    for (i = ifs; i && !found; i = i->ifa_next)
        if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && (i->ifa_flags & IFF_UP) &&
            !(i->ifa_flags & IFF_LOOPBACK)) {
            in_addr_t a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
            if ((ntohl(a) >> 24) != 127) found = a;
        }
    freeifaddrs(ifs);
    return found;
}

static void test_without_keys_only_loopback_is_listened_on(void **state) {
    (void)state;
    /* refused at start on a public address */
    ch_server_opts o;
    ch_server_opts_init(&o);
    o.listen = "0.0.0.0:0";
    ch_server *srv = NULL;
    ch_error err;
    assert_int_equal(ch_server_start(g_sc, &o, &srv, &err), -1);
    assert_null(srv);
    assert_non_null(strstr(err.msg, "loopback"));
    o.listen = "[::]:0";
    assert_int_equal(ch_server_start(g_sc, &o, &srv, &err), -1);
    /* and the keyless service is not reachable on the host's other address */
    in_addr_t other = other_address();
    if (!other) {
        fprintf(stderr, "note: no non-loopback IPv4 address on this host: reach not checked\n");
        return;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(g_port)};
    a.sin_addr.s_addr = other;
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    int e = errno;
    close(fd);
    assert_int_equal(rc, -1);
    assert_int_equal(e, ECONNREFUSED);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_address_summary_equals_cli_on_both_chain_kinds),
        cmocka_unit_test(test_history_pages_concatenate_to_the_whole_history),
        cmocka_unit_test(test_tx_and_block_equal_cli),
        cmocka_unit_test(test_cluster_equals_cli),
        cmocka_unit_test(test_trace_equals_cli_and_is_bounded),
        cmocka_unit_test(test_report_case_embeds_the_trace_it_reports),
        cmocka_unit_test(test_intel_endpoints_equal_cli_with_history),
        cmocka_unit_test(test_alerts_equal_cli_since_and_pages),
        cmocka_unit_test(test_alert_stream_sends_records_as_they_are_appended),
        cmocka_unit_test(test_keys_guard_the_query_endpoints),
        cmocka_unit_test(test_intel_import_commits_for_other_readers),
        cmocka_unit_test(test_oversized_headers_get_a_json_431),
        cmocka_unit_test(test_without_keys_only_loopback_is_listened_on),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* coinhound serve (server.h, screener.h) with a real HTTP client.
 *
 * Claims, each against an independent oracle:
 *   - a POST /v1/screen verdict equals `coinhound screen --json` for the same
 *     address, field for field (the CLI run as another process), external_id
 *     passed through, for a database (clusters, exposure) and a set;
 *   - the sanctions endpoint lists OFAC's listing (tests/data/intel/sdn_2023.xml,
 *     read by hand: 12ZEw5... is "Test PERSON", 0x098B... LAZARUS GROUP) and
 *     nothing for a clean or non-sanctions address, and never answers an
 *     invalid one with an empty (clean) list;
 *   - keys: 401 without or with an unknown key, 403 without the scope, the
 *     rate limit counted down in X-RateLimit-Remaining, 429 with Retry-After;
 *   - hostile requests each get a 4xx with a JSON error, a storm of them is
 *     followed by correct answers, and /metrics counted them;
 *   - /v1/openapi.json is docs/openapi.json, and every answer of the test
 *     validates against the schema it names (types, required, enums);
 *   - the CLI refuses a public address without --keys and stops on SIGTERM;
 *   - a chain store written and a cluster file built again while served are
 *     answered without a restart, as a fresh `coinhound screen --db` does.
 * The chain is coinhound-gen's (--theft), its truth file names the thief. */
#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "coinhound/address.h"
#include "coinhound/cluster.h"
#include "coinhound/screener.h"
#include "coinhound/store.h"
#include "coinhound/server.h"
#include "support/httpcheck.h"
#include "support/testutil.h"

static char *g_dir;
static char g_ch[1024];
static char g_thief[128], g_victim[128], g_landing[128];
static ch_screener *g_db_screener, *g_set_screener;
static ch_server *g_db_srv, *g_set_srv;

/* keys of the set server: their SHA-256 in its keys file */
#define KEY_READER "reader-key-1"
#define KEY_WRITER "writer-key-2"
#define KEY_SLOW   "slow-key-3"

/* ---- the client and the document check: tests/support/httpcheck ---- */

typedef hc_resp resp;

static const char *header(const resp *r, const char *name, char *out, size_t cap) {
    return hc_header(r, name, out, cap);
}

static void req(const ch_server *srv, const char *method, const char *path, const char *key,
                const char *body, size_t blen, const char *ctype, resp *r) {
    hc_req(ch_server_port(srv), method, path, key, body, blen, ctype, r);
}

static void get(const ch_server *srv, const char *path, const char *key, resp *r) {
    hc_get(ch_server_port(srv), path, key, r);
}

static void post(const ch_server *srv, const char *path, const char *key, const char *body,
                 resp *r) {
    hc_post(ch_server_port(srv), path, key, body, r);
}

/* The answer validated against the document's schema; the body. */
static json_t *checked(const resp *r, const char *path_key, const char *method) {
    return hc_checked(r, path_key, method);
}

/* An error answer: the status, and a JSON error body naming it (checked
 * against the document when path_key names a path). */
static void assert_json_error(const resp *r, long status, const char *path_key,
                              const char *method) {
    if (path_key) {
        hc_assert_error(r, status, path_key, method);
        return;
    }
    assert_int_equal(r->status, status);
    json_t *b = json_loadb(r->body, r->len, 0, NULL);
    assert_non_null(b);
    json_t *e = json_object_get(b, "error");
    assert_int_equal(json_integer_value(json_object_get(e, "status")), status);
    assert_true(json_string_length(json_object_get(e, "message")) > 0);
    json_decref(b);
}

/* ---- the world ---- */

static void sh(const char *cmd) {
    int st;
    free(tu_run(cmd, &st));
    if (st != 0) fprintf(stderr, "failed: %s\n", cmd);
    assert_int_equal(st, 0);
}

static int setup(void **state) {
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g_dir = tu_tmpdir();
    char gen[1024], cmd[16384], path[4096];
    snprintf(gen, sizeof gen, "%s", tu_bin("coinhound-gen"));
    snprintf(g_ch, sizeof g_ch, "%s", tu_bin("coinhound"));
    snprintf(cmd, sizeof cmd,
             "%s --out %s/chain --txs 20000 --theft --seed 11 >/dev/null && %s ingest btc "
             "%s/chain --db %s/db --no-progress >/dev/null",
             gen, g_dir, g_ch, g_dir, g_dir);
    sh(cmd);
    snprintf(path, sizeof path, "%s/chain/theft.json", g_dir);
    json_t *t = json_load_file(path, 0, NULL);
    assert_non_null(t);
    snprintf(g_thief, sizeof g_thief, "%s", json_string_value(json_object_get(t, "thief_address")));
    snprintf(g_victim, sizeof g_victim, "%s",
             json_string_value(json_object_get(t, "victim_address")));
    snprintf(g_landing, sizeof g_landing, "%s",
             json_string_value(
                 json_object_get(json_array_get(json_object_get(t, "landings"), 0), "address")));
    json_decref(t);
    snprintf(cmd, sizeof cmd,
             "printf 'address,category,entity\\n%s,stolen_funds,Thief\\n' > %s/thief.csv && "
             "%s intel import --format csv %s/chain/labels.csv %s/thief.csv --db %s/db "
             ">/dev/null && %s intel import tests/data/intel/sdn_2023.xml --db %s/db >/dev/null "
             "&& %s cluster build --db %s/db >/dev/null 2>&1 && "
             "%s intel export-set --db %s/db --out %s/set.chset >/dev/null",
             g_thief, g_dir, g_ch, g_dir, g_dir, g_dir, g_ch, g_dir, g_ch, g_dir, g_ch, g_dir,
             g_dir);
    sh(cmd);
    /* the keys file: hashes only (made by the CLI's --hash-key) */
    snprintf(cmd, sizeof cmd,
             "{ printf 'reader %%s read 1000/min\\n' $(echo " KEY_READER " | %s serve "
             "--hash-key); printf '# a comment\\nwriter %%s write unlimited\\n' $(echo " KEY_WRITER
             " | %s serve --hash-key); printf 'slow %%s read,write 3/min\\n' $(echo " KEY_SLOW
             " | %s serve --hash-key); } > %s/keys",
             g_ch, g_ch, g_ch, g_dir);
    sh(cmd);

    ch_error err, warn;
    ch_screener_opts so;
    ch_screener_opts_init(&so);
    snprintf(path, sizeof path, "%s/db", g_dir);
    so.db = path;
    so.max_hops = 2;
    assert_int_equal(ch_screener_open(&so, &g_db_screener, &warn, &err), 0);
    ch_server_opts o;
    ch_server_opts_init(&o);
    o.listen = "127.0.0.1:0"; /* the default bounds: a 4 MiB body, 10,000 addresses */
    if (ch_server_start(g_db_screener, &o, &g_db_srv, &err) != 0) fprintf(stderr, "%s\n", err.msg);
    assert_non_null(g_db_srv);

    char set[4096], keys[4096];
    ch_screener_opts_init(&so);
    snprintf(set, sizeof set, "%s/set.chset", g_dir);
    so.set_path = set;
    assert_int_equal(ch_screener_open(&so, &g_set_screener, &warn, &err), 0);
    snprintf(keys, sizeof keys, "%s/keys", g_dir);
    o.keys_path = keys;
    o.threads = 4;
    if (ch_server_start(g_set_screener, &o, &g_set_srv, &err) != 0)
        fprintf(stderr, "%s\n", err.msg);
    assert_non_null(g_set_srv);

    hc_openapi_load(); /* docs/openapi.json */
    return 0;
}

static int teardown(void **state) {
    (void)state;
    ch_server_stop(g_db_srv);
    ch_server_stop(g_set_srv);
    ch_error err;
    assert_int_equal(ch_screener_close(g_db_screener, &err), 0);
    ch_screener_close(g_set_screener, NULL);
    hc_openapi_free();
    curl_global_cleanup();
    tu_rmrf(g_dir);
    free(g_dir);
    return 0;
}

/* The addresses both doors are asked about: listed (stolen funds, OFAC in
 * two families), a deposit with exposure and a cluster, a clean one, an
 * invalid one, an unsupported chain's. */
static const char *addresses(size_t i) {
    static const char *fixed[] = {"12ZEw5Hcv1hTb6YUQJ69y1V7uhcoDz92PH",
                                  "0x098b716b8aaf21512996dc57eb0615e2383e2f96",
                                  "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", "notanaddress",
                                  "thor1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"};
    if (i == 0) return g_thief;
    if (i == 1) return g_victim;
    if (i == 2) return g_landing;
    return i - 3 < 5 ? fixed[i - 3] : NULL;
}

static void batch_equals_cli(const ch_server *srv, const char *cli_source, const char *key) {
    char cmd[16384], body[8192];
    size_t k = 0, n = 0;
    k += (size_t)snprintf(body + k, sizeof body - k, "[");
    char list[4096];
    snprintf(list, sizeof list, "%s/addrs.txt", g_dir);
    FILE *f = fopen(list, "w");
    assert_non_null(f);
    for (const char *a; (a = addresses(n)); n++) {
        fprintf(f, "%s\n", a);
        k += (size_t)snprintf(body + k, sizeof body - k,
                              "%s{\"address\":\"%s\",\"chain\":\"btc\",\"external_id\":\"id-%zu\"}",
                              n ? "," : "", a, n);
    }
    fclose(f);
    snprintf(body + k, sizeof body - k, "]");
    snprintf(cmd, sizeof cmd, "%s screen %s --hops 2 --json --file %s", g_ch, cli_source, list);
    int st;
    char *out = tu_run(cmd, &st);
    assert_int_equal(st, 1); /* flagged ones among them */
    resp r;
    post(srv, "/v1/screen", key, body, &r);
    assert_int_equal(r.status, 200);
    json_t *arr = checked(&r, "/v1/screen", "post");
    assert_int_equal(json_array_size(arr), n);
    char *line = out;
    for (size_t i = 0; i < n; i++) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        json_t *cli = json_loads(line, 0, NULL);
        assert_non_null(cli);
        json_t *got = json_array_get(arr, i);
        char id[32];
        snprintf(id, sizeof id, "id-%zu", i);
        assert_string_equal(json_string_value(json_object_get(got, "external_id")), id);
        json_object_del(got, "external_id");
        if (!json_equal(cli, got)) {
            char *g = json_dumps(got, JSON_SORT_KEYS), *c = json_dumps(cli, JSON_SORT_KEYS);
            fprintf(stderr, "address %s:\n  serve:  %.600s\n  screen: %.600s\n", addresses(i), g,
                    c);
            free(g);
            free(c);
        }
        assert_true(json_equal(cli, got));
        json_decref(cli);
        line = nl + 1;
    }
    json_decref(arr);
    free(r.body);
    /* byte for byte: without external ids the answer is screen --json's
     * lines as one array, "[" line "," line ... "]\n" */
    k = 0;
    k += (size_t)snprintf(body + k, sizeof body - k, "[");
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(body + k, sizeof body - k, "%s{\"address\":\"%s\"}", i ? "," : "",
                              addresses(i));
    snprintf(body + k, sizeof body - k, "]");
    post(srv, "/v1/screen", key, body, &r);
    assert_int_equal(r.status, 200);
    size_t total = 0; /* the n lines, each cut at its newline above */
    for (size_t i = 0; i < n; i++)
        total += strlen(out + total) + 1;
    char *want = malloc(total + 4);
    assert_non_null(want);
    size_t w = 0;
    want[w++] = '[';
    char *p = out;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(p);
        if (i) want[w++] = ',';
        memcpy(want + w, p, l);
        w += l;
        p += l + 1;
    }
    want[w++] = ']';
    want[w++] = '\n';
    want[w] = '\0';
    if (strcmp(r.body, want) != 0)
        fprintf(stderr, "serve:  %.800s\nscreen: %.800s\n", r.body, want);
    assert_string_equal(r.body, want);
    free(want);
    free(r.body);
    free(out);
}

/* field for field: the database's verdicts (clusters, exposure) and the set's */
static void test_batch_verdicts_equal_screen_json(void **state) {
    (void)state;
    char src[4200];
    snprintf(src, sizeof src, "--db %s/db", g_dir);
    batch_equals_cli(g_db_srv, src, NULL);
    snprintf(src, sizeof src, "--set %s/set.chset", g_dir);
    batch_equals_cli(g_set_srv, src, KEY_READER);
}

static void test_sanctions_endpoint_lists_ofac_only(void **state) {
    (void)state;
    resp r;
    get(g_db_srv, "/api/v1/address/12ZEw5Hcv1hTb6YUQJ69y1V7uhcoDz92PH", NULL, &r);
    assert_int_equal(r.status, 200);
    json_t *b = checked(&r, "/api/v1/address/{address}", "get");
    json_t *ids = json_object_get(b, "identifications");
    assert_int_equal(json_array_size(ids), 1);
    json_t *id = json_array_get(ids, 0);
    assert_string_equal(json_string_value(json_object_get(id, "category")), "sanctions");
    assert_non_null(strstr(json_string_value(json_object_get(id, "name")), "Test PERSON"));
    assert_string_equal(json_string_value(json_object_get(id, "url")),
                        "https://www.treasury.gov/ofac/downloads/sdn.xml");
    json_decref(b);
    free(r.body);
    /* EVM in any letter case */
    get(g_db_srv, "/api/v1/address/0x098B716B8Aaf21512996dC57EB0615e2383E2f96", NULL, &r);
    b = checked(&r, "/api/v1/address/{address}", "get");
    ids = json_object_get(b, "identifications");
    assert_int_equal(json_array_size(ids), 1);
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(ids, 0), "name")),
                           "LAZARUS GROUP"));
    json_decref(b);
    free(r.body);
    /* listed, but not sanctioned (stolen funds), and clean: empty lists */
    char path[512];
    const char *none[] = {g_thief, g_victim};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "/api/v1/address/%s", none[i]);
        get(g_db_srv, path, NULL, &r);
        assert_int_equal(r.status, 200);
        b = checked(&r, "/api/v1/address/{address}", "get");
        assert_int_equal(json_array_size(json_object_get(b, "identifications")), 0);
        json_decref(b);
        free(r.body);
    }
    /* never "clean" for what could not be judged */
    get(g_db_srv, "/api/v1/address/1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN4", NULL, &r);
    assert_json_error(&r, 400, "/api/v1/address/{address}", "get");
    assert_non_null(strstr(r.body, "checksum"));
    free(r.body);
    get(g_db_srv, "/api/v1/address/thor1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq", NULL, &r);
    assert_json_error(&r, 400, "/api/v1/address/{address}", "get");
    free(r.body);
}

static void test_keys_scopes_and_rate_limits(void **state) {
    (void)state;
    resp r;
    char h[64];
    const char *p = "/api/v1/address/12ZEw5Hcv1hTb6YUQJ69y1V7uhcoDz92PH";
    get(g_set_srv, p, NULL, &r);
    assert_json_error(&r, 401, "/api/v1/address/{address}", "get");
    free(r.body);
    get(g_set_srv, p, "not-a-key", &r);
    assert_json_error(&r, 401, "/api/v1/address/{address}", "get");
    free(r.body);
    get(g_set_srv, p, KEY_WRITER, &r); /* write scope only */
    assert_json_error(&r, 403, "/api/v1/address/{address}", "get");
    free(r.body);
    get(g_set_srv, p, KEY_READER, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(header(&r, "X-RateLimit-Limit", h, sizeof h), "1000");
    assert_non_null(header(&r, "X-RateLimit-Remaining", h, sizeof h));
    assert_true(atoi(h) >= 990 && atoi(h) < 1000);
    json_decref(checked(&r, "/api/v1/address/{address}", "get"));
    free(r.body);
    /* 3 a minute: 2, 1, 0 left, then refused with when to come back */
    for (int i = 0; i < 3; i++) {
        get(g_set_srv, "/v1/status", KEY_SLOW, &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(header(&r, "X-RateLimit-Limit", h, sizeof h), "3");
        assert_int_equal(atoi(header(&r, "X-RateLimit-Remaining", h, sizeof h)), 2 - i);
        json_decref(checked(&r, "/v1/status", "get"));
        free(r.body);
    }
    get(g_set_srv, "/v1/status", KEY_SLOW, &r);
    assert_json_error(&r, 429, "/v1/status", "get");
    assert_non_null(header(&r, "Retry-After", h, sizeof h));
    assert_true(atoi(h) >= 1 && atoi(h) <= 20); /* one token of 3/min: 20 s at most */
    assert_string_equal(header(&r, "X-RateLimit-Remaining", h, sizeof h), "0");
    free(r.body);
    /* health, metrics and the document ask no key */
    get(g_set_srv, "/healthz", NULL, &r);
    assert_int_equal(r.status, 200);
    json_decref(checked(&r, "/healthz", "get"));
    free(r.body);
}

/* A sample of hostile requests, each with its expected status (0: the
 * server's own answer to a header block it will not hold, any 4xx). */
typedef struct hostile {
    const char *method, *path, *body, *ctype, *doc_path;
    long status;
} hostile;

static const hostile HOSTILE[] = {
    {"POST", "/v1/screen", "[{\"address\":", NULL, "/v1/screen", 400},
    {"POST", "/v1/screen", "{\"address\":\"x\"}", NULL, "/v1/screen", 400},
    {"POST", "/v1/screen", "[]", NULL, "/v1/screen", 400},
    {"POST", "/v1/screen", "[{\"adress\":\"x\"}]", NULL, "/v1/screen", 400},
    {"POST", "/v1/screen", "[{\"address\":5}]", NULL, "/v1/screen", 400},
    {"POST", "/v1/screen", "[{\"address\":\"\xff\xfe\"}]", NULL, "/v1/screen", 400},
    {"POST", "/v1/screen", "[{\"address\":\"a\\u0000b\"}]", NULL, "/v1/screen", 400},
    {"POST", "/v1/screen", "[{\"address\":\"a\",\"address\":\"b\"}]", NULL, "/v1/screen", 400},
    {"POST", "/v1/screen", "[{\"address\":\"a\",\"chain\":\"../etc\"}]", NULL, "/v1/screen", 400},
    {"POST", "/v1/screen", "[1] trailing", NULL, "/v1/screen", 400},
    {"POST", "/v1/screen", "[{\"address\":\"a\"}]", "text/plain", "/v1/screen", 415},
    {"GET", "/api/v1/address/../../etc/passwd", NULL, NULL, "/api/v1/address/{address}", 400},
    {"GET", "/api/v1/address/%2e%2e", NULL, NULL, "/api/v1/address/{address}", 400},
    {"GET", "/api/v1/address/a%2fb", NULL, NULL, "/api/v1/address/{address}", 400},
    {"GET", "/api/v1/address/%ff%fe", NULL, NULL, "/api/v1/address/{address}", 400},
    {"GET", "/api/v1/address/", NULL, NULL, "/api/v1/address/{address}", 400},
    {"GET", "/v1/screen", NULL, NULL, NULL, 405},
    {"DELETE", "/healthz", NULL, NULL, NULL, 405},
    {"GET", "/../../etc/passwd", NULL, NULL, NULL, 404},
    {"GET", "/v1/statusx", NULL, NULL, NULL, 404},
};
#define N_HOSTILE (sizeof HOSTILE / sizeof HOSTILE[0])

static void send_hostile(const hostile *x, resp *r) {
    req(g_db_srv, x->method, x->path, NULL, x->body, x->body ? strlen(x->body) : 0, x->ctype, r);
}

static void test_hostile_requests_get_json_4xx(void **state) {
    (void)state;
    resp r;
    for (size_t i = 0; i < N_HOSTILE; i++) {
        send_hostile(&HOSTILE[i], &r);
        assert_json_error(&r, HOSTILE[i].status, HOSTILE[i].doc_path,
                          HOSTILE[i].doc_path ? (HOSTILE[i].body ? "post" : "get") : NULL);
        free(r.body);
    }
    /* an address longer than any */
    char path[1024] = "/api/v1/address/";
    memset(path + strlen(path), 'a', 300);
    path[16 + 300] = '\0';
    get(g_db_srv, path, NULL, &r);
    assert_json_error(&r, 400, "/api/v1/address/{address}", "get");
    free(r.body);
    /* 100,000 addresses in one batch: refused whole (413), nothing screened */
    size_t n = 100000, cap = n * 20 + 16, k = 0;
    char *big = malloc(cap);
    assert_non_null(big);
    big[k++] = '[';
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(big + k, cap - k, "%s{\"address\":\"a\"}", i ? "," : "");
    big[k++] = ']';
    big[k] = '\0';
    post(g_db_srv, "/v1/screen", NULL, big, &r);
    assert_json_error(&r, 413, "/v1/screen", "post");
    assert_non_null(strstr(r.body, "100000"));
    free(r.body);
    /* a body over max_body (4 MiB): 413 */
    size_t over = (4u << 20) + 10;
    char *huge = malloc(over + 1);
    assert_non_null(huge);
    memset(huge, ' ', over);
    huge[0] = '[';
    huge[over - 1] = ']';
    huge[over] = '\0';
    post(g_db_srv, "/v1/screen", NULL, huge, &r);
    assert_json_error(&r, 413, "/v1/screen", "post");
    free(r.body);
    free(huge);
    free(big);
}

/* Raw bytes on a socket: no HTTP at all, a header block over the
 * connection's memory, a request cut in the middle. */
static void raw(const ch_server *srv, const char *data, size_t n, char *out, size_t cap) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(ch_server_port(srv))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t off = 0;
    while (off < n) {
        ssize_t w = send(fd, data + off, n - off, MSG_NOSIGNAL);
        if (w <= 0) break; /* cut off by the server: allowed */
        off += (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    size_t got = 0;
    ssize_t k;
    while (got + 1 < cap && (k = recv(fd, out + got, cap - 1 - got, 0)) > 0)
        got += (size_t)k;
    out[got] = '\0';
    close(fd);
}

static void test_malformed_storm_then_correct_answers(void **state) {
    (void)state;
    resp r;
    /* the correct answer, before */
    char body[512];
    snprintf(body, sizeof body, "[{\"address\":\"%s\",\"external_id\":\"x\"}]", g_landing);
    post(g_db_srv, "/v1/screen", NULL, body, &r);
    assert_int_equal(r.status, 200);
    char *before = r.body;
    /* the storm */
    size_t huge_n = 64 * 1024;
    char *hdr = malloc(huge_n + 128);
    assert_non_null(hdr);
    size_t k = (size_t)snprintf(hdr, 128, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(hdr + k, 'b', huge_n);
    k += huge_n;
    k += (size_t)snprintf(hdr + k, 128, "\r\n\r\n");
    char out[4096];
    for (int round = 0; round < 20; round++) {
        for (size_t i = 0; i < N_HOSTILE; i++) {
            send_hostile(&HOSTILE[i], &r);
            assert_int_equal(r.status, HOSTILE[i].status);
            free(r.body);
        }
        static const char tls_hello[] = "\x16\x03\x01\x02\x00garbage\r\n\r\n";
        raw(g_db_srv, tls_hello, sizeof tls_hello - 1, out, sizeof out);
        assert_true(out[0] == '\0' || !strncmp(out, "HTTP/1.1 4", 10));
        /* cut: the body never comes */
        static const char cut[] =
            "POST /v1/screen HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n[{\"a";
        raw(g_db_srv, cut, sizeof cut - 1, out, sizeof out);
        raw(g_db_srv, hdr, k, out, sizeof out);
        assert_true(out[0] == '\0' || !strncmp(out, "HTTP/1.1 4", 10));
    }
    free(hdr);
    /* after: the same answer, and other endpoints still answer */
    post(g_db_srv, "/v1/screen", NULL, body, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, before);
    free(r.body);
    free(before);
    get(g_db_srv, "/v1/status", NULL, &r);
    assert_int_equal(r.status, 200);
    json_t *st = checked(&r, "/v1/status", "get");
    json_t *store = json_object_get(st, "store");
    assert_string_equal(json_string_value(json_object_get(store, "chain")), "btc");
    assert_true(json_integer_value(json_object_get(store, "blocks")) > 0);
    json_decref(st);
    free(r.body);
    /* /metrics counted the storm's 400s and has the histogram and the tip */
    get(g_db_srv, "/metrics", NULL, &r);
    assert_int_equal(r.status, 200);
    const char *m =
        strstr(r.body, "coinhound_http_requests_total{endpoint=\"screen\",code=\"400\"} ");
    assert_non_null(m);
    assert_true(
        atol(m + strlen("coinhound_http_requests_total{endpoint=\"screen\",code=\"400\"} ")) >=
        20 * 10);
    assert_non_null(strstr(
        r.body, "coinhound_http_request_duration_seconds_bucket{endpoint=\"screen\",le=\"+Inf\"}"));
    assert_non_null(strstr(r.body, "coinhound_store_blocks{chain=\"btc\"} "));
    free(r.body);
}

static void test_openapi_document_is_docs_openapi_json(void **state) {
    (void)state;
    resp r;
    get(g_db_srv, "/v1/openapi.json", NULL, &r);
    assert_int_equal(r.status, 200);
    size_t n;
    uint8_t *doc = tu_read_file("docs/openapi.json", &n);
    assert_non_null(doc);
    assert_int_equal(r.len, n);
    assert_memory_equal(r.body, doc, n);
    free(doc);
    free(r.body);
}

/* The CLI: refuses a public address without keys; serves on loopback and
 * stops on SIGTERM with exit 0. */
static void test_serve_cli_loopback_without_keys_and_sigterm(void **state) {
    (void)state;
    char cmd[8192];
    int st;
    snprintf(cmd, sizeof cmd, "%s serve --set %s/set.chset --listen 0.0.0.0:0 2>&1", g_ch, g_dir);
    char *out = tu_run(cmd, &st);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "loopback only"));
    free(out);
    int p[2];
    assert_int_equal(pipe(p), 0);
    char set[4096];
    snprintf(set, sizeof set, "%s/set.chset", g_dir);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 2);
        close(p[0]);
        execl(g_ch, g_ch, "serve", "--set", set, "--listen", "127.0.0.1:0", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    FILE *f = fdopen(p[0], "r");
    char line[512];
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, "loopback only"));
    const char *c = strstr(line, "127.0.0.1:");
    assert_non_null(c);
    unsigned port = (unsigned)atoi(c + 10);
    assert_true(port > 0);
    snprintf(cmd, sizeof cmd,
             "curl -s --noproxy '*' http://127.0.0.1:%u/api/v1/address/"
             "12ZEw5Hcv1hTb6YUQJ69y1V7uhcoDz92PH",
             port);
    out = tu_run(cmd, &st);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "\"category\":\"sanctions\""));
    free(out);
    kill(pid, SIGTERM);
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_true(WIFEXITED(ws));
    assert_int_equal(WEXITSTATUS(ws), 0);
    fclose(f);
}

/* An attribution imported while the service runs is answered at once. */
static void test_new_intel_seen_without_restart(void **state) {
    (void)state;
    const char *addr = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2";
    char path[256], cmd[8192];
    snprintf(path, sizeof path, "/api/v1/address/%s", addr);
    resp r;
    get(g_db_srv, path, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"identifications\":[]"));
    free(r.body);
    snprintf(cmd, sizeof cmd,
             "printf 'address,category,entity,source,source_url\\n%s,sanctions,Late Entity,"
             "OFAC SDN,https://example.invalid/ofac\\n' > %s/late.csv && %s intel import "
             "--format csv %s/late.csv --db %s/db >/dev/null",
             addr, g_dir, g_ch, g_dir, g_dir);
    sh(cmd);
    get(g_db_srv, path, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "Late Entity"));
    free(r.body);
}

/* Slow and idle clients: a server of 4 connections at most and a 1 s
 * timeout. Idle connections fill it and a fifth waits; the idle ones are cut
 * off for their silence, and then the fifth and new ones are answered. */
static void test_idle_clients_are_cut_off_and_service_recovers(void **state) {
    (void)state;
    ch_server_opts o;
    ch_server_opts_init(&o);
    o.listen = "127.0.0.1:0";
    o.max_conns = 4;
    o.timeout_s = 1;
    o.threads = 1;
    ch_server *srv;
    ch_error err;
    assert_int_equal(ch_server_start(g_set_screener, &o, &srv, &err), 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(ch_server_port(srv))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int idle[4];
    for (int i = 0; i < 4; i++) {
        idle[i] = socket(AF_INET, SOCK_STREAM, 0);
        assert_int_equal(connect(idle[i], (struct sockaddr *)&a, sizeof a), 0);
        /* half a request line, then silence */
        assert_int_equal(send(idle[i], "GET /hea", 8, MSG_NOSIGNAL), 8);
    }
    usleep(200000);
    /* over the limit: it waits (the server takes no fifth connection) */
    static const char hz[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    int extra = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(extra, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(send(extra, hz, sizeof hz - 1, MSG_NOSIGNAL), (ssize_t)(sizeof hz - 1));
    struct timeval quick = {.tv_usec = 300000}, tv = {.tv_sec = 5};
    setsockopt(extra, SOL_SOCKET, SO_RCVTIMEO, &quick, sizeof quick);
    char buf[256];
    ssize_t k = recv(extra, buf, sizeof buf, 0);
    assert_true(k < 0); /* nothing yet: the slots are held */
    /* the idle ones are cut off for their silence (about the timeout) */
    for (int i = 0; i < 4; i++) {
        setsockopt(idle[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        k = recv(idle[i], buf, sizeof buf, 0);
        assert_true(k <= 0 || !strncmp(buf, "HTTP/1.1 4", 10));
        close(idle[i]);
    }
    /* and the one that waited is answered */
    setsockopt(extra, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    k = recv(extra, buf, sizeof buf - 1, 0);
    assert_true(k > 12);
    buf[k] = '\0';
    assert_int_equal(strncmp(buf, "HTTP/1.1 200", 12), 0);
    close(extra);
    resp r;
    get(srv, "/healthz", NULL, &r);
    assert_int_equal(r.status, 200);
    free(r.body);
    ch_server_stop(srv);
}

/* Connections opened at once, as a client's pool opens them, are shared
 * over the server's threads (one daemon's own thread pool gave every one
 * of them to the thread that woke first: one core did all the work).
 * Four idle connections to a 2-thread server: two on each thread, as
 * /metrics counts them. And a second server on the same port is refused. */
static void test_connections_opened_at_once_share_the_threads(void **state) {
    (void)state;
    ch_server_opts o;
    ch_server_opts_init(&o);
    o.listen = "127.0.0.1:0";
    o.threads = 2;
    ch_server *srv;
    ch_error err;
    assert_int_equal(ch_server_start(g_set_screener, &o, &srv, &err), 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(ch_server_port(srv))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int c[4];
    for (int i = 0; i < 4; i++) {
        c[i] = socket(AF_INET, SOCK_STREAM, 0);
        assert_int_equal(connect(c[i], (struct sockaddr *)&a, sizeof a), 0);
    }
    for (int i = 0; i < 4; i++) /* half a request each: they stay open */
        assert_int_equal(send(c[i], "GET /hea", 8, MSG_NOSIGNAL), 8);
    resp r;
    bool shared = false;
    for (int tries = 0; tries < 50 && !shared; tries++) {
        usleep(20000);
        get(srv, "/metrics", NULL, &r);
        /* the /metrics request's own connection is a fifth, on either */
        unsigned n0 = 0, n1 = 0;
        const char *p0 = strstr(r.body, "coinhound_http_connections_open{thread=\"0\"} ");
        const char *p1 = strstr(r.body, "coinhound_http_connections_open{thread=\"1\"} ");
        assert_non_null(p0);
        assert_non_null(p1);
        sscanf(strchr(p0, '}') + 2, "%u", &n0);
        sscanf(strchr(p1, '}') + 2, "%u", &n1);
        shared = n0 + n1 == 5 && n0 >= 2 && n1 >= 2;
        free(r.body);
    }
    assert_true(shared);
    /* the port is the server's alone: a second one is refused, saying so */
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%u", (unsigned)ch_server_port(srv));
    ch_server_opts o2 = o;
    o2.listen = listen;
    ch_server *second = NULL;
    assert_int_equal(ch_server_start(g_set_screener, &o2, &second, &err), -1);
    assert_null(second);
    assert_non_null(strstr(err.msg, "in use"));
    for (int i = 0; i < 4; i++)
        close(c[i]);
    ch_server_stop(srv);
}

/* Keys files that do not parse, and options out of range: exit 2, the line
 * named, nothing served. */
static void test_bad_keys_file_fails_naming_the_line(void **state) {
    (void)state;
    char cmd[8192];
    int st;
    snprintf(cmd, sizeof cmd,
             "printf 'ok %s read 10/s\\nbad 1234 read 10/s\\n' > %s/badkeys && %s serve --set "
             "%s/set.chset --listen 127.0.0.1:0 --keys %s/badkeys 2>&1",
             "0000000000000000000000000000000000000000000000000000000000000000", g_dir, g_ch, g_dir,
             g_dir);
    char *out = tu_run(cmd, &st);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "badkeys: line 2:"));
    free(out);
    snprintf(cmd, sizeof cmd,
             "printf 'k %s admin 10/s\\n' > %s/badkeys && %s serve --set %s/set.chset --listen "
             "127.0.0.1:0 --keys %s/badkeys 2>&1",
             "0000000000000000000000000000000000000000000000000000000000000000", g_dir, g_ch, g_dir,
             g_dir);
    out = tu_run(cmd, &st);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "line 1: scopes 'admin'"));
    free(out);
    snprintf(cmd, sizeof cmd, "%s serve --set %s/set.chset --threads 0 2>&1", g_ch, g_dir);
    out = tu_run(cmd, &st);
    assert_int_equal(st, 2);
    free(out);
}

/* A screener of the database db (max_hops hops at most; -1: the default)
 * in *sc, served on a loopback port of its own and refreshed every 50 ms:
 * the server (asserts). */
static ch_server *serve_refreshed(const char *db, int max_hops, ch_screener **sc) {
    ch_screener_opts so;
    ch_screener_opts_init(&so);
    so.db = db;
    if (max_hops >= 0) so.max_hops = (uint32_t)max_hops;
    ch_error err, warn;
    assert_int_equal(ch_screener_open(&so, sc, &warn, &err), 0);
    ch_server_opts o;
    ch_server_opts_init(&o);
    o.listen = "127.0.0.1:0";
    o.refresh_ms = 50;
    ch_server *srv;
    assert_int_equal(ch_server_start(*sc, &o, &srv, &err), 0);
    return srv;
}

/* serve_refreshed's server stopped and its screener closed (asserts). */
static void stop_serving(ch_server *srv, ch_screener *sc) {
    ch_server_stop(srv);
    ch_error err;
    assert_int_equal(ch_screener_close(sc, &err), 0);
}

/* The chain store written while served: blocks ingested by another process
 * are served without a restart (ch_store_refresh), the tip equal to what
 * `coinhound status --json` reads. */
static void test_chain_store_commits_seen_without_restart(void **state) {
    (void)state;
    char cmd[16384], gen[1024], db[4096];
    snprintf(gen, sizeof gen, "%s", tu_bin("coinhound-gen"));
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/r/part && %s --out %s/r/src --blocks 200 --max-file-size 64K "
             ">/dev/null && cp %s/r/src/blk00000.dat %s/r/part/ && %s ingest btc %s/r/part --db "
             "%s/r/db --no-progress >/dev/null && printf 'address,category,entity\\n"
             "12ZEw5Hcv1hTb6YUQJ69y1V7uhcoDz92PH,sanctions,X\\n' > %s/r/x.csv && %s intel "
             "import --format csv %s/r/x.csv --db %s/r/db >/dev/null",
             g_dir, gen, g_dir, g_dir, g_dir, g_ch, g_dir, g_dir, g_dir, g_ch, g_dir, g_dir);
    sh(cmd);
    snprintf(db, sizeof db, "%s/r/db", g_dir);
    ch_screener *sc;
    ch_server *srv = serve_refreshed(db, -1, &sc);
    resp r;
    get(srv, "/v1/status", NULL, &r);
    json_t *st = checked(&r, "/v1/status", "get");
    json_int_t before = json_integer_value(json_object_get(json_object_get(st, "store"), "blocks"));
    json_decref(st);
    free(r.body);
    /* the writer: the rest of the chain, by another process */
    snprintf(cmd, sizeof cmd,
             "cp %s/r/src/blk*.dat %s/r/part/ && %s ingest btc %s/r/part --db %s/r/db "
             "--no-progress >/dev/null",
             g_dir, g_dir, g_ch, g_dir, g_dir);
    sh(cmd);
    snprintf(cmd, sizeof cmd, "%s status --db %s/r/db --json", g_ch, g_dir);
    int rc;
    char *out = tu_run(cmd, &rc);
    assert_int_equal(rc, 0);
    json_t *cli = json_loads(out, 0, NULL);
    assert_non_null(cli);
    free(out);
    usleep(100000); /* past refresh_ms */
    get(srv, "/v1/status", NULL, &r);
    st = checked(&r, "/v1/status", "get");
    json_t *store = json_object_get(st, "store");
    json_int_t after = json_integer_value(json_object_get(store, "blocks"));
    assert_true(after > before);
    assert_int_equal(after, json_integer_value(json_object_get(cli, "blocks")));
    assert_string_equal(json_string_value(json_object_get(store, "tip_hash")),
                        json_string_value(json_object_get(cli, "tip_hash")));
    json_decref(st);
    json_decref(cli);
    free(r.body);
    get(srv, "/metrics", NULL, &r);
    char want[64];
    snprintf(want, sizeof want, "coinhound_store_blocks{chain=\"btc\"} %lld\n", (long long)after);
    assert_non_null(strstr(r.body, want));
    free(r.body);
    stop_serving(srv, sc);
}

/* `coinhound screen --db DB --hops 0 --json ADDR`'s line, as the service's
 * one-address batch answers it: "[" line "]\n". */
static char *screen_cli_as_batch(const char *db, const char *addr) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s screen --db %s --hops 0 --json %s", g_ch, db, addr);
    int st;
    char *out = tu_run(cmd, &st);
    assert_true(st == 0 || st == 1); /* 1: flagged */
    size_t n = strlen(out);
    assert_true(n > 1 && out[n - 1] == '\n');
    char *want = malloc(n + 3);
    assert_non_null(want);
    snprintf(want, n + 3, "[%.*s]\n", (int)(n - 1), out);
    free(out);
    return want;
}

/* The service's verdict on addr: POST /v1/screen of it alone. */
static char *serve_verdict(const ch_server *srv, const char *addr) {
    char body[512];
    snprintf(body, sizeof body, "[{\"address\":\"%s\"}]", addr);
    resp r;
    post(srv, "/v1/screen", NULL, body, &r);
    assert_int_equal(r.status, 200);
    return r.body;
}

/* Two addresses of one cluster with the change heuristic (other, then
 * built again by the CLI in DB, the caller's) in two without it: a, s. */
static void joined_by_change(const char *db, char a[CH_ADDR_STR_MAX], char s[CH_ADDR_STR_MAX]) {
    char cmd[8192];
    ch_error err;
    ch_clusters *chg, *noc;
    snprintf(cmd, sizeof cmd, "%s cluster build --db %s --change >/dev/null 2>&1", g_ch, db);
    sh(cmd);
    assert_int_equal(ch_clusters_open(db, &chg, &err), 0);
    snprintf(cmd, sizeof cmd, "%s cluster build --db %s >/dev/null 2>&1", g_ch, db);
    sh(cmd); /* a new file renamed over: chg's mapping stays the old one's */
    assert_int_equal(ch_clusters_open(db, &noc, &err), 0);
    ch_store *st;
    assert_int_equal(ch_store_open(db, "btc", CH_STORE_READ, &st, &err), 0);
    ch_store_counts n;
    ch_store_get_counts(st, &n);
    ch_addr_id ida = 0, ids = 0;
    for (uint64_t i = 0; i < n.addresses && !ids; i++) {
        ch_addr_id id = ch_store_addr_id_at(st, i);
        uint32_t big = ch_cluster_size(chg, id);
        if (big < 2 || big > 64 || ch_cluster_size(noc, id) >= big) continue;
        for (uint64_t j = 0; j < n.addresses && !ids; j++) {
            ch_addr_id o = ch_store_addr_id_at(st, j);
            if (ch_cluster_of(chg, o) == ch_cluster_of(chg, id) &&
                ch_cluster_of(noc, o) != ch_cluster_of(noc, id))
                ida = id, ids = o;
        }
    }
    assert_true(ids != 0);
    ch_addr x;
    ch_store_addr_of(st, ida, &x);
    assert_int_equal(ch_addr_to_string(&x, ch_store_addr_net(st), a), 0);
    ch_store_addr_of(st, ids, &x);
    assert_int_equal(ch_addr_to_string(&x, ch_store_addr_net(st), s), 0);
    ch_store_close(st);
    ch_clusters_close(noc);
    ch_clusters_close(chg);
}

/* The cluster file built again while served (`coinhound cluster build
 * --change` by another process) is taken without a restart
 * (ch_screener_refresh): an address that joins the cluster of a sanctioned
 * one gets the verdict a fresh `coinhound screen --db` gives, the sanction
 * through its cluster, where the service kept saying otherwise before. */
static void test_cluster_file_built_again_seen_without_restart(void **state) {
    (void)state;
    char cmd[16384], db[4096], a[CH_ADDR_STR_MAX], s[CH_ADDR_STR_MAX];
    snprintf(db, sizeof db, "%s/c/db", g_dir);
    /* a copy of the database (not the served one: LMDB opens an environment
     * once in a process), without LMDB's lock files, which name this
     * process's readers of the original */
    snprintf(cmd, sizeof cmd, "mkdir -p %s/c && cp -r %s/db %s && find %s -name lock.mdb -delete",
             g_dir, g_dir, db, db);
    sh(cmd);
    joined_by_change(db, a, s); /* db clustered without change */
    snprintf(cmd, sizeof cmd,
             "printf 'address,category,entity\\n%s,sanctions,Rebuilt Desk\\n' > %s/c/s.csv && "
             "%s intel import --format csv %s/c/s.csv --db %s >/dev/null",
             s, g_dir, g_ch, g_dir, db);
    sh(cmd);
    ch_screener *sc;
    ch_server *srv = serve_refreshed(db, 0, &sc); /* the cluster alone carries the label */
    /* the labels' index built (from the second address), refreshed idle */
    for (int round = 0; round < 2; round++) {
        char *got = serve_verdict(srv, s), *want = screen_cli_as_batch(db, s);
        assert_string_equal(got, want);
        free(got);
        free(want);
        got = serve_verdict(srv, a), want = screen_cli_as_batch(db, a);
        assert_string_equal(got, want);
        assert_null(strstr(got, "Rebuilt Desk"));
        free(got);
        free(want);
        usleep(100000); /* past refresh_ms */
    }
    snprintf(cmd, sizeof cmd, "%s cluster build --db %s --change >/dev/null 2>&1", g_ch, db);
    sh(cmd);
    usleep(100000); /* past refresh_ms */
    char *got = serve_verdict(srv, a), *want = screen_cli_as_batch(db, a);
    if (strcmp(got, want) != 0) fprintf(stderr, "serve:  %.800s\nscreen: %.800s\n", got, want);
    assert_string_equal(got, want);
    assert_non_null(strstr(got, "Rebuilt Desk"));
    assert_non_null(strstr(got, "\"risk\":\"severe\""));
    free(got);
    free(want);
    stop_serving(srv, sc);
    snprintf(cmd, sizeof cmd, "rm -rf %s/c", g_dir);
    sh(cmd);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_verdicts_equal_screen_json),
        cmocka_unit_test(test_sanctions_endpoint_lists_ofac_only),
        cmocka_unit_test(test_keys_scopes_and_rate_limits),
        cmocka_unit_test(test_hostile_requests_get_json_4xx),
        cmocka_unit_test(test_malformed_storm_then_correct_answers),
        cmocka_unit_test(test_openapi_document_is_docs_openapi_json),
        cmocka_unit_test(test_serve_cli_loopback_without_keys_and_sigterm),
        cmocka_unit_test(test_new_intel_seen_without_restart),
        cmocka_unit_test(test_idle_clients_are_cut_off_and_service_recovers),
        cmocka_unit_test(test_connections_opened_at_once_share_the_threads),
        cmocka_unit_test(test_bad_keys_file_fails_naming_the_line),
        cmocka_unit_test(test_chain_store_commits_seen_without_restart),
        cmocka_unit_test(test_cluster_file_built_again_seen_without_restart),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

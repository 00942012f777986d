/* coinhound serve's web UI files (server/static.c) over real HTTP.
 *
 * Claims:
 *   - the files of the UI's folder are served byte for byte at their path,
 *     "/" is index.html, each with the Content-Type of its extension;
 *   - no request leaves the folder or shows what it hides: "..", encoded
 *     "%2e%2e", a symlink pointing out, a dotfile, a directory, an empty
 *     segment, a backslash are 404 JSON answers, never the secret's bytes
 *     (a %00 ends the path: what is before it is served, typed by its name);
 *   - the API keeps its paths: a file named v1/status in the folder is not
 *     served in place of GET /v1/status;
 *   - only GET and HEAD: POST / is 405 with Allow: GET;
 *   - without a folder, / is a 404 that says how to build the UI;
 *   - the pure path check (srv_static_path) by cases worked out by hand.
 * The server screens the committed set (tests/data/screen/vectors.chset);
 * the folder is written by the test. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coinhound/screener.h"
#include "coinhound/server.h"
#include "server/static.h"
#include "support/httpcheck.h"
#include "support/testutil.h"

static char g_root[512], g_web[600];
static ch_screener *g_sc;
static ch_server *g_srv, *g_bare;

/* An answer as the claims read it: status, body and the two headers they
 * are about. */
typedef struct resp {
    long status;
    char *body;
    size_t len;
    char ctype[256];
    char allow[256];
} resp;

static void req(ch_server *srv, const char *method, const char *path, resp *r) {
    hc_resp h;
    hc_req(ch_server_port(srv), method, path, NULL, NULL, 0, NULL, &h);
    r->status = h.status;
    r->body = h.body;
    r->len = h.len;
    if (!hc_header(&h, "Content-Type", r->ctype, sizeof r->ctype)) r->ctype[0] = '\0';
    if (!hc_header(&h, "Allow", r->allow, sizeof r->allow)) r->allow[0] = '\0';
}

static void put(const char *rel, const char *text) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", g_root, rel);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

#define INDEX  "<!doctype html><title>ui</title>"
#define APPJS  "console.log('coinhound');\n"
#define SECRET "the secret outside the folder"

static int setup(void **state) {
    (void)state;
    snprintf(g_root, sizeof g_root, "/tmp/ch_static_XXXXXX");
    if (!mkdtemp(g_root)) return -1;
    snprintf(g_web, sizeof g_web, "%s/web", g_root);
    char p[1024];
    mkdir(g_web, 0755);
    snprintf(p, sizeof p, "%s/sub", g_web);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/dir", g_web);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/v1", g_web);
    mkdir(p, 0755);
    put("web/index.html", INDEX);
    put("web/app.js", APPJS);
    put("web/app.css", "body{}");
    put("web/sub/logo.svg", "<svg/>");
    put("web/data.bin", "\x01\x02");
    put("web/.env", SECRET);
    put("web/v1/status", SECRET);
    put("secret.txt", SECRET);
    char link[1024];
    snprintf(p, sizeof p, "%s/secret.txt", g_root);
    snprintf(link, sizeof link, "%s/leak.txt", g_web);
    if (symlink(p, link) != 0) return -1;

    ch_screener_opts so;
    ch_screener_opts_init(&so);
    so.set_path = "tests/data/screen/vectors.chset";
    ch_error err;
    if (ch_screener_open(&so, &g_sc, NULL, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    ch_server_opts o;
    ch_server_opts_init(&o);
    o.listen = "127.0.0.1:0";
    o.web_dir = g_web;
    if (ch_server_start(g_sc, &o, &g_srv, &err) != 0) return -1;
    o.web_dir = NULL;
    if (ch_server_start(g_sc, &o, &g_bare, &err) != 0) return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    ch_server_stop(g_srv);
    ch_server_stop(g_bare);
    ch_screener_close(g_sc, NULL);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_root);
    return system(cmd) == 0 ? 0 : -1;
}

static void expect_file(const char *path, const char *body, const char *ctype) {
    resp r;
    req(g_srv, "GET", path, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, strlen(body));
    assert_memory_equal(r.body, body, r.len);
    assert_string_equal(r.ctype, ctype);
    free(r.body);
}

static void test_files_served_with_their_content_type(void **state) {
    (void)state;
    expect_file("/", INDEX, "text/html; charset=utf-8");
    expect_file("/index.html", INDEX, "text/html; charset=utf-8");
    expect_file("/app.js", APPJS, "text/javascript; charset=utf-8");
    expect_file("/app.css", "body{}", "text/css; charset=utf-8");
    expect_file("/sub/logo.svg", "<svg/>", "image/svg+xml");
    expect_file("/data.bin", "\x01\x02", "application/octet-stream");
    resp r;
    req(g_srv, "HEAD", "/app.js", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 0);
    free(r.body);
}

static void test_no_path_leaves_the_folder(void **state) {
    (void)state;
    static const char *const BAD[] = {
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/sub/../../secret.txt",
        "/sub/%2e%2e/index.html",
        "/leak.txt",
        "/.env",
        "/%2eenv",
        "/dir",
        "/sub/",
        "//index.html",
        "/sub//logo.svg",
        "/a%5cb",
        "/nope.js",
        "/sub/../index.html",
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        resp r;
        req(g_srv, "GET", BAD[i], &r);
        if (r.status != 404) fprintf(stderr, "%s: %ld\n", BAD[i], r.status);
        assert_int_equal(r.status, 404);
        assert_string_equal(r.ctype, "application/json");
        assert_non_null(r.body);
        assert_non_null(strstr(r.body, "\"error\""));
        assert_null(strstr(r.body, SECRET));
        free(r.body);
    }
    /* libmicrohttpd decodes %00 to a NUL, which ends the path: still the
     * folder's index.html, typed by its own name */
    expect_file("/index.html%00.js", INDEX, "text/html; charset=utf-8");
}

static void test_api_paths_are_not_files(void **state) {
    (void)state;
    resp r;
    req(g_srv, "GET", "/v1/status", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"service\":\"coinhound\""));
    assert_null(strstr(r.body, SECRET));
    free(r.body);
    req(g_srv, "GET", "/v1/nothing-here", &r);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.body, "no such endpoint"));
    free(r.body);
}

static void test_only_get_and_head(void **state) {
    (void)state;
    resp r;
    req(g_srv, "POST", "/", &r);
    assert_int_equal(r.status, 405);
    assert_string_equal(r.allow, "GET");
    free(r.body);
    req(g_srv, "DELETE", "/app.js", &r);
    assert_int_equal(r.status, 405);
    free(r.body);
}

static void test_without_a_folder_root_says_how_to_build(void **state) {
    (void)state;
    resp r;
    req(g_bare, "GET", "/", &r);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.body, "web UI is not served"));
    assert_non_null(strstr(r.body, "--web"));
    free(r.body);
}

static void test_path_check_by_hand(void **state) {
    (void)state;
    char rel[SRV_STATIC_PATH_MAX];
    ch_error err;
    assert_int_equal(srv_static_path("/", rel, &err), 0);
    assert_string_equal(rel, "index.html");
    assert_int_equal(srv_static_path("/a/b-c_d.e.js", rel, &err), 0);
    assert_string_equal(rel, "a/b-c_d.e.js");
    static const char *const BAD[] = {"",    "x",    "/..",   "/a/..", "/a/.b", "/a//b",
                                      "/a/", "/a b", "/a\\b", "/é",    "/a?b",  "/%2e"};
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++)
        assert_int_equal(srv_static_path(BAD[i], rel, &err), -1);
    char longp[SRV_STATIC_PATH_MAX + 2];
    longp[0] = '/';
    memset(longp + 1, 'a', SRV_STATIC_PATH_MAX);
    longp[SRV_STATIC_PATH_MAX + 1] = '\0';
    assert_int_equal(srv_static_path(longp, rel, &err), -1);
    assert_true(srv_static_claims("/"));
    assert_true(srv_static_claims("/app.js"));
    assert_false(srv_static_claims("/v1/status"));
    assert_false(srv_static_claims("/api/v1/address/x"));
    assert_false(srv_static_claims("/healthz"));
    assert_string_equal(srv_static_type("a/b.c.css"), "text/css; charset=utf-8");
    assert_string_equal(srv_static_type("noext"), "application/octet-stream");
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_files_served_with_their_content_type),
        cmocka_unit_test(test_no_path_leaves_the_folder),
        cmocka_unit_test(test_api_paths_are_not_files),
        cmocka_unit_test(test_only_get_and_head),
        cmocka_unit_test(test_without_a_folder_root_says_how_to_build),
        cmocka_unit_test(test_path_check_by_hand),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}

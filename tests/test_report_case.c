/* The case report (coinhound report case, ch_report_case_write) on the
 * generators' thefts (coinhound-gen's Bitcoin theft, coinhound-evmgen's
 * account-chain drain), held to the trace it reports:
 *   - the amount of every landing and of every service in the page (the
 *     data-amount attributes of its tables) equals the `trace --json`
 *     landings run separately on the same store and options, and the JSON
 *     embedded in the page is that same JSON;
 *   - a label that carries markup is shown as text, never as markup;
 *   - a source not in the store exits 1 and writes no file; a bad option
 *     exits 2;
 *   - the page renders in Debian's headless chromium (a PNG in the build
 *     folder; skipped, saying so, when chromium is absent).
 * The expected values come from the trace command itself (an independent
 * path through the CLI's JSON writer), not from the report code. */
#include "support/testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "coinhound/evmgen.h"
#include "coinhound/ingest.h"
#include "support/genchain.h"

static tu_genchain g_chain;
static char g_from[128];

static int setup(void **state) {
    (void)state;
    tu_genchain_make(&g_chain, 7, 2000);
    char path[1200];
    snprintf(path, sizeof path, "%s/theft.json", g_chain.blocks);
    json_error_t je;
    json_t *t = json_load_file(path, 0, &je);
    if (!t) return -1;
    snprintf(g_from, sizeof g_from, "%s:%d", json_string_value(json_object_get(t, "theft_txid")),
             (int)json_integer_value(json_object_get(t, "theft_vout")));
    json_decref(t);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    tu_genchain_close(&g_chain);
    return 0;
}

/* The value of attribute name inside the tag that starts at tag (up to '>'). */
static char *attr(const char *tag, const char *name) {
    const char *end = strchr(tag, '>');
    char key[128];
    snprintf(key, sizeof key, " %s=\"", name);
    const char *p = strstr(tag, key);
    if (!p || (end && p > end)) return NULL;
    p += strlen(key);
    const char *q = strchr(p, '"');
    return q ? strndup(p, (size_t)(q - p)) : NULL;
}

/* Undo the page's HTML escaping of an attribute value (the five entities). */
static void unescape(char *s) {
    static const char *const ent[][2] = {
        {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}};
    char *o = s;
    for (char *p = s; *p;) {
        size_t k = 0;
        for (; k < 5; k++)
            if (!strncmp(p, ent[k][0], strlen(ent[k][0]))) break;
        if (k < 5) {
            *o++ = ent[k][1][0];
            p += strlen(ent[k][0]);
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
}

/* Every row <tr class="CLASS" ...> as a JSON object of its data-* fields. */
static json_t *rows(const char *html, const char *cls, const char *const *fields, size_t nf) {
    json_t *out = json_array();
    char key[64];
    snprintf(key, sizeof key, "<tr class=\"%s\"", cls);
    for (const char *p = strstr(html, key); p; p = strstr(p + 1, key)) {
        json_t *o = json_object();
        for (size_t i = 0; i < nf; i++) {
            char dn[64];
            snprintf(dn, sizeof dn, "data-%s", fields[i]);
            char *v = attr(p, dn);
            if (!v) fail_msg("a %s row without %s", cls, dn);
            unescape(v);
            json_object_set_new(o, fields[i], json_string(v));
            free(v);
        }
        json_array_append_new(out, o);
    }
    return out;
}

static char *run(const char *args, int *status) {
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "%s %s 2>/dev/null", tu_bin("coinhound"), args);
    return tu_run(cmd, status);
}

static json_t *trace_json(const char *labels) {
    char args[8192];
    int st;
    snprintf(args, sizeof args, "trace --db %s --from %s --labels %s --policy haircut --json",
             g_chain.db, g_from, labels);
    char *out = run(args, &st);
    assert_int_equal(st, 0);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j) fail_msg("trace --json is not JSON: %s", je.text);
    free(out);
    return j;
}

static char *report_html(const char *labels, const char *html_path) {
    char args[8192];
    int st;
    snprintf(args, sizeof args,
             "report case --db %s --from %s --labels %s --policy haircut --out %s", g_chain.db,
             g_from, labels, html_path);
    free(run(args, &st));
    assert_int_equal(st, 0);
    size_t len;
    char *html = (char *)tu_read_file(html_path, &len);
    assert_non_null(html);
    return html;
}

static const char *gen_labels(void) {
    static char path[1200];
    snprintf(path, sizeof path, "%s/labels.csv", g_chain.blocks);
    return path;
}

/* The page's landings (per address and asset) are the trace's, in order;
 * its services (entity, category, asset) sum the trace's landings; the
 * embedded JSON is the trace's JSON. Amounts are decimal strings of base
 * units: summed as unsigned __int128 (wei exceed 64 bits). */
static unsigned __int128 u128(const char *s) {
    unsigned __int128 v = 0;
    for (; *s; s++)
        v = v * 10 + (unsigned)(*s - '0');
    return v;
}

static void check_page_against_trace(char *html, json_t *tj) {
    json_t *landings = json_object_get(tj, "landings");
    assert_true(json_array_size(landings) > 0); /* the generator planted landings */
    static const char *const lf[] = {"address", "entity", "asset", "amount"};
    json_t *page = rows(html, "landing", lf, 4);
    assert_int_equal(json_array_size(page), json_array_size(landings));
    size_t i;
    json_t *l;
    json_array_foreach(landings, i, l) {
        json_t *p = json_array_get(page, i);
        for (size_t k = 0; k < 4; k++)
            if (strcmp(json_string_value(json_object_get(p, lf[k])),
                       json_string_value(json_object_get(l, lf[k]))))
                fail_msg("landing %zu: %s is %s in the page, %s in the trace", i, lf[k],
                         json_string_value(json_object_get(p, lf[k])),
                         json_string_value(json_object_get(l, lf[k])));
    }
    static const char *const sf[] = {"entity", "category", "asset", "amount"};
    json_t *svc = rows(html, "svc", sf, 4);
    assert_true(json_array_size(svc) > 0);
    unsigned __int128 total_page = 0, total_trace = 0;
    const char *main_asset = json_string_value(json_object_get(tj, "tainted_asset"));
    json_array_foreach(svc, i, l) {
        unsigned __int128 want = 0;
        size_t k;
        json_t *x;
        json_array_foreach(landings, k, x) {
            bool same = true;
            for (size_t f = 0; f < 3; f++)
                same = same && !strcmp(json_string_value(json_object_get(x, sf[f])),
                                       json_string_value(json_object_get(l, sf[f])));
            if (same) want += u128(json_string_value(json_object_get(x, "amount")));
        }
        unsigned __int128 got = u128(json_string_value(json_object_get(l, "amount")));
        if (got != want)
            fail_msg("service %s (%s): the page's amount is not the trace's landings summed",
                     json_string_value(json_object_get(l, "entity")),
                     json_string_value(json_object_get(l, "asset")));
        if (!strcmp(json_string_value(json_object_get(l, "asset")), main_asset)) total_page += got;
    }
    json_array_foreach(landings, i, l) {
        if (!strcmp(json_string_value(json_object_get(l, "asset")), main_asset))
            total_trace += u128(json_string_value(json_object_get(l, "amount")));
    }
    assert_true(total_page == total_trace);
    assert_true(total_trace == u128(json_string_value(json_object_get(tj, "landed_total"))));

    const char *open = "<script type=\"application/json\" id=\"coinhound-trace\">";
    char *b = strstr(html, open);
    assert_non_null(b);
    b += strlen(open);
    char *e = strstr(b, "</script>");
    assert_non_null(e);
    *e = '\0';
    json_error_t je;
    json_t *emb = json_loads(b, 0, &je);
    if (!emb) fail_msg("embedded JSON: %s", je.text);
    assert_true(json_equal(emb, tj));
    *e = '<';
    assert_non_null(strstr(html, "Data up to")); /* the method names the data's last block */
    json_decref(emb);
    json_decref(svc);
    json_decref(page);
}

static void test_case_amounts_per_service_equal_trace_json_landings(void **state) {
    (void)state;
    char html_path[1200];
    snprintf(html_path, sizeof html_path, "%s/case.html", g_chain.dir);
    json_t *tj = trace_json(gen_labels());
    char *html = report_html(gen_labels(), html_path);
    check_page_against_trace(html, tj);
    json_decref(tj);
    free(html);
}

/* The same on an account chain: coinhound-evmgen's drain (swaps into
 * tokens, exchange and bridge landings), ingested, traced per asset. */
static void test_case_account_chain_equals_trace_json(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), gen[1200], db[1200], p[1300], args[8192];
    snprintf(gen, sizeof gen, "%s/gen", dir);
    snprintf(db, sizeof db, "%s/db", dir);
    ch_error err = {{0}};
    ch_evmgen_opts go;
    ch_evmgen_opts_init(&go);
    go.out_dir = gen;
    go.seed = 11;
    go.transfers = 8000;
    go.theft = true;
    if (ch_evmgen_run(&go, NULL, &err) != 0) fail_msg("evmgen: %s", err.msg);
    ch_ingest_opts io = {0};
    ch_ingest_stats ist;
    if (ch_ingest_evm(gen, db, "eth", &io, &ist, &err) != 0) fail_msg("ingest: %s", err.msg);
    snprintf(p, sizeof p, "%s/theft.json", gen);
    json_error_t je;
    json_t *theft = json_load_file(p, 0, &je);
    assert_non_null(theft);
    const char *from =
        json_string_value(json_object_get(json_object_get(theft, "theft"), "exploiter"));
    assert_non_null(from);
    char opts[4096];
    snprintf(opts, sizeof opts,
             "--db %s --chain eth --from %s --labels %s/labels.csv --tokens %s/tokens.csv "
             "--policy haircut",
             db, from, gen, gen);
    int st;
    snprintf(args, sizeof args, "trace %s --json", opts);
    char *out = run(args, &st);
    assert_int_equal(st, 0);
    json_t *tj = json_loads(out, 0, &je);
    if (!tj) fail_msg("trace --json is not JSON: %s", je.text);
    free(out);
    snprintf(p, sizeof p, "%s/case.html", dir);
    snprintf(args, sizeof args, "report case %s --out %s", opts, p);
    free(run(args, &st));
    assert_int_equal(st, 0);
    size_t len;
    char *html = (char *)tu_read_file(p, &len);
    assert_non_null(html);
    check_page_against_trace(html, tj);
    free(html);
    json_decref(tj);
    json_decref(theft);
    tu_rmrf(dir);
    free(dir);
}

static void test_case_label_markup_is_escaped(void **state) {
    (void)state;
    char labels[1200], html_path[1200], cmd[4096];
    snprintf(labels, sizeof labels, "%s/evil.csv", g_chain.dir);
    snprintf(html_path, sizeof html_path, "%s/evil.html", g_chain.dir);
    /* every entity becomes markup an attacker would plant in a label file */
    snprintf(cmd, sizeof cmd,
             "sed '1!s/,\\([^,]*\\)$/,\"<script>alert(1)<\\/script>\"\"><img src=x "
             "onerror=alert(2)> \\1\"/' %s > %s",
             gen_labels(), labels);
    assert_int_equal(system(cmd), 0);
    char *html = report_html(labels, html_path);
    assert_null(strstr(html, "<script>alert"));
    assert_null(strstr(html, "<img src=x"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img"));
    /* the page's only script element is the inert JSON block */
    const char *s = strstr(html, "<script");
    assert_non_null(s);
    assert_ptr_equal(strstr(s + 1, "<script"), NULL);
    assert_non_null(strstr(s, "type=\"application/json\""));
    free(html);
}

static void test_case_unknown_source_exits_1_and_writes_nothing(void **state) {
    (void)state;
    char args[8192], out[1200];
    int st;
    snprintf(out, sizeof out, "%s/none.html", g_chain.dir);
    snprintf(args, sizeof args,
             "report case --db %s --from "
             "00000000000000000000000000000000000000000000000000000000000000ff --out %s",
             g_chain.db, out);
    free(run(args, &st));
    assert_int_equal(st, 1);
    struct stat sb;
    assert_int_not_equal(stat(out, &sb), 0);
    snprintf(args, sizeof args, "report case --db %s --from %s --policy sideways --out %s",
             g_chain.db, g_from, out);
    free(run(args, &st));
    assert_int_equal(st, 2);
    snprintf(args, sizeof args, "report case --db %s --from %s", g_chain.db, g_from);
    free(run(args, &st));
    assert_int_equal(st, 2); /* --out is required */
    assert_int_not_equal(stat(out, &sb), 0);
}

static void test_case_renders_in_headless_chromium(void **state) {
    (void)state;
    if (access("/usr/bin/chromium", X_OK) != 0) {
        fprintf(stderr, "skipped: /usr/bin/chromium is absent (scripts/deps.sh installs it)\n");
        skip();
    }
    char html_path[1200], png[1200], cmd[4096];
    snprintf(html_path, sizeof html_path, "%s/shot.html", g_chain.dir);
    free(report_html(gen_labels(), html_path));
    char *cwd = getcwd(NULL, 0);
    const char *b = getenv("BUILD");
    snprintf(png, sizeof png, "%s/%s/report-case.png", cwd, b && *b ? b : "build");
    free(cwd);
    unlink(png);
    snprintf(cmd, sizeof cmd,
             "HOME=%s timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu "
             "--hide-scrollbars --window-size=1200,2400 --screenshot=%s file://%s >/dev/null 2>&1",
             g_chain.dir, png, html_path);
    assert_int_equal(system(cmd), 0);
    size_t len;
    uint8_t *p = tu_read_file(png, &len);
    assert_non_null(p);
    assert_true(len > 20000); /* a page of tables and a diagram, not a blank one */
    assert_memory_equal(p, "\x89PNG\r\n\x1a\n", 8);
    fprintf(stderr, "case report rendered: %s\n", png);
    free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case_amounts_per_service_equal_trace_json_landings),
        cmocka_unit_test(test_case_account_chain_equals_trace_json),
        cmocka_unit_test(test_case_label_markup_is_escaped),
        cmocka_unit_test(test_case_unknown_source_exits_1_and_writes_nothing),
        cmocka_unit_test(test_case_renders_in_headless_chromium),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

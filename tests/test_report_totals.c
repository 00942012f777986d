/* The oversight totals (coinhound report totals, report.h) and the
 * incidents format (docs/report.md):
 *   - on a small incidents file, the sums by actor and year, both
 *     denominators and the shares equal sums worked out by hand (below), in
 *     the JSON and in the HTML's data attributes; a published figure is set
 *     beside ours over the same kind of denominator;
 *   - an incident naming the generator's theft output is recomputed from the
 *     chain store: the amount equals theft.json's, the listed amount too;
 *   - bad records are refused with the file, the line and the field named,
 *     and a refused file leaves nothing in the set;
 *   - the shipped data/incidents.csv and data/published.csv parse, and every
 *     row cites an http(s) source;
 *   - markup in a record is escaped; the page renders in headless chromium
 *     (a PNG in the build folder; skipped, saying so, without chromium). */
#include "support/testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "coinhound/report.h"
#include "report/html.h"
#include "support/genchain.h"

#define HEADER                                                                                     \
    "date,victim,kind,actor,group,attribution,attribution_url,amount_usd,amount_coin,coin,chain,"  \
    "theft_refs,source_url,note\n"

/* Hand-worked: 2023: A service DPRK 100, B protocol unattributed 50, C service
 * DPRK 25 -> all 175, service 125, DPRK 125 (125/175 of all, 125/125 of
 * service). 2024: D service Other 300, E personal DPRK 100 -> all 400,
 * service 300; DPRK 100 (0.25 of all, 0 of service), Other 300 (0.75, 1). */
static const char SMALL[] = HEADER
    "2023-01-05,A,service,DPRK,Lazarus,FBI,https://example.org/fbi,100,,,,,https://example.org/a,\n"
    "2023-06-01,B,protocol,unattributed,,,,50,,,,,https://example.org/b,\n"
    "# a comment line\n"
    "2023-07,C,service,dprk,,FBI,https://example.org/fbi,25,,,,,https://example.org/c,\n"
    "2024-03-01,D,service,Other,,Someone,https://example.org/o,300,,,,,https://example.org/d,\n"
    "\n"
    "2024,E,personal,DPRK,,FBI,https://example.org/fbi,100,,,,,https://example.org/e,\n";

static const char PUBLISHED[] = "year,publisher,actor,amount_usd,denominator,denominator_usd,share_"
                                "pct,source_url,note\n"
                                "2023,Pub,DPRK,200,all thefts,400,,https://example.org/p,\n";

static json_t *totals_json(ch_incidents *set, const ch_totals_opts *o) {
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    ch_error err;
    assert_int_equal(ch_report_totals_write(m, set, o, true, &err), 0);
    fclose(m);
    json_error_t je;
    json_t *j = json_loads(buf, 0, &je);
    if (!j) fail_msg("not JSON: %s", je.text);
    free(buf);
    return j;
}

static json_t *group(json_t *j, int year, const char *actor) {
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(j, "groups"), i, g) {
        if (json_integer_value(json_object_get(g, "year")) == year &&
            !strcmp(json_string_value(json_object_get(g, "actor")), actor))
            return g;
    }
    fail_msg("no group %d %s", year, actor);
    return NULL;
}

static void near(double a, double b) {
    if (fabs(a - b) > 1e-9) fail_msg("%.12f != %.12f", a, b);
}

static void test_totals_by_actor_and_year_equal_hand_sums(void **state) {
    (void)state;
    ch_incidents *set;
    ch_error err;
    assert_int_equal(ch_incidents_new(&set, &err), 0);
    assert_int_equal(ch_incidents_load_mem(set, "small.csv", SMALL, strlen(SMALL), &err), 0);
    assert_int_equal(ch_published_load_mem(set, "pub.csv", PUBLISHED, strlen(PUBLISHED), &err), 0);
    assert_int_equal(ch_incidents_count(set), 5);
    ch_totals_opts o;
    ch_totals_opts_init(&o);
    json_t *j = totals_json(set, &o);
    near(json_number_value(json_object_get(j, "usd")), 575);
    json_t *y = json_object_get(j, "years");
    assert_int_equal(json_array_size(y), 2);
    json_t *y23 = json_array_get(y, 0), *y24 = json_array_get(y, 1);
    assert_int_equal(json_integer_value(json_object_get(y23, "year")), 2023);
    near(json_number_value(json_object_get(y23, "usd_all")), 175);
    near(json_number_value(json_object_get(y23, "usd_service")), 125);
    near(json_number_value(json_object_get(y24, "usd_all")), 400);
    near(json_number_value(json_object_get(y24, "usd_service")), 300);
    /* actors fold case: "dprk" is DPRK */
    json_t *g = group(j, 2023, "DPRK");
    assert_int_equal(json_integer_value(json_object_get(g, "incidents")), 2);
    near(json_number_value(json_object_get(g, "usd")), 125);
    near(json_number_value(json_object_get(g, "share_of_all")), 125.0 / 175.0);
    near(json_number_value(json_object_get(g, "share_of_service")), 1);
    g = group(j, 2024, "DPRK");
    near(json_number_value(json_object_get(g, "share_of_all")), 0.25);
    near(json_number_value(json_object_get(g, "share_of_service")), 0);
    g = group(j, 2024, "Other");
    near(json_number_value(json_object_get(g, "share_of_all")), 0.75);
    near(json_number_value(json_object_get(g, "share_of_service")), 1);
    /* the published figure beside ours: 200 of 400 against 125 of 175 */
    json_t *p = json_array_get(json_object_get(j, "published"), 0);
    near(json_number_value(json_object_get(p, "share")), 0.5);
    near(json_number_value(json_object_get(p, "ours_usd")), 125);
    near(json_number_value(json_object_get(p, "ours_denominator_usd")), 175);
    near(json_number_value(json_object_get(p, "difference_usd")), 75);
    json_decref(j);

    /* by year only: one row a year */
    o.by = CH_TOTALS_YEAR;
    j = totals_json(set, &o);
    assert_int_equal(json_array_size(json_object_get(j, "groups")), 2);
    near(json_number_value(json_object_get(json_array_get(json_object_get(j, "groups"), 1), "usd")),
         400);
    json_decref(j);

    /* the HTML's rows say the same */
    o.by = CH_TOTALS_ACTOR_YEAR;
    o.generated = "test";
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_int_equal(ch_report_totals_write(m, set, &o, false, &err), 0);
    fclose(m);
    assert_non_null(strstr(buf, "<tr class=\"group\" data-year=\"2023\" data-actor=\"DPRK\" "
                                "data-usd=\"125\" data-incidents=\"2\">"));
    assert_non_null(strstr(buf, "<tr class=\"year\" data-year=\"2024\" data-usd=\"400\" "
                                "data-service-usd=\"300\">"));
    assert_non_null(strstr(buf, "id=\"coinhound-totals\""));
    free(buf);
    ch_incidents_free(set);
}

/* err names file, line and field; the set keeps nothing of the file. */
static void refused(const char *text, const char *line, const char *what) {
    ch_incidents *set;
    ch_error err;
    assert_int_equal(ch_incidents_new(&set, &err), 0);
    assert_int_equal(ch_incidents_load_mem(set, "ok.csv", SMALL, strlen(SMALL), &err), 0);
    assert_int_equal(ch_incidents_load_mem(set, "bad.csv", text, strlen(text), &err), -1);
    if (!strstr(err.msg, "bad.csv") || !strstr(err.msg, line) || !strstr(err.msg, what))
        fail_msg("'%s' does not name bad.csv, '%s' and '%s'", err.msg, line, what);
    assert_int_equal(ch_incidents_count(set), 5);
    ch_incidents_free(set);
}

static void test_bad_records_name_file_line_and_field(void **state) {
    (void)state;
    refused(HEADER "2023-02-30,A,service,unattributed,,,,1,,,,,https://x.org/a,\n", "line 2",
            "date");
    refused(HEADER "2023-01-01,A,service,unattributed,,,,1,,,,,https://x.org/a,\n"
                   "2023-01-02,B,service,unattributed,,,,\"1,000\",,,,,https://x.org/a,\n",
            "line 3", "amount_usd");
    refused(HEADER "2023-01-01,A,service,unattributed,,,,1,,,,,,\n", "line 2", "source_url");
    refused(HEADER "2023-01-01,A,service,unattributed,,,,1,,,,,javascript:alert(1),\n", "line 2",
            "source_url");
    refused(HEADER "2023-01-01,A,service,DPRK,,,,1,,,,,https://x.org/a,\n", "line 2",
            "attribution");
    refused(HEADER "2023-01-01,A,hack,unattributed,,,,1,,,,,https://x.org/a,\n", "line 2", "kind");
    refused(HEADER "2023-01-01,A,service,unattributed,,,,1,5,,,,https://x.org/a,\n", "line 2",
            "coin");
    refused(HEADER "2023-01-01,A,service,unattributed,,,,1,,,,abc,https://x.org/a,\n", "line 2",
            "chain");
    refused("date,victim,kind,actor,amount_usd,source_url,colour\n", "line 1", "colour");
    refused("date,victim,kind,actor,amount_usd\n", "line 1", "source_url");
    refused(HEADER "2023-01-01,A,service,unattributed\n", "line 2", "fields");
    refused(HEADER "2023-01-01,\"A,service\n", "line 2", "quote");
    ch_incidents *set;
    ch_error err;
    assert_int_equal(ch_incidents_new(&set, &err), 0);
    const char *pub = "year,publisher,actor,amount_usd,denominator,source_url\n"
                      "20x4,P,DPRK,1,all thefts,https://x.org\n";
    assert_int_equal(ch_published_load_mem(set, "p.csv", pub, strlen(pub), &err), -1);
    assert_non_null(strstr(err.msg, "p.csv: line 2: year"));
    assert_int_equal(ch_published_count(set), 0);
    ch_incidents_free(set);
}

static void test_shipped_incidents_parse_and_cite_every_row(void **state) {
    (void)state;
    ch_incidents *set;
    ch_error err;
    assert_int_equal(ch_incidents_new(&set, &err), 0);
    if (ch_incidents_load(set, "data/incidents.csv", &err) != 0) fail_msg("%s", err.msg);
    if (ch_published_load(set, "data/published.csv", &err) != 0) fail_msg("%s", err.msg);
    assert_true(ch_incidents_count(set) >= 8);
    assert_true(ch_published_count(set) >= 4);
    for (size_t i = 0; i < ch_incidents_count(set); i++) {
        const ch_incident *x = ch_incidents_get(set, i);
        assert_int_equal(strncmp(x->source_url, "https://", 8), 0);
        if (strcmp(x->actor, "unattributed"))
            assert_int_equal(strncmp(x->attribution_url, "https://", 8), 0);
    }
    ch_incidents_free(set);
}

static void test_markup_in_records_is_escaped(void **state) {
    (void)state;
    const char *evil = HEADER "2023-01-01,<script>alert(1)</script>,service,\"<b>x</b>\",,"
                              "\"a\"\"><img src=x onerror=y>\",\"https://x.org/\"\"<i>\",1,,,,,"
                              "https://x.org/a,<svg onload=z>\n";
    ch_incidents *set;
    ch_error err;
    assert_int_equal(ch_incidents_new(&set, &err), 0);
    /* a URL holding a quote or '<' is refused */
    assert_int_equal(ch_incidents_load_mem(set, "evil.csv", evil, strlen(evil), &err), -1);
    assert_non_null(strstr(err.msg, "attribution_url"));
    const char *evil2 = HEADER "2023-01-01,<script>alert(1)</script>,service,\"<b>x</b>\",,"
                               "\"a\"\"><img src=x onerror=y>\",https://x.org/i,1,,,,,"
                               "https://x.org/a,<svg onload=z>\n";
    assert_int_equal(ch_incidents_load_mem(set, "evil.csv", evil2, strlen(evil2), &err), 0);
    ch_totals_opts o;
    ch_totals_opts_init(&o);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_int_equal(ch_report_totals_write(m, set, &o, false, &err), 0);
    fclose(m);
    assert_null(strstr(buf, "<script>alert"));
    assert_null(strstr(buf, "<img"));
    assert_null(strstr(buf, "<svg onload"));
    assert_null(strstr(buf, "<b>x"));
    assert_non_null(strstr(buf, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    free(buf);
    ch_incidents_free(set);
}

static void test_incident_amount_recomputed_from_the_chain(void **state) {
    (void)state;
    tu_genchain g;
    tu_genchain_make(&g, 7, 2000);
    char path[1200];
    snprintf(path, sizeof path, "%s/theft.json", g.blocks);
    json_error_t je;
    json_t *t = json_load_file(path, 0, &je);
    assert_non_null(t);
    const char *txid = json_string_value(json_object_get(t, "theft_txid"));
    long long vout = json_integer_value(json_object_get(t, "theft_vout"));
    long long sat = json_integer_value(json_object_get(t, "amount"));
    char rows[4096];
    /* row 1: the theft output, listed in BTC as the generator says; row 2:
     * the same plus a tx the store does not hold; row 3: another chain */
    snprintf(rows, sizeof rows,
             HEADER "2023-11-15,V,service,unattributed,,,,1000,%lld.%08lld,BTC,btc,%s:%lld,"
                    "https://x.org/a,\n"
                    "2023-11-15,W,service,unattributed,,,,1000,1,BTC,btc,%s:%lld "
                    "00000000000000000000000000000000000000000000000000000000000000ff,"
                    "https://x.org/b,\n"
                    "2023-11-15,X,service,unattributed,,,,1000,1,ETH,eth,0xabc,https://x.org/c,\n",
             sat / 100000000, sat % 100000000, txid, vout, txid, vout);
    ch_incidents *set;
    ch_error err;
    assert_int_equal(ch_incidents_new(&set, &err), 0);
    if (ch_incidents_load_mem(set, "chain.csv", rows, strlen(rows), &err) != 0)
        fail_msg("%s", err.msg);
    ch_totals_opts o;
    ch_totals_opts_init(&o);
    o.store = g.s;
    o.chain = "btc";
    json_t *j = totals_json(set, &o);
    json_t *inc = json_object_get(j, "incidents");
    json_t *c0 = json_object_get(json_array_get(inc, 0), "chain_check");
    char want[32];
    snprintf(want, sizeof want, "%lld", sat);
    assert_int_equal(json_integer_value(json_object_get(c0, "found")), 1);
    assert_string_equal(json_string_value(json_object_get(c0, "amount")), want);
    assert_string_equal(json_string_value(json_object_get(c0, "listed")), want);
    assert_string_equal(json_string_value(json_object_get(c0, "difference")), "0");
    json_t *c1 = json_object_get(json_array_get(inc, 1), "chain_check");
    assert_int_equal(json_integer_value(json_object_get(c1, "refs")), 2);
    assert_int_equal(json_integer_value(json_object_get(c1, "found")), 1);
    snprintf(want, sizeof want, "%lld", sat - 100000000);
    assert_string_equal(json_string_value(json_object_get(c1, "difference")), want);
    assert_true(json_is_null(json_object_get(json_array_get(inc, 2), "chain_check")));
    json_decref(j);
    json_decref(t);
    ch_incidents_free(set);
    tu_genchain_close(&g);
}

static void test_totals_renders_in_headless_chromium(void **state) {
    (void)state;
    if (access("/usr/bin/chromium", X_OK) != 0) {
        fprintf(stderr, "skipped: /usr/bin/chromium is absent (scripts/deps.sh installs it)\n");
        skip();
    }
    char *dir = tu_tmpdir(), html[1200], png[1200], cmd[4096];
    snprintf(html, sizeof html, "%s/totals.html", dir);
    snprintf(cmd, sizeof cmd,
             "%s report totals --incidents data/incidents.csv --published data/published.csv "
             "--out %s",
             tu_bin("coinhound"), html);
    assert_int_equal(system(cmd), 0);
    char *cwd = getcwd(NULL, 0);
    const char *b = getenv("BUILD");
    snprintf(png, sizeof png, "%s/%s/report-totals.png", cwd, b && *b ? b : "build");
    free(cwd);
    unlink(png);
    snprintf(cmd, sizeof cmd,
             "HOME=%s timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu "
             "--hide-scrollbars --window-size=1200,2400 --screenshot=%s file://%s >/dev/null 2>&1",
             dir, png, html);
    assert_int_equal(system(cmd), 0);
    size_t len;
    uint8_t *p = tu_read_file(png, &len);
    assert_non_null(p);
    assert_true(len > 20000);
    assert_memory_equal(p, "\x89PNG\r\n\x1a\n", 8);
    fprintf(stderr, "totals report rendered: %s\n", png);
    free(p);
    tu_rmrf(dir);
    free(dir);
}

/* The page's text helpers: escaping (worked by hand from the HTML spec's
 * five characters), amounts grouped and cut for a glance. */
static void test_text_is_escaped_and_amounts_grouped(void **state) {
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    rh_esc(m, "<a href='x' title=\"y\">&\x01\xff</a>");
    fclose(m);
    assert_string_equal(
        buf, "&lt;a href=&#39;x&#39; title=&quot;y&quot;&gt;&amp;\xEF\xBF\xBD&lt;/a&gt;");
    free(buf);
    char b[84];
    assert_string_equal(rh_amount(123456789012, 8, b), "1,234.56789012");
    assert_string_equal(rh_amount(150000000, 8, b), "1.5");
    assert_string_equal(rh_amount(0, 8, b), "0");
    assert_string_equal(rh_amount_short(150000000, 8, b), "1.5");
    assert_string_equal(rh_amount_short((ch_taint_sum)1234567890123456789ULL, 18, b),
                        "\u22481.23456789");
    assert_string_equal(rh_amount_short(12, 18, b), "0.000000000000000012");
    assert_string_equal(rh_amount_short(123456, 18, b), "\u22480.000000000000123");
    char g[64];
    assert_string_equal(rh_group(1460000000, g), "1,460,000,000");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_totals_by_actor_and_year_equal_hand_sums),
        cmocka_unit_test(test_bad_records_name_file_line_and_field),
        cmocka_unit_test(test_shipped_incidents_parse_and_cite_every_row),
        cmocka_unit_test(test_markup_in_records_is_escaped),
        cmocka_unit_test(test_incident_amount_recomputed_from_the_chain),
        cmocka_unit_test(test_totals_renders_in_headless_chromium),
        cmocka_unit_test(test_text_is_escaped_and_amounts_grouped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The risk verdict: severities, confidence, actors, delistings, the table. */
#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/risk.h"

static ch_attribution attr(const char *category, const char *entity, const char *actor,
                           const char *country, const char *source, uint8_t conf) {
    ch_attribution a;
    memset(&a, 0, sizeof a);
    strcpy(a.address, "0x1111111111111111111111111111111111111111"); /* made up */
    strcpy(a.asset, "ETH");
    strcpy(a.category, category);
    strcpy(a.entity, entity);
    strcpy(a.actor, actor);
    strcpy(a.actor_country, country);
    strcpy(a.source_name, source);
    strcpy(a.source_url, "https://example.invalid/source");
    strcpy(a.source_date, "2022-04-14");
    a.confidence = conf;
    return a;
}

static void test_levels_and_points(void **state) {
    (void)state;
    assert_int_equal(ch_risk_level_points(CH_RISK_SEVERE), 15);
    assert_int_equal(ch_risk_level_points(CH_RISK_HIGH), 10);
    assert_int_equal(ch_risk_level_points(CH_RISK_MEDIUM), 5);
    assert_int_equal(ch_risk_level_points(CH_RISK_LOW), 1);
    assert_int_equal(ch_risk_level_points(CH_RISK_NONE), 0);
    ch_risk_level l;
    assert_int_equal(ch_risk_level_parse("Severe", &l), 0);
    assert_int_equal(l, CH_RISK_SEVERE);
    assert_int_equal(ch_risk_level_parse("extreme", &l), -1);
    assert_string_equal(ch_risk_level_name(CH_RISK_MEDIUM), "medium");
}

static void test_default_table(void **state) {
    (void)state;
    ch_risk_table t;
    ch_risk_table_default(&t);
    assert_int_equal(ch_risk_category_level(&t, "sanctions"), CH_RISK_SEVERE);
    assert_int_equal(ch_risk_category_level(&t, "Stolen Funds"), CH_RISK_SEVERE);
    assert_int_equal(ch_risk_category_level(&t, "hacker"), CH_RISK_SEVERE);
    assert_int_equal(ch_risk_category_level(&t, "ransomware"), CH_RISK_SEVERE);
    assert_int_equal(ch_risk_category_level(&t, "terrorist-financing"), CH_RISK_SEVERE);
    assert_int_equal(ch_risk_category_level(&t, "darknet"), CH_RISK_HIGH);
    assert_int_equal(ch_risk_category_level(&t, "scam"), CH_RISK_HIGH);
    assert_int_equal(ch_risk_category_level(&t, "mixer"), CH_RISK_HIGH);
    assert_int_equal(ch_risk_category_level(&t, "gambling"), CH_RISK_MEDIUM);
    assert_int_equal(ch_risk_category_level(&t, "unlicensed_exchange"), CH_RISK_MEDIUM);
    assert_int_equal(ch_risk_category_level(&t, "bridge"), CH_RISK_LOW);
    assert_int_equal(ch_risk_category_level(&t, "exchange"), CH_RISK_NONE);
    assert_int_equal(ch_risk_category_level(&t, "defi"), CH_RISK_NONE);
    assert_int_equal(ch_risk_category_level(&t, "something new"), CH_RISK_LOW);
}

static void test_sanctioned_dprk_actor(void **state) {
    (void)state;
    ch_risk_table t;
    ch_risk_table_default(&t);
    ch_attribution a[2] = {
        attr("exchange", "Some Exchange", "", "", "Etherscan labels", 80),
        attr("sanctions", "LAZARUS GROUP", "Lazarus Group", "DPRK", "OFAC SDN", 100),
    };
    ch_risk_reason r[2];
    ch_risk_verdict v;
    ch_risk_assess(&t, a, 2, r, &v);
    assert_int_equal(v.level, CH_RISK_SEVERE);
    assert_true(v.score == 15.0);
    assert_int_equal(v.n_reasons, 2);
    assert_int_equal(v.n_current, 2);
    /* Strongest first, every reason kept with its source. */
    assert_string_equal(v.reasons[0].attr->source_name, "OFAC SDN");
    assert_string_equal(v.reasons[0].actor_label, "DPRK: Lazarus Group");
    assert_int_equal(v.reasons[1].level, CH_RISK_NONE);
    assert_string_equal(v.reasons[1].attr->entity, "Some Exchange");
}

static void test_country_raises_level(void **state) {
    (void)state;
    ch_risk_table t;
    ch_risk_table_default(&t);
    /* A DPRK actor under a mild category is still severe. */
    ch_attribution a = attr("bridge", "Harmony bridge attacker", "Lazarus Group", "DPRK",
                            "GraphSense TagPack lazarus", 90);
    ch_risk_reason r;
    ch_risk_verdict v;
    ch_risk_assess(&t, &a, 1, &r, &v);
    assert_int_equal(v.level, CH_RISK_SEVERE);
    assert_true(v.score > 13.4 && v.score < 13.6); /* 15 * 0.9 */
}

static void test_confidence(void **state) {
    (void)state;
    ch_risk_table t;
    ch_risk_table_default(&t);
    ch_attribution a = attr("mixer", "Some mixer", "", "", "community list", 30);
    ch_risk_reason r;
    ch_risk_verdict v;
    ch_risk_assess(&t, &a, 1, &r, &v);
    /* Below 50% confidence: one level lower (high -> medium), 5 * 0.3. */
    assert_int_equal(v.level, CH_RISK_MEDIUM);
    assert_true(v.score > 1.49 && v.score < 1.51);
    /* A low label never drops to none. */
    a = attr("bridge", "Some bridge", "", "", "community list", 10);
    ch_risk_assess(&t, &a, 1, &r, &v);
    assert_int_equal(v.level, CH_RISK_LOW);
}

static void test_delisted_is_history(void **state) {
    (void)state;
    ch_risk_table t;
    ch_risk_table_default(&t);
    ch_attribution a = attr("sanctions", "TORNADO CASH", "", "", "OFAC SDN", 100);
    a.delisted = true;
    strcpy(a.delisted_date, "2025-03-21");
    ch_risk_reason r;
    ch_risk_verdict v;
    ch_risk_assess(&t, &a, 1, &r, &v);
    assert_int_equal(v.level, CH_RISK_NONE);
    assert_true(v.score == 0.0);
    assert_int_equal(v.n_reasons, 1);
    assert_int_equal(v.n_current, 0);
    assert_false(v.reasons[0].current);
    assert_int_equal(v.reasons[0].level, CH_RISK_SEVERE); /* what it was */
    /* With a current label beside it, the current one leads. */
    ch_attribution two[2] = {a, attr("mixer", "Tornado Cash", "", "", "Etherscan", 100)};
    ch_risk_reason rr[2];
    ch_risk_assess(&t, two, 2, rr, &v);
    assert_int_equal(v.level, CH_RISK_HIGH);
    assert_true(v.reasons[0].current);
    assert_false(v.reasons[1].current);
}

static void test_table_parse(void **state) {
    (void)state;
    ch_risk_table t;
    ch_error err = {{0}};
    ch_risk_table_default(&t);
    assert_int_equal(
        ch_risk_table_parse(&t, "mixer=severe,bridge=none,*=none,country:RU=high", &err), 0);
    assert_int_equal(ch_risk_category_level(&t, "mixer"), CH_RISK_SEVERE);
    assert_int_equal(ch_risk_category_level(&t, "bridge"), CH_RISK_NONE);
    assert_int_equal(ch_risk_category_level(&t, "whatever"), CH_RISK_NONE);
    ch_attribution a = attr("exchange", "X", "", "RU", "s", 100);
    ch_risk_reason r;
    ch_risk_verdict v;
    ch_risk_assess(&t, &a, 1, &r, &v);
    assert_int_equal(v.level, CH_RISK_HIGH);
    assert_int_equal(ch_risk_table_parse(&t, "mixer", &err), -1);
    assert_non_null(strstr(err.msg, "category=level"));
    assert_int_equal(ch_risk_table_parse(&t, "mixer=awful", &err), -1);
    assert_non_null(strstr(err.msg, "level must be"));
}

static void test_no_attributions(void **state) {
    (void)state;
    ch_risk_table t;
    ch_risk_table_default(&t);
    ch_risk_verdict v;
    ch_risk_assess(&t, NULL, 0, NULL, &v);
    assert_int_equal(v.level, CH_RISK_NONE);
    assert_int_equal(v.n_reasons, 0);
}

/* A victim's own wallet, as the incident lists name it beside the thieves':
 * listed, shown, not flagged; an exchange likewise. Anything illicit beside
 * it still decides. */
static void test_victim_wallet_is_not_flagged(void **state) {
    (void)state;
    ch_risk_table t;
    ch_risk_table_default(&t);
    ch_attribution a[3] = {
        attr("victim", "Bybit Cold Wallet 1 (Safe) - victim", "", "", "tayvano_bybit_2025", 70),
        attr("exchange", "Bybit", "", "", "Etherscan labels", 80),
        attr("hacker", "exploiter", "TraderTraitor", "DPRK", "FBI", 100),
    };
    ch_risk_reason r[3];
    ch_risk_verdict v;
    ch_risk_assess(&t, a, 2, r, &v);
    assert_int_equal(v.level, CH_RISK_NONE);
    assert_true(v.score == 0.0);
    assert_int_equal(v.n_current, 2); /* both shown as reasons */
    /* the robber named on a victim's label does not make it DPRK's */
    ch_attribution robbed = attr("Victim", "Harmony bridge", "Lazarus Group", "DPRK", "x", 90);
    ch_risk_assess(&t, &robbed, 1, r, &v);
    assert_int_equal(v.level, CH_RISK_NONE);
    ch_risk_assess(&t, a, 3, r, &v);
    assert_int_equal(v.level, CH_RISK_SEVERE);
    assert_string_equal(v.reasons[0].attr->category, "hacker");
    /* a compromised key is shown as low (it may sign for the thief) */
    ch_attribution k = attr("compromised", "signer", "", "", "x", 70);
    ch_risk_assess(&t, &k, 1, r, &v);
    assert_int_equal(v.level, CH_RISK_LOW);
}

/* No table change makes a listed illicit address clean. */
static void test_illicit_never_none(void **state) {
    (void)state;
    ch_risk_table t;
    ch_error err = {{0}};
    ch_risk_table_default(&t);
    static const char *const ILLICIT[] = {"sanctions=none", "Stolen Funds=none", "mixer=none",
                                          "hacker = none", "ransomware=none"};
    for (size_t i = 0; i < sizeof ILLICIT / sizeof ILLICIT[0]; i++) {
        assert_int_equal(ch_risk_table_parse(&t, ILLICIT[i], &err), -1);
        assert_non_null(strstr(err.msg, "illicit"));
    }
    assert_int_equal(ch_risk_category_level(&t, "sanctions"), CH_RISK_SEVERE);
    assert_int_equal(ch_risk_table_set(&t, "sanctions", CH_RISK_NONE, &err), -1);
    /* lowered to low it is still flagged */
    assert_int_equal(ch_risk_table_parse(&t, "sanctions=low", &err), 0);
    ch_attribution a = attr("sanctions", "LAZARUS GROUP", "", "", "OFAC SDN", 100);
    ch_risk_reason r;
    ch_risk_verdict v;
    ch_risk_assess(&t, &a, 1, &r, &v);
    assert_int_equal(v.level, CH_RISK_LOW);
    assert_true(ch_risk_category_illicit("stolen-funds"));
    assert_false(ch_risk_category_illicit("victim"));
    assert_false(ch_risk_category_illicit("gambling"));
    assert_false(ch_risk_category_illicit("country:dprk"));
}

static char *write_tmp(const char *dir, const char *name, const char *text) {
    static char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* --risk-table's file: comments, spaces, '*', countries, the confidence
 * rule; a bad line names itself and changes nothing; what
 * ch_risk_table_write prints reads back to the same table. */
static void test_risk_table_file(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    ch_risk_table t, before;
    ch_error err = {{0}};
    ch_risk_table_default(&t);
    const char *p = write_tmp(dir, "desk.table",
                              "# our desk's table\n"
                              "\n"
                              "  victim = low   # we want to see them\n"
                              "Gambling=high\r\n"
                              "country:RU = high\n"
                              "* = medium\n"
                              "confidence_below = 60\n");
    assert_int_equal(ch_risk_table_load(&t, p, &err), 0);
    assert_int_equal(ch_risk_category_level(&t, "victim"), CH_RISK_LOW);
    assert_int_equal(ch_risk_category_level(&t, "gambling"), CH_RISK_HIGH);
    assert_int_equal(ch_risk_category_level(&t, "never heard of"), CH_RISK_MEDIUM);
    assert_int_equal(ch_risk_category_level(&t, "sanctions"), CH_RISK_SEVERE); /* kept */
    assert_int_equal(t.low_confidence, 60);
    ch_attribution a = attr("exchange", "X", "", "RU", "s", 100);
    ch_risk_reason r;
    ch_risk_verdict v;
    ch_risk_assess(&t, &a, 1, &r, &v);
    assert_int_equal(v.level, CH_RISK_HIGH);
    /* errors: the line is named, the table unchanged */
    static const struct {
        const char *text, *want;
    } BAD[] = {
        {"mixer = high\nsanctions = none\n", "line 2"},
        {"mixer high\n", "line 1"},
        {"# x\nmixer = extreme\n", "line 2"},
        {"confidence_below = 101\n", "line 1"},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        before = t;
        p = write_tmp(dir, "bad.table", BAD[i].text);
        assert_int_equal(ch_risk_table_load(&t, p, &err), -1);
        if (!strstr(err.msg, BAD[i].want) || !strstr(err.msg, "bad.table"))
            fail_msg("\"%s\": %s", BAD[i].text, err.msg);
        assert_memory_equal(&t, &before, sizeof t);
    }
    char missing[4300];
    snprintf(missing, sizeof missing, "%s/none.table", dir);
    assert_int_equal(ch_risk_table_load(&t, missing, &err), -1);
    /* round trip: write, read into the defaults, same levels everywhere */
    char out[4300];
    snprintf(out, sizeof out, "%s/out.table", dir);
    FILE *f = fopen(out, "w");
    assert_non_null(f);
    ch_risk_table_write(&t, f);
    fclose(f);
    ch_risk_table back;
    ch_risk_table_default(&back);
    assert_int_equal(ch_risk_table_load(&back, out, &err), 0);
    assert_int_equal(back.n, t.n);
    for (size_t i = 0; i < t.n; i++)
        assert_int_equal(ch_risk_category_level(&back, t.rules[i].key), t.rules[i].level);
    assert_int_equal(back.unknown_level, t.unknown_level);
    assert_int_equal(back.low_confidence, t.low_confidence);
    tu_rmrf(dir);
    free(dir);
}

/* As a desk runs it: an incident list in the layout of the published
 * dprk-attributions files (chain,address,label,role,...), imported, then
 * screened: the victim's wallet exit 0 "risk none" with its label shown,
 * the thief's exit 1; --explain-risk prints the table, --risk-table
 * changes it, and no file makes the thief clean. Addresses made up
 * (lowercase hex, no checksum claimed). */
static void test_cli_victim_and_risk_table(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char cmd[16384];
    const char *bin = tu_bin("coinhound");
    const char *csv = write_tmp(
        dir, "incident.csv",
        "chain,address,label,role,incident,incident_date,attribution,source\n"
        "ETH,0x1111111111111111111111111111111111111111,Exchange cold wallet - victim,victim,"
        "Some hack,2025-02-21,TraderTraitor (DPRK),research notes\n"
        "ETH,0x2222222222222222222222222222222222222222,Exploiter,attacker,Some hack,"
        "2025-02-21,TraderTraitor (DPRK),research notes\n");
    int st;
    snprintf(cmd, sizeof cmd, "%s intel import %s --db %s/db 2>&1", bin, csv, dir);
    free(tu_run(cmd, &st));
    assert_int_equal(st, 0);
    snprintf(cmd, sizeof cmd,
             "%s screen --db %s/db --json 0x1111111111111111111111111111111111111111", bin, dir);
    char *out = tu_run(cmd, &st);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "\"risk\":\"none\""));
    assert_non_null(strstr(out, "\"category\":\"victim\""));
    free(out);
    snprintf(cmd, sizeof cmd, "%s screen --db %s/db 0x2222222222222222222222222222222222222222",
             bin, dir);
    out = tu_run(cmd, &st);
    assert_int_equal(st, 1);
    assert_non_null(strstr(out, "risk severe"));
    free(out);
    /* the table, saved, edited, given back */
    snprintf(cmd, sizeof cmd, "%s screen --explain-risk > %s/desk.table", bin, dir);
    free(tu_run(cmd, &st));
    assert_int_equal(st, 0);
    snprintf(cmd, sizeof cmd, "%s/desk.table", dir);
    size_t n;
    char *table = (char *)tu_read_file(cmd, &n);
    assert_non_null(table);
    assert_non_null(strstr(table, "victim"));
    assert_non_null(strstr(table, "sanctions                = severe  # illicit"));
    free(table);
    snprintf(cmd, sizeof cmd,
             "(cat %s/desk.table; echo 'victim = medium') > %s/edited.table && %s screen --db "
             "%s/db --risk-table %s/edited.table 0x1111111111111111111111111111111111111111",
             dir, dir, bin, dir, dir);
    out = tu_run(cmd, &st);
    assert_int_equal(st, 1);
    assert_non_null(strstr(out, "risk medium"));
    free(out);
    snprintf(cmd, sizeof cmd,
             "echo 'hacker = none' > %s/lax.table && %s screen --db %s/db --risk-table "
             "%s/lax.table 0x2222222222222222222222222222222222222222 2>&1",
             dir, bin, dir, dir);
    out = tu_run(cmd, &st);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "never clean"));
    assert_null(strstr(out, "risk none"));
    free(out);
    snprintf(cmd, sizeof cmd, "%s screen --explain-risk --json --risk victim=low", bin);
    out = tu_run(cmd, &st);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "{\"category\":\"victim\",\"level\":\"low\",\"illicit\":false}"));
    assert_non_null(strstr(out, "\"unknown_category\":\"low\""));
    free(out);
    tu_rmrf(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_and_points),
        cmocka_unit_test(test_default_table),
        cmocka_unit_test(test_sanctioned_dprk_actor),
        cmocka_unit_test(test_country_raises_level),
        cmocka_unit_test(test_confidence),
        cmocka_unit_test(test_delisted_is_history),
        cmocka_unit_test(test_table_parse),
        cmocka_unit_test(test_no_attributions),
        cmocka_unit_test(test_victim_wallet_is_not_flagged),
        cmocka_unit_test(test_illicit_never_none),
        cmocka_unit_test(test_risk_table_file),
        cmocka_unit_test(test_cli_victim_and_risk_table),
    };
    return cmocka_run_group_tests_name("risk", tests, NULL, NULL);
}

/* The risk verdict: severities, confidence, actors, delistings, the table. */
#include "support/testutil.h"

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
    };
    return cmocka_run_group_tests_name("risk", tests, NULL, NULL);
}

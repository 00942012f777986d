/* One reason per fact, and the newest statement of an authority wins
 * (issue 9, item 8).
 *
 * Claims:
 *   - the same OFAC listing from three sources (sdn.xml, a per-asset list, a
 *     TagPack copying OFAC's list) is one reason with three sources;
 *   - when OFAC's newest list delisted an address, an older per-asset list
 *     that still holds it does not keep it severe: the fact is history, with
 *     every source; a newer listing wins over an older delisting, and a tie
 *     is a listing (when in doubt, flag);
 *   - other facts stay apart: another category (a mixer label), another
 *     address (a cluster-mate's label);
 *   - end to end on files written in the real layouts (sdn.xml of 2022 and
 *     2025, the per-asset list of 2024-09-27) and on the real fixtures
 *     (Tornado Cash, delisted in March 2025, in the 2024 per-asset lists). */
#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/intel.h"
#include "coinhound/risk.h"

/* Tornado Cash, on OFAC's 2022 list */
#define TORNADO "0x8589427373d6d84e98730d7795d8f6f8731fda16"

static ch_attribution attr(const char *addr, const char *source, const char *url,
                           const char *category, const char *date) {
    ch_attribution a;
    memset(&a, 0, sizeof a);
    snprintf(a.address, sizeof a.address, "%s", addr);
    snprintf(a.asset, sizeof a.asset, "ETH");
    snprintf(a.entity, sizeof a.entity, "TORNADO CASH");
    snprintf(a.category, sizeof a.category, "%s", category);
    snprintf(a.source_name, sizeof a.source_name, "%s", source);
    snprintf(a.source_url, sizeof a.source_url, "%s", url);
    snprintf(a.source_date, sizeof a.source_date, "%s", date);
    snprintf(a.first_listed, sizeof a.first_listed, "%s", date);
    snprintf(a.last_listed, sizeof a.last_listed, "%s", date);
    a.confidence = 100;
    return a;
}

static void delist(ch_attribution *a, const char *date) {
    a->delisted = true;
    snprintf(a->delisted_date, sizeof a->delisted_date, "%s", date);
}

static void test_three_sources_one_reason(void **state) {
    (void)state;
    ch_attribution v[3] = {
        attr(TORNADO, "OFAC SDN", "https://www.treasury.gov/ofac/downloads/sdn.xml", "sanctions",
             "2022-08-08"),
        attr(TORNADO, "OFAC SDN (per-asset lists)", "", "sanctions", "2024-09-27"),
        attr(TORNADO, "GraphSense TagPack ofac",
             "https://www.treasury.gov/ofac/downloads/sdnlist.txt", "sanctioned", "2024-02-26"),
    };
    ch_risk_table t;
    ch_risk_table_default(&t);
    ch_risk_reason r[3];
    ch_risk_verdict out;
    ch_risk_assess(&t, v, 3, r, &out);
    assert_int_equal(out.n_reasons, 1);
    assert_int_equal(out.n_current, 1);
    assert_int_equal(out.level, CH_RISK_SEVERE);
    assert_int_equal(r[0].n_sources, 3);
    /* newest statement first, and it speaks for the fact */
    assert_string_equal(r[0].sources[0]->source_name, "OFAC SDN (per-asset lists)");
    assert_ptr_equal(r[0].attr, &v[1]);
    char auth[64];
    ch_risk_authority(&v[2], auth, sizeof auth);
    assert_string_equal(auth, "OFAC");
}

static void test_newest_statement_of_the_authority_wins(void **state) {
    (void)state;
    ch_risk_table t;
    ch_risk_table_default(&t);
    ch_risk_reason r[2];
    ch_risk_verdict out;
    /* OFAC's list of 2025-03-21 no longer holds it; the 2024 list did */
    ch_attribution v[2] = {
        attr(TORNADO, "OFAC SDN (per-asset lists)", "", "sanctions", "2024-09-27"),
        attr(TORNADO, "OFAC SDN", "https://www.treasury.gov/ofac/downloads/sdn.xml", "sanctions",
             "2022-08-08"),
    };
    delist(&v[1], "2025-03-21");
    ch_risk_assess(&t, v, 2, r, &out);
    assert_int_equal(out.n_reasons, 1);
    assert_int_equal(out.n_current, 0);
    assert_int_equal(out.level, CH_RISK_NONE);
    assert_false(r[0].current);
    assert_ptr_equal(r[0].attr, &v[1]);  /* reported as delisted ... */
    assert_int_equal(r[0].n_sources, 2); /* ... with its history */

    /* a per-asset list newer than the delisting: listed again */
    snprintf(v[0].source_date, sizeof v[0].source_date, "2025-06-01");
    ch_risk_assess(&t, v, 2, r, &out);
    assert_int_equal(out.n_current, 1);
    assert_int_equal(out.level, CH_RISK_SEVERE);
    /* the same day: a listing (when in doubt, flag) */
    snprintf(v[0].source_date, sizeof v[0].source_date, "2025-03-21");
    ch_risk_assess(&t, v, 2, r, &out);
    assert_int_equal(out.level, CH_RISK_SEVERE);
    /* an undated listing loses to a dated delisting */
    v[0].source_date[0] = '\0';
    ch_risk_assess(&t, v, 2, r, &out);
    assert_int_equal(out.level, CH_RISK_NONE);
}

static void test_other_facts_stay_apart(void **state) {
    (void)state;
    ch_risk_table t;
    ch_risk_table_default(&t);
    ch_risk_reason r[4];
    ch_risk_verdict out;
    ch_attribution v[4] = {
        attr(TORNADO, "OFAC SDN", "https://www.treasury.gov/ofac/downloads/sdn.xml", "sanctions",
             "2022-08-08"),
        attr(TORNADO, "GraphSense TagPack tornado_cash", "", "mixer", "2022-08-08"),
        attr("0x722122df12d4e14e13ac3b6895a86e84145b6967", "OFAC SDN",
             "https://www.treasury.gov/ofac/downloads/sdn.xml", "sanctions", "2022-08-08"),
        attr(TORNADO, "analyst list", "", "sanctions", "2023-01-01"),
    };
    ch_risk_assess(&t, v, 4, r, &out);
    assert_int_equal(out.n_reasons, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(r[i].n_sources, 1);
    /* letter case of an EVM key does not split a fact */
    snprintf(v[2].address, sizeof v[2].address, "%s", "0x8589427373D6D84E98730D7795D8F6F8731FDA16");
    ch_risk_assess(&t, v, 4, r, &out);
    assert_int_equal(out.n_reasons, 3);
}

/* ---- end to end ---- */

static void write(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void write_sdn(const char *path, const char *date, bool with_tornado) {
    char text[4096];
    snprintf(text, sizeof text,
             "<?xml version=\"1.0\" standalone=\"yes\"?>\n<sdnList>\n  <publshInformation>\n    "
             "<Publish_Date>%s</Publish_Date>\n  </publshInformation>\n  <sdnEntry>\n    "
             "<uid>90001</uid>\n    <lastName>LAZARUS GROUP</lastName>\n    "
             "<sdnType>Entity</sdnType>\n    <programList>\n      <program>DPRK3</program>\n    "
             "</programList>\n    <idList>\n      <id>\n        <uid>91001</uid>\n        "
             "<idType>Digital Currency Address - ETH</idType>\n        "
             "<idNumber>0x098B716B8Aaf21512996dC57EB0615e2383E2f96</idNumber>\n      </id>\n    "
             "</idList>\n  </sdnEntry>\n%s</sdnList>\n",
             date,
             with_tornado ? "  <sdnEntry>\n    <uid>40001</uid>\n    <lastName>TORNADO "
                            "CASH</lastName>\n    <sdnType>Entity</sdnType>\n    <programList>\n "
                            "     <program>CYBER2</program>\n    </programList>\n    <idList>\n "
                            "     <id>\n        <uid>41001</uid>\n        <idType>Digital "
                            "Currency Address - ETH</idType>\n        "
                            "<idNumber>0x8589427373D6D84E98730D7795D8F6F8731FDA16</idNumber>\n "
                            "     </id>\n    </idList>\n  </sdnEntry>\n"
                          : "");
    write(path, text);
}

static char *run(const char *fmt, const char *a, const char *b, const char *c, int *status) {
    char cmd[16384];
    snprintf(cmd, sizeof cmd, fmt, tu_bin("coinhound"), a, b, c);
    return tu_run(cmd, status);
}

static void test_delisted_by_newest_list_screens_as_history(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), p2022[4200], p2025[4200], lists[4200], txt[4300];
    snprintf(p2022, sizeof p2022, "%s/sdn-2022.xml", dir);
    snprintf(p2025, sizeof p2025, "%s/sdn-2025.xml", dir);
    snprintf(lists, sizeof lists, "%s/lists", dir);
    write_sdn(p2022, "08/08/2022", true);
    write_sdn(p2025, "03/21/2025", false);
    int status;
    char mk[4300];
    snprintf(mk, sizeof mk, "mkdir -p %s", lists);
    assert_int_equal(system(mk), 0);
    char *out;
    snprintf(txt, sizeof txt, "%s/sanctioned_addresses_ETH.txt", lists);
    write(txt, "0x8589427373D6D84E98730D7795D8F6F8731FDA16\n"
               "0x098B716B8Aaf21512996dC57EB0615e2383E2f96\n");
    out = run("%s intel import %s %s --db %s/db", p2022, p2025, dir, &status);
    assert_int_equal(status, 0);
    free(out);
    out = run("%s intel import %s --as-of 2024-09-27 --db %s/db%s", lists, dir, "", &status);
    assert_int_equal(status, 0);
    free(out);
    out = run("%s screen %s --db %s/db --json%s", TORNADO, dir, "", &status);
    /* risk none (exit 0), one reason in the history with both sources */
    if (status != 0 || !strstr(out, "\"risk\":\"none\"") || !strstr(out, "\"reasons\":[]") ||
        !strstr(out, "\"delisted_date\":\"2025-03-21\"") ||
        !strstr(out, "\"source\":\"OFAC SDN (per-asset lists)\""))
        fail_msg("exit %d: %s", status, out);
    free(out);
    /* the Ronin exploiter: one sanctions reason from its three sources */
    out = run("%s screen %s --db %s/db --json%s", "0x098B716B8Aaf21512996dC57EB0615e2383E2f96", dir,
              "", &status);
    assert_int_equal(status, 1);
    const char *p = strstr(out, "\"reasons\":[");
    assert_non_null(p);
    int sanctions = 0;
    for (const char *q = p; (q = strstr(q, "\"category\":\"sanctions\"")) != NULL; q++)
        sanctions++;
    if (sanctions != 1 || !strstr(out, "\"source\":\"OFAC SDN (built-in seed)\""))
        fail_msg("%s", out);
    free(out);
    tu_rmrf(dir);
    free(dir);
}

/* The real fixtures: the 2024-09-27 per-asset lists hold Tornado Cash's
 * addresses, the 2026-08-20 SDN rows mark them delisted (March 2025). */
static void test_real_tornado_is_history(void **state) {
    (void)state;
    const char *p = tu_fixture("intel/ofac-lists");
    if (!p) skip();
    char lists[4096], dprk[4096];
    snprintf(lists, sizeof lists, "%s", p);
    p = tu_fixture("intel/dprk-attributions");
    if (!p) skip();
    snprintf(dprk, sizeof dprk, "%s", p);
    char *dir = tu_tmpdir();
    int status;
    char *out = run("%s intel import %s --as-of 2024-09-27 --db %s >/dev/null 2>&1", lists, dir, "",
                    &status);
    assert_int_equal(status, 0);
    free(out);
    out = run("%s intel import %s --db %s%s >/dev/null 2>&1", dprk, dir, "", &status);
    assert_int_equal(status, 0);
    free(out);
    out = run("%s screen %s --db %s%s", "0x03893a7c7463ae47d46bc7f091665f1893656003", dir, "",
              &status);
    if (status != 0 || !strstr(out, "risk none") || !strstr(out, "history:") ||
        !strstr(out, "also: OFAC SDN (per-asset lists), 2024-09-27"))
        fail_msg("exit %d: %s", status, out);
    free(out);
    tu_rmrf(dir);
    free(dir);
}

/* The fold works out each attribution's fact once and finds its reason by
 * the fact's hash: with a few attributions (kept on the stack) and with
 * many (malloc'd), the reasons are the facts the test built them from. Six
 * addresses (one written in two letter cases), two categories ("sanctions"
 * and its synonym "Sanctioned" as one; "mixer"), two authorities (OFAC by
 * its URL or its name, and a TagPack), dealt round so that every fact
 * recurs. */
static void test_many_attributions_fold_into_their_facts(void **state) {
    (void)state;
    enum { N = 72, ADDRS = 6 };
    static const char *addrs[ADDRS] = {TORNADO,
                                       "0x1111111111111111111111111111111111111111",
                                       "0x2222222222222222222222222222222222222222",
                                       "bc1qaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                                       "bc1qbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                                       "0x3333333333333333333333333333333333333333"};
    ch_attribution *v = calloc(N, sizeof *v);
    ch_risk_reason *r = calloc(N, sizeof *r);
    int fact[N]; /* the fact each was built as: address x category x authority */
    assert_non_null(v);
    assert_non_null(r);
    for (int i = 0; i < N; i++) {
        int ad = i % ADDRS, cat = (i / ADDRS) % 2, auth = (i / (2 * ADDRS)) % 2;
        char addr[64];
        snprintf(addr, sizeof addr, "%s", addrs[ad]);
        if (ad == 0 && (i / 24) % 2 == 0) /* the same address in capitals */
            for (char *p = addr + 2; *p; p++)
                if (*p >= 'a' && *p <= 'f') *p = (char)(*p - 'a' + 'A');
        const char *category = cat ? "mixer" : i % 3 ? "sanctions" : "Sanctioned";
        const char *source = auth ? "TagPack analysts" : i % 5 ? "OFAC SDN" : "sdn list mirror";
        const char *url = auth ? "" : "https://www.treasury.gov/ofac/downloads/sdn.xml";
        if (cat) /* a mixer label is OFAC's fact only as a sanctions listing */
            source = auth ? "TagPack analysts" : "OFAC SDN";
        v[i] = attr(addr, source, url, category, i % 2 ? "2024-01-01" : "2023-01-01");
        fact[i] = (ad * 2 + cat) * 2 + auth;
    }
    for (int rounds = 0; rounds < 2; rounds++) {
        int n = rounds ? N : 20; /* 20 facts, then 24: past the 16 kept */
        int want_sources[ADDRS * 4] = {0}, want_reasons = 0;
        for (int i = 0; i < n; i++)
            if (want_sources[fact[i]]++ == 0) want_reasons++;
        ch_risk_table t;
        ch_risk_table_default(&t);
        ch_risk_verdict out;
        ch_risk_assess(&t, v, (size_t)n, r, &out);
        assert_int_equal(out.n_reasons, want_reasons);
        for (size_t k = 0; k < out.n_reasons; k++) {
            /* every source of a reason is of one built fact, and all of it */
            int f = fact[r[k].sources[0] - v];
            uint32_t shown =
                r[k].n_sources < CH_RISK_MAX_SOURCES ? r[k].n_sources : CH_RISK_MAX_SOURCES;
            for (uint32_t s = 0; s < shown; s++)
                assert_int_equal(fact[r[k].sources[s] - v], f);
            assert_int_equal(r[k].n_sources, want_sources[f]);
        }
    }
    free(v);
    free(r);
}

/* A large cluster's verdict: hundreds of facts, each stated twice (the
 * second time far from the first), fold into one reason each, their
 * sources the two statements of their own address. */
static void test_hundreds_of_facts(void **state) {
    (void)state;
    enum { FACTS = 300 };
    ch_attribution *v = calloc(2 * FACTS, sizeof *v);
    ch_risk_reason *r = calloc(2 * FACTS, sizeof *r);
    assert_non_null(v);
    assert_non_null(r);
    for (int i = 0; i < 2 * FACTS; i++) {
        char addr[64];
        snprintf(addr, sizeof addr, "0x%040d", i % FACTS);
        v[i] = attr(addr, i < FACTS ? "OFAC SDN" : "GraphSense TagPack ofac",
                    "https://www.treasury.gov/ofac/downloads/sdn.xml", "sanctions",
                    i < FACTS ? "2022-08-08" : "2024-02-26");
    }
    ch_risk_table t;
    ch_risk_table_default(&t);
    ch_risk_verdict out;
    ch_risk_assess(&t, v, 2 * FACTS, r, &out);
    assert_int_equal(out.n_reasons, FACTS);
    assert_int_equal(out.n_current, FACTS);
    assert_int_equal(out.level, CH_RISK_SEVERE);
    for (size_t k = 0; k < out.n_reasons; k++) {
        assert_int_equal(r[k].n_sources, 2);
        assert_string_equal(r[k].sources[0]->address, r[k].sources[1]->address);
        assert_true(r[k].sources[0] != r[k].sources[1]);
    }
    free(v);
    free(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_sources_one_reason),
        cmocka_unit_test(test_newest_statement_of_the_authority_wins),
        cmocka_unit_test(test_other_facts_stay_apart),
        cmocka_unit_test(test_delisted_by_newest_list_screens_as_history),
        cmocka_unit_test(test_real_tornado_is_history),
        cmocka_unit_test(test_many_attributions_fold_into_their_facts),
        cmocka_unit_test(test_hundreds_of_facts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* One identity per OFAC listing, whatever the format (issue 9, item 4).
 *
 * Claims: an OFAC attribution's key is the SDN entry's uid (ent_num in
 * sdn.csv, uid in sdn.xml, the Profile ID in sdn_advanced.xml), not its
 * name: sdn.csv writes "SEMENOV, Roman", sdn.xml "Roman SEMENOV", and a
 * renamed entry ("SUEX OTC, S.R.O." -> "SUEX OTC") is the same entry. So one
 * day's list read as CSV, then as XML, then as advanced XML records no
 * delisting and keeps the first-listed date; a delisting is recorded only
 * when an address leaves the list (not when it moves to another entry).
 * The three files are written here, in each format's real layout, from one
 * table of entries; the addresses are real OFAC-listed ones (they validate). */
#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/intel.h"

#define SEMENOV_ETH "0x04DBA1194ee10112fE6C3207C0687DEf0e78baCf"
#define SUEX_BTC1   "12HQDsicffSBaYdJ6BhnE22sfjTESmmzKx"
#define SUEX_BTC2   "1295rkVyNfFpqZpXvKGhDqwhP1jZcNNDMV"
#define SUEX_ETH    "0x0931cA4D13BB4ba75D9B7132AB690265D749a5E7"

typedef struct entry {
    const char *uid, *first, *last, *type, *program;
    const char *asset[3], *addr[3];
} entry;

/* The list of 2026-08-20 ... */
static const entry DAY1[] = {
    {"44205", "Roman", "SEMENOV", "Individual", "CYBER2", {"ETH"}, {SEMENOV_ETH}},
    {"31633",
     "",
     "SUEX OTC, S.R.O.",
     "Entity",
     "CYBER2",
     {"XBT", "XBT", "ETH"},
     {SUEX_BTC1, SUEX_BTC2, SUEX_ETH}},
};
/* ... and of 2026-08-27: SUEX renamed, one of its addresses gone, another
 * moved to a new entry (uid 50001). */
static const entry DAY2[] = {
    {"44205", "Roman", "SEMENOV", "Individual", "CYBER2", {"ETH"}, {SEMENOV_ETH}},
    {"31633", "", "SUEX OTC", "Entity", "CYBER2", {"XBT"}, {SUEX_BTC1}},
    {"50001", "", "SUEX SUCCESSOR LLC", "Entity", "CYBER2", {"ETH"}, {SUEX_ETH}},
};

static void write_csv(const char *path, const entry *e, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++) {
        char name[160], rem[1000] = "";
        if (e[i].first[0])
            snprintf(name, sizeof name, "%s, %s", e[i].last, e[i].first);
        else
            snprintf(name, sizeof name, "%s", e[i].last);
        for (int k = 0; k < 3 && e[i].addr[k]; k++) {
            size_t l = strlen(rem);
            snprintf(rem + l, sizeof rem - l, "%sDigital Currency Address - %s %s; ",
                     k ? "alt. " : "", e[i].asset[k], e[i].addr[k]);
        }
        strcat(rem, "Secondary sanctions risk: section 1(b) of Executive Order 13224.");
        fprintf(f, "%s,\"%s\",%s,\"%s\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"%s\"\r\n", e[i].uid,
                name, !strcmp(e[i].type, "Individual") ? "\"individual\"" : "-0- ", e[i].program,
                rem);
    }
    fputs("\x1a", f);
    fclose(f);
}

static void write_xml(const char *path, const char *date, const entry *e, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fprintf(f, "<?xml version=\"1.0\" standalone=\"yes\"?>\n<sdnList "
               "xmlns=\"https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/"
               "exports/XML\">\n");
    fprintf(f,
            "  <publshInformation>\n    <Publish_Date>%s</Publish_Date>\n    "
            "<Record_Count>%zu</Record_Count>\n  </publshInformation>\n",
            date, n);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "  <sdnEntry>\n    <uid>%s</uid>\n", e[i].uid);
        if (e[i].first[0]) fprintf(f, "    <firstName>%s</firstName>\n", e[i].first);
        fprintf(f, "    <lastName>%s</lastName>\n    <sdnType>%s</sdnType>\n", e[i].last,
                e[i].type);
        fprintf(f,
                "    <programList>\n      <program>%s</program>\n    </programList>\n    "
                "<idList>\n",
                e[i].program);
        for (int k = 0; k < 3 && e[i].addr[k]; k++)
            fprintf(f,
                    "      <id>\n        <uid>%d</uid>\n        <idType>Digital Currency "
                    "Address - %s</idType>\n        <idNumber>%s</idNumber>\n      </id>\n",
                    70000 + (int)i * 10 + k, e[i].asset[k], e[i].addr[k]);
        fprintf(f, "    </idList>\n  </sdnEntry>\n");
    }
    fprintf(f, "</sdnList>\n");
    fclose(f);
}

static void write_advanced(const char *path, int y, int m, int d, const entry *e, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fprintf(f, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Sanctions "
               "xmlns=\"https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/"
               "exports/ADVANCED_XML\">\n");
    fprintf(f,
            "  <DateOfIssue>\n    <Year>%d</Year>\n    <Month>%d</Month>\n    <Day>%d</Day>\n "
            " </DateOfIssue>\n",
            y, m, d);
    fprintf(f, "  <ReferenceValueSets>\n    <FeatureTypeValues>\n      <FeatureType ID=\"344\" "
               "FeatureTypeGroupID=\"7\">Digital Currency Address - XBT</FeatureType>\n      "
               "<FeatureType ID=\"345\" FeatureTypeGroupID=\"7\">Digital Currency Address - "
               "ETH</FeatureType>\n    </FeatureTypeValues>\n  </ReferenceValueSets>\n  "
               "<DistinctParties>\n");
    for (size_t i = 0; i < n; i++) {
        fprintf(f,
                "    <DistinctParty FixedRef=\"%s\">\n      <Comment />\n      <Profile "
                "ID=\"%s\" PartySubTypeID=\"4\">\n        <Identity ID=\"%zu\" FixedRef=\"%s\" "
                "Primary=\"true\" False=\"false\">\n          <Alias FixedRef=\"%s\" "
                "AliasTypeID=\"1403\" Primary=\"true\" LowQuality=\"false\">\n            "
                "<DocumentedName ID=\"%zu\" FixedRef=\"%s\" DocNameStatusID=\"1\">\n",
                e[i].uid, e[i].uid, i + 1, e[i].uid, e[i].uid, i + 1, e[i].uid);
        if (e[i].first[0])
            fprintf(f,
                    "              <DocumentedNamePart>\n                <NamePartValue "
                    "NamePartGroupID=\"1\" ScriptID=\"215\">%s</NamePartValue>\n        "
                    "      </DocumentedNamePart>\n",
                    e[i].first);
        fprintf(f,
                "              <DocumentedNamePart>\n                <NamePartValue "
                "NamePartGroupID=\"2\" ScriptID=\"215\">%s</NamePartValue>\n              "
                "</DocumentedNamePart>\n            </DocumentedName>\n          </Alias>\n    "
                "    </Identity>\n",
                e[i].last);
        for (int k = 0; k < 3 && e[i].addr[k]; k++)
            fprintf(f,
                    "        <Feature ID=\"%d\" FeatureTypeID=\"%s\">\n          <FeatureVersion "
                    "ID=\"%d\" ReliabilityID=\"1\">\n            <Comment />\n            "
                    "<VersionDetail DetailTypeID=\"1432\">%s</VersionDetail>\n          "
                    "</FeatureVersion>\n        </Feature>\n",
                    800 + (int)i * 10 + k, !strcmp(e[i].asset[k], "XBT") ? "344" : "345",
                    900 + (int)i * 10 + k, e[i].addr[k]);
        fprintf(f, "      </Profile>\n    </DistinctParty>\n");
    }
    fprintf(f, "  </DistinctParties>\n</Sanctions>\n");
    fclose(f);
}

static ch_import_stats import_ok(ch_intel *db, const char *path, const char *as_of) {
    ch_import_opts o = {0};
    o.as_of = as_of;
    ch_import_stats st;
    ch_error err;
    if (ch_intel_import(db, path, &o, &st, &err) < 0) fail_msg("%s", err.msg);
    return st;
}

typedef struct got {
    int n, delisted;
    ch_attribution a;
} got;

static int got_cb(const ch_attribution *a, void *ctx) {
    got *g = ctx;
    if (strcmp(a->source_name, "OFAC SDN") != 0) return 0;
    g->n++;
    g->delisted += a->delisted;
    g->a = *a;
    return 0;
}

static got ofac_of(ch_intel *db, const char *addr) {
    got g = {0};
    char key[128];
    ch_error err;
    assert_int_equal(ch_intel_canonical(addr, NULL, key, &err), 0);
    assert_true(ch_intel_lookup(db, key, got_cb, &g, &err) >= 0);
    return g;
}

static void test_one_day_in_three_formats_is_one_listing(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), csv[4200], xml[4200], adv[4200];
    snprintf(csv, sizeof csv, "%s/sdn.csv", dir);
    snprintf(xml, sizeof xml, "%s/sdn.xml", dir);
    snprintf(adv, sizeof adv, "%s/sdn_advanced.xml", dir);
    write_csv(csv, DAY1, 2);
    write_xml(xml, "08/20/2026", DAY1, 2);
    write_advanced(adv, 2026, 8, 20, DAY1, 2);
    ch_intel *db;
    ch_error err;
    if (ch_intel_open(dir, true, &db, &err) < 0) fail_msg("%s", err.msg);
    ch_import_stats st = import_ok(db, csv, "2026-08-20");
    assert_int_equal(st.added, 4);
    got s = ofac_of(db, SEMENOV_ETH);
    assert_string_equal(s.a.entity, "Roman SEMENOV");
    assert_string_equal(s.a.source_id, "44205");
    ch_intel_counts c1, c2;
    assert_int_equal(ch_intel_counts_get(db, &c1, &err), 0);
    const char *again[] = {xml, adv, csv};
    for (int i = 0; i < 3; i++) {
        st = import_ok(db, again[i], "2026-08-20");
        assert_int_equal(st.added, 0);
        assert_int_equal(st.updated, 4);
        assert_int_equal(st.delisted, 0);
        assert_int_equal(ch_intel_counts_get(db, &c2, &err), 0);
        assert_memory_equal(&c1, &c2, sizeof c1);
    }
    s = ofac_of(db, SEMENOV_ETH);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.delisted, 0);
    assert_string_equal(s.a.first_listed, "2026-08-20");

    /* a week later, in XML: SUEX renamed (same uid), one address gone, one
     * moved to another entry; only the address that left is delisted */
    write_xml(xml, "08/27/2026", DAY2, 3);
    st = import_ok(db, xml, NULL);
    assert_int_equal(st.delisted, 1);
    got gone = ofac_of(db, SUEX_BTC2);
    assert_int_equal(gone.n, 1);
    assert_int_equal(gone.delisted, 1);
    assert_string_equal(gone.a.delisted_date, "2026-08-27");
    got renamed = ofac_of(db, SUEX_BTC1);
    assert_int_equal(renamed.n, 1);
    assert_int_equal(renamed.delisted, 0);
    assert_string_equal(renamed.a.entity, "SUEX OTC");
    assert_string_equal(renamed.a.first_listed, "2026-08-20");
    assert_string_equal(renamed.a.last_listed, "2026-08-27");
    got moved = ofac_of(db, SUEX_ETH);
    assert_int_equal(moved.n, 1); /* one listing, not a delisted one beside it */
    assert_int_equal(moved.delisted, 0);
    assert_string_equal(moved.a.source_id, "50001");
    assert_string_equal(moved.a.first_listed, "2026-08-20");
    assert_non_null(strstr(moved.a.note, "listed before as SUEX OTC, S.R.O."));
    /* and the same week's list as CSV changes nothing */
    write_csv(csv, DAY2, 3);
    st = import_ok(db, csv, "2026-08-27");
    assert_int_equal(st.added, 0);
    assert_int_equal(st.delisted, 0);
    ch_intel_close(db);
    tu_rmrf(dir);
    free(dir);
}

/* A store written before listings were keyed by uid holds OFAC's listing
 * under its entity's name (here written through the CSV importer, which
 * keys by name): the first uid-keyed import takes it over, keeping its
 * history, rather than adding a second listing beside it. */
static void test_name_keyed_listing_is_taken_over(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), csv[4200], xml[4200];
    snprintf(csv, sizeof csv, "%s/old.csv", dir);
    snprintf(xml, sizeof xml, "%s/sdn.xml", dir);
    FILE *f = fopen(csv, "wb");
    fprintf(f,
            "address,asset,category,entity,source,date\n%s,ETH,sanctions,Roman SEMENOV,OFAC "
            "SDN,2023-08-23\n",
            SEMENOV_ETH);
    fclose(f);
    write_xml(xml, "08/20/2026", DAY1, 1);
    ch_intel *db;
    ch_error err;
    if (ch_intel_open(dir, true, &db, &err) < 0) fail_msg("%s", err.msg);
    import_ok(db, csv, "2023-08-23");
    got before = ofac_of(db, SEMENOV_ETH);
    assert_int_equal(before.n, 1);
    assert_string_equal(before.a.source_id, "");
    ch_import_stats st = import_ok(db, xml, NULL);
    assert_int_equal(st.added, 0);
    assert_int_equal(st.updated, 1);
    assert_int_equal(st.delisted, 0);
    got after = ofac_of(db, SEMENOV_ETH);
    assert_int_equal(after.n, 1);
    assert_int_equal(after.delisted, 0);
    assert_string_equal(after.a.source_id, "44205");
    assert_string_equal(after.a.first_listed, "2023-08-23");
    assert_string_equal(after.a.last_listed, "2026-08-20");
    ch_intel_close(db);
    tu_rmrf(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_day_in_three_formats_is_one_listing),
        cmocka_unit_test(test_name_keyed_listing_is_taken_over),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

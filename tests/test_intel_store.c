/* The attribution store: OFAC per-asset lists, the Ronin exploiter in any
 * letter case, idempotent imports, delisting, the three SDN layouts, and
 * malformed input leaving the store unchanged. */
#include "support/testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/intel.h"

#define RONIN "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"

static ch_intel *open_store(char **dir) {
    *dir = tu_tmpdir();
    assert_non_null(*dir);
    ch_intel *db;
    ch_error err;
    if (ch_intel_open(*dir, true, &db, &err) < 0) fail_msg("%s", err.msg);
    return db;
}

static void close_store(ch_intel *db, char *dir) {
    ch_intel_close(db);
    tu_rmrf(dir);
    free(dir);
}

static int import(ch_intel *db, const char *path, const char *as_of, ch_import_stats *st,
                  ch_error *err) {
    ch_import_opts o = {0};
    o.as_of = as_of;
    return ch_intel_import(db, path, &o, st, err);
}

static void import_ok(ch_intel *db, const char *path, const char *as_of, ch_import_stats *st) {
    ch_error err;
    ch_import_stats local;
    if (import(db, path, as_of, st ? st : &local, &err) < 0) fail_msg("%s", err.msg);
}

/* ---- lookups ---- */

typedef struct find {
    const char *source; /* substring of source_name, or NULL */
    const char *asset;  /* exact, or NULL */
    const char *entity; /* exact, or NULL */
    int found;
    ch_attribution a;
} find;

#define FIND(s_, a_, e_) ((find){.source = (s_), .asset = (a_), .entity = (e_)})

static int find_cb(const ch_attribution *a, void *ctx) {
    find *f = ctx;
    if (f->source && !strstr(a->source_name, f->source)) return 0;
    if (f->asset && strcmp(a->asset, f->asset) != 0) return 0;
    if (f->entity && strcmp(a->entity, f->entity) != 0) return 0;
    f->found++;
    f->a = *a;
    return 0;
}

static int lookup(ch_intel *db, const char *addr, const char *asset, find *f) {
    char key[128];
    ch_error err;
    if (ch_intel_canonical(addr, asset, key, &err) < 0) snprintf(key, sizeof key, "%s", addr);
    return ch_intel_lookup(db, key, find_cb, f, &err);
}

static int count_source(const ch_attribution *a, void *ctx) {
    find *f = ctx;
    if (!strcmp(a->source_name, f->source)) f->found++;
    return 0;
}

/* Every address of every fixture list is in the store under its asset. */
static void test_ofac_lists_every_address(void **state) {
    (void)state;
    const char *dir = tu_fixture("intel/ofac-lists");
    if (!dir) skip();
    char lists[4096];
    snprintf(lists, sizeof lists, "%s", dir);
    char *tmp;
    ch_intel *db = open_store(&tmp);
    ch_import_stats st;
    import_ok(db, lists, "2024-09-27", &st);
    /* 654 = the sum of the 17 JSON arrays' lengths (counted with python) */
    assert_int_equal(st.addresses, 654);
    assert_int_equal(st.added, 654);
    assert_int_equal(st.rejected, 0);
    assert_int_equal(st.files, 17);
    static const char *ASSETS[] = {"ARB", "BCH",  "BSC",  "BSV", "BTG", "DASH", "ETC", "ETH", "LTC",
                                   "TRX", "USDC", "USDT", "XBT", "XMR", "XRP",  "XVG", "ZEC"};
    size_t total = 0;
    for (size_t i = 0; i < sizeof ASSETS / sizeof ASSETS[0]; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/sanctioned_addresses_%s.json", lists, ASSETS[i]);
        json_t *arr = json_load_file(path, 0, NULL);
        assert_non_null(arr);
        size_t j;
        json_t *v;
        json_array_foreach(arr, j, v) {
            find f = FIND("OFAC SDN (per-asset lists)", ASSETS[i], NULL);
            lookup(db, json_string_value(v), ASSETS[i], &f);
            if (f.found != 1)
                fail_msg("%s %s not found under its asset", ASSETS[i], json_string_value(v));
            assert_string_equal(f.a.category, "sanctions");
            assert_string_equal(f.a.last_listed, "2024-09-27");
            total++;
        }
        json_decref(arr);
    }
    assert_int_equal(total, 654);
    find all = FIND("OFAC SDN (per-asset lists)", NULL, NULL);
    ch_error err;
    assert_true(ch_intel_foreach(db, count_source, &all, &err) >= 654);
    assert_int_equal(all.found, 654);
    close_store(db, tmp);
}

/* The Ronin exploiter: Lazarus Group / DPRK with its OFAC source, whatever
 * the letter case of the query. */
static void test_ronin_any_case(void **state) {
    (void)state;
    char *tmp;
    ch_intel *db = open_store(&tmp); /* the built-in seed is enough */
    const char *forms[] = {RONIN, "0x098b716b8aaf21512996dc57eb0615e2383e2f96",
                           "0x098B716B8AAF21512996DC57EB0615E2383E2F96"};
    for (int i = 0; i < 3; i++) {
        char key[128];
        ch_error err;
        assert_int_equal(ch_intel_canonical(forms[i], NULL, key, &err), 0);
        assert_string_equal(key, "0x098b716b8aaf21512996dc57eb0615e2383e2f96");
        find f = FIND("OFAC", NULL, NULL);
        assert_true(ch_intel_lookup(db, key, find_cb, &f, &err) >= 1);
        assert_int_equal(f.found, 1);
        assert_string_equal(f.a.actor, "Lazarus Group");
        assert_string_equal(f.a.actor_country, "DPRK");
        assert_string_equal(f.a.entity, "LAZARUS GROUP");
        assert_string_equal(f.a.source_date, "2022-04-14");
        assert_string_equal(f.a.category, "sanctions");
    }
    /* one changed character of the checksummed form: invalid, not unknown */
    char key[128];
    ch_error err;
    assert_int_equal(
        ch_intel_canonical("0x098B716B8Aaf21512996dC57EB0615e2383E2f97", NULL, key, &err), -1);
    assert_non_null(strstr(err.msg, "checksum"));
    close_store(db, tmp);
}

static void counts(ch_intel *db, ch_intel_counts *c) {
    ch_error err;
    assert_int_equal(ch_intel_counts_get(db, c, &err), 0);
}

static void test_idempotent_reimport(void **state) {
    (void)state;
    const char *p = tu_fixture("intel/ofac-lists");
    if (!p) skip();
    char lists[4096];
    snprintf(lists, sizeof lists, "%s", p);
    char *tmp;
    ch_intel *db = open_store(&tmp);
    ch_import_stats st;
    import_ok(db, lists, "2024-09-27", &st);
    ch_intel_counts a, b;
    counts(db, &a);
    import_ok(db, lists, "2024-09-27", &st);
    assert_int_equal(st.added, 0);
    assert_int_equal(st.updated, 654);
    assert_int_equal(st.delisted, 0);
    counts(db, &b);
    assert_memory_equal(&a, &b, sizeof a);
    /* a later snapshot of the same list only moves last_listed */
    import_ok(db, lists, "2024-10-01", &st);
    assert_int_equal(st.added, 0);
    assert_int_equal(st.delisted, 0);
    counts(db, &b);
    assert_memory_equal(&a, &b, sizeof a);
    find f = FIND("per-asset", "ETH", NULL);
    lookup(db, RONIN, "ETH", &f);
    assert_string_equal(f.a.first_listed, "2024-09-27");
    assert_string_equal(f.a.last_listed, "2024-10-01");
    close_store(db, tmp);
}

static const char *data(const char *name) {
    static char path[512];
    snprintf(path, sizeof path, "tests/data/intel/%s", name);
    return path;
}

/* sdn_2023.xml no longer lists 0x1111... for LAZARUS GROUP. */
static void test_delisting(void **state) {
    (void)state;
    char *tmp;
    ch_intel *db = open_store(&tmp);
    ch_import_stats st;
    import_ok(db, data("sdn_2022.xml"), NULL, &st);
    assert_int_equal(st.addresses, 3);
    assert_int_equal(st.added, 3);
    import_ok(db, data("sdn_2023.xml"), NULL, &st);
    assert_int_equal(st.added, 1);   /* 147Us... */
    assert_int_equal(st.updated, 2); /* Ronin, 12ZEw... */
    assert_int_equal(st.delisted, 1);
    find f = FIND("OFAC SDN", "ETH", "LAZARUS GROUP");
    lookup(db, "0x1111111111111111111111111111111111111111", NULL, &f);
    f.found = 0;
    f.source = NULL;
    lookup(db, "0x1111111111111111111111111111111111111111", NULL, &f);
    assert_int_equal(f.found, 1); /* kept as history */
    assert_true(f.a.delisted);
    assert_string_equal(f.a.delisted_date, "2023-01-10");
    assert_string_equal(f.a.first_listed, "2022-04-14");
    assert_string_equal(f.a.last_listed, "2022-04-14");
    /* the Ronin exploiter stays listed, with both dates */
    find r = FIND("OFAC SDN", "ETH", "LAZARUS GROUP");
    r.source = "OFAC SDN";
    lookup(db, RONIN, NULL, &r);
    assert_int_equal(r.found, 2); /* the list and the built-in seed */
    /* an older list seen again relists nothing */
    import_ok(db, data("sdn_2022.xml"), NULL, &st);
    assert_int_equal(st.delisted, 0);
    find g = FIND(NULL, "ETH", "LAZARUS GROUP");
    g.source = "OFAC SDN";
    lookup(db, "0x1111111111111111111111111111111111111111", NULL, &g);
    assert_true(g.a.delisted);
    close_store(db, tmp);
}

static void test_sdn_layouts(void **state) {
    (void)state;
    char *tmp;
    ch_intel *db = open_store(&tmp);
    ch_import_stats st;
    import_ok(db, data("sdn_advanced.xml"), NULL, &st);
    assert_int_equal(st.addresses, 2); /* the email feature is not an address */
    find f = FIND("OFAC SDN", "ETH", "LAZARUS GROUP");
    lookup(db, RONIN, NULL, &f);
    assert_int_equal(f.found, 2); /* sdn_advanced and the seed */
    find adv = FIND(NULL, "XBT", "Test PERSON");
    lookup(db, "12ZEw5Hcv1hTb6YUQJ69y1V7uhcoDz92PH", NULL, &adv);
    assert_int_equal(adv.found, 1);
    assert_string_equal(adv.a.source_date, "2022-04-14");
    assert_string_equal(adv.a.source_name, "OFAC SDN");
    /* sdn.csv: addresses inside the remarks, as of the import's date */
    import_ok(db, data("sdn.csv"), "2024-01-01", &st);
    assert_int_equal(st.addresses, 3);
    find c = FIND(NULL, "ETH", "LAZARUS GROUP");
    c.source = "OFAC SDN";
    lookup(db, "0x1111111111111111111111111111111111111111", NULL, &c);
    assert_int_equal(c.found, 1);
    assert_string_equal(c.a.actor, "Lazarus Group");
    assert_string_equal(c.a.last_listed, "2024-01-01");
    close_store(db, tmp);
}

/* ---- malformed input ---- */

static uint8_t *store_bytes(const char *dir, size_t *len) {
    char p[4096];
    snprintf(p, sizeof p, "%s/intel/data.mdb", dir);
    return tu_read_file(p, len);
}

static void check_bad(ch_intel *db, const char *dir, const char *file, const char *want) {
    size_t l1, l2;
    uint8_t *before = store_bytes(dir, &l1);
    ch_intel_counts c1, c2;
    counts(db, &c1);
    find f1 = FIND(NULL, NULL, NULL), f2 = FIND(NULL, NULL, NULL);
    lookup(db, "0x1111111111111111111111111111111111111111", NULL, &f1);
    ch_error err;
    ch_import_stats st;
    assert_int_equal(import(db, data(file), NULL, &st, &err), -1);
    if (!strstr(err.msg, file) || !strstr(err.msg, want))
        fail_msg("%s: message '%s' lacks '%s'", file, err.msg, want);
    uint8_t *after = store_bytes(dir, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(before, after, l1);
    counts(db, &c2);
    assert_memory_equal(&c1, &c2, sizeof c1);
    lookup(db, "0x1111111111111111111111111111111111111111", NULL, &f2);
    assert_int_equal(f1.found, f2.found);
    free(before);
    free(after);
}

static void test_malformed_leaves_store_unchanged(void **state) {
    (void)state;
    char *tmp;
    ch_intel *db = open_store(&tmp);
    import_ok(db, data("sdn_2022.xml"), NULL, NULL);
    check_bad(db, tmp, "bad_sdn.xml", "line 51");
    check_bad(db, tmp, "bad.csv", "line 5: unterminated quoted field (opened on line 3)");
    check_bad(db, tmp, "bad.yaml", "line 8, column 4");
    check_bad(db, tmp, "bad.json", "line 5");
    /* a good file then a bad one in the same transaction: neither is kept */
    ch_import_opts o = {0};
    ch_import *im;
    ch_error err;
    ch_intel_counts c1, c2;
    counts(db, &c1);
    assert_int_equal(ch_intel_import_begin(db, &o, &im, &err), 0);
    assert_int_equal(ch_intel_import_path(im, data("list.csv"), NULL, &err), 0);
    assert_int_equal(ch_intel_import_path(im, data("bad.csv"), NULL, &err), -1);
    ch_intel_import_abort(im);
    counts(db, &c2);
    assert_memory_equal(&c1, &c2, sizeof c1);
    close_store(db, tmp);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ofac_lists_every_address),
        cmocka_unit_test(test_ronin_any_case),
        cmocka_unit_test(test_idempotent_reimport),
        cmocka_unit_test(test_delisting),
        cmocka_unit_test(test_sdn_layouts),
        cmocka_unit_test(test_malformed_leaves_store_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

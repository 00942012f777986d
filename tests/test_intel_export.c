/* Export STIX / MISP, import into a fresh store: the same attributions. */
#include "support/testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/intel.h"

typedef struct lines {
    char **v;
    size_t n, cap;
} lines;

/* Every field of an attribution on one line. */
static int collect(const ch_attribution *a, void *ctx) {
    lines *l = ctx;
    char buf[2048];
    snprintf(buf, sizeof buf, "%s|%s|%s|%s|%s|%s|%s|%s|%s|%u|%s|%s|%d|%s|%s", a->address, a->asset,
             a->entity, a->actor, a->actor_country, a->category, a->source_name, a->source_url,
             a->source_date, a->confidence, a->first_listed, a->last_listed, a->delisted,
             a->delisted_date, a->note);
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 1024;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = strdup(buf);
    return 0;
}

static void free_lines(lines *l) {
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static ch_intel *open_store(const char *dir) {
    ch_intel *db;
    ch_error err;
    if (ch_intel_open(dir, true, &db, &err) < 0) fail_msg("%s", err.msg);
    return db;
}

static void import_ok(ch_intel *db, const char *path, const char *as_of) {
    ch_import_opts o = {0};
    o.as_of = as_of;
    ch_import_stats st;
    ch_error err;
    if (ch_intel_import(db, path, &o, &st, &err) < 0) fail_msg("%s", err.msg);
}

/* A store with OFAC lists, DPRK attributions (victims, delisted rows,
 * verbatim values), a TagPack, hand-made SDN lists with a delisting. */
static bool build_source(ch_intel *db) {
    static const char *REL[] = {"intel/ofac-lists", "intel/dprk-attributions",
                                "intel/tagpacks/lazarus.yaml", "intel/tagpacks/ofac.yaml"};
    for (size_t i = 0; i < sizeof REL / sizeof REL[0]; i++) {
        const char *p = tu_fixture(REL[i]);
        if (!p) return false;
        char path[4096];
        snprintf(path, sizeof path, "%s", p);
        import_ok(db, path, "2025-06-01");
    }
    import_ok(db, "tests/data/intel/sdn_2022.xml", NULL);
    import_ok(db, "tests/data/intel/sdn_2023.xml", NULL);
    import_ok(db, "tests/data/intel/misp_event.json", NULL);
    return true;
}

static void round_trip(ch_intel_format fmt) {
    char *d1 = tu_tmpdir(), *d2 = tu_tmpdir();
    ch_intel *src = open_store(d1);
    if (!build_source(src)) {
        ch_intel_close(src);
        tu_rmrf(d1);
        tu_rmrf(d2);
        free(d1);
        free(d2);
        skip();
    }
    char out[4200];
    snprintf(out, sizeof out, "%s/export.json", d1);
    ch_error err;
    int r = fmt == CH_FMT_STIX ? ch_intel_export_stix(src, out, &err)
                               : ch_intel_export_misp(src, out, &err);
    if (r < 0) fail_msg("%s", err.msg);
    /* the file is what it claims to be */
    json_t *root = json_load_file(out, 0, NULL);
    assert_non_null(root);
    if (fmt == CH_FMT_STIX) {
        assert_string_equal(json_string_value(json_object_get(root, "type")), "bundle");
        json_t *objs = json_object_get(root, "objects");
        size_t i, sets = 0, inds = 0, rels = 0;
        json_t *o;
        json_array_foreach(objs, i, o) {
            const char *t = json_string_value(json_object_get(o, "type"));
            sets += !strcmp(t, "intrusion-set");
            inds += !strcmp(t, "indicator");
            rels += !strcmp(t, "relationship");
        }
        assert_true(sets >= 2); /* Lazarus Group, TraderTraitor at least */
        assert_true(inds > 1000);
        assert_true(rels > 100);
    } else {
        assert_non_null(json_object_get(json_object_get(root, "Event"), "Object"));
    }
    json_decref(root);

    ch_intel *dst = open_store(d2);
    ch_import_opts o = {0};
    o.format = fmt;
    ch_import_stats st;
    if (ch_intel_import(dst, out, &o, &st, &err) < 0) fail_msg("%s", err.msg);
    assert_int_equal(st.rejected, 0);

    lines a = {0}, b = {0};
    assert_true(ch_intel_foreach(src, collect, &a, &err) > 0);
    assert_true(ch_intel_foreach(dst, collect, &b, &err) > 0);
    assert_int_equal(a.n, b.n);
    for (size_t i = 0; i < a.n; i++)
        if (strcmp(a.v[i], b.v[i]) != 0) fail_msg("differs:\n  %s\n  %s", a.v[i], b.v[i]);
    free_lines(&a);
    free_lines(&b);
    ch_intel_close(src);
    ch_intel_close(dst);
    tu_rmrf(d1);
    tu_rmrf(d2);
    free(d1);
    free(d2);
}

static void test_stix_round_trip(void **state) {
    (void)state;
    round_trip(CH_FMT_STIX);
}

static void test_misp_round_trip(void **state) {
    (void)state;
    round_trip(CH_FMT_MISP);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stix_round_trip),
        cmocka_unit_test(test_misp_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

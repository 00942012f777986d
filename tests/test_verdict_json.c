/* A verdict's JSON: the templated writer (ch_verdict_write_json, a screening
 * set's attributions copied from their kept text) gives the general
 * writer's bytes (vj_write_general, field by field), byte for byte, for
 * every shape a verdict takes:
 *   - not judged: invalid (a bad checksum, "", bytes JSON escapes),
 *     unsupported;
 *   - clean, of each family (Base58, Bech32, Taproot, EVM, Bitcoin Cash),
 *     the address as asked differing from its canonical form;
 *   - listed: one reason with one source; one fact stated by many sources
 *     (more than CH_RISK_MAX_SOURCES: the list cut); several reasons, current
 *     and history (a delisting with its date); only history; an actor with
 *     its country (the reason's actor label); a confidence that makes the
 *     score fractional; a note; strings JSON escapes (quotes, backslash,
 *     control bytes, bytes that are no UTF-8) and strings filling their
 *     fields; a match through a key
 *     the source lower-cased (case_insensitive, "match"), beside an exact one;
 *   - with and without an external_id (one with escapes);
 *   - verdicts of the same attributions (the set's one entry list) for
 *     other addresses, exact and lower-cased by their source: a whole
 *     verdict's text kept once, each its own listed_as put in;
 * each verdict written twice (the template made, then reused), one at a
 * time and as one array (the separators between verdicts), screened alone
 * and with ch_screener_screen_many; and a screener of an attribution store
 * (no templates) the same. The templates are checked to be in use. */
#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/intel.h"
#include "coinhound/jsonw.h"
#include "coinhound/screen.h"
#include "coinhound/screener.h"
#include "screen/verdict_tmpl.h"

#define A_BTC    "12ZEw5Hcv1hTb6YUQJ69y1V7uhcoDz92PH"
#define A_BECH   "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
#define A_EVM    "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"
#define A_MANY   "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
#define A_HIST   "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
#define A_FOLDED "1Q1pE5vPGEEMqRcVRMbtBK842Y6Pzo6nK9"
#define A_BCH    "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a"
/* two addresses of the same attributions (one set entry list), and two
 * more whose one source lists them lower-cased */
#define A_TWIN1  "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"
#define A_TWIN2  "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
#define A_FTWIN1 "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
#define A_FTWIN2 "1EHerVka6KKQfQyo7oo9t7tkrvkw7C6A2G"

static char *g_dir;
static char g_set[4200], g_db[4200];

static ch_attribution mk(const char *address, const char *asset, const char *category,
                         const char *entity, const char *source, const char *date,
                         uint8_t confidence) {
    ch_attribution a;
    memset(&a, 0, sizeof a);
    snprintf(a.address, sizeof a.address, "%s", address);
    snprintf(a.asset, sizeof a.asset, "%s", asset);
    snprintf(a.category, sizeof a.category, "%s", category);
    snprintf(a.entity, sizeof a.entity, "%s", entity);
    snprintf(a.source_name, sizeof a.source_name, "%s", source);
    snprintf(a.source_url, sizeof a.source_url, "https://example.org/%s", category);
    snprintf(a.source_date, sizeof a.source_date, "%s", date);
    snprintf(a.first_listed, sizeof a.first_listed, "%s", date);
    snprintf(a.last_listed, sizeof a.last_listed, "%s", date);
    a.confidence = confidence;
    return a;
}

/* The attributions every shape is made of. */
static size_t attributions(ch_attribution *a) {
    size_t n = 0;
    /* one fact, two sources (OFAC's), escapes and a note */
    a[n] = mk(A_BTC, "XBT", "sanctions", "Q \"quoted\" \\ back\x01\x1f tab\t", "OFAC SDN",
              "2023-01-02", 100);
    snprintf(a[n++].note, sizeof a->note, "line\nbreak, latin-1 \xe9, utf-8 \xc3\xa9");
    a[n++] = mk(A_BTC, "XBT", "sanctions", "Q", "OFAC SDN (per-asset lists)", "2024-05-06", 100);
    /* a second reason of another authority, delisted: history */
    a[n] = mk(A_BTC, "XBT", "hacker", "Old Hacker", "A researcher", "2020-01-01", 70);
    a[n].delisted = true;
    snprintf(a[n++].delisted_date, sizeof a->delisted_date, "2021-02-03");
    /* an actor with its country, a fractional score */
    a[n] = mk(A_EVM, "ETH", "stolen_funds", "Ronin bridge exploit", "Some list", "2022-04-14", 33);
    snprintf(a[n].actor, sizeof a->actor, "Lazarus Group");
    snprintf(a[n++].actor_country, sizeof a->actor_country, "DPRK");
    /* strings filling their fields, one ending in a lone UTF-8 lead byte */
    a[n] = mk(A_BECH, "XBT", "mixer", "", "Long list", "2021-03-04", 60);
    memset(a[n].entity, 'e', sizeof a->entity - 1);
    a[n].entity[sizeof a->entity - 2] = '\xc3';
    memset(a[n].note, 'n', sizeof a->note - 1);
    n++;
    /* many sources of one fact: past CH_RISK_MAX_SOURCES */
    for (int i = 0; i < CH_RISK_MAX_SOURCES + 3; i++) {
        char src[64], date[16];
        snprintf(src, sizeof src, "OFAC list %02d", i);
        snprintf(date, sizeof date, "2022-%02d-%02d", 1 + i % 12, 1 + i);
        a[n++] = mk(A_MANY, "XBT", "sanctions", "Many", src, date, 100);
    }
    /* only history */
    a[n] = mk(A_HIST, "XBT", "scam", "Gone", "Scam list", "2019-01-01", 80);
    a[n].delisted = true;
    snprintf(a[n++].delisted_date, sizeof a->delisted_date, "2019-06-01");
    a[n++] = mk(A_BCH, "BCH", "ransomware", "R", "Ransom list", "2023-07-08", 90);
    /* twins: the same three attributions (two sources of one fact, one
     * delisted fact) */
    const char *twins[] = {A_TWIN1, A_TWIN2};
    for (int t = 0; t < 2; t++) {
        a[n++] = mk(twins[t], "", "sanctions", "Twin", "OFAC SDN", "2023-03-03", 100);
        a[n++] =
            mk(twins[t], "", "sanctions", "Twin", "OFAC SDN (per-asset lists)", "2023-04-04", 100);
        a[n] = mk(twins[t], "", "scam", "Twin scam", "Scam list", "2020-02-02", 50);
        a[n].delisted = true;
        snprintf(a[n++].delisted_date, sizeof a->delisted_date, "2020-03-03");
    }
    return n;
}

static int setup(void **state) {
    (void)state;
    g_dir = tu_tmpdir();
    snprintf(g_set, sizeof g_set, "%s/v.chset", g_dir);
    snprintf(g_db, sizeof g_db, "%s/db", g_dir);
    ch_attribution a[64];
    size_t n = attributions(a);
    ch_error err;
    ch_screen_writer *w = ch_screen_set_writer_new();
    if (!w) return -1;
    for (size_t i = 0; i < n; i++)
        if (ch_screen_set_writer_add(w, &a[i], &err) != 0) fail_msg("%s", err.msg);
    /* a list that lost letter case: the lower-cased key, kept as listed */
    const char *folded[] = {A_FOLDED, A_FTWIN1, A_FTWIN2};
    for (int k = 0; k < 3; k++) {
        char lower[64];
        snprintf(lower, sizeof lower, "%s", folded[k]);
        for (char *c = lower; *c; c++)
            if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
        ch_attribution f = mk(lower, "", "sanctions", "Folded", "OFAC SDN", "2024-01-01", 100);
        if (ch_screen_set_writer_add_key(w, lower, &f, &err) != 0) fail_msg("%s", err.msg);
    }
    /* and the same address listed exactly by another source */
    ch_attribution e = mk(A_FOLDED, "XBT", "sanctions", "Exact", "OFAC SDN", "2024-02-01", 100);
    if (ch_screen_set_writer_add(w, &e, &err) != 0) fail_msg("%s", err.msg);
    if (ch_screen_set_writer_finish(w, g_set, NULL, &err) != 0) fail_msg("%s", err.msg);
    ch_screen_set_writer_free(w);
    /* an attribution store: OFAC's SDN list of tests/data */
    ch_intel *db;
    ch_import_opts io;
    memset(&io, 0, sizeof io);
    ch_import_stats st;
    if (ch_intel_open(g_db, true, &db, &err) != 0 ||
        ch_intel_import(db, "tests/data/intel/sdn_2023.xml", &io, &st, &err) != 0)
        fail_msg("%s", err.msg);
    ch_intel_close(db);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    tu_rmrf(g_dir);
    free(g_dir);
    return 0;
}

/* Every address asked: each shape, as a desk writes them. */
static const char *const ASKED[] = {
    A_BTC,
    A_BECH,
    "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", /* upper case: canonical lower */
    A_EVM,
    "0x098b716b8aaf21512996dc57eb0615e2383e2f96", /* no checksum case */
    A_MANY,
    A_HIST,
    A_FOLDED,
    A_BCH,
    "qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", /* no prefix */
    A_TWIN1,
    A_TWIN2,
    "BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ",
    A_FTWIN1,
    A_FTWIN2,
    /* clean, each family */
    "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2x",
    "17VZNX1SN5NtKa8UQFxwQbFeFc3iqRYhem",
    "3EktnHQD7RiAE6uzMj2ZifT9YgRrkSgzQX",
    "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297",
    "0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe",
    "  12ZEw5Hcv1hTb6YUQJ69y1V7uhcoDz92PH", /* blanks around */
    /* not judged */
    "12ZEw5Hcv1hTb6YUQJ69y1V7uhcoDz92PX", /* bad checksum */
    "",
    "\"quoted\\ \x01\xff",
    "cosmos1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu",
    "thor1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5pfkk9f",
};
#define N_ASKED (sizeof ASKED / sizeof ASKED[0])

static const char *external(size_t i) {
    return i % 3 == 0 ? NULL : i % 3 == 1 ? "row-7" : "id \"with\" \\ \n escapes";
}

/* v written by both writers (with external_id ext) into fresh buffers:
 * the bytes must be the same. */
static void same_bytes(const ch_verdict *v, const char *ext) {
    ch_jw a, b;
    ch_jw_init_mem(&a, 0);
    ch_jw_init_mem(&b, 0);
    ch_verdict_write_json(v, &a, ext);
    vj_write_general(v, &b, ext);
    size_t na, nb;
    char *ta = ch_jw_mem_take(&a, &na), *tb = ch_jw_mem_take(&b, &nb);
    assert_non_null(ta);
    assert_non_null(tb);
    if (na != nb || memcmp(ta, tb, na) != 0)
        fail_msg("%s: templated\n%s\ngeneral\n%s", v->address, ta, tb);
    free(ta);
    free(tb);
}

/* Every address screened alone and in one ch_screener_screen_many call,
 * each verdict compared (twice: the template made, then reused), then all
 * of them written as one array by each writer. */
static void compare_all(ch_screener *s) {
    ch_verdict *v[N_ASKED];
    for (size_t i = 0; i < N_ASKED; i++)
        v[i] = ch_verdict_new();
    for (size_t i = 0; i < N_ASKED; i++) {
        ch_screener_screen(s, ASKED[i], v[i]);
        for (int k = 0; k < 2; k++) {
            same_bytes(v[i], NULL);
            same_bytes(v[i], external(i));
        }
    }
    ch_screener_screen_many(s, ASKED, N_ASKED, v);
    ch_jw a, b;
    ch_jw_init_mem(&a, 0);
    ch_jw_init_mem(&b, 0);
    ch_jw_arr_begin(&a);
    ch_jw_arr_begin(&b);
    for (size_t i = 0; i < N_ASKED; i++) {
        same_bytes(v[i], external(i));
        ch_verdict_write_json(v[i], &a, external(i));
        vj_write_general(v[i], &b, external(i));
    }
    ch_jw_arr_end(&a);
    ch_jw_arr_end(&b);
    size_t na, nb;
    char *ta = ch_jw_mem_take(&a, &na), *tb = ch_jw_mem_take(&b, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(ta, tb, na);
    free(ta);
    free(tb);
    for (size_t i = 0; i < N_ASKED; i++)
        ch_verdict_free(v[i]);
}

static ch_screener *open_screener(bool set) {
    ch_screener_opts o;
    ch_screener_opts_init(&o);
    if (set)
        o.set_path = g_set;
    else
        o.db = g_db;
    ch_screener *s;
    ch_error err, warn;
    if (ch_screener_open(&o, &s, &warn, &err) != 0) fail_msg("%s", err.msg);
    return s;
}

static void test_templated_writer_equals_general_writer_on_every_shape_of_a_set(void **state) {
    (void)state;
    ch_screener *s = open_screener(true);
    compare_all(s);
    /* the shapes are there: listed, history only, folded with an exact
     * source, many sources, invalid, unsupported, clean */
    ch_verdict *v = ch_verdict_new();
    struct {
        const char *addr;
        ch_verdict_kind kind;
        size_t n_current, n_reasons;
    } want[] = {{A_BTC, CH_VERDICT_OK, 1, 2},
                {A_HIST, CH_VERDICT_OK, 0, 1},
                {A_MANY, CH_VERDICT_OK, 1, 1},
                {"17VZNX1SN5NtKa8UQFxwQbFeFc3iqRYhem", CH_VERDICT_OK, 0, 0},
                {"", CH_VERDICT_INVALID, 0, 0},
                {"cosmos1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu", CH_VERDICT_UNSUPPORTED, 0, 0}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(ch_screener_screen(s, want[i].addr, v), want[i].kind);
        assert_int_equal(v->risk.n_current, want[i].n_current);
        assert_int_equal(v->risk.n_reasons, want[i].n_reasons);
    }
    ch_screener_screen(s, A_MANY, v);
    assert_true(v->risk.reasons[0].n_sources > CH_RISK_MAX_SOURCES);
    ch_screener_screen(s, A_FOLDED, v);
    assert_true(v->risk.reasons[0].case_folded);
    assert_int_equal(v->risk.reasons[0].n_sources, 2);
    /* and the templates were used: each attribution's made once, kept */
    vt_cache *c = scr_screener_templates(s);
    assert_non_null(c);
    /* the twins are one key, and their verdict's text is kept */
    ch_verdict *t2 = ch_verdict_new();
    const char *pairs[][2] = {{A_TWIN1, A_TWIN2}, {A_FTWIN1, A_FTWIN2}};
    for (int p = 0; p < 2; p++) {
        ch_screener_screen(s, pairs[p][0], v);
        ch_screener_screen(s, pairs[p][1], t2);
        assert_true(v->n_attrs > 0);
        assert_int_equal(v->n_attrs, t2->n_attrs);
        assert_memory_equal(v->set_ids, t2->set_ids, v->n_attrs * sizeof *v->set_ids);
        assert_true(v->attrs[0].case_folded == (p == 1));
        uint64_t h1, h2;
        const vt_verdict *e1 = vt_verdict_find(c, v, &h1), *e2 = vt_verdict_find(c, t2, &h2);
        assert_non_null(e1);
        assert_ptr_equal(e1, e2);
        assert_true(e1->nseg >= 2); /* listed_as holes */
    }
    ch_verdict_free(t2);
    for (size_t i = 0; i < v->n_attrs; i++) {
        assert_true(v->set_ids[i] != UINT32_MAX);
        const vt_tmpl *t = vt_get(c, v->set_ids[i], &v->attrs[i]);
        assert_non_null(t);
        assert_ptr_equal(vt_get(c, v->set_ids[i], &v->attrs[i]), t);
    }
    ch_verdict_free(v);
    ch_screener_close(s, NULL);
}

static void test_attribution_store_verdicts_are_written_the_general_way(void **state) {
    (void)state;
    ch_screener *s = open_screener(false);
    assert_null(scr_screener_templates(s));
    compare_all(s);
    ch_screener_close(s, NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_templated_writer_equals_general_writer_on_every_shape_of_a_set),
        cmocka_unit_test(test_attribution_store_verdicts_are_written_the_general_way),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

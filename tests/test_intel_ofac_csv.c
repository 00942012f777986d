/* OFAC's legacy sdn.csv as OFAC writes it (issue 9, item 3).
 *
 * Claims:
 *   - a remark's closing full stop is not part of the address before it: the
 *     address screens flagged (17a5bpKvEp1j1Trs4qTbcNZrby53JbaS9C, listed for
 *     FAYZIMATOV, uid 31811, on 2021-07-28, ends its remark so);
 *   - every real address of OFAC's lists, written last in a remark with the
 *     stop after it, is stored as that address (checked against the real
 *     per-asset lists when the fixtures are present);
 *   - a remark cut at 1,000 characters leaves fragments ("1Gq", "3",
 *     "Digital Currency Address - XBT " with nothing after it): each is
 *     skipped with a warning naming the line and the entity, never stored,
 *     counted in `cut`, and the rest of the file is imported;
 *   - sdn_comments.csv (ent_num, the rest of the remark) recovers them, read
 *     beside sdn.csv, named in the same import, or in a folder.
 * The files are written here in OFAC's layout (CRLF lines, "-0- " for empty
 * fields, the 0x1A byte at the end); the addresses are real OFAC-listed
 * ones, so that they validate. */
#include "support/testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/intel.h"

#define FAYZIMATOV_BTC "17a5bpKvEp1j1Trs4qTbcNZrby53JbaS9C"

/* Real XBT addresses of one SDN entry (uid 42496 in OFAC's list). */
static const char *const XBT[] = {
    "12jVCWW1ZhTLA5yVnroEJswqKwsfiZKsax", "1J378PbmTKn2sEw6NBrSWVfjZLBZW3DZem",
    "18aqbRhHupgvC9K8qEqD78phmTQQWs7B5d", "16ti2EXaae5izfkUZ1Zc59HMcsdnHpP5QJ",
    "12ZEw5Hcv1hTb6YUQJ69y1V7uhcoDz92PH", "123WBUDmSJv4GctdVEz6Qq6z8nXSKrJ4KX",
    "125W5ek3DT6Zqy5S2iPt4FHQdNMCbZA3FU", "1295rkVyNfFpqZpXvKGhDqwhP1jZcNNDMV",
    "129zKFLoVad9JtxSmDKeJoLCsjhGR7b3vr", "12HQDsicffSBaYdJ6BhnE22sfjTESmmzKx",
    "12NpCkhddSNiDkD9rRYUCHsTT9ReMNiJjG", "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h",
    "12VrYZgS1nmf9KHHped24xBb1aLLRpV2cT", "12YCfVAEzkEZXBYhUTyJJaRkgMXiFxJgcu",
    "12YyR9EpvHxBjjKjTWqfKqeyoWnvcraxpW", "12mNKr2YP4M3CEQvCvVqZsvxuCG47LHMu1",
    "12udabs2TkX7NXCSj6KpqXfakjE52ZPLhz", "12w6v1qAaBc4W8h8C2Cu5SKFaKDSv3erUW",
    "134r8iHv69xdT6p5qVKTsHrcUEuBVZAYak", "13JtX4h7G5ZuNK5mFudKGq9DHLvvMFuNuz",
    "13LQJQ1oJ9K7PsqsGfjNhoVv6UeU6hgzQz", "3K35dyL85fR9ht7UgzPfd1gLRRXQtNTqE3",
    "3Q5dGfLKkWqWSwYtbMUyc8xGjN5LrRviK4", "3EPqGUw2q89pwPZ1UF8FJspE2AyojSTjdu",
};
#define NXBT (sizeof XBT / sizeof XBT[0])

/* An sdn.csv row as OFAC writes it. */
static void row(FILE *f, const char *uid, const char *name, const char *type, const char *prog,
                const char *remarks) {
    fprintf(f, "%s,\"%s\",%s,\"%s\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"%s\"\r\n", uid, name, type,
            prog, remarks);
}

typedef struct warnings {
    char text[8192];
    int n;
} warnings;

static void on_warn(const char *msg, void *ctx) {
    warnings *w = ctx;
    w->n++;
    strncat(w->text, msg, sizeof w->text - strlen(w->text) - 2);
    strcat(w->text, "\n");
}

static ch_intel *open_store(const char *dir) {
    ch_intel *db;
    ch_error err;
    if (ch_intel_open(dir, true, &db, &err) < 0) fail_msg("%s", err.msg);
    return db;
}

/* Import paths in one transaction; -1 and err on failure. */
static int import_paths(ch_intel *db, const char *const *paths, int n, warnings *w,
                        ch_import_stats *total, ch_error *err) {
    ch_import_opts o = {0};
    o.as_of = "2026-08-20";
    o.warn = on_warn;
    o.ctx = w;
    ch_import *im;
    if (ch_intel_import_begin(db, &o, &im, err) < 0) return -1;
    memset(total, 0, sizeof *total);
    for (int i = 0; i < n; i++) {
        ch_import_stats st;
        if (ch_intel_import_path(im, paths[i], &st, err) < 0) {
            ch_intel_import_abort(im);
            return -1;
        }
        total->addresses += st.addresses;
        total->cut += st.cut;
        total->rejected += st.rejected;
    }
    return ch_intel_import_commit(im, err);
}

typedef struct found {
    int n;
    ch_attribution a;
} found;

static int found_cb(const ch_attribution *a, void *ctx) {
    found *f = ctx;
    if (strcmp(a->source_name, "OFAC SDN") != 0) return 0;
    f->n++;
    f->a = *a;
    return 0;
}

/* The OFAC SDN attributions of an address, asked as screening asks. */
static found ofac_of(ch_intel *db, const char *addr) {
    found f = {0};
    char key[128];
    ch_error err;
    assert_int_equal(ch_intel_canonical(addr, NULL, key, &err), 0);
    assert_true(ch_intel_lookup(db, key, found_cb, &f, &err) >= 0);
    return f;
}

static int count_all(const ch_attribution *a, void *ctx) {
    (void)a;
    (*(int *)ctx)++;
    return 0;
}

/* ---- the closing full stop ---- */

static void test_closing_stop_is_not_part_of_the_address(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), path[4200];
    snprintf(path, sizeof path, "%s/sdn.csv", dir);
    FILE *f = fopen(path, "wb");
    row(f, "31811", "FAYZIMATOV, Farrukh Furkatovitch", "\"individual\"", "SDGT",
        "DOB 22 Apr 1988; POB Tashkent, Uzbekistan; nationality Uzbekistan; Gender Male; "
        "Secondary sanctions risk: section 1(b) of Executive Order 13224, as amended by "
        "Executive Order 13886; Digital Currency Address - XBT " FAYZIMATOV_BTC ".");
    row(f, "42496", "EXAMPLE, Person", "\"individual\"", "CYBER2] [DPRK3",
        "Digital Currency Address - XBT 12jVCWW1ZhTLA5yVnroEJswqKwsfiZKsax; alt. Digital "
        "Currency Address - ETH 0x098B716B8Aaf21512996dC57EB0615e2383E2f96.");
    fputs("\x1a", f);
    fclose(f);
    ch_intel *db = open_store(dir);
    warnings w = {0};
    ch_import_stats st;
    ch_error err;
    const char *paths[] = {path};
    if (import_paths(db, paths, 1, &w, &st, &err) < 0) fail_msg("%s", err.msg);
    assert_int_equal(st.addresses, 3);
    assert_int_equal(st.cut, 0);
    found a = ofac_of(db, FAYZIMATOV_BTC);
    assert_int_equal(a.n, 1);
    assert_string_equal(a.a.address, FAYZIMATOV_BTC);
    assert_null(strstr(a.a.note, "kept as listed"));
    /* sdn.xml's spelling of the name, and the uid as the identity */
    assert_string_equal(a.a.entity, "Farrukh Furkatovitch FAYZIMATOV");
    assert_string_equal(a.a.source_id, "31811");
    found e = ofac_of(db, "0x098b716b8aaf21512996dc57eb0615e2383e2f96");
    assert_int_equal(e.n, 1);
    assert_string_equal(e.a.asset, "ETH");
    ch_intel_close(db);

    /* and the command line screens it flagged (exit 1), severe */
    char cmd[8400];
    int status;
    snprintf(cmd, sizeof cmd, "%s screen %s --db %s", tu_bin("coinhound"), FAYZIMATOV_BTC, dir);
    char *out = tu_run(cmd, &status);
    assert_non_null(out);
    if (status != 1 || !strstr(out, "risk severe")) fail_msg("exit %d: %s", status, out);
    free(out);
    tu_rmrf(dir);
    free(dir);
}

/* Every address of the real per-asset lists, last in its remark with the
 * stop after it: each is stored as itself, none kept "as listed" unless the
 * real list itself holds a value of no known form (OFAC's XMR list has
 * one). */
static void test_every_real_address_ending_a_remark(void **state) {
    (void)state;
    const char *lists = tu_fixture("intel/ofac-lists");
    if (!lists) skip();
    static const char *ASSETS[] = {"ARB", "BCH",  "BSC",  "BSV", "BTG", "DASH", "ETC", "ETH", "LTC",
                                   "TRX", "USDC", "USDT", "XBT", "XMR", "XRP",  "XVG", "ZEC"};
    char *dir = tu_tmpdir(), path[4200];
    snprintf(path, sizeof path, "%s/sdn.csv", dir);
    FILE *f = fopen(path, "wb");
    json_t *all = json_array();
    int uid = 50000;
    for (size_t i = 0; i < sizeof ASSETS / sizeof ASSETS[0]; i++) {
        char lp[4200];
        snprintf(lp, sizeof lp, "%s/sanctioned_addresses_%s.json", lists, ASSETS[i]);
        json_t *arr = json_load_file(lp, 0, NULL);
        assert_non_null(arr);
        size_t j;
        json_t *v;
        json_array_foreach(arr, j, v) {
            char rem[512], num[16];
            snprintf(rem, sizeof rem,
                     "Secondary sanctions risk: North Korea Sanctions Regulations; Digital "
                     "Currency Address - %s %s.",
                     ASSETS[i], json_string_value(v));
            snprintf(num, sizeof num, "%d", uid++);
            row(f, num, "TEST ENTITY", "-0- ", "CYBER2", rem);
            json_array_append_new(all, json_pack("[s,s]", ASSETS[i], json_string_value(v)));
        }
        json_decref(arr);
    }
    fclose(f);
    ch_intel *db = open_store(dir);
    warnings w = {0};
    ch_import_stats st;
    ch_error err;
    const char *paths[] = {path};
    if (import_paths(db, paths, 1, &w, &st, &err) < 0) fail_msg("%s", err.msg);
    assert_int_equal(st.addresses, json_array_size(all)); /* 654 in the 2024-09-27 lists */
    assert_int_equal(st.cut, 0);
    size_t i, verbatim = 0;
    json_t *p;
    json_array_foreach(all, i, p) {
        const char *asset = json_string_value(json_array_get(p, 0));
        const char *addr = json_string_value(json_array_get(p, 1));
        char key[128];
        if (ch_intel_canonical(addr, asset, key, &err) < 0) {
            /* a value of no known form: kept as OFAC lists it, stop removed */
            snprintf(key, sizeof key, "%s", addr);
            verbatim++;
        }
        found fd = {0};
        assert_true(ch_intel_lookup(db, key, found_cb, &fd, &err) >= 0);
        if (fd.n < 1) fail_msg("%s %s not stored as itself", asset, addr);
        assert_int_not_equal(fd.a.address[strlen(fd.a.address) - 1], '.');
    }
    assert_true(verbatim <= 1);
    json_decref(all);
    ch_intel_close(db);
    tu_rmrf(dir);
    free(dir);
}

/* ---- remarks cut at 1,000 characters ---- */

/* The full remark of one entry: a name padded to `pad` characters, many XBT
 * addresses, then more text. */
static void full_remark(char *out, size_t cap, size_t pad) {
    assert_true(pad + 16 < cap);
    memcpy(out, "a.k.a. '", 8);
    memset(out + 8, 'X', pad);
    memcpy(out + 8 + pad, "'; ", 4);
    for (size_t i = 0; i < NXBT; i++) {
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%sDigital Currency Address - XBT %s; ", i ? "alt. " : "",
                 XBT[i]);
    }
    size_t n = strlen(out);
    snprintf(out + n, cap - n, "Secondary sanctions risk: North Korea Sanctions Regulations.");
}

/* Where OFAC's cut falls in each of three entries: `offset` characters
 * into XBT[k] (0: right after "XBT ", nothing of the address left). */
static const struct {
    const char *uid, *name;
    size_t k, offset;
} CUT[] = {
    {"60001", "CUT ONE LTD", 12, 3},
    {"60002", "CUT TWO LTD", 11, 0},
    {"60003", "CUT THREE LTD", 10, 1},
};

/* sdn.csv with the three cut entries and one whole one, and, when asked,
 * sdn_comments.csv with the rest of each cut remark. OFAC keeps the first
 * 1,000 characters: the name is padded so that the 1,000th falls where
 * CUT says. */
static void write_cut_files(const char *dir, bool comments) {
    char path[4200];
    snprintf(path, sizeof path, "%s/sdn.csv", dir);
    FILE *f = fopen(path, "wb");
    FILE *c = NULL;
    if (comments) {
        snprintf(path, sizeof path, "%s/sdn_comments.csv", dir);
        c = fopen(path, "wb");
    }
    for (size_t i = 0; i < 3; i++) {
        char full[4096], rem[1001];
        full_remark(full, sizeof full, 0);
        size_t at = (size_t)(strstr(full, XBT[CUT[i].k]) - full) + CUT[i].offset;
        assert_true(at <= 1000);
        full_remark(full, sizeof full, 1000 - at);
        assert_int_equal(strstr(full, XBT[CUT[i].k]) - full + (long)CUT[i].offset, 1000);
        memcpy(rem, full, 1000);
        rem[1000] = '\0';
        row(f, CUT[i].uid, CUT[i].name, "-0- ", "DPRK3", rem);
        if (c) fprintf(c, "%s,\"%s\"\r\n", CUT[i].uid, full + 1000);
    }
    row(f, "60004", "WHOLE LTD", "-0- ", "DPRK3",
        "Digital Currency Address - XBT " FAYZIMATOV_BTC ".");
    fputs("\x1a", f);
    fclose(f);
    if (c) fclose(c);
}

static void test_cut_remark_fragments_are_skipped_and_counted(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), path[4200];
    write_cut_files(dir, false);
    snprintf(path, sizeof path, "%s/sdn.csv", dir);
    ch_intel *db = open_store(dir);
    warnings w = {0};
    ch_import_stats st;
    ch_error err;
    const char *paths[] = {path};
    if (import_paths(db, paths, 1, &w, &st, &err) < 0) fail_msg("%s", err.msg);
    assert_int_equal(st.cut, 3);
    /* each warning names the line and the entity, and shows the fragment */
    if (!strstr(w.text, "line 1: entity 'CUT ONE LTD' (SDN uid 60001)") ||
        !strstr(w.text, "line 2: entity 'CUT TWO LTD' (SDN uid 60002)") ||
        !strstr(w.text, "line 3: entity 'CUT THREE LTD' (SDN uid 60003)") ||
        !strstr(w.text, "'Digital Currency Address - XBT 12V'") ||
        !strstr(w.text, "'Digital Currency Address - XBT '") ||
        !strstr(w.text, "'Digital Currency Address - XBT 1'"))
        fail_msg("warnings:\n%s", w.text);
    /* no fragment is stored, not even "as listed" */
    static const char *const FRAG[] = {"12V", "1"};
    for (int k = 0; k < 2; k++) {
        int n = 0;
        assert_int_equal(ch_intel_lookup(db, FRAG[k], count_all, &n, &err), 0);
    }
    /* the cut addresses are not in the store; the rest is: the whole entry
     * and every address before each cut */
    assert_int_equal(ofac_of(db, XBT[12]).n, 0);
    assert_int_equal(ofac_of(db, XBT[11]).n, 1);
    assert_int_equal(ofac_of(db, XBT[10]).n, 2);
    assert_int_equal(ofac_of(db, XBT[9]).n, 3);
    assert_int_equal(ofac_of(db, XBT[0]).n, 3);
    assert_int_equal(ofac_of(db, FAYZIMATOV_BTC).n, 1);
    assert_int_equal(st.addresses, 12 + 11 + 10 + 1);
    ch_intel_close(db);
    tu_rmrf(dir);
    free(dir);
}

/* With the comments every entry holds every address, whole. */
static void check_recovered(ch_intel *db) {
    for (size_t i = 0; i < NXBT; i++) {
        found f = ofac_of(db, XBT[i]);
        if (f.n != 3) fail_msg("%s: %d entries, want 3", XBT[i], f.n);
    }
}

static void test_comments_beside_recover_cut_addresses(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), path[4200];
    write_cut_files(dir, true);
    snprintf(path, sizeof path, "%s/sdn.csv", dir);
    ch_intel *db = open_store(dir);
    warnings w = {0};
    ch_import_stats st;
    ch_error err;
    const char *paths[] = {path};
    if (import_paths(db, paths, 1, &w, &st, &err) < 0) fail_msg("%s", err.msg);
    assert_int_equal(st.cut, 0);
    check_recovered(db);
    ch_intel_close(db);
    tu_rmrf(dir);
    free(dir);
}

/* Named in the same import from another folder (after sdn.csv, too), and
 * a folder holding both. */
static void test_comments_named_or_in_a_folder(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), *other = tu_tmpdir(), sdn[4200], com[4200], moved[4200];
    write_cut_files(dir, true);
    snprintf(sdn, sizeof sdn, "%s/sdn.csv", dir);
    snprintf(com, sizeof com, "%s/sdn_comments.csv", dir);
    snprintf(moved, sizeof moved, "%s/sdn_comments.csv", other);
    assert_int_equal(rename(com, moved), 0);
    ch_error err;
    warnings w = {0};
    ch_import_stats st;
    {
        char sub[4300];
        snprintf(sub, sizeof sub, "%s/db1", other);
        ch_intel *db = open_store(sub);
        const char *paths[] = {moved, sdn};
        if (import_paths(db, paths, 2, &w, &st, &err) < 0) fail_msg("%s", err.msg);
        assert_int_equal(st.cut, 0);
        check_recovered(db);
        ch_intel_close(db);
    }
    assert_int_equal(rename(moved, com), 0);
    {
        char sub[4300];
        snprintf(sub, sizeof sub, "%s/db2", other);
        ch_intel *db = open_store(sub);
        const char *paths[] = {dir};
        if (import_paths(db, paths, 1, &w, &st, &err) < 0) fail_msg("%s", err.msg);
        assert_int_equal(st.cut, 0);
        check_recovered(db);
        ch_intel_close(db);
    }
    /* the command line names them in either order */
    char cmd[9000];
    int status;
    snprintf(cmd, sizeof cmd, "%s intel import %s %s --as-of 2026-08-20 --db %s/db3 2>&1",
             tu_bin("coinhound"), sdn, com, other);
    char *out = tu_run(cmd, &status);
    assert_int_equal(status, 0);
    assert_null(strstr(out, "cut short"));
    free(out);
    tu_rmrf(dir);
    tu_rmrf(other);
    free(dir);
    free(other);
}

/* Without the comments the command line says how many were cut. */
static void test_cli_summary_counts_cut(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    write_cut_files(dir, false);
    char cmd[9000];
    int status;
    snprintf(cmd, sizeof cmd, "%s intel import %s/sdn.csv --as-of 2026-08-20 --db %s 2>&1",
             tu_bin("coinhound"), dir, dir);
    char *out = tu_run(cmd, &status);
    assert_int_equal(status, 0);
    if (!strstr(out, "3 cut short by OFAC's 1,000-character remark limit"))
        fail_msg("summary: %s", out);
    assert_non_null(strstr(out, "warning: "));
    free(out);
    tu_rmrf(dir);
    free(dir);
}

/* OFAC's sdn_comments.csv does not double the quotes inside its text
 * (a.k.a. "nickname"): it is read all the same, and joined mid-address. */
static void test_comments_with_undoubled_quotes(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), path[4200];
    snprintf(path, sizeof path, "%s/sdn.csv", dir);
    FILE *f = fopen(path, "wb");
    row(f, "28264", "EXAMPLE, Person", "\"individual\"", "CYBER2] [DPRK3",
        "Gender Male; Digital Currency Address - XBT 12jVCWW1ZhTL");
    fclose(f);
    snprintf(path, sizeof path, "%s/sdn_comments.csv", dir);
    f = fopen(path, "wb");
    fputs("28264,\"A5yVnroEJswqKwsfiZKsax; a.k.a. \"blackjack1987\"; Linked To: LAZARUS "
          "GROUP.\"\r\n\x1a",
          f);
    fclose(f);
    snprintf(path, sizeof path, "%s/sdn.csv", dir);
    ch_intel *db = open_store(dir);
    warnings w = {0};
    ch_import_stats st;
    ch_error err;
    const char *paths[] = {path};
    if (import_paths(db, paths, 1, &w, &st, &err) < 0) fail_msg("%s", err.msg);
    assert_int_equal(st.cut, 0);
    assert_int_equal(st.addresses, 1);
    found fd = ofac_of(db, XBT[0]);
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.a.entity, "Person EXAMPLE");
    ch_intel_close(db);
    tu_rmrf(dir);
    free(dir);
}

/* An address prefix with nothing after it in the middle of a remark is no
 * cut: it is rejected (counted, warned), the rest kept. */
static void test_prefix_without_address_mid_remark(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), path[4200];
    snprintf(path, sizeof path, "%s/sdn.csv", dir);
    FILE *f = fopen(path, "wb");
    row(f, "60010", "ODD LTD", "-0- ", "CYBER2",
        "Digital Currency Address - XBT ; alt. Digital Currency Address - XBT " FAYZIMATOV_BTC
        "; Organization Type: Other.");
    fclose(f);
    ch_intel *db = open_store(dir);
    warnings w = {0};
    ch_import_stats st;
    ch_error err;
    const char *paths[] = {path};
    if (import_paths(db, paths, 1, &w, &st, &err) < 0) fail_msg("%s", err.msg);
    assert_int_equal(st.cut, 0);
    assert_int_equal(st.rejected, 1);
    assert_int_equal(st.addresses, 1);
    assert_non_null(strstr(w.text, "line 1: entity 'ODD LTD' (SDN uid 60010)"));
    assert_int_equal(ofac_of(db, FAYZIMATOV_BTC).n, 1);
    ch_intel_close(db);
    tu_rmrf(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closing_stop_is_not_part_of_the_address),
        cmocka_unit_test(test_every_real_address_ending_a_remark),
        cmocka_unit_test(test_cut_remark_fragments_are_skipped_and_counted),
        cmocka_unit_test(test_comments_beside_recover_cut_addresses),
        cmocka_unit_test(test_comments_named_or_in_a_folder),
        cmocka_unit_test(test_cli_summary_counts_cut),
        cmocka_unit_test(test_prefix_without_address_mid_remark),
        cmocka_unit_test(test_comments_with_undoubled_quotes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

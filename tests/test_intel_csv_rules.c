/* What a CSV must say, and how a folder treats files it cannot read
 * (issue 9, item 6).
 *
 * Claims:
 *   - a CSV with no category column (nor role, programs or actor) is
 *     refused, naming --category/--entity/--source, and the store is left
 *     unchanged; with all three given it imports with those values;
 *   - the address column is found under the names public lists use
 *     (address, address_lc, wallet, "Wallet Address", ...), also when the
 *     format is detected from the file;
 *   - `intel import DIR` treats every file it cannot read alike - a dangling
 *     link, a file of no known format, a malformed file, a CSV that says
 *     nothing - skipped with a warning and nothing of it kept (not even the
 *     rows before the fault), or, with strict, the import fails and the store
 *     is unchanged. */
#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coinhound/intel.h"

#define ADDR1 "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"
#define ADDR2 "12HQDsicffSBaYdJ6BhnE22sfjTESmmzKx"

static void write_file(const char *dir, const char *name, const char *text) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
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

static int import(ch_intel *db, const char *path, const ch_import_opts *base, warnings *w,
                  ch_import_stats *st, ch_error *err) {
    ch_import_opts o = *base;
    o.as_of = "2026-08-20";
    o.warn = on_warn;
    o.ctx = w;
    return ch_intel_import(db, path, &o, st, err);
}

static ch_intel *open_store(const char *dir) {
    ch_intel *db;
    ch_error err;
    if (ch_intel_open(dir, true, &db, &err) < 0) fail_msg("%s", err.msg);
    return db;
}

typedef struct got {
    int n;
    ch_attribution a;
} got;

static int got_cb(const ch_attribution *a, void *ctx) {
    got *g = ctx;
    if (strstr(a->source_name, "built-in")) return 0;
    g->n++;
    g->a = *a;
    return 0;
}

static got lookup(ch_intel *db, const char *addr) {
    got g = {0};
    char key[128];
    ch_error err;
    assert_int_equal(ch_intel_canonical(addr, NULL, key, &err), 0);
    assert_true(ch_intel_lookup(db, key, got_cb, &g, &err) >= 0);
    return g;
}

static void test_csv_without_category_is_refused_unless_told(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), path[4200];
    write_file(dir, "bare.csv", "address\n" ADDR1 "\n" ADDR2 "\n");
    snprintf(path, sizeof path, "%s/bare.csv", dir);
    ch_intel *db = open_store(dir);
    ch_intel_counts c1, c2;
    ch_error err;
    assert_int_equal(ch_intel_counts_get(db, &c1, &err), 0);
    ch_import_opts o = {0};
    warnings w = {0};
    ch_import_stats st;
    assert_int_equal(import(db, path, &o, &w, &st, &err), -1);
    if (!strstr(err.msg, "bare.csv") || !strstr(err.msg, "no category column") ||
        !strstr(err.msg, "--category"))
        fail_msg("message: %s", err.msg);
    assert_int_equal(ch_intel_counts_get(db, &c2, &err), 0);
    assert_memory_equal(&c1, &c2, sizeof c1);
    /* only a category is not enough: the list's entity and source too */
    o.category = "scam";
    assert_int_equal(import(db, path, &o, &w, &st, &err), -1);
    o.entity = "Example Scam Ltd";
    o.source = "analyst list 2026-11";
    if (import(db, path, &o, &w, &st, &err) < 0) fail_msg("%s", err.msg);
    assert_int_equal(st.addresses, 2);
    got g = lookup(db, ADDR2);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.a.category, "scam");
    assert_string_equal(g.a.entity, "Example Scam Ltd");
    assert_string_equal(g.a.source_name, "analyst list 2026-11");
    ch_intel_close(db);

    /* the same from the command line */
    char cmd[9000];
    int status;
    snprintf(cmd, sizeof cmd, "%s intel import %s --db %s/cli 2>&1", tu_bin("coinhound"), path,
             dir);
    char *out = tu_run(cmd, &status);
    assert_int_equal(status, 2);
    assert_non_null(strstr(out, "--category"));
    free(out);
    snprintf(cmd, sizeof cmd,
             "%s intel import %s --category scam --entity 'Example Scam Ltd' --source "
             "'analyst list' --db %s/cli 2>&1",
             tu_bin("coinhound"), path, dir);
    out = tu_run(cmd, &status);
    if (status != 0) fail_msg("%s", out);
    free(out);
    tu_rmrf(dir);
    free(dir);
}

static void test_address_column_names_of_public_lists(void **state) {
    (void)state;
    static const char *const HEADERS[] = {"address_lc", "wallet", "Wallet Address",
                                          "wallet_address", "ADDRESS"};
    for (size_t i = 0; i < sizeof HEADERS / sizeof HEADERS[0]; i++) {
        char *dir = tu_tmpdir(), text[512], path[4200];
        snprintf(text, sizeof text, "%s,category,entity\n%s,sanctions,LAZARUS GROUP\n", HEADERS[i],
                 "0x098b716b8aaf21512996dc57eb0615e2383e2f96");
        write_file(dir, "list.csv", text);
        snprintf(path, sizeof path, "%s/list.csv", dir);
        ch_intel *db = open_store(dir);
        ch_import_opts o = {0}; /* the format detected from the file */
        warnings w = {0};
        ch_import_stats st;
        ch_error err;
        if (import(db, path, &o, &w, &st, &err) < 0) fail_msg("%s: %s", HEADERS[i], err.msg);
        assert_int_equal(st.addresses, 1);
        assert_int_equal(lookup(db, ADDR1).n, 1);
        ch_intel_close(db);
        tu_rmrf(dir);
        free(dir);
    }
}

/* A folder with one good list and four files that cannot be read. */
static void make_folder(const char *dir) {
    write_file(dir, "good.csv", "address,category,entity\n" ADDR2 ",hacker,Good row\n");
    /* the first row is fine; the file is not */
    write_file(dir, "malformed.csv",
               "address,category,entity\n" ADDR1 ",hacker,Fine row\n"
               "0x2222222222222222222222222222222222222222,hacker,\"unterminated\n");
    write_file(dir, "bare.csv", "address\n" ADDR1 "\n");
    write_file(dir, "notes.xyz", "nothing to read\n");
    write_file(dir, "README.txt", "a folder of lists\n");
    char link[4400];
    snprintf(link, sizeof link, "%s/gone.csv", dir);
    assert_int_equal(symlink("/nonexistent/coinhound-test/gone.csv", link), 0);
}

static void test_folder_skips_every_unreadable_file_alike(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), lists[4200];
    snprintf(lists, sizeof lists, "%s/lists", dir);
    char cmd[8600];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", lists);
    assert_int_equal(system(cmd), 0);
    make_folder(lists);
    ch_intel *db = open_store(dir);
    ch_import_opts o = {0};
    warnings w = {0};
    ch_import_stats st;
    ch_error err;
    if (import(db, lists, &o, &w, &st, &err) < 0) fail_msg("%s", err.msg);
    assert_int_equal(st.skipped, 4);
    assert_int_equal(st.files, 1);
    assert_int_equal(st.addresses, 1);
    static const char *const NAMES[] = {"malformed.csv", "bare.csv", "notes.xyz", "gone.csv"};
    for (int i = 0; i < 4; i++)
        if (!strstr(w.text, NAMES[i])) fail_msg("no warning for %s:\n%s", NAMES[i], w.text);
    assert_null(strstr(w.text, "README"));
    assert_int_equal(lookup(db, ADDR2).n, 1);
    /* the malformed file's good first row is not kept either */
    assert_int_equal(lookup(db, ADDR1).n, 0);

    /* strict: the first of them fails the import, nothing is written */
    ch_intel_counts c1, c2;
    assert_int_equal(ch_intel_counts_get(db, &c1, &err), 0);
    write_file(lists, "good2.csv", "address,category,entity\n" ADDR1 ",hacker,Second good\n");
    o.strict = true;
    assert_int_equal(import(db, lists, &o, &w, &st, &err), -1);
    assert_int_equal(ch_intel_counts_get(db, &c2, &err), 0);
    assert_memory_equal(&c1, &c2, sizeof c1);
    assert_int_equal(lookup(db, ADDR1).n, 0);
    ch_intel_close(db);

    /* the command line: skipped files are counted in the summary; --strict exits 2 */
    int status;
    snprintf(cmd, sizeof cmd, "%s intel import %s --db %s/cli 2>&1", tu_bin("coinhound"), lists,
             dir);
    char *out = tu_run(cmd, &status);
    if (status != 0 || !strstr(out, "4 files could not be read and were skipped"))
        fail_msg("exit %d: %s", status, out);
    free(out);
    snprintf(cmd, sizeof cmd, "%s intel import --strict %s --db %s/cli2 2>&1", tu_bin("coinhound"),
             lists, dir);
    out = tu_run(cmd, &status);
    assert_int_equal(status, 2);
    free(out);
    tu_rmrf(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_without_category_is_refused_unless_told),
        cmocka_unit_test(test_address_column_names_of_public_lists),
        cmocka_unit_test(test_folder_skips_every_unreadable_file_alike),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

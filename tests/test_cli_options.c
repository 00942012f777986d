/* Numbers, dates, ranges and names from the command line go through one
 * checked parser (util/numparse.h): every value that is not what the option
 * wants is an error with exit 2 naming the option and the text, never a
 * silent 0 or 2^64-1; --chain is a name, never a path; screening nothing is
 * an error, not "all clean". Expected values are worked by hand (the
 * calendar: 2024 is a leap year, 2023 and 1900 are not, 2000 is). */
#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "coinhound/evm.h"
#include "util/numparse.h"

static void test_uint_parser_takes_whole_numbers_only(void **state) {
    (void)state;
    uint64_t v;
    assert_int_equal(ch_parse_uint("0", 0, 10, false, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(ch_parse_uint("18446744073709551615", 0, UINT64_MAX, false, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(ch_parse_uint("18446744073709551616", 0, UINT64_MAX, false, &v), -1);
    assert_int_equal(ch_parse_uint("99999999999999999999", 0, UINT64_MAX, false, &v), -1);
    const char *bad[] = {"", "abc", "-1", "+1", " 1", "1 ", "1x", "0x10", "1e3", "1.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ch_parse_uint(bad[i], 0, UINT64_MAX, false, &v) != -1) fail_msg("'%s' taken", bad[i]);
    assert_int_equal(ch_parse_uint("11", 1, 10, false, &v), -1);
    assert_int_equal(ch_parse_uint("0", 1, 10, false, &v), -1);
    assert_int_equal(ch_parse_uint("0x1f", 0, 100, true, &v), 0);
    assert_int_equal(v, 31);
    assert_int_equal(ch_parse_uint("0x", 0, 100, true, &v), -1);
    assert_int_equal(ch_parse_uint(NULL, 0, 100, true, &v), -1);
}

static void test_dates_must_exist(void **state) {
    (void)state;
    uint32_t t;
    assert_int_equal(ch_parse_time("2024-02-29", false, &t), 0);
    assert_int_equal(t, 1709164800u);
    assert_int_equal(ch_parse_time("2024-02-29", true, &t), 0);
    assert_int_equal(t, 1709164800u + 86399u);
    assert_int_equal(ch_parse_time("2000-02-29", false, &t), 0);
    assert_int_equal(ch_parse_time("1970-01-01", false, &t), 0);
    assert_int_equal(t, 0);
    assert_int_equal(ch_parse_time("1231006505", false, &t), 0);
    assert_int_equal(t, 1231006505u);
    const char *bad[] = {"2024-02-30", "2023-02-29", "1900-02-29", "2024-13-01",
                         "2024-00-10", "2024-04-31", "2024-1-1",   "2024-01-01x",
                         "20240101x",  "-5",         "4294967296", "1969-12-31",
                         "",           "yesterday"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ch_parse_time(bad[i], false, &t) != -1) fail_msg("'%s' taken", bad[i]);
}

static void test_store_names_are_never_paths(void **state) {
    (void)state;
    assert_true(ch_store_name_ok("eth"));
    assert_true(ch_store_name_ok("arbitrum-nova"));
    assert_true(ch_store_name_ok("BSC2"));
    const char *bad[] = {"", "../../x", "a/b", ".", "..", "-x", "intel", "e th", "eth\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ch_store_name_ok(bad[i])) fail_msg("'%s' taken", bad[i]);
}

/* Run `coinhound ARGS`, expect exit 2 and `want` in what it says. */
static void expect_refused(const char *args, const char *want) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", tu_bin("coinhound"), args);
    int status;
    char *out = tu_run(cmd, &status);
    if (status != 2 || !strstr(out, want))
        fail_msg("'%s': exit %d, said: %s (wanted exit 2 and '%s')", args, status, out, want);
    free(out);
}

static void test_bad_option_values_exit_2(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char args[4096];
    /* the table of the reliability audit, row by row */
    snprintf(args, sizeof args, "screen 1BoatSLRHtKNngkdXEeobR76b53LETtpyT --db %s --hops abc",
             dir);
    expect_refused(args, "--hops wants a whole number");
    snprintf(args, sizeof args, "screen 1BoatSLRHtKNngkdXEeobR76b53LETtpyT --db %s --hops -1", dir);
    expect_refused(args, "not '-1'");
    snprintf(args, sizeof args, "address 1BoatSLRHtKNngkdXEeobR76b53LETtpyT --db %s --limit -1",
             dir);
    expect_refused(args, "--limit wants a whole number");
    snprintf(args, sizeof args, "ingest btc %s --db %s --max-blocks 99999999999999999999", dir,
             dir);
    expect_refused(args, "--max-blocks wants a whole number");
    snprintf(args, sizeof args,
             "trace --from 1BoatSLRHtKNngkdXEeobR76b53LETtpyT --db %s "
             "--since 2024-02-30",
             dir);
    expect_refused(args, "not '2024-02-30'");
    snprintf(args, sizeof args,
             "trace --from 1BoatSLRHtKNngkdXEeobR76b53LETtpyT --db %s "
             "--since 2024-03-01 --until 2024-02-01",
             dir);
    expect_refused(args, "--until is before --since");
    snprintf(args, sizeof args,
             "trace --from 1BoatSLRHtKNngkdXEeobR76b53LETtpyT --db %s "
             "--max-hops 0",
             dir);
    expect_refused(args, "--max-hops");
    snprintf(args, sizeof args, "cluster build --db %s --chain eth --window x", dir);
    expect_refused(args, "--window");
    snprintf(args, sizeof args, "ingest eth %s --db %s --from-block 10 --to-block 5", dir, dir);
    expect_refused(args, "--to-block is before --from-block");
    snprintf(args, sizeof args, "ingest eth %s --db %s --batch 0", dir, dir);
    expect_refused(args, "--batch");
    snprintf(args, sizeof args, "intel import %s --db %s --as-of 2024-02-30", dir, dir);
    expect_refused(args, "--as-of");
    tu_rmrf(dir);
    free(dir);
}

static void test_chain_is_a_name_not_a_path(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char db[1100], args[4096], outside[1200];
    snprintf(db, sizeof db, "%s/a/b", dir);
    snprintf(outside, sizeof outside, "%s/x", dir);
    const char *cmds[] = {"ingest eth %s --db %s --chain ../../x",
                          "status --db %s --chain ../../x",
                          "address 0x0000000000000000000000000000000000000001 --db %s --chain "
                          "../../x",
                          "cluster build --db %s --chain ../../x",
                          "tx 00 --db %s --chain ../../x",
                          "poison 0x0000000000000000000000000000000000000001 --db %s --chain "
                          "../../x",
                          "trace --from 0x0000000000000000000000000000000000000001 --db %s "
                          "--chain ../../x"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (i == 0)
            snprintf(args, sizeof args, cmds[i], dir, db);
        else
            snprintf(args, sizeof args, cmds[i], db);
        expect_refused(args, "not '../../x'");
    }
    struct stat st;
    assert_int_not_equal(stat(outside, &st), 0); /* nothing written outside --db */
    tu_rmrf(dir);
    free(dir);
}

static void test_screening_no_address_is_an_error(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char empty[1100], args[4096];
    snprintf(empty, sizeof empty, "%s/empty.txt", dir);
    FILE *f = fopen(empty, "w");
    assert_non_null(f);
    fputs("# no addresses here\n\n", f);
    fclose(f);
    /* an attribution store to screen against */
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "printf 'address,category,entity\\n' > %s/l.csv && "
             "printf '1BoatSLRHtKNngkdXEeobR76b53LETtpyT,scam,x\\n' >> %s/l.csv && "
             "%s intel import %s/l.csv --db %s/db >/dev/null 2>&1",
             dir, dir, tu_bin("coinhound"), dir, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(args, sizeof args, "screen --file %s --db %s/db", empty, dir);
    expect_refused(args, "no addresses to screen");
    snprintf(args, sizeof args, "screen --db %s/db", dir);
    expect_refused(args, "usage");
    tu_rmrf(dir);
    free(dir);
}

/* JSON lines in one buffer: an error names the file's line and column (jansson's: the end of the
 * token), not the line within the document jansson was given. */
static void test_json_lines_error_names_the_files_line(void **state) {
    (void)state;
    const char *text = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":null}\n"
                       "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":null}\n"
                       "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"number\" BROKEN}}\n";
    ch_evm_block *b = NULL;
    size_t n = 0;
    ch_error err;
    assert_int_equal(ch_evm_parse_rpc(text, strlen(text), "x.jsonl", &b, &n, &err), -1);
    if (!strstr(err.msg, "line 3, column 49")) fail_msg("said: %s", err.msg);
    ch_evm_blocks_free(b, n);
}

/* intel import applies the rules its --help states: a row whose address
 * fails its checksum, with no asset to say otherwise, is rejected and
 * reported; an empty folder is an error; a subfolder is named and not
 * imported (an error with --strict). */
static void test_import_applies_the_rules_its_help_states(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/empty %s/top/sub && printf 'address,category,entity\\n"
             "0x098B716B8Aaf21512996dC57EB0615e2383E2f97,scam,typo\\n"
             "1BoatSLRHtKNngkdXEeobR76b53LETtpyU,scam,typo\\n"
             "0x098B716B8Aaf21512996dC57EB0615e2383E2f96,scam,good\\n' > %s/bad.csv && "
             "cp %s/bad.csv %s/top/a.csv && cp %s/bad.csv %s/top/sub/b.csv",
             dir, dir, dir, dir, dir, dir, dir);
    assert_int_equal(system(cmd), 0);
    int status;
    snprintf(cmd, sizeof cmd, "%s intel import %s/bad.csv --db %s/db 2>&1", tu_bin("coinhound"),
             dir, dir);
    char *out = tu_run(cmd, &status);
    assert_int_equal(status, 0);
    if (!strstr(out, "2 rejected") || !strstr(out, "0x098B716B8Aaf21512996dC57EB0615e2383E2f97") ||
        !strstr(out, "1BoatSLRHtKNngkdXEeobR76b53LETtpyU' (no asset) rejected"))
        fail_msg("bad checksums: %s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "%s intel import %s/empty --db %s/db 2>&1", tu_bin("coinhound"), dir,
             dir);
    expect_refused(cmd + strlen(tu_bin("coinhound")) + 1, "no file to import");
    snprintf(cmd, sizeof cmd, "%s intel import %s/top --db %s/db 2>&1", tu_bin("coinhound"), dir,
             dir);
    out = tu_run(cmd, &status);
    assert_int_equal(status, 0);
    if (!strstr(out, "top/sub: a subfolder, not imported")) fail_msg("subfolder: %s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "intel import %s/top --db %s/db --strict", dir, dir);
    expect_refused(cmd, "a subfolder");
    tu_rmrf(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uint_parser_takes_whole_numbers_only),
        cmocka_unit_test(test_dates_must_exist),
        cmocka_unit_test(test_store_names_are_never_paths),
        cmocka_unit_test(test_bad_option_values_exit_2),
        cmocka_unit_test(test_chain_is_a_name_not_a_path),
        cmocka_unit_test(test_screening_no_address_is_an_error),
        cmocka_unit_test(test_json_lines_error_names_the_files_line),
        cmocka_unit_test(test_import_applies_the_rules_its_help_states),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

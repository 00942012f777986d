/* coinhound screen --csv: a compliance desk's daily file.
 *
 * Claims, against independent oracles:
 *   - a file as spreadsheets write it (UTF-8 BOM, CRLF, a quoted header
 *     name with a comma, quoted cells with commas and doubled quotes, a
 *     blank line) is read: every row is answered, in order, its kept columns
 *     passed through unchanged (the output read back with the CSV reader);
 *   - each row's risk equals `coinhound screen --json ADDR`'s for the same
 *     address (another run of the CLI), and with --out-format json the
 *     verdict equals that line field for field; the counts line adds up;
 *   - an empty cell is invalid, never clean; a flagged row makes exit 1;
 *   - a missing column, an unknown --keep column and a malformed file are
 *     errors (exit 2) naming the file, the line or the columns there are;
 *   - rows screened in batches (the default 64, or --batch 7) give the
 *     bytes the row-at-a-time path (--batch 1) gives, CSV and JSON, with a
 *     screening set (a real batch lookup) and a database, on a file of
 *     several chunks with a BOM, quoting, blank lines, a short row, listed,
 *     clean and invalid addresses; and a file malformed past its first
 *     chunk gives the same rows, exit status and message.
 * Attributions: tests/data/intel/sdn_2023.xml (12ZEw5... "Test PERSON",
 * 0x098B... LAZARUS GROUP), read by hand. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/csvread.h"
#include "support/testutil.h"

static char *g_dir;
static char g_ch[1024], g_db[4096], g_csv[4200];

/* rows: customer, address, note */
static const char *ROWS[][3] = {
    {"C1", "12ZEw5Hcv1hTb6YUQJ69y1V7uhcoDz92PH", "wire, EUR"},
    {"C2 \"big\"", "36MjimMJHwQkrTKrKyw4KepHsd975kSGTs", "plain"},
    {"C3", "", "no address"},
    {"C4", "0x098B716B8Aaf21512996dC57EB0615e2383E2f96", "line\r\nbreak"},
    {"C5", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN4", "typo"},
};
#define N_ROWS (sizeof ROWS / sizeof ROWS[0])

static void quoted(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static int setup(void **state) {
    (void)state;
    g_dir = tu_tmpdir();
    snprintf(g_ch, sizeof g_ch, "%s", tu_bin("coinhound"));
    snprintf(g_db, sizeof g_db, "%s/db", g_dir);
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "%s intel import tests/data/intel/sdn_2023.xml --db %s >/dev/null",
             g_ch, g_db);
    int st;
    free(tu_run(cmd, &st));
    if (st) return -1;
    snprintf(g_csv, sizeof g_csv, "%s/desk.csv", g_dir);
    FILE *f = fopen(g_csv, "wb");
    if (!f) return -1;
    fputs("\xEF\xBB\xBF"
          "customer,\"Wallet, address\",note\r\n",
          f);
    for (size_t i = 0; i < N_ROWS; i++) {
        quoted(f, ROWS[i][0]);
        fprintf(f, ",%s,", ROWS[i][1]);
        quoted(f, ROWS[i][2]);
        fputs(i == 1 ? "\r\n\r\n" : "\r\n", f); /* a blank line after the second */
    }
    fclose(f);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    tu_rmrf(g_dir);
    free(g_dir);
    return 0;
}

/* `screen --json ADDR`'s verdict (the oracle). */
static json_t *cli_verdict(const char *addr) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s screen --json --db %s '%s' 2>/dev/null", g_ch, g_db, addr);
    int st;
    char *out = tu_run(cmd, &st);
    json_t *v = json_loads(out, JSON_DISABLE_EOF_CHECK, NULL);
    assert_non_null(v);
    free(out);
    return v;
}

static char *run_csv(const char *extra, int want) {
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "%s screen --csv %s --column 'wallet, address' --db %s %s", g_ch,
             g_csv, g_db, extra);
    int st;
    char *out = tu_run(cmd, &st);
    if (st != want) fprintf(stderr, "%s: exit %d\n%s\n", cmd, st, out);
    assert_int_equal(st, want);
    return out;
}

static void test_spreadsheet_csv_rows_are_answered_with_kept_columns(void **state) {
    (void)state;
    char *out = run_csv("--keep customer,note 2>/dev/null", 1); /* flagged rows: exit 1 */
    FILE *f = fmemopen(out, strlen(out), "rb");
    assert_non_null(f);
    csv_reader r;
    csv_init(&r, f, "output");
    ch_error err;
    assert_int_equal(csv_next(&r, &err), 1);
    const char *want[] = {"customer",    "note",           "address",    "canonical", "family",
                          "risk",        "score",          "categories", "entities",  "sources",
                          "source_urls", "exposure_share", "error"};
    assert_int_equal(r.nfields, 13);
    for (int i = 0; i < 13; i++)
        assert_string_equal(r.field[i], want[i]);
    for (size_t i = 0; i < N_ROWS; i++) {
        assert_int_equal(csv_next(&r, &err), 1);
        assert_string_equal(r.field[0], ROWS[i][0]); /* quotes and commas kept */
        assert_string_equal(r.field[1], ROWS[i][2]);
        assert_string_equal(r.field[2], ROWS[i][1]);
        json_t *v = cli_verdict(ROWS[i][1]);
        assert_string_equal(r.field[5], json_string_value(json_object_get(v, "risk")));
        json_decref(v);
        if (!ROWS[i][1][0]) assert_string_equal(r.field[5], "invalid"); /* never clean */
    }
    assert_string_equal(r.field[2], "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN4");
    assert_int_equal(csv_next(&r, &err), 0);
    csv_free(&r);
    fclose(f);
    free(out);
}

static void test_json_rows_equal_screen_json_and_counts_add_up(void **state) {
    (void)state;
    char *out = run_csv("--keep customer --out-format json 2>/dev/null", 1);
    char *line = out, *nl;
    size_t i = 0;
    json_t *counts = NULL;
    while ((nl = strchr(line, '\n'))) {
        *nl = '\0';
        json_t *o = json_loads(line, 0, NULL);
        assert_non_null(o);
        if (json_object_get(o, "counts")) {
            counts = json_incref(json_object_get(o, "counts"));
        } else {
            assert_true(i < N_ROWS);
            assert_string_equal(
                json_string_value(json_object_get(json_object_get(o, "kept"), "customer")),
                ROWS[i][0]);
            json_t *v = cli_verdict(ROWS[i][1]);
            assert_true(json_equal(json_object_get(o, "verdict"), v));
            json_decref(v);
            i++;
        }
        json_decref(o);
        line = nl + 1;
    }
    assert_int_equal(i, N_ROWS);
    assert_non_null(counts);
    /* two sanctioned (12ZEw5..., 0x098B...), one clean (36Mjim..., in no list), two invalid */
    assert_int_equal(json_integer_value(json_object_get(counts, "rows")), 5);
    assert_int_equal(json_integer_value(json_object_get(counts, "flagged")), 2);
    assert_int_equal(json_integer_value(json_object_get(counts, "severe")), 2);
    assert_int_equal(json_integer_value(json_object_get(counts, "clean")), 1);
    assert_int_equal(json_integer_value(json_object_get(counts, "invalid")), 2);
    json_decref(counts);
    free(out);
    /* the counts end the CSV run on standard error */
    out = run_csv("2>&1 >/dev/null", 1);
    assert_non_null(strstr(out, "5 rows: 2 flagged (2 severe, 0 high, 0 medium, 0 low), 1 clean, "
                                "2 invalid"));
    free(out);
}

static void test_bad_files_and_columns_are_errors_naming_them(void **state) {
    (void)state;
    char cmd[16384], bad[4200];
    int st;
    snprintf(cmd, sizeof cmd, "%s screen --csv %s --column wallet --db %s 2>&1", g_ch, g_csv, g_db);
    char *out = tu_run(cmd, &st);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "no column 'wallet'"));
    assert_non_null(strstr(out, "'Wallet, address'"));
    free(out);
    out = run_csv("--keep customer,branch 2>&1", 2);
    assert_non_null(strstr(out, "no column 'branch'"));
    free(out);
    snprintf(bad, sizeof bad, "%s/bad.csv", g_dir);
    FILE *f = fopen(bad, "w");
    assert_non_null(f);
    fputs("address\n12ZEw5Hcv1hTb6YUQJ69y1V7uhcoDz92PH\n\"unterminated\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s screen --csv %s --column address --db %s 2>&1", g_ch, bad, g_db);
    out = tu_run(cmd, &st);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "bad.csv"));
    assert_non_null(strstr(out, "line 3"));
    free(out);
    snprintf(cmd, sizeof cmd, "%s screen --column address --db %s 2>&1", g_ch, g_db);
    free(tu_run(cmd, &st));
    assert_int_equal(st, 2); /* --column without --csv */
}

/* A desk's file of n rows (cycling through ROWS and a few more shapes),
 * spreadsheet-written; a malformed row after the first `bad` rows when bad
 * is not 0. */
static void write_long_csv(const char *path, size_t n, size_t bad) {
    static const char *MORE[] = {"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
                                 "0x098b716b8aaf21512996dc57eb0615e2383e2f96",
                                 "12ZEw5Hcv1hTb6YUQJ69y1V7uhcoDz92PX", "not an address, \"quoted\"",
                                 "cosmos1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu"};
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("\xEF\xBB\xBF"
          "customer,\"Wallet, address\",note\r\n",
          f);
    for (size_t i = 0; i < n; i++) {
        if (bad && i == bad) fputs("C,\"unterminated\r\n", f);
        if (i % 17 == 5) {
            fputs("short row\r\n", f); /* no address column: invalid */
            continue;
        }
        if (i % 23 == 9) fputs("\r\n", f); /* a blank line */
        const char *addr = i % 3 ? ROWS[i % N_ROWS][1] : MORE[i % 5];
        fprintf(f, "\"C%zu, \"\"x\"\"\",", i);
        quoted(f, addr);
        fputc(',', f);
        quoted(f, ROWS[i % N_ROWS][2]);
        fputs("\r\n", f);
    }
    fclose(f);
}

/* `screen --csv path` with args; its stdout (stderr into *errs when not
 * NULL) and exit status. */
static char *csv_run(const char *path, const char *args, int *st, char **errs) {
    char cmd[32768], errpath[4300];
    snprintf(errpath, sizeof errpath, "%s/stderr", g_dir);
    snprintf(cmd, sizeof cmd, "%s screen --csv %s --column 'wallet, address' %s 2>%s", g_ch, path,
             args, errpath);
    char *out = tu_run(cmd, st);
    if (errs) {
        size_t n;
        *errs = (char *)tu_read_file(errpath, &n);
        assert_non_null(*errs);
    }
    return out;
}

static void test_batches_write_the_bytes_of_one_row_at_a_time(void **state) {
    (void)state;
    char path[4200], set[4200], cmd[16384], against[2][4300];
    snprintf(path, sizeof path, "%s/long.csv", g_dir);
    snprintf(set, sizeof set, "%s/desk.chset", g_dir);
    snprintf(cmd, sizeof cmd, "%s intel export-set --db %s --out %s >/dev/null 2>&1", g_ch, g_db,
             set);
    int st;
    free(tu_run(cmd, &st));
    assert_int_equal(st, 0);
    snprintf(against[0], sizeof against[0], "--set %s", set);
    snprintf(against[1], sizeof against[1], "--db %s", g_db);
    write_long_csv(path, 300, 0);
    static const char *FORMATS[] = {"--keep customer,note", "--keep note --out-format json",
                                    "--out-format json"};
    for (int a = 0; a < 2; a++) {
        for (int f = 0; f < 3; f++) {
            char args[8800];
            snprintf(args, sizeof args, "%s %s --batch 1", against[a], FORMATS[f]);
            int st1, stn;
            char *one = csv_run(path, args, &st1, NULL);
            assert_int_equal(st1, 1); /* listed rows */
            assert_true(strlen(one) > 300 * 40);
            const char *BATCH[] = {"", "--batch 7", "--batch 64", "--batch 1000"};
            for (int b = 0; b < 4; b++) {
                snprintf(args, sizeof args, "%s %s %s", against[a], FORMATS[f], BATCH[b]);
                char *many = csv_run(path, args, &stn, NULL);
                assert_int_equal(stn, st1);
                if (strcmp(one, many) != 0) fail_msg("%s: output differs from --batch 1", args);
                free(many);
            }
            free(one);
        }
    }
    /* malformed past the first chunk: the same rows, status and message */
    write_long_csv(path, 300, 150);
    char args[8800], *e1, *en;
    int st1, stn;
    snprintf(args, sizeof args, "%s --keep customer --batch 1", against[0]);
    char *one = csv_run(path, args, &st1, &e1);
    snprintf(args, sizeof args, "%s --keep customer", against[0]);
    char *many = csv_run(path, args, &stn, &en);
    assert_int_equal(st1, 2);
    assert_int_equal(stn, 2);
    assert_string_equal(one, many);
    assert_string_equal(e1, en);
    assert_non_null(strstr(en, "long.csv: line "));
    /* the rows before the bad one were written: header, then 150 rows (the
     * short rows included, the blank lines not) */
    size_t lines = 0;
    for (const char *p = many; (p = strchr(p, '\n')); p++)
        lines++;
    assert_true(lines >= 151);
    free(one);
    free(many);
    free(e1);
    free(en);
    snprintf(cmd, sizeof cmd, "%s screen --csv %s --column x --db %s --batch 0 2>&1", g_ch, path,
             g_db);
    free(tu_run(cmd, &st));
    assert_int_equal(st, 2); /* --batch is 1 or more */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches_write_the_bytes_of_one_row_at_a_time),
        cmocka_unit_test(test_spreadsheet_csv_rows_are_answered_with_kept_columns),
        cmocka_unit_test(test_json_rows_equal_screen_json_and_counts_add_up),
        cmocka_unit_test(test_bad_files_and_columns_are_errors_naming_them),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

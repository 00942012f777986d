/* Addresses of the common forms (P2PKH, P2SH, P2WPKH, P2WSH, P2TR, their
 * testnet and regtest forms, EVM with and without EIP-55) and
 * one-character alterations of them, answered as an
 * independent oracle says: tests/data/addr/oracle.tsv, written by
 * tests/data/addr/make_oracle.py from the standards alone (hashlib's
 * SHA-256 for Base58Check, BIP-173/350's checksum, a Keccak-256 of its own
 * for EIP-55). An altered address is refused as a checksum fault and
 * screened as invalid - never clean, never listed - whether it comes alone
 * or in a batch. */
#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/chainaddr.h"
#include "coinhound/screen.h"

#define ORACLE   "tests/data/addr/oracle.tsv"
#define MAX_ROWS 4000

typedef struct row {
    char input[CH_ADDR_STR_MAX], answer[16], family[8], canonical[CH_ADDR_STR_MAX], form[32];
} row;

static row rows[MAX_ROWS];
static size_t n_rows;

static void load(void) {
    if (n_rows) return;
    FILE *f = fopen(ORACLE, "r");
    if (!f) fail_msg("cannot open %s", ORACLE);
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        line[strcspn(line, "\n")] = '\0';
        assert_true(n_rows < MAX_ROWS);
        row *r = &rows[n_rows++];
        if (sscanf(line, "%127[^\t]\t%15[^\t]\t%7[^\t]\t%127[^\t]\t%31s", r->input, r->answer,
                   r->family, r->canonical, r->form) != 5)
            fail_msg("%s: bad line '%s'", ORACLE, line);
    }
    fclose(f);
    assert_true(n_rows > 1000);
}

static void test_parse_gives_the_oracles_answer(void **state) {
    (void)state;
    load();
    size_t valid = 0, refused = 0;
    for (size_t i = 0; i < n_rows; i++) {
        const row *r = &rows[i];
        ch_chainaddr c;
        ch_addr_fault fault;
        ch_error err = {{0}};
        int rc = ch_chainaddr_parse_fault(r->input, CH_FAM_UNKNOWN, &c, &fault, &err);
        if (!strcmp(r->answer, "valid")) {
            if (rc != 0) fail_msg("%s (%s) refused: %s", r->input, r->form, err.msg);
            assert_string_equal(c.canonical, r->canonical);
            assert_string_equal(ch_family_name(c.family), r->family);
            /* the test networks' forms are named so */
            assert_int_equal(c.testnet, strstr(r->form, "test") != NULL);
            valid++;
        } else {
            if (rc == 0 || fault != CH_ADDR_FAULT_CHECKSUM)
                fail_msg("%s (%s): %s, fault %d, want a checksum fault", r->input, r->form,
                         rc == 0 ? "accepted" : err.msg, (int)fault);
            refused++;
        }
    }
    assert_true(valid > 500 && refused > 500);
}

/* A set listing the canonical keys of every valid row (listed = 1) or of
 * none of them: every row screened one at a time and in one batch. */
static void screen_all(int listed) {
    load();
    char *dir = tu_tmpdir(), path[512];
    assert_non_null(dir);
    snprintf(path, sizeof path, "%s/oracle.chset", dir);
    ch_screen_writer *w = ch_screen_set_writer_new();
    assert_non_null(w);
    ch_attribution a;
    memset(&a, 0, sizeof a);
    strcpy(a.category, "sanctions");
    strcpy(a.entity, "Oracle");
    strcpy(a.source_name, "test");
    a.confidence = 100;
    ch_error err = {{0}};
    for (size_t i = 0; i < n_rows; i++)
        if (listed && !strcmp(rows[i].answer, "valid") &&
            !strstr(rows[i].form, "-upper") && /* the key of a lower-case row */
            ch_screen_set_writer_add_key(w, rows[i].canonical, &a, &err) != 0)
            fail_msg("%s", err.msg);
    if (!listed && ch_screen_set_writer_add_key(w, "0x0000000000000000000000000000000000000000", &a,
                                                &err) != 0)
        fail_msg("%s", err.msg);
    if (ch_screen_set_writer_finish(w, path, NULL, &err) != 0) fail_msg("%s", err.msg);
    ch_screen_set_writer_free(w);
    ch_screen_set *set;
    if (ch_screen_set_open(path, &set, &err) != 0) fail_msg("%s", err.msg);
    const char **ptr = calloc(n_rows, sizeof *ptr);
    ch_screen_result *many = calloc(n_rows, sizeof *many);
    assert_non_null(ptr);
    assert_non_null(many);
    for (size_t i = 0; i < n_rows; i++)
        ptr[i] = rows[i].input;
    ch_screen_lookup_many(set, ptr, n_rows, many);
    for (size_t i = 0; i < n_rows; i++) {
        ch_screen_result one;
        ch_screen_lookup(set, rows[i].input, &one);
        const ch_screen_result *res[2] = {&one, &many[i]};
        for (int k = 0; k < 2; k++) {
            ch_screen_status want = strcmp(rows[i].answer, "valid") ? CH_SCREEN_INVALID
                                    : listed                        ? CH_SCREEN_LISTED
                                                                    : CH_SCREEN_CLEAN;
            if (res[k]->status != want)
                fail_msg("%s (%s, %s): status %d, want %d", rows[i].input, rows[i].form,
                         k ? "batch" : "alone", (int)res[k]->status, (int)want);
            if (want != CH_SCREEN_INVALID)
                assert_string_equal(res[k]->canonical, rows[i].canonical);
            else
                assert_true(res[k]->reason[0] != '\0');
        }
    }
    free(ptr);
    free(many);
    ch_screen_set_close(set);
    tu_rmrf(dir);
    free(dir);
}

static void test_screen_listed_and_altered(void **state) {
    (void)state;
    screen_all(1);
}

static void test_screen_clean_and_altered(void **state) {
    (void)state;
    screen_all(0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_gives_the_oracles_answer),
        cmocka_unit_test(test_screen_listed_and_altered),
        cmocka_unit_test(test_screen_clean_and_altered),
    };
    return cmocka_run_group_tests_name("addresses against an independent oracle", tests, NULL,
                                       NULL);
}

/* `coinhound decode` as a user runs it: the built binary on fixture files,
 * its JSON lines held against the fixtures' independent expected output. */
#include "support/btcblock.h"
#include "support/testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/btc.h"

/* Run `coinhound decode <args>`; stdout (and stderr when merge) returned. */
static char *run_decode(const char *args, bool merge, int *status) {
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "'%s' decode %s %s", tu_bin("coinhound"), args,
             merge ? "2>&1" : "2>/dev/null");
    char *out = tu_run(cmd, status);
    assert_non_null(out);
    return out;
}

static json_t *next_line(char **cursor) {
    char *line = *cursor;
    if (!*line) return NULL;
    char *end = strchr(line, '\n');
    assert_non_null(end);
    *cursor = end + 1;
    json_error_t jerr;
    json_t *v = json_loadb(line, (size_t)(end - line), 0, &jerr);
    if (!v) fail_msg("bad JSON line: %s", jerr.text);
    return v;
}

/* One output line against one expected line ({"txid", "outs": [[v, addr]]}). */
static void check_line(json_t *got, json_t *exp) {
    const char *txid = json_string_value(json_object_get(got, "txid"));
    assert_non_null(txid);
    assert_string_equal(txid, json_string_value(json_object_get(exp, "txid")));
    static const char *const KEYS[] = {"wtxid",    "size",   "vsize",  "version",
                                       "locktime", "inputs", "outputs"};
    for (size_t k = 0; k < sizeof KEYS / sizeof KEYS[0]; k++)
        if (!json_object_get(got, KEYS[k])) fail_msg("%s: no \"%s\"", txid, KEYS[k]);
    json_t *ins = json_object_get(got, "inputs");
    assert_true(json_array_size(ins) > 0);
    for (size_t i = 0; i < json_array_size(ins); i++) {
        json_t *in = json_array_get(ins, i);
        assert_true(json_is_integer(json_object_get(in, "sequence")));
        if (!json_object_get(in, "coinbase")) {
            assert_int_equal(strlen(json_string_value(json_object_get(in, "txid"))), 64);
            assert_true(json_is_integer(json_object_get(in, "vout")));
        }
    }
    json_t *outs = json_object_get(got, "outputs"), *want = json_object_get(exp, "outs");
    assert_int_equal(json_array_size(outs), json_array_size(want));
    for (size_t i = 0; i < json_array_size(outs); i++) {
        json_t *o = json_array_get(outs, i), *w = json_array_get(want, i);
        assert_int_equal(json_integer_value(json_object_get(o, "n")), i);
        assert_true(json_is_integer(json_object_get(o, "value")));
        assert_int_equal(json_integer_value(json_object_get(o, "value")),
                         json_integer_value(json_array_get(w, 0)));
        const char *type = json_string_value(json_object_get(o, "type"));
        const char *addr = json_string_value(json_object_get(o, "address"));
        const char *want_addr = json_string_value(json_array_get(w, 1));
        assert_non_null(type);
        assert_true(json_object_get(o, "address") != NULL); /* present, maybe null */
        if (want_addr) {
            if (!addr || strcmp(addr, want_addr))
                fail_msg("%s out %zu: %s, expected %s", txid, i, addr, want_addr);
        } else if (addr) {
            /* only P2PK shows an address the other decoder does not */
            assert_string_equal(type, "pubkey");
        }
    }
}

/* Decode the file at path with --json and hold each line against a
 * fixture's expected lines. */
static void check_file_args(const char *path, const char *rel_expected, const char *extra) {
    const char *rel = path;
    char args[4096];
    snprintf(args, sizeof args, "'%s' --json %s", path, extra);
    const char *ep = tu_fixture(rel_expected);
    assert_non_null(ep);
    size_t len;
    char *text = (char *)tu_read_file(ep, &len);
    assert_non_null(text);
    int status;
    char *out = run_decode(args, false, &status);
    assert_int_equal(status, 0);
    char *cur = out, *ecur = text;
    json_t *got, *want;
    size_t n = 0;
    while ((want = next_line(&ecur))) {
        got = next_line(&cur);
        if (!got) fail_msg("%s: output ends after %zu transactions", rel, n);
        check_line(got, want);
        json_decref(got);
        json_decref(want);
        n++;
    }
    assert_null(next_line(&cur));
    assert_true(n > 0);
    free(out);
    free(text);
}

static void check_file_at(const char *path, const char *rel_expected) {
    check_file_args(path, rel_expected, "");
}

static void check_file(const char *rel, const char *rel_expected, const char *extra) {
    const char *p = tu_fixture(rel);
    if (!p) skip();
    char path[4096];
    snprintf(path, sizeof path, "%s", p);
    check_file_args(path, rel_expected, extra);
}

static void test_json_framed(void **state) {
    (void)state;
    check_file("btc/block-277647.framed.dat", "btc/block-277647.expected.jsonl", "");
}

static void test_json_segwit(void **state) {
    (void)state;
    check_file("btc/block-59d2.raw", "btc/block-59d2.expected.jsonl", "");
    check_file("btc/blocks/block-482683.raw", "btc/blocks/block-482683.expected.jsonl", "");
}

/* Hex text (with line breaks) decodes to the same lines as the binary. */
static void test_hex_input_and_single_tx(void **state) {
    (void)state;
    const char *p = tu_fixture("btc/blocks/block-482683.raw");
    if (!p) skip();
    char bin[4096];
    snprintf(bin, sizeof bin, "%s", p);
    size_t len;
    uint8_t *raw = tu_read_file(bin, &len);
    assert_non_null(raw);

    char *dir = tu_tmpdir();
    char hexpath[4096], txpath[4096];
    snprintf(hexpath, sizeof hexpath, "%s/block.hex", dir);
    FILE *f = fopen(hexpath, "w");
    for (size_t i = 0; i < len; i++)
        fprintf(f, "%02X%s", raw[i], i % 40 == 39 ? "\n" : "");
    fclose(f);
    char args[8192];
    int st1, st2;
    snprintf(args, sizeof args, "'%s' --json", bin);
    char *a = run_decode(args, false, &st1);
    snprintf(args, sizeof args, "'%s' --json --hex", hexpath);
    char *b = run_decode(args, false, &st2);
    assert_int_equal(st1, 0);
    assert_int_equal(st2, 0);
    assert_string_equal(a, b);

    /* one transaction (a segwit one) on its own, as hex */
    ch_btc_parser *parser = ch_btc_parser_new();
    ch_btc_block blk;
    ch_error err;
    assert_int_equal(ch_btc_parse_block(parser, raw, len, &blk, &err), 0);
    const ch_btc_tx *tx = NULL;
    for (uint32_t i = 1; i < blk.n_tx && !tx; i++)
        if (blk.tx[i].has_witness) tx = &blk.tx[i];
    assert_non_null(tx);
    snprintf(txpath, sizeof txpath, "%s/tx.hex", dir);
    f = fopen(txpath, "w");
    for (size_t i = 0; i < tx->size; i++)
        fprintf(f, "%02x", tx->raw[i]);
    fputc('\n', f);
    fclose(f);
    snprintf(args, sizeof args, "'%s' --json", txpath);
    char *c = run_decode(args, false, &st1);
    assert_int_equal(st1, 0);
    char txid[65], wtxid[65];
    ch_hash256 w;
    ch_hash256_to_hex(&tx->txid, txid);
    ch_btc_tx_wtxid(tx, &w);
    ch_hash256_to_hex(&w, wtxid);
    char *cur = c;
    json_t *line = next_line(&cur);
    assert_non_null(line);
    assert_null(next_line(&cur));
    assert_string_equal(json_string_value(json_object_get(line, "txid")), txid);
    assert_string_equal(json_string_value(json_object_get(line, "wtxid")), wtxid);
    assert_int_equal(json_integer_value(json_object_get(line, "size")), tx->size);
    assert_true(json_integer_value(json_object_get(line, "vsize")) < (json_int_t)tx->size);
    /* the same tx line appears in the block's output */
    assert_non_null(strstr(a, txid));
    json_decref(line);

    /* the readable summary names the block and its height */
    snprintf(args, sizeof args, "'%s'", bin);
    char *t = run_decode(args, false, &st1);
    assert_int_equal(st1, 0);
    assert_non_null(strstr(t, "000000000000000000c238240ef6dcb26c37e75e16514e6ffc0aef7eee73e747"));
    assert_non_null(strstr(t, "height 482683"));
    assert_non_null(strstr(t, " BTC "));
    free(t);
    free(a);
    free(b);
    free(c);
    ch_btc_parser_free(parser);
    free(raw);
    tu_rmrf(dir);
    free(dir);
}

static void write_file(const char *path, const uint8_t *d, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(d, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* A block of segwit's lock-in period (commitment output, no witness) is a
 * real-chain block: decode shows it, every txid as the independent decoder
 * gives it. Built from real block 481,829 without its coinbase witness. */
static void test_lockin_block_decodes(void **state) {
    (void)state;
    const char *p = tu_fixture("btc/blocks/block-481829.raw");
    if (!p) skip();
    size_t len, slen;
    uint8_t *raw = tu_read_file(p, &len);
    uint8_t *stripped = bb_strip_coinbase_witness(raw, len, &slen);
    assert_non_null(stripped);
    char *dir = tu_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/block-481829-lockin-layout.raw", dir);
    write_file(path, stripped, slen);
    check_file_at(path, "btc/blocks/block-481829.expected.jsonl");

    /* and the hand-made one of height 481,823 */
    uint8_t commitment[32];
    memset(commitment, 0x3c, sizeof commitment);
    uint8_t *hand = bb_lockin_block(false, commitment, &len);
    write_file(path, hand, len);
    int st;
    char *out = run_decode(path, true, &st);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "height 481823"));
    assert_non_null(strstr(out, "2 transactions"));
    free(out);
    free(hand);
    free(stripped);
    free(raw);
    tu_rmrf(dir);
    free(dir);
}

/* A file that is plainly a block but is refused (bad commitment, bad merkle
 * root) is reported as a block only: no guess at it as a transaction. */
static void test_refused_block_reports_block_reason_alone(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/block.raw", dir);
    uint8_t commitment[32];
    memset(commitment, 0x3c, sizeof commitment);
    size_t len;
    /* segwit active (a coinbase witness), commitment wrong */
    uint8_t *b = bb_lockin_block(true, commitment, &len);
    write_file(path, b, len);
    int st;
    char *out = run_decode(path, true, &st);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "witness commitment mismatch"));
    assert_null(strstr(out, "transaction either"));
    assert_null(strstr(out, "input script length"));
    assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out)); /* one line */
    free(out);
    free(b);

    /* merkle root changed in the header */
    b = bb_lockin_block(false, commitment, &len);
    b[40] ^= 0x01;
    write_file(path, b, len);
    out = run_decode(path, true, &st);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "merkle root mismatch"));
    assert_null(strstr(out, "transaction either"));
    free(out);
    free(b);

    /* bytes that are neither still say why each reading failed */
    uint8_t junk[200];
    memset(junk, 0xee, sizeof junk);
    write_file(path, junk, sizeof junk);
    out = run_decode(path, true, &st);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "not a block"));
    assert_non_null(strstr(out, "not a transaction"));
    free(out);
    tu_rmrf(dir);
    free(dir);
}

static void test_errors_exit_2(void **state) {
    (void)state;
    int st;
    char *out = run_decode("/nonexistent/block.raw", true, &st);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "/nonexistent/block.raw"));
    free(out);

    const char *p = tu_fixture("btc/blocks/block-482683.raw");
    if (!p) skip();
    size_t len;
    uint8_t *raw = tu_read_file(p, &len);
    char *dir = tu_tmpdir();
    char path[4096], args[8192];
    snprintf(path, sizeof path, "%s/cut.raw", dir);
    FILE *f = fopen(path, "wb");
    fwrite(raw, 1, len - 7, f);
    fclose(f);
    snprintf(args, sizeof args, "'%s' --json", path);
    out = run_decode(args, true, &st);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, path));
    assert_non_null(strstr(out, "offset"));
    assert_non_null(strstr(out, "truncated"));
    free(out);

    /* odd hex */
    f = fopen(path, "w");
    fputs("0100000\n", f);
    fclose(f);
    out = run_decode(path, true, &st);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "odd number"));
    free(out);

    out = run_decode("--bogus", true, &st);
    assert_int_equal(st, 2);
    free(out);
    out = run_decode("--help", false, &st);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "usage: coinhound decode"));
    assert_non_null(strstr(out, "example"));
    free(out);
    free(raw);
    tu_rmrf(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_framed),
        cmocka_unit_test(test_json_segwit),
        cmocka_unit_test(test_hex_input_and_single_tx),
        cmocka_unit_test(test_lockin_block_decodes),
        cmocka_unit_test(test_refused_block_reports_block_reason_alone),
        cmocka_unit_test(test_errors_exit_2),
    };
    return cmocka_run_group_tests_name("decode_cli", tests, NULL, NULL);
}

/* Every JSON output is valid UTF-8, whatever the input held.
 *
 * Claims and their oracles:
 *   - ch_utf8_seq accepts exactly the well-formed sequences of RFC 3629
 *     (table 3-7 of the Unicode standard): hand-picked boundary cases;
 *   - ch_utf8_repair reads a stray byte as CP1252: each byte 0x80..0xFF
 *     checked against glibc's iconv("UTF-8", "CP1252"), an independent
 *     converter;
 *   - the JSON writer never writes invalid UTF-8: 20,000 random byte strings
 *     written, then parsed by jansson (which refuses invalid UTF-8);
 *   - end to end: a CSV in Latin-1 imported, `screen --json` and the STIX and
 *     MISP exports parsed by jansson, the name read back in UTF-8. */
#include "support/testutil.h"

#include <iconv.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/jsonw.h"
#include "util/utf8.h"

static size_t seq(const char *s) {
    return ch_utf8_seq((const unsigned char *)s, strlen(s));
}

static void test_seq_well_formed_only(void **state) {
    (void)state;
    assert_int_equal(seq("A"), 1);
    assert_int_equal(seq("\xc2\x80"), 2);         /* U+0080 */
    assert_int_equal(seq("\xdf\xbf"), 2);         /* U+07FF */
    assert_int_equal(seq("\xe0\xa0\x80"), 3);     /* U+0800 */
    assert_int_equal(seq("\xef\xbf\xbd"), 3);     /* U+FFFD */
    assert_int_equal(seq("\xf0\x90\x80\x80"), 4); /* U+10000 */
    assert_int_equal(seq("\xf4\x8f\xbf\xbf"), 4); /* U+10FFFF */
    static const char *const BAD[] = {
        "\x80",             /* a continuation byte alone */
        "\xc0\x80",         /* overlong NUL */
        "\xc1\xbf",         /* overlong */
        "\xe0\x9f\xbf",     /* overlong 3-byte */
        "\xed\xa0\x80",     /* surrogate U+D800 */
        "\xf0\x8f\xbf\xbf", /* overlong 4-byte */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xf5\x80\x80\x80",
        "\xff",
        "\xe9t",    /* Latin-1 e-acute then ASCII */
        "\xe2\x82", /* cut short */
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++)
        if (seq(BAD[i]) != 0) fail_msg("case %zu accepted", i);
    assert_true(ch_utf8_valid("caf\xc3\xa9 \xe2\x80\x9cok\xe2\x80\x9d", 14));
    assert_false(ch_utf8_valid("caf\xe9", 4));
}

static void test_repair_reads_cp1252_like_iconv(void **state) {
    (void)state;
    iconv_t cd = iconv_open("UTF-8", "CP1252");
    if (cd == (iconv_t)-1) {
        fprintf(stderr, "skipped: iconv has no CP1252\n");
        skip();
    }
    size_t defined = 0;
    for (unsigned b = 0x80; b <= 0xff; b++) {
        char in[4] = {'A', (char)b, 'B', 0}, mine[16], ref[16] = {0};
        size_t fixed = ch_utf8_repair(in, 3, false, mine, sizeof mine);
        assert_int_equal(fixed, 1);
        char *ip = in, *op = ref;
        size_t il = 3, ol = sizeof ref - 1;
        iconv(cd, NULL, NULL, NULL, NULL);
        if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
            /* CP1252 leaves 0x81, 0x8D, 0x8F, 0x90, 0x9D undefined */
            assert_string_equal(mine, "A\xef\xbf\xbd"
                                      "B");
            continue;
        }
        defined++;
        if (strcmp(mine, ref) != 0) fail_msg("byte 0x%02x: not what iconv gives", b);
    }
    assert_int_equal(defined, 128 - 5);
    iconv_close(cd);
}

static void test_repair_keeps_utf8_and_cuts_whole_characters(void **state) {
    (void)state;
    char out[64];
    const char *good =
        "Roman SEMENOV \xe2\x80\x94 \xd0\xa1\xd0\x95\xd0\x9c\xd0\x81\xd0\x9d\xd0\x9e\xd0\x92";
    assert_int_equal(ch_utf8_repair(good, strlen(good), false, out, sizeof out), 0);
    assert_string_equal(out, good);
    /* a Latin-1 byte beside valid UTF-8: only it is converted */
    assert_int_equal(ch_utf8_repair("\xc3\xa9 \xe9", 4, false, out, sizeof out), 1);
    assert_string_equal(out, "\xc3\xa9 \xc3\xa9");
    /* text cut by a buffer's size: the partial character is dropped; the
     * same bytes in a text that was not cut are Latin-1 letters */
    assert_int_equal(ch_utf8_repair("abc\xe2\x80", 5, true, out, sizeof out), 0);
    assert_string_equal(out, "abc");
    assert_int_equal(ch_utf8_repair("caf\xe9", 4, true, out, sizeof out), 0);
    assert_string_equal(out, "caf");
    assert_int_equal(ch_utf8_repair("caf\xe9", 4, false, out, sizeof out), 1);
    assert_string_equal(out, "caf\xc3\xa9");
    /* too long for the output: cut between characters */
    assert_int_equal(ch_utf8_repair("ab\xc3\xa9", 4, false, out, 4), 0);
    assert_string_equal(out, "ab");
    assert_int_equal(ch_utf8_repair("ab\xe9", 3, false, out, 4), 1);
    assert_string_equal(out, "ab");
}

static uint64_t rnd(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_json_writer_output_always_parses(void **state) {
    (void)state;
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    size_t invalid_inputs = 0;
    for (int round = 0; round < 20000; round++) {
        char in[40];
        size_t n = rnd(&seed) % sizeof in;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = rnd(&seed);
            /* mostly text, with high bytes, valid sequences and controls */
            in[i] = (char)(r % 4 == 0   ? 0x80 + (r >> 8) % 128
                           : r % 4 == 1 ? (r >> 8) % 32 + 1
                                        : 0x20 + (r >> 8) % 95);
        }
        invalid_inputs += !ch_utf8_valid(in, n);
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_non_null(f);
        ch_jw w;
        ch_jw_init(&w, f);
        ch_jw_obj_begin(&w);
        ch_jw_key(&w, "s");
        ch_jw_strn(&w, in, n);
        ch_jw_obj_end(&w);
        fclose(f);
        json_error_t jerr;
        json_t *v = json_loadb(buf, len, 0, &jerr);
        if (!v) fail_msg("round %d: invalid JSON: %s", round, jerr.text);
        if (ch_utf8_valid(in, n)) {
            const char *back = json_string_value(json_object_get(v, "s"));
            assert_int_equal(strlen(back), n);
            assert_memory_equal(back, in, n);
        }
        json_decref(v);
        free(buf);
    }
    assert_true(invalid_inputs > 10000); /* the property was really exercised */
}

/* The Latin-1 name as it must come back, in UTF-8. */
#define NAME_LATIN1                                                                                \
    "SOCI\xc9T\xc9 G\xc9N\xc9RALE \x93"                                                            \
    "DEMO\x94"
#define NAME_UTF8                                                                                  \
    "SOCI\xc3\x89T\xc3\x89 G\xc3\x89N\xc3\x89RALE \xe2\x80\x9c"                                    \
    "DEMO\xe2\x80\x9d"

static json_t *load_file_json(const char *path) {
    json_error_t jerr;
    json_t *v = json_load_file(path, 0, &jerr);
    if (!v) fail_msg("%s: invalid JSON: %s (line %d)", path, jerr.text, jerr.line);
    return v;
}

static void test_latin1_csv_to_valid_json(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char path[4200], cmd[16384];
    snprintf(path, sizeof path, "%s/list.csv", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    /* a made-up entity in the layout of a hand-made list, saved as CP1252 */
    fputs("address,category,entity,source,note\r\n"
          "0x2222222222222222222222222222222222222222,scam," NAME_LATIN1
          ",desk list,caf\xe9 r\xe9seau\r\n",
          f);
    fclose(f);
    const char *bin = tu_bin("coinhound");
    int st;
    snprintf(cmd, sizeof cmd, "%s intel import %s --db %s/db 2>&1", bin, path, dir);
    char *out = tu_run(cmd, &st);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "not UTF-8"));
    assert_non_null(strstr(out, "1 rows not UTF-8"));
    free(out);
    snprintf(cmd, sizeof cmd,
             "%s screen --db %s/db --json 0x2222222222222222222222222222222222222222", bin, dir);
    out = tu_run(cmd, &st);
    assert_int_equal(st, 1);
    json_error_t jerr;
    json_t *v = json_loads(out, 0, &jerr);
    if (!v) fail_msg("screen --json is not valid JSON: %s", jerr.text);
    json_t *r = json_array_get(json_object_get(v, "reasons"), 0);
    assert_string_equal(json_string_value(json_object_get(r, "entity")), NAME_UTF8);
    assert_string_equal(json_string_value(json_object_get(r, "note")), "caf\xc3\xa9 r\xc3\xa9seau");
    json_decref(v);
    free(out);
    /* the exports (built with jansson) hold it too */
    snprintf(cmd, sizeof cmd,
             "%s intel export --format stix --out %s/x.stix.json --db %s/db 2>&1 && "
             "%s intel export --format misp --out %s/x.misp.json --db %s/db 2>&1",
             bin, dir, dir, bin, dir, dir);
    out = tu_run(cmd, &st);
    if (st != 0) fail_msg("export: %s", out);
    free(out);
    snprintf(path, sizeof path, "%s/x.stix.json", dir);
    v = load_file_json(path);
    char *dump = json_dumps(v, 0);
    assert_non_null(strstr(dump, NAME_UTF8));
    free(dump);
    json_decref(v);
    snprintf(path, sizeof path, "%s/x.misp.json", dir);
    json_decref(load_file_json(path));
    tu_rmrf(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seq_well_formed_only),
        cmocka_unit_test(test_repair_reads_cp1252_like_iconv),
        cmocka_unit_test(test_repair_keeps_utf8_and_cuts_whole_characters),
        cmocka_unit_test(test_json_writer_output_always_parses),
        cmocka_unit_test(test_latin1_csv_to_valid_json),
    };
    return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}

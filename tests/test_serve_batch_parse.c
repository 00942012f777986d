/* POST /v1/screen's body on simdjson (srv_parse_batch_fast) takes exactly
 * what the jansson parse (srv_parse_batch) takes, as the same items.
 *
 * Claims and their oracle, srv_parse_batch (jansson, the rules of
 * docs/serve.md):
 *   - a body the fast parse accepts, jansson accepts, with the same items
 *     (address, chain, external_id, byte for byte, NULL the same);
 *   - the bodies a client sends (plain, escaped, Unicode, a 256-byte
 *     external_id, whitespace) are accepted by the fast parse itself, so
 *     batches do not pay jansson;
 *   - the hostile ones (duplicate and unknown keys, "\u0000", a lone
 *     surrogate escape, a byte-order mark, a non-string field, a bad chain,
 *     a 257-byte external_id, empty, too many, trailing bytes, invalid
 *     UTF-8) are declined by it and left to jansson, which refuses them;
 *     "\u0000", a lone surrogate and a byte that is no UTF-8 at every place
 *     of a long string (the first, middle and last of its 8-byte words: the
 *     ASCII check reads words), and a valid non-ASCII character so placed
 *     taken with jansson's items. */
#include "support/testutil.h"

#include <stdlib.h>
#include <string.h>

#include "server/request.h"
#include "util/sjson.h"

#define MAX_ITEMS 4

static bool same_str(const char *a, const char *b) {
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Both parses of body; *fast_ok and *slow_ok say which accepted; when the
 * fast one did, its items are the slow one's. */
static void both(sj_parser *p, const char *body, size_t len, int *fast_ok, int *slow_ok) {
    srv_item *fi = NULL, *si = NULL;
    size_t cap = 0, fn = 0, sn = 0;
    json_t *doc = NULL;
    int too_many;
    ch_error err;
    *fast_ok = srv_parse_batch_fast(p, body, len, MAX_ITEMS, &fi, &cap, &fn);
    assert_true(*fast_ok >= 0);
    *slow_ok = srv_parse_batch(body, len, MAX_ITEMS, &doc, &si, &sn, &too_many, &err) == 0;
    if (*fast_ok) {
        if (!*slow_ok) fail_msg("accepted on simdjson, refused by jansson (%s): %s", err.msg, body);
        assert_int_equal(fn, sn);
        for (size_t i = 0; i < fn; i++) {
            assert_true(same_str(fi[i].address, si[i].address));
            assert_true(same_str(fi[i].chain, si[i].chain));
            assert_true(same_str(fi[i].external_id, si[i].external_id));
        }
    }
    free(fi);
    free(si);
    json_decref(doc);
}

static void test_client_batches_take_the_fast_parse_with_janssons_items(void **state) {
    (void)state;
    sj_parser *p = sj_parser_new();
    assert_non_null(p);
    char idmax[400];
    memset(idmax, 'x', 256);
    idmax[256] = '\0';
    char body256[700];
    snprintf(body256, sizeof body256, "[{\"address\":\"a\",\"external_id\":\"%s\"}]", idmax);
    const char *const GOOD[] = {
        "[{\"address\":\"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3\"}]",
        "[{\"address\":\"bc1qxy\",\"chain\":\"btc\",\"external_id\":\"id-1\"},"
        "{\"external_id\":\"2\",\"address\":\"0xab\"}]",
        " \n\t[ {\"address\" : \"a\" } , {\"address\":\"b\",\"chain\":\"eth-main\"} ]\r\n",
        "[{\"addr\\u0065ss\":\"esc\\\"aped\\\\\\/\",\"external_id\":\"caf\\u00e9 "
        "\\ud83d\\ude00\"}]",
        "[{\"address\":\"\",\"external_id\":\"\"}]",
        "[{\"address\":\"caf\xc3\xa9\"},{\"address\":\"b\"},{\"address\":\"c\"},{\"address\":\"d\"}"
        "]",
        body256,
    };
    for (size_t i = 0; i < sizeof GOOD / sizeof GOOD[0]; i++) {
        int f, s;
        both(p, GOOD[i], strlen(GOOD[i]), &f, &s);
        if (!f || !s) fail_msg("case %zu: fast %d, jansson %d: %s", i, f, s, GOOD[i]);
    }
    /* a two-byte character at each place of a 20-byte address and id */
    for (int at = 0; at < 20; at++) {
        char a[32], body[128];
        memset(a, 'x', 20);
        a[20] = '\0';
        memcpy(a + at, "\xc3\xa9", 2);
        a[21] = '\0';
        snprintf(body, sizeof body, "[{\"address\":\"%s\",\"external_id\":\"%s\"}]", a, a);
        int f, s;
        both(p, body, strlen(body), &f, &s);
        if (!f || !s) fail_msg("place %d: fast %d, jansson %d: %s", at, f, s, body);
    }
    sj_parser_free(p);
}

static void test_hostile_batches_are_left_to_jansson_which_refuses_them(void **state) {
    (void)state;
    sj_parser *p = sj_parser_new();
    assert_non_null(p);
    char id257[700];
    char x[300];
    memset(x, 'x', 257);
    x[257] = '\0';
    snprintf(id257, sizeof id257, "[{\"address\":\"a\",\"external_id\":\"%s\"}]", x);
    const char *const BAD[] = {
        "",
        "[]",
        "{}",
        "\"a\"",
        "[{\"address\":\"a\"}",
        "[{\"address\":\"a\"}] x",
        "[{\"address\":\"a\",\"address\":\"b\"}]",
        "[{\"address\":\"a\",\"addr\\u0065ss\":\"b\"}]",
        "[{\"address\":\"a\",\"chain\":\"btc\",\"chain\":\"btc\"}]",
        "[{\"address\":\"a\",\"note\":\"b\"}]",
        "[{\"address\":\"a\",\"address\\u0000\":\"b\"}]",
        "[{\"address\":\"a\\u0000b\"}]",
        "[{\"address\":\"\\udc00\"}]",
        "[{\"address\":\"\\ud800x\"}]",
        "\xef\xbb\xbf[{\"address\":\"a\"}]",
        "[{\"address\":1}]",
        "[{\"address\":null}]",
        "[{\"address\":\"a\",\"chain\":[]}]",
        "[{\"address\":\"a\",\"chain\":\"b t c\"}]",
        "[{\"address\":\"a\",\"external_id\":7}]",
        "[{\"chain\":\"btc\"}]",
        "[{\"address\":\"a\"},2]",
        "[{\"address\":\"\xe9\"}]",
        "[{\"address\":\"a\x01\"}]",
        "[{\"address\":\"a\"},{\"address\":\"b\"},{\"address\":\"c\"},{\"address\":\"d\"},"
        "{\"address\":\"e\"}]",
        id257,
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        int f, s;
        both(p, BAD[i], strlen(BAD[i]), &f, &s);
        if (f || s) fail_msg("case %zu: fast %d, jansson %d: %s", i, f, s, BAD[i]);
    }
    /* "\u0000", a lone surrogate, a byte of no UTF-8, a control byte at each
     * place of a 20-byte address, and of an external_id */
    static const char *const INSIDE[] = {"\\u0000", "\\udc00", "\xe9", "\xc3", "\x01"};
    for (size_t k = 0; k < sizeof INSIDE / sizeof INSIDE[0]; k++)
        for (int at = 0; at <= 20; at++)
            for (int field = 0; field < 2; field++) {
                char a[64], body[160];
                snprintf(a, sizeof a, "%.*s%s%.*s", at, "xxxxxxxxxxxxxxxxxxxx", INSIDE[k], 20 - at,
                         "xxxxxxxxxxxxxxxxxxxx");
                snprintf(body, sizeof body, "[{\"address\":\"%s\",\"external_id\":\"%s\"}]",
                         field ? "ok" : a, field ? a : "ok");
                int f, s;
                both(p, body, strlen(body), &f, &s);
                if (f || s) fail_msg("%zu at %d: fast %d, jansson %d: %s", k, at, f, s, body);
            }
    /* a NUL byte in the body itself */
    static const char NUL_BODY[] = "[{\"address\":\"a\0b\"}]";
    int f, s;
    both(p, NUL_BODY, sizeof NUL_BODY - 1, &f, &s);
    assert_false(f);
    assert_false(s);
    sj_parser_free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_batches_take_the_fast_parse_with_janssons_items),
        cmocka_unit_test(test_hostile_batches_are_left_to_jansson_which_refuses_them),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

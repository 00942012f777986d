/* The JSON writer's memory mode writes the bytes its stream mode writes, and
 * a double is written in the shortest of %.15g..%.17g that reads back.
 *
 * Claims and their oracles:
 *   - memory mode == stream mode: the same calls (random nesting, keys,
 *     strings with escapes, control bytes and invalid UTF-8, integers,
 *     doubles, literals) written to a stdio stream (open_memstream) and in
 *     memory, the two texts compared byte for byte, over 2,000 random
 *     documents; both parse with jansson;
 *   - doubles: the written text is the first of snprintf("%.15g".."%.17g")
 *     that strtod reads back to the same double (the rule computed here,
 *     independently of the writer's shortcuts for whole numbers and its
 *     cache), for hand-picked edges (-0, 1e15, 2^53, tiny, huge) and 20,000
 *     random doubles, each written twice (the second from the cache);
 *   - a buffer taken is NUL-terminated and the writer is empty after. */
#include "support/testutil.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/jsonw.h"

/* xorshift64*: the documents are the same on every run */
static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 2685821657736338717ull;
}

static double rnd_double(void) {
    switch (rnd() % 6) {
    case 0:
        return (double)(int64_t)(rnd() % 2000001) - 1000000.0; /* whole */
    case 1:
        return (double)(rnd() % 1000) / 100.0; /* a score such as 0.85 */
    case 2: {
        uint64_t b = rnd();
        double d;
        memcpy(&d, &b, sizeof d);
        return d; /* any bits: NaN and infinities too */
    }
    case 3:
        return ldexp((double)(rnd() >> 11), (int)(rnd() % 200) - 100);
    case 4:
        return -(double)(rnd() % 100) / 7.0;
    default:
        return (double)(rnd() >> 11) * (rnd() % 2 ? 1.0 : -1.0); /* past 2^53 */
    }
}

static void rnd_string(char *s, size_t *n) {
    static const char *const PIECES[] = {
        "a",        "address", "\"",   "\\",          "\n",   "\r",           "\t",
        "\x01",     "\x1f",    "\x7f", "caf\xc3\xa9", "\xe9", "\xed\xa0\x80", "\xf0\x9f\x98\x80",
        "\xe2\x82", " ",       "/",    "\x80"};
    size_t k = 0, parts = rnd() % 8;
    for (size_t i = 0; i < parts; i++) {
        const char *p = PIECES[rnd() % (sizeof PIECES / sizeof PIECES[0])];
        size_t l = strlen(p);
        memcpy(s + k, p, l);
        k += l;
    }
    s[k] = '\0';
    *n = k;
}

/* One random value into both writers, depth levels deep at most. */
static void rnd_value(ch_jw *a, ch_jw *b, int depth) {
    char s[128];
    size_t n;
    unsigned kind = (unsigned)(rnd() % (depth > 0 ? 9 : 7));
    switch (kind) {
    case 0:
        rnd_string(s, &n);
        ch_jw_strn(a, s, n);
        ch_jw_strn(b, s, n);
        break;
    case 1: {
        int64_t v = (int64_t)rnd();
        ch_jw_int(a, v);
        ch_jw_int(b, v);
        break;
    }
    case 2: {
        uint64_t v = rnd() >> (rnd() % 64);
        ch_jw_uint(a, v);
        ch_jw_uint(b, v);
        break;
    }
    case 3: {
        double d = rnd_double();
        ch_jw_double(a, d);
        ch_jw_double(b, d);
        break;
    }
    case 4: {
        bool v = rnd() % 2;
        ch_jw_bool(a, v);
        ch_jw_bool(b, v);
        break;
    }
    case 5:
        ch_jw_null(a);
        ch_jw_null(b);
        break;
    case 6:
        ch_jw_str(a, NULL);
        ch_jw_str(b, NULL);
        break;
    case 7: {
        size_t m = rnd() % 5;
        ch_jw_arr_begin(a);
        ch_jw_arr_begin(b);
        for (size_t i = 0; i < m; i++)
            rnd_value(a, b, depth - 1);
        ch_jw_arr_end(a);
        ch_jw_arr_end(b);
        break;
    }
    default: {
        size_t m = rnd() % 5;
        ch_jw_obj_begin(a);
        ch_jw_obj_begin(b);
        for (size_t i = 0; i < m; i++) {
            snprintf(s, sizeof s, "k%zu\"\\%c", i, (char)('a' + rnd() % 26));
            ch_jw_key(a, s);
            ch_jw_key(b, s);
            rnd_value(a, b, depth - 1);
        }
        ch_jw_obj_end(a);
        ch_jw_obj_end(b);
    }
    }
}

static void test_memory_mode_writes_the_stream_modes_bytes(void **state) {
    (void)state;
    for (int doc = 0; doc < 2000; doc++) {
        char *sbuf = NULL;
        size_t slen = 0;
        FILE *f = open_memstream(&sbuf, &slen);
        assert_non_null(f);
        ch_jw a, b;
        ch_jw_init(&a, f);
        ch_jw_init_mem(&b, doc % 2 ? 0 : 16); /* a small first buffer: it grows */
        unsigned lines = 1 + (unsigned)(rnd() % 3);
        for (unsigned l = 0; l < lines; l++) {
            if (rnd() % 4 == 0) {
                bool v = rnd() % 2;
                ch_jw_arr_begin(&a);
                ch_jw_arr_begin(&b);
                ch_jw_bool(&a, v);
                ch_jw_bool(&b, v);
                ch_jw_raw(&a, "12.5e3");
                ch_jw_raw(&b, "12.5e3");
                ch_jw_arr_end(&a);
                ch_jw_arr_end(&b);
            } else {
                ch_jw_obj_begin(&a);
                ch_jw_obj_begin(&b);
                ch_jw_key(&a, "v");
                ch_jw_key(&b, "v");
                rnd_value(&a, &b, 4);
                ch_jw_obj_end(&a);
                ch_jw_obj_end(&b);
            }
            ch_jw_newline(&a);
            ch_jw_newline(&b);
        }
        fclose(f);
        size_t mlen;
        char *mbuf = ch_jw_mem_take(&b, &mlen);
        assert_non_null(mbuf);
        assert_int_equal(mbuf[mlen], '\0');
        assert_null(b.buf);
        assert_int_equal(b.len, 0);
        if (mlen != slen || memcmp(mbuf, sbuf, slen) != 0)
            fail_msg("document %d differs:\n stream: %.300s\n memory: %.300s", doc, sbuf, mbuf);
        /* each line is one JSON document */
        for (char *line = mbuf, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
            json_error_t je;
            /* integers past 2^63 as reals: jansson holds int64 only */
            json_t *j = json_loadb(line, (size_t)(nl - line), JSON_DECODE_INT_AS_REAL, &je);
            if (!j) fail_msg("document %d: %s: %.300s", doc, je.text, line);
            json_decref(j);
        }
        free(mbuf);
        free(sbuf);
    }
}

/* The rule, computed here: the first precision from 15 that reads back. */
static void shortest(double v, char *out, size_t cap) {
    if (!isfinite(v)) {
        snprintf(out, cap, "null");
        return;
    }
    for (int p = 15; p <= 17; p++) {
        snprintf(out, cap, "%.*g", p, v);
        if (strtod(out, NULL) == v) return;
    }
}

static void check_double(double v) {
    char want[64];
    shortest(v, want, sizeof want);
    for (int pass = 0; pass < 2; pass++) { /* the second: from the cache */
        ch_jw w;
        ch_jw_init_mem(&w, 0);
        ch_jw_double(&w, v);
        size_t n;
        char *got = ch_jw_mem_take(&w, &n);
        assert_non_null(got);
        if (strcmp(got, want) != 0) fail_msg("%a: wrote %s, the rule gives %s", v, got, want);
        free(got);
    }
}

static void test_doubles_are_the_shortest_form_that_reads_back(void **state) {
    (void)state;
    static const double EDGES[] = {0.0,
                                   -0.0,
                                   1.0,
                                   -1.0,
                                   0.1,
                                   0.85,
                                   1.0 / 3.0,
                                   999999999999999.0,
                                   -999999999999999.0,
                                   1e15,
                                   -1e15,
                                   1e16,
                                   9007199254740992.0,
                                   9007199254740993.0,
                                   1e300,
                                   5e-324,
                                   2.2250738585072014e-308,
                                   123456789012.5,
                                   HUGE_VAL,
                                   -HUGE_VAL,
                                   NAN};
    for (size_t i = 0; i < sizeof EDGES / sizeof EDGES[0]; i++)
        check_double(EDGES[i]);
    for (int i = 0; i < 20000; i++)
        check_double(rnd_double());
}

/* CH_JW_KEY (a key written pre-quoted) writes exactly what ch_jw_key
 * writes, as the first member and after others, nested, in both modes. */
static void write_keys(ch_jw *w, bool quoted) {
    ch_jw_arr_begin(w);
    for (int k = 0; k < 2; k++) {
        ch_jw_obj_begin(w);
        if (quoted)
            CH_JW_KEY(w, "address");
        else
            ch_jw_key(w, "address");
        ch_jw_str(w, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa");
        if (quoted)
            CH_JW_KEY(w, "reasons");
        else
            ch_jw_key(w, "reasons");
        ch_jw_arr_begin(w);
        ch_jw_obj_begin(w);
        if (quoted)
            CH_JW_KEY(w, "x");
        else
            ch_jw_key(w, "x");
        ch_jw_uint(w, 1);
        ch_jw_obj_end(w);
        ch_jw_arr_end(w);
        ch_jw_obj_end(w);
    }
    ch_jw_arr_end(w);
}

static void test_quoted_keys_write_what_keys_write(void **state) {
    (void)state;
    char *a = NULL, *b = NULL;
    size_t an = 0, bn = 0;
    FILE *fa = open_memstream(&a, &an), *fb = open_memstream(&b, &bn);
    assert_non_null(fa);
    assert_non_null(fb);
    ch_jw wa, wb;
    ch_jw_init(&wa, fa);
    ch_jw_init(&wb, fb);
    write_keys(&wa, false);
    write_keys(&wb, true);
    fclose(fa);
    fclose(fb);
    assert_string_equal(a, b);
    assert_string_equal(
        a, "[{\"address\":\"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa\",\"reasons\":[{\"x\":1}]},"
           "{\"address\":\"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa\",\"reasons\":[{\"x\":1}]}]");
    ch_jw m;
    ch_jw_init_mem(&m, 0);
    write_keys(&m, true);
    size_t mn = 0;
    char *mt = ch_jw_mem_take(&m, &mn);
    assert_string_equal(mt, a);
    free(mt);
    free(a);
    free(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_mode_writes_the_stream_modes_bytes),
        cmocka_unit_test(test_doubles_are_the_shortest_form_that_reads_back),
        cmocka_unit_test(test_quoted_keys_write_what_keys_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

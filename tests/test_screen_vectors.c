/* The screening set's published format (docs/screening-set.md) holds: the
 * committed test vectors (tests/data/screen/vectors.chset and answers.tsv)
 * are what the library answers, what an independent reader written from
 * the spec answers (tests/spec/screen_spec_reader.c), and format 2 files
 * are still read. */
#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h> /* libxxhash itself, called (not inlined): an oracle for h1 */

#include "coinhound/screen.h"

#define VECTORS "tests/data/screen/vectors.chset"
#define ANSWERS "tests/data/screen/answers.tsv"

typedef struct row {
    char input[128], answer[16], key[128], h1[20], h2[20], home[24], attrs[1024];
} row;

/* The rows of answers.tsv (comment lines skipped); *n gets their count. */
static row *read_answers(size_t *n) {
    FILE *f = fopen(ANSWERS, "r");
    assert_non_null(f);
    row *rows = NULL;
    size_t cap = 0;
    char line[4096];
    *n = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        line[strcspn(line, "\n")] = '\0';
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            rows = realloc(rows, cap * sizeof *rows);
            assert_non_null(rows);
        }
        row *r = &rows[(*n)++];
        char *fld[7] = {0}, *p = line;
        for (int i = 0; i < 7 && p; i++) {
            fld[i] = p;
            p = strchr(p, '\t');
            if (p) *p++ = '\0';
        }
        if (!fld[6]) fail_msg("answers.tsv: row %zu has fewer than 7 fields", *n);
        snprintf(r->input, sizeof r->input, "%s", fld[0]);
        snprintf(r->answer, sizeof r->answer, "%s", fld[1]);
        snprintf(r->key, sizeof r->key, "%s", fld[2]);
        snprintf(r->h1, sizeof r->h1, "%s", fld[3]);
        snprintf(r->h2, sizeof r->h2, "%s", fld[4]);
        snprintf(r->home, sizeof r->home, "%s", fld[5]);
        snprintf(r->attrs, sizeof r->attrs, "%s", fld[6]);
    }
    fclose(f);
    return rows;
}

/* "category|entity|source;..." of a listed result, as answers.tsv writes it. */
static void describe(const ch_screen_set *set, const ch_screen_result *r, char *out, size_t cap) {
    out[0] = '\0';
    for (uint32_t i = 0; i < r->n_attr; i++) {
        ch_screen_attr a;
        assert_int_equal(ch_screen_attr_get(set, r, i, &a), 0);
        size_t at = strlen(out);
        snprintf(out + at, cap - at, "%s%s|%s|%s", i ? ";" : "", a.category, a.entity,
                 a.source_name);
    }
}

static const char *status_name(ch_screen_status s) {
    return s == CH_SCREEN_LISTED ? "listed" : s == CH_SCREEN_CLEAN ? "clean" : "invalid";
}

/* Every row against a set: the answer, the key, and for listed rows the
 * attributions in order. With hashes, also h1 (ch_screen_hash, and
 * libxxhash's own XXH3-128), h2 and the home bucket. */
static void check_rows(const ch_screen_set *set, const row *rows, size_t n, bool hashes) {
    ch_screen_info info;
    ch_screen_set_info(set, &info);
    for (size_t i = 0; i < n; i++) {
        const row *w = &rows[i];
        ch_screen_result r;
        ch_screen_lookup(set, w->input, &r);
        if (strcmp(status_name(r.status), w->answer) != 0)
            fail_msg("%s: library says %s, vectors say %s", w->input, status_name(r.status),
                     w->answer);
        if (r.status == CH_SCREEN_INVALID) {
            assert_true(r.reason[0] != '\0'); /* says why */
            continue;
        }
        assert_string_equal(r.canonical, w->key);
        if (r.status == CH_SCREEN_LISTED) {
            char got[1024];
            describe(set, &r, got, sizeof got);
            assert_string_equal(got, w->attrs);
        }
        if (!hashes) continue;
        size_t len = strlen(w->key);
        char h[20];
        snprintf(h, sizeof h, "%016llx",
                 (unsigned long long)ch_screen_hash(w->key, len, info.seed));
        assert_string_equal(h, w->h1);
        XXH128_hash_t x = XXH3_128bits_withSeed(w->key, len, info.seed);
        snprintf(h, sizeof h, "%016llx", (unsigned long long)x.low64);
        assert_string_equal(h, w->h1);
        snprintf(h, sizeof h, "%016llx", (unsigned long long)x.high64);
        assert_string_equal(h, w->h2);
        unsigned long long home = ((x.low64 & 0xffffffffULL) * info.buckets) >> 32;
        assert_int_equal(home, strtoull(w->home, NULL, 10));
    }
}

/* The library answers the committed vectors: listed, clean and invalid
 * addresses, keys, hashes, home buckets and attributions, an address found
 * only under its folded (lower-cased) key among them. */
static void test_library_answers_the_vectors(void **state) {
    (void)state;
    size_t n;
    row *rows = read_answers(&n);
    assert_true(n >= 22);
    size_t kinds[3] = {0};
    for (size_t i = 0; i < n; i++)
        kinds[!strcmp(rows[i].answer, "clean") ? 1 : !strcmp(rows[i].answer, "invalid") ? 2 : 0]++;
    assert_true(kinds[0] >= 5 && kinds[1] >= 3 && kinds[2] >= 5);
    ch_screen_set *set;
    ch_error err;
    if (ch_screen_set_open(VECTORS, &set, &err) != 0) fail_msg("%s", err.msg);
    ch_screen_info info;
    ch_screen_set_info(set, &info);
    assert_int_equal(info.version, 3);
    assert_int_equal(info.addresses, 8);
    assert_int_equal(info.buckets, 7);
    assert_int_equal(info.seed, 0x636f696e686f756eULL);
    size_t len;
    uint8_t *bytes = tu_read_file(VECTORS, &len);
    assert_non_null(bytes);
    assert_int_equal(bytes[200], 1); /* flag bit 0: the set holds a folded key */
    free(bytes);
    check_rows(set, rows, n, true);
    ch_screen_set_close(set);
    free(rows);
}

/* An independent reader, written from docs/screening-set.md with libxxhash
 * and OpenSSL only, checks the file (header, SHA-256, sections) and gives
 * the same answers, hashes and attributions for every row. */
static void test_independent_reader_agrees(void **state) {
    (void)state;
    const char *reader = tu_bin("tests/screen_spec_reader");
    FILE *f = fopen(reader, "rb");
    if (!f) fail_msg("%s not built (make builds it with the tests)", reader);
    fclose(f);
    size_t n;
    free(read_answers(&n));
    char cmd[4400], want[64];
    snprintf(cmd, sizeof cmd, "%s %s %s 2>&1", reader, VECTORS, ANSWERS);
    int st = -1;
    char *out = tu_run(cmd, &st);
    snprintf(want, sizeof want, "%zu rows, %zu agree", n, n);
    if (st != 0 || !strstr(out, want)) fail_msg("independent reader: exit %d: %s", st, out);
    free(out);
    /* It notices a wrong answer: a listed key's attributions changed. */
    char *dir = tu_tmpdir(), bad[4200];
    snprintf(bad, sizeof bad, "%s/bad.tsv", dir);
    FILE *b = fopen(bad, "w");
    assert_non_null(b);
    fprintf(b, "12ZEw5Hcv1hTb6YUQJ69y1V7uhcoDz92PH\tlisted\t12ZEw5Hcv1hTb6YUQJ69y1V7uhcoDz92PH\t"
               "1ac5843ea29012d4\t860a074e9fb2bf33\t4\tsanctions|Someone else|test vectors\n");
    fclose(b);
    snprintf(cmd, sizeof cmd, "%s %s %s 2>&1", reader, VECTORS, bad);
    out = tu_run(cmd, &st);
    assert_int_not_equal(st, 0);
    assert_non_null(strstr(out, "1 rows, 0 agree"));
    free(out);
    tu_rmrf(dir);
    free(dir);
}

/* Format 2 (coinhound's own hash) is still read: the vectors' addresses and
 * attributions written as format 2 give the same answers; the writer
 * refuses versions it cannot write. */
static void test_format_2_still_read(void **state) {
    (void)state;
    ch_screen_set *set;
    ch_error err;
    if (ch_screen_set_open(VECTORS, &set, &err) != 0) fail_msg("%s", err.msg);
    ch_screen_writer *w = ch_screen_set_writer_new();
    assert_non_null(w);
    assert_int_equal(ch_screen_set_writer_set_version(w, 1, &err), -1);
    assert_non_null(strstr(err.msg, "cannot be written"));
    assert_int_equal(ch_screen_set_writer_set_version(w, CH_SCREEN_VERSION + 1, &err), -1);
    assert_int_equal(ch_screen_set_writer_set_version(w, 2, &err), 0);
    uint64_t cursor = 0;
    const char *key;
    size_t len;
    ch_screen_result r;
    memset(&r, 0, sizeof r);
    r.status = CH_SCREEN_LISTED;
    while (ch_screen_set_next(set, &cursor, &key, &len, &r.n_attr, &r.attr_index) == 1) {
        snprintf(r.canonical, sizeof r.canonical, "%s", key);
        for (uint32_t i = 0; i < r.n_attr; i++) {
            ch_attribution a;
            assert_int_equal(ch_screen_attr_to_attribution(set, &r, i, &a), 0);
            if (ch_screen_set_writer_add_key(w, key, &a, &err) != 0) fail_msg("%s", err.msg);
        }
    }
    ch_screen_set_close(set);
    char *dir = tu_tmpdir(), path[4200];
    snprintf(path, sizeof path, "%s/v2.chset", dir);
    ch_screen_info info;
    if (ch_screen_set_writer_finish(w, path, &info, &err) != 0) fail_msg("%s", err.msg);
    ch_screen_set_writer_free(w);
    assert_int_equal(info.version, 2);
    uint8_t *bytes = tu_read_file(path, &len);
    assert_non_null(bytes);
    assert_int_equal(bytes[8], 2); /* the header says so */
    free(bytes);
    if (ch_screen_set_open(path, &set, &err) != 0) fail_msg("%s", err.msg);
    ch_screen_info ri;
    ch_screen_set_info(set, &ri);
    assert_int_equal(ri.version, 2);
    assert_int_equal(ri.addresses, 8);
    size_t n;
    row *rows = read_answers(&n);
    check_rows(set, rows, n, false);
    free(rows);
    ch_screen_set_close(set);
    tu_rmrf(dir);
    free(dir);
}

/* ch_screen_hash is XXH3-128's low half for any key length a set holds
 * (1 to 106 bytes, each of XXH3's length classes) and any seed: the
 * library's inlined XXH3 against libxxhash's. */
static void test_hash_is_xxh3(void **state) {
    (void)state;
    uint8_t key[200];
    uint64_t x = 0x243f6a8885a308d3ULL;
    for (size_t i = 0; i < sizeof key; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        key[i] = (uint8_t)(x >> 56);
    }
    const uint64_t seeds[] = {0, 1, 0x636f696e686f756eULL,
                              0x636f696e686f756eULL + 0x9e3779b97f4a7c15ULL, ~0ULL};
    for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++)
        for (size_t len = 1; len <= sizeof key; len++)
            assert_int_equal(ch_screen_hash(key, len, seeds[s]),
                             XXH3_128bits_withSeed(key, len, seeds[s]).low64);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_library_answers_the_vectors),
        cmocka_unit_test(test_independent_reader_agrees),
        cmocka_unit_test(test_format_2_still_read),
        cmocka_unit_test(test_hash_is_xxh3),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

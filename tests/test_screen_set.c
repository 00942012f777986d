/* The offline screening set: write, open, look up; refuse damaged files. */
#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/encode.h"
#include "coinhound/hash.h"
#include "coinhound/jsonw.h"
#include "coinhound/screen.h"
#include "coinhound/screener.h"
#include "screen/format.h" /* the writer's test hook */

/* The Ronin bridge exploiter, Lazarus Group's (OFAC SDN, 2022-04-14), as
 * the OFAC fixture lists it. */
#define RONIN       "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"
#define RONIN_LOWER "0x098b716b8aaf21512996dc57eb0615e2383e2f96"

static ch_attribution mk(const char *address, const char *asset, const char *category,
                         const char *entity, const char *actor, const char *country,
                         const char *source, uint8_t confidence) {
    ch_attribution a;
    memset(&a, 0, sizeof a);
    snprintf(a.address, sizeof a.address, "%s", address);
    snprintf(a.asset, sizeof a.asset, "%s", asset);
    snprintf(a.category, sizeof a.category, "%s", category);
    snprintf(a.entity, sizeof a.entity, "%s", entity);
    snprintf(a.actor, sizeof a.actor, "%s", actor);
    snprintf(a.actor_country, sizeof a.actor_country, "%s", country);
    snprintf(a.source_name, sizeof a.source_name, "%s", source);
    snprintf(a.source_url, sizeof a.source_url, "https://sanctionssearch.ofac.treas.gov/");
    snprintf(a.source_date, sizeof a.source_date, "2022-04-14");
    a.confidence = confidence;
    return a;
}

typedef struct fixture {
    char *dir;
    char path[4200];
} fixture;

/* A small set with one address of several families. */
static void write_small_set(fixture *fx) {
    ch_error err = {{0}};
    ch_screen_writer *w = ch_screen_set_writer_new();
    assert_non_null(w);
    fx->dir = tu_tmpdir();
    assert_non_null(fx->dir);
    snprintf(fx->path, sizeof fx->path, "%s/test.chset", fx->dir);
    ch_attribution a[] = {
        mk(RONIN, "ETH", "sanctions", "LAZARUS GROUP", "Lazarus Group", "DPRK", "OFAC SDN", 100),
        mk(RONIN, "ETH", "sanctions", "LAZARUS GROUP", "Lazarus Group", "DPRK", "OFAC SDN", 100),
        mk(RONIN_LOWER, "USDT", "stolen_funds", "Ronin bridge exploit", "Lazarus Group", "DPRK",
           "test source", 90),
        mk("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "XBT", "mixer", "Test mixer", "", "",
           "test list", 60),
        mk("qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", "BCH", "ransomware", "Test entity B", "",
           "", "test list", 80),
        mk("TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre", "USDT", "sanctions", "Test entity C", "", "",
           "OFAC SDN", 100),
        mk("5be5543ff73456ab9f2d207887e2af87322c651ea1a873c5b25b7ffae456c320", "XMR", "sanctions",
           "Test entity C", "", "", "OFAC SDN", 100),
    };
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        if (ch_screen_set_writer_add(w, &a[i], &err) != 0) fail_msg("%s", err.msg);
    /* A delisted one (a made-up address): history, kept. */
    ch_attribution d = mk("0x1111111111111111111111111111111111111111", "ETH", "sanctions",
                          "Test entity (delisted)", "", "", "OFAC SDN", 100);
    d.delisted = true;
    snprintf(d.delisted_date, sizeof d.delisted_date, "2025-03-21");
    assert_int_equal(ch_screen_set_writer_add(w, &d, &err), 0);
    /* An invalid address is refused, the writer stays usable. */
    ch_attribution bad =
        mk("0x098B716B8Aaf21512996dC57EB0615e2383E2f97", "ETH", "sanctions", "x", "", "", "x", 100);
    assert_int_equal(ch_screen_set_writer_add(w, &bad, &err), -1);
    assert_non_null(strstr(err.msg, "bad checksum"));
    assert_int_equal(ch_screen_set_writer_count(w), 6);
    ch_screen_info info;
    if (ch_screen_set_writer_finish(w, fx->path, &info, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(info.addresses, 6);
    assert_int_equal(info.attributions, 7);
    ch_screen_set_writer_free(w);
}

static void drop(fixture *fx) {
    tu_rmrf(fx->dir);
    free(fx->dir);
}

static void test_lookup_every_form(void **state) {
    (void)state;
    fixture fx;
    ch_error err = {{0}};
    ch_screen_set *set;
    write_small_set(&fx);
    if (ch_screen_set_open(fx.path, &set, &err) != 0) fail_msg("%s", err.msg);
    ch_screen_info info;
    ch_screen_set_info(set, &info);
    assert_int_equal(info.addresses, 6);
    assert_true(info.bytes_per_address > 0);

    /* The Ronin exploiter in every letter case. */
    static const char *const FORMS[] = {
        RONIN, RONIN_LOWER, "0x098B716B8AAF21512996DC57EB0615E2383E2F96",
        "0X098b716b8aaf21512996dc57eb0615e2383e2f96", " " RONIN "\n"};
    for (size_t i = 0; i < sizeof FORMS / sizeof FORMS[0]; i++) {
        ch_screen_result r;
        ch_screen_lookup(set, FORMS[i], &r);
        if (r.status != CH_SCREEN_LISTED)
            fail_msg("%s: status %d %s", FORMS[i], r.status, r.reason);
        assert_int_equal(r.family, CH_FAM_EVM);
        assert_string_equal(r.canonical, RONIN_LOWER);
        /* Two distinct attributions (the repeated add counted once). */
        assert_int_equal(r.n_attr, 2);
        bool ofac = false, fbi = false;
        for (uint32_t k = 0; k < r.n_attr; k++) {
            ch_screen_attr a;
            assert_int_equal(ch_screen_attr_get(set, &r, k, &a), 0);
            assert_string_equal(a.actor, "Lazarus Group");
            assert_string_equal(a.actor_country, "DPRK");
            if (!strcmp(a.source_name, "OFAC SDN")) {
                ofac = true;
                assert_string_equal(a.category, "sanctions");
                assert_string_equal(a.entity, "LAZARUS GROUP");
                assert_string_equal(a.asset, "ETH");
                assert_int_equal(a.confidence, 100);
                assert_string_equal(a.source_date, "2022-04-14");
            } else {
                fbi = true;
                assert_string_equal(a.source_name, "test source");
                assert_int_equal(a.confidence, 90);
            }
        }
        assert_true(ofac && fbi);
        ch_screen_attr none;
        assert_int_equal(ch_screen_attr_get(set, &r, r.n_attr, &none), -1);
    }
    /* A mixed case that fails EIP-55 is invalid, never clean. */
    ch_screen_result r;
    ch_screen_lookup(set, "0x098B716B8Aaf21512996dC57EB0615e2383E2F96", &r);
    assert_int_equal(r.status, CH_SCREEN_INVALID);
    assert_non_null(strstr(r.reason, "bad checksum"));
    /* Other families, in other spellings. */
    ch_screen_lookup(set, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", &r);
    assert_int_equal(r.status, CH_SCREEN_LISTED);
    ch_screen_lookup(set, "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", &r);
    assert_int_equal(r.status, CH_SCREEN_LISTED);
    ch_screen_lookup(set, "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre", &r);
    assert_int_equal(r.status, CH_SCREEN_LISTED);
    assert_int_equal(r.family, CH_FAM_TRX);
    /* A value of no address form that a source listed is found verbatim. */
    ch_screen_lookup(set, "5be5543ff73456ab9f2d207887e2af87322c651ea1a873c5b25b7ffae456c320", &r);
    assert_int_equal(r.status, CH_SCREEN_LISTED);
    /* Delisted attributions are kept, flagged as such. */
    ch_screen_lookup(set, "0X1111111111111111111111111111111111111111", &r);
    assert_int_equal(r.status, CH_SCREEN_LISTED);
    ch_attribution full;
    assert_int_equal(ch_screen_attr_to_attribution(set, &r, 0, &full), 0);
    assert_true(full.delisted);
    assert_string_equal(full.delisted_date, "2025-03-21");
    assert_string_equal(full.address, "0x1111111111111111111111111111111111111111");
    /* Absent: clean. Invalid: invalid with a reason. */
    ch_screen_lookup(set, "0x0000000000000000000000000000000000000001", &r);
    assert_int_equal(r.status, CH_SCREEN_CLEAN);
    assert_int_equal(r.n_attr, 0);
    ch_screen_lookup(set, "1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu", &r);
    assert_int_equal(r.status, CH_SCREEN_CLEAN);
    ch_screen_lookup(set, "1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggv", &r);
    assert_int_equal(r.status, CH_SCREEN_INVALID);
    assert_non_null(strstr(r.reason, "bad checksum"));
    ch_screen_lookup(set, "not an address", &r);
    assert_int_equal(r.status, CH_SCREEN_INVALID);
    assert_true(r.reason[0] != '\0');
    ch_screen_set_close(set);
    drop(&fx);
}

/* Deterministic pseudo-random keys (splitmix64). */
static uint64_t next_rand(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void random_evm(uint64_t *s, char out[43]) {
    uint8_t b[20];
    for (int i = 0; i < 20; i += 4) {
        uint64_t r = next_rand(s);
        memcpy(b + i, &r, 4);
    }
    out[0] = '0';
    out[1] = 'x';
    ch_hex_encode(b, 20, out + 2);
}

static void test_many_addresses_and_batch(void **state) {
    (void)state;
    enum { N = 50000 };
    ch_error err = {{0}};
    char *dir = tu_tmpdir(), path[4200];
    snprintf(path, sizeof path, "%s/many.chset", dir);
    char(*keys)[43] = malloc(sizeof(*keys) * N * 2);
    assert_non_null(keys);
    uint64_t seed = 42;
    ch_screen_writer *w = ch_screen_set_writer_new();
    ch_attribution a = mk("", "ETH", "scam", "Generated", "", "", "test", 70);
    for (int i = 0; i < 2 * N; i++)
        random_evm(&seed, keys[i]);
    for (int i = 0; i < N; i++)
        assert_int_equal(ch_screen_set_writer_add_key(w, keys[i], &a, &err), 0);
    ch_screen_info info;
    assert_int_equal(ch_screen_set_writer_finish(w, path, &info, &err), 0);
    ch_screen_set_writer_free(w);
    assert_int_equal(info.addresses, N);
    assert_int_equal(info.attributions, 1);
    print_message("%d EVM addresses: %.1f bytes per address\n", N, info.bytes_per_address);

    ch_screen_set *set;
    if (ch_screen_set_open(path, &set, &err) != 0) fail_msg("%s", err.msg);
    const char **kp = malloc(sizeof *kp * 2 * N);
    size_t *lens = malloc(sizeof *lens * 2 * N);
    uint8_t *found = malloc(2 * N);
    for (int i = 0; i < 2 * N; i++) {
        kp[i] = keys[i];
        lens[i] = 42;
    }
    ch_screen_lookup_canonical_batch(set, kp, lens, 2 * N, found);
    for (int i = 0; i < 2 * N; i++) {
        int single = ch_screen_lookup_canonical(set, keys[i], 42, NULL, NULL);
        if (single != (i < N)) fail_msg("key %d (%s): single lookup %d", i, keys[i], single);
        if (found[i] != (i < N)) fail_msg("key %d (%s): batch lookup %d", i, keys[i], found[i]);
    }
    ch_screen_set_close(set);
    free(kp);
    free(lens);
    free(found);
    free(keys);
    tu_rmrf(dir);
    free(dir);
}

/* The writer's default seed ("coinhoun"), as the header stores it. */
#define DEFAULT_SEED 0x636f696e686f756eULL

static uint64_t get64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Keys chosen to pile into one bucket: of a set of N addresses (so N * 4/5
 * + 1 buckets), PILE land, by the first hash's bucket bits, in the last
 * bucket (so the probe also wraps round to bucket 0), the rest anywhere.
 * Every one is found, single and batched; absent keys are not, including
 * absent ones whose home is that same overflowing bucket. */
static void test_bucket_collisions(void **state) {
    (void)state;
    enum { N = 2000, PILE = 60, ABSENT = 2000, ABSENT_PILE = 40 };
    const uint64_t nb = (uint64_t)N * 4 / 5 + 1, target = nb - 1;
    ch_error err = {{0}};
    char *dir = tu_tmpdir(), path[4200];
    snprintf(path, sizeof path, "%s/pile.chset", dir);
    char(*keys)[43] = malloc(sizeof(*keys) * (N + ABSENT));
    assert_non_null(keys);
    uint64_t rs = 7;
    int pile = 0, other = 0, apile = 0, aother = 0;
    while (pile < PILE || other < N - PILE || apile < ABSENT_PILE ||
           aother < ABSENT - ABSENT_PILE) {
        char k[43];
        random_evm(&rs, k);
        bool in = (((ch_screen_hash(k, 42, DEFAULT_SEED) & 0xffffffffULL) * nb) >> 32) == target;
        if (in && pile < PILE)
            memcpy(keys[pile++], k, 43);
        else if (!in && other < N - PILE)
            memcpy(keys[PILE + other++], k, 43);
        else if (in && apile < ABSENT_PILE)
            memcpy(keys[N + apile++], k, 43);
        else if (!in && aother < ABSENT - ABSENT_PILE)
            memcpy(keys[N + ABSENT_PILE + aother++], k, 43);
    }
    ch_screen_writer *w = ch_screen_set_writer_new();
    ch_attribution a1 = mk("", "ETH", "scam", "Pile A", "", "", "test", 70);
    ch_attribution a2 = mk("", "ETH", "theft", "Pile B", "", "", "test", 90);
    for (int i = 0; i < N; i++) {
        assert_int_equal(ch_screen_set_writer_add_key(w, keys[i], &a1, &err), 0);
        if (i % 3 == 0) assert_int_equal(ch_screen_set_writer_add_key(w, keys[i], &a2, &err), 0);
    }
    ch_screen_info info;
    if (ch_screen_set_writer_finish(w, path, &info, &err) != 0) fail_msg("%s", err.msg);
    ch_screen_set_writer_free(w);
    assert_int_equal(info.addresses, N);
    assert_int_equal(info.buckets, nb);
    assert_int_equal(info.seed, DEFAULT_SEED);          /* else the keys would not pile up */
    assert_int_equal(info.attribution_sets, 2);         /* {a1} and {a1, a2} */
    assert_true(info.in_home_bucket <= N - (PILE - 4)); /* the pile overflowed */

    ch_screen_set *set;
    if (ch_screen_set_open(path, &set, &err) != 0) fail_msg("%s", err.msg);
    ch_screen_info ri;
    ch_screen_set_info(set, &ri);
    assert_int_equal(ri.in_home_bucket, info.in_home_bucket);
    assert_int_equal(ri.attribution_sets, 2);
    const char **kp = malloc(sizeof *kp * (N + ABSENT));
    size_t *lens = malloc(sizeof *lens * (N + ABSENT));
    uint8_t *found = malloc(N + ABSENT);
    for (int i = 0; i < N + ABSENT; i++) {
        kp[i] = keys[i];
        lens[i] = 42;
    }
    ch_screen_lookup_canonical_batch(set, kp, lens, N + ABSENT, found);
    for (int i = 0; i < N + ABSENT; i++) {
        uint32_t na = 0;
        const uint32_t *idx = NULL;
        int single = ch_screen_lookup_canonical(set, keys[i], 42, &na, &idx);
        if (single != (i < N)) fail_msg("key %d (%s): single lookup %d", i, keys[i], single);
        if (found[i] != (i < N)) fail_msg("key %d (%s): batch lookup %d", i, keys[i], found[i]);
        if (i < N && na != (i % 3 == 0 ? 2u : 1u))
            fail_msg("key %d: %u attributions", i, (unsigned)na);
        if (i >= N && (na != 0 || idx != NULL)) fail_msg("absent key %d has attributions", i);
    }
    /* The full lookup, from EIP-55 text, gives the attributions. */
    ch_screen_result r;
    uint8_t raw[20];
    char text[43];
    ch_hex_decode(keys[0] + 2, 40, raw, 20);
    ch_evm_checksum_address(raw, text);
    ch_screen_lookup(set, text, &r);
    assert_int_equal(r.status, CH_SCREEN_LISTED);
    assert_string_equal(r.canonical, keys[0]);
    assert_int_equal(r.n_attr, 2);
    ch_attribution got;
    assert_int_equal(ch_screen_attr_to_attribution(set, &r, 1, &got), 0);
    assert_string_equal(got.entity, "Pile B");

    /* Iteration: every listed key once, with its attributions. */
    uint64_t cur = 0, seen = 0;
    const char *k;
    size_t kl;
    uint32_t na;
    const uint32_t *idx;
    while (ch_screen_set_next(set, &cur, &k, &kl, &na, &idx)) {
        assert_int_equal(kl, 42);
        assert_int_equal(strlen(k), 42);
        assert_int_equal(ch_screen_lookup_canonical(set, k, kl, NULL, NULL), 1);
        assert_true(na == 1 || na == 2);
        assert_non_null(idx);
        seen++;
    }
    assert_int_equal(seen, N);
    uint64_t bogus = 2; /* not a record start: ends the walk, reads nothing */
    assert_int_equal(ch_screen_set_next(set, &bogus, &k, &kl, &na, &idx), 0);
    ch_screen_set_close(set);
    free(kp);
    free(lens);
    free(found);
    free(keys);
    tu_rmrf(dir);
    free(dir);
}

/* The writer refuses to let one listed key answer for another: with its
 * collision check narrowed (test hook) so that collisions are common, it
 * moves to another seed, and the file still finds every key; with a check
 * so narrow that every seed collides, it gives up with a clear message. */
static void test_writer_reseeds(void **state) {
    (void)state;
    enum { N = 3000 };
    ch_error err = {{0}};
    char *dir = tu_tmpdir(), path[4200];
    snprintf(path, sizeof path, "%s/reseed.chset", dir);
    char(*keys)[43] = malloc(sizeof(*keys) * N * 2);
    assert_non_null(keys);
    uint64_t rs = 99;
    for (int i = 0; i < 2 * N; i++)
        random_evm(&rs, keys[i]);
    ch_attribution a = mk("", "ETH", "scam", "Generated", "", "", "test", 70);

    ch_screen_writer *w = ch_screen_set_writer_new();
    for (int i = 0; i < N; i++)
        assert_int_equal(ch_screen_set_writer_add_key(w, keys[i], &a, &err), 0);
    scr_writer_test_collide_bits(w, 1);
    assert_int_equal(ch_screen_set_writer_finish(w, path, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "no collision-free hash seed"));
    ch_screen_set_writer_free(w);

    w = ch_screen_set_writer_new();
    for (int i = 0; i < N; i++)
        assert_int_equal(ch_screen_set_writer_add_key(w, keys[i], &a, &err), 0);
    scr_writer_test_collide_bits(w, 9);
    ch_screen_info info;
    if (ch_screen_set_writer_finish(w, path, &info, &err) != 0) fail_msg("%s", err.msg);
    ch_screen_set_writer_free(w);
    assert_true(info.seed != DEFAULT_SEED); /* the default seed collided */
    size_t n = 0;
    uint8_t *file = tu_read_file(path, &n);
    assert_non_null(file);
    assert_int_equal(get64(file + 48), info.seed); /* recorded in the header */
    free(file);
    ch_screen_set *set;
    if (ch_screen_set_open(path, &set, &err) != 0) fail_msg("%s", err.msg);
    for (int i = 0; i < 2 * N; i++)
        if (ch_screen_lookup_canonical(set, keys[i], 42, NULL, NULL) != (i < N))
            fail_msg("key %d (%s) misreported", i, keys[i]);
    ch_screen_set_close(set);
    free(keys);
    tu_rmrf(dir);
    free(dir);
}

static void test_empty_set(void **state) {
    (void)state;
    ch_error err = {{0}};
    char *dir = tu_tmpdir(), path[4200];
    snprintf(path, sizeof path, "%s/empty.chset", dir);
    ch_screen_writer *w = ch_screen_set_writer_new();
    assert_int_equal(ch_screen_set_writer_finish(w, path, NULL, &err), 0);
    ch_screen_set_writer_free(w);
    ch_screen_set *set;
    if (ch_screen_set_open(path, &set, &err) != 0) fail_msg("%s", err.msg);
    ch_screen_result r;
    ch_screen_lookup(set, RONIN, &r);
    assert_int_equal(r.status, CH_SCREEN_CLEAN);
    ch_screen_set_close(set);
    tu_rmrf(dir);
    free(dir);
}

static void write_bytes(const char *path, const uint8_t *b, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

static void expect_open_fails(const char *path, const char *why) {
    ch_screen_set *set = NULL;
    ch_error err = {{0}};
    if (ch_screen_set_open(path, &set, &err) == 0) fail_msg("opened a damaged set (%s)", why);
    assert_null(set);
    if (!strstr(err.msg, why)) fail_msg("message \"%s\" lacks \"%s\"", err.msg, why);
    assert_non_null(strstr(err.msg, path)); /* names the file */
}

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void test_damaged_files(void **state) {
    (void)state;
    fixture fx;
    write_small_set(&fx);
    size_t n = 0;
    uint8_t *good = tu_read_file(fx.path, &n);
    assert_non_null(good);
    assert_true(n > CH_SCREEN_HEADER_SIZE + 64);
    uint8_t *b = malloc(n);
    char bad[4300];
    snprintf(bad, sizeof bad, "%s/bad.chset", fx.dir);

    /* One byte flipped anywhere in the body: checksum. */
    size_t spots[] = {CH_SCREEN_HEADER_SIZE, CH_SCREEN_HEADER_SIZE + 17, n / 2, n - 1};
    for (size_t i = 0; i < sizeof spots / sizeof spots[0]; i++) {
        memcpy(b, good, n);
        b[spots[i]] ^= 0x01;
        write_bytes(bad, b, n);
        expect_open_fails(bad, "checksum mismatch");
    }
    /* Truncated: by one byte, to the header, below the header, empty. */
    write_bytes(bad, good, n - 1);
    expect_open_fails(bad, "truncated");
    write_bytes(bad, good, CH_SCREEN_HEADER_SIZE);
    expect_open_fails(bad, "truncated");
    write_bytes(bad, good, 100);
    expect_open_fails(bad, "truncated");
    write_bytes(bad, good, 0);
    expect_open_fails(bad, "truncated");
    /* Another version (a later one, and version 1: the format before the
     * one-cache-line index), another magic. */
    memcpy(b, good, n);
    put32(b + 8, CH_SCREEN_VERSION + 1);
    write_bytes(bad, b, n);
    expect_open_fails(bad, "version 4");
    expect_open_fails(bad, "update coinhound");
    memcpy(b, good, n);
    put32(b + 8, 1);
    write_bytes(bad, b, n);
    expect_open_fails(bad, "format version 1; this build reads versions 2 to 3");
    expect_open_fails(bad, "write it again");
    memcpy(b, good, n);
    b[0] = 'X';
    write_bytes(bad, b, n);
    expect_open_fails(bad, "bad magic");
    /* A hostile file with a valid checksum: a slot naming an attribution
     * set past the set table is still refused (format 2: 16-byte slots,
     * the set + 1 in their last 4 bytes). */
    memcpy(b, good, n);
    size_t slot = CH_SCREEN_HEADER_SIZE;
    while (b[slot + 12] == 0 && b[slot + 13] == 0 && b[slot + 14] == 0 && b[slot + 15] == 0)
        slot += 16;
    put32(b + slot + 12, 0x7fffffff);
    ch_sha256(b + CH_SCREEN_HEADER_SIZE, n - CH_SCREEN_HEADER_SIZE, b + 128);
    write_bytes(bad, b, n);
    expect_open_fails(bad, "names a set past the set table");
    /* ... and so is a slot whose fingerprint no longer matches its record's
     * key (the index and the records must describe the same addresses). */
    memcpy(b, good, n);
    b[slot] ^= 0x40;
    ch_sha256(b + CH_SCREEN_HEADER_SIZE, n - CH_SCREEN_HEADER_SIZE, b + 128);
    write_bytes(bad, b, n);
    expect_open_fails(bad, "is not in the index");
    /* ... and a bucket holding one fingerprint twice (a lookup ORs the sets
     * of the slots that match: it could make up a set number). */
    memcpy(b, good, n);
    size_t bucket0 = slot - (slot - CH_SCREEN_HEADER_SIZE) % 64;
    memcpy(b + bucket0 + 16, b + bucket0, 12); /* slot 1 := slot 0's print */
    put32(b + bucket0 + 16 + 12, 1);
    ch_sha256(b + CH_SCREEN_HEADER_SIZE, n - CH_SCREEN_HEADER_SIZE, b + 128);
    write_bytes(bad, b, n);
    expect_open_fails(bad, "holds one fingerprint twice");
    /* Missing file. */
    expect_open_fails("/nonexistent/coinhound.chset", "cannot open");
    /* The good one still opens, and no temporary file was left behind. */
    ch_screen_set *set;
    ch_error err = {{0}};
    assert_int_equal(ch_screen_set_open(fx.path, &set, &err), 0);
    ch_screen_set_close(set);
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c tmp", fx.dir);
    char *out = tu_run(cmd, NULL);
    assert_string_equal(out, "0\n");
    free(out);
    free(b);
    free(good);
    drop(&fx);
}

/* The libraries libcoinhound.a needs (the Makefile's PKGS, and the C++
 * runtime of util/sjson.cpp, coinhound.pc's Libs.private): it is one object,
 * so a program linking it links them all. */
#define CH_TEST_PKGS                                                                               \
    "lmdb libcrypto jansson libxml-2.0 yaml-0.1 libcurl libmicrohttpd yajl libxxhash simdjson"

/* The example program of screen.h builds against the library and runs. */
static void test_example_program(void **state) {
    (void)state;
    const char *lib = tu_bin("libcoinhound.a");
    FILE *f = fopen(lib, "rb");
    if (!f) {
        fprintf(stderr, "skipped: %s not built\n", lib);
        skip();
    }
    fclose(f);
    fixture fx;
    write_small_set(&fx);
    char cmd[9000], exe[4300];
    snprintf(exe, sizeof exe, "%s/screen_example", fx.dir);
#if defined(__SANITIZE_ADDRESS__)
    const char *san = "-fsanitize=address,undefined";
#else
    const char *san = "";
#endif
    snprintf(cmd, sizeof cmd,
             "cc -std=c11 -Wall -Wextra -Werror %s -Iinclude docs/examples/screen_example.c %s "
             "$(pkg-config --libs " CH_TEST_PKGS ") -lstdc++ -lpthread -lm -o %s 2>&1",
             san, lib, exe);
    int st = -1;
    char *out = tu_run(cmd, &st);
    if (st != 0) fail_msg("example does not build: %s", out);
    free(out);
    snprintf(cmd, sizeof cmd, "%s %s %s", exe, fx.path, RONIN);
    out = tu_run(cmd, &st);
    assert_int_equal(st, 1);
    assert_non_null(strstr(out, "sanctions LAZARUS GROUP (DPRK: Lazarus Group) per OFAC SDN"));
    free(out);
    snprintf(cmd, sizeof cmd, "%s %s 1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu", exe, fx.path);
    out = tu_run(cmd, &st);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "not listed"));
    free(out);
    drop(&fx);
}

/* One verdict as screen --json writes it (a line), from the library one
 * address at a time. */
static char *verdict_line(const ch_verdict *v) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    ch_jw w;
    ch_jw_init(&w, f);
    ch_verdict_write_json(v, &w, NULL);
    ch_jw_newline(&w);
    fclose(f);
    return buf;
}

/* The addresses of a file screened in batches (ch_screener_screen_many, and
 * `screen --file`, which reads in batches) answer as ch_screener_screen one
 * at a time: every verdict the same, in order, across batch boundaries -
 * listed, clean, mistyped (invalid, never clean), another chain's. */
static void test_batches_answer_as_one_at_a_time(void **state) {
    (void)state;
    fixture fx;
    write_small_set(&fx);
    static const char *const KINDS[] = {
        RONIN,
        "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
        "1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu",
        "1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggv",         /* bad checksum */
        "0x098B716B8Aaf21512996dC57EB0615e2383E2f97", /* bad EIP-55 */
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", /* bad Bech32 checksum */
        "thor1gtpp776kaueaxczmg5pjqpydyuefpxwnshvzs4",
        "qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a",
        "0x1111111111111111111111111111111111111111",
        "not-an-address",
    };
    enum { N = 300 };
    const size_t nk = sizeof KINDS / sizeof KINDS[0];
    char path[4300];
    snprintf(path, sizeof path, "%s/addrs.txt", fx.dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    const char *addrs[N];
    char gen[N][64];
    for (size_t i = 0; i < N; i++) {
        if (i % 3 == 2) { /* fresh EIP-55 and P2PKH addresses between them */
            uint8_t b[21];
            for (size_t k = 0; k < sizeof b; k++)
                b[k] = (uint8_t)(i * 37 + k * 11);
            if (i % 2) {
                ch_evm_checksum_address(b, gen[i]);
            } else {
                b[0] = 0;
                ch_base58check_encode(b, 21, gen[i], sizeof gen[i]);
            }
            addrs[i] = gen[i];
        } else {
            addrs[i] = KINDS[(i * 7) % nk];
        }
        fprintf(f, "%s%s\n", addrs[i], i % 50 == 0 ? ",a comment" : "");
        if (i % 40 == 0) fprintf(f, "\n# a comment line\n");
    }
    fclose(f);

    ch_screener_opts o;
    ch_screener_opts_init(&o);
    o.set_path = fx.path;
    ch_screener *sc;
    ch_error err = {{0}}, warn = {{0}};
    if (ch_screener_open(&o, &sc, &warn, &err) != 0) fail_msg("%s", err.msg);
    ch_verdict *one = ch_verdict_new(), *many[N];
    assert_non_null(one);
    for (size_t i = 0; i < N; i++)
        assert_non_null(many[i] = ch_verdict_new());
    ch_screener_screen_many(sc, addrs, N, many);
    char *want = NULL;
    size_t want_len = 0;
    FILE *wf = open_memstream(&want, &want_len);
    assert_non_null(wf);
    size_t kinds[5] = {0};
    for (size_t i = 0; i < N; i++) {
        ch_screener_screen(sc, addrs[i], one);
        char *a = verdict_line(one), *b = verdict_line(many[i]);
        if (strcmp(a, b) != 0) fail_msg("%s: one at a time %s, in a batch %s", addrs[i], a, b);
        assert_int_equal(one->kind, many[i]->kind);
        kinds[one->kind < 5 ? one->kind : 4]++;
        fputs(a, wf);
        free(a);
        free(b);
    }
    fclose(wf);
    assert_true(kinds[CH_VERDICT_OK] > 0 && kinds[CH_VERDICT_INVALID] > 0 &&
                kinds[CH_VERDICT_UNSUPPORTED] > 0);

    /* the command, reading the file in batches, writes the same lines */
    const char *bin = tu_bin("coinhound");
    FILE *bf = fopen(bin, "rb");
    if (bf) {
        fclose(bf);
        char cmd[9000];
        int st = -1;
        snprintf(cmd, sizeof cmd, "%s screen --set %s --json --file %s", bin, fx.path, path);
        char *out = tu_run(cmd, &st);
        assert_int_equal(st, 1); /* flagged wins */
        assert_string_equal(out, want);
        free(out);
        /* and through standard input, a pipe */
        snprintf(cmd, sizeof cmd, "cat %s | %s screen --set %s --json -", path, bin, fx.path);
        out = tu_run(cmd, &st);
        assert_int_equal(st, 1);
        assert_string_equal(out, want);
        free(out);
    } else {
        fprintf(stderr, "(the command's part skipped: %s not built)\n", bin);
    }
    free(want);
    for (size_t i = 0; i < N; i++)
        ch_verdict_free(many[i]);
    ch_verdict_free(one);
    ch_screener_close(sc, NULL);
    drop(&fx);
}

/* coinhound screen --set: verdicts, JSON lines, streaming, exit codes. */
static void test_cli_screen(void **state) {
    (void)state;
    const char *bin = tu_bin("coinhound");
    FILE *f = fopen(bin, "rb");
    if (!f) {
        fprintf(stderr, "skipped: %s not built\n", bin);
        skip();
    }
    fclose(f);
    fixture fx;
    write_small_set(&fx);
    char cmd[9000];
    int st = -1;
    char *out;
    /* Flagged, in any letter case: exit 1, every reason with its source. */
    snprintf(cmd, sizeof cmd,
             "%s screen --set %s --json 0X098B716B8AAF21512996DC57EB0615E2383E2F96", bin, fx.path);
    out = tu_run(cmd, &st);
    assert_int_equal(st, 1);
    assert_non_null(strstr(out, "\"address\":\"0X098B716B8AAF21512996DC57EB0615E2383E2F96\""));
    assert_non_null(strstr(out, "\"canonical\":\"" RONIN_LOWER "\""));
    assert_non_null(strstr(out, "\"risk\":\"severe\""));
    assert_non_null(strstr(out, "\"score\":15"));
    assert_non_null(strstr(out, "\"actor\":\"DPRK: Lazarus Group\""));
    assert_non_null(strstr(out, "\"source\":\"OFAC SDN\""));
    assert_non_null(strstr(out, "\"source\":\"test source\""));
    assert_non_null(strstr(out, "\"confidence\":90"));
    free(out);
    /* Clean: exit 0. */
    snprintf(cmd, sizeof cmd, "%s screen --set %s 1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu", bin,
             fx.path);
    out = tu_run(cmd, &st);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "not listed"));
    free(out);
    /* Invalid alone: exit 2, reported as invalid. */
    snprintf(cmd, sizeof cmd, "%s screen --set %s --json 1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggv", bin,
             fx.path);
    out = tu_run(cmd, &st);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "\"risk\":\"invalid\""));
    assert_non_null(strstr(out, "bad checksum"));
    free(out);
    /* Another chain's address: "unsupported", never guessed as a chain of
     * ours (this thor1 string also reads as a 32-byte Solana key) nor
     * called a bad checksum; exit 2, as no verdict could be given. The
     * Bech32 string was encoded with the BIP173 reference algorithm. */
    snprintf(cmd, sizeof cmd,
             "%s screen --set %s --json thor1gtpp776kaueaxczmg5pjqpydyuefpxwnshvzs4 "
             "cosmos1fjlpjuttr2nn5e7ufv5vxsu3s7d4qvjeula3h5",
             bin, fx.path);
    out = tu_run(cmd, &st);
    assert_int_equal(st, 2);
    assert_null(strstr(out, "SOL"));
    assert_null(strstr(out, "checksum"));
    assert_non_null(strstr(out, "\"risk\":\"unsupported\",\"score\":0,\"error\":\"unsupported "
                                "chain: THORChain"));
    assert_non_null(strstr(out, "\"error\":\"unsupported chain: Cosmos Hub"));
    free(out);
    snprintf(cmd, sizeof cmd, "%s screen --set %s thor1gtpp776kaueaxczmg5pjqpydyuefpxwnshvzs4", bin,
             fx.path);
    out = tu_run(cmd, &st);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "UNSUPPORTED: unsupported chain: THORChain"));
    free(out);
    /* Streaming from stdin: one line per address, comments skipped; a
     * delisted label is history and adds no risk. */
    snprintf(cmd, sizeof cmd,
             "printf '# list\\n0x1111111111111111111111111111111111111111\\n\\n"
             "1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu,x\\n' | %s screen --set %s --json -",
             bin, fx.path);
    out = tu_run(cmd, &st);
    assert_int_equal(st, 0);
    size_t lines = 0;
    for (char *p = out; (p = strchr(p, '\n')); p++)
        lines++;
    assert_int_equal(lines, 2);
    /* (each reason opens with its "via" since screening learned indirect
     * exposure) */
    assert_non_null(strstr(out, "\"history\":[{\"via\":\"direct\",\"category\":\"sanctions\""));
    assert_non_null(strstr(out, "\"delisted_date\":\"2025-03-21\""));
    free(out);
    /* No source at all: a clear error. */
    snprintf(cmd, sizeof cmd, "env -u COINHOUND_DB %s screen %s 2>&1", bin, RONIN);
    out = tu_run(cmd, &st);
    assert_int_equal(st, 2);
    assert_non_null(strstr(out, "--set"));
    free(out);
    drop(&fx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_every_form),
        cmocka_unit_test(test_many_addresses_and_batch),
        cmocka_unit_test(test_empty_set),
        cmocka_unit_test(test_damaged_files),
        cmocka_unit_test(test_example_program),
        cmocka_unit_test(test_cli_screen),
        cmocka_unit_test(test_batches_answer_as_one_at_a_time),
        cmocka_unit_test(test_bucket_collisions),
        cmocka_unit_test(test_writer_reseeds),
    };
    return cmocka_run_group_tests_name("screen_set", tests, NULL, NULL);
}

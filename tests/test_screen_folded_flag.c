/* The screening set's folded-keys flag (docs/screening-set.md, section 4:
 * header flag bit 0 is set when, and only when, the set holds a key that has
 * no upper-case letter and is no valid address) stays that rule when the
 * writer skips its own parse of keys already known to parse:
 *   - ch_screen_set_writer_add, for every address form the set can hold,
 *     with and without an asset hint, and for values kept as listed (through
 *     ch_screen_set_writer_add_key): the flag of each one-key set and of the
 *     set of them all is the rule worked out here, key by key;
 *   - the attribution store marks a record's address as checked
 *     (ch_attribution.address_checked) only when ch_chainaddr_parse without a
 *     hint accepts it, marks the common case (a list without an asset column,
 *     keys as canonical), and a set exported from it (as `intel export-set`
 *     does) has the rule's flag, with and without a kept lower-case value;
 *   - add_key trusts the mark only for the very address it was made for. */
#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/chainaddr.h"
#include "coinhound/encode.h"
#include "coinhound/intel.h"
#include "coinhound/screen.h"

typedef struct form {
    const char *addr;
    const char *asset; /* "" none */
} form;

/* Every form the set holds a key of: each family's, canonical or not as a
 * source writes it, hinted or not; then values no parse accepts, which a
 * source's list keeps as they are. The EIP-55, Sapling, Litecoin Bech32 and
 * Taproot ones are made by make_forms. */
static char sapling[128], ltc_bech32[128], taproot[128], eip55[43];
static form FORMS[] = {
    {"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", ""},
    {"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", ""},
    {"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "XBT"},
    {"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", ""},
    {"bcrt1qn7877ffpaganqjwat55lz5qjz398zp8gv7wzsd", ""},
    {"0x098b716b8aaf21512996dc57eb0615e2383e2f96", ""},
    {eip55, "ETH"},
    {"0X098B716B8AAF21512996DC57EB0615E2383E2F96", ""},
    {"0x098b716b8aaf21512996dc57eb0615e2383e2f96", "USDT"},
    {"bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", ""},
    {"qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", ""},
    {"qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", "BCH"},
    {"BITCOINCASH:QPM2QSZNHKS23Z7629MMS6S4CWEF74VCWVY22GDX6A", "BCH"},
    {"5be5543ff73456ab9f2d207887e2af87322c651ea1a873c5b25b7ffae456c320", "XMR"},
    {"49HqitRzdnhYjgTEAhgGpCfsjdTeMbUTU6cyR4JV1R7k2Eej9rGT8JpFiYDa4tZM6RZiFrHmMzgSrhHEqpDYKBe5"
     "B2ufNsL",
     ""},
    {"12sjrrhoFEsedNRhtgwvvRqjFTh8fZTDX9", ""},
    {"12sjrrhoFEsedNRhtgwvvRqjFTh8fZTDX9", "BSV"},
    {"18M8bJWMzWHDBMxoLqjHHAffdRy4SrzkfB", "BCH"},
    {"LNf2JDiuunBz7GMDKFYHN4rq5meXWxiwfb", "LTC"},
    {"XnPFsRWTaSgiVauosEwQ6dEitGYXgwznz2", ""},
    {"GPwg61XoHqQPNmAucFACuQ5H9sGCDv9TpS", ""},
    {"t1MMXtBrSp1XG38Lx9cePcNUCJj5vdWfUWL", ""},
    {"TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre", "USDT"},
    {"rnXyVQzgxZe7TR1EPzTkGj2jxH4LMJYh66", ""},
    {"DFFJhnQNZf8rf67tYnesPu7MuGUpYtzv7Z", ""},
    {"So11111111111111111111111111111111111111112", "SOL"},
    {sapling, ""},
    {sapling, "ZEC"},
    {ltc_bech32, ""},
    {ltc_bech32, "LTC"},
    {taproot, ""},
};
#define NFORMS (sizeof FORMS / sizeof FORMS[0])

/* Values no parse accepts: a lower-cased Base58 address (a list that lost
 * letter case), a mistyped Bech32 address, free text; and upper-case ones. */
static const char *const KEPT_LOWER[] = {
    "1a1zp1ep5qgefi2dmptftl5slmv7divfna",
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
    "not-an-address-but-listed-42",
};
static const char *const KEPT_UPPER[] = {"NOT-AN-ADDRESS-BUT-LISTED-42",
                                         "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"};

/* The rule, key by key: no upper-case letter and refused by the parse. */
static bool folds(const char *key) {
    for (const char *p = key; *p; p++)
        if (*p >= 'A' && *p <= 'Z') return false;
    ch_chainaddr c;
    return ch_chainaddr_parse(key, CH_FAM_UNKNOWN, &c, NULL) != 0;
}

static uint64_t set_flags(const char *path) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t h[208];
    assert_int_equal(fread(h, 1, sizeof h, f), sizeof h);
    fclose(f);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | h[200 + i];
    return v;
}

static ch_attribution attr(const char *address, const char *asset) {
    ch_attribution a;
    memset(&a, 0, sizeof a);
    snprintf(a.address, sizeof a.address, "%s", address);
    snprintf(a.asset, sizeof a.asset, "%s", asset);
    snprintf(a.entity, sizeof a.entity, "Test entity");
    snprintf(a.category, sizeof a.category, "sanctions");
    snprintf(a.source_name, sizeof a.source_name, "test");
    a.confidence = 90;
    return a;
}

static uint64_t finish(ch_screen_writer *w, const char *path) {
    ch_screen_info info;
    ch_error err = {{0}};
    if (ch_screen_set_writer_finish(w, path, &info, &err) != 0) fail_msg("finish: %s", err.msg);
    ch_screen_set_writer_free(w);
    return set_flags(path);
}

static void make_forms(void) {
    uint8_t d5[70], prog[32];
    d5[0] = 0;
    for (size_t i = 0; i < sizeof prog; i++)
        prog[i] = (uint8_t)(i * 37 + 11);
    /* Sapling: Bech32 of 43 bytes (69 five-bit words) under "zs" */
    for (size_t i = 0; i < 69; i++)
        d5[i] = (uint8_t)((i * 7 + 3) & 31);
    d5[68] = 0; /* 43 * 8 = 344 bits: the last word's low 1 bit is padding */
    assert_true(ch_bech32_encode("zs", d5, 69, CH_BECH32, sapling, sizeof sapling) > 0);
    assert_true(ch_segwit_encode("ltc", 0, prog, 20, ltc_bech32, sizeof ltc_bech32) > 0);
    assert_true(ch_segwit_encode("bc", 1, prog, 32, taproot, sizeof taproot) > 0);
    uint8_t evm[20];
    assert_int_equal(ch_evm_addr_parse("0x098b716b8aaf21512996dc57eb0615e2383e2f96", evm, NULL), 0);
    ch_evm_checksum_address(evm, eip55);
    for (size_t i = 0; i < NFORMS; i++) {
        ch_chainaddr c;
        ch_error err = {{0}};
        if (ch_chainaddr_parse(FORMS[i].addr, ch_family_from_asset(FORMS[i].asset), &c, &err))
            fail_msg("form %zu (%s, asset '%s') is no valid address: %s", i, FORMS[i].addr,
                     FORMS[i].asset, err.msg);
    }
}

/* Each form alone, then all of them, then with each kept value: the flag is
 * the rule's, whichever way the writer got the key. */
static void test_writer_flag_is_the_rule_for_every_form(void **state) {
    (void)state;
    make_forms();
    char *dir = tu_tmpdir(), path[4200];
    snprintf(path, sizeof path, "%s/x.chset", dir);
    bool any = false;
    size_t folded_forms = 0;
    for (size_t i = 0; i < NFORMS; i++) {
        ch_screen_writer *w = ch_screen_set_writer_new();
        ch_attribution a = attr(FORMS[i].addr, FORMS[i].asset);
        ch_error err = {{0}};
        assert_int_equal(ch_screen_set_writer_add(w, &a, &err), 0);
        ch_chainaddr c;
        assert_int_equal(ch_chainaddr_parse(a.address, ch_family_from_asset(a.asset), &c, NULL), 0);
        bool want = folds(c.canonical);
        any |= want;
        folded_forms += want;
        if (finish(w, path) != (want ? 1u : 0u))
            fail_msg("form %zu (%s, asset '%s', key %s): flag %d, the rule says %d", i,
                     FORMS[i].addr, FORMS[i].asset, c.canonical, !want, want);
    }
    /* the rule is not empty on valid addresses: a hex value valid only as
     * XMR is no address without its hint */
    assert_int_equal(folded_forms, 1);
    ch_screen_writer *w = ch_screen_set_writer_new();
    for (size_t i = 0; i < NFORMS; i++) {
        ch_attribution a = attr(FORMS[i].addr, FORMS[i].asset);
        assert_int_equal(ch_screen_set_writer_add(w, &a, NULL), 0);
    }
    assert_int_equal(finish(w, path), any ? 1 : 0);
    /* without the XMR value: all valid, no flag */
    w = ch_screen_set_writer_new();
    for (size_t i = 0; i < NFORMS; i++) {
        if (!strcmp(FORMS[i].asset, "XMR")) continue;
        ch_attribution a = attr(FORMS[i].addr, FORMS[i].asset);
        assert_int_equal(ch_screen_set_writer_add(w, &a, NULL), 0);
    }
    assert_int_equal(finish(w, path), 0);
    /* kept values through add_key: lower-case ones set it, upper-case do not */
    for (int lowercase = 0; lowercase < 2; lowercase++) {
        size_t n = lowercase ? sizeof KEPT_LOWER / sizeof *KEPT_LOWER
                             : sizeof KEPT_UPPER / sizeof *KEPT_UPPER;
        for (size_t k = 0; k < n; k++) {
            const char *v = lowercase ? KEPT_LOWER[k] : KEPT_UPPER[k];
            assert_int_equal(folds(v), lowercase);
            w = ch_screen_set_writer_new();
            ch_attribution a = attr(FORMS[0].addr, "");
            assert_int_equal(ch_screen_set_writer_add(w, &a, NULL), 0);
            a = attr(v, "");
            assert_int_equal(ch_screen_set_writer_add_key(w, v, &a, NULL), 0);
            if (finish(w, path) != (uint64_t)lowercase)
                fail_msg("kept value %s: flag %d", v, !lowercase);
        }
    }
    /* a mark for another address is no mark for this key */
    w = ch_screen_set_writer_new();
    ch_attribution a = attr("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "");
    a.address_checked = true;
    assert_int_equal(ch_screen_set_writer_add_key(w, KEPT_LOWER[0], &a, NULL), 0);
    assert_int_equal(finish(w, path), 1);
    tu_rmrf(dir);
    free(dir);
}

typedef struct exported {
    ch_screen_writer *w;
    size_t n, checked, folds;
} exported;

/* As `intel export-set` adds the store's attributions; with every record,
 * the mark's soundness: checked means the parse without a hint accepts it. */
static int export_one(const ch_attribution *a, void *ctx) {
    exported *x = ctx;
    x->n++;
    if (a->address_checked) {
        ch_chainaddr c;
        if (ch_chainaddr_parse(a->address, CH_FAM_UNKNOWN, &c, NULL) != 0)
            fail_msg("%s is marked checked, and the parse refuses it", a->address);
        x->checked++;
    }
    x->folds += folds(a->address);
    return ch_screen_set_writer_add_key(x->w, a->address, a, NULL) == 0 ? 0 : 1;
}

static void write_csvs(const char *dir, bool kept_lower) {
    char p[4200];
    snprintf(p, sizeof p, "%s/plain.csv", dir);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fprintf(f, "address,category,entity\n");
    for (size_t i = 0; i < NFORMS; i++)
        if (!FORMS[i].asset[0]) fprintf(f, "%s,sanctions,Plain %zu\n", FORMS[i].addr, i);
    fclose(f);
    snprintf(p, sizeof p, "%s/assets.csv", dir);
    f = fopen(p, "wb");
    assert_non_null(f);
    fprintf(f, "address,asset,category,entity\n");
    for (size_t i = 0; i < NFORMS; i++) /* the XMR hex value folds: only with the kept ones */
        if (FORMS[i].asset[0] && (kept_lower || strcmp(FORMS[i].asset, "XMR")))
            fprintf(f, "%s,%s,sanctions,Hinted %zu\n", FORMS[i].addr, FORMS[i].asset, i);
    for (size_t k = 0; k < sizeof KEPT_UPPER / sizeof *KEPT_UPPER; k++)
        fprintf(f, "%s,,sanctions,Kept %zu\n", KEPT_UPPER[k], k);
    if (kept_lower)
        for (size_t k = 0; k < sizeof KEPT_LOWER / sizeof *KEPT_LOWER; k++)
            fprintf(f, "%s,%s,sanctions,Kept lower %zu\n", KEPT_LOWER[k], k ? "" : "XBT", k);
    fclose(f);
}

static void test_store_marks_only_addresses_that_parse(void **state) {
    (void)state;
    make_forms();
    for (int kept_lower = 0; kept_lower < 2; kept_lower++) {
        char *dir = tu_tmpdir(), p[4200], set[4200];
        write_csvs(dir, kept_lower);
        ch_intel *db;
        ch_error err = {{0}};
        assert_int_equal(ch_intel_open(dir, true, &db, &err), 0);
        for (int i = 0; i < 2; i++) {
            snprintf(p, sizeof p, "%s/%s.csv", dir, i ? "assets" : "plain");
            ch_import_opts o = {0};
            o.as_of = "2026-12-07";
            ch_import_stats st;
            if (ch_intel_import(db, p, &o, &st, &err) < 0) fail_msg("import %s: %s", p, err.msg);
        }
        exported x = {.w = ch_screen_set_writer_new()};
        assert_true(ch_intel_foreach(db, export_one, &x, &err) >= 0);
        ch_intel_close(db);
        snprintf(set, sizeof set, "%s/x.chset", dir);
        uint64_t flag = finish(x.w, set);
        /* kept lower-case values fold, and the XMR value stored under its
         * hint; without them no key does */
        assert_true(kept_lower ? x.folds > 0 : x.folds == 0);
        if (flag != (x.folds ? 1u : 0u))
            fail_msg("exported set: flag %llu with %zu keys that fold", (unsigned long long)flag,
                     x.folds);
        assert_true(x.n >= NFORMS);
        /* the list without an asset column, written canonical, is marked:
         * the export does not parse those keys again */
        assert_true(x.checked >= 6);
        assert_true(x.checked < x.n); /* hinted, re-cased and kept ones are not */
        tu_rmrf(dir);
        free(dir);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_flag_is_the_rule_for_every_form),
        cmocka_unit_test(test_store_marks_only_addresses_that_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

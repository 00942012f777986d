/* util/decimal.h: the one decimal writer, against independent oracles:
 * snprintf("%llu") for 64-bit values, and for 128-bit values a table whose
 * decimal strings Python's arbitrary-precision int computed
 * (python3 -c "print('%d' % v)" for each hi:lo pair below). */
#include "support/testutil.h"

#include <stdio.h>
#include <string.h>

#include "coinhound/trace.h"
#include "util/decimal.h"

/* A fixed xorshift sequence: the values cover every digit count. */
static uint64_t next(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void check_u64(uint64_t v) {
    char want[32], got[CH_DEC_U64_LEN], back[24];
    snprintf(want, sizeof want, "%llu", (unsigned long long)v);
    assert_int_equal(ch_dec_u64(v, got), strlen(want));
    assert_string_equal(got, want);
    char *p = ch_dec_u64_back(v, back + sizeof back);
    assert_int_equal((size_t)(back + sizeof back - p), strlen(want));
    assert_memory_equal(p, want, strlen(want));
    /* the 128-bit writer agrees below 2^64 */
    char g128[CH_DEC_U128_LEN];
    assert_int_equal(ch_dec_u128(v, g128), strlen(want));
    assert_string_equal(g128, want);
}

static void test_u64_matches_snprintf(void **state) {
    (void)state;
    const uint64_t edge[] = {0,
                             1,
                             9,
                             10,
                             99,
                             100,
                             UINT32_MAX,
                             (uint64_t)UINT32_MAX + 1,
                             9999999999999999999ULL,
                             10000000000000000000ULL,
                             UINT64_MAX - 1,
                             UINT64_MAX};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        check_u64(edge[i]);
    uint64_t s = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < 200000; i++) {
        uint64_t v = next(&s);
        check_u64(v >> (i % 64)); /* short values as often as long ones */
    }
}

static void test_u128_matches_python_table(void **state) {
    (void)state;
    static const struct {
        uint64_t hi, lo;
        const char *dec;
    } tab[] = {
        {0x0000000000000000ULL, 0x0000000000000000ULL, "0"},
        {0x0000000000000000ULL, 0x0000000000000001ULL, "1"},
        {0x0000000000000000ULL, 0xffffffffffffffffULL, "18446744073709551615"},
        {0x0000000000000001ULL, 0x0000000000000000ULL, "18446744073709551616"},
        {0x0000000000000001ULL, 0x0000000000000001ULL, "18446744073709551617"},
        {0x0000000000000005ULL, 0x6bc75e2d63100000ULL, "100000000000000000000"},
        {0x0000000000000005ULL, 0x6bc75e2d63100007ULL, "100000000000000000007"},
        {0x0000000000000002ULL, 0xb5e3af16b1880003ULL, "50000000000000000003"},
        {0x4b3b4ca85a86c47aULL, 0x098a224000000000ULL, "100000000000000000000000000000000000000"},
        {0x4b3b4ca85a86c47aULL, 0x098a223fffffffffULL, "99999999999999999999999999999999999999"},
        {0x4b3b4ca85a86c47aULL, 0x098a224000000001ULL, "100000000000000000000000000000000000001"},
        {0x8000000000000000ULL, 0x0000000000000000ULL, "170141183460469231731687303715884105728"},
        {0xffffffffffffffffULL, 0xffffffffffffffffULL, "340282366920938463463374607431768211455"},
        {0x8ac7230489e80000ULL, 0x0000000000000000ULL, "184467440737095516160000000000000000000"},
        {0x5ce0e9a56015fec5ULL, 0xaadfa328ae398115ULL, "123456789012345678901234567890123456789"},
        {0xe1b1e5f90f944d6eULL, 0xa76589c489e80000ULL, "300000000000000000010000000000000000000"},
        {0x8ac7230489e80000ULL, 0x000000000000002aULL, "184467440737095516160000000000000000042"},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        ch_taint_sum v = (ch_taint_sum)tab[i].hi << 64 | tab[i].lo;
        char got[CH_DEC_U128_LEN], pub[48];
        assert_int_equal(ch_dec_u128(v, got), strlen(tab[i].dec));
        assert_string_equal(got, tab[i].dec);
        /* the public writer is the same one */
        assert_string_equal(ch_u128_str(v, pub), tab[i].dec);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_u64_matches_snprintf),
        cmocka_unit_test(test_u128_matches_python_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The growable array (src/util/vec.h), the one every part grows with.
 *
 * Claims, each against an independent oracle:
 *   - pushes keep every element in order: 100,000 random values pushed one
 *     at a time read back equal to a plain array filled beside them;
 *   - a block is reallocated only when it is full, and then at least
 *     doubles: the number of distinct capacities seen over those pushes is
 *     at most log2(100,000 / 16) + 2;
 *   - ch_grow with room to spare returns the block as it is;
 *   - a size that would overflow size_t is refused with NULL, and the block
 *     and the capacity the caller holds are left as they were (the caller
 *     still owns valid memory: the bug of `p = realloc(p, ...)`);
 *   - a typed array kept by its owner (pointer + size_t cap) grows through
 *     ch_grow with its contents kept. */
#include "support/testutil.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/vec.h"

static void test_push_keeps_order_and_doubles(void **state) {
    (void)state;
    enum { N = 100000 };
    uint64_t *oracle = malloc(N * sizeof *oracle);
    assert_non_null(oracle);
    ch_vec a = {0};
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    size_t caps = 0, last_cap = 0;
    for (size_t i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
        oracle[i] = x;
        assert_int_equal(ch_vec_push(&a, sizeof x, &x), 0);
        assert_int_equal(a.n, i + 1);
        assert_true(a.cap >= a.n);
        if (a.cap != last_cap) {
            if (last_cap) assert_true(a.cap >= 2 * last_cap);
            caps++;
            last_cap = a.cap;
        }
    }
    assert_memory_equal(a.v, oracle, N * sizeof *oracle);
    assert_true(caps <= 15); /* 16 << 13 > 100,000: 14 capacities at most */
    ch_vec_free(&a);
    assert_null(a.v);
    assert_int_equal(a.n, 0);
    assert_int_equal(a.cap, 0);
    free(oracle);
}

static void test_grow_with_room_returns_the_same_block(void **state) {
    (void)state;
    size_t cap = 0;
    int *v = ch_grow(NULL, &cap, 3, sizeof *v);
    assert_non_null(v);
    assert_int_equal(cap, 16);
    size_t before = cap;
    assert_ptr_equal(ch_grow(v, &cap, 16, sizeof *v), v);
    assert_int_equal(cap, before);
    int *w = ch_grow(v, &cap, 100, sizeof *v); /* more than twice: exactly what is needed */
    assert_non_null(w);
    assert_int_equal(cap, 100);
    free(w);
}

static void test_overflow_refused_block_untouched(void **state) {
    (void)state;
    size_t cap = 0;
    uint32_t *v = ch_grow(NULL, &cap, 20, sizeof *v);
    assert_non_null(v);
    for (uint32_t i = 0; i < 20; i++)
        v[i] = i * 7;
    size_t held = cap;
    /* SIZE_MAX / 4 + 1 elements of 4 bytes: more bytes than size_t counts */
    assert_null(ch_grow(v, &cap, SIZE_MAX / sizeof *v + 1, sizeof *v));
    assert_int_equal(cap, held);
    for (uint32_t i = 0; i < 20; i++)
        assert_int_equal(v[i], i * 7); /* still ours, still intact */
    free(v);
}

typedef struct pair {
    char name[16];
    double value;
} pair;

static void test_typed_array_grows_in_place_of_its_owner(void **state) {
    (void)state;
    struct {
        pair *v;
        size_t n, cap;
    } l = {0};
    for (int i = 0; i < 1000; i++) {
        pair *v = ch_grow(l.v, &l.cap, l.n + 1, sizeof *v);
        assert_non_null(v);
        l.v = v;
        snprintf(l.v[l.n].name, sizeof l.v[l.n].name, "p%d", i);
        l.v[l.n++].value = i / 4.0;
    }
    for (int i = 0; i < 1000; i++) {
        char want[16];
        snprintf(want, sizeof want, "p%d", i);
        assert_string_equal(l.v[i].name, want);
        assert_true(l.v[i].value == i / 4.0);
    }
    free(l.v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_keeps_order_and_doubles),
        cmocka_unit_test(test_grow_with_room_returns_the_same_block),
        cmocka_unit_test(test_overflow_refused_block_untouched),
        cmocka_unit_test(test_typed_array_grows_in_place_of_its_owner),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

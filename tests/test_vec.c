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
 *     ch_grow with its contents kept;
 *   - the columns of a struct of arrays grow together (ch_grow_cols): after
 *     10,000 rows added one at a time, each column reads back the values a
 *     formula of the row number gives, and the shared capacity covers them;
 *   - when one column cannot grow (its size would overflow), ch_grow_cols
 *     fails with the shared capacity unchanged and every column's contents
 *     intact. */
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

typedef struct cols3 {
    uint32_t *a;
    uint64_t *b;
    uint8_t *c;
    size_t n, cap;
} cols3;

static int cols3_fit(cols3 *t, size_t need) {
    void **cols[] = {(void **)&t->a, (void **)&t->b, (void **)&t->c};
    const size_t sz[] = {sizeof *t->a, sizeof *t->b, sizeof *t->c};
    return ch_grow_cols(cols, sz, 3, &t->cap, need);
}

static void test_columns_grow_together(void **state) {
    (void)state;
    cols3 t = {0};
    for (uint32_t i = 0; i < 10000; i++) {
        assert_int_equal(cols3_fit(&t, t.n + 1), 0);
        assert_true(t.cap >= t.n + 1);
        t.a[t.n] = i * 3;
        t.b[t.n] = (uint64_t)i << 33 | i;
        t.c[t.n] = (uint8_t)(i * 7);
        t.n++;
    }
    for (uint32_t i = 0; i < 10000; i++) {
        assert_int_equal(t.a[i], i * 3);
        assert_true(t.b[i] == ((uint64_t)i << 33 | i));
        assert_int_equal(t.c[i], (uint8_t)(i * 7));
    }
    free(t.a);
    free(t.b);
    free(t.c);
}

static void test_columns_refused_keep_capacity_and_contents(void **state) {
    (void)state;
    uint32_t *a = NULL;
    uint8_t *b = NULL;
    size_t cap = 0;
    void **cols[] = {(void **)&a, (void **)&b};
    size_t sz[] = {sizeof *a, 1};
    assert_int_equal(ch_grow_cols(cols, sz, 2, &cap, 20), 0);
    for (uint32_t i = 0; i < 20; i++)
        a[i] = i + 1000, b[i] = (uint8_t)i;
    size_t held = cap;
    uint8_t *b_before = b;
    /* the second column, now counted in elements of SIZE_MAX / 64 bytes,
     * cannot take 100 of them: refused after the first grew */
    sz[1] = SIZE_MAX / 64;
    assert_int_equal(ch_grow_cols(cols, sz, 2, &cap, 100), -1);
    assert_int_equal(cap, held);
    assert_ptr_equal(b, b_before);
    for (uint32_t i = 0; i < 20; i++) {
        assert_int_equal(a[i], i + 1000);
        assert_int_equal(b[i], (uint8_t)i);
    }
    free(a);
    free(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_keeps_order_and_doubles),
        cmocka_unit_test(test_grow_with_room_returns_the_same_block),
        cmocka_unit_test(test_overflow_refused_block_untouched),
        cmocka_unit_test(test_typed_array_grows_in_place_of_its_owner),
        cmocka_unit_test(test_columns_grow_together),
        cmocka_unit_test(test_columns_refused_keep_capacity_and_contents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

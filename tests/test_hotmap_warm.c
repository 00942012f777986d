/* The store's hot maps (src/store/hotmap.c): a large table's pages are
 * made resident by a thread of its own while the writer fills it. The
 * table reads back every entry put while the thread ran and after a
 * rehash stopped it; an untouched large table becomes resident without
 * the caller touching it (mincore, the kernel's own account); a small one
 * starts no thread. ThreadSanitizer and ASan runs of this test check the
 * thread's start, stop and join. */
#include "support/testutil.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "store/hotmap.h"

/* Keys as the store's: uniformly spread 64-bit values. */
static uint64_t key_of(uint64_t i) {
    uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ULL;
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ULL;
    return x ^ (x >> 29);
}

static void test_table_filled_while_warming_reads_back_every_entry(void **state) {
    (void)state;
    st_hotmap m;
    assert_int_equal(st_hot_init(&m, 1u << 21), 0); /* 48 MiB */
    assert_non_null(m.warm);
    enum { N = 300000 };
    for (uint64_t i = 0; i < N; i++) {
        st_hot_entry *e = st_hot_put(&m, key_of(i));
        assert_non_null(e);
        e->aux = i;
    }
    for (uint64_t i = 0; i < N; i++) {
        const st_hot_entry *e = st_hot_get(&m, key_of(i));
        assert_non_null(e);
        assert_int_equal(e->aux, i);
    }
    /* a rehash into a larger table (its own thread) while either may run */
    assert_int_equal(st_hot_reserve(&m, 1u << 21), 0);
    assert_int_equal(m.mask + 1, 1u << 22);
    for (uint64_t i = 0; i < N; i++) {
        const st_hot_entry *e = st_hot_get(&m, key_of(i));
        assert_non_null(e);
        assert_int_equal(e->aux, i);
    }
    assert_null(st_hot_get(&m, key_of(N)));
    st_hot_free(&m);
    assert_null(m.slots);
}

/* Pages of [p, p + len) resident now. */
static size_t resident_pages(void *p, size_t len) {
    long page = sysconf(_SC_PAGESIZE);
    size_t n = (len + (size_t)page - 1) / (size_t)page, in = 0;
    unsigned char *v = malloc(n);
    assert_non_null(v);
    assert_int_equal(mincore(p, len, v), 0);
    for (size_t i = 0; i < n; i++)
        in += v[i] & 1;
    free(v);
    return in;
}

static void test_untouched_large_table_becomes_resident(void **state) {
    (void)state;
#ifdef MADV_POPULATE_WRITE
    /* a kernel without MADV_POPULATE_WRITE (before 5.14) warms nothing */
    long page = sysconf(_SC_PAGESIZE);
    void *probe =
        mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(probe != MAP_FAILED);
    int ok = madvise(probe, (size_t)page, MADV_POPULATE_WRITE);
    munmap(probe, (size_t)page);
    if (ok != 0) skip();
    st_hotmap m;
    assert_int_equal(st_hot_init(&m, 1u << 20), 0); /* 24 MiB */
    size_t len = (m.mask + 1) * sizeof *m.slots, want = len / (size_t)page, have = 0;
    for (int i = 0; i < 1000 && (have = resident_pages(m.slots, len)) < want; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(have, want);
    st_hot_free(&m);
#else
    skip();
#endif
}

static void test_small_table_starts_no_thread(void **state) {
    (void)state;
    st_hotmap m;
    assert_int_equal(st_hot_init(&m, 1u << 16), 0); /* 1.5 MiB: the store's starting size */
    assert_null(m.warm);
    st_hot_entry *e = st_hot_put(&m, 42);
    assert_non_null(e);
    assert_ptr_equal(st_hot_get(&m, 42), e);
    st_hot_free(&m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_filled_while_warming_reads_back_every_entry),
        cmocka_unit_test(test_untouched_large_table_becomes_resident),
        cmocka_unit_test(test_small_table_starts_no_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* libFuzzer: a run's fence file (src/store/runfence.h) as a crash, a
 * person or another version of the writer could leave it.
 *
 * Input: two bytes of mode, then either (mode even) the whole file, read
 * back for a run of a count and tag taken from its own header, or (mode
 * odd) the keys of a run (8 bytes each, sorted here): its fences are
 * saved, one byte of the file (position and xor from the mode bytes)
 * changed, and read back.
 * Properties: never crashes or reads out of bounds; a file whose bytes are
 * not the ones saved for that run is refused (a fence trusted wrongly
 * sends lookups to a block without their key); one read back unchanged
 * gives the fences saved. */
#include "derived_harness.h"

#include "store/runs.h"

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = scratch_file("t-7.fence");
    unsigned mode;
    if (!take_mode(&data, &size, &mode)) return 0;
    st_fences f;
    if (!(mode & 1)) {
        uint64_t n, tag;
        write_claimed(path, data, size, 10000000, &n, &tag);
        if (st_fence_load(&f, path, 7, n, tag) == 0) {
            uint64_t sum = 0; /* every fence readable */
            for (uint64_t i = 0; i < f.count; i++)
                sum += f.keys[i];
            if (sum == 1) fprintf(stderr, "%llu\n", (unsigned long long)sum);
            st_fence_free(&f);
        }
        return 0;
    }
    /* a run of n entries: its fences are the keys of every 256th */
    size_t k = size / 8;
    if (k > 4000) k = 4000;
    if (k == 0) return 0;
    uint64_t *keys = malloc(k * sizeof *keys);
    if (!keys) abort();
    for (size_t i = 0; i < k; i++)
        keys[i] = get64(data + 8 * i) >> 16;
    qsort(keys, k, sizeof *keys, cmp_u64);
    uint64_t n = (uint64_t)(k - 1) * ST_RUN_FENCE + 1 + (mode >> 1) % ST_RUN_FENCE;
    if (st_fence_count(n) != k) abort();
    ch_error err;
    if (st_fence_save(&f, path, 7, n, 42, keys, &err) != 0) abort();
    if (f.count != k || memcmp(f.keys, keys, k * 8) != 0) abort();
    st_fence_free(&f);
    /* unchanged: loads, with the fences saved */
    if (st_fence_load(&f, path, 7, n, 42) != 0) abort();
    if (f.count != k || memcmp(f.keys, keys, k * 8) != 0) abort();
    st_fence_free(&f);
    /* another run's (count past another fence, or tag) is refused */
    if (st_fence_load(&f, path, 7, n + ST_RUN_FENCE, 42) == 0 ||
        st_fence_load(&f, path, 7, n, 43) == 0 || st_fence_load(&f, path, 8, n, 42) == 0)
        abort();
    /* one byte changed: refused */
    change_one_byte(path, (long)(64 + k * 8), mode); /* the header, then the fences */
    if (st_fence_load(&f, path, 7, n, 42) == 0) abort();
    free(keys);
    return 0;
}

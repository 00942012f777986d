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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/runs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/coinhound-fuzz-fence-XXXXXX";
static char path[4200];
static int ready;

static uint64_t get64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ready) {
        if (!mkdtemp(dir)) abort();
        snprintf(path, sizeof path, "%s/t-7.fence", dir);
        ready = 1;
    }
    if (size < 2) return 0;
    unsigned mode = data[0] | (unsigned)data[1] << 8;
    data += 2;
    size -= 2;
    st_fences f;
    if (!(mode & 1)) {
        FILE *o = fopen(path, "wb");
        if (!o) abort();
        if (size && fwrite(data, 1, size, o) != size) abort();
        fclose(o);
        /* the header's own entry count and tag (bytes 16-23, 24-31), the
         * count capped so that a claimed size costs no more than the file */
        uint64_t n = size >= 24 ? get64(data + 16) % 10000000 : 0;
        uint64_t tag = size >= 32 ? get64(data + 24) : 0;
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
    long len = (long)(64 + k * 8); /* the header, then the fences */
    long at = (long)((mode >> 1) % (unsigned)len);
    uint8_t x = (uint8_t)((mode >> 9) | 1);
    FILE *io = fopen(path, "r+b");
    if (!io || fseek(io, at, SEEK_SET) != 0) abort();
    int c = fgetc(io);
    if (c == EOF || fseek(io, at, SEEK_SET) != 0) abort();
    fputc(c ^ x, io);
    fclose(io);
    if (st_fence_load(&f, path, 7, n, 42) == 0) abort();
    free(keys);
    return 0;
}

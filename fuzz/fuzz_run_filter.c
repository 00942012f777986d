/* libFuzzer: a run's filter file (src/store/runfilter.h) as a crash, a
 * person or another version of the writer could leave it.
 *
 * Input: two bytes of mode, then either (mode even) the whole file, read
 * back for a run of a count and tag taken from its own header, or (mode
 * odd) the keys of a run (8 bytes each): a filter is built from them and
 * saved, one byte of the file (position and xor from the mode bytes and
 * the first key) changed, and read back.
 * Properties: never crashes or reads out of bounds; a file whose bytes are
 * not the ones saved for that run is refused (a filter trusted wrongly
 * hides keys); one read back unchanged lets every key of its run pass. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/runfilter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/coinhound-fuzz-filter-XXXXXX";
static char path[4200];
static int ready;

static uint64_t get64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ready) {
        if (!mkdtemp(dir)) abort();
        snprintf(path, sizeof path, "%s/t-7.filter", dir);
        ready = 1;
    }
    if (size < 2) return 0;
    unsigned mode = data[0] | (unsigned)data[1] << 8;
    data += 2;
    size -= 2;
    st_filter f;
    if (!(mode & 1)) {
        FILE *o = fopen(path, "wb");
        if (!o) abort();
        if (size && fwrite(data, 1, size, o) != size) abort();
        fclose(o);
        /* the header's own count and tag (bytes 16-23, 24-31), its count
         * capped so that a claimed size costs no more than the file */
        uint64_t n = size >= 24 ? get64(data + 16) % 100000 : 0;
        uint64_t tag = size >= 32 ? get64(data + 24) : 0;
        if (st_filter_load(&f, path, 7, n, tag) == 0) st_filter_free(&f);
        return 0;
    }
    size_t n = size / 8;
    if (n > 20000) n = 20000;
    st_filter w;
    if (st_filter_init(&w, n) != 0) abort();
    for (size_t i = 0; i < n; i++)
        st_filter_add(&w, get64(data + 8 * i) >> 16);
    ch_error err;
    if (st_filter_save(&w, path, 7, n, 42, &err) != 0) abort();
    /* unchanged: loads, and passes every key */
    if (st_filter_load(&f, path, 7, n, 42) != 0) abort();
    for (size_t i = 0; i < n; i++)
        if (!st_filter_may(&f, get64(data + 8 * i) >> 16)) abort();
    st_filter_free(&f);
    /* another run's (count or tag) is refused */
    if (st_filter_load(&f, path, 7, n + 1, 42) == 0 || st_filter_load(&f, path, 7, n, 43) == 0)
        abort();
    /* one byte changed: refused */
    long len = (long)(64 + w.blocks * 64); /* the header, then the blocks */
    long at = (long)((mode >> 1) % (unsigned)len);
    uint8_t x = (uint8_t)((mode >> 9) | 1);
    FILE *io = fopen(path, "r+b");
    if (!io || fseek(io, at, SEEK_SET) != 0) abort();
    int c = fgetc(io);
    if (c == EOF || fseek(io, at, SEEK_SET) != 0) abort();
    fputc(c ^ x, io);
    fclose(io);
    if (st_filter_load(&f, path, 7, n, 42) == 0) abort();
    st_filter_free(&w);
    return 0;
}

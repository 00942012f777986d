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
#include "derived_harness.h"

#include "store/runfilter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = scratch_file("t-7.filter");
    unsigned mode;
    if (!take_mode(&data, &size, &mode)) return 0;
    st_filter f;
    if (!(mode & 1)) {
        uint64_t n, tag;
        write_claimed(path, data, size, 100000, &n, &tag);
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
    change_one_byte(path, (long)(64 + w.blocks * 64), mode); /* the header, then the blocks */
    if (st_filter_load(&f, path, 7, n, 42) == 0) abort();
    st_filter_free(&w);
    return 0;
}

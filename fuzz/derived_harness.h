/* Shared by the harnesses of a run's derived files (fuzz_run_filter.c,
 * fuzz_run_fence.c, over src/store/derived.h): the input's two bytes of
 * mode, a scratch file, that file written whole from the input and read
 * back for the run its own head claims, and one byte of a saved file
 * changed. A harness includes this and defines LLVMFuzzerTestOneInput. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t get64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* A path in a scratch folder made at the first call, named name. */
static const char *scratch_file(const char *name) {
    static char dir[] = "/tmp/coinhound-fuzz-derived-XXXXXX";
    static char path[4200];
    if (!path[0]) {
        if (!mkdtemp(dir)) abort();
        snprintf(path, sizeof path, "%s/%s", dir, name);
    }
    return path;
}

/* The input's first two bytes as its mode, taken off data: 0 when it has
 * none (the input is then too short to use). */
static int take_mode(const uint8_t **data, size_t *size, unsigned *mode) {
    if (*size < 2) return 0;
    *mode = (*data)[0] | (unsigned)(*data)[1] << 8;
    *data += 2;
    *size -= 2;
    return 1;
}

/* data written as path's whole file; the run its head claims, as a derived
 * head lays it out (derived.h: the entry count at bytes 16-23, the tag at
 * 24-31), into *n and *tag, the count capped below cap so that a claimed
 * size costs no more than the file. */
static void write_claimed(const char *path, const uint8_t *data, size_t size, uint64_t cap,
                          uint64_t *n, uint64_t *tag) {
    FILE *o = fopen(path, "wb");
    if (!o) abort();
    if (size && fwrite(data, 1, size, o) != size) abort();
    fclose(o);
    *n = size >= 24 ? get64(data + 16) % cap : 0;
    *tag = size >= 32 ? get64(data + 24) : 0;
}

/* One byte of path's len-byte file xored with a non-zero value, its
 * position and the value from mode's upper bits. */
static void change_one_byte(const char *path, long len, unsigned mode) {
    long at = (long)((mode >> 1) % (unsigned long)len);
    uint8_t x = (uint8_t)((mode >> 9) | 1);
    FILE *io = fopen(path, "r+b");
    if (!io || fseek(io, at, SEEK_SET) != 0) abort();
    int c = fgetc(io);
    if (c == EOF || fseek(io, at, SEEK_SET) != 0) abort();
    fputc(c ^ x, io);
    fclose(io);
}

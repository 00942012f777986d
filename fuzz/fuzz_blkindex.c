/* libFuzzer: the persisted block index (ch_blkidx) read back from files a
 * crash, a person or a disk damaged.
 *
 * Input: the rest of a state file after its "dir" line (key, magic, record
 * count, file states), a 0 byte, then the records file's bytes. The folder
 * holds one real blk file (a header-only block chain of three records).
 * The index is loaded, updated (tolerant, then strict), its best chain
 * built and every block of it read.
 * Properties: never crashes or reads out of bounds; a bad index is
 * dropped (the folder read again) or refused with a message; a chain it
 * returns names positions that a read either serves or refuses. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coinhound/btc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/coinhound-fuzz-idx-XXXXXX";
static char real[4200];
static int ready;

static void put(const char *name, const void *p, size_t n) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (n && fwrite(p, 1, n, f) != n) abort();
    fclose(f);
}

/* Three records of regtest framing: 80-byte headers linked by prev (their
 * own hashes computed by the parser), each followed by a zero tx count. */
static void make_folder(void) {
    uint8_t file[3 * (8 + 81)];
    ch_hash256 prev;
    memset(&prev, 0, sizeof prev);
    for (int i = 0; i < 3; i++) {
        uint8_t *r = file + i * (8 + 81);
        const uint8_t magic[4] = {0xfa, 0xbf, 0xb5, 0xda};
        memcpy(r, magic, 4);
        r[4] = 81, r[5] = r[6] = r[7] = 0;
        uint8_t *h = r + 8;
        memset(h, 0, 81);
        h[0] = 1;
        memcpy(h + 4, prev.b, 32);
        h[72] = 0xff, h[73] = 0xff, h[74] = 0x7f, h[75] = 0x20; /* bits 0x207fffff */
        ch_btc_header hd;
        ch_error err;
        if (ch_btc_parse_header(h, 80, &hd, &err) != 0) abort();
        prev = hd.hash;
    }
    put("blk00000.dat", file, sizeof file);
    if (!realpath(dir, real)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ready) {
        if (!mkdtemp(dir)) abort();
        make_folder();
        ready = 1;
    }
    const uint8_t *zero = memchr(data, 0, size);
    size_t st_len = zero ? (size_t)(zero - data) : size;
    size_t head = strlen(real) + 40;
    char *state = malloc(head + st_len + 1);
    if (!state) abort();
    int n = snprintf(state, head, "coinhound-blkindex 1\ndir %s\n", real);
    memcpy(state + n, data, st_len);
    put("idx.state", state, (size_t)n + st_len);
    free(state);
    put("idx", zero ? zero + 1 : data, zero ? size - st_len - 1 : 0);
    char path[4400];
    snprintf(path, sizeof path, "%s/idx", dir);
    ch_blkdir *d;
    ch_blkidx *x;
    ch_error err;
    if (ch_blkdir_open(dir, &d, &err) != 0) abort();
    if (ch_blkidx_load(path, d, &x, &err) != 0) abort();
    for (int strict = 0; strict < 2; strict++) {
        err.msg[0] = 0;
        if (ch_blkidx_update(x, d, strict, &err) < 0 && !err.msg[0]) abort();
    }
    ch_blk_chain c;
    err.msg[0] = 0;
    if (ch_blkidx_best_chain(x, &c, &err) == 0) {
        uint8_t *buf = NULL;
        size_t cap = 0;
        for (size_t h = 0; h < c.n; h++) {
            err.msg[0] = 0;
            if (ch_blk_chain_read(d, &c, h, &buf, &cap, &err) != 0 && !err.msg[0]) abort();
        }
        free(buf);
        ch_blk_chain_free(&c);
    } else if (!err.msg[0]) {
        abort();
    }
    ch_blkidx_free(x);
    ch_blkdir_close(d);
    return 0;
}

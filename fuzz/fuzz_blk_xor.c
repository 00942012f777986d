/* libFuzzer: blk file framing with xor.dat.
 *
 * Input: 8 bytes of xor.dat key (absent when the first byte is 0xff), then
 * the bytes of blk00000.dat as Bitcoin Core would leave them (obfuscated
 * with the key). The folder is opened and its best chain found, then every
 * block on it is read back.
 * Properties: never crashes or reads out of bounds; a refusal says why;
 * every block of the chain it returns can be read (its position lies
 * within the file). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coinhound/btc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/coinhound-fuzz-blk-XXXXXX";
static int ready;

static int put(const char *name, const uint8_t *p, size_t n) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (n && fwrite(p, 1, n, f) != n) abort();
    return fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ready && !mkdtemp(dir)) abort();
    ready = 1;
    if (size < 8) return 0;
    char key[128];
    snprintf(key, sizeof key, "%s/xor.dat", dir);
    if (data[0] == 0xff)
        unlink(key);
    else
        put("xor.dat", data, 8);
    put("blk00000.dat", data + 8, size - 8);
    ch_blkdir *d;
    ch_error err;
    err.msg[0] = 0;
    if (ch_blkdir_open(dir, &d, &err) != 0) {
        if (!err.msg[0]) abort();
        return 0;
    }
    ch_blk_chain chain;
    memset(&chain, 0, sizeof chain);
    err.msg[0] = 0;
    if (ch_blkdir_best_chain(d, &chain, &err) == 0) {
        uint8_t *buf = NULL;
        size_t cap = 0;
        for (size_t h = 0; h < chain.n; h++)
            if (ch_blk_chain_read(d, &chain, h, &buf, &cap, &err) != 0) abort();
        free(buf);
        ch_blk_chain_free(&chain);
    } else if (!err.msg[0]) {
        abort();
    }
    ch_blkdir_close(d);
    return 0;
}

/* libFuzzer: the block index's tree, which lets go of records far below
 * the tip (blkindex.c), against a full scan of the same folder.
 *
 * Input: a byte for `keep` (1 to 6 heights, so that small inputs reach
 * below the window), then two bytes an operation: a header-only record is
 * appended to the folder's blk file, on the record the first byte picks
 * (or on nothing: a second genesis), with one of two bits (two works), or
 * a copy of a record already written (a duplicate); the second byte's
 * bits also say when the index is updated (one held across the whole
 * input, as the watcher holds it) and saved (its records then mapped).
 * Property: after every update, the index's best chain equals
 * ch_blkdir_best_chain's over the same bytes (the independent oracle):
 * length, stale count, and each height's hash, file and offset; neither
 * crashes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chains/btc/btc_internal.h"
#include "coinhound/btc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RECORDS 300

static char dir[] = "/tmp/coinhound-fuzz-tree-XXXXXX";
static char blk[4200], idx[4200], state[4300];
static int ready;

/* The index's chain against a full scan's; abort on any difference. */
static void compare(ch_blkidx *x) {
    ch_error e1, e2;
    ch_blkdir *d;
    if (ch_blkdir_open(dir, &d, &e1) != 0) abort();
    ch_blk_chain full, inc;
    int frc = ch_blkdir_best_chain(d, &full, &e1);
    int irc = ch_blkidx_best_chain(x, &inc, &e2);
    ch_blkdir_close(d);
    if (frc != irc) abort();
    if (frc != 0) return;
    if (full.n != inc.n || full.n_stale != inc.n_stale) abort();
    for (size_t h = 0; h < full.n; h++) {
        const ch_blk_rec *a = ch_blk_chain_rec(&full, h), *b = ch_blk_chain_rec(&inc, h);
        if (memcmp(a->hash.b, b->hash.b, 32) || a->offset != b->offset || a->file_no != b->file_no)
            abort();
    }
    ch_blk_chain_free(&full);
    ch_blk_chain_free(&inc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ready) {
        if (!mkdtemp(dir)) abort();
        snprintf(blk, sizeof blk, "%s/blk00000.dat", dir);
        snprintf(idx, sizeof idx, "%s/idx", dir);
        snprintf(state, sizeof state, "%s/idx.state", dir);
        ready = 1;
    }
    unlink(idx);
    unlink(state);
    FILE *f = fopen(blk, "wb");
    if (!f) abort();
    fclose(f);
    if (size < 1) return 0;
    static uint8_t hdr[MAX_RECORDS][80];
    static ch_hash256 hash[MAX_RECORDS];
    size_t n = 0;
    ch_error err;
    ch_blkdir *d;
    ch_blkidx *x;
    if (ch_blkdir_open(dir, &d, &err) != 0 || ch_blkidx_load(idx, d, &x, &err) != 0) abort();
    btc_blkidx_set_keep(x, 1 + data[0] % 6);
    for (size_t i = 1; i + 1 < size && n < MAX_RECORDS; i += 2) {
        uint8_t pick = data[i], how = data[i + 1];
        uint8_t *h = hdr[n];
        if ((how & 3) == 3 && n) { /* a duplicate */
            memcpy(h, hdr[pick % n], 80);
        } else {
            memset(h, 0, 80);
            h[0] = 1;
            if (n && pick != 0xff) memcpy(h + 4, hash[pick % n].b, 32);
            uint32_t t = (uint32_t)n, bits = how & 1 ? 0x2000ffffu : 0x207fffffu;
            memcpy(h + 36, &t, 4); /* a merkle root of its own: a hash of its own */
            memcpy(h + 68, &t, 4);
            memcpy(h + 72, &bits, 4);
        }
        ch_btc_header hd;
        if (ch_btc_parse_header(h, 80, &hd, &err) != 0) abort();
        hash[n++] = hd.hash;
        f = fopen(blk, "ab");
        if (!f) abort();
        const uint8_t frame[8] = {0xfa, 0xbf, 0xb5, 0xda, 81, 0, 0, 0}, ntx = 0;
        if (fwrite(frame, 1, 8, f) != 8 || fwrite(h, 1, 80, f) != 80 || fwrite(&ntx, 1, 1, f) != 1)
            abort();
        fclose(f);
        if (how & 4) {
            if (ch_blkidx_update(x, d, true, &err) < 0) abort();
            compare(x);
        }
        if ((how & 0x18) == 0x18 && ch_blkidx_save(x, idx, &err) != 0) abort();
    }
    if (ch_blkidx_update(x, d, true, &err) < 0) abort();
    compare(x);
    ch_blkidx_free(x);
    ch_blkdir_close(d);
    return 0;
}

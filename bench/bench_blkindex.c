/* bench_blkindex: what finding the best chain costs with and without the
 * store's block index, at mainnet's header count (not a test: it prints
 * figures).
 *
 *   bench_blkindex [--headers N] [--dir DIR]
 *
 * Writes a blk folder of N header-only regtest records (default 900,000,
 * about mainnet's height; each header's nonce ground until its hash meets
 * regtest's target), then times, warm (the files in the page cache):
 *   - a full scan (ch_blkdir_best_chain: one pread per record, as every
 *     ingest did before the index);
 *   - the index built from the files, and saved;
 *   - a later run: the index loaded (its tree rebuilt in memory), updated
 *     (nothing new), the best chain and the header rules of what they did
 *     not pass before (what `ingest btc` does before opening the store);
 *   - one record appended: the update that reads it, and the best chain
 *     and header rules again (what the watcher does per block, the index
 *     held in memory).
 * Cold figures need the page cache dropped (root: echo 3 >
 * /proc/sys/vm/drop_caches), which this bench does not do. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "coinhound/btc.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *m) {
    fprintf(stderr, "bench_blkindex: %s\n", m);
    exit(2);
}

/* A header on prev, ground until it meets regtest's target (its top bit
 * clear is enough: the target of 0x207fffff is 0x7fffff << 232). */
static void header(const ch_hash256 *prev, uint32_t time, uint8_t out[80], ch_hash256 *hash) {
    memset(out, 0, 80);
    out[0] = 4;
    memcpy(out + 4, prev->b, 32);
    memcpy(out + 36, &time, 4); /* merkle root: anything */
    memcpy(out + 68, &time, 4);
    const uint32_t bits = 0x207fffff;
    memcpy(out + 72, &bits, 4);
    for (uint32_t nonce = 0;; nonce++) {
        memcpy(out + 76, &nonce, 4);
        ch_btc_header h;
        ch_error err;
        if (ch_btc_parse_header(out, 80, &h, &err) != 0) die(err.msg);
        if (h.hash.b[31] < 0x7f) {
            *hash = h.hash;
            return;
        }
    }
}

static void record(FILE *f, const uint8_t hdr[80]) {
    const uint8_t head[8] = {0xfa, 0xbf, 0xb5, 0xda, 81, 0, 0, 0};
    uint8_t zero = 0;
    if (fwrite(head, 1, 8, f) != 8 || fwrite(hdr, 1, 80, f) != 80 || fwrite(&zero, 1, 1, f) != 1)
        die("write");
}

/* The index's best chain and the header rules over what it did not check
 * before. */
static double best_and_check(ch_blkidx *x, ch_blkdir *d, size_t *n) {
    double t0 = now();
    const ch_blk_chain *c;
    ch_error err;
    if (ch_blkidx_chain(x, &c, &err) != 0 || ch_blkidx_check(x, d, &err) != 0) die(err.msg);
    *n = c->n;
    return now() - t0;
}

int main(int argc, char **argv) {
    size_t n = 900000;
    const char *dir = "/tmp/coinhound-bench-blkindex";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--headers"))
            n = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--dir"))
            dir = argv[i + 1];
        else
            die("usage: bench_blkindex [--headers N] [--dir DIR]");
    }
    mkdir(dir, 0755);
    char blk[4096], idx[4096];
    snprintf(blk, sizeof blk, "%s/blk00000.dat", dir);
    snprintf(idx, sizeof idx, "%s/blkindex", dir);
    unlink(idx);
    FILE *f = fopen(blk, "wb");
    if (!f) die("cannot write the blk file");
    ch_hash256 prev, h;
    memset(&prev, 0, sizeof prev);
    uint8_t hdr[80];
    double t0 = now();
    for (size_t i = 0; i < n; i++) {
        header(&prev, 1700000000u + (uint32_t)i * 600, hdr, &h);
        record(f, hdr);
        prev = h;
    }
    fclose(f);
    printf("%zu headers written in %.1f s\n", n, now() - t0);

    ch_error err;
    ch_blkdir *d;
    if (ch_blkdir_open(dir, &d, &err) != 0) die(err.msg);
    ch_blk_chain c;
    t0 = now();
    if (ch_blkdir_best_chain(d, &c, &err) != 0) die(err.msg);
    double scan = now() - t0;
    ch_blk_chain_free(&c);
    ch_blkdir_close(d);

    if (ch_blkdir_open(dir, &d, &err) != 0) die(err.msg);
    ch_blkidx *x;
    t0 = now();
    size_t len;
    if (ch_blkidx_load(idx, d, &x, &err) != 0 || ch_blkidx_update(x, d, true, &err) < 0)
        die(err.msg);
    best_and_check(x, d, &len);
    if (ch_blkidx_save(x, idx, &err) != 0) die(err.msg);
    double build = now() - t0;
    ch_blkidx_free(x);
    ch_blkdir_close(d);

    if (ch_blkdir_open(dir, &d, &err) != 0) die(err.msg);
    t0 = now();
    int got = -1;
    if (ch_blkidx_load(idx, d, &x, &err) != 0 || (got = ch_blkidx_update(x, d, true, &err)) < 0)
        die(err.msg);
    double load = now() - t0;
    double chain = best_and_check(x, d, &len);
    printf("full scan (one pread per record, as ingest did): %.0f ms\n", scan * 1e3);
    printf("index built from the files, its chain checked, saved: %.0f ms\n", build * 1e3);
    printf("a later run: index loaded (its tree rebuilt in memory) and updated (%d new "
           "records, %zu read) %.0f ms, best chain of %zu + header rules of what is new %.1f ms\n",
           got, ch_blkidx_read_count(x), load * 1e3, len, chain * 1e3);

    /* one block arrives */
    header(&prev, 1700000000u + (uint32_t)n * 600, hdr, &h);
    f = fopen(blk, "ab");
    record(f, hdr);
    fclose(f);
    t0 = now();
    got = ch_blkidx_update(x, d, false, &err);
    double upd = now() - t0;
    chain = best_and_check(x, d, &len);
    t0 = now();
    if (ch_blkidx_save(x, idx, &err) != 0) die(err.msg);
    double save = now() - t0;
    printf("one record appended: update %.2f ms (%d new), best chain of %zu + header rules of "
           "what is new %.2f ms, index saved %.1f ms\n",
           upd * 1e3, got, len, chain * 1e3, save * 1e3);
    ch_blkidx_free(x);
    ch_blkdir_close(d);
    return 0;
}

#include "blkedit.h"

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tu_blk_load(tu_blkfile *f, const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/blk00000.dat", dir);
    memset(f, 0, sizeof *f);
    f->data = tu_read_file(path, &f->len);
    assert_non_null(f->data);
    size_t cap = 0, off = 0;
    while (off + 8 <= f->len) {
        const uint8_t *q = f->data + off + 4;
        size_t size = (size_t)q[0] | (size_t)q[1] << 8 | (size_t)q[2] << 16 | (size_t)q[3] << 24;
        if (size == 0) break; /* zero padding */
        assert_true(off + 8 + size <= f->len);
        if (f->n == cap) {
            cap = cap ? cap * 2 : 256;
            f->rec = realloc(f->rec, cap * sizeof *f->rec);
            assert_non_null(f->rec);
        }
        f->rec[f->n++] = (tu_blkrec){f->data + off, 8 + size};
        off += 8 + size;
    }
}

void tu_blk_free(tu_blkfile *f) {
    free(f->data);
    free(f->rec);
    memset(f, 0, sizeof *f);
}

void tu_blk_write(const char *dir, const tu_blkrec *recs, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/blk00000.dat", dir);
    FILE *out = fopen(path, "wb");
    assert_non_null(out);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(fwrite(recs[i].p, 1, recs[i].len, out), recs[i].len);
    assert_int_equal(fclose(out), 0);
}

tu_blkrec tu_blk_copy(const tu_blkrec *r) {
    tu_blkrec c = {malloc(r->len), r->len};
    assert_non_null(c.p);
    memcpy(c.p, r->p, r->len);
    return c;
}

ch_hash256 tu_blk_hash(const tu_blkrec *r) {
    ch_hash256 h;
    ch_sha256d(r->p + 8, 80, &h);
    return h;
}

/* hash <= the target of bits (both little-endian), for bits whose exponent
 * puts the mantissa inside 32 bytes */
static int meets(const ch_hash256 *h, uint32_t bits) {
    uint8_t t[32] = {0};
    int exp = (int)(bits >> 24);
    for (int i = 0; i < 3; i++)
        if (exp - 3 + i >= 0 && exp - 3 + i < 32) t[exp - 3 + i] = (uint8_t)(bits >> (8 * i));
    for (int i = 31; i >= 0; i--)
        if (h->b[i] != t[i]) return h->b[i] < t[i];
    return 1;
}

void tu_blk_remine(tu_blkrec *r, const ch_hash256 *prev) {
    uint8_t *hd = r->p + 8;
    if (prev) memcpy(hd + 4, prev->b, 32);
    uint32_t bits =
        (uint32_t)hd[72] | (uint32_t)hd[73] << 8 | (uint32_t)hd[74] << 16 | (uint32_t)hd[75] << 24;
    for (uint32_t tries = 0; tries < 1000000; tries++) {
        ch_hash256 h = tu_blk_hash(r);
        if (meets(&h, bits)) return;
        uint32_t nonce = (uint32_t)hd[76] | (uint32_t)hd[77] << 8 | (uint32_t)hd[78] << 16 |
                         (uint32_t)hd[79] << 24;
        nonce++;
        for (int i = 0; i < 4; i++)
            hd[76 + i] = (uint8_t)(nonce >> (8 * i));
    }
    fail_msg("could not mine a header at bits 0x%08x", bits);
}

tu_blkrec *tu_blk_rival(const tu_blkfile *f, size_t from, size_t to, uint32_t salt) {
    assert_true(from >= 1 && from <= to && to <= f->n);
    tu_blkrec *out = calloc(to - from + 1, sizeof *out);
    assert_non_null(out);
    ch_hash256 prev = tu_blk_hash(&f->rec[from - 1]);
    for (size_t i = from; i < to; i++) {
        tu_blkrec *r = &out[i - from];
        *r = tu_blk_copy(&f->rec[i]);
        /* another nonce range than the original's: another hash */
        for (int k = 0; k < 4; k++)
            r->p[8 + 76 + k] = (uint8_t)((salt | 0x80000000u) >> (8 * k));
        tu_blk_remine(r, &prev);
        prev = tu_blk_hash(r);
    }
    return out;
}

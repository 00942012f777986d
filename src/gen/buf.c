/* The growable byte buffer the generator serializes into, and array growth. */
#include "gen_internal.h"

#include <stdlib.h>

#include "util/vec.h"

void gen_buf_reserve(gen_buf *b, size_t extra) {
    if (b->len + extra <= b->cap) return;
    uint8_t *p = ch_grow(b->p, &b->cap, b->len + extra, 1); /* util/vec.h */
    if (!p) abort(); /* out of memory: nothing sensible to do mid-block */
    b->p = p;
}

void *gen_grow(void *p, uint32_t *cap, uint32_t need, size_t elem) {
    if (need <= *cap) return p;
    size_t c = *cap;
    void *q = ch_grow(p, &c, need, elem);
    if (!q) abort();
    *cap = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c; /* the block holds at least that */
    return q;
}

void gen_buf_free(gen_buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void gen_put_varint(gen_buf *b, uint64_t v) {
    if (v < 0xfd) {
        gen_put_u8(b, (uint8_t)v);
    } else if (v <= 0xffff) {
        gen_put_u8(b, 0xfd);
        gen_put_u8(b, (uint8_t)v);
        gen_put_u8(b, (uint8_t)(v >> 8));
    } else if (v <= 0xffffffffULL) {
        gen_put_u8(b, 0xfe);
        gen_put_u32(b, (uint32_t)v);
    } else {
        gen_put_u8(b, 0xff);
        gen_put_u64(b, v);
    }
}

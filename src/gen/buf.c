/* The growable byte buffer the generator serializes into, and array growth. */
#include "gen_internal.h"

#include <stdlib.h>

void gen_buf_reserve(gen_buf *b, size_t extra) {
    if (b->len + extra <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) abort(); /* out of memory: nothing sensible to do mid-block */
    b->p = p;
    b->cap = cap;
}

void *gen_grow(void *p, uint32_t *cap, uint32_t need, size_t elem) {
    if (need <= *cap) return p;
    uint32_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *q = realloc(p, (size_t)c * elem);
    if (!q) abort();
    *cap = c;
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

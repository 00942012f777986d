/* The growable array (vec.h): one place where arrays grow. */
#include "util/vec.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *ch_grow(void *v, size_t *cap, size_t need, size_t sz) {
    assert(sz > 0);
    if (need <= *cap) return v;
    size_t c = *cap > SIZE_MAX / 2 ? SIZE_MAX : *cap * 2;
    if (c < 16) c = 16;
    if (c < need) c = need;
    if (c > SIZE_MAX / sz) { /* doubling overflows: settle for what is needed */
        if (need > SIZE_MAX / sz) return NULL;
        c = need;
    }
    void *nv = realloc(v, c * sz);
    if (!nv) return NULL;
    *cap = c;
    return nv;
}

int ch_grow_cols(void **const cols[], const size_t sz[], size_t k, size_t *cap, size_t need) {
    assert(k > 0);
    if (need <= *cap) return 0;
    size_t least = SIZE_MAX;
    for (size_t i = 0; i < k; i++) {
        size_t c = *cap; /* every column grows from the capacity they share */
        void *v = ch_grow(*cols[i], &c, need, sz[i]);
        if (!v) return -1;
        *cols[i] = v;
        if (c < least) least = c;
    }
    *cap = least;
    return 0;
}

int ch_vec_push(ch_vec *a, size_t sz, const void *elem) {
    if (a->n == SIZE_MAX) return -1;
    void *v = ch_grow(a->v, &a->cap, a->n + 1, sz);
    if (!v) return -1;
    a->v = v;
    memcpy((char *)v + a->n * sz, elem, sz);
    a->n++;
    return 0;
}

void ch_vec_free(ch_vec *a) {
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

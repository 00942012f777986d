/* The one growable array of the library: a block that doubles as it fills,
 * with the size arithmetic checked, so no caller writes its own realloc
 * loop (one copy forgot to check the result, another grew the capacity
 * before the allocation had succeeded).
 *
 * Two forms over one function:
 *   - ch_grow: room for `need` elements in an array the caller already keeps
 *     as a typed pointer and a size_t capacity (label *v; size_t n, cap):
 *       label *v = ch_grow(l->v, &l->cap, l->n + 1, sizeof *v);
 *       if (!v) return -1;          (l->v and l->cap are unchanged)
 *       l->v = v;
 *   - ch_vec: an untyped array with its count, for new code:
 *       ch_vec a = {0}; ch_vec_push(&a, sizeof x, &x); ... free(a.v);
 * Neither ever shrinks; free(v) releases the block. */
#ifndef COINHOUND_UTIL_VEC_H
#define COINHOUND_UTIL_VEC_H

#include <stddef.h>

/* The block v (of *cap elements of size sz; NULL with *cap 0 when empty)
 * with room for at least need elements: v itself when it has it, else the
 * block reallocated to the largest of need, twice *cap and 16 elements, and
 * *cap set to that. NULL when the memory cannot be had or the size in bytes
 * would overflow: then v is still valid and *cap unchanged. sz > 0. */
void *ch_grow(void *v, size_t *cap, size_t need, size_t sz);

typedef struct ch_vec {
    void *v;  /* n elements of the caller's size, NULL when none yet */
    size_t n; /* elements held */
    size_t cap;
} ch_vec;

/* Append one element of size sz (the same sz every time): 0, or -1 when
 * out of memory (a unchanged). */
int ch_vec_push(ch_vec *a, size_t sz, const void *elem);
/* Release the block; a is empty again. */
void ch_vec_free(ch_vec *a);

#endif

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
 *   - ch_grow_cols: the columns of a struct of arrays, which share one
 *     capacity (uint32_t *parent, *height; size_t cap):
 *       void **cols[] = {(void **)&x->parent, (void **)&x->height};
 *       const size_t sz[] = {sizeof *x->parent, sizeof *x->height};
 *       if (ch_grow_cols(cols, sz, 2, &x->cap, need) != 0) return -1;
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

/* Room for need elements in each of k parallel blocks *cols[i] (elements of
 * sz[i] bytes; NULL when empty), all of one capacity *cap: each grows as
 * ch_grow grows it, and *cap becomes the smallest new capacity among them
 * (they are all equal unless one's size in bytes hit the overflow limit).
 * 0 at once when *cap >= need. -1 when a block cannot be had: *cap is
 * unchanged and every block still valid with its contents (the ones that
 * did grow merely hold more than *cap says). k > 0, every sz[i] > 0. */
int ch_grow_cols(void **const cols[], const size_t sz[], size_t k, size_t *cap, size_t need);

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

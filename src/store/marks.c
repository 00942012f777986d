/* Spent marks of committed outputs and the moves of committed addresses'
 * heads: gathered while a batch is added, written at its commit in one
 * sorted pass over each file (st_col_patch_many), not one store into the
 * mapping each as they came (see docs/store.md, "At scale": each such
 * store made ext4 write back a whole large folio).
 *
 * A mark is written before the commit's LMDB transaction, as the marks
 * always were: it names a transaction past the committed count until then,
 * which readers read as unspent, and a writer after a crash clears it
 * (store.c). Until it is written, the batch's own view of an output it
 * spent is this list: st_marks_has, for the double-spend check. */
#include "store/store_internal.h"
#include "util/vec.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

int st_edits_push(st_edit_list *l, uint64_t i, uint64_t v) {
    if (l->n == l->cap) { /* every spend asks: the check stays here */
        st_col_edit *p = ch_grow(l->v, &l->cap, l->n + 1, sizeof *p); /* util/vec.h */
        if (!p) return -1;
        l->v = p;
    }
    l->v[l->n++] = (st_col_edit){i, v};
    return 0;
}

/* the set of outputs marked: open addressing on output + 1 (0 is empty) */
static size_t slot_of(uint64_t key, size_t mask) {
    return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 32) & mask;
}

static void set_insert(uint64_t *slots, size_t mask, uint64_t key) {
    size_t i = slot_of(key, mask);
    while (slots[i] && slots[i] != key)
        i = (i + 1) & mask;
    slots[i] = key;
}

static int set_grow(ch_store *s) {
    size_t cap = s->mark_set_mask ? (s->mark_set_mask + 1) * 2 : 1u << 14;
    uint64_t *slots = calloc(cap, sizeof *slots);
    if (!slots) return -1;
    for (size_t i = 0; s->mark_set && i <= s->mark_set_mask; i++)
        if (s->mark_set[i]) set_insert(slots, cap - 1, s->mark_set[i]);
    free(s->mark_set);
    s->mark_set = slots;
    s->mark_set_mask = cap - 1;
    return 0;
}

int st_marks_add(ch_store *s, uint64_t out, uint64_t mark) {
    /* at most half full */
    if ((s->marks.n + 1) * 2 > (s->mark_set ? s->mark_set_mask + 1 : 0) && set_grow(s) != 0)
        return -1;
    if (st_edits_push(&s->marks, out, mark) != 0) return -1;
    set_insert(s->mark_set, s->mark_set_mask, out + 1);
    return 0;
}

bool st_marks_has(const ch_store *s, uint64_t out) {
    if (!s->mark_set || s->marks.n == 0) return false;
    uint64_t key = out + 1;
    for (size_t i = slot_of(key, s->mark_set_mask);; i = (i + 1) & s->mark_set_mask) {
        if (s->mark_set[i] == key) return true;
        if (s->mark_set[i] == 0) return false;
    }
}

void st_marks_prefetch(const ch_store *s, uint64_t out) {
    if (s->mark_set && s->marks.n)
        __builtin_prefetch(&s->mark_set[slot_of(out + 1, s->mark_set_mask)]);
}

int st_marks_write(ch_store *s, ch_error *err) {
    if (s->marks.n == 0) return 0;
    s->marks_written = true; /* from here an abort must clear them */
    return st_col_patch_many(&s->col[COL_OUTS], s->marks.v, s->marks.n, CH_OUT_SPENT_OFF,
                             CH_OUT_ID_BYTES, err);
}

void st_marks_reset(ch_store *s) {
    if (s->marks.n && s->mark_set) {
        /* clear the slots used (fewer than the table when it is large) */
        if (s->marks.n * 8 < s->mark_set_mask + 1) {
            for (size_t k = 0; k < s->marks.n; k++) {
                uint64_t key = s->marks.v[k].i + 1;
                size_t i = slot_of(key, s->mark_set_mask);
                while (s->mark_set[i] != key)
                    i = (i + 1) & s->mark_set_mask;
                s->mark_set[i] = 0;
            }
        } else {
            memset(s->mark_set, 0, (s->mark_set_mask + 1) * sizeof *s->mark_set);
        }
    }
    s->marks.n = 0;
    s->marks_written = false;
}

void st_marks_free(ch_store *s) {
    free(s->marks.v);
    free(s->mark_set);
    free(s->heads_moves[0].v);
    free(s->heads_moves[1].v);
}

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
 * spent is this list: st_marks_has, for the double-spend check.
 *
 * A small commit (the watcher's block) writes its marks after its syncs,
 * into the page cache only: the fdatasync of outs.col that makes the
 * appended records durable would otherwise wait for a random page of the
 * file per mark. They become durable at the next commit's syncs, which
 * record so (marks_upto: every input below it has its mark on disk). In
 * the same boot the page cache is what every reader reads, so nothing is
 * missing; after a restart (another boot id beside marks_upto) the marks
 * past it may be lost, and are written again from the inputs by the next
 * writer to open the store, before any reader trusts them (store.c). */
#include "store/store_internal.h"
#include "util/vec.h"

#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static char boot_real[40], boot_test[40];
static bool boot_test_set;
static pthread_once_t boot_once = PTHREAD_ONCE_INIT;

static void boot_read(void) {
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return; /* no boot id: no commit leaves its marks to the page cache */
    ssize_t n = read(fd, boot_real, sizeof boot_real - 1);
    close(fd);
    if (n <= 0) n = 0;
    while (n > 0 && (boot_real[n - 1] == '\n' || boot_real[n - 1] == ' '))
        n--;
    boot_real[n] = 0;
}

const char *st_boot_id(void) {
    if (boot_test_set) return boot_test;
    pthread_once(&boot_once, boot_read);
    return boot_real;
}

void st_boot_id_set_for_tests(const char *id) {
    boot_test_set = id != NULL;
    if (id) snprintf(boot_test, sizeof boot_test, "%s", id);
}

bool st_marks_trusted(const ch_store *s, uint64_t n_ins) {
    if (s->account || s->marks_upto >= n_ins) return true;
    const char *boot = st_boot_id();
    return boot[0] && strcmp(boot, s->marks_boot) == 0;
}

int st_marks_recover(ch_store *s, ch_error *err) {
    const st_col *txs = &s->col[COL_TXS], *ins = &s->col[COL_INS];
    st_col *outs = &s->col[COL_OUTS];
    uint64_t n_in = ins->n_committed, n_tx = txs->n_committed;
    if (s->account || s->marks_upto >= n_in) return 0;
    /* the tx holding the first input to replay: the last whose first input
     * is at or below it */
    uint64_t lo = 0, hi = n_tx;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if ((ch_store_tx(s, mid)->first_in_size & CH_ID_MASK) <= s->marks_upto)
            lo = mid;
        else
            hi = mid;
    }
    uint64_t t = lo;
    for (uint64_t i = s->marks_upto; i < n_in; i++) {
        while (t + 1 < n_tx && (ch_store_tx(s, t + 1)->first_in_size & CH_ID_MASK) <= i)
            t++;
        const ch_in_rec *r = st_col_at(ins, i);
        if (ch_in_spent_tx(r) == CH_NO_TX) continue;
        uint64_t o = ch_store_tx(s, ch_in_spent_tx(r))->first_out + ch_in_vout(r);
        uint64_t mark = t + 1;
        if (o >= outs->n_committed)
            return ch_err(err, "%s: damaged: input %llu spends output %llu past the %llu committed",
                          s->dir, (unsigned long long)i, (unsigned long long)o,
                          (unsigned long long)outs->n_committed);
        if (st_col_patch(outs, o, CH_OUT_SPENT_OFF, &mark, CH_OUT_ID_BYTES, err) != 0) return -1;
    }
    if (st_col_sync(outs, err) != 0) return -1;
    s->marks_upto = n_in;
    return st_write_heads_upto(s, err);
}

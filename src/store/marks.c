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
 * A small commit (the watcher's block) writes its marks after its
 * transaction, into the page cache only: the fdatasync of outs.col that
 * makes the appended records durable would otherwise wait for a random
 * page of the file per mark, and the block is readable without waiting
 * for them. Its meta says so (marks_held_from: its first input), so
 * readers index its inputs' marks from ins.col, as held ones, until the
 * next commit, whose syncs make them durable and which records so
 * (marks_upto: every input below it has its mark on disk). In the same
 * boot the page cache is what every reader reads, so nothing is missing;
 * after a restart (another boot id beside marks_upto) the marks past it
 * may be lost: readers index them, and the next writer to open the store
 * writes them again from the inputs (store.c). A store whose meta lacks
 * marks_held_from there (written before) has them replayed before any
 * reader trusts them.
 *
 * A large commit (bulk ingest) may hold its marks instead, with those of
 * the commits before it, until they are dense enough in outs.col (HOLD_DENSITY
 * a page) or would take more than their share of the memory bound: then one
 * commit writes them all in its one pass (the pass costs what the pages it
 * spans do, nearly the whole file once a commit's marks are about as many
 * as its pages). While they are held the meta says from which input on
 * outs.col may lack them (marks_held_from, marks_upto at most that): a
 * reader indexes those inputs' marks from ins.col (st_marks_index), a
 * writer that opens after a crash writes them again from there, as a small
 * commit's. A close, a cut and a small commit write them first. */
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

/* Output -> mark tables (the batch's and the held marks; a reader's index
 * of the held ones): open addressing on pairs (output + 1, mark), 0 an
 * empty slot, linear probing, at most half full. */
static size_t slot_of(uint64_t key, size_t mask) {
    return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 32) & mask;
}

static void pairs_insert(st_pairs *t, uint64_t key, uint64_t val) {
    size_t i = slot_of(key, t->mask);
    while (t->v[2 * i] && t->v[2 * i] != key)
        i = (i + 1) & t->mask;
    t->n += t->v[2 * i] == 0;
    t->v[2 * i] = key;
    t->v[2 * i + 1] = val;
}

/* Room for one more entry (doubling): 0, or -1 when out of memory. */
static int pairs_room(st_pairs *t) {
    if (t->v && (t->n + 1) * 2 <= t->mask + 1) return 0;
    size_t cap = t->v ? (t->mask + 1) * 2 : 1u << 14;
    st_pairs g = {calloc(cap, 2 * sizeof(uint64_t)), cap - 1, 0};
    if (!g.v) return -1;
    for (size_t i = 0; t->v && i <= t->mask; i++)
        if (t->v[2 * i]) pairs_insert(&g, t->v[2 * i], t->v[2 * i + 1]);
    free(t->v);
    *t = g;
    return 0;
}

static uint64_t pairs_get(const st_pairs *t, uint64_t key) {
    if (!t->v || t->n == 0) return 0;
    for (size_t i = slot_of(key, t->mask);; i = (i + 1) & t->mask) {
        if (t->v[2 * i] == key) return t->v[2 * i + 1];
        if (t->v[2 * i] == 0) return 0;
    }
}

/* Remove key (present), shifting back the entries after it that may move
 * (no tombstones). */
static void pairs_del(st_pairs *t, uint64_t key) {
    size_t m = t->mask, i = slot_of(key, m);
    while (t->v[2 * i] != key)
        i = (i + 1) & m;
    for (size_t j = (i + 1) & m; t->v[2 * j]; j = (j + 1) & m) {
        size_t h = slot_of(t->v[2 * j], m);
        /* may slot j's entry move to i (is its home outside (i, j])? */
        if (i <= j ? (h <= i || h > j) : (h <= i && h > j)) {
            t->v[2 * i] = t->v[2 * j];
            t->v[2 * i + 1] = t->v[2 * j + 1];
            i = j;
        }
    }
    t->v[2 * i] = t->v[2 * i + 1] = 0;
    t->n--;
}

/* The filter's bit of key (another multiplier than slot_of's). */
static size_t bit_of(uint64_t key, size_t mask) {
    return (size_t)((key * 0xd6e8feb86659fd93ULL) >> 24) & mask;
}

static void bits_set(ch_store *s, uint64_t key) {
    if (!s->mark_bits) return; /* none (out of memory): the set is asked */
    size_t b = bit_of(key, s->mark_bits_mask);
    s->mark_bits[b >> 6] |= 1ULL << (b & 63);
}

/* The filter sized to the set (8 bits a slot) and set from the marks
 * listed: after the set grew, or lost entries (an abort). Out of memory,
 * there is none (and every question goes to the set). */
static void bits_rebuild(ch_store *s) {
    size_t bits = (s->mark_set.mask + 1) * 8;
    if (!s->mark_bits || s->mark_bits_mask + 1 != bits) {
        free(s->mark_bits);
        s->mark_bits_mask = 0;
        s->mark_bits = malloc(bits / 8);
        if (!s->mark_bits) return;
        s->mark_bits_mask = bits - 1;
    }
    memset(s->mark_bits, 0, bits / 8);
    for (size_t k = 0; k < s->marks.n; k++)
        bits_set(s, s->marks.v[k].i + 1);
}

int st_marks_add(ch_store *s, uint64_t out, uint64_t mark) {
    size_t cap = s->mark_set.v ? s->mark_set.mask + 1 : 0;
    if (pairs_room(&s->mark_set) != 0) return -1;
    if (s->mark_set.mask + 1 != cap) bits_rebuild(s);
    if (st_edits_push(&s->marks, out, mark) != 0) return -1;
    pairs_insert(&s->mark_set, out + 1, mark);
    bits_set(s, out + 1);
    return 0;
}

bool st_marks_has(const ch_store *s, uint64_t out) {
    if (!s->marks.n) return false;
    size_t b = bit_of(out + 1, s->mark_bits_mask);
    if (s->mark_bits && !(s->mark_bits[b >> 6] >> (b & 63) & 1)) return false;
    return pairs_get(&s->mark_set, out + 1) != 0;
}

void st_marks_prefetch(const ch_store *s, uint64_t out) {
    if (s->mark_bits && s->marks.n)
        __builtin_prefetch(&s->mark_bits[bit_of(out + 1, s->mark_bits_mask) >> 6]);
}

uint64_t st_marks_spent(const ch_store *s, uint64_t out) {
    if (!s->writable) return pairs_get(&s->held_idx, out + 1);
    if (!s->marks_held) return 0;
    /* the held marks name committed txs; the batch's own, pending ones
     * (in the same table) are not the store's yet */
    uint64_t mark = pairs_get(&s->mark_set, out + 1);
    return mark && mark <= s->col[COL_TXS].n_committed ? mark : 0;
}

int st_marks_write(ch_store *s, ch_error *err) {
    if (s->marks.n == 0) return 0;
    s->marks_written = true; /* from here an abort must clear them */
    return st_col_patch_many(&s->col[COL_OUTS], s->marks.v, s->marks.n, CH_OUT_SPENT_OFF,
                             CH_OUT_ID_BYTES, err);
}

/* Held marks a page of outs.col before a commit writes them (default;
 * docs/store.md, "Spent marks held over bulk commits") */
#define HOLD_DENSITY 4.0
/* Bytes a held mark takes: its edit (16), its set's slots (16 each, at
 * most half full, and the table may double) and the filter's byte a slot */
#define HOLD_BYTES 64u

bool st_marks_hold(const ch_store *s) {
    if (s->account || s->marks.n == 0) return false;
    double d = s->marks_density ? s->marks_density : HOLD_DENSITY;
    if (d <= 0) return false;
    const st_col *outs = &s->col[COL_OUTS];
    double pages = (double)(outs->n_committed * outs->rec / 4096 + 1);
    if ((double)s->marks.n >= d * pages) return false;
    uint64_t share = s->mem_budget ? s->mem_budget / 16 : (64u << 20);
    return (uint64_t)s->marks.n * HOLD_BYTES < share;
}

void st_marks_committed(ch_store *s, bool held) {
    if (!held) {
        st_marks_reset(s);
        s->marks_held = 0;
        s->marks_held_from = UINT64_MAX;
        return;
    }
    s->marks_held = s->marks.n;
    s->marks_written = false;
}

/* An abort: the marks past the held ones are the failed batch's. */
static void marks_drop_batch(ch_store *s) {
    if (s->marks_written) { /* all were written (and sorted together): none is held now */
        st_marks_reset(s);
        s->marks_held = 0;
        s->marks_held_from = UINT64_MAX;
        return;
    }
    for (size_t k = s->marks_held; k < s->marks.n; k++)
        pairs_del(&s->mark_set, s->marks.v[k].i + 1);
    s->marks.n = s->marks_held;
    bits_rebuild(s);
}

void st_marks_abort(ch_store *s) {
    if (s->marks_held)
        marks_drop_batch(s);
    else
        st_marks_reset(s);
}

void st_marks_reset(ch_store *s) {
    st_pairs *t = &s->mark_set;
    if (s->marks.n && t->v) {
        /* clear the slots used (fewer than the table when it is large) */
        if (s->marks.n * 8 < t->mask + 1) {
            for (size_t k = 0; k < s->marks.n; k++) {
                uint64_t key = s->marks.v[k].i + 1;
                size_t i = slot_of(key, t->mask);
                while (t->v[2 * i] != key)
                    i = (i + 1) & t->mask;
                t->v[2 * i] = t->v[2 * i + 1] = 0;
            }
        } else {
            memset(t->v, 0, (t->mask + 1) * 2 * sizeof *t->v);
        }
    }
    t->n = 0;
    if (s->mark_bits && s->marks.n) {
        if (s->marks.n * 64 < s->mark_bits_mask + 1)
            for (size_t k = 0; k < s->marks.n; k++) {
                size_t b = bit_of(s->marks.v[k].i + 1, s->mark_bits_mask);
                s->mark_bits[b >> 6] = 0;
            }
        else
            memset(s->mark_bits, 0, (s->mark_bits_mask + 1) / 8);
    }
    s->marks.n = 0;
    s->marks_written = false;
}

void st_marks_free(ch_store *s) {
    free(s->marks.v);
    free(s->mark_set.v);
    free(s->mark_bits);
    free(s->held_idx.v);
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

uint64_t st_marks_in_file(const ch_store *s) {
    uint64_t n = s->col[COL_INS].n_committed;
    return s->marks_held_from < n ? s->marks_held_from : n;
}

bool st_marks_trusted(const ch_store *s, uint64_t n_ins) {
    if (s->account || s->marks_upto >= n_ins) return true;
    const char *boot = st_boot_id();
    return boot[0] && strcmp(boot, s->marks_boot) == 0;
}

/* The tx holding input i, from tx t on (the last whose first input is at
 * or below i). */
static uint64_t tx_of_input(const ch_store *s, uint64_t t, uint64_t n_tx, uint64_t i) {
    while (t + 1 < n_tx && (ch_store_tx(s, t + 1)->first_in_size & CH_ID_MASK) <= i)
        t++;
    return t;
}

/* The first tx whose inputs reach past input i: a binary search. */
static uint64_t tx_search_input(const ch_store *s, uint64_t n_tx, uint64_t i) {
    uint64_t lo = 0, hi = n_tx;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if ((ch_store_tx(s, mid)->first_in_size & CH_ID_MASK) <= i)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

int st_marks_recover(ch_store *s, ch_error *err) {
    const st_col *txs = &s->col[COL_TXS], *ins = &s->col[COL_INS];
    st_col *outs = &s->col[COL_OUTS];
    uint64_t n_in = ins->n_committed, n_tx = txs->n_committed;
    if (s->account || s->marks_upto >= n_in) return 0;
    /* the marks to write again (a small commit's, or the many commits' a
     * bulk writer held), gathered and written in one sorted pass */
    st_edit_list e = {0};
    uint64_t t = tx_search_input(s, n_tx, s->marks_upto);
    for (uint64_t i = s->marks_upto; i < n_in; i++) {
        t = tx_of_input(s, t, n_tx, i);
        const ch_in_rec *r = st_col_at(ins, i);
        if (ch_in_spent_tx(r) == CH_NO_TX) continue;
        uint64_t o = ch_store_tx(s, ch_in_spent_tx(r))->first_out + ch_in_vout(r);
        if (o >= outs->n_committed) {
            free(e.v);
            return ch_err(err, "%s: damaged: input %llu spends output %llu past the %llu committed",
                          s->dir, (unsigned long long)i, (unsigned long long)o,
                          (unsigned long long)outs->n_committed);
        }
        if (st_edits_push(&e, o, t + 1) != 0) {
            free(e.v);
            return ch_err(err, "out of memory");
        }
    }
    int rc = st_col_patch_many(outs, e.v, e.n, CH_OUT_SPENT_OFF, CH_OUT_ID_BYTES, err);
    free(e.v);
    if (rc != 0 || st_col_sync(outs, err) != 0) return -1;
    s->marks_upto = n_in;
    s->marks_held_from = UINT64_MAX;
    return st_write_heads_upto(s, err);
}

int st_marks_index(ch_store *s, ch_error *err) {
    const st_col *ins = &s->col[COL_INS], *outs = &s->col[COL_OUTS];
    uint64_t n_in = ins->n_committed, n_tx = s->col[COL_TXS].n_committed;
    uint64_t from = s->marks_held_from;
    if (s->account || from >= n_in) { /* nothing held: outs.col has every mark */
        free(s->held_idx.v);
        s->held_idx = (st_pairs){0};
        s->held_hi = 0;
        return 0;
    }
    if (s->held_idx_from != from || s->held_hi > n_in || !s->held_idx.v) {
        /* another holding than the one indexed (or a cut): from scratch */
        s->held_idx.n = 0;
        if (s->held_idx.v) memset(s->held_idx.v, 0, (s->held_idx.mask + 1) * 2 * sizeof(uint64_t));
        s->held_idx_from = s->held_hi = from;
    }
    if (n_tx == 0) return 0;
    uint64_t t = tx_search_input(s, n_tx, s->held_hi);
    for (uint64_t i = s->held_hi; i < n_in; i++) {
        t = tx_of_input(s, t, n_tx, i);
        const ch_in_rec *r = st_col_at(ins, i);
        if (ch_in_spent_tx(r) == CH_NO_TX || ch_in_spent_tx(r) >= n_tx) continue;
        uint64_t o = ch_store_tx(s, ch_in_spent_tx(r))->first_out + ch_in_vout(r);
        if (o >= outs->n_committed) continue; /* damaged: the readers' checks say so */
        if (pairs_room(&s->held_idx) != 0) return ch_err(err, "out of memory");
        pairs_insert(&s->held_idx, o + 1, t + 1);
    }
    s->held_hi = n_in;
    return 0;
}

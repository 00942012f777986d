/* The clustering pass: one walk over every transaction of the store, merging
 * address ids with union-find (linking by index, path halving), then naming
 * each cluster by its smallest address id. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/cluster_internal.h"
#include "coinhound/lock.h"
#include "coinhound/progress.h"
#include "util/vec.h"

/* ---- per-transaction buffers ---- */
typedef struct txbuf {
    uint32_t *in_addr;   /* input slots, for self_change */
    ch_addr_id *in_wide; /* the same, as the rules take them */
    uint64_t *in_val, *out_val;
    size_t cap_in, cap_out;
} txbuf;

static int txbuf_fit(txbuf *b, size_t n_in, size_t n_out) {
    if (n_in > b->cap_in) { /* every tx asks: the check stays here */
        void **cols[] = {(void **)&b->in_addr, (void **)&b->in_wide, (void **)&b->in_val};
        const size_t sz[] = {sizeof *b->in_addr, sizeof *b->in_wide, sizeof *b->in_val};
        if (ch_grow_cols(cols, sz, 3, &b->cap_in, n_in) != 0) return -1;
    }
    if (n_out > b->cap_out) {
        uint64_t *v = ch_grow(b->out_val, &b->cap_out, n_out, sizeof *v);
        if (!v) return -1;
        b->out_val = v;
    }
    return 0;
}

static void txbuf_free(txbuf *b) {
    free(b->in_addr);
    free(b->in_wide);
    free(b->in_val);
    free(b->out_val);
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Inputs are resolved a chunk at a time (whole txs, about this many
 * inputs): resolving is two dependent random reads per input (the spent tx's
 * first output, then the output), which a plain loop waits out one by one;
 * a separate loop over the chunk can prefetch them a few inputs ahead. */
#define CHUNK_INPUTS (1u << 16)
#define PREFETCH     32

typedef struct pass {
    const ch_store *s;
    const ch_cluster_opts *o;
    ch_cluster_meta *meta;
    ch_store_counts c;
    const ch_tx_rec *txs;
    const ch_in_rec *ins;
    const ch_out_rec *outs;
    uf u;
    txbuf b;
    cl_scratch sc;
    /* Per input that matters (tx_needs_inputs) of the chunk, in order: */
    uint32_t *want; /* its offset from the chunk's first input */
    uint32_t *slot; /* the slot of the spent output's address, 0: none */
    uint64_t *val;  /* the value spent */
    size_t cap;
    /* The largest address id paid so far, per id class (store.h: 20-byte
     * addresses, and the others with CH_ADDR_ID_WIDE): ids of a class are
     * given in order of first appearance, so an output whose id is above its
     * class's mark is the address's first output. */
    ch_addr_id seen_narrow, seen_wide;
    /* The slot before each class's first id (see slot_of). */
    uint32_t narrow_base, wide_base;
    /* a record pointing outside the store was met (a damaged store): the
     * build fails rather than write clusters made of it */
    bool damaged;
} pass;

/* The slot of a nonzero address id: ch_store_addr_index + 1, without a call
 * per input. Ids are dense per class (store.h) and the dense index keeps
 * each class in id order, so a slot is the id's number within its class
 * plus where the class starts, asked of the store once per pass. */
static inline uint64_t tx_first_in(const pass *p, uint64_t t);
static inline uint64_t tx_first_out(const pass *p, uint64_t t);

static inline uint32_t slot_of(const pass *p, ch_addr_id id) {
    uint64_t s = (id & CH_ADDR_ID_WIDE) ? (uint64_t)p->wide_base + (id & ~CH_ADDR_ID_WIDE)
                                        : (uint64_t)p->narrow_base + id;
    return s <= p->c.addresses ? (uint32_t)s : 0; /* (a damaged store's id: none) */
}

/* The tx records of [t0, t1] give ranges within the inputs and outputs. */
static bool ranges_sound(const pass *p, uint64_t t0, uint64_t t1) {
    for (uint64_t t = t0; t < t1 && t < p->c.txs; t++) {
        uint64_t fi = tx_first_in(p, t), fo = tx_first_out(p, t);
        if (fi > tx_first_in(p, t + 1) || tx_first_in(p, t + 1) > p->c.inputs ||
            fo > tx_first_out(p, t + 1) || tx_first_out(p, t + 1) > p->c.outputs)
            return false;
    }
    return true;
}

/* Does any output pay one of the input addresses (Meiklejohn's "self-change")?
 * Small txs compare pairwise; big ones sort the inputs (in place: the caller
 * is done with their order). */
static bool self_change(const pass *p, uint32_t *in_addr, size_t ni, const ch_out_rec *outs,
                        size_t no) {
    bool sorted = false;
    for (size_t j = 0; j < no; j++) {
        if (ch_out_addr(&outs[j]) == 0) continue;
        uint32_t a = slot_of(p, ch_out_addr(&outs[j]));
        if (ni <= 16) {
            for (size_t i = 0; i < ni; i++)
                if (a == in_addr[i]) return true;
            continue;
        }
        if (!sorted) qsort(in_addr, ni, sizeof *in_addr, cmp_u32);
        sorted = true;
        if (bsearch(&a, in_addr, ni, sizeof *in_addr, cmp_u32)) return true;
    }
    return false;
}

static inline uint64_t tx_first_in(const pass *p, uint64_t t) {
    return t < p->c.txs ? CL_FIRST_IN(&p->txs[t]) : p->c.inputs;
}

static inline uint64_t tx_first_out(const pass *p, uint64_t t) {
    return t < p->c.txs ? p->txs[t].first_out : p->c.outputs;
}

static int chunk_grow(pass *p, size_t n) {
    void **cols[] = {(void **)&p->want, (void **)&p->slot, (void **)&p->val};
    const size_t sz[] = {sizeof *p->want, sizeof *p->slot, sizeof *p->val};
    return ch_grow_cols(cols, sz, 3, &p->cap, n);
}

static void chunk_free(pass *p) {
    free(p->want);
    free(p->slot);
    free(p->val);
    p->want = p->slot = NULL;
    p->val = NULL;
}

/* Are the inputs of a tx with ni inputs and no outputs resolved at all? A
 * tx with one input merges nothing: its input only matters to join a change
 * output, which needs two outputs. So the spends of most one-input txs, a
 * large share of all inputs, are never read. */
static inline bool tx_needs_inputs(const pass *p, uint64_t ni, uint64_t no) {
    return ni >= 2 || (ni == 1 && p->o->change && no >= 2);
}

/* Resolve the inputs of txs [t0, t1) that matter into p->slot / p->val,
 * packed in tx order (merge_txs walks them in the same order). Returns
 * their count. The chunk's inputs are listed first so the resolving loop
 * can prefetch a fixed number of them ahead. */
static size_t gather(pass *p, uint64_t t0, uint64_t t1) {
    const ch_tx_rec *txs = p->txs;
    const ch_in_rec *ins = p->ins;
    const ch_out_rec *outs = p->outs;
    uint64_t base = tx_first_in(p, t0);
    size_t n = 0;
    for (uint64_t t = t0; t < t1; t++) {
        uint64_t fi = tx_first_in(p, t), ni = tx_first_in(p, t + 1) - fi;
        if (!tx_needs_inputs(p, ni, tx_first_out(p, t + 1) - tx_first_out(p, t))) continue;
        for (uint64_t i = fi - base; i < fi - base + ni; i++)
            p->want[n++] = (uint32_t)i; /* a chunk, or one tx, has far fewer than 2^32 */
    }
    const ch_in_rec *in0 = &ins[base];
    uint64_t n_txs = p->c.txs, n_outs = p->c.outputs;
    for (size_t k = 0; k < n; k++) {
        if (k + 2 * PREFETCH < n && ch_in_spent_tx(&in0[p->want[k + 2 * PREFETCH]]) < n_txs)
            __builtin_prefetch(&txs[ch_in_spent_tx(&in0[p->want[k + 2 * PREFETCH]])]);
        if (k + PREFETCH < n && ch_in_spent_tx(&in0[p->want[k + PREFETCH]]) < n_txs) {
            const ch_in_rec *ahead = &in0[p->want[k + PREFETCH]];
            const ch_out_rec *r = &outs[txs[ch_in_spent_tx(ahead)].first_out + ch_in_vout(ahead)];
            /* an 18-byte record crosses a cache line one time in four:
             * both of its lines (value and address end at byte 15) */
            __builtin_prefetch(r);
            __builtin_prefetch(r->b + CH_OUT_ADDR_OFF + 7);
        }
        const ch_in_rec *in = &in0[p->want[k]];
        uint32_t sl = 0;
        uint64_t v = 0;
        if (ch_in_spent_tx(in) != CH_NO_TX) {
            uint64_t o = ch_in_spent_tx(in) < n_txs
                             ? txs[ch_in_spent_tx(in)].first_out + ch_in_vout(in)
                             : n_outs;
            if (o >= n_outs) {
                p->damaged = true; /* spends an output that is not stored */
            } else {
                const ch_out_rec *prev = &outs[o];
                sl = ch_out_addr(prev) ? slot_of(p, ch_out_addr(prev)) : 0;
                p->damaged |= ch_out_addr(prev) && !sl;
                v = CH_OUT_VALUE(prev);
            }
        }
        p->slot[k] = sl;
        p->val[k] = v;
    }
    return n;
}

/* The heuristics over txs [t0, t1), whose n resolved inputs (gather) are
 * p->slot / p->val. */
static int merge_txs(pass *p, uint64_t t0, uint64_t t1, size_t n) {
    const ch_out_rec *outs = p->outs;
    ch_cluster_meta *meta = p->meta;
    bool change = p->o->change;
    size_t k = 0, pf = 0; /* the tx's first resolved input; the next to prefetch */
    for (uint64_t t = t0; t < t1; t++) {
        uint64_t fi = tx_first_in(p, t), ni = tx_first_in(p, t + 1) - fi;
        uint64_t fo = tx_first_out(p, t), no = tx_first_out(p, t + 1) - fo;
        /* change: the outputs paying an address for the first time */
        uint64_t fresh = 0, fresh_out = 0;
        if (change) {
            for (uint64_t j = 0; j < no; j++) {
                ch_addr_id a = ch_out_addr(&outs[fo + j]);
                ch_addr_id *mark = (a & CH_ADDR_ID_WIDE) ? &p->seen_wide : &p->seen_narrow;
                if (a > *mark) {
                    *mark = a;
                    fresh++;
                    fresh_out = fo + j;
                }
            }
        }
        if (!tx_needs_inputs(p, ni, no)) continue; /* not resolved: nothing to merge */
        const uint32_t *in_slot = &p->slot[k];
        const uint64_t *in_val = &p->val[k];
        k += ni;
        /* warm the union-find entries of the next few dozen inputs */
        for (; pf < k + 4 * PREFETCH && pf < n; pf++)
            __builtin_prefetch(&p->u.parent[p->slot[pf]]);
        if (ch_in_spent_tx(&p->ins[fi]) == CH_NO_TX) continue;      /* coinbase */
        if (ni < 2 && !(change && fresh == 1 && no >= 2)) continue; /* nothing to merge */
        if (cl_coinjoin_possible(ni, no)) {
            if (txbuf_fit(&p->b, ni, no) != 0) return -1;
            for (uint64_t j = 0; j < no; j++)
                p->b.out_val[j] = CH_OUT_VALUE(&outs[fo + j]);
            for (uint64_t i = 0; i < ni; i++)
                p->b.in_wide[i] = in_slot[i];
            ch_tx_shape shape = {ni, in_val, p->b.in_wide, no, p->b.out_val};
            unsigned mask;
            if (cl_coinjoin_rules(&shape, &p->sc, &mask) != 0) return -1;
            if (mask) {
                /* [0] counts CoinJoins; each rule counts every tx it fired on */
                meta->coinjoins[CH_CJ_NONE]++;
                for (int r = 1; r < CH_CJ_COUNT; r++)
                    meta->coinjoins[r] += (mask >> r) & 1u;
                continue;
            }
        }
        uint32_t first = 0; /* the first input address: every other joins it */
        for (uint64_t i = 0; i < ni && !first; i++)
            first = in_slot[i];
        if (!first) continue; /* no input has an address */
        if (ni >= 2) {
            for (uint64_t i = 0; i < ni; i++)
                if (in_slot[i] && in_slot[i] != first) uf_union(&p->u, first, in_slot[i]);
            meta->merged_inputs += ni;
        }
        if (change && fresh == 1 && no >= 2) {
            if (txbuf_fit(&p->b, ni, no) != 0) return -1;
            memcpy(p->b.in_addr, in_slot, ni * sizeof *in_slot); /* self_change may sort it */
            uint32_t to = slot_of(p, ch_out_addr(&outs[fresh_out]));
            p->damaged |= !to; /* a fresh output pays an address that is not stored */
            if (to && !self_change(p, p->b.in_addr, ni, &outs[fo], no)) {
                uf_union(&p->u, first, to);
                meta->change_links++;
            }
        }
    }
    return 0;
}

int ch_cluster_compute(const ch_store *s, const ch_cluster_opts *o, uint32_t **cid_out,
                       ch_cluster_meta *meta, double *seconds, ch_error *err) {
    static const ch_cluster_opts defaults = {.change = false, .progress = 0};
    if (!o) o = &defaults;
    *cid_out = NULL;
    memset(meta, 0, sizeof *meta);
    if (ch_store_pending_bytes(s) != 0)
        return ch_err(err, "cluster: the store has uncommitted data; commit first");
    pass p = {.s = s, .o = o, .meta = meta, .seen_wide = CH_ADDR_ID_WIDE};
    ch_store_get_counts(s, &p.c);
    if (p.c.addresses >= UINT32_MAX)
        return ch_err(err,
                      "cluster: too many addresses (%llu): the clustering numbers them in 32 "
                      "bits, at most 2^32-2 (docs/store.md, Format 4)",
                      (unsigned long long)p.c.addresses);
    p.narrow_base = (uint32_t)ch_store_addr_index(s, 1);
    p.wide_base = (uint32_t)ch_store_addr_index(s, CH_ADDR_ID_WIDE | 1);
    double t0 = ch_now();
    const uint32_t n_addr = (uint32_t)p.c.addresses;
    meta->flags = CH_CLUSTER_MULTI_INPUT | (o->change ? CH_CLUSTER_CHANGE : 0);
    meta->addresses = n_addr;
    meta->txs = p.c.txs;
    meta->inputs = p.c.inputs;

    p.u.parent = malloc(((size_t)n_addr + 1) * sizeof *p.u.parent);
    if (!p.u.parent || chunk_grow(&p, CHUNK_INPUTS) != 0) goto oom;
    for (uint32_t i = 0; i <= n_addr; i++)
        p.u.parent[i] = i;

    /* A store opened for reading has every record committed, and committed
     * records are one contiguous mapping per column (column.h), so the
     * columns are walked as arrays. */
    p.txs = p.c.txs ? ch_store_tx(s, 0) : NULL;
    p.ins = p.c.inputs ? ch_store_input(s, 0) : NULL;
    p.outs = p.c.outputs ? ch_store_output(s, 0) : NULL;
    bool progress = o->progress > 0 || (o->progress < 0 && isatty(STDERR_FILENO));
    uint64_t next_report = 0;
    for (uint64_t t = 0; t < p.c.txs;) {
        if (progress && t >= next_report) {
            fprintf(stderr, "\rcluster: %" PRIu64 "/%" PRIu64 " txs (%.0f%%)", t, p.c.txs,
                    100.0 * (double)t / (double)p.c.txs);
            next_report = t + (1u << 20);
        }
        /* whole txs, up to CHUNK_INPUTS inputs (at least one tx) */
        uint64_t base = tx_first_in(&p, t), end = t + 1;
        while (end < p.c.txs && tx_first_in(&p, end + 1) - base <= CHUNK_INPUTS)
            end++;
        if (!ranges_sound(&p, t, end + 1)) {
            p.damaged = true;
            break;
        }
        uint64_t n = tx_first_in(&p, end) - base;
        if (n > p.cap && chunk_grow(&p, n) != 0) goto oom; /* one tx bigger than a chunk */
        size_t resolved = gather(&p, t, end);
        if (merge_txs(&p, t, end, resolved) != 0) goto oom;
        t = end;
    }
    if (progress) fprintf(stderr, "\r\033[K");
    chunk_free(&p);
    if (p.damaged) {
        free(p.u.parent);
        txbuf_free(&p.b);
        cl_scratch_free(&p.sc);
        return ch_err(err, "cluster: the store is damaged: its records point outside it (run "
                           "'coinhound check')");
    }

    uint32_t *cid = p.u.parent;
    p.u.parent = NULL;
    cl_name_clusters(s, cid, n_addr, meta);
    txbuf_free(&p.b);
    cl_scratch_free(&p.sc);
    *cid_out = cid;
    if (seconds) *seconds = ch_now() - t0;
    return 0;
oom:
    free(p.u.parent);
    chunk_free(&p);
    txbuf_free(&p.b);
    cl_scratch_free(&p.sc);
    return ch_err(err, "cluster: out of memory (%" PRIu64 " addresses)", p.c.addresses);
}

/* Name each cluster by its smallest member, counting the members in the
 * same array. Parents point to smaller slots and roots are the smallest
 * members (uf_union), so walking slots upward a slot's parent has already
 * been visited. A visited name r holds r + (its members met so far - 1):
 * never below r, and at most n_addr since the members are distinct slots
 * from r up. Any other visited slot holds its name, which is below itself.
 * So a parent's entry tells which it is, and a second walk reads the sizes
 * and puts the names back. Slots follow the store's dense index, which
 * orders ids as numbers, so the smallest slot is the smallest address id.
 * Both walks are written without a branch on name or member: the two mix
 * at random, and mispredicted branches would cost more than the walks. */
void cl_name_clusters(const ch_store *s, uint32_t *cid, uint32_t n_addr, ch_cluster_meta *meta) {
    for (uint32_t i = 1; i <= n_addr; i++) {
        uint32_t p = cid[i], q = cid[p];
        uint32_t r = q >= p ? p : q; /* a root (p == i) gets r == i */
        cid[i] = r;
        cid[r] += p != i; /* one more member, unless i is the name itself */
    }
    uint64_t clusters = 0;
    uint32_t largest = 0, largest_size = 0;
    for (uint32_t i = 1; i <= n_addr; i++) {
        uint32_t c = cid[i];
        bool name = c >= i;
        uint32_t size = name ? c - i + 1 : 0;
        cid[i] = name ? i : c;
        clusters += name;
        if (size > largest_size) { /* the smallest name wins a tie */
            largest_size = size;
            largest = i;
        }
    }
    meta->clusters = clusters;
    meta->largest = largest ? ch_store_addr_id_at(s, largest - 1) : 0;
    meta->largest_size = largest_size;
}

int ch_cluster_build(const char *dbdir, const ch_cluster_opts *o, ch_cluster_meta *meta,
                     double *seconds, ch_error *err) {
    ch_store *s;
    ch_writer_lock *lock;
    if (cl_build_begin(dbdir, "btc", o && o->wait, &lock, err) != 0) return -1;
    if (ch_store_open(dbdir, "btc", CH_STORE_READ, &s, err) != 0) {
        ch_writer_lock_release(lock);
        return -1;
    }
    uint32_t *cid;
    int rc = ch_cluster_compute(s, o, &cid, meta, seconds, err);
    if (rc == 0 && ch_store_damage(s, err) != 0) rc = -1; /* no clusters made of damage */
    if (rc == 0) rc = cl_write_file(dbdir, s, cid, meta, err);
    free(cid);
    ch_store_close(s);
    ch_writer_lock_release(lock);
    return rc;
}

/* The clustering pass: one walk over every transaction of the store, merging
 * address ids with union-find (union by rank, path halving), then naming
 * each cluster by its smallest address id. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/cluster_internal.h"
#include "coinhound/progress.h"

/* ---- per-transaction buffers ---- */
typedef struct txbuf {
    uint32_t *in_addr;
    uint64_t *in_val, *out_val;
    size_t cap_in, cap_out;
} txbuf;

static int txbuf_fit(txbuf *b, size_t n_in, size_t n_out) {
    if (n_in > b->cap_in) {
        size_t c = n_in < 256 ? 256 : n_in * 2;
        uint32_t *a = realloc(b->in_addr, c * sizeof *a);
        if (!a) return -1;
        b->in_addr = a;
        uint64_t *v = realloc(b->in_val, c * sizeof *v);
        if (!v) return -1;
        b->in_val = v;
        b->cap_in = c;
    }
    if (n_out > b->cap_out) {
        size_t c = n_out < 256 ? 256 : n_out * 2;
        uint64_t *v = realloc(b->out_val, c * sizeof *v);
        if (!v) return -1;
        b->out_val = v;
        b->cap_out = c;
    }
    return 0;
}

static void txbuf_free(txbuf *b) {
    free(b->in_addr);
    free(b->in_val);
    free(b->out_val);
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Does any output pay one of the input addresses (Meiklejohn's "self-change")?
 * Small txs compare pairwise; big ones sort the inputs (in place: the caller
 * is done with their order). */
static bool self_change(const ch_store *s, uint32_t *in_addr, size_t ni, const ch_out_rec *outs,
                        size_t no) {
    bool sorted = false;
    for (size_t j = 0; j < no; j++) {
        if (outs[j].addr == 0) continue;
        uint32_t a = (uint32_t)ch_store_addr_index(s, outs[j].addr) + 1;
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

/* Inputs are resolved a chunk at a time (whole txs, about this many
 * inputs): resolving is two dependent random reads per input (the spent tx's
 * first output, then the output), which a plain loop waits out one by one;
 * a separate loop over the chunk can prefetch them a few inputs ahead. */
#define CHUNK_INPUTS (1u << 16)
#define PREFETCH     16

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
    uint32_t *slot; /* per input of the chunk: slot of the spent output's address, 0: none */
    uint64_t *val;  /* per input of the chunk: value spent */
    size_t cap;
    /* The largest address id paid so far, per id class (store.h: 20-byte
     * addresses, and the others with CH_ADDR_ID_WIDE): ids of a class are
     * given in order of first appearance, so an output whose id is above its
     * class's mark is the address's first output. */
    uint32_t seen_narrow, seen_wide;
} pass;

static inline uint64_t tx_first_in(const pass *p, uint64_t t) {
    return t < p->c.txs ? CL_FIRST_IN(&p->txs[t]) : p->c.inputs;
}

static inline uint64_t tx_first_out(const pass *p, uint64_t t) {
    return t < p->c.txs ? p->txs[t].first_out : p->c.outputs;
}

/* Resolve inputs [from, to) into p->slot / p->val. */
static void gather(pass *p, uint64_t from, uint64_t to) {
    const ch_tx_rec *txs = p->txs;
    const ch_in_rec *ins = p->ins;
    const ch_out_rec *outs = p->outs;
    for (uint64_t i = from; i < to; i++) {
        if (i + 2 * PREFETCH < to && ins[i + 2 * PREFETCH].spent_tx != CH_NO_TX)
            __builtin_prefetch(&txs[ins[i + 2 * PREFETCH].spent_tx]);
        if (i + PREFETCH < to && ins[i + PREFETCH].spent_tx != CH_NO_TX) {
            const ch_in_rec *ahead = &ins[i + PREFETCH];
            __builtin_prefetch(&outs[txs[ahead->spent_tx].first_out + ahead->vout]);
        }
        const ch_in_rec *in = &ins[i];
        uint32_t sl = 0;
        uint64_t v = 0;
        if (in->spent_tx != CH_NO_TX) {
            const ch_out_rec *prev = &outs[txs[in->spent_tx].first_out + in->vout];
            sl = prev->addr ? (uint32_t)ch_store_addr_index(p->s, prev->addr) + 1 : 0;
            v = CH_OUT_VALUE(prev);
        }
        p->slot[i - from] = sl;
        p->val[i - from] = v;
    }
}

/* The heuristics over txs [t0, t1), whose inputs start at p->slot[0]. */
static int merge_txs(pass *p, uint64_t t0, uint64_t t1) {
    const ch_out_rec *outs = p->outs;
    ch_cluster_meta *meta = p->meta;
    bool change = p->o->change;
    uint64_t base = tx_first_in(p, t0), n_chunk = tx_first_in(p, t1) - base, pf = 0;
    for (uint64_t t = t0; t < t1; t++) {
        uint64_t fi = tx_first_in(p, t), ni = tx_first_in(p, t + 1) - fi;
        uint64_t fo = tx_first_out(p, t), no = tx_first_out(p, t + 1) - fo;
        /* warm the union-find entries of the next few dozen inputs */
        for (uint64_t end = fi - base + ni + 4 * PREFETCH; pf < end && pf < n_chunk; pf++) {
            __builtin_prefetch(&p->u.parent[p->slot[pf]]);
            __builtin_prefetch(&p->u.rank[p->slot[pf]]);
        }

        /* change: the outputs paying an address for the first time */
        uint64_t fresh = 0, fresh_out = 0;
        if (change) {
            for (uint64_t j = 0; j < no; j++) {
                uint32_t a = outs[fo + j].addr;
                uint32_t *mark = (a & CH_ADDR_ID_WIDE) ? &p->seen_wide : &p->seen_narrow;
                if (a > *mark) {
                    *mark = a;
                    fresh++;
                    fresh_out = fo + j;
                }
            }
        }
        if (ni == 0 || p->ins[fi].spent_tx == CH_NO_TX) continue;   /* coinbase */
        if (ni < 2 && !(change && fresh == 1 && no >= 2)) continue; /* nothing to merge */
        const uint32_t *in_slot = &p->slot[fi - base];
        if (ni >= 2 && no >= 3) {
            if (txbuf_fit(&p->b, ni, no) != 0) return -1;
            for (uint64_t j = 0; j < no; j++)
                p->b.out_val[j] = CH_OUT_VALUE(&outs[fo + j]);
            ch_tx_shape shape = {ni, &p->val[fi - base], in_slot, no, p->b.out_val};
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
            if (!self_change(p->s, p->b.in_addr, ni, &outs[fo], no)) {
                uf_union(&p->u, first,
                         (uint32_t)ch_store_addr_index(p->s, outs[fresh_out].addr) + 1);
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
    if (p.c.addresses >= UINT32_MAX) return ch_err(err, "cluster: too many addresses");
    double t0 = ch_now();
    const uint32_t n_addr = (uint32_t)p.c.addresses;
    meta->flags = CH_CLUSTER_MULTI_INPUT | (o->change ? CH_CLUSTER_CHANGE : 0);
    meta->addresses = n_addr;
    meta->txs = p.c.txs;
    meta->inputs = p.c.inputs;

    p.u.parent = malloc(((size_t)n_addr + 1) * sizeof *p.u.parent);
    p.u.rank = calloc((size_t)n_addr + 1, 1);
    p.cap = CHUNK_INPUTS;
    p.slot = malloc(p.cap * sizeof *p.slot);
    p.val = malloc(p.cap * sizeof *p.val);
    if (!p.u.parent || !p.u.rank || !p.slot || !p.val) goto oom;
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
        uint64_t n = tx_first_in(&p, end) - base;
        if (n > p.cap) { /* one tx with more inputs than a chunk */
            uint32_t *sl = realloc(p.slot, n * sizeof *sl);
            if (sl) p.slot = sl;
            uint64_t *v = realloc(p.val, n * sizeof *v);
            if (v) p.val = v;
            if (!sl || !v) goto oom;
            p.cap = n;
        }
        gather(&p, base, base + n);
        if (merge_txs(&p, t, end) != 0) goto oom;
        t = end;
    }
    if (progress) fprintf(stderr, "\r\033[K");
    free(p.slot);
    free(p.val);
    p.slot = NULL;
    p.val = NULL;

    uint32_t *cid = p.u.parent;
    p.u.parent = NULL;
    if (cl_name_clusters(s, cid, n_addr, meta) != 0) {
        free(cid);
        goto oom;
    }
    free(p.u.rank);
    txbuf_free(&p.b);
    cl_scratch_free(&p.sc);
    *cid_out = cid;
    if (seconds) *seconds = ch_now() - t0;
    return 0;
oom:
    free(p.u.parent);
    free(p.u.rank);
    free(p.slot);
    free(p.val);
    txbuf_free(&p.b);
    cl_scratch_free(&p.sc);
    return ch_err(err, "cluster: out of memory (%" PRIu64 " addresses)", p.c.addresses);
}

/* Name each cluster by its smallest member, in the parent array itself:
 * walking slots upward, a slot whose root is larger than itself is the
 * first (smallest) member met, so it becomes the root (the old root points
 * to it); every slot then points straight at its root. Slots follow the
 * store's dense index, which orders ids as numbers, so the smallest slot is
 * the smallest address id. */
int cl_name_clusters(const ch_store *s, uint32_t *cid, uint32_t n_addr, ch_cluster_meta *meta) {
    for (uint32_t i = 1; i <= n_addr; i++) {
        uint32_t r = uf_find(cid, i);
        if (r > i) {
            cid[r] = i;
            r = i;
        }
        cid[i] = r;
    }
    /* sizes, for the count and the largest: only members that are not the
     * name touch the array; a name's size is 1 + its count */
    uint32_t *size = calloc((size_t)n_addr + 1, sizeof *size);
    if (!size) return -1;
    for (uint32_t i = 1; i <= n_addr; i++)
        if (cid[i] != i) size[cid[i]]++;
    meta->clusters = 0;
    meta->largest = meta->largest_size = 0;
    for (uint32_t i = 1; i <= n_addr; i++) {
        if (cid[i] != i) continue;
        meta->clusters++;
        if (size[i] + 1 > meta->largest_size) {
            meta->largest_size = size[i] + 1;
            meta->largest = i;
        }
    }
    free(size);
    if (meta->largest) meta->largest = ch_store_addr_id_at(s, meta->largest - 1);
    return 0;
}

int ch_cluster_build(const char *dbdir, const ch_cluster_opts *o, ch_cluster_meta *meta,
                     double *seconds, ch_error *err) {
    ch_store *s;
    if (ch_store_open(dbdir, "btc", CH_STORE_READ, &s, err) != 0) return -1;
    uint32_t *cid;
    int rc = ch_cluster_compute(s, o, &cid, meta, seconds, err);
    if (rc == 0) rc = cl_write_file(dbdir, s, cid, meta, err);
    free(cid);
    ch_store_close(s);
    return rc;
}

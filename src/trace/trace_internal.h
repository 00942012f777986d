/* Internal to the tracing engine: the hash map, the heap and the trace's
 * state. */
#ifndef COINHOUND_TRACE_INTERNAL_H
#define COINHOUND_TRACE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <strings.h>

#include "coinhound/store.h"
#include "coinhound/trace.h"

#define TR_NONE UINT32_MAX
/* The walks hold tx numbers of 40 bits, as the store's records do
 * (tr_entry's tx, the heap's keys, the sweep's 64-bit range), and address
 * slots of 64 (tr_slot). A trace refuses a store past this many
 * transactions, which the store's writer never makes (2^40-2 at most):
 * kept so that a damaged count is an error, not a truncated number. What
 * stays 32-bit counts what the trace holds in memory (entries, intervals,
 * groups): 2^32 entries would be 128 GB. */
#define TR_MAX_TXS ((1ULL << 40) - 1)

/* Open addressing, linear probing, u64 key -> u32 value. Key UINT64_MAX is
 * reserved (empty slot). No deletion: a trace only grows. */
typedef struct tr_map {
    uint64_t *keys;
    uint32_t *vals;
    size_t cap; /* power of two */
    size_t n;
    unsigned shift; /* 64 - log2(cap): Fibonacci hashing takes the top bits */
} tr_map;

int tr_map_init(tr_map *m, size_t hint);
void tr_map_free(tr_map *m);
/* The value of key, or TR_NONE. */
static inline uint32_t tr_map_get(const tr_map *m, uint64_t key) {
    size_t mask = m->cap - 1;
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ULL) >> m->shift);
    for (;; i = (i + 1) & mask) {
        if (m->keys[i] == key) return m->vals[i];
        if (m->keys[i] == UINT64_MAX) return TR_NONE;
    }
}
/* Insert or overwrite; -1 on out of memory. */
int tr_map_put(tr_map *m, uint64_t key, uint32_t val);

/* A heap key: a pending entry as (tx key << 32 | entry), so the entries
 * waiting for one tx leave the heap together. The tx key is a 40-bit tx
 * number (forward) or its 64-bit complement (backward), so the key takes
 * 128 bits: 16 bytes a pending entry where 32-bit tx numbers took 8
 * (measured in docs/store.md, Format 4). */
__extension__ typedef unsigned __int128 tr_hkey;
static inline tr_hkey tr_hkey_make(uint64_t txkey, uint32_t entry) {
    return (tr_hkey)txkey << 32 | entry;
}
static inline uint64_t tr_hkey_tx(tr_hkey k) {
    return (uint64_t)(k >> 32);
}
static inline uint32_t tr_hkey_entry(tr_hkey k) {
    return (uint32_t)k;
}

/* A min-heap of keys. */
typedef struct tr_heap {
    tr_hkey *v;
    size_t n, cap;
} tr_heap;

int tr_heap_push(tr_heap *h, tr_hkey x);
tr_hkey tr_heap_pop(tr_heap *h); /* n must be > 0 */

/* Zeroed memory for the big per-trace arrays (n elements of size sz), in
 * huge pages when large (util/bigmem.h: the walks read and write them at
 * random); NULL when out of memory. Free with tr_big_free, which needs no
 * size. */
void *tr_big_alloc(size_t n, size_t sz);
void tr_big_free(void *p);

/* Grow *p (elements of size sz) so that it holds at least need; -1 on ENOMEM. */
int tr_grow(void **p, size_t *cap, size_t need, size_t sz);

/* What became of a tainted output. */
enum {
    ST_PENDING = 0, /* its next tx is queued */
    ST_DONE,        /* that tx was processed */
    ST_LANDING,     /* at a stop address */
    ST_HOLDING,     /* forward: unspent */
    ST_CUT_HOPS,    /* next tx beyond max_hops */
    ST_CUT_WINDOW,  /* next tx outside the time window */
};

/* One tainted output: 32 bytes, as the walk touches one per output. The
 * tx that moves it on in the trace is its spender in both directions
 * (forward the tx processed next, backward the tx it was traced from). */
typedef struct tr_entry {
    uint64_t out;
    uint64_t amount; /* units */
    uint32_t tx_lo;  /* the tx that created the output (tr_e_tx): bits 0..31 */
    uint32_t parent; /* entry it came from on a shortest path, TR_NONE for a source */
    uint32_t hops;
    uint8_t state;
    uint8_t source;
    uint8_t tx_hi; /* bits 32..39 of the tx, in what was padding: still 32 bytes */
} tr_entry;
_Static_assert(sizeof(tr_entry) == 32, "a tainted output's entry stays 32 bytes");

static inline uint64_t tr_e_tx(const tr_entry *e) {
    return (uint64_t)e->tx_hi << 32 | e->tx_lo;
}
/* tx < 2^40 (TR_MAX_TXS). */
static inline void tr_e_set_tx(tr_entry *e, uint64_t tx) {
    e->tx_lo = (uint32_t)tx;
    e->tx_hi = (uint8_t)(tx >> 32);
}

/* The forward sweep (dense traces): per tx of the sweep's range, the taint
 * waiting for it and the waiting entry nearest a source (what the heap's
 * entries of one tx would give), filled as entries are routed. Once the tx
 * is done, hops holds what became of it (ST_DONE or a cut). */
typedef struct tr_acc {
    uint64_t taint;
    uint32_t hops;
    uint32_t parent;
} tr_acc;

/* How a forward trace walks: the heap, switching to the sweep when the
 * frontier is dense (default), or one of them only (tests, benchmarks). */
enum { TR_WALK_AUTO = 0, TR_WALK_HEAP, TR_WALK_SWEEP };

/* fifo: where an entry's tainted intervals are in t->iv (same index). */
typedef struct tr_ivref {
    uint32_t off, n;
} tr_ivref;

/* A tainted interval [a, b) of satoshi, relative to an output's start (or
 * to a line's start while a tx is shared out). */
typedef struct tr_iv {
    uint64_t a, b;
} tr_iv;

/* Results are summed per address from these: a landed output, and a held
 * one (slot: the address's dense index + 1, 0 for none; the sort key). */
typedef struct tr_landed {
    ch_addr_id addr;
    uint32_t hops;
    uint64_t out;
    uint64_t amount;
} tr_landed;
/* A held output: 16 bytes (a wide trace keeps millions; its table slot is
 * tr_slot(addr), worked out when they are summed, not kept beside it). */
typedef struct tr_held {
    ch_addr_id addr;
    uint64_t amount;
} tr_held;

/* The dense form of the forward sweep (haircut and poison): once taint
 * waits for a good share of the txs ahead, most outputs of the range will
 * hold taint, and an entry per output (32 bytes, written once, read back by
 * every result) costs more than the walk itself. So the outputs the sweep
 * creates get no entries and nothing else of their own (dense.c says how
 * results find them again). Entries remain for the sources and for what the
 * heap placed before the sweep began. FIFO and LIFO keep their entries:
 * their intervals hang on them. */
typedef struct tr_dense {
    uint64_t base_out; /* first output of the range: that of tx sw_base */
    uint8_t *state;    /* per tx of the range: 0 not shared out, ST_DONE or a cut */
    uint64_t *src;     /* the sources within the range, sorted (reached again = returned) */
    size_t n_src, src_at;
    /* the outputs landed and held, listed as they are placed (results sum
     * them per address, and they are at hand then) */
    tr_landed *land_v;
    size_t n_land, cap_land;
    tr_held *hold_v; /* tr_big_alloc'd to its bound when dense, else grown */
    size_t n_hold, cap_hold;
    bool hold_big;
} tr_dense;

struct ch_trace {
    ch_store *s;
    ch_trace_opts o;
    /* the store's columns, mapped (read-only store: everything committed):
     * records [0, m_*) */
    const ch_tx_rec *txs;
    const ch_in_rec *ins;
    const ch_out_rec *outs;
    const uint64_t *vin; /* per tx, the value its inputs spend */
    uint64_t n_narrow;   /* 20-byte addresses: a wide id's slot comes after them */
    uint64_t n_addrs;    /* all addresses: the largest slot */
    uint64_t n_txs, n_ins, n_outs;
    /* opts.pending (a writer's own view, extendable traces only): records
     * [m_*, n_*) are the writer's pending ones, in its memory after the
     * mapping's end (ptxs[0] is tx m_txs); without it m_* = n_* */
    uint64_t m_txs, m_ins, m_outs;
    const ch_tx_rec *ptxs;
    const ch_in_rec *pins;
    const ch_out_rec *pouts;
    const uint64_t *pvin;
    /* the spenders of committed outputs that pending txs spend (their spent
     * marks wait for the commit: store/marks.c): output -> spender - pbase,
     * for the pending txs [pbase, p_hi) read so far */
    tr_map pspend;
    uint64_t pbase, p_hi;
    bool marks_held; /* ch_store_marks_held: some marks are not in the records yet */

    char **stop; /* stop categories */
    size_t n_stop;

    tr_entry *e; /* tainted outputs */
    size_t n_e, cap_e;
    tr_map src;                     /* source output -> entry */
    tr_map by_out;                  /* output -> entry, built when a path is first asked */
    bool sorted;                    /* landings and holdings sorted */
    bool collected, collect_failed; /* landings and holdings summed (or tried) */
    tr_ivref *ivr;                  /* fifo: per entry, its intervals in iv */
    size_t cap_ivr;
    tr_iv *iv;
    size_t n_iv, cap_iv;
    tr_heap heap;
    bool ran;

    /* the forward sweep: txs [sw_base, n_txs) */
    int walk;      /* TR_WALK_* */
    size_t sw_min; /* auto: the heap may switch once it holds this many entries */
    bool sweeping; /* entries are routed to the sweep, not the heap */
    uint64_t sw_base;
    uint64_t *sw_bits; /* per tx of the range: taint waits for it */
    tr_acc *sw_acc;    /* per tx of the range (valid where its bit was set) */
    uint32_t *sw_head; /* fifo: per tx, the last entry waiting for it */
    uint32_t *sw_next; /* fifo: per entry, the entry waiting before it, TR_NONE */
    size_t cap_next;
    uint64_t sw_cuts; /* txs cut by max_hops or the window during the sweep */
    bool dense;       /* the sweep keeps no entries for the outputs it creates */
    tr_dense dn;

    /* scratch reused by every tx (no allocation per edge) */
    uint32_t *sc_pend; /* the pending entries of the tx being processed */
    size_t cap_pend;
    uint32_t *sc_ent; /* entry per input (forward) / output (backward), TR_NONE clean */
    uint64_t *sc_val; /* values of the other side */
    size_t cap_sc;
    uint64_t *sc_share;
    tr_iv *sc_line; /* fifo: the tainted intervals laid along the line */
    size_t cap_line;
    tr_iv *sc_part; /* fifo: one part's intervals */
    size_t cap_part;
    uint64_t min_units; /* min_amount in units */

    bool damaged;        /* a tx failed tr_tx_sound */
    uint64_t damaged_tx; /* the first one */

    /* extendable: the address sources (ids), whose later outputs become
     * sources as the store grows (extend.c) */
    ch_addr_id *src_addr;
    size_t n_src_addr, cap_src_addr;
    size_t by_out_n; /* entries [0, by_out_n) are in by_out */

    ch_trace_totals tot;
    ch_trace_landing *land;
    size_t n_land;
    ch_trace_holding *hold;
    size_t n_hold;
};

/* ---- the store's columns, as the walks read them ---- */
#define TR_FIRST_IN(r) ((r)->first_in_size & ((1ULL << 40) - 1))

/* Records by number, committed (the mapping) or pending (opts.pending).
 * The dense sweep and the sweep's prefetches read the mapping directly:
 * they never run on a trace with a pending part (pending traces are
 * extendable: the heap walk). */
static inline const ch_tx_rec *tr_txr(const ch_trace *t, uint64_t i) {
    return i < t->m_txs ? &t->txs[i] : &t->ptxs[i - t->m_txs];
}
static inline const ch_in_rec *tr_in(const ch_trace *t, uint64_t i) {
    return i < t->m_ins ? &t->ins[i] : &t->pins[i - t->m_ins];
}
static inline const ch_out_rec *tr_outr(const ch_trace *t, uint64_t o) {
    return o < t->m_outs ? &t->outs[o] : &t->pouts[o - t->m_outs];
}
static inline uint64_t tr_vin(const ch_trace *t, uint64_t tx) {
    return tx < t->m_txs ? t->vin[tx] : t->pvin[tx - t->m_txs];
}
/* The output input r spends (r must not be a coinbase's). */
static inline uint64_t tr_in_out(const ch_trace *t, const ch_in_rec *r) {
    return tr_txr(t, ch_in_spent_tx(r))->first_out + ch_in_vout(r);
}

/* A tx's inputs and outputs: always within the columns (a damaged store's
 * range that is not comes out empty; tr_tx_sound tells the walk). */
static inline void tr_tx_ins(const ch_trace *t, uint64_t tx, uint64_t *first, uint64_t *n) {
    uint64_t end = tx + 1 < t->n_txs ? TR_FIRST_IN(tr_txr(t, tx + 1)) : t->n_ins;
    *first = TR_FIRST_IN(tr_txr(t, tx));
    *n = *first <= end && end <= t->n_ins ? end - *first : 0;
}

static inline void tr_tx_outs(const ch_trace *t, uint64_t tx, uint64_t *first, uint64_t *n) {
    uint64_t end = tx + 1 < t->n_txs ? tr_txr(t, tx + 1)->first_out : t->n_outs;
    *first = tr_txr(t, tx)->first_out;
    *n = *first <= end && end <= t->n_outs ? end - *first : 0;
}

/* trace.c: whether tx's records can be walked: its ranges within the
 * columns, each input spending an output of an earlier tx, each output
 * paying a stored address and spent (if at all) by a later tx. When not
 * (a damaged store), the trace notes it, the walk stops at tx and
 * ch_trace_run fails naming it: an answer from a damaged store is never
 * given as a trace's result. Inputs are checked only when asked (the dense
 * sweep reads none: it calls tr_outs_sound, below, the same checks inline). */
bool tr_tx_sound(ch_trace *t, uint64_t tx, bool inputs);
/* trace.c: note tx as damaged (the first such tx is kept); false. */
bool tr_damaged(ch_trace *t, uint64_t tx);

static inline uint64_t tr_out_value(const ch_trace *t, uint64_t o) {
    return CH_OUT_VALUE(tr_outr(t, o));
}

/* The tx that spends o, or -1 (unspent, or spent past the txs the trace
 * sees). A committed output spent by a pending tx has its mark in pspend. */
static inline int64_t tr_out_spender(const ch_trace *t, uint64_t o) {
    uint64_t sp = ch_out_spent(tr_outr(t, o));
    if (sp == 0 && o < t->m_outs && t->pspend.n) {
        uint32_t d = tr_map_get(&t->pspend, o);
        if (d != TR_NONE) sp = t->pbase + d + 1;
    }
    if (sp == 0 && o < t->m_outs && t->marks_held) /* a bulk writer's, not in the record yet */
        sp = (uint64_t)(ch_store_output_spender(t->s, o) + 1);
    if (sp == 0 || sp > t->n_txs) return -1;
    return (int64_t)sp - 1;
}

/* An address id's dense index + 1 (0 for none): ids of both classes in one
 * compact range. */
static inline uint64_t tr_slot(const ch_trace *t, ch_addr_id addr) {
    if (!addr) return 0;
    return (addr & CH_ADDR_ID_WIDE) ? t->n_narrow + (addr & ~CH_ADDR_ID_WIDE) : addr;
}

/* tr_tx_sound(t, tx, false), inline: the dense sweep asks it of every tx it
 * shares out, where a call and a branch per output were 6% of a wide
 * trace. The same checks; each output's as one branch-free test: with
 * spent widened to 64 bits, spent - 1 <= tx is "spent, by tx or an earlier
 * one" (an unspent 0 wraps to the maximum), and as tx < n_txs it implies
 * the spent <= n_txs that tr_tx_sound also asks. */
static inline bool tr_outs_sound(ch_trace *t, uint64_t tx) {
    uint64_t n = t->n_txs;
    if (tx >= n) return tr_damaged(t, tx);
    const ch_tx_rec *x = tr_txr(t, tx);
    uint64_t fi = TR_FIRST_IN(x), fo = x->first_out;
    uint64_t ei = tx + 1 < n ? TR_FIRST_IN(tr_txr(t, tx + 1)) : t->n_ins;
    uint64_t eo = tx + 1 < n ? tr_txr(t, tx + 1)->first_out : t->n_outs;
    if (fi > ei || ei > t->n_ins || fo > eo || eo > t->n_outs) return tr_damaged(t, tx);
    uint64_t n_addrs = t->n_addrs;
    bool bad = false;
    if (eo <= t->m_outs) { /* the mapping alone: the dense sweep's case */
        const ch_out_rec *r = t->outs;
        for (uint64_t o = fo; o < eo; o++) {
            uint64_t slot = tr_slot(t, ch_out_addr(&r[o])), sp = ch_out_spent(&r[o]);
            bad |= (slot > n_addrs) | (sp - 1 <= tx);
        }
    } else {
        for (uint64_t o = fo; o < eo; o++) {
            const ch_out_rec *r = tr_outr(t, o);
            uint64_t slot = tr_slot(t, ch_out_addr(r)), sp = ch_out_spent(r);
            bad |= (slot > n_addrs) | (sp - 1 <= tx);
        }
    }
    return bad ? tr_damaged(t, tx) : true;
}

/* The first tx at or after k (in the sweep's range) with taint waiting, or end. */
static inline uint64_t tr_sweep_next(const ch_trace *t, uint64_t k, uint64_t end) {
    if (k >= end) return end;
    uint64_t w = k >> 6, bits = t->sw_bits[w] & (~0ULL << (k & 63));
    while (!bits) {
        if (++w << 6 >= end) return end;
        bits = t->sw_bits[w];
    }
    uint64_t r = (w << 6) + (uint64_t)__builtin_ctzll(bits);
    return r < end ? r : end;
}

/* stoplist.c: the one parser of a stop-category list ("exchange,mixer";
 * NULL or "" is empty): appends to (*v, *n); -1 when out of memory. */
int tr_stop_parse(const char *list, char ***v, size_t *n);
/* case-insensitive; inline: the sweeps ask it per output at a label */
static inline bool tr_stop_has(char *const *v, size_t n, const char *cat) {
    for (size_t i = 0; i < n; i++)
        if (!strcasecmp(v[i], cat)) return true;
    return false;
}
void tr_stop_free(char **v, size_t n);

/* trace.c: the tx that created output o (binary search); is o at a stop
 * address; is tx, reached in `hops`, cut (the state its coins get, or 0). */
uint64_t tr_out_tx(const ch_trace *t, uint64_t o);
bool tr_at_service(const ch_trace *t, uint64_t o);
uint8_t tr_cut_state(ch_trace *t, uint64_t tx, uint32_t hops);
/* Grow the scratch arrays to hold n + 1 values. */
int tr_grow_scratch(ch_trace *t, uint64_t n);

/* dense.c: set up the dense form of a sweep just begun (1: no memory for
 * it, the entries are kept), run it, free it. */
int tr_dense_begin(ch_trace *t);
int tr_dense_run(ch_trace *t);
void tr_dense_free(ch_trace *t);
/* Every output the dense sweep gave taint, in output order (which is the
 * order the heap would have made entries for them). */
int tr_dense_foreach(const ch_trace *t, ch_trace_flow_fn fn, void *ctx);
/* The path to a dense output, as ch_trace_path (t->by_out built); 0 when
 * o is not one. */
size_t tr_dense_path(const ch_trace *t, uint64_t o, uint64_t *path, size_t max);

/* policy.c: share taint T (units) over parts of the given values laid end
 * to end (the last part may be the fee); writes share[i]. */
void tr_haircut_split(uint64_t taint, const uint64_t *vals, size_t n, uint64_t total,
                      uint64_t *share);
/* fifo: intervals of a line (sorted, disjoint) cut at the boundaries of
 * parts of the given values; calls back per part with its intervals
 * relative to the part's start. Returns -1 on out of memory. */
typedef int (*tr_slice_fn)(void *ctx, size_t part, const tr_iv *iv, size_t n);
int tr_fifo_slice(const tr_iv *line, size_t n_line, const uint64_t *vals, size_t n_parts,
                  tr_iv **scratch, size_t *cap, tr_slice_fn fn, void *ctx);

/* Force the walk of a forward trace (TR_WALK_*; before ch_trace_run): the
 * results are the same, only the speed differs. */
void tr_set_walk(ch_trace *t, int walk);

/* policy.c: what forward tx (outputs fo.., no of them) gives each output
 * from `taint` under haircut or poison, into share[], the fee's part in
 * share[no]; val[] gets the outputs' values and the fee (both hold no + 1).
 * Haircut splits the taint by value; poison taints every output and the
 * fee in full. Returns what the inputs spent (txvin.col). The heap and both
 * sweeps share out through it, and results work amounts out again with it. */
uint64_t tr_forward_shares(const ch_trace *t, uint64_t tx, uint64_t taint, uint64_t fo, uint64_t no,
                           uint64_t *val, uint64_t *share);

/* trace.c: the store's columns and counts, as they are now (a writer's
 * commit moves its mappings; with opts.pending its pending records count,
 * and pspend learns their spends). -1 out of memory. */
int tr_view(ch_trace *t);
/* trace.c: a source output (an entry of its whole value, in the map of
 * sources; *idx TR_NONE when it was one already), not yet routed. */
int tr_add_source(ch_trace *t, uint64_t o, uint32_t *idx, ch_error *err);
/* trace.c: address id's outputs at or above lo (from the source height
 * on) as sources, newest first: the writer's pending ones (opts.pending),
 * then its committed history from its head; *found when it has any. */
int tr_add_address_outputs(ch_trace *t, ch_addr_id id, uint64_t lo, bool *found, ch_error *err);
/* Decide what happens to a fresh entry: a landing, a holding (forward,
 * unspent), or it waits in the heap (or the sweep) for its next tx. */
int tr_route(ch_trace *t, uint32_t ei, bool may_land);
/* Share out every tx the heap holds taint for, in tx order (forward may
 * switch to the sweep when walk allows): -1 when out of memory. */
int tr_walk(ch_trace *t, bool fwd, int walk);

/* result.c: index the entries made since the last call by output (by_out):
 * -1 when out of memory. */
int tr_index_entries(ch_trace *t);
/* result.c: entry i as a flow. */
ch_trace_flow tr_flow_of(const ch_trace *t, size_t i);

/* result.c: landings and holdings aggregated from the entries. */
int tr_collect(ch_trace *t, ch_error *err);

#endif

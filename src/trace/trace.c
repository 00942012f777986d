/* The tracing engine: sources, the walk over transactions, and the sharing
 * of taint by policy. See trace.h for the model and docs/trace.md for the
 * contract of the command built on it.
 *
 * State is one array of entries, one per tainted output. An entry whose
 * coins move on waits in a min-heap keyed (tx, entry): forward the tx that
 * spends it, backward the tx that created it (as ~tx, so the highest tx
 * comes first). All entries of one tx leave the heap together, and because
 * forward every input of tx k comes from a lower-numbered tx (backward every
 * spender from a higher one), when tx k leaves the heap every tainted coin
 * it will ever get is among them: each tx is shared out exactly once.
 *
 * No lookup by output is needed on the way: the heap hands each tx its
 * tainted coins, and an output can receive taint only once (it is created
 * by one tx, spent by one input), except a source output reached again,
 * which a small map of the sources catches.
 *
 * A dense forward trace leaves the heap for a sweep in tx order (below);
 * for haircut and poison the sweep keeps no entries at all (dense.c). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coinhound/query.h"
#include "trace/trace_internal.h"
#include "util/vec.h"

static const char *const POLICY_NAME[] = {"poison", "haircut", "fifo", "lifo"};

const char *ch_trace_policy_name(ch_trace_policy p) {
    return (unsigned)p < 4 ? POLICY_NAME[p] : "?";
}

int ch_trace_policy_parse(const char *s, ch_trace_policy *out) {
    for (int i = 0; i < 4; i++)
        if (!strcasecmp(s, POLICY_NAME[i])) {
            *out = (ch_trace_policy)i;
            return 0;
        }
    return -1;
}

const char *ch_trace_direction_name(ch_trace_direction d) {
    return d == CH_TRACE_BACKWARD ? "backward" : "forward";
}

int ch_trace_direction_parse(const char *s, ch_trace_direction *out) {
    if (!strcasecmp(s, "forward"))
        *out = CH_TRACE_FORWARD;
    else if (!strcasecmp(s, "backward"))
        *out = CH_TRACE_BACKWARD;
    else
        return -1;
    return 0;
}

void ch_trace_opts_init(ch_trace_opts *o) {
    memset(o, 0, sizeof *o);
    o->policy = CH_POLICY_HAIRCUT;
    o->direction = CH_TRACE_FORWARD;
}

/* When a forward trace leaves the heap for the sweep (see "the forward
 * sweep" below). */
#define SWEEP_MIN_WAITING 4096 /* a heap this small stays a heap */
#define SWEEP_DENSITY     64   /* sweep once one tx ahead in this many has taint waiting */

/* ---- the store's columns ---------------------------------------------- */

/* The tx that created output o: the library's one search (query.h). */
uint64_t tr_out_tx(const ch_trace *t, uint64_t o) {
    if (t->m_txs < t->n_txs && o >= t->ptxs[0].first_out) /* a pending tx's */
        return t->m_txs + ch_txs_output_tx(t->ptxs, t->n_txs - t->m_txs, o);
    return ch_txs_output_tx(t->txs, t->m_txs, o);
}

static uint32_t tx_time(const ch_trace *t, uint64_t tx) {
    return ch_store_block(t->s, ch_store_tx_height(t->s, tx))->time;
}

/* ---- setup ------------------------------------------------------------- */

/* The spenders of committed outputs among the inputs of pending txs
 * [from, n_txs): pspend, emptied first when everything it held is
 * committed (it holds a commit's worth at most). */
static int pending_spends(ch_trace *t) {
    if (t->p_hi <= t->m_txs) {
        tr_map_free(&t->pspend);
        t->pbase = t->p_hi = t->m_txs;
    }
    if (t->p_hi >= t->n_txs) return 0;
    if (!t->pspend.cap && tr_map_init(&t->pspend, 4096) != 0) return -1;
    for (uint64_t tx = t->p_hi; tx < t->n_txs; tx++) {
        uint64_t fi, ni;
        tr_tx_ins(t, tx, &fi, &ni);
        for (uint64_t i = fi; i < fi + ni; i++) {
            const ch_in_rec *r = tr_in(t, i);
            uint64_t sp = ch_in_spent_tx(r);
            if (sp == CH_NO_TX || sp >= t->m_txs) continue; /* a pending output's mark is set */
            if (tx - t->pbase >= TR_NONE ||
                tr_map_put(&t->pspend, tr_in_out(t, r), (uint32_t)(tx - t->pbase)) != 0)
                return -1;
        }
    }
    t->p_hi = t->n_txs;
    return 0;
}

int tr_view(ch_trace *t) {
    ch_store *s = t->s;
    ch_store_counts c, m;
    ch_store_get_counts(s, &m);
    uint64_t narrow = ch_store_addr_index(s, CH_ADDR_ID_WIDE | 1);
    if (t->o.pending)
        ch_store_get_counts_pending(s, &c, &narrow);
    else
        c = m;
    t->n_txs = c.txs;
    t->n_ins = c.inputs;
    t->n_outs = c.outputs;
    t->m_txs = m.txs;
    t->m_ins = m.inputs;
    t->m_outs = m.outputs;
    t->marks_held = ch_store_marks_held(s);
    /* A read-only store is all committed, and so is a writer's between its
     * commits: each column is one mapping, so the records can be walked as
     * plain arrays. A writer's pending records follow in its memory, one
     * array per column (ch_store_tx at the first pending one). */
    if (m.txs) t->txs = ch_store_tx(s, 0);
    if (m.inputs) t->ins = ch_store_input(s, 0);
    if (m.outputs) t->outs = ch_store_output(s, 0);
    if (m.txs) t->vin = ch_store_tx_in_value(s, 0);
    t->ptxs = c.txs > m.txs ? ch_store_tx(s, m.txs) : NULL;
    t->pins = c.inputs > m.inputs ? ch_store_input(s, m.inputs) : NULL;
    t->pouts = c.outputs > m.outputs ? ch_store_output(s, m.outputs) : NULL;
    t->pvin = c.txs > m.txs ? ch_store_tx_in_value(s, m.txs) : NULL;
    t->n_narrow = narrow;
    t->n_addrs = c.addresses;
    return pending_spends(t);
}

int ch_trace_new(ch_store *s, const ch_trace_opts *o, ch_trace **out, ch_error *err) {
    *out = NULL;
    if ((unsigned)o->policy > CH_POLICY_LIFO) return ch_err(err, "unknown taint policy");
    if (ch_store_is_account(s))
        return ch_err(err, "an account chain's store: trace it with ch_atrace (trace_account.h)");
    ch_trace *t = calloc(1, sizeof *t);
    if (!t) return ch_err(err, "out of memory");
    t->s = s;
    t->o = *o;
    t->sw_min = SWEEP_MIN_WAITING;
    t->o.stop_at = NULL; /* parsed below; the caller's string need not outlive us */
    if (o->pending && (!o->extendable || o->direction != CH_TRACE_FORWARD)) {
        free(t);
        return ch_err(err, "a trace of a writer's pending blocks is an extendable forward one");
    }
    if (tr_view(t) != 0) {
        ch_trace_free(t);
        return ch_err(err, "out of memory");
    }
    if (t->n_txs > TR_MAX_TXS) {
        ch_trace_free(t);
        return ch_err(err,
                      "the store counts %llu transactions, past the 2^40-1 its records can number "
                      "(run 'coinhound check')",
                      (unsigned long long)t->n_txs);
    }
    if (o->min_amount > UINT64_MAX / CH_TAINT_ONE) {
        ch_trace_free(t);
        return ch_err(err, "--min-amount too large");
    }
    t->min_units = o->min_amount * CH_TAINT_ONE;
    if (tr_stop_parse(o->stop_at ? o->stop_at : CH_TRACE_DEFAULT_STOP, &t->stop, &t->n_stop) != 0 ||
        tr_map_init(&t->src, 16) != 0 || tr_map_init(&t->by_out, 16) != 0) {
        ch_trace_free(t);
        return err && err->msg[0] ? -1 : ch_err(err, "out of memory");
    }
    *out = t;
    return 0;
}

void ch_trace_free(ch_trace *t) {
    if (!t) return;
    tr_stop_free(t->stop, t->n_stop);
    free(t->e);
    tr_map_free(&t->src);
    tr_map_free(&t->by_out);
    tr_map_free(&t->pspend);
    free(t->iv);
    free(t->ivr);
    free(t->sc_pend);
    free(t->heap.v);
    free(t->sc_ent);
    free(t->sc_val);
    free(t->sc_share);
    free(t->sc_line);
    free(t->sc_part);
    free(t->land);
    free(t->src_addr);
    tr_big_free(t->hold);
    tr_big_free(t->sw_bits);
    tr_big_free(t->sw_acc);
    tr_big_free(t->sw_head);
    free(t->sw_next);
    tr_dense_free(t);
    free(t);
}

void tr_set_walk(ch_trace *t, int walk) {
    t->walk = walk;
}

static int new_entry(ch_trace *t, uint64_t o, uint64_t amount, uint64_t tx, uint32_t parent,
                     uint32_t hops, uint32_t *idx) {
    if (t->n_e >= TR_NONE - 1 || tr_grow((void **)&t->e, &t->cap_e, t->n_e + 1, sizeof *t->e) != 0)
        return -1;
    tr_entry *e = &t->e[t->n_e];
    memset(e, 0, sizeof *e);
    e->out = o;
    e->amount = amount;
    tr_e_set_tx(e, tx);
    e->parent = parent;
    e->hops = hops;
    *idx = (uint32_t)t->n_e++;
    t->tot.outputs++;
    return 0;
}

/* Append intervals to entry ei (fifo), merging ones that touch. */
static int add_ivs(ch_trace *t, uint32_t ei, const tr_iv *iv, size_t n) {
    if (tr_grow((void **)&t->ivr, &t->cap_ivr, (size_t)ei + 1, sizeof *t->ivr) != 0) return -1;
    tr_ivref *r = &t->ivr[ei];
    r->off = (uint32_t)t->n_iv;
    r->n = 0;
    for (size_t i = 0; i < n; i++) {
        if (r->n && t->iv[t->n_iv - 1].b == iv[i].a) {
            t->iv[t->n_iv - 1].b = iv[i].b;
            continue;
        }
        if (t->n_iv >= UINT32_MAX ||
            tr_grow((void **)&t->iv, &t->cap_iv, t->n_iv + 1, sizeof *t->iv) != 0)
            return -1;
        t->iv[t->n_iv++] = iv[i];
        r->n++;
    }
    return 0;
}

static bool is_fifo(const ch_trace *t) {
    return t->o.policy == CH_POLICY_FIFO || t->o.policy == CH_POLICY_LIFO;
}

int tr_add_source(ch_trace *t, uint64_t o, uint32_t *idx, ch_error *err) {
    *idx = TR_NONE;
    if (o >= t->n_outs)
        return ch_err(err, "output %llu is not in the store", (unsigned long long)o);
    if (tr_slot(t, ch_out_addr(tr_outr(t, o))) > t->n_addrs)
        return ch_err(err,
                      "the store is damaged: output %llu pays address id %llu, which is not stored "
                      "(run 'coinhound check')",
                      (unsigned long long)o, (unsigned long long)ch_out_addr(tr_outr(t, o)));
    if (tr_map_get(&t->src, o) != TR_NONE) return 0;
    uint64_t v = tr_out_value(t, o);
    uint32_t ei;
    if (new_entry(t, o, v * CH_TAINT_ONE, tr_out_tx(t, o), TR_NONE, 0, &ei) != 0 ||
        tr_map_put(&t->src, o, ei) != 0)
        return ch_err(err, "out of memory");
    t->e[ei].source = 1;
    t->tot.source += (ch_taint_sum)v * CH_TAINT_ONE;
    tr_iv whole = {0, v};
    if (is_fifo(t) && add_ivs(t, ei, &whole, v ? 1 : 0) != 0) return ch_err(err, "out of memory");
    *idx = ei;
    return 0;
}

int ch_trace_add_output(ch_trace *t, uint64_t o, ch_error *err) {
    if (t->ran) return ch_err(err, "sources must be added before the trace runs");
    uint32_t ei;
    return tr_add_source(t, o, &ei, err);
}

int ch_trace_add_tx(ch_trace *t, uint64_t tx, ch_error *err) {
    if (tx >= t->n_txs) return ch_err(err, "tx %llu is not in the store", (unsigned long long)tx);
    uint64_t fo, no;
    tr_tx_outs(t, tx, &fo, &no);
    for (uint64_t i = 0; i < no; i++)
        if (ch_trace_add_output(t, fo + i, err) != 0) return -1;
    return 0;
}

/* Output o paying address source: a source unless it is before the
 * source height. */
static int address_output(ch_trace *t, uint64_t o, ch_error *err) {
    uint32_t from = t->o.address_from_height;
    if (from && ch_store_tx_height(t->s, tr_out_tx(t, o)) < from) return 0;
    uint32_t ei;
    return tr_add_source(t, o, &ei, err);
}

int tr_add_address_outputs(ch_trace *t, ch_addr_id id, uint64_t lo, bool *found, ch_error *err) {
    *found = false;
    /* a writer's pending outputs (opts.pending): their heads wait for the
     * commit (store/heads.c), so they are read one by one, newest first */
    for (uint64_t o = t->n_outs; o-- > t->m_outs && o >= lo;) {
        if (ch_out_addr(tr_outr(t, o)) != id) continue;
        *found = true;
        if (address_output(t, o, err) != 0) return -1;
    }
    ch_addr a;
    ch_addr_id got;
    uint64_t last;
    ch_store_addr_of(t->s, id, &a);
    int rc = ch_store_find_addr(t->s, &a, &got, &last, err);
    if (rc < 0) return -1;
    if (rc == 0) return 0; /* none committed (a writer's new address) */
    *found = true;
    for (int64_t o = (int64_t)last; o >= 0 && (uint64_t)o >= lo;
         o = ch_store_output_prev_same_addr(t->s, (uint64_t)o))
        if (address_output(t, (uint64_t)o, err) != 0) return -1;
    return 0;
}

int ch_trace_add_address(ch_trace *t, ch_addr_id id, ch_error *err) {
    if (id == 0) return ch_err(err, "address id 0 is no address");
    if (t->ran) return ch_err(err, "sources must be added before the trace runs");
    bool found;
    if (tr_add_address_outputs(t, id, 0, &found, err) != 0) return -1;
    if (!found) return ch_err(err, "address id %llu has no history", (unsigned long long)id);
    /* an extendable trace takes what the address receives later too */
    if (t->o.extendable && (tr_grow((void **)&t->src_addr, &t->cap_src_addr, t->n_src_addr + 1,
                                    sizeof *t->src_addr) != 0))
        return ch_err(err, "out of memory");
    if (t->o.extendable) t->src_addr[t->n_src_addr++] = id;
    return 0;
}

/* ---- the walk ---------------------------------------------------------- */

static bool is_stop(const ch_trace *t, const char *cat) {
    return tr_stop_has(t->stop, t->n_stop, cat);
    return false;
}

bool tr_at_service(const ch_trace *t, uint64_t o) {
    ch_addr_id a = ch_out_addr(tr_outr(t, o));
    ch_label l;
    return a && t->o.labels && t->n_stop && ch_labels_get(t->o.labels, a, &l) == 1 &&
           is_stop(t, l.category);
}

/* Entry ei waits for tx sp in the sweep: its tx's bit, taint and nearest
 * entry (the first of the fewest hops in entry order, as gather picks it
 * from the heap's entries, which come in entry order). */
static int sweep_push(ch_trace *t, uint32_t ei, uint64_t sp) {
    const tr_entry *e = &t->e[ei];
    uint64_t k = sp - t->sw_base;
    uint64_t *w = &t->sw_bits[k >> 6], bit = 1ULL << (k & 63);
    tr_acc *a = &t->sw_acc[k];
    bool fresh = !(*w & bit);
    if (fresh) {
        *w |= bit;
        a->taint = e->amount;
        a->hops = e->hops;
        a->parent = ei;
    } else {
        a->taint += e->amount;
        if (e->hops < a->hops) {
            a->hops = e->hops;
            a->parent = ei;
        }
    }
    if (t->sw_head) { /* fifo: which entries, for the input line */
        if (tr_grow((void **)&t->sw_next, &t->cap_next, (size_t)ei + 1, sizeof *t->sw_next) != 0)
            return -1;
        t->sw_next[ei] = fresh ? TR_NONE : t->sw_head[k];
        t->sw_head[k] = ei;
    }
    return 0;
}

int tr_route(ch_trace *t, uint32_t ei, bool may_land) {
    tr_entry *e = &t->e[ei];
    if (may_land && tr_at_service(t, e->out)) {
        e->state = ST_LANDING;
        t->tot.landed += e->amount;
        return 0;
    }
    uint64_t key;
    if (t->o.direction == CH_TRACE_FORWARD) {
        int64_t sp = tr_out_spender(t, e->out);
        if (sp < 0) {
            e->state = ST_HOLDING;
            t->tot.held += e->amount;
            return 0;
        }
        if (t->sweeping) {
            e->state = ST_PENDING;
            return sweep_push(t, ei, (uint64_t)sp);
        }
        key = (uint64_t)sp;
    } else {
        key = ~tr_e_tx(e); /* back to the creator, highest tx first */
    }
    e->state = ST_PENDING;
    return tr_heap_push(&t->heap, tr_hkey_make(key, ei));
}

/* Taint `amount` arriving at output o (created by tx `creator`). */
static int place(ch_trace *t, uint64_t o, uint64_t creator, uint64_t amount, uint32_t parent,
                 uint32_t hops, const tr_iv *iv, size_t n_iv) {
    if (amount == 0) return 0;
    if (amount < t->min_units) {
        t->tot.below_min += amount;
        return 0;
    }
    if (t->src.n && tr_map_get(&t->src, o) != TR_NONE) {
        /* a source output reached again (an address paying itself): its
         * whole value is counted already */
        t->tot.returned += amount;
        return 0;
    }
    uint32_t ei;
    if (new_entry(t, o, amount, creator, parent, hops, &ei) != 0) return -1;
    if (is_fifo(t) && add_ivs(t, ei, iv, n_iv) != 0) return -1;
    return tr_route(t, ei, true);
}

int tr_grow_scratch(ch_trace *t, uint64_t n) {
    if (n + 1 <= t->cap_sc) return 0; /* every tx asks: the common answer first */
    void **cols[] = {(void **)&t->sc_ent, (void **)&t->sc_val, (void **)&t->sc_share};
    const size_t sz[] = {sizeof *t->sc_ent, sizeof *t->sc_val, sizeof *t->sc_share};
    return ch_grow_cols(cols, sz, 3, &t->cap_sc, (size_t)n + 1);
}

/* fifo: the tainted intervals of the given entries laid along a line of
 * parts (in part order, or reversed), into t->sc_line. */
static int build_line(ch_trace *t, const uint32_t *ent, const uint64_t *val, size_t n,
                      bool reversed, size_t *n_line) {
    size_t m = 0;
    uint64_t pos = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = reversed ? n - 1 - k : k;
        if (ent[i] != TR_NONE) {
            const tr_ivref *r = &t->ivr[ent[i]];
            if (tr_grow((void **)&t->sc_line, &t->cap_line, m + r->n, sizeof *t->sc_line))
                return -1;
            for (uint32_t j = 0; j < r->n; j++) {
                tr_iv v = t->iv[r->off + j];
                t->sc_line[m].a = v.a + pos;
                t->sc_line[m].b = v.b + pos;
                m++;
            }
        }
        pos += val[i];
    }
    *n_line = m;
    return 0;
}

/* What the fifo slicer needs to place a part. */
typedef struct slice_ctx {
    ch_trace *t;
    uint64_t tx;
    uint32_t parent, hops;
    size_t n_real;      /* parts that are outputs/inputs; past them: the fee */
    bool reversed;      /* parts were laid in reverse (lifo, backward) */
    uint64_t first;     /* forward: first output of tx; backward: first input */
    uint64_t fee_units; /* taint that fell on the fee */
} slice_ctx;

static uint64_t iv_units(const tr_iv *iv, size_t n) {
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += iv[i].b - iv[i].a;
    return s * CH_TAINT_ONE;
}

static int slice_forward(void *ctx, size_t part, const tr_iv *iv, size_t n) {
    slice_ctx *c = ctx;
    uint64_t amount = iv_units(iv, n);
    if (part >= c->n_real) {
        c->fee_units += amount;
        return 0;
    }
    return place(c->t, c->first + part, c->tx, amount, c->parent, c->hops, iv, n);
}

static int slice_backward(void *ctx, size_t part, const tr_iv *iv, size_t n) {
    slice_ctx *c = ctx;
    ch_trace *t = c->t;
    size_t i = c->reversed ? c->n_real - 1 - part : part;
    const ch_in_rec *r = tr_in(t, c->first + i);
    uint64_t o = tr_in_out(t, r);
    return place(t, o, ch_in_spent_tx(r), iv_units(iv, n), c->parent, c->hops, iv, n);
}

/* The pending entries of one tx: their taint, and the one nearest a source
 * (the shortest path goes through it) with its hops. */
static uint64_t gather(const ch_trace *t, const uint32_t *pend, size_t m, uint32_t *parent,
                       uint32_t *hops) {
    uint64_t taint = 0;
    *parent = pend[0];
    *hops = t->e[pend[0]].hops;
    for (size_t i = 0; i < m; i++) {
        const tr_entry *e = &t->e[pend[i]];
        taint += e->amount;
        if (e->hops < *hops) {
            *hops = e->hops;
            *parent = pend[i];
        }
    }
    return taint;
}

/* Is tx, reached in `hops`, beyond max_hops or outside the window? The
 * state its waiting entries get then, or 0. */
uint8_t tr_cut_state(ch_trace *t, uint64_t tx, uint32_t hops) {
    if (t->o.max_hops && hops + 1 > t->o.max_hops) return ST_CUT_HOPS;
    if (t->o.since || t->o.until) {
        uint32_t tm = tx_time(t, tx);
        if ((t->o.since && tm < t->o.since) || (t->o.until && tm > t->o.until))
            return ST_CUT_WINDOW;
    }
    return 0;
}

/* Stop before processing tx when it is beyond max_hops or outside the
 * window: its tainted entries stay where they are, counted. */
static bool cut(ch_trace *t, uint64_t tx, const uint32_t *pend, size_t m, uint32_t hops) {
    uint8_t st = tr_cut_state(t, tx, hops);
    if (!st) return false;
    for (size_t i = 0; i < m; i++) {
        tr_entry *e = &t->e[pend[i]];
        e->state = st;
        if (st == ST_CUT_HOPS)
            t->tot.cut_hops += e->amount;
        else
            t->tot.cut_window += e->amount;
    }
    return true;
}

static int cmp_pend_out(const void *a, const void *b, void *ctx) {
    const ch_trace *t = ctx;
    uint64_t x = t->e[*(const uint32_t *)a].out, y = t->e[*(const uint32_t *)b].out;
    return x < y ? -1 : x > y;
}

/* fifo needs to know which input carries which pending entry. */
static uint32_t pend_find(const ch_trace *t, const uint32_t *pend, size_t m, uint64_t o) {
    if (m <= 8) {
        for (size_t i = 0; i < m; i++)
            if (t->e[pend[i]].out == o) return pend[i];
        return TR_NONE;
    }
    size_t lo = 0, hi = m; /* pend is sorted by output */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        uint64_t x = t->e[pend[mid]].out;
        if (x == o) return pend[mid];
        if (x < o)
            lo = mid + 1;
        else
            hi = mid;
    }
    return TR_NONE;
}

/* Share out tx, whose waiting entries (pend[0..m), in entry order; fifo
 * needs them) carry `taint`, the nearest being `parent` at `hops`. */
static int forward_share(ch_trace *t, uint64_t tx, uint64_t taint, uint32_t parent, uint32_t hops,
                         uint32_t *pend, size_t m) {
    uint64_t fi, ni, fo, no;
    tr_tx_ins(t, tx, &fi, &ni);
    tr_tx_outs(t, tx, &fo, &no);
    t->tot.txs++;
    t->tot.edge_visits += ni + no;
    hops++;
    if (tr_grow_scratch(t, (ni > no ? ni : no) + 1) != 0) return -1;
    if (!is_fifo(t)) { /* haircut, poison: by value, no input read */
        uint64_t *share = t->sc_share;
        uint64_t vin = tr_forward_shares(t, tx, taint, fo, no, t->sc_val, share);
        if (t->o.policy == CH_POLICY_POISON)
            t->tot.clean_in += (ch_taint_sum)vin * CH_TAINT_ONE - taint;
        for (uint64_t j = 0; j < no; j++)
            if (place(t, fo + j, tx, share[j], parent, hops, NULL, 0) != 0) return -1;
        t->tot.fees += share[no];
        return 0;
    }
    if (m > 8) qsort_r(pend, m, sizeof *pend, cmp_pend_out, t);

    /* fifo: the inputs' values and which carry taint, laid along a line */
    uint64_t *val = t->sc_val, vin = 0;
    for (uint64_t i = 0; i < ni; i++) {
        const ch_in_rec *r = tr_in(t, fi + i);
        if (ch_in_spent_tx(r) == CH_NO_TX) { /* never spends taint; kept for safety */
            val[i] = 0;
            t->sc_ent[i] = TR_NONE;
            continue;
        }
        uint64_t o = tr_in_out(t, r);
        val[i] = tr_out_value(t, o);
        vin += val[i];
        t->sc_ent[i] = pend_find(t, pend, m, o);
    }
    size_t n_line = 0;
    if (build_line(t, t->sc_ent, val, ni, t->o.policy == CH_POLICY_LIFO, &n_line) != 0) return -1;
    /* from here on val holds the parts: outputs, then the fee */
    uint64_t vout = 0;
    for (uint64_t j = 0; j < no; j++)
        vout += val[j] = tr_out_value(t, fo + j);
    val[no] = vin > vout ? vin - vout : 0;
    slice_ctx c = {.t = t, .tx = tx, .parent = parent, .hops = hops, .n_real = no, .first = fo};
    if (tr_fifo_slice(t->sc_line, n_line, val, no + 1, &t->sc_part, &t->cap_part, slice_forward,
                      &c) != 0)
        return -1;
    t->tot.fees += c.fee_units;
    return 0;
}

bool tr_damaged(ch_trace *t, uint64_t tx) {
    if (!t->damaged) t->damaged_tx = tx;
    t->damaged = true;
    return false;
}

bool tr_tx_sound(ch_trace *t, uint64_t tx, bool inputs) {
    if (!tr_outs_sound(t, tx)) return false; /* the ranges and the outputs */
    if (!inputs) return true;
    uint64_t fi = TR_FIRST_IN(tr_txr(t, tx));
    uint64_t ei = tx + 1 < t->n_txs ? TR_FIRST_IN(tr_txr(t, tx + 1)) : t->n_ins;
    for (uint64_t i = fi; i < ei; i++) {
        const ch_in_rec *r = tr_in(t, i);
        if (ch_in_spent_tx(r) == CH_NO_TX && i == fi) continue; /* a coinbase (its one input) */
        if (ch_in_spent_tx(r) >= tx) return tr_damaged(t, tx);  /* so spent_tx + 1 < n_txs below */
        uint64_t o = tr_in_out(t, r);
        if (o >= tr_txr(t, ch_in_spent_tx(r) + 1)->first_out) return tr_damaged(t, tx);
    }
    return true;
}

static int forward_tx(ch_trace *t, uint64_t tx, uint32_t *pend, size_t m) {
    uint32_t parent, hops;
    uint64_t taint = gather(t, pend, m, &parent, &hops);
    if (cut(t, tx, pend, m, hops)) return 0;
    for (size_t i = 0; i < m; i++)
        t->e[pend[i]].state = ST_DONE;
    /* the inputs only where they are read (fifo, lifo): haircut and poison
     * share by value (txvin), as the dense sweep, whose check is the same */
    if (!tr_tx_sound(t, tx, is_fifo(t))) return 0;
    return forward_share(t, tx, taint, parent, hops, pend, m);
}

/* The backward sweep through one tx: the taint of its outputs pushed onto
 * its inputs by the policy (haircut by share, poison in full, FIFO/LIFO by
 * order), each input queued at its funding tx. */
static int backward_tx(ch_trace *t, uint64_t tx, uint32_t *pend, size_t m) {
    uint32_t parent, hops;
    uint64_t taint = gather(t, pend, m, &parent, &hops);
    if (cut(t, tx, pend, m, hops)) return 0;
    for (size_t i = 0; i < m; i++)
        t->e[pend[i]].state = ST_DONE;
    if (!tr_tx_sound(t, tx, true)) return 0;
    uint64_t fi, ni, fo, no;
    tr_tx_ins(t, tx, &fi, &ni);
    tr_tx_outs(t, tx, &fo, &no);
    t->tot.txs++;
    t->tot.edge_visits += ni + no;
    hops++;
    if (ni && ch_in_spent_tx(tr_in(t, fi)) == CH_NO_TX) { /* a coinbase: newly mined coins */
        t->tot.coinbase += taint;
        return 0;
    }
    if (tr_grow_scratch(t, (ni > no ? ni : no) + 1) != 0) return -1;
    uint64_t *val = t->sc_val;
    bool fifo = is_fifo(t);
    size_t n_line = 0;
    if (fifo) {
        /* the outputs' intervals laid along the output line (fee at its end) */
        for (uint64_t j = 0; j < no; j++) {
            val[j] = tr_out_value(t, fo + j);
            t->sc_ent[j] = TR_NONE;
        }
        for (size_t i = 0; i < m; i++)
            t->sc_ent[t->e[pend[i]].out - fo] = pend[i];
        if (build_line(t, t->sc_ent, val, no, false, &n_line) != 0) return -1;
    }
    bool rev = t->o.policy == CH_POLICY_LIFO;
    uint64_t vin = 0;
    for (uint64_t k = 0; k < ni; k++) {
        uint64_t i = rev ? ni - 1 - k : k; /* part k of the input line */
        const ch_in_rec *r = tr_in(t, fi + i);
        val[k] = tr_out_value(t, tr_in_out(t, r));
        vin += val[k];
    }
    switch (t->o.policy) {
    case CH_POLICY_POISON:
        t->tot.clean_in += (ch_taint_sum)vin * CH_TAINT_ONE - taint;
        for (uint64_t i = 0; i < ni; i++) {
            const ch_in_rec *r = tr_in(t, fi + i);
            uint64_t o = tr_in_out(t, r);
            if (place(t, o, ch_in_spent_tx(r), val[i] * CH_TAINT_ONE, parent, hops, NULL, 0) != 0)
                return -1;
        }
        return 0;
    case CH_POLICY_HAIRCUT:
        tr_haircut_split(taint, val, ni, vin, t->sc_share);
        for (uint64_t i = 0; i < ni; i++) {
            const ch_in_rec *r = tr_in(t, fi + i);
            uint64_t o = tr_in_out(t, r);
            if (place(t, o, ch_in_spent_tx(r), t->sc_share[i], parent, hops, NULL, 0) != 0)
                return -1;
        }
        return 0;
    default: {
        slice_ctx c = {.t = t,
                       .tx = tx,
                       .parent = parent,
                       .hops = hops,
                       .n_real = ni,
                       .reversed = rev,
                       .first = fi};
        return tr_fifo_slice(t->sc_line, n_line, val, ni, &t->sc_part, &t->cap_part, slice_backward,
                             &c);
    }
    }
}

/* ---- the forward sweep -------------------------------------------------
 * A dense forward trace (taint waiting for a good share of the txs ahead)
 * leaves the heap for one sweep over the txs in tx-number order: a bitmap
 * over the txs ahead says which have taint waiting, and per tx the taint,
 * the nearest entry and its hops are summed as entries are routed (tr_acc),
 * so a tx is shared out without touching its waiting entries (fifo alone
 * lists them). The order of the txs and of the entries per tx is the heap's,
 * so the entries, totals and results are the same to the unit. */

static void sweep_drop(ch_trace *t) {
    tr_big_free(t->sw_bits);
    tr_big_free(t->sw_acc);
    tr_big_free(t->sw_head);
    t->sw_bits = NULL;
    t->sw_acc = NULL;
    t->sw_head = NULL;
}

/* Start the sweep at tx base (the heap's smallest key), moving the heap's
 * entries into it. 1 when there is no memory for it (the heap goes on). */
static int sweep_begin(ch_trace *t, uint64_t base) {
    uint64_t n = t->n_txs - base;
    /* the per-tx arrays are touched only where taint waits, so a large
     * range costs address space, not memory, until the trace fills it */
    t->sw_bits = tr_big_alloc((size_t)((n + 63) / 64), sizeof *t->sw_bits);
    t->sw_acc = tr_big_alloc((size_t)n, sizeof *t->sw_acc);
    if (is_fifo(t)) t->sw_head = tr_big_alloc((size_t)n, sizeof *t->sw_head);
    if (!t->sw_bits || !t->sw_acc || (is_fifo(t) && !t->sw_head)) {
        sweep_drop(t);
        return 1;
    }
    t->sw_base = base;
    t->sweeping = true;
    /* haircut and poison keep no entries from here on, where memory allows */
    if (!is_fifo(t) && tr_dense_begin(t) < 0) return -1;
    /* in (tx, entry) order: per tx, its entries in entry order */
    while (t->heap.n) {
        tr_hkey top = tr_heap_pop(&t->heap);
        if (sweep_push(t, tr_hkey_entry(top), tr_hkey_tx(top)) != 0) return -1;
    }
    return 0;
}

/* Share out the tx at k in the range. */
static int sweep_tx(ch_trace *t, uint64_t k) {
    tr_acc *a = &t->sw_acc[k];
    uint64_t tx = t->sw_base + k;
    uint32_t hops = a->hops, parent = a->parent;
    uint64_t taint = a->taint;
    uint8_t st = tr_cut_state(t, tx, hops);
    a->hops = st ? st : ST_DONE; /* what becomes of its entries, for sweep_finish */
    if (st) {
        t->sw_cuts++;
        if (st == ST_CUT_HOPS)
            t->tot.cut_hops += taint;
        else
            t->tot.cut_window += taint;
        return 0;
    }
    if (!tr_tx_sound(t, tx, is_fifo(t))) return 0; /* inputs where read (forward_tx) */
    size_t m = 0;
    if (t->sw_head) { /* fifo: the waiting entries, newest first, turned around */
        for (uint32_t i = t->sw_head[k]; i != TR_NONE; i = t->sw_next[i]) {
            if (tr_grow((void **)&t->sc_pend, &t->cap_pend, m + 1, sizeof *t->sc_pend) != 0)
                return -1;
            t->sc_pend[m++] = i;
        }
        for (size_t i = 0; i < m / 2; i++) {
            uint32_t x = t->sc_pend[i];
            t->sc_pend[i] = t->sc_pend[m - 1 - i];
            t->sc_pend[m - 1 - i] = x;
        }
    }
    return forward_share(t, tx, taint, parent, hops, t->sc_pend, m);
}

/* What makes the sweep fast: the only random reads left are an input's
 * spent tx record, then the spent output (for the value), and the tx
 * record of the spender of each new entry. Txs ahead with taint waiting
 * are known, so those are fetched ahead in two steps: the spent tx records
 * PREFETCH_FAR txs ahead, the outputs (and the spenders' records)
 * PREFETCH_NEAR txs ahead, when the tx records have arrived. */
#define PREFETCH_NEAR 8
#define PREFETCH_FAR  16

static void prefetch_far(const ch_trace *t, uint64_t k) {
    uint64_t fi, ni;
    tr_tx_ins(t, t->sw_base + k, &fi, &ni);
    for (uint64_t i = 0; i < ni; i++)
        if (ch_in_spent_tx(&t->ins[fi + i]) < t->n_txs)
            __builtin_prefetch(&t->txs[ch_in_spent_tx(&t->ins[fi + i])]);
}

static void prefetch_near(const ch_trace *t, uint64_t k) {
    uint64_t fi, ni, fo, no;
    tr_tx_ins(t, t->sw_base + k, &fi, &ni);
    for (uint64_t i = 0; i < ni; i++) {
        const ch_in_rec *r = &t->ins[fi + i];
        if (ch_in_spent_tx(r) < t->n_txs) /* (a damaged one is refused when its turn comes) */
            __builtin_prefetch(&t->outs[t->txs[ch_in_spent_tx(r)].first_out + ch_in_vout(r)]);
    }
    tr_tx_outs(t, t->sw_base + k, &fo, &no);
    for (uint64_t j = 0; j < no; j++) {
        uint64_t sp = ch_out_spent(&t->outs[fo + j]);
        if (sp > t->sw_base && sp <= t->n_txs)
            __builtin_prefetch(&t->sw_acc[sp - 1 - t->sw_base], 1);
    }
}

static int sweep_run(ch_trace *t) {
    if (t->dense) return tr_dense_run(t);
    uint64_t n = t->n_txs - t->sw_base, near = 0, far = 0;
    for (uint64_t k = tr_sweep_next(t, 0, n); k < n; k = tr_sweep_next(t, k + 1, n)) {
        /* sharing a tx out sets bits of later txs only */
        t->sw_bits[k >> 6] &= ~(1ULL << (k & 63));
        if (far < k + 1) far = k + 1;
        if (near < k + 1) near = k + 1;
        uint64_t end = k + PREFETCH_FAR < n ? k + PREFETCH_FAR : n;
        for (far = tr_sweep_next(t, far, end); far < end; far = tr_sweep_next(t, far + 1, end))
            prefetch_far(t, far);
        end = k + PREFETCH_NEAR < n ? k + PREFETCH_NEAR : n;
        for (near = tr_sweep_next(t, near, end); near < end; near = tr_sweep_next(t, near + 1, end))
            prefetch_near(t, near);
        if (sweep_tx(t, k) != 0) return -1;
    }
    /* the entries that waited: done, or cut with their tx */
    for (size_t i = 0; i < t->n_e; i++) {
        tr_entry *e = &t->e[i];
        if (e->state != ST_PENDING) continue;
        e->state = t->sw_cuts
                       ? (uint8_t)t->sw_acc[(uint64_t)tr_out_spender(t, e->out) - t->sw_base].hops
                       : ST_DONE;
    }
    return 0;
}

int tr_walk(ch_trace *t, bool fwd, int walk) {
    while (t->heap.n) {
        /* every entry waiting for this tx */
        tr_hkey top = tr_heap_pop(&t->heap);
        uint64_t key = tr_hkey_tx(top);
        size_t m = 0;
        for (;;) {
            if (tr_grow((void **)&t->sc_pend, &t->cap_pend, m + 1, sizeof *t->sc_pend) != 0)
                return -1;
            t->sc_pend[m++] = tr_hkey_entry(top);
            if (!t->heap.n || tr_hkey_tx(t->heap.v[0]) != key) break;
            top = tr_heap_pop(&t->heap);
        }
        int rc = fwd ? forward_tx(t, key, t->sc_pend, m) : backward_tx(t, ~key, t->sc_pend, m);
        if (rc != 0) return -1;
        if (walk == TR_WALK_AUTO && t->heap.n >= t->sw_min &&
            t->heap.n * SWEEP_DENSITY >= t->n_txs - key) {
            rc = sweep_begin(t, tr_hkey_tx(t->heap.v[0]));
            if (rc < 0) return -1;
            if (rc > 0) walk = TR_WALK_HEAP; /* no memory for it: stay */
        }
    }
    if (t->sweeping && sweep_run(t) != 0) return -1;
    return 0;
}

int ch_trace_run(ch_trace *t, ch_error *err) {
    if (t->ran) return ch_err(err, "a trace runs once");
    t->ran = true;
    bool fwd = t->o.direction == CH_TRACE_FORWARD;
    if (t->o.extendable && !fwd) return ch_err(err, "only a forward trace can be extended");
    /* Sources: forward, a source at a service is a landing at hop 0;
     * backward, a source is where the question starts, never a landing. */
    size_t n_src = t->n_e;
    for (size_t i = 0; i < n_src; i++)
        if (tr_route(t, (uint32_t)i, fwd) != 0) return ch_err(err, "out of memory");
    /* an extendable trace keeps an entry per tainted output: the heap */
    int walk = fwd && !t->o.extendable ? t->walk : TR_WALK_HEAP;
    if (walk == TR_WALK_SWEEP && t->heap.n && sweep_begin(t, tr_hkey_tx(t->heap.v[0])) < 0)
        return ch_err(err, "out of memory");
    if (tr_walk(t, fwd, walk) != 0) return ch_err(err, "out of memory");
    if (t->damaged)
        return ch_err(err,
                      "the store is damaged: tx %llu's inputs or outputs point outside it (run "
                      "'coinhound check')",
                      (unsigned long long)t->damaged_tx);
    return 0;
}

void ch_trace_get_totals(const ch_trace *t, ch_trace_totals *out) {
    *out = t->tot;
}

/* EVM blocks: the arena that owns their arrays and byte strings, the join of
 * receipts and traces to transactions, and the chain-neutral transfer view. */
#include <stdlib.h>
#include <string.h>

#include "chains/eth/evm_internal.h"
#include "util/vec.h"
#include "util/sjson.h"

/* --- arena ------------------------------------------------------------------ */

typedef struct evm_chunk {
    struct evm_chunk *next;
    size_t used, cap;
    max_align_t data[]; /* cap bytes */
} evm_chunk;

#define CHUNK_MIN (64 * 1024)

void ch_evm_block_init(ch_evm_block *b) {
    memset(b, 0, sizeof *b);
}

static struct ch_evm_arena *arena_of(ch_evm_block *b) {
    if (!b->arena) b->arena = calloc(1, sizeof *b->arena);
    return b->arena;
}

void *evm_alloc(ch_evm_block *b, size_t n) {
    struct ch_evm_arena *a = arena_of(b);
    if (!a) return NULL;
    n = (n + 15) & ~(size_t)15;
    /* reuse chunks kept by a reset before growing */
    for (; a->cur; a->cur = a->cur->next) {
        if (a->cur->cap - a->cur->used >= n) {
            void *p = (char *)a->cur->data + a->cur->used;
            a->cur->used += n;
            return p;
        }
        if (!a->cur->next) break;
    }
    size_t cap = n > CHUNK_MIN ? n : CHUNK_MIN;
    evm_chunk *c = malloc(sizeof *c + cap);
    if (!c) return NULL;
    c->next = NULL;
    c->used = n;
    c->cap = cap;
    if (a->cur)
        a->cur->next = c;
    else
        a->head = c;
    a->cur = c;
    return c->data;
}

/* Grow arr (of *cap elements of size sz) to hold one more than n: ch_grow,
 * with the check that nearly always answers "room enough" inline (every
 * element the parser adds asks). */
static inline void *grow(void *arr, size_t *cap, size_t n, size_t sz) {
    return n < *cap ? arr : ch_grow(arr, cap, n + 1, sz);
}

#define PUSH(arr, n, cap, type)                                                                    \
    do {                                                                                           \
        type *p_ = grow(arr, &(cap), n, sizeof(type));                                             \
        if (!p_) return NULL;                                                                      \
        (arr) = p_;                                                                                \
        memset(&(arr)[n], 0, sizeof(type));                                                        \
        return &(arr)[(n)++];                                                                      \
    } while (0)

ch_evm_tx *evm_add_tx(ch_evm_block *b) {
    struct ch_evm_arena *a = arena_of(b);
    if (!a) return NULL;
    ch_evm_tx *t = grow(b->tx, &a->tx_cap, b->n_tx, sizeof *t);
    if (!t) return NULL;
    b->tx = t;
    t = &b->tx[b->n_tx++];
    memset(t, 0, sizeof *t);
    t->status = -1;
    return t;
}

ch_evm_log *evm_add_log(ch_evm_block *b) {
    struct ch_evm_arena *a = arena_of(b);
    if (!a) return NULL;
    PUSH(b->logs, b->n_logs, a->logs_cap, ch_evm_log);
}

evm_ttlog *evm_add_tt(ch_evm_block *b) {
    struct ch_evm_arena *a = arena_of(b);
    if (!a) return NULL;
    PUSH(a->tt, a->n_tt, a->tt_cap, evm_ttlog);
}

ch_evm_withdrawal *evm_add_withdrawal(ch_evm_block *b) {
    struct ch_evm_arena *a = arena_of(b);
    if (!a) return NULL;
    PUSH(b->withdrawals, b->n_withdrawals, a->wd_cap, ch_evm_withdrawal);
}

evm_receipt *evm_add_receipt(ch_evm_block *b) {
    struct ch_evm_arena *a = arena_of(b);
    if (!a) return NULL;
    PUSH(a->rc, a->n_rc, a->rc_cap, evm_receipt);
}

int evm_add_txref(ch_evm_block *b, const ch_hash256 *hash, uint32_t index) {
    struct ch_evm_arena *a = arena_of(b);
    if (!a) return -1;
    evm_txref *r = grow(a->refs, &a->refs_cap, a->n_refs, sizeof *r);
    if (!r) return -1;
    a->refs = r;
    r[a->n_refs].hash = *hash;
    r[a->n_refs++].index = index;
    return 0;
}

int evm_add_claim(ch_evm_block *b, const ch_hash256 *block_hash, uint32_t index) {
    struct ch_evm_arena *a = arena_of(b);
    if (!a) return -1;
    evm_txref *r = grow(a->claims, &a->claims_cap, a->n_claims, sizeof *r);
    if (!r) return -1;
    a->claims = r;
    r[a->n_claims].hash = *block_hash;
    r[a->n_claims++].index = index;
    return 0;
}

evm_pcall *evm_add_pcall(ch_evm_block *b) {
    struct ch_evm_arena *a = arena_of(b);
    if (!a) return NULL;
    evm_pcall *p = grow(a->pc, &a->pc_cap, a->n_pc, sizeof *p);
    if (!p) return NULL;
    a->pc = p;
    p = &a->pc[a->n_pc];
    memset(p, 0, sizeof *p);
    p->seq = (uint32_t)a->n_pc++;
    return p;
}

void ch_evm_block_reset(ch_evm_block *b) {
    struct ch_evm_arena *a = b->arena;
    ch_evm_tx *tx = b->tx;
    ch_evm_log *logs = b->logs;
    ch_evm_call *calls = b->calls;
    ch_evm_withdrawal *wd = b->withdrawals;
    memset(b, 0, sizeof *b);
    b->arena = a;
    b->tx = tx;
    b->logs = logs;
    b->calls = calls;
    b->withdrawals = wd;
    if (!a) return;
    for (evm_chunk *c = a->head; c; c = c->next)
        c->used = 0;
    a->cur = a->head;
    a->n_rc = a->n_pc = a->n_tt = a->n_refs = a->n_claims = 0;
}

void ch_evm_block_free(ch_evm_block *b) {
    struct ch_evm_arena *a = b->arena;
    if (a) {
        for (evm_chunk *c = a->head, *next; c; c = next) {
            next = c->next;
            free(c);
        }
        free(a->rc);
        free(a->pc);
        free(a->tt);
        free(a->refs);
        free(a->claims);
        free(a);
    }
    free(b->tx);
    free(b->logs);
    free(b->calls);
    free(b->withdrawals);
    memset(b, 0, sizeof *b);
}

/* --- finishing a block ---------------------------------------------------- */

static int cmp_tx(const void *x, const void *y) {
    const ch_evm_tx *a = x, *b = y;
    return a->index < b->index ? -1 : a->index > b->index;
}

static int cmp_log(const void *x, const void *y) {
    const ch_evm_log *a = x, *b = y;
    return a->log_index < b->log_index ? -1 : a->log_index > b->log_index;
}

/* (tx index, trace address in lexicographic order, arrival): depth-first. */
static int cmp_pcall(const void *x, const void *y) {
    const evm_pcall *a = x, *b = y;
    if (a->c.tx_index != b->c.tx_index) return a->c.tx_index < b->c.tx_index ? -1 : 1;
    if (a->c.tx_index == UINT32_MAX) return a->seq < b->seq ? -1 : a->seq > b->seq;
    for (unsigned i = 0; i < a->c.depth && i < b->c.depth; i++)
        if (a->c.trace_addr[i] != b->c.trace_addr[i])
            return a->c.trace_addr[i] < b->c.trace_addr[i] ? -1 : 1;
    if (a->c.depth != b->c.depth) return a->c.depth < b->c.depth ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Binary search of the first n (sorted) transactions. */
static ch_evm_tx *find_in(ch_evm_tx *tx, size_t n, uint32_t index) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tx[mid].index == index) return &tx[mid];
        if (tx[mid].index < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static ch_evm_tx *find_tx_index(ch_evm_block *b, uint32_t index) {
    return find_in(b->tx, b->n_tx, index);
}

static ch_evm_tx *find_tx_hash(ch_evm_block *b, const ch_hash256 *h) {
    for (size_t i = 0; i < b->n_tx; i++)
        if (!memcmp(b->tx[i].hash.b, h->b, 32)) return &b->tx[i];
    return NULL;
}

/* Attach each receipt of the block to its tx (by hash, else by index),
 * refusing a receipt that names a tx the block does not have or disagrees
 * with it: status and gas come from receipts, not from the tx body. */
static int join_receipts(ch_evm_block *b, ch_error *err) {
    struct ch_evm_arena *a = b->arena;
    size_t n_body = b->n_tx;
    for (size_t i = 0; i < a->n_rc; i++) {
        evm_receipt *r = &a->rc[i];
        ch_evm_tx *t = r->has_hash ? find_tx_hash(b, &r->tx_hash) : NULL;
        if (!t && !r->has_hash && r->has_index) t = find_tx_index(b, r->tx_index);
        if (t && r->has_index && t->index != r->tx_index)
            return ch_err(err, "block %llu: receipt of tx %u names index %u",
                          (unsigned long long)b->number, t->index, r->tx_index);
        if (!t) {
            /* a receipt alone (no block body): keep what it tells */
            if (!r->has_index)
                return ch_err(err, "block %llu: receipt without a transaction index",
                              (unsigned long long)b->number);
            t = evm_add_tx(b);
            if (!t) return ch_err(err, "out of memory");
            t->index = r->tx_index;
            t->hash = r->tx_hash;
            t->partial = true;
        } else if (t->has_receipt) {
            return ch_err(err, "block %llu: two receipts for transaction %u",
                          (unsigned long long)b->number, t->index);
        }
        t->has_receipt = true;
        t->status = r->status;
        t->gas_used = r->gas_used;
        t->cumulative_gas_used = r->cumulative_gas_used;
        if (r->has_price) t->gas_price = r->price;
        if (r->has_contract) t->created = r->contract;
    }
    if (b->n_tx != n_body && b->n_tx) qsort(b->tx, b->n_tx, sizeof *b->tx, cmp_tx);
    return 0;
}

/* Give every internal call its tx index (from a hash the block or a receipt
 * names; a call no index can be found for is left out and counted), sort
 * them depth-first per tx, number them, and mark a frame failed when it or a
 * frame above it reverted: a reverted frame moves nothing. */
static int order_calls(ch_evm_block *b, ch_error *err) {
    struct ch_evm_arena *a = b->arena;
    size_t kept = 0;
    for (size_t i = 0; i < a->n_pc; i++) {
        evm_pcall *p = &a->pc[i];
        if (!p->has_index && p->c.tx_index != UINT32_MAX) {
            ch_evm_tx *t = p->has_hash ? find_tx_hash(b, &p->tx_hash) : NULL;
            if (t) {
                p->c.tx_index = t->index;
            } else {
                size_t k = 0;
                while (k < a->n_refs &&
                       (!p->has_hash || memcmp(a->refs[k].hash.b, p->tx_hash.b, 32)))
                    k++;
                if (k == a->n_refs) {
                    /* no index for it anywhere: leave it out, and say so */
                    b->n_unplaced_calls++;
                    continue;
                }
                p->c.tx_index = a->refs[k].index;
            }
        }
        if (p->has_hash && p->c.tx_index != UINT32_MAX &&
            evm_add_txref(b, &p->tx_hash, p->c.tx_index) != 0)
            return ch_err(err, "out of memory");
        a->pc[kept++] = *p;
    }
    a->n_pc = kept;
    if (a->n_pc) qsort(a->pc, a->n_pc, sizeof *a->pc, cmp_pcall);
    free(b->calls);
    b->calls = a->n_pc ? malloc(a->n_pc * sizeof *b->calls) : NULL;
    if (a->n_pc && !b->calls) return ch_err(err, "out of memory");
    a->calls_cap = a->n_pc;
    b->n_calls = a->n_pc;

    /* positions and reverts: a frame moved nothing if it or any frame above
     * it failed; depth-first order lets a stack of flags carry that down */
    enum { MAXD = 1100 };
    static _Thread_local bool failed[MAXD];
    uint32_t pos = 0, cur_tx = UINT32_MAX;
    for (size_t i = 0; i < a->n_pc; i++) {
        ch_evm_call *c = &b->calls[i];
        *c = a->pc[i].c;
        if (i == 0 || c->tx_index != cur_tx) pos = 0;
        cur_tx = c->tx_index;
        c->position = ++pos;
        if (c->depth >= MAXD)
            return ch_err(err, "block %llu: trace deeper than %d", (unsigned long long)b->number,
                          MAXD);
        bool parent = c->depth > 0 && c->tx_index != UINT32_MAX ? failed[c->depth - 1] : false;
        c->error = c->self_error || parent;
        failed[c->depth] = c->error;
        if (i > 0 && c->tx_index != UINT32_MAX && c->tx_index == b->calls[i - 1].tx_index &&
            c->depth > b->calls[i - 1].depth + 1)
            return ch_err(err, "block %llu: tx %u: trace frame at depth %u has no parent",
                          (unsigned long long)b->number, c->tx_index, c->depth);
        if (c->depth > 0 && (i == 0 || b->calls[i - 1].tx_index != c->tx_index))
            return ch_err(err, "block %llu: tx %u: trace frame at depth %u has no parent",
                          (unsigned long long)b->number, c->tx_index, c->depth);
    }
    return 0;
}

/* Every tx index a log or a trace names gets a ch_evm_tx, partial when no
 * source gave its body (an export holding a sample of a block's txs): the
 * transfer view then never names a tx the block lacks. */
static int add_named_txs(ch_evm_block *b, ch_error *err) {
    struct ch_evm_arena *a = b->arena;
    size_t n_body = b->n_tx;
    for (int pass = 0; pass < 2; pass++) {
        size_t n = pass ? b->n_calls : b->n_logs;
        for (size_t i = 0; i < n; i++) {
            uint32_t ix = pass ? b->calls[i].tx_index : b->logs[i].tx_index;
            if (ix == UINT32_MAX || find_in(b->tx, n_body, ix)) continue;
            /* the arrays grow unsorted past n_body: look there too */
            bool seen = false;
            for (size_t k = n_body; k < b->n_tx && !seen; k++)
                seen = b->tx[k].index == ix;
            if (seen) continue;
            ch_evm_tx *t = evm_add_tx(b);
            if (!t) return ch_err(err, "out of memory");
            t->index = ix;
            t->partial = true;
            for (size_t k = 0; k < a->n_refs; k++)
                if (a->refs[k].index == ix) {
                    t->hash = a->refs[k].hash;
                    break;
                }
        }
        /* find_tx_index needs them sorted */
        if (b->n_tx != n_body) {
            if (b->n_tx > 1) qsort(b->tx, b->n_tx, sizeof *b->tx, cmp_tx);
            n_body = b->n_tx;
        }
    }
    return 0;
}

/* A tx no block body gave, whose top-level trace frame came (traces
 * alone): that frame is the tx's own call, so it tells the sender, the
 * recipient (or the contract created) and the value. Nonce, gas and input
 * stay unknown, but the value transfer is whole. */
static void body_from_frame(ch_evm_tx *t, const ch_evm_call *c) {
    bool create = !strcmp(c->type, "create") || !strcmp(c->type, "create2");
    if (!create && strcmp(c->type, "call")) return; /* no other frame starts a tx */
    t->from = c->from;
    t->has_to = !create;
    if (create)
        t->created = c->to;
    else
        t->to = c->to;
    t->value = c->value;
    t->partial = false;
    t->from_trace = true;
}

int evm_block_finish(ch_evm_block *b, ch_error *err) {
    struct ch_evm_arena *a = arena_of(b);
    if (!a) return ch_err(err, "out of memory");
    /* an export row that says it belongs to another block of this number
     * (a stale fork, or planted test data) must not be mixed in */
    for (size_t i = 0; i < a->n_claims; i++) {
        /* without a header, the records' own block hash is the block's
         * (traces alone); they must all agree on it */
        if (!b->has_header && i == 0) b->hash = a->claims[0].hash;
        if (memcmp(a->claims[i].hash.b, b->hash.b, 32)) {
            char hex[65];
            ch_hex_encode(a->claims[i].hash.b, 32, hex);
            if (a->claims[i].index == UINT32_MAX)
                return ch_err(err,
                              "block %llu: a reward trace names block hash 0x%s, not the "
                              "block's",
                              (unsigned long long)b->number, hex);
            return ch_err(err, "block %llu: transaction %u names block hash 0x%s, not the block's",
                          (unsigned long long)b->number, a->claims[i].index, hex);
        }
    }
    a->n_claims = 0;
    if (b->n_tx) qsort(b->tx, b->n_tx, sizeof *b->tx, cmp_tx);
    for (size_t i = 1; i < b->n_tx; i++)
        if (b->tx[i].index == b->tx[i - 1].index) {
            char h1[65], h2[65];
            ch_hex_encode(b->tx[i - 1].hash.b, 32, h1);
            ch_hex_encode(b->tx[i].hash.b, 32, h2);
            return ch_err(err, "block %llu: transaction index %u appears twice (0x%s, 0x%s)",
                          (unsigned long long)b->number, b->tx[i].index, h1, h2);
        }
    if (join_receipts(b, err) != 0) return -1;

    /* ETL token_transfers stand in for logs only when no logs came */
    if (b->n_logs == 0 && a->n_tt) {
        for (size_t i = 0; i < a->n_tt; i++) {
            evm_ttlog *tt = &a->tt[i];
            if (!tt->has_index) {
                ch_evm_tx *t = find_tx_hash(b, &tt->tx_hash);
                if (!t)
                    return ch_err(err,
                                  "block %llu: token transfer (log %u) of a transaction no "
                                  "transactions export gave: add it, or the logs export",
                                  (unsigned long long)b->number, tt->l.log_index);
                tt->l.tx_index = t->index;
            }
            ch_evm_log *l = evm_add_log(b);
            if (!l) return ch_err(err, "out of memory");
            *l = tt->l;
        }
    }
    a->n_tt = 0;
    if (b->n_logs) qsort(b->logs, b->n_logs, sizeof *b->logs, cmp_log);
    for (size_t i = 1; i < b->n_logs; i++) {
        if (b->logs[i].log_index == b->logs[i - 1].log_index)
            return ch_err(err, "block %llu: log index %u appears twice",
                          (unsigned long long)b->number, b->logs[i].log_index);
        if (b->logs[i].tx_index < b->logs[i - 1].tx_index)
            return ch_err(err, "block %llu: log %u (tx %u) comes after a log of tx %u",
                          (unsigned long long)b->number, b->logs[i].log_index, b->logs[i].tx_index,
                          b->logs[i - 1].tx_index);
    }
    if (order_calls(b, err) != 0) return -1;
    if (add_named_txs(b, err) != 0) return -1;
    /* without a receipt, the top frame tells whether the tx failed */
    for (size_t i = 0; i < b->n_calls; i++) {
        const ch_evm_call *c = &b->calls[i];
        if (c->depth != 0 || c->tx_index == UINT32_MAX) continue;
        ch_evm_tx *t = find_tx_index(b, c->tx_index);
        if (t && t->status < 0) t->status = c->self_error ? 0 : 1;
        if (t && t->partial) body_from_frame(t, c);
    }
    a->n_pc = 0;
    a->n_rc = 0;
    a->n_refs = 0;
    return 0;
}

/* --- a set of blocks by number ---------------------------------------------- */

ch_evm_block *evm_set_get(evm_set *s, uint64_t number) {
    if (!s->touched || number < s->lo) s->lo = number;
    if (!s->touched || number > s->hi) s->hi = number;
    s->touched = true;
    /* records mostly name the newest block: look there first */
    if (s->n && s->v[s->n - 1]->number == number) return s->v[s->n - 1];
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->v[mid]->number == number) return s->v[mid];
        if (s->v[mid]->number < number)
            lo = mid + 1;
        else
            hi = mid;
    }
    ch_evm_block **v = ch_grow(s->v, &s->cap, s->n + 1, sizeof *v);
    if (!v) return NULL;
    s->v = v;
    ch_evm_block *b;
    if (s->n_spare) {
        b = s->spare[--s->n_spare]; /* recycled: reset, with its arena and arrays */
    } else {
        if (!(b = malloc(sizeof *b))) return NULL;
        ch_evm_block_init(b);
    }
    b->number = number;
    memmove(&s->v[lo + 1], &s->v[lo], (s->n - lo) * sizeof *s->v);
    s->v[lo] = b;
    s->n++;
    return b;
}

ch_evm_block *evm_set_pop(evm_set *s) {
    if (!s->n) return NULL;
    ch_evm_block *b = s->v[0];
    memmove(&s->v[0], &s->v[1], (s->n - 1) * sizeof *s->v);
    s->n--;
    return b;
}

/* A few blocks' worth: the streaming reader holds about one block per file. */
#define SPARE_MAX 8

void evm_set_recycle(evm_set *s, ch_evm_block *b) {
    if (!s->spare_cap && (s->spare = malloc(SPARE_MAX * sizeof *s->spare))) /* one fixed block */
        s->spare_cap = SPARE_MAX;
    if (s->n_spare < s->spare_cap) {
        ch_evm_block_reset(b);
        s->spare[s->n_spare++] = b;
        return;
    }
    ch_evm_block_free(b);
    free(b);
}

size_t evm_block_bytes(const ch_evm_block *b) {
    size_t n = sizeof *b;
    const struct ch_evm_arena *a = b->arena;
    if (!a) return n;
    n += sizeof *a;
    for (const evm_chunk *c = a->head; c; c = c->next)
        n += sizeof *c + c->cap;
    n += a->tx_cap * sizeof(ch_evm_tx) + a->logs_cap * sizeof(ch_evm_log) +
         a->calls_cap * sizeof(ch_evm_call) + a->wd_cap * sizeof(ch_evm_withdrawal);
    n += a->rc_cap * sizeof(evm_receipt) + a->pc_cap * sizeof(evm_pcall) +
         a->refs_cap * sizeof(evm_txref) + a->claims_cap * sizeof(evm_txref) +
         a->tt_cap * sizeof(evm_ttlog);
    return n;
}

int evm_set_finish(evm_set *s, ch_error *err) {
    for (size_t i = 0; i < s->n; i++)
        if (evm_block_finish(s->v[i], err) != 0) return -1;
    return 0;
}

int evm_set_export(evm_set *s, ch_evm_block **blocks, size_t *n_blocks, ch_error *err) {
    if (evm_set_finish(s, err) != 0) return -1;
    if (s->n) {
        /* exact size, once per export: the caller's array keeps no capacity */
        ch_evm_block *v = realloc(*blocks, (*n_blocks + s->n) * sizeof *v);
        if (!v) return ch_err(err, "out of memory");
        *blocks = v;
        for (size_t i = 0; i < s->n; i++) {
            v[(*n_blocks)++] = *s->v[i];
            free(s->v[i]);
        }
    }
    s->n = 0;
    evm_set_free(s); /* the array, and any spare blocks */
    return 0;
}

void evm_set_drop_parser(evm_set *s) {
    sj_parser_free(s->json);
    sj_parser_free(s->json_spare);
    s->json = s->json_spare = NULL;
}

void evm_set_free(evm_set *s) {
    for (size_t i = 0; i < s->n; i++) {
        ch_evm_block_free(s->v[i]);
        free(s->v[i]);
    }
    for (size_t i = 0; i < s->n_spare; i++) {
        ch_evm_block_free(s->spare[i]);
        free(s->spare[i]);
    }
    free(s->spare);
    free(s->v);
    evm_set_drop_parser(s);
    memset(s, 0, sizeof *s);
}

void ch_evm_blocks_free(ch_evm_block *blocks, size_t n_blocks) {
    for (size_t i = 0; i < n_blocks; i++)
        ch_evm_block_free(&blocks[i]);
    free(blocks);
}

/* --- transfers -------------------------------------------------------------- */

static const uint8_t *transfer_topic(void) {
    static uint8_t t[32];
    static bool done;
    if (!done) {
        ch_hex_decode(CH_EVM_TRANSFER_TOPIC, 64, t, 32);
        done = true;
    }
    return t;
}

/* Only these frames move value: delegatecall and callcode run other code in
 * the caller's own account (their value field is the caller's, not a
 * payment) and staticcall cannot carry value. */
static bool moves_value(const char *type) {
    return !strcmp(type, "call") || !strcmp(type, "create") || !strcmp(type, "create2") ||
           !strcmp(type, "selfdestruct");
}

static int emit_log(const ch_evm_log *l, const uint8_t *topic, ch_evm_transfer_fn fn, void *ctx) {
    if (l->removed || l->n_topics < 3 || memcmp(l->topics[0], topic, 32)) return 0;
    ch_evm_transfer t;
    memset(&t, 0, sizeof t);
    if (l->n_topics == 3 && l->data_len == 32) {
        t.kind = CH_EVM_XFER_ERC20;
        ch_u256_from_be32(l->data, &t.value);
    } else if (l->n_topics == 4) {
        t.kind = CH_EVM_XFER_ERC721;
        ch_u256_from_be32(l->topics[3], &t.value);
    } else {
        return 0; /* a Transfer-shaped event of some other ABI: not a transfer */
    }
    t.tx_index = l->tx_index;
    t.position = 0x10000 + l->log_index;
    t.asset = l->address;
    memcpy(t.from.b, l->topics[1] + 12, 20);
    memcpy(t.to.b, l->topics[2] + 12, 20);
    return fn(&t, ctx);
}

int ch_evm_block_transfers(const ch_evm_block *b, ch_evm_transfer_fn fn, void *ctx) {
    const uint8_t *topic = transfer_topic();
    size_t it = 0, ic = 0, il = 0;
    ch_evm_transfer t;
    /* walk txs, calls and logs together, one tx index at a time: any of the
     * three may name a tx the others lack (a logs-only export, say) */
    for (;;) {
        uint32_t cur = UINT32_MAX;
        if (it < b->n_tx && b->tx[it].index < cur) cur = b->tx[it].index;
        if (ic < b->n_calls && b->calls[ic].tx_index < cur) cur = b->calls[ic].tx_index;
        if (il < b->n_logs && b->logs[il].tx_index < cur) cur = b->logs[il].tx_index;
        if (cur == UINT32_MAX) break;
        const ch_evm_tx *tx = it < b->n_tx && b->tx[it].index == cur ? &b->tx[it++] : NULL;
        bool failed = tx && tx->status == 0;
        if (tx && !failed && !tx->partial) {
            memset(&t, 0, sizeof t);
            t.kind = CH_EVM_XFER_NATIVE;
            t.tx_index = cur;
            t.from = tx->from;
            t.to = tx->has_to ? tx->to : tx->created;
            t.value = tx->value;
            int rc = fn(&t, ctx);
            if (rc) return rc;
        }
        for (; ic < b->n_calls && b->calls[ic].tx_index == cur; ic++) {
            const ch_evm_call *c = &b->calls[ic];
            if (failed || c->depth == 0 || c->error || ch_u256_is_zero(&c->value) ||
                !moves_value(c->type))
                continue;
            memset(&t, 0, sizeof t);
            t.kind = CH_EVM_XFER_INTERNAL;
            t.tx_index = cur;
            t.position = c->position;
            t.from = c->from;
            t.to = c->to;
            t.value = c->value;
            int rc = fn(&t, ctx);
            if (rc) return rc;
        }
        for (; il < b->n_logs && b->logs[il].tx_index == cur; il++) {
            if (failed)
                continue; /* a failed tx keeps no logs; be safe if a source says otherwise */
            int rc = emit_log(&b->logs[il], topic, fn, ctx);
            if (rc) return rc;
        }
    }
    /* then what no transaction did: rewards (traces), withdrawals */
    for (; ic < b->n_calls; ic++) {
        const ch_evm_call *c = &b->calls[ic];
        if (c->error || (strcmp(c->type, "reward") && strcmp(c->type, "genesis"))) continue;
        memset(&t, 0, sizeof t);
        t.kind = CH_EVM_XFER_REWARD;
        t.tx_index = UINT32_MAX;
        t.position = c->position;
        t.to = c->to;
        t.value = c->value;
        int rc = fn(&t, ctx);
        if (rc) return rc;
    }
    for (size_t i = 0; i < b->n_withdrawals; i++) {
        const ch_evm_withdrawal *w = &b->withdrawals[i];
        memset(&t, 0, sizeof t);
        t.kind = CH_EVM_XFER_WITHDRAWAL;
        t.tx_index = UINT32_MAX;
        t.position = (uint32_t)i;
        t.to = w->address;
        ch_u256 g = {{w->amount_gwei, 0, 0, 0}};
        ch_u256_mul64(&t.value, &g, 1000000000u);
        int rc = fn(&t, ctx);
        if (rc) return rc;
    }
    return 0;
}

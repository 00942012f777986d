/* A block's index lookups on several threads (ch_store_resolve_block).
 *
 * A writer whose hot maps do not hold the whole index asks the runs for
 * every input whose tx they miss and every output whose address they
 * miss: on a store larger than the maps (the watcher's, past a few
 * million txs) that is most of them, and most of an add's time (a fenced
 * search and a read of each run whose filter passes, then the record that
 * confirms the match: some 3 µs a lookup, 6,000 of them in a block of
 * 3,000 txs). The adds themselves must go one at a time, in order, but
 * those lookups need not: they read only committed state, which nothing
 * changes inside a block. So before the adds, the block's lookups are
 * split between the caller and the process's spare threads (util/spare.h),
 * and the adds take the answers from two small tables.
 *
 * What is asked is what the add would ask, in the same order of sources:
 * a txid or an address the hot maps hold when the block starts is left to
 * them (they only gain entries inside a block), and the rest go to
 * st_index_find_tx and st_index_find_addr, the add path's own calls. An
 * answer "not found" is the index's too, so the add does not ask again.
 * Every answer is forgotten at the block's end (st_resolved_drop). */
#include "store/store_internal.h"
#include "util/spare.h"
#include "util/vec.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* fewer lookups than this: not worth a spare thread's wake */
#define MIN_PARALLEL 256
/* lookups a thread takes at a time from the shared counter */
#define CHUNK 32
/* spends or outputs between a hot-map slot's prefetch and its probe */
#define LIST_AHEAD 8

int ch_store_resolve_in_parallel(ch_store *s) {
    if (!s->writable) return -1;
    s->resolver.on = true;
    return 0;
}

/* The last block's helpers done (they left when its lookups were taken),
 * or taken back when no spare thread came to them. */
static void join_helpers(st_resolver *r) {
    for (size_t i = 0; i < r->n_helpers; i++)
        ch_spare_withdraw(&r->helper[i]);
    r->n_helpers = 0;
}

bool ch_store_resolves_ahead(const ch_store *s) {
    return s->resolver.on;
}

void st_resolver_free(ch_store *s) {
    st_resolver *r = &s->resolver;
    join_helpers(r);
    free(r->tx);
    free(r->addr);
    free(r->tx_slots);
    free(r->addr_slots);
    memset(r, 0, sizeof *r);
}

static bool addr_same(const ch_addr *a, const ch_addr *b) {
    return a->kind == b->kind && a->version == b->version && a->len == b->len &&
           memcmp(a->bytes, b->bytes, a->len) == 0;
}

/* The slot of txid in the tx table: its answer's, or the free one where
 * it would go. */
static uint32_t *tx_slot(const st_resolver *r, const ch_hash256 *txid) {
    for (size_t i = st_txid_key(txid) & r->slots_mask;; i = (i + 1) & r->slots_mask) {
        uint32_t *slot = &r->tx_slots[i];
        if (!*slot || memcmp(r->tx[*slot - 1].txid.b, txid->b, 32) == 0) return slot;
    }
}

static uint32_t *addr_slot(const st_resolver *r, const ch_addr *a, uint64_t key) {
    for (size_t i = key & r->slots_mask;; i = (i + 1) & r->slots_mask) {
        uint32_t *slot = &r->addr_slots[i];
        if (!*slot) return slot;
        const st_resolved_addr *e = &r->addr[*slot - 1];
        if (e->key == key && addr_same(&e->addr, a)) return slot;
    }
}

const st_resolved_tx *st_resolved_tx_get(const ch_store *s, const ch_hash256 *txid) {
    const st_resolver *r = &s->resolver;
    if (!r->valid) return NULL;
    uint32_t slot = *tx_slot(r, txid);
    return slot ? &r->tx[slot - 1] : NULL;
}

const st_resolved_addr *st_resolved_addr_get(const ch_store *s, const ch_addr *a, uint64_t key) {
    const st_resolver *r = &s->resolver;
    if (!r->valid) return NULL;
    uint32_t slot = *addr_slot(r, a, key);
    return slot ? &r->addr[slot - 1] : NULL;
}

/* Room for n_spends txids and n_addrs addresses, with tables at most half
 * full; false when memory is short. */
static bool make_room(st_resolver *r, size_t n_spends, size_t n_addrs) {
    size_t most = n_spends > n_addrs ? n_spends : n_addrs, slots = 64;
    while (slots < 2 * most)
        slots *= 2;
    if (slots > r->cap_slots) {
        uint32_t *t = realloc(r->tx_slots, slots * sizeof *t);
        if (t) r->tx_slots = t;
        uint32_t *a = t ? realloc(r->addr_slots, slots * sizeof *a) : NULL;
        if (a) r->addr_slots = a;
        if (!a) return false;
        r->cap_slots = slots;
    }
    r->slots_mask = slots - 1;
    memset(r->tx_slots, 0, slots * sizeof *r->tx_slots);
    memset(r->addr_slots, 0, slots * sizeof *r->addr_slots);
    if (n_spends > r->cap_tx) {
        st_resolved_tx *v = ch_grow(r->tx, &r->cap_tx, n_spends, sizeof *v);
        if (!v) return false;
        r->tx = v;
    }
    if (n_addrs > r->cap_addr) {
        st_resolved_addr *v = ch_grow(r->addr, &r->cap_addr, n_addrs, sizeof *v);
        if (!v) return false;
        r->addr = v;
    }
    return true;
}

/* The spends' txids the hot maps miss, each once, into the tx table.
 * Each probe of a hot map is a cache miss (the maps are far larger than
 * the cache), so the slots LIST_AHEAD spends on are asked for first. */
static void list_txids(ch_store *s, const ch_store_spend *spends, size_t n) {
    st_resolver *r = &s->resolver;
    r->n_tx = 0;
    if (s->tx_hot_complete) return;
    for (size_t i = 0; i < n; i++) {
        if (i + LIST_AHEAD < n) {
            uint64_t k = st_txid_key(spends[i + LIST_AHEAD].txid);
            st_hot_prefetch(&s->tx_hot, k);
            st_hot_prefetch(&s->tx_old, k);
        }
        uint64_t tx;
        if (st_find_tx_hot(s, spends[i].txid, &tx)) continue;
        uint32_t *slot = tx_slot(r, spends[i].txid);
        if (*slot) continue;
        r->tx[r->n_tx] = (st_resolved_tx){.txid = *spends[i].txid};
        *slot = (uint32_t)++r->n_tx;
    }
}

/* The addresses the hot maps miss, each once, into the address table
 * (their slots asked for ahead, as list_txids). */
static void list_addresses(ch_store *s, const ch_addr *addrs, const uint64_t *keys, size_t n) {
    st_resolver *r = &s->resolver;
    r->n_addr = 0;
    if (s->addr_hot_complete) return;
    for (size_t i = 0; i < n; i++) {
        if (keys && i + LIST_AHEAD < n) {
            st_hot_prefetch(&s->addr_hot, keys[i + LIST_AHEAD]);
            st_hot_prefetch(&s->addr_old, keys[i + LIST_AHEAD]);
        }
        const ch_addr *a = &addrs[i];
        if (a->kind == CH_ADDR_NONE || a->len > 32) continue; /* not kept (add_output) */
        uint64_t key = keys ? keys[i] : st_addr_key(a);
        if (st_addr_in_hot(s, a, key)) continue;
        uint32_t *slot = addr_slot(r, a, key);
        if (*slot) continue;
        r->addr[r->n_addr] = (st_resolved_addr){.addr = *a, .key = key};
        *slot = (uint32_t)++r->n_addr;
    }
}

/* An input's tx in the committed index, and where its outputs are (as
 * ch_store_add_input reads them). */
static void resolve_tx(ch_store *s, st_resolved_tx *e) {
    if (!st_index_find_tx(s, &e->txid, &e->tx)) return;
    const st_col *txs = &s->col[COL_TXS], *outs = &s->col[COL_OUTS];
    ch_tx_rec t[2] = {{0, 0}, {0, st_col_count(outs)}};
    st_col_get_n(txs, e->tx, e->tx + 1 < st_col_count(txs) ? 2 : 1, t);
    e->first_out = t[0].first_out;
    e->n_out = t[1].first_out >= e->first_out && t[1].first_out <= st_col_count(outs)
                   ? t[1].first_out - e->first_out
                   : 0;
    e->found = true;
}

static void resolve_addr(ch_store *s, st_resolved_addr *e) {
    e->found = st_index_find_addr(s, &e->addr, &e->id, &e->last) == 1;
}

/* Take chunks of the lookups (the txids', then the addresses') until none
 * is left: the caller's thread and each helper's. A thread counts itself
 * busy before it takes a chunk, so that the caller, done with its own,
 * waits only for chunks under way (not for a helper that has yet to be
 * scheduled: that one finds nothing left and leaves). */
static void resolve_main(void *arg) {
    ch_store *s = arg;
    st_resolver *r = &s->resolver;
    size_t n = r->n_tx + r->n_addr;
    for (;;) {
        atomic_fetch_add(&r->busy, 1);
        size_t i = atomic_fetch_add(&r->next, CHUNK);
        /* every run's filter block for the chunk's keys first: a lookup
         * spent two thirds of its search waiting for them, one at a time */
        for (size_t j = i; j < i + CHUNK && j < n; j++) {
            if (j < r->n_tx)
                st_runs_prefetch(&s->txid_runs, st_txid_key(&r->tx[j].txid));
            else
                st_runs_prefetch(&s->addr_runs, r->addr[j - r->n_tx].key);
        }
        for (size_t j = i; j < i + CHUNK && j < n; j++) {
            if (j < r->n_tx)
                resolve_tx(s, &r->tx[j]);
            else
                resolve_addr(s, &r->addr[j - r->n_tx]);
        }
        atomic_fetch_sub(&r->busy, 1);
        if (i >= n) return;
    }
}

void ch_store_resolve_block(ch_store *s, const ch_store_spend *spends, size_t n_spends,
                            const ch_addr *addrs, const uint64_t *addr_keys, size_t n_addrs) {
    st_resolver *r = &s->resolver;
    r->valid = false;
    join_helpers(r); /* the last block's: long gone, as a rule */
    if (!s->writable || !r->on || !s->in_block || s->account) return;
    if (s->tx_hot_complete && s->addr_hot_complete) return;
    if (n_spends + n_addrs < MIN_PARALLEL || !make_room(r, n_spends, n_addrs)) return;
    list_txids(s, spends, n_spends);
    list_addresses(s, addrs, addr_keys, n_addrs);
    if (r->n_tx + r->n_addr < MIN_PARALLEL) {
        /* too few to share: the adds ask the index themselves */
        return;
    }
    atomic_store(&r->next, 0);
    atomic_store(&r->busy, 0);
    for (size_t want = ch_spare_threads(); r->n_helpers < want; r->n_helpers++)
        if (!ch_spare_post(&r->helper[r->n_helpers], resolve_main, s)) break;
    resolve_main(s);
    /* every chunk is taken: wait for those still under way (a few µs; a
     * spin, not a yield, which would hand this core to whatever waits for
     * one and this thread's turn with it) */
    while (atomic_load(&r->busy) != 0)
        ch_cpu_pause();
    r->made_tx += r->n_tx;
    r->made_addr += r->n_addr;
    r->valid = true;
}

/* Internal to the account-chain tracer: pools, accounts and the sweep. */
#ifndef COINHOUND_TRACE_ACCOUNT_INTERNAL_H
#define COINHOUND_TRACE_ACCOUNT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "coinhound/trace_account.h"
#include "trace/trace_internal.h"

typedef ch_taint_sum u128;
#define U128_MAX (~(u128)0)
#define AT_NONE  UINT64_MAX

/* floor(a * b / c), c > 0, with a 256-bit intermediate; the caller keeps the
 * result within 128 bits (b <= c). */
u128 at_muldiv(u128 a, u128 b, u128 c);

static inline u128 xval(const ch_xfer_rec *r) {
    return ((u128)r->value_hi << 64) | r->value_lo;
}

/* fifo: a run of `len` units, tainted or not. */
typedef struct at_run {
    u128 len;
    uint64_t taint; /* 0 or 1 (a word: the struct is 32 bytes anyway) */
    uint64_t pad;
} at_run;

/* A growable list of runs. */
typedef struct at_runs {
    at_run *v;
    size_t n, cap;
} at_runs;

int at_runs_push(at_runs *r, u128 len, bool taint); /* merges with the last run */
u128 at_runs_tainted(const at_runs *r);
/* out = a ∪ b (tainted where either is), both of the same total length. */
int at_runs_union(const at_runs *a, const at_runs *b, at_runs *out);

/* fifo backward: one debit's consumption of the pool's credits. */
typedef struct at_seg {
    uint64_t credit; /* transfer index of the credit, AT_NONE: older than known history */
    u128 len;
} at_seg;

/* A pool: one (account, asset). Forward: bal and taint; fifo keeps the
 * queue q[qh..qn). Backward: bal is the balance after the transfer being
 * undone, taint the demand M attached to the pool's content. */
typedef struct at_pool {
    ch_addr_id addr, asset;
    uint32_t acct;
    uint32_t hops;   /* fewest hops of the taint that reached it */
    uint32_t parent; /* pool on that shortest path, TR_NONE for a source */
    uint8_t swap;    /* reached by a swap */
    uint8_t poisoned;
    uint64_t via; /* the transfer that brought it, AT_NONE for a source address */
    u128 bal, taint;
    at_run *q;
    size_t qh, qn, qcap;
    /* fifo backward: debits of the pool in order, each with its segments */
    uint64_t *dx;
    size_t *doff; /* segments of debit i: seg[doff[i] .. doff[i+1]) */
    at_seg *seg;
    size_t n_dx, n_seg;
} at_pool;

/* An account followed: its whole history (transfer indices, ascending) and
 * the sweep's cursor into it. */
typedef struct at_acct {
    ch_addr_id addr;
    bool source; /* an address source: its credits are tainted in full */
    uint64_t *hist;
    size_t n_hist;
    size_t cur; /* next position to schedule */
} at_acct;

typedef struct at_hent {
    uint64_t key; /* transfer index (backward: its complement) */
    uint32_t acct;
} at_hent;

typedef struct at_land {
    ch_atrace_landing l;
    uint32_t parent; /* pool it came from, TR_NONE for a source transfer */
    uint8_t swap;
} at_land;

/* Per tx: an account that sends asset A and receives asset B it does not
 * send. */
typedef struct at_swap {
    ch_addr_id addr;
    ch_addr_id assets[8]; /* assets it sends (not gas) */
    size_t n_assets;
    bool receives; /* receives one it does not send */
    /* forward: the line of its swap debits (value, taint; fifo runs) */
    u128 v_out, t_out;
    at_runs line;
    uint32_t best_pool; /* the debited pool with the fewest hops */
    /* backward: demand on its swap credits to convert */
    u128 v_in, d_in;
} at_swap;

/* A deferred part of a tx (forward: a swap credit; backward: a swap debit). */
typedef struct at_defer {
    uint64_t x;
    uint32_t sw;     /* index in the tx's swap list */
    uint32_t parent; /* pool the carried part came from */
    u128 carried;
    size_t run_off, run_n; /* fifo: carried runs in t->stash */
} at_defer;

struct ch_atrace {
    ch_store *s;
    ch_atrace_opts o;
    char **stop;
    size_t n_stop;
    ch_addr_id zero_addr; /* id of 0x000...0 (mints and burns), 0 if absent */
    uint64_t n_xfers;
    uint64_t x_lo, x_hi; /* the window as transfer indices [lo, hi) */

    /* sources */
    tr_map src_tx;      /* tx -> 1 */
    tr_map src_xfer;    /* transfer -> 1 */
    uint64_t first_src; /* lowest (forward) / highest (backward) source transfer */
    uint32_t *src_addr; /* accounts (indexes into acct) */
    size_t n_src_addr, cap_src_addr;
    uint64_t *src_list; /* source transfers (and first transfers of source txs) */
    size_t n_src_list, cap_src_list;

    at_pool *pool;
    size_t n_pool, cap_pool;
    tr_map pool_by; /* at_pair_key(addr, asset) -> pool */
    at_acct *acct;
    size_t n_acct, cap_acct;
    tr_map acct_by; /* addr -> account */

    at_hent *heap;
    size_t n_heap, cap_heap;
    uint64_t done; /* last transfer processed (forward), first (backward) */
    bool any_done;

    ch_atrace_asset *tot;
    size_t n_tot, cap_tot;
    tr_map tot_by;

    at_land *land;
    size_t n_land, cap_land;
    tr_map land_by; /* after the run: index in the sorted arrays */
    ch_atrace_landing *land_pub;
    ch_atrace_holding *hold;
    size_t n_hold;
    bool sorted, ran;

    /* scratch for one tx */
    at_swap *sw;
    size_t n_sw, cap_sw;
    at_defer *df;
    size_t n_df, cap_df;
    at_runs carry, tmp, tmp2, stash;
    /* fifo backward: demand per credit transfer, waiting for the sweep */
    tr_map bdem_by;
    u128 *bdem;
    size_t n_bdem, cap_bdem;

    ch_atrace_stats st;
    uint64_t extended; /* ch_atrace_extend calls (histories grown in place) */
};

/* account_pool.c */
ch_atrace_asset *at_tot(ch_atrace *t, ch_addr_id asset); /* NULL: out of memory */
int at_acct_get(ch_atrace *t, ch_addr_id addr, uint32_t *out, ch_error *err);
/* Maps keyed by an (address, asset) pair: two ids of up to 40 bits do not
 * fit one 64-bit key, so the key mixes them (for ids below 2^32 it is
 * addr << 32 | asset, as before) and a lookup probes the keys after it
 * until the value's own pair matches or a key is free. */
static inline uint64_t at_pair_key(ch_addr_id addr, ch_addr_id asset) {
    uint64_t k = addr << 32 | (asset & 0xffffffffu);
    k ^= ((addr >> 32) * 0x9E3779B97F4A7C15ULL) ^ ((asset >> 32) * 0xC2B2AE3D27D4EB4FULL);
    return k == UINT64_MAX ? 0 : k;
}
static inline uint64_t at_pair_next(uint64_t k) {
    return k + 1 == UINT64_MAX ? 0 : k + 1;
}
/* The pool of (addr, asset), TR_NONE when not followed; *key (may be NULL)
 * gets the key where it is or would go. */
static inline uint32_t at_pool_find_key(const ch_atrace *t, ch_addr_id addr, ch_addr_id asset,
                                        uint64_t *key) {
    for (uint64_t k = at_pair_key(addr, asset);; k = at_pair_next(k)) {
        uint32_t p = tr_map_get(&t->pool_by, k);
        if (p == TR_NONE || (t->pool[p].addr == addr && t->pool[p].asset == asset)) {
            if (key) *key = k;
            return p;
        }
    }
}
static inline uint32_t at_pool_find(const ch_atrace *t, ch_addr_id addr, ch_addr_id asset) {
    return at_pool_find_key(t, addr, asset, NULL);
}
/* The same for the landings (land_by). */
static inline uint32_t at_land_find(const ch_atrace *t, ch_addr_id addr, ch_addr_id asset,
                                    uint64_t *key) {
    for (uint64_t k = at_pair_key(addr, asset);; k = at_pair_next(k)) {
        uint32_t p = tr_map_get(&t->land_by, k);
        if (p == TR_NONE || (t->land[p].l.addr == addr && t->land[p].l.asset == asset)) {
            if (key) *key = k;
            return p;
        }
    }
}
/* Create the pool at transfer x: its balance from the account's history
 * before x (forward) or up to and including x (backward). */
int at_pool_new(ch_atrace *t, ch_addr_id addr, ch_addr_id asset, uint64_t x, uint32_t *out,
                ch_error *err);
int at_heap_push(ch_atrace *t, uint64_t key, uint32_t acct);
at_hent at_heap_pop(ch_atrace *t);
/* Schedule account a's next transfer after (forward) / before (backward)
 * the last processed. */
int at_schedule(ch_atrace *t, uint32_t a);
bool at_is_stop(ch_atrace *t, ch_addr_id addr, ch_label *l);
int at_landing(ch_atrace *t, ch_addr_id addr, ch_addr_id asset, u128 amount, uint32_t hops,
               uint64_t x, uint32_t parent, bool swap);
/* Better path for pool p: via transfer x from parent at hops. */
void at_pool_reach(at_pool *p, uint32_t hops, uint64_t x, uint32_t parent, bool swap);
/* fifo: queue operations. */
int at_q_push(at_pool *p, u128 len, bool taint);
/* Take v from the front of p's queue into out (appended). */
int at_q_take(at_pool *p, u128 v, at_runs *out);
bool at_is_source_tx(const ch_atrace *t, const ch_xfer_rec *r, uint64_t x);
bool at_is_source_addr(ch_atrace *t, ch_addr_id addr);
/* No-one: 0 or the zero address. */
static inline bool at_nobody(const ch_atrace *t, ch_addr_id addr) {
    return addr == 0 || (t->zero_addr && addr == t->zero_addr);
}
/* Transfers the trace skips: NFTs and zero values. */
static inline bool at_skip(const ch_xfer_rec *r) {
    return r->kind == CH_XFER_NFT || (r->value_lo == 0 && r->value_hi == 0);
}

/* account_fwd.c / account_bwd.c: one tx (or one transfer without a tx),
 * transfers [f, f + n). */
int at_forward_tx(ch_atrace *t, uint64_t f, uint64_t n, ch_error *err);
int at_backward_tx(ch_atrace *t, uint64_t f, uint64_t n, ch_error *err);
/* Shared by both: find the swap accounts of transfers [f, f + n). */
int at_find_swaps(ch_atrace *t, uint64_t f, uint64_t n);
/* Index in t->sw of the swap account addr when it sends asset (send=true) or
 * receives an asset it does not send (send=false); -1 if none. */
int at_swap_of(const ch_atrace *t, ch_addr_id addr, ch_addr_id asset, bool send);

/* account.c: the transfer window [x_lo, x_hi) from the options and the
 * store's blocks; the sweep over the heap until it is empty. */
void at_set_window(ch_atrace *t);
int at_sweep(ch_atrace *t, ch_error *err);

/* account_result.c */
int at_collect(ch_atrace *t, ch_error *err);

#endif

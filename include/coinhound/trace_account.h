/* coinhound: taint tracing on account chains (Ethereum and other EVM chains).
 *
 * An account is a long-lived pool per asset (the native coin, each token by
 * its contract) whose credits and debits are ordered in time: the store's
 * transfer order (block, tx, position). The trace keeps, for every pool that
 * ever held taint, its balance and its tainted part, replaying the pool's
 * transfers in that order:
 *   poison   once a tainted credit arrived, every later debit is tainted in
 *            full (an over-approximation; clean value that entered poisoned
 *            pools is counted as clean_in);
 *   haircut  each debit carries the pool's tainted fraction at that moment:
 *            floor(debit * tainted / balance), exact in 128/256-bit integers,
 *            so the parts always add up (the remainder stays in the pool);
 *   fifo     debits consume credits in arrival order: the pool is a queue of
 *            credit intervals, tainted or not, and a debit takes the front
 *            of the queue (its intervals go on to the recipient's queue).
 * A pool's value from before the taint arrived is one clean interval at the
 * front. A debit larger than the pool (data that starts mid-history) empties
 * it: the missing value is clean.
 *
 * Directions:
 *   forward   where did it go: sources taint credits; debits carry taint on.
 *             Only transfers at or after the source are visited and, per
 *             account, only those after taint reached it.
 *   backward  where did it come from: the sources are demands on transfers
 *             (a transfer's value to explain); a pool's credits explain its
 *             debits, by the same policy read backwards (haircut: every
 *             credit in proportion to what is left of it at the debit; fifo:
 *             the credits the debit consumed, each in proportion to its
 *             part; poison: every earlier credit in full).
 *
 * Swaps: when, inside one tx, an account sends asset A (not gas) and receives
 * an asset B it does not send in that tx (a token to a DEX pool, ETH back by
 * an internal call), the taint of its A debits does not go on in A to the
 * pool: it continues in its B credits in proportion to value (fifo: the
 * intervals scaled onto the B credits) and the step is a swap hop. Per
 * asset, taint leaves as swapped_out and enters as swapped_in.
 *
 * Gas (FEE transfers) takes its share of the native pool's taint out of the
 * trace (fees); transfers to the zero address or to no one are burned; value
 * from no one (rewards, withdrawals, mints) is clean forward and "minted"
 * backward.
 *
 * Conservation, per asset, exact (haircut, fifo; poison with clean_in):
 *   forward:  source + swapped_in + clean_in =
 *             landed + held + fees + burned + swapped_out + below_min + cut_hops
 *   backward: source + swapped_in =
 *             landed + minted + unknown + swapped_out + below_min + cut_hops
 * where backward "unknown" is demand left when an account's known history
 * runs out (the store starts mid-chain), and poison backward counts every
 * earlier credit in full (an over-approximation; no identity).
 * With a block window, forward holdings are the taint held at its end. */
#ifndef COINHOUND_TRACE_ACCOUNT_H
#define COINHOUND_TRACE_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "coinhound/error.h"
#include "coinhound/store.h"
#include "coinhound/trace.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ch_atrace ch_atrace;

/* One credit that carried taint, as the forward sweep makes it (the
 * watcher's incident rule turns these into alerts). Gas is not reported
 * (taint paid as fees leaves the trace); a burn is (to 0 or the zero
 * address: a bridge's burn is where funds leave the chain). */
typedef struct ch_atrace_move {
    uint64_t xfer;       /* the transfer */
    ch_addr_id from, to; /* address ids (0: no one) */
    ch_addr_id asset;    /* 0: the chain's coin; else the token contract's id */
    ch_taint_sum value;  /* the transfer's value, base units */
    ch_taint_sum amount; /* the taint it carried, base units (<= value) */
    uint32_t hops;       /* transfers from a source (0: a source transfer) */
    bool landing;        /* `to` has a stop label: the trace stops there */
    bool burned;         /* to no one */
    bool swap;           /* the taint arrived by a swap into this asset */
    bool source;         /* a source transfer or a credit of a source address */
    ch_label label;      /* landing: the label that stopped it */
    uint32_t parent;     /* the engine's handle for ch_atrace_move_path */
} ch_atrace_move;

/* Called for each move as it happens; non-zero stops the run with that
 * error (err is the run's). */
typedef int (*ch_atrace_move_fn)(ch_atrace *t, const ch_atrace_move *m, void *ctx);

typedef struct ch_atrace_opts {
    ch_trace_policy policy; /* poison, haircut or fifo (lifo is refused) */
    ch_trace_direction direction;
    ch_labels *labels;       /* NULL: no landings */
    const char *stop_at;     /* comma-separated categories; NULL = the default, "" = none */
    uint32_t max_hops;       /* 0 = no limit */
    ch_taint_sum min_amount; /* base units of any asset; smaller taint is dropped */
    uint64_t first_block;    /* block-number window [first, last]; 0 = open */
    uint64_t last_block;
    uint32_t since, until;     /* block-time window, unix seconds; 0 = open */
    ch_atrace_move_fn on_move; /* forward: each move (may be NULL) */
    void *move_ctx;
} ch_atrace_opts;

void ch_atrace_opts_init(ch_atrace_opts *o);

/* s must be an account-chain store opened for reading. */
int ch_atrace_new(ch_store *s, const ch_atrace_opts *o, ch_atrace **out, ch_error *err);
void ch_atrace_free(ch_atrace *t);

/* Sources (before run). An address: everything it received from the start
 * of the window on (forward: its credits are tainted in full; backward: they
 * are the demands). A tx: every value transfer of it (gas excepted), in
 * full. A single transfer. */
int ch_atrace_add_address(ch_atrace *t, ch_addr_id addr_id, ch_error *err);
int ch_atrace_add_tx(ch_atrace *t, uint64_t tx, ch_error *err);
int ch_atrace_add_xfer(ch_atrace *t, uint64_t x, ch_error *err);
/* "0x" + 40 hex (an address) or "0x" + 64 hex (a tx hash). Returns 1 and
 * adds the source, 0 when it is not in the store (err says so), -1 when
 * malformed. */
int ch_atrace_add_from_string(ch_atrace *t, const char *from, ch_error *err);

int ch_atrace_run(ch_atrace *t, ch_error *err);

/* Totals per asset (asset = address id of the token contract, 0 native). */
typedef struct ch_atrace_asset {
    ch_addr_id asset;
    ch_taint_sum source, swapped_in, clean_in;
    ch_taint_sum landed, held, fees, burned, swapped_out, below_min, cut_hops;
    ch_taint_sum minted, unknown; /* backward */
} ch_atrace_asset;

typedef struct ch_atrace_stats {
    uint64_t edge_visits; /* transfer records examined (history walks included) */
    uint64_t xfers;       /* transfers processed in the sweep */
    uint64_t txs;         /* transactions processed */
    uint64_t pools;       /* (account, asset) pools that held taint */
    uint64_t accounts;    /* accounts followed */
    uint64_t swaps;       /* swap conversions */
} ch_atrace_stats;

size_t ch_atrace_assets(const ch_atrace *t, const ch_atrace_asset **out);
/* The totals of one asset (all zero when it never held taint). */
void ch_atrace_asset_totals(const ch_atrace *t, ch_addr_id asset, ch_atrace_asset *out);
void ch_atrace_get_stats(const ch_atrace *t, ch_atrace_stats *out);

/* Landings: one per (address, asset), largest first (ties: address, asset). */
typedef struct ch_atrace_landing {
    ch_addr_id addr, asset;
    ch_label label;
    ch_taint_sum amount;
    uint32_t xfers; /* transfers that landed here (saturates at 2^32-1) */
    uint32_t hops;  /* fewest transfers from a source (a swap counts one) */
    uint64_t xfer;  /* the transfer that arrived in `hops` (for the path) */
} ch_atrace_landing;

/* Holdings (forward): tainted balance left at unlabelled accounts, per
 * (address, asset), largest first. */
typedef struct ch_atrace_holding {
    ch_addr_id addr, asset;
    ch_taint_sum amount;
    uint32_t hops;
} ch_atrace_holding;

size_t ch_atrace_landings(ch_atrace *t, const ch_atrace_landing **out);
size_t ch_atrace_holdings(ch_atrace *t, const ch_atrace_holding **out);

/* One step of a shortest path: a transfer, and whether it was a swap (the
 * transfer is then the credit of the new asset). */
typedef struct ch_atrace_step {
    uint64_t xfer;
    bool swap;
} ch_atrace_step;

/* The shortest path to a landing (its `xfer`) or a holding (addr, asset):
 * source first. Writes at most max steps, returns the count. */
size_t ch_atrace_landing_path(ch_atrace *t, const ch_atrace_landing *l, ch_atrace_step *steps,
                              size_t max);
size_t ch_atrace_holding_path(ch_atrace *t, const ch_atrace_holding *h, ch_atrace_step *steps,
                              size_t max);

/* The shortest path to a move (source first), as for a landing. */
size_t ch_atrace_move_path(ch_atrace *t, const ch_atrace_move *m, ch_atrace_step *steps,
                           size_t max);

/* ---- Carrying a forward trace on as the chain grows (the watcher) ----
 *
 * After ch_atrace_run over a window ending at block last_block, extend it to
 * a later new_last: the transfers of the blocks in between (committed to the
 * store since, or already there) are swept with the same state, as if the
 * first run had gone that far, so that the totals, landings and holdings
 * afterwards equal those of a fresh run over [first_block, new_last]
 * (tests/test_trace_incremental.c holds it). Moves are reported for the new
 * transfers only. Forward traces without a time window only; the store may
 * have grown but not shrunk (after a reorg cut, trace again): an error says
 * so. The results of the previous collect are replaced. */
int ch_atrace_extend(ch_atrace *t, uint64_t new_last, ch_error *err);

/* Output: ch_trace_exec and ch_trace_write (trace.h) print both kinds of
 * chain; ch_u128_str and ch_u128_decimals_str are in trace.h. */

#ifdef __cplusplus
}
#endif

#endif

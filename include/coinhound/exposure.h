/* coinhound: indirect exposure of an address to flagged funds, on a
 * Bitcoin or an account-chain (EVM) store.
 *
 * Where did the coins an address received come from? A backward haircut
 * trace from everything the address received, up to max_hops transactions
 * back (account chains: transfers back, per asset, swaps followed), stopping at any labelled
 * address (a service, or a category the risk table knows). Each labelled source reached says how
 * much of the received value came from it (haircut: in proportion to value at every hop).
 *
 * Scoring, on top of the direct verdict (risk.h):
 *   a source's level = its category's level in the table; one step lower
 *     (never below low) when it is more than one hop away, since the link
 *     is weaker the further back it is;
 *   a source's score = points(level) * share of the received value;
 *   the exposure's level and score are the highest over flagged sources
 *     (level low or above) whose share is at least min_share.
 * Sources of level none (exchanges, by default) are reported but flag
 * nothing: they explain where clean money came from. */
#ifndef COINHOUND_EXPOSURE_H
#define COINHOUND_EXPOSURE_H

#include <stddef.h>
#include <stdint.h>

#include "coinhound/error.h"
#include "coinhound/model.h"
#include "coinhound/risk.h"
#include "coinhound/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CH_EXPOSURE_MAX_SOURCES 32
#define CH_EXPOSURE_MAX_PATH    16

typedef struct ch_exposure_source {
    char address[CH_ADDR_STR_MAX];
    char category[32];
    char entity[128];
    ch_risk_level level; /* after the distance rule */
    double score;
    double amount;    /* base units of `asset`: satoshi (fractional under haircut), wei, ... */
    ch_addr_id asset; /* 0: the chain's coin; else the token contract's address id */
    __extension__ unsigned __int128 amount_base; /* amount in whole base units */
    double share;                                /* of the address's received value, 0..1 */
    uint32_t hops;   /* transactions (account chains: transfers) between the source
                        and the address; 1: the source paid the address */
    size_t path_len; /* tx numbers (CH_TRACE_NO_TX: an account withdrawal), the
                        screened address's tx first, up to MAX_PATH */
    uint64_t path[CH_EXPOSURE_MAX_PATH];
} ch_exposure_source;

typedef struct ch_exposure {
    uint64_t received;     /* base units of `asset` the address received (the trace's
                              input), saturated at UINT64_MAX: see received_base */
    double flagged_amount; /* from flagged sources, of `asset` */
    double flagged_share;  /* flagged_amount / received */
    ch_risk_level level;   /* highest flagged source level (none if none) */
    double score;          /* highest flagged source score */
    uint32_t max_hops;
    size_t n_sources; /* labelled sources, flagged first, by score then amount */
    bool account;     /* the store is an account chain's (EVM) */
    ch_addr_id asset; /* the asset received and flagged_* are in: the one with the largest
                         flagged share, else the one received most of (Bitcoin: 0) */
    __extension__ unsigned __int128 received_base; /* received, whole base units */
    ch_exposure_source sources[CH_EXPOSURE_MAX_SOURCES];
} ch_exposure;

typedef struct ch_exposure_opts {
    uint32_t max_hops;          /* default 3 */
    double min_share;           /* default 0.001 (0.1%) */
    const ch_risk_table *table; /* NULL: the default table */
    struct ch_labels *labels;   /* extra labels (CSV); may be NULL */
} ch_exposure_opts;

void ch_exposure_opts_init(ch_exposure_opts *o);

struct ch_intel;
/* 1 computed, 0 when the address never received anything in the store,
 * -1 on error. intel may be NULL (then only o->labels name sources). */
int ch_exposure_of(ch_store *s, struct ch_intel *intel, const ch_addr *addr,
                   const ch_exposure_opts *o, ch_exposure *out, ch_error *err);
/* The same exposure of a trace source (ch_trace_spec's syntax: on a
 * Bitcoin store a TXID, TXID:VOUT or an address): of what those outputs
 * received, where a payment's coins came from (the watcher's
 * deposit_exposure judges one payment, TXID:VOUT, not the customer
 * address's whole history). ch_exposure_of(addr) is this on the address's
 * text. 1 computed, 0 when the source is not in the store (err says which),
 * -1 on error (a malformed source included). */
int ch_exposure_of_source(ch_store *s, struct ch_intel *intel, const char *source,
                          const ch_exposure_opts *o, ch_exposure *out, ch_error *err);

#ifdef __cplusplus
}
#endif

#endif

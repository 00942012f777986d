/* coinhound: taint tracing over the chain store.
 *
 * A trace starts from tainted outputs (a whole transaction, one outpoint, or
 * everything an address received) and follows them through the transaction
 * graph, one transaction at a time:
 *   forward   where did it go: an output's spender receives its taint;
 *   backward  where did it come from: an output's taint is pushed back onto
 *             the inputs of the transaction that created it.
 * A transaction is a pool filled by its inputs and emptied at once into its
 * outputs and its fee; the policy says how the taint that entered the pool is
 * shared out:
 *   poison   any taint in, every output (and the fee) fully tainted;
 *   haircut  taint shared in proportion to value;
 *   fifo     inputs laid end to end, outputs end to end (fee last): an output
 *            takes exactly the tainted satoshi of the input line it overlaps;
 *   lifo     fifo with the input line reversed.
 * Transactions are processed in tx-number order (a min-heap forward, a
 * max-heap backward), so every tainted input of a transaction is known
 * before that transaction is shared out.
 *
 * Amounts are fixed point: 1 unit = 1/8192 satoshi (CH_TAINT_ONE units per
 * satoshi), so haircut keeps sub-satoshi fractions while an output's taint
 * still fits in 64 bits (21e6 BTC * 8192 < 2^64). Haircut is exact in these
 * units: output j of a transaction of value V (inputs) and taint T gets
 *   floor(C_j * T / V) - floor(C_{j-1} * T / V)
 * where C_j is the value of outputs 0..j laid end to end, the fee last; the
 * parts add up to exactly T (conservation holds to the unit) and each part is
 * within one unit of its proportional share. Totals are 128-bit sums.
 *
 * Where tracing stops:
 *   landing    an output paying an address labelled with a stop category
 *              (default: exchange, bridge, mixer, gambling,
 *              payment_processor): funds reached a service;
 *   holding    (forward) an unspent tainted output not at a service;
 *   fee        (forward) taint paid to miners leaves the trace;
 *   coinbase   (backward) taint traced back to newly mined coins;
 *   below_min  an output whose taint is below min_amount is dropped;
 *   max_hops / window   taint whose next transaction is beyond the hop limit
 *              or outside the block-time window stays where it is;
 *   returned   (address sources) taint that flowed back into an output of
 *              the source address, which is already counted in the source.
 * Conservation (haircut, fifo, lifo; exact, in units):
 *   source = landed + held + fees + coinbase + below_min + cut_hops
 *            + cut_window + returned
 * Poison instead marks outputs fully tainted, so its totals over-approximate;
 * the same identity holds with "source" replaced by source + the clean value
 * that entered tainted transactions (see docs/trace.md). */
#ifndef COINHOUND_TRACE_H
#define COINHOUND_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "coinhound/error.h"
#include "coinhound/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CH_TAINT_FRAC_BITS 13
#define CH_TAINT_ONE       ((uint64_t)1 << CH_TAINT_FRAC_BITS) /* units per satoshi */

/* A sum of amounts (128 bits: poison can count the same coins many times). */
__extension__ typedef unsigned __int128 ch_taint_sum;

typedef enum ch_trace_policy {
    CH_POLICY_POISON = 0,
    CH_POLICY_HAIRCUT,
    CH_POLICY_FIFO,
    CH_POLICY_LIFO,
} ch_trace_policy;

typedef enum ch_trace_direction { CH_TRACE_FORWARD = 0, CH_TRACE_BACKWARD } ch_trace_direction;

/* "poison", "haircut", "fifo", "lifo"; parse returns -1 when unknown. */
const char *ch_trace_policy_name(ch_trace_policy p);
int ch_trace_policy_parse(const char *s, ch_trace_policy *out);
const char *ch_trace_direction_name(ch_trace_direction d);
int ch_trace_direction_parse(const char *s, ch_trace_direction *out);

/* ---- Labels: what the engine asks about an address id ---- */

typedef struct ch_label {
    const char *category; /* "exchange", "mixer", ...; never NULL */
    const char *entity;   /* "Binance"; may be "" */
} ch_label;

/* The set of labels for one run: CSV files (header address,category,entity)
 * and, when given, the attribution store. CSV rows win over the store; the
 * first CSV row of an address wins over later ones. Store answers are asked
 * once per address id and cached. Strings stay valid until ch_labels_free. */
typedef struct ch_labels ch_labels;
struct ch_intel;

/* Labels resolved against store s (addresses become ids). `prefer` is a
 * comma-separated category list: among several attributions of an address
 * in the attribution store, one in this list is taken first (pass the stop
 * categories). intel may be NULL; it stays owned by the caller. */
int ch_labels_new(ch_store *s, struct ch_intel *intel, const char *prefer, ch_labels **out,
                  ch_error *err);
void ch_labels_free(ch_labels *l);
/* Read one CSV file (a header naming the columns address, category and
 * optionally entity, in any order). Rows whose address is not a Bitcoin
 * address or not in the store are skipped and counted in *skipped; *rows
 * counts the labels taken (either may be NULL). A file that cannot be read
 * or has no such header is an error. */
int ch_labels_load_csv(ch_labels *l, const char *path, uint64_t *rows, uint64_t *skipped,
                       ch_error *err);
/* One label by hand (tests). Returns 1 taken, 0 when the address is not in
 * the store (ignored), -1 when it is malformed. */
int ch_labels_add(ch_labels *l, const char *address, const char *category, const char *entity,
                  ch_error *err);
/* 1 and *out filled when address id has a label, 0 when not. */
int ch_labels_get(ch_labels *l, ch_addr_id addr_id, ch_label *out);

/* Where a label came from, for evidence (never NULL; "" when unknown).
 * CSV files: source is "FILE, line N" (with the row's `source` column in
 * front when the file has one), url the optional `source_url` column, date
 * the optional `date` column ("listed") or else the file's last change
 * ("file last changed"). The attribution store: its source name, URL and
 * publication date ("published"), or the date coinhound first saw the
 * address listed ("first listed"). */
typedef struct ch_label_source {
    const char *source;
    const char *url;
    const char *date;      /* YYYY-MM-DD or "" */
    const char *date_what; /* what the date is: "published", "listed", ... */
} ch_label_source;

/* 1 and *out filled when address id has a label, 0 when not. Strings stay
 * valid until ch_labels_free. */
int ch_labels_source(ch_labels *l, ch_addr_id addr_id, ch_label_source *out);

/* ---- A trace ---- */

#define CH_TRACE_DEFAULT_STOP "exchange,bridge,mixer,gambling,payment_processor"

typedef struct ch_trace_opts {
    ch_trace_policy policy;
    ch_trace_direction direction;
    ch_labels *labels;   /* NULL: no landings */
    const char *stop_at; /* comma-separated categories; NULL = the default, "" = none */
    uint32_t max_hops;   /* 0 = no limit */
    uint64_t min_amount; /* satoshi; taint below it is dropped (0: keep all) */
    uint32_t since;      /* block time window [since, until]; 0 = open */
    uint32_t until;
    /* address sources: only the outputs of blocks at this height or above
     * (a theft's start; 0: every output the address received) */
    uint32_t address_from_height;
    /* forward: keep what ch_trace_extend needs (an entry per tainted output,
     * the heap walk; the results are the same, a dense trace is slower) */
    bool extendable;
    /* an extendable forward trace on a store opened for writing: it sees
     * the blocks the writer added and has not committed yet (the watcher's
     * group commit), as it sees committed ones; each ch_trace_extend takes
     * what was added since. The store must not be cut or lose its pending
     * blocks under it (a reorg, a failed commit): trace again then. */
    bool pending;
} ch_trace_opts;

void ch_trace_opts_init(ch_trace_opts *o);

typedef struct ch_trace ch_trace;

int ch_trace_new(ch_store *s, const ch_trace_opts *o, ch_trace **out, ch_error *err);
void ch_trace_free(ch_trace *t);

/* Sources (before run): one output, every output of a tx, or every output
 * paying an address id. Adding the same output twice counts it once. */
int ch_trace_add_output(ch_trace *t, uint64_t out, ch_error *err);
int ch_trace_add_tx(ch_trace *t, uint64_t tx, ch_error *err);
int ch_trace_add_address(ch_trace *t, ch_addr_id addr_id, ch_error *err);

/* Resolve the --from syntax: a 64-hex txid (all its outputs), TXID:VOUT, or
 * an address string. Returns 1 and adds the sources, 0 when the tx, output
 * or address is not in the store (err says which), -1 when malformed. */
int ch_trace_add_from_string(ch_trace *t, const char *from, ch_error *err);

/* Walk: afterwards the totals are known. Landings and holdings are summed
 * per address when first asked for (a trace that wants only its totals, or
 * only its landings, does not pay for summing millions of held outputs). */
int ch_trace_run(ch_trace *t, ch_error *err);
/* Sum landings and holdings per address, once (after run). ch_trace_landings
 * and ch_trace_holdings do it when first called and give empty lists if it
 * fails; call this first to see why. -1 when out of memory. */
int ch_trace_collect(ch_trace *t, ch_error *err);

typedef struct ch_trace_totals {
    ch_taint_sum source;     /* taint put in at the sources */
    ch_taint_sum landed;     /* reached a stop address */
    ch_taint_sum held;       /* forward: unspent, not at a service */
    ch_taint_sum fees;       /* forward: paid to miners */
    ch_taint_sum coinbase;   /* backward: came from newly mined coins */
    ch_taint_sum below_min;  /* dropped by min_amount */
    ch_taint_sum cut_hops;   /* not followed: next tx beyond max_hops */
    ch_taint_sum cut_window; /* not followed: next tx outside the window */
    ch_taint_sum returned;   /* flowed back into a source output */
    ch_taint_sum clean_in;   /* poison: clean input value of tainted txs */
    uint64_t edge_visits;    /* inputs + outputs examined by processed txs */
    uint64_t txs;            /* transactions processed */
    uint64_t outputs;        /* outputs holding taint (sources included) */
} ch_trace_totals;

void ch_trace_get_totals(const ch_trace *t, ch_trace_totals *out);

/* Landings, one per address, largest amount first (ties: lower address id). */
typedef struct ch_trace_landing {
    ch_addr_id addr;
    ch_label label;
    ch_taint_sum amount; /* summed over every output and path */
    uint32_t outputs;    /* landed outputs at this address (saturates at 2^32-1) */
    uint32_t hops;       /* fewest transactions from a source */
    uint64_t out;        /* the output reached in `hops` (for the path) */
} ch_trace_landing;

/* Holdings (forward), one per address (0 = outputs without an address),
 * largest first. */
typedef struct ch_trace_holding {
    ch_taint_sum amount; /* first: the 128-bit field sets the alignment */
    ch_addr_id addr;
    uint32_t outputs; /* saturates at 2^32-1 (one address's outputs: far fewer) */
} ch_trace_holding;

size_t ch_trace_landings(ch_trace *t, const ch_trace_landing **out);
size_t ch_trace_holdings(ch_trace *t, const ch_trace_holding **out);

/* The shortest path to a tainted output: the txs that created each output on
 * it, source first, so path[0] created the source output and path[n-1]
 * created `out`; n = hops + 1. Writes at most max, returns n (0 if `out`
 * holds no taint). */
size_t ch_trace_path(ch_trace *t, uint64_t out, uint64_t *path, size_t max);

/* Every tainted output, for graphs: the tx that created it, the tx that
 * consumed it in the trace (forward: its spender; backward: -1 for sources,
 * else the tx it was traced back from), its address and taint. */
typedef struct ch_trace_flow {
    uint64_t out;
    ch_addr_id addr;
    int64_t from_tx; /* creator */
    int64_t to_tx;   /* next tx in the trace, -1 when the trace stops here */
    uint64_t amount;
    uint32_t hops;
    bool landing;
} ch_trace_flow;

typedef int (*ch_trace_flow_fn)(const ch_trace_flow *f, void *ctx);
int ch_trace_foreach_flow(const ch_trace *t, ch_trace_flow_fn fn, void *ctx);

/* Carry an extendable forward trace that has run (no time window) on to
 * the transactions its store committed since it last ran or was extended
 * (a watcher's new blocks): outputs the new transactions pay to an address
 * source become sources, tainted coins held at outputs the new
 * transactions spend move on, and the new transactions are shared out as
 * the run would have. Afterwards the trace equals a fresh run over the
 * grown store: every total, landing and holding the same to the unit (the
 * shortest path may pick another source among sources of equal hops).
 * on_new (may be NULL) gets each tainted output the extension made, the
 * new sources first, in entry order; a non-zero return stops it and is
 * returned. -1 (err) when the store lost transactions since (a reorg: trace
 * again), the store is damaged, or out of memory. Landings, holdings and
 * paths asked for afterwards include what the extension added. A pending
 * trace reads the writer's pending records in place: after the store adds,
 * commits or cuts, extend it before asking it anything else. */
int ch_trace_extend(ch_trace *t, ch_trace_flow_fn on_new, void *ctx, ch_error *err);

/* ==== One front door for both kinds of chain ==========================
 *
 * ch_trace_exec runs the trace a store's kind calls for: the UTXO engine
 * above (ch_trace_*) on a Bitcoin store, the account walk (trace_account.h)
 * on an account chain's store. Its result speaks one language for both:
 * places (landings and holdings) per (address, asset) with amounts in whole
 * base units (satoshi, wei, token units) as u128, the tx, block and time a
 * landing arrived in, shortest paths, and the steps of the flow. One writer
 * (ch_trace_write) prints it as text, JSON, CSV, the edge list or DOT; the
 * contract is docs/trace.md. The engines' own calls stay for what needs
 * their detail (conservation terms per asset, flows in 1/8192 satoshi). */

struct ch_toktab;

typedef struct ch_trace_spec {
    const char *source;           /* UTXO: TXID, TXID:VOUT or an address; account: an 0x
                                     address or an 0x tx hash */
    ch_trace_policy policy;       /* account chains: poison, haircut or fifo */
    ch_trace_direction direction; /* */
    uint32_t max_hops;            /* 0 = no limit */
    uint64_t first_block;         /* block-number window [first, last]; 0 = open */
    uint64_t last_block;
    uint32_t since, until;   /* block-time window, unix seconds; 0 = open */
    ch_taint_sum min_amount; /* base units; smaller taint is dropped (below_min) */
    const char *stop_at;     /* stop categories, comma-separated; NULL = the default, "" = none */
    ch_labels *labels;       /* NULL: no landings; stays owned by the caller */
    /* display only */
    const char *chain; /* the store's chain name ("btc", "eth", "bsc"); NULL: btc/eth */
    const struct ch_toktab *tokens; /* symbols and decimals of tokens; may be NULL */
} ch_trace_spec;

void ch_trace_spec_init(ch_trace_spec *o);

/* A landing (coins at a stop address) or a holding (tainted coins left at
 * an unlabelled address), per (address, asset). */
typedef struct ch_trace_place {
    ch_taint_sum amount; /* whole base units (UTXO haircut: rounded down) */
    ch_addr_id addr;     /* address id; 0: outputs without an address */
    ch_addr_id asset;    /* 0: the chain's coin; else the token contract's address id */
    ch_label label;      /* landings: the label that stopped the trace; holdings: "" */
    uint32_t count;      /* outputs (UTXO) or transfers (account) it arrived in */
    uint32_t hops;       /* fewest hops from a source (UTXO holdings: 0, not tracked) */
    uint32_t frac;       /* UTXO haircut: the part below one satoshi, in 1/8192ths */
    bool landing;
    /* landings: where the shortest path arrived (what a freeze request names) */
    uint64_t tx;    /* tx number; CH_TRACE_NO_TX: none (an account withdrawal) */
    uint64_t block; /* block number */
    uint32_t time;  /* block time, unix seconds */
    uint64_t ref;   /* engine's handle: the output (UTXO) or transfer (account) */
} ch_trace_place;

#define CH_TRACE_NO_TX UINT64_MAX

/* One step of the flow: value moved by tx `tx` to address `to`.
 * UTXO: every tainted output (the tx that created it, its address, its
 * taint, the next tx the trace followed or CH_TRACE_NO_TX). Account chains:
 * every transfer on the shortest paths to the landings and holdings (from,
 * to, its value; the taint per transfer is not kept by the walk:
 * tainted_known is false). */
typedef struct ch_trace_step {
    ch_taint_sum value;  /* the output's or transfer's value, base units */
    ch_taint_sum amount; /* its taint, whole base units (when tainted_known) */
    uint64_t tx, next_tx;
    uint64_t ref; /* output (UTXO) or transfer (account) */
    ch_addr_id from, to, asset;
    uint32_t hops;
    bool tainted_known, swap, landing;
} ch_trace_step;

typedef struct ch_trace_result ch_trace_result;

/* Run the trace spec asks for on s (opened for reading). Returns 1 and
 * *out, 0 when the source is not in the store (err says which), -1 when
 * malformed or on error. */
int ch_trace_exec(ch_store *s, const ch_trace_spec *spec, ch_trace_result **out, ch_error *err);
void ch_trace_result_free(ch_trace_result *r);

/* The totals of one asset, in whole base units (the UTXO chain has one,
 * asset 0). Terms an engine does not have are 0 (see docs/trace.md). */
typedef struct ch_trace_sums {
    ch_addr_id asset;
    ch_taint_sum source, landed, held, fees, below_min, cut_hops, cut_window, returned, coinbase,
        clean_in, swapped_in, swapped_out, burned, minted, unknown;
} ch_trace_sums;

bool ch_trace_result_is_account(const ch_trace_result *r);
const ch_trace_spec *ch_trace_result_spec(const ch_trace_result *r);
ch_store *ch_trace_result_store(const ch_trace_result *r);
size_t ch_trace_result_sums(const ch_trace_result *r, const ch_trace_sums **out);
/* The asset with the largest source (the theft's asset), its sums. */
const ch_trace_sums *ch_trace_result_main(const ch_trace_result *r);
size_t ch_trace_result_landings(const ch_trace_result *r, const ch_trace_place **out);
/* The holdings as one array. A wide Bitcoin trace holds a million: the
 * result keeps them as a view over the engine's own list and builds this
 * array (about 100 bytes a holding) on the first call, kept until
 * ch_trace_result_free (0 and *out NULL when out of memory; the first call
 * must not race another on the same result). To read them without that
 * copy, use the two calls below. */
size_t ch_trace_result_holdings(const ch_trace_result *r, const ch_trace_place **out);
/* How many holdings, and holding i (i < that count) filled into *out, in
 * the order of ch_trace_result_holdings, without building the array. */
size_t ch_trace_result_n_holdings(const ch_trace_result *r);
void ch_trace_result_holding(const ch_trace_result *r, size_t i, ch_trace_place *out);
/* edge_visits, txs, and: UTXO tainted outputs; account transfers, pools, swaps */
typedef struct ch_trace_counts {
    uint64_t edge_visits, txs, outputs, transfers, pools, swaps;
} ch_trace_counts;
void ch_trace_result_counts(const ch_trace_result *r, ch_trace_counts *out);

/* The shortest path to a place, source first, as txs (path[i].tx) and, on
 * account chains, whether the step was a swap. Writes at most max, returns
 * the length. */
typedef struct ch_trace_hop {
    uint64_t tx;  /* CH_TRACE_NO_TX: an account withdrawal (ref names it) */
    uint64_t ref; /* account: the transfer */
    bool swap;
} ch_trace_hop;
size_t ch_trace_result_path(ch_trace_result *r, const ch_trace_place *p, ch_trace_hop *path,
                            size_t max);

typedef int (*ch_trace_step_fn)(const ch_trace_step *st, void *ctx);
/* Every step (see ch_trace_step), in the engine's order; stops when fn
 * returns non-zero and returns that. */
int ch_trace_result_foreach_step(ch_trace_result *r, ch_trace_step_fn fn, void *ctx);

/* Naming things for output. A tx: 64 hex (UTXO: the txid as written; account:
 * "0x" + the hash), "withdrawal:N" for an account withdrawal (hop.ref = N).
 * out needs 80 bytes. */
const char *ch_trace_hop_str(const ch_trace_result *r, const ch_trace_hop *h, char out[80]);
/* An asset's unit: the chain's coin ("BTC", "ETH", "BNB", ...) with its
 * decimals, a token's symbol and decimals from the token table, else the
 * contract's 0x address and decimals -1 (unknown). out needs 128 bytes. */
const char *ch_trace_asset_name(const ch_trace_result *r, ch_addr_id asset, int *decimals,
                                char out[128]);
/* The chain's own coin by chain name: "btc" BTC, "bsc" BNB, "polygon" POL,
 * ..., other account chains ETH. */
const char *ch_chain_native_symbol(const char *chain, bool account);

typedef enum ch_trace_format {
    CH_TRACE_TEXT = 0, /* a summary for people */
    CH_TRACE_JSON,     /* one object (docs/trace.md) */
    CH_TRACE_CSV,      /* the landings */
    CH_TRACE_EDGES,    /* the steps as an edge list (CSV) */
    CH_TRACE_DOT,      /* Graphviz */
} ch_trace_format;

/* Write r in format f. 0, or -1 when out reports a write error. */
int ch_trace_write(ch_trace_result *r, ch_trace_format f, FILE *out);

/* Labels for a run in one call: the attribution store DIR/intel when db is
 * given and it exists (owned by the labels, closed by ch_labels_free), the
 * stop categories preferred among its attributions, then each CSV file. If
 * the attribution store exists but cannot be opened it is left out and
 * warn->msg says why (warn may be NULL); other failures are errors. */
int ch_labels_open(ch_store *s, const char *db, const char *stop_at, const char *const *csv,
                   size_t n_csv, ch_labels **out, ch_error *warn, ch_error *err);

/* 128-bit amounts as decimal strings: base units ("1500000000000000000"),
 * and with decimals ("1.5"). out needs 48 bytes. */
const char *ch_u128_str(ch_taint_sum v, char out[48]);
/* The reverse: decimal digits only (no sign, no spaces, no point), at most
 * 2^128 - 1. 0, or -1 when s is not such a number. */
int ch_u128_parse(const char *s, ch_taint_sum *out);
/* Set o->min_amount from a decimal string of base units, as a door that
 * speaks JSON or Python receives it (128-bit amounts have no portable
 * integer type there). 0, or -1 with err naming the text. */
int ch_trace_spec_set_min_amount(ch_trace_spec *o, const char *base_units, ch_error *err);
const char *ch_u128_decimals_str(ch_taint_sum v, int decimals, char out[48]);

/* An amount in units as decimal satoshi: "123", "0.5", "12.0001220703125"
 * (exact: 1/8192 has 13 decimal digits). out needs 64 bytes. */
const char *ch_taint_str(ch_taint_sum v, char out[64]);
/* Whole satoshi (rounded down) and as a double, for comparisons. */
static inline uint64_t ch_taint_sat(ch_taint_sum v) {
    return (uint64_t)(v >> CH_TAINT_FRAC_BITS);
}
static inline double ch_taint_double(ch_taint_sum v) {
    return (double)v / (double)CH_TAINT_ONE;
}

#ifdef __cplusplus
}
#endif

#endif

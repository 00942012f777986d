/* coinhound: address clustering (Bitcoin).
 *
 * Addresses that are spent together in one transaction are taken to belong
 * to one owner (the multi-input heuristic, Meiklejohn et al. "A Fistful of
 * Bitcoins"); optionally a transaction's one-time change address joins its
 * inputs' owner too. Coinbases and CoinJoins are skipped: a CoinJoin's inputs
 * belong to many people, and merging them would weld unrelated wallets into
 * one giant cluster.
 *
 * Inside, addresses are slots: slot = ch_store_addr_index(id) + 1 (1..N,
 * 0 for "no address"), the store's dense numbering. Outside, clusters are
 * named by store address ids: a cluster's id is the smallest address id in
 * it (the store's dense index orders ids as numbers), so the same chain
 * always gives the same cluster ids.
 *
 * The result is durable, beside the chain store, in DIR/btc/clusters.col:
 *
 *   header   200 bytes (ch_cluster_meta, the store state it was built from:
 *            block count and tip hash; the count of 20-byte addresses at
 *            build time, magic, version and checksums; the largest
 *            cluster as its slot)
 *   cid      uint32 per slot 0..N: the slot of the cluster's smallest member
 *            (its name); cid[0] = 0 stands for "no address"
 *   size     uint32 per slot: the cluster's size at the slot of the member
 *            that names it, 0 elsewhere
 *   next     uint32 per slot: the slot of the next member of the same
 *            cluster in ascending order, 0 after the last; the members of a
 *            cluster are its name, then next, next, ...
 *
 * Format 3 keeps slots where format 2 kept address ids (which no longer fit
 * 32 bits, ch_addr_id): a reader turns a slot back into an id with the
 * header's count of 20-byte addresses. A format 2 file is refused with
 * "rebuild it". Slots are 32-bit, so a build refuses a store of 2^32-1
 * addresses or more (as before).
 *
 * The file is written to a temporary name, fsynced and renamed, so a reader
 * sees the old file or the new one, never half of one. A rebuild after the
 * store has grown rebuilds from scratch (a pass over the chain is cheap).
 * Addresses newer than the file are singletons until the next build. A file
 * built from a state a reorg has since replaced names addresses the store
 * no longer has, or other ones: ch_clusters_check refuses it. */
#ifndef COINHOUND_CLUSTER_H
#define COINHOUND_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coinhound/error.h"
#include "coinhound/chainaddr.h"
#include "coinhound/intel.h"
#include "coinhound/store.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ch_jw; /* coinhound/jsonw.h: the JSON writer the doors share */

#define CH_CLUSTER_FILE "clusters.col"

/* ---- CoinJoin detection -------------------------------------------------
 * Rules (methods.md):
 *  generic (BlockSci): >= 2 inputs, >= 3 outputs; n = ceil(outputs / 2) is at
 *    most the number of inputs and of distinct input addresses; the most
 *    common output value (ties: the larger value) occurs exactly n times and
 *    is not a dust value (546 or 2730 sat).
 *  Wasabi 1.0: >= 10 inputs; some value within 0.1 BTC +/- 0.005 BTC occurs
 *    in at least 3 outputs.
 *  Wasabi 2.0: >= 20 inputs; every output >= 5,000 sat; at least 3 distinct
 *    values occur more than once, and the outputs carrying such repeated
 *    values number at least (outputs - 1) / 2.
 *  Whirlpool: 5 to 8 inputs and as many outputs, every output equal to one
 *    pool size d (100k, 1M, 5M or 50M sat), every input within
 *    [d, d + 110,000] sat.
 *  JoinMarket: the most frequent output value above 2,730 sat (ties: the
 *    larger) occurs n times with 2n >= outputs, 3 <= n <= distinct input
 *    addresses, and at least one other (change) output.
 * Distinct input addresses count inputs without an address (non-standard
 * scripts) as distinct from each other. */
typedef enum ch_coinjoin_rule {
    CH_CJ_NONE = 0,
    CH_CJ_GENERIC,
    CH_CJ_WASABI1,
    CH_CJ_WASABI2,
    CH_CJ_WHIRLPOOL,
    CH_CJ_JOINMARKET,
    CH_CJ_COUNT
} ch_coinjoin_rule;

/* "generic", "wasabi1", "wasabi2", "whirlpool", "joinmarket" ("none"). */
const char *ch_coinjoin_rule_name(ch_coinjoin_rule r);

/* A transaction reduced to what the rules look at. in_addr may hold 0 for
 * inputs without an address. */
typedef struct ch_tx_shape {
    size_t n_in;
    const uint64_t *in_value;
    const ch_addr_id *in_addr;
    size_t n_out;
    const uint64_t *out_value;
} ch_tx_shape;

/* Every rule the transaction meets, as a mask of (1u << rule). */
unsigned ch_coinjoin_rules(const ch_tx_shape *t);
/* The one rule reported for a transaction that meets several: the most
 * specific first (Whirlpool, Wasabi 1.0, Wasabi 2.0, JoinMarket, generic).
 * CH_CJ_NONE when none fires. */
ch_coinjoin_rule ch_coinjoin_classify(const ch_tx_shape *t);
/* The same for stored transaction tx (a coinbase is never a CoinJoin).
 * Returns 0 with *rule set, -1 on allocation failure. */
int ch_coinjoin_detect(const ch_store *s, uint64_t tx, ch_coinjoin_rule *rule, ch_error *err);

/* ---- Building ------------------------------------------------------------ */
enum {
    CH_CLUSTER_MULTI_INPUT = 1u << 0, /* always set */
    CH_CLUSTER_CHANGE = 1u << 1,      /* one-time change heuristic was on */
    CH_CLUSTER_DEPOSIT = 1u << 2,     /* an account chain's deposit-address clustering */
};

typedef struct ch_cluster_opts {
    /* One-time change (Meiklejohn): in a non-coinbase, non-CoinJoin tx with at
     * least two outputs, no output address among the input addresses, and
     * exactly one output whose address appears there for the first time in
     * the chain, that output's address joins the inputs' cluster. (A tx with
     * a single output has no change: that guard is ours.) */
    bool change;
    int progress; /* 1 on, 0 off, -1 when stderr is a terminal */
    bool wait;    /* ch_cluster_build: wait for the store's writer (else fail at once) */
} ch_cluster_opts;

/* What a build found; also kept in the file's header. */
typedef struct ch_cluster_meta {
    uint32_t flags;        /* CH_CLUSTER_* */
    uint64_t addresses;    /* addresses covered (slots 1..addresses) */
    uint64_t txs, inputs;  /* chain covered */
    uint64_t clusters;     /* including singletons */
    ch_addr_id largest;    /* id (an address id) of the largest */
    uint32_t largest_size; /* and its size */
    /* CoinJoins skipped: [0] all of them, [rule] those that rule fired on
     * (a tx meeting several rules counts under each) */
    uint64_t coinjoins[CH_CJ_COUNT];
    uint64_t merged_inputs; /* inputs of the txs whose addresses were merged;
                               deposit clustering: U -> D -> E links found */
    uint64_t change_links;  /* change outputs joined to their inputs */
    uint64_t deposit_addrs; /* deposit clustering: deposit addresses D found */
    uint64_t customers;     /* deposit clustering: distinct customers U */
} ch_cluster_meta;

/* The clustering of an open store, in memory: *cid_out gets a malloc'ed
 * array of meta->addresses + 1 entries, indexed by slot, each the slot of
 * the cluster's smallest member ([0] = 0). The store must have nothing
 * pending. *seconds (may be NULL) is the time of the pass. */
int ch_cluster_compute(const ch_store *s, const ch_cluster_opts *o, uint32_t **cid_out,
                       ch_cluster_meta *meta, double *seconds, ch_error *err);

/* Cluster the store in dbdir and write dbdir/btc/clusters.col atomically. */
int ch_cluster_build(const char *dbdir, const ch_cluster_opts *o, ch_cluster_meta *meta,
                     double *seconds, ch_error *err);

/* ---- Deposit addresses (account chains) ------------------------------------
 * Victor, "Address Clustering Heuristics for Ethereum" (FC 2020): exchanges
 * give each customer a deposit address D that forwards to the exchange's
 * wallet E. For every transfer D -> E (E a known exchange address; D not
 * one, or one labelled with E's own exchange: labelled deposit addresses),
 * an earlier transfer U -> D of the same asset, at most `window`
 * blocks before it, with 0 <= v_in - v_out <= max_diff_wei (native coin) or
 * <= token_max_diff units (tokens; default 0, the same amount), makes D a
 * deposit address and U a customer; all customers of one D are one entity
 * (union-find). D and E are not put in the customers' cluster (D belongs to
 * the exchange). Only value transfers count (native, internal, ERC-20);
 * U, D and E are never the zero address, U is not an exchange and U != D.
 *
 * The result is the same cluster file as Bitcoin's, in DIR/<chain>/: txs
 * holds the transfers covered, merged_inputs the U -> D -> E links, with
 * deposit_addrs and customers. 'coinhound cluster ADDR --chain eth' reads it. */
#define CH_DEPOSIT_DEFAULT_WINDOW   3200u
#define CH_DEPOSIT_DEFAULT_MAX_DIFF 10000000000000000ULL /* 0.01 ETH in wei */
#define CH_DEPOSIT_DEFAULT_WALK     100000u

typedef struct ch_deposit_opts {
    uint32_t window;         /* blocks; 0: CH_DEPOSIT_DEFAULT_WINDOW */
    uint64_t max_diff_wei;   /* 0: CH_DEPOSIT_DEFAULT_MAX_DIFF */
    uint64_t token_max_diff; /* token units; 0: equal amounts only */
    uint32_t max_walk;       /* transfers of D looked back per D -> E; 0: default */
    int progress;            /* 1 on, 0 off, -1 when stderr is a terminal */
    bool wait;               /* ch_deposit_build: wait for the store's writer (else fail) */
} ch_deposit_opts;

/* The deposit clustering of an open account store (nothing pending), with
 * exchange address ids exch[0..n_exch) and their entities (numbers, equal
 * for one exchange, 0 unknown; entity may be NULL: all unknown); *cid_out
 * as ch_cluster_compute. */
int ch_deposit_compute(const ch_store *s, const ch_deposit_opts *o, const ch_addr_id *exch,
                       const uint32_t *entity, size_t n_exch, uint32_t **cid_out,
                       ch_cluster_meta *meta, double *seconds, ch_error *err);

/* Exchange addresses of an account store: attributions of category
 * "exchange" in dbdir/intel (when present; dbdir may be NULL) and rows of
 * CSV files (header naming address and category, optionally entity;
 * category "exchange", any case). *ids gets a malloc'ed array of the
 * address ids the store has, sorted, and *entity (malloc'ed, parallel) a
 * number per entity name (any case; 0 when none is given). */
int ch_deposit_exchanges(ch_store *s, const char *dbdir, const char *const *csv, size_t n_csv,
                         ch_addr_id **ids, uint32_t **entity, size_t *n_out, ch_error *err);

/* Open dbdir/<chain>, find its exchanges, cluster, and write
 * dbdir/<chain>/clusters.col atomically. *n_exch (may be NULL) gets how
 * many exchange addresses the store has. */
int ch_deposit_build(const char *dbdir, const char *chain, const ch_deposit_opts *o,
                     const char *const *csv, size_t n_csv, ch_cluster_meta *meta, size_t *n_exch,
                     double *seconds, ch_error *err);

/* ---- Reading ------------------------------------------------------------- */
typedef struct ch_clusters ch_clusters;

/* Open dbdir/btc/clusters.col (memory-mapped). A missing file says to run
 * 'coinhound cluster build'; a truncated or corrupted one fails with what is
 * wrong (both checksums are verified on open). */
int ch_clusters_open(const char *dbdir, ch_clusters **out, ch_error *err);
/* The same for dbdir/<chain>/clusters.col ("btc", "eth", ...). */
int ch_clusters_open_chain(const char *dbdir, const char *chain, ch_clusters **out, ch_error *err);
void ch_clusters_close(ch_clusters *c);
const ch_cluster_meta *ch_clusters_meta(const ch_clusters *c);

/* Whether c may be read with store s: 0 when it was built from s's state
 * or from an earlier one that s extends (addresses newer than the file are
 * singletons); -1 when it was built from a state s no longer holds (a reorg
 * replaced the block it was built at, or s is shorter), err saying so and
 * how to rebuild it. */
int ch_clusters_check(const ch_clusters *c, const ch_store *s, ch_error *err);
/* ch_clusters_open_chain, then ch_clusters_check against s (closed again
 * when it fails). */
int ch_clusters_open_for(const ch_store *s, const char *dbdir, const char *chain, ch_clusters **out,
                         ch_error *err);

/* Cluster id of store address id addr (0 for 0; addr itself when the
 * address is newer than the file). */
ch_addr_id ch_cluster_of(const ch_clusters *c, ch_addr_id addr);
/* Size of the cluster containing address id addr. */
uint32_t ch_cluster_size(const ch_clusters *c, ch_addr_id addr);
/* Up to max members (address ids) of addr's cluster, smallest id first;
 * returns how many were written. */
size_t ch_cluster_members(const ch_clusters *c, ch_addr_id addr, ch_addr_id *out, size_t max);

/* ---- Labels through the cluster (for screening) --------------------------
 * "A label on one member speaks for the cluster": for a BTC address, the
 * attributions (from the attribution store) of the OTHER members of its
 * cluster. Each comes with the member that carries it, so a verdict can say
 * "labelled via cluster member X", never as a direct hit on the address.
 * The address's own labels are not reported here (screen looks them up
 * directly). The callback returns non-zero to stop. */
typedef int (*ch_cluster_label_fn)(const char *member, const ch_attribution *a, void *ctx);

typedef struct ch_cluster_hit {
    ch_addr_id cluster; /* cluster id (0: the address is not in the store) */
    uint32_t size;      /* members, the address included */
    uint64_t labelled;  /* attributions reported */
} ch_cluster_hit;

/* With handles already open (intel may be NULL: nothing to report). The
 * smaller side is walked: the cluster's members, or the attribution store's
 * addresses when the cluster is bigger than it. Returns 0, -1 on error. */
int ch_cluster_labels(ch_store *s, const ch_clusters *c, ch_intel *intel, const char *canonical,
                      ch_cluster_label_fn fn, void *ctx, ch_cluster_hit *hit, ch_error *err);
/* Cluster labels precomputed per cluster, for screening many addresses:
 * which members of which cluster carry attributions, found with one pass
 * over the attribution store. ch_cluster_labels walks a cluster's members
 * (or the whole attribution store, when the cluster is larger) for every
 * address asked about: about 70 addresses a second on a store with a large
 * labelled cluster. With the index an address costs a look-up of its
 * cluster and of its labelled fellow members only.
 *
 * ch_cluster_labels_indexed reports what ch_cluster_labels reports, in the
 * same order, with one exception: a member whose only attributions are
 * copies its source lower-cased (Base58 with its case lost, matched
 * case-insensitively by ch_intel_lookup) is not in the index. The index is
 * a snapshot: attributions imported, or addresses ingested, after it was
 * built are not in it, nor counted in the attribution store's size, which
 * chooses the walk's order (build it again). */
typedef struct ch_cluster_label_index ch_cluster_label_index;
/* One pass over intel's attributions (s and c as for ch_cluster_labels).
 * 0 and *out, or -1 (out of memory, a read error). */
int ch_cluster_label_index_build(ch_store *s, const ch_clusters *c, ch_intel *intel,
                                 ch_cluster_label_index **out, ch_error *err);
void ch_cluster_label_index_free(ch_cluster_label_index *x);
/* Labelled members (attributions), how many the index holds, in clusters. */
void ch_cluster_label_index_counts(const ch_cluster_label_index *x, uint64_t *members,
                                   uint64_t *attributions, uint64_t *clusters);
/* Where canonical sits: *cluster and *size as ch_cluster_hit has them, and
 * whether x holds an attribution of the address itself (when not, what its
 * fellow members say is the same for every unlabelled member of the
 * cluster: a caller may keep it per cluster). 1, 0 when the address is not
 * in the store, -1 on error. */
int ch_cluster_label_index_where(ch_store *s, const ch_clusters *c, const ch_cluster_label_index *x,
                                 const char *canonical, ch_addr_id *cluster, uint32_t *size,
                                 bool *labelled, ch_error *err);
/* The same, with the address's id (*id 0 when not in the store). */
int ch_cluster_label_index_where_id(ch_store *s, const ch_clusters *c,
                                    const ch_cluster_label_index *x, const char *canonical,
                                    ch_addr_id *id, ch_addr_id *cluster, uint32_t *size,
                                    bool *labelled, ch_error *err);
/* Every attribution the index's members of `cluster` (of `size` members)
 * carry, in ch_cluster_labels' order, but those of member `exclude` (0:
 * none): fn gets the member's id too. *reported counts them. 0, -1 on
 * error (a nonzero fn stops the walk: 0). */
typedef int (*ch_cluster_member_label_fn)(ch_addr_id member, const char *member_str,
                                          const ch_attribution *a, void *ctx);
int ch_cluster_label_index_walk(ch_store *s, const ch_clusters *c, ch_intel *intel,
                                const ch_cluster_label_index *x, ch_addr_id cluster, uint32_t size,
                                ch_addr_id exclude, ch_cluster_member_label_fn fn, void *ctx,
                                uint64_t *reported, ch_error *err);
/* ch_cluster_labels through x (built from the same s, c and intel). */
int ch_cluster_labels_indexed(ch_store *s, const ch_clusters *c, ch_intel *intel,
                              const ch_cluster_label_index *x, const char *canonical,
                              ch_cluster_label_fn fn, void *ctx, ch_cluster_hit *hit,
                              ch_error *err);

/* The same from a database directory: opens DIR/btc, its cluster file and
 * DIR/intel, and closes them. A missing cluster file or attribution store is
 * not an error: nothing is reported (hit->cluster = 0). */
int ch_cluster_labels_dir(const char *dbdir, const char *canonical, ch_cluster_label_fn fn,
                          void *ctx, ch_cluster_hit *hit, ch_error *err);

/* ---- One address's cluster, as `coinhound cluster ADDR --json` shows it --
 * (and GET /v1/cluster/{address}): its id (the smallest address id in it),
 * the member that id names, its size, the labels of its members (the
 * attribution store's current ones; the caller may add more) and its first
 * members. */
typedef struct ch_cluster_label_row {
    char address[CH_ADDR_STR_MAX];
    char category[32], entity[128], source[256];
} ch_cluster_label_row;

typedef struct ch_cluster_view {
    char canonical[CH_ADDR_STR_MAX]; /* the address as the store's chain writes it */
    ch_addr_id id, cluster;
    uint32_t size;
    char cluster_address[CH_ADDR_STR_MAX]; /* the member named by the cluster id, or "" */
    const char *heuristics;                /* "multi-input", "multi-input,change", ... */
    uint64_t covered, have; /* txs (transfers) the file was built from, and the store's */
    ch_cluster_label_row *labels;
    size_t n_labels, cap_labels;
    ch_addr_id *members;
    size_t n_members;
} ch_cluster_view;

/* The cluster of address (a Bitcoin address, or 0x + 40 hex on an account
 * store) with up to max_members members (0: all) and the current labels of
 * intel (may be NULL) on it and on its members. 1 found, 0 the address
 * never appears (canonical filled), -1 not a valid address or an error
 * (err). Free with ch_cluster_view_free (also after 0 and -1). */
int ch_cluster_view_get(ch_store *s, const ch_clusters *c, ch_intel *intel, const char *address,
                        size_t max_members, ch_cluster_view *out, ch_error *err);
/* One more label (from a CSV the caller read). 0, -1 out of memory. */
int ch_cluster_view_label(ch_cluster_view *v, const char *address, const char *category,
                          const char *entity, const char *source);
/* Put the address's own labels first, in their order (stable; called by
 * the writer). */
void ch_cluster_view_order(ch_cluster_view *v);
/* The view as one JSON object; max_labels limits the labels (0: all:
 * labels_count says how many there are). */
void ch_cluster_view_json(ch_cluster_view *v, const ch_store *s, size_t max_labels,
                          struct ch_jw *w);
void ch_cluster_view_free(ch_cluster_view *v);

#ifdef __cplusplus
}
#endif

#endif

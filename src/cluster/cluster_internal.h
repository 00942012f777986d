/* The clustering part's insides: shared by the files of src/cluster only. */
#ifndef COINHOUND_CLUSTER_INTERNAL_H
#define COINHOUND_CLUSTER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "coinhound/cluster.h"

/* The store packs a tx's first input into the low 40 bits of first_in_size
 * (store.h). */
#define CL_FIRST_IN(t) ((t)->first_in_size & ((1ULL << 40) - 1))

/* Reusable buffers for the CoinJoin rules, so the chain pass does not
 * allocate per transaction. Zero-initialise; free with cl_scratch_free. */
typedef struct cl_scratch {
    uint64_t *vals;    /* sorted output values */
    ch_addr_id *addrs; /* sorted input addresses */
    size_t cap_vals, cap_addrs;
} cl_scratch;

void cl_scratch_free(cl_scratch *sc);
/* Could any rule fire on a tx with this many inputs and outputs? When not,
 * its output values need not even be read. */
bool cl_coinjoin_possible(uint64_t n_in, uint64_t n_out);
/* ch_coinjoin_rules with caller-owned buffers; -1 on allocation failure. */
int cl_coinjoin_rules(const ch_tx_shape *t, cl_scratch *sc, unsigned *mask);
/* The most specific rule in a mask (the order of ch_coinjoin_classify). */
ch_coinjoin_rule cl_pick_rule(unsigned mask);

/* ---- union-find over address slots (the store's dense index + 1) ----
 * Linking by index: of two roots, the larger joins the smaller, so every
 * slot's parent is at most the slot itself and each root is the smallest
 * slot of its set, which is the name a cluster gets anyway. Naming then
 * needs no search (cl_name_clusters), and no rank array is kept; with path
 * halving the trees stay shallow in practice. */
typedef struct uf {
    uint32_t *parent; /* parent[x] <= x; parent[x] == x: a root */
} uf;

static inline uint32_t uf_find(uint32_t *p, uint32_t x) {
    while (p[x] != x) {
        p[x] = p[p[x]]; /* path halving: every other node skips to its grandparent */
        x = p[x];
    }
    return x;
}

static inline void uf_union(uf *u, uint32_t a, uint32_t b) {
    a = uf_find(u->parent, a);
    b = uf_find(u->parent, b);
    if (a < b)
        u->parent[b] = a;
    else if (b < a)
        u->parent[a] = b;
}

/* Turn the union-find parents cid[0..n_addr] (linked by index, as uf_union
 * does) into cluster names (each slot -> the slot of its cluster's smallest
 * member) and fill meta's clusters, largest and largest_size. */
void cl_name_clusters(const ch_store *s, uint32_t *cid, uint32_t n_addr, ch_cluster_meta *meta);

/* ---- the file ---- */
#define CL_MAGIC "CHCLUST\x01"
/* 2: the store state it was built from; 3: slots, not address ids, in the
 * arrays and the header (address ids outgrew 32 bits: store format 4) */
#define CL_VERSION 3u

/* On-disk header: 200 bytes, little-endian (as the machine writes it). */
typedef struct cl_header {
    char magic[8];
    uint32_t version;
    uint32_t flags;
    uint64_t addresses;
    uint64_t txs, inputs;
    uint64_t clusters;
    uint32_t largest, largest_size;  /* the largest cluster's slot, its size */
    uint64_t coinjoins[CH_CJ_COUNT]; /* 6 */
    uint64_t merged_inputs;
    uint64_t change_links;
    uint64_t narrow;       /* addresses without CH_ADDR_ID_WIDE: slots 1..narrow */
    uint64_t reserved[2];  /* deposit addresses, customers (account chains) */
    uint64_t built_blocks; /* the store's committed blocks when built */
    uint8_t built_tip[32]; /* and the hash of the last of them */
    uint64_t body_sum;     /* checksum of the three arrays */
    uint64_t header_sum;   /* checksum of the bytes above */
} cl_header;

_Static_assert(sizeof(cl_header) == 200, "cluster header layout");
#define CL_HEADER_BYTES sizeof(cl_header)

/* 64-bit FNV-1a over 8-byte words (a tail is zero-padded): a checksum
 * against torn or flipped bytes, not against an adversary. */
uint64_t cl_checksum(uint64_t h, const void *data, size_t len);
#define CL_SUM_INIT 0xcbf29ce484222325ULL

/* Write the file for the slot clustering cid[0..n] of store s (computes
 * sizes and member links, turns slots into address ids) to
 * dbdir/<chain>/clusters.col via a temporary file, fsync and rename
 * (cl_write_file: chain "btc"). */
struct ch_writer_lock;
/* Start a build of dbdir/<chain>'s cluster file: take the store's writer
 * lock (one writer at a time; wait for it or fail naming its holder) and
 * remove the temporary files a killed build left. *lock is NULL when the
 * store does not exist (opening it then says so). */
int cl_build_begin(const char *dbdir, const char *chain, bool wait, struct ch_writer_lock **lock,
                   ch_error *err);
int cl_write_file(const char *dbdir, const ch_store *s, const uint32_t *cid,
                  const ch_cluster_meta *meta, ch_error *err);
int cl_write_file_chain(const char *dbdir, const char *chain, const ch_store *s,
                        const uint32_t *cid, const ch_cluster_meta *meta, ch_error *err);

/* The member (address id) after m in its cluster, 0 after the last. */
ch_addr_id cl_next_member(const ch_clusters *c, ch_addr_id m);
/* m's slot in the cluster file (0: not in it). A cluster's members are
 * chained in slot order: cl_next_member walks them by increasing slot. */
uint32_t cl_slot_of(const ch_clusters *c, ch_addr_id m);

#endif

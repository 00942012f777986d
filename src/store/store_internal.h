/* The store's insides, shared by its files and by no one else. */
#ifndef COINHOUND_STORE_INTERNAL_H
#define COINHOUND_STORE_INTERNAL_H

#include <lmdb.h>

#include "coinhound/store.h"
#include "store/column.h"
#include "store/hotmap.h"

typedef struct ch_u64_list {
    uint64_t *v;
    size_t n, cap;
} ch_u64_list;

int ch_u64_push(ch_u64_list *l, uint64_t x);

enum { COL_BLOCKS, COL_TXS, COL_TXIDS, COL_INS, COL_OUTS, COL_OUTPREV, COL_ADDRS, COL_COUNT };

/* outprev value meaning "the distance did not fit; see the farprev table" */
#define CH_OUTPREV_FAR UINT32_MAX

struct ch_store {
    char dir[4096];
    bool writable;
    ch_col col[COL_COUNT];
    MDB_env *env;
    MDB_dbi db_txid, db_addr, db_block, db_farprev, db_meta;
    MDB_txn *rtxn; /* long-lived read transaction, renewed after each commit */

    /* writer state */
    ch_hotmap tx_hot;       /* txid key -> tx number (every pending tx, plus a cache) */
    ch_hotmap addr_hot;     /* address key -> id, last output (every pending or dirty one) */
    bool tx_hot_complete;   /* every committed txid key is in tx_hot */
    bool addr_hot_complete; /* every committed address key is in addr_hot */
    bool in_block;
    uint64_t block_first_tx;
    uint64_t cur_tx; /* tx being added (UINT64_MAX: none) */
    /* index entries waiting for the commit's LMDB transaction */
    ch_u64_list new_tx_keys;     /* tx_hot keys added since the last commit */
    ch_u64_list dirty_addr_keys; /* addr_hot keys new or moved since then */
    ch_u64_list far_pend;        /* pairs (output, previous output) too far apart */
};

/* Index keys: a 64-bit prefix of the item, probed upward on collision. */
uint64_t ch_store_txid_key(const ch_hash256 *txid);
uint64_t ch_store_addr_key(const ch_addr *a);

/* LMDB helpers over the long-lived read transaction. */
int ch_store_index_get(ch_store *s, MDB_dbi dbi, uint64_t key, MDB_val *val, ch_error *err);
int ch_store_renew_read(ch_store *s, ch_error *err);

/* Record <-> address. */
void ch_store_addr_to_rec(const ch_addr *a, ch_addr_rec *r);
bool ch_store_addr_rec_equal(const ch_addr_rec *r, const ch_addr *a);

/* Committed lengths in the "meta" table. */
int ch_store_write_lengths(ch_store *s, MDB_txn *txn, ch_error *err);

/* The "addr" table's value. */
typedef struct ch_addr_val {
    uint32_t id;
    uint32_t pad;
    uint64_t last_out;
} ch_addr_val;

#endif

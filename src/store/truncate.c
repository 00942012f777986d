/* Cutting the chain back to a height (a reorg of the tip).
 *
 * Order matters for crash safety: (1) one LMDB transaction removes the cut
 * blocks' index keys, moves address heads back and records the shorter
 * lengths; (2) the column files are cut; (3) the spent marks that the cut
 * transactions left on older outputs are cleared. A crash after (1) leaves
 * marks that name transactions past the committed count: readers already
 * ignore them and the next writer clears them (store.c). */
#include "store/store_internal.h"

#include <stdlib.h>
#include <string.h>

static int del_u64(MDB_txn *txn, MDB_dbi dbi, uint64_t key) {
    MDB_val k = {sizeof key, &key};
    int rc = mdb_del(txn, dbi, &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Remove tx's entry from the txid index. */
static int drop_txid(ch_store *s, MDB_txn *txn, uint64_t tx) {
    ch_hash256 txid;
    ch_store_txid(s, tx, &txid);
    uint64_t key = ch_store_txid_key(&txid);
    uint32_t bucket = ch_idx_bucket(key);
    uint64_t item = (uint64_t)ch_idx_fp(key) << 32 | tx;
    MDB_val k = {sizeof bucket, &bucket}, d = {sizeof item, &item};
    int rc = mdb_del(txn, s->db_txid, &k, &d);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The previous output of the same address, reading far links through the
 * write transaction (the read one is parked during a truncation). */
static int64_t prev_same_addr(ch_store *s, MDB_txn *txn, uint64_t out) {
    uint32_t d = *(const uint32_t *)ch_col_at(&s->col[COL_OUTPREV], out);
    if (d != CH_OUTPREV_FAR) return d == 0 ? -1 : (int64_t)(out - d);
    MDB_val k = {sizeof out, &out}, v;
    if (mdb_get(txn, s->db_farprev, &k, &v) != 0) return -1;
    uint64_t prev;
    memcpy(&prev, v.mv_data, 8);
    return (int64_t)prev;
}

/* Is the address id one created past the cut (per class)? */
static bool created_past(uint32_t id, uint32_t cut20, uint32_t cut32) {
    return (id & CH_ADDR_ID_WIDE) ? id >= cut32 : id >= cut20;
}

static int cut_indexes(ch_store *s, MDB_txn *txn, uint32_t height, uint64_t cut_tx,
                       uint64_t cut_out, uint32_t cut20, uint32_t cut32) {
    int rc = 0;
    uint64_t n_tx = ch_col_count(&s->col[COL_TXS]), n_out = ch_col_count(&s->col[COL_OUTS]);
    for (uint64_t tx = cut_tx; tx < n_tx && !rc; tx++)
        rc = drop_txid(s, txn, tx);
    for (uint32_t h = height; h < ch_col_count(&s->col[COL_BLOCKS]) && !rc; h++) {
        MDB_val k = {32, (void *)ch_store_block(s, h)->hash};
        rc = mdb_del(txn, s->db_block, &k, NULL);
        if (rc == MDB_NOTFOUND) rc = 0;
    }
    /* address heads: new addresses leave; older ones walk back past the cut */
    MDB_cursor *c = NULL;
    if (!rc) rc = mdb_cursor_open(txn, s->db_addr, &c);
    for (uint64_t o = cut_out; o < n_out && !rc; o++) {
        uint32_t id = ch_store_output(s, o)->addr, got;
        if (id == 0) continue;
        ch_addr a;
        uint64_t last;
        ch_store_addr_of(s, id, &a);
        int found = ch_index_find_addr(s, txn, &a, &got, &last, c, NULL);
        if (found != 1) continue; /* already handled */
        if (created_past(id, cut20, cut32)) {
            rc = mdb_cursor_del(c, 0);
            continue;
        }
        if (last < cut_out || last == UINT64_MAX) continue; /* already moved back */
        int64_t p = (int64_t)last;
        while (p >= 0 && (uint64_t)p >= cut_out)
            p = prev_same_addr(s, txn, (uint64_t)p);
        if ((rc = mdb_cursor_del(c, 0)) != 0) break;
        uint64_t key = ch_store_addr_key(&a);
        uint32_t bucket = ch_idx_bucket(key);
        ch_addr_item it;
        ch_addr_item_make(&it, ch_idx_fp(key), id, p < 0 ? UINT64_MAX : (uint64_t)p);
        MDB_val k = {sizeof bucket, &bucket}, d = {sizeof it, &it};
        rc = mdb_put(txn, s->db_addr, &k, &d, 0);
    }
    if (c) mdb_cursor_close(c);
    for (uint64_t o = cut_out; o < n_out && !rc; o++)
        if (*(const uint32_t *)ch_col_at(&s->col[COL_OUTPREV], o) == CH_OUTPREV_FAR)
            rc = del_u64(txn, s->db_farprev, o);
    return rc;
}

int ch_store_truncate(ch_store *s, uint32_t height, ch_error *err) {
    if (!s->writable) return ch_err(err, "store opened read-only");
    ch_store_abort(s);
    uint64_t n_blocks = ch_col_count(&s->col[COL_BLOCKS]);
    if (height >= n_blocks) return 0;
    uint64_t cut_tx = ch_store_block(s, height)->first_tx;
    uint64_t n_tx = ch_col_count(&s->col[COL_TXS]);
    uint64_t cut_in = cut_tx < n_tx ? (ch_store_tx(s, cut_tx)->first_in_size & 0xffffffffffULL)
                                    : ch_col_count(&s->col[COL_INS]);
    uint64_t cut_out =
        cut_tx < n_tx ? ch_store_tx(s, cut_tx)->first_out : ch_col_count(&s->col[COL_OUTS]);
    /* Addresses are numbered in order of first appearance (per class), so
     * the first one created past the cut is the smallest id whose first
     * output (no previous output) is there. */
    uint32_t cut20 = (uint32_t)ch_col_count(&s->col[COL_ADDRS20]) + 1;
    uint32_t cut32 = ((uint32_t)ch_col_count(&s->col[COL_ADDRS32]) + 1) | CH_ADDR_ID_WIDE;
    for (uint64_t o = cut_out; o < ch_col_count(&s->col[COL_OUTS]); o++) {
        const ch_out_rec *r = ch_store_output(s, o);
        if (!r->addr || *(const uint32_t *)ch_col_at(&s->col[COL_OUTPREV], o) != 0) continue;
        if ((r->addr & CH_ADDR_ID_WIDE) && r->addr < cut32) cut32 = r->addr;
        if (!(r->addr & CH_ADDR_ID_WIDE) && r->addr < cut20) cut20 = r->addr;
    }
    /* the older outputs the cut inputs spent, to unmark after the cut */
    ch_u64_list unmark = {0};
    for (uint64_t i = cut_in; i < ch_col_count(&s->col[COL_INS]); i++) {
        int64_t o = ch_store_input_spent_output(s, i);
        if (o >= 0 && (uint64_t)o < cut_out && ch_u64_push(&unmark, (uint64_t)o) != 0) {
            free(unmark.v);
            return ch_err(err, "out of memory");
        }
    }

    mdb_txn_reset(s->rtxn);
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (!rc) rc = cut_indexes(s, txn, height, cut_tx, cut_out, cut20, cut32);
    if (!rc) {
        /* record the new lengths: temporarily view the columns as cut */
        uint64_t keep[COL_COUNT] = {height,  cut_tx,  cut_tx,    cut_in,
                                    cut_out, cut_out, cut20 - 1, (cut32 & ~CH_ADDR_ID_WIDE) - 1};
        uint64_t saved[COL_COUNT];
        for (int i = 0; i < COL_COUNT; i++) {
            saved[i] = s->col[i].n_committed;
            s->col[i].n_committed = keep[i];
        }
        rc = ch_store_write_lengths(s, txn, err) ? MDB_PANIC : 0;
        for (int i = 0; i < COL_COUNT; i++)
            s->col[i].n_committed = saved[i];
    }
    if (rc) {
        mdb_txn_abort(txn);
        free(unmark.v);
        ch_store_renew_read(s, NULL);
        return ch_err(err, "%s: cutting back to height %u: %s", s->dir, height, mdb_strerror(rc));
    }
    if ((rc = mdb_txn_commit(txn)) != 0) {
        free(unmark.v);
        ch_store_renew_read(s, NULL);
        return ch_err(err, "%s: index commit: %s", s->dir, mdb_strerror(rc));
    }
    uint64_t keep[COL_COUNT] = {height,  cut_tx,  cut_tx,    cut_in,
                                cut_out, cut_out, cut20 - 1, (cut32 & ~CH_ADDR_ID_WIDE) - 1};
    for (int i = 0; i < COL_COUNT; i++)
        if (ch_col_truncate(&s->col[i], keep[i], err) != 0) {
            free(unmark.v);
            return -1;
        }
    uint32_t zero = 0;
    for (size_t i = 0; i < unmark.n; i++)
        if (ch_col_patch(&s->col[COL_OUTS], unmark.v[i], offsetof(ch_out_rec, spent), &zero, 4,
                         err) != 0) {
            free(unmark.v);
            return -1;
        }
    free(unmark.v);
    if (ch_col_sync(&s->col[COL_OUTS], err) != 0) return -1;
    /* the hot maps may hold cut keys: start them over from LMDB */
    ch_hot_clear(&s->tx_hot);
    ch_hot_clear(&s->addr_hot);
    s->tx_hot_complete = s->addr_hot_complete = false;
    return ch_store_renew_read(s, err);
}

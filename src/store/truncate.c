/* Cutting the chain back to a height (a reorg of the tip).
 *
 * Order matters for crash safety: (0) address heads walk back past the cut,
 * in place, after heads_upto was lowered to the cut (a crash then replays
 * them forward again: heads.c); (1) one LMDB transaction removes the cut
 * blocks' hashes and far links and records the shorter lengths; then the
 * writer waits until no reader holds the state before it (readers.c); (2)
 * the column files are cut; (3) the spent marks that the cut transactions left
 * on older outputs are cleared. A crash after (1) leaves marks that name
 * transactions past the committed count: readers already ignore them and
 * the next writer clears them (store.c). The runs keep the cut txids and
 * addresses as stale candidates, which lookups check and pass over. */
#include "store/store_internal.h"
#include "store/checksums.h"

#include <stdlib.h>
#include <string.h>

/* The previous output of the same address (far links through the read
 * transaction: heads walk back before the cut's write transaction). */
static int64_t prev_same_addr(ch_store *s, uint64_t out) {
    uint32_t d = *(const uint32_t *)st_col_at(&s->col[COL_OUTPREV], out);
    if (d != ST_OUTPREV_FAR) return d == 0 ? -1 : (int64_t)(out - d);
    MDB_val k = {sizeof out, &out}, v;
    if (mdb_get(s->rtxn, s->db_farprev, &k, &v) != 0) return -1;
    uint64_t prev;
    memcpy(&prev, v.mv_data, 8);
    return (int64_t)prev;
}

/* Is the address id one created past the cut (per class)? */
static bool created_past(ch_addr_id id, ch_addr_id cut20, ch_addr_id cut32) {
    return (id & CH_ADDR_ID_WIDE) ? id >= cut32 : id >= cut20;
}

/* The block hashes of the cut blocks leave the index. (Their txids and
 * addresses stay in the runs as stale candidates: a lookup checks every
 * candidate against the columns, which no longer hold them.) */
static int drop_tail_keys(ch_store *s, MDB_txn *txn, uint32_t height) {
    int rc = 0;
    for (uint32_t h = height; h < st_col_count(&s->col[COL_BLOCKS]) && !rc; h++) {
        MDB_val k = {32, (void *)ch_store_block(s, h)->hash};
        rc = mdb_del(txn, s->db_block, &k, NULL);
        if (rc == MDB_NOTFOUND) rc = 0;
    }
    return rc;
}

/* Heads first, before the cut's transaction: heads_upto drops to the cut
 * (so that a crash from here replays the cut outputs' heads back, as the
 * uncut lengths want them), then every older address a cut output or
 * transfer names walks its head back past the cut, durably. */
static int lower_heads_upto(ch_store *s, uint64_t cut, ch_error *err) {
    if (s->heads_upto <= cut) return 0;
    s->heads_upto = cut;
    return st_write_heads_upto(s, err);
}

static void walk_head_back(ch_store *s, ch_addr_id id, uint64_t cut) {
    uint64_t h = st_heads_get(s, id);
    if (h == ST_NO_HEAD || h < cut) return; /* untouched, or already moved back */
    int64_t p = (int64_t)h;
    while (p >= 0 && (uint64_t)p >= cut)
        p = s->account ? st_account_prev(s, NULL, (uint64_t)p, id) : prev_same_addr(s, (uint64_t)p);
    st_heads_set(s, id, p < 0 ? ST_NO_HEAD : (uint64_t)p);
}

static int cut_heads(ch_store *s, uint64_t cut, ch_addr_id cut20, ch_addr_id cut32, ch_error *err) {
    if (lower_heads_upto(s, cut, err) != 0) return -1;
    if (s->account) {
        for (uint64_t x = cut; x < st_col_count(&s->col[COL_XFERS]); x++) {
            const ch_xfer_rec *r = ch_store_xfer(s, x);
            ch_addr_id ids[2] = {r->from, r->to};
            for (int i = 0; i < 2; i++)
                if (ids[i] && !created_past(ids[i], cut20, cut32)) walk_head_back(s, ids[i], cut);
        }
    } else {
        for (uint64_t o = cut; o < st_col_count(&s->col[COL_OUTS]); o++) {
            ch_addr_id id = ch_out_addr(ch_store_output(s, o));
            if (id && !created_past(id, cut20, cut32)) walk_head_back(s, id, cut);
        }
    }
    if (st_col_sync(&s->col[COL_HEADS20], err) != 0 || st_col_sync(&s->col[COL_HEADS32], err) != 0)
        return -1;
    return 0;
}

static int del_u64(MDB_txn *txn, MDB_dbi dbi, uint64_t key) {
    MDB_val k = {sizeof key, &key};
    int rc = mdb_del(txn, dbi, &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int cut_indexes(ch_store *s, MDB_txn *txn, uint32_t height, uint64_t cut_out) {
    uint64_t n_out = st_col_count(&s->col[COL_OUTS]);
    int rc = drop_tail_keys(s, txn, height);
    for (uint64_t o = cut_out; o < n_out && !rc; o++)
        if (*(const uint32_t *)st_col_at(&s->col[COL_OUTPREV], o) == ST_OUTPREV_FAR)
            rc = del_u64(txn, s->db_farprev, o);
    return rc;
}

/* Account chains: the far links of the cut transfers leave. */
static int cut_account_links(ch_store *s, MDB_txn *txn, uint64_t cut_x) {
    int rc = 0;
    uint64_t n_x = st_col_count(&s->col[COL_XFERS]);
    for (uint64_t x = cut_x; x < n_x && !rc; x++)
        for (int side = 0; side < 2 && !rc; side++)
            if (((const uint32_t *)st_col_at(&s->col[COL_XPREV], x))[side] == ST_OUTPREV_FAR)
                rc = del_u64(txn, s->db_farprev, st_far_xkey(x, side));
    return rc;
}

/* Steps (1) and (2) of a cut: `fn` removes index entries in one LMDB
 * transaction that also records keep[] as the committed lengths; then the
 * column files are cut and the hot maps start over from LMDB. */
typedef int (*cut_fn)(ch_store *s, MDB_txn *txn, void *ctx);

/* One LMDB transaction that records a cut (fn's changes, the shortened
 * checksums), waits for readers of the old state to go, then shortens the
 * columns: the order that keeps a reorg crash-safe. */
static int apply_cut(ch_store *s, uint32_t height, const uint64_t keep[COL_COUNT], cut_fn fn,
                     void *ctx, ch_error *err) {
    mdb_txn_reset(s->rtxn);
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (!rc) rc = fn(s, txn, ctx);
    if (!rc) rc = st_ck_cut(s, txn, keep);
    /* readers of the state before this transaction must be gone before the
     * cut tail is shortened or written over (readers.c) */
    uint64_t cut_txn = (uint64_t)mdb_txn_id(txn);
    if (!rc) {
        MDB_val k = {7, "cut_txn"}, d = {sizeof cut_txn, &cut_txn};
        rc = mdb_put(txn, s->db_meta, &k, &d, 0);
    }
    if (!rc) {
        /* record the new lengths: view the columns as cut for a moment */
        uint64_t saved[COL_COUNT];
        for (int i = 0; i < COL_COUNT; i++) {
            saved[i] = s->col[i].n_committed;
            s->col[i].n_committed = keep[i];
        }
        rc = st_write_lengths(s, txn, err) ? MDB_PANIC : 0;
        for (int i = 0; i < COL_COUNT; i++)
            s->col[i].n_committed = saved[i];
    }
    if (rc) {
        mdb_txn_abort(txn);
        st_renew_read(s, NULL);
        return ch_err(err, "%s: cutting back to height %u: %s", s->dir, height, mdb_strerror(rc));
    }
    if ((rc = mdb_txn_commit(txn)) != 0) {
        st_renew_read(s, NULL);
        return ch_err(err, "%s: index commit: %s", s->dir, mdb_strerror(rc));
    }
    st_wait_readers(s, cut_txn);
    for (int i = 0; i < COL_COUNT; i++)
        if (st_col_truncate(&s->col[i], keep[i], err) != 0) return -1;
    /* the hot maps may hold cut keys */
    st_hot_clear(&s->tx_hot);
    st_hot_clear(&s->addr_hot);
    st_hot_clear(&s->tx_old);
    st_hot_clear(&s->addr_old);
    s->tx_hot_complete = s->addr_hot_complete = false;
    s->tx_pend_set = false;
    s->tx_hot_from = s->tx_old_from = s->col[COL_TXS].n_committed;
    return st_renew_read(s, err);
}

typedef struct utxo_cut {
    uint32_t height;
    uint64_t cut_tx, cut_out;
    ch_addr_id cut20, cut32;
} utxo_cut;

static int cut_utxo(ch_store *s, MDB_txn *txn, void *ctx) {
    utxo_cut *c = ctx;
    return cut_indexes(s, txn, c->height, c->cut_out);
}

typedef struct account_cut {
    uint32_t height;
    uint64_t cut_tx, cut_x;
    ch_addr_id cut20, cut32;
} account_cut;

static int cut_account(ch_store *s, MDB_txn *txn, void *ctx) {
    account_cut *c = ctx;
    int rc = drop_tail_keys(s, txn, c->height);
    return rc ? rc : cut_account_links(s, txn, c->cut_x);
}

static int truncate_account(ch_store *s, uint32_t height, ch_error *err) {
    const st_bxfer_rec *bx = st_col_at(&s->col[COL_BXFER], height);
    account_cut c = {height, ch_store_block(s, height)->first_tx, bx->first_xfer, bx->addrs20 + 1,
                     (bx->addrs32 + 1) | CH_ADDR_ID_WIDE};
    uint64_t keep[COL_COUNT] = {0};
    keep[COL_BLOCKS] = keep[COL_BXFER] = height;
    keep[COL_TXS] = keep[COL_TXIDS] = keep[COL_ETXS] = c.cut_tx;
    keep[COL_XFERS] = keep[COL_XPREV] = c.cut_x;
    /* notes point at transfers: those past the cut go with them */
    uint64_t n_note = s->col[COL_NOTES].n_committed;
    while (n_note > 0 &&
           ((const ch_xfer_note *)st_col_at(&s->col[COL_NOTES], n_note - 1))->xfer >= c.cut_x)
        n_note--;
    keep[COL_NOTES] = n_note;
    keep[COL_ADDRS20] = keep[COL_HEADS20] = bx->addrs20;
    keep[COL_ADDRS32] = keep[COL_HEADS32] = bx->addrs32;
    if (cut_heads(s, c.cut_x, c.cut20, c.cut32, err) != 0) return -1;
    return apply_cut(s, height, keep, cut_account, &c, err);
}

int ch_store_truncate(ch_store *s, uint32_t height, ch_error *err) {
    if (!s->writable) return ch_err(err, "store opened read-only");
    ch_store_abort(s);
    for (int i = 0; i < 3; i++) /* the last commit's write-backs: before any cut */
        st_writeback_join(&s->lag_wb[i]);
    /* held marks (marks.c) into outs.col first: the cut clears those of the
     * inputs it removes there (made durable with them below) */
    if (st_marks_write(s, err) != 0) return -1;
    st_marks_committed(s, false);
    uint64_t n_blocks = st_col_count(&s->col[COL_BLOCKS]);
    if (height >= n_blocks) return 0;
    if (s->account) return truncate_account(s, height, err);
    uint64_t cut_tx = ch_store_block(s, height)->first_tx;
    uint64_t n_tx = st_col_count(&s->col[COL_TXS]);
    uint64_t cut_in = cut_tx < n_tx ? (ch_store_tx(s, cut_tx)->first_in_size & 0xffffffffffULL)
                                    : st_col_count(&s->col[COL_INS]);
    uint64_t cut_out =
        cut_tx < n_tx ? ch_store_tx(s, cut_tx)->first_out : st_col_count(&s->col[COL_OUTS]);
    /* the UTXO map's entries of cut outputs go, first (a cut that fails
     * half way must not leave any); the outputs the cut inputs spent are
     * unspent again but missing from it: found through their records */
    st_utxo_cut(&s->utxo, cut_out);
    /* Addresses are numbered in order of first appearance (per class), so
     * the first one created past the cut is the smallest id whose first
     * output (no previous output) is there. */
    ch_addr_id cut20 = st_col_count(&s->col[COL_ADDRS20]) + 1;
    ch_addr_id cut32 = (st_col_count(&s->col[COL_ADDRS32]) + 1) | CH_ADDR_ID_WIDE;
    for (uint64_t o = cut_out; o < st_col_count(&s->col[COL_OUTS]); o++) {
        const ch_out_rec *r = ch_store_output(s, o);
        if (!ch_out_addr(r) || *(const uint32_t *)st_col_at(&s->col[COL_OUTPREV], o) != 0) continue;
        if ((ch_out_addr(r) & CH_ADDR_ID_WIDE) && ch_out_addr(r) < cut32) cut32 = ch_out_addr(r);
        if (!(ch_out_addr(r) & CH_ADDR_ID_WIDE) && ch_out_addr(r) < cut20) cut20 = ch_out_addr(r);
    }
    /* the older outputs the cut inputs spent, to unmark after the cut */
    st_u64_list unmark = {0};
    for (uint64_t i = cut_in; i < st_col_count(&s->col[COL_INS]); i++) {
        int64_t o = ch_store_input_spent_output(s, i);
        if (o >= 0 && (uint64_t)o < cut_out && st_u64_push(&unmark, (uint64_t)o) != 0) {
            free(unmark.v);
            return ch_err(err, "out of memory");
        }
    }

    uint64_t keep[COL_COUNT] = {height,  cut_tx,  cut_tx,    cut_in,
                                cut_out, cut_out, cut20 - 1, (cut32 & ~CH_ADDR_ID_WIDE) - 1};
    keep[COL_TXVIN] = cut_tx;
    keep[COL_HEADS20] = keep[COL_ADDRS20];
    keep[COL_HEADS32] = keep[COL_ADDRS32];
    utxo_cut uc = {height, cut_tx, cut_out, cut20, cut32};
    if (cut_heads(s, cut_out, cut20, cut32, err) != 0 ||
        apply_cut(s, height, keep, cut_utxo, &uc, err) != 0) {
        free(unmark.v);
        return -1;
    }
    uint64_t zero = 0;
    for (size_t i = 0; i < unmark.n; i++)
        if (st_col_patch(&s->col[COL_OUTS], unmark.v[i], CH_OUT_SPENT_OFF, &zero, CH_OUT_ID_BYTES,
                         err) != 0) {
            free(unmark.v);
            return -1;
        }
    free(unmark.v);
    if (st_col_sync(&s->col[COL_OUTS], err) != 0) return -1;
    s->marks_upto = st_col_count(&s->col[COL_INS]); /* all durable now */
    return 0;
}

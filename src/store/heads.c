/* Address heads: each address's last output (UTXO) or transfer (account),
 * where its backward history chain starts, kept in heads20.col and
 * heads32.col beside the address records.
 *
 * A new address's head is a pending record, written with the commit. An
 * older address's head is written in place, through the writable mapping,
 * only after the commit that made its new head committed; it is then made
 * durable and heads_upto (in meta) moves up to the committed count. A crash
 * in between leaves heads that miss outputs at or past heads_upto: the next
 * writer replays those outputs (a commit's worth), and a reader looks at
 * them itself. Heads never name uncommitted outputs, except those a reader
 * opened before the writer's last commit cannot see: it walks back.
 *
 * A small commit (a watcher's block) moves its heads without a sync: the
 * next commit's syncs make them durable and record heads_upto, so a
 * reader's view is always one commit past it. A reader indexes those
 * outputs by address once a view (st_heads_index), not at each head. */
#include "store/store_internal.h"

#include <stdlib.h>
#include <string.h>

static st_col *heads_col(const ch_store *s, ch_addr_id id, uint64_t *i) {
    *i = (id & ~CH_ADDR_ID_WIDE) - 1;
    return (st_col *)&s->col[(id & CH_ADDR_ID_WIDE) ? COL_HEADS32 : COL_HEADS20];
}

uint64_t st_heads_get(const ch_store *s, ch_addr_id id) {
    uint64_t i, h;
    const st_col *c = heads_col(s, id, &i);
    if (i >= st_col_count(c)) return ST_NO_HEAD;
    /* by pread once the column is cold (column.h): a payment to an older
     * address reads its head, and a fault on the mapping would map the
     * pages around it too, which the next trim throws away */
    st_col_get(c, i, &h);
    return h;
}

void st_heads_set(ch_store *s, ch_addr_id id, uint64_t head) {
    uint64_t i;
    st_col *c = heads_col(s, id, &i);
    if (i < st_col_count(c)) st_col_patch(c, i, 0, &head, sizeof head, NULL);
}

uint64_t st_heads_domain(const ch_store *s) {
    return s->col[s->account ? COL_XFERS : COL_OUTS].n_committed;
}

/* Does output or transfer x name id (as its address, sender or recipient)?
 * Reads past the handle's view from the file; false when it cannot. */
static bool touches(const ch_store *s, uint64_t x, ch_addr_id id) {
    if (s->account) {
        ch_xfer_rec r;
        return st_col_read_any(&s->col[COL_XFERS], x, &r) == 0 && (r.from == id || r.to == id);
    }
    ch_out_rec o;
    return st_col_read_any(&s->col[COL_OUTS], x, &o) == 0 && ch_out_addr(&o) == id;
}

/* prev_of: a far link this view cannot read */
#define HEAD_UNKNOWN (ST_NO_HEAD - 1)

/* The output or transfer before x in id's history, read from the files. */
static uint64_t prev_of(ch_store *s, uint64_t x, ch_addr_id id) {
    uint32_t d;
    if (s->account) {
        ch_xfer_rec r;
        uint32_t links[2];
        if (st_col_read_any(&s->col[COL_XFERS], x, &r) != 0 ||
            st_col_read_any(&s->col[COL_XPREV], x, links) != 0)
            return ST_NO_HEAD;
        int side = r.from == id ? 0 : 1;
        d = links[side];
        if (d == ST_OUTPREV_FAR) {
            uint64_t key = st_far_xkey(x, side);
            MDB_val k = {sizeof key, &key}, v;
            if (mdb_get(s->rtxn, s->db_farprev, &k, &v) != 0) return HEAD_UNKNOWN;
            uint64_t p;
            memcpy(&p, v.mv_data, 8);
            return p;
        }
    } else {
        if (st_col_read_any(&s->col[COL_OUTPREV], x, &d) != 0) return ST_NO_HEAD;
        if (d == ST_OUTPREV_FAR) {
            MDB_val k = {sizeof x, &x}, v;
            if (mdb_get(s->rtxn, s->db_farprev, &k, &v) != 0) return HEAD_UNKNOWN;
            uint64_t p;
            memcpy(&p, v.mv_data, 8);
            return p;
        }
    }
    return d == 0 || d > x ? ST_NO_HEAD : x - d;
}

static uint64_t lag_get(const ch_store *s, uint64_t id);

uint64_t st_heads_view(ch_store *s, ch_addr_id id) {
    uint64_t h = st_heads_get(s, id);
    if (s->writable) return h; /* the writer's own heads are exact */
    uint64_t n = st_heads_domain(s);
    /* written by a writer's later commit: back to what this view holds */
    while (h != ST_NO_HEAD && h != HEAD_UNKNOWN && h >= n)
        h = prev_of(s, h, id);
    if (h == HEAD_UNKNOWN) { /* a far link of a later commit (2^32 apart): search */
        for (uint64_t x = n; x-- > 0;)
            if (touches(s, x, id)) return x;
        return ST_NO_HEAD;
    }
    if (s->heads_upto < n) {
        /* a commit's outputs whose heads may not be written yet */
        uint64_t low = s->heads_upto;
        if (h != ST_NO_HEAD && h + 1 > low) low = h + 1;
        if (s->lag_heads) {
            uint64_t x = lag_get(s, id);
            return x != ST_NO_HEAD && x >= low ? x : h;
        }
        for (uint64_t x = n; x-- > low;)
            if (touches(s, x, id)) return x;
    }
    return h;
}

/* The lagging range a reader indexes at most (a small commit's outputs;
 * past it, a bulk commit's, each head scans). */
#define LAG_INDEX_MAX (1u << 20)

static size_t lag_slot(uint64_t id, size_t mask) {
    return (size_t)((id * 0x9e3779b97f4a7c15ULL) >> 32) & mask;
}

static void lag_put(ch_store *s, uint64_t id, uint64_t x) {
    size_t i = lag_slot(id, s->lag_heads_mask);
    while (s->lag_heads[2 * i] && s->lag_heads[2 * i] != id)
        i = (i + 1) & s->lag_heads_mask;
    s->lag_heads[2 * i] = id;
    s->lag_heads[2 * i + 1] = x; /* in increasing x: the last wins */
}

static uint64_t lag_get(const ch_store *s, uint64_t id) {
    for (size_t i = lag_slot(id, s->lag_heads_mask);; i = (i + 1) & s->lag_heads_mask) {
        if (s->lag_heads[2 * i] == id) return s->lag_heads[2 * i + 1];
        if (s->lag_heads[2 * i] == 0) return ST_NO_HEAD;
    }
}

void st_heads_index_free(ch_store *s) {
    free(s->lag_heads);
    s->lag_heads = NULL;
    s->lag_heads_mask = 0;
}

void st_heads_index(ch_store *s) {
    st_heads_index_free(s);
    uint64_t n = st_heads_domain(s);
    if (s->writable || s->heads_upto >= n || n - s->heads_upto > LAG_INDEX_MAX) return;
    size_t cap = 16;
    while (cap < 4 * (n - s->heads_upto)) /* two ids a transfer, at most half full */
        cap *= 2;
    s->lag_heads = calloc(cap, 2 * sizeof(uint64_t));
    if (!s->lag_heads) return; /* st_heads_view scans */
    s->lag_heads_mask = cap - 1;
    for (uint64_t x = s->heads_upto; x < n; x++) {
        if (s->account) {
            const ch_xfer_rec *r = st_col_at(&s->col[COL_XFERS], x);
            if (r->from) lag_put(s, r->from, x);
            if (r->to) lag_put(s, r->to, x);
        } else {
            ch_addr_id id = ch_out_addr(((const ch_out_rec *)st_col_at(&s->col[COL_OUTS], x)));
            if (id) lag_put(s, id, x);
        }
    }
}

int st_heads_recover(ch_store *s, ch_error *err) {
    uint64_t n = st_heads_domain(s);
    for (uint64_t x = s->heads_upto; x < n; x++) {
        if (s->account) {
            const ch_xfer_rec *r = st_col_at(&s->col[COL_XFERS], x);
            if (r->from) st_heads_set(s, r->from, x);
            if (r->to) st_heads_set(s, r->to, x);
        } else {
            ch_addr_id id = ch_out_addr(((const ch_out_rec *)st_col_at(&s->col[COL_OUTS], x)));
            if (id) st_heads_set(s, id, x);
        }
    }
    if (st_col_sync(&s->col[COL_HEADS20], err) != 0 || st_col_sync(&s->col[COL_HEADS32], err) != 0)
        return -1;
    s->heads_upto = n;
    return st_write_heads_upto(s, err);
}

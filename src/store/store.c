/* Opening, recovery and reading of the chain store (see store.h for the
 * layout and the commit protocol). */
#include "store/store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/path.h"

static const char *const COL_FILES[COL_COUNT] = {
    "blocks.col", "txs.col", "txids.col", "ins.col", "outs.col", "outprev.col", "addrs.col",
};
static const size_t COL_REC[COL_COUNT] = {
    sizeof(ch_block_rec), sizeof(ch_tx_rec),   32, sizeof(ch_in_rec), sizeof(ch_out_rec),
    sizeof(uint32_t),     sizeof(ch_addr_rec),
};
/* the meta key of each column's committed length */
static const char *const COL_META[COL_COUNT] = {
    "n_blocks", "n_txs", "n_txids", "n_ins", "n_outs", "n_outprev", "n_addrs",
};

#define LMDB_MAP_SIZE (1ULL << 40) /* address space only; the file grows as needed */

static int lmdb_err(ch_error *err, const char *what, int rc, const char *dir) {
    return ch_err(err, "%s: %s: %s", dir, what, mdb_strerror(rc));
}

static int mkdir_p(const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return (mkdir(tmp, 0755) != 0 && errno != EEXIST) ? -1 : 0;
}

static int meta_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t *v) {
    MDB_val k = {strlen(key), (void *)key}, d;
    *v = 0;
    int rc = mdb_get(txn, dbi, &k, &d);
    if (rc == MDB_NOTFOUND) return 0;
    if (rc != 0) return rc;
    if (d.mv_size == sizeof *v) memcpy(v, d.mv_data, sizeof *v);
    return 0;
}

static int meta_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t v) {
    MDB_val k = {strlen(key), (void *)key}, d = {sizeof v, &v};
    return mdb_put(txn, dbi, &k, &d, 0);
}

int ch_store_write_lengths(ch_store *s, MDB_txn *txn, ch_error *err) {
    for (int i = 0; i < COL_COUNT; i++) {
        int rc = meta_put_u64(txn, s->db_meta, COL_META[i], ch_col_count(&s->col[i]));
        if (rc) return lmdb_err(err, "recording lengths", rc, s->dir);
    }
    return 0;
}

/* A writer that died left spent marks naming transactions that were never
 * committed (they are written in place, before the commit). Readers already
 * treat such marks as unspent; the next writer clears them for good, so a
 * later transaction that takes the same number cannot inherit them. */
static int clear_stale_spent_marks(ch_store *s, ch_error *err) {
    ch_col *outs = &s->col[COL_OUTS];
    uint64_t n_tx = s->col[COL_TXS].n_committed, cleared = 0;
    for (uint64_t i = 0; i < outs->n_committed; i++) {
        const ch_out_rec *o = ch_col_at(outs, i);
        if (o->spent == 0 || o->spent <= n_tx) continue;
        uint32_t zero = 0;
        if (ch_col_patch(outs, i, offsetof(ch_out_rec, spent), &zero, 4, err) != 0) return -1;
        cleared++;
    }
    return cleared ? ch_col_sync(outs, err) : 0;
}

static int open_lmdb(ch_store *s, const char *index_dir, ch_error *err) {
    int rc = mdb_env_create(&s->env);
    if (rc) return lmdb_err(err, "LMDB", rc, s->dir);
    mdb_env_set_maxdbs(s->env, 8);
    mdb_env_set_mapsize(s->env, LMDB_MAP_SIZE);
    unsigned flags = MDB_NOTLS | MDB_NORDAHEAD | (s->writable ? 0 : MDB_RDONLY);
    rc = mdb_env_open(s->env, index_dir, flags, 0644);
    if (rc) return lmdb_err(err, "opening the index", rc, index_dir);
    MDB_txn *txn;
    rc = mdb_txn_begin(s->env, NULL, s->writable ? 0 : MDB_RDONLY, &txn);
    if (rc) return lmdb_err(err, "index transaction", rc, s->dir);
    unsigned create = s->writable ? MDB_CREATE : 0;
    if ((rc = mdb_dbi_open(txn, "txid", create | MDB_INTEGERKEY, &s->db_txid)) ||
        (rc = mdb_dbi_open(txn, "addr", create | MDB_INTEGERKEY, &s->db_addr)) ||
        (rc = mdb_dbi_open(txn, "block", create, &s->db_block)) ||
        (rc = mdb_dbi_open(txn, "farprev", create | MDB_INTEGERKEY, &s->db_farprev)) ||
        (rc = mdb_dbi_open(txn, "meta", create, &s->db_meta))) {
        mdb_txn_abort(txn);
        if (rc == MDB_NOTFOUND) return ch_err(err, "%s: not a coinhound store", s->dir);
        return lmdb_err(err, "opening tables", rc, s->dir);
    }
    uint64_t version = 0, len[COL_COUNT], writer_open = 0;
    meta_get_u64(txn, s->db_meta, "format", &version);
    meta_get_u64(txn, s->db_meta, "writer_open", &writer_open);
    for (int i = 0; i < COL_COUNT; i++)
        meta_get_u64(txn, s->db_meta, COL_META[i], &len[i]);
    if (version == 0 && s->writable) {
        version = CH_STORE_FORMAT_VERSION;
        meta_put_u64(txn, s->db_meta, "format", version);
    }
    if (version != CH_STORE_FORMAT_VERSION) {
        mdb_txn_abort(txn);
        return ch_err(err, "%s: store format %llu, this coinhound reads format %d", s->dir,
                      (unsigned long long)version, CH_STORE_FORMAT_VERSION);
    }
    if (s->writable) meta_put_u64(txn, s->db_meta, "writer_open", 1);
    rc = mdb_txn_commit(txn);
    if (rc) return lmdb_err(err, "index commit", rc, s->dir);

    for (int i = 0; i < COL_COUNT; i++) {
        char path[4096];
        if (ch_path_join(path, sizeof path, s->dir, COL_FILES[i]) != 0)
            return ch_err(err, "%.64s...: path too long", s->dir);
        if (ch_col_open(&s->col[i], path, COL_REC[i], len[i], s->writable, err) != 0) return -1;
    }
    if (s->writable && writer_open && clear_stale_spent_marks(s, err) != 0) return -1;
    rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->rtxn);
    if (rc) return lmdb_err(err, "read transaction", rc, s->dir);
    return 0;
}

int ch_store_open(const char *dir, const char *chain, int mode, ch_store **out, ch_error *err) {
    *out = NULL;
    ch_store *s = calloc(1, sizeof *s);
    if (!s) return ch_err(err, "out of memory");
    for (int i = 0; i < COL_COUNT; i++)
        s->col[i].fd = -1;
    s->writable = mode == CH_STORE_WRITE;
    s->cur_tx = UINT64_MAX;
    char index_dir[4096];
    if (ch_path_join(s->dir, sizeof s->dir, dir, chain) != 0 ||
        ch_path_join(index_dir, sizeof index_dir, s->dir, "index") != 0) {
        free(s);
        return ch_err(err, "%.64s...: path too long", dir);
    }
    struct stat st;
    if (!s->writable && stat(index_dir, &st) != 0) {
        free(s);
        return ch_err(err, "%s: no store here (run 'coinhound ingest' first)", dir);
    }
    if (s->writable && mkdir_p(index_dir) != 0) {
        ch_err(err, "%s: cannot create: %s", index_dir, strerror(errno));
        free(s);
        return -1;
    }
    if (open_lmdb(s, index_dir, err) != 0) {
        ch_store_close(s);
        return -1;
    }
    if (s->writable) {
        if (ch_hot_init(&s->tx_hot, 1 << 16) || ch_hot_init(&s->addr_hot, 1 << 16)) {
            ch_store_close(s);
            return ch_err(err, "out of memory");
        }
        /* an empty store's indexes are wholly in memory from the start */
        s->tx_hot_complete = s->col[COL_TXS].n_committed == 0;
        s->addr_hot_complete = s->col[COL_ADDRS].n_committed == 0;
    }
    *out = s;
    return 0;
}

void ch_store_close(ch_store *s) {
    if (!s) return;
    if (s->rtxn) mdb_txn_abort(s->rtxn);
    if (s->env && s->writable) {
        ch_store_abort(s);
        MDB_txn *txn;
        if (mdb_txn_begin(s->env, NULL, 0, &txn) == 0) {
            meta_put_u64(txn, s->db_meta, "writer_open", 0);
            mdb_txn_commit(txn);
        }
    }
    if (s->env) mdb_env_close(s->env);
    for (int i = 0; i < COL_COUNT; i++)
        if (s->col[i].fd >= 0) ch_col_close(&s->col[i]);
    ch_hot_free(&s->tx_hot);
    ch_hot_free(&s->addr_hot);
    free(s->new_tx_keys.v);
    free(s->dirty_addr_keys.v);
    free(s->far_pend.v);
    free(s);
}

int ch_store_renew_read(ch_store *s, ch_error *err) {
    mdb_txn_reset(s->rtxn);
    int rc = mdb_txn_renew(s->rtxn);
    return rc ? lmdb_err(err, "read transaction", rc, s->dir) : 0;
}

int ch_store_index_get(ch_store *s, MDB_dbi dbi, uint64_t key, MDB_val *val, ch_error *err) {
    MDB_val k = {sizeof key, &key};
    int rc = mdb_get(s->rtxn, dbi, &k, val);
    if (rc == MDB_NOTFOUND) return 0;
    if (rc) return lmdb_err(err, "index lookup", rc, s->dir);
    return 1;
}

void ch_store_get_counts(const ch_store *s, ch_store_counts *c) {
    c->blocks = s->col[COL_BLOCKS].n_committed;
    c->txs = s->col[COL_TXS].n_committed;
    c->inputs = s->col[COL_INS].n_committed;
    c->outputs = s->col[COL_OUTS].n_committed;
    c->addresses = s->col[COL_ADDRS].n_committed;
}

uint64_t ch_store_disk_bytes(const ch_store *s) {
    uint64_t total = 0;
    struct stat st;
    for (int i = 0; i < COL_COUNT; i++)
        if (fstat(s->col[i].fd, &st) == 0) total += (uint64_t)st.st_blocks * 512;
    char path[4096];
    if (ch_path_join(path, sizeof path, s->dir, "index/data.mdb") == 0 && stat(path, &st) == 0)
        total += (uint64_t)st.st_blocks * 512;
    return total;
}

/* --- keys --- */

uint64_t ch_store_txid_key(const ch_hash256 *txid) {
    uint64_t k;
    memcpy(&k, txid->b, 8); /* a txid's bytes are already uniform */
    return k;
}

static uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t ch_store_addr_key(const ch_addr *a) {
    uint64_t h = mix64(((uint64_t)a->kind << 16) | ((uint64_t)a->version << 8) | a->len);
    for (unsigned i = 0; i < a->len; i += 8) {
        uint64_t w = 0;
        memcpy(&w, a->bytes + i, a->len - i < 8 ? a->len - i : 8);
        h = mix64(h ^ w);
    }
    return h;
}

void ch_store_addr_to_rec(const ch_addr *a, ch_addr_rec *r) {
    memset(r, 0, sizeof *r);
    r->kind = a->kind;
    r->version = a->version;
    r->len = a->len > 32 ? 32 : a->len;
    memcpy(r->bytes, a->bytes, r->len);
}

bool ch_store_addr_rec_equal(const ch_addr_rec *r, const ch_addr *a) {
    return r->kind == a->kind && r->version == a->version && r->len == a->len &&
           memcmp(r->bytes, a->bytes, a->len) == 0;
}

/* --- reading --- */

const ch_block_rec *ch_store_block(const ch_store *s, uint32_t height) {
    return height < ch_col_count(&s->col[COL_BLOCKS]) ? ch_col_at(&s->col[COL_BLOCKS], height)
                                                      : NULL;
}

const ch_tx_rec *ch_store_tx(const ch_store *s, uint64_t tx) {
    return ch_col_at(&s->col[COL_TXS], tx);
}

const ch_in_rec *ch_store_input(const ch_store *s, uint64_t in) {
    return ch_col_at(&s->col[COL_INS], in);
}

const ch_out_rec *ch_store_output(const ch_store *s, uint64_t out) {
    return ch_col_at(&s->col[COL_OUTS], out);
}

const ch_addr_rec *ch_store_address(const ch_store *s, uint32_t id) {
    return ch_col_at(&s->col[COL_ADDRS], id - 1);
}

void ch_store_addr_of(const ch_store *s, uint32_t id, ch_addr *a) {
    const ch_addr_rec *r = ch_store_address(s, id);
    memset(a, 0, sizeof *a);
    a->kind = r->kind;
    a->version = r->version;
    a->len = r->len;
    memcpy(a->bytes, r->bytes, r->len);
}

void ch_store_txid(const ch_store *s, uint64_t tx, ch_hash256 *txid) {
    memcpy(txid->b, ch_col_at(&s->col[COL_TXIDS], tx), 32);
}

#define FIRST_IN(t) ((t)->first_in_size & 0xffffffffffULL)

void ch_store_tx_inputs(const ch_store *s, uint64_t tx, uint64_t *first, uint64_t *n) {
    const ch_tx_rec *t = ch_store_tx(s, tx);
    uint64_t end = tx + 1 < ch_col_count(&s->col[COL_TXS]) ? FIRST_IN(ch_store_tx(s, tx + 1))
                                                           : ch_col_count(&s->col[COL_INS]);
    *first = FIRST_IN(t);
    *n = end - *first;
}

void ch_store_tx_outputs(const ch_store *s, uint64_t tx, uint64_t *first, uint64_t *n) {
    const ch_tx_rec *t = ch_store_tx(s, tx);
    uint64_t end = tx + 1 < ch_col_count(&s->col[COL_TXS]) ? ch_store_tx(s, tx + 1)->first_out
                                                           : ch_col_count(&s->col[COL_OUTS]);
    *first = t->first_out;
    *n = end - *first;
}

uint32_t ch_store_tx_size(const ch_store *s, uint64_t tx) {
    return (uint32_t)(ch_store_tx(s, tx)->first_in_size >> 40);
}

uint32_t ch_store_tx_height(const ch_store *s, uint64_t tx) {
    uint64_t lo = 0, hi = ch_col_count(&s->col[COL_BLOCKS]);
    while (hi - lo > 1) { /* last block whose first_tx <= tx */
        uint64_t mid = lo + (hi - lo) / 2;
        if (ch_store_block(s, (uint32_t)mid)->first_tx <= tx)
            lo = mid;
        else
            hi = mid;
    }
    return (uint32_t)lo;
}

int64_t ch_store_output_spender(const ch_store *s, uint64_t out) {
    uint32_t spent = ch_store_output(s, out)->spent;
    if (spent == 0 || spent > ch_col_count(&s->col[COL_TXS])) return -1;
    return (int64_t)spent - 1;
}

int64_t ch_store_input_spent_output(const ch_store *s, uint64_t in) {
    const ch_in_rec *r = ch_store_input(s, in);
    if (r->spent_tx == CH_NO_TX) return -1;
    return (int64_t)(ch_store_tx(s, r->spent_tx)->first_out + r->vout);
}

int64_t ch_store_output_prev_same_addr(const ch_store *s, uint64_t out) {
    uint32_t d = *(const uint32_t *)ch_col_at(&s->col[COL_OUTPREV], out);
    if (d == 0) return -1;
    if (d != CH_OUTPREV_FAR) return (int64_t)(out - d);
    MDB_val v;
    if (ch_store_index_get((ch_store *)s, s->db_farprev, out, &v, NULL) != 1) return -1;
    uint64_t prev;
    memcpy(&prev, v.mv_data, 8);
    return (int64_t)prev;
}

/* --- index lookups --- */

int ch_store_find_tx(ch_store *s, const ch_hash256 *txid, uint64_t *tx, ch_error *err) {
    uint64_t n = ch_col_count(&s->col[COL_TXS]);
    for (uint64_t key = ch_store_txid_key(txid);; key++) {
        MDB_val v;
        int rc = ch_store_index_get(s, s->db_txid, key, &v, err);
        if (rc <= 0) return rc;
        uint64_t cand;
        memcpy(&cand, v.mv_data, 8);
        if (cand < n && memcmp(ch_col_at(&s->col[COL_TXIDS], cand), txid->b, 32) == 0) {
            *tx = cand;
            return 1;
        }
    }
}

int ch_store_find_block(ch_store *s, const ch_hash256 *hash, uint32_t *height, ch_error *err) {
    MDB_val k = {32, (void *)hash->b}, v;
    int rc = mdb_get(s->rtxn, s->db_block, &k, &v);
    if (rc == MDB_NOTFOUND) return 0;
    if (rc) return lmdb_err(err, "block lookup", rc, s->dir);
    memcpy(height, v.mv_data, 4);
    return *height < ch_col_count(&s->col[COL_BLOCKS]) ? 1 : 0;
}

int ch_store_find_addr(ch_store *s, const ch_addr *a, uint32_t *id, uint64_t *last_out,
                       ch_error *err) {
    for (uint64_t key = ch_store_addr_key(a);; key++) {
        MDB_val v;
        int rc = ch_store_index_get(s, s->db_addr, key, &v, err);
        if (rc <= 0) return rc;
        ch_addr_val av;
        memcpy(&av, v.mv_data, sizeof av);
        if (av.id >= 1 && av.id <= ch_col_count(&s->col[COL_ADDRS]) &&
            ch_store_addr_rec_equal(ch_store_address(s, av.id), a)) {
            *id = av.id;
            if (last_out) *last_out = av.last_out;
            return 1;
        }
    }
}

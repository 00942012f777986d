/* Opening, recovery and reading of the chain store (see store.h for the
 * layout and the commit protocol). */
#include "store/store_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "coinhound/btc.h"
#include "coinhound/lock.h"
#include "util/lmdbenv.h"
#include "util/numparse.h"
#include "util/path.h"

static const char *const COL_FILES[COL_COUNT] = {
    "blocks.col",  "txs.col",     "txids.col",   "ins.col",     "outs.col",  "outprev.col",
    "addrs20.col", "addrs32.col", "etxs.col",    "xfers.col",   "xprev.col", "bxfer.col",
    "signals.col", "txvin.col",   "heads20.col", "heads32.col",
};
static const size_t COL_REC[COL_COUNT] = {
    sizeof(ch_block_rec), sizeof(ch_tx_rec),    32,
    sizeof(ch_in_rec),    sizeof(ch_out_rec),   sizeof(uint32_t),
    ADDR20_REC,           ADDR32_REC,           sizeof(ch_etx_rec),
    sizeof(ch_xfer_rec),  2 * sizeof(uint32_t), sizeof(st_bxfer_rec),
    sizeof(ch_xfer_note), sizeof(uint64_t),     sizeof(uint64_t),
    sizeof(uint64_t),
};
/* the meta key of each column's committed length */
static const char *const COL_META[COL_COUNT] = {
    "n_blocks", "n_txs",   "n_txids", "n_ins",   "n_outs",    "n_outprev", "n_addrs20", "n_addrs32",
    "n_etxs",   "n_xfers", "n_xprev", "n_bxfer", "n_signals", "n_txvin",   "n_heads20", "n_heads32",
};

/* Which columns each kind of store keeps; the others are not created (an
 * absent column has no file, counts zero and ignores flushes). */
static bool col_used(int i, bool account) {
    switch (i) {
    case COL_INS:
    case COL_OUTS:
    case COL_OUTPREV:
    case COL_TXVIN:
        return !account;
    case COL_ETXS:
    case COL_XFERS:
    case COL_XPREV:
    case COL_BXFER:
    case COL_NOTES:
        return account;
    default:
        return true;
    }
}

#define LMDB_MAP_SIZE   (1ULL << 40) /* address space only; the file grows as needed */
#define LMDB_LOCK_BYTES 16384        /* lock.mdb: 126 reader slots of 64 bytes and a header */

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

/* A meta value: 0 (absent is 0), an LMDB error, or MDB_BAD_VALSIZE when
 * the value is not the 8 bytes every meta number is (a damaged table). */
static int meta_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t *v) {
    MDB_val k = {strlen(key), (void *)key}, d;
    *v = 0;
    int rc = mdb_get(txn, dbi, &k, &d);
    if (rc == MDB_NOTFOUND) return 0;
    if (rc != 0) return rc;
    if (d.mv_size != sizeof *v) return MDB_BAD_VALSIZE;
    memcpy(v, d.mv_data, sizeof *v);
    return 0;
}

static bool meta_has(MDB_txn *txn, MDB_dbi dbi, const char *key) {
    MDB_val k = {strlen(key), (void *)key}, d;
    return mdb_get(txn, dbi, &k, &d) == 0;
}

/* LMDB maps data.mdb and trusts it to hold every page its meta page names:
 * a shorter file (truncated, half copied) is a SIGBUS on first touch. So
 * the file must reach about the last page before anything is read. About:
 * a commit may count pages it allocated and freed again without writing
 * them (LMDB's loose pages), so a sound file can end a few pages short of
 * the last page number (2 pages seen with readers beside a reorg); a slack
 * of 1/16 of the file, at most 16 pages, allows for that and still refuses
 * a file cut short by more.
 * (A cut within those 16 pages can still meet a live page: LMDB keeps no
 * list of them to check against.) */
static int check_lmdb_size(ch_store *s, const char *index_dir, ch_error *err) {
    MDB_envinfo info;
    MDB_stat st;
    if (mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &st) != 0)
        return ch_err(err, "%s: cannot read the index's header", index_dir);
    char path[4096];
    struct stat fs;
    if (ch_path_join(path, sizeof path, index_dir, "data.mdb") != 0 || stat(path, &fs) != 0)
        return ch_err(err, "%s/data.mdb: %s", index_dir, strerror(errno));
    uint64_t need = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
    uint64_t slack = need / 16 < 16u * st.ms_psize ? need / 16 : 16u * st.ms_psize;
    if ((uint64_t)fs.st_size + slack < need)
        return ch_err(err,
                      "%s: damaged: data.mdb holds %llu bytes but its pages reach %llu "
                      "(truncated?)",
                      index_dir, (unsigned long long)fs.st_size, (unsigned long long)need);
    return 0;
}

static int meta_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t v) {
    MDB_val k = {strlen(key), (void *)key}, d = {sizeof v, &v};
    return mdb_put(txn, dbi, &k, &d, 0);
}

/* A run list in meta: pairs (seq, entries), oldest first. */
static int meta_put_runs(MDB_txn *txn, MDB_dbi dbi, const char *key, const st_runs *r) {
    uint64_t seqs[ST_RUNS_MAX + 1], counts[ST_RUNS_MAX + 1], pairs[2 * (ST_RUNS_MAX + 1)];
    size_t n = st_runs_list(r, seqs, counts);
    for (size_t i = 0; i < n; i++) {
        pairs[2 * i] = seqs[i];
        pairs[2 * i + 1] = counts[i];
    }
    MDB_val k = {strlen(key), (void *)key}, d = {n * 2 * sizeof(uint64_t), pairs};
    return mdb_put(txn, dbi, &k, &d, 0);
}

static int meta_get_runs(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t *seqs,
                         uint64_t *counts, size_t *n) {
    MDB_val k = {strlen(key), (void *)key}, d;
    *n = 0;
    int rc = mdb_get(txn, dbi, &k, &d);
    if (rc == MDB_NOTFOUND) return 0;
    if (rc) return rc;
    size_t pairs = d.mv_size / (2 * sizeof(uint64_t));
    if (pairs > ST_RUNS_MAX) return MDB_CORRUPTED;
    for (size_t i = 0; i < pairs; i++) {
        memcpy(&seqs[i], (const uint8_t *)d.mv_data + 16 * i, 8);
        memcpy(&counts[i], (const uint8_t *)d.mv_data + 16 * i + 8, 8);
    }
    *n = pairs;
    return 0;
}

/* marks_upto (at most the inputs recorded: a cut shortens them) and the
 * boot that wrote it (see marks.c). */
static int put_marks_upto(ch_store *s, MDB_txn *txn) {
    uint64_t n_in = st_col_count(&s->col[COL_INS]);
    uint64_t upto = s->marks_upto < n_in ? s->marks_upto : n_in;
    const char *boot = st_boot_id();
    MDB_val k = {10, "marks_boot"}, d = {strlen(boot), (void *)boot};
    int rc = meta_put_u64(txn, s->db_meta, "marks_upto", upto);
    if (!rc) rc = mdb_put(txn, s->db_meta, &k, &d, 0);
    /* marks_held_from only while a bulk writer holds marks (marks.c) */
    if (!rc && s->marks_held_from < n_in)
        return meta_put_u64(txn, s->db_meta, "marks_held_from", s->marks_held_from);
    MDB_val h = {15, "marks_held_from"};
    if (!rc && (rc = mdb_del(txn, s->db_meta, &h, NULL)) == MDB_NOTFOUND) rc = 0;
    return rc;
}

int st_write_lengths(ch_store *s, MDB_txn *txn, ch_error *err) {
    for (int i = 0; i < COL_COUNT; i++) {
        int rc = meta_put_u64(txn, s->db_meta, COL_META[i], st_col_count(&s->col[i]));
        if (rc) return lmdb_err(err, "recording lengths", rc, s->dir);
    }
    int rc = meta_put_u64(txn, s->db_meta, "first_number", s->first_number);
    if (!rc) rc = meta_put_u64(txn, s->db_meta, "heads_upto", s->heads_upto);
    if (!rc) rc = put_marks_upto(s, txn);
    if (!rc) rc = meta_put_u64(txn, s->db_meta, "run_seq", s->run_seq);
    if (!rc) rc = meta_put_runs(txn, s->db_meta, "runs_txid", &s->txid_runs);
    if (!rc) rc = meta_put_runs(txn, s->db_meta, "runs_addr", &s->addr_runs);
    if (!rc && s->network) rc = meta_put_u64(txn, s->db_meta, "network", s->network);
    if (rc) return lmdb_err(err, "recording lengths", rc, s->dir);
    return 0;
}

int st_write_heads_upto(ch_store *s, ch_error *err) {
    mdb_txn_reset(s->rtxn);
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (!rc) {
        rc = meta_put_u64(txn, s->db_meta, "heads_upto", s->heads_upto);
        if (!rc) rc = put_marks_upto(s, txn);
        rc = rc ? (mdb_txn_abort(txn), rc) : mdb_txn_commit(txn);
    }
    int rc2 = mdb_txn_renew(s->rtxn);
    if (rc || rc2) return lmdb_err(err, "recording address heads", rc ? rc : rc2, s->dir);
    return 0;
}

/* Open the runs the store lists. A reader may find a run gone (a writer
 * merged it away since the reader's snapshot): it then reads the lists of
 * a newer snapshot, whose runs hold every entry the old ones did. */
static int open_runs(ch_store *s, const char *index_dir, ch_error *err) {
    for (int attempt = 0;; attempt++) {
        MDB_txn *txn;
        int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
        if (rc) return lmdb_err(err, "index transaction", rc, s->dir);
        uint64_t seq[2][ST_RUNS_MAX], cnt[2][ST_RUNS_MAX];
        size_t n[2];
        rc = meta_get_runs(txn, s->db_meta, "runs_txid", seq[0], cnt[0], &n[0]);
        if (!rc) rc = meta_get_runs(txn, s->db_meta, "runs_addr", seq[1], cnt[1], &n[1]);
        if (!rc) rc = meta_get_u64(txn, s->db_meta, "run_seq", &s->run_seq);
        mdb_txn_abort(txn);
        if (rc) return lmdb_err(err, "reading the run lists", rc, s->dir);
        ch_error e2;
        if (st_runs_open(&s->txid_runs, index_dir, "txid", seq[0], cnt[0], n[0], &e2) == 0) {
            if (st_runs_open(&s->addr_runs, index_dir, "addr", seq[1], cnt[1], n[1], &e2) == 0) {
                /* a writer's commit syncs its new runs with the columns */
                s->txid_runs.defer_sync = s->addr_runs.defer_sync = s->writable;
                return 0;
            }
            st_runs_close(&s->txid_runs);
        }
        if (s->writable || attempt >= 8) {
            if (err) *err = e2;
            return -1;
        }
    }
}

/* A writer that died left spent marks naming transactions that were never
 * committed (they are written in place, before the commit). Readers already
 * treat such marks as unspent; the next writer clears them for good, so a
 * later transaction that takes the same number cannot inherit them. */
static int clear_stale_spent_marks(ch_store *s, ch_error *err) {
    st_col *outs = &s->col[COL_OUTS];
    uint64_t n_tx = s->col[COL_TXS].n_committed, cleared = 0;
    for (uint64_t i = 0; i < outs->n_committed; i++) {
        const ch_out_rec *o = st_col_at(outs, i);
        if (ch_out_spent(o) == 0 || ch_out_spent(o) <= n_tx) continue;
        uint64_t zero = 0;
        if (st_col_patch(outs, i, CH_OUT_SPENT_OFF, &zero, CH_OUT_ID_BYTES, err) != 0) return -1;
        cleared++;
    }
    return cleared ? st_col_sync(outs, err) : 0;
}

/* The committed lengths and first number as transaction txn sees them: 0,
 * or an LMDB error (MDB_BAD_VALSIZE: a meta value that is not 8 bytes). */
static int read_lengths(ch_store *s, MDB_txn *txn, uint64_t len[COL_COUNT]) {
    int bad = meta_get_u64(txn, s->db_meta, "first_number", &s->first_number);
    meta_get_u64(txn, s->db_meta, "heads_upto", &s->heads_upto);
    /* written before marks_upto was kept: every mark is durable */
    if (meta_get_u64(txn, s->db_meta, "marks_upto", &s->marks_upto) != 0 ||
        !meta_has(txn, s->db_meta, "marks_upto"))
        s->marks_upto = UINT64_MAX;
    if (meta_get_u64(txn, s->db_meta, "marks_held_from", &s->marks_held_from) != 0 ||
        !meta_has(txn, s->db_meta, "marks_held_from"))
        s->marks_held_from = UINT64_MAX;
    MDB_val k = {10, "marks_boot"}, d;
    s->marks_boot[0] = 0;
    if (mdb_get(txn, s->db_meta, &k, &d) == 0 && d.mv_size < sizeof s->marks_boot) {
        memcpy(s->marks_boot, d.mv_data, d.mv_size);
        s->marks_boot[d.mv_size] = 0;
    }
    bad = bad ? bad : meta_get_u64(txn, s->db_meta, "network", &s->network);
    for (int i = 0; i < COL_COUNT; i++)
        bad = bad ? bad : meta_get_u64(txn, s->db_meta, COL_META[i], &len[i]);
    return bad;
}

/* The committed lengths must fit together before any record is used as an
 * index into another column (O(1): the first and last records only; the
 * full walk is ch_store_verify). */
static int check_counts(ch_store *s, ch_error *err) {
    const st_col *c = s->col;
    uint64_t nb = c[COL_BLOCKS].n_committed, nt = c[COL_TXS].n_committed;
#define NEED(cond, ...)                                                                            \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            char why_[256];                                                                        \
            snprintf(why_, sizeof why_, __VA_ARGS__);                                              \
            return ch_err(err, "%s: damaged: %s (run 'coinhound check')", s->dir, why_);           \
        }                                                                                          \
    } while (0)
    NEED(c[COL_TXIDS].n_committed == nt, "%llu txids for %llu txs",
         (unsigned long long)c[COL_TXIDS].n_committed, (unsigned long long)nt);
    /* (an account chain's block may hold no tx; a Bitcoin block holds one) */
    NEED(nb > 0 || nt == 0, "%llu blocks and %llu txs", (unsigned long long)nb,
         (unsigned long long)nt);
    if (nb) {
        const ch_block_rec *first = st_col_at(&c[COL_BLOCKS], 0);
        const ch_block_rec *last = st_col_at(&c[COL_BLOCKS], nb - 1);
        NEED(first->first_tx == 0, "block 0 starts at tx %llu",
             (unsigned long long)first->first_tx);
        NEED(last->first_tx <= nt && nt - last->first_tx == last->n_tx,
             "the last block's txs [%llu, +%u) do not end at the %llu txs",
             (unsigned long long)last->first_tx, last->n_tx, (unsigned long long)nt);
    }
    uint64_t n_in = c[COL_INS].n_committed,
             n_out = s->account ? c[COL_XFERS].n_committed : c[COL_OUTS].n_committed;
    if (nt) {
        const ch_tx_rec *t0 = st_col_at(&c[COL_TXS], 0), *tl = st_col_at(&c[COL_TXS], nt - 1);
        /* (an account chain's first transfers may be a block's rewards) */
        NEED(s->account || (t0->first_out == 0 && (t0->first_in_size & 0xffffffffffULL) == 0),
             "tx 0 does not start the inputs and outputs");
        NEED(tl->first_out <= n_out, "the last tx's first output %llu is past the %llu stored",
             (unsigned long long)tl->first_out, (unsigned long long)n_out);
        NEED(s->account || (tl->first_in_size & 0xffffffffffULL) <= n_in,
             "the last tx's first input %llu is past the %llu stored",
             (unsigned long long)(tl->first_in_size & 0xffffffffffULL), (unsigned long long)n_in);
    }
    if (s->account) {
        NEED(c[COL_ETXS].n_committed == nt, "%llu account records for %llu txs",
             (unsigned long long)c[COL_ETXS].n_committed, (unsigned long long)nt);
        NEED(c[COL_XPREV].n_committed == c[COL_XFERS].n_committed,
             "%llu transfer links for %llu transfers", (unsigned long long)c[COL_XPREV].n_committed,
             (unsigned long long)c[COL_XFERS].n_committed);
        NEED(c[COL_BXFER].n_committed == nb, "%llu block transfer records for %llu blocks",
             (unsigned long long)c[COL_BXFER].n_committed, (unsigned long long)nb);
    } else {
        NEED(c[COL_TXVIN].n_committed == nt, "%llu input values for %llu txs",
             (unsigned long long)c[COL_TXVIN].n_committed, (unsigned long long)nt);
        NEED(c[COL_OUTPREV].n_committed == n_out, "%llu output links for %llu outputs",
             (unsigned long long)c[COL_OUTPREV].n_committed, (unsigned long long)n_out);
    }
#undef NEED
    return 0;
}

/* The format the meta table records (version 0: a new store, which a
 * writer stamps with this build's) must be this build's: 0, or -1 with txn
 * aborted and the error saying what to do. */
static int check_format(ch_store *s, MDB_txn *txn, uint64_t version, ch_error *err) {
    if (version == 0 && s->writable) {
        version = CH_STORE_FORMAT_VERSION;
        meta_put_u64(txn, s->db_meta, "format", version);
    }
    if (version == CH_STORE_FORMAT_VERSION) return 0;
    mdb_txn_abort(txn);
    if (version < CH_STORE_FORMAT_VERSION)
        return ch_err(err,
                      "%s: store format %llu, this coinhound reads format %d (40-bit tx "
                      "numbers and address ids in its records, for mainnet's history): ingest "
                      "again into a new --db directory, then delete this one",
                      s->dir, (unsigned long long)version, CH_STORE_FORMAT_VERSION);
    return ch_err(err, "%s: store format %llu, this coinhound reads format %d", s->dir,
                  (unsigned long long)version, CH_STORE_FORMAT_VERSION);
}

/* Open every column the store's kind keeps at its committed length len[i]
 * (a writer cuts a crashed writer's tail there): 0 or -1. */
static int open_columns(ch_store *s, const uint64_t len[COL_COUNT], ch_error *err) {
    for (int i = 0; i < COL_COUNT; i++) {
        char path[4096];
        s->col[i].rec = COL_REC[i];
        if (!col_used(i, s->account)) continue;
        if (ch_path_join(path, sizeof path, s->dir, COL_FILES[i]) != 0)
            return ch_err(err, "%.64s...: path too long", s->dir);
        if (st_col_open(&s->col[i], path, COL_REC[i], len[i], s->writable, err) != 0) return -1;
    }
    return 0;
}

/* The index's environment, shared by every handle of the process on this
 * store (util/lmdbenv.h: LMDB allows one per file per process); its lock
 * file reserved ahead by the process's first open (so a full disk fails at
 * open, not mid-commit). */
static const ch_lmdb_spec STORE_LMDB = {
    .map_size = LMDB_MAP_SIZE, .max_dbs = 8, .flags = MDB_NORDAHEAD, .lock_bytes = LMDB_LOCK_BYTES};

/* The store's tables, each opened once per environment (lmdbenv.h); a
 * writer creates them. 0, or -1 with the error said. */
static int open_tables(ch_store *s, ch_error *err) {
    unsigned create = s->writable ? MDB_CREATE : 0;
    int rc;
    /* the txid and address indexes are sorted runs beside it (runs.h) */
    if ((rc = ch_lmdb_dbi(s->lm, "meta", create, &s->db_meta)) ||
        (rc = ch_lmdb_dbi(s->lm, "block", create, &s->db_block)) ||
        (rc = ch_lmdb_dbi(s->lm, "farprev", create | MDB_INTEGERKEY, &s->db_farprev))) {
        if (rc == MDB_NOTFOUND) return ch_err(err, "%s: not a coinhound store", s->dir);
        return lmdb_err(err, "opening tables", rc, s->dir);
    }
    /* added within format 3: a store written before has no such table */
    rc = ch_lmdb_dbi(s->lm, "commits", create | MDB_INTEGERKEY, &s->db_commits);
    if (rc && rc != MDB_NOTFOUND) return lmdb_err(err, "opening tables", rc, s->dir);
    s->has_commits = rc == 0;
    return 0;
}

/* The store's LMDB environment, its tables, and the committed lengths that
 * open cuts the columns back to. */
static int open_lmdb(ch_store *s, const char *index_dir, const char *chain, ch_error *err) {
    int rc = ch_lmdb_open(index_dir, &STORE_LMDB, s->writable, &s->lm, err);
    if (rc < 0) return -1;
    if (rc) return lmdb_err(err, "opening the index", rc, index_dir);
    s->env = ch_lmdb_env(s->lm);
    if (check_lmdb_size(s, index_dir, err) != 0) return -1;
    if (open_tables(s, err) != 0) return -1;
    MDB_txn *txn;
    rc = mdb_txn_begin(s->env, NULL, s->writable ? 0 : MDB_RDONLY, &txn);
    if (rc) return lmdb_err(err, "index transaction", rc, s->dir);
    uint64_t version = 0, len[COL_COUNT], writer_open = 0, kind = 0, cut_txn = 0;
    int bad = meta_get_u64(txn, s->db_meta, "format", &version);
    /* kind: 1 UTXO, 2 account; fixed when the store is created */
    bad = bad ? bad : meta_get_u64(txn, s->db_meta, "kind", &kind);
    if (kind == 0 && s->writable) {
        kind = strcmp(chain, "btc") == 0 ? 1 : 2;
        meta_put_u64(txn, s->db_meta, "kind", kind);
    }
    s->account = kind == 2;
    bad = bad ? bad : meta_get_u64(txn, s->db_meta, "writer_open", &writer_open);
    bad = bad ? bad : meta_get_u64(txn, s->db_meta, "cut_txn", &cut_txn);
    if (s->writable && !bad) bad = read_lengths(s, txn, len);
    if (bad || kind > 2) {
        mdb_txn_abort(txn);
        return ch_err(err, "%s: damaged: the index's meta table is not a store's (%s)", s->dir,
                      bad ? mdb_strerror(bad) : "unknown kind");
    }
    if (check_format(s, txn, version, err) != 0) return -1;
    if (s->writable) meta_put_u64(txn, s->db_meta, "writer_open", 1);
    rc = mdb_txn_commit(txn);
    if (rc) return lmdb_err(err, "index commit", rc, s->dir);
    s->env_ready = true;
    /* the one read transaction a reader keeps: the lengths it maps are the
     * ones it holds, so a cut waits for it (readers.c) */
    rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->rtxn);
    if (rc) return lmdb_err(err, "read transaction", rc, s->dir);
    if (!s->writable && (rc = read_lengths(s, s->rtxn, len)) != 0)
        return ch_err(err, "%s: damaged: the index's meta table is not a store's (%s)", s->dir,
                      mdb_strerror(rc));
    /* a writer cuts tails and clears marks only once no reader maps them */
    if (s->writable) {
        mdb_txn_reset(s->rtxn);
        st_wait_readers(s, cut_txn);
    }
    if (open_columns(s, len, err) != 0 || check_counts(s, err) != 0) return -1;
    if (s->writable && writer_open && clear_stale_spent_marks(s, err) != 0) return -1;
    if (s->writable && (rc = mdb_txn_renew(s->rtxn)) != 0)
        return lmdb_err(err, "read transaction", rc, s->dir);
    if (open_runs(s, index_dir, err) != 0) return -1;
    if (s->writable) {
        st_runs_sweep(&s->txid_runs); /* a crashed writer's runs */
        st_runs_sweep(&s->addr_runs);
        if (st_runs_use_filters(&s->txid_runs, err) != 0 ||
            st_runs_use_filters(&s->addr_runs, err) != 0 ||
            st_runs_use_fences(&s->txid_runs, err) != 0 ||
            st_runs_use_fences(&s->addr_runs, err) != 0)
            return -1;
        if (s->heads_upto < st_heads_domain(s) && st_heads_recover(s, err) != 0) return -1;
        /* the marks a small commit left to the page cache: written again,
         * whether this boot still holds them or not (marks.c) */
        if (st_marks_recover(s, err) != 0) return -1;
    }
    return 0;
}

/* ch_store_open without the check of a reader's spent marks (below). */
static int open_store(const char *dir, const char *chain, int mode, ch_store **out, ch_error *err) {
    *out = NULL;
    if (!ch_store_name_ok(chain))
        return ch_err(err,
                      "'%s' is not a chain name (letters, digits and '-', at most 64; not a path)",
                      chain);
    ch_store *s = calloc(1, sizeof *s);
    if (!s) return ch_err(err, "out of memory");
    for (int i = 0; i < COL_COUNT; i++)
        s->col[i].fd = -1;
    s->writable = (mode & CH_STORE_WRITE) != 0;
    s->cur_tx = UINT64_MAX;
    s->marks_held_from = UINT64_MAX;
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
    if (s->writable &&
        ch_writer_lock_take(s->dir, (mode & CH_STORE_WAIT) != 0, &s->lock, err) != 0) {
        free(s);
        return -1;
    }
    if (open_lmdb(s, index_dir, chain, err) != 0) {
        ch_store_close(s);
        return -1;
    }
    if (s->writable) {
        if (st_hot_init(&s->tx_hot, 1 << 16) || st_hot_init(&s->addr_hot, 1 << 16) ||
            st_hot_init(&s->tx_old, 1 << 10) || st_hot_init(&s->addr_old, 1 << 10)) {
            ch_store_close(s);
            return ch_err(err, "out of memory");
        }
        s->batch = 1; /* 0 is the tag of entries never dirty */
        /* the address entries' check key: nobody outside the process knows
         * it (append.c); without randomness, one from the layout and clock */
        if (getrandom(s->addr_sip, sizeof s->addr_sip, 0) != (ssize_t)sizeof s->addr_sip) {
            s->addr_sip[0] = (uint64_t)(uintptr_t)s ^ 0x243f6a8885a308d3ULL;
            s->addr_sip[1] = (uint64_t)time(NULL) ^ 0x13198a2e03707344ULL;
        }
        /* an empty store's indexes are wholly in memory from the start */
        s->tx_hot_complete = s->col[COL_TXS].n_committed == 0;
        s->addr_hot_complete =
            s->col[COL_ADDRS20].n_committed == 0 && s->col[COL_ADDRS32].n_committed == 0;
        s->tx_hot_from = s->tx_old_from = s->col[COL_TXS].n_committed;
    } else {
        st_heads_index(s);
        if (st_marks_index(s, err) != 0) {
            ch_store_close(s);
            return -1;
        }
    }
    *out = s;
    return 0;
}

/* A reader's view whose last spent marks were in the page cache of another
 * boot (marks.c): they may be lost, so it must not be read (an output spent
 * would read unspent). */
static int marks_lost_err(const char *store_dir, const char *why, ch_error *err) {
    return ch_err(err,
                  "%s: the spent marks of its last commit were not yet on disk when the machine "
                  "restarted, and a writer replays them when it opens the store%s%s; open it once "
                  "with a writer that may write to it (e.g. `coinhound ingest` of the same "
                  "blocks) and retry",
                  store_dir, why[0] ? ": " : "", why);
}

int ch_store_open(const char *dir, const char *chain, int mode, ch_store **out, ch_error *err) {
    if (open_store(dir, chain, mode, out, err) != 0) return -1;
    ch_store *s = *out;
    if (s->writable || st_marks_trusted(s, st_marks_in_file(s))) return 0;
    /* the marks past marks_upto are from another boot: a writer replays
     * them at its open (under the writer's lock); then open again. A
     * writer already running has replayed them at its own open. */
    ch_store_close(s);
    *out = NULL;
    ch_store *w = NULL;
    ch_error werr = {0};
    if (open_store(dir, chain, CH_STORE_WRITE, &w, &werr) == 0) ch_store_close(w);
    if (open_store(dir, chain, mode, out, err) != 0) return -1;
    s = *out;
    if (st_marks_trusted(s, st_marks_in_file(s))) return 0;
    char path[sizeof s->dir];
    memcpy(path, s->dir, sizeof path);
    ch_store_close(s);
    *out = NULL;
    return marks_lost_err(path, werr.msg, err);
}

void ch_store_close(ch_store *s) {
    if (!s) return;
    /* a child after fork closing its parent's handle: nothing of it is
     * touched (its read transaction's slot, its writer lock and the
     * writer's threads are the parent's); the child's copies of the maps and
     * descriptors go when it exits or execs */
    if (s->lm && !ch_lmdb_ours(s->lm)) return;
    if (s->rtxn) mdb_txn_abort(s->rtxn);
    if (s->env_ready && s->writable) {
        ch_store_abort(s);
        for (int i = 0; i < 3; i++)
            st_writeback_join(&s->lag_wb[i]);
        /* the heads and marks written in place since the last commit's
         * syncs, durable, and the marks held (marks.c) written first: a
         * clean close leaves nothing to replay */
        bool heads_ok = st_col_sync(&s->col[COL_HEADS20], NULL) == 0 &&
                        st_col_sync(&s->col[COL_HEADS32], NULL) == 0;
        bool marks_ok = s->account || (!s->refuse[0] && st_marks_write(s, NULL) == 0 &&
                                       st_col_sync(&s->col[COL_OUTS], NULL) == 0);
        MDB_txn *txn;
        if (mdb_txn_begin(s->env, NULL, 0, &txn) == 0) {
            meta_put_u64(txn, s->db_meta, "writer_open", 0);
            if (heads_ok) meta_put_u64(txn, s->db_meta, "heads_upto", st_heads_domain(s));
            if (marks_ok) {
                s->marks_upto = s->col[COL_INS].n_committed;
                s->marks_held_from = UINT64_MAX;
                put_marks_upto(s, txn);
            }
            mdb_txn_commit(txn);
        }
    }
    st_runs_close(&s->txid_runs);
    st_runs_close(&s->addr_runs);
    ch_lmdb_close(s->lm);
    for (int i = 0; i < COL_COUNT; i++)
        if (s->col[i].fd >= 0) st_col_close(&s->col[i]);
    st_hot_free(&s->tx_hot);
    st_hot_free(&s->addr_hot);
    st_hot_free(&s->tx_old);
    st_hot_free(&s->addr_old);
    if (s->statm_fd1) close(s->statm_fd1 - 1);
    ch_writer_lock_release(s->lock);
    free(s->dirty_addr_keys.v);
    free(s->far_pend.v);
    st_marks_free(s);
    st_heads_index_free(s);
    free(s->prefetch_keys.v);
    free(s->ahead_in);
    st_utxo_free(&s->utxo);
    st_resolver_free(s);
    free(s);
}

int ch_store_refresh(ch_store *s, ch_error *err) {
    if (s->writable) return 0; /* a writer always sees its own last commit */
    size_t was = mdb_txn_id(s->rtxn);
    mdb_txn_reset(s->rtxn);
    int rc = mdb_txn_renew(s->rtxn);
    if (rc) return lmdb_err(err, "read transaction", rc, s->dir);
    uint64_t len[COL_COUNT];
    if ((rc = read_lengths(s, s->rtxn, len)) != 0)
        return ch_err(err, "%s: damaged: the index's meta table is not a store's (%s)", s->dir,
                      mdb_strerror(rc));
    for (int i = 0; i < COL_COUNT; i++)
        if (col_used(i, s->account) && len[i] != s->col[i].n_committed &&
            st_col_remap_to(&s->col[i], len[i], err) != 0)
            return -1;
    /* the runs the newer commits wrote */
    char index_dir[4096];
    if (ch_path_join(index_dir, sizeof index_dir, s->dir, "index") != 0)
        return ch_err(err, "%.64s...: path too long", s->dir);
    st_runs_close(&s->txid_runs);
    st_runs_close(&s->addr_runs);
    if (open_runs(s, index_dir, err) != 0) return -1;
    if (check_counts(s, err) != 0) return -1;
    if (!st_marks_trusted(s, st_marks_in_file(s))) return marks_lost_err(s->dir, "", err);
    st_heads_index(s);
    if (st_marks_index(s, err) != 0) return -1;
    return mdb_txn_id(s->rtxn) != was;
}

int st_renew_read(ch_store *s, ch_error *err) {
    mdb_txn_reset(s->rtxn);
    int rc = mdb_txn_renew(s->rtxn);
    return rc ? lmdb_err(err, "read transaction", rc, s->dir) : 0;
}

typedef struct tx_probe {
    const ch_store *s;
    const ch_hash256 *txid;
    uint64_t n;
    uint64_t found;
} tx_probe;

static int tx_candidate(void *ctx, uint64_t cand) {
    tx_probe *p = ctx;
    uint8_t id[32];
    if (cand >= p->n) return 0;
    st_col_get(&p->s->col[COL_TXIDS], cand, id);
    if (memcmp(id, p->txid->b, 32) != 0) return 0;
    p->found = cand;
    return 1;
}

int st_index_find_tx(ch_store *s, const ch_hash256 *txid, uint64_t *tx) {
    /* a writer's pending txs are not in the runs (the hot map has them) */
    tx_probe p = {s, txid, s->col[COL_TXS].n_committed, 0};
    if (!st_runs_find(&s->txid_runs, st_txid_key(txid), tx_candidate, &p)) return 0;
    *tx = p.found;
    return 1;
}

typedef struct addr_probe {
    const ch_store *s;
    const ch_addr *a;
    ch_addr_id found;
} addr_probe;

/* committed ids only: a writer's pending ones are in its hot map */
static bool addr_committed(const ch_store *s, ch_addr_id id) {
    uint64_t i = id & ~CH_ADDR_ID_WIDE;
    const st_col *c = &s->col[(id & CH_ADDR_ID_WIDE) ? COL_ADDRS32 : COL_ADDRS20];
    return i >= 1 && i <= c->n_committed;
}

static int addr_candidate(void *ctx, uint64_t cand) {
    addr_probe *p = ctx;
    ch_addr_id id = cand;
    if (!addr_committed(p->s, id) || !st_addr_equal(p->s, id, p->a)) return 0;
    p->found = id;
    return 1;
}

int st_index_find_addr(ch_store *s, const ch_addr *a, ch_addr_id *id, uint64_t *last_out) {
    addr_probe p = {s, a, 0};
    if (!st_runs_find(&s->addr_runs, st_addr_key(a), addr_candidate, &p)) return 0;
    *id = p.found;
    if (last_out) *last_out = st_heads_view(s, p.found);
    return 1;
}

void ch_store_get_counts(const ch_store *s, ch_store_counts *c) {
    c->blocks = s->col[COL_BLOCKS].n_committed;
    c->txs = s->col[COL_TXS].n_committed;
    c->inputs = s->col[COL_INS].n_committed;
    c->outputs = s->col[COL_OUTS].n_committed;
    c->addresses = s->col[COL_ADDRS20].n_committed + s->col[COL_ADDRS32].n_committed;
    c->transfers = s->col[COL_XFERS].n_committed;
    c->checksum_commits = 0;
}

void ch_store_get_counts_pending(const ch_store *s, ch_store_counts *c, uint64_t *narrow) {
    c->blocks = st_col_count(&s->col[COL_BLOCKS]);
    c->txs = st_col_count(&s->col[COL_TXS]);
    c->inputs = st_col_count(&s->col[COL_INS]);
    c->outputs = st_col_count(&s->col[COL_OUTS]);
    c->addresses = st_col_count(&s->col[COL_ADDRS20]) + st_col_count(&s->col[COL_ADDRS32]);
    c->transfers = st_col_count(&s->col[COL_XFERS]);
    c->checksum_commits = 0;
    if (narrow) *narrow = st_col_count(&s->col[COL_ADDRS20]);
}

uint64_t ch_store_disk_bytes(const ch_store *s) {
    uint64_t total = 0;
    struct stat st;
    for (int i = 0; i < COL_COUNT; i++)
        if (fstat(s->col[i].fd, &st) == 0) total += (uint64_t)st.st_blocks * 512;
    char path[4096];
    if (ch_path_join(path, sizeof path, s->dir, "index/data.mdb") == 0 && stat(path, &st) == 0)
        total += (uint64_t)st.st_blocks * 512;
    return total + (st_runs_entries(&s->txid_runs) + st_runs_entries(&s->addr_runs)) * ST_RUN_REC;
}

bool ch_store_is_account(const ch_store *s) {
    return s->account;
}
uint64_t ch_store_first_number(const ch_store *s) {
    return s->first_number;
}

/* The network is kept as a ch_btc_net + 1 (0: none recorded); its name and
 * how it writes addresses are btc.h's (the format layer, below the store). */
int ch_store_network(const ch_store *s) {
    if (s->account) return -1;
    return s->network && s->network <= CH_BTC_NET_COUNT ? (int)s->network - 1 : CH_BTC_NET_MAIN;
}

ch_network ch_store_addr_net(const ch_store *s) {
    int net = ch_store_network(s);
    return net < 0 ? CH_NET_MAINNET : ch_btc_net_encoding((ch_btc_net)net);
}

int ch_store_set_network(ch_store *s, int net, ch_error *err) {
    if (!s->writable) return ch_err(err, "%s: the store is open for reading only", s->dir);
    if (s->account)
        return ch_err(err, "%s: an account chain's store has no Bitcoin network", s->dir);
    if (net < 0 || net >= CH_BTC_NET_COUNT) return ch_err(err, "unknown network %d", net);
    if (s->network && s->network != (uint64_t)net + 1 && st_col_count(&s->col[COL_BLOCKS]) != 0)
        return ch_err(err, "%s holds %s blocks; these are %s blocks (use another --db)", s->dir,
                      ch_btc_net_name((ch_btc_net)(s->network - 1)),
                      ch_btc_net_name((ch_btc_net)net));
    s->network = (uint64_t)net + 1;
    return 0;
}

/* --- damage --- */

/* Note the first damage (the store is writable memory even through a const
 * pointer: the latch is the one thing readers write). */
static void note_damage(const ch_store *cs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note_damage(const ch_store *cs, const char *fmt, ...) {
    ch_store *s = (ch_store *)cs;
    if (s->damaged) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->damage, sizeof s->damage, fmt, ap);
    va_end(ap);
    s->damaged = true;
}

int ch_store_damage(const ch_store *s, ch_error *err) {
    if (!s->damaged) return 0;
    return ch_err(err, "%s: damaged: %s (run 'coinhound check')", s->dir, s->damage);
}

static const uint64_t ZERO_REC[8]; /* the empty record (64 bytes: the largest) */

/* Record i of column c, or the empty record after noting the damage. */
static const void *rec_at(const ch_store *s, int c, uint64_t i) {
    if (i < st_col_count(&s->col[c])) return st_col_at(&s->col[c], i);
    note_damage(s, "%s: record %llu is past the %llu stored", COL_FILES[c], (unsigned long long)i,
                (unsigned long long)st_col_count(&s->col[c]));
    return ZERO_REC;
}

/* A backward link from record x: the previous record, which must come
 * before x (else the damage is noted and the chain ends: a walk along
 * links always ends). */
static int64_t back_link(const ch_store *s, const char *what, uint64_t x, uint64_t prev) {
    if (prev < x) return (int64_t)prev;
    note_damage(s, "%s: record %llu links forward to %llu", what, (unsigned long long)x,
                (unsigned long long)prev);
    return -1;
}

/* The far link of key from the farprev table, or UINT64_MAX. */
static uint64_t far_link(const ch_store *s, MDB_txn *txn, uint64_t key) {
    MDB_val k = {sizeof key, &key}, v;
    if (mdb_get(txn ? txn : s->rtxn, s->db_farprev, &k, &v) != 0) return UINT64_MAX;
    if (v.mv_size != 8) {
        note_damage(s, "farprev: the value of %llu has %zu bytes, not 8", (unsigned long long)key,
                    v.mv_size);
        return UINT64_MAX;
    }
    uint64_t prev;
    memcpy(&prev, v.mv_data, 8);
    return prev;
}

/* --- account chains --- */

void ch_store_tx_xfers(const ch_store *s, uint64_t tx, uint64_t *first, uint64_t *n) {
    uint64_t all = st_col_count(&s->col[COL_XFERS]);
    uint64_t end =
        tx + 1 < st_col_count(&s->col[COL_TXS]) ? ch_store_tx(s, tx + 1)->first_out : all;
    uint64_t f = ch_store_tx(s, tx)->first_out;
    if (end > all || f > all) {
        note_damage(s, "a tx's transfers [%llu, %llu) are not within the %llu stored",
                    (unsigned long long)f, (unsigned long long)end, (unsigned long long)all);
        *first = f <= all ? f : all;
        *n = 0;
        return;
    }
    *first = f;
    /* withdrawals after a block's last tx are not the tx's */
    uint64_t e = *first;
    while (e < end && ((const ch_xfer_rec *)st_col_at(&s->col[COL_XFERS], e))->tx == tx)
        e++;
    *n = e - *first;
}

const ch_xfer_rec *ch_store_xfer(const ch_store *s, uint64_t x) {
    return rec_at(s, COL_XFERS, x);
}

const ch_etx_rec *ch_store_etx(const ch_store *s, uint64_t tx) {
    return rec_at(s, COL_ETXS, tx);
}

int64_t st_account_prev(const ch_store *s, MDB_txn *txn, uint64_t x, ch_addr_id addr) {
    const ch_xfer_rec *r = ch_store_xfer(s, x);
    int side = r->from == addr ? 0 : 1;
    const uint32_t *links = rec_at(s, COL_XPREV, x);
    uint32_t d = links[side];
    if (d == 0) return -1;
    if (d != ST_OUTPREV_FAR) return back_link(s, "xprev.col", x, x - d);
    uint64_t prev = far_link(s, txn, st_far_xkey(x, side));
    return prev == UINT64_MAX ? -1 : back_link(s, "farprev", x, prev);
}

int64_t ch_store_xfer_prev(const ch_store *s, uint64_t x, ch_addr_id addr) {
    return st_account_prev(s, NULL, x, addr);
}

uint64_t ch_store_note_count(const ch_store *s) {
    return st_col_count(&s->col[COL_NOTES]);
}

const ch_xfer_note *ch_store_note(const ch_store *s, uint64_t i) {
    return rec_at(s, COL_NOTES, i);
}

int ch_store_add_note(ch_store *s, const ch_xfer_note *r, ch_error *err) {
    if (!s->writable || !s->account) return ch_err(err, "notes belong to account-chain stores");
    if (st_col_append(&s->col[COL_NOTES], r) == UINT64_MAX) return ch_err(err, "out of memory");
    return 0;
}

uint64_t ch_store_xfer_count(const ch_store *s) {
    return st_col_count(&s->col[COL_XFERS]);
}

/* --- keys --- */

uint64_t st_txid_key(const ch_hash256 *txid) {
    uint64_t k;
    memcpy(&k, txid->b, 8); /* a txid's bytes are already uniform */
    return k;
}

uint64_t st_addr_key(const ch_addr *a) {
    uint64_t h = st_mix64(((uint64_t)a->kind << 16) | ((uint64_t)a->version << 8) | a->len);
    for (unsigned i = 0; i < a->len; i += 8) {
        uint64_t w = 0;
        memcpy(&w, a->bytes + i, a->len - i < 8 ? a->len - i : 8);
        h = st_mix64(h ^ w);
    }
    return h;
}

/* --- address records --- */

const uint8_t *st_addr_rec(const ch_store *s, ch_addr_id id) {
    if (id & CH_ADDR_ID_WIDE) return st_col_at(&s->col[COL_ADDRS32], (id & ~CH_ADDR_ID_WIDE) - 1);
    return st_col_at(&s->col[COL_ADDRS20], id - 1);
}

bool st_addr_valid(const ch_store *s, ch_addr_id id) {
    uint64_t i = id & ~CH_ADDR_ID_WIDE;
    const st_col *c = &s->col[(id & CH_ADDR_ID_WIDE) ? COL_ADDRS32 : COL_ADDRS20];
    return i >= 1 && i <= st_col_count(c);
}

/* Compares in place: decoding the record into a ch_addr first (clearing
 * and copying its 43 bytes) cost more than the comparison, on a path taken
 * for every output. */
bool st_addr_equal(const ch_store *s, ch_addr_id id, const ch_addr *a) {
    uint8_t r[ADDR32_REC];
    if (id & CH_ADDR_ID_WIDE)
        st_col_get(&s->col[COL_ADDRS32], (id & ~CH_ADDR_ID_WIDE) - 1, r);
    else
        st_col_get(&s->col[COL_ADDRS20], id - 1, r);
    if (r[0] >> 5 != a->kind || (r[0] & 31) != a->version) return false;
    if (id & CH_ADDR_ID_WIDE) return r[1] == a->len && memcmp(r + 2, a->bytes, a->len) == 0;
    return a->len == 20 && memcmp(r + 1, a->bytes, 20) == 0;
}

ch_addr_id st_addr_append(ch_store *s, const ch_addr *a) {
    uint8_t rec[ADDR32_REC] = {0};
    rec[0] = (uint8_t)(a->kind << 5 | (a->version & 31));
    uint64_t idx;
    if (a->len == 20) {
        memcpy(rec + 1, a->bytes, 20);
        idx = st_col_append(&s->col[COL_ADDRS20], rec);
    } else {
        if (a->len > 32) return 0; /* witness programs of 33..40 bytes: not stored */
        rec[1] = a->len;
        memcpy(rec + 2, a->bytes, a->len);
        idx = st_col_append(&s->col[COL_ADDRS32], rec);
        if (idx != UINT64_MAX) idx |= CH_ADDR_ID_WIDE;
    }
    if (idx == UINT64_MAX || (idx & ~CH_ADDR_ID_WIDE) + 1 >= CH_ADDR_ID_WIDE) return 0;
    uint64_t none = ST_NO_HEAD;
    if (st_col_append(&s->col[a->len == 20 ? COL_HEADS20 : COL_HEADS32], &none) == UINT64_MAX) {
        st_col_discard_last(&s->col[a->len == 20 ? COL_ADDRS20 : COL_ADDRS32]);
        return 0;
    }
    return ((idx & ~CH_ADDR_ID_WIDE) + 1) | (idx & CH_ADDR_ID_WIDE);
}

uint64_t ch_store_addr_index(const ch_store *s, ch_addr_id id) {
    if (id & CH_ADDR_ID_WIDE) return s->col[COL_ADDRS20].n_committed + (id & ~CH_ADDR_ID_WIDE) - 1;
    return id - 1;
}

ch_addr_id ch_store_addr_id_at(const ch_store *s, uint64_t index) {
    uint64_t n20 = s->col[COL_ADDRS20].n_committed;
    if (index < n20) return index + 1;
    return (index - n20 + 1) | CH_ADDR_ID_WIDE;
}

/* --- reading --- */

const ch_block_rec *ch_store_block(const ch_store *s, uint32_t height) {
    return height < st_col_count(&s->col[COL_BLOCKS]) ? st_col_at(&s->col[COL_BLOCKS], height)
                                                      : NULL;
}

const ch_tx_rec *ch_store_tx(const ch_store *s, uint64_t tx) {
    return rec_at(s, COL_TXS, tx);
}

const uint64_t *ch_store_tx_in_value(const ch_store *s, uint64_t tx) {
    return rec_at(s, COL_TXVIN, tx);
}

const ch_in_rec *ch_store_input(const ch_store *s, uint64_t in) {
    return rec_at(s, COL_INS, in);
}

const ch_out_rec *ch_store_output(const ch_store *s, uint64_t out) {
    return rec_at(s, COL_OUTS, out);
}

void ch_store_addr_of(const ch_store *s, ch_addr_id id, ch_addr *a) {
    memset(a, 0, sizeof *a);
    if (!st_addr_valid(s, id)) {
        note_damage(s, "address id %llu is not stored", (unsigned long long)id);
        return;
    }
    const uint8_t *r = st_addr_rec(s, id);
    a->kind = r[0] >> 5;
    a->version = r[0] & 31;
    if (id & CH_ADDR_ID_WIDE) {
        a->len = r[1] <= 32 ? r[1] : 32;
        memcpy(a->bytes, r + 2, a->len);
    } else {
        a->len = 20;
        memcpy(a->bytes, r + 1, 20);
    }
}

void ch_store_txid(const ch_store *s, uint64_t tx, ch_hash256 *txid) {
    memcpy(txid->b, rec_at(s, COL_TXIDS, tx), 32);
}

/* [first, end) of a tx's records in a column of n, from the tx's start and
 * the next tx's (or n): an empty range, and the damage noted, when they do
 * not fit. */
static void tx_range(const ch_store *s, const char *what, uint64_t first, uint64_t end, uint64_t n,
                     uint64_t *first_out, uint64_t *count) {
    if (first > end || end > n) {
        note_damage(s, "a tx's %s [%llu, %llu) are not within the %llu stored", what,
                    (unsigned long long)first, (unsigned long long)end, (unsigned long long)n);
        *first_out = first <= n ? first : n;
        *count = 0;
        return;
    }
    *first_out = first;
    *count = end - first;
}

#define FIRST_IN(t) ((t)->first_in_size & 0xffffffffffULL)

void ch_store_tx_inputs(const ch_store *s, uint64_t tx, uint64_t *first, uint64_t *n) {
    const ch_tx_rec *t = ch_store_tx(s, tx);
    uint64_t all = st_col_count(&s->col[COL_INS]);
    uint64_t end = tx + 1 < st_col_count(&s->col[COL_TXS]) ? FIRST_IN(ch_store_tx(s, tx + 1)) : all;
    tx_range(s, "inputs", FIRST_IN(t), end, all, first, n);
}

void ch_store_tx_outputs(const ch_store *s, uint64_t tx, uint64_t *first, uint64_t *n) {
    const ch_tx_rec *t = ch_store_tx(s, tx);
    uint64_t all = st_col_count(&s->col[COL_OUTS]);
    uint64_t end =
        tx + 1 < st_col_count(&s->col[COL_TXS]) ? ch_store_tx(s, tx + 1)->first_out : all;
    tx_range(s, "outputs", t->first_out, end, all, first, n);
}

uint32_t ch_store_tx_size(const ch_store *s, uint64_t tx) {
    return (uint32_t)(ch_store_tx(s, tx)->first_in_size >> 40);
}

uint32_t ch_store_tx_height(const ch_store *s, uint64_t tx) {
    uint64_t lo = 0, hi = st_col_count(&s->col[COL_BLOCKS]);
    while (hi - lo > 1) { /* last block whose first_tx <= tx */
        uint64_t mid = lo + (hi - lo) / 2;
        if (ch_store_block(s, (uint32_t)mid)->first_tx <= tx)
            lo = mid;
        else
            hi = mid;
    }
    return (uint32_t)lo;
}

uint32_t ch_store_xfer_height(const ch_store *s, uint64_t x) {
    uint64_t lo = 0, hi = st_col_count(&s->col[COL_BXFER]);
    while (hi - lo > 1) { /* last block whose first transfer <= x: empty blocks
                           * before it share its first transfer */
        uint64_t mid = lo + (hi - lo) / 2;
        const st_bxfer_rec *b = st_col_at(&s->col[COL_BXFER], mid);
        if (b->first_xfer <= x)
            lo = mid;
        else
            hi = mid;
    }
    return (uint32_t)lo;
}

int64_t ch_store_output_spender(const ch_store *s, uint64_t out) {
    uint64_t spent = ch_out_spent(ch_store_output(s, out));
    if (spent == 0) spent = st_marks_spent(s, out); /* held by a bulk writer */
    if (spent == 0 || spent > st_col_count(&s->col[COL_TXS])) return -1;
    return (int64_t)spent - 1;
}

bool ch_store_marks_held(const ch_store *s) {
    return s->writable ? s->marks_held != 0 : s->held_idx.n != 0;
}

int64_t ch_store_input_spent_output(const ch_store *s, uint64_t in) {
    const ch_in_rec *r = ch_store_input(s, in);
    if (ch_in_spent_tx(r) == CH_NO_TX) return -1;
    uint64_t o = ch_store_tx(s, ch_in_spent_tx(r))->first_out + ch_in_vout(r);
    if (o >= st_col_count(&s->col[COL_OUTS])) {
        note_damage(s, "ins.col: input %llu spends output %llu, past the %llu stored",
                    (unsigned long long)in, (unsigned long long)o,
                    (unsigned long long)st_col_count(&s->col[COL_OUTS]));
        return -1;
    }
    return (int64_t)o;
}

int64_t ch_store_output_prev_same_addr(const ch_store *s, uint64_t out) {
    uint32_t d = *(const uint32_t *)rec_at(s, COL_OUTPREV, out);
    if (d == 0) return -1;
    if (d != ST_OUTPREV_FAR) return back_link(s, "outprev.col", out, out - d);
    uint64_t prev = far_link(s, NULL, out);
    return prev == UINT64_MAX ? -1 : back_link(s, "farprev", out, prev);
}

/* --- index lookups --- */

int ch_store_find_tx(ch_store *s, const ch_hash256 *txid, uint64_t *tx, ch_error *err) {
    (void)err;
    return st_index_find_tx(s, txid, tx);
}

int ch_store_find_block(ch_store *s, const ch_hash256 *hash, uint32_t *height, ch_error *err) {
    MDB_val k = {32, (void *)hash->b}, v;
    int rc = mdb_get(s->rtxn, s->db_block, &k, &v);
    if (rc == MDB_NOTFOUND) return 0;
    if (rc) return lmdb_err(err, "block lookup", rc, s->dir);
    if (v.mv_size != 4)
        return ch_err(err, "%s: damaged: a block index value is not 4 bytes", s->dir);
    memcpy(height, v.mv_data, 4);
    return *height < st_col_count(&s->col[COL_BLOCKS]) ? 1 : 0;
}

int ch_store_find_addr(ch_store *s, const ch_addr *a, ch_addr_id *id, uint64_t *last_out,
                       ch_error *err) {
    uint64_t last = UINT64_MAX;
    int rc = st_index_find_addr(s, a, id, &last);
    /* the head of the address's history must be a stored output or transfer */
    uint64_t n = st_col_count(&s->col[s->account ? COL_XFERS : COL_OUTS]);
    if (rc == 1 && last != UINT64_MAX && last >= n)
        return ch_err(err,
                      "%s: damaged: the address index names record %llu, past the %llu stored "
                      "(run 'coinhound check')",
                      s->dir, (unsigned long long)last, (unsigned long long)n);
    if (last_out) *last_out = last;
    return rc;
}

/* Checksums of committed ranges (checksums.h). A record is a list of
 * 32-byte entries, one per column that grew in that commit: column number
 * and bytes hashed per record (u32 each), first and end record (u64), and
 * XXH3-64 (seed 0) of the hashed bytes of those records in order. */
#include "store/checksums.h"

#include <stdio.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define ENTRY 32

/* Bytes of each record that never change once committed: all of them but
 * outs.col's spending field (a spent mark is written in place, and cleared
 * by a cut) and the address heads (moved in place at every payment). */
static size_t fixed_bytes(const ch_store *s, int c) {
    if (c == COL_HEADS20 || c == COL_HEADS32) return 0;
    if (c == COL_OUTS) return CH_OUT_SPENT_OFF;
    return s->col[c].rec;
}

/* XXH3-64 of the first `bytes` bytes of records [from, to) of column c,
 * which lie all committed or all pending (so in one block of memory). */
static uint64_t hash_range(const ch_store *s, int c, size_t bytes, uint64_t from, uint64_t to) {
    const st_col *col = &s->col[c];
    if (to <= from) return XXH3_64bits(NULL, 0);
    const uint8_t *p = st_col_at(col, from);
    if (bytes == col->rec) return XXH3_64bits(p, (size_t)(to - from) * col->rec);
    XXH3_state_t st;
    XXH3_INITSTATE(&st);
    XXH3_64bits_reset(&st);
    uint8_t buf[12 * 4096];
    size_t per = sizeof buf / bytes, fill = 0;
    for (uint64_t i = from; i < to; i++, p += col->rec) {
        memcpy(buf + fill * bytes, p, bytes);
        if (++fill == per) {
            XXH3_64bits_update(&st, buf, fill * bytes);
            fill = 0;
        }
    }
    XXH3_64bits_update(&st, buf, fill * bytes);
    return XXH3_64bits_digest(&st);
}

static void put_entry(uint8_t *e, uint32_t c, uint32_t bytes, uint64_t from, uint64_t to,
                      uint64_t h) {
    memcpy(e, &c, 4);
    memcpy(e + 4, &bytes, 4);
    memcpy(e + 8, &from, 8);
    memcpy(e + 16, &to, 8);
    memcpy(e + 24, &h, 8);
}

static void get_entry(const uint8_t *e, uint32_t *c, uint32_t *bytes, uint64_t *from, uint64_t *to,
                      uint64_t *h) {
    memcpy(c, e, 4);
    memcpy(bytes, e + 4, 4);
    memcpy(from, e + 8, 8);
    memcpy(to, e + 16, 8);
    memcpy(h, e + 24, 8);
}

int st_ck_record(ch_store *s, MDB_txn *txn) {
    uint8_t val[COL_COUNT * ENTRY];
    size_t n = 0;
    for (int c = 0; c < COL_COUNT; c++) {
        const st_col *col = &s->col[c];
        size_t bytes = fixed_bytes(s, c);
        if (col->fd < 0 || bytes == 0 || col->pend_n == 0) continue;
        uint64_t from = col->n_committed, to = st_col_count(col);
        put_entry(val + n++ * ENTRY, (uint32_t)c, (uint32_t)bytes, from, to,
                  hash_range(s, c, bytes, from, to));
    }
    if (n == 0) return 0;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->db_commits, &cur);
    if (rc) return rc;
    MDB_val k, d;
    uint64_t num = 1;
    rc = mdb_cursor_get(cur, &k, &d, MDB_LAST);
    if (rc == 0 && k.mv_size == 8) {
        memcpy(&num, k.mv_data, 8);
        num++;
    }
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND) return rc;
    k = (MDB_val){8, &num};
    d = (MDB_val){n * ENTRY, val};
    return mdb_put(txn, s->db_commits, &k, &d, 0);
}

int st_ck_cut(ch_store *s, MDB_txn *txn, const uint64_t keep[COL_COUNT]) {
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->db_commits, &cur);
    if (rc) return rc;
    MDB_val k, d;
    /* newest first: records are in commit order, so the first one wholly
     * below the cut ends the walk */
    for (rc = mdb_cursor_get(cur, &k, &d, MDB_LAST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_PREV)) {
        if (d.mv_size % ENTRY || d.mv_size > COL_COUNT * ENTRY) continue; /* check names it */
        uint8_t val[COL_COUNT * ENTRY];
        size_t n = d.mv_size / ENTRY, m = 0;
        bool past = false;
        for (size_t i = 0; i < n; i++) {
            uint32_t c, bytes;
            uint64_t from, to, h;
            get_entry((const uint8_t *)d.mv_data + i * ENTRY, &c, &bytes, &from, &to, &h);
            if (c >= COL_COUNT || to <= keep[c]) {
                memcpy(val + m++ * ENTRY, (const uint8_t *)d.mv_data + i * ENTRY, ENTRY);
                continue;
            }
            past = true;
            if (from >= keep[c] || bytes != fixed_bytes(s, c) || keep[c] > s->col[c].n_committed)
                continue; /* nothing of it stays */
            put_entry(val + m++ * ENTRY, c, bytes, from, keep[c],
                      hash_range(s, c, bytes, from, keep[c]));
        }
        if (!past) break;
        rc = m ? mdb_cursor_put(cur, &k, &(MDB_val){m * ENTRY, val}, MDB_CURRENT)
               : mdb_cursor_del(cur, 0);
        if (rc) break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static const char *base(const char *path) {
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

uint64_t st_ck_check(ch_store *s, st_ck_problem_fn problem, void *ctx, uint64_t *commits) {
    char msg[400];
    uint64_t bad = 0;
    *commits = 0;
    if (!s->has_commits) return 0;
    MDB_cursor *cur;
    if (mdb_cursor_open(s->rtxn, s->db_commits, &cur) != 0) return 0;
    MDB_val k, d;
    for (int rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
        uint64_t num = 0;
        if (k.mv_size == 8) memcpy(&num, k.mv_data, 8);
        (*commits)++;
        if (k.mv_size != 8 || d.mv_size % ENTRY || d.mv_size > COL_COUNT * ENTRY) {
            snprintf(msg, sizeof msg,
                     "index/commits: record %llu is %zu bytes, not a checksum list",
                     (unsigned long long)*commits, d.mv_size);
            problem(ctx, msg);
            bad++;
            continue;
        }
        for (size_t i = 0; i < d.mv_size / ENTRY; i++) {
            uint32_t c, bytes;
            uint64_t from, to, h;
            get_entry((const uint8_t *)d.mv_data + i * ENTRY, &c, &bytes, &from, &to, &h);
            const st_col *col = c < COL_COUNT ? &s->col[c] : NULL;
            if (!col || col->fd < 0 || bytes != fixed_bytes(s, (int)c) || from > to ||
                to > col->n_committed) {
                snprintf(msg, sizeof msg,
                         "index/commits: commit %llu names records [%llu, %llu) of column %u, "
                         "which the store does not hold",
                         (unsigned long long)num, (unsigned long long)from, (unsigned long long)to,
                         c);
                problem(ctx, msg);
                bad++;
                continue;
            }
            if (hash_range(s, (int)c, bytes, from, to) == h) continue;
            snprintf(msg, sizeof msg,
                     "%s: bytes [%llu, %llu) (records [%llu, %llu)) differ from the checksum "
                     "commit %llu recorded",
                     base(col->path), (unsigned long long)(from * col->rec),
                     (unsigned long long)(to * col->rec), (unsigned long long)from,
                     (unsigned long long)to, (unsigned long long)num);
            problem(ctx, msg);
            bad++;
        }
    }
    mdb_cursor_close(cur);
    return bad;
}

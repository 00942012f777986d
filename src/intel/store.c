/* The attribution store over LMDB, in DIR/intel/.
 *
 * Layout. One environment, five named databases:
 *   attr   key = canonical address, NUL, 8-byte attribution id
 *          value = the attribution record (below)
 *   actor  canonical actor name -> actor record (actors.c)
 *   alias  normalised alias -> actor (actors.c)
 *   tech   actor NUL technique id -> technique name (actors.c)
 *   meta   small strings: the latest list date per snapshot source, the seed
 *          version.
 *
 * Why address + id rather than MDB_DUPSORT on the address: a DUPSORT value
 * is limited to the key size (511 bytes) and an attribution with its URL and
 * note is larger; and an update must replace one attribution in place, which
 * with duplicates means delete-then-insert of a sorted duplicate. With the id
 * in the key every attribution is its own record, a lookup is one range scan
 * from "address NUL", and the id makes an import idempotent: it is the first 8
 * bytes of SHA-256(asset NUL source NUL normalised entity), so the same
 * (address, asset, source, entity) always lands on the same record. The asset
 * is part of the identity because OFAC lists one EVM address under ETH, USDT,
 * ARB ... separately and each listing is a fact of its own. Addresses never
 * contain NUL, so "address NUL" is an unambiguous prefix.
 *
 * An attribution that carries the source's own id of the listing
 * (source_id: OFAC's SDN entry uid) is identified by that id instead of the
 * entity's name: SHA-256(asset NUL source NUL "uid:" id). OFAC spells one
 * entry's name differently in sdn.csv, sdn.xml and sdn_advanced.xml; the
 * uid is the same in all three.
 *
 * Record: byte 0 version (2; 1 is read too), byte 1 confidence, byte 2
 * flags (bit 0 delisted), then the string fields in a fixed order, each as
 * a 2-byte little-endian length and the bytes. Version 1 records end before
 * source_id (read as ""). */
#include "intel/intel_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "coinhound/hash.h"
#include "coinhound/lock.h"
#include "util/ioerr.h"
#include "util/lmdbenv.h"

#define RECORD_VERSION   2
#define RECORD_V1_FIELDS 12                /* version 1: no source_id */
#define MAP_SIZE         ((size_t)1 << 30) /* 1 GiB of address space; the file grows as needed */

/* lock.mdb: 126 reader slots and a header, reserved ahead (see ch_reserve_file) */
static const ch_lmdb_spec INTEL_LMDB = {.map_size = MAP_SIZE, .max_dbs = 8, .lock_bytes = 16384};

int intel_lmdb_err(ch_error *err, const char *what, int rc) {
    return ch_err(err, "attribution store: %s: %s", what, mdb_strerror(rc));
}

int intel_commit_err(const ch_intel *db, ch_error *err, const char *what, int rc) {
    return ch_io_err(err, db->data_path, what, mdb_strerror(rc), rc);
}

void intel_copy(char *dst, size_t cap, const char *src) {
    if (!cap) return;
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) n = cap - 1;
    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
}

void intel_append(char *dst, size_t cap, const char *sep, const char *src) {
    size_t n = strnlen(dst, cap);
    if (n && sep && n < cap) {
        intel_copy(dst + n, cap - n, sep);
        n = strnlen(dst, cap);
    }
    if (n < cap) intel_copy(dst + n, cap - n, src);
}

void intel_today(char out[16]) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

/* ---- the record ---- */

/* The string fields in record order, by offset in ch_attribution. */
#define FIELD(f)                                                                                   \
    { offsetof(ch_attribution, f), sizeof(((ch_attribution *)0)->f) }
static const struct {
    size_t off, cap;
} FIELDS[] = {
    FIELD(asset),        FIELD(entity),      FIELD(actor),         FIELD(actor_country),
    FIELD(category),     FIELD(source_name), FIELD(source_url),    FIELD(source_date),
    FIELD(first_listed), FIELD(last_listed), FIELD(delisted_date), FIELD(note),
    FIELD(source_id),
};
#define NFIELDS (sizeof FIELDS / sizeof FIELDS[0])

size_t intel_attr_encode(const ch_attribution *a, uint8_t *buf, size_t cap) {
    size_t n = 0;
    if (cap < 3) return 0;
    buf[n++] = RECORD_VERSION;
    buf[n++] = a->confidence;
    /* flags: 1 delisted; 2 address_checked (readers before it ignore the bit) */
    buf[n++] = (uint8_t)((a->delisted ? 1 : 0) | (a->address_checked ? 2 : 0));
    for (size_t i = 0; i < NFIELDS; i++) {
        const char *s = (const char *)a + FIELDS[i].off;
        size_t len = strnlen(s, FIELDS[i].cap - 1);
        if (n + 2 + len > cap) return 0;
        buf[n++] = (uint8_t)(len & 0xff);
        buf[n++] = (uint8_t)(len >> 8);
        memcpy(buf + n, s, len);
        n += len;
    }
    return n;
}

int intel_attr_decode(const void *data, size_t len, ch_attribution *a) {
    const uint8_t *p = data;
    char address[sizeof a->address];
    memcpy(address, a->address, sizeof address); /* the caller sets it from the key */
    memset(a, 0, sizeof *a);
    memcpy(a->address, address, sizeof address);
    if (len < 3 || (p[0] != RECORD_VERSION && p[0] != 1)) return -1;
    a->confidence = p[1];
    a->delisted = p[2] & 1;
    a->address_checked = (p[2] & 2) != 0;
    size_t n = 3, nfields = p[0] == 1 ? RECORD_V1_FIELDS : NFIELDS;
    for (size_t i = 0; i < nfields; i++) {
        if (n + 2 > len) return -1;
        size_t l = (size_t)p[n] | (size_t)p[n + 1] << 8;
        n += 2;
        if (n + l > len || l >= FIELDS[i].cap) return -1;
        char *dst = (char *)a + FIELDS[i].off;
        memcpy(dst, p + n, l);
        dst[l] = '\0';
        n += l;
    }
    return 0;
}

size_t intel_attr_key(const ch_attribution *a, uint8_t *key, size_t cap) {
    size_t al = strnlen(a->address, sizeof a->address - 1);
    if (al == 0 || al + 9 > cap) return 0;
    char ent[sizeof a->entity + 8];
    if (a->source_id[0])
        snprintf(ent, sizeof ent, "uid:%s", a->source_id);
    else
        intel_alias_norm(a->entity, ent, sizeof ent);
    ch_sha256_ctx c;
    uint8_t h[32];
    ch_sha256_init(&c);
    ch_sha256_update(&c, a->asset, strlen(a->asset) + 1);
    ch_sha256_update(&c, a->source_name, strlen(a->source_name) + 1);
    ch_sha256_update(&c, ent, strlen(ent));
    ch_sha256_final(&c, h);
    memcpy(key, a->address, al);
    key[al] = 0;
    memcpy(key + al + 1, h, 8);
    return al + 9;
}

/* ---- meta ---- */

int intel_meta_get(ch_intel *db, MDB_txn *txn, const char *key, char *val, size_t cap) {
    MDB_val k = {strlen(key), (void *)key}, v;
    if (mdb_get(txn, db->meta, &k, &v) != 0) {
        if (cap) val[0] = '\0';
        return 0;
    }
    size_t n = v.mv_size < cap - 1 ? v.mv_size : cap - 1;
    memcpy(val, v.mv_data, n);
    val[n] = '\0';
    return 1;
}

int intel_meta_put(ch_intel *db, MDB_txn *txn, const char *key, const char *val, ch_error *err) {
    MDB_val k = {strlen(key), (void *)key}, v = {strlen(val), (void *)val};
    int rc = mdb_put(txn, db->meta, &k, &v, 0);
    return rc ? intel_lmdb_err(err, "write meta", rc) : 0;
}

/* ---- open / close ---- */

static int mkdir_p(const char *path, ch_error *err) {
    char buf[4096];
    intel_copy(buf, sizeof buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return ch_err(err, "cannot create %s: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return ch_err(err, "cannot create %s: %s", buf, strerror(errno));
    return 0;
}

/* The tables, each opened once per environment (util/lmdbenv.h); flags
 * MDB_CREATE for a writer. */
static int open_dbis(ch_intel *db, unsigned flags, ch_error *err) {
    static const char *names[] = {"attr", "actor", "alias", "tech", "meta"};
    MDB_dbi *dbis[] = {&db->attr, &db->actor, &db->alias, &db->tech, &db->meta};
    for (int i = 0; i < 5; i++) {
        int rc = ch_lmdb_dbi(db->lm, names[i], flags, dbis[i]);
        if (rc) return intel_lmdb_err(err, names[i], rc);
    }
    return 0;
}

#define SEED_VERSION "1"

static int intel_open(const char *dbdir, bool writable, bool wait, bool shared, ch_intel **out,
                      ch_error *err);

int ch_intel_open(const char *dbdir, bool writable, ch_intel **out, ch_error *err) {
    return intel_open(dbdir, writable, false, false, out, err);
}

int ch_intel_open_writer(const char *dbdir, bool wait, ch_intel **out, ch_error *err) {
    return intel_open(dbdir, true, wait, false, out, err);
}

/* Open (create when writable) DIR/intel: the writer lock when writable
 * (waiting for it when asked), the LMDB environment with its lock file
 * reserved ahead, its tables (a read-only open refuses an incomplete store),
 * and, for a writer, the built-in actors and seed facts once per seed
 * version. The public openers are calls of it. shared: a reader whose
 * environment is opened read-write, so that ch_intel_write_begin can make
 * it a writer later (see intel.h). */
static int intel_open(const char *dbdir, bool writable, bool wait, bool shared, ch_intel **out,
                      ch_error *err) {
    *out = NULL;
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s/intel", dbdir) >= (int)sizeof dir)
        return ch_err(err, "database path too long: %s", dbdir);
    struct stat st;
    if (writable) {
        if (mkdir_p(dir, err) < 0) return -1;
    } else if (stat(dir, &st) != 0) {
        return ch_err(err, "no attribution store in %s (run 'coinhound intel import ... --db %s')",
                      dbdir, dbdir);
    }
    ch_intel *db = calloc(1, sizeof *db);
    if (!db) return ch_err(err, "out of memory");
    db->writable = writable;
    db->shared = shared;
    snprintf(db->dir, sizeof db->dir, "%s", dir);
    snprintf(db->data_path, sizeof db->data_path, "%s/data.mdb", dir);
    if (writable && ch_writer_lock_take(dir, wait, &db->lock, err) != 0) {
        free(db);
        return -1;
    }
    /* the process's one environment of the folder (util/lmdbenv.h), read-write
     * for a writer and for a shared reader that may become one */
    int rc = ch_lmdb_open(dir, &INTEL_LMDB, writable || shared, &db->lm, err);
    if (rc) {
        ch_writer_lock_release(db->lock);
        free(db);
        if (rc < 0) return -1;
        return ch_err(err, "cannot open attribution store %s: %s", dir, mdb_strerror(rc));
    }
    db->env = ch_lmdb_env(db->lm);
    if (open_dbis(db, writable ? MDB_CREATE : 0, err) < 0) {
        ch_intel_close(db);
        if (!writable) ch_err_prefix(err, "%s is not a complete attribution store", dir);
        return -1;
    }
    if (writable) {
        /* The built-in actors and seed facts, once per seed version; a store
         * that has them is not written to by opening it. */
        MDB_txn *txn;
        rc = mdb_txn_begin(db->env, NULL, 0, &txn);
        if (rc) {
            ch_intel_close(db);
            return intel_lmdb_err(err, "begin", rc);
        }
        char ver[16];
        intel_meta_get(db, txn, "seed", ver, sizeof ver);
        if (strcmp(ver, SEED_VERSION) != 0) {
            if (intel_actors_seed(db, txn, err) < 0 || intel_seed_facts(db, txn, err) < 0 ||
                intel_meta_put(db, txn, "seed", SEED_VERSION, err) < 0) {
                mdb_txn_abort(txn);
                ch_intel_close(db);
                return -1;
            }
        }
        rc = mdb_txn_commit(txn);
        if (rc) {
            ch_intel_close(db);
            return intel_lmdb_err(err, "commit", rc);
        }
    }
    *out = db;
    return 0;
}

int ch_intel_open_shared(const char *dbdir, ch_intel **out, ch_error *err) {
    return intel_open(dbdir, false, false, true, out, err);
}

int ch_intel_write_begin(ch_intel *db, bool wait, ch_error *err) {
    if (!db->shared) return ch_err(err, "attribution store not opened to be shared with a writer");
    if (db->writable) return ch_err(err, "attribution store: a write is already under way");
    if (ch_writer_lock_take(db->dir, wait, &db->lock, err) != 0) return -1;
    db->writable = true;
    return 0;
}

bool ch_intel_can_write(const ch_intel *db) {
    return db->writable || db->shared;
}

void ch_intel_write_end(ch_intel *db) {
    if (!db->shared || !db->writable) return;
    db->writable = false;
    ch_writer_lock_release(db->lock);
    db->lock = NULL;
}

void ch_intel_close(ch_intel *db) {
    if (!db) return;
    /* a child after fork closing its parent's handle: left alone (its
     * writer lock, which this close would empty, is the parent's) */
    if (db->lm && !ch_lmdb_ours(db->lm)) return;
    ch_lmdb_close(db->lm);
    ch_writer_lock_release(db->lock);
    free(db);
}

/* ---- queries ---- */

/* Walk attributions; prefix (may be NULL for all) limits to one address. */
static int walk(ch_intel *db, const char *prefix, ch_attribution_fn fn, void *ctx, ch_error *err) {
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn);
    if (rc) return intel_lmdb_err(err, "begin read", rc);
    rc = mdb_cursor_open(txn, db->attr, &cur);
    if (rc) {
        mdb_txn_abort(txn);
        return intel_lmdb_err(err, "cursor", rc);
    }
    uint8_t kbuf[140];
    size_t plen = 0;
    MDB_val k = {0, NULL}, v;
    MDB_cursor_op op = MDB_FIRST;
    if (prefix) {
        plen = strlen(prefix);
        if (plen == 0 || plen + 1 > sizeof kbuf - 8) {
            mdb_cursor_close(cur);
            mdb_txn_abort(txn);
            return 0;
        }
        memcpy(kbuf, prefix, plen);
        kbuf[plen++] = 0; /* the NUL ends the address */
        k.mv_size = plen;
        k.mv_data = kbuf;
        op = MDB_SET_RANGE;
    }
    int count = 0, result = 0;
    ch_attribution a;
    for (rc = mdb_cursor_get(cur, &k, &v, op); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (prefix && (k.mv_size < plen || memcmp(k.mv_data, kbuf, plen) != 0)) break;
        size_t al = strnlen(k.mv_data, k.mv_size);
        if (al >= sizeof a.address) continue;
        memcpy(a.address, k.mv_data, al);
        a.address[al] = '\0';
        if (intel_attr_decode(v.mv_data, v.mv_size, &a) < 0) {
            result = ch_err(err, "attribution store: corrupt record for %s", a.address);
            break;
        }
        count++;
        if (fn && fn(&a, ctx)) break;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return result < 0 ? -1 : count;
}

/* The attributions found under the lower-cased key: say so. */
typedef struct folded_ctx {
    ch_attribution_fn fn;
    void *ctx;
} folded_ctx;

static int folded_cb(const ch_attribution *a, void *vctx) {
    folded_ctx *f = vctx;
    ch_attribution c = *a;
    c.case_folded = true;
    return f->fn ? f->fn(&c, f->ctx) : 0;
}

bool intel_fold_case(const char *s, char *out, size_t cap) {
    bool upper = false;
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') {
            upper = true;
            c = (char)(c - 'A' + 'a');
        }
        out[i] = c;
    }
    out[i] = '\0';
    return upper && !s[i];
}

int ch_intel_lookup(ch_intel *db, const char *canonical, ch_attribution_fn fn, void *ctx,
                    ch_error *err) {
    int n = walk(db, canonical, fn, ctx, err);
    char lower[128];
    if (n < 0 || !intel_fold_case(canonical, lower, sizeof lower)) return n;
    folded_ctx f = {fn, ctx};
    int m = walk(db, lower, folded_cb, &f, err);
    return m < 0 ? -1 : n + m;
}

int ch_intel_foreach(ch_intel *db, ch_attribution_fn fn, void *ctx, ch_error *err) {
    return walk(db, NULL, fn, ctx, err);
}

static uint64_t db_entries(MDB_txn *txn, MDB_dbi dbi) {
    MDB_stat s;
    return mdb_stat(txn, dbi, &s) == 0 ? s.ms_entries : 0;
}

uint64_t ch_intel_generation(ch_intel *db) {
    MDB_envinfo info; /* the newest meta page's, as committed by any process */
    if (mdb_env_info(db->env, &info) != 0) return 0; /* only for a NULL env */
    return (uint64_t)info.me_last_txnid;
}

int ch_intel_counts_get(ch_intel *db, ch_intel_counts *out, ch_error *err) {
    memset(out, 0, sizeof *out);
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn);
    if (rc) return intel_lmdb_err(err, "begin read", rc);
    out->attributions = db_entries(txn, db->attr);
    out->actors = db_entries(txn, db->actor);
    out->aliases = db_entries(txn, db->alias);
    out->techniques = db_entries(txn, db->tech);
    rc = mdb_cursor_open(txn, db->attr, &cur);
    if (rc) {
        mdb_txn_abort(txn);
        return intel_lmdb_err(err, "cursor", rc);
    }
    /* Distinct addresses: keys are sorted, so count changes of prefix. */
    MDB_val k, v;
    char prev[140] = "";
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        size_t al = strnlen(k.mv_data, k.mv_size);
        if (al >= sizeof prev) continue;
        if (strlen(prev) != al || memcmp(prev, k.mv_data, al) != 0) {
            memcpy(prev, k.mv_data, al);
            prev[al] = '\0';
            out->addresses++;
        }
        if (v.mv_size >= 3 && (((const uint8_t *)v.mv_data)[2] & 1)) out->delisted++;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return 0;
}

/* Imports: one write transaction, the per-row merge every importer goes
 * through, delisting, and dispatch by format (detected from a path's name and
 * content).
 *
 * Validation policy. Every address is put in canonical form by
 * ch_chainaddr_parse with the listed asset as a hint. When that fails:
 *   - a row of an official list (OFAC) is kept verbatim, with the reason in
 *     its note: the legal fact is that OFAC lists this string, and screening
 *     must still match it exactly (OFAC's XMR entries include a 64-hex string
 *     that is not an address);
 *   - a row whose asset names a chain we do not validate (BEP2, ...) is kept
 *     verbatim too;
 *   - any other row is rejected: counted, reported with its file and line,
 *     never stored (a corrupted copy of an address, e.g. a Base58 address
 *     lowercased by a spreadsheet, fails its checksum here). */
#include "intel/intel_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "coinhound/chainaddr.h"
#include "util/vec.h"

/* ---- names ---- */

static const char *const FORMAT_NAMES[CH_FMT_COUNT] = {
    [CH_FMT_AUTO] = "auto",
    [CH_FMT_OFAC_XML] = "ofac-xml",
    [CH_FMT_OFAC_ADVANCED] = "ofac-advanced",
    [CH_FMT_OFAC_CSV] = "ofac-csv",
    [CH_FMT_OFAC_LISTS] = "ofac-lists",
    [CH_FMT_CSV] = "csv",
    [CH_FMT_TAGPACK] = "tagpack",
    [CH_FMT_STIX] = "stix",
    [CH_FMT_MISP] = "misp",
    [CH_FMT_MISP_GALAXY] = "misp-galaxy",
    [CH_FMT_ETHERSCAN] = "etherscan",
    [CH_FMT_OFAC_COMMENTS] = "ofac-comments",
};

const char *ch_intel_format_name(ch_intel_format f) {
    return (unsigned)f < CH_FMT_COUNT ? FORMAT_NAMES[f] : "?";
}

int ch_intel_format_parse(const char *name, ch_intel_format *out) {
    for (int i = 0; i < CH_FMT_COUNT; i++)
        if (!strcmp(name, FORMAT_NAMES[i])) {
            *out = (ch_intel_format)i;
            return 0;
        }
    return -1;
}

void imp_stem(const char *path, char *out, size_t cap) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    intel_copy(out, cap, b);
    char *dot = strrchr(out, '.');
    if (dot && dot != out) *dot = '\0';
}

static const char *ext_of(const char *path) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *d = strrchr(b, '.');
    return d ? d + 1 : "";
}

/* ---- dates ---- */

static bool digits(const char *s, int n) {
    for (int i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i])) return false;
    return true;
}

int imp_date(const char *s, char out[16]) {
    out[0] = '\0';
    if (!s) return -1;
    while (isspace((unsigned char)*s))
        s++;
    if (digits(s, 4) && s[4] == '-' && digits(s + 5, 2) && s[7] == '-' && digits(s + 8, 2)) {
        memcpy(out, s, 10);
        out[10] = '\0';
        return 0;
    }
    if (digits(s, 2) && s[2] == '/' && digits(s + 3, 2) && s[5] == '/' && digits(s + 6, 4)) {
        snprintf(out, 16, "%.4s-%.2s-%.2s", s + 6, s, s + 3);
        return 0;
    }
    /* M/D/YYYY */
    int m, d, y, n = 0;
    if (sscanf(s, "%2d/%2d/%4d%n", &m, &d, &y, &n) == 3 && n >= 8 && m >= 1 && m <= 12 && d >= 1 &&
        d <= 31 && y >= 1900) {
        snprintf(out, 16, "%04d-%02d-%02d", y % 10000, m, d);
        return 0;
    }
    return -1;
}

/* ---- messages ---- */

void imp_warn(ch_imp *im, const char *fmt, ...) {
    if (!im->opts.warn) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    im->opts.warn(msg, im->opts.ctx);
}

/* ---- canonical form ---- */

/* ch_intel_canonical, also saying which family the address is of and, on a
 * refusal, why (fault, when not NULL). A hint the form contradicts is no
 * refusal: ch_chainaddr_parse_fault accepts a string whose own form
 * validates as another family (USDT on Tron, MATIC on an EVM chain). */
static int canonical_fam(const char *address, const char *asset, char out[128], ch_family *fam,
                         ch_addr_fault *fault, ch_error *err) {
    ch_family hint = asset && *asset ? ch_family_from_asset(asset) : CH_FAM_UNKNOWN;
    ch_chainaddr ca;
    if (ch_chainaddr_parse_fault(address, hint, &ca, fault, err) != 0) return -1;
    intel_copy(out, 128, ca.canonical);
    *fam = ca.family;
    return 0;
}

int ch_intel_canonical(const char *address, const char *asset, char out[128], ch_error *err) {
    ch_family fam;
    return canonical_fam(address, asset, out, &fam, NULL, err);
}

/* A plausible verbatim address: printable, no spaces, not too short. */
static bool verbatim_ok(const char *s) {
    size_t n = strlen(s);
    if (n < 16 || n > 120) return false;
    for (; *s; s++)
        if (!isgraph((unsigned char)*s) || *s == '\'' || *s == '"') return false;
    return true;
}

static void trim_copy(char *dst, size_t cap, const char *src) {
    while (*src && isspace((unsigned char)*src))
        src++;
    intel_copy(dst, cap, src);
    size_t n = strlen(dst);
    while (n && isspace((unsigned char)dst[n - 1]))
        dst[--n] = '\0';
}

static void note_append(ch_attribution *a, const char *text) {
    size_t n = strlen(a->note);
    if (n && n + 2 < sizeof a->note) {
        memcpy(a->note + n, "; ", 3);
        n += 2;
    }
    intel_copy(a->note + n, sizeof a->note - n, text);
}

static void upper(char *s) {
    for (; *s; s++)
        *s = (char)toupper((unsigned char)*s);
}

/* ---- the merge ---- */

/* The address of a row in the form the store keeps: canonical; or, for a
 * lower-cased Base58 address (a list that lost letter case), its real case
 * when known, else the lower-cased form (case.c); or verbatim for an
 * official list. Returns 1 to store, 0 when the row was rejected (counted,
 * warned), -1 on error. */
static int row_address(ch_imp *im, const char *raw, ch_attribution *a, imp_trust trust,
                       const char *where, ch_error *err) {
    ch_error why;
    ch_family fam;
    ch_addr_fault fault;
    a->address_checked = false; /* only this function's parse says so */
    if (canonical_fam(raw, a->asset, a->address, &fam, &fault, &why) == 0) {
        im->fam_seen[fam]++;
        /* parsed without a hint, the key as written: the parse a screening
         * set's writer would make of the key has been made (it is pure) */
        a->address_checked = !(a->asset[0] && ch_family_from_asset(a->asset) != CH_FAM_UNKNOWN) &&
                             !strcmp(raw, a->address);
        return 1;
    }
    ch_family lost = case_lost_family(raw);
    if (lost != CH_FAM_UNKNOWN) {
        im->fam_seen[lost]++;
        im->fam_lost[lost]++;
        im->st->case_lost++;
        char real[128], note[200];
        int found = case_find_real(im, raw, real, err);
        if (found < 0) return -1;
        if (found) {
            intel_copy(a->address, sizeof a->address, real);
            snprintf(note, sizeof note,
                     "letter case restored: the source lists '%.100s' (case lost)", raw);
            im->st->case_restored++;
        } else {
            intel_copy(a->address, sizeof a->address, raw);
            snprintf(note, sizeof note,
                     "the source lists this address lower-cased (letter case lost): it is "
                     "matched case-insensitively");
        }
        if (!strstr(a->note, "letter case")) note_append(a, note);
        return 1;
    }
    bool known = a->asset[0] && ch_family_from_asset(a->asset) != CH_FAM_UNKNOWN;
    /* without an asset, a string of a chain we do not read is kept as
     * listed; one of a chain we read whose checksum fails is a typo, and
     * the rule --help states (skipped and reported) applies: only an
     * official list's rows are kept as they are */
    bool bad_sum = fault == CH_ADDR_FAULT_CHECKSUM;
    if ((trust == IMP_AS_LISTED || (!known && !bad_sum)) && verbatim_ok(raw)) {
        intel_copy(a->address, sizeof a->address, raw);
        if (!strstr(a->note, "address kept as listed")) { /* not twice on re-import */
            char note[300];
            snprintf(note, sizeof note, "address kept as listed (%.200s)", why.msg);
            note_append(a, note);
        }
        return 1;
    }
    im->st->rejected++;
    imp_warn(im, "%s: %s: address '%s' (%s) rejected: %s", im->file, where, raw,
             a->asset[0] ? a->asset : "no asset", why.msg);
    return 0;
}

/* The record an attribution replaces: the one under its key, or (for an
 * attribution that carries source_id) one a store written before ids were
 * keys holds under its entity's name; that one is removed, its history
 * carried over. 1 found (old filled), 0 none, -1 error. */
static int old_record(ch_imp *im, const ch_attribution *a, MDB_val *k, ch_attribution *old,
                      MDB_val *oldv, ch_error *err) {
    int rc = mdb_get(im->txn, im->db->attr, k, oldv);
    if (rc == MDB_NOTFOUND && a->source_id[0]) {
        ch_attribution legacy = *a;
        legacy.source_id[0] = '\0';
        uint8_t lkey[160];
        size_t ll = intel_attr_key(&legacy, lkey, sizeof lkey);
        MDB_val lk = {ll, lkey}, lv;
        if (ll && mdb_get(im->txn, im->db->attr, &lk, &lv) == 0) {
            memcpy(old->address, a->address, sizeof old->address);
            if (intel_attr_decode(lv.mv_data, lv.mv_size, old) == 0 && !old->source_id[0]) {
                rc = mdb_del(im->txn, im->db->attr, &lk, NULL);
                if (rc) return intel_lmdb_err(err, "rekey", rc);
                oldv->mv_size = 0; /* differs from any new record: it is written */
                return 1;
            }
        }
        return 0;
    }
    if (rc == MDB_NOTFOUND) return 0;
    if (rc) return intel_lmdb_err(err, "read", rc);
    memcpy(old->address, a->address, sizeof old->address);
    if (intel_attr_decode(oldv->mv_data, oldv->mv_size, old) < 0)
        return ch_err(err, "attribution store: corrupt record for %s", a->address);
    return 1;
}

int imp_add(ch_imp *im, const char *raw_address, ch_attribution *a, const char *actor_hint,
            imp_trust trust, const char *where, ch_error *err) {
    char raw[256];
    trim_copy(raw, sizeof raw, raw_address ? raw_address : "");
    upper(a->asset);
    if (intel_attr_repair_utf8(a)) { /* JSON output must stay valid: see attr_text.c */
        if (im->st->transcoded++ == 0)
            imp_warn(im,
                     "%s: %s: text that is not UTF-8 (read as Latin-1/CP1252 and converted: "
                     "'%s'); every such row of this file is converted",
                     im->file, where, a->entity);
    }
    if (!raw[0]) {
        im->st->rejected++;
        imp_warn(im, "%s: %s: empty address, row skipped", im->file, where);
        return 0;
    }
    int keep = row_address(im, raw, a, trust, where, err);
    if (keep <= 0) return keep;
    /* The actor: the source's own attribution first (free text, by parts),
     * then the entity's whole name ("LAZARUS GROUP"). */
    ch_actor act;
    a->actor[0] = a->actor_country[0] = '\0';
    if (intel_actor_resolve_txn(im->db, im->txn, actor_hint, &act) ||
        intel_actor_resolve_exact(im->db, im->txn, a->entity, &act)) {
        intel_copy(a->actor, sizeof a->actor, act.name);
        intel_copy(a->actor_country, sizeof a->actor_country, act.country);
    }
    if (!a->first_listed[0])
        intel_copy(a->first_listed, sizeof a->first_listed,
                   a->source_date[0] ? a->source_date : im->as_of);
    if (!a->last_listed[0]) intel_copy(a->last_listed, sizeof a->last_listed, a->first_listed);

    uint8_t key[160];
    size_t klen = intel_attr_key(a, key, sizeof key);
    if (!klen) return ch_err(err, "%s: %s: address too long", im->file, where);
    MDB_val k = {klen, key}, v;
    ch_attribution old;
    int found = old_record(im, a, &k, &old, &v, err);
    if (found < 0) return -1;
    if (found) {
        if (old.first_listed[0] && strcmp(old.first_listed, a->first_listed) < 0)
            memcpy(a->first_listed, old.first_listed, sizeof a->first_listed);
        if (strcmp(old.last_listed, a->last_listed) > 0) {
            /* an older list seen after a newer one: the newer one's view stands */
            memcpy(a->last_listed, old.last_listed, sizeof a->last_listed);
            memcpy(a->source_date, old.source_date, sizeof a->source_date);
        }
        if (old.delisted && !a->delisted) {
            if (strcmp(a->last_listed, old.delisted_date) > 0) {
                char note[80];
                snprintf(note, sizeof note, "relisted after delisting of %s", old.delisted_date);
                note_append(a, note);
            } else {
                a->delisted = true;
                memcpy(a->delisted_date, old.delisted_date, sizeof a->delisted_date);
            }
        }
        if (!a->actor[0]) {
            memcpy(a->actor, old.actor, sizeof a->actor);
            memcpy(a->actor_country, old.actor_country, sizeof a->actor_country);
        }
        a->address_checked |= old.address_checked; /* the same key: the same string parsed */
        im->st->updated++;
    } else {
        im->st->added++;
    }
    im->st->addresses++;
    uint8_t buf[2048];
    size_t n = intel_attr_encode(a, buf, sizeof buf);
    if (!n) return ch_err(err, "%s: %s: attribution too large", im->file, where);
    if (found && v.mv_size == n && memcmp(v.mv_data, buf, n) == 0) return 0; /* unchanged */
    MDB_val nv = {n, buf};
    int rc = mdb_put(im->txn, im->db->attr, &k, &nv, 0);
    if (rc) return intel_lmdb_err(err, "write", rc);
    /* a real-case address: what sources listed lower-cased moves onto it */
    return case_note_real(im, a->address, err);
}

int imp_put_record(ch_imp *im, ch_attribution *a, ch_error *err) {
    uint8_t key[160], buf[2048];
    a->address_checked = false; /* a record moved to this address: its mark was another key's */
    size_t klen = intel_attr_key(a, key, sizeof key);
    if (!klen) return ch_err(err, "address too long: %s", a->address);
    MDB_val k = {klen, key}, v;
    ch_attribution old;
    int found = old_record(im, a, &k, &old, &v, err);
    if (found < 0) return -1;
    if (found) {
        /* two records of one listing: the newer statement stands, the
         * earliest listing date is kept */
        const char *od = old.delisted ? old.delisted_date : old.last_listed;
        const char *nd = a->delisted ? a->delisted_date : a->last_listed;
        char first[16];
        intel_copy(first, sizeof first,
                   old.first_listed[0] && strcmp(old.first_listed, a->first_listed) < 0
                       ? old.first_listed
                       : a->first_listed);
        if (strcmp(od, nd) > 0) {
            memcpy(old.address, a->address, sizeof old.address);
            *a = old;
        }
        intel_copy(a->first_listed, sizeof a->first_listed, first);
    }
    size_t n = intel_attr_encode(a, buf, sizeof buf);
    if (!n) return ch_err(err, "attribution too large: %s", a->address);
    MDB_val nv = {n, buf};
    int rc = mdb_put(im->txn, im->db->attr, &k, &nv, 0);
    return rc ? intel_lmdb_err(err, "write", rc) : 0;
}

/* ---- delisting ---- */

int imp_snapshot(ch_imp *im, const char *source, const char *asset, const char *date,
                 ch_error *err) {
    for (int i = 0; i < im->nscopes; i++)
        if (!strcmp(im->scopes[i].source, source) && !strcasecmp(im->scopes[i].asset, asset))
            return 0;
    if (im->nscopes >= IMP_MAX_SCOPES) return ch_err(err, "too many list snapshots in one import");
    imp_scope *s = &im->scopes[im->nscopes++];
    intel_copy(s->source, sizeof s->source, source);
    intel_copy(s->asset, sizeof s->asset, asset);
    upper(s->asset);
    intel_copy(s->date, sizeof s->date, date && *date ? date : im->as_of);
    return 0;
}

/* A stale attribution of a snapshot: its key and record. */
typedef struct stale {
    uint8_t key[160];
    size_t klen;
    ch_attribution a;
} stale;

/* Does the snapshot list the address under another record of the same
 * source (another SDN entry, another asset)? Then the address has not left
 * the list: 1 with that record's key and record. */
static int still_listed(ch_imp *im, const imp_scope *s, const stale *x, uint8_t *key, size_t *klen,
                        ch_attribution *out) {
    MDB_cursor *cur;
    if (mdb_cursor_open(im->txn, im->db->attr, &cur)) return 0;
    size_t pl = strlen(x->a.address) + 1;
    MDB_val k = {pl, (void *)x->a.address}, v;
    int found = 0;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < pl || memcmp(k.mv_data, x->a.address, pl) != 0 || k.mv_size > 160) break;
        if (k.mv_size == x->klen && !memcmp(k.mv_data, x->key, x->klen)) continue;
        memcpy(out->address, x->a.address, sizeof out->address);
        if (intel_attr_decode(v.mv_data, v.mv_size, out) < 0) continue;
        if (out->delisted || strcmp(out->source_name, s->source) != 0) continue;
        if (s->asset[0] && strcmp(out->asset, s->asset) != 0) continue;
        if (strcmp(out->last_listed, s->date) < 0) continue;
        memcpy(key, k.mv_data, k.mv_size);
        *klen = k.mv_size;
        found = 1;
        break;
    }
    mdb_cursor_close(cur);
    return found;
}

/* The records of a scope that the snapshot no longer lists. */
static int collect_stale(ch_imp *im, const imp_scope *s, stale **out, size_t *n, ch_error *err) {
    MDB_cursor *cur;
    int rc = mdb_cursor_open(im->txn, im->db->attr, &cur);
    if (rc) return intel_lmdb_err(err, "cursor", rc);
    MDB_val k, v;
    size_t cap = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        ch_attribution a;
        size_t al = strnlen(k.mv_data, k.mv_size);
        if (al >= sizeof a.address || k.mv_size > 160) continue;
        memcpy(a.address, k.mv_data, al);
        a.address[al] = '\0';
        if (intel_attr_decode(v.mv_data, v.mv_size, &a) < 0) continue;
        if (a.delisted || strcmp(a.source_name, s->source) != 0) continue;
        if (s->asset[0] && strcmp(a.asset, s->asset) != 0) continue;
        if (strcmp(a.last_listed, s->date) >= 0) continue;
        stale *nv = ch_grow(*out, &cap, *n + 1, sizeof *nv);
        if (!nv) {
            mdb_cursor_close(cur);
            return ch_err(err, "out of memory");
        }
        *out = nv;
        stale *x = &(*out)[(*n)++];
        memcpy(x->key, k.mv_data, k.mv_size);
        x->klen = k.mv_size;
        x->a = a;
    }
    mdb_cursor_close(cur);
    return 0;
}

/* One stale record: folded into the record that lists its address now, or
 * marked delisted as of the snapshot. */
static int retire(ch_imp *im, const imp_scope *s, stale *x, ch_error *err) {
    uint8_t key[160], buf[2048];
    size_t klen = 0;
    ch_attribution now;
    MDB_val k = {x->klen, x->key};
    int rc;
    if (still_listed(im, s, x, key, &klen, &now)) {
        if (x->a.first_listed[0] && strcmp(x->a.first_listed, now.first_listed) < 0)
            memcpy(now.first_listed, x->a.first_listed, sizeof now.first_listed);
        if (strcmp(x->a.entity, now.entity) != 0 || strcmp(x->a.asset, now.asset) != 0) {
            char note[200];
            snprintf(note, sizeof note, "listed before as %.80s (%s)", x->a.entity, x->a.asset);
            if (!strstr(now.note, note)) intel_append(now.note, sizeof now.note, "; ", note);
        }
        size_t n = intel_attr_encode(&now, buf, sizeof buf);
        MDB_val nk = {klen, key}, nv = {n, buf};
        if ((rc = mdb_del(im->txn, im->db->attr, &k, NULL)) != 0 ||
            (rc = mdb_put(im->txn, im->db->attr, &nk, &nv, 0)) != 0)
            return intel_lmdb_err(err, "merge", rc);
        return 0;
    }
    x->a.delisted = true;
    intel_copy(x->a.delisted_date, sizeof x->a.delisted_date, s->date);
    size_t n = intel_attr_encode(&x->a, buf, sizeof buf);
    MDB_val nv = {n, buf};
    rc = mdb_put(im->txn, im->db->attr, &k, &nv, 0);
    if (rc) return intel_lmdb_err(err, "delist", rc);
    im->st->delisted++;
    return 0;
}

/* Mark delisted what a complete list of a source no longer lists: each of
 * the source's attributions (of the scope's asset) whose last_listed is
 * older than the list, unless the list still holds its address under
 * another record of the same source (a delisting is an address leaving the
 * list, not an entry renamed or renumbered). A list older than the newest
 * one already imported delists nothing. */
static int sweep(ch_imp *im, ch_error *err) {
    for (int i = 0; i < im->nscopes; i++) {
        imp_scope *s = &im->scopes[i];
        char mkey[128], latest[32];
        snprintf(mkey, sizeof mkey, "list:%s|%s", s->source, s->asset);
        intel_meta_get(im->db, im->txn, mkey, latest, sizeof latest);
        if (latest[0] && strcmp(s->date, latest) < 0) continue;
        stale *v = NULL;
        size_t n = 0;
        int r = collect_stale(im, s, &v, &n, err);
        for (size_t j = 0; r == 0 && j < n; j++)
            r = retire(im, s, &v[j], err);
        free(v);
        if (r < 0) return -1;
        if (intel_meta_put(im->db, im->txn, mkey, s->date, err) < 0) return -1;
    }
    im->nscopes = 0;
    return 0;
}

/* ---- transactions ---- */

int ch_intel_import_begin(ch_intel *db, const ch_import_opts *opts, ch_import **out,
                          ch_error *err) {
    *out = NULL;
    if (!db->writable) return ch_err(err, "attribution store opened read-only");
    ch_imp *im = calloc(1, sizeof *im);
    if (!im) return ch_err(err, "out of memory");
    im->db = db;
    if (opts) im->opts = *opts;
    if (im->opts.as_of && im->opts.as_of[0]) {
        if (imp_date(opts->as_of, im->as_of) < 0) {
            free(im);
            return ch_err(err, "bad date '%s' (want YYYY-MM-DD)", opts->as_of);
        }
    } else {
        intel_today(im->as_of);
    }
    im->as_of_given = im->opts.as_of && im->opts.as_of[0];
    int rc = mdb_txn_begin(db->env, NULL, 0, &im->txn);
    if (rc) {
        free(im);
        return intel_lmdb_err(err, "begin import", rc);
    }
    im->root = im->txn;
    *out = im;
    return 0;
}

static void import_free(ch_import *im) {
    ofac_comments_free(im);
    case_free(im);
    free(im);
}

int ch_intel_import_commit(ch_import *im, ch_error *err) {
    if (im->failed) {
        ch_intel_import_abort(im);
        return ch_err(err, "import failed earlier; nothing was written");
    }
    int rc = mdb_txn_commit(im->root);
    ch_intel *db = im->db;
    import_free(im);
    return rc ? intel_commit_err(db, err, "commit import", rc) : 0;
}

void ch_intel_import_abort(ch_import *im) {
    if (!im) return;
    mdb_txn_abort(im->root);
    import_free(im);
}

typedef int (*importer_fn)(ch_imp *, FILE *, const char *, ch_error *);

static importer_fn importer_of(ch_intel_format f) {
    switch (f) {
    case CH_FMT_OFAC_XML:
        return import_ofac_xml;
    case CH_FMT_OFAC_ADVANCED:
        return import_ofac_advanced;
    case CH_FMT_OFAC_CSV:
        return import_ofac_csv;
    case CH_FMT_OFAC_LISTS:
        return import_ofac_list;
    case CH_FMT_CSV:
        return import_csv;
    case CH_FMT_TAGPACK:
        return import_tagpack;
    case CH_FMT_STIX:
        return import_stix;
    case CH_FMT_MISP:
        return import_misp;
    case CH_FMT_MISP_GALAXY:
        return import_misp_galaxy;
    case CH_FMT_ETHERSCAN:
        return import_etherscan;
    case CH_FMT_OFAC_COMMENTS:
        return import_ofac_comments;
    default:
        return NULL;
    }
}

static void stats_add(ch_import_stats *t, const ch_import_stats *s) {
    t->addresses += s->addresses;
    t->added += s->added;
    t->updated += s->updated;
    t->delisted += s->delisted;
    t->rejected += s->rejected;
    t->actors += s->actors;
    t->aliases += s->aliases;
    t->techniques += s->techniques;
    t->files += s->files;
    t->cut += s->cut;
    t->case_lost += s->case_lost;
    t->case_restored += s->case_restored;
    t->skipped += s->skipped;
    t->transcoded += s->transcoded;
}

/* Read one stream with one importer, then apply its delistings, in a
 * transaction of its own inside the import's: a file that fails leaves
 * nothing behind, so a folder's unreadable file can be skipped (skippable)
 * while the rest is kept. A failure that is not skipped fails the import. */
static int run_one(ch_imp *im, ch_intel_format fmt, FILE *f, const char *name,
                   ch_import_stats *total, bool skippable, ch_error *err) {
    importer_fn fn = importer_of(fmt);
    if (!fn) return ch_err(err, "%s: no importer for format %s", name, ch_intel_format_name(fmt));
    ch_import_stats st = {0};
    st.files = 1;
    MDB_txn *child;
    int rc = mdb_txn_begin(im->db->env, im->root, 0, &child);
    if (rc) {
        im->failed = true;
        return intel_lmdb_err(err, "begin file", rc);
    }
    im->txn = child;
    im->st = &st;
    im->file = name;
    memset(im->fam_seen, 0, sizeof im->fam_seen);
    memset(im->fam_lost, 0, sizeof im->fam_lost);
    int r = fn(im, f, name, err) < 0 || sweep(im, err) < 0 ? -1 : 0;
    if (r == 0) case_report(im);
    if (r == 0 && (rc = mdb_txn_commit(child)) != 0) r = intel_lmdb_err(err, "commit file", rc);
    if (r < 0) {
        if (rc == 0) mdb_txn_abort(child);
        im->nscopes = 0;
        case_free(im); /* it may name addresses of the file thrown away */
    }
    im->txn = im->root;
    im->st = NULL;
    if (r < 0) {
        if (!skippable) {
            im->failed = true;
            return -1;
        }
        imp_warn(im, "skipped %s (nothing of it imported): %s", name, err->msg);
        if (total) total->skipped++;
        return 0;
    }
    if (im->opts.on_file) im->opts.on_file(name, fmt, &st, im->opts.ctx);
    if (total) stats_add(total, &st);
    return 0;
}

static int run_file(ch_imp *im, ch_intel_format fmt, const char *path, ch_import_stats *total,
                    bool skippable, ch_error *err) {
    /* sdn.csv's cut remarks go on in sdn_comments.csv: read it first */
    if (fmt == CH_FMT_OFAC_CSV && ofac_comments_beside(im, path, err) < 0) {
        if (!skippable) {
            im->failed = true;
            return -1;
        }
        imp_warn(im, "%s", err->msg);
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        ch_err(err, "cannot open %s: %s", path, strerror(errno));
        if (!skippable) {
            im->failed = true;
            return -1;
        }
        imp_warn(im, "skipped %s", err->msg);
        if (total) total->skipped++;
        return 0;
    }
    int r = run_one(im, fmt, f, path, total, skippable, err);
    fclose(f);
    return r;
}

int ch_intel_import_mem(ch_import *im, ch_intel_format format, const char *name, const void *data,
                        size_t len, ch_import_stats *st, ch_error *err) {
    if (im->failed) return ch_err(err, "import failed earlier");
    if (st) memset(st, 0, sizeof *st);
    FILE *f = len ? fmemopen((void *)data, len, "rb") : fopen("/dev/null", "rb");
    if (!f) return ch_err(err, "%s: cannot read from memory", name);
    int r = run_one(im, format, f, name, st, false, err);
    fclose(f);
    return r;
}

/* ---- detection ---- */

static size_t peek(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!buf[i]) buf[i] = ' ';
    return n;
}

/* JSON text with whitespace removed, so key/value tests do not depend on
 * the file's spacing. */
static void squeeze(char *s) {
    char *w = s;
    for (; *s; s++)
        if (!isspace((unsigned char)*s)) *w++ = *s;
    *w = '\0';
}

static bool is_asset_list_name(const char *path) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    return !strncmp(b, "sanctioned_addresses_", 21);
}

/* Which importer reads a file, from its name and its first bytes (OFAC's
 * lists and XML forms, STIX, MISP, TagPack YAML, Etherscan labels, CSV):
 * formats are told by content, never by extension alone. */
static int detect_file(const char *path, ch_intel_format *out, ch_error *err) {
    static char buf[65536];
    const char *ext = ext_of(path);
    FILE *probe = fopen(path, "rb");
    if (!probe) return ch_err(err, "cannot open %s: %s", path, strerror(errno));
    fclose(probe);
    size_t n = peek(path, buf, sizeof buf);
    if (is_asset_list_name(path) && (!strcasecmp(ext, "txt") || !strcasecmp(ext, "json"))) {
        *out = CH_FMT_OFAC_LISTS;
        return 0;
    }
    if (!strcasecmp(ext, "yaml") || !strcasecmp(ext, "yml")) {
        if (strstr(buf, "\ntags:") || !strncmp(buf, "tags:", 5)) {
            *out = CH_FMT_TAGPACK;
            return 0;
        }
        if (strstr(buf, "\nactors:"))
            return ch_err(err, "%s: a GraphSense actor pack holds no addresses", path);
        *out = CH_FMT_TAGPACK;
        return 0;
    }
    if (!strcasecmp(ext, "xml")) {
        if (strstr(buf, "<sdnList")) {
            *out = CH_FMT_OFAC_XML;
            return 0;
        }
        if (strstr(buf, "<Sanctions")) {
            *out = CH_FMT_OFAC_ADVANCED;
            return 0;
        }
        return ch_err(err, "%s: XML but neither sdn.xml (<sdnList>) nor sdn_advanced.xml", path);
    }
    if (!strcasecmp(ext, "json")) {
        squeeze(buf);
        if (strstr(buf, "\"type\":\"bundle\""))
            *out = CH_FMT_STIX;
        else if (strstr(buf, "\"Event\":"))
            *out = CH_FMT_MISP;
        else if (strstr(buf, "\"values\":[") || strstr(buf, "\"type\":\"threat-actor\""))
            *out = CH_FMT_MISP_GALAXY;
        else if (!strncmp(buf, "{\"0x", 4) || strstr(path, "etherscan"))
            *out = CH_FMT_ETHERSCAN;
        else
            return ch_err(err,
                          "%s: JSON of no known kind (STIX bundle, MISP event or galaxy, "
                          "Etherscan labels)",
                          path);
        return 0;
    }
    if (ofac_is_comments_name(path)) {
        *out = CH_FMT_OFAC_COMMENTS;
        return 0;
    }
    if (!strcasecmp(ext, "csv")) {
        const char *b = strrchr(path, '/');
        b = b ? b + 1 : path;
        char head[512];
        size_t hl = strcspn(buf, "\r\n");
        if (hl >= sizeof head) hl = sizeof head - 1;
        memcpy(head, buf, hl);
        head[hl] = '\0';
        for (char *p = head; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        if (!strncmp(head, ",address,name tag", 17))
            *out = CH_FMT_ETHERSCAN;
        else if (!strcasecmp(b, "sdn.csv") ||
                 (strstr(buf, "Digital Currency Address") && !strstr(head, "address,") &&
                  !strstr(head, ",address")))
            *out = CH_FMT_OFAC_CSV;
        else if (csv_header_has_address(head))
            *out = CH_FMT_CSV;
        else
            return ch_err(err,
                          "%s: CSV without an address column in its header (address, "
                          "address_lc, wallet, wallet_address, ...)",
                          path);
        return 0;
    }
    if (!strcasecmp(ext, "txt") && is_asset_list_name(path)) {
        *out = CH_FMT_OFAC_LISTS;
        return 0;
    }
    (void)n;
    return ch_err(err, "%s: cannot tell the format (use --format)", path);
}

static bool file_exists(const char *dir, const char *rel) {
    char p[4096];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Sorted regular files of a folder (and entries that cannot be stat'ed). */
static int list_dir(const char *dir, char ***names, int *count, ch_error *err) {
    DIR *d = opendir(dir);
    if (!d) return ch_err(err, "cannot read folder %s: %s", dir, strerror(errno));
    int n = 0;
    size_t cap = 0;
    char **v = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[4096];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        /* an entry that cannot be stat'ed (a dangling link) is listed: the
         * import then says it cannot read it, like any unreadable file */
        if (stat(p, &st) == 0 && !S_ISREG(st.st_mode)) continue;
        char **nv = n < INT_MAX ? ch_grow(v, &cap, (size_t)n + 1, sizeof *v) : NULL;
        if (!nv) break;
        v = nv;
        v[n++] = strdup(p);
    }
    closedir(d);
    for (int i = 1; i < n; i++) /* insertion sort: folders are small */
        for (int j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
            char *t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    *names = v;
    *count = n;
    return 0;
}

static void free_list(char **v, int n) {
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static bool ext_fits(ch_intel_format f, const char *ext) {
    switch (f) {
    case CH_FMT_OFAC_XML:
    case CH_FMT_OFAC_ADVANCED:
        return !strcasecmp(ext, "xml");
    case CH_FMT_OFAC_CSV:
    case CH_FMT_CSV:
        return !strcasecmp(ext, "csv");
    case CH_FMT_TAGPACK:
        return !strcasecmp(ext, "yaml") || !strcasecmp(ext, "yml");
    case CH_FMT_STIX:
    case CH_FMT_MISP:
    case CH_FMT_MISP_GALAXY:
        return !strcasecmp(ext, "json");
    case CH_FMT_ETHERSCAN:
        return !strcasecmp(ext, "json") || !strcasecmp(ext, "csv");
    default:
        return false;
    }
}

/* The per-asset lists: one file per asset, .json preferred (the .txt twin
 * holds the same addresses). */
static int import_asset_lists(ch_imp *im, const char *dir, ch_import_stats *total, ch_error *err) {
    char **v;
    int n;
    if (list_dir(dir, &v, &n, err) < 0) return -1;
    int r = 0, done = 0;
    for (int i = 0; i < n && r == 0; i++) {
        if (!is_asset_list_name(v[i])) continue;
        const char *ext = ext_of(v[i]);
        if (!strcasecmp(ext, "txt")) {
            char twin[4096];
            snprintf(twin, sizeof twin, "%.*sjson", (int)(strlen(v[i]) - 3), v[i]);
            struct stat st;
            if (stat(twin, &st) == 0) continue;
        } else if (strcasecmp(ext, "json") != 0) {
            continue;
        }
        r = run_file(im, CH_FMT_OFAC_LISTS, v[i], total, !im->opts.strict, err);
        done++;
    }
    free_list(v, n);
    if (r == 0 && !done) return ch_err(err, "%s: no sanctioned_addresses_<ASSET> files", dir);
    return r;
}

/* A folder's documentation, not a list: passed over without a word. */
static bool is_doc_name(const char *path) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    static const char *const DOCS[] = {"README", "LICENSE",   "LICENCE", "COPYING",
                                       "NOTICE", "CHANGELOG", "AUTHORS"};
    for (size_t i = 0; i < sizeof DOCS / sizeof DOCS[0]; i++)
        if (!strncasecmp(b, DOCS[i], strlen(DOCS[i]))) return true;
    return !strcasecmp(ext_of(b), "md");
}

/* A folder's subfolders are not imported (a folder is one list or a set of
 * files): each is named in a warning and counted as skipped, or, with
 * opts.strict, fails the import. */
static int refuse_subfolders(ch_imp *im, const char *dir, bool skippable, ch_import_stats *total,
                             ch_error *err) {
    DIR *d = opendir(dir);
    if (!d) return ch_err(err, "cannot read folder %s: %s", dir, strerror(errno));
    struct dirent *e;
    int r = 0;
    while (r == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[4096];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        if (!skippable) {
            r = ch_err(err, "%s: a subfolder: not imported (name it to import it)", p);
            break;
        }
        imp_warn(im, "skipped %s: a subfolder, not imported (name it to import it)", p);
        total->skipped++;
    }
    closedir(d);
    return r;
}

/* A folder of mixed files. Every file that cannot be read - it cannot be
 * opened, its format cannot be told, or it is malformed - is treated alike:
 * skipped with a warning and counted (nothing of it kept), or, with
 * opts.strict, the end of the import. sdn_comments.csv is read before the
 * rest so that sdn.csv finds it. */
static int import_dir(ch_imp *im, const char *dir, ch_intel_format fmt, ch_import_stats *total,
                      ch_error *err) {
    char **v;
    int n;
    bool skippable = !im->opts.strict;
    if (fmt == CH_FMT_AUTO || fmt == CH_FMT_OFAC_LISTS) {
        if (list_dir(dir, &v, &n, err) < 0) return -1;
        bool lists = false;
        for (int i = 0; i < n; i++)
            lists |= is_asset_list_name(v[i]);
        free_list(v, n);
        if (lists || fmt == CH_FMT_OFAC_LISTS) return import_asset_lists(im, dir, total, err);
    }
    if ((fmt == CH_FMT_AUTO || fmt == CH_FMT_ETHERSCAN) &&
        file_exists(dir, "combined/combinedAccountLabels.json")) {
        char p[4096];
        snprintf(p, sizeof p, "%s/combined/combinedAccountLabels.json", dir);
        return run_file(im, CH_FMT_ETHERSCAN, p, total, false, err);
    }
    if (refuse_subfolders(im, dir, skippable, total, err) < 0) return -1;
    if (list_dir(dir, &v, &n, err) < 0) return -1;
    int r = 0;
    for (int pass = 0; pass < 2 && r == 0; pass++) {
        for (int i = 0; i < n && r == 0; i++) {
            bool comments = ofac_is_comments_name(v[i]);
            if (comments != (pass == 0) || is_doc_name(v[i])) continue;
            ch_intel_format f = comments ? CH_FMT_OFAC_COMMENTS : fmt;
            if (f == CH_FMT_AUTO) {
                if (detect_file(v[i], &f, err) < 0) {
                    if (!skippable) {
                        r = -1;
                        break;
                    }
                    imp_warn(im, "skipped %s", err->msg);
                    total->skipped++;
                    continue;
                }
            } else if (!comments && !ext_fits(f, ext_of(v[i]))) {
                continue;
            }
            r = run_file(im, f, v[i], total, skippable, err);
        }
    }
    free_list(v, n);
    if (r == 0 && total->files == 0 && total->skipped == 0)
        return ch_err(err, "%s: no file to import in this folder", dir);
    return r;
}

int ch_intel_detect_format(const char *path, ch_intel_format *out, ch_error *err) {
    struct stat st;
    if (stat(path, &st) != 0) return ch_err(err, "cannot read %s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        char **v;
        int n;
        if (list_dir(path, &v, &n, err) < 0) return -1;
        bool lists = false;
        for (int i = 0; i < n; i++)
            lists |= is_asset_list_name(v[i]);
        free_list(v, n);
        if (lists)
            *out = CH_FMT_OFAC_LISTS;
        else if (file_exists(path, "combined/combinedAccountLabels.json"))
            *out = CH_FMT_ETHERSCAN;
        else
            *out = CH_FMT_AUTO; /* a folder of mixed files: detected one by one */
        return 0;
    }
    return detect_file(path, out, err);
}

int ch_intel_import_path(ch_import *im, const char *path, ch_import_stats *st, ch_error *err) {
    if (im->failed) return ch_err(err, "import failed earlier");
    ch_import_stats local = {0};
    if (!st) st = &local;
    memset(st, 0, sizeof *st);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        im->failed = true;
        return ch_err(err, "cannot read %s: %s", path, strerror(errno));
    }
    int r;
    if (S_ISDIR(sb.st_mode)) {
        r = import_dir(im, path, im->opts.format, st, err);
    } else {
        ch_intel_format f = im->opts.format;
        if (ofac_is_comments_name(path)) f = CH_FMT_OFAC_COMMENTS;
        if (f == CH_FMT_AUTO && detect_file(path, &f, err) < 0)
            r = -1;
        else
            r = run_file(im, f, path, st, false, err);
    }
    if (r < 0) im->failed = true;
    return r;
}

int ch_intel_import(ch_intel *db, const char *path, const ch_import_opts *opts, ch_import_stats *st,
                    ch_error *err) {
    ch_import *im;
    if (ch_intel_import_begin(db, opts, &im, err) < 0) return -1;
    if (ch_intel_import_path(im, path, st, err) < 0) {
        ch_intel_import_abort(im);
        return -1;
    }
    return ch_intel_import_commit(im, err);
}

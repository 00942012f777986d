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
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "coinhound/chainaddr.h"

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

int ch_intel_canonical(const char *address, const char *asset, char out[128], ch_error *err) {
    ch_family hint = asset && *asset ? ch_family_from_asset(asset) : CH_FAM_UNKNOWN;
    ch_chainaddr ca;
    ch_error e1;
    if (ch_chainaddr_parse(address, hint, &ca, &e1) == 0) {
        intel_copy(out, 128, ca.canonical);
        return 0;
    }
    /* The asset may not say the form (USDT on Tron, MATIC on an EVM chain):
     * the form itself still has to validate. */
    if (hint != CH_FAM_UNKNOWN && ch_chainaddr_parse(address, CH_FAM_UNKNOWN, &ca, NULL) == 0) {
        intel_copy(out, 128, ca.canonical);
        return 0;
    }
    if (err) *err = e1;
    return -1;
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

int imp_add(ch_imp *im, const char *raw_address, ch_attribution *a, const char *actor_hint,
            imp_trust trust, const char *where, ch_error *err) {
    char raw[256];
    trim_copy(raw, sizeof raw, raw_address ? raw_address : "");
    upper(a->asset);
    if (!raw[0]) {
        im->st->rejected++;
        imp_warn(im, "%s: %s: empty address, row skipped", im->file, where);
        return 0;
    }
    ch_error why;
    if (ch_intel_canonical(raw, a->asset, a->address, &why) < 0) {
        bool known = a->asset[0] && ch_family_from_asset(a->asset) != CH_FAM_UNKNOWN;
        if ((trust == IMP_AS_LISTED || !known) && verbatim_ok(raw)) {
            intel_copy(a->address, sizeof a->address, raw);
            if (!strstr(a->note, "address kept as listed")) { /* not twice on re-import */
                char note[300];
                snprintf(note, sizeof note, "address kept as listed (%.200s)", why.msg);
                note_append(a, note);
            }
        } else {
            im->st->rejected++;
            imp_warn(im, "%s: %s: address '%s' (%s) rejected: %s", im->file, where, raw,
                     a->asset[0] ? a->asset : "no asset", why.msg);
            return 0;
        }
    }
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
    int rc = mdb_get(im->txn, im->db->attr, &k, &v);
    if (rc == 0) {
        ch_attribution old;
        memcpy(old.address, a->address, sizeof old.address);
        if (intel_attr_decode(v.mv_data, v.mv_size, &old) < 0)
            return ch_err(err, "attribution store: corrupt record for %s", a->address);
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
        im->st->updated++;
    } else if (rc == MDB_NOTFOUND) {
        im->st->added++;
    } else {
        return intel_lmdb_err(err, "read", rc);
    }
    im->st->addresses++;
    uint8_t buf[2048];
    size_t n = intel_attr_encode(a, buf, sizeof buf);
    if (!n) return ch_err(err, "%s: %s: attribution too large", im->file, where);
    if (rc == 0 && v.mv_size == n && memcmp(v.mv_data, buf, n) == 0) return 0; /* unchanged */
    MDB_val nv = {n, buf};
    rc = mdb_put(im->txn, im->db->attr, &k, &nv, 0);
    if (rc) return intel_lmdb_err(err, "write", rc);
    return 0;
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

/* Mark delisted what a complete list of a source no longer lists: each of
 * the source's attributions (of the scope's asset) whose last_listed is
 * older than the list. A list older than the newest one already imported
 * delists nothing. */
static int sweep(ch_imp *im, ch_error *err) {
    for (int i = 0; i < im->nscopes; i++) {
        imp_scope *s = &im->scopes[i];
        char mkey[128], latest[32];
        snprintf(mkey, sizeof mkey, "list:%s|%s", s->source, s->asset);
        intel_meta_get(im->db, im->txn, mkey, latest, sizeof latest);
        if (latest[0] && strcmp(s->date, latest) < 0) continue;
        MDB_cursor *cur;
        int rc = mdb_cursor_open(im->txn, im->db->attr, &cur);
        if (rc) return intel_lmdb_err(err, "cursor", rc);
        MDB_val k, v;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            ch_attribution a;
            a.address[0] = '\0';
            if (intel_attr_decode(v.mv_data, v.mv_size, &a) < 0) continue;
            if (a.delisted || strcmp(a.source_name, s->source) != 0) continue;
            if (s->asset[0] && strcmp(a.asset, s->asset) != 0) continue;
            if (strcmp(a.last_listed, s->date) >= 0) continue;
            a.delisted = true;
            intel_copy(a.delisted_date, sizeof a.delisted_date, s->date);
            uint8_t buf[2048];
            size_t n = intel_attr_encode(&a, buf, sizeof buf);
            /* the key must not point into the page being rewritten */
            uint8_t kcopy[160];
            if (k.mv_size > sizeof kcopy) continue;
            memcpy(kcopy, k.mv_data, k.mv_size);
            MDB_val kc = {k.mv_size, kcopy}, nv = {n, buf};
            rc = mdb_cursor_put(cur, &kc, &nv, MDB_CURRENT);
            if (rc) {
                mdb_cursor_close(cur);
                return intel_lmdb_err(err, "delist", rc);
            }
            im->st->delisted++;
        }
        mdb_cursor_close(cur);
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
    int rc = mdb_txn_begin(db->env, NULL, 0, &im->txn);
    if (rc) {
        free(im);
        return intel_lmdb_err(err, "begin import", rc);
    }
    *out = im;
    return 0;
}

int ch_intel_import_commit(ch_import *im, ch_error *err) {
    if (im->failed) {
        ch_intel_import_abort(im);
        return ch_err(err, "import failed earlier; nothing was written");
    }
    int rc = mdb_txn_commit(im->txn);
    free(im);
    return rc ? intel_lmdb_err(err, "commit import", rc) : 0;
}

void ch_intel_import_abort(ch_import *im) {
    if (!im) return;
    mdb_txn_abort(im->txn);
    free(im);
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
}

/* Read one stream with one importer, then apply its delistings. */
static int run_one(ch_imp *im, ch_intel_format fmt, FILE *f, const char *name,
                   ch_import_stats *total, ch_error *err) {
    importer_fn fn = importer_of(fmt);
    if (!fn) return ch_err(err, "%s: no importer for format %s", name, ch_intel_format_name(fmt));
    ch_import_stats st = {0};
    st.files = 1;
    im->st = &st;
    im->file = name;
    if (fn(im, f, name, err) < 0 || sweep(im, err) < 0) {
        im->failed = true;
        im->st = NULL;
        return -1;
    }
    im->st = NULL;
    if (im->opts.on_file) im->opts.on_file(name, fmt, &st, im->opts.ctx);
    if (total) stats_add(total, &st);
    return 0;
}

static int run_file(ch_imp *im, ch_intel_format fmt, const char *path, ch_import_stats *total,
                    ch_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        im->failed = true;
        return ch_err(err, "cannot open %s: %s", path, strerror(errno));
    }
    int r = run_one(im, fmt, f, path, total, err);
    fclose(f);
    return r;
}

int ch_intel_import_mem(ch_import *im, ch_intel_format format, const char *name, const void *data,
                        size_t len, ch_import_stats *st, ch_error *err) {
    if (im->failed) return ch_err(err, "import failed earlier");
    if (st) memset(st, 0, sizeof *st);
    FILE *f = len ? fmemopen((void *)data, len, "rb") : fopen("/dev/null", "rb");
    if (!f) return ch_err(err, "%s: cannot read from memory", name);
    int r = run_one(im, format, f, name, st, err);
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

static int detect_file(const char *path, ch_intel_format *out, ch_error *err) {
    static char buf[65536];
    const char *ext = ext_of(path);
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
        else if (strstr(head, "address"))
            *out = CH_FMT_CSV;
        else
            return ch_err(err, "%s: CSV without an 'address' column in its header", path);
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

/* Sorted regular files of a folder. */
static int list_dir(const char *dir, char ***names, int *count, ch_error *err) {
    DIR *d = opendir(dir);
    if (!d) return ch_err(err, "cannot read folder %s: %s", dir, strerror(errno));
    int n = 0, cap = 0;
    char **v = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[4096];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nv = realloc(v, (size_t)cap * sizeof *v);
            if (!nv) break;
            v = nv;
        }
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
        r = run_file(im, CH_FMT_OFAC_LISTS, v[i], total, err);
        done++;
    }
    free_list(v, n);
    if (r == 0 && !done) return ch_err(err, "%s: no sanctioned_addresses_<ASSET> files", dir);
    return r;
}

static int import_dir(ch_imp *im, const char *dir, ch_intel_format fmt, ch_import_stats *total,
                      ch_error *err) {
    char **v;
    int n;
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
        return run_file(im, CH_FMT_ETHERSCAN, p, total, err);
    }
    if (list_dir(dir, &v, &n, err) < 0) return -1;
    int r = 0;
    for (int i = 0; i < n && r == 0; i++) {
        ch_intel_format f = fmt;
        if (f == CH_FMT_AUTO) {
            ch_error why;
            if (detect_file(v[i], &f, &why) < 0) {
                imp_warn(im, "skipped %s", why.msg);
                continue;
            }
        } else if (!ext_fits(f, ext_of(v[i]))) {
            continue;
        }
        r = run_file(im, f, v[i], total, err);
    }
    free_list(v, n);
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
        if (f == CH_FMT_AUTO && detect_file(path, &f, err) < 0)
            r = -1;
        else
            r = run_file(im, f, path, st, err);
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

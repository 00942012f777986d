/* Incident records and published totals (docs/report.md): two CSV layouts
 * read by one strict reader. A header names the columns (any order, case
 * ignored; unknown columns are an error, so a misspelt column is never
 * silently empty); each row is checked field by field and a bad one is an
 * error naming the file, the line and the field. A file that fails leaves
 * nothing behind in the set. Lines whose first field starts with '#' are
 * comments; blank lines are skipped. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coinhound/report.h"
#include "util/csvread.h"
#include "util/vec.h"

#define FIELD_MAX 2048 /* longest field kept (a long refs list fits) */

struct ch_incidents {
    ch_incident *inc;
    size_t n_inc, cap_inc;
    ch_published *pub;
    size_t n_pub, cap_pub;
    char **str; /* every string the records point to */
    size_t n_str, cap_str;
};

int ch_incidents_new(ch_incidents **out, ch_error *err) {
    *out = calloc(1, sizeof **out);
    return *out ? 0 : ch_err(err, "out of memory");
}

void ch_incidents_free(ch_incidents *set) {
    if (!set) return;
    for (size_t i = 0; i < set->n_str; i++)
        free(set->str[i]);
    free(set->str);
    free(set->inc);
    free(set->pub);
    free(set);
}

size_t ch_incidents_count(const ch_incidents *set) {
    return set->n_inc;
}
const ch_incident *ch_incidents_get(const ch_incidents *set, size_t i) {
    return i < set->n_inc ? &set->inc[i] : NULL;
}
size_t ch_published_count(const ch_incidents *set) {
    return set->n_pub;
}
const ch_published *ch_published_get(const ch_incidents *set, size_t i) {
    return i < set->n_pub ? &set->pub[i] : NULL;
}

/* Room for need elements in *p (ch_grow, the one growable array). */
static int grow(void **p, size_t *cap, size_t need, size_t sz) {
    void *np = ch_grow(*p, cap, need, sz);
    if (!np) return -1;
    *p = np;
    return 0;
}

/* A copy of s owned by the set; NULL when out of memory. */
static const char *keep(ch_incidents *set, const char *s) {
    if (grow((void **)&set->str, &set->cap_str, set->n_str + 1, sizeof *set->str) != 0) return NULL;
    char *d = strdup(s);
    if (d) set->str[set->n_str++] = d;
    return d;
}

/* ---- field checks: each returns NULL when fine, else what is wrong ---- */

static bool is_http(const char *s) {
    return !strncasecmp(s, "https://", 8) || !strncasecmp(s, "http://", 7);
}

static const char *check_url(const char *s, bool required) {
    if (!s[0]) return required ? "is empty (every row cites its source)" : NULL;
    if (!is_http(s)) return "is not an http(s) URL";
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '"' || *p == '<' || *p == '>')
            return "holds a space or a character a URL cannot";
    return NULL;
}

/* YYYY, YYYY-MM or YYYY-MM-DD with a real month and day. */
static const char *check_date(const char *s, int *year) {
    size_t n = strlen(s);
    if (n != 4 && n != 7 && n != 10) return "is not YYYY-MM-DD, YYYY-MM or YYYY";
    for (size_t i = 0; i < n; i++)
        if ((i == 4 || i == 7) ? s[i] != '-' : !isdigit((unsigned char)s[i]))
            return "is not YYYY-MM-DD, YYYY-MM or YYYY";
    int y = atoi(s), m = n >= 7 ? atoi(s + 5) : 1, d = n == 10 ? atoi(s + 8) : 1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 2009 || y > 2100) return "has a year before Bitcoin (2009) or after 2100";
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return "is not a calendar date";
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return "is not a calendar date";
    *year = y;
    return NULL;
}

/* A non-negative decimal: digits, at most one '.', digits after it. */
static const char *check_decimal(const char *s, double max, double *out) {
    size_t digits = 0, dots = 0;
    for (const char *p = s; *p; p++) {
        if (isdigit((unsigned char)*p))
            digits++;
        else if (*p == '.' && !dots)
            dots++;
        else
            return "is not a plain decimal number (digits and one '.', no commas or units)";
    }
    if (!digits || s[0] == '.' || (dots && s[strlen(s) - 1] == '.'))
        return "is not a plain decimal number (digits and one '.', no commas or units)";
    if (strlen(s) > 40) return "is too long a number";
    double v = strtod(s, NULL);
    if (v > max) return "is larger than any theft (check the unit)";
    if (out) *out = v;
    return NULL;
}

static const char *check_word(const char *s, size_t max) {
    if (!s[0]) return "is empty";
    if (strlen(s) > max) return "is too long";
    for (const char *p = s; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-' && *p != '_')
            return "is not a lowercase name (a-z, 0-9, - and _)";
    return NULL;
}

/* Theft txs or addresses, space-separated, each in `trace --from` syntax
 * (hex, Base58, Bech32, 0x...; TXID:VOUT). */
static const char *check_refs(const char *s) {
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != ':' && *p != ' ')
            return "holds a character no tx or address has (refs are separated by spaces)";
    return NULL;
}

static const char *check_text(const char *s, bool required) {
    if (required && !s[0]) return "is empty";
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t') return "holds a control character";
    return NULL;
}

/* ---- the two layouts ---- */

typedef enum {
    F_DATE,
    F_VICTIM,
    F_KIND,
    F_ACTOR,
    F_GROUP,
    F_ATTR,
    F_ATTR_URL,
    F_USD,
    F_COIN_AMOUNT,
    F_COIN,
    F_CHAIN,
    F_REFS,
    F_SOURCE_URL,
    F_NOTE,
    F_N
} inc_field;
static const char *const INC_COLS[F_N] = {
    "date",       "victim",      "kind", "actor", "group",      "attribution", "attribution_url",
    "amount_usd", "amount_coin", "coin", "chain", "theft_refs", "source_url",  "note"};
static const bool INC_REQUIRED[F_N] = {[F_DATE] = true,  [F_VICTIM] = true, [F_KIND] = true,
                                       [F_ACTOR] = true, [F_USD] = true,    [F_SOURCE_URL] = true};

typedef enum {
    P_YEAR,
    P_PUBLISHER,
    P_ACTOR,
    P_USD,
    P_DENOM,
    P_DENOM_USD,
    P_SHARE,
    P_SOURCE_URL,
    P_NOTE,
    P_N
} pub_field;
static const char *const PUB_COLS[P_N] = {"year",       "publisher",   "actor",
                                          "amount_usd", "denominator", "denominator_usd",
                                          "share_pct",  "source_url",  "note"};
static const bool PUB_REQUIRED[P_N] = {
    [P_YEAR] = true, [P_PUBLISHER] = true, [P_ACTOR] = true,
    [P_USD] = true,  [P_DENOM] = true,     [P_SOURCE_URL] = true};

/* The header: col[k] is the position of column k (-1 absent). */
static int read_header(csv_reader *r, const char *name, const char *const *cols,
                       const bool *required, int n, int *col, ch_error *err) {
    for (int k = 0; k < n; k++)
        col[k] = -1;
    for (int i = 0; i < r->nfields; i++) {
        const char *f = r->field[i];
        if (i == 0 && !strncmp(f, "\xEF\xBB\xBF", 3)) f += 3; /* a UTF-8 BOM */
        int k = 0;
        while (k < n && strcasecmp(f, cols[k]))
            k++;
        if (k == n)
            return ch_err(err, "%s: line %ld: unknown column '%.64s' (docs/report.md lists them)",
                          name, r->rec_line, f);
        if (col[k] >= 0)
            return ch_err(err, "%s: line %ld: column '%s' twice", name, r->rec_line, cols[k]);
        col[k] = i;
    }
    for (int k = 0; k < n; k++)
        if (required[k] && col[k] < 0)
            return ch_err(err, "%s: line %ld: the header lacks the column '%s'", name, r->rec_line,
                          cols[k]);
    return 0;
}

static const char *field(const csv_reader *r, const int *col, int k) {
    return col[k] >= 0 && col[k] < r->nfields ? r->field[col[k]] : "";
}

#define BAD(k, why)                                                                                \
    ch_err(err, "%s: line %ld: %s '%.80s' %s", name, r->rec_line, cols[k], field(r, col, k), why)

/* One incident row checked field by field into the set; an error names the
 * file, the line and the field. */
static int incident_row(ch_incidents *set, const char *name, csv_reader *r, const int *col,
                        ch_error *err) {
    const char *const *cols = INC_COLS;
    const char *why;
    ch_incident x = {0};
    for (int k = 0; k < F_N; k++)
        if (strlen(field(r, col, k)) > FIELD_MAX) return BAD(k, "is too long");
    if ((why = check_date(field(r, col, F_DATE), &x.year))) return BAD(F_DATE, why);
    if ((why = check_text(field(r, col, F_VICTIM), true))) return BAD(F_VICTIM, why);
    const char *kind = field(r, col, F_KIND);
    if (strcmp(kind, "service") && strcmp(kind, "protocol") && strcmp(kind, "personal"))
        return BAD(F_KIND, "is not service, protocol or personal");
    if ((why = check_text(field(r, col, F_ACTOR), true))) return BAD(F_ACTOR, why);
    bool attributed = strcasecmp(field(r, col, F_ACTOR), "unattributed") != 0;
    if ((why = check_text(field(r, col, F_GROUP), false))) return BAD(F_GROUP, why);
    if ((why = check_text(field(r, col, F_ATTR), attributed)))
        return BAD(F_ATTR,
                   attributed ? "is empty: an actor needs the evidence of attribution" : why);
    if ((why = check_url(field(r, col, F_ATTR_URL), attributed)))
        return BAD(F_ATTR_URL, attributed && !field(r, col, F_ATTR_URL)[0]
                                   ? "is empty: an attribution needs its source"
                                   : why);
    if ((why = check_decimal(field(r, col, F_USD), 1e12, &x.usd))) return BAD(F_USD, why);
    const char *ca = field(r, col, F_COIN_AMOUNT), *coin = field(r, col, F_COIN);
    if (ca[0] && (why = check_decimal(ca, 1e15, NULL))) return BAD(F_COIN_AMOUNT, why);
    if (ca[0] && !coin[0]) return BAD(F_COIN, "is empty: amount_coin needs its coin");
    if (coin[0] && (strlen(coin) > 15 || check_refs(coin)))
        return BAD(F_COIN, "is not a coin symbol");
    const char *chain = field(r, col, F_CHAIN);
    if (chain[0] && (why = check_word(chain, 15))) return BAD(F_CHAIN, why);
    const char *refs = field(r, col, F_REFS);
    if ((why = check_refs(refs))) return BAD(F_REFS, why);
    if (refs[0] && !chain[0]) return BAD(F_CHAIN, "is empty: theft_refs need their chain");
    if ((why = check_url(field(r, col, F_SOURCE_URL), true))) return BAD(F_SOURCE_URL, why);
    if ((why = check_text(field(r, col, F_NOTE), false))) return BAD(F_NOTE, why);
    const char **dst[] = {
        &x.date, &x.victim,      &x.kind, &x.actor, &x.group, &x.attribution, &x.attribution_url,
        NULL,    &x.coin_amount, &x.coin, &x.chain, &x.refs,  &x.source_url,  &x.note};
    for (int k = 0; k < F_N; k++)
        if (dst[k] && !(*dst[k] = keep(set, field(r, col, k)))) return ch_err(err, "out of memory");
    if (!(x.file = keep(set, name))) return ch_err(err, "out of memory");
    x.line = r->rec_line;
    if (grow((void **)&set->inc, &set->cap_inc, set->n_inc + 1, sizeof *set->inc) != 0)
        return ch_err(err, "out of memory");
    set->inc[set->n_inc++] = x;
    return 0;
}

/* One published-figure row, likewise. */
static int published_row(ch_incidents *set, const char *name, csv_reader *r, const int *col,
                         ch_error *err) {
    const char *const *cols = PUB_COLS;
    const char *why;
    ch_published x = {.share_pct = -1};
    for (int k = 0; k < P_N; k++)
        if (strlen(field(r, col, k)) > FIELD_MAX) return BAD(k, "is too long");
    const char *y = field(r, col, P_YEAR);
    if (strlen(y) != 4 || (why = check_date(y, &x.year)))
        return BAD(P_YEAR, "is not a year (YYYY, 2009 to 2100)");
    if ((why = check_text(field(r, col, P_PUBLISHER), true))) return BAD(P_PUBLISHER, why);
    if ((why = check_text(field(r, col, P_ACTOR), true))) return BAD(P_ACTOR, why);
    if ((why = check_decimal(field(r, col, P_USD), 1e12, &x.usd))) return BAD(P_USD, why);
    if ((why = check_text(field(r, col, P_DENOM), true))) return BAD(P_DENOM, why);
    const char *du = field(r, col, P_DENOM_USD), *sh = field(r, col, P_SHARE);
    if (du[0] && (why = check_decimal(du, 1e12, &x.denominator_usd))) return BAD(P_DENOM_USD, why);
    if (sh[0] && (why = check_decimal(sh, 100, &x.share_pct))) return BAD(P_SHARE, why);
    if ((why = check_url(field(r, col, P_SOURCE_URL), true))) return BAD(P_SOURCE_URL, why);
    if ((why = check_text(field(r, col, P_NOTE), false))) return BAD(P_NOTE, why);
    if (!(x.publisher = keep(set, field(r, col, P_PUBLISHER))) ||
        !(x.actor = keep(set, field(r, col, P_ACTOR))) ||
        !(x.denominator = keep(set, field(r, col, P_DENOM))) ||
        !(x.source_url = keep(set, field(r, col, P_SOURCE_URL))) ||
        !(x.note = keep(set, field(r, col, P_NOTE))) || !(x.file = keep(set, name)))
        return ch_err(err, "out of memory");
    x.line = r->rec_line;
    if (grow((void **)&set->pub, &set->cap_pub, set->n_pub + 1, sizeof *set->pub) != 0)
        return ch_err(err, "out of memory");
    set->pub[set->n_pub++] = x;
    return 0;
}

/* Read one file of either layout from f; on failure the set is as before. */
static int load(ch_incidents *set, FILE *f, const char *name, bool published, ch_error *err) {
    size_t n_inc = set->n_inc, n_pub = set->n_pub, n_str = set->n_str;
    csv_reader r;
    csv_init(&r, f, name);
    int col[(int)F_N > (int)P_N ? (int)F_N : (int)P_N];
    int rc = 0, got;
    bool header = false;
    while (rc == 0 && (got = csv_next(&r, err)) == 1) {
        if (r.nfields == 1 && !r.field[0][0]) continue; /* a blank line */
        if (r.field[0][0] == '#') continue;             /* a comment */
        if (!header) {
            rc = published ? read_header(&r, name, PUB_COLS, PUB_REQUIRED, P_N, col, err)
                           : read_header(&r, name, INC_COLS, INC_REQUIRED, F_N, col, err);
            header = true;
            continue;
        }
        int ncols = 0;
        for (int k = 0; k < (published ? P_N : F_N); k++)
            if (col[k] >= 0) ncols++;
        if (r.nfields != ncols) {
            rc = ch_err(err, "%s: line %ld: %d fields, the header names %d", name, r.rec_line,
                        r.nfields, ncols);
            break;
        }
        rc = published ? published_row(set, name, &r, col, err)
                       : incident_row(set, name, &r, col, err);
    }
    if (rc == 0 && got < 0) rc = -1;
    if (rc == 0 && !header) rc = ch_err(err, "%s: empty: no header line", name);
    csv_free(&r);
    if (rc != 0) { /* keep nothing of a file that failed */
        for (size_t i = n_str; i < set->n_str; i++)
            free(set->str[i]);
        set->n_str = n_str;
        set->n_inc = n_inc;
        set->n_pub = n_pub;
    }
    return rc;
}

static int load_path(ch_incidents *set, const char *path, bool published, ch_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return ch_err(err, "cannot open %s", path);
    int rc = load(set, f, path, published, err);
    fclose(f);
    return rc;
}

static int load_mem(ch_incidents *set, const char *name, const char *data, size_t len,
                    bool published, ch_error *err) {
    if (!len) return ch_err(err, "%s: empty: no header line", name); /* fmemopen wants > 0 */
    FILE *f = fmemopen((void *)data, len, "rb");
    if (!f) return ch_err(err, "out of memory");
    int rc = load(set, f, name, published, err);
    fclose(f);
    return rc;
}

int ch_incidents_load(ch_incidents *set, const char *path, ch_error *err) {
    return load_path(set, path, false, err);
}
int ch_incidents_load_mem(ch_incidents *set, const char *name, const char *data, size_t len,
                          ch_error *err) {
    return load_mem(set, name, data, len, false, err);
}
int ch_published_load(ch_incidents *set, const char *path, ch_error *err) {
    return load_path(set, path, true, err);
}
int ch_published_load_mem(ch_incidents *set, const char *name, const char *data, size_t len,
                          ch_error *err) {
    return load_mem(set, name, data, len, true, err);
}

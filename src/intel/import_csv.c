/* CSV with a header: address,category,entity[,source,confidence,...].
 *
 * Columns are found by name (case-insensitive; several spellings each, see
 * COLS), so the dprk-attributions files and hand-made lists read alike;
 * columns that mean nothing here are kept in the note as "name=value".
 *
 * A `role` column (victim, attacker, exchange-deposit, ...) matters: the
 * incident lists name the victim's own wallets beside the thieves', all under
 * the incident's attribution. A victim's wallet must not screen as DPRK, so
 * for such roles the attribution goes into the note, not into `actor`. */
#include "intel/intel_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/csvread.h"

enum col {
    C_ADDRESS,
    C_ASSET,
    C_CATEGORY,
    C_ROLE,
    C_ENTITY,
    C_ACTOR,
    C_SOURCE,
    C_URL,
    C_DATE,
    C_CONFIDENCE,
    C_NOTE,
    C_PROGRAMS,
    C_DELISTED,
    C_COUNT
};

/* Header names, compared lower-cased with ' ' and '-' read as '_'. */
#define MAX_NAMES 14
static const char *const COLS[C_COUNT][MAX_NAMES] = {
    [C_ADDRESS] = {"address", "address_lc", "address_lowercase", "wallet", "wallet_address", "addr",
                   "public_address", "crypto_address", "cryptocurrency_address", "deposit_address",
                   "account", "account_address", "digital_currency_address"},
    [C_ASSET] = {"asset", "chain", "currency", "symbol", "coin", "network", "blockchain"},
    [C_CATEGORY] = {"category", "abuse", "type"},
    [C_ROLE] = {"role"},
    [C_ENTITY] = {"entity", "label", "name", "sdn_entity", "name_tag", "owner"},
    [C_ACTOR] = {"actor", "attribution", "threat_actor", "group"},
    [C_SOURCE] = {"source", "source_name", "source_publisher", "publisher"},
    [C_URL] = {"source_url", "url", "reference"},
    [C_DATE] = {"date", "source_date", "listed", "sdn_list_date", "list_date"},
    [C_CONFIDENCE] = {"confidence"},
    [C_NOTE] = {"note", "notes", "description", "comment"},
    [C_PROGRAMS] = {"programs", "program"},
    [C_DELISTED] = {"delisted"},
};

static int col_of(const char *header) {
    char h[64];
    size_t n = 0;
    if (!strncmp(header, "\xef\xbb\xbf", 3)) header += 3; /* UTF-8 BOM on the first column */
    while (isspace((unsigned char)*header) || *header == '"')
        header++;
    for (const char *p = header; *p && n + 1 < sizeof h; p++) {
        char c = (char)tolower((unsigned char)*p);
        h[n++] = c == ' ' || c == '-' ? '_' : c;
    }
    h[n] = '\0';
    while (n && (h[n - 1] == '_' || h[n - 1] == '"' || isspace((unsigned char)h[n - 1])))
        h[--n] = '\0';
    for (int c = 0; c < C_COUNT; c++)
        for (int i = 0; i < MAX_NAMES && COLS[c][i]; i++)
            if (!strcmp(h, COLS[c][i])) return c;
    return -1;
}

bool csv_header_has_address(const char *header) {
    char name[128];
    const char *p = header;
    for (;;) {
        size_t n = strcspn(p, ",");
        size_t k = n < sizeof name ? n : sizeof name - 1;
        memcpy(name, p, k);
        name[k] = '\0';
        if (col_of(name) == C_ADDRESS) return true;
        if (!p[n]) return false;
        p += n + 1;
    }
}

/* What a role means for the attribution. */
static const char *role_category(const char *role, bool *keeps_actor) {
    static const struct {
        const char *role, *category;
        bool actor;
    } ROLES[] = {
        {"attacker", "hacker", true},
        {"exploiter", "hacker", true},
        {"hacker", "hacker", true},
        {"laundering", "stolen_funds", true},
        {"victim", "victim", false},
        {"compromised-key", "compromised", false},
        {"exchange-deposit", "exchange", false},
        {"exchange", "exchange", false},
    };
    for (size_t i = 0; i < sizeof ROLES / sizeof ROLES[0]; i++)
        if (!strcasecmp(role, ROLES[i].role)) {
            *keeps_actor = ROLES[i].actor;
            return ROLES[i].category;
        }
    *keeps_actor = true;
    return NULL;
}

static bool truthy(const char *s) {
    return !strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "1") ||
           imp_date(s, (char[16]){0}) == 0;
}

/* The header's columns: what each means (map, -1 for a column kept as a
 * note), the first column of each meaning (have), and the names as given. */
typedef struct csv_cols {
    int ncols;
    int map[CSV_MAX_FIELDS];
    char *headers[CSV_MAX_FIELDS];
    int have[C_COUNT];
} csv_cols;

static void read_header(csv_cols *h, const csv_reader *r) {
    h->ncols = r->nfields;
    for (int c = 0; c < C_COUNT; c++)
        h->have[c] = -1;
    for (int i = 0; i < h->ncols; i++) {
        h->headers[i] = strdup(r->field[i]);
        h->map[i] = col_of(r->field[i]);
        if (h->map[i] >= 0 && h->have[h->map[i]] < 0)
            h->have[h->map[i]] = i;
        else
            h->map[i] = -1; /* a second column of the same meaning is kept as a note */
    }
}

/* A header the import can read: an address column, and something that says
 * what the file lists (a list that does not say is not guessed at: the
 * caller says it with --category, --entity and --source). 0, or -1. */
static int header_usable(const csv_cols *h, const ch_import_opts *o, const char *name,
                         ch_error *err) {
    if (h->have[C_ADDRESS] < 0)
        return ch_err(err,
                      "%s: line 1: no address column in the header (address, address_lc, "
                      "wallet, wallet_address, ...)",
                      name);
    bool given = o->category && *o->category && o->entity && *o->entity && o->source && *o->source;
    if (h->have[C_CATEGORY] < 0 && h->have[C_ROLE] < 0 && h->have[C_PROGRAMS] < 0 &&
        h->have[C_ACTOR] < 0 && !given)
        return ch_err(err,
                      "%s: line 1: no category column (nor role, programs or actor): the file "
                      "does not say what it lists; say it with --category, --entity and "
                      "--source",
                      name);
    return 0;
}

/* The row's category: its own column, else what its role means, else
 * sanctions for a programs column, stolen funds for an actor, the caller's,
 * or "unknown" (warned). *keeps_actor: whether the role lets the actor
 * stand (a victim's wallet is not the attacker's). */
static const char *row_category(ch_imp *im, const char *const v[C_COUNT], long line,
                                const char *name, bool *keeps_actor) {
    const ch_import_opts *o = &im->opts;
    *keeps_actor = true;
    const char *rc_cat = v[C_ROLE][0] ? role_category(v[C_ROLE], keeps_actor) : NULL;
    const char *cat = v[C_CATEGORY][0]              ? v[C_CATEGORY]
                      : rc_cat                      ? rc_cat
                      : v[C_PROGRAMS][0]            ? "sanctions"
                      : v[C_ACTOR][0]               ? "stolen_funds"
                      : o->category && *o->category ? o->category
                                                    : "unknown";
    if (!strcmp(cat, "unknown"))
        imp_warn(im, "%s: line %ld: the row says no category: imported as 'unknown'", name, line);
    return cat;
}

/* The row's source: a short source is a name (with the URL column beside
 * it); a URL or a long reference is a URL, named after the file's stem. */
static void row_source(ch_attribution *a, const char *const v[C_COUNT], const ch_import_opts *o,
                       const char *stem) {
    const char *src = v[C_SOURCE][0] ? v[C_SOURCE] : o->source && *o->source ? o->source : "";
    if (src[0] && strncmp(src, "http", 4) != 0 && strlen(src) < sizeof a->source_name) {
        intel_copy(a->source_name, sizeof a->source_name, src);
        intel_copy(a->source_url, sizeof a->source_url, v[C_URL]);
    } else {
        intel_copy(a->source_name, sizeof a->source_name, stem);
        intel_copy(a->source_url, sizeof a->source_url, v[C_URL][0] ? v[C_URL] : src);
    }
}

/* The note: the note column, the incident of a role that does not keep
 * the actor, then every other column as name=value. */
static void row_note(ch_attribution *a, const char *const v[C_COUNT], bool keeps_actor,
                     const csv_cols *h, const csv_reader *r) {
    intel_copy(a->note, sizeof a->note, v[C_NOTE]);
    if (!keeps_actor && v[C_ACTOR][0]) {
        size_t n = strlen(a->note);
        snprintf(a->note + n, sizeof a->note - n, "%s%.40s in an incident attributed to %.100s",
                 n ? "; " : "", v[C_ROLE], v[C_ACTOR]);
    }
    for (int i = 0; i < r->nfields && i < h->ncols; i++) {
        if (h->map[i] >= 0 && h->map[i] != C_PROGRAMS && h->map[i] != C_ROLE) continue;
        if (!r->field[i][0]) continue;
        size_t n = strlen(a->note);
        snprintf(a->note + n, sizeof a->note - n, "%s%s=%s", n ? "; " : "", h->headers[i],
                 r->field[i]);
    }
}

/* Delisted rows: a `delisted` column (true, or the date), or the marker some
 * lists put in the name ("TORNADO CASH (DELISTED 2025-03)"); the date from
 * either, else the source's. */
static void row_delisted(ch_attribution *a, const char *delisted) {
    const char *mark = strcasestr(a->entity, "DELISTED");
    if (!truthy(delisted) && !mark) return;
    a->delisted = true;
    char d[16] = "";
    if (imp_date(delisted, d) == 0) {
        intel_copy(a->delisted_date, sizeof a->delisted_date, d);
    } else if (mark) {
        const char *p = mark + 8;
        while (*p == ' ')
            p++;
        size_t n = strspn(p, "0123456789-/");
        if (n > 10) n = 10;
        memcpy(a->delisted_date, p, n);
        a->delisted_date[n] = '\0';
    }
    if (!a->delisted_date[0]) intel_copy(a->delisted_date, sizeof a->delisted_date, a->source_date);
}

/* One data row into the store (imp_add): 0, or -1 with err. */
static int import_row(ch_imp *im, const csv_cols *h, const csv_reader *r, const char *name,
                      const char *stem, ch_error *err) {
    const ch_import_opts *o = &im->opts;
    const char *v[C_COUNT];
    for (int c = 0; c < C_COUNT; c++)
        v[c] = h->have[c] >= 0 && h->have[c] < r->nfields ? r->field[h->have[c]] : "";
    ch_attribution a;
    memset(&a, 0, sizeof a);
    intel_copy(a.asset, sizeof a.asset, v[C_ASSET]);
    intel_copy(a.entity, sizeof a.entity,
               v[C_ENTITY][0]            ? v[C_ENTITY]
               : v[C_ACTOR][0]           ? v[C_ACTOR]
               : o->entity && *o->entity ? o->entity
                                         : "");
    bool keeps_actor;
    intel_copy(a.category, sizeof a.category, row_category(im, v, r->rec_line, name, &keeps_actor));
    row_source(&a, v, o, stem);
    imp_date(v[C_DATE], a.source_date);
    a.confidence = 70;
    if (v[C_CONFIDENCE][0]) {
        char *end;
        long c = strtol(v[C_CONFIDENCE], &end, 10);
        if (*end || c < 0 || c > 100)
            return ch_err(err, "%s: line %ld: confidence '%s' is not 0..100", name, r->rec_line,
                          v[C_CONFIDENCE]);
        a.confidence = (uint8_t)c;
    }
    row_note(&a, v, keeps_actor, h, r);
    row_delisted(&a, v[C_DELISTED]);
    char where[32];
    snprintf(where, sizeof where, "line %ld", r->rec_line);
    if (imp_add(im, v[C_ADDRESS], &a, keeps_actor ? v[C_ACTOR] : NULL, IMP_VALIDATE, where, err) <
        0)
        return -1;
    return 0;
}

int import_csv(ch_imp *im, FILE *f, const char *name, ch_error *err) {
    csv_reader r;
    csv_init(&r, f, name);
    int rc = csv_next(&r, err);
    if (rc <= 0) {
        csv_free(&r);
        return rc < 0 ? -1 : ch_err(err, "%s: empty file (a header line is needed)", name);
    }
    csv_cols h;
    read_header(&h, &r);
    int result = header_usable(&h, &im->opts, name, err);
    char stem[64];
    imp_stem(name, stem, sizeof stem);
    while (result == 0 && (rc = csv_next(&r, err)) == 1) {
        if (r.nfields == 1 && !r.field[0][0]) continue; /* blank line */
        if (r.nfields > h.ncols)
            result = ch_err(err, "%s: line %ld: %d fields, the header has %d", name, r.rec_line,
                            r.nfields, h.ncols);
        else
            result = import_row(im, &h, &r, name, stem, err);
    }
    if (result == 0 && rc < 0) result = -1;
    for (int i = 0; i < h.ncols; i++)
        free(h.headers[i]);
    csv_free(&r);
    return result;
}

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

int import_csv(ch_imp *im, FILE *f, const char *name, ch_error *err) {
    csv_reader r;
    csv_init(&r, f, name);
    int rc = csv_next(&r, err);
    if (rc <= 0) {
        csv_free(&r);
        return rc < 0 ? -1 : ch_err(err, "%s: empty file (a header line is needed)", name);
    }
    int ncols = r.nfields;
    int map[CSV_MAX_FIELDS];
    char *headers[CSV_MAX_FIELDS];
    int have[C_COUNT];
    for (int c = 0; c < C_COUNT; c++)
        have[c] = -1;
    for (int i = 0; i < ncols; i++) {
        headers[i] = strdup(r.field[i]);
        map[i] = col_of(r.field[i]);
        if (map[i] >= 0 && have[map[i]] < 0)
            have[map[i]] = i;
        else
            map[i] = -1; /* a second column of the same meaning is kept as a note */
    }
    int result = 0;
    if (have[C_ADDRESS] < 0) {
        result = ch_err(err,
                        "%s: line 1: no address column in the header (address, address_lc, "
                        "wallet, wallet_address, ...)",
                        name);
        goto done;
    }
    /* A list that does not say what it lists is not guessed at: without a
     * column that gives the category, the caller says it. */
    const ch_import_opts *o = &im->opts;
    bool given = o->category && *o->category && o->entity && *o->entity && o->source && *o->source;
    if (have[C_CATEGORY] < 0 && have[C_ROLE] < 0 && have[C_PROGRAMS] < 0 && have[C_ACTOR] < 0 &&
        !given) {
        result = ch_err(err,
                        "%s: line 1: no category column (nor role, programs or actor): the file "
                        "does not say what it lists; say it with --category, --entity and "
                        "--source",
                        name);
        goto done;
    }
    char stem[64];
    imp_stem(name, stem, sizeof stem);
    while ((rc = csv_next(&r, err)) == 1) {
        if (r.nfields == 1 && !r.field[0][0]) continue; /* blank line */
        if (r.nfields > ncols) {
            result = ch_err(err, "%s: line %ld: %d fields, the header has %d", name, r.rec_line,
                            r.nfields, ncols);
            goto done;
        }
        const char *v[C_COUNT];
        for (int c = 0; c < C_COUNT; c++)
            v[c] = have[c] >= 0 && have[c] < r.nfields ? r.field[have[c]] : "";
        ch_attribution a;
        memset(&a, 0, sizeof a);
        intel_copy(a.asset, sizeof a.asset, v[C_ASSET]);
        intel_copy(a.entity, sizeof a.entity,
                   v[C_ENTITY][0]            ? v[C_ENTITY]
                   : v[C_ACTOR][0]           ? v[C_ACTOR]
                   : o->entity && *o->entity ? o->entity
                                             : "");
        bool keeps_actor = true;
        const char *rc_cat = v[C_ROLE][0] ? role_category(v[C_ROLE], &keeps_actor) : NULL;
        const char *cat = v[C_CATEGORY][0]              ? v[C_CATEGORY]
                          : rc_cat                      ? rc_cat
                          : v[C_PROGRAMS][0]            ? "sanctions"
                          : v[C_ACTOR][0]               ? "stolen_funds"
                          : o->category && *o->category ? o->category
                                                        : "unknown";
        if (!strcmp(cat, "unknown"))
            imp_warn(im, "%s: line %ld: the row says no category: imported as 'unknown'", name,
                     r.rec_line);
        intel_copy(a.category, sizeof a.category, cat);
        /* A short source is a name; a URL or a long reference is a URL. */
        const char *src = v[C_SOURCE][0] ? v[C_SOURCE] : o->source && *o->source ? o->source : "";
        if (src[0] && strncmp(src, "http", 4) != 0 && strlen(src) < sizeof a.source_name) {
            intel_copy(a.source_name, sizeof a.source_name, src);
            intel_copy(a.source_url, sizeof a.source_url, v[C_URL]);
        } else {
            intel_copy(a.source_name, sizeof a.source_name, stem);
            intel_copy(a.source_url, sizeof a.source_url, v[C_URL][0] ? v[C_URL] : src);
        }
        imp_date(v[C_DATE], a.source_date);
        a.confidence = 70;
        if (v[C_CONFIDENCE][0]) {
            char *end;
            long c = strtol(v[C_CONFIDENCE], &end, 10);
            if (*end || c < 0 || c > 100) {
                result = ch_err(err, "%s: line %ld: confidence '%s' is not 0..100", name,
                                r.rec_line, v[C_CONFIDENCE]);
                goto done;
            }
            a.confidence = (uint8_t)c;
        }
        intel_copy(a.note, sizeof a.note, v[C_NOTE]);
        if (!keeps_actor && v[C_ACTOR][0]) {
            size_t n = strlen(a.note);
            snprintf(a.note + n, sizeof a.note - n, "%s%.40s in an incident attributed to %.100s",
                     n ? "; " : "", v[C_ROLE], v[C_ACTOR]);
        }
        /* Other columns, as name=value. */
        for (int i = 0; i < r.nfields && i < ncols; i++) {
            if (map[i] >= 0 && map[i] != C_PROGRAMS && map[i] != C_ROLE) continue;
            if (!r.field[i][0]) continue;
            size_t n = strlen(a.note);
            snprintf(a.note + n, sizeof a.note - n, "%s%s=%s", n ? "; " : "", headers[i],
                     r.field[i]);
        }
        /* Delisted rows: a `delisted` column, or the marker some lists put
         * in the name ("TORNADO CASH (DELISTED 2025-03)"). */
        const char *mark = strcasestr(a.entity, "DELISTED");
        if (truthy(v[C_DELISTED]) || mark) {
            a.delisted = true;
            char d[16] = "";
            if (imp_date(v[C_DELISTED], d) == 0) {
                intel_copy(a.delisted_date, sizeof a.delisted_date, d);
            } else if (mark) {
                const char *p = mark + 8;
                while (*p == ' ')
                    p++;
                size_t n = strspn(p, "0123456789-/");
                if (n > 10) n = 10;
                memcpy(a.delisted_date, p, n);
                a.delisted_date[n] = '\0';
            }
            if (!a.delisted_date[0])
                intel_copy(a.delisted_date, sizeof a.delisted_date, a.source_date);
        }
        char where[32];
        snprintf(where, sizeof where, "line %ld", r.rec_line);
        if (imp_add(im, v[C_ADDRESS], &a, keeps_actor ? v[C_ACTOR] : NULL, IMP_VALIDATE, where,
                    err) < 0) {
            result = -1;
            goto done;
        }
    }
    if (rc < 0) result = -1;
done:
    for (int i = 0; i < ncols; i++)
        free(headers[i]);
    csv_free(&r);
    return result;
}

/* GraphSense TagPacks (YAML, read with libyaml's event parser).
 *
 * A TagPack is a mapping: header fields (title, creator, source, currency,
 * network, confidence, abuse, category, label, actor, lastmod, ...) and
 * `tags:`, a sequence of entries (address, label, currency, ...). Each entry
 * inherits every header field and overrides what it sets itself. YAML lets
 * the header come after `tags:`, so the file is read in two streaming passes:
 * the header first, then the entries. */
#include "intel/intel_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

enum field {
    F_ADDRESS,
    F_CURRENCY,
    F_NETWORK,
    F_LABEL,
    F_SOURCE,
    F_CONFIDENCE,
    F_ABUSE,
    F_CATEGORY,
    F_ACTOR,
    F_LASTMOD,
    F_TITLE,
    F_DESCRIPTION,
    F_COUNT
};
static const char *const FIELD_NAMES[F_COUNT] = {
    "address", "currency", "network", "label",   "source", "confidence",
    "abuse",   "category", "actor",   "lastmod", "title",  "description",
};

typedef struct fields {
    char v[F_COUNT][256];
} fields;

static int field_of(const char *key) {
    for (int i = 0; i < F_COUNT; i++)
        if (!strcmp(key, FIELD_NAMES[i])) return i;
    return -1;
}

typedef struct reader {
    yaml_parser_t p;
    const char *name;
    ch_error *err;
} reader;

static int next(reader *r, yaml_event_t *ev) {
    if (!yaml_parser_parse(&r->p, ev))
        return ch_err(r->err, "%s: line %zu, column %zu: %s%s%s", r->name,
                      r->p.problem_mark.line + 1, r->p.problem_mark.column + 1,
                      r->p.problem ? r->p.problem : "YAML error", r->p.context ? " " : "",
                      r->p.context ? r->p.context : "");
    return 0;
}

/* Skip the node that starts with `ev` (already read; deleted here). */
static int skip(reader *r, yaml_event_t *ev) {
    int depth = 0;
    for (;;) {
        if (ev->type == YAML_MAPPING_START_EVENT || ev->type == YAML_SEQUENCE_START_EVENT)
            depth++;
        else if (ev->type == YAML_MAPPING_END_EVENT || ev->type == YAML_SEQUENCE_END_EVENT)
            depth--;
        else if (ev->type == YAML_STREAM_END_EVENT) {
            yaml_event_delete(ev);
            return ch_err(r->err, "%s: unexpected end of YAML", r->name);
        }
        yaml_event_delete(ev);
        if (depth <= 0) return 0;
        if (next(r, ev) < 0) return -1;
    }
}

static void set(fields *f, int i, const yaml_event_t *ev) {
    size_t n = ev->data.scalar.length;
    if (n >= sizeof f->v[i]) n = sizeof f->v[i] - 1;
    memcpy(f->v[i], ev->data.scalar.value, n);
    f->v[i][n] = '\0';
}

/* Read a mapping's scalar fields into f (the MAPPING_START is consumed). */
static int read_mapping(reader *r, fields *f) {
    yaml_event_t k, v;
    for (;;) {
        if (next(r, &k) < 0) return -1;
        if (k.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&k);
            return 0;
        }
        if (k.type != YAML_SCALAR_EVENT) {
            size_t line = k.start_mark.line + 1;
            yaml_event_delete(&k);
            return ch_err(r->err, "%s: line %zu: a tag entry's keys must be plain names", r->name,
                          line);
        }
        int i = field_of((const char *)k.data.scalar.value);
        yaml_event_delete(&k);
        if (next(r, &v) < 0) return -1;
        if (v.type == YAML_SCALAR_EVENT) {
            if (i >= 0) set(f, i, &v);
            yaml_event_delete(&v);
        } else if (skip(r, &v) < 0) {
            return -1;
        }
    }
}

/* GraphSense's confidence names -> 0..100 (our scale; the names rank
 * how the tag was obtained). */
static uint8_t confidence_of(const char *s) {
    static const struct {
        const char *name;
        uint8_t value;
    } C[] = {
        {"ownership", 100}, {"authority_data", 95}, {"service_data", 80},          {"forensic", 70},
        {"heuristic", 50},  {"web_crawl", 40},      {"untrusted_transaction", 20},
    };
    for (size_t i = 0; i < sizeof C / sizeof C[0]; i++)
        if (!strcasecmp(s, C[i].name)) return C[i].value;
    int v = atoi(s);
    return v > 0 && v <= 100 ? (uint8_t)v : 50;
}

/* abuse (what was done) wins over category (what the entity is). */
static const char *category_of(const char *abuse, const char *category) {
    static const struct {
        const char *from, *to;
    } M[] = {
        {"sanction", "sanctions"},
        {"service_hack", "hacker"},
        {"mixing_service", "mixer"},
        {"ransomware", "ransomware"},
        {"phishing", "scam"},
        {"scam", "scam"},
        {"ponzi_scheme", "scam"},
        {"exchange", "exchange"},
        {"darknet_crawling", "darknet"},
        {"market", "darknet"},
        {"terrorism", "terrorist_financing"},
    };
    const char *s = abuse[0] ? abuse : category;
    for (size_t i = 0; i < sizeof M / sizeof M[0]; i++)
        if (!strcasecmp(s, M[i].from)) return M[i].to;
    return s[0] ? s : "unknown";
}

static int add_entry(ch_imp *im, const fields *h, const fields *e, const char *stem, size_t line,
                     ch_error *err) {
    fields t = *h;
    for (int i = 0; i < F_COUNT; i++)
        if (e->v[i][0]) memcpy(t.v[i], e->v[i], sizeof t.v[i]);
    ch_attribution a;
    memset(&a, 0, sizeof a);
    intel_copy(a.asset, sizeof a.asset, t.v[F_CURRENCY][0] ? t.v[F_CURRENCY] : t.v[F_NETWORK]);
    intel_copy(a.entity, sizeof a.entity, t.v[F_LABEL][0] ? t.v[F_LABEL] : t.v[F_ACTOR]);
    intel_copy(a.category, sizeof a.category, category_of(t.v[F_ABUSE], t.v[F_CATEGORY]));
    /* A pack that copies OFAC's list says so by its source, not its
     * category ("user" in GraphSense's ofac pack): it lists sanctions. */
    if (!t.v[F_ABUSE][0] && (!strcasecmp(a.category, "user") || !strcmp(a.category, "unknown")) &&
        strcasestr(t.v[F_SOURCE], "treasury.gov/ofac"))
        intel_copy(a.category, sizeof a.category, "sanctions");
    snprintf(a.source_name, sizeof a.source_name, "GraphSense TagPack %.40s", stem);
    intel_copy(a.source_url, sizeof a.source_url, t.v[F_SOURCE]);
    imp_date(t.v[F_LASTMOD], a.source_date);
    a.confidence = confidence_of(t.v[F_CONFIDENCE]);
    intel_copy(a.note, sizeof a.note, t.v[F_TITLE]);
    char where[32];
    snprintf(where, sizeof where, "line %zu", line);
    /* The GraphSense actor id ("lazarusgroup") resolves like any alias. */
    return imp_add(im, e->v[F_ADDRESS], &a, t.v[F_ACTOR], IMP_VALIDATE, where, err);
}

/* One pass. header_only: collect the header; else add each entry. */
static int pass(ch_imp *im, FILE *f, const char *name, fields *h, bool header_only, ch_error *err) {
    reader r = {.name = name, .err = err};
    if (!yaml_parser_initialize(&r.p)) return ch_err(err, "libyaml: out of memory");
    yaml_parser_set_input_file(&r.p, f);
    yaml_event_t ev;
    int result = 0, ntags = 0;
    char stem[64];
    imp_stem(name, stem, sizeof stem);
    /* stream start, document start, the top mapping */
    for (int i = 0; i < 3 && result == 0; i++) {
        if (next(&r, &ev) < 0) {
            result = -1;
            break;
        }
        yaml_event_type_t want[3] = {YAML_STREAM_START_EVENT, YAML_DOCUMENT_START_EVENT,
                                     YAML_MAPPING_START_EVENT};
        if (ev.type != want[i])
            result = ch_err(err, "%s: line %zu: a TagPack is a YAML mapping", name,
                            ev.start_mark.line + 1);
        yaml_event_delete(&ev);
    }
    while (result == 0) {
        if (next(&r, &ev) < 0) {
            result = -1;
            break;
        }
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (ev.type != YAML_SCALAR_EVENT) {
            result = ch_err(err, "%s: line %zu: a TagPack's keys must be plain names", name,
                            ev.start_mark.line + 1);
            yaml_event_delete(&ev);
            break;
        }
        char key[64];
        intel_copy(key, sizeof key, (const char *)ev.data.scalar.value);
        yaml_event_delete(&ev);
        if (next(&r, &ev) < 0) {
            result = -1;
            break;
        }
        if (!strcmp(key, "tags") && !header_only) {
            if (ev.type != YAML_SEQUENCE_START_EVENT) {
                result = ch_err(err, "%s: line %zu: 'tags' must be a list", name,
                                ev.start_mark.line + 1);
                yaml_event_delete(&ev);
                break;
            }
            yaml_event_delete(&ev);
            for (;;) {
                if (next(&r, &ev) < 0) {
                    result = -1;
                    break;
                }
                if (ev.type == YAML_SEQUENCE_END_EVENT) {
                    yaml_event_delete(&ev);
                    break;
                }
                size_t line = ev.start_mark.line + 1;
                if (ev.type != YAML_MAPPING_START_EVENT) {
                    result = ch_err(err, "%s: line %zu: each tag must be a mapping", name, line);
                    yaml_event_delete(&ev);
                    break;
                }
                yaml_event_delete(&ev);
                fields e;
                memset(&e, 0, sizeof e);
                if (read_mapping(&r, &e) < 0 || add_entry(im, h, &e, stem, line, err) < 0) {
                    result = -1;
                    break;
                }
                ntags++;
            }
        } else if (ev.type == YAML_SCALAR_EVENT) {
            int i = field_of(key);
            if (header_only && i >= 0 && i != F_ADDRESS) set(h, i, &ev);
            yaml_event_delete(&ev);
        } else if (skip(&r, &ev) < 0) {
            result = -1;
        }
    }
    /* The rest of the stream must parse too (a broken tail is bad input). */
    while (result == 0) {
        if (next(&r, &ev) < 0) {
            result = -1;
            break;
        }
        bool end = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
        if (end) break;
    }
    yaml_parser_delete(&r.p);
    (void)ntags;
    return result;
}

int import_tagpack(ch_imp *im, FILE *f, const char *name, ch_error *err) {
    fields h;
    memset(&h, 0, sizeof h);
    if (pass(im, f, name, &h, true, err) < 0) return -1;
    if (fseek(f, 0, SEEK_SET) != 0) return ch_err(err, "%s: cannot read twice", name);
    return pass(im, f, name, &h, false, err);
}

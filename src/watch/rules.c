/* Watch rules from YAML (libyaml's document API: the whole file is small, and
 * each node keeps its line, so every error can name where it is). */
#include "coinhound/watch.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

typedef struct ctx {
    yaml_document_t *doc;
    const char *name;
    ch_error *err;
} ctx;

static unsigned line_of(const yaml_node_t *n) {
    return (unsigned)n->start_mark.line + 1;
}

static int fail_at(ctx *c, const yaml_node_t *n, const char *fmt, const char *a, const char *b) {
    char msg[512];
    snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
    return ch_err(c->err, "%s: line %u: %s", c->name, line_of(n), msg);
}

static const char *scalar(const yaml_node_t *n) {
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

const char *ch_watch_rule_kind_name(ch_watch_rule_kind k) {
    switch (k) {
    case CH_WATCH_ADDRESS:
        return "address";
    case CH_WATCH_LARGE:
        return "large_transfer";
    case CH_WATCH_ENTITY:
        return "entity";
    case CH_WATCH_ACTOR:
        return "actor";
    case CH_WATCH_CATEGORY:
        return "category";
    }
    return "?";
}

static int addr_cmp(const void *a, const void *b) {
    return memcmp(a, b, 20);
}

/* A scalar or a sequence of scalars, each handed to fn. */
static int each_scalar(ctx *c, yaml_node_t *v, const char *field,
                       int (*fn)(ctx *c, yaml_node_t *item, ch_watch_rule *r), ch_watch_rule *r) {
    if (v->type == YAML_SCALAR_NODE) return fn(c, v, r);
    if (v->type != YAML_SEQUENCE_NODE)
        return fail_at(c, v, "'%s' must be a value or a list of values", field, NULL);
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yaml_document_get_node(c->doc, *it);
        if (!scalar(item))
            return fail_at(c, item ? item : v, "each entry of '%s' must be a plain value", field,
                           NULL);
        if (fn(c, item, r) != 0) return -1;
    }
    return 0;
}

static int add_address(ctx *c, yaml_node_t *item, ch_watch_rule *r) {
    const char *s = scalar(item);
    ch_evm_addr a;
    if (ch_evm_addr_from_hex(s, strlen(s), &a) != 0)
        return fail_at(c, item, "'%s' is not an EVM address (0x and 40 hex digits)", s, NULL);
    uint8_t(*v)[20] = realloc(r->addrs, (r->n_addrs + 1) * sizeof *v);
    if (!v) return ch_err(c->err, "out of memory");
    r->addrs = v;
    memcpy(v[r->n_addrs++], a.b, 20);
    return 0;
}

static int add_value(ctx *c, yaml_node_t *item, ch_watch_rule *r) {
    const char *s = scalar(item);
    if (!*s) return fail_at(c, item, "an empty value matches nothing", NULL, NULL);
    char **v = realloc(r->values, (r->n_values + 1) * sizeof *v);
    if (!v) return ch_err(c->err, "out of memory");
    r->values = v;
    if (!(v[r->n_values] = strdup(s))) return ch_err(c->err, "out of memory");
    r->n_values++;
    return 0;
}

static bool all_digits(const char *s) {
    if (!*s) return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return false;
    return true;
}

static int parse_rule(ctx *c, yaml_node_t *m, ch_watch_rule *r) {
    if (m->type != YAML_MAPPING_NODE)
        return fail_at(c, m, "a rule is a mapping (name:, kind:, ...)", NULL, NULL);
    r->line = line_of(m);
    snprintf(r->severity, sizeof r->severity, "medium");
    yaml_node_t *kind = NULL, *name = NULL, *vals = NULL, *asset = NULL, *min = NULL;
    const char *vals_key = NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        const char *key = scalar(k);
        if (!key || !v) return fail_at(c, k ? k : m, "a rule's keys are plain words", NULL, NULL);
        if (!strcmp(key, "name")) {
            if (!scalar(v) || !*scalar(v) || strlen(scalar(v)) >= sizeof r->name)
                return fail_at(c, v, "'name' must be a word of 1 to 63 characters", NULL, NULL);
            name = v;
        } else if (!strcmp(key, "kind")) {
            if (!scalar(v)) return fail_at(c, v, "'kind' must be a word", NULL, NULL);
            kind = v;
        } else if (!strcmp(key, "severity")) {
            const char *s = scalar(v);
            if (!s || (strcmp(s, "low") && strcmp(s, "medium") && strcmp(s, "high") &&
                       strcmp(s, "critical")))
                return fail_at(c, v, "severity '%s' is not one of low, medium, high, critical",
                               s ? s : "(not a word)", NULL);
            snprintf(r->severity, sizeof r->severity, "%s", s);
        } else if (!strcmp(key, "addresses") || !strcmp(key, "entity") ||
                   !strcmp(key, "entities") || !strcmp(key, "actor") || !strcmp(key, "actors") ||
                   !strcmp(key, "category") || !strcmp(key, "categories")) {
            if (vals)
                return fail_at(c, k, "'%s' repeats the rule's list (given once already as '%s')",
                               key, vals_key);
            vals = v;
            vals_key = key;
        } else if (!strcmp(key, "asset")) {
            if (!scalar(v)) return fail_at(c, v, "'asset' must be a value", NULL, NULL);
            asset = v;
        } else if (!strcmp(key, "min")) {
            if (!scalar(v)) return fail_at(c, v, "'min' must be a value", NULL, NULL);
            min = v;
        } else if (!strcmp(key, "include_delisted")) {
            const char *s = scalar(v);
            if (!s || (strcmp(s, "true") && strcmp(s, "false")))
                return fail_at(c, v, "'include_delisted' is true or false", NULL, NULL);
            r->include_delisted = !strcmp(s, "true");
        } else if (!strcmp(key, "description")) {
            /* for people reading the file */
        } else {
            return fail_at(c, k,
                           "unknown field '%s' (a rule has name, kind, severity, description and "
                           "its kind's fields: see docs/watch.md)",
                           key, NULL);
        }
    }
    if (!name) return fail_at(c, m, "the rule has no 'name'", NULL, NULL);
    snprintf(r->name, sizeof r->name, "%s", scalar(name));
    if (!kind) return fail_at(c, m, "rule '%s' has no 'kind'", r->name, NULL);
    const char *ks = scalar(kind);
    static const char *const need[] = {"addresses", NULL, "entity", "actor", "category"};
    if (!strcmp(ks, "address"))
        r->kind = CH_WATCH_ADDRESS;
    else if (!strcmp(ks, "large_transfer"))
        r->kind = CH_WATCH_LARGE;
    else if (!strcmp(ks, "entity"))
        r->kind = CH_WATCH_ENTITY;
    else if (!strcmp(ks, "actor"))
        r->kind = CH_WATCH_ACTOR;
    else if (!strcmp(ks, "category"))
        r->kind = CH_WATCH_CATEGORY;
    else if (!strcmp(ks, "incident") || !strcmp(ks, "deposit_exposure") || !strcmp(ks, "poisoning"))
        return fail_at(c, kind, "rule kind '%s' is not supported by this version of the watcher",
                       ks, NULL);
    else
        return fail_at(c, kind,
                       "unknown rule kind '%s' (address, large_transfer, entity, actor, category)",
                       ks, NULL);
    if (r->kind == CH_WATCH_LARGE) {
        if (vals)
            return fail_at(c, vals, "a large_transfer rule takes no '%s' list", vals_key, NULL);
        if (!asset)
            return fail_at(c, m, "large_transfer rule '%s' needs 'asset' (ETH or a token contract)",
                           r->name, NULL);
        if (!min)
            return fail_at(c, m, "large_transfer rule '%s' needs 'min' (base units, a string)",
                           r->name, NULL);
        const char *as = scalar(asset);
        ch_evm_addr a;
        if (!strcasecmp(as, "ETH") || !strcasecmp(as, "native")) {
            r->native = true;
            snprintf(r->asset_text, sizeof r->asset_text, "ETH");
        } else if (ch_evm_addr_from_hex(as, strlen(as), &a) == 0) {
            memcpy(r->asset, a.b, 20);
            ch_evm_addr_to_hex(&a, r->asset_text);
        } else {
            return fail_at(c, asset, "asset '%s' is neither ETH nor a token contract (0x...)", as,
                           NULL);
        }
        const char *ms = scalar(min);
        if (!all_digits(ms) || ch_u256_from_dec(ms, strlen(ms), &r->min) != 0)
            return fail_at(c, min,
                           "min '%s' is not a whole number of base units (decimal digits, "
                           "quoted: \"1000000000000000000\")",
                           ms, NULL);
        return 0;
    }
    if (asset || min)
        return fail_at(c, asset ? asset : min, "only large_transfer rules take '%s'",
                       asset ? "asset" : "min", NULL);
    if (!vals) return fail_at(c, m, "rule '%s' needs '%s'", r->name, need[r->kind]);
    bool ok = r->kind == CH_WATCH_ADDRESS
                  ? !strcmp(vals_key, "addresses")
                  : !strncmp(vals_key, need[r->kind], strlen(need[r->kind]) - 1);
    if (!ok)
        return fail_at(c, vals, "a %s rule lists its values under '%s'",
                       ch_watch_rule_kind_name(r->kind), need[r->kind]);
    if (each_scalar(c, vals, vals_key, r->kind == CH_WATCH_ADDRESS ? add_address : add_value, r) !=
        0)
        return -1;
    if (r->kind == CH_WATCH_ADDRESS) {
        if (r->n_addrs == 0) return fail_at(c, vals, "rule '%s' lists no address", r->name, NULL);
        qsort(r->addrs, r->n_addrs, 20, addr_cmp);
    } else if (r->n_values == 0) {
        return fail_at(c, vals, "rule '%s' lists no value", r->name, NULL);
    }
    return 0;
}

static void rule_free(ch_watch_rule *r) {
    free(r->addrs);
    for (size_t i = 0; i < r->n_values; i++)
        free(r->values[i]);
    free(r->values);
}

void ch_watch_rules_free(ch_watch_rules *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n; i++)
        rule_free(&r->v[i]);
    free(r->v);
    free(r);
}

static int parse_doc(ctx *c, ch_watch_rules *out) {
    yaml_node_t *root = yaml_document_get_root_node(c->doc);
    if (!root) return ch_err(c->err, "%s: empty: a rules file starts with 'rules:'", c->name);
    if (root->type != YAML_MAPPING_NODE)
        return fail_at(c, root, "the file must be a mapping with 'rules:'", NULL, NULL);
    yaml_node_t *list = NULL;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        const char *key = scalar(k);
        if (key && !strcmp(key, "rules"))
            list = yaml_document_get_node(c->doc, p->value);
        else
            return fail_at(c, k ? k : root, "unknown top-level field '%s' (only 'rules:')",
                           key ? key : "?", NULL);
    }
    if (!list) return fail_at(c, root, "no 'rules:' list", NULL, NULL);
    if (list->type != YAML_SEQUENCE_NODE)
        return fail_at(c, list, "'rules' must be a list of rules (- name: ...)", NULL, NULL);
    size_t n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    if (n == 0) return fail_at(c, list, "'rules' is empty: nothing to watch", NULL, NULL);
    out->v = calloc(n, sizeof *out->v);
    if (!out->v) return ch_err(c->err, "out of memory");
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *m = yaml_document_get_node(c->doc, list->data.sequence.items.start[i]);
        out->n = i + 1;
        if (!m || parse_rule(c, m, &out->v[i]) != 0) return -1;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(out->v[j].name, out->v[i].name))
                return fail_at(c, m, "rule name '%s' is used twice (alert ids need unique names)",
                               out->v[i].name, NULL);
    }
    return 0;
}

int ch_watch_rules_parse(const char *text, size_t len, const char *name, ch_watch_rules **out,
                         ch_error *err) {
    *out = NULL;
    ch_watch_rules *r = calloc(1, sizeof *r);
    if (!r) return ch_err(err, "out of memory");
    snprintf(r->source, sizeof r->source, "%s", name);
    yaml_parser_t p;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&p)) {
        free(r);
        return ch_err(err, "out of memory");
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    int rc;
    if (!yaml_parser_load(&p, &doc)) {
        rc = ch_err(err, "%s: line %zu, column %zu: %s%s%s", name, p.problem_mark.line + 1,
                    p.problem_mark.column + 1, p.problem ? p.problem : "YAML error",
                    p.context ? " " : "", p.context ? p.context : "");
        yaml_parser_delete(&p);
        ch_watch_rules_free(r);
        return rc;
    }
    ctx c = {.doc = &doc, .name = name, .err = err};
    rc = parse_doc(&c, r);
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    if (rc != 0) {
        ch_watch_rules_free(r);
        return -1;
    }
    *out = r;
    return 0;
}

int ch_watch_rules_load(const char *path, ch_watch_rules **out, ch_error *err) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return ch_err(err, "%s: cannot open the rules file", path);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            if (cap > (16u << 20)) {
                free(buf);
                fclose(f);
                return ch_err(err, "%s: a rules file over 16 MiB is refused", path);
            }
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return ch_err(err, "out of memory");
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return ch_err(err, "%s: read error", path);
    }
    int rc = ch_watch_rules_parse(buf, len, path, out, err);
    free(buf);
    return rc;
}

bool ch_watch_rules_need_intel(const ch_watch_rules *r) {
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].kind == CH_WATCH_ENTITY || r->v[i].kind == CH_WATCH_ACTOR ||
            r->v[i].kind == CH_WATCH_CATEGORY)
            return true;
    return false;
}

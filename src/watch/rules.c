/* Watch rules from YAML (libyaml's document API: the whole file is small, and
 * each node keeps its line, so every error can name where it is). */
#include "coinhound/watch.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "util/vec.h"
#include "coinhound/address.h"

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
    case CH_WATCH_INCIDENT:
        return "incident";
    case CH_WATCH_DEPOSIT:
        return "deposit_exposure";
    case CH_WATCH_POISONING:
        return "poisoning";
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

int ch_watch_addr_cmp(const void *pa, const void *pb) {
    const ch_addr *a = pa, *b = pb;
    if (a->kind != b->kind) return a->kind < b->kind ? -1 : 1;
    if (a->version != b->version) return a->version < b->version ? -1 : 1;
    if (a->len != b->len) return a->len < b->len ? -1 : 1;
    return memcmp(a->bytes, b->bytes, a->len);
}

/* A Bitcoin address (any network's form) into the rule's other list. */
static int add_btc_address(ctx *c, yaml_node_t *item, ch_watch_rule *r) {
    const char *s = scalar(item);
    ch_addr a;
    ch_error e;
    memset(&a, 0, sizeof a);
    if (ch_addr_from_string(s, &a, NULL, &e) != 0) {
        char why[100];
        snprintf(why, sizeof why, "%.99s", e.msg);
        return fail_at(c, item,
                       "'%s' is neither an EVM address (0x and 40 hex digits) nor a Bitcoin "
                       "address (%s)",
                       s, why);
    }
    size_t cap = r->n_btc_addrs; /* grown one at a time: few addresses a rule */
    ch_addr *v = ch_grow(r->btc_addrs, &cap, r->n_btc_addrs + 1, sizeof *v);
    if (!v) return ch_err(c->err, "out of memory");
    r->btc_addrs = v;
    v[r->n_btc_addrs++] = a;
    return 0;
}

static int add_address(ctx *c, yaml_node_t *item, ch_watch_rule *r) {
    const char *s = scalar(item);
    ch_evm_addr a;
    if (strncmp(s, "0x", 2) && strncmp(s, "0X", 2)) return add_btc_address(c, item, r);
    if (ch_evm_addr_from_hex(s, strlen(s), &a) != 0)
        return fail_at(c, item, "'%s' is not an EVM address (0x and 40 hex digits)", s, NULL);
    size_t cap = r->n_addrs; /* grown one at a time: few addresses a rule */
    uint8_t(*v)[20] = ch_grow(r->addrs, &cap, r->n_addrs + 1, sizeof *v);
    if (!v) return ch_err(c->err, "out of memory");
    r->addrs = v;
    memcpy(v[r->n_addrs++], a.b, 20);
    return 0;
}

static int add_value(ctx *c, yaml_node_t *item, ch_watch_rule *r) {
    const char *s = scalar(item);
    if (!*s) return fail_at(c, item, "an empty value matches nothing", NULL, NULL);
    size_t cap = r->n_values;
    char **v = ch_grow(r->values, &cap, r->n_values + 1, sizeof *v);
    if (!v) return ch_err(c->err, "out of memory");
    r->values = v;
    if (!(v[r->n_values] = strdup(s))) return ch_err(c->err, "out of memory");
    r->n_values++;
    return 0;
}

/* Is s n hex digits (n > 0) and nothing more? */
static bool hex_n(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i])) return false;
    return n && s[n] == 0;
}

/* A Bitcoin incident source: a txid (64 hex, as Core shows it), one of its
 * outputs (TXID:VOUT) or an address. */
static bool btc_source(const char *s, bool *is_tx) {
    const char *colon = strchr(s, ':');
    *is_tx = !colon && hex_n(s, 64);
    if (*is_tx) return true;
    if (colon && colon - s == 64) {
        char tx[65];
        memcpy(tx, s, 64);
        tx[64] = 0;
        return hex_n(tx, 64) && hex_n(colon + 1, strlen(colon + 1)) &&
               strspn(colon + 1, "0123456789") == strlen(colon + 1) && strlen(colon + 1) <= 10;
    }
    ch_addr a;
    ch_error e;
    return ch_addr_from_string(s, &a, NULL, &e) == 0;
}

/* An incident source: an EVM tx hash (0x + 64 hex) or address (0x + 40),
 * or a Bitcoin txid, TXID:VOUT or address (watch btc's). EVM forms are
 * kept lowercase; a Bitcoin address as written (Base58 is case-sensitive). */
static int add_source(ctx *c, yaml_node_t *item, ch_watch_rule *r) {
    const char *s = scalar(item);
    size_t n = strlen(s);
    bool evm = n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    bool is_tx = false;
    if (evm ? !hex_n(s + 2, n - 2) || (n != 42 && n != 66) : !btc_source(s, &is_tx))
        return fail_at(c, item,
                       "'%s' is neither a tx hash (0x and 64 hex digits; Bitcoin: 64 hex, or "
                       "TXID:VOUT) nor an address (0x and 40 hex; or a Bitcoin address)",
                       s, NULL);
    size_t cap = r->n_sources;
    char **v = ch_grow(r->sources, &cap, r->n_sources + 1, sizeof *v);
    if (!v) return ch_err(c->err, "out of memory");
    r->sources = v;
    if (!(v[r->n_sources] = strdup(s))) return ch_err(c->err, "out of memory");
    for (char *p = v[r->n_sources]; (evm || is_tx || strchr(s, ':')) && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    r->n_sources++;
    return 0;
}

bool ch_watch_source_is_tx(const char *s) {
    return strlen(s) == 66 || strlen(s) == 64 || strchr(s, ':') != NULL;
}

/* The stop categories, a word or a list, joined with commas. */
static int add_stop(ctx *c, yaml_node_t *item, ch_watch_rule *r) {
    const char *s = scalar(item);
    if (!*s || strchr(s, ','))
        return fail_at(c, item, "stop category '%s' must be one word (a list for several)", s,
                       NULL);
    size_t have = strlen(r->stop_at);
    if (have + strlen(s) + 2 > sizeof r->stop_at)
        return fail_at(c, item, "stop_at is too long", NULL, NULL);
    snprintf(r->stop_at + have, sizeof r->stop_at - have, "%s%s", have ? "," : "", s);
    r->has_stop_at = true;
    return 0;
}

static bool all_digits(const char *s) {
    if (!*s) return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return false;
    return true;
}

/* An incident: its sources (txs, addresses), min and stop_at checked; the
 * policy (haircut unless given), start_block and max_hops were read with
 * the other keys. */
static int parse_incident(ctx *c, yaml_node_t *m, ch_watch_rule *r, yaml_node_t *vals,
                          const char *vals_key, yaml_node_t *txs, yaml_node_t *min,
                          yaml_node_t *asset, yaml_node_t *stop) {
    if (asset)
        return fail_at(
            c, asset,
            "an incident rule takes no 'asset' (it follows every asset the taint reaches)", NULL,
            NULL);
    if (vals && strcmp(vals_key, "addresses"))
        return fail_at(c, vals, "an incident rule takes 'txs' and 'addresses', not '%s'", vals_key,
                       NULL);
    if (txs && each_scalar(c, txs, "txs", add_source, r) != 0) return -1;
    for (size_t i = 0; i < r->n_sources; i++)
        if (!ch_watch_source_is_tx(r->sources[i]))
            return fail_at(c, txs,
                           "'txs' lists '%s', which is not a tx hash (0x and 64 hex; Bitcoin: 64 "
                           "hex or TXID:VOUT)",
                           r->sources[i], NULL);
    size_t n_tx = r->n_sources;
    if (vals && each_scalar(c, vals, "addresses", add_source, r) != 0) return -1;
    for (size_t i = n_tx; i < r->n_sources; i++)
        if (ch_watch_source_is_tx(r->sources[i]))
            return fail_at(c, vals, "'addresses' lists '%s', which is not an address",
                           r->sources[i], NULL);
    if (r->n_sources == 0)
        return fail_at(c, m,
                       "incident rule '%s' needs the theft: 'txs' (its transactions) or "
                       "'addresses' (the thief's)",
                       r->name, NULL);
    if (min) {
        const char *ms = scalar(min);
        if (!all_digits(ms) || ch_u256_from_dec(ms, strlen(ms), &r->min) != 0 || r->min.w[2] ||
            r->min.w[3])
            return fail_at(c, min,
                           "min '%s' is not a whole number of base units below 2^128 (decimal "
                           "digits, quoted)",
                           ms, NULL);
    }
    if (stop && each_scalar(c, stop, "stop_at", add_stop, r) != 0) return -1;
    return 0;
}

/* deposit_exposure and poisoning: a list of addresses (the customers', the
 * protected), no field of another kind; max_hops and min_share were read
 * with the other keys. */
static int parse_guard(ctx *c, yaml_node_t *m, ch_watch_rule *r, yaml_node_t *vals,
                       const char *vals_key, yaml_node_t *other, yaml_node_t *other2) {
    const char *kn = ch_watch_rule_kind_name(r->kind);
    if (other || other2)
        return fail_at(c, other ? other : other2, "a %s rule takes 'addresses'%s", kn,
                       r->kind == CH_WATCH_DEPOSIT ? ", 'min_share' and 'max_hops'" : "");
    if (r->kind == CH_WATCH_POISONING && r->max_hops)
        return fail_at(c, m, "a poisoning rule takes no 'max_hops'", NULL, NULL);
    if (!vals || strcmp(vals_key, "addresses"))
        return fail_at(c, vals ? vals : m,
                       r->kind == CH_WATCH_DEPOSIT
                           ? "a %s rule needs 'addresses' (the customers' deposit addresses)"
                           : "a %s rule needs 'addresses' (the addresses to protect)",
                       kn, NULL);
    if (each_scalar(c, vals, vals_key, add_address, r) != 0) return -1;
    /* poisoning is an EVM detector's; deposit_exposure takes Bitcoin
     * customer addresses too (watch btc screens payments to them) */
    if (r->kind == CH_WATCH_POISONING && r->n_btc_addrs)
        return fail_at(c, vals, "a poisoning rule protects EVM addresses (0x...) only", NULL, NULL);
    if (r->n_addrs + r->n_btc_addrs == 0)
        return fail_at(c, vals, "rule '%s' lists no address", r->name, NULL);
    if (r->n_addrs) qsort(r->addrs, r->n_addrs, 20, addr_cmp);
    if (r->n_btc_addrs)
        qsort(r->btc_addrs, r->n_btc_addrs, sizeof *r->btc_addrs, ch_watch_addr_cmp);
    if (r->kind == CH_WATCH_DEPOSIT) {
        if (!r->max_hops) r->max_hops = 3;
        if (r->min_share == 0) r->min_share = 0.05;
    }
    return 0;
}

/* The fields of one rule as found, before its kind says which it may have
 * (NULL: absent); vals_key names the key its list came under. */
typedef struct rule_fields {
    yaml_node_t *kind, *name, *vals, *asset, *min;
    yaml_node_t *txs, *policy, *start, *hops, *stop, *share;
    const char *vals_key;
} rule_fields;

/* One key: value of a rule's mapping, checked on its own and kept in f (or
 * r, for the values that need no other field to be read). 0, or -1 with the
 * error at the key's or value's line. */
static int read_field(ctx *c, yaml_node_t *k, yaml_node_t *v, const char *key, ch_watch_rule *r,
                      rule_fields *f) {
    if (!strcmp(key, "name")) {
        if (!scalar(v) || !*scalar(v) || strlen(scalar(v)) >= sizeof r->name)
            return fail_at(c, v, "'name' must be a word of 1 to 63 characters", NULL, NULL);
        f->name = v;
    } else if (!strcmp(key, "kind")) {
        if (!scalar(v)) return fail_at(c, v, "'kind' must be a word", NULL, NULL);
        f->kind = v;
    } else if (!strcmp(key, "severity")) {
        const char *s = scalar(v);
        if (!s ||
            (strcmp(s, "low") && strcmp(s, "medium") && strcmp(s, "high") && strcmp(s, "critical")))
            return fail_at(c, v, "severity '%s' is not one of low, medium, high, critical",
                           s ? s : "(not a word)", NULL);
        snprintf(r->severity, sizeof r->severity, "%s", s);
    } else if (!strcmp(key, "addresses") || !strcmp(key, "entity") || !strcmp(key, "entities") ||
               !strcmp(key, "actor") || !strcmp(key, "actors") || !strcmp(key, "category") ||
               !strcmp(key, "categories")) {
        if (f->vals)
            return fail_at(c, k, "'%s' repeats the rule's list (given once already as '%s')", key,
                           f->vals_key);
        f->vals = v;
        f->vals_key = key;
    } else if (!strcmp(key, "asset")) {
        if (!scalar(v)) return fail_at(c, v, "'asset' must be a value", NULL, NULL);
        f->asset = v;
    } else if (!strcmp(key, "min")) {
        if (!scalar(v)) return fail_at(c, v, "'min' must be a value", NULL, NULL);
        f->min = v;
    } else if (!strcmp(key, "txs")) {
        f->txs = v;
    } else if (!strcmp(key, "policy")) {
        if (!scalar(v) || ch_trace_policy_parse(scalar(v), &r->policy) != 0 ||
            r->policy == CH_POLICY_LIFO)
            return fail_at(c, v, "policy '%s' is not one of poison, haircut, fifo",
                           scalar(v) ? scalar(v) : "(not a word)", NULL);
        f->policy = v;
    } else if (!strcmp(key, "start_block") || !strcmp(key, "max_hops")) {
        const char *s = scalar(v);
        unsigned long long n = 0;
        if (!s || !all_digits(s) || strlen(s) > 19 || (n = strtoull(s, NULL, 10)) > (1ULL << 48) ||
            (!strcmp(key, "max_hops") && n > 100000))
            return fail_at(c, v, "'%s' must be a whole number (got '%s')", key,
                           s ? s : "(not a value)");
        if (!strcmp(key, "start_block"))
            r->start_block = n, f->start = v;
        else
            r->max_hops = (uint32_t)n, f->hops = v;
    } else if (!strcmp(key, "stop_at")) {
        f->stop = v;
    } else if (!strcmp(key, "min_share")) {
        const char *s = scalar(v);
        char *end = NULL;
        double d = s ? strtod(s, &end) : -1;
        if (!s || !*s || *end || !(d > 0 && d <= 1))
            return fail_at(c, v, "min_share '%s' is not a share above 0 and at most 1 (0.05: 5%%)",
                           s ? s : "(not a value)", NULL);
        r->min_share = d;
        f->share = v;
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
    return 0;
}

/* The rule's kind from its word into r->kind: 0, or -1 (reported at the
 * kind's line) for a word that names none. */
static int read_kind(ctx *c, yaml_node_t *kind, ch_watch_rule *r) {
    static const struct {
        const char *word;
        ch_watch_rule_kind kind;
    } KINDS[] = {
        {"address", CH_WATCH_ADDRESS},
        {"large_transfer", CH_WATCH_LARGE},
        {"entity", CH_WATCH_ENTITY},
        {"actor", CH_WATCH_ACTOR},
        {"category", CH_WATCH_CATEGORY},
        {"incident", CH_WATCH_INCIDENT},
        {"deposit_exposure", CH_WATCH_DEPOSIT},
        {"poisoning", CH_WATCH_POISONING},
    };
    const char *ks = scalar(kind);
    for (size_t i = 0; i < sizeof KINDS / sizeof *KINDS; i++)
        if (!strcmp(ks, KINDS[i].word)) {
            r->kind = KINDS[i].kind;
            return 0;
        }
    return fail_at(c, kind,
                   "unknown rule kind '%s' (address, large_transfer, entity, actor, category, "
                   "incident, deposit_exposure, poisoning)",
                   ks, NULL);
}

/* A large_transfer rule: no list, an asset (BTC, ETH or a token contract)
 * and a minimum in base units. 0, or -1 (reported). */
static int parse_large(ctx *c, yaml_node_t *m, ch_watch_rule *r, const rule_fields *f) {
    if (f->vals)
        return fail_at(c, f->vals, "a large_transfer rule takes no '%s' list", f->vals_key, NULL);
    if (!f->asset)
        return fail_at(c, m, "large_transfer rule '%s' needs 'asset' (ETH or a token contract)",
                       r->name, NULL);
    if (!f->min)
        return fail_at(c, m, "large_transfer rule '%s' needs 'min' (base units, a string)", r->name,
                       NULL);
    const char *as = scalar(f->asset);
    ch_evm_addr a;
    if (!strcasecmp(as, "BTC") || !strcasecmp(as, "XBT")) {
        r->btc = true;
        snprintf(r->asset_text, sizeof r->asset_text, "BTC");
    } else if (!strcasecmp(as, "ETH") || !strcasecmp(as, "native")) {
        r->native = true;
        snprintf(r->asset_text, sizeof r->asset_text, "ETH");
    } else if (ch_evm_addr_from_hex(as, strlen(as), &a) == 0) {
        memcpy(r->asset, a.b, 20);
        ch_evm_addr_to_hex(&a, r->asset_text);
    } else {
        return fail_at(c, f->asset,
                       "asset '%s' is neither ETH nor a token contract (0x...), nor BTC", as, NULL);
    }
    const char *ms = scalar(f->min);
    if (!all_digits(ms) || ch_u256_from_dec(ms, strlen(ms), &r->min) != 0)
        return fail_at(c, f->min,
                       "min '%s' is not a whole number of base units (decimal digits, "
                       "quoted: \"1000000000000000000\")",
                       ms, NULL);
    return 0;
}

/* An address, entity, actor or category rule: its list under its own key
 * (addresses sorted for lookup), not empty, and no asset or min. 0, or -1
 * (reported). */
static int parse_listed(ctx *c, yaml_node_t *m, ch_watch_rule *r, const rule_fields *f) {
    static const char *const need[] = {"addresses", NULL, "entity", "actor", "category"};
    if (f->asset || f->min)
        return fail_at(c, f->asset ? f->asset : f->min, "only large_transfer rules take '%s'",
                       f->asset ? "asset" : "min", NULL);
    if (!f->vals) return fail_at(c, m, "rule '%s' needs '%s'", r->name, need[r->kind]);
    bool ok = r->kind == CH_WATCH_ADDRESS
                  ? !strcmp(f->vals_key, "addresses")
                  : !strncmp(f->vals_key, need[r->kind], strlen(need[r->kind]) - 1);
    if (!ok)
        return fail_at(c, f->vals, "a %s rule lists its values under '%s'",
                       ch_watch_rule_kind_name(r->kind), need[r->kind]);
    if (each_scalar(c, f->vals, f->vals_key, r->kind == CH_WATCH_ADDRESS ? add_address : add_value,
                    r) != 0)
        return -1;
    if (r->kind == CH_WATCH_ADDRESS) {
        if (r->n_addrs + r->n_btc_addrs == 0)
            return fail_at(c, f->vals, "rule '%s' lists no address", r->name, NULL);
        if (r->n_addrs) qsort(r->addrs, r->n_addrs, 20, addr_cmp);
        if (r->n_btc_addrs)
            qsort(r->btc_addrs, r->n_btc_addrs, sizeof *r->btc_addrs, ch_watch_addr_cmp);
    } else if (r->n_values == 0) {
        return fail_at(c, f->vals, "rule '%s' lists no value", r->name, NULL);
    }
    return 0;
}

/* One rule of the YAML file: its name, kind, severity and the values its
 * kind needs (addresses, entities, an asset and a minimum, an incident's
 * sources), each error naming its line. */
static int parse_rule(ctx *c, yaml_node_t *m, ch_watch_rule *r) {
    if (m->type != YAML_MAPPING_NODE)
        return fail_at(c, m, "a rule is a mapping (name:, kind:, ...)", NULL, NULL);
    r->line = line_of(m);
    r->policy = CH_POLICY_HAIRCUT;
    snprintf(r->severity, sizeof r->severity, "medium");
    rule_fields f = {0};
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        const char *key = scalar(k);
        if (!key || !v) return fail_at(c, k ? k : m, "a rule's keys are plain words", NULL, NULL);
        if (read_field(c, k, v, key, r, &f) != 0) return -1;
    }
    if (!f.name) return fail_at(c, m, "the rule has no 'name'", NULL, NULL);
    snprintf(r->name, sizeof r->name, "%s", scalar(f.name));
    if (!f.kind) return fail_at(c, m, "rule '%s' has no 'kind'", r->name, NULL);
    if (read_kind(c, f.kind, r) != 0) return -1;
    if (f.share && r->kind != CH_WATCH_DEPOSIT)
        return fail_at(c, f.share, "only deposit_exposure rules take 'min_share'", NULL, NULL);
    if (r->kind == CH_WATCH_DEPOSIT || r->kind == CH_WATCH_POISONING)
        return parse_guard(c, m, r, f.vals, f.vals_key,
                           f.txs      ? f.txs
                           : f.policy ? f.policy
                           : f.start  ? f.start
                                      : f.stop,
                           f.asset ? f.asset : f.min);
    yaml_node_t *inc_only = f.txs      ? f.txs
                            : f.policy ? f.policy
                            : f.start  ? f.start
                            : f.hops   ? f.hops
                                       : f.stop;
    if (r->kind != CH_WATCH_INCIDENT && inc_only)
        return fail_at(c, inc_only, "only incident rules take '%s'",
                       inc_only == f.txs      ? "txs"
                       : inc_only == f.policy ? "policy"
                       : inc_only == f.start  ? "start_block"
                       : inc_only == f.hops   ? "max_hops"
                                              : "stop_at",
                       NULL);
    if (r->kind == CH_WATCH_INCIDENT)
        return parse_incident(c, m, r, f.vals, f.vals_key, f.txs, f.min, f.asset, f.stop);
    if (r->kind == CH_WATCH_LARGE) return parse_large(c, m, r, &f);
    return parse_listed(c, m, r, &f);
}

static void rule_free(ch_watch_rule *r) {
    free(r->addrs);
    for (size_t i = 0; i < r->n_sources; i++)
        free(r->sources[i]);
    free(r->sources);
    free(r->btc_addrs);
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

/* The rules document: a mapping with `rules:`, a sequence of rules, names
 * unique. */
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
            if (len >= (16u << 20)) {
                free(buf);
                fclose(f);
                return ch_err(err, "%s: a rules file over 16 MiB is refused", path);
            }
            char *nb = ch_grow(buf, &cap, len + 1, 1);
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
            r->v[i].kind == CH_WATCH_CATEGORY || r->v[i].kind == CH_WATCH_DEPOSIT)
            return true;
    return false;
}

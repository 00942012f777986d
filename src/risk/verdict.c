/* The risk verdict: attributions -> reasons -> level and score (risk.h). */
#include "coinhound/risk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const LEVEL_NAMES[] = {"none", "low", "medium", "high", "severe"};
static const int LEVEL_POINTS[] = {0, 1, 5, 10, 15};

const char *ch_risk_level_name(ch_risk_level l) {
    return (unsigned)l <= CH_RISK_SEVERE ? LEVEL_NAMES[l] : "none";
}

int ch_risk_level_points(ch_risk_level l) {
    return (unsigned)l <= CH_RISK_SEVERE ? LEVEL_POINTS[l] : 0;
}

static char lower_ascii(char c) {
    return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
}

int ch_risk_level_parse(const char *s, ch_risk_level *out) {
    char buf[16];
    size_t i = 0;
    if (!s) return -1;
    for (; s[i] && i + 1 < sizeof buf; i++)
        buf[i] = lower_ascii(s[i]);
    buf[i] = '\0';
    for (int l = CH_RISK_NONE; l <= CH_RISK_SEVERE; l++)
        if (!strcmp(buf, LEVEL_NAMES[l])) {
            *out = (ch_risk_level)l;
            return 0;
        }
    return -1;
}

void ch_risk_normalise_category(const char *in, char *out, size_t cap) {
    size_t k = 0;
    if (cap == 0) return;
    if (!in) in = "";
    while (*in == ' ' || *in == '\t')
        in++;
    for (; *in && k + 1 < cap; in++) {
        char c = *in;
        if (c == ' ' || c == '-' || c == '\t') c = '_';
        out[k++] = lower_ascii(c);
    }
    while (k > 0 && out[k - 1] == '_')
        k--;
    out[k] = '\0';
}

/* The defaults (risk.h lists them). Categories from the sources we import
 * (OFAC, TagPacks, Etherscan labels, MISP) fold onto these. */
static const struct {
    const char *key;
    ch_risk_level level;
} DEFAULTS[] = {
    {"sanctions", CH_RISK_SEVERE},
    {"sanctioned", CH_RISK_SEVERE},
    {"ofac", CH_RISK_SEVERE},
    {"stolen_funds", CH_RISK_SEVERE},
    {"stolen", CH_RISK_SEVERE},
    {"theft", CH_RISK_SEVERE},
    {"hacker", CH_RISK_SEVERE},
    {"hack", CH_RISK_SEVERE},
    {"exploit", CH_RISK_SEVERE},
    {"exploiter", CH_RISK_SEVERE},
    {"heist", CH_RISK_SEVERE},
    {"dprk", CH_RISK_SEVERE},
    {"ransomware", CH_RISK_SEVERE},
    {"terrorist_financing", CH_RISK_SEVERE},
    {"terrorism_financing", CH_RISK_SEVERE},
    {"terrorism", CH_RISK_SEVERE},
    {"child_abuse", CH_RISK_SEVERE},
    {"csam", CH_RISK_SEVERE},
    {"darknet", CH_RISK_HIGH},
    {"darknet_market", CH_RISK_HIGH},
    {"scam", CH_RISK_HIGH},
    {"fraud", CH_RISK_HIGH},
    {"phishing", CH_RISK_HIGH},
    {"ponzi", CH_RISK_HIGH},
    {"fraud_shop", CH_RISK_HIGH},
    {"malware", CH_RISK_HIGH},
    {"mixer", CH_RISK_HIGH},
    {"mixing_service", CH_RISK_HIGH},
    {"mixing", CH_RISK_HIGH},
    {"tumbler", CH_RISK_HIGH},
    {"coinjoin", CH_RISK_HIGH},
    {"gambling", CH_RISK_MEDIUM},
    {"unlicensed_exchange", CH_RISK_MEDIUM},
    {"high_risk_exchange", CH_RISK_MEDIUM},
    {"no_kyc_exchange", CH_RISK_MEDIUM},
    {"p2p_exchange", CH_RISK_MEDIUM},
    {"bridge", CH_RISK_LOW},
    {"exchange", CH_RISK_NONE},
    {"defi", CH_RISK_NONE},
    {"merchant", CH_RISK_NONE},
    {"miner", CH_RISK_NONE},
    {"mining_pool", CH_RISK_NONE},
    {"service", CH_RISK_NONE},
    {"country:dprk", CH_RISK_SEVERE},
    {"country:kp", CH_RISK_SEVERE},
};

void ch_risk_table_default(ch_risk_table *t) {
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < sizeof DEFAULTS / sizeof DEFAULTS[0]; i++)
        ch_risk_table_set(t, DEFAULTS[i].key, DEFAULTS[i].level, NULL);
    t->unknown_level = CH_RISK_LOW;
    t->low_confidence = 50;
}

static const ch_risk_rule *find_rule(const ch_risk_table *t, const char *key) {
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->rules[i].key, key)) return &t->rules[i];
    return NULL;
}

int ch_risk_table_set(ch_risk_table *t, const char *category, ch_risk_level level, ch_error *err) {
    char key[CH_RISK_KEY_MAX];
    ch_risk_normalise_category(category, key, sizeof key);
    if (!key[0]) return ch_err(err, "empty category");
    if ((unsigned)level > CH_RISK_SEVERE) return ch_err(err, "invalid level");
    if (!strcmp(key, "*")) {
        t->unknown_level = level;
        return 0;
    }
    ch_risk_rule *r = (ch_risk_rule *)find_rule(t, key);
    if (!r) {
        if (t->n == CH_RISK_MAX_RULES)
            return ch_err(err, "too many categories (at most %d)", CH_RISK_MAX_RULES);
        r = &t->rules[t->n++];
        strcpy(r->key, key);
    }
    r->level = level;
    return 0;
}

int ch_risk_table_parse(ch_risk_table *t, const char *spec, ch_error *err) {
    const char *p = spec;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char item[96], *eq;
        ch_risk_level lvl;
        if (len >= sizeof item) return ch_err(err, "risk rule too long: %.40s...", p);
        memcpy(item, p, len);
        item[len] = '\0';
        eq = strchr(item, '=');
        if (!eq) return ch_err(err, "risk rule '%s' is not category=level", item);
        *eq = '\0';
        if (ch_risk_level_parse(eq + 1, &lvl) != 0)
            return ch_err(err, "risk rule '%s=%s': level must be none, low, medium, high or severe",
                          item, eq + 1);
        if (ch_risk_table_set(t, item, lvl, err) != 0)
            return ch_err_prefix(err, "risk rule '%s'", item);
        p = end ? end + 1 : NULL;
    }
    return 0;
}

ch_risk_level ch_risk_category_level(const ch_risk_table *t, const char *category) {
    char key[CH_RISK_KEY_MAX];
    ch_risk_normalise_category(category, key, sizeof key);
    const ch_risk_rule *r = find_rule(t, key);
    return r ? r->level : t->unknown_level;
}

void ch_risk_actor_label(const ch_attribution *a, char *out, size_t cap) {
    if (cap == 0) return;
    if (a->actor[0] && a->actor_country[0])
        snprintf(out, cap, "%s: %s", a->actor_country, a->actor);
    else if (a->actor[0])
        snprintf(out, cap, "%s", a->actor);
    else
        snprintf(out, cap, "%s", a->actor_country);
}

static ch_risk_level judge(const ch_risk_table *t, const ch_attribution *a) {
    ch_risk_level lvl = ch_risk_category_level(t, a->category);
    if (a->actor_country[0]) {
        char key[CH_RISK_KEY_MAX];
        snprintf(key, sizeof key, "country:%s", a->actor_country);
        char norm[CH_RISK_KEY_MAX];
        ch_risk_normalise_category(key, norm, sizeof norm);
        const ch_risk_rule *r = find_rule(t, norm);
        if (r && r->level > lvl) lvl = r->level;
    }
    /* A weak attribution counts one step lower, never below low: the source
     * did name the address. */
    if (a->confidence < t->low_confidence && lvl > CH_RISK_LOW) lvl = (ch_risk_level)(lvl - 1);
    return lvl;
}

/* Current first; then by score, level, and the source's name for a stable
 * order. */
static int reason_cmp(const void *pa, const void *pb) {
    const ch_risk_reason *a = pa, *b = pb;
    if (a->current != b->current) return a->current ? -1 : 1;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    if (a->level != b->level) return a->level > b->level ? -1 : 1;
    int c = strcmp(a->attr->source_name, b->attr->source_name);
    if (c) return c;
    return strcmp(a->attr->entity, b->attr->entity);
}

void ch_risk_assess(const ch_risk_table *t, const ch_attribution *attrs, size_t n,
                    ch_risk_reason *reasons, ch_risk_verdict *out) {
    memset(out, 0, sizeof *out);
    out->reasons = reasons;
    out->n_reasons = n;
    for (size_t i = 0; i < n; i++) {
        const ch_attribution *a = &attrs[i];
        ch_risk_reason *r = &reasons[i];
        uint8_t conf = a->confidence > 100 ? 100 : a->confidence;
        r->attr = a;
        r->current = !a->delisted;
        r->level = judge(t, a);
        r->score = ch_risk_level_points(r->level) * conf / 100.0;
        ch_risk_actor_label(a, r->actor_label, sizeof r->actor_label);
        if (!r->current) continue;
        out->n_current++;
        if (r->level > out->level) out->level = r->level;
        if (r->score > out->score) out->score = r->score;
    }
    if (n > 1) qsort(reasons, n, sizeof *reasons, reason_cmp);
}

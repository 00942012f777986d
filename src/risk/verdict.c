/* The risk verdict: attributions -> reasons -> level and score (risk.h). */
#include "coinhound/risk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "risk/facts.h"

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
 * (OFAC, TagPacks, Etherscan labels, MISP) fold onto these. Every category
 * whose default is high or severe is illicit: a table may lower it, never
 * to none (ch_risk_category_illicit). */
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
    /* A victim's own wallet (the incident lists name the robbed exchange's
     * hot wallet beside the thieves'): a fact about the address, no risk in
     * dealing with it. A compromised key may now sign for the thief: low,
     * so that it is shown and explained. */
    {"victim", CH_RISK_NONE},
    {"compromised", CH_RISK_LOW},
    {"country:dprk", CH_RISK_SEVERE},
    {"country:kp", CH_RISK_SEVERE},
};

bool ch_risk_category_illicit(const char *category) {
    char key[CH_RISK_KEY_MAX];
    ch_risk_normalise_category(category, key, sizeof key);
    if (!strncmp(key, "country:", 8)) return false;
    for (size_t i = 0; i < sizeof DEFAULTS / sizeof DEFAULTS[0]; i++)
        if (!strcmp(key, DEFAULTS[i].key)) return DEFAULTS[i].level >= CH_RISK_HIGH;
    return false;
}

void ch_risk_table_default(ch_risk_table *t) {
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < sizeof DEFAULTS / sizeof DEFAULTS[0]; i++)
        ch_risk_table_set(t, DEFAULTS[i].key, DEFAULTS[i].level, NULL);
    t->unknown_level = CH_RISK_LOW;
    t->low_confidence = 50;
}

static const ch_risk_rule *find_rule(const ch_risk_table *t, const char *key) {
    /* the first byte before the call: every screened reason looks up its
     * category here, and a strcmp per rule was a tenth of a verdict */
    for (size_t i = 0; i < t->n; i++)
        if (t->rules[i].key[0] == key[0] && !strcmp(t->rules[i].key, key)) return &t->rules[i];
    return NULL;
}

int ch_risk_table_set(ch_risk_table *t, const char *category, ch_risk_level level, ch_error *err) {
    char key[CH_RISK_KEY_MAX];
    ch_risk_normalise_category(category, key, sizeof key);
    if (!key[0]) return ch_err(err, "empty category");
    if ((unsigned)level > CH_RISK_SEVERE) return ch_err(err, "invalid level");
    if (level == CH_RISK_NONE && ch_risk_category_illicit(key))
        return ch_err(err,
                      "'%s' is an illicit category: it can be lowered to low, never to none (a "
                      "listed illicit address is never clean)",
                      key);
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

/* One "category=level" rule (spaces around either side allowed). */
static int apply_rule(ch_risk_table *t, char *item, ch_error *err) {
    char *eq = strchr(item, '=');
    ch_risk_level lvl;
    if (!eq) return ch_err(err, "risk rule '%s' is not category=level", item);
    *eq = '\0';
    char *cat = item, *level = eq + 1;
    while (*cat == ' ' || *cat == '\t')
        cat++;
    while (*level == ' ' || *level == '\t')
        level++;
    for (char *e = level + strlen(level); e > level && (e[-1] == ' ' || e[-1] == '\t');)
        *--e = '\0';
    for (char *e = cat + strlen(cat); e > cat && (e[-1] == ' ' || e[-1] == '\t');)
        *--e = '\0';
    if (ch_risk_level_parse(level, &lvl) != 0)
        return ch_err(err, "risk rule '%s=%s': level must be none, low, medium, high or severe",
                      cat, level);
    if (ch_risk_table_set(t, cat, lvl, err) != 0) return ch_err_prefix(err, "risk rule '%s'", cat);
    return 0;
}

int ch_risk_table_parse(ch_risk_table *t, const char *spec, ch_error *err) {
    const char *p = spec;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char item[96];
        if (len >= sizeof item) return ch_err(err, "risk rule too long: %.40s...", p);
        memcpy(item, p, len);
        item[len] = '\0';
        if (apply_rule(t, item, err) != 0) return -1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

int ch_risk_table_load(ch_risk_table *t, const char *path, ch_error *err) {
    FILE *f = fopen(path, "r");
    if (!f) return ch_err(err, "%s: cannot open: %s", path, strerror(errno));
    ch_risk_table next = *t; /* all or nothing: a bad line changes nothing */
    char line[256];
    long no = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        no++;
        size_t n = strlen(line);
        if (n == sizeof line - 1 && line[n - 1] != '\n' && !feof(f)) {
            rc = ch_err(err, "%s: line %ld: longer than %zu characters", path, no, sizeof line - 2);
            break;
        }
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        line[strcspn(line, "\r\n")] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p) continue;
        if (!strncmp(p, "confidence_below", 16)) {
            char *eq = strchr(p, '=');
            char *end = NULL;
            long v = eq ? strtol(eq + 1, &end, 10) : -1;
            while (end && (*end == ' ' || *end == '\t'))
                end++;
            if (!eq || !end || *end || v < 0 || v > 100)
                rc = ch_err(err, "%s: line %ld: confidence_below takes a number 0..100", path, no);
            else
                next.low_confidence = (uint8_t)v;
            continue;
        }
        if (apply_rule(&next, p, err) != 0) rc = ch_err_prefix(err, "%s: line %ld", path, no);
    }
    if (rc == 0 && ferror(f)) rc = ch_err(err, "%s: read error", path);
    fclose(f);
    if (rc == 0) *t = next;
    return rc;
}

static int rule_order(const void *pa, const void *pb) {
    const ch_risk_rule *a = pa, *b = pb;
    bool ca = !strncmp(a->key, "country:", 8), cb = !strncmp(b->key, "country:", 8);
    if (ca != cb) return ca ? 1 : -1;
    if (a->level != b->level) return a->level > b->level ? -1 : 1;
    return strcmp(a->key, b->key);
}

void ch_risk_table_write(const ch_risk_table *t, FILE *f) {
    ch_risk_rule sorted[CH_RISK_MAX_RULES];
    memcpy(sorted, t->rules, t->n * sizeof *sorted);
    if (t->n > 1) qsort(sorted, t->n, sizeof *sorted, rule_order);
    fprintf(f, "# coinhound risk table: category = level (none, low, medium, high, severe)\n"
               "# Points: severe 15, high 10, medium 5, low 1, none 0. A reason's score is\n"
               "# points x confidence / 100; an address's risk is its highest current reason.\n"
               "# Categories are matched lowercase, with ' ' and '-' read as '_'.\n"
               "# 'illicit' categories can be lowered to low, never to none.\n"
               "# Give an edited copy to 'coinhound screen --risk-table FILE'.\n");
    for (size_t i = 0; i < t->n; i++) {
        const char *why = !strncmp(sorted[i].key, "country:", 8)
                              ? "an actor of this country raises a reason to this level"
                          : ch_risk_category_illicit(sorted[i].key) ? "illicit"
                                                                    : NULL;
        if (why)
            fprintf(f, "%-24s = %-6s  # %s\n", sorted[i].key, ch_risk_level_name(sorted[i].level),
                    why);
        else
            fprintf(f, "%-24s = %s\n", sorted[i].key, ch_risk_level_name(sorted[i].level));
    }
    fprintf(f, "%-24s = %-6s  # any category not named above\n", "*",
            ch_risk_level_name(t->unknown_level));
    fprintf(f,
            "confidence_below = %u  # a reason below this confidence counts one level lower "
            "(never below low)\n",
            t->low_confidence);
}

ch_risk_level ch_risk_category_level(const ch_risk_table *t, const char *category) {
    char key[CH_RISK_KEY_MAX];
    ch_risk_normalise_category(category, key, sizeof key);
    const ch_risk_rule *r = find_rule(t, key);
    return r ? r->level : t->unknown_level;
}

/* src at out[*k], cut to cap - 1 bytes in all (as snprintf cuts). */
static void put_cut(char *out, size_t cap, size_t *k, const char *src) {
    size_t n = strlen(src);
    if (n > cap - 1 - *k) n = cap - 1 - *k;
    memcpy(out + *k, src, n);
    *k += n;
}

void ch_risk_actor_label(const ch_attribution *a, char *out, size_t cap) {
    if (cap == 0) return;
    size_t k = 0; /* snprintf's text, without its formatting cost per reason */
    if (a->actor[0] && a->actor_country[0]) {
        put_cut(out, cap, &k, a->actor_country);
        put_cut(out, cap, &k, ": ");
        put_cut(out, cap, &k, a->actor);
    } else {
        put_cut(out, cap, &k, a->actor[0] ? a->actor : a->actor_country);
    }
    out[k] = '\0';
}

static ch_risk_level judge(const ch_risk_table *t, const ch_attribution *a) {
    char cat[CH_RISK_KEY_MAX]; /* normalised once: ch_risk_category_level's look-up */
    ch_risk_normalise_category(a->category, cat, sizeof cat);
    const ch_risk_rule *cr = find_rule(t, cat);
    ch_risk_level lvl = cr ? cr->level : t->unknown_level;
    /* The actor on a victim's label is whoever robbed it, not its owner:
     * the actor's country says nothing about dealing with the victim. */
    if (a->actor_country[0] && strcmp(cat, "victim") != 0) {
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

/* Each folded reason decided and judged: whether it stands, its level and
 * score (its strongest current listing), its actor; the verdict's level and
 * score the highest current ones; the reasons sorted. */
static void judge_reasons(const ch_risk_table *t, ch_risk_verdict *out) {
    ch_risk_reason *reasons = out->reasons;
    size_t k = out->n_reasons;
    for (size_t i = 0; i < k; i++) {
        ch_risk_reason *r = &reasons[i];
        risk_decide(r);
        const ch_attribution *a = r->attr;
        /* a fact that stands counts as much as its strongest listing */
        r->level = judge(t, a);
        r->score =
            ch_risk_level_points(r->level) * (a->confidence > 100 ? 100 : a->confidence) / 100.0;
        uint32_t ns = r->n_sources < CH_RISK_MAX_SOURCES ? r->n_sources : CH_RISK_MAX_SOURCES;
        for (uint32_t s = 0; r->current && s < ns; s++) {
            const ch_attribution *b = r->sources[s];
            if (b->delisted) continue;
            ch_risk_level l = judge(t, b);
            double sc =
                ch_risk_level_points(l) * (b->confidence > 100 ? 100 : b->confidence) / 100.0;
            if (l > r->level) r->level = l;
            if (sc > r->score) r->score = sc;
        }
        ch_risk_actor_label(a, r->actor_label, sizeof r->actor_label);
        if (!r->actor_label[0])
            for (uint32_t s = 0; s < ns && !r->actor_label[0]; s++)
                ch_risk_actor_label(r->sources[s], r->actor_label, sizeof r->actor_label);
        if (!r->current) continue;
        out->n_current++;
        if (r->level > out->level) out->level = r->level;
        if (r->score > out->score) out->score = r->score;
    }
    if (k > 1) qsort(reasons, k, sizeof *reasons, reason_cmp);
}

/* The facts of a verdict's fold kept on the stack up to this many
 * attributions (more: malloc'd). */
#define FOLD_STACK 32

/* The fold the old way, for when the scratch of a large verdict cannot be
 * had: each attribution compared with every reason so far, the first
 * reasons' facts kept, a later reason's worked out again from its first
 * source. Quadratic in the facts (a verdict of a large cluster's hundreds
 * of labels took most of bench_screen_db's time so), but never fails. */
static size_t fold_pairwise(const ch_attribution *attrs, size_t n, ch_risk_reason *reasons) {
    risk_fact kept[16], fi, again;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        risk_fact_of(&attrs[i], &fi);
        size_t j = 0;
        for (; j < k; j++) {
            const risk_fact *fj = &again;
            if (j < sizeof kept / sizeof kept[0])
                fj = &kept[j];
            else
                risk_fact_of(reasons[j].sources[0], &again);
            if (risk_same_fact_of(reasons[j].sources[0], fj, &attrs[i], &fi)) break;
        }
        if (j == k) {
            if (j < sizeof kept / sizeof kept[0]) kept[j] = fi;
            memset(&reasons[k++], 0, sizeof *reasons);
        }
        risk_fold(&reasons[j], &attrs[i]);
    }
    return k;
}

/* The fold: attrs[0..n) into reasons, one per fact (facts[i] is attrs[i]'s),
 * in the order of their first attribution; slots is the hash table's room
 * (cap of them, a power of two of at least 2n). Returns the reasons. */
static size_t fold_facts(const ch_attribution *attrs, const risk_fact *const *facts, size_t n,
                         uint32_t *slots, size_t cap, ch_risk_reason *reasons) {
    /* each attribution's fact looked up by its hash in an open-addressed
     * table of reason indices (UINT32_MAX: empty): linear in the facts */
    size_t mask = cap - 1, k = 0;
    for (size_t i = 0; i < cap; i++)
        slots[i] = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t h = (size_t)(facts[i]->hash ^ (facts[i]->hash >> 29)) & mask;
        uint32_t j;
        while ((j = slots[h]) != UINT32_MAX) {
            /* a reason's first source is one of attrs: its fact is known */
            size_t f = (size_t)(reasons[j].sources[0] - attrs);
            if (risk_same_fact_of(reasons[j].sources[0], facts[f], &attrs[i], facts[i])) break;
            h = (h + 1) & mask;
        }
        if (j == UINT32_MAX) {
            j = slots[h] = (uint32_t)k;
            memset(&reasons[k++], 0, sizeof *reasons);
        }
        risk_fold(&reasons[j], &attrs[i]);
    }
    return k;
}

size_t risk_fold_slots(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    return cap;
}

void ch_risk_assess(const ch_risk_table *t, const ch_attribution *attrs, size_t n,
                    ch_risk_reason *reasons, ch_risk_verdict *out) {
    /* fold the attributions into facts: each attribution's fact worked out
     * once (facts.h) */
    risk_fact small[FOLD_STACK];
    const risk_fact *small_of[FOLD_STACK];
    uint32_t small_slots[4 * FOLD_STACK];
    size_t cap = risk_fold_slots(n);
    risk_fact *facts = n <= FOLD_STACK ? small : malloc(n * sizeof *facts);
    const risk_fact **of = n <= FOLD_STACK ? small_of : malloc(n * sizeof *of);
    uint32_t *slots = cap <= 4 * FOLD_STACK ? small_slots : malloc(cap * sizeof *slots);
    if (facts && of && slots) {
        for (size_t i = 0; i < n; i++) {
            risk_fact_of(&attrs[i], &facts[i]);
            of[i] = &facts[i];
        }
        risk_assess_folded(t, attrs, of, n, slots, cap, reasons, out);
    } else {
        memset(out, 0, sizeof *out);
        out->reasons = reasons;
        out->n_reasons = fold_pairwise(attrs, n, reasons);
        judge_reasons(t, out);
    }
    if (facts != small) free(facts);
    if (of != small_of) free((void *)of);
    if (slots != small_slots) free(slots);
}

void risk_assess_folded(const ch_risk_table *t, const ch_attribution *attrs,
                        const risk_fact *const *facts, size_t n, uint32_t *slots, size_t cap,
                        ch_risk_reason *reasons, ch_risk_verdict *out) {
    memset(out, 0, sizeof *out);
    out->reasons = reasons;
    out->n_reasons = fold_facts(attrs, facts, n, slots, cap, reasons);
    judge_reasons(t, out);
}

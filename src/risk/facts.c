/* One reason per fact (risk.h): attributions of one address that state the
 * same fact - the same authority's listing, in the same category - are
 * folded into one reason that names all their sources, and the newest
 * statement of that authority decides whether the fact still stands.
 *
 * Why an authority and not a source: OFAC's listing of an address reaches
 * the store through sdn.xml, sdn.csv, the per-asset lists, a TagPack or an
 * Etherscan label, each a source of its own. They are one fact, and when
 * OFAC's latest list delisted the address (Tornado Cash, March 2025), an
 * older per-asset list that still holds it must not keep it severe. */
#include "risk/facts.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool has(const char *hay, const char *needle) {
    return hay && strcasestr(hay, needle) != NULL;
}

/* The category a fact is grouped by: normalised, sanctions' synonyms as one. */
static void fact_category(const ch_attribution *a, char *out, size_t cap) {
    ch_risk_normalise_category(a->category, out, cap);
    if (!strcmp(out, "sanctioned") || !strcmp(out, "ofac") || !strcmp(out, "sanction"))
        snprintf(out, cap, "sanctions");
}

void ch_risk_authority(const ch_attribution *a, char *out, size_t cap) {
    char cat[CH_RISK_KEY_MAX];
    fact_category(a, cat, sizeof cat);
    bool ofac = has(a->source_name, "ofac") || has(a->source_name, "sdn") ||
                has(a->source_url, "treasury.gov") || has(a->note, "ofac");
    if (!strcmp(cat, "sanctions") && ofac)
        snprintf(out, cap, "OFAC");
    else
        snprintf(out, cap, "%s", a->source_name);
}

/* FNV-1a over s, its ASCII letters lowered when fold, then a separator. */
static uint64_t hash_str(uint64_t h, const char *s, bool fold) {
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (fold && c >= 'A' && c <= 'Z') c = (unsigned char)(c - 'A' + 'a');
        h = (h ^ c) * 0x100000001b3ULL;
    }
    return (h ^ 0xff) * 0x100000001b3ULL;
}

void risk_fact_of(const ch_attribution *a, risk_fact *out) {
    fact_category(a, out->category, sizeof out->category);
    ch_risk_authority(a, out->authority, sizeof out->authority);
    uint64_t h = hash_str(0xcbf29ce484222325ULL, a->address, true);
    h = hash_str(h, out->category, false);
    out->hash = hash_str(h, out->authority, false);
}

bool risk_same_fact_of(const ch_attribution *x, const risk_fact *fx, const ch_attribution *y,
                       const risk_fact *fy) {
    return fx->hash == fy->hash && strcasecmp(x->address, y->address) == 0 &&
           strcmp(fx->category, fy->category) == 0 && strcmp(fx->authority, fy->authority) == 0;
}

const char *risk_statement_date(const ch_attribution *a) {
    if (a->delisted)
        return strcmp(a->delisted_date, a->source_date) >= 0 ? a->delisted_date : a->source_date;
    /* a listing counts from the date its source published it; an undated
     * one (no source date) is older than any dated statement */
    return a->source_date;
}

/* Which of two statements of one fact is shown: the newer; then the one
 * that names an entity, an actor, with the higher confidence. */
static bool better(const ch_attribution *x, const ch_attribution *y) {
    int c = strcmp(risk_statement_date(x), risk_statement_date(y));
    if (c) return c > 0;
    if (!x->entity[0] != !y->entity[0]) return x->entity[0] != 0;
    if (!x->actor[0] != !y->actor[0]) return x->actor[0] != 0;
    return x->confidence > y->confidence;
}

void risk_fold(ch_risk_reason *r, const ch_attribution *a) {
    /* sources, newest statement first */
    uint32_t k = r->n_sources < CH_RISK_MAX_SOURCES ? r->n_sources : CH_RISK_MAX_SOURCES;
    uint32_t at = k;
    while (at > 0 && strcmp(risk_statement_date(a), risk_statement_date(r->sources[at - 1])) > 0)
        at--;
    if (at < CH_RISK_MAX_SOURCES) {
        uint32_t last = k < CH_RISK_MAX_SOURCES ? k : CH_RISK_MAX_SOURCES - 1;
        for (uint32_t i = last; i > at; i--)
            r->sources[i] = r->sources[i - 1];
        r->sources[at] = a;
    }
    r->n_sources++;
    r->case_folded |= a->case_folded;
}

void risk_decide(ch_risk_reason *r) {
    /* the newest listing and the newest delisting among the sources */
    const ch_attribution *listed = NULL, *delisted = NULL;
    uint32_t k = r->n_sources < CH_RISK_MAX_SOURCES ? r->n_sources : CH_RISK_MAX_SOURCES;
    for (uint32_t i = 0; i < k; i++) {
        const ch_attribution *a = r->sources[i];
        const ch_attribution **slot = a->delisted ? &delisted : &listed;
        if (!*slot || better(a, *slot)) *slot = a;
    }
    /* a tie goes to the listing: when in doubt, flag */
    r->current = listed && (!delisted || strcmp(risk_statement_date(listed),
                                                risk_statement_date(delisted)) >= 0);
    r->attr = r->current ? listed : delisted;
}

/* Internal: folding attributions into facts for ch_risk_assess (facts.c). */
#ifndef COINHOUND_RISK_FACTS_H
#define COINHOUND_RISK_FACTS_H

#include <stdbool.h>
#include <stdint.h>

#include "coinhound/risk.h"

/* Do two attributions state one fact: the same address (any letter case),
 * the same category (sanctions' synonyms as one) from the same authority
 * (ch_risk_authority)? */
bool risk_same_fact(const ch_attribution *x, const ch_attribution *y);
/* What risk_same_fact compares, worked out once for an attribution: a
 * verdict's fold compares each attribution with every fact found so far,
 * and working out the category and authority (a case-insensitive search of
 * the source's name, address and note) for both sides of every pair was a
 * third of a whole verdict (bench_screen_db). hash covers all three, so
 * most pairs that differ are told apart by it alone. */
typedef struct risk_fact {
    uint64_t hash;
    char category[CH_RISK_KEY_MAX];
    char authority[96];
} risk_fact;
void risk_fact_of(const ch_attribution *a, risk_fact *out);
/* risk_same_fact(x, y), given their facts fx and fy (risk_fact_of). */
bool risk_same_fact_of(const ch_attribution *x, const risk_fact *fx, const ch_attribution *y,
                       const risk_fact *fy);
/* The date a source made its statement: for a listing its source date ("" =
 * undated, older than any), for a delisting the later of its delisting date
 * and its source date. */
const char *risk_statement_date(const ch_attribution *a);
/* Add one attribution to a reason's sources (kept newest first). */
void risk_fold(ch_risk_reason *r, const ch_attribution *a);
/* Set r->current and r->attr from the sources: the fact stands when its
 * newest listing is at least as new as its newest delisting. */
void risk_decide(ch_risk_reason *r);

#endif

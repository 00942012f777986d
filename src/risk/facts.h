/* Internal: folding attributions into facts for ch_risk_assess (facts.c). */
#ifndef COINHOUND_RISK_FACTS_H
#define COINHOUND_RISK_FACTS_H

#include <stdbool.h>

#include "coinhound/risk.h"

/* Do two attributions state one fact: the same address (any letter case),
 * the same category (sanctions' synonyms as one) from the same authority
 * (ch_risk_authority)? */
bool risk_same_fact(const ch_attribution *x, const ch_attribution *y);
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

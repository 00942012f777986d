/* Internal: folding attributions into facts for ch_risk_assess (facts.c). */
#ifndef COINHOUND_RISK_FACTS_H
#define COINHOUND_RISK_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coinhound/risk.h"

/* Do two attributions state one fact: the same address (any letter case),
 * the same category (sanctions' synonyms as one) from the same authority
 * (ch_risk_authority)? risk_fact is what that compares, worked out once an
 * attribution: a verdict's fold compares each attribution with every fact
 * found so far, and working out both sides' category and authority (a
 * case-insensitive search of the source's name, URL and note) for every
 * pair, after a case-insensitive compare of the addresses, took 7-8% of
 * bench_screen_db's samples against 26.5% for the whole screening (perf,
 * 2026-12-07). hash covers all three: the fold finds an attribution's
 * reason by it in a hash table (verdict.c), so a verdict of a large
 * cluster's hundreds of labels folds in time linear in them (working a
 * reason's fact out again for every later attribution, past the first 16
 * kept, had bench_screen_db at 13k addresses/s, 83k without). */
typedef struct risk_fact {
    uint64_t hash;
    char category[CH_RISK_KEY_MAX];
    char authority[96];
} risk_fact;
void risk_fact_of(const ch_attribution *a, risk_fact *out);
/* Do x and y state one fact, given their facts fx and fy (risk_fact_of)? */
bool risk_same_fact_of(const ch_attribution *x, const risk_fact *fx, const ch_attribution *y,
                       const risk_fact *fy);
/* ch_risk_assess with each attribution's fact already worked out (*facts[i]
 * is attrs[i]'s, by risk_fact_of): a screener keeps the facts of a
 * cluster's labels once for all its members. slots is scratch room for the
 * fold's hash table, cap (risk_fold_slots(n)) entries. */
void risk_assess_folded(const ch_risk_table *t, const ch_attribution *attrs,
                        const risk_fact *const *facts, size_t n, uint32_t *slots, size_t cap,
                        ch_risk_reason *reasons, ch_risk_verdict *out);
/* The room risk_assess_folded's fold takes for n attributions: a power of
 * two of at least 2n. */
size_t risk_fold_slots(size_t n);
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

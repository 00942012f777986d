/* coinhound: the risk verdict of an address from its attributions.
 *
 * Levels and points follow TRM's severities (methods.md): severe 15, high
 * 10, medium 5, low 1, none 0. Each fact (the attributions that state
 * it folded together, see ch_risk_assess) becomes one reason:
 *
 *   level  = the level of its category in the table (unknown categories get
 *            table->unknown_level), raised to the country's level when the
 *            actor's country has one ("DPRK" -> severe by default), then
 *            lowered by one step when its confidence is below
 *            table->low_confidence (default 50);
 *   score  = points(level) * confidence / 100 (so 0..15).
 *
 * The verdict is the highest level and the highest score among *current*
 * reasons. A delisted attribution (removed by its source) stays in the list
 * as history (current = false) and adds nothing to the verdict, so an address
 * whose only labels were delisted is "none" and says why it once was listed.
 *
 * Default table (categories are normalised: lowercase, '-' and ' ' -> '_'):
 *   severe: sanctions, stolen_funds, hacker, dprk, ransomware,
 *           terrorist_financing, child_abuse
 *   high:   darknet, scam, mixer, fraud_shop, malware
 *   medium: gambling, unlicensed_exchange, high_risk_exchange, p2p_exchange
 *   low:    bridge
 *   low:    compromised (a compromised key may sign for the thief)
 *   none:   exchange, defi, merchant, miner, service, victim (a victim's own
 *           wallet, named in an incident list: a fact, no risk)
 * plus aliases (sanctioned, theft, stolen, hack, exploit, exploiter,
 * phishing, ponzi, mixing_service, tumbler, coinjoin, darknet_market, ...).
 * ch_risk_table_parse() changes entries: "mixer=severe,bridge=none,*=none,
 * country:RU=high"; ch_risk_table_load() reads them from a file, and
 * ch_risk_table_write() prints a table in that file's format.
 *
 * Illicit categories (those whose default is high or severe: sanctions,
 * stolen_funds, hacker, ransomware, mixer, scam, ...) can be lowered to low
 * but never to none: a listed illicit address is never "clean". An address
 * whose every label is of a no-risk category (a victim's wallet, an
 * exchange) is "none": listed, shown with its reasons, not flagged.
 *
 * Plain data, no allocation: the caller provides the reasons array. */
#ifndef COINHOUND_RISK_H
#define COINHOUND_RISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "coinhound/error.h"
#include "coinhound/intel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ch_risk_level {
    CH_RISK_NONE = 0,
    CH_RISK_LOW,
    CH_RISK_MEDIUM,
    CH_RISK_HIGH,
    CH_RISK_SEVERE,
} ch_risk_level;

/* "none", "low", "medium", "high", "severe". */
const char *ch_risk_level_name(ch_risk_level l);
/* Parse a level name (case-insensitive); -1 when unknown. */
int ch_risk_level_parse(const char *s, ch_risk_level *out);
/* TRM severity points: 0, 1, 5, 10, 15. */
int ch_risk_level_points(ch_risk_level l);

#define CH_RISK_MAX_RULES 96
#define CH_RISK_KEY_MAX   40

typedef struct ch_risk_rule {
    char key[CH_RISK_KEY_MAX]; /* normalised category, or "country:XX" */
    ch_risk_level level;
} ch_risk_rule;

typedef struct ch_risk_table {
    size_t n;
    ch_risk_rule rules[CH_RISK_MAX_RULES];
    ch_risk_level unknown_level; /* a category not in the table: low */
    uint8_t low_confidence;      /* below this, one level lower: 50 */
} ch_risk_table;

void ch_risk_table_default(ch_risk_table *t);
/* Set (add or replace) one category's level ("country:DPRK" for a country). */
int ch_risk_table_set(ch_risk_table *t, const char *category, ch_risk_level level, ch_error *err);
/* Apply "cat=level,cat=level" ('*' is the unknown level); -1 with the
 * offending item in err. */
int ch_risk_table_parse(ch_risk_table *t, const char *spec, ch_error *err);
/* Read rules from a file, one per line: "category = level" ('*' for
 * categories not in the table, "country:XX" for an actor's country),
 * "confidence_below = N" for the confidence under which a reason counts one
 * level lower; '#' starts a comment, blank lines are skipped. Entries
 * override the table's; categories the file does not name keep theirs. All
 * or nothing: -1 with "FILE: line N: ..." and t unchanged. */
int ch_risk_table_load(ch_risk_table *t, const char *path, ch_error *err);
/* Print t in ch_risk_table_load()'s format (illicit categories marked),
 * highest level first, then country rules, '*' and confidence_below. */
void ch_risk_table_write(const ch_risk_table *t, FILE *f);
/* Is the category (normalised first) illicit: one whose default level is
 * high or severe? Such a category cannot be set to none. */
bool ch_risk_category_illicit(const char *category);
/* Level of a category (normalised first), table->unknown_level if absent. */
ch_risk_level ch_risk_category_level(const ch_risk_table *t, const char *category);
/* Normalise a category name: lowercase, ' ' and '-' -> '_', trimmed. */
void ch_risk_normalise_category(const char *in, char *out, size_t cap);

#define CH_RISK_MAX_SOURCES 16

/* One fact judged: the attributions of one address that state the same
 * fact (the same authority's listing in the same category, see
 * ch_risk_authority) are one reason with all their sources: OFAC's listing
 * read from sdn.xml, a per-asset list and a TagPack is one reason with
 * three sources. */
typedef struct ch_risk_reason {
    const ch_attribution *attr; /* the caller's attribution that speaks for the fact: its
                                   newest statement (a listing when it stands) */
    ch_risk_level level;        /* after the country rule and confidence */
    double score;               /* points(level) * confidence / 100 */
    bool current;               /* false: delisted, kept as history */
    char actor_label[80];       /* "DPRK: Lazarus Group", "Lazarus Group" or "" */
    uint32_t n_sources;         /* attributions folded into this reason (>= 1) */
    /* the first CH_RISK_MAX_SOURCES of them, newest statement first */
    const ch_attribution *sources[CH_RISK_MAX_SOURCES];
    bool case_folded; /* one of them matched case-insensitively (ch_attribution) */
} ch_risk_reason;

typedef struct ch_risk_verdict {
    ch_risk_level level; /* highest current level */
    double score;        /* highest current score, 0..15 */
    size_t n_reasons;    /* all reasons, current first (by score, then level), then history */
    size_t n_current;
    ch_risk_reason *reasons; /* the caller's array, n_reasons (<= n) entries used */
} ch_risk_verdict;

/* Judge n attributions of one address: fold them into facts, one reason
 * each. A fact stands (current) when its newest listing is at least as new
 * as its newest delisting, dated by each source's own date: a newer snapshot
 * of the same authority wins, so an address OFAC's latest list delisted is
 * history (with every source, the older list that still holds it included),
 * not severe. Its level and score are the highest of its current listings.
 * reasons must hold n entries (it may be NULL when n is 0). Never fails. */
void ch_risk_assess(const ch_risk_table *t, const ch_attribution *attrs, size_t n,
                    ch_risk_reason *reasons, ch_risk_verdict *out);

/* The authority whose fact an attribution states: "OFAC" for a sanctions
 * listing that comes from OFAC by any road (a source or URL naming OFAC, the
 * SDN list or treasury.gov); otherwise the source's own name. */
void ch_risk_authority(const ch_attribution *a, char *out, size_t cap);

/* "DPRK: Lazarus Group" from an attribution's actor and country; just the
 * actor or just the country when only one is known; "" when neither. */
void ch_risk_actor_label(const ch_attribution *a, char *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif

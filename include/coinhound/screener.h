/* coinhound: one address's full verdict, with its evidence, as every door
 * gives it (`coinhound screen`, `coinhound serve`).
 *
 * A screener holds what screening asks: an offline screening set (screen.h)
 * or a database's attribution store (intel.h) and, when the database has
 * one, its chain store with the cluster file, for labels through clusters
 * and indirect exposure (exposure.h). ch_screener_screen() looks one address
 * up and judges it (risk.h) into a ch_verdict; ch_verdict_write_json()
 * writes the verdict as `coinhound screen --json` prints it, one object.
 *
 * Thread safety. The screener is read-only after open. Without a chain
 * store (ch_screener_store() == NULL) any number of threads may screen at
 * once, each with its own ch_verdict. With one, the chain store's read
 * transaction belongs to one thread at a time: callers serialise
 * ch_screener_screen, ch_verdict_write_json (it names path txids and token
 * contracts from the store) and ch_screener_refresh on one screener.
 *
 * Example (error handling trimmed):
 *
 *     ch_screener_opts o;
 *     ch_screener_opts_init(&o);
 *     o.set_path = "ofac.chset";
 *     ch_screener *s;
 *     ch_screener_open(&o, &s, NULL, &err);
 *     ch_verdict *v = ch_verdict_new();
 *     ch_screener_screen(s, "12ZEw5Hcv1hTb6YUQJ69y1V7uhcoDz92PH", v);
 *     ch_jw w; ch_jw_init(&w, stdout);
 *     ch_verdict_write_json(v, &w, NULL);
 *     ch_verdict_free(v);
 *     ch_screener_close(s, &err);
 */
#ifndef COINHOUND_SCREENER_H
#define COINHOUND_SCREENER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coinhound/chainaddr.h"
#include "coinhound/cluster.h"
#include "coinhound/error.h"
#include "coinhound/exposure.h"
#include "coinhound/intel.h"
#include "coinhound/jsonw.h"
#include "coinhound/risk.h"
#include "coinhound/screen.h"
#include "coinhound/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ch_screener ch_screener;

typedef struct ch_screener_opts {
    const char *set_path;       /* an offline screening set, or NULL */
    const char *db;             /* a database directory (used when set_path is NULL) */
    const char *chain;          /* the chain store under db: "btc" (default), "eth", ... */
    const ch_risk_table *table; /* copied at open; NULL: the default table */
    uint32_t max_hops;          /* indirect exposure's reach (default 3; 0 off) */
    /* open the attribution store shared (ch_intel_open_shared), so that the
     * process may import into it through ch_screener_intel(); when that
     * fails (no write permission) it is opened read-only and warn says so */
    bool intel_shared;
} ch_screener_opts;

void ch_screener_opts_init(ch_screener_opts *o);

/* Open the set, or the attribution store of db with its chain store when
 * present (a missing "btc" store is no error: the attribution store alone
 * screens; a chain named otherwise must exist). A cluster file that does
 * not fit the store is not used: then warn (may be NULL) says why and the
 * return is still 0. -1 with err on failure. */
int ch_screener_open(const ch_screener_opts *o, ch_screener **out, ch_error *warn, ch_error *err);
/* Close; -1 with err when the chain store found damage while read (an
 * answer given from it is not to trust), else 0. NULL is a no-op. */
int ch_screener_close(ch_screener *s, ch_error *err);
/* Move the chain store to its latest committed state (ch_store_refresh),
 * and take the cluster file anew when it was built again since it was
 * opened (another file, size or time): 1 moved, 0 nothing new or no store,
 * -1 error. What was worked out from the clusters' labels is dropped on 1
 * only: a refresh that finds nothing new is cheap (a long-lived door, like
 * `coinhound serve`, calls it between requests). (Labels imported into the
 * attribution store are seen without a refresh: the cluster labels worked
 * out from the old ones are dropped at the next address.) */
int ch_screener_refresh(ch_screener *s, ch_error *err);
/* The chain store in use (NULL: none), and the screening set (NULL: none). */
ch_store *ch_screener_store(const ch_screener *s);
ch_screen_set *ch_screener_set(const ch_screener *s);
/* The attribution store in use (NULL: a screening set is). Its lookups may
 * be made from any thread (each its own read transaction). */
ch_intel *ch_screener_intel(const ch_screener *s);
/* The chain store's name ("btc", "eth", ...), whether or not it is open. */
const char *ch_screener_chain(const ch_screener *s);

typedef enum ch_verdict_kind {
    CH_VERDICT_OK = 0,      /* judged: see risk */
    CH_VERDICT_INVALID,     /* not a valid address (error says why) */
    CH_VERDICT_UNSUPPORTED, /* a chain coinhound does not hold (THORChain, Cosmos, ...) */
    CH_VERDICT_ERROR        /* the lookup failed: no answer, never "clean" */
} ch_verdict_kind;

/* A label that reached the address through its cluster: the first member
 * seen with it and how many members carry it. */
typedef struct ch_verdict_member {
    char member[CH_ADDR_STR_MAX];
    uint64_t count;
} ch_verdict_member;

/* One verdict and the scratch it was built in (reused from call to call:
 * no allocation per address once warm). Read-only for callers. */
typedef struct ch_verdict {
    ch_verdict_kind kind;
    const char *address; /* as asked: the caller's string, valid while it is */
    char canonical[CH_ADDR_STR_MAX];
    ch_family family;
    char error[CH_ERROR_MAX]; /* kind != OK: why */
    ch_risk_verdict risk;     /* kind == OK: level, score, reasons (exposure folded in) */
    ch_attribution *attrs;    /* attrs[0..n_direct) the address's own, then via members */
    size_t n_attrs, cap;
    ch_risk_reason *reasons;
    size_t n_direct;
    ch_verdict_member *members; /* attrs[n_direct + i] came through members[i] */
    size_t members_cap;
    ch_cluster_hit hit; /* hit.cluster == 0: no cluster */
    bool have_exposure;
    ch_exposure *exposure;
    /* the chain side's failures, which leave the verdict standing on the
     * direct labels: "" when none */
    char cluster_error[CH_ERROR_MAX], exposure_error[CH_ERROR_MAX];
    const ch_screener *screener;
    /* set_ids[i]: attrs[i]'s index among the screening set's attributions
     * (UINT32_MAX: not from a set), by which the JSON writer keeps their
     * text; same capacity as attrs */
    uint32_t *set_ids;
} ch_verdict;

ch_verdict *ch_verdict_new(void);
void ch_verdict_free(ch_verdict *v);

/* Screen one address into v: returns v->kind. An invalid address is never
 * reported clean; a lookup failure is CH_VERDICT_ERROR. */
ch_verdict_kind ch_screener_screen(ch_screener *s, const char *address, ch_verdict *v);

/* Screen addresses[0..n) into v[0..n) (n distinct verdicts): the verdicts
 * ch_screener_screen gives one by one, in the same order, faster with a
 * screening set (the addresses are parsed, checksums included, and looked
 * up together: ch_screen_lookup_many). */
void ch_screener_screen_many(ch_screener *s, const char *const *addresses, size_t n,
                             ch_verdict *const *v);

/* v as `screen --json` writes it: one object, no newline. external_id, when
 * not NULL, is written right after "address" (a caller's own reference,
 * passed through). */
void ch_verdict_write_json(const ch_verdict *v, ch_jw *w, const char *external_id);

/* The name of an asset of v's exposure: the chain's coin, else its contract
 * in the store. */
const char *ch_verdict_asset_name(const ch_verdict *v, ch_addr_id asset, char buf[CH_ADDR_STR_MAX]);
/* Was v screened against an account chain's store (amounts in wei, EVM
 * hashes)? */
bool ch_verdict_account(const ch_verdict *v);

#ifdef __cplusplus
}
#endif

#endif

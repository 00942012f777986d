/* coinhound: reports people read — a case report of one trace, and the
 * oversight totals of stolen value by actor and year.
 *
 * Both are one self-contained HTML file: the stylesheet and the charts
 * (SVG drawn here) are inline, nothing is fetched from anywhere, no script
 * runs, and the page prints to PDF from a browser. Every string that comes
 * from data (labels, addresses, notes, incident records) is escaped: a
 * label cannot inject markup. Numbers a program needs are in the page too:
 * data-* attributes on the rows of the summary tables, and a JSON block
 * (<script type="application/json">) holding the same figures as the
 * command's JSON output. The layout is described in docs/report.md.
 *
 * Conventions as in error.h: 0 ok, -1 error with err set; pointers never
 * NULL unless said. */
#ifndef COINHOUND_REPORT_H
#define COINHOUND_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "coinhound/error.h"
#include "coinhound/store.h"
#include "coinhound/trace.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== The case report ================================================= */

typedef struct ch_report_case_opts {
    const char *title;       /* NULL: "Case report: funds traced from SOURCE" */
    const char *notes;       /* the investigator's notes, plain text; NULL: none */
    const char *const *tags; /* the case's tags (n_tags of them); may be NULL */
    size_t n_tags;           /* */
    const char *command;     /* how to reproduce the trace (a command line); NULL: built
                                from the spec */
    const char *generated;   /* the "generated at" text; NULL: now, UTC (tests fix it) */
    size_t max_evidence;     /* rows of the per-hop evidence table; 0: 400 */
    size_t max_paths;        /* landings whose full path is listed; 0: 25 */
    size_t max_services;     /* services drawn in the flow diagram, the rest grouped; 0: 10 */
} ch_report_case_opts;

void ch_report_case_opts_init(ch_report_case_opts *o);

/* Write the case report of trace result r (ch_trace_exec) to out: what was
 * stolen, where it went and where it is now; amounts by service and
 * category with what can be frozen where; the flow diagram; the landings
 * with the tx, block and time they arrived in and each label's source and
 * date; the path to each landing and the evidence per hop (tx, block, time,
 * the output's value, its taint and the share under the policy); the
 * method (policy, direction, limits, stop categories, data up to which
 * block); and the trace's JSON (docs/trace.md) in a block with id
 * "coinhound-trace". r is not changed in substance (paths are looked up).
 * -1 when out reports a write error or memory runs out. */
int ch_report_case_write(FILE *out, ch_trace_result *r, const ch_report_case_opts *o,
                         ch_error *err);

/* ==== Incident records and the oversight totals ======================= */

/* One theft, as an incidents file states it (docs/report.md). Strings are
 * owned by the ch_incidents set. */
typedef struct ch_incident {
    const char *date;            /* YYYY-MM-DD, YYYY-MM or YYYY */
    int year;                    /* from date */
    const char *victim;          /* "Bybit" */
    const char *kind;            /* "service" (exchange, bridge, custodian, wallet provider,
                                    payment processor: a service compromise), "protocol" (a DeFi
                                    contract exploit) or "personal" */
    const char *actor;           /* who the attribution names: "DPRK", or "unattributed" */
    const char *group;           /* the named cluster, "TraderTraitor"; may be "" */
    const char *attribution;     /* who attributed it and how; "" when unattributed */
    const char *attribution_url; /* its source; "" when unattributed */
    double usd;                  /* amount in US dollars at the time, as reported */
    const char *coin_amount;     /* in coin units as a decimal string ("401346.77"); may be "" */
    const char *coin;            /* "ETH", "BTC"; "" when coin_amount is "" */
    const char *chain;           /* coinhound chain name: "btc", "eth", ...; "multi" */
    const char *refs;            /* theft txs or addresses, space-separated, in the syntax of
                                    `trace --from`; may be "" */
    const char *source_url;      /* the citation of the facts (required) */
    const char *note;            /* may be "" */
    const char *file;            /* where the record was read */
    long line;
} ch_incident;

/* A published total beside which ours is shown (docs/report.md). */
typedef struct ch_published {
    int year;
    const char *publisher;   /* "Chainalysis" */
    const char *actor;       /* "DPRK" */
    double usd;              /* the actor's total as published */
    const char *denominator; /* what the share is of: "all thefts", "service compromises" */
    double denominator_usd;  /* 0: not published */
    double share_pct;        /* the share as published; < 0: not published */
    const char *source_url;
    const char *note;
    const char *file;
    long line;
} ch_published;

typedef struct ch_incidents ch_incidents;

int ch_incidents_new(ch_incidents **out, ch_error *err);
void ch_incidents_free(ch_incidents *set);
/* Read an incidents file (CSV with the header of docs/report.md) into set.
 * A malformed file is an error naming the file, the line and the field;
 * nothing of a file that fails is kept. */
int ch_incidents_load(ch_incidents *set, const char *path, ch_error *err);
/* The same from memory (name is used in messages): the fuzz harness. */
int ch_incidents_load_mem(ch_incidents *set, const char *name, const char *data, size_t len,
                          ch_error *err);
/* A published-figures file (CSV, docs/report.md), likewise. */
int ch_published_load(ch_incidents *set, const char *path, ch_error *err);
int ch_published_load_mem(ch_incidents *set, const char *name, const char *data, size_t len,
                          ch_error *err);
size_t ch_incidents_count(const ch_incidents *set);
const ch_incident *ch_incidents_get(const ch_incidents *set, size_t i);
size_t ch_published_count(const ch_incidents *set);
const ch_published *ch_published_get(const ch_incidents *set, size_t i);

/* The amount an incident's refs hold on chain, recomputed from a store
 * (ch_report_recompute). */
typedef struct ch_incident_chain {
    bool done;           /* the store was asked (its chain is the incident's) */
    size_t refs, found;  /* refs named, refs found in the store */
    ch_taint_sum amount; /* what the found refs received, base units of `asset` */
    char asset[16];      /* "BTC", "ETH" */
    int decimals;
    bool comparable;     /* the listed coin is this asset and its amount parsed */
    ch_taint_sum listed; /* the listed coin amount in base units (when comparable) */
} ch_incident_chain;

/* Grouping of the totals: by actor and year (the default), by year, by
 * actor. */
typedef enum ch_totals_by {
    CH_TOTALS_ACTOR_YEAR = 0,
    CH_TOTALS_YEAR,
    CH_TOTALS_ACTOR
} ch_totals_by;

/* Parse "actor,year", "year,actor", "year" or "actor". 0 or -1. */
int ch_totals_by_parse(const char *s, ch_totals_by *out);

typedef struct ch_totals_opts {
    ch_totals_by by;
    ch_store *store;       /* may be NULL: no amounts recomputed from the chain */
    const char *chain;     /* the store's chain name ("btc", "eth") */
    const char *generated; /* NULL: now */
    const char *title;     /* NULL: "Stolen cryptocurrency by actor and year" */
} ch_totals_opts;

void ch_totals_opts_init(ch_totals_opts *o);

/* Recompute incident i's amount from o->store: each ref is resolved as
 * `trace --from` resolves it and what it received is summed (an address:
 * everything it received; TXID:VOUT: that output; TXID: every output of the
 * tx). Refs of another chain are not asked (c->done false). */
int ch_report_recompute(const ch_totals_opts *o, const ch_incident *inc, ch_incident_chain *c,
                        ch_error *err);

/* The totals report as HTML (or, json true, as one JSON object of the same
 * figures; docs/report.md) to out. */
int ch_report_totals_write(FILE *out, const ch_incidents *set, const ch_totals_opts *o, bool json,
                           ch_error *err);

#ifdef __cplusplus
}
#endif

#endif

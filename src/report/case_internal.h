/* The case report's parts (case.c, case_flow.c, case_method.c) share one
 * context: the trace result, its store and spec, and the landings grouped
 * by service. */
#ifndef COINHOUND_REPORT_CASE_INTERNAL_H
#define COINHOUND_REPORT_CASE_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>

#include "coinhound/address.h"
#include "coinhound/report.h"
#include "coinhound/trace.h"

#define RC_PATH_MAX       4096   /* longest path listed */
#define RC_STEPS_KEPT     200000 /* steps held for the evidence table (the rest are counted) */
#define RC_HOLDINGS_SHOWN 30

/* Landings of one service: (entity, category, asset). */
typedef struct rc_svc {
    const char *entity, *category;
    ch_addr_id asset;
    ch_taint_sum amount;
    size_t addresses;
} rc_svc;

typedef struct rc_ctx {
    FILE *f;
    ch_trace_result *r;
    ch_store *s;
    const ch_trace_spec *sp;
    ch_report_case_opts o;
    bool account;
    const ch_trace_sums *m; /* the main asset's sums */
    const ch_trace_place *land;
    size_t n_land;
    rc_svc *svc; /* largest first */
    size_t n_svc;
    ch_taint_sum landed_main; /* landings of the main asset */
} rc_ctx;

const char *rc_addr(const rc_ctx *c, ch_addr_id id, char buf[CH_ADDR_STR_MAX]);
const char *rc_tx(const rc_ctx *c, uint64_t tx, uint64_t ref, char out[80]);
void rc_amount(rc_ctx *c, ch_addr_id asset, ch_taint_sum v);
/* The same cut for a glance (rh_amount_short): cards, narrative, diagram. */
void rc_amount_short(rc_ctx *c, ch_addr_id asset, ch_taint_sum v);
/* What a service of this category can do; *can 2 yes, 1 maybe, 0 no. */
const char *rc_freeze(const char *category, int *can);

/* case_flow.c: the flow diagram (inline SVG). */
void rc_section_flow(rc_ctx *c);
/* case_method.c: the line under the title, the notes, the method and the
 * embedded JSON. */
void rc_subtitle(rc_ctx *c, const char *generated);
void rc_section_notes(rc_ctx *c);
int rc_section_method(rc_ctx *c);

#endif

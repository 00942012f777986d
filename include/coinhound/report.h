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

#ifdef __cplusplus
}
#endif

#endif

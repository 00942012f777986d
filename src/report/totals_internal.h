/* The oversight totals' figures (totals.c), shared by their HTML writer
 * (totals_html.c) and their JSON writer (totals.c). */
#ifndef COINHOUND_REPORT_TOTALS_INTERNAL_H
#define COINHOUND_REPORT_TOTALS_INTERNAL_H

#include "coinhound/report.h"

/* One year, over every incident of the set. */
typedef struct rt_year {
    int year;
    double usd, usd_service; /* all thefts; service compromises only */
    size_t n, n_service;
} rt_year;

/* One (year, actor) cell; year 0 or actor NULL when the grouping drops it. */
typedef struct rt_group {
    int year;
    const char *actor;
    double usd, usd_service;
    size_t n;
    double share_all, share_service; /* of the year's totals; < 0: not defined */
} rt_group;

/* A published figure beside ours. */
typedef struct rt_compare {
    const ch_published *p;
    bool service;            /* the denominator is service compromises only */
    double ours, ours_denom; /* the actor's total and the denominator, from the set */
    double their_share;      /* as published, or usd / denominator_usd; < 0: unknown */
    double our_share;        /* < 0: no denominator */
    size_t ours_n;
} rt_compare;

typedef struct rt_totals {
    const ch_incidents *set;
    const ch_totals_opts *o;
    rt_year *years;
    size_t n_years;
    const char **actors; /* distinct, largest total first */
    double *actor_usd;
    size_t n_actors;
    rt_group *groups;
    size_t n_groups;
    rt_compare *cmp;
    size_t n_cmp;
    ch_incident_chain *chain; /* per incident */
    double usd, usd_attributed;
} rt_totals;

int rt_compute(rt_totals *t, const ch_incidents *set, const ch_totals_opts *o, ch_error *err);
void rt_free(rt_totals *t);
int rt_write_json(const rt_totals *t, FILE *f);
/* The page; its figures embedded as rt_write_json writes them. */
int rt_write_html(const rt_totals *t, FILE *f);
const char *rt_by_name(ch_totals_by by);

#endif

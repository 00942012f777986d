/* Indirect exposure: a backward haircut trace scored with the risk table
 * (see exposure.h). */
#include "coinhound/exposure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/address.h"
#include "coinhound/trace.h"

void ch_exposure_opts_init(ch_exposure_opts *o) {
    memset(o, 0, sizeof *o);
    o->max_hops = 3;
    o->min_share = 0.001;
}

/* Every category the table knows, plus the trace's default service list:
 * the trace stops at any of them (backward, a service's own history is not
 * the screened address's business). */
static char *stop_list(const ch_risk_table *t) {
    size_t cap = strlen(CH_TRACE_DEFAULT_STOP) + 2 + t->n * (CH_RISK_KEY_MAX + 1);
    char *s = malloc(cap);
    if (!s) return NULL;
    strcpy(s, CH_TRACE_DEFAULT_STOP);
    for (size_t i = 0; i < t->n; i++) {
        if (!strncmp(t->rules[i].key, "country:", 8)) continue;
        strcat(s, ",");
        strcat(s, t->rules[i].key);
    }
    return s;
}

static int by_flag_score(const void *a, const void *b) {
    const ch_exposure_source *x = a, *y = b;
    if ((x->level > CH_RISK_NONE) != (y->level > CH_RISK_NONE))
        return x->level > CH_RISK_NONE ? -1 : 1;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->amount > y->amount ? -1 : x->amount < y->amount;
}

static void fill_source(ch_store *s, ch_trace *t, const ch_trace_landing *l,
                        const ch_risk_table *table, double received, ch_exposure_source *src) {
    memset(src, 0, sizeof *src);
    ch_addr a;
    ch_store_addr_of(s, l->addr, &a);
    if (ch_addr_to_string(&a, CH_NET_MAINNET, src->address) != 0) src->address[0] = '\0';
    snprintf(src->category, sizeof src->category, "%s", l->label.category);
    snprintf(src->entity, sizeof src->entity, "%s", l->label.entity);
    src->amount = (double)l->amount / (double)CH_TAINT_ONE;
    src->share = received > 0 ? src->amount / received : 0;
    src->hops = l->hops;
    ch_risk_level level = ch_risk_category_level(table, src->category);
    if (level > CH_RISK_LOW && l->hops > 1) level--;
    src->level = level;
    src->score = ch_risk_level_points(level) * src->share;
    uint64_t path[256];
    size_t n = ch_trace_path(t, l->out, path, 256);
    if (n > 256) n = 256;
    src->path_len = n < CH_EXPOSURE_MAX_PATH ? n : CH_EXPOSURE_MAX_PATH;
    memcpy(src->path, path, src->path_len * sizeof *path);
}

int ch_exposure_of(ch_store *s, struct ch_intel *intel, const ch_addr *addr,
                   const ch_exposure_opts *opts, ch_exposure *out, ch_error *err) {
    ch_exposure_opts defaults;
    ch_exposure_opts_init(&defaults);
    const ch_exposure_opts *o = opts ? opts : &defaults;
    ch_risk_table deftable;
    ch_risk_table_default(&deftable);
    const ch_risk_table *table = o->table ? o->table : &deftable;
    memset(out, 0, sizeof *out);
    out->max_hops = o->max_hops;

    uint32_t id;
    uint64_t last;
    int rc = ch_store_find_addr(s, addr, &id, &last, err);
    if (rc <= 0) return rc;
    char *stop = stop_list(table);
    if (!stop) return ch_err(err, "out of memory");
    ch_labels *labels = o->labels;
    if (!labels && ch_labels_new(s, intel, stop, &labels, err) != 0) {
        free(stop);
        return -1;
    }
    ch_trace_opts to;
    ch_trace_opts_init(&to);
    to.policy = CH_POLICY_HAIRCUT;
    to.direction = CH_TRACE_BACKWARD;
    to.labels = labels;
    to.stop_at = stop;
    to.max_hops = o->max_hops;
    ch_trace *t = NULL;
    rc = -1;
    if (ch_trace_new(s, &to, &t, err) != 0 || ch_trace_add_address(t, id, err) != 0 ||
        ch_trace_run(t, err) != 0 || ch_trace_collect(t, err) != 0)
        goto out;
    ch_trace_totals tot;
    ch_trace_get_totals(t, &tot);
    out->received = ch_taint_sat(tot.source);
    double received = (double)tot.source / (double)CH_TAINT_ONE;
    const ch_trace_landing *ls;
    size_t n = ch_trace_landings(t, &ls);
    ch_exposure_source *all = calloc(n ? n : 1, sizeof *all);
    if (!all) {
        ch_err(err, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        fill_source(s, t, &ls[i], table, received, &all[i]);
        if (all[i].level > CH_RISK_NONE && all[i].share >= o->min_share) {
            out->flagged_amount += all[i].amount;
            if (all[i].level > out->level) out->level = all[i].level;
            if (all[i].score > out->score) out->score = all[i].score;
        } else if (all[i].level > CH_RISK_NONE) {
            all[i].level = CH_RISK_NONE; /* too small a share to flag */
            all[i].score = 0;
        }
    }
    qsort(all, n, sizeof *all, by_flag_score);
    out->n_sources = n < CH_EXPOSURE_MAX_SOURCES ? n : CH_EXPOSURE_MAX_SOURCES;
    memcpy(out->sources, all, out->n_sources * sizeof *all);
    out->flagged_share = received > 0 ? out->flagged_amount / received : 0;
    free(all);
    rc = 1;
out:
    ch_trace_free(t);
    if (labels != o->labels) ch_labels_free(labels);
    free(stop);
    return rc;
}

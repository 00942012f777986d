/* Indirect exposure: a backward haircut trace through the one trace front
 * door (so a Bitcoin and an account-chain store alike), scored with the
 * risk table (see exposure.h). */
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

static void fill_source(ch_store *s, ch_trace_result *r, const ch_trace_place *l,
                        const ch_risk_table *table, double received, ch_exposure_source *src) {
    memset(src, 0, sizeof *src);
    ch_addr a;
    ch_store_addr_of(s, l->addr, &a);
    if (ch_addr_to_string(&a, ch_store_addr_net(s), src->address) != 0) src->address[0] = '\0';
    snprintf(src->category, sizeof src->category, "%s", l->label.category);
    snprintf(src->entity, sizeof src->entity, "%s", l->label.entity);
    src->asset = l->asset;
    src->amount_base = l->amount;
    src->amount = (double)l->amount + (double)l->frac / (double)CH_TAINT_ONE;
    src->share = received > 0 ? src->amount / received : 0;
    /* hops between the source and the address, 1 = it paid the address: the
     * UTXO engine counts the tx that paid the source too (its landing is an
     * output the source received), the account walk counts transfers after
     * the first (its landing is the source's own transfer) */
    src->hops = ch_store_is_account(s) ? l->hops + 1 : l->hops;
    ch_risk_level level = ch_risk_category_level(table, src->category);
    if (level > CH_RISK_LOW && src->hops > 1) level--;
    src->level = level;
    src->score = ch_risk_level_points(level) * src->share;
    ch_trace_hop path[256];
    size_t n = ch_trace_result_path(r, l, path, 256);
    if (n > 256) n = 256;
    src->path_len = n < CH_EXPOSURE_MAX_PATH ? n : CH_EXPOSURE_MAX_PATH;
    for (size_t i = 0; i < src->path_len; i++)
        src->path[i] = path[i].tx;
}

/* What the address received of one asset, in base units. */
static ch_taint_sum received_of(const ch_trace_result *r, ch_addr_id asset) {
    const ch_trace_sums *x;
    size_t n = ch_trace_result_sums(r, &x);
    for (size_t i = 0; i < n; i++)
        if (x[i].asset == asset) return x[i].source;
    return 0;
}

/* The flagged part: summed per asset (amounts of different assets do not
 * add up), the exposure being that of the asset with the largest flagged
 * share. A Bitcoin address has one asset. */
static void flagged_part(const ch_trace_result *r, const ch_exposure_source *all, size_t n,
                         ch_exposure *out) {
    double best = -1;
    for (size_t i = 0; i < n; i++) {
        if (all[i].level == CH_RISK_NONE) continue;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = all[k].level > CH_RISK_NONE && all[k].asset == all[i].asset;
        if (seen) continue;
        double amount = 0, recv = (double)received_of(r, all[i].asset);
        for (size_t k = i; k < n; k++)
            if (all[k].level > CH_RISK_NONE && all[k].asset == all[i].asset)
                amount += all[k].amount;
        double share = recv > 0 ? amount / recv : 0;
        if (share > best) {
            best = share;
            out->asset = all[i].asset;
            out->flagged_amount = amount;
            out->flagged_share = share;
        }
    }
}

int ch_exposure_of(ch_store *s, struct ch_intel *intel, const ch_addr *addr,
                   const ch_exposure_opts *opts, ch_exposure *out, ch_error *err) {
    memset(out, 0, sizeof *out);
    out->max_hops = opts ? opts->max_hops : 3;
    out->account = ch_store_is_account(s);
    ch_addr_id id;
    uint64_t last;
    int rc = ch_store_find_addr(s, addr, &id, &last, err);
    if (rc <= 0) return rc;
    char from[CH_ADDR_STR_MAX];
    if (ch_addr_to_string(addr, ch_store_addr_net(s), from) != 0)
        return ch_err(err, "exposure: the address cannot be written out");
    return ch_exposure_of_source(s, intel, from, opts, out, err);
}

int ch_exposure_of_source(ch_store *s, struct ch_intel *intel, const char *from,
                          const ch_exposure_opts *opts, ch_exposure *out, ch_error *err) {
    ch_exposure_opts defaults;
    ch_exposure_opts_init(&defaults);
    const ch_exposure_opts *o = opts ? opts : &defaults;
    ch_risk_table deftable;
    ch_risk_table_default(&deftable);
    const ch_risk_table *table = o->table ? o->table : &deftable;
    memset(out, 0, sizeof *out);
    out->max_hops = o->max_hops;
    out->account = ch_store_is_account(s);
    int rc;
    char *stop = stop_list(table);
    if (!stop) return ch_err(err, "out of memory");
    ch_labels *labels = o->labels;
    if (!labels && ch_labels_new(s, intel, stop, &labels, err) != 0) {
        free(stop);
        return -1;
    }
    ch_trace_spec to;
    ch_trace_spec_init(&to);
    to.source = from;
    to.policy = CH_POLICY_HAIRCUT;
    to.direction = CH_TRACE_BACKWARD;
    to.labels = labels;
    to.stop_at = stop;
    to.max_hops = o->max_hops;
    ch_trace_result *r = NULL;
    rc = ch_trace_exec(s, &to, &r, err);
    if (rc != 1) goto out;
    rc = -1;
    /* the asset it received most of (Bitcoin: the one), unless a flagged
     * asset says otherwise below */
    out->asset = ch_trace_result_main(r)->asset;
    const ch_trace_place *ls;
    size_t n = ch_trace_result_landings(r, &ls);
    ch_exposure_source *all = calloc(n ? n : 1, sizeof *all);
    if (!all) {
        ch_err(err, "out of memory");
        goto out;
    }
    size_t kept = 0;
    for (size_t j = 0; j < n; j++) {
        size_t i = kept;
        fill_source(s, r, &ls[j], table, (double)received_of(r, ls[j].asset), &all[i]);
        if (o->max_hops && all[i].hops > o->max_hops) continue; /* account: a transfer further */
        kept++;
        if (all[i].level > CH_RISK_NONE && all[i].share >= o->min_share) {
            if (all[i].level > out->level) out->level = all[i].level;
            if (all[i].score > out->score) out->score = all[i].score;
        } else if (all[i].level > CH_RISK_NONE) {
            all[i].level = CH_RISK_NONE; /* too small a share to flag */
            all[i].score = 0;
        }
    }
    n = kept;
    flagged_part(r, all, n, out);
    out->received_base = received_of(r, out->asset);
    out->received = out->received_base > UINT64_MAX ? UINT64_MAX : (uint64_t)out->received_base;
    if (n > 1) qsort(all, n, sizeof *all, by_flag_score);
    out->n_sources = n < CH_EXPOSURE_MAX_SOURCES ? n : CH_EXPOSURE_MAX_SOURCES;
    memcpy(out->sources, all, out->n_sources * sizeof *all);
    free(all);
    rc = 1;
out:
    ch_trace_result_free(r);
    if (labels != o->labels) ch_labels_free(labels);
    free(stop);
    return rc;
}

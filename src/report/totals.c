/* The oversight totals (ch_report_totals_write): stolen value by actor and
 * year from incident records, with shares of each year's thefts over a
 * stated denominator (all thefts in the set, or service compromises only),
 * published figures beside ours, and, given a store, each incident's
 * amount recomputed from the chain. The figures are worked out once
 * (rt_compute) and written as JSON (here) or HTML (totals_html.c); the HTML
 * embeds the JSON. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coinhound/jsonw.h"
#include "report/totals_internal.h"

void ch_totals_opts_init(ch_totals_opts *o) {
    memset(o, 0, sizeof *o);
    o->chain = "btc";
}

int ch_totals_by_parse(const char *s, ch_totals_by *out) {
    if (!strcmp(s, "actor,year") || !strcmp(s, "year,actor"))
        *out = CH_TOTALS_ACTOR_YEAR;
    else if (!strcmp(s, "year"))
        *out = CH_TOTALS_YEAR;
    else if (!strcmp(s, "actor"))
        *out = CH_TOTALS_ACTOR;
    else
        return -1;
    return 0;
}

const char *rt_by_name(ch_totals_by by) {
    return by == CH_TOTALS_YEAR ? "year" : by == CH_TOTALS_ACTOR ? "actor" : "actor,year";
}

/* ---- recomputing an incident from the chain ---- */

/* A decimal coin amount in base units of `decimals`; -1 when it has more
 * fractional digits than the asset or does not fit. */
static int coin_units(const char *s, int decimals, ch_taint_sum *out) {
    ch_taint_sum v = 0;
    int frac = -1;
    for (const char *p = s; *p; p++) {
        if (*p == '.') {
            frac = 0;
            continue;
        }
        if (frac >= 0 && ++frac > decimals) return -1;
        if (v > (((ch_taint_sum)1 << 120) / 10)) return -1;
        v = v * 10 + (ch_taint_sum)(*p - '0');
    }
    for (int k = frac < 0 ? 0 : frac; k < decimals; k++)
        v *= 10;
    *out = v;
    return 0;
}

int ch_report_recompute(const ch_totals_opts *o, const ch_incident *inc, ch_incident_chain *c,
                        ch_error *err) {
    memset(c, 0, sizeof *c);
    c->decimals = -1;
    if (!o->store || !inc->refs[0] || strcmp(inc->chain, o->chain ? o->chain : "btc")) return 0;
    c->done = true;
    char *refs = strdup(inc->refs), *save = NULL;
    if (!refs) return ch_err(err, "out of memory");
    for (char *tok = strtok_r(refs, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        c->refs++;
        ch_trace_spec sp;
        ch_trace_spec_init(&sp);
        sp.source = tok;
        sp.max_hops = 1; /* only the source's own amount is wanted */
        sp.stop_at = "";
        sp.chain = o->chain;
        ch_trace_result *r = NULL;
        ch_error e2;
        if (ch_trace_exec(o->store, &sp, &r, &e2) == 1) {
            const ch_trace_sums *m = ch_trace_result_main(r);
            char an[128];
            int dec;
            const char *name = ch_trace_asset_name(r, m->asset, &dec, an);
            if (!c->found || !strcmp(c->asset, name)) { /* one asset: the first ref's */
                snprintf(c->asset, sizeof c->asset, "%s", name);
                c->decimals = dec;
                c->amount += m->source;
                c->found++;
            }
        }
        ch_trace_result_free(r);
    }
    free(refs);
    c->comparable = c->found && c->decimals >= 0 && inc->coin_amount[0] &&
                    !strcasecmp(inc->coin, c->asset) &&
                    coin_units(inc->coin_amount, c->decimals, &c->listed) == 0;
    return 0;
}

/* ---- the figures ---- */

static int cmp_year(const void *a, const void *b) {
    return ((const rt_year *)a)->year - ((const rt_year *)b)->year;
}

static int cmp_group(const void *a, const void *b) {
    const rt_group *x = a, *y = b;
    if (x->year != y->year) return x->year - y->year;
    return x->usd < y->usd ? 1 : x->usd > y->usd ? -1 : 0;
}

static rt_year *year_of(rt_totals *t, int y) {
    for (size_t i = 0; i < t->n_years; i++)
        if (t->years[i].year == y) return &t->years[i];
    return NULL;
}

static size_t actor_index(const rt_totals *t, const char *a) {
    for (size_t i = 0; i < t->n_actors; i++)
        if (!strcasecmp(t->actors[i], a)) return i;
    return t->n_actors;
}

/* The rows of the chosen grouping (actor and year, year, actor) with both
 * shares over their year's denominators (or all years' when by actor). */
static int compute_groups(rt_totals *t) {
    size_t n = ch_incidents_count(t->set);
    t->groups = calloc(n ? n : 1, sizeof *t->groups);
    if (!t->groups) return -1;
    ch_totals_by by = t->o->by;
    for (size_t i = 0; i < n; i++) {
        const ch_incident *x = ch_incidents_get(t->set, i);
        int y = by == CH_TOTALS_ACTOR ? 0 : x->year;
        const char *a = by == CH_TOTALS_YEAR ? NULL : t->actors[actor_index(t, x->actor)];
        size_t k = 0;
        while (k < t->n_groups && !(t->groups[k].year == y && t->groups[k].actor == a))
            k++;
        if (k == t->n_groups) {
            t->groups[k] = (rt_group){.year = y, .actor = a};
            t->n_groups++;
        }
        t->groups[k].usd += x->usd;
        if (!strcmp(x->kind, "service")) t->groups[k].usd_service += x->usd;
        t->groups[k].n++;
    }
    for (size_t k = 0; k < t->n_groups; k++) {
        rt_group *g = &t->groups[k];
        double all = t->usd, svc = 0;
        if (g->year) {
            const rt_year *yr = year_of(t, g->year);
            all = yr->usd;
            svc = yr->usd_service;
        } else {
            for (size_t i = 0; i < t->n_years; i++)
                svc += t->years[i].usd_service;
        }
        g->share_all = all > 0 ? g->usd / all : -1;
        g->share_service = svc > 0 ? g->usd_service / svc : -1;
    }
    qsort(t->groups, t->n_groups, sizeof *t->groups, cmp_group);
    return 0;
}

static int compute_published(rt_totals *t) {
    size_t n = ch_published_count(t->set), ni = ch_incidents_count(t->set);
    t->cmp = calloc(n ? n : 1, sizeof *t->cmp);
    if (!t->cmp) return -1;
    for (size_t k = 0; k < n; k++) {
        const ch_published *p = ch_published_get(t->set, k);
        rt_compare *c = &t->cmp[t->n_cmp++];
        c->p = p;
        c->service = strcasestr(p->denominator, "service") != NULL;
        for (size_t i = 0; i < ni; i++) {
            const ch_incident *x = ch_incidents_get(t->set, i);
            if (x->year != p->year) continue;
            bool svc = !strcmp(x->kind, "service");
            if (c->service && !svc) continue;
            c->ours_denom += x->usd;
            if (!strcasecmp(x->actor, p->actor)) {
                c->ours += x->usd;
                c->ours_n++;
            }
        }
        c->their_share = p->share_pct >= 0        ? p->share_pct / 100
                         : p->denominator_usd > 0 ? p->usd / p->denominator_usd
                                                  : -1;
        c->our_share = c->ours_denom > 0 ? c->ours / c->ours_denom : -1;
    }
    return 0;
}

int rt_compute(rt_totals *t, const ch_incidents *set, const ch_totals_opts *o, ch_error *err) {
    memset(t, 0, sizeof *t);
    t->set = set;
    t->o = o;
    size_t n = ch_incidents_count(set);
    t->years = calloc(n ? n : 1, sizeof *t->years);
    t->actors = calloc(n ? n : 1, sizeof *t->actors);
    t->actor_usd = calloc(n ? n : 1, sizeof *t->actor_usd);
    t->chain = calloc(n ? n : 1, sizeof *t->chain);
    if (!t->years || !t->actors || !t->actor_usd || !t->chain) goto oom;
    for (size_t i = 0; i < n; i++) {
        const ch_incident *x = ch_incidents_get(set, i);
        rt_year *y = year_of(t, x->year);
        if (!y) {
            y = &t->years[t->n_years++];
            y->year = x->year;
        }
        bool svc = !strcmp(x->kind, "service");
        y->usd += x->usd;
        y->n++;
        if (svc) {
            y->usd_service += x->usd;
            y->n_service++;
        }
        size_t a = actor_index(t, x->actor);
        if (a == t->n_actors) t->actors[t->n_actors++] = x->actor;
        t->actor_usd[a] += x->usd;
        t->usd += x->usd;
        if (strcasecmp(x->actor, "unattributed")) t->usd_attributed += x->usd;
        if (ch_report_recompute(o, x, &t->chain[i], err) != 0) goto fail;
    }
    qsort(t->years, t->n_years, sizeof *t->years, cmp_year);
    /* actors, largest total first (few: an insertion sort) */
    for (size_t a = 1; a < t->n_actors; a++) {
        const char *s = t->actors[a];
        double v = t->actor_usd[a];
        size_t b = a;
        for (; b > 0 && t->actor_usd[b - 1] < v; b--) {
            t->actors[b] = t->actors[b - 1];
            t->actor_usd[b] = t->actor_usd[b - 1];
        }
        t->actors[b] = s;
        t->actor_usd[b] = v;
    }
    if (compute_groups(t) != 0 || compute_published(t) != 0) goto oom;
    return 0;
oom:
    ch_err(err, "out of memory");
fail:
    rt_free(t);
    return -1;
}

void rt_free(rt_totals *t) {
    free(t->years);
    free(t->actors);
    free(t->actor_usd);
    free(t->groups);
    free(t->cmp);
    free(t->chain);
    memset(t, 0, sizeof *t);
}

/* ---- JSON ---- */

static void jw_share(ch_jw *w, const char *key, double v) {
    ch_jw_key(w, key);
    if (v < 0)
        ch_jw_null(w);
    else
        ch_jw_double(w, v);
}

static void jw_kv(ch_jw *w, const char *key, const char *v) {
    ch_jw_key(w, key);
    ch_jw_str(w, v);
}

static void jw_num(ch_jw *w, const char *key, double v) {
    ch_jw_key(w, key);
    ch_jw_double(w, v);
}

static void jw_chain(ch_jw *w, const ch_incident_chain *c) {
    char b[48];
    ch_jw_key(w, "chain_check");
    if (!c->done) {
        ch_jw_null(w);
        return;
    }
    ch_jw_obj_begin(w);
    ch_jw_key(w, "refs");
    ch_jw_uint(w, c->refs);
    ch_jw_key(w, "found");
    ch_jw_uint(w, c->found);
    jw_kv(w, "asset", c->found ? c->asset : NULL);
    jw_kv(w, "amount", c->found ? ch_u128_str(c->amount, b) : NULL);
    jw_kv(w, "amount_display",
          c->found && c->decimals >= 0 ? ch_u128_decimals_str(c->amount, c->decimals, b) : NULL);
    jw_kv(w, "listed", c->comparable ? ch_u128_str(c->listed, b) : NULL);
    ch_jw_key(w, "difference"); /* on chain minus listed, base units, signed */
    if (c->comparable) {
        bool neg = c->amount < c->listed;
        ch_taint_sum d = neg ? c->listed - c->amount : c->amount - c->listed;
        char s[50];
        snprintf(s, sizeof s, "%s%s", neg && d ? "-" : "", ch_u128_str(d, b));
        ch_jw_str(w, s);
    } else {
        ch_jw_null(w);
    }
    ch_jw_obj_end(w);
}

int rt_write_json(const rt_totals *t, FILE *f) {
    ch_jw w;
    ch_jw_init(&w, f);
    ch_jw_obj_begin(&w);
    jw_kv(&w, "by", rt_by_name(t->o->by));
    ch_jw_key(&w, "incidents_read");
    ch_jw_uint(&w, ch_incidents_count(t->set));
    jw_num(&w, "usd", t->usd);
    jw_num(&w, "usd_attributed", t->usd_attributed);
    ch_jw_key(&w, "years");
    ch_jw_arr_begin(&w);
    for (size_t i = 0; i < t->n_years; i++) {
        const rt_year *y = &t->years[i];
        ch_jw_obj_begin(&w);
        ch_jw_key(&w, "year");
        ch_jw_int(&w, y->year);
        ch_jw_key(&w, "incidents");
        ch_jw_uint(&w, y->n);
        jw_num(&w, "usd_all", y->usd);
        ch_jw_key(&w, "incidents_service");
        ch_jw_uint(&w, y->n_service);
        jw_num(&w, "usd_service", y->usd_service);
        ch_jw_obj_end(&w);
    }
    ch_jw_arr_end(&w);
    ch_jw_key(&w, "groups");
    ch_jw_arr_begin(&w);
    for (size_t i = 0; i < t->n_groups; i++) {
        const rt_group *g = &t->groups[i];
        ch_jw_obj_begin(&w);
        ch_jw_key(&w, "year");
        if (g->year)
            ch_jw_int(&w, g->year);
        else
            ch_jw_null(&w);
        jw_kv(&w, "actor", g->actor);
        ch_jw_key(&w, "incidents");
        ch_jw_uint(&w, g->n);
        jw_num(&w, "usd", g->usd);
        jw_num(&w, "usd_service", g->usd_service);
        jw_share(&w, "share_of_all", g->share_all);
        jw_share(&w, "share_of_service", g->share_service);
        ch_jw_obj_end(&w);
    }
    ch_jw_arr_end(&w);
    ch_jw_key(&w, "published");
    ch_jw_arr_begin(&w);
    for (size_t i = 0; i < t->n_cmp; i++) {
        const rt_compare *c = &t->cmp[i];
        const ch_published *p = c->p;
        ch_jw_obj_begin(&w);
        ch_jw_key(&w, "year");
        ch_jw_int(&w, p->year);
        jw_kv(&w, "publisher", p->publisher);
        jw_kv(&w, "actor", p->actor);
        jw_num(&w, "usd", p->usd);
        jw_kv(&w, "denominator", p->denominator);
        jw_share(&w, "denominator_usd", p->denominator_usd > 0 ? p->denominator_usd : -1);
        jw_share(&w, "share", c->their_share);
        jw_kv(&w, "source_url", p->source_url);
        jw_kv(&w, "ours_denominator", c->service ? "service compromises" : "all thefts");
        jw_num(&w, "ours_usd", c->ours);
        ch_jw_key(&w, "ours_incidents");
        ch_jw_uint(&w, c->ours_n);
        jw_num(&w, "ours_denominator_usd", c->ours_denom);
        jw_share(&w, "ours_share", c->our_share);
        jw_num(&w, "difference_usd", p->usd - c->ours);
        ch_jw_obj_end(&w);
    }
    ch_jw_arr_end(&w);
    ch_jw_key(&w, "incidents");
    ch_jw_arr_begin(&w);
    for (size_t i = 0; i < ch_incidents_count(t->set); i++) {
        const ch_incident *x = ch_incidents_get(t->set, i);
        ch_jw_obj_begin(&w);
        jw_kv(&w, "date", x->date);
        jw_kv(&w, "victim", x->victim);
        jw_kv(&w, "kind", x->kind);
        jw_kv(&w, "actor", x->actor);
        jw_kv(&w, "group", x->group);
        jw_kv(&w, "attribution", x->attribution);
        jw_kv(&w, "attribution_url", x->attribution_url);
        jw_num(&w, "usd", x->usd);
        jw_kv(&w, "amount_coin", x->coin_amount);
        jw_kv(&w, "coin", x->coin);
        jw_kv(&w, "chain", x->chain);
        jw_kv(&w, "theft_refs", x->refs);
        jw_kv(&w, "source_url", x->source_url);
        jw_kv(&w, "file", x->file);
        ch_jw_key(&w, "line");
        ch_jw_int(&w, x->line);
        jw_chain(&w, &t->chain[i]);
        ch_jw_obj_end(&w);
    }
    ch_jw_arr_end(&w);
    ch_jw_obj_end(&w);
    ch_jw_newline(&w);
    return ferror(f) ? -1 : 0;
}

int ch_report_totals_write(FILE *out, const ch_incidents *set, const ch_totals_opts *o, bool json,
                           ch_error *err) {
    ch_totals_opts def;
    if (!o) {
        ch_totals_opts_init(&def);
        o = &def;
    }
    rt_totals t;
    if (rt_compute(&t, set, o, err) != 0) return -1;
    int rc = json ? rt_write_json(&t, out) : rt_write_html(&t, out);
    rt_free(&t);
    if (rc != 0 || ferror(out)) return ch_err(err, "cannot write the report");
    return 0;
}

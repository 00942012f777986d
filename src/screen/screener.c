/* The screener (coinhound/screener.h): one address looked up in a
 * screening set or an attribution store, its chain side (labels through its
 * cluster, indirect exposure) added from the chain store, judged by the risk
 * table. What `coinhound screen` and `coinhound serve` both call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "coinhound/address.h"
#include "coinhound/hash.h"
#include "coinhound/screener.h"
#include "coinhound/trace.h"
#include "risk/facts.h"
#include "screen/screener_internal.h"
#include "screen/verdict_tmpl.h"
#include "util/vec.h"

/* Clusters whose view of their labels a screener keeps at once: one slot
 * for each labelled cluster of the index, at most this many (a slot taken
 * by another cluster is made again from the index: 4,096 slots for the
 * 35k labelled clusters of bench_screen_db had most addresses walk their
 * cluster again). */
#define CL_AGG_SLOTS_MAX (1u << 16)
/* A cluster's labels from the index, once for all its members: each label
 * (same_label) once with how many reports it had, the first member to
 * report it and the first other member (and where in the cluster's reports
 * they first did), and every report as (member, label). A member's view is
 * that without its own reports (ch_cluster_labels leaves the address asked
 * about out): replaying each label with the member and the count that
 * remain, in the order of their first remaining report, through
 * cluster_label_n gives what the reports one by one give. */
typedef struct cl_label {
    ch_attribution a;
    uint64_t total, cnt1; /* reports, and those of m1 */
    ch_addr_id m1, m2;    /* the first member to report it; the first other one (0: none) */
    uint64_t pos1, pos2;  /* their first reports' places among the cluster's */
    char member1[CH_ADDR_STR_MAX], member2[CH_ADDR_STR_MAX];
    risk_fact fact; /* a's, for the verdict's fold (worked out once a cluster) */
} cl_label;

typedef struct cl_report {
    ch_addr_id member;
    uint32_t label;
} cl_report;

typedef struct cl_agg {
    bool used;
    ch_addr_id cluster;
    cl_label *v;
    size_t n, cap;
    cl_report *r; /* by member */
    size_t nr, rcap;
    int oom;
} cl_agg;

struct ch_screener {
    ch_screen_set *set;
    ch_intel *db;
    ch_store *store; /* the chain side (NULL when there is no store of the chain) */
    const char *chain;
    char chain_buf[32];
    bool account; /* an account chain's store: EVM addresses get the chain side */
    ch_clusters *clusters;
    char db_dir[4096];         /* o->db, for the cluster file */
    struct stat clusters_file; /* the cluster file as opened (a rebuild renames a new one) */
    /* cluster labels precomputed (cluster.h), built when a second address
     * is screened (one address alone is cheaper by the walk); dropped on
     * refresh; not built again after a failure (the walk still answers) */
    ch_cluster_label_index *labels_ix;
    uint64_t labels_gen; /* the attribution store's generation the index was built at */
    uint64_t chain_sides;
    bool labels_ix_failed;
    cl_agg *aggs;         /* n_aggs clusters' views, by cluster id modulo (direct-mapped) */
    size_t n_aggs;        /* a power of two */
    struct cl_seen *seen; /* scratch of indexed_labels */
    size_t seen_cap;
    /* the facts of a verdict's fold: cluster_facts[i] is the fact of its
     * cluster attribution i, as the cluster's view has it (n_cluster_facts
     * of them, set by indexed_labels); own_facts those of its own
     * attributions; fact_of and slots the fold's scratch */
    const risk_fact **cluster_facts, **fact_of;
    size_t n_cluster_facts, cluster_facts_cap, fact_of_cap;
    risk_fact *own_facts;
    size_t own_facts_cap;
    uint32_t *slots;
    size_t slots_cap;
    ch_risk_table table;
    ch_exposure_opts xo;
    vt_cache *tmpl; /* a set's attributions as JSON text (verdict_tmpl.h); NULL: none */
};

void ch_screener_opts_init(ch_screener_opts *o) {
    memset(o, 0, sizeof *o);
    o->chain = "btc";
    o->max_hops = 3;
}

/* The cluster file, when there is one that fits the store: a stale or
 * damaged one is left out with a warning (direct labels still count). */
static void open_clusters(ch_screener *s, const char *db, ch_error *warn) {
    char path[4200];
    struct stat sb;
    snprintf(path, sizeof path, "%s/btc/%s", db, CH_CLUSTER_FILE);
    if (stat(path, &sb) != 0) return; /* never clustered */
    s->clusters_file = sb;
    ch_error err;
    if (ch_clusters_open_for(s->store, db, "btc", &s->clusters, &err) != 0) {
        if (warn)
            ch_err(warn, "not using the cluster file, so no labels through clusters: %s", err.msg);
        s->clusters = NULL;
    }
}

int ch_screener_open(const ch_screener_opts *o, ch_screener **out, ch_error *warn, ch_error *err) {
    *out = NULL;
    if (warn) warn->msg[0] = '\0';
    ch_screener *s = calloc(1, sizeof *s);
    if (!s) return ch_err(err, "out of memory");
    if (o->table)
        s->table = *o->table;
    else
        ch_risk_table_default(&s->table);
    ch_exposure_opts_init(&s->xo);
    s->xo.max_hops = o->max_hops;
    s->xo.table = &s->table;
    snprintf(s->chain_buf, sizeof s->chain_buf, "%s", o->chain ? o->chain : "btc");
    if (o->db) snprintf(s->db_dir, sizeof s->db_dir, "%s", o->db);
    s->chain = s->chain_buf;
    if (o->set_path) {
        if (ch_screen_set_open(o->set_path, &s->set, err) != 0) goto fail;
        ch_screen_info in;
        ch_screen_set_info(s->set, &in);
        s->tmpl = vt_cache_new(in.attributions); /* NULL: the general writer, no error */
        *out = s;
        return 0;
    }
    if (!o->db) {
        ch_err(err, "nothing to screen against: no screening set and no database");
        goto fail;
    }
    if (o->intel_shared) {
        ch_error e2;
        if (ch_intel_open_shared(o->db, &s->db, &e2) != 0) {
            if (ch_intel_open(o->db, false, &s->db, err) != 0) goto fail;
            if (warn) ch_err(warn, "attribution store read-only (no imports): %s", e2.msg);
        }
    } else if (ch_intel_open(o->db, false, &s->db, err) != 0)
        goto fail;
    /* the chain side is optional: an attribution store alone screens */
    if (ch_store_open(o->db, s->chain, CH_STORE_READ, &s->store, err) == 0) {
        s->account = ch_store_is_account(s->store);
        if (!s->account) open_clusters(s, o->db, warn);
    } else if (strcmp(s->chain, "btc") != 0) {
        /* asked for by name: its absence is an error, not a quiet "no exposure" */
        goto fail;
    }
    *out = s;
    return 0;
fail:
    ch_screener_close(s, NULL);
    return -1;
}

/* Forget the clusters' views (the index they came from is going). */
static void drop_aggs(ch_screener *s) {
    for (size_t i = 0; s->aggs && i < s->n_aggs; i++) {
        free(s->aggs[i].v);
        free(s->aggs[i].r);
    }
    free(s->aggs);
    s->aggs = NULL;
    free(s->seen);
    s->seen = NULL;
    s->seen_cap = 0;
    s->n_aggs = 0;
}

int ch_screener_close(ch_screener *s, ch_error *err) {
    if (!s) return 0;
    int rc = 0;
    ch_error e;
    if (s->store && ch_store_damage(s->store, &e) != 0) {
        if (err) *err = e;
        rc = -1;
    }
    if (s->set) ch_screen_set_close(s->set);
    vt_cache_free(s->tmpl);
    if (s->db) ch_intel_close(s->db);
    drop_aggs(s);
    free(s->cluster_facts);
    free(s->fact_of);
    free(s->own_facts);
    free(s->slots);
    ch_cluster_label_index_free(s->labels_ix);
    if (s->clusters) ch_clusters_close(s->clusters);
    if (s->store) ch_store_close(s->store);
    free(s);
    return rc;
}

/* Is the cluster file another than the one opened (built again since, or
 * first built)? */
static bool clusters_rebuilt(const ch_screener *s) {
    char path[4200];
    struct stat sb;
    snprintf(path, sizeof path, "%s/btc/%s", s->db_dir, CH_CLUSTER_FILE);
    if (stat(path, &sb) != 0) return false;
    const struct stat *o = &s->clusters_file;
    return sb.st_ino != o->st_ino || sb.st_dev != o->st_dev || sb.st_size != o->st_size ||
           sb.st_mtim.tv_sec != o->st_mtim.tv_sec || sb.st_mtim.tv_nsec != o->st_mtim.tv_nsec;
}

/* Forget the cluster labels' index and its views (what they came from
 * changed); built again at the second address screened after. */
static void drop_labels(ch_screener *s) {
    drop_aggs(s);
    ch_cluster_label_index_free(s->labels_ix);
    s->labels_ix = NULL;
    s->labels_ix_failed = false;
}

int ch_screener_refresh(ch_screener *s, ch_error *err) {
    if (!s->store) return 0;
    int rc = ch_store_refresh(s->store, err);
    if (rc < 0) return -1;
    if (!s->account && clusters_rebuilt(s)) {
        /* clustered again: the new clusters (a stale file is left out) */
        if (s->clusters) ch_clusters_close(s->clusters);
        s->clusters = NULL;
        open_clusters(s, s->db_dir, NULL);
        rc = 1;
    }
    /* new addresses or other clusters: the labels' index is built again;
     * nothing new (the HTTP service refreshes every second): kept. Labels
     * imported since are seen by chain_side (ch_intel_generation). */
    if (rc == 1) drop_labels(s);
    return rc;
}

const ch_cluster_label_index *scr_screener_labels_index(const ch_screener *s) {
    return s->labels_ix;
}

ch_store *ch_screener_store(const ch_screener *s) {
    return s->store;
}
ch_screen_set *ch_screener_set(const ch_screener *s) {
    return s->set;
}
ch_intel *ch_screener_intel(const ch_screener *s) {
    return s->db;
}
vt_cache *scr_screener_templates(const ch_screener *s) {
    return s->tmpl;
}

ch_verdict *ch_verdict_new(void) {
    ch_verdict *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->exposure = malloc(sizeof *v->exposure);
    if (!v->exposure) {
        free(v);
        return NULL;
    }
    return v;
}

void ch_verdict_free(ch_verdict *v) {
    if (!v) return;
    free(v->attrs);
    free(v->reasons);
    free(v->set_ids);
    free(v->members);
    free(v->exposure);
    free(v);
}

/* A new attribution slot at the end of v's (its contents the caller's to
 * fill); NULL when out of memory. */
static ch_attribution *push_slot(ch_verdict *v) {
    if (v->n_attrs == v->cap) { /* three arrays of one capacity */
        size_t cap_a = v->cap, cap_r = v->cap, cap_i = v->cap;
        ch_attribution *n = ch_grow(v->attrs, &cap_a, v->n_attrs + 1, sizeof *n);
        if (!n) return NULL;
        v->attrs = n;
        ch_risk_reason *r = ch_grow(v->reasons, &cap_r, v->n_attrs + 1, sizeof *r);
        if (!r) return NULL;
        v->reasons = r;
        uint32_t *ids = ch_grow(v->set_ids, &cap_i, v->n_attrs + 1, sizeof *ids);
        if (!ids) return NULL;
        v->set_ids = ids;
        v->cap = cap_a < cap_r ? cap_a : cap_r;
        v->cap = v->cap < cap_i ? v->cap : cap_i;
    }
    v->set_ids[v->n_attrs] = UINT32_MAX; /* not a set's (the caller says when it is) */
    return &v->attrs[v->n_attrs++];
}

static int push(ch_verdict *v, const ch_attribution *a) {
    ch_attribution *slot = push_slot(v);
    if (!slot) return -1;
    *slot = *a;
    return 0;
}

static int collect(const ch_attribution *a, void *ctx) {
    return push(ctx, a) != 0 ? -1 : 0;
}

static ch_verdict_kind invalid_or_unsupported(const char *addr) {
    return ch_chainaddr_unsupported(addr, NULL, 0) ? CH_VERDICT_UNSUPPORTED : CH_VERDICT_INVALID;
}

/* One address's answer from the set (r: ch_screen_lookup's, or NULL to ask
 * it here) into v's attributions, canonical and family. */
static ch_verdict_kind lookup_set(const ch_screener *s, const char *addr,
                                  const ch_screen_result *pre, ch_verdict *v, ch_error *err) {
    ch_screen_result own;
    const ch_screen_result *r = pre;
    if (!r) {
        ch_screen_lookup(s->set, addr, &own);
        r = &own;
    }
    if (r->status == CH_SCREEN_INVALID) {
        ch_err(err, "%s", r->reason);
        return invalid_or_unsupported(addr);
    }
    v->family = r->family;
    /* both CH_ADDR_STR_MAX, r's NUL-terminated: a copy (snprintf was 3% of a batch) */
    memcpy(v->canonical, r->canonical, strnlen(r->canonical, CH_ADDR_STR_MAX - 1) + 1);
    v->canonical[CH_ADDR_STR_MAX - 1] = '\0';
    for (uint32_t i = 0; i < r->n_attr; i++) {
        /* made in its slot (an attribution is 1.2 kB: no copy between) */
        ch_attribution *a = push_slot(v);
        if (!a) {
            ch_err(err, "out of memory");
            return CH_VERDICT_ERROR;
        }
        if (ch_screen_attr_to_attribution(s->set, r, i, a) != 0) {
            v->n_attrs--;
            ch_err(err, "attribution %u of %s unreadable", i, r->canonical);
            return CH_VERDICT_ERROR;
        }
        v->set_ids[v->n_attrs - 1] = scr_attr_id(r, i);
    }
    return CH_VERDICT_OK;
}

/* The same in the attribution store. */
static ch_verdict_kind lookup_db(const ch_screener *s, const char *addr, ch_verdict *v,
                                 ch_error *err) {
    ch_chainaddr c;
    ch_error perr;
    perr.msg[0] = '\0';
    if (ch_chainaddr_parse(addr, CH_FAM_UNKNOWN, &c, &perr) == 0) {
        v->family = c.family;
        snprintf(v->canonical, CH_ADDR_STR_MAX, "%s", c.canonical);
    } else {
        /* A value of no known form may be stored verbatim (a source listed
         * it as it was); only if it is not is the address invalid. */
        size_t n = strnlen(addr, CH_ADDR_STR_MAX);
        if (n == 0 || n >= CH_ADDR_STR_MAX) {
            *err = perr;
            return invalid_or_unsupported(addr);
        }
        snprintf(v->canonical, CH_ADDR_STR_MAX, "%s", addr);
    }
    if (ch_intel_lookup(s->db, v->canonical, collect, v, err) < 0) return CH_VERDICT_ERROR;
    if (v->family == CH_FAM_UNKNOWN && v->n_attrs == 0) {
        *err = perr;
        v->canonical[0] = '\0';
        return invalid_or_unsupported(addr);
    }
    return CH_VERDICT_OK;
}

static bool same_label(const ch_attribution *x, const ch_attribution *y) {
    return !strcmp(x->category, y->category) && !strcmp(x->entity, y->entity) &&
           !strcmp(x->source_name, y->source_name) && x->delisted == y->delisted;
}

/* A cluster-mate's attribution. An exchange's cluster has thousands of
 * deposit addresses with the same label: it is one reason, with a count and
 * one member to show; a label the address carries itself adds nothing. */
/* A cluster-mate's label reported count times. distinct: the caller knows
 * it differs from every cluster label already added (a cluster's view lists
 * each label once), so only the address's own labels are compared. */
static int cluster_label_n(ch_verdict *v, const char *member, const ch_attribution *a,
                           uint64_t count, bool distinct) {
    for (size_t i = 0; i < (distinct ? v->n_direct : v->n_attrs); i++) {
        if (!same_label(&v->attrs[i], a)) continue;
        if (i >= v->n_direct) v->members[i - v->n_direct].count += count;
        return 0;
    }
    size_t i = v->n_attrs - v->n_direct;
    if (i >= v->members_cap) {
        ch_verdict_member *m = ch_grow(v->members, &v->members_cap, i + 1, sizeof *m);
        if (!m) return -1;
        v->members = m;
    }
    snprintf(v->members[i].member, CH_ADDR_STR_MAX, "%s", member);
    v->members[i].count = count;
    return push(v, a) != 0 ? -1 : 0;
}

/* One report of ch_cluster_labels: a cluster-mate's attribution. */
static int cluster_label(const char *member, const ch_attribution *a, void *ctx) {
    return cluster_label_n(ctx, member, a, 1, false);
}

/* One report of the cluster's walk into its view (cl_agg): its label found
 * or added (first member, place), the counts, the report kept by member. */
static int agg_label(ch_addr_id member, const char *str, const ch_attribution *a, void *ctx) {
    cl_agg *g = ctx;
    size_t k = 0;
    while (k < g->n && !same_label(&g->v[k].a, a))
        k++;
    if (k == g->n) {
        cl_label *nv = ch_grow(g->v, &g->cap, g->n + 1, sizeof *nv);
        if (!nv) return g->oom = 1;
        g->v = nv;
        cl_label *l = &g->v[g->n++];
        memset(l, 0, sizeof *l);
        l->a = *a;
        l->m1 = member;
        l->pos1 = g->nr;
        snprintf(l->member1, CH_ADDR_STR_MAX, "%s", str);
        risk_fact_of(a, &l->fact);
    }
    cl_label *l = &g->v[k];
    l->total++;
    if (member == l->m1) {
        l->cnt1++;
    } else if (!l->m2) {
        l->m2 = member;
        l->pos2 = g->nr;
        snprintf(l->member2, CH_ADDR_STR_MAX, "%s", str);
    }
    cl_report *nr = ch_grow(g->r, &g->rcap, g->nr + 1, sizeof *nr);
    if (!nr) return g->oom = 1;
    g->r = nr;
    g->r[g->nr++] = (cl_report){member, (uint32_t)k};
    return 0;
}

static int cmp_report(const void *pa, const void *pb) {
    const cl_report *a = pa, *b = pb;
    return a->member < b->member ? -1 : a->member > b->member;
}

/* One label as a member sees it: who reported it first, how often. */
typedef struct cl_seen {
    uint64_t pos, count;
    const char *member;
    const ch_attribution *a;
    const risk_fact *fact;
} cl_seen;

static int cmp_seen(const void *pa, const void *pb) {
    const cl_seen *a = pa, *b = pb;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* The cluster labels of an address through the index and the view of its
 * cluster kept per cluster (made on its first address). 0, or -1 with err. */
static int indexed_labels(ch_screener *s, ch_verdict *v, ch_error *err) {
    ch_addr_id self, cl;
    uint32_t size;
    bool labelled;
    memset(&v->hit, 0, sizeof v->hit);
    int w = ch_cluster_label_index_where_id(s->store, s->clusters, s->labels_ix, v->canonical,
                                            &self, &cl, &size, &labelled, err);
    if (w <= 0) return w;
    v->hit.cluster = cl;
    v->hit.size = size;
    if (size <= 1) return 0;
    cl_agg *g = &s->aggs[cl & (s->n_aggs - 1)];
    if (!g->used || g->cluster != cl) {
        g->used = false;
        g->n = g->nr = 0;
        g->oom = 0;
        uint64_t reported;
        if (ch_cluster_label_index_walk(s->store, s->clusters, s->db, s->labels_ix, cl, size, 0,
                                        agg_label, g, &reported, err) != 0)
            return -1;
        if (g->oom) return ch_err(err, "out of memory");
        if (g->nr) qsort(g->r, g->nr, sizeof *g->r, cmp_report);
        g->cluster = cl;
        g->used = true;
    }
    /* its own reports (none unless it is labelled) */
    size_t lo = 0, hi = g->nr;
    while (labelled && lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->r[mid].member < self)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t own_end = lo;
    while (labelled && own_end < g->nr && g->r[own_end].member == self)
        own_end++;
    cl_seen *seen = ch_grow(s->seen, &s->seen_cap, g->n ? g->n : 1, sizeof *seen);
    if (!seen) return ch_err(err, "out of memory");
    s->seen = seen;
    size_t ns = 0;
    for (size_t k = 0; k < g->n; k++) {
        const cl_label *l = &g->v[k];
        uint64_t own = 0;
        for (size_t j = lo; j < own_end; j++)
            own += g->r[j].label == k;
        cl_seen x = {l->pos1, l->total - own, l->member1, &l->a, &l->fact};
        if (l->m1 == self) x = (cl_seen){l->pos2, l->total - own, l->member2, &l->a, &l->fact};
        if (x.count == 0 || (l->m1 == self && !l->m2)) continue;
        seen[ns++] = x;
    }
    if (ns) qsort(seen, ns, sizeof *seen, cmp_seen);
    v->hit.labelled = g->nr - (own_end - lo);
    const risk_fact **cf =
        ch_grow(s->cluster_facts, &s->cluster_facts_cap, ns ? ns : 1, sizeof *cf);
    if (!cf) return ch_err(err, "out of memory");
    s->cluster_facts = cf;
    for (size_t i = 0; i < ns; i++) {
        size_t before = v->n_attrs;
        if (cluster_label_n(v, seen[i].member, seen[i].a, seen[i].count, true) != 0) break;
        if (v->n_attrs > before) cf[s->n_cluster_facts++] = seen[i].fact;
    }
    return 0;
}

/* The store's form of a screened address: Bitcoin's parser, or 0x + 40 hex
 * digits (any letter case) on an account chain. */
static int store_addr(const ch_screener *s, const char *canonical, ch_addr *a) {
    if (!s->account) return ch_addr_from_string(canonical, a, NULL, NULL);
    if (strlen(canonical) != 42 || canonical[0] != '0' || (canonical[1] | 0x20) != 'x') return -1;
    *a = (ch_addr){.kind = CH_ADDR_EVM, .len = 20};
    return ch_hex_decode(canonical + 2, 40, a->bytes, 20);
}

/* Cluster labels and indirect exposure of an address of the store's chain.
 * A failure of either leaves the direct verdict standing and is said in
 * cluster_error / exposure_error. */
static void chain_side(ch_screener *s, ch_verdict *v) {
    ch_error err;
    if (s->labels_ix && ch_intel_generation(s->db) != s->labels_gen) {
        /* labels were imported since: what came of the old ones goes */
        drop_labels(s);
    }
    if (s->clusters && !s->labels_ix && !s->labels_ix_failed && s->chain_sides++ > 0) {
        s->labels_gen = ch_intel_generation(s->db); /* before: a later import is seen */
        if (ch_cluster_label_index_build(s->store, s->clusters, s->db, &s->labels_ix, &err) != 0)
            s->labels_ix_failed = true;
    }
    int rc = 0;
    if (s->clusters && s->labels_ix && !s->aggs) {
        uint64_t members, attrs, clusters;
        ch_cluster_label_index_counts(s->labels_ix, &members, &attrs, &clusters);
        s->n_aggs = 1;
        while (s->n_aggs < clusters && s->n_aggs < CL_AGG_SLOTS_MAX)
            s->n_aggs *= 2;
        if (!(s->aggs = calloc(s->n_aggs, sizeof *s->aggs))) rc = ch_err(&err, "out of memory");
    }
    if (rc == 0 && s->clusters && s->labels_ix)
        rc = indexed_labels(s, v, &err);
    else if (rc == 0 && s->clusters)
        rc = ch_cluster_labels(s->store, s->clusters, s->db, v->canonical, cluster_label, v,
                               &v->hit, &err);
    if (rc != 0) snprintf(v->cluster_error, sizeof v->cluster_error, "%s", err.msg);
    ch_addr a;
    if (s->xo.max_hops == 0 || store_addr(s, v->canonical, &a) != 0) return;
    rc = ch_exposure_of(s->store, s->db, &a, &s->xo, v->exposure, &err);
    if (rc < 0) snprintf(v->exposure_error, sizeof v->exposure_error, "%s", err.msg);
    v->have_exposure = rc == 1;
}

/* v's attributions judged: the facts of its cluster attributions as their
 * cluster's view keeps them (when indexed_labels gave every one), so only
 * its own are worked out here; else ch_risk_assess works out all. Without
 * a chain store the screener is shared by threads: its scratch unused. */
static void assess(ch_screener *s, ch_verdict *v) {
    size_t n = v->n_attrs, nd = v->n_direct;
    if (!s->store || n - nd != s->n_cluster_facts || n - nd == 0) {
        ch_risk_assess(&s->table, v->attrs, n, v->reasons, &v->risk);
        return;
    }
    size_t cap = risk_fold_slots(n);
    const risk_fact **f = ch_grow(s->fact_of, &s->fact_of_cap, n, sizeof *f);
    if (f) s->fact_of = f;
    risk_fact *own = ch_grow(s->own_facts, &s->own_facts_cap, nd ? nd : 1, sizeof *own);
    if (own) s->own_facts = own;
    uint32_t *slots = ch_grow(s->slots, &s->slots_cap, cap, sizeof *slots);
    if (slots) s->slots = slots;
    if (!f || !own || !slots) {
        ch_risk_assess(&s->table, v->attrs, n, v->reasons, &v->risk);
        return;
    }
    for (size_t i = 0; i < nd; i++) {
        risk_fact_of(&v->attrs[i], &own[i]);
        f[i] = &own[i];
    }
    memcpy(f + nd, s->cluster_facts, (n - nd) * sizeof *f);
    risk_assess_folded(&s->table, v->attrs, f, n, slots, cap, v->reasons, &v->risk);
}

/* ch_screener_screen, the set's answer given (pre: NULL to ask it). */
static ch_verdict_kind screen_with(ch_screener *s, const char *address, const ch_screen_result *pre,
                                   ch_verdict *v) {
    ch_error err;
    err.msg[0] = '\0';
    v->screener = s;
    v->address = address;
    v->n_attrs = 0;
    v->n_direct = 0;
    v->family = CH_FAM_UNKNOWN;
    v->canonical[0] = '\0';
    v->error[0] = v->cluster_error[0] = v->exposure_error[0] = '\0';
    v->have_exposure = false;
    if (s->store) s->n_cluster_facts = 0; /* the chain side's: one thread at a time */
    memset(&v->risk, 0, sizeof v->risk);
    memset(&v->hit, 0, sizeof v->hit);
    v->kind = s->set ? lookup_set(s, address, pre, v, &err) : lookup_db(s, address, v, &err);
    v->n_direct = v->n_attrs;
    if (v->kind == CH_VERDICT_OK && s->store &&
        (s->account ? v->family == CH_FAM_EVM : v->family == CH_FAM_BTC))
        chain_side(s, v);
    if (v->kind != CH_VERDICT_OK) {
        snprintf(v->error, sizeof v->error, "%s", err.msg[0] ? err.msg : "not a valid address");
        return v->kind;
    }
    assess(s, v);
    if (v->have_exposure && v->exposure->level > v->risk.level) v->risk.level = v->exposure->level;
    if (v->have_exposure && v->exposure->score > v->risk.score) v->risk.score = v->exposure->score;
    return v->kind;
}

ch_verdict_kind ch_screener_screen(ch_screener *s, const char *address, ch_verdict *v) {
    return screen_with(s, address, NULL, v);
}

/* Set answers worked out together at most this many at a time (on the
 * stack). */
#define SCREEN_MANY_CHUNK 64

void ch_screener_screen_many(ch_screener *s, const char *const *addresses, size_t n,
                             ch_verdict *const *v) {
    if (!s->set) {
        for (size_t i = 0; i < n; i++)
            screen_with(s, addresses[i], NULL, v[i]);
        return;
    }
    for (size_t base = 0; base < n; base += SCREEN_MANY_CHUNK) {
        size_t m = n - base < SCREEN_MANY_CHUNK ? n - base : SCREEN_MANY_CHUNK;
        ch_screen_result r[SCREEN_MANY_CHUNK];
        ch_screen_lookup_many(s->set, addresses + base, m, r);
        for (size_t i = 0; i < m; i++)
            screen_with(s, addresses[base + i], &r[i], v[base + i]);
    }
}

const char *ch_verdict_asset_name(const ch_verdict *v, ch_addr_id asset,
                                  char buf[CH_ADDR_STR_MAX]) {
    const ch_screener *s = v->screener;
    if (!asset) return ch_chain_native_symbol(s->chain, s->account);
    ch_addr a;
    ch_store_addr_of(s->store, asset, &a);
    return ch_addr_to_string(&a, ch_store_addr_net(s->store), buf) == 0 ? buf : "?";
}

bool ch_verdict_account(const ch_verdict *v) {
    return v->screener && v->screener->account;
}

const char *ch_screener_chain(const ch_screener *s) {
    return s->chain;
}

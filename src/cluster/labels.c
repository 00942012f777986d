/* Labels that speak for a cluster: the attributions of an address's fellow
 * cluster members, for screening ("labelled via cluster member X"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cluster/cluster_internal.h"
#include "coinhound/address.h"
#include "coinhound/hash.h"
#include "util/vec.h"

/* A canonical address string as the store's ch_addr: an EVM "0x" + 40 hex
 * account, else a Bitcoin address. */
static int parse_addr(const char *str, ch_addr *a, ch_error *err) {
    if (strlen(str) == 42 && str[0] == '0' && (str[1] == 'x' || str[1] == 'X')) {
        memset(a, 0, sizeof *a);
        a->kind = CH_ADDR_EVM;
        a->len = 20;
        if (ch_hex_decode(str + 2, 40, a->bytes, 20) == 0) return 0;
        return ch_err(err, "'%s' is not an EVM address", str);
    }
    return ch_addr_from_string(str, a, NULL, err);
}

typedef struct walk_ctx {
    ch_store *s;
    const ch_clusters *c;
    ch_addr_id self, cluster;
    const char *member; /* set while looking up one member */
    ch_cluster_label_fn fn;
    void *ctx;
    uint64_t reported;
    int stopped;
} walk_ctx;

/* One attribution of one member (member walk). */
static int on_member_label(const ch_attribution *a, void *p) {
    walk_ctx *w = p;
    w->reported++;
    if (w->fn && w->fn(w->member, a, w->ctx)) w->stopped = 1;
    return w->stopped;
}

/* One attribution of the whole store (label walk): is it a fellow member? */
static int on_any_label(const ch_attribution *a, void *p) {
    walk_ctx *w = p;
    ch_addr ad;
    ch_addr_id id;
    uint64_t last;
    if (parse_addr(a->address, &ad, NULL) != 0) return 0; /* not an address of this store */
    if (ch_store_find_addr(w->s, &ad, &id, &last, NULL) != 1) return 0;
    if (id == w->self || ch_cluster_of(w->c, id) != w->cluster) return 0;
    w->reported++;
    if (w->fn && w->fn(a->address, a, w->ctx)) w->stopped = 1;
    return w->stopped;
}

int ch_cluster_labels(ch_store *s, const ch_clusters *c, ch_intel *intel, const char *canonical,
                      ch_cluster_label_fn fn, void *ctx, ch_cluster_hit *hit, ch_error *err) {
    ch_cluster_hit local;
    if (!hit) hit = &local;
    memset(hit, 0, sizeof *hit);
    ch_addr a;
    ch_addr_id id;
    uint64_t last;
    if (parse_addr(canonical, &a, err) != 0) return -1;
    int found = ch_store_find_addr(s, &a, &id, &last, err);
    if (found <= 0) return found; /* 0: never seen, nothing to say */
    walk_ctx w = {.s = s, .c = c, .self = id, .fn = fn, .ctx = ctx};
    w.cluster = hit->cluster = ch_cluster_of(c, id);
    hit->size = ch_cluster_size(c, id);
    if (!intel || hit->size <= 1) return 0;

    ch_intel_counts n;
    if (ch_intel_counts_get(intel, &n, err) != 0) return -1;
    if (hit->size <= n.addresses) {
        /* walk the members, asking the attribution store about each */
        for (ch_addr_id m = w.cluster; m != 0 && !w.stopped; m = cl_next_member(c, m)) {
            if (m == id) continue;
            char str[CH_ADDR_STR_MAX];
            ch_addr ma;
            ch_store_addr_of(s, m, &ma);
            if (ch_addr_to_string(&ma, ch_store_addr_net(s), str) != 0) continue;
            w.member = str;
            if (ch_intel_lookup(intel, str, on_member_label, &w, err) < 0) return -1;
        }
    } else if (ch_intel_foreach(intel, on_any_label, &w, err) < 0) {
        return -1;
    }
    hit->labelled = w.reported;
    return 0;
}

int ch_cluster_labels_dir(const char *dbdir, const char *canonical, ch_cluster_label_fn fn,
                          void *ctx, ch_cluster_hit *hit, ch_error *err) {
    ch_cluster_hit local;
    if (!hit) hit = &local;
    memset(hit, 0, sizeof *hit);
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/btc/%s", dbdir, CH_CLUSTER_FILE);
    if (stat(path, &st) != 0) return 0; /* never clustered: nothing to add */
    snprintf(path, sizeof path, "%s/intel", dbdir);
    if (stat(path, &st) != 0) return 0; /* no labels to speak for anyone */
    ch_store *s = NULL;
    ch_clusters *c = NULL;
    ch_intel *intel = NULL;
    int rc = -1;
    if (ch_store_open(dbdir, "btc", CH_STORE_READ, &s, err) == 0 &&
        ch_clusters_open_for(s, dbdir, "btc", &c, err) == 0 &&
        ch_intel_open(dbdir, false, &intel, err) == 0)
        rc = ch_cluster_labels(s, c, intel, canonical, fn, ctx, hit, err);
    if (intel) ch_intel_close(intel);
    ch_clusters_close(c);
    if (s) ch_store_close(s);
    return rc < 0 ? -1 : 0;
}

/* --- the index: labelled members per cluster, from one pass ---------------- */

/* One attribution of a member of a cluster of two or more. */
typedef struct lx_entry {
    ch_addr_id cluster; /* the cluster's id */
    uint32_t slot;      /* the member's slot: ch_cluster_labels' walk goes by slot */
    ch_addr_id id;      /* the member's address id */
    uint32_t str;       /* offset in the pool of the address as the attribution has it */
    uint64_t seq;       /* the attribution's place in ch_intel_foreach's order */
} lx_entry;

struct ch_cluster_label_index {
    lx_entry *by_seq;  /* by (cluster, seq): the attribution store's order */
    lx_entry *by_slot; /* by (cluster, slot, seq): the member walk's order */
    size_t n, cap;
    char *pool;
    size_t pool_n, pool_cap;
    uint64_t members, clusters;
    /* the attribution store's distinct addresses when the index was built
     * (ch_intel_counts_get, a pass over the whole store): the walk's choice
     * of order reads it for every cluster, so it is counted once */
    uint64_t intel_addresses;
};

typedef struct lx_build {
    ch_store *s;
    const ch_clusters *c;
    ch_cluster_label_index *x;
    uint64_t seq;
    int oom;
} lx_build;

/* One attribution of the store (the index's one pass): kept when its
 * address is a member of a cluster of two or more, with the member's
 * cluster, slot and id and its place in the pass; the address text is
 * kept once for consecutive attributions of one address. */
static int lx_on_label(const ch_attribution *a, void *p) {
    lx_build *b = p;
    ch_cluster_label_index *x = b->x;
    uint64_t seq = b->seq++;
    ch_addr ad;
    ch_addr_id id;
    uint64_t last;
    if (parse_addr(a->address, &ad, NULL) != 0) return 0; /* not an address of this store */
    if (ch_store_find_addr(b->s, &ad, &id, &last, NULL) != 1) return 0;
    if (ch_cluster_size(b->c, id) <= 1) return 0; /* no fellow member to speak for */
    lx_entry *v = ch_grow(x->by_seq, &x->cap, x->n + 1, sizeof *v);
    if (!v) return b->oom = 1;
    x->by_seq = v;
    /* an address's attributions come one after another: one copy of it */
    size_t len = strlen(a->address);
    uint32_t off;
    if (x->n && !strcmp(x->pool + x->by_seq[x->n - 1].str, a->address)) {
        off = x->by_seq[x->n - 1].str;
    } else {
        if (x->pool_n + len + 1 > UINT32_MAX) return b->oom = 1; /* offsets are 32-bit */
        char *np = ch_grow(x->pool, &x->pool_cap, x->pool_n + len + 1, 1);
        if (!np) return b->oom = 1;
        x->pool = np;
        off = (uint32_t)x->pool_n;
        memcpy(x->pool + off, a->address, len + 1);
        x->pool_n += len + 1;
    }
    x->by_seq[x->n++] = (lx_entry){.cluster = ch_cluster_of(b->c, id),
                                   .slot = cl_slot_of(b->c, id),
                                   .id = id,
                                   .str = off,
                                   .seq = seq};
    return 0;
}

static int cmp_u64(uint64_t a, uint64_t b) {
    return a < b ? -1 : a > b;
}

static int lx_cmp_seq(const void *pa, const void *pb) {
    const lx_entry *a = pa, *b = pb;
    int c = cmp_u64(a->cluster, b->cluster);
    return c ? c : cmp_u64(a->seq, b->seq);
}

static int lx_cmp_slot(const void *pa, const void *pb) {
    const lx_entry *a = pa, *b = pb;
    int c = cmp_u64(a->cluster, b->cluster);
    if (!c) c = cmp_u64(a->slot, b->slot);
    return c ? c : cmp_u64(a->seq, b->seq);
}

int ch_cluster_label_index_build(ch_store *s, const ch_clusters *c, ch_intel *intel,
                                 ch_cluster_label_index **out, ch_error *err) {
    *out = NULL;
    ch_cluster_label_index *x = calloc(1, sizeof *x);
    if (!x) return ch_err(err, "out of memory");
    lx_build b = {.s = s, .c = c, .x = x};
    ch_intel_counts n = {0};
    if (intel && (ch_intel_foreach(intel, lx_on_label, &b, err) < 0 ||
                  ch_intel_counts_get(intel, &n, err) != 0)) {
        ch_cluster_label_index_free(x);
        return -1;
    }
    x->intel_addresses = intel ? n.addresses : 0;
    if (b.oom || (x->n && !(x->by_slot = malloc(x->n * sizeof *x->by_slot)))) {
        ch_cluster_label_index_free(x);
        return ch_err(err, "out of memory indexing cluster labels");
    }
    if (x->n) {
        qsort(x->by_seq, x->n, sizeof *x->by_seq, lx_cmp_seq);
        memcpy(x->by_slot, x->by_seq, x->n * sizeof *x->by_slot);
        qsort(x->by_slot, x->n, sizeof *x->by_slot, lx_cmp_slot);
    }
    for (size_t i = 0; i < x->n; i++) {
        if (!i || x->by_slot[i].cluster != x->by_slot[i - 1].cluster) x->clusters++;
        if (!i || x->by_slot[i].id != x->by_slot[i - 1].id) x->members++;
    }
    *out = x;
    return 0;
}

void ch_cluster_label_index_free(ch_cluster_label_index *x) {
    if (!x) return;
    free(x->by_seq);
    free(x->by_slot);
    free(x->pool);
    free(x);
}

void ch_cluster_label_index_counts(const ch_cluster_label_index *x, uint64_t *members,
                                   uint64_t *attributions, uint64_t *clusters) {
    if (members) *members = x->members;
    if (attributions) *attributions = x->n;
    if (clusters) *clusters = x->clusters;
}

/* The first entry of v[0..n) (sorted by cluster first) in cluster, or n. */
static size_t lx_first(const lx_entry *v, size_t n, ch_addr_id cluster) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].cluster < cluster)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* An attribution stored under the address asked about (the store's walk
 * reports each stored attribution once, under its own address: copies
 * matched case-insensitively belong to another key and come with it). */
typedef struct lx_walk {
    ch_cluster_member_label_fn fn;
    void *ctx;
    ch_addr_id member;
    const char *member_str; /* the member walk: the member's address */
    const char *key;        /* the label walk: the stored address asked about */
    uint64_t reported;
    int stopped;
} lx_walk;

static int lx_on_member(const ch_attribution *a, void *p) {
    lx_walk *w = p;
    if (w->key && (a->case_folded || strcmp(a->address, w->key) != 0)) return 0;
    w->reported++;
    if (w->fn && w->fn(w->member, w->key ? a->address : w->member_str, a, w->ctx)) w->stopped = 1;
    return w->stopped;
}

int ch_cluster_label_index_walk(ch_store *s, const ch_clusters *c, ch_intel *intel,
                                const ch_cluster_label_index *x, ch_addr_id cluster, uint32_t size,
                                ch_addr_id exclude, ch_cluster_member_label_fn fn, void *ctx,
                                uint64_t *reported, ch_error *err) {
    (void)c;
    lx_walk w = {.fn = fn, .ctx = ctx};
    *reported = 0;
    if (size <= x->intel_addresses) {
        /* as the member walk: each labelled member once, by slot */
        const lx_entry *v = x->by_slot;
        for (size_t i = lx_first(v, x->n, cluster);
             i < x->n && v[i].cluster == cluster && !w.stopped; i++) {
            if (v[i].id == exclude || (i && v[i - 1].id == v[i].id && v[i - 1].cluster == cluster))
                continue;
            char str[CH_ADDR_STR_MAX];
            ch_addr ma;
            ch_store_addr_of(s, v[i].id, &ma);
            if (ch_addr_to_string(&ma, ch_store_addr_net(s), str) != 0) continue;
            w.member = v[i].id;
            w.key = NULL;
            w.member_str = str;
            if (ch_intel_lookup(intel, str, lx_on_member, &w, err) < 0) return -1;
        }
    } else {
        /* as the walk of the attribution store: by its order, each address
         * asked once for what is stored under it */
        const lx_entry *v = x->by_seq;
        for (size_t i = lx_first(v, x->n, cluster);
             i < x->n && v[i].cluster == cluster && !w.stopped; i++) {
            if (v[i].id == exclude ||
                (i && v[i - 1].str == v[i].str && v[i - 1].cluster == cluster))
                continue;
            w.member = v[i].id;
            w.key = x->pool + v[i].str;
            if (ch_intel_lookup(intel, w.key, lx_on_member, &w, err) < 0) return -1;
        }
    }
    *reported = w.reported;
    return 0;
}

/* ch_cluster_labels_indexed's walk reports through the caller's function,
 * without the member id. */
typedef struct lx_adapt {
    ch_cluster_label_fn fn;
    void *ctx;
} lx_adapt;

static int lx_adapt_fn(ch_addr_id member, const char *str, const ch_attribution *a, void *p) {
    (void)member;
    lx_adapt *ad = p;
    return ad->fn ? ad->fn(str, a, ad->ctx) : 0;
}

int ch_cluster_labels_indexed(ch_store *s, const ch_clusters *c, ch_intel *intel,
                              const ch_cluster_label_index *x, const char *canonical,
                              ch_cluster_label_fn fn, void *ctx, ch_cluster_hit *hit,
                              ch_error *err) {
    ch_cluster_hit local;
    if (!hit) hit = &local;
    memset(hit, 0, sizeof *hit);
    ch_addr a;
    ch_addr_id id;
    uint64_t last;
    if (parse_addr(canonical, &a, err) != 0) return -1;
    int found = ch_store_find_addr(s, &a, &id, &last, err);
    if (found <= 0) return found; /* 0: never seen, nothing to say */
    hit->cluster = ch_cluster_of(c, id);
    hit->size = ch_cluster_size(c, id);
    if (!intel || hit->size <= 1) return 0;
    lx_adapt ad = {fn, ctx};
    return ch_cluster_label_index_walk(s, c, intel, x, hit->cluster, hit->size, id, lx_adapt_fn,
                                       &ad, &hit->labelled, err);
}

int ch_cluster_label_index_where_id(ch_store *s, const ch_clusters *c,
                                    const ch_cluster_label_index *x, const char *canonical,
                                    ch_addr_id *self, ch_addr_id *cluster, uint32_t *size,
                                    bool *labelled, ch_error *err) {
    *self = 0;
    *cluster = 0;
    *size = 0;
    *labelled = false;
    ch_addr a;
    ch_addr_id id;
    uint64_t last;
    if (parse_addr(canonical, &a, err) != 0) return -1;
    int found = ch_store_find_addr(s, &a, &id, &last, err);
    if (found <= 0) return found;
    *self = id;
    *cluster = ch_cluster_of(c, id);
    *size = ch_cluster_size(c, id);
    /* its entries sit by (cluster, slot): find the first at or after its slot */
    uint32_t slot = cl_slot_of(c, id);
    const lx_entry *v = x->by_slot;
    size_t lo = lx_first(v, x->n, *cluster), hi = x->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].cluster == *cluster && v[mid].slot < slot)
            lo = mid + 1;
        else
            hi = mid;
    }
    *labelled = lo < x->n && v[lo].cluster == *cluster && v[lo].id == id;
    return 1;
}

int ch_cluster_label_index_where(ch_store *s, const ch_clusters *c, const ch_cluster_label_index *x,
                                 const char *canonical, ch_addr_id *cluster, uint32_t *size,
                                 bool *labelled, ch_error *err) {
    ch_addr_id id;
    return ch_cluster_label_index_where_id(s, c, x, canonical, &id, cluster, size, labelled, err);
}

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
    uint32_t self, cluster;
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
    uint32_t id;
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
    uint32_t id;
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
        for (uint32_t m = w.cluster; m != 0 && !w.stopped; m = cl_next_member(c, m)) {
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

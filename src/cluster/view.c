/* One address's cluster as the doors show it (cluster.h: ch_cluster_view):
 * what `coinhound cluster ADDR` and GET /v1/cluster/{address} both call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/jsonw.h"
#include "coinhound/address.h"
#include "coinhound/cluster.h"
#include "coinhound/hash.h"
#include "util/vec.h"

int ch_cluster_view_label(ch_cluster_view *v, const char *address, const char *category,
                          const char *entity, const char *source) {
    ch_cluster_label_row *p = ch_grow(v->labels, &v->cap_labels, v->n_labels + 1, sizeof *p);
    if (!p) return -1;
    v->labels = p;
    ch_cluster_label_row *x = &v->labels[v->n_labels++];
    snprintf(x->address, sizeof x->address, "%s", address);
    snprintf(x->category, sizeof x->category, "%s", category);
    snprintf(x->entity, sizeof x->entity, "%s", entity);
    snprintf(x->source, sizeof x->source, "%s", source);
    return 0;
}

typedef struct label_ctx {
    ch_cluster_view *v;
    int oom;
} label_ctx;

/* A current attribution of a member (delisted ones are history, not a
 * label): entity, else the actor; the source's name, else "intel". */
static int add_member_label(const char *member, const ch_attribution *a, void *vctx) {
    label_ctx *c = vctx;
    if (a->delisted) return 0;
    if (ch_cluster_view_label(c->v, member, a->category, a->entity[0] ? a->entity : a->actor,
                              a->source_name[0] ? a->source_name : "intel") != 0)
        c->oom = 1;
    return 0;
}

static int add_own_label(const ch_attribution *a, void *vctx) {
    return add_member_label(a->address, a, vctx);
}

/* A Bitcoin address, or on an account store an EVM "0x" + 40 hex one. */
static int parse_addr(const char *str, bool account, ch_addr *a, ch_error *err) {
    if (!account) return ch_addr_from_string(str, a, NULL, err);
    memset(a, 0, sizeof *a);
    a->kind = CH_ADDR_EVM;
    a->len = 20;
    if (strlen(str) == 42 && str[0] == '0' && (str[1] == 'x' || str[1] == 'X') &&
        ch_hex_decode(str + 2, 40, a->bytes, 20) == 0)
        return 0;
    return ch_err(err, "not an EVM address (0x and 40 hex digits)");
}

static void addr_str(const ch_store *s, ch_addr_id id, char out[CH_ADDR_STR_MAX]) {
    out[0] = '\0';
    if (id == 0) return;
    ch_addr a;
    ch_store_addr_of(s, id, &a);
    char buf[128];
    if (ch_addr_to_string(&a, ch_store_addr_net(s), buf) == 0)
        snprintf(out, CH_ADDR_STR_MAX, "%s", buf);
}

int ch_cluster_view_get(ch_store *s, const ch_clusters *c, ch_intel *intel, const char *address,
                        size_t max_members, ch_cluster_view *v, ch_error *err) {
    memset(v, 0, sizeof *v);
    bool account = ch_store_is_account(s);
    ch_addr a;
    if (parse_addr(address, account, &a, err) != 0) {
        ch_err_prefix(err, "'%s' is not a valid address", address);
        return -1;
    }
    char canon[128];
    ch_addr_to_string(&a, ch_store_addr_net(s), canon);
    snprintf(v->canonical, sizeof v->canonical, "%s", canon);
    uint64_t last;
    int found = ch_store_find_addr(s, &a, &v->id, &last, err);
    if (found <= 0) return found;
    ch_store_counts cnt;
    ch_store_get_counts(s, &cnt);
    const ch_cluster_meta *m = ch_clusters_meta(c);
    v->have = account ? cnt.transfers : cnt.txs;
    v->covered = m->txs;
    v->heuristics = (m->flags & CH_CLUSTER_DEPOSIT)  ? "deposit-address"
                    : (m->flags & CH_CLUSTER_CHANGE) ? "multi-input,change"
                                                     : "multi-input";
    v->cluster = ch_cluster_of(c, v->id);
    v->size = ch_cluster_size(c, v->id);
    addr_str(s, v->cluster, v->cluster_address);
    label_ctx lc = {v, 0};
    if (intel &&
        (ch_intel_lookup(intel, v->canonical, add_own_label, &lc, err) < 0 ||
         ch_cluster_labels(s, c, intel, v->canonical, add_member_label, &lc, NULL, err) != 0))
        return -1;
    size_t want = max_members == 0 || max_members > v->size ? v->size : max_members;
    v->members = malloc((want ? want : 1) * sizeof *v->members);
    if (lc.oom || !v->members) return ch_err(err, "out of memory");
    v->n_members = ch_cluster_members(c, v->id, v->members, want);
    return 1;
}

void ch_cluster_view_order(ch_cluster_view *v) {
    size_t front = 0;
    for (size_t i = 0; i < v->n_labels; i++)
        if (!strcmp(v->labels[i].address, v->canonical)) {
            ch_cluster_label_row t = v->labels[i];
            memmove(&v->labels[front + 1], &v->labels[front], (i - front) * sizeof t);
            v->labels[front++] = t;
        }
}

void ch_cluster_view_json(ch_cluster_view *v, const ch_store *s, size_t max_labels, ch_jw *w) {
    ch_cluster_view_order(v);
    size_t nl = max_labels == 0 || max_labels > v->n_labels ? v->n_labels : max_labels;
    ch_jw_obj_begin(w);
    ch_jw_key(w, "address");
    ch_jw_str(w, v->canonical);
    ch_jw_key(w, "cluster");
    ch_jw_uint(w, v->cluster);
    ch_jw_key(w, "cluster_address"); /* the member whose id names the cluster */
    ch_jw_str(w, v->cluster_address);
    ch_jw_key(w, "size");
    ch_jw_uint(w, v->size);
    ch_jw_key(w, "heuristics");
    ch_jw_str(w, v->heuristics);
    ch_jw_key(w, "labels_count");
    ch_jw_uint(w, v->n_labels);
    ch_jw_key(w, "labels_truncated");
    ch_jw_bool(w, nl < v->n_labels);
    ch_jw_key(w, "labels");
    ch_jw_arr_begin(w);
    for (size_t i = 0; i < nl; i++) {
        const ch_cluster_label_row *l = &v->labels[i];
        ch_jw_obj_begin(w);
        ch_jw_key(w, "address");
        ch_jw_str(w, l->address);
        ch_jw_key(w, "category");
        ch_jw_str(w, l->category);
        ch_jw_key(w, "entity");
        ch_jw_str(w, l->entity);
        ch_jw_key(w, "source");
        ch_jw_str(w, l->source);
        ch_jw_key(w, "direct"); /* on the address itself, not another member */
        ch_jw_bool(w, !strcmp(l->address, v->canonical));
        ch_jw_obj_end(w);
    }
    ch_jw_arr_end(w);
    ch_jw_key(w, "members");
    ch_jw_arr_begin(w);
    for (size_t i = 0; i < v->n_members; i++) {
        char buf[CH_ADDR_STR_MAX];
        addr_str(s, v->members[i], buf);
        ch_jw_str(w, buf);
    }
    ch_jw_arr_end(w);
    ch_jw_key(w, "members_truncated");
    ch_jw_bool(w, v->n_members < v->size);
    ch_jw_obj_end(w);
}

void ch_cluster_view_free(ch_cluster_view *v) {
    free(v->labels);
    free(v->members);
    memset(v, 0, sizeof *v);
}

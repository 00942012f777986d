/* Deposit-address clustering on account chains (Victor, FC 2020; see
 * cluster.h): one pass over the transfers; at each D -> E into a known
 * exchange, D's history is walked back through the block window for the
 * U -> D transfers it forwards. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster/cluster_internal.h"
#include "coinhound/hash.h"
#include "coinhound/lock.h"
#include "coinhound/progress.h"
#include "util/csvread.h"
#include "util/vec.h"

/* An exchange address's slot and entity number (sorted by slot). */
typedef struct exent {
    uint32_t slot, entity;
} exent;

typedef struct dpass {
    const ch_store *s;
    ch_deposit_opts o;
    exent *ex;
    size_t n_ex;
    uint8_t *role;     /* per slot: ROLE_* bits */
    uint32_t *first_u; /* per slot of a deposit address: its first customer's slot, 0 none */
    uf u;
} dpass;

enum { ROLE_EXCHANGE = 1, ROLE_ZERO = 2, ROLE_CUSTOMER = 4 };

/* An address id's slot (its dense index + 1), 0 for none or for an id past
 * the store's addresses (a damaged store: ch_store_damage says so). */
static uint32_t slot_of(const ch_store *s, ch_addr_id id) {
    if (!id) return 0;
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    uint64_t i = ch_store_addr_index(s, id);
    return i < c.addresses ? (uint32_t)i + 1 : 0;
}

static bool value_kind(const ch_xfer_rec *r) {
    return r->kind == CH_XFER_NATIVE || r->kind == CH_XFER_INTERNAL || r->kind == CH_XFER_TOKEN;
}

/* 0 <= v_in - v_out <= limit, on 128-bit amounts. */
static bool forwards(const ch_xfer_rec *in, const ch_xfer_rec *out, uint64_t limit) {
    if (in->value_hi < out->value_hi ||
        (in->value_hi == out->value_hi && in->value_lo < out->value_lo))
        return false;
    uint64_t lo = in->value_lo - out->value_lo;
    uint64_t hi = in->value_hi - out->value_hi - (in->value_lo < out->value_lo);
    return hi == 0 && lo <= limit;
}

static int cmp_slot(const void *a, const void *b) {
    uint32_t x = ((const exent *)a)->slot, y = ((const exent *)b)->slot;
    return x < y ? -1 : x > y;
}

static uint32_t entity_of(const dpass *p, uint32_t slot) {
    exent key = {slot, 0};
    const exent *e = p->n_ex ? bsearch(&key, p->ex, p->n_ex, sizeof key, cmp_slot) : NULL;
    return e ? e->entity : 0;
}

/* D -> E at transfer x, block h: the U -> D it forwards. */
static void match_deposit(dpass *p, uint64_t x, const ch_xfer_rec *out, uint32_t h,
                          ch_cluster_meta *meta) {
    const ch_store *s = p->s;
    ch_addr_id d = out->from;
    uint32_t ds = slot_of(s, d);
    uint64_t limit = out->asset ? p->o.token_max_diff : p->o.max_diff_wei;
    uint32_t steps = 0;
    for (int64_t y = ch_store_xfer_prev(s, x, d); y >= 0 && steps < p->o.max_walk;
         y = ch_store_xfer_prev(s, (uint64_t)y, d), steps++) {
        const ch_xfer_rec *in = ch_store_xfer(s, (uint64_t)y);
        /* the history runs back in time: past the window, nothing more */
        uint32_t hy = in->tx == CH_NO_TX ? h : ch_store_tx_height(s, in->tx);
        if (h - hy > p->o.window) break;
        if (in->to != d || in->from == 0 || in->from == d || !value_kind(in) ||
            in->asset != out->asset)
            continue;
        uint32_t us = slot_of(s, in->from);
        if (p->role[us] & (ROLE_EXCHANGE | ROLE_ZERO)) continue;
        if (!forwards(in, out, limit)) continue;
        meta->merged_inputs++;
        if (!(p->role[us] & ROLE_CUSTOMER)) {
            p->role[us] |= ROLE_CUSTOMER;
            meta->customers++;
        }
        if (!p->first_u[ds]) {
            p->first_u[ds] = us;
            meta->deposit_addrs++;
        } else {
            uf_union(&p->u, p->first_u[ds], us);
        }
    }
}

int ch_deposit_compute(const ch_store *s, const ch_deposit_opts *o, const ch_addr_id *exch,
                       const uint32_t *entity, size_t n_exch, uint32_t **cid_out,
                       ch_cluster_meta *meta, double *seconds, ch_error *err) {
    *cid_out = NULL;
    memset(meta, 0, sizeof *meta);
    if (!ch_store_is_account(s))
        return ch_err(err, "cluster: deposit addresses are for account chains");
    if (ch_store_pending_bytes(s) != 0)
        return ch_err(err, "cluster: the store has uncommitted data; commit first");
    dpass p = {.s = s};
    if (o) p.o = *o;
    if (!p.o.window) p.o.window = CH_DEPOSIT_DEFAULT_WINDOW;
    if (!p.o.max_diff_wei) p.o.max_diff_wei = CH_DEPOSIT_DEFAULT_MAX_DIFF;
    if (!p.o.max_walk) p.o.max_walk = CH_DEPOSIT_DEFAULT_WALK;
    ch_store_counts c;
    ch_store_get_counts(s, &c);
    if (c.addresses >= UINT32_MAX)
        return ch_err(err,
                      "cluster: too many addresses (%llu): the clustering numbers them in 32 "
                      "bits, at most 2^32-2 (docs/store.md, Format 4)",
                      (unsigned long long)c.addresses);
    double t0 = ch_now();
    uint32_t n_addr = (uint32_t)c.addresses;
    meta->flags = CH_CLUSTER_DEPOSIT;
    meta->addresses = n_addr;
    meta->txs = c.transfers;

    p.role = calloc((size_t)n_addr + 1, 1);
    p.first_u = calloc((size_t)n_addr + 1, sizeof *p.first_u);
    p.u.parent = malloc(((size_t)n_addr + 1) * sizeof *p.u.parent);
    p.ex = malloc((n_exch ? n_exch : 1) * sizeof *p.ex);
    if (!p.role || !p.first_u || !p.u.parent || !p.ex) goto oom;
    for (uint32_t i = 0; i <= n_addr; i++)
        p.u.parent[i] = i;
    for (size_t i = 0; i < n_exch; i++) {
        if (!exch[i] || slot_of(s, exch[i]) > n_addr) continue;
        p.role[slot_of(s, exch[i])] |= ROLE_EXCHANGE;
        p.ex[p.n_ex++] = (exent){slot_of(s, exch[i]), entity ? entity[i] : 0};
    }
    if (p.n_ex > 1) qsort(p.ex, p.n_ex, sizeof *p.ex, cmp_slot);
    /* the zero address (mints, burns) is no one's deposit or customer */
    for (uint32_t i = 1; i <= n_addr; i++) {
        ch_addr_id id = ch_store_addr_id_at(s, i - 1);
        if (id & CH_ADDR_ID_WIDE) continue;
        ch_addr a;
        ch_store_addr_of(s, id, &a);
        static const uint8_t zero[20];
        if (!memcmp(a.bytes, zero, 20)) p.role[i] |= ROLE_ZERO;
    }

    bool progress = p.o.progress > 0 || (p.o.progress < 0 && isatty(STDERR_FILENO));
    uint32_t h = 0;
    for (uint64_t x = 0; x < c.transfers; x++) {
        if (progress && (x & 0xfffff) == 0)
            fprintf(stderr, "\rcluster: %" PRIu64 "/%" PRIu64 " transfers", x, c.transfers);
        const ch_xfer_rec *r = ch_store_xfer(s, x);
        if (r->tx != CH_NO_TX) /* transfers follow their txs: the block only moves on */
            while (h + 1 < c.blocks && ch_store_block(s, h + 1)->first_tx <= r->tx)
                h++;
        if (!value_kind(r) || !r->from || !r->to || r->from == r->to) continue;
        if (r->value_lo == 0 && r->value_hi == 0) continue;
        uint32_t fs = slot_of(s, r->from), ts = slot_of(s, r->to);
        uint8_t rf = p.role[fs], rt = p.role[ts];
        if (!(rt & ROLE_EXCHANGE) || (rf & ROLE_ZERO)) continue;
        /* an exchange paying an exchange is no deposit, unless D carries
         * E's own label (a deposit address already known as E's) */
        if (rf & ROLE_EXCHANGE) {
            uint32_t ef = entity_of(&p, fs);
            if (!ef || ef != entity_of(&p, ts)) continue;
        }
        match_deposit(&p, x, r, h, meta);
    }
    if (progress) fprintf(stderr, "\r\033[K");
    free(p.ex);
    free(p.role);
    free(p.first_u);
    p.role = NULL;
    p.first_u = NULL;
    cl_name_clusters(s, p.u.parent, n_addr, meta);
    *cid_out = p.u.parent;
    if (seconds) *seconds = ch_now() - t0;
    return 0;
oom:
    free(p.ex);
    free(p.role);
    free(p.first_u);
    free(p.u.parent);
    return ch_err(err, "cluster: out of memory (%" PRIu64 " addresses)", c.addresses);
}

/* ---- the exchanges ---- */
/* An exchange address's id and entity number. */
typedef struct exid {
    ch_addr_id id;
    uint32_t entity;
} exid;

typedef struct idlist {
    exid *v;
    size_t n, cap;
    char **names; /* entity names; number = index + 1 */
    size_t n_names, cap_names;
    ch_store *s;
    int oom;
} idlist;

/* "0x" + 40 hex -> the store's id of that account (0: absent or not EVM). */
static ch_addr_id evm_id(ch_store *s, const char *str) {
    ch_addr a = {.kind = CH_ADDR_EVM, .len = 20};
    if (strlen(str) != 42 || str[0] != '0' || (str[1] != 'x' && str[1] != 'X') ||
        ch_hex_decode(str + 2, 40, a.bytes, 20) != 0)
        return 0;
    ch_addr_id id;
    uint64_t last;
    return ch_store_find_addr(s, &a, &id, &last, NULL) == 1 ? id : 0;
}

static uint32_t entity_number(idlist *l, const char *name) {
    if (!name || !name[0]) return 0;
    for (size_t i = 0; i < l->n_names; i++)
        if (!strcasecmp(l->names[i], name)) return (uint32_t)i + 1;
    if (l->n_names == l->cap_names) {
        char **v = ch_grow(l->names, &l->cap_names, l->n_names + 1, sizeof *v);
        if (!v) {
            l->oom = 1;
            return 0;
        }
        l->names = v;
    }
    if (!(l->names[l->n_names] = strdup(name))) {
        l->oom = 1;
        return 0;
    }
    return (uint32_t)++l->n_names;
}

static void idlist_add(idlist *l, ch_addr_id id, const char *entity) {
    if (!id) return;
    if (l->n == l->cap) {
        exid *v = ch_grow(l->v, &l->cap, l->n + 1, sizeof *v);
        if (!v) {
            l->oom = 1;
            return;
        }
        l->v = v;
    }
    l->v[l->n++] = (exid){id, entity_number(l, entity)};
}

static void idlist_free(idlist *l) {
    for (size_t i = 0; i < l->n_names; i++)
        free(l->names[i]);
    free(l->names);
    free(l->v);
}

static bool is_exchange(const char *category) {
    return strcasecmp(category, "exchange") == 0;
}

static int on_attr(const ch_attribution *a, void *ctx) {
    idlist *l = ctx;
    if (!a->delisted && is_exchange(a->category))
        idlist_add(l, evm_id(l->s, a->address), a->entity[0] ? a->entity : a->actor);
    return 0;
}

static int read_csv(idlist *l, const char *path, ch_error *err) {
    FILE *f = fopen(path, "r");
    if (!f) return ch_err(err, "cannot open %s", path);
    csv_reader r;
    csv_init(&r, f, path);
    int ca = -1, cc = -1, ce = -1, rc = csv_next(&r, err);
    for (int i = 0; rc == 1 && i < r.nfields; i++) {
        if (!strcmp(r.field[i], "address")) ca = i;
        if (!strcmp(r.field[i], "category")) cc = i;
        if (!strcmp(r.field[i], "entity")) ce = i;
    }
    if (rc == 1 && (ca < 0 || cc < 0))
        rc = ch_err(err, "%s: the header must name address and category", path);
    while (rc == 1 && (rc = csv_next(&r, err)) == 1)
        if (r.nfields > ca && r.nfields > cc && is_exchange(r.field[cc]))
            idlist_add(l, evm_id(l->s, r.field[ca]),
                       ce >= 0 && ce < r.nfields ? r.field[ce] : NULL);
    csv_free(&r);
    fclose(f);
    return rc < 0 ? -1 : 0;
}

/* By id, then entity: the first entity named for an id wins. */
static int cmp_id(const void *a, const void *b) {
    const exid *x = a, *y = b;
    if (x->id != y->id) return x->id < y->id ? -1 : 1;
    return x->entity < y->entity ? -1 : x->entity > y->entity;
}

int ch_deposit_exchanges(ch_store *s, const char *dbdir, const char *const *csv, size_t n_csv,
                         ch_addr_id **ids, uint32_t **entity, size_t *n_out, ch_error *err) {
    idlist l = {.s = s};
    *ids = NULL;
    *entity = NULL;
    *n_out = 0;
    char ipath[4200];
    struct stat st;
    if (dbdir && snprintf(ipath, sizeof ipath, "%s/intel", dbdir) > 0 && stat(ipath, &st) == 0) {
        ch_intel *intel;
        if (ch_intel_open(dbdir, false, &intel, err) != 0) return -1;
        int rc = ch_intel_foreach(intel, on_attr, &l, err);
        ch_intel_close(intel);
        if (rc < 0) {
            idlist_free(&l);
            return -1;
        }
    }
    for (size_t i = 0; i < n_csv; i++)
        if (read_csv(&l, csv[i], err) != 0) {
            idlist_free(&l);
            return -1;
        }
    ch_addr_id *v = malloc((l.n ? l.n : 1) * sizeof *v);
    uint32_t *e = malloc((l.n ? l.n : 1) * sizeof *e);
    if (l.oom || !v || !e) {
        free(v);
        free(e);
        idlist_free(&l);
        return ch_err(err, "cluster: out of memory");
    }
    if (l.n > 1) qsort(l.v, l.n, sizeof *l.v, cmp_id);
    size_t k = 0; /* one entry per id; an unnamed entry gives way to a named one */
    for (size_t i = 0; i < l.n; i++) {
        if (k > 0 && v[k - 1] == l.v[i].id) {
            if (!e[k - 1]) e[k - 1] = l.v[i].entity;
            continue;
        }
        v[k] = l.v[i].id;
        e[k++] = l.v[i].entity;
    }
    idlist_free(&l);
    *ids = v;
    *entity = e;
    *n_out = k;
    return 0;
}

int ch_deposit_build(const char *dbdir, const char *chain, const ch_deposit_opts *o,
                     const char *const *csv, size_t n_csv, ch_cluster_meta *meta, size_t *n_exch,
                     double *seconds, ch_error *err) {
    ch_store *s;
    ch_writer_lock *lock;
    if (cl_build_begin(dbdir, chain, o && o->wait, &lock, err) != 0) return -1;
    if (ch_store_open(dbdir, chain, CH_STORE_READ, &s, err) != 0) {
        ch_writer_lock_release(lock);
        return -1;
    }
    ch_addr_id *ex = NULL;
    uint32_t *ent = NULL, *cid = NULL;
    size_t n = 0;
    int rc = ch_deposit_exchanges(s, dbdir, csv, n_csv, &ex, &ent, &n, err);
    if (rc == 0) rc = ch_deposit_compute(s, o, ex, ent, n, &cid, meta, seconds, err);
    if (rc == 0 && ch_store_damage(s, err) != 0) rc = -1; /* no clusters made of damage */
    if (rc == 0) rc = cl_write_file_chain(dbdir, chain, s, cid, meta, err);
    if (n_exch) *n_exch = n;
    free(ex);
    free(ent);
    free(cid);
    ch_store_close(s);
    ch_writer_lock_release(lock);
    return rc;
}

/* Labels for a trace: "who is behind address id X?".
 *
 * CSV rows are resolved to address ids when loaded; the attribution store
 * (keyed by the canonical address string) is asked lazily, once per id, the
 * answer (or its absence) cached. Category and entity strings are interned:
 * there are few distinct ones, and a pointer handed out stays valid. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "coinhound/address.h"
#include "coinhound/hash.h"
#include "coinhound/intel.h"
#include "util/csvread.h"
#include "trace/trace_internal.h"

#define NO_LABEL (TR_NONE - 1) /* asked, none */

typedef struct lab {
    uint32_t cat, ent;            /* string ids */
    uint32_t src, url, date, dwh; /* where it came from (ch_label_source), string ids */
} lab;

/* A label's provenance while it is being set (NULL fields: ""). */
typedef struct prov {
    const char *src, *url, *date, *dwh;
} prov;

struct ch_labels {
    ch_store *s;
    ch_intel *intel;
    bool own_intel; /* opened by ch_labels_open */
    char **prefer;
    size_t n_prefer;
    tr_map by_addr; /* address id -> label index or NO_LABEL */
    lab *lab;
    size_t n_lab, cap_lab;
    char **str; /* interned strings */
    size_t n_str, cap_str;
    tr_map by_hash; /* FNV-1a of a string -> string id */
};

static uint64_t fnv(const char *s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
    return h == UINT64_MAX ? 0 : h;
}

static int intern(ch_labels *l, const char *s, uint32_t *id) {
    uint64_t h = fnv(s);
    uint32_t k = tr_map_get(&l->by_hash, h);
    if (k != TR_NONE && !strcmp(l->str[k], s)) {
        *id = k;
        return 0;
    }
    /* new (or a hash collision, which simply keeps a second copy) */
    if (tr_grow((void **)&l->str, &l->cap_str, l->n_str + 1, sizeof *l->str) != 0) return -1;
    if (!(l->str[l->n_str] = strdup(s))) return -1;
    if (tr_map_put(&l->by_hash, h, (uint32_t)l->n_str) != 0) return -1;
    *id = (uint32_t)l->n_str++;
    return 0;
}

static int set_label(ch_labels *l, ch_addr_id addr, const char *cat, const char *ent,
                     const prov *pv) {
    lab x;
    if (intern(l, cat, &x.cat) != 0 || intern(l, ent ? ent : "", &x.ent) != 0) return -1;
    if (intern(l, pv->src ? pv->src : "", &x.src) != 0 ||
        intern(l, pv->url ? pv->url : "", &x.url) != 0 ||
        intern(l, pv->date ? pv->date : "", &x.date) != 0 ||
        intern(l, pv->dwh ? pv->dwh : "", &x.dwh) != 0)
        return -1;
    if (tr_grow((void **)&l->lab, &l->cap_lab, l->n_lab + 1, sizeof *l->lab) != 0) return -1;
    l->lab[l->n_lab] = x;
    if (tr_map_put(&l->by_addr, addr, (uint32_t)l->n_lab) != 0) return -1;
    l->n_lab++;
    return 0;
}

int ch_labels_new(ch_store *s, struct ch_intel *intel, const char *prefer, ch_labels **out,
                  ch_error *err) {
    *out = NULL;
    ch_labels *l = calloc(1, sizeof *l);
    if (!l) return ch_err(err, "out of memory");
    l->s = s;
    l->intel = intel;
    if (tr_map_init(&l->by_addr, 256) != 0 || tr_map_init(&l->by_hash, 64) != 0) {
        ch_labels_free(l);
        return ch_err(err, "out of memory");
    }
    if (tr_stop_parse(prefer, &l->prefer, &l->n_prefer) != 0) {
        ch_labels_free(l);
        return ch_err(err, "out of memory");
    }
    *out = l;
    return 0;
}

void ch_labels_free(ch_labels *l) {
    if (!l) return;
    tr_stop_free(l->prefer, l->n_prefer);
    if (l->own_intel) ch_intel_close(l->intel);
    for (size_t i = 0; i < l->n_str; i++)
        free(l->str[i]);
    free(l->str);
    free(l->lab);
    tr_map_free(&l->by_addr);
    tr_map_free(&l->by_hash);
    free(l);
}

/* ch_labels_add with the label's provenance. */
static int add_label(ch_labels *l, const char *address, const char *category, const char *entity,
                     const prov *pv, ch_error *err) {
    ch_addr a;
    if (address[0] == '0' && (address[1] == 'x' || address[1] == 'X') && strlen(address) == 42) {
        /* an EVM account (any case: labels files carry checksummed forms) */
        a = (ch_addr){.kind = CH_ADDR_EVM, .len = 20};
        if (ch_hex_decode(address + 2, 40, a.bytes, 20) != 0)
            return ch_err(err, "'%s' is not a valid 0x address", address);
    } else if (ch_addr_from_string(address, &a, NULL, err) != 0) {
        return -1;
    }
    ch_addr_id id;
    uint64_t last;
    int rc = ch_store_find_addr(l->s, &a, &id, &last, err);
    if (rc <= 0) return rc;
    if (tr_map_get(&l->by_addr, id) != TR_NONE) return 1; /* the first label wins */
    if (set_label(l, id, category, entity, pv) != 0) return ch_err(err, "out of memory");
    return 1;
}

int ch_labels_add(ch_labels *l, const char *address, const char *category, const char *entity,
                  ch_error *err) {
    static const prov by_hand = {.src = "added by the caller"};
    return add_label(l, address, category, entity, &by_hand, err);
}

/* Column index of name in the header, or -1. */
static int column(const csv_reader *r, const char *name) {
    for (int i = 0; i < r->nfields; i++) {
        const char *f = r->field[i];
        if (i == 0 && !strncmp(f, "\xEF\xBB\xBF", 3)) f += 3; /* a UTF-8 BOM */
        if (!strcasecmp(f, name)) return i;
    }
    return -1;
}

int ch_labels_load_csv(ch_labels *l, const char *path, uint64_t *rows, uint64_t *skipped,
                       ch_error *err) {
    FILE *f = fopen(path, "r");
    if (!f) return ch_err(err, "cannot open %s", path);
    csv_reader r;
    csv_init(&r, f, path);
    int rc = csv_next(&r, err);
    int ca = -1, cc = -1, ce = -1, cs = -1, cu = -1, cd = -1;
    if (rc == 1) {
        ca = column(&r, "address");
        cc = column(&r, "category");
        ce = column(&r, "entity");
        cs = column(&r, "source"); /* optional provenance columns */
        cu = column(&r, "source_url");
        cd = column(&r, "date");
    }
    /* A row without a date of its own is dated by the file (its last
     * change), and says so. */
    char fdate[16] = "";
    struct stat st;
    if (fstat(fileno(f), &st) == 0) {
        struct tm tm;
        time_t mt = st.st_mtime;
        if (gmtime_r(&mt, &tm)) strftime(fdate, sizeof fdate, "%Y-%m-%d", &tm);
    }
    if (rc >= 0 && (ca < 0 || cc < 0))
        rc =
            ch_err(err, "%s: the first line must be a header naming address,category,entity", path);
    uint64_t n_ok = 0, n_skip = 0;
    while (rc >= 0 && (rc = csv_next(&r, err)) == 1) {
        if (r.nfields == 1 && !r.field[0][0]) continue; /* a blank line */
        if (ca >= r.nfields || cc >= r.nfields) {
            n_skip++;
            continue;
        }
        const char *ent = ce >= 0 && ce < r.nfields ? r.field[ce] : "";
        char where[600];
        prov pv = {.src = where};
        if (cs >= 0 && cs < r.nfields && r.field[cs][0])
            snprintf(where, sizeof where, "%s (%s, line %ld)", r.field[cs], path, r.rec_line);
        else
            snprintf(where, sizeof where, "%s, line %ld", path, r.rec_line);
        if (cu >= 0 && cu < r.nfields) pv.url = r.field[cu];
        if (cd >= 0 && cd < r.nfields && r.field[cd][0]) {
            pv.date = r.field[cd];
            pv.dwh = "listed";
        } else if (fdate[0]) {
            pv.date = fdate;
            pv.dwh = "file last changed";
        }
        ch_error e2;
        int got = add_label(l, r.field[ca], r.field[cc], ent, &pv, &e2);
        if (got == 1)
            n_ok++;
        else
            n_skip++; /* not an address of this chain, or not in this store */
    }
    csv_free(&r);
    fclose(f);
    if (rows) *rows = n_ok;
    if (skipped) *skipped = n_skip;
    return rc < 0 ? -1 : 0;
}

/* The best attribution of an address in the attribution store. */
typedef struct pick {
    const ch_labels *l;
    char cat[32], ent[128];
    char src[64], url[256], date[16];
    const char *dwh;
    int rank; /* 0 none, 1 some category, 2 a preferred category */
} pick;

static int pick_fn(const ch_attribution *a, void *ctx) {
    pick *p = ctx;
    if (a->delisted || !a->category[0]) return 0;
    int rank = 1;
    if (tr_stop_has(p->l->prefer, p->l->n_prefer, a->category)) rank = 2;
    if (rank <= p->rank) return 0;
    p->rank = rank;
    snprintf(p->cat, sizeof p->cat, "%s", a->category);
    snprintf(p->ent, sizeof p->ent, "%s", a->entity[0] ? a->entity : a->actor);
    snprintf(p->src, sizeof p->src, "%s", a->source_name);
    snprintf(p->url, sizeof p->url, "%s", a->source_url);
    /* the source's own date, else when coinhound first saw it listed */
    snprintf(p->date, sizeof p->date, "%s", a->source_date[0] ? a->source_date : a->first_listed);
    p->dwh = a->source_date[0] ? "published" : a->first_listed[0] ? "first listed" : "";
    return rank == 2; /* a preferred one ends the search */
}

int ch_labels_get(ch_labels *l, ch_addr_id addr, ch_label *out) {
    out->category = "";
    out->entity = "";
    if (!l || addr == 0) return 0;
    uint32_t k = tr_map_get(&l->by_addr, addr);
    if (k == TR_NONE && l->intel) {
        k = NO_LABEL;
        ch_addr a;
        char s[CH_ADDR_STR_MAX];
        ch_store_addr_of(l->s, addr, &a);
        pick p = {.l = l};
        /* Bitcoin's canonical string is the store network's encoding
         * (Base58 as written, Bech32 lowercase), which ch_addr_to_string
         * produces. */
        if (ch_addr_to_string(&a, ch_store_addr_net(l->s), s) == 0 &&
            ch_intel_lookup(l->intel, s, pick_fn, &p, NULL) > 0 && p.rank > 0 &&
            set_label(l, addr, p.cat, p.ent,
                      &(prov){.src = p.src, .url = p.url, .date = p.date, .dwh = p.dwh}) == 0)
            k = (uint32_t)(l->n_lab - 1);
        if (k == NO_LABEL) tr_map_put(&l->by_addr, addr, NO_LABEL); /* remember the miss */
    }
    if (k == TR_NONE || k == NO_LABEL) return 0;
    out->category = l->str[l->lab[k].cat];
    out->entity = l->str[l->lab[k].ent];
    return 1;
}

int ch_labels_source(ch_labels *l, ch_addr_id addr, ch_label_source *out) {
    out->source = out->url = out->date = out->date_what = "";
    ch_label lb;
    if (ch_labels_get(l, addr, &lb) != 1) return 0; /* asks the store once, when not yet */
    uint32_t k = tr_map_get(&l->by_addr, addr);
    const lab *x = &l->lab[k];
    out->source = l->str[x->src];
    out->url = l->str[x->url];
    out->date = l->str[x->date];
    out->date_what = l->str[x->dwh];
    return 1;
}

int ch_labels_open(ch_store *s, const char *db, const char *stop_at, const char *const *csv,
                   size_t n_csv, ch_labels **out, ch_error *warn, ch_error *err) {
    *out = NULL;
    if (warn) warn->msg[0] = '\0';
    ch_intel *intel = NULL;
    if (db) {
        char ipath[4096];
        struct stat st;
        snprintf(ipath, sizeof ipath, "%s/intel", db);
        ch_error e2 = {{0}};
        if (stat(ipath, &st) == 0 && ch_intel_open(db, false, &intel, &e2) != 0) {
            if (warn) *warn = e2;
            intel = NULL;
        }
    }
    ch_labels *l;
    if (ch_labels_new(s, intel, stop_at ? stop_at : CH_TRACE_DEFAULT_STOP, &l, err) != 0) {
        if (intel) ch_intel_close(intel);
        return -1;
    }
    l->own_intel = intel != NULL;
    for (size_t i = 0; i < n_csv; i++)
        if (ch_labels_load_csv(l, csv[i], NULL, NULL, err) != 0) {
            ch_labels_free(l);
            return -1;
        }
    *out = l;
    return 0;
}

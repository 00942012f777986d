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

#include "coinhound/address.h"
#include "coinhound/hash.h"
#include "coinhound/intel.h"
#include "util/csvread.h"
#include "trace/trace_internal.h"

#define NO_LABEL (TR_NONE - 1) /* asked, none */

typedef struct lab {
    uint32_t cat, ent; /* string ids */
} lab;

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

static int set_label(ch_labels *l, uint32_t addr, const char *cat, const char *ent) {
    lab x;
    if (intern(l, cat, &x.cat) != 0 || intern(l, ent ? ent : "", &x.ent) != 0) return -1;
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

int ch_labels_add(ch_labels *l, const char *address, const char *category, const char *entity,
                  ch_error *err) {
    ch_addr a;
    if (address[0] == '0' && (address[1] == 'x' || address[1] == 'X') && strlen(address) == 42) {
        /* an EVM account (any case: labels files carry checksummed forms) */
        a = (ch_addr){.kind = CH_ADDR_EVM, .len = 20};
        if (ch_hex_decode(address + 2, 40, a.bytes, 20) != 0)
            return ch_err(err, "'%s' is not a valid 0x address", address);
    } else if (ch_addr_from_string(address, &a, NULL, err) != 0) {
        return -1;
    }
    uint32_t id;
    uint64_t last;
    int rc = ch_store_find_addr(l->s, &a, &id, &last, err);
    if (rc <= 0) return rc;
    if (tr_map_get(&l->by_addr, id) != TR_NONE) return 1; /* the first label wins */
    if (set_label(l, id, category, entity) != 0) return ch_err(err, "out of memory");
    return 1;
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
    int ca = -1, cc = -1, ce = -1;
    if (rc == 1) {
        ca = column(&r, "address");
        cc = column(&r, "category");
        ce = column(&r, "entity");
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
        ch_error e2;
        int got = ch_labels_add(l, r.field[ca], r.field[cc], ent, &e2);
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
    return rank == 2; /* a preferred one ends the search */
}

int ch_labels_get(ch_labels *l, uint32_t addr, ch_label *out) {
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
            set_label(l, addr, p.cat, p.ent) == 0)
            k = (uint32_t)(l->n_lab - 1);
        if (k == NO_LABEL) tr_map_put(&l->by_addr, addr, NO_LABEL); /* remember the miss */
    }
    if (k == TR_NONE || k == NO_LABEL) return 0;
    out->category = l->str[l->lab[k].cat];
    out->entity = l->str[l->lab[k].ent];
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

/* A screening set's attributions kept as JSON text (screen/verdict_tmpl.h):
 * made once per attribution by the writer's own calls, shared by every
 * thread that writes verdicts of the set. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/jsonw.h"
#include "screen/verdict_tmpl.h"

/* The text kept for a set at most (the templates of every attribution of
 * a set of millions would be gigabytes; past it the general writer
 * answers, the same bytes more slowly). */
#define VT_MAX_BYTES ((size_t)64 << 20)

/* Verdict texts kept (open addressing: a key's slot found within
 * VT_PROBES of its hash's; past that it is not kept). */
#define VT_VSLOTS 4096
#define VT_PROBES 8

struct vt_cache {
    uint64_t n;
    _Atomic(vt_tmpl *) *slot; /* by attribution id; NULL until first written */
    atomic_size_t bytes;
    _Atomic(vt_verdict *) vslot[VT_VSLOTS];
};

vt_cache *vt_cache_new(uint64_t n_attrs) {
    vt_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->n = n_attrs;
    /* calloc: zeroed pages untouched until an attribution is written */
    if (n_attrs && !(c->slot = calloc(n_attrs, sizeof *c->slot))) {
        free(c);
        return NULL;
    }
    atomic_init(&c->bytes, 0);
    for (size_t i = 0; i < VT_VSLOTS; i++)
        atomic_init(&c->vslot[i], NULL);
    return c;
}

void vt_cache_free(vt_cache *c) {
    if (!c) return;
    for (uint64_t i = 0; i < c->n; i++)
        free(atomic_load_explicit(&c->slot[i], memory_order_relaxed));
    for (size_t i = 0; i < VT_VSLOTS; i++)
        free(atomic_load_explicit(&c->vslot[i], memory_order_relaxed));
    free(c->slot);
    free(c);
}

/* The pieces of a template (verdict_tmpl.h's r1 .. s_tail). */
enum { P_R1, P_R2, P_R3, P_S1, P_S2, P_TAIL, P_N };

/* Piece `which` of a's template into a new memory writer, the general
 * writer's calls for those members in its order, opened as an object ("{"
 * then the members, the "{" cut off by the caller) so that the first
 * member goes with no comma, as after the one before it in a verdict. */
static void piece(ch_jw *w, int which, const ch_attribution *a) {
    ch_jw_init_mem(w, 512);
    ch_jw_obj_begin(w);
    switch (which) {
    case P_R1:
        CH_JW_KEY(w, "via");
        ch_jw_str(w, "direct");
        CH_JW_KEY(w, "category");
        ch_jw_str(w, a->category);
        CH_JW_KEY(w, "entity");
        ch_jw_str(w, a->entity);
        CH_JW_KEY(w, "actor");
        break;
    case P_R2:
        CH_JW_KEY(w, "actor_country");
        ch_jw_str(w, a->actor_country);
        CH_JW_KEY(w, "asset");
        ch_jw_str(w, a->asset);
        CH_JW_KEY(w, "level");
        break;
    case P_R3:
        vj_listing(w, a);
        CH_JW_KEY(w, "case_insensitive");
        break;
    case P_S1:
        vj_source_head(w, a);
        CH_JW_KEY(w, "listed_as");
        break;
    case P_S2:
        CH_JW_KEY(w, "first_listed");
        ch_jw_str(w, a->first_listed);
        CH_JW_KEY(w, "last_listed");
        ch_jw_str(w, a->last_listed);
        CH_JW_KEY(w, "delisted");
        break;
    default: /* P_TAIL: after a key "d", cut off below with it */
        CH_JW_KEY(w, "d");
        ch_jw_bool(w, a->delisted);
        if (a->delisted) {
            CH_JW_KEY(w, "delisted_date");
            ch_jw_str(w, a->delisted_date);
        }
    }
}

/* a's template in one allocation (the struct, then its pieces, each
 * NUL-terminated); NULL when out of memory. */
static vt_tmpl *make(const ch_attribution *a, size_t *bytes) {
    ch_jw w[P_N];
    char *text[P_N];
    size_t len[P_N], total = sizeof(vt_tmpl);
    bool ok = true;
    for (int i = 0; i < P_N; i++) {
        piece(&w[i], i, a);
        text[i] = ch_jw_mem_take(&w[i], &len[i]);
        ok = ok && text[i];
        total += len[i] + 1;
    }
    vt_tmpl *t = ok ? malloc(total) : NULL;
    if (t) {
        char *p = (char *)(t + 1);
        const char **dst[P_N] = {&t->r1, &t->r2, &t->r3, &t->s1, &t->s2, &t->s_tail};
        size_t *n[P_N] = {&t->n_r1, &t->n_r2, &t->n_r3, &t->n_s1, &t->n_s2, NULL};
        for (int i = 0; i < P_N; i++) {
            /* the object's "{" dropped; of the tail also its key "d": */
            size_t skip = i == P_TAIL ? 5 : 1;
            memcpy(p, text[i] + skip, len[i] - skip + 1);
            *dst[i] = p;
            if (n[i]) *n[i] = len[i] - skip;
            p += len[i] - skip + 1;
        }
    }
    for (int i = 0; i < P_N; i++)
        free(text[i]);
    *bytes = total;
    return t;
}

const vt_tmpl *vt_get(vt_cache *c, uint32_t id, const ch_attribution *a) {
    if (!c || id >= c->n) return NULL;
    vt_tmpl *t = atomic_load_explicit(&c->slot[id], memory_order_acquire);
    if (t) return t;
    if (atomic_load_explicit(&c->bytes, memory_order_relaxed) > VT_MAX_BYTES) return NULL;
    size_t bytes;
    t = make(a, &bytes);
    if (!t) return NULL;
    vt_tmpl *none = NULL;
    /* two threads may make the same one: the first kept, the other freed */
    if (!atomic_compare_exchange_strong_explicit(&c->slot[id], &none, t, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        free(t);
        return none;
    }
    atomic_fetch_add_explicit(&c->bytes, bytes, memory_order_relaxed);
    return t;
}

/* v's key: its attributions' set ids and how each matched, hashed. */
static uint64_t key_hash(const ch_verdict *v) {
    uint64_t h = 0x9e3779b97f4a7c15ull ^ v->n_attrs;
    for (size_t i = 0; i < v->n_attrs; i++) {
        h ^= ((uint64_t)v->set_ids[i] << 1) | v->attrs[i].case_folded;
        h *= 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
    }
    return h;
}

static bool key_equal(const vt_verdict *e, const ch_verdict *v, uint64_t hash) {
    if (e->hash != hash || e->n != v->n_attrs) return false;
    for (uint32_t i = 0; i < e->n; i++)
        if (e->id[i] != v->set_ids[i] || e->folded[i] != v->attrs[i].case_folded) return false;
    return true;
}

const vt_verdict *vt_verdict_find(vt_cache *c, const ch_verdict *v, uint64_t *hash) {
    *hash = 0;
    if (!c || v->n_attrs == 0 || v->n_attrs > UINT32_MAX) return NULL;
    for (size_t i = 0; i < v->n_attrs; i++)
        if (v->set_ids[i] == UINT32_MAX) return NULL; /* not all the set's: not kept */
    *hash = key_hash(v);
    for (size_t p = 0; p < VT_PROBES; p++) {
        vt_verdict *e =
            atomic_load_explicit(&c->vslot[(*hash + p) % VT_VSLOTS], memory_order_acquire);
        if (!e) return NULL;
        if (key_equal(e, v, *hash)) return e;
    }
    return NULL;
}

const vt_verdict *vt_verdict_put(vt_cache *c, const ch_verdict *v, uint64_t hash, const char *text,
                                 size_t len, const size_t (*holes)[2], const uint32_t *hole_attr,
                                 size_t n_holes) {
    if (!c || atomic_load_explicit(&c->bytes, memory_order_relaxed) > VT_MAX_BYTES) return NULL;
    size_t n = v->n_attrs, nseg = n_holes + 1;
    /* one block: the entry, ids, holes, segment pointers and lengths, the
     * flags, then the segments' text (each NUL-terminated) */
    size_t bytes = sizeof(vt_verdict) + n * sizeof(uint32_t) + n_holes * sizeof(uint32_t) +
                   nseg * (sizeof(char *) + sizeof(size_t)) + n + len + nseg + 8;
    vt_verdict *e = malloc(bytes);
    if (!e) return NULL;
    uint32_t *id = (uint32_t *)(e + 1), *hole = id + n;
    const char **seg = (const char **)(void *)(hole + n_holes);
    /* hole + n_holes is 4-byte aligned: round up for the pointers */
    seg = (const char **)(void *)(((uintptr_t)seg + 7) & ~(uintptr_t)7);
    size_t *seg_len = (size_t *)(seg + nseg);
    uint8_t *folded = (uint8_t *)(seg_len + nseg);
    char *t = (char *)(folded + n); /* the 8 spare bytes: the rounding's at most 4 */
    for (size_t i = 0; i < n; i++) {
        id[i] = v->set_ids[i];
        folded[i] = v->attrs[i].case_folded;
    }
    size_t at = 0;
    for (size_t k = 0; k < nseg; k++) {
        size_t end = k < n_holes ? holes[k][0] : len;
        if (k > 0) { /* after a hole: a comma, the separator's to write */
            if (at >= end || text[at] != ',') {
                free(e);
                return NULL;
            }
            at++;
        }
        memcpy(t, text + at, end - at);
        t[end - at] = '\0';
        seg[k] = t;
        seg_len[k] = end - at;
        t += end - at + 1;
        if (k < n_holes) {
            hole[k] = hole_attr[k];
            at = holes[k][1];
        }
    }
    e->hash = hash;
    e->n = (uint32_t)n;
    e->nseg = (uint32_t)nseg;
    e->id = id;
    e->folded = folded;
    e->hole = hole;
    e->seg = seg;
    e->seg_len = seg_len;
    for (size_t p = 0; p < VT_PROBES; p++) {
        _Atomic(vt_verdict *) *slot = &c->vslot[(hash + p) % VT_VSLOTS];
        vt_verdict *none = NULL;
        if (atomic_compare_exchange_strong_explicit(slot, &none, e, memory_order_acq_rel,
                                                    memory_order_acquire)) {
            atomic_fetch_add_explicit(&c->bytes, bytes, memory_order_relaxed);
            return e;
        }
        if (key_equal(none, v, hash)) { /* another thread kept it first */
            free(e);
            return none;
        }
    }
    free(e);
    return NULL;
}

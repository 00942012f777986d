/* Internal: a screening set's attributions kept as JSON text, for the
 * verdict writer (verdict_json.c).
 *
 * A verdict from a set with no chain side is its attributions' fields,
 * the same bytes every time an attribution is written, around a few values
 * of the address's own (listed_as, the reason's actor, level, score, the
 * letter case). The text of an attribution's fields is made once, with the
 * writer's own calls, the first time it is written, and copied after: what
 * the general writer does, less its field-by-field escaping (a third of a
 * batch's CPU). A template is made from the attribution as the verdict
 * holds it (ch_screen_attr_to_attribution's copy, truncated to its fields),
 * so its bytes are those the general writer gives. */
#ifndef COINHOUND_SCREEN_VERDICT_TMPL_H
#define COINHOUND_SCREEN_VERDICT_TMPL_H

#include <stddef.h>
#include <stdint.h>

#include "coinhound/screen.h"
#include "coinhound/screener.h"

/* One attribution's text, every piece a run of "key":value members ending
 * in a key's colon (written with ch_jw_key_quoted: its separator, then the
 * bytes, so the value after it follows with no comma), but s_tail, a value
 * and what follows it (written with ch_jw_raw):
 *   reason:  r1 [actor] r2 [level] "score": [score] r3 [case_insensitive] ...
 *   source:  { s1 [listed_as] s2 s_tail }
 * r1 = "via":"direct","category":..,"entity":..,"actor":
 * r2 = "actor_country":..,"asset":..,"level":
 * r3 = "source":.. through "note" (when there is one),"case_insensitive":
 * s1 = "source":..,"source_url":..,"source_date":..,"entity":..,"asset":..,"listed_as":
 * s2 = "first_listed":..,"last_listed":..,"delisted":
 * s_tail = false, or true,"delisted_date":".." */
typedef struct vt_tmpl {
    const char *r1, *r2, *r3, *s1, *s2, *s_tail;
    size_t n_r1, n_r2, n_r3, n_s1, n_s2;
} vt_tmpl;

/* A whole verdict's text after its "family", for every verdict whose
 * attributions are the same set entries in the same order, matched the
 * same way (exact or case-insensitively): its reasons and their order,
 * levels and scores are theirs, and only each source's "listed_as" (the
 * address as the source listed it) is the address's own. The text is cut
 * at those: seg[0] hole[0] seg[1] ... hole[nseg - 2] seg[nseg - 1], where
 * seg[k] for k < nseg - 1 ends in "listed_as": and hole[k] is the index in
 * the verdict's attrs of the source whose address goes there; every seg but
 * the first has its leading comma dropped (the writer's separator puts it
 * back). Each seg is NUL-terminated. */
typedef struct vt_verdict {
    uint64_t hash;
    uint32_t n;            /* attributions of the key */
    uint32_t nseg;         /* segments: holes + 1 */
    const uint32_t *id;    /* the key: n set ids */
    const uint8_t *folded; /* and n matched-case-insensitively flags */
    const uint32_t *hole;  /* nseg - 1 attribution indexes */
    const char *const *seg;
    const size_t *seg_len;
} vt_verdict;

typedef struct vt_cache vt_cache;

/* A cache for a set of n_attrs attributions (NULL: out of memory, which
 * only means no templates: the general writer answers). Thread-safe: any
 * number of threads may ask it at once. */
vt_cache *vt_cache_new(uint64_t n_attrs);
void vt_cache_free(vt_cache *c);

/* The template of attribution id of the set, made from a (its copy in a
 * verdict) on first use; NULL when id is out of range, memory ran out or
 * the cache holds its bound of text (the caller writes a in full). */
const vt_tmpl *vt_get(vt_cache *c, uint32_t id, const ch_attribution *a);

/* The verdict text kept for v's attributions (v a set's verdict with no
 * chain side), or NULL: none yet, or not to be kept (then *hash is what
 * vt_verdict_put wants). */
const vt_verdict *vt_verdict_find(vt_cache *c, const ch_verdict *v, uint64_t *hash);
/* Keep text[0..len) cut at the holes (holes, each [start, end) in text and
 * the attribution whose listed_as fills it) as v's attributions' verdict
 * text; the entry kept (another thread's when it came first), or NULL when
 * the cache is full or out of memory. */
const vt_verdict *vt_verdict_put(vt_cache *c, const ch_verdict *v, uint64_t hash, const char *text,
                                 size_t len, const size_t (*holes)[2], const uint32_t *hole_attr,
                                 size_t n_holes);

/* The index of attribution i (0 <= i < r->n_attr) of a LISTED result
 * among the set's attributions (reader.c); UINT32_MAX when out of range. */
uint32_t scr_attr_id(const ch_screen_result *r, uint32_t i);

/* The screener's cache (screener.c): NULL when it screens an attribution
 * store, or the cache could not be made. */
vt_cache *scr_screener_templates(const ch_screener *s);

/* The members both writers put the same way (verdict_json.c), so that a
 * template and the general writer cannot drift apart: a reason's listing
 * (source, its URL and date, confidence, first and last listed, the
 * delisting date and note when there are ones), and a source entry's head
 * (source, URL, date, entity, asset; "listed_as" follows). */
void vj_listing(ch_jw *w, const ch_attribution *a);
void vj_source_head(ch_jw *w, const ch_attribution *a);

/* The verdict as the general writer gives it, field by field: what
 * ch_verdict_write_json's bytes must equal (the tests compare them). */
void vj_write_general(const ch_verdict *v, ch_jw *w, const char *external_id);

#endif

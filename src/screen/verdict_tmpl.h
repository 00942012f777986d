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

/* The index of attribution i (0 <= i < r->n_attr) of a LISTED result
 * among the set's attributions (reader.c); UINT32_MAX when out of range. */
uint32_t scr_attr_id(const ch_screen_result *r, uint32_t i);

/* The screener's cache (screener.c): NULL when it screens an attribution
 * store, or the cache could not be made. */
vt_cache *scr_screener_templates(const ch_screener *s);

/* The verdict as the general writer gives it, field by field: what
 * ch_verdict_write_json's bytes must equal (the tests compare them). */
void vj_write_general(const ch_verdict *v, ch_jw *w, const char *external_id);

#endif

/* A verdict as JSON (coinhound/screener.h): the one writer behind
 * `coinhound screen --json` and `coinhound serve`'s screening answers. Its
 * fields are a contract (docs/screening.md): add, never rename.
 *
 * Two ways to the same bytes: the general writer (vj_write_general), field
 * by field, for every verdict; and, for a screening set's verdicts (no
 * chain side), the same text with each attribution's fields copied from
 * its template (screen/verdict_tmpl.h) and a clean verdict's constant tail
 * in one piece. tests/test_verdict_json.c holds the two equal, byte for
 * byte, over every shape a verdict takes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/hash.h"
#include "coinhound/screener.h"
#include "coinhound/trace.h"
#include "screen/verdict_tmpl.h"
#include "util/vec.h"

/* What a reason matched case-insensitively says (both writers). */
static const char CASE_MATCH[] = "matched case-insensitively: the source lists this address "
                                 "lower-cased (its letter case lost)";

/* Every source of one fact (one reason), newest statement first. */
void vj_listing(ch_jw *w, const ch_attribution *a) {
    CH_JW_KEY(w, "source");
    ch_jw_str(w, a->source_name);
    CH_JW_KEY(w, "source_url");
    ch_jw_str(w, a->source_url);
    CH_JW_KEY(w, "source_date");
    ch_jw_str(w, a->source_date);
    CH_JW_KEY(w, "confidence");
    ch_jw_uint(w, a->confidence);
    CH_JW_KEY(w, "first_listed");
    ch_jw_str(w, a->first_listed);
    CH_JW_KEY(w, "last_listed");
    ch_jw_str(w, a->last_listed);
    if (a->delisted) {
        CH_JW_KEY(w, "delisted_date");
        ch_jw_str(w, a->delisted_date);
    }
    if (a->note[0]) {
        CH_JW_KEY(w, "note");
        ch_jw_str(w, a->note);
    }
}

void vj_source_head(ch_jw *w, const ch_attribution *a) {
    CH_JW_KEY(w, "source");
    ch_jw_str(w, a->source_name);
    CH_JW_KEY(w, "source_url");
    ch_jw_str(w, a->source_url);
    CH_JW_KEY(w, "source_date");
    ch_jw_str(w, a->source_date);
    CH_JW_KEY(w, "entity");
    ch_jw_str(w, a->entity);
    CH_JW_KEY(w, "asset");
    ch_jw_str(w, a->asset);
}

static void json_sources(ch_jw *w, const ch_risk_reason *r) {
    CH_JW_KEY(w, "sources");
    ch_jw_arr_begin(w);
    uint32_t n = r->n_sources < CH_RISK_MAX_SOURCES ? r->n_sources : CH_RISK_MAX_SOURCES;
    for (uint32_t i = 0; i < n; i++) {
        const ch_attribution *a = r->sources[i];
        ch_jw_obj_begin(w);
        vj_source_head(w, a);
        CH_JW_KEY(w, "listed_as");
        ch_jw_str(w, a->address);
        CH_JW_KEY(w, "first_listed");
        ch_jw_str(w, a->first_listed);
        CH_JW_KEY(w, "last_listed");
        ch_jw_str(w, a->last_listed);
        CH_JW_KEY(w, "delisted");
        ch_jw_bool(w, a->delisted);
        if (a->delisted) {
            CH_JW_KEY(w, "delisted_date");
            ch_jw_str(w, a->delisted_date);
        }
        ch_jw_obj_end(w);
    }
    ch_jw_arr_end(w);
}

/* One reason of a verdict as JSON: how it was reached (direct, cluster
 * member, exposure), the attribution's fields and its source. */
static void json_reason(ch_jw *w, const ch_verdict *v, const ch_risk_reason *r) {
    const ch_attribution *a = r->attr;
    ch_jw_obj_begin(w);
    size_t idx = (size_t)(a - v->attrs);
    CH_JW_KEY(w, "via");
    ch_jw_str(w, idx < v->n_direct ? "direct" : "cluster");
    if (idx >= v->n_direct) {
        CH_JW_KEY(w, "member");
        ch_jw_str(w, v->members[idx - v->n_direct].member);
        CH_JW_KEY(w, "members_with_label");
        ch_jw_uint(w, v->members[idx - v->n_direct].count);
    }
    CH_JW_KEY(w, "category");
    ch_jw_str(w, a->category);
    CH_JW_KEY(w, "entity");
    ch_jw_str(w, a->entity);
    CH_JW_KEY(w, "actor");
    ch_jw_str(w, r->actor_label);
    CH_JW_KEY(w, "actor_country");
    ch_jw_str(w, a->actor_country);
    CH_JW_KEY(w, "asset");
    ch_jw_str(w, a->asset);
    CH_JW_KEY(w, "level");
    ch_jw_str(w, ch_risk_level_name(r->level));
    CH_JW_KEY(w, "score");
    ch_jw_double(w, r->score);
    vj_listing(w, a);
    /* the letter case: said in the reason, never silently */
    CH_JW_KEY(w, "case_insensitive");
    ch_jw_bool(w, r->case_folded);
    if (r->case_folded) {
        CH_JW_KEY(w, "match");
        ch_jw_str(w, CASE_MATCH);
    }
    json_sources(w, r);
    ch_jw_obj_end(w);
}

/* txids from the screened address back to the source (backward order) */
static void json_path(ch_jw *w, const ch_verdict *v, const ch_exposure_source *x) {
    ch_store *s = ch_screener_store(v->screener);
    bool account = ch_verdict_account(v);
    CH_JW_KEY(w, "path");
    ch_jw_arr_begin(w);
    for (size_t i = 0; i < x->path_len; i++) {
        ch_hash256 id;
        char hex[80];
        if (x->path[i] == CH_TRACE_NO_TX) {
            ch_jw_str(w, "withdrawal");
            continue;
        }
        ch_store_txid(s, x->path[i], &id);
        if (account) { /* EVM hashes in their written order */
            hex[0] = '0';
            hex[1] = 'x';
            ch_hex_encode(id.b, 32, hex + 2);
        } else {
            ch_hash256_to_hex(&id, hex);
        }
        ch_jw_str(w, hex);
    }
    ch_jw_arr_end(w);
}

/* One source of indirect exposure as JSON (the listed address, its category,
 * share, hops and path), as a reason or in the exposure list. */
static void json_exposure_source(ch_jw *w, const ch_verdict *v, const ch_exposure_source *x,
                                 bool as_reason) {
    ch_jw_obj_begin(w);
    if (as_reason) {
        CH_JW_KEY(w, "via");
        ch_jw_str(w, "exposure");
    }
    ch_jw_key(w, as_reason ? "from" : "address");
    ch_jw_str(w, x->address);
    CH_JW_KEY(w, "category");
    ch_jw_str(w, x->category);
    CH_JW_KEY(w, "entity");
    ch_jw_str(w, x->entity);
    if (as_reason) {
        CH_JW_KEY(w, "actor");
        ch_jw_str(w, "");
        CH_JW_KEY(w, "source");
        char src[96];
        snprintf(src, sizeof src, "indirect exposure (backward haircut, %u hops)",
                 v->exposure->max_hops);
        ch_jw_str(w, src);
    }
    CH_JW_KEY(w, "level");
    ch_jw_str(w, ch_risk_level_name(x->level));
    CH_JW_KEY(w, "score");
    ch_jw_double(w, x->score);
    CH_JW_KEY(w, "amount");
    ch_jw_double(w, x->amount);
    char ab[CH_ADDR_STR_MAX], b[48];
    CH_JW_KEY(w, "asset");
    ch_jw_str(w, ch_verdict_asset_name(v, x->asset, ab));
    CH_JW_KEY(w, "amount_units"); /* whole base units, exact */
    ch_jw_str(w, ch_u128_str(x->amount_base, b));
    CH_JW_KEY(w, "share");
    ch_jw_double(w, x->share);
    CH_JW_KEY(w, "hops");
    ch_jw_uint(w, x->hops);
    json_path(w, v, x);
    ch_jw_obj_end(w);
}

/* What the chain store adds to a verdict as JSON: the address's cluster
 * (size, labelled members) and its indirect exposure. */
static void json_chain_side(ch_jw *w, const ch_verdict *v) {
    if (v->hit.cluster) {
        CH_JW_KEY(w, "cluster");
        ch_jw_obj_begin(w);
        CH_JW_KEY(w, "id");
        ch_jw_uint(w, v->hit.cluster);
        CH_JW_KEY(w, "size");
        ch_jw_uint(w, v->hit.size);
        CH_JW_KEY(w, "labelled");
        ch_jw_uint(w, v->hit.labelled);
        ch_jw_obj_end(w);
    }
    if (!v->have_exposure) return;
    const ch_exposure *x = v->exposure;
    CH_JW_KEY(w, "exposure");
    ch_jw_obj_begin(w);
    CH_JW_KEY(w, "max_hops");
    ch_jw_uint(w, x->max_hops);
    char ab[CH_ADDR_STR_MAX], b[48];
    CH_JW_KEY(w, "received");
    if (x->received_base > UINT64_MAX) /* wei can pass 2^64: a JSON number still */
        ch_jw_double(w, (double)x->received_base);
    else
        ch_jw_uint(w, x->received);
    CH_JW_KEY(w, "received_units"); /* exact, whole base units of asset */
    ch_jw_str(w, ch_u128_str(x->received_base, b));
    CH_JW_KEY(w, "asset");
    ch_jw_str(w, ch_verdict_asset_name(v, x->asset, ab));
    CH_JW_KEY(w, "flagged_amount");
    ch_jw_double(w, x->flagged_amount);
    CH_JW_KEY(w, "flagged_share");
    ch_jw_double(w, x->flagged_share);
    CH_JW_KEY(w, "level");
    ch_jw_str(w, ch_risk_level_name(x->level));
    CH_JW_KEY(w, "score");
    ch_jw_double(w, x->score);
    CH_JW_KEY(w, "sources");
    ch_jw_arr_begin(w);
    for (size_t i = 0; i < x->n_sources; i++)
        json_exposure_source(w, v, &x->sources[i], false);
    ch_jw_arr_end(w);
    ch_jw_obj_end(w);
}

void vj_write_general(const ch_verdict *v, ch_jw *w, const char *external_id) {
    ch_jw_obj_begin(w);
    CH_JW_KEY(w, "address");
    ch_jw_str(w, v->address);
    if (external_id) {
        CH_JW_KEY(w, "external_id");
        ch_jw_str(w, external_id);
    }
    if (v->kind != CH_VERDICT_OK) {
        CH_JW_KEY(w, "risk");
        ch_jw_str(w, v->kind == CH_VERDICT_INVALID       ? "invalid"
                     : v->kind == CH_VERDICT_UNSUPPORTED ? "unsupported"
                                                         : "error");
        CH_JW_KEY(w, "score");
        ch_jw_uint(w, 0);
        CH_JW_KEY(w, "error");
        ch_jw_str(w, v->error);
        CH_JW_KEY(w, "reasons");
        ch_jw_arr_begin(w);
        ch_jw_arr_end(w);
        ch_jw_obj_end(w);
        return;
    }
    const ch_risk_verdict *r = &v->risk;
    CH_JW_KEY(w, "canonical");
    ch_jw_str(w, v->canonical);
    CH_JW_KEY(w, "family");
    ch_jw_str(w, ch_family_name(v->family));
    CH_JW_KEY(w, "risk");
    ch_jw_str(w, ch_risk_level_name(r->level));
    CH_JW_KEY(w, "score");
    ch_jw_double(w, r->score);
    CH_JW_KEY(w, "listed");
    ch_jw_bool(w, r->n_reasons > 0);
    CH_JW_KEY(w, "reasons");
    ch_jw_arr_begin(w);
    for (size_t i = 0; i < r->n_current; i++)
        json_reason(w, v, &r->reasons[i]);
    for (size_t i = 0; v->have_exposure && i < v->exposure->n_sources; i++)
        if (v->exposure->sources[i].level > CH_RISK_NONE)
            json_exposure_source(w, v, &v->exposure->sources[i], true);
    ch_jw_arr_end(w);
    CH_JW_KEY(w, "history");
    ch_jw_arr_begin(w);
    for (size_t i = r->n_current; i < r->n_reasons; i++)
        json_reason(w, v, &r->reasons[i]);
    ch_jw_arr_end(w);
    json_chain_side(w, v);
    ch_jw_obj_end(w);
}

/* Where each source's listed_as went while a verdict's text is written to
 * be kept (vt_verdict_put), and whose it is; failed: a reason was written
 * in full (not recorded) or memory ran out: not to keep. */
typedef struct vj_rec {
    size_t (*holes)[2];
    uint32_t *attr;
    size_t n, cap, cap_attr;
    bool failed;
} vj_rec;

static void rec_hole(vj_rec *rec, size_t start, size_t end, uint32_t attr) {
    size_t cap = rec->cap;
    size_t(*h)[2] = ch_grow(rec->holes, &cap, rec->n + 1, sizeof *h);
    uint32_t *a = h ? ch_grow(rec->attr, &rec->cap_attr, rec->n + 1, sizeof *a) : NULL;
    if (h) {
        rec->holes = h;
        rec->cap = cap;
    }
    if (!h || !a) {
        rec->failed = true;
        return;
    }
    rec->attr = a;
    rec->holes[rec->n][0] = start;
    rec->holes[rec->n][1] = end;
    rec->attr[rec->n++] = attr;
}

/* One reason of a set's verdict from its attributions' templates; false
 * (nothing written) when one has none: the caller writes it in full. The
 * templates' runs end in a key's colon and are written as a key
 * (ch_jw_key_quoted: the separator the writer owes, then the bytes), so
 * the value after each follows as the general writer's would. rec, when
 * not NULL, is told where each listed_as went. */
static bool reason_templated(ch_jw *w, const ch_verdict *v, vt_cache *c, const ch_risk_reason *r,
                             vj_rec *rec) {
    const vt_tmpl *t = vt_get(c, v->set_ids[r->attr - v->attrs], r->attr);
    const vt_tmpl *src[CH_RISK_MAX_SOURCES];
    uint32_t n = r->n_sources < CH_RISK_MAX_SOURCES ? r->n_sources : CH_RISK_MAX_SOURCES;
    for (uint32_t i = 0; t && i < n; i++)
        if (!(src[i] = vt_get(c, v->set_ids[r->sources[i] - v->attrs], r->sources[i])))
            return false;
    if (!t) return false;
    ch_jw_obj_begin(w);
    ch_jw_key_quoted(w, t->r1, t->n_r1);
    ch_jw_str(w, r->actor_label);
    ch_jw_key_quoted(w, t->r2, t->n_r2);
    ch_jw_str(w, ch_risk_level_name(r->level));
    CH_JW_KEY(w, "score");
    ch_jw_double(w, r->score);
    ch_jw_key_quoted(w, t->r3, t->n_r3);
    ch_jw_bool(w, r->case_folded);
    if (r->case_folded) {
        CH_JW_KEY(w, "match");
        ch_jw_str(w, CASE_MATCH);
    }
    CH_JW_KEY(w, "sources");
    ch_jw_arr_begin(w);
    for (uint32_t i = 0; i < n; i++) {
        ch_jw_obj_begin(w);
        ch_jw_key_quoted(w, src[i]->s1, src[i]->n_s1);
        size_t start = w->len;
        ch_jw_str(w, r->sources[i]->address);
        if (rec) rec_hole(rec, start, w->len, (uint32_t)(r->sources[i] - v->attrs));
        ch_jw_key_quoted(w, src[i]->s2, src[i]->n_s2);
        ch_jw_raw(w, src[i]->s_tail);
        ch_jw_obj_end(w);
    }
    ch_jw_arr_end(w);
    ch_jw_obj_end(w);
    return true;
}

/* A clean verdict's members after "family" (risk none, score 0, nothing
 * listed), up to the last key: the general writer's bytes for them. */
static const char CLEAN_TAIL[] =
    "\"risk\":\"none\",\"score\":0,\"listed\":false,\"reasons\":[],\"history\":";

/* A listed set verdict's members after "family": risk, score, listed, the
 * reasons (from their attributions' templates where there are some) and
 * the history. rec: see reason_templated. */
static void write_tail(ch_jw *w, const ch_verdict *v, vt_cache *c, vj_rec *rec) {
    const ch_risk_verdict *r = &v->risk;
    CH_JW_KEY(w, "risk");
    ch_jw_str(w, ch_risk_level_name(r->level));
    CH_JW_KEY(w, "score");
    ch_jw_double(w, r->score);
    CH_JW_KEY(w, "listed");
    ch_jw_bool(w, r->n_reasons > 0);
    CH_JW_KEY(w, "reasons");
    ch_jw_arr_begin(w);
    for (size_t i = 0; i < r->n_reasons; i++) {
        if (i == r->n_current) { /* the current ones written: then the history */
            ch_jw_arr_end(w);
            CH_JW_KEY(w, "history");
            ch_jw_arr_begin(w);
        }
        if (reason_templated(w, v, c, &r->reasons[i], rec)) continue;
        json_reason(w, v, &r->reasons[i]);
        if (rec) rec->failed = true; /* its listed_as not recorded */
    }
    if (r->n_current == r->n_reasons) { /* no history: its array still to open */
        ch_jw_arr_end(w);
        CH_JW_KEY(w, "history");
        ch_jw_arr_begin(w);
    }
    ch_jw_arr_end(w);
}

/* v's text after "family" written apart, recording where each listed_as
 * went, and kept for every verdict of the same attributions; NULL when it
 * could not be (a reason without templates, out of memory, cache full). */
static const vt_verdict *keep_verdict(vt_cache *c, const ch_verdict *v, uint64_t hash) {
    ch_jw t;
    ch_jw_init_mem(&t, 2048);
    ch_jw_obj_begin(&t); /* "{": the first member goes with no comma */
    vj_rec rec = {0};
    write_tail(&t, v, c, &rec);
    size_t len;
    char *text = ch_jw_mem_take(&t, &len);
    const vt_verdict *e = NULL;
    if (text && !rec.failed) {
        for (size_t k = 0; k < rec.n; k++) { /* positions in text + 1, past the "{" */
            rec.holes[k][0]--;
            rec.holes[k][1]--;
        }
        e = vt_verdict_put(c, v, hash, text + 1, len - 1, (const size_t(*)[2])rec.holes, rec.attr,
                           rec.n);
    }
    free(text);
    free(rec.holes);
    free(rec.attr);
    return e;
}

void ch_verdict_write_json(const ch_verdict *v, ch_jw *w, const char *external_id) {
    vt_cache *c = v->screener ? scr_screener_templates(v->screener) : NULL;
    /* templates are a set's: a verdict with a chain side, or not judged,
     * goes the general way */
    if (!c || v->kind != CH_VERDICT_OK || v->n_direct != v->n_attrs || v->hit.cluster ||
        v->have_exposure) {
        vj_write_general(v, w, external_id);
        return;
    }
    const ch_risk_verdict *r = &v->risk;
    ch_jw_obj_begin(w);
    CH_JW_KEY(w, "address");
    ch_jw_str(w, v->address);
    if (external_id) {
        CH_JW_KEY(w, "external_id");
        ch_jw_str(w, external_id);
    }
    CH_JW_KEY(w, "canonical");
    ch_jw_str(w, v->canonical);
    CH_JW_KEY(w, "family");
    ch_jw_str(w, ch_family_name(v->family));
    if (r->n_reasons == 0 && r->level == CH_RISK_NONE && r->score == 0 && !signbit(r->score)) {
        ch_jw_key_quoted(w, CLEAN_TAIL, sizeof CLEAN_TAIL - 1);
        ch_jw_raw(w, "[]");
        ch_jw_obj_end(w);
        return;
    }
    uint64_t hash;
    const vt_verdict *e = vt_verdict_find(c, v, &hash);
    if (!e && hash) e = keep_verdict(c, v, hash);
    if (!e) {
        write_tail(w, v, c, NULL);
        ch_jw_obj_end(w);
        return;
    }
    /* the kept text, each listed_as the verdict's own */
    for (uint32_t k = 0; k + 1 < e->nseg; k++) {
        ch_jw_key_quoted(w, e->seg[k], e->seg_len[k]);
        ch_jw_str(w, v->attrs[e->hole[k]].address);
    }
    ch_jw_raw(w, e->seg[e->nseg - 1]);
    ch_jw_obj_end(w);
}

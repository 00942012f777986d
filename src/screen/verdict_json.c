/* A verdict as JSON (coinhound/screener.h): the one writer behind
 * `coinhound screen --json` and `coinhound serve`'s screening answers. Its
 * fields are a contract (docs/screening.md): add, never rename. */
#include <stdio.h>
#include <string.h>

#include "coinhound/hash.h"
#include "coinhound/screener.h"
#include "coinhound/trace.h"

/* Every source of one fact (one reason), newest statement first. */
static void json_sources(ch_jw *w, const ch_risk_reason *r) {
    ch_jw_key(w, "sources");
    ch_jw_arr_begin(w);
    uint32_t n = r->n_sources < CH_RISK_MAX_SOURCES ? r->n_sources : CH_RISK_MAX_SOURCES;
    for (uint32_t i = 0; i < n; i++) {
        const ch_attribution *a = r->sources[i];
        ch_jw_obj_begin(w);
        ch_jw_key(w, "source");
        ch_jw_str(w, a->source_name);
        ch_jw_key(w, "source_url");
        ch_jw_str(w, a->source_url);
        ch_jw_key(w, "source_date");
        ch_jw_str(w, a->source_date);
        ch_jw_key(w, "entity");
        ch_jw_str(w, a->entity);
        ch_jw_key(w, "asset");
        ch_jw_str(w, a->asset);
        ch_jw_key(w, "listed_as");
        ch_jw_str(w, a->address);
        ch_jw_key(w, "first_listed");
        ch_jw_str(w, a->first_listed);
        ch_jw_key(w, "last_listed");
        ch_jw_str(w, a->last_listed);
        ch_jw_key(w, "delisted");
        ch_jw_bool(w, a->delisted);
        if (a->delisted) {
            ch_jw_key(w, "delisted_date");
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
    ch_jw_key(w, "via");
    ch_jw_str(w, idx < v->n_direct ? "direct" : "cluster");
    if (idx >= v->n_direct) {
        ch_jw_key(w, "member");
        ch_jw_str(w, v->members[idx - v->n_direct].member);
        ch_jw_key(w, "members_with_label");
        ch_jw_uint(w, v->members[idx - v->n_direct].count);
    }
    ch_jw_key(w, "category");
    ch_jw_str(w, a->category);
    ch_jw_key(w, "entity");
    ch_jw_str(w, a->entity);
    ch_jw_key(w, "actor");
    ch_jw_str(w, r->actor_label);
    ch_jw_key(w, "actor_country");
    ch_jw_str(w, a->actor_country);
    ch_jw_key(w, "asset");
    ch_jw_str(w, a->asset);
    ch_jw_key(w, "level");
    ch_jw_str(w, ch_risk_level_name(r->level));
    ch_jw_key(w, "score");
    ch_jw_double(w, r->score);
    ch_jw_key(w, "source");
    ch_jw_str(w, a->source_name);
    ch_jw_key(w, "source_url");
    ch_jw_str(w, a->source_url);
    ch_jw_key(w, "source_date");
    ch_jw_str(w, a->source_date);
    ch_jw_key(w, "confidence");
    ch_jw_uint(w, a->confidence);
    ch_jw_key(w, "first_listed");
    ch_jw_str(w, a->first_listed);
    ch_jw_key(w, "last_listed");
    ch_jw_str(w, a->last_listed);
    if (a->delisted) {
        ch_jw_key(w, "delisted_date");
        ch_jw_str(w, a->delisted_date);
    }
    if (a->note[0]) {
        ch_jw_key(w, "note");
        ch_jw_str(w, a->note);
    }
    /* the letter case: said in the reason, never silently */
    ch_jw_key(w, "case_insensitive");
    ch_jw_bool(w, r->case_folded);
    if (r->case_folded) {
        ch_jw_key(w, "match");
        ch_jw_str(w, "matched case-insensitively: the source lists this address lower-cased "
                     "(its letter case lost)");
    }
    json_sources(w, r);
    ch_jw_obj_end(w);
}

/* txids from the screened address back to the source (backward order) */
static void json_path(ch_jw *w, const ch_verdict *v, const ch_exposure_source *x) {
    ch_store *s = ch_screener_store(v->screener);
    bool account = ch_verdict_account(v);
    ch_jw_key(w, "path");
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
        ch_jw_key(w, "via");
        ch_jw_str(w, "exposure");
    }
    ch_jw_key(w, as_reason ? "from" : "address");
    ch_jw_str(w, x->address);
    ch_jw_key(w, "category");
    ch_jw_str(w, x->category);
    ch_jw_key(w, "entity");
    ch_jw_str(w, x->entity);
    if (as_reason) {
        ch_jw_key(w, "actor");
        ch_jw_str(w, "");
        ch_jw_key(w, "source");
        char src[96];
        snprintf(src, sizeof src, "indirect exposure (backward haircut, %u hops)",
                 v->exposure->max_hops);
        ch_jw_str(w, src);
    }
    ch_jw_key(w, "level");
    ch_jw_str(w, ch_risk_level_name(x->level));
    ch_jw_key(w, "score");
    ch_jw_double(w, x->score);
    ch_jw_key(w, "amount");
    ch_jw_double(w, x->amount);
    char ab[CH_ADDR_STR_MAX], b[48];
    ch_jw_key(w, "asset");
    ch_jw_str(w, ch_verdict_asset_name(v, x->asset, ab));
    ch_jw_key(w, "amount_units"); /* whole base units, exact */
    ch_jw_str(w, ch_u128_str(x->amount_base, b));
    ch_jw_key(w, "share");
    ch_jw_double(w, x->share);
    ch_jw_key(w, "hops");
    ch_jw_uint(w, x->hops);
    json_path(w, v, x);
    ch_jw_obj_end(w);
}

/* What the chain store adds to a verdict as JSON: the address's cluster
 * (size, labelled members) and its indirect exposure. */
static void json_chain_side(ch_jw *w, const ch_verdict *v) {
    if (v->hit.cluster) {
        ch_jw_key(w, "cluster");
        ch_jw_obj_begin(w);
        ch_jw_key(w, "id");
        ch_jw_uint(w, v->hit.cluster);
        ch_jw_key(w, "size");
        ch_jw_uint(w, v->hit.size);
        ch_jw_key(w, "labelled");
        ch_jw_uint(w, v->hit.labelled);
        ch_jw_obj_end(w);
    }
    if (!v->have_exposure) return;
    const ch_exposure *x = v->exposure;
    ch_jw_key(w, "exposure");
    ch_jw_obj_begin(w);
    ch_jw_key(w, "max_hops");
    ch_jw_uint(w, x->max_hops);
    char ab[CH_ADDR_STR_MAX], b[48];
    ch_jw_key(w, "received");
    if (x->received_base > UINT64_MAX) /* wei can pass 2^64: a JSON number still */
        ch_jw_double(w, (double)x->received_base);
    else
        ch_jw_uint(w, x->received);
    ch_jw_key(w, "received_units"); /* exact, whole base units of asset */
    ch_jw_str(w, ch_u128_str(x->received_base, b));
    ch_jw_key(w, "asset");
    ch_jw_str(w, ch_verdict_asset_name(v, x->asset, ab));
    ch_jw_key(w, "flagged_amount");
    ch_jw_double(w, x->flagged_amount);
    ch_jw_key(w, "flagged_share");
    ch_jw_double(w, x->flagged_share);
    ch_jw_key(w, "level");
    ch_jw_str(w, ch_risk_level_name(x->level));
    ch_jw_key(w, "score");
    ch_jw_double(w, x->score);
    ch_jw_key(w, "sources");
    ch_jw_arr_begin(w);
    for (size_t i = 0; i < x->n_sources; i++)
        json_exposure_source(w, v, &x->sources[i], false);
    ch_jw_arr_end(w);
    ch_jw_obj_end(w);
}

void ch_verdict_write_json(const ch_verdict *v, ch_jw *w, const char *external_id) {
    ch_jw_obj_begin(w);
    ch_jw_key(w, "address");
    ch_jw_str(w, v->address);
    if (external_id) {
        ch_jw_key(w, "external_id");
        ch_jw_str(w, external_id);
    }
    if (v->kind != CH_VERDICT_OK) {
        ch_jw_key(w, "risk");
        ch_jw_str(w, v->kind == CH_VERDICT_INVALID       ? "invalid"
                     : v->kind == CH_VERDICT_UNSUPPORTED ? "unsupported"
                                                         : "error");
        ch_jw_key(w, "score");
        ch_jw_uint(w, 0);
        ch_jw_key(w, "error");
        ch_jw_str(w, v->error);
        ch_jw_key(w, "reasons");
        ch_jw_arr_begin(w);
        ch_jw_arr_end(w);
        ch_jw_obj_end(w);
        return;
    }
    const ch_risk_verdict *r = &v->risk;
    ch_jw_key(w, "canonical");
    ch_jw_str(w, v->canonical);
    ch_jw_key(w, "family");
    ch_jw_str(w, ch_family_name(v->family));
    ch_jw_key(w, "risk");
    ch_jw_str(w, ch_risk_level_name(r->level));
    ch_jw_key(w, "score");
    ch_jw_double(w, r->score);
    ch_jw_key(w, "listed");
    ch_jw_bool(w, r->n_reasons > 0);
    ch_jw_key(w, "reasons");
    ch_jw_arr_begin(w);
    for (size_t i = 0; i < r->n_current; i++)
        json_reason(w, v, &r->reasons[i]);
    for (size_t i = 0; v->have_exposure && i < v->exposure->n_sources; i++)
        if (v->exposure->sources[i].level > CH_RISK_NONE)
            json_exposure_source(w, v, &v->exposure->sources[i], true);
    ch_jw_arr_end(w);
    ch_jw_key(w, "history");
    ch_jw_arr_begin(w);
    for (size_t i = r->n_current; i < r->n_reasons; i++)
        json_reason(w, v, &r->reasons[i]);
    ch_jw_arr_end(w);
    json_chain_side(w, v);
    ch_jw_obj_end(w);
}

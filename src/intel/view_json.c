/* The attribution store's answers as JSON, one writer for every door:
 * `coinhound intel lookup|actor --json` and GET /v1/intel/address/{a},
 * /v1/intel/actors (intel.h: ch_intel_lookup_json, ch_intel_actor_json). */
#include <stdio.h>
#include <string.h>

#include "coinhound/jsonw.h"
#include "coinhound/intel.h"

static void kv(ch_jw *w, const char *k, const char *v) {
    ch_jw_key(w, k);
    ch_jw_str(w, v);
}

static int write_attr(const ch_attribution *a, void *ctx) {
    ch_jw *w = ctx;
    ch_jw_obj_begin(w);
    kv(w, "asset", a->asset);
    kv(w, "category", a->category);
    kv(w, "entity", a->entity);
    kv(w, "actor", a->actor);
    kv(w, "actor_country", a->actor_country);
    ch_jw_key(w, "source");
    ch_jw_obj_begin(w);
    kv(w, "name", a->source_name);
    kv(w, "url", a->source_url);
    kv(w, "date", a->source_date);
    ch_jw_obj_end(w);
    ch_jw_key(w, "confidence");
    ch_jw_uint(w, a->confidence);
    kv(w, "first_listed", a->first_listed);
    kv(w, "last_listed", a->last_listed);
    ch_jw_key(w, "delisted");
    ch_jw_bool(w, a->delisted);
    kv(w, "delisted_date", a->delisted_date);
    kv(w, "note", a->note);
    ch_jw_key(w, "case_insensitive");
    ch_jw_bool(w, a->case_folded);
    kv(w, "listed_as", a->address);
    ch_jw_obj_end(w);
    return 0;
}

int ch_intel_lookup_json(ch_intel *db, const char *address, ch_jw *w, bool *valid, ch_error *err) {
    char key[128], reason[CH_ERROR_MAX];
    ch_error e;
    *valid = ch_intel_canonical(address, NULL, key, &e) == 0;
    snprintf(reason, sizeof reason, "%s", *valid ? "" : e.msg);
    if (!*valid) snprintf(key, sizeof key, "%s", address); /* a value kept as listed */
    /* an invalid address is still an answer when a list holds it as
     * written: counted first only then (a valid one is looked up once) */
    int n = 0;
    if (!*valid && (n = ch_intel_lookup(db, key, NULL, NULL, err)) < 0) return -1;
    ch_jw_obj_begin(w);
    kv(w, "address", address);
    if (!*valid && n == 0) {
        ch_jw_key(w, "valid");
        ch_jw_bool(w, false);
        kv(w, "reason", reason);
        ch_jw_obj_end(w);
        return 0;
    }
    kv(w, "canonical", key);
    ch_jw_key(w, "valid");
    ch_jw_bool(w, *valid);
    ch_jw_key(w, "attributions");
    ch_jw_arr_begin(w);
    n = ch_intel_lookup(db, key, write_attr, w, err);
    ch_jw_arr_end(w);
    ch_jw_obj_end(w);
    *valid = true; /* listed as written: an answer, even if not an address */
    return n;
}

static int write_alias(const char *alias, const char *source, void *ctx) {
    ch_jw *w = ctx;
    ch_jw_obj_begin(w);
    kv(w, "alias", alias);
    kv(w, "source", source);
    ch_jw_obj_end(w);
    return 0;
}

static int write_tech(const char *tid, const char *name, void *ctx) {
    ch_jw *w = ctx;
    ch_jw_obj_begin(w);
    kv(w, "id", tid);
    kv(w, "name", name);
    ch_jw_obj_end(w);
    return 0;
}

int ch_intel_actor_json(ch_intel *db, const ch_actor *act, const char *query, ch_jw *w,
                        ch_error *err) {
    int rc = 0;
    ch_jw_obj_begin(w);
    if (query) kv(w, "query", query);
    kv(w, "name", act->name);
    kv(w, "country", act->country);
    kv(w, "attack_id", act->attack_id);
    kv(w, "source", act->source);
    kv(w, "description", act->description);
    ch_jw_key(w, "aliases");
    ch_jw_arr_begin(w);
    if (ch_intel_actor_aliases(db, act->name, write_alias, w, err) < 0) rc = -1;
    ch_jw_arr_end(w);
    ch_jw_key(w, "techniques");
    ch_jw_arr_begin(w);
    if (rc == 0 && ch_intel_actor_techniques(db, act->name, write_tech, w, err) < 0) rc = -1;
    ch_jw_arr_end(w);
    ch_jw_obj_end(w);
    return rc;
}

void ch_intel_import_stats_json(const ch_import_stats *st, ch_jw *w) {
    const struct {
        const char *k;
        uint64_t v;
    } f[] = {{"addresses", st->addresses}, {"added", st->added},
             {"updated", st->updated},     {"delisted", st->delisted},
             {"rejected", st->rejected},   {"actors", st->actors},
             {"aliases", st->aliases},     {"techniques", st->techniques},
             {"files", st->files},         {"cut", st->cut},
             {"case_lost", st->case_lost}, {"case_restored", st->case_restored},
             {"skipped", st->skipped},     {"transcoded", st->transcoded}};
    ch_jw_obj_begin(w);
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        ch_jw_key(w, f[i].k);
        ch_jw_uint(w, f[i].v);
    }
    ch_jw_obj_end(w);
}

/* STIX 2.1 bundles (jansson).
 *
 * What is read:
 *   - intrusion-set and threat-actor objects: actors with their aliases and
 *     ATT&CK ids (external_references of source "mitre-attack");
 *   - attack-pattern objects and `uses` relationships: the actors'
 *     techniques;
 *   - indicators whose pattern compares a cryptocurrency wallet:
 *     [cryptocurrency-wallet:address = '...'] (a custom SCO) or OpenCTI's
 *     [Cryptocurrency-Wallet:value = '...'], and wallet SCOs themselves;
 *   - `indicates` / `attributed-to` / `related-to` relationships between those
 *     and an actor, which give the address its actor.
 * coinhound's own exports add "x_coinhound" (attr_json.c) to each indicator
 * so that nothing is lost on a round trip; other producers' bundles work
 * without it. JSON is loaded whole (jansson has no streaming reader); bundles
 * are small next to the address lists. */
#include "intel/intel_internal.h"

#include <ctype.h>
#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "intel/attr_json.h"

static const char *str(json_t *o, const char *k) {
    return json_string_value(json_object_get(o, k));
}

static const char *attack_id_of(json_t *o) {
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(o, "external_references"), i, r) {
        const char *src = str(r, "source_name");
        if (src && !strcmp(src, "mitre-attack") && str(r, "external_id"))
            return str(r, "external_id");
    }
    return NULL;
}

static bool is_actor_type(const char *t) {
    return t && (!strcmp(t, "intrusion-set") || !strcmp(t, "threat-actor"));
}

static bool is_wallet_type(const char *t) {
    return t && !strcasecmp(t, "cryptocurrency-wallet");
}

/* Register an intrusion set or threat actor; its canonical actor name goes
 * into `names` under its STIX id. */
static int add_actor(ch_imp *im, json_t *o, json_t *names, ch_error *err) {
    const char *name = str(o, "name"), *id = str(o, "id");
    if (!name || !*name || !id) return 0;
    const char *aid = attack_id_of(o);
    int rank = aid ? ALIAS_RANK_ATTACK : ALIAS_RANK_OTHER;
    ch_actor a;
    bool known = intel_actor_resolve_exact(im->db, im->txn, name, &a) ||
                 (aid && intel_actor_resolve_exact(im->db, im->txn, aid, &a));
    if (!known) {
        memset(&a, 0, sizeof a);
        intel_copy(a.name, sizeof a.name, name);
        const char *desc = str(o, "description");
        const char *country = str(o, "x_coinhound_country");
        if (country)
            intel_copy(a.country, sizeof a.country, country);
        else if (desc && (strstr(desc, "North Korea") || strstr(desc, "DPRK")))
            intel_copy(a.country, sizeof a.country, "DPRK");
        intel_copy(a.description, sizeof a.description, desc);
        snprintf(a.source, sizeof a.source, "%s", aid ? "MITRE ATT&CK" : "STIX");
    }
    if (aid && !a.attack_id[0]) intel_copy(a.attack_id, sizeof a.attack_id, aid);
    if (intel_actor_put(im->db, im->txn, &a, err) < 0) return -1;
    im->st->actors++;
    json_object_set_new(names, id, json_string(a.name));
    int w;
    if ((w = intel_alias_put(im->db, im->txn, name, a.name, rank, err)) < 0) return -1;
    im->st->aliases += (uint64_t)w;
    if (aid) {
        if ((w = intel_alias_put(im->db, im->txn, aid, a.name, rank, err)) < 0) return -1;
        im->st->aliases += (uint64_t)w;
    }
    size_t i;
    json_t *al;
    json_array_foreach(json_object_get(o, "aliases"), i, al) {
        if (!json_is_string(al)) continue;
        if ((w = intel_alias_put(im->db, im->txn, json_string_value(al), a.name, rank, err)) < 0)
            return -1;
        im->st->aliases += (uint64_t)w;
    }
    return 0;
}

/* Each quoted value compared with a wallet's address/value in a pattern. */
typedef int (*value_fn)(const char *value, void *ctx);

/* The wallet addresses a STIX pattern names ([cryptocurrency-wallet:address
 * = '...'] or :value), each to fn, with the string literal's escapes undone. */
static int pattern_wallets(const char *pat, value_fn fn, void *ctx) {
    static const char OBJ[] = "cryptocurrency-wallet:";
    const size_t ol = sizeof OBJ - 1;
    for (const char *p = pat; (p = strcasestr(p, OBJ)) != NULL;) {
        p += ol;
        size_t pl = 0;
        while (isalnum((unsigned char)p[pl]) || p[pl] == '_')
            pl++;
        bool prop =
            (pl == 7 && !strncasecmp(p, "address", 7)) || (pl == 5 && !strncasecmp(p, "value", 5));
        p += pl;
        if (!prop) continue;
        while (isspace((unsigned char)*p))
            p++;
        if (*p != '=') continue;
        p++;
        while (isspace((unsigned char)*p))
            p++;
        if (*p != '\'') continue;
        p++;
        char v[256];
        size_t n = 0;
        while (*p && *p != '\'') {
            if (*p == '\\' && p[1]) p++;
            if (n + 1 < sizeof v) v[n++] = *p;
            p++;
        }
        if (*p != '\'') return -1; /* unterminated string */
        v[n] = '\0';
        p++;
        int r = fn(v, ctx);
        if (r) return r;
    }
    return 0;
}

typedef struct ind_ctx {
    ch_imp *im;
    json_t *o;
    const char *actor;
    const char *where;
    const char *stem;
    ch_error *err;
    int failed;
} ind_ctx;

/* One wallet of an indicator into an attribution: name, actor (from the
 * bundle's relationships), source and reference URL, date. */
static int add_wallet(const char *value, void *vctx) {
    ind_ctx *c = vctx;
    json_t *o = c->o;
    ch_attribution a;
    memset(&a, 0, sizeof a);
    intel_copy(a.entity, sizeof a.entity, str(o, "name") ? str(o, "name") : c->actor);
    intel_copy(a.category, sizeof a.category, c->actor ? "hacker" : "unknown");
    snprintf(a.source_name, sizeof a.source_name, "STIX %s", c->stem);
    json_t *refs = json_object_get(o, "external_references");
    if (json_array_size(refs)) {
        json_t *r0 = json_array_get(refs, 0);
        if (str(r0, "url")) intel_copy(a.source_url, sizeof a.source_url, str(r0, "url"));
        if (str(r0, "source_name"))
            intel_copy(a.source_name, sizeof a.source_name, str(r0, "source_name"));
    }
    imp_date(str(o, "valid_from"), a.source_date);
    json_t *conf = json_object_get(o, "confidence");
    a.confidence =
        json_is_integer(conf) && json_integer_value(conf) >= 0 && json_integer_value(conf) <= 100
            ? (uint8_t)json_integer_value(conf)
            : 70;
    if (json_is_true(json_object_get(o, "revoked"))) {
        a.delisted = true;
        imp_date(str(o, "modified"), a.delisted_date);
    }
    intel_copy(a.asset, sizeof a.asset, str(o, "x_coinhound_asset"));
    /* coinhound's own export: its addresses were validated (or deliberately
     * kept as listed) by the store that wrote it */
    json_t *ext = json_object_get(o, "x_coinhound");
    intel_attr_from_json(ext, &a);
    imp_trust trust = json_is_object(ext) ? IMP_AS_LISTED : IMP_VALIDATE;
    if (imp_add(c->im, value, &a, c->actor, trust, c->where, c->err) < 0) {
        c->failed = 1;
        return -1;
    }
    return 0;
}

int import_stix(ch_imp *im, FILE *f, const char *name, ch_error *err) {
    json_error_t je;
    json_t *root = json_loadf(f, 0, &je);
    if (!root) return ch_err(err, "%s: line %d, column %d: %s", name, je.line, je.column, je.text);
    json_t *objects = json_object_get(root, "objects");
    const char *type = str(root, "type");
    if (!type || strcmp(type, "bundle") != 0 || !json_is_array(objects)) {
        json_decref(root);
        return ch_err(
            err, "%s: not a STIX bundle (want {\"type\": \"bundle\", \"objects\": [...]})", name);
    }
    json_t *actors = json_object();   /* STIX id -> actor name */
    json_t *patterns = json_object(); /* attack-pattern id -> [T-id, name] */
    json_t *links = json_object();    /* indicator/wallet id -> actor name */
    char stem[64];
    imp_stem(name, stem, sizeof stem);
    int r = 0;
    size_t i;
    json_t *o;
    /* 1: actors and techniques */
    json_array_foreach(objects, i, o) {
        if (!json_is_object(o)) {
            r = ch_err(err, "%s: objects[%zu] is not an object", name, i);
            break;
        }
        const char *t = str(o, "type");
        if (!t || !str(o, "id")) {
            r = ch_err(err, "%s: objects[%zu] has no type or id", name, i);
            break;
        }
        if (json_is_true(json_object_get(o, "revoked")) && !is_wallet_type(t) &&
            strcmp(t, "indicator") != 0)
            continue;
        if (json_is_true(json_object_get(o, "x_mitre_deprecated"))) continue;
        if (is_actor_type(t)) {
            if ((r = add_actor(im, o, actors, err)) < 0) break;
        } else if (!strcmp(t, "attack-pattern")) {
            const char *tid = attack_id_of(o), *pn = str(o, "name");
            if (tid && pn) json_object_set_new(patterns, str(o, "id"), json_pack("[ss]", tid, pn));
        }
    }
    /* 2: relationships */
    json_array_foreach(objects, i, o) {
        if (r < 0) break;
        const char *t = str(o, "type");
        if (!t || strcmp(t, "relationship") != 0) continue;
        const char *rt = str(o, "relationship_type"), *src = str(o, "source_ref"),
                   *dst = str(o, "target_ref");
        if (!rt || !src || !dst) {
            r = ch_err(err, "%s: objects[%zu]: relationship without type, source or target", name,
                       i);
            break;
        }
        json_t *actor = json_object_get(actors, src);
        if (!strcmp(rt, "uses") && actor) {
            json_t *p = json_object_get(patterns, dst);
            if (!p) continue;
            if ((r = intel_technique_put(im->db, im->txn, json_string_value(actor),
                                         json_string_value(json_array_get(p, 0)),
                                         json_string_value(json_array_get(p, 1)), err)) < 0)
                break;
            im->st->techniques++;
        } else if (!strcmp(rt, "indicates") || !strcmp(rt, "attributed-to") ||
                   !strcmp(rt, "related-to")) {
            /* whichever end is the actor */
            json_t *to = json_object_get(actors, dst);
            if (to && !actor)
                json_object_set(links, src, to);
            else if (actor && !to)
                json_object_set(links, dst, actor);
        }
    }
    /* 3: indicators and wallet observables */
    json_array_foreach(objects, i, o) {
        if (r < 0) break;
        const char *t = str(o, "type"), *id = str(o, "id");
        char where[48];
        snprintf(where, sizeof where, "objects[%zu]", i);
        ind_ctx c = {im, o, json_string_value(json_object_get(links, id)), where, stem, err, 0};
        if (!strcmp(t, "indicator")) {
            const char *pat = str(o, "pattern"), *pt = str(o, "pattern_type");
            if (!pat || (pt && strcmp(pt, "stix") != 0)) continue;
            int pr = pattern_wallets(pat, add_wallet, &c);
            if (c.failed)
                r = -1;
            else if (pr < 0)
                r = ch_err(err, "%s: %s: unterminated string in pattern", name, where);
        } else if (is_wallet_type(t)) {
            const char *v = str(o, "address") ? str(o, "address") : str(o, "value");
            if (v && add_wallet(v, &c) < 0) r = -1;
        }
    }
    json_decref(actors);
    json_decref(patterns);
    json_decref(links);
    json_decref(root);
    return r < 0 ? -1 : 0;
}

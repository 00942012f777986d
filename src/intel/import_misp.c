/* MISP (jansson): event JSON and the threat-actor galaxy.
 *
 * Event: {"Event": {...}} (also a list of them, or {"response": [...]}).
 * Addresses come from attributes of type btc, xmr and dash, and from
 * coin-address objects (address, address-xmr or address-crypto, with its
 * symbol). The actor comes from a
 * threat-actor galaxy cluster or tag (misp-galaxy:threat-actor="Lazarus
 * Group") on the attribute, its object or the event. coinhound's own export
 * puts every field of the attribution as JSON in the address attribute's
 * comment ({"coinhound": {...}}), read back here.
 *
 * Galaxy: {"type": "threat-actor", "values": [{"value", "uuid", "meta":
 * {"synonyms": [...], "country": "KP"}}]}: each cluster becomes an actor
 * (or joins the actor its name already resolves to) and its synonyms become
 * aliases of MISP rank (below built-in and ATT&CK, see actors.c). */
#include "intel/intel_internal.h"

#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "intel/attr_json.h"

static const char *str(json_t *o, const char *k) {
    return json_string_value(json_object_get(o, k));
}

/* The threat actor named by tags or galaxies of o, or NULL. */
static const char *actor_of(json_t *o, char *buf, size_t cap) {
    size_t i, j;
    json_t *g, *c, *t;
    json_array_foreach(json_object_get(o, "Galaxy"), i, g) {
        const char *type = str(g, "type");
        if (!type || strcmp(type, "threat-actor") != 0) continue;
        json_array_foreach(json_object_get(g, "GalaxyCluster"), j, c) {
            if (str(c, "value")) {
                intel_copy(buf, cap, str(c, "value"));
                return buf;
            }
        }
    }
    static const char TAG[] = "misp-galaxy:threat-actor=\"";
    json_array_foreach(json_object_get(o, "Tag"), i, t) {
        const char *n = str(t, "name");
        if (!n || strncmp(n, TAG, sizeof TAG - 1) != 0) continue;
        n += sizeof TAG - 1;
        size_t l = strcspn(n, "\"");
        if (l >= cap) l = cap - 1;
        memcpy(buf, n, l);
        buf[l] = '\0';
        return buf;
    }
    return NULL;
}

typedef struct ev_ctx {
    ch_imp *im;
    const char *name;
    json_t *event;
    const char *event_actor;
    ch_error *err;
} ev_ctx;

static int add(ev_ctx *c, const char *address, const char *asset, json_t *attr, const char *actor,
               const char *where) {
    json_t *ev = c->event;
    ch_attribution a;
    memset(&a, 0, sizeof a);
    intel_copy(a.asset, sizeof a.asset, asset);
    intel_copy(a.entity, sizeof a.entity, actor);
    intel_copy(a.category, sizeof a.category, actor ? "hacker" : "unknown");
    const char *uuid = str(ev, "uuid");
    snprintf(a.source_name, sizeof a.source_name, "MISP event %s", uuid ? uuid : "");
    imp_date(str(ev, "date"), a.source_date);
    a.confidence = 70;
    intel_copy(a.note, sizeof a.note, str(ev, "info"));
    /* coinhound's own fields, when the comment carries them */
    /* coinhound's own export: its addresses were validated (or deliberately
     * kept as listed) by the store that wrote it */
    imp_trust trust = IMP_VALIDATE;
    const char *comment = str(attr, "comment");
    if (comment && comment[0] == '{') {
        json_t *j = json_loads(comment, 0, NULL);
        json_t *ext = json_object_get(j, "coinhound");
        if (json_is_object(ext)) {
            intel_attr_from_json(ext, &a);
            trust = IMP_AS_LISTED;
        }
        json_decref(j);
    }
    return imp_add(c->im, address, &a, actor, trust, where, c->err);
}

/* One MISP event: its attributes and objects that carry wallet addresses,
 * each attributed to the event's actor (threat-actor galaxy or tag). */
static int read_event(ev_ctx *c, json_t *ev, size_t idx) {
    c->event = ev;
    char actor_buf[128], abuf[128];
    const char *ev_actor = actor_of(ev, actor_buf, sizeof actor_buf);
    size_t i, j;
    json_t *at, *ob;
    json_array_foreach(json_object_get(ev, "Attribute"), i, at) {
        const char *type = str(at, "type"), *value = str(at, "value");
        if (!type || !value) continue;
        const char *asset = !strcmp(type, "btc")    ? "BTC"
                            : !strcmp(type, "xmr")  ? "XMR"
                            : !strcmp(type, "dash") ? "DASH"
                                                    : NULL;
        if (!asset) continue;
        char where[64];
        snprintf(where, sizeof where, "event %zu Attribute[%zu]", idx, i);
        const char *actor = actor_of(at, abuf, sizeof abuf);
        if (add(c, value, asset, at, actor ? actor : ev_actor, where) < 0) return -1;
    }
    json_array_foreach(json_object_get(ev, "Object"), i, ob) {
        const char *oname = str(ob, "name");
        if (!oname || strcmp(oname, "coin-address") != 0) continue;
        json_t *addr_attr = NULL;
        const char *symbol = "";
        json_array_foreach(json_object_get(ob, "Attribute"), j, at) {
            const char *rel = str(at, "object_relation");
            if (!rel) continue;
            /* the template's three address relations: address (btc),
             * address-xmr (xmr), address-crypto (text, any other chain) */
            if (!strcmp(rel, "address-crypto") || !strcmp(rel, "address") ||
                !strcmp(rel, "address-xmr"))
                addr_attr = at;
            else if (!strcmp(rel, "symbol") && str(at, "value"))
                symbol = str(at, "value");
        }
        if (!addr_attr || !str(addr_attr, "value")) continue;
        char where[64];
        snprintf(where, sizeof where, "event %zu Object[%zu]", idx, i);
        char obuf[128];
        const char *actor = actor_of(addr_attr, abuf, sizeof abuf);
        if (!actor) actor = actor_of(ob, obuf, sizeof obuf);
        if (add(c, str(addr_attr, "value"), symbol, addr_attr, actor ? actor : ev_actor, where) < 0)
            return -1;
    }
    return 0;
}

int import_misp(ch_imp *im, FILE *f, const char *name, ch_error *err) {
    json_error_t je;
    json_t *root = json_loadf(f, 0, &je);
    if (!root) return ch_err(err, "%s: line %d, column %d: %s", name, je.line, je.column, je.text);
    ev_ctx c = {im, name, NULL, NULL, err};
    json_t *list = json_is_array(root) ? root : json_object_get(root, "response");
    int r = 0, n = 0;
    if (json_is_object(json_object_get(root, "Event"))) {
        r = read_event(&c, json_object_get(root, "Event"), 0);
        n = 1;
    } else if (json_is_array(list)) {
        size_t i;
        json_t *e;
        json_array_foreach(list, i, e) {
            json_t *ev = json_object_get(e, "Event");
            if (!json_is_object(ev)) continue;
            n++;
            if ((r = read_event(&c, ev, i)) < 0) break;
        }
    }
    if (r == 0 && n == 0) r = ch_err(err, "%s: no MISP \"Event\" in this JSON", name);
    json_decref(root);
    return r;
}

int import_misp_galaxy(ch_imp *im, FILE *f, const char *name, ch_error *err) {
    json_error_t je;
    json_t *root = json_loadf(f, 0, &je);
    if (!root) return ch_err(err, "%s: line %d, column %d: %s", name, je.line, je.column, je.text);
    json_t *values = json_object_get(root, "values");
    if (!json_is_array(values)) {
        json_decref(root);
        return ch_err(err, "%s: not a MISP galaxy (no \"values\" list)", name);
    }
    int r = 0;
    size_t i, j;
    json_t *v, *s;
    json_array_foreach(values, i, v) {
        const char *value = str(v, "value");
        if (!value || !*value) {
            r = ch_err(err, "%s: values[%zu] has no \"value\"", name, i);
            break;
        }
        json_t *meta = json_object_get(v, "meta");
        ch_actor a;
        if (!intel_actor_resolve_exact(im->db, im->txn, value, &a)) {
            memset(&a, 0, sizeof a);
            intel_copy(a.name, sizeof a.name, value);
            const char *country = str(meta, "country");
            if (country)
                intel_copy(a.country, sizeof a.country, strcmp(country, "KP") ? country : "DPRK");
            intel_copy(a.source, sizeof a.source, "MISP galaxy");
            intel_copy(a.description, sizeof a.description, str(v, "description"));
            if ((r = intel_actor_put(im->db, im->txn, &a, err)) < 0) break;
            im->st->actors++;
        }
        int w = intel_alias_put(im->db, im->txn, value, a.name, ALIAS_RANK_MISP, err);
        if (w < 0) {
            r = -1;
            break;
        }
        im->st->aliases += (uint64_t)w;
        json_array_foreach(json_object_get(meta, "synonyms"), j, s) {
            if (!json_is_string(s)) continue;
            w = intel_alias_put(im->db, im->txn, json_string_value(s), a.name, ALIAS_RANK_MISP,
                                err);
            if (w < 0) {
                r = -1;
                break;
            }
            im->st->aliases += (uint64_t)w;
        }
        if (r < 0) break;
    }
    json_decref(root);
    return r;
}

/* Exports of the whole store: a STIX 2.1 bundle and a MISP event.
 *
 * Both carry every field of every attribution (the coinhound extension of
 * attr_json.c: "x_coinhound" on a STIX indicator, the comment of a MISP
 * address attribute), so that importing an export into an empty store gives
 * the same attributions; other tools read the standard parts. Identifiers
 * are derived from the content (name-based UUIDs), so exporting the same
 * store twice gives the same file. Built with jansson in memory: an export
 * of the whole store is tens of MB at most. */
#include "intel/intel_internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/chainaddr.h"
#include "coinhound/hash.h"
#include "intel/attr_json.h"

/* "<type>--<uuid>" from SHA-256 of the text, shaped as a version-5 UUID. */
static void stix_id(const char *type, const char *text, char out[96]) {
    uint8_t h[32];
    ch_sha256(text, strlen(text), h);
    h[6] = (uint8_t)((h[6] & 0x0f) | 0x50);
    h[8] = (uint8_t)((h[8] & 0x3f) | 0x80);
    char hex[33];
    ch_hex_encode(h, 16, hex);
    snprintf(out, 96, "%s%s%.8s-%.4s-%.4s-%.4s-%.12s", type, type[0] ? "--" : "", hex, hex + 8,
             hex + 12, hex + 16, hex + 20);
}

static void attr_text_id(const ch_attribution *a, char *buf, size_t cap) {
    snprintf(buf, cap, "%s|%s|%s|%s", a->address, a->asset, a->source_name, a->entity);
}

static void timestamp(const char *date, char out[32]) {
    if (date && strlen(date) == 10)
        snprintf(out, 32, "%.10sT00:00:00.000Z", date);
    else
        snprintf(out, 32, "1970-01-01T00:00:00.000Z");
}

static const char *indicator_type(const char *category) {
    static const char *const benign[] = {"exchange", "bridge", "dex", "service", "mining", NULL};
    for (int i = 0; benign[i]; i++)
        if (!strcmp(category, benign[i])) return "benign";
    if (!strcmp(category, "mixer")) return "anonymization";
    if (!strcmp(category, "victim") || !strcmp(category, "compromised")) return "compromised";
    return "malicious-activity";
}

static int write_json(json_t *root, const char *path, ch_error *err) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (json_dump_file(root, tmp, JSON_COMPACT | JSON_ENSURE_ASCII) != 0) {
        remove(tmp);
        return ch_err(err, "cannot write %s: %s", path, strerror(errno));
    }
    if (rename(tmp, path) != 0) {
        remove(tmp);
        return ch_err(err, "cannot write %s: %s", path, strerror(errno));
    }
    return 0;
}

/* ---- STIX ---- */

typedef struct stix_ctx {
    ch_intel *db;
    json_t *objects;
    json_t *actors;   /* actor name -> intrusion-set id */
    json_t *patterns; /* T-id -> attack-pattern id */
    const char *now;
    ch_error *err;
    int failed;
} stix_ctx;

static int add_alias(const char *alias, const char *source, void *vctx) {
    (void)source;
    json_array_append_new(vctx, json_string(alias));
    return 0;
}

typedef struct tech_ctx {
    stix_ctx *s;
    const char *set_id;
} tech_ctx;

static int add_technique(const char *tid, const char *name, void *vctx) {
    tech_ctx *t = vctx;
    stix_ctx *s = t->s;
    const char *pid = json_string_value(json_object_get(s->patterns, tid));
    char id[96], rid[96], text[256];
    if (!pid) {
        stix_id("attack-pattern", tid, id);
        json_t *ap = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:s}]}", "type",
                               "attack-pattern", "spec_version", "2.1", "id", id, "created", s->now,
                               "modified", s->now, "name", name, "external_references",
                               "source_name", "mitre-attack", "external_id", tid);
        json_array_append_new(s->objects, ap);
        json_object_set_new(s->patterns, tid, json_string(id));
        pid = json_string_value(json_object_get(s->patterns, tid));
    }
    snprintf(text, sizeof text, "%s uses %s", t->set_id, pid);
    stix_id("relationship", text, rid);
    json_array_append_new(s->objects,
                          json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type",
                                    "relationship", "spec_version", "2.1", "id", rid, "created",
                                    s->now, "modified", s->now, "relationship_type", "uses",
                                    "source_ref", t->set_id, "target_ref", pid));
    return 0;
}

/* The intrusion-set of an actor, created on first use. */
static const char *actor_set(stix_ctx *s, const char *name) {
    json_t *have = json_object_get(s->actors, name);
    if (have) return json_string_value(have);
    ch_actor a;
    memset(&a, 0, sizeof a);
    if (ch_intel_actor_resolve(s->db, name, &a, NULL) != 1) intel_copy(a.name, sizeof a.name, name);
    char id[96];
    stix_id("intrusion-set", name, id);
    json_t *aliases = json_array();
    ch_intel_actor_aliases(s->db, name, add_alias, aliases, NULL);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "type", "intrusion-set",
                          "spec_version", "2.1", "id", id, "created", s->now, "modified", s->now,
                          "name", name, "aliases", aliases);
    if (a.description[0]) json_object_set_new(o, "description", json_string(a.description));
    if (a.country[0]) json_object_set_new(o, "x_coinhound_country", json_string(a.country));
    if (a.attack_id[0])
        json_object_set_new(
            o, "external_references",
            json_pack("[{s:s, s:s}]", "source_name", "mitre-attack", "external_id", a.attack_id));
    json_array_append_new(s->objects, o);
    json_object_set_new(s->actors, name, json_string(id));
    const char *set_id = json_string_value(json_object_get(s->actors, name));
    tech_ctx t = {s, set_id};
    ch_intel_actor_techniques(s->db, name, add_technique, &t, NULL);
    return set_id;
}

/* One attribution as a STIX 2.1 indicator with its wallet pattern (the form
 * OpenCTI reads), with a stable id so re-exports do not duplicate. */
static int stix_attr(const ch_attribution *a, void *vctx) {
    stix_ctx *s = vctx;
    char text[600], id[96], ts[32], pattern[300];
    attr_text_id(a, text, sizeof text);
    stix_id("indicator", text, id);
    timestamp(a->first_listed, ts);
    /* OpenCTI's wallet observable (Cryptocurrency-Wallet, property value),
     * the form OpenCTI reads from a pattern; the string literal escapes \
     * and ' (STIX 2.1 patterning, 9.3) */
    size_t n = 0;
    n += (size_t)snprintf(pattern, sizeof pattern, "[cryptocurrency-wallet:value = '");
    for (const char *p = a->address; *p && n + 4 < sizeof pattern; p++) {
        if (*p == '\'' || *p == '\\') pattern[n++] = '\\';
        pattern[n++] = *p;
    }
    snprintf(pattern + n, sizeof pattern - n, "']");
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:i, s:o}", "type",
                  "indicator", "spec_version", "2.1", "id", id, "created", ts, "modified", ts,
                  "name", a->entity[0] ? a->entity : a->address, "pattern", pattern, "pattern_type",
                  "stix", "valid_from", ts, "indicator_types", indicator_type(a->category),
                  "confidence", (int)a->confidence, "x_coinhound", intel_attr_to_json(a));
    if (!o) {
        s->failed = 1;
        return 1;
    }
    json_object_set_new(o, "x_opencti_main_observable_type", json_string("Cryptocurrency-Wallet"));
    json_t *ref = json_pack("{s:s}", "source_name", a->source_name[0] ? a->source_name : "unknown");
    if (a->source_url[0]) json_object_set_new(ref, "url", json_string(a->source_url));
    json_object_set_new(o, "external_references", json_pack("[o]", ref));
    json_array_append_new(s->objects, o);
    if (a->actor[0]) {
        const char *set = actor_set(s, a->actor);
        char rid[96], rtext[256];
        snprintf(rtext, sizeof rtext, "%s indicates %s", id, set);
        stix_id("relationship", rtext, rid);
        json_array_append_new(s->objects,
                              json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type",
                                        "relationship", "spec_version", "2.1", "id", rid, "created",
                                        ts, "modified", ts, "relationship_type", "indicates",
                                        "source_ref", id, "target_ref", set));
    }
    return 0;
}

int ch_intel_export_stix(ch_intel *db, const char *path, ch_error *err) {
    char today[16], now[32];
    intel_today(today);
    timestamp(today, now);
    stix_ctx s = {db, json_array(), json_object(), json_object(), now, err, 0};
    int r = ch_intel_foreach(db, stix_attr, &s, err);
    if (r >= 0 && s.failed) r = ch_err(err, "STIX export: cannot build an indicator");
    if (r >= 0) {
        char bid[96];
        stix_id("bundle", path, bid);
        json_t *root =
            json_pack("{s:s, s:s, s:o}", "type", "bundle", "id", bid, "objects", s.objects);
        s.objects = NULL;
        r = write_json(root, path, err);
        json_decref(root);
    }
    json_decref(s.objects);
    json_decref(s.actors);
    json_decref(s.patterns);
    return r < 0 ? -1 : 0;
}

/* ---- MISP ---- */

/* MISP's coin-address object template (misp-objects, version 7): BTC
 * addresses go in relation "address" (attribute type btc), Monero in
 * "address-xmr" (xmr), every other chain in "address-crypto" (text); the
 * coin's symbol in "symbol" (text, uppercase, as coinmarketcap writes it). */
#define COIN_ADDRESS_TEMPLATE_UUID "d0e6997e-78da-4815-a6a1-cfc1c1cb8a46"
#define COIN_ADDRESS_TEMPLATE_VER  "7"

typedef struct misp_typing {
    const char *relation, *type, *category;
} misp_typing;

static misp_typing misp_type_of(const ch_attribution *a) {
    ch_chainaddr c;
    misp_typing t = {"address-crypto", "text", "Financial fraud"};
    if (ch_chainaddr_parse(a->address, ch_family_from_asset(a->asset), &c, NULL) != 0) return t;
    if (c.family == CH_FAM_BTC && !c.testnet) {
        t.relation = "address";
        t.type = "btc";
    } else if (c.family == CH_FAM_XMR && !c.testnet && c.canonical[0] != '\0' &&
               strlen(c.canonical) != 64) { /* not OFAC's bare hex value */
        t.relation = "address-xmr";
        t.type = "xmr";
    }
    return t;
}

/* The symbol for the template: OFAC's XBT is BTC everywhere else. */
static void misp_symbol(const ch_attribution *a, char out[16]) {
    size_t i = 0;
    for (; a->asset[i] && i < 15; i++)
        out[i] =
            (char)((a->asset[i] >= 'a' && a->asset[i] <= 'z') ? a->asset[i] - 32 : a->asset[i]);
    out[i] = '\0';
    if (!strcmp(out, "XBT")) strcpy(out, "BTC");
}

/* One attribution as a MISP object (btc or a cryptocurrency-address
 * attribute with its symbol), with stable uuids derived from its content. */
static int misp_attr(const ch_attribution *a, void *vctx) {
    json_t *objects = vctx;
    char text[600], uuid[96], ouuid[96], suuid[96], symbol[16];
    attr_text_id(a, text, sizeof text);
    stix_id("", text, uuid);
    size_t l = strlen(text);
    snprintf(text + l, sizeof text - l, "|object");
    stix_id("", text, ouuid);
    snprintf(text + l, sizeof text - l, "|symbol");
    stix_id("", text, suuid);
    json_t *ext = json_pack("{s:o}", "coinhound", intel_attr_to_json(a));
    char *comment = json_dumps(ext, JSON_COMPACT);
    json_decref(ext);
    misp_typing mt = misp_type_of(a);
    json_t *addr = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "uuid", uuid, "type", mt.type,
                             "category", mt.category, "object_relation", mt.relation, "value",
                             a->address, "to_ids", !a->delisted);
    json_object_set_new(addr, "comment", json_string(comment ? comment : ""));
    free(comment);
    if (a->actor[0]) {
        char tag[128];
        snprintf(tag, sizeof tag, "misp-galaxy:threat-actor=\"%.100s\"", a->actor);
        json_object_set_new(addr, "Tag", json_pack("[{s:s}]", "name", tag));
    }
    json_t *attrs = json_pack("[o]", addr);
    misp_symbol(a, symbol);
    if (symbol[0])
        json_array_append_new(attrs,
                              json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "uuid", suuid, "type",
                                        "text", "category", "Other", "object_relation", "symbol",
                                        "value", symbol, "to_ids", false));
    json_array_append_new(objects,
                          json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "name", "coin-address",
                                    "meta-category", "financial", "description",
                                    "An address used in a cryptocurrency", "template_uuid",
                                    COIN_ADDRESS_TEMPLATE_UUID, "template_version",
                                    COIN_ADDRESS_TEMPLATE_VER, "uuid", ouuid, "Attribute", attrs));
    return 0;
}

int ch_intel_export_misp(ch_intel *db, const char *path, ch_error *err) {
    char today[16], uuid[96];
    intel_today(today);
    stix_id("", path, uuid);
    json_t *objects = json_array();
    int r = ch_intel_foreach(db, misp_attr, objects, err);
    if (r >= 0) {
        json_t *root =
            json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:s, s:[], s:o, s:[{s:s}]}}", "Event", "uuid",
                      uuid, "info", "coinhound attribution store export", "date", today,
                      "threat_level_id", "1", "analysis", "2", "distribution", "0", "Attribute",
                      "Object", objects, "Tag", "name", "tlp:white");
        objects = NULL;
        r = write_json(root, path, err);
        json_decref(root);
    }
    json_decref(objects);
    return r < 0 ? -1 : 0;
}

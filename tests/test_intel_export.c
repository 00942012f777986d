/* Export STIX / MISP, import into a fresh store: the same attributions;
 * and every export passes the format's own rules, checked here from the
 * published specifications (not from coinhound's code):
 *   MISP: the coin-address object template, version 7 (MISP/misp-objects
 *     objects/coin-address/definition.json): its relations and their
 *     attribute types, requiredOneOf address / address-xmr / address-crypto;
 *     MISP's categories; the value forms MISP accepts for btc and xmr;
 *     RFC 4122 UUIDs.
 *   STIX 2.1 (OASIS, 2021): bundle (type, id; no spec_version), the common
 *     properties (type, spec_version "2.1", id "<type>--<UUID>", created and
 *     modified timestamps in UTC with 'Z'), per type the required ones
 *     (indicator: pattern, pattern_type, valid_from; relationship: type and
 *     both refs, which must resolve; intrusion-set and attack-pattern:
 *     name), custom property names ([a-z0-9_]{3,250}), the indicator-type
 *     vocabulary, confidence 0..100, external references with a source_name,
 *     and the patterning grammar for a comparison expression, restricted to
 *     OpenCTI's wallet observable: [cryptocurrency-wallet:value = '...']. */
#include "support/testutil.h"

#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coinhound/intel.h"

typedef struct lines {
    char **v;
    size_t n, cap;
} lines;

/* Every field of an attribution on one line. */
static int collect(const ch_attribution *a, void *ctx) {
    lines *l = ctx;
    char buf[2048];
    snprintf(buf, sizeof buf, "%s|%s|%s|%s|%s|%s|%s|%s|%s|%u|%s|%s|%d|%s|%s", a->address, a->asset,
             a->entity, a->actor, a->actor_country, a->category, a->source_name, a->source_url,
             a->source_date, a->confidence, a->first_listed, a->last_listed, a->delisted,
             a->delisted_date, a->note);
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 1024;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = strdup(buf);
    return 0;
}

static void free_lines(lines *l) {
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static ch_intel *open_store(const char *dir) {
    ch_intel *db;
    ch_error err;
    if (ch_intel_open(dir, true, &db, &err) < 0) fail_msg("%s", err.msg);
    return db;
}

static void import_ok(ch_intel *db, const char *path, const char *as_of) {
    ch_import_opts o = {0};
    o.as_of = as_of;
    ch_import_stats st;
    ch_error err;
    if (ch_intel_import(db, path, &o, &st, &err) < 0) fail_msg("%s", err.msg);
}

/* A store with OFAC lists, DPRK attributions (victims, delisted rows,
 * verbatim values), a TagPack, hand-made SDN lists with a delisting. */
static bool build_source(ch_intel *db) {
    static const char *REL[] = {"intel/ofac-lists", "intel/dprk-attributions",
                                "intel/tagpacks/lazarus.yaml", "intel/tagpacks/ofac.yaml"};
    for (size_t i = 0; i < sizeof REL / sizeof REL[0]; i++) {
        const char *p = tu_fixture(REL[i]);
        if (!p) return false;
        char path[4096];
        snprintf(path, sizeof path, "%s", p);
        import_ok(db, path, "2025-06-01");
    }
    import_ok(db, "tests/data/intel/sdn_2022.xml", NULL);
    import_ok(db, "tests/data/intel/sdn_2023.xml", NULL);
    import_ok(db, "tests/data/intel/misp_event.json", NULL);
    return true;
}

/* ---- the format checkers ---- */

static bool matches(const char *re, const char *s) {
    regex_t r;
    assert_int_equal(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
    bool ok = s && regexec(&r, s, 0, NULL, 0) == 0;
    regfree(&r);
    return ok;
}

#define UUID_RE "[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
#define TS_RE   "^[0-9]{4}-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9](\\.[0-9]+)?Z$"

static const char *sget(json_t *o, const char *k) {
    return json_string_value(json_object_get(o, k));
}

/* coin-address, template version 7: relation -> MISP attribute type. */
static const struct {
    const char *rel, *type;
} COIN_ADDRESS_V7[] = {
    {"address", "btc"},           {"address-crypto", "text"}, {"address-xmr", "xmr"},
    {"current-balance", "float"}, {"first-seen", "datetime"}, {"last-seen", "datetime"},
    {"last-updated", "datetime"}, {"symbol", "text"},         {"text", "text"},
    {"total-received", "float"},  {"total-sent", "float"},    {"total-transactions", "text"},
};

static const char *const MISP_CATEGORIES[] = {
    "Internal reference",
    "Targeting data",
    "Antivirus detection",
    "Payload delivery",
    "Artifacts dropped",
    "Payload installation",
    "Persistence mechanism",
    "Network activity",
    "Payload type",
    "Attribution",
    "External analysis",
    "Financial fraud",
    "Support Tool",
    "Social network",
    "Person",
    "Other",
};

typedef struct misp_counts {
    size_t objects, btc, xmr, text;
} misp_counts;

static void check_misp_attribute(json_t *at, const char *where) {
    const char *rel = sget(at, "object_relation"), *type = sget(at, "type"),
               *cat = sget(at, "category"), *val = sget(at, "value");
    if (!rel || !type || !cat || !val || !*val) fail_msg("%s: attribute lacks a field", where);
    const char *want = NULL;
    for (size_t i = 0; i < sizeof COIN_ADDRESS_V7 / sizeof COIN_ADDRESS_V7[0]; i++)
        if (!strcmp(rel, COIN_ADDRESS_V7[i].rel)) want = COIN_ADDRESS_V7[i].type;
    if (!want) fail_msg("%s: relation '%s' is not in the coin-address template", where, rel);
    if (strcmp(want, type) != 0)
        fail_msg("%s: relation '%s' takes type %s, not %s", where, rel, want, type);
    bool cat_ok = false;
    for (size_t i = 0; i < sizeof MISP_CATEGORIES / sizeof MISP_CATEGORIES[0]; i++)
        cat_ok |= !strcmp(cat, MISP_CATEGORIES[i]);
    if (!cat_ok) fail_msg("%s: '%s' is no MISP category", where, cat);
    /* btc and xmr belong to "Financial fraud" */
    if ((!strcmp(type, "btc") || !strcmp(type, "xmr")) && strcmp(cat, "Financial fraud") != 0)
        fail_msg("%s: %s in category %s", where, type, cat);
    if (!strcmp(type, "btc") &&
        !matches("^[13][1-9A-HJ-NP-Za-km-z]{25,34}$|^bc1[02-9ac-hj-np-z]{11,71}$", val))
        fail_msg("%s: '%s' is not a value MISP accepts as btc", where, val);
    if (!strcmp(type, "xmr") &&
        !matches("^[48][1-9A-HJ-NP-Za-km-z]{94}$|^4[1-9A-HJ-NP-Za-km-z]{105}$", val))
        fail_msg("%s: '%s' is not a Monero address", where, val);
    if (!strcmp(rel, "symbol") && !matches("^[A-Z0-9]+$", val))
        fail_msg("%s: symbol '%s' is not uppercase", where, val);
    if (!matches("^" UUID_RE "$", sget(at, "uuid"))) fail_msg("%s: bad uuid", where);
    if (!json_is_boolean(json_object_get(at, "to_ids"))) fail_msg("%s: to_ids not boolean", where);
}

static void check_misp(json_t *root, misp_counts *n) {
    memset(n, 0, sizeof *n);
    json_t *ev = json_object_get(root, "Event");
    assert_true(json_is_object(ev));
    assert_true(sget(ev, "info") && *sget(ev, "info"));
    assert_true(matches("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", sget(ev, "date")));
    assert_true(matches("^[1-4]$", sget(ev, "threat_level_id")));
    assert_true(matches("^[0-2]$", sget(ev, "analysis")));
    assert_true(matches("^[0-5]$", sget(ev, "distribution")));
    assert_true(matches("^" UUID_RE "$", sget(ev, "uuid")));
    size_t i, j;
    json_t *ob, *at;
    json_array_foreach(json_object_get(ev, "Object"), i, ob) {
        char where[64];
        snprintf(where, sizeof where, "Object[%zu]", i);
        assert_string_equal(sget(ob, "name"), "coin-address");
        assert_string_equal(sget(ob, "meta-category"), "financial");
        assert_string_equal(sget(ob, "template_uuid"), "d0e6997e-78da-4815-a6a1-cfc1c1cb8a46");
        assert_true(matches("^" UUID_RE "$", sget(ob, "uuid")));
        int required = 0;
        json_array_foreach(json_object_get(ob, "Attribute"), j, at) {
            check_misp_attribute(at, where);
            const char *rel = sget(at, "object_relation");
            bool addr = !strcmp(rel, "address") || !strcmp(rel, "address-xmr") ||
                        !strcmp(rel, "address-crypto");
            required += addr;
            n->btc += !strcmp(rel, "address");
            n->xmr += !strcmp(rel, "address-xmr");
            n->text += !strcmp(rel, "address-crypto");
        }
        if (required != 1) fail_msg("%s: %d address attributes (requiredOneOf)", where, required);
        n->objects++;
    }
}

/* [cryptocurrency-wallet:value = '...'] per the STIX 2.1 pattern grammar
 * (a comparison expression on one object path, a string literal in which
 * only \\ and \' are escapes); the unescaped value in out, or false. */
static bool stix_wallet_pattern(const char *p, char *out, size_t cap) {
    static const char HEAD[] = "[cryptocurrency-wallet:value";
    if (strncmp(p, HEAD, sizeof HEAD - 1) != 0) return false;
    p += sizeof HEAD - 1;
    while (*p == ' ')
        p++;
    if (*p++ != '=') return false;
    while (*p == ' ')
        p++;
    if (*p++ != '\'') return false;
    size_t n = 0;
    for (; *p && *p != '\''; p++) {
        if (*p == '\\') {
            p++;
            if (*p != '\\' && *p != '\'') return false; /* no other escape exists */
        }
        if (n + 1 >= cap) return false;
        out[n++] = *p;
    }
    if (*p++ != '\'') return false;
    out[n] = '\0';
    while (*p == ' ')
        p++;
    return p[0] == ']' && p[1] == '\0' && n > 0;
}

typedef struct stix_counts {
    size_t indicators, relationships, sets, patterns;
} stix_counts;

static bool known_property(const char *type, const char *k) {
    static const char *const COMMON[] = {"type",
                                         "spec_version",
                                         "id",
                                         "created",
                                         "modified",
                                         "created_by_ref",
                                         "revoked",
                                         "labels",
                                         "confidence",
                                         "lang",
                                         "external_references",
                                         "object_marking_refs",
                                         "granular_markings",
                                         "extensions",
                                         "name",
                                         "description",
                                         NULL};
    static const char *const INDICATOR[] = {"indicator_types",   "pattern",    "pattern_type",
                                            "pattern_version",   "valid_from", "valid_until",
                                            "kill_chain_phases", NULL};
    static const char *const REL[] = {"relationship_type", "source_ref", "target_ref",
                                      "start_time",        "stop_time",  NULL};
    static const char *const SET[] = {"aliases",
                                      "first_seen",
                                      "last_seen",
                                      "goals",
                                      "resource_level",
                                      "primary_motivation",
                                      "secondary_motivations",
                                      NULL};
    static const char *const AP[] = {"aliases", "kill_chain_phases", NULL};
    const char *const *lists[] = {COMMON, !strcmp(type, "indicator")        ? INDICATOR
                                          : !strcmp(type, "relationship")   ? REL
                                          : !strcmp(type, "intrusion-set")  ? SET
                                          : !strcmp(type, "attack-pattern") ? AP
                                                                            : NULL};
    for (size_t l = 0; l < 2; l++)
        for (size_t i = 0; lists[l] && lists[l][i]; i++)
            if (!strcmp(k, lists[l][i])) return true;
    return false;
}

static void check_stix(json_t *root, stix_counts *n) {
    memset(n, 0, sizeof *n);
    assert_string_equal(sget(root, "type"), "bundle");
    assert_true(matches("^bundle--" UUID_RE "$", sget(root, "id")));
    assert_null(json_object_get(root, "spec_version")); /* a 2.0 property, gone in 2.1 */
    json_t *objs = json_object_get(root, "objects");
    assert_true(json_array_size(objs) > 0);
    json_t *ids = json_object();
    size_t i;
    json_t *o;
    json_array_foreach(objs, i, o) {
        const char *id = sget(o, "id");
        assert_non_null(id);
        if (json_object_get(ids, id)) fail_msg("%s: id used twice", id);
        json_object_set_new(ids, id, json_string(sget(o, "type")));
    }
    json_array_foreach(objs, i, o) {
        const char *type = sget(o, "type"), *id = sget(o, "id");
        char re[128];
        assert_true(matches("^[a-z0-9-]{3,250}$", type));
        snprintf(re, sizeof re, "^%s--" UUID_RE "$", type);
        if (!matches(re, id)) fail_msg("%s: id is not %s--<UUID>", id, type);
        assert_string_equal(sget(o, "spec_version"), "2.1");
        const char *cr = sget(o, "created"), *mo = sget(o, "modified");
        if (!matches(TS_RE, cr) || !matches(TS_RE, mo)) fail_msg("%s: bad timestamps", id);
        assert_true(strcmp(mo, cr) >= 0);
        const char *k;
        json_t *v;
        json_object_foreach(o, k, v) {
            if (!known_property(type, k) && !matches("^[a-z0-9_]{3,250}$", k))
                fail_msg("%s: custom property '%s' breaks the naming rule", id, k);
        }
        json_t *c = json_object_get(o, "confidence");
        if (c && (!json_is_integer(c) || json_integer_value(c) < 0 || json_integer_value(c) > 100))
            fail_msg("%s: confidence out of 0..100", id);
        size_t j;
        json_t *ref;
        json_array_foreach(json_object_get(o, "external_references"), j,
                           ref) if (!sget(ref, "source_name"))
            fail_msg("%s: external reference without source_name", id);
        if (!strcmp(type, "indicator")) {
            n->indicators++;
            assert_string_equal(sget(o, "pattern_type"), "stix");
            assert_true(matches(TS_RE, sget(o, "valid_from")));
            char value[256];
            if (!stix_wallet_pattern(sget(o, "pattern"), value, sizeof value))
                fail_msg("%s: pattern '%s' is not [cryptocurrency-wallet:value = '...']", id,
                         sget(o, "pattern"));
            n->patterns++;
            json_t *t;
            json_array_foreach(json_object_get(o, "indicator_types"), j, t)
                assert_true(matches("^(anomalous-activity|anonymization|benign|compromised|"
                                    "malicious-activity|attribution|unknown)$",
                                    json_string_value(t)));
        } else if (!strcmp(type, "relationship")) {
            n->relationships++;
            const char *src = sget(o, "source_ref"), *dst = sget(o, "target_ref"),
                       *rt = sget(o, "relationship_type");
            assert_non_null(rt);
            if (!json_object_get(ids, src) || !json_object_get(ids, dst))
                fail_msg("%s: a ref points outside the bundle", id);
            if (!strcmp(rt, "indicates"))
                assert_string_equal(json_string_value(json_object_get(ids, src)), "indicator");
        } else if (!strcmp(type, "intrusion-set") || !strcmp(type, "attack-pattern")) {
            n->sets += !strcmp(type, "intrusion-set");
            assert_true(sget(o, "name") && *sget(o, "name"));
        }
    }
    json_decref(ids);
}

static void round_trip(ch_intel_format fmt) {
    char *d1 = tu_tmpdir(), *d2 = tu_tmpdir();
    ch_intel *src = open_store(d1);
    if (!build_source(src)) {
        ch_intel_close(src);
        tu_rmrf(d1);
        tu_rmrf(d2);
        free(d1);
        free(d2);
        skip();
    }
    char out[4200];
    snprintf(out, sizeof out, "%s/export.json", d1);
    ch_error err;
    int r = fmt == CH_FMT_STIX ? ch_intel_export_stix(src, out, &err)
                               : ch_intel_export_misp(src, out, &err);
    if (r < 0) fail_msg("%s", err.msg);
    /* the file is what it claims to be */
    json_t *root = json_load_file(out, 0, NULL);
    assert_non_null(root);
    if (fmt == CH_FMT_STIX) {
        stix_counts n;
        check_stix(root, &n);
        assert_int_equal(n.patterns, n.indicators);
    } else {
        misp_counts n;
        check_misp(root, &n);
        assert_true(n.btc > 0 && n.xmr > 0 && n.text > 0); /* every typing met */
    }
    if (fmt == CH_FMT_STIX) {
        assert_string_equal(json_string_value(json_object_get(root, "type")), "bundle");
        json_t *objs = json_object_get(root, "objects");
        size_t i, sets = 0, inds = 0, rels = 0;
        json_t *o;
        json_array_foreach(objs, i, o) {
            const char *t = json_string_value(json_object_get(o, "type"));
            sets += !strcmp(t, "intrusion-set");
            inds += !strcmp(t, "indicator");
            rels += !strcmp(t, "relationship");
        }
        assert_true(sets >= 2); /* Lazarus Group, TraderTraitor at least */
        assert_true(inds > 1000);
        assert_true(rels > 100);
    } else {
        assert_non_null(json_object_get(json_object_get(root, "Event"), "Object"));
    }
    json_decref(root);

    ch_intel *dst = open_store(d2);
    ch_import_opts o = {0};
    o.format = fmt;
    ch_import_stats st;
    if (ch_intel_import(dst, out, &o, &st, &err) < 0) fail_msg("%s", err.msg);
    assert_int_equal(st.rejected, 0);

    lines a = {0}, b = {0};
    assert_true(ch_intel_foreach(src, collect, &a, &err) > 0);
    assert_true(ch_intel_foreach(dst, collect, &b, &err) > 0);
    assert_int_equal(a.n, b.n);
    for (size_t i = 0; i < a.n; i++)
        if (strcmp(a.v[i], b.v[i]) != 0) fail_msg("differs:\n  %s\n  %s", a.v[i], b.v[i]);
    free_lines(&a);
    free_lines(&b);
    ch_intel_close(src);
    ch_intel_close(dst);
    tu_rmrf(d1);
    tu_rmrf(d2);
    free(d1);
    free(d2);
}

static void test_stix_round_trip(void **state) {
    (void)state;
    round_trip(CH_FMT_STIX);
}

static void test_misp_round_trip(void **state) {
    (void)state;
    round_trip(CH_FMT_MISP);
}

/* Without the fixtures: a store of hand-made lists in the real layouts
 * (the repository's small SDN XML files, a MISP event, a CSV with one
 * address of each typing), exported, each export held to its format's
 * rules, and each address typed by its chain. */
static void test_exports_pass_format_rules(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    ch_intel *db = open_store(dir);
    import_ok(db, "tests/data/intel/sdn_2022.xml", NULL);
    import_ok(db, "tests/data/intel/sdn_2023.xml", NULL);
    import_ok(db, "tests/data/intel/misp_event.json", NULL);
    char csv[4200];
    snprintf(csv, sizeof csv, "%s/chains.csv", dir);
    FILE *f = fopen(csv, "w");
    assert_non_null(f);
    /* one of each: BTC legacy and bech32, testnet, Monero, OFAC's hex XMR
     * value, Litecoin, Tron, an EVM address */
    fputs("address,asset,category,entity,source\n"
          "1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu,XBT,scam,E1,desk\n"
          "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4,BTC,scam,E2,desk\n"
          "tb1qcrh3yqn4nlleplcez2yndq2ry8h9ncg3qh7n54,BTC,scam,E3,desk\n"
          "49HqitRzdnhYjgTEAhgGpCfsjdTeMbUTU6cyR4JV1R7k2Eej9rGT8JpFiYDa4tZM6RZiFrHmMzgSrhHEqpDYKBe5"
          "B2ufNsL,XMR,sanctions,E4,desk\n"
          "5be5543ff73456ab9f2d207887e2af87322c651ea1a873c5b25b7ffae456c320,XMR,sanctions,E5,desk\n"
          "LNf2JDiuunBz7GMDKFYHN4rq5meXWxiwfb,LTC,mixer,E6,desk\n"
          "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre,USDT,sanctions,E7,desk\n"
          "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed,ETH,hacker,E8,desk\n",
          f);
    fclose(f);
    import_ok(db, csv, NULL);
    char out[4200];
    ch_error err;
    /* MISP */
    snprintf(out, sizeof out, "%s/x.misp.json", dir);
    if (ch_intel_export_misp(db, out, &err) < 0) fail_msg("%s", err.msg);
    json_t *root = json_load_file(out, 0, NULL);
    assert_non_null(root);
    misp_counts mn;
    check_misp(root, &mn);
    /* typed by chain: which relation each address went to */
    static const struct {
        const char *value, *rel, *symbol;
    } WANT[] = {
        {"1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu", "address", "BTC"},
        {"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "address", "BTC"},
        {"tb1qcrh3yqn4nlleplcez2yndq2ry8h9ncg3qh7n54", "address-crypto", "BTC"},
        {"49HqitRzdnhYjgTEAhgGpCfsjdTeMbUTU6cyR4JV1R7k2Eej9rGT8JpFiYDa4tZM6RZiFrHmMzgSrhHEqpDYKB"
         "e5B2ufNsL",
         "address-xmr", "XMR"},
        {"5be5543ff73456ab9f2d207887e2af87322c651ea1a873c5b25b7ffae456c320", "address-crypto",
         "XMR"},
        {"LNf2JDiuunBz7GMDKFYHN4rq5meXWxiwfb", "address-crypto", "LTC"},
        {"TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre", "address-crypto", "USDT"},
        {"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "address-crypto", "ETH"},
    };
    json_t *objs = json_object_get(json_object_get(root, "Event"), "Object");
    for (size_t w = 0; w < sizeof WANT / sizeof WANT[0]; w++) {
        bool found = false;
        size_t i, j;
        json_t *ob, *at;
        json_array_foreach(objs, i, ob) {
            const char *rel = NULL, *sym = NULL, *val = NULL;
            json_array_foreach(json_object_get(ob, "Attribute"), j, at) {
                if (!strcmp(sget(at, "object_relation"), "symbol"))
                    sym = sget(at, "value");
                else {
                    rel = sget(at, "object_relation");
                    val = sget(at, "value");
                }
            }
            if (!val || strcmp(val, WANT[w].value) != 0) continue;
            found = true;
            if (strcmp(rel, WANT[w].rel) != 0 || !sym || strcmp(sym, WANT[w].symbol) != 0)
                fail_msg("%s: relation %s symbol %s, want %s %s", val, rel, sym ? sym : "none",
                         WANT[w].rel, WANT[w].symbol);
        }
        if (!found) fail_msg("%s not exported", WANT[w].value);
    }
    json_decref(root);
    /* STIX */
    snprintf(out, sizeof out, "%s/x.stix.json", dir);
    if (ch_intel_export_stix(db, out, &err) < 0) fail_msg("%s", err.msg);
    root = json_load_file(out, 0, NULL);
    assert_non_null(root);
    stix_counts sn;
    check_stix(root, &sn);
    assert_true(sn.indicators >= 12);
    assert_int_equal(sn.patterns, sn.indicators);
    assert_true(sn.relationships > 0 && sn.sets > 0);
    char *text = json_dumps(root, 0);
    assert_non_null(strstr(
        text, "[cryptocurrency-wallet:value = '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed']"));
    free(text);
    json_decref(root);
    ch_intel_close(db);
    tu_rmrf(dir);
    free(dir);
}

/* The checkers themselves refuse what the rules forbid (so a pass means
 * something). */
static void test_checkers_refuse_bad_forms(void **state) {
    (void)state;
    char v[64];
    assert_true(stix_wallet_pattern("[cryptocurrency-wallet:value = 'a\\'b']", v, sizeof v));
    assert_string_equal(v, "a'b");
    assert_false(stix_wallet_pattern("[cryptocurrency-wallet:address = 'x']", v, sizeof v));
    assert_false(stix_wallet_pattern("[cryptocurrency-wallet:value = 'x'", v, sizeof v));
    assert_false(stix_wallet_pattern("[cryptocurrency-wallet:value = 'a\\nb']", v, sizeof v));
    assert_false(stix_wallet_pattern("[cryptocurrency-wallet:value = '']", v, sizeof v));
    assert_false(matches("^[13][1-9A-HJ-NP-Za-km-z]{25,34}$|^bc1[02-9ac-hj-np-z]{11,71}$",
                         "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"));
    assert_false(matches(TS_RE, "2024-01-01T00:00:00.000"));
    assert_false(matches("^" UUID_RE "$", "d0e6997e-78da-4815-c6a1-cfc1c1cb8a46"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exports_pass_format_rules),
        cmocka_unit_test(test_checkers_refuse_bad_forms),
        cmocka_unit_test(test_stix_round_trip),
        cmocka_unit_test(test_misp_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

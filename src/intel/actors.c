/* Threat actors: DPRK's groups as one family, their aliases and techniques.
 *
 * An alias is stored normalised (letters and digits, lowercase), so "HIDDEN
 * COBRA", "Hidden Cobra" and "hiddencobra" (a GraphSense actor id) are one
 * key. Sources disagree on where an alias belongs: MISP's Lazarus cluster
 * lists APT38, Andariel and BlueNoroff as synonyms, while ATT&CK keeps them
 * as groups of their own. Each alias therefore carries the rank of the source
 * that set it (built-in > ATT&CK > MISP > other) and a lower-ranked source
 * cannot move an alias away from the actor a higher-ranked one gave it. */
#include "intel/intel_internal.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

void intel_alias_norm(const char *s, char *out, size_t cap) {
    size_t n = 0;
    for (; s && *s && n + 1 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c)) out[n++] = (char)tolower(c);
    }
    if (cap) out[n] = '\0';
}

/* ---- the built-in family ----
 * Names, ATT&CK ids and aliases as MITRE ATT&CK Enterprise v18.1 lists them
 * (the fixture bundle mitre-attack-dprk-groups.stix21.json); TraderTraitor is
 * the FBI's name (PSA I-022625-PSA), not an ATT&CK group. */
typedef struct builtin_actor {
    const char *name, *attack_id, *description;
    const char *aliases[10];
} builtin_actor;

static const builtin_actor BUILTIN[] = {
    {"Lazarus Group",
     "G0032",
     "North Korean state-sponsored group attributed to the Reconnaissance General Bureau; the "
     "umbrella name for DPRK's cryptocurrency theft.",
     {"HIDDEN COBRA", "Labyrinth Chollima", "ZINC", "Diamond Sleet", "Guardians of Peace",
      "NICKEL ACADEMY", "LAZARUS GROUP"}},
    {"APT38",
     "G0082",
     "North Korean state-sponsored group specialising in financial cyber operations.",
     {"BlueNoroff", "Stardust Chollima", "BeagleBoyz", "NICKEL GLADSTONE", "Sapphire Sleet",
      "COPERNICIUM"}},
    {"AppleJeus",
     "G1049",
     "North Korean state-sponsored group known for trojanised cryptocurrency trading software.",
     {"Citrine Sleet", "Gleaming Pisces", "UNC1720", "UNC4736"}},
    {"Andariel",
     "G0138",
     "North Korean state-sponsored group.",
     {"Silent Chollima", "PLUTONIUM", "Onyx Sleet"}},
    {"Kimsuky",
     "G0094",
     "North Korea-based cyber espionage group.",
     {"Velvet Chollima", "Black Banshee", "Emerald Sleet", "THALLIUM", "APT43", "TA427",
      "Springtail"}},
    {"TraderTraitor",
     "",
     "The FBI's name for the DPRK cluster behind the Bybit theft of 2025-02-21 (FBI PSA "
     "I-022625-PSA).",
     {"Jade Sleet", "UNC4899"}},
    {"Contagious Interview", "G1052", "North Korea-aligned threat group active since 2023.", {0}},
};

static const char *rank_source(int rank) {
    switch (rank) {
    case ALIAS_RANK_BUILTIN:
        return "built-in";
    case ALIAS_RANK_ATTACK:
        return "MITRE ATT&CK";
    case ALIAS_RANK_MISP:
        return "MISP galaxy";
    default:
        return "import";
    }
}

/* ---- actor records: country, attack_id, source, description, each as a
 * 2-byte length and bytes ---- */

static size_t put_str(uint8_t *buf, size_t n, size_t cap, const char *s) {
    size_t l = strlen(s);
    if (n + 2 + l > cap) return 0;
    buf[n] = (uint8_t)(l & 0xff);
    buf[n + 1] = (uint8_t)(l >> 8);
    memcpy(buf + n + 2, s, l);
    return n + 2 + l;
}

static size_t get_str(const uint8_t *p, size_t n, size_t len, char *out, size_t cap) {
    if (n + 2 > len) return 0;
    size_t l = (size_t)p[n] | (size_t)p[n + 1] << 8;
    if (n + 2 + l > len) return 0;
    size_t c = l < cap - 1 ? l : cap - 1;
    memcpy(out, p + n + 2, c);
    out[c] = '\0';
    return n + 2 + l;
}

int intel_actor_put(ch_intel *db, MDB_txn *txn, const ch_actor *a, ch_error *err) {
    uint8_t buf[1024];
    size_t n = 0;
    if (!(n = put_str(buf, n, sizeof buf, a->country)) ||
        !(n = put_str(buf, n, sizeof buf, a->attack_id)) ||
        !(n = put_str(buf, n, sizeof buf, a->source)) ||
        !(n = put_str(buf, n, sizeof buf, a->description)))
        return ch_err(err, "actor record too long: %s", a->name);
    MDB_val k = {strlen(a->name), (void *)a->name}, v = {n, buf};
    if (k.mv_size == 0) return ch_err(err, "actor without a name");
    int rc = mdb_put(txn, db->actor, &k, &v, 0);
    return rc ? intel_lmdb_err(err, "write actor", rc) : 0;
}

int intel_actor_get(ch_intel *db, MDB_txn *txn, const char *name, ch_actor *out) {
    MDB_val k = {strlen(name), (void *)name}, v;
    if (!k.mv_size || mdb_get(txn, db->actor, &k, &v) != 0) return 0;
    memset(out, 0, sizeof *out);
    intel_copy(out->name, sizeof out->name, name);
    const uint8_t *p = v.mv_data;
    size_t n = 0;
    if (!(n = get_str(p, n, v.mv_size, out->country, sizeof out->country)) ||
        !(n = get_str(p, n, v.mv_size, out->attack_id, sizeof out->attack_id)) ||
        !(n = get_str(p, n, v.mv_size, out->source, sizeof out->source)) ||
        !(n = get_str(p, n, v.mv_size, out->description, sizeof out->description)))
        return 0;
    return 1;
}

/* ---- aliases: value = rank byte, actor NUL, alias as written NUL ---- */

int intel_alias_put(ch_intel *db, MDB_txn *txn, const char *alias, const char *actor, int rank,
                    ch_error *err) {
    char key[128];
    intel_alias_norm(alias, key, sizeof key);
    if (!key[0]) return 0;
    MDB_val k = {strlen(key), key}, v;
    if (mdb_get(txn, db->alias, &k, &v) == 0 && v.mv_size > 1) {
        int old_rank = ((const uint8_t *)v.mv_data)[0];
        const char *old_actor = (const char *)v.mv_data + 1;
        bool same = strnlen(old_actor, v.mv_size - 1) == strlen(actor) &&
                    memcmp(old_actor, actor, strlen(actor)) == 0;
        if (same && old_rank >= rank) return 0; /* nothing to learn */
        if (!same && old_rank > rank) return 0; /* a better source placed it */
    }
    uint8_t buf[300];
    size_t al = strlen(actor), wl = strlen(alias);
    if (al > 120) al = 120;
    if (wl > 120) wl = 120;
    buf[0] = (uint8_t)rank;
    memcpy(buf + 1, actor, al);
    buf[1 + al] = 0;
    memcpy(buf + 2 + al, alias, wl);
    buf[2 + al + wl] = 0;
    MDB_val nv = {3 + al + wl, buf};
    int rc = mdb_put(txn, db->alias, &k, &nv, 0);
    return rc ? intel_lmdb_err(err, "write alias", rc) : 1;
}

int intel_technique_put(ch_intel *db, MDB_txn *txn, const char *actor, const char *tid,
                        const char *name, ch_error *err) {
    char key[200];
    size_t al = strlen(actor), tl = strlen(tid);
    if (!al || !tl || al + tl + 1 > sizeof key) return 0;
    memcpy(key, actor, al);
    key[al] = 0;
    memcpy(key + al + 1, tid, tl);
    MDB_val k = {al + 1 + tl, key}, v = {strlen(name), (void *)name};
    int rc = mdb_put(txn, db->tech, &k, &v, 0);
    return rc ? intel_lmdb_err(err, "write technique", rc) : 0;
}

int intel_actors_seed(ch_intel *db, MDB_txn *txn, ch_error *err) {
    for (size_t i = 0; i < sizeof BUILTIN / sizeof BUILTIN[0]; i++) {
        const builtin_actor *b = &BUILTIN[i];
        ch_actor a = {0};
        intel_copy(a.name, sizeof a.name, b->name);
        intel_copy(a.country, sizeof a.country, "DPRK");
        intel_copy(a.attack_id, sizeof a.attack_id, b->attack_id);
        intel_copy(a.source, sizeof a.source, "built-in");
        intel_copy(a.description, sizeof a.description, b->description);
        if (intel_actor_put(db, txn, &a, err) < 0) return -1;
        if (intel_alias_put(db, txn, b->name, b->name, ALIAS_RANK_BUILTIN, err) < 0) return -1;
        if (b->attack_id[0] &&
            intel_alias_put(db, txn, b->attack_id, b->name, ALIAS_RANK_BUILTIN, err) < 0)
            return -1;
        for (int j = 0; j < 10 && b->aliases[j]; j++)
            if (intel_alias_put(db, txn, b->aliases[j], b->name, ALIAS_RANK_BUILTIN, err) < 0)
                return -1;
    }
    return 0;
}

/* ---- resolution ---- */

static int resolve_one(ch_intel *db, MDB_txn *txn, const char *s, size_t n, ch_actor *out) {
    char tmp[256], key[128];
    if (n >= sizeof tmp) n = sizeof tmp - 1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    intel_alias_norm(tmp, key, sizeof key);
    if (!key[0]) return 0;
    MDB_val k = {strlen(key), key}, v;
    if (mdb_get(txn, db->alias, &k, &v) != 0 || v.mv_size < 2) return 0;
    const char *actor = (const char *)v.mv_data + 1;
    char name[128];
    intel_copy(name, sizeof name, actor);
    if (intel_actor_get(db, txn, name, out)) return 1;
    /* An alias without an actor record (should not happen): name only. */
    memset(out, 0, sizeof *out);
    intel_copy(out->name, sizeof out->name, name);
    return 1;
}

int intel_actor_resolve_exact(ch_intel *db, MDB_txn *txn, const char *text, ch_actor *out) {
    return text && *text ? resolve_one(db, txn, text, strlen(text), out) : 0;
}

/* Free text: the whole string, then each part between separators
 * ("Lazarus Group / APT38 (DPRK) per FBI 2022-04-14"), in order. */
int intel_actor_resolve_txn(ch_intel *db, MDB_txn *txn, const char *text, ch_actor *out) {
    if (!text || !*text) return 0;
    if (resolve_one(db, txn, text, strlen(text), out)) return 1;
    const char *p = text;
    while (*p) {
        size_t n = strcspn(p, "/(),;|&:");
        /* cut a part at " per " / " and " too */
        const char *cut = NULL;
        for (const char *q = p; q < p + n; q++) {
            if (!strncasecmp(q, " per ", 5) || !strncasecmp(q, " and ", 5)) {
                cut = q;
                break;
            }
        }
        size_t m = cut ? (size_t)(cut - p) : n;
        if (m && resolve_one(db, txn, p, m, out)) return 1;
        p += cut ? m + 5 : n;
        if (!cut && *p) p++;
    }
    return 0;
}

int ch_intel_actor_resolve(ch_intel *db, const char *name, ch_actor *out, ch_error *err) {
    MDB_txn *txn;
    int rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn);
    if (rc) return intel_lmdb_err(err, "begin read", rc);
    int found = intel_actor_resolve_txn(db, txn, name, out);
    mdb_txn_abort(txn);
    return found;
}

int ch_intel_actor_aliases(ch_intel *db, const char *actor,
                           int (*fn)(const char *alias, const char *source, void *ctx), void *ctx,
                           ch_error *err) {
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn);
    if (rc) return intel_lmdb_err(err, "begin read", rc);
    if ((rc = mdb_cursor_open(txn, db->alias, &cur)) != 0) {
        mdb_txn_abort(txn);
        return intel_lmdb_err(err, "cursor", rc);
    }
    MDB_val k, v;
    int count = 0;
    size_t al = strlen(actor);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const char *p = v.mv_data;
        if (v.mv_size < al + 3 || memcmp(p + 1, actor, al) != 0 || p[1 + al] != 0) continue;
        char written[128];
        intel_copy(written, sizeof written, p + 2 + al);
        count++;
        if (fn && fn(written, rank_source((uint8_t)p[0]), ctx)) break;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return count;
}

int ch_intel_actor_techniques(ch_intel *db, const char *actor,
                              int (*fn)(const char *tid, const char *name, void *ctx), void *ctx,
                              ch_error *err) {
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn);
    if (rc) return intel_lmdb_err(err, "begin read", rc);
    if ((rc = mdb_cursor_open(txn, db->tech, &cur)) != 0) {
        mdb_txn_abort(txn);
        return intel_lmdb_err(err, "cursor", rc);
    }
    char prefix[128];
    size_t pl = strlen(actor) + 1;
    if (pl > sizeof prefix) pl = sizeof prefix;
    memcpy(prefix, actor, pl - 1);
    prefix[pl - 1] = 0;
    MDB_val k = {pl, prefix}, v;
    int count = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size <= pl || memcmp(k.mv_data, prefix, pl) != 0) break;
        char tid[64], name[256];
        size_t tl = k.mv_size - pl < sizeof tid - 1 ? k.mv_size - pl : sizeof tid - 1;
        memcpy(tid, (const char *)k.mv_data + pl, tl);
        tid[tl] = '\0';
        size_t nl = v.mv_size < sizeof name - 1 ? v.mv_size : sizeof name - 1;
        memcpy(name, v.mv_data, nl);
        name[nl] = '\0';
        count++;
        if (fn && fn(tid, name, ctx)) break;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return count;
}

int ch_intel_actors_foreach(ch_intel *db, int (*fn)(const ch_actor *a, void *ctx), void *ctx,
                            ch_error *err) {
    MDB_txn *txn;
    MDB_cursor *cur;
    int rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn);
    if (rc) return intel_lmdb_err(err, "begin read", rc);
    if ((rc = mdb_cursor_open(txn, db->actor, &cur)) != 0) {
        mdb_txn_abort(txn);
        return intel_lmdb_err(err, "cursor", rc);
    }
    MDB_val k, v;
    int count = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        char name[64];
        size_t nl = k.mv_size < sizeof name - 1 ? k.mv_size : sizeof name - 1;
        memcpy(name, k.mv_data, nl);
        name[nl] = '\0';
        ch_actor a;
        if (!intel_actor_get(db, txn, name, &a)) continue;
        count++;
        if (fn && fn(&a, ctx)) break;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return count;
}

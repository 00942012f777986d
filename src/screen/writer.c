/* Writing a screening set (format in screen.h).
 *
 * Attributions are collected in memory: each distinct string once, each
 * distinct attribution (all fields but the address) once, each address once,
 * and one (address, attribution) pair per add. finish() sorts the pairs,
 * folds each address's attributions into an attribution set (each distinct
 * set once), builds the bucket index under a seed for which no listed key
 * can shadow another (reseeding otherwise), and streams the file out while
 * hashing it, then renames it into place. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coinhound/hash.h"
#include "coinhound/screen.h"
#include "screen/format.h"
#include "util/vec.h"

/* Fixed, so that the same input gives the same file. */
#define DEFAULT_SEED 0x636f696e686f756eULL /* "coinhoun" */

typedef struct addr_entry {
    uint64_t key_off; /* into keys */
    uint64_t hash;    /* ch_screen_hash(key, seed) */
    uint16_t len;
} addr_entry;

/* Open-addressing table of (index + 1), power-of-two capacity. */
typedef struct idx_table {
    uint32_t *slot;
    size_t cap, used;
} idx_table;

struct ch_screen_writer {
    uint64_t seed;
    char *strs; /* interned strings, NUL-terminated; offset 0 is "" */
    size_t strs_len, strs_cap;
    idx_table str_tab; /* entries: string offset + 1 */
    uint8_t *attrs;    /* SCR_ATTR_BYTES each */
    size_t n_attrs, attrs_cap;
    idx_table attr_tab;
    char *keys;
    size_t keys_len, keys_cap;
    addr_entry *addrs;
    size_t n_addrs, addrs_cap;
    idx_table addr_tab;
    uint64_t *pairs; /* address << 32 | attribution */
    size_t n_pairs, pairs_cap;
    bool oom;
    bool folded_keys;           /* SCR_FLAG_FOLDED_KEYS */
    unsigned test_collide_bits; /* scr_writer_test_collide_bits */
    uint32_t version;           /* format written: CH_SCREEN_VERSION unless set */
};

int ch_screen_set_writer_set_version(ch_screen_writer *w, uint32_t version, ch_error *err) {
    if (version < SCR_VERSION_OLDEST || version > CH_SCREEN_VERSION)
        return ch_err(err, "screening set format version %u cannot be written (only %d to %d)",
                      version, SCR_VERSION_OLDEST, CH_SCREEN_VERSION);
    w->version = version;
    return 0;
}

void scr_writer_test_collide_bits(struct ch_screen_writer *w, unsigned bits) {
    w->test_collide_bits = bits > 64 ? 64 : bits;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    void *q = ch_grow(*p, cap, need, elem); /* util/vec.h: sizes checked */
    if (!q) return -1;
    *p = q;
    return 0;
}

ch_screen_writer *ch_screen_set_writer_new(void) {
    ch_screen_writer *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->seed = DEFAULT_SEED;
    w->version = CH_SCREEN_VERSION;
    if (grow((void **)&w->strs, &w->strs_cap, 4096, 1) != 0) {
        free(w);
        return NULL;
    }
    w->strs[0] = '\0';
    w->strs_len = 1;
    return w;
}

void ch_screen_set_writer_free(ch_screen_writer *w) {
    if (!w) return;
    free(w->strs);
    free(w->str_tab.slot);
    free(w->attrs);
    free(w->attr_tab.slot);
    free(w->keys);
    free(w->addrs);
    free(w->addr_tab.slot);
    free(w->pairs);
    free(w);
}

uint64_t ch_screen_set_writer_count(const ch_screen_writer *w) {
    return w->n_addrs;
}

/* ---- the three intern tables --------------------------------------------- */

typedef uint64_t (*hash_of_fn)(const ch_screen_writer *w, uint32_t idx);

static uint64_t str_hash_of(const ch_screen_writer *w, uint32_t off) {
    const char *s = w->strs + off;
    return ch_screen_hash(s, strlen(s), 0);
}
static uint64_t attr_hash_of(const ch_screen_writer *w, uint32_t i) {
    return ch_screen_hash(w->attrs + (size_t)i * SCR_ATTR_BYTES, SCR_ATTR_BYTES, 0);
}
static uint64_t addr_hash_of(const ch_screen_writer *w, uint32_t i) {
    return w->addrs[i].hash;
}

/* Keep the table at most half full. */
static int table_reserve(ch_screen_writer *w, idx_table *t, hash_of_fn hf) {
    if ((t->used + 1) * 2 <= t->cap) return 0;
    size_t cap = t->cap ? t->cap * 2 : 1024;
    uint32_t *slot = calloc(cap, sizeof *slot);
    if (!slot) return -1;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slot[i]) continue;
        size_t j = hf(w, t->slot[i] - 1) & (cap - 1);
        while (slot[j])
            j = (j + 1) & (cap - 1);
        slot[j] = t->slot[i];
    }
    free(t->slot);
    t->slot = slot;
    t->cap = cap;
    return 0;
}

static int intern_str(ch_screen_writer *w, const char *s, size_t max, uint32_t *out) {
    size_t n = strnlen(s, max);
    if (n == 0) {
        *out = 0;
        return 0;
    }
    if (table_reserve(w, &w->str_tab, str_hash_of) != 0) return -1;
    uint64_t h = ch_screen_hash(s, n, 0);
    size_t j = h & (w->str_tab.cap - 1);
    for (; w->str_tab.slot[j]; j = (j + 1) & (w->str_tab.cap - 1)) {
        const char *t = w->strs + w->str_tab.slot[j] - 1;
        if (!strncmp(t, s, n) && t[n] == '\0') {
            *out = w->str_tab.slot[j] - 1;
            return 0;
        }
    }
    if (w->strs_len + n + 1 >= 0xffffffffULL) return -1;
    if (grow((void **)&w->strs, &w->strs_cap, w->strs_len + n + 1, 1) != 0) return -1;
    memcpy(w->strs + w->strs_len, s, n);
    w->strs[w->strs_len + n] = '\0';
    *out = (uint32_t)w->strs_len;
    w->str_tab.slot[j] = (uint32_t)w->strs_len + 1;
    w->str_tab.used++;
    w->strs_len += n + 1;
    return 0;
}

#define FIELD(f) a->f, sizeof a->f

/* One attribution as a fixed-size record whose strings go to the string pool
 * once each (equal strings shared); *out its number. */
static int intern_attr(ch_screen_writer *w, const ch_attribution *a, uint32_t *out) {
    uint8_t rec[SCR_ATTR_BYTES];
    const struct {
        const char *s;
        size_t max;
    } F[SCR_ATTR_STRINGS] = {
        [A_ASSET] = {FIELD(asset)},
        [A_ENTITY] = {FIELD(entity)},
        [A_ACTOR] = {FIELD(actor)},
        [A_ACTOR_COUNTRY] = {FIELD(actor_country)},
        [A_CATEGORY] = {FIELD(category)},
        [A_SOURCE_NAME] = {FIELD(source_name)},
        [A_SOURCE_URL] = {FIELD(source_url)},
        [A_SOURCE_DATE] = {FIELD(source_date)},
        [A_FIRST_LISTED] = {FIELD(first_listed)},
        [A_LAST_LISTED] = {FIELD(last_listed)},
        [A_DELISTED_DATE] = {FIELD(delisted_date)},
        [A_NOTE] = {FIELD(note)},
    };
    memset(rec, 0, sizeof rec);
    for (int k = 0; k < SCR_ATTR_STRINGS; k++) {
        uint32_t off;
        if (intern_str(w, F[k].s, F[k].max, &off) != 0) return -1;
        scr_put32(rec + 4 * k, off);
    }
    rec[A_CONFIDENCE_AT] = a->confidence > 100 ? 100 : a->confidence;
    rec[A_FLAGS_AT] = a->delisted ? A_FLAG_DELISTED : 0;

    if (table_reserve(w, &w->attr_tab, attr_hash_of) != 0) return -1;
    uint64_t h = ch_screen_hash(rec, sizeof rec, 0);
    size_t j = h & (w->attr_tab.cap - 1);
    for (; w->attr_tab.slot[j]; j = (j + 1) & (w->attr_tab.cap - 1)) {
        uint32_t i = w->attr_tab.slot[j] - 1;
        if (!memcmp(w->attrs + (size_t)i * SCR_ATTR_BYTES, rec, sizeof rec)) {
            *out = i;
            return 0;
        }
    }
    if (w->n_attrs >= 0xfffffffeULL) return -1;
    if (grow((void **)&w->attrs, &w->attrs_cap, w->n_attrs + 1, SCR_ATTR_BYTES) != 0) return -1;
    memcpy(w->attrs + w->n_attrs * SCR_ATTR_BYTES, rec, sizeof rec);
    *out = (uint32_t)w->n_attrs;
    w->attr_tab.slot[j] = (uint32_t)w->n_attrs + 1;
    w->attr_tab.used++;
    w->n_attrs++;
    return 0;
}

static int intern_addr(ch_screen_writer *w, const char *key, size_t n, uint32_t *out) {
    if (table_reserve(w, &w->addr_tab, addr_hash_of) != 0) return -1;
    uint64_t h = ch_screen_hash(key, n, w->seed);
    size_t j = h & (w->addr_tab.cap - 1);
    for (; w->addr_tab.slot[j]; j = (j + 1) & (w->addr_tab.cap - 1)) {
        const addr_entry *e = &w->addrs[w->addr_tab.slot[j] - 1];
        if (e->hash == h && e->len == n && !memcmp(w->keys + e->key_off, key, n)) {
            *out = w->addr_tab.slot[j] - 1;
            return 0;
        }
    }
    if (w->n_addrs >= 0xfffffffeULL) return -1;
    if (grow((void **)&w->keys, &w->keys_cap, w->keys_len + n + 1, 1) != 0 ||
        grow((void **)&w->addrs, &w->addrs_cap, w->n_addrs + 1, sizeof *w->addrs) != 0)
        return -1;
    memcpy(w->keys + w->keys_len, key, n);
    w->keys[w->keys_len + n] = '\0';
    w->addrs[w->n_addrs] = (addr_entry){w->keys_len, h, (uint16_t)n};
    w->keys_len += n + 1;
    *out = (uint32_t)w->n_addrs;
    w->addr_tab.slot[j] = (uint32_t)w->n_addrs + 1;
    w->addr_tab.used++;
    w->n_addrs++;
    return 0;
}

/* add_key; `parses` when the caller knows that ch_chainaddr_parse(key,
 * CH_FAM_UNKNOWN) accepts key (it made that very parse), so that the
 * folded-keys test need not make it again. */
static int add_key(ch_screen_writer *w, const char *key, const ch_attribution *a, bool parses,
                   ch_error *err) {
    size_t n = strnlen(key, CH_ADDR_STR_MAX);
    uint32_t ai, ki;
    if (n == 0 || n >= CH_ADDR_STR_MAX)
        return ch_err(err, "key of %zu bytes (must be 1..%d)", n, CH_ADDR_STR_MAX - 1);
    if (intern_attr(w, a, &ai) != 0 || intern_addr(w, key, n, &ki) != 0 ||
        grow((void **)&w->pairs, &w->pairs_cap, w->n_pairs + 1, sizeof *w->pairs) != 0) {
        w->oom = true;
        return ch_err(err, "out of memory (or more than 4G entries) building the screening set");
    }
    w->pairs[w->n_pairs++] = (uint64_t)ki << 32 | ai;
    /* A lower-case key that is no valid address may be a Base58 address a
     * source listed with its letter case lost: readers then also look up
     * the lower-cased form of what they are asked (a set without such keys
     * spares them that second lookup). A key known to parse is no such key
     * (tests/test_screen_folded_flag.c holds the flag to the rule). */
    if (!w->folded_keys && !parses) {
        bool upper = false;
        for (size_t i = 0; i < n && !upper; i++)
            upper = key[i] >= 'A' && key[i] <= 'Z';
        ch_chainaddr c;
        if (!upper && ch_chainaddr_parse(key, CH_FAM_UNKNOWN, &c, NULL) != 0) w->folded_keys = true;
    }
    return 0;
}

int ch_screen_set_writer_add_key(ch_screen_writer *w, const char *key, const ch_attribution *a,
                                 ch_error *err) {
    /* the attribution store's mark, for the very string it was made for */
    return add_key(w, key, a, a->address_checked && !strcmp(key, a->address), err);
}

int ch_screen_set_writer_add(ch_screen_writer *w, const ch_attribution *a, ch_error *err) {
    ch_chainaddr c;
    ch_family hint = ch_family_from_asset(a->asset);
    if (ch_chainaddr_parse(a->address, hint, &c, err) != 0)
        return ch_err_prefix(err, "%.128s", a->address);
    /* parsed without a hint and canonical as given: the folded-keys test's
     * parse is the one just made (the parse is pure) */
    return add_key(w, c.canonical, a, hint == CH_FAM_UNKNOWN && !strcmp(a->address, c.canonical),
                   err);
}

/* ---- finish ------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct out_file {
    FILE *f;
    ch_sha256_ctx sha;
    bool failed;
} out_file;

static void emit(out_file *o, const void *p, size_t n) {
    if (n == 0) return;
    ch_sha256_update(&o->sha, p, n);
    if (fwrite(p, 1, n, o->f) != n) o->failed = true;
}

/* The attribution sets: each address's sorted, distinct attribution list,
 * each distinct list stored once as {count, first} over one index array. */
typedef struct set_builder {
    uint32_t *count, *first; /* per set */
    size_t n, count_cap, first_cap;
    uint32_t *idx; /* the index array */
    size_t n_idx, idx_cap;
    uint32_t *tab; /* open addressing: set + 1 */
    size_t tab_cap;
} set_builder;

static uint64_t list_hash(const uint32_t *v, size_t n) {
    return ch_screen_hash(v, n * sizeof *v, 0x5e75); /* host order: in memory only */
}

static int set_table_grow(set_builder *b) {
    size_t cap = b->tab_cap ? b->tab_cap * 2 : 1024;
    uint32_t *tab = calloc(cap, sizeof *tab);
    if (!tab) return -1;
    for (size_t i = 0; i < b->n; i++) {
        size_t j = list_hash(b->idx + b->first[i], b->count[i]) & (cap - 1);
        while (tab[j])
            j = (j + 1) & (cap - 1);
        tab[j] = (uint32_t)i + 1;
    }
    free(b->tab);
    b->tab = tab;
    b->tab_cap = cap;
    return 0;
}

/* The set of list v[0..n), added if new: its index, or -1 (out of memory). */
static int64_t set_intern(set_builder *b, const uint32_t *v, size_t n) {
    if ((b->n + 1) * 2 > b->tab_cap && set_table_grow(b) != 0) return -1;
    size_t j = list_hash(v, n) & (b->tab_cap - 1);
    for (; b->tab[j]; j = (j + 1) & (b->tab_cap - 1)) {
        uint32_t s = b->tab[j] - 1;
        if (b->count[s] == n && !memcmp(b->idx + b->first[s], v, n * sizeof *v)) return s;
    }
    if (b->n_idx + n > 0xffffffffULL || b->n >= 0xfffffffeULL) return -1;
    if (grow((void **)&b->count, &b->count_cap, b->n + 1, sizeof *b->count) != 0 ||
        grow((void **)&b->first, &b->first_cap, b->n + 1, sizeof *b->first) != 0 ||
        grow((void **)&b->idx, &b->idx_cap, b->n_idx + n, sizeof *b->idx) != 0)
        return -1;
    memcpy(b->idx + b->n_idx, v, n * sizeof *v);
    b->count[b->n] = (uint32_t)n;
    b->first[b->n] = (uint32_t)b->n_idx;
    b->n_idx += n;
    b->tab[j] = (uint32_t)b->n + 1;
    return (int64_t)b->n++;
}

static void set_builder_free(set_builder *b) {
    free(b->count);
    free(b->first);
    free(b->idx);
    free(b->tab);
}

static inline bool slot_full(const uint8_t *bucket, int k) {
    return scr_le32(bucket + SCR_SLOT_BYTES * k + SLOT_SET_AT) != 0;
}

static void slot_put(uint8_t *bucket, int k, scr_fp fp, uint32_t set_plus_1) {
    uint8_t *s = bucket + SCR_SLOT_BYTES * k;
    scr_put64(s + SLOT_FP64_AT, fp.h2);
    scr_put32(s + SLOT_FP32_AT, (uint32_t)(fp.h1 >> 32));
    scr_put32(s + SLOT_SET_AT, set_plus_1);
}

/* Do slot s and fingerprint fp collide (under the test hook, on fewer bits)? */
static bool collides(const uint8_t *s, scr_fp fp, unsigned test_bits) {
    uint64_t a = scr_le64(s + SLOT_FP64_AT);
    if (test_bits) {
        uint64_t mask = test_bits >= 64 ? ~0ULL : (1ULL << test_bits) - 1;
        return ((a ^ fp.h2) & mask) == 0;
    }
    return a == fp.h2 && scr_le32(s + SLOT_FP32_AT) == (uint32_t)(fp.h1 >> 32);
}

/* Build the index under fps[]: every key into its home bucket when it has
 * room (first pass, so no overflowing key takes a home slot from a key that
 * lives there), the rest into the next bucket with room. Then check what a
 * lookup would see: scanning from each key's home to its own slot, no other
 * key's fingerprint may match (else that key would answer for this one).
 * 0 placed and sound, 1 a collision (try another seed). */
static int build_index(uint8_t *buckets, uint64_t nb, uint64_t n, const scr_fp *fps,
                       const uint32_t *set_of, uint64_t *pos, uint64_t *in_home,
                       unsigned test_bits) {
    memset(buckets, 0, nb * SCR_BUCKET_BYTES);
    uint64_t home = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint8_t *bucket = buckets + scr_bucket_of(fps[i].h1, nb) * SCR_BUCKET_BYTES;
        pos[i] = UINT64_MAX;
        for (int k = 0; k < SCR_SLOTS; k++)
            if (!slot_full(bucket, k)) {
                slot_put(bucket, k, fps[i], set_of[i] + 1);
                pos[i] = scr_bucket_of(fps[i].h1, nb) * SCR_SLOTS + (uint64_t)k;
                home++;
                break;
            }
    }
    for (uint64_t i = 0; i < n; i++) {
        if (pos[i] != UINT64_MAX) continue;
        uint64_t b = scr_bucket_of(fps[i].h1, nb);
        for (;;) { /* terminates: there are more slots than keys */
            b = (b + 1 == nb) ? 0 : b + 1;
            uint8_t *bucket = buckets + b * SCR_BUCKET_BYTES;
            int k = 0;
            while (k < SCR_SLOTS && slot_full(bucket, k))
                k++;
            if (k < SCR_SLOTS) {
                slot_put(bucket, k, fps[i], set_of[i] + 1);
                pos[i] = b * SCR_SLOTS + (uint64_t)k;
                break;
            }
        }
    }
    *in_home = home;
    uint64_t total = nb * SCR_SLOTS;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t p = scr_bucket_of(fps[i].h1, nb) * SCR_SLOTS;
        for (; p != pos[i]; p = (p + 1 == total) ? 0 : p + 1)
            if (collides(buckets + p * SCR_SLOT_BYTES, fps[i], test_bits)) return 1;
    }
    return 0;
}

/* Sort the (address, attribution) pairs and drop repeats, so each
 * address's attributions come out as one sorted, distinct list. */
static void pairs_sort_unique(ch_screen_writer *w) {
    if (w->n_pairs > 1) qsort(w->pairs, w->n_pairs, sizeof *w->pairs, cmp_u64);
    size_t np = 0;
    for (size_t i = 0; i < w->n_pairs; i++)
        if (np == 0 || w->pairs[i] != w->pairs[np - 1]) w->pairs[np++] = w->pairs[i];
    w->n_pairs = np;
}

/* Each address's attribution set into set_of[] (pairs sorted: its list is
 * sorted and distinct, so equal sets give equal lists and are stored once);
 * list is scratch room for n_attrs entries. 0, or -1 out of memory. */
static int intern_sets(const ch_screen_writer *w, set_builder *sb, uint32_t *list,
                       uint32_t *set_of) {
    for (size_t i = 0, p = 0; i < w->n_addrs; i++) {
        size_t m = 0;
        while (p < w->n_pairs && (w->pairs[p] >> 32) == i)
            list[m++] = (uint32_t)(w->pairs[p++] & 0xffffffffULL);
        int64_t s = set_intern(sb, list, m);
        if (s < 0) return -1;
        set_of[i] = (uint32_t)s;
    }
    return 0;
}

/* The index, under the first seed from w->seed on that leaves no two listed
 * keys answering for each other (build_index). 0 with *seed and *in_home
 * set, or -1 after SCR_MAX_SEEDS tries. */
static int index_under_a_seed(const ch_screen_writer *w, uint8_t *buckets, uint64_t nb, scr_fp *fps,
                              const uint32_t *set_of, uint64_t *pos, uint64_t *seed,
                              uint64_t *in_home, ch_error *err) {
    uint64_t n = w->n_addrs, sd = w->seed;
    for (int attempt = 0; attempt < SCR_MAX_SEEDS; attempt++) {
        for (uint64_t i = 0; i < n; i++)
            fps[i] =
                scr_fingerprint_of(w->version, w->keys + w->addrs[i].key_off, w->addrs[i].len, sd);
        if (build_index(buckets, nb, n, fps, set_of, pos, in_home, w->test_collide_bits) == 0) {
            *seed = sd;
            return 0;
        }
        sd += 0x9e3779b97f4a7c15ULL; /* the next candidate */
    }
    return ch_err(err,
                  "no collision-free hash seed after %d tries: %llu addresses keep sharing "
                  "fingerprints",
                  SCR_MAX_SEEDS, (unsigned long long)n);
}

/* Where each section goes (docs/screening-set.md): hot first (index, sets),
 * then what a hit's attributions read, then the records that only export
 * and iteration read, then the strings. */
typedef struct set_layout {
    uint64_t bo, bs;     /* buckets */
    uint64_t seto, sets; /* attribution sets */
    uint64_t xo, xs;     /* the sets' index array */
    uint64_t ao, as;     /* attributions */
    uint64_t ro, rs;     /* address records */
    uint64_t so, ss;     /* strings */
    uint64_t total;
} set_layout;

static void plan_layout(const ch_screen_writer *w, uint64_t nb, const set_builder *sb,
                        set_layout *L) {
    uint64_t rec_size = 0;
    for (size_t i = 0; i < w->n_addrs; i++)
        rec_size += scr_rec_size(w->addrs[i].len);
    L->bo = CH_SCREEN_HEADER_SIZE, L->bs = nb * SCR_BUCKET_BYTES;
    L->seto = L->bo + L->bs, L->sets = (uint64_t)sb->n * SCR_SET_BYTES;
    L->xo = L->seto + L->sets, L->xs = (uint64_t)sb->n_idx * 4;
    L->ao = L->xo + L->xs, L->as = (uint64_t)w->n_attrs * SCR_ATTR_BYTES;
    L->ro = L->ao + L->as, L->rs = rec_size;
    L->so = L->ro + L->rs, L->ss = w->strs_len, L->total = L->so + L->ss;
}

/* Every section after the header, in plan_layout's order, through emit
 * (which hashes what it writes). */
static void emit_sections(out_file *o, const ch_screen_writer *w, const uint8_t *buckets,
                          const set_builder *sb, const uint32_t *set_of, const set_layout *L) {
    emit(o, buckets, L->bs);
    for (size_t i = 0; i < sb->n; i++) {
        uint8_t e[SCR_SET_BYTES];
        scr_put32(e, sb->count[i]);
        scr_put32(e + 4, sb->first[i]);
        emit(o, e, sizeof e);
    }
    for (size_t i = 0; i < sb->n_idx; i++) {
        uint8_t e[4];
        scr_put32(e, sb->idx[i]);
        emit(o, e, sizeof e);
    }
    emit(o, w->attrs, L->as);
    uint8_t rec[REC_KEY_AT + CH_ADDR_STR_MAX + SCR_REC_ALIGN];
    for (size_t i = 0; i < w->n_addrs; i++) {
        uint64_t len = w->addrs[i].len, size = scr_rec_size(len);
        memset(rec, 0, size);
        scr_put16(rec, (uint16_t)len);
        scr_put32(rec + 4, set_of[i]);
        memcpy(rec + REC_KEY_AT, w->keys + w->addrs[i].key_off, len);
        emit(o, rec, size);
    }
    emit(o, w->strs, L->ss);
}

/* The header of a finished set: its layout, counts, seed, creation time and
 * the SHA-256 of everything after it. */
static void fill_header(uint8_t header[CH_SCREEN_HEADER_SIZE], const ch_screen_writer *w,
                        const set_layout *L, uint64_t nb, uint64_t n_sets, uint64_t seed,
                        uint64_t created, const uint8_t sum[32]) {
    memcpy(header + H_MAGIC, CH_SCREEN_MAGIC, 8);
    scr_put32(header + H_VERSION, w->version);
    scr_put32(header + H_HEADER_SIZE, CH_SCREEN_HEADER_SIZE);
    scr_put64(header + H_FILE_SIZE, L->total);
    scr_put64(header + H_ADDRESSES, w->n_addrs);
    scr_put64(header + H_ATTRS, w->n_attrs);
    scr_put64(header + H_BUCKETS, nb);
    scr_put64(header + H_SEED, seed);
    scr_put64(header + H_BUCKETS_OFF, L->bo);
    scr_put64(header + H_BUCKETS_SIZE, L->bs);
    scr_put64(header + H_RECORDS_OFF, L->ro);
    scr_put64(header + H_RECORDS_SIZE, L->rs);
    scr_put64(header + H_ATTRS_OFF, L->ao);
    scr_put64(header + H_ATTRS_SIZE, L->as);
    scr_put64(header + H_STRINGS_OFF, L->so);
    scr_put64(header + H_STRINGS_SIZE, L->ss);
    scr_put64(header + H_CREATED, created);
    memcpy(header + H_SHA256, sum, 32);
    scr_put64(header + H_SETS, n_sets);
    scr_put64(header + H_SETS_OFF, L->seto);
    scr_put64(header + H_SETS_SIZE, L->sets);
    scr_put64(header + H_SETIDX_OFF, L->xo);
    scr_put64(header + H_FLAGS, w->folded_keys ? SCR_FLAG_FOLDED_KEYS : 0);
    scr_put64(header + H_SETIDX_SIZE, L->xs);
}

/* Write the set into tmp (a zeroed header first, the sections, then the
 * real header over it), fsync it and rename it to path: a reader sees the
 * old file or the whole new one. *created set. 0, or -1 (tmp may be left
 * for the caller to unlink). */
static int write_set_file(const ch_screen_writer *w, const char *tmp, const char *path,
                          const uint8_t *buckets, uint64_t nb, const set_builder *sb,
                          const uint32_t *set_of, uint64_t seed, set_layout *L, uint64_t *created,
                          ch_error *err) {
    out_file o = {NULL, {{0}}, false};
    o.f = fopen(tmp, "wb");
    if (!o.f) return ch_err(err, "%s: cannot create: %s", tmp, strerror(errno));
    setvbuf(o.f, NULL, _IOFBF, 1 << 20);
    ch_sha256_init(&o.sha);
    uint8_t header[CH_SCREEN_HEADER_SIZE];
    memset(header, 0, sizeof header);
    if (fwrite(header, 1, sizeof header, o.f) != sizeof header) o.failed = true;
    plan_layout(w, nb, sb, L);
    emit_sections(&o, w, buckets, sb, set_of, L);
    uint8_t sum[32];
    ch_sha256_final(&o.sha, sum);
    const char *epoch = getenv("SOURCE_DATE_EPOCH"); /* reproducible builds */
    *created = epoch ? strtoull(epoch, NULL, 10) : (uint64_t)time(NULL);
    fill_header(header, w, L, nb, sb->n, seed, *created, sum);
    if (fflush(o.f) != 0 || fseek(o.f, 0, SEEK_SET) != 0 ||
        fwrite(header, 1, sizeof header, o.f) != sizeof header || fflush(o.f) != 0 ||
        fsync(fileno(o.f)) != 0)
        o.failed = true;
    if (fclose(o.f) != 0) o.failed = true;
    if (o.failed) return ch_err(err, "%s: write failed: %s", tmp, strerror(errno));
    if (rename(tmp, path) != 0)
        return ch_err(err, "%s: cannot rename into place: %s", path, strerror(errno));
    return 0;
}

int ch_screen_set_writer_finish(ch_screen_writer *w, const char *path, ch_screen_info *info,
                                ch_error *err) {
    char tmp[4096];
    uint8_t *buckets = NULL;
    uint32_t *set_of = NULL, *list = NULL;
    scr_fp *fps = NULL;
    uint64_t *pos = NULL;
    set_builder sb;
    int rc = -1;

    memset(&sb, 0, sizeof sb);
    if (w->oom) return ch_err(err, "an earlier add ran out of memory; the set is incomplete");
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return ch_err(err, "%s: path too long", path);

    pairs_sort_unique(w);
    uint64_t n = w->n_addrs;
    uint64_t nb = n * SCR_LOAD_DEN / SCR_LOAD_NUM + 1; /* always a free slot */
    if (nb > (1ULL << 32)) return ch_err(err, "too many addresses for one set");
    buckets = malloc(nb * SCR_BUCKET_BYTES);
    set_of = malloc((n ? n : 1) * sizeof *set_of);
    list = malloc((w->n_attrs ? w->n_attrs : 1) * sizeof *list);
    fps = malloc((n ? n : 1) * sizeof *fps);
    pos = malloc((n ? n : 1) * sizeof *pos);
    if (!buckets || !set_of || !list || !fps || !pos || intern_sets(w, &sb, list, set_of) != 0) {
        ch_err(err, "out of memory writing the screening set");
        goto out;
    }
    uint64_t seed = 0, in_home = 0, created = 0;
    set_layout L = {0};
    if (index_under_a_seed(w, buckets, nb, fps, set_of, pos, &seed, &in_home, err) != 0 ||
        write_set_file(w, tmp, path, buckets, nb, &sb, set_of, seed, &L, &created, err) != 0)
        goto out;
    if (info) {
        memset(info, 0, sizeof *info);
        info->version = w->version;
        info->file_size = L.total;
        info->addresses = n;
        info->attributions = w->n_attrs;
        info->buckets = nb;
        info->created = created;
        info->bytes_per_address = n ? (double)L.total / (double)n : 0.0;
        info->attribution_sets = sb.n;
        info->in_home_bucket = in_home;
        info->seed = seed;
    }
    rc = 0;
out:
    if (rc != 0) unlink(tmp);
    free(buckets);
    free(set_of);
    free(list);
    free(fps);
    free(pos);
    set_builder_free(&sb);
    return rc;
}

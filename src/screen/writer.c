/* Writing a screening set (format in screen.h).
 *
 * Attributions are collected in memory: each distinct string once, each
 * distinct attribution (all fields but the address) once, each address once,
 * and one (address, attribution) pair per add. finish() sorts the pairs,
 * lays out the records, builds the bucket index and streams the file out
 * while hashing it, then renames it into place. */
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
};

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q) return -1;
    *p = q;
    *cap = n;
    return 0;
}

ch_screen_writer *ch_screen_set_writer_new(void) {
    ch_screen_writer *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->seed = DEFAULT_SEED;
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

int ch_screen_set_writer_add_key(ch_screen_writer *w, const char *key, const ch_attribution *a,
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
    return 0;
}

int ch_screen_set_writer_add(ch_screen_writer *w, const ch_attribution *a, ch_error *err) {
    ch_chainaddr c;
    if (ch_chainaddr_parse(a->address, ch_family_from_asset(a->asset), &c, err) != 0)
        return ch_err_prefix(err, "%.128s", a->address);
    return ch_screen_set_writer_add_key(w, c.canonical, a, err);
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

int ch_screen_set_writer_finish(ch_screen_writer *w, const char *path, ch_screen_info *info,
                                ch_error *err) {
    char tmp[4096];
    uint8_t *buckets = NULL;
    uint32_t *rec_of = NULL;
    size_t *first = NULL;
    out_file o = {NULL, {{0}}, false};
    int rc = -1;

    if (w->oom) return ch_err(err, "an earlier add ran out of memory; the set is incomplete");
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return ch_err(err, "%s: path too long", path);

    /* Pairs sorted by address then attribution; repeats dropped. */
    if (w->n_pairs > 1) qsort(w->pairs, w->n_pairs, sizeof *w->pairs, cmp_u64);
    size_t np = 0;
    for (size_t i = 0; i < w->n_pairs; i++)
        if (np == 0 || w->pairs[i] != w->pairs[np - 1]) w->pairs[np++] = w->pairs[i];
    w->n_pairs = np;

    uint64_t n = w->n_addrs;
    uint64_t nb = n / SCR_LOAD + 1; /* always at least one free slot */
    if (nb > (1ULL << 32)) return ch_err(err, "too many addresses for one set");
    buckets = calloc(nb, SCR_BUCKET_BYTES);
    rec_of = malloc((n ? n : 1) * sizeof *rec_of);
    first = malloc((n + 1) * sizeof *first);
    if (!buckets || !rec_of || !first) {
        ch_err(err, "out of memory writing the screening set");
        goto out;
    }
    /* Record layout, in address order: offset 0 stays reserved (empty). */
    uint64_t rec_size = SCR_REC_ALIGN;
    for (size_t i = 0, p = 0; i < n; i++) {
        first[i] = p;
        while (p < np && (w->pairs[p] >> 32) == i)
            p++;
        rec_of[i] = (uint32_t)(rec_size / SCR_REC_ALIGN);
        rec_size += scr_rec_size(w->addrs[i].len, p - first[i]);
        if (rec_size / SCR_REC_ALIGN > 0xffffffffULL) {
            ch_err(err, "too many addresses for one set (records exceed 32 GiB)");
            goto out;
        }
    }
    first[n] = np;
    /* The index: each address into its bucket or the next with room. */
    for (size_t i = 0; i < n; i++) {
        uint64_t h = w->addrs[i].hash, b = scr_bucket_of(h, nb);
        for (;;) {
            uint8_t *bucket = buckets + b * SCR_BUCKET_BYTES;
            int k = 0;
            while (k < SCR_SLOTS && scr_le32(bucket + 8 * k + 4) != 0)
                k++;
            if (k < SCR_SLOTS) {
                scr_put32(bucket + 8 * k, (uint32_t)(h >> 32));
                scr_put32(bucket + 8 * k + 4, rec_of[i]);
                break;
            }
            b = (b + 1 == nb) ? 0 : b + 1;
        }
    }

    o.f = fopen(tmp, "wb");
    if (!o.f) {
        ch_err(err, "%s: cannot create: %s", tmp, strerror(errno));
        goto out;
    }
    setvbuf(o.f, NULL, _IOFBF, 1 << 20);
    ch_sha256_init(&o.sha);
    uint8_t header[CH_SCREEN_HEADER_SIZE];
    memset(header, 0, sizeof header);
    if (fwrite(header, 1, sizeof header, o.f) != sizeof header) o.failed = true;

    uint64_t bo = CH_SCREEN_HEADER_SIZE, bs = nb * SCR_BUCKET_BYTES;
    uint64_t ro = bo + bs, ao = ro + rec_size, as = (uint64_t)w->n_attrs * SCR_ATTR_BYTES;
    uint64_t so = ao + as, ss = w->strs_len, total = so + ss;
    emit(&o, buckets, bs);
    uint8_t rec[1024];
    memset(rec, 0, sizeof rec);
    emit(&o, rec, SCR_REC_ALIGN);
    for (size_t i = 0; i < n; i++) {
        uint64_t count = first[i + 1] - first[i], len = w->addrs[i].len;
        uint64_t size = scr_rec_size(len, count), at = scr_rec_index_at(len);
        uint8_t *r = size <= sizeof rec ? rec : malloc(size);
        if (!r) {
            ch_err(err, "out of memory writing the screening set");
            goto out;
        }
        memset(r, 0, size);
        scr_put16(r, (uint16_t)len);
        scr_put32(r + 4, (uint32_t)count);
        memcpy(r + REC_KEY_AT, w->keys + w->addrs[i].key_off, len);
        for (uint64_t j = 0; j < count; j++)
            scr_put32(r + at + 4 * j, (uint32_t)(w->pairs[first[i] + j] & 0xffffffffULL));
        emit(&o, r, size);
        if (r != rec) free(r);
    }
    emit(&o, w->attrs, as);
    emit(&o, w->strs, ss);

    uint8_t sum[32];
    ch_sha256_final(&o.sha, sum);
    const char *epoch = getenv("SOURCE_DATE_EPOCH"); /* reproducible builds */
    uint64_t created = epoch ? strtoull(epoch, NULL, 10) : (uint64_t)time(NULL);
    memcpy(header + H_MAGIC, CH_SCREEN_MAGIC, 8);
    scr_put32(header + H_VERSION, CH_SCREEN_VERSION);
    scr_put32(header + H_HEADER_SIZE, CH_SCREEN_HEADER_SIZE);
    scr_put64(header + H_FILE_SIZE, total);
    scr_put64(header + H_ADDRESSES, n);
    scr_put64(header + H_ATTRS, w->n_attrs);
    scr_put64(header + H_BUCKETS, nb);
    scr_put64(header + H_SEED, w->seed);
    scr_put64(header + H_BUCKETS_OFF, bo);
    scr_put64(header + H_BUCKETS_SIZE, bs);
    scr_put64(header + H_RECORDS_OFF, ro);
    scr_put64(header + H_RECORDS_SIZE, rec_size);
    scr_put64(header + H_ATTRS_OFF, ao);
    scr_put64(header + H_ATTRS_SIZE, as);
    scr_put64(header + H_STRINGS_OFF, so);
    scr_put64(header + H_STRINGS_SIZE, ss);
    scr_put64(header + H_CREATED, created);
    memcpy(header + H_SHA256, sum, 32);
    if (fflush(o.f) != 0 || fseek(o.f, 0, SEEK_SET) != 0 ||
        fwrite(header, 1, sizeof header, o.f) != sizeof header || fflush(o.f) != 0 ||
        fsync(fileno(o.f)) != 0)
        o.failed = true;
    if (fclose(o.f) != 0) o.failed = true;
    o.f = NULL;
    if (o.failed) {
        ch_err(err, "%s: write failed: %s", tmp, strerror(errno));
        goto out;
    }
    if (rename(tmp, path) != 0) {
        ch_err(err, "%s: cannot rename into place: %s", path, strerror(errno));
        goto out;
    }
    if (info) {
        memset(info, 0, sizeof *info);
        info->version = CH_SCREEN_VERSION;
        info->file_size = total;
        info->addresses = n;
        info->attributions = w->n_attrs;
        info->buckets = nb;
        info->created = created;
        info->bytes_per_address = n ? (double)total / (double)n : 0.0;
    }
    rc = 0;
out:
    if (o.f) fclose(o.f);
    if (rc != 0) unlink(tmp);
    free(buckets);
    free(rec_of);
    free(first);
    return rc;
}

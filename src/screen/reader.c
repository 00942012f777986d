/* Opening and reading a screening set (format in screen.h).
 *
 * Everything that can be wrong with a file is checked once, at open: sizes,
 * the checksum, and then every slot, record and string offset. After that a
 * lookup trusts the mapping and does no bounds checks, which is what lets it
 * stay at one or two cache lines. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coinhound/hash.h"
#include "coinhound/screen.h"
#include "screen/format.h"

struct ch_screen_set {
    const uint8_t *map; /* the file's bytes (a mapping, or a private copy) */
    size_t size;
    void *region; /* what to unmap, and its length */
    size_t region_len;
    uint64_t addresses, n_attrs, n_buckets, seed, created;
    const uint8_t *buckets, *records, *attrs;
    const char *strings;
    uint64_t records_size, strings_size;
    char path[256];
};

static int fail(ch_error *err, const char *path, const char *fmt, uint64_t a, uint64_t b) {
    char what[256];
    snprintf(what, sizeof what, fmt, (unsigned long long)a, (unsigned long long)b);
    return ch_err(err, "%s: %s", path, what);
}

/* A section [off, off+size) inside the body, aligned as asked. */
static int check_section(const char *path, const char *name, uint64_t off, uint64_t size,
                         uint64_t file_size, uint64_t align, ch_error *err) {
    if (off < CH_SCREEN_HEADER_SIZE || off > file_size || size > file_size - off)
        return ch_err(err, "%s: %s section [%llu, +%llu) lies outside the file (%llu bytes)", path,
                      name, (unsigned long long)off, (unsigned long long)size,
                      (unsigned long long)file_size);
    if (off % align)
        return ch_err(err, "%s: %s section at offset %llu is not %llu-byte aligned", path, name,
                      (unsigned long long)off, (unsigned long long)align);
    return 0;
}

/* Every record reachable from a slot, and every attribution's strings. */
static int check_structure(ch_screen_set *s, ch_error *err) {
    const char *path = s->path;
    uint64_t filled = 0;
    if (s->strings_size == 0 || s->strings[s->strings_size - 1] != '\0' || s->strings[0] != '\0')
        return fail(err, path, "string table is not NUL-terminated", 0, 0);
    for (uint64_t i = 0; i < s->n_attrs; i++) {
        const uint8_t *a = s->attrs + i * SCR_ATTR_BYTES;
        for (int k = 0; k < SCR_ATTR_STRINGS; k++)
            if (scr_le32(a + 4 * k) >= s->strings_size)
                return fail(err, path, "attribution %llu points outside the string table", i, 0);
        if (a[A_CONFIDENCE_AT] > 100)
            return fail(err, path, "attribution %llu has confidence %llu (> 100)", i,
                        a[A_CONFIDENCE_AT]);
    }
    for (uint64_t b = 0; b < s->n_buckets; b++) {
        const uint8_t *bucket = s->buckets + b * SCR_BUCKET_BYTES;
        bool seen_empty = false;
        for (int k = 0; k < SCR_SLOTS; k++) {
            uint32_t tag = scr_le32(bucket + 8 * k);
            uint64_t rec = (uint64_t)scr_le32(bucket + 8 * k + 4) * SCR_REC_ALIGN;
            if (rec == 0) {
                seen_empty = true;
                continue;
            }
            if (seen_empty) return fail(err, path, "bucket %llu has a gap before slot %llu", b, k);
            if (rec + REC_KEY_AT > s->records_size)
                return fail(err, path, "bucket %llu slot %llu points past the records", b, k);
            const uint8_t *r = s->records + rec;
            uint64_t klen = scr_le16(r), count = scr_le32(r + 4);
            if (klen == 0 || klen >= CH_ADDR_STR_MAX || count == 0 ||
                rec + scr_rec_size(klen, count) > s->records_size)
                return fail(err, path, "record at %llu (bucket %llu) is malformed", rec, b);
            if (r[REC_KEY_AT + klen] != '\0')
                return fail(err, path, "record at %llu has an unterminated key", rec, 0);
            const uint8_t *idx = r + scr_rec_index_at(klen);
            for (uint64_t j = 0; j < count; j++)
                if (scr_le32(idx + 4 * j) >= s->n_attrs)
                    return fail(err, path, "record at %llu names attribution %llu", rec,
                                scr_le32(idx + 4 * j));
            uint64_t h = ch_screen_hash(r + REC_KEY_AT, klen, s->seed);
            if ((uint32_t)(h >> 32) != tag)
                return fail(err, path, "bucket %llu slot %llu: tag does not match its key", b, k);
            filled++;
        }
    }
    if (filled != s->addresses)
        return fail(err, path, "%llu addresses in the index, header says %llu", filled,
                    s->addresses);
    if (filled >= s->n_buckets * SCR_SLOTS)
        return fail(err, path, "index has no free slot (%llu buckets)", s->n_buckets, 0);
    return 0;
}

#define HUGE_PAGE (2u << 20)

/* Read the whole file into anonymous memory aligned to 2 MiB and advised
 * for transparent huge pages: one TLB entry then covers 512 times more of
 * the set than with the page cache's 4 KiB pages, which is what random
 * lookups in a set larger than the TLB's reach pay for. */
static void *load_huge(int fd, size_t size, void **region, size_t *region_len) {
    size_t len = (size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE + HUGE_PAGE;
    uint8_t *r = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED) return NULL;
    uint8_t *p = (uint8_t *)(((uintptr_t)r + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    madvise(p, len - (size_t)(p - r), MADV_HUGEPAGE);
    for (size_t got = 0; got < size;) {
        ssize_t n = pread(fd, p + got, size - got, (off_t)got);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            munmap(r, len);
            return NULL;
        }
        got += (size_t)n;
    }
    mprotect(r, len, PROT_READ);
    *region = r;
    *region_len = len;
    return p;
}

int ch_screen_set_open(const char *path, ch_screen_set **out, ch_error *err) {
    return ch_screen_set_open_flags(path, 0, out, err);
}

int ch_screen_set_open_flags(const char *path, unsigned flags, ch_screen_set **out, ch_error *err) {
    struct stat st;
    ch_screen_set *s;
    int fd;
    void *region = NULL;
    size_t region_len = 0;
    *out = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ch_err(err, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return ch_err(err, "%s: cannot stat: %s", path, strerror(e));
    }
    if (st.st_size < CH_SCREEN_HEADER_SIZE) {
        close(fd);
        return ch_err(err, "%s: truncated: %lld bytes, a screening set has a %d-byte header", path,
                      (long long)st.st_size, CH_SCREEN_HEADER_SIZE);
    }
    void *map;
    if (flags & CH_SCREEN_OPEN_HUGEPAGES) {
        map = load_huge(fd, (size_t)st.st_size, &region, &region_len);
        if (!map) {
            int e = errno;
            close(fd);
            return ch_err(err, "%s: cannot load: %s", path, strerror(e));
        }
    } else {
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED) {
            int e = errno;
            close(fd);
            return ch_err(err, "%s: cannot map: %s", path, strerror(e));
        }
        region = map;
        region_len = (size_t)st.st_size;
    }
    close(fd);

    s = calloc(1, sizeof *s);
    if (!s) {
        munmap(region, region_len);
        return ch_err(err, "out of memory");
    }
    s->map = map;
    s->region = region;
    s->region_len = region_len;
    s->size = (size_t)st.st_size;
    snprintf(s->path, sizeof s->path, "%s", path);
    const uint8_t *h = s->map;
    int rc = -1;

    if (memcmp(h + H_MAGIC, CH_SCREEN_MAGIC, 8) != 0) {
        ch_err(err, "%s: not a coinhound screening set (bad magic)", path);
        goto out;
    }
    if (scr_le32(h + H_VERSION) != CH_SCREEN_VERSION) {
        ch_err(err, "%s: screening set format version %u; this build reads version %d", path,
               scr_le32(h + H_VERSION), CH_SCREEN_VERSION);
        goto out;
    }
    if (scr_le32(h + H_HEADER_SIZE) != CH_SCREEN_HEADER_SIZE) {
        ch_err(err, "%s: header size %u, expected %d", path, scr_le32(h + H_HEADER_SIZE),
               CH_SCREEN_HEADER_SIZE);
        goto out;
    }
    if (scr_le64(h + H_FILE_SIZE) != s->size) {
        ch_err(err, "%s: truncated or extended: the header says %llu bytes, the file has %zu", path,
               (unsigned long long)scr_le64(h + H_FILE_SIZE), s->size);
        goto out;
    }
    uint8_t sum[32];
    ch_sha256(h + CH_SCREEN_HEADER_SIZE, s->size - CH_SCREEN_HEADER_SIZE, sum);
    if (memcmp(sum, h + H_SHA256, 32) != 0) {
        ch_err(err,
               "%s: checksum mismatch: the SHA-256 of the body differs from the header's "
               "(the file is corrupt)",
               path);
        goto out;
    }
    s->addresses = scr_le64(h + H_ADDRESSES);
    s->n_attrs = scr_le64(h + H_ATTRS);
    s->n_buckets = scr_le64(h + H_BUCKETS);
    s->seed = scr_le64(h + H_SEED);
    s->created = scr_le64(h + H_CREATED);
    uint64_t bo = scr_le64(h + H_BUCKETS_OFF), bs = scr_le64(h + H_BUCKETS_SIZE);
    uint64_t ro = scr_le64(h + H_RECORDS_OFF), rs = scr_le64(h + H_RECORDS_SIZE);
    uint64_t ao = scr_le64(h + H_ATTRS_OFF), as = scr_le64(h + H_ATTRS_SIZE);
    uint64_t so = scr_le64(h + H_STRINGS_OFF), ss = scr_le64(h + H_STRINGS_SIZE);
    if (check_section(path, "bucket", bo, bs, s->size, SCR_BUCKET_BYTES, err) ||
        check_section(path, "record", ro, rs, s->size, SCR_REC_ALIGN, err) ||
        check_section(path, "attribution", ao, as, s->size, 4, err) ||
        check_section(path, "string", so, ss, s->size, 1, err))
        goto out;
    if (s->n_buckets == 0 || s->n_buckets > (1ULL << 32) || bs / SCR_BUCKET_BYTES != s->n_buckets ||
        bs % SCR_BUCKET_BYTES) {
        ch_err(err, "%s: %llu buckets do not fill the %llu-byte bucket section", path,
               (unsigned long long)s->n_buckets, (unsigned long long)bs);
        goto out;
    }
    if (as % SCR_ATTR_BYTES || as / SCR_ATTR_BYTES != s->n_attrs) {
        ch_err(err, "%s: %llu attributions do not fill the %llu-byte attribution section", path,
               (unsigned long long)s->n_attrs, (unsigned long long)as);
        goto out;
    }
    if (rs > 0xffffffffULL * SCR_REC_ALIGN) {
        ch_err(err, "%s: record section too large", path);
        goto out;
    }
    s->buckets = h + bo;
    s->records = h + ro;
    s->records_size = rs;
    s->attrs = h + ao;
    s->strings = (const char *)h + so;
    s->strings_size = ss;
    if (check_structure(s, err) != 0) goto out;
    /* Lookups jump around: tell the kernel not to read ahead. */
    if (!(flags & CH_SCREEN_OPEN_HUGEPAGES)) madvise(s->region, s->region_len, MADV_RANDOM);
    rc = 0;
out:
    if (rc != 0) {
        ch_screen_set_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

void ch_screen_set_close(ch_screen_set *set) {
    if (!set) return;
    if (set->region) munmap(set->region, set->region_len);
    free(set);
}

void ch_screen_set_info(const ch_screen_set *set, ch_screen_info *out) {
    memset(out, 0, sizeof *out);
    out->version = CH_SCREEN_VERSION;
    out->file_size = set->size;
    out->addresses = set->addresses;
    out->attributions = set->n_attrs;
    out->buckets = set->n_buckets;
    out->created = set->created;
    out->bytes_per_address = set->addresses ? (double)set->size / (double)set->addresses : 0.0;
}

/* The record of a candidate slot matches key? */
static inline const uint8_t *confirm(const ch_screen_set *s, uint32_t rec, const char *key,
                                     size_t len) {
    const uint8_t *r = s->records + (uint64_t)rec * SCR_REC_ALIGN;
    if (scr_le16(r) == len && memcmp(r + REC_KEY_AT, key, len) == 0) return r;
    return NULL;
}

/* Scan from bucket b: the record of key, or NULL. */
static const uint8_t *probe(const ch_screen_set *s, uint64_t b, uint32_t tag, const char *key,
                            size_t len) {
    for (uint64_t n = 0; n < s->n_buckets; n++) {
        const uint8_t *bucket = s->buckets + b * SCR_BUCKET_BYTES;
        for (int k = 0; k < SCR_SLOTS; k++) {
            uint32_t rec = scr_le32(bucket + 8 * k + 4);
            if (rec == 0) return NULL; /* a bucket with room ends the probe */
            if (scr_le32(bucket + 8 * k) == tag) {
                const uint8_t *r = confirm(s, rec, key, len);
                if (r) return r;
            }
        }
        b = (b + 1 == s->n_buckets) ? 0 : b + 1;
    }
    return NULL;
}

static void describe(const uint8_t *r, uint32_t *n_attr, const uint32_t **idx) {
    uint64_t klen = scr_le16(r);
    if (n_attr) *n_attr = scr_le32(r + 4);
    /* 4-byte aligned inside an 8-aligned record of a page-aligned map. */
    if (idx) *idx = (const uint32_t *)(const void *)(r + scr_rec_index_at(klen));
}

int ch_screen_lookup_canonical(const ch_screen_set *s, const char *key, size_t len,
                               uint32_t *n_attr, const uint32_t **attr_index) {
    uint64_t h = ch_screen_hash(key, len, s->seed);
    const uint8_t *r = probe(s, scr_bucket_of(h, s->n_buckets), (uint32_t)(h >> 32), key, len);
    if (!r) {
        if (n_attr) *n_attr = 0;
        if (attr_index) *attr_index = NULL;
        return 0;
    }
    describe(r, n_attr, attr_index);
    return 1;
}

#define BATCH 32

void ch_screen_lookup_canonical_batch(const ch_screen_set *s, const char *const *keys,
                                      const size_t *lens, size_t n, uint8_t *out) {
    uint64_t hs[BATCH];
    const uint8_t *cand[BATCH];
    for (size_t i = 0; i < n; i += BATCH) {
        size_t m = n - i < BATCH ? n - i : BATCH;
        /* 1: hash every key and start loading its bucket. */
        for (size_t k = 0; k < m; k++) {
            hs[k] = ch_screen_hash(keys[i + k], lens[i + k], s->seed);
            __builtin_prefetch(s->buckets + scr_bucket_of(hs[k], s->n_buckets) * SCR_BUCKET_BYTES);
        }
        /* 2: scan the (now mostly cached) buckets; start loading the record
         * of a tag match. A full bucket falls back to the plain probe. */
        for (size_t k = 0; k < m; k++) {
            const uint8_t *bucket =
                s->buckets + scr_bucket_of(hs[k], s->n_buckets) * SCR_BUCKET_BYTES;
            uint32_t tag = (uint32_t)(hs[k] >> 32);
            cand[k] = NULL;
            out[i + k] = 0;
            int j = 0;
            for (; j < SCR_SLOTS; j++) {
                uint32_t rec = scr_le32(bucket + 8 * j + 4);
                if (rec == 0) break;
                if (scr_le32(bucket + 8 * j) == tag) {
                    cand[k] = s->records + (uint64_t)rec * SCR_REC_ALIGN;
                    __builtin_prefetch(cand[k]);
                    break;
                }
            }
            if (j == SCR_SLOTS) out[i + k] = 2; /* full bucket, no tag: probe on */
        }
        /* 3: confirm candidates with the full key. */
        for (size_t k = 0; k < m; k++) {
            const char *key = keys[i + k];
            size_t len = lens[i + k];
            if (out[i + k] == 2 || (cand[k] && !(scr_le16(cand[k]) == len &&
                                                 memcmp(cand[k] + REC_KEY_AT, key, len) == 0))) {
                /* Rare: overflowed bucket or a 32-bit tag collision. */
                out[i + k] = probe(s, scr_bucket_of(hs[k], s->n_buckets), (uint32_t)(hs[k] >> 32),
                                   key, len) != NULL;
            } else {
                out[i + k] = cand[k] != NULL;
            }
        }
    }
}

/* Bounded copy that truncates quietly (messages longer than the field). */
static void copy_str(char *dst, size_t cap, const char *src) {
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void copy_reason(ch_screen_result *out, const char *msg) {
    copy_str(out->reason, sizeof out->reason, msg);
}

void ch_screen_lookup(const ch_screen_set *set, const char *address, ch_screen_result *out) {
    ch_chainaddr a;
    ch_error err;
    err.msg[0] = '\0';
    out->status = CH_SCREEN_CLEAN;
    out->family = CH_FAM_UNKNOWN;
    out->canonical[0] = '\0';
    out->reason[0] = '\0';
    out->n_attr = 0;
    out->attr_index = NULL;
    if (ch_chainaddr_parse(address, CH_FAM_UNKNOWN, &a, &err) != 0) {
        /* A value of no known form may still be listed verbatim (trimmed). */
        const char *p = address ? address : "";
        while (*p == ' ' || *p == '\t')
            p++;
        size_t n = strnlen(p, CH_ADDR_STR_MAX);
        while (n > 0 &&
               (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n' || p[n - 1] == '\r'))
            n--;
        if (n > 0 && n < CH_ADDR_STR_MAX &&
            ch_screen_lookup_canonical(set, p, n, &out->n_attr, &out->attr_index)) {
            memcpy(out->canonical, p, n);
            out->canonical[n] = '\0';
            out->status = CH_SCREEN_LISTED;
            return;
        }
        out->status = CH_SCREEN_INVALID;
        copy_reason(out, err.msg[0] ? err.msg : "not a valid address");
        return;
    }
    out->family = a.family;
    memcpy(out->canonical, a.canonical, sizeof out->canonical);
    if (ch_screen_lookup_canonical(set, a.canonical, strlen(a.canonical), &out->n_attr,
                                   &out->attr_index))
        out->status = CH_SCREEN_LISTED;
}

int ch_screen_attr_get(const ch_screen_set *set, const ch_screen_result *r, uint32_t i,
                       ch_screen_attr *out) {
    if (r->status != CH_SCREEN_LISTED || i >= r->n_attr || !r->attr_index) return -1;
    const uint8_t *a =
        set->attrs + (uint64_t)scr_le32((const uint8_t *)&r->attr_index[i]) * SCR_ATTR_BYTES;
#define STR(k) (set->strings + scr_le32(a + 4 * (k)))
    out->asset = STR(A_ASSET);
    out->entity = STR(A_ENTITY);
    out->actor = STR(A_ACTOR);
    out->actor_country = STR(A_ACTOR_COUNTRY);
    out->category = STR(A_CATEGORY);
    out->source_name = STR(A_SOURCE_NAME);
    out->source_url = STR(A_SOURCE_URL);
    out->source_date = STR(A_SOURCE_DATE);
    out->first_listed = STR(A_FIRST_LISTED);
    out->last_listed = STR(A_LAST_LISTED);
    out->delisted_date = STR(A_DELISTED_DATE);
    out->note = STR(A_NOTE);
#undef STR
    out->confidence = a[A_CONFIDENCE_AT];
    out->delisted = (a[A_FLAGS_AT] & A_FLAG_DELISTED) != 0;
    return 0;
}

#define COPY(field, src) copy_str(out->field, sizeof out->field, src)

int ch_screen_attr_to_attribution(const ch_screen_set *set, const ch_screen_result *r, uint32_t i,
                                  ch_attribution *out) {
    ch_screen_attr a;
    if (ch_screen_attr_get(set, r, i, &a) != 0) return -1;
    memset(out, 0, sizeof *out);
    COPY(address, r->canonical);
    COPY(asset, a.asset);
    COPY(entity, a.entity);
    COPY(actor, a.actor);
    COPY(actor_country, a.actor_country);
    COPY(category, a.category);
    COPY(source_name, a.source_name);
    COPY(source_url, a.source_url);
    COPY(source_date, a.source_date);
    COPY(first_listed, a.first_listed);
    COPY(last_listed, a.last_listed);
    COPY(delisted_date, a.delisted_date);
    COPY(note, a.note);
    out->confidence = a.confidence;
    out->delisted = a.delisted;
    return 0;
}

/* Opening and reading a screening set (format in screen.h).
 *
 * Everything that can be wrong with a file is checked once, at open: sizes,
 * the checksum, every slot, set, record and string offset, and that every
 * record is found by a lookup under its own set. After that a lookup trusts
 * the mapping and does no bounds checks, which is what lets it stay at one
 * cache line. */
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
#include "screen/verdict_tmpl.h"

struct ch_screen_set {
    const uint8_t *map; /* the file's bytes (a mapping, or a private copy) */
    size_t size;
    void *region; /* what to unmap, and its length */
    size_t region_len;
    uint32_t version; /* 2 or 3: which hash the index uses */
    uint64_t addresses, n_attrs, n_buckets, seed, created;
    uint64_t n_sets, n_setidx, in_home;
    uint64_t flags; /* SCR_FLAG_* */
    const uint8_t *buckets, *records, *attrs, *sets, *setidx;
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

/* ---- the lookup core ---------------------------------------------------- */

/* The set + 1 of the slot of b matching the fingerprint, or 0; *full when
 * the bucket has no free slot (then the key may sit further on). No branch
 * on the data: listed keys have distinct fingerprints (the writer sees to
 * it), so at most one slot matches, and empty slots (set 0) add nothing. */
static inline uint32_t scan_bucket(const uint8_t *b, uint64_t fp64, uint32_t fp32, int *full) {
    uint32_t r = 0, set = 0;
    for (int k = 0; k < SCR_SLOTS; k++) {
        const uint8_t *sl = b + SCR_SLOT_BYTES * k;
        set = scr_le32(sl + SLOT_SET_AT);
        uint32_t eq = (uint32_t)(scr_le64(sl + SLOT_FP64_AT) == fp64) &
                      (uint32_t)(scr_le32(sl + SLOT_FP32_AT) == fp32);
        r |= set & (0u - eq);
    }
    *full = set != 0; /* the last slot: no gaps, checked at open */
    return r;
}

static inline const uint8_t *bucket_at(const ch_screen_set *s, uint64_t b) {
    return s->buckets + b * SCR_BUCKET_BYTES;
}

/* Rare: the home bucket was full and held no match; scan on. */
static uint32_t probe_on(const ch_screen_set *s, uint64_t b, uint64_t fp64, uint32_t fp32,
                         bool *home) {
    int full = 1;
    *home = false;
    for (uint64_t n = 1; n < s->n_buckets && full; n++) {
        b = (b + 1 == s->n_buckets) ? 0 : b + 1;
        uint32_t r = scan_bucket(bucket_at(s, b), fp64, fp32, &full);
        if (r) return r;
    }
    return 0;
}

/* Set + 1 of the key of fingerprint fp, 0 when absent. */
static inline uint32_t find(const ch_screen_set *s, scr_fp fp, bool *home) {
    uint64_t b = scr_bucket_of(fp.h1, s->n_buckets);
    uint32_t fp32 = (uint32_t)(fp.h1 >> 32);
    int full;
    uint32_t r = scan_bucket(bucket_at(s, b), fp.h2, fp32, &full);
    *home = true;
    /* One branch, taken rarely, and not on found-or-not: that one would be
     * unpredictable in a mixed stream and, mispredicted, would throw away
     * the next lookups' loads already under way. The compiler is kept from
     * splitting the test back into a branch on r. */
    uint32_t slow = (uint32_t)(r == 0) & (uint32_t)full;
#if defined(__GNUC__)
    __asm__("" : "+r"(slow));
#endif
    if (__builtin_expect(slow, 0)) r = probe_on(s, b, fp.h2, fp32, home);
    return r;
}

/* ---- open ---------------------------------------------------------------- */

/* Every slot, set and record, and every attribution's strings. */
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
    for (uint64_t i = 0; i < s->n_setidx; i++)
        if (scr_le32(s->setidx + 4 * i) >= s->n_attrs)
            return fail(err, path, "set index entry %llu names attribution %llu", i,
                        scr_le32(s->setidx + 4 * i));
    for (uint64_t i = 0; i < s->n_sets; i++) {
        uint64_t count = scr_le32(s->sets + SCR_SET_BYTES * i);
        uint64_t first = scr_le32(s->sets + SCR_SET_BYTES * i + 4);
        if (count == 0 || first + count > s->n_setidx)
            return fail(err, path, "attribution set %llu (%llu entries) lies outside the set index",
                        i, count);
    }
    for (uint64_t b = 0; b < s->n_buckets; b++) {
        const uint8_t *bucket = bucket_at(s, b);
        bool seen_empty = false;
        for (int k = 0; k < SCR_SLOTS; k++) {
            uint64_t set = scr_le32(bucket + SCR_SLOT_BYTES * k + SLOT_SET_AT);
            if (set == 0) {
                seen_empty = true;
                continue;
            }
            if (seen_empty) return fail(err, path, "bucket %llu has a gap before slot %llu", b, k);
            if (set > s->n_sets)
                return fail(err, path, "bucket %llu slot %llu names a set past the set table", b,
                            k);
            /* The scan ORs the sets of matching slots: two equal
             * fingerprints in one bucket would make up a set number. */
            const uint8_t *sk = bucket + SCR_SLOT_BYTES * k;
            for (int j = 0; j < k; j++) {
                const uint8_t *sj = bucket + SCR_SLOT_BYTES * j;
                if (!memcmp(sj + SLOT_FP64_AT, sk + SLOT_FP64_AT, 8) &&
                    !memcmp(sj + SLOT_FP32_AT, sk + SLOT_FP32_AT, 4))
                    return fail(err, path, "bucket %llu holds one fingerprint twice (slot %llu)", b,
                                k);
            }
            filled++;
        }
    }
    if (filled != s->addresses)
        return fail(err, path, "%llu addresses in the index, header says %llu", filled,
                    s->addresses);
    if (filled >= s->n_buckets * SCR_SLOTS)
        return fail(err, path, "index has no free slot (%llu buckets)", s->n_buckets, 0);
    /* Every record is found by a lookup, under its own set: the index and
     * the records describe the same addresses. */
    uint64_t at = 0, recs = 0;
    s->in_home = 0;
    while (at < s->records_size) {
        const uint8_t *r = s->records + at;
        if (s->records_size - at < REC_KEY_AT)
            return fail(err, path, "record at %llu is truncated", at, 0);
        uint64_t klen = scr_le16(r), set = scr_le32(r + 4);
        if (klen == 0 || klen >= CH_ADDR_STR_MAX || scr_rec_size(klen) > s->records_size - at)
            return fail(err, path, "record at %llu is malformed", at, 0);
        if (r[REC_KEY_AT + klen] != '\0')
            return fail(err, path, "record at %llu has an unterminated key", at, 0);
        if (set >= s->n_sets)
            return fail(err, path, "record at %llu names set %llu, past the set table", at, set);
        bool home;
        uint32_t found =
            find(s, scr_fingerprint_of(s->version, r + REC_KEY_AT, klen, s->seed), &home);
        if (found != set + 1)
            return fail(err, path, "record at %llu: its key is not in the index under set %llu", at,
                        set);
        s->in_home += home;
        recs++;
        at += scr_rec_size(klen);
    }
    if (recs != s->addresses)
        return fail(err, path, "%llu records, header says %llu addresses", recs, s->addresses);
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

/* The file into memory: mapped (shared with the page cache), or with
 * CH_SCREEN_OPEN_HUGEPAGES loaded into huge pages. *map is the file's first
 * byte, *region and *region_len what to unmap. 0, or -1 with err (nothing left
 * open). */
static int map_set_file(const char *path, unsigned flags, void **map, void **region,
                        size_t *region_len, size_t *size, ch_error *err) {
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
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
    *size = (size_t)st.st_size;
    if (flags & CH_SCREEN_OPEN_HUGEPAGES) {
        *map = load_huge(fd, *size, region, region_len);
        if (!*map) {
            int e = errno;
            close(fd);
            return ch_err(err, "%s: cannot load: %s", path, strerror(e));
        }
    } else {
        *map = mmap(NULL, *size, PROT_READ, MAP_SHARED, fd, 0);
        if (*map == MAP_FAILED) {
            int e = errno;
            close(fd);
            return ch_err(err, "%s: cannot map: %s", path, strerror(e));
        }
        *region = *map;
        *region_len = *size;
    }
    close(fd);
    return 0;
}

/* The header of s->map: magic, a version this build reads, the header and
 * file sizes, and the body's SHA-256. 0, or -1 with err naming what is
 * wrong. */
static int check_header(ch_screen_set *s, const char *path, ch_error *err) {
    const uint8_t *h = s->map;
    if (memcmp(h + H_MAGIC, CH_SCREEN_MAGIC, 8) != 0)
        return ch_err(err, "%s: not a coinhound screening set (bad magic)", path);
    s->version = scr_le32(h + H_VERSION);
    if (s->version < SCR_VERSION_OLDEST || s->version > CH_SCREEN_VERSION) {
        uint32_t v = s->version;
        return ch_err(
            err, "%s: screening set format version %u; this build reads versions %d to %d%s", path,
            v, SCR_VERSION_OLDEST, CH_SCREEN_VERSION,
            v < SCR_VERSION_OLDEST ? " (an older set: write it again with this build, e.g. "
                                     "coinhound intel export-set)"
                                   : " (a newer set: update coinhound to read it)");
    }
    if (scr_le32(h + H_HEADER_SIZE) != CH_SCREEN_HEADER_SIZE)
        return ch_err(err, "%s: header size %u, expected %d", path, scr_le32(h + H_HEADER_SIZE),
                      CH_SCREEN_HEADER_SIZE);
    if (scr_le64(h + H_FILE_SIZE) != s->size)
        return ch_err(err,
                      "%s: truncated or extended: the header says %llu bytes, the file has %zu",
                      path, (unsigned long long)scr_le64(h + H_FILE_SIZE), s->size);
    uint8_t sum[32];
    ch_sha256(h + CH_SCREEN_HEADER_SIZE, s->size - CH_SCREEN_HEADER_SIZE, sum);
    if (memcmp(sum, h + H_SHA256, 32) != 0)
        return ch_err(err,
                      "%s: checksum mismatch: the SHA-256 of the body differs from the header's "
                      "(the file is corrupt)",
                      path);
    return 0;
}

/* The counts and sections the header names, each checked to lie inside the
 * file and to hold what the counts say, then s's pointers into them. 0, or
 * -1 with err. */
static int read_sections(ch_screen_set *s, const char *path, ch_error *err) {
    const uint8_t *h = s->map;
    s->addresses = scr_le64(h + H_ADDRESSES);
    s->n_attrs = scr_le64(h + H_ATTRS);
    s->n_buckets = scr_le64(h + H_BUCKETS);
    s->seed = scr_le64(h + H_SEED);
    s->created = scr_le64(h + H_CREATED);
    s->flags = scr_le64(h + H_FLAGS);
    uint64_t bo = scr_le64(h + H_BUCKETS_OFF), bs = scr_le64(h + H_BUCKETS_SIZE);
    uint64_t ro = scr_le64(h + H_RECORDS_OFF), rs = scr_le64(h + H_RECORDS_SIZE);
    uint64_t ao = scr_le64(h + H_ATTRS_OFF), as = scr_le64(h + H_ATTRS_SIZE);
    uint64_t so = scr_le64(h + H_STRINGS_OFF), ss = scr_le64(h + H_STRINGS_SIZE);
    uint64_t to = scr_le64(h + H_SETS_OFF), ts = scr_le64(h + H_SETS_SIZE);
    uint64_t xo = scr_le64(h + H_SETIDX_OFF), xs = scr_le64(h + H_SETIDX_SIZE);
    s->n_sets = scr_le64(h + H_SETS);
    if (check_section(path, "bucket", bo, bs, s->size, SCR_BUCKET_BYTES, err) ||
        check_section(path, "set", to, ts, s->size, 4, err) ||
        check_section(path, "set index", xo, xs, s->size, 4, err) ||
        check_section(path, "record", ro, rs, s->size, SCR_REC_ALIGN, err) ||
        check_section(path, "attribution", ao, as, s->size, 4, err) ||
        check_section(path, "string", so, ss, s->size, 1, err))
        return -1;
    if (s->n_buckets == 0 || s->n_buckets > (1ULL << 32) || bs / SCR_BUCKET_BYTES != s->n_buckets ||
        bs % SCR_BUCKET_BYTES)
        return ch_err(err, "%s: %llu buckets do not fill the %llu-byte bucket section", path,
                      (unsigned long long)s->n_buckets, (unsigned long long)bs);
    if (as % SCR_ATTR_BYTES || as / SCR_ATTR_BYTES != s->n_attrs)
        return ch_err(err, "%s: %llu attributions do not fill the %llu-byte attribution section",
                      path, (unsigned long long)s->n_attrs, (unsigned long long)as);
    if (ts % SCR_SET_BYTES || ts / SCR_SET_BYTES != s->n_sets || s->n_sets > 0xfffffffeULL ||
        xs % 4)
        return ch_err(err, "%s: %llu attribution sets do not fill the %llu-byte set section", path,
                      (unsigned long long)s->n_sets, (unsigned long long)ts);
    s->buckets = h + bo;
    s->records = h + ro;
    s->records_size = rs;
    s->attrs = h + ao;
    s->sets = h + to;
    s->setidx = h + xo;
    s->n_setidx = xs / 4;
    s->strings = (const char *)h + so;
    s->strings_size = ss;
    return 0;
}

int ch_screen_set_open_flags(const char *path, unsigned flags, ch_screen_set **out, ch_error *err) {
    void *map = NULL, *region = NULL;
    size_t region_len = 0, size = 0;
    *out = NULL;
    if (map_set_file(path, flags, &map, &region, &region_len, &size, err) != 0) return -1;
    ch_screen_set *s = calloc(1, sizeof *s);
    if (!s) {
        munmap(region, region_len);
        return ch_err(err, "out of memory");
    }
    s->map = map;
    s->region = region;
    s->region_len = region_len;
    s->size = size;
    snprintf(s->path, sizeof s->path, "%s", path);
    if (check_header(s, path, err) != 0 || read_sections(s, path, err) != 0 ||
        check_structure(s, err) != 0) {
        ch_screen_set_close(s);
        return -1;
    }
    /* Lookups jump around: tell the kernel not to read ahead. */
    if (!(flags & CH_SCREEN_OPEN_HUGEPAGES)) madvise(s->region, s->region_len, MADV_RANDOM);
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
    out->version = set->version;
    out->file_size = set->size;
    out->addresses = set->addresses;
    out->attributions = set->n_attrs;
    out->buckets = set->n_buckets;
    out->created = set->created;
    out->bytes_per_address = set->addresses ? (double)set->size / (double)set->addresses : 0.0;
    out->attribution_sets = set->n_sets;
    out->in_home_bucket = set->in_home;
    out->seed = set->seed;
}

/* The attributions of set + 1 r. */
static inline void describe(const ch_screen_set *s, uint32_t r, uint32_t *n_attr,
                            const uint32_t **idx) {
    const uint8_t *e = s->sets + (uint64_t)(r - 1) * SCR_SET_BYTES;
    if (n_attr) *n_attr = scr_le32(e);
    /* 4-byte aligned: the section is, in a page-aligned map. */
    if (idx) *idx = (const uint32_t *)(const void *)(s->setidx + 4 * (uint64_t)scr_le32(e + 4));
}

int ch_screen_lookup_canonical(const ch_screen_set *s, const char *key, size_t len,
                               uint32_t *n_attr, const uint32_t **attr_index) {
    bool home;
    uint32_t r = find(s, scr_fingerprint_of(s->version, key, len, s->seed), &home);
    /* No branch on r unless the caller wants the attributions: a stream of
     * lookups then overlaps its cache misses. */
    if (n_attr || attr_index) {
        if (r) {
            describe(s, r, n_attr, attr_index);
        } else {
            if (n_attr) *n_attr = 0;
            if (attr_index) *attr_index = NULL;
        }
    }
    return r != 0;
}

/* Keys hashed (and their buckets asked for) this far ahead of the one being
 * answered: enough misses in flight to cover memory latency. */
#define AHEAD 16

void ch_screen_lookup_canonical_batch(const ch_screen_set *s, const char *const *keys,
                                      const size_t *lens, size_t n, uint8_t *out) {
    scr_fp ring[AHEAD];
    size_t pre = n < AHEAD ? n : AHEAD;
    for (size_t i = 0; i < pre; i++) {
        ring[i] = scr_fingerprint_of(s->version, keys[i], lens[i], s->seed);
        __builtin_prefetch(bucket_at(s, scr_bucket_of(ring[i].h1, s->n_buckets)));
    }
    for (size_t i = 0; i < n; i++) {
        scr_fp fp = ring[i % AHEAD];
        if (i + AHEAD < n) {
            scr_fp nx = scr_fingerprint_of(s->version, keys[i + AHEAD], lens[i + AHEAD], s->seed);
            ring[i % AHEAD] = nx;
            __builtin_prefetch(bucket_at(s, scr_bucket_of(nx.h1, s->n_buckets)));
        }
        bool home;
        out[i] = find(s, fp, &home) != 0;
    }
}

int ch_screen_set_next(const ch_screen_set *s, uint64_t *cursor, const char **key, size_t *len,
                       uint32_t *n_attr, const uint32_t **attr_index) {
    /* Records were checked at open; a cursor not from us ends the walk
     * rather than reading out of bounds. */
    uint64_t at = *cursor;
    if (at >= s->records_size || at % SCR_REC_ALIGN || s->records_size - at < REC_KEY_AT) return 0;
    const uint8_t *r = s->records + at;
    uint64_t klen = scr_le16(r);
    if (klen == 0 || scr_rec_size(klen) > s->records_size - at || r[REC_KEY_AT + klen] != '\0' ||
        scr_le32(r + 4) >= s->n_sets)
        return 0;
    if (key) *key = (const char *)r + REC_KEY_AT;
    if (len) *len = klen;
    describe(s, scr_le32(r + 4) + 1, n_attr, attr_index);
    *cursor += scr_rec_size(klen);
    return 1;
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

/* The canonical key's lookup, its fingerprint worked out already (fp). */
static inline int lookup_fp(const ch_screen_set *s, scr_fp fp, uint32_t *n_attr,
                            const uint32_t **attr_index) {
    bool home;
    uint32_t r = find(s, fp, &home);
    if (r) {
        describe(s, r, n_attr, attr_index);
    } else {
        *n_attr = 0;
        *attr_index = NULL;
    }
    return r != 0;
}

/* The answer for address once parsed: rc and a (and err when rc != 0) as
 * ch_chainaddr_parse gave them; klen the length of a's canonical form and
 * fp its fingerprint (when rc == 0). */
static void lookup_parsed(const ch_screen_set *set, const char *address, int rc,
                          const ch_chainaddr *a, size_t klen, scr_fp fp, const ch_error *perr,
                          ch_screen_result *out) {
    out->status = CH_SCREEN_CLEAN;
    out->family = CH_FAM_UNKNOWN;
    out->canonical[0] = '\0';
    out->reason[0] = '\0';
    out->n_attr = 0;
    out->attr_index = NULL;
    out->n_folded = 0;
    out->folded_index = NULL;
    if (rc != 0) {
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
        copy_reason(out, perr->msg[0] ? perr->msg : "not a valid address");
        return;
    }
    out->family = a->family;
    memcpy(out->canonical, a->canonical, klen + 1);
    if (lookup_fp(set, fp, &out->n_attr, &out->attr_index)) out->status = CH_SCREEN_LISTED;
    /* A Base58 address a source listed lower-cased (its case lost) */
    if (!(set->flags & SCR_FLAG_FOLDED_KEYS)) return;
    char lower[CH_ADDR_STR_MAX];
    bool upper = false;
    size_t n = 0;
    for (; a->canonical[n] && n + 1 < sizeof lower; n++) {
        char c = a->canonical[n];
        upper |= c >= 'A' && c <= 'Z';
        lower[n] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    lower[n] = '\0';
    uint32_t nf;
    const uint32_t *fi;
    if (upper && ch_screen_lookup_canonical(set, lower, n, &nf, &fi) && nf) {
        out->n_folded = nf;
        out->folded_index = fi;
        out->n_attr += nf;
        out->status = CH_SCREEN_LISTED;
    }
}

void ch_screen_lookup(const ch_screen_set *set, const char *address, ch_screen_result *out) {
    ch_chainaddr a;
    ch_error err;
    err.msg[0] = '\0';
    int rc = ch_chainaddr_parse(address, CH_FAM_UNKNOWN, &a, &err);
    size_t klen = 0;
    scr_fp fp = {0, 0};
    if (rc == 0) {
        klen = strlen(a.canonical);
        fp = scr_fingerprint_of(set->version, a.canonical, klen, set->seed);
    }
    lookup_parsed(set, address, rc, &a, klen, fp, &err, out);
}

/* Parsed this many at a time (their errors are on the stack). */
#define LOOKUP_MANY_CHUNK 64

void ch_screen_lookup_many(const ch_screen_set *set, const char *const *addresses, size_t n,
                           ch_screen_result *out) {
    for (size_t base = 0; base < n; base += LOOKUP_MANY_CHUNK) {
        size_t m = n - base < LOOKUP_MANY_CHUNK ? n - base : LOOKUP_MANY_CHUNK;
        ch_chainaddr a[LOOKUP_MANY_CHUNK];
        ch_error err[LOOKUP_MANY_CHUNK];
        int rc[LOOKUP_MANY_CHUNK];
        size_t klen[LOOKUP_MANY_CHUNK];
        scr_fp fp[LOOKUP_MANY_CHUNK];
        for (size_t i = 0; i < m; i++)
            err[i].msg[0] = '\0';
        ch_chainaddr_parse_many(addresses + base, m, CH_FAM_UNKNOWN, a, rc, NULL, err);
        /* the chunk's buckets asked for before the first is read: their
         * cache misses overlap */
        for (size_t i = 0; i < m; i++) {
            klen[i] = 0;
            fp[i] = (scr_fp){0, 0};
            if (rc[i] == 0) {
                klen[i] = strlen(a[i].canonical);
                fp[i] = scr_fingerprint_of(set->version, a[i].canonical, klen[i], set->seed);
                __builtin_prefetch(bucket_at(set, scr_bucket_of(fp[i].h1, set->n_buckets)));
            }
        }
        for (size_t i = 0; i < m; i++)
            lookup_parsed(set, addresses[base + i], rc[i], &a[i], klen[i], fp[i], &err[i],
                          &out[base + i]);
    }
}

int ch_screen_attr_get(const ch_screen_set *set, const ch_screen_result *r, uint32_t i,
                       ch_screen_attr *out) {
    if (r->status != CH_SCREEN_LISTED || i >= r->n_attr) return -1;
    uint32_t exact = r->n_attr - r->n_folded;
    const uint32_t *idx = i < exact ? r->attr_index : r->folded_index;
    if (!idx) return -1;
    uint32_t j = i < exact ? i : i - exact;
    const uint8_t *a = set->attrs + (uint64_t)scr_le32((const uint8_t *)&idx[j]) * SCR_ATTR_BYTES;
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
    out->case_folded = i >= exact;
    return 0;
}

uint32_t scr_attr_id(const ch_screen_result *r, uint32_t i) {
    if (r->status != CH_SCREEN_LISTED || i >= r->n_attr) return UINT32_MAX;
    uint32_t exact = r->n_attr - r->n_folded;
    const uint32_t *idx = i < exact ? r->attr_index : r->folded_index;
    if (!idx) return UINT32_MAX;
    return scr_le32((const uint8_t *)&idx[i < exact ? i : i - exact]);
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
    out->case_folded = a.case_folded;
    if (a.case_folded) /* the key it was found under: the form the source listed */
        for (char *c = out->address; *c; c++)
            if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
    return 0;
}

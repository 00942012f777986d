/* An independent reader of the screening set, format 3, written from
 * docs/screening-set.md alone: it shares no code with the library (no
 * coinhound header, no coinhound object), only libxxhash (XXH3-128) and
 * OpenSSL (SHA-256). It is what a wallet's own reader would do, in C.
 *
 *   screen_spec_reader SET KEY             one canonical key: its hashes,
 *                                          home bucket, and attributions
 *   screen_spec_reader SET ANSWERS.tsv     every row of the test vectors
 *
 * ANSWERS.tsv (tests/data/screen/answers.tsv): input, answer (listed, clean,
 * invalid), key (canonical; "-" when invalid), h1, h2 (16 hex digits), home
 * bucket, attributions ("category|entity|source" joined by ";", in the file's
 * order; with header flag bit 0, those of the lower-cased key after its
 * own). For an invalid row it checks that the input is not a key of the
 * set (a reader must validate before it looks up: what the set cannot tell
 * it is whether a string is an address at all).
 * Exit 0 when the file checks out and every row agrees, 1 otherwise. */
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static uint8_t *file;
static size_t file_len;
static uint64_t n_buckets, seed, n_sets, n_setidx, n_attrs, strings_size, flags;
static const uint8_t *buckets, *sets, *setidx, *attrs;
static const char *strings;

static uint64_t le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static int die(const char *what) {
    fprintf(stderr, "screen_spec_reader: %s\n", what);
    exit(1);
}

/* A section of the header's table: offset at `at`, size at `at + 8`. */
static const uint8_t *section(int at, uint64_t *size) {
    uint64_t off = le(file + at, 8), len = le(file + at + 8, 8);
    if (off < 256 || off > file_len || len > file_len - off) die("a section lies outside the file");
    *size = len;
    return file + off;
}

static void load(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open the set");
    fseek(f, 0, SEEK_END);
    file_len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    file = malloc(file_len + 1);
    if (!file || file_len < 256 || fread(file, 1, file_len, f) != file_len) die("cannot read");
    fclose(f);
    if (memcmp(file, "CHSCREEN", 8) != 0) die("bad magic");
    if (le(file + 8, 4) != 3) die("not format version 3");
    if (le(file + 12, 4) != 256 || le(file + 16, 8) != file_len) die("bad header or file size");
    uint8_t sum[32];
    SHA256(file + 256, file_len - 256, sum);
    if (memcmp(sum, file + 128, 32) != 0) die("SHA-256 of the body does not match");
    uint64_t size;
    n_attrs = le(file + 32, 8);
    n_buckets = le(file + 40, 8);
    seed = le(file + 48, 8);
    flags = le(file + 200, 8);
    n_sets = le(file + 160, 8);
    buckets = section(56, &size);
    if (n_buckets == 0 || size != n_buckets * 64) die("bucket section size");
    attrs = section(88, &size);
    if (size != n_attrs * 52) die("attribution section size");
    strings = (const char *)section(104, &strings_size);
    if (strings_size == 0 || strings[strings_size - 1] != '\0') die("string table");
    sets = section(168, &size);
    if (size != n_sets * 8) die("set section size");
    setidx = section(184, &size);
    n_setidx = size / 4;
}

/* The set of a canonical key, or -1; *h and *home as computed. */
static int64_t lookup(const char *key, XXH128_hash_t *h, uint64_t *home) {
    *h = XXH3_128bits_withSeed(key, strlen(key), seed);
    uint64_t b = ((h->low64 & 0xffffffffu) * n_buckets) >> 32;
    *home = b;
    for (uint64_t probed = 0; probed < n_buckets; probed++) {
        const uint8_t *bk = buckets + 64 * b;
        for (int k = 0; k < 4; k++) {
            const uint8_t *slot = bk + 16 * k;
            uint64_t set1 = le(slot + 12, 4);
            if (set1 == 0) return -1; /* an empty slot ends the probe */
            if (le(slot, 8) == h->high64 && le(slot + 8, 4) == h->low64 >> 32) {
                if (set1 > n_sets) die("slot names a set past the table");
                return (int64_t)set1 - 1;
            }
        }
        b = b + 1 == n_buckets ? 0 : b + 1; /* all four full: the next bucket */
    }
    return -1;
}

static const char *str(uint64_t off) {
    if (off >= strings_size) die("string offset outside the table");
    return strings + off;
}

/* "category|entity|source;..." of a set, appended to out. */
static void describe(int64_t set, char *out, size_t cap) {
    uint64_t count = le(sets + 8 * set, 4), first = le(sets + 8 * set + 4, 4);
    if (first + count > n_setidx) die("set outside the set index");
    for (uint64_t i = 0; i < count; i++) {
        uint64_t a = le(setidx + 4 * (first + i), 4);
        if (a >= n_attrs) die("set index names no attribution");
        const uint8_t *rec = attrs + 52 * a;
        size_t at = strlen(out);
        snprintf(out + at, cap - at, "%s%s|%s|%s", at ? ";" : "", str(le(rec + 16, 4)),
                 str(le(rec + 4, 4)), str(le(rec + 20, 4)));
    }
}

/* Spec section 4: a key's attributions into out ("" when not listed): its
 * own, then, when header flag bit 0 (folded keys) is set and the key has
 * upper-case letters, those of its lower-cased form. 1 listed, 0 not. */
static int answer(const char *key, XXH128_hash_t *h, uint64_t *home, char *out, size_t cap) {
    out[0] = '\0';
    int64_t set = lookup(key, h, home);
    if (set >= 0) describe(set, out, cap);
    int listed = set >= 0;
    char lower[256];
    size_t n = strlen(key), upper = 0;
    if (!(flags & 1) || n >= sizeof lower) return listed;
    for (size_t i = 0; i <= n; i++) {
        char c = key[i];
        upper += c >= 'A' && c <= 'Z';
        lower[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    XXH128_hash_t hf;
    uint64_t homef;
    int64_t fset = upper ? lookup(lower, &hf, &homef) : -1;
    if (fset >= 0) describe(fset, out, cap);
    return listed || fset >= 0;
}

int main(int argc, char **argv) {
    if (argc != 3) die("usage: screen_spec_reader SET KEY|ANSWERS.tsv");
    load(argv[1]);
    XXH128_hash_t h;
    uint64_t home;
    char attrs_s[4096];
    const char *dot = strrchr(argv[2], '.');
    if (!dot || strcmp(dot, ".tsv") != 0) {
        int listed = answer(argv[2], &h, &home, attrs_s, sizeof attrs_s);
        printf("%016llx\t%016llx\t%llu\t%s\n", (unsigned long long)h.low64,
               (unsigned long long)h.high64, (unsigned long long)home,
               listed ? attrs_s : "(not listed)");
        return 0;
    }
    FILE *t = fopen(argv[2], "r");
    if (!t) die("cannot open the answers");
    char line[8192];
    int rows = 0, bad = 0;
    while (fgets(line, sizeof line, t)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        line[strcspn(line, "\n")] = '\0';
        char *f[7] = {0};
        char *p = line;
        for (int i = 0; i < 7 && p; i++) {
            f[i] = p;
            p = strchr(p, '\t');
            if (p) *p++ = '\0';
        }
        if (!f[6]) die("an answers row has fewer than 7 fields");
        rows++;
        const char *key = strcmp(f[1], "invalid") == 0 ? f[0] : f[2];
        int listed = strcmp(f[1], "invalid") == 0 ? lookup(key, &h, &home) >= 0
                                                  : answer(key, &h, &home, attrs_s, sizeof attrs_s);
        char got[64];
        snprintf(got, sizeof got, "%016llx\t%016llx\t%llu", (unsigned long long)h.low64,
                 (unsigned long long)h.high64, (unsigned long long)home);
        char want[64];
        snprintf(want, sizeof want, "%s\t%s\t%s", f[3], f[4], f[5]);
        int ok;
        if (strcmp(f[1], "invalid") == 0)
            ok = !listed; /* never listed verbatim: only validation answers it */
        else if (strcmp(f[1], "clean") == 0)
            ok = !listed && strcmp(got, want) == 0;
        else
            ok = listed && strcmp(got, want) == 0 && strcmp(attrs_s, f[6]) == 0;
        if (!ok) {
            bad++;
            printf("row %d (%s, %s): got %s %s\n", rows, f[0], f[1], got,
                   listed ? attrs_s : "(not listed)");
        }
    }
    fclose(t);
    printf("%d rows, %d agree\n", rows, rows - bad);
    return bad || rows == 0;
}

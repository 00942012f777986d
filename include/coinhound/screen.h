/* coinhound: the offline screening set, a file to embed in a wallet or an
 * exchange that answers "who is behind this address?" without a database.
 *
 * ---- Using it ---------------------------------------------------------
 *
 *   #include <stdio.h>
 *
 *   #include "coinhound/screen.h"
 *
 *   int main(int argc, char **argv) {
 *       ch_screen_set *set;
 *       ch_error err;
 *       if (argc < 3) {
 *           fprintf(stderr, "usage: %s SET ADDRESS\n", argv[0]);
 *           return 2;
 *       }
 *       if (ch_screen_set_open(argv[1], &set, &err) != 0) {
 *           fprintf(stderr, "%s\n", err.msg);
 *           return 2;
 *       }
 *       ch_screen_result r; // no allocation per lookup
 *       ch_screen_lookup(set, argv[2], &r);
 *       int status = 0;
 *       if (r.status == CH_SCREEN_INVALID) {
 *           printf("invalid: %s\n", r.reason); // never "clean"
 *           status = 2;
 *       } else if (r.status == CH_SCREEN_CLEAN) {
 *           printf("%s: not listed\n", r.canonical);
 *       } else {
 *           for (uint32_t i = 0; i < r.n_attr; i++) {
 *               ch_screen_attr a;
 *               ch_screen_attr_get(set, &r, i, &a); // pointers into the file
 *               printf("%s: %s %s (%s%s%s) per %s %s, confidence %u%s\n", r.canonical,
 *                      a.category, a.entity, a.actor_country,
 *                      a.actor_country[0] ? ": " : "", a.actor, a.source_name,
 *                      a.source_date, a.confidence, a.delisted ? " [delisted]" : "");
 *           }
 *           status = 1;
 *       }
 *       ch_screen_set_close(set);
 *       return status;
 *   }
 *
 * docs/examples/screen_example.c is this program (its comments written with
 * slashes here); tests/test_screen_set.c builds and runs it, and
 * tests/test_install.sh builds it as C and C++ against an installed tree:
 * `cc app.c $(pkg-config --cflags --libs coinhound)`. Lookups are
 * thread-safe: the set is read-only after open, and a result lives in the
 * caller's ch_screen_result. Risk
 * levels come from risk.h (ch_screen_attr_to_attribution + ch_risk_assess).
 *
 * ---- The file (version 3, all integers little-endian) -----------------
 *
 * docs/screening-set.md is the published spec, for readers in any
 * language, with test vectors (tests/data/screen/); this is its summary.
 *
 *   offset size  header (CH_SCREEN_HEADER_SIZE = 256 bytes)
 *   0      8     magic "CHSCREEN"
 *   8      4     format version: 3 is written; 2 (the same layout with
 *                coinhound's own hash) is still read; a reader refuses any
 *                other, and says so (a version-1 file is to be written
 *                again by this build)
 *   12     4     header size (256)
 *   16     8     file size in bytes
 *   24     8     addresses
 *   32     8     attribution records (deduplicated)
 *   40     8     buckets (each 64 bytes)
 *   48     8     hash seed (the one the writer settled on, see below)
 *   56     8+8   buckets:      offset, size
 *   72     8+8   records:      offset, size
 *   88     8+8   attributions: offset, size
 *   104    8+8   strings:      offset, size
 *   120    8     created (Unix seconds)
 *   128    32    SHA-256 of bytes [256, file size): the whole body
 *   160    8     attribution sets
 *   168    8+8   sets:         offset, size
 *   184    8+8   set index:    offset, size
 *   200    8     flags: bit 0 = some key is a lower-case string that is no
 *                valid address (a Base58 address a source listed with its
 *                letter case lost): a lookup of an address with upper-case
 *                letters then also asks its lower-cased form
 *   208    48    zero (reserved)
 *
 *   The body, in this order: buckets, sets, set index, attributions,
 *   records, strings (what a lookup reads first, what only export reads
 *   last).
 *
 *   buckets   n x 64 bytes (64-byte aligned: one cache line each) = 4 slots
 *             of 16 bytes: u64 h2, u32 high half of h1, u32 set + 1 (0 =
 *             empty; slots fill from the first, no gaps). h1 and h2 are the
 *             low and high 64 bits of XXH3-128 of the key under the seed
 *             (XXH3_128bits_withSeed; format 2: two lanes of coinhound's
 *             own multiply hash); ch_screen_hash gives h1. A key's home bucket is (low 32
 *             bits of h1 * n) >> 32; when its 4 slots are full, the key sits
 *             in the next bucket with room (linear probing, wrapping). The
 *             writer keeps 1.25 keys per bucket on average, so that > 99% of
 *             keys sit at home (Poisson: 0.9% overflow).
 *   sets      8 bytes each: u32 count, u32 first (into the set index). An
 *             attribution set is the sorted list of one address's
 *             attributions; addresses with the same list share one set (all
 *             of OFAC's XBT list is one), so the table is small and stays in
 *             cache.
 *   set index u32 attribution numbers, the sets' lists one after another.
 *   attrs     52-byte records: 12 u32 string offsets (asset, entity, actor,
 *             actor_country, category, source_name, source_url, source_date,
 *             first_listed, last_listed, delisted_date, note), u8 confidence,
 *             u8 flags (1 = delisted), u16 0. Identical attributions (all
 *             fields but the address) are stored once.
 *   records   per address, 4-byte aligned: u16 key length, u16 0, u32 set,
 *             the canonical key and a NUL, padding to 4. For iteration and
 *             export (ch_screen_set_next) and for the check at open; a
 *             lookup never reads them.
 *   strings   NUL-terminated, each distinct string once; offset 0 is "".
 *
 * ---- A lookup is one cache line ----------------------------------------
 *
 * Hash the key once (h1, h2: one XXH3-128, inlined), read the
 * home bucket, compare the four 96-bit fingerprints, take the set of the
 * slot that matches: no key comparison, so nothing else is read (a caller
 * asking for the attributions reads the set's 8 bytes, in cache for any
 * real list). The scan has no data-dependent branch, so successive lookups
 * overlap their cache misses even one at a time. A full home bucket with no
 * match (about 4% of absent keys, 0.9% of present ones) reads the next.
 *
 * Why a fingerprint is a sound identity. A listed key is always found:
 * the writer places it, then checks what its lookup would see - scanning
 * from its home to its own slot, no other listed key's fingerprint may be
 * equal (one that were would answer for it) - and if any would, it picks
 * another seed (seed + 0x9e37...15, up to 64 tries; recorded at offset 48)
 * and builds again. So no listed key can ever be answered for by another
 * listed key, in any file. An unlisted key is reported listed only if its
 * 96 fingerprint bits (h2 and h1's high half) equal those of one of the <=
 * 4 to 8 slots it scans, while its bucket bits (h1's low half, which picked
 * the bucket and are independent of the rest) point at that bucket; over
 * the whole set that is n / 2^(96 + log2 buckets) ~ 1.25 * 2^-96 ~ 1.6e-29
 * per lookup, whatever n: at 20M lookups/s for a century (6e16 lookups),
 * about 1e-12 in all. Even with a few hundred million keys a 96-bit
 * fingerprint is far from the birthday bound (2^48 keys) that would make
 * the writer's reseeding ever needed. The hashes are not cryptographic and
 * the seed is in the file: someone could craft a string matching a listed
 * fingerprint. What they would get is a false "listed" for that string -
 * never a listed address reported clean - and since a usable address is
 * itself a hash output (of a public key or a script), a crafted string is
 * one nobody holds keys for. ch_screen_set_next gives the true key of
 * every entry for whoever wants to compare keys byte for byte.
 *
 * ch_screen_set_open maps the file, checks magic, version, sizes, the
 * SHA-256 and every offset (so a corrupt or hostile file is refused, never
 * read out of bounds), and says which check failed. */
#ifndef COINHOUND_SCREEN_H
#define COINHOUND_SCREEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coinhound/chainaddr.h"
#include "coinhound/error.h"
#include "coinhound/intel.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CH_SCREEN_MAGIC       "CHSCREEN"
#define CH_SCREEN_VERSION     3 /* written; versions 2 and 3 are read */
#define CH_SCREEN_HEADER_SIZE 256

typedef struct ch_screen_set ch_screen_set;

typedef enum ch_screen_status {
    CH_SCREEN_CLEAN = 0,  /* valid address, not in the set */
    CH_SCREEN_LISTED = 1, /* in the set: see its attributions */
    CH_SCREEN_INVALID = 2 /* not a valid address: see reason */
} ch_screen_status;

typedef struct ch_screen_result {
    ch_screen_status status;
    ch_family family;                /* detected family (UNKNOWN when invalid) */
    char canonical[CH_ADDR_STR_MAX]; /* the key looked up */
    char reason[128];                /* why invalid ("bad checksum"), else "" */
    uint32_t n_attr;                 /* attributions when LISTED */
    const uint32_t *attr_index;      /* into the set's mapping */
    /* Of the n_attr, the last n_folded were listed by their source under
     * the lower-cased form of the address (a list that lost letter case) and
     * matched case-insensitively; ch_screen_attr_get says so per entry. */
    uint32_t n_folded;
    const uint32_t *folded_index;
} ch_screen_result;

/* One attribution as the set stores it: pointers into the mapping, valid
 * until ch_screen_set_close. */
typedef struct ch_screen_attr {
    const char *asset, *entity, *actor, *actor_country, *category, *source_name, *source_url,
        *source_date, *first_listed, *last_listed, *delisted_date, *note;
    uint8_t confidence;
    bool delisted;
    bool case_folded; /* matched case-insensitively (see n_folded) */
} ch_screen_attr;

typedef struct ch_screen_info {
    uint32_t version;
    uint64_t file_size, addresses, attributions, buckets, created;
    double bytes_per_address;
    uint64_t attribution_sets; /* distinct attribution lists */
    uint64_t in_home_bucket;   /* addresses found in their home bucket */
    uint64_t seed;             /* the hash seed in use */
} ch_screen_info;

int ch_screen_set_open(const char *path, ch_screen_set **out, ch_error *err);
/* CH_SCREEN_OPEN_HUGEPAGES: instead of mapping the file, read it into
 * private memory backed by transparent huge pages. Costs a private copy (no
 * sharing of the page cache between processes) and the read at open; buys
 * fewer TLB misses, which on sets far larger than the TLB's reach (millions
 * of addresses) is most of a lookup's cost. */
#define CH_SCREEN_OPEN_HUGEPAGES 1u
int ch_screen_set_open_flags(const char *path, unsigned flags, ch_screen_set **out, ch_error *err);
void ch_screen_set_close(ch_screen_set *set);
void ch_screen_set_info(const ch_screen_set *set, ch_screen_info *out);

/* Validate and normalise (ch_chainaddr_parse) then look up. A string that
 * is no valid address is INVALID with the reason, except when the set holds
 * it verbatim (a source listed a value of no known form): then LISTED. An
 * address with upper-case letters (Base58) is also looked up lower-cased:
 * what a source listed with the letter case lost counts, marked. */
void ch_screen_lookup(const ch_screen_set *set, const char *address, ch_screen_result *out);
/* ch_screen_lookup of n addresses: out[i] is what ch_screen_lookup(set,
 * addresses[i], &out[i]) gives. Faster per address than a call each when
 * many are EVM addresses in EIP-55 mixed case (ch_chainaddr_parse_many). */
void ch_screen_lookup_many(const ch_screen_set *set, const char *const *addresses, size_t n,
                           ch_screen_result *out);
/* Look up a key already in canonical form (no validation): 1 listed, 0 not.
 * *n_attr and *attr_index describe the attributions (may be NULL). */
int ch_screen_lookup_canonical(const ch_screen_set *set, const char *canonical, size_t len,
                               uint32_t *n_attr, const uint32_t **attr_index);
/* Many canonical keys at once, with the index lines prefetched ahead so the
 * memory latency of one overlaps the next: out[i] = 1 listed / 0 not. */
void ch_screen_lookup_canonical_batch(const ch_screen_set *set, const char *const *keys,
                                      const size_t *lens, size_t n, uint8_t *out);

/* Every listed address, in the file's order: start with *cursor = 0; each
 * call gives the next canonical key (NUL-terminated, in the mapping) and its
 * attributions and returns 1, then 0 at the end. */
int ch_screen_set_next(const ch_screen_set *set, uint64_t *cursor, const char **key, size_t *len,
                       uint32_t *n_attr, const uint32_t **attr_index);

/* Attribution i (0 <= i < r->n_attr) of a LISTED result; -1 if out of range. */
int ch_screen_attr_get(const ch_screen_set *set, const ch_screen_result *r, uint32_t i,
                       ch_screen_attr *out);
/* The same as a ch_attribution (strings copied, truncated to its fields),
 * address = r->canonical (lower-cased, with case_folded set, for an entry
 * matched case-insensitively): for ch_risk_assess. */
int ch_screen_attr_to_attribution(const ch_screen_set *set, const ch_screen_result *r, uint32_t i,
                                  ch_attribution *out);

/* ---- Writing a set ----
 * Add attributions in any order (one address may come many times), then
 * finish: the file is written to PATH.tmp.<pid>, synced and renamed over
 * PATH, so readers see the old set or the new one, never a partial file. */
typedef struct ch_screen_writer ch_screen_writer;

ch_screen_writer *ch_screen_set_writer_new(void);
/* The address is normalised with ch_chainaddr_parse (the asset as hint);
 * one that fails is refused (-1, the reason in err) and the writer stays
 * usable, so a caller can skip and count it. */
int ch_screen_set_writer_add(ch_screen_writer *w, const ch_attribution *a, ch_error *err);
/* As add, with the key used as given (already canonical, e.g. from the
 * attribution store, or a value of no known form a source listed). A key
 * equal to a->address with a->address_checked set is taken to be a valid
 * address without parsing it again (the folded-keys flag's test). */
int ch_screen_set_writer_add_key(ch_screen_writer *w, const char *key, const ch_attribution *a,
                                 ch_error *err);
uint64_t ch_screen_set_writer_count(const ch_screen_writer *w); /* distinct addresses */
/* Write format `version` instead of CH_SCREEN_VERSION: 2 for readers not
 * yet updated (format 2's hash is coinhound's own), 3 (XXH3) otherwise.
 * -1 for a version this build cannot write. */
int ch_screen_set_writer_set_version(ch_screen_writer *w, uint32_t version, ch_error *err);
int ch_screen_set_writer_finish(ch_screen_writer *w, const char *path, ch_screen_info *info,
                                ch_error *err);
void ch_screen_set_writer_free(ch_screen_writer *w);

/* The 64-bit hash that picks a key's bucket (h1) in the format this build
 * writes: the low 64 bits of XXH3-128 of the key under the seed. Exposed for
 * tests and tools. */
uint64_t ch_screen_hash(const void *key, size_t len, uint64_t seed);

#ifdef __cplusplus
}
#endif

#endif

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
 * slashes here); tests/test_screen_set.c builds and runs it. Link with
 * libcoinhound.a and -lcrypto. Lookups are thread-safe: the set is read-only
 * after open, and a result lives in the caller's ch_screen_result. Risk
 * levels come from risk.h (ch_screen_attr_to_attribution + ch_risk_assess).
 *
 * ---- The file (version 1, all integers little-endian) -----------------
 *
 *   offset size  header (CH_SCREEN_HEADER_SIZE = 256 bytes)
 *   0      8     magic "CHSCREEN"
 *   8      4     format version (1); a reader refuses any other
 *   12     4     header size (256)
 *   16     8     file size in bytes
 *   24     8     addresses
 *   32     8     attribution records (deduplicated)
 *   40     8     buckets (each 64 bytes)
 *   48     8     hash seed
 *   56     8+8   buckets:      offset, size
 *   72     8+8   records:      offset, size
 *   88     8+8   attributions: offset, size
 *   104    8+8   strings:      offset, size
 *   120    8     created (Unix seconds)
 *   128    32    SHA-256 of bytes [256, file size): the whole body
 *   160    96    zero (reserved)
 *
 *   buckets   n x 64 bytes = 8 slots of {u32 tag, u32 record}: tag = high 32
 *             bits of the key's 64-bit hash, record = offset / 8 into the
 *             records section (0 = empty slot). An address lives in bucket
 *             (low 32 bits of the hash * n) >> 32 or, when that is full, the
 *             next ones (linear probing); with about 5 addresses per bucket
 *             on average, a lookup reads one cache line of index and an
 *             absent address almost never a second.
 *   records   per address, 8-byte aligned: u16 key length, u16 0, u32 count,
 *             the canonical key and a NUL, padding to 4, then count u32
 *             indexes of attribution records. A tag match is confirmed by
 *             comparing the full key, so a 32-bit tag collision can never
 *             flag a clean address; the record is the second (and last)
 *             cache line a listed address reads.
 *   attrs     52-byte records: 12 u32 string offsets (asset, entity, actor,
 *             actor_country, category, source_name, source_url, source_date,
 *             first_listed, last_listed, delisted_date, note), u8 confidence,
 *             u8 flags (1 = delisted), u16 0. Identical attributions (all
 *             fields but the address) are stored once.
 *   strings   NUL-terminated, each distinct string once; offset 0 is "".
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

#define CH_SCREEN_MAGIC       "CHSCREEN"
#define CH_SCREEN_VERSION     1
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
} ch_screen_result;

/* One attribution as the set stores it: pointers into the mapping, valid
 * until ch_screen_set_close. */
typedef struct ch_screen_attr {
    const char *asset, *entity, *actor, *actor_country, *category, *source_name, *source_url,
        *source_date, *first_listed, *last_listed, *delisted_date, *note;
    uint8_t confidence;
    bool delisted;
} ch_screen_attr;

typedef struct ch_screen_info {
    uint32_t version;
    uint64_t file_size, addresses, attributions, buckets, created;
    double bytes_per_address;
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
 * it verbatim (a source listed a value of no known form): then LISTED. */
void ch_screen_lookup(const ch_screen_set *set, const char *address, ch_screen_result *out);
/* Look up a key already in canonical form (no validation): 1 listed, 0 not.
 * *n_attr and *attr_index describe the attributions (may be NULL). */
int ch_screen_lookup_canonical(const ch_screen_set *set, const char *canonical, size_t len,
                               uint32_t *n_attr, const uint32_t **attr_index);
/* Many canonical keys at once, with the index lines prefetched ahead so the
 * memory latency of one overlaps the next: out[i] = 1 listed / 0 not. */
void ch_screen_lookup_canonical_batch(const ch_screen_set *set, const char *const *keys,
                                      const size_t *lens, size_t n, uint8_t *out);

/* Attribution i (0 <= i < r->n_attr) of a LISTED result; -1 if out of range. */
int ch_screen_attr_get(const ch_screen_set *set, const ch_screen_result *r, uint32_t i,
                       ch_screen_attr *out);
/* The same as a ch_attribution (strings copied, truncated to its fields),
 * address = r->canonical: for ch_risk_assess. */
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
 * attribution store, or a value of no known form a source listed). */
int ch_screen_set_writer_add_key(ch_screen_writer *w, const char *key, const ch_attribution *a,
                                 ch_error *err);
uint64_t ch_screen_set_writer_count(const ch_screen_writer *w); /* distinct addresses */
int ch_screen_set_writer_finish(ch_screen_writer *w, const char *path, ch_screen_info *info,
                                ch_error *err);
void ch_screen_set_writer_free(ch_screen_writer *w);

/* The 64-bit hash of a key under a seed (exposed for tests and tools). */
uint64_t ch_screen_hash(const void *key, size_t len, uint64_t seed);

#endif

/* coinhound: the attribution store (who is behind which address).
 *
 * Lives beside the chain store, in DIR/intel/ (its own LMDB environment), and
 * needs no chain. Keyed by the canonical address string (chainaddr.h); each
 * address has one or more attributions, each saying where it came from.
 * Imports are idempotent; a delisting is kept as history (delisted = true
 * with its date), never deleted. */
#ifndef COINHOUND_INTEL_H
#define COINHOUND_INTEL_H

#include <stdbool.h>
#include <stdint.h>

#include "coinhound/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ch_jw; /* coinhound/jsonw.h: the JSON writer the doors share */

/* One label on one address. Strings are NUL-terminated and may be empty. */
typedef struct ch_attribution {
    char address[128];     /* canonical form */
    char asset[16];        /* asset or chain as the source listed it: "ETH", "XBT", "USDT" */
    char entity[128];      /* who the source names: "LAZARUS GROUP", "Binance" */
    char actor[64];        /* resolved actor, aliases folded: "Lazarus Group"; "" if none */
    char actor_country[8]; /* "DPRK" for the DPRK family; "" if none */
    char category[32];     /* sanctions, stolen_funds, hacker, exchange, mixer, bridge, ... */
    char source_name[64];  /* "OFAC SDN", "FBI PSA I-022625-PSA", "GraphSense TagPack lazarus" */
    char source_url[256];
    char source_date[16];  /* YYYY-MM-DD the source was published/listed, or "" */
    uint8_t confidence;    /* 0..100 */
    char first_listed[16]; /* YYYY-MM-DD first seen listed, or "" */
    char last_listed[16];  /* YYYY-MM-DD last seen listed, or "" */
    bool delisted;         /* removed by its source; kept as history */
    char delisted_date[16];
    char note[256];
    /* The source's own id of the listing, "" if none: OFAC's SDN entry uid
     * (ent_num in sdn.csv, uid in sdn.xml, the profile id in
     * sdn_advanced.xml). When set it is the listing's identity in the store,
     * so one entry read from any of OFAC's formats is one attribution
     * whatever its name is spelled like ("SEMENOV, Roman" / "Roman SEMENOV"). */
    char source_id[32];
    /* Set by lookups, never stored: the source lists this address with its
     * letter case lost (a lower-cased copy of a Base58 address) and it was
     * matched case-insensitively to the address asked about. */
    bool case_folded;
    /* Set by reads of the attribution store: when it wrote the record, the
     * store saw ch_chainaddr_parse(address, CH_FAM_UNKNOWN) accept this very
     * string (an import without an asset hint of an address written in its
     * canonical form). False when it did not see that, whatever the address
     * is (older records, hinted or re-cased imports, kept values). A
     * screening set's writer takes it instead of parsing the key again
     * (ch_screen_set_writer_add_key); a caller that sets it vouches for it. */
    bool address_checked;
} ch_attribution;

typedef struct ch_intel ch_intel;

/* Open (creating when writable) the attribution store under dbdir/intel.
 * A writable open holds dbdir/intel/writer.lock until ch_intel_close (one
 * writer at a time, see coinhound/lock.h): while another process writes,
 * it fails naming that process's pid. Handles of one attribution store in
 * one process share one LMDB environment (as ch_store_open's do, see
 * store.h): a writable open beside readers shares theirs. */
int ch_intel_open(const char *dbdir, bool writable, ch_intel **out, ch_error *err);
/* The same writable open; with wait, waits for another writer to end
 * instead of failing. */
int ch_intel_open_writer(const char *dbdir, bool wait, ch_intel **out, ch_error *err);
void ch_intel_close(ch_intel *db);

/* A reader that may become a writer for a while, for a process that keeps
 * the store open to read (coinhound serve) and may not open its LMDB
 * environment a second time (LMDB's rule: one handle per process; closing a
 * second one drops the first's locks; every opener now shares one, see
 * above). The environment is opened
 * read-write (write permission on dbdir/intel is needed) but no writer lock
 * is taken and nothing is written: lookups work as on ch_intel_open's. */
int ch_intel_open_shared(const char *dbdir, ch_intel **out, ch_error *err);
/* Take the writer lock (dbdir/intel/writer.lock; with wait, wait for the
 * writer holding it, else fail naming its pid) so that imports may run on a
 * shared handle; ch_intel_write_end releases it. One write at a time: the
 * caller serialises begin..end. -1 on a handle not opened shared. */
int ch_intel_write_begin(ch_intel *db, bool wait, ch_error *err);
void ch_intel_write_end(ch_intel *db);
/* Can db be written (opened writable, or shared)? */
bool ch_intel_can_write(const ch_intel *db);

/* Callback per attribution; return non-zero to stop. */
typedef int (*ch_attribution_fn)(const ch_attribution *a, void *ctx);

/* Every attribution of one canonical address, delisted ones included
 * (callers decide whether history counts). An address with upper-case
 * letters (Base58) also gets the attributions a source listed under its
 * lower-cased form (a list that lost letter case), with case_folded set.
 * Returns the count, -1 on error. */
int ch_intel_lookup(ch_intel *db, const char *canonical, ch_attribution_fn fn, void *ctx,
                    ch_error *err);
/* Every attribution in the store, in key order. */
int ch_intel_foreach(ch_intel *db, ch_attribution_fn fn, void *ctx, ch_error *err);

/* ---- Imports (appended API) ----
 *
 * Every import runs in ONE LMDB write transaction: bad input anywhere (a
 * syntax error, an unreadable file) aborts it and the store is unchanged. An
 * address that fails validation is not a syntax error: its row is skipped,
 * counted in `rejected` and reported through opts->warn (the official OFAC
 * lists are the exception: what OFAC lists is kept verbatim, see import.c). */
typedef enum ch_intel_format {
    CH_FMT_AUTO = 0,      /* detect from the name and the content */
    CH_FMT_OFAC_XML,      /* legacy sdn.xml */
    CH_FMT_OFAC_ADVANCED, /* sdn_advanced.xml */
    CH_FMT_OFAC_CSV,      /* sdn.csv (addresses in the remarks column) */
    CH_FMT_OFAC_LISTS,    /* sanctioned_addresses_<ASSET>.txt/.json, or their folder */
    CH_FMT_CSV,           /* CSV with a header: address,category,entity[,source,...] */
    CH_FMT_TAGPACK,       /* GraphSense TagPack YAML */
    CH_FMT_STIX,          /* STIX 2.1 bundle */
    CH_FMT_MISP,          /* MISP event JSON */
    CH_FMT_MISP_GALAXY,   /* MISP threat-actor galaxy (aliases) */
    CH_FMT_ETHERSCAN,     /* Etherscan label export (combined JSON, per-label CSV/JSON) */
    CH_FMT_OFAC_COMMENTS, /* sdn_comments.csv: the rest of sdn.csv remarks cut at 1,000 chars */
    CH_FMT_COUNT
} ch_intel_format;

/* "ofac-xml", "tagpack", ...; and back (-1 when unknown). */
const char *ch_intel_format_name(ch_intel_format f);
int ch_intel_format_parse(const char *name, ch_intel_format *out);
/* Detect the format of a file or folder; -1 with a reason when none fits. */
int ch_intel_detect_format(const char *path, ch_intel_format *out, ch_error *err);

typedef struct ch_import_stats {
    uint64_t addresses;     /* address rows accepted */
    uint64_t added;         /* attributions new to the store */
    uint64_t updated;       /* attributions already known, seen again */
    uint64_t delisted;      /* attributions marked delisted by this import */
    uint64_t rejected;      /* rows skipped: address invalid for its asset */
    uint64_t actors;        /* actors created or updated */
    uint64_t aliases;       /* aliases recorded */
    uint64_t techniques;    /* actor -> technique links recorded */
    uint64_t files;         /* files read */
    uint64_t cut;           /* OFAC sdn.csv addresses cut short by the 1,000-character remark
                               limit and not recovered from sdn_comments.csv: skipped */
    uint64_t case_lost;     /* addresses listed with their letter case lost (lower-cased
                               Base58): kept lower-cased, matched case-insensitively */
    uint64_t case_restored; /* of those, restored to the real-case address the store knows */
    uint64_t skipped;       /* files of a folder skipped because they could not be read */
    uint64_t transcoded;    /* rows whose text was not UTF-8: read as Latin-1/CP1252, converted */
} ch_import_stats;

typedef struct ch_import_opts {
    ch_intel_format format; /* CH_FMT_AUTO to detect per file */
    /* YYYY-MM-DD used as the listing date where a source carries none;
     * NULL or "" = today (UTC). */
    const char *as_of;
    /* Called once per rejected row ("file:line: ..."); may be NULL. */
    void (*warn)(const char *msg, void *ctx);
    /* Called after each file with that file's counts; may be NULL. */
    void (*on_file)(const char *path, ch_intel_format f, const ch_import_stats *st, void *ctx);
    void *ctx;
    /* A folder's file that cannot be read (unreadable, of no known format,
     * or malformed) is skipped with a warning, its rows not kept; with
     * strict the whole import fails instead. A file named on its own always
     * fails the import. */
    bool strict;
    /* What a CSV that does not say it lists (no category column) lists: a
     * CSV with no category, role, programs or actor column is refused
     * unless category, entity and source are all given; in other CSVs they
     * fill the rows where the file leaves them empty. NULL = not given. */
    const char *category, *entity, *source;
} ch_import_opts;

typedef struct ch_import ch_import;

/* A multi-path import in one transaction: begin, add paths, then commit (or
 * abort; a failed add leaves the import unusable except for abort). */
int ch_intel_import_begin(ch_intel *db, const ch_import_opts *opts, ch_import **out, ch_error *err);
int ch_intel_import_path(ch_import *im, const char *path, ch_import_stats *st, ch_error *err);
/* The bytes of one file (fuzzing, tests). `name` appears in messages and
 * names the asset of an OFAC per-asset list. format must not be AUTO. */
int ch_intel_import_mem(ch_import *im, ch_intel_format format, const char *name, const void *data,
                        size_t len, ch_import_stats *st, ch_error *err);
int ch_intel_import_commit(ch_import *im, ch_error *err);
void ch_intel_import_abort(ch_import *im);

/* One path, one transaction. */
int ch_intel_import(ch_intel *db, const char *path, const ch_import_opts *opts, ch_import_stats *st,
                    ch_error *err);

/* ---- Actors ---- */
typedef struct ch_actor {
    char name[64];      /* canonical: "Lazarus Group" */
    char country[8];    /* "DPRK", ... or "" */
    char attack_id[16]; /* MITRE ATT&CK group id ("G0032") or "" */
    char source[64];    /* where it was learned: "built-in", "MITRE ATT&CK", "MISP galaxy" */
    char description[512];
} ch_actor;

/* Resolve a name or alias (any case, spaces and punctuation ignored:
 * "HIDDEN COBRA", "lazarusgroup", "LAZARUS GROUP") to its actor. Returns 1
 * found, 0 not found, -1 error. Free text such as "Lazarus Group / APT38
 * (DPRK)" resolves by its first part that names an actor. */
int ch_intel_actor_resolve(ch_intel *db, const char *name, ch_actor *out, ch_error *err);
/* Aliases of one canonical actor: fn(alias, source, ctx). */
int ch_intel_actor_aliases(ch_intel *db, const char *actor,
                           int (*fn)(const char *alias, const char *source, void *ctx), void *ctx,
                           ch_error *err);
/* Techniques of one canonical actor: fn("T1566.001", "Spearphishing Attachment", ctx). */
int ch_intel_actor_techniques(ch_intel *db, const char *actor,
                              int (*fn)(const char *tid, const char *name, void *ctx), void *ctx,
                              ch_error *err);
/* Every actor, in name order. */
int ch_intel_actors_foreach(ch_intel *db, int (*fn)(const ch_actor *a, void *ctx), void *ctx,
                            ch_error *err);

/* ---- As JSON (every door writes these: intel lookup|actor --json, serve) ---- */

/* `intel lookup ADDR --json`: {"address", "canonical", "valid",
 * "attributions": [...]} with every attribution, delisted ones included
 * (the history: "delisted", "delisted_date", "first_listed", "last_listed").
 * *valid is false when address is no valid address and nothing is listed
 * under it as written: then {"address", "valid": false, "reason"} is
 * written. Returns the attributions' count, -1 on error (the object may be
 * incomplete). */
int ch_intel_lookup_json(ch_intel *db, const char *address, struct ch_jw *w, bool *valid,
                         ch_error *err);
/* One actor: {"query" (when not NULL), "name", "country", "attack_id",
 * "source", "description", "aliases": [{"alias","source"}], "techniques":
 * [{"id","name"}]}. 0, -1 on error. */
int ch_intel_actor_json(ch_intel *db, const ch_actor *act, const char *query, struct ch_jw *w,
                        ch_error *err);

/* An import's counts as one JSON object: {"addresses", "added", "updated",
 * "delisted", "rejected", "actors", "aliases", "techniques", "files",
 * "cut", "case_lost", "case_restored", "skipped", "transcoded"}. */
void ch_intel_import_stats_json(const ch_import_stats *st, struct ch_jw *w);

/* ---- Statistics and export ---- */
typedef struct ch_intel_counts {
    uint64_t attributions, addresses, delisted, actors, aliases, techniques;
} ch_intel_counts;
int ch_intel_counts_get(ch_intel *db, ch_intel_counts *out, ch_error *err);
/* The store's generation: a number that changes whenever a write to it is
 * committed, by this process or another (LMDB's last transaction id), for a
 * caller that keeps what it worked out from the labels (a screener's
 * cluster labels) to know when to work it out again. Cheap: no transaction. */
uint64_t ch_intel_generation(ch_intel *db);

/* STIX 2.1 bundle (intrusion-sets, indicators with cryptocurrency-wallet
 * patterns, `indicates` relationships) and MISP event JSON (coin-address
 * objects). Both carry every field of every attribution, so importing the
 * export into an empty store gives the same attributions. */
int ch_intel_export_stix(ch_intel *db, const char *path, ch_error *err);
int ch_intel_export_misp(ch_intel *db, const char *path, ch_error *err);

/* The canonical key of an address as the store holds it: ch_chainaddr_parse
 * with the asset as a hint (NULL for none). Returns 0, or -1 with the reason. */
int ch_intel_canonical(const char *address, const char *asset, char out[128], ch_error *err);

/* ---- Fetching OFAC's list ----
 * OFAC's published download locations (https only; redirects followed). */
#define CH_OFAC_SDN_ADVANCED_URL "https://www.treasury.gov/ofac/downloads/sdn_advanced.xml"
#define CH_OFAC_SDN_XML_URL      "https://www.treasury.gov/ofac/downloads/sdn.xml"
/* Download url to dest (written whole, then renamed into place). -1 with a
 * message naming the URL and curl's reason when there is no network. */
int ch_intel_fetch(const char *url, const char *dest, ch_error *err);

#ifdef __cplusplus
}
#endif

#endif

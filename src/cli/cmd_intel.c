/* coinhound intel: the attribution store (import, update, lookup, actor,
 * stats, export, export-set). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "coinhound/intel.h"
#include "coinhound/jsonw.h"
#include "coinhound/lock.h"
#include "coinhound/screen.h"
#include "util/numparse.h"

static const char USAGE[] =
    "usage: coinhound intel <subcommand> [options] --db DIR\n"
    "\n"
    "The attribution store: who is behind which address, and where each label came from.\n"
    "It lives in DIR/intel/ beside the chain store and needs no chain.\n"
    "\n"
    "subcommands:\n"
    "  import [--format F] PATH...   import files or folders (one transaction for all)\n"
    "  update                        fetch OFAC's SDN list over HTTPS and import it\n"
    "  lookup ADDR [--json]          every attribution of an address, with its source\n"
    "  actor NAME [--json]           a threat actor: aliases and ATT&CK techniques\n"
    "  stats                         what the store holds, by source and category\n"
    "  export --format stix|misp --out FILE\n"
    "                                the whole store as a STIX 2.1 bundle or MISP event\n"
    "  export-set --out FILE         the offline screening set (coinhound screen --set)\n"
    "\n"
    "examples:\n"
    "  coinhound intel import ../shared/fixtures/intel/ofac-lists --db db\n"
    "  coinhound intel import --format tagpack ../shared/fixtures/intel/tagpacks --db db\n"
    "  coinhound intel lookup 0x098B716B8Aaf21512996dC57EB0615e2383E2f96 --db db\n"
    "  coinhound intel actor 'HIDDEN COBRA' --db db --json\n"
    "  coinhound intel export --format stix --out dprk.stix.json --db db\n"
    "\n"
    "'coinhound intel <subcommand> --help' explains one. Exit: 0 ok, 2 error.\n";

static const char USAGE_IMPORT[] =
    "usage: coinhound intel import [--format F] [--as-of YYYY-MM-DD] [--strict] [--quiet]\n"
    "                              [--category C --entity E --source S] PATH... --db DIR\n"
    "\n"
    "Imports every PATH (a file, or a folder of files) in ONE transaction: if a file named\n"
    "on its own is malformed, nothing is written and the error names the file and line. A\n"
    "folder's file that cannot be read (unreadable, of no known format, or malformed) is\n"
    "skipped with a warning and nothing of it is kept; --strict makes it fail the import.\n"
    "Importing the same data again changes nothing but the 'last listed' date. A complete\n"
    "list (OFAC's) that no longer holds an address it held before marks that attribution\n"
    "delisted, keeping it; an OFAC listing is one entry (its SDN uid) whatever the format.\n"
    "Rows whose address fails validation (a bad checksum) are skipped and reported, except\n"
    "lower-cased Base58 addresses (a list that lost letter case): those are kept, restored\n"
    "to their real case when the store knows it, else matched case-insensitively, and the\n"
    "import warns how many of the file's addresses lost their case.\n"
    "A folder's subfolders are not imported: each is named in a warning (--strict: an\n"
    "error); a folder with no file to import is an error.\n"
    "\n"
    "formats (detected from the name and content when --format is absent):\n"
    "  ofac-xml        OFAC legacy sdn.xml           ofac-advanced  OFAC sdn_advanced.xml\n"
    "  ofac-csv        OFAC sdn.csv                  ofac-lists     "
    "sanctioned_addresses_<ASSET>.*\n"
    "  ofac-comments   OFAC sdn_comments.csv: the rest of sdn.csv remarks that OFAC cut at\n"
    "                  1,000 characters; read with sdn.csv (named, or found beside it)\n"
    "  csv             CSV with a header: an address column (address, address_lc, wallet,\n"
    "                  wallet_address, ...) and category[,entity,source,confidence,...]\n"
    "  tagpack         GraphSense TagPack YAML       stix           STIX 2.1 bundle\n"
    "  misp            MISP event JSON               misp-galaxy    MISP threat-actor galaxy\n"
    "  etherscan       Etherscan label export (combined JSON, accounts/*.csv|json)\n"
    "\n"
    "--as-of DATE  the listing date for sources that carry none (default: today, UTC);\n"
    "              give it for sdn.csv and the per-asset lists, which carry no date\n"
    "--strict      a folder's file that cannot be read fails the import (default: skipped)\n"
    "--category C, --entity E, --source S\n"
    "              what a CSV without a category column lists (such a CSV is refused\n"
    "              without all three); in other CSVs, the value for rows that leave it empty\n"
    "--quiet       do not print warnings (rejected rows, cut addresses, skipped files)\n"
    "--wait        when another process writes the store, wait for it (default: fail at once)\n"
    "\n"
    "sdn.csv: OFAC cuts remarks at 1,000 characters, so the last address of a long remark\n"
    "can be a fragment. Such a fragment is skipped with a warning naming the line and the\n"
    "entity and counted as 'cut'; reading sdn_comments.csv in the same import recovers it.\n"
    "\n"
    "examples:\n"
    "  coinhound intel import ../shared/fixtures/intel/ofac-lists --as-of 2024-09-27 --db db\n"
    "  coinhound intel import ../shared/fixtures/intel/dprk-attributions --db db\n"
    "  coinhound intel import --format misp-galaxy misp-galaxy-threat-actor.json --db db\n"
    "  coinhound intel import sdn.csv sdn_comments.csv --as-of 2026-08-20 --db db\n"
    "  coinhound intel import wallets.csv --category scam --entity 'Example scam'\n"
    "      --source 'analyst list 2026-11' --db db\n";

static const char USAGE_UPDATE[] =
    "usage: coinhound intel update --db DIR [--legacy] [--url URL] [--keep FILE] [--wait]\n"
    "\n"
    "Downloads OFAC's SDN list over HTTPS (sdn_advanced.xml; sdn.xml with --legacy) from\n"
    "OFAC's published download location, then imports it like 'intel import'. Without a\n"
    "network it fails with exit 2 and changes nothing.\n"
    "\n"
    "  --url URL    another https:// location of the same file\n"
    "  --keep FILE  keep the downloaded file there (default: a temporary file, removed)\n"
    "\n"
    "example:\n"
    "  coinhound intel update --db db\n";

static const char USAGE_LOOKUP[] =
    "usage: coinhound intel lookup ADDR --db DIR [--json]\n"
    "\n"
    "Every attribution of ADDR, delisted ones included, each with its source, date, confidence\n"
    "and the actor it resolves to. ADDR may be in any letter case where its chain allows\n"
    "(EVM); a mistyped address is reported as invalid (exit 2), never as unknown. A Base58\n"
    "address also shows what a source listed under its lower-cased form (a list that lost\n"
    "letter case), marked as matched case-insensitively.\n"
    "\n"
    "example:\n"
    "  coinhound intel lookup 0x098b716b8aaf21512996dc57eb0615e2383e2f96 --db db --json\n";

static const char USAGE_ACTOR[] =
    "usage: coinhound intel actor NAME --db DIR [--json]\n"
    "\n"
    "A threat actor by name or any alias (case and punctuation ignored): its country, MITRE\n"
    "ATT&CK id, aliases with the source of each, and techniques (from an ATT&CK STIX import).\n"
    "\n"
    "examples:\n"
    "  coinhound intel actor 'Lazarus Group' --db db\n"
    "  coinhound intel actor 'Jade Sleet' --db db --json     (-> TraderTraitor)\n";

static const char USAGE_STATS[] = "usage: coinhound intel stats --db DIR\n"
                                  "\n"
                                  "Counts: attributions, addresses, delisted, actors, aliases, "
                                  "techniques; attributions by source and by category.\n"
                                  "\n"
                                  "example:\n"
                                  "  coinhound intel stats --db db\n";

static const char USAGE_EXPORT[] =
    "usage: coinhound intel export --format stix|misp --out FILE --db DIR\n"
    "\n"
    "The whole store as a STIX 2.1 bundle (intrusion-sets with aliases and techniques,\n"
    "indicators with [cryptocurrency-wallet:value = '...'] patterns as OpenCTI reads\n"
    "them, 'indicates' relationships) or a MISP event (coin-address objects of template\n"
    "version 7: a BTC address as relation 'address' of type btc, Monero as 'address-xmr'\n"
    "of type xmr, any other chain as 'address-crypto' of type text, with its 'symbol';\n"
    "tagged with the threat-actor galaxy). Every field travels along (x_coinhound / the\n"
    "attribute comment), so importing the file into an empty store gives the same\n"
    "attributions. See docs/screening.md, \"Exports\".\n"
    "\n"
    "example:\n"
    "  coinhound intel export --format stix --out store.stix.json --db db\n";

static const char USAGE_EXPORT_SET[] =
    "usage: coinhound intel export-set --out FILE --db DIR [--wait]\n"
    "\n"
    "Writes the offline screening set: a compact, versioned, checksummed, memory-mappable\n"
    "file that 'coinhound screen --set FILE' and the C API (coinhound/screen.h) read without\n"
    "the database. Prints its size in bytes per address. Like a writer, it runs while no\n"
    "import writes the store (--wait: wait for the import to end; else fail at once).\n"
    "\n"
    "example:\n"
    "  coinhound intel export-set --out dprk.chset --db db\n";

/* ---- argument parsing: options anywhere, the rest positional ---- */

typedef struct args {
    const char *db, *format, *out, *as_of, *url, *keep, *category, *entity, *source;
    bool json, quiet, legacy, help, strict, wait;
    const char *pos[256];
    int npos;
    FILE *report; /* import: the per-file lines, printed once committed */
} args;

/* getopt_long, as every command: --opt VALUE and --opt=VALUE, options
 * anywhere (GNU getopt moves the positional arguments to the end). */
static int parse(int argc, char **argv, args *a) {
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},       {"format", required_argument, 0, 'f'},
        {"out", required_argument, 0, 'o'},      {"as-of", required_argument, 0, 'a'},
        {"url", required_argument, 0, 'u'},      {"keep", required_argument, 0, 'k'},
        {"category", required_argument, 0, 'c'}, {"entity", required_argument, 0, 'e'},
        {"source", required_argument, 0, 's'},   {"json", no_argument, 0, 'j'},
        {"quiet", no_argument, 0, 'q'},          {"legacy", no_argument, 0, 'L'},
        {"strict", no_argument, 0, 'S'},         {"wait", no_argument, 0, 'w'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    int c;
    optind = 1;
    opterr = 0; /* our own message, naming the option */
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        const char **val = c == 'd'   ? &a->db
                           : c == 'f' ? &a->format
                           : c == 'o' ? &a->out
                           : c == 'a' ? &a->as_of
                           : c == 'u' ? &a->url
                           : c == 'k' ? &a->keep
                           : c == 'c' ? &a->category
                           : c == 'e' ? &a->entity
                           : c == 's' ? &a->source
                                      : NULL;
        if (val) {
            *val = optarg;
            uint32_t t;
            if (val == &a->as_of && (strlen(*val) != 10 || ch_parse_time(*val, false, &t) != 0)) {
                fprintf(stderr, "coinhound intel: --as-of wants a date YYYY-MM-DD, not '%s'\n",
                        *val);
                opterr = 1;
                return -1;
            }
        } else if (c == 'j') {
            a->json = true;
        } else if (c == 'q') {
            a->quiet = true;
        } else if (c == 'L') {
            a->legacy = true;
        } else if (c == 'S') {
            a->strict = true;
        } else if (c == 'w') {
            a->wait = true;
        } else if (c == 'h') {
            a->help = true;
        } else {
            if (c == ':')
                fprintf(stderr, "coinhound intel: %s needs a value\n", argv[optind - 1]);
            else
                fprintf(stderr, "coinhound intel: unknown option %s\n", argv[optind - 1]);
            opterr = 1;
            return -1;
        }
    }
    opterr = 1;
    for (int i = optind; i < argc && a->npos < 256; i++)
        a->pos[a->npos++] = argv[i];
    return 0;
}

/* The database: --db, else $COINHOUND_DB (cli_db_dir, as every command). */
static int need_db(args *a, const char *usage) {
    if ((a->db = cli_db_dir("intel", a->db))) return 0;
    fputs("\n", stderr);
    fputs(usage, stderr);
    return -1;
}

static int fail(const ch_error *err) {
    fprintf(stderr, "coinhound intel: %s\n", err->msg);
    return 2;
}

/* ---- import / update ---- */

static void on_warn(const char *msg, void *ctx) {
    const args *a = ctx;
    if (!a->quiet) fprintf(stderr, "warning: %s\n", msg);
}

/* A file's line goes to the report, printed only once the import commits:
 * nothing on stdout claims an import that did not happen. */
static void on_file(const char *path, ch_intel_format f, const ch_import_stats *st, void *ctx) {
    args *a = ctx;
    FILE *o = a->report ? a->report : stdout;
    fprintf(o, "%s (%s): %llu addresses, %llu new, %llu updated, %llu delisted", path,
            ch_intel_format_name(f), (unsigned long long)st->addresses,
            (unsigned long long)st->added, (unsigned long long)st->updated,
            (unsigned long long)st->delisted);
    if (st->rejected) fprintf(o, ", %llu rejected", (unsigned long long)st->rejected);
    if (st->cut)
        fprintf(o, ", %llu cut short by OFAC's 1,000-character remark limit (skipped)",
                (unsigned long long)st->cut);
    if (st->case_lost)
        fprintf(o, ", %llu with letter case lost (%llu restored)",
                (unsigned long long)st->case_lost, (unsigned long long)st->case_restored);
    if (st->transcoded)
        fprintf(o, ", %llu rows not UTF-8 (read as Latin-1/CP1252)",
                (unsigned long long)st->transcoded);
    if (st->actors || st->aliases || st->techniques)
        fprintf(o, "; %llu actors, %llu aliases, %llu techniques", (unsigned long long)st->actors,
                (unsigned long long)st->aliases, (unsigned long long)st->techniques);
    fprintf(o, "\n");
}

static int import_run(args *a, ch_intel *db, ch_import_opts *opts, const char *const *paths, int n);

static int import_paths(args *a, const char *const *paths, int n) {
    ch_import_opts opts = {0};
    if (a->format && ch_intel_format_parse(a->format, &opts.format) < 0) {
        fprintf(stderr, "coinhound intel: unknown format '%s'\n\n%s", a->format, USAGE_IMPORT);
        return 2;
    }
    opts.as_of = a->as_of;
    opts.strict = a->strict;
    opts.category = a->category;
    opts.entity = a->entity;
    opts.source = a->source;
    opts.warn = on_warn;
    opts.on_file = on_file;
    opts.ctx = a;
    ch_error err;
    ch_intel *db;
    if (ch_intel_open_writer(a->db, a->wait, &db, &err) < 0) return fail(&err);
    char *report = NULL;
    size_t report_len = 0;
    a->report = open_memstream(&report, &report_len);
    int rc = import_run(a, db, &opts, paths, n);
    if (a->report) fclose(a->report);
    a->report = NULL;
    if (rc == 0 && report) fputs(report, stdout);
    free(report);
    return rc;
}

/* The import proper: 0 committed (the totals line printed), 2 not. */
static int import_run(args *a, ch_intel *db, ch_import_opts *opts, const char *const *paths,
                      int n) {
    ch_error err;
    ch_import *im;
    if (ch_intel_import_begin(db, opts, &im, &err) < 0) {
        ch_intel_close(db);
        return fail(&err);
    }
    ch_import_stats total = {0};
    /* sdn_comments.csv first, so that the sdn.csv named with it finds it */
    const char *order[256];
    int k = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n && k < 256; i++) {
            const char *b = strrchr(paths[i], '/');
            b = b ? b + 1 : paths[i];
            bool comments = !strncasecmp(b, "sdn_comments", 12);
            if (comments == (pass == 0)) order[k++] = paths[i];
        }
    for (int i = 0; i < k; i++) {
        ch_import_stats st;
        const char *path = order[i];
        if (ch_intel_import_path(im, path, &st, &err) < 0) {
            ch_intel_import_abort(im);
            ch_intel_close(db);
            fprintf(stderr, "coinhound intel: %s\nnothing was imported (the store is unchanged)\n",
                    err.msg);
            return 2;
        }
        total.addresses += st.addresses;
        total.added += st.added;
        total.updated += st.updated;
        total.delisted += st.delisted;
        total.rejected += st.rejected;
        total.files += st.files;
        total.cut += st.cut;
        total.case_lost += st.case_lost;
        total.case_restored += st.case_restored;
        total.skipped += st.skipped;
    }
    if (ch_intel_import_commit(im, &err) < 0) {
        ch_intel_close(db);
        return fail(&err);
    }
    ch_intel_close(db);
    FILE *out = a->report ? a->report : stdout;
    if (total.files > 1)
        fprintf(out,
                "total: %llu files, %llu addresses, %llu new, %llu updated, %llu delisted, "
                "%llu rejected\n",
                (unsigned long long)total.files, (unsigned long long)total.addresses,
                (unsigned long long)total.added, (unsigned long long)total.updated,
                (unsigned long long)total.delisted, (unsigned long long)total.rejected);
    if (total.cut)
        fprintf(out,
                "%llu addresses were cut short by OFAC's 1,000-character remark limit and "
                "skipped: import sdn_comments.csv with sdn.csv to recover them\n",
                (unsigned long long)total.cut);
    if (total.skipped)
        fprintf(out,
                "%llu files could not be read and were skipped (see the warnings; --strict "
                "fails instead)\n",
                (unsigned long long)total.skipped);
    return 0;
}

static int do_import(args *a) {
    if (a->help) {
        fputs(USAGE_IMPORT, stdout);
        return 0;
    }
    if (need_db(a, USAGE_IMPORT) < 0) return 2;
    if (a->npos < 1) {
        fprintf(stderr, "coinhound intel import: no PATH given\n\n%s", USAGE_IMPORT);
        return 2;
    }
    return import_paths(a, a->pos, a->npos);
}

/* intel update: fetch OFAC's current list (advanced XML, or the legacy XML)
 * into a temporary file and import it as any list, so a failed download
 * changes nothing. */
static int do_update(args *a) {
    if (a->help) {
        fputs(USAGE_UPDATE, stdout);
        return 0;
    }
    if (need_db(a, USAGE_UPDATE) < 0) return 2;
    const char *url = a->url ? a->url : a->legacy ? CH_OFAC_SDN_XML_URL : CH_OFAC_SDN_ADVANCED_URL;
    char tmp[4096];
    const char *dest = a->keep;
    if (!dest) {
        const char *t = getenv("TMPDIR");
        snprintf(tmp, sizeof tmp, "%s/coinhound-ofac-%ld.xml", t && *t ? t : "/tmp",
                 (long)getpid());
        dest = tmp;
    }
    ch_error err;
    fprintf(stderr, "fetching %s\n", url);
    if (ch_intel_fetch(url, dest, &err) < 0) {
        fprintf(stderr,
                "coinhound intel update: %s\n(no network? the store is unchanged; "
                "'coinhound intel import FILE' imports a copy fetched elsewhere)\n",
                err.msg);
        return 2;
    }
    a->format = a->legacy ? "ofac-xml" : NULL; /* detected from the content otherwise */
    const char *paths[1] = {dest};
    int rc = import_paths(a, paths, 1);
    if (!a->keep) remove(dest);
    return rc;
}

/* ---- lookup ---- */

/* The text printers' count (JSON is the library's: ch_intel_*_json). */
typedef struct out_ctx {
    void *unused;
    int n;
} out_ctx;

/* One attribution of a lookup as indented text lines (the callback of
 * ch_intel_lookup; the JSON is ch_intel_lookup_json's). */
static int print_attr(const ch_attribution *a, void *vctx) {
    out_ctx *c = vctx;
    c->n++;
    printf("  %-12s %s", a->category, a->entity[0] ? a->entity : "(entity not named)");
    if (a->actor[0])
        printf("  ->  %s%s%s", a->actor_country, a->actor_country[0] ? ": " : "", a->actor);
    if (a->asset[0]) printf("  [%s]", a->asset);
    if (a->delisted) printf("  DELISTED %s", a->delisted_date);
    printf("\n    source: %s", a->source_name);
    if (a->source_date[0]) printf(", %s", a->source_date);
    if (a->source_url[0]) printf(", %s", a->source_url);
    printf("\n    confidence %u, listed %s .. %s\n", a->confidence, a->first_listed,
           a->last_listed);
    if (a->note[0]) printf("    note: %s\n", a->note);
    if (a->case_folded)
        printf("    matched case-insensitively: the source lists '%s' (letter case lost)\n",
               a->address);
    return 0;
}

/* intel lookup ADDR: the attributions of one address (any chain, validated
 * first), its delisted history included; exit 1 when none. */
static int do_lookup(args *a) {
    if (a->help) {
        fputs(USAGE_LOOKUP, stdout);
        return 0;
    }
    if (need_db(a, USAGE_LOOKUP) < 0) return 2;
    if (a->npos != 1) {
        fprintf(stderr, "coinhound intel lookup: give one ADDR\n\n%s", USAGE_LOOKUP);
        return 2;
    }
    const char *addr = a->pos[0];
    ch_error err;
    ch_intel *db;
    if (ch_intel_open(a->db, false, &db, &err) < 0) return fail(&err);
    if (a->json) {
        ch_jw w;
        bool valid;
        ch_jw_init(&w, stdout);
        int n = ch_intel_lookup_json(db, addr, &w, &valid, &err);
        ch_intel_close(db);
        if (n >= 0) ch_jw_newline(&w);
        if (n < 0) return fail(&err);
        if (!valid) {
            char key[128];
            ch_intel_canonical(addr, NULL, key, &err);
            fprintf(stderr, "coinhound intel lookup: %s is not a valid address: %s\n", addr,
                    err.msg);
            return 2;
        }
        return 0;
    }
    char key[128];
    bool valid = ch_intel_canonical(addr, NULL, key, &err) == 0;
    char reason[CH_ERROR_MAX];
    snprintf(reason, sizeof reason, "%s", valid ? "" : err.msg);
    if (!valid) snprintf(key, sizeof key, "%s", addr); /* a value kept as listed */
    int n = ch_intel_lookup(db, key, NULL, NULL, &err);
    if (n < 0) {
        ch_intel_close(db);
        return fail(&err);
    }
    if (!valid && n == 0) {
        ch_intel_close(db);
        fprintf(stderr, "coinhound intel lookup: %s is not a valid address: %s\n", addr, reason);
        return 2;
    }
    out_ctx c = {NULL, 0};
    printf("%s: %d attribution%s\n", key, n, n == 1 ? "" : "s");
    n = ch_intel_lookup(db, key, print_attr, &c, &err);
    ch_intel_close(db);
    return n < 0 ? fail(&err) : 0;
}

/* ---- actor ---- */

static int print_alias(const char *alias, const char *source, void *vctx) {
    out_ctx *c = vctx;
    c->n++;
    printf("  %-32s (%s)\n", alias, source);
    return 0;
}

static int print_tech(const char *tid, const char *name, void *vctx) {
    out_ctx *c = vctx;
    c->n++;
    printf("  %-10s %s\n", tid, name);
    return 0;
}

/* intel actor NAME: an actor's profile (aliases, country) and the addresses
 * attributed to it, as text or JSON. */
static int do_actor(args *a) {
    if (a->help) {
        fputs(USAGE_ACTOR, stdout);
        return 0;
    }
    if (need_db(a, USAGE_ACTOR) < 0) return 2;
    if (a->npos != 1) {
        fprintf(stderr, "coinhound intel actor: give one NAME\n\n%s", USAGE_ACTOR);
        return 2;
    }
    ch_error err;
    ch_intel *db;
    if (ch_intel_open(a->db, false, &db, &err) < 0) return fail(&err);
    ch_actor act;
    int found = ch_intel_actor_resolve(db, a->pos[0], &act, &err);
    if (found <= 0) {
        ch_intel_close(db);
        if (found < 0) return fail(&err);
        fprintf(stderr, "coinhound intel actor: no actor or alias '%s'\n", a->pos[0]);
        return 2;
    }
    ch_jw w;
    out_ctx c = {NULL, 0};
    int rc = 0;
    if (a->json) {
        ch_jw_init(&w, stdout);
        if (ch_intel_actor_json(db, &act, a->pos[0], &w, &err) < 0) rc = fail(&err);
        ch_jw_newline(&w);
    } else {
        printf("%s%s%s", act.country, act.country[0] ? ": " : "", act.name);
        if (act.attack_id[0]) printf(" (MITRE ATT&CK %s)", act.attack_id);
        printf("\n");
        if (act.description[0]) printf("%s\n", act.description);
        printf("\naliases:\n");
        if (ch_intel_actor_aliases(db, act.name, print_alias, &c, &err) < 0) rc = fail(&err);
        c.n = 0;
        printf("\ntechniques:\n");
        int n = ch_intel_actor_techniques(db, act.name, print_tech, &c, &err);
        if (n < 0)
            rc = fail(&err);
        else if (n == 0)
            printf("  (none stored: import an ATT&CK STIX bundle, e.g. "
                   "mitre-attack-dprk-groups.stix21.json)\n");
    }
    ch_intel_close(db);
    return rc;
}

/* ---- stats ---- */

typedef struct tally {
    char key[64];
    unsigned long long n, delisted;
} tally;

typedef struct stats_ctx {
    tally src[512], cat[128];
    int nsrc, ncat;
} stats_ctx;

static void bump(tally *t, int *n, int cap, const char *key, bool delisted) {
    for (int i = 0; i < *n; i++)
        if (!strcmp(t[i].key, key)) {
            t[i].n++;
            t[i].delisted += delisted;
            return;
        }
    if (*n >= cap) return;
    snprintf(t[*n].key, sizeof t[*n].key, "%s", key);
    t[*n].n = 1;
    t[*n].delisted = delisted;
    (*n)++;
}

static int count_attr(const ch_attribution *a, void *vctx) {
    stats_ctx *s = vctx;
    bump(s->src, &s->nsrc, 512, a->source_name, a->delisted);
    bump(s->cat, &s->ncat, 128, a->category, a->delisted);
    return 0;
}

static int by_count(const void *x, const void *y) {
    const tally *a = x, *b = y;
    return a->n < b->n ? 1 : a->n > b->n ? -1 : strcmp(a->key, b->key);
}

/* intel stats: what the attribution store holds, per category, source and
 * asset. */
static int do_stats(args *a) {
    if (a->help) {
        fputs(USAGE_STATS, stdout);
        return 0;
    }
    if (need_db(a, USAGE_STATS) < 0) return 2;
    ch_error err;
    ch_intel *db;
    if (ch_intel_open(a->db, false, &db, &err) < 0) return fail(&err);
    ch_intel_counts c;
    stats_ctx *s = calloc(1, sizeof *s);
    if (!s || ch_intel_counts_get(db, &c, &err) < 0 ||
        ch_intel_foreach(db, count_attr, s, &err) < 0) {
        free(s);
        ch_intel_close(db);
        return fail(&err);
    }
    ch_intel_close(db);
    printf("attributions %llu (delisted %llu) on %llu addresses\n"
           "actors %llu, aliases %llu, techniques %llu\n",
           (unsigned long long)c.attributions, (unsigned long long)c.delisted,
           (unsigned long long)c.addresses, (unsigned long long)c.actors,
           (unsigned long long)c.aliases, (unsigned long long)c.techniques);
    if ((size_t)s->nsrc > 1) qsort(s->src, (size_t)s->nsrc, sizeof s->src[0], by_count);
    if ((size_t)s->ncat > 1) qsort(s->cat, (size_t)s->ncat, sizeof s->cat[0], by_count);
    printf("\nby source:\n");
    for (int i = 0; i < s->nsrc; i++)
        printf("  %8llu  %s%s\n", s->src[i].n, s->src[i].key,
               s->src[i].delisted ? " (some delisted)" : "");
    printf("\nby category:\n");
    for (int i = 0; i < s->ncat; i++)
        printf("  %8llu  %s\n", s->cat[i].n, s->cat[i].key);
    free(s);
    return 0;
}

/* ---- export ---- */

static int do_export(args *a) {
    if (a->help) {
        fputs(USAGE_EXPORT, stdout);
        return 0;
    }
    if (need_db(a, USAGE_EXPORT) < 0) return 2;
    if (!a->out || !a->format || (strcmp(a->format, "stix") && strcmp(a->format, "misp"))) {
        fprintf(stderr, "coinhound intel export: needs --format stix|misp and --out FILE\n\n%s",
                USAGE_EXPORT);
        return 2;
    }
    ch_error err;
    ch_intel *db;
    if (ch_intel_open(a->db, false, &db, &err) < 0) return fail(&err);
    int r = !strcmp(a->format, "stix") ? ch_intel_export_stix(db, a->out, &err)
                                       : ch_intel_export_misp(db, a->out, &err);
    ch_intel_counts c = {0};
    ch_intel_counts_get(db, &c, NULL);
    ch_intel_close(db);
    if (r < 0) return fail(&err);
    printf("%s: %llu attributions on %llu addresses (%s)\n", a->out,
           (unsigned long long)c.attributions, (unsigned long long)c.addresses, a->format);
    return 0;
}

typedef struct set_ctx {
    ch_screen_writer *w;
    ch_error *err;
    int failed;
} set_ctx;

static int add_to_set(const ch_attribution *a, void *vctx) {
    set_ctx *s = vctx;
    /* the store's key is already canonical (or a value kept as listed) */
    if (ch_screen_set_writer_add_key(s->w, a->address, a, s->err) < 0) {
        s->failed = 1;
        return 1;
    }
    return 0;
}

static int export_set(args *a);

static int do_export_set(args *a) {
    if (a->help) {
        fputs(USAGE_EXPORT_SET, stdout);
        return 0;
    }
    if (need_db(a, USAGE_EXPORT_SET) < 0) return 2;
    if (!a->out) {
        fprintf(stderr, "coinhound intel export-set: needs --out FILE\n\n%s", USAGE_EXPORT_SET);
        return 2;
    }
    ch_error err;
    /* the set is one import's result, never half of one: it is written
     * under the store's writer lock */
    char idir[4096];
    if (snprintf(idir, sizeof idir, "%s/intel", a->db) >= (int)sizeof idir) {
        fprintf(stderr, "coinhound intel export-set: database path too long\n");
        return 2;
    }
    struct stat st;
    if (stat(idir, &st) != 0) {
        fprintf(stderr, "coinhound intel export-set: no attribution store in %s\n", a->db);
        return 2;
    }
    ch_writer_lock *lock;
    if (ch_writer_lock_take(idir, a->wait, &lock, &err) != 0) return fail(&err);
    int rc = export_set(a);
    ch_writer_lock_release(lock);
    return rc;
}

/* export-set under the lock. */
static int export_set(args *a) {
    ch_error err;
    ch_intel *db;
    if (ch_intel_open(a->db, false, &db, &err) < 0) return fail(&err);
    ch_screen_writer *w = ch_screen_set_writer_new();
    if (!w) {
        ch_intel_close(db);
        fprintf(stderr, "coinhound intel export-set: out of memory\n");
        return 2;
    }
    set_ctx s = {w, &err, 0};
    int r = ch_intel_foreach(db, add_to_set, &s, &err);
    ch_intel_close(db);
    ch_screen_info info;
    if (r < 0 || s.failed || ch_screen_set_writer_finish(w, a->out, &info, &err) < 0) {
        ch_screen_set_writer_free(w);
        return fail(&err);
    }
    ch_screen_set_writer_free(w);
    printf("%s: %llu addresses, %llu attributions, %llu bytes (%.1f bytes per address)\n", a->out,
           (unsigned long long)info.addresses, (unsigned long long)info.attributions,
           (unsigned long long)info.file_size, info.bytes_per_address);
    return 0;
}

int cmd_intel(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    static const struct {
        const char *name;
        int (*run)(args *);
    } SUB[] = {
        {"import", do_import},         {"update", do_update}, {"lookup", do_lookup},
        {"actor", do_actor},           {"stats", do_stats},   {"export", do_export},
        {"export-set", do_export_set},
    };
    for (size_t i = 0; i < sizeof SUB / sizeof SUB[0]; i++) {
        if (strcmp(argv[1], SUB[i].name) != 0) continue;
        args a;
        if (parse(argc - 1, argv + 1, &a) < 0) return 2;
        return SUB[i].run(&a);
    }
    fprintf(stderr, "coinhound intel: '%s' is not a subcommand\n\n%s", argv[1], USAGE);
    return 2;
}

/* coinhound screen ADDR... [--file F | -] [--db DIR | --set FILE] [--json]
 *
 * A risk verdict per address from the attribution store (--db) or an
 * offline screening set (--set). Bulk input streams in batches of what
 * there is to read (at most SCREEN_BATCH lines: with a set they are parsed
 * and looked up together), verdicts written in order; a line typed at a
 * terminal, or fed alone through a pipe, is answered before the next is
 * waited for. */
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/screen_csv.h"
#include "coinhound/jsonw.h"
#include "coinhound/risk.h"
#include "coinhound/screener.h"
#include "coinhound/trace.h"

/* The command's help: inputs, the set or the database, the risk rules, the
 * output and the exit codes. */
static void usage(FILE *f) {
    fprintf(
        f, "usage: coinhound screen ADDR... [--file F | -] [--db DIR | --set FILE] [--json]\n"
           "                        [--risk RULES]\n"
           "       coinhound screen --csv FILE --column NAME [--keep COL,...]\n"
           "                        [--out-format csv|json] [--db DIR | --set FILE]\n\n"
           "Screen addresses of any chain on OFAC's list (BTC, EVM chains, LTC, BCH, BSV, BTG,\n"
           "DASH, ZEC, XMR, TRX, XRP, XVG): each gets a risk level (severe, high, medium, low,\n"
           "none), a score (TRM severities: severe 15, high 10, medium 5, low 1, times the\n"
           "confidence) and every reason with its source. A mistyped address (bad checksum)\n"
           "is reported as invalid, never as clean. EVM addresses match in any letter case.\n\n"
           "  ADDR          addresses to screen; '-' reads them from standard input\n"
           "  --file F      read addresses from F, one per line ('-' = standard input);\n"
           "                blank lines and lines starting with '#' are skipped, and only\n"
           "                the first field of a line (up to a space, tab or comma) is read\n"
           "  --csv FILE    a CSV file with a header ('-' = standard input), as a\n"
           "                compliance desk's daily file: a UTF-8 BOM, quoted fields (commas,\n"
           "                quotes, line breaks) and CRLF lines are read; each row's --column\n"
           "                NAME cell is screened (an empty one is invalid, never clean)\n"
           "  --keep COLS   header columns passed through, in front of the verdict\n"
           "  --out-format csv|json  csv (default): a header, then per row the kept\n"
           "                columns, address, canonical, family, risk, score, categories,\n"
           "                entities, sources, source_urls (the current reasons', '; '\n"
           "                between), exposure_share, error; json: per row {\"line\",\n"
           "                \"kept\":{...},\"verdict\":{screen --json's}} and a last line\n"
           "                {\"counts\":{...}}. The counts (rows, flagged per level, clean,\n"
           "                invalid, unsupported, errors) end on standard error either way\n"
           "  --batch N     rows read and screened together (default 64; 1: each row\n"
           "                answered before the next is read, for a pipe fed a row at a\n"
           "                time); the output is the same\n"
           "  --set FILE    an offline screening set ('coinhound intel export-set')\n"
           "  --db DIR      the database whose attribution store to ask\n"
           "                (default: $COINHOUND_DB when neither --set nor --db is given)\n"
           "  --json        one JSON object per address per line:\n"
           "                {\"address\",\"canonical\",\"family\",\"risk\",\"score\",\n"
           "                 "
           "\"reasons\":[{\"category\",\"entity\",\"actor\",\"source\",\"source_url\",\n"
           "                 \"source_date\",\"confidence\",\"level\",\"score\",...,\n"
           "                 \"case_insensitive\",\"sources\":[...every source...]}],\n"
           "                 \"history\":[...delisted labels...]}; an invalid address has\n"
           "                \"risk\":\"invalid\" and \"error\"; the address of a chain\n"
           "                coinhound does not support (THORChain thor1..., Cosmos\n"
           "                cosmos1..., ...) has \"risk\":\"unsupported\" and \"error\":\n"
           "                \"unsupported chain: ...\" (never guessed as another chain)\n"
           "  --risk RULES  change the category table: 'mixer=severe,bridge=none,*=none'\n"
           "                ('*' = categories not in the table; 'country:XX=level')\n"
           "  --risk-table FILE  change it from a file, one rule a line:\n"
           "                  category = level     (none, low, medium, high, severe)\n"
           "                  * = level            (categories the table does not name)\n"
           "                  country:XX = level   (an actor of country XX raises a reason)\n"
           "                  confidence_below = N (under N%%, a reason counts one level lower)\n"
           "                '#' starts a comment; what the file does not name keeps its level.\n"
           "                --risk and --risk-table apply in the order given. Illicit\n"
           "                categories (sanctions, stolen_funds, mixer, ...) can be lowered\n"
           "                to low, never to none: a listed illicit address is never clean\n"
           "  --explain-risk  print the category-to-risk table in effect (after --risk and\n"
           "                --risk-table) in --risk-table's format, and exit; with --json\n"
           "                as one object. Save it, edit it, give it back with --risk-table\n"
           "  --hops N      with --db and a chain store: how far back indirect exposure\n"
           "                looks (default 3; 0 turns it off)\n"
           "  --chain NAME  with --db: the chain store DIR/NAME to look in (default btc;\n"
           "                eth, bsc, ... for an account chain, whose addresses then get\n"
           "                indirect exposure, per asset: amounts in base units, wei)\n\n"
           "With --db, an address of the store's chain also gets what the store knows:\n"
           "  - labels of other members of its cluster ('coinhound cluster build'), as\n"
           "    reasons with \"via\":\"cluster\" and the member that carries the label;\n"
           "  - indirect exposure: the share of the value it received that came from\n"
           "    flagged sources within N hops (backward haircut), as reasons with\n"
           "    \"via\":\"exposure\", the amount, share, hops and path, and an \"exposure\"\n"
           "    object. A flagged source more than one hop away counts one level lower;\n"
           "    its score is the level's points times the share.\n\n"
           "One reason per fact: the same listing from several sources (OFAC's, read from\n"
           "sdn.xml, a per-asset list and a TagPack) is one reason with all its sources, and\n"
           "the newest statement of the authority decides: an address its latest list\n"
           "delisted is history, whatever an older list says. A Base58 address a source\n"
           "listed lower-cased (letter case lost) matches case-insensitively, and the reason\n"
           "says so.\n"
           "Delisted labels are shown as history and add no risk. An address listed only\n"
           "under no-risk categories (a victim's own wallet, an exchange) is \"risk none\":\n"
           "its labels are shown, and it is not flagged.\n"
           "Exit status: 0 every address clean (risk none), 1 at least one flagged\n"
           "(risk low or above), 2 otherwise when any address was invalid, of an\n"
           "unsupported chain, or a lookup\n"
           "failed (a flagged address wins over an invalid one, so 1 is never missed).\n\n"
           "examples:\n"
           "  coinhound screen 0x098B716B8Aaf21512996dC57EB0615e2383E2f96 --db ./chdb\n"
           "  coinhound screen --set ofac.chset --json bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4\n"
           "  cut -d, -f1 withdrawals.csv | coinhound screen - --set ofac.chset --json\n"
           "  coinhound screen --file addresses.txt --risk gambling=high\n"
           "  coinhound screen --explain-risk > desk.table   # edit, then:\n"
           "  coinhound screen --risk-table desk.table --db ./chdb 0x...\n");
}

/* Addresses screened together (ch_screener_screen_many: with a set, parsed
 * and looked up as one batch). */
#define SCREEN_BATCH 64

/* The run: the library's screener, one verdict reused per address (--csv)
 * and a batch's verdicts (made when first needed). */
typedef struct run_state {
    ch_screener *screener;
    ch_verdict *v;
    ch_verdict *batch[SCREEN_BATCH];
    bool json;
    bool any_flagged, any_error;
    uint64_t screened; /* addresses answered: none is not "all clean" */
} run_state;

/* One reason of a verdict as text: level, category, entity, actor, asset,
 * then its source, date and note (history: a delisted listing). */
static void print_text_reason(const ch_verdict *v, const ch_risk_reason *r, bool history) {
    const ch_attribution *a = r->attr;
    printf("  %s%-8s %s", history ? "history: " : "", ch_risk_level_name(r->level),
           a->category[0] ? a->category : "(no category)");
    if (a->entity[0]) printf(": %s", a->entity);
    if (r->actor_label[0]) printf(" [%s]", r->actor_label);
    if (a->asset[0]) printf(" (%s)", a->asset);
    printf("\n      source: %s", a->source_name[0] ? a->source_name : "(unnamed)");
    if (a->source_date[0]) printf(", %s", a->source_date);
    if (a->source_url[0]) printf(", %s", a->source_url);
    printf("; confidence %u", a->confidence);
    if (a->delisted) printf("; delisted %s", a->delisted_date[0] ? a->delisted_date : "");
    /* the other sources of the same fact */
    uint32_t ns = r->n_sources < CH_RISK_MAX_SOURCES ? r->n_sources : CH_RISK_MAX_SOURCES;
    for (uint32_t i = 0; i < ns; i++) {
        const ch_attribution *b = r->sources[i];
        if (b == a) continue;
        printf("\n      also: %s", b->source_name[0] ? b->source_name : "(unnamed)");
        if (b->source_date[0]) printf(", %s", b->source_date);
        if (b->asset[0]) printf(" (%s)", b->asset);
        if (b->delisted) printf("; delisted %s", b->delisted_date);
    }
    if (r->n_sources > ns) printf("\n      and %u other sources", (unsigned)(r->n_sources - ns));
    if (r->case_folded)
        printf("\n      matched case-insensitively: the source lists this address lower-cased "
               "(its letter case lost)");
    size_t idx = (size_t)(a - v->attrs);
    if (idx >= v->n_direct) {
        const ch_verdict_member *m = &v->members[idx - v->n_direct];
        printf("\n      via its cluster: %s", m->member);
        if (m->count > 1) printf(" and %llu other members", (unsigned long long)m->count - 1);
    }
    printf("\n");
}

static void print_text_exposure(const ch_verdict *v) {
    const ch_exposure *x = v->exposure;
    if (!v->have_exposure) return;
    bool account = ch_verdict_account(v);
    char ab[CH_ADDR_STR_MAX], b[48];
    /* the chain's coin with its decimals; a token in base units of its contract */
    int dec = x->asset ? 0 : account ? 18 : 8;
    printf("  exposure within %u hops: %.2f%% of %s %s%s received came from flagged sources\n",
           x->max_hops, 100.0 * x->flagged_share, ch_u128_decimals_str(x->received_base, dec, b),
           x->asset ? "base units of " : "", ch_verdict_asset_name(v, x->asset, ab));
    for (size_t i = 0; i < x->n_sources && i < 5; i++) {
        const ch_exposure_source *e = &x->sources[i];
        int d = e->asset ? 0 : account ? 18 : 8;
        printf("    %-8s %s%s%s %s: %s %s%s (%.2f%%), %u hops\n", ch_risk_level_name(e->level),
               e->category, e->entity[0] ? ": " : "", e->entity, e->address,
               ch_u128_decimals_str(e->amount_base, d, b), e->asset ? "base units of " : "",
               ch_verdict_asset_name(v, e->asset, ab), 100.0 * e->share, e->hops);
    }
}

/* One verdict for people: the address (and its canonical form when that
 * differs), its family and risk, then each reason and the exposure under
 * it; a refused address says why. --json is the form for programs. */
static void print_text(const ch_verdict *vd) {
    const char *addr = vd->address, *canonical = vd->canonical;
    const ch_risk_verdict *v = &vd->risk;
    if (vd->kind != CH_VERDICT_OK) {
        printf("%s  %s: %s\n", addr,
               vd->kind == CH_VERDICT_INVALID       ? "INVALID"
               : vd->kind == CH_VERDICT_UNSUPPORTED ? "UNSUPPORTED"
                                                    : "ERROR",
               vd->error);
        return;
    }
    /* (fputs, not printf: most lines are this much, a million a second) */
    fputs(addr, stdout);
    if (strcmp(addr, canonical) != 0) {
        fputs(" (", stdout);
        fputs(canonical, stdout);
        putchar(')');
    }
    fputs("  ", stdout);
    fputs(ch_family_name(vd->family), stdout);
    if (v->n_reasons == 0 && v->level == CH_RISK_NONE) {
        fputs("  risk none: not listed\n", stdout);
        print_text_exposure(vd);
        return;
    }
    printf("  risk %s, score %g%s\n", ch_risk_level_name(v->level), v->score,
           v->level == CH_RISK_NONE && v->n_current
               ? " (listed under categories that carry no risk: not flagged)"
               : "");
    for (size_t i = 0; i < v->n_reasons; i++)
        print_text_reason(vd, &v->reasons[i], i >= v->n_current);
    print_text_exposure(vd);
}

/* One verdict written and counted. */
static void report(run_state *st, const ch_verdict *v) {
    st->screened++;
    /* the chain side's failures leave the direct verdict standing: said */
    if (v->cluster_error[0])
        fprintf(stderr, "coinhound screen: %s: cluster labels: %s\n", v->canonical,
                v->cluster_error);
    if (v->exposure_error[0])
        fprintf(stderr, "coinhound screen: %s: exposure: %s\n", v->canonical, v->exposure_error);
    if (v->kind != CH_VERDICT_OK)
        st->any_error = true;
    else if (v->risk.level > CH_RISK_NONE)
        st->any_flagged = true;
    if (st->json) {
        ch_jw w;
        ch_jw_init(&w, stdout);
        ch_verdict_write_json(v, &w, NULL);
        ch_jw_newline(&w);
    } else {
        print_text(v);
    }
}

/* addrs[0..n) (n <= SCREEN_BATCH) screened together, then written in
 * order. 0, or -1 when the verdicts could not be made (reported). */
static int screen_batch(run_state *st, const char *const *addrs, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!st->batch[i] && !(st->batch[i] = ch_verdict_new())) {
            fprintf(stderr, "coinhound screen: out of memory\n");
            return -1;
        }
    ch_screener_screen_many(st->screener, addrs, n, st->batch);
    for (size_t i = 0; i < n; i++)
        report(st, st->batch[i]);
    return 0;
}

/* Lines waiting to be screened: their first fields, NUL-terminated, one
 * after another in buf (offsets in at). */
typedef struct pending {
    char *buf;
    size_t len, cap;
    size_t at[SCREEN_BATCH];
    size_t n;
} pending;

/* The pending lines screened and written; the batch emptied. */
static int flush_pending(run_state *st, pending *p) {
    const char *addrs[SCREEN_BATCH];
    for (size_t i = 0; i < p->n; i++)
        addrs[i] = p->buf + p->at[i];
    int rc = p->n ? screen_batch(st, addrs, p->n) : 0;
    p->n = 0;
    p->len = 0;
    return rc;
}

/* Whether more input can be read at once without waiting: a terminal or a
 * pipe fed a line at a time gets each answer before the next line is
 * asked for (a file, or a pipe holding more, fills the batch). */
static bool more_ready(FILE *in) {
#if defined(__GLIBC__)
    if (in->_IO_read_ptr < in->_IO_read_end) return true; /* stdio holds more: no system call */
#endif
    struct pollfd pf = {.fd = fileno(in), .events = POLLIN};
    return poll(&pf, 1, 0) > 0;
}

/* Stream a file of addresses: the first field of each line, screened in
 * batches of what is there to read (at most SCREEN_BATCH), written in order. */
static int screen_stream(run_state *st, FILE *in, const char *name) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    pending p = {0};
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, in)) >= 0) {
        char *f = line;
        while (*f == ' ' || *f == '\t')
            f++;
        f[strcspn(f, " \t,\r\n")] = '\0';
        if (!*f || *f == '#') continue;
        size_t len = strlen(f) + 1;
        if (p.len + len > p.cap) {
            size_t ncap = p.cap ? p.cap : 4096;
            while (ncap < p.len + len)
                ncap *= 2;
            char *nb = realloc(p.buf, ncap);
            if (!nb) {
                fprintf(stderr, "coinhound screen: out of memory\n");
                rc = -1;
                break;
            }
            p.buf = nb;
            p.cap = ncap;
        }
        memcpy(p.buf + p.len, f, len);
        p.at[p.n++] = p.len;
        p.len += len;
        if (p.n == SCREEN_BATCH) {
            rc = flush_pending(st, &p);
        } else if (!more_ready(in)) { /* answered before the next line is waited for */
            rc = flush_pending(st, &p);
            fflush(stdout);
        }
    }
    if (rc == 0) rc = flush_pending(st, &p);
    bool bad = ferror(in);
    free(line);
    free(p.buf);
    if (rc != 0) return rc;
    if (bad) {
        fprintf(stderr, "coinhound screen: error reading %s\n", name);
        return -1;
    }
    return 0;
}

/* --explain-risk: the table in effect, as text (--risk-table's format) or
 * one JSON object. */
static int explain_risk(const ch_risk_table *t, bool json) {
    if (!json) {
        ch_risk_table_write(t, stdout);
        return fflush(stdout) == 0 ? 0 : 2;
    }
    ch_jw w;
    ch_jw_init(&w, stdout);
    ch_jw_obj_begin(&w);
    ch_jw_key(&w, "points");
    ch_jw_obj_begin(&w);
    for (int l = CH_RISK_NONE; l <= CH_RISK_SEVERE; l++) {
        ch_jw_key(&w, ch_risk_level_name((ch_risk_level)l));
        ch_jw_int(&w, ch_risk_level_points((ch_risk_level)l));
    }
    ch_jw_obj_end(&w);
    ch_jw_key(&w, "categories");
    ch_jw_arr_begin(&w);
    for (size_t i = 0; i < t->n; i++) {
        ch_jw_obj_begin(&w);
        ch_jw_key(&w, "category");
        ch_jw_str(&w, t->rules[i].key);
        ch_jw_key(&w, "level");
        ch_jw_str(&w, ch_risk_level_name(t->rules[i].level));
        ch_jw_key(&w, "illicit");
        ch_jw_bool(&w, ch_risk_category_illicit(t->rules[i].key));
        ch_jw_obj_end(&w);
    }
    ch_jw_arr_end(&w);
    ch_jw_key(&w, "unknown_category");
    ch_jw_str(&w, ch_risk_level_name(t->unknown_level));
    ch_jw_key(&w, "confidence_below");
    ch_jw_uint(&w, t->low_confidence);
    ch_jw_obj_end(&w);
    ch_jw_newline(&w);
    return fflush(stdout) == 0 ? 0 : 2;
}

/* What screen's command line asked for (the risk table, --hops and --json
 * go straight to their owners). */
typedef struct screen_args {
    const char *file, *db, *setpath, *chain;
    const char *csv, *column, *keep, *out_format;
    uint32_t batch; /* --batch: rows screened together (0: the default) */
    bool explain;
} screen_args;

/* Read the options into a, st->json, table and so->max_hops. -1 when the
 * command goes on, else its exit code (help, or a bad option: reported). */
static int parse_args(int argc, char **argv, screen_args *a, run_state *st, ch_risk_table *table,
                      ch_screener_opts *so) {
    static const struct option OPTS[] = {
        {"file", required_argument, NULL, 'f'},
        {"db", required_argument, NULL, 'd'},
        {"set", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"risk", required_argument, NULL, 'r'},
        {"hops", required_argument, NULL, 'H'},
        {"chain", required_argument, NULL, 'C'},
        {"risk-table", required_argument, NULL, 'T'},
        {"explain-risk", no_argument, NULL, 'E'},
        {"csv", required_argument, NULL, 'V'},
        {"column", required_argument, NULL, 'N'},
        {"keep", required_argument, NULL, 'K'},
        {"out-format", required_argument, NULL, 'O'},
        {"batch", required_argument, NULL, 'B'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    ch_error err;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:d:s:jr:h", OPTS, NULL)) != -1) {
        switch (c) {
        case 'f':
            a->file = optarg;
            break;
        case 'd':
            a->db = optarg;
            break;
        case 's':
            a->setpath = optarg;
            break;
        case 'j':
            st->json = true;
            break;
        case 'r':
            if (ch_risk_table_parse(table, optarg, &err) != 0) return cli_fail("screen", &err);
            break;
        case 'T':
            if (ch_risk_table_load(table, optarg, &err) != 0) return cli_fail("screen", &err);
            break;
        case 'E':
            a->explain = true;
            break;
        case 'V':
            a->csv = optarg;
            break;
        case 'N':
            a->column = optarg;
            break;
        case 'K':
            a->keep = optarg;
            break;
        case 'O':
            if (strcmp(optarg, "csv") != 0 && strcmp(optarg, "json") != 0)
                return cli_failf("screen", "--out-format: csv or json, not '%s'", optarg);
            a->out_format = optarg;
            break;
        case 'B':
            if (cli_opt_u32("screen", "--batch", optarg, 1, 65536, &a->batch)) return 2;
            break;
        case 'C':
            if (cli_opt_chain("screen", optarg)) return 2;
            a->chain = optarg;
            break;
        case 'H':
            if (cli_opt_u32("screen", "--hops", optarg, 0, 1000000, &so->max_hops)) return 2;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    return -1;
}

/* The options that go together, and something to screen against (--set,
 * else --db or $COINHOUND_DB, resolved into a->db). -1 when they do, else
 * exit code 2 (reported). */
static int check_args(screen_args *a, int argc) {
    if (a->db && a->setpath) return cli_failf("screen", "give --db or --set, not both");
    if (!a->csv && (a->column || a->keep || a->out_format || a->batch))
        return cli_failf("screen", "--column, --keep, --out-format and --batch go with --csv FILE");
    if (a->csv && !a->column)
        return cli_failf("screen", "--csv wants --column NAME (the address column)");
    if (a->csv && (a->file || optind < argc))
        return cli_failf("screen", "--csv reads its addresses from the file: no ADDR or --file");
    if (optind >= argc && !a->file && !a->csv) {
        usage(stderr);
        return 2;
    }
    if (!a->setpath) a->db = cli_db_find(a->db);
    if (!a->setpath && !a->db)
        return cli_failf("screen", "nothing to screen against: give --set FILE (a screening "
                                   "set) or --db DIR, or set COINHOUND_DB");
    return -1;
}

/* --csv: every row's address screened into stdout, the counts on stderr
 * (also after an error, once rows were read), and st told what was found.
 * 0, or the exit code of an error (reported). */
static int run_csv(run_state *st, const screen_args *a) {
    ch_error err;
    screen_csv_counts n;
    int rc = 0;
    bool json = (a->out_format && !strcmp(a->out_format, "json")) || (!a->out_format && st->json);
    if (screen_csv(st->screener, st->v, a->csv, a->column, a->keep, json, a->batch, stdout, &n,
                   &err) != 0) {
        fflush(stdout);
        rc = cli_fail("screen", &err);
    }
    if (rc == 0 || n.rows > 0) /* the counts end the run */
        fprintf(stderr,
                "coinhound screen: %llu rows: %llu flagged (%llu severe, %llu high, %llu medium, "
                "%llu low), %llu clean, %llu invalid, %llu unsupported, %llu errors\n",
                (unsigned long long)n.rows, (unsigned long long)n.flagged,
                (unsigned long long)n.by_level[CH_RISK_SEVERE],
                (unsigned long long)n.by_level[CH_RISK_HIGH],
                (unsigned long long)n.by_level[CH_RISK_MEDIUM],
                (unsigned long long)n.by_level[CH_RISK_LOW], (unsigned long long)n.clean,
                (unsigned long long)n.invalid, (unsigned long long)n.unsupported,
                (unsigned long long)n.errors);
    st->screened = n.rows;
    st->any_flagged = n.flagged > 0;
    st->any_error = n.invalid + n.unsupported + n.errors > 0;
    return rc;
}

/* The ADDR arguments ('-': standard input), then --file. 0, or non-zero
 * when an input could not be read (reported). */
static int run_inputs(run_state *st, const char *file, int argc, char **argv) {
    int rc = 0;
    for (int i = optind; i < argc && rc == 0;) {
        if (!strcmp(argv[i], "-")) {
            rc = screen_stream(st, stdin, "standard input");
            i++;
            continue;
        }
        /* the addresses up to the next '-' (or SCREEN_BATCH of them) at once */
        int j = i;
        while (j < argc && j - i < SCREEN_BATCH && strcmp(argv[j], "-") != 0)
            j++;
        rc = screen_batch(st, (const char *const *)argv + i, (size_t)(j - i));
        i = j;
    }
    if (file && rc == 0) {
        FILE *in = strcmp(file, "-") ? fopen(file, "r") : stdin;
        if (!in) {
            rc = cli_failf("screen", "cannot open %s", file);
        } else {
            rc = screen_stream(st, in, file);
            if (in != stdin) fclose(in);
        }
    }
    return rc;
}

/* The exit code of a run whose inputs ended with rc: 2 when an input was
 * unreadable or nothing was screened (an empty list is not a clean one), 1
 * when any address was flagged, else 2 for an invalid one, else 0. */
static int exit_code(const run_state *st, int rc, const char *file) {
    if (rc != 0) return 2; /* input unreadable: the answer is incomplete */
    if (st->screened == 0) {
        fprintf(stderr, "coinhound screen: no addresses to screen%s%s\n", file ? " in " : "",
                file ? file : "");
        return 2;
    }
    if (st->any_flagged) return 1;
    return st->any_error ? 2 : 0;
}

int cmd_screen(int argc, char **argv) {
    screen_args a;
    memset(&a, 0, sizeof a);
    run_state st;
    memset(&st, 0, sizeof st);
    ch_risk_table table;
    ch_risk_table_default(&table);
    ch_screener_opts so;
    ch_screener_opts_init(&so);
    ch_exposure_opts xo;
    ch_exposure_opts_init(&xo);
    so.max_hops = xo.max_hops;
    so.table = &table;
    int rc = parse_args(argc, argv, &a, &st, &table, &so);
    if (rc >= 0) return rc;
    if (a.explain) return explain_risk(&table, st.json);
    if ((rc = check_args(&a, argc)) >= 0) return rc;
    so.set_path = a.setpath;
    so.db = a.db;
    /* the one chain rule, without the argument's form: screen reads
     * addresses of every chain at once, and one store's chain side */
    so.chain = cli_chain_of(a.chain, NULL);
    ch_error err, warn;
    if (ch_screener_open(&so, &st.screener, &warn, &err) != 0) return cli_fail("screen", &err);
    if (warn.msg[0]) fprintf(stderr, "coinhound screen: warning: %s\n", warn.msg);
    st.v = ch_verdict_new();
    if (!st.v) {
        ch_screener_close(st.screener, NULL);
        return cli_failf("screen", "out of memory");
    }
    rc = a.csv ? run_csv(&st, &a) : 0;
    if (rc == 0) rc = run_inputs(&st, a.file, argc, argv);
    if (fflush(stdout) != 0) rc = -1;
    ch_verdict_free(st.v);
    for (size_t i = 0; i < SCREEN_BATCH; i++)
        ch_verdict_free(st.batch[i]);
    if (ch_screener_close(st.screener, &err) != 0) { /* an answer not to trust */
        fflush(stdout);
        cli_fail("screen", &err);
        rc = -1;
    }
    return exit_code(&st, rc, a.file);
}

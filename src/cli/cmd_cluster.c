/* coinhound cluster build --db DIR [--change] [--progress]
 * coinhound cluster build --chain eth --db DIR [--labels FILE.csv ...] [--window N]
 * coinhound cluster ADDR --db DIR [--chain eth] [--json] [--labels FILE.csv ...] [--limit N] */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "coinhound/address.h"
#include "coinhound/cluster.h"
#include "coinhound/hash.h"
#include "coinhound/intel.h"
#include "coinhound/jsonw.h"
#include "util/csvread.h"
#include "util/vec.h"

/* The command's help: its two forms (build, ADDR), the account-chain deposit
 * clustering and every option. */
static void usage(FILE *f) {
    fprintf(
        f,
        "usage: coinhound cluster build --db DIR [--change] [--progress]\n"
        "       coinhound cluster build --chain eth --db DIR [--labels FILE.csv ...] [--window N]\n"
        "       coinhound cluster ADDR --db DIR [--chain eth] [--json] [--labels FILE.csv ...]\n"
        "                 [--limit N]\n\n"
        "Address clustering. 'build' walks the whole chain once and merges the addresses\n"
        "spent together in one transaction (the multi-input heuristic), skipping\n"
        "coinbases and CoinJoins (generic, Wasabi 1.0/2.0, Whirlpool and JoinMarket\n"
        "rules). --change also joins a transaction's one-time change address (the\n"
        "only output paying a never-seen address, no output back to an input\n"
        "address). The result goes to DIR/btc/clusters.col; rebuild after ingesting.\n\n"
        "On an account chain (--chain eth, bsc, ...) 'build' finds exchange deposit\n"
        "addresses (Victor's heuristic): D forwarding to a known exchange E at most\n"
        "--window blocks (default 3200) after a customer U paid D, keeping at most\n"
        "0.01 ETH (tokens: the same amount), makes U a customer; the customers of one\n"
        "D are one entity. Exchanges come from DIR/intel (category exchange) and the\n"
        "--labels CSV files (header naming address and category). The result goes to\n"
        "DIR/<chain>/clusters.col. One build or ingest writes a store at a time: while\n"
        "another runs, 'build' fails naming it, or waits for it with --wait.\n\n"
        "'cluster ADDR' shows the address's cluster: its id (the smallest address id\n"
        "in it), its size, the labels of its members (from DIR/intel when present,\n"
        "and from --labels CSV files with header address,category,entity) and its\n"
        "first members (--limit N limits both, the address's own labels first;\n"
        "default 100; 0 for all). A label on any member\n"
        "speaks for the whole cluster. Exit 1 when the address never appears.\n\n"
        "examples:\n"
        "  coinhound cluster build --db ./chdb --change\n"
        "  coinhound cluster 1HB5XMLmzFVj8ALj6mfBsbifRoD4miY36v --db ./chdb --json\n"
        "  coinhound cluster build --chain eth --db ./chdb --labels labels.csv\n");
}

/* A Bitcoin address, or on an account chain an EVM "0x" + 40 hex one. */
static int parse_addr(const char *str, bool account, ch_addr *a, ch_error *err) {
    if (!account) return ch_addr_from_string(str, a, NULL, err);
    memset(a, 0, sizeof *a);
    a->kind = CH_ADDR_EVM;
    a->len = 20;
    if (strlen(str) == 42 && str[0] == '0' && (str[1] == 'x' || str[1] == 'X') &&
        ch_hex_decode(str + 2, 40, a->bytes, 20) == 0)
        return 0;
    return ch_err(err, "not an EVM address (0x and 40 hex digits)");
}

/* Rows of a CSV (header address,category,entity) whose address is in the
 * cluster. */
static int read_csv_labels(const char *path, ch_store *s, const ch_clusters *c, ch_addr_id cluster,
                           ch_cluster_view *out, ch_error *err) {
    FILE *f = fopen(path, "r");
    if (!f) return ch_err(err, "cannot open %s", path);
    csv_reader r;
    csv_init(&r, f, path);
    int col_addr = -1, col_cat = -1, col_ent = -1, rc;
    if ((rc = csv_next(&r, err)) == 1)
        for (int i = 0; i < r.nfields; i++) {
            if (!strcmp(r.field[i], "address")) col_addr = i;
            if (!strcmp(r.field[i], "category")) col_cat = i;
            if (!strcmp(r.field[i], "entity")) col_ent = i;
        }
    if (rc == 1 && (col_addr < 0 || col_cat < 0 || col_ent < 0))
        rc = ch_err(err, "%s: the header must name address,category,entity", path);
    while (rc == 1 && (rc = csv_next(&r, err)) == 1) {
        if (r.nfields <= col_addr || r.nfields <= col_cat || r.nfields <= col_ent) continue;
        ch_addr a;
        ch_addr_id id;
        uint64_t last;
        if (parse_addr(r.field[col_addr], ch_store_is_account(s), &a, NULL) != 0)
            continue; /* not this chain's */
        if (ch_store_find_addr(s, &a, &id, &last, NULL) != 1) continue;
        if (ch_cluster_of(c, id) != cluster) continue;
        char canon[CH_ADDR_STR_MAX];
        ch_addr_to_string(&a, ch_store_addr_net(s), canon);
        if (ch_cluster_view_label(out, canon, r.field[col_cat], r.field[col_ent], path) != 0)
            rc = ch_err(err, "out of memory");
    }
    csv_free(&r);
    fclose(f);
    return rc < 0 ? -1 : 0;
}

/* ---- cluster build ---- */
static int run_build(const char *db, bool change, bool progress, bool wait) {
    ch_cluster_opts o = {.change = change, .progress = progress ? 1 : -1, .wait = wait};
    ch_cluster_meta m;
    double secs;
    ch_error err;
    if (ch_cluster_build(db, &o, &m, &secs, &err) != 0) return cli_fail("cluster", &err);
    printf("transactions %" PRIu64 ", inputs %" PRIu64 " in %.2f s (%.1fM inputs/s)\n", m.txs,
           m.inputs, secs, secs > 0 ? (double)m.inputs / secs / 1e6 : 0.0);
    printf("addresses    %" PRIu64 "\n", m.addresses);
    printf("clusters     %" PRIu64 " (singletons included)\n", m.clusters);
    char buf[128] = "";
    ch_store *s;
    if (m.largest && ch_store_open(db, "btc", CH_STORE_READ, &s, &err) == 0) {
        if (!cli_addr_str(s, m.largest, buf)) buf[0] = 0;
        ch_store_close(s);
    }
    printf("largest      %u addresses (cluster %llu%s%s)\n", m.largest_size,
           (unsigned long long)m.largest, buf[0] ? ", " : "", buf);
    printf("coinjoins    %" PRIu64 " skipped; rules fired:", m.coinjoins[CH_CJ_NONE]);
    for (int r = 1; r < CH_CJ_COUNT; r++)
        printf(" %s %" PRIu64, ch_coinjoin_rule_name((ch_coinjoin_rule)r), m.coinjoins[r]);
    printf("\n");
    printf("merged       %" PRIu64 " inputs of multi-input txs\n", m.merged_inputs);
    if (change) printf("change       %" PRIu64 " one-time change outputs joined\n", m.change_links);
    printf("wrote        %s/btc/%s\n", db, CH_CLUSTER_FILE);
    return 0;
}

/* ---- cluster build --chain eth ---- */
static int run_build_deposit(const char *db, const char *chain, uint32_t window, char **csv,
                             int n_csv, bool progress, bool wait) {
    ch_deposit_opts o = {.window = window, .progress = progress ? 1 : -1, .wait = wait};
    ch_cluster_meta m;
    size_t n_ex = 0;
    double secs = 0;
    ch_error err;
    if (ch_deposit_build(db, chain, &o, (const char *const *)csv, (size_t)n_csv, &m, &n_ex, &secs,
                         &err) != 0)
        return cli_fail("cluster", &err);
    printf("transfers    %" PRIu64 " in %.2f s\n", m.txs, secs);
    printf("exchanges    %zu labelled addresses in the store\n", n_ex);
    if (n_ex == 0)
        fprintf(stderr, "coinhound cluster: note: no exchange addresses (import labels into "
                        "DIR/intel or give --labels FILE.csv): nothing to cluster\n");
    printf("deposits     %" PRIu64 " deposit addresses, %" PRIu64 " customers, %" PRIu64
           " links (window %u blocks)\n",
           m.deposit_addrs, m.customers, m.merged_inputs,
           window ? window : CH_DEPOSIT_DEFAULT_WINDOW);
    printf("addresses    %" PRIu64 "\n", m.addresses);
    printf("clusters     %" PRIu64 " (singletons included)\n", m.clusters);
    char buf[128] = "";
    ch_store *s;
    if (m.largest && ch_store_open(db, chain, CH_STORE_READ, &s, &err) == 0) {
        if (!cli_addr_str(s, m.largest, buf)) buf[0] = 0;
        ch_store_close(s);
    }
    printf("largest      %u addresses (cluster %llu%s%s)\n", m.largest_size,
           (unsigned long long)m.largest, buf[0] ? ", " : "", buf);
    printf("wrote        %s/%s/%s\n", db, chain, CH_CLUSTER_FILE);
    return 0;
}

/* ---- cluster ADDR ---- */
/* The view as text: the address, its cluster, the first nl labels (the
 * address's own first) and the members the view holds, each list saying
 * how many more there are. */
static void print_view_text(ch_cluster_view *v, ch_store *s, size_t nl) {
    ch_cluster_view_order(v);
    char buf[128];
    printf("address   %s\n", v->canonical);
    printf("cluster   %llu (%s)\n", (unsigned long long)v->cluster,
           v->cluster_address[0] ? v->cluster_address : "?");
    printf("size      %u address%s\n", v->size, v->size == 1 ? "" : "es");
    printf("labels    %zu\n", v->n_labels);
    for (size_t i = 0; i < nl; i++) {
        const ch_cluster_label_row *l = &v->labels[i];
        printf("  %s  %s  %s  [%s]%s\n", l->address, l->category, l->entity, l->source,
               strcmp(l->address, v->canonical) ? "" : "  (this address)");
    }
    if (nl < v->n_labels) printf("  ... %zu more labels (--limit 0 shows all)\n", v->n_labels - nl);
    printf("members\n");
    for (size_t i = 0; i < v->n_members; i++) {
        const char *ms = cli_addr_str(s, v->members[i], buf);
        printf("  %s\n", ms ? ms : "?");
    }
    if (v->n_members < v->size)
        printf("  ... %zu more (--limit 0 shows all)\n", (size_t)v->size - v->n_members);
}

/* The store through the one opener (cli_query_open: the one chain rule, so
 * an 0x address reads the eth store without --chain), the address read as
 * the store's kind says. */
static int run_query(const char *db_opt, const char *chain_opt, const char *arg, bool json,
                     uint64_t limit, char **csv_paths, int n_csv) {
    ch_error err;
    ch_addr a;
    cli_query q;
    int rc = cli_query_open("cluster", db_opt, chain_opt, arg, NULL, 0, &q);
    if (rc != 0) return rc;
    const char *db = q.db, *chain = cli_chain_of(chain_opt, arg);
    ch_store *s = q.s;
    bool account = ch_store_is_account(s);
    if (parse_addr(arg, account, &a, &err) != 0) {
        rc = cli_failf("cluster", "'%s' is not a valid address: %s", arg, err.msg);
        return cli_query_close("cluster", &q, rc);
    }
    ch_clusters *c = NULL;
    ch_intel *intel = NULL;
    ch_cluster_view v = {0};
    rc = 2;
    if (ch_clusters_open_for(s, db, chain, &c, &err) != 0) {
        cli_fail("cluster", &err);
        goto done;
    }
    char ipath[4200];
    struct stat st;
    snprintf(ipath, sizeof ipath, "%s/intel", db);
    if (stat(ipath, &st) == 0 && ch_intel_open(db, false, &intel, &err) != 0) {
        cli_fail("cluster", &err);
        goto done;
    }
    int found = ch_cluster_view_get(s, c, intel, arg, (size_t)limit, &v, &err);
    if (found <= 0) {
        if (found < 0)
            cli_fail("cluster", &err);
        else
            fprintf(stderr, "coinhound cluster: %s never appears in the store\n", arg);
        rc = found < 0 ? 2 : 1;
        goto done;
    }
    if (v.have > v.covered)
        fprintf(stderr,
                "coinhound cluster: note: the cluster file covers %" PRIu64 " of %" PRIu64
                " %s; run 'coinhound cluster build' again\n",
                v.covered, v.have, account ? "transfers" : "txs");
    for (int i = 0; i < n_csv; i++)
        if (read_csv_labels(csv_paths[i], s, c, v.cluster, &v, &err) != 0) {
            cli_fail("cluster", &err);
            goto done;
        }
    /* --limit limits the labels too: the address's own labels first */
    size_t nl = limit == 0 || limit > v.n_labels ? v.n_labels : (size_t)limit;
    if (json) {
        ch_jw w;
        ch_jw_init(&w, stdout);
        ch_cluster_view_json(&v, s, (size_t)limit, &w);
        ch_jw_newline(&w);
    } else {
        print_view_text(&v, s, nl);
    }
    rc = 0;
done:
    ch_cluster_view_free(&v);
    if (intel) ch_intel_close(intel);
    ch_clusters_close(c);
    return cli_query_close("cluster", &q, rc);
}

int cmd_cluster(int argc, char **argv) {
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"change", no_argument, 0, 'c'},
                                         {"progress", no_argument, 0, 'p'},
                                         {"json", no_argument, 0, 'j'},
                                         {"labels", required_argument, 0, 'L'},
                                         {"limit", required_argument, 0, 'l'},
                                         {"chain", required_argument, 0, 'C'},
                                         {"window", required_argument, 0, 'w'},
                                         {"wait", no_argument, 0, 'W'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *db = NULL, *chain = NULL;
    uint32_t window = 0;
    bool change = false, progress = false, json = false, wait = false;
    uint64_t limit = 100;
    char *csv[32];
    int n_csv = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'd')
            db = optarg;
        else if (c == 'c')
            change = true;
        else if (c == 'p')
            progress = true;
        else if (c == 'j')
            json = true;
        else if (c == 'l') {
            if (cli_opt_u64("cluster", "--limit", optarg, 0, UINT64_MAX, &limit)) return 2;
        } else if (c == 'C') {
            if (cli_opt_chain("cluster", optarg)) return 2;
            chain = optarg;
        } else if (c == 'w') {
            if (cli_opt_u32("cluster", "--window", optarg, 1, UINT32_MAX, &window)) return 2;
        } else if (c == 'W')
            wait = true;
        else if (c == 'L' && n_csv < (int)(sizeof csv / sizeof csv[0]))
            csv[n_csv++] = optarg;
        else {
            usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    if (argc - optind != 1) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[optind], "build") != 0)
        return run_query(db, chain, argv[optind], json, limit, csv, n_csv);
    if (!(db = cli_db_dir("cluster", db))) return 2;
    chain = cli_chain_of(chain, NULL); /* build has no argument: --chain, else btc */
    if (strcmp(chain, "btc") != 0)
        return run_build_deposit(db, chain, window, csv, n_csv, progress, wait);
    return run_build(db, change, progress, wait);
}

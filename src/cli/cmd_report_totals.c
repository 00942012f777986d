/* coinhound report totals --incidents FILE... [--published FILE...]
 *     [--by actor,year] [--db DIR [--chain NAME]] [--json] --out FILE
 * Stolen value by actor and year from incident records (report.h,
 * docs/report.md). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/report_out.h"
#include "coinhound/report.h"

#define MAX_FILES 64

int cmd_report_totals(int argc, char **argv);

enum {
    OPT_INCIDENTS = 1000,
    OPT_PUBLISHED,
    OPT_BY,
    OPT_DB,
    OPT_CHAIN,
    OPT_JSON,
    OPT_OUT,
    OPT_TITLE
};

int cmd_report_totals(int argc, char **argv) {
    static const struct option opts[] = {{"incidents", required_argument, 0, OPT_INCIDENTS},
                                         {"published", required_argument, 0, OPT_PUBLISHED},
                                         {"by", required_argument, 0, OPT_BY},
                                         {"db", required_argument, 0, OPT_DB},
                                         {"chain", required_argument, 0, OPT_CHAIN},
                                         {"json", no_argument, 0, OPT_JSON},
                                         {"out", required_argument, 0, OPT_OUT},
                                         {"title", required_argument, 0, OPT_TITLE},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *cmd = "report totals";
    const char *inc[MAX_FILES], *pub[MAX_FILES], *db = NULL, *out = NULL;
    size_t n_inc = 0, n_pub = 0;
    bool json = false;
    ch_totals_opts o;
    ch_totals_opts_init(&o);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_INCIDENTS:
        case OPT_PUBLISHED: {
            size_t *n = c == OPT_INCIDENTS ? &n_inc : &n_pub;
            if (*n == MAX_FILES) return cli_failf(cmd, "at most %d files of each kind", MAX_FILES);
            (c == OPT_INCIDENTS ? inc : pub)[(*n)++] = optarg;
            break;
        }
        case OPT_BY:
            if (ch_totals_by_parse(optarg, &o.by) != 0)
                return cli_failf(cmd, "--by: '%s' is not actor,year, year or actor", optarg);
            break;
        case OPT_DB:
            db = optarg;
            break;
        case OPT_CHAIN:
            if (cli_opt_chain(cmd, optarg)) return 2;
            o.chain = optarg;
            break;
        case OPT_JSON:
            json = true;
            break;
        case OPT_OUT:
            out = optarg;
            break;
        case OPT_TITLE:
            o.title = optarg;
            break;
        default:
            report_usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    if (optind != argc) return cli_failf(cmd, "unexpected argument '%s'", argv[optind]);
    if (!n_inc) return cli_failf(cmd, "--incidents FILE is required");
    if (!out) return cli_failf(cmd, "--out FILE is required ('-' for standard output)");
    ch_error err = {{0}};
    ch_incidents *set = NULL;
    ch_store *s = NULL;
    int rc = 0;
    if (ch_incidents_new(&set, &err) != 0) return cli_fail(cmd, &err);
    for (size_t i = 0; i < n_inc && rc == 0; i++)
        if (ch_incidents_load(set, inc[i], &err) != 0) rc = cli_fail(cmd, &err);
    for (size_t i = 0; i < n_pub && rc == 0; i++)
        if (ch_published_load(set, pub[i], &err) != 0) rc = cli_fail(cmd, &err);
    if (rc == 0 && db) {
        if (ch_store_open(db, o.chain, CH_STORE_READ, &s, &err) != 0)
            rc = cli_fail(cmd, &err);
        else
            o.store = s;
    }
    if (rc == 0) {
        report_out of = {0};
        rc = report_out_open(cmd, &of, out);
        if (rc == 0 && ch_report_totals_write(of.f, set, &o, json, &err) != 0)
            rc = cli_fail(cmd, &err);
        rc = report_out_close(cmd, &of, rc);
    }
    ch_incidents_free(set);
    return s ? cli_store_close(cmd, s, rc) : rc;
}

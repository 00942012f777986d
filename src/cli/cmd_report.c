/* coinhound report case|totals: the reports people read (report.h,
 * docs/report.md). `case` runs a trace with the options of `trace`
 * (trace_args.c: one parser, one front door) and writes its case report;
 * `totals` (cmd_report_totals.c) reads incident records and writes the
 * oversight totals. A report
 * is written to FILE.tmp and renamed: a failed run leaves no partial file. */
#include <stdbool.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/report_out.h"
#include "cli/trace_args.h"
#include "coinhound/report.h"

#define MAX_FILES 64

void report_usage(FILE *f) {
    fprintf(f,
            "usage: coinhound report case --db DIR --from SOURCE [trace options] --out FILE.html\n"
            "       coinhound report totals --incidents FILE... [--published FILE...]\n"
            "                [--by actor,year] [--db DIR [--chain NAME]] [--json] --out FILE\n\n"
            "case: one self-contained HTML file (inline CSS and SVG, no external asset; print it\n"
            "to PDF from a browser) saying what was stolen, where it went and where it is now:\n"
            "amounts by service and category (what can be frozen, where), a flow diagram, the\n"
            "landings with the tx, block and time they arrived in and each label's source and\n"
            "date, the evidence per hop, and the method (policy, limits, data up to which\n"
            "block). It takes the options of `coinhound trace` (--from, --policy, --direction,\n"
            "--labels, --stop-at, --max-hops, --min-amount, --since, --until, --chain, --tokens,\n"
            "--first-block, --last-block; see 'coinhound trace --help'), and:\n"
            "  --out FILE        the report (required; '-' for standard output)\n"
            "  --title TEXT      the report's title\n"
            "  --notes TEXT      the investigator's notes, printed as given (escaped)\n"
            "  --tag TEXT        a tag of the case (may repeat)\n\n"
            "totals: stolen value by actor and year from incident records (docs/report.md),\n"
            "with shares per year over their denominator (all thefts; service compromises\n"
            "only) and published figures beside them, the difference explained.\n"
            "  --incidents FILE  an incidents CSV (may repeat; e.g. data/incidents.csv)\n"
            "  --published FILE  published totals CSV (may repeat; e.g. data/published.csv)\n"
            "  --by LIST         actor,year (default), year or actor\n"
            "  --db DIR          recompute the amounts of incidents whose theft txs or\n"
            "  --chain NAME      addresses are in this store (default chain btc)\n"
            "  --json            write the figures as JSON instead of HTML\n"
            "  --out FILE        the report (required; '-' for standard output)\n\n"
            "example:\n"
            "  coinhound report case --db ./chdb --from TXID:0 --labels exchanges.csv \\\n"
            "      --out case.html\n"
            "  coinhound report totals --incidents data/incidents.csv \\\n"
            "      --published data/published.csv --out totals.html\n\n"
            "Exit 0 ok, 1 the source is not in the store (case), 2 an error.\n");
}

enum { OPT_OUT = CLI_TRACE_OPT_END, OPT_TITLE, OPT_NOTES, OPT_TAG };

/* The `coinhound trace` command that reproduces the case's trace: this
 * command's arguments without the report's own options. */
static const char *trace_command(int argc, char **argv, char *out, size_t cap) {
    static const char *const own[] = {"--out", "--title", "--notes", "--tag"};
    size_t o = (size_t)snprintf(out, cap, "coinhound trace");
    for (int i = 1; i < argc && o < cap; i++) {
        bool skip = false;
        for (size_t k = 0; k < sizeof own / sizeof *own && !skip; k++) {
            size_t n = strlen(own[k]);
            if (!strncmp(argv[i], own[k], n) && (argv[i][n] == '\0' || argv[i][n] == '=')) {
                skip = true;
                if (argv[i][n] == '\0') i++; /* its value */
            }
        }
        if (skip) continue;
        bool plain = argv[i][0] && !strpbrk(argv[i], " \t\n'\"\\$`;&|<>()*?[]#~!{}");
        if (plain) {
            o += (size_t)snprintf(out + o, cap - o, " %s", argv[i]);
            continue;
        }
        o += (size_t)snprintf(out + o, cap - o, " '"); /* shell quoting: ' as '\'' */
        for (const char *p = argv[i]; *p && o < cap; p++)
            o += (size_t)snprintf(out + o, cap - o, *p == '\'' ? "'\\''" : "%c", *p);
        if (o < cap) o += (size_t)snprintf(out + o, cap - o, "'");
    }
    return o < cap ? out : NULL;
}

/* `report case`: the trace options through trace_args.c (the one parser), the
 * report's own (--out, --title, --notes, --tag), the trace through the one
 * front door, and the report written to a temporary file renamed into place. */
static int report_case(int argc, char **argv) {
    static const struct option opts[] = {CLI_TRACE_LONGOPTS,
                                         {"out", required_argument, 0, OPT_OUT},
                                         {"title", required_argument, 0, OPT_TITLE},
                                         {"notes", required_argument, 0, OPT_NOTES},
                                         {"tag", required_argument, 0, OPT_TAG},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *cmd = "report case";
    cli_trace_args a;
    cli_trace_args_init(&a);
    ch_report_case_opts ro;
    ch_report_case_opts_init(&ro);
    const char *out = NULL, *tags[MAX_FILES];
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int took = cli_trace_opt(cmd, c, optarg, &a);
        if (took < 0) return 2;
        if (took) continue;
        switch (c) {
        case OPT_OUT:
            out = optarg;
            break;
        case OPT_TITLE:
            ro.title = optarg;
            break;
        case OPT_NOTES:
            ro.notes = optarg;
            break;
        case OPT_TAG:
            if (ro.n_tags == MAX_FILES) return cli_failf(cmd, "at most %d --tag", MAX_FILES);
            tags[ro.n_tags++] = optarg;
            break;
        default:
            report_usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    ro.tags = tags;
    char command[8192];
    ro.command = trace_command(argc, argv, command, sizeof command);
    if (optind != argc) return cli_failf(cmd, "unexpected argument '%s'", argv[optind]);
    if (!out) return cli_failf(cmd, "--out FILE.html is required");
    if (cli_trace_args_finish(cmd, &a) != 0) return 2;
    cli_trace_run run;
    int rc = cli_trace_open(cmd, &a, &run);
    if (rc == 0) {
        report_out of = {0};
        ch_error err = {{0}};
        rc = report_out_open(cmd, &of, out);
        if (rc == 0 && ch_report_case_write(of.f, run.r, &ro, &err) != 0) rc = cli_fail(cmd, &err);
        rc = report_out_close(cmd, &of, rc);
    }
    return cli_trace_close(cmd, &run, rc);
}

int cmd_report_totals(int argc, char **argv);

int cmd_report(int argc, char **argv) {
    if (argc < 2 || cli_is_help(argv[1])) {
        report_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "case")) return report_case(argc - 1, argv + 1);
    if (!strcmp(argv[1], "totals")) return cmd_report_totals(argc - 1, argv + 1);
    report_usage(stderr);
    return cli_failf("report", "'%s' is not a report: case or totals", argv[1]);
}

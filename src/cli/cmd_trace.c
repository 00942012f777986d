/* coinhound trace --db DIR --from TXID|TXID:VOUT|ADDRESS [options]
 * The output formats are a contract (docs/trace.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/trace_args.h"
#include "coinhound/trace.h"
#include "coinhound/tokens.h"

/* The command's help: sources, directions, policies, stops, windows, outputs
 * and the account-chain forms. */
static void usage(FILE *f) {
    fprintf(f, "usage: coinhound trace --db DIR --from TXID|TXID:VOUT|ADDRESS [options]\n\n"
               "Follow tainted coins through the chain. --from TXID taints every output of\n"
               "that transaction in full, TXID:VOUT one output, an address everything it\n"
               "received. Forward (the default) follows spenders: where did it go; backward\n"
               "follows inputs: where did it come from. Tracing stops where the coins reach\n"
               "an address labelled with a stop category (a landing: an exchange can freeze\n"
               "them); tainted coins still unspent elsewhere are holdings.\n\n"
               "options:\n"
               "  --policy P        poison (any taint taints everything), haircut (shared in\n"
               "                    proportion to value; the default), fifo (first in, first\n"
               "                    out, satoshi by satoshi) or lifo\n"
               "  --direction D     forward (default) or backward\n"
               "  --labels FILE     CSV with header address,category,entity (may repeat); on\n"
               "                    top of the attribution store in DIR/intel when present\n"
               "  --stop-at LIST    stop categories, comma-separated (default:\n"
               "                    " CH_TRACE_DEFAULT_STOP ";\n"
               "                    \"\" for none)\n"
               "  --max-hops N      follow at most N transactions from the source\n"
               "  --min-amount N    drop taint below N base units (satoshi; wei or token units on\n"
               "                    account chains), counted as below_min\n"
               "  --since T         only transactions in blocks from time T on, and\n"
               "  --until T         up to time T (unix seconds or YYYY-MM-DD, UTC)\n"
               "  --json            one JSON object, the same fields for every chain: chain,\n"
               "                    policy, direction, source, tainted_total, landings [{address,\n"
               "                    entity, category, asset, amount, amount_display, hops, path,\n"
               "                    tx, block, time}], holdings, assets [per-asset totals], ...;\n"
               "                    amounts are strings of whole base units (satoshi, wei)\n"
               "  --csv             the landings as CSV: address,entity,category,amount,hops,...\n"
               "  --edges           the flow as an edge list (CSV): tx,block,time,from,to,asset,\n"
               "                    value,amount,hops,next_tx,landing,swap\n"
               "  --dot             the flow as a Graphviz digraph (render: dot -Tsvg)\n\n"
               "Account chains (--chain eth|bsc|polygon|..., or an 0x --from): --from is an\n"
               "0x address (everything it received) or an 0x tx hash (every transfer of it);\n"
               "policies poison, haircut, fifo; traced per asset, swaps inside a tx continue\n"
               "in the asset received. Amounts in base units (wei, token units) as strings,\n"
               "with amount_display and asset per landing and holding (docs/trace.md).\n"
               "  --chain NAME      the store DIR/NAME (default btc)\n"
               "  --tokens FILE     token table CSV (address,symbol[,decimals]; may repeat)\n"
               "  --first-block N   only blocks numbered N and later, and\n"
               "  --last-block N    up to N\n\n"
               "Without a format: totals per entity, the largest landings with their\n"
               "shortest path, and the holdings.\n\n"
               "example: where did the coins of a theft go, FIFO, with our labels:\n"
               "  coinhound trace --db ./chdb --from "
               "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16:0 \\\n"
               "      --policy fifo --labels exchanges.csv --max-hops 50 --json\n\n"
               "Exit 0 ok, 1 the source is not in the store, 2 an error.\n");
}

enum {
    OPT_JSON = CLI_TRACE_OPT_END,
    OPT_CSV,
    OPT_DOT,
    OPT_EDGES,
};

/* The trace through the one front door (trace_args.c: the one opener, the
 * labels, ch_trace_exec), then the one writer. */
static int run_trace(cli_trace_args *a, ch_trace_format format) {
    cli_trace_run run;
    int rc = cli_trace_open("trace", a, &run);
    if (rc == 0 && (ch_trace_write(run.r, format, stdout) != 0 || fflush(stdout)))
        rc = cli_failf("trace", "cannot write the output");
    return cli_trace_close("trace", &run, rc);
}

/* The output format (the one option of trace's own): -1 to go on, else the
 * exit code (0 for --help, 2 for an unknown option). */
static int parse_format(int c, int *format, int *formats) {
    switch (c) {
    case OPT_JSON:
    case OPT_CSV:
    case OPT_EDGES:
    case OPT_DOT:
        *format = c == OPT_JSON    ? CH_TRACE_JSON
                  : c == OPT_CSV   ? CH_TRACE_CSV
                  : c == OPT_EDGES ? CH_TRACE_EDGES
                                   : CH_TRACE_DOT;
        (*formats)++;
        return -1;
    default:
        usage(c == 'h' ? stdout : stderr);
        return c == 'h' ? 0 : 2;
    }
}

int cmd_trace(int argc, char **argv) {
    static const struct option opts[] = {CLI_TRACE_LONGOPTS,
                                         {"json", no_argument, 0, OPT_JSON},
                                         {"csv", no_argument, 0, OPT_CSV},
                                         {"dot", no_argument, 0, OPT_DOT},
                                         {"edges", no_argument, 0, OPT_EDGES},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    cli_trace_args a;
    cli_trace_args_init(&a);
    int format = CH_TRACE_TEXT, formats = 0;
    int c, rc;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int took = cli_trace_opt("trace", c, optarg, &a);
        if (took < 0) return 2;
        if (!took && (rc = parse_format(c, &format, &formats)) >= 0) return rc;
    }
    if (optind != argc) return cli_failf("trace", "unexpected argument '%s'", argv[optind]);
    if (!a.from) {
        usage(stderr);
        return cli_failf("trace", "--from is required");
    }
    if (formats > 1) return cli_failf("trace", "choose one of --json, --csv, --edges, --dot");
    if (cli_trace_args_finish("trace", &a) != 0) return 2;
    return run_trace(&a, (ch_trace_format)format);
}

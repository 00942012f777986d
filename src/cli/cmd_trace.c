/* coinhound trace --db DIR --from TXID|TXID:VOUT|ADDRESS [options]
 * The output formats are a contract (docs/trace.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "coinhound/trace.h"
#include "coinhound/tokens.h"

#define MAX_LABEL_FILES 64

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
    OPT_DB = 1000,
    OPT_FROM,
    OPT_POLICY,
    OPT_DIRECTION,
    OPT_LABELS,
    OPT_STOP,
    OPT_HOPS,
    OPT_MIN,
    OPT_SINCE,
    OPT_UNTIL,
    OPT_JSON,
    OPT_CSV,
    OPT_DOT,
    OPT_CHAIN,
    OPT_TOKENS,
    OPT_FIRST_BLOCK,
    OPT_LAST_BLOCK,
    OPT_EDGES,
};

/* The store and token tables (the one opener, cli_query_open: the one chain
 * rule and the one token policy), labels (attribution store, CSV files), the
 * trace through the one front door, and the one writer. */
static int run_trace(const char *db_opt, const char *chain_opt, ch_trace_spec *o,
                     const char *const *label_files, size_t n_labels,
                     const char *const *token_files, size_t n_tokens, ch_trace_format format) {
    ch_error err = {{0}}, warn = {{0}};
    ch_labels *labels = NULL;
    ch_trace_result *r = NULL;
    cli_query q;
    int rc = cli_query_open("trace", db_opt, chain_opt, o->source, token_files, n_tokens, &q);
    if (rc != 0) return rc;
    const char *chain = cli_chain_of(chain_opt, o->source);
    bool account = ch_store_is_account(q.s);
    if (account && o->policy == CH_POLICY_LIFO) {
        rc = cli_failf("trace", "account chains: --policy is poison, haircut or fifo");
        goto done;
    }
    if (strcmp(chain, "btc") != 0 && !account) {
        rc = cli_failf("trace", "%s/%s is not an account-chain store", q.db, chain);
        goto done;
    }
    if (ch_labels_open(q.s, q.db, o->stop_at, label_files, n_labels, &labels, &warn, &err) != 0)
        goto fail;
    if (warn.msg[0])
        fprintf(stderr, "coinhound trace: warning: attribution store not used: %s\n", warn.msg);
    o->labels = labels;
    o->chain = chain;
    o->tokens = q.tokens;
    int found = ch_trace_exec(q.s, o, &r, &err);
    if (found < 0) goto fail;
    if (found == 0) {
        fprintf(stderr, "coinhound trace: %s\n", err.msg);
        rc = 1;
        goto done;
    }
    if (ch_trace_write(r, format, stdout) != 0 || fflush(stdout))
        rc = cli_failf("trace", "cannot write the output");
    else
        rc = 0;
    goto done;
fail:
    rc = cli_fail("trace", &err);
done:
    ch_trace_result_free(r);
    ch_labels_free(labels);
    return cli_query_close("trace", &q, rc);
}

/* What the command line asked for, gathered by parse_option. */
typedef struct trace_args {
    const char *db, *from, *chain;
    const char *label_files[MAX_LABEL_FILES], *token_files[MAX_LABEL_FILES];
    size_t n_labels, n_tokens;
    int format, formats;
    ch_trace_spec spec;
} trace_args;

/* One option c (optarg its value) into a: -1 to go on, else the exit code
 * the command ends with (0 for --help, 2 after saying what is wrong). */
static int parse_option(trace_args *a, int c) {
    ch_trace_spec *o = &a->spec;
    uint64_t v;
    switch (c) {
    case OPT_DB:
        a->db = optarg;
        break;
    case OPT_FROM:
        a->from = optarg;
        break;
    case OPT_POLICY:
        if (ch_trace_policy_parse(optarg, &o->policy) != 0)
            return cli_failf("trace", "--policy: '%s' is not poison, haircut, fifo or lifo",
                             optarg);
        break;
    case OPT_DIRECTION:
        if (ch_trace_direction_parse(optarg, &o->direction) != 0)
            return cli_failf("trace", "--direction: '%s' is not forward or backward", optarg);
        break;
    case OPT_LABELS:
        if (a->n_labels == MAX_LABEL_FILES)
            return cli_failf("trace", "at most %d --labels files", MAX_LABEL_FILES);
        a->label_files[a->n_labels++] = optarg;
        break;
    case OPT_STOP:
        o->stop_at = optarg;
        break;
    case OPT_HOPS:
        if (cli_opt_u32("trace", "--max-hops", optarg, 1, UINT32_MAX, &o->max_hops)) return 2;
        break;
    case OPT_MIN:
        if (cli_opt_u64("trace", "--min-amount", optarg, 0, UINT64_MAX, &v)) return 2;
        o->min_amount = v;
        break;
    case OPT_SINCE:
        if (cli_opt_time("trace", "--since", optarg, false, &o->since)) return 2;
        break;
    case OPT_UNTIL:
        if (cli_opt_time("trace", "--until", optarg, true, &o->until)) return 2;
        break;
    case OPT_CHAIN:
        if (cli_opt_chain("trace", optarg)) return 2;
        a->chain = optarg;
        break;
    case OPT_TOKENS:
        if (a->n_tokens == MAX_LABEL_FILES)
            return cli_failf("trace", "at most %d --tokens files", MAX_LABEL_FILES);
        a->token_files[a->n_tokens++] = optarg;
        break;
    case OPT_FIRST_BLOCK:
    case OPT_LAST_BLOCK:
        if (cli_opt_block("trace", c == OPT_FIRST_BLOCK ? "--first-block" : "--last-block", optarg,
                          &v))
            return 2;
        *(c == OPT_FIRST_BLOCK ? &o->first_block : &o->last_block) = v;
        break;
    case OPT_JSON:
    case OPT_CSV:
    case OPT_EDGES:
    case OPT_DOT:
        a->format = c == OPT_JSON    ? CH_TRACE_JSON
                    : c == OPT_CSV   ? CH_TRACE_CSV
                    : c == OPT_EDGES ? CH_TRACE_EDGES
                                     : CH_TRACE_DOT;
        a->formats++;
        break;
    default:
        usage(c == 'h' ? stdout : stderr);
        return c == 'h' ? 0 : 2;
    }
    return -1;
}

/* The options together: a source, one output format, ranges that are not
 * empty. 0, or 2 after saying what is wrong. */
static int check_args(const trace_args *a) {
    if (!a->from) {
        usage(stderr);
        return cli_failf("trace", "--from is required");
    }
    if (a->formats > 1) return cli_failf("trace", "choose one of --json, --csv, --edges, --dot");
    if (cli_opt_range("trace", a->spec.since, a->spec.until)) return 2;
    if (a->spec.last_block && a->spec.first_block > a->spec.last_block)
        return cli_failf("trace", "--last-block is before --first-block: an empty range");
    return 0;
}

int cmd_trace(int argc, char **argv) {
    static const struct option opts[] = {{"db", required_argument, 0, OPT_DB},
                                         {"from", required_argument, 0, OPT_FROM},
                                         {"policy", required_argument, 0, OPT_POLICY},
                                         {"direction", required_argument, 0, OPT_DIRECTION},
                                         {"labels", required_argument, 0, OPT_LABELS},
                                         {"stop-at", required_argument, 0, OPT_STOP},
                                         {"max-hops", required_argument, 0, OPT_HOPS},
                                         {"min-amount", required_argument, 0, OPT_MIN},
                                         {"since", required_argument, 0, OPT_SINCE},
                                         {"until", required_argument, 0, OPT_UNTIL},
                                         {"json", no_argument, 0, OPT_JSON},
                                         {"csv", no_argument, 0, OPT_CSV},
                                         {"dot", no_argument, 0, OPT_DOT},
                                         {"edges", no_argument, 0, OPT_EDGES},
                                         {"chain", required_argument, 0, OPT_CHAIN},
                                         {"tokens", required_argument, 0, OPT_TOKENS},
                                         {"first-block", required_argument, 0, OPT_FIRST_BLOCK},
                                         {"last-block", required_argument, 0, OPT_LAST_BLOCK},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    trace_args a;
    memset(&a, 0, sizeof a);
    a.format = CH_TRACE_TEXT;
    ch_trace_spec_init(&a.spec);
    int c, rc;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1)
        if ((rc = parse_option(&a, c)) >= 0) return rc;
    if (optind != argc) return cli_failf("trace", "unexpected argument '%s'", argv[optind]);
    if ((rc = check_args(&a)) != 0) return rc;
    a.spec.source = a.from;
    return run_trace(a.db, a.chain, &a.spec, a.label_files, a.n_labels, a.token_files, a.n_tokens,
                     (ch_trace_format)a.format);
}

/* The options of a trace, parsed once for every command that runs one
 * (`trace`, `report case`): the source, policy, direction, labels, stop
 * categories, limits, windows, chain and token tables. A command lists
 * CLI_TRACE_LONGOPTS in its getopt_long table, hands each option it gets to
 * cli_trace_opt, checks the whole with cli_trace_args_finish, and runs the
 * trace through the one front door with cli_trace_open (store, labels,
 * tokens, ch_trace_exec). Messages name the command: "coinhound CMD: ...". */
#ifndef COINHOUND_CLI_TRACE_ARGS_H
#define COINHOUND_CLI_TRACE_ARGS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "cli/cli_util.h"
#include "coinhound/tokens.h"
#include "coinhound/trace.h"

#define CLI_TRACE_MAX_FILES 64

/* getopt values of the trace options; a command's own options start at
 * CLI_TRACE_OPT_END. */
enum {
    CLI_TRACE_OPT_DB = 1000,
    CLI_TRACE_OPT_FROM,
    CLI_TRACE_OPT_POLICY,
    CLI_TRACE_OPT_DIRECTION,
    CLI_TRACE_OPT_LABELS,
    CLI_TRACE_OPT_STOP,
    CLI_TRACE_OPT_HOPS,
    CLI_TRACE_OPT_MIN,
    CLI_TRACE_OPT_SINCE,
    CLI_TRACE_OPT_UNTIL,
    CLI_TRACE_OPT_CHAIN,
    CLI_TRACE_OPT_TOKENS,
    CLI_TRACE_OPT_FIRST_BLOCK,
    CLI_TRACE_OPT_LAST_BLOCK,
    CLI_TRACE_OPT_END
};

/* The struct option entries of the trace options, for a getopt_long table. */
#define CLI_TRACE_LONGOPTS                                                                         \
    {"db", required_argument, 0, CLI_TRACE_OPT_DB},                                                \
        {"from", required_argument, 0, CLI_TRACE_OPT_FROM},                                        \
        {"policy", required_argument, 0, CLI_TRACE_OPT_POLICY},                                    \
        {"direction", required_argument, 0, CLI_TRACE_OPT_DIRECTION},                              \
        {"labels", required_argument, 0, CLI_TRACE_OPT_LABELS},                                    \
        {"stop-at", required_argument, 0, CLI_TRACE_OPT_STOP},                                     \
        {"max-hops", required_argument, 0, CLI_TRACE_OPT_HOPS},                                    \
        {"min-amount", required_argument, 0, CLI_TRACE_OPT_MIN},                                   \
        {"since", required_argument, 0, CLI_TRACE_OPT_SINCE},                                      \
        {"until", required_argument, 0, CLI_TRACE_OPT_UNTIL},                                      \
        {"chain", required_argument, 0, CLI_TRACE_OPT_CHAIN},                                      \
        {"tokens", required_argument, 0, CLI_TRACE_OPT_TOKENS},                                    \
        {"first-block", required_argument, 0, CLI_TRACE_OPT_FIRST_BLOCK}, {                        \
        "last-block", required_argument, 0, CLI_TRACE_OPT_LAST_BLOCK                               \
    }

/* What the options say. spec.source, .labels, .chain and .tokens are set by
 * cli_trace_args_finish and cli_trace_open. */
typedef struct cli_trace_args {
    const char *db, *from, *chain;
    const char *label_files[CLI_TRACE_MAX_FILES];
    size_t n_labels;
    const char *token_files[CLI_TRACE_MAX_FILES];
    size_t n_tokens;
    ch_trace_spec spec;
} cli_trace_args;

void cli_trace_args_init(cli_trace_args *a);
/* One option c (getopt's value) with its argument: 1 taken, 0 not a trace
 * option (the command handles it), -1 after printing why it is bad (the
 * command exits 2). */
int cli_trace_opt(const char *cmd, int c, const char *arg, cli_trace_args *a);
/* After the options: --from given, the windows in order, and the chain by
 * the one chain rule (cli_chain_of: --chain, else the source's form). 0, or
 * -1 after printing why (exit 2). */
int cli_trace_args_finish(const char *cmd, cli_trace_args *a);

/* A trace run through the one front door, with what it holds open. */
typedef struct cli_trace_run {
    cli_query q; /* the store and token tables (cli_query_open) */
    bool open;
    ch_store *s; /* q.s */
    ch_labels *labels;
    ch_trace_result *r;
} cli_trace_run;

/* Open the store DIR/chain and its token tables through the one opener
 * (cli_query_open: --db or $COINHOUND_DB, the one token policy), the labels
 * (DIR/intel, the --labels files), and run the trace. 0 and run->r set; 1
 * the source is not in the store (said on stderr); 2 an error (said).
 * Whatever the answer, cli_trace_close(run, rc) releases what was opened. */
int cli_trace_open(const char *cmd, cli_trace_args *a, cli_trace_run *run);
/* Release a run and give the command's exit code (rc, or 2 when the store
 * met damage while it was read: cli_store_close). */
int cli_trace_close(const char *cmd, cli_trace_run *run, int rc);

#endif

/* The trace options, parsed once for `trace` and `report case` (see
 * trace_args.h). */
#include "cli/trace_args.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli_util.h"

void cli_trace_args_init(cli_trace_args *a) {
    memset(a, 0, sizeof *a);
    ch_trace_spec_init(&a->spec);
}

int cli_trace_opt(const char *cmd, int c, const char *arg, cli_trace_args *a) {
    ch_trace_spec *o = &a->spec;
    uint64_t v;
    switch (c) {
    case CLI_TRACE_OPT_DB:
        a->db = arg;
        return 1;
    case CLI_TRACE_OPT_FROM:
        a->from = arg;
        return 1;
    case CLI_TRACE_OPT_POLICY:
        if (ch_trace_policy_parse(arg, &o->policy) != 0) {
            cli_failf(cmd, "--policy: '%s' is not poison, haircut, fifo or lifo", arg);
            return -1;
        }
        return 1;
    case CLI_TRACE_OPT_DIRECTION:
        if (ch_trace_direction_parse(arg, &o->direction) != 0) {
            cli_failf(cmd, "--direction: '%s' is not forward or backward", arg);
            return -1;
        }
        return 1;
    case CLI_TRACE_OPT_LABELS:
    case CLI_TRACE_OPT_TOKENS: {
        bool lab = c == CLI_TRACE_OPT_LABELS;
        size_t *n = lab ? &a->n_labels : &a->n_tokens;
        if (*n == CLI_TRACE_MAX_FILES) {
            cli_failf(cmd, "at most %d %s files", CLI_TRACE_MAX_FILES,
                      lab ? "--labels" : "--tokens");
            return -1;
        }
        (lab ? a->label_files : a->token_files)[(*n)++] = arg;
        return 1;
    }
    case CLI_TRACE_OPT_STOP:
        o->stop_at = arg;
        return 1;
    case CLI_TRACE_OPT_HOPS:
        return cli_opt_u32(cmd, "--max-hops", arg, 1, UINT32_MAX, &o->max_hops) ? -1 : 1;
    case CLI_TRACE_OPT_MIN:
        if (cli_opt_u64(cmd, "--min-amount", arg, 0, UINT64_MAX, &v)) return -1;
        o->min_amount = v;
        return 1;
    case CLI_TRACE_OPT_SINCE:
        return cli_opt_time(cmd, "--since", arg, false, &o->since) ? -1 : 1;
    case CLI_TRACE_OPT_UNTIL:
        return cli_opt_time(cmd, "--until", arg, true, &o->until) ? -1 : 1;
    case CLI_TRACE_OPT_CHAIN:
        if (cli_opt_chain(cmd, arg)) return -1;
        a->chain = arg;
        return 1;
    case CLI_TRACE_OPT_FIRST_BLOCK:
    case CLI_TRACE_OPT_LAST_BLOCK: {
        bool first = c == CLI_TRACE_OPT_FIRST_BLOCK;
        if (cli_opt_block(cmd, first ? "--first-block" : "--last-block", arg, &v)) return -1;
        *(first ? &o->first_block : &o->last_block) = v;
        return 1;
    }
    default:
        return 0;
    }
}

int cli_trace_args_finish(const char *cmd, cli_trace_args *a) {
    ch_trace_spec *o = &a->spec;
    if (!a->from) {
        cli_failf(cmd, "--from is required");
        return -1;
    }
    if (cli_opt_range(cmd, o->since, o->until)) return -1;
    if (o->last_block && o->first_block > o->last_block) {
        cli_failf(cmd, "--last-block is before --first-block: an empty range");
        return -1;
    }
    o->source = a->from;
    /* the one chain rule: --chain, else the source's form (0x: eth) */
    a->chain = cli_chain_of(a->chain, a->from);
    return 0;
}

int cli_trace_open(const char *cmd, cli_trace_args *a, cli_trace_run *run) {
    ch_error err = {{0}}, warn = {{0}};
    ch_trace_spec *o = &a->spec;
    memset(run, 0, sizeof *run);
    /* the one opener: the store, and on an account store the token tables of
     * the one token policy */
    int rc = cli_query_open(cmd, a->db, a->chain, a->from, a->token_files, a->n_tokens, &run->q);
    if (rc != 0) return rc;
    run->open = true;
    run->s = run->q.s;
    bool account = ch_store_is_account(run->s);
    if (account && o->policy == CH_POLICY_LIFO)
        return cli_failf(cmd, "account chains: --policy is poison, haircut or fifo");
    if (strcmp(a->chain, "btc") != 0 && !account)
        return cli_failf(cmd, "%s/%s is not an account-chain store", run->q.db, a->chain);
    if (ch_labels_open(run->s, run->q.db, o->stop_at, a->label_files, a->n_labels, &run->labels,
                       &warn, &err) != 0)
        return cli_fail(cmd, &err);
    if (warn.msg[0])
        fprintf(stderr, "coinhound %s: warning: attribution store not used: %s\n", cmd, warn.msg);
    o->labels = run->labels;
    o->chain = a->chain;
    o->tokens = run->q.tokens;
    int found = ch_trace_exec(run->s, o, &run->r, &err);
    if (found < 0) return cli_fail(cmd, &err);
    if (found == 0) {
        fprintf(stderr, "coinhound %s: %s\n", cmd, err.msg);
        return 1;
    }
    return 0;
}

int cli_trace_close(const char *cmd, cli_trace_run *run, int rc) {
    ch_trace_result_free(run->r);
    ch_labels_free(run->labels);
    bool open = run->open;
    cli_query q = run->q;
    memset(run, 0, sizeof *run);
    return open ? cli_query_close(cmd, &q, rc) : rc;
}

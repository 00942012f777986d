/* coinhound tx TXID --db DIR [--json] */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "coinhound/query.h"

static void usage(FILE *f) {
    fprintf(
        f, "usage: coinhound tx TXID --db DIR [--json] [--chain NAME]\n\n"
           "One transaction from the store: its block (height, hash, time), inputs with\n"
           "the outpoint each spends and that output's value and address, outputs with\n"
           "value, address, script type and the tx that spent them, and the fee.\n"
           "Values are satoshi integers in JSON. Exit 1 when the txid is not in the\n"
           "store, 2 when it is malformed. TXID may be a unique prefix (4 hex digits\n"
           "or more, as the text output prints ids); an ambiguous one is an error\n"
           "naming the txs it matches.\n\n"
           "example:\n  coinhound tx "
           "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16 --db ./chdb --json\n");
}

int cmd_tx(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'},     {"chain", required_argument, 0, 'c'},
        {"tokens", required_argument, 0, 'k'}, {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *db = NULL, *chain = NULL, *tokens[8];
    size_t n_tokens = 0;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'd')
            db = optarg;
        else if (c == 'c') {
            if (cli_opt_chain("tx", optarg)) return 2;
            chain = optarg;
        } else if (c == 'k' && n_tokens < 8)
            tokens[n_tokens++] = optarg;
        else if (c == 'j')
            json = true;
        else {
            usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    if (argc - optind != 1) {
        usage(stderr);
        return 2;
    }
    const char *arg = argv[optind];
    cli_query q;
    int rc = cli_query_open("tx", db, chain, arg, tokens, n_tokens, &q);
    if (rc != 0) return rc;
    /* a full id or, like git, a unique prefix of one as the text prints it */
    uint64_t tx;
    ch_error err;
    rc = ch_query_find_tx(q.s, arg, &tx, NULL, &err);
    if (rc < 0)
        cli_fail("tx", &err);
    else if (rc == 0)
        fprintf(stderr, "coinhound tx: %s is not in the store\n", arg);
    else if (json)
        ch_q_tx_json(stdout, q.s, tx, q.tokens);
    else
        ch_q_tx_text(stdout, q.s, tx, q.tokens);
    return cli_query_close("tx", &q, rc == 1 ? 0 : rc == 0 ? 1 : 2);
}

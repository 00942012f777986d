/* coinhound tx TXID --db DIR [--json] */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/account_query.h"
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
    bool evm = !strncmp(arg, "0x", 2) || (chain && strcmp(chain, "btc") != 0);
    if (!(db = cli_db_dir("tx", db))) return 2;
    ch_error err;
    ch_store *s;
    if (ch_store_open(db, chain ? chain : evm ? "eth" : "btc", CH_STORE_READ, &s, &err) != 0)
        return cli_fail("tx", &err);
    /* a full id or, like git, a unique prefix of one as the text prints it */
    uint64_t tx;
    int rc = ch_query_find_tx(s, arg, &tx, NULL, &err);
    if (rc <= 0) {
        if (rc < 0)
            cli_fail("tx", &err);
        else
            fprintf(stderr, "coinhound tx: %s is not in the store\n", arg);
        ch_store_close(s);
        return rc < 0 ? 2 : 1;
    }
    if (cli_account_tokens(tokens, n_tokens, &err) != 0) {
        ch_store_close(s);
        return cli_fail("tx", &err);
    }
    if (json)
        ch_q_tx_json(stdout, s, tx, cli_account_tokens_table());
    else
        ch_q_tx_text(stdout, s, tx, cli_account_tokens_table());
    cli_account_tokens_free();
    return cli_store_close("tx", s, 0);
}

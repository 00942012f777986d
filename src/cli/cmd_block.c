/* coinhound block HEIGHT|HASH --db DIR [--json] [--txs] */
#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "coinhound/query.h"

static void usage(FILE *f) {
    fprintf(f, "usage: coinhound block HEIGHT|HASH --db DIR [--chain NAME] [--json] [--txs]\n\n"
               "One block of the store: hash, height, time, size, transaction count, total\n"
               "output and fees. --txs lists its transactions (in JSON: full objects as\n"
               "'coinhound tx' prints them). --chain names the store under DIR (default\n"
               "btc, or eth for a 0x hash); on an account chain (eth, bsc, ...) a block is\n"
               "named by its number or its 0x hash. Exit 1 when absent, 2 when malformed.\n\n"
               "examples:\n  coinhound block 170 --db ./chdb\n"
               "  coinhound block 00000000d1145790a8694403d4063f323d499e655c83426834d4ce2f8dd4a2ee "
               "--db ./chdb --json\n"
               "  coinhound block 17173050 --db ./chdb --chain eth --json\n");
}

int cmd_block(int argc, char **argv) {
    static const struct option opts[] = {
        {"db", required_argument, 0, 'd'}, {"chain", required_argument, 0, 'c'},
        {"json", no_argument, 0, 'j'},     {"txs", no_argument, 0, 't'},
        {"help", no_argument, 0, 'h'},     {0, 0, 0, 0}};
    const char *db = NULL, *chain = NULL;
    bool json = false, txs = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'd')
            db = optarg;
        else if (c == 'c') {
            if (cli_opt_chain("block", optarg)) return 2;
            chain = optarg;
        } else if (c == 'j')
            json = true;
        else if (c == 't')
            txs = true;
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
    int rc = cli_query_open("block", db, chain, arg, NULL, 0, &q);
    if (rc != 0) return rc;
    ch_error err;
    ch_q_block b;
    rc = ch_query_block(q.s, arg, &b, &err);
    if (rc == 1 && json)
        ch_q_block_json(stdout, q.s, &b, txs, q.tokens);
    else if (rc == 1)
        ch_q_block_text(stdout, q.s, &b, txs, q.tokens);
    else if (rc == 0)
        fprintf(stderr, "coinhound block: %s is not in the store\n", arg);
    else
        cli_fail("block", &err);
    return cli_query_close("block", &q, rc == 1 ? 0 : rc == 0 ? 1 : 2);
}

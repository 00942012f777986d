/* coinhound address ADDR --db DIR [--json] [--limit N] */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "coinhound/query.h"

static void usage(FILE *f) {
    fprintf(f, "usage: coinhound address ADDR --db DIR [--json] [--limit N] [--chain NAME]\n"
               "                         [--history | --cursor C]\n\n"
               "What the store knows of one address: received, sent, balance (satoshi in\n"
               "JSON, BTC in text), its transaction count, first and last seen, and its\n"
               "transactions, newest first (--limit N, default 100; 0 for all), each with\n"
               "the amount it moved to (+) or from (-) the address. Outputs locked to a\n"
               "bare public key (P2PK) count under the P2PKH address of that key.\n"
               "Exit 1 when the address never appears, 2 when it is not a valid address.\n\n"
               "An EVM address (0x...) is looked up in the account store DIR/NAME (--chain,\n"
               "default eth): received, sent and balance per asset (native and each token\n"
               "contract, in base units), counterparties by number of transfers (--limit),\n"
               "and the first and last block it appears in; token symbols and decimals from\n"
               "--tokens FILE (CSV: address,symbol[,decimals]) or $COINHOUND_TOKENS.\n\n"
               "--history prints the first page of the history alone (--limit entries;\n"
               "an account's entries are its transfers) and the cursor of the next page;\n"
               "--cursor C prints the page at C. Pages stay whole across ingests.\n\n"
               "example:\n  coinhound address 12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S --db ./chdb\n");
}

/* The summary and the history's first page (or the page at cursor), printed
 * through the library's writers; the exit code. */
static int show_address(ch_store *s, const ch_toktab *tokens, const char *arg, bool json,
                        uint64_t limit, const char *cursor) {
    ch_q_address a;
    ch_error err;
    int rc = ch_query_address(s, arg, &a, &err);
    if (rc < 0) return cli_fail("address", &err);
    if (rc == 0) {
        fprintf(stderr, "coinhound address: %s never appears in the store\n",
                a.account ? a.canonical : arg);
        return 1;
    }
    /* an account's summary lists counterparties (--limit); a UTXO summary
     * its history's first page (--limit) */
    ch_q_page page = {0};
    if ((!a.account || cursor) && ch_query_history(s, &a, cursor, limit, &page, &err) != 0) {
        ch_q_address_free(&a);
        return cli_fail("address", &err);
    }
    if (cursor && json)
        ch_q_page_json(stdout, s, &a, &page, tokens);
    else if (cursor)
        ch_q_page_text(stdout, s, &page, tokens);
    else if (json)
        ch_q_address_json(stdout, s, &a, a.account ? NULL : &page, (size_t)limit, tokens);
    else
        ch_q_address_text(stdout, s, &a, a.account ? NULL : &page, (size_t)limit, tokens);
    ch_q_page_free(&page);
    ch_q_address_free(&a);
    return 0;
}

int cmd_address(int argc, char **argv) {
    static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                         {"chain", required_argument, 0, 'c'},
                                         {"tokens", required_argument, 0, 'k'},
                                         {"json", no_argument, 0, 'j'},
                                         {"limit", required_argument, 0, 'l'},
                                         {"history", no_argument, 0, 'H'},
                                         {"cursor", required_argument, 0, 'C'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *db = NULL, *chain = NULL, *tokens[8];
    size_t n_tokens = 0;
    bool json = false;
    uint64_t limit = 100;
    const char *cursor = NULL; /* "" : the history's first page */
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'd')
            db = optarg;
        else if (c == 'c') {
            if (cli_opt_chain("address", optarg)) return 2;
            chain = optarg;
        } else if (c == 'k' && n_tokens < 8)
            tokens[n_tokens++] = optarg;
        else if (c == 'j')
            json = true;
        else if (c == 'H')
            cursor = "";
        else if (c == 'C')
            cursor = optarg;
        else if (c == 'l') {
            if (cli_opt_u64("address", "--limit", optarg, 0, UINT64_MAX, &limit)) return 2;
        } else {
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
    int rc = cli_query_open("address", db, chain, arg, tokens, n_tokens, &q);
    if (rc != 0) return rc;
    rc = show_address(q.s, q.tokens, arg, json, limit, cursor);
    return cli_query_close("address", &q, rc);
}

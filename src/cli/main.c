/* coinhound: the command line, a set of subcommands over libcoinhound. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "coinhound/version.h"

/* The order here is the order `coinhound --help` lists them. */
static const cli_command COMMANDS[] = {
    {"ingest", cmd_ingest, "read a chain into the store (btc blk files; eth JSON-RPC, ETL, node)"},
    {"status", cmd_status, "the store's tip and counts"},
    {"tx", cmd_tx, "one transaction: inputs, outputs, fee, block"},
    {"block", cmd_block, "one block by height or hash"},
    {"address", cmd_address, "an address's balance, history and transactions"},
    {"trace", cmd_trace, "follow tainted coins forward or backward to where they landed"},
    {"report", cmd_report, "reports to read: a case (HTML) from a trace; stolen-value totals"},
    {"cluster", cmd_cluster, "address clusters: build, or an address's cluster and labels"},
    {"screen", cmd_screen, "risk verdict of addresses of any chain (attribution store or set)"},
    {"serve", cmd_serve, "the HTTP screening service (JSON; keys and rate limits)"},
    {"intel", cmd_intel, "the attribution store: import, lookup, actors, export"},
    {"poison", cmd_poison, "address-poisoning attempts at an address; check a payment first"},
    {"decode", cmd_decode, "decode a raw block or transaction file (no store needed)"},
    {"watch", cmd_watch, "follow a node live and alert when watched funds move (eth)"},
    {"alerts", cmd_alerts, "the alerts the watcher raised, kept in the store"},
    {"check", cmd_check, "verify a store end to end: what is damaged, file and record"},
};

static void usage(FILE *f) {
    fprintf(f, "coinhound %s: follow stolen cryptocurrency\n\n", COINHOUND_VERSION);
    fprintf(f, "usage: coinhound <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        fprintf(f, "  %-12s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(f, "\n'coinhound <command> --help' explains a command.\n"
               "Exit codes: 0 ok, 1 a negative answer (e.g. a flagged address), 2 an error.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("coinhound %s\n", COINHOUND_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        if (!strcmp(argv[1], COMMANDS[i].name)) return COMMANDS[i].run(argc - 1, argv + 1);
    fprintf(stderr, "coinhound: '%s' is not a command; see 'coinhound --help'\n", argv[1]);
    return 2;
}
